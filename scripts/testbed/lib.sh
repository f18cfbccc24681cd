# Shared shell helpers for the test-bed scripts (sourced, never run).
# shellcheck shell=bash

tb_die() { echo "testbed: $*" >&2; exit 1; }

tb_need_root() {
  [ "$(id -u)" = 0 ] || tb_die "must run as root (private libvirtd, mount and network namespaces)"
}

# Fail with the Debian package to install rather than a bare "not found".
tb_need_cmd() { # command package
  command -v "$1" >/dev/null 2>&1 || tb_die "'$1' not found: apt-get install -y --no-install-recommends $2 (or: make deps)"
}

# True when PID names a live process; a zombie counts as dead, because our
# parent may be a PID 1 that reaps orphans only every couple of seconds.
tb_alive() {
  local st
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ] && [ "${st%% *}" != X ]
}

# Start time (clock ticks since boot) of PID: a pid plus its start time names
# a process even if the kernel recycles the pid later.
tb_starttime() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  # fields after "comm": state is field 3, starttime field 22 -> index 20 here
  # shellcheck disable=SC2086 # split into fields on purpose
  set -- $st
  echo "${20}"
}

# Wait until PID is gone, up to $2 tenths of a second; false on timeout.
tb_wait_gone() {
  local i=0
  while tb_alive "$1"; do
    [ "$i" -ge "$2" ] && return 1
    sleep 0.1; i=$((i + 1))
  done
  return 0
}

# A long-lived child must not inherit the caller's descriptors: a daemon
# holding the write end of io.popen's pipe would keep the reader waiting
# forever.  bash keeps the script itself open on 255 with close-on-exec.
tb_close_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    case $fd in 0|1|2|255) continue ;; esac
    eval "exec $fd>&-" 2>/dev/null || true
  done
}

tb_now() { date +%s.%N; }
tb_elapsed() { awk -v a="$1" -v b="$(tb_now)" 'BEGIN { printf "%.3f", b - a }'; }
