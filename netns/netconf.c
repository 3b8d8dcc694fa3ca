/* SPDX-License-Identifier: MIT */
/* The host's network config (network.json) and rates: pure parsers over strings. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ipam.h"

/* The first host address of a prefix (network + 1), keeping the prefix. */
static net_addr first_host(const net_addr *net)
{
	net_addr a = *net;
	size_t len = net->family == AF_INET ? 4 : 16;
	unsigned int bits = net->prefix;

	/* Clear the host bits, then add one. */
	for (size_t i = 0; i < len; i++) {
		unsigned int keep = bits >= 8 ? 8 : bits;

		a.bytes[i] &= (uint8_t)(0xff00 >> keep);
		bits -= keep;
	}
	a.bytes[len - 1] |= 1;
	return a;
}

void net_config_defaults(net_config *c)
{
	berr err = {0};

	*c = (net_config){.mode = NET_ROUTED};
	snprintf(c->bridge, sizeof(c->bridge), "%s", NET_DEFAULT_BRIDGE);
	net_addr_parse("10.88.0.0/16", false, &c->pools[0], &err);
	net_addr_parse("fd88::/64", false, &c->pools[1], &err);
	c->n_pools = 2;
}

const net_addr *net_config_gateway(const net_config *c, int family)
{
	for (size_t i = 0; i < c->n_gateways; i++)
		if (c->gateways[i].family == family)
			return &c->gateways[i];
	return NULL;
}

int net_rate_parse(const char *s, uint64_t *ret, berr *err)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {{"", 1},
		     {"bit", 1},
		     {"kbit", 1000ULL},
		     {"mbit", 1000000ULL},
		     {"gbit", 1000000000ULL},
		     {"tbit", 1000000000000ULL}};
	uint64_t v = 0;
	size_t i = 0;

	if (!s)
		s = "";
	for (; isdigit((unsigned char)s[i]); i++) {
		if (v > (UINT64_MAX - 9) / 10)
			goto range;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		goto bad;
	for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
		if (strcasecmp(s + i, units[u].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[u].mult)
			goto range;
		*ret = v * units[u].mult;
		return 0;
	}
bad:
	return berr_setx(err, EINVAL,
			 "rate \"%.32s\" is not a rate (use bits per second with a unit: "
			 "500kbit, 100mbit, 1gbit; 0 for no limit)",
			 s);
range:
	return berr_setx(err, ERANGE, "rate \"%.32s\" is too large", s);
}

int net_rate_format(uint64_t bps, char *buf, size_t size)
{
	static const char *const units[] = {"bit", "kbit", "mbit", "gbit", "tbit"};
	size_t u = 0;
	int n;

	if (bps == 0)
		n = snprintf(buf, size, "unlimited");
	else {
		while (u + 1 < ARRAY_SIZE(units) && bps % 1000 == 0) {
			bps /= 1000;
			u++;
		}
		n = snprintf(buf, size, "%llu%s", (unsigned long long)bps, units[u]);
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static int field_error(const char *field, const char *what, berr *err)
{
	return berr_setx(err, EINVAL, "network config: field \"%s\": %s", field, what);
}

/* An array of address strings into v (at most max). */
static int get_addrs(const json_tree *t, const char *key, bool host_ok, net_addr *v, size_t max,
		     size_t *ret_n, berr *err)
{
	const json_tree *arr = NULL;
	int r = json_get_array(t, key, &arr);
	size_t n;

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return field_error(key, "expected a list of addresses", err);
	n = json_array_len(arr);
	if (n > max) {
		char what[64];

		snprintf(what, sizeof(what), "at most %zu entries", max);
		return field_error(key, what, err);
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_of(json_array_at(arr, i));

		if (!s)
			return field_error(key, "expected a list of strings", err);
		r = net_addr_parse(s, host_ok, &v[i], err);
		if (r < 0) {
			berr_prefix(err, "network config: field \"%s\"", key);
			return r;
		}
	}
	*ret_n = n;
	return 0;
}

static int get_ifname(const json_tree *t, const char *key, char *buf, berr *err)
{
	const char *s;
	int r = json_get_string(t, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return field_error(key, "expected a string", err);
	if (!s[0] || strlen(s) >= NET_IFNAMSIZ || strpbrk(s, "/: \t\n") || str_eq(s, ".") ||
	    str_eq(s, ".."))
		return berr_setx(err, EINVAL,
				 "network config: field \"%s\": \"%.32s\" is not an interface "
				 "name (1-15 characters, no '/', ':' or blanks)",
				 key, s);
	snprintf(buf, NET_IFNAMSIZ, "%s", s);
	return 0;
}

static int get_rate(const json_tree *t, const char *key, uint64_t *ret, berr *err)
{
	const char *s;
	int r = json_get_string(t, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return field_error(key, "expected a string such as \"100mbit\"", err);
	r = net_rate_parse(s, ret, err);
	if (r < 0)
		berr_prefix(err, "network config: field \"%s\"", key);
	return r;
}

static bool host_bits_clear(const net_addr *a)
{
	net_addr net = first_host(a);

	net.bytes[(a->family == AF_INET ? 4 : 16) - 1] &= 0xfe;
	/* first_host cleared the host bits and set the last one: compare the rest. */
	return a->prefix == (a->family == AF_INET ? 32 : 128) ||
	       memcmp(net.bytes, a->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static int check_pools(net_config *c, berr *err)
{
	char text[64];

	for (size_t i = 0; i < c->n_pools; i++) {
		net_addr *p = &c->pools[i];
		unsigned int max = p->family == AF_INET ? 30 : 126;

		net_addr_format(p, true, text, sizeof(text));
		if (p->prefix > max || p->prefix < (p->family == AF_INET ? 8 : 48))
			return berr_setx(err, EINVAL,
					 "network config: pool %s: the prefix length must be "
					 "from %d to %u",
					 text, p->family == AF_INET ? 8 : 48, max);
		if (!host_bits_clear(p)) {
			net_addr n = first_host(p);
			char fix[64];

			n.bytes[(p->family == AF_INET ? 4 : 16) - 1] &= 0xfe;
			net_addr_format(&n, true, fix, sizeof(fix));
			return berr_setx(err, EINVAL,
					 "network config: pool %s has host bits set (write it "
					 "as %s)",
					 text, fix);
		}
		for (size_t j = 0; j < i; j++)
			if (net_addr_in(&c->pools[j], p) || net_addr_in(p, &c->pools[j]))
				return berr_setx(err, EINVAL,
						 "network config: pool %s overlaps another pool "
						 "(give each pool its own prefix)",
						 text);
	}
	return 0;
}

/* Gateways: the ones given must lie in a pool; the missing families get their first pool's. */
static int check_gateways(net_config *c, bool bridge_mode, berr *err)
{
	static const int families[] = {AF_INET, AF_INET6};
	char text[64];

	for (size_t i = 0; i < c->n_gateways; i++) {
		const net_addr *g = &c->gateways[i];
		bool inside = false;

		net_addr_format(g, true, text, sizeof(text));
		for (size_t j = 0; j < i; j++)
			if (c->gateways[j].family == g->family)
				return berr_setx(err, EINVAL,
						 "network config: gateway %s: one gateway per "
						 "family",
						 text);
		for (size_t p = 0; p < c->n_pools && !inside; p++)
			inside = net_addr_in(&c->pools[p], g) && c->pools[p].prefix == g->prefix;
		if (!inside)
			return berr_setx(err, EINVAL,
					 "network config: gateway %s is not inside a pool with "
					 "the same prefix length (e.g. 10.88.0.1/16 for the pool "
					 "10.88.0.0/16)",
					 text);
	}
	for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
		size_t pools_of_family = 0;

		for (size_t p = 0; p < c->n_pools; p++) {
			if (c->pools[p].family != families[f])
				continue;
			if (pools_of_family++ == 0 && !net_config_gateway(c, families[f]))
				c->gateways[c->n_gateways++] = first_host(&c->pools[p]);
		}
		if (bridge_mode && pools_of_family > 1)
			return berr_setx(err, EINVAL,
					 "network config: bridge mode takes one pool per family "
					 "(the bridge's subnet); remove the others or use routed "
					 "mode");
	}
	return 0;
}

static int parse_fields(const json_tree *t, net_config *c, berr *err)
{
	const char *mode;
	int r = json_get_string(t, "mode", &mode);

	if (r == -EINVAL)
		return field_error("mode", "expected \"routed\", \"bridge\" or \"none\"", err);
	if (r == 0 && net_mode_parse(mode, &c->mode) < 0)
		return berr_setx(err, EINVAL,
				 "network config: field \"mode\": \"%.32s\" is not routed, bridge "
				 "or none",
				 mode);
	if ((r = get_addrs(t, "pools", false, c->pools, NET_MAX_POOLS, &c->n_pools, err)) < 0 ||
	    (r = get_ifname(t, "bridge/name", c->bridge, err)) < 0 ||
	    (r = get_addrs(t, "bridge/gateways", false, c->gateways, 2, &c->n_gateways, err)) < 0 ||
	    (r = get_ifname(t, "uplink", c->uplink, err)) < 0 ||
	    (r = get_addrs(t, "dns", true, c->dns, NET_MAX_DNS, &c->n_dns, err)) < 0 ||
	    (r = get_rate(t, "rate", &c->rate_in, err)) < 0)
		return r;
	c->rate_out = c->rate_in;
	if ((r = get_rate(t, "rate_in", &c->rate_in, err)) < 0 ||
	    (r = get_rate(t, "rate_out", &c->rate_out, err)) < 0)
		return r;
	c->dns_set = json_get_array(t, "dns", &(const json_tree *){NULL}) == 0;
	return 0;
}

int net_config_parse(const char *json, net_config *ret, berr *err)
{
	json_tree *t = NULL;
	const json_tree *bridge;
	net_config c;
	int r;

	net_config_defaults(&c);
	r = json_parse(json, &t, err);
	if (r < 0) {
		berr_prefix(err, "network config");
		return r;
	}
	if (!json_is_object(t))
		r = berr_setx(err, EINVAL, "network config: expected a JSON object");
	else if (json_get_object(t, "bridge", &bridge) == -EINVAL)
		r = field_error("bridge", "expected an object with name and gateways", err);
	else
		r = parse_fields(t, &c, err);
	json_tree_free(t);
	if (r >= 0 && c.n_pools == 0 && c.mode != NET_NONE)
		r = field_error("pools", "no pool given (e.g. [\"10.88.0.0/16\", \"fd88::/64\"])",
				err);
	if (r >= 0)
		r = check_pools(&c, err);
	if (r >= 0)
		r = check_gateways(&c, c.mode == NET_BRIDGE, err);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

int net_config_load(const char *path, net_config *ret, berr *err)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file_at(AT_FDCWD, path, &text, NULL);

	if (r == -ENOENT) {
		net_config_defaults(ret);
		return check_gateways(ret, ret->mode == NET_BRIDGE, err);
	}
	if (r < 0)
		return berr_set(err, -r, "read %s", path);
	r = net_config_parse(text, ret, err);
	if (r < 0)
		berr_prefix(err, "%s", path);
	return r;
}
