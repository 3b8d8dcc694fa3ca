/* SPDX-License-Identifier: MIT */
/*
 * The anti-spoofing program, run on crafted frames by a small classic BPF
 * interpreter (the subset the program uses), so each verdict is checked
 * without a kernel: accept = TC_ACT_UNSPEC (on to the next filter), drop =
 * TC_ACT_SHOT.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/filter.h>
#include <linux/pkt_cls.h>
#include <string.h>

#include "nl-internal.h"

static uint32_t run(const struct sock_filter *f, int n, const uint8_t *pkt, size_t len, bool vlan)
{
	uint32_t A = 0;

	for (int pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t k = i->k;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k == (uint32_t)(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)) {
				A = vlan;
				break;
			}
			if (k + 4 > len)
				return 0; /* out of bounds: the kernel returns 0 */
			A = (uint32_t)pkt[k] << 24 | (uint32_t)pkt[k + 1] << 16 |
			    (uint32_t)pkt[k + 2] << 8 | pkt[k + 3];
			break;
		case BPF_LD | BPF_B | BPF_ABS:
			if (k + 1 > len)
				return 0;
			A = pkt[k];
			break;
		case BPF_LD | BPF_H | BPF_ABS:
			if (k + 2 > len)
				return 0;
			A = (uint32_t)pkt[k] << 8 | pkt[k + 1];
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			A &= k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += A == k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return k;
		default:
			cr_assert_fail("instruction %#x not in the interpreter", i->code);
		}
	}
	cr_assert_fail("fell off the end of the program");
	return 0;
}

static const uint8_t MAC[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x0b};

static net_plan plan(void)
{
	net_plan p = {.mode = NET_ROUTED, .antispoof = true, .n_addrs = 3};

	memcpy(p.mac, MAC, 6);
	p.addrs[0].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.10", p.addrs[0].bytes);
	p.addrs[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::10", p.addrs[1].bytes);
	p.addrs[2].family = AF_INET;
	inet_pton(AF_INET, "198.51.100.7", p.addrs[2].bytes);
	return p;
}

static size_t eth(uint8_t *f, const uint8_t *src, uint16_t type)
{
	memset(f, 0, 128);
	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static size_t ip4(uint8_t *f, const uint8_t *mac, const char *src)
{
	size_t o = eth(f, mac, 0x0800);

	f[o] = 0x45;
	inet_pton(AF_INET, src, f + o + 12);
	inet_pton(AF_INET, "203.0.113.1", f + o + 16);
	return o + 20;
}

static size_t ip6(uint8_t *f, const uint8_t *mac, const char *src)
{
	size_t o = eth(f, mac, 0x86dd);

	f[o] = 0x60;
	inet_pton(AF_INET6, src, f + o + 8);
	inet_pton(AF_INET6, "2001:db8::1", f + o + 24);
	return o + 40;
}

static size_t arp(uint8_t *f, const uint8_t *mac, const uint8_t *sha, const char *sip)
{
	size_t o = eth(f, mac, 0x0806);

	memcpy(f + o, (uint8_t[]){0, 1, 0x08, 0, 6, 4, 0, 1}, 8);
	memcpy(f + o + 8, sha, 6);
	inet_pton(AF_INET, sip, f + o + 14);
	return o + 28;
}

#define ACCEPT ((uint32_t)TC_ACT_UNSPEC)
#define DROP ((uint32_t)TC_ACT_SHOT)

static uint32_t verdict(const uint8_t *f, size_t len, bool vlan)
{
	struct sock_filter prog[TC_BPF_MAX];
	net_plan p = plan();
	int n = tc_antispoof_prog(&p, prog, TC_BPF_MAX);

	cr_assert_gt(n, 0);
	return run(prog, n, f, len, vlan);
}

Test(antispoof, ipv4_only_from_own_mac_and_addresses)
{
	uint8_t f[128];

	cr_expect_eq(verdict(f, ip4(f, MAC, "192.0.2.10"), false), ACCEPT);
	cr_expect_eq(verdict(f, ip4(f, MAC, "198.51.100.7"), false), ACCEPT, "second address");
	cr_expect_eq(verdict(f, ip4(f, MAC, "192.0.2.11"), false), DROP, "a neighbour's address");
	cr_expect_eq(verdict(f, ip4(f, OTHER_MAC, "192.0.2.10"), false), DROP, "another MAC");
	cr_expect_eq(verdict(f, ip4(f, MAC, "192.0.2.10"), true), DROP, "VLAN-tagged");
}

Test(antispoof, ipv6_own_link_local_and_unspecified)
{
	uint8_t f[128];

	cr_expect_eq(verdict(f, ip6(f, MAC, "2001:db8::10"), false), ACCEPT);
	cr_expect_eq(verdict(f, ip6(f, MAC, "fe80::1234"), false), ACCEPT, "link-local");
	cr_expect_eq(verdict(f, ip6(f, MAC, "febf::1"), false), ACCEPT, "fe80::/10 ends at febf");
	cr_expect_eq(verdict(f, ip6(f, MAC, "::"), false), ACCEPT, "DAD");
	cr_expect_eq(verdict(f, ip6(f, MAC, "fec0::1"), false), DROP, "outside fe80::/10");
	cr_expect_eq(verdict(f, ip6(f, MAC, "2001:db8::11"), false), DROP, "a neighbour's");
	cr_expect_eq(verdict(f, ip6(f, MAC, "2001:db8:0:0:1::10"), false), DROP,
		     "differs in word 2");
	cr_expect_eq(verdict(f, ip6(f, OTHER_MAC, "2001:db8::10"), false), DROP);
}

Test(antispoof, no_router_advertisements_or_redirects)
{
	uint8_t f[128];
	size_t len = ip6(f, MAC, "fe80::1234");

	f[14 + 6] = 58; /* ICMPv6 */
	f[14 + 40] = 128;
	cr_expect_eq(verdict(f, len + 8, false), ACCEPT, "an echo request");
	f[14 + 40] = 135;
	cr_expect_eq(verdict(f, len + 8, false), ACCEPT, "a neighbour solicitation");
	f[14 + 40] = 134;
	cr_expect_eq(verdict(f, len + 8, false), DROP, "a router advertisement");
	f[14 + 40] = 137;
	cr_expect_eq(verdict(f, len + 8, false), DROP, "a redirect");
}

Test(antispoof, arp_sender_must_be_the_instance)
{
	uint8_t f[128];
	size_t len;

	cr_expect_eq(verdict(f, arp(f, MAC, MAC, "192.0.2.10"), false), ACCEPT);
	cr_expect_eq(verdict(f, arp(f, MAC, MAC, "0.0.0.0"), false), ACCEPT, "a probe");
	cr_expect_eq(verdict(f, arp(f, MAC, MAC, "192.0.2.11"), false), DROP, "a neighbour's");
	cr_expect_eq(verdict(f, arp(f, MAC, OTHER_MAC, "192.0.2.10"), false), DROP,
		     "sender MAC inside the ARP differs from the frame's");
	len = arp(f, MAC, MAC, "192.0.2.10");
	f[14 + 4] = 8; /* hardware address length 8: the offsets would lie */
	cr_expect_eq(verdict(f, len, false), DROP);
}

Test(antispoof, other_ethertypes_are_dropped)
{
	uint8_t f[128];

	cr_expect_eq(verdict(f, eth(f, MAC, 0x88cc) + 40, false), DROP, "LLDP");
	cr_expect_eq(verdict(f, eth(f, MAC, 0x8100) + 40, false), DROP, "in-band 802.1Q");
}

Test(antispoof, program_fits_and_grows_with_addresses)
{
	struct sock_filter prog[TC_BPF_MAX];
	net_plan p = plan();
	int n1 = tc_antispoof_prog(&p, prog, TC_BPF_MAX), n2;

	p.n_addrs = NET_MAX_ADDRS;
	for (size_t i = 3; i < NET_MAX_ADDRS; i++)
		p.addrs[i] = p.addrs[1];
	n2 = tc_antispoof_prog(&p, prog, TC_BPF_MAX);
	cr_expect_gt(n2, n1);
	cr_expect_leq(n2, TC_BPF_MAX, "8 IPv6 addresses still fit");
	cr_expect_eq(tc_antispoof_prog(&p, prog, 10), -ENOSPC);
}

Test(antispoof, ifb_name_follows_the_host_side)
{
	char n[NET_IFNAMSIZ];

	net_ifb_name("bt-web1", n);
	cr_expect_str_eq(n, "bi-web1");
	net_ifb_name("bi-x", n);
	cr_expect_str_eq(n, "bj-x", "never the host side's own name");
}
