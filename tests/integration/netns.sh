#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The netns library (issue 5) on real kernel objects: veth pairs, addresses,
# routes, a bridge, the anti-spoofing filter, the rate ifb and tbf, counters,
# teardown and rollback. Root, this host.
#
#   netns.sh NETDRV
#
# NETDRV is berth-netdrv, which builds a plan from its arguments and calls
# netns_setup/teardown/set_rate/counters. Everything runs in a private network
# (and mount) namespace that plays the host; each "instance" is a child that
# unshared its own network namespace and sleeps. The ip, tc, ping and iperf3
# tools only observe and act as a user would; berth's code never spawns them.
# Output as in lib.sh: "ok - NAME" lines, then "netns: N passed, N failed, N skipped".
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init netns "netns library tests"
need_args "NETDRV" "$@"
need_root "veths, bridges, routes and tc in a private network namespace"
D=$(realpath -e "$1") || exit 2
need_tools unshare nsenter ip tc ping awk sysctl python3
private_mntns BERTH_NETNS_HOST "$D"

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# spawn: an instance stand-in; INST is its pid, once its network namespace is its own.
SELFNS=$(readlink /proc/self/ns/net)
spawn() {
	local i
	unshare -n sleep 900 &
	INST=$!
	PIDS+=("$INST")
	for ((i = 0; i < 500; i++)); do
		[ "$(readlink "/proc/$INST/ns/net" 2>/dev/null)" != "$SELFNS" ] && return 0
		sleep 0.01
	done
	bail "instance stand-in $INST never got its own network namespace"
}
in_ns() { nsenter -t "$1" -n -- "${@:2}"; }
drv() { OUT=$("$D" "$@" 2>"/tmp/netns-it.$$") RC=$? ERR=$(<"/tmp/netns-it.$$"); rm -f "/tmp/netns-it.$$"; }
setup() { drv setup "$@"; [ "$RC" = 0 ] || why "setup $*: exit $RC: $ERR"; }
has_link() { ip link show "$1" >/dev/null 2>&1; }
# gone NAME: wait (up to 10 s: namespace cleanup is asynchronous) until no link NAME.
gone() {
	local i
	for ((i = 0; i < 1000; i++)); do has_link "$1" || return 0; sleep 0.01; done
	return 1
}
pings() { in_ns "$1" ping -c 2 -i 0.2 -W 2 "${@:2}" >/dev/null 2>&1; }
echos4() { awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 } else print $c }' /proc/net/snmp; }
echos6() { awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6; }
in_echos() { if [ "$1" = host ]; then "echos$2"; else in_ns "$1" bash -c "$(declare -f "echos$2"); echos$2"; fi; }
# arrives WHERE FAMILY CMD...: how many echo requests reached WHERE (a pid or host) while CMD ran.
arrives() {
	local where=$1 fam=$2 before after
	shift 2
	before=$(in_echos "$where" "$fam")
	"$@" >/dev/null 2>&1
	after=$(in_echos "$where" "$fam")
	N=$((after - before))
}

sysctl -qw net.ipv6.conf.all.forwarding=1 # this private namespace's, for routed IPv6
ip addr add 198.51.100.1/32 dev lo        # "the world" beyond the gateway
ip addr add 2001:db8:ff::1/128 dev lo
ip link add up0 type veth peer name up1 # a pretend uplink for proxy entries

# ---- routed ---------------------------------------------------------------------
begin "routed: instances reach the gateway, each other and beyond (IPv4, IPv6)"
spawn; A=$INST
spawn; B=$INST
spawn; C=$INST
setup "$A" bt-a routed --addr 10.0.0.2 --addr fd00::2 --mac 02:00:00:00:00:0a --uplink up0
setup "$B" bt-b routed --addr 10.0.0.3 --addr fd00::3 --mac 02:00:00:00:00:0b
setup "$C" bt-c routed --addr 10.0.0.4 --addr fd00::4 --mac 02:00:00:00:00:0c
pings "$A" 169.254.0.1 || why "A cannot ping its gateway 169.254.0.1"
pings "$A" -6 fe80::1%eth0 || why "A cannot ping its gateway fe80::1"
pings "$A" 10.0.0.3 || why "A cannot ping B (10.0.0.3)"
pings "$A" -6 fd00::3 || why "A cannot ping B (fd00::3)"
pings "$B" 198.51.100.1 || why "B cannot reach past the gateway (198.51.100.1)"
pings "$B" -6 2001:db8:ff::1 || why "B cannot reach past the gateway (2001:db8:ff::1)"
end

begin "routed: eth0 with the plan's MAC and addresses, host routes, rp_filter, proxy entries"
in_ns "$A" ip -o link show eth0 | grep -q "link/ether 02:00:00:00:00:0a" ||
	why "eth0 MAC: $(in_ns "$A" ip -o link show eth0)"
in_ns "$A" ip -o addr show dev eth0 | grep -q "inet 10.0.0.2/32" || why "no 10.0.0.2/32 on A's eth0"
in_ns "$A" ip -o addr show dev eth0 | grep -q "inet6 fd00::2/128" || why "no fd00::2/128 on A's eth0"
in_ns "$A" ip route show default | grep -q "via 169.254.0.1 dev eth0.*onlink" || why "A's default route: $(in_ns "$A" ip route show default)"
ip route show 10.0.0.2 | grep -q "dev bt-a" || why "no host route 10.0.0.2 dev bt-a"
ip -6 route show fd00::2 | grep -q "dev bt-a" || why "no host route fd00::2 dev bt-a"
[ "$(sysctl -n net.ipv4.conf.bt-a.rp_filter)" = 1 ] || why "rp_filter on bt-a is not 1"
[ "$(sysctl -n net.ipv4.conf.bt-a.forwarding)" = 1 ] || why "forwarding on bt-a is not 1"
ip neigh show proxy dev up0 | grep -q "10.0.0.2" || why "no proxy ARP entry for 10.0.0.2 on up0"
ip -6 neigh show proxy dev up0 | grep -q "fd00::2" || why "no proxy NDP entry for fd00::2 on up0"
end

begin "counters: the host side's link counts what the instance sends and receives"
drv counters bt-c
c0=$OUT
in_ns "$C" ping -c 5 -i 0.2 -s 1000 -W 2 198.51.100.1 >/dev/null 2>&1
drv counters bt-c
c1=$OUT
get() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
tx=$(($(get tx_bytes "$c1") - $(get tx_bytes "$c0")))
rx=$(($(get rx_bytes "$c1") - $(get rx_bytes "$c0")))
txp=$(($(get tx_packets "$c1") - $(get tx_packets "$c0")))
((tx >= 5 * 1042 && txp >= 5)) || why "tx grew by $tx bytes / $txp packets for 5 pings of 1042 bytes ($c0 -> $c1)"
((rx >= 5 * 1042)) || why "rx grew by $rx bytes for 5 replies of 1042 bytes"
end

begin "spoofing (routed): a neighbour's address or a made-up one gets nowhere"
arrives host 4 in_ns "$A" ping -c 3 -i 0.2 -W 1 198.51.100.1
[ "$N" -ge 3 ] || why "control: A's own pings reached the host $N times, want 3"
arrives "$C" 4 in_ns "$A" ping -c 3 -i 0.2 -W 1 10.0.0.4
[ "$N" -ge 3 ] || why "control: A's own pings reached C $N times, want 3"
in_ns "$A" ip addr add 10.0.0.3/32 dev eth0
in_ns "$A" ip addr add fd00::3/128 dev eth0 nodad
in_ns "$A" ip addr add 10.0.0.99/32 dev eth0
arrives host 4 in_ns "$A" ping -c 3 -i 0.2 -W 1 -I 10.0.0.3 198.51.100.1
[ "$N" = 0 ] || why "pings from B's 10.0.0.3 reached the host $N times"
arrives "$C" 4 in_ns "$A" ping -c 3 -i 0.2 -W 1 -I 10.0.0.3 10.0.0.4
[ "$N" = 0 ] || why "pings from B's 10.0.0.3 reached C $N times"
arrives "$C" 4 in_ns "$A" ping -c 3 -i 0.2 -W 1 -I 10.0.0.99 10.0.0.4
[ "$N" = 0 ] || why "pings from 10.0.0.99 reached C $N times"
arrives host 6 in_ns "$A" ping -6 -c 3 -i 0.2 -W 1 -I fd00::3 2001:db8:ff::1
[ "$N" = 0 ] || why "pings from B's fd00::3 reached the host $N times"
arrives "$C" 6 in_ns "$A" ping -6 -c 3 -i 0.2 -W 1 -I fd00::3 fd00::4
[ "$N" = 0 ] || why "pings from B's fd00::3 reached C $N times"
drv counters bt-a
dropped=$(get tx_dropped "$OUT")
((dropped >= 9)) || why "counters show $dropped spoofed packets dropped, want >= 9 ($OUT)"
end

begin "spoofing control: without anti-spoofing a spoofed IPv6 source does get through"
spawn; E=$INST
setup "$E" bt-e routed --addr 10.0.0.5 --addr fd00::5 --mac 02:00:00:00:00:0e --no-antispoof
in_ns "$E" ip addr add fd00::3/128 dev eth0 nodad
arrives host 6 in_ns "$E" ping -6 -c 3 -i 0.2 -W 1 -I fd00::3 2001:db8:ff::1
[ "$N" -ge 3 ] || why "the unfiltered spoof reached the host $N times: the check above proves nothing"
tc filter show dev bt-e ingress | grep -q bpf && why "--no-antispoof still installed a filter"
end

# ---- bridge ---------------------------------------------------------------------
BR=(--bridge berth0 --bridge-addr 10.1.0.1/24 --bridge-addr fd01::1/64 --gw4 10.1.0.1 --gw6 fd01::1)
begin "bridge: berth0 made with its gateway addresses; instances reach each other and it"
spawn; P=$INST
spawn; Q=$INST
setup "$P" bt-p bridge --addr 10.1.0.2/24 --addr fd01::2/64 --mac 02:00:00:00:01:0a "${BR[@]}"
setup "$Q" bt-q bridge --addr 10.1.0.3/24 --addr fd01::3/64 --mac 02:00:00:00:01:0b "${BR[@]}"
ip -o link show bt-p | grep -q "master berth0" || why "bt-p is not enslaved to berth0"
ip -o addr show dev berth0 | grep -q "inet 10.1.0.1/24" || why "berth0 has no 10.1.0.1/24"
pings "$P" 10.1.0.1 || why "P cannot ping the gateway 10.1.0.1"
pings "$P" 10.1.0.3 || why "P cannot ping Q"
pings "$P" -6 fd01::3 || why "P cannot ping Q over IPv6"
pings "$Q" -6 fd01::1 || why "Q cannot ping the gateway fd01::1"
end

begin "spoofing (bridge): another MAC or another source address gets nowhere"
arrives "$Q" 4 in_ns "$P" ping -c 3 -i 0.2 -W 1 10.1.0.3
[ "$N" -ge 3 ] || why "control: P's own pings reached Q $N times, want 3"
in_ns "$P" ip addr add 10.1.0.3/32 dev eth0
arrives host 4 in_ns "$P" ping -c 3 -i 0.2 -W 1 -I 10.1.0.3 10.1.0.1
[ "$N" = 0 ] || why "pings from Q's address reached the gateway $N times"
in_ns "$P" ip addr del 10.1.0.3/32 dev eth0
in_ns "$P" ip link set eth0 address 02:00:00:00:01:99
in_ns "$P" ip neigh flush dev eth0
arrives "$Q" 4 in_ns "$P" ping -c 3 -i 0.2 -W 1 10.1.0.3
[ "$N" = 0 ] || why "pings from another MAC reached Q $N times"
arrives host 4 in_ns "$P" ping -c 3 -i 0.2 -W 1 10.1.0.1
[ "$N" = 0 ] || why "pings from another MAC reached the gateway $N times"
# Control: the same MAC change from an unfiltered instance does reach Q.
spawn; U=$INST
setup "$U" bt-u bridge --addr 10.1.0.9/24 --mac 02:00:00:00:01:0c --no-antispoof "${BR[@]}"
in_ns "$U" ip link set eth0 address 02:00:00:00:01:98
arrives "$Q" 4 in_ns "$U" ping -c 3 -i 0.2 -W 1 10.1.0.3
[ "$N" -ge 3 ] || why "control: the unfiltered MAC change reached Q $N times: the check proves nothing"
end

# send_ra PID: three ICMPv6 router advertisements to ff02::1 from PID's eth0 (link-local source).
send_ra() {
	local i
	for ((i = 0; i < 300; i++)); do # the link-local address must have finished DAD
		in_ns "$1" ip -6 addr show dev eth0 scope link | grep -q tentative || break
		sleep 0.01
	done
	in_ns "$1" python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
ra = bytes([134, 0, 0, 0, 64, 0, 0, 0] + [0] * 8)  # hop limit 64, router lifetime 0
for _ in range(3):
    s.sendto(ra, ("ff02::1", 0, 0, socket.if_nametoindex("eth0")))
'
}
ras() { in_ns "$1" awk '$1 == "Icmp6InRouterAdvertisements" { print $2 }' /proc/net/snmp6; }
begin "spoofing (bridge): no router advertisement from an instance reaches its neighbours"
spawn; W=$INST
setup "$W" bt-w bridge --addr 10.1.0.4/24 --addr fd01::4/64 --mac 02:00:00:00:01:0d "${BR[@]}"
r0=$(ras "$Q")
send_ra "$W"
sleep 0.3
r1=$(ras "$Q")
[ "$r1" = "$r0" ] || why "Q counted $((r1 - r0)) router advertisements from W"
send_ra "$U" # the unfiltered control
for ((i = 0; i < 100; i++)); do [ "$(ras "$Q")" != "$r1" ] && break; sleep 0.01; done
r2=$(ras "$Q")
((r2 - r1 >= 3)) || why "control: Q counted $((r2 - r1)) advertisements from unfiltered U, want 3"
end

# ---- stale links, failures ---------------------------------------------------
begin "a stale host-side veth of the same name is replaced; another kind of link is not"
spawn; S=$INST
ip link add bt-s type veth peer name bt-s-old
setup "$S" bt-s routed --addr 10.0.0.20
has_link bt-s-old && why "the stale pair (bt-s-old) is still there"
pings "$S" 169.254.0.1 || why "the replacing instance cannot ping its gateway"
spawn; T=$INST
ip link add bt-t type bridge
drv setup "$T" bt-t routed --addr 10.0.0.21
[ "$RC" = 1 ] || why "setup over a bridge named bt-t: exit $RC, want 1"
grep -q "not a veth" <<<"$ERR" || why "error does not say 'not a veth': $ERR"
ip -d link show bt-t | grep -q bridge || why "bt-t is no longer the bridge it was"
in_ns "$T" ip link show eth0 >/dev/null 2>&1 && why "eth0 was left in the instance"
ip link del bt-t
end

leftovers() { # NAME ADDR: what of a failed setup is still there
	local l=''
	has_link "$1" && l+=" link $1"
	has_link "bi-${1#bt-}" && l+=" ifb bi-${1#bt-}"
	[ -n "$(ip route show "$2")" ] && l+=" route $2"
	ip neigh show proxy | grep -q "$2" && l+=" proxy $2"
	printf '%s' "$l"
}
begin "a failed setup leaves nothing: instance gone, bad bridge, late failure inside"
spawn; F=$INST
kill -KILL "$F"; wait "$F" 2>/dev/null
drv setup "$F" bt-f routed --addr 10.0.0.50 --uplink up0 --rate-out 10000000
[ "$RC" = 1 ] || why "setup for a dead pid: exit $RC"
grep -q "gone" <<<"$ERR" || why "error does not say the process is gone: $ERR"
l=$(leftovers bt-f 10.0.0.50); [ -z "$l" ] || why "dead pid left:$l"
spawn; G=$INST
drv setup "$G" bt-g bridge --addr 10.2.0.2/24 --bridge lo
[ "$RC" = 1 ] && grep -q "not a bridge" <<<"$ERR" || why "bridge lo: exit $RC: $ERR"
has_link bt-g && why "bridge lo left bt-g"
# IPv6 off in the instance: the host side is done when adding fd00::51 inside fails.
in_ns "$G" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
drv setup "$G" bt-g routed --addr 10.0.0.51 --addr fd00::51 --uplink up0 --rate-out 10000000 --rate-in 10000000
[ "$RC" = 1 ] || why "setup with IPv6 off inside: exit $RC, want 1"
l=$(leftovers bt-g 10.0.0.51); [ -z "$l" ] || why "late failure left:$l"
in_ns "$G" ip link show eth0 >/dev/null 2>&1 && why "late failure left eth0 in the instance"
end

# ---- rates ----------------------------------------------------------------------
# iperf3 between the host namespace and an instance; RATE mbit each way, then changed live.
iperf_bps() { # PID ARGS...: received bits/s of a 6 s run (the first second omitted)
	in_ns "$1" iperf3 -c 198.51.100.1 -t 6 -O 1 -J "${@:2}" 2>/dev/null |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' 2>/dev/null
}
within() { # MEASURED WANT: within +-15 %
	[ -n "$1" ] && (($1 * 100 >= $2 * 85 && $1 * 100 <= $2 * 115))
}
begin "bandwidth: --net-rate holds within 15% both ways, and changes live"
if ! command -v iperf3 >/dev/null; then
	skipping "iperf3 is not installed (Debian package iperf3, in ./dev's TEST_PKGS)"
else
	spawn; R=$INST
	setup "$R" bt-r routed --addr 10.0.0.30 --rate-in 40000000 --rate-out 40000000
	iperf3 -s -B 198.51.100.1 -D --pidfile "/tmp/netns-iperf.$$" >/dev/null 2>&1
	sleep 0.3
	for rate in 40000000 15000000; do
		[ "$rate" = 40000000 ] || drv rate bt-r "$rate" "$rate"
		up=$(iperf_bps "$R")
		down=$(iperf_bps "$R" -R)
		echo "# rate $((rate / 1000000)) mbit: from the instance ${up:-?} bit/s, to it ${down:-?} bit/s"
		within "$up" "$rate" || why "from the instance at $rate: measured ${up:-nothing}"
		within "$down" "$rate" || why "to the instance at $rate: measured ${down:-nothing}"
	done
	drv rate bt-r 0 0
	has_link bi-r && why "rate 0 left the ifb bi-r"
	tc qdisc show dev bt-r | grep -q tbf && why "rate 0 left a tbf on bt-r"
	kill "$(cat "/tmp/netns-iperf.$$")" 2>/dev/null
	rm -f "/tmp/netns-iperf.$$"
fi
end

# ---- teardown -------------------------------------------------------------------
begin "when the namespace dies nothing is left; netns_teardown removes ifb and proxy entries"
spawn; V=$INST
setup "$V" bt-v routed --addr 10.0.0.40 --addr fd00::40 --uplink up0 --rate-out 20000000
has_link bi-v || why "rate-out made no ifb bi-v"
kill -KILL "$A" "$V"; wait "$A" "$V" 2>/dev/null
gone bt-a || why "bt-a still there 10 s after A died"
gone bt-v || why "bt-v still there 10 s after V died"
[ -z "$(ip route show 10.0.0.2)$(ip -6 route show fd00::2)" ] || why "routes to A are left"
drv teardown bt-a routed --addr 10.0.0.2 --addr fd00::2 --uplink up0
[ "$RC" = 0 ] || why "teardown after death: $ERR"
drv teardown bt-v routed --addr 10.0.0.40 --addr fd00::40 --uplink up0
ip neigh show proxy | grep -q "10.0.0.2" && why "proxy entry for 10.0.0.2 left"
ip -6 neigh show proxy | grep -q "fd00::40" && why "proxy entry for fd00::40 left"
has_link bi-v && why "ifb bi-v left after teardown"
drv teardown bt-b routed --addr 10.0.0.3
[ "$RC" = 0 ] || why "teardown of a live instance: $ERR"
has_link bt-b && why "teardown left bt-b"
end

finish
