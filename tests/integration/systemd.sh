#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A Debian bookworm guest with systemd as PID 1, user namespace on: the
# debootstrap template, systemd's container interface, readiness (sd_notify),
# reboot, poweroff and halt from inside and from berth, journald, the console
# getty, cgroup delegation. Root, this host, the Debian mirror.
#
#   systemd.sh BERTH
#
# The template is made once by `berth template create --debootstrap bookworm
# --include systemd,dbus,iproute2` and cached as a tarball in
# $BERTH_TEST_CACHE (default /var/cache/berth-tests), outside the repository;
# later runs import it (`berth template import`). Delete the tarball to
# rebuild it. Without the mirror (and no cache) the suite skips loudly.
# Runs in a private mount namespace where the host's cgroup v1 mount points
# are covered, so the guest's systemd sees cgroup2 only. Each test prints
# "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last line is
# "systemd: N passed, N failed, N skipped"; exit 1 on any failure.
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the instance
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init systemd "berth systemd guest tests"
need_args "BERTH" "$@"
need_root "namespaces, mounts, cgroups, debootstrap"
BERTH=$(realpath -e "$1") || exit 2
need_tools unshare mount env timeout tar debootstrap
# debootstrap needs the Debian mirror: it alone runs in the machine's network namespace.
KEEP_HOST_NET=1
private_mntns BERTH_SYSD_HOST_MNTNS "$BERTH"

find_cgroup2
work_dirs berth-sysd-it berth-sysd-root
nap_init
cover_cgroup_v1 berth-sysd-cover
harness_cgroup berth-sysd-it

CACHE=${BERTH_TEST_CACHE:-/var/cache/berth-tests}
TARBALL=$CACHE/debian-bookworm-systemd.tar
SUITE_PKGS=systemd,dbus,iproute2
N=bs$$
A=$N-a
MADE=()

cleanup() {
	local n leaf
	trap '' INT TERM HUP PIPE
	for n in "${MADE[@]}"; do
		timeout --signal=KILL 60 env --default-signal "$BERTH" --root "$R" delete --force "$n" \
			>/dev/null 2>&1 </dev/null
		leaf=$CG/$BCG/$n
		if [ -d "$leaf" ]; then
			echo "# cleanup: berth delete --force $n left $leaf; killing what is in it" >&2
			echo 1 >"$leaf/cgroup.kill" 2>/dev/null
			find "$leaf" -depth -type d -exec rmdir {} + 2>/dev/null
		fi
	done
	cleanup_harness
}
trap cleanup EXIT

brun() { berth_run 60 "$@"; }
# st NAME: berth status --json into S_STATE S_BOOTS S_LAST S_READY S_STATUS.
st() {
	local out
	out=$(timeout --signal=KILL 30 env --default-signal "$BERTH" --root "$R" status "$1" --json 2>&1 </dev/null)
	S_STATE=$(jget state "$out") S_BOOTS=$(jget boots "$out") S_LAST=$(jget last_exit "$out")
	S_READY=$(jget ready "$out") S_STATUS=$(jget status_text "$out")
}
is_state() { st "$1" && [ "$S_STATE" = "$2" ]; }
booted_again() { st "$1" && [ "$S_STATE" = running ] && [ "$S_BOOTS" -gt "$2" ]; }
clog() { tr -d '\r' <"$R/log/$1/console.log" 2>/dev/null; }
has_login() { clog "$1" | grep -q "^$1 login: "; }
# in NAME CMD...: run CMD inside (sh -c), 60 s limit.
in_() {
	local n=$1
	shift
	brun exec "$n" -- sh -c "$*"
}

# --- the template ----------------------------------------------------------------

# An interrupted debootstrap leaves no template, no temp dir, no process, no mount.
begin "template create --debootstrap, interrupted, leaves nothing"
HOSTNET=$(host_netns)
nsenter --net="$HOSTNET" -- "$BERTH" --root "$R" template create cut --debootstrap bookworm >"$WORK/cut.out" 2>&1 </dev/null &
CUT=$!
until_ 60 grep -q '^I: Retrieving' "$WORK/cut.out" || skipping "debootstrap never started retrieving (no mirror?): $(q "$(tail -3 "$WORK/cut.out")")"
nap 3
kill -INT "$CUT"
wait_job "$CUT" 30
if [ -z "$SKIPWHY" ]; then
	[ "$RC" != 0 ] || why "interrupted create exited 0"
	grep -q 'interrupted' "$WORK/cut.out" || why "no 'interrupted' message: $(q "$(tail -2 "$WORK/cut.out")")"
	left=$(find "$R/lib/templates" -mindepth 1 -maxdepth 1 2>/dev/null)
	[ -z "$left" ] || why "left in the store: $(q "$left")"
	grep -q "$R/lib/templates" /proc/self/mountinfo && why "a mount is left below the store"
	while read -r p; do
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		debootstrap | dpkg | wget | ar | tar | perl) why "process $p ($(cat "/proc/$p/comm")) left running" ;;
		esac
	done <"$HCG/cgroup.procs"
	brun template list
	[[ "$OUT" != *cut* ]] || why "template list shows it: $(q "$OUT")"
fi
end

begin "debian bookworm template (cached in $TARBALL)"
MADE_NOW=0
if [ -s "$TARBALL" ]; then
	brun template import bookworm "$TARBALL"
	want_rc 0
else
	now_us
	T0=$NOW
	on_host_net timeout --signal=KILL 1800 env --default-signal "$BERTH" --root "$R" template create bookworm \
		--debootstrap bookworm --include "$SUITE_PKGS" >"$WORK/create.out" 2>&1 </dev/null
	RC=$?
	now_us
	echo "# debootstrap template made in $(((NOW - T0) / 1000000)) s; caching it in $TARBALL"
	if [ "$RC" != 0 ]; then
		skip_all "cannot make the Debian template (no mirror?): $(tail -3 "$WORK/create.out")"
	fi
	MADE_NOW=1
	if ! { mkdir -p "$CACHE" && tar --numeric-owner --xattrs --xattrs-include='*' --acls \
		-C "$R/lib/templates/bookworm" -cf "$TARBALL.tmp.$$" . &&
		mv "$TARBALL.tmp.$$" "$TARBALL"; }; then
		rm -f "$TARBALL.tmp.$$"
		why "cannot write the cache $TARBALL"
	fi
fi
T=$R/lib/templates/bookworm
[ -d "$T" ] || bail "no template bookworm: $(q "$ERR")"
{ [ -f "$T/etc/machine-id" ] && [ ! -s "$T/etc/machine-id" ]; } || why "/etc/machine-id is not an empty file"
[ ! -e "$T/etc/hostname" ] || why "/etc/hostname of the build host is kept: $(q "$(cat "$T/etc/hostname")")"
[ ! -f "$T/var/lib/dbus/machine-id" ] || [ -L "$T/var/lib/dbus/machine-id" ] || why "a dbus machine-id is kept"
[[ "$(readlink -f "$T/sbin/init")" == */systemd ]] || why "/sbin/init is not systemd: $(readlink "$T/sbin/init")"
grep -q '^root:[*!]' "$T/etc/shadow" || why "root's password is not locked"
end

# --- boot ------------------------------------------------------------------------

brun create "$A" --template bookworm
MADE+=("$A")
[ "$RC" = 0 ] || bail "create failed: $(q "$ERR")"

begin "start --wait-ready returns once systemd says READY=1"
now_us
T0=$NOW
brun start "$A" --wait-ready --timeout 50
now_us
want_rc 0
st "$A"
[ "$S_STATE" = running ] || why "state $S_STATE"
[ "$S_READY" = true ] || why "status says ready=$S_READY"
[ "$S_STATUS" = "Ready." ] || why "status text $(q "$S_STATUS"), want systemd's \"Ready.\""
echo "# start --wait-ready took $(((NOW - T0) / 1000)) ms"
end

begin "systemctl is-system-running --wait prints running"
brun exec "$A" -- timeout 50 systemctl is-system-running --wait
# No failure is expected: any failed unit is listed, and fails the test.
if [ "$OUT" != running ]; then
	why "state $(q "$OUT")"
	in_ "$A" 'systemctl --failed --no-legend --plain --no-pager'
	why "failed units: $(q "$OUT")"
fi
end

begin "container interface: environment, /run/host, /run/lock, read-only /sys and /proc/sys"
UUID=$(sed -n 's/.*"uuid": *"\([^"]*\)".*/\1/p' "$R/lib/instances/$A/config.json")
in_ "$A" 'tr "\0" "\n" </proc/1/environ | grep -E "^(container|container_uuid|NOTIFY_SOCKET)=" | sort'
want_out "$(printf 'NOTIFY_SOCKET=/run/host/notify\ncontainer=berth\ncontainer_uuid=%s' "$UUID")"
in_ "$A" 'cat /run/host/container-manager; cat /etc/machine-id'
want_out "$(printf 'berth\n%s' "${UUID//-/}")"
in_ "$A" 'cat /run/host/os-release'
[ "$OUT" = "$(cat /etc/os-release)" ] || why "/run/host/os-release is not the host's"
in_ "$A" 'touch /run/host/x 2>&1; findmnt -no FSTYPE /run/lock; findmnt -no FSTYPE /run; findmnt -no FSTYPE /sys/fs/cgroup
touch /sys/x 2>&1; echo 1 2>&1 >/proc/sys/kernel/ns_last_pid; echo 1 >/proc/sys/net/ipv4/conf/lo/forwarding && echo net writable'
want_out "$(printf '%s\n' "touch: cannot touch '/run/host/x': Read-only file system" tmpfs tmpfs cgroup2 \
	"touch: cannot touch '/sys/x': Read-only file system" \
	"sh: 2: cannot create /proc/sys/kernel/ns_last_pid: Read-only file system" "net writable")"
end

begin "cgroup delegation: systemd-run --wait true, init.scope and system.slice below the instance"
brun exec "$A" -- systemd-run --wait --quiet true
want_rc 0
{ [ -d "$CG/$BCG/$A/init.scope" ] && [ -d "$CG/$BCG/$A/system.slice" ]; } ||
	why "no init.scope and system.slice in $CG/$BCG/$A: $(find "$CG/$BCG/$A" -maxdepth 1 -type d -printf "%f ")"
end

begin "journald works: journalctl shows this boot"
brun exec "$A" -- journalctl -b --no-pager -q -o cat
[ "$RC" = 0 ] || why "journalctl exit $RC$(errhint)"
grep -q 'Startup finished' <<<"$OUT" || why "no 'Startup finished' entry in $(q "$OUT")"
end

begin "the console shows a getty (console-getty.service)"
until_ 20 has_login "$A" || why "no '$A login:' prompt in the console log: $(q "$(clog "$A" | tail -3)")"
in_ "$A" 'systemctl is-active console-getty.service'
want_out active
end

# --- reboot, poweroff, stop, halt ------------------------------------------------

begin "systemctl reboot inside reboots the instance (boots +1, ready again)"
st "$A"
B0=$S_BOOTS
# The instance goes down under the exec: its own exit status tells nothing.
brun exec "$A" -- systemctl reboot
until_ 60 booted_again "$A" "$B0" || why "not booted again: state $S_STATE, boots $S_BOOTS (was $B0)"
brun start "$A" --wait-ready --timeout 50
want_rc 0
st "$A"
[ "$S_READY" = true ] || why "not ready after the reboot"
[ "$S_LAST" = reboot ] || why "last exit $(q "$S_LAST"), want reboot"
end

begin "systemctl poweroff inside stops it cleanly"
: >"$WORK/mark"
brun exec "$A" -- systemctl poweroff
until_ 60 is_state "$A" stopped || why "still $S_STATE"
[ "$S_LAST" = poweroff ] || why "last exit $(q "$S_LAST"), want poweroff"
clog "$A" | grep -q 'Powering off' || why "no 'Powering off' from systemd-shutdown in the console log"
[ ! -d "$CG/$BCG/$A" ] || why "cgroup $CG/$BCG/$A left"
end

begin "berth stop shuts systemd down cleanly within its timeout"
brun start "$A" --wait-ready --timeout 50
[ "$RC" = 0 ] || why "start: exit $RC$(errhint)"
LOGLINES=$(clog "$A" | wc -l)
now_us
T0=$NOW
brun stop "$A" --timeout 20
now_us
want_rc 0
st "$A"
[ "$S_LAST" = poweroff ] || why "last exit $(q "$S_LAST"), want poweroff (a kill means no clean shutdown)"
TAIL=$(clog "$A" | tail -n +"$((LOGLINES + 1))")
grep -q 'Reached target.*System Power Off' <<<"$TAIL" || why "no 'Reached target ... System Power Off' in the console log"
grep -q 'Powering off' <<<"$TAIL" || why "no 'Powering off' in the console log"
echo "# berth stop took $(((NOW - T0) / 1000)) ms"
end

begin "SIGRTMIN+3 (the container interface's halt) also shuts it down cleanly"
brun start "$A" --wait-ready --timeout 50
[ "$RC" = 0 ] || why "start: exit $RC$(errhint)"
brun kill "$A" RTMIN+3
want_rc 0
until_ 30 is_state "$A" stopped || why "still $S_STATE"
[ "$S_LAST" = poweroff ] || why "last exit $(q "$S_LAST"): halt ends as SIGINT, shown as poweroff"
clog "$A" | tail -5 | grep -q 'Halting system' || why "no 'Halting system' in the console log"
end

# What a Type=notify unit running `berth start --foreground` relies on.
begin "start --foreground passes READY=1 and STATUS on to its own NOTIFY_SOCKET, STOPPING=1 at stop"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m.replace("\n", "|") + "\n")
        f.flush()
        if "STOPPING=1" in m:
            break
' "$WORK/host-notify" "$WORK/host-notify.log" &
LSN=$!
until_ 10 test -e "$WORK/host-notify.log" || why "the listener did not start"
NOTIFY_SOCKET=$WORK/host-notify timeout --signal=KILL 120 "$BERTH" --root "$R" start "$A" --foreground \
	>"$WORK/fg.out" 2>&1 </dev/null &
FG=$!
until_ 60 grep -q 'READY=1' "$WORK/host-notify.log" || why "no READY=1 on the host's socket: $(q "$(cat "$WORK/host-notify.log")")"
grep -q '^READY=1|STATUS=Ready\.$' "$WORK/host-notify.log" || why "READY=1 without the guest's STATUS: $(q "$(cat "$WORK/host-notify.log")")"
kill -TERM "$FG"
wait_job "$FG" 60
[ "$RC" = 0 ] || why "berth start --foreground exited $RC after SIGTERM: $(q "$(tail -2 "$WORK/fg.out")")"
wait_job "$LSN" 10
grep -q 'STOPPING=1' "$WORK/host-notify.log" || why "no STOPPING=1: $(q "$(cat "$WORK/host-notify.log")")"
st "$A"
{ [ "$S_STATE" = stopped ] && [ "$S_LAST" = poweroff ]; } || why "after SIGTERM: state $S_STATE, last exit $S_LAST; want stopped, poweroff"
end

[ "$MADE_NOW" = 1 ] && echo "# the template was built this run and cached; the next run imports it"
finish
