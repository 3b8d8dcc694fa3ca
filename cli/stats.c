/* SPDX-License-Identifier: MIT */
/* berth stats, freeze, thaw. */
#include <getopt.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define DEFAULT_INTERVAL_MS 1000

static const char stats_usage[] =
	"Usage: berth stats [NAME...] [--json] [--interval S] [--watch [S]]\n"
	"\n"
	"What running instances use, from their cgroups: every running instance when no\n"
	"NAME is given. CPU%% is measured over an interval (default 1 s; 100%% = one CPU).\n"
	"A value the host cannot report (its controller is not enabled) shows as '-'\n"
	"(null in JSON); an unlimited limit as 'max'. docs/STATS.md says what each is.\n"
	"\n"
	"Options:\n"
	"  --json          one JSON array of objects\n"
	"  --interval S    seconds between the two cpu samples (0: one sample, no cpu%%)\n"
	"  --watch [S]     redraw every S seconds (default 2) until Ctrl-C; --watch=S\n"
	"                  when an instance is named like a number\n";

typedef struct stats_opts {
	bool json;
	bool watch;
	int interval_ms; /* -1: not given */
	int period_ms;
	char **names; /* NULL-terminated, into argv; NULL: all running */
} stats_opts;

enum { O_JSON = 256, O_INTERVAL, O_WATCH };

/* "1", "0.5", "2.25": seconds to milliseconds, 0 to 3600 s. */
static int parse_seconds(const char *s, int *ret_ms)
{
	char *end = NULL;
	double v;

	if (!s || !*s || !strchr("0123456789.", s[0]))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 3600)
		return -EINVAL;
	*ret_ms = (int)(v * 1000 + 0.5);
	return 0;
}

static int stats_parse(int argc, char **argv, stats_opts *o, berr *err)
{
	static const struct option opts[] = {{"json", no_argument, NULL, O_JSON},
					     {"interval", required_argument, NULL, O_INTERVAL},
					     {"watch", optional_argument, NULL, O_WATCH},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int c;

	*o = (stats_opts){.interval_ms = -1, .period_ms = 2000};
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *v = optarg;

		switch (c) {
		case 'h':
			printf(stats_usage);
			return 1;
		case O_JSON:
			o->json = true;
			break;
		case O_INTERVAL:
			if (parse_seconds(v, &o->interval_ms) < 0)
				return berr_setx(err, EINVAL,
						 "--interval \"%s\": use seconds from 0 to 3600 "
						 "(e.g. 1 or 0.5)",
						 v);
			break;
		case O_WATCH:
			o->watch = true;
			/* "--watch 5": a number right after it is the period. */
			if (!v && optind < argc && parse_seconds(argv[optind], &o->period_ms) == 0)
				v = argv[optind++];
			if (v && (parse_seconds(v, &o->period_ms) < 0 || o->period_ms < 100))
				return berr_setx(err, EINVAL,
						 "--watch \"%s\": use seconds from 0.1 to 3600", v);
			break;
		default:
			return berr_setx(err, EINVAL, "%s '%s' (see berth stats --help)",
					 c == ':' ? "missing value for" : "unknown option",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->names = argv + optind;
	return 0;
}

/* --- formatting ------------------------------------------------------------------ */

#define NA "-"

static const char *fmt_size(char *buf, size_t size, uint64_t v)
{
	static const char units[] = "BKMGTPE";
	double d = (double)v;
	int u = 0;

	if (v == CG_UNLIMITED)
		return "max";
	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lluB", (unsigned long long)v);
	else
		snprintf(buf, size, d < 10 ? "%.1f%c" : "%.0f%c", d, units[u]);
	return buf;
}

static const char *fmt_count(char *buf, size_t size, uint64_t v)
{
	if (v == CG_UNLIMITED)
		return "max";
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

static const char *fmt_usec(char *buf, size_t size, uint64_t usec)
{
	snprintf(buf, size, "%.2fs", (double)usec / 1e6);
	return buf;
}

typedef const char *(*fmt_fn)(char *buf, size_t size, uint64_t v);

/* One table cell: the value when its CG_HAVE_* bit is set, else "-". */
static const char *cell(char *buf, size_t size, const cg_stats *c, unsigned int bit, uint64_t v,
			fmt_fn f)
{
	return c->have & bit ? f(buf, size, v) : NA;
}

#define TABLE_FMT \
	"%-16s %-7s %6s %9s %7s %7s %7s %7s %7s %5s %5s %7s %7s %7s %7s %4s %9s %7s %7s %7s %7s\n"

static void print_header(void)
{
	printf(TABLE_FMT, "NAME", "STATE", "CPU%", "CPU-TIME", "MEM", "PEAK", "LIMIT", "SWAP",
	       "SWAP-LIM", "PIDS", "LIMIT", "READ", "WRITE", "R-OPS", "W-OPS", "OOMK", "THROTTLED",
	       "NET-RX", "RX-PKTS", "NET-TX", "TX-PKTS");
}

static void print_row(const instance_stats *e)
{
	const cg_stats *c = &e->cg;
	const net_counters *n = &e->net;
	char b[19][24], pct[16] = NA;

	if (e->have_cpu_pct)
		snprintf(pct, sizeof(pct), "%.1f", e->cpu_pct);
#define C(n, bit, v, f) cell(b[n], sizeof(b[n]), c, bit, v, f)
	printf(TABLE_FMT, e->name, e->frozen ? "frozen" : "running", pct,
	       C(0, CG_HAVE_CPU_USAGE, c->cpu_usage_usec, fmt_usec),
	       C(1, CG_HAVE_MEMORY, c->memory_current, fmt_size),
	       C(2, CG_HAVE_MEMORY_PEAK, c->memory_peak, fmt_size),
	       C(3, CG_HAVE_MEMORY_MAX, c->memory_max, fmt_size),
	       C(4, CG_HAVE_SWAP, c->swap_current, fmt_size),
	       C(5, CG_HAVE_SWAP_MAX, c->swap_max, fmt_size),
	       C(6, CG_HAVE_PIDS, c->pids_current, fmt_count),
	       C(7, CG_HAVE_PIDS_MAX, c->pids_max, fmt_count),
	       C(8, CG_HAVE_IO, c->io_rbytes, fmt_size), C(9, CG_HAVE_IO, c->io_wbytes, fmt_size),
	       C(10, CG_HAVE_IO, c->io_rios, fmt_count), C(11, CG_HAVE_IO, c->io_wios, fmt_count),
	       C(12, CG_HAVE_MEMORY_EVENTS, c->oom_kill, fmt_count),
	       C(13, CG_HAVE_CPU_THROTTLE, c->cpu_throttled_usec, fmt_usec),
	       e->have_net ? fmt_size(b[15], sizeof(b[15]), n->rx_bytes) : NA,
	       e->have_net ? fmt_count(b[16], sizeof(b[16]), n->rx_packets) : NA,
	       e->have_net ? fmt_size(b[17], sizeof(b[17]), n->tx_bytes) : NA,
	       e->have_net ? fmt_count(b[18], sizeof(b[18]), n->tx_packets) : NA);
#undef C
}

/* A number, null when unavailable, "max" for an unlimited limit. */
static void key_value(json_gen *g, const char *key, const cg_stats *c, unsigned int bit, uint64_t v)
{
	if (!(c->have & bit))
		json_gen_key_string(g, key, NULL);
	else if (v == CG_UNLIMITED)
		json_gen_key_string(g, key, "max");
	else
		json_gen_key_u64(g, key, v);
}

/* From the instance's point of view; null without a network. */
static void net_json(json_gen *g, const instance_stats *e)
{
	const struct {
		const char *key;
		uint64_t v;
	} f[] = {{"net_rx_bytes", e->net.rx_bytes},     {"net_rx_packets", e->net.rx_packets},
		 {"net_tx_bytes", e->net.tx_bytes},     {"net_tx_packets", e->net.tx_packets},
		 {"net_rx_dropped", e->net.rx_dropped}, {"net_tx_dropped", e->net.tx_dropped}};

	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if (e->have_net)
			json_gen_key_u64(g, f[i].key, f[i].v);
		else
			json_gen_key_string(g, f[i].key, NULL);
}

static void stats_json(json_gen *g, const instance_stats *e)
{
	static const struct {
		const char *key;
		size_t offset;
		unsigned int bit;
	} fields[] = {
#define F(key, field, bit) {key, offsetof(cg_stats, field), bit}
		F("cpu_usage_usec", cpu_usage_usec, CG_HAVE_CPU_USAGE),
		F("cpu_user_usec", cpu_user_usec, CG_HAVE_CPU_USAGE),
		F("cpu_system_usec", cpu_system_usec, CG_HAVE_CPU_USAGE),
		F("cpu_nr_throttled", cpu_nr_throttled, CG_HAVE_CPU_THROTTLE),
		F("cpu_throttled_usec", cpu_throttled_usec, CG_HAVE_CPU_THROTTLE),
		F("memory_current", memory_current, CG_HAVE_MEMORY),
		F("memory_peak", memory_peak, CG_HAVE_MEMORY_PEAK),
		F("memory_max", memory_max, CG_HAVE_MEMORY_MAX),
		F("swap_current", swap_current, CG_HAVE_SWAP),
		F("swap_max", swap_max, CG_HAVE_SWAP_MAX),
		F("oom", oom, CG_HAVE_MEMORY_EVENTS),
		F("oom_kill", oom_kill, CG_HAVE_MEMORY_EVENTS),
		F("pids_current", pids_current, CG_HAVE_PIDS),
		F("pids_max", pids_max, CG_HAVE_PIDS_MAX),
		F("io_read_bytes", io_rbytes, CG_HAVE_IO),
		F("io_write_bytes", io_wbytes, CG_HAVE_IO),
		F("io_read_ops", io_rios, CG_HAVE_IO),
		F("io_write_ops", io_wios, CG_HAVE_IO),
#undef F
	};

	json_gen_map_open(g);
	json_gen_key_string(g, "name", e->name);
	json_gen_key_string(g, "state", e->frozen ? "frozen" : "running");
	/* 1000 = one whole CPU over the interval (json_gen writes integers only). */
	if (e->have_cpu_pct)
		json_gen_key_u64(g, "cpu_millicores", (uint64_t)(e->cpu_pct * 10 + 0.5));
	else
		json_gen_key_string(g, "cpu_millicores", NULL);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		key_value(g, fields[i].key, &e->cg, fields[i].bit,
			  *(const uint64_t *)((const char *)&e->cg + fields[i].offset));
	net_json(g, e);
	json_gen_map_close(g);
}

static int print_set(const stats_set *s, bool json)
{
	json_gen *g = NULL;
	_cleanup_free_ char *out = NULL;
	int r;

	if (!json) {
		print_header();
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].running)
				print_row(&s->v[i]);
		return fflush(stdout) == 0 ? 0 : -EIO;
	}
	g = json_gen_new();
	if (!g)
		return -ENOMEM;
	json_gen_array_open(g);
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].running)
			stats_json(g, &s->v[i]);
	json_gen_array_close(g);
	r = json_gen_finish(g, &out, NULL);
	if (r < 0)
		return r;
	fputs(out, stdout);
	return fflush(stdout) == 0 ? 0 : -EIO;
}

/* --- the verb -------------------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Named instances that are not running: said once each on stderr. 1 when any. */
static int report_stopped(const stats_set *s, const stats_opts *o)
{
	int any = 0;

	for (size_t i = 0; o->names && i < s->n; i++)
		if (!s->v[i].running) {
			fprintf(stderr, "berth: stats %s: not running (berth start %s)\n",
				s->v[i].name, s->v[i].name);
			any = 1;
		}
	return any;
}

/* Redraw every period until interrupted. Without NAMEs, instances started meanwhile appear. */
static int watch(const berth_paths *p, const stats_opts *o, stats_set *s, berr *err)
{
	bool tty = isatty(STDOUT_FILENO);
	int r;

	for (;;) {
		sleep_ms(o->period_ms);
		if (!o->names) {
			stats_set next;

			r = stats_set_open(p, NULL, s, &next, err);
			if (r < 0)
				return r;
			stats_set_free(s);
			*s = next;
		}
		stats_set_sample(s);
		if (tty && !o->json)
			fputs("\033[H\033[J", stdout);
		r = print_set(s, o->json);
		if (r < 0)
			return berr_set(err, -r, "write the stats");
	}
}

int cmd_stats(const global_opts *g, int argc, char **argv)
{
	stats_opts o;
	berth_paths p = {0};
	stats_set s = {0};
	berr err = {0};
	int r = stats_parse(argc, argv, &o, &err), interval;

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = stats_set_open(&p, o.names, NULL, &s, &err);
	if (r < 0)
		goto out;
	/* One pass for all instances, one sleep between the two. */
	interval = o.interval_ms >= 0 ? o.interval_ms : o.watch ? 0 : DEFAULT_INTERVAL_MS;
	stats_set_sample(&s);
	if (interval > 0) {
		sleep_ms(interval);
		stats_set_sample(&s);
	}
	r = print_set(&s, o.json);
	if (r < 0)
		berr_set(&err, -r, "write the stats");
	if (r >= 0 && o.watch)
		r = watch(&p, &o, &s, &err);
out:
	if (r >= 0)
		r = report_stopped(&s, &o);
	stats_set_free(&s);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("stats", NULL, &err);
	return r;
}

static int freeze_verb(const global_opts *g, int argc, char **argv, bool freeze)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	berth_paths p = {0};
	berr err = {0};
	const char *name = NULL;
	int c, r = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf(freeze ? "Usage: berth freeze NAME\n\n"
					"Stop every process of the instance where it stands "
					"(cgroup.freeze), until\nberth thaw NAME. exec is refused "
					"meanwhile; stop thaws it first.\n"
				      : "Usage: berth thaw NAME\n\nResume a frozen instance.\n");
			return 0;
		}
		berr_setx(&err, EINVAL, "unknown option '%s' (see berth %s --help)",
			  argv[optind - 1], argv[0]);
		return cli_fail(argv[0], NULL, &err);
	}
	if (optind >= argc)
		r = berr_setx(&err, EINVAL, "no instance name given (berth %s NAME)", argv[0]);
	else if (optind + 1 < argc)
		r = berr_setx(&err, EINVAL, "unexpected argument '%s'", argv[optind + 1]);
	else
		name = argv[optind];
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_freeze(&p, name, freeze, &err);
	berth_paths_free(&p);
	return r < 0 ? cli_fail(argv[0], name, &err) : 0;
}

int cmd_freeze(const global_opts *g, int argc, char **argv)
{
	return freeze_verb(g, argc, argv, true);
}

int cmd_thaw(const global_opts *g, int argc, char **argv)
{
	return freeze_verb(g, argc, argv, false);
}
