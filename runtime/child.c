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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <termios.h>

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

void signals_reset(void)
{
	sigset_t none;

	/* A shell may start us with SIGINT ignored (a background job): the command must not inherit it. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int ns_become_root(berr *err)
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
 * reap it. Set after ns_become_root(), since changing credentials clears it.
 */
static int watch_parent(int sock, bool die_with_parent, berr *err)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};

	if (!die_with_parent)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return berr_set(err, errno, "PR_SET_PDEATHSIG");
	/* The parent may have died before the prctl: its end of the socket is then closed. */
	if (poll(&p, 1, 0) > 0 && (p.revents & POLLHUP))
		_exit(EXIT_SETUP_FAILED);
	return 0;
}

/* The host's cgroup2 mount (rooted at the instance's cgroup) goes where the plan would put one. */
static int attach_host_cgroup(int rootfd, int cgroup_mnt, berr *err)
{
	_cleanup_close_ int tfd = -EBADF;
	int r = rootfs_open_in_root(rootfd, "/sys/fs/cgroup", &tfd, err);

	if (r < 0)
		return r;
	if (move_mount(cgroup_mnt, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return berr_set(err, errno, "attach the host's cgroup2 mount at /sys/fs/cgroup");
	return 0;
}

/* What the child opens while it is still host root, for the root it builds. */
typedef struct host_fds {
	int stage, lower, rw; /* the stage tmpfs's dir, the lower layer, the writable layer */
	int host;             /* /run/host's directory (systemd guests), or -EBADF */
	int cgroup_mnt;       /* the host's cgroup2 mount for a hybrid host, or -EBADF */
	int resolv;           /* the instance's resolv.conf, or -EBADF */
} host_fds;

static int build_root(const spec *s, const host_fds *h, berr *err)
{
	_cleanup_close_ int rootfd = -EBADF;
	mount_plan plan = {0};
	rootfs_opts opts = {.userns = s->userns, .cgroup_from_host = h->cgroup_mnt >= 0};
	char run_host[32], resolv[32];
	int r;

	if (h->host >= 0) {
		snprintf(run_host, sizeof(run_host), "/proc/self/fd/%d", h->host);
		opts.run_host = run_host;
	}
	if (h->resolv >= 0) {
		snprintf(resolv, sizeof(resolv), "/proc/self/fd/%d", h->resolv);
		opts.resolv_conf = resolv;
	}
	if (!s->console && isatty(STDIN_FILENO))
		opts.console = ttyname(STDIN_FILENO);
	r = rootfs_overlay_root(h->stage, h->lower, h->rw, s->userns, &rootfd, err);
	if (r < 0)
		return r;
	r = rootfs_mount_plan_build(&opts, &plan);
	if (r < 0)
		return berr_set(err, -r, "mount plan");
	r = rootfs_mount_plan_apply(&plan, rootfd, s->userns, err);
	rootfs_mount_plan_free(&plan);
	if (r >= 0 && h->cgroup_mnt >= 0)
		r = attach_host_cgroup(rootfd, h->cgroup_mnt, err);
	if (r < 0)
		return r;
	return rootfs_pivot(rootfd, err);
}

/*
 * The console: a pty from the container's own devpts (so nothing of the host's
 * terminals is reachable), bound at /dev/console, fds 0-2 of init in a session
 * of its own. As the kernel does for a real init, it is not init's controlling
 * terminal: a getty on the console must be able to take it. The master goes to
 * the parent.
 */
static int setup_console(int sock, berr *err)
{
	_cleanup_close_ int master = -EBADF, slave = -EBADF, f = -EBADF;
	sync_msg m = {.kind = SYNC_CONSOLE};
	char path[32];
	int unlock = 0, n, r;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		return berr_set(err, errno, "console: allocate a pty in /dev/pts");
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return berr_set(err, errno, "console: open the pty's peer");
	snprintf(path, sizeof(path), "/dev/pts/%d", n);
	f = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0 || mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return berr_set(err, errno, "console: bind %s at /dev/console", path);
	r = sync_send(sock, &m, master);
	if (r < 0)
		return berr_set(err, -r, "console: hand over the pty");
	if (setsid() < 0)
		return berr_set(err, errno, "console: setsid");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return berr_set(err, errno, "console: dup2");
	return 0;
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

/*
 * Open what only host root can reach (the stage, the writable layer, /run/host's
 * directory, the instance's resolv.conf in its run dir) while still host root.
 */
static int open_host_dirs(const spec *s, host_fds *h, berr *err)
{
	h->stage = open(s->stage_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->stage < 0)
		return berr_set(err, errno, "open %s", s->stage_dir);
	if (s->host_dir) {
		h->host = open(s->host_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (h->host < 0)
			return berr_set(err, errno, "open %s", s->host_dir);
	}
	if (s->resolv_conf) {
		h->resolv = open(s->resolv_conf, O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (h->resolv < 0)
			return berr_set(err, errno, "open %s", s->resolv_conf);
	}
	if (!s->upper_dir)
		return 0;
	h->rw = open(s->upper_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->rw < 0)
		return berr_set(err, errno, "open %s", s->upper_dir);
	return 0;
}

/*
 * Close every fd from 3 up but the n in keep (negative ones ignored). What the child
 * inherits from berth (the cgroup leaf's directory fd, pidfds...) must not reach the
 * chdir: `-w /proc/self/fd/N` on a host directory fd would put the command's cwd
 * outside its root (CVE-2024-21626).
 */
static void close_fds_but(const int *keep, size_t n)
{
	unsigned int from = 3;

	for (;;) {
		int next = -1; /* the lowest kept fd >= from */

		for (size_t i = 0; i < n; i++)
			if (keep[i] >= (int)from && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if ((unsigned int)next > from)
			close_range(from, (unsigned int)next - 1, 0);
		from = (unsigned int)next + 1;
	}
	close_range(from, ~0U, 0);
}

static void host_fds_close(host_fds *h)
{
	closep(&h->stage);
	closep(&h->lower);
	closep(&h->rw);
	closep(&h->host);
	closep(&h->cgroup_mnt);
	closep(&h->resolv);
}

_Noreturn void child_main(const spec *s, int sock, int cgroup_mnt)
{
	char term_kv[128] = "";
	const char *term = getenv("TERM");
	host_fds h = {.stage = -EBADF,
		      .lower = -EBADF,
		      .rw = -EBADF,
		      .host = -EBADF,
		      .cgroup_mnt = cgroup_mnt,
		      .resolv = -EBADF};
	sync_msg go;
	berr err = {0};
	int r;

	r = sync_recv(sock, &go, &h.lower);
	if (r <= 0 || go.kind != SYNC_GO)
		_exit(EXIT_SETUP_FAILED);
	if (term && snprintf(term_kv, sizeof(term_kv), "TERM=%s", term) >= (int)sizeof(term_kv))
		term_kv[0] = '\0';
	close_fds_but((const int[]){sock, h.lower, h.cgroup_mnt}, 3);
	if (open_host_dirs(s, &h, &err) < 0 || ns_become_root(&err) < 0 ||
	    watch_parent(sock, s->die_with_parent, &err) < 0 || build_root(s, &h, &err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	/* The host's directories go before the chdir below, for the same reason. */
	host_fds_close(&h);
	if ((s->console && setup_console(sock, &err) < 0) || setup_identity(s, &err) < 0 ||
	    netns_loopback_up(&err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	if (drop_privileges(s, &err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	environ = env_build(s->process.env, term_kv[0] ? term_kv : NULL);
	if (!environ) {
		berr_set(&err, ENOMEM, "environment");
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	signals_reset();
	if (sec_load(&err) < 0)
		child_fail(sock, EXIT_SETUP_FAILED, &err);
	execvp(s->process.args[0], s->process.args);
	r = errno;
	berr_set(&err, r, "exec %s", s->process.args[0]);
	child_fail(sock, r == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, &err);
}
