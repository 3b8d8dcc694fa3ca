#!/usr/bin/env bash
# instances-vs-lxc.sh [BERTH]: berth instances against LXC 5 containers, side by side in
# one run, on busybox-init systems: start-to-running, exec /bin/true, stop (graceful and
# forced), and the resident memory (PSS) of the per-instance monitor, with 1 and with
# BENCH_INSTANCES instances running. Prints a table of medians and ratios berth/LXC.
# Goals (issue 3): start and exec <= 0.8 x LXC; berth's monitor <= 300 KiB PSS.
# BERTH defaults to build/cli/berth. Needs root, lxc, busybox-static, hyperfine, unshare.
#
# Everything runs inside a private mount namespace in which cgroup2 is mounted at
# /sys/fs/cgroup (covering the host's v1 mounts in that namespace only; the host's
# /sys/fs/cgroup is never touched), so LXC sees a pure cgroup2 host and never a v1
# hierarchy. LXC containers have `lxc.net.0.type = empty` (no host network touched) and,
# by default, a user namespace (`lxc.idmap`, like berth's default). See
# tests/bench/README.md.
set -euo pipefail

RUNS=${BENCH_RUNS:-500}          # start, exec and stop --force: runs per tool
STOP_RUNS=${BENCH_STOP_RUNS:-10} # graceful stop (~2 s each: busybox init sleeps): runs per tool
WARMUP=${BENCH_WARMUP:-10}       # warm-up runs (start, exec, stop --force)
INSTANCES=${BENCH_INSTANCES:-10} # instances of each running for the shared-memory figure
LXC_MODE=${BENCH_LXC:-unprivileged}
RUN_ON_DISK=${BENCH_RUN_ON_DISK:-0} # 1: berth's run/ stays on TMP's disk instead of a tmpfs
# none: loopback only on both sides (berth --net none, lxc.net.0.type = empty). veth: berth's
# default routed network (a veth, an address and a host route per instance) against LXC with
# a veth (up, one address inside, host end in no bridge); both inside a network namespace of
# the benchmark's own (unshare -n), which plays the host's part.
NET=${BENCH_NET:-none}
LXC_IDMAP=2000000 # LXC's host id base in unprivileged mode (berth's default is 1000000)
TMP=              # scratch: berth root, LXC path, results; removed at exit

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'instances-vs-lxc: %s\n' "$*" >&2
	exit 1
}

# --- helpers run by hyperfine's --prepare (not timed) ----------------------------------

# ensure running|stopped berth BERTH ROOT NAME   /   ensure running|stopped lxc LXCPATH NAME
ensure() {
	local want=$1 tool=$2 state
	if [[ $tool == berth ]]; then
		local berth=$3 root=$4 name=$5
		# Both verbs are idempotent in berth (exit 0, a note on stderr). A failure is
		# logged (and counted in the report), then tried once more.
		local verb=(start "$name")
		[[ $want == running ]] || verb=(stop "$name" --force)
		if ! "$berth" --root "$root" "${verb[@]}"; then
			echo "FAILED: berth ${verb[*]} (untimed; trying again)" >&2
			"$berth" --root "$root" "${verb[@]}"
		fi
	else
		local path=$3 name=$4
		state=$(lxc-info -P "$path" -n "$name" -s -H)
		if [[ $want == running && $state != RUNNING ]]; then
			lxc-start -P "$path" -d -n "$name"
		elif [[ $want == stopped && $state != STOPPED ]]; then
			lxc-stop -P "$path" -n "$name" -k
		fi
	fi
}

# --- measurement helpers (inside the namespace) ----------------------------------------

kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/smaps_rollup"; }

berth_monitor() { sed -n 's/.*"monitor_pid": *\([0-9]*\).*/\1/p' "$1/run/$2/state.json"; }

# LXC's monitor is the parent of the container's init ("[lxc monitor] PATH NAME").
lxc_monitor() {
	local init ppid
	init=$(lxc-info -P "$1" -n "$2" -p -H)
	ppid=$(awk '{ print $4 }' "/proc/$init/stat")
	[[ $(tr '\0' ' ' <"/proc/$ppid/cmdline") == "[lxc monitor]"* ]] ||
		die "parent $ppid of LXC init $init is not \"[lxc monitor]\""
	echo "$ppid"
}

median_of() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
	print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# hyperfine -N: commands are split like a shell would, so quote every word with %q.
q() { printf '%q ' "$@"; }

# bench OUT.json [hyperfine options...] -- BERTH_PREPARE BERTH_CMD LXC_PREPARE LXC_CMD
bench() {
	local out=$1 opts=()
	shift
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	# -i: a failing run is recorded (exit_codes in the JSON, counted in the report)
	# instead of ending the whole benchmark.
	hyperfine -N -i --style basic "${opts[@]}" --export-json "$out" \
		--prepare "$1" -n berth "$2" --prepare "$3" -n lxc "$4"
}

# --- stage two: inside `unshare -m --propagation private` ------------------------------

CREATED_BERTH=()
CREATED_LXC=()
HAD_BERTH_CG=1
HAD_PIVOT_CG=1

inside_cleanup() {
	local rc=$? n
	trap - EXIT
	set +e
	if ((rc != 0)) && [[ -s ${BENCH_ENSURE_LOG:-} ]]; then
		printf 'instances-vs-lxc: the last lines from the untimed start/stop steps:\n' >&2
		grep -v -e 'is already running$' -e 'is not running$' "$BENCH_ENSURE_LOG" | tail -5 >&2
	fi
	say "clean-up: stopping and deleting ${#CREATED_BERTH[@]} berth instances and ${#CREATED_LXC[@]} LXC containers"
	for n in "${CREATED_BERTH[@]}"; do
		"$BERTH" --root "$ROOT" stop "$n" --force >/dev/null 2>&1
		"$BERTH" --root "$ROOT" delete "$n" --force >/dev/null 2>&1 ||
			printf 'instances-vs-lxc: could not delete berth instance %s\n' "$n" >&2
	done
	for n in "${CREATED_LXC[@]}"; do
		lxc-stop -P "$LXCPATH" -n "$n" -k >/dev/null 2>&1
		lxc-destroy -P "$LXCPATH" -n "$n" -f >/dev/null 2>&1 ||
			printf 'instances-vs-lxc: could not destroy LXC container %s\n' "$n" >&2
		# LXC removes these itself; only leftovers of an interrupted run remain.
		rmdir "/sys/fs/cgroup/lxc.payload.$n" "/sys/fs/cgroup/lxc.monitor.$n" 2>/dev/null
	done
	# LXC's lock files for this lxcpath (/run/lxc/lock/<lxcpath>/.NAME), then the
	# directories above them that are now empty (rmdir leaves any that are not).
	rm -rf "/run/lxc/lock$LXCPATH"
	rmdir "/run/lxc/lock$ROOT" "$(dirname "/run/lxc/lock$ROOT")" 2>/dev/null
	# Parent cgroups that this run created in the cgroup2 hierarchy (never a v1 one):
	# removed only if they were absent before and are empty now (rmdir refuses otherwise,
	# e.g. when a test running at the same time uses them).
	((HAD_PIVOT_CG)) || rmdir /sys/fs/cgroup/lxc.pivot 2>/dev/null
	((HAD_BERTH_CG)) || rmdir /sys/fs/cgroup/berth 2>/dev/null
	# LXC's monitors exit just after lxc-stop returns: wait for ours (by pid) to be gone.
	local pid waited=0
	for pid in "${MONITORS[@]}"; do
		while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do
			sleep 0.1
			waited=$((waited + 1))
		done
		kill -0 "$pid" 2>/dev/null && printf 'instances-vs-lxc: monitor %s still alive\n' "$pid" >&2
	done
	exit "$rc"
}

inside() {
	BERTH=$1 ROOT=$2 TAG=$3
	LXCPATH=$ROOT/lxc
	MONITORS=()
	local res=$ROOT/results i n b l

	mount -t cgroup2 none /sys/fs/cgroup
	[[ $NET == none ]] || ip link set lo up
	[[ -d /sys/fs/cgroup/berth ]] || HAD_BERTH_CG=0
	[[ -d /sys/fs/cgroup/lxc.pivot ]] || HAD_PIVOT_CG=0
	trap inside_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	mkdir -p "$res" "$LXCPATH" "$ROOT/run"
	export BENCH_ENSURE_LOG=$res/prepare.log
	# berth keeps its runtime state (state.json, written whole with fsync; the lock; the
	# monitor's socket) in /run/berth, a tmpfs on any systemd host. --root moves it to
	# ROOT/run: give it a tmpfs too (in this namespace only), unless BENCH_RUN_ON_DISK=1.
	if [[ $RUN_ON_DISK != 1 ]]; then
		mount -t tmpfs -o mode=0711,size=64m berth-bench-run "$ROOT/run"
	fi

	# LXC's configuration: no network at all, no AppArmor (not enabled on this kernel),
	# and in unprivileged mode a user namespace like berth's.
	{
		if [[ $NET == veth ]]; then
			echo "lxc.net.0.type = veth"
			echo "lxc.net.0.flags = up"
			echo "lxc.net.0.ipv4.address = 10.199.0.2/24"
		else
			echo "lxc.net.0.type = empty"
		fi
		echo "lxc.apparmor.profile = unconfined"
		if [[ $LXC_MODE == unprivileged ]]; then
			echo "lxc.idmap = u 0 $LXC_IDMAP 65536"
			echo "lxc.idmap = g 0 $LXC_IDMAP 65536"
		fi
	} >"$ROOT/lxc.conf"

	# Names carry the script's pid: cgroup names (berth/NAME, lxc.payload.NAME) are global
	# to the host's cgroup2 hierarchy, unlike --root and -P.
	say "creating $INSTANCES berth instances and $INSTANCES LXC containers (lxc-create -t busybox, $LXC_MODE)"
	for ((i = 0; i < INSTANCES; i++)); do
		n=bench-$TAG-$i
		CREATED_BERTH+=("$n")
		# --net none: like the LXC peer's lxc.net.0.type = empty (no host network touched);
		# routed (BENCH_NET=veth): berth's default, inside the benchmark's own netns.
		"$BERTH" --root "$ROOT" create --net "$([[ $NET == veth ]] && echo routed || echo none)" "$n" >/dev/null
		CREATED_LXC+=("$n")
		lxc-create -P "$LXCPATH" -n "$n" -t busybox -f "$ROOT/lxc.conf" >"$res/lxc-create.log" 2>&1 ||
			die "lxc-create failed: $(tail -5 "$res/lxc-create.log")"
	done
	n=bench-$TAG-0
	b=(--root "$ROOT")
	l=(-P "$LXCPATH")

	say "checking that both boot and run a command"
	"$BERTH" "${b[@]}" start "$n"
	lxc-start "${l[@]}" -d -n "$n" || die "lxc-start failed (run lxc-start -F -n $n -P $LXCPATH -l DEBUG -o FILE for why)"
	[[ $(lxc-info "${l[@]}" -n "$n" -s -H) == RUNNING ]] || die "LXC container $n is not RUNNING after lxc-start -d"
	[[ $("$BERTH" "${b[@]}" exec "$n" -- cat /proc/1/comm) == init ]] || die "berth: /proc/1/comm is not init"
	[[ $(lxc-attach "${l[@]}" -n "$n" -- cat /proc/1/comm) == init ]] || die "LXC: /proc/1/comm is not init"

	# 1. start-to-running; the stop before each run is hyperfine's --prepare (not timed).
	say "1/4 start: berth start vs lxc-start -d, $RUNS runs each (a forced stop before each, untimed)"
	bench "$res/start.json" --warmup "$WARMUP" --runs "$RUNS" -- \
		"$(q "$0" --ensure stopped berth "$BERTH" "$ROOT" "$n")" \
		"$(q "$BERTH" "${b[@]}" start "$n")" \
		"$(q "$0" --ensure stopped lxc "$LXCPATH" "$n")" \
		"$(q lxc-start "${l[@]}" -d -n "$n")"

	# 2. exec into a running instance.
	ensure running berth "$BERTH" "$ROOT" "$n" 2>>"$BENCH_ENSURE_LOG"
	ensure running lxc "$LXCPATH" "$n" 2>>"$BENCH_ENSURE_LOG"
	say "2/4 exec: berth exec vs lxc-attach, /bin/true, $RUNS runs each"
	hyperfine -N -i --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$res/exec.json" \
		-n berth "$(q "$BERTH" "${b[@]}" exec "$n" -- /bin/true)" \
		-n lxc "$(q lxc-attach "${l[@]}" -n "$n" -- /bin/true)"

	# 3. stop: forced, then graceful (busybox init's own shutdown sleeps ~2 s).
	say "3/4 stop --force vs lxc-stop -k, $RUNS runs each (a start before each, untimed)"
	bench "$res/kill.json" --warmup "$WARMUP" --runs "$RUNS" -- \
		"$(q "$0" --ensure running berth "$BERTH" "$ROOT" "$n")" \
		"$(q "$BERTH" "${b[@]}" stop "$n" --force)" \
		"$(q "$0" --ensure running lxc "$LXCPATH" "$n")" \
		"$(q lxc-stop "${l[@]}" -n "$n" -k)"
	say "3/4 stop vs lxc-stop (graceful), $STOP_RUNS runs each (a start before each, untimed)"
	bench "$res/stop.json" --runs "$STOP_RUNS" -- \
		"$(q "$0" --ensure running berth "$BERTH" "$ROOT" "$n")" \
		"$(q "$BERTH" "${b[@]}" stop "$n")" \
		"$(q "$0" --ensure running lxc "$LXCPATH" "$n")" \
		"$(q lxc-stop "${l[@]}" -n "$n")"

	# 4. the monitors' memory: one instance of each running, then INSTANCES of each.
	say "4/4 monitor memory (PSS, /proc/PID/smaps_rollup): 1, then $INSTANCES instances of each"
	ensure running berth "$BERTH" "$ROOT" "$n" 2>>"$BENCH_ENSURE_LOG"
	ensure running lxc "$LXCPATH" "$n" 2>>"$BENCH_ENSURE_LOG"
	sleep 0.5 # let both settle (init's sysinit scripts, getty)
	local bm lm
	bm=$(berth_monitor "$ROOT" "$n")
	lm=$(lxc_monitor "$LXCPATH" "$n")
	[[ $bm =~ ^[0-9]+$ && $lm =~ ^[0-9]+$ ]] || die "monitor pids not found (berth: '$bm', LXC: '$lm')"
	MONITORS+=("$lm")
	{
		echo "pss1_berth=$(kib "$bm" Pss)"
		echo "rss1_berth=$(kib "$bm" Rss)"
		echo "pss1_lxc=$(kib "$lm" Pss)"
		echo "rss1_lxc=$(kib "$lm" Rss)"
	} >"$res/mem.txt"
	# What the berth monitor's PSS is made of, largest first (for the report).
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anon]") }
	     /^Pss:/ { pss[name] += $2 }
	     END { for (k in pss) if (pss[k] > 0) printf "%6d KiB  %s\n", pss[k], k }' \
		"/proc/$bm/smaps" | sort -rn | head -8 >"$res/berth-monitor-smaps.txt"
	for ((i = 1; i < INSTANCES; i++)); do
		ensure running berth "$BERTH" "$ROOT" "bench-$TAG-$i" 2>>"$BENCH_ENSURE_LOG"
		ensure running lxc "$LXCPATH" "bench-$TAG-$i" 2>>"$BENCH_ENSURE_LOG"
	done
	sleep 0.5
	local pb=() pl=() m
	for ((i = 0; i < INSTANCES; i++)); do
		m=$(berth_monitor "$ROOT" "bench-$TAG-$i")
		[[ $m =~ ^[0-9]+$ ]] || die "no berth monitor pid for bench-$TAG-$i"
		pb+=("$(kib "$m" Pss)")
		m=$(lxc_monitor "$LXCPATH" "bench-$TAG-$i")
		[[ $m =~ ^[0-9]+$ ]] || die "no LXC monitor pid for bench-$TAG-$i"
		MONITORS+=("$m")
		pl+=("$(kib "$m" Pss)")
	done
	{
		echo "pssn_berth=$(median_of "${pb[@]}")"
		echo "pssn_lxc=$(median_of "${pl[@]}")"
		echo "pssn_berth_all=${pb[*]}"
		echo "pssn_lxc_all=${pl[*]}"
	} >>"$res/mem.txt"
}

# --- stage one: checks, scratch root, report -------------------------------------------

# field FILE KEY N: the Nth (1: berth, 2: lxc) value of KEY in hyperfine's JSON, seconds.
field() { grep "\"$2\":" "$1" | sed -n "$3s/.*\"$2\": *\([0-9.e+-]*\).*/\1/p"; }

# failures FILE N: how many timed runs of the Nth command exited non-zero.
failures() {
	awk -v want="$2" '/"exit_codes": \[/ { n++; inside = 1; next }
		inside && /\]/ { inside = 0 }
		inside && n == want && $1 + 0 != 0 { bad++ }
		END { print bad + 0 }' "$1"
}

row() { # row LABEL FILE GOAL
	local f=$2
	awk -v label="$1" -v goal="$3" -v fb="$(failures "$f" 1)" -v fl="$(failures "$f" 2)" \
		-v b="$(field "$f" median 1)" -v l="$(field "$f" median 2)" \
		-v bc="$(field "$f" user 1)" -v bs="$(field "$f" system 1)" \
		-v lc="$(field "$f" user 2)" -v ls="$(field "$f" system 2)" 'BEGIN {
		r = b / l
		verdict = goal == "" ? "" : (r <= goal + 0 ? "met" : "NOT met")
		printf "| %-34s | %9.2f ms | %9.2f ms | %5.2f | %-18s | %8.2f ms | %8.2f ms | %d / %d |\n",
			label, b * 1000, l * 1000, r, (goal == "" ? "-" : "<= " goal " " verdict),
			(bc + bs) * 1000, (lc + ls) * 1000, fb, fl
	}'
}

main() {
	local repo berth tool
	repo=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
	berth=$(readlink -f "${1:-$repo/build/cli/berth}")
	((EUID == 0)) || die "needs root (namespaces, mounts, cgroups)"
	[[ -x $berth ]] || die "no berth binary at $berth (build first: ./dev bench does)"
	for tool in lxc-create lxc-start lxc-attach lxc-stop lxc-info lxc-destroy hyperfine unshare; do
		command -v "$tool" >/dev/null ||
			die "$tool not found (apt-get install --no-install-recommends lxc hyperfine)"
	done
	[[ -x /bin/busybox ]] || die "no /bin/busybox (apt-get install busybox-static)"
	[[ $LXC_MODE == unprivileged || $LXC_MODE == privileged ]] ||
		die "BENCH_LXC must be unprivileged or privileged, not '$LXC_MODE'"
	((INSTANCES >= 1 && RUNS >= 1 && STOP_RUNS >= 1)) || die "BENCH_* counts must be >= 1"

	TMP=$(mktemp -d /tmp/berth-lxc-bench.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	# Container root (an unprivileged host id, for both) must traverse TMP: mktemp makes 0700.
	chmod 0711 "$TMP"
	# A private copy: the monitors' PSS then does not depend on whoever else on this host
	# runs the same build/cli/berth (their pages would be shared with ours).
	cp "$berth" "$TMP/berth"
	berth=$TMP/berth
	local start=$SECONDS
	say "scratch root $TMP; LXC $(lxc-start --version) ($LXC_MODE), $(hyperfine --version)"
	say "all in a private mount namespace with cgroup2 at /sys/fs/cgroup; berth's run/ on $(
		[[ $RUN_ON_DISK == 1 ]] && echo "TMP's disk" || echo "a tmpfs")"
	[[ $NET == none || $NET == veth ]] || die "BENCH_NET must be none or veth, not '$NET'"
	say "network: $NET$([[ $NET == veth ]] && echo " (in a network namespace of its own)")"
	if [[ $NET == veth ]]; then
		unshare -m -n --propagation private -- "$0" --inside "$berth" "$TMP" "$$"
	else
		unshare -m --propagation private -- "$0" --inside "$berth" "$TMP" "$$"
	fi

	local res=$TMP/results
	mem() { sed -n "s/^$1=//p" "$res/mem.txt"; }
	echo
	say "what berth's monitor's PSS is made of (1 instance running), largest first:"
	cat "$res/berth-monitor-smaps.txt"
	say "monitor PSS with $INSTANCES of each running (KiB): berth $(mem pssn_berth_all); LXC $(mem pssn_lxc_all)"
	echo
	printf '| %-34s | %12s | %12s | %5s | %-18s | %11s | %11s | %s |\n' \
		measure "berth median" "LXC median" ratio goal "berth CPU" "LXC CPU" "failed runs"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(printf -- '-%.0s' {1..34})" \
		------------ ------------ ----- ------------------ ----------- ----------- -----------
	row "start to running ($RUNS runs)" "$res/start.json" 0.8
	row "exec /bin/true ($RUNS runs)" "$res/exec.json" 0.8
	row "stop --force / lxc-stop -k ($RUNS)" "$res/kill.json" ""
	row "stop, graceful ($STOP_RUNS runs)" "$res/stop.json" ""
	awk -v b1="$(mem pss1_berth)" -v l1="$(mem pss1_lxc)" -v bn="$(mem pssn_berth)" \
		-v ln="$(mem pssn_lxc)" -v n="$INSTANCES" -v rb="$(mem rss1_berth)" \
		-v rl="$(mem rss1_lxc)" 'BEGIN {
		printf "| %-34s | %8d KiB | %8d KiB | %5.2f | %-18s | %11s | %11s | %11s |\n",
			"monitor PSS, 1 instance", b1, l1, b1 / l1,
			"<= 300 KiB " (b1 <= 300 ? "met" : "NOT met"), "RSS " rb " KiB", "RSS " rl " KiB", ""
		printf "| %-34s | %8d KiB | %8d KiB | %5.2f | %-18s | %11s | %11s | %11s |\n",
			"monitor PSS, median of " n " running", bn, ln, bn / ln,
			"<= 300 KiB " (bn <= 300 ? "met" : "NOT met"), "", "", ""
	}'
	echo
	echo "CPU: mean user+system time of the timed command (hyperfine), not wall time."
	echo "failed runs: timed runs that exited non-zero, berth / LXC (kept in the medians)."
	local untimed
	untimed=$(grep -c '^FAILED' "$res/prepare.log" 2>/dev/null || true)
	echo "untimed start/stop steps that failed and were retried: ${untimed:-0}"
	if [[ ${untimed:-0} != 0 ]]; then
		grep -B1 '^FAILED' "$res/prepare.log" | grep -v -e '^FAILED' -e '^--' | sort | uniq -c
	fi
	say "done in $((SECONDS - start)) s"
}

case ${1:-} in
--inside)
	shift
	inside "$@"
	;;
--ensure)
	shift
	# stdout to nowhere, stderr to the run's log (hyperfine shows neither).
	ensure "$@" >/dev/null 2>>"${BENCH_ENSURE_LOG:-/dev/null}"
	;;
*) main "$@" ;;
esac
