# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The battery's network attacks (sourced by security.sh, after A and B run).
# The script's private network namespace is the instances' host; the
# receivers judge: the host's own counters (/proc/net/snmp, per link
# /proc/net/dev_snmp6/LINK) and neighbour table, the victim instance's
# counters and ARP table. The sender's host side's net_tx_dropped (berth
# stats: the anti-spoofing filter's drops) says why a packet did not arrive.
# Controls: the same send from the attacker's own address or MAC arrives, and
# the same attack from an instance made with --no-antispoof gets through.
# shellcheck disable=SC2015 # [ ] && [ ] || why: why is meant to run when either fails
# shellcheck disable=SC2016 # $... in single quotes is for the shell inside

SPOOFS=5 # packets per attack

status_json() { timeout --signal=KILL 30 "$BERTH" --root "$R" status "$1" --json 2>&1 </dev/null; }
addr4() { status_json "$1" | grep -oE '"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+"' | head -1 | tr -d '"' | cut -d/ -f1; }
addr6() { status_json "$1" | grep -oE '"[0-9a-f]*:[0-9a-f:]*/[0-9]+"' | head -1 | tr -d '"' | cut -d/ -f1; }
jnum() { sed -n "s/^ *\"$1\": *\([0-9]*\),\{0,1\}\$/\1/p" <<<"$2" | head -1; }
# tx_dropped NAME: what its host side dropped of its traffic (anti-spoofing, rate out).
tx_dropped() { jnum net_tx_dropped "$(timeout --signal=KILL 30 "$BERTH" --root "$R" stats "$1" --json --interval 0 2>/dev/null </dev/null)"; }
# snmp_field TEXT TABLE FIELD: FIELD of TABLE ("Icmp", "Ip") in a /proc/net/snmp text.
snmp_field() {
	awk -v t="$2:" -v f="$3" '$1 == t { if (!h) { for (i = 1; i <= NF; i++) if ($i == f) c = i; h = 1 } else print $c }' <<<"$1"
}
# in_snmp NAME FIELD: an Icmp counter of the instance's own kernel; host_snmp FIELD: the host's.
in_snmp() { snmp_field "$(timeout --signal=KILL 30 "$BERTH" --root "$R" exec "$1" -- cat /proc/net/snmp 2>/dev/null </dev/null)" Icmp "$2"; }
host_snmp() { snmp_field "$(cat /proc/net/snmp)" Icmp "$1"; }
# in_snmp6 NAME FIELD: the instance's /proc/net/snmp6; host_snmp6 LINK FIELD: the host's, per link.
in_snmp6() { timeout --signal=KILL 30 "$BERTH" --root "$R" exec "$1" -- cat /proc/net/snmp6 2>/dev/null </dev/null | awk -v f="$2" '$1 == f { print $2 }'; }
host_snmp6() { awk -v f="$2" '$1 == f { print $2 }' "/proc/net/dev_snmp6/$1" 2>/dev/null; }
mac_of() { timeout --signal=KILL 30 "$BERTH" --root "$R" exec "$1" -- cat /sys/class/net/eth0/address 2>/dev/null </dev/null; }
# arp_of NAME IP: the MAC the instance's ARP table has for IP.
arp_of() { timeout --signal=KILL 30 "$BERTH" --root "$R" exec "$1" -- cat /proc/net/arp 2>/dev/null </dev/null | awk -v ip="$2" '$1 == ip { print $4 }'; }
host_neigh() { ip neigh show "$1" dev "$2" 2>/dev/null | sed -n 's/.* lladdr \([0-9a-f:]*\).*/\1/p'; }

# spoof WHO ARGS...: /atk/spoof ARGS inside WHO; DROPPED = what its host side dropped meanwhile.
spoof() {
	local who=$1 d0
	shift
	d0=$(tx_dropped "$who")
	brun exec "$who" -- /atk/spoof "$@"
	[ "$RC" = 0 ] || why "spoof $1 in $who exited $RC$(errhint)"
	grep -qx "sent: $SPOOFS" <<<"$OUT" || why "spoof $1 in $who: the sends themselves failed: $(q "$OUT")"
	nap 0.3
	DROPPED=$(($(tx_dropped "$who") - ${d0:-0}))
}
# grew DESC BEFORE CMD...: the counter CMD prints grows by at least half the packets sent
# within 5 s (a control; the first packets may wait for neighbour discovery).
grew() {
	local desc=$1 before=$2 now
	shift 2
	for _ in $(seq 50); do
		now=$("$@")
		[ $((${now:-0} - ${before:-0})) -ge $((SPOOFS / 2 + 1)) ] && return 0
		nap 0.1
	done
	why "control: $desc went $(q "$before") -> $(q "$now"), want +$SPOOFS"
}
# still DESC BEFORE AFTER: unchanged (the attack did not arrive).
still() { [ "$2" = "$3" ] || why "$1 went $(q "$2") -> $(q "$3"): the spoofed packets arrived"; }
dropped() { [ "${DROPPED:-0}" -ge "$SPOOFS" ] || why "$1's host side dropped ${DROPPED:-?}, want >= $SPOOFS (the anti-spoofing filter's count)"; }

A4=$(addr4 "$A") A6=$(addr6 "$A") B4=$(addr4 "$B") B6=$(addr6 "$B")

begin "network, routed: A sends ICMP with B's IPv4 and IPv6 source (raw sockets): the gateway and B get nothing; A's own source arrives"
if [ -z "$A4" ] || [ -z "$B4" ] || [ -z "$A6" ] || [ -z "$B6" ]; then
	why "A or B has no IPv4 or IPv6 address: A $(q "$A4 $A6"), B $(q "$B4 $B6")"
else
	# Own addresses first: the control, and it settles neighbour discovery with the gateway.
	h0=$(host_snmp InEchos)
	spoof "$A" ip4 "$A4" 169.254.0.1 "$SPOOFS"
	grew "the gateway's InEchos from A's own address" "$h0" host_snmp InEchos
	l=bt-$A
	h0=$(host_snmp6 "$l" Icmp6InEchos)
	spoof "$A" ip6 "$A6" fe80::1 eth0 "$SPOOFS"
	grew "the gateway's Icmp6InEchos from A's own address" "$h0" host_snmp6 "$l" Icmp6InEchos
	h0=$(host_snmp InEchos) b0=$(in_snmp "$B" InEchoReps)
	spoof "$A" ip4 "$B4" 169.254.0.1 "$SPOOFS"
	dropped "$A"
	still "the gateway's InEchos" "$h0" "$(host_snmp InEchos)"
	still "B's InEchoReps (the gateway's answers to B)" "$b0" "$(in_snmp "$B" InEchoReps)"
	h0=$(host_snmp6 "$l" Icmp6InEchos) b0=$(in_snmp6 "$B" Icmp6InEchoReplies)
	spoof "$A" ip6 "$B6" fe80::1 eth0 "$SPOOFS"
	dropped "$A"
	still "the gateway's Icmp6InEchos on $l" "$h0" "$(host_snmp6 "$l" Icmp6InEchos)"
	still "B's Icmp6InEchoReplies" "$b0" "$(in_snmp6 "$B" Icmp6InEchoReplies)"
fi
end

begin "network, routed: ARP from A claiming B's or the gateway's address leaves no entry on the host; A's own claim does"
l=bt-$A
AMAC=$(mac_of "$A")
ip neigh flush dev "$l" 2>/dev/null
spoof "$A" arp eth0 "$AMAC" "$B4" 169.254.0.1 "$SPOOFS" # "who has the gateway, tell B"
dropped "$A"
spoof "$A" arp eth0 "$AMAC" 169.254.0.1 169.254.0.1 "$SPOOFS" # gratuitous: "the gateway is at A"
dropped "$A"
[ -z "$(host_neigh "$B4" "$l")" ] || why "the host's neighbour table has $B4 on $l: $(q "$(ip neigh show dev "$l")")"
[ -z "$(host_neigh "$A4" "$l")" ] || why "control: the host already has an entry for $A4 on $l: cannot tell"
spoof "$A" arp eth0 "$AMAC" "$A4" 169.254.0.1 "$SPOOFS"
[ "$(host_neigh "$A4" "$l")" = "$AMAC" ] || why "control: the host's entry for $A4 on $l is $(q "$(host_neigh "$A4" "$l")"), want $AMAC"
end

# --- on a bridge: one L2 segment with a neighbour -------------------------------

C=$N-c D=$N-d E=$N-e
begin "network, bridge: attacker C, victim D, and E (--no-antispoof, the control) on berth0"
for n in "$C" "$D" "$E"; do
	MADE+=("$n")
	extra=()
	[ "$n" = "$E" ] && extra=(--no-antispoof)
	brun create "$n" --template sec --net bridge "${extra[@]}"
	[ "$RC" = 0 ] || why "create $n: exit $RC$(errhint)"
	brun start "$n"
	[ "$RC" = 0 ] || why "start $n: exit $RC$(errhint)"
done
C4=$(addr4 "$C") C6=$(addr6 "$C") D4=$(addr4 "$D") D6=$(addr6 "$D") E4=$(addr4 "$E") E6=$(addr6 "$E")
CMAC=$(mac_of "$C") DMAC=$(mac_of "$D") EMAC=$(mac_of "$E") GMAC=$(ip -o link show berth0 2>/dev/null | sed -n 's/.* link\/ether \([0-9a-f:]*\).*/\1/p')
GW4=$(ip -4 -o addr show dev berth0 2>/dev/null | awk '{print $4; exit}' | cut -d/ -f1)
GW6=$(ip -6 -o addr show dev berth0 scope global 2>/dev/null | awk '{print $4; exit}' | cut -d/ -f1)
[ -n "$C4" ] && [ -n "$D4" ] && [ -n "$E4" ] && [ -n "$C6" ] && [ -n "$D6" ] && [ -n "$E6" ] &&
	[ -n "$CMAC" ] && [ -n "$DMAC" ] && [ -n "$EMAC" ] && [ -n "$GMAC" ] && [ -n "$GW4" ] && [ -n "$GW6" ] ||
	why "missing an address or MAC: C $C4 $C6 $CMAC, D $D4 $D6 $DMAC, E $E4 $E6 $EMAC, gateway $GW4 $GW6 $GMAC"
# D's ping makes both entries: D's for the gateway, the host's for D (from D's ARP request).
brun exec "$D" -- ping -c 1 -W 2 "$GW4"
[ "$RC" = 0 ] || why "D cannot ping the gateway $GW4$(errhint)"
[ "$(arp_of "$D" "$GW4")" = "$GMAC" ] || why "D's ARP entry for the gateway: $(q "$(arp_of "$D" "$GW4")"), want $GMAC"
[ "$(host_neigh "$D4" berth0)" = "$DMAC" ] || why "the host's entry for D: $(q "$(host_neigh "$D4" berth0)"), want $DMAC"
end
[ -z "$WHY" ] || bail "no bridge instances to attack with"

# bridge_ip WHO SRC4 SRC6: WHO pings the gateway from D's addresses (raw sockets).
bridge_ip() {
	h0=$(host_snmp InEchos) b0=$(in_snmp "$D" InEchoReps)
	h6=$(host_snmp6 berth0 Icmp6InEchos) b6=$(in_snmp6 "$D" Icmp6InEchoReplies)
	spoof "$1" ip4 "$D4" "$GW4" "$SPOOFS"
	[ "$1" = "$E" ] || dropped "$1"
	spoof "$1" ip6 "$D6" "$GW6" eth0 "$SPOOFS"
	[ "$1" = "$E" ] || dropped "$1"
}

begin "network, bridge: C sends with D's IPv4 and IPv6 source: the gateway and D get nothing (from C's own: arrives)"
h0=$(host_snmp InEchos) h6=$(host_snmp6 berth0 Icmp6InEchos)
spoof "$C" ip4 "$C4" "$GW4" "$SPOOFS"
spoof "$C" ip6 "$C6" "$GW6" eth0 "$SPOOFS"
grew "the gateway's InEchos from C's own address" "$h0" host_snmp InEchos
grew "the gateway's Icmp6InEchos from C's own address" "$h6" host_snmp6 berth0 Icmp6InEchos
bridge_ip "$C"
still "the gateway's InEchos" "$h0" "$(host_snmp InEchos)"
still "D's InEchoReps" "$b0" "$(in_snmp "$D" InEchoReps)"
still "the gateway's Icmp6InEchos on berth0" "$h6" "$(host_snmp6 berth0 Icmp6InEchos)"
still "D's Icmp6InEchoReplies" "$b6" "$(in_snmp6 "$D" Icmp6InEchoReplies)"
end

begin "network, bridge: a frame with a forged source MAC (AF_PACKET) never reaches D (C's own MAC does)"
d0=$(in_snmp "$D" InEchos)
spoof "$C" mac eth0 "$CMAC" "$DMAC" "$C4" "$D4" "$SPOOFS"
grew "D's InEchos from C's own MAC" "$d0" in_snmp "$D" InEchos
d0=$(in_snmp "$D" InEchos)
spoof "$C" mac eth0 02:00:00:00:be:ef "$DMAC" "$C4" "$D4" "$SPOOFS"
dropped "$C"
still "D's InEchos" "$d0" "$(in_snmp "$D" InEchos)"
end

begin "network, bridge: gratuitous ARP from C claiming the gateway's or D's address poisons nobody"
spoof "$C" arp eth0 "$CMAC" "$GW4" "$GW4" "$SPOOFS"
dropped "$C"
spoof "$C" arp eth0 "$CMAC" "$D4" "$D4" "$SPOOFS"
dropped "$C"
nap 0.2
[ "$(arp_of "$D" "$GW4")" = "$GMAC" ] || why "D's ARP entry for the gateway is now $(q "$(arp_of "$D" "$GW4")"), want $GMAC"
[ "$(host_neigh "$D4" berth0)" = "$DMAC" ] || why "the host's entry for D is now $(q "$(host_neigh "$D4" berth0)"), want $DMAC"
end

begin "network, bridge: a router advertisement from C reaches neither D nor the host"
d0=$(in_snmp6 "$D" Icmp6InRouterAdvertisements) h0=$(host_snmp6 berth0 Icmp6InRouterAdvertisements)
spoof "$C" ra eth0 "$SPOOFS"
dropped "$C"
still "D's Icmp6InRouterAdvertisements" "$d0" "$(in_snmp6 "$D" Icmp6InRouterAdvertisements)"
still "the host's Icmp6InRouterAdvertisements on berth0" "$h0" "$(host_snmp6 berth0 Icmp6InRouterAdvertisements)"
end

begin "network, bridge control: the same attacks from E (--no-antispoof) arrive, so the checks above can fail"
bridge_ip "$E"
grew "the gateway's InEchos from D's address sent by E" "$h0" host_snmp InEchos
grew "D's InEchoReps (answers to E's spoof)" "$b0" in_snmp "$D" InEchoReps
grew "the gateway's Icmp6InEchos from D's address sent by E" "$h6" host_snmp6 berth0 Icmp6InEchos
d0=$(in_snmp "$D" InEchos)
spoof "$E" mac eth0 02:00:00:00:be:ef "$DMAC" "$E4" "$D4" "$SPOOFS"
grew "D's InEchos from a forged MAC sent by E" "$d0" in_snmp "$D" InEchos
spoof "$E" arp eth0 "$EMAC" "$GW4" "$GW4" "$SPOOFS"
spoof "$E" arp eth0 "$EMAC" "$D4" "$D4" "$SPOOFS"
nap 0.2
[ "$(arp_of "$D" "$GW4")" = "$EMAC" ] || why "control: D's ARP entry for the gateway is $(q "$(arp_of "$D" "$GW4")"), want E's $EMAC"
[ "$(host_neigh "$D4" berth0)" = "$EMAC" ] || why "control: the host's entry for D is $(q "$(host_neigh "$D4" berth0)"), want E's $EMAC"
d0=$(in_snmp6 "$D" Icmp6InRouterAdvertisements)
spoof "$E" ra eth0 "$SPOOFS"
grew "D's Icmp6InRouterAdvertisements from E" "$d0" in_snmp6 "$D" Icmp6InRouterAdvertisements
end

for n in "$C" "$D" "$E"; do brun delete --force "$n"; done

# --- the host side's filters and rates ---------------------------------------------

# host_tc A: the host side's qdiscs and ingress filters (what A must not change).
host_tc() {
	tc qdisc show dev "bt-$1" 2>&1
	tc filter show dev "bt-$1" ingress 2>&1
	tc qdisc show dev "bi-$1" 2>&1
}
# ifb_sent A: bytes and drops the rate-out shaper (tbf on the ifb) has counted.
ifb_stat() { tc -s qdisc show dev "bi-$1" 2>/dev/null | awk '/^qdisc tbf/ { t = 1 } t && $1 == "Sent" { print $2, $(NF - 4) + 0; exit }' | tr -d ,; }

begin "network: A's root removes the qdiscs and filters it sees and floods; the host side's filter and --net-rate hold"
brun set "$A" --net-rate 8mbit
[ "$RC" = 0 ] || why "set --net-rate 8mbit: exit $RC$(errhint)"
tc0=$(host_tc "$A")
grep -q 'bpf' <<<"$tc0" && grep -q 'tbf' <<<"$tc0" || why "no anti-spoofing filter or tbf on A's host side: $(q "$tc0")"
# The host's tc binary as A's root (its user and network namespaces): what a tc inside could do.
t_in=(nsenter --target "$A_INIT" --user --net --)
"${t_in[@]}" tc qdisc replace dev eth0 root pfifo limit 100000 || why "A could not set its own eth0's qdisc"
"${t_in[@]}" tc qdisc add dev eth0 clsact || why "A could not add clsact on its own eth0"
"${t_in[@]}" tc qdisc del dev eth0 root || why "A could not delete its own eth0's root qdisc"
"${t_in[@]}" tc qdisc del dev eth0 clsact || why "A could not delete its own clsact"
"${t_in[@]}" tc qdisc show dev "bt-$A" >/dev/null 2>&1 && why "A sees its host side bt-$A"
[ "$(host_tc "$A")" = "$tc0" ] || why "A's host side changed: $(q "$(host_tc "$A")"), was $(q "$tc0")"
read -r s0 x0 < <(ifb_stat "$A")
brun exec "$A" -- /atk/flood 169.254.0.1 9 2
printf '%s\n' "$OUT" | sed 's/^/#   /'
sent=$(sed -n 's/^sent bytes: //p' <<<"$OUT") secs=$(sed -n 's/^seconds: //p' <<<"$OUT")
read -r s1 x1 < <(ifb_stat "$A")
passed=$((${s1:-0} - ${s0:-0})) drops=$((${x1:-0} - ${x0:-0}))
# 8 mbit/s is 1 MB/s: over the flood's seconds plus the burst (at least 32 KiB) and slack.
max=$(awk -v s="${secs:-0}" 'BEGIN { printf "%d", s * 1000000 * 1.25 + 200000 }')
echo "# A sent ${sent:-?} bytes in ${secs:-?} s; the host side's shaper passed $passed bytes, dropped $drops packets (at most $max bytes allowed)"
[ "${sent:-0}" -gt $((max * 3)) ] || why "A sent only ${sent:-?} bytes: not enough to test the rate (want > $((max * 3)))"
[ "$passed" -gt 0 ] && [ "$passed" -le "$max" ] || why "the shaper passed $passed bytes, want 1..$max"
[ "$drops" -gt 0 ] || why "the shaper dropped nothing"
brun set "$A" --net-rate 0
end
