/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "common.h"

static uint64_t size_ok(const char *s)
{
	uint64_t v = 0;

	cr_assert_eq(parse_size(s, &v), 0, "parse_size(\"%s\") should succeed", s);
	return v;
}

Test(parse_size, plain_and_units)
{
	cr_expect_eq(size_ok("0"), 0);
	cr_expect_eq(size_ok("4096"), 4096);
	cr_expect_eq(size_ok("64k"), 65536);
	cr_expect_eq(size_ok("512M"), 512ull << 20);
	cr_expect_eq(size_ok("2G"), 2ull << 30);
	cr_expect_eq(size_ok("2GiB"), 2ull << 30);
	cr_expect_eq(size_ok("2gb"), 2ull << 30);
	cr_expect_eq(size_ok("1T"), 1ull << 40);
	cr_expect_eq(size_ok("100B"), 100);
}

Test(parse_size, fractions)
{
	cr_expect_eq(size_ok("1.5G"), 3ull << 29);
	cr_expect_eq(size_ok("0.5K"), 512);
	cr_expect_eq(size_ok("1.1K"), 1126); /* 1126.4: the fraction of a byte is dropped */
}

Test(parse_size, rejects)
{
	static const char *const bad[] = {"",    "M",    "-1",  " 1",  "1 M", "12X", "1.",   ".5G",
					  "1e3", "0x10", "1MM", "1Mx", "inf", "nan", "1.5.5"};
	uint64_t v = 77;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		cr_expect_lt(parse_size(bad[i], &v), 0, "\"%s\" must be refused", bad[i]);
	cr_expect_eq(v, 77, "the result is written only on success");
	cr_expect_eq(parse_size("16E", &v), -ERANGE);
	cr_expect_eq(parse_size("99999999999999999999", &v), -ERANGE);
	cr_expect_eq(size_ok("15E"), 15ull << 60);
}

Test(parse_u64, bounds)
{
	uint64_t v;
	uint32_t w;

	cr_expect_eq(parse_u64("18446744073709551615", &v), 0);
	cr_expect_eq(v, UINT64_MAX);
	cr_expect_eq(parse_u64("18446744073709551616", &v), -ERANGE);
	cr_expect_eq(parse_u64("-1", &v), -EINVAL);
	cr_expect_eq(parse_u64("+1", &v), -EINVAL);
	cr_expect_eq(parse_u64("12a", &v), -EINVAL);
	cr_expect_eq(parse_u32("4294967295", &w), 0);
	cr_expect_eq(w, UINT32_MAX);
	cr_expect_eq(parse_u32("4294967296", &w), -ERANGE);
}

Test(berr, formats_with_errno_and_prefix)
{
	berr e = {0};

	cr_expect_eq(berr_set(&e, ENOENT, "open %s", "/x"), -ENOENT);
	cr_expect_str_eq(e.msg, "open /x: No such file or directory");
	berr_prefix(&e, "run");
	cr_expect_str_eq(e.msg, "run: open /x: No such file or directory");
	cr_expect_eq(berr_setx(&e, EINVAL, "bad \"%s\"", "12X"), -EINVAL);
	cr_expect_str_eq(e.msg, "bad \"12X\"");
	cr_expect_eq(e.code, EINVAL);
}
