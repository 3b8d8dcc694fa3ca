/* SPDX-License-Identifier: MIT */
/*
 * Instance names, config.json (the operator's config) and state.json (what
 * runs now).
 *
 * Reading is strict about what it knows and lenient about what it does not: a
 * known field with the wrong type or a bad value is refused with the field's
 * name; an unknown field is ignored, so that a file written by a newer berth
 * (with fields this one does not know) still loads. Optional fields that are
 * absent (or null) keep instance_config_init's defaults.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "rootfs.h"
#include "runtime-internal.h"

#define NAME_RULE "use 1-63 of a-z, 0-9 and '-', starting with a letter or digit"
#define INIT_DEFAULT "/sbin/init"
#define STOP_TIMEOUT_DEFAULT 30
#define STOP_TIMEOUT_MAX 86400 /* a day: anything longer is a typo */

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && !first);
}

bool instance_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > INSTANCE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i], i == 0))
			return false;
	return true;
}

/* name as it can be shown on a terminal: control characters as '?', cut after 64 bytes. */
static void printable(const char *name, char *buf, size_t size)
{
	size_t i, max = INSTANCE_NAME_MAX + 1;

	for (i = 0; name[i] && i < max && i + 4 < size; i++)
		buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	buf[i] = '\0';
	if (name[i])
		snprintf(buf + i, size - i, "...");
}

int instance_name_check(const char *name, berr *err)
{
	char shown[INSTANCE_NAME_MAX + 8];

	if (instance_name_valid(name))
		return 0;
	if (!name || !name[0])
		return berr_setx(err, EINVAL, "instance name is empty: " NAME_RULE);
	printable(name, shown, sizeof(shown));
	if (strlen(name) > INSTANCE_NAME_MAX)
		return berr_setx(err, EINVAL,
				 "instance name \"%s\" is %zu characters long: " NAME_RULE, shown,
				 strlen(name));
	return berr_setx(err, EINVAL, "instance name \"%s\": " NAME_RULE, shown);
}

void instance_config_init(instance_config *c)
{
	*c = (instance_config){
		.flavour = INIT_UNKNOWN,
		.userns = true,
		.map = {0, IDMAP_DEFAULT_BASE, IDMAP_DEFAULT_COUNT},
		.stop_timeout = STOP_TIMEOUT_DEFAULT,
		.net = {.mode = NET_NONE, .antispoof = true},
	};
}

void instance_config_free(instance_config *c)
{
	free(c->name);
	free(c->uuid);
	free(c->template);
	free(c->hostname);
	free(c->init);
	instance_config_init(c);
}

/* "limits": {"cpus": "1.5", "memory": "512M", "io_read_bps": "254:16=4M"}: the option values. */
static void limits_to_json(json_gen *g, const cg_limits *l)
{
	json_gen_key(g, "limits");
	json_gen_map_open(g);
	for (int k = 0; k < CG_LIMIT_KEYS; k++) {
		char key[32], value[CG_IO_DEVICES_MAX * 48];

		if (!cg_limits_has(l, (cg_limit_key)k) ||
		    cg_limits_format(l, (cg_limit_key)k, value, sizeof(value)) < 0)
			continue;
		snprintf(key, sizeof(key), "%s", cg_limit_option((cg_limit_key)k));
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		json_gen_key_string(g, key, value);
	}
	json_gen_map_close(g);
}

int instance_config_to_json(const instance_config *c, char **ret, size_t *ret_len)
{
	json_gen *g = json_gen_new();

	if (!g)
		return -ENOMEM;
	json_gen_map_open(g);
	json_gen_key_string(g, "name", c->name);
	json_gen_key_string(g, "uuid", c->uuid);
	json_gen_key_string(g, "template", c->template);
	json_gen_key_string(g, "hostname", c->hostname); /* null: the name */
	json_gen_key_string(g, "init", c->init ? c->init : INIT_DEFAULT);
	json_gen_key_string(g, "init_flavour", init_flavour_name(c->flavour));
	json_gen_key_int(g, "halt_signal", c->halt_signal);
	json_gen_key_int(g, "reboot_signal", c->reboot_signal);
	json_gen_key_bool(g, "autostart", c->autostart);
	json_gen_key_int(g, "boot_order", c->boot_order);
	json_gen_key_int(g, "boot_delay", c->boot_delay);
	json_gen_key_bool(g, "userns", c->userns);
	json_gen_key(g, "idmap");
	json_gen_map_open(g);
	json_gen_key_int(g, "base", c->map.outside);
	json_gen_key_int(g, "count", c->map.count);
	json_gen_map_close(g);
	json_gen_key_int(g, "stop_timeout", c->stop_timeout);
	json_gen_key_int(g, "created", c->created);
	limits_to_json(g, &c->limits);
	instance_net_to_json(g, &c->net);
	json_gen_key_string(g, "lower", c->lower_shifted ? "shifted" : "idmapped");
	if (c->disk != DISK_NONE) {
		json_gen_key(g, "disk");
		json_gen_map_open(g);
		json_gen_key_string(g, "backend", disk_backend_name(c->disk));
		json_gen_key_u64(g, "limit", c->disk_limit);
		json_gen_map_close(g);
	}
	json_gen_map_close(g);
	return json_gen_finish(g, ret, ret_len);
}

const char *disk_backend_name(disk_backend b)
{
	return b == DISK_IMAGE ? "image" : b == DISK_PROJECT ? "project" : "none";
}

/*
 * Field readers. Each returns 0 when the field is absent (the default stays),
 * or an error naming the field ("idmap/base" is shown as "idmap.base").
 */
static const char *field(const char *key, char buf[64])
{
	snprintf(buf, 64, "%s", key);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = '.';
	return buf;
}

static int type_error(const char *key, const char *type, berr *err)
{
	char f[64];

	return berr_setx(err, EINVAL, "field \"%s\": expected %s", field(key, f), type);
}

static int get_string(const json_tree *t, const char *key, bool required, char **ret, berr *err)
{
	const char *s;
	char f[64], *copy;
	int r = json_get_string(t, key, &s);

	if (r == -ENOENT && !required)
		return 0;
	if (r == -ENOENT)
		return berr_setx(err, EINVAL, "field \"%s\" is missing", field(key, f));
	if (r < 0)
		return type_error(key, "a string", err);
	copy = strdup(s);
	if (!copy)
		return berr_set(err, ENOMEM, "field \"%s\"", field(key, f));
	free(*ret);
	*ret = copy;
	return 0;
}

/* A string into a fixed buffer of the state. */
static int get_fixed(const json_tree *t, const char *key, char *buf, size_t size, berr *err)
{
	const char *s;
	char f[64];
	int r = json_get_string(t, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return type_error(key, "a string", err);
	if (strlen(s) >= size)
		return berr_setx(err, ERANGE, "field \"%s\": longer than %zu bytes", field(key, f),
				 size - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int get_int(const json_tree *t, const char *key, int64_t min, int64_t max, const char *hint,
		   int64_t *ret, berr *err)
{
	int64_t v = 0;
	char f[64];
	int r = json_get_int(t, key, &v);

	if (r == -ENOENT)
		return 0;
	if (r == -EINVAL)
		return type_error(key, "an integer", err);
	if (r < 0)
		return berr_setx(err, ERANGE, "field \"%s\": out of range (%s)", field(key, f),
				 hint);
	if (v < min || v > max)
		return berr_setx(err, ERANGE, "field \"%s\": %lld is out of range (%s)",
				 field(key, f), (long long)v, hint);
	*ret = v;
	return 0;
}

static int get_bool(const json_tree *t, const char *key, bool *ret, berr *err)
{
	int r = json_get_bool(t, key, ret);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? type_error(key, "true or false", err) : 0;
}

static int get_u64(const json_tree *t, const char *key, uint64_t *ret, berr *err)
{
	int r = json_get_u64(t, key, ret);

	if (r == -ENOENT)
		return 0;
	if (r == -EINVAL)
		return type_error(key, "an integer", err);
	return r < 0 ? type_error(key, "an integer from 0 to 2^64-1", err) : 0;
}

static bool uuid_valid(const char *s)
{
	static const size_t groups[] = {8, 4, 4, 4, 12};

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		if (g > 0 && *s++ != '-')
			return false;
		for (size_t i = 0; i < groups[g]; i++, s++)
			if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
			      (*s >= 'A' && *s <= 'F')))
				return false;
	}
	return *s == '\0';
}

static int config_strings(const json_tree *t, instance_config *c, berr *err)
{
	const char *flavour = NULL;
	int r;

	if ((r = get_string(t, "name", true, &c->name, err)) < 0 ||
	    (r = get_string(t, "uuid", true, &c->uuid, err)) < 0 ||
	    (r = get_string(t, "template", true, &c->template, err)) < 0 ||
	    (r = get_string(t, "hostname", false, &c->hostname, err)) < 0 ||
	    (r = get_string(t, "init", false, &c->init, err)) < 0)
		return r;
	if (!c->init && !(c->init = strdup(INIT_DEFAULT)))
		return berr_set(err, ENOMEM, "field \"init\"");
	r = json_get_string(t, "init_flavour", &flavour);
	if (r == -EINVAL)
		return type_error("init_flavour", "a string", err);
	if (r == 0 && init_flavour_parse(flavour, &c->flavour) < 0)
		return berr_setx(err, EINVAL,
				 "field \"init_flavour\": \"%s\" is not one of systemd, busybox, "
				 "sysvinit, openrc, unknown",
				 flavour);
	return 0;
}

/* Each limit is parsed as its option would be: the same values, the same errors. */
static int config_limits(const json_tree *t, instance_config *c, berr *err)
{
	const json_tree *obj;
	int r = json_get_object(t, "limits", &obj);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return type_error("limits", "an object", err);
	for (int k = 0; k < CG_LIMIT_KEYS; k++) {
		char key[32];
		const char *value;

		snprintf(key, sizeof(key), "%s", cg_limit_option((cg_limit_key)k));
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		r = json_get_string(obj, key, &value);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return berr_setx(err, EINVAL, "field \"limits.%s\": expected a string",
					 key);
		r = cg_limits_parse(&c->limits, (cg_limit_key)k, value, err);
		if (r < 0) {
			berr_prefix(err, "field \"limits.%s\"", key);
			return r;
		}
	}
	return 0;
}

/* "lower": "idmapped" (absent too) or "shifted" (shifted.c). */
static int config_lower(const json_tree *t, instance_config *c, berr *err)
{
	const char *lower = NULL;
	int r = json_get_string(t, "lower", &lower);

	if (r == -ENOENT)
		return 0;
	if (r < 0 || !(str_eq(lower, "shifted") || str_eq(lower, "idmapped")))
		return berr_setx(err, EINVAL,
				 "field \"lower\": expected \"idmapped\" or \"shifted\"");
	c->lower_shifted = str_eq(lower, "shifted");
	return 0;
}

/* "disk": {"backend": "image", "limit": 21474836480}; absent: no limit. */
static int config_disk(const json_tree *t, instance_config *c, berr *err)
{
	const json_tree *obj;
	const char *backend = NULL;
	int r = json_get_object(t, "disk", &obj);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return type_error("disk", "an object with backend and limit", err);
	r = json_get_string(obj, "backend", &backend);
	if (r < 0 ||
	    !(str_eq(backend, "image") || str_eq(backend, "project") || str_eq(backend, "none")))
		return berr_setx(
			err, EINVAL,
			"field \"disk.backend\": expected \"project\", \"image\" or \"none\"");
	c->disk = str_eq(backend, "image")     ? DISK_IMAGE
		  : str_eq(backend, "project") ? DISK_PROJECT
					       : DISK_NONE;
	r = get_u64(t, "disk/limit", &c->disk_limit, err);
	if (r < 0)
		return r;
	if (c->disk != DISK_NONE && c->disk_limit == 0)
		return berr_setx(err, EINVAL, "field \"disk.limit\": missing or 0");
	return 0;
}

static int config_numbers(const json_tree *t, instance_config *c, berr *err)
{
	int64_t halt = c->halt_signal, reboot = c->reboot_signal, base = c->map.outside,
		count = c->map.count, timeout = c->stop_timeout, order = c->boot_order,
		delay = c->boot_delay;
	const json_tree *idmap_obj;
	char sig_hint[64];
	int r;

	snprintf(sig_hint, sizeof(sig_hint), "use 1-%d, or 0 for the init flavour's default",
		 SIGRTMAX);
	r = json_get_object(t, "idmap", &idmap_obj);
	if (r == -EINVAL)
		return type_error("idmap", "an object with base and count", err);
	if ((r = get_int(t, "halt_signal", 0, SIGRTMAX, sig_hint, &halt, err)) < 0 ||
	    (r = get_int(t, "reboot_signal", 0, SIGRTMAX, sig_hint, &reboot, err)) < 0 ||
	    (r = get_int(t, "idmap/base", 0, UINT32_MAX, "0-4294967295", &base, err)) < 0 ||
	    (r = get_int(t, "idmap/count", 0, UINT32_MAX, "0-4294967295", &count, err)) < 0 ||
	    (r = get_int(t, "stop_timeout", 0, STOP_TIMEOUT_MAX, "0-86400 seconds", &timeout,
			 err)) < 0 ||
	    (r = get_int(t, "created", INT64_MIN, INT64_MAX, "unix time", &c->created, err)) < 0 ||
	    (r = get_int(t, "boot_order", 0, BOOT_ORDER_MAX, "0-999", &order, err)) < 0 ||
	    (r = get_int(t, "boot_delay", 0, BOOT_DELAY_MAX, "0-3600 seconds", &delay, err)) < 0 ||
	    (r = get_bool(t, "autostart", &c->autostart, err)) < 0 ||
	    (r = get_bool(t, "userns", &c->userns, err)) < 0)
		return r;
	c->halt_signal = (int)halt;
	c->reboot_signal = (int)reboot;
	c->map = (idmap){0, (uint32_t)base, (uint32_t)count};
	c->stop_timeout = (unsigned int)timeout;
	c->boot_order = (unsigned int)order;
	c->boot_delay = (unsigned int)delay;
	return 0;
}

/* Values that parse but make no sense; the same rules as berth create's options. */
static int config_check(const instance_config *c, berr *err)
{
	int r = instance_name_check(c->name, err);

	if (r < 0) {
		berr_prefix(err, "field \"name\"");
		return r;
	}
	r = rootfs_template_name_check(c->template, err);
	if (r < 0) {
		berr_prefix(err, "field \"template\"");
		return r;
	}
	if (!uuid_valid(c->uuid))
		return berr_setx(err, EINVAL,
				 "field \"uuid\": \"%s\" is not a UUID (8-4-4-4-12 hex digits)",
				 c->uuid);
	if (c->hostname && !spec_hostname_valid(c->hostname))
		return berr_setx(err, EINVAL,
				 "field \"hostname\": \"%s\" is not a valid host name (letters, "
				 "digits, '-' and '.', at most 64 characters)",
				 c->hostname);
	if (c->init[0] != '/')
		return berr_setx(err, EINVAL, "field \"init\": \"%s\" is not an absolute path",
				 c->init);
	if (!c->userns)
		return 0; /* the map is not used */
	if (c->map.count < IDMAP_DEFAULT_COUNT)
		return berr_setx(err, EINVAL,
				 "field \"idmap.count\": %u is too small (at least %u, so that "
				 "nobody, 65534, exists inside)",
				 c->map.count, IDMAP_DEFAULT_COUNT);
	if (c->map.outside == 0)
		return berr_setx(err, EINVAL,
				 "field \"idmap.base\": 0 would make root inside host root (set "
				 "\"userns\": false if that is meant)");
	if ((uint64_t)c->map.outside + c->map.count - 1 > UINT32_MAX - 1)
		return berr_setx(err, ERANGE,
				 "field \"idmap\": the range runs past the largest id");
	return 0;
}

static int parse_object(const char *json, json_tree **ret, berr *err)
{
	json_tree *t = NULL;
	int r = json_parse(json, &t, err);

	if (r < 0)
		return r;
	if (!json_is_object(t)) {
		json_tree_free(t);
		return berr_setx(err, EINVAL, "expected a JSON object ({...})");
	}
	*ret = t;
	return 0;
}

int instance_config_from_json(const char *json, instance_config *ret, berr *err)
{
	json_tree *t = NULL;
	instance_config c;
	int r = parse_object(json, &t, err);

	if (r < 0)
		return r;
	instance_config_init(&c);
	if ((r = config_strings(t, &c, err)) < 0 || (r = config_numbers(t, &c, err)) < 0 ||
	    (r = config_limits(t, &c, err)) < 0 ||
	    (r = instance_net_from_json(t, &c.net, err)) < 0 || (r = config_disk(t, &c, err)) < 0 ||
	    (r = config_lower(t, &c, err)) < 0 || (r = config_check(&c, err)) < 0) {
		instance_config_free(&c);
		json_tree_free(t);
		return r;
	}
	json_tree_free(t);
	*ret = c;
	return 0;
}

static int load_text(const char *path, char **ret, berr *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_file_at(AT_FDCWD, path, &text, &len);

	if (r < 0)
		return berr_set(err, -r, "read %s", path);
	if (strlen(text) != len)
		return berr_setx(err, EINVAL, "%s: holds a NUL byte: not JSON", path);
	*ret = TAKE_PTR(text);
	return 0;
}

int instance_config_load(const char *path, instance_config *ret, berr *err)
{
	_cleanup_free_ char *text = NULL;
	int r = load_text(path, &text, err);

	if (r < 0)
		return r;
	r = instance_config_from_json(text, ret, err);
	if (r < 0)
		berr_prefix(err, "%s", path);
	return r;
}

static int save_text(const char *path, const char *text, size_t len, mode_t mode, berr *err)
{
	int r = write_file_atomic(path, text, len, mode);

	return r < 0 ? berr_set(err, -r, "write %s", path) : 0;
}

static int to_json_error(const char *path, int r, berr *err)
{
	if (r == -EILSEQ)
		return berr_setx(err, EILSEQ, "write %s: a field is not valid UTF-8", path);
	return berr_set(err, -r, "write %s", path);
}

int instance_config_save(const char *path, const instance_config *c, berr *err)
{
	_cleanup_free_ char *text = NULL;
	instance_config check;
	size_t len = 0;
	int r = instance_config_to_json(c, &text, &len);

	if (r < 0)
		return to_json_error(path, r, err);
	/* Never write a file that the next command would refuse to read. */
	r = instance_config_from_json(text, &check, err);
	if (r < 0) {
		berr_prefix(err, "write %s", path);
		return r;
	}
	instance_config_free(&check);
	return save_text(path, text, len, 0600, err);
}

int instance_state_to_json(const instance_state *st, char **ret, size_t *ret_len)
{
	json_gen *g = json_gen_new();

	if (!g)
		return -ENOMEM;
	json_gen_map_open(g);
	json_gen_key_string(g, "state", st->state);
	json_gen_key_int(g, "init_pid", st->init_pid);
	json_gen_key_u64(g, "init_start", st->init_start);
	json_gen_key_int(g, "monitor_pid", st->monitor_pid);
	json_gen_key_u64(g, "monitor_start", st->monitor_start);
	json_gen_key_int(g, "started_at", st->started_at);
	json_gen_key_int(g, "boots", st->boots);
	json_gen_key_string(g, "last_exit", st->last_exit);
	json_gen_key_string(g, "cgroup", st->cgroup);
	json_gen_key_string(g, "init_cgroup", st->init_cgroup);
	json_gen_key_bool(g, "ready", st->ready);
	json_gen_key_string(g, "status", st->status);
	json_gen_map_close(g);
	return json_gen_finish(g, ret, ret_len);
}

static int state_fields(const json_tree *t, instance_state *st, berr *err)
{
	int64_t init_pid = 0, monitor_pid = 0, boots = 0;
	int r;

	if ((r = get_fixed(t, "state", st->state, sizeof(st->state), err)) < 0 ||
	    (r = get_fixed(t, "last_exit", st->last_exit, sizeof(st->last_exit), err)) < 0 ||
	    (r = get_fixed(t, "cgroup", st->cgroup, sizeof(st->cgroup), err)) < 0 ||
	    (r = get_fixed(t, "init_cgroup", st->init_cgroup, sizeof(st->init_cgroup), err)) < 0 ||
	    (r = get_fixed(t, "status", st->status, sizeof(st->status), err)) < 0 ||
	    (r = get_bool(t, "ready", &st->ready, err)) < 0 ||
	    (r = get_int(t, "init_pid", 0, INT32_MAX, "a pid", &init_pid, err)) < 0 ||
	    (r = get_int(t, "monitor_pid", 0, INT32_MAX, "a pid", &monitor_pid, err)) < 0 ||
	    (r = get_int(t, "boots", 0, UINT32_MAX, "0-4294967295", &boots, err)) < 0 ||
	    (r = get_int(t, "started_at", INT64_MIN, INT64_MAX, "unix time", &st->started_at,
			 err)) < 0 ||
	    (r = get_u64(t, "init_start", &st->init_start, err)) < 0 ||
	    (r = get_u64(t, "monitor_start", &st->monitor_start, err)) < 0)
		return r;
	if (!st->state[0])
		return berr_setx(err, EINVAL, "field \"state\" is missing or empty");
	st->init_pid = (pid_t)init_pid;
	st->monitor_pid = (pid_t)monitor_pid;
	st->boots = (unsigned int)boots;
	return 0;
}

int instance_state_from_json(const char *json, instance_state *ret, berr *err)
{
	json_tree *t = NULL;
	instance_state st = {0};
	int r = parse_object(json, &t, err);

	if (r < 0)
		return r;
	r = state_fields(t, &st, err);
	json_tree_free(t);
	if (r < 0)
		return r;
	*ret = st;
	return 0;
}

int instance_state_load(const char *path, instance_state *ret, berr *err)
{
	_cleanup_free_ char *text = NULL;
	int r = load_text(path, &text, err);

	if (r < 0)
		return r;
	r = instance_state_from_json(text, ret, err);
	if (r < 0)
		berr_prefix(err, "%s", path);
	return r;
}

int instance_state_save(const char *path, const instance_state *st, berr *err)
{
	_cleanup_free_ char *text = NULL;
	instance_state check;
	size_t len = 0;
	int r = instance_state_to_json(st, &text, &len);

	if (r < 0)
		return to_json_error(path, r, err);
	r = instance_state_from_json(text, &check, err);
	if (r < 0) {
		berr_prefix(err, "write %s", path);
		return r;
	}
	return save_text(path, text, len, 0644, err);
}
