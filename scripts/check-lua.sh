#!/bin/sh
# make check-lua: the virt module for plain Lua 5.4, built the way a user
# builds it -- `luarocks make` of rockspec/luvirt-scm-1.rockspec, from a copy
# of the source tree without any build directory, into a temporary tree --
# then the brief's one-liner, then the unit tier of the specs under plain
# lua5.4 (busted) with that module instead of the luvirt host.
# usage: scripts/check-lua.sh [SPEC_DIR...]   (default: spec/unit)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
specs=${*:-spec/unit}
for tool in luarocks lua5.4 busted; do
  command -v "$tool" >/dev/null 2>&1 || { echo "check-lua: $tool is missing (make deps)" >&2; exit 1; }
done
lua5.4 -e 'require "luv"' 2>/dev/null || { echo "check-lua: luv for Lua 5.4 is missing (Debian: lua-luv)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/luvirt-check-lua.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/src"
# the sources as they are now (committed or not), without build output
(cd "$top" && tar -cf - --exclude=./.git --exclude='./build' --exclude='./build-*' .) |
  (cd "$tmp/src" && tar -xf -) || exit 1

echo "=== luarocks make (a log is kept in case of failure)"
if ! (cd "$tmp/src" && luarocks --lua-version 5.4 make --tree "$tmp/tree" \
        rockspec/luvirt-scm-1.rockspec) > "$tmp/luarocks.log" 2>&1; then
  cat "$tmp/luarocks.log"
  echo "check-lua: luarocks make failed" >&2
  exit 1
fi
lpath="$tmp/tree/share/lua/5.4/?.lua;$tmp/tree/share/lua/5.4/?/init.lua"
cpath="$tmp/tree/lib/lua/5.4/?.so"
for f in "$tmp/tree/lib/lua/5.4/virt/core.so" "$tmp/tree/share/lua/5.4/virt/init.lua"; do
  [ -f "$f" ] || { echo "check-lua: the rock did not install ${f#$tmp/tree/}" >&2; exit 1; }
done

echo "=== plain lua5.4: require \"virt\" from the rock"
host=$(lua5.4 -e "package.path='$lpath;'..package.path; package.cpath='$cpath;'..package.cpath
  local v = require 'virt'
  assert(package.searchpath('virt.core', package.cpath):find('$tmp', 1, true), 'virt.core is not the rock one')
  print(v.new{uri='test:///default'}:get_hostname())") || exit 1
echo "get_hostname() -> $host"
[ -n "$host" ] || { echo "check-lua: no hostname" >&2; exit 1; }

echo "=== unit specs under plain lua5.4: $specs"
cd "$top" || exit 1
LUA_PATH="$lpath;./?.lua;./?/init.lua;;" LUA_CPATH="$cpath;;" \
  lua5.4 spec/runner.lua $specs
