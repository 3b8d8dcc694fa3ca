/* SPDX-License-Identifier: MIT */
/* berth create, start, stop, restart, kill, delete, list, status. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

/* Each verb's options, before or after NAME. Returns 1 when --help was asked. */
static int getopt_verb(int argc, char **argv, const char *shortopts, const struct option *opts,
		       const char *usage, int (*on_opt)(int c, void *arg, berr *err), void *arg,
		       berr *err)
{
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':')
			return berr_setx(err, EINVAL, "%s '%s' (see berth %s --help)",
					 c == ':' ? "missing value for" : "unknown option",
					 argv[optind - 1], argv[0]);
		r = on_opt(c, arg, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The single NAME operand every instance verb takes. */
static int name_operand(int argc, char **argv, const char **ret, berr *err)
{
	if (optind >= argc)
		return berr_setx(err, EINVAL, "no instance name given (berth %s NAME)", argv[0]);
	if (optind + 1 < argc)
		return berr_setx(err, EINVAL, "unexpected argument '%s'", argv[optind + 1]);
	*ret = argv[optind];
	return 0;
}

int cli_signal_parse(const char *s, int *ret)
{
	uint32_t n;
	int sig;

	if (parse_u32(s, &n) >= 0) {
		if (n < 1 || n > (uint32_t)SIGRTMAX)
			return -EINVAL;
		*ret = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncasecmp(s, "RTMIN+", 6) == 0 && parse_u32(s + 6, &n) >= 0 &&
	    (int)n <= SIGRTMAX - SIGRTMIN) {
		*ret = SIGRTMIN + (int)n;
		return 0;
	}
	for (sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);

		if (abbrev && strcasecmp(s, abbrev) == 0) {
			*ret = sig;
			return 0;
		}
	}
	return -EINVAL;
}

static int signal_opt(const char *opt, const char *s, int *ret, berr *err)
{
	if (cli_signal_parse(s, ret) < 0)
		return berr_setx(err, EINVAL,
				 "%s \"%s\": not a signal (use e.g. TERM, SIGUSR2, "
				 "RTMIN+3 or 15)",
				 opt, s);
	return 0;
}

static const char create_usage[] =
	"Usage: berth create NAME [OPTIONS]\n"
	"\n"
	"Create an instance: a persistent machine whose root is its template below and a\n"
	"writable layer of its own above. NAME: 1-63 of a-z, 0-9 and '-'.\n"
	"\n"
	"Options:\n"
	"  --template NAME       template to boot (default: \"default\", busybox-based)\n"
	"  --hostname NAME       host name inside (default: the instance name)\n"
	"  --init PATH           init to run as PID 1 (default /sbin/init)\n"
	"  --init-flavour F      systemd, busybox, sysvinit, openrc or unknown (default:\n"
	"                        detected from the template's init)\n"
	"  --halt-signal SIG     signal that asks init to power off (default: the flavour's)\n"
	"  --reboot-signal SIG   signal that asks init to reboot (default: the flavour's)\n"
	"  --stop-timeout S      seconds `stop` waits for a clean shutdown (default 30)\n"
	"  --autostart           start at host boot (with the systemd units: berth enable)\n"
	"  --boot-order N        autostart order, 0-999 (default 0; see berth enable)\n"
	"  --boot-delay S        seconds before the next boot order starts (default 0)\n"
	"  --userns=host         no user namespace: root inside is host root (unsafe)\n"
	"  --idmap auto|BASE[:COUNT]  host ids the instance's ids map to: auto (default)\n"
	"                        takes the lowest free range of 65536 from the pool\n"
	"                        (1000000 upward, or user berth's /etc/subuid ranges); a\n"
	"                        BASE that overlaps another instance's range is refused\n"
	"  --disk SIZE           limit its disk (e.g. 20G), as `df /` inside shows; change\n"
	"                        it with berth set --disk (docs/STORAGE.md)\n"
	"  --shifted-copy        boot from a copy of the template owned by its id range\n"
	"                        (made once, cached) instead of an idmapped mount of it;\n"
	"                        chosen by itself where the file system cannot idmap\n"
	"  --disk-backend B      auto (default: project where the store's file system\n"
	"                        enforces project quotas, else image), project or image\n"
	"\n"
	"Network (defaults from /etc/berth/network.json; see docs/NETWORK.md):\n"
	"  --net MODE            routed, bridge or none (default: the network config's,\n"
	"                        routed without one)\n"
	"  --ip auto|ADDR/PREFIX an address (repeatable, IPv4 and IPv6); auto: the next free\n"
	"                        one of each pool family not given (default: auto)\n"
	"  --net-rate RATE       bandwidth both ways, e.g. 100mbit, 1gbit (0: unlimited)\n"
	"  --net-rate-in RATE    towards the instance   --net-rate-out RATE  from it\n"
	"  --no-antispoof        let it send from any address and MAC (unsafe: it can\n"
	"                        impersonate its neighbours)\n"
	"\n"
	"Limits (checked against this host now, applied at every boot; change them with\n"
	"berth set, which describes each):\n"
	"  --cpus N  --cpu-weight W  --cpuset LIST  --memory SIZE  --memory-high SIZE\n"
	"  --swap SIZE  --pids N  --io-weight W  --io-read-bps DEV=RATE\n"
	"  --io-write-bps DEV=RATE  --io-read-iops DEV=N  --io-write-iops DEV=N\n";

enum {
	O_TEMPLATE = 256,
	O_HOSTNAME,
	O_INIT,
	O_FLAVOUR,
	O_HALT,
	O_REBOOT,
	O_TIMEOUT,
	O_AUTOSTART,
	O_USERNS,
	O_IDMAP,
	O_FORCE,
	O_JSON,
	O_FOREGROUND,
	O_NET,
	O_IP,
	O_NET_RATE,
	O_NET_RATE_IN,
	O_NET_RATE_OUT,
	O_NO_ANTISPOOF,
	O_DISK,
	O_DISK_BACKEND,
	O_SHIFTED,
	O_WAIT_READY,
	O_BOOT_ORDER,
	O_BOOT_DELAY,
	O_LIMIT = 512 /* + cg_limit_key */
};

static int create_opt(int c, void *arg, berr *err)
{
	create_opts *o = arg;
	uint32_t n;

	switch (c) {
	case O_TEMPLATE:
		o->template = optarg;
		return 0;
	case O_HOSTNAME:
		o->hostname = optarg;
		return 0;
	case O_INIT:
		o->init = optarg;
		return 0;
	case O_FLAVOUR:
		o->flavour = optarg;
		return 0;
	case O_HALT:
		return signal_opt("--halt-signal", optarg, &o->halt_signal, err);
	case O_REBOOT:
		return signal_opt("--reboot-signal", optarg, &o->reboot_signal, err);
	case O_AUTOSTART:
		o->autostart = true;
		return 0;
	case O_BOOT_ORDER:
	case O_BOOT_DELAY:
		if (parse_u32(optarg, &n) < 0 ||
		    n > (c == O_BOOT_ORDER ? BOOT_ORDER_MAX : BOOT_DELAY_MAX))
			return berr_setx(err, EINVAL, "--boot-%s \"%s\": use 0 to %d",
					 c == O_BOOT_ORDER ? "order" : "delay", optarg,
					 c == O_BOOT_ORDER ? BOOT_ORDER_MAX : BOOT_DELAY_MAX);
		*(c == O_BOOT_ORDER ? &o->boot_order : &o->boot_delay) = n;
		return 0;
	case O_IDMAP:
		o->idmap_set = !str_eq(optarg, "auto");
		return o->idmap_set ? idmap_parse(optarg, &o->map, err) : 0;
	case O_SHIFTED:
		o->shifted_copy = true;
		return 0;
	case O_DISK_BACKEND:
		o->disk_backend = optarg;
		return 0;
	case O_DISK:
		if (parse_size(optarg, &o->disk) < 0 || o->disk == 0)
			return berr_setx(err, EINVAL, "--disk \"%s\": not a size (use e.g. 20G)",
					 optarg);
		return 0;
	case O_TIMEOUT:
		if (parse_u32(optarg, &n) < 0 || n == 0 || n > 86400)
			return berr_setx(err, EINVAL,
					 "--stop-timeout \"%s\": use 1 to 86400 seconds", optarg);
		o->stop_timeout = n;
		return 0;
	case O_NET:
		o->net_mode = optarg;
		return 0;
	case O_IP:
		if (o->n_ips >= ARRAY_SIZE(o->ips))
			return berr_setx(err, E2BIG, "--ip: at most %zu per instance",
					 ARRAY_SIZE(o->ips));
		o->ips[o->n_ips++] = optarg;
		return 0;
	case O_NET_RATE:
		o->net_rate_in = o->net_rate_out = optarg;
		return 0;
	case O_NET_RATE_IN:
		o->net_rate_in = optarg;
		return 0;
	case O_NET_RATE_OUT:
		o->net_rate_out = optarg;
		return 0;
	case O_NO_ANTISPOOF:
		o->no_antispoof = true;
		return 0;
	case O_USERNS:
		if (!str_eq(optarg, "host") && !str_eq(optarg, "private"))
			return berr_setx(err, EINVAL, "--userns=%s: use host or private", optarg);
		o->userns = str_eq(optarg, "private");
		return 0;
	default:
		if (c >= O_LIMIT && c < O_LIMIT + CG_LIMIT_KEYS)
			return cg_limits_parse(&o->limits, (cg_limit_key)(c - O_LIMIT), optarg,
					       err);
		return -EINVAL;
	}
}

int cmd_create(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"template", required_argument, NULL, O_TEMPLATE},
		{"hostname", required_argument, NULL, O_HOSTNAME},
		{"init", required_argument, NULL, O_INIT},
		{"init-flavour", required_argument, NULL, O_FLAVOUR},
		{"halt-signal", required_argument, NULL, O_HALT},
		{"reboot-signal", required_argument, NULL, O_REBOOT},
		{"stop-timeout", required_argument, NULL, O_TIMEOUT},
		{"autostart", no_argument, NULL, O_AUTOSTART},
		{"boot-order", required_argument, NULL, O_BOOT_ORDER},
		{"boot-delay", required_argument, NULL, O_BOOT_DELAY},
		{"userns", required_argument, NULL, O_USERNS},
		{"idmap", required_argument, NULL, O_IDMAP},
		{"net", required_argument, NULL, O_NET},
		{"ip", required_argument, NULL, O_IP},
		{"net-rate", required_argument, NULL, O_NET_RATE},
		{"net-rate-in", required_argument, NULL, O_NET_RATE_IN},
		{"net-rate-out", required_argument, NULL, O_NET_RATE_OUT},
		{"no-antispoof", no_argument, NULL, O_NO_ANTISPOOF},
		{"disk", required_argument, NULL, O_DISK},
		{"disk-backend", required_argument, NULL, O_DISK_BACKEND},
		{"shifted-copy", no_argument, NULL, O_SHIFTED},
		{"cpus", required_argument, NULL, O_LIMIT + CG_CPUS},
		{"cpu-weight", required_argument, NULL, O_LIMIT + CG_CPU_WEIGHT},
		{"cpuset", required_argument, NULL, O_LIMIT + CG_CPUSET},
		{"memory", required_argument, NULL, O_LIMIT + CG_MEMORY},
		{"memory-high", required_argument, NULL, O_LIMIT + CG_MEMORY_HIGH},
		{"swap", required_argument, NULL, O_LIMIT + CG_SWAP},
		{"pids", required_argument, NULL, O_LIMIT + CG_PIDS},
		{"io-weight", required_argument, NULL, O_LIMIT + CG_IO_WEIGHT},
		{"io-read-bps", required_argument, NULL, O_LIMIT + CG_IO_READ_BPS},
		{"io-write-bps", required_argument, NULL, O_LIMIT + CG_IO_WRITE_BPS},
		{"io-read-iops", required_argument, NULL, O_LIMIT + CG_IO_READ_IOPS},
		{"io-write-iops", required_argument, NULL, O_LIMIT + CG_IO_WRITE_IOPS},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	create_opts o = {.userns = true, .map = {0, IDMAP_DEFAULT_BASE, IDMAP_DEFAULT_COUNT}};
	berth_paths p = {0};
	berr err = {0};
	const char *name = NULL;
	int r = getopt_verb(argc, argv, ":h", opts, create_usage, create_opt, &o, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = name_operand(argc, argv, &name, &err);
	if (r >= 0 && o.idmap_set && !o.userns)
		r = berr_setx(&err, EINVAL, "--idmap and --userns=host both given (choose one)");
	if (r >= 0 && o.shifted_copy && !o.userns)
		r = berr_setx(&err, EINVAL,
			      "--shifted-copy and --userns=host both given (without a user "
			      "namespace the template is used as it is)");
	if (r >= 0 && o.disk_backend && !o.disk)
		r = berr_setx(&err, EINVAL, "--disk-backend without --disk (give the size too)");
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_create(&p, name, &o, &err);
	if (r >= 0 && o.autostart && autostart_sync(&p, &err) < 0) {
		/* The instance exists; only its systemd links are missing. */
		log_warn("%s created, but not set to start at boot: %s (then: berth enable %s)",
			 name, err.msg, name);
		berth_paths_free(&p);
		return EXIT_SETUP_FAILED;
	}
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("create", name, &err);
	printf("%s created\n", name);
	return 0;
}

static int flag_opt(int c, void *arg, berr *err)
{
	(void)err;
	*(int *)arg |= c == O_FORCE ? 1 : c == O_JSON ? 2 : c == O_FOREGROUND ? 4 : 0;
	return 0;
}

/* start, restart, delete, status, list: NAME plus on/off flags. */
static int simple_verb(int argc, char **argv, const struct option *opts, const char *usage,
		       bool needs_name, const char **name, int *flags, berr *err)
{
	int r = getopt_verb(argc, argv, "h", opts, usage, flag_opt, flags, err);

	if (r != 0 || !needs_name)
		return r;
	return name_operand(argc, argv, name, err);
}

/* A verb on one NAME with on/off flags: parse, resolve paths, act, report. */
static int name_verb(const global_opts *g, int argc, char **argv, const struct option *opts,
		     const char *usage,
		     int (*op)(const berth_paths *p, const char *name, int flags, berr *err))
{
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int flags = 0, r = simple_verb(argc, argv, opts, usage, true, &name, &flags, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = op(&p, name, flags, &err);
	berth_paths_free(&p);
	return r < 0 ? cli_fail(argv[0], name, &err) : 0;
}

static int op_start(const berth_paths *p, const char *name, int flags, berr *err)
{
	int r = instance_start(p, name, flags & 4, err);

	if (r == 1)
		fprintf(stderr, "berth: %s is already running\n", name);
	return r;
}

/* start's options: --foreground, --wait-ready, --timeout S. */
typedef struct start_args {
	bool foreground, wait_ready, timeout_set;
	unsigned int timeout;
} start_args;

static int start_opt(int c, void *arg, berr *err)
{
	start_args *a = arg;
	uint32_t n;

	if (c == O_FOREGROUND) {
		a->foreground = true;
		return 0;
	}
	if (c == O_WAIT_READY) {
		a->wait_ready = true;
		return 0;
	}
	if (parse_u32(optarg, &n) < 0 || n == 0 || n > 86400)
		return berr_setx(err, EINVAL, "--timeout \"%s\": use 1 to 86400 seconds", optarg);
	a->timeout = n;
	a->timeout_set = true;
	return 0;
}

int cmd_start(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"foreground", no_argument, NULL, O_FOREGROUND},
					     {"wait-ready", no_argument, NULL, O_WAIT_READY},
					     {"timeout", required_argument, NULL, O_TIMEOUT},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	static const char usage[] =
		"Usage: berth start NAME [--foreground] [--wait-ready [--timeout S]]\n\n"
		"Boot the instance; returns once its init runs. Its monitor stays behind, detached;\n"
		"with --foreground berth is the monitor and returns when the instance stops (for\n"
		"systemd units).\n"
		"--wait-ready returns once the guest is ready instead: a systemd guest when it says\n"
		"READY=1 (boot finished), any other init as soon as it runs. Waits up to S seconds\n"
		"(default 90); on timeout it fails (exit 125) and the instance keeps running.\n";
	start_args a = {.timeout = 90};
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int r = getopt_verb(argc, argv, ":h", opts, usage, start_opt, &a, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = name_operand(argc, argv, &name, &err);
	if (r >= 0 && a.foreground && a.wait_ready)
		r = berr_setx(&err, EINVAL,
			      "--wait-ready and --foreground exclude each other (under systemd, "
			      "--foreground tells the service manager READY=1 itself)");
	else if (r >= 0 && a.timeout_set && !a.wait_ready)
		r = berr_setx(&err, EINVAL, "--timeout belongs to --wait-ready");
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = op_start(&p, name, a.foreground ? 4 : 0, &err);
	if (r >= 0 && a.wait_ready)
		r = instance_wait_ready(&p, name, a.timeout, &err);
	berth_paths_free(&p);
	return r < 0 ? cli_fail("start", name, &err) : 0;
}

static int stop_opt(int c, void *arg, berr *err)
{
	struct {
		unsigned int timeout;
		bool force;
	} *a = arg;
	uint32_t n;

	if (c == O_FORCE) {
		a->force = true;
		return 0;
	}
	if (parse_u32(optarg, &n) < 0 || n > 86400)
		return berr_setx(err, EINVAL, "--timeout \"%s\": use 0 to 86400 seconds", optarg);
	a->timeout = n ? n : 1;
	return 0;
}

int cmd_stop(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"timeout", required_argument, NULL, O_TIMEOUT},
					     {"force", no_argument, NULL, O_FORCE},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	static const char usage[] =
		"Usage: berth stop NAME [--timeout S] [--force]\n\n"
		"Ask the instance's init to power off, wait up to S seconds (default: the\n"
		"instance's stop timeout, 30) for everything in it to end, then kill what is left.\n"
		"--force kills at once.\n";
	struct {
		unsigned int timeout;
		bool force;
	} a = {0};
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int r = getopt_verb(argc, argv, ":h", opts, usage, stop_opt, &a, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = name_operand(argc, argv, &name, &err);
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_stop(&p, name, a.timeout, a.force, &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("stop", name, &err);
	if (r == 1)
		fprintf(stderr, "berth: %s is not running\n", name);
	return 0;
}

static int op_restart(const berth_paths *p, const char *name, int flags, berr *err)
{
	(void)flags;
	return instance_restart(p, name, err);
}

int cmd_restart(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	static const char usage[] =
		"Usage: berth restart NAME\n\n"
		"Reboot a running instance cleanly (its init's reboot signal), or start a stopped\n"
		"one. Returns once the new init runs.\n";

	return name_verb(g, argc, argv, opts, usage, op_restart);
}

int cmd_kill(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	static const char usage[] = "Usage: berth kill NAME [SIGNAL]\n\n"
				    "Send SIGNAL (default KILL) to the instance's init.\n";
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int flags = 0, sig = SIGKILL,
	    r = getopt_verb(argc, argv, "+h", opts, usage, flag_opt, &flags, &err);

	if (r == 1)
		return 0;
	if (r >= 0 && optind + 2 == argc)
		r = signal_opt("signal", argv[--argc], &sig, &err);
	if (r >= 0)
		r = name_operand(argc, argv, &name, &err);
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_kill(&p, name, sig, &err);
	berth_paths_free(&p);
	return r < 0 ? cli_fail("kill", name, &err) : 0;
}

static int op_delete(const berth_paths *p, const char *name, int flags, berr *err)
{
	_cleanup_free_ char *link =
		str_printf("%s/berth.target.wants/berth@%s.service", p->units, name);
	struct stat st;
	bool autostart = link && lstat(link, &st) == 0;
	berr sync_err = {0};
	int r = instance_delete(p, name, flags & 1, err);

	if (r >= 0)
		printf("%s deleted\n", name);
	/* Its boot-time links go too, and the others' After= lines lose it. */
	if (r >= 0 && autostart && autostart_sync(p, &sync_err) < 0)
		log_warn("%s: could not remove its systemd links: %s", name, sync_err.msg);
	return r;
}

int cmd_delete(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, O_FORCE},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	static const char usage[] =
		"Usage: berth delete NAME [--force]\n\n"
		"Delete a stopped instance: its config, its writable layer, its log. --force\n"
		"kills a running one first.\n";

	return name_verb(g, argc, argv, opts, usage, op_delete);
}

int cmd_status(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, O_JSON},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	static const char usage[] =
		"Usage: berth status NAME [--json]\n\n"
		"State, init, uptime, boots since create, last exit reason, template, monitor.\n";
	const char *name = NULL;
	instance_status st;
	berth_paths p = {0};
	berr err = {0};
	int flags = 0, r = simple_verb(argc, argv, opts, usage, true, &name, &flags, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_status_get(&p, name, &st, &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("status", name, &err);
	if (flags & 2)
		r = cli_status_json(&st);
	else
		cli_status_print(&st);
	instance_status_free(&st);
	return r < 0 ? EXIT_SETUP_FAILED : 0;
}

int cmd_list(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, O_JSON},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	static const char usage[] = "Usage: berth list [--json]\n\nEvery instance and its state.\n";
	berth_paths p = {0};
	char **names = NULL;
	berr err = {0};
	int flags = 0, r = simple_verb(argc, argv, opts, usage, false, NULL, &flags, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_list(&p, &names, &err);
	if (r < 0) {
		berth_paths_free(&p);
		return cli_fail("list", NULL, &err);
	}
	if (flags & 2)
		r = cli_list_json(&p, names);
	else
		r = cli_list_print(&p, names);
	strv_free(names);
	berth_paths_free(&p);
	return r < 0 ? EXIT_SETUP_FAILED : 0;
}
