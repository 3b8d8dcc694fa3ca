#!/bin/bash
# SPDX-License-Identifier: MIT
#
# berth instances, on busybox-init instances: create, start, stop, restart,
# kill, delete, reboot and poweroff from inside, exec, console, a lost monitor,
# concurrent and interrupted starts, refusals. Root, this host.
#
#   instances.sh BERTH PTY
#
# BERTH is the built berth binary, PTY the berth-pty helper (runs a command on
# a pty and types at it). Needs root (else exits 77, meson's "skipped").
# Re-executes itself in a private mount namespace where every host cgroup v1
# mount point is covered by an empty tmpfs, so a booting init cannot reach the
# host's v1 hierarchies. State lives under a temp --root removed at the end;
# every instance made is deleted at the end (trap), even on failure, and any
# cgroup or monitor it leaves is removed. Each test prints "ok - NAME",
# "ok - NAME # SKIP why" or "not ok - NAME: why"; the last line is
# "instances: N passed, N failed, N skipped"; the exit status is 1 on any
# failure. The harness itself is in lib.sh.
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside the instance
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init instances "berth instance tests"
need_args "BERTH PTY" "$@"
need_root "namespaces, mounts, cgroups"
BERTH=$(realpath -e "$1") || exit 2
PTY=$(realpath -e "$2") || exit 2
need_tools unshare mount env find stat timeout
private_mntns BERTH_INST_HOST_MNTNS "$BERTH" "$PTY"

find_cgroup2
work_dirs berth-inst-it berth-inst-root
nap_init
cover_cgroup_v1 berth-inst-cover
# The harness and everything it starts (berth, and the monitors berth leaves
# behind) live in a cgroup of their own: whatever is left there at the end is
# ours to kill.
harness_cgroup berth-inst-it

# Instance names carry our pid, so that leftovers of a killed run are easy to
# tell apart (cgroups are per --root: <cgroup2>/berth-HASH/NAME).
N=bi$$
A=$N-a B=$N-b C=$N-c D=$N-d X=$N-x
MADE=() # every instance name we may have created, for the cleanup
BGPIDS=()

cleanup() {
	local p n leaf
	trap '' INT TERM HUP PIPE # finish cleaning up even if stdout is gone
	# No nap (read -t) here: the trap may have interrupted one.
	for p in "${BGPIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "${MADE[@]}"; do
		if [ -e "$R/lib/instances/$n" ] || [ -e "$CG/$BCG/$n" ]; then
			timeout --signal=KILL 20 env --default-signal "$BERTH" --root "$R" delete --force "$n" \
				>/dev/null 2>&1 </dev/null
		fi
		leaf=$CG/$BCG/$n
		if [ -d "$leaf" ]; then
			echo "# cleanup: berth delete --force $n left $leaf; killing what is in it" >&2
			echo 1 >"$leaf/cgroup.kill" 2>/dev/null
			for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$leaf" 2>/dev/null && break; sleep 0.1; done
		fi
		for p in $(monitors "$n"); do
			echo "# cleanup: killing monitor $p of $n" >&2
			kill -KILL "$p" 2>/dev/null
		done
	done
	cleanup_harness
}
trap cleanup EXIT

# --- running berth -------------------------------------------------------------

# brun ARGS...: berth --root R ARGS, stdin /dev/null, 30 s limit. Sets RC, OUT,
# ERR. Redirections on the call (e.g. 9>file) reach berth.
brun() { berth_run 30 "$@"; }


# --- what a user checks: status, processes, cgroups ----------------------------

# st NAME: berth status NAME --json into S_STATE, S_INIT, S_MON, S_MONALIVE,
# S_BOOTS, S_LAST (without touching RC, OUT, ERR).
st() {
	local out rc
	out=$(timeout --signal=KILL 30 env --default-signal "$BERTH" --root "$R" status "$1" --json 2>&1 </dev/null)
	rc=$?
	if [ "$rc" != 0 ]; then
		S_STATE="(berth status failed, exit $rc: $out)" S_INIT='' S_MON='' S_MONALIVE='' S_BOOTS='' S_LAST=''
		return 1
	fi
	S_STATE=$(jget state "$out") S_INIT=$(jget init_pid "$out") S_MON=$(jget monitor_pid "$out")
	S_MONALIVE=$(jget monitor_alive "$out") S_BOOTS=$(jget boots "$out") S_LAST=$(jget last_exit "$out")
}
is_state() { st "$1" && [ "$S_STATE" = "$2" ]; }

# pstart PID: the start time of a live (not zombie) process, empty if none.
pstart() {
	local s f
	[ -n "$1" ] && [ "$1" != 0 ] || return 0
	read -r s 2>/dev/null <"/proc/$1/stat" || return 0
	s=${s##*) }
	read -r -a f <<<"$s"
	[ "${f[0]}" != Z ] && [ "${f[0]}" != X ] && echo "${f[19]}"
}
alive() { [ -n "$(pstart "$1")" ]; }
# cgprocs NAME: the processes in the instance's cgroup.
cgprocs() { [ -r "$CG/$BCG/$1/cgroup.procs" ] && tr '\n' ' ' <"$CG/$BCG/$1/cgroup.procs"; }
# inits NAME: the processes in the instance's cgroup that are PID 1 of a PID namespace.
inits() {
	local p l found=''
	for p in $(cgprocs "$1"); do
		while read -r l; do
			[[ "$l" == NSpid:* ]] && [ "${l##*[[:space:]]}" = 1 ] && found+="$p "
		done <"/proc/$p/status" 2>/dev/null
	done
	echo "${found% }"
}
# monitors NAME: live berth processes of ours (this --root) whose arguments
# name instance NAME: its monitors, when no berth command of ours runs.
monitors() {
	local d p a found=''
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		mapfile -d '' -t a 2>/dev/null <"$d/cmdline" || continue
		[ "${#a[@]}" -ge 5 ] && [ "${a[0]}" = "$BERTH" ] && [ "${a[2]}" = "$R" ] || continue
		[[ " ${a[*]:3} " == *" $1 "* ]] || continue
		alive "$p" && found+="$p "
	done
	echo "${found% }"
}
logins() { grep -ao 'login:' "$R/log/$1/console.log" 2>/dev/null | wc -l; }
# The instance's config dir, run dir and log dir that exist.
files_of() { find "$R/lib/instances/$1" "$R/run/$1" "$R/log/$1" -maxdepth 0 2>/dev/null; }
tree() { find "$R" -printf '%y %p\n' 2>/dev/null | sort; }
mycgroups() { find "$CG/$BCG" -mindepth 1 -maxdepth 1 -type d -name "$N*" -printf '%f ' 2>/dev/null; }

# running_one NAME: assert the instance runs once: state running, exactly one
# init (= status's init_pid), exactly one monitor (= status's monitor_pid, alive).
running_one() {
	local i m
	st "$1"
	[ "$S_STATE" = running ] || why "status says $(q "$S_STATE"), want running"
	i=$(inits "$1")
	[ -n "$i" ] && [ "$i" = "${i%% *}" ] || why "PID-1 processes in $CG/$BCG/$1: $(q "$i"), want exactly one"
	[ "$S_INIT" = "$i" ] || why "status init_pid $(q "$S_INIT"), the cgroup's init is $(q "$i")"
	m=$(monitors "$1")
	[ -n "$m" ] && [ "$m" = "${m%% *}" ] || why "monitor processes: $(q "$m"), want exactly one"
	[ "$S_MON" = "$m" ] || why "status monitor_pid $(q "$S_MON"), the monitor is $(q "$m")"
	[ "$S_MONALIVE" = true ] || why "status monitor_alive $(q "$S_MONALIVE")"
}
# stopped_clean NAME [OLD MONITOR PID]: assert stopped, no cgroup, no monitor.
stopped_clean() {
	st "$1"
	[ "$S_STATE" = stopped ] || why "status says $(q "$S_STATE"), want stopped"
	[ ! -e "$CG/$BCG/$1" ] || why "cgroup $CG/$BCG/$1 still there (procs: $(q "$(cgprocs "$1")"))"
	[ -z "$(monitors "$1")" ] || why "monitor still running: $(monitors "$1")"
	[ -z "${2:-}" ] || ! alive "$2" || why "monitor $2 still running"
}
# gone NAME: nothing of the instance is left anywhere.
gone() {
	[ -z "$(files_of "$1")" ] || why "left: $(files_of "$1" | tr '\n' ' ')"
	[ ! -e "$CG/$BCG/$1" ] || why "cgroup $CG/$BCG/$1 still there"
	[ -z "$(monitors "$1")" ] || why "monitor still running: $(monitors "$1")"
}
# wait_login NAME [COUNT]: until the console log shows COUNT (default 1) login prompts.
wait_login() { until_ 20 eval "[ \"\$(logins $1)\" -ge ${2:-1} ]"; }

HOSTNAME_START=$(hostname)
echo marker >"$WORK/marker"

# --- create, and refusals that change nothing ----------------------------------

begin "create: exit 0; config and writable layer made, no cgroup, status stopped"
MADE+=("$A")
brun create "$A"
want_rc 0
[ -f "$R/lib/instances/$A/config.json" ] || why "no $R/lib/instances/$A/config.json"
[ -d "$R/lib/instances/$A/rw" ] || why "no $R/lib/instances/$A/rw"
[ ! -e "$CG/$BCG/$A" ] || why "cgroup $CG/$BCG/$A exists before start"
st "$A"
[ "$S_STATE" = stopped ] || why "status says $(q "$S_STATE"), want stopped"
end
[ -f "$R/lib/instances/$A/config.json" ] || bail "berth create failed; cannot go on"

# check_refused MENTION ARGS...: berth ARGS is refused (exit 125, one 'berth: '
# line mentioning MENTION) and nothing under --root or in the berth cgroups changed.
check_refused() {
	local mention=$1 before cgs
	shift
	before=$(tree) cgs=$(mycgroups)
	brun "$@"
	want_refused "$mention"
	[ "$(tree)" = "$before" ] ||
		why "files under --root changed: $(diff <(echo "$before") <(tree) | grep '^[<>]' | head -3 | tr '\n' '|')"
	[ "$(mycgroups)" = "$cgs" ] || why "cgroups changed: $(q "$(mycgroups)"), were $(q "$cgs")"
}

LONG=$(printf 'a%.0s' {1..64})
for bad in Bad_Name .. a/b '' "$LONG" -x; do
	begin "create $(q "$bad") is refused, naming the name and the rule; nothing made"
	if [ -z "$bad" ]; then mention=empty; else mention="\"$bad\""; fi
	check_refused "$mention" create -- "$bad"
	grep -qF "a-z" <<<"$ERR" || why "stderr does not give the rule (a-z, 0-9, -): $(q "$ERR")"
	case $bad in '' | ..) ;; *) [ ! -e "$CG/$BCG/$bad" ] || why "cgroup $CG/$BCG/$bad made" ;; esac
	end
done
begin "create -x (no --) is refused as an unknown option; nothing made"
check_refused "'-x'" create -x
end
for verb in start stop restart "delete --force" status "console --log" kill exec; do
	for bad in .. a/b; do
		extra=()
		[ "$verb" != exec ] || extra=(-- true)
		begin "$verb $(q "$bad") is refused; nothing changed"
		# shellcheck disable=SC2086 # the verb's words split on purpose
		check_refused "\"$bad\"" $verb "$bad" "${extra[@]}"
		end
	done
done

MADE+=("$X")
begin "create with an unknown template is refused, naming it; nothing made"
check_refused '"nope"' create "$X" --template nope
end

begin "create with an unknown option is refused, naming it; nothing made"
check_refused --bogus create "$X" --bogus
end

begin "start with an unknown option is refused, naming it; the instance stays stopped"
check_refused --bogus start "$A" --bogus
is_state "$A" stopped || why "status says $(q "$S_STATE")"
end

begin "create of an existing name is refused (already exists); its config unchanged"
cp "$R/lib/instances/$A/config.json" "$WORK/config.before"
check_refused "already exists" create "$A" --hostname other-name
cmp -s "$WORK/config.before" "$R/lib/instances/$A/config.json" || why "config.json changed"
end

begin "start of an instance that does not exist is refused, naming it; nothing made"
check_refused "$X" start "$X"
end

# --- start, status, exec --------------------------------------------------------

begin "start: exit 0; status --json: running, init_pid is the PID 1 in berth/NAME, one monitor"
brun start "$A" 9>"$WORK/marker"
want_rc 0
running_one "$A"
[ -d "$CG/$BCG/$A" ] || why "no cgroup $CG/$BCG/$A"
brun list
grep -qE "^$A +running " <<<"$OUT" || why "berth list does not show $A running: $(q "$OUT")"
end

begin "start: the monitor and the instance keep none of the caller's open files (fd 9 on a file)"
held=''
for p in $(monitors "$A") $(cgprocs "$A"); do
	for f in /proc/"$p"/fd/*; do
		[ "$(readlink "$f")" != "$WORK/marker" ] || held+=" $p(${f##*/})"
	done
done
[ -z "$held" ] || why "still open in pid(fd):$held"
end

begin "exec -- cat /proc/1/comm is init"
brun exec "$A" -- cat /proc/1/comm
want_ok init
end

begin "exec: the exit status passes through (sh -c 'exit 42' gives 42)"
brun exec "$A" -- sh -c 'exit 42'
want_rc 42
end

begin "exec -u nobody: uid and gid 65534 inside"
brun exec -u nobody "$A" -- sh -c 'id -u; id -g'
want_ok $'65534\n65534'
end

begin "exec -w /tmp: pwd is /tmp"
brun exec -w /tmp "$A" -- pwd
want_ok /tmp
end

begin "exec -e FOO=bar: \$FOO is bar"
brun exec -e FOO=bar "$A" -- sh -c 'echo $FOO'
want_ok bar
end

begin "exec: only fds 0-2 reach the command (the caller had 7 and 9 open too)"
brun exec "$A" -- sh -c 'ls /proc/$$/fd; :' 7<"$WORK/marker" 9>>"$WORK/marker2"
want_ok $'0\n1\n2'
end

begin "exec -t: the command's terminal is a pty of the instance's own /dev/pts"
prun -T 15 -- exec -t "$A" -- sh -c 't=$(tty) && echo "$t" &&
	[ "$(stat -c %d:%i "$t")" = "$(stat -L -c %d:%i /proc/self/fd/0)" ] && echo same-file'
want_rc 0
# shellcheck disable=SC1011 # $'\n' is a newline in the pattern, not a quote
[[ "$OUT" =~ ^/dev/pts/[0-9]+$'\n'same-file$ ]] ||
	why "printed $(q "$OUT"), want /dev/pts/N and same-file (stdin is that file in the instance)$(errhint)"
end

begin "exec -t: stdin, stdout, stderr are a terminal with the caller's window size, only fds 0-2"
prun -T 15 -s 30x100 -- exec -t "$A" -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo all-tty; stty size; ls -1 /proc/$$/fd; :'
want_ok $'all-tty\n30 100\n0\n1\n2'
end

begin "exec -t: what the user types reaches the command; its exit status passes through"
prun -T 15 expect=ready send='typed-line\r' -- exec -t "$A" -- sh -c 'echo ready; read -r x; echo "got:$x"; exit 7'
want_rc 7
grep -qx 'got:typed-line' <<<"$OUT" || why "the terminal showed $(q "$OUT"), want a line got:typed-line$(errhint)"
end

# --- console --------------------------------------------------------------------

wait_login "$A" || echo "# no login: prompt in $A's console log after 20 s" >&2

begin "console: attach shows the getty's login: prompt; Ctrl-a q detaches, exit 0, still running"
prun -T 15 send='\r' expect='login:' send='\001q' -- console "$A"
want_rc 0
is_state "$A" running || why "status says $(q "$S_STATE") after the detach"
end

# Logging in as root: "root", Enter; root's password is empty, so Enter again
# if login asks for it.
LOGIN=(send='root\r' when='Password:=>\r' unless='Login incorrect' expect='# ')

begin "console: root logs in at the prompt with an empty password (root, Enter; Enter if asked): a shell prompt"
prun -T 15 send='\r' expect='login:' "${LOGIN[@]}" send='exit\r' expect='login:' send='\001q' -- console "$A"
want_rc 0
LOGIN_OK=$RC
end

begin "console: a command typed at the shell shows its output; Ctrl-a q detaches; console --log has it"
if [ "$LOGIN_OK" != 0 ]; then
	# Keep this test about the console relay despite the failure above: let
	# root in without a password, and have init respawn a fresh getty.
	echo "# working around the failed login: root:: in $A's /etc/passwd (its own layer)" >&2
	n0=$(logins "$A")
	brun exec "$A" -- sh -c 'sed -i "s/^root:[^:]*:/root::/" /etc/passwd && kill $(pidof login getty)'
	[ "$RC" = 0 ] || why "the workaround failed: exit $RC$(errhint)"
	wait_login "$A" $((n0 + 1)) || why "no new login prompt after the workaround"
fi
prun -T 20 send='\r' expect='login:' "${LOGIN[@]}" send="echo con\"\"sole-ok-$$\\r" \
	expect="console-ok-$$" send='exit\r' expect='login:' send='\001q' -- console "$A"
want_rc 0
grep -qx "console-ok-$$" <<<"$OUT" || why "the console did not show console-ok-$$: $(q "$(tail -c 300 <<<"$OUT")")$(errhint)"
brun console "$A" --log
want_rc 0
grep -qa "^console-ok-$$" <<<"$OUT" || why "console --log does not have console-ok-$$"
end

# --- reboot, restart, kill, stop, poweroff ------------------------------------------

begin "exec -- reboot: it boots again (new init, boots +1, a second login prompt and a reboot note in the log), same name, one cgroup, one monitor"
st "$A"
init0=$S_INIT boots0=$S_BOOTS mon0=$S_MON start0=$(pstart "$S_INIT") logins0=$(logins "$A")
brun exec "$A" -- reboot
want_rc 0
if until_ 20 eval 'st "$A" && [ "$S_STATE" = running ] && [ -n "$S_INIT" ] && [ "$S_INIT" != "$init0" ]'; then
	start1=$(pstart "$S_INIT")
	[ -n "$start1" ] && [ -n "$start0" ] && ((start1 > start0)) ||
		why "init start time $(q "$start1"), was $(q "$start0")"
	[ "$S_BOOTS" = $((boots0 + 1)) ] || why "boots $(q "$S_BOOTS"), want $((boots0 + 1))"
	[ "$S_LAST" = reboot ] || why "last exit $(q "$S_LAST"), want reboot"
	running_one "$A"
	[ "$S_MON" = "$mon0" ] || why "monitor $S_MON, was $mon0 (one monitor across the reboot)"
	wait_login "$A" $((logins0 + 1)) || why "console log: $(logins "$A") login prompts, want $((logins0 + 1))"
	grep -qaF "[berth: $A rebooting" "$R/log/$A/console.log" || why "no '[berth: $A rebooting' in the console log"
	[ "$(mycgroups)" = "$A " ] || why "berth cgroups of this run: $(q "$(mycgroups)"), want only $A"
	brun list
	[ "$(grep -c "^$A " <<<"$OUT")" = 1 ] || why "berth list shows $A $(grep -c "^$A " <<<"$OUT") times"
else
	why "not running again with a new init within 20 s (status: $(q "$S_STATE"), init $(q "$S_INIT"), was $init0)"
fi
end

begin "restart of a running instance reboots it: exit 0 once the new init runs, boots +1"
st "$A"
init0=$S_INIT boots0=$S_BOOTS
brun restart "$A"
want_rc 0
running_one "$A"
[ "$S_INIT" != "$init0" ] || why "same init $init0"
alive "$S_INIT" || why "the new init ($(q "$S_INIT")) does not run"
[ "$S_BOOTS" = $((boots0 + 1)) ] || why "boots $(q "$S_BOOTS"), want $((boots0 + 1))"
end

begin "kill NAME TERM: busybox init takes it as reboot: running again, boots +1"
st "$A"
init0=$S_INIT boots0=$S_BOOTS
brun kill "$A" TERM
want_rc 0
if until_ 20 eval 'st "$A" && [ "$S_STATE" = running ] && [ -n "$S_INIT" ] && [ "$S_INIT" != "$init0" ]'; then
	running_one "$A"
	[ "$S_BOOTS" = $((boots0 + 1)) ] || why "boots $(q "$S_BOOTS"), want $((boots0 + 1))"
	[ "$S_LAST" = reboot ] || why "last exit $(q "$S_LAST"), want reboot"
else
	why "not running again with a new init within 20 s (status: $(q "$S_STATE"))"
fi
end

begin "stop: a busybox instance stops within its own shutdown time plus margin (< 4 s); stopped, cgroup and monitor gone"
st "$A"
mon0=$S_MON init0=$S_INIT
now_us
t0=$NOW
brun stop "$A"
now_us
ms=$(((NOW - t0) / 1000))
want_rc 0
((ms < 4000)) || why "stop took $ms ms"
stopped_clean "$A" "$mon0"
! alive "$init0" || why "init $init0 still runs"
echo "# stop took $ms ms"
end

begin "restart of a stopped instance starts it: exit 0, running, boots +1"
st "$A"
boots0=$S_BOOTS
brun restart "$A"
want_rc 0
running_one "$A"
[ "$S_BOOTS" = $((boots0 + 1)) ] || why "boots $(q "$S_BOOTS"), want $((boots0 + 1))"
end

begin "stop --force: under 1 s, exit 0, nothing on stderr; stopped, cgroup and monitor gone"
st "$A"
mon0=$S_MON
now_us
t0=$NOW
brun stop --force "$A"
now_us
ms=$(((NOW - t0) / 1000))
want_rc 0
[ -z "$ERR" ] || why "stderr $(q "$ERR")"
((ms < 1000)) || why "stop --force took $ms ms"
stopped_clean "$A" "$mon0"
echo "# stop --force took $ms ms"
end

begin "exec -- poweroff: stopped, last exit poweroff, monitor gone, cgroup removed"
brun start "$A"
want_rc 0
st "$A"
mon0=$S_MON
brun exec "$A" -- poweroff
want_rc 0
if until_ 20 is_state "$A" stopped; then
	[ "$S_LAST" = poweroff ] || why "last exit $(q "$S_LAST"), want poweroff"
	until_ 2 eval '! alive "$mon0"' || why "monitor $mon0 still runs"
	stopped_clean "$A" "$mon0"
	grep -qaF "[berth: $A stopped: poweroff" "$R/log/$A/console.log" || why "no '[berth: $A stopped: poweroff' in the console log"
else
	why "not stopped within 20 s (status: $(q "$S_STATE"))"
fi
end

begin "kill NAME KILL: stopped, last exit 'killed by SIGKILL', cgroup and monitor gone"
brun start "$A"
want_rc 0
st "$A"
mon0=$S_MON
brun kill "$A" KILL
want_rc 0
if until_ 10 is_state "$A" stopped; then
	[ "$S_LAST" = "killed by SIGKILL" ] || why "last exit $(q "$S_LAST"), want 'killed by SIGKILL'"
	until_ 2 eval '! alive "$mon0"' || why "monitor $mon0 still runs"
	stopped_clean "$A" "$mon0"
else
	why "not stopped within 10 s (status: $(q "$S_STATE"))"
fi
end

# --- two instances ----------------------------------------------------------------

MADE+=("$B")
brun start "$A"
[ "$RC" = 0 ] || echo "# start $A: exit $RC: $ERR" >&2
brun create "$B"
[ "$RC" = 0 ] || echo "# create $B: exit $RC: $ERR" >&2
brun start "$B"
[ "$RC" = 0 ] || echo "# start $B: exit $RC: $ERR" >&2

begin "two instances: a process in one is invisible in the other (ps, /proc)"
brun exec "$B" -- sh -c 'sleep 4242 </dev/null >/dev/null 2>&1 & echo started'
want_ok started
brun exec "$B" -- ps -o args
grep -q '^sleep 4242' <<<"$OUT" || why "B's ps does not show its own sleep 4242: check cannot tell ($(q "$OUT"))"
brun exec "$A" -- ps -o args
want_rc 0
grep -q 'sleep 4242' <<<"$OUT" && why "A's ps shows B's sleep 4242"
nA=$(wc -w <<<"$(cgprocs "$A")")
brun exec "$A" -- ls /proc
inside=$(grep -cx '[0-9]*' <<<"$OUT")
((inside <= nA + 2)) || why "A's /proc lists $inside processes; A's cgroup holds $nA"
iA=$(inits "$A") iB=$(inits "$B")
[ -n "$iA" ] && [ -n "$iB" ] && [ "$(readlink "/proc/$iA/ns/pid")" != "$(readlink "/proc/$iB/ns/pid")" ] ||
	why "A and B do not have PID namespaces of their own"
end

begin "two instances: a file written in one is absent in the other and in the template"
brun exec "$A" -- sh -c "echo secret-$$ >/root/only-in-a && cat /root/only-in-a"
want_ok "secret-$$"
brun exec "$B" -- cat /root/only-in-a
[ "$RC" != 0 ] || why "B reads A's file: $(q "$OUT")"
[ ! -e "$R/lib/templates/default/root/only-in-a" ] || why "the file is in the template on the host"
end

begin "two instances: each has its own hostname (its name); setting one changes neither the other nor the host"
brun exec "$A" -- hostname
want_ok "$A"
brun exec "$B" -- hostname
want_ok "$B"
brun exec "$A" -- sh -c 'hostname renamed-a && hostname'
want_ok renamed-a
brun exec "$B" -- hostname
want_ok "$B"
[ "$(hostname)" = "$HOSTNAME_START" ] || why "the host's hostname changed to $(hostname)"
end

# --- a lost monitor -------------------------------------------------------------------

begin "monitor SIGKILLed: status says 'running (monitor lost)'; exec and console --log work; stop stops it, no cgroup left"
wait_login "$B" || why "no login prompt in $B's console log"
st "$B"
mon0=$S_MON init0=$S_INIT
if [ -n "$mon0" ] && [ "$mon0" != 0 ] && alive "$mon0"; then
	kill -KILL "$mon0" # the monitor our berth start left
	until_ 5 eval '! alive "$mon0"' || why "monitor $mon0 survived SIGKILL"
	brun status "$B"
	want_rc 0
	grep -qE '^state: +running \(monitor lost\)$' <<<"$OUT" || why "status: $(q "$(grep '^state' <<<"$OUT")")"
	alive "$init0" || why "init $init0 died with its monitor"
	brun exec "$B" -- echo still-here
	want_ok still-here
	brun console "$B" --log
	want_rc 0
	grep -qa 'login:' <<<"$OUT" || why "console --log has no login prompt: $(q "$(tail -c 200 <<<"$OUT")")"
	brun stop "$B"
	want_rc 0
	stopped_clean "$B" "$mon0"
	! alive "$init0" || why "init $init0 still runs"
else
	why "no monitor to kill (status monitor_pid $(q "$mon0"))"
fi
end

# --- concurrency, delete ----------------------------------------------------------

begin "ten concurrent start of one instance: all exit 0, one instance (one init, one monitor)"
MADE+=("$C")
brun create "$C"
want_rc 0
pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	env --default-signal "$BERTH" --root "$R" start "$C" >"$WORK/cs$i.out" 2>"$WORK/cs$i.err" </dev/null &
	pids+=($!)
	BGPIDS+=($!)
done
i=0
for p in "${pids[@]}"; do
	wait_job "$p" 30
	[ "$TIMEDOUT" = 0 ] || why "start #$i did not exit within 30 s"
	[ "$RC" = 0 ] || why "start #$i: exit $RC ($(q "$(<"$WORK/cs$i.err")"))"
	i=$((i + 1))
done
BGPIDS=()
running_one "$C"
end

begin "delete of a running instance without --force is refused (125, says --force); it keeps running"
st "$C"
init0=$S_INIT
brun delete "$C"
want_refused "--force"
is_state "$C" running || why "status says $(q "$S_STATE")"
[ "$S_INIT" = "$init0" ] || why "init is $(q "$S_INIT"), was $init0"
[ -f "$R/lib/instances/$C/config.json" ] || why "its config is gone"
end

begin "delete --force of a running instance: exit 0; no files, cgroup or monitor left; gone from list"
brun delete --force "$C"
want_rc 0
gone "$C"
brun list
grep -q "^$C " <<<"$OUT" && why "berth list still shows it"
brun status "$C"
[ "$RC" = 125 ] || why "status of the deleted instance: exit $RC, want 125"
end

# --- a start killed half-way ----------------------------------------------------------

begin "a start SIGKILLed half-way (after 0-40 ms, 7 times): each next start works (one init, one monitor), stop and delete leave nothing"
MADE+=("$D")
brun create "$D"
want_rc 0
killed=0
for delay in 0 0.001 0.003 0.006 0.01 0.02 0.04; do
	env --default-signal "$BERTH" --root "$R" start "$D" >/dev/null 2>"$WORK/half.err" </dev/null &
	p=$!
	BGPIDS=("$p")
	[ "$delay" = 0 ] || nap "$delay"
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	[ $? != 137 ] || killed=$((killed + 1))
	BGPIDS=()
	CTX="start killed after ${delay}s"
	brun start "$D"
	[ "$RC" = 0 ] || why "the next start: exit $RC$(errhint)"
	running_one "$D"
	brun stop --force "$D"
	[ "$RC" = 0 ] || why "stop --force: exit $RC$(errhint)"
	stopped_clean "$D"
	# shellcheck disable=SC2034 # CTX: read by why (lib.sh)
	CTX=''
done
echo "# $killed of 7 starts were killed before they returned"
((killed > 0)) || why "every start finished before the kill: check cannot tell"
brun delete "$D"
want_rc 0
gone "$D"
end

# --- freeze, thaw, stats -----------------------------------------------------------

E=$N-e
MADE+=("$E")
# counter: the value the instance's counter loop last wrote (read from the host:
# exec is refused while frozen).
counter() { cat "/proc/$S_INIT/root/tmp/counter" 2>/dev/null; }
begin "freeze: exit 0; a counter loop inside stops (its file stops changing); status says frozen"
brun create "$E"
want_rc 0
brun start "$E"
want_rc 0
brun exec "$E" -- sh -c '(i=0; while :; do i=$((i+1)); echo $i >/tmp/counter; usleep 20000; done) </dev/null >/dev/null 2>&1 &'
want_rc 0
st "$E"
until_ 5 eval '[ -n "$(counter)" ]' || why "the counter loop never wrote /tmp/counter"
brun freeze "$E"
want_ok ''
c0=$(counter)
nap 0.5
c1=$(counter)
[ -n "$c0" ] && [ "$c0" = "$c1" ] || why "the counter moved while frozen: $(q "$c0") -> $(q "$c1")"
brun status "$E"
grep -qE '^state: +frozen$' <<<"$OUT" || why "status: $(q "$(grep '^state' <<<"$OUT")"), want frozen"
out=$(timeout --signal=KILL 30 "$BERTH" --root "$R" status "$E" --json 2>&1 </dev/null)
[ "$(jget frozen "$out")" = true ] || why "status --json frozen: $(q "$(jget frozen "$out")"), want true"
brun exec "$E" -- true
want_refused frozen
end

begin "thaw: exit 0; the counter moves again; status says running, not frozen"
brun thaw "$E"
want_ok ''
c0=$(counter)
until_ 5 eval '[ "$(counter)" != "$c0" ]' || why "the counter did not move after thaw (stuck at $(q "$c0"))"
running_one "$E"
out=$(timeout --signal=KILL 30 "$BERTH" --root "$R" status "$E" --json 2>&1 </dev/null)
[ "$(jget frozen "$out")" = false ] || why "status --json frozen: $(q "$(jget frozen "$out")"), want false"
end

begin "freeze of an instance that does not exist is refused, naming it"
brun freeze "$X"
want_refused "$X"
end

begin "stats NAME: a row for it with cpu time > 0, cpu% and pids (a number or '-'); exit 0"
brun stats "$E"
want_rc 0
row=$(grep -E "^$E " <<<"$OUT")
read -r -a f <<<"$row"
# NAME STATE CPU% CPU-TIME MEM PEAK LIMIT SWAP SWAP-LIM PIDS LIMIT READ WRITE R-OPS W-OPS OOMK THROTTLED
# NET-RX RX-PKTS NET-TX TX-PKTS
[ "${#f[@]}" = 21 ] || why "row $(q "$row"): ${#f[@]} columns, want 21"
[[ "${f[17]:-}" =~ ^[0-9.]+[BKMGTPE]$ ]] || why "net rx $(q "${f[17]:-}"): not a size (it has the default network)"
[ "${f[1]:-}" = running ] || why "state $(q "${f[1]:-}"), want running"
[[ "${f[2]:-}" =~ ^[0-9]+\.[0-9]$ ]] || why "cpu% $(q "${f[2]:-}"): not a number (an interval was sampled)"
[[ "${f[3]:-}" =~ ^[0-9]+\.[0-9]{2}s$ ]] && [ "${f[3]}" != 0.00s ] || why "cpu time $(q "${f[3]:-}"), want > 0"
[[ "${f[9]:-}" =~ ^([0-9]+|-)$ ]] || why "pids $(q "${f[9]:-}"): neither a number nor '-'"
end

begin "stats --json: parses (python3); cpu_usage_usec > 0, cpu_millicores a number, each key present (null when unavailable)"
brun stats "$E" --json --interval 0.3
want_rc 0
py=$(python3 -c '
import json, sys
keys = ["name", "state", "cpu_millicores", "cpu_usage_usec", "cpu_user_usec", "cpu_system_usec",
        "cpu_nr_throttled", "cpu_throttled_usec", "memory_current", "memory_peak", "memory_max",
        "swap_current", "swap_max", "oom", "oom_kill", "pids_current", "pids_max",
        "io_read_bytes", "io_write_bytes", "io_read_ops", "io_write_ops",
        "net_rx_bytes", "net_rx_packets", "net_tx_bytes", "net_tx_packets",
        "net_rx_dropped", "net_tx_dropped"]
d = json.load(sys.stdin)
assert isinstance(d, list) and len(d) == 1, "want one entry, got %r" % d
e = d[0]
missing = [k for k in keys if k not in e]
assert not missing, "missing keys %s" % missing
assert e["name"] == sys.argv[1] and e["state"] == "running", e
assert isinstance(e["cpu_usage_usec"], int) and e["cpu_usage_usec"] > 0, e["cpu_usage_usec"]
assert isinstance(e["cpu_millicores"], int), e["cpu_millicores"]
for k in keys[4:]:
    assert e[k] is None or e[k] == "max" or isinstance(e[k], int), (k, e[k])
print("ok")' "$E" 2>&1 <<<"$OUT")
[ "$py" = ok ] || why "python3: $(q "$py")"
end

begin "stats (no NAME) lists the running instance; --interval 0 gives cpu% '-' and returns at once"
brun stats --interval 0
want_rc 0
grep -qE "^$E +running +- " <<<"$OUT" || why "no row '$E running -': $(q "$OUT")"
end

begin "stop of a frozen instance: exit 0 (thawed first: a clean halt, not the timeout); nothing left"
brun freeze "$E"
want_rc 0
now_us
t0=$NOW
brun stop "$E" --timeout 20
want_rc 0
now_us
((NOW - t0 < 15000000)) || why "stop took $(((NOW - t0) / 1000)) ms: it waited for the timeout"
stopped_clean "$E"
end

begin "stats of a stopped instance named explicitly: 'not running' on stderr, exit 1; freeze and thaw refused"
brun stats "$E"
want_rc 1
grep -qF "$E: not running" <<<"$ERR" || why "stderr $(q "$ERR") does not say '$E: not running'"
brun thaw "$E"
want_refused "not running"
brun freeze "$E"
want_refused "not running"
brun delete "$E"
want_rc 0
gone "$E"
end

# --- limits on this hybrid host (the cgroups issue) ---------------------------------

begin "create --memory 64M on a host whose cgroup2 lacks memory: refused, naming memory; nothing left"
L=$N-lim
MADE+=("$L")
if grep -qw memory "$CG/cgroup.controllers"; then
	skipping "this host's cgroup2 offers memory: the refusal is for hybrid hosts (tests/vm/limits.sh proves enforcement)"
else
	brun create "$L" --memory 64M
	want_rc 125
	case $ERR in *"memory"*"berth cannot enforce --memory here"*) ;; *) why "stderr $(q "$ERR"), want the missing memory controller named" ;; esac
	[ ! -e "$R/lib/instances/$L" ] || why "$R/lib/instances/$L was made"
	left=$(find "$R/lib/instances" -maxdepth 1 -name ".$L*" 2>/dev/null)
	[ -z "$left" ] || why "left: $left"
	[ ! -e "$CG/$BCG/$L" ] || why "cgroup $CG/$BCG/$L was made"
fi
end

# --- the device filter (the cgroups issue) -------------------------------------------

# devices_check NAME: in a running instance, mknod of a block device (sda,
# b 8:0) and opening it fail with EPERM; /dev/null reads.
devices_check() {
	brun exec "$1" -- sh -c 'head -c1 /dev/null && echo null-ok'
	[ "$RC" = 0 ] && [ "$OUT" = null-ok ] || why "reading /dev/null: exit $RC, $(q "$OUT$ERR")"
	brun exec "$1" -- sh -c 'rm -f /tmp/sda; mknod /tmp/sda b 8 0 && head -c1 /tmp/sda >/dev/null && echo opened'
	[ "$RC" != 0 ] || why "mknod b 8 0 and opening it worked: $(q "$OUT")"
	case $ERR in *"Operation not permitted"*) ;; *) why "stderr $(q "$ERR"), want EPERM (Operation not permitted)" ;; esac
}
DV=$N-dv DH=$N-dh
MADE+=("$DV" "$DH")
begin "device filter: in an instance, mknod b 8 0 fails (EPERM); /dev/null reads"
brun create "$DV"
want_rc 0
brun start "$DV"
want_rc 0
devices_check "$DV"
brun stop --force "$DV"
brun delete "$DV"
want_rc 0
gone "$DV"
end

begin "device filter: --userns=host (CAP_MKNOD as host root): mknod b 8 0 && head -c1 fails (EPERM); /dev/null reads"
brun create "$DH" --userns=host
want_rc 0
brun start "$DH"
want_rc 0
devices_check "$DH"
# The open is refused on its own: a node made from the host, outside the filter.
st "$DH"
if mknod "/proc/$S_INIT/root/root/sda" b 8 0; then
	brun exec "$DH" -- head -c1 /root/sda
	[ "$RC" != 0 ] || why "opening a host-made b 8 0 node worked"
	case $ERR in *"Operation not permitted"*) ;; *) why "stderr $(q "$ERR"), want EPERM" ;; esac
	rm -f "/proc/$S_INIT/root/root/sda"
else
	why "could not make /root/sda from the host"
fi
brun exec "$DH" -- sh -c 'mknod /tmp/mem c 1 1 && echo made'
[ "$RC" != 0 ] || why "mknod c 1 1 (/dev/mem) worked"
brun stop --force "$DH"
brun delete "$DH"
want_rc 0
gone "$DH"
end

# --- the end: delete what is left ---------------------------------------------------

begin "delete of stopped instances: exit 0; nothing left under --root, no cgroup, no monitor, no stray process"
brun stop --force "$A"
brun delete "$A"
want_rc 0
gone "$A"
brun delete "$B"
want_rc 0
gone "$B"
left=$(find "$R/lib/instances" "$R/run" "$R/log" -mindepth 1 2>/dev/null | head -5 | tr '\n' ' ')
[ -z "$left" ] || why "left under --root: $left"
[ -z "$(mycgroups)" ] || why "cgroups left: $(mycgroups)"
stray=''
mapfile -t procs <"$HCG/cgroup.procs"
for p in "${procs[@]}"; do
	[ "$p" = $$ ] || ! alive "$p" || stray+=" $p($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))"
done
[ -z "$stray" ] || why "processes left:$stray"
end

echo "instances: $PASS passed, $FAIL failed, $SKIPPED skipped"
[ "$FAIL" = 0 ]
