/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroups.h"

/* mountinfo escapes blanks and backslashes as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Return the mount point of a "cgroup2" line, or NULL. Modifies line. */
static char *mountinfo_cgroup2_point(char *line)
{
	char *save = NULL, *field, *point = NULL;
	int i = 0;
	bool after_sep = false;

	for (field = strtok_r(line, " \n", &save); field;
	     field = strtok_r(NULL, " \n", &save), i++) {
		if (i == 4)
			point = field;
		else if (after_sep)
			return str_eq(field, "cgroup2") ? point : NULL;
		else if (i > 5 && str_eq(field, "-"))
			after_sep = true;
	}
	return NULL;
}

int cg_find_mount(const char *mountinfo_path, char **ret_path, berr *err)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL, *point = NULL;
	int r;

	r = read_file_at(AT_FDCWD, mountinfo_path, &buf, NULL);
	if (r < 0)
		return berr_set(err, -r, "read %s", mountinfo_path);
	/* The last one wins: a later cgroup2 mount over /sys/fs/cgroup hides an earlier one. */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = mountinfo_cgroup2_point(line);

		if (p)
			point = p;
	}
	if (point) {
		unescape_octal(point);
		*ret_path = strdup(point);
		return *ret_path ? 0 : -ENOMEM;
	}
	return berr_setx(err, ENOENT,
			 "no cgroup2 file system is mounted (berth needs cgroup v2: mount it with "
			 "'mount -t cgroup2 none /sys/fs/cgroup', or boot with "
			 "systemd.unified_cgroup_hierarchy=1)");
}

int cg_is_populated(int dirfd)
{
	_cleanup_free_ char *buf = NULL;
	const char *p;
	int r = read_file_at(dirfd, "cgroup.events", &buf, NULL);

	if (r < 0)
		return r;
	p = strstr(buf, "populated ");
	if (!p)
		return -EBADMSG;
	return p[10] == '1';
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kernels before 5.14 have no cgroup.kill: signal each pid listed instead. */
static int kill_listed_procs(int dirfd)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	int r = read_file_at(dirfd, "cgroup.procs", &buf, NULL);

	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		kill((pid_t)atoi(line), SIGKILL);
	return 0;
}

/*
 * Removed meanwhile (its owner tore it down): its files are gone (ENOENT), or
 * answer ENODEV when opened before the rmdir. A cgroup that is gone holds nobody.
 */
static bool cgroup_gone(int r) { return r == -ENOENT || r == -ENODEV; }

/*
 * Wait on cgroup.events: read it, then poll for POLLPRI, which the kernel
 * raises on the next change. It must be read each time: an unread change
 * keeps POLLPRI raised, and the wait would spin. The poll is sliced at 10 ms:
 * the wakeup for the last exit was seen to arrive late (a forced stop took a
 * whole 100 ms slice), and a 10 ms tick costs nothing.
 */
static int wait_empty(int dirfd, int timeout_ms, bool kill_stragglers)
{
	_cleanup_close_ int events = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	long deadline = now_ms() + timeout_ms;

	if (events < 0)
		return -errno;
	for (;;) {
		struct pollfd p = {.fd = events, .events = POLLPRI};
		char buf[256];
		const char *populated;
		long left;
		ssize_t n = pread(events, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			return -errno;
		buf[n] = '\0';
		populated = strstr(buf, "populated ");
		if (!populated)
			return -EBADMSG;
		if (populated[10] == '0')
			return 0;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left > 10 ? 10 : (int)left) < 0 && errno != EINTR)
			return -errno;
		if (kill_stragglers && !(p.revents & POLLPRI))
			kill_listed_procs(dirfd); /* forked after the kill */
	}
}

int cg_wait_empty(int dirfd, int timeout_ms)
{
	int r = wait_empty(dirfd, timeout_ms, false);

	return cgroup_gone(r) ? 0 : r;
}

int cg_kill_and_wait(int dirfd, int timeout_ms)
{
	int r = write_file_at(dirfd, "cgroup.kill", "1");

	if (r == -ENOENT)
		r = kill_listed_procs(dirfd);
	if (r >= 0)
		r = wait_empty(dirfd, timeout_ms, true);
	return cgroup_gone(r) ? 0 : r;
}

static int leaf_mkdir(int rootfd, const char *name, cg_leaf *leaf, berr *err)
{
	_cleanup_free_ char *path = strdup(name);
	char *slash;
	int r;

	if (!path)
		return -ENOMEM;
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		leaf->parentfd = openat(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (leaf->parentfd < 0 && errno == ENOENT && mkdirat(rootfd, path, 0755) == 0)
			leaf->parentfd = openat(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (leaf->parentfd < 0)
			return berr_set(err, errno, "cgroup %s", path);
	} else {
		leaf->parentfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		if (leaf->parentfd < 0)
			return -errno;
	}
	r = mkdirat(rootfd, name, 0755);
	if (r < 0 && errno == ENOENT)
		return -EAGAIN; /* the parent went (an idle parent pruned): make it again */
	if (r < 0 && errno == EEXIST) {
		/* Left over by a killed run with the same name: reusable only if empty. */
		_cleanup_close_ int old = openat(rootfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (old >= 0 && cg_is_populated(old) == 0 &&
		    unlinkat(rootfd, name, AT_REMOVEDIR) == 0)
			r = mkdirat(rootfd, name, 0755);
		else
			errno = EEXIST;
	}
	if (r < 0)
		return berr_set(err, errno, "create cgroup %s", name);
	return 0;
}

int cg_leaf_create(int rootfd, const char *name, uid_t owner, gid_t group, cg_leaf *ret, berr *err)
{
	static const char *const delegated[] = {"", "cgroup.procs", "cgroup.subtree_control",
						"cgroup.threads"};
	cg_leaf leaf = CG_LEAF_INIT;
	int r;

	for (int tries = 0; (r = leaf_mkdir(rootfd, name, &leaf, err)) == -EAGAIN && tries < 3;
	     tries++)
		closep(&leaf.parentfd);
	if (r == -EAGAIN)
		r = berr_setx(err, EAGAIN, "create cgroup %s: its parent keeps vanishing", name);
	if (r < 0)
		goto fail;
	leaf.name = strdup(name);
	leaf.dirfd = openat(rootfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!leaf.name || leaf.dirfd < 0) {
		r = berr_set(err, leaf.name ? errno : ENOMEM, "open cgroup %s", name);
		goto fail_rmdir;
	}
	for (size_t i = 0; owner != (uid_t)-1 && i < ARRAY_SIZE(delegated); i++)
		if (fchownat(leaf.dirfd, delegated[i], owner, group, AT_EMPTY_PATH) < 0) {
			r = berr_set(err, errno, "delegate cgroup %s/%s", name, delegated[i]);
			goto fail_rmdir;
		}
	*ret = leaf;
	return 0;

fail_rmdir:
	unlinkat(rootfd, name, AT_REMOVEDIR);
fail:
	cg_leaf_close(&leaf);
	return r;
}

/*
 * rmdir name below dfd and every cgroup below it, deepest first: a guest's
 * systemd makes its own (init.scope, system.slice, ...) inside the instance's
 * leaf, and the kernel refuses to remove a cgroup that still has children.
 * The tree must be empty of processes. Depth is bounded by the kernel's.
 */
int cg_rmdir_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && !str_eq(de->d_name, ".") && !str_eq(de->d_name, ".."))
			cg_rmdir_tree(dirfd(d), de->d_name);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int cg_leaf_destroy(cg_leaf *leaf, int timeout_ms, berr *err)
{
	const char *base;
	int r;

	if (leaf->dirfd < 0)
		return 0;
	r = cg_kill_and_wait(leaf->dirfd, timeout_ms);
	if (r < 0)
		return berr_set(err, -r, "empty cgroup %s", leaf->name);
	base = strrchr(leaf->name, '/');
	base = base ? base + 1 : leaf->name;
	/* An exiting task can hold the directory busy for a moment after "populated 0". */
	for (int tries = 0; (r = cg_rmdir_tree(leaf->parentfd, base)) < 0; tries++) {
		if (r == -ENOENT)
			break; /* removed by someone else (a stop whose monitor was slow) */
		if (r != -EBUSY || tries >= 100)
			return berr_set(err, -r, "remove cgroup %s", leaf->name);
		usleep(1000);
	}
	/* The parent berth made for it goes too once nothing else lives there. */
	_cleanup_close_ int rootfd = openat(leaf->parentfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd >= 0)
		cg_parent_prune(rootfd, leaf->name);
	cg_leaf_close(leaf);
	return 0;
}

int cg_parent_prune(int rootfd, const char *leaf_name)
{
	_cleanup_free_ char *parent = strdup(leaf_name);
	char *slash = parent ? strchr(parent, '/') : NULL;

	if (!slash || strchr(slash + 1, '/') || strncmp(parent, "berth", 5) != 0)
		return 0;
	*slash = '\0';
	if (unlinkat(rootfd, parent, AT_REMOVEDIR) < 0 && errno != ENOENT && errno != EBUSY &&
	    errno != ENOTEMPTY)
		return -errno;
	return 0;
}

void cg_leaf_close(cg_leaf *leaf)
{
	closep(&leaf->dirfd);
	closep(&leaf->parentfd);
	leaf->dirfd = leaf->parentfd = -EBADF;
	free(leaf->name);
	leaf->name = NULL;
}

void cg_prune(int rootfd, const char *parent, bool (*stale)(const char *name))
{
	int fd = openat(rootfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		_cleanup_close_ int child = -EBADF;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || !stale(de->d_name))
			continue;
		child = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (child >= 0 && cg_is_populated(child) == 0)
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}
