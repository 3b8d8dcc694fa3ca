/* SPDX-License-Identifier: MIT */
/*
 * Disk limits, image backend: the instance's writable layer (rw/, holding
 * overlay's upper and work) is an ext4 file system of its own, a sparse image
 * file (<lib>/instances/NAME/disk.img) on a loop device. Overlay's statfs is
 * the upper's, so `df /` inside shows the image's size, and a write past it
 * fails with ENOSPC for that instance alone.
 *
 * The image is mounted on rw/ in the caller's mount namespace (the monitor's,
 * from start until it exits; create, clone and set for a moment), with a loop
 * device set to clear itself (LO_FLAGS_AUTOCLEAR) once the file system is
 * gone: an unmount is the whole teardown, and a crashed monitor leaves a
 * mount that the next start reuses and delete removes.
 *
 * mkfs.ext4, e2fsck and resize2fs (e2fsprogs) are spawned: they are the
 * tools that make and grow ext4, and nothing else in berth needs them.
 */
#include <fcntl.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "runtime-internal.h"

/* Smaller than this, mkfs.ext4 has no room for its own metadata and a useful root. */
#define DISK_MIN (16ull << 20)
#define LOOP_RETRIES 16

char *disk_image_path(const char *dir) { return str_printf("%s/disk.img", dir); }

/* Run argv (an e2fsprogs tool); on failure the error holds its first line of output. */
static int spawn_tool(char *const argv[], berr *err)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	_cleanup_close_ int out = memfd_create("berth-tool", MFD_CLOEXEC);
	char buf[512] = "";
	int status;
	ssize_t n;
	pid_t pid;

	if (out < 0)
		return berr_set(err, errno, "memfd");
	pid = fork();
	if (pid < 0)
		return berr_set(err, errno, "fork %s", argv[0]);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(127);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return berr_set(err, errno, "wait for %s", argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	n = pread(out, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	log_debug("%s said: %s", argv[0], buf);
	/* e2fsprogs print a version banner first: the line naming the tool says what failed. */
	const char *line = buf;
	char key[64];

	snprintf(key, sizeof(key), "\n%s: ", argv[0]); /* they name themselves as argv[0] */
	if (strstr(buf, key))
		line = strstr(buf, key) + 1;
	memmove(buf, line, strlen(line) + 1);
	buf[strcspn(buf, "\n")] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !buf[0])
		return berr_setx(err, ENOENT, "%s not found (apt-get install e2fsprogs)", argv[0]);
	return berr_setx(err, EIO, "%s failed (status %d)%s%s", argv[0],
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			 buf[0] ? ": " : "", buf);
}

int disk_size_check(uint64_t size, berr *err)
{
	if (size < DISK_MIN)
		return berr_setx(err, EINVAL, "--disk %llu bytes is too small (at least 16M)",
				 (unsigned long long)size);
	if (size % 4096)
		return berr_setx(err, EINVAL, "--disk: use a multiple of 4K (e.g. 20G)");
	return 0;
}

int disk_image_create(const char *dir, uint64_t size, uid_t owner, berr *err)
{
	_cleanup_free_ char *img = disk_image_path(dir);
	char root_owner[128], size_k[32];
	int fd, r;

	if (!img)
		return berr_set(err, ENOMEM, "paths");
	r = disk_size_check(size, err);
	if (r < 0)
		return r;
	fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_set(err, errno, "create %s", img);
	/* Sparse: blocks are used as the instance writes, not now. */
	r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return berr_set(err, -r, "size %s", img);
	snprintf(root_owner, sizeof(root_owner),
		 "root_owner=%u:%u,nodiscard,lazy_itable_init=1,lazy_journal_init=1",
		 (unsigned)owner, (unsigned)owner);
	snprintf(size_k, sizeof(size_k), "%lluk", (unsigned long long)(size >> 10));
	/*
	 * So that `df /` inside shows close to the size bought: -m 0, no blocks
	 * reserved for host root (it never writes there); one inode per 32K (1%
	 * of the disk instead of 1.6%); a 4 MiB journal below 1G. The image is
	 * sparse, so unwritten blocks read as zeros: inode tables and journal need
	 * no zeroing (lazy_*_init, and noinit_itable at mount): a new image
	 * holds its bitmaps and descriptors only (0.8 MiB for 1G, 4.4 MiB for 20G).
	 */
	char *argv[] = {"/usr/sbin/mkfs.ext4",
			"-q",
			"-F",
			"-m",
			"0",
			"-b",
			"4096",
			"-i",
			"32768",
			"-E",
			root_owner,
			"-L",
			"berth-rw",
			"-J",
			"size=4",
			img,
			size_k,
			NULL};

	if (size >= (1ull << 30)) /* the default journal: under 1% of a disk this size */
		argv[13] = "-O", argv[14] = "has_journal";
	r = spawn_tool(argv, err);
	if (r < 0) {
		unlink(img);
		berr_prefix(err, "make the disk image");
	}
	return r;
}

/* Is rw a mount point of its own (the image mounted there)? */
static int is_mounted(const char *rw)
{
	struct statx a, b;
	_cleanup_free_ char *parent = str_printf("%s/..", rw);

	if (!parent)
		return -ENOMEM;
	if (statx(AT_FDCWD, rw, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &a) < 0 ||
	    statx(AT_FDCWD, parent, 0, STATX_BASIC_STATS, &b) < 0)
		return -errno;
	if (a.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return !!(a.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor;
}

/* A free loop device bound to img (read-write, clearing itself when unused). */
static int loop_attach(const char *img, int *ret_fd, int *ret_nr, berr *err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC),
			    imgfd = open(img, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct loop_config cfg = {0};

	if (ctl < 0)
		return berr_set(err, errno, "open /dev/loop-control (modprobe loop)");
	if (imgfd < 0)
		return berr_set(err, errno, "open %s", img);
	cfg.fd = (uint32_t)imgfd;
	cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", img);
	/* Another process may take the free device between GET_FREE and CONFIGURE: try again. */
	for (int i = 0; i < LOOP_RETRIES; i++) {
		char dev[32];
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE), fd;

		if (nr < 0)
			return berr_set(err, errno, "find a free loop device");
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return berr_set(err, errno, "open %s", dev);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			*ret_fd = fd;
			*ret_nr = nr;
			return 0;
		}
		int e = errno;
		close(fd);
		if (e != EBUSY)
			return berr_set(err, e, "attach %s to %s", img, dev);
	}
	return berr_setx(err, EBUSY, "attach %s: every free loop device was taken meanwhile", img);
}

int disk_mount(const char *dir, const char *rw, berr *err)
{
	_cleanup_free_ char *img = disk_image_path(dir);
	_cleanup_close_ int loop = -EBADF;
	char dev[32];
	int nr = -1, r = is_mounted(rw);

	if (!img)
		return berr_set(err, ENOMEM, "paths");
	if (r < 0)
		return berr_set(err, -r, "stat %s", rw);
	if (r == 1)
		return 0; /* left mounted by a monitor that died: the same image */
	r = loop_attach(img, &loop, &nr, err);
	if (r < 0)
		return r;
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	/* Our fd is the device's only user until the mount: closing it on failure clears it. */
	if (mount(dev, rw, "ext4", MS_NOSUID | MS_NODEV, "errors=remount-ro,noinit_itable") < 0)
		return berr_set(err, errno, "mount %s (%s) on %s", img, dev, rw);
	return 0;
}

int disk_umount(const char *rw, berr *err)
{
	int r = is_mounted(rw);

	if (r == -ENOENT || r == 0)
		return 0;
	if (r < 0)
		return berr_set(err, -r, "stat %s", rw);
	/* Busy (a container being set up still holds a copy): detach; it goes with the last user. */
	if (umount2(rw, UMOUNT_NOFOLLOW) < 0 && umount2(rw, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
		return berr_set(err, errno, "unmount %s", rw);
	return 0;
}

int disk_usage(const char *dir, const char *rw, uint64_t *ret_used, bool *ret_live)
{
	_cleanup_free_ char *img = disk_image_path(dir);
	struct statfs sf;
	struct stat st;

	*ret_live = false;
	if (!img)
		return -ENOMEM;
	if (is_mounted(rw) == 1 && statfs(rw, &sf) == 0) {
		*ret_used = (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
		*ret_live = true;
		return 0;
	}
	/* Not mounted: the blocks the sparse image holds on the store (metadata included). */
	if (stat(img, &st) < 0)
		return -errno;
	*ret_used = (uint64_t)st.st_blocks * 512;
	return 0;
}

/* The loop device under a mounted rw/ ("/dev/loopN"). */
static int mounted_loop(const char *rw, char *dev, size_t size, berr *err)
{
	struct stat st;

	if (stat(rw, &st) < 0)
		return berr_set(err, errno, "stat %s", rw);
	if (major(st.st_dev) != 7)
		return berr_setx(err, ENODEV, "%s is not on a loop device", rw);
	snprintf(dev, size, "/dev/loop%u", minor(st.st_dev));
	return 0;
}

static int loop_set_capacity(const char *dev, berr *err)
{
	_cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, LOOP_SET_CAPACITY, 0) < 0)
		return berr_set(err, errno, "resize %s", dev);
	return 0;
}

int disk_grow(const char *dir, const char *rw, uint64_t size, berr *err)
{
	_cleanup_free_ char *img = disk_image_path(dir);
	char size_k[32], dev[32];
	struct stat st;
	int r;

	if (!img)
		return berr_set(err, ENOMEM, "paths");
	if ((r = disk_size_check(size, err)) < 0)
		return r;
	if (stat(img, &st) < 0)
		return berr_set(err, errno, "stat %s", img);
	if (size < (uint64_t)st.st_size)
		return berr_setx(err, EINVAL,
				 "--disk: shrinking a disk (%llu to %llu bytes) is not supported "
				 "(ext4 cannot shrink while mounted; give a size >= the current)",
				 (unsigned long long)st.st_size, (unsigned long long)size);
	if (size == (uint64_t)st.st_size)
		return 0;
	if (truncate(img, (off_t)size) < 0)
		return berr_set(err, errno, "grow %s", img);
	snprintf(size_k, sizeof(size_k), "%lluk", (unsigned long long)(size >> 10));
	r = is_mounted(rw);
	if (r == 1) {
		/* Online: tell the loop device, then ext4 grows while in use. */
		r = mounted_loop(rw, dev, sizeof(dev), err);
		if (r >= 0)
			r = loop_set_capacity(dev, err);
		if (r >= 0) {
			char *argv[] = {"/usr/sbin/resize2fs", dev, size_k, NULL};
			r = spawn_tool(argv, err);
		}
		if (r < 0) {
			/* Put the file back as it was, so the config's size stays true. */
			if (truncate(img, st.st_size) == 0)
				loop_set_capacity(dev, &(berr){0});
			berr_prefix(err,
				    "grow the running instance's disk (online ext4 growth needs "
				    "CAP_SYS_RESOURCE; or stop it, set --disk, start it)");
		}
		return r;
	}
	/* Offline: resize2fs insists on a fresh check first. */
	char *fsck[] = {"/usr/sbin/e2fsck", "-f", "-p", img, NULL};
	char *argv[] = {"/usr/sbin/resize2fs", img, size_k, NULL};
	r = spawn_tool(fsck, err);
	if (r >= 0)
		r = spawn_tool(argv, err);
	return r;
}

static int op_set_disk(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	uint64_t size = *(uint64_t *)arg;
	instance_config next = *c; /* shares c's strings: never freed */
	int running = instance_running(ip, err), r = 0;

	if (running < 0)
		return running;
	if (c->disk == DISK_PROJECT) {
		/* A quota changes at once, running or not; a smaller one just stops new writes. */
		next.disk_limit = size;
		r = disk_size_check(size, err);
		if (r >= 0)
			r = quota_project_limit(ip->dir, c->map.outside, size, err);
		if (r >= 0 && (r = instance_config_save(ip->config, &next, err)) < 0)
			quota_project_limit(ip->dir, c->map.outside, c->disk_limit, &(berr){0});
		return r < 0 ? r : running;
	}
	if (c->disk != DISK_IMAGE)
		return berr_setx(err, EINVAL,
				 "%s was created without --disk; its disk cannot be limited "
				 "afterwards (berth clone does not help either: create a new "
				 "instance with --disk)",
				 c->name);
	if (size < c->disk_limit)
		return berr_setx(err, EINVAL,
				 "--disk: shrinking %s's disk from %llu to %llu bytes is not "
				 "supported (give a size >= the current)",
				 c->name, (unsigned long long)c->disk_limit,
				 (unsigned long long)size);
	/* Running: only grown online through our own view of its mount (never offline under it). */
	if (running == 1 && is_mounted(ip->rw) != 1)
		return berr_setx(err, EBUSY,
				 "%s runs but its disk is not mounted in this mount namespace: "
				 "run berth set where the instance was started",
				 c->name);
	r = disk_grow(ip->dir, ip->rw, size, err);
	if (r < 0)
		return r;
	next.disk_limit = size;
	r = instance_config_save(ip->config, &next, err);
	return r < 0 ? r : running;
}

int instance_set_disk(const berth_paths *p, const char *name, uint64_t size, berr *err)
{
	return with_instance(p, name, err, op_set_disk, &size);
}
