/* SPDX-License-Identifier: MIT */
/*
 * Load a kernel module, both ways: init_module with an image in memory and
 * finit_module with a file. Refused by the seccomp filter with EPERM (the
 * capability check would say EPERM too; the 32-bit ABI is checked by run.sh).
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

int main(void)
{
	static char image[4096] = "\177ELF";
	int fd = open("/tmp/atk-module.ko", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, image, sizeof(image)) != sizeof(image)) {
		perror("load-module: /tmp/atk-module.ko");
		return 2;
	}
	atk_step("init_module", syscall(SYS_init_module, image, sizeof(image), ""));
	atk_step("finit_module", syscall(SYS_finit_module, fd, "", 0));
	atk_step("delete_module", syscall(SYS_delete_module, "ext4", O_NONBLOCK));
	unlink("/tmp/atk-module.ko");
	return 0;
}
