/* SPDX-License-Identifier: MIT */
/* berth set: change an instance's limits, live when it runs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char set_usage[] =
	"Usage: berth set NAME [LIMIT...]\n"
	"\n"
	"Change an instance's resource limits. A running instance gets them at once (in\n"
	"its cgroup); they are saved in its config and applied at every boot. All are\n"
	"checked first: on any failure nothing changes. The same options work with\n"
	"`berth create`. Sizes take K, M, G, T (binary); \"max\" lifts a limit.\n"
	"\n"
	"  --cpus N              CPU time, in CPUs (0.01-4096, e.g. 1.5): cpu.max\n"
	"  --cpu-weight W        CPU share under contention, 1-10000 (default 100): cpu.weight\n"
	"  --cpuset LIST         CPUs it may run on, e.g. 0-1,3 (or all): cpuset.cpus\n"
	"  --memory SIZE         hard memory limit, OOM kill above it: memory.max\n"
	"  --memory-high SIZE    memory above which it is throttled and reclaimed: memory.high\n"
	"  --swap SIZE           swap it may use (0: none): memory.swap.max\n"
	"  --pids N              processes and threads, 1-4194304: pids.max\n"
	"  --io-weight W         io share under contention, 1-10000: io.weight\n"
	"  --io-read-bps DEV=RATE    read bytes per second from a disk: io.max\n"
	"  --io-write-bps DEV=RATE   write bytes per second\n"
	"  --io-read-iops DEV=N      read operations per second\n"
	"  --io-write-iops DEV=N     write operations per second\n"
	"                        DEV: a block device path (/dev/vdb) or MAJ:MIN (254:16);\n"
	"                        repeat an io option for several disks\n"
	"  --disk SIZE           grow the disk of an instance made with --disk (online\n"
	"                        when it runs); shrinking is refused\n"
	"\n"
	"See docs/LIMITS.md.\n";

#define O_LIMIT 512
#define O_DISK 1024

static int set_parse(int argc, char **argv, cg_limits *l, uint64_t *disk, const char **name,
		     berr *err)
{
	struct option opts[CG_LIMIT_KEYS + 3] = {{0}};
	int c, n = 0;

	for (int k = 0; k < CG_LIMIT_KEYS; k++, n++)
		opts[n] = (struct option){cg_limit_option((cg_limit_key)k), required_argument, NULL,
					  O_LIMIT + k};
	opts[n++] = (struct option){"disk", required_argument, NULL, O_DISK};
	opts[n] = (struct option){"help", no_argument, NULL, 'h'};
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(set_usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':')
			return berr_setx(err, EINVAL, "%s '%s' (see berth set --help)",
					 c == ':' ? "missing value for" : "unknown option",
					 argv[optind - 1]);
		if (c == O_DISK) {
			if (parse_size(optarg, disk) < 0 || *disk == 0)
				return berr_setx(err, EINVAL,
						 "--disk \"%s\": not a size (use e.g. 20G)",
						 optarg);
			continue;
		}
		int r = cg_limits_parse(l, (cg_limit_key)(c - O_LIMIT), optarg, err);
		if (r < 0)
			return r;
	}
	if (optind >= argc)
		return berr_setx(err, EINVAL,
				 "no instance name given (berth set NAME --memory 1G ...)");
	if (optind + 1 < argc)
		return berr_setx(err, EINVAL, "unexpected argument '%s'", argv[optind + 1]);
	*name = argv[optind];
	if (!l->set && !*disk)
		return berr_setx(err, EINVAL, "no limit given (see berth set --help)");
	return 0;
}

int cmd_set(const global_opts *g, int argc, char **argv)
{
	cg_limits l = {0};
	uint64_t disk = 0;
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int r = set_parse(argc, argv, &l, &disk, &name, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, "set", &p, &err);
	if (r >= 0 && disk) {
		r = instance_set_disk(&p, name, disk, &err);
		if (r >= 0)
			printf("%s: disk %s\n", name,
			       r == 1 ? "grown and saved" : "grown and saved (stopped)");
	}
	if (r >= 0 && !l.set) {
		berth_paths_free(&p);
		return 0;
	}
	if (r >= 0)
		r = instance_set(&p, name, &l, &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("set", name, &err);
	printf("%s: limits %s\n", name,
	       r == 1 ? "applied and saved" : "saved (applied at the next start)");
	return 0;
}
