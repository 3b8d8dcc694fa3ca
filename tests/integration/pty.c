/* SPDX-License-Identifier: MIT */
/*
 * berth-pty: run a command on a new pseudo-terminal and drive it like a user at
 * a keyboard, for instances.sh (berth console, berth exec -t).
 *
 *   berth-pty [-T SECONDS] [-s ROWSxCOLS] [STEP...] -- COMMAND [ARG...]
 *
 * COMMAND runs as a session leader with the pty's slave as its controlling
 * terminal and as fds 0-2; the window size is ROWSxCOLS (default 24x80). The
 * STEPs run in order:
 *   expect=TEXT  wait until TEXT appears in the output that follows the last match
 *   unless=TEXT  make the next expect fail at once (exit 123) if TEXT shows first
 *   when=TEXT=>REPLY  from now on, each time TEXT shows while an expect waits,
 *                type REPLY (e.g. answer a prompt that may or may not come)
 *   send=TEXT    type TEXT (escapes: \r \n \t \\ \NNN octal, \xHH hex)
 *   sleep=MS     wait MS milliseconds, still copying output
 * Then it waits for COMMAND to exit. Everything COMMAND writes to the terminal
 * goes to stdout, unchanged. Exit status: COMMAND's (128+N if signal N ended
 * it); 124 (and a line on stderr naming the step) if the -T deadline (default
 * 20 s) passed first, 123 if an unless= text showed; COMMAND, our own child, is
 * then killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static char *out;
static size_t out_len, out_cap, matched;
static int master = -1;
static pid_t child;
static int child_status = -1;
static long long deadline_ms;
static const char *unless;
static const char *when, *when_reply;
static size_t when_seen;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void keep(const char *p, size_t n)
{
	if (out_len + n + 1 > out_cap) {
		size_t cap = out_cap ? out_cap : 4096;

		while (out_len + n + 1 > cap)
			cap *= 2;
		out = realloc(out, cap);
		if (!out) {
			fputs("berth-pty: out of memory\n", stderr);
			exit(125);
		}
		out_cap = cap;
	}
	memcpy(out + out_len, p, n);
	out_len += n;
	out[out_len] = '\0';
}

static void reap(int flags)
{
	int st;

	if (child_status < 0 && waitpid(child, &st, flags) == child)
		child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Copy what the command writes for up to wait_ms (bounded by the deadline).
 * Returns -1 once the master reports end of file (every slave fd closed).
 */
static int pump(int wait_ms)
{
	long long left = deadline_ms - now_ms();
	struct pollfd pfd = {.fd = master, .events = POLLIN};
	char buf[4096];
	ssize_t n;
	int r;

	if (left < 0)
		left = 0;
	if (wait_ms > left)
		wait_ms = (int)left;
	if (master < 0) {
		poll(NULL, 0, wait_ms);
		return -1;
	}
	r = poll(&pfd, 1, wait_ms);
	if (r <= 0)
		return 0;
	n = read(master, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) { /* EIO: no slave open any more */
		close(master);
		master = -1;
		return -1;
	}
	write_all(STDOUT_FILENO, buf, (size_t)n);
	keep(buf, (size_t)n);
	return 0;
}

static void give_up(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "berth-pty: timed out %s\n", what);
	if (child_status < 0) {
		kill(child, SIGKILL); /* our own child */
		reap(0);
	}
	exit(124);
}

static size_t unescape(const char *s, char *d)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\' || !s[1]) {
			d[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r':
			d[n++] = '\r';
			s++;
			break;
		case 'n':
			d[n++] = '\n';
			s++;
			break;
		case 't':
			d[n++] = '\t';
			s++;
			break;
		case 'x': {
			char hex[3] = {0}, *end;

			hex[0] = s[1];
			if (hex[0])
				hex[1] = s[2];
			d[n++] = (char)strtol(hex, &end, 16);
			s += 1 + (end - hex);
			break;
		}
		default:
			if (*s >= '0' && *s <= '7') {
				int v = 0, i;

				for (i = 0; i < 3 && *s >= '0' && *s <= '7'; i++)
					v = v * 8 + (*s++ - '0');
				d[n++] = (char)v;
			} else {
				d[n++] = *s++;
			}
		}
	}
	return n;
}

/* Type TEXT (with escapes) at the command. */
static void type_text(const char *text)
{
	char *buf = malloc(strlen(text) + 1);
	size_t n;

	if (!buf)
		exit(125);
	n = unescape(text, buf);
	if (master >= 0)
		write_all(master, buf, n);
	free(buf);
}

static void step(const char *arg)
{
	char what[600];

	if (strncmp(arg, "expect=", 7) == 0) {
		const char *text = arg + 7;
		char *hit;

		snprintf(what, sizeof(what), "waiting for \"%.500s\"", text);
		for (;;) {
			char *bad = out && unless ? strstr(out + matched, unless) : NULL;

			hit = out ? strstr(out + matched, text) : NULL;
			if (bad && (!hit || bad < hit)) {
				fflush(stdout);
				fprintf(stderr, "berth-pty: saw \"%s\" while %s\n", unless, what);
				if (child_status < 0) {
					kill(child, SIGKILL); /* our own child */
					reap(0);
				}
				exit(123);
			}
			if (hit) {
				matched = (size_t)(hit - out) + strlen(text);
				unless = NULL;
				return;
			}
			if (when && out) {
				size_t from = when_seen > matched ? when_seen : matched;
				char *w = strstr(out + from, when);

				if (w) {
					when_seen = (size_t)(w - out) + strlen(when);
					type_text(when_reply);
				}
			}
			if (now_ms() >= deadline_ms)
				give_up(what);
			if (pump(100) < 0) {
				fflush(stdout);
				fprintf(stderr, "berth-pty: the terminal closed while %s\n", what);
				reap(0);
				exit(124);
			}
		}
	} else if (strncmp(arg, "unless=", 7) == 0) {
		unless = arg + 7;
	} else if (strncmp(arg, "when=", 5) == 0) {
		char *sep = strstr(arg + 5, "=>");

		if (!sep) {
			fprintf(stderr, "berth-pty: \"%s\": want when=TEXT=>REPLY\n", arg);
			exit(125);
		}
		when = strndup(arg + 5, (size_t)(sep - arg - 5));
		when_reply = sep + 2;
		when_seen = out_len;
	} else if (strncmp(arg, "send=", 5) == 0) {
		type_text(arg + 5);
	} else if (strncmp(arg, "sleep=", 6) == 0) {
		long long until = now_ms() + atoi(arg + 6);

		while (now_ms() < until && now_ms() < deadline_ms)
			pump((int)(until - now_ms()));
	} else {
		fprintf(stderr, "berth-pty: unknown step \"%s\"\n", arg);
		exit(125);
	}
}

int main(int argc, char **argv)
{
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	int timeout_s = 20, first_step, cmd = -1, i, slave;
	char *slave_name;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-T") == 0 && i + 1 < argc) {
			timeout_s = atoi(argv[++i]);
		} else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
			unsigned short r, c;

			if (sscanf(argv[++i], "%hux%hu", &r, &c) != 2)
				break;
			ws.ws_row = r;
			ws.ws_col = c;
		} else {
			break;
		}
	}
	first_step = i;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			cmd = i + 1;
			break;
		}
	}
	if (cmd < 0 || cmd >= argc) {
		fputs("usage: berth-pty [-T SECONDS] [-s ROWSxCOLS] [STEP...] -- COMMAND [ARG...]\n",
		      stderr);
		return 125;
	}
	deadline_ms = now_ms() + (long long)timeout_s * 1000;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    !(slave_name = ptsname(master))) {
		perror("berth-pty: pty");
		return 125;
	}
	ioctl(master, TIOCSWINSZ, &ws);
	signal(SIGPIPE, SIG_IGN);
	child = fork();
	if (child < 0) {
		perror("berth-pty: fork");
		return 125;
	}
	if (child == 0) {
		setsid();
		slave = open(slave_name, O_RDWR);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
			perror("berth-pty: slave");
			_exit(125);
		}
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		execvp(argv[cmd], argv + cmd);
		perror("berth-pty: exec");
		_exit(127);
	}

	for (i = first_step; i < cmd - 1; i++)
		step(argv[i]);

	/* The steps are done: copy output until the command exits and the pty drains. */
	for (;;) {
		reap(WNOHANG);
		if (child_status >= 0) {
			/* Drain what is left; stop at EOF or after a quiet 100 ms. */
			while (master >= 0) {
				size_t before = out_len;

				if (pump(100) < 0 || out_len == before)
					break;
			}
			break;
		}
		if (now_ms() >= deadline_ms)
			give_up("waiting for the command to exit");
		pump(50);
	}
	fflush(stdout);
	return child_status;
}
