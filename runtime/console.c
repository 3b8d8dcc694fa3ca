/* SPDX-License-Identifier: MIT */
/*
 * The console server, inside the monitor's epoll loop. It holds the pty
 * master of the current boot, appends everything init writes to the console
 * log (rotated to console.log.1, so the pair stays under 2 x log_max), and
 * serves viewers on the control socket (SOCK_SEQPACKET, CTL_* messages).
 *
 * Nothing here may block the monitor:
 * - a viewer whose socket is full is dropped (closed), never buffered for: a
 *   stalled `berth console` costs its own session, not the monitor's memory
 *   or the other viewers' output. Its client sees the socket close.
 * - input from the typing viewer goes to the master without blocking. When
 *   the pty will not take it all, the rest of that one message waits here and
 *   the typist's socket is not read until the master drains (backpressure, so
 *   a paste is not cut short); nothing else waits on it.
 * - a hangup on the master (read: EIO) is not taken as the end of init: agetty
 *   calls vhangup() and systemd closes /dev/console between writes, and the
 *   pty comes back when the slave is opened again. The master is watched
 *   edge-triggered, so a hung-up master does not spin the loop; the monitor
 *   says when a boot ends (console_server_set_master with -EBADF).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "runtime-internal.h"

/* More are refused at accept: each costs the monitor a socket and a send per output chunk. */
#define CONSOLE_MAX_VIEWERS 16
/*
 * How far a viewer may lag before it is dropped: its socket's send buffer
 * (the kernel doubles this for its accounting). Memory is used only while a
 * viewer lags; a terminal behind a slow link then survives a burst of output.
 */
#define VIEWER_SNDBUF (512 * 1024)
/* Reads from the master per dispatch, so a flooding instance cannot starve the monitor. */
#define MASTER_READ_BUDGET 16

/* epoll data for the two fds that are not viewers (viewers carry their slot index). */
#define EV_LISTEN UINT64_MAX
#define EV_MASTER (UINT64_MAX - 1)

typedef struct viewer {
	int fd;
	bool attached; /* sent CTL_ATTACH: gets the output */
	bool dead;     /* closed during this dispatch: its slot is not reused until the next */
} viewer;

struct console_server {
	int epfd;
	int listen_fd;
	int master_fd;
	int log_fd;
	uint64_t log_size;
	size_t log_max;
	char *sock_path;
	char *log_path;
	char *log_old_path; /* console.log.1 */
	bool sock_bound;    /* ours to unlink */
	int typist;         /* slot of the viewer who types, -1: nobody */
	/* The part of one typed message the master did not take yet. */
	char in_buf[CTL_MAX_PAYLOAD];
	size_t in_off, in_len;
	viewer v[CONSOLE_MAX_VIEWERS];
};

static int log_open(console_server *cs)
{
	struct stat st;

	cs->log_fd = open(cs->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (cs->log_fd < 0)
		return -errno;
	cs->log_size = fstat(cs->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static void log_rotate(console_server *cs)
{
	closep(&cs->log_fd);
	cs->log_fd = -EBADF;
	if (rename(cs->log_path, cs->log_old_path) < 0)
		log_debug("console: rename %s: %m", cs->log_path);
	if (log_open(cs) < 0)
		log_debug("console: open %s: %m", cs->log_path);
}

/* Split at log_max so each file holds at most log_max bytes and the pair reads in order. */
static void log_append(console_server *cs, const char *buf, size_t len)
{
	while (len > 0) {
		size_t room;
		ssize_t n;

		if (cs->log_fd < 0 && log_open(cs) < 0)
			return;
		if (cs->log_size >= cs->log_max) {
			log_rotate(cs);
			continue;
		}
		room = cs->log_max - cs->log_size;
		n = write(cs->log_fd, buf, len < room ? len : room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_debug("console: write %s: %m", cs->log_path);
			return;
		}
		cs->log_size += (uint64_t)n;
		buf += n;
		len -= (size_t)n;
	}
}

static void epoll_set(console_server *cs, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	if (epoll_ctl(cs->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		log_debug("console: epoll: %m");
}

/* The typist's socket is read again once its pending input reached the master. */
static void input_unblock(console_server *cs)
{
	cs->in_off = cs->in_len = 0;
	if (cs->master_fd >= 0)
		epoll_set(cs, cs->master_fd, EPOLLIN | EPOLLET, EV_MASTER);
	if (cs->typist >= 0)
		epoll_set(cs, cs->v[cs->typist].fd, EPOLLIN, (uint64_t)cs->typist);
}

static void viewer_drop(console_server *cs, int i)
{
	viewer *v = &cs->v[i];

	if (v->fd < 0)
		return;
	epoll_ctl(cs->epfd, EPOLL_CTL_DEL, v->fd, NULL);
	closep(&v->fd);
	*v = (viewer){.fd = -EBADF, .dead = true};
	if (cs->typist == i) {
		cs->typist = -1;
		input_unblock(cs);
	}
}

static int viewer_send(console_server *cs, int i, const void *msg, size_t len)
{
	if (send(cs->v[i].fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
		return 0;
	/* Full (a viewer that stopped reading) or gone: drop it rather than queue. */
	log_debug("console: dropping viewer %d: %m", i);
	viewer_drop(cs, i);
	return -EPIPE;
}

/* To the log, then to every attached viewer. */
static void output(console_server *cs, const char *buf, size_t len)
{
	char msg[1 + CTL_MAX_PAYLOAD];

	log_append(cs, buf, len);
	while (len > 0) {
		size_t k = len < CTL_MAX_PAYLOAD ? len : CTL_MAX_PAYLOAD;

		msg[0] = CTL_DATA;
		memcpy(msg + 1, buf, k);
		for (int i = 0; i < CONSOLE_MAX_VIEWERS; i++)
			if (cs->v[i].fd >= 0 && cs->v[i].attached)
				viewer_send(cs, i, msg, k + 1);
		buf += k;
		len -= k;
	}
}

/*
 * Reads are gathered into one message while the instance writes faster than
 * we read: fewer, fuller messages make each viewer's socket buffer go further.
 */
static void master_read(console_server *cs)
{
	char buf[CTL_MAX_PAYLOAD];
	size_t len = 0;

	for (int round = 0; round < MASTER_READ_BUDGET; round++) {
		ssize_t n = read(cs->master_fd, buf + len, sizeof(buf) - len);

		if (n > 0) {
			len += (size_t)n;
			if (len == sizeof(buf)) {
				output(cs, buf, len);
				len = 0;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* EAGAIN: drained. EIO or 0: no slave open now (see the top of the file). */
		if (n < 0 && errno != EAGAIN && errno != EIO)
			log_debug("console: read pty: %m");
		if (len > 0)
			output(cs, buf, len);
		return;
	}
	if (len > 0)
		output(cs, buf, len);
	/* Budget spent with data left: re-arm, so the edge-triggered fd is reported again. */
	epoll_set(cs, cs->master_fd, EPOLLIN | EPOLLET | (cs->in_len > cs->in_off ? EPOLLOUT : 0),
		  EV_MASTER);
}

/* Write pending input; true when all of it went. */
static bool input_flush(console_server *cs)
{
	while (cs->in_off < cs->in_len) {
		ssize_t n = write(cs->master_fd, cs->in_buf + cs->in_off, cs->in_len - cs->in_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0) {
			/* The pty refuses it (hung up): typing into nothing is dropped. */
			cs->in_off = cs->in_len = 0;
			return true;
		}
		cs->in_off += (size_t)n;
	}
	cs->in_off = cs->in_len = 0;
	return true;
}

static void input_from_typist(console_server *cs, const char *buf, size_t len)
{
	if (cs->master_fd < 0 || len == 0)
		return; /* between boots: dropped */
	memcpy(cs->in_buf, buf, len);
	cs->in_off = 0;
	cs->in_len = len;
	if (input_flush(cs))
		return;
	/* Hold the typist until the master takes the rest. */
	epoll_set(cs, cs->master_fd, EPOLLIN | EPOLLOUT | EPOLLET, EV_MASTER);
	epoll_set(cs, cs->v[cs->typist].fd, 0, (uint64_t)cs->typist);
}

static void on_attach(console_server *cs, int i, const char *payload, size_t len)
{
	bool wants = len >= 1 && payload[0] == 1;
	char reply[2] = {CTL_ATTACH, 0};

	if (wants && cs->typist < 0)
		cs->typist = i;
	else if (!wants && cs->typist == i)
		cs->typist = -1;
	reply[1] = cs->typist == i;
	cs->v[i].attached = true;
	viewer_send(cs, i, reply, sizeof(reply));
}

static void on_resize(console_server *cs, const char *payload, size_t len)
{
	struct winsize ws;

	if (cs->master_fd < 0 || len != sizeof(ws))
		return;
	memcpy(&ws, payload, sizeof(ws));
	if (ioctl(cs->master_fd, TIOCSWINSZ, &ws) < 0)
		log_debug("console: resize: %m");
}

static void viewer_read(console_server *cs, int i, uint32_t events)
{
	char msg[1 + CTL_MAX_PAYLOAD];
	ssize_t n;

	if (cs->typist == i && cs->in_len > 0) {
		/* Held for backpressure: only a hangup matters now. */
		if (events & (EPOLLHUP | EPOLLERR))
			viewer_drop(cs, i);
		return;
	}
	n = recv(cs->v[i].fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (size_t)n > sizeof(msg)) {
		/* Gone, or a message larger than the protocol allows. */
		viewer_drop(cs, i);
		return;
	}
	switch (msg[0]) {
	case CTL_ATTACH:
		on_attach(cs, i, msg + 1, (size_t)n - 1);
		break;
	case CTL_DATA:
		if (cs->typist == i)
			input_from_typist(cs, msg + 1, (size_t)n - 1);
		break;
	case CTL_RESIZE:
		if (cs->typist == i)
			on_resize(cs, msg + 1, (size_t)n - 1);
		break;
	default:
		break; /* unknown: a newer client; ignored */
	}
}

static void accept_viewers(console_server *cs)
{
	const int sndbuf = VIEWER_SNDBUF;

	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN};
		int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int i;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_debug("console: accept: %m");
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		for (i = 0; i < CONSOLE_MAX_VIEWERS; i++)
			if (cs->v[i].fd < 0 && !cs->v[i].dead)
				break;
		ev.data.u64 = (uint64_t)i;
		if (i == CONSOLE_MAX_VIEWERS || epoll_ctl(cs->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			/* Full: the client sees the socket close before any reply. */
			close(fd);
			continue;
		}
		/* Past net.core.wmem_max as root (the monitor); else as far as it allows. */
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		cs->v[i] = (viewer){.fd = fd};
	}
}

void console_server_dispatch(console_server *cs)
{
	struct epoll_event ev[16];
	int n;

	for (int i = 0; i < CONSOLE_MAX_VIEWERS; i++)
		cs->v[i].dead = false;
	n = epoll_wait(cs->epfd, ev, ARRAY_SIZE(ev), 0);
	for (int k = 0; k < n; k++) {
		uint64_t d = ev[k].data.u64;

		if (d == EV_LISTEN) {
			accept_viewers(cs);
		} else if (d == EV_MASTER) {
			if (cs->master_fd < 0)
				continue;
			if ((ev[k].events & EPOLLOUT) && input_flush(cs))
				input_unblock(cs);
			master_read(cs);
		} else if (d < CONSOLE_MAX_VIEWERS && cs->v[d].fd >= 0) {
			viewer_read(cs, (int)d, ev[k].events);
		}
	}
}

void console_server_set_master(console_server *cs, int master_fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = EV_MASTER};
	int fl;

	if (cs->master_fd >= 0) {
		epoll_ctl(cs->epfd, EPOLL_CTL_DEL, cs->master_fd, NULL);
		closep(&cs->master_fd);
	}
	cs->master_fd = -EBADF;
	input_unblock(cs);
	if (master_fd < 0)
		return;
	fl = fcntl(master_fd, F_GETFL);
	if (fl < 0 || fcntl(master_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    epoll_ctl(cs->epfd, EPOLL_CTL_ADD, master_fd, &ev) < 0) {
		log_error("console: cannot watch the pty: %m");
		close(master_fd);
		return;
	}
	cs->master_fd = master_fd;
}

void console_server_note(console_server *cs, const char *line)
{
	size_t len = strlen(line);

	output(cs, line, len);
	if (len == 0 || line[len - 1] != '\n')
		output(cs, "\r\n", 2);
}

int console_server_fd(console_server *cs) { return cs->epfd; }

static int listen_socket(console_server *cs, berr *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_LISTEN};
	mode_t old_umask;
	int r;

	if (strlen(cs->sock_path) >= sizeof(sa.sun_path))
		return berr_setx(err, ENAMETOOLONG,
				 "control socket %s: path too long (use a shorter --root)",
				 cs->sock_path);
	strcpy(sa.sun_path, cs->sock_path);
	cs->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cs->listen_fd < 0)
		return berr_set(err, errno, "control socket");
	/* A socket left by a monitor that died; the instance lock says none runs now. */
	if (unlink(cs->sock_path) < 0 && errno != ENOENT)
		return berr_set(err, errno, "remove stale %s", cs->sock_path);
	/* The mode comes from the umask at bind(): 0600 from the start, no window. */
	old_umask = umask(0177);
	r = bind(cs->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (r < 0)
		return berr_set(err, errno, "bind %s", cs->sock_path);
	cs->sock_bound = true;
	if (listen(cs->listen_fd, 16) < 0 ||
	    epoll_ctl(cs->epfd, EPOLL_CTL_ADD, cs->listen_fd, &ev) < 0)
		return berr_set(err, errno, "listen on %s", cs->sock_path);
	return 0;
}

static int log_setup(console_server *cs, berr *err)
{
	_cleanup_free_ char *dir = strdup(cs->log_path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int r;

	if (!dir)
		return berr_set(err, ENOMEM, "console log");
	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_p(dir, 0750);
		if (r < 0)
			return berr_set(err, -r, "create %s", dir);
	}
	r = log_open(cs);
	if (r < 0)
		return berr_set(err, -r, "console log %s", cs->log_path);
	return 0;
}

int console_server_new(const char *sock_path, const char *log_path, size_t log_max,
		       console_server **ret, berr *err)
{
	console_server *cs;
	int r;

	if (log_max == 0)
		return berr_setx(err, EINVAL, "console log limit must be above 0");
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return berr_set(err, ENOMEM, "console");
	cs->epfd = cs->listen_fd = cs->master_fd = cs->log_fd = -EBADF;
	cs->typist = -1;
	cs->log_max = log_max;
	for (int i = 0; i < CONSOLE_MAX_VIEWERS; i++)
		cs->v[i].fd = -EBADF;
	cs->sock_path = strdup(sock_path);
	cs->log_path = strdup(log_path);
	cs->log_old_path = str_printf("%s.1", log_path);
	if (!cs->sock_path || !cs->log_path || !cs->log_old_path) {
		r = berr_set(err, ENOMEM, "console");
		goto fail;
	}
	r = log_setup(cs, err);
	if (r < 0)
		goto fail;
	cs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (cs->epfd < 0) {
		r = berr_set(err, errno, "console epoll");
		goto fail;
	}
	r = listen_socket(cs, err);
	if (r < 0)
		goto fail;
	*ret = cs;
	return 0;
fail:
	console_server_free(cs);
	return r;
}

void console_server_free(console_server *cs)
{
	if (!cs)
		return;
	for (int i = 0; i < CONSOLE_MAX_VIEWERS; i++)
		closep(&cs->v[i].fd);
	if (cs->sock_bound)
		unlink(cs->sock_path);
	closep(&cs->listen_fd);
	closep(&cs->master_fd);
	closep(&cs->log_fd);
	closep(&cs->epfd);
	free(cs->sock_path);
	free(cs->log_path);
	free(cs->log_old_path);
	free(cs);
}
