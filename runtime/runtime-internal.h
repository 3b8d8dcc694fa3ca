/* SPDX-License-Identifier: MIT */
/* runtime internals, shared by the module's files and its unit tests. */
#pragma once

#include <stdbool.h>

#include "runtime.h"

/*
 * Security, each backed by one library used only here:
 * seccomp.c (libseccomp) and caps.c (libcap).
 */

/* Build the default filter and write it as classic BPF to fd (no loading). */
int sec_export_bpf(int fd, berr *err);
/* Build and load the default filter into the calling thread. Call last, just before exec. */
int sec_load(berr *err);

/* Does the default VPS capability set keep cap (CAP_*)? */
bool caps_default_keeps(int cap);
/* Drop from the bounding set every capability the default does not keep, and
 * limit the permitted, effective and inheritable sets to it. */
int caps_apply(berr *err);

/* Apply rlimits, only lowering: asking to raise one is an error. */
int rlimits_apply(const rlimit_req *v, size_t n, berr *err);

/* Child/parent sync messages over a SOCK_SEQPACKET socketpair. */
enum sync_kind {
	SYNC_GO = 1, /* parent -> child: maps written, lower layer fd attached */
	SYNC_ERROR,  /* child -> parent: setup failed, see err */
};
typedef struct sync_msg {
	int kind;
	int exit_status; /* for SYNC_ERROR: EXIT_SETUP_FAILED / CANNOT_EXEC / NOT_FOUND */
	berr err;
} sync_msg;

/* Send a message, optionally with one fd (SCM_RIGHTS). */
int sync_send(int sock, const sync_msg *m, int fd);
/* Receive one message and an optional fd (-EBADF if none). 0 at EOF, 1 on a message. */
int sync_recv(int sock, sync_msg *m, int *ret_fd);

/* The container side of runtime_run, in the new namespaces. Never returns. */
_Noreturn void child_main(const spec *s, const berth_paths *paths, int sock);

/*
 * Environment for the command: PATH, HOME, container=berth, term_kv ("TERM=xterm",
 * or NULL), then the spec's entries, a later key replacing an earlier one. The
 * strings are borrowed; free() the returned array only.
 */
char **env_build(char *const *user_env, char *term_kv);
