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
	"Instances:\n"
	"  create NAME      create an instance from a template\n"
	"  start NAME       boot it (returns once its init runs)\n"
	"  stop NAME        power it off cleanly, then kill what is left\n"
	"  restart NAME     reboot it cleanly (or start it)\n"
	"  kill NAME [SIG]  send a signal to its init\n"
	"  delete NAME      delete a stopped instance\n"
	"  clone SRC DST    copy a stopped instance (new ids, UUID, machine-id)\n"
	"  list             every instance and its state\n"
	"  status NAME      state, init, uptime, boots, last exit\n"
	"  exec NAME -- CMD run a command inside (-t for a terminal)\n"
	"  enter NAME       a login shell inside\n"
	"  console NAME     attach to its console (Ctrl-a q detaches); --log prints it\n"
	"  set NAME ...     change limits (--cpus, --memory, --pids, --io-*, ...), live\n"
	"  stats [NAME...]  cpu, memory, pids, io and oom figures (--json, --watch)\n"
	"  freeze NAME      suspend every process of it; thaw NAME resumes them\n"
	"  template ...     list, create, import and remove templates\n"
	"  enable NAME      start it at host boot with systemd (--boot-order, --boot-delay)\n"
	"  disable NAME     do not start it at host boot\n"
	"\n"
	"Other commands:\n"
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

int cli_paths(const global_opts *g, const char *verb, berth_paths *p, berr *err)
{
	int r;

	if (geteuid() != 0)
		return berr_setx(err, EPERM, "needs root (try: sudo berth %s ...)", verb);
	r = berth_paths_init(p, g->root);
	return r < 0 ? berr_set(err, -r, "paths") : 0;
}

int cli_fail(const char *verb, const char *name, const berr *err)
{
	if (name)
		log_error("%s %s: %s", verb, name, err->msg);
	else
		log_error("%s: %s", verb, err->msg);
	return EXIT_SETUP_FAILED;
}

static const struct {
	const char *name;
	int (*fn)(const global_opts *g, int argc, char **argv);
} verbs[] = {
	{"run", cmd_run},           {"create", cmd_create},   {"start", cmd_start},
	{"stop", cmd_stop},         {"restart", cmd_restart}, {"kill", cmd_kill},
	{"delete", cmd_delete},     {"list", cmd_list},       {"status", cmd_status},
	{"exec", cmd_exec},         {"enter", cmd_enter},     {"console", cmd_console},
	{"template", cmd_template}, {"set", cmd_set},         {"stats", cmd_stats},
	{"freeze", cmd_freeze},     {"thaw", cmd_thaw},       {"clone", cmd_clone},
	{"enable", cmd_enable},     {"disable", cmd_disable},
};

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
	for (size_t v = 0; v < ARRAY_SIZE(verbs); v++)
		if (str_eq(cmd, verbs[v].name))
			return verbs[v].fn(&g, argc - i, argv + i);
	log_error("unknown command '%s' (see berth --help)", cmd);
	return EXIT_SETUP_FAILED;
}
