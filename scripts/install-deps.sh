#!/bin/sh
# install-deps.sh PKG...: install the Debian packages that are missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -u
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
  echo "luvirt: missing Debian packages:$missing" >&2
  echo "luvirt: run as root:  apt-get update && $cmd" >&2
  exit 1
fi
echo "luvirt: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# a fresh machine has no package lists yet; refresh them when apt has none or an install fails
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then apt-get update -q || exit 1; fi
$cmd -q || { apt-get update -q && $cmd -q; }
