/* SPDX-License-Identifier: MIT */
/*
 * Instances on disk and their lifecycle: create, delete, start (spawning the
 * monitor), stop, restart, kill, status, list. The cgroup is the truth about
 * whether an instance runs; state.json says what the monitor last knew.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroups.h"
#include "rootfs.h"
#include "runtime-internal.h"

#define MONITOR_EXIT_WAIT_MS 5000

int instance_paths_init(instance_paths *ip, const berth_paths *p, const char *name)
{
	*ip = (instance_paths){0};
	ip->dir = str_printf("%s/instances/%s", p->lib, name);
	ip->config = str_printf("%s/instances/%s/config.json", p->lib, name);
	ip->rw = str_printf("%s/instances/%s/rw", p->lib, name);
	ip->boots = str_printf("%s/instances/%s/boots", p->lib, name);
	ip->rundir = str_printf("%s/%s", p->run, name);
	ip->state = str_printf("%s/%s/state.json", p->run, name);
	ip->sock = str_printf("%s/%s/monitor.sock", p->run, name);
	ip->lock = str_printf("%s/%s/lock", p->run, name);
	ip->logdir = str_printf("%s/%s", p->log, name);
	ip->log = str_printf("%s/%s/console.log", p->log, name);
	ip->cgroup = str_printf("berth/%s", name);
	if (!ip->dir || !ip->config || !ip->rw || !ip->boots || !ip->rundir || !ip->state ||
	    !ip->sock || !ip->lock || !ip->logdir || !ip->log || !ip->cgroup) {
		instance_paths_free(ip);
		return -ENOMEM;
	}
	return 0;
}

void instance_paths_free(instance_paths *ip)
{
	char **v[] = {&ip->dir,  &ip->config, &ip->rw,     &ip->boots, &ip->rundir, &ip->state,
		      &ip->sock, &ip->lock,   &ip->logdir, &ip->log,   &ip->cgroup};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		free(*v[i]);
		*v[i] = NULL;
	}
}

uint64_t proc_start_time(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	const char *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
		return 0;
	/* comm may hold blanks and parentheses: fields count from the last ')'. */
	p = strrchr(buf, ')');
	/* A zombie is dead, however slowly its parent (often the host's PID 1) reaps it. */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
		   "%*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

void strv_free(char **v)
{
	for (char **s = v; s && *s; s++)
		free(*s);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Visible entries of dir (no dot names), sorted. A missing dir is an empty list. */
int list_dir_names(const char *dir, bool (*valid)(const char *), char ***ret)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v;
	size_t n = 0;

	if (!d && errno != ENOENT)
		return -errno;
	v = calloc(1, sizeof(char *));
	if (!v) {
		if (d)
			closedir(d);
		return -ENOMEM;
	}
	while (d && (de = readdir(d))) {
		char **nv;

		if (de->d_name[0] == '.' || (valid && !valid(de->d_name)))
			continue;
		nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			strv_free(nv ? nv : v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[++n] = NULL;
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof(char *), cmp_str);
	*ret = v;
	return 0;
}

int instance_list(const berth_paths *p, char ***ret_names, berr *err)
{
	_cleanup_free_ char *dir = str_printf("%s/instances", p->lib);
	int r = dir ? list_dir_names(dir, instance_name_valid, ret_names) : -ENOMEM;

	return r < 0 ? berr_set(err, -r, "list %s", dir ? dir : "instances") : 0;
}

/* Commands on one instance serialise here; the kernel drops the lock if we die. */
static int instance_lock(const instance_paths *ip, int *ret_fd, berr *err)
{
	int fd, r = mkdir_p(ip->rundir, 0700);

	if (r < 0)
		return berr_set(err, -r, "create %s", ip->rundir);
	fd = open(ip->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_set(err, errno, "open %s", ip->lock);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = errno;
			close(fd);
			return berr_set(err, r, "lock %s", ip->lock);
		}
	*ret_fd = fd;
	return 0;
}

/* The instance's cgroup leaf as an O_PATH fd; -ENOENT when it has none. */
static int instance_cgroup_open(const instance_paths *ip, int *ret_fd, berr *err)
{
	_cleanup_free_ char *root = NULL;
	_cleanup_close_ int rootfd = -EBADF;
	int r = cg_find_mount("/proc/self/mountinfo", &root, err);

	if (r < 0)
		return r;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berr_set(err, errno, "open %s", root);
	*ret_fd = openat(rootfd, ip->cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *ret_fd < 0 ? -errno : 0;
}

/* 1 running, 0 not, < 0 error. */
static int instance_running(const instance_paths *ip, berr *err)
{
	_cleanup_close_ int cg = -EBADF;
	int r = instance_cgroup_open(ip, &cg, err);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = cg_is_populated(cg);
	return r == -ENOENT ? 0 : r;
}

static int load_config(const instance_paths *ip, const char *name, instance_config *c, berr *err)
{
	struct stat st;

	if (stat(ip->dir, &st) < 0 && errno == ENOENT)
		return berr_setx(err, ENOENT, "no instance named %s (berth list shows them)", name);
	return instance_config_load(ip->config, c, err);
}

static unsigned int boots_read(const instance_paths *ip)
{
	_cleanup_free_ char *buf = NULL;
	uint32_t n = 0;

	if (read_file_at(AT_FDCWD, ip->boots, &buf, NULL) < 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	return parse_u32(buf, &n) < 0 ? 0 : n;
}

int boots_bump(const instance_paths *ip)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u\n", boots_read(ip) + 1);

	return write_file_atomic(ip->boots, buf, (size_t)n, 0644);
}

/* Is the process pid still the one that started at start? */
static bool proc_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && start != 0 && proc_start_time(pid) == start;
}

static int signal_init(const instance_state *st, int sig, const char *name, berr *err)
{
	_cleanup_close_ int pidfd = -EBADF;

	if (!proc_alive(st->init_pid, st->init_start))
		return berr_setx(err, ESRCH, "%s: its init (pid %d) is gone", name,
				 (int)st->init_pid);
	pidfd = (int)syscall(SYS_pidfd_open, st->init_pid, 0);
	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return berr_set(err, errno, "signal %d to init (pid %d)", sig, (int)st->init_pid);
	/* The pidfd was opened after the start-time check: check again against pid reuse. */
	if (!proc_alive(st->init_pid, st->init_start))
		return berr_setx(err, ESRCH, "%s: its init (pid %d) is gone", name,
				 (int)st->init_pid);
	return 0;
}

static void wait_monitor_exit(const instance_state *st)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct pollfd p;

	if (!proc_alive(st->monitor_pid, st->monitor_start))
		return;
	pidfd = (int)syscall(SYS_pidfd_open, st->monitor_pid, 0);
	if (pidfd < 0)
		return;
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	poll(&p, 1, MONITOR_EXIT_WAIT_MS);
}

static int read_uuid(char **ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_file_at(AT_FDCWD, "/proc/sys/kernel/random/uuid", &buf, NULL);

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Fill c from the options, validating everything before anything is written. */
static int config_from_opts(instance_config *c, const char *name, const create_opts *o,
			    const char *lower, berr *err)
{
	int r;

	instance_config_init(c);
	c->name = strdup(name);
	c->template = strdup(o->template ? o->template : ROOTFS_DEFAULT_TEMPLATE);
	c->hostname = strdup(o->hostname ? o->hostname : name);
	c->init = strdup(o->init ? o->init : "/sbin/init");
	if (!c->name || !c->template || !c->hostname || !c->init || read_uuid(&c->uuid) < 0)
		return berr_set(err, ENOMEM, "config");
	if (!spec_hostname_valid(c->hostname))
		return berr_setx(err, EINVAL,
				 "hostname \"%s\" is not valid (letters, digits, '-' "
				 "and '.', at most 64 characters)",
				 c->hostname);
	if (c->init[0] != '/')
		return berr_setx(err, EINVAL,
				 "init \"%s\" is not an absolute path (e.g. /sbin/init)", c->init);
	if (o->flavour) {
		r = init_flavour_parse(o->flavour, &c->flavour);
		if (r < 0)
			return berr_setx(err, EINVAL,
					 "init flavour \"%s\" is unknown (use systemd, "
					 "busybox, sysvinit, openrc or unknown)",
					 o->flavour);
	} else {
		c->flavour = init_flavour_detect(lower, NULL, c->init);
	}
	c->halt_signal = o->halt_signal;
	c->reboot_signal = o->reboot_signal;
	c->stop_timeout = o->stop_timeout ? o->stop_timeout : 30;
	c->autostart = o->autostart;
	c->userns = o->userns;
	if (o->idmap_set)
		c->map = o->map;
	c->created = (int64_t)time(NULL);
	return 0;
}

/* The writable layer: upper and work, owned by the instance's root so it can write them. */
static int make_rw(const char *dir, const instance_config *c, berr *err)
{
	static const char *const sub[] = {"", "/upper", "/work"};
	uid_t uid = c->userns ? c->map.outside : 0;

	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		_cleanup_free_ char *p = str_printf("%s/rw%s", dir, sub[i]);

		if (!p)
			return -ENOMEM;
		if (mkdir(p, 0755) < 0 || chown(p, uid, uid) < 0)
			return berr_set(err, errno, "create %s", p);
	}
	return 0;
}

int instance_create(const berth_paths *p, const char *name, const create_opts *o, berr *err)
{
	_cleanup_free_ char *lower = NULL, *tmp = NULL, *cfg_path = NULL, *parent = NULL;
	instance_config c;
	instance_paths ip;
	int r;

	r = instance_name_check(name, err);
	if (r < 0)
		return r;
	r = rootfs_template_resolve(p->templates,
				    o->template ? o->template : ROOTFS_DEFAULT_TEMPLATE,
				    BERTH_BUSYBOX, &lower, err);
	if (r < 0)
		return r;
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = config_from_opts(&c, name, o, lower, err);
	if (r < 0)
		goto out;
	if (access(ip.dir, F_OK) == 0) {
		r = berr_setx(err, EEXIST,
			      "instance %s already exists (berth delete %s first, or "
			      "choose another name)",
			      name, name);
		goto out;
	}
	/* Made aside and renamed into place: a half-made instance never appears. */
	parent = str_printf("%s/instances", p->lib);
	tmp = str_printf("%s/.%s.tmp-%d", parent, name, (int)getpid());
	cfg_path = str_printf("%s/config.json", tmp);
	if (!parent || !tmp || !cfg_path) {
		r = berr_set(err, ENOMEM, "paths");
		goto out;
	}
	r = mkdir_p(parent, 0700);
	if (r < 0 || mkdir(tmp, 0700) < 0) {
		r = berr_set(err, r < 0 ? -r : errno, "create %s", tmp);
		goto out;
	}
	r = make_rw(tmp, &c, err);
	if (r >= 0)
		r = instance_config_save(cfg_path, &c, err);
	if (r >= 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, ip.dir, RENAME_NOREPLACE) < 0)
		r = errno == EEXIST ? berr_setx(err, EEXIST, "instance %s already exists", name)
				    : berr_set(err, errno, "rename %s to %s", tmp, ip.dir);
	if (r < 0)
		rm_rf_at(AT_FDCWD, tmp);
out:
	instance_config_free(&c);
	instance_paths_free(&ip);
	return r;
}

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
	r = load_config(&ip, name, &c, err);
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
static int stop_locked(const instance_paths *ip, const instance_config *c, unsigned int timeout_s,
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
	if (cg_is_populated(cg) == 1 && !force && sig &&
	    signal_init(&st, sig, c->name, &ignore) >= 0) {
		log_debug("%s: sent signal %d to init, waiting up to %u s", c->name, sig,
			  timeout_s);
		r = cg_wait_empty(cg, (int)(timeout_s * 1000));
		if (r == -ETIMEDOUT)
			log_warn("%s did not stop within %u s: killing it", c->name, timeout_s);
	}
	r = cg_kill_and_wait(cg, MONITOR_EXIT_WAIT_MS);
	if (r < 0)
		return berr_set(err, -r, "kill the processes of %s", c->name);
	wait_monitor_exit(&st);
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

		if (leaf && rmdir(leaf) < 0 && errno != ENOENT)
			return berr_set(err, errno, "remove cgroup %s", leaf);
	}
	return 0;
}

/* Lock, load the config, and run op. Shared by the verbs that act on one existing instance. */
static int with_instance(const berth_paths *p, const char *name, berr *err,
			 int (*op)(const instance_paths *ip, const instance_config *c, void *arg,
				   berr *err),
			 void *arg)
{
	_cleanup_close_ int lock = -EBADF;
	instance_config c = {0};
	instance_paths ip;
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = load_config(&ip, name, &c, err);
	if (r >= 0)
		r = instance_lock(&ip, &lock, err);
	if (r >= 0)
		r = op(&ip, &c, arg, err);
	instance_config_free(&c);
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

	return stop_locked(ip, c, a->timeout_s ? a->timeout_s : c->stop_timeout, a->force, err);
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
	return r < 0 ? r : signal_init(&st, *(int *)arg, c->name, err);
}

int instance_kill(const berth_paths *p, const char *name, int sig, berr *err)
{
	return with_instance(p, name, err, op_kill, &sig);
}

/* Ask init to reboot and wait until the monitor has booted it again. */
static int reboot_running(const instance_paths *ip, const instance_config *c, int sig, berr *err)
{
	instance_state st = {0};
	unsigned int before = boots_read(ip);
	long waited_ms = 0, limit_ms = (long)(c->stop_timeout + 30) * 1000;
	int r = instance_state_load(ip->state, &st, err);

	if (r >= 0)
		r = signal_init(&st, sig, c->name, err);
	if (r < 0)
		return r;
	for (; waited_ms < limit_ms; waited_ms += 20) {
		instance_state now = {0};
		berr ignore = {0};

		if (boots_read(ip) > before && instance_state_load(ip->state, &now, &ignore) >= 0 &&
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

static int op_delete(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	_cleanup_free_ char *tmp = str_printf("%s.deleting-%d", ip->dir, (int)getpid());
	int r = instance_running(ip, err);

	if (r < 0)
		return r;
	if (r == 1 && !*(bool *)arg)
		return berr_setx(err, EBUSY,
				 "%s is running (berth stop %s first, or delete --force)", c->name,
				 c->name);
	if (r == 1 && (r = stop_locked(ip, c, 0, true, err)) < 0)
		return r;
	if (!tmp)
		return berr_set(err, ENOMEM, "paths");
	/* Out of sight first, so that a half-deleted instance never shows. */
	if (rename(ip->dir, tmp) < 0)
		return berr_set(err, errno, "delete %s", ip->dir);
	r = rm_rf_at(AT_FDCWD, tmp);
	if (r < 0)
		return berr_set(err, -r, "remove %s", tmp);
	rm_rf_at(AT_FDCWD, ip->logdir);
	unlink(ip->state);
	unlink(ip->sock);
	/* The lock file goes last; we hold it until we return. */
	rm_rf_at(AT_FDCWD, ip->rundir);
	return 0;
}

int instance_delete(const berth_paths *p, const char *name, bool force, berr *err)
{
	return with_instance(p, name, err, op_delete, &force);
}

int instance_status_get(const berth_paths *p, const char *name, instance_status *ret, berr *err)
{
	instance_paths ip;
	berr ignore = {0};
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	*ret = (instance_status){0};
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = load_config(&ip, name, &ret->config, err);
	if (r >= 0) {
		instance_state_load(ip.state, &ret->state, &ignore);
		r = instance_running(&ip, err);
		ret->running = r == 1;
		ret->monitor_alive = proc_alive(ret->state.monitor_pid, ret->state.monitor_start);
		ret->boots = boots_read(&ip);
	}
	instance_paths_free(&ip);
	if (r < 0)
		instance_status_free(ret);
	return r < 0 ? r : 0;
}

void instance_status_free(instance_status *st) { instance_config_free(&st->config); }
