#!/bin/bash
# SPDX-License-Identifier: MIT
#
# berth instance networking (issue 5), on busybox-init instances: routed and
# bridge mode, addresses across reboots, anti-spoofing, IPAM under 100
# concurrent creates, refused fixed addresses, live rate changes, nothing
# left behind. Root, this host's kernel.
#
#   network.sh BERTH
#
# The whole script runs in a private mount namespace and a private network
# namespace of its own (lib.sh's private_mntns): that namespace is the
# instances' "host"; the machine's own interfaces, routes and sysctls are
# never touched. Forwarding is enabled there (what an operator does on a
# real host, docs/NETWORK.md). State lives under a temp --root removed at the
# end; every instance made is deleted at the end (trap), even on failure.
# Each test prints "ok - NAME", "ok - NAME # SKIP why" or "not ok - NAME:
# why"; the last line is "network: N passed, N failed, N skipped".
# shellcheck disable=SC2016 # $... in single quotes is for eval or the shell inside
# shellcheck disable=SC2015 # [ ] && [ ] || why: why is meant to run when either fails
# shellcheck disable=SC2034 # CTX is read by lib.sh
set -u
export LC_ALL=C
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$(realpath "$0")")/lib.sh" || exit 99

suite_init network "berth network tests"
need_args "BERTH" "$@"
need_root "namespaces, veths, routes, cgroups"
BERTH=$(realpath -e "$1") || exit 2
need_tools unshare mount env find timeout ip tc nsenter python3
private_mntns BERTH_NET_HOST_NS "$BERTH"

find_cgroup2
work_dirs berth-net-it berth-net-root
nap_init
cover_cgroup_v1 berth-net-cover
harness_cgroup berth-net-it

# Short names: the host-side link is "bt-" + the name (15 characters at most).
N=n$$
A=$N-a B=$N-b C=$N-c D=$N-d
MADE=()
PAR=100 # concurrent creates

cleanup() {
	local n
	trap '' INT TERM HUP PIPE
	for n in "${MADE[@]}"; do
		if [ -e "$R/lib/instances/$n" ]; then
			timeout --signal=KILL 20 env --default-signal "$BERTH" --root "$R" delete --force "$n" \
				>/dev/null 2>&1 </dev/null
		fi
	done
	cleanup_harness
}
trap cleanup EXIT

brun() { berth_run 30 "$@"; }


# status NAME: berth status --json (the whole text); addr4/addr6 NAME: its first address.
status_json() { timeout --signal=KILL 30 "$BERTH" --root "$R" status "$1" --json 2>&1 </dev/null; }
addr4() { status_json "$1" | grep -oE '"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+"' | head -1 | tr -d '"'; }
addr6() { status_json "$1" | grep -oE '"[0-9a-f]*:[0-9a-f:]*/[0-9]+"' | head -1 | tr -d '"'; }
jnum() { sed -n "s/^ *\"$1\": *\([0-9]*\),\{0,1\}\$/\1/p" <<<"$2" | head -1; }
state_of() { status_json "$1" | sed -n 's/^ *"state": *"\([a-z]*\)".*/\1/p' | head -1; }
boots_of() { jnum boots "$(status_json "$1")"; }
is_running() { [ "$(state_of "$1")" = running ]; }
# counter NAME KEY: a net_* counter of berth stats NAME --json.
counter() { jnum "$2" "$(timeout --signal=KILL 30 "$BERTH" --root "$R" stats "$1" --json --interval 0 2>/dev/null </dev/null)"; }
ifname() { echo "bt-$1"; }
# inside NAME CMD...: run CMD in the instance (berth exec); RC, OUT, ERR.
inside() { local n=$1; shift; berth_run 30 exec "$n" -- "$@"; }
# ping_ok NAME ADDR: the instance reaches ADDR (a few tries: IPv6 addresses start tentative).
ping_from() { inside "$1" ping -c 1 -W 2 "$2" && [ "$RC" = 0 ]; }
ping_ok() { until_ 15 ping_from "$1" "$2"; }
init_pid() { jnum init_pid "$(status_json "$1")"; }
# echos NAME: ICMP echo requests the instance's kernel has received (its /proc/net/snmp).
echos() {
	timeout --signal=KILL 30 "$BERTH" --root "$R" exec "$1" -- cat /proc/net/snmp 2>/dev/null </dev/null |
		awk '$1 == "Icmp:" { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 } else print $c }'
}

# What an operator does on the uplink host: forward between the links.
echo 1 >/proc/sys/net/ipv4/ip_forward || bail "cannot enable IPv4 forwarding in the private namespace"
echo 1 >/proc/sys/net/ipv6/conf/all/forwarding || bail "cannot enable IPv6 forwarding"
mkdir -p "$R/etc"

# --- routed ----------------------------------------------------------------------

begin "routed (default): create leases one address per family, start makes the host side"
MADE+=("$A" "$B")
brun create "$A"
want_rc 0
brun create "$B"
want_rc 0
A4=$(addr4 "$A") A6=$(addr6 "$A") B4=$(addr4 "$B") B6=$(addr6 "$B")
[ "$A4" = 10.88.0.2/16 ] || why "$A has IPv4 $(q "$A4"), want 10.88.0.2/16 (the pool's lowest free)"
[ "$A6" = fd88::2/64 ] || why "$A has IPv6 $(q "$A6"), want fd88::2/64"
[ "$B4" = 10.88.0.3/16 ] || why "$B has IPv4 $(q "$B4"), want 10.88.0.3/16"
brun start "$A"
want_rc 0
brun start "$B"
want_rc 0
ip link show "$(ifname "$A")" >/dev/null 2>&1 || why "no host-side link $(ifname "$A")"
ip route show "${A4%/*}" | grep -q "dev $(ifname "$A")" ||
	why "no host route to ${A4%/*} via $(ifname "$A"): $(q "$(ip route)")"
inside "$A" ip -4 addr show eth0
grep -qF "inet ${A4%/*}" <<<"$OUT" || why "eth0 inside $A lacks ${A4%/*}: $(q "$OUT")"
end

begin "routed: an instance pings its gateway and another instance (IPv4 and IPv6)"
ping_ok "$A" 169.254.0.1 || why "$A cannot ping its gateway 169.254.0.1: $(q "$OUT$ERR")"
ping_ok "$A" "${B4%/*}" || why "$A cannot ping $B at ${B4%/*}: $(q "$OUT$ERR")"
ping_ok "$B" "${A6%/*}" || why "$B cannot ping $A at ${A6%/*}: $(q "$OUT$ERR")"
ping_ok "$A" "${B6%/*}" || why "$A cannot ping $B at ${B6%/*}: $(q "$OUT$ERR")"
end

begin "routed: the address survives a reboot inside and a stop/start"
b0=$(boots_of "$A")
inside "$A" reboot
until_ 30 eval '[ "$(boots_of "$A")" -gt "$b0" ] && is_running "$A"' ||
	why "$A did not come back from reboot (boots $(boots_of "$A"), was $b0)"
[ "$(addr4 "$A")" = "$A4" ] || why "after reboot status says $(q "$(addr4 "$A")"), want $A4"
ping_ok "$A" "${B4%/*}" || why "after reboot $A cannot ping $B: $(q "$OUT$ERR")"
brun stop "$A"
want_rc 0
ip link show "$(ifname "$A")" >/dev/null 2>&1 && why "$(ifname "$A") still there after stop"
ip route show "${A4%/*}" | grep -q . && why "route to ${A4%/*} still there after stop"
brun start "$A"
want_rc 0
inside "$A" ip -4 addr show eth0
grep -qF "inet ${A4%/*}" <<<"$OUT" || why "after stop/start eth0 lacks ${A4%/*}: $(q "$OUT")"
ping_ok "$B" "${A4%/*}" || why "after stop/start $B cannot ping $A: $(q "$OUT$ERR")"
end

# spoof_check FROM TO SETUP PING_OPTS: after SETUP inside FROM, 5 pings from FROM to
# TO's address arrive nowhere (TO's kernel counts no echo request) and FROM's host
# side counts them dropped; a ping before SETUP arrives (the control).
spoof_check() {
	local from=$1 to=$2 to4=$3 setup=$4 e0 e1 e2 d0 d1
	shift 4
	e0=$(echos "$to")
	ping_ok "$from" "$to4" || why "control: $from cannot ping $to"
	e1=$(echos "$to")
	[ -n "$e0" ] && [ -n "$e1" ] && [ "$e1" -gt "$e0" ] ||
		why "control: $to's InEchos $(q "$e0") -> $(q "$e1"), want it to grow"
	inside "$from" sh -c "$setup"
	want_rc 0
	d0=$(counter "$from" net_tx_dropped)
	inside "$from" ping -c 5 -i 0.2 -W 1 "$@" "$to4"
	[ "$RC" != 0 ] || why "the spoofed pings got answers: $(q "$OUT")"
	e2=$(echos "$to") d1=$(counter "$from" net_tx_dropped)
	[ "$e2" = "$e1" ] || why "$to received $((e2 - e1)) echo requests from the spoofer"
	[ $((d1 - d0)) -ge 5 ] || why "$from's host side dropped $((d1 - d0)) packets, want >= 5"
}

begin "routed: a spoofed source address from inside never arrives"
# An address that is not the instance's (a neighbour's) on eth0, and pings from it.
spoof_check "$A" "$B" "${B4%/*}" "ip addr add 10.88.0.250/32 dev eth0" -I 10.88.0.250
inside "$A" ip addr del 10.88.0.250/32 dev eth0
end

begin "resolv.conf: the network config's DNS servers, read-only at /etc/resolv.conf"
printf '{"dns": ["192.0.2.53", "2001:db8::53"]}\n' >"$R/etc/network.json"
brun stop "$B"
brun start "$B"
want_rc 0
inside "$B" cat /etc/resolv.conf
grep -qx 'nameserver 192.0.2.53' <<<"$OUT" || why "resolv.conf: $(q "$OUT")"
grep -qx 'nameserver 2001:db8::53' <<<"$OUT" || why "resolv.conf: $(q "$OUT")"
inside "$B" sh -c 'echo x >> /etc/resolv.conf'
[ "$RC" != 0 ] || why "resolv.conf is writable inside"
rm -f "$R/etc/network.json"
end

# --- bridge ----------------------------------------------------------------------

begin "bridge: two instances on berth0 reach each other and the gateway"
MADE+=("$C" "$D")
brun create "$C" --net bridge
want_rc 0
brun create "$D" --net bridge
want_rc 0
C4=$(addr4 "$C") D4=$(addr4 "$D")
brun start "$C"
want_rc 0
brun start "$D"
want_rc 0
ip -d link show "$(ifname "$C")" 2>/dev/null | grep -q "master berth0" ||
	why "$(ifname "$C") is not enslaved to berth0: $(q "$(ip -d link show "$(ifname "$C")" 2>&1)")"
ping_ok "$C" "${D4%/*}" || why "$C cannot ping $D at ${D4%/*}: $(q "$OUT$ERR")"
ping_ok "$D" 10.88.0.1 || why "$D cannot ping the bridge gateway 10.88.0.1: $(q "$OUT$ERR")"
end

begin "bridge: a changed MAC from inside never arrives"
# A foreign MAC on eth0, and D's MAC pinned (arp -s) so that the pings leave at once.
inside "$D" cat /sys/class/net/eth0/address
DMAC=$OUT
spoof_check "$C" "$D" "${D4%/*}" "ip link set eth0 address 02:00:00:00:be:ef && arp -s ${D4%/*} $DMAC"
end

# --- none, and configs from before networking -----------------------------------

begin "--net none, and a config.json without \"network\" (older berth): loopback only, no host link"
E=$N-e F=$N-f
MADE+=("$E" "$F")
brun create "$E" --net none
want_rc 0
brun create "$F" --net none
want_rc 0
# An older berth wrote no "network" member at all.
python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); del c["network"]; json.dump(c, open(sys.argv[1], "w"))' \
	"$R/lib/instances/$F/config.json" || why "could not rewrite config.json"
grep -q network "$R/lib/instances/$F/config.json" && why "could not strip the network member"
for n in "$E" "$F"; do
	CTX=$n
	brun start "$n"
	want_rc 0
	inside "$n" cat /proc/net/dev
	grep -q 'lo:' <<<"$OUT" || why "no lo inside: $(q "$OUT")"
	grep -q 'eth0:' <<<"$OUT" && why "an eth0 inside: $(q "$OUT")"
	ip link show "$(ifname "$n")" >/dev/null 2>&1 && why "a host link $(ifname "$n")"
	berth_run 30 status "$n"
	grep -q '^network: *none' <<<"$OUT" || why "status: $(q "$OUT")"
	brun delete --force "$n"
	want_rc 0
done
CTX=''
end

# --- rates -----------------------------------------------------------------------

# mbits FROM TO_ADDR: iperf3 from FROM's network namespace to a server in TO's: what
# the receiver got, Mbit/s (the sender's figure counts what the policer dropped too).
mbits() {
	timeout 20 nsenter --net="/proc/$(init_pid "$1")/ns/net" iperf3 -c "$2" -t 3 -f m 2>/dev/null |
		sed -n 's/.* \([0-9.]*\) Mbits\/sec.*receiver$/\1/p' | tail -1 | cut -d. -f1
}

begin "set --net-rate: changed live (iperf3 and the status) and saved"
if ! command -v iperf3 >/dev/null; then
	skipping "no iperf3 (apt-get install iperf3)"
else
	timeout 60 nsenter --net="/proc/$(init_pid "$B")/ns/net" iperf3 -s -1 -D >/dev/null 2>&1
	nap 0.5
	before=$(mbits "$A" "${B4%/*}")
	brun set "$A" --net-rate 10mbit
	want_rc 0
	grep -q "applied and saved" <<<"$OUT" || why "set says $(q "$OUT")"
	timeout 60 nsenter --net="/proc/$(init_pid "$B")/ns/net" iperf3 -s -1 -D >/dev/null 2>&1
	nap 0.5
	after=$(mbits "$A" "${B4%/*}")
	echo "# iperf3 $A -> $B (receiver): ${before:-?} Mbit/s unlimited, ${after:-?} Mbit/s at --net-rate 10mbit"
	[ -n "$before" ] && [ -n "$after" ] || why "iperf3 gave no result (before $(q "$before"), after $(q "$after"))"
	[ "${before:-0}" -gt 30 ] || why "before the limit: ${before:-?} Mbit/s, want > 30"
	[ "${after:-999}" -le 13 ] || why "after --net-rate 10mbit: ${after:-?} Mbit/s, want <= 13"
	grep -q '"rate_out": 10000000' "$R/lib/instances/$A/config.json" || why "rate not saved in config.json"
	berth_run 30 status "$A"
	grep -q 'net rate: *in 10mbit, out 10mbit' <<<"$OUT" || why "status: $(q "$OUT")"
fi
end

begin "set --net-rate on a stopped instance: saved, in force at the next start"
brun stop "$B"
want_rc 0
brun set "$B" --net-rate-in 20mbit
want_rc 0
grep -q "saved (applied at the next start)" <<<"$OUT" || why "set says $(q "$OUT")"
brun start "$B"
want_rc 0
berth_run 30 status "$B"
grep -q 'net rate: *in 20mbit, out unlimited' <<<"$OUT" || why "status: $(q "$OUT")"
tc qdisc show dev "$(ifname "$B")" | grep -qi tbf ||
	why "no rate qdisc on $(ifname "$B") after start: $(q "$(tc qdisc show dev "$(ifname "$B")")")"
brun set "$E-missing" --net-rate 1mbit
want_refused "$E-missing"
end

# --- IPAM ------------------------------------------------------------------------

begin "IPAM: $PAR concurrent creates get $PAR distinct addresses"
pids=()
for ((i = 0; i < PAR; i++)); do
	MADE+=("$N-p$i")
	timeout --signal=KILL 120 "$BERTH" --root "$R" create "$N-p$i" --net routed \
		>"$WORK/p$i.out" 2>"$WORK/p$i.err" </dev/null &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
[ "$fails" = 0 ] || why "$fails creates failed (e.g. $(q "$(cat "$WORK"/p*.err | head -3)"))"
all4=$(for ((i = 0; i < PAR; i++)); do grep -oE '"10\.88\.[0-9]+\.[0-9]+/16"' "$R/lib/instances/$N-p$i/config.json"; done)
all6=$(for ((i = 0; i < PAR; i++)); do grep -oE '"fd88::[0-9a-f]+/64"' "$R/lib/instances/$N-p$i/config.json"; done)
[ "$(sort -u <<<"$all4" | grep -c .)" = "$PAR" ] || why "$(sort -u <<<"$all4" | grep -c .) distinct IPv4 addresses, want $PAR"
[ "$(sort -u <<<"$all6" | grep -c .)" = "$PAR" ] || why "$(sort -u <<<"$all6" | grep -c .) distinct IPv6 addresses, want $PAR"
others=$(printf '%s\n' "\"$A4\"" "\"$B4\"" "\"$C4\"" "\"$D4\"")
[ -z "$(comm -12 <(sort <<<"$all4") <(sort <<<"$others"))" ] || why "an address given twice: $(comm -12 <(sort <<<"$all4") <(sort <<<"$others"))"
end

begin "IPAM: delete frees an address; the next create gets it"
freed=$(addr4 "$N-p50")
brun delete "$N-p50"
want_rc 0
MADE+=("$N-again")
brun create "$N-again"
want_rc 0
[ "$(addr4 "$N-again")" = "$freed" ] || why "the new instance got $(q "$(addr4 "$N-again")"), want the freed $freed"
end

begin "IPAM: a fixed address taken, outside every pool or malformed: refused, nothing made"
cp "$R/lib/network/leases.json" "$WORK/leases.before"
for bad in "$A4|taken by instance $A" "192.0.2.5/24|outside every pool" "10.88.0.300/16|not an IPv4 or IPv6" "10.88.0.9|no prefix length"; do
	CTX="--ip ${bad%%|*}"
	brun create "$N-bad" --ip "${bad%%|*}"
	want_refused "${bad#*|}"
	grep -qF -- "${bad%%|*}" <<<"$ERR" || why "the error does not name ${bad%%|*}"
	[ ! -e "$R/lib/instances/$N-bad" ] || why "$N-bad was created"
	cmp -s "$WORK/leases.before" "$R/lib/network/leases.json" || why "leases.json changed"
done
CTX=''
MADE+=("$N-fix")
brun create "$N-fix" --ip 10.88.200.7/16 --ip auto
want_rc 0
[ "$(addr4 "$N-fix")" = 10.88.200.7/16 ] || why "fixed address: status says $(q "$(addr4 "$N-fix")")"
[ -n "$(addr6 "$N-fix")" ] || why "--ip auto gave no IPv6 address next to the fixed IPv4 one"
end

# --- nothing left ----------------------------------------------------------------

begin "after stop and delete: no veth, route, bridge port or lease is left"
for n in "$A" "$B" "$C" "$D"; do
	brun delete --force "$n"
	CTX="delete $n" want_rc 0
done
left=$(ip -o link show type veth 2>/dev/null)
[ -z "$left" ] || why "veths left: $(q "$left")"
left=$(ip route show | grep -E "bt-|${A4%/*} |${B4%/*} " || true)
[ -z "$left" ] || why "routes left: $(q "$left")"
left=$(ip -6 route show | grep -E "bt-" || true)
[ -z "$left" ] || why "IPv6 routes left: $(q "$left")"
for n in "$A" "$B" "$C" "$D"; do
	grep -q "\"$n\"" "$R/lib/network/leases.json" && why "lease of $n left in leases.json"
done
end

finish
