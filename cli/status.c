/* SPDX-License-Identifier: MIT */
/* What berth status and berth list print: text and --json. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *state_word(const instance_status *st)
{
	if (st->running && st->frozen)
		return st->monitor_alive ? "frozen" : "frozen (monitor lost)";
	if (st->running)
		return st->monitor_alive ? "running" : "running (monitor lost)";
	return "stopped";
}

static void format_uptime(char *buf, size_t size, const instance_status *st)
{
	long s = st->running && st->state.started_at ? (long)(time(NULL) - st->state.started_at)
						     : -1;

	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 3600)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%ldd%02ldh%02ldm", s / 86400, s / 3600 % 24, s / 60 % 60);
}

/* "cpus 1.5, memory 512M" or "none": the limits in force (the running cgroup has them). */
static void format_limits(const cg_limits *l, char *buf, size_t size)
{
	size_t len = 0;

	snprintf(buf, size, "none");
	for (int k = 0; k < CG_LIMIT_KEYS && len < size; k++) {
		char v[256];

		if (!cg_limits_has(l, (cg_limit_key)k) ||
		    cg_limits_format(l, (cg_limit_key)k, v, sizeof(v)) < 0 || !v[0])
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s %s", len ? ", " : "",
					cg_limit_option((cg_limit_key)k), v);
	}
}

static void limits_json(json_gen *g, const cg_limits *l)
{
	json_gen_key(g, "limits");
	json_gen_map_open(g);
	for (int k = 0; k < CG_LIMIT_KEYS; k++) {
		char v[256];

		if (cg_limits_has(l, (cg_limit_key)k) &&
		    cg_limits_format(l, (cg_limit_key)k, v, sizeof(v)) >= 0)
			json_gen_key_string(g, cg_limit_option((cg_limit_key)k), v);
	}
	json_gen_map_close(g);
}

void cli_status_print(const instance_status *st)
{
	const instance_config *c = &st->config;
	char uptime[32], limits[1024];

	format_uptime(uptime, sizeof(uptime), st);
	printf("name:       %s\n", c->name);
	printf("state:      %s\n", state_word(st));
	if (st->running)
		printf("init:       %s (%s), host pid %d\n", c->init, init_flavour_name(c->flavour),
		       (int)st->state.init_pid);
	else
		printf("init:       %s (%s)\n", c->init, init_flavour_name(c->flavour));
	printf("uptime:     %s\n", uptime);
	printf("boots:      %u since create\n", st->boots);
	printf("last exit:  %s\n", st->state.last_exit[0] ? st->state.last_exit : "-");
	if (st->running)
		printf("ready:      %s%s%s\n", st->state.ready ? "yes" : "no",
		       st->state.status[0] ? ", " : "", st->state.status);
	printf("template:   %s\n", c->template);
	printf("hostname:   %s\n", c->hostname);
	if (st->monitor_alive)
		printf("monitor:    pid %d\n", (int)st->state.monitor_pid);
	if (c->userns)
		printf("ids:        0-%u inside are %u-%u on the host\n", c->map.count - 1,
		       c->map.outside, c->map.outside + c->map.count - 1);
	else
		printf("ids:        host ids (--userns=host)\n");
	if (c->autostart)
		printf("autostart:  yes (boot order %u, boot delay %u s)\n", c->boot_order,
		       c->boot_delay);
	else
		printf("autostart:  no\n");
	format_limits(&c->limits, limits, sizeof(limits));
	printf("limits:     %s\n", limits);
	cli_net_status_print(c);
	if (c->userns && c->lower_shifted)
		printf("root:       overlay on an id-shifted copy of the template, not an "
		       "idmapped mount\n");
	else if (c->userns)
		printf("root:       overlay on the template, idmapped\n");
	if (c->disk != DISK_NONE)
		printf("disk:       %.1f MiB used of %.1f MiB (%s backend%s)\n",
		       (double)st->disk_used / 1048576.0, (double)c->disk_limit / 1048576.0,
		       disk_backend_name(c->disk),
		       st->disk_live ? "" : ", image blocks while stopped");
	else
		printf("disk:       no limit (shares the store's file system)\n");
	printf("uuid:       %s\n", c->uuid);
}

static void status_json(json_gen *g, const instance_status *st)
{
	const instance_config *c = &st->config;

	json_gen_map_open(g);
	json_gen_key_string(g, "name", c->name);
	json_gen_key_string(g, "state", st->running ? "running" : "stopped");
	json_gen_key_bool(g, "monitor_alive", st->monitor_alive);
	json_gen_key_bool(g, "frozen", st->frozen);
	json_gen_key_int(g, "init_pid", st->running ? st->state.init_pid : 0);
	json_gen_key_int(g, "monitor_pid", st->monitor_alive ? st->state.monitor_pid : 0);
	json_gen_key_int(g, "started_at", st->running ? st->state.started_at : 0);
	json_gen_key_int(g, "uptime",
			 st->running && st->state.started_at
				 ? (int64_t)time(NULL) - st->state.started_at
				 : 0);
	json_gen_key_u64(g, "boots", st->boots);
	json_gen_key_string(g, "last_exit", st->state.last_exit);
	json_gen_key_bool(g, "ready", st->running && st->state.ready);
	json_gen_key_string(g, "status_text", st->running ? st->state.status : "");
	json_gen_key_string(g, "template", c->template);
	json_gen_key_string(g, "hostname", c->hostname);
	json_gen_key_string(g, "init", c->init);
	json_gen_key_string(g, "init_flavour", init_flavour_name(c->flavour));
	json_gen_key_bool(g, "autostart", c->autostart);
	json_gen_key_u64(g, "boot_order", c->boot_order);
	json_gen_key_u64(g, "boot_delay", c->boot_delay);
	json_gen_key_bool(g, "userns", c->userns);
	json_gen_key_u64(g, "idmap_base", c->userns ? c->map.outside : 0);
	json_gen_key_u64(g, "idmap_count", c->userns ? c->map.count : 0);
	json_gen_key_string(g, "disk_backend", disk_backend_name(c->disk));
	json_gen_key_string(g, "lower", c->userns && c->lower_shifted ? "shifted" : "idmapped");
	json_gen_key_u64(g, "disk_limit", c->disk_limit);
	json_gen_key_u64(g, "disk_used", st->disk_used);
	json_gen_key_string(g, "uuid", c->uuid);
	limits_json(g, &c->limits);
	cli_net_status_json(g, c);
	json_gen_map_close(g);
}

static int print_json(json_gen *g)
{
	_cleanup_free_ char *out = NULL;
	int r = json_gen_finish(g, &out, NULL);

	if (r < 0) {
		log_error("JSON output: %s", strerror(-r));
		return r;
	}
	fputs(out, stdout);
	return 0;
}

int cli_status_json(const instance_status *st)
{
	json_gen *g = json_gen_new();

	if (!g)
		return -ENOMEM;
	status_json(g, st);
	return print_json(g);
}

int cli_list_json(const berth_paths *p, char **names)
{
	json_gen *g = json_gen_new();

	if (!g)
		return -ENOMEM;
	json_gen_array_open(g);
	for (char **n = names; *n; n++) {
		instance_status st;
		berr err = {0};

		if (instance_status_get(p, *n, &st, &err) < 0) {
			log_warn("%s: %s", *n, err.msg);
			continue;
		}
		status_json(g, &st);
		instance_status_free(&st);
	}
	json_gen_array_close(g);
	return print_json(g);
}

int cli_list_print(const berth_paths *p, char **names)
{
	printf("%-20s %-24s %-10s %-12s %s\n", "NAME", "STATE", "INIT-PID", "UPTIME", "TEMPLATE");
	for (char **n = names; *n; n++) {
		instance_status st;
		berr err = {0};
		char pid[16] = "-", uptime[32];

		if (instance_status_get(p, *n, &st, &err) < 0) {
			printf("%-20s %-24s\n", *n, "(unreadable config)");
			continue;
		}
		format_uptime(uptime, sizeof(uptime), &st);
		if (st.running)
			snprintf(pid, sizeof(pid), "%d", (int)st.state.init_pid);
		printf("%-20s %-24s %-10s %-12s %s\n", *n, state_word(&st), pid, uptime,
		       st.config.template);
		instance_status_free(&st);
	}
	return 0;
}
