/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"Usage: berth [--root DIR] [--debug] COMMAND [ARGS...]\n"
	"\n"
	"Lightweight VPS instances on one Linux host.\n"
	"\n"
	"Commands:\n"
	"  run       run a command in a new, throwaway container, in the foreground\n"
	"  version   print the version\n"
	"  help      print this help\n"
	"\n"
	"Options:\n"
	"  --root DIR   keep all state below DIR instead of /var/lib/berth, /run/berth and\n"
	"               /var/log/berth (also $BERTH_ROOT)\n"
	"  --debug      print what berth does (also BERTH_DEBUG=1)\n"
	"\n"
	"'berth COMMAND --help' describes a command.\n";

int cli_global_parse(int argc, char **argv, global_opts *ret, berr *err)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"debug", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	global_opts g = {.root = getenv("BERTH_ROOT"), .debug = getenv("BERTH_DEBUG") != NULL};
	int c;

	if (g.root && !g.root[0])
		g.root = NULL;
	optind = 0;
	opterr = 0;
	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 'h':
			g.help = true;
			break;
		case 'V':
			g.version = true;
			break;
		default:
			return berr_setx(err, EINVAL, "unknown option '%s' (see berth --help)",
					 argv[optind - 1]);
		}
	}
	if (optind >= argc && !g.help && !g.version)
		return berr_setx(err, EINVAL, "no command given (see berth --help)");
	if (g.root && !g.root[0])
		return berr_setx(err, EINVAL, "--root needs a directory");
	*ret = g;
	return optind;
}

int cli_main(int argc, char **argv)
{
	global_opts g;
	berr err = {0};
	const char *cmd;
	int i = cli_global_parse(argc, argv, &g, &err);

	if (i < 0) {
		log_error("%s", err.msg);
		return EXIT_SETUP_FAILED;
	}
	if (g.help || str_eq(argv[i], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (g.version || str_eq(argv[i], "version")) {
		printf("berth %s\n", BERTH_VERSION);
		return 0;
	}
	if (g.debug)
		log_max_level = LOG_DEBUG;
	cmd = argv[i];
	if (str_eq(cmd, "run"))
		return cmd_run(&g, argc - i, argv + i);
	log_error("unknown command '%s' (see berth --help)", cmd);
	return EXIT_SETUP_FAILED;
}
