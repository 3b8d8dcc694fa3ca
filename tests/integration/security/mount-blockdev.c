/* SPDX-License-Identifier: MIT */
/*
 * Mount the host's block device (the driver passes its path and type, e.g.
 * /dev/vda ext4) read-only. A user namespace may only mount file systems
 * marked FS_USERNS_MOUNT, and no disk file system is: EPERM, before the
 * kernel even looks at the source. The device is not in the instance's /dev
 * either (ENOENT would be the wrong reason: the check is the EPERM).
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "atk.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mount-blockdev DEVICE FSTYPE\n");
		return 2;
	}
	mkdir("/tmp/atk-mnt", 0700);
	atk_step("mount device", mount(argv[1], "/tmp/atk-mnt", argv[2], MS_RDONLY, NULL));
	/* Through a device node of our own making: mknod itself is the wall (see mknod-disk). */
	atk_step("mount /dev/null as the disk",
		 mount("/dev/null", "/tmp/atk-mnt", argv[2], MS_RDONLY, NULL));
	return 0;
}
