/* SPDX-License-Identifier: MIT */
/*
 * netns: an instance's network, over netlink (libnl-route-3; libmnl where a
 * single raw message is simpler). Never by spawning ip(8) or tc(8).
 *
 * One veth pair per instance: the host side keeps a stable name derived from
 * the instance name, the other end moves into the instance's network
 * namespace as eth0 and is configured there before init runs. The pair dies
 * with the namespace. Two modes:
 *   routed (default): no bridge; host routes (/32, /128) to the instance's
 *     addresses on the host side, whose own addresses are the link-local
 *     gateways (169.254.0.1, fe80::1); strict reverse-path filtering.
 *   bridge: the host side is enslaved to a bridge (berth0 by default, made
 *     with its gateway addresses when missing).
 * In both, a clsact ingress filter on the host side drops any frame whose
 * source MAC, or any packet (IPv4, ARP, IPv6) whose source address, is not
 * the instance's own (anti-spoofing, on unless turned off).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"

/* IFNAMSIZ, without net/if.h (which clashes with linux/if.h). */
#define NET_IFNAMSIZ 16

/* Bring the loopback link of the caller's network namespace up. */
int netns_loopback_up(berr *err);

/*
 * Build the RTM_NEWLINK request that sets IFF_UP on ifindex into buf (no
 * syscalls). Returns the message length. Exposed for unit tests.
 */
size_t netns_build_link_up(void *buf, size_t size, int ifindex, unsigned int seq);

/* ---- addresses (addr.c) ---- */

/* An address with a prefix length: 192.0.2.10/24, 2001:db8::10/64. */
typedef struct net_addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* network byte order; AF_INET uses the first 4 */
	uint8_t prefix;    /* 0-32 or 0-128 */
} net_addr;

/*
 * "ADDR/PREFIX", or "ADDR" alone when host_prefix_ok (prefix /32 or /128).
 * The error names the text and what is wrong with it.
 */
int net_addr_parse(const char *s, bool host_prefix_ok, net_addr *ret, berr *err);
/* "ADDR/PREFIX" (with_prefix) or "ADDR"; returns the length or -ENOSPC. */
int net_addr_format(const net_addr *a, bool with_prefix, char *buf, size_t size);
/* Same family and a's address lies inside net's prefix. */
bool net_addr_in(const net_addr *net, const net_addr *a);
bool net_addr_equal(const net_addr *a, const net_addr *b); /* address and family, not prefix */

/* ---- names (names.c) ---- */

/*
 * The host side's interface name for an instance: "bt-" + the name when it
 * fits in NET_IFNAMSIZ-1 (15) characters, else "bt-" + the first 6 characters +
 * "-" + 5 hex digits of a hash of the whole name: stable, and distinct for
 * names that share a prefix.
 */
void net_host_ifname(const char *instance, char ret[NET_IFNAMSIZ]);
/* A stable, locally administered unicast MAC derived from the instance name (salt 0: eth0). */
void net_instance_mac(const char *instance, uint8_t ret[6]);

/* ---- the plan for one instance (setup.c, tc.c) ---- */

typedef enum net_mode {
	NET_NONE = 0, /* loopback only */
	NET_ROUTED,
	NET_BRIDGE,
} net_mode;

const char *net_mode_name(net_mode m);
int net_mode_parse(const char *s, net_mode *ret);

#define NET_MAX_ADDRS 8

typedef struct net_plan {
	net_mode mode;
	char host_ifname[NET_IFNAMSIZ]; /* net_host_ifname() */
	uint8_t mac[6];                 /* eth0's, net_instance_mac() */
	net_addr addrs[NET_MAX_ADDRS];  /* the instance's; routed: prefix ignored (/32, /128) */
	size_t n_addrs;
	/*
	 * The default routes' gateways. routed: 169.254.0.1 and fe80::1, set on
	 * the host side; bridge: the bridge's addresses (family 0: no route).
	 */
	net_addr gw4, gw6;
	char bridge[NET_IFNAMSIZ]; /* bridge mode: its name; created when missing */
	/* bridge mode, when the bridge is created: its addresses (the gateways, with the pool prefix) */
	net_addr bridge_addrs[2];
	size_t n_bridge_addrs;
	char uplink
		[NET_IFNAMSIZ]; /* routed: proxy ARP/NDP entries there for the addresses; "" none */
	bool antispoof;         /* default true */
	uint64_t rate_in;       /* bits/s towards the instance; 0: unlimited */
	uint64_t rate_out;      /* bits/s from the instance; 0: unlimited */
	uint32_t mtu;           /* 0: the kernel's default */
} net_plan;

/*
 * Called by the parent while the container's init waits (before it execs):
 * create the veth pair in the caller's network namespace with the peer in
 * pid's, configure the host side (addresses, routes, bridge, rp_filter,
 * proxy entries, anti-spoofing and rate filters), then eth0 inside (MAC,
 * addresses, default routes, up). A stale host-side link of the same name
 * (a namespace still dying) is replaced. On failure everything this call
 * made is removed. NET_NONE: nothing to do.
 */
int netns_setup(const net_plan *p, pid_t pid, berr *err);
/*
 * Remove the host side (and with it the peer, routes and filters) if it is
 * still there, and what lives outside the instance's namespace: the proxy
 * entries on the uplink and the ifb of a rate out (see
 * docs/NETWORK-INTERNALS.md). The namespace's death removes the rest by
 * itself; call this when an instance stops. A created bridge stays.
 */
int netns_teardown(const net_plan *p, berr *err);
/* Change the rates of a running instance (0: no limit in that direction). */
int netns_set_rate(const char *host_ifname, uint64_t rate_in, uint64_t rate_out, berr *err);

typedef struct net_counters {
	/* From the instance's point of view: rx = what it received (host side's tx). */
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
	uint64_t rx_dropped, tx_dropped; /* tx_dropped includes anti-spoofing and rate drops */
} net_counters;

/* Counters of the host side link; -ENODEV when it does not exist. */
int netns_counters(const char *host_ifname, net_counters *ret, berr *err);
