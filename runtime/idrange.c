/* SPDX-License-Identifier: MIT */
/*
 * Id ranges: every instance gets host uids and gids of its own, a range of
 * (by default) 65536 that no other instance shares, so that root inside one
 * instance is nobody on the host and nobody in its neighbour.
 *
 * The pool is the host's: 1,000,000 upward by default, or the ranges that
 * /etc/subuid and /etc/subgid give a user named "berth" (ids in both files).
 * The taken set is derived from the instances' own configs (their "idmap"),
 * so there is no second file to drift from the truth: a range is taken while
 * an instance's config.json names it and free once the instance is deleted.
 * Allocation is lowest-free, under an flock on <lib>/idranges.lock that the
 * caller holds until the new config is in place (create and clone both).
 *
 * `berth run` containers have no config, and a clone takes long to copy: each
 * holds a claim file, <lib>/idranges.d/claim.PID ("BASE COUNT STARTTIME"),
 * instead of the lock, while it runs or copies; a claim
 * whose process is gone (a berth that was SIGKILLed) is removed at the next
 * allocation.
 *
 * The first half is pure (parsing and allocation, unit-tested); the second
 * reads the host's files.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "runtime-internal.h"

/* Ids run to 4294967294; (uid_t)-1 is "no id". */
#define ID_LAST 4294967294u

static bool parse_field_u32(const char *s, size_t len, uint32_t *ret)
{
	char buf[16];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_u32(buf, ret) >= 0;
}

/* Is [s, end) exactly word? */
static bool field_is(const char *s, const char *end, const char *word)
{
	size_t len = (size_t)(end - s);

	return word[0] && len == strlen(word) && strncmp(s, word, len) == 0;
}

int idrange_subid_parse(const char *text, const char *user, uint32_t uid, idrange *v, size_t max,
			size_t *ret_n)
{
	char uidbuf[16];
	size_t n = 0;

	snprintf(uidbuf, sizeof(uidbuf), "%u", uid);
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n'), *c1, *c2;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		uint32_t start, count;

		c1 = memchr(line, ':', len);
		c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
		/* "name:start:count"; the owner by name, or by uid as shadow allows. */
		if (c2 &&
		    (field_is(line, c1, user) ||
		     (uid != (uint32_t)-1 && field_is(line, c1, uidbuf))) &&
		    parse_field_u32(c1 + 1, (size_t)(c2 - c1 - 1), &start) &&
		    parse_field_u32(c2 + 1, len - (size_t)(c2 + 1 - line), &count) && count > 0 &&
		    start > 0 && (uint64_t)start + count - 1 <= ID_LAST) {
			if (n == max)
				return -E2BIG;
			v[n++] = (idrange){start, count};
		}
		line = end ? end + 1 : NULL;
	}
	*ret_n = n;
	return 0;
}

size_t idrange_intersect(const idrange *a, size_t na, const idrange *b, size_t nb, idrange *out,
			 size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb && n < max; j++) {
			uint64_t lo = a[i].base > b[j].base ? a[i].base : b[j].base;
			uint64_t ea = (uint64_t)a[i].base + a[i].count,
				 eb = (uint64_t)b[j].base + b[j].count;
			uint64_t hi = ea < eb ? ea : eb;

			if (lo < hi)
				out[n++] = (idrange){(uint32_t)lo, (uint32_t)(hi - lo)};
		}
	return n;
}

static bool overlaps(uint64_t base, uint64_t count, const idrange *r)
{
	return base < (uint64_t)r->base + r->count && (uint64_t)r->base < base + count;
}

ssize_t idrange_find_overlap(const idrange *taken, size_t n, uint32_t base, uint32_t count)
{
	for (size_t i = 0; i < n; i++)
		if (overlaps(base, count, &taken[i]))
			return (ssize_t)i;
	return -1;
}

int idrange_alloc(const idrange *pool, size_t n_pool, const idrange *taken, size_t n_taken,
		  uint32_t count, uint32_t *ret_base)
{
	uint64_t best = UINT64_MAX;

	if (count == 0)
		return -EINVAL;
	for (size_t p = 0; p < n_pool; p++) {
		uint64_t cand = pool[p].base, end = (uint64_t)pool[p].base + pool[p].count;
		bool moved = true;

		/* Step past every taken range in the way until none is (at most n_taken steps). */
		while (moved && cand + count <= end) {
			moved = false;
			for (size_t t = 0; t < n_taken; t++)
				if (overlaps(cand, count, &taken[t])) {
					cand = (uint64_t)taken[t].base + taken[t].count;
					moved = true;
				}
		}
		if (cand + count <= end && cand < best)
			best = cand;
	}
	if (best == UINT64_MAX)
		return -ENOSPC;
	*ret_base = (uint32_t)best;
	return 0;
}

/* --- the host's files ----------------------------------------------------------- */

#define POOL_MAX 64

/* Does a line of a subid file name its owner by uid ("1001:100000:65536")? */
static bool has_numeric_owner(const char *text)
{
	for (const char *line = text; line && *line;) {
		size_t digits = strspn(line, "0123456789");

		if (digits > 0 && line[digits] == ':')
			return true;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return false;
}

/* The ranges one subid file gives the berth user; 0 of them when it has none. */
static int subid_load(const char *path, idrange *v, size_t *ret_n, berr *err)
{
	_cleanup_free_ char *text = NULL;
	struct passwd *pw = NULL;
	int r = read_file_at(AT_FDCWD, path, &text, NULL);

	*ret_n = 0;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return berr_set(err, -r, "read %s", path);
	/*
	 * The uid matters only for lines that name their owner by uid. Without one, no
	 * getpwnam: it loads the NSS modules (libnss_systemd, a dlopen) on every
	 * `berth run` and create, about as long as the rest of the allocation.
	 */
	if (has_numeric_owner(text))
		pw = getpwnam(IDRANGE_USER);
	r = idrange_subid_parse(text, IDRANGE_USER, pw ? pw->pw_uid : (uint32_t)-1, v, POOL_MAX,
				ret_n);
	return r < 0 ? berr_setx(err, E2BIG, "%s: more than %d ranges for %s", path, POOL_MAX,
				 IDRANGE_USER)
		     : 0;
}

int idrange_pool_load(const char *subuid, const char *subgid, idrange *pool, size_t max,
		      size_t *ret_n, berr *err)
{
	idrange u[POOL_MAX], g[POOL_MAX];
	size_t nu = 0, ng = 0;
	int r = subid_load(subuid, u, &nu, err);

	if (r >= 0)
		r = subid_load(subgid, g, &ng, err);
	if (r < 0)
		return r;
	if (nu == 0 && ng == 0) {
		pool[0] = (idrange){IDMAP_DEFAULT_BASE, ID_LAST - IDMAP_DEFAULT_BASE + 1};
		*ret_n = 1;
		return 0;
	}
	/* One base serves uids and gids alike: only ids given in both files are usable. */
	*ret_n = idrange_intersect(u, nu, g, ng, pool, max);
	if (*ret_n == 0)
		return berr_setx(err, ENOSPC,
				 "%s and %s give user %s no ids in common (give it the same "
				 "ranges in both, e.g. %s:1000000:65536000)",
				 subuid, subgid, IDRANGE_USER, IDRANGE_USER);
	return 0;
}

int idrange_lock(const berth_paths *p, int *ret_fd, berr *err)
{
	_cleanup_free_ char *path = str_printf("%s/idranges.lock", p->lib);
	int fd, r;

	if (!path)
		return berr_set(err, ENOMEM, "paths");
	r = mkdir_p(p->lib, 0755);
	if (r < 0)
		return berr_set(err, -r, "create %s", p->lib);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_set(err, errno, "open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = errno;
			close(fd);
			return berr_set(err, r, "lock %s", path);
		}
	*ret_fd = fd;
	return 0;
}

/* The ranges in use, and whose each is ("instance web1", "a berth run or clone (pid 42)"). */
typedef struct taken_set {
	idrange *v;
	char **owner;
	size_t n;
} taken_set;

static void taken_free(taken_set *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->owner[i]);
	free(t->owner);
	free(t->v);
	*t = (taken_set){0};
}

/* owner: a malloc'd string, taken over (NULL: out of memory). */
static int taken_add(taken_set *t, uint32_t base, uint32_t count, char *owner, berr *err)
{
	idrange *v = realloc(t->v, (t->n + 1) * sizeof(*v));
	char **o = v ? realloc(t->owner, (t->n + 1) * sizeof(*o)) : NULL;

	if (v)
		t->v = v;
	if (o)
		t->owner = o;
	if (!v || !o || !owner) {
		free(owner);
		return berr_set(err, ENOMEM, "id ranges");
	}
	t->v[t->n] = (idrange){base, count};
	t->owner[t->n++] = owner;
	return 0;
}

/* Every instance's range (those with a user namespace). */
static int instances_load(const berth_paths *p, taken_set *t, berr *err)
{
	_cleanup_free_ char *dir = str_printf("%s/instances", p->lib);
	char **names = NULL;
	int r = dir ? list_dir_names(dir, instance_name_valid, &names) : -ENOMEM;

	if (r < 0)
		return berr_set(err, -r, "list %s", dir ? dir : "instances");
	for (char **n = names; *n && r >= 0; n++) {
		_cleanup_free_ char *cfg = str_printf("%s/%s/config.json", dir, *n);
		instance_config c;

		/* A range nobody can read might be in use: refuse rather than hand it out twice. */
		r = cfg ? instance_config_load(cfg, &c, err) : berr_set(err, ENOMEM, "paths");
		if (r < 0) {
			berr_prefix(err, "id ranges in use (repair or delete instance %s)", *n);
			break;
		}
		if (c.userns)
			r = taken_add(t, c.map.outside, c.map.count, str_printf("instance %s", *n),
				      err);
		instance_config_free(&c);
	}
	strv_free(names);
	return r < 0 ? r : 0;
}

/* The ranges of live claims (berth run, clone); dead ones are removed. */
static int claims_load(const berth_paths *p, taken_set *t, berr *err)
{
	_cleanup_free_ char *dir = str_printf("%s/idranges.d", p->lib);
	char **claims = NULL;
	int r = dir ? list_dir_names(dir, NULL, &claims) : -ENOMEM;

	if (r < 0)
		return berr_set(err, -r, "list %s", dir ? dir : "idranges.d");
	for (char **c = claims; *c && r >= 0; c++) {
		_cleanup_free_ char *path = str_printf("%s/%s", dir, *c), *text = NULL;
		unsigned int base, count, pid;
		unsigned long long start;

		if (!path) {
			r = berr_set(err, ENOMEM, "paths");
			break;
		}
		if (read_file_at(AT_FDCWD, path, &text, NULL) < 0 ||
		    sscanf(*c, "claim.%u", &pid) != 1 ||
		    sscanf(text, "%u %u %llu", &base, &count, &start) != 3 ||
		    !proc_alive((pid_t)pid, start)) {
			unlink(path);
			continue;
		}
		r = taken_add(t, base, count, str_printf("a berth run or clone (pid %u)", pid),
			      err);
	}
	strv_free(claims);
	return r < 0 ? r : 0;
}

int idrange_assign(const berth_paths *p, bool fixed, idmap *map, berr *err)
{
	taken_set t = {0};
	idrange pool[POOL_MAX];
	size_t n_pool = 0;
	ssize_t hit;
	int r = instances_load(p, &t, err);

	if (r >= 0)
		r = claims_load(p, &t, err);
	if (r >= 0 && fixed) {
		hit = idrange_find_overlap(t.v, t.n, map->outside, map->count);
		if (hit >= 0)
			r = berr_setx(
				err, EEXIST,
				"--idmap %u:%u overlaps the host ids %u-%u of %s (use --idmap "
				"auto, or a base outside every instance's range)",
				map->outside, map->count, t.v[hit].base,
				t.v[hit].base + t.v[hit].count - 1, t.owner[hit]);
	}
	if (r >= 0 && !fixed)
		r = idrange_pool_load(IDRANGE_SUBUID, IDRANGE_SUBGID, pool, POOL_MAX, &n_pool, err);
	if (r >= 0 && !fixed) {
		r = idrange_alloc(pool, n_pool, t.v, t.n, map->count, &map->outside);
		if (r == -ENOSPC)
			r = berr_setx(
				err, ENOSPC,
				"no free range of %u host ids left in the pool (%s; %zu in "
				"use): delete an instance, or give user %s more ids in %s and %s",
				map->count,
				n_pool == 1 && pool[0].base == IDMAP_DEFAULT_BASE
					? "1000000 upward"
					: "user berth's subordinate ids",
				t.n, IDRANGE_USER, IDRANGE_SUBUID, IDRANGE_SUBGID);
		else if (r < 0)
			r = berr_set(err, -r, "allocate an id range");
	}
	taken_free(&t);
	return r < 0 ? r : 0;
}

int idrange_claim(const berth_paths *p, idmap *map, char **ret_claim, berr *err)
{
	_cleanup_close_ int lock = -EBADF;
	_cleanup_free_ char *dir = str_printf("%s/idranges.d", p->lib), *path = NULL;
	char line[64];
	int r = idrange_lock(p, &lock, err), n;

	if (r < 0)
		return r;
	r = idrange_assign(p, false, map, err);
	if (r < 0)
		return r;
	path = str_printf("%s/claim.%d", dir ? dir : "", (int)getpid());
	if (!dir || !path)
		return berr_set(err, ENOMEM, "paths");
	n = snprintf(line, sizeof(line), "%u %u %llu\n", map->outside, map->count,
		     (unsigned long long)proc_start_time(getpid()));
	if ((r = mkdir_p(dir, 0700)) < 0 ||
	    (r = write_file_replace(path, line, (size_t)n, 0600)) < 0)
		return berr_set(err, -r, "write %s", path);
	*ret_claim = TAKE_PTR(path);
	return 0;
}
