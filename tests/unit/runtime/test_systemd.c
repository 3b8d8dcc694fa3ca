/* SPDX-License-Identifier: MIT */
/*
 * The host side of systemd (docs/SYSTEMD.md): where an instance's cgroup goes
 * under a delegated unit (delegate.c), the drop-ins berth enable writes
 * (autostart.c), and the config fields they read. Pure: no root, no cgroup.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "runtime-internal.h"

Test(delegate, self_cgroup_is_the_v2_line_without_its_slash)
{
	char buf[128];

	cr_assert_eq(cgroup_self_parse("0::/system.slice/system-berth.slice/berth@web1.service\n",
				       buf, sizeof(buf)),
		     0);
	cr_assert_str_eq(buf, "system.slice/system-berth.slice/berth@web1.service");
	/* Hybrid host: v1 lines first; only "0::" counts. */
	cr_assert_eq(cgroup_self_parse("12:pids:/user.slice\n1:name=systemd:/x\n0::/a/b\n", buf,
				       sizeof(buf)),
		     0);
	cr_assert_str_eq(buf, "a/b");
	cr_assert_eq(cgroup_self_parse("0::/\n", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "", "the root cgroup is the empty path");
}

Test(delegate, self_cgroup_errors)
{
	char buf[8];

	cr_assert_eq(cgroup_self_parse("12:pids:/x\n", buf, sizeof(buf)), -ENOENT,
		     "no v2 line: no cgroup to be in");
	cr_assert_eq(cgroup_self_parse("0::/much/too/long/for/buf\n", buf, sizeof(buf)),
		     -ENAMETOOLONG);
}

Test(delegate, layout_puts_leaves_below_the_unit)
{
	char buf[128];

	cr_assert_eq(delegate_layout("system.slice/berth@a.service", "payload", buf, sizeof(buf)),
		     0);
	cr_assert_str_eq(buf, "system.slice/berth@a.service/payload");
	cr_assert_eq(
		delegate_layout("system.slice/berth@a.service", "supervisor", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "system.slice/berth@a.service/supervisor");
}

Test(delegate, layout_refuses_root_absolute_dotdot_and_overflow)
{
	char buf[16];

	cr_assert_eq(delegate_layout("", "payload", buf, sizeof(buf)), -EINVAL,
		     "the root cgroup is nobody's delegation");
	cr_assert_eq(delegate_layout("/abs", "payload", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(delegate_layout("a/../b", "payload", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(delegate_layout("system.slice/x", "payload", buf, sizeof(buf)), -ENAMETOOLONG);
}

static instance_config cfg(const char *name, bool autostart, unsigned int order, unsigned int delay)
{
	instance_config c;

	instance_config_init(&c);
	c.name = (char *)name;
	c.autostart = autostart;
	c.boot_order = order;
	c.boot_delay = delay;
	return c;
}

Test(autostart, dropin_orders_after_every_lower_autostart_instance)
{
	instance_config all[] = {cfg("db", true, 1, 0), cfg("cache", true, 1, 0),
				 cfg("web", true, 2, 0), cfg("off", false, 0, 0),
				 cfg("peer", true, 2, 0)};
	_cleanup_free_ char *web = autostart_dropin(&all[2], all, 5);
	_cleanup_free_ char *db = autostart_dropin(&all[0], all, 5);

	cr_assert_not_null(
		strstr(web, "[Unit]\nAfter=berth@db.service\nAfter=berth@cache.service\n"), "%s",
		web);
	cr_assert_null(strstr(web, "berth@peer"), "same order: no ordering (%s)", web);
	cr_assert_null(strstr(web, "berth@off"), "not autostart: not waited for (%s)", web);
	cr_assert_null(strstr(web, "[Service]"), "no delay, no service section (%s)", web);
	cr_assert_null(strstr(db, "After="), "lowest order waits for nobody (%s)", db);
}

Test(autostart, dropin_delay_is_a_post_start_sleep_with_a_longer_start_timeout)
{
	instance_config all[] = {cfg("db", true, 0, 7)};
	_cleanup_free_ char *db = autostart_dropin(&all[0], all, 1);

	cr_assert_not_null(
		strstr(db, "[Service]\nExecStartPost=/bin/sleep 7\nTimeoutStartSec=307\n"), "%s",
		db);
}

Test(autostart, config_round_trips_order_and_delay_and_refuses_out_of_range)
{
	instance_config c = cfg("web", true, 42, 9), back;
	_cleanup_free_ char *json = NULL;
	berr err = {0};

	c.uuid = (char *)"00000000-0000-0000-0000-000000000000";
	c.template = (char *)"default";
	cr_assert_eq(instance_config_to_json(&c, &json, NULL), 0);
	cr_assert_eq(instance_config_from_json(json, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.boot_order, 42);
	cr_assert_eq(back.boot_delay, 9);
	cr_assert(back.autostart);
	instance_config_free(&back);

	/* Out of range: refused, naming the field and the range. */
	char *at = strstr(json, "\"boot_order\": 42");

	cr_assert_not_null(at, "%s", json);
	_cleanup_free_ char *bad = str_printf("%.*s\"boot_order\": 1000%s", (int)(at - json), json,
					      at + strlen("\"boot_order\": 42"));
	cr_assert_lt(instance_config_from_json(bad, &back, &err), 0, "boot_order 1000 accepted");
	cr_assert_not_null(strstr(err.msg, "boot_order"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "0-999"), "%s", err.msg);
}
