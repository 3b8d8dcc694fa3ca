/* SPDX-License-Identifier: MIT */
/* The container's root: an idmapped lower layer, an overlay with a throwaway upper, pivot_root. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "rootfs.h"

int rootfs_open_lower(const char *dir, int userns_fd, int *ret_fd, berr *err)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (stat(dir, &st) < 0)
		return berr_set(err, errno, "root file system %s", dir);
	if (!S_ISDIR(st.st_mode))
		return berr_setx(err, ENOTDIR, "root file system %s is not a directory", dir);
	fd = open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return berr_set(err, errno, "clone mount of %s", dir);
	if (userns_fd >= 0) {
		/* Files owned by host uid N appear as uid N inside: nothing is chowned. */
		struct mount_attr attr = {
			.attr_set = MOUNT_ATTR_IDMAP,
			.userns_fd = (uint64_t)userns_fd,
		};

		if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
			int e = errno;

			if (e == EINVAL || e == EOPNOTSUPP)
				return berr_setx(
					err, e,
					"idmapped mount of %s: its file system does not support "
					"idmapped mounts on this kernel (ext4, xfs and btrfs do; "
					"tmpfs only from Linux 6.3): keep templates and instances "
					"there, or run with --userns=host",
					dir);
			return berr_set(err, e, "idmapped mount of %s", dir);
		}
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

bool rootfs_tmpfs_has_user_xattrs(void)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC), mnt = -EBADF, f = -EBADF;

	/* Detached: nothing is ever visible on the host, and it is gone with the fds. */
	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return false;
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return false;
	f = openat(mnt, "probe", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	return f >= 0 && fsetxattr(f, "user.berth.probe", "1", 1, 0) == 0;
}

/* A fresh tmpfs, detached, with the directories the overlay needs. */
static int stage_tmpfs(int *ret_fd, berr *err)
{
	static const char *const dirs[] = {"lower", "upper", "work", "root"};
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	int mnt;

	if (fs < 0)
		return berr_set(err, errno, "staging tmpfs: fsopen");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "755", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return berr_set(err, errno, "staging tmpfs: create");
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mnt < 0)
		return berr_set(err, errno, "staging tmpfs: fsmount");
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdirat(mnt, dirs[i], 0755) < 0) {
			int e = errno;

			close(mnt);
			return berr_set(err, e, "staging tmpfs: mkdir %s", dirs[i]);
		}
	*ret_fd = mnt;
	return 0;
}

int rootfs_overlay_root(int stage_fd, int lower_fd, int rw_fd, bool userns, int *ret_rootfd,
			berr *err)
{
	_cleanup_close_ int stage = -EBADF;
	char opts[256], target[64];
	int r, fd;

	/* Nothing mounted from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return berr_set(err, errno, "make mounts private");
	/* The upper lives in memory charged to the container and dies with its mount namespace. */
	r = stage_tmpfs(&stage, err);
	if (r < 0)
		return r;
	if (move_mount(stage, "", stage_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return berr_set(err, errno, "attach the staging tmpfs");
	if (move_mount(lower_fd, "", stage, "lower", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return berr_set(err, errno, "attach the lower layer");
	/* Inside a user namespace overlay must keep its metadata in user.* xattrs. */
	snprintf(opts, sizeof(opts),
		 "lowerdir=/proc/self/fd/%d/lower,upperdir=/proc/self/fd/%d/upper,"
		 "workdir=/proc/self/fd/%d/work%s",
		 stage, rw_fd >= 0 ? rw_fd : stage, rw_fd >= 0 ? rw_fd : stage,
		 userns ? ",userxattr" : "");
	snprintf(target, sizeof(target), "/proc/self/fd/%d/root", stage);
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		return berr_set(err, errno, "mount the overlay root");
	fd = openat(stage, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, errno, "open the overlay root");
	*ret_rootfd = fd;
	return 0;
}

int rootfs_pivot(int rootfd, berr *err)
{
	if (fchdir(rootfd) < 0)
		return berr_set(err, errno, "enter the new root");
	/* pivot_root(".", ".") stacks the old root on the new one; detaching "." removes it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return berr_set(err, errno, "pivot_root into the new root");
	if (umount2(".", MNT_DETACH) < 0)
		return berr_set(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return berr_set(err, errno, "chdir /");
	return 0;
}
