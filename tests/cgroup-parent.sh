# shellcheck shell=dash # sourced by bash (tests/integration) and busybox ash (tests/vm)
# cgroup_parent ROOT: where `berth --root ROOT` keeps its cgroups, below the
# cgroup2 root: berth-<FNV-1a 32 of the absolute root path, 8 hex digits>
# (docs/ARCHITECTURE.md). Computed here, independently of berth, from the
# bytes of ROOT (ASCII paths only: what the tests use).
cgroup_parent() {
	local s=$1 h=2166136261 c
	while [ -n "$s" ]; do
		c=${s%"${s#?}"}
		s=${s#?}
		h=$(((h ^ $(printf '%d' "'$c")) * 16777619 & 0xffffffff))
	done
	printf 'berth-%08x\n' "$h"
}
