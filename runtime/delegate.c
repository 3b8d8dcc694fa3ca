/* SPDX-License-Identifier: MIT */
/*
 * Where an instance's cgroup goes. By default <cgroup2>/<paths cgroup>/NAME.
 * When the monitor runs in a cgroup delegated to it (a systemd unit with
 * Delegate=yes: berth@.service), the instance goes below that cgroup instead,
 * so that it belongs to the unit: the monitor first moves itself into
 * <unit>/supervisor, which keeps the no-internal-processes rule (the unit's
 * cgroup then holds no process and can enable controllers for its children),
 * and the instance lives in <unit>/payload. state.json records the cgroup
 * chosen; every reader takes it from there (instance_cgroup_recorded).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "runtime-internal.h"

int cgroup_self_parse(const char *text, char *buf, size_t size)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		/* The v2 line is "0::/path"; v1 lines have a controller list between the colons. */
		if (len >= 4 && strncmp(line, "0::/", 4) == 0) {
			const char *path = line + 4;
			size_t plen = len - 4;

			if (plen >= size)
				return -ENAMETOOLONG;
			memcpy(buf, path, plen);
			buf[plen] = '\0';
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int delegate_layout(const char *unit, const char *leaf, char *buf, size_t size)
{
	int n;

	/* The root cgroup is never delegated to anyone; "" would put instances at the top. */
	if (!unit[0] || unit[0] == '/' || strstr(unit, ".."))
		return -EINVAL;
	n = snprintf(buf, size, "%s/%s", unit, leaf);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* trusted.delegate (system manager) or user.delegate (user manager) is "1": systemd >= 251. */
static bool cgroup_xattr_delegated(const char *path)
{
	static const char *const names[] = {"trusted.delegate", "user.delegate"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char v[8];
		ssize_t n = getxattr(path, names[i], v, sizeof(v) - 1);

		if (n > 0) {
			v[n] = '\0';
			if (str_eq(v, "1"))
				return true;
		}
	}
	return false;
}

/*
 * The cgroup delegated to this process, relative to the cgroup2 root, into
 * buf: 1 when there is one, 0 when not. BERTH_CGROUP_DELEGATED=1 (the unit
 * sets it: systemd before 251 sets no xattr) or the xattr say so.
 */
static int delegated_self(const char *root, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL, *path = NULL;
	const char *env = getenv("BERTH_CGROUP_DELEGATED");
	int r = read_file_at(AT_FDCWD, "/proc/self/cgroup", &text, NULL);

	if (r >= 0)
		r = cgroup_self_parse(text, buf, size);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if (!buf[0])
		return 0; /* the root: nothing was delegated */
	if (env && str_eq(env, "1"))
		return 1;
	path = str_printf("%s/%s", root, buf);
	if (!path)
		return -ENOMEM;
	return cgroup_xattr_delegated(path) ? 1 : 0;
}

/* Move this process into root/dir (created when missing). */
static int move_self(int rootfd, const char *dir, berr *err)
{
	_cleanup_free_ char *procs = str_printf("%s/cgroup.procs", dir);
	char pid[16];
	int r;

	if (!procs)
		return berr_set(err, ENOMEM, "paths");
	if (mkdirat(rootfd, dir, 0755) < 0 && errno != EEXIST)
		return berr_set(err, errno, "create cgroup %s", dir);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = write_file_at(rootfd, procs, pid);
	return r < 0 ? berr_set(err, -r, "move the monitor into cgroup %s", dir) : 0;
}

int instance_cgroup_place(instance_paths *ip, const berth_paths *p, const char *name, berr *err)
{
	_cleanup_close_ int rootfd = -EBADF;
	_cleanup_free_ char *root = NULL;
	char unit[sizeof(((instance_state *)0)->cgroup)], leaf[sizeof(unit)], sup[sizeof(unit)];
	char *cg;
	int r = cg_find_mount("/proc/self/mountinfo", &root, err);

	if (r < 0)
		return r;
	r = delegated_self(root, unit, sizeof(unit));
	if (r < 0)
		return berr_set(err, -r, "find this process's cgroup in /proc/self/cgroup");
	if (r == 0) {
		cg = str_printf("%s/%s", p->cgroup, name);
		if (!cg)
			return berr_set(err, ENOMEM, "paths");
		free(ip->cgroup);
		ip->cgroup = cg;
		return 0;
	}
	if (delegate_layout(unit, "payload", leaf, sizeof(leaf)) < 0 ||
	    delegate_layout(unit, "supervisor", sup, sizeof(sup)) < 0)
		return berr_setx(err, ENAMETOOLONG,
				 "delegated cgroup %s: too long for the instance's cgroup (at most "
				 "%zu characters)",
				 unit, sizeof(unit) - sizeof("/supervisor"));
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, errno, "open %s", root);
	r = move_self(rootfd, sup, err);
	if (r < 0)
		return r;
	log_debug("%s: delegated cgroup %s: monitor in %s, instance in %s", name, unit, sup, leaf);
	cg = strdup(leaf);
	if (!cg)
		return berr_set(err, ENOMEM, "paths");
	free(ip->cgroup);
	ip->cgroup = cg;
	return 0;
}

void instance_cgroup_recorded(instance_paths *ip)
{
	instance_state st = {0};
	berr ignore = {0};
	char *cg;

	if (instance_state_load(ip->state, &st, &ignore) < 0 || !st.cgroup[0] ||
	    st.cgroup[0] == '/' || strstr(st.cgroup, "..") || str_eq(st.cgroup, ip->cgroup))
		return;
	cg = strdup(st.cgroup);
	if (!cg)
		return;
	free(ip->cgroup);
	ip->cgroup = cg;
}
