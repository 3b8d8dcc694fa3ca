/* SPDX-License-Identifier: MIT */
/*
 * The container side of runtime_run: it runs in the new namespaces, builds
 * the root, drops privileges and execs the command. Every failure goes back
 * to the parent as a SYNC_ERROR message; exec closes the sync socket, which
 * the parent reads as success.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cgroups.h"
#include "netns.h"
#include "rootfs.h"
#include "runtime-internal.h"

extern char **environ;

_Noreturn static void child_fail(int sock, int status, const berr *err)
{
	sync_msg m = {.kind = SYNC_ERROR, .exit_status = status, .err = *err};

	sync_send(sock, &m, -EBADF);
	_exit(status);
}

static void reset_signals(void)
{
	sigset_t none;

	/* A shell may start us with SIGINT ignored (a background job): the command must not inherit it. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int become_root(berr *err)
{
	/* Until now this process is host root seen from a namespace that does not map it. */
	if (setresgid(0, 0, 0) < 0)
		return berr_set(err, errno, "setresgid 0");
	if (setgroups(0, NULL) < 0)
		return berr_set(err, errno, "setgroups");
	if (setresuid(0, 0, 0) < 0)
		return berr_set(err, errno, "setresuid 0");
	return 0;
}

/*
 * If berth dies, so does the container: a foreground run has nobody else to
 * reap it. Set after become_root(), since changing credentials clears it.
 */
static int watch_parent(int sock, berr *err)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return berr_set(err, errno, "PR_SET_PDEATHSIG");
	/* The parent may have died before the prctl: its end of the socket is then closed. */
	if (poll(&p, 1, 0) > 0 && (p.revents & POLLHUP))
		_exit(EXIT_SETUP_FAILED);
	return 0;
}

static int build_root(const spec *s, int stage_fd, int lower_fd, berr *err)
{
	_cleanup_close_ int rootfd = -EBADF;
	mount_plan plan = {0};
	rootfs_opts opts = {.userns = s->userns};
	int r;

	if (isatty(STDIN_FILENO))
		opts.console = ttyname(STDIN_FILENO);
	r = rootfs_overlay_root(stage_fd, lower_fd, s->userns, &rootfd, err);
	if (r < 0)
		return r;
	r = rootfs_mount_plan_build(&opts, &plan);
	if (r < 0)
		return berr_set(err, -r, "mount plan");
	r = rootfs_mount_plan_apply(&plan, rootfd, s->userns, err);
	rootfs_mount_plan_free(&plan);
	if (r < 0)
		return r;
	return rootfs_pivot(rootfd, err);
}

static int setup_identity(const spec *s, berr *err)
{
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return berr_set(err, errno, "set hostname %s", s->hostname);
	if (chdir(s->process.cwd) < 0)
		return berr_set(err, errno, "working directory %s", s->process.cwd);
	return 0;
}

static int drop_privileges(const spec *s, berr *err)
{
	int r = rlimits_apply(s->process.rlimits, s->process.n_rlimits, err);

	if (r < 0)
		return r;
	r = caps_apply(err);
	if (r < 0)
		return r;
	/* Only 0-2 may reach the command; the sync socket closes at exec, telling the parent. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return berr_set(err, errno, "close_range");
	return 0;
}

_Noreturn void child_main(const spec *s, const berth_paths *paths, int sock)
{
	char term_kv[128] = "";
	const char *term = getenv("TERM");
	_cleanup_close_ int lower_fd = -EBADF, stage_fd = -EBADF;
	sync_msg go;
	berr err = {0};
	int r;

	r = sync_recv(sock, &go, &lower_fd);
	if (r <= 0 || go.kind != SYNC_GO)
		_exit(EXIT_SETUP_FAILED);
	if (term && snprintf(term_kv, sizeof(term_kv), "TERM=%s", term) >= (int)sizeof(term_kv))
		term_kv[0] = '\0';
	/* Still host root here: the stage may sit below directories only host root can enter. */
	stage_fd = open(paths->run, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (stage_fd < 0)
		berr_set(&err, errno, "open %s", paths->run);
	if (stage_fd < 0 || become_root(&err) < 0 || watch_parent(sock, &err) < 0 ||
	    build_root(s, stage_fd, lower_fd, &err) < 0 || setup_identity(s, &err) < 0 ||
	    netns_loopback_up(&err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	closep(&lower_fd);
	closep(&stage_fd);
	if (drop_privileges(s, &err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	environ = env_build(s->process.env, term_kv[0] ? term_kv : NULL);
	if (!environ) {
		berr_set(&err, ENOMEM, "environment");
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	reset_signals();
	if (sec_load(&err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	execvp(s->process.args[0], s->process.args);
	r = errno;
	berr_set(&err, r, "exec %s", s->process.args[0]);
	child_fail(sock, r == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, &err);
}
