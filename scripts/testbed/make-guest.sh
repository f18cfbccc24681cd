#!/bin/bash
# usage: make-guest.sh [OUTDIR]        (default: <project>/build/testbed/guest)
#
# Builds the tiny TCG test guest once and caches it; a second run with an
# unchanged script returns at once.  OUTDIR then holds:
#   vmlinuz        Debian's kernel, from `apt-get download` + `dpkg-deb -x`.  Never
#                  installed: linux-image-amd64 would pull initramfs-tools, udev
#                  and a systemd upgrade.
#   initrd.gz      busybox-static and a few modules.  /init, on the serial console:
#                    "GUEST: disk label LUVIRT-TESTDISK"  after reading the disk
#                    "GUEST-READY ..."   once the ACPI power button is watched
#                    "GUEST: tick N ..." every second, after a 64 KiB synced disk
#                                        write (block and CPU stats keep growing)
#                    "GUEST-ECHO: LINE"  for every LINE typed on the console
#                  The power button powers it off.  With dirty=N on the kernel
#                  command line it rewrites N MiB/s of guest RAM with random
#                  (non-zero, so not free to migrate) data, cycling over
#                  dirtyset=M MiB (default 16): migration convergence tests.
#   disk.qcow2     16 MiB qcow2 starting with the label; copy it per guest.
#   domain.xml.in  <domain type='qemu'> (TCG: KVM guests hang on these machines)
#                  with @NAME@ @MEMORY_MIB@ @KERNEL@ @INITRD@ @CMDLINE@ @DISK@
#                  @CONSOLE_LOG@ to fill in (spec/helpers/testbed.lua does).
#   cmdline        the base kernel command line (dirty=N goes after it)
# Needs: apt access, dpkg-deb, busybox-static, cpio, gzip, qemu-utils.  Guests
# need at least 96 MiB of RAM (64 does not boot); add the dirty set on top.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/build/testbed/guest}")

# Modules in load order (dependencies first); built-in ones are skipped.
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
virtio_blk virtio_balloon button evdev"
CMDLINE="console=ttyS0 quiet panic=-1 mitigations=off"

# The cache key: this script (which holds /init and the XML) and the busybox binary.
key=$( { cat "$0"; cat /bin/busybox 2>/dev/null; } | sha256sum | cut -c1-16)
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$key" ]; then
  echo "$OUT"
  exit 0
fi

# the initramfs has no libc: only the static busybox works there
[ -x /bin/busybox ] || tb_die "/bin/busybox not found: apt-get install -y --no-install-recommends busybox-static (or: make deps)"
case $(ldd /bin/busybox 2>&1 || true) in
  *"not a dynamic"*) ;;
  *) tb_die "/bin/busybox is dynamically linked: apt-get install -y --no-install-recommends busybox-static" ;;
esac
tb_need_cmd cpio cpio
tb_need_cmd qemu-img qemu-utils
tb_need_cmd dpkg-deb dpkg
tb_need_cmd apt-get apt

mkdir -p "$OUT"
# parallel test runs share the cache: one builds, the others wait
exec 9>"$OUT/.lock"
flock 9
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$key" ]; then
  echo "$OUT"
  exit 0
fi
rm -f "$OUT/stamp"
cd "$OUT"

# ---- kernel and modules (kept across rebuilds of the rest) ----------------
if [ ! -f kernel/vmlinuz ] || [ ! -f kernel/done ]; then
  rm -rf kernel kdeb
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$pkg" ] || tb_die "cannot resolve linux-image-amd64 (apt-get update?)"
  mkdir -p kdeb kernel/modules
  # apt drops privileges to _apt for downloads; it must be able to write here
  chown _apt kdeb 2>/dev/null || true
  (cd kdeb && apt-get download -q "$pkg" >/dev/null) || tb_die "apt-get download $pkg failed"
  dpkg-deb -x kdeb/*.deb kdeb/x
  cp kdeb/x/boot/vmlinuz-* kernel/vmlinuz
  kmod=$(ls -d kdeb/x/lib/modules/*)
  for m in $MODULES; do
    f=$(find "$kmod/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
    if [ -z "$f" ]; then
      grep -q "/$m.ko\$" "$kmod/modules.builtin" || tb_die "module $m neither in $pkg nor built in"
      continue
    fi
    case $f in
      *.xz) xz -dc "$f" > "kernel/modules/$m.ko" ;;
      *.zst) zstd -qdc "$f" > "kernel/modules/$m.ko" ;;
      *) cp "$f" "kernel/modules/$m.ko" ;;
    esac
  done
  echo "$pkg" > kernel/done
  rm -rf kdeb
fi

# ---- initramfs -------------------------------------------------------------
rm -rf initrd.d
mkdir -p initrd.d/bin initrd.d/dev initrd.d/proc initrd.d/sys initrd.d/lib/modules
cp /bin/busybox initrd.d/bin/busybox
cp kernel/modules/*.ko initrd.d/lib/modules/ 2>/dev/null || true
{
  echo '#!/bin/busybox sh'
  echo "MODULES=\"${MODULES//$'\n'/ }\""
  cat <<'EOF'
# /init of the luvirt test guest.  Everything it prints goes to ttyS0, the
# serial console that libvirt logs and that dom:open_console streams.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sys /sys

for m in $MODULES; do
  [ -f /lib/modules/$m.ko ] || continue
  insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done

n=0
while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
if [ -b /dev/vda ]; then
  echo "GUEST: disk label $(head -c 15 /dev/vda)"
  dd if=/dev/vda of=/dev/null bs=64k count=16 2>/dev/null
else
  echo "GUEST: no disk"
fi

button=none
for e in /sys/class/input/event*; do
  if grep -q "Power Button" $e/device/name 2>/dev/null; then
    button=/dev/input/${e##*/}
    # one input_event (24 bytes on x86_64) arrives when the button is pressed
    ( dd if=$button of=/dev/null bs=24 count=1 2>/dev/null
      echo "GUEST: power button pressed, powering off"
      sync; poweroff -f ) &
    break
  fi
done

# centiseconds since boot; 1${f}-100 keeps "08" from reading as octal
now_cs() { read up rest < /proc/uptime; echo $(( ${up%.*} * 100 + 1${up#*.} - 100 )); }

# Rewrite RATE MiB of a SET-MiB tmpfs file every second with random bytes:
# dirty pages that live migration has to send again and again (zero pages
# would cost it nothing).  Bursts are at most 4 MiB; if a second's quota
# takes longer than a second the rate is simply what the CPU manages.
dirtier() {
  rate=$1; size=$2
  mkdir -p /dev/shm
  mount -t tmpfs -o size=$((size + 8))m shm /dev/shm
  dd if=/dev/urandom of=/dev/shm/src bs=1M count=4 2>/dev/null
  off=0
  while [ $off -lt $size ]; do
    dd if=/dev/shm/src of=/dev/shm/buf bs=1M count=4 seek=$off conv=notrunc 2>/dev/null
    off=$((off + 4))
  done
  off=0; total=0; next=$(now_cs)
  while :; do
    left=$rate
    while [ $left -gt 0 ]; do
      c=4
      [ $left -lt $c ] && c=$left
      [ $((size - off)) -lt $c ] && c=$((size - off))
      dd if=/dev/shm/src of=/dev/shm/buf bs=1M count=$c seek=$off conv=notrunc 2>/dev/null
      off=$(( (off + c) % size )); left=$((left - c))
    done
    total=$((total + rate))
    echo $total > /dev/shm/dirtied
    next=$((next + 100)); t=$(now_cs)
    if [ $next -gt $t ]; then
      d=$((next - t)); sleep $((d / 100)).$((d % 100 / 10))$((d % 10))
    else
      next=$t
    fi
  done
}

dirty=0; dirtyset=16
for a in $(cat /proc/cmdline); do
  case $a in
    dirty=*) dirty=${a#dirty=} ;;
    dirtyset=*) dirtyset=${a#dirtyset=} ;;
  esac
done
[ "$dirty" -gt 0 ] 2>/dev/null && dirtier $dirty $dirtyset &

# a background job's stdin is /dev/null unless given one
( while read -r line; do echo "GUEST-ECHO: $line"; done ) < /dev/console &

echo "GUEST-READY uptime=$(cut -d' ' -f1 /proc/uptime)s button=$button dirty=${dirty}MiB/s"

n=0
while :; do
  sleep 1
  n=$((n + 1))
  [ -b /dev/vda ] && dd if=/dev/zero of=/dev/vda bs=64k count=1 seek=$((32 + n % 16)) conv=fsync 2>/dev/null
  d=$(cat /dev/shm/dirtied 2>/dev/null)
  echo "GUEST: tick $n uptime=$(cut -d' ' -f1 /proc/uptime)${d:+ dirtied=${d}MiB}"
done
EOF
} > initrd.d/init
chmod +x initrd.d/init
(cd initrd.d && find . | cpio -o -H newc --quiet | gzip -1) > initrd.gz.tmp
mv -f initrd.gz.tmp initrd.gz
ln -f kernel/vmlinuz vmlinuz 2>/dev/null || cp kernel/vmlinuz vmlinuz
rm -rf initrd.d

# ---- disk template ----------------------------------------------------------
rm -f disk.raw
truncate -s 16M disk.raw
printf 'LUVIRT-TESTDISK\n' | dd of=disk.raw conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 disk.raw disk.qcow2.tmp
mv -f disk.qcow2.tmp disk.qcow2
rm -f disk.raw

# ---- domain XML template ----------------------------------------------------
echo "$CMDLINE" > cmdline
cat > domain.xml.in <<'EOF'
<domain type='qemu'>
  <name>@NAME@</name>
  <memory unit='MiB'>@MEMORY_MIB@</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>@KERNEL@</kernel>
    <initrd>@INITRD@</initrd>
    <cmdline>@CMDLINE@</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='@DISK@'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'>
      <log file='@CONSOLE_LOG@' append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <video><model type='vga'/></video>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>
EOF

echo "$key" > stamp
echo "$OUT"
