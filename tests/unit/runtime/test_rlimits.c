/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/resource.h>

#include "runtime-internal.h"

static rlimit_req parse_ok(const char *s)
{
	rlimit_req r = {0};
	berr err = {0};

	cr_assert_eq(rlimit_parse(s, &r, &err), 0, "rlimit_parse(\"%s\"): %s", s, err.msg);
	return r;
}

Test(rlimit_parse, soft_and_hard)
{
	rlimit_req r = parse_ok("NOFILE=1024:4096");

	cr_expect_eq(r.resource, RLIMIT_NOFILE);
	cr_expect_eq(r.soft, 1024);
	cr_expect_eq(r.hard, 4096);
}

Test(rlimit_parse, one_value_sets_both)
{
	rlimit_req r = parse_ok("NOFILE=1024");

	cr_expect_eq(r.soft, 1024);
	cr_expect_eq(r.hard, 1024);
}

Test(rlimit_parse, names_ignore_case_and_unlimited)
{
	rlimit_req r = parse_ok("nofile=unlimited");

	cr_expect_eq(r.resource, RLIMIT_NOFILE);
	cr_expect_eq(r.soft, RLIM_INFINITY);
	cr_expect_eq(r.hard, RLIM_INFINITY);
	r = parse_ok("Stack=8388608:UNLIMITED");
	cr_expect_eq(r.resource, RLIMIT_STACK);
	cr_expect_eq(r.soft, 8388608);
	cr_expect_eq(r.hard, RLIM_INFINITY);
	r = parse_ok("core=0");
	cr_expect_eq(r.resource, RLIMIT_CORE);
	cr_expect_eq(r.soft, 0);
	cr_expect_eq(r.hard, 0);
}

Test(rlimit_parse, every_prlimit_name)
{
	static const struct {
		const char *s;
		int resource;
	} names[] = {
		{"AS=1", RLIMIT_AS},
		{"CORE=1", RLIMIT_CORE},
		{"CPU=1", RLIMIT_CPU},
		{"DATA=1", RLIMIT_DATA},
		{"FSIZE=1", RLIMIT_FSIZE},
		{"LOCKS=1", RLIMIT_LOCKS},
		{"MEMLOCK=1", RLIMIT_MEMLOCK},
		{"MSGQUEUE=1", RLIMIT_MSGQUEUE},
		{"NICE=1", RLIMIT_NICE},
		{"NOFILE=1", RLIMIT_NOFILE},
		{"NPROC=1", RLIMIT_NPROC},
		{"RSS=1", RLIMIT_RSS},
		{"RTPRIO=1", RLIMIT_RTPRIO},
		{"RTTIME=1", RLIMIT_RTTIME},
		{"SIGPENDING=1", RLIMIT_SIGPENDING},
		{"STACK=1", RLIMIT_STACK},
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		cr_expect_eq(parse_ok(names[i].s).resource, names[i].resource, "%s", names[i].s);
}

static void parse_bad(const char *s, const char *why)
{
	rlimit_req r = {.resource = 42, .soft = 7, .hard = 8};
	berr err = {0};
	int ret = rlimit_parse(s, &r, &err);

	cr_expect_lt(ret, 0, "rlimit_parse(\"%s\") must fail", s);
	cr_expect_eq(ret, -err.code, "\"%s\": return value and err.code disagree", s);
	cr_expect(strstr(err.msg, s) != NULL, "\"%s\": message does not quote it: %s", s, err.msg);
	cr_expect(strstr(err.msg, why) != NULL, "\"%s\": message lacks \"%s\": %s", s, why,
		  err.msg);
	cr_expect(r.resource == 42 && r.soft == 7 && r.hard == 8, "\"%s\": *ret was written", s);
}

Test(rlimit_parse, bad_input)
{
	parse_bad("NOFILE=abc", "not a number (use NAME=SOFT[:HARD], e.g. NOFILE=1024:4096");
	parse_bad("NOFILE=-1", "not a number");
	parse_bad("NOFILE= 1", "not a number");
	parse_bad("NOFILE=1k", "not a number");
	parse_bad("NOFILE=1:2:3", "\"2:3\" is not a number");
	parse_bad("NOFILE=99999999999999999999", "too large");
	parse_bad("NOFILE", "missing \"=\"");
	parse_bad("NOFILE=", "missing a value");
	parse_bad("NOFILE=1024:", "missing a value");
	parse_bad("NOFILE=:4096", "missing a value");
	parse_bad("FILES=1024", "unknown name \"FILES\" (use one of AS, CORE");
	parse_bad("=1024", "unknown name \"\"");
	parse_bad("NOFILE=4096:1024", "soft limit is above the hard limit");
	parse_bad("NOFILE=unlimited:1024", "soft limit is above the hard limit");
}

static struct rlimit get(int resource)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(resource, &rl), 0, "getrlimit: %s", strerror(errno));
	return rl;
}

/* Criterion runs each test in its own process, so the limits set here die with it. */
Test(rlimits_apply, lowers_soft_and_hard)
{
	struct rlimit before = get(RLIMIT_NOFILE);
	rlimit_req v[] = {
		{.resource = RLIMIT_CORE, .soft = 0, .hard = get(RLIMIT_CORE).rlim_max},
		{.resource = RLIMIT_NOFILE, .soft = 32, .hard = 64},
	};
	berr err = {0};

	cr_assert_geq(before.rlim_max, 64, "the test needs a NOFILE hard limit of 64 or more");
	cr_assert_eq(rlimits_apply(v, ARRAY_SIZE(v), &err), 0, "rlimits_apply: %s", err.msg);
	cr_expect_eq(get(RLIMIT_CORE).rlim_cur, 0);
	cr_expect_eq(get(RLIMIT_CORE).rlim_max, v[0].hard);
	cr_expect_eq(get(RLIMIT_NOFILE).rlim_cur, 32);
	cr_expect_eq(get(RLIMIT_NOFILE).rlim_max, 64);
}

Test(rlimits_apply, refuses_to_raise_and_changes_nothing)
{
	rlimit_req lower = {.resource = RLIMIT_NOFILE, .soft = 100, .hard = 200};
	rlimit_req v[] = {
		{.resource = RLIMIT_CORE, .soft = 0, .hard = 0},
		{.resource = RLIMIT_NOFILE, .soft = 100, .hard = 300},
	};
	struct rlimit core_before;
	berr err = {0};

	cr_assert_eq(rlimits_apply(&lower, 1, &err), 0, "rlimits_apply: %s", err.msg);
	core_before = get(RLIMIT_CORE);
	cr_assert_eq(rlimits_apply(v, ARRAY_SIZE(v), &err), -EPERM);
	cr_expect_str_eq(err.msg, "rlimit NOFILE: cannot raise the hard limit from 200 to 300 "
				  "(berth only lowers limits)");
	cr_expect_eq(get(RLIMIT_NOFILE).rlim_cur, 100);
	cr_expect_eq(get(RLIMIT_NOFILE).rlim_max, 200);
	cr_expect_eq(get(RLIMIT_CORE).rlim_cur, core_before.rlim_cur,
		     "CORE was lowered although the request as a whole was refused");
	cr_expect_eq(get(RLIMIT_CORE).rlim_max, core_before.rlim_max);
}

Test(rlimits_apply, refuses_unlimited_over_a_finite_hard_limit)
{
	rlimit_req lower = {.resource = RLIMIT_CPU, .soft = 1000, .hard = 1000};
	rlimit_req raise = {.resource = RLIMIT_CPU, .soft = 1000, .hard = RLIM_INFINITY};
	berr err = {0};

	cr_assert_eq(rlimits_apply(&lower, 1, &err), 0, "rlimits_apply: %s", err.msg);
	cr_assert_eq(rlimits_apply(&raise, 1, &err), -EPERM);
	cr_expect_str_eq(err.msg, "rlimit CPU: cannot raise the hard limit from 1000 to unlimited "
				  "(berth only lowers limits)");
	cr_expect_eq(get(RLIMIT_CPU).rlim_max, 1000);
}

Test(rlimits_apply, refuses_soft_above_hard)
{
	rlimit_req bad = {.resource = RLIMIT_NOFILE, .soft = 64, .hard = 32};
	berr err = {0};

	cr_assert_lt(rlimits_apply(&bad, 1, &err), 0);
	cr_expect(strstr(err.msg, "NOFILE") != NULL, "message lacks the name: %s", err.msg);
}
