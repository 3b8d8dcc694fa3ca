/* SPDX-License-Identifier: MIT */
/* The rtnetlink requests netns_setup makes for a plan, checked against a fake kernel. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/neighbour.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/veth.h>
#include <string.h>

#include "fake-kernel.h"

static net_addr a4(const char *s, uint8_t prefix)
{
	net_addr a = {.family = AF_INET, .prefix = prefix};

	cr_assert_eq(inet_pton(AF_INET, s, a.bytes), 1);
	return a;
}

static net_addr a6(const char *s, uint8_t prefix)
{
	net_addr a = {.family = AF_INET6, .prefix = prefix};

	cr_assert_eq(inet_pton(AF_INET6, s, a.bytes), 1);
	return a;
}

static net_plan routed_plan(void)
{
	net_plan p = {.mode = NET_ROUTED, .antispoof = true, .n_addrs = 2};

	strcpy(p.host_ifname, "bt-web");
	memcpy(p.mac, (uint8_t[]){0x02, 0, 0, 0, 0, 0x0a}, 6);
	p.addrs[0] = a4("192.0.2.10", 32);
	p.addrs[1] = a6("2001:db8::10", 128);
	p.gw4 = a4("169.254.0.1", 32);
	p.gw6 = a6("fe80::1", 64);
	return p;
}

static uint32_t u32_of(const struct nlattr *a)
{
	cr_assert_not_null(a);
	return mnl_attr_get_u32(a);
}

static const char *str_of(const struct nlattr *a)
{
	cr_assert_not_null(a);
	return mnl_attr_get_str(a);
}

Test(setup, routed_host_side_requests_in_order)
{
	fake_kernel k = {0};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;
	int r;

	fk_start(&k, &c);
	r = netns_setup_host(&c, &p, 4242, &st, &err);
	fk_stop(&k, &c);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_expect_eq(st.index, 7, "the host side's index comes from the kernel's answer");

	/* 1: the veth pair, peer eth0 with the plan's MAC in pid 4242's namespace. */
	const struct nlmsghdr *m = fk_msg(&k, 0);
	cr_assert_eq(m->nlmsg_type, RTM_NEWLINK);
	cr_expect_eq(m->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
	cr_expect_str_eq(str_of(fk_attr(m, sizeof(struct ifinfomsg), IFLA_IFNAME)), "bt-web");
	const struct nlattr *li = fk_attr(m, sizeof(struct ifinfomsg), IFLA_LINKINFO);
	cr_expect_str_eq(str_of(fk_nested(li, IFLA_INFO_KIND)), "veth");
	const struct nlattr *peer = fk_nested(fk_nested(li, IFLA_INFO_DATA), VETH_INFO_PEER);
	cr_assert_not_null(peer);
	/* The peer's attributes follow its ifinfomsg. */
	const struct nlattr *pa;
	const char *pname = NULL;
	const uint8_t *pmac = NULL;
	uint32_t ppid = 0;
	for (pa = (const void *)((const char *)mnl_attr_get_payload(peer) +
				 MNL_ALIGN(sizeof(struct ifinfomsg)));
	     (const char *)pa < (const char *)peer + peer->nla_len;
	     pa = (const void *)((const char *)pa + MNL_ALIGN(pa->nla_len))) {
		if (mnl_attr_get_type(pa) == IFLA_IFNAME)
			pname = mnl_attr_get_str(pa);
		if (mnl_attr_get_type(pa) == IFLA_ADDRESS)
			pmac = mnl_attr_get_payload(pa);
		if (mnl_attr_get_type(pa) == IFLA_NET_NS_PID)
			ppid = mnl_attr_get_u32(pa);
	}
	cr_expect_str_eq(pname, "eth0");
	cr_assert_not_null(pmac);
	cr_expect_eq(memcmp(pmac, p.mac, 6), 0);
	cr_expect_eq(ppid, 4242);

	/* forwarding and strict rp_filter on the host side, by IFLA_INET_CONF. */
	int i = fk_find(&k, 0, RTM_SETLINK);
	cr_assert_geq(i, 0);
	const struct nlattr *conf = fk_nested(
		fk_nested(fk_attr(fk_msg(&k, i), sizeof(struct ifinfomsg), IFLA_AF_SPEC), AF_INET),
		IFLA_INET_CONF);
	cr_expect_eq(u32_of(fk_nested(conf, IPV4_DEVCONF_FORWARDING)), 1);
	cr_expect_eq(u32_of(fk_nested(conf, IPV4_DEVCONF_RP_FILTER)), 1);

	/* Gateway addresses 169.254.0.1/32 and fe80::1/64 (no DAD) on index 7. */
	i = fk_find(&k, 0, RTM_NEWADDR);
	cr_assert_geq(i, 0);
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(fk_msg(&k, i));
	cr_expect_eq(ifa->ifa_family, AF_INET);
	cr_expect_eq(ifa->ifa_prefixlen, 32);
	cr_expect_eq(ifa->ifa_index, 7);
	ifa = mnl_nlmsg_get_payload(fk_msg(&k, i + 1));
	cr_expect_eq(ifa->ifa_family, AF_INET6);
	cr_expect_eq(ifa->ifa_prefixlen, 64);
	cr_expect(u32_of(fk_attr(fk_msg(&k, i + 1), sizeof(*ifa), IFA_FLAGS)) & IFA_F_NODAD);

	/* Host routes /32 and /128 to the instance, scope link, out of index 7. */
	i = fk_find(&k, 0, RTM_NEWROUTE);
	cr_assert_geq(i, 0);
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(fk_msg(&k, i));
	cr_expect_eq(rtm->rtm_dst_len, 32);
	cr_expect_eq(rtm->rtm_scope, RT_SCOPE_LINK);
	cr_expect_eq(u32_of(fk_attr(fk_msg(&k, i), sizeof(*rtm), RTA_OIF)), 7);
	cr_expect_eq(memcmp(mnl_attr_get_payload(fk_attr(fk_msg(&k, i), sizeof(*rtm), RTA_DST)),
			    p.addrs[0].bytes, 4),
		     0);
	rtm = mnl_nlmsg_get_payload(fk_msg(&k, i + 1));
	cr_expect_eq(rtm->rtm_family, AF_INET6);
	cr_expect_eq(rtm->rtm_dst_len, 128);

	/* clsact, then the anti-spoofing bpf filter on ingress. */
	i = fk_find(&k, 0, RTM_NEWQDISC);
	cr_assert_geq(i, 0);
	cr_expect_str_eq(str_of(fk_attr(fk_msg(&k, i), sizeof(struct tcmsg), TCA_KIND)), "clsact");
	i = fk_find(&k, 0, RTM_NEWTFILTER);
	cr_assert_geq(i, 0);
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(fk_msg(&k, i));
	cr_expect_eq(tcm->tcm_parent, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	cr_expect_str_eq(str_of(fk_attr(fk_msg(&k, i), sizeof(*tcm), TCA_KIND)), "bpf");
	cr_expect_eq(fk_find(&k, 0, RTM_NEWNEIGH), -1, "no uplink, no proxy entries");
}

Test(setup, routed_uplink_gets_proxy_entries_and_undo_removes_them)
{
	fake_kernel k = {0};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	strcpy(p.uplink, "eno1");
	fk_add_link(&k, "eno1", "", 2);
	fk_start(&k, &c);
	cr_assert_eq(netns_setup_host(&c, &p, 1, &st, &err), 0, "%s", err.msg);
	size_t before = k.n;
	netns_setup_undo(&c, &p, &st);
	fk_stop(&k, &c);
	int i = fk_find(&k, 0, RTM_NEWNEIGH);
	cr_assert_geq(i, 0);
	const struct ndmsg *nd = mnl_nlmsg_get_payload(fk_msg(&k, i));
	cr_expect_eq(nd->ndm_ifindex, 2);
	cr_expect_eq(nd->ndm_flags, NTF_PROXY);
	cr_expect_eq(st.n_proxied, 2);
	/* Undo: both proxy entries, then the host side (which takes the rest with it). */
	cr_expect_eq(fk_msg(&k, before)->nlmsg_type, RTM_DELNEIGH);
	cr_expect_eq(fk_msg(&k, before + 1)->nlmsg_type, RTM_DELNEIGH);
	cr_expect_eq(fk_msg(&k, before + 2)->nlmsg_type, RTM_DELLINK);
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(fk_msg(&k, before + 2));
	cr_expect_eq(ifi->ifi_index, 7);
}

Test(setup, instance_side_addresses_link_up_and_default_routes)
{
	fake_kernel k = {0};
	net_plan p = routed_plan();
	berr err = {0};
	nlconn c;

	fk_add_link(&k, "eth0", "veth", 2);
	fk_start(&k, &c);
	cr_assert_eq(netns_setup_instance(&c, &p, &err), 0, "%s", err.msg);
	fk_stop(&k, &c);
	cr_assert_eq(k.n, 7);
	cr_expect_eq(fk_msg(&k, 0)->nlmsg_type, RTM_GETLINK);
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(fk_msg(&k, 1));
	cr_expect_eq(ifa->ifa_index, 2);
	cr_expect_eq(ifa->ifa_prefixlen, 32, "routed: the instance's address is a host address");
	ifa = mnl_nlmsg_get_payload(fk_msg(&k, 2));
	cr_expect_eq(ifa->ifa_prefixlen, 128);
	cr_expect_eq(((const struct ifinfomsg *)mnl_nlmsg_get_payload(fk_msg(&k, 3)))->ifi_index,
		     2);
	cr_expect_eq(((const struct ifinfomsg *)mnl_nlmsg_get_payload(fk_msg(&k, 4)))->ifi_index, 1,
		     "lo up");
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(fk_msg(&k, 5));
	cr_expect_eq(rtm->rtm_dst_len, 0);
	cr_expect(rtm->rtm_flags & RTNH_F_ONLINK, "169.254.0.1 is in no subnet: onlink");
	cr_expect_eq(memcmp(mnl_attr_get_payload(fk_attr(fk_msg(&k, 5), sizeof(*rtm), RTA_GATEWAY)),
			    p.gw4.bytes, 4),
		     0);
	rtm = mnl_nlmsg_get_payload(fk_msg(&k, 6));
	cr_expect_eq(rtm->rtm_family, AF_INET6);
}

Test(setup, bridge_mode_creates_missing_bridge_and_enslaves)
{
	fake_kernel k = {0};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	p.mode = NET_BRIDGE;
	strcpy(p.bridge, "berth0");
	p.bridge_addrs[0] = a4("10.1.0.1", 24);
	p.n_bridge_addrs = 1;
	fk_start(&k, &c);
	cr_assert_eq(netns_setup_host(&c, &p, 1, &st, &err), 0, "%s", err.msg);
	fk_stop(&k, &c);
	cr_expect(st.bridge_made);
	cr_expect_eq(st.bridge, 7);
	int i = fk_find(&k, 0, RTM_NEWLINK);
	const struct nlattr *li = fk_attr(fk_msg(&k, i), sizeof(struct ifinfomsg), IFLA_LINKINFO);
	cr_expect_str_eq(str_of(fk_nested(li, IFLA_INFO_KIND)), "bridge");
	i = fk_find(&k, (size_t)i + 1, RTM_NEWLINK);
	cr_assert_geq(i, 0);
	cr_expect_eq(u32_of(fk_attr(fk_msg(&k, i), sizeof(struct ifinfomsg), IFLA_MASTER)), 7,
		     "the veth is enslaved to the bridge as it is made");
	cr_expect_eq(fk_find(&k, 0, RTM_NEWROUTE), -1, "bridge mode: no host routes");
}

Test(setup, stale_veth_is_replaced)
{
	fake_kernel k = {.exist_errno_once = 1};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	fk_add_link(&k, "bt-web", "veth", 3);
	fk_start(&k, &c);
	cr_assert_eq(netns_setup_host(&c, &p, 1, &st, &err), 0, "%s", err.msg);
	fk_stop(&k, &c);
	cr_expect_eq(fk_msg(&k, 0)->nlmsg_type, RTM_NEWLINK);
	cr_expect_eq(fk_msg(&k, 1)->nlmsg_type, RTM_GETLINK);
	cr_expect_eq(fk_msg(&k, 2)->nlmsg_type, RTM_DELLINK);
	cr_expect_eq(((const struct ifinfomsg *)mnl_nlmsg_get_payload(fk_msg(&k, 2)))->ifi_index,
		     3);
	cr_expect_eq(fk_msg(&k, 3)->nlmsg_type, RTM_NEWLINK);
}

Test(setup, stale_link_of_another_kind_is_left_alone)
{
	fake_kernel k = {.exist_errno_once = 1};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	fk_add_link(&k, "bt-web", "bridge", 3);
	fk_start(&k, &c);
	cr_assert_lt(netns_setup_host(&c, &p, 1, &st, &err), 0);
	fk_stop(&k, &c);
	cr_expect(strstr(err.msg, "not a veth"), "%s", err.msg);
	cr_expect_eq(fk_find(&k, 0, RTM_DELLINK), -1);
	cr_expect_eq(st.index, 0, "nothing of ours to undo");
}

Test(setup, kernel_error_is_reported_with_the_object)
{
	fake_kernel k = {.fail_at = 1, .fail_errno = ESRCH};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	fk_start(&k, &c);
	cr_assert_eq(netns_setup_host(&c, &p, 99, &st, &err), -ESRCH);
	fk_stop(&k, &c);
	cr_expect(strstr(err.msg, "bt-web") && strstr(err.msg, "99 is gone"), "%s", err.msg);
}

Test(setup, kernel_reason_reaches_the_error)
{
	fake_kernel k = {.fail_at = 3, .fail_errno = EPERM};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	fk_start(&k, &c);
	cr_assert_eq(netns_setup_host(&c, &p, 1, &st, &err), -EPERM);
	fk_stop(&k, &c);
	cr_expect(strstr(err.msg, "rp_filter on bt-web (kernel: fake says no)"), "%s", err.msg);
	cr_expect_eq(st.index, 7, "the host side exists: undo must remove it");
}

Test(setup, plan_check_rejects_bad_names)
{
	net_plan p = routed_plan();
	berr err = {0};

	cr_expect_eq(net_plan_check(&p, &err), 0);
	strcpy(p.host_ifname, "a/b");
	cr_expect_eq(net_plan_check(&p, &err), -EINVAL);
	cr_expect(strstr(err.msg, "a/b"), "%s", err.msg);
	p = routed_plan();
	p.mode = NET_BRIDGE;
	cr_expect_eq(net_plan_check(&p, &err), -EINVAL, "bridge mode needs a bridge name");
	cr_expect(strstr(err.msg, "bridge name"), "%s", err.msg);
	strcpy(p.bridge, "berth0");
	cr_expect_eq(net_plan_check(&p, &err), 0);
}

Test(setup, tbf_rate_and_burst)
{
	fake_kernel k = {0};
	nlconn c;

	fk_start(&k, &c);
	cr_assert_eq(tc_shape_set(&c, 7, 40000000), 0);
	fk_stop(&k, &c);
	const struct nlmsghdr *m = fk_msg(&k, 0);
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(m);
	cr_expect_eq(tcm->tcm_parent, TC_H_ROOT);
	cr_expect_str_eq(str_of(fk_attr(m, sizeof(*tcm), TCA_KIND)), "tbf");
	const struct nlattr *o = fk_attr(m, sizeof(*tcm), TCA_OPTIONS);
	const struct tc_tbf_qopt *q = mnl_attr_get_payload(fk_nested(o, TCA_TBF_PARMS));
	cr_expect_eq(q->rate.rate, 5000000, "40 mbit/s is 5,000,000 bytes/s");
	cr_expect_eq(u32_of(fk_nested(o, TCA_TBF_BURST)), 50000, "10 ms of burst");
	cr_expect_eq(q->limit, 550000, "burst + 100 ms of queue");
}

Test(setup, rate_out_makes_an_ifb_shaped_and_fed_by_a_redirect)
{
	fake_kernel k = {0};
	nlconn c;

	fk_start(&k, &c);
	cr_assert_eq(tc_out_set(&c, 3, "bt-web", 8000000), 0);
	fk_stop(&k, &c);
	/* Old redirect removed, ifb looked up, made, looked up, brought up, tbf, clsact, redirect. */
	cr_assert_eq(k.n, 8);
	cr_expect_eq(fk_msg(&k, 0)->nlmsg_type, RTM_DELTFILTER);
	const struct nlmsghdr *m = fk_msg(&k, 2);
	cr_assert_eq(m->nlmsg_type, RTM_NEWLINK);
	cr_expect_str_eq(str_of(fk_attr(m, sizeof(struct ifinfomsg), IFLA_IFNAME)), "bi-web");
	m = fk_msg(&k, 5);
	cr_assert_eq(m->nlmsg_type, RTM_NEWQDISC);
	cr_expect_eq(((const struct tcmsg *)mnl_nlmsg_get_payload(m))->tcm_ifindex, 7,
		     "the tbf is on the ifb");
	m = fk_msg(&k, 7);
	cr_assert_eq(m->nlmsg_type, RTM_NEWTFILTER);
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(m);
	cr_expect_eq(tcm->tcm_ifindex, 3);
	cr_expect_eq(tcm->tcm_info >> 16, TC_PRIO_REDIRECT, "after anti-spoofing");
	cr_expect_str_eq(str_of(fk_attr(m, sizeof(*tcm), TCA_KIND)), "u32");
	const struct nlattr *act =
		fk_nested(fk_nested(fk_attr(m, sizeof(*tcm), TCA_OPTIONS), TCA_U32_ACT), 1);
	cr_expect_str_eq(str_of(fk_nested(act, TCA_ACT_KIND)), "mirred");
	const struct tc_mirred *mir =
		mnl_attr_get_payload(fk_nested(fk_nested(act, TCA_ACT_OPTIONS), TCA_MIRRED_PARMS));
	cr_expect_eq(mir->eaction, TCA_EGRESS_REDIR);
	cr_expect_eq(mir->ifindex, 7);
}

Test(setup, rate_out_zero_removes_the_ifb)
{
	fake_kernel k = {0};
	nlconn c;

	fk_add_link(&k, "bi-web", "ifb", 9);
	fk_start(&k, &c);
	cr_assert_eq(tc_out_set(&c, 3, "bt-web", 0), 0);
	fk_stop(&k, &c);
	cr_assert_eq(k.n, 3);
	cr_expect_eq(fk_msg(&k, 2)->nlmsg_type, RTM_DELLINK);
	cr_expect_eq(((const struct ifinfomsg *)mnl_nlmsg_get_payload(fk_msg(&k, 2)))->ifi_index,
		     9);
}

Test(setup, stale_name_gone_before_lookup_is_retried)
{
	fake_kernel k = {.exist_errno_once = 1};
	net_plan p = routed_plan();
	net_host_state st;
	berr err = {0};
	nlconn c;

	fk_start(&k, &c);
	cr_assert_eq(netns_setup_host(&c, &p, 1, &st, &err), 0, "%s", err.msg);
	fk_stop(&k, &c);
	cr_expect_eq(fk_msg(&k, 1)->nlmsg_type, RTM_GETLINK);
	cr_expect_eq(fk_msg(&k, 2)->nlmsg_type, RTM_NEWLINK, "created again, nothing deleted");
	cr_expect_eq(fk_find(&k, 0, RTM_DELLINK), -1);
}
