/* SPDX-License-Identifier: MIT */
/* Id ranges (runtime/idrange.c): the pool, allocation and overlap rules; machine ids. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime-internal.h"

#define K 65536u

Test(idrange, lowest_free_in_an_empty_pool_is_the_pool_start)
{
	idrange pool = {1000000, 100 * K};
	uint32_t base = 0;

	cr_assert_eq(idrange_alloc(&pool, 1, NULL, 0, K, &base), 0);
	cr_expect_eq(base, 1000000u);
}

Test(idrange, allocation_skips_taken_ranges_and_fills_holes)
{
	idrange pool = {1000000, 100 * K};
	/* Taken: the first, the third; a hole of exactly one range at the second. */
	idrange taken[] = {{1000000 + 2 * K, K}, {1000000, K}};
	uint32_t base = 0;

	cr_assert_eq(idrange_alloc(&pool, 1, taken, 2, K, &base), 0);
	cr_expect_eq(base, 1000000u + K, "the hole left by a deleted instance is reused");
}

Test(idrange, a_hole_too_small_is_skipped)
{
	idrange pool = {1000000, 100 * K};
	/* A fixed --idmap left a hole of K-1 ids after the first range. */
	idrange taken[] = {{1000000, K}, {1000000 + 2 * K - 1, K}};
	uint32_t base = 0;

	cr_assert_eq(idrange_alloc(&pool, 1, taken, 2, K, &base), 0);
	cr_expect_eq(base, 1000000u + 3 * K - 1);
	for (size_t i = 0; i < 2; i++)
		cr_expect_eq(idrange_find_overlap(&taken[i], 1, base, K), -1);
}

Test(idrange, a_full_pool_is_ENOSPC)
{
	idrange pool = {1000000, 2 * K};
	idrange taken[] = {{1000000, K}, {1000000 + K, K}};
	uint32_t base = 42;

	cr_expect_eq(idrange_alloc(&pool, 1, taken, 2, K, &base), -ENOSPC);
	cr_expect_eq(base, 42u, "*ret_base is written only on success");
	cr_expect_eq(idrange_alloc(&pool, 1, NULL, 0, 2 * K + 1, &base), -ENOSPC);
}

Test(idrange, several_pool_ranges_give_the_lowest_base)
{
	/* Out of order, as /etc/subuid may list them. */
	idrange pool[] = {{5000000, K}, {2000000, K}, {3000000, 4 * K}};
	idrange taken[] = {{2000000, K}};
	uint32_t base = 0;

	cr_assert_eq(idrange_alloc(pool, 3, taken, 1, K, &base), 0);
	cr_expect_eq(base, 3000000u);
}

Test(idrange, overlap_is_found_at_either_edge)
{
	idrange taken[] = {{1000000, K}, {2000000, K}};

	cr_expect_eq(idrange_find_overlap(taken, 2, 1000000 - K, K), -1, "just below: free");
	cr_expect_eq(idrange_find_overlap(taken, 2, 1000000 - K + 1, K), 0);
	cr_expect_eq(idrange_find_overlap(taken, 2, 1000000 + K - 1, K), 0);
	cr_expect_eq(idrange_find_overlap(taken, 2, 1000000 + K, K), -1, "just above: free");
	cr_expect_eq(idrange_find_overlap(taken, 2, 2000000 + 5, 10), 1);
}

Test(idrange, subid_lines_for_berth_by_name_or_uid)
{
	const char *text = "# comment\n"
			   "alice:100000:65536\n"
			   "berth:1000000:655360\n"
			   "berthx:5:5\n"
			   "bad line\n"
			   "berth:notanumber:5\n"
			   "berth:0:65536\n"
			   "998:3000000:65536\n"
			   "berth:4294967000:65536\n"
			   "berth:7000000:65536";
	idrange v[8];
	size_t n = 0;

	cr_assert_eq(idrange_subid_parse(text, "berth", 998, v, 8, &n), 0);
	cr_assert_eq(n, 3, "berth twice and uid 998 once; malformed, zero and overflowing skipped");
	cr_expect_eq(v[0].base, 1000000u);
	cr_expect_eq(v[0].count, 655360u);
	cr_expect_eq(v[1].base, 3000000u);
	cr_expect_eq(v[2].base, 7000000u, "the last line needs no newline");
	cr_assert_eq(idrange_subid_parse(text, "berth", (uint32_t)-1, v, 8, &n), 0);
	cr_expect_eq(n, 2, "no berth user: its name only");
	cr_expect_eq(idrange_subid_parse(text, "berth", 998, v, 2, &n), -E2BIG);
}

Test(idrange, the_pool_is_the_ids_in_both_files)
{
	idrange u[] = {{1000000, 10 * K}}, g[] = {{1000000 + 5 * K, 10 * K}, {100, 5}}, out[4];
	size_t n = idrange_intersect(u, 1, g, 2, out, 4);

	cr_assert_eq(n, 1);
	cr_expect_eq(out[0].base, 1000000u + 5 * K);
	cr_expect_eq(out[0].count, 5 * K);
}

static char *tmpfile_with(const char *text)
{
	char *path = strdup("/tmp/berth-idrange-XXXXXX");
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(idrange, pool_load_default_and_subid)
{
	char *empty = tmpfile_with(""), *u = tmpfile_with("berth:2000000:655360\n"),
	     *g = tmpfile_with("berth:2000000:131072\n"), *other = tmpfile_with("x:5:5\n");
	idrange pool[4];
	size_t n = 0;
	berr err = {0};

	cr_assert_eq(idrange_pool_load(empty, "/nonexistent/subgid", pool, 4, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(pool[0].base, IDMAP_DEFAULT_BASE, "no berth entries: 1000000 upward");
	cr_expect_eq((uint64_t)pool[0].base + pool[0].count - 1, 4294967294u);
	cr_assert_eq(idrange_pool_load(u, g, pool, 4, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(pool[0].base, 2000000u);
	cr_expect_eq(pool[0].count, 131072u, "only ids in both files");
	cr_expect_eq(idrange_pool_load(u, other, pool, 4, &n, &err), -ENOSPC,
		     "berth in subuid only: no usable ids is an error, not the default");
	cr_expect(strstr(err.msg, "subgid") || strstr(err.msg, other), "%s", err.msg);
	unlink(empty), unlink(u), unlink(g), unlink(other);
	free(empty), free(u), free(g), free(other);
}

Test(identity, machine_id_from_uuid)
{
	char id[33];

	machine_id_from_uuid("E245A7E1-7e94-4b4b-8dc7-3ea25f6a1ade", id);
	cr_expect_str_eq(id, "e245a7e17e944b4b8dc73ea25f6a1ade");
	cr_expect(machine_id_valid(id, 32));
	cr_expect(machine_id_valid("e245a7e17e944b4b8dc73ea25f6a1ade\n", 33));
	cr_expect(!machine_id_valid("", 0), "an empty file means: make one at first boot");
	cr_expect(!machine_id_valid("uninitialized\n", 14));
	cr_expect(!machine_id_valid("E245A7E17E944B4B8DC73EA25F6A1ADE", 32), "lower case only");
}

static const char *cfg_json(const char *extra)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"name\": \"web1\", \"uuid\": \"e245a7e1-7e94-4b4b-8dc7-3ea25f6a1ade\", "
		 "\"template\": \"default\", \"idmap\": {\"base\": 1065536, \"count\": 65536}%s}",
		 extra);
	return buf;
}

Test(config_storage, disk_and_lower_round_trip)
{
	instance_config c, back;
	char *json = NULL;
	berr err = {0};

	cr_assert_eq(
		instance_config_from_json(
			cfg_json(", \"disk\": {\"backend\": \"project\", \"limit\": 21474836480}, "
				 "\"lower\": \"shifted\""),
			&c, &err),
		0, "%s", err.msg);
	cr_expect_eq(c.disk, DISK_PROJECT);
	cr_expect_eq(c.disk_limit, 21474836480ull);
	cr_expect(c.lower_shifted);
	cr_assert_eq(instance_config_to_json(&c, &json, NULL), 0);
	cr_assert_eq(instance_config_from_json(json, &back, &err), 0, "%s", err.msg);
	cr_expect_eq(back.disk, DISK_PROJECT);
	cr_expect_eq(back.disk_limit, c.disk_limit);
	cr_expect(back.lower_shifted);
	cr_expect_eq(back.map.outside, 1065536u);
	free(json);
	instance_config_free(&c);
	instance_config_free(&back);
}

Test(config_storage, absent_fields_mean_no_limit_and_idmapped)
{
	instance_config c;
	berr err = {0};

	cr_assert_eq(instance_config_from_json(cfg_json(""), &c, &err), 0, "%s", err.msg);
	cr_expect_eq(c.disk, DISK_NONE);
	cr_expect(!c.lower_shifted);
	instance_config_free(&c);
}

Test(config_storage, bad_disk_and_lower_values_are_refused_by_name)
{
	static const struct {
		const char *extra, *mention;
	} bad[] = {
		{", \"disk\": {\"backend\": \"zfs\", \"limit\": 5}", "disk.backend"},
		{", \"disk\": {\"backend\": \"image\"}", "disk.limit"},
		{", \"disk\": {\"backend\": \"image\", \"limit\": \"20G\"}", "disk.limit"},
		{", \"disk\": 5", "disk"},
		{", \"lower\": \"copy\"", "lower"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		instance_config c;
		berr err = {0};

		cr_expect_lt(instance_config_from_json(cfg_json(bad[i].extra), &c, &err), 0, "%s",
			     bad[i].extra);
		cr_expect(strstr(err.msg, bad[i].mention), "%s: %s", bad[i].extra, err.msg);
	}
}
