/* SPDX-License-Identifier: MIT */
/*
 * The host's network config (network.json) and address management (IPAM).
 *
 * Plan, then apply: net_config_parse() and ipam_plan() are pure functions
 * over strings and in-memory lease sets (unit-tested, fuzzable);
 * ipam_allocate() and ipam_release() read and write the lease file under an
 * exclusive flock, so that concurrent creates never get the same address.
 */
#pragma once

#include "netns.h"

#define NET_MAX_POOLS 8
#define NET_MAX_DNS 4
#define NET_DEFAULT_BRIDGE "berth0"

typedef struct net_config {
	net_mode mode;                 /* the default for new instances: routed or bridge */
	net_addr pools[NET_MAX_POOLS]; /* prefixes instances get addresses from */
	size_t n_pools;
	char bridge[NET_IFNAMSIZ]; /* bridge mode's bridge, default berth0 */
	/*
	 * One per family, with the pool's prefix: the bridge's own addresses in
	 * bridge mode. Default: the first address of each family's first pool.
	 * Reserved in every mode, so that a host can switch modes without
	 * renumbering.
	 */
	net_addr gateways[2];
	size_t n_gateways;
	char uplink[NET_IFNAMSIZ]; /* routed: proxy ARP/NDP there; "" none */
	net_addr dns[NET_MAX_DNS]; /* nameservers for the instances' resolv.conf */
	size_t n_dns;
	bool dns_set;      /* "dns" was given (an empty list: leave resolv.conf alone) */
	uint64_t rate_in;  /* default rates for new instances, bits/s; 0: unlimited */
	uint64_t rate_out; /* */
} net_config;

/* The built-in defaults: routed, pools 10.88.0.0/16 and fd88::/64, no uplink. */
void net_config_defaults(net_config *c);
/* network.json's text; err names the field and what is wrong. Absent fields keep defaults. */
int net_config_parse(const char *json, net_config *ret, berr *err);
/* Read path; a missing file gives the defaults. */
int net_config_load(const char *path, net_config *ret, berr *err);
/* The gateway of family (AF_INET, AF_INET6), or NULL when the pools have none of it. */
const net_addr *net_config_gateway(const net_config *c, int family);

/* "100mbit", "1gbit", "500kbit", "64000" (bits/s; k, m, g, t are powers of 1000). */
int net_rate_parse(const char *s, uint64_t *ret, berr *err);
/* The shortest exact form: "100mbit", "1gbit", "1500bit"; "unlimited" for 0. */
int net_rate_format(uint64_t bps, char *buf, size_t size);

/* ---- leases ---- */

#define IPAM_OWNER_MAX 64

typedef struct ipam_lease {
	net_addr addr; /* with the pool's (or the operator's) prefix */
	char owner[IPAM_OWNER_MAX];
} ipam_lease;

typedef struct ipam_leases {
	ipam_lease *v;
	size_t n;
} ipam_leases;

void ipam_leases_free(ipam_leases *l);
/* {"leases": [{"address": "10.88.0.2/16", "instance": "web1"}, ...]} */
int ipam_leases_parse(const char *json, ipam_leases *ret, berr *err);
int ipam_leases_to_json(const ipam_leases *l, char **ret, size_t *ret_len);
int ipam_leases_add(ipam_leases *l, const net_addr *a, const char *owner);
/* Drop owner's leases; returns how many. */
size_t ipam_leases_remove_owner(ipam_leases *l, const char *owner);
/* The lease holding a's address, or NULL. */
const ipam_lease *ipam_leases_find(const ipam_leases *l, const net_addr *a);

/* One address an instance asks for: the next free one of a family, or a fixed one. */
typedef struct ipam_request {
	bool is_auto;
	int family;    /* is_auto: AF_INET or AF_INET6 */
	net_addr addr; /* fixed */
} ipam_request;

/*
 * Parse --ip values: "auto" (one address of each family the pools have and
 * no fixed address was given for) or ADDR/PREFIX. n == 0: as "auto".
 */
int ipam_requests_build(const net_config *c, const char *const *ips, size_t n, ipam_request *ret,
			size_t *ret_n, berr *err);

/*
 * Pure: the addresses for reqs given the leases l (not changed). Auto takes the
 * lowest free address of the family's pools, skipping each pool's network
 * address, the IPv4 broadcast address and the gateways. A fixed address must
 * lie in a pool, not be one of those, and be free. Addresses given to
 * earlier requests count as taken.
 */
int ipam_plan(const net_config *c, const ipam_leases *l, const ipam_request *reqs, size_t n,
	      net_addr *ret, berr *err);

/*
 * Apply: under an exclusive flock of dir/leases.lock, read dir/leases.json
 * (none: empty), plan, add the leases for owner and write the file
 * atomically. Refused when owner already holds leases.
 */
int ipam_allocate(const char *dir, const net_config *c, const char *owner, const ipam_request *reqs,
		  size_t n, net_addr *ret, berr *err);
/* Release every lease of owner (none: fine). */
int ipam_release(const char *dir, const char *owner, berr *err);
/* Read the leases (tests and status); a missing file is an empty set. */
int ipam_leases_load(const char *dir, ipam_leases *ret, berr *err);
