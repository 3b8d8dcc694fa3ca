/* SPDX-License-Identifier: MIT */
/*
 * exec internals, shared by exec.c, exec-user.c, pty.c and their unit tests:
 * who the command runs as (parsed from the instance's own /etc/passwd and
 * /etc/group texts, no NSS), and the pty both ends use.
 */
#pragma once

#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "runtime-internal.h"

#define EXEC_USER_NAME_MAX 64
#define EXEC_USER_PATH_MAX 256
#define EXEC_GROUPS_MAX 64

typedef struct exec_user {
	uid_t uid;
	gid_t gid;
	char name[EXEC_USER_NAME_MAX];  /* empty for a bare uid without a passwd entry */
	char home[EXEC_USER_PATH_MAX];  /* "/" when unknown */
	char shell[EXEC_USER_PATH_MAX]; /* "/bin/sh" when unknown */
	gid_t groups[EXEC_GROUPS_MAX];  /* primary first, then the supplementary ones */
	size_t n_groups;
} exec_user;

/*
 * Find user (a name, or a number matched against the uid field) in the text of
 * an /etc/passwd. Names win over numbers, as in shadow's tools. 0 or -ENOENT.
 */
int passwd_find(const char *passwd, const char *user, exec_user *ret);
/* A group name or number in the text of an /etc/group. 0 or -ENOENT. */
int group_find(const char *group_text, const char *group, gid_t *ret);
/* Put primary, then every group of group_text that lists name as a member, in u->groups. */
void group_collect(const char *group_text, const char *name, gid_t primary, exec_user *u);

/*
 * Resolve "USER[:GROUP]" (names or numbers; NULL: root) against the texts of
 * the instance's /etc/passwd and /etc/group (NULL when missing). An unknown
 * number is taken as is (gid 0, like docker); an unknown name is an error.
 */
int exec_user_resolve(const char *user_spec, const char *passwd, const char *group_text,
		      exec_user *ret, berr *err);

/*
 * Read the current root's /etc/passwd and /etc/group (the instance's, once in
 * its mount namespace; regular files of at most 4 MiB, a missing one counts as
 * empty) and resolve user_spec as exec_user_resolve does.
 */
int exec_user_lookup(const char *user_spec, exec_user *ret, berr *err);

/* pty.c: the window size of whichever of fds 0-2 is a terminal. */
bool pty_winsize_get(struct winsize *ret);
/*
 * pty.c, in the instance (after joining its mount namespace): allocate a pty
 * from /dev/pts/ptmx there (refusing anything but a devpts), give the slave to
 * owner, set its window size (ws may be NULL) and return both ends.
 */
int pty_open_in_instance(uid_t owner, const struct winsize *ws, int *ret_master, int *ret_slave,
			 berr *err);
/* Make slave the controlling terminal of a new session and fds 0-2; closes slave. */
int pty_make_stdio(int slave, berr *err);

/*
 * pty.c, on the host: relay the terminal (raw mode when stdin is one, window
 * size, SIGWINCH) and the pty master until cmd_pidfd turns readable (the
 * command ended), then drain the master. Signals read from sigfd, but SIGWINCH
 * and SIGPIPE, go to the command. The terminal is restored before it returns.
 */
int pty_relay(int master, int cmd_pidfd, int sigfd, berr *err);
