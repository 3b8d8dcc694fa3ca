#!/usr/bin/env bash
# run-vs-crun.sh [BERTH]: `berth run -- /bin/true` against `crun run` on the same busybox
# root filesystem, side by side in one hyperfine run; prints both medians and the ratio
# berth/crun (goal: <= 0.6). BERTH defaults to build/cli/berth. Needs root, crun, hyperfine.
#
# crun refuses this host's hybrid cgroup layout, so both run inside a private mount
# namespace in which cgroup2 is mounted at /sys/fs/cgroup (covering the v1 mounts in that
# namespace only; the host's /sys/fs/cgroup is never touched). See tests/bench/README.md.
set -euo pipefail

RUNS=${BENCH_RUNS:-500}
TMP= # the scratch root: template, berth state, bundle, crun state; removed at exit
WARMUP=${BENCH_WARMUP:-20}

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'run-vs-crun: %s\n' "$*" >&2
	exit 1
}

# Second stage, inside `unshare -m --propagation private`: mount, measure, clean up.
inside() {
	local berth=$1 tmp=$2 id=$3 rootfs=$2/lib/templates/default rc=0
	mount -t cgroup2 none /sys/fs/cgroup
	# hyperfine -N runs commands without a shell: split on blanks, so quote with %q.
	# `crun run` deletes its container when the command exits, so one id serves every
	# run; it is unique to this invocation so a leftover can never collide with another.
	hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
		--export-json "$tmp/result.json" \
		-n berth "$(printf '%q ' "$berth" --root "$tmp" run --rootfs "$rootfs" -- /bin/true)" \
		-n crun "$(printf '%q ' crun --root "$tmp/crun" run --bundle "$tmp/bundle" "$id")" ||
		rc=$?
	# Anything crun left (state, cgroup) if a run was interrupted; cgroup2 is the
	# hierarchy mounted above, so this never reaches a v1 hierarchy.
	crun --root "$tmp/crun" delete -f "$id" >/dev/null 2>&1 || true
	[[ ! -d /sys/fs/cgroup/$id ]] || rmdir "/sys/fs/cgroup/$id" || true
	return "$rc"
}

# An OCI bundle whose root is the berth template: crun's default spec, edited with sed.
make_bundle() {
	local bundle=$1 rootfs=$2
	mkdir -p "$bundle"
	(cd "$bundle" && crun spec)
	# /bin/true, no terminal, the shared root read-only, and no device cgroup: crun would
	# load it as an eBPF program after raising RLIMIT_MEMLOCK, which this host forbids
	# (no CAP_SYS_RESOURCE); berth has no device program yet either.
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e '/"args": \[/,/\]/ s|"sh"|"/bin/true"|' \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" \
		-e 's/"readonly": false/"readonly": true/' \
		-e '/^\t\t"resources": {/,/^\t\t},/d' \
		"$bundle/config.json"
	local want
	for want in '"terminal": false' '"/bin/true"' "\"path\": \"$rootfs\"" '"readonly": true'; do
		grep -qF "$want" "$bundle/config.json" ||
			die "crun spec's output changed: could not set $want in $bundle/config.json"
	done
	if grep -q '"resources"' "$bundle/config.json"; then
		die "crun spec's output changed: could not remove linux.resources from $bundle/config.json"
	fi
}

# The median of the nth result (1: berth, 2: crun) in hyperfine's JSON, in seconds.
median() { grep '"median"' "$1" | sed -n "$2s/.*\"median\": *\([0-9.e+-]*\).*/\1/p"; }

main() {
	local repo berth id rootfs
	repo=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
	berth=$(readlink -f "${1:-$repo/build/cli/berth}")
	((EUID == 0)) || die "needs root (namespaces, mounts, cgroups)"
	[[ -x $berth ]] || die "no berth binary at $berth (build first: ./dev bench does)"
	local tool
	for tool in crun hyperfine unshare; do
		command -v "$tool" >/dev/null || die "$tool not found (apt-get install crun hyperfine)"
	done

	TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	# The container's root (host uid 1000000) mounts its staging tmpfs below TMP/run:
	# it must be able to traverse TMP, which mktemp makes 0700.
	chmod 0711 "$TMP"
	local tmp=$TMP
	id="berth-bench-$$"
	rootfs=$tmp/lib/templates/default

	say "making the busybox template: berth --root $tmp run -- /bin/true"
	"$berth" --root "$tmp" run -- /bin/true
	[[ -x $rootfs/bin/true ]] || die "berth made no template at $rootfs"
	say "making an OCI bundle for crun on the same root: $tmp/bundle"
	make_bundle "$tmp/bundle" "$rootfs"

	say "hyperfine: $RUNS runs each, in a private mount namespace with cgroup2 at /sys/fs/cgroup"
	unshare -m --propagation private -- "$0" --inside "$berth" "$tmp" "$id"

	local b c
	b=$(median "$tmp/result.json" 1)
	c=$(median "$tmp/result.json" 2)
	awk -v b="$b" -v c="$c" 'BEGIN {
		r = b / c
		printf "berth median %.2f ms, crun median %.2f ms, ratio berth/crun %.2f (goal <= 0.60: %s)\n",
			b * 1000, c * 1000, r, (r <= 0.6 ? "met" : "NOT met")
	}'
}

if [[ ${1:-} == --inside ]]; then
	shift
	inside "$@"
else
	main "$@"
fi
