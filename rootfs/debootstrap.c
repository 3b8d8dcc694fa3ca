/* SPDX-License-Identifier: MIT */
/*
 * Debian and Ubuntu templates from debootstrap(8). debootstrap runs in a
 * mount namespace and a process group of its own, its output going to our
 * terminal: the mounts it makes in the target (proc, sys) vanish with it
 * whatever happens, and an interrupt (Ctrl-C, SIGTERM, SIGHUP to berth) kills
 * every process it started before the store drops the half-made tree. Then
 * the tree is made fit to be a template shared by many instances (no machine
 * identity of its own, no host name of the build host).
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "rootfs-internal.h"

#define DEBOOTSTRAP_PATHS "/usr/sbin/debootstrap", "/sbin/debootstrap", "/usr/bin/debootstrap"
#define ARGV_MAX 8

static bool chars_ok(const char *s, const char *extra)
{
	if (!s || !*s || strlen(s) > 1024)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

static int opts_check(const rootfs_debootstrap *o, berr *err)
{
	if (!chars_ok(o->suite, ".-") || o->suite[0] == '-')
		return berr_setx(err, EINVAL,
				 "suite '%s' is not a suite name (e.g. bookworm, trixie, noble: "
				 "a-z 0-9 . -)",
				 o->suite ? o->suite : "");
	if (o->include && (!chars_ok(o->include, ".+-,") || o->include[0] == '-'))
		return berr_setx(err, EINVAL,
				 "--include '%s' is not a comma-separated list of package names "
				 "(e.g. systemd,dbus,iproute2)",
				 o->include);
	if (o->variant && !str_eq(o->variant, "minbase") && !str_eq(o->variant, "buildd") &&
	    !str_eq(o->variant, "default"))
		return berr_setx(err, EINVAL,
				 "--variant '%s' is not one of minbase (the default), buildd or "
				 "default (debootstrap's own: every 'important' package)",
				 o->variant);
	if (o->mirror &&
	    ((!str_startswith(o->mirror, "http://") && !str_startswith(o->mirror, "https://") &&
	      !str_startswith(o->mirror, "file:///")) ||
	     strpbrk(o->mirror, " \t\n'\"\\") || strlen(o->mirror) > 1024))
		return berr_setx(err, EINVAL,
				 "--mirror '%s' is not an http://, https:// or file:/// URL "
				 "(e.g. http://deb.debian.org/debian)",
				 o->mirror);
	return 0;
}

/* Does the comma list name pkg? */
static bool list_has(const char *list, const char *pkg)
{
	size_t n = strlen(pkg);

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, pkg, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

/* systemd without systemd-sysv has no /sbin/init: an instance could not boot it. */
static char *include_arg(const char *include)
{
	if (!include)
		return NULL;
	if (list_has(include, "systemd") && !list_has(include, "systemd-sysv"))
		return str_printf("--include=%s,systemd-sysv", include);
	return str_printf("--include=%s", include);
}

static const char *debootstrap_find(berr *err)
{
	static const char *const paths[] = {DEBOOTSTRAP_PATHS};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	berr_setx(err, ENOENT, "debootstrap not found at %s (apt-get install debootstrap)",
		  paths[0]);
	return NULL;
}

static _Noreturn void child_exec(const char *prog, char **argv, pid_t parent)
{
	char *envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"LC_ALL=C.UTF-8",
			(char *)"DEBIAN_FRONTEND=noninteractive", NULL};
	sigset_t none;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* Its own group: an interrupt kills all it started; its own mounts: they die with it. */
	if (setpgid(0, 0) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || null < 0 ||
	    dup2(null, STDIN_FILENO) < 0) {
		perror("berth: debootstrap setup");
		_exit(127);
	}
	for (int i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_range(3, ~0U, 0);
	execve(prog, argv, envp);
	perror("berth: exec debootstrap");
	_exit(127);
}

/* Wait for pid; on SIGINT, SIGTERM or SIGHUP kill its whole group first. */
static int wait_child(pid_t pid, int sigfd, bool *interrupted)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0;
	struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sigfd, .events = POLLIN}};

	while (!*interrupted && pidfd >= 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo ssi;

			if (read(sigfd, &ssi, sizeof(ssi)) == sizeof(ssi))
				*interrupted = true;
		}
	}
	if (*interrupted)
		kill(-pid, SIGKILL);
	closep(&pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* The rest of its group (dpkg, a maintainer script) goes too. */
	kill(-pid, SIGKILL);
	return status;
}

static int run_debootstrap(const char *prog, char **argv, berr *err)
{
	sigset_t stop, old;
	bool interrupted = false;
	pid_t parent = getpid(), pid;
	int sigfd, status;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	sigfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sigfd < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return berr_set(err, errno, "signalfd");
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child_exec(prog, argv, parent);
	if (pid < 0) {
		int e = errno;

		close(sigfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return berr_set(err, e, "fork debootstrap");
	}
	status = wait_child(pid, sigfd, &interrupted);
	close(sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (interrupted)
		return berr_setx(err, EINTR, "interrupted: debootstrap stopped, nothing was kept");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return berr_setx(err, EIO, "debootstrap was killed by SIG%s; nothing was kept",
				 sigabbrev_np(WTERMSIG(status)));
	return berr_setx(
		err, EIO,
		"debootstrap failed (exit status %d; its messages are above, and in "
		"debootstrap/debootstrap.log of the target while it ran); nothing was kept",
		WEXITSTATUS(status));
}

/* Remove the downloaded .deb files: instances never need them, and they are ~40 MB. */
static void drop_debs(int rootfd)
{
	int fd = openat(rootfd, "var/cache/apt/archives",
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		closep(&fd);
		return;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_type == DT_REG && n > 4 && str_eq(de->d_name + n - 4, ".deb"))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/*
 * What makes a debootstrapped tree a template: no machine identity (systemd
 * makes one per instance at first boot, from container_uuid; an empty
 * /etc/machine-id is the documented "not set yet"), no host name of the
 * build host (berth sets the instance's), a localhost /etc/hosts.
 */
static int make_template_fit(const char *path, berr *err)
{
	_cleanup_close_ int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int etc = -EBADF, mid = -EBADF;
	struct stat st;

	if (rootfd < 0)
		return berr_set(err, errno, "open %s", path);
	etc = openat(rootfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		return berr_set(err, errno, "open %s/etc", path);
	mid = openat(etc, "machine-id", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		     0444);
	if (mid < 0 || fchmod(mid, 0444) < 0)
		return berr_set(err, errno, "empty %s/etc/machine-id", path);
	/* dbus's own copy of the id: a plain file here, which every instance would share. */
	if (fstatat(rootfd, "var/lib/dbus/machine-id", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && unlinkat(rootfd, "var/lib/dbus/machine-id", 0) < 0)
		return berr_set(err, errno, "remove %s/var/lib/dbus/machine-id", path);
	if (unlinkat(etc, "hostname", 0) < 0 && errno != ENOENT)
		return berr_set(err, errno, "remove %s/etc/hostname", path);
	if (fstatat(etc, "hosts", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		static const char hosts[] =
			"127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n";
		_cleanup_close_ int fd = openat(
			etc, "hosts", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

		if (fd < 0 || write(fd, hosts, sizeof(hosts) - 1) != (ssize_t)(sizeof(hosts) - 1))
			return berr_set(err, errno ? errno : EIO, "write %s/etc/hosts", path);
	}
	drop_debs(rootfd);
	return 0;
}

int debootstrap_fill(const char *tmp_path, const rootfs_debootstrap *o, berr *err)
{
	_cleanup_free_ char *variant = NULL, *include = NULL;
	const char *prog = debootstrap_find(err);
	char *argv[ARGV_MAX];
	size_t n = 0;
	int r;

	if (!prog)
		return -ENOENT;
	argv[n++] = (char *)"debootstrap";
	if (!o->variant || !str_eq(o->variant, "default")) {
		variant = str_printf("--variant=%s", o->variant ? o->variant : "minbase");
		if (!variant)
			return berr_set(err, ENOMEM, "debootstrap");
		argv[n++] = variant;
	}
	if (o->include) {
		include = include_arg(o->include);
		if (!include)
			return berr_set(err, ENOMEM, "debootstrap");
		argv[n++] = include;
	}
	argv[n++] = (char *)o->suite;
	argv[n++] = (char *)tmp_path;
	if (o->mirror)
		argv[n++] = (char *)o->mirror;
	argv[n] = NULL;
	/* Private while it fills; the store opens it up when it is whole. */
	if (mkdir(tmp_path, 0700) < 0)
		return berr_set(err, errno, "create %s", tmp_path);
	r = run_debootstrap(prog, argv, err);
	if (r < 0)
		return r;
	return make_template_fit(tmp_path, err);
}

int rootfs_debootstrap_check(const rootfs_debootstrap *o, berr *err)
{
	int r = opts_check(o, err);

	if (r < 0)
		return r;
	return debootstrap_find(err) ? 0 : -ENOENT;
}
