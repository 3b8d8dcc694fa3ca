#!/usr/bin/env bash
# density.sh [BERTH]: create + start of BENCH_INSTANCES (default 100) busybox-init
# instances on one template. Prints, per instance, the disk it uses (its whole
# <lib>/instances/NAME, in blocks actually allocated, after create and again once its
# init runs) against the template's size, and the time `berth start` takes for the 1st
# and the Nth instance (also the medians of the first and last ten), as a ratio.
# Goals (issue 6): under 1 MiB per instance before the guest writes anything; the Nth
# start within 1.2x of the 1st. BERTH defaults to build/cli/berth. Needs root,
# busybox-static.
#
# Runs in a private mount namespace in which every host cgroup v1 mount point is
# covered by an empty tmpfs, with berth's state under a temp --root; every instance
# made is deleted at the end, even on failure or Ctrl-C.
set -euo pipefail

N=${BENCH_INSTANCES:-100}

die() {
	printf 'density: %s\n' "$*" >&2
	exit 1
}
say() { printf '==> %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "needs root"
BERTH=$(realpath -e "${1:-build/cli/berth}") || die "no berth binary (build first)"
if [ -z "${BERTH_DENSITY_BENCH_NS:-}" ]; then
	BERTH_DENSITY_BENCH_NS=$(readlink /proc/self/ns/mnt)
	export BERTH_DENSITY_BENCH_NS
	exec unshare --mount --propagation private -- "$BASH" "$0" "$BERTH"
fi
[ "$(readlink /proc/self/ns/mnt)" != "$BERTH_DENSITY_BENCH_NS" ] ||
	die "not in a private mount namespace; refusing to mount anything"
while read -r _ _ _ _ mp _ rest; do
	rest=" $rest" rest=${rest#* - }
	[ "${rest%% *}" = cgroup ] || continue
	mount -t tmpfs -o mode=0755,size=4k berth-bench-cover "$(printf '%b' "$mp")"
done < <(cat /proc/self/mountinfo)

TMP=$(mktemp -d /tmp/berth-density-bench.XXXXXX)
R=$TMP/root
P=bd$$ # names carry our pid: a killed run's leftovers are easy to tell apart
MADE=0
cleanup() {
	trap '' INT TERM HUP
	say "deleting $MADE instances"
	for ((i = 1; i <= MADE; i++)); do
		"$BERTH" --root "$R" delete --force "$P-$i" >/dev/null 2>&1 </dev/null ||
			echo "density: delete --force $P-$i failed" >&2
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# used DIR: bytes allocated below DIR (du counts each hard link once).
used() { du -s --block-size=1 "$1" | cut -f1; }

declare -a start_us created_b running_b
say "creating and starting $N busybox instances on one template"
for ((i = 1; i <= N; i++)); do
	MADE=$i
	"$BERTH" --root "$R" create "$P-$i" >/dev/null </dev/null
	created_b[i]=$(used "$R/lib/instances/$P-$i")
	t0=${EPOCHREALTIME/./}
	"$BERTH" --root "$R" start "$P-$i" </dev/null
	t1=${EPOCHREALTIME/./}
	start_us[i]=$((t1 - t0))
done
# Once every init has run its rcS (busybox init: well within a second).
sleep 2
for ((i = 1; i <= N; i++)); do running_b[i]=$(used "$R/lib/instances/$P-$i"); done
tpl=$(used "$R/lib/templates/default")

python3 - "$N" "$tpl" "${start_us[*]:1}" "${created_b[*]:1}" "${running_b[*]:1}" <<'PY'
import statistics as st
import sys

n, tpl = int(sys.argv[1]), int(sys.argv[2])
start = [int(x) / 1000 for x in sys.argv[3].split()]
created = [int(x) for x in sys.argv[4].split()]
running = [int(x) for x in sys.argv[5].split()]
k = min(10, n)
print(f"template: {tpl / 1024:.0f} KiB on disk, shared by all {n} instances")
print(f"disk per instance after create: median {st.median(created) / 1024:.0f} KiB, "
      f"max {max(created) / 1024:.0f} KiB")
print(f"disk per instance with its init running: median {st.median(running) / 1024:.0f} KiB, "
      f"max {max(running) / 1024:.0f} KiB (goal < 1024 KiB)")
print(f"start of instance 1: {start[0]:.1f} ms; of instance {n}: {start[-1]:.1f} ms; "
      f"ratio {start[-1] / start[0]:.2f}")
first, last = st.median(start[:k]), st.median(start[-k:])
print(f"median start of the first {k}: {first:.1f} ms; of the last {k}: {last:.1f} ms; "
      f"ratio {last / first:.2f} (goal <= 1.2)")
PY
