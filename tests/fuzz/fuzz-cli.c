/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the command line parsers that act on nothing:
 * cli_global_parse (options before the verb), cli_run_parse (`berth run`,
 * every option but the command) and cli_signal_parse (`berth kill NAME SIG`).
 * The input is split at NUL bytes into argv. The other verbs parse and act in
 * one function (see docs/SECURITY.md, Fuzzing): they are not reachable here
 * without running them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[ARGS_MAX + 2];
	int argc = 1, sig;
	global_opts g;
	run_opts r;
	berr err = {0};

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = (char *)"run";
	for (size_t i = 0; i <= size && argc <= ARGS_MAX; i++) {
		if (i == 0 || buf[i - 1] == '\0')
			argv[argc++] = buf + i;
		if (i == size)
			break;
	}
	argv[argc] = NULL;
	(void)cli_global_parse(argc, argv, &g, &err);
	memset(&r, 0, sizeof(r));
	if (cli_run_parse(argc, argv, &r, &err) >= 0)
		run_opts_free(&r);
	(void)cli_signal_parse(argv[1], &sig);
	free(buf);
	return 0;
}
