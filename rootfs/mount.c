/* SPDX-License-Identifier: MIT */
/*
 * Apply a mount plan below the new root. Every target is resolved inside the
 * root (openat2 RESOLVE_IN_ROOT) and must not be a symlink, so a template or
 * a customer's symlink can never redirect a mount onto the host.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "rootfs.h"

#define FD_PATH_MAX 32

int rootfs_open_in_root(int rootfd, const char *path, int *ret_fd, berr *err)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd;

	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return berr_set(err, errno, "open %s in the container root", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return berr_set(err, errno, "stat %s", path);
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return berr_setx(err, ELOOP,
				 "%s in the container root is a symlink; refusing to mount over it "
				 "(fix the template: it must be a real directory or file)",
				 path);
	}
	*ret_fd = fd;
	return 0;
}

/* Split "/a/b/c" into the parent "/a/b" (in buf) and "c". */
static const char *split_parent(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
	if (n == 0)
		strcpy(buf, "/");
	return slash ? slash + 1 : path;
}

/* Open path inside the root, creating it (and its parents) as a directory or file if missing. */
static int ensure_in_root(int rootfd, const char *path, bool file, int *ret_fd, berr *err)
{
	char parent[PATH_MAX];
	const char *base;
	_cleanup_close_ int pfd = -EBADF;
	int r;

	r = rootfs_open_in_root(rootfd, path, ret_fd, err);
	if (r != -ENOENT)
		return r;
	base = split_parent(path, parent, sizeof(parent));
	r = ensure_in_root(rootfd, parent, false, &pfd, err);
	if (r < 0)
		return r;
	if (file) {
		int fd = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
				0644);

		if (fd < 0 && errno != EEXIST)
			return berr_set(err, errno, "create %s in the container root", path);
		if (fd >= 0)
			close(fd);
	} else if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST) {
		return berr_set(err, errno, "create %s in the container root", path);
	}
	return rootfs_open_in_root(rootfd, path, ret_fd, err);
}

static void fd_path(char buf[FD_PATH_MAX], int fd)
{
	snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

static unsigned long long ms_to_attr(unsigned long mflags)
{
	return (mflags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
	       (mflags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
	       (mflags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
	       (mflags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}

/* Clone a tree (source path, or the target itself when source is NULL) and attach it on tfd. */
static int bind_onto(const char *source, int tfd, unsigned long long attrs, bool recursive)
{
	_cleanup_close_ int tree = -EBADF;
	unsigned int rec = recursive ? AT_RECURSIVE : 0;

	if (source)
		tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	else
		tree = open_tree(tfd, "",
				 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
	if (tree < 0)
		return -errno;
	if (attrs) {
		struct mount_attr attr = {.attr_set = attrs};

		if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
			return -errno;
	}
	if (move_mount(tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

static int apply_fs(const mount_entry *e, int tfd)
{
	char target[FD_PATH_MAX];

	fd_path(target, tfd);
	return mount(e->source, target, e->fstype, e->mflags, e->data) < 0 ? -errno : 0;
}

static int apply_mask(int tfd)
{
	struct stat st;
	char target[FD_PATH_MAX];

	if (fstat(tfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return bind_onto("/dev/null", tfd,
				 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
	fd_path(target, tfd);
	return mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=555") < 0
		       ? -errno
		       : 0;
}

static int apply_symlink(const mount_entry *e, int rootfd, berr *err)
{
	char parent[PATH_MAX];
	const char *base = split_parent(e->target, parent, sizeof(parent));
	_cleanup_close_ int pfd = -EBADF;
	int r = rootfs_open_in_root(rootfd, parent, &pfd, err);

	if (r < 0)
		return r;
	if (symlinkat(e->source, pfd, base) < 0)
		return berr_set(err, errno, "symlink %s -> %s", e->target, e->source);
	return 0;
}

static int apply_devnode(const mount_entry *e, int rootfd, bool userns, berr *err)
{
	char parent[PATH_MAX];
	const char *base = split_parent(e->target, parent, sizeof(parent));
	_cleanup_close_ int pfd = -EBADF, tfd = -EBADF;
	int r;

	if (userns) {
		r = ensure_in_root(rootfd, e->target, true, &tfd, err);
		if (r < 0)
			return r;
		r = bind_onto(e->source, tfd, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
		return r < 0 ? berr_set(err, -r, "bind %s", e->target) : 0;
	}
	r = rootfs_open_in_root(rootfd, parent, &pfd, err);
	if (r < 0)
		return r;
	if (mknodat(pfd, base, e->mode, e->dev) < 0 || fchmodat(pfd, base, e->mode & 07777, 0) < 0)
		return berr_set(err, errno, "mknod %s", e->target);
	return 0;
}

static int apply_entry(const mount_entry *e, int rootfd, bool userns, berr *err)
{
	_cleanup_close_ int tfd = -EBADF;
	bool optional = e->flags & MOUNT_OPTIONAL;
	int r;

	if (e->kind == MOUNT_SYMLINK)
		return apply_symlink(e, rootfd, err);
	if (e->kind == MOUNT_DEVNODE)
		return apply_devnode(e, rootfd, userns, err);
	/* Optional targets live on pseudo file systems: never create them. */
	r = optional ? rootfs_open_in_root(rootfd, e->target, &tfd, err)
		     : ensure_in_root(rootfd, e->target, e->flags & MOUNT_FILE, &tfd, err);
	if (r < 0)
		return r;
	switch (e->kind) {
	case MOUNT_FS:
		r = apply_fs(e, tfd);
		break;
	case MOUNT_BIND:
		r = bind_onto(e->source, tfd, ms_to_attr(e->mflags), true);
		break;
	case MOUNT_MASK:
		r = apply_mask(tfd);
		break;
	case MOUNT_READONLY:
		r = bind_onto(NULL, tfd, MOUNT_ATTR_RDONLY, true);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		return berr_set(err, -r, "mount %s%s%s", e->fstype ? e->fstype : "",
				e->fstype ? " on " : "", e->target);
	return 0;
}

int rootfs_mount_plan_apply(const mount_plan *plan, int rootfd, bool userns, berr *err)
{
	for (size_t i = 0; i < plan->n; i++) {
		const mount_entry *e = &plan->v[i];
		int r = apply_entry(e, rootfd, userns, err);

		if (r == -ENOENT && (e->flags & MOUNT_OPTIONAL))
			continue;
		if (r < 0)
			return r;
	}
	return 0;
}
