/* SPDX-License-Identifier: MIT */
/*
 * tar(1), the one place berth runs it. A faithful copy of a root file system
 * has to get owners, modes, device nodes, xattrs, ACLs, hard links, sparse
 * files and timestamps right; GNU tar already does, and a tarball import
 * needs it anyway.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "rootfs-internal.h"

/* Without --xattrs-include, GNU tar extracts user.* only: security.capability would be lost. */
#define TAR_KEEP "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"
#define TAR_MSG_MAX 4096
#define TAR_WARN_LINES 10

/* One tar process; its stderr goes to a memfd, read once it has exited. */
typedef struct tar_proc {
	const char *what; /* "read /src", for messages: "tar could not read /src" */
	pid_t pid;        /* 0: not started or reaped */
	int status;
	int errfd;
} tar_proc;

static const char *tar_find(berr *err)
{
	static const char *const paths[] = {TAR_PATHS};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	berr_setx(err, ENOENT, "tar not found at %s (apt-get install tar)", paths[0]);
	return NULL;
}

/* In the child: fds[0..2] become its stdin, stdout, stderr, and nothing else stays open. */
static _Noreturn void tar_child(const char *tar, char **argv, int fds[3], pid_t parent)
{
	char *envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"LC_ALL=C", NULL};
	sigset_t none;
	int i;

	/* If berth dies, even by SIGKILL, tar goes too: nobody would rename what it fills. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* An ignored SIGPIPE would survive exec; the archiving tar must die of it. */
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	/* Above 2 first, so that dup2 onto 0-2 cannot clobber one of them. */
	for (i = 0; i < 3; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD, 3)) < 0)
			_exit(127);
	for (i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(127);
	close_range(3, ~0U, 0);
	execve(tar, argv, envp);
	_exit(127);
}

static int tar_spawn(tar_proc *t, const char *tar, char **argv, int in_fd, int out_fd, berr *err)
{
	pid_t parent = getpid();
	int fds[3];

	t->errfd = memfd_create("berth-tar-stderr", MFD_CLOEXEC);
	if (t->errfd < 0)
		return berr_set(err, errno, "memfd for the messages of tar");
	fds[0] = in_fd;
	fds[1] = out_fd;
	fds[2] = t->errfd;
	t->pid = fork();
	if (t->pid < 0) {
		t->pid = 0;
		return berr_set(err, errno, "start tar to %s", t->what);
	}
	if (t->pid == 0)
		tar_child(tar, argv, fds, parent);
	return 0;
}

static void tar_wait(tar_proc *t)
{
	if (t->pid <= 0)
		return;
	while (waitpid(t->pid, &t->status, 0) < 0)
		if (errno != EINTR) {
			t->status = -1;
			break;
		}
	t->pid = 0;
}

static bool tar_ok(const tar_proc *t)
{
	return WIFEXITED(t->status) && WEXITSTATUS(t->status) == 0;
}

/* What tar wrote to stderr, NUL-terminated, truncated to size - 1. */
static void tar_stderr(const tar_proc *t, char *buf, size_t size)
{
	ssize_t n = t->errfd >= 0 ? pread(t->errfd, buf, size - 1, 0) : -1;

	buf[n > 0 ? n : 0] = '\0';
}

static int tar_failed(const tar_proc *t, berr *err)
{
	char msg[TAR_MSG_MAX], how[48];

	tar_stderr(t, msg, sizeof(msg));
	/* The first line is tar's reason; the rest is "Exiting with failure status". */
	msg[strcspn(msg, "\n")] = '\0';
	if (t->status == -1)
		snprintf(how, sizeof(how), "lost track of it");
	else if (WIFSIGNALED(t->status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(t->status));
	else if (WEXITSTATUS(t->status) == 127 && !msg[0])
		snprintf(how, sizeof(how), "could not run it");
	else
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(t->status));
	return berr_setx(err, EIO, "tar could not %s (%s)%s%s", t->what, how, msg[0] ? ": " : "",
			 msg);
}

/* A successful tar may still have warned (an xattr the file system refused): pass it on. */
static void tar_warnings(const tar_proc *t)
{
	char msg[TAR_MSG_MAX], *line, *save = NULL;
	int n = 0;

	tar_stderr(t, msg, sizeof(msg));
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (n++ < TAR_WARN_LINES)
			log_warn("%s", line);
	if (n > TAR_WARN_LINES)
		log_warn("(%d more lines from tar)", n - TAR_WARN_LINES);
}

static void tar_proc_close(tar_proc *t)
{
	tar_wait(t);
	if (t->errfd >= 0)
		close(t->errfd);
	t->errfd = -EBADF;
}

int tar_copy_tree(const char *src_dir, const char *dst_dir, berr *err)
{
	char *create[] = {(char *)"tar", (char *)"-C",       (char *)src_dir,
			  TAR_KEEP,      (char *)"--sparse", (char *)"-cpf",
			  (char *)"-",   (char *)".",        NULL};
	char *extract[] = {(char *)"tar",          (char *)"-C",   (char *)dst_dir, TAR_KEEP,
			   (char *)"--same-owner", (char *)"-xpf", (char *)"-",     NULL};
	_cleanup_free_ char *c_what = str_printf("read %s", src_dir);
	_cleanup_free_ char *x_what = str_printf("write the copy of %s", src_dir);
	tar_proc c = {.what = c_what, .errfd = -EBADF}, x = {.what = x_what, .errfd = -EBADF};
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF, nullfd = -EBADF;
	const char *tar = tar_find(err);
	int pfd[2], r;

	if (!tar)
		return -ENOENT;
	if (!c_what || !x_what)
		return berr_set(err, ENOMEM, "copy %s", src_dir);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (nullfd < 0)
		return berr_set(err, errno, "open /dev/null");
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return berr_set(err, errno, "pipe for tar");
	rfd = pfd[0];
	wfd = pfd[1];
	r = tar_spawn(&c, tar, create, nullfd, wfd, err);
	if (r == 0)
		r = tar_spawn(&x, tar, extract, rfd, nullfd, err);
	/* Only the two tars hold the pipe now: EOF and EPIPE reach them. */
	close(TAKE_FD(rfd));
	close(TAKE_FD(wfd));
	tar_wait(&x);
	tar_wait(&c);
	/* The extracting tar's complaint comes first: it is why the other got EPIPE. */
	if (r == 0 && !tar_ok(&x))
		r = tar_failed(&x, err);
	else if (r == 0 && !tar_ok(&c))
		r = tar_failed(&c, err);
	if (r == 0) {
		tar_warnings(&c);
		tar_warnings(&x);
	}
	tar_proc_close(&c);
	tar_proc_close(&x);
	return r;
}

int tar_extract(const char *archive, const char *dst_dir, berr *err)
{
	/* -f with a file, not a pipe: tar detects any compression it knows by itself. */
	char *extract[] = {(char *)"tar",          (char *)"-C",   (char *)dst_dir, TAR_KEEP,
			   (char *)"--same-owner", (char *)"-xpf", (char *)archive, NULL};
	_cleanup_free_ char *what = str_printf("extract %s", archive);
	tar_proc x = {.what = what, .errfd = -EBADF};
	_cleanup_close_ int nullfd = -EBADF;
	const char *tar = tar_find(err);
	int r;

	if (!tar)
		return -ENOENT;
	if (!what)
		return berr_set(err, ENOMEM, "extract %s", archive);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (nullfd < 0)
		return berr_set(err, errno, "open /dev/null");
	r = tar_spawn(&x, tar, extract, nullfd, nullfd, err);
	tar_wait(&x);
	if (r == 0 && !tar_ok(&x))
		r = tar_failed(&x, err);
	if (r == 0)
		tar_warnings(&x);
	tar_proc_close(&x);
	return r;
}
