/* SPDX-License-Identifier: MIT */
/* netns: network setup over netlink (libmnl for single raw messages, libnl-route-3 for the rest). */
#pragma once

#include "common.h"

/* Bring the loopback link of the caller's network namespace up. */
int netns_loopback_up(berr *err);

/*
 * Build the RTM_NEWLINK request that sets IFF_UP on ifindex into buf (no
 * syscalls). Returns the message length. Exposed for unit tests.
 */
size_t netns_build_link_up(void *buf, size_t size, int ifindex, unsigned int seq);
