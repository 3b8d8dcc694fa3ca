/* SPDX-License-Identifier: MIT */
/* berth enable, berth disable: start an instance at host boot, with systemd. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char enable_usage[] =
	"Usage: berth enable NAME [--boot-order N] [--boot-delay S]\n"
	"       berth disable NAME\n"
	"\n"
	"enable marks an instance autostart: systemd starts berth@NAME.service at boot\n"
	"(through berth.target), lowest boot order first; disable unmarks it. Neither\n"
	"starts nor stops the instance now (systemctl start|stop berth@NAME does).\n"
	"\n"
	"  --boot-order N   0-999 (default 0): an instance starts once every autostart\n"
	"                   instance with a lower boot order is ready; equal orders start\n"
	"                   together. At shutdown the order is reversed.\n"
	"  --boot-delay S   0-3600 seconds (default 0): after this instance is ready, wait\n"
	"                   S seconds before starting those with a higher boot order\n"
	"\n"
	"Writes /etc/systemd/system/berth.target.wants/berth@NAME.service and the drop-in\n"
	"/etc/systemd/system/berth@NAME.service.d/50-berth-autostart.conf (ROOT/systemd\n"
	"with --root), then runs systemctl daemon-reload. See docs/SYSTEMD.md.\n";

enum { O_ORDER = 256, O_DELAY };

static int number_opt(const char *opt, const char *s, unsigned int max, unsigned int *ret,
		      berr *err)
{
	uint32_t n;

	if (parse_u32(s, &n) < 0 || n > max)
		return berr_setx(err, EINVAL, "%s \"%s\": use 0 to %u", opt, s, max);
	*ret = n;
	return 0;
}

static int enable_parse(int argc, char **argv, autostart_opts *o, const char **name, berr *err)
{
	static const struct option opts[] = {
		{"boot-order", required_argument, NULL, O_ORDER},
		{"boot-delay", required_argument, NULL, O_DELAY},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(enable_usage, stdout);
			return 1;
		}
		if ((c == O_ORDER || c == O_DELAY) && !o->enable)
			return berr_setx(err, EINVAL, "--boot-%s: only berth enable takes it",
					 c == O_ORDER ? "order" : "delay");
		if (c == O_ORDER) {
			o->order_set = true;
			r = number_opt("--boot-order", optarg, BOOT_ORDER_MAX, &o->boot_order, err);
		} else if (c == O_DELAY) {
			o->delay_set = true;
			r = number_opt("--boot-delay", optarg, BOOT_DELAY_MAX, &o->boot_delay, err);
		} else {
			r = berr_setx(err, EINVAL, "%s '%s' (see berth %s --help)",
				      c == ':' ? "missing value for" : "unknown option",
				      argv[optind - 1], argv[0]);
		}
		if (r < 0)
			return r;
	}
	if (optind >= argc)
		return berr_setx(err, EINVAL, "no instance name given (berth %s NAME)", argv[0]);
	if (optind + 1 < argc)
		return berr_setx(err, EINVAL, "unexpected argument '%s'", argv[optind + 1]);
	*name = argv[optind];
	return 0;
}

static int enable_verb(const global_opts *g, int argc, char **argv, bool enable)
{
	autostart_opts o = {.enable = enable};
	const char *name = NULL;
	berth_paths p = {0};
	berr err = {0};
	int r = enable_parse(argc, argv, &o, &name, &err);

	if (r == 1)
		return 0;
	if (r >= 0)
		r = cli_paths(g, argv[0], &p, &err);
	if (r >= 0)
		r = instance_autostart(&p, name, &o, &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail(argv[0], name, &err);
	if (enable)
		printf("%s: starts at boot (berth@%s.service, wanted by berth.target)\n", name,
		       name);
	else
		printf("%s: no longer starts at boot\n", name);
	return 0;
}

int cmd_enable(const global_opts *g, int argc, char **argv)
{
	return enable_verb(g, argc, argv, true);
}

int cmd_disable(const global_opts *g, int argc, char **argv)
{
	return enable_verb(g, argc, argv, false);
}
