/* SPDX-License-Identifier: MIT */
/*
 * runtime/net.c: an instance's network in config.json, the plan a boot hands
 * to netns_setup, resolv.conf, and leases taken at create (in a temp root).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "runtime-internal.h"

static const char base_config[] =
	"{\"name\": \"web1\", \"uuid\": \"01234567-89ab-cdef-0123-456789abcdef\","
	" \"template\": \"default\"%s}";

static int from_json_with(const char *network, instance_config *c, berr *err)
{
	char json[1024];

	snprintf(json, sizeof(json), base_config, network);
	return instance_config_from_json(json, c, err);
}

static net_addr A(const char *s)
{
	net_addr a;
	berr err = {0};

	cr_assert_eq(net_addr_parse(s, false, &a, &err), 0, "%s", err.msg);
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

Test(net_config_json, old_configs_have_no_network)
{
	instance_config c;
	berr err = {0};

	cr_assert_eq(from_json_with("", &c, &err), 0, "%s", err.msg);
	cr_expect_eq(c.net.mode, NET_NONE);
	cr_expect_eq(c.net.n_addrs, 0);
	instance_config_free(&c);
}

Test(net_config_json, round_trip)
{
	instance_config c, back;
	char *json = NULL;
	size_t len;
	berr err = {0};

	cr_assert_eq(from_json_with("", &c, &err), 0, "%s", err.msg);
	c.net.mode = NET_BRIDGE;
	c.net.addrs[0] = A("10.88.0.2/16");
	c.net.addrs[1] = A("fd88::2/64");
	c.net.n_addrs = 2;
	c.net.rate_in = 100000000;
	c.net.rate_out = 5000;
	c.net.antispoof = false;
	cr_assert_eq(instance_config_to_json(&c, &json, &len), 0);
	cr_assert_eq(instance_config_from_json(json, &back, &err), 0, "%s\n%s", err.msg, json);
	cr_expect_eq(back.net.mode, NET_BRIDGE);
	cr_assert_eq(back.net.n_addrs, 2);
	cr_expect_str_eq(fmt(&back.net.addrs[0]), "10.88.0.2/16");
	cr_expect_str_eq(fmt(&back.net.addrs[1]), "fd88::2/64");
	cr_expect_eq(back.net.rate_in, 100000000);
	cr_expect_eq(back.net.rate_out, 5000);
	cr_expect_not(back.net.antispoof);
	free(json);
	instance_config_free(&c);
	instance_config_free(&back);
}

Test(net_config_json, bad_network_fields_are_named)
{
	static const struct {
		const char *network, *needle;
	} bad[] = {
		{", \"network\": 3", "field \"network.\""},
		{", \"network\": {\"mode\": \"nat\"}", "network.mode"},
		{", \"network\": {\"mode\": \"routed\", \"addresses\": \"x\"}",
		 "network.addresses"},
		{", \"network\": {\"mode\": \"routed\", \"addresses\": [\"10.1.1.1\"]}",
		 "no prefix length"},
		{", \"network\": {\"mode\": \"routed\", \"rate_in\": -1}", "rate_in"},
		{", \"network\": {\"mode\": \"routed\", \"antispoof\": 1}", "antispoof"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		instance_config c;
		berr err = {0};

		cr_expect_lt(from_json_with(bad[i].network, &c, &err), 0, "%s", bad[i].network);
		cr_expect(strstr(err.msg, bad[i].needle), "%s: \"%s\" lacks \"%s\"", bad[i].network,
			  err.msg, bad[i].needle);
	}
}

Test(resolv, dns_from_the_config_or_the_host)
{
	net_config c;
	char *text = NULL;
	berr err = {0};

	net_config_defaults(&c);
	cr_assert_eq(net_resolv_render(&c,
				       "# comment\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n"
				       "search example.com\nnameserver ::1\noptions edns0\n",
				       &text),
		     0);
	cr_assert_not_null(text);
	cr_expect(strstr(text, "nameserver 192.0.2.53\n"), "%s", text);
	cr_expect(strstr(text, "search example.com\n"), "%s", text);
	cr_expect_null(strstr(text, "127.0.0.53"), "a host loopback resolver is unreachable");
	cr_expect_null(strstr(text, "::1"), "%s", text);
	free(text);
	cr_assert_eq(net_resolv_render(&c, "nameserver 127.0.0.53\n", &text), 0);
	cr_expect_null(text, "nothing usable: leave the instance's own file");
	cr_assert_eq(net_config_parse("{\"dns\": [\"198.51.100.1\", \"2001:db8::1\"]}", &c, &err),
		     0);
	cr_assert_eq(net_resolv_render(&c, "nameserver 192.0.2.53\n", &text), 0);
	cr_assert_not_null(text);
	cr_expect(strstr(text, "nameserver 198.51.100.1\nnameserver 2001:db8::1\n"), "%s", text);
	cr_expect_null(strstr(text, "192.0.2.53"), "the config's list replaces the host's");
	free(text);
	cr_assert_eq(net_config_parse("{\"dns\": []}", &c, &err), 0);
	cr_assert_eq(net_resolv_render(&c, "nameserver 192.0.2.53\n", &text), 0);
	cr_expect_null(text, "an empty list: berth leaves resolv.conf alone");
}

/* ---- with files: a temp --root ---- */

static berth_paths root_with(const char *network_json)
{
	char tmpl[] = "/tmp/berth-net-XXXXXX";
	berth_paths p;

	cr_assert(mkdtemp(tmpl));
	cr_assert_eq(berth_paths_init(&p, tmpl), 0);
	cr_assert_eq(mkdir_p(p.etc, 0755), 0);
	if (network_json) {
		_cleanup_free_ char *path = net_config_path(&p);

		cr_assert_eq(write_file_atomic(path, network_json, strlen(network_json), 0644), 0);
	}
	return p;
}

static void root_free(berth_paths *p)
{
	_cleanup_free_ char *root = strdup(p->etc);

	*strrchr(root, '/') = '\0';
	rm_rf_at(AT_FDCWD, root);
	berth_paths_free(p);
}

static instance_config config_named(const char *name)
{
	instance_config c;

	instance_config_init(&c);
	c.name = strdup(name);
	return c;
}

Test(net_create, defaults_lease_one_address_per_family)
{
	berth_paths p = root_with(NULL);
	create_opts o = {.userns = true};
	instance_net a, b;
	ipam_leases l = {0};
	_cleanup_free_ char *dir = net_leases_dir(&p);
	berr err = {0};

	cr_assert_eq(instance_net_create(&p, "a", &o, &a, &err), 0, "%s", err.msg);
	cr_expect_eq(a.mode, NET_ROUTED);
	cr_assert_eq(a.n_addrs, 2);
	cr_expect_str_eq(fmt(&a.addrs[0]), "10.88.0.2/16");
	cr_expect_str_eq(fmt(&a.addrs[1]), "fd88::2/64");
	cr_expect(a.antispoof);
	cr_assert_eq(instance_net_create(&p, "b", &o, &b, &err), 0, "%s", err.msg);
	cr_expect_str_eq(fmt(&b.addrs[0]), "10.88.0.3/16");
	cr_assert_eq(ipam_leases_load(dir, &l, &err), 0);
	cr_expect_eq(l.n, 4, "both instances' leases are in the file");
	ipam_leases_free(&l);
	cr_assert_eq(net_leases_release(&p, "a", &err), 0);
	cr_assert_eq(instance_net_create(&p, "c", &o, &a, &err), 0, "%s", err.msg);
	cr_expect_str_eq(fmt(&a.addrs[0]), "10.88.0.2/16", "a's freed address is given again");
	root_free(&p);
}

Test(net_create, options_and_their_errors)
{
	berth_paths p = root_with("{\"mode\": \"bridge\", \"pools\": [\"192.0.2.0/24\"],"
				  " \"rate\": \"1gbit\"}");
	create_opts o = {.userns = true,
			 .ips = {"192.0.2.77/24"},
			 .n_ips = 1,
			 .net_rate_in = "100mbit",
			 .no_antispoof = true};
	create_opts none = {.userns = true, .net_mode = "none", .ips = {"auto"}, .n_ips = 1};
	create_opts taken = {.userns = true, .ips = {"192.0.2.77/24"}, .n_ips = 1};
	create_opts bad_rate = {.userns = true, .net_rate_out = "fast"};
	instance_net n;
	berr err = {0};

	cr_assert_eq(instance_net_create(&p, "a", &o, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n.mode, NET_BRIDGE);
	cr_assert_eq(n.n_addrs, 1);
	cr_expect_str_eq(fmt(&n.addrs[0]), "192.0.2.77/24");
	cr_expect_eq(n.rate_in, 100000000);
	cr_expect_eq(n.rate_out, 1000000000, "the config's default rate");
	cr_expect_not(n.antispoof);
	cr_expect_lt(instance_net_create(&p, "b", &none, &n, &err), 0);
	cr_expect(strstr(err.msg, "need a network"), "%s", err.msg);
	cr_expect_lt(instance_net_create(&p, "b", &taken, &n, &err), 0);
	cr_expect(strstr(err.msg, "192.0.2.77/24 is taken by instance a"), "%s", err.msg);
	cr_expect_lt(instance_net_create(&p, "b", &bad_rate, &n, &err), 0);
	cr_expect(strstr(err.msg, "--net-rate-out") && strstr(err.msg, "\"fast\""), "%s", err.msg);
	root_free(&p);
}

Test(net_create, a_broken_network_config_is_named)
{
	berth_paths p = root_with("{\"mode\": \"bridged\"}");
	create_opts o = {.userns = true};
	instance_net n;
	berr err = {0};

	cr_expect_lt(instance_net_create(&p, "a", &o, &n, &err), 0);
	cr_expect(strstr(err.msg, "network.json") && strstr(err.msg, "\"bridged\""), "%s", err.msg);
	root_free(&p);
}

Test(net_plan, routed_and_bridge)
{
	berth_paths p = root_with("{\"pools\": [\"10.88.0.0/16\", \"fd88::/64\"],"
				  " \"uplink\": \"eth0\", \"bridge\": {\"name\": \"br9\"}}");
	instance_config c = config_named("web1");
	net_plan pl;
	berr err = {0};

	c.net.mode = NET_ROUTED;
	c.net.addrs[0] = A("10.88.0.2/16");
	c.net.n_addrs = 1;
	c.net.rate_in = 1000;
	cr_assert_eq(instance_net_plan(&p, &c, &pl, &err), 0, "%s", err.msg);
	cr_expect_eq(pl.mode, NET_ROUTED);
	cr_expect_str_eq(pl.host_ifname, "bt-web1");
	cr_expect_str_eq(fmt(&pl.gw4), "169.254.0.1/32");
	cr_expect_eq(pl.gw6.family, 0, "no IPv6 address, no IPv6 route");
	cr_expect_str_eq(pl.uplink, "eth0");
	cr_expect(pl.antispoof);
	cr_expect_eq(pl.rate_in, 1000);
	cr_expect_eq(pl.mac[0] & 3, 2);
	c.net.mode = NET_BRIDGE;
	cr_assert_eq(instance_net_plan(&p, &c, &pl, &err), 0, "%s", err.msg);
	cr_expect_str_eq(pl.bridge, "br9");
	cr_expect_str_eq(fmt(&pl.gw4), "10.88.0.1/16");
	cr_expect_eq(pl.n_bridge_addrs, 2);
	cr_expect_str_eq(pl.uplink, "", "proxy entries are routed mode's");
	c.net.addrs[0] = A("10.99.0.2/16");
	cr_expect_lt(instance_net_plan(&p, &c, &pl, &err), 0);
	cr_expect(strstr(err.msg, "not on bridge br9's subnet"), "%s", err.msg);
	c.net.mode = NET_NONE;
	cr_assert_eq(instance_net_plan(&p, &c, &pl, &err), 0);
	cr_expect_eq(pl.mode, NET_NONE);
	instance_config_free(&c);
	root_free(&p);
}

Test(net_create, clone_gets_fresh_addresses_of_the_same_families)
{
	berth_paths p = root_with(NULL);
	create_opts o = {.userns = true,
			 .ips = {"10.88.0.9/16"},
			 .n_ips = 1,
			 .net_rate_out = "5mbit"};
	instance_net src, copy, none = {.mode = NET_NONE}, none_copy;
	berr err = {0};

	cr_assert_eq(instance_net_create(&p, "src", &o, &src, &err), 0, "%s", err.msg);
	cr_assert_eq(net_leases_clone(&p, &src, "copy", &copy, &err), 0, "%s", err.msg);
	cr_expect_eq(copy.mode, NET_ROUTED);
	cr_assert_eq(copy.n_addrs, 1, "IPv4 only, like the source");
	cr_expect_str_eq(fmt(&copy.addrs[0]), "10.88.0.2/16", "a fresh address, not the source's");
	cr_expect_eq(copy.rate_out, 5000000, "the rates come along");
	cr_assert_eq(net_leases_clone(&p, &none, "copy2", &none_copy, &err), 0);
	cr_expect_eq(none_copy.mode, NET_NONE);
	cr_expect_eq(none_copy.n_addrs, 0);
	root_free(&p);
}

Test(net_create, leases_of_a_killed_create_are_taken_over)
{
	berth_paths p = root_with(NULL);
	create_opts o = {.userns = true};
	instance_net n;
	_cleanup_free_ char *live = NULL;
	berr err = {0};

	/* Leases with no instance and no create in progress: a create killed after leasing. */
	cr_assert_eq(instance_net_create(&p, "ghost", &o, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(instance_net_create(&p, "ghost", &o, &n, &err), 0, "%s", err.msg);
	cr_expect_str_eq(fmt(&n.addrs[0]), "10.88.0.2/16",
			 "the orphaned lease was given back first");
	/* A create of that name in progress (pid 1 lives): its leases stay its own. */
	live = str_printf("%s/instances/.ghost.tmp-1", p.lib);
	cr_assert_eq(mkdir_p(live, 0700), 0);
	cr_expect_lt(instance_net_create(&p, "ghost", &o, &n, &err), 0);
	cr_expect(strstr(err.msg, "already holds addresses"), "%s", err.msg);
	root_free(&p);
}
