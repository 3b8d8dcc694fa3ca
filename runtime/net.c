/* SPDX-License-Identifier: MIT */
/*
 * An instance's network: what config.json keeps of it, the leases taken at
 * create and given back at delete, the plan each boot hands to netns_setup(),
 * its resolv.conf, and live rate changes. The host's choices (pools, bridge,
 * uplink, DNS, default rates) come from <etc>/network.json.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime-internal.h"

char *net_config_path(const berth_paths *p) { return str_printf("%s/network.json", p->etc); }
/* The same directory as instance_paths.netdir. */
char *net_leases_dir(const berth_paths *p) { return str_printf("%s/network", p->lib); }

static int config_load(const berth_paths *p, net_config *ret, berr *err)
{
	_cleanup_free_ char *path = net_config_path(p);

	if (!path)
		return berr_set(err, ENOMEM, "network config");
	return net_config_load(path, ret, err);
}

void instance_net_addrs_json(json_gen *g, const instance_net *n)
{
	json_gen_key(g, "addresses");
	json_gen_array_open(g);
	for (size_t i = 0; i < n->n_addrs; i++) {
		char text[64];

		if (net_addr_format(&n->addrs[i], true, text, sizeof(text)) >= 0)
			json_gen_string(g, text);
	}
	json_gen_array_close(g);
}

void instance_net_to_json(json_gen *g, const instance_net *n)
{
	json_gen_key(g, "network");
	json_gen_map_open(g);
	json_gen_key_string(g, "mode", net_mode_name(n->mode));
	instance_net_addrs_json(g, n);
	json_gen_key_u64(g, "rate_in", n->rate_in); /* bits/s, 0: unlimited */
	json_gen_key_u64(g, "rate_out", n->rate_out);
	json_gen_key_bool(g, "antispoof", n->antispoof);
	json_gen_map_close(g);
}

static int net_field_error(const char *field, const char *what, berr *err)
{
	return berr_setx(err, EINVAL, "field \"network.%s\": expected %s", field, what);
}

int instance_net_from_json(const json_tree *t, instance_net *ret, berr *err)
{
	instance_net n = {.mode = NET_NONE, .antispoof = true};
	const json_tree *obj = NULL, *arr = NULL;
	const char *mode;
	int r = json_get_object(t, "network", &obj);

	if (r == -ENOENT) { /* a config from before networking: loopback only */
		*ret = n;
		return 0;
	}
	if (r < 0)
		return net_field_error("", "an object", err);
	if (json_get_string(obj, "mode", &mode) < 0 || net_mode_parse(mode, &n.mode) < 0)
		return net_field_error("mode", "\"routed\", \"bridge\" or \"none\"", err);
	r = json_get_array(obj, "addresses", &arr);
	if (r == -EINVAL || (r == 0 && json_array_len(arr) > NET_MAX_ADDRS))
		return net_field_error("addresses", "a list of at most 8 addresses", err);
	for (size_t i = 0; r == 0 && i < json_array_len(arr); i++) {
		const char *s = json_string_of(json_array_at(arr, i));

		if (!s)
			return net_field_error("addresses", "a list of strings", err);
		if (net_addr_parse(s, false, &n.addrs[i], err) < 0) {
			berr_prefix(err, "field \"network.addresses\"");
			return -EINVAL;
		}
		n.n_addrs++;
	}
	if (((r = json_get_u64(obj, "rate_in", &n.rate_in)) < 0 && r != -ENOENT) ||
	    ((r = json_get_u64(obj, "rate_out", &n.rate_out)) < 0 && r != -ENOENT))
		return net_field_error("rate_in/rate_out", "bits per second (0: unlimited)", err);
	if ((r = json_get_bool(obj, "antispoof", &n.antispoof)) < 0 && r != -ENOENT)
		return net_field_error("antispoof", "true or false", err);
	*ret = n;
	return 0;
}

/* Bridge mode: every address must be on the bridge's subnet, or nothing would route it. */
static int check_bridge_subnet(const net_config *cfg, const instance_net *n, berr *err)
{
	for (size_t i = 0; i < n->n_addrs; i++) {
		const net_addr *gw = net_config_gateway(cfg, n->addrs[i].family);
		char text[64], gtext[64];

		if (gw && net_addr_in(gw, &n->addrs[i]))
			continue;
		net_addr_format(&n->addrs[i], true, text, sizeof(text));
		if (gw)
			net_addr_format(gw, true, gtext, sizeof(gtext));
		return berr_setx(err, EINVAL,
				 "address %s is not on bridge %s's subnet%s%s (use an address of "
				 "that subnet, or routed mode)",
				 text, cfg->bridge, gw ? " " : "", gw ? gtext : "");
	}
	return 0;
}

/*
 * Leases of name with no instance and no live create behind them: a create
 * killed after leasing. A create in progress has its ".NAME.tmp-PID" dir
 * (instance.c) from before it leases until it renames it into place.
 */
static bool leases_orphaned(const berth_paths *p, const char *name)
{
	_cleanup_free_ char *dir = str_printf("%s/instances", p->lib);
	_cleanup_free_ char *inst = str_printf("%s/instances/%s", p->lib, name);
	_cleanup_free_ char *prefix = str_printf(".%s.tmp-", name);
	bool orphaned = true;
	struct dirent *e;
	DIR *d;

	if (!dir || !inst || !prefix || access(inst, F_OK) == 0)
		return false;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT;
	while (orphaned && (e = readdir(d))) {
		int pid;

		if (!str_startswith(e->d_name, prefix))
			continue;
		pid = atoi(e->d_name + strlen(prefix));
		if (pid > 0 && pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM))
			orphaned = false;
	}
	closedir(d);
	return orphaned;
}

static int allocate(const berth_paths *p, const net_config *cfg, const char *name,
		    const ipam_request *reqs, size_t n, instance_net *net, berr *err)
{
	_cleanup_free_ char *dir = net_leases_dir(p);
	int r;

	if (!dir)
		return berr_set(err, ENOMEM, "leases");
	if (leases_orphaned(p, name) && ipam_release(dir, name, err) < 0)
		return -err->code;
	r = ipam_allocate(dir, cfg, name, reqs, n, net->addrs, err);
	if (r < 0)
		return r;
	net->n_addrs = n;
	r = net->mode == NET_BRIDGE ? check_bridge_subnet(cfg, net, err) : 0;
	if (r < 0) {
		berr ignore = {0};

		ipam_release(dir, name, &ignore);
	}
	return r;
}

static int rate_opt(const char *opt, const char *value, uint64_t *ret, berr *err)
{
	int r;

	if (!value)
		return 0;
	r = net_rate_parse(value, ret, err);
	if (r < 0)
		berr_prefix(err, "%s", opt);
	return r;
}

int instance_net_create(const berth_paths *p, const char *name, const create_opts *o,
			instance_net *ret, berr *err)
{
	ipam_request reqs[NET_MAX_ADDRS];
	instance_net n = {.mode = NET_NONE, .antispoof = !o->no_antispoof};
	net_config cfg;
	size_t nreq = 0;
	int r = config_load(p, &cfg, err);

	if (r < 0)
		return r;
	n.mode = cfg.mode;
	if (o->net_mode && net_mode_parse(o->net_mode, &n.mode) < 0)
		return berr_setx(err, EINVAL, "--net \"%s\": use routed, bridge or none",
				 o->net_mode);
	if (n.mode == NET_NONE) {
		if (o->n_ips || o->net_rate_in || o->net_rate_out)
			return berr_setx(err, EINVAL,
					 "--ip and --net-rate need a network (--net routed or "
					 "--net bridge)");
		*ret = n;
		return 0;
	}
	n.rate_in = cfg.rate_in;
	n.rate_out = cfg.rate_out;
	if ((r = rate_opt("--net-rate-in", o->net_rate_in, &n.rate_in, err)) < 0 ||
	    (r = rate_opt("--net-rate-out", o->net_rate_out, &n.rate_out, err)) < 0 ||
	    (r = ipam_requests_build(&cfg, o->ips, o->n_ips, reqs, &nreq, err)) < 0)
		return r;
	if (nreq == 0)
		return berr_setx(err, EINVAL,
				 "no address to give: the network config has no pool (add one, "
				 "or use --ip ADDR/PREFIX or --net none)");
	r = allocate(p, &cfg, name, reqs, nreq, &n, err);
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

int net_leases_release(const berth_paths *p, const char *name, berr *err)
{
	_cleanup_free_ char *dir = net_leases_dir(p);

	if (!dir)
		return berr_set(err, ENOMEM, "leases");
	return ipam_release(dir, name, err);
}

int net_leases_clone(const berth_paths *p, const instance_net *src, const char *new_name,
		     instance_net *ret, berr *err)
{
	ipam_request reqs[2];
	instance_net n = *src;
	bool have[2] = {false, false};
	size_t k = 0;
	net_config cfg;
	int r;

	n.n_addrs = 0;
	if (src->mode == NET_NONE) {
		*ret = n;
		return 0;
	}
	r = config_load(p, &cfg, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < src->n_addrs; i++)
		have[src->addrs[i].family == AF_INET6] = true;
	if (have[0])
		reqs[k++] = (ipam_request){.is_auto = true, .family = AF_INET};
	if (have[1])
		reqs[k++] = (ipam_request){.is_auto = true, .family = AF_INET6};
	r = allocate(p, &cfg, new_name, reqs, k, &n, err);
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}

/* The routed mode's gateways: link-local, the same on every host side. */
#define ROUTED_GW4 "169.254.0.1/32"
#define ROUTED_GW6 "fe80::1/64"

int instance_net_plan(const berth_paths *p, const instance_config *c, net_plan *ret, berr *err)
{
	net_plan pl = {.mode = c->net.mode};
	bool has[2] = {false, false};
	net_config cfg;
	int r;

	if (c->net.mode == NET_NONE) {
		*ret = pl;
		return 0;
	}
	r = config_load(p, &cfg, err);
	if (r < 0)
		return r;
	net_host_ifname(c->name, pl.host_ifname);
	net_instance_mac(c->name, pl.mac);
	memcpy(pl.addrs, c->net.addrs, sizeof(pl.addrs));
	pl.n_addrs = c->net.n_addrs;
	for (size_t i = 0; i < pl.n_addrs; i++)
		has[pl.addrs[i].family == AF_INET6] = true;
	pl.antispoof = c->net.antispoof;
	pl.rate_in = c->net.rate_in;
	pl.rate_out = c->net.rate_out;
	if (c->net.mode == NET_ROUTED) {
		if (has[0])
			net_addr_parse(ROUTED_GW4, false, &pl.gw4, err);
		if (has[1])
			net_addr_parse(ROUTED_GW6, false, &pl.gw6, err);
		snprintf(pl.uplink, sizeof(pl.uplink), "%s", cfg.uplink);
	} else {
		const net_addr *g4 = net_config_gateway(&cfg, AF_INET);
		const net_addr *g6 = net_config_gateway(&cfg, AF_INET6);

		r = check_bridge_subnet(&cfg, &c->net, err);
		if (r < 0)
			return r;
		snprintf(pl.bridge, sizeof(pl.bridge), "%s", cfg.bridge);
		if (g4 && has[0])
			pl.gw4 = *g4;
		if (g6 && has[1])
			pl.gw6 = *g6;
		for (size_t i = 0; i < cfg.n_gateways && i < ARRAY_SIZE(pl.bridge_addrs); i++)
			pl.bridge_addrs[pl.n_bridge_addrs++] = cfg.gateways[i];
	}
	*ret = pl;
	return 0;
}

/* A loopback nameserver of the host is nothing the instance could reach. */
static bool loopback_text(const char *s) { return str_startswith(s, "127.") || str_eq(s, "::1"); }

int net_resolv_render(const net_config *c, const char *host_resolv, char **ret)
{
	_cleanup_free_ char *out = strdup("# written by berth at boot (see docs/NETWORK.md)\n");
	size_t servers = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; c->dns_set && i < c->n_dns; i++) {
		char text[64], *more;

		net_addr_format(&c->dns[i], false, text, sizeof(text));
		more = str_printf("%snameserver %s\n", out, text);
		if (!more)
			return -ENOMEM;
		free(out);
		out = more;
		servers++;
	}
	for (const char *l = c->dns_set ? NULL : host_resolv; l && *l;) {
		size_t len = strcspn(l, "\n");
		char line[256], word[16], value[200];

		snprintf(line, sizeof(line), "%.*s", (int)(len < 255 ? len : 255), l);
		l += len + (l[len] == '\n');
		if (sscanf(line, "%15s %199s", word, value) != 2 ||
		    (!str_eq(word, "nameserver") && !str_eq(word, "search")))
			continue;
		if (str_eq(word, "nameserver") && loopback_text(value))
			continue;
		char *more = str_printf("%s%s\n", out, line);
		if (!more)
			return -ENOMEM;
		free(out);
		out = more;
		servers += str_eq(word, "nameserver");
	}
	*ret = servers ? TAKE_PTR(out) : NULL;
	return 0;
}

int instance_net_resolv(const berth_paths *p, const instance_config *c, const instance_paths *ip,
			char **ret_path, berr *err)
{
	_cleanup_free_ char *host = NULL, *text = NULL, *path = NULL;
	net_config cfg;
	int r;

	*ret_path = NULL;
	if (c->net.mode == NET_NONE)
		return 0;
	r = config_load(p, &cfg, err);
	if (r < 0)
		return r;
	if (!cfg.dns_set)
		read_file_at(AT_FDCWD, "/etc/resolv.conf", &host, NULL);
	if (net_resolv_render(&cfg, host, &text) < 0)
		return berr_set(err, ENOMEM, "resolv.conf");
	if (!text)
		return 0;
	path = str_printf("%s/resolv.conf", ip->rundir);
	if (!path)
		return berr_set(err, ENOMEM, "resolv.conf");
	r = write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		return berr_set(err, -r, "write %s", path);
	*ret_path = TAKE_PTR(path);
	return 0;
}

typedef struct rate_change {
	bool set_in, set_out;
	uint64_t in, out;
} rate_change;

static int op_set_rate(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	const rate_change *ch = arg;
	instance_config next = *c; /* shares c's strings: only saved, never freed */
	char ifname[NET_IFNAMSIZ];
	int running, r;

	if (c->net.mode == NET_NONE)
		return berr_setx(err, EINVAL,
				 "%s has no network (it was created with --net none): no rate to "
				 "set",
				 c->name);
	if (ch->set_in)
		next.net.rate_in = ch->in;
	if (ch->set_out)
		next.net.rate_out = ch->out;
	running = instance_running(ip, err);
	if (running < 0)
		return running;
	net_host_ifname(c->name, ifname);
	if (running) {
		r = netns_set_rate(ifname, next.net.rate_in, next.net.rate_out, err);
		if (r < 0) {
			berr_prefix(err, "%s: set the rate on %s", c->name, ifname);
			return r;
		}
	}
	r = instance_config_save(ip->config, &next, err);
	if (r < 0 && running) {
		berr ignore = {0};

		netns_set_rate(ifname, c->net.rate_in, c->net.rate_out, &ignore);
	}
	return r < 0 ? r : running;
}

int instance_set_rate(const berth_paths *p, const char *name, bool set_in, uint64_t rate_in,
		      bool set_out, uint64_t rate_out, berr *err)
{
	rate_change ch = {.set_in = set_in, .set_out = set_out, .in = rate_in, .out = rate_out};

	if (!set_in && !set_out)
		return berr_setx(err, EINVAL, "no rate given (see berth set --help)");
	return with_instance(p, name, err, op_set_rate, &ch);
}
