/* SPDX-License-Identifier: MIT */
/*
 * Signal, ptrace or take a pidfd of host processes: berth's monitor and the
 * operator's shell (LABEL=PID, host pids from the driver, which makes sure no
 * process of the instance has that number inside). The PID namespace has no
 * such pid: ESRCH, and no /proc entry (ENOENT), so no /proc/PID/exe to open for
 * writing either. The parent of the process is
 * outside the namespace, so getppid() says 0.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	char step[128], path[64];
	struct stat st;

	for (int i = 1; i < argc; i++) {
		const char *label = argv[i], *eq = strchr(argv[i], '=');
		int pid;

		if (!eq)
			return 2;
		pid = atoi(eq + 1);
		snprintf(step, sizeof(step), "kill %.*s", (int)(eq - label), label);
		atk_step(step, kill(pid, SIGKILL));
		snprintf(step, sizeof(step), "ptrace %.*s", (int)(eq - label), label);
		atk_step(step, ptrace(PTRACE_ATTACH, pid, NULL, NULL));
		snprintf(step, sizeof(step), "pidfd_open %.*s", (int)(eq - label), label);
		atk_step(step, syscall(SYS_pidfd_open, pid, 0));
		snprintf(step, sizeof(step), "/proc entry %.*s", (int)(eq - label), label);
		snprintf(path, sizeof(path), "/proc/%d", pid);
		atk_step(step, stat(path, &st));
		/* The monitor's exe is the berth binary: CVE-2019-5736's door, if it were here. */
		snprintf(step, sizeof(step), "open exe for writing %.*s", (int)(eq - label), label);
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		atk_step(step, open(path, O_WRONLY | O_CLOEXEC));
	}
	printf("parent pid: %d\n", (int)getppid());
	return 0;
}
