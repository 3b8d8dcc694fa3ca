/* SPDX-License-Identifier: MIT */
/*
 * Resource limits for the instance's first process, inherited by all it starts.
 *
 * berth only lowers limits: raising a hard limit needs CAP_SYS_RESOURCE in the
 * initial user namespace, which an instance never has and some hosts (ours) do not
 * give the runtime either. A request to raise one is refused up front with a
 * message, rather than left to fail as EPERM halfway through setup.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "runtime-internal.h"

#define RLIMIT_USAGE "use NAME=SOFT[:HARD], e.g. NOFILE=1024:4096"

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"AS", RLIMIT_AS},
	{"CORE", RLIMIT_CORE},
	{"CPU", RLIMIT_CPU},
	{"DATA", RLIMIT_DATA},
	{"FSIZE", RLIMIT_FSIZE},
	{"LOCKS", RLIMIT_LOCKS},
	{"MEMLOCK", RLIMIT_MEMLOCK},
	{"MSGQUEUE", RLIMIT_MSGQUEUE},
	{"NICE", RLIMIT_NICE},
	{"NOFILE", RLIMIT_NOFILE},
	{"NPROC", RLIMIT_NPROC},
	{"RSS", RLIMIT_RSS},
	{"RTPRIO", RLIMIT_RTPRIO},
	{"RTTIME", RLIMIT_RTTIME},
	{"SIGPENDING", RLIMIT_SIGPENDING},
	{"STACK", RLIMIT_STACK},
};

static int rlimit_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strlen(rlimit_names[i].name) == len &&
		    strncasecmp(rlimit_names[i].name, name, len) == 0)
			return rlimit_names[i].resource;
	return -1;
}

static const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

/* One side of SOFT:HARD. Returns 0, or -EINVAL / -ERANGE as parse_u64 does. */
static int rlimit_value_parse(const char *s, rlim_t *ret)
{
	uint64_t v;
	int r;

	if (strcasecmp(s, "unlimited") == 0) {
		*ret = RLIM_INFINITY;
		return 0;
	}
	r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if ((rlim_t)v != v)
		return -ERANGE;
	*ret = (rlim_t)v;
	return 0;
}

static int rlimit_value_check(const char *s, const char *part, rlim_t *ret, berr *err)
{
	int r;

	if (part[0] == '\0')
		return berr_setx(err, EINVAL, "rlimit \"%s\": missing a value (" RLIMIT_USAGE ")",
				 s);
	r = rlimit_value_parse(part, ret);
	if (r == -ERANGE)
		return berr_setx(err, ERANGE,
				 "rlimit \"%s\": \"%s\" is too large (" RLIMIT_USAGE
				 ", or \"unlimited\")",
				 s, part);
	if (r < 0)
		return berr_setx(err, EINVAL,
				 "rlimit \"%s\": \"%s\" is not a number (" RLIMIT_USAGE
				 ", or \"unlimited\")",
				 s, part);
	return 0;
}

int rlimit_parse(const char *s, rlimit_req *ret, berr *err)
{
	_cleanup_free_ char *value = NULL;
	const char *eq = strchr(s, '=');
	char *colon;
	rlimit_req req;
	int r;

	if (!eq)
		return berr_setx(err, EINVAL, "rlimit \"%s\": missing \"=\" (" RLIMIT_USAGE ")", s);
	req.resource = rlimit_lookup(s, (size_t)(eq - s));
	if (req.resource < 0)
		return berr_setx(err, EINVAL,
				 "rlimit \"%s\": unknown name \"%.*s\" (use one of AS, CORE, CPU, "
				 "DATA, FSIZE, LOCKS, MEMLOCK, MSGQUEUE, NICE, NOFILE, NPROC, RSS, "
				 "RTPRIO, RTTIME, SIGPENDING, STACK)",
				 s, (int)(eq - s), s);
	value = strdup(eq + 1);
	if (!value)
		return berr_set(err, ENOMEM, "rlimit \"%s\"", s);
	/* Like prlimit(1), a single value sets both limits. */
	colon = strchr(value, ':');
	if (colon)
		*colon = '\0';
	r = rlimit_value_check(s, value, &req.soft, err);
	if (r < 0)
		return r;
	req.hard = req.soft;
	if (colon) {
		r = rlimit_value_check(s, colon + 1, &req.hard, err);
		if (r < 0)
			return r;
	}
	if (req.soft > req.hard)
		return berr_setx(err, EINVAL,
				 "rlimit \"%s\": the soft limit is above the hard limit "
				 "(use NAME=SOFT:HARD with SOFT <= HARD)",
				 s);
	*ret = req;
	return 0;
}

static const char *rlim_str(rlim_t v, char *buf, size_t size)
{
	if (v == RLIM_INFINITY)
		return "unlimited";
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* Everything is checked before anything is set, so a refused request changes nothing. */
static int rlimit_check(const rlimit_req *req, berr *err)
{
	const char *name = rlimit_name(req->resource);
	char cur_buf[24], req_buf[24];
	struct rlimit cur;

	if (!name)
		return berr_setx(err, EINVAL, "rlimit: unknown resource %d", req->resource);
	if (req->soft > req->hard)
		return berr_setx(err, EINVAL, "rlimit %s: the soft limit is above the hard limit",
				 name);
	if (getrlimit(req->resource, &cur) < 0)
		return berr_set(err, errno, "rlimit %s: read the current limit", name);
	if (req->hard > cur.rlim_max)
		return berr_setx(err, EPERM,
				 "rlimit %s: cannot raise the hard limit from %s to %s "
				 "(berth only lowers limits)",
				 name, rlim_str(cur.rlim_max, cur_buf, sizeof(cur_buf)),
				 rlim_str(req->hard, req_buf, sizeof(req_buf)));
	return 0;
}

int rlimits_apply(const rlimit_req *v, size_t n, berr *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = rlimit_check(&v[i], err);

		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		struct rlimit rl = {.rlim_cur = v[i].soft, .rlim_max = v[i].hard};
		char soft_buf[24], hard_buf[24];

		if (setrlimit(v[i].resource, &rl) < 0)
			return berr_set(err, errno, "rlimit %s: set to %s:%s",
					rlimit_name(v[i].resource),
					rlim_str(v[i].soft, soft_buf, sizeof(soft_buf)),
					rlim_str(v[i].hard, hard_buf, sizeof(hard_buf)));
	}
	return 0;
}
