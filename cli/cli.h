/* SPDX-License-Identifier: MIT */
/* cli: the berth program. Argument parsing and output only. */
#pragma once

#include <stdbool.h>

#include "runtime.h"

typedef struct global_opts {
	const char *root; /* --root DIR or $BERTH_ROOT; NULL for the system paths */
	bool debug;
	bool help;    /* --help: print usage, no command needed */
	bool version; /* --version */
} global_opts;

/*
 * Parse options before the command name. Returns the index of the command in
 * argv (argc when --help or --version made it unnecessary).
 */
int cli_global_parse(int argc, char **argv, global_opts *ret, berr *err);

typedef struct run_opts {
	const char *template; /* --template T (NULL: the default template) */
	const char *rootfs;   /* --rootfs DIR */
	const char *hostname;
	const char *cwd;
	char **env; /* --env K=V, NULL-terminated, strings point into argv */
	size_t n_env;
	bool userns; /* false with --userns=host */
	bool idmap_set;
	idmap map; /* --idmap BASE[:COUNT] */
	rlimit_req rlimits[SPEC_MAX_RLIMITS];
	size_t n_rlimits;
	char **args; /* the command, points into argv */
	bool help;
} run_opts;

/* Parse "berth run" arguments (argv[0] is "run"). Validates everything, touches nothing. */
int cli_run_parse(int argc, char **argv, run_opts *ret, berr *err);
void run_opts_free(run_opts *o);

int cmd_run(const global_opts *g, int argc, char **argv);

/* The whole program; returns the process exit status. */
int cli_main(int argc, char **argv);
