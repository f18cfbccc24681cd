#!/bin/sh
# make check-install: `make install` into a temporary DESTDIR, then what a
# user of the installed copy does: compile host/examples/embed.c with
# `pkg-config --cflags --libs luvirt` (PKG_CONFIG_PATH pointing into the
# DESTDIR) and run it, run the installed luvirt, and require "virt" from
# plain lua5.4 with the installed module.
# usage: scripts/check-install.sh BUILD
set -u
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
prefix=/usr/local
tmp=$(mktemp -d "${TMPDIR:-/tmp}/luvirt-check-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
root="$tmp/root"
fail() { echo "check-install: $*" >&2; exit 1; }

echo "=== make install DESTDIR=$root PREFIX=$prefix"
make -s BUILD="$BUILD" PREFIX="$prefix" DESTDIR="$root" install > "$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "make install failed"; }
for f in bin/luvirt include/luvirt.h lib/libluvirt.so.0 lib/libluvirt.so lib/libluvirt.a \
         lib/pkgconfig/luvirt.pc lib/lua/5.4/virt/core.so share/lua/5.4/virt/init.lua; do
  [ -e "$root$prefix/$f" ] || fail "not installed: $prefix/$f"
done

# a sanitizer build (make asan) needs the sanitizers in what links to it
san= preload=
if nm -D "$BUILD/libluvirt.so" 2>/dev/null | grep -q __asan_; then
  san="-fsanitize=address,undefined"
  preload="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)"
fi

echo "=== cc embed.c \$(pkg-config --cflags --libs luvirt)"
export PKG_CONFIG_PATH="$root$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs luvirt) || fail "pkg-config does not know luvirt"
echo "pkg-config: $flags"
case "$flags" in *"$root"*) ;; *) fail "pkg-config's flags do not point into the installed copy";; esac
${CC:-cc} -std=c11 -Wall -Wextra -Werror $san -o "$tmp/embed" host/examples/embed.c $flags ||
  fail "the example does not compile against the installed copy"

echo "=== run it against the installed libluvirt.so"
LD_LIBRARY_PATH="$root$prefix/lib" ldd "$tmp/embed" | grep -q "$root$prefix/lib/libluvirt.so.0" ||
  fail "the example is not linked to the installed libluvirt.so.0"
LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/embed" || fail "the installed example failed"
LD_LIBRARY_PATH="$root$prefix/lib" "$tmp/embed" --foreign || fail "the installed example (--foreign) failed"

echo "=== the installed luvirt and plain lua5.4 with the installed module"
out=$("$root$prefix/bin/luvirt" -e 'print(require("virt").new{uri="test:///default"}:get_hostname())') ||
  fail "the installed luvirt failed"
[ -n "$out" ] || fail "the installed luvirt printed nothing"
lp="$root$prefix/share/lua/5.4/?.lua;$root$prefix/share/lua/5.4/?/init.lua"
cp="$root$prefix/lib/lua/5.4/?.so"
LD_PRELOAD="$preload" lua5.4 -e "package.path='$lp'; package.cpath='$cp;'..package.cpath
  print(require('virt').new{uri='test:///default'}:get_hostname())" || fail "plain lua5.4 cannot use the installed module"
echo "check-install: ok"
