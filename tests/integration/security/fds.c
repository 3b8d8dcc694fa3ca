/* SPDX-License-Identifier: MIT */
/*
 * What of the host a process inside holds: its open fds (a leaked one is the
 * door of CVE-2024-21626), its cwd and its root. Prints the fd numbers, how
 * many fds above 2 answer F_GETFD (0 expected), and where cwd and root point.
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "atk.h"

int main(void)
{
	char buf[4096];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self = d ? dirfd(d) : -1, extra = 0;
	ssize_t n;

	printf("fds:");
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != self)
			printf(" %s", de->d_name);
	printf("\n");
	for (int fd = 3; fd < 65536; fd++)
		if (fd != self && fcntl(fd, F_GETFD) >= 0)
			extra++;
	printf("other fds answering F_GETFD: %d\n", extra);
	if (d)
		closedir(d);
	n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
	printf("cwd: %.*s\n", n < 0 ? 1 : (int)n, n < 0 ? "?" : buf);
	n = readlink("/proc/self/root", buf, sizeof(buf) - 1);
	printf("root: %.*s\n", n < 0 ? 1 : (int)n, n < 0 ? "?" : buf);
	return 0;
}
