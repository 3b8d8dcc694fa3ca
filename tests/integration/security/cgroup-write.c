/* SPDX-License-Identifier: MIT */
/*
 * Write the host's cgroup files through /sys/fs/cgroup. The instance's cgroup
 * namespace makes its own cgroup the root of what it sees, so the host's tree
 * is not there to name: ".." from /sys/fs/cgroup is /sys/fs, and a fresh
 * cgroup2 mount shows the same root. The files of that root that set the
 * instance's own limits and state (cgroup.freeze, cgroup.kill,
 * cgroup.max.depth, hugetlb limits) belong to host root: opening them for
 * writing is EACCES. Only the open is attempted, never a write (writing
 * cgroup.kill would kill the instance if the check failed).
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atk.h"

static void try_open(const char *dir, const char *file)
{
	char path[512], step[600];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(step, sizeof(step), "open %s for writing", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		atk_say(step, "ESCAPED (opened for writing; nothing written)");
		close(fd);
		return;
	}
	atk_step(step, -1);
}

int main(void)
{
	static const char *const files[] = {"cgroup.freeze", "cgroup.kill", "cgroup.max.depth",
					    "cgroup.max.descendants"};
	struct stat a, b;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		try_open("/sys/fs/cgroup", files[i]);
	if (stat("/sys/fs/cgroup/..", &a) == 0 && stat("/sys/fs", &b) == 0)
		atk_say("/sys/fs/cgroup/.. is", a.st_ino == b.st_ino && a.st_dev == b.st_dev
							? "/sys/fs"
							: "ESCAPED (elsewhere)");
	mkdir("/tmp/atk-cg2", 0700);
	if (atk_step("mount a fresh cgroup2",
		     mount("cgroup2", "/tmp/atk-cg2", "cgroup2", MS_RDONLY, NULL)) == 0) {
		/* Same root as /sys/fs/cgroup: the namespace root, the instance's own cgroup. */
		if (stat("/tmp/atk-cg2/cgroup.procs", &a) == 0 &&
		    stat("/sys/fs/cgroup/cgroup.procs", &b) == 0)
			atk_say("fresh cgroup2 root is", a.st_ino == b.st_ino
								 ? "the instance's own cgroup"
								 : "ESCAPED (another cgroup)");
		umount2("/tmp/atk-cg2", MNT_DETACH);
	}
	return 0;
}
