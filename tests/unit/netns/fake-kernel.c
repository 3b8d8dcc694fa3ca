/* SPDX-License-Identifier: MIT */
#include "fake-kernel.h"

#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void fk_add_link(fake_kernel *k, const char *name, const char *kind, int index)
{
	fk_link *l = &k->links[k->n_links++];

	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->kind, sizeof(l->kind), "%s", kind);
	l->index = index;
}

const struct nlattr *fk_attr(const struct nlmsghdr *m, size_t hdrlen, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, m, hdrlen)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

const struct nlattr *fk_nested(const struct nlattr *a, uint16_t type)
{
	const struct nlattr *n;

	if (!a)
		return NULL;
	mnl_attr_for_each_nested(n, a)
		if (mnl_attr_get_type(n) == type)
			return n;
	return NULL;
}

int fk_find(const fake_kernel *k, size_t from, uint16_t type)
{
	for (size_t i = from; i < k->n; i++)
		if (fk_msg(k, i)->nlmsg_type == type)
			return (int)i;
	return -1;
}

static fk_link *link_named(fake_kernel *k, const char *name)
{
	for (size_t i = 0; i < k->n_links; i++)
		if (strcmp(k->links[i].name, name) == 0)
			return &k->links[i];
	return NULL;
}

static void put_ack(char *out, size_t *len, const struct nlmsghdr *req, int error)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(out + *len);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg = *req;
	*len += nlh->nlmsg_len;
}

static void put_link(char *out, size_t *len, const struct nlmsghdr *req, const fk_link *l)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(out + *len);
	struct ifinfomsg *ifi;
	struct nlattr *li;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_seq = req->nlmsg_seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = l->index;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, l->kind);
	mnl_attr_nest_end(nlh, li);
	*len += nlh->nlmsg_len;
}

/* The answer to one request. */
static void answer(fake_kernel *k, const struct nlmsghdr *req, char *out, size_t *len)
{
	const struct nlattr *name = fk_attr(req, sizeof(struct ifinfomsg), IFLA_IFNAME);
	const char *n = name ? mnl_attr_get_str(name) : "";
	fk_link *l;

	if (k->fail_at && k->n == k->fail_at) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(out + *len);

		put_ack(out, len, req, -k->fail_errno);
		/* With the kernel's reason, as NETLINK_EXT_ACK gives it. */
		*len -= nlh->nlmsg_len;
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "fake says no");
		*len += nlh->nlmsg_len;
		return;
	}
	if (req->nlmsg_type == RTM_GETLINK) {
		l = link_named(k, n);
		if (!l)
			return put_ack(out, len, req, -ENODEV);
		put_link(out, len, req, l);
		return put_ack(out, len, req, 0);
	}
	if (req->nlmsg_type == RTM_NEWLINK && (req->nlmsg_flags & NLM_F_CREATE)) {
		const struct nlattr *kind = fk_nested(
			fk_attr(req, sizeof(struct ifinfomsg), IFLA_LINKINFO), IFLA_INFO_KIND);

		if (k->exist_errno_once) {
			k->exist_errno_once = 0;
			return put_ack(out, len, req, -EEXIST);
		}
		fk_add_link(k, n, kind ? mnl_attr_get_str(kind) : "", k->next_index++);
	}
	put_ack(out, len, req, 0);
}

static void *serve(void *data)
{
	fake_kernel *k = data;
	char in[8192], out[8192];

	for (;;) {
		ssize_t r = recv(k->fd, in, sizeof(in), 0);
		size_t len = 0;

		if (r <= 0)
			break;
		if (k->n < FK_MAX_MSGS && (size_t)r <= sizeof(k->msgs[0].buf)) {
			memcpy(k->msgs[k->n].buf, in, (size_t)r);
			k->msgs[k->n].len = (size_t)r;
		}
		k->n++;
		answer(k, (const struct nlmsghdr *)in, out, &len);
		if (send(k->fd, out, len, 0) < 0)
			break;
	}
	return NULL;
}

void fk_start(fake_kernel *k, nlconn *c)
{
	int sv[2];

	if (!k->next_index)
		k->next_index = 7;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	k->fd = sv[1];
	nlconn_adopt(c, sv[0]);
	if (pthread_create(&k->thread, NULL, serve, k) != 0)
		abort();
}

void fk_stop(fake_kernel *k, nlconn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	pthread_join(k->thread, NULL);
	nlconn_close(c);
	close(k->fd);
}
