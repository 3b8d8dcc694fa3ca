/* SPDX-License-Identifier: MIT */
/*
 * berth exec -t: the pty, both ends. In the instance, it comes from the
 * instance's own devpts (so no terminal of the host is ever reachable from
 * inside) and becomes the command's controlling terminal. On the host, berth
 * puts its own terminal in raw mode and relays bytes both ways.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>

#include "exec-internal.h"

#define RELAY_BUF 8192
#define DRAIN_QUIET_MS 100
#define DRAIN_MAX_MS 1000

bool pty_winsize_get(struct winsize *ret)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd) && ioctl(fd, TIOCGWINSZ, ret) == 0)
			return true;
	return false;
}

int pty_open_in_instance(uid_t owner, const struct winsize *ws, int *ret_master, int *ret_slave,
			 berr *err)
{
	_cleanup_close_ int master = -EBADF, slave = -EBADF;
	struct statfs sfs;
	struct stat st;
	int unlock = 0;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return berr_set(err, errno, "allocate a pty in the instance's /dev/pts");
	/* The guest owns its /dev: accept nothing but a real devpts multiplexer. */
	if (fstatfs(master, &sfs) < 0 || fstat(master, &st) < 0)
		return berr_set(err, errno, "inspect the instance's /dev/pts/ptmx");
	if (sfs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode))
		return berr_setx(err, ENOTTY, "the instance's /dev/pts/ptmx is not a devpts ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return berr_set(err, errno, "unlock the pty");
	/* The peer by fd, not by a /dev/pts/N path the guest could swap. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return berr_set(err, errno, "open the pty's peer");
	if (owner != 0 && fchown(slave, owner, (gid_t)-1) < 0)
		return berr_set(err, errno, "give the pty to uid %u", (unsigned)owner);
	/* Before exec, so that the command's first look at its size sees the real one. */
	if (ws && ioctl(slave, TIOCSWINSZ, ws) < 0)
		return berr_set(err, errno, "set the pty's window size");
	*ret_master = TAKE_FD(master);
	*ret_slave = TAKE_FD(slave);
	return 0;
}

int pty_make_stdio(int slave, berr *err)
{
	_cleanup_close_ int fd = slave;

	if (setsid() < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
		return berr_set(err, errno, "make the pty the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			return berr_set(err, errno, "dup2 the pty to fd %d", i);
	if (fd < 3)
		fd = -EBADF; /* it is one of 0-2 now */
	return 0;
}

/* ---- The host side. ---- */

typedef struct relay {
	int master;
	int cmd_pidfd;
	bool in_open;        /* stdin still read */
	bool master_open;    /* the pty still readable (not hung up) */
	bool out_open;       /* stdout still takes bytes */
	char buf[RELAY_BUF]; /* stdin -> pty, not yet written */
	size_t off, len;
	char last; /* the last byte written to the pty */
	bool raw;
	struct termios saved;
} relay;

static void term_raw(relay *r)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &r->saved) < 0)
		return;
	t = r->saved;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	r->raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
}

static void term_restore(relay *r)
{
	if (r->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
	r->raw = false;
}

static void winsize_follow(int master)
{
	struct winsize ws;

	if (pty_winsize_get(&ws))
		ioctl(master, TIOCSWINSZ, &ws);
}

static void out_write(relay *r, const char *p, size_t n)
{
	while (r->out_open && n > 0) {
		ssize_t k = write(STDOUT_FILENO, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* Keep reading the pty, or the command would block on a full one. */
			r->out_open = false;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* false once the pty is hung up (the command and everything with the slave closed it). */
static bool master_read(relay *r)
{
	char buf[RELAY_BUF];
	ssize_t n = read(r->master, buf, sizeof(buf));

	if (n > 0) {
		out_write(r, buf, (size_t)n);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	r->master_open = false;
	return false;
}

static void master_write(relay *r)
{
	ssize_t n = write(r->master, r->buf + r->off, r->len - r->off);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		r->off = r->len = 0;
		return;
	}
	r->last = r->buf[r->off + (size_t)n - 1];
	r->off += (size_t)n;
	if (r->off == r->len)
		r->off = r->len = 0;
}

/*
 * End of a non-terminal stdin (a pipe, a file): the command reads it as EOF
 * through the pty's EOF character, twice when a partial line is pending.
 */
static void stdin_closed(relay *r)
{
	struct termios t;

	r->in_open = false;
	if (isatty(STDIN_FILENO) || tcgetattr(r->master, &t) < 0 || !(t.c_lflag & ICANON))
		return;
	r->off = 0;
	r->len = 0;
	if (r->last && r->last != '\n')
		r->buf[r->len++] = (char)t.c_cc[VEOF];
	r->buf[r->len++] = (char)t.c_cc[VEOF];
}

static void stdin_read(relay *r)
{
	ssize_t n = read(STDIN_FILENO, r->buf, sizeof(r->buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		stdin_closed(r);
		return;
	}
	r->off = 0;
	r->len = (size_t)n;
}

/* The command has its own session: nothing reaches it from our terminal but what we pass. */
static void on_signal(relay *r, int sigfd)
{
	struct signalfd_siginfo ssi;

	if (read(sigfd, &ssi, sizeof(ssi)) != sizeof(ssi))
		return;
	if (ssi.ssi_signo == SIGWINCH)
		winsize_follow(r->master);
	else if (ssi.ssi_signo != SIGPIPE)
		syscall(SYS_pidfd_send_signal, r->cmd_pidfd, (int)ssi.ssi_signo, NULL, 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * After the command's end: what it wrote is in the pty, and a background
 * process may still hold the slave. Read until the hangup, a quiet spell, or
 * a time limit.
 */
static void drain(relay *r)
{
	int64_t until = now_ms() + DRAIN_MAX_MS;

	while (r->master_open && now_ms() < until) {
		struct pollfd p = {.fd = r->master, .events = POLLIN};

		if (poll(&p, 1, DRAIN_QUIET_MS) <= 0 || !master_read(r))
			break;
	}
}

static int relay_loop(relay *r, int sigfd)
{
	for (;;) {
		struct pollfd fds[4] = {
			{.fd = r->cmd_pidfd, .events = POLLIN},
			{.fd = sigfd, .events = POLLIN},
			{.fd = r->in_open && r->len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = r->master_open ? r->master : -1,
			 .events = (short)(POLLIN | (r->len ? POLLOUT : 0))},
		};

		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[0].revents)
			return 0;
		if (fds[1].revents)
			on_signal(r, sigfd);
		if (fds[2].revents)
			stdin_read(r);
		if (fds[3].revents & POLLOUT)
			master_write(r);
		if (fds[3].revents & (POLLIN | POLLHUP | POLLERR))
			master_read(r);
		if (!r->master_open)
			r->in_open = false;
	}
}

int pty_relay(int master, int cmd_pidfd, int sigfd, berr *err)
{
	relay r = {.master = master,
		   .cmd_pidfd = cmd_pidfd,
		   .in_open = true,
		   .master_open = true,
		   .out_open = true};
	int ret;

	if (master < 0)
		return berr_setx(err, EPROTO, "no pty came back from the instance");
	if (fcntl(master, F_SETFL, O_NONBLOCK) < 0)
		return berr_set(err, errno, "pty: O_NONBLOCK");
	term_raw(&r);
	winsize_follow(master);
	ret = relay_loop(&r, sigfd);
	if (ret >= 0)
		drain(&r);
	term_restore(&r);
	return ret < 0 ? berr_set(err, -ret, "relay the pty") : 0;
}
