#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The security battery: a hostile root inside an instance attacks the host and
# a neighbour. Root, this host.
#
#   security.sh BERTH PTY ATTACK
#
# BERTH is the built berth binary, PTY the berth-pty helper, ATTACK any one of
# the static attacker programs (atk-*, security/*.c): all of them are taken
# from its directory. Each attacker attempts one attack from inside and prints
# "STEP: RESULT" lines; a check passes only when every step fails for the
# right reason (the expected errno or fact, not just any failure), and a
# control shows, where it can, that the same step works where it should (so
# that the check can fail). docs/SECURITY.md says what each attack is and why
# the answer is the right one.
#
# Two instances, A (the attacker) and B (its neighbour), from a template made
# of the default one plus the attackers in /atk. Re-executes itself in a
# private mount namespace where every host cgroup v1 mount point is covered by
# an empty tmpfs, and a private network namespace that plays the instances'
# host (A and B are routed; the network part adds bridge instances).
# Nothing is ever written to a host file outside the test's temp dirs, or to
# the host's cgroup v1 trees: the attackers only open for writing, and the
# cgroup v1 mount attempt is detached, read-only and closed at once. The
# network, storage, id-range and systemd-guest attacks are in security/*.sh,
# sourced at the end. Each test prints "ok - NAME", "ok - NAME # SKIP why" or
# "not ok - NAME: why"; the last line is "security: N passed, N failed, N
# skipped"; the exit status is 1 on any failure.
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the instance
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init security "berth security battery"
need_args "BERTH PTY ATTACK" "$@"
need_root "namespaces, mounts, cgroups"
BERTH=$(realpath -e "$1") || exit 2
PTY=$(realpath -e "$2") || exit 2
ATK_DIR=$(dirname "$(realpath -e "$3")") || exit 2
need_tools unshare mount env find stat timeout sha256sum findmnt ip tc nsenter awk
private_mntns BERTH_SEC_HOST_MNTNS "$BERTH" "$PTY" "$3"

find_cgroup2
work_dirs berth-sec berth-sec-root
chmod 0755 "$WORK" || bail "chmod $WORK"
nap_init
cover_cgroup_v1 berth-sec-cover
harness_cgroup berth-sec

N=bs$$
A=$N-a B=$N-b S=$N-s
MADE=()
BGPIDS=()

# monitors NAME: live berth processes of ours (this --root) naming instance NAME.
monitors() {
	local d p a found=''
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		mapfile -d '' -t a 2>/dev/null <"$d/cmdline" || continue
		[ "${#a[@]}" -ge 5 ] && [ "${a[0]}" = "$BERTH" ] && [ "${a[2]}" = "$R" ] || continue
		[[ " ${a[*]:3} " == *" $1 "* ]] && found+="$p "
	done
	echo "${found% }"
}

cleanup() {
	local p n leaf
	trap '' INT TERM HUP PIPE
	for p in "${BGPIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "${MADE[@]}"; do
		timeout --signal=KILL 20 env --default-signal "$BERTH" --root "$R" delete --force "$n" \
			>/dev/null 2>&1 </dev/null
		leaf=$CG/$BCG/$n
		if [ -d "$leaf" ]; then
			echo "# cleanup: berth delete --force $n left $leaf; killing what is in it" >&2
			echo 1 >"$leaf/cgroup.kill" 2>/dev/null
			for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$leaf" 2>/dev/null && break; sleep 0.1; done
		fi
		for p in $(monitors "$n"); do kill -KILL "$p" 2>/dev/null; done
	done
	cleanup_harness
}
trap cleanup EXIT

brun() { berth_run "${BRUN_TIMEOUT:-60}" "$@"; }
init_of() { jget init_pid "$("$BERTH" --root "$R" status "$1" --json 2>/dev/null </dev/null)"; }
monitor_of() { jget monitor_pid "$("$BERTH" --root "$R" status "$1" --json 2>/dev/null </dev/null)"; }

# atk NAME ARGS...: run attacker NAME inside A (or ATK_IN) as root (berth exec). Sets RC, OUT, ERR.
atk() {
	local name=$1
	shift
	brun exec "${ATK_IN:-$A}" -- "/atk/$name" "$@"
	[ "$RC" = 0 ] || why "attacker $name exited $RC$(errhint)"
	if grep -q ESCAPED <<<"$OUT"; then why "ESCAPED: $(q "$(grep ESCAPED <<<"$OUT" | head -3)")"; fi
	printf '%s\n' "$OUT" | sed 's/^/#   /'
}
# line STEP RESULT: the attacker printed "STEP: RESULT".
line() {
	grep -qxF -- "$1: $2" <<<"$OUT" ||
		why "want '$1: $2', got $(q "$(grep -F -- "$1:" <<<"$OUT" | head -1)")"
}
# line_in STEP RESULT...: one of the RESULTs.
line_in() {
	local step=$1 got
	shift
	got=$(grep -F -- "$step: " <<<"$OUT" | head -1)
	got=${got#"$step: "}
	for r in "$@"; do [ "$got" = "$r" ] && return 0; done
	why "want '$step: $*' (one of), got $(q "$got")"
}

# --- the template and the two instances ---------------------------------------

copy_attackers() {
	local f
	for f in "$ATK_DIR"/atk-*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		cp "$f" "$1/${f##*/atk-}" || return 1
	done
}

begin "setup: a template with the attackers in /atk; instances A and B start"
brun run -- /bin/true
[ "$RC" = 0 ] || why "berth run /bin/true (makes the default template): exit $RC$(errhint)"
TPL=$WORK/tpl
if cp -a "$R/lib/templates/default" "$TPL" && mkdir "$TPL/atk" &&
	copy_attackers "$TPL/atk" &&
	echo instance >"$TPL/etc/berth-sec-instance" &&
	mknod "$TPL/atk/mem" c 1 1 && mknod "$TPL/atk/kmsg" c 1 11 && mknod "$TPL/atk/loop0" b 7 0 &&
	printf '#!/proc/self/exe\n' >"$TPL/atk/selfexe" && chmod 0755 "$TPL/atk/selfexe"; then
	brun template import sec "$TPL"
	[ "$RC" = 0 ] || why "template import: exit $RC$(errhint)"
	for n in "$A" "$B"; do
		MADE+=("$n")
		brun create "$n" --template sec
		[ "$RC" = 0 ] || why "create $n: exit $RC$(errhint)"
		brun start "$n"
		[ "$RC" = 0 ] || why "start $n: exit $RC$(errhint)"
	done
else
	why "cannot build the template in $TPL"
fi
A_INIT=$(init_of "$A") B_INIT=$(init_of "$B") A_MON=$(monitor_of "$A")
[ -n "$A_INIT" ] && [ -n "$B_INIT" ] && [ -n "$A_MON" ] || why "no init or monitor pid from berth status"
end
[ -z "$WHY" ] || bail "no instances to attack"
echo marker >"$WORK/host-marker"
BERTH_SUM=$(sha256sum <"$BERTH")
# A hybrid host: a cgroup v1 memory hierarchy beside cgroup2 (docs/SECURITY.md).
V1=$(awk '$0 ~ / - cgroup / && $0 ~ /[ ,]memory([ ,]|$)/ {print "memory"; exit}' /proc/self/mountinfo)

# pid_free_in INSTANCE_INIT PID: no process of the instance has PID as its pid inside.
pid_free_in() {
	local p l
	for p in $(cat "$CG/$BCG/$(basename "$1")/cgroup.procs" 2>/dev/null); do
		while read -r l; do
			[[ "$l" == NSpid:* ]] && [ "${l##*[[:space:]]}" = "$2" ] && return 1
		done <"/proc/$p/status" 2>/dev/null
	done
	return 0
}

# --- the host's kernel and devices --------------------------------------------

read -r ROOTDEV ROOTFS < <(findmnt -n -o SOURCE,FSTYPE / 2>/dev/null)
begin "mount the host's block device (read-only): EPERM (no disk file system mounts in a user namespace)"
if [ -b "${ROOTDEV:-}" ]; then
	atk mount-blockdev "$ROOTDEV" "$ROOTFS"
	line "mount device" EPERM
	line "mount /dev/null as the disk" EPERM
else
	skipping "the host's / is not on a block device ($(q "${ROOTDEV:-none}")): nothing to aim at"
fi
end

begin "mknod the host's disk and /dev/mem: EPERM (a FIFO still works: mknod itself runs)"
if [ -b "${ROOTDEV:-}" ]; then
	atk mknod-disk "$((0x$(stat -c %t "$ROOTDEV")))" "$((0x$(stat -c %T "$ROOTDEV")))"
else
	atk mknod-disk 8 0
fi
line "mknod block disk" EPERM
line "mknod char mem" EPERM
line "mknod fifo" ok
end

begin "device nodes carried in by the template (/dev/mem, /dev/kmsg, a loop disk): opening them is EACCES (nodev root)"
# The root's overlay is a user namespace's mount (SB_I_NODEV): no device node on it
# opens, whatever its numbers. The device filter stands behind that (docs/LIMITS.md).
for n in mem kmsg loop0; do
	CTX=$n
	atk proc-read "/atk/$n"
	line read EACCES
done
CTX=''
brun exec "$A" -- sh -c 'test -c /atk/mem && test -b /atk/loop0 && echo nodes-there'
want_ok nodes-there # control: the nodes are there, so the EPERM is the filter's
end

begin "load a kernel module (init_module, finit_module) or remove one: EPERM (seccomp)"
atk load-module
line init_module EPERM
line finit_module EPERM
line delete_module EPERM
end

begin "kexec_load and kexec_file_load: EPERM (seccomp)"
atk kexec
line kexec_load EPERM
line kexec_file_load EPERM
end

begin "write /proc/sys/kernel/core_pattern: EACCES (host root owns it), with or without the read-only mount over it"
core0=$(cat /proc/sys/kernel/core_pattern)
atk proc-write /proc/sys/kernel/core_pattern /proc/sys
line "open for writing" EACCES
line "unshare mount namespace" ok
# ok today (the masks are not locked, docs/SECURITY.md); EINVAL once they are.
line_in "umount the read-only mount" ok EINVAL
if grep -qx 'umount the read-only mount: ok' <<<"$OUT"; then line "open for writing under it" EACCES; fi
if grep -qx 'mount a fresh proc: ok' <<<"$OUT"; then line "open for writing in the fresh proc" EACCES; fi
[ "$(cat /proc/sys/kernel/core_pattern)" = "$core0" ] || why "the host's core_pattern changed"
end

begin "write /proc/sysrq-trigger: EACCES (host root owns it), with or without the read-only mount"
if [ -e /proc/sysrq-trigger ]; then
	atk proc-write /proc/sysrq-trigger /proc/sysrq-trigger
	line "open for writing" EACCES
	if grep -qx 'umount the read-only mount: ok' <<<"$OUT"; then line "open for writing under it" EACCES; fi
else
	skipping "this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off): nothing to attack"
fi
end

begin "read /proc/kcore: refused or empty"
if [ -e /proc/kcore ]; then
	atk proc-read /proc/kcore
	line_in read EACCES EPERM "0 bytes"
else
	skipping "this kernel has no /proc/kcore (CONFIG_PROC_KCORE off): nothing to read"
fi
end

begin "read /proc/timer_list (other processes' timers): masked, 0 bytes"
atk proc-read /proc/timer_list
line read "0 bytes"
end

begin "masks removed (they are not locked): what they hid is still refused by its owner (EACCES)"
# MOUNT:FILE pairs that exist on this host: the mask, and a file it hides.
pairs=()
for pr in /proc/timer_list:/proc/timer_list /proc/kcore:/proc/kcore /proc/sched_debug:/proc/sched_debug \
	/sys/firmware:/sys/firmware/acpi/tables/DSDT /sys/firmware:/sys/firmware/dmi/tables/DMI \
	/sys/devices/virtual/powercap:/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj; do
	[ -e "${pr#*:}" ] && pairs+=("$pr")
done
if [ "${#pairs[@]}" -gt 0 ]; then
	atk unmask "${pairs[@]}"
	for pr in "${pairs[@]}"; do
		line "umount ${pr%%:*}" ok
		line "read ${pr#*:}" EACCES
		[ "$(stat -c %u "${pr#*:}")" = 0 ] || why "control: ${pr#*:} is not owned by host root here"
	done
else
	skipping "none of the masked files this checks exists on this host"
fi
end

begin "/proc/kallsyms: every address reads as zero (the host's root sees real ones)"
host=$("$ATK_DIR/atk-kallsyms" | sed -n 's/^nonzero addresses: //p')
if [ "${host:-0}" -gt 0 ]; then
	atk kallsyms
	line symbols many
	line "nonzero addresses" 0
else
	skipping "the host's root reads zero addresses too (kptr_restrict $(cat /proc/sys/kernel/kptr_restrict)): the check cannot tell"
fi
end

begin "seccomp: both filters are on an exec'd process (the deny list, and ENOSYS past the reviewed syscalls)"
# What each filter returns is proven in tests/unit/runtime/test_seccomp.c; a syscall
# newer than the profile answers ENOSYS inside, which the host's kernel would too.
brun exec "$A" -- grep -E '^(Seccomp|Seccomp_filters):' /proc/self/status
want_ok $'Seccomp:\t2\nSeccomp_filters:\t2'
end

begin "open_by_handle_at to reach a host file (the shocker escape): EPERM (seccomp)"
atk open-by-handle
line "open_by_handle_at forged inode 2" EPERM
line_in "open_by_handle_at own handle" EPERM "no handle (name_to_handle_at refused)"
end

# --- host processes, the monitor, the berth binary --------------------------------

begin "signal, ptrace, pidfd_open the monitor and the operator's shell, open their exe: ESRCH, no /proc entry, parent 0"
labels=()
for l in "monitor=$A_MON" "operator=$$"; do
	if pid_free_in "$A" "${l#*=}"; then labels+=("$l"); else echo "# ${l%%=*}'s host pid is also a pid inside: left out"; fi
done
atk signal-host "${labels[@]}"
for l in "${labels[@]}"; do
	who=${l%%=*}
	line "kill $who" ESRCH
	line "ptrace $who" ESRCH
	line "pidfd_open $who" ESRCH
	line "/proc entry $who" ENOENT
	line "open exe for writing $who" ENOENT
done
line "parent pid" 0
kill -0 "$A_MON" 2>/dev/null || why "the monitor $A_MON died"
end

begin "the berth binary's host path is not inside the instance"
brun exec "$A" -- test -e "$BERTH"
want_rc 1
end

begin "CVE-2019-5736: berth's own binary cannot be re-executed inside through /proc/self/exe (exec fails, ENOENT)"
# exec's command is a berth process until its execve: a command that is (or whose
# interpreter is) /proc/self/exe would run the host's berth binary inside, where the
# instance could reach it through /proc/PID/exe. The kernel refuses that exec.
brun exec "$A" -- /atk/selfexe
want_rc 127
grep -q 'exec /atk/selfexe: No such file or directory' <<<"$ERR" || why "stderr $(q "$ERR"), want exec /atk/selfexe: No such file or directory"
brun exec "$A" -- /proc/self/exe
want_rc 127
grep -q 'exec /proc/self/exe: No such file or directory' <<<"$ERR" || why "stderr $(q "$ERR"), want exec /proc/self/exe: No such file or directory"
# Control: from a process of the instance the same script runs its own exe (busybox).
brun exec "$A" -- sh -c '/atk/selfexe'
grep -q 'exe: applet not found' <<<"$ERR" || why "control: sh running /atk/selfexe: $(q "$ERR"), want busybox's 'exe: applet not found'"
[ "$(sha256sum <"$BERTH")" = "$BERTH_SUM" ] || why "the berth binary changed"
end

begin "exec: no host fd reaches the command (the caller had 7 and 9 open), cwd and root inside"
mkdir -p "$WORK/hostcwd"
(cd "$WORK/hostcwd" && berth_run 30 exec -w /tmp "$A" -- /atk/fds 7<"$WORK/host-marker" 9>>"$WORK/host-marker2") 
OUT=$(tr -d '\0' <"$WORK/out") ERR=$(<"$WORK/err")
line fds "0 1 2"
line "other fds answering F_GETFD" 0
line cwd /tmp
line root /
end

begin "exec -t: no host fd reaches the command on a pty either"
prun -T 20 -- exec -t "$A" -- /atk/fds
line fds "0 1 2"
line "other fds answering F_GETFD" 0
end

begin "exec from a host directory: the cwd is inside; '..' climbs to the instance's root, not the host's"
(cd "$WORK/hostcwd" && berth_run 30 exec "$A" -- /atk/cwd-escape "$WORK/host-marker")
OUT=$(tr -d '\0' <"$WORK/out") ERR=$(<"$WORK/err")
printf '%s\n' "$OUT" | sed 's/^/#   /'
line getcwd inside
line "host marker after the walk" ENOENT
line "instance marker after the walk" ok
end

# cwd_fd_attack VERB...: berth VERB -w /proc/self/fd/N ... /atk/cwd-escape, N = 3..12.
# Each is refused (exit 125 naming the working directory: no such fd; "Not a directory"
# for at most one, the sync socket, which closes at exec) or lands inside.
cwd_fd_attack() {
	local n notdir=0
	for n in 3 4 5 6 7 8 9 10 11 12; do
		CTX="fd $n"
		brun "$@" -w "/proc/self/fd/$n" "${TARGET[@]}" -- /atk/cwd-escape "$WORK/host-marker"
		if [ "$RC" = 0 ]; then
			line getcwd inside
			line "host marker after the walk" ENOENT
			line "instance marker after the walk" ok
		elif [ "$RC" = 125 ]; then
			grep -q 'working directory' <<<"$ERR" || why "exit 125 without naming the working directory$(errhint)"
			grep -q 'Not a directory' <<<"$ERR" && notdir=$((notdir + 1))
			echo "# fd $n: $ERR"
		else
			why "exit $RC$(errhint)"
		fi
	done
	CTX=''
	[ "$notdir" -le 1 ] || why "$notdir fds of berth's were open at the chdir (want at most the sync socket)"
}

begin "exec -w /proc/self/fd/N (CVE-2024-21626), N = 3..12: refused, or a cwd inside; berth holds no fd but its socket"
TARGET=("$A")
cwd_fd_attack exec
end

begin "run -w /proc/self/fd/N (CVE-2024-21626), N = 3..12: refused, or a cwd inside; no host directory fd at the chdir"
TARGET=(--template sec)
cwd_fd_attack run
end

begin "escape the pivoted root: '..', /proc/1/root, unshare -m + chroot trick, umount -l /"
atk pivot-escape "$WORK/host-marker"
for how in "dotdot from /" "dotdot from /proc/1/root" "chroot trick" "chroot trick, chroot ." "after umount -l /"; do
	line "$how: host marker" ENOENT
	line "$how: instance marker" ok
done
line "unshare -m" ok
line "chroot subdirectory" ok
end

begin "setns into a host namespace: none reachable; NS_GET_PARENT of the user and PID namespaces: EPERM"
host_ns=()
for k in mnt net pid user uts ipc cgroup; do host_ns+=("$(readlink "/proc/1/ns/$k")"); done
atk setns-host "${host_ns[@]}"
line "host namespaces among the ns links" 0
line "NS_GET_PARENT of the user namespace" EPERM
line "NS_GET_PARENT of the PID namespace" EPERM
line "setns /proc/1/ns/mnt (the instance's init)" ok
if [ -n "$V1" ]; then
	line "NS_GET_USERNS of the cgroup namespace" EPERM # the host's (hybrid host)
else
	line "NS_GET_USERNS of the cgroup namespace" ok # the instance's own
fi
end

begin "a nested user namespace cannot map ids outside the instance's range: EPERM"
count=$(sed -n 's/.*"count": *\([0-9]*\).*/\1/p' "$R/lib/instances/$A/config.json" | head -1)
if [ -n "$count" ]; then
	atk userns-map "$count"
	line "uid_map 0 0 1 (the instance's root)" ok
	line "uid_map 0 COUNT 1 (past the instance's range)" EPERM
	line "uid_map 0 4294967294 1 (an id the instance lacks)" EPERM
else
	why "no idmap count in $R/lib/instances/$A/config.json"
fi
end

# --- cgroups ----------------------------------------------------------------------

begin "write the instance's own limits and state in /sys/fs/cgroup: EACCES (host root owns them); the host's tree is not there"
atk cgroup-write
for f in cgroup.freeze cgroup.kill cgroup.max.depth cgroup.max.descendants; do
	line "open $f for writing" EACCES
done
line "/sys/fs/cgroup/.. is" /sys/fs
if [ -n "$V1" ]; then
	# Hybrid host: the cgroup namespace is the host's to own, no cgroup mount at all inside.
	line "mount a fresh cgroup2" EPERM
else
	line "mount a fresh cgroup2" ok
	line "fresh cgroup2 root is" "the instance's own cgroup"
fi
end

begin "hybrid host: the host's cgroup v1 hierarchy cannot be mounted (EPERM), nor a new one"
if [ -n "$V1" ]; then
	# The instance's cgroup namespace is made by the host and owned by the host's user
	# namespace: the kernel refuses cgroup mounts to the instance (docs/SECURITY.md).
	atk cgroup-v1 "$V1"
	line "mount the host's v1 hierarchy" EPERM
	line "create a new named v1 hierarchy" EPERM
else
	skipping "no cgroup v1 memory hierarchy on this host: not a hybrid host"
fi
end

begin "hybrid host: delegation still works (a sub-cgroup made and entered inside, then removed)"
brun exec "$A" -- sh -c 'mkdir /sys/fs/cgroup/atk-sub && echo $$ >/sys/fs/cgroup/atk-sub/cgroup.procs &&
	grep -x "0::/atk-sub" /proc/self/cgroup'
want_ok "0::/atk-sub"
brun exec "$A" -- rmdir /sys/fs/cgroup/atk-sub
want_rc 0
end

# --- the neighbour ------------------------------------------------------------------

begin "neighbour: B's abstract socket, /dev/shm, SysV IPC, files and init are out of A's reach"
timeout --signal=KILL 300 env --default-signal "$BERTH" --root "$R" exec "$B" -- /atk/neighbour serve \
	>"$WORK/serve" 2>&1 </dev/null &
BGPIDS+=("$!")
for _ in $(seq 200); do grep -q serving "$WORK/serve" && break; nap 0.05; done
grep -q serving "$WORK/serve" || why "B's server did not start: $(q "$(<"$WORK/serve")")"
bfile=/proc/$B_INIT/root/dev/shm/berth-sec-neighbour
[ -f "$bfile" ] || why "control: $bfile is not there on the host"
pid_free_in "$A" "$B_INIT" || why "B's init host pid is also a pid in A: cannot tell"
atk neighbour probe "$bfile" "$B_INIT"
line "connect @berth-sec-neighbour" ECONNREFUSED
line "open /dev/shm/berth-sec-neighbour" ENOENT
line shmget ENOENT
line msgget ENOENT
line semget ENOENT
line "stat the neighbour's file by its host path" ENOENT
line "kill the neighbour's init by its host pid" ESRCH
kill -0 "$B_INIT" 2>/dev/null || why "B's init died"
end

begin "neighbour control: the same probes from inside B reach B's own objects"
brun exec "$B" -- /atk/neighbour probe /dev/shm/berth-sec-neighbour 99999
for s in "connect @berth-sec-neighbour" "open /dev/shm/berth-sec-neighbour" shmget msgget semget \
	"stat the neighbour's file by its host path"; do
	line "$s" ok
done
end

# --- terminals ---------------------------------------------------------------------

begin "exec -t: TIOCSTI (fds 0-2, /dev/tty, high bits) and TIOCLINUX: EPERM (seccomp)"
prun -T 20 -- exec -t "$A" -- /atk/tiocsti
printf '%s\n' "$OUT" | sed 's/^/#   /'
for s in "TIOCSTI fd 0" "TIOCSTI fd 1" "TIOCSTI fd 2" "TIOCSTI /dev/tty" "TIOCSTI high bits" "TIOCLINUX paste"; do
	line "$s" EPERM
done
grep -q '^echo INJECTED' <<<"$OUT" && why "the injected line reached the terminal's input"
end

begin "run in the foreground on the operator's terminal: TIOCSTI and TIOCLINUX: EPERM"
prun -T 20 -- run --template sec -- /atk/tiocsti
for s in "TIOCSTI fd 0" "TIOCSTI fd 1" "TIOCSTI fd 2" "TIOCSTI /dev/tty" "TIOCSTI high bits" "TIOCLINUX paste"; do
	line "$s" EPERM
done
end

# --- templates ----------------------------------------------------------------------

for d in proc dev; do
	begin "a template whose /$d is a symlink to a host directory: refused or contained; the host directory untouched"
	T2=$WORK/tpl-$d
	mkdir -p "$WORK/escape-$d" && echo marker >"$WORK/escape-$d/marker" &&
		cp -a "$TPL" "$T2" && rm -rf "${T2:?}/$d" && ln -s "$WORK/escape-$d" "$T2/$d" ||
		bail "cannot make $T2"
	before=$(find "$WORK/escape-$d" -printf '%y %m %u %s %p\n' | sort)
	brun template import "sym-$d" "$T2"
	if [ "$RC" = 0 ]; then
		MADE+=("$S-$d")
		brun create "$S-$d" --template "sym-$d"
		[ "$RC" = 0 ] && brun start "$S-$d"
		if [ "$RC" = 0 ]; then
			brun exec "$S-$d" -- sh -c 'test -f /proc/self/status && test -c /dev/null && test ! -e /'"$d"'/marker && echo contained'
			want_ok contained
			echo "# /$d symlink: the instance started, /$d contained"
		elif [ "$RC" = 125 ]; then
			grep -qiE "symlink|/$d" <<<"$ERR" || why "refused without naming /$d or the symlink$(errhint)"
			echo "# /$d symlink: start refused: $ERR"
		else
			why "exit $RC$(errhint)"
		fi
	elif [ "$RC" = 125 ]; then
		grep -qiE "symlink|/$d" <<<"$ERR" || why "import refused without naming /$d or the symlink$(errhint)"
	else
		why "template import: exit $RC$(errhint)"
	fi
	[ "$(find "$WORK/escape-$d" -printf '%y %m %u %s %p\n' | sort)" = "$before" ] ||
		why "the host directory the symlink names changed"
	end
done

# --- network, storage, id ranges, a systemd guest (tests/integration/security/*.sh) ---

SEC_PARTS=$(dirname "$(realpath "$0")")/security
# shellcheck source=security/storage.sh
. "$SEC_PARTS/storage.sh"
# shellcheck source=security/net.sh
. "$SEC_PARTS/net.sh"
# shellcheck source=security/systemd.sh
. "$SEC_PARTS/systemd.sh"

finish
