#!/bin/sh
# SPDX-License-Identifier: MIT
#
# stats.sh BERTH: berth stats, freeze and thaw inside the VM that run-vm.sh
# boots (Debian's stock kernel, a pure cgroup v2 host with every controller),
# in busybox ash: any tool that is not a busybox applet is called by its full
# path. berth's --root is on the scratch disk /disk (ext4).
#
# What this machine's hybrid cgroup layout cannot show: memory.current,
# pids.current and the other controller files as `berth stats` reports them,
# cpu usage growing under a busy loop, --json key names (checked with grep:
# there is no python in the guest), and freeze/thaw of a counter loop.
#
# The guest is throwaway: the test enables the memory, pids, cpu and io
# controllers for <cgroup2>/berth itself, so that the stats files exist
# whatever berth enables for instances without limits.
#
# Prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME: why"; the last
# line is "vm: N passed, N failed, N skipped"; exit status 1 on any failure.
# shellcheck shell=dash # busybox ash: POSIX sh with local
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the instance
# shellcheck disable=SC2015 # A && B || why ...: why only records a reason
BERTH=${1:?usage: stats.sh BERTH}
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091 # /vm/lib.sh in the guest; -x follows it
. /vm/lib.sh

vm_dirs stats vmstats

is_num() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
# stats_json FILE: berth stats NAME --json --interval 0 into FILE.
stats_json() { timeout -s KILL 120 "$BERTH" --root "$R" stats "$N" --json --interval 0 >"$1" 2>"$W/err" </dev/null; }
# init_pid: runs berth status itself (unlike lib.sh's, which reads $W/st).
init_pid() {
	timeout -s KILL 120 "$BERTH" --root "$R" status "$N" --json >"$W/st" 2>&1 </dev/null
	jget init_pid "$W/st"
}
counter() { cat "/proc/$INIT/root/tmp/counter" 2>/dev/null; }

cleanup() {
	timeout -s KILL 60 "$BERTH" --root "$R" delete --force "$N" >/dev/null 2>&1 </dev/null
	rm -rf "$R" "$W"
}
trap cleanup EXIT

echo "# kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"

begin "setup: controllers memory, pids, cpu and io enabled for $CG/$BCG; $N created and started"
mkdir -p "$CG/$BCG"
echo "+memory +pids +cpu +io" >"$CG/cgroup.subtree_control" || why "cannot enable controllers at $CG"
echo "+memory +pids +cpu +io" >"$CG/$BCG/cgroup.subtree_control" || why "cannot enable controllers in $CG/$BCG"
brun create "$N"
want_rc 0
brun start "$N"
want_rc 0
INIT=$(init_pid)
is_num "$INIT" || why "no init pid in status: $(q "$(cat "$W/st")")"
end

begin "stats --json: memory_current > 0, pids_current >= 2, limits 'max', the documented keys present"
stats_json "$W/s1" || why "stats failed: $(q "$(cat "$W/err")")"
for k in name state cpu_millicores cpu_usage_usec cpu_user_usec cpu_system_usec cpu_nr_throttled \
	cpu_throttled_usec memory_current memory_peak memory_max swap_current swap_max oom oom_kill \
	pids_current pids_max io_read_bytes io_write_bytes io_read_ops io_write_ops; do
	grep -q "^ *\"$k\": " "$W/s1" || why "no key $k"
done
v=$(jget memory_current "$W/s1")
is_num "$v" && [ "$v" -gt 0 ] || why "memory_current $(q "$v"), want > 0"
v=$(jget pids_current "$W/s1")
is_num "$v" && [ "$v" -ge 2 ] || why "pids_current $(q "$v"), want >= 2 (init and its getty)"
v=$(jget memory_max "$W/s1")
[ "$v" = max ] || why "memory_max $(q "$v"), want max (no limit set)"
v=$(jget pids_max "$W/s1")
[ "$v" = max ] || why "pids_max $(q "$v"), want max"
v=$(jget cpu_nr_throttled "$W/s1")
is_num "$v" || why "cpu_nr_throttled $(q "$v"): the cpu controller is on, want a number"
v=$(jget io_read_ops "$W/s1")
is_num "$v" || why "io_read_ops $(q "$v"): the io controller is on, want a number"
v=$(jget cpu_millicores "$W/s1")
[ "$v" = null ] || why "cpu_millicores $(q "$v") with --interval 0, want null"
end

begin "stats --json: memory_peak is a number from Linux 5.19, null before"
v=$(jget memory_peak "$W/s1")
if [ -e "$CG/$BCG/$N/memory.peak" ]; then
	is_num "$v" && [ "$v" -ge "$(jget memory_current "$W/s1")" ] || why "memory_peak $(q "$v")"
else
	[ "$v" = null ] || why "no memory.peak on this kernel, but memory_peak is $(q "$v")"
fi
end

begin "stats: cpu usage grows under a busy loop, and cpu% shows it"
brun exec "$N" -- sh -c '(while :; do :; done) </dev/null >/dev/null 2>&1 & echo $! >/tmp/busy.pid'
want_rc 0
stats_json "$W/c1"
sleep 2
stats_json "$W/c2"
a=$(jget cpu_usage_usec "$W/c1") b=$(jget cpu_usage_usec "$W/c2")
is_num "$a" && is_num "$b" && [ "$b" -gt $((a + 200000)) ] ||
	why "cpu_usage_usec $(q "$a") -> $(q "$b") over 2 s, want at least +0.2 s"
brun stats "$N" --json --interval 1
v=$(jget cpu_millicores "$W/out")
is_num "$v" && [ "$v" -ge 300 ] || why "cpu_millicores $(q "$v") with a busy loop, want >= 300$(errhint)"
brun stats "$N"
want_rc 0
grep -qE "^$N +running +[0-9]+\.[0-9] " "$W/out" || why "no table row '$N running CPU%': $(q "$OUT")"
# The busy loop has served: under TCG it would starve the next check's counter loop.
brun exec "$N" -- sh -c 'kill $(cat /tmp/busy.pid)'
want_rc 0
end

begin "freeze: the counter inside stops; status frozen; stats state frozen; thaw: it moves again"
brun exec "$N" -- sh -c '(i=0; while :; do i=$((i+1)); echo $i >/tmp/counter; sleep 0.1; done) </dev/null >/dev/null 2>&1 &'
want_rc 0
until_ 10 test -n "$(counter)" || why "the counter loop never wrote /tmp/counter"
brun freeze "$N"
want_rc 0
c0=$(counter)
sleep 1
c1=$(counter)
[ -n "$c0" ] && [ "$c0" = "$c1" ] || why "the counter moved while frozen: $(q "$c0") -> $(q "$c1")"
brun status "$N"
echo "$OUT" | grep -qE '^state: +frozen$' || why "status: $(q "$(echo "$OUT" | grep '^state')")"
stats_json "$W/f"
[ "$(jget state "$W/f")" = frozen ] || why "stats state $(q "$(jget state "$W/f")"), want frozen"
brun thaw "$N"
want_rc 0
until_ 10 test "$(counter)" != "$c1" || why "the counter did not move after thaw (stuck at $(q "$c1"))"
end

begin "stop of a frozen instance: exit 0; no cgroup left"
brun freeze "$N"
want_rc 0
brun stop "$N" --timeout 60
want_rc 0
[ ! -e "$CG/$BCG/$N" ] || why "cgroup $CG/$BCG/$N still there"
brun stats "$N"
[ "$RC" = 1 ] && echo "$ERR" | grep -q "not running" || why "stats of the stopped instance: exit $RC$(errhint)"
brun delete "$N"
want_rc 0
end

done_
