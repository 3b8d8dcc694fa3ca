/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netns.h"
#include "nl-internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

size_t netns_build_link_up(void *buf, size_t size, int ifindex, unsigned int seq)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*ifi)))
		return 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nlh->nlmsg_len;
}

/* ---- the conversation ---- */

void nlconn_adopt(nlconn *c, int fd)
{
	c->fd = fd;
	c->seq = (unsigned int)time(NULL);
	c->ext_msg[0] = '\0';
}

int nlconn_open(nlconn *c)
{
	int one = 1, fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* Short acks with the kernel's reason; both are best effort on old kernels. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	nlconn_adopt(c, fd);
	return 0;
}

/*
 * A netlink socket belongs to the namespace it was created in, so enter
 * pid's, open it there and come straight back. Failing to come back would
 * leave this thread in the instance's namespace: that cannot be continued.
 */
int nlconn_open_in(nlconn *c, pid_t pid)
{
	_cleanup_close_ int self = -EBADF, target = -EBADF;
	char path[64];
	int r;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (setns(target, CLONE_NEWNET) < 0)
		return -errno;
	r = nlconn_open(c);
	if (setns(self, CLONE_NEWNET) < 0) {
		log_error("netns: cannot return to the host network namespace: %s",
			  strerror(errno));
		abort();
	}
	return r;
}

void nlconn_close(nlconn *c) { closep(&c->fd); }

struct nlmsghdr *nlconn_msg(nlconn *c, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(c->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++c->seq;
	return nlh;
}

const char *nlconn_why(const nlconn *c) { return c->ext_msg; }

static int ext_ack_attr(const struct nlattr *a, void *data)
{
	nlconn *c = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(c->ext_msg, sizeof(c->ext_msg), " (kernel: %s)", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int ack_result(nlconn *c, const struct nlmsghdr *m)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
	size_t off = sizeof(*e);

	if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (e->error == 0)
		return 0;
	if (m->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(m->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= m->nlmsg_len)
			(void)mnl_attr_parse(m, (unsigned int)off, ext_ack_attr, c);
	}
	return e->error < 0 ? e->error : -e->error;
}

int nlconn_talk(nlconn *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char rbuf[32768];

	c->ext_msg[0] = '\0';
	if (send(c->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		const struct nlmsghdr *m = (const void *)rbuf;
		ssize_t n = recv(c->fd, rbuf, sizeof(rbuf), 0);
		int len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		len = (int)n;
		for (; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != nlh->nlmsg_seq)
				continue; /* a late answer to an earlier request */
			if (m->nlmsg_type == NLMSG_ERROR)
				return ack_result(c, m);
			if (m->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb && cb(m, data) < MNL_CB_OK)
				return -EBADMSG;
		}
	}
}

/* ---- links ---- */

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh, int index)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return ifi;
}

static int linkinfo_attr(const struct nlattr *a, void *data)
{
	nl_link_info *info = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		snprintf(info->kind, sizeof(info->kind), "%.*s", (int)mnl_attr_get_payload_len(a),
			 (const char *)mnl_attr_get_payload(a));
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	nl_link_info *info = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_LINKINFO:
		(void)mnl_attr_parse_nested(a, linkinfo_attr, info);
		break;
	case IFLA_STATS64:
		if (mnl_attr_get_payload_len(a) >= sizeof(info->stats)) {
			memcpy(&info->stats, mnl_attr_get_payload(a), sizeof(info->stats));
			info->has_stats = true;
		}
		break;
	}
	return MNL_CB_OK;
}

static int link_msg(const struct nlmsghdr *m, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(m);
	nl_link_info *info = data;

	if (m->nlmsg_type != RTM_NEWLINK || m->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	info->index = ifi->ifi_index;
	return mnl_attr_parse(m, sizeof(*ifi), link_attr, info);
}

int nl_link_get(nlconn *c, const char *name, nl_link_info *ret)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_GETLINK, 0);
	nl_link_info info = {0};
	int r;

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = nlconn_talk(c, nlh, link_msg, &info);
	if (r < 0)
		return r;
	if (info.index <= 0)
		return -ENODEV;
	*ret = info;
	return 0;
}

int nl_veth_create(nlconn *c, const net_plan *p, pid_t pid, int master)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, p->host_ifname);
	if (p->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, p->mtu);
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg inside the nest. */
	memcpy(mnl_nlmsg_get_payload_tail(nlh), &peer_ifi, sizeof(peer_ifi));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(peer_ifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, p->mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)pid);
	if (p->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, p->mtu);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nlconn_talk(c, nlh, NULL, NULL);
}

int nl_bridge_create(nlconn *c, const char *name, uint32_t mtu)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *linkinfo;

	put_ifinfo(nlh, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, linkinfo);
	return nlconn_talk(c, nlh, NULL, NULL);
}

int nl_link_del(nlconn *c, int index)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_DELLINK, 0);

	put_ifinfo(nlh, index);
	return nlconn_talk(c, nlh, NULL, NULL);
}

int nl_link_up(nlconn *c, int index)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_SETLINK, 0);
	struct ifinfomsg *ifi = put_ifinfo(nlh, index);

	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nlconn_talk(c, nlh, NULL, NULL);
}

/*
 * Per-link IPv4 settings through IFLA_AF_SPEC, the netlink face of
 * net.ipv4.conf.LINK.*: forwarding is decided on the input link, so the
 * host side alone lets the instance's packets be routed; rp_filter=1 drops
 * any whose source would not be routed back out of this link.
 */
int nl_link_routed_conf(nlconn *c, int index)
{
	struct nlmsghdr *nlh = nlconn_msg(c, RTM_SETLINK, 0);
	struct nlattr *af, *inet, *conf;

	put_ifinfo(nlh, index);
	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	inet = mnl_attr_nest_start(nlh, AF_INET);
	conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_FORWARDING, 1);
	mnl_attr_put_u32(nlh, IPV4_DEVCONF_RP_FILTER, 1);
	mnl_attr_nest_end(nlh, conf);
	mnl_attr_nest_end(nlh, inet);
	mnl_attr_nest_end(nlh, af);
	return nlconn_talk(c, nlh, NULL, NULL);
}

/* The loopback device is always ifindex 1 in a network namespace. */
int netns_loopback_up(berr *err)
{
	nlconn c;
	int r = nlconn_open(&c);

	if (r < 0)
		return berr_set(err, -r, "netlink socket");
	r = nl_link_up(&c, 1);
	nlconn_close(&c);
	if (r < 0)
		return berr_set(err, -r, "bring up lo");
	return 0;
}
