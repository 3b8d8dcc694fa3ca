/* SPDX-License-Identifier: MIT */
/*
 * berth exec: run a command inside a running instance.
 *
 * Three processes, because of two kernel rules. CLONE_INTO_CGROUP fails with
 * EACCES once the caller has joined the instance's user namespace, so berth
 * (host root) clones the first child straight into the instance's cgroup. And
 * a setns into a PID namespace only applies to children, so that child joins
 * every namespace through init's pidfd and forks the command with CLONE_PARENT:
 * the command is berth's own child (berth waits for it directly), while the
 * middle process exits at once.
 *
 * The command then takes the instance's view of itself: its user from the
 * instance's /etc/passwd, a pty from its devpts, init's rlimits, the instance's
 * capability bound and seccomp filter, and no fd, directory or environment of
 * the host. Setup failures come back on a socketpair as SYNC_ERROR messages,
 * as in runtime_run.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroups.h"
#include "exec-internal.h"

extern char **environ;

#define CGROUP_PATH_MAX 512

/* ---- The host side: find the instance. ---- */

typedef struct exec_target {
	int init_pidfd;
	/* Where the command may go: init's own cgroup when it moved there, then the instance's. */
	int cgroup_fds[2];
	char cgroup_names[2][CGROUP_PATH_MAX];
	bool join_userns; /* false for an instance run with --userns=host */
} exec_target;

/* What the three processes share: the target, the options and what berth saw of its terminal. */
typedef struct exec_ctx {
	exec_target t;
	const exec_opts *o;
	char *term_kv; /* "TERM=..." for the command, or NULL */
	struct winsize ws;
	bool have_ws;
} exec_ctx;

static void exec_target_close(exec_target *t)
{
	closep(&t->init_pidfd);
	closep(&t->cgroup_fds[0]);
	closep(&t->cgroup_fds[1]);
}

static int not_running(const char *name, berr *err)
{
	return berr_setx(err, ESRCH, "instance %s is not running (start it with: berth start %s)",
			 name, name);
}

/* Open init's pidfd, and only then check that the pid still is that init. */
static int open_init(const char *name, const instance_paths *ip, instance_state *st, int *ret,
		     berr *err)
{
	int r = instance_state_load(ip->state, st, err), fd;
	struct stat sb;

	if (r == -ENOENT) {
		if (stat(ip->config, &sb) < 0 && errno == ENOENT)
			return berr_setx(err, ENOENT, "no instance %s (see berth list)", name);
		return not_running(name, err);
	}
	if (r < 0)
		return r;
	if (st->init_pid <= 0 || st->init_start == 0)
		return not_running(name, err);
	fd = (int)syscall(SYS_pidfd_open, st->init_pid, 0);
	if (fd < 0 && errno != ESRCH)
		return berr_set(err, errno, "pidfd_open of init (pid %d)", (int)st->init_pid);
	if (fd < 0 || proc_start_time(st->init_pid) != st->init_start) {
		closep(&fd);
		if (str_eq(st->state, "starting") || str_eq(st->state, "rebooting"))
			return berr_setx(err, EAGAIN, "instance %s is %s (try again in a moment)",
					 name, st->state);
		return not_running(name, err);
	}
	*ret = fd;
	return 0;
}

/* Init's cgroup v2 path from /proc/PID/cgroup, without the leading '/'. */
static int init_cgroup_read(pid_t pid, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char path[64], *save = NULL;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	r = read_file_at(AT_FDCWD, path, &text, NULL);
	if (r < 0)
		return r;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (str_startswith(l, "0::/") && strlen(l + 4) < size) {
			strcpy(buf, l + 4);
			return 0;
		}
	return -ENOENT;
}

static int cgroup_open(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

static int open_cgroups(pid_t init_pid, const char *leaf, exec_target *t, berr *err)
{
	_cleanup_free_ char *mnt = NULL;
	_cleanup_close_ int rootfd = -EBADF;
	char own[CGROUP_PATH_MAX];
	size_t len = strlen(leaf);
	int r = cg_find_mount("/proc/self/mountinfo", &mnt, err);

	if (r < 0)
		return r;
	rootfd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, errno, "open cgroup2 root %s", mnt);
	/* systemd moves itself to init.scope: the instance's own cgroup then has children. */
	if (init_cgroup_read(init_pid, own, sizeof(own)) >= 0 && strncmp(own, leaf, len) == 0 &&
	    own[len] == '/' && (r = cgroup_open(rootfd, own)) >= 0) {
		t->cgroup_fds[0] = r;
		strcpy(t->cgroup_names[0], own);
	}
	r = cgroup_open(rootfd, leaf);
	if (r < 0)
		return berr_set(err, -r, "open the instance's cgroup %s/%s", mnt, leaf);
	t->cgroup_fds[1] = r;
	snprintf(t->cgroup_names[1], sizeof(t->cgroup_names[1]), "%s", leaf);
	return 0;
}

/* A process cloned into a frozen cgroup freezes at once: berth would wait forever. */
static bool cgroup_frozen(int dirfd)
{
	_cleanup_free_ char *buf = NULL;

	return read_file_at(dirfd, "cgroup.events", &buf, NULL) >= 0 && strstr(buf, "frozen 1");
}

/* An instance run with --userns=host shares ours: joining it again is EINVAL. */
static int userns_differs(pid_t pid, bool *ret, berr *err)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &a) < 0)
		return berr_set(err, errno, "stat %s", path);
	if (stat("/proc/self/ns/user", &b) < 0)
		return berr_set(err, errno, "stat /proc/self/ns/user");
	*ret = a.st_ino != b.st_ino || a.st_dev != b.st_dev;
	return 0;
}

static int exec_target_find(const berth_paths *p, const char *name, exec_target *t, berr *err)
{
	instance_paths ip = {0};
	instance_state st = {0};
	int r = instance_paths_init(&ip, p, name);

	if (r < 0)
		return berr_set(err, -r, "paths of instance %s", name);
	r = open_init(name, &ip, &st, &t->init_pidfd, err);
	if (r >= 0)
		r = open_cgroups(st.init_pid, st.cgroup[0] ? st.cgroup : ip.cgroup, t, err);
	if (r >= 0 && cgroup_frozen(t->cgroup_fds[1]))
		r = berr_setx(err, EBUSY, "instance %s is frozen (thaw it first)", name);
	if (r >= 0)
		r = userns_differs(st.init_pid, &t->join_userns, err);
	/* It may have ended while we looked. */
	if (r >= 0 && proc_start_time(st.init_pid) != st.init_start)
		r = not_running(name, err);
	if (r >= 0)
		log_debug("exec in %s: init is host pid %d, cgroup %s%s%s, %s user namespace", name,
			  (int)st.init_pid, t->cgroup_names[1],
			  t->cgroup_fds[0] >= 0 ? ", init's own " : "", t->cgroup_names[0],
			  t->join_userns ? "own" : "host");
	instance_paths_free(&ip);
	return r;
}

/* ---- In the instance: the command's side. ---- */

_Noreturn static void exec_fail(int sock, int status, const berr *err)
{
	sync_msg m = {.kind = SYNC_ERROR, .exit_status = status, .err = *err};

	sync_send(sock, &m, -EBADF);
	_exit(status);
}

/* Init's limits (PID 1 here), lowered to at most ours: berth cannot raise a hard limit. */
static void rlimits_follow_init(void)
{
	for (int res = 0; res < RLIM_NLIMITS; res++) {
		struct rlimit mine, init;

		if (getrlimit(res, &mine) < 0 || prlimit(1, res, NULL, &init) < 0)
			continue;
		if (init.rlim_max < mine.rlim_max)
			mine.rlim_max = init.rlim_max;
		mine.rlim_cur = init.rlim_cur < mine.rlim_max ? init.rlim_cur : mine.rlim_max;
		setrlimit(res, &mine);
	}
}

static int become_user(const exec_user *u, berr *err)
{
	if (setgroups(u->n_groups, u->groups) < 0)
		return berr_set(err, errno, "setgroups for user %u", (unsigned)u->uid);
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return berr_set(err, errno, "setresgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return berr_set(err, errno, "setresuid %u", (unsigned)u->uid);
	return 0;
}

/* After the switch to the user: -w must work for them; the home may be missing. */
static int enter_directory(const exec_opts *o, const exec_user *u, berr *err)
{
	if (o->cwd) {
		if (chdir(o->cwd) < 0)
			return berr_set(err, errno, "working directory %s", o->cwd);
		return 0;
	}
	if (chdir(u->home) < 0 && chdir("/") < 0)
		return berr_set(err, errno, "working directory /");
	return 0;
}

/* PATH, HOME, USER, LOGNAME, SHELL, TERM, container=berth, then -e. */
static char **exec_env(const exec_opts *o, const exec_user *u, char *term_kv)
{
	_cleanup_free_ char **user_env = NULL;
	size_t n = 0, extra = 0;
	char *kv[4];

	for (char **e = o->env; e && *e; e++)
		extra++;
	user_env = calloc(ARRAY_SIZE(kv) + extra + 1, sizeof(char *));
	kv[0] = str_printf("HOME=%s", u->home);
	kv[1] = u->name[0] ? str_printf("USER=%s", u->name) : str_printf("USER=%u", u->uid);
	kv[2] = str_printf("LOGNAME=%s", kv[1] ? kv[1] + 5 : "");
	kv[3] = str_printf("SHELL=%s", u->shell);
	if (!user_env || !kv[0] || !kv[1] || !kv[2] || !kv[3])
		return NULL; /* the process execs or exits next: nothing to free */
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++)
		user_env[n++] = kv[i];
	for (char **e = o->env; e && *e; e++)
		user_env[n++] = *e;
	return env_build(user_env, term_kv);
}

/* berth waits for the command; if berth dies, the command must not outlive it on a host reaper. */
static void watch_berth(int sock)
{
	struct pollfd p = {.fd = sock, .events = POLLIN};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&p, 1, 0) > 0 && (p.revents & POLLHUP))
		_exit(EXIT_SETUP_FAILED);
}

static int setup_tty(const exec_user *u, const struct winsize *ws, int sock, berr *err)
{
	_cleanup_close_ int master = -EBADF;
	sync_msg m = {.kind = SYNC_CONSOLE};
	int slave = -EBADF, r = pty_open_in_instance(u->uid, ws, &master, &slave, err);

	if (r < 0)
		return r;
	r = sync_send(sock, &m, master);
	if (r < 0) {
		close(slave);
		return berr_set(err, -r, "hand over the pty");
	}
	return pty_make_stdio(slave, err);
}

_Noreturn static void command_main(const exec_ctx *c, int sock)
{
	const exec_opts *o = c->o;
	char *login_args[] = {NULL, "-l", NULL}, **args = o->args;
	exec_user u;
	berr err = {0};
	int r;

	/*
	 * Only the sync socket is needed from here: nothing berth held on the host side
	 * (pidfds, signalfd, pipes) may be reachable by `-w /proc/self/fd/N`.
	 */
	close_range(3, (unsigned int)sock - 1, 0);
	close_range((unsigned int)sock + 1, ~0U, 0);
	if (chdir("/") < 0)
		berr_set(&err, errno, "chdir / in the instance");
	if (err.code || ns_become_root(&err) < 0 || exec_user_lookup(o->user, &u, &err) < 0)
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	rlimits_follow_init();
	if (o->tty && setup_tty(&u, c->have_ws ? &c->ws : NULL, sock, &err) < 0)
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	if (o->login) {
		login_args[0] = u.shell;
		args = login_args;
	}
	environ = exec_env(o, &u, c->term_kv);
	if (!environ) {
		berr_set(&err, ENOMEM, "environment");
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	/* Seccomp while still root here: a plain user could not load it without no_new_privs. */
	if (caps_apply(&err) < 0 || sec_load(&err) < 0 || become_user(&u, &err) < 0 ||
	    enter_directory(o, &u, &err) < 0)
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	watch_berth(sock);
	/* Only 0-2 reach the command; the sync socket closes at exec, telling berth. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		berr_set(&err, errno, "close_range");
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	signals_reset();
	execvp(args[0], args);
	r = errno;
	berr_set(&err, r, "exec %s", args[0]);
	exec_fail(sock, r == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, &err);
}

/* ---- The middle process: in the cgroup, joins the namespaces, forks the command. ---- */

_Noreturn static void middle_main(exec_ctx *c, int sock)
{
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
		    CLONE_NEWCGROUP | (c->t.join_userns ? CLONE_NEWUSER : 0);
	int pidfd = -EBADF;
	struct clone_args args = {
		.flags = CLONE_PARENT | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
	};
	sync_msg m = {.kind = SYNC_EXEC_PIDFD};
	berr err = {0};
	pid_t pid;

	/* The command's memory holds the host's environment until exec: keep /proc/PID shut. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		berr_set(&err, errno, "PR_SET_DUMPABLE");
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	if (setns(c->t.init_pidfd, flags) < 0) {
		berr_set(&err, errno, "join the instance's namespaces");
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	/* Nothing of the host goes further (CVE-2024-21626: no host directory fd, no host cwd). */
	exec_target_close(&c->t);
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOMEM) {
		/* A PID namespace whose init has died takes no new process. */
		berr_setx(&err, ESRCH, "the instance is shutting down");
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	if (pid < 0) {
		berr_set(&err, errno, "fork in the instance's PID namespace");
		exec_fail(sock, EXIT_SETUP_FAILED, &err);
	}
	if (pid == 0)
		command_main(c, sock);
	sync_send(sock, &m, pidfd);
	_exit(0);
}

/* ---- The host side: spawn, wait for setup, wait for the end. ---- */

typedef struct exec_proc {
	int middle_pidfd;
	int cmd_pidfd;
	int master;
	int sock;
} exec_proc;

static int spawn_middle(exec_ctx *c, exec_proc *ret, berr *err)
{
	exec_target *t = &c->t;
	struct clone_args args = {
		.flags = CLONE_PIDFD | CLONE_INTO_CGROUP,
		.pidfd = (uint64_t)(uintptr_t)&ret->middle_pidfd,
		.exit_signal = SIGCHLD,
	};
	pid_t pid = -1;
	int sv[2], e = 0, i;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_set(err, errno, "socketpair");
	fflush(NULL);
	/* Init's own cgroup first; the instance's when that one refuses (not a leaf, gone). */
	for (i = 0; i < 2 && pid < 0; i++) {
		if (t->cgroup_fds[i] < 0)
			continue;
		args.cgroup = (uint64_t)t->cgroup_fds[i];
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		e = errno;
		if (pid < 0)
			log_debug("clone3 into cgroup %s: %s", t->cgroup_names[i], strerror(e));
	}
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return berr_set(err, e, "clone3 into the instance's cgroup %s", t->cgroup_names[1]);
	}
	if (pid == 0) {
		close(sv[0]);
		middle_main(c, sv[1]);
	}
	close(sv[1]);
	ret->sock = sv[0];
	return 0;
}

/*
 * Messages until EOF (the command exec'd, or failed). Read on after an error: the
 * command's pidfd may come after it, and the command is ours to reap.
 */
static int await_exec(exec_proc *proc, int *ret_status, berr *err)
{
	berr failed = {0};

	for (;;) {
		sync_msg m;
		int fd = -EBADF, r = sync_recv(proc->sock, &m, &fd);

		if (r == 0)
			break;
		if (r < 0)
			return berr_set(err, -r, "wait for the command to start");
		if (m.kind == SYNC_EXEC_PIDFD && proc->cmd_pidfd < 0) {
			proc->cmd_pidfd = TAKE_FD(fd);
		} else if (m.kind == SYNC_CONSOLE && proc->master < 0) {
			proc->master = TAKE_FD(fd);
		} else if (m.kind == SYNC_ERROR && !failed.code) {
			failed = m.err;
			failed.code = failed.code ? failed.code : EINVAL;
			*ret_status = m.exit_status;
		}
		closep(&fd);
	}
	if (failed.code) {
		*err = failed;
		return -failed.code;
	}
	if (proc->cmd_pidfd < 0)
		return berr_setx(err, EPROTO,
				 "the helper process ended before the command started");
	return 0;
}

static int status_of(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

static int reap(int pidfd, siginfo_t *ret)
{
	siginfo_t si = {0};
	int r;

	if (pidfd < 0)
		return -ECHILD;
	do
		r = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (ret)
		*ret = si;
	return 0;
}

/*
 * Without a pty the command shares our terminal and process group: a Ctrl-C
 * reaches it from the kernel already. Forward only what was sent to berth.
 */
static int wait_plain(const exec_proc *proc, int sigfd)
{
	struct pollfd fds[2] = {{.fd = proc->cmd_pidfd, .events = POLLIN},
				{.fd = sigfd, .events = POLLIN}};

	for (;;) {
		struct signalfd_siginfo ssi;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[0].revents)
			return 0;
		if (read(sigfd, &ssi, sizeof(ssi)) == sizeof(ssi) && ssi.ssi_code != SI_KERNEL &&
		    ssi.ssi_signo != SIGPIPE && ssi.ssi_signo != SIGWINCH)
			syscall(SYS_pidfd_send_signal, proc->cmd_pidfd, (int)ssi.ssi_signo, NULL,
				0);
	}
}

static int run_command(exec_ctx *c, int sigfd, int *ret_status, berr *err)
{
	exec_proc proc = {.middle_pidfd = -EBADF,
			  .cmd_pidfd = -EBADF,
			  .master = -EBADF,
			  .sock = -EBADF};
	siginfo_t si;
	int r2, r = spawn_middle(c, &proc, err);

	if (r >= 0)
		r = await_exec(&proc, ret_status, err);
	closep(&proc.sock);
	reap(proc.middle_pidfd, NULL);
	if (r >= 0 && c->o->tty) {
		r = pty_relay(proc.master, proc.cmd_pidfd, sigfd, err);
	} else if (r >= 0) {
		r = wait_plain(&proc, sigfd);
		if (r < 0)
			berr_set(err, -r, "wait for the command");
	}
	if (r < 0 && proc.cmd_pidfd >= 0)
		syscall(SYS_pidfd_send_signal, proc.cmd_pidfd, SIGKILL, NULL, 0);
	r2 = reap(proc.cmd_pidfd, &si);
	if (r >= 0 && r2 < 0)
		r = berr_set(err, -r2, "wait for the command");
	if (r >= 0)
		*ret_status = status_of(&si);
	closep(&proc.middle_pidfd);
	closep(&proc.cmd_pidfd);
	closep(&proc.master);
	return r;
}

/*
 * A closed fd 0, 1 or 2 would be reused by the sync socket, which the command's
 * dup2 of its pty would then close under it: put /dev/null there instead.
 */
static int stdio_ensure_open(berr *err)
{
	for (int fd = 0; fd < 3; fd++) {
		int r;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		r = open("/dev/null", O_RDWR);
		if (r < 0)
			return berr_set(err, errno, "open /dev/null");
		if (r != fd) {
			close(r);
			return berr_setx(err, EBADF, "fd %d is closed and cannot be reopened", fd);
		}
	}
	return 0;
}

/* What came and was not relayed (a SIGPIPE, a late SIGWINCH) must not strike on unblock. */
static void signals_drain(int sigfd)
{
	struct pollfd p = {.fd = sigfd, .events = POLLIN};
	struct signalfd_siginfo ssi;

	while (poll(&p, 1, 0) > 0 && read(sigfd, &ssi, sizeof(ssi)) == sizeof(ssi))
		;
}

int instance_exec(const berth_paths *p, const char *name, const exec_opts *o, int *ret_status,
		  berr *err)
{
	static const int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGPIPE};
	exec_ctx c = {.t = {.init_pidfd = -EBADF, .cgroup_fds = {-EBADF, -EBADF}}, .o = o};
	_cleanup_free_ char *term_kv = NULL;
	_cleanup_close_ int sigfd = -EBADF;
	const char *term = getenv("TERM");
	struct sigaction saved_chld;
	sigset_t mask, saved;
	int r;

	*ret_status = EXIT_SETUP_FAILED;
	if (!o->login && (!o->args || !o->args[0]))
		return berr_setx(err, EINVAL, "no command given");
	r = instance_name_check(name, err);
	if (r >= 0)
		r = stdio_ensure_open(err);
	if (r >= 0)
		r = exec_target_find(p, name, &c.t, err);
	if (r < 0) {
		exec_target_close(&c.t);
		return r;
	}
	if (term && term[0])
		c.term_kv = term_kv = str_printf("TERM=%s", term);
	else if (o->tty)
		c.term_kv = term_kv = strdup("TERM=xterm");
	c.have_ws = o->tty && pty_winsize_get(&c.ws);
	/* Blocked before the clone, so none slips by; the command unblocks them before exec. */
	sigemptyset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(relayed); i++)
		sigaddset(&mask, relayed[i]);
	sigprocmask(SIG_BLOCK, &mask, &saved);
	/* Inherited SIG_IGN would reap the command behind our back, and lose its status. */
	sigaction(SIGCHLD, &(struct sigaction){.sa_handler = SIG_DFL}, &saved_chld);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0)
		r = berr_set(err, errno, "signalfd");
	else
		r = run_command(&c, sigfd, ret_status, err);
	exec_target_close(&c.t);
	if (sigfd >= 0)
		signals_drain(sigfd);
	sigaction(SIGCHLD, &saved_chld, NULL);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return r;
}
