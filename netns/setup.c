/* SPDX-License-Identifier: MIT */
/*
 * netns_setup: the veth pair, addresses, routes, bridge and proxy entries
 * of one instance, in the order that lets a failure be undone by deleting
 * what the host half made (the host side's link takes its peer, routes,
 * addresses and filters with it).
 */
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "netns.h"
#include "nl-internal.h"

static size_t addr_len(const net_addr *a) { return a->family == AF_INET ? 4 : 16; }

static uint8_t host_prefix(const net_addr *a) { return a->family == AF_INET ? 32 : 128; }

int nl_addr_add(nlconn *c, int index, const net_addr *a, uint8_t prefix)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)index;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(a), a->bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(a), a->bytes);
	if (a->family == AF_INET6) {
		/* Leased by berth's IPAM: usable at once, not after a second of DAD. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nlconn_talk(c, nlh, NULL, NULL);
}

int nl_route_add(nlconn *c, int index, const net_addr *dst, uint8_t prefix, const net_addr *gw,
		 bool onlink)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)dst->family;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, addr_len(dst), dst->bytes);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(gw), gw->bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	return nlconn_talk(c, nlh, NULL, NULL);
}

int nl_neigh_proxy(nlconn *c, int index, const net_addr *a, bool add)
{
	struct nlmsghdr *nlh = add ? nlconn_msg(c, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE)
				   : nlconn_msg(c, RTM_DELNEIGH, 0);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

	nd->ndm_family = (uint8_t)a->family;
	nd->ndm_ifindex = index;
	nd->ndm_state = NUD_PERMANENT;
	nd->ndm_flags = NTF_PROXY;
	mnl_attr_put(nlh, NDA_DST, addr_len(a), a->bytes);
	return nlconn_talk(c, nlh, NULL, NULL);
}

static bool ifname_ok(const char *s)
{
	size_t n = strnlen(s, NET_IFNAMSIZ);

	if (n == 0 || n >= NET_IFNAMSIZ || str_eq(s, ".") || str_eq(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool family_ok(const net_addr *a) { return a->family == AF_INET || a->family == AF_INET6; }

int net_plan_check(const net_plan *p, berr *err)
{
	if (p->mode != NET_ROUTED && p->mode != NET_BRIDGE)
		return berr_setx(err, EINVAL, "network mode %d: not routed or bridge",
				 (int)p->mode);
	if (!ifname_ok(p->host_ifname))
		return berr_setx(err, EINVAL,
				 "host interface name \"%.16s\": not a valid interface name "
				 "(1-15 characters, no '/', ':' or spaces)",
				 p->host_ifname);
	if (p->n_addrs > NET_MAX_ADDRS || p->n_bridge_addrs > ARRAY_SIZE(p->bridge_addrs))
		return berr_setx(err, EINVAL, "%s: too many addresses (at most %d)", p->host_ifname,
				 NET_MAX_ADDRS);
	for (size_t i = 0; i < p->n_addrs; i++)
		if (!family_ok(&p->addrs[i]))
			return berr_setx(err, EINVAL, "%s: address %zu is neither IPv4 nor IPv6",
					 p->host_ifname, i + 1);
	if (p->mode == NET_BRIDGE && !ifname_ok(p->bridge))
		return berr_setx(err, EINVAL,
				 "bridge name \"%.16s\": not a valid interface name "
				 "(1-15 characters, no '/', ':' or spaces; the default is berth0)",
				 p->bridge);
	if (p->uplink[0] && !ifname_ok(p->uplink))
		return berr_setx(err, EINVAL, "uplink \"%.16s\": not a valid interface name",
				 p->uplink);
	return 0;
}

static int bridge_ensure(nlconn *c, const net_plan *p, net_host_state *st, berr *err)
{
	nl_link_info info;
	int r = nl_link_get(c, p->bridge, &info);

	if (r == 0) {
		if (!str_eq(info.kind, "bridge"))
			return berr_setx(err, EINVAL,
					 "bridge %s: the interface exists and is not a bridge "
					 "(choose another bridge name in the network config)",
					 p->bridge);
		st->bridge = info.index;
		return 0;
	}
	if (r != -ENODEV)
		return berr_set(err, -r, "look up bridge %s%s", p->bridge, nlconn_why(c));
	r = nl_bridge_create(c, p->bridge, p->mtu);
	if (r < 0)
		return berr_set(err, -r, "create bridge %s%s", p->bridge, nlconn_why(c));
	st->bridge_made = true;
	r = nl_link_get(c, p->bridge, &info);
	if (r < 0)
		return berr_set(err, -r, "look up bridge %s", p->bridge);
	st->bridge = info.index;
	for (size_t i = 0; i < p->n_bridge_addrs; i++) {
		r = nl_addr_add(c, st->bridge, &p->bridge_addrs[i], p->bridge_addrs[i].prefix);
		if (r < 0)
			return berr_set(err, -r, "add gateway address to bridge %s%s", p->bridge,
					nlconn_why(c));
	}
	r = nl_link_up(c, st->bridge);
	if (r < 0)
		return berr_set(err, -r, "bring up bridge %s%s", p->bridge, nlconn_why(c));
	return 0;
}

/*
 * The veth pair. A host side of the same name is a previous run of this
 * instance whose namespace is still being torn down (that is asynchronous):
 * replace it, but never a link of another kind that someone else made.
 */
static int veth_create(nlconn *c, const net_plan *p, pid_t pid, net_host_state *st, berr *err)
{
	nl_link_info info;
	int r = nl_veth_create(c, p, pid, st->bridge), g;

	if (r == -EEXIST && (g = nl_link_get(c, p->host_ifname, &info)) != -ENODEV) {
		if (g < 0 || !str_eq(info.kind, "veth"))
			return berr_setx(
				err, EEXIST,
				"host interface %s exists and is not a veth: not replacing "
				"it (remove or rename that interface)",
				p->host_ifname);
		log_debug("netns: replacing stale %s (ifindex %d)", p->host_ifname, info.index);
		r = nl_link_del(c, info.index);
		if (r < 0 && r != -ENODEV)
			return berr_set(err, -r, "remove stale %s%s", p->host_ifname,
					nlconn_why(c));
		r = nl_veth_create(c, p, pid, st->bridge);
	} else if (r == -EEXIST) {
		/* Gone between the two requests (the old namespace finished dying): once more. */
		r = nl_veth_create(c, p, pid, st->bridge);
	}
	if (r == -ESRCH)
		return berr_setx(err, ESRCH, "create veth %s: instance process %d is gone",
				 p->host_ifname, (int)pid);
	if (r < 0)
		return berr_set(err, -r, "create veth %s (eth0 in process %d's namespace)%s",
				p->host_ifname, (int)pid, nlconn_why(c));
	r = nl_link_get(c, p->host_ifname, &info);
	if (r < 0)
		return berr_set(err, -r, "look up %s", p->host_ifname);
	st->index = info.index;
	return 0;
}

/* Routed: gateway addresses, forwarding and rp_filter on the host side, routes to the instance. */
static int routed_host(nlconn *c, const net_plan *p, net_host_state *st, berr *err)
{
	const net_addr *gws[] = {&p->gw4, &p->gw6};
	int r = nl_link_routed_conf(c, st->index);

	if (r < 0)
		return berr_set(err, -r, "set forwarding and rp_filter on %s%s", p->host_ifname,
				nlconn_why(c));
	for (size_t i = 0; i < ARRAY_SIZE(gws); i++) {
		if (!family_ok(gws[i]))
			continue;
		r = nl_addr_add(c, st->index, gws[i], gws[i]->family == AF_INET ? 32 : 64);
		if (r < 0)
			return berr_set(err, -r, "add gateway address to %s%s", p->host_ifname,
					nlconn_why(c));
	}
	r = nl_link_up(c, st->index);
	if (r < 0)
		return berr_set(err, -r, "bring up %s%s", p->host_ifname, nlconn_why(c));
	for (size_t i = 0; i < p->n_addrs; i++) {
		r = nl_route_add(c, st->index, &p->addrs[i], host_prefix(&p->addrs[i]), NULL,
				 false);
		if (r < 0)
			return berr_set(err, -r, "add host route to %s%s", p->host_ifname,
					nlconn_why(c));
	}
	for (; p->uplink[0] && st->n_proxied < p->n_addrs; st->n_proxied++) {
		r = nl_neigh_proxy(c, st->uplink, &p->addrs[st->n_proxied], true);
		if (r < 0)
			return berr_set(err, -r, "add proxy neighbour entry on %s%s", p->uplink,
					nlconn_why(c));
	}
	return 0;
}

static int host_tc(nlconn *c, const net_plan *p, const net_host_state *st, berr *err)
{
	int r = 0;

	if (p->antispoof) {
		r = tc_clsact_add(c, st->index);
		if (r < 0)
			return berr_set(err, -r, "add clsact qdisc to %s%s", p->host_ifname,
					nlconn_why(c));
		r = tc_antispoof_add(c, st->index, p);
		if (r < 0)
			return berr_set(err, -r, "add anti-spoofing filter to %s%s", p->host_ifname,
					nlconn_why(c));
	}
	/* A stale ifb of a dead namespace is reused or, without a rate, removed. */
	r = tc_out_set(c, st->index, p->host_ifname, p->rate_out);
	if (r < 0)
		return berr_set(err, -r, "rate-limit traffic from %s%s", p->host_ifname,
				r == -ENOTUNIQ ? ": its ifb name is taken by another kind of link"
					       : nlconn_why(c));
	if (p->rate_in && (r = tc_shape_set(c, st->index, p->rate_in)) < 0)
		return berr_set(err, -r, "rate-limit traffic to %s%s", p->host_ifname,
				nlconn_why(c));
	return 0;
}

int netns_setup_host(nlconn *c, const net_plan *p, pid_t pid, net_host_state *st, berr *err)
{
	nl_link_info info;
	int r;

	*st = (net_host_state){0};
	if (p->mode == NET_ROUTED && p->uplink[0]) {
		r = nl_link_get(c, p->uplink, &info);
		if (r < 0)
			return berr_set(err, -r, "uplink %s (for proxy ARP/NDP)%s", p->uplink,
					r == -ENODEV ? ": no such interface; fix uplink in the "
						       "network config"
						     : "");
		st->uplink = info.index;
	}
	if (p->mode == NET_BRIDGE && (r = bridge_ensure(c, p, st, err)) < 0)
		return r;
	r = veth_create(c, p, pid, st, err);
	if (r < 0)
		return r;
	if (p->mode == NET_ROUTED) {
		r = routed_host(c, p, st, err);
	} else {
		r = nl_link_up(c, st->index);
		if (r < 0)
			berr_set(err, -r, "bring up %s%s", p->host_ifname, nlconn_why(c));
	}
	if (r < 0)
		return r;
	return host_tc(c, p, st, err);
}

/* The ifb of tc_out_set lives in the host's namespace: it does not die with the instance's. */
static int ifb_del(nlconn *c, const char *host_ifname)
{
	char name[NET_IFNAMSIZ];
	nl_link_info info;
	int r;

	net_ifb_name(host_ifname, name);
	r = nl_link_get(c, name, &info);
	if (r == 0 && str_eq(info.kind, "ifb"))
		r = nl_link_del(c, info.index);
	return r == -ENODEV ? 0 : r;
}

void netns_setup_undo(nlconn *c, const net_plan *p, const net_host_state *st)
{
	if (p->rate_out)
		(void)ifb_del(c, p->host_ifname);
	for (size_t i = st->n_proxied; i > 0; i--)
		(void)nl_neigh_proxy(c, st->uplink, &p->addrs[i - 1], false);
	if (st->index > 0)
		(void)nl_link_del(c, st->index);
	if (st->bridge_made)
		(void)nl_link_del(c, st->bridge);
}

static int default_routes(nlconn *c, const net_plan *p, int index, berr *err)
{
	const net_addr *gws[] = {&p->gw4, &p->gw6};
	static const net_addr any[] = {{.family = AF_INET}, {.family = AF_INET6}};

	for (size_t g = 0; g < ARRAY_SIZE(gws); g++) {
		bool have = false;
		int r;

		for (size_t i = 0; i < p->n_addrs; i++)
			have = have || p->addrs[i].family == any[g].family;
		if (!have || gws[g]->family != any[g].family)
			continue;
		/* routed: 169.254.0.1 is in no subnet of eth0, hence onlink. */
		r = nl_route_add(c, index, &any[g], 0, gws[g], p->mode == NET_ROUTED);
		if (r < 0)
			return berr_set(err, -r, "add default route (IPv%c) in the instance%s",
					g ? '6' : '4', nlconn_why(c));
	}
	return 0;
}

int netns_setup_instance(nlconn *c, const net_plan *p, berr *err)
{
	nl_link_info info;
	int r = nl_link_get(c, "eth0", &info);

	if (r < 0)
		return berr_set(err, -r, "find eth0 in the instance");
	for (size_t i = 0; i < p->n_addrs; i++) {
		const net_addr *a = &p->addrs[i];
		uint8_t prefix = p->mode == NET_ROUTED || !a->prefix ? host_prefix(a) : a->prefix;

		r = nl_addr_add(c, info.index, a, prefix);
		if (r < 0)
			return berr_set(err, -r, "add address %zu to eth0 in the instance%s", i + 1,
					nlconn_why(c));
	}
	r = nl_link_up(c, info.index);
	if (r < 0)
		return berr_set(err, -r, "bring up eth0 in the instance%s", nlconn_why(c));
	r = nl_link_up(c, 1);
	if (r < 0)
		return berr_set(err, -r, "bring up lo in the instance%s", nlconn_why(c));
	return default_routes(c, p, info.index, err);
}

int netns_setup(const net_plan *p, pid_t pid, berr *err)
{
	nlconn host, inst;
	net_host_state st;
	int r;

	if (p->mode == NET_NONE)
		return 0;
	r = net_plan_check(p, err);
	if (r < 0)
		return r;
	r = nlconn_open(&host);
	if (r < 0)
		return berr_set(err, -r, "netlink socket");
	r = netns_setup_host(&host, p, pid, &st, err);
	if (r >= 0) {
		r = nlconn_open_in(&inst, pid);
		if (r < 0) {
			berr_set(err, -r, "netlink socket in process %d's network namespace",
				 (int)pid);
		} else {
			r = netns_setup_instance(&inst, p, err);
			nlconn_close(&inst);
		}
	}
	if (r < 0) {
		berr_prefix(err, "network of %s", p->host_ifname);
		netns_setup_undo(&host, p, &st);
	}
	nlconn_close(&host);
	return r;
}

int netns_teardown(const net_plan *p, berr *err)
{
	nl_link_info info;
	nlconn c;
	int r;

	if (p->mode == NET_NONE)
		return 0;
	r = nlconn_open(&c);
	if (r < 0)
		return berr_set(err, -r, "netlink socket");
	if (p->mode == NET_ROUTED && p->uplink[0] && nl_link_get(&c, p->uplink, &info) == 0)
		for (size_t i = 0; i < p->n_addrs; i++)
			(void)nl_neigh_proxy(&c, info.index, &p->addrs[i], false);
	r = ifb_del(&c, p->host_ifname);
	if (r == 0)
		r = nl_link_get(&c, p->host_ifname, &info);
	if (r == 0 && str_eq(info.kind, "veth"))
		r = nl_link_del(&c, info.index);
	if (r == -ENODEV)
		r = 0;
	if (r < 0)
		berr_set(err, -r, "remove %s%s", p->host_ifname, nlconn_why(&c));
	nlconn_close(&c);
	return r;
}
