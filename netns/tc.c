/* SPDX-License-Identifier: MIT */
/*
 * Traffic control on the host side of an instance's veth, by rtnetlink:
 *   clsact ingress (traffic from the instance), in priority order:
 *     1    matchall + police: the --net-rate out policer; conforming packets
 *          continue to the next filter, the excess is dropped;
 *     10-12 flower "allow" rules: IPv4, IPv6 and ARP from the instance's MAC
 *          and its own addresses (IPv6 also link-local and ::, ARP also the
 *          0.0.0.0 of a probe); action ok;
 *     100  matchall: drop everything else.
 *   root egress (traffic to the instance): tbf, the --net-rate in shaper.
 */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/gen_stats.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netns.h"
#include "nl-internal.h"

#define TC_INGRESS TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
#define TC_TBF_HANDLE 0x10000 /* 1: */

static struct tcmsg *put_tcmsg(struct nlmsghdr *nlh, int index, uint32_t parent, uint32_t handle)
{
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = index;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	return tcm;
}

int tc_clsact_add(nlconn *c, int index)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
	int r;

	put_tcmsg(nlh, index, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0));
	mnl_attr_put_strz(nlh, TCA_KIND, "clsact");
	r = nlconn_talk(c, nlh, NULL, NULL);
	return r == -EEXIST ? 0 : r;
}

/*
 * Anti-spoofing as one classic BPF program (cls_bpf, direct action): the
 * kernels berth targets may lack flower, matchall and gact, but cls_bpf with
 * a classic program is everywhere. The program returns TC_ACT_SHOT for a
 * frame that is not the instance's own, else TC_ACT_UNSPEC so that the
 * next filter (the rate redirect) still sees it.
 */
enum { L_IP4, L_IP6, L_IP6SRC, L_ARP, L_ACCEPT, L_DROP, L_NEXT, L_N };
#define L_FALL (-1)

struct bpf_asm {
	struct sock_filter *ins;
	size_t n, max;
	int jt[TC_BPF_MAX], jf[TC_BPF_MAX]; /* label per jump, resolved at the end */
	size_t label[L_N + NET_MAX_ADDRS + 2];
};

static void emit(struct bpf_asm *a, uint16_t code, uint32_t k, int jt, int jf)
{
	if (a->n < a->max && a->n < TC_BPF_MAX) {
		a->ins[a->n] = (struct sock_filter){.code = code, .k = k};
		a->jt[a->n] = jt;
		a->jf[a->n] = jf;
	}
	a->n++;
}

static void ld(struct bpf_asm *a, uint16_t size, uint32_t off)
{
	emit(a, BPF_LD | size | BPF_ABS, off, L_FALL, L_FALL);
}

static void jeq(struct bpf_asm *a, uint32_t k, int jt, int jf)
{
	emit(a, BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf);
}

static uint32_t be32_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void mac_check(struct bpf_asm *a, uint32_t off, const uint8_t mac[6])
{
	ld(a, BPF_W, off);
	jeq(a, be32_at(mac), L_FALL, L_DROP);
	ld(a, BPF_H, off + 4);
	jeq(a, (uint32_t)mac[4] << 8 | mac[5], L_FALL, L_DROP);
}

/* IPv6 source (offset 22) equal to b, else on to label next. */
static void ip6_check(struct bpf_asm *a, const uint8_t *b, int next)
{
	for (int w = 0; w < 4; w++) {
		ld(a, BPF_W, 22 + 4 * w);
		jeq(a, be32_at(b + 4 * w), w == 3 ? L_ACCEPT : L_FALL, next);
	}
}

static void bpf_body(struct bpf_asm *a, const net_plan *p)
{
	static const uint8_t zero[16];
	int next = L_NEXT;

	/* A VLAN tag travels beside the frame: the checks below would miss it. */
	ld(a, BPF_W, (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT));
	jeq(a, 0, L_FALL, L_DROP);
	mac_check(a, 6, p->mac);
	ld(a, BPF_H, 12);
	jeq(a, ETH_P_IP, L_IP4, L_FALL);
	jeq(a, ETH_P_IPV6, L_IP6, L_FALL);
	jeq(a, ETH_P_ARP, L_ARP, L_DROP);

	a->label[L_IP4] = a->n;
	ld(a, BPF_W, 14 + 12);
	for (size_t i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].family == AF_INET)
			jeq(a, be32_at(p->addrs[i].bytes), L_ACCEPT, L_FALL);
	emit(a, BPF_RET | BPF_K, (uint32_t)TC_ACT_SHOT, L_FALL, L_FALL);

	/*
	 * IPv6: its own addresses, link-local fe80::/10 and :: (DAD). Never a
	 * router advertisement or redirect (ICMPv6 134, 137): neighbours on a
	 * bridge would take the instance for their router.
	 */
	a->label[L_IP6] = a->n;
	emit(a, BPF_LD | BPF_B | BPF_ABS, 14 + 6, L_FALL, L_FALL);
	jeq(a, 58, L_FALL, L_IP6SRC);
	emit(a, BPF_LD | BPF_B | BPF_ABS, 14 + 40, L_FALL, L_FALL);
	jeq(a, 134, L_DROP, L_FALL);
	jeq(a, 137, L_DROP, L_FALL);
	a->label[L_IP6SRC] = a->n;
	ld(a, BPF_H, 22);
	emit(a, BPF_ALU | BPF_AND | BPF_K, 0xffc0, L_FALL, L_FALL);
	jeq(a, 0xfe80, L_ACCEPT, L_FALL);
	for (size_t i = 0; i <= p->n_addrs; i++) {
		if (i < p->n_addrs && p->addrs[i].family != AF_INET6)
			continue;
		ip6_check(a, i < p->n_addrs ? p->addrs[i].bytes : zero, next);
		a->label[next++] = a->n;
	}
	emit(a, BPF_RET | BPF_K, (uint32_t)TC_ACT_SHOT, L_FALL, L_FALL);

	/* ARP for Ethernet/IPv4 only, spoken with its MAC for its addresses (or 0.0.0.0, a probe). */
	a->label[L_ARP] = a->n;
	ld(a, BPF_W, 14);
	jeq(a, 0x00010800, L_FALL, L_DROP);
	ld(a, BPF_H, 18);
	jeq(a, 0x0604, L_FALL, L_DROP);
	mac_check(a, 22, p->mac);
	ld(a, BPF_W, 28);
	jeq(a, 0, L_ACCEPT, L_FALL);
	for (size_t i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].family == AF_INET)
			jeq(a, be32_at(p->addrs[i].bytes), L_ACCEPT, L_FALL);
	a->label[L_DROP] = a->n;
	emit(a, BPF_RET | BPF_K, (uint32_t)TC_ACT_SHOT, L_FALL, L_FALL);
	a->label[L_ACCEPT] = a->n;
	emit(a, BPF_RET | BPF_K, (uint32_t)TC_ACT_UNSPEC, L_FALL, L_FALL);
}

static int resolve(struct bpf_asm *a, size_t pc, int l, uint8_t *ret)
{
	size_t to = l == L_FALL ? pc + 1 : a->label[l];

	if (to <= pc || to - pc - 1 > 255)
		return -E2BIG;
	*ret = (uint8_t)(to - pc - 1);
	return 0;
}

int tc_antispoof_prog(const net_plan *p, struct sock_filter *prog, size_t max)
{
	struct bpf_asm a = {.ins = prog, .max = max};

	bpf_body(&a, p);
	if (a.n > max || a.n > TC_BPF_MAX)
		return -ENOSPC;
	for (size_t pc = 0; pc < a.n; pc++) {
		if (BPF_CLASS(prog[pc].code) != BPF_JMP)
			continue;
		if (resolve(&a, pc, a.jt[pc], &prog[pc].jt) < 0 ||
		    resolve(&a, pc, a.jf[pc], &prog[pc].jf) < 0)
			return -E2BIG;
	}
	return (int)a.n;
}

int tc_antispoof_add(nlconn *c, int index, const net_plan *p)
{
	struct sock_filter prog[TC_BPF_MAX];
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	struct nlattr *o;
	int n = tc_antispoof_prog(p, prog, ARRAY_SIZE(prog));

	if (n < 0)
		return n;
	nlh = nlconn_msg(c, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE);
	tcm = put_tcmsg(nlh, index, TC_INGRESS, 1);
	tcm->tcm_info = TC_H_MAKE((uint32_t)TC_PRIO_ANTISPOOF << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "bpf");
	o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put_u16(nlh, TCA_BPF_OPS_LEN, (uint16_t)n);
	mnl_attr_put(nlh, TCA_BPF_OPS, (size_t)n * sizeof(prog[0]), prog);
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
	mnl_attr_put_u32(nlh, TCA_BPF_FLAGS_GEN, TCA_CLS_FLAGS_SKIP_HW);
	mnl_attr_nest_end(nlh, o);
	return nlconn_talk(c, nlh, NULL, NULL);
}

/* ---- rates ---- */

/* Kernel packet-scheduler ticks are 64 ns (PSCHED_SHIFT 6). */
static uint32_t ns_to_ticks(uint64_t ns)
{
	uint64_t t = ns >> 6;

	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* Time to send len bytes at rate bytes/s, in ticks. */
static uint32_t xmit_ticks(uint64_t rate, uint64_t len)
{
	return ns_to_ticks(len * 1000000000ull / rate);
}

/* A rate spec (bytes/s; the 32-bit field saturates, RATE64 carries the rest). */
static struct tc_ratespec ratespec(uint64_t rate, uint8_t cell_log)
{
	return (struct tc_ratespec){
		.rate = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate,
		.cell_log = cell_log,
		.cell_align = -1,
		.linklayer = TC_LINKLAYER_ETHERNET,
	};
}

void net_ifb_name(const char *host_ifname, char ret[NET_IFNAMSIZ])
{
	snprintf(ret, NET_IFNAMSIZ, "%s", host_ifname);
	if (ret[0] && ret[1])
		ret[1] = ret[1] == 'i' ? 'j' : 'i';
}

/* Ingress: every frame that passed anti-spoofing goes to ifb's egress (u32 matching all, mirred). */
static int redirect_add(nlconn *c, int index, int ifb)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} sel = {.sel = {.flags = TC_U32_TERMINAL, .nkeys = 1}};
	struct tc_mirred mirred = {.action = TC_ACT_STOLEN,
				   .eaction = TCA_EGRESS_REDIR,
				   .ifindex = (uint32_t)ifb};
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
	struct tcmsg *tcm = put_tcmsg(nlh, index, TC_INGRESS, 0);
	struct nlattr *o, *list, *act, *opts;

	tcm->tcm_info = TC_H_MAKE((uint32_t)TC_PRIO_REDIRECT << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel), &sel);
	list = mnl_attr_nest_start(nlh, TCA_U32_ACT);
	act = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	opts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
	mnl_attr_nest_end(nlh, opts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, list);
	mnl_attr_put_u32(nlh, TCA_U32_FLAGS, TCA_CLS_FLAGS_SKIP_HW);
	mnl_attr_nest_end(nlh, o);
	return nlconn_talk(c, nlh, NULL, NULL);
}

static int redirect_del(nlconn *c, int index)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_DELTFILTER, 0);
	int r;

	put_tcmsg(nlh, index, TC_INGRESS, 0)->tcm_info =
		TC_H_MAKE((uint32_t)TC_PRIO_REDIRECT << 16, htons(ETH_P_ALL));
	r = nlconn_talk(c, nlh, NULL, NULL);
	return r == -ENOENT || r == -EINVAL ? 0 : r;
}

/* An ifb of that name made by someone else is never touched. */
static int ifb_get(nlconn *c, const char *name, bool create, int *ret)
{
	struct nlmsghdr *nlh;
	struct nlattr *li;
	nl_link_info info;
	int r = nl_link_get(c, name, &info);

	if (r == 0 && !str_eq(info.kind, "ifb"))
		return -ENOTUNIQ;
	if (r == -ENODEV && create) {
		nlh = nlconn_msg(c, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "ifb");
		mnl_attr_nest_end(nlh, li);
		r = nlconn_talk(c, nlh, NULL, NULL);
		if (r == 0)
			r = nl_link_get(c, name, &info);
		if (r == 0)
			r = nl_link_up(c, info.index);
	}
	if (r == 0)
		*ret = info.index;
	return r;
}

int tc_out_set(nlconn *c, int index, const char *host_ifname, uint64_t rate)
{
	char ifb_name[NET_IFNAMSIZ];
	int ifb = 0, r;

	net_ifb_name(host_ifname, ifb_name);
	r = redirect_del(c, index);
	if (r < 0)
		return r;
	if (!rate) {
		r = ifb_get(c, ifb_name, false, &ifb);
		if (r == 0)
			r = nl_link_del(c, ifb);
		return r == -ENODEV ? 0 : r;
	}
	r = ifb_get(c, ifb_name, true, &ifb);
	if (r == 0)
		r = tc_shape_set(c, ifb, rate);
	if (r == 0)
		r = tc_clsact_add(c, index);
	if (r == 0)
		r = redirect_add(c, index, ifb);
	return r;
}

/* tbf: 10 ms of burst (at least 32 KiB) and up to 100 ms of queue. */
int tc_shape_set(nlconn *c, int index, uint64_t rate_bits)
{
	uint64_t rate = rate_bits / 8, burst = rate / 100;
	struct tc_tbf_qopt q = {0};
	struct nlmsghdr *nlh;
	struct nlattr *opts;
	int r;

	if (!rate_bits) {
		nlh = nlconn_msg(c, RTM_DELQDISC, 0);
		put_tcmsg(nlh, index, TC_H_ROOT, TC_TBF_HANDLE);
		r = nlconn_talk(c, nlh, NULL, NULL);
		return r == -ENOENT || r == -EINVAL ? 0 : r;
	}
	if (rate == 0)
		return -ERANGE;
	if (burst < 32 * 1024)
		burst = 32 * 1024;
	q.rate = ratespec(rate, 0);
	q.buffer = xmit_ticks(rate, burst);
	q.limit = (uint32_t)(burst + rate / 10 > UINT32_MAX ? UINT32_MAX : burst + rate / 10);
	nlh = nlconn_msg(c, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
	put_tcmsg(nlh, index, TC_H_ROOT, TC_TBF_HANDLE);
	mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	mnl_attr_put_u32(nlh, TCA_TBF_BURST, (uint32_t)burst);
	if (rate > UINT32_MAX)
		mnl_attr_put_u64(nlh, TCA_TBF_RATE64, rate);
	mnl_attr_nest_end(nlh, opts);
	return nlconn_talk(c, nlh, NULL, NULL);
}

int netns_set_rate(const char *host_ifname, uint64_t rate_in, uint64_t rate_out, berr *err)
{
	nl_link_info info;
	nlconn c;
	int r = nlconn_open(&c);

	if (r < 0)
		return berr_set(err, -r, "netlink socket");
	r = nl_link_get(&c, host_ifname, &info);
	if (r < 0) {
		berr_set(err, -r, "set rate on %s%s", host_ifname,
			 r == -ENODEV ? " (is the instance running?)" : "");
		goto out;
	}
	if ((r = tc_out_set(&c, info.index, host_ifname, rate_out)) < 0)
		goto fail;
	if ((r = tc_shape_set(&c, info.index, rate_in)) < 0)
		goto fail;
	goto out;
fail:
	berr_set(err, -r, "set rate on %s%s", host_ifname, nlconn_why(&c));
out:
	nlconn_close(&c);
	return r;
}

/* ---- counters ---- */

struct qdisc_drops {
	int index, ifb;
	uint64_t ingress, egress;
};

static int qdisc_msg(const struct nlmsghdr *m, void *data)
{
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(m);
	struct qdisc_drops *d = data;
	const struct nlattr *a, *s;
	const struct gnet_stats_queue *q = NULL;
	bool clsact = false;

	if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*tcm)) ||
	    (tcm->tcm_ifindex != d->index && (!d->ifb || tcm->tcm_ifindex != d->ifb)))
		return MNL_CB_OK;
	mnl_attr_for_each(a, m, sizeof(*tcm)) {
		if (mnl_attr_get_type(a) == TCA_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			clsact = str_eq(mnl_attr_get_str(a), "clsact");
		if (mnl_attr_get_type(a) != TCA_STATS2)
			continue;
		mnl_attr_for_each_nested(s, a) {
			if (mnl_attr_get_type(s) == TCA_STATS_QUEUE &&
			    mnl_attr_get_payload_len(s) >= sizeof(*q))
				q = mnl_attr_get_payload(s);
		}
	}
	/* Anti-spoofing (clsact) and rate-out (the ifb) drops are the instance's tx drops. */
	if (q && (clsact || tcm->tcm_ifindex == d->ifb))
		d->ingress += q->drops;
	else if (q)
		d->egress += q->drops;
	return MNL_CB_OK;
}

int netns_counters(const char *host_ifname, net_counters *ret, berr *err)
{
	struct qdisc_drops d = {0};
	struct nlmsghdr *nlh;
	nl_link_info info;
	nlconn c;
	int r = nlconn_open(&c);

	if (r < 0)
		return berr_set(err, -r, "netlink socket");
	r = nl_link_get(&c, host_ifname, &info);
	if (r == 0 && !info.has_stats)
		r = -ENODATA;
	if (r == 0) {
		char ifb_name[NET_IFNAMSIZ];
		nl_link_info ifb;

		net_ifb_name(host_ifname, ifb_name);
		if (nl_link_get(&c, ifb_name, &ifb) == 0 && str_eq(ifb.kind, "ifb"))
			d.ifb = ifb.index;
		d.index = info.index;
		nlh = nlconn_msg(&c, RTM_GETQDISC, NLM_F_DUMP);
		put_tcmsg(nlh, info.index, 0, 0);
		r = nlconn_talk(&c, nlh, qdisc_msg, &d);
	}
	nlconn_close(&c);
	if (r < 0)
		return r == -ENODEV ? -ENODEV : berr_set(err, -r, "counters of %s", host_ifname);
	/* The instance receives what the host side sends, and the other way round. */
	*ret = (net_counters){
		.rx_bytes = info.stats.tx_bytes,
		.rx_packets = info.stats.tx_packets,
		.tx_bytes = info.stats.rx_bytes,
		.tx_packets = info.stats.rx_packets,
		.rx_dropped = info.stats.tx_dropped + d.egress,
		.tx_dropped = info.stats.rx_dropped + d.ingress,
	};
	return 0;
}
