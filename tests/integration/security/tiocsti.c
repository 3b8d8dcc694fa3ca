/* SPDX-License-Identifier: MIT */
/*
 * Type into the operator's terminal: TIOCSTI pushes bytes into a terminal's
 * input queue, so a process holding the operator's terminal could make the
 * operator's shell run a command once berth exits. Tried on fds 0-2 and
 * /dev/tty, and with high bits set in the request (the kernel reads it as 32
 * bits), then TIOCLINUX (selection paste on a virtual console). The seccomp
 * filter refuses both: EPERM. (Without it: EIO or ENOTTY, depending on the
 * terminal, or success.)
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

int main(void)
{
	const char *inject = "echo INJECTED-BY-BERTH-SEC\n";
	char step[64];
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	char paste[2] = {3, 0}; /* TIOCL_PASTESEL */

	for (int fd = 0; fd < 3; fd++) {
		snprintf(step, sizeof(step), "TIOCSTI fd %d", fd);
		atk_step(step, ioctl(fd, TIOCSTI, inject));
	}
	if (tty >= 0)
		atk_step("TIOCSTI /dev/tty", ioctl(tty, TIOCSTI, inject));
	else
		atk_step("open /dev/tty", -1);
	atk_step("TIOCSTI high bits", syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, inject));
	atk_step("TIOCLINUX paste", ioctl(0, TIOCLINUX, paste));
	return 0;
}
