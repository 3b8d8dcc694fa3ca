/* SPDX-License-Identifier: MIT */
/*
 * Stats of instances: each instance's cgroup (<cgroup2>/berth/NAME) is opened
 * once, and each sample reads its files with openat + read. Nothing here
 * sleeps: the caller sleeps once between two samples for all instances.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime-internal.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* <cgroup2>/<p->cgroup> as an O_PATH fd; -ENOENT when no instance ever ran since boot. */
static int berth_cgroups_open(const berth_paths *p, int *ret_fd, berr *err)
{
	_cleanup_free_ char *root = NULL;
	_cleanup_close_ int rootfd = -EBADF;
	int r = cg_find_mount("/proc/self/mountinfo", &root, err);

	if (r < 0)
		return r;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, errno, "open %s", root);
	*ret_fd = openat(rootfd, p->cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*ret_fd < 0 && errno != ENOENT)
		return berr_set(err, errno, "open %s/%s", root, p->cgroup);
	return *ret_fd < 0 ? -ENOENT : 0;
}

/* A name given on the command line must be an instance. */
static int instance_exists(const berth_paths *p, const char *name, berr *err)
{
	_cleanup_free_ char *dir = NULL;
	struct stat st;
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	dir = str_printf("%s/instances/%s/config.json", p->lib, name);
	if (!dir)
		return berr_set(err, ENOMEM, "paths");
	if (stat(dir, &st) < 0)
		return errno == ENOENT
			       ? berr_setx(err, ENOENT,
					   "no instance named %s (berth list shows them)", name)
			       : berr_set(err, errno, "%s", dir);
	return 0;
}

static const instance_stats *find_prev(const stats_set *prev, const char *name)
{
	for (size_t i = 0; prev && i < prev->n; i++)
		if (str_eq(prev->v[i].name, name))
			return &prev->v[i];
	return NULL;
}

/* The cgroup state.json records for name (a systemd unit's): an O_PATH fd, or -errno. */
static int recorded_cgroup_open(const berth_paths *p, const char *name)
{
	_cleanup_close_ int rootfd = -EBADF;
	instance_paths ip;
	berr ignore = {0};
	int fd = -ENOENT;

	if (instance_paths_init(&ip, p, name) < 0)
		return -ENOMEM;
	if (cgroup_root_open(&rootfd, &ignore) >= 0) {
		fd = openat(rootfd, ip.cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
		fd = fd < 0 ? -errno : fd;
	}
	instance_paths_free(&ip);
	return fd;
}

/* Fill entry i for name: its cgroup fd, and what prev knew of it. */
static void entry_init(instance_stats *e, const berth_paths *p, int berthfd, const char *name,
		       const stats_set *prev)
{
	const instance_stats *old = find_prev(prev, name);

	*e = (instance_stats){.cgfd = -EBADF};
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (berthfd >= 0)
		e->cgfd = openat(berthfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (e->cgfd < 0)
		e->cgfd = recorded_cgroup_open(p, name); /* under a systemd unit (delegate.c) */
	if (old && old->running) {
		e->cg = old->cg; /* becomes prev at the first sample */
		e->sampled_ns = old->sampled_ns;
	}
}

int stats_set_open(const berth_paths *p, char *const *names, const stats_set *prev, stats_set *ret,
		   berr *err)
{
	_cleanup_close_ int berthfd = -EBADF;
	char **all = NULL;
	char *const *v = names;
	stats_set s = {0};
	size_t n = 0;
	int r;

	for (size_t i = 0; names && names[i]; i++) {
		r = instance_exists(p, names[i], err);
		if (r < 0)
			return r;
	}
	if (!names) {
		r = instance_list(p, &all, err);
		if (r < 0)
			return r;
		v = all;
	}
	r = berth_cgroups_open(p, &berthfd, err);
	if (r < 0 && r != -ENOENT)
		goto out;
	while (v[n])
		n++;
	s.v = calloc(n ? n : 1, sizeof(*s.v));
	if (!s.v) {
		r = berr_set(err, ENOMEM, "stats");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		entry_init(&s.v[s.n], p, berthfd, v[i], prev);
		/* Listing every instance: only those with a cgroup can be running. */
		if (!names && s.v[s.n].cgfd < 0)
			continue;
		s.n++;
	}
	*ret = s;
	r = 0;
out:
	strv_free(all);
	return r;
}

/* The host side's counters; an instance without a network has no such link (-ENODEV). */
static void net_sample(instance_stats *e)
{
	char ifname[NET_IFNAMSIZ];
	berr ignore = {0};

	net_host_ifname(e->name, ifname);
	e->have_net = netns_counters(ifname, &e->net, &ignore) >= 0;
}

static void sample_one(instance_stats *e)
{
	cg_stats now;
	uint64_t t = now_ns();
	int r = e->cgfd >= 0 ? cg_stats_read(e->cgfd, &now) : -ENOENT;

	e->have_cpu_pct = false;
	if (r < 0 || !now.populated) {
		/* Gone (ENOENT, or ENODEV once removed) or emptied: stopped meanwhile. */
		e->running = e->frozen = false;
		e->sampled_ns = 0;
		return;
	}
	e->prev = e->cg;
	e->prev_ns = e->sampled_ns;
	e->cg = now;
	e->sampled_ns = t;
	e->running = true;
	e->frozen = now.frozen;
	net_sample(e);
	if (e->prev_ns && t > e->prev_ns && (now.have & e->prev.have & CG_HAVE_CPU_USAGE) &&
	    now.cpu_usage_usec >= e->prev.cpu_usage_usec) {
		e->cpu_pct = (double)(now.cpu_usage_usec - e->prev.cpu_usage_usec) * 1e5 /
			     (double)(t - e->prev_ns);
		e->have_cpu_pct = true;
	}
}

int stats_set_sample(stats_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		sample_one(&s->v[i]);
	return 0;
}

void stats_set_free(stats_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		closep(&s->v[i].cgfd);
	free(s->v);
	*s = (stats_set){0};
}
