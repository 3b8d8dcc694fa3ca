/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime.h"

#define RULE "use 1-63 of a-z, 0-9 and '-', starting with a letter or digit"

Test(instance_name, table)
{
	static const char *const good[] = {"a", "0", "web1", "a-b", "1-", "9lives", "a--b"};
	static const char *const bad[] = {"",      "..",    ".",    "a/b",
					  "Web_1", "-a",    "a_b",  "A",
					  "a.b",   " a",    "a\n",  "\xc3\xa9t\xc3\xa9",
					  "a b",   "web1/", "/web1"};
	char max[INSTANCE_NAME_MAX + 2];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		cr_expect(instance_name_valid(good[i]), "\"%s\" should be valid", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		berr err = {0};

		cr_expect_not(instance_name_valid(bad[i]), "\"%s\" should be refused", bad[i]);
		cr_expect_eq(instance_name_check(bad[i], &err), -EINVAL);
		cr_expect(strstr(err.msg, RULE), "message for \"%s\" states the rule: %s", bad[i],
			  err.msg);
	}
	memset(max, 'a', INSTANCE_NAME_MAX);
	max[INSTANCE_NAME_MAX] = '\0';
	cr_expect(instance_name_valid(max), "63 characters are allowed");
	max[INSTANCE_NAME_MAX] = 'a';
	max[INSTANCE_NAME_MAX + 1] = '\0';
	cr_expect_not(instance_name_valid(max), "64 characters are not");
	cr_expect_not(instance_name_valid(NULL));
}

Test(instance_name, messages)
{
	berr err = {0};
	char long_name[80];

	cr_expect_eq(instance_name_check("web1", &err), 0);
	instance_name_check("Web_1", &err);
	cr_expect_str_eq(err.msg, "instance name \"Web_1\": " RULE);
	instance_name_check("", &err);
	cr_expect_str_eq(err.msg, "instance name is empty: " RULE);
	instance_name_check("a\x1b[2Jb", &err);
	cr_expect_str_eq(err.msg, "instance name \"a?[2Jb\": " RULE, "no terminal escapes: %s",
			 err.msg);
	memset(long_name, 'x', 70);
	long_name[70] = '\0';
	instance_name_check(long_name, &err);
	cr_expect(strstr(err.msg, "is 70 characters long"), "%s", err.msg);
}

static void config_full(instance_config *c)
{
	instance_config_init(c);
	c->name = strdup("web1");
	c->uuid = strdup("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	c->template = strdup("debian-12");
	c->hostname = strdup("web1.example.com");
	c->init = strdup("/lib/systemd/systemd");
	c->flavour = INIT_SYSTEMD;
	c->halt_signal = SIGRTMIN + 3;
	c->reboot_signal = SIGINT;
	c->autostart = true;
	c->userns = true;
	c->map = (idmap){0, 2000000, 131072};
	c->stop_timeout = 86400;
	c->created = 1700000000;
}

static void config_expect_eq(const instance_config *a, const instance_config *b)
{
	cr_expect_str_eq(a->name, b->name);
	cr_expect_str_eq(a->uuid, b->uuid);
	cr_expect_str_eq(a->template, b->template);
	if (a->hostname && b->hostname)
		cr_expect_str_eq(a->hostname, b->hostname);
	else
		cr_expect_eq(a->hostname, b->hostname, "hostname NULL on one side only");
	cr_expect_str_eq(a->init, b->init);
	cr_expect_eq(a->flavour, b->flavour);
	cr_expect_eq(a->halt_signal, b->halt_signal);
	cr_expect_eq(a->reboot_signal, b->reboot_signal);
	cr_expect_eq(a->autostart, b->autostart);
	cr_expect_eq(a->userns, b->userns);
	cr_expect_eq(a->map.inside, b->map.inside);
	cr_expect_eq(a->map.outside, b->map.outside);
	cr_expect_eq(a->map.count, b->map.count);
	cr_expect_eq(a->stop_timeout, b->stop_timeout);
	cr_expect_eq(a->created, b->created);
}

static void config_round_trip(const instance_config *c)
{
	_cleanup_free_ char *text = NULL;
	instance_config back;
	berr err = {0};
	size_t len = 0;

	cr_assert_eq(instance_config_to_json(c, &text, &len), 0);
	cr_expect_eq(strlen(text), len);
	cr_assert_eq(instance_config_from_json(text, &back, &err), 0, "%s\n%s", err.msg, text);
	config_expect_eq(c, &back);
	instance_config_free(&back);
}

Test(instance_config, round_trip)
{
	instance_config c;

	config_full(&c);
	config_round_trip(&c);
	for (init_flavour f = INIT_UNKNOWN; f <= INIT_OPENRC; f++) {
		c.flavour = f;
		config_round_trip(&c);
	}
	/* Defaults and edges: no hostname (the name), no user namespace, base 0 allowed then. */
	free(c.hostname);
	c.hostname = NULL;
	c.userns = false;
	c.autostart = false;
	c.map = (idmap){0, 0, 1};
	c.halt_signal = SIGRTMAX;
	c.reboot_signal = 0;
	c.stop_timeout = 0;
	c.created = INT64_MIN;
	config_round_trip(&c);
	instance_config_free(&c);
}

Test(instance_config, defaults)
{
	const char *min = "{\"name\": \"web1\", \"uuid\": \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\","
			  " \"template\": \"default\"}";
	instance_config c, d;
	berr err = {0};

	instance_config_init(&d);
	cr_expect_null(d.name);
	cr_expect_null(d.init, "all strings NULL after init");
	cr_expect(d.userns);
	cr_expect_eq(d.map.outside, 1000000);
	cr_expect_eq(d.map.count, 65536);
	cr_expect_eq(d.stop_timeout, 30);
	cr_expect_eq(d.flavour, INIT_UNKNOWN);
	cr_assert_eq(instance_config_from_json(min, &c, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c.init, "/sbin/init", "an absent init is the default");
	cr_expect_null(c.hostname, "an absent hostname means the name");
	cr_expect_eq(c.userns, d.userns);
	cr_expect_eq(c.map.outside, d.map.outside);
	cr_expect_eq(c.map.count, d.map.count);
	cr_expect_eq(c.stop_timeout, d.stop_timeout);
	cr_expect_eq(c.flavour, INIT_UNKNOWN);
	cr_expect_eq(c.halt_signal, 0);
	cr_expect_not(c.autostart);
	instance_config_free(&c);
	cr_expect_null(c.name, "free leaves a clean struct");
}

/* A valid config with one field replaced (value NULL: removed), as a JSON text. */
static char *config_with(const char *key, const char *value)
{
	static const char *const fields[][2] = {
		{"name", "\"web1\""},
		{"uuid", "\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\""},
		{"template", "\"default\""},
		{"hostname", "\"web1\""},
		{"init", "\"/sbin/init\""},
		{"init_flavour", "\"busybox\""},
		{"halt_signal", "0"},
		{"reboot_signal", "0"},
		{"autostart", "false"},
		{"userns", "true"},
		{"idmap", "{\"base\": 1000000, \"count\": 65536}"},
		{"stop_timeout", "30"},
		{"created", "1700000000"},
	};
	char buf[2048];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{");
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const char *v = str_eq(fields[i][0], key) ? value : fields[i][1];

		if (v)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"%s\": %s",
					      n > 1 ? ", " : "", fields[i][0], v);
	}
	snprintf(buf + n, sizeof(buf) - n, "}");
	return strdup(buf);
}

static void config_rejects(const char *key, const char *value, const char *expect_in_msg)
{
	_cleanup_free_ char *text = config_with(key, value);
	instance_config c, sentinel;
	berr err = {0};

	memset(&c, 0x5a, sizeof(c));
	memcpy(&sentinel, &c, sizeof(c));
	cr_expect_lt(instance_config_from_json(text, &c, &err), 0, "%s = %s should be refused", key,
		     value ? value : "(absent)");
	cr_expect(strstr(err.msg, expect_in_msg), "%s = %s: \"%s\" should contain \"%s\"", key,
		  value ? value : "(absent)", err.msg, expect_in_msg);
	cr_expect_eq(memcmp(&c, &sentinel, sizeof(c)), 0, "*ret is written only on success");
}

Test(instance_config, valid_base_document)
{
	_cleanup_free_ char *text = config_with("", NULL);
	instance_config c;
	berr err = {0};

	cr_assert_eq(instance_config_from_json(text, &c, &err), 0, "%s: %s", text, err.msg);
	cr_expect_eq(c.flavour, INIT_BUSYBOX);
	instance_config_free(&c);
}

Test(instance_config, rejects_missing_and_wrong_types)
{
	config_rejects("name", NULL, "field \"name\" is missing");
	config_rejects("uuid", NULL, "field \"uuid\" is missing");
	config_rejects("template", NULL, "field \"template\" is missing");
	config_rejects("name", "null", "field \"name\" is missing");
	config_rejects("name", "1", "field \"name\": expected a string");
	config_rejects("hostname", "[]", "field \"hostname\": expected a string");
	config_rejects("init_flavour", "3", "field \"init_flavour\": expected a string");
	config_rejects("halt_signal", "\"15\"", "field \"halt_signal\": expected an integer");
	config_rejects("reboot_signal", "1.5", "field \"reboot_signal\": expected an integer");
	config_rejects("stop_timeout", "true", "field \"stop_timeout\": expected an integer");
	config_rejects("autostart", "\"yes\"", "field \"autostart\": expected true or false");
	config_rejects("userns", "1", "field \"userns\": expected true or false");
	config_rejects("idmap", "5", "field \"idmap\": expected an object");
	config_rejects("idmap", "{\"base\": \"1\", \"count\": 65536}",
		       "field \"idmap.base\": expected an integer");
	config_rejects("created", "\"today\"", "field \"created\": expected an integer");
	config_rejects("created", "99999999999999999999", "field \"created\": out of range");
}

Test(instance_config, rejects_bad_values)
{
	char sig_range[32];

	snprintf(sig_range, sizeof(sig_range), "use 1-%d", SIGRTMAX);
	config_rejects("name", "\"Web_1\"", "field \"name\": instance name \"Web_1\": " RULE);
	config_rejects("name", "\"..\"", "field \"name\"");
	config_rejects("uuid", "\"xyz\"", "field \"uuid\": \"xyz\" is not a UUID");
	config_rejects("uuid", "\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0x\"", "field \"uuid\"");
	config_rejects("template", "\"../etc\"", "field \"template\"");
	config_rejects("hostname", "\"-bad\"", "field \"hostname\": \"-bad\" is not a valid host");
	config_rejects("init", "\"sbin/init\"", "field \"init\": \"sbin/init\" is not an absolute");
	config_rejects("init_flavour", "\"upstart\"", "field \"init_flavour\": \"upstart\" is not");
	config_rejects("halt_signal", "99", "field \"halt_signal\": 99 is out of range");
	config_rejects("halt_signal", "99", sig_range);
	config_rejects("reboot_signal", "-1", "field \"reboot_signal\": -1 is out of range");
	config_rejects("stop_timeout", "86401", "field \"stop_timeout\": 86401 is out of range");
	config_rejects("stop_timeout", "-1", "field \"stop_timeout\": -1 is out of range");
	config_rejects("idmap", "{\"base\": 1000000, \"count\": 1000}",
		       "field \"idmap.count\": 1000 is too small");
	config_rejects("idmap", "{\"base\": 0, \"count\": 65536}",
		       "field \"idmap.base\": 0 would make root inside host root");
	config_rejects("idmap", "{\"base\": 4294967295, \"count\": 65536}",
		       "field \"idmap\": the range runs past the largest id");
	config_rejects("idmap", "{\"base\": 4294967296, \"count\": 65536}",
		       "field \"idmap.base\": 4294967296 is out of range");
}

Test(instance_config, rejects_malformed_and_non_objects)
{
	static const char *const texts[][2] = {
		{"", "malformed JSON at line 1, column 1: parse error: premature EOF"},
		{"{\"name\": \"web1\",", "premature EOF"},
		{"{\"name\": \"web1\"\n \"uuid\": 1}", "malformed JSON at line 2, column "},
		{"[]", "expected a JSON object"},
		{"\"web1\"", "expected a JSON object"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		instance_config c;
		berr err = {0};

		cr_expect_eq(instance_config_from_json(texts[i][0], &c, &err), -EINVAL);
		cr_expect(strstr(err.msg, texts[i][1]), "\"%s\": \"%s\" should contain \"%s\"",
			  texts[i][0], err.msg, texts[i][1]);
	}
}

Test(instance_config, unknown_fields_are_ignored)
{
	_cleanup_free_ char *text = config_with("autostart", "true, \"future\": {\"x\": [1, 2]}");
	instance_config c;
	berr err = {0};

	cr_assert_eq(instance_config_from_json(text, &c, &err), 0, "%s", err.msg);
	cr_expect(c.autostart);
	instance_config_free(&c);
}

Test(instance_config, userns_off_ignores_the_map)
{
	_cleanup_free_ char *text =
		config_with("userns", "false, \"idmap\": {\"base\": 0, \"count\": 1}");
	_cleanup_free_ char *bad = config_with("userns", "false, \"idmap\": {\"base\": -1}");
	instance_config c;
	berr err = {0};

	/* config_with puts the replacement before the normal idmap: the first key wins. */
	cr_assert_eq(instance_config_from_json(text, &c, &err), 0, "%s", err.msg);
	cr_expect_eq(c.map.outside, 0);
	instance_config_free(&c);
	cr_expect_lt(instance_config_from_json(bad, &c, &err), 0, "types are still checked");
}

static char *make_tmpdir(void)
{
	char *d = strdup("/tmp/berth-unit-config-XXXXXX");

	cr_assert_not_null(mkdtemp(d));
	return d;
}

Test(instance_config, save_and_load)
{
	_cleanup_free_ char *d = make_tmpdir();
	_cleanup_free_ char *path = str_printf("%s/config.json", d);
	_cleanup_free_ char *missing = str_printf("%s/nope.json", d);
	instance_config c, back;
	berr err = {0};
	struct stat st;

	config_full(&c);
	cr_assert_eq(instance_config_save(path, &c, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "the config is private");
	cr_assert_eq(instance_config_load(path, &back, &err), 0, "%s", err.msg);
	config_expect_eq(&c, &back);
	instance_config_free(&back);

	cr_expect_eq(instance_config_load(missing, &back, &err), -ENOENT);
	cr_expect(strstr(err.msg, missing), "the error names the file: %s", err.msg);
	cr_assert_eq(write_file_atomic(path, "{\"name\": 1}", 11, 0600), 0);
	cr_expect_eq(instance_config_load(path, &back, &err), -EINVAL);
	cr_expect(str_startswith(err.msg, path), "%s", err.msg);
	cr_expect(strstr(err.msg, "field \"name\""), "%s", err.msg);
	cr_assert_eq(write_file_atomic(path, "{}\0{}", 5, 0600), 0);
	cr_expect_eq(instance_config_load(path, &back, &err), -EINVAL);
	cr_expect(strstr(err.msg, "NUL"), "%s", err.msg);

	/* Never write what would not load: nothing is written. */
	free(c.name);
	c.name = strdup("Bad_Name");
	unlink(path);
	cr_expect_lt(instance_config_save(path, &c, &err), 0);
	cr_expect(strstr(err.msg, "field \"name\""), "%s", err.msg);
	cr_expect_neq(access(path, F_OK), 0, "no file written");
	free(c.name);
	c.name = strdup("web1\xff");
	cr_expect_eq(instance_config_save(path, &c, &err), -EILSEQ);
	instance_config_free(&c);
	rm_rf_at(AT_FDCWD, d);
}

static void state_full(instance_state *st)
{
	*st = (instance_state){0};
	snprintf(st->state, sizeof(st->state), "rebooting");
	st->init_pid = 4194304;
	st->init_start = UINT64_MAX;
	st->monitor_pid = 1;
	st->monitor_start = 123456789012345ull;
	st->started_at = -5;
	st->boots = UINT32_MAX;
	snprintf(st->last_exit, sizeof(st->last_exit), "killed by SIGKILL");
	snprintf(st->cgroup, sizeof(st->cgroup), "berth/web1");
	memset(st->init_cgroup, 'c', sizeof(st->init_cgroup) - 1);
}

static void state_expect_eq(const instance_state *a, const instance_state *b)
{
	cr_expect_str_eq(a->state, b->state);
	cr_expect_eq(a->init_pid, b->init_pid);
	cr_expect_eq(a->init_start, b->init_start);
	cr_expect_eq(a->monitor_pid, b->monitor_pid);
	cr_expect_eq(a->monitor_start, b->monitor_start);
	cr_expect_eq(a->started_at, b->started_at);
	cr_expect_eq(a->boots, b->boots);
	cr_expect_str_eq(a->last_exit, b->last_exit);
	cr_expect_str_eq(a->cgroup, b->cgroup);
	cr_expect_str_eq(a->init_cgroup, b->init_cgroup);
}

Test(instance_state, round_trip_and_save)
{
	_cleanup_free_ char *d = make_tmpdir();
	_cleanup_free_ char *path = str_printf("%s/state.json", d);
	_cleanup_free_ char *text = NULL;
	instance_state st, back;
	berr err = {0};
	struct stat sb;

	state_full(&st);
	cr_assert_eq(instance_state_to_json(&st, &text, NULL), 0);
	cr_assert_eq(instance_state_from_json(text, &back, &err), 0, "%s\n%s", err.msg, text);
	state_expect_eq(&st, &back);

	cr_assert_eq(instance_state_save(path, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0644, "state is world-readable");
	memset(&back, 0, sizeof(back));
	cr_assert_eq(instance_state_load(path, &back, &err), 0, "%s", err.msg);
	state_expect_eq(&st, &back);
	rm_rf_at(AT_FDCWD, d);
}

static void state_rejects(const char *text, const char *expect_in_msg)
{
	instance_state st;
	berr err = {0};

	cr_expect_lt(instance_state_from_json(text, &st, &err), 0, "%s should be refused", text);
	cr_expect(strstr(err.msg, expect_in_msg), "%s: \"%s\" should contain \"%s\"", text, err.msg,
		  expect_in_msg);
}

Test(instance_state, rejects)
{
	state_rejects("{\"init_pid\": 1}", "field \"state\" is missing");
	state_rejects("{\"state\": \"\"}", "field \"state\" is missing or empty");
	state_rejects("{\"state\": \"running-for-a-long-time\"}",
		      "field \"state\": longer than 15 bytes");
	state_rejects("{\"state\": 1}", "field \"state\": expected a string");
	state_rejects("{\"state\": \"running\", \"init_pid\": -2}",
		      "field \"init_pid\": -2 is out");
	state_rejects("{\"state\": \"running\", \"init_pid\": \"12\"}",
		      "field \"init_pid\": expected an integer");
	state_rejects("{\"state\": \"running\", \"init_start\": -1}", "field \"init_start\"");
	state_rejects("{\"state\": \"running\", \"boots\": 4294967296}", "field \"boots\"");
	state_rejects("{\"state\": \"running\", \"cgroup\": false}", "field \"cgroup\"");
	state_rejects("{\"state\": \"running\"", "malformed JSON");
}

Test(instance_state, minimal_and_unknown_fields)
{
	instance_state st;
	berr err = {0};

	cr_assert_eq(instance_state_from_json("{\"state\": \"stopped\", \"new\": [1]}", &st, &err),
		     0, "%s", err.msg);
	cr_expect_str_eq(st.state, "stopped");
	cr_expect_eq(st.init_pid, 0);
	cr_expect_str_eq(st.last_exit, "");
}
