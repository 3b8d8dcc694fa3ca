/* SPDX-License-Identifier: MIT */
/*
 * mknod the host's disk (MAJOR MINOR from the driver) and /dev/mem (1:1). The
 * kernel refuses device nodes to anyone without CAP_MKNOD in the initial user
 * namespace: EPERM. A FIFO, which needs no privilege, still works.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mknod-disk MAJOR MINOR\n");
		return 2;
	}
	unlink("/tmp/atk-disk");
	unlink("/tmp/atk-mem");
	unlink("/tmp/atk-fifo");
	atk_step("mknod block disk",
		 mknod("/tmp/atk-disk", S_IFBLK | 0600, makedev(atoi(argv[1]), atoi(argv[2]))));
	atk_step("mknod char mem", mknod("/tmp/atk-mem", S_IFCHR | 0600, makedev(1, 1)));
	atk_step("mknod fifo", mknod("/tmp/atk-fifo", S_IFIFO | 0600, 0));
	unlink("/tmp/atk-fifo");
	return 0;
}
