/* SPDX-License-Identifier: MIT */
/*
 * Init flavours: which signal each init system takes as "halt" and as
 * "reboot", and which init a template holds. The table, and the sources it
 * was read from, are in docs/INIT-SYSTEMS.md.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "runtime.h"

#define LINK_HOPS_MAX 16
#define SCAN_CHUNK (64 * 1024)
#define SCAN_MAX (64u * 1024 * 1024) /* busybox is ~2 MiB; an init is never this big */

static const char *const flavour_names[] = {
	[INIT_UNKNOWN] = "unknown",   [INIT_SYSTEMD] = "systemd", [INIT_BUSYBOX] = "busybox",
	[INIT_SYSVINIT] = "sysvinit", [INIT_OPENRC] = "openrc",
};

const char *init_flavour_name(init_flavour f)
{
	if ((size_t)f >= ARRAY_SIZE(flavour_names))
		return "unknown";
	return flavour_names[f];
}

int init_flavour_parse(const char *s, init_flavour *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(flavour_names); i++)
		if (str_eq(s, flavour_names[i])) {
			*ret = (init_flavour)i;
			return 0;
		}
	return -EINVAL;
}

/*
 * Inside a PID namespace, reboot(2) kills the namespace's init: SIGINT for
 * halt and power-off, SIGHUP for restart. So "halt" and "poweroff" end the
 * instance alike; we ask for a power-off where the init tells them apart.
 */
init_signals init_flavour_signals(init_flavour f)
{
	switch (f) {
	case INIT_SYSTEMD:
		/*
		 * src/core/manager.c: +4 starts poweroff.target, +5 reboot.target.
		 * +3 (halt.target, what CONTAINER_INTERFACE.md suggests) ends the
		 * same way in a PID namespace (SIGINT; tests/integration/systemd.sh
		 * checks both); +4 makes `berth stop` look like `poweroff` inside.
		 */
		return (init_signals){.halt = SIGRTMIN + 4, .reboot = SIGRTMIN + 5};
	case INIT_BUSYBOX:
		/* init/init.c halt_reboot_pwoff(): USR2 power-off, TERM reboot. */
		return (init_signals){.halt = SIGUSR2, .reboot = SIGTERM};
	case INIT_SYSVINIT:
		/* src/init.c: PWR runs "powerfail" entries, INT "ctrlaltdel" ones (inittab). */
		return (init_signals){.halt = SIGPWR, .reboot = SIGINT};
	case INIT_OPENRC:
		/* src/openrc-init/openrc-init.c: TERM (or PWR) shutdown, INT reboot. */
		return (init_signals){.halt = SIGTERM, .reboot = SIGINT};
	case INIT_UNKNOWN:
	default:
		/*
		 * The signal most inits and container entry points (tini, dumb-init,
		 * s6, a shell with a trap) take as "stop". One that ignores it is
		 * killed with its cgroup after the stop timeout. No reboot signal:
		 * restart is stop + start.
		 */
		return (init_signals){.halt = SIGTERM, .reboot = 0};
	}
}

/*
 * Detection reads the instance's file system as the overlay will show it:
 * an entry in the upper layer hides the lower one; a whiteout (a 0:0
 * character device) or a non-directory in upper hides the lower entry, and
 * below an opaque upper directory the lower layer is not consulted. Symlinks
 * are resolved by hand against the merged root: ".." stops at the root and an
 * absolute target starts again from it, so nothing outside the layers is read.
 */
typedef struct layers {
	int lower;
	int upper; /* -EBADF: none */
} layers;

/* An entry found in a layer: the directory that holds it and its name there. */
typedef struct entry {
	int dirfd;
	char name[NAME_MAX + 1];
	struct stat st;
} entry;

enum { LOOKUP_FOUND, LOOKUP_ABSENT, LOOKUP_HIDDEN };

static void entry_release(entry *e)
{
	closep(&e->dirfd);
	e->dirfd = -EBADF;
}

static bool is_whiteout(const struct stat *st) { return S_ISCHR(st->st_mode) && st->st_rdev == 0; }

static bool dir_opaque(int dfd)
{
	static const char *const names[] = {"trusted.overlay.opaque", "user.overlay.opaque"};
	char v;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (fgetxattr(dfd, names[i], &v, 1) == 1 && v == 'y')
			return true;
	return false;
}

static int component(const char *p, char name[NAME_MAX + 1], size_t *ret_len)
{
	size_t n = strcspn(p, "/");

	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, p, n);
	name[n] = '\0';
	*ret_len = n;
	return 0;
}

/* The leaf of rel (a path without ".", ".." or symlinked directories) in one layer. */
static int layer_lookup(int root, const char *rel, bool upper, entry *ret)
{
	_cleanup_close_ int dfd = fcntl(root, F_DUPFD_CLOEXEC, 3);
	bool opaque = false;
	char name[NAME_MAX + 1];
	size_t n;

	if (dfd < 0)
		return -errno;
	for (const char *p = rel;; p += n + 1) {
		int next, r = component(p, name, &n);

		if (r < 0)
			return r;
		if (p[n] == '\0')
			break;
		next = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT)
			return opaque ? LOOKUP_HIDDEN : LOOKUP_ABSENT;
		if (next < 0)
			return upper && (errno == ENOTDIR || errno == ELOOP) ? LOOKUP_HIDDEN
									     : -errno;
		closep(&dfd);
		dfd = next;
		opaque = opaque || (upper && dir_opaque(dfd));
	}
	if (fstatat(dfd, name, &ret->st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return -errno;
		return opaque ? LOOKUP_HIDDEN : LOOKUP_ABSENT;
	}
	if (upper && is_whiteout(&ret->st))
		return LOOKUP_HIDDEN;
	memcpy(ret->name, name, n + 1);
	ret->dirfd = TAKE_FD(dfd);
	return LOOKUP_FOUND;
}

static int merged_lookup(const layers *l, const char *rel, entry *ret)
{
	int r = LOOKUP_ABSENT;

	entry_release(ret);
	if (l->upper >= 0)
		r = layer_lookup(l->upper, rel, true, ret);
	if (r == LOOKUP_ABSENT)
		r = layer_lookup(l->lower, rel, false, ret);
	if (r < 0)
		return r;
	return r == LOOKUP_FOUND ? 0 : -ENOENT;
}

/* Replace todo with "target/rest" after a symlink. */
static int splice_link(const entry *e, const char *rest, char todo[PATH_MAX])
{
	char target[PATH_MAX], buf[PATH_MAX];
	ssize_t len = readlinkat(e->dirfd, e->name, target, sizeof(target));
	int n;

	if (len < 0)
		return -errno;
	if (len == 0)
		return -ENOENT;
	if ((size_t)len >= sizeof(target))
		return -ENAMETOOLONG;
	target[len] = '\0';
	n = snprintf(buf, sizeof(buf), "%s/%s", target, rest);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(todo, buf, (size_t)n + 1);
	return 0;
}

/* Drop the last component of done ("" is the root, and stays). */
static void path_pop(char *done)
{
	char *slash = strrchr(done, '/');

	if (slash)
		*slash = '\0';
	else
		done[0] = '\0';
}

/* Resolve path in the merged layers to its final entry (never the root). */
static int resolve(const layers *l, const char *path, entry *ret)
{
	char todo[PATH_MAX], done[PATH_MAX] = "";
	unsigned int hops = 0;
	bool fresh = false; /* ret holds the entry of done */
	char *p = todo;

	if (strlen(path) >= sizeof(todo))
		return -ENAMETOOLONG;
	strcpy(todo, path);
	while (*p) {
		size_t n = strcspn(p, "/"), old = strlen(done);
		char *rest = p + n + (p[n] == '/');
		int r;

		if (n == 0 || (n == 1 && p[0] == '.')) {
			p = rest;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			path_pop(done);
			fresh = false;
			p = rest;
			continue;
		}
		if (old + 1 + n >= sizeof(done))
			return -ENAMETOOLONG;
		snprintf(done + old, sizeof(done) - old, "%s%.*s", old ? "/" : "", (int)n, p);
		r = merged_lookup(l, done, ret);
		if (r < 0)
			return r;
		fresh = true;
		if (S_ISLNK(ret->st.st_mode)) {
			if (++hops > LINK_HOPS_MAX)
				return -ELOOP;
			r = splice_link(ret, rest, todo);
			if (r < 0)
				return r;
			done[todo[0] == '/' ? 0 : old] = '\0';
			fresh = false;
			p = todo;
			continue;
		}
		if (*rest && !S_ISDIR(ret->st.st_mode))
			return -ENOTDIR;
		p = rest;
	}
	if (!done[0])
		return -EISDIR;
	return fresh ? 0 : merged_lookup(l, done, ret);
}

static const struct {
	const char *text;
	init_flavour flavour;
} markers[] = {
	{"INIT_VERSION", INIT_SYSVINIT}, /* sysvinit's environment for its children */
	{"sysvinit", INIT_SYSVINIT},     {"BusyBox", INIT_BUSYBOX},
	{"OpenRC init", INIT_OPENRC},    {"systemd", INIT_SYSTEMD},
};
#define MARKER_OVERLAP 16 /* > the longest marker */

static unsigned int scan_markers(const char *buf, size_t len)
{
	unsigned int found = 0;

	for (size_t i = 0; i < ARRAY_SIZE(markers); i++)
		if (memmem(buf, len, markers[i].text, strlen(markers[i].text)))
			found |= 1u << markers[i].flavour;
	return found;
}

/* Which flavours' markers an ELF file holds, as a bit mask; 0 when not ELF or unreadable. */
static unsigned int file_markers(int fd)
{
	_cleanup_free_ char *buf = malloc(MARKER_OVERLAP + SCAN_CHUNK);
	size_t have = 0, total = 0;
	unsigned int found = 0;

	if (!buf)
		return 0;
	while (total < SCAN_MAX) {
		ssize_t n = read(fd, buf + have, SCAN_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (total == 0 && (n < 4 || memcmp(buf, "\177ELF", 4) != 0))
			return 0;
		total += (size_t)n;
		have += (size_t)n;
		found |= scan_markers(buf, have);
		/* Keep a tail, so that a marker split across two reads is still seen. */
		if (have > MARKER_OVERLAP) {
			memmove(buf, buf + have - MARKER_OVERLAP, MARKER_OVERLAP);
			have = MARKER_OVERLAP;
		}
	}
	return found;
}

static init_flavour classify_contents(const entry *e)
{
	_cleanup_close_ int fd = openat(e->dirfd, e->name,
					O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	unsigned int found;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return INIT_UNKNOWN;
	found = file_markers(fd);
	/* Exactly one flavour's markers; none, or several, is a guess we do not make. */
	for (size_t f = INIT_SYSTEMD; f < ARRAY_SIZE(flavour_names); f++)
		if (found == 1u << f)
			return (init_flavour)f;
	return INIT_UNKNOWN;
}

static init_flavour classify(const entry *e)
{
	if (!S_ISREG(e->st.st_mode))
		return INIT_UNKNOWN;
	if (str_eq(e->name, "systemd"))
		return INIT_SYSTEMD;
	if (str_eq(e->name, "busybox"))
		return INIT_BUSYBOX;
	if (str_eq(e->name, "openrc-init"))
		return INIT_OPENRC;
	if (str_eq(e->name, "init"))
		return classify_contents(e);
	return INIT_UNKNOWN;
}

init_flavour init_flavour_detect(const char *lower_dir, const char *upper_dir,
				 const char *init_path)
{
	_cleanup_close_ int lower = -EBADF, upper = -EBADF;
	entry e = {.dirfd = -EBADF};
	init_flavour f = INIT_UNKNOWN;
	int r;

	if (!lower_dir || !init_path)
		return INIT_UNKNOWN;
	lower = open(lower_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lower < 0)
		return INIT_UNKNOWN;
	if (upper_dir) {
		upper = open(upper_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (upper < 0 && errno != ENOENT) /* absent: an instance that never ran */
			return INIT_UNKNOWN;
	}
	r = resolve(&(layers){.lower = lower, .upper = upper}, init_path, &e);
	if (r >= 0)
		f = classify(&e);
	log_debug("init %s: %s%s%s", init_path, init_flavour_name(f), r < 0 ? ": " : "",
		  r < 0 ? strerror(-r) : "");
	entry_release(&e);
	return f;
}
