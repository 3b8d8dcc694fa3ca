/* SPDX-License-Identifier: MIT */
/*
 * berth-probe: a static helper copied into the integration test rootfs. Each
 * subcommand prints one fact about the process it runs as, or attempts one
 * thing and prints how it went ("ok" or "errno=NAME"), so run.sh can assert
 * what a user inside the container would see. Static and free of NSS calls:
 * it must run in a busybox root without a libc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report_errno(int e)
{
	const char *name = strerrorname_np(e);

	if (name)
		printf("errno=%s\n", name);
	else
		printf("errno=%d\n", e);
	return 0;
}

/* Open fds of this process, without the directory fd used to list them. */
static int cmd_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self, n = 0;

	if (!d) {
		perror("probe: opendir /proc/self/fd");
		return 2;
	}
	self = dirfd(d);
	printf("fds:");
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end || fd == self)
			continue;
		printf(" %ld", fd);
		n++;
	}
	closedir(d);
	printf("\ncount=%d\n", n);
	return 0;
}

/*
 * Call a syscall with arguments the kernel rejects after its permission
 * check, so "errno=EPERM" means "refused" (seccomp or capabilities) and any
 * other answer means the call reached the kernel's argument checks. Harmless
 * even when run on the host as root.
 */
/* A file handle with handle_bytes 0: EINVAL once past may_decode_fh(). Static, so its
 * address fits the 32-bit ABI too (the probe is not PIE). */
static struct {
	unsigned int handle_bytes;
	int handle_type;
} fh;

static int cmd_syscall(const char *name)
{
	long r;

	errno = 0;
	if (!strcmp(name, "kexec_load")) /* too many segments, unknown flag: EINVAL */
		r = syscall(SYS_kexec_load, 0UL, 0xffffUL, NULL, 0x80UL);
	else if (!strcmp(name, "kexec_file_load")) /* bad fds: EBADF */
		r = syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0x80UL);
	else if (!strcmp(name, "init_module")) /* empty image: ENOEXEC */
		r = syscall(SYS_init_module, NULL, 0UL, "");
	else if (!strcmp(name, "finit_module")) /* bad fd: EBADF */
		r = syscall(SYS_finit_module, -1, "", 0);
	else if (!strcmp(name, "delete_module")) /* no such module: ENOENT */
		r = syscall(SYS_delete_module, "berth_probe_none", O_NONBLOCK);
	else if (!strcmp(name, "open_by_handle_at"))
		r = syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
	else if (!strcmp(name, "keyctl")) /* KEYCTL_GET_KEYRING_ID of the session keyring */
		r = syscall(SYS_keyctl, 0, -3, 0);
	else if (!strcmp(name, "add_key")) /* unknown key type: ENODEV */
		r = syscall(SYS_add_key, "berth_probe_none", "d", "x", 1UL, -3);
	else if (!strcmp(name, "getpid")) /* a control that must succeed */
		r = syscall(SYS_getpid);
	else {
		fprintf(stderr, "probe: unknown syscall %s\n", name);
		return 2;
	}
	if (r < 0)
		return report_errno(errno);
	if (!strcmp(name, "open_by_handle_at"))
		close((int)r);
	printf("ok\n");
	return 0;
}

#if defined(__x86_64__)
/* The same calls through the 32-bit x86 ABI (int $0x80, i386 numbers). */
static long syscall32(long nr, long a, long b, long c, long d)
{
	long r;

	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "0"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
			 : "memory");
	return r;
}

static int cmd_syscall32(const char *name)
{
	long r;

	if (!strcmp(name, "kexec_load"))
		r = syscall32(283, 0, 0xffff, 0, 0x80);
	else if (!strcmp(name, "init_module"))
		r = syscall32(128, 0, 0, (long)(unsigned long)"", 0);
	else if (!strcmp(name, "open_by_handle_at"))
		r = syscall32(342, AT_FDCWD, (long)(unsigned long)&fh, O_RDONLY, 0);
	else if (!strcmp(name, "getpid"))
		r = syscall32(20, 0, 0, 0, 0);
	else {
		fprintf(stderr, "probe: unknown syscall %s\n", name);
		return 2;
	}
	if (r < 0 && r > -4096)
		return report_errno((int)-r);
	printf("ok\n");
	return 0;
}
#else
static int cmd_syscall32(const char *name) { return printf("unsupported %s\n", name) < 0; }
#endif

/* One "N 0|1" line per capability number the kernel knows, from PR_CAPBSET_READ. */
static int cmd_capbnd(void)
{
	for (unsigned long cap = 0;; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0UL, 0UL, 0UL);

		if (r < 0)
			return 0; /* EINVAL past the last capability */
		printf("%lu %d\n", cap, r);
	}
}

/* Try to open path for writing; writes nothing. */
static int cmd_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return report_errno(errno);
	close(fd);
	printf("ok\n");
	return 0;
}

/* Read path to the end; print how many bytes it gave. */
static int cmd_read(const char *path)
{
	char buf[4096];
	long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return report_errno(errno);
	while ((n = read(fd, buf, sizeof(buf))) > 0 && total < (1L << 20))
		total += n;
	if (n < 0) {
		int e = errno;

		close(fd);
		return report_errno(e);
	}
	close(fd);
	printf("bytes=%ld\n", total);
	return 0;
}

/* Filesystem type (statfs magic) and whether the mount is read-only. */
static int cmd_statfs(const char *path)
{
	struct statfs sf;
	struct statvfs sv;

	if (statfs(path, &sf) < 0 || statvfs(path, &sv) < 0)
		return report_errno(errno);
	printf("type=0x%lx ro=%d\n", (unsigned long)sf.f_type, !!(sv.f_flag & ST_RDONLY));
	return 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

/* Print "ready", wait for SIGTERM, SIGINT or SIGHUP, say which, exit status. */
static int cmd_signal_echo(int status)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0) {
		perror("probe: sigaction");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	while (!got_signal)
		pause();
	printf("got SIG%s\n", sigabbrev_np(got_signal) ? sigabbrev_np(got_signal) : "?");
	fflush(stdout);
	return status;
}

/* Die of a fault: the kernel forces SIGSEGV even on a PID namespace's init. */
static int cmd_segv(void)
{
	volatile int *volatile p = NULL; /* opaque to the compiler: a real fault */

	signal(SIGSEGV, SIG_DFL);
	*p = 1;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: probe fds | syscall NAME | syscall32 NAME | capbnd | write PATH |\n"
			"       read PATH | statfs PATH | signal-echo [STATUS] | segv\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "fds"))
		return cmd_fds();
	if (!strcmp(cmd, "capbnd"))
		return cmd_capbnd();
	if (!strcmp(cmd, "segv"))
		return cmd_segv();
	if (!strcmp(cmd, "signal-echo"))
		return cmd_signal_echo(arg ? atoi(arg) : 0);
	if (!arg)
		return usage();
	if (!strcmp(cmd, "syscall"))
		return cmd_syscall(arg);
	if (!strcmp(cmd, "syscall32"))
		return cmd_syscall32(arg);
	if (!strcmp(cmd, "write"))
		return cmd_write(arg);
	if (!strcmp(cmd, "read"))
		return cmd_read(arg);
	if (!strcmp(cmd, "statfs"))
		return cmd_statfs(arg);
	return usage();
}
