/* SPDX-License-Identifier: MIT */
/*
 * The console server driven with a real pty of the host (posix_openpt, no
 * root), a temp dir for its socket and log, and viewers on plain sockets;
 * then the client side (attach, --log) against it.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "runtime-internal.h"

static struct {
	char dir[64];
	char sock[256];
	char log[256];
	char log_old[260];
	console_server *cs;
	int master;
	int slave;
} fx = {.master = -1, .slave = -1};

static void pty_open(int *ret_master, int *ret_slave)
{
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s;

	cr_assert_geq(m, 0, "posix_openpt: %s", strerror(errno));
	cr_assert_eq(grantpt(m), 0);
	cr_assert_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	cr_assert_geq(s, 0, "open slave: %s", strerror(errno));
	/* Raw: the bytes written are the bytes read, no \n -> \r\n. */
	cr_assert_eq(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	cr_assert_eq(tcsetattr(s, TCSANOW, &t), 0);
	*ret_master = m;
	*ret_slave = s;
}

static void server_start(size_t log_max)
{
	berr err = {0};

	strcpy(fx.dir, "/tmp/berth-test-console-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	snprintf(fx.sock, sizeof(fx.sock), "%s/monitor.sock", fx.dir);
	snprintf(fx.log, sizeof(fx.log), "%s/log/console.log", fx.dir);
	snprintf(fx.log_old, sizeof(fx.log_old), "%s.1", fx.log);
	cr_assert_eq(console_server_new(fx.sock, fx.log, log_max, &fx.cs, &err), 0, "%s", err.msg);
	pty_open(&fx.master, &fx.slave);
	console_server_set_master(fx.cs, fx.master);
}

static void setup(void) { server_start(CONSOLE_LOG_MAX); }

static void teardown(void)
{
	console_server_free(fx.cs);
	if (fx.slave >= 0)
		close(fx.slave);
	if (fx.dir[0])
		rm_rf_at(AT_FDCWD, fx.dir);
}

/* Dispatch until the server has been quiet for quiet_ms. */
static void pump(int quiet_ms)
{
	struct pollfd pf = {.fd = console_server_fd(fx.cs), .events = POLLIN};

	while (poll(&pf, 1, quiet_ms) > 0)
		console_server_dispatch(fx.cs);
}

static int viewer_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, fx.sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static void send_msg(int fd, int type, const void *payload, size_t len)
{
	char msg[1 + CTL_MAX_PAYLOAD];

	msg[0] = (char)type;
	memcpy(msg + 1, payload, len);
	cr_assert_eq(send(fd, msg, len + 1, MSG_NOSIGNAL), (ssize_t)len + 1);
}

/* Attach asking to type or not; returns whether typing was granted. */
static bool viewer_attach(int fd, bool wants)
{
	char want = wants, reply[8];
	ssize_t n;

	send_msg(fd, CTL_ATTACH, &want, 1);
	pump(20);
	n = recv(fd, reply, sizeof(reply), MSG_DONTWAIT);
	cr_assert_eq(n, 2, "attach reply: %zd", n);
	cr_assert_eq(reply[0], CTL_ATTACH);
	return reply[1] == 1;
}

/* The console output a viewer has received so far (CTL_DATA payloads). */
static size_t viewer_read(int fd, char *buf, size_t cap)
{
	char msg[1 + CTL_MAX_PAYLOAD];
	size_t len = 0;
	ssize_t n;

	while ((n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT)) > 0) {
		cr_assert_eq(msg[0], CTL_DATA);
		cr_assert_leq(len + (size_t)n - 1, cap);
		memcpy(buf + len, msg + 1, (size_t)n - 1);
		len += (size_t)n - 1;
	}
	return len;
}

static void slave_write(const char *s)
{
	cr_assert_eq(write(fx.slave, s, strlen(s)), (ssize_t)strlen(s));
}

static size_t slave_read(char *buf, size_t cap)
{
	ssize_t n;

	pump(30);
	n = read(fx.slave, buf, cap);
	return n > 0 ? (size_t)n : 0;
}

static char *file_read(const char *path)
{
	char *s = NULL;

	if (read_file_at(AT_FDCWD, path, &s, NULL) < 0)
		return NULL;
	return s;
}

static void expect_file(const char *path, const char *want)
{
	char *got = file_read(path);

	cr_expect_not_null(got, "%s: missing", path);
	if (got)
		cr_expect_str_eq(got, want, "%s", path);
	free(got);
}

Test(console_server, output_lands_in_log_and_at_viewer, .init = setup, .fini = teardown)
{
	int v = viewer_connect();
	char buf[256];
	size_t n;
	struct stat st;

	cr_assert_eq(stat(fx.sock, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0600, "socket mode %o", st.st_mode & 0777);
	viewer_attach(v, false);
	slave_write("login: ");
	pump(50);
	n = viewer_read(v, buf, sizeof(buf));
	cr_expect_eq(n, 7);
	cr_expect_arr_eq(buf, "login: ", 7);
	expect_file(fx.log, "login: ");
	close(v);
}

Test(console_server, viewers_before_attach_get_nothing, .init = setup, .fini = teardown)
{
	int v = viewer_connect();
	char buf[64];

	slave_write("early");
	pump(50);
	cr_expect_eq(viewer_read(v, buf, sizeof(buf)), 0);
	expect_file(fx.log, "early");
	close(v);
}

Test(console_server, two_viewers_see_the_same_output, .init = setup, .fini = teardown)
{
	int a = viewer_connect(), b = viewer_connect();
	char ba[64], bb[64];

	viewer_attach(a, true);
	viewer_attach(b, false);
	slave_write("hello world\r\n");
	pump(50);
	cr_assert_eq(viewer_read(a, ba, sizeof(ba)), 13);
	cr_assert_eq(viewer_read(b, bb, sizeof(bb)), 13);
	cr_expect_arr_eq(ba, "hello world\r\n", 13);
	cr_expect_arr_eq(bb, "hello world\r\n", 13);
	close(a);
	close(b);
}

static void rotation_check(size_t log_max, size_t chunk, size_t total)
{
	char *written = malloc(total + 1), *log, *old, *both;
	size_t lo, ll;

	for (size_t i = 0; i < total; i++)
		written[i] = (char)('a' + (i / 7) % 26);
	written[total] = '\0';
	for (size_t off = 0; off < total; off += chunk) {
		cr_assert_eq(write(fx.slave, written + off, chunk), (ssize_t)chunk);
		pump(10);
	}
	log = file_read(fx.log);
	old = file_read(fx.log_old);
	cr_assert_not_null(log);
	cr_assert_not_null(old, "no console.log.1 after %zu bytes with log_max %zu", total,
			   log_max);
	lo = strlen(old);
	ll = strlen(log);
	cr_expect_leq(lo, log_max, "console.log.1 holds %zu bytes, over %zu", lo, log_max);
	cr_expect_leq(ll, log_max, "console.log holds %zu bytes, over %zu", ll, log_max);
	cr_expect_eq(lo, log_max, "the rotated file is full");
	both = str_printf("%s%s", old, log);
	/* In order, and the newest output: the tail of what was written. */
	cr_expect_str_eq(both, written + total - lo - ll);
	free(both);
	free(log);
	free(old);
	free(written);
}

Test(console_server, rotation_keeps_the_log_bounded_and_in_order)
{
	server_start(100);
	rotation_check(100, 30, 990);
	teardown();
}

Test(console_server, rotation_with_chunks_larger_than_the_limit)
{
	server_start(64);
	rotation_check(64, 150, 1500);
	teardown();
}

Test(console_server, log_appends_across_servers)
{
	berr err = {0};

	server_start(CONSOLE_LOG_MAX);
	slave_write("boot 1\n");
	pump(30);
	console_server_free(fx.cs);
	cr_assert_eq(console_server_new(fx.sock, fx.log, CONSOLE_LOG_MAX, &fx.cs, &err), 0, "%s",
		     err.msg);
	console_server_note(fx.cs, "[berth: x started]\r\n");
	expect_file(fx.log, "boot 1\n[berth: x started]\r\n");
	teardown();
}

Test(console_server, only_the_first_typist_reaches_the_slave, .init = setup, .fini = teardown)
{
	int a = viewer_connect(), b = viewer_connect(), c;
	char buf[64];

	cr_expect(viewer_attach(a, true), "the first asker types");
	cr_expect_not(viewer_attach(b, true), "the second one is read-only");
	send_msg(a, CTL_DATA, "ls\r", 3);
	cr_assert_eq(slave_read(buf, sizeof(buf)), 3);
	cr_expect_arr_eq(buf, "ls\r", 3);
	send_msg(b, CTL_DATA, "rm\r", 3);
	cr_expect_eq(slave_read(buf, sizeof(buf)), 0, "a read-only viewer's input was typed");
	/* The typist leaves: the next asker may type. */
	close(a);
	pump(30);
	c = viewer_connect();
	cr_expect(viewer_attach(c, true));
	send_msg(c, CTL_DATA, "id\r", 3);
	cr_assert_eq(slave_read(buf, sizeof(buf)), 3);
	cr_expect_arr_eq(buf, "id\r", 3);
	close(b);
	close(c);
}

Test(console_server, resize_applies_for_the_typist_only, .init = setup, .fini = teardown)
{
	int a = viewer_connect(), b = viewer_connect();
	struct winsize ws = {.ws_row = 40, .ws_col = 132}, other = {.ws_row = 5, .ws_col = 5}, got;

	viewer_attach(a, true);
	viewer_attach(b, true);
	send_msg(a, CTL_RESIZE, &ws, sizeof(ws));
	pump(20);
	cr_assert_eq(ioctl(fx.slave, TIOCGWINSZ, &got), 0);
	cr_expect_eq(got.ws_row, 40);
	cr_expect_eq(got.ws_col, 132);
	send_msg(b, CTL_RESIZE, &other, sizeof(other));
	pump(20);
	cr_assert_eq(ioctl(fx.slave, TIOCGWINSZ, &got), 0);
	cr_expect_eq(got.ws_row, 40, "a read-only viewer resized the console");
	close(a);
	close(b);
}

/* Has the server closed its end of this viewer's connection? */
static bool hung_up(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	return poll(&pf, 1, 0) > 0 && (pf.revents & POLLHUP);
}

Test(console_server, a_viewer_that_stops_reading_is_dropped, .init = setup, .fini = teardown)
{
	enum { CHUNK = 16384, LIMIT = 64 << 20 };
	int stalled = viewer_connect(), fast = viewer_connect();
	char chunk[CHUNK], got[CHUNK * 4], msg[1 + CTL_MAX_PAYLOAD];
	size_t sent = 0, checked = 0;
	ssize_t n;

	viewer_attach(stalled, false);
	viewer_attach(fast, false);
	/* Output until the stalled viewer is dropped; the fast one reads all along. */
	while (!hung_up(stalled) && sent < LIMIT) {
		for (int i = 0; i < CHUNK; i++)
			chunk[i] = (char)((sent + (size_t)i) % 251);
		n = write(fx.slave, chunk, CHUNK);
		cr_assert_gt(n, 0, "write to the pty: %s", strerror(errno));
		sent += (size_t)n;
		do {
			size_t have;

			pump(2);
			have = viewer_read(fast, got, sizeof(got));
			/* The fast one gets every byte, in order. */
			for (size_t i = 0; i < have; i++, checked++)
				if (got[i] != (char)(checked % 251))
					cr_assert_fail("byte %zu differs", checked);
		} while (checked < sent);
	}
	cr_assert(hung_up(stalled), "the stalled viewer was not dropped after %zu bytes", sent);
	/* The stalled one can read what was queued, then the end. */
	while ((n = recv(stalled, msg, sizeof(msg), MSG_DONTWAIT)) > 0)
		;
	cr_expect_eq(n, 0, "recv %zd: %s", n, strerror(errno));
	/* And the console goes on. */
	slave_write("still here");
	pump(30);
	cr_expect_eq(viewer_read(fast, got, 64), 10);
	cr_expect_arr_eq(got, "still here", 10);
	close(stalled);
	close(fast);
}

Test(console_server, notes_land_in_log_and_at_viewers, .init = setup, .fini = teardown)
{
	int v = viewer_connect();
	char buf[128];
	size_t n;

	viewer_attach(v, false);
	slave_write("bye\r\n");
	pump(30);
	console_server_note(fx.cs, "[berth: web1 rebooting]");
	n = viewer_read(v, buf, sizeof(buf));
	buf[n] = '\0';
	cr_expect_str_eq(buf, "bye\r\n[berth: web1 rebooting]\r\n");
	expect_file(fx.log, "bye\r\n[berth: web1 rebooting]\r\n");
	close(v);
}

Test(console_server, between_boots_input_is_dropped_and_viewers_stay, .init = setup,
     .fini = teardown)
{
	int v = viewer_connect(), old_master = fx.master, m2, s2;
	char buf[64];

	cr_assert(viewer_attach(v, true));
	console_server_set_master(fx.cs, -EBADF);
	cr_expect_eq(fcntl(old_master, F_GETFD), -1, "the old master is still open");
	send_msg(v, CTL_DATA, "lost", 4);
	pump(20);
	/* The next boot's pty: the same viewer, still typing. */
	pty_open(&m2, &s2);
	console_server_set_master(fx.cs, m2);
	cr_assert_eq(write(s2, "booted", 6), 6);
	pump(30);
	cr_expect_eq(viewer_read(v, buf, sizeof(buf)), 6);
	cr_expect_arr_eq(buf, "booted", 6);
	send_msg(v, CTL_DATA, "root\r", 5);
	pump(30);
	cr_expect_eq(read(s2, buf, sizeof(buf)), 5);
	close(s2);
	close(v);
}

Test(console_server, a_hung_up_pty_comes_back, .init = setup, .fini = teardown)
{
	int v = viewer_connect(), s2;
	char buf[64], name[64];
	struct pollfd pf = {.fd = console_server_fd(fx.cs), .events = POLLIN};
	int spins = 0;

	viewer_attach(v, false);
	cr_assert_eq(ptsname_r(fx.master, name, sizeof(name)), 0);
	/* Every slave closed (agetty's vhangup, systemd between writes): no busy loop. */
	close(fx.slave);
	fx.slave = -1;
	for (int i = 0; i < 50 && poll(&pf, 1, 10) > 0; i++, spins++)
		console_server_dispatch(fx.cs);
	cr_expect_lt(spins, 5, "the server spins on a hung-up pty");
	s2 = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(s2, 0);
	cr_assert_eq(write(s2, "again", 5), 5);
	pump(30);
	cr_expect_eq(viewer_read(v, buf, sizeof(buf)), 5);
	close(s2);
	close(v);
}

Test(console_server, a_stale_socket_is_replaced_and_removed_at_exit)
{
	berr err = {0};
	console_server *cs;
	struct stat st;

	strcpy(fx.dir, "/tmp/berth-test-console-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	snprintf(fx.sock, sizeof(fx.sock), "%s/monitor.sock", fx.dir);
	snprintf(fx.log, sizeof(fx.log), "%s/console.log", fx.dir);
	cr_assert_eq(write_file_atomic(fx.sock, "stale", 5, 0644), 0);
	cr_assert_eq(console_server_new(fx.sock, fx.log, 4096, &cs, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(fx.sock, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	console_server_free(cs);
	cr_expect_neq(access(fx.sock, F_OK), 0, "the socket outlived the server");
	rm_rf_at(AT_FDCWD, fx.dir);
}

/* The client, against a server in a child process. */

static void instance_dirs(berth_paths *p)
{
	char *d;

	strcpy(fx.dir, "/tmp/berth-test-console-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	cr_assert_eq(berth_paths_init(p, fx.dir), 0);
	d = str_printf("%s/instances/x", p->lib);
	cr_assert_eq(mkdir_p(d, 0755), 0);
	free(d);
	d = str_printf("%s/instances/x/config.json", p->lib);
	cr_assert_eq(write_file_atomic(d, "{}", 2, 0644), 0);
	free(d);
	d = str_printf("%s/x", p->run);
	cr_assert_eq(mkdir_p(d, 0755), 0);
	free(d);
}

/* Child: serve until the slave got `want`, then `then` on it, then feed `keys` to the client. */
static _Noreturn void serve_child(const char *want, const char *then, int keys_fd, const char *keys)
{
	char got[256];
	size_t have = 0, wlen = strlen(want);
	time_t end = time(NULL) + 5;
	ssize_t n;

	while (time(NULL) < end && have < wlen) {
		pump(10);
		n = read(fx.slave, got + have, sizeof(got) - have);
		if (n > 0)
			have += (size_t)n;
	}
	if (have != wlen || memcmp(got, want, wlen) != 0)
		_exit(2);
	slave_write(then);
	pump(100);
	if (write(keys_fd, keys, strlen(keys)) < 0)
		_exit(3);
	/* Nothing typed after Ctrl-a q may arrive. */
	for (int i = 0; i < 20; i++) {
		pump(10);
		if (read(fx.slave, got, sizeof(got)) > 0)
			_exit(4);
	}
	_exit(0);
}

Test(console_client, attach_types_relays_and_detaches)
{
	berth_paths p;
	int in[2], out[2], status;
	char buf[256];
	berr err = {0};
	pid_t pid;
	ssize_t n;

	instance_dirs(&p);
	snprintf(fx.sock, sizeof(fx.sock), "%s/x/monitor.sock", p.run);
	snprintf(fx.log, sizeof(fx.log), "%s/x/console.log", p.log);
	cr_assert_eq(console_server_new(fx.sock, fx.log, 4096, &fx.cs, &err), 0, "%s", err.msg);
	pty_open(&fx.master, &fx.slave);
	console_server_set_master(fx.cs, fx.master);
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	/* Ctrl-a Ctrl-a is one Ctrl-a; Ctrl-a x is both. */
	cr_assert_eq(write(in[1], "ab\001\001c\001xd", 8), 8);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		serve_child("ab\001c\001xd", "output!", in[1], "\001qzzz");
	close(in[1]);
	cr_assert_eq(dup2(in[0], STDIN_FILENO), STDIN_FILENO);
	cr_assert_eq(dup2(out[1], STDOUT_FILENO), STDOUT_FILENO);
	close(out[1]);
	cr_expect_eq(instance_console_attach(&p, "x", false, &err), 0, "%s", err.msg);
	close(STDOUT_FILENO);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server child: status %d", status);
	n = read(out[0], buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_expect_str_eq(buf, "output!");
	berth_paths_free(&p);
	teardown();
}

Test(console_client, no_monitor_is_a_clear_error)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	berth_paths p;
	berr err = {0};
	int fd;

	instance_dirs(&p);
	cr_expect_lt(instance_console_attach(&p, "x", false, &err), 0);
	cr_expect(strstr(err.msg, "no monitor is running for x"), "%s", err.msg);
	/* A socket left behind by a dead monitor: refused, the same message. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/x/monitor.sock", p.run);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	err = (berr){0};
	cr_expect_lt(instance_console_attach(&p, "x", false, &err), 0);
	cr_expect(strstr(err.msg, "no monitor is running for x"), "%s", err.msg);
	err = (berr){0};
	cr_expect_lt(instance_console_attach(&p, "nosuch", false, &err), 0);
	cr_expect(strstr(err.msg, "no instance named nosuch"), "%s", err.msg);
	err = (berr){0};
	cr_expect_lt(instance_console_attach(&p, "../x", false, &err), 0);
	berth_paths_free(&p);
	rm_rf_at(AT_FDCWD, fx.dir);
}

Test(console_client, log_prints_the_rotated_part_first)
{
	berth_paths p;
	berr err = {0};
	char *path, buf[64];
	int pfd[2];
	ssize_t n;

	instance_dirs(&p);
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	cr_expect_lt(instance_console_log(&p, "x", pfd[1], &err), 0);
	cr_expect(strstr(err.msg, "has not been started"), "%s", err.msg);
	path = str_printf("%s/x", p.log);
	cr_assert_eq(mkdir_p(path, 0750), 0);
	free(path);
	path = str_printf("%s/x/console.log.1", p.log);
	cr_assert_eq(write_file_atomic(path, "older\n", 6, 0640), 0);
	free(path);
	path = str_printf("%s/x/console.log", p.log);
	cr_assert_eq(write_file_atomic(path, "newer\n", 6, 0640), 0);
	free(path);
	cr_assert_eq(instance_console_log(&p, "x", pfd[1], &err), 0, "%s", err.msg);
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_expect_str_eq(buf, "older\nnewer\n");
	err = (berr){0};
	cr_expect_lt(instance_console_log(&p, "nosuch", pfd[0], &err), 0);
	cr_expect(strstr(err.msg, "no instance named nosuch"), "%s", err.msg);
	close(pfd[0]);
	berth_paths_free(&p);
	rm_rf_at(AT_FDCWD, fx.dir);
}
