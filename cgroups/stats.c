/* SPDX-License-Identifier: MIT */
/*
 * What a cgroup uses (its stats files, read through its directory fd) and
 * freezing it. Parsing is pure (cg_stats_parse); reading is one openat and
 * one read per file, so that stats for hundreds of instances stay cheap.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgroups.h"

/* A value from a cgroup file: a decimal number, or "max" for a limit. */
static int parse_value(const char *s, size_t len, bool limit, uint64_t *ret)
{
	char buf[32];

	if (len == 0 || len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (limit && str_eq(buf, "max")) {
		*ret = CG_UNLIMITED;
		return 0;
	}
	return parse_u64(buf, ret) < 0 ? -EBADMSG : 0;
}

/* A one-value file: "123\n" or "max\n". */
static int parse_single(const char *text, bool limit, uint64_t *ret)
{
	return parse_value(text, strcspn(text, "\n"), limit, ret);
}

typedef struct keyed_field {
	const char *key;
	uint64_t *value;
	bool found;
} keyed_field;

/*
 * A flat keyed file ("key value" lines: cpu.stat, memory.events). Keys it
 * does not ask for are skipped: kernels add keys. 1 when every field was
 * found, 0 when some were not, -EBADMSG on a malformed line.
 */
static int parse_keyed(const char *text, keyed_field *f, size_t n)
{
	size_t found = 0;

	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n"), klen = strcspn(line, " \n");

		for (size_t i = 0; klen < len && i < n; i++) {
			if (f[i].found || strlen(f[i].key) != klen ||
			    strncmp(line, f[i].key, klen) != 0)
				continue;
			if (parse_value(line + klen + 1, len - klen - 1, false, f[i].value) < 0)
				return -EBADMSG;
			f[i].found = true;
			found++;
		}
		line += len + (line[len] == '\n');
	}
	return found == n;
}

static int parse_cpu_stat(const char *text, cg_stats *st)
{
	keyed_field usage[] = {{"usage_usec", &st->cpu_usage_usec, false},
			       {"user_usec", &st->cpu_user_usec, false},
			       {"system_usec", &st->cpu_system_usec, false}};
	keyed_field throttle[] = {{"nr_throttled", &st->cpu_nr_throttled, false},
				  {"throttled_usec", &st->cpu_throttled_usec, false}};
	int r = parse_keyed(text, usage, ARRAY_SIZE(usage));

	if (r < 0)
		return r;
	if (r == 1)
		st->have |= CG_HAVE_CPU_USAGE;
	/* Only with the cpu controller enabled. */
	r = parse_keyed(text, throttle, ARRAY_SIZE(throttle));
	if (r == 1)
		st->have |= CG_HAVE_CPU_THROTTLE;
	return r < 0 ? r : 0;
}

static int parse_memory_events(const char *text, cg_stats *st)
{
	keyed_field f[] = {{"oom", &st->oom, false}, {"oom_kill", &st->oom_kill, false}};
	int r = parse_keyed(text, f, ARRAY_SIZE(f));

	if (r == 1)
		st->have |= CG_HAVE_MEMORY_EVENTS;
	return r < 0 ? r : 0;
}

static int parse_events(const char *text, cg_stats *st)
{
	uint64_t populated = 0, frozen = 0;
	keyed_field f[] = {{"populated", &populated, false}, {"frozen", &frozen, false}};
	int r = parse_keyed(text, f, ARRAY_SIZE(f));

	if (r < 0 || !f[0].found)
		return -EBADMSG;
	st->populated = populated != 0;
	st->frozen = frozen != 0; /* no "frozen" line before 5.2: never frozen */
	return 0;
}

/* One io.stat line: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static int parse_io_line(const char *line, size_t len, uint64_t sum[4])
{
	static const char *const keys[] = {"rbytes=", "wbytes=", "rios=", "wios="};
	size_t pos = strcspn(line, " \n");

	while (pos < len) {
		size_t wlen;

		pos++;
		wlen = strcspn(line + pos, " \n");
		if (pos + wlen > len)
			wlen = len - pos;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			size_t klen = strlen(keys[i]);
			uint64_t v;

			if (wlen <= klen || strncmp(line + pos, keys[i], klen) != 0)
				continue;
			if (parse_value(line + pos + klen, wlen - klen, false, &v) < 0)
				return -EBADMSG;
			sum[i] += v;
		}
		pos += wlen;
	}
	return 0;
}

static int parse_io_stat(const char *text, cg_stats *st)
{
	uint64_t sum[4] = {0};

	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");

		if (len > 0 && parse_io_line(line, len, sum) < 0)
			return -EBADMSG;
		line += len + (line[len] == '\n');
	}
	st->io_rbytes = sum[0];
	st->io_wbytes = sum[1];
	st->io_rios = sum[2];
	st->io_wios = sum[3];
	st->have |= CG_HAVE_IO;
	return 0;
}

/* The one-value files: where each goes, and its CG_HAVE_* bit. */
static const struct single_file {
	const char *name;
	size_t offset;
	unsigned int bit;
	bool limit;
} single_files[] = {
	{"memory.current", offsetof(cg_stats, memory_current), CG_HAVE_MEMORY, false},
	{"memory.peak", offsetof(cg_stats, memory_peak), CG_HAVE_MEMORY_PEAK, false},
	{"memory.max", offsetof(cg_stats, memory_max), CG_HAVE_MEMORY_MAX, true},
	{"memory.swap.current", offsetof(cg_stats, swap_current), CG_HAVE_SWAP, false},
	{"memory.swap.max", offsetof(cg_stats, swap_max), CG_HAVE_SWAP_MAX, true},
	{"pids.current", offsetof(cg_stats, pids_current), CG_HAVE_PIDS, false},
	{"pids.max", offsetof(cg_stats, pids_max), CG_HAVE_PIDS_MAX, true},
};

int cg_stats_parse(const char *file, const char *text, cg_stats *st)
{
	if (str_eq(file, "cpu.stat"))
		return parse_cpu_stat(text, st);
	if (str_eq(file, "memory.events"))
		return parse_memory_events(text, st);
	if (str_eq(file, "io.stat"))
		return parse_io_stat(text, st);
	if (str_eq(file, "cgroup.events"))
		return parse_events(text, st);
	for (size_t i = 0; i < ARRAY_SIZE(single_files); i++) {
		const struct single_file *f = &single_files[i];
		uint64_t *v = (uint64_t *)((char *)st + f->offset);
		int r;

		if (!str_eq(file, f->name))
			continue;
		r = parse_single(text, f->limit, v);
		if (r < 0)
			return r;
		st->have |= f->bit;
		return 0;
	}
	return -EINVAL;
}

/*
 * Read a small cgroup file into buf (NUL-terminated): one openat, one read.
 * Returns its length or -errno; a longer file (io.stat with many devices)
 * is read whole into *big instead, which the caller frees.
 */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t size, char **big)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if ((size_t)n == size - 1) {
		size_t len = 0;
		int r = read_file_at(dirfd, name, big, &len);

		return r < 0 ? r : (ssize_t)len;
	}
	return n;
}

int cg_stats_read(int dirfd, cg_stats *ret)
{
	static const char *const files[] = {
		"cgroup.events",   "cpu.stat",      "memory.current",
		"memory.peak",     "memory.max",    "memory.swap.current",
		"memory.swap.max", "memory.events", "pids.current",
		"pids.max",        "io.stat",
	};
	cg_stats st = {0};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *big = NULL;
		char buf[4096];
		ssize_t n = read_small(dirfd, files[i], buf, sizeof(buf), &big);
		int r;

		/* The cgroup itself must be there; any other file may be missing. */
		if (n == -ENOENT && i > 0)
			continue;
		if (n < 0)
			return (int)n;
		r = cg_stats_parse(files[i], big ? big : buf, &st);
		if (r < 0)
			return r;
	}
	*ret = st;
	return 0;
}

int cg_is_frozen(int dirfd)
{
	cg_stats st = {0};
	char buf[256];
	_cleanup_free_ char *big = NULL;
	ssize_t n = read_small(dirfd, "cgroup.events", buf, sizeof(buf), &big);

	if (n < 0)
		return (int)n;
	n = parse_events(big ? big : buf, &st);
	return n < 0 ? (int)n : st.frozen;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * As wait_empty in cgroups.c: read cgroup.events, then poll for POLLPRI (the
 * next change); reading each time keeps an old change from waking us again.
 */
int cg_freeze(int dirfd, bool freeze, int timeout_ms)
{
	_cleanup_close_ int events = -EBADF;
	long deadline = now_ms() + timeout_ms;
	int r = write_file_at(dirfd, "cgroup.freeze", freeze ? "1" : "0");

	if (r < 0)
		return r;
	events = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (events < 0)
		return -errno;
	for (;;) {
		struct pollfd p = {.fd = events, .events = POLLPRI};
		cg_stats st = {0};
		char buf[256];
		long left;
		ssize_t n = pread(events, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			return -errno;
		buf[n] = '\0';
		if (parse_events(buf, &st) < 0)
			return -EBADMSG;
		/* An empty cgroup is frozen at once; one being emptied has nothing to stop. */
		if (st.frozen == freeze || (freeze && !st.populated))
			return 0;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left > 100 ? 100 : (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}
