/* SPDX-License-Identifier: MIT */
/*
 * Autostart under systemd: berth enable/disable record it in the instance's
 * config, and autostart_sync makes the systemd unit directory match every
 * config at once (wants links and drop-ins), because one instance's boot
 * order changes the After= lines of the others. Links and drop-ins rather than
 * a generator: generators run before /var is mounted, where the configs live.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime-internal.h"

#define WANTS_DIR "berth.target.wants"
#define DROPIN_NAME "50-berth-autostart.conf"
/* The unit's own TimeoutStartSec (dist/berth@.service.in); a boot delay adds to it. */
#define UNIT_START_TIMEOUT 300

/* Where `meson install` may have put the template unit; the first found is linked to. */
static const char *const unit_dirs[] = {
	"/etc/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
};

static bool system_units(const berth_paths *p) { return str_eq(p->units, BERTH_SYSTEMD_UNITS); }

/* The installed file for unit (e.g. "berth@.service"); with --root any path will do. */
static int unit_source(const berth_paths *p, const char *unit, char **ret, berr *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(unit_dirs); i++) {
		_cleanup_free_ char *path = str_printf("%s/%s", unit_dirs[i], unit);

		if (!path)
			return berr_set(err, ENOMEM, "paths");
		if (access(path, F_OK) == 0) {
			*ret = TAKE_PTR(path);
			return 0;
		}
	}
	if (system_units(p))
		return berr_setx(err, ENOENT,
				 "%s is not installed in any systemd unit directory (install "
				 "berth with meson install, see docs/SYSTEMD.md)",
				 unit);
	*ret = str_printf("/usr/lib/systemd/system/%s", unit);
	return *ret ? 0 : berr_set(err, ENOMEM, "paths");
}

static int cmp_order(const void *a, const void *b)
{
	const instance_config *x = a, *y = b;

	if (x->boot_order != y->boot_order)
		return x->boot_order < y->boot_order ? -1 : 1;
	return strcmp(x->name, y->name);
}

char *autostart_dropin(const instance_config *c, const instance_config *all, size_t n)
{
	size_t size = 512 + n * (INSTANCE_NAME_MAX + 32);
	char *buf = malloc(size);
	size_t len = 0;

	if (!buf)
		return NULL;
	len += (size_t)snprintf(buf + len, size - len,
				"# Written by berth (berth enable %s): boot order %u, boot delay "
				"%u s.\n# berth rewrites this file; change it with berth enable.\n"
				"[Unit]\n",
				c->name, c->boot_order, c->boot_delay);
	/* Started after every autostart instance of a lower boot order; stopped before them. */
	for (size_t i = 0; i < n; i++)
		if (all[i].autostart && all[i].boot_order < c->boot_order)
			len += (size_t)snprintf(buf + len, size - len, "After=berth@%s.service\n",
						all[i].name);
	if (c->boot_delay)
		/* The unit stays "activating" meanwhile, so the next boot order waits. */
		len += (size_t)snprintf(buf + len, size - len,
					"[Service]\nExecStartPost=/bin/sleep %u\n"
					"TimeoutStartSec=%u\n",
					c->boot_delay, UNIT_START_TIMEOUT + c->boot_delay);
	return buf;
}

/* Replace path with a symlink to target, atomically. */
static int symlink_replace(const char *target, const char *path, berr *err)
{
	_cleanup_free_ char *tmp = str_printf("%s.tmp-%d", path, (int)getpid());

	if (!tmp)
		return berr_set(err, ENOMEM, "paths");
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return berr_set(err, errno, "create symlink %s", tmp);
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return berr_set(err, e, "rename %s", tmp);
	}
	return 0;
}

/* Links and drop-in for one instance: present when it autostarts, gone otherwise. */
static int sync_one(const berth_paths *p, const instance_config *c, const instance_config *all,
		    size_t n, const char *unit_src, berr *err)
{
	_cleanup_free_ char *link =
		str_printf("%s/" WANTS_DIR "/berth@%s.service", p->units, c->name);
	_cleanup_free_ char *dir = str_printf("%s/berth@%s.service.d", p->units, c->name);
	_cleanup_free_ char *file = str_printf("%s/" DROPIN_NAME, dir ? dir : "");
	_cleanup_free_ char *text = NULL;
	int r;

	if (!link || !dir || !file)
		return berr_set(err, ENOMEM, "paths");
	if (!c->autostart) {
		if (unlink(link) < 0 && errno != ENOENT)
			return berr_set(err, errno, "remove %s", link);
		if (unlink(file) < 0 && errno != ENOENT)
			return berr_set(err, errno, "remove %s", file);
		rmdir(dir); /* kept when the operator has drop-ins of their own there */
		return 0;
	}
	text = autostart_dropin(c, all, n);
	if (!text)
		return berr_set(err, ENOMEM, "drop-in");
	r = mkdir_p(dir, 0755);
	if (r >= 0)
		r = write_file_atomic(file, text, strlen(text), 0644);
	if (r < 0)
		return berr_set(err, -r, "write %s", file);
	return symlink_replace(unit_src, link, err);
}

/* Links in the wants dir for instances that no longer exist (deleted). */
static void prune_wants(const berth_paths *p, char *const *names)
{
	_cleanup_free_ char *wants = str_printf("%s/" WANTS_DIR, p->units);
	DIR *d = wants ? opendir(wants) : NULL;
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char name[INSTANCE_NAME_MAX + 1];
		size_t len = strlen(de->d_name);
		bool known = false;

		if (strncmp(de->d_name, "berth@", 6) != 0 || len < 14 ||
		    len - 14 > INSTANCE_NAME_MAX || !str_eq(de->d_name + len - 8, ".service"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 14), de->d_name + 6);
		for (size_t i = 0; names[i]; i++)
			known = known || str_eq(names[i], name);
		if (known)
			continue;
		_cleanup_free_ char *file =
			str_printf("%s/berth@%s.service.d/" DROPIN_NAME, p->units, name);
		_cleanup_free_ char *dir = str_printf("%s/berth@%s.service.d", p->units, name);
		unlinkat(dirfd(d), de->d_name, 0);
		if (file && dir && unlink(file) == 0)
			rmdir(dir);
	}
	closedir(d);
}

/* systemctl daemon-reload, when systemd runs this host and the system paths are in use. */
static int daemon_reload(const berth_paths *p, berr *err)
{
	int status;
	pid_t pid;

	if (!system_units(p) || access("/run/systemd/system", F_OK) < 0)
		return 0;
	pid = fork();
	if (pid < 0)
		return berr_set(err, errno, "fork systemctl");
	if (pid == 0) {
		execlp("systemctl", "systemctl", "daemon-reload", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return berr_set(err, errno, "wait for systemctl");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berr_setx(err, EIO, "systemctl daemon-reload failed (status %d)", status);
	return 0;
}

static void configs_free(instance_config *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		instance_config_free(&v[i]);
	free(v);
}

/* Every instance's config, sorted by boot order; one that cannot be read is an error. */
static int configs_load(const berth_paths *p, char **names, instance_config **ret, size_t *ret_n,
			berr *err)
{
	size_t n = 0;
	instance_config *v;

	while (names[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return berr_set(err, ENOMEM, "configs");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path =
			str_printf("%s/instances/%s/config.json", p->lib, names[i]);
		int r = path ? instance_config_load(path, &v[i], err) : -ENOMEM;

		if (r < 0) {
			configs_free(v, i);
			return r == -ENOMEM ? berr_set(err, ENOMEM, "configs") : r;
		}
	}
	qsort(v, n, sizeof(*v), cmp_order);
	*ret = v;
	*ret_n = n;
	return 0;
}

int autostart_sync(const berth_paths *p, berr *err)
{
	_cleanup_free_ char *unit_src = NULL, *target_src = NULL, *wants = NULL, *mu = NULL,
			    *target_link = NULL;
	instance_config *all = NULL;
	char **names = NULL;
	size_t n = 0;
	int r = instance_list(p, &names, err);

	bool any = false;

	if (r >= 0)
		r = configs_load(p, names, &all, &n, err);
	for (size_t i = 0; i < n; i++)
		any = any || all[i].autostart;
	/* Nothing starts at boot: only links to remove, no unit needed. */
	if (r >= 0 && any)
		r = unit_source(p, "berth@.service", &unit_src, err);
	if (r >= 0 && any)
		r = unit_source(p, "berth.target", &target_src, err);
	if (r < 0)
		goto out;
	wants = str_printf("%s/" WANTS_DIR, p->units);
	mu = str_printf("%s/multi-user.target.wants", p->units);
	target_link = str_printf("%s/berth.target", mu ? mu : "");
	if (!wants || !mu || !target_link) {
		r = berr_set(err, ENOMEM, "paths");
		goto out;
	}
	r = any ? mkdir_p(wants, 0755) : 0;
	if (r >= 0 && any)
		r = mkdir_p(mu, 0755);
	if (r < 0) {
		r = berr_set(err, -r, "create %s", wants);
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++)
		r = sync_one(p, &all[i], all, n, unit_src, err);
	prune_wants(p, names);
	/* berth.target itself is wanted at boot (as systemctl enable berth.target would). */
	if (r >= 0 && any)
		r = symlink_replace(target_src, target_link, err);
	if (r >= 0)
		r = daemon_reload(p, err);
out:
	configs_free(all, n);
	strv_free(names);
	return r;
}

struct autostart_args {
	const autostart_opts *o;
	instance_config old;
};

static int op_autostart(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	struct autostart_args *a = arg;
	instance_config next = *c; /* shares c's strings: never freed */

	a->old = *c;
	next.autostart = a->o->enable;
	if (a->o->order_set)
		next.boot_order = a->o->boot_order;
	if (a->o->delay_set)
		next.boot_delay = a->o->boot_delay;
	return instance_config_save(ip->config, &next, err);
}

/* Put the config as it was (under the lock again): the units could not follow it. */
static int op_restore(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	const instance_config *old = arg;
	instance_config back = *c;

	back.autostart = old->autostart;
	back.boot_order = old->boot_order;
	back.boot_delay = old->boot_delay;
	return instance_config_save(ip->config, &back, err);
}

int instance_autostart(const berth_paths *p, const char *name, const autostart_opts *o, berr *err)
{
	struct autostart_args a = {.o = o};
	berr ignore = {0};
	int r;

	if (o->order_set && o->boot_order > BOOT_ORDER_MAX)
		return berr_setx(err, ERANGE, "--boot-order %u: use 0 to %d", o->boot_order,
				 BOOT_ORDER_MAX);
	if (o->delay_set && o->boot_delay > BOOT_DELAY_MAX)
		return berr_setx(err, ERANGE, "--boot-delay %u: use 0 to %d seconds", o->boot_delay,
				 BOOT_DELAY_MAX);
	r = with_instance(p, name, err, op_autostart, &a);
	if (r < 0)
		return r;
	r = autostart_sync(p, err);
	if (r < 0) {
		if (with_instance(p, name, &ignore, op_restore, &a.old) < 0 ||
		    autostart_sync(p, &ignore) < 0)
			log_warn("%s: could not put autostart back as it was: %s", name,
				 ignore.msg);
		berr_prefix(err, "%s %s", o->enable ? "enable" : "disable", name);
	}
	return r;
}
