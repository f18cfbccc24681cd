#!/bin/sh
# usage: scripts/bench/run.sh BUILD [--smoke]
#
# luvirt against C, libvirt-python and Sys::Virt (`make bench`).  Builds the C
# references into BUILD/bench, starts a private libvirtd for the RPC, event
# and stream benchmarks, and hands over to run.lua, which runs everything,
# prints the table and writes scripts/bench/RESULTS.md.
#
# --smoke runs each benchmark once at a tiny size (for `make check`, through
# spec/bench/bench_smoke_spec.lua) and fails when a figure is missing; a full
# run always exits 0, since it reports rather than gates.
#
# Copyright (C) 2026 the luvirt authors
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u
BUILD=${1:?usage: run.sh BUILD [--smoke]}
MODE=full
case "${2:-}" in
  "") ;;
  --smoke) MODE=smoke ;;
  *) echo "usage: run.sh BUILD [--smoke]" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$BUILD/bench"
# Absolute, because a fixture URI (test:///path) must be.
BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bench

finish() { # status of a failure: a full run never fails
  [ "$MODE" = smoke ] && exit "$1"
  exit 0
}

LIBVIRT_FLAGS=$(pkg-config --cflags --libs libvirt) || {
  echo "bench: libvirt's pkg-config file is missing (apt-get install libvirt-dev)" >&2
  finish 1
}
CFLAGS_BENCH="-std=c11 -O2 -g -Wall -Wextra"
for prog in getinfo handoff listall flip events voldownload startup runstat; do
  if [ ! "$BIN/$prog" -nt "$HERE/$prog.c" ] || [ ! "$BIN/$prog" -nt "$HERE/bench.h" ]; then
    # shellcheck disable=SC2086
    cc $CFLAGS_BENCH -o "$BIN/$prog" "$HERE/$prog.c" $LIBVIRT_FLAGS -lpthread || {
      echo "bench: cannot build $HERE/$prog.c" >&2
      finish 1
    }
  fi
done
# A Lua module, for the floor of a Lua binding (floor.lua): Lua's API comes
# from the luvirt program that loads it.
if [ ! "$BIN/floor.so" -nt "$HERE/floor.c" ]; then
  # shellcheck disable=SC2086
  cc $CFLAGS_BENCH -shared -fPIC -o "$BIN/floor.so" "$HERE/floor.c" \
    $(pkg-config --cflags lua5.4) $LIBVIRT_FLAGS || {
    echo "bench: cannot build $HERE/floor.c" >&2
    finish 1
  }
fi

# The test bed's private libvirtd; --owner stops it even if this shell is
# killed before its trap runs.
TESTBED=$HERE/../testbed/daemon.sh
TMP=$(mktemp -d /tmp/luvirt-bench.XXXXXX)
DAEMON_DIR=$TMP/daemon
# Downloads land in memory where there is a tmpfs, so that the disk's
# writeback does not decide the stream benchmark.
OUT=$(mktemp -d /dev/shm/luvirt-bench.XXXXXX 2>/dev/null) || OUT=$(mktemp -d "$TMP/out.XXXXXX")
trap 'bash "$TESTBED" stop "$DAEMON_DIR" --rm >/dev/null; rm -rf "$OUT"; rmdir "$TMP"' EXIT
trap 'exit 130' INT TERM
# A daemon that does not come up costs the RPC rows their figures; the rest
# still runs and the table says why.
bash "$TESTBED" start "$DAEMON_DIR" --owner $$ >/dev/null ||
  echo "bench: the private libvirtd did not start" >&2

lua5.4 "$HERE/run.lua" "$BUILD" "$MODE" "$DAEMON_DIR/run/libvirt-sock" "$OUT"
finish $?
