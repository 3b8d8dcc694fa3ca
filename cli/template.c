/* SPDX-License-Identifier: MIT */
/* berth template list|create|import|remove */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rootfs.h"

static const char template_usage[] =
	"Usage: berth template list [--json]\n"
	"       berth template create NAME --busybox\n"
	"       berth template create NAME --debootstrap SUITE [--mirror URL]\n"
	"                             [--include PKGS] [--variant V]\n"
	"       berth template import NAME DIR|TARBALL\n"
	"       berth template remove NAME\n"
	"\n"
	"A template is a read-only root file system that instances are made from. Each\n"
	"instance keeps its own changes in a layer above it, so many instances share one\n"
	"template on disk. A template is made whole or not at all: one that is being made,\n"
	"or whose making was interrupted, never appears under its name.\n"
	"\n"
	"Subcommands:\n"
	"  list [--json]            the templates, and how many instances use each\n"
	"  create NAME --busybox    a small system from the host's static busybox\n"
	"                           (/bin/busybox: apt-get install busybox-static)\n"
	"  create NAME --debootstrap SUITE\n"
	"                           a Debian or Ubuntu system made by debootstrap (apt-get\n"
	"                           install debootstrap), its progress on the terminal;\n"
	"                           --mirror URL (default: debootstrap's, deb.debian.org),\n"
	"                           --include PKGS (comma-separated; systemd brings\n"
	"                           systemd-sysv, so that /sbin/init is systemd),\n"
	"                           --variant minbase (the default), buildd or default.\n"
	"                           Root's password stays locked: set one inside with\n"
	"                           berth exec NAME -- passwd\n"
	"  import NAME DIR|TARBALL  copy a root file system from a directory or a tar archive\n"
	"                           (plain or compressed: .tar.gz, .tar.xz, .tar.zst, ...),\n"
	"                           keeping numeric owners, modes, device nodes, xattrs\n"
	"                           (file capabilities too), ACLs, hard links, sparse files\n"
	"                           and timestamps; it must hold /bin or /usr/bin, and\n"
	"                           /sbin/init or /etc\n"
	"  remove NAME              delete a template; refused while an instance uses it\n"
	"\n"
	"Names: 1 to 63 of a-z 0-9 . _ -, starting with a letter or digit. The template\n"
	"\"default\" is made from busybox on first use when it does not exist.\n";

static void strv_freep(char ***v) { strv_free(*v); }

enum { OPT_JSON = 256, OPT_BUSYBOX, OPT_DEBOOTSTRAP, OPT_MIRROR, OPT_INCLUDE, OPT_VARIANT };

typedef struct tpl_opts {
	bool help, json, busybox;
	const char *debootstrap, *mirror, *include, *variant;
	char **args; /* positional, NULL-terminated, into argv */
	int n_args;
} tpl_opts;

/* Parse the options of one subcommand (argv[0] is its name). */
static int tpl_parse(int argc, char **argv, const struct option *opts, tpl_opts *o, berr *err)
{
	int c;

	*o = (tpl_opts){0};
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o->help = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_BUSYBOX:
			o->busybox = true;
			break;
		case OPT_DEBOOTSTRAP:
			o->debootstrap = optarg;
			break;
		case OPT_MIRROR:
			o->mirror = optarg;
			break;
		case OPT_INCLUDE:
			o->include = optarg;
			break;
		case OPT_VARIANT:
			o->variant = optarg;
			break;
		case ':':
			return berr_setx(err, EINVAL, "option '%s' needs a value",
					 argv[optind - 1]);
		default:
			return berr_setx(err, EINVAL,
					 "unknown option '%s' (see berth template --help)",
					 argv[optind - 1]);
		}
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	return 0;
}

/* Exactly want positional arguments, named in the error. */
static int want_args(const tpl_opts *o, int want, const char *usage, berr *err)
{
	if (o->n_args < want)
		return berr_setx(err, EINVAL, "missing arguments (usage: berth template %s)",
				 usage);
	if (o->n_args > want)
		return berr_setx(err, EINVAL, "unexpected argument '%s' (usage: berth template %s)",
				 o->args[want], usage);
	return 0;
}

static int need_root(berr *err)
{
	if (geteuid() == 0)
		return 0;
	return berr_setx(err, EPERM, "needs root (templates keep owners and device nodes)");
}

/* One line of template list: a template and the instances made from it. */
typedef struct tpl_row {
	const char *name;
	char **users; /* NULL-terminated */
	size_t n_users;
} tpl_row;

static void rows_free(tpl_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		strv_free(rows[i].users);
	free(rows);
}

/* The template instance name uses; a config that cannot be read warns and counts nowhere. */
static char *instance_template(const berth_paths *p, const char *name)
{
	instance_paths ip = {0};
	instance_config c;
	char *t = NULL;
	berr e = {0};
	int r;

	instance_config_init(&c);
	r = instance_paths_init(&ip, p, name);
	r = r < 0 ? berr_set(&e, -r, "paths") : instance_config_load(ip.config, &c, &e);
	if (r < 0)
		log_warn("instance %s: cannot read its config, not counted: %s", name, e.msg);
	else
		t = strdup(c.template ? c.template : "default"); /* no template: the default */
	instance_paths_free(&ip);
	instance_config_free(&c);
	return t;
}

static int rows_make(const berth_paths *p, char **names, size_t n, tpl_row **ret, berr *err)
{
	_cleanup_(strv_freep) char **instances = NULL;
	tpl_row *rows = calloc(n + 1, sizeof(tpl_row));
	size_t n_inst = 0;
	int r = rows ? instance_list(p, &instances, err) : berr_set(err, ENOMEM, "list");

	while (r >= 0 && instances && instances[n_inst])
		n_inst++;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		rows[i].name = names[i];
		rows[i].users = calloc(n_inst + 1, sizeof(char *));
		if (!rows[i].users)
			r = berr_set(err, ENOMEM, "list");
	}
	for (size_t k = 0; r >= 0 && k < n_inst; k++) {
		_cleanup_free_ char *t = instance_template(p, instances[k]);

		for (size_t i = 0; t && r >= 0 && i < n; i++) {
			if (!str_eq(t, names[i]))
				continue;
			rows[i].users[rows[i].n_users] = strdup(instances[k]);
			if (!rows[i].users[rows[i].n_users++])
				r = berr_set(err, ENOMEM, "list");
		}
	}
	if (r < 0) {
		rows_free(rows, n);
		return r;
	}
	*ret = rows;
	return 0;
}

static void print_list(const tpl_row *rows, size_t n, bool json)
{
	size_t width = strlen("TEMPLATE");

	if (json) {
		json_gen *g = json_gen_new();
		_cleanup_free_ char *out = NULL;

		if (!g) {
			log_error("template list: out of memory");
			return;
		}
		json_gen_array_open(g);
		for (size_t i = 0; i < n; i++) {
			json_gen_map_open(g);
			json_gen_key_string(g, "name", rows[i].name);
			json_gen_key(g, "instances");
			json_gen_array_open(g);
			for (size_t k = 0; k < rows[i].n_users; k++)
				json_gen_string(g, rows[i].users[k]);
			json_gen_array_close(g);
			json_gen_map_close(g);
		}
		json_gen_array_close(g);
		if (json_gen_finish(g, &out, NULL) < 0)
			log_error("template list: JSON output failed");
		else
			fputs(out, stdout);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(rows[i].name) > width)
			width = strlen(rows[i].name);
	printf("%-*s  %s\n", (int)width, "TEMPLATE", "INSTANCES");
	for (size_t i = 0; i < n; i++)
		printf("%-*s  %zu\n", (int)width, rows[i].name, rows[i].n_users);
}

static int tpl_list(const berth_paths *p, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, OPT_JSON},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	_cleanup_(strv_freep) char **names = NULL;
	tpl_row *rows = NULL;
	size_t n = 0;
	tpl_opts o;
	berr err = {0};
	int r;

	r = tpl_parse(argc, argv, opts, &o, &err);
	if (r >= 0 && o.help) {
		fputs(template_usage, stdout);
		return 0;
	}
	if (r >= 0)
		r = want_args(&o, 0, "list [--json]", &err);
	if (r >= 0)
		r = template_list(p, &names, &err);
	while (r >= 0 && names[n])
		n++;
	if (r >= 0)
		r = rows_make(p, names, n, &rows, &err);
	if (r >= 0)
		print_list(rows, n, o.json);
	rows_free(rows, n);
	return r < 0 ? cli_fail("template list", NULL, &err) : 0;
}

static int tpl_create(const berth_paths *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{"busybox", no_argument, NULL, OPT_BUSYBOX},
		{"debootstrap", required_argument, NULL, OPT_DEBOOTSTRAP},
		{"mirror", required_argument, NULL, OPT_MIRROR},
		{"include", required_argument, NULL, OPT_INCLUDE},
		{"variant", required_argument, NULL, OPT_VARIANT},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	tpl_opts o;
	berr err = {0};
	int r;

	r = tpl_parse(argc, argv, opts, &o, &err);
	if (r >= 0 && o.help) {
		fputs(template_usage, stdout);
		return 0;
	}
	if (r >= 0)
		r = want_args(&o, 1, "create NAME --busybox", &err);
	if (r >= 0 && o.debootstrap && o.busybox)
		r = berr_setx(&err, EINVAL, "--busybox and --debootstrap exclude each other");
	else if (r >= 0 && !o.debootstrap && (o.mirror || o.include || o.variant))
		r = berr_setx(&err, EINVAL,
			      "--mirror, --include and --variant belong to --debootstrap SUITE");
	else if (r >= 0 && !o.busybox && !o.debootstrap)
		r = berr_setx(&err, EINVAL,
			      "say what to make it from: --busybox (the host's static busybox) "
			      "or --debootstrap SUITE (e.g. bookworm)");
	if (r >= 0)
		r = need_root(&err);
	if (r >= 0 && o.debootstrap) {
		rootfs_debootstrap d = {.suite = o.debootstrap,
					.mirror = o.mirror,
					.include = o.include,
					.variant = o.variant};

		r = template_create_debootstrap(p, o.args[0], &d, &err);
	} else if (r >= 0) {
		r = template_create_busybox(p, o.args[0], &err);
	}
	if (r < 0)
		return cli_fail("template create", o.n_args > 0 ? o.args[0] : NULL, &err);
	return 0;
}

/* import and remove: NAME [SOURCE], no options but --help. */
static int tpl_named(const berth_paths *p, int argc, char **argv, bool import)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	const char *verb = import ? "template import" : "template remove";
	tpl_opts o;
	berr err = {0};
	int r;

	r = tpl_parse(argc, argv, opts, &o, &err);
	if (r >= 0 && o.help) {
		fputs(template_usage, stdout);
		return 0;
	}
	if (r >= 0)
		r = want_args(&o, import ? 2 : 1,
			      import ? "import NAME DIR|TARBALL" : "remove NAME", &err);
	if (r >= 0)
		r = need_root(&err);
	if (r >= 0)
		r = import ? template_import(p, o.args[0], o.args[1], &err)
			   : template_remove(p, o.args[0], &err);
	if (r < 0)
		return cli_fail(verb, o.n_args > 0 ? o.args[0] : NULL, &err);
	return 0;
}

int cmd_template(const global_opts *g, int argc, char **argv)
{
	berth_paths paths = {0};
	const char *sub = argc > 1 ? argv[1] : NULL;
	berr err = {0};
	int r, status;

	if (sub && (str_eq(sub, "--help") || str_eq(sub, "-h") || str_eq(sub, "help"))) {
		fputs(template_usage, stdout);
		return 0;
	}
	if (!sub || !(str_eq(sub, "list") || str_eq(sub, "create") || str_eq(sub, "import") ||
		      str_eq(sub, "remove"))) {
		if (sub)
			berr_setx(&err, EINVAL,
				  "unknown subcommand '%s' (use list, create, import or remove; "
				  "see berth template --help)",
				  sub);
		else
			berr_setx(&err, EINVAL,
				  "no subcommand (use list, create, import or remove; see berth "
				  "template --help)");
		return cli_fail("template", NULL, &err);
	}
	r = berth_paths_init(&paths, g->root);
	if (r < 0) {
		berr_set(&err, -r, "paths");
		return cli_fail("template", NULL, &err);
	}
	if (str_eq(sub, "list"))
		status = tpl_list(&paths, argc - 1, argv + 1);
	else if (str_eq(sub, "create"))
		status = tpl_create(&paths, argc - 1, argv + 1);
	else
		status = tpl_named(&paths, argc - 1, argv + 1, str_eq(sub, "import"));
	berth_paths_free(&paths);
	return status;
}
