/* SPDX-License-Identifier: MIT */
/* The id-shifting copy (rootfs/shift.c): id arithmetic, ids inside xattrs, a tree copied whole. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"

Test(shift, ids_move_inside_the_range_only)
{
	cr_expect_eq(rootfs_shift_id(1000000, 1000000, 2000000, 65536), 2000000u);
	cr_expect_eq(rootfs_shift_id(1065535, 1000000, 2000000, 65536), 2065535u);
	cr_expect_eq(rootfs_shift_id(1065536, 1000000, 2000000, 65536), 1065536u, "past the end");
	cr_expect_eq(rootfs_shift_id(999999, 1000000, 2000000, 65536), 999999u, "below");
	cr_expect_eq(rootfs_shift_id(0, 0, 3000000, 65536), 3000000u, "template root to a range");
}

Test(shift, acl_user_and_group_entries_move)
{
	/* version 2; USER_OBJ; USER 1001000; GROUP 1000005; OTHER; USER 5 (outside). */
	uint32_t v[] = {2,       0x00070001, 0xffffffff, 0x00060002, 1001000, 0x00040008,
			1000005, 0x00040020, 0xffffffff, 0x00050002, 5};
	uint32_t want_user = 2001000, want_group = 2000005;

	rootfs_shift_xattr("system.posix_acl_access", (char *)v, sizeof(v), 1000000, 2000000,
			   65536);
	cr_expect_eq(v[4], want_user);
	cr_expect_eq(v[6], want_group);
	cr_expect_eq(v[2], 0xffffffffu, "USER_OBJ has no id");
	cr_expect_eq(v[10], 5u, "an id outside the range stays");
}

Test(shift, v3_file_capability_root_moves_v2_untouched)
{
	struct vfs_ns_cap_data cap = {.magic_etc = VFS_CAP_REVISION_3, .rootid = 1000000};
	char other[20] = {0};

	rootfs_shift_xattr("security.capability", (char *)&cap, sizeof(cap), 1000000, 3000000,
			   65536);
	cr_expect_eq(cap.rootid, 3000000u);
	rootfs_shift_xattr("user.foo", other, sizeof(other), 0, 5, 10);
	for (size_t i = 0; i < sizeof(other); i++)
		cr_expect_eq(other[i], 0);
}

Test(shift, a_tree_is_copied_whole)
{
	char src[] = "/tmp/berth-shift-src-XXXXXX", dst[] = "/tmp/berth-shift-dst-XXXXXX";
	struct stat a, b, l;
	berr err = {0};
	char buf[64] = "";
	int s, d, fd;
	uid_t me = getuid();

	cr_assert(mkdtemp(src) && mkdtemp(dst));
	s = open(src, O_RDONLY | O_DIRECTORY);
	d = open(dst, O_RDONLY | O_DIRECTORY);
	cr_assert(s >= 0 && d >= 0);
	cr_assert_eq(mkdirat(s, "dir", 0750), 0);
	fd = openat(s, "dir/file", O_CREAT | O_WRONLY, 0640);
	cr_assert(fd >= 0 && write(fd, "hello", 5) == 5);
	close(fd);
	cr_assert_eq(fchmodat(s, "dir/file", 02755, 0), 0);
	cr_assert_eq(linkat(s, "dir/file", s, "hard", 0), 0);
	cr_assert_eq(symlinkat("/etc/passwd", s, "link"), 0);
	cr_assert_eq(mkfifoat(s, "fifo", 0600), 0);
	/* Owned by us: shifting our own uid onto itself needs no privilege. */
	cr_assert_eq(rootfs_copy_shifted(s, d, me, me, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(fstatat(s, "dir/file", &a, 0), 0);
	cr_assert_eq(fstatat(d, "dir/file", &b, 0), 0);
	cr_expect_eq(b.st_mode, a.st_mode, "mode with setgid kept");
	cr_expect_eq(b.st_mtim.tv_sec, a.st_mtim.tv_sec, "mtime kept");
	cr_expect_eq(fstatat(d, "hard", &l, 0), 0);
	cr_expect_eq(l.st_ino, b.st_ino, "hard link kept as one inode");
	cr_expect_eq(readlinkat(d, "link", buf, sizeof(buf) - 1), 11);
	cr_expect_str_eq(buf, "/etc/passwd", "symlink copied, not followed");
	cr_expect_eq(fstatat(d, "fifo", &l, AT_SYMLINK_NOFOLLOW), 0);
	cr_expect(S_ISFIFO(l.st_mode));
	cr_expect_eq(fstatat(d, "dir", &l, 0), 0);
	cr_expect_eq(l.st_mode & 07777, 0750u);
	close(s);
	close(d);
	cr_expect_eq(rm_rf_at(AT_FDCWD, src), 0);
	cr_expect_eq(rm_rf_at(AT_FDCWD, dst), 0);
}
