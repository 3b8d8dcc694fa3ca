/* SPDX-License-Identifier: MIT */
/* netns/ipam.c and netns/netconf.c: network.json, rates, lease planning and the lease file. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ipam.h"

static net_addr A(const char *s)
{
	net_addr a;
	berr err = {0};

	cr_assert_eq(net_addr_parse(s, false, &a, &err), 0, "%s: %s", s, err.msg);
	return a;
}

static const char *fmt(const net_addr *a)
{
	static char buf[4][64];
	static int k;
	char *b = buf[k++ % 4];

	net_addr_format(a, true, b, 64);
	return b;
}

static net_config config_of(const char *json)
{
	net_config c;
	berr err = {0};

	cr_assert_eq(net_config_parse(json, &c, &err), 0, "%s: %s", json, err.msg);
	return c;
}

static void config_fails(const char *json, const char *needle)
{
	net_config c;
	berr err = {0};

	cr_assert_lt(net_config_parse(json, &c, &err), 0, "%s parsed", json);
	cr_expect(strstr(err.msg, needle), "%s: \"%s\" lacks \"%s\"", json, err.msg, needle);
}

Test(netconf, empty_object_gives_the_defaults)
{
	net_config c = config_of("{}");

	cr_expect_eq(c.mode, NET_ROUTED);
	cr_assert_eq(c.n_pools, 2);
	cr_expect_str_eq(fmt(&c.pools[0]), "10.88.0.0/16");
	cr_expect_str_eq(fmt(&c.pools[1]), "fd88::/64");
	cr_expect_str_eq(c.bridge, "berth0");
	cr_expect_str_eq(fmt(net_config_gateway(&c, AF_INET)), "10.88.0.1/16");
	cr_expect_str_eq(fmt(net_config_gateway(&c, AF_INET6)), "fd88::1/64");
	cr_expect_not(c.dns_set);
	cr_expect_eq(c.rate_in, 0);
}

Test(netconf, full_example)
{
	net_config c =
		config_of("{\"mode\": \"bridge\", \"pools\": [\"192.0.2.0/24\"],"
			  " \"bridge\": {\"name\": \"br-vps\", \"gateways\": [\"192.0.2.254/24\"]},"
			  " \"uplink\": \"eth0\", \"dns\": [\"192.0.2.53\", \"2001:db8::53\"],"
			  " \"rate\": \"1gbit\", \"rate_out\": \"100mbit\"}");

	cr_expect_eq(c.mode, NET_BRIDGE);
	cr_expect_eq(c.n_pools, 1);
	cr_expect_str_eq(c.bridge, "br-vps");
	cr_expect_str_eq(fmt(net_config_gateway(&c, AF_INET)), "192.0.2.254/24");
	cr_expect_null(net_config_gateway(&c, AF_INET6), "no IPv6 pool, no IPv6 gateway");
	cr_expect_str_eq(c.uplink, "eth0");
	cr_expect(c.dns_set);
	cr_assert_eq(c.n_dns, 2);
	cr_expect_str_eq(fmt(&c.dns[1]), "2001:db8::53/128");
	cr_expect_eq(c.rate_in, 1000000000ULL);
	cr_expect_eq(c.rate_out, 100000000ULL);
}

Test(netconf, bad_configs_are_named)
{
	config_fails("[]", "expected a JSON object");
	config_fails("{\"mode\": \"nat\"}", "\"nat\" is not routed, bridge or none");
	config_fails("{\"pools\": \"10.0.0.0/8\"}", "field \"pools\": expected a list");
	config_fails("{\"pools\": []}", "no pool given");
	config_fails("{\"pools\": [\"10.88.0.5/16\"]}", "host bits set (write it as 10.88.0.0/16)");
	config_fails("{\"pools\": [\"10.88.0.0/31\"]}", "prefix length must be");
	config_fails("{\"pools\": [\"10.88.0.0/16\", \"10.88.4.0/24\"]}", "overlaps");
	config_fails("{\"pools\": [\"10.88.0.0/16\", \"10.99.0.0/16\"], \"mode\": \"bridge\"}",
		     "one pool per family");
	config_fails(
		"{\"pools\": [\"10.88.0.0/16\"], \"bridge\": {\"gateways\": [\"10.9.0.1/16\"]}}",
		"not inside a pool");
	config_fails("{\"uplink\": \"a/b\"}", "not an interface name");
	config_fails("{\"uplink\": \"a-very-long-interface\"}", "not an interface name");
	config_fails("{\"dns\": [\"8.8.8.300\"]}", "field \"dns\"");
	config_fails("{\"rate\": \"fast\"}", "field \"rate\": rate \"fast\" is not a rate");
	config_fails("{\"bridge\": 3}", "field \"bridge\"");
	config_fails("{\"mode\": \"routed\",", "malformed JSON");
}

Test(netconf, load_missing_file_is_defaults)
{
	net_config c;
	berr err = {0};

	cr_assert_eq(net_config_load("/nonexistent/berth/network.json", &c, &err), 0, "%s",
		     err.msg);
	cr_expect_eq(c.mode, NET_ROUTED);
	cr_expect_eq(c.n_gateways, 2);
}

Test(rate, parse_and_format)
{
	uint64_t v = 1;
	char buf[32];
	berr err = {0};

	cr_expect_eq(net_rate_parse("100mbit", &v, &err), 0);
	cr_expect_eq(v, 100000000ULL);
	cr_expect_eq(net_rate_parse("1GBit", &v, &err), 0);
	cr_expect_eq(v, 1000000000ULL);
	cr_expect_eq(net_rate_parse("64000", &v, &err), 0);
	cr_expect_eq(v, 64000);
	cr_expect_eq(net_rate_parse("0", &v, &err), 0);
	cr_expect_eq(v, 0);
	v = 7;
	cr_expect_lt(net_rate_parse("1.5gbit", &v, &err), 0);
	cr_expect_lt(net_rate_parse("mbit", &v, &err), 0);
	cr_expect_lt(net_rate_parse("-1mbit", &v, &err), 0);
	cr_expect_lt(net_rate_parse("100mb", &v, &err), 0);
	cr_expect(strstr(err.msg, "100mbit"), "the error shows the form: %s", err.msg);
	cr_expect_eq(net_rate_parse("99999999999999999999tbit", &v, &err), -ERANGE);
	cr_expect_eq(v, 7, "untouched on failure");
	net_rate_format(100000000ULL, buf, sizeof(buf));
	cr_expect_str_eq(buf, "100mbit");
	net_rate_format(1500, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1500bit");
	net_rate_format(0, buf, sizeof(buf));
	cr_expect_str_eq(buf, "unlimited");
}

/* ---- planning on in-memory lease sets ---- */

static net_addr plan_one(const net_config *c, const ipam_leases *l, int family)
{
	ipam_request r = {.is_auto = true, .family = family};
	net_addr out;
	berr err = {0};

	cr_assert_eq(ipam_plan(c, l, &r, 1, &out, &err), 0, "%s", err.msg);
	return out;
}

static const char *plan_str(const net_config *c, const ipam_leases *l, int family)
{
	net_addr a = plan_one(c, l, family);

	return fmt(&a);
}

static void lease(ipam_leases *l, const char *addr, const char *owner)
{
	net_addr a = A(addr);

	cr_assert_eq(ipam_leases_add(l, &a, owner), 0);
}

static void fixed_fails(const net_config *c, const ipam_leases *l, const char *addr,
			const char *needle)
{
	ipam_request r = {.addr = A(addr)};
	net_addr out;
	berr err = {0};

	cr_assert_lt(ipam_plan(c, l, &r, 1, &out, &err), 0, "%s planned", addr);
	cr_expect(strstr(err.msg, needle), "%s: \"%s\" lacks \"%s\"", addr, err.msg, needle);
	cr_expect(strstr(err.msg, addr) || strstr(err.msg, "fd88"), "names the address: %s",
		  err.msg);
}

Test(ipam, auto_takes_the_lowest_free_address)
{
	net_config c = config_of("{}");
	ipam_leases l = {0};

	cr_expect_str_eq(plan_str(&c, &l, AF_INET), "10.88.0.2/16",
			 "skips the network address and the gateway");
	cr_expect_str_eq(plan_str(&c, &l, AF_INET6), "fd88::2/64");
	lease(&l, "10.88.0.2/16", "a");
	lease(&l, "10.88.0.4/16", "c");
	cr_expect_str_eq(plan_str(&c, &l, AF_INET), "10.88.0.3/16", "fills the hole");
	lease(&l, "10.88.0.3/16", "b");
	cr_expect_str_eq(plan_str(&c, &l, AF_INET), "10.88.0.5/16");
	cr_expect_eq(ipam_leases_remove_owner(&l, "b"), 1);
	cr_expect_str_eq(plan_str(&c, &l, AF_INET), "10.88.0.3/16",
			 "a released address is given again");
	ipam_leases_free(&l);
}

Test(ipam, small_pool_skips_broadcast_and_fills_up)
{
	net_config c = config_of("{\"pools\": [\"192.0.2.0/30\"]}");
	ipam_leases l = {0};
	ipam_request r = {.is_auto = true, .family = AF_INET};
	net_addr out;
	berr err = {0};

	/* .0 network, .1 gateway, .3 broadcast: only .2 */
	out = plan_one(&c, &l, AF_INET);
	cr_expect_str_eq(fmt(&out), "192.0.2.2/30");
	ipam_leases_add(&l, &out, "x");
	cr_expect_lt(ipam_plan(&c, &l, &r, 1, &out, &err), 0);
	cr_expect(strstr(err.msg, "IPv4 pool is full"), "%s", err.msg);
	r.family = AF_INET6;
	cr_expect_lt(ipam_plan(&c, &l, &r, 1, &out, &err), 0);
	cr_expect(strstr(err.msg, "no IPv6 pool"), "%s", err.msg);
	ipam_leases_free(&l);
}

Test(ipam, second_pool_when_the_first_is_full)
{
	net_config c = config_of("{\"pools\": [\"192.0.2.0/30\", \"198.51.100.0/24\"]}");
	ipam_leases l = {0};

	lease(&l, "192.0.2.2/30", "x");
	cr_expect_str_eq(plan_str(&c, &l, AF_INET), "198.51.100.1/24",
			 "only the first pool of a family has the gateway");
	ipam_leases_free(&l);
}

Test(ipam, fixed_addresses_are_checked)
{
	net_config c = config_of("{}");
	ipam_leases l = {0};
	ipam_request reqs[2] = {{.addr = A("10.88.7.7/16")}, {.is_auto = true, .family = AF_INET}};
	net_addr out[2];
	berr err = {0};

	lease(&l, "10.88.0.9/16", "web1");
	fixed_fails(&c, &l, "10.88.0.9/16", "taken by instance web1");
	fixed_fails(&c, &l, "10.99.0.9/16", "outside every pool");
	fixed_fails(&c, &l, "10.88.0.1/16", "is the gateway");
	fixed_fails(&c, &l, "10.88.0.0/16", "network or broadcast");
	fixed_fails(&c, &l, "10.88.255.255/16", "network or broadcast");
	fixed_fails(&c, &l, "fd88::/64", "network");
	cr_assert_eq(ipam_plan(&c, &l, reqs, 2, out, &err), 0, "%s", err.msg);
	cr_expect_str_eq(fmt(&out[0]), "10.88.7.7/16");
	cr_expect_str_eq(fmt(&out[1]), "10.88.0.2/16");
	reqs[1] = reqs[0];
	cr_expect_lt(ipam_plan(&c, &l, reqs, 2, out, &err), 0);
	cr_expect(strstr(err.msg, "given twice"), "%s", err.msg);
	ipam_leases_free(&l);
}

Test(ipam, auto_never_takes_a_fixed_address_of_the_same_request)
{
	net_config c = config_of("{}");
	ipam_leases l = {0};
	ipam_request reqs[2] = {{.is_auto = true, .family = AF_INET}, {.addr = A("10.88.0.2/16")}};
	net_addr out[2];
	berr err = {0};

	cr_assert_eq(ipam_plan(&c, &l, reqs, 2, out, &err), 0, "%s", err.msg);
	cr_expect_str_eq(fmt(&out[0]), "10.88.0.3/16");
	cr_expect_str_eq(fmt(&out[1]), "10.88.0.2/16");
}

Test(ipam, requests_from_ip_options)
{
	net_config c = config_of("{}");
	ipam_request r[NET_MAX_ADDRS];
	size_t n = 0;
	berr err = {0};
	const char *none[] = {NULL};
	const char *mixed[] = {"auto", "fd88::5/64"};
	const char *fixed4[] = {"10.88.0.5/16"};
	const char *bad[] = {"10.88.0.5"};

	cr_assert_eq(ipam_requests_build(&c, none, 0, r, &n, &err), 0);
	cr_assert_eq(n, 2, "default: one auto address per pool family");
	cr_expect(r[0].is_auto && r[0].family == AF_INET);
	cr_expect(r[1].is_auto && r[1].family == AF_INET6);
	cr_assert_eq(ipam_requests_build(&c, mixed, 2, r, &n, &err), 0);
	cr_assert_eq(n, 2);
	cr_expect(!r[0].is_auto && r[0].addr.family == AF_INET6);
	cr_expect(r[1].is_auto && r[1].family == AF_INET, "auto fills the family not given");
	cr_assert_eq(ipam_requests_build(&c, fixed4, 1, r, &n, &err), 0);
	cr_expect_eq(n, 1, "fixed only: no auto address");
	cr_expect_lt(ipam_requests_build(&c, bad, 1, r, &n, &err), 0);
	cr_expect(strstr(err.msg, "--ip") && strstr(err.msg, "no prefix length"), "%s", err.msg);
}

Test(ipam, leases_json_round_trip)
{
	ipam_leases l = {0}, back = {0};
	char *json = NULL;
	size_t len;
	berr err = {0};

	lease(&l, "10.88.0.2/16", "web1");
	lease(&l, "fd88::2/64", "web1");
	cr_assert_eq(ipam_leases_to_json(&l, &json, &len), 0);
	cr_assert_eq(ipam_leases_parse(json, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.n, 2);
	cr_expect_str_eq(fmt(&back.v[1].addr), "fd88::2/64");
	cr_expect_str_eq(back.v[0].owner, "web1");
	cr_expect_lt(ipam_leases_parse("{\"leases\": [{\"address\": \"x\"}]}", &back, &err), 0);
	free(json);
	ipam_leases_free(&l);
	ipam_leases_free(&back);
}

/* ---- the lease file, with processes racing for it ---- */

static char *tmpdir(void)
{
	char *d = strdup("/tmp/berth-ipam-XXXXXX");

	cr_assert(d && mkdtemp(d));
	return d;
}

Test(ipam_file, concurrent_allocations_are_distinct)
{
	char *dir = tmpdir();
	net_config c = config_of("{\"pools\": [\"10.88.0.0/24\"]}");
	ipam_leases l = {0};
	berr err = {0};
	enum { N = 40 };

	for (int i = 0; i < N; i++) {
		pid_t pid = fork();

		cr_assert_geq(pid, 0);
		if (pid == 0) {
			ipam_request r = {.is_auto = true, .family = AF_INET};
			net_addr out;
			char owner[16];

			snprintf(owner, sizeof(owner), "i%d", i);
			_exit(ipam_allocate(dir, &c, owner, &r, 1, &out, &err) < 0);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;

		wait(&st);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	cr_assert_eq(ipam_leases_load(dir, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, N, "every allocation was recorded");
	for (size_t i = 0; i < l.n; i++)
		for (size_t j = 0; j < i; j++)
			cr_expect_not(net_addr_equal(&l.v[i].addr, &l.v[j].addr), "%s twice",
				      fmt(&l.v[i].addr));
	ipam_leases_free(&l);
	cr_assert_eq(ipam_release(dir, "i7", &err), 0);
	cr_assert_eq(ipam_leases_load(dir, &l, &err), 0);
	cr_expect_eq(l.n, N - 1);
	ipam_leases_free(&l);
	{
		ipam_request r = {.is_auto = true, .family = AF_INET};
		net_addr out;

		cr_expect_lt(ipam_allocate(dir, &c, "i8", &r, 1, &out, &err), 0,
			     "an owner holding leases is refused");
		cr_expect(strstr(err.msg, "already holds"), "%s", err.msg);
	}
	rm_rf_at(AT_FDCWD, dir);
	free(dir);
}
