/* SPDX-License-Identifier: MIT */
/*
 * The client side of the console: attach this terminal to an instance's
 * console through its monitor's control socket (CTL_* messages, see
 * console.c), and print the console log.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "runtime-internal.h"

#define CTRL_A 0x01
/* Typed bytes waiting for the monitor; beyond this, typing into a stuck console is dropped. */
#define OUT_MAX (16 * CTL_MAX_PAYLOAD)
/* How long the monitor may take to answer CTL_ATTACH. */
#define ATTACH_TIMEOUT_MS 10000

typedef enum session_end {
	END_DETACH, /* Ctrl-a q, end of input, or a signal */
	END_CLOSED, /* the monitor closed the socket */
	END_ERROR,
} session_end;

typedef struct session {
	int sock;
	int sigfd;
	int tty_fd;   /* the terminal whose size we report, -1: none */
	bool typing;  /* the monitor granted typing */
	bool read_in; /* stdin is read (for input or, read-only on a terminal, for Ctrl-a q) */
	bool escape;  /* Ctrl-a seen, waiting for the next key */
	bool resize_due;
	size_t out_len; /* typed bytes not yet sent */
	char out[OUT_MAX];
} session;

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int monitor_connect(const instance_paths *ip, const char *name, int *ret, berr *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -EBADF;

	if (strlen(ip->sock) >= sizeof(sa.sun_path))
		return berr_setx(err, ENAMETOOLONG, "control socket path %s is too long", ip->sock);
	strcpy(sa.sun_path, ip->sock);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EACCES || errno == EPERM)
			return berr_setx(err, errno, "no permission to connect to %s (try as root)",
					 ip->sock);
		if (errno != ENOENT && errno != ECONNREFUSED)
			return berr_set(err, errno, "connect to %s", ip->sock);
		if (access(ip->config, F_OK) < 0 && errno == ENOENT)
			return berr_setx(err, ENOENT,
					 "no instance named %s (berth list shows them)", name);
		return berr_setx(err, ENOTCONN,
				 "no monitor is running for %s (is it started? "
				 "berth console %s --log shows the log)",
				 name, name);
	}
	*ret = TAKE_FD(fd);
	return 0;
}

/* Ask to type (or not); the answer says whether we may. */
static int attach_handshake(int sock, bool wants_to_type, bool *ret_typing, berr *err)
{
	char msg[2] = {CTL_ATTACH, wants_to_type}, reply[1 + CTL_MAX_PAYLOAD];
	struct pollfd pf = {.fd = sock, .events = POLLIN};
	ssize_t n;
	int r;

	if (send(sock, msg, sizeof(msg), MSG_NOSIGNAL) < 0)
		return berr_set(err, errno, "send to the monitor");
	do
		r = poll(&pf, 1, ATTACH_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return berr_set(err, errno, "poll");
	if (r == 0)
		return berr_setx(err, ETIMEDOUT, "the monitor did not answer in %d s",
				 ATTACH_TIMEOUT_MS / 1000);
	n = recv(sock, reply, sizeof(reply), 0);
	if (n < 0)
		return berr_set(err, errno, "receive from the monitor");
	if (n == 0)
		return berr_setx(err, ECONNRESET,
				 "the monitor closed the connection (too many "
				 "viewers attached?)");
	if (n < 2 || reply[0] != CTL_ATTACH)
		return berr_setx(err, EPROTO, "unexpected answer from the monitor");
	*ret_typing = reply[1] == 1;
	return 0;
}

/*
 * Ctrl-a q detaches; Ctrl-a Ctrl-a types one Ctrl-a; Ctrl-a and any other key
 * type both. Returns true on detach. out holds at least 2 * n bytes.
 */
static bool escape_filter(session *s, const char *in, size_t n, char *out, size_t *ret_len)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (s->escape) {
			s->escape = false;
			if (c == 'q') {
				*ret_len = k;
				return true;
			}
			out[k++] = CTRL_A;
			if (c != CTRL_A)
				out[k++] = c;
		} else if (c == CTRL_A) {
			s->escape = true;
		} else {
			out[k++] = c;
		}
	}
	*ret_len = k;
	return false;
}

/* Returns true when the session should end (detach or end of input). */
static bool stdin_read(session *s)
{
	char in[CTL_MAX_PAYLOAD / 2], typed[CTL_MAX_PAYLOAD];
	size_t len, room = OUT_MAX - s->out_len;
	bool detach;
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));

	if (n < 0)
		return errno != EINTR && errno != EAGAIN;
	if (n == 0)
		return true;
	detach = escape_filter(s, in, (size_t)n, typed, &len);
	if (!s->typing)
		return detach;
	if (len > room)
		len = room;
	memcpy(s->out + s->out_len, typed, len);
	s->out_len += len;
	return detach;
}

static int send_resize(session *s)
{
	char msg[1 + sizeof(struct winsize)] = {CTL_RESIZE};
	struct winsize ws;

	s->resize_due = false;
	if (s->tty_fd < 0 || ioctl(s->tty_fd, TIOCGWINSZ, &ws) < 0)
		return 0;
	memcpy(msg + 1, &ws, sizeof(ws));
	if (send(s->sock, msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EAGAIN)
			return -errno;
		s->resize_due = true;
	}
	return 0;
}

/* Send what waits, as far as the socket takes it. */
static int sock_flush(session *s)
{
	char msg[1 + CTL_MAX_PAYLOAD] = {CTL_DATA};
	size_t sent = 0;
	int r = 0;

	if (s->resize_due && (r = send_resize(s)) < 0)
		return r;
	while (sent < s->out_len) {
		size_t k = s->out_len - sent;

		if (k > CTL_MAX_PAYLOAD)
			k = CTL_MAX_PAYLOAD;
		memcpy(msg + 1, s->out + sent, k);
		if (send(s->sock, msg, k + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			if (errno != EAGAIN && errno != EINTR)
				r = -errno;
			break;
		}
		sent += k;
	}
	memmove(s->out, s->out + sent, s->out_len - sent);
	s->out_len -= sent;
	return r;
}

/* Console output to stdout. 0: go on; 1: the monitor closed the socket; <0: error. */
static int sock_read(session *s)
{
	char msg[1 + CTL_MAX_PAYLOAD];

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(s->sock, msg, sizeof(msg), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0 && errno != ECONNRESET)
			return -errno;
		if (n <= 0)
			return 1;
		if (msg[0] == CTL_DATA && n > 1) {
			int r = write_all(STDOUT_FILENO, msg + 1, (size_t)n - 1);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* A signal: SIGWINCH reports the new size; the others (TERM, HUP, INT, QUIT, PIPE) detach. */
static bool on_signal(session *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGWINCH)
			return true;
		s->resize_due = s->typing;
	}
	return false;
}

static session_end relay(session *s)
{
	for (;;) {
		bool pending = s->out_len > 0 || s->resize_due;
		struct pollfd pf[3] = {
			{.fd = s->sock, .events = POLLIN | (pending ? POLLOUT : 0)},
			{.fd = s->read_in ? STDIN_FILENO : -1, .events = POLLIN},
			{.fd = s->sigfd, .events = POLLIN},
		};
		int r;

		if (poll(pf, ARRAY_SIZE(pf), -1) < 0) {
			if (errno == EINTR)
				continue;
			return END_ERROR;
		}
		if (pf[2].revents && on_signal(s))
			return END_DETACH;
		if (pf[1].revents && stdin_read(s)) {
			sock_flush(s); /* what was typed before Ctrl-a q still goes */
			return END_DETACH;
		}
		if ((pf[0].revents & POLLOUT) && sock_flush(s) < 0)
			return END_CLOSED;
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = sock_read(s);
			if (r != 0)
				return r > 0 ? END_CLOSED : END_ERROR;
		}
		if (s->out_len > 0 && sock_flush(s) < 0)
			return END_CLOSED;
	}
}

/* The terminal's state and the signal mask, restored on every way out. */
typedef struct term_guard {
	bool raw;
	struct termios saved;
	bool masked;
	sigset_t saved_mask;
	int sigfd;
} term_guard;

static void term_guard_restore(term_guard *g)
{
	struct signalfd_siginfo si;

	if (g->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &g->saved);
	g->raw = false;
	if (g->sigfd >= 0) {
		/* Swallow what is pending (SIGPIPE, SIGWINCH) so unmasking does not act on it. */
		while (read(g->sigfd, &si, sizeof(si)) == sizeof(si))
			;
		closep(&g->sigfd);
		g->sigfd = -EBADF;
	}
	if (g->masked)
		sigprocmask(SIG_SETMASK, &g->saved_mask, NULL);
	g->masked = false;
}

static int term_guard_setup(term_guard *g, berr *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, &g->saved_mask) < 0)
		return berr_set(err, errno, "sigprocmask");
	g->masked = true;
	g->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (g->sigfd < 0)
		return berr_set(err, errno, "signalfd");
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g->saved) == 0) {
		struct termios raw = g->saved;

		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
			return berr_set(err, errno, "raw mode on the terminal");
		g->raw = true;
	}
	return 0;
}

static int session_run(int sock, const char *name, bool typing, bool read_only, berr *err)
{
	term_guard g = {.sigfd = -EBADF};
	bool in_tty = isatty(STDIN_FILENO);
	session *s = calloc(1, sizeof(*s));
	session_end end;
	int r, errsv;

	if (!s)
		return berr_set(err, ENOMEM, "console");
	r = term_guard_setup(&g, err);
	if (r < 0)
		goto out;
	/* After raw mode, so keys typed meanwhile are not echoed by the local terminal. */
	fprintf(stderr, "Connected to %s's console; Ctrl-a q to detach%s%s", name,
		typing      ? ""
		: read_only ? " (read-only)"
			    : " (read-only: someone else is typing)",
		g.raw ? "\r\n" : "\n");
	*s = (session){.sock = sock, .sigfd = g.sigfd, .typing = typing, .tty_fd = -1};
	/* Read-only on a pipe: nothing to type and no Ctrl-a to watch for. */
	s->read_in = typing || in_tty;
	if (in_tty)
		s->tty_fd = STDIN_FILENO;
	else if (isatty(STDOUT_FILENO))
		s->tty_fd = STDOUT_FILENO;
	s->resize_due = typing;
	end = relay(s);
	errsv = errno;
	term_guard_restore(&g);
	if (end == END_CLOSED)
		fputs("\nconsole closed\n", stderr);
	else if (end == END_DETACH)
		fprintf(stderr, "\nDetached from %s's console\n", name);
	else
		r = berr_set(err, errsv ? errsv : EIO, "console relay");
out:
	term_guard_restore(&g);
	free(s);
	return r;
}

int instance_console_attach(const berth_paths *p, const char *name, bool read_only, berr *err)
{
	instance_paths ip;
	_cleanup_close_ int sock = -EBADF;
	bool typing = false;
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = monitor_connect(&ip, name, &sock, err);
	instance_paths_free(&ip);
	if (r >= 0)
		r = attach_handshake(sock, !read_only, &typing, err);
	if (r < 0)
		return r;
	return session_run(sock, name, typing, read_only, err);
}

static int log_copy(int fd, const char *path, int out_fd, berr *err)
{
	char buf[16384];
	ssize_t n;
	int r;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_set(err, errno, "read %s", path);
		r = write_all(out_fd, buf, (size_t)n);
		if (r < 0)
			return berr_set(err, -r, "write the console log");
	}
	return 0;
}

static int log_open(const instance_paths *ip, const char *path, const char *name, int *ret,
		    berr *err)
{
	*ret = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*ret >= 0)
		return 0;
	if (errno == EACCES)
		return berr_setx(err, EACCES, "no permission to read %s (try as root)", path);
	if (errno != ENOENT)
		return berr_set(err, errno, "open %s", path);
	if (access(ip->config, F_OK) < 0 && errno == ENOENT)
		return berr_setx(err, ENOENT, "no instance named %s (berth list shows them)", name);
	return berr_setx(err, ENOENT, "no console log at %s: %s has not been started yet", path,
			 name);
}

int instance_console_log(const berth_paths *p, const char *name, int out_fd, berr *err)
{
	_cleanup_close_ int old_fd = -EBADF, fd = -EBADF;
	_cleanup_free_ char *old = NULL;
	struct stat st, st_old;
	instance_paths ip;
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	old = str_printf("%s.1", ip.log);
	if (!old) {
		r = berr_set(err, ENOMEM, "paths");
		goto out;
	}
	/*
	 * The current part is opened first. Should the monitor rotate before .1 is
	 * opened, .1 is then the very file we hold: print it once.
	 */
	r = log_open(&ip, ip.log, name, &fd, err);
	if (r < 0)
		goto out;
	old_fd = open(old, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (old_fd < 0 && errno != ENOENT) {
		r = berr_set(err, errno, "open %s", old);
		goto out;
	}
	if (old_fd >= 0 && fstat(fd, &st) == 0 && fstat(old_fd, &st_old) == 0 &&
	    (st.st_ino != st_old.st_ino || st.st_dev != st_old.st_dev))
		r = log_copy(old_fd, old, out_fd, err); /* the older part first */
	if (r >= 0)
		r = log_copy(fd, ip.log, out_fd, err);
out:
	instance_paths_free(&ip);
	return r;
}
