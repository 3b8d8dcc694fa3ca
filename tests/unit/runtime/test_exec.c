/* SPDX-License-Identifier: MIT */
/* berth exec: who the command runs as, from the instance's /etc/passwd and /etc/group. */
#include <criterion/criterion.h>
#include <string.h>

#include "exec-internal.h"

static const char passwd[] = "# a comment\n"
			     "root:x:0:0:root:/root:/bin/sh\n"
			     "+nis::0:0:::\n"
			     "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			     "broken:x:notanumber:1::/home/broken:/bin/sh\n"
			     "short:x:7:7\n"
			     "bob:x:1000:1000:Bob,,,:/home/bob:/bin/bash\n"
			     "1001:x:1002:1002::/home/digits:\n"
			     "empty:x:1003:1003:::\n"
			     "dup:x:1000:50::/home/dup:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";

static const char group[] = "root:x:0:\n"
			    "tty:x:5:bob\n"
			    "wheel:x:10:alice,bob\n"
			    "staff:x:50:carol\n"
			    "bob:x:1000:\n"
			    "bare:x:77\n"
			    "bad:x:nope:bob\n"
			    "bobby:x:60:bobby\n"
			    "2000:x:2001:\n";

static exec_user resolve_ok(const char *user_spec)
{
	exec_user u;
	berr err = {0};

	cr_assert_eq(exec_user_resolve(user_spec, passwd, group, &u, &err), 0,
		     "exec_user_resolve(\"%s\"): %s", user_spec ? user_spec : "(null)", err.msg);
	return u;
}

Test(passwd_find, by_name)
{
	exec_user u;

	cr_assert_eq(passwd_find(passwd, "bob", &u), 0);
	cr_expect_eq(u.uid, 1000);
	cr_expect_eq(u.gid, 1000);
	cr_expect_str_eq(u.name, "bob");
	cr_expect_str_eq(u.home, "/home/bob");
	cr_expect_str_eq(u.shell, "/bin/bash");
}

Test(passwd_find, by_uid_takes_the_first_entry)
{
	exec_user u;

	cr_assert_eq(passwd_find(passwd, "1000", &u), 0);
	cr_expect_str_eq(u.name, "bob");
	cr_assert_eq(passwd_find(passwd, "0", &u), 0);
	cr_expect_str_eq(u.name, "root");
	cr_expect_str_eq(u.home, "/root");
}

Test(passwd_find, a_name_made_of_digits_wins_over_a_uid)
{
	exec_user u;

	cr_assert_eq(passwd_find(passwd, "1001", &u), 0);
	cr_expect_eq(u.uid, 1002);
	cr_expect_str_eq(u.home, "/home/digits");
}

Test(passwd_find, empty_home_and_shell_get_defaults)
{
	exec_user u;

	cr_assert_eq(passwd_find(passwd, "empty", &u), 0);
	cr_expect_str_eq(u.home, "/");
	cr_expect_str_eq(u.shell, "/bin/sh");
}

Test(passwd_find, malformed_lines_comments_and_nis_entries_match_nobody)
{
	exec_user u;

	cr_expect_eq(passwd_find(passwd, "broken", &u), -ENOENT);
	cr_expect_eq(passwd_find(passwd, "short", &u), -ENOENT);
	cr_expect_eq(passwd_find(passwd, "7", &u), -ENOENT);
	cr_expect_eq(passwd_find(passwd, "+nis", &u), -ENOENT);
	cr_expect_eq(passwd_find(passwd, "# a comment", &u), -ENOENT);
	cr_expect_eq(passwd_find(passwd, "", &u), -ENOENT);
	cr_expect_eq(passwd_find(NULL, "root", &u), -ENOENT);
}

Test(passwd_find, last_line_without_newline)
{
	exec_user u;

	cr_assert_eq(passwd_find(passwd, "nobody", &u), 0);
	cr_expect_eq(u.uid, 65534);
	cr_expect_str_eq(u.shell, "/usr/sbin/nologin");
}

Test(passwd_find, overlong_line_is_skipped_not_truncated)
{
	char *text = malloc(4096);
	exec_user u;

	memset(text, 'a', 3000);
	strcpy(text + 3000, ":x:5:5::/:/bin/sh\nok:x:6:6::/:/bin/sh\n");
	cr_expect_eq(passwd_find(text, "5", &u), -ENOENT);
	cr_assert_eq(passwd_find(text, "ok", &u), 0);
	cr_expect_eq(u.uid, 6);
	free(text);
}

Test(group_find, by_name_and_number)
{
	gid_t g;

	cr_assert_eq(group_find(group, "wheel", &g), 0);
	cr_expect_eq(g, 10);
	cr_assert_eq(group_find(group, "50", &g), 0);
	cr_expect_eq(g, 50);
	cr_assert_eq(group_find(group, "bare", &g), 0, "a line without a member field counts");
	cr_expect_eq(g, 77);
	cr_assert_eq(group_find(group, "2000", &g), 0, "names win over numbers");
	cr_expect_eq(g, 2001);
	cr_expect_eq(group_find(group, "bad", &g), -ENOENT);
	cr_expect_eq(group_find(group, "nosuch", &g), -ENOENT);
}

Test(group_collect, primary_first_then_memberships)
{
	exec_user u = {0};

	group_collect(group, "bob", 1000, &u);
	cr_assert_eq(u.n_groups, 3);
	cr_expect_eq(u.groups[0], 1000);
	cr_expect_eq(u.groups[1], 5);
	cr_expect_eq(u.groups[2], 10);
}

Test(group_collect, whole_names_only_and_no_duplicates)
{
	exec_user u = {0};

	group_collect(group, "bobby", 60, &u);
	cr_assert_eq(u.n_groups, 1, "bobby is in bobby (60) only, once");
	group_collect(group, "bo", 0, &u);
	cr_expect_eq(u.n_groups, 1);
	group_collect(NULL, "bob", 7, &u);
	cr_expect_eq(u.n_groups, 1);
	cr_expect_eq(u.groups[0], 7);
}

Test(exec_user_resolve, default_is_root)
{
	exec_user u = resolve_ok(NULL);

	cr_expect_eq(u.uid, 0);
	cr_expect_eq(u.gid, 0);
	cr_expect_str_eq(u.name, "root");
	cr_expect_str_eq(u.home, "/root");
	cr_expect_eq(u.n_groups, 1);
}

Test(exec_user_resolve, root_without_any_passwd)
{
	exec_user u;
	berr err = {0};

	cr_assert_eq(exec_user_resolve(NULL, NULL, NULL, &u, &err), 0, "%s", err.msg);
	cr_expect_eq(u.uid, 0);
	cr_expect_str_eq(u.home, "/root");
	cr_expect_str_eq(u.shell, "/bin/sh");
}

Test(exec_user_resolve, user_with_groups)
{
	exec_user u = resolve_ok("bob");

	cr_expect_eq(u.uid, 1000);
	cr_expect_eq(u.gid, 1000);
	cr_expect_eq(u.n_groups, 3);
}

Test(exec_user_resolve, user_and_group)
{
	exec_user u = resolve_ok("bob:staff");

	cr_expect_eq(u.uid, 1000);
	cr_expect_eq(u.gid, 50);
	cr_expect_eq(u.groups[0], 50);
	u = resolve_ok("daemon:4242");
	cr_expect_eq(u.gid, 4242, "an unknown group number is taken as is");
}

Test(exec_user_resolve, unknown_uid_is_taken_as_is)
{
	exec_user u = resolve_ok("4242");

	cr_expect_eq(u.uid, 4242);
	cr_expect_eq(u.gid, 0);
	cr_expect_str_eq(u.name, "");
	cr_expect_str_eq(u.home, "/");
}

Test(exec_user_resolve, unknown_name_names_the_file)
{
	exec_user u;
	berr err = {0};

	cr_expect_eq(exec_user_resolve("carol", passwd, group, &u, &err), -ENOENT);
	cr_expect_str_eq(err.msg, "user \"carol\" not found in the instance's /etc/passwd");
	cr_expect_eq(exec_user_resolve("carol", NULL, group, &u, &err), -ENOENT);
	cr_expect(strstr(err.msg, "no /etc/passwd") != NULL, "%s", err.msg);
	cr_expect_eq(exec_user_resolve("bob:nogroup", passwd, group, &u, &err), -ENOENT);
	cr_expect_str_eq(err.msg, "group \"nogroup\" not found in the instance's /etc/group");
}

Test(exec_user_resolve, malformed_specs)
{
	static const char *bad[] = {"", ":", "bob:", ":staff", "-1"};
	exec_user u;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		berr err = {0};

		cr_expect_lt(exec_user_resolve(bad[i], passwd, group, &u, &err), 0, "\"%s\"",
			     bad[i]);
		cr_expect_neq(err.msg[0], '\0', "\"%s\" has a message", bad[i]);
	}
}

Test(exec_user_resolve, uid_minus_one_is_refused)
{
	exec_user u;
	berr err = {0};

	cr_expect_lt(exec_user_resolve("4294967295", passwd, group, &u, &err), 0);
}
