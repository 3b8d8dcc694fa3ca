/* SPDX-License-Identifier: MIT */
/*
 * runtime: the container spec and the one function that turns a spec into a
 * process inside fresh namespaces (runtime_run).
 *
 * The spec keeps the OCI runtime spec's shape (process, root, hostname,
 * namespaces, id mappings, rlimits) so that an OCI bundle can be translated
 * into it later.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "common.h"

/* Where berth keeps its files; everything moves with --root / BERTH_ROOT. */
typedef struct berth_paths {
	char *lib;       /* /var/lib/berth */
	char *run;       /* /run/berth */
	char *log;       /* /var/log/berth */
	char *templates; /* <lib>/templates */
} berth_paths;

/* root == NULL: the system paths; else root/lib, root/run, root/log. */
int berth_paths_init(berth_paths *p, const char *root);
void berth_paths_free(berth_paths *p);

/* The host's static busybox, from which the default template is made. */
#define BERTH_BUSYBOX "/bin/busybox"

/*
 * The directory a container's root is made from: rootfs_dir when given (it
 * must exist), else template_name (NULL: the default template, made on first
 * use). Returns an absolute path.
 */
int runtime_root_resolve(const berth_paths *p, const char *template_name, const char *rootfs_dir,
			 char **ret_path, berr *err);

#define IDMAP_DEFAULT_BASE 1000000u
#define IDMAP_DEFAULT_COUNT 65536u

typedef struct idmap {
	uint32_t inside;
	uint32_t outside;
	uint32_t count;
} idmap;

/* "BASE" or "BASE:COUNT" -> {0, BASE, COUNT}. Validates overflow and count >= 1. */
int idmap_parse(const char *s, idmap *ret, berr *err);
/* Render as a uid_map/gid_map line: "0 1000000 65536\n". Returns length or -ENOSPC. */
int idmap_render(const idmap *m, char *buf, size_t size);
/* Map an id inside to the host; (uint32_t)-1 when unmapped. */
uint32_t idmap_to_host(const idmap *m, uint32_t inside);

typedef struct rlimit_req {
	int resource; /* RLIMIT_* */
	rlim_t soft;
	rlim_t hard;
} rlimit_req;

/* "NOFILE=1024" or "NOFILE=1024:4096" (names as in prlimit(1), any case). */
int rlimit_parse(const char *s, rlimit_req *ret, berr *err);

#define SPEC_MAX_RLIMITS 16

typedef struct spec {
	struct {
		char **args; /* argv, NULL-terminated */
		char **env;  /* NULL-terminated KEY=VALUE */
		const char *cwd;
		rlimit_req rlimits[SPEC_MAX_RLIMITS];
		size_t n_rlimits;
	} process;
	struct {
		const char *path; /* the lower layer: a template or a --rootfs directory */
	} root;
	const char *hostname;
	bool userns; /* new user namespace (default) */
	idmap uid_map;
	idmap gid_map;
} spec;

/* Defaults: userns on, ids from IDMAP_DEFAULT_BASE, cwd "/", hostname NULL. */
void spec_init(spec *s);

/* Check a spec before anything is touched: args present, cwd absolute, hostname valid, ... */
int spec_validate(const spec *s, berr *err);

/* What runtime_run needs besides the spec. */
typedef struct run_ctx {
	const berth_paths *paths;
	const char *cgroup_mountinfo; /* "/proc/self/mountinfo" */
	const char *cgroup_name;      /* leaf below the cgroup2 root, e.g. "berth/run-1234" */
} run_ctx;

/*
 * Run spec in the foreground: forward SIGINT, SIGTERM and SIGHUP, wait for it
 * and clean up (cgroup, mounts are in the child's namespace). *ret_status is
 * the command's exit status, 128+N when killed by signal N.
 * Setup failures return -errno with err filled and leave nothing behind.
 */
int runtime_run(const run_ctx *ctx, const spec *s, int *ret_status, berr *err);

/* Exit statuses for failures before the command runs (as podman and docker do). */
#define EXIT_SETUP_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
