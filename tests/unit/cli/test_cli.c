/* SPDX-License-Identifier: MIT */
/* Argument parsing: what the user typed becomes exactly these options, or a clear error. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

static int parse(char **argv, int argc, run_opts *o, berr *e)
{
	memset(o, 0, sizeof(*o));
	return cli_run_parse(argc, argv, o, e);
}

Test(global, root_debug_and_command_index)
{
	char **v = ARGV("berth", "--root", "/tmp/r", "--debug", "run", "--", "true");
	global_opts g;
	berr e = {0};

	cr_assert_eq(cli_global_parse(7, v, &g, &e), 4, "%s", e.msg);
	cr_expect_str_eq(g.root, "/tmp/r");
	cr_expect(g.debug);
}

Test(global, unknown_option_and_missing_command)
{
	global_opts g;
	berr e = {0};

	cr_expect_lt(cli_global_parse(2, ARGV("berth", "--bogus"), &g, &e), 0);
	cr_expect(strstr(e.msg, "--bogus") != NULL, "names the option: %s", e.msg);
	cr_expect_lt(cli_global_parse(1, ARGV("berth"), &g, &e), 0);
	cr_expect(strstr(e.msg, "no command") != NULL, "%s", e.msg);
	cr_expect_eq(cli_global_parse(2, ARGV("berth", "--version"), &g, &e), 2);
	cr_expect(g.version);
}

Test(run, all_options)
{
	char **v = ARGV("run", "--template", "deb12", "--hostname", "web1", "-e", "A=1", "--env",
			"B=two words", "-w", "/srv", "--idmap", "2000000:65536", "--rlimit",
			"NOFILE=1024:2048", "--", "sh", "-c", "exit 3");
	run_opts o;
	berr e = {0};

	cr_assert_eq(parse(v, 19, &o, &e), 0, "%s", e.msg);
	cr_expect_str_eq(o.template, "deb12");
	cr_expect_null(o.rootfs);
	cr_expect_str_eq(o.hostname, "web1");
	cr_expect_eq(o.n_env, 2);
	cr_expect_str_eq(o.env[0], "A=1");
	cr_expect_str_eq(o.env[1], "B=two words");
	cr_expect_null(o.env[2]);
	cr_expect_str_eq(o.cwd, "/srv");
	cr_expect(o.userns);
	cr_expect(o.idmap_set);
	cr_expect_eq(o.map.outside, 2000000);
	cr_expect_eq(o.map.count, 65536);
	cr_expect_eq(o.n_rlimits, 1);
	cr_expect_eq(o.rlimits[0].soft, 1024);
	cr_expect_eq(o.rlimits[0].hard, 2048);
	cr_expect_str_eq(o.args[0], "sh");
	cr_expect_str_eq(o.args[2], "exit 3");
	cr_expect_null(o.args[3]);
	run_opts_free(&o);
}

Test(run, command_options_are_not_berths)
{
	/* Without "--", parsing stops at the command: its -e belongs to it. */
	char **v = ARGV("run", "--rootfs", "/srv/r", "ls", "-e", "/");
	run_opts o;
	berr e = {0};

	cr_assert_eq(parse(v, 6, &o, &e), 0, "%s", e.msg);
	cr_expect_str_eq(o.rootfs, "/srv/r");
	cr_expect_eq(o.n_env, 0);
	cr_expect_str_eq(o.args[0], "ls");
	cr_expect_str_eq(o.args[1], "-e");
	run_opts_free(&o);
}

Test(run, userns_host)
{
	char **v = ARGV("run", "--userns=host", "true");
	run_opts o;
	berr e = {0};

	cr_assert_eq(parse(v, 3, &o, &e), 0, "%s", e.msg);
	cr_expect_not(o.userns);
	run_opts_free(&o);
}

static void expect_refused(char **argv, int argc, const char *needle)
{
	run_opts o;
	berr e = {0};

	cr_expect_lt(parse(argv, argc, &o, &e), 0, "refused: %s", needle);
	cr_expect(strstr(e.msg, needle) != NULL, "message \"%s\" mentions \"%s\"", e.msg, needle);
}

Test(run, bad_input_is_named)
{
	expect_refused(ARGV("run", "--bogus", "true"), 3, "--bogus");
	expect_refused(ARGV("run"), 1, "no command");
	expect_refused(ARGV("run", "--"), 2, "no command");
	expect_refused(ARGV("run", "--template", "a", "--rootfs", "/b", "true"), 6, "choose one");
	expect_refused(ARGV("run", "--env", "NOEQUALS", "true"), 4, "NOEQUALS");
	expect_refused(ARGV("run", "--env", "=v", "true"), 4, "=v");
	expect_refused(ARGV("run", "--userns=maybe", "true"), 3, "maybe");
	expect_refused(ARGV("run", "--idmap", "12X", "true"), 4, "12X");
	expect_refused(ARGV("run", "--idmap", "0", "true"), 4, "host root");
	expect_refused(ARGV("run", "--idmap", "100000:10", "true"), 4, "too small");
	expect_refused(ARGV("run", "--idmap", "4294967000", "true"), 4, "past");
	expect_refused(ARGV("run", "--userns=host", "--idmap", "2000000", "true"), 5, "choose one");
	expect_refused(ARGV("run", "--hostname"), 2, "--hostname");
}

Test(spec, validation)
{
	char *args[] = {"true", NULL}, *empty[] = {NULL}, *env[] = {"A=1", "B", NULL};
	spec s;
	berr e = {0};

	spec_init(&s);
	s.process.args = args;
	s.root.path = "/r";
	cr_expect_eq(spec_validate(&s, &e), 0, "%s", e.msg);
	s.hostname = "web-1.example";
	cr_expect_eq(spec_validate(&s, &e), 0, "%s", e.msg);
	s.hostname = "-bad";
	cr_expect_lt(spec_validate(&s, &e), 0);
	cr_expect(strstr(e.msg, "-bad") != NULL, "%s", e.msg);
	s.hostname = "a..b";
	cr_expect_lt(spec_validate(&s, &e), 0);
	s.hostname = "under_score";
	cr_expect_lt(spec_validate(&s, &e), 0);
	s.hostname = NULL;
	s.process.cwd = "relative";
	cr_expect_lt(spec_validate(&s, &e), 0);
	cr_expect(strstr(e.msg, "relative") != NULL, "%s", e.msg);
	s.process.cwd = "/";
	s.process.env = env;
	cr_expect_lt(spec_validate(&s, &e), 0);
	s.process.env = NULL;
	s.process.args = empty;
	cr_expect_lt(spec_validate(&s, &e), 0);
}

Test(idmap, render_and_map)
{
	idmap m = {0, 1000000, 65536};
	char buf[64];

	cr_expect_eq(idmap_render(&m, buf, sizeof(buf)), 16);
	cr_expect_str_eq(buf, "0 1000000 65536\n");
	cr_expect_eq(idmap_render(&m, buf, 8), -ENOSPC);
	cr_expect_eq(idmap_to_host(&m, 0), 1000000);
	cr_expect_eq(idmap_to_host(&m, 65535), 1065535);
	cr_expect_eq(idmap_to_host(&m, 65536), (uint32_t)-1, "outside the range: unmapped");
}
