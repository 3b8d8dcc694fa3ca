/* SPDX-License-Identifier: MIT */
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

#include "netns.h"

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

/* The loopback device is always ifindex 1 in a fresh network namespace. */
int netns_loopback_up(berr *err)
{
	char buf[8192]; /* one request, one ack */
	struct mnl_socket *nl;
	unsigned int seq = (unsigned int)time(NULL), portid;
	size_t len = netns_build_link_up(buf, sizeof(buf), 1, seq);
	ssize_t n;
	int r = 0;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return berr_set(err, errno, "netlink socket");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = berr_set(err, errno, "netlink bind");
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, buf, len) < 0) {
		r = berr_set(err, errno, "bring up lo: netlink send");
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0)
		r = berr_set(err, errno, "bring up lo");
out:
	mnl_socket_close(nl);
	return r;
}
