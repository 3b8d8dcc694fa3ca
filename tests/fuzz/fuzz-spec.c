/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the option values a user types (there is no OCI JSON
 * spec parser in berth: these are its spec inputs): idmap_parse (--idmap),
 * rlimit_parse (--rlimit), parse_size, cg_limits_parse (--cpus, --memory,
 * --io-*, ...). The first byte picks the parser (and the limit); the rest is
 * the value. A limit that parses must format to a value that parses back to
 * the same limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups.h"
#include "runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void limits_round_trip(cg_limit_key k, const char *value)
{
	cg_limits l = {0}, back = {0};
	char buf[4096];
	berr err = {0};

	if (cg_limits_parse(&l, k, value, &err) < 0)
		return;
	if (cg_limits_format(&l, k, buf, sizeof(buf)) < 0)
		return;
	if (buf[0] && cg_limits_parse(&back, k, buf, &err) < 0)
		abort(); /* berth wrote a value it cannot read back */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	berr err = {0};

	if (size < 1)
		return 0;
	s = strndup((const char *)data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0] & 3) {
	case 0: {
		idmap m;

		(void)idmap_parse(s, &m, &err);
		break;
	}
	case 1: {
		rlimit_req r;

		(void)rlimit_parse(s, &r, &err);
		break;
	}
	case 2: {
		uint64_t v;

		(void)parse_size(s, &v);
		break;
	}
	default: {
		int n = 0;

		while (cg_limit_option((cg_limit_key)n))
			n++;
		if (n > 0)
			limits_round_trip((cg_limit_key)((data[0] >> 2) % n), s);
	}
	}
	free(s);
	return 0;
}
