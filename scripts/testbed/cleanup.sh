#!/bin/bash
# usage: cleanup.sh SESSION_DIR
#
# Tears down everything a test session (spec/helpers/testbed.lua) set up
# under SESSION_DIR: every daemon directory in it (daemon.sh stop --rm, all
# at once: each waits for its guests), the network namespaces listed in
# SESSION_DIR/netns, then the directory itself.  Run by the spec teardown
# and, if the test process dies first, by its watchdog.  A missing
# SESSION_DIR is already clean.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 1 ] || tb_die "usage: cleanup.sh SESSION_DIR"
S=$(realpath -m "$1")
[ -d "$S" ] || exit 0
[ -e "$S/.luvirt-session" ] || tb_die "$S is not a test session directory (no .luvirt-session)"

rc=0
pids=()
for d in "$S"/*/; do
  [ -e "$d.luvirt-testbed" ] || continue
  "$HERE/daemon.sh" stop "${d%/}" --rm >/dev/null &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done

if [ -f "$S/netns" ]; then
  while read -r prefix; do
    [ -z "$prefix" ] || "$HERE/netns.sh" down "$prefix" || rc=1
  done < "$S/netns"
fi

if awk -v d="$S" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  tb_die "mount points remain under $S; not removing it"
fi
rm -rf -- "$S" || rc=1
exit $rc
