/* SPDX-License-Identifier: MIT */
/*
 * Read a /proc file that leaks the host (/proc/kcore, /proc/timer_list...):
 * prints how many bytes came, or the errno. The driver says which answer is
 * the right one for the file.
 */
#include <fcntl.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: proc-read FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return atk_step("read", -1), 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && total < (1 << 20))
		total += n;
	if (n < 0)
		return atk_step("read", -1), 0;
	printf("read: %ld bytes\n", total);
	return 0;
}
