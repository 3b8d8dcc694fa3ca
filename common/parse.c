/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts "-1" and leading blanks: refuse both. */
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

static int size_shift(const char *suffix)
{
	static const char units[] = "KMGTPE";
	const char *u;

	if (suffix[0] == '\0' || str_eq(suffix, "B") || str_eq(suffix, "b"))
		return 0;
	u = strchr(units, toupper((unsigned char)suffix[0]));
	if (!u)
		return -EINVAL;
	/* Accept K, KB, KiB (any case for the unit letter). */
	if (suffix[1] != '\0' && !str_eq(suffix + 1, "B") && !str_eq(suffix + 1, "iB") &&
	    !str_eq(suffix + 1, "b") && !str_eq(suffix + 1, "ib"))
		return -EINVAL;
	return 10 * (int)(u - units + 1);
}

/* "1.5G": digits, an optional fraction, a binary unit. Fractions of a byte are dropped. */
int parse_size(const char *s, uint64_t *ret)
{
	uint64_t whole = 0, frac = 0, frac_div = 1, v;
	const char *p = s;
	int shift;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++)
			if (frac_div < 1000000000u) { /* nine digits are plenty */
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
	}
	shift = size_shift(p);
	if (shift < 0)
		return -EINVAL;
	if (shift > 0 && whole > (UINT64_MAX >> shift))
		return -ERANGE;
	v = whole << shift;
	/* frac < frac_div <= 1e9 < 2^30, and shift <= 60: split to stay in 64 bits. */
	if (frac) {
		int s1 = shift > 30 ? shift - 30 : 0;
		uint64_t add = ((frac << (shift - s1)) / frac_div) << s1;

		if (v > UINT64_MAX - add)
			return -ERANGE;
		v += add;
	}
	*ret = v;
	return 0;
}

bool str_eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

bool str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}
