/* SPDX-License-Identifier: MIT */
/* berth clone SRC DST. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char clone_usage[] =
	"Usage: berth clone SRC DST\n"
	"\n"
	"Make instance DST a copy of the stopped instance SRC: its config and its writable\n"
	"layer (with its disk limit), under a new name, a new UUID, an id range of its own\n"
	"(every file's owner moved to it), a new /etc/machine-id and DST as host name\n"
	"(when SRC's host name was its name). A running SRC is refused; a failed clone\n"
	"leaves nothing behind.\n";

int cmd_clone(const global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	berth_paths p = {0};
	berr err = {0};
	int c, r = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(clone_usage, stdout);
			return 0;
		}
		r = berr_setx(&err, EINVAL, "unknown option '%s' (see berth clone --help)",
			      argv[optind - 1]);
		break;
	}
	if (r >= 0 && argc - optind != 2)
		r = berr_setx(&err, EINVAL, "give a source and a new name (berth clone SRC DST)");
	if (r >= 0)
		r = cli_paths(g, "clone", &p, &err);
	if (r >= 0)
		r = instance_clone(&p, argv[optind], argv[optind + 1], &err);
	berth_paths_free(&p);
	if (r < 0)
		return cli_fail("clone", r == -EINVAL || optind >= argc ? NULL : argv[optind],
				&err);
	printf("%s cloned from %s\n", argv[optind + 1], argv[optind]);
	return 0;
}
