#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-vm-systemd.sh: boot a full Debian with systemd as the VM's PID 1, berth
# installed into it with `meson install`, two instances enabled with autostart
# and boot order, and run tests/vm/systemd-host.sh there (docs/SYSTEMD.md).
#
#   run-vm-systemd.sh [--cache DIR] [--timeout S] [--logs DIR] BUILD_DIR TEST_SCRIPT
#
# The root file system is debootstrapped (bookworm, minbase + systemd and
# berth's libraries) once into DIR/vm-systemd-root (default
# /var/cache/berth-tests, or $BERTH_VM_SYSTEMD_CACHE), outside the repo, and
# reused. Each run copies it, installs berth (meson install --destdir), creates
# instances "first" (boot order 1, boot delay 2 s) and "second" (boot order 2),
# both enabled, and "third" (not enabled; halt signal WINCH, which its init
# ignores; TimeoutStopSec=5 < its stop timeout 12 s) with berth --root on the host and moves their files where the guest's berth
# keeps them (/var/lib/berth, /etc/systemd/system), enables a test unit, and
# makes an ext4 image of it (mkfs.ext4 -d) on a virtio disk. A tiny initramfs
# loads the disk modules and switch_roots into it; systemd boots, berth.target
# starts the instances, the test unit runs TEST_SCRIPT boot, and at the VM's
# poweroff a unit ordered before the instances runs TEST_SCRIPT shutdown after
# they stopped, which prints the exit marker on ttyS1.
#
# Exits with the test's status; 1 when the VM died or timed out without one;
# 77 (skip) naming what is missing: root, debootstrap, qemu, the stock kernel.
set -u
export LC_ALL=C
export PATH=$PATH:/usr/sbin:/sbin
PROG=run-vm-systemd
CACHE=${BERTH_VM_SYSTEMD_CACHE:-/var/cache/berth-tests}
KCACHE=${BERTH_VM_CACHE:-/var/cache/berth-vm}
TIMEOUT=${BERTH_VM_TIMEOUT:-400}
LOGS=''
# What the instances need besides the disk: overlay, veth and bridge, and what
# netns_setup installs (docs/NETWORK-INTERNALS.md): clsact (sch_ingress), the
# anti-spoofing cls_bpf, and for rates u32 + mirred to an ifb and tbf.
MODULES=(virtio_pci virtio_blk ext4 overlay veth bridge sch_ingress cls_bpf cls_u32 act_mirred
	sch_tbf ifb)

die() { echo "$PROG: $*" >&2; exit 1; }
skip() {
	echo "# SKIP: VM systemd tests: $*" >&2
	echo "vm-systemd: 0 passed, 0 failed, 0 skipped (all skipped: $*)"
	exit 77
}
while [ $# -gt 0 ]; do
	case $1 in
	--cache) CACHE=${2:?}; shift 2 ;;
	--kernel-cache) KCACHE=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--logs) LOGS=${2:?}; shift 2 ;;
	*) break ;;
	esac
done
[ $# = 2 ] || { sed -n 's/^#   //p' "$0" >&2; exit 2; }
BUILD=$(realpath -e "$1") || exit 2
TEST=$(realpath -e "$2") || exit 2
BERTH=$BUILD/cli/berth
[ -x "$BERTH" ] || die "$BERTH not built"

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, file ownership in the image)"
for t in qemu-system-x86_64:qemu-system-x86 debootstrap:debootstrap mkfs.ext4:e2fsprogs \
	cpio:cpio xz:xz-utils modprobe:kmod meson:meson; do
	command -v "${t%%:*}" >/dev/null || skip "${t%%:*} not found (apt-get install ${t#*:})"
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	skip "no static /bin/busybox (apt-get install busybox-static)"
KVER=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | sed -n 's/^linux-image-\([^ ,|]*\).*/\1/p')
[ -n "$KVER" ] && [ -f "/boot/vmlinuz-$KVER" ] || skip "no stock Debian kernel (apt-get install linux-image-amd64)"

# --- the kernel (uncompressed ELF, as run-vm.sh caches it) ---------------------
mkdir -p "$KCACHE" "$CACHE" || die "cannot make $KCACHE, $CACHE"
VMLINUX=$KCACHE/vmlinux-$KVER
if [ ! -s "$VMLINUX" ]; then
	off=$(grep -obUaP '\xfd7zXZ\x00' "/boot/vmlinuz-$KVER" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || die "no xz stream in /boot/vmlinuz-$KVER"
	tail -c +$((off + 1)) "/boot/vmlinuz-$KVER" | xz -dc --single-stream >"$VMLINUX.tmp" &&
		mv "$VMLINUX.tmp" "$VMLINUX" || die "cannot extract the kernel"
fi

# --- the Debian root, debootstrapped once --------------------------------------
ROOTCACHE=$CACHE/vm-systemd-root
if [ ! -e "$ROOTCACHE/.complete" ]; then
	echo "# $PROG: debootstrapping bookworm into $ROOTCACHE (first run only)" >&2
	rm -rf --one-file-system "$ROOTCACHE.new"
	nice debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,busybox-static,libseccomp2,libcap2,libnl-3-200,libnl-route-3-200,libmnl0,libyajl2,iproute2 \
		bookworm "$ROOTCACHE.new" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed: see $CACHE/debootstrap.log"
	rm -rf --one-file-system "$ROOTCACHE"
	mv "$ROOTCACHE.new" "$ROOTCACHE" && touch "$ROOTCACHE/.complete" || die "cannot keep $ROOTCACHE"
fi

WORK=$(mktemp -d /tmp/berth-vm-systemd.XXXXXX) || die mktemp
QPID=''
cleanup() {
	trap '' INT TERM HUP
	[ -z "$QPID" ] || { kill -KILL "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; }
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- this run's root: berth installed, two instances enabled -------------------
ROOT=$WORK/root
cp -a "$ROOTCACHE" "$ROOT" || die "cannot copy $ROOTCACHE"
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$ROOT" >"$WORK/install.log" 2>&1 ||
	die "meson install --destdir failed: $(tail -5 "$WORK/install.log")"
# The instances, made by this berth with --root on the host, then moved where the
# guest's berth keeps them: the same files berth create and berth enable write.
STAGE=$WORK/stage
"$BERTH" --root "$STAGE" create first --stop-timeout 20 >/dev/null &&
	"$BERTH" --root "$STAGE" create second --stop-timeout 20 >/dev/null &&
	"$BERTH" --root "$STAGE" create third --stop-timeout 12 --halt-signal WINCH >/dev/null &&
	"$BERTH" --root "$STAGE" enable first --boot-order 1 --boot-delay 2 >/dev/null &&
	"$BERTH" --root "$STAGE" enable second --boot-order 2 >/dev/null ||
	die "berth create/enable under --root $STAGE failed"
mkdir -p "$ROOT/var/lib" && cp -a "$STAGE/lib" "$ROOT/var/lib/berth" &&
	cp -a "$STAGE/systemd/." "$ROOT/etc/systemd/system/" || die "cannot move the instances into the root"
# third ignores its halt signal (busybox init has no WINCH handler), so a stop
# takes its whole 12 s stop timeout: longer than this unit's TimeoutStopSec.
mkdir -p "$ROOT/etc/systemd/system/berth@third.service.d" &&
	printf '[Service]\nTimeoutStopSec=5\n' >"$ROOT/etc/systemd/system/berth@third.service.d/10-test.conf" ||
	die "cannot write the drop-in for third"
NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$ROOT/vm" && cp "$TEST" "$ROOT/vm/test" && chmod 755 "$ROOT/vm/test" &&
	echo "$NONCE" >"$ROOT/vm/nonce" || die "cannot put the test in the root"
cat >"$ROOT/etc/systemd/system/berth-vm-test.service" <<EOF
# Runs the boot half of the test once the instances are up, then powers off.
[Unit]
After=berth.target multi-user.target
[Service]
Type=oneshot
StandardOutput=file:/dev/ttyS1
StandardError=file:/dev/ttyS1
ExecStart=/vm/test boot
ExecStartPost=/bin/systemctl --no-block poweroff
[Install]
WantedBy=multi-user.target
EOF
cat >"$ROOT/etc/systemd/system/berth-vm-shutdown-check.service" <<EOF
# Started before the instances, so stopped after them at poweroff: its
# ExecStop sees how they ended, and prints the exit marker.
[Unit]
DefaultDependencies=no
Before=berth@first.service berth@second.service berth.target shutdown.target
After=local-fs.target
Conflicts=shutdown.target
[Service]
Type=oneshot
RemainAfterExit=yes
StandardOutput=file:/dev/ttyS1
StandardError=file:/dev/ttyS1
ExecStart=/bin/true
ExecStop=/vm/test shutdown
[Install]
WantedBy=multi-user.target
EOF
for u in berth-vm-test berth-vm-shutdown-check; do
	ln -sf "/etc/systemd/system/$u.service" "$ROOT/etc/systemd/system/multi-user.target.wants/$u.service"
done
echo berth-vm >"$ROOT/etc/hostname"
: >"$ROOT/etc/machine-id"
# No getty, no login prompt fighting for the console.
ln -sf /dev/null "$ROOT/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$ROOT/etc/systemd/system/getty@tty1.service"
truncate -s 2G "$WORK/root.img" && mkfs.ext4 -q -F -d "$ROOT" "$WORK/root.img" ||
	die "mkfs.ext4 -d failed"

# --- the initramfs: load the disk modules, switch_root --------------------------
T=$WORK/initrd
mkdir -p "$T"/{bin,dev,proc,sys,newroot,lib} && cp /bin/busybox "$T/bin/busybox" || die initrd
for a in sh mount umount insmod switch_root sleep echo; do ln -s busybox "$T/bin/$a"; done
: >"$T/modules"
declare -A seen=()
for m in "${MODULES[@]}"; do
	while read -r kind path _; do
		[ "$kind" = insmod ] && [ -z "${seen[$path]:-}" ] || continue
		seen[$path]=1
		dest=/lib/${path##*/} dest=${dest%.xz}
		case $path in *.xz) xz -dc "$path" >"$T$dest" ;; *) cp "$path" "$T$dest" ;; esac || die "module $path"
		echo "$dest" >>"$T/modules"
	done < <(modprobe -S "$KVER" --show-depends "$m")
done
cat >"$T/init" <<'EOF'
#!/bin/sh
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
while read -r m; do insmod "$m"; done </modules
for _ in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done
mount -t ext4 /dev/vda /newroot || { echo "no root disk"; exec sh; }
umount /proc
umount /dev
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$T/init"
(cd "$T" && find . | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd.cpio" || die cpio

# --- the VM ---------------------------------------------------------------------
qemu-system-x86_64 -accel tcg -cpu max -nodefaults -no-user-config -display none -no-reboot \
	-m 1G -smp 2 -nic none -kernel "$VMLINUX" -initrd "$WORK/initrd.cpio" \
	-append "console=ttyS0 panic=-1 rdinit=/init systemd.show_status=1 systemd.log_target=console" \
	-serial "file:$WORK/console.log" -serial "file:$WORK/test.out" \
	-drive "file=$WORK/root.img,format=raw,if=none,id=root,cache=unsafe" \
	-device virtio-blk-pci,drive=root </dev/null >"$WORK/qemu.out" 2>&1 &
QPID=$!
START=$SECONDS
while kill -0 "$QPID" 2>/dev/null; do
	if ((SECONDS - START >= TIMEOUT)); then kill -KILL "$QPID"; break; fi
	sleep 0.5
done
wait "$QPID" 2>/dev/null
QPID=''
ELAPSED=$((SECONDS - START))
[ -z "$LOGS" ] || { mkdir -p "$LOGS" && cp "$WORK"/{console.log,test.out,qemu.out} "$LOGS/"; }
tr -d '\r' <"$WORK/test.out" >"$WORK/test.txt"
MARK=$(grep -n "^berth-vm: exit [0-9]* $NONCE\$" "$WORK/test.txt" | tail -n 1)
if [ -n "$MARK" ]; then
	head -n $((${MARK%%:*} - 1)) "$WORK/test.txt"
	RC=${MARK#*: exit } RC=${RC%% *}
	echo "# $PROG: kernel $KVER, systemd guest ran ${ELAPSED} s, test exit status $RC" >&2
	[ "$RC" = 0 ] || tail -n 40 "$WORK/console.log" | tr -d '\r' | sed 's/^/#   /' >&2
	exit "$RC"
fi
cat "$WORK/test.txt"
echo "$PROG: no exit marker after $ELAPSED s (timeout $TIMEOUT s); the console's last lines:" >&2
tail -n 60 "$WORK/console.log" | tr -d '\r' | sed 's/^/#   /' >&2
exit 1
