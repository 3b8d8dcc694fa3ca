/* SPDX-License-Identifier: MIT */
/*
 * Addresses with a prefix length. Pure functions over strings and bytes: the
 * CLI, network.json and the fuzzers all come through net_addr_parse().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netns.h"

/* A prefix length: 1-3 decimal digits, nothing else (no sign, no blanks). */
static int parse_prefix(const char *s, unsigned int max, uint8_t *ret)
{
	unsigned int v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 3)
		return -EINVAL;
	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = (uint8_t)v;
	return 0;
}

int net_addr_parse(const char *s, bool host_prefix_ok, net_addr *ret, berr *err)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash;
	net_addr a = {0};
	size_t len;

	if (!s || s[0] == '\0')
		return berr_setx(err, EINVAL,
				 "address is empty (use e.g. 10.88.0.5/16 or fd88::5/64)");
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= INET6_ADDRSTRLEN)
		return berr_setx(err, EINVAL,
				 "address \"%.64s\": not an IPv4 or IPv6 address (use e.g. "
				 "10.88.0.5/16 or fd88::5/64)",
				 s);
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.family = AF_INET6;
	else
		return berr_setx(err, EINVAL,
				 "address \"%.64s\": \"%s\" is not an IPv4 or IPv6 address (use "
				 "e.g. 10.88.0.5/16 or fd88::5/64)",
				 s, text);
	if (!slash) {
		if (!host_prefix_ok)
			return berr_setx(err, EINVAL,
					 "address \"%.64s\": no prefix length (write it as "
					 "ADDR/PREFIX, e.g. %s/%d)",
					 s, text, a.family == AF_INET ? 24 : 64);
		a.prefix = a.family == AF_INET ? 32 : 128;
	} else if (parse_prefix(slash + 1, a.family == AF_INET ? 32 : 128, &a.prefix) < 0) {
		return berr_setx(err, EINVAL,
				 "address \"%.64s\": prefix length \"%.16s\" is not a number from "
				 "0 to %d",
				 s, slash + 1, a.family == AF_INET ? 32 : 128);
	}
	*ret = a;
	return 0;
}

int net_addr_format(const net_addr *a, bool with_prefix, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	int n;

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!inet_ntop(a->family, a->bytes, text, sizeof(text)))
		return -errno;
	if (with_prefix)
		n = snprintf(buf, size, "%s/%u", text, a->prefix);
	else
		n = snprintf(buf, size, "%s", text);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

static size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

bool net_addr_in(const net_addr *net, const net_addr *a)
{
	unsigned int bits = net->prefix, full = bits / 8, rest = bits % 8;

	if (net->family != a->family || (a->family != AF_INET && a->family != AF_INET6))
		return false;
	if (bits > addr_len(net->family) * 8)
		return false;
	if (memcmp(net->bytes, a->bytes, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((net->bytes[full] & mask) != (a->bytes[full] & mask))
			return false;
	}
	return true;
}

bool net_addr_equal(const net_addr *a, const net_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family != AF_INET && a->family != AF_INET6)
		return true;
	return memcmp(a->bytes, b->bytes, addr_len(a->family)) == 0;
}
