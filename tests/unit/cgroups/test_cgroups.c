/* SPDX-License-Identifier: MIT */
/* cgroup helpers against fake mountinfo files and a fake cgroup tree in a temp dir. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroups.h"

static char *fixture(const char *text)
{
	char *p = strdup("/tmp/berth-mountinfo-XXXXXX");
	int fd = mkstemp(p);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

static const char hybrid[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

Test(cg_find_mount, hybrid_host_uses_unified)
{
	_cleanup_free_ char *f = fixture(hybrid), *path = NULL;
	berr e = {0};

	cr_assert_eq(cg_find_mount(f, &path, &e), 0, "%s", e.msg);
	cr_expect_str_eq(path, "/sys/fs/cgroup/unified");
	unlink(f);
}

Test(cg_find_mount, optional_fields_and_escapes)
{
	/* Shared mounts carry optional fields before "-"; blanks are escaped as \040. */
	_cleanup_free_ char *f = fixture(
		"22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n"
		"30 22 0:26 / /my\\040cgroups rw,nosuid shared:4 master:2 - cgroup2 cgroup2 rw\n");
	_cleanup_free_ char *path = NULL;
	berr e = {0};

	cr_assert_eq(cg_find_mount(f, &path, &e), 0, "%s", e.msg);
	cr_expect_str_eq(path, "/my cgroups");
	unlink(f);
}

Test(cg_find_mount, later_mount_hides_earlier)
{
	_cleanup_free_ char *f =
		fixture("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
			"90 22 0:50 / /sys/fs/cgroup rw,relatime - cgroup2 none rw\n");
	_cleanup_free_ char *path = NULL;
	berr e = {0};

	cr_assert_eq(cg_find_mount(f, &path, &e), 0, "%s", e.msg);
	cr_expect_str_eq(path, "/sys/fs/cgroup");
	unlink(f);
}

Test(cg_find_mount, v1_only_host_is_a_clear_error)
{
	_cleanup_free_ char *f = fixture(
		"35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup2-lookalike rw,memory\n");
	_cleanup_free_ char *path = NULL;
	berr e = {0};

	cr_expect_eq(cg_find_mount(f, &path, &e), -ENOENT);
	cr_expect_null(path);
	cr_expect(strstr(e.msg, "cgroup v2") != NULL, "message names the need: %s", e.msg);
	unlink(f);
}

static int make_tree(char *dir)
{
	cr_assert_not_null(mkdtemp(dir));
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

Test(cg_leaf, create_in_a_fake_tree_and_read_events)
{
	char dir[] = "/tmp/berth-cgtree-XXXXXX";
	_cleanup_close_ int root = make_tree(dir);
	_cleanup_free_ char *events = str_printf("%s/berth/run-1/cgroup.events", dir);
	cg_leaf leaf = CG_LEAF_INIT;
	berr e = {0};

	cr_assert_eq(cg_leaf_create(root, "berth/run-1", (uid_t)-1, (gid_t)-1, &leaf, &e), 0, "%s",
		     e.msg);
	cr_expect_str_eq(leaf.name, "berth/run-1");
	cr_expect_geq(leaf.dirfd, 0);
	/* A fake tree has no cgroup.events until the test writes one. */
	cr_expect_eq(cg_is_populated(leaf.dirfd), -ENOENT);
	cr_assert_eq(write_file_atomic(events, "populated 1\nfrozen 0\n", 21, 0644), 0);
	cr_expect_eq(cg_is_populated(leaf.dirfd), 1);
	cr_assert_eq(write_file_atomic(events, "populated 0\nfrozen 0\n", 21, 0644), 0);
	cr_expect_eq(cg_is_populated(leaf.dirfd), 0);
	cg_leaf_close(&leaf);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_leaf, leftover_without_events_is_refused)
{
	char dir[] = "/tmp/berth-cgtree-XXXXXX";
	_cleanup_close_ int root = make_tree(dir);
	_cleanup_free_ char *leafdir = str_printf("%s/berth/run-3", dir);
	cg_leaf leaf = CG_LEAF_INIT;
	berr e = {0};

	/* A real cgroup dir with no processes can be rmdir'd; a fake empty dir stands in for it. */
	cr_assert_eq(mkdir_p(leafdir, 0755), 0);
	cr_expect_eq(cg_leaf_create(root, "berth/run-3", (uid_t)-1, (gid_t)-1, &leaf, &e), -EEXIST,
		     "without cgroup.events the leftover cannot be proven empty: refused");
	cg_leaf_close(&leaf);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_leaf, existing_populated_leaf_is_refused)
{
	char dir[] = "/tmp/berth-cgtree-XXXXXX";
	_cleanup_close_ int root = make_tree(dir);
	cg_leaf leaf = CG_LEAF_INIT;
	berr e = {0};
	_cleanup_free_ char *leafdir = str_printf("%s/berth/run-2", dir);
	_cleanup_free_ char *events = str_printf("%s/cgroup.events", leafdir);

	cr_assert_eq(mkdir_p(leafdir, 0755), 0);
	cr_assert_eq(write_file_atomic(events, "populated 1\n", 12, 0644), 0);
	cr_expect_eq(cg_leaf_create(root, "berth/run-2", (uid_t)-1, (gid_t)-1, &leaf, &e), -EEXIST);
	cr_expect(strstr(e.msg, "berth/run-2") != NULL, "message names the cgroup: %s", e.msg);
	cr_expect_eq(access(events, F_OK), 0, "the populated leaf is left alone");
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_kill, a_removed_cgroup_is_empty)
{
	char dir[] = "/tmp/berth-cgtree-XXXXXX";
	_cleanup_close_ int root = make_tree(dir);
	_cleanup_close_ int leaf = -EBADF;
	_cleanup_free_ char *path = str_printf("%s/gone", dir);

	/* A leaf opened, then removed by its owner before we kill it. */
	cr_assert_eq(mkdir(path, 0755), 0);
	leaf = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(leaf, 0);
	cr_assert_eq(rmdir(path), 0);
	cr_expect_eq(cg_kill_and_wait(leaf, 100), 0);
	cr_expect_eq(cg_wait_empty(leaf, 100), 0);
	rm_rf_at(AT_FDCWD, dir);
}

/* An empty berth-made parent goes with its last leaf; anything else stays. */
Test(cg_parent_prune, removes_only_an_empty_berth_parent)
{
	char dir[] = "/tmp/berth-cgtree-XXXXXX";
	_cleanup_close_ int root = make_tree(dir);
	struct stat st;

	cr_assert_eq(mkdirat(root, "berth-0123abcd", 0755), 0);
	cr_assert_eq(mkdirat(root, "berth", 0755), 0);
	cr_assert_eq(mkdirat(root, "berth/web2", 0755), 0);
	cr_assert_eq(mkdirat(root, "system.slice", 0755), 0);
	cr_assert_eq(mkdirat(root, "unit", 0755), 0);

	cr_expect_eq(cg_parent_prune(root, "berth-0123abcd/web1"), 0);
	cr_expect_eq(fstatat(root, "berth-0123abcd", &st, 0), -1, "the empty parent is gone");
	cr_expect_eq(cg_parent_prune(root, "berth/web1"), 0, "a busy parent is not an error");
	cr_expect_eq(fstatat(root, "berth", &st, 0), 0, "a parent with another leaf stays");
	cr_expect_eq(cg_parent_prune(root, "unit/payload"), 0);
	cr_expect_eq(fstatat(root, "unit", &st, 0), 0,
		     "a delegated unit's cgroup is never removed");
	cr_expect_eq(cg_parent_prune(root, "system.slice/berth@a.service/payload"), 0);
	cr_expect_eq(fstatat(root, "system.slice", &st, 0), 0);
	cr_expect_eq(cg_parent_prune(root, "berth-gone/x"), 0, "already gone is fine");
	unlinkat(root, "berth/web2", AT_REMOVEDIR);
	unlinkat(root, "berth", AT_REMOVEDIR);
	unlinkat(root, "system.slice", AT_REMOVEDIR);
	unlinkat(root, "unit", AT_REMOVEDIR);
	rmdir(dir);
}
