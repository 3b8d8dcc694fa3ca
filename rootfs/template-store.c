/* SPDX-License-Identifier: MIT */
/*
 * The template store: list, create, import and remove templates in
 * templates_dir. Each change is one rename inside that directory, so a
 * template under its name is always whole: it is made in a hidden temp dir
 * and renamed onto its name, and removed by renaming it away first.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "rootfs-internal.h"

#define TEMP_MARK ".tmp-"
#define TEMP_RND_DIGITS 16

char *rootfs_template_temp_name(const char *name, pid_t pid, uint64_t rnd)
{
	return str_printf(".%s" TEMP_MARK "%d-%016llx", name, (int)pid, (unsigned long long)rnd);
}

static bool all_digits(const char *s, size_t n, bool hex)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !(hex && s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

bool rootfs_template_temp_parse(const char *entry, pid_t *ret_pid)
{
	char name[64], num[12];
	const char *mark = NULL, *p, *dash;
	uint32_t pid;

	if (!entry || entry[0] != '.')
		return false;
	/* The last mark: a name may itself contain ".tmp-". */
	for (p = strstr(entry, TEMP_MARK); p; p = strstr(p + 1, TEMP_MARK))
		mark = p;
	if (!mark || (size_t)(mark - entry - 1) >= sizeof(name))
		return false;
	memcpy(name, entry + 1, (size_t)(mark - entry - 1));
	name[mark - entry - 1] = '\0';
	p = mark + strlen(TEMP_MARK);
	dash = strchr(p, '-');
	if (!rootfs_template_name_valid(name) || !dash || (size_t)(dash - p) >= sizeof(num) ||
	    !all_digits(p, (size_t)(dash - p), false) || strlen(dash + 1) != TEMP_RND_DIGITS ||
	    !all_digits(dash + 1, TEMP_RND_DIGITS, true))
		return false;
	memcpy(num, p, (size_t)(dash - p));
	num[dash - p] = '\0';
	if (parse_u32(num, &pid) < 0 || pid == 0 || pid > INT32_MAX)
		return false;
	if (ret_pid)
		*ret_pid = (pid_t)pid;
	return true;
}

char *template_temp_name_new(const char *name)
{
	uint64_t rnd;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		rnd = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30);
	}
	return rootfs_template_temp_name(name, getpid(), rnd);
}

int template_rename_noreplace(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* No RENAME_NOREPLACE on this file system: rename(2) still refuses a non-empty dir. */
	return renameat(dfd, from, dfd, to) < 0 ? -errno : 0;
}

void rootfs_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append s (taken) to the NULL-terminated *v of *n entries. */
static int strv_push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int rootfs_template_list(const char *templates_dir, char ***ret_names, berr *err)
{
	char **names = calloc(1, sizeof(char *));
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (!names)
		return berr_set(err, ENOMEM, "list templates");
	d = opendir(templates_dir);
	if (!d && errno != ENOENT) {
		rootfs_strv_free(names);
		return berr_set(err, errno, "list templates in %s", templates_dir);
	}
	while (d && (de = readdir(d))) {
		struct stat st;

		/* Hidden temp dirs fail the name check: they start with '.'. */
		if (!rootfs_template_name_valid(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		r = strv_push(&names, &n, strdup(de->d_name));
		if (r < 0)
			break;
	}
	if (d)
		closedir(d);
	if (r < 0) {
		rootfs_strv_free(names);
		return berr_set(err, -r, "list templates in %s", templates_dir);
	}
	qsort(names, n, sizeof(char *), cmp_str);
	*ret_names = names;
	return 0;
}

/* Resolve path inside dirfd, symlinks too (or, without openat2, stat it as it is). */
static int stat_in_tree(int dirfd, const char *path, bool follow, struct stat *st)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		return fstatat(dirfd, path, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	if (fd < 0)
		return -errno;
	return fstat(fd, st) < 0 ? -errno : 0;
}

static bool is_dir_in_tree(int dirfd, const char *path)
{
	struct stat st;

	return stat_in_tree(dirfd, path, true, &st) == 0 && S_ISDIR(st.st_mode);
}

int rootfs_template_check_tree(int dirfd, const char *what, berr *err)
{
	struct stat st;
	bool bin = is_dir_in_tree(dirfd, "bin") || is_dir_in_tree(dirfd, "usr/bin");
	bool sys =
		stat_in_tree(dirfd, "sbin/init", false, &st) == 0 || is_dir_in_tree(dirfd, "etc");

	if (bin && sys)
		return 0;
	return berr_setx(err, EINVAL,
			 "%s does not look like a root file system: it has no %s (a template "
			 "needs /bin or /usr/bin, and /sbin/init or /etc)",
			 what,
			 !bin ? "/bin or /usr/bin directory" : "/sbin/init and no /etc directory");
}

/* Remove temp dirs whose maker is gone: a create or import killed half-way. */
static void store_sweep(int dfd, const char *templates_dir)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	pid_t pid;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		/* EPERM means alive (another user's); only ESRCH means gone. */
		if (!rootfs_template_temp_parse(de->d_name, &pid) || pid == getpid() ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		log_debug("removing %s/%s, left by process %d that is gone", templates_dir,
			  de->d_name, (int)pid);
		rm_rf_at(dfd, de->d_name);
	}
	closedir(d);
}

/* Make (0700, as the default template's build does) and open the store. */
static int store_open(const char *templates_dir, int *ret_fd, berr *err)
{
	int fd, r;

	r = mkdir_p(templates_dir, 0700);
	if (r < 0)
		return berr_set(err, -r, "create templates directory %s", templates_dir);
	fd = open(templates_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berr_set(err, errno, "open templates directory %s", templates_dir);
	*ret_fd = fd;
	return 0;
}

static int refuse_existing(int dfd, const char *templates_dir, const char *name, berr *err)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return berr_setx(err, EEXIST,
				 "template %s already exists in %s (remove it first with: berth "
				 "template remove %s)",
				 name, templates_dir, name);
	if (errno != ENOENT)
		return berr_set(err, errno, "template %s/%s", templates_dir, name);
	return 0;
}

/* The made template in dfd/tmp: check it, settle its top directory, put it on disk, name it. */
static int store_install(int dfd, const char *templates_dir, const char *tmp, const char *name,
			 const char *what, berr *err)
{
	_cleanup_close_ int fd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r;

	if (fd < 0)
		return berr_set(err, errno, "open %s/%s", templates_dir, tmp);
	r = rootfs_template_check_tree(fd, what, err);
	if (r < 0)
		return r;
	/* The copy gave it the source's top directory owner and mode. */
	if (fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0755) < 0)
		return berr_set(err, errno, "set owner and mode of %s/%s", templates_dir, tmp);
	if (syncfs(fd) < 0)
		return berr_set(err, errno, "sync %s/%s", templates_dir, tmp);
	r = template_rename_noreplace(dfd, tmp, name);
	if (r == -EEXIST || r == -ENOTEMPTY)
		return berr_setx(err, EEXIST,
				 "template %s was made meanwhile by another command; this one is "
				 "dropped (remove that one first to replace it)",
				 name);
	if (r < 0)
		return berr_set(err, -r, "rename %s/%s to %s", templates_dir, tmp, name);
	if (fsync(dfd) < 0)
		log_warn("sync templates directory %s: %s", templates_dir, strerror(errno));
	return 0;
}

/* Common to create and import: the checks, the temp name, and undoing on failure. */
typedef int (*fill_fn)(const char *tmp_path, const void *arg, berr *err);

static int store_make(const char *templates_dir, const char *name, const char *what, fill_fn fill,
		      const void *arg, berr *err)
{
	_cleanup_free_ char *tmp = NULL, *tmp_path = NULL;
	_cleanup_close_ int dfd = -EBADF;
	int r;

	r = rootfs_template_name_check(name, err);
	if (r < 0)
		return r;
	r = store_open(templates_dir, &dfd, err);
	if (r < 0)
		return r;
	r = refuse_existing(dfd, templates_dir, name, err);
	if (r < 0)
		return r;
	store_sweep(dfd, templates_dir);
	tmp = template_temp_name_new(name);
	tmp_path = tmp ? str_printf("%s/%s", templates_dir, tmp) : NULL;
	if (!tmp_path)
		return berr_set(err, ENOMEM, "template %s", name);
	r = fill(tmp_path, arg, err);
	if (r >= 0)
		r = store_install(dfd, templates_dir, tmp, name, what, err);
	if (r < 0)
		rm_rf_at(dfd, tmp);
	return r;
}

static int fill_busybox(const char *tmp_path, const void *busybox, berr *err)
{
	return rootfs_template_build_busybox(busybox, tmp_path, err);
}

int rootfs_template_create_busybox(const char *templates_dir, const char *name, const char *busybox,
				   berr *err)
{
	return store_make(templates_dir, name, busybox, fill_busybox, busybox, err);
}

static int fill_debootstrap(const char *tmp_path, const void *o, berr *err)
{
	return debootstrap_fill(tmp_path, o, err);
}

int rootfs_template_create_debootstrap(const char *templates_dir, const char *name,
				       const rootfs_debootstrap *o, berr *err)
{
	char what[96];
	int r = rootfs_debootstrap_check(o, err);

	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "the debootstrap of %s", o->suite);
	return store_make(templates_dir, name, what, fill_debootstrap, o, err);
}

typedef struct import_src {
	const char *path; /* absolute */
	bool dir;
} import_src;

static int fill_import(const char *tmp_path, const void *arg, berr *err)
{
	const import_src *src = arg;

	/* Private while it fills; store_install opens it up. */
	if (mkdir(tmp_path, 0700) < 0)
		return berr_set(err, errno, "create %s", tmp_path);
	return src->dir ? tar_copy_tree(src->path, tmp_path, err)
			: tar_extract(src->path, tmp_path, err);
}

/* A source directory holding the store would copy itself into itself without end. */
static int refuse_enclosing(const char *src, const char *templates_dir, berr *err)
{
	_cleanup_free_ char *store = realpath(templates_dir, NULL);
	size_t n = strlen(src);

	if (!store)
		return 0; /* not made yet: then it is not inside src either */
	if (str_eq(src, "/") || (strncmp(store, src, n) == 0 && (!store[n] || store[n] == '/')))
		return berr_setx(err, EINVAL,
				 "%s holds the templates directory %s (import a copy of the root "
				 "file system, or a tarball of it)",
				 src, store);
	return 0;
}

int rootfs_template_import(const char *templates_dir, const char *name, const char *source,
			   berr *err)
{
	_cleanup_free_ char *path = NULL;
	import_src src;
	struct stat st;
	int r;

	r = rootfs_template_name_check(name, err);
	if (r < 0)
		return r;
	path = realpath(source, NULL);
	if (!path || stat(path, &st) < 0)
		return berr_set(err, errno, "import source %s", source);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return berr_setx(err, EINVAL,
				 "import source %s is neither a directory nor a tar archive file",
				 source);
	src.path = path;
	src.dir = S_ISDIR(st.st_mode);
	if (src.dir) {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			return berr_set(err, errno, "import source %s", source);
		/* Refuse early rather than copy a tree that is refused afterwards. */
		r = rootfs_template_check_tree(fd, source, err);
		if (r >= 0)
			r = refuse_enclosing(path, templates_dir, err);
		if (r < 0)
			return r;
	}
	return store_make(templates_dir, name, source, fill_import, &src, err);
}

int rootfs_template_remove(const char *templates_dir, const char *name, berr *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int dfd = -EBADF;
	struct stat st;
	int r;

	r = rootfs_template_name_check(name, err);
	if (r < 0)
		return r;
	dfd = open(templates_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((dfd < 0 && errno == ENOENT) ||
	    (dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT))
		return berr_setx(err, ENOENT, "template %s not found in %s", name, templates_dir);
	if (dfd < 0)
		return berr_set(err, errno, "open templates directory %s", templates_dir);
	store_sweep(dfd, templates_dir);
	tmp = template_temp_name_new(name);
	if (!tmp)
		return berr_set(err, ENOMEM, "remove template %s", name);
	/* Out of sight first: a removal that stops half-way leaves no half template. */
	r = template_rename_noreplace(dfd, name, tmp);
	if (r < 0)
		return berr_set(err, -r, "rename %s/%s away", templates_dir, name);
	if (fsync(dfd) < 0)
		log_warn("sync templates directory %s: %s", templates_dir, strerror(errno));
	r = rm_rf_at(dfd, tmp);
	if (r < 0)
		return berr_set(err, -r,
				"template %s is gone, but deleting its files in %s/%s failed (the "
				"next template command retries)",
				name, templates_dir, tmp);
	return 0;
}
