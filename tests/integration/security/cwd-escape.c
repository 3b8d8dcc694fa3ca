/* SPDX-License-Identifier: MIT */
/*
 * Walk out of the instance from the working directory berth gave the process
 * (a host directory leaked as cwd is CVE-2024-21626): getcwd, then ".." many
 * times, then look for HOST_MARKER (a file the driver made on the host, by a
 * path relative to the host's /) and for /etc/berth-sec-instance (the
 * instance's own marker). Contained: getcwd is a path inside, the host marker
 * is ENOENT and the walk ends at the instance's own root.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "atk.h"

int main(int argc, char **argv)
{
	char cwd[4096];
	struct stat st;

	if (argc != 2) {
		fprintf(stderr, "usage: cwd-escape HOST_MARKER\n");
		return 2;
	}
	if (getcwd(cwd, sizeof(cwd)))
		printf("getcwd: %s\n", cwd[0] == '/' ? "inside" : "ESCAPED (not under the root)");
	else
		atk_step("getcwd", -1); /* ENOENT: the cwd is not reachable from the root */
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	/* Relative lookups: they start from wherever the walk ended. */
	atk_step("host marker after the walk", stat(argv[1] + 1, &st));
	atk_step("instance marker after the walk", stat("etc/berth-sec-instance", &st));
	return 0;
}
