/* SPDX-License-Identifier: MIT */
/* Limit sets: parsing and its errors, formatting, merging, rendering into a fake cgroup tree. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroups.h"

static cg_limits parsed(cg_limit_key k, const char *value)
{
	cg_limits l = {0};
	berr e = {0};

	cr_assert_eq(cg_limits_parse(&l, k, value, &e), 0, "%s %s: %s", cg_limit_option(k), value,
		     e.msg);
	cr_assert(cg_limits_has(&l, k));
	return l;
}

/* The error for one bad value; l must stay as it was. */
static void refused(cg_limit_key k, const char *value, const char *msg)
{
	cg_limits l = {0}, before;
	berr e = {0};

	l.value[CG_PIDS] = 7;
	l.set = 1u << CG_PIDS;
	before = l;
	cr_assert_lt(cg_limits_parse(&l, k, value, &e), 0, "%s \"%s\" was taken",
		     cg_limit_option(k), value);
	cr_expect_str_eq(e.msg, msg);
	cr_expect(memcmp(&l, &before, sizeof(l)) == 0, "%s \"%s\" changed the set on failure",
		  cg_limit_option(k), value);
}

static const char *formatted(const cg_limits *l, cg_limit_key k)
{
	static char buf[512];

	cr_assert_eq(cg_limits_format(l, k, buf, sizeof(buf)), 0);
	return buf;
}

Test(cg_limits_parse, cpus_are_a_quota_per_100ms_period)
{
	cr_expect_eq(parsed(CG_CPUS, "1.5").value[CG_CPUS], 150000);
	cr_expect_eq(parsed(CG_CPUS, "0.5").value[CG_CPUS], 50000);
	cr_expect_eq(parsed(CG_CPUS, "2").value[CG_CPUS], 200000);
	cr_expect_eq(parsed(CG_CPUS, "0.01").value[CG_CPUS], 1000);
	cr_expect_eq(parsed(CG_CPUS, ".25").value[CG_CPUS], 25000);
	cr_expect_eq(parsed(CG_CPUS, "0.123450").value[CG_CPUS], 12345);
	cr_expect_eq(parsed(CG_CPUS, "max").value[CG_CPUS], CG_MAX);
	cr_expect_eq(parsed(CG_CPUS, "4096").value[CG_CPUS], 409600000);
}

Test(cg_limits_parse, bad_cpus)
{
	refused(CG_CPUS, "1.5x",
		"cpu limit \"1.5x\": not a number of CPUs (use a number of CPUs "
		"from 0.01 to 4096, e.g. 1.5, or max)");
	refused(CG_CPUS, "",
		"cpu limit \"\": not a number of CPUs (use a number of CPUs from 0.01 "
		"to 4096, e.g. 1.5, or max)");
	refused(CG_CPUS, "-1",
		"cpu limit \"-1\": not a number of CPUs (use a number of CPUs from "
		"0.01 to 4096, e.g. 1.5, or max)");
	refused(CG_CPUS, "0.001",
		"cpu limit \"0.001\": out of range (use a number of CPUs from "
		"0.01 to 4096, e.g. 1.5, or max)");
	refused(CG_CPUS, "0",
		"cpu limit \"0\": out of range (use a number of CPUs from 0.01 to "
		"4096, e.g. 1.5, or max)");
	refused(CG_CPUS, "4097",
		"cpu limit \"4097\": out of range (use a number of CPUs from 0.01 "
		"to 4096, e.g. 1.5, or max)");
	refused(CG_CPUS, "0.000001",
		"cpu limit \"0.000001\": out of range (use a number of CPUs "
		"from 0.01 to 4096, e.g. 1.5, or max)");
}

Test(cg_limits_parse, sizes_take_human_units)
{
	cr_expect_eq(parsed(CG_MEMORY, "512M").value[CG_MEMORY], 512ull << 20);
	cr_expect_eq(parsed(CG_MEMORY, "1.5G").value[CG_MEMORY], 3ull << 29);
	cr_expect_eq(parsed(CG_MEMORY, "max").value[CG_MEMORY], CG_MAX);
	cr_expect_eq(parsed(CG_MEMORY_HIGH, "384MiB").value[CG_MEMORY_HIGH], 384ull << 20);
	cr_expect_eq(parsed(CG_SWAP, "0").value[CG_SWAP], 0);
	cr_expect_eq(parsed(CG_SWAP, "256M").value[CG_SWAP], 256ull << 20);
}

Test(cg_limits_parse, bad_sizes)
{
	refused(CG_MEMORY, "12X", "memory limit \"12X\": not a size (use e.g. 512M, 2G, or max)");
	refused(CG_MEMORY, "-1G", "memory limit \"-1G\": not a size (use e.g. 512M, 2G, or max)");
	refused(CG_MEMORY, "4K",
		"memory limit \"4K\": too small: at least 1M (use e.g. 512M, 2G, or max)");
	refused(CG_MEMORY, "99999999E",
		"memory limit \"99999999E\": too large (use e.g. 512M, 2G, or max)");
	refused(CG_MEMORY_HIGH, "lots",
		"memory high limit \"lots\": not a size (use e.g. 384M, 1.5G, or max)");
	refused(CG_SWAP, "1Q", "swap limit \"1Q\": not a size (use e.g. 0, 256M, 1G, or max)");
}

Test(cg_limits_parse, weights_and_pids)
{
	cr_expect_eq(parsed(CG_CPU_WEIGHT, "1").value[CG_CPU_WEIGHT], 1);
	cr_expect_eq(parsed(CG_CPU_WEIGHT, "10000").value[CG_CPU_WEIGHT], 10000);
	cr_expect_eq(parsed(CG_IO_WEIGHT, "500").value[CG_IO_WEIGHT], 500);
	cr_expect_eq(parsed(CG_PIDS, "20").value[CG_PIDS], 20);
	cr_expect_eq(parsed(CG_PIDS, "max").value[CG_PIDS], CG_MAX);
	refused(CG_CPU_WEIGHT, "0",
		"cpu weight \"0\": out of range (use 1 to 10000; the default is 100)");
	refused(CG_CPU_WEIGHT, "10001",
		"cpu weight \"10001\": out of range (use 1 to 10000; the default is 100)");
	refused(CG_CPU_WEIGHT, "max",
		"cpu weight \"max\": not a number (use 1 to 10000; the default is 100)");
	refused(CG_IO_WEIGHT, "1.5",
		"io weight \"1.5\": not a number (use 1 to 10000; the default is 100)");
	refused(CG_PIDS, "0", "pids limit \"0\": out of range (use 1 to 4194304, or max)");
	refused(CG_PIDS, "4194305",
		"pids limit \"4194305\": out of range (use 1 to 4194304, or max)");
	refused(CG_PIDS, "20k", "pids limit \"20k\": not a number (use 1 to 4194304, or max)");
}

Test(cg_limits_parse, cpuset_lists)
{
	cr_expect_str_eq(parsed(CG_CPUSET, "0-1,3").cpuset, "0-1,3");
	cr_expect_str_eq(parsed(CG_CPUSET, "1").cpuset, "1");
	cr_expect_str_eq(parsed(CG_CPUSET, "0,2-5,7").cpuset, "0,2-5,7");
	cr_expect_str_eq(parsed(CG_CPUSET, "all").cpuset, "");
	static const char *const bad[] = {"", "1-0", "a", "0,,1", "0-", "-1", "1,", "0 1", "8192"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "cpuset \"%s\": not a CPU list (use a CPU list such as 0-1,3, or all)",
			 bad[i]);
		refused(CG_CPUSET, bad[i], msg);
	}
}

Test(cg_limits_parse, io_rates_by_maj_min)
{
	cg_limits l = parsed(CG_IO_READ_BPS, "254:16=4M");
	berr e = {0};

	cr_assert_eq(l.n_io, 1);
	cr_expect_eq(l.io[0].major, 254);
	cr_expect_eq(l.io[0].minor, 16);
	cr_expect_eq(l.io[0].rate[0], 4u << 20);
	cr_expect_eq(l.io[0].rate[1], 0);
	/* Another rate of the same disk updates its entry; another disk adds one. */
	cr_assert_eq(cg_limits_parse(&l, CG_IO_WRITE_IOPS, "254:16=500 8:0=max", &e), 0, "%s",
		     e.msg);
	cr_assert_eq(l.n_io, 2);
	cr_expect_eq(l.io[0].rate[3], 500);
	cr_expect_eq(l.io[1].major, 8);
	cr_expect_eq(l.io[1].rate[3], CG_MAX);
	cr_expect(cg_limits_has(&l, CG_IO_READ_BPS) && cg_limits_has(&l, CG_IO_WRITE_IOPS));
}

Test(cg_limits_parse, bad_io_rates)
{
	const char *bps = "(use DEV=RATE, e.g. /dev/vdb=10M or 254:16=512K, or DEV=max)";
	const char *iops = "(use DEV=IOPS, e.g. /dev/vdb=500 or 254:16=500, or DEV=max)";
	char msg[256];

	snprintf(msg, sizeof(msg), "io read limit \"254:16\": not DEV=RATE %s", bps);
	refused(CG_IO_READ_BPS, "254:16", msg);
	snprintf(msg, sizeof(msg), "io read limit \"=4M\": not DEV=RATE %s", bps);
	refused(CG_IO_READ_BPS, "=4M", msg);
	snprintf(msg, sizeof(msg),
		 "io write limit \"254:16=fast\": the rate is not a size in "
		 "bytes per second %s",
		 bps);
	refused(CG_IO_WRITE_BPS, "254:16=fast", msg);
	snprintf(msg, sizeof(msg), "io read limit \"254:16=0\": a rate of 0 would stop all io %s",
		 bps);
	refused(CG_IO_READ_BPS, "254:16=0", msg);
	snprintf(msg, sizeof(msg),
		 "io read iops limit \"8:0=1k\": the rate is not a number of "
		 "operations per second %s",
		 iops);
	refused(CG_IO_READ_IOPS, "8:0=1k", msg);
	snprintf(msg, sizeof(msg),
		 "io read limit \"vdb=1M\": the device is neither a path nor "
		 "MAJ:MIN %s",
		 bps);
	refused(CG_IO_READ_BPS, "vdb=1M", msg);
	/* A path is resolved with stat(): it must be a block device. */
	snprintf(msg, sizeof(msg), "io read limit \"/dev/null=1M\": not a block device %s", bps);
	refused(CG_IO_READ_BPS, "/dev/null=1M", msg);
	refused(CG_IO_READ_BPS, "/nonexistent/berth-disk=1M",
		"io read limit \"/nonexistent/berth-disk=1M\": /nonexistent/berth-disk: No such "
		"file or directory");
	/* All or none: one bad item of several keeps the good ones out too. */
	snprintf(msg, sizeof(msg),
		 "io read limit \"8:16=x\": the rate is not a size in bytes "
		 "per second %s",
		 bps);
	refused(CG_IO_READ_BPS, "8:0=1M 8:16=x", msg);
}

Test(cg_limits_parse, too_many_io_devices)
{
	cg_limits l = {0};
	berr e = {0};
	char dev[32];

	for (int i = 0; i < CG_IO_DEVICES_MAX; i++) {
		snprintf(dev, sizeof(dev), "8:%d=1M", i * 16);
		cr_assert_eq(cg_limits_parse(&l, CG_IO_READ_BPS, dev, &e), 0, "%s", e.msg);
	}
	cr_expect_lt(cg_limits_parse(&l, CG_IO_READ_BPS, "9:0=1M", &e), 0);
	cr_expect_str_eq(e.msg, "io read limit \"9:0=1M\": more than 16 devices");
}

Test(cg_limit_key, options_by_name)
{
	cg_limit_key k;

	cr_expect_eq(cg_limit_key_parse("memory-high", &k), 0);
	cr_expect_eq(k, CG_MEMORY_HIGH);
	cr_expect_eq(cg_limit_key_parse("io_write_iops", &k), 0);
	cr_expect_eq(k, CG_IO_WRITE_IOPS);
	cr_expect_eq(cg_limit_key_parse("memory.max", &k), -EINVAL);
	cr_expect_str_eq(cg_limit_option(CG_SWAP), "swap");
	cr_expect_null(cg_limit_option(CG_LIMIT_KEYS));
}

Test(cg_limits_format, canonical_values_parse_back)
{
	static const struct {
		cg_limit_key k;
		const char *in, *out;
	} cases[] = {
		{CG_CPUS, "1.5", "1.5"},
		{CG_CPUS, "0.50", "0.5"},
		{CG_CPUS, "2", "2"},
		{CG_CPUS, "0.12345", "0.12345"},
		{CG_CPUS, "max", "max"},
		{CG_MEMORY, "512M", "512M"},
		{CG_MEMORY, "1024M", "1G"},
		{CG_MEMORY, "1.5G", "1536M"},
		{CG_MEMORY, "1048577", "1048577"},
		{CG_SWAP, "0", "0"},
		{CG_PIDS, "20", "20"},
		{CG_PIDS, "max", "max"},
		{CG_CPUSET, "0-1,3", "0-1,3"},
		{CG_CPUSET, "all", "all"},
		{CG_CPU_WEIGHT, "250", "250"},
		{CG_IO_READ_BPS, "8:0=1024K 8:16=max", "8:0=1M 8:16=max"},
		{CG_IO_READ_IOPS, "8:0=500", "8:0=500"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cg_limits l = parsed(cases[i].k, cases[i].in), back = {0};
		berr e = {0};
		const char *s = formatted(&l, cases[i].k);

		cr_expect_str_eq(s, cases[i].out, "%s %s", cg_limit_option(cases[i].k),
				 cases[i].in);
		cr_assert_eq(cg_limits_parse(&back, cases[i].k, s, &e), 0, "%s", e.msg);
		cr_expect_str_eq(formatted(&back, cases[i].k), cases[i].out);
	}
	cg_limits none = {0};
	cr_expect_str_eq(formatted(&none, CG_MEMORY), "");
}

Test(cg_limits_merge, changes_replace_and_io_merges_per_rate)
{
	cg_limits l = parsed(CG_MEMORY, "1G"), ch = parsed(CG_MEMORY, "512M");
	berr e = {0};

	cr_assert_eq(cg_limits_parse(&l, CG_PIDS, "100", &e), 0);
	cr_assert_eq(cg_limits_parse(&l, CG_IO_READ_BPS, "8:0=1M", &e), 0);
	cr_assert_eq(cg_limits_parse(&ch, CG_IO_WRITE_BPS, "8:0=2M 8:16=3M", &e), 0);
	cr_assert_eq(cg_limits_merge(&l, &ch), 0);
	cr_expect_eq(l.value[CG_MEMORY], 512u << 20);
	cr_expect_eq(l.value[CG_PIDS], 100);
	cr_assert_eq(l.n_io, 2);
	cr_expect_eq(l.io[0].rate[0], 1u << 20);
	cr_expect_eq(l.io[0].rate[1], 2u << 20);
	cr_expect_eq(l.io[1].rate[1], 3u << 20);
	cr_expect(cg_limits_has(&l, CG_IO_READ_BPS) && cg_limits_has(&l, CG_IO_WRITE_BPS) &&
		  cg_limits_has(&l, CG_PIDS));
	cr_expect_eq(cg_limits_controllers(&l), CG_CTRL_MEMORY | CG_CTRL_PIDS | CG_CTRL_IO);
}

/* Every limit at once: the set a test renders. */
static cg_limits every_limit(void)
{
	static const struct {
		cg_limit_key k;
		const char *v;
	} all[] = {
		{CG_CPUS, "1.5"},
		{CG_CPU_WEIGHT, "200"},
		{CG_CPUSET, "0-1,3"},
		{CG_MEMORY, "512M"},
		{CG_MEMORY_HIGH, "384M"},
		{CG_SWAP, "0"},
		{CG_PIDS, "100"},
		{CG_IO_WEIGHT, "50"},
		{CG_IO_READ_BPS, "254:16=4M"},
		{CG_IO_WRITE_BPS, "8:0=max"},
		{CG_IO_READ_IOPS, "254:16=500"},
		{CG_IO_WRITE_IOPS, "254:16=200"},
	};
	cg_limits l = {0};
	berr e = {0};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		cr_assert_eq(cg_limits_parse(&l, all[i].k, all[i].v, &e), 0, "%s", e.msg);
	return l;
}

Test(cg_limits_render, files_and_exact_contents)
{
	cg_limits l = every_limit();
	cg_write w[CG_WRITES_MAX];
	static const char *const want[][2] = {
		{"cpu.max", "150000 100000"},
		{"cpu.weight", "200"},
		{"cpuset.cpus", "0-1,3"},
		{"memory.max", "536870912"},
		{"memory.high", "402653184"},
		{"memory.swap.max", "0"},
		{"pids.max", "100"},
		{"io.weight", "default 50"},
		{"io.max", "254:16 rbps=4194304 wbps=max riops=500 wiops=200"},
		{"io.max", "8:0 rbps=max wbps=max riops=max wiops=max"},
	};
	int n = cg_limits_render(&l, w, ARRAY_SIZE(w));

	cr_assert_eq(n, (int)ARRAY_SIZE(want));
	for (int i = 0; i < n; i++) {
		cr_expect_str_eq(w[i].file, want[i][0]);
		cr_expect_str_eq(w[i].content, want[i][1], "%s", w[i].file);
	}
	cr_expect_eq(cg_limits_render(&l, w, 3), -ENOSPC);

	cg_limits m = parsed(CG_CPUS, "max");
	cr_assert_eq(cg_limits_render(&m, w, ARRAY_SIZE(w)), 1);
	cr_expect_str_eq(w[0].content, "max 100000");
}

/* A fake cgroup: a temp dir holding the given files with the given contents. */
static int fake_cgroup(char *dir, const char *const files[][2], size_t n)
{
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	for (size_t i = 0; i < n; i++) {
		int f = openat(fd, files[i][0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		cr_assert_geq(f, 0, "%s", files[i][0]);
		cr_assert_eq(write(f, files[i][1], strlen(files[i][1])),
			     (ssize_t)strlen(files[i][1]));
		close(f);
	}
	return fd;
}

/* The file's exact content is want (the read buffer is freed: the sanitizer build checks leaks). */
static void expect_content(int dirfd, const char *file, const char *want)
{
	_cleanup_free_ char *buf = NULL;

	cr_assert_eq(read_file_at(dirfd, file, &buf, NULL), 0, "%s", file);
	cr_expect_str_eq(buf, want, "%s", file);
}

static const char *const kernel_defaults[][2] = {
	{"cpu.max", "max 100000\n"},
	{"cpu.weight", "100\n"},
	{"cpuset.cpus", "\n"},
	{"memory.max", "max\n"},
	{"memory.high", "max\n"},
	{"memory.swap.max", "max\n"},
	{"pids.max", "max\n"},
	{"io.weight", "default 100\n"},
	{"io.max", "8:0 rbps=1048576 wbps=max riops=max wiops=max\n"},
};

Test(cg_limits_write, into_a_fake_tree_with_undo)
{
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, kernel_defaults, ARRAY_SIZE(kernel_defaults));
	cg_limits l = every_limit();
	cg_undo undo;
	berr e = {0};

	l.n_io = 1; /* a plain file keeps only the last io.max write: one disk */
	cr_assert_eq(cg_limits_write(fd, &l, &undo, &e), 0, "%s", e.msg);
	expect_content(fd, "cpu.max", "150000 100000");
	expect_content(fd, "cpu.weight", "200");
	expect_content(fd, "cpuset.cpus", "0-1,3");
	expect_content(fd, "memory.max", "536870912");
	expect_content(fd, "memory.high", "402653184");
	expect_content(fd, "memory.swap.max", "0");
	expect_content(fd, "pids.max", "100");
	expect_content(fd, "io.weight", "default 50");
	expect_content(fd, "io.max", "254:16 rbps=4194304 wbps=max riops=500 wiops=200");
	/* The old contents, as writes that put them back. */
	cr_assert_eq(undo.n, 9);
	cr_expect_str_eq(undo.saved[0].file, "cpu.max");
	cr_expect_str_eq(undo.saved[0].content, "max 100000");
	cr_expect_str_eq(undo.saved[2].content, "");
	/* io.max: the old line of that disk, or all max when it had none. */
	cr_expect_str_eq(undo.saved[8].content, "254:16 rbps=max wbps=max riops=max wiops=max");
	cr_assert_eq(cg_undo_apply(fd, &undo), 0);
	expect_content(fd, "cpu.max", "max 100000");
	expect_content(fd, "cpuset.cpus", "\n"); /* an empty list is written as "\n" */
	expect_content(fd, "memory.max", "max");
	expect_content(fd, "io.weight", "default 100");
	close(fd);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_limits_write, io_undo_keeps_the_disks_old_line)
{
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, kernel_defaults, ARRAY_SIZE(kernel_defaults));
	cg_limits l = parsed(CG_IO_WRITE_BPS, "8:0=2M");
	cg_undo undo;
	berr e = {0};

	cr_assert_eq(cg_limits_write(fd, &l, &undo, &e), 0, "%s", e.msg);
	expect_content(fd, "io.max", "8:0 rbps=max wbps=2097152 riops=max wiops=max");
	cr_assert_eq(undo.n, 1);
	cr_expect_str_eq(undo.saved[0].content, "8:0 rbps=1048576 wbps=max riops=max wiops=max");
	close(fd);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_limits_write, failure_puts_back_what_was_written)
{
	/* No pids.max: the pids controller is off. What came before it is put back. */
	static const char *const files[][2] = {
		{"cpu.max", "max 100000\n"},
		{"memory.max", "max\n"},
	};
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, files, ARRAY_SIZE(files));
	cg_limits l = parsed(CG_CPUS, "0.5");
	berr e = {0};

	cr_assert_eq(cg_limits_parse(&l, CG_MEMORY, "64M", &e), 0);
	cr_assert_eq(cg_limits_parse(&l, CG_PIDS, "20", &e), 0);
	cr_expect_eq(cg_limits_write(fd, &l, NULL, &e), -ENOENT);
	cr_expect_str_eq(e.msg,
			 "pids.max is missing: its controller is not enabled for this cgroup");
	expect_content(fd, "cpu.max", "max 100000");
	expect_content(fd, "memory.max", "max");
	close(fd);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_limits_write, missing_swap_file_says_why)
{
	static const char *const files[][2] = {{"memory.max", "max\n"}};
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, files, ARRAY_SIZE(files));
	cg_limits l = parsed(CG_SWAP, "0");
	berr e = {0};

	cr_expect_eq(cg_limits_write(fd, &l, NULL, &e), -ENOENT);
	cr_expect_str_eq(e.msg, "memory.swap.max is missing: this kernel does not account swap "
				"(boot with swapaccount=1), so --swap cannot be enforced");
	close(fd);
	rm_rf_at(AT_FDCWD, dir);
}

static const char proc_cgroups_hybrid[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
					  "cpuset\t3\t1\t1\n"
					  "cpu\t1\t1\t1\n"
					  "blkio\t7\t1\t1\n"
					  "memory\t4\t17\t1\n"
					  "hugetlb\t0\t3\t1\n"
					  "pids\t0\t3\t0\n";

static char *write_temp(const char *text)
{
	char *p = strdup("/tmp/berth-proc-cgroups-XXXXXX");
	int fd = mkstemp(p);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return p;
}

Test(cg_controllers_check, hybrid_host_names_controller_reason_and_option)
{
	static const char *const files[][2] = {{"cgroup.controllers", "hugetlb\n"}};
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, files, ARRAY_SIZE(files));
	_cleanup_free_ char *proc = write_temp(proc_cgroups_hybrid);
	cg_limits l = parsed(CG_MEMORY, "64M");
	berr e = {0};

	cr_expect_eq(cg_controllers_check(fd, proc, &l, &e), -EOPNOTSUPP);
	cr_expect_str_eq(e.msg, "this host's cgroup2 offers only hugetlb: memory is bound to a "
				"cgroup v1 hierarchy (a hybrid host; boot with "
				"systemd.unified_cgroup_hierarchy=1 for a pure cgroup v2 host); "
				"berth cannot enforce --memory here");
	l = parsed(CG_IO_READ_BPS, "8:0=1M");
	cr_expect_lt(cg_controllers_check(fd, proc, &l, &e), 0);
	cr_expect(strstr(e.msg, ": io is bound to a cgroup v1 hierarchy") != NULL, "%s", e.msg);
	cr_expect(strstr(e.msg, "--io-read-bps here") != NULL, "%s", e.msg);
	l = parsed(CG_PIDS, "20");
	cr_expect_lt(cg_controllers_check(fd, proc, &l, &e), 0);
	cr_expect(strstr(e.msg, ": pids is disabled on the kernel command line") != NULL, "%s",
		  e.msg);
	l = (cg_limits){0};
	cr_expect_eq(cg_controllers_check(fd, proc, &l, &e), 0);
	unlink(proc);
	close(fd);
	rm_rf_at(AT_FDCWD, dir);
}

Test(cg_controllers_check, pure_v2_host_passes)
{
	static const char *const files[][2] = {
		{"cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"}};
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, files, ARRAY_SIZE(files));
	cg_limits l = every_limit();
	berr e = {0};

	cr_expect_eq(cg_controllers_check(fd, "/nonexistent", &l, &e), 0, "%s", e.msg);
	/* "cpu" is not found inside "cpuset". */
	static const char *const only_cpuset[][2] = {{"cgroup.controllers", "cpuset memory\n"}};
	char dir2[] = "/tmp/berth-cg-XXXXXX";
	int fd2 = fake_cgroup(dir2, only_cpuset, 1);
	l = parsed(CG_CPUS, "1");
	cr_expect_lt(cg_controllers_check(fd2, NULL, &l, &e), 0);
	cr_expect_str_eq(e.msg, "this host's cgroup2 offers only cpuset memory: cpu is not offered "
				"by cgroup2; berth cannot enforce --cpus here");
	close(fd);
	close(fd2);
	rm_rf_at(AT_FDCWD, dir);
	rm_rf_at(AT_FDCWD, dir2);
}

Test(cg_controllers_enable, only_the_needed_ones_root_and_parent)
{
	static const char *const files[][2] = {{"cgroup.subtree_control", ""}};
	char dir[] = "/tmp/berth-cg-XXXXXX";
	int fd = fake_cgroup(dir, files, ARRAY_SIZE(files));
	cg_limits l = parsed(CG_MEMORY, "64M");
	berr e = {0};
	int berth;

	cr_assert_eq(cg_limits_parse(&l, CG_CPUS, "0.5", &e), 0);
	cr_assert_eq(mkdirat(fd, "berth", 0755), 0);
	berth = openat(fd, "berth/cgroup.subtree_control", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(berth, 0);
	close(berth);
	cr_assert_eq(cg_controllers_enable(fd, "berth", &l, &e), 0, "%s", e.msg);
	expect_content(fd, "cgroup.subtree_control", "+cpu +memory");
	expect_content(fd, "berth/cgroup.subtree_control", "+cpu +memory");
	close(fd);
	rm_rf_at(AT_FDCWD, dir);
}
