#!/bin/sh
# make check: every test tier, each in its own luvirt process, then one line
# "N passed, M failed" summing all tiers.  Exit status non-zero when M > 0.
# usage: scripts/check.sh BUILD [TIER...]   (default: every tier)
BUILD=${1:-build}
shift 2>/dev/null
LUVIRT="$BUILD/luvirt"
# every spec directory runs: the known tiers in this order, then any other
ORDER="loop unit cli remote stream hypervisor embed repl bench"
if [ -n "$*" ]; then
  TIERS="$*"
else
  TIERS=$ORDER
  for d in spec/*/; do
    t=$(basename "$d")
    case " $ORDER helpers " in *" $t "*) ;; *) TIERS="$TIERS $t" ;; esac
  done
fi
passed=0; failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/luvirt-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

run_tier() {
  tier=$1
  dir=spec/$tier
  [ -d "$dir" ] || return 0
  ls "$dir"/*_spec.lua >/dev/null 2>&1 || return 0
  if [ "$tier" = hypervisor ] && [ "$(id -u)" != 0 ]; then
    echo "!!! hypervisor tier NOT RUN: it needs root (private libvirtd with QEMU); CI runs it as root"
    return 0
  fi
  echo "=== tier: $tier"
  t0=$(date +%s)
  rm -f "$tmp/counts"
  LUVIRT_COUNTS="$tmp/counts" BUILD="$BUILD" "$LUVIRT" spec/runner.lua "$dir"
  rc=$?
  if [ -s "$tmp/counts" ]; then
    read p f e _ < "$tmp/counts"
    passed=$((passed + p)); failed=$((failed + f + e))
    echo "=== tier $tier: $p passed, $((f + e)) failed ($(( $(date +%s) - t0 )) s)"
  else
    echo "=== tier $tier: the runner died (exit $rc) before reporting: counted as 1 failure"
    failed=$((failed + 1))
  fi
}

# The coverage spec sits at the top of spec/.
if [ -f spec/coverage_spec.lua ] && [ -z "$*" ]; then
  echo "=== coverage"
  rm -f "$tmp/counts"
  LUVIRT_COUNTS="$tmp/counts" BUILD="$BUILD" "$LUVIRT" spec/runner.lua spec/coverage_spec.lua
  if [ -s "$tmp/counts" ]; then
    read p f e _ < "$tmp/counts"; passed=$((passed + p)); failed=$((failed + f + e))
  else
    failed=$((failed + 1))
  fi
fi
for t in $TIERS; do run_tier "$t"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
