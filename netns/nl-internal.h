/* SPDX-License-Identifier: MIT */
/*
 * netns internals: one netlink conversation (nlconn) and the steps that
 * netns_setup() applies. Every step builds one rtnetlink request with libmnl
 * and waits for the kernel's answer, so a unit test can hand nlconn one end
 * of a socketpair, play the kernel on the other and check each message.
 *
 * Why libmnl and not libnl-route-3 here: libnl 3.7 has no flower keys for
 * IPv6 or ARP addresses and no police action, which anti-spoofing and rate
 * policing need; building every message the same way keeps them all
 * checkable the same way.
 */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "netns.h"

typedef struct nlconn {
	int fd; /* NETLINK_ROUTE socket, or a socketpair end in unit tests */
	unsigned int seq;
	char ext_msg[200]; /* " (kernel: TEXT)" for the last error, or "" */
	char buf[8192];    /* the request being built */
} nlconn;

/* A socket in the caller's network namespace. */
int nlconn_open(nlconn *c);
/* A socket in pid's network namespace (entered and left again on this thread). */
int nlconn_open_in(nlconn *c, pid_t pid);
/* Take fd as the socket (unit tests: a socketpair end). */
void nlconn_adopt(nlconn *c, int fd);
void nlconn_close(nlconn *c);
/* Start a request in c->buf: NLM_F_REQUEST | NLM_F_ACK | flags, the next seq. */
struct nlmsghdr *nlconn_msg(nlconn *c, uint16_t type, uint16_t flags);
/*
 * Send nlh and read answers until the ack (or NLMSG_DONE of a dump); cb sees
 * each data message. Returns 0 or the kernel's -errno (text in c->ext_msg).
 */
int nlconn_talk(nlconn *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* " (kernel: TEXT)" when the kernel said why, else "". */
const char *nlconn_why(const nlconn *c);

/* ---- links (link.c) ---- */

typedef struct nl_link_info {
	int index;
	char kind[16]; /* IFLA_INFO_KIND: "veth", "bridge", "" */
	bool has_stats;
	struct rtnl_link_stats64 stats;
} nl_link_info;

/* Look a link up by name: 0, or -ENODEV when there is none. */
int nl_link_get(nlconn *c, const char *name, nl_link_info *ret);
/* The veth pair: host side p->host_ifname (enslaved to master if > 0), eth0 in pid's netns. */
int nl_veth_create(nlconn *c, const net_plan *p, pid_t pid, int master);
int nl_bridge_create(nlconn *c, const char *name, uint32_t mtu);
int nl_link_del(nlconn *c, int index);
int nl_link_up(nlconn *c, int index);
/* Routed host side: forwarding and strict rp_filter on this link (IFLA_INET_CONF). */
int nl_link_routed_conf(nlconn *c, int index);

/* ---- addresses, routes, neighbours (setup.c) ---- */

/* Address a on index with prefix len; IPv6 without DAD (the addresses are leased, not guessed). */
int nl_addr_add(nlconn *c, int index, const net_addr *a, uint8_t prefix);
/* Route to dst/prefix out of index, via gw when given (onlink: gw need not be in a subnet). */
int nl_route_add(nlconn *c, int index, const net_addr *dst, uint8_t prefix, const net_addr *gw,
		 bool onlink);
/* A proxy ARP/NDP entry for a on index (add or delete). */
int nl_neigh_proxy(nlconn *c, int index, const net_addr *a, bool add);

/* What the host half made so far: what a failure must undo. */
typedef struct net_host_state {
	int index;        /* the host side, 0 before it exists */
	int bridge;       /* bridge mode: the bridge's ifindex */
	bool bridge_made; /* ... and this call created it */
	int uplink;       /* routed with an uplink: its ifindex */
	size_t n_proxied; /* proxy entries added there, p->addrs[0..n) */
} net_host_state;

/* Reject a plan that cannot be applied, before anything is made. */
int net_plan_check(const net_plan *p, berr *err);
/* The host-side half of netns_setup on c; st says what exists, even on failure. */
int netns_setup_host(nlconn *c, const net_plan *p, pid_t pid, net_host_state *st, berr *err);
/* Undo what st says the host half made (best effort, in reverse order). */
void netns_setup_undo(nlconn *c, const net_plan *p, const net_host_state *st);
/* The instance half, on a socket inside the instance's netns. */
int netns_setup_instance(nlconn *c, const net_plan *p, berr *err);

/* ---- traffic control (tc.c) ---- */

/* The classic BPF anti-spoofing program for p (pure); returns its length or -ENOSPC. */
#define TC_BPF_MAX 128
struct sock_filter;
int tc_antispoof_prog(const net_plan *p, struct sock_filter *prog, size_t max);
/* A clsact qdisc and the anti-spoofing filter for p on index. */
int tc_antispoof_add(nlconn *c, int index, const net_plan *p);
/*
 * Traffic from the instance (bits/s, 0: unlimited): an ifb named
 * net_ifb_name() with a tbf, fed by a redirect on index's ingress.
 */
int tc_out_set(nlconn *c, int index, const char *host_ifname, uint64_t rate);
/* The host side's name with its second character changed to 'i' ('j' if it was 'i'). */
void net_ifb_name(const char *host_ifname, char ret[NET_IFNAMSIZ]);
/* A tbf root qdisc on index (bits/s, 0 removes it). */
int tc_shape_set(nlconn *c, int index, uint64_t rate);
/* The clsact qdisc the filters hang on (idempotent). */
int tc_clsact_add(nlconn *c, int index);

/* Ingress filter priorities: anti-spoofing first, then the redirect to the ifb. */
#define TC_PRIO_ANTISPOOF 10
#define TC_PRIO_REDIRECT 20
