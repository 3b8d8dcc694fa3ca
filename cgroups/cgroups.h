/* SPDX-License-Identifier: MIT */
/* cgroups: cgroup v2 only. Every function takes its root as a directory fd. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common.h"

/*
 * Find the cgroup2 mount in a mountinfo file ("/proc/self/mountinfo" on a
 * real host; a fixture in tests). Hybrid hosts mount it at
 * /sys/fs/cgroup/unified, pure v2 hosts at /sys/fs/cgroup.
 */
int cg_find_mount(const char *mountinfo_path, char **ret_path, berr *err);

/* A leaf cgroup that one container runs in. */
typedef struct cg_leaf {
	int dirfd; /* O_PATH|O_DIRECTORY, for CLONE_INTO_CGROUP and openat */
	int parentfd;
	char *name; /* relative to the cgroup2 root, e.g. "berth/run-1234" */
} cg_leaf;
#define CG_LEAF_INIT ((cg_leaf){.dirfd = -EBADF, .parentfd = -EBADF, .name = NULL})

/*
 * Create root/name (parents as needed). When owner != (uid_t)-1, chown the
 * leaf's directory and its cgroup.procs, cgroup.subtree_control and
 * cgroup.threads to owner:group, so that a root inside a user namespace can
 * manage its own subtree (delegation).
 */
int cg_leaf_create(int rootfd, const char *name, uid_t owner, gid_t group, cg_leaf *ret, berr *err);

/* Kill every process in the leaf (cgroup.kill), wait until it is empty, remove it. */
int cg_leaf_destroy(cg_leaf *leaf, int timeout_ms, berr *err);

/* Wait up to timeout_ms for cgroup.events "populated 0": 0, or -ETIMEDOUT. */
int cg_wait_empty(int dirfd, int timeout_ms);

/* Write "1" to cgroup.kill and wait up to timeout_ms for cgroup.events "populated 0". */
int cg_kill_and_wait(int dirfd, int timeout_ms);

/* Is the cgroup populated? Reads cgroup.events. Returns 1, 0 or -errno. */
int cg_is_populated(int dirfd);

void cg_leaf_close(cg_leaf *leaf);

/*
 * Remove the empty children of root/parent that stale() calls stale: what a
 * killed berth left behind. A populated child is never touched.
 */
void cg_prune(int rootfd, const char *parent, bool (*stale)(const char *name));
