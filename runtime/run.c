/* SPDX-License-Identifier: MIT */
/*
 * runtime_run: the parent side. Create the cgroup leaf, clone3 the child into
 * fresh namespaces and that leaf, write its id maps, hand it the idmapped
 * lower layer, wait for exec, then relay signals and wait for the end.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cgroups.h"
#include "rootfs.h"
#include "runtime-internal.h"

#define TEARDOWN_TIMEOUT_MS 5000

typedef struct child {
	pid_t pid;
	int pidfd;
	int sock; /* parent's end of the sync socketpair */
} child;

static int spawn_child(const run_ctx *ctx, const spec *s, const cg_leaf *leaf, child *ret,
		       berr *err)
{
	int sv[2], pidfd = -EBADF;
	struct clone_args args = {
		.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
			 CLONE_NEWCGROUP | CLONE_PIDFD | CLONE_INTO_CGROUP |
			 (s->userns ? CLONE_NEWUSER : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)leaf->dirfd,
	};
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return berr_set(err, errno, "socketpair");
	fflush(NULL); /* or the child's exit would write our buffers twice */
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		return berr_set(err, e, "clone3 into new namespaces and cgroup %s", leaf->name);
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(s, ctx->paths, sv[1]);
	}
	close(sv[1]);
	*ret = (child){.pid = pid, .pidfd = pidfd, .sock = sv[0]};
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

/* Give the child its id maps and root, then wait until it has exec'd or failed. */
static int release_child(const child *c, const spec *s, int *ret_status, berr *err)
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
	r = rootfs_open_lower(s->root.path, userns, &lower, err);
	if (r < 0)
		return r;
	r = sync_send(c->sock, &m, lower);
	if (r < 0)
		return berr_set(err, -r, "release the container");
	r = sync_recv(c->sock, &m, NULL);
	if (r == 0)
		return 0; /* EOF: the socket closed on exec */
	if (r < 0)
		return berr_set(err, -r, "wait for the container");
	*err = m.err;
	*ret_status = m.exit_status;
	return -(m.err.code ? m.err.code : EINVAL);
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
 * Relay signals until the command exits. When the command would have died of
 * the signal outside a container (default action), kill the cgroup and report
 * 128+N as if it had.
 */
static int wait_child(const child *c, int sigfd, const cg_leaf *leaf, int *ret_status)
{
	struct pollfd fds[2] = {{.fd = c->pidfd, .events = POLLIN},
				{.fd = sigfd, .events = POLLIN}};
	int emulated = 0;
	siginfo_t si = {0};

	for (;;) {
		struct signalfd_siginfo ssi;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[0].revents & POLLIN)
			break;
		if (!(fds[1].revents & POLLIN) || read(sigfd, &ssi, sizeof(ssi)) != sizeof(ssi))
			continue;
		syscall(SYS_pidfd_send_signal, c->pidfd, (int)ssi.ssi_signo, NULL, 0);
		if (!emulated && !signal_handled(c->pid, (int)ssi.ssi_signo)) {
			emulated = (int)ssi.ssi_signo;
			write_file_at(leaf->dirfd, "cgroup.kill", "1");
		}
	}
	if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0)
		return -errno;
	if (emulated)
		*ret_status = 128 + emulated;
	else
		*ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 0;
}

static void child_kill_and_reap(child *c)
{
	siginfo_t si;

	syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
	waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED);
}

/* "run-PID" whose berth is gone: left behind by a berth that was SIGKILLed. */
static bool run_leaf_stale(const char *name)
{
	int pid;
	char end;

	if (sscanf(name, "run-%d%c", &pid, &end) != 1 || pid <= 0)
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

int runtime_run(const run_ctx *ctx, const spec *s, int *ret_status, berr *err)
{
	_cleanup_close_ int cgroot = -EBADF, sigfd = -EBADF;
	uid_t owner = s->userns ? idmap_to_host(&s->uid_map, 0) : (uid_t)-1;
	gid_t group = s->userns ? idmap_to_host(&s->gid_map, 0) : (gid_t)-1;
	cg_leaf leaf = CG_LEAF_INIT;
	child c = {.pid = 0, .pidfd = -EBADF, .sock = -EBADF};
	sigset_t relay, saved;
	berr cleanup_err = {0};
	int r, status = EXIT_SETUP_FAILED;

	r = open_cgroup_root(ctx->cgroup_mountinfo, &cgroot, err);
	if (r < 0)
		return r;
	r = mkdir_p(ctx->paths->run, 0711);
	if (r < 0)
		return berr_set(err, -r, "create %s", ctx->paths->run);
	cg_prune(cgroot, "berth", run_leaf_stale);
	r = cg_leaf_create(cgroot, ctx->cgroup_name, owner, group, &leaf, err);
	if (r < 0)
		return r;
	log_debug("cgroup %s created, owned by %d:%d", leaf.name, (int)owner, (int)group);
	sigemptyset(&relay);
	sigaddset(&relay, SIGINT);
	sigaddset(&relay, SIGTERM);
	sigaddset(&relay, SIGHUP);
	sigprocmask(SIG_BLOCK, &relay, &saved);
	sigfd = signalfd(-1, &relay, SFD_CLOEXEC);
	if (sigfd < 0) {
		r = berr_set(err, errno, "signalfd");
		goto out;
	}
	r = spawn_child(ctx, s, &leaf, &c, err);
	if (r < 0)
		goto out;
	log_debug("container init is host pid %d (user namespace: %s)", (int)c.pid,
		  s->userns ? "yes" : "no, --userns=host");
	r = release_child(&c, s, &status, err);
	if (r < 0) {
		child_kill_and_reap(&c);
	} else {
		log_debug("%s exec'd from %s", s->process.args[0], s->root.path);
		r = wait_child(&c, sigfd, &leaf, &status);
		if (r >= 0)
			log_debug("%s ended with status %d", s->process.args[0], status);
	}
	if (r < 0 && !err->msg[0])
		berr_set(err, -r, "wait for the container");
out:
	closep(&c.sock);
	closep(&c.pidfd);
	if (cg_leaf_destroy(&leaf, TEARDOWN_TIMEOUT_MS, &cleanup_err) < 0)
		log_error("%s", cleanup_err.msg);
	else
		log_debug("cgroup removed");
	cg_leaf_close(&leaf);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	*ret_status = status;
	return r;
}
