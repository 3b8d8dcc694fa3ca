/* SPDX-License-Identifier: MIT */
/*
 * The fallback for file systems that cannot idmap a mount (ramfs, or tmpfs
 * before Linux 6.3, or an old kernel): instead of the template itself, an
 * instance's lower layer is a copy of it with every owner moved into the
 * instance's id range, made once per (template, range) and cached in
 * <lib>/shifted/TEMPLATE@BASE. It is made aside and renamed into place under
 * <lib>/shifted/.lock, so a half-made copy is never used; delete removes it.
 * Chosen at create when an idmapped mount of the template fails with
 * EINVAL, EOPNOTSUPP or EPERM, or asked for with --shifted-copy.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rootfs.h"
#include "runtime-internal.h"

/* A user namespace with map m, held by a child that waits; its fd in *ret_fd. */
static int userns_with_map(const idmap *m, int *ret_fd, pid_t *ret_pid)
{
	char path[64], line[64];
	int go[2], ready[2], r = 0;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		r = -errno;
		close(go[0]), close(go[1]);
		return r;
	}
	pid = fork();
	if (pid == 0) {
		char c = 0;

		close(go[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) < 0 || write(ready[1], &c, 1) != 1)
			_exit(1);
		(void)!read(go[0], &c, 1); /* until the parent is done with us */
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	char c;
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		r = pid < 0 ? -errno : -ECHILD;
	close(ready[0]);
	if (r >= 0 && idmap_render(m, line, sizeof(line)) < 0)
		r = -EINVAL;
	for (int i = 0; r >= 0 && i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, i ? "gid_map" : "uid_map");
		r = write_file_at(AT_FDCWD, path, line);
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (r >= 0 && (*ret_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	close(go[1]); /* the child exits */
	*ret_pid = pid;
	return r;
}

int lower_idmap_works(const char *lower, const idmap *m, berr *err)
{
	_cleanup_close_ int userns = -EBADF, fd = -EBADF;
	pid_t pid = -1;
	int r = userns_with_map(m, &userns, &pid);

	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (r < 0)
		return berr_set(err, -r, "make a user namespace to try an idmapped mount");
	r = rootfs_open_lower(lower, userns, &fd, err);
	if (r == -EINVAL || r == -EOPNOTSUPP || r == -EPERM)
		return 0;
	return r < 0 ? r : 1;
}

static char *shifted_path(const berth_paths *p, const instance_config *c)
{
	return str_printf("%s/shifted/%s@%u", p->lib, c->template, c->map.outside);
}

static int shifted_lock(const berth_paths *p, int *ret_fd, berr *err)
{
	_cleanup_free_ char *dir = str_printf("%s/shifted", p->lib),
			    *lock = str_printf("%s/shifted/.lock", p->lib);
	int r = dir && lock ? mkdir_p(dir, 0711) : -ENOMEM;

	if (r < 0)
		return berr_set(err, -r, "create %s", dir ? dir : "shifted");
	*ret_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*ret_fd < 0 || flock(*ret_fd, LOCK_EX) < 0)
		return berr_set(err, errno, "lock %s", lock);
	return 0;
}

int shifted_lower_get(const berth_paths *p, const instance_config *c, const char *template_dir,
		      char **ret_path, berr *err)
{
	_cleanup_free_ char *path = shifted_path(p, c), *tmp = NULL;
	_cleanup_close_ int lock = -EBADF, src = -EBADF, dst = -EBADF;
	int r;

	if (!path)
		return berr_set(err, ENOMEM, "paths");
	r = shifted_lock(p, &lock, err);
	if (r < 0)
		return r;
	if (access(path, F_OK) == 0) {
		*ret_path = TAKE_PTR(path);
		return 0;
	}
	tmp = str_printf("%s.tmp-%d", path, (int)getpid());
	if (!tmp)
		return berr_set(err, ENOMEM, "paths");
	rm_rf_at(AT_FDCWD, tmp); /* a leftover of ours, killed half-way */
	if (mkdir(tmp, 0700) < 0)
		return berr_set(err, errno, "create %s", tmp);
	src = open(template_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dst = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0 || dst < 0)
		r = berr_set(err, errno, "open %s", src < 0 ? template_dir : tmp);
	else
		r = rootfs_copy_shifted(src, dst, 0, c->map.outside, c->map.count, err);
	if (r >= 0 && rename(tmp, path) < 0)
		r = berr_set(err, errno, "rename %s to %s", tmp, path);
	if (r < 0) {
		rm_rf_at(AT_FDCWD, tmp);
		berr_prefix(err, "id-shifted copy of template %s", c->template);
		return r;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}

void shifted_lower_remove(const berth_paths *p, const instance_config *c)
{
	_cleanup_free_ char *path = shifted_path(p, c);
	_cleanup_close_ int lock = -EBADF;
	berr ignore = {0};

	if (path && shifted_lock(p, &lock, &ignore) >= 0)
		rm_rf_at(AT_FDCWD, path);
}
