/* SPDX-License-Identifier: MIT */
/*
 * A faithful copy of a tree with its owners moved from one id range to
 * another: what a clone needs (the source's upper layer, owned by its host
 * range, becomes the copy's, owned by the copy's range), and what a template
 * copy for a kernel without idmapped mounts needs (plain ids to one range).
 *
 * Kept: file types (directories, files, symlinks, device nodes, fifos, and
 * overlay's whiteouts, which are 0:0 character devices), modes with
 * setuid/setgid bits, timestamps, hard links, and xattrs, with the ids inside
 * them moved as well: POSIX ACLs name users and groups, and a namespaced file
 * capability (security.capability v3) names the root it belongs to.
 * Everything goes through fds (openat, O_NOFOLLOW): a symlink in the tree is
 * copied, never followed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "rootfs.h"

#define XATTR_LIST_MAX_ 65536
#define XATTR_VALUE_MAX 65536
#define ACL_USER_TAG 0x02
#define ACL_GROUP_TAG 0x08

typedef struct link_seen {
	dev_t dev;
	ino_t ino;
	int dirfd; /* the copy's directory (dup) */
	char *name;
} link_seen;

typedef struct shift_ctx {
	uint32_t from, to, count;
	link_seen *links;
	size_t n_links;
	berr *err;
} shift_ctx;

uint32_t rootfs_shift_id(uint32_t id, uint32_t from, uint32_t to, uint32_t count)
{
	if (id >= from && (uint64_t)id < (uint64_t)from + count)
		return id - from + to;
	return id;
}

/* Move the ids inside an xattr value that holds some: ACLs and v3 file capabilities. */
void rootfs_shift_xattr(const char *name, char *value, size_t len, uint32_t from, uint32_t to,
			uint32_t count)
{
	if (str_eq(name, "system.posix_acl_access") || str_eq(name, "system.posix_acl_default")) {
		/* A u32 version, then entries {u16 tag, u16 perm, u32 id}, all little endian. */
		for (size_t off = 4; off + 8 <= len; off += 8) {
			uint16_t tag;
			uint32_t id;

			memcpy(&tag, value + off, 2);
			memcpy(&id, value + off + 4, 4);
			if (tag == ACL_USER_TAG || tag == ACL_GROUP_TAG) {
				id = rootfs_shift_id(id, from, to, count);
				memcpy(value + off + 4, &id, 4);
			}
		}
	} else if (str_eq(name, "security.capability") && len == sizeof(struct vfs_ns_cap_data)) {
		struct vfs_ns_cap_data cap;

		memcpy(&cap, value, sizeof(cap));
		if ((cap.magic_etc & VFS_CAP_REVISION_MASK) == VFS_CAP_REVISION_3) {
			cap.rootid = rootfs_shift_id(cap.rootid, from, to, count);
			memcpy(value, &cap, sizeof(cap));
		}
	}
}

static int copy_xattrs(shift_ctx *c, int src, int dst, const char *what)
{
	_cleanup_free_ char *names = malloc(XATTR_LIST_MAX_), *value = malloc(XATTR_VALUE_MAX);
	char sp[64], dp[64];
	ssize_t n;

	if (!names || !value)
		return berr_set(c->err, ENOMEM, "xattrs of %s", what);
	/*
	 * The fds are O_PATH (devices must not be opened): xattr calls go through
	 * their /proc/self/fd link, which leads to the inode itself.
	 */
	snprintf(sp, sizeof(sp), "/proc/self/fd/%d", src);
	snprintf(dp, sizeof(dp), "/proc/self/fd/%d", dst);
	n = listxattr(sp, names, XATTR_LIST_MAX_);
	if (n < 0 && (errno == ENOTSUP || errno == EPERM))
		return 0;
	if (n < 0)
		return berr_set(c->err, errno, "list xattrs of %s", what);
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t len = getxattr(sp, name, value, XATTR_VALUE_MAX);

		if (len < 0)
			return berr_set(c->err, errno, "read xattr %s of %s", name, what);
		rootfs_shift_xattr(name, value, (size_t)len, c->from, c->to, c->count);
		if (setxattr(dp, name, value, (size_t)len, 0) < 0)
			return berr_set(c->err, errno, "write xattr %s of %s", name, what);
	}
	return 0;
}

/* Owner, mode, xattrs and times of dst from st (in that order: chown clears setuid). */
static int copy_meta(shift_ctx *c, int dst, const struct stat *st, int src, const char *what)
{
	char dp[64];
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	uid_t uid = rootfs_shift_id(st->st_uid, c->from, c->to, c->count);
	gid_t gid = rootfs_shift_id(st->st_gid, c->from, c->to, c->count);

	snprintf(dp, sizeof(dp), "/proc/self/fd/%d", dst);
	if (fchownat(dst, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(c->err, errno, "chown %s", what);
	/* A symlink has no mode, and no xattrs worth keeping (user.* cannot be set on one). */
	if (!S_ISLNK(st->st_mode) && chmod(dp, st->st_mode & 07777) < 0)
		return berr_set(c->err, errno, "chmod %s", what);
	if (!S_ISLNK(st->st_mode) && copy_xattrs(c, src, dst, what) < 0)
		return -c->err->code;
	if (utimensat(dst, "", ts, AT_EMPTY_PATH) < 0 && errno != EINVAL)
		return berr_set(c->err, errno, "set times of %s", what);
	return 0;
}

static int copy_dir(shift_ctx *c, int src, int dst, const char *what);

/* A second name of an inode already copied: link to the copy. 1: done, 0: first time. */
static int hard_link(shift_ctx *c, const struct stat *st, int dstdir, const char *name)
{
	link_seen *v;

	if (S_ISDIR(st->st_mode) || st->st_nlink < 2)
		return 0;
	for (size_t i = 0; i < c->n_links; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return linkat(c->links[i].dirfd, c->links[i].name, dstdir, name, 0) < 0
				       ? berr_set(c->err, errno, "link %s", name)
				       : 1;
	v = realloc(c->links, (c->n_links + 1) * sizeof(*v));
	if (!v)
		return berr_set(c->err, ENOMEM, "hard links");
	c->links = v;
	v[c->n_links] = (link_seen){st->st_dev, st->st_ino, fcntl(dstdir, F_DUPFD_CLOEXEC, 3),
				    strdup(name)};
	if (v[c->n_links].dirfd < 0 || !v[c->n_links].name)
		return berr_set(c->err, ENOMEM, "hard links");
	c->n_links++;
	return 0;
}

static int make_node(shift_ctx *c, int src, int dstdir, const char *name, const struct stat *st)
{
	char target[4096];
	ssize_t n;

	switch (st->st_mode & S_IFMT) {
	case S_IFDIR: /* an existing one (lost+found on a fresh disk image) is reused */
		return mkdirat(dstdir, name, 0700) < 0 && errno != EEXIST ? -1 : 0;
	case S_IFREG:
		return copy_file_at(src, name, dstdir, name, 0600) < 0 ? -1 : 0;
	case S_IFLNK:
		n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlinkat(target, dstdir, name);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		return mknodat(dstdir, name, st->st_mode & S_IFMT, st->st_rdev);
	default:
		(void)c;
		errno = 0; /* sockets: nothing to copy, they are made anew by whoever listens */
		return 1;
	}
}

static int copy_entry(shift_ctx *c, int src, int dst, const char *name, const char *what)
{
	_cleanup_close_ int s = -EBADF, d = -EBADF;
	struct stat st;
	int r;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_set(c->err, errno, "stat %s/%s", what, name);
	r = hard_link(c, &st, dst, name);
	if (r != 0)
		return r < 0 ? r : 0;
	errno = 0;
	r = make_node(c, src, dst, name, &st);
	if (r == 1)
		return 0;
	if (r < 0)
		return berr_set(c->err, errno ? errno : EIO, "copy %s/%s", what, name);
	s = openat(src, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	d = openat(dst, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (s < 0 || d < 0)
		return berr_set(c->err, errno, "open %s/%s", what, name);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_free_ char *sub = str_printf("%s/%s", what, name);
		_cleanup_close_ int sd =
			openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int dd =
			openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (!sub || sd < 0 || dd < 0)
			return berr_set(c->err, sub ? errno : ENOMEM, "open %s/%s", what, name);
		r = copy_dir(c, sd, dd, sub);
		if (r < 0)
			return r;
	}
	return copy_meta(c, d, &st, s, name);
}

static int copy_dir(shift_ctx *c, int src, int dst, const char *what)
{
	int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int r = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return berr_set(c->err, errno, "read %s", what);
	}
	while (r >= 0 && (errno = 0, de = readdir(d)))
		if (!str_eq(de->d_name, ".") && !str_eq(de->d_name, ".."))
			r = copy_entry(c, src, dst, de->d_name, what);
	if (r >= 0 && errno)
		r = berr_set(c->err, errno, "read %s", what);
	closedir(d);
	return r;
}

int rootfs_copy_shifted(int src_dirfd, int dst_dirfd, uint32_t from, uint32_t to, uint32_t count,
			berr *err)
{
	shift_ctx c = {.from = from, .to = to, .count = count, .err = err};
	struct stat st;
	int r;

	if (fstat(src_dirfd, &st) < 0)
		return berr_set(err, errno, "stat the source tree");
	r = copy_dir(&c, src_dirfd, dst_dirfd, ".");
	if (r >= 0)
		r = copy_meta(&c, dst_dirfd, &st, src_dirfd, "the top directory");
	for (size_t i = 0; i < c.n_links; i++) {
		close(c.links[i].dirfd);
		free(c.links[i].name);
	}
	free(c.links);
	return r;
}
