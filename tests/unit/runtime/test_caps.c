/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime-internal.h"

/* {CAP(CAP_X)}: the value and its name, for messages. */
#define CAP(c) c, #c

/* What an init system inside needs: mounts, /dev nodes, reboot(2), its network, logins. */
static const struct {
	int cap;
	const char *name;
} kept[] = {
	{CAP(CAP_SYS_ADMIN)},  {CAP(CAP_MKNOD)},       {CAP(CAP_SYS_BOOT)},
	{CAP(CAP_NET_ADMIN)},  {CAP(CAP_SETUID)},      {CAP(CAP_SETGID)},
	{CAP(CAP_CHOWN)},      {CAP(CAP_AUDIT_WRITE)}, {CAP(CAP_NET_BIND_SERVICE)},
	{CAP(CAP_SYS_PTRACE)}, {CAP(CAP_SETPCAP)},
};

static const struct {
	int cap;
	const char *name;
} dropped[] = {
	{CAP(CAP_SYS_MODULE)}, {CAP(CAP_SYS_RAWIO)},     {CAP(CAP_SYS_TIME)},
	{CAP(CAP_MAC_ADMIN)},  {CAP(CAP_MAC_OVERRIDE)},  {CAP(CAP_AUDIT_CONTROL)},
	{CAP(CAP_WAKE_ALARM)}, {CAP(CAP_BLOCK_SUSPEND)}, {CAP(CAP_SYSLOG)},
};

Test(caps, default_keeps_what_init_needs)
{
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
		cr_expect(caps_default_keeps(kept[i].cap), "%s must be kept", kept[i].name);
}

Test(caps, default_drops_the_deny_list)
{
	for (size_t i = 0; i < ARRAY_SIZE(dropped); i++)
		cr_expect(!caps_default_keeps(dropped[i].cap), "%s must be dropped",
			  dropped[i].name);
}

Test(caps, exactly_nine_dropped)
{
	int n = 0;

	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		n += !caps_default_keeps(cap);
	cr_expect_eq(n, 9, "%d capabilities dropped, want the 9 of the deny list", n);
	cr_expect(!caps_default_keeps(-1), "a negative cap is no capability");
}

/* Exit codes of the child in apply_in_userns. */
enum {
	CHILD_OK,
	CHILD_NO_USERNS,
	CHILD_APPLY_FAILED,
	CHILD_STILL_BOUND,
	CHILD_LOST_KEPT,
	CHILD_STILL_PERMITTED
};

static bool cap_in(const struct __user_cap_data_struct *d, int cap)
{
	uint32_t bit = 1u << (cap % 32);

	return (d[cap / 32].permitted | d[cap / 32].effective | d[cap / 32].inheritable) & bit;
}

static int child_check(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	berr err = {0};

	if (unshare(CLONE_NEWUSER) < 0)
		return CHILD_NO_USERNS;
	if (caps_apply(&err) < 0) {
		fprintf(stderr, "caps_apply: %s\n", err.msg);
		return CHILD_APPLY_FAILED;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dropped); i++)
		if (prctl(PR_CAPBSET_READ, dropped[i].cap) != 0)
			return CHILD_STILL_BOUND;
	for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
		if (prctl(PR_CAPBSET_READ, kept[i].cap) != 1)
			return CHILD_LOST_KEPT;
	if (syscall(SYS_capget, &h, d) < 0)
		return CHILD_APPLY_FAILED;
	for (size_t i = 0; i < ARRAY_SIZE(dropped); i++)
		if (cap_in(d, dropped[i].cap))
			return CHILD_STILL_PERMITTED;
	if (!(d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))))
		return CHILD_LOST_KEPT;
	return CHILD_OK;
}

/*
 * A fresh user namespace gives an unprivileged test every capability inside it, as the
 * instance's init has. The check runs in a forked child: unshare(CLONE_NEWUSER) needs a
 * single-threaded caller, and the dropped caps must not leak into other tests.
 */
Test(caps, apply_in_userns)
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(child_check());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status 0x%x", status);
	if (WEXITSTATUS(status) == CHILD_NO_USERNS)
		cr_skip_test("user namespaces are not available here");
	cr_assert_neq(WEXITSTATUS(status), CHILD_APPLY_FAILED, "caps_apply failed (see stderr)");
	cr_assert_neq(WEXITSTATUS(status), CHILD_STILL_BOUND, "a dropped cap is still bounded");
	cr_assert_neq(WEXITSTATUS(status), CHILD_LOST_KEPT, "a kept cap was lost");
	cr_assert_neq(WEXITSTATUS(status), CHILD_STILL_PERMITTED,
		      "a dropped cap is still permitted, effective or inheritable");
	cr_assert_eq(WEXITSTATUS(status), CHILD_OK);
}
