/* SPDX-License-Identifier: MIT */
/*
 * Disk limits, project backend: when the store's file system (ext4 made with
 * -O quota,project, or xfs mounted with prjquota) enforces project quotas,
 * an instance's rw/ gets a project id of its own (its id range's base, unique
 * by construction) with the inherit flag, so that everything overlay creates
 * below it (upper, work, every file the guest writes) is charged to that
 * project, and a hard block limit on the project. ext4 and xfs report a
 * directory's project limit in statfs when it carries the inherit flag, and
 * overlay's statfs is its upper's: `df /` inside shows the limit.
 *
 * The store must enforce them: ext4 needs the quota and project features
 * (mkfs.ext4 -O quota,project) and the prjquota mount option; xfs the
 * prjquota mount option. quotactl_fd(2) (Linux 5.14) takes any fd on the file system, so no block
 * device needs to be found; this host's kernel has no CONFIG_QUOTA, so this
 * path is tested in the VM tier (tests/vm/quota.sh).
 */
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

static int quotactl_at(const char *path, unsigned int cmd, uint32_t id, void *addr)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return syscall(SYS_quotactl_fd, fd, QCMD(cmd, PRJQUOTA), id, addr) < 0 ? -errno : 0;
}

int quota_project_state(const char *dir)
{
	struct fs_quota_stat st = {0};

	if (quotactl_at(dir, Q_XGETQSTAT, 0, &st) < 0)
		return 0;
	/* ext4 counts with -O quota alone, and enforces only when mounted with prjquota. */
	if (st.qs_flags & FS_QUOTA_PDQ_ENFD)
		return 2;
	return st.qs_flags & FS_QUOTA_PDQ_ACCT ? 1 : 0;
}

int quota_project_limit(const char *dir, uint32_t projid, uint64_t bytes, berr *err)
{
	/* Block limits are in 1 KiB units; 0 lifts the limit (and so removes it). */
	struct if_dqblk d = {.dqb_bhardlimit = bytes / 1024, .dqb_valid = QIF_BLIMITS};
	int r = quotactl_at(dir, Q_SETQUOTA, projid, &d);

	return r < 0 ? berr_set(err, -r, "set the project quota %u on %s", projid, dir) : 0;
}

int quota_project_usage(const char *dir, uint32_t projid, uint64_t *ret_used)
{
	struct if_dqblk d = {0};
	int r = quotactl_at(dir, Q_GETQUOTA, projid, &d);

	if (r >= 0)
		*ret_used = d.dqb_curspace;
	return r;
}

int quota_project_assign(const char *rw, uint32_t projid, berr *err)
{
	_cleanup_close_ int fd = open(rw, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct fsxattr fa;

	if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
		return berr_set(err, errno, "read the project of %s", rw);
	fa.fsx_projid = projid;
	fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
	if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0)
		return berr_set(err, errno, "set project %u on %s", projid, rw);
	return 0;
}

int disk_backend_choose(const char *store, const char *want, const instance_config *c,
			disk_backend *ret, berr *err)
{
	int state = quota_project_state(store);
	bool can_project = c->userns && state == 2;

	if (!want || str_eq(want, "auto")) {
		*ret = can_project ? DISK_PROJECT : DISK_IMAGE;
		return 0;
	}
	if (str_eq(want, "image")) {
		*ret = DISK_IMAGE;
		return 0;
	}
	if (!str_eq(want, "project"))
		return berr_setx(err, EINVAL, "--disk-backend \"%s\": use auto, project or image",
				 want);
	if (!c->userns)
		return berr_setx(err, EINVAL,
				 "--disk-backend project needs the instance's own id range (its "
				 "project id): not with --userns=host (use --disk-backend image)");
	if (state == 1)
		return berr_setx(err, EOPNOTSUPP,
				 "--disk-backend project: the file system of %s counts project "
				 "usage but does not enforce limits: mount it with -o prjquota "
				 "(see docs/STORAGE.md), or use --disk-backend image",
				 store);
	if (!can_project)
		return berr_setx(err, EOPNOTSUPP,
				 "--disk-backend project: the file system of %s does not enforce "
				 "project quotas (make it with mkfs.ext4 -O quota,project, or "
				 "tune2fs -O quota,project while unmounted; see docs/STORAGE.md), "
				 "or use --disk-backend image",
				 store);
	*ret = DISK_PROJECT;
	return 0;
}
