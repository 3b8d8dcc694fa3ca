/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include "netns.h"

Test(netns, link_up_message)
{
	char buf[256];
	size_t len = netns_build_link_up(buf, sizeof(buf), 1, 42);
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);

	cr_assert_eq(len, NLMSG_LENGTH(sizeof(*ifi)));
	cr_expect_eq(nlh->nlmsg_len, len);
	cr_expect_eq(nlh->nlmsg_type, RTM_NEWLINK);
	cr_expect_eq(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	cr_expect_eq(nlh->nlmsg_seq, 42);
	cr_expect_eq(ifi->ifi_index, 1);
	cr_expect_eq(ifi->ifi_flags & IFF_UP, IFF_UP);
	cr_expect_eq(ifi->ifi_change, IFF_UP, "only the UP flag changes");
}

Test(netns, link_up_message_needs_room)
{
	char buf[8];

	cr_expect_eq(netns_build_link_up(buf, sizeof(buf), 1, 1), 0);
}
