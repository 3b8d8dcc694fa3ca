/* SPDX-License-Identifier: MIT */
/*
 * What the monitor hands a guest's init below /run/host (systemd's
 * docs/CONTAINER_INTERFACE.md): the host's os-release, the name of the
 * container manager, and an sd_notify(3) socket on which the guest's systemd
 * says READY=1, STATUS=... and STOPPING=1. The directory is made by the
 * monitor in the instance's run dir and bound read-only at /run/host.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "runtime-internal.h"

#define NOTIFY_MSG_MAX 4096

/* The host's os-release: /etc/os-release, else /usr/lib/os-release (the spec's fallback). */
static int copy_os_release(int dfd)
{
	static const char *const paths[] = {"/etc/os-release", "/usr/lib/os-release"};
	int r = -ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(paths) && r == -ENOENT; i++)
		r = copy_file_at(AT_FDCWD, paths[i], dfd, "os-release", 0444);
	return r;
}

static int write_new_file(int dfd, const char *name, const char *text)
{
	_cleanup_close_ int fd =
		openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		return -EIO;
	return 0;
}

static int notify_socket_make(int dfd, int *ret_fd, berr *err)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int one = 1;

	if (fd < 0)
		return berr_set(err, errno, "notify socket");
	/* Through the directory's fd: the run dir's own path may not fit in sun_path. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/notify", dfd);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berr_set(err, errno, "bind the notify socket");
	/* The guest's root is not host root: it must be let in; only init is listened to. */
	if (fchmodat(dfd, "notify", 0666, 0) < 0)
		return berr_set(err, errno, "chmod the notify socket");
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return berr_set(err, errno, "SO_PASSCRED on the notify socket");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int guest_host_dir_setup(const char *dir, int *ret_notify_fd, berr *err)
{
	_cleanup_close_ int dfd = -EBADF;
	int r;

	/* Left by a monitor that was killed: start afresh (the socket cannot be rebound). */
	rm_rf_at(AT_FDCWD, dir);
	if (mkdir(dir, 0755) < 0 || chmod(dir, 0755) < 0)
		return berr_set(err, errno, "create %s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return berr_set(err, errno, "open %s", dir);
	r = copy_os_release(dfd);
	if (r < 0 && r != -ENOENT)
		return berr_set(err, -r, "copy the host's os-release into %s", dir);
	r = write_new_file(dfd, "container-manager", "berth\n");
	if (r < 0)
		return berr_set(err, -r, "write %s/container-manager", dir);
	return notify_socket_make(dfd, ret_notify_fd, err);
}

/* Keep what can be printed: STATUS= comes from inside the guest. */
static void copy_status(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

/* Apply one message's lines; true if ready or status changed. */
static bool notify_apply(const char *msg, size_t len, notify_state *st)
{
	bool changed = false;

	for (const char *p = msg, *end = msg + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n == 7 && memcmp(p, "READY=1", 7) == 0) {
			changed |= !st->ready;
			st->ready = true;
		} else if (n == 10 && memcmp(p, "STOPPING=1", 10) == 0) {
			changed |= st->ready;
			st->ready = false;
		} else if (n >= 7 && memcmp(p, "STATUS=", 7) == 0) {
			copy_status(st->status, sizeof(st->status), p + 7, n - 7);
			changed = true;
		}
		p += n + 1;
	}
	return changed;
}

int notify_dispatch(int fd, pid_t init_pid, notify_state *st)
{
	bool changed = false;

	for (;;) {
		char buf[NOTIFY_MSG_MAX];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
		} ctl;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = &ctl,
				    .msg_controllen = sizeof(ctl)};
		const struct ucred *cred = NULL;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || changed ? changed : -errno;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS)
				cred = (const struct ucred *)(void *)CMSG_DATA(c);
			else if (c->cmsg_type == SCM_RIGHTS) /* fd store: not kept */
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				     i++)
					close(((int *)(void *)CMSG_DATA(c))[i]);
		}
		/* Only init speaks for the instance; a truncated message is dropped whole. */
		if (!cred || cred->pid != init_pid || (size_t)n > sizeof(buf) ||
		    (mh.msg_flags & MSG_TRUNC))
			continue;
		changed |= notify_apply(buf, (size_t)n, st);
	}
}
