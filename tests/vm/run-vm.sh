#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-vm.sh: run one test script as root inside a throwaway VM that boots
# Debian's stock kernel (package linux-image-amd64), and return its status.
#
#   run-vm.sh [OPTION...] TEST_SCRIPT [BERTH]
#
#   --timeout SECONDS   kill the VM after this long (default 300, or $BERTH_VM_TIMEOUT)
#   --cache DIR         where the uncompressed kernel is kept between runs (default
#                       $BERTH_VM_CACHE, else $XDG_CACHE_HOME/berth-vm, else
#                       /var/cache/berth-vm as root, ~/.cache/berth-vm otherwise)
#   --logs DIR          also keep the kernel log and the test's raw output there
#   --file SRC=DEST     put the host file SRC at DEST in the guest (repeatable)
#   --module NAME       load one more kernel module (repeatable)
#
# The guest is QEMU (TCG: KVM hangs on these machines) with 512 MiB, 2 CPUs, no
# network, two serial ports (ttyS0: the kernel log, ttyS1: the test's output)
# and a 1 GiB scratch ext4 disk (virtio, /dev/vda, mounted at /disk). Its
# initramfs holds busybox-static with its applet links, BERTH at
# /usr/local/bin/berth with the libraries ldd lists, the kernel modules for
# overlay, veth, bridge, virtio disks and ext4, and TEST_SCRIPT at /vm/test.
# /init moves itself to a tmpfs (pivot_root refuses to move the initramfs),
# mounts devtmpfs, proc, sysfs, /run, /tmp, devpts and cgroup2 (nsdelegate; a
# pure v2 guest with every controller), runs `/bin/sh /vm/test
# /usr/local/bin/berth` as root, prints a marker with its exit status on
# ttyS1 and powers off. In the guest, busybox ash runs its own applets before
# $PATH: a test calls any other tool by its full path.
#
# Prints the test's output; exits with the test's status, 1 when the VM died
# or timed out without one (the kernel log's tail is printed then), 77 (a
# skip, for meson) when a needed package is missing, naming it, 2 on misuse.
# Needs no root on the host: QEMU runs unprivileged, cpio writes root-owned
# entries. Everything it makes lives in one temp dir, removed at exit.
set -u
export LC_ALL=C
export PATH=$PATH:/usr/sbin:/sbin

PROG=run-vm
# veth, bridge and the tc pieces netns/tc.c uses: instances have a network by default.
MODULES=(overlay veth bridge sch_ingress cls_bpf cls_u32 cls_matchall act_mirred act_police
	act_gact sch_tbf ifb virtio_pci virtio_blk ext4)
TIMEOUT=${BERTH_VM_TIMEOUT:-300}
CACHE=${BERTH_VM_CACHE:-}
LOGS=''
FILES=()

usage() {
	sed -n 's/^#   \{0,1\}//p' "$0" | sed -n '/^run-vm.sh \[/,/^--module/p' | sed '1s/^/usage: /' >&2
	exit 2
}
die() {
	echo "$PROG: $*" >&2
	exit 1
}
skip() {
	echo "########################################################################" >&2
	echo "# SKIP: VM tests: $*" >&2
	echo "########################################################################" >&2
	echo "vm: 0 passed, 0 failed, 0 skipped (all skipped: $*)"
	exit 77
}

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	--cache) CACHE=${2:?}; shift 2 ;;
	--logs) LOGS=${2:?}; shift 2 ;;
	--file) FILES+=("${2:?}"); shift 2 ;;
	--module) MODULES+=("${2:?}"); shift 2 ;;
	--) shift; break ;;
	-*) echo "$PROG: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || { echo "$PROG: --timeout: not a number of seconds: '$TIMEOUT'" >&2; exit 2; }
TEST=$(realpath -e "$1") || exit 2
BERTH=''
if [ $# -eq 2 ]; then BERTH=$(realpath -e "$2") || exit 2; fi

# --- what the host needs -------------------------------------------------------

need() { # need TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 || skip "$1 not found (apt-get install $2)"
}
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need xz xz-utils
need mkfs.ext4 e2fsprogs
need modprobe kmod
need ldd libc-bin
[ -x /bin/busybox ] || skip "/bin/busybox not found (apt-get install busybox-static)"
ldd /bin/busybox >/dev/null 2>&1 &&
	skip "/bin/busybox is dynamically linked; the guest needs a static one (apt-get install busybox-static)"

# The kernel: the one linux-image-amd64 depends on (Debian's stock kernel), or
# $BERTH_VM_KERNEL (a version such as 6.1.0-56-amd64) to pick another.
KVER=${BERTH_VM_KERNEL:-}
if [ -z "$KVER" ]; then
	KVER=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		sed -n 's/^linux-image-\([^ ,|]*\).*/\1/p')
fi
[ -n "$KVER" ] || skip "no stock Debian kernel (apt-get install linux-image-amd64)"
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -f "$VMLINUZ" ] || skip "$VMLINUZ not found (apt-get install --reinstall linux-image-$KVER)"
[ -r "$VMLINUZ" ] || skip "$VMLINUZ is not readable by uid $(id -u) (run as root once to fill the cache)"
[ -d "$MODDIR" ] || skip "$MODDIR not found (apt-get install --reinstall linux-image-$KVER)"

# --- the uncompressed kernel, cached -----------------------------------------------
# QEMU boots an ELF vmlinux through its PVH entry in ~1.9 s, a bzImage in ~4 s.

if [ -z "$CACHE" ]; then
	if [ -n "${XDG_CACHE_HOME:-}" ]; then
		CACHE=$XDG_CACHE_HOME/berth-vm
	elif [ "$(id -u)" = 0 ]; then
		CACHE=/var/cache/berth-vm
	else
		CACHE=${HOME:?}/.cache/berth-vm
	fi
fi
mkdir -p "$CACHE" || die "cannot make the cache dir $CACHE"

VMLINUX=$CACHE/vmlinux-$KVER
STAMP="$(stat -c '%s %Y' "$VMLINUZ") $VMLINUZ"
if [ ! -f "$VMLINUX" ] || [ "$(cat "$VMLINUX.stamp" 2>/dev/null)" != "$STAMP" ]; then
	off=$(grep -obUaP '\xfd7zXZ\x00' "$VMLINUZ" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || die "$VMLINUZ holds no xz stream: cannot extract the ELF kernel"
	tmp=$(mktemp "$VMLINUX.XXXXXX") || die "mktemp in $CACHE"
	if ! tail -c +$((off + 1)) "$VMLINUZ" | xz -dc --single-stream >"$tmp" ||
		[ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" != 7f454c46 ]; then
		rm -f "$tmp"
		die "cannot decompress the xz stream at offset $off of $VMLINUZ into an ELF file"
	fi
	mv -f "$tmp" "$VMLINUX" && echo "$STAMP" >"$VMLINUX.stamp" || die "cannot write $VMLINUX"
fi

# --- the initramfs -------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX") || die "mktemp"
QPID=''
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	trap '' INT TERM HUP
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
		kill -KILL "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
	fi
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
T=$WORK/tree

mkdir -p "$T"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib,lib64,etc,dev,proc,sys,run,tmp,root,mnt,disk,newroot,vm} ||
	die "cannot make the initramfs tree in $T"

cp /bin/busybox "$T/bin/busybox" || die "cannot copy /bin/busybox"
while read -r applet; do
	[ "${applet##*/}" = busybox ] && continue
	mkdir -p "$T/${applet%/*}" && ln -sf /bin/busybox "$T/$applet" ||
		die "cannot link applet $applet"
done < <(/bin/busybox --list-full)

# put SRC DEST: copy a host file into the tree, following symlinks.
put() {
	mkdir -p "$T$(dirname "$2")" && cp -L "$1" "$T$2" || die "cannot copy $1 to the guest's $2"
}
# Each library ldd lists (and the loader) at the path ldd gives.
put_with_libs() {
	local lib
	put "$1" "$2"
	while read -r lib; do
		[ -e "$T$lib" ] || put "$lib" "$lib"
	done < <(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')
}
[ -z "$BERTH" ] || put_with_libs "$BERTH" /usr/local/bin/berth
for f in "${FILES[@]}"; do
	[[ $f == *=/* ]] || { echo "$PROG: --file $f: want SRC=/GUEST/PATH" >&2; exit 2; }
	put_with_libs "${f%%=*}" "${f#*=}"
done
put "$TEST" /vm/test
chmod 0755 "$T/vm/test"
# The harness the guest scripts share, sourced as /vm/lib.sh.
put "$(dirname "${BASH_SOURCE[0]}")/lib.sh" /vm/lib.sh
put "$(dirname "${BASH_SOURCE[0]}")/../cgroup-parent.sh" /vm/cgroup-parent.sh

# Modules in the order modprobe would load them, each once; plain .ko files,
# because busybox insmod reads no compressed ones.
: >"$T/vm/modules"
declare -A seen=()
for m in "${MODULES[@]}"; do
	deps=$(modprobe -S "$KVER" --show-depends "$m" 2>&1) ||
		die "modprobe -S $KVER --show-depends $m: $deps"
	while read -r kind path _; do
		[ "$kind" = insmod ] && [ -z "${seen[$path]:-}" ] || continue
		seen[$path]=1
		dest=${path%.xz} dest=${dest%.zst}
		mkdir -p "$T$(dirname "$dest")" || die "mkdir for $dest"
		case $path in
		*.xz) xz -dc "$path" >"$T$dest" ;;
		*.zst) zstd -qdc "$path" >"$T$dest" ;;
		*) cp "$path" "$T$dest" ;;
		esac || die "cannot copy module $path"
		echo "$dest" >>"$T/vm/modules"
	done <<<"$deps"
done

NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$NONCE" >"$T/vm/nonce"
# The sanitizers' and berth's own settings reach the test; nothing else of the host's environment.
: >"$T/vm/env"
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS BERTH_DEBUG; do
	[ -n "${!v+set}" ] || continue
	printf "export %s='%s'\n" "$v" "${!v//\'/\'\\\'\'}" >>"$T/vm/env"
done

cat >"$T/init" <<'EOF'
#!/bin/sh
# The guest's PID 1. Stage 1 runs on the initramfs, where pivot_root is
# refused: copy everything into a tmpfs and switch_root there (stage 2).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
if [ "$1" != stage2 ]; then
	mount -t devtmpfs -o mode=0755 devtmpfs /dev
	exec </dev/console >/dev/console 2>&1
	mount -t tmpfs -o mode=0755 root /newroot || exec poweroff -f
	for d in /*; do
		case $d in /dev | /proc | /sys | /newroot) mkdir "/newroot$d" ;; *) cp -a "$d" /newroot/ ;; esac
	done
	mount --move /dev /newroot/dev
	exec switch_root /newroot /init stage2
fi
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t cgroup2 -o nsdelegate,nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
hostname berth-vm
ip link set lo up
while read -r m; do
	insmod "$m" || echo "berth-vm: insmod $m failed" >/dev/kmsg
done </vm/modules
# virtio disks are probed asynchronously
for _ in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
mount -t ext4 /dev/vda /disk || echo "berth-vm: no scratch disk at /disk" >/dev/kmsg
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
(. /vm/env && cd / && BERTH_VM=1 exec /bin/sh /vm/test /usr/local/bin/berth) </dev/null >&3 2>&3
echo "berth-vm: exit $? $(cat /vm/nonce)" >&3
exec 3>&-
umount /disk 2>/dev/null
sync
poweroff -f
EOF
chmod 0755 "$T/init"

(cd "$T" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) >"$WORK/initramfs.cpio" ||
	die "cpio failed"

truncate -s 1G "$WORK/disk.img" && mkfs.ext4 -q -F -L berth-vm -E root_owner=0:0 "$WORK/disk.img" ||
	die "cannot make the scratch disk"

# --- the VM --------------------------------------------------------------------

: >"$WORK/kernel.log"
: >"$WORK/test.out"
qemu-system-x86_64 -accel tcg -cpu max -nodefaults -no-user-config -display none -no-reboot \
	-m 512M -smp 2 -nic none \
	-kernel "$VMLINUX" -initrd "$WORK/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 quiet rdinit=/init" \
	-serial "file:$WORK/kernel.log" -serial "file:$WORK/test.out" \
	-drive "file=$WORK/disk.img,format=raw,if=none,id=scratch,cache=unsafe" \
	-device virtio-blk-pci,drive=scratch \
	</dev/null >"$WORK/qemu.out" 2>&1 &
QPID=$!
START=$SECONDS TIMEDOUT=0
while kill -0 "$QPID" 2>/dev/null; do
	if ((SECONDS - START >= TIMEOUT)); then
		TIMEDOUT=1
		kill -KILL "$QPID" 2>/dev/null
		break
	fi
	sleep 0.2
done
{ wait "$QPID"; } 2>/dev/null # no "Killed" job notice: the reason follows
QRC=$?
QPID=''
ELAPSED=$((SECONDS - START))

if [ -n "$LOGS" ]; then
	mkdir -p "$LOGS" && cp "$WORK/kernel.log" "$WORK/test.out" "$WORK/qemu.out" "$LOGS/" ||
		echo "$PROG: cannot keep the logs in $LOGS" >&2
fi

tr -d '\r' <"$WORK/test.out" >"$WORK/test.txt"
MARK=$(grep -n "^berth-vm: exit [0-9]* $NONCE\$" "$WORK/test.txt" | tail -n 1)
if [ -n "$MARK" ]; then
	head -n $((${MARK%%:*} - 1)) "$WORK/test.txt"
	RC=${MARK#*: exit } RC=${RC%% *}
	echo "# $PROG: kernel $KVER, guest ran ${ELAPSED} s, test exit status $RC" >&2
	if [ "$RC" != 0 ] && [ "$RC" != 77 ]; then
		echo "# $PROG: the kernel log's last lines:" >&2
		tail -n 30 "$WORK/kernel.log" | tr -d '\r' | sed 's/^/#   /' >&2
	fi
	exit "$RC"
fi
cat "$WORK/test.txt"
if [ "$TIMEDOUT" = 1 ]; then
	echo "$PROG: the VM did not finish within $TIMEOUT s: killed it" >&2
else
	echo "$PROG: the VM ended (qemu exit $QRC) after $ELAPSED s without the test's exit marker" >&2
fi
[ -s "$WORK/qemu.out" ] && sed 's/^/# qemu: /' "$WORK/qemu.out" >&2
echo "# $PROG: the kernel log's last lines:" >&2
tail -n 40 "$WORK/kernel.log" | tr -d '\r' | sed 's/^/#   /' >&2
exit 1
