/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for rootfs/template.c and template-store.c: the busybox default
 * template, name lookup, and the store (temp names, list, import with tar(1),
 * remove). No root needed: imports keep the caller's own ids.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "rootfs.h"
#include "template-test.h"

char tmpdir[64];
char tpl[256];

void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-template-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(tpl, sizeof(tpl), "%s/tpl", tmpdir);
}

void tmp_teardown(void) { rm_rf_at(AT_FDCWD, tmpdir); }

/* Independent of template.c: does the ELF file at path have a PT_INTERP? */
int elf64_is_dynamic(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -1;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * eh.e_phentsize)) !=
		    (ssize_t)sizeof(ph))
			return -1;
		if (ph.p_type == PT_INTERP)
			return 1;
	}
	return 0;
}

void require_static_busybox(void)
{
	if (access(BUSYBOX, X_OK) < 0)
		cr_skip_test("SKIPPED: " BUSYBOX " is missing (apt-get install busybox-static); "
			     "the busybox template cannot be tested");
	if (elf64_is_dynamic(BUSYBOX) != 0)
		cr_skip_test(
			"SKIPPED: " BUSYBOX " is dynamically linked or not ELF64 "
			"(apt-get install busybox-static); the busybox template cannot be tested");
}

static void build_setup(void)
{
	berr err = {0};
	int r;

	tmp_setup();
	require_static_busybox();
	r = rootfs_template_build_busybox(BUSYBOX, tpl, &err);
	cr_assert_eq(r, 0, "build: %d %s", r, err.msg);
}

static char *tpl_read(const char *rel)
{
	char *data = NULL;
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/%s", tpl, rel);
	r = read_file_at(AT_FDCWD, path, &data, NULL);
	cr_assert_eq(r, 0, "read %s: %s", path, strerror(-r));
	return data;
}

static mode_t tpl_mode(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", tpl, rel);
	cr_assert_eq(lstat(path, &st), 0, "lstat %s: %s", path, strerror(errno));
	return st.st_mode;
}

/* The link text must be relative and land on the template's own busybox. */
void assert_applet_link(const char *rel, const char *want_text)
{
	char path[PATH_MAX], text[PATH_MAX], *real, *bb;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", tpl, rel);
	cr_assert(S_ISLNK(tpl_mode(rel)), "%s is not a symlink", rel);
	n = readlink(path, text, sizeof(text) - 1);
	cr_assert_gt(n, 0);
	text[n] = '\0';
	cr_assert_str_eq(text, want_text, "%s -> %s", rel, text);
	real = realpath(path, NULL);
	bb = str_printf("%s/bin/busybox", tpl);
	cr_assert_not_null(real, "%s does not resolve: %s", rel, strerror(errno));
	cr_assert_str_eq(real, bb);
	free(real);
	free(bb);
}

/* Names in dir other than . and .., space-separated, in readdir order. */
char *dir_list(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char buf[4096] = "";

	cr_assert_not_null(d, "opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d)))
		if (!str_eq(de->d_name, ".") && !str_eq(de->d_name, ".."))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 buf[0] ? " " : "", de->d_name);
	closedir(d);
	return strdup(buf);
}

Test(template_name, valid_and_invalid)
{
	char long63[64], long64[65];

	memset(long63, 'a', 63);
	long63[63] = '\0';
	memset(long64, 'a', 64);
	long64[64] = '\0';
	cr_assert(rootfs_template_name_valid("default"));
	cr_assert(rootfs_template_name_valid("deb12"));
	cr_assert(rootfs_template_name_valid("a.b-c_d"));
	cr_assert(rootfs_template_name_valid("0"));
	cr_assert(rootfs_template_name_valid(long63));
	cr_assert_not(rootfs_template_name_valid(""));
	cr_assert_not(rootfs_template_name_valid(NULL));
	cr_assert_not(rootfs_template_name_valid("."));
	cr_assert_not(rootfs_template_name_valid(".."));
	cr_assert_not(rootfs_template_name_valid(".default.tmp-1-2"));
	cr_assert_not(rootfs_template_name_valid("a/b"));
	cr_assert_not(rootfs_template_name_valid("UPPER"));
	cr_assert_not(rootfs_template_name_valid("-x"));
	cr_assert_not(rootfs_template_name_valid("a b"));
	cr_assert_not(rootfs_template_name_valid(long64));
}

Test(template_build, layout, .init = build_setup, .fini = tmp_teardown)
{
	cr_assert(S_ISREG(tpl_mode("bin/busybox")));
	cr_assert_eq(tpl_mode("bin/busybox") & 07777, 0755);
	assert_applet_link("sbin/init", "../bin/busybox");
	assert_applet_link("bin/sh", "../bin/busybox");
	assert_applet_link("sbin/getty", "../bin/busybox");
	assert_applet_link("usr/bin/[", "../../bin/busybox");
	cr_assert_eq(tpl_mode("tmp") & 07777, 01777);
	cr_assert_eq(tpl_mode("var/tmp") & 07777, 01777);
	cr_assert_eq(tpl_mode("root") & 07777, 0700);
	cr_assert_eq(tpl_mode("") & 07777, 0755);
	cr_assert(S_ISDIR(tpl_mode("dev")) && S_ISDIR(tpl_mode("proc")) &&
		  S_ISDIR(tpl_mode("sys")) && S_ISDIR(tpl_mode("run")));
	cr_assert(S_ISLNK(tpl_mode("etc/mtab")));
}

Test(template_build, etc_files, .init = build_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *inittab = tpl_read("etc/inittab");
	_cleanup_free_ char *rcs = tpl_read("etc/init.d/rcS");
	_cleanup_free_ char *shadow = tpl_read("etc/shadow");
	_cleanup_free_ char *passwd = tpl_read("etc/passwd");
	_cleanup_free_ char *group = tpl_read("etc/group");
	_cleanup_free_ char *osr = tpl_read("etc/os-release");
	char path[PATH_MAX];

	cr_assert_not_null(
		strstr(inittab, "\nconsole::respawn:/sbin/getty -L 38400 console vt100\n"));
	cr_assert_not_null(strstr(inittab, "\n::sysinit:/etc/init.d/rcS\n"));
	cr_assert_not_null(strstr(inittab, "\n::shutdown:/bin/umount -a -r\n"));
	cr_assert(str_startswith(rcs, "#!/bin/sh\n"));
	cr_assert_not_null(strstr(rcs, "\nip link set lo up\n"), "rcS does not bring lo up");
	cr_assert_not_null(strstr(rcs, "hostname -F /etc/hostname"));
	cr_assert_eq(tpl_mode("etc/init.d/rcS") & 07777, 0755);
	cr_assert_eq(tpl_mode("etc/shadow") & 07777, 0600);
	cr_assert(str_startswith(shadow, "root::"), "root must have an empty password: %s", shadow);
	/* crypt("", "$1$berth$"): an empty password that busybox's login and getpwuid accept. */
	cr_assert(str_startswith(passwd,
				 "root:$1$berth$Ykt4SOb3nf7sixf72eQ9b1:0:0:root:/root:/bin/sh\n"),
		  "root logs in on the console with an empty password: %s", passwd);
	cr_assert_not_null(strstr(passwd, "nobody:x:65534:65534:"));
	cr_assert_not_null(strstr(group, "tty:x:5:\n"));
	cr_assert_not_null(strstr(group, "nogroup:x:65534:\n"));
	cr_assert_not_null(strstr(osr, "\nID=berth-busybox\n"));
	cr_assert_not_null(strstr(osr, "\nVERSION_ID=1."), "os-release: %s", osr);
	snprintf(path, sizeof(path), "%s/etc/hostname", tpl);
	cr_assert_eq(access(path, F_OK), -1, "etc/hostname must be left to the runtime");
}

/* The applet links work: bin/sh in the template is a real shell. */
Test(template_build, shell_runs, .init = build_setup, .fini = tmp_teardown)
{
	char sh[PATH_MAX];
	int status;
	pid_t pid;

	snprintf(sh, sizeof(sh), "%s/bin/sh", tpl);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl(sh, "sh", "-c", "exit 7", (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status 0x%x", status);
}

Test(template_build, dynamic_busybox_refused, .init = tmp_setup, .fini = tmp_teardown)
{
	berr err = {0};
	int r;

	if (elf64_is_dynamic("/bin/ls") != 1)
		cr_skip_test(
			"SKIPPED: /bin/ls is not a dynamic ELF64 binary; no dynamic one to try");
	r = rootfs_template_build_busybox("/bin/ls", tpl, &err);
	cr_assert_eq(r, -ENOEXEC, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "dynamically linked"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "busybox-static"), "%s", err.msg);
	cr_assert_eq(access(tpl, F_OK), -1, "nothing may be left at %s", tpl);
}

Test(template_build, missing_busybox_refused, .init = tmp_setup, .fini = tmp_teardown)
{
	berr err = {0};
	int r = rootfs_template_build_busybox("/nonexistent/busybox", tpl, &err);

	cr_assert_eq(r, -ENOENT, "r=%d %s", r, err.msg);
	cr_assert_not_null(strstr(err.msg, "busybox-static"), "%s", err.msg);
}

Test(template_resolve, builds_default_atomically, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *dir = str_printf("%s/templates", tmpdir);
	_cleanup_free_ char *want = str_printf("%s/default", dir);
	_cleanup_free_ char *path = NULL, *list = NULL;
	berr err = {0};
	int r;

	require_static_busybox();
	r = rootfs_template_resolve(dir, "default", BUSYBOX, &path, &err);
	cr_assert_eq(r, 0, "resolve: %s", err.msg);
	cr_assert_str_eq(path, want);
	list = dir_list(dir);
	cr_assert_str_eq(list, "default", "templates dir holds \"%s\"", list);
	snprintf(tpl, sizeof(tpl), "%s", path);
	assert_applet_link("sbin/init", "../bin/busybox");
	free(TAKE_PTR(path));
	/* Found, not rebuilt: a busybox that does not exist is never consulted. */
	r = rootfs_template_resolve(dir, "default", "/nonexistent/busybox", &path, &err);
	cr_assert_eq(r, 0, "second resolve: %s", err.msg);
	cr_assert_str_eq(path, want);
}

/* Racing first starts all get the one template and leave no temp dir behind. */
Test(template_resolve, concurrent_default, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *dir = str_printf("%s/templates", tmpdir);
	_cleanup_free_ char *list = NULL;
	pid_t pids[4];
	int status;

	require_static_busybox();
	for (size_t i = 0; i < ARRAY_SIZE(pids); i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0) {
			_cleanup_free_ char *path = NULL;
			berr err = {0};

			_exit(rootfs_template_resolve(dir, "default", BUSYBOX, &path, &err) == 0
				      ? 0
				      : 1);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(pids); i++) {
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %zu failed", i);
	}
	list = dir_list(dir);
	cr_assert_str_eq(list, "default", "templates dir holds \"%s\"", list);
}

Test(template_resolve, failed_build_leaves_nothing, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *dir = str_printf("%s/templates", tmpdir);
	_cleanup_free_ char *path = NULL, *list = NULL;
	berr err = {0};
	int r;

	if (elf64_is_dynamic("/bin/ls") != 1)
		cr_skip_test(
			"SKIPPED: /bin/ls is not a dynamic ELF64 binary; no dynamic one to try");
	r = rootfs_template_resolve(dir, "default", "/bin/ls", &path, &err);
	cr_assert_lt(r, 0);
	cr_assert_null(path);
	cr_assert_not_null(strstr(err.msg, "busybox-static"), "%s", err.msg);
	list = dir_list(dir);
	cr_assert_str_eq(list, "", "templates dir holds \"%s\"", list);
}

/* A static binary that is not busybox fails after the temp dir exists. */
Test(template_resolve, late_failure_leaves_nothing, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *dir = str_printf("%s/templates", tmpdir);
	_cleanup_free_ char *path = NULL, *list = NULL;
	berr err = {0};
	int r;

	if (elf64_is_dynamic("/sbin/ldconfig") != 0)
		cr_skip_test("SKIPPED: /sbin/ldconfig is not a static ELF64 binary to fail with");
	r = rootfs_template_resolve(dir, "default", "/sbin/ldconfig", &path, &err);
	cr_assert_lt(r, 0);
	cr_assert_null(path);
	cr_assert_not_null(strstr(err.msg, "--list-full failed (exit status"), "%s", err.msg);
	list = dir_list(dir);
	cr_assert_str_eq(list, "", "templates dir holds \"%s\"", list);
}

Test(template_resolve, unknown_name, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *path = NULL;
	berr err = {0};
	int r = rootfs_template_resolve(tmpdir, "deb12", BUSYBOX, &path, &err);

	cr_assert_eq(r, -ENOENT, "r=%d %s", r, err.msg);
	cr_assert_null(path);
	cr_assert_not_null(strstr(err.msg, "template \"deb12\" not found in"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, tmpdir), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "the default template is \"default\""), "%s", err.msg);
}

Test(template_resolve, invalid_name, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *path = NULL;
	berr err = {0};
	int r = rootfs_template_resolve(tmpdir, "../etc", BUSYBOX, &path, &err);

	cr_assert_eq(r, -EINVAL, "r=%d %s", r, err.msg);
	cr_assert_null(path);
	cr_assert_not_null(strstr(err.msg, "\"../etc\""), "%s", err.msg);
}

Test(template_resolve, not_a_directory, .init = tmp_setup, .fini = tmp_teardown)
{
	_cleanup_free_ char *file = str_printf("%s/deb12", tmpdir);
	_cleanup_free_ char *path = NULL;
	berr err = {0};
	int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	int r;

	cr_assert_geq(fd, 0);
	close(fd);
	r = rootfs_template_resolve(tmpdir, "deb12", BUSYBOX, &path, &err);
	cr_assert_eq(r, -ENOTDIR, "r=%d %s", r, err.msg);
	cr_assert_null(path);
}
