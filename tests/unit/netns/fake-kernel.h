/* SPDX-License-Identifier: MIT */
/*
 * A fake rtnetlink "kernel" for unit tests: a thread on one end of a
 * socketpair records every request the library sends through nlconn, answers
 * RTM_GETLINK from a small table of links (RTM_NEWLINK with a name adds one),
 * and acks the rest, or fails the request number fail_at with fail_errno.
 */
#pragma once

#include <libmnl/libmnl.h>
#include <pthread.h>
#include <stdbool.h>

#include "nl-internal.h"

#define FK_MAX_MSGS 64
#define FK_MAX_LINKS 16

typedef struct fk_link {
	char name[16];
	char kind[16];
	int index;
} fk_link;

typedef struct fake_kernel {
	int fd;
	pthread_t thread;
	struct {
		char buf[4096];
		size_t len;
	} msgs[FK_MAX_MSGS];
	size_t n;
	fk_link links[FK_MAX_LINKS];
	size_t n_links;
	int next_index;
	size_t fail_at; /* 1-based request number to fail; 0: none */
	int fail_errno;
	int exist_errno_once; /* first RTM_NEWLINK create answers -EEXIST (stale link) */
} fake_kernel;

/* Start the fake on a socketpair; c gets the other end. */
void fk_start(fake_kernel *k, nlconn *c);
/* Close c's end and wait for the fake to finish. */
void fk_stop(fake_kernel *k, nlconn *c);
void fk_add_link(fake_kernel *k, const char *name, const char *kind, int index);

static inline const struct nlmsghdr *fk_msg(const fake_kernel *k, size_t i)
{
	return (const struct nlmsghdr *)k->msgs[i].buf;
}
/* The top-level attribute type of message i (after a header of hdrlen), or NULL. */
const struct nlattr *fk_attr(const struct nlmsghdr *m, size_t hdrlen, uint16_t type);
/* A nested attribute of a. */
const struct nlattr *fk_nested(const struct nlattr *a, uint16_t type);
/* Index of the first message of type at or after from, or -1. */
int fk_find(const fake_kernel *k, size_t from, uint16_t type);
