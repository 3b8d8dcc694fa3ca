#!/usr/bin/env bash
# net-setup.sh [NETDRV]: an instance's network setup (veth pair with the peer in the
# instance's namespace as eth0, host-side gateway addresses, forwarding and rp_filter,
# host routes /32 and /128, eth0's addresses, eth0 and lo up, default routes), timed
# per instance through the netns library (berth-netdrv calls netns_setup) against the
# same steps done with `ip` spawns, side by side in one run. Also times the library
# with the anti-spoofing filter (berth's default), which the ip column does not do.
# Goal (issue 5): <= 1 ms per instance, against ~8 ms for the ip spawns.
# NETDRV defaults to build/tests/integration/berth-netdrv. Needs root, iproute2,
# util-linux (unshare, nsenter). Runs entirely in a private network namespace;
# BENCH_INSTANCES (default 50) instances per column.
set -euo pipefail

N=${BENCH_INSTANCES:-50}
die() {
	printf 'net-setup: %s\n' "$*" >&2
	exit 1
}
say() { printf '==> %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "needs root"
D=$(realpath -e "${1:-build/tests/integration/berth-netdrv}") || die "no berth-netdrv (build first)"
for t in ip unshare nsenter; do command -v "$t" >/dev/null || die "needs $t"; done
if [ -z "${BERTH_NET_BENCH_NS:-}" ]; then
	BERTH_NET_BENCH_NS=$(readlink /proc/self/ns/net)
	export BERTH_NET_BENCH_NS
	exec unshare --net -- "$BASH" "$0" "$D"
fi
[ "$(readlink /proc/self/ns/net)" != "$BERTH_NET_BENCH_NS" ] ||
	die "not in a private network namespace; refusing to make links"
ip link set lo up

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || :; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || :; done
	PIDS=()
}
trap cleanup EXIT
SELF=$(readlink /proc/self/ns/net)
spawn() { # N: N instance stand-ins (children with their own netns); pids in KIDS
	KIDS=()
	for ((i = 0; i < $1; i++)); do
		unshare -n sleep 600 </dev/null >/dev/null 2>&1 &
		KIDS+=($!)
		PIDS+=($!)
	done
	for p in "${KIDS[@]}"; do
		while [ "$(readlink "/proc/$p/ns/net")" = "$SELF" ]; do sleep 0.01; done
	done
}
median() { sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f", m }'; }

say "netns_setup, routed, anti-spoofing off: $N instances"
spawn "$N"
lib=$("$D" bench routed 0 "${KIDS[@]}" | median)
cleanup

say "netns_setup, routed, anti-spoofing on (the default): $N instances"
spawn "$N"
libf=$("$D" bench routed 1 "${KIDS[@]}" | median)
cleanup

say "the same steps with ip spawns: $N instances"
spawn "$N"
times=()
for ((i = 0; i < N; i++)); do
	p=${KIDS[$i]} h=bt-i$i a4=10.78.$((i / 250)).$((i % 250 + 2)) a6=fd78::$(printf %x $((i + 2)))
	t0=${EPOCHREALTIME/./}
	ip link add "$h" type veth peer name eth0 address 02:00:00:00:02:01 netns "$p"
	echo 1 >"/proc/sys/net/ipv4/conf/$h/forwarding" # builtins: no spawn
	echo 1 >"/proc/sys/net/ipv4/conf/$h/rp_filter"
	ip addr add 169.254.0.1/32 dev "$h"
	ip addr add fe80::1/64 dev "$h" nodad
	ip link set "$h" up
	ip route add "$a4/32" dev "$h"
	ip route add "$a6/128" dev "$h"
	nsenter -t "$p" -n ip -batch - <<-EOF2
		addr add $a4/32 dev eth0
		addr add $a6/128 dev eth0 nodad
		link set eth0 up
		link set lo up
		route add default via 169.254.0.1 dev eth0 onlink
		route add ::/0 via fe80::1 dev eth0
	EOF2
	t1=${EPOCHREALTIME/./}
	times+=($((t1 - t0)))
done
ipt=$(printf '%s\n' "${times[@]}" | median)
# Check the ip column really did the work (one instance's default route).
nsenter -t "${KIDS[0]}" -n ip route show default | grep -q "via 169.254.0.1" ||
	die "the ip column did not configure eth0"

printf '\nper instance, median of %d (us):\n' "$N"
printf '  netns_setup, no filter      %6d\n' "$lib"
printf '  netns_setup, anti-spoofing  %6d\n' "$libf"
printf '  ip spawns (8 execs)         %6d\n' "$ipt"
awk -v a="$lib" -v f="$libf" -v b="$ipt" 'BEGIN {
	printf "ratio ip / netns_setup: %.1fx (no filter), %.1fx (anti-spoofing)\n", b / a, b / f
	printf "goal <= 1000 us per instance: %s\n", (a <= 1000 ? "met" : "NOT met")
}'
