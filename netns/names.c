/* SPDX-License-Identifier: MIT */
/* Names derived from an instance's name: stable across boots and hosts. */
#include <stdio.h>
#include <string.h>

#include "netns.h"

/* FNV-1a, 64 bits: tiny, stable across versions and architectures, good enough spread. */
static uint64_t fnv1a(const char *s, uint64_t salt)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ salt;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void net_host_ifname(const char *instance, char ret[NET_IFNAMSIZ])
{
	size_t len = strlen(instance);

	if (len + 3 <= NET_IFNAMSIZ - 1) {
		snprintf(ret, NET_IFNAMSIZ, "bt-%s", instance);
		return;
	}
	/* 3 + 6 + 1 + 5 = 15 characters. */
	snprintf(ret, NET_IFNAMSIZ, "bt-%.6s-%05llx", instance,
		 (unsigned long long)(fnv1a(instance, 0) & 0xfffff));
}

void net_instance_mac(const char *instance, uint8_t ret[6])
{
	uint64_t h = fnv1a(instance, 0x6d6163 /* "mac" */);
	int i;

	for (i = 0; i < 6; i++)
		ret[i] = (uint8_t)(h >> (8 * i));
	/* Locally administered (bit 1 set), unicast (bit 0 clear). */
	ret[0] = (uint8_t)((ret[0] & 0xfc) | 0x02);
}

static const char *const mode_names[] = {
	[NET_NONE] = "none",
	[NET_ROUTED] = "routed",
	[NET_BRIDGE] = "bridge",
};

const char *net_mode_name(net_mode m)
{
	if ((size_t)m >= ARRAY_SIZE(mode_names))
		return "unknown";
	return mode_names[m];
}

int net_mode_parse(const char *s, net_mode *ret)
{
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (str_eq(s, mode_names[i])) {
			*ret = (net_mode)i;
			return 0;
		}
	return -EINVAL;
}
