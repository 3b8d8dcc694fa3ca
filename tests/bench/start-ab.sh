#!/usr/bin/env bash
# start-ab.sh BERTH_A BERTH_B: `berth start` of a busybox instance, two berth binaries side
# by side (e.g. before and after a change), BENCH_ROUNDS rounds (default 4) of hyperfine
# with BENCH_RUNS runs each (default 150, after 10 warm-up runs; a forced stop before each
# run is hyperfine's untimed --prepare), the order of the two swapped every round. Prints
# each round's medians and the median of the per-round differences A - B.
# BENCH_NET: none (default) or routed (berth's default network, a veth per instance).
# BENCH_WHAT=run: time `berth run -- /bin/true` (busybox template) instead of a start.
# Needs root, hyperfine, unshare. Everything runs in a private mount and network namespace
# (cgroup2 mounted at /sys/fs/cgroup there only; no host interface is touched), with each
# berth's --root in a scratch dir on disk and its run/ on a tmpfs, as /run/berth would be.
set -euo pipefail

ROUNDS=${BENCH_ROUNDS:-4}
RUNS=${BENCH_RUNS:-150}
NET=${BENCH_NET:-none}
WHAT=${BENCH_WHAT:-start}
TMP=
BINS=()
NAMES=()

die() {
	printf 'start-ab: %s\n' "$*" >&2
	exit 1
}

inside_cleanup() {
	local i
	for i in "${!NAMES[@]}"; do
		"${BINS[i]}" --root "$TMP/$i" stop --force "${NAMES[i]}" >/dev/null 2>&1 || true
		"${BINS[i]}" --root "$TMP/$i" delete --force "${NAMES[i]}" >/dev/null 2>&1 ||
			printf 'start-ab: could not delete %s\n' "${NAMES[i]}" >&2
	done
}

inside() {
	local tmp=$1 i r
	BINS=("$2" "$3")
	mount -t cgroup2 none /sys/fs/cgroup
	ip link set lo up
	for i in 0 1; do
		mkdir -p "$tmp/$i/run"
		mount -t tmpfs -o mode=0711 start-ab "$tmp/$i/run"
	done
	TMP=$tmp
	# Stop and delete what was made (the last timed run leaves an instance running).
	trap inside_cleanup EXIT
	for i in 0 1; do
		if [[ $WHAT == run ]]; then
			"${BINS[i]}" --root "$tmp/$i" run -- /bin/true # makes the template
			continue
		fi
		"${BINS[i]}" --root "$tmp/$i" create --net "$NET" "ab$i-$$" >/dev/null
		NAMES[i]=ab$i-$$
	done
	for ((r = 0; r < ROUNDS; r++)); do
		local order=(0 1) args=()
		((r % 2 == 0)) || order=(1 0)
		for i in "${order[@]}"; do
			if [[ $WHAT == run ]]; then
				args+=(-n "$(printf '%s' "$i" | tr 01 AB)"
					"${BINS[i]} --root $tmp/$i run -- /bin/true")
				continue
			fi
			args+=(--prepare "${BINS[i]} --root $tmp/$i stop --force ${NAMES[i]}"
				-n "$(printf '%s' "$i" | tr 01 AB)" "${BINS[i]} --root $tmp/$i start ${NAMES[i]}")
		done
		hyperfine -N -i --style none -w 10 -r "$RUNS" "${args[@]}" \
			--export-json "$tmp/round$r.json" >/dev/null
	done
	python3 - "$tmp" "$ROUNDS" <<'EOF'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
diffs = []
for r in range(rounds):
    m = {x["command"]: x["median"] * 1000 for x in json.load(open(f"{tmp}/round{r}.json"))["results"]}
    diffs.append(m["A"] - m["B"])
    print(f"round {r + 1}: A {m['A']:.2f} ms, B {m['B']:.2f} ms, A - B {m['A'] - m['B']:+.2f} ms")
print(f"median A - B over {rounds} rounds: {statistics.median(diffs):+.2f} ms")
EOF
}

main() {
	((EUID == 0)) || die "needs root (namespaces, mounts, cgroups)"
	if [[ ${1:-} == --inside ]]; then
		inside "$2" "$3" "$4"
		return
	fi
	(($# == 2)) || die "usage: start-ab.sh BERTH_A BERTH_B"
	local a b
	a=$(readlink -f "$1")
	b=$(readlink -f "$2")
	[[ -x $a && -x $b ]] || die "both arguments must be berth binaries"
	for tool in hyperfine unshare python3 ip; do
		command -v "$tool" >/dev/null || die "$tool not found"
	done
	[[ $NET == none || $NET == routed ]] || die "BENCH_NET must be none or routed, not '$NET'"
	[[ $WHAT == start || $WHAT == run ]] || die "BENCH_WHAT must be start or run, not '$WHAT'"
	TMP=$(mktemp -d /tmp/berth-start-ab.XXXXXX)
	chmod 0711 "$TMP"
	trap 'rm -rf --one-file-system "$TMP"' EXIT
	unshare -m -n --propagation private -- "$0" --inside "$TMP" "$a" "$b"
}

main "$@"
