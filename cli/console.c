/* SPDX-License-Identifier: MIT */
/* berth console: attach to an instance's console, or print its log. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char console_usage[] =
	"Usage: berth console NAME [--log | --read-only]\n"
	"\n"
	"Attach this terminal to the console of a running instance: what its init and\n"
	"getty write, and a login prompt to type at. Several people may watch one console;\n"
	"the first who attaches to type gets the keyboard, later ones watch read-only until\n"
	"that one detaches.\n"
	"\n"
	"Keys (the terminal is in raw mode while attached):\n"
	"  Ctrl-a q        detach (the instance keeps running)\n"
	"  Ctrl-a Ctrl-a   type one Ctrl-a; Ctrl-a and any other key type both\n"
	"\n"
	"Typing from a pipe rather than a terminal: berth console detaches when the input\n"
	"ends. A viewer that stops reading (a stuck terminal) is disconnected by the\n"
	"instance's monitor rather than slowing the console down; the console log keeps\n"
	"everything.\n"
	"\n"
	"Options:\n"
	"  --log         print the console log (about the last 1-2 MiB of output) and\n"
	"                exit; works whether or not the instance runs\n"
	"  --read-only   watch without typing\n"
	"  -h, --help    print this help\n";

enum { O_LOG = 256, O_READ_ONLY };

int cmd_console(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"log", no_argument, NULL, O_LOG},
		{"read-only", no_argument, NULL, O_READ_ONLY},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool log = false, read_only = false;
	berth_paths p = {0};
	berr err = {0};
	const char *name = NULL;
	int c, r = 0;

	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(console_usage, stdout);
			return 0;
		}
		if (c == O_LOG)
			log = true;
		else if (c == O_READ_ONLY)
			read_only = true;
		else
			r = berr_setx(&err, EINVAL,
				      "unknown option '%s' (see berth console --help)",
				      argv[optind - 1]);
	}
	if (r >= 0 && optind >= argc)
		r = berr_setx(&err, EINVAL, "no instance name given (berth console NAME)");
	else if (r >= 0 && optind + 1 < argc)
		r = berr_setx(&err, EINVAL, "unexpected argument '%s'", argv[optind + 1]);
	if (r >= 0)
		r = instance_name_check(argv[optind], &err);
	if (r >= 0)
		name = argv[optind];
	if (r >= 0 && log && read_only)
		r = berr_setx(&err, EINVAL, "--log and --read-only both given (choose one)");
	if (r >= 0)
		r = cli_paths(g, "console", &p, &err);
	if (r >= 0)
		r = log ? instance_console_log(&p, name, STDOUT_FILENO, &err)
			: instance_console_attach(&p, name, read_only, &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("console", name, &err);
	return 0;
}
