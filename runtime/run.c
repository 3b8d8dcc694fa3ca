/* SPDX-License-Identifier: MIT */
/*
 * runtime_run: the parent side. Create the cgroup leaf, clone3 the child into
 * fresh namespaces and that leaf, write its id maps, hand it the idmapped
 * lower layer, wait for exec, then relay signals and wait for the end.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroups.h"
#include "rootfs.h"
#include "runtime-internal.h"

#define TEARDOWN_TIMEOUT_MS 5000

typedef struct container_priv {
	cg_leaf leaf;
} container_priv;

typedef struct child {
	pid_t pid;
	int pidfd;
	int sock;           /* parent's end of the sync socketpair */
	int console_master; /* sent by the child with spec.console */
} child;

/*
 * Hybrid hosts (cgroup v1 hierarchies beside cgroup2): root in a user namespace that
 * owns its cgroup namespace may mount the host's v1 hierarchies (mount -t cgroup -o
 * memory). There the instance gets a cgroup namespace made by host root instead, owned
 * by the host's user namespace, in which the kernel refuses every cgroup mount to the
 * instance; its cgroup2 is mounted from here. A pure cgroup2 host keeps the instance's
 * own cgroup namespace, so that containers inside can mount their cgroup2.
 * docs/SECURITY.md, "Hybrid hosts".
 */
static bool host_has_cgroup_v1(void)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	bool v1 = false;
	unsigned int hierarchy;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	/* Any v1 mount, named ones (name=systemd) included: each can be mounted again. */
	while (f && !v1 && getline(&line, &cap, f) > 0)
		v1 = strstr(line, " - cgroup ") != NULL;
	if (f)
		fclose(f);
	/* A controller bound to a v1 hierarchy mounted elsewhere (another mount namespace). */
	f = fopen("/proc/cgroups", "re");
	while (f && !v1 && getline(&line, &cap, f) > 0)
		v1 = line[0] != '#' && sscanf(line, "%*s %u", &hierarchy) == 1 && hierarchy != 0;
	if (f)
		fclose(f);
	return v1;
}

typedef struct host_cgroup {
	int ns;  /* the instance's cgroup namespace, rooted at its leaf */
	int mnt; /* cgroup2 mounted in it, detached, for the child to attach */
} host_cgroup;

static void host_cgroup_close(host_cgroup *h)
{
	closep(&h->ns);
	closep(&h->mnt);
}

/* A process cloned into the leaf with a new cgroup namespace lends it to us, then exits. */
static int leaf_cgroup_ns(const cg_leaf *leaf, int *ret, berr *err)
{
	int p[2], e = 0;
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP | CLONE_NEWCGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)leaf->dirfd,
	};
	char path[64], c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return berr_set(err, errno, "pipe");
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		close(p[1]);
		(void)!read(p[0], &c, 1); /* until we close our end, or die */
		_exit(0);
	}
	e = errno;
	close(p[0]);
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", (int)pid);
		*ret = open(path, O_RDONLY | O_CLOEXEC);
		e = errno;
	}
	close(p[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (pid < 0 || *ret < 0)
		return berr_set(err, e, "cgroup namespace for %s", leaf->name);
	return 0;
}

/* In h->ns (entered and left here): cgroup2 as the instance will see it. */
static int leaf_cgroup2_mount(host_cgroup *h, berr *err)
{
	_cleanup_close_ int self = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int fs = -EBADF;
	int e = 0;

	if (self < 0)
		return berr_set(err, errno, "open /proc/self/ns/cgroup");
	if (setns(h->ns, CLONE_NEWCGROUP) < 0)
		return berr_set(err, errno, "enter the instance's cgroup namespace");
	fs = fsopen("cgroup2", FSOPEN_CLOEXEC);
	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		e = errno;
	else if ((h->mnt = fsmount(fs, FSMOUNT_CLOEXEC,
				   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0)
		e = errno;
	if (setns(self, CLONE_NEWCGROUP) < 0)
		abort(); /* berth would go on in the instance's view of the cgroups */
	return e ? berr_set(err, e, "mount cgroup2 for the instance") : 0;
}

static int host_cgroup_prepare(const spec *s, const cg_leaf *leaf, host_cgroup *h, berr *err)
{
	int r;

	*h = (host_cgroup){.ns = -EBADF, .mnt = -EBADF};
	if (!s->userns || !host_has_cgroup_v1())
		return 0;
	r = leaf_cgroup_ns(leaf, &h->ns, err);
	if (r >= 0)
		r = leaf_cgroup2_mount(h, err);
	if (r < 0)
		host_cgroup_close(h);
	return r;
}

static int spawn_child(const spec *s, const cg_leaf *leaf, child *ret, berr *err)
{
	_cleanup_close_ int self_cgns = -EBADF;
	host_cgroup hc;
	int sv[2], pidfd = -EBADF, r;
	struct clone_args args = {
		.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
			 CLONE_NEWCGROUP | CLONE_PIDFD | CLONE_INTO_CGROUP |
			 (s->userns ? CLONE_NEWUSER : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)leaf->dirfd,
	};
	pid_t pid;
	int e;

	r = host_cgroup_prepare(s, leaf, &hc, err);
	if (r < 0)
		return r;
	if (hc.ns >= 0) {
		/* The child is born in the host-made cgroup namespace: CLONE_NEWCGROUP is left out. */
		self_cgns = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
		if (self_cgns < 0 || setns(hc.ns, CLONE_NEWCGROUP) < 0) {
			host_cgroup_close(&hc);
			return berr_set(err, errno, "enter the instance's cgroup namespace");
		}
		args.flags &= ~(uint64_t)CLONE_NEWCGROUP;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		sv[0] = sv[1] = -EBADF;
		pid = -2; /* not a clone3 failure: reported as the socketpair's below */
	} else {
		fflush(NULL); /* or the child's exit would write our buffers twice */
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	}
	e = errno;
	if (pid == 0) {
		close(sv[0]);
		child_main(s, sv[1], hc.mnt);
	}
	if (self_cgns >= 0 && setns(self_cgns, CLONE_NEWCGROUP) < 0)
		abort(); /* berth would go on in the instance's view of the cgroups */
	host_cgroup_close(&hc);
	if (pid == -2)
		return berr_set(err, e, "socketpair");
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return berr_set(err, e, "clone3 into new namespaces and cgroup %s", leaf->name);
	}
	close(sv[1]);
	*ret = (child){.pid = pid, .pidfd = pidfd, .sock = sv[0], .console_master = -EBADF};
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *data, berr *err)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	r = write_file_at(AT_FDCWD, path, data);
	return r < 0 ? berr_set(err, -r, "write %s", path) : 0;
}

static int write_idmaps(pid_t pid, const spec *s, berr *err)
{
	char uid[64], gid[64];
	int r;

	if (idmap_render(&s->uid_map, uid, sizeof(uid)) < 0 ||
	    idmap_render(&s->gid_map, gid, sizeof(gid)) < 0)
		return berr_setx(err, EINVAL, "id map too long");
	/* A whole range is mapped by host root: setgroups stays allowed, as guests need it. */
	r = write_proc(pid, "uid_map", uid, err);
	if (r >= 0)
		r = write_proc(pid, "gid_map", gid, err);
	return r;
}

/*
 * The network goes in while the child waits for SYNC_GO: the veth's peer is
 * moved into its namespace and configured there before anything of the
 * container runs.
 */
static int net_up(pid_t pid, const spec *s, berr *err)
{
	if (!s->net || s->net->mode == NET_NONE)
		return 0;
	return netns_setup(s->net, pid, err);
}

/* Undo net_up after a later failure; returns r. */
static int net_down(const spec *s, int r)
{
	berr ignore = {0};

	if (s->net && s->net->mode != NET_NONE && netns_teardown(s->net, &ignore) < 0)
		log_warn("%s", ignore.msg);
	return r;
}

/* Give the child its id maps and root, then wait until it has exec'd or failed. */
static int release_child(child *c, const spec *s, int *ret_status, berr *err)
{
	_cleanup_close_ int userns = -EBADF, lower = -EBADF;
	sync_msg m = {.kind = SYNC_GO};
	char path[64];
	int r;

	if (s->userns) {
		r = write_idmaps(c->pid, s, err);
		if (r < 0)
			return r;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c->pid);
		userns = open(path, O_RDONLY | O_CLOEXEC);
		if (userns < 0)
			return berr_set(err, errno, "open %s", path);
	}
	r = rootfs_open_lower(s->root.path, s->lower_no_idmap ? -EBADF : userns, &lower, err);
	if (r >= 0)
		r = net_up(c->pid, s, err);
	if (r < 0)
		return r;
	r = sync_send(c->sock, &m, lower);
	if (r < 0)
		return net_down(s, berr_set(err, -r, "release the container"));
	for (;;) {
		int fd = -EBADF;

		r = sync_recv(c->sock, &m, &fd);
		if (r == 0)
			return 0; /* EOF: the socket closed on exec */
		if (r < 0)
			return net_down(s, berr_set(err, -r, "wait for the container"));
		if (m.kind != SYNC_CONSOLE) {
			closep(&fd);
			break;
		}
		closep(&c->console_master);
		c->console_master = fd;
	}
	*err = m.err;
	*ret_status = m.exit_status;
	return net_down(s, -(m.err.code ? m.err.code : EINVAL));
}

/* Does pid catch or ignore sig? A PID-namespace init ignores signals it does neither with. */
static bool signal_handled(pid_t pid, int sig)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	unsigned long long ign = 0, cgt = 0;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
		return true;
	p = strstr(buf, "SigIgn:");
	if (p)
		sscanf(p, "SigIgn: %llx", &ign);
	p = strstr(buf, "SigCgt:");
	if (p)
		sscanf(p, "SigCgt: %llx", &cgt);
	return ((ign | cgt) >> (sig - 1)) & 1;
}

/*
 * Relay signals until the command exits (the pidfd turns readable). When the
 * command would have died of the signal outside a container (default
 * action), kill the cgroup and report that signal in *emulated.
 */
static int relay_signals(const container *c, int sigfd, int *emulated)
{
	struct pollfd fds[2] = {{.fd = c->pidfd, .events = POLLIN},
				{.fd = sigfd, .events = POLLIN}};
	container_priv *priv = c->priv;

	for (;;) {
		struct signalfd_siginfo ssi;
		int sig;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[0].revents & POLLIN)
			return 0;
		if (!(fds[1].revents & POLLIN) || read(sigfd, &ssi, sizeof(ssi)) != sizeof(ssi))
			continue;
		sig = (int)ssi.ssi_signo;
		syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0);
		if (!*emulated && !signal_handled(c->pid, sig)) {
			*emulated = sig;
			write_file_at(priv->leaf.dirfd, "cgroup.kill", "1");
		}
	}
}

static void child_kill_and_reap(child *c)
{
	siginfo_t si;

	syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
	waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED);
}

/*
 * "run.PID" whose berth is gone: left behind by a berth that was SIGKILLed.
 * The dot keeps these apart from instances, whose names cannot have one.
 */
static bool run_leaf_stale(const char *name)
{
	int pid;
	char end;

	if (sscanf(name, "run.%d%c", &pid, &end) != 1 || pid <= 0)
		return false;
	return kill(pid, 0) < 0 && errno == ESRCH;
}

static int open_cgroup_root(const char *mountinfo, int *ret_fd, berr *err)
{
	_cleanup_free_ char *path = NULL;
	int r = cg_find_mount(mountinfo, &path, err);

	if (r < 0)
		return r;
	*ret_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *ret_fd < 0 ? berr_set(err, errno, "open cgroup2 root %s", path) : 0;
}

/*
 * The limits go in before init runs, so that nothing in the container ever
 * runs unlimited: the controllers they need enabled down to the leaf's
 * parent, then the leaf's files, which stay host root's (not delegated).
 */
static int apply_limits(int cgroot, const cg_leaf *leaf, const cg_limits *l, berr *err)
{
	_cleanup_free_ char *parent = strdup(leaf->name);
	char *slash = parent ? strrchr(parent, '/') : NULL;
	int r;

	if (!l || !l->set)
		return 0;
	if (!parent)
		return berr_set(err, ENOMEM, "limits");
	if (slash)
		*slash = '\0';
	r = cg_controllers_check(cgroot, "/proc/cgroups", l, err);
	if (r >= 0)
		r = cg_controllers_enable(cgroot, slash ? parent : ".", l, err);
	if (r >= 0)
		r = cg_limits_write(leaf->dirfd, l, NULL, err);
	if (r < 0)
		berr_prefix(err, "limits for cgroup %s", leaf->name);
	return r;
}

/*
 * The device filter goes in before init runs too; it lives as long as the
 * leaf, so every failure path after this is undone by cg_leaf_destroy.
 */
static int apply_device_filter(const cg_leaf *leaf, berr *err)
{
	int r = cg_devices_attach(leaf->dirfd, err);

	if (r < 0)
		berr_prefix(err, "device filter for cgroup %s", leaf->name);
	return r;
}

int container_start(const run_ctx *ctx, const spec *s, container *ret, int *ret_status, berr *err)
{
	_cleanup_close_ int cgroot = -EBADF;
	uid_t owner = s->userns ? idmap_to_host(&s->uid_map, 0) : (uid_t)-1;
	gid_t group = s->userns ? idmap_to_host(&s->gid_map, 0) : (gid_t)-1;
	container_priv *priv = calloc(1, sizeof(*priv));
	child c = {.pid = 0, .pidfd = -EBADF, .sock = -EBADF, .console_master = -EBADF};
	int r;

	*ret_status = EXIT_SETUP_FAILED;
	if (!priv)
		return berr_set(err, ENOMEM, "container");
	priv->leaf = CG_LEAF_INIT;
	r = open_cgroup_root(ctx->cgroup_mountinfo, &cgroot, err);
	if (r >= 0)
		r = cg_leaf_create(cgroot, ctx->cgroup_name, owner, group, &priv->leaf, err);
	if (r < 0) {
		free(priv);
		return r;
	}
	log_debug("cgroup %s created, owned by %d:%d", priv->leaf.name, (int)owner, (int)group);
	r = apply_limits(cgroot, &priv->leaf, s->limits, err);
	if (r >= 0)
		r = apply_device_filter(&priv->leaf, err);
	if (r >= 0)
		r = spawn_child(s, &priv->leaf, &c, err);
	if (r >= 0) {
		log_debug("container init is host pid %d (user namespace: %s)", (int)c.pid,
			  s->userns ? "yes" : "no, --userns=host");
		r = release_child(&c, s, ret_status, err);
		if (r < 0)
			child_kill_and_reap(&c);
	}
	closep(&c.sock);
	if (r < 0) {
		berr cleanup_err = {0};

		closep(&c.pidfd);
		closep(&c.console_master);
		if (cg_leaf_destroy(&priv->leaf, TEARDOWN_TIMEOUT_MS, &cleanup_err) < 0)
			log_error("%s", cleanup_err.msg);
		cg_leaf_close(&priv->leaf);
		free(priv);
		return r;
	}
	log_debug("%s exec'd from %s", s->process.args[0], s->root.path);
	*ret = (container){.pid = c.pid,
			   .pidfd = c.pidfd,
			   .console_master = c.console_master,
			   .priv = priv};
	return 0;
}

int container_reap(container *c, siginfo_t *ret_info)
{
	siginfo_t si = {0};

	if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0)
		return -errno;
	*ret_info = si;
	return 0;
}

int container_destroy(container *c, berr *err)
{
	container_priv *priv = c->priv;
	int r = 0;

	if (priv) {
		r = cg_leaf_destroy(&priv->leaf, TEARDOWN_TIMEOUT_MS, err);
		cg_leaf_close(&priv->leaf);
		free(priv);
	}
	closep(&c->pidfd);
	closep(&c->console_master);
	*c = (container){.pidfd = -EBADF, .console_master = -EBADF};
	return r;
}

/*
 * A throwaway writable layer on disk, for kernels whose tmpfs keeps no user.*
 * xattrs (before 6.6): <lib>/tmp/run-PID/{upper,work}, owned by the
 * container's root, removed after the run; left behind only by a killed
 * berth, and then removed by the next run.
 */
static int scratch_layer(const run_ctx *ctx, const spec *s, char **ret, berr *err)
{
	static const char *const sub[] = {"", "/upper", "/work"};
	_cleanup_free_ char *tmp = str_printf("%s/tmp", ctx->paths->lib);
	_cleanup_free_ char *dir = str_printf("%s/tmp/run-%d", ctx->paths->lib, (int)getpid());
	uid_t uid = idmap_to_host(&s->uid_map, 0);
	gid_t gid = idmap_to_host(&s->gid_map, 0);
	char **stale = NULL;
	int r;

	if (!tmp || !dir)
		return berr_set(err, ENOMEM, "paths");
	r = mkdir_p(tmp, 0700);
	if (r < 0)
		return berr_set(err, -r, "create %s", tmp);
	if (list_dir_names(tmp, run_leaf_stale, &stale) >= 0)
		for (char **n = stale; *n; n++) {
			_cleanup_free_ char *old = str_printf("%s/%s", tmp, *n);

			if (old)
				rm_rf_at(AT_FDCWD, old);
		}
	strv_free(stale);
	rm_rf_at(AT_FDCWD, dir); /* a leftover of a killed berth that had our pid */
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		_cleanup_free_ char *d = str_printf("%s%s", dir, sub[i]);

		if (!d || mkdir(d, 0755) < 0 || chown(d, uid, gid) < 0) {
			r = berr_set(err, d ? errno : ENOMEM, "create %s", d ? d : dir);
			rm_rf_at(AT_FDCWD, dir);
			return r;
		}
	}
	log_debug("this kernel's tmpfs keeps no user.* xattrs: writable layer in %s", dir);
	*ret = TAKE_PTR(dir);
	return 0;
}

static int status_of(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
}

int runtime_run(const run_ctx *ctx, const spec *s_in, int *ret_status, berr *err)
{
	_cleanup_close_ int sigfd = -EBADF;
	_cleanup_close_ int cgroot = -EBADF;
	_cleanup_free_ char *scratch = NULL;
	container c = {.pidfd = -EBADF, .console_master = -EBADF};
	spec s = *s_in;
	sigset_t relay, saved;
	siginfo_t si;
	int r, emulated = 0;

	*ret_status = EXIT_SETUP_FAILED;
	if (!s.stage_dir)
		s.stage_dir = ctx->paths->run;
	s.die_with_parent = true;
	r = mkdir_p(s.stage_dir, 0711);
	if (r < 0)
		return berr_set(err, -r, "create %s", s.stage_dir);
	if (open_cgroup_root(ctx->cgroup_mountinfo, &cgroot, err) < 0)
		return -err->code;
	cg_prune(cgroot, ctx->paths->cgroup, run_leaf_stale);
	if (s.userns && !s.upper_dir && !rootfs_tmpfs_has_user_xattrs()) {
		r = scratch_layer(ctx, &s, &scratch, err);
		if (r < 0)
			return r;
		s.upper_dir = scratch;
	}
	/* Blocked before clone3, so that no signal slips between the clone and the signalfd. */
	sigemptyset(&relay);
	sigaddset(&relay, SIGINT);
	sigaddset(&relay, SIGTERM);
	sigaddset(&relay, SIGHUP);
	sigprocmask(SIG_BLOCK, &relay, &saved);
	sigfd = signalfd(-1, &relay, SFD_CLOEXEC);
	if (sigfd < 0)
		r = berr_set(err, errno, "signalfd");
	else
		r = container_start(ctx, &s, &c, ret_status, err);
	if (r >= 0) {
		r = relay_signals(&c, sigfd, &emulated);
		if (r >= 0)
			r = container_reap(&c, &si);
		if (r < 0)
			berr_set(err, -r, "wait for the container");
		else
			*ret_status = emulated ? 128 + emulated : status_of(&si);
		log_debug("%s ended with status %d", s.process.args[0], *ret_status);
		berr cleanup_err = {0};
		if (container_destroy(&c, &cleanup_err) < 0)
			log_error("%s", cleanup_err.msg);
		else
			log_debug("cgroup removed");
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (scratch)
		rm_rf_at(AT_FDCWD, scratch);
	return r;
}
