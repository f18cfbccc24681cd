# Sourced by run.sh: a private libvirtd for the benchmarks, in its own mount
# namespace so the qemu:///system driver (the storage pool of the stream
# benchmark) uses private copies of libvirt's fixed paths.
# TEMPORARY: to be replaced by scripts/testbed/daemon.sh once it exists.
# shellcheck shell=sh

bench_daemon_start() { # DIR
  dir=$1
  # libvirtd's QEMU driver exits at start if its default user is missing.
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  mkdir -p "$dir/run" "$dir/etc" "$dir/runlv" "$dir/lib" "$dir/cache" "$dir/log"
  cat > "$dir/libvirtd.conf" <<CONF
unix_sock_dir = "$dir/run"
auth_unix_ro = "none"
auth_unix_rw = "none"
listen_tls = 0
listen_tcp = 0
audit_level = 0
log_outputs = "3:file:$dir/libvirtd.log"
host_uuid = "$(cat /proc/sys/kernel/random/uuid)"
CONF
  printf 'stdio_handler = "file"\n' > "$dir/etc/qemu.conf"
  cat > "$dir/inner.sh" <<INNER
set -e
for p in etc:/etc/libvirt runlv:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt; do
  mkdir -p "\${p#*:}"
  mount --bind "$dir/\${p%%:*}" "\${p#*:}"
done
exec /usr/sbin/libvirtd --config "$dir/libvirtd.conf" --pid-file "$dir/libvirtd.pid"
INNER
  setsid unshare --mount --propagation private sh "$dir/inner.sh" \
    > "$dir/stdout.log" 2>&1 < /dev/null &
  echo $! > "$dir/daemon.pid"
  i=0
  until virsh -q -c "test+unix:///default?socket=$dir/run/libvirt-sock" uri >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$(cat "$dir/daemon.pid")" 2>/dev/null; then
      cat "$dir/stdout.log" >&2
      return 1
    fi
    sleep 0.05
  done
}

bench_daemon_stop() { # DIR
  [ -f "$1/daemon.pid" ] || return 0
  pid=$(cat "$1/daemon.pid")
  kill -TERM "$pid" 2>/dev/null || return 0
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  return 0
}
