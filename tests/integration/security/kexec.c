/* SPDX-License-Identifier: MIT */
/* Replace the host's kernel: kexec_load and kexec_file_load, refused by seccomp (EPERM). */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

int main(void)
{
	int fd = open("/bin/busybox", O_RDONLY | O_CLOEXEC);

	atk_step("kexec_load", syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL));
	atk_step("kexec_file_load", syscall(SYS_kexec_file_load, fd, fd, 1UL, "", 0UL));
	return 0;
}
