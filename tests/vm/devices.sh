#!/bin/sh
# SPDX-License-Identifier: MIT
#
# devices.sh BERTH: the device filter (a BPF_PROG_TYPE_CGROUP_DEVICE program
# on the instance's cgroup), on a real cgroup v2 host. Runs as root inside the
# guest that run-vm.sh boots (Debian's stock kernel), in busybox ash: any tool
# that is not a busybox applet is called by its full path. berth's --root is on
# the scratch disk /disk (ext4), as in limits.sh.
#
# One instance with --userns=host (root inside is host root, with CAP_MKNOD)
# proves: mknod of the virtio disk's block device (b 254:0, /dev/vda) is
# refused; a node for it made from the host in the instance's root opens on
# the host but not inside (EPERM); /dev/null, /dev/zero, /dev/urandom, /dev/full
# open; exec -t gets a pty from the instance's /dev/pts and /dev/tty opens on
# it; /dev/mem (c 1:1) stays out of reach. Nothing is left after delete.
#
# Prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last
# line is "vm: N passed, N failed, N skipped"; exit status 1 on any failure.
# shellcheck shell=dash # busybox ash: POSIX sh with local
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the container
# shellcheck disable=SC2015 # "A && B || why": why only records a failure
BERTH=${1:?usage: devices.sh BERTH}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # /vm/lib.sh in the guest; -x follows it
. /vm/lib.sh

vm_dirs devices dev

echo "# kernel $(uname -r), berth $("$BERTH" --version 2>&1)"
need_scratch_disk
# The virtio disk's numbers (254:0 on Debian's kernel), read rather than assumed.
MAJ=254 MIN=0
if [ -b /dev/vda ]; then
	# shellcheck disable=SC2046 # two hex words
	set -- $(stat -L -c '%t %T' /dev/vda)
	MAJ=$((0x$1)) MIN=$((0x$2))
fi

begin "create --userns=host and start: exit 0"
brun create "$N" --userns=host
want_rc 0
brun start "$N"
want_rc 0
status_json
I=$(init_pid)
[ -n "$I" ] || why "no init_pid in $(q "$(cat "$W/st")")"
end

begin "--userns=host: mknod b $MAJ:$MIN (the virtio disk) inside fails with EPERM"
brun exec "$N" -- sh -c "mknod /root/vda b $MAJ $MIN && echo made"
[ "$RC" != 0 ] || why "mknod worked: $(q "$OUT")"
case $ERR in *"Operation not permitted"*) ;; *) why "stderr $(q "$ERR"), want EPERM" ;; esac
end

begin "--userns=host: a b $MAJ:$MIN node made from the host opens on the host, not inside (EPERM)"
if [ ! -b /dev/vda ]; then
	skipping "no /dev/vda in the guest"
elif [ -z "$I" ] || ! mknod "/proc/$I/root/root/vda" b "$MAJ" "$MIN"; then
	why "cannot make /root/vda in the instance from the host"
else
	head -c 1 "/proc/$I/root/root/vda" >/dev/null 2>&1 || why "the host cannot read the node it made: the check below would prove nothing"
	brun exec "$N" -- head -c 1 /root/vda
	[ "$RC" != 0 ] || why "reading the disk inside worked"
	case $ERR in *"Operation not permitted"*) ;; *) why "stderr $(q "$ERR"), want EPERM" ;; esac
	brun exec "$N" -- sh -c 'echo x >/root/vda'
	[ "$RC" != 0 ] || why "writing the disk inside worked"
	rm -f "/proc/$I/root/root/vda"
fi
end

begin "--userns=host: /dev/mem (c 1:1) cannot be made or opened inside"
brun exec "$N" -- sh -c 'mknod /root/mem c 1 1 && echo made'
[ "$RC" != 0 ] || why "mknod c 1 1 worked"
[ -c /dev/mem ] && [ -n "$I" ] && mknod "/proc/$I/root/root/mem" c 1 1 && {
	brun exec "$N" -- head -c 1 /root/mem
	[ "$RC" != 0 ] || why "reading /dev/mem inside worked"
	rm -f "/proc/$I/root/root/mem"
}
end

begin "--userns=host: /dev/null, /dev/zero, /dev/full, /dev/urandom open and work"
brun exec "$N" -- sh -c 'echo x >/dev/null && head -c 4 /dev/zero | od -An -tx1 && head -c 4 /dev/urandom | wc -c && { echo x >/dev/full; [ $? != 0 ]; } 2>/dev/null && echo all-ok'
want_rc 0
case $OUT in *" 00 00 00 00"*4*all-ok) ;; *) why "stdout $(q "$OUT")$(errhint)" ;; esac
end

begin "--userns=host: mknod c 1:3 (null) inside still works: the runtime's own /dev needs it"
brun exec "$N" -- sh -c 'mknod /root/null c 1 3 && echo x >/root/null && rm /root/null && echo ok'
want_rc 0
want_out ok
end

begin "--userns=host: exec -t gets a pty from /dev/pts; /dev/tty opens on it"
brun exec -t "$N" -- sh -c 'tty; head -c 0 </dev/tty && echo tty-ok'
want_rc 0
case $OUT in *"/dev/pts/"*tty-ok*) ;; *) why "stdout $(q "$OUT")$(errhint)" ;; esac
end

begin "delete: nothing is left (instance, cgroup)"
brun stop "$N" --force
want_rc 0
brun delete "$N"
want_rc 0
want_deleted "$N"
end
rm -rf "$R"

done_
