/* SPDX-License-Identifier: MIT */
/*
 * Address management: which instance holds which address. The lease file is
 * the one source of truth; every change is read-modify-write under an
 * exclusive flock, written atomically (rename), so that a crash leaves the
 * old or the new file and concurrent creates never share an address.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>

#include "ipam.h"

#define LEASES_FILE "leases.json"
#define LEASES_LOCK "leases.lock"

static size_t addr_len(int family) { return family == AF_INET ? 4 : 16; }

void ipam_leases_free(ipam_leases *l)
{
	free(l->v);
	*l = (ipam_leases){0};
}

int ipam_leases_add(ipam_leases *l, const net_addr *a, const char *owner)
{
	ipam_lease *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n] = (ipam_lease){.addr = *a};
	snprintf(v[l->n].owner, sizeof(v[l->n].owner), "%s", owner);
	l->n++;
	return 0;
}

size_t ipam_leases_remove_owner(ipam_leases *l, const char *owner)
{
	size_t kept = 0, removed;

	for (size_t i = 0; i < l->n; i++)
		if (!str_eq(l->v[i].owner, owner))
			l->v[kept++] = l->v[i];
	removed = l->n - kept;
	l->n = kept;
	return removed;
}

const ipam_lease *ipam_leases_find(const ipam_leases *l, const net_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (net_addr_equal(&l->v[i].addr, a))
			return &l->v[i];
	return NULL;
}

int ipam_leases_parse(const char *json, ipam_leases *ret, berr *err)
{
	json_tree *t = NULL;
	const json_tree *arr = NULL;
	ipam_leases l = {0};
	int r = json_parse(json, &t, err);

	if (r < 0)
		return r;
	r = json_get_array(t, "leases", &arr);
	if (r == -ENOENT)
		r = 0, arr = NULL;
	else if (r < 0)
		r = berr_setx(err, EINVAL, "field \"leases\": expected a list");
	for (size_t i = 0; r >= 0 && arr && i < json_array_len(arr); i++) {
		const json_tree *e = json_array_at(arr, i);
		const char *addr = NULL, *owner = NULL;
		net_addr a;

		if (json_get_string(e, "address", &addr) < 0 ||
		    json_get_string(e, "instance", &owner) < 0 || strlen(owner) >= IPAM_OWNER_MAX) {
			r = berr_setx(err, EINVAL,
				      "lease %zu: expected {\"address\": ..., \"instance\": ...}",
				      i);
			break;
		}
		r = net_addr_parse(addr, false, &a, err);
		if (r >= 0)
			r = ipam_leases_add(&l, &a, owner);
		if (r == -ENOMEM)
			berr_set(err, ENOMEM, "leases");
	}
	json_tree_free(t);
	if (r < 0) {
		ipam_leases_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

int ipam_leases_to_json(const ipam_leases *l, char **ret, size_t *ret_len)
{
	json_gen *g = json_gen_new();

	if (!g)
		return -ENOMEM;
	json_gen_map_open(g);
	json_gen_key(g, "leases");
	json_gen_array_open(g);
	for (size_t i = 0; i < l->n; i++) {
		char text[64];

		if (net_addr_format(&l->v[i].addr, true, text, sizeof(text)) < 0)
			continue;
		json_gen_map_open(g);
		json_gen_key_string(g, "address", text);
		json_gen_key_string(g, "instance", l->v[i].owner);
		json_gen_map_close(g);
	}
	json_gen_array_close(g);
	json_gen_map_close(g);
	return json_gen_finish(g, ret, ret_len);
}

/* ---- planning ---- */

/* a += 1 over the whole address (big endian); false when it wrapped. */
static bool addr_next(net_addr *a)
{
	for (size_t i = addr_len(a->family); i-- > 0;)
		if (++a->bytes[i] != 0)
			return true;
	return false;
}

/* Is a the network address of pool, or (IPv4) its broadcast address? */
static bool addr_reserved_in_pool(const net_addr *pool, const net_addr *a)
{
	size_t len = addr_len(a->family);
	unsigned int bits = pool->prefix;
	bool all_zero = true, all_one = true;

	for (size_t i = 0; i < len; i++) {
		unsigned int keep = bits >= 8 ? 8 : bits;
		uint8_t host = (uint8_t)(a->bytes[i] & ~(0xff00 >> keep));
		uint8_t hmask = (uint8_t) ~(0xff00 >> keep);

		bits -= keep;
		all_zero = all_zero && host == 0;
		all_one = all_one && host == hmask;
	}
	return all_zero || (a->family == AF_INET && all_one);
}

static bool addr_taken(const net_config *c, const ipam_leases *l, const net_addr *planned,
		       size_t n_planned, const net_addr *a)
{
	for (size_t i = 0; i < c->n_gateways; i++)
		if (net_addr_equal(&c->gateways[i], a))
			return true;
	for (size_t i = 0; i < n_planned; i++)
		if (net_addr_equal(&planned[i], a))
			return true;
	return ipam_leases_find(l, a) != NULL;
}

/* The lowest free address of pool; at most leases + gateways + planned + 2 steps. */
static bool pool_pick(const net_config *c, const ipam_leases *l, const net_addr *pool,
		      const net_addr *planned, size_t n_planned, net_addr *ret)
{
	net_addr a = *pool;

	while (addr_next(&a) && net_addr_in(pool, &a)) {
		if (addr_reserved_in_pool(pool, &a) || addr_taken(c, l, planned, n_planned, &a))
			continue;
		*ret = a;
		return true;
	}
	return false;
}

static int plan_auto(const net_config *c, const ipam_leases *l, int family, const net_addr *planned,
		     size_t n_planned, net_addr *ret, berr *err)
{
	bool any = false;

	for (size_t p = 0; p < c->n_pools; p++) {
		if (c->pools[p].family != family)
			continue;
		any = true;
		if (pool_pick(c, l, &c->pools[p], planned, n_planned, ret))
			return 0;
	}
	if (!any)
		return berr_setx(err, EADDRNOTAVAIL,
				 "no IPv%d pool in the network config (add one to \"pools\", or "
				 "give a fixed address with --ip)",
				 family == AF_INET ? 4 : 6);
	return berr_setx(err, EADDRNOTAVAIL,
			 "every IPv%d pool is full (add a pool to the network config, or delete "
			 "an instance)",
			 family == AF_INET ? 4 : 6);
}

static int plan_fixed(const net_config *c, const ipam_leases *l, const net_addr *a,
		      const net_addr *planned, size_t n_planned, berr *err)
{
	const net_addr *pool = NULL;
	const ipam_lease *held;
	char text[64];

	net_addr_format(a, true, text, sizeof(text));
	for (size_t p = 0; p < c->n_pools && !pool; p++)
		if (net_addr_in(&c->pools[p], a))
			pool = &c->pools[p];
	if (!pool)
		return berr_setx(err, EADDRNOTAVAIL,
				 "address %s is outside every pool of the network config (use "
				 "--ip auto, an address inside a pool, or add a pool)",
				 text);
	if (addr_reserved_in_pool(pool, a))
		return berr_setx(err, EADDRNOTAVAIL,
				 "address %s is its pool's network or broadcast address (use "
				 "another address, or --ip auto)",
				 text);
	for (size_t i = 0; i < c->n_gateways; i++)
		if (net_addr_equal(&c->gateways[i], a))
			return berr_setx(err, EADDRINUSE,
					 "address %s is the gateway (use another address, or "
					 "--ip auto)",
					 text);
	held = ipam_leases_find(l, a);
	if (held)
		return berr_setx(err, EADDRINUSE,
				 "address %s is taken by instance %s (use another address, or "
				 "--ip auto)",
				 text, held->owner);
	for (size_t i = 0; i < n_planned; i++)
		if (net_addr_equal(&planned[i], a))
			return berr_setx(err, EADDRINUSE, "address %s is given twice", text);
	return 0;
}

int ipam_plan(const net_config *c, const ipam_leases *l, const ipam_request *reqs, size_t n,
	      net_addr *ret, berr *err)
{
	net_addr planned[NET_MAX_ADDRS];
	int r;

	if (n > NET_MAX_ADDRS)
		return berr_setx(err, E2BIG, "at most %d addresses per instance", NET_MAX_ADDRS);
	/* Fixed ones first, so that auto never takes an address asked for by name. */
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].is_auto)
			continue;
		r = plan_fixed(c, l, &reqs[i].addr, planned, i, err);
		if (r < 0)
			return r;
		planned[i] = reqs[i].addr;
	}
	for (size_t i = 0; i < n; i++) {
		net_addr fixed_so_far[NET_MAX_ADDRS];
		size_t k = 0;

		if (!reqs[i].is_auto)
			continue;
		for (size_t j = 0; j < n; j++)
			if (!reqs[j].is_auto || j < i)
				fixed_so_far[k++] = planned[j];
		r = plan_auto(c, l, reqs[i].family, fixed_so_far, k, &planned[i], err);
		if (r < 0)
			return r;
	}
	memcpy(ret, planned, n * sizeof(*ret));
	return 0;
}

int ipam_requests_build(const net_config *c, const char *const *ips, size_t n, ipam_request *ret,
			size_t *ret_n, berr *err)
{
	static const int families[] = {AF_INET, AF_INET6};
	bool want_auto = n == 0, fixed_family[2] = {false, false};
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int r;

		if (str_eq(ips[i], "auto")) {
			want_auto = true;
			continue;
		}
		if (k >= NET_MAX_ADDRS)
			return berr_setx(err, E2BIG, "at most %d addresses per instance",
					 NET_MAX_ADDRS);
		r = net_addr_parse(ips[i], false, &ret[k].addr, err);
		if (r < 0) {
			berr_prefix(err, "--ip");
			return r;
		}
		ret[k].is_auto = false;
		fixed_family[ret[k].addr.family == AF_INET6] = true;
		k++;
	}
	for (size_t f = 0; want_auto && f < ARRAY_SIZE(families); f++) {
		bool have_pool = false;

		for (size_t p = 0; p < c->n_pools; p++)
			have_pool = have_pool || c->pools[p].family == families[f];
		if (!have_pool || fixed_family[f])
			continue;
		if (k >= NET_MAX_ADDRS)
			return berr_setx(err, E2BIG, "at most %d addresses per instance",
					 NET_MAX_ADDRS);
		ret[k++] = (ipam_request){.is_auto = true, .family = families[f]};
	}
	*ret_n = k;
	return 0;
}

/* ---- the lease file ---- */

static int lock_dir(const char *dir, int *ret_fd, berr *err)
{
	_cleanup_free_ char *path = str_printf("%s/" LEASES_LOCK, dir);
	int fd, r;

	if (!path)
		return berr_set(err, ENOMEM, "leases");
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return berr_set(err, -r, "create %s", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_set(err, errno, "open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = berr_set(err, errno, "lock %s", path);
			close(fd);
			return r;
		}
	*ret_fd = fd;
	return 0;
}

int ipam_leases_load(const char *dir, ipam_leases *ret, berr *err)
{
	_cleanup_free_ char *path = str_printf("%s/" LEASES_FILE, dir), *text = NULL;
	int r;

	if (!path)
		return berr_set(err, ENOMEM, "leases");
	r = read_file_at(AT_FDCWD, path, &text, NULL);
	if (r == -ENOENT) {
		*ret = (ipam_leases){0};
		return 0;
	}
	if (r < 0)
		return berr_set(err, -r, "read %s", path);
	r = ipam_leases_parse(text, ret, err);
	if (r < 0)
		berr_prefix(err, "%s (fix or remove the broken entry)", path);
	return r;
}

static int leases_save(const char *dir, const ipam_leases *l, berr *err)
{
	_cleanup_free_ char *path = str_printf("%s/" LEASES_FILE, dir), *text = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return berr_set(err, ENOMEM, "leases");
	r = ipam_leases_to_json(l, &text, &len);
	if (r >= 0)
		r = write_file_atomic(path, text, len, 0600);
	return r < 0 ? berr_set(err, -r, "write %s", path) : 0;
}

int ipam_allocate(const char *dir, const net_config *c, const char *owner, const ipam_request *reqs,
		  size_t n, net_addr *ret, berr *err)
{
	_cleanup_close_ int lock = -EBADF;
	ipam_leases l = {0};
	net_addr planned[NET_MAX_ADDRS];
	int r = lock_dir(dir, &lock, err);

	if (r < 0)
		return r;
	r = ipam_leases_load(dir, &l, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n; i++)
		if (str_eq(l.v[i].owner, owner)) {
			r = berr_setx(err, EEXIST,
				      "instance %s already holds addresses in %s/" LEASES_FILE
				      " (a create that was killed? remove its entries there)",
				      owner, dir);
			goto out;
		}
	r = ipam_plan(c, &l, reqs, n, planned, err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (ipam_leases_add(&l, &planned[i], owner) < 0)
			r = berr_set(err, ENOMEM, "leases");
	if (r >= 0)
		r = leases_save(dir, &l, err);
	if (r >= 0)
		memcpy(ret, planned, n * sizeof(*ret));
out:
	ipam_leases_free(&l);
	return r;
}

int ipam_release(const char *dir, const char *owner, berr *err)
{
	_cleanup_close_ int lock = -EBADF;
	ipam_leases l = {0};
	int r = lock_dir(dir, &lock, err);

	if (r < 0)
		return r;
	r = ipam_leases_load(dir, &l, err);
	if (r >= 0 && ipam_leases_remove_owner(&l, owner) > 0)
		r = leases_save(dir, &l, err);
	ipam_leases_free(&l);
	return r;
}
