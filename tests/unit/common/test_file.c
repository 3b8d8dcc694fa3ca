/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"

static char *make_tmpdir(void)
{
	char *d = strdup("/tmp/berth-unit-XXXXXX");

	cr_assert_not_null(mkdtemp(d));
	return d;
}

Test(file, atomic_write_then_read)
{
	_cleanup_free_ char *d = make_tmpdir();
	_cleanup_free_ char *p = str_printf("%s/state.json", d);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct stat st;

	cr_assert_eq(write_file_atomic(p, "{\"a\":1}", 7, 0600), 0);
	cr_assert_eq(write_file_atomic(p, "{\"a\":2}", 7, 0640), 0);
	cr_assert_eq(read_file_at(AT_FDCWD, p, &buf, &len), 0);
	cr_expect_eq(len, 7);
	cr_expect_str_eq(buf, "{\"a\":2}");
	cr_assert_eq(stat(p, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0640);
	cr_expect_eq(rm_rf_at(AT_FDCWD, d), 0);
	cr_expect_neq(access(d, F_OK), 0, "rm_rf_at removed the tree");
}

Test(file, mkdir_p_and_rm_rf_do_not_follow_symlinks)
{
	_cleanup_free_ char *d = make_tmpdir();
	_cleanup_free_ char *outside = make_tmpdir();
	_cleanup_free_ char *deep = str_printf("%s/a/b/c", d);
	_cleanup_free_ char *keep = str_printf("%s/keep", outside);
	_cleanup_free_ char *link = str_printf("%s/a/link", d);

	cr_assert_eq(mkdir_p(deep, 0755), 0);
	cr_assert_eq(mkdir_p(deep, 0755), 0, "mkdir_p is idempotent");
	cr_assert_eq(write_file_atomic(keep, "x", 1, 0644), 0);
	cr_assert_eq(symlink(outside, link), 0);
	cr_assert_eq(rm_rf_at(AT_FDCWD, d), 0);
	cr_expect_eq(access(keep, F_OK), 0, "a symlink's target survives rm_rf_at");
	rm_rf_at(AT_FDCWD, outside);
}

Test(file, copy_file_at_copies_bytes_and_mode)
{
	_cleanup_free_ char *d = make_tmpdir();
	_cleanup_free_ char *src = str_printf("%s/src", d);
	_cleanup_free_ char *dst = str_printf("%s/dst", d);
	_cleanup_free_ char *buf = NULL;
	struct stat st;

	cr_assert_eq(write_file_atomic(src, "hello", 5, 0644), 0);
	cr_assert_eq(copy_file_at(AT_FDCWD, src, AT_FDCWD, dst, 0755), 0);
	cr_assert_eq(read_file_at(AT_FDCWD, dst, &buf, NULL), 0);
	cr_expect_str_eq(buf, "hello");
	cr_assert_eq(stat(dst, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0755);
	cr_expect_eq(copy_file_at(AT_FDCWD, src, AT_FDCWD, dst, 0755), -EEXIST);
	rm_rf_at(AT_FDCWD, d);
}

Test(file, closep_forgets_the_fd)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int other;

	cr_assert_geq(fd, 0);
	closep(&fd);
	cr_expect_eq(fd, -EBADF, "closep resets the variable");
	/* The number is free again: a second closep must not close whoever got it. */
	other = open("/dev/null", O_RDONLY | O_CLOEXEC);
	closep(&fd);
	cr_expect_neq(fcntl(other, F_GETFD), -1, "the new fd survived a second closep");
	close(other);
}
