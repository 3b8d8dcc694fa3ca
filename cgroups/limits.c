/* SPDX-License-Identifier: MIT */
/*
 * Limits: parse and validate a limit set (no syscalls but stat() of a DEV
 * path), render it into cgroup v2 files and their exact contents, check and
 * enable the controllers it needs, and write it with an undo record.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cgroups.h"

#define CPUS_MAX 4096        /* quota of 4096 CPUs: far beyond any host */
#define CPUSET_CPU_MAX 8191  /* the largest NR_CPUS */
#define PIDS_LIMIT 4194304   /* PID_MAX_LIMIT */
#define MEMORY_MIN (1 << 20) /* less cannot hold an init */
#define WEIGHT_MAX 10000

typedef enum value_kind {
	K_CPUS,
	K_WEIGHT,
	K_CPUSET,
	K_SIZE,
	K_PIDS,
	K_IO_BPS,
	K_IO_IOPS
} value_kind;

static const struct key_info {
	const char *option;
	const char *what; /* the limit, as an error names it */
	const char *file;
	unsigned int ctrl;
	value_kind kind;
	const char *hint; /* what to use instead */
} keys[CG_LIMIT_KEYS] = {
	[CG_CPUS] = {"cpus", "cpu limit", "cpu.max", CG_CTRL_CPU, K_CPUS,
		     "use a number of CPUs from 0.01 to 4096, e.g. 1.5, or max"},
	[CG_CPU_WEIGHT] = {"cpu-weight", "cpu weight", "cpu.weight", CG_CTRL_CPU, K_WEIGHT,
			   "use 1 to 10000; the default is 100"},
	[CG_CPUSET] = {"cpuset", "cpuset", "cpuset.cpus", CG_CTRL_CPUSET, K_CPUSET,
		       "use a CPU list such as 0-1,3, or all"},
	[CG_MEMORY] = {"memory", "memory limit", "memory.max", CG_CTRL_MEMORY, K_SIZE,
		       "use e.g. 512M, 2G, or max"},
	[CG_MEMORY_HIGH] = {"memory-high", "memory high limit", "memory.high", CG_CTRL_MEMORY,
			    K_SIZE, "use e.g. 384M, 1.5G, or max"},
	[CG_SWAP] = {"swap", "swap limit", "memory.swap.max", CG_CTRL_MEMORY, K_SIZE,
		     "use e.g. 0, 256M, 1G, or max"},
	[CG_PIDS] = {"pids", "pids limit", "pids.max", CG_CTRL_PIDS, K_PIDS,
		     "use 1 to 4194304, or max"},
	[CG_IO_WEIGHT] = {"io-weight", "io weight", "io.weight", CG_CTRL_IO, K_WEIGHT,
			  "use 1 to 10000; the default is 100"},
	[CG_IO_READ_BPS] = {"io-read-bps", "io read limit", "io.max", CG_CTRL_IO, K_IO_BPS,
			    "use DEV=RATE, e.g. /dev/vdb=10M or 254:16=512K, or DEV=max"},
	[CG_IO_WRITE_BPS] = {"io-write-bps", "io write limit", "io.max", CG_CTRL_IO, K_IO_BPS,
			     "use DEV=RATE, e.g. /dev/vdb=10M or 254:16=512K, or DEV=max"},
	[CG_IO_READ_IOPS] = {"io-read-iops", "io read iops limit", "io.max", CG_CTRL_IO, K_IO_IOPS,
			     "use DEV=IOPS, e.g. /dev/vdb=500 or 254:16=500, or DEV=max"},
	[CG_IO_WRITE_IOPS] = {"io-write-iops", "io write iops limit", "io.max", CG_CTRL_IO,
			      K_IO_IOPS,
			      "use DEV=IOPS, e.g. /dev/vdb=500 or 254:16=500, or DEV=max"},
};

static const struct {
	unsigned int mask;
	const char *name;
	const char *v1_name; /* in /proc/cgroups */
} controllers[] = {
	{CG_CTRL_CPU, "cpu", "cpu"},          {CG_CTRL_CPUSET, "cpuset", "cpuset"},
	{CG_CTRL_MEMORY, "memory", "memory"}, {CG_CTRL_PIDS, "pids", "pids"},
	{CG_CTRL_IO, "io", "blkio"},
};

const char *cg_limit_option(cg_limit_key k)
{
	return (unsigned int)k < CG_LIMIT_KEYS ? keys[k].option : NULL;
}

int cg_limit_key_parse(const char *option, cg_limit_key *ret)
{
	char buf[32];
	size_t i;

	for (i = 0; option[i] && i < sizeof(buf) - 1; i++)
		buf[i] = option[i] == '_' ? '-' : option[i];
	buf[i] = '\0';
	for (int k = 0; k < CG_LIMIT_KEYS; k++)
		if (str_eq(buf, keys[k].option)) {
			*ret = (cg_limit_key)k;
			return 0;
		}
	return -EINVAL;
}

static int bad_value(cg_limit_key k, const char *value, const char *problem, berr *err)
{
	return berr_setx(err, EINVAL, "%s \"%s\": %s (%s)", keys[k].what, value, problem,
			 keys[k].hint);
}

/* "1.5" -> 150000 (microseconds per 100 ms period); at most five decimals. */
static int parse_cpus(const char *s, uint64_t *ret)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p) && *p != '.')
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		if ((whole = whole * 10 + (uint64_t)(*p - '0')) > CPUS_MAX)
			return -ERANGE;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++, digits++)
			if (digits >= 5) {
				if (*p != '0')
					return -ERANGE; /* finer than a microsecond per period */
			} else {
				frac = frac * 10 + (uint64_t)(*p - '0');
			}
		for (; digits < 5; digits++)
			frac *= 10;
	}
	if (*p)
		return -EINVAL;
	*ret = whole * CG_CPU_PERIOD_US + frac;
	return 0;
}

/* "0-1,3": numbers and ranges, ascending within a range. */
static bool cpuset_valid(const char *s)
{
	const char *p = s;

	if (!*p)
		return false;
	for (;;) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			return false;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)*++p))
				return false;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (a > CPUSET_CPU_MAX || b > CPUSET_CPU_MAX || b < a)
			return false;
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

static int parse_count(cg_limit_key k, const char *value, uint64_t min, uint64_t max,
		       bool allow_max, uint64_t *ret, berr *err)
{
	uint64_t v;

	if (allow_max && str_eq(value, "max")) {
		*ret = CG_MAX;
		return 0;
	}
	if (parse_u64(value, &v) < 0)
		return bad_value(k, value, "not a number", err);
	if (v < min || v > max)
		return bad_value(k, value, "out of range", err);
	*ret = v;
	return 0;
}

static int parse_bytes(cg_limit_key k, const char *value, uint64_t min, uint64_t *ret, berr *err)
{
	uint64_t v;
	int r;

	if (str_eq(value, "max")) {
		*ret = CG_MAX;
		return 0;
	}
	r = parse_size(value, &v);
	if (r == -ERANGE)
		return bad_value(k, value, "too large", err);
	if (r < 0)
		return bad_value(k, value, "not a size", err);
	if (v < min)
		return bad_value(k, value, "too small: at least 1M", err);
	if (v == CG_MAX)
		return bad_value(k, value, "too large", err);
	*ret = v;
	return 0;
}

/* "254:16" or a block device's path (resolved with stat). */
static int parse_device(cg_limit_key k, const char *item, const char *dev, uint32_t *ret_major,
			uint32_t *ret_minor, berr *err)
{
	unsigned int maj, min;
	char end;
	struct stat st;

	if (sscanf(dev, "%u:%u%c", &maj, &min, &end) == 2 && isdigit((unsigned char)dev[0])) {
		*ret_major = maj;
		*ret_minor = min;
		return 0;
	}
	if (dev[0] != '/')
		return bad_value(k, item, "the device is neither a path nor MAJ:MIN", err);
	if (stat(dev, &st) < 0)
		return berr_set(err, errno, "%s \"%s\": %s", keys[k].what, item, dev);
	if (!S_ISBLK(st.st_mode))
		return bad_value(k, item, "not a block device", err);
	*ret_major = major(st.st_rdev);
	*ret_minor = minor(st.st_rdev);
	return 0;
}

static cg_io_device *io_device(cg_limits *l, uint32_t maj, uint32_t min)
{
	for (size_t i = 0; i < l->n_io; i++)
		if (l->io[i].major == maj && l->io[i].minor == min)
			return &l->io[i];
	if (l->n_io >= CG_IO_DEVICES_MAX)
		return NULL;
	l->io[l->n_io] = (cg_io_device){.major = maj, .minor = min};
	return &l->io[l->n_io++];
}

/* One "DEV=RATE" item. */
static int parse_io_item(cg_limits *l, cg_limit_key k, const char *item, berr *err)
{
	_cleanup_free_ char *dev = strdup(item);
	char *eq = dev ? strrchr(dev, '=') : NULL;
	uint32_t maj = 0, min = 0;
	uint64_t v;
	cg_io_device *d;
	int r;

	if (!dev)
		return berr_set(err, ENOMEM, "%s", keys[k].what);
	if (!eq || eq == dev || !eq[1])
		return bad_value(k, item, "not DEV=RATE", err);
	*eq = '\0';
	r = parse_device(k, item, dev, &maj, &min, err);
	if (r < 0)
		return r;
	if (str_eq(eq + 1, "max"))
		v = CG_MAX;
	else if (keys[k].kind == K_IO_BPS && parse_size(eq + 1, &v) < 0)
		return bad_value(k, item, "the rate is not a size in bytes per second", err);
	else if (keys[k].kind == K_IO_IOPS && parse_u64(eq + 1, &v) < 0)
		return bad_value(k, item, "the rate is not a number of operations per second", err);
	if (v == 0)
		return bad_value(k, item, "a rate of 0 would stop all io", err);
	d = io_device(l, maj, min);
	if (!d)
		return berr_setx(err, ENOSPC, "%s \"%s\": more than %d devices", keys[k].what, item,
				 CG_IO_DEVICES_MAX);
	d->rate[k - CG_IO_READ_BPS] = v;
	return 0;
}

/* Space-separated DEV=RATE items, all or none. */
static int parse_io(cg_limits *l, cg_limit_key k, const char *value, berr *err)
{
	_cleanup_free_ char *copy = strdup(value);
	cg_limits next = *l;
	char *item, *save = NULL;
	int r, n = 0;

	if (!copy)
		return berr_set(err, ENOMEM, "%s", keys[k].what);
	for (item = strtok_r(copy, " ", &save); item; item = strtok_r(NULL, " ", &save), n++) {
		r = parse_io_item(&next, k, item, err);
		if (r < 0)
			return r;
	}
	if (n == 0)
		return bad_value(k, value, "empty", err);
	*l = next;
	return 0;
}

int cg_limits_parse(cg_limits *l, cg_limit_key k, const char *value, berr *err)
{
	uint64_t v = 0;
	int r = 0;

	if ((unsigned int)k >= CG_LIMIT_KEYS)
		return berr_setx(err, EINVAL, "unknown limit %d", (int)k);
	switch (keys[k].kind) {
	case K_CPUS:
		if (str_eq(value, "max"))
			v = CG_MAX;
		else if ((r = parse_cpus(value, &v)) == -EINVAL)
			return bad_value(k, value, "not a number of CPUs", err);
		else if (r < 0 || v < CG_CPU_PERIOD_US / 100)
			return bad_value(k, value, "out of range", err);
		break;
	case K_WEIGHT:
		r = parse_count(k, value, 1, WEIGHT_MAX, false, &v, err);
		break;
	case K_CPUSET:
		if (!str_eq(value, "all") &&
		    (strlen(value) >= CG_CPUSET_LEN || !cpuset_valid(value)))
			return bad_value(k, value, "not a CPU list", err);
		break;
	case K_SIZE:
		r = parse_bytes(k, value, k == CG_SWAP ? 0 : MEMORY_MIN, &v, err);
		break;
	case K_PIDS:
		r = parse_count(k, value, 1, PIDS_LIMIT, true, &v, err);
		break;
	case K_IO_BPS:
	case K_IO_IOPS:
		r = parse_io(l, k, value, err);
		if (r >= 0)
			l->set |= 1u << k;
		return r;
	}
	if (r < 0)
		return r;
	if (k == CG_CPUSET)
		snprintf(l->cpuset, sizeof(l->cpuset), "%s", str_eq(value, "all") ? "" : value);
	else
		l->value[k] = v;
	l->set |= 1u << k;
	return 0;
}

/* 536870912 -> "512M"; sizes that are no whole unit stay in bytes. */
static void format_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	if (v == CG_MAX) {
		snprintf(buf, size, "max");
		return;
	}
	while (v && v % 1024 == 0 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRIu64, v);
	else
		snprintf(buf, size, "%" PRIu64 "%c", v, units[u]);
}

static void format_number(uint64_t v, char *buf, size_t size)
{
	if (v == CG_MAX)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRIu64, v);
}

static void format_cpus(uint64_t quota, char *buf, size_t size)
{
	char frac[8];
	int n;

	if (quota == CG_MAX) {
		snprintf(buf, size, "max");
		return;
	}
	snprintf(frac, sizeof(frac), "%05" PRIu64, quota % CG_CPU_PERIOD_US);
	for (n = 5; n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(buf, size, "%" PRIu64 "%s%s", quota / CG_CPU_PERIOD_US, n ? "." : "", frac);
}

static int format_io(const cg_limits *l, cg_limit_key k, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n_io; i++) {
		uint64_t v = l->io[i].rate[k - CG_IO_READ_BPS];
		char rate[32];
		int n;

		if (!v)
			continue;
		if (keys[k].kind == K_IO_BPS)
			format_size(v, rate, sizeof(rate));
		else
			format_number(v, rate, sizeof(rate));
		n = snprintf(buf + len, size - len, "%s%u:%u=%s", len ? " " : "", l->io[i].major,
			     l->io[i].minor, rate);
		if (n < 0 || (size_t)n >= size - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	return 0;
}

int cg_limits_format(const cg_limits *l, cg_limit_key k, char *buf, size_t size)
{
	if (size == 0 || (unsigned int)k >= CG_LIMIT_KEYS)
		return -EINVAL;
	buf[0] = '\0';
	if (!cg_limits_has(l, k))
		return 0;
	switch (keys[k].kind) {
	case K_CPUS:
		format_cpus(l->value[k], buf, size);
		break;
	case K_WEIGHT:
	case K_PIDS:
		format_number(l->value[k], buf, size);
		break;
	case K_CPUSET:
		snprintf(buf, size, "%s", l->cpuset[0] ? l->cpuset : "all");
		break;
	case K_SIZE:
		format_size(l->value[k], buf, size);
		break;
	case K_IO_BPS:
	case K_IO_IOPS:
		return format_io(l, k, buf, size);
	}
	return 0;
}

int cg_limits_merge(cg_limits *l, const cg_limits *changes)
{
	cg_limits next = *l;

	for (int k = 0; k <= CG_IO_WEIGHT; k++)
		if (cg_limits_has(changes, (cg_limit_key)k))
			next.value[k] = changes->value[k];
	if (cg_limits_has(changes, CG_CPUSET))
		memcpy(next.cpuset, changes->cpuset, sizeof(next.cpuset));
	for (size_t i = 0; i < changes->n_io; i++) {
		const cg_io_device *c = &changes->io[i];
		cg_io_device *d = io_device(&next, c->major, c->minor);

		if (!d)
			return -ENOSPC;
		for (int r = 0; r < 4; r++)
			if (c->rate[r])
				d->rate[r] = c->rate[r];
	}
	next.set |= changes->set;
	*l = next;
	return 0;
}

unsigned int cg_limits_controllers(const cg_limits *l)
{
	unsigned int mask = 0;

	for (int k = 0; k < CG_LIMIT_KEYS; k++)
		if (cg_limits_has(l, (cg_limit_key)k))
			mask |= keys[k].ctrl;
	return mask;
}

static int render_one(cg_write *out, size_t max, size_t *n, const char *file, const char *fmt, ...)
	_printf_(5, 6);
static int render_one(cg_write *out, size_t max, size_t *n, const char *file, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (*n >= max)
		return -ENOSPC;
	out[*n].file = file;
	va_start(ap, fmt);
	len = vsnprintf(out[*n].content, sizeof(out[*n].content), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(out[*n].content))
		return -ENOSPC;
	(*n)++;
	return 0;
}

static int render_io_max(const cg_limits *l, cg_write *out, size_t max, size_t *n)
{
	for (size_t i = 0; i < l->n_io; i++) {
		char v[4][24];
		int r;

		for (int k = 0; k < 4; k++)
			format_number(l->io[i].rate[k] ? l->io[i].rate[k] : CG_MAX, v[k],
				      sizeof(v[k]));
		r = render_one(out, max, n, "io.max", "%u:%u rbps=%s wbps=%s riops=%s wiops=%s",
			       l->io[i].major, l->io[i].minor, v[0], v[1], v[2], v[3]);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_limits_render(const cg_limits *l, cg_write *out, size_t max)
{
	size_t n = 0;
	int r = 0;

	for (int k = 0; k <= CG_IO_WEIGHT && r >= 0; k++) {
		char v[24];

		if (!cg_limits_has(l, (cg_limit_key)k))
			continue;
		format_number(l->value[k], v, sizeof(v));
		if (k == CG_CPUS)
			r = render_one(out, max, &n, keys[k].file, "%s %d", v, CG_CPU_PERIOD_US);
		else if (k == CG_CPUSET)
			r = render_one(out, max, &n, keys[k].file, "%s", l->cpuset);
		else if (k == CG_IO_WEIGHT)
			r = render_one(out, max, &n, keys[k].file, "default %s", v);
		else
			r = render_one(out, max, &n, keys[k].file, "%s", v);
	}
	if (r >= 0)
		r = render_io_max(l, out, max, &n);
	return r < 0 ? r : (int)n;
}

static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || isspace((unsigned char)p[-1])) &&
		    (p[len] == '\0' || isspace((unsigned char)p[len])))
			return true;
	return false;
}

/* Why the controller v1_name is not in cgroup2, from /proc/cgroups ("name hierarchy n enabled"). */
static const char *missing_reason(const char *proc_cgroups_text, const char *v1_name)
{
	char name[32];
	unsigned int hierarchy, enabled;
	const char *line = proc_cgroups_text;

	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (sscanf(line, "%31s %u %*u %u", name, &hierarchy, &enabled) != 3 ||
		    !str_eq(name, v1_name))
			continue;
		if (!enabled)
			return "is disabled on the kernel command line (cgroup_disable=)";
		if (hierarchy)
			return "is bound to a cgroup v1 hierarchy (a hybrid host; boot with "
			       "systemd.unified_cgroup_hierarchy=1 for a pure cgroup v2 host)";
		return "is not offered at the cgroup2 root";
	}
	return proc_cgroups_text ? "is not built into this kernel" : "is not offered by cgroup2";
}

int cg_controllers_check(int rootfd, const char *proc_cgroups, const cg_limits *l, berr *err)
{
	_cleanup_free_ char *have = NULL, *proc = NULL;
	int r = read_file_at(rootfd, "cgroup.controllers", &have, NULL);

	if (r < 0)
		return berr_set(err, -r, "read the cgroup2 root's cgroup.controllers");
	have[strcspn(have, "\n")] = '\0';
	if (proc_cgroups)
		read_file_at(AT_FDCWD, proc_cgroups, &proc, NULL); /* only to say why */
	for (int k = 0; k < CG_LIMIT_KEYS; k++) {
		const char *name = NULL, *v1 = NULL;

		if (!cg_limits_has(l, (cg_limit_key)k))
			continue;
		for (size_t c = 0; c < ARRAY_SIZE(controllers); c++)
			if (controllers[c].mask == keys[k].ctrl)
				name = controllers[c].name, v1 = controllers[c].v1_name;
		if (word_in(have, name))
			continue;
		return berr_setx(err, EOPNOTSUPP,
				 "this host's cgroup2 offers %s%s: %s %s; berth cannot enforce "
				 "--%s here",
				 have[0] ? "only " : "no controllers", have, name,
				 missing_reason(proc, v1), keys[k].option);
	}
	return 0;
}

int cg_controllers_enable(int rootfd, const char *parent, const cg_limits *l, berr *err)
{
	unsigned int mask = cg_limits_controllers(l);
	char plus[64] = "";
	size_t len = 0;
	int r;

	if (!mask)
		return 0;
	for (size_t c = 0; c < ARRAY_SIZE(controllers); c++)
		if (mask & controllers[c].mask)
			len += (size_t)snprintf(plus + len, sizeof(plus) - len, "%s+%s",
						len ? " " : "", controllers[c].name);
	r = write_file_at(rootfd, "cgroup.subtree_control", plus);
	if (r < 0)
		return berr_set(err, -r, "enable %s in the cgroup2 root's cgroup.subtree_control",
				plus);
	if (mkdirat(rootfd, parent, 0755) < 0 && errno != EEXIST)
		return berr_set(err, errno, "create cgroup %s", parent);
	_cleanup_free_ char *file = str_printf("%s/cgroup.subtree_control", parent);
	if (!file)
		return berr_set(err, ENOMEM, "enable controllers");
	r = write_file_at(rootfd, file, plus);
	return r < 0 ? berr_set(err, -r, "enable %s in %s", plus, file) : 0;
}

/* Truncating (a fake tree's plain file), never creating: a missing file means a controller is off. */
static int write_cgroup_file(int dirfd, const char *file, const char *content)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	const char *data =
		content[0] ? content : "\n"; /* an empty write never reaches the kernel */
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, strlen(data));
	if (n < 0)
		return -errno;
	return (size_t)n == strlen(data) ? 0 : -EIO;
}

/* What w's file says now, as a write that puts it back (io.max: w's device's line only). */
static int save_old(int dirfd, const cg_write *w, cg_write *ret)
{
	_cleanup_free_ char *old = NULL;
	const char *line = NULL;
	int r = read_file_at(dirfd, w->file, &old, NULL);

	if (r < 0)
		return r;
	ret->file = w->file;
	if (!str_eq(w->file, "io.max")) {
		old[strcspn(old, "\n")] = '\0';
		snprintf(ret->content, sizeof(ret->content), "%s", old);
		return 0;
	}
	size_t dev_len = strcspn(w->content, " ");
	for (const char *p = old; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, w->content, dev_len + 1) == 0)
			line = p;
	if (line)
		snprintf(ret->content, sizeof(ret->content), "%.*s", (int)strcspn(line, "\n"),
			 line);
	else
		snprintf(ret->content, sizeof(ret->content),
			 "%.*s rbps=max wbps=max riops=max wiops=max", (int)dev_len, w->content);
	return 0;
}

static int write_error(const cg_write *w, int r, berr *err)
{
	if (r == -ENOENT && str_eq(w->file, "memory.swap.max"))
		return berr_setx(err, ENOENT,
				 "memory.swap.max is missing: this kernel does not account swap "
				 "(boot with swapaccount=1), so --swap cannot be enforced");
	if (r == -ENOENT)
		return berr_setx(err, ENOENT,
				 "%s is missing: its controller is not enabled for this cgroup",
				 w->file);
	if (r == -ENODEV && str_eq(w->file, "io.max"))
		return berr_setx(err, ENODEV,
				 "io.max \"%s\": no such disk (io limits take whole disks, not "
				 "partitions)",
				 w->content);
	return berr_set(err, -r, "write \"%s\" to %s", w->content, w->file);
}

int cg_limits_write(int dirfd, const cg_limits *l, cg_undo *undo, berr *err)
{
	cg_write w[CG_WRITES_MAX];
	cg_undo done = {.n = 0};
	int n = cg_limits_render(l, w, ARRAY_SIZE(w)), r = 0;

	if (n < 0)
		return berr_setx(err, ENOSPC, "too many limits to render");
	for (int i = 0; i < n; i++) {
		r = save_old(dirfd, &w[i], &done.saved[done.n]);
		if (r < 0)
			break;
		r = write_cgroup_file(dirfd, w[i].file, w[i].content);
		if (r < 0)
			break;
		done.n++;
		log_debug("%s: %s", w[i].file, w[i].content);
	}
	if (r < 0) {
		write_error(&w[done.n], r, err);
		cg_undo_apply(dirfd, &done);
		return -err->code;
	}
	if (undo)
		*undo = done;
	return 0;
}

int cg_undo_apply(int dirfd, const cg_undo *undo)
{
	int first = 0;

	for (size_t i = undo->n; i-- > 0;) {
		int r = write_cgroup_file(dirfd, undo->saved[i].file, undo->saved[i].content);

		if (r < 0 && first == 0)
			first = r;
	}
	return first;
}
