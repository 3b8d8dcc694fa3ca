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
/* instance.c */
int cmd_create(const global_opts *g, int argc, char **argv);
int cmd_start(const global_opts *g, int argc, char **argv);
int cmd_stop(const global_opts *g, int argc, char **argv);
int cmd_restart(const global_opts *g, int argc, char **argv);
int cmd_kill(const global_opts *g, int argc, char **argv);
int cmd_delete(const global_opts *g, int argc, char **argv);
int cmd_list(const global_opts *g, int argc, char **argv);
int cmd_status(const global_opts *g, int argc, char **argv);
/* exec.c */
int cmd_exec(const global_opts *g, int argc, char **argv);
int cmd_enter(const global_opts *g, int argc, char **argv);
/* enable.c */
int cmd_enable(const global_opts *g, int argc, char **argv);
int cmd_disable(const global_opts *g, int argc, char **argv);
/* console.c */
int cmd_console(const global_opts *g, int argc, char **argv);
/* status.c: what status and list print (instance.c parses their options). */
void cli_status_print(const instance_status *st);
int cli_status_json(const instance_status *st);
int cli_list_print(const berth_paths *p, char **names);
int cli_list_json(const berth_paths *p, char **names);
/* limits.c */
int cmd_set(const global_opts *g, int argc, char **argv);
/* net.c: an instance's network in status (text lines, and a "network" member). */
void cli_net_status_print(const instance_config *c);
void cli_net_status_json(json_gen *g, const instance_config *c);
/* clone.c */
int cmd_clone(const global_opts *g, int argc, char **argv);
/* stats.c */
int cmd_stats(const global_opts *g, int argc, char **argv);
int cmd_freeze(const global_opts *g, int argc, char **argv);
int cmd_thaw(const global_opts *g, int argc, char **argv);
/* template.c */
int cmd_template(const global_opts *g, int argc, char **argv);

/* "TERM", "SIGTERM", "15", "RTMIN+3" -> signal number. */
int cli_signal_parse(const char *s, int *ret);

/* Check for root and fill p from --root: what every verb does before acting. */
int cli_paths(const global_opts *g, const char *verb, berth_paths *p, berr *err);

/* "berth: VERB NAME: message" on stderr; returns EXIT_SETUP_FAILED. */
int cli_fail(const char *verb, const char *name, const berr *err);

/* The whole program; returns the process exit status. */
int cli_main(int argc, char **argv);
