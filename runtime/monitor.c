/* SPDX-License-Identifier: MIT */
/*
 * The monitor: one small process per running instance. It boots the
 * instance, records its state, serves its console, and waits in one epoll
 * loop on init's pidfd, its own signals, the console and a stop timer. When
 * init dies of SIGHUP (reboot(2) RESTART inside the PID namespace) it tears
 * the instance down and boots it again; any other end is a stop.
 *
 * It also serves the guest's sd_notify socket (notify.c): a guest systemd's
 * READY=1 and STATUS= go into state.json (berth start --wait-ready, status)
 * and on to the host's service manager (host_notify), for an init that does
 * not notify as soon as it runs.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include "rootfs.h"
#include "runtime-internal.h"

typedef struct monitor {
	const berth_paths *p;
	instance_paths ip;
	instance_config c;
	char *lower;
	console_server *cs;
	int epfd, sigfd, timerfd;
	container ct;
	instance_state st;
	bool stopping;  /* the monitor was asked to stop: no reboot */
	net_plan net;   /* this boot's network */
	char *resolv;   /* this boot's resolv.conf in the run dir, or NULL */
	char *host_dir; /* rundir/host, bound at /run/host */
	int notify_fd;  /* its "notify" socket */
	notify_state ns;
} monitor;

int instance_spec(const instance_config *c, const instance_paths *ip, const char *lower,
		  char *env_buf[4], char *args_buf[2], spec *ret, berr *err)
{
	spec_init(ret);
	/* systemd's container interface: who manages it, its id, where to say it is ready. */
	env_buf[0] = str_printf("container_uuid=%s", c->uuid);
	env_buf[1] = (char *)"container=berth";
	env_buf[2] = (char *)"NOTIFY_SOCKET=" GUEST_NOTIFY_SOCKET;
	env_buf[3] = NULL;
	if (!env_buf[0])
		return berr_set(err, ENOMEM, "environment");
	args_buf[0] = c->init;
	args_buf[1] = NULL;
	ret->process.args = args_buf;
	ret->process.env = env_buf;
	ret->root.path = lower;
	ret->hostname = c->hostname;
	ret->userns = c->userns;
	ret->uid_map = ret->gid_map = c->map;
	ret->upper_dir = ip->rw;
	ret->lower_no_idmap = c->lower_shifted;
	ret->console = true;
	ret->stage_dir = ip->rundir;
	ret->limits = &c->limits;
	return spec_validate(ret, err);
}

static void state_save(monitor *m, const char *state)
{
	berr err = {0};

	snprintf(m->st.state, sizeof(m->st.state), "%s", state);
	if (instance_state_save(m->ip.state, &m->st, &err) < 0)
		log_error("%s: %s", m->c.name, err.msg);
}

/* `berth set` may have changed the limits since the last boot: a reboot takes the saved ones. */
static void limits_reload(monitor *m)
{
	instance_config now;
	berr err = {0};

	if (instance_config_load(m->ip.config, &now, &err) < 0) {
		log_warn("%s: %s (booting with the limits read at start)", m->c.name, err.msg);
		return;
	}
	m->c.limits = now.limits;
	m->c.net = now.net; /* rates changed by berth set */
	instance_config_free(&now);
}

static int boot(monitor *m, berr *err)
{
	char *env[4] = {NULL}, *args[2];
	run_ctx ctx = {.paths = m->p,
		       .cgroup_mountinfo = "/proc/self/mountinfo",
		       .cgroup_name = m->ip.cgroup};
	struct epoll_event ev = {.events = EPOLLIN};
	spec s;
	int status, r;

	limits_reload(m);
	r = instance_spec(&m->c, &m->ip, m->lower, env, args, &s, err);
	/* Built at every boot: the addresses are the config's, so they survive reboots. */
	if (r >= 0)
		r = instance_net_plan(m->p, &m->c, &m->net, err);
	free(m->resolv);
	m->resolv = NULL;
	if (r >= 0)
		r = instance_net_resolv(m->p, &m->c, &m->ip, &m->resolv, err);
	s.net = &m->net;
	s.resolv_conf = m->resolv;
	s.host_dir = m->host_dir;
	if (r >= 0)
		r = container_start(&ctx, &s, &m->ct, &status, err);
	free(env[0]);
	if (r < 0)
		return r;
	m->st.init_pid = m->ct.pid;
	m->st.init_start = proc_start_time(m->ct.pid);
	m->st.started_at = (int64_t)time(NULL);
	m->st.boots++;
	/* An init that does not notify is ready once it runs; systemd says READY=1 itself. */
	m->ns = (notify_state){.ready = m->c.flavour != INIT_SYSTEMD};
	m->st.ready = m->ns.ready;
	m->st.status[0] = '\0';
	state_save(m, "running");
	if (m->ns.ready)
		host_notify("READY=1\nSTATUS=running");
	console_server_set_master(m->cs, TAKE_FD(m->ct.console_master));
	ev.data.fd = m->ct.pidfd;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->ct.pidfd, &ev) < 0)
		return berr_set(err, errno, "epoll");
	return 0;
}

/* The guest's sd_notify messages: record them, and tell the host once it is ready. */
static void guest_notified(monitor *m)
{
	bool was_ready = m->ns.ready;
	char line[GUEST_STATUS_MAX + 32], state[sizeof(m->st.state)];
	int r = notify_dispatch(m->notify_fd, m->ct.pid, &m->ns);

	if (r <= 0)
		return;
	m->st.ready = m->ns.ready;
	snprintf(m->st.status, sizeof(m->st.status), "%s", m->ns.status);
	memcpy(state, m->st.state, sizeof(state)); /* state_save writes m->st.state */
	state_save(m, state);
	snprintf(line, sizeof(line), "%sSTATUS=%s", m->ns.ready && !was_ready ? "READY=1\n" : "",
		 m->ns.status[0] ? m->ns.status : (m->ns.ready ? "ready" : "booting"));
	host_notify(line);
}

/* Ask init to halt; kill it when the stop timeout runs out. */
static void begin_stop(monitor *m)
{
	struct itimerspec t = {.it_value = {.tv_sec = m->c.stop_timeout}};
	int sig = instance_signals(&m->c).halt;

	if (m->stopping)
		return;
	m->stopping = true;
	host_notify("STOPPING=1\nSTATUS=stopping");
	if (!sig || syscall(SYS_pidfd_send_signal, m->ct.pidfd, sig, NULL, 0) < 0)
		t.it_value.tv_sec = 0, t.it_value.tv_nsec = 1;
	timerfd_settime(m->timerfd, 0, &t, NULL);
}

/* Wait until init is gone. */
static int run_loop(monitor *m)
{
	struct epoll_event ev[8];

	for (;;) {
		int n = epoll_wait(m->epfd, ev, ARRAY_SIZE(ev), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			uint64_t ticks;
			struct signalfd_siginfo ssi;

			if (fd == m->ct.pidfd)
				return 0;
			if (fd == m->sigfd && read(fd, &ssi, sizeof(ssi)) == sizeof(ssi))
				begin_stop(m);
			else if (fd == m->timerfd && read(fd, &ticks, sizeof(ticks)) > 0)
				syscall(SYS_pidfd_send_signal, m->ct.pidfd, SIGKILL, NULL, 0);
			else if (fd == console_server_fd(m->cs))
				console_server_dispatch(m->cs);
			else if (fd == m->notify_fd)
				guest_notified(m);
		}
	}
}

/* What ended init, for status: "reboot", "poweroff", "exited 3", "killed by SIGKILL". */
static bool classify_exit(const siginfo_t *si, char *buf, size_t size)
{
	if (si->si_code == CLD_EXITED) {
		snprintf(buf, size, "exited %d", si->si_status);
		return false;
	}
	if (si->si_status == SIGHUP) {
		snprintf(buf, size, "reboot");
		return true;
	}
	if (si->si_status == SIGINT)
		snprintf(buf, size, "poweroff");
	else
		snprintf(buf, size, "killed by SIG%s", sigabbrev_np(si->si_status));
	return false;
}

static bool end_boot(monitor *m)
{
	siginfo_t si = {0};
	berr err = {0};
	bool reboot = false;
	char note[160];

	epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->ct.pidfd, NULL);
	if (container_reap(&m->ct, &si) >= 0)
		reboot = classify_exit(&si, m->st.last_exit, sizeof(m->st.last_exit));
	reboot = reboot && !m->stopping;
	m->st.ready = false;
	/* Recorded before the cgroup goes: whoever sees it stopped also sees why. */
	state_save(m, reboot ? "rebooting" : "stopping");
	console_server_set_master(m->cs, -EBADF);
	if (container_destroy(&m->ct, &err) < 0)
		log_error("%s: %s", m->c.name, err.msg);
	/* The namespace is gone; wait until its host-side link is too. */
	if (m->net.mode != NET_NONE && netns_teardown(&m->net, &err) < 0)
		log_error("%s: %s", m->c.name, err.msg);
	if (reboot)
		host_notify("STATUS=rebooting");
	snprintf(note, sizeof(note), "\r\n[berth: %s %s: %s]\r\n", m->c.name,
		 reboot ? "rebooting" : "stopped", m->st.last_exit);
	console_server_note(m->cs, note);
	return reboot;
}

static int monitor_setup(monitor *m, const char *name, berr *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t stop;
	int r;

	if (instance_paths_init(&m->ip, m->p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = instance_config_load(m->ip.config, &m->c, err);
	if (r >= 0) /* host side of issue 8: below a delegated unit cgroup, if any */
		r = instance_cgroup_place(&m->ip, m->p, name, err);
	if (r >= 0)
		r = rootfs_template_resolve(m->p->templates, m->c.template, BERTH_BUSYBOX,
					    &m->lower, err);
	if (r >= 0 && m->c.lower_shifted && m->c.userns) {
		char *copy = NULL;

		r = shifted_lower_get(m->p, &m->c, m->lower, &copy, err);
		if (r >= 0) {
			free(m->lower);
			m->lower = copy;
		}
	}
	if (r >= 0 && (r = mkdir_p(m->ip.logdir, 0750)) < 0)
		berr_set(err, -r, "create %s", m->ip.logdir);
	/* The instance's own disk, mounted as rw/ for as long as this monitor lives. */
	if (r >= 0 && m->c.disk == DISK_IMAGE)
		r = disk_mount(m->ip.dir, m->ip.rw, err);
	if (r >= 0)
		r = console_server_new(m->ip.sock, m->ip.log, CONSOLE_LOG_MAX, &m->cs, err);
	if (r >= 0) {
		m->host_dir = str_printf("%s/host", m->ip.rundir);
		r = m->host_dir ? guest_host_dir_setup(m->host_dir, &m->notify_fd, err)
				: berr_set(err, ENOMEM, "paths");
	}
	if (r < 0)
		return r;
	/* A viewer that goes away must not kill the monitor. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	m->sigfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	m->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->sigfd < 0 || m->timerfd < 0 || m->epfd < 0)
		return berr_set(err, errno, "monitor event loop");
	int fds[] = {m->sigfd, m->timerfd, console_server_fd(m->cs), m->notify_fd};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		ev.data.fd = fds[i];
		if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return berr_set(err, errno, "epoll");
	}
	m->st.monitor_pid = getpid();
	m->st.monitor_start = proc_start_time(getpid());
	/* Boots since create, like the boots file; state.json has it before "ok" (boot()). */
	m->st.boots = instance_boots_read(&m->ip);
	snprintf(m->st.cgroup, sizeof(m->st.cgroup), "%s", m->ip.cgroup);
	return 0;
}

static void notify(int *fd, const char *line)
{
	if (*fd < 0)
		return;
	if (write(*fd, line, strlen(line)) < 0)
		log_debug("notify: %m");
	closep(fd);
	*fd = -EBADF;
}

int monitor_main(const berth_paths *p, const char *name, int notify_fd, int lock_fd, berr *err)
{
	monitor m = {.p = p,
		     .epfd = -EBADF,
		     .sigfd = -EBADF,
		     .timerfd = -EBADF,
		     .notify_fd = -EBADF,
		     .ct = {.pidfd = -EBADF, .console_master = -EBADF}};
	int r = monitor_setup(&m, name, err);

	while (r >= 0) {
		r = boot(&m, err);
		if (r < 0)
			break;
		notify(&notify_fd, "ok\n");
		/*
		 * After "ok", so that its fsync (0.3-0.5 ms on disk) is not on the path that
		 * `berth start` waits for; still under the lock. Until then, status takes the
		 * count from state.json (saved before "ok"); a restart waits for both this file
		 * and state "running" (reboot_running).
		 */
		boots_bump(&m.ip);
		closep(&lock_fd);
		r = run_loop(&m);
		if (r < 0) {
			berr_set(err, -r, "monitor loop");
			break;
		}
		if (!end_boot(&m))
			break;
	}
	if (r < 0 && notify_fd < 0) {
		/* Booted before, failed now (a reboot that could not start): say so in the log. */
		char line[sizeof(err->msg) + 32];

		snprintf(line, sizeof(line), "\r\n[berth: %s]\r\n", err->msg);
		if (m.cs)
			console_server_note(m.cs, line);
		snprintf(m.st.last_exit, sizeof(m.st.last_exit), "failed to boot");
	}
	if (m.st.monitor_pid)
		state_save(&m, "stopped");
	if (r < 0 && notify_fd >= 0) {
		char line[sizeof(err->msg) + 2];

		snprintf(line, sizeof(line), "%s\n", err->msg);
		notify(&notify_fd, line);
	}
	if (m.ct.priv) {
		berr ignore = {0};

		container_destroy(&m.ct, &ignore);
	}
	if (m.c.disk == DISK_IMAGE) {
		berr ignore = {0};

		if (disk_umount(m.ip.rw, &ignore) < 0)
			log_error("%s: %s", name, ignore.msg);
	}
	console_server_free(m.cs);
	closep(&m.epfd);
	closep(&m.sigfd);
	closep(&m.timerfd);
	closep(&m.notify_fd);
	if (m.host_dir)
		rm_rf_at(AT_FDCWD, m.host_dir);
	free(m.host_dir);
	closep(&lock_fd);
	free(m.lower);
	free(m.resolv);
	instance_config_free(&m.c);
	instance_paths_free(&m.ip);
	return r;
}
