/* SPDX-License-Identifier: MIT */
/*
 * berth-netdrv: drives the netns library on real kernel objects for
 * netns.sh and tests/bench/net-setup.sh. It builds a net_plan from its
 * arguments itself (no IPAM or config involved) and calls the public API:
 *
 *   setup PID IFNAME routed|bridge [--addr A[/P]]... [--mac M] [--bridge B]
 *         [--bridge-addr A/P]... [--gw4 A] [--gw6 A] [--uplink L]
 *         [--rate-in BITS] [--rate-out BITS] [--no-antispoof] [--mtu N]
 *   teardown IFNAME routed|bridge [same options]
 *   rate IFNAME IN OUT                  (bits/s, 0 = unlimited)
 *   counters IFNAME                     (one line of key=value)
 *   bench routed|bridge 0|1 PID...      (anti-spoofing off/on; prints us per setup)
 *
 * Errors print the library's message and exit 1.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "netns.h"

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "berth-netdrv: %s: %s\n", what, arg);
	exit(2);
}

static net_addr addr(const char *s, int default_prefix)
{
	net_addr a = {0};
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a.bytes) == 1)
		a.family = AF_INET6;
	else
		die("not an address", s);
	a.prefix = (uint8_t)(slash            ? atoi(slash + 1)
			     : default_prefix ? default_prefix
					      : (a.family == AF_INET ? 32 : 128));
	return a;
}

static void mac_from(const char *s, uint8_t mac[6])
{
	unsigned int m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		die("not a MAC", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
}

static void plan_from(net_plan *p, const char *ifname, const char *mode, int argc, char **argv)
{
	*p = (net_plan){.antispoof = true};
	snprintf(p->host_ifname, sizeof(p->host_ifname), "%s", ifname);
	if (str_eq(mode, "routed")) {
		p->mode = NET_ROUTED;
		p->gw4 = addr("169.254.0.1", 32);
		p->gw6 = addr("fe80::1", 64);
	} else if (str_eq(mode, "bridge")) {
		p->mode = NET_BRIDGE;
		snprintf(p->bridge, sizeof(p->bridge), "berth0");
	} else {
		die("not routed or bridge", mode);
	}
	mac_from("02:00:00:00:00:01", p->mac);
	for (int i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (str_eq(o, "--no-antispoof")) {
			p->antispoof = false;
			continue;
		}
		if (!v)
			die("needs a value", o);
		i++;
		if (str_eq(o, "--addr") && p->n_addrs < NET_MAX_ADDRS)
			p->addrs[p->n_addrs++] = addr(v, 0);
		else if (str_eq(o, "--mac"))
			mac_from(v, p->mac);
		else if (str_eq(o, "--bridge"))
			snprintf(p->bridge, sizeof(p->bridge), "%s", v);
		else if (str_eq(o, "--bridge-addr") && p->n_bridge_addrs < 2)
			p->bridge_addrs[p->n_bridge_addrs++] = addr(v, 0);
		else if (str_eq(o, "--gw4"))
			p->gw4 = addr(v, 32);
		else if (str_eq(o, "--gw6"))
			p->gw6 = addr(v, 128);
		else if (str_eq(o, "--uplink"))
			snprintf(p->uplink, sizeof(p->uplink), "%s", v);
		else if (str_eq(o, "--rate-in"))
			p->rate_in = strtoull(v, NULL, 10);
		else if (str_eq(o, "--rate-out"))
			p->rate_out = strtoull(v, NULL, 10);
		else if (str_eq(o, "--mtu"))
			p->mtu = (uint32_t)strtoul(v, NULL, 10);
		else
			die("unknown option", o);
	}
}

static int fail(const berr *err)
{
	fprintf(stderr, "berth-netdrv: %s\n", err->msg);
	return 1;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One setup per pid: bt-bN, 10.77.N/32 and fd77::N. */
static int bench(const char *mode, bool antispoof, int n, char **pids)
{
	for (int i = 0; i < n; i++) {
		char name[16], a4[32], a6[32];
		char *args[] = {"--addr", a4, "--addr", a6};
		net_plan p;
		berr err = {0};
		double t0;

		snprintf(name, sizeof(name), "bt-b%d", i);
		snprintf(a4, sizeof(a4), "10.77.%d.%d", i / 250, i % 250 + 2);
		snprintf(a6, sizeof(a6), "fd77::%x", i + 2);
		plan_from(&p, name, mode, 4, args);
		p.antispoof = antispoof;
		p.mac[5] = (uint8_t)i;
		if (p.mode == NET_BRIDGE) {
			p.addrs[0].prefix = 16;
			p.addrs[1].prefix = 64;
		}
		t0 = now_us();
		if (netns_setup(&p, (pid_t)atoi(pids[i]), &err) < 0)
			return fail(&err);
		printf("%.1f\n", now_us() - t0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	net_counters cnt;
	net_plan p;
	berr err = {0};

	if (argc >= 5 && str_eq(argv[1], "setup")) {
		plan_from(&p, argv[3], argv[4], argc - 5, argv + 5);
		return netns_setup(&p, (pid_t)atoi(argv[2]), &err) < 0 ? fail(&err) : 0;
	}
	if (argc >= 4 && str_eq(argv[1], "teardown")) {
		plan_from(&p, argv[2], argv[3], argc - 4, argv + 4);
		return netns_teardown(&p, &err) < 0 ? fail(&err) : 0;
	}
	if (argc == 5 && str_eq(argv[1], "rate"))
		return netns_set_rate(argv[2], strtoull(argv[3], NULL, 10),
				      strtoull(argv[4], NULL, 10), &err) < 0
			       ? fail(&err)
			       : 0;
	if (argc == 3 && str_eq(argv[1], "counters")) {
		int r = netns_counters(argv[2], &cnt, &err);

		if (r == -ENODEV) {
			fprintf(stderr, "berth-netdrv: %s: no such link\n", argv[2]);
			return 1;
		}
		if (r < 0)
			return fail(&err);
		printf("rx_bytes=%" PRIu64 " rx_packets=%" PRIu64 " tx_bytes=%" PRIu64
		       " tx_packets=%" PRIu64 " rx_dropped=%" PRIu64 " tx_dropped=%" PRIu64 "\n",
		       cnt.rx_bytes, cnt.rx_packets, cnt.tx_bytes, cnt.tx_packets, cnt.rx_dropped,
		       cnt.tx_dropped);
		return 0;
	}
	if (argc >= 4 && str_eq(argv[1], "bench"))
		return bench(argv[2], str_eq(argv[3], "1"), argc - 4, argv + 4);
	fprintf(stderr, "usage: see the comment at the top of tests/integration/netdrv.c\n");
	return 2;
}
