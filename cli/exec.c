/* SPDX-License-Identifier: MIT */
/* berth exec and berth enter. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char exec_usage[] =
	"Usage: berth exec NAME [OPTIONS] [--] COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND inside the running instance NAME: in its namespaces and cgroup, as its\n"
	"root (or USER), with its capability bound and seccomp filter. Only fds 0-2 (or the\n"
	"pty) reach it. Options go before COMMAND, either side of NAME. Exit status: the\n"
	"command's, 128+N if a signal N ended it, 125 if berth failed (e.g. the instance is\n"
	"not running), 126 if COMMAND cannot be executed, 127 if it was not found.\n"
	"\n"
	"Options:\n"
	"  -t, --tty            give the command a terminal: a pty from the instance's\n"
	"                       /dev/pts, relayed in raw mode, with the window size\n"
	"  -u, --user USER[:GROUP]\n"
	"                       run as USER, a name or a uid, looked up in the instance's\n"
	"                       /etc/passwd (default root); GROUP from its /etc/group\n"
	"  -w, --workdir DIR    working directory inside (default: the user's home if it\n"
	"                       exists, else /)\n"
	"  -e, --env KEY=VALUE  set an environment variable (repeatable); the command gets\n"
	"                       PATH, HOME, USER, LOGNAME, SHELL, TERM and container=berth\n"
	"  -h, --help           print this help\n";

static const char enter_usage[] =
	"Usage: berth enter NAME [-u USER]\n"
	"\n"
	"A login shell in the running instance NAME, on a pty: USER's shell from the\n"
	"instance's /etc/passwd (default root), started with -l in USER's home. Leave it as\n"
	"you leave any shell (exit, or Ctrl-D). Same as 'berth exec -t -u USER NAME -- SHELL -l'.\n"
	"\n"
	"Options:\n"
	"  -u, --user USER[:GROUP]  log in as USER, a name or a uid (default root)\n"
	"  -h, --help               print this help\n";

typedef struct exec_cli {
	const char *name;
	exec_opts o;
	char **env; /* points into argv */
	size_t n_env;
	bool help;
} exec_cli;

static int exec_opt(int c, exec_cli *x, berr *err)
{
	switch (c) {
	case 't':
		x->o.tty = true;
		return 0;
	case 'u':
		if (!optarg[0])
			return berr_setx(err, EINVAL, "--user needs a user name or uid");
		x->o.user = optarg;
		return 0;
	case 'w':
		if (optarg[0] != '/')
			return berr_setx(err, EINVAL, "--workdir \"%s\": not an absolute path",
					 optarg);
		x->o.cwd = optarg;
		return 0;
	case 'e':
		if (optarg[0] == '=' || !strchr(optarg, '='))
			return berr_setx(err, EINVAL, "--env \"%s\": not KEY=VALUE", optarg);
		x->env[x->n_env++] = optarg;
		return 0;
	case 'h':
		x->help = true;
		return 0;
	default:
		return -1;
	}
}

/*
 * NAME may come before or after the options; the command starts at the next
 * operand or after "--", and its own options are left alone ('+').
 */
static int exec_parse(int argc, char **argv, const char *shortopts, const struct option *opts,
		      exec_cli *x, berr *err)
{
	int c, r;

	x->env = calloc((size_t)argc + 1, sizeof(char *));
	if (!x->env)
		return berr_set(err, ENOMEM, "arguments");
	x->o.env = x->env;
	optind = 0;
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, shortopts, opts, NULL);
		if (c == -1) {
			/* Stopped at an operand (not at "--"): the first one is NAME. */
			if (x->name || optind >= argc || str_eq(argv[optind - 1], "--"))
				break;
			x->name = argv[optind++];
			continue;
		}
		if (c == ':')
			return berr_setx(err, EINVAL,
					 "option '%s' needs a value (see berth %s --help)",
					 argv[optind - 1], argv[0]);
		r = exec_opt(c, x, err);
		if (r == -1)
			return berr_setx(err, EINVAL, "unknown option '%s' (see berth %s --help)",
					 argv[optind - 1], argv[0]);
		if (r < 0)
			return r;
	}
	/* "berth exec -t -- web1 ls": NAME after the "--". */
	if (!x->name && optind < argc)
		x->name = argv[optind++];
	x->o.args = argv + optind;
	return 0;
}

static int exec_run(const global_opts *g, const char *verb, exec_cli *x)
{
	berth_paths p = {0};
	berr err = {0};
	int status = EXIT_SETUP_FAILED, r = 0;

	if (!x->name)
		r = berr_setx(&err, EINVAL, "no instance name given (see berth %s --help)", verb);
	else if (instance_name_check(x->name, &err) < 0)
		r = -EINVAL;
	else if (!x->o.login && !x->o.args[0])
		r = berr_setx(&err, EINVAL, "no command given (e.g. berth exec %s -- ps)", x->name);
	else if (x->o.login && x->o.args[0])
		r = berr_setx(&err, EINVAL, "unexpected argument '%s' (see berth enter --help)",
			      x->o.args[0]);
	else
		r = cli_paths(g, verb, &p, &err);
	if (r >= 0)
		r = instance_exec(&p, x->name, &x->o, &status, &err);
	berth_paths_free(&p);
	free(x->env);
	if (r < 0) {
		cli_fail(verb, x->name, &err);
		return status == EXIT_CANNOT_EXEC || status == EXIT_NOT_FOUND ? status
									      : EXIT_SETUP_FAILED;
	}
	return status;
}

int cmd_exec(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"tty", no_argument, NULL, 't'},
		{"user", required_argument, NULL, 'u'},
		{"workdir", required_argument, NULL, 'w'},
		{"cwd", required_argument, NULL, 'w'},
		{"env", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	exec_cli x = {0};
	berr err = {0};

	if (exec_parse(argc, argv, "+:tu:w:e:h", opts, &x, &err) < 0) {
		free(x.env);
		return cli_fail("exec", x.name, &err);
	}
	if (x.help) {
		fputs(exec_usage, stdout);
		free(x.env);
		return 0;
	}
	return exec_run(g, "exec", &x);
}

int cmd_enter(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"user", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	exec_cli x = {.o = {.tty = true, .login = true}};
	berr err = {0};

	if (exec_parse(argc, argv, "+:u:h", opts, &x, &err) < 0) {
		free(x.env);
		return cli_fail("enter", x.name, &err);
	}
	if (x.help) {
		fputs(enter_usage, stdout);
		free(x.env);
		return 0;
	}
	return exec_run(g, "enter", &x);
}
