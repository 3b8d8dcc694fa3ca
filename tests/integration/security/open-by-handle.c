/* SPDX-License-Identifier: MIT */
/*
 * The "shocker" escape: open_by_handle_at reaches a file by its inode handle,
 * around the mount namespace and the root. First with a real handle of the
 * instance's own / (from name_to_handle_at), then with a forged ext4 handle
 * for inode 2, the root directory of the host's disk. Refused by seccomp
 * (EPERM) before the kernel's CAP_DAC_READ_SEARCH check.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

int main(void)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h = {.fh.handle_bytes = MAX_HANDLE_SZ};
	int mount_id, mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (name_to_handle_at(AT_FDCWD, "/etc", &h.fh, &mount_id, 0) == 0)
		atk_step("open_by_handle_at own handle",
			 syscall(SYS_open_by_handle_at, mfd, &h.fh, O_RDONLY));
	else
		atk_say("open_by_handle_at own handle", "no handle (name_to_handle_at refused)");
	/* ext4's FILEID_INO32_GEN: inode 2, generation 0. */
	h.fh.handle_bytes = 8;
	h.fh.handle_type = 1;
	memset(h.fh.f_handle, 0, 8);
	h.fh.f_handle[0] = 2;
	atk_step("open_by_handle_at forged inode 2",
		 syscall(SYS_open_by_handle_at, mfd, &h.fh, O_RDONLY));
	return 0;
}
