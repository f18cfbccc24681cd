#!/bin/bash
# usage: netns.sh up PREFIX | netns.sh down PREFIX
#
# up: two network namespaces PREFIX1 and PREFIX2 joined by a veth pair, both
#   ends named "veth0", with private addresses 10.99.0.1/24 and 10.99.0.2/24
#   (and their loopbacks up).  The pair is created straight inside the
#   namespaces, so nothing ever appears in the host's namespace and parallel
#   runs with different prefixes cannot collide.  A leftover pair with the
#   same prefix is replaced.  Prints key=value lines: ns1 ns2 addr1 addr2.
# down: deletes both namespaces (the veth pair goes with them); succeeds if
#   they do not exist.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 2 ] || tb_die "usage: netns.sh up|down PREFIX"
op=$1; prefix=$2
case $prefix in
  *[!A-Za-z0-9_-]*|"") tb_die "netns prefix must be [A-Za-z0-9_-]+" ;;
esac
ns1=${prefix}1 ns2=${prefix}2

down() {
  local ns
  for ns in "$ns1" "$ns2"; do
    [ ! -e "/run/netns/$ns" ] || ip netns del "$ns"
  done
}

link() {
  local ns
  ip link add name veth0 netns "$ns1" type veth peer name veth0 netns "$ns2" || return 1
  ip -n "$ns1" addr add 10.99.0.1/24 dev veth0 || return 1
  ip -n "$ns2" addr add 10.99.0.2/24 dev veth0 || return 1
  for ns in "$ns1" "$ns2"; do
    ip -n "$ns" link set lo up || return 1
    ip -n "$ns" link set veth0 up || return 1
  done
}

case $op in
  up)
    tb_need_root
    tb_need_cmd ip iproute2
    down
    ip netns add "$ns1"
    ip netns add "$ns2" || { down; exit 1; }
    if ! link; then
      down
      tb_die "could not set up the veth pair between $ns1 and $ns2"
    fi
    printf 'ns1=%s\nns2=%s\naddr1=10.99.0.1\naddr2=10.99.0.2\n' "$ns1" "$ns2"
    ;;
  down)
    tb_need_root
    down
    ;;
  *) tb_die "usage: netns.sh up|down PREFIX" ;;
esac
