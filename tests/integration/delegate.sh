#!/bin/bash
# SPDX-License-Identifier: MIT
#
# An instance started from a delegated cgroup, as berth@.service runs it
# (docs/SYSTEMD.md): `berth start --foreground` in a cgroup carrying the
# trusted.delegate xattr systemd sets on a Delegate=yes unit's cgroup. The
# monitor moves itself into <unit>/supervisor, the instance lives in
# <unit>/payload, every command finds it there, the monitor says READY=1 on
# NOTIFY_SOCKET, and berth stop ends it cleanly. Root, this host: the "unit"
# is a cgroup the test makes below its own harness cgroup (this host's PID 1
# is not systemd; tests/vm/systemd-host.sh runs it under a real systemd).
#
#   delegate.sh BERTH
#
# Needs root (else exits 77). Output as lib.sh: "ok - NAME" / "not ok - NAME:
# why", the last line "delegate: N passed, N failed, N skipped".
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init delegate "berth under a delegated cgroup"
need_args "BERTH" "$@"
need_root "namespaces, mounts, cgroups"
BERTH=$(realpath -e "$1") || exit 2
need_tools unshare mount env setfattr python3 timeout
private_mntns BERTH_DELEG_HOST_MNTNS "$BERTH"

find_cgroup2
work_dirs berth-deleg-it berth-deleg-root
nap_init
cover_cgroup_v1 berth-deleg-cover
harness_cgroup berth-deleg-it

N=bd$$
UNIT=$HCG/berth@$N.service
UNIT_REL=${UNIT#"$CG"/}
FG='' LISTENER=''

cleanup() {
	trap '' INT TERM HUP PIPE
	[ -z "$FG" ] || { kill -KILL "$FG" 2>/dev/null; wait "$FG" 2>/dev/null; }
	[ -z "$LISTENER" ] || { kill -KILL "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null; }
	timeout --signal=KILL 20 env --default-signal "$BERTH" --root "$R" delete --force "$N" \
		>/dev/null 2>&1 </dev/null
	for d in "$UNIT/payload" "$UNIT/supervisor" "$UNIT"; do
		[ -d "$d" ] || continue
		echo 1 >"$d/cgroup.kill" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
	cleanup_harness
}
trap cleanup EXIT

brun() { berth_run 30 "$@"; }
status_json() { timeout --signal=KILL 30 env --default-signal "$BERTH" --root "$R" status "$N" --json 2>&1 </dev/null; }
is_running() { [ "$(jget state "$(status_json)")" = running ]; }
has_line() { grep -qx -- "$2" "$1" 2>/dev/null; }

brun create "$N"
[ "$RC" = 0 ] || bail "berth create $N: exit $RC $ERR"

mkdir "$UNIT" || bail "mkdir $UNIT"
setfattr -n trusted.delegate -v 1 "$UNIT" || bail "cannot set trusted.delegate on $UNIT"
# The service manager's side of NOTIFY_SOCKET: one datagram socket, what arrives is logged.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".bound", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", " | ") + "\n")
' "$WORK/notify.sock" "$WORK/notify.log" &
LISTENER=$!
until_ 10 test -e "$WORK/notify.log.bound" || bail "the notify listener did not start"

# As systemd starts the unit's main process: in the unit's cgroup, NOTIFY_SOCKET set.
(
	echo "$BASHPID" >"$UNIT/cgroup.procs" || exit 99
	exec env NOTIFY_SOCKET="$WORK/notify.sock" "$BERTH" --root "$R" start --foreground "$N" \
		</dev/null >"$WORK/fg.out" 2>"$WORK/fg.err"
) &
FG=$!

begin "start --foreground in a delegated cgroup: running within 30 s"
until_ 30 is_running || why "status: $(q "$(status_json)"); berth: $(q "$(cat "$WORK/fg.err")")"
end

out=$(status_json)
INIT=$(jget init_pid "$out") MON=$(jget monitor_pid "$out")

begin "the instance's init is in <unit>/payload, not in the berth cgroup"
has_line "$UNIT/payload/cgroup.procs" "$INIT" ||
	why "init $INIT not in $UNIT/payload: $(q "$(cat "$UNIT/payload/cgroup.procs" 2>&1)")"
[ ! -e "$CG/$BCG/$N" ] || why "$CG/$BCG/$N exists too"
end

begin "the monitor moved itself into <unit>/supervisor; the unit's own cgroup is empty"
[ "$MON" = "$FG" ] || why "monitor pid $MON, want the foreground berth $FG"
has_line "$UNIT/supervisor/cgroup.procs" "$MON" ||
	why "monitor $MON not in $UNIT/supervisor: $(q "$(cat "$UNIT/supervisor/cgroup.procs" 2>&1)")"
[ -z "$(cat "$UNIT/cgroup.procs")" ] || why "processes left in $UNIT: $(q "$(cat "$UNIT/cgroup.procs")")"
end

begin "state.json records the cgroup <unit>/payload"
grep -q "\"cgroup\": *\"$UNIT_REL/payload\"" "$R/run/$N/state.json" ||
	why "state.json: $(q "$(cat "$R/run/$N/state.json")")"
end

begin "the monitor said READY=1 on NOTIFY_SOCKET once init ran"
until_ 10 grep -q 'READY=1' "$WORK/notify.log" ||
	why "notify log: $(q "$(cat "$WORK/notify.log" 2>&1)")"
end

begin "exec finds the instance: hostname is its name"
brun exec "$N" -- hostname
want_ok "$N"
end

begin "freeze and thaw act on <unit>/payload"
brun freeze "$N"
want_rc 0
has_line "$UNIT/payload/cgroup.freeze" 1 || why "cgroup.freeze after freeze: $(q "$(cat "$UNIT/payload/cgroup.freeze")")"
brun thaw "$N"
want_rc 0
has_line "$UNIT/payload/cgroup.freeze" 0 || why "cgroup.freeze after thaw: $(q "$(cat "$UNIT/payload/cgroup.freeze")")"
end

begin "stats sees it running (from <unit>/payload)"
brun stats "$N" --json
want_rc 0
grep -q '"state": *"running"' <<<"$OUT" || why "stats: $(q "$OUT")"
brun stats --json
grep -q "\"$N\"" <<<"$OUT" || why "stats for every instance lacks $N: $(q "$OUT")"
end

begin "berth stop: exit 0, stopped, last exit poweroff, foreground berth exits 0, payload removed"
brun stop "$N"
want_rc 0
wait_job "$FG" 15
[ "$TIMEDOUT" = 0 ] || why "the foreground berth did not exit"
[ "$RC" = 0 ] || why "foreground berth exit status $RC: $(q "$(cat "$WORK/fg.err")")"
FG=''
out=$(status_json)
[ "$(jget state "$out")" = stopped ] || why "status: $(q "$out")"
[ "$(jget last_exit "$out")" = poweroff ] || why "last exit $(q "$(jget last_exit "$out")"), want poweroff"
[ ! -e "$UNIT/payload" ] || why "$UNIT/payload still there"
end

finish
