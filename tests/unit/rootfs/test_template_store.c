/* SPDX-License-Identifier: MIT */
/* The template store: temp names, list, the root-fs check, create, import, remove. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rootfs.h"
#include "template-test.h"

Test(template_temp, name_round_trip)
{
	_cleanup_free_ char *t = rootfs_template_temp_name("deb12", 1234, 0xabcULL);
	_cleanup_free_ char *odd = rootfs_template_temp_name("a.tmp-1", 5, ~0ULL);
	pid_t pid = 0;

	cr_assert_str_eq(t, ".deb12.tmp-1234-0000000000000abc");
	cr_assert(rootfs_template_temp_parse(t, &pid));
	cr_assert_eq(pid, 1234);
	cr_assert_not(rootfs_template_name_valid(t), "a temp name must never be a template name");
	/* A name may itself contain the mark. */
	cr_assert(rootfs_template_temp_parse(odd, &pid), "%s", odd);
	cr_assert_eq(pid, 5);
	cr_assert(rootfs_template_temp_parse(".default.tmp-1-0123456789abcdef", NULL));
}

Test(template_temp, not_temp_names)
{
	static const char *const bad[] = {
		"deb12",
		".deb12",
		".deb12.tmp-",
		".deb12.tmp-12",
		".deb12.tmp-12-",
		".deb12.tmp-12-0123456789abcdeg",
		".deb12.tmp-12-0123456789abcde",
		".deb12.tmp-12-0123456789abcdef0",
		".deb12.tmp-0-0123456789abcdef",
		".deb12.tmp--1-0123456789abcdef",
		".deb12.tmp-99999999999-0123456789abcdef",
		".DEB.tmp-1-0123456789abcdef",
		"..tmp-1-0123456789abcdef",
		"..deb12.tmp-1-0123456789abcdef",
		"x.deb12.tmp-1-0123456789abcdef",
		"",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_not(rootfs_template_temp_parse(bad[i], NULL), "\"%s\" taken", bad[i]);
	cr_assert_not(rootfs_template_temp_parse(NULL, NULL));
}

/* Make path (relative to dir) as a directory, file, or symlink "->TEXT". */
static void tree_add(const char *dir, const char *path, const char *kind)
{
	char full[PATH_MAX];
	int fd;

	snprintf(full, sizeof(full), "%s/%s", dir, path);
	if (str_eq(kind, "dir")) {
		cr_assert_eq(mkdir_p(full, 0755), 0, "mkdir %s", full);
	} else if (str_startswith(kind, "->")) {
		cr_assert_eq(symlink(kind + 2, full), 0, "symlink %s: %s", full, strerror(errno));
	} else {
		fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		cr_assert_geq(fd, 0, "create %s: %s", full, strerror(errno));
		cr_assert_eq(write(fd, kind, strlen(kind)), (ssize_t)strlen(kind));
		close(fd);
	}
}

static int check_tree(const char *dir, berr *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "open %s", dir);
	return rootfs_template_check_tree(fd, "the tree", err);
}

/* A fresh empty directory below tmpdir. */
static char *fresh_dir(const char *name)
{
	char *d = str_printf("%s/%s", tmpdir, name);

	cr_assert_eq(mkdir(d, 0755), 0, "mkdir %s: %s", d, strerror(errno));
	return d;
}

Test(template_check, accepted_trees, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *a = fresh_dir("a"), *b = fresh_dir("b"), *c = fresh_dir("c");
	berr err = {0};

	tree_add(a, "bin", "dir");
	tree_add(a, "etc", "dir");
	cr_assert_eq(check_tree(a, &err), 0, "bin + etc: %s", err.msg);
	/* usr-merged, with an init that only resolves once the tree is a root. */
	tree_add(b, "usr/bin", "dir");
	tree_add(b, "sbin", "dir");
	tree_add(b, "sbin/init", "->/lib/systemd/systemd");
	cr_assert_eq(check_tree(b, &err), 0, "usr/bin + sbin/init: %s", err.msg);
	/* An absolute symlink is resolved inside the tree, not on the host. */
	tree_add(c, "usr/bin", "dir");
	tree_add(c, "bin", "->/usr/bin");
	tree_add(c, "etc", "dir");
	cr_assert_eq(check_tree(c, &err), 0, "bin -> /usr/bin: %s", err.msg);
}

Test(template_check, refused_trees, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *empty = fresh_dir("empty"), *etc = fresh_dir("etc-only");
	_cleanup_free_ char *bin = fresh_dir("bin-only"), *file = fresh_dir("bin-file");
	_cleanup_free_ char *host = fresh_dir("host-link"), *host_target = NULL;
	berr err = {0};

	cr_assert_eq(check_tree(empty, &err), -EINVAL);
	cr_assert_not_null(strstr(err.msg, "the tree does not look like a root file system"), "%s",
			   err.msg);
	tree_add(etc, "etc", "dir");
	cr_assert_eq(check_tree(etc, &err), -EINVAL);
	cr_assert_not_null(strstr(err.msg, "no /bin or /usr/bin"), "%s", err.msg);
	tree_add(bin, "bin", "dir");
	cr_assert_eq(check_tree(bin, &err), -EINVAL);
	cr_assert_not_null(strstr(err.msg, "no /sbin/init"), "%s", err.msg);
	tree_add(file, "bin", "not a directory");
	tree_add(file, "etc", "dir");
	cr_assert_eq(check_tree(file, &err), -EINVAL, "a file named bin passed");
	/* bin -> an absolute path that is a directory on the host only. */
	host_target = str_printf("->%s", tmpdir);
	tree_add(host, "bin", host_target);
	tree_add(host, "etc", "dir");
	cr_assert_eq(check_tree(host, &err), -EINVAL, "a symlink was resolved on the host");
}

static char *list_joined(const char *dir)
{
	char **names = NULL, buf[1024] = "";
	berr err = {0};
	int r = rootfs_template_list(dir, &names, &err);

	cr_assert_eq(r, 0, "list: %s", err.msg);
	for (char **n = names; *n; n++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? " " : "",
			 *n);
	rootfs_strv_free(names);
	return strdup(buf);
}

Test(template_list, sorted_valid_dirs_only, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *dir = fresh_dir("templates"), *missing = NULL, *got = NULL;

	tree_add(dir, "deb12", "dir");
	tree_add(dir, "alpine", "dir");
	tree_add(dir, ".deb13.tmp-1-0123456789abcdef", "dir");
	tree_add(dir, "UPPER", "dir");
	tree_add(dir, "notes", "a file");
	tree_add(dir, "b-link", "->alpine");
	got = list_joined(dir);
	cr_assert_str_eq(got, "alpine b-link deb12");
	missing = str_printf("%s/nonexistent", tmpdir);
	free(got);
	got = list_joined(missing);
	cr_assert_str_eq(got, "", "a store not made yet lists nothing");
}

static char *store;

static void store_setup(void)
{
	tmp_setup();
	store = str_printf("%s/templates", tmpdir);
}

static void store_teardown(void)
{
	free(store);
	store = NULL;
	tmp_teardown();
}

static struct stat lstat_of(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	cr_assert_eq(lstat(path, &st), 0, "lstat %s: %s", path, strerror(errno));
	return st;
}

/* A small root file system with the kinds of files an import must keep. */
static char *make_source(void)
{
	char *src = fresh_dir("src");
	char path[PATH_MAX], link_path[PATH_MAX];
	struct timespec times[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	int fd;

	tree_add(src, "bin", "dir");
	tree_add(src, "etc", "dir");
	tree_add(src, "bin/tool", "#!/bin/sh\n");
	tree_add(src, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	tree_add(src, "sbin", "dir");
	tree_add(src, "sbin/init", "->../bin/tool");
	snprintf(path, sizeof(path), "%s/bin/tool", src);
	cr_assert_eq(chmod(path, 04755), 0);
	cr_assert_eq(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), 0);
	snprintf(link_path, sizeof(link_path), "%s/bin/tool-link", src);
	cr_assert_eq(link(path, link_path), 0, "link: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/fifo", src);
	cr_assert_eq(mkfifo(path, 0640), 0);
	cr_assert_eq(chmod(path, 0640), 0); /* whatever the umask */
	snprintf(path, sizeof(path), "%s/sparse", src);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "end", 3, 64 << 20), 3);
	close(fd);
	/* The import must not copy the top directory's mode. */
	cr_assert_eq(chmod(src, 0700), 0);
	return src;
}

static void assert_source_kept(const char *tpl_dir)
{
	struct stat tool = lstat_of(tpl_dir, "bin/tool"),
		    link2 = lstat_of(tpl_dir, "bin/tool-link");
	struct stat top = lstat_of(tpl_dir, ""), sparse = lstat_of(tpl_dir, "sparse");
	char text[64];
	char path[PATH_MAX];
	ssize_t n;

	cr_assert_eq(tool.st_mode & 07777, 04755, "mode %o", tool.st_mode & 07777);
	cr_assert_eq(tool.st_mtim.tv_sec, 1000000000);
	cr_assert_eq(tool.st_ino, link2.st_ino, "the hard link became two files");
	cr_assert_eq(tool.st_uid, geteuid());
	cr_assert(S_ISFIFO(lstat_of(tpl_dir, "fifo").st_mode));
	cr_assert_eq(lstat_of(tpl_dir, "fifo").st_mode & 07777, 0640);
	snprintf(path, sizeof(path), "%s/sbin/init", tpl_dir);
	n = readlink(path, text, sizeof(text) - 1);
	cr_assert_gt(n, 0);
	text[n] = '\0';
	cr_assert_str_eq(text, "../bin/tool");
	cr_assert_eq(sparse.st_size, (64 << 20) + 3);
	cr_assert_lt(sparse.st_blocks * 512, 1 << 20, "the sparse file takes %lld bytes",
		     (long long)sparse.st_blocks * 512);
	cr_assert(S_ISDIR(top.st_mode));
	cr_assert_eq(top.st_mode & 07777, 0755, "top mode %o", top.st_mode & 07777);
}

Test(template_import, directory, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source(), *tpl_dir = NULL, *list = NULL;
	berr err = {0};
	int r;

	r = rootfs_template_import(store, "mine", src, &err);
	cr_assert_eq(r, 0, "import: %s", err.msg);
	tpl_dir = str_printf("%s/mine", store);
	assert_source_kept(tpl_dir);
	list = dir_list(store);
	cr_assert_str_eq(list, "mine", "the store holds \"%s\"", list);
}

Test(template_import, tarball, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source(), *tpl_dir = NULL, *tarball = NULL;
	_cleanup_free_ char *cmd = NULL;
	berr err = {0};
	int r;

	tarball = str_printf("%s/src.tar.gz", tmpdir);
	cmd = str_printf("tar -C '%s' --sparse -czf '%s' .", src, tarball);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	r = rootfs_template_import(store, "fromtar", tarball, &err);
	cr_assert_eq(r, 0, "import: %s", err.msg);
	tpl_dir = str_printf("%s/fromtar", store);
	assert_source_kept(tpl_dir);
}

Test(template_import, user_xattr_kept, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source(), *file = NULL, *copy = NULL;
	char value[32] = "";
	berr err = {0};
	int r;

	file = str_printf("%s/etc/passwd", src);
	if (setxattr(file, "user.berth", "kept", 4, 0) < 0)
		cr_skip_test("SKIPPED: %s does not take user.* xattrs: %s", tmpdir,
			     strerror(errno));
	r = rootfs_template_import(store, "x", src, &err);
	cr_assert_eq(r, 0, "import: %s", err.msg);
	copy = str_printf("%s/x/etc/passwd", store);
	cr_assert_eq(getxattr(copy, "user.berth", value, sizeof(value) - 1), 4, "%s",
		     strerror(errno));
	cr_assert_str_eq(value, "kept");
}

/* A refused import leaves the store as it was: no template, no temp dir. */
static void assert_store_empty(void)
{
	_cleanup_free_ char *list = NULL;

	if (access(store, F_OK) < 0)
		return;
	list = dir_list(store);
	cr_assert_str_eq(list, "", "the store holds \"%s\"", list);
}

Test(template_import, not_a_root_fs, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = fresh_dir("src");
	berr err = {0};
	int r;

	tree_add(src, "etc", "dir");
	tree_add(src, "etc/passwd", "x");
	r = rootfs_template_import(store, "nope", src, &err);
	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "does not look like a root file system"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, src), "%s", err.msg);
	assert_store_empty();
}

/* Checked after extraction too: a tarball cannot be looked into beforehand. */
Test(template_import, tarball_not_a_root_fs, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = fresh_dir("src"), *tarball = NULL, *cmd = NULL;
	berr err = {0};
	int r;

	tree_add(src, "etc", "dir");
	tarball = str_printf("%s/etc.tar", tmpdir);
	cmd = str_printf("tar -C '%s' -cf '%s' .", src, tarball);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	r = rootfs_template_import(store, "nope", tarball, &err);
	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "does not look like a root file system"), "%s", err.msg);
	assert_store_empty();
}

Test(template_import, garbage_tarball, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = fresh_dir("src"), *junk = str_printf("%s/junk.tar.gz", tmpdir);
	berr err = {0};
	int r;

	tree_add(src, "x", "dir");
	tree_add(tmpdir, "junk.tar.gz", "this is not an archive at all, not even gzip\n");
	r = rootfs_template_import(store, "junk", junk, &err);
	cr_assert_lt(r, 0);
	cr_assert_not_null(strstr(err.msg, "tar could not extract"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, junk), "%s", err.msg);
	assert_store_empty();
}

Test(template_import, bad_sources, .init = store_setup, .fini = store_teardown)
{
	berr err = {0};
	int r;

	r = rootfs_template_import(store, "x", "/nonexistent/rootfs", &err);
	cr_assert_eq(r, -ENOENT, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "/nonexistent/rootfs"), "%s", err.msg);
	r = rootfs_template_import(store, "x", "/dev/null", &err);
	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "neither a directory nor a tar archive"), "%s", err.msg);
	assert_store_empty();
}

Test(template_import, bad_name, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source();
	berr err = {0};
	int r;

	r = rootfs_template_import(store, "../evil", src, &err);
	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "\"../evil\""), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "a-z 0-9 . _ -"), "%s", err.msg);
	cr_assert_eq(access(store, F_OK), -1, "the store was touched");
}

Test(template_import, existing_name_refused, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source(), *marker = NULL, *list = NULL;
	berr err = {0};
	int r;

	r = rootfs_template_import(store, "twice", src, &err);
	cr_assert_eq(r, 0, "import: %s", err.msg);
	marker = str_printf("%s/twice/marker", store);
	tree_add(store, "twice/marker", "first");
	r = rootfs_template_import(store, "twice", src, &err);
	cr_assert_eq(r, -EEXIST, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "already exists"), "%s", err.msg);
	cr_assert_eq(access(marker, F_OK), 0, "the first template was replaced");
	list = dir_list(store);
	cr_assert_str_eq(list, "twice", "the store holds \"%s\"", list);
}

Test(template_import, source_holding_the_store, .init = store_setup, .fini = store_teardown)
{
	berr err = {0};
	int r;

	tree_add(tmpdir, "bin", "dir");
	tree_add(tmpdir, "etc", "dir");
	cr_assert_eq(mkdir(store, 0700), 0);
	r = rootfs_template_import(store, "loop", tmpdir, &err);
	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "holds the templates directory"), "%s", err.msg);
	assert_store_empty();
}

/* A temp dir whose process is gone is swept by the next change; a live one is not. */
Test(template_store, sweeps_dead_temp_dirs, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source(), *dead = NULL, *live = NULL, *list = NULL;
	berr err = {0};
	int status, r;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	dead = rootfs_template_temp_name("old", pid, 1);
	live = rootfs_template_temp_name("busy", getppid(), 2);
	cr_assert_eq(mkdir(store, 0700), 0);
	tree_add(store, dead, "dir");
	tree_add(store, live, "dir");
	tree_add(store, "old", "dir"); /* a finished template of the same name stays */
	r = rootfs_template_import(store, "new", src, &err);
	cr_assert_eq(r, 0, "import: %s", err.msg);
	list = dir_list(store);
	cr_assert(strstr(list, dead) == NULL, "%s not swept: %s", dead, list);
	cr_assert_not_null(strstr(list, live), "%s swept: %s", live, list);
	cr_assert_not_null(strstr(list, "old"), "%s", list);
}

Test(template_remove, removes_whole, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *src = make_source(), *list = NULL;
	berr err = {0};
	int r;

	r = rootfs_template_import(store, "gone", src, &err);
	cr_assert_eq(r, 0, "import: %s", err.msg);
	r = rootfs_template_remove(store, "gone", &err);
	cr_assert_eq(r, 0, "remove: %s", err.msg);
	assert_store_empty();
	r = rootfs_template_remove(store, "gone", &err);
	cr_assert_eq(r, -ENOENT, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "template gone not found"), "%s", err.msg);
	r = rootfs_template_remove(store, "..", &err);
	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	list = str_printf("%s/nonexistent", tmpdir);
	r = rootfs_template_remove(list, "x", &err);
	cr_assert_eq(r, -ENOENT, "r=%d %s", r, err.msg);
}

Test(template_create, busybox, .init = store_setup, .fini = store_teardown)
{
	_cleanup_free_ char *list = NULL;
	berr err = {0};
	int r;

	require_static_busybox();
	r = rootfs_template_create_busybox(store, "small", BUSYBOX, &err);
	cr_assert_eq(r, 0, "create: %s", err.msg);
	snprintf(tpl, sizeof(tpl), "%s/small", store);
	assert_applet_link("sbin/init", "../bin/busybox");
	r = rootfs_template_create_busybox(store, "small", BUSYBOX, &err);
	cr_assert_eq(r, -EEXIST, "r=%d %s", r, err.msg);
	list = dir_list(store);
	cr_assert_str_eq(list, "small", "the store holds \"%s\"", list);
}

Test(template_create, failed_build_leaves_nothing, .init = store_setup, .fini = store_teardown)
{
	berr err = {0};
	int r;

	if (elf64_is_dynamic("/sbin/ldconfig") != 0)
		cr_skip_test("SKIPPED: /sbin/ldconfig is not a static ELF64 binary to fail with");
	r = rootfs_template_create_busybox(store, "broken", "/sbin/ldconfig", &err);
	cr_assert_lt(r, 0);
	assert_store_empty();
}
