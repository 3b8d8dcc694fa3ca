/* SPDX-License-Identifier: MIT */
/* cgroup stats: the parsers against kernel text, and a fake cgroup tree in a temp dir. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroups.h"

/* What a 6.1 kernel writes with the cpu controller enabled. */
static const char cpu_stat_full[] = "usage_usec 1234567\n"
				    "user_usec 1000000\n"
				    "system_usec 234567\n"
				    "core_sched.force_idle_usec 0\n"
				    "nr_periods 50\n"
				    "nr_throttled 7\n"
				    "throttled_usec 350000\n"
				    "nr_bursts 0\n"
				    "burst_usec 0\n";

Test(cg_stats_parse, cpu_stat_with_the_cpu_controller)
{
	cg_stats st = {0};

	cr_assert_eq(cg_stats_parse("cpu.stat", cpu_stat_full, &st), 0);
	cr_expect_eq(st.have, CG_HAVE_CPU_USAGE | CG_HAVE_CPU_THROTTLE);
	cr_expect_eq(st.cpu_usage_usec, 1234567);
	cr_expect_eq(st.cpu_user_usec, 1000000);
	cr_expect_eq(st.cpu_system_usec, 234567);
	cr_expect_eq(st.cpu_nr_throttled, 7);
	cr_expect_eq(st.cpu_throttled_usec, 350000);
}

Test(cg_stats_parse, cpu_stat_without_the_cpu_controller_has_no_throttling)
{
	cg_stats st = {0};

	cr_assert_eq(cg_stats_parse("cpu.stat",
				    "usage_usec 42\nuser_usec 40\nsystem_usec 2\n"
				    "core_sched.force_idle_usec 0\n",
				    &st),
		     0);
	cr_expect_eq(st.have, CG_HAVE_CPU_USAGE);
	cr_expect_eq(st.cpu_usage_usec, 42);
	cr_expect_eq(st.cpu_nr_throttled, 0);
	cr_expect_eq(st.cpu_throttled_usec, 0);
}

Test(cg_stats_parse, a_key_that_is_a_prefix_of_another_is_not_confused)
{
	/* "usage_usec_x" must not be taken for usage_usec, nor "oom_kill" for "oom". */
	cg_stats st = {0};

	cr_assert_eq(cg_stats_parse("cpu.stat",
				    "usage_usec_x 9\nusage_usec 5\nuser_usec 3\n"
				    "system_usec 2\n",
				    &st),
		     0);
	cr_expect_eq(st.cpu_usage_usec, 5);
	cr_assert_eq(cg_stats_parse("memory.events",
				    "low 0\nhigh 12\nmax 30\noom_kill 2\noom 3\noom_group_kill 0\n",
				    &st),
		     0);
	cr_expect_eq(st.oom, 3);
	cr_expect_eq(st.oom_kill, 2);
	cr_expect(st.have & CG_HAVE_MEMORY_EVENTS);
}

Test(cg_stats_parse, single_values_and_max)
{
	cg_stats st = {0};

	cr_assert_eq(cg_stats_parse("memory.current", "8392704\n", &st), 0);
	cr_assert_eq(cg_stats_parse("memory.max", "max\n", &st), 0);
	cr_assert_eq(cg_stats_parse("memory.swap.max", "268435456\n", &st), 0);
	cr_assert_eq(cg_stats_parse("pids.current", "3\n", &st), 0);
	cr_assert_eq(cg_stats_parse("pids.max", "max\n", &st), 0);
	cr_expect_eq(st.memory_current, 8392704);
	cr_expect_eq(st.memory_max, CG_UNLIMITED);
	cr_expect_eq(st.swap_max, 268435456);
	cr_expect_eq(st.pids_current, 3);
	cr_expect_eq(st.pids_max, CG_UNLIMITED);
	cr_expect_eq(st.have, CG_HAVE_MEMORY | CG_HAVE_MEMORY_MAX | CG_HAVE_SWAP_MAX |
				      CG_HAVE_PIDS | CG_HAVE_PIDS_MAX);
}

Test(cg_stats_parse, max_is_only_a_limit)
{
	cg_stats st = {0};

	cr_expect_eq(cg_stats_parse("memory.current", "max\n", &st), -EBADMSG);
	cr_expect_eq(cg_stats_parse("pids.current", "", &st), -EBADMSG);
	cr_expect_eq(cg_stats_parse("pids.current", "-1\n", &st), -EBADMSG);
	cr_expect_eq(cg_stats_parse("pids.max", "12x\n", &st), -EBADMSG);
	cr_expect_eq(cg_stats_parse("cpu.stat", "usage_usec abc\n", &st), -EBADMSG);
	cr_expect_eq(st.have, 0);
}

Test(cg_stats_parse, unknown_file_is_einval)
{
	cg_stats st = {0};

	cr_expect_eq(cg_stats_parse("memory.stat", "anon 0\n", &st), -EINVAL);
}

Test(cg_stats_parse, io_stat_sums_devices)
{
	cg_stats st = {0};

	cr_assert_eq(
		cg_stats_parse("io.stat",
			       "254:0 rbytes=1048576 wbytes=4096 rios=10 wios=1 dbytes=0 dios=0\n"
			       "8:16 rbytes=512 wbytes=8192 rios=2 wios=3 dbytes=0 dios=0\n",
			       &st),
		0);
	cr_expect_eq(st.io_rbytes, 1048576 + 512);
	cr_expect_eq(st.io_wbytes, 4096 + 8192);
	cr_expect_eq(st.io_rios, 12);
	cr_expect_eq(st.io_wios, 4);
	cr_expect_eq(st.have, CG_HAVE_IO);
}

Test(cg_stats_parse, empty_io_stat_is_zero_io)
{
	/* The io controller is on but nothing was read or written yet. */
	cg_stats st = {0};

	cr_assert_eq(cg_stats_parse("io.stat", "", &st), 0);
	cr_expect_eq(st.have, CG_HAVE_IO);
	cr_expect_eq(st.io_rbytes + st.io_wbytes + st.io_rios + st.io_wios, 0);
}

Test(cg_stats_parse, io_stat_garbage_is_ebadmsg)
{
	cg_stats st = {0};

	cr_expect_eq(cg_stats_parse("io.stat", "8:0 rbytes=x wbytes=1\n", &st), -EBADMSG);
}

Test(cg_stats_parse, events_populated_and_frozen)
{
	cg_stats st = {0};

	cr_assert_eq(cg_stats_parse("cgroup.events", "populated 1\nfrozen 1\n", &st), 0);
	cr_expect(st.populated);
	cr_expect(st.frozen);
	cr_assert_eq(cg_stats_parse("cgroup.events", "populated 0\n", &st), 0);
	cr_expect(!st.populated);
	cr_expect(!st.frozen, "no frozen line (before 5.2): not frozen");
	cr_expect_eq(cg_stats_parse("cgroup.events", "frozen 1\n", &st), -EBADMSG);
}

/* --- reading a fake cgroup tree ------------------------------------------------ */

/* Write a whole fixture file (write_file_at neither creates nor truncates). */
static void put(int dirfd, const char *name, const char *text)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "create %s", name);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text), "write %s", name);
}

static int make_dir(char *tmpl)
{
	int fd;

	cr_assert_not_null(mkdtemp(tmpl));
	fd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	return fd;
}

Test(cg_stats_read, a_hybrid_host_cgroup_has_cpu_usage_only)
{
	/* This dev host: only cgroup.events and cpu.stat (no controllers in v2). */
	char dir[] = "/tmp/berth-cgstats-XXXXXX";
	_cleanup_close_ int fd = make_dir(dir);
	cg_stats st;

	put(fd, "cgroup.events", "populated 1\nfrozen 0\n");
	put(fd, "cpu.stat", "usage_usec 900\nuser_usec 600\nsystem_usec 300\n");
	cr_assert_eq(cg_stats_read(fd, &st), 0);
	cr_expect_eq(st.have, CG_HAVE_CPU_USAGE);
	cr_expect(st.populated);
	cr_expect_eq(st.cpu_usage_usec, 900);
	cr_expect_eq(st.memory_current, 0);
	cr_expect_eq(st.pids_current, 0);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_stats_read, a_full_v2_cgroup_before_5_19_has_no_peak)
{
	char dir[] = "/tmp/berth-cgstats-XXXXXX";
	_cleanup_close_ int fd = make_dir(dir);
	cg_stats st;

	put(fd, "cgroup.events", "populated 1\nfrozen 1\n");
	put(fd, "cpu.stat", cpu_stat_full);
	put(fd, "memory.current", "33554432\n");
	put(fd, "memory.max", "67108864\n");
	put(fd, "memory.swap.current", "0\n");
	put(fd, "memory.swap.max", "max\n");
	put(fd, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
	put(fd, "pids.current", "5\n");
	put(fd, "pids.max", "20\n");
	put(fd, "io.stat", "254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
	cr_assert_eq(cg_stats_read(fd, &st), 0);
	cr_expect_eq(st.have, (CG_HAVE_IO << 1) - 1 - CG_HAVE_MEMORY_PEAK);
	cr_expect(st.frozen);
	cr_expect_eq(st.memory_current, 33554432);
	cr_expect_eq(st.memory_peak, 0);
	cr_expect_eq(st.memory_max, 67108864);
	cr_expect_eq(st.swap_max, CG_UNLIMITED);
	cr_expect_eq(st.oom_kill, 1);
	cr_expect_eq(st.pids_current, 5);
	cr_expect_eq(st.pids_max, 20);
	cr_expect_eq(st.io_rbytes, 100);
	cr_expect_eq(st.io_wios, 2);
	put(fd, "memory.peak", "40000000\n");
	cr_assert_eq(cg_stats_read(fd, &st), 0);
	cr_expect(st.have & CG_HAVE_MEMORY_PEAK);
	cr_expect_eq(st.memory_peak, 40000000);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_stats_read, a_long_io_stat_is_read_whole)
{
	/* More devices than one 4 KiB read holds: every line still counts. */
	char dir[] = "/tmp/berth-cgstats-XXXXXX";
	_cleanup_close_ int fd = make_dir(dir);
	_cleanup_free_ char *text = calloc(200, 80);
	cg_stats st;

	cr_assert_not_null(text);
	for (int i = 0; i < 200; i++)
		sprintf(text + strlen(text),
			"8:%d rbytes=10 wbytes=1 rios=1 wios=1 dbytes=0 dios=0\n", i);
	cr_assert_gt(strlen(text), 4096);
	put(fd, "cgroup.events", "populated 1\nfrozen 0\n");
	put(fd, "io.stat", text);
	cr_assert_eq(cg_stats_read(fd, &st), 0);
	cr_expect_eq(st.io_rbytes, 2000);
	cr_expect_eq(st.io_rios, 200);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_stats_read, a_gone_cgroup_is_enoent_and_garbage_is_an_error)
{
	char dir[] = "/tmp/berth-cgstats-XXXXXX";
	_cleanup_close_ int fd = make_dir(dir);
	cg_stats st = {.have = 77};

	cr_expect_eq(cg_stats_read(fd, &st), -ENOENT, "no cgroup.events: not a cgroup (gone)");
	cr_expect_eq(st.have, 77, "ret written only on success");
	put(fd, "cgroup.events", "populated 1\n");
	put(fd, "pids.current", "lots\n");
	cr_expect_eq(cg_stats_read(fd, &st), -EBADMSG);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_freeze, freeze_of_an_empty_fake_cgroup_returns_at_once)
{
	/* A regular file cannot raise POLLPRI; an empty cgroup needs no wait. */
	char dir[] = "/tmp/berth-cgstats-XXXXXX";
	_cleanup_close_ int fd = make_dir(dir);
	_cleanup_free_ char *v = NULL;

	put(fd, "cgroup.freeze", "0\n");
	put(fd, "cgroup.events", "populated 0\nfrozen 0\n");
	cr_expect_eq(cg_freeze(fd, true, 1000), 0);
	cr_assert_eq(read_file_at(fd, "cgroup.freeze", &v, NULL), 0);
	cr_expect_eq(v[0], '1', "cgroup.freeze holds %s", v);
	put(fd, "cgroup.events", "populated 1\nfrozen 0\n");
	cr_expect_eq(cg_freeze(fd, true, 50), -ETIMEDOUT, "never says frozen: times out");
	cr_expect_eq(cg_is_frozen(fd), 0);
	put(fd, "cgroup.events", "populated 1\nfrozen 1\n");
	cr_expect_eq(cg_is_frozen(fd), 1);
	cr_expect_eq(cg_freeze(fd, false, 50), -ETIMEDOUT);
	rm_rf_at(AT_FDCWD, dir);
}
