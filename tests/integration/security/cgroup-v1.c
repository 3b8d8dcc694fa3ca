/* SPDX-License-Identifier: MIT */
/*
 * The hybrid-host question: can root inside mount the host's cgroup v1
 * hierarchy CONTROLLER (e.g. memory)? Built detached with the new mount API
 * (fsopen, fsmount with MOUNT_ATTR_RDONLY) and never attached anywhere, then
 * closed at once: nothing of the machine's v1 tree is changed, whatever
 * happens. Prints whether the mount was refused, and if not, whether the
 * host's files can be opened for writing (refused: they belong to host root;
 * only the open is tried, never a write). Then asks for a new named v1
 * hierarchy, which the kernel allows only in the initial cgroup namespace:
 * EPERM.
 */
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

static int fs_open(const char *fs) { return (int)syscall(SYS_fsopen, fs, FSOPEN_CLOEXEC); }
static int fs_config(int fd, unsigned cmd, const char *key, const char *val)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, val, 0);
}

int main(int argc, char **argv)
{
	int fs, mnt, fd;
	char buf[256];
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: cgroup-v1 CONTROLLER\n");
		return 2;
	}
	fs = fs_open("cgroup");
	if (atk_step("fsopen cgroup", fs) < 0)
		return 0;
	fs_config(fs, FSCONFIG_SET_FLAG, argv[1], NULL);
	if (atk_step("mount the host's v1 hierarchy",
		     fs_config(fs, FSCONFIG_CMD_CREATE, NULL, NULL)) == 0) {
		mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
		if (atk_step("fsmount read-only, detached", mnt) == 0) {
			fd = openat(mnt, "cgroup.procs", O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
			atk_say("read its cgroup.procs", n > 0 ? "readable (host v1 tree visible)"
							 : n == 0 ? "empty"
								  : atk_errname(errno));
			if (fd >= 0)
				close(fd);
			fd = openat(mnt, "cgroup.procs", O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				atk_say("open its cgroup.procs for writing",
					"ESCAPED (opened; nothing written)");
				close(fd);
			} else {
				atk_step("open its cgroup.procs for writing", -1);
			}
			fd = openat(mnt, "release_agent", O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				atk_say("open release_agent for writing",
					"ESCAPED (opened; nothing written)");
				close(fd);
			} else {
				atk_step("open release_agent for writing", -1);
			}
			close(mnt);
		}
	}
	close(fs);
	fs = fs_open("cgroup");
	if (fs >= 0) {
		fs_config(fs, FSCONFIG_SET_FLAG, "none", NULL);
		fs_config(fs, FSCONFIG_SET_STRING, "name", "berth-sec-attack");
		atk_step("create a new named v1 hierarchy",
			 fs_config(fs, FSCONFIG_CMD_CREATE, NULL, NULL));
		close(fs);
	}
	return 0;
}
