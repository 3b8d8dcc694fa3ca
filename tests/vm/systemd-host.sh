#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Inside the systemd VM (run-vm-systemd.sh): berth under the host's systemd.
#   systemd-host.sh boot       from berth-vm-test.service, after berth.target
#   systemd-host.sh shutdown   from the ExecStop of a unit that stops after
#                              the instances at poweroff; prints the marker
# Instances: "first" (boot order 1, boot delay 2 s) and "second" (boot order
# 2), both enabled before boot, stop timeout 20 s; and "third", not enabled,
# whose init ignores its halt signal (WINCH), stop timeout 12 s, and whose
# unit has TimeoutStopSec=5.
set -u
export LC_ALL=C PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
FAILS=/var/lib/berth-vm-fails
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1: $2"; }
check() { # NAME WHY-IF-FAILED CMD...
	local name=$1 why=$2
	shift 2
	if "$@"; then ok "$name"; else notok "$name" "$why"; fi
}
jget() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" <<<"$2" | head -1; }
prop() { systemctl show -P "$2" "berth@$1.service"; }

if [ "${1:-}" = boot ]; then
	for n in first second; do
		s=$(berth status "$n" --json 2>&1)
		check "$n: started at boot: berth status running, unit active" \
			"status $(jget state "$s"), unit $(systemctl is-active "berth@$n")" \
			test "$(jget state "$s")" = running -a "$(systemctl is-active "berth@$n")" = active
		check "$n: ready: the unit's status text is the monitor's STATUS=running" \
			"StatusText '$(prop "$n" StatusText)'" test "$(prop "$n" StatusText)" = running
		unit_cg=$(prop "$n" ControlGroup)
		cg=$(sed -n 's/^ *"cgroup": *"\(.*\)",*$/\1/p' "/run/berth/$n/state.json")
		check "$n: its cgroup is <unit>/payload ($unit_cg/payload), the monitor in <unit>/supervisor" \
			"state.json cgroup '$cg', monitor $(cat /proc/"$(prop "$n" MainPID)"/cgroup)" \
			test "/$cg" = "$unit_cg/payload" -a \
			"$(cat /proc/"$(prop "$n" MainPID)"/cgroup)" = "0::$unit_cg/supervisor"
		init=$(jget init_pid "$s")
		check "$n: its init runs in <unit>/payload" "init $init: $(cat /proc/"$init"/cgroup 2>&1)" \
			grep -qx "0::$unit_cg/payload" "/proc/$init/cgroup"
	done
	# Order: second starts once first is ready and its 2 s boot delay has passed.
	f_start=$(prop first ExecMainStartTimestampMonotonic)
	f_active=$(prop first ActiveEnterTimestampMonotonic)
	s_start=$(prop second InactiveExitTimestampMonotonic)
	check "second started after first was active and >= 2 s after first's start (boot delay)" \
		"first start $f_start, active $f_active; second start $s_start (us)" \
		test "$s_start" -ge "$f_active" -a $((s_start - f_start)) -ge 2000000
	t0=$(date +%s%N)
	systemctl stop berth@first.service
	rc=$? t1=$(date +%s%N)
	s=$(berth status first --json 2>&1)
	check "systemctl stop berth@first: exit 0 within its 20 s stop timeout ($(((t1 - t0) / 1000000)) ms)" \
		"exit $rc" test "$rc" = 0 -a $(((t1 - t0) / 1000000000)) -lt 20
	check "first after systemctl stop: stopped, last exit poweroff (a clean halt, not a kill)" \
		"status $(jget state "$s"), last exit '$(jget last_exit "$s")'" \
		test "$(jget state "$s")" = stopped -a "$(jget last_exit "$s")" = poweroff
	check "first's unit: inactive, result success, its cgroup gone" \
		"$(systemctl is-active berth@first), result $(prop first Result)" \
		test "$(systemctl is-active berth@first)" = inactive -a "$(prop first Result)" = success \
		-a ! -e "/sys/fs/cgroup/system.slice/system-berth.slice/berth@first.service"
	check "second still runs" "$(berth status second 2>&1 | head -1)" \
		test "$(systemctl is-active berth@second)" = active
	# Limits under the unit: the controllers enabled down to <unit>/payload.
	pay=/sys/fs/cgroup$(prop second ControlGroup)/payload
	out=$(berth set second --pids 77 --memory 64M 2>&1)
	check "berth set on second (under its unit): pids.max 77, memory.max 64M in <unit>/payload" \
		"$out; pids.max $(cat "$pay/pids.max" 2>&1), memory.max $(cat "$pay/memory.max" 2>&1)" \
		test "$(cat "$pay/pids.max" 2>&1)" = 77 -a "$(cat "$pay/memory.max" 2>&1)" = 67108864
	# enable/disable under a running systemd: daemon-reload makes systemd see it.
	berth disable first >/dev/null 2>&1
	check "berth disable first: berth.target no longer wants it (systemd reloaded)" \
		"WantedBy '$(prop first WantedBy)'" test -z "$(prop first WantedBy)"
	berth enable first --boot-order 1 --boot-delay 2 >/dev/null 2>&1
	check "berth enable first again: berth.target wants it, second is After= it" \
		"WantedBy '$(prop first WantedBy)', second After '$(prop second After)'" \
		test "$(prop first WantedBy)" = berth.target -a \
		"$(prop second After | grep -c 'berth@first.service')" = 1
	# third: not enabled, so not started at boot; then what Restart=on-failure means.
	check "third (not enabled) was not started at boot" "unit $(systemctl is-active berth@third)" \
		test "$(systemctl is-active berth@third)" = inactive
	systemctl start berth@third.service
	check "systemctl start berth@third: active (ready)" "unit $(systemctl is-active berth@third)" \
		test "$(systemctl is-active berth@third)" = active
	mon=$(prop third MainPID)
	kill -KILL "$mon"
	for _ in $(seq 150); do
		[ "$(prop third NRestarts)" = 1 ] && [ "$(systemctl is-active berth@third)" = active ] && break
		sleep 0.2
	done
	s=$(berth status third --json 2>&1)
	check "monitor of third killed: systemd restarts the unit (Restart=on-failure), third runs again" \
		"NRestarts $(prop third NRestarts), unit $(systemctl is-active berth@third), status $(jget state "$s"), monitor $(jget monitor_pid "$s") (old $mon)" \
		test "$(prop third NRestarts)" = 1 -a "$(jget state "$s")" = running \
		-a "$(jget monitor_pid "$s")" = "$(prop third MainPID)" -a "$(prop third MainPID)" != "$mon"
	berth exec third -- poweroff >/dev/null 2>&1
	for _ in $(seq 150); do
		[ "$(systemctl is-active berth@third)" = inactive ] && break
		sleep 0.2
	done
	sleep 7 # past RestartSec=5: a restart would have begun
	s=$(berth status third --json 2>&1)
	check "poweroff inside third: the unit stops with result success and is not restarted" \
		"unit $(systemctl is-active berth@third), result $(prop third Result), status $(jget state "$s"), last exit '$(jget last_exit "$s")'" \
		test "$(systemctl is-active berth@third)" = inactive -a "$(prop third Result)" = success \
		-a "$(jget state "$s")" = stopped \
		-a "$(jget last_exit "$s")" = poweroff
	# A stop timeout longer than the unit's TimeoutStopSec: berth stop (ExecStop)
	# asks systemd for more time (EXTEND_TIMEOUT_USEC), so systemd waits for it.
	systemctl start berth@third.service
	t0=$(date +%s%N)
	systemctl stop berth@third.service
	t1=$(date +%s%N)
	s=$(berth status third --json 2>&1)
	check "stop timeout 12 s > TimeoutStopSec=5: systemd waits for berth stop (>= 12 s), result success" \
		"took $(((t1 - t0) / 1000000)) ms, result $(prop third Result), status $(jget state "$s"), last exit '$(jget last_exit "$s")'" \
		test $(((t1 - t0) / 1000000000)) -ge 12 -a "$(prop third Result)" = success \
		-a "$(jget state "$s")" = stopped -a "$(jget last_exit "$s")" = "killed by SIGKILL"
	# For the record (docs/SYSTEMD.md shows it): what an operator sees.
	SYSTEMD_COLORS=0 systemctl status --no-pager --lines=0 berth@second.service 2>&1 | sed 's/^/# /'
	echo "$fail $pass" >"$FAILS"
	sync
	exit 0
fi

# shutdown: the instances' units have stopped (this unit is ordered before them).
read -r fail pass <"$FAILS" 2>/dev/null || { fail=1 pass=0; echo "not ok - the boot half did not run"; }
s=$(berth status second --json 2>&1)
check "at poweroff, second was stopped gracefully first: stopped, last exit poweroff" \
	"status $(jget state "$s"), last exit '$(jget last_exit "$s")'" \
	test "$(jget state "$s")" = stopped -a "$(jget last_exit "$s")" = poweroff
check "second's console log ends with its clean stop" "$(tail -c 300 /var/log/berth/second/console.log)" \
	grep -q 'berth: second stopped: poweroff' /var/log/berth/second/console.log
echo "vm-systemd: $pass passed, $fail failed, 0 skipped"
echo "berth-vm: exit $((fail > 0 ? 1 : 0)) $(cat /vm/nonce)"
