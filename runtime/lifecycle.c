/* SPDX-License-Identifier: MIT */
/*
 * An instance's lifecycle: start (spawning the monitor), stop, restart, kill,
 * freeze and thaw, and live limit changes. Each runs under the instance's
 * lock (with_instance); the store and the shared helpers are in instance.c.
 */
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroups.h"
#include "runtime-internal.h"

/* Read the monitor's one line: "ok" once init runs, else the reason it could not start. */
static int await_monitor(int fd, const char *name, berr *err)
{
	char buf[sizeof(err->msg)];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(err, errno, "wait for the monitor of %s", name);
		len += (size_t)n;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (str_eq(buf, "ok"))
		return 0;
	if (len == 0)
		return berr_setx(err, EIO, "the monitor of %s died while starting it", name);
	return berr_setx(err, EIO, "%s", buf);
}

/* Close every fd from 3 up except keep[0] and keep[1] (both >= 3). */
static void close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	close_range(3, (unsigned int)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned int)lo + 1, (unsigned int)hi - 1, 0);
	close_range((unsigned int)hi + 1, ~0U, 0);
}

/*
 * The monitor outlives this command: a session of its own, no terminal, and
 * nothing inherited from the caller (an open file, a lock) but its own two fds.
 */
_Noreturn static void become_monitor(const berth_paths *p, const char *name, int notify_fd,
				     int lock_fd)
{
	berr err = {0};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigset_t none;

	setsid();
	if (fork() > 0)
		_exit(0); /* the monitor is a grandchild: never a session leader, never re-acquires a tty */
	/* Above 2, so that the stdio redirection below cannot land on them. */
	notify_fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 3);
	lock_fd = fcntl(lock_fd, F_DUPFD_CLOEXEC, 3);
	if (chdir("/") < 0 || null < 0 || notify_fd < 0 || lock_fd < 0)
		_exit(EXIT_SETUP_FAILED);
	for (int fd = 0; fd < 3; fd++)
		dup2(null, fd);
	close_all_but(notify_fd, lock_fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (monitor_main(p, name, notify_fd, lock_fd, &err) < 0)
		_exit(EXIT_SETUP_FAILED);
	_exit(0);
}

int instance_start(const berth_paths *p, const char *name, bool foreground, berr *err)
{
	_cleanup_close_ int lock = -EBADF, rd = -EBADF;
	instance_config c = {0};
	instance_paths ip;
	int pipefd[2], r;
	pid_t pid;

	r = instance_name_check(name, err);
	if (r < 0 || (r = instance_paths_init(&ip, p, name)) < 0)
		return r < 0 && !err->msg[0] ? berr_set(err, -r, "paths") : r;
	r = instance_load_config(&ip, name, &c, err);
	if (r >= 0)
		r = instance_lock(&ip, &lock, err);
	if (r >= 0)
		r = instance_running(&ip, err);
	if (r != 0)
		goto out; /* 1: already running */
	if (foreground) {
		r = monitor_main(p, name, -1, TAKE_FD(lock), err);
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = berr_set(err, errno, "pipe");
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		become_monitor(p, name, pipefd[1], lock);
	}
	close(pipefd[1]);
	rd = pipefd[0];
	if (pid < 0) {
		r = berr_set(err, errno, "fork the monitor");
		goto out;
	}
	waitpid(pid, NULL, 0);
	r = await_monitor(rd, name, err);
out:
	instance_config_free(&c);
	instance_paths_free(&ip);
	return r;
}

init_signals instance_signals(const instance_config *c)
{
	init_signals s = init_flavour_signals(c->flavour);

	if (c->halt_signal)
		s.halt = c->halt_signal;
	if (c->reboot_signal)
		s.reboot = c->reboot_signal;
	return s;
}

/*
 * Halt (unless force), wait up to timeout_s for the cgroup to empty, then kill
 * what is left; wait for the monitor to finish its teardown, and do it in its
 * place when it is gone. Called with the lock held.
 */
int stop_locked(const instance_paths *ip, const instance_config *c, unsigned int timeout_s,
		bool force, berr *err)
{
	_cleanup_close_ int cg = -EBADF;
	instance_state st = {0};
	berr ignore = {0};
	int sig = instance_signals(c).halt, r;

	r = instance_cgroup_open(ip, &cg, err);
	if (r == -ENOENT)
		return 1; /* not running */
	if (r < 0)
		return r;
	instance_state_load(ip->state, &st, &ignore);
	/* A frozen init cannot act on the signal: thaw, so that it shuts down cleanly. */
	if (!force && sig)
		cg_freeze(cg, false, FREEZE_WAIT_MS);
	if (cg_is_populated(cg) == 1 && !force && sig &&
	    instance_signal_init(&st, sig, c->name, &ignore) >= 0) {
		log_debug("%s: sent signal %d to init, waiting up to %u s", c->name, sig,
			  timeout_s);
		r = cg_wait_empty(cg, (int)(timeout_s * 1000));
		if (r == -ETIMEDOUT)
			log_warn("%s did not stop within %u s: killing it", c->name, timeout_s);
	}
	r = cg_kill_and_wait(cg, MONITOR_EXIT_WAIT_MS);
	if (r < 0)
		return berr_set(err, -r, "kill the processes of %s", c->name);
	instance_wait_monitor_exit(&st);
	/* What the monitor wrote meanwhile (a zombie monitor, e.g. a unit's, has written it). */
	instance_state now = {0};
	if (instance_state_load(ip->state, &now, &ignore) >= 0)
		st = now;
	if (!proc_alive(st.monitor_pid, st.monitor_start) && access(ip->state, F_OK) == 0 &&
	    !str_eq(st.state, "stopped")) {
		/* The monitor is gone: record the stop in its place. */
		snprintf(st.state, sizeof(st.state), "stopped");
		snprintf(st.last_exit, sizeof(st.last_exit), force ? "killed" : "stopped");
		instance_state_save(ip->state, &st, &ignore);
	}
	/* Removed by the monitor; when it was lost, by us. */
	_cleanup_free_ char *root = NULL;
	if (cg_find_mount("/proc/self/mountinfo", &root, &ignore) >= 0) {
		_cleanup_free_ char *leaf = str_printf("%s/%s", root, ip->cgroup);

		/* With the sub-cgroups a guest's systemd made in it. */
		r = leaf ? cg_rmdir_tree(AT_FDCWD, leaf) : 0;
		if (r < 0 && r != -ENOENT)
			return berr_set(err, -r, "remove cgroup %s", leaf);
		_cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd >= 0)
			cg_parent_prune(rootfd, ip->cgroup);
	}
	return 0;
}

#define READY_POLL_US 20000

int instance_wait_ready(const berth_paths *p, const char *name, unsigned int timeout_s, berr *err)
{
	instance_paths ip;
	instance_state st = {0};
	long waited_us = 0;
	int r = instance_paths_init(&ip, p, name);

	if (r < 0)
		return berr_set(err, -r, "paths");
	for (;; waited_us += READY_POLL_US) {
		berr ignore = {0};
		bool loaded = instance_state_load(ip.state, &st, &ignore) >= 0;

		if (loaded && str_eq(st.state, "running") && st.ready)
			break;
		if (loaded && (str_eq(st.state, "stopped") ||
			       !proc_alive(st.monitor_pid, st.monitor_start))) {
			r = berr_setx(err, EIO, "%s stopped before it was ready (%s)", name,
				      st.last_exit[0] ? st.last_exit : "no exit recorded");
			break;
		}
		if (waited_us >= (long)timeout_s * 1000000) {
			r = berr_setx(err, ETIMEDOUT,
				      "%s is not ready after %u s (it keeps running; its status: "
				      "%s; see berth console %s --log)",
				      name, timeout_s, st.status[0] ? st.status : "none", name);
			break;
		}
		usleep(READY_POLL_US);
	}
	instance_paths_free(&ip);
	return r;
}

struct stop_args {
	unsigned int timeout_s;
	bool force;
};

static int op_stop(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	const struct stop_args *a = arg;
	unsigned int timeout_s = a->timeout_s ? a->timeout_s : c->stop_timeout;
	char extend[64];

	/*
	 * As berth@.service's ExecStop: the stop may take longer than the unit's
	 * TimeoutStopSec; ask systemd for the instance's stop timeout plus the
	 * kill and the monitor's teardown (it never shortens the unit's own).
	 */
	snprintf(extend, sizeof(extend), "EXTEND_TIMEOUT_USEC=%llu",
		 (unsigned long long)(timeout_s + MONITOR_EXIT_WAIT_MS / 1000 + 10) * 1000000ull);
	host_notify(extend);
	return stop_locked(ip, c, timeout_s, a->force, err);
}

int instance_stop(const berth_paths *p, const char *name, unsigned int timeout_s, bool force,
		  berr *err)
{
	struct stop_args a = {.timeout_s = timeout_s, .force = force};

	return with_instance(p, name, err, op_stop, &a);
}

static int op_kill(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	instance_state st = {0};
	int r = instance_running(ip, err);

	if (r <= 0)
		return r < 0 ? r : berr_setx(err, ESRCH, "%s is not running", c->name);
	r = instance_state_load(ip->state, &st, err);
	return r < 0 ? r : instance_signal_init(&st, *(int *)arg, c->name, err);
}

int instance_kill(const berth_paths *p, const char *name, int sig, berr *err)
{
	return with_instance(p, name, err, op_kill, &sig);
}

static int op_freeze(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	_cleanup_close_ int cg = -EBADF;
	bool freeze = *(bool *)arg;
	int r = instance_cgroup_open(ip, &cg, err);

	if (r >= 0)
		r = cg_is_populated(cg);
	if (r == 0 || r == -ENOENT)
		return berr_setx(err, ESRCH, "%s is not running", c->name);
	if (r < 0)
		return berr_set(err, -r, "cgroup %s", ip->cgroup);
	r = cg_freeze(cg, freeze, FREEZE_WAIT_MS);
	if (r == -ETIMEDOUT)
		return berr_setx(err, ETIMEDOUT, "%s did not %s within %d ms", c->name,
				 freeze ? "freeze" : "thaw", FREEZE_WAIT_MS);
	return r < 0 ? berr_set(err, -r, "%s cgroup %s", freeze ? "freeze" : "thaw", ip->cgroup)
		     : 0;
}

int instance_freeze(const berth_paths *p, const char *name, bool freeze, berr *err)
{
	return with_instance(p, name, err, op_freeze, &freeze);
}

/* Ask init to reboot and wait until the monitor has booted it again. */
static int reboot_running(const instance_paths *ip, const instance_config *c, int sig, berr *err)
{
	instance_state st = {0};
	unsigned int before = instance_boots_read(ip);
	long waited_ms = 0, limit_ms = (long)(c->stop_timeout + 30) * 1000;
	int r = instance_state_load(ip->state, &st, err);

	if (r >= 0)
		r = instance_signal_init(&st, sig, c->name, err);
	if (r < 0)
		return r;
	for (; waited_ms < limit_ms; waited_ms += 20) {
		instance_state now = {0};
		berr ignore = {0};

		if (instance_boots_read(ip) > before &&
		    instance_state_load(ip->state, &now, &ignore) >= 0 &&
		    str_eq(now.state, "running"))
			return 0;
		if (instance_state_load(ip->state, &now, &ignore) >= 0 &&
		    str_eq(now.state, "stopped"))
			return berr_setx(err, EIO, "%s stopped instead of rebooting (%s)", c->name,
					 now.last_exit);
		usleep(20000);
	}
	return berr_setx(err, ETIMEDOUT, "%s did not come back within %ld s", c->name,
			 limit_ms / 1000);
}

static int op_restart(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	instance_state st = {0};
	berr ignore = {0};
	int sig = instance_signals(c).reboot, r = instance_running(ip, err);

	(void)arg;
	if (r < 0)
		return r;
	instance_state_load(ip->state, &st, &ignore);
	if (r == 1) {
		_cleanup_close_ int cg = -EBADF;

		/* A frozen init cannot act on its reboot signal: thaw it, as stop does. */
		if (instance_cgroup_open(ip, &cg, &ignore) >= 0)
			cg_freeze(cg, false, FREEZE_WAIT_MS);
	}
	/* A clean reboot needs init's cooperation and a monitor to boot it again. */
	if (r == 1 && sig && proc_alive(st.monitor_pid, st.monitor_start))
		return reboot_running(ip, c, sig, err);
	if (r == 1) {
		r = stop_locked(ip, c, c->stop_timeout, false, err);
		if (r < 0)
			return r;
	}
	return 2; /* start it: after the lock is released */
}

int instance_restart(const berth_paths *p, const char *name, berr *err)
{
	int r = with_instance(p, name, err, op_restart, NULL);

	return r == 2 ? instance_start(p, name, false, err) : r;
}

/*
 * What `set` writes: the changed limits, each io device whole (its other
 * rates as they stand), so that changing one rate keeps the others.
 */
static cg_limits limits_to_write(const cg_limits *merged, const cg_limits *changes)
{
	cg_limits w = *changes;

	for (size_t i = 0; i < w.n_io; i++)
		for (size_t j = 0; j < merged->n_io; j++)
			if (merged->io[j].major == w.io[i].major &&
			    merged->io[j].minor == w.io[i].minor)
				w.io[i] = merged->io[j];
	return w;
}

/* Write changes into the running instance's cgroup, then save next; undo the writes on failure. */
static int set_running(const instance_paths *ip, const instance_config *next,
		       const cg_limits *changes, berr *err)
{
	_cleanup_close_ int rootfd = -EBADF, cg = -EBADF;
	cg_limits w = limits_to_write(&next->limits, changes);
	cg_undo undo;
	int r = cgroup_root_open(&rootfd, err);

	if (r < 0)
		return r;
	cg = openat(rootfd, ip->cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return berr_set(err, errno, "open cgroup %s", ip->cgroup);
	_cleanup_free_ char *parent = strdup(ip->cgroup);
	char *slash = parent ? strrchr(parent, '/') : NULL;

	if (!slash)
		return berr_set(err, ENOMEM, "cgroup parent");
	*slash = '\0';
	r = cg_controllers_enable(rootfd, parent, &w, err);
	if (r >= 0)
		r = cg_limits_write(cg, &w, &undo, err);
	if (r < 0)
		return r;
	r = instance_config_save(ip->config, next, err);
	if (r < 0 && cg_undo_apply(cg, &undo) < 0)
		log_error("%s: could not put the old limits back after a failed save", next->name);
	return r < 0 ? r : 1;
}

static int op_set(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	const cg_limits *changes = arg;
	instance_config next = *c; /* shares c's strings: never freed */
	int r = cg_limits_merge(&next.limits, changes);

	if (r < 0)
		return berr_setx(err, ENOSPC, "io limits for more than %d devices",
				 CG_IO_DEVICES_MAX);
	r = limits_host_check(&next.limits, err);
	if (r < 0)
		return r;
	r = instance_running(ip, err);
	if (r < 0)
		return r;
	if (r == 1)
		return set_running(ip, &next, changes, err);
	return instance_config_save(ip->config, &next, err);
}

int instance_set(const berth_paths *p, const char *name, const cg_limits *changes, berr *err)
{
	if (!changes->set)
		return berr_setx(err, EINVAL, "no limit given (see berth set --help)");
	return with_instance(p, name, err, op_set, (void *)changes);
}
