/* SPDX-License-Identifier: MIT */
/* berth set: change an instance's limits, live when it runs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ipam.h"

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
	"  --net-rate RATE       network bandwidth both ways, e.g. 100mbit, 1gbit (0: none)\n"
	"  --net-rate-in RATE    towards the instance   --net-rate-out RATE  from it\n"
	"  --disk SIZE           grow the disk of an instance made with --disk (online\n"
	"                        when it runs); shrinking is refused\n"
	"\n"
	"See docs/LIMITS.md, docs/NETWORK.md and docs/STORAGE.md.\n";

/* --net-rate*: set live on the host-side link (netns_set_rate), not in the cgroup. */
typedef struct rate_opts {
	bool set_in, set_out;
	uint64_t in, out;
} rate_opts;

enum { O_NET_RATE = 256, O_NET_RATE_IN, O_NET_RATE_OUT };

static int rate_opt(int c, const char *value, rate_opts *r, berr *err)
{
	uint64_t v;
	int ret = net_rate_parse(value, &v, err);

	if (ret < 0) {
		berr_prefix(err, "%s",
			    c == O_NET_RATE      ? "--net-rate"
			    : c == O_NET_RATE_IN ? "--net-rate-in"
						 : "--net-rate-out");
		return ret;
	}
	if (c != O_NET_RATE_OUT)
		r->set_in = true, r->in = v;
	if (c != O_NET_RATE_IN)
		r->set_out = true, r->out = v;
	return 0;
}

#define O_LIMIT 512
#define O_DISK 1024

static int set_parse(int argc, char **argv, cg_limits *l, rate_opts *rates, uint64_t *disk,
		     const char **name, berr *err)
{
	struct option opts[CG_LIMIT_KEYS + 6] = {{0}};
	int c, n = 0;

	for (int k = 0; k < CG_LIMIT_KEYS; k++, n++)
		opts[n] = (struct option){cg_limit_option((cg_limit_key)k), required_argument, NULL,
					  O_LIMIT + k};
	opts[n++] = (struct option){"net-rate", required_argument, NULL, O_NET_RATE};
	opts[n++] = (struct option){"net-rate-in", required_argument, NULL, O_NET_RATE_IN};
	opts[n++] = (struct option){"net-rate-out", required_argument, NULL, O_NET_RATE_OUT};
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
		int r = c < O_LIMIT ? rate_opt(c, optarg, rates, err)
				    : cg_limits_parse(l, (cg_limit_key)(c - O_LIMIT), optarg, err);
		if (r < 0)
			return r;
	}
	if (optind >= argc)
		return berr_setx(err, EINVAL,
				 "no instance name given (berth set NAME --memory 1G ...)");
	if (optind + 1 < argc)
		return berr_setx(err, EINVAL, "unexpected argument '%s'", argv[optind + 1]);
	*name = argv[optind];
	if (!l->set && !rates->set_in && !rates->set_out && !*disk)
		return berr_setx(err, EINVAL, "no limit given (see berth set --help)");
	return 0;
}

int cmd_set(const global_opts *g, int argc, char **argv)
{
	cg_limits l = {0};
	rate_opts rates = {0};
	uint64_t disk = 0;
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int r = set_parse(argc, argv, &l, &rates, &disk, &name, &err), rl = 0, rr = 0, rd = 0;

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, "set", &p, &err);
	if (r >= 0 && l.set)
		rl = r = instance_set(&p, name, &l, &err);
	if (r >= 0 && (rates.set_in || rates.set_out))
		rr = r = instance_set_rate(&p, name, rates.set_in, rates.in, rates.set_out,
					   rates.out, &err);
	if (r >= 0 && disk)
		rd = r = instance_set_disk(&p, name, disk, &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("set", name, &err);
	if (l.set)
		printf("%s: limits %s\n", name,
		       rl == 1 ? "applied and saved" : "saved (applied at the next start)");
	if (disk)
		printf("%s: disk %s\n", name,
		       rd == 1 ? "grown and saved" : "grown and saved (stopped)");
	if (rates.set_in || rates.set_out)
		printf("%s: network rate %s\n", name,
		       rr == 1 ? "applied and saved" : "saved (applied at the next start)");
	return 0;
}
