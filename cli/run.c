/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char run_usage[] =
	"Usage: berth run [OPTIONS] [--] COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND as PID 1 of a new, throwaway container, in the foreground. The root is\n"
	"an overlay of a template (or a directory) with a writable layer in memory that\n"
	"vanishes on exit. Exit status: the command's, 128+N if a signal N ended it, 125 if\n"
	"berth failed, 126 if COMMAND cannot be executed, 127 if it was not found.\n"
	"\n"
	"Options:\n"
	"  --template NAME      root from template NAME (default: \"default\", busybox-based,\n"
	"                       made from the host's busybox-static on first use)\n"
	"  --rootfs DIR         root from directory DIR instead of a template (left unchanged)\n"
	"  --hostname NAME      host name inside\n"
	"  -e, --env KEY=VALUE  set an environment variable (repeatable)\n"
	"  -w, --cwd DIR        working directory inside (default /)\n"
	"  --userns=host        no user namespace: root inside is host root (unsafe)\n"
	"  --idmap BASE[:COUNT] host ids that ids 0.. inside map to (default: the lowest\n"
	"                       free range of 65536 of the instances' pool, held while it runs)\n"
	"  --rlimit NAME=SOFT[:HARD]\n"
	"                       lower a resource limit, e.g. NOFILE=1024 (repeatable)\n"
	"  -h, --help           print this help\n";

enum { OPT_TEMPLATE = 256, OPT_ROOTFS, OPT_HOSTNAME, OPT_USERNS, OPT_IDMAP, OPT_RLIMIT };

static int parse_one(int c, run_opts *o, berr *err)
{
	switch (c) {
	case OPT_TEMPLATE:
		o->template = optarg;
		return 0;
	case OPT_ROOTFS:
		o->rootfs = optarg;
		return 0;
	case OPT_HOSTNAME:
		o->hostname = optarg;
		return 0;
	case 'e':
		if (optarg[0] == '=' || !strchr(optarg, '='))
			return berr_setx(err, EINVAL, "--env \"%s\": not KEY=VALUE", optarg);
		o->env[o->n_env++] = optarg;
		return 0;
	case 'w':
		o->cwd = optarg;
		return 0;
	case OPT_USERNS:
		if (!str_eq(optarg, "host") && !str_eq(optarg, "private"))
			return berr_setx(err, EINVAL,
					 "--userns=%s: unknown mode (use host or "
					 "private)",
					 optarg);
		o->userns = str_eq(optarg, "private");
		return 0;
	case OPT_IDMAP:
		o->idmap_set = true;
		return idmap_parse(optarg, &o->map, err);
	case OPT_RLIMIT:
		if (o->n_rlimits == SPEC_MAX_RLIMITS)
			return berr_setx(err, E2BIG, "too many --rlimit options");
		return rlimit_parse(optarg, &o->rlimits[o->n_rlimits++], err);
	case 'h':
		o->help = true;
		return 0;
	case ':':
		return berr_setx(err, EINVAL, "option '%s' needs a value", optarg ? optarg : "");
	default:
		return -1;
	}
}

int cli_run_parse(int argc, char **argv, run_opts *ret, berr *err)
{
	static const struct option opts[] = {
		{"template", required_argument, NULL, OPT_TEMPLATE},
		{"rootfs", required_argument, NULL, OPT_ROOTFS},
		{"hostname", required_argument, NULL, OPT_HOSTNAME},
		{"env", required_argument, NULL, 'e'},
		{"cwd", required_argument, NULL, 'w'},
		{"userns", required_argument, NULL, OPT_USERNS},
		{"idmap", required_argument, NULL, OPT_IDMAP},
		{"rlimit", required_argument, NULL, OPT_RLIMIT},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	run_opts o = {.userns = true};
	int c, r;

	o.env = calloc((size_t)argc + 1, sizeof(char *));
	if (!o.env)
		return -ENOMEM;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:e:w:h", opts, NULL)) != -1) {
		if (c == ':')
			optarg = argv[optind - 1];
		r = parse_one(c, &o, err);
		if (r == -1)
			r = berr_setx(err, EINVAL, "unknown option '%s' (see berth run --help)",
				      argv[optind - 1]);
		if (r < 0) {
			run_opts_free(&o);
			return r;
		}
	}
	o.args = argv + optind;
	r = 0;
	if (o.help)
		;
	else if (o.template && o.rootfs)
		r = berr_setx(err, EINVAL, "--template and --rootfs both given (choose one)");
	else if (!o.args[0])
		r = berr_setx(err, EINVAL, "no command given (e.g. berth run -- /bin/sh)");
	else if (o.idmap_set && !o.userns)
		r = berr_setx(err, EINVAL, "--idmap and --userns=host both given (choose one)");
	if (r < 0) {
		run_opts_free(&o);
		return r;
	}
	*ret = o;
	return 0;
}

void run_opts_free(run_opts *o)
{
	free(o->env);
	o->env = NULL;
}

static void spec_from_opts(spec *s, const run_opts *o, const char *root)
{
	spec_init(s);
	s->process.args = o->args;
	s->process.env = o->env;
	if (o->cwd)
		s->process.cwd = o->cwd;
	memcpy(s->process.rlimits, o->rlimits, sizeof(o->rlimits));
	s->process.n_rlimits = o->n_rlimits;
	s->root.path = root;
	s->hostname = o->hostname;
	s->userns = o->userns;
	if (o->idmap_set)
		s->uid_map = s->gid_map = o->map;
}

int cmd_run(const global_opts *g, int argc, char **argv)
{
	_cleanup_free_ char *root = NULL, *cgroup_name = NULL, *claim = NULL;
	berth_paths paths = {0};
	run_opts o = {0};
	berr err = {0};
	spec s;
	int r, status = EXIT_SETUP_FAILED;

	r = cli_run_parse(argc, argv, &o, &err);
	if (r >= 0 && o.help) {
		fputs(run_usage, stdout);
		run_opts_free(&o);
		return 0;
	}
	if (r >= 0)
		r = cli_paths(g, "run", &paths, &err);
	if (r >= 0)
		r = runtime_root_resolve(&paths, o.template, o.rootfs, &root, &err);
	if (r >= 0) {
		spec_from_opts(&s, &o, root);
		r = spec_validate(&s, &err);
	}
	/* Ids of its own, like an instance's: never those of an instance (docs/STORAGE.md). */
	if (r >= 0 && s.userns && !o.idmap_set) {
		r = idrange_claim(&paths, &s.uid_map, &claim, &err);
		s.gid_map = s.uid_map;
	}
	if (r >= 0) {
		run_ctx ctx = {.paths = &paths, .cgroup_mountinfo = "/proc/self/mountinfo"};

		cgroup_name = str_printf("%s/run.%d", paths.cgroup, (int)getpid());
		ctx.cgroup_name = cgroup_name;
		r = cgroup_name ? runtime_run(&ctx, &s, &status, &err) : -ENOMEM;
	}
	if (r < 0)
		log_error("run: %s", err.msg[0] ? err.msg : strerror(-r));
	if (claim)
		unlink(claim);
	berth_paths_free(&paths);
	run_opts_free(&o);
	return status;
}
