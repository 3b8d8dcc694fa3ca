#!/usr/bin/env bash
# stats-200.sh [BERTH]: how long `berth stats --json` takes for BENCH_INSTANCES (default
# 200) running busybox-init instances, without the cpu sampling interval
# (`--interval 0`: one sample, no cpu%). Measured with hyperfine in the same run as the
# same command for one named instance, so the per-instance cost shows as a ratio.
# Goal (issue 4): under 50 ms for 200 instances. No peer has such a command.
# BERTH defaults to build/cli/berth. Needs root, busybox-static, hyperfine, python3.
#
# Runs in a private mount namespace in which every host cgroup v1 mount point is
# covered by an empty tmpfs (the host's own /sys/fs/cgroup is never touched), with
# berth's state under a temp --root. Every instance made is deleted at the end, even
# on failure or Ctrl-C.
set -euo pipefail

N=${BENCH_INSTANCES:-200}
RUNS=${BENCH_RUNS:-100}
WARMUP=${BENCH_WARMUP:-5}

die() {
	printf 'stats-200: %s\n' "$*" >&2
	exit 1
}
say() { printf '==> %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "needs root"
BERTH=$(realpath -e "${1:-build/cli/berth}") || die "no berth binary (build first)"
for t in hyperfine python3 unshare; do
	command -v "$t" >/dev/null || die "needs $t"
done
if [ -z "${BERTH_STATS_BENCH_NS:-}" ]; then
	BERTH_STATS_BENCH_NS=$(readlink /proc/self/ns/mnt)
	export BERTH_STATS_BENCH_NS
	# --net: a private network namespace too, so that no veth lands on the host
	exec unshare --mount --propagation private --net -- "$BASH" "$0" "$BERTH"
fi
[ "$(readlink /proc/self/ns/mnt)" != "$BERTH_STATS_BENCH_NS" ] ||
	die "not in a private mount namespace; refusing to mount anything"
while read -r _ _ _ _ mp _ rest; do
	rest=" $rest" rest=${rest#* - }
	[ "${rest%% *}" = cgroup ] || continue
	mount -t tmpfs -o mode=0755,size=4k berth-bench-cover "$(printf '%b' "$mp")"
done < <(cat /proc/self/mountinfo)

TMP=$(mktemp -d /tmp/berth-stats-bench.XXXXXX)
R=$TMP/root
P=bs$$ # names carry our pid: a killed run's leftovers are easy to tell apart
MADE=0
cleanup() {
	trap '' INT TERM HUP
	say "deleting $MADE instances"
	for ((i = 1; i <= MADE; i++)); do
		"$BERTH" --root "$R" delete --force "$P-$i" >/dev/null 2>&1 </dev/null ||
			echo "stats-200: delete --force $P-$i failed" >&2
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say "creating and starting $N busybox instances"
t0=${EPOCHREALTIME/./}
for ((i = 1; i <= N; i++)); do
	MADE=$i
	"$BERTH" --root "$R" create --net none "$P-$i" >/dev/null </dev/null
	"$BERTH" --root "$R" start "$P-$i" </dev/null
done
t1=${EPOCHREALTIME/./}
say "$N instances running after $(((t1 - t0) / 1000)) ms"

count=$("$BERTH" --root "$R" stats --json --interval 0 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$count" = "$N" ] || die "stats --json lists $count instances, want $N"

hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$TMP/h.json" \
	--command-name "stats --json, $N instances" "$BERTH --root $R stats --json --interval 0" \
	--command-name "stats --json, 1 instance" "$BERTH --root $R stats --json --interval 0 $P-1" \
	>"$TMP/hyperfine.out" || {
	cat "$TMP/hyperfine.out"
	die "hyperfine failed"
}
python3 - "$TMP/h.json" "$N" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
many, one = (x["median"] * 1000 for x in r)
print("%-32s %10s %10s %10s" % ("command", "median ms", "min ms", "max ms"))
for x in r:
    print("%-32s %10.2f %10.2f %10.2f" % (x["command"], x["median"] * 1000, x["min"] * 1000, x["max"] * 1000))
print("ratio %d instances / 1 instance: %.1f; per extra instance: %.3f ms" % (n, many / one, (many - one) / (n - 1)))
print("goal: %d instances under 50 ms: %s" % (n, "met" if many < 50 else "NOT met"))
PY
