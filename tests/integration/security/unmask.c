/* SPDX-License-Identifier: MIT */
/*
 * Remove berth's masks and read what they hide. The masks (an empty file or
 * tmpfs bound over /proc/timer_list, /sys/firmware, ...) are made in the
 * instance's own mount namespace, so they are not locked: in a mount namespace
 * of its own, root inside can unmount them. For each MOUNT:FILE pair this
 * unmounts MOUNT and reads FILE under it. What must stop the read then is the
 * file's owner: host root, whom the instance does not map (EACCES). Only
 * reads are attempted.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	char step[600], buf[64];

	if (atk_step("unshare -m", unshare(CLONE_NEWNS)) < 0)
		return 0;
	mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	for (int i = 1; i < argc; i++) {
		char *file = strchr(argv[i], ':');
		int fd;

		if (!file)
			return 2;
		*file++ = '\0';
		snprintf(step, sizeof(step), "umount %s", argv[i]);
		atk_step(step, umount2(argv[i], MNT_DETACH));
		snprintf(step, sizeof(step), "read %s", file);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			atk_step(step, -1);
			continue;
		}
		if (read(fd, buf, sizeof(buf)) < 0)
			atk_step(step, -1);
		else
			atk_say(step, "readable");
		close(fd);
	}
	return 0;
}
