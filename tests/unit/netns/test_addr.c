/* SPDX-License-Identifier: MIT */
/* netns/addr.c and netns/names.c: parsing, formatting, prefixes, derived names. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>

#include "netns.h"

static net_addr parse_ok(const char *s, bool host_ok)
{
	net_addr a;
	berr err = {0};

	cr_assert_eq(net_addr_parse(s, host_ok, &a, &err), 0, "%s: %s", s, err.msg);
	return a;
}

static void parse_fails(const char *s, bool host_ok, const char *needle)
{
	net_addr a;
	berr err = {0};

	cr_assert_lt(net_addr_parse(s, host_ok, &a, &err), 0, "%s parsed", s);
	cr_expect(strstr(err.msg, needle), "%s: message \"%s\" lacks \"%s\"", s, err.msg, needle);
}

Test(addr, v4_with_prefix_round_trips)
{
	net_addr a = parse_ok("10.88.0.5/16", false);
	char buf[64];

	cr_expect_eq(a.family, AF_INET);
	cr_expect_eq(a.prefix, 16);
	cr_expect_eq(a.bytes[0], 10);
	cr_expect_eq(a.bytes[3], 5);
	cr_assert_gt(net_addr_format(&a, true, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "10.88.0.5/16");
	cr_assert_gt(net_addr_format(&a, false, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "10.88.0.5");
}

Test(addr, v6_is_canonicalised)
{
	net_addr a = parse_ok("FD88:0:0:0::0a/64", false);
	char buf[64];

	cr_expect_eq(a.family, AF_INET6);
	cr_expect_eq(a.prefix, 64);
	cr_assert_gt(net_addr_format(&a, true, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "fd88::a/64");
}

Test(addr, bare_address_only_when_allowed)
{
	net_addr a = parse_ok("192.0.2.1", true);

	cr_expect_eq(a.prefix, 32);
	a = parse_ok("2001:db8::1", true);
	cr_expect_eq(a.prefix, 128);
	parse_fails("192.0.2.1", false, "no prefix length");
}

Test(addr, malformed_inputs_are_named)
{
	parse_fails("", false, "empty");
	parse_fails("10.88.0.300/16", false, "\"10.88.0.300\" is not an IPv4 or IPv6");
	parse_fails("10.88.0.1/33", false, "0 to 32");
	parse_fails("fd88::1/129", false, "0 to 128");
	parse_fails("10.88.0.1/", false, "prefix length");
	parse_fails("10.88.0.1/-1", false, "prefix length");
	parse_fails("10.88.0.1/ 8", false, "prefix length");
	parse_fails("10.88.0.1/0008", false, "prefix length");
	parse_fails("/8", false, "not an IPv4 or IPv6");
	parse_fails("host.example/8", false, "not an IPv4 or IPv6");
	parse_fails("1.2.3.4/8/8", false, "prefix length");
}

Test(addr, format_needs_room)
{
	net_addr a = parse_ok("10.88.0.5/16", false);
	char buf[8];

	cr_expect_eq(net_addr_format(&a, true, buf, sizeof(buf)), -ENOSPC);
}

static bool in_net(const net_addr *net, const char *s)
{
	net_addr a = parse_ok(s, false);

	return net_addr_in(net, &a);
}

Test(addr, in_prefix)
{
	net_addr net = parse_ok("10.88.0.0/16", false);
	net_addr net6 = parse_ok("fd88::/64", false);
	net_addr odd = parse_ok("10.88.0.0/13", false);

	cr_expect(in_net(&net, "10.88.255.254/32"));
	cr_expect_not(in_net(&net, "10.89.0.1/32"));
	cr_expect_not(in_net(&net, "fd88::1/128"), "another family is never inside");
	cr_expect(in_net(&net6, "fd88::ffff/128"));
	cr_expect_not(in_net(&net6, "fd88:0:0:1::1/128"));
	cr_expect(in_net(&odd, "10.95.1.1/32"));
	cr_expect_not(in_net(&odd, "10.96.0.0/32"));
}

Test(addr, equal_ignores_prefix)
{
	net_addr a = parse_ok("10.88.0.5/16", false), b = parse_ok("10.88.0.5/32", false);
	net_addr c = parse_ok("10.88.0.6/16", false);

	cr_expect(net_addr_equal(&a, &b));
	cr_expect_not(net_addr_equal(&a, &c));
}

Test(names, host_ifname_short_names_are_readable)
{
	char n[NET_IFNAMSIZ];

	net_host_ifname("web1", n);
	cr_expect_str_eq(n, "bt-web1");
	net_host_ifname("abcdefghijkl", n);
	cr_expect_str_eq(n, "bt-abcdefghijkl");
}

Test(names, host_ifname_long_names_are_hashed_and_distinct)
{
	char a[NET_IFNAMSIZ], b[NET_IFNAMSIZ], a2[NET_IFNAMSIZ];

	net_host_ifname("customer-database-1", a);
	net_host_ifname("customer-database-2", b);
	net_host_ifname("customer-database-1", a2);
	cr_expect_eq(strlen(a), 15);
	cr_expect(str_startswith(a, "bt-custom-"), "%s", a);
	cr_expect_str_neq(a, b, "names sharing a prefix get distinct interfaces");
	cr_expect_str_eq(a, a2, "stable");
	net_host_ifname("abcdefghijklm", a);
	cr_expect_eq(strlen(a), 15, "13 characters no longer fit: %s", a);
}

Test(names, mac_is_stable_local_unicast)
{
	uint8_t a[6], b[6], c[6];

	net_instance_mac("web1", a);
	net_instance_mac("web1", b);
	net_instance_mac("web2", c);
	cr_expect_arr_eq(a, b, 6);
	cr_expect(memcmp(a, c, 6) != 0);
	cr_expect_eq(a[0] & 0x02, 0x02, "locally administered");
	cr_expect_eq(a[0] & 0x01, 0, "unicast");
	cr_expect_eq(c[0] & 0x03, 0x02);
}

Test(names, modes)
{
	net_mode m = NET_NONE;

	cr_expect_eq(net_mode_parse("bridge", &m), 0);
	cr_expect_eq(m, NET_BRIDGE);
	cr_expect_eq(net_mode_parse("routed", &m), 0);
	cr_expect_eq(m, NET_ROUTED);
	cr_expect_eq(net_mode_parse("none", &m), 0);
	cr_expect_eq(m, NET_NONE);
	cr_expect_eq(net_mode_parse("Bridge", &m), -EINVAL);
	cr_expect_eq(m, NET_NONE, "untouched on failure");
	cr_expect_str_eq(net_mode_name(NET_ROUTED), "routed");
	cr_expect_str_eq(net_mode_name(NET_BRIDGE), "bridge");
	cr_expect_str_eq(net_mode_name(NET_NONE), "none");
}
