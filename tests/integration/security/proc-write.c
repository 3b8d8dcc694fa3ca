/* SPDX-License-Identifier: MIT */
/*
 * Open a host-wide /proc file for writing (/proc/sys/kernel/core_pattern,
 * /proc/sysrq-trigger): first as the instance sees it, then after removing the
 * read-only bind mount over it (MOUNT, e.g. /proc/sys: the instance's own mount
 * namespace made it, so it is not locked), then in a fresh proc mount. Only the
 * open is attempted, never a write: the open is where the kernel checks
 * permission. The read-only mount says EROFS; under it, the file belongs to
 * host root, whom the instance does not map, so the answer is EACCES.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atk.h"

static void try_open(const char *step, const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		atk_say(step, "ESCAPED (opened for writing; nothing written)");
		close(fd);
		return;
	}
	atk_step(step, -1);
}

int main(int argc, char **argv)
{
	char fresh[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: proc-write FILE MOUNT\n");
		return 2;
	}
	try_open("open for writing", argv[1]);
	/* A private copy of the mount table: the instance's other processes keep theirs. */
	if (atk_step("unshare mount namespace", unshare(CLONE_NEWNS)) < 0)
		return 0;
	mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	atk_step("umount the read-only mount", umount2(argv[2], MNT_DETACH));
	try_open("open for writing under it", argv[1]);
	mkdir("/tmp/atk-proc", 0700);
	if (atk_step("mount a fresh proc", mount("proc", "/tmp/atk-proc", "proc", 0, NULL)) == 0) {
		snprintf(fresh, sizeof(fresh), "/tmp/atk-proc%s", argv[1] + 5);
		try_open("open for writing in the fresh proc", fresh);
	}
	return 0;
}
