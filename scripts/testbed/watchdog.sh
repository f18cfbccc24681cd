#!/bin/bash
# usage: watchdog.sh OWNER_PID COMMAND [ARGS...]
#
# Runs COMMAND once process OWNER_PID has exited, however it exits (a spec
# killed with SIGKILL runs no teardown).  Prints the watchdog's pid, which is
# also its process-group id: `kill -- -PID` stands it down.
# The watchdog lives in its own session, so a Ctrl-C aimed at the test run
# does not take it down with the test.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -ge 2 ] || tb_die "usage: watchdog.sh OWNER_PID COMMAND [ARGS...]"
owner=$1; shift
# fail now, not silently when the owner is gone
command -v "$1" >/dev/null || tb_die "watchdog: cannot run '$1'"
start=$(tb_starttime "$owner") || tb_die "watchdog: no process $owner"

(
  tb_close_fds
  # the pid alone could be recycled; pid + start time cannot
  # shellcheck disable=SC2016 # expanded by the inner bash
  exec setsid bash -c '
    . "$0"; owner=$1; start=$2; shift 2
    while [ "$(tb_starttime "$owner" 2>/dev/null)" = "$start" ] && tb_alive "$owner"; do
      sleep 0.5
    done
    exec "$@"' "$HERE/lib.sh" "$owner" "$start" "$@" </dev/null >/dev/null 2>&1
) &
echo $!
