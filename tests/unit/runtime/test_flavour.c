/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "runtime.h"

Test(init_flavour, names_round_trip)
{
	static const char *const names[] = {"unknown", "systemd", "busybox", "sysvinit", "openrc"};
	init_flavour f = INIT_SYSTEMD;

	for (init_flavour i = INIT_UNKNOWN; i <= INIT_OPENRC; i++) {
		cr_expect_str_eq(init_flavour_name(i), names[i]);
		cr_expect_eq(init_flavour_parse(names[i], &f), 0);
		cr_expect_eq(f, i);
	}
	f = INIT_SYSTEMD;
	cr_expect_eq(init_flavour_parse("Systemd", &f), -EINVAL);
	cr_expect_eq(init_flavour_parse("", &f), -EINVAL);
	cr_expect_eq(init_flavour_parse("upstart", &f), -EINVAL);
	cr_expect_eq(f, INIT_SYSTEMD, "*ret is written only on success");
	cr_expect_str_eq(init_flavour_name((init_flavour)42), "unknown");
}

/* The table in docs/INIT-SYSTEMS.md; each pair read from the init's own sources. */
Test(init_flavour, signal_table)
{
	static const struct {
		init_flavour f;
		int halt, reboot;
	} table[] = {
		{INIT_SYSTEMD, 0, 0}, /* SIGRTMIN+4 / +5, filled below: not constants */
		{INIT_BUSYBOX, SIGUSR2, SIGTERM},
		{INIT_SYSVINIT, SIGPWR, SIGINT},
		{INIT_OPENRC, SIGTERM, SIGINT},
		{INIT_UNKNOWN, SIGTERM, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		init_signals s = init_flavour_signals(table[i].f);
		int halt = table[i].f == INIT_SYSTEMD ? SIGRTMIN + 4 : table[i].halt;
		int reboot = table[i].f == INIT_SYSTEMD ? SIGRTMIN + 5 : table[i].reboot;

		cr_expect_eq(s.halt, halt, "%s halt: %d", init_flavour_name(table[i].f), s.halt);
		cr_expect_eq(s.reboot, reboot, "%s reboot: %d", init_flavour_name(table[i].f),
			     s.reboot);
		cr_expect_neq(s.halt, s.reboot, "halt and reboot differ");
		cr_expect(s.halt > 0 && s.halt <= SIGRTMAX);
	}
	cr_expect_eq(SIGRTMIN + 4, 38, "glibc's SIGRTMIN is 34, as in every glibc guest");
}

/* A fake layer tree under a temp dir: lower/, upper/, and outside/ beside them. */
static char tmp[64];

static void tree_setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/berth-unit-flavour-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void tree_teardown(void) { rm_rf_at(AT_FDCWD, tmp); }

static char *at(const char *rel) { return str_printf("%s/%s", tmp, rel); }

static void mkparents(const char *rel)
{
	_cleanup_free_ char *p = at(rel);
	char *slash = strrchr(p, '/');

	*slash = '\0';
	cr_assert_eq(mkdir_p(p, 0755), 0, "mkdir -p %s", p);
}

/* A file whose content is an ELF header followed by text. */
static void elf(const char *rel, const char *text)
{
	_cleanup_free_ char *p = at(rel);
	_cleanup_free_ char *data = str_printf("\177ELF\2\1\1%s", text);

	mkparents(rel);
	cr_assert_eq(write_file_atomic(p, data, strlen(data), 0755), 0, "write %s", p);
}

static void link_to(const char *rel, const char *target)
{
	_cleanup_free_ char *p = at(rel);

	mkparents(rel);
	cr_assert_eq(symlink(target, p), 0, "symlink %s -> %s: %s", p, target, strerror(errno));
}

static init_flavour detect(bool with_upper, const char *init)
{
	_cleanup_free_ char *lower = at("lower");
	_cleanup_free_ char *upper = at("upper");

	return init_flavour_detect(lower, with_upper ? upper : NULL, init);
}

TestSuite(detect, .init = tree_setup, .fini = tree_teardown);

Test(detect, busybox_relative_link_chain)
{
	elf("lower/bin/busybox", "BusyBox v1.35.0");
	link_to("lower/sbin/init", "../bin/busybox");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_BUSYBOX);
	/* Merged /usr: /sbin -> usr/sbin, init -> ../../bin/busybox via a second link. */
	cr_assert_eq(rename(at("lower/sbin"), at("lower/usr-sbin")), 0);
	link_to("lower/sbin", "usr/sbin");
	link_to("lower/usr/sbin/init", "../../bin/../bin/./busybox");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_BUSYBOX);
}

Test(detect, systemd_absolute_link_inside_the_layer)
{
	elf("lower/lib/systemd/systemd", "systemd 252");
	link_to("lower/sbin/init", "/lib/systemd/systemd");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_SYSTEMD);
	/* Without it in the layer: not the host's /lib/systemd/systemd. */
	cr_assert_eq(unlink(at("lower/lib/systemd/systemd")), 0);
	cr_expect_eq(detect(false, "/sbin/init"), INIT_UNKNOWN);
}

Test(detect, escaping_link_stays_inside)
{
	/* ../../.. from lower/sbin would reach tmp/outside: the layer's root stops it. */
	elf("outside/init", "INIT_VERSION=sysvinit-3.06");
	elf("lower/outside/init", "BusyBox");
	link_to("lower/sbin/init", "../../../outside/init");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_BUSYBOX);
	cr_expect_eq(detect(false, "/../../outside/init"), INIT_BUSYBOX, "init_path alike");
	link_to("lower/sbin/abs", "/../../../../outside/init");
	cr_expect_eq(detect(false, "/sbin/abs"), INIT_BUSYBOX);
}

Test(detect, upper_overrides_lower)
{
	elf("lower/bin/busybox", "BusyBox");
	elf("lower/lib/systemd/systemd", "systemd");
	link_to("lower/sbin/init", "../bin/busybox");
	cr_expect_eq(detect(true, "/sbin/init"), INIT_BUSYBOX, "no upper dir yet: the lower");
	/* The instance switched init: its link is in upper, the target only in lower. */
	link_to("upper/sbin/init", "/lib/systemd/systemd");
	cr_expect_eq(detect(true, "/sbin/init"), INIT_SYSTEMD);
	cr_expect_eq(detect(false, "/sbin/init"), INIT_BUSYBOX, "without upper: the template");
	cr_assert_eq(unlink(at("upper/sbin/init")), 0);
	elf("upper/sbin/init", "INIT_VERSION=sysvinit-3.06");
	cr_expect_eq(detect(true, "/sbin/init"), INIT_SYSVINIT);
}

static void whiteout(const char *rel)
{
	_cleanup_free_ char *p = at(rel);

	mkparents(rel);
	if (mknod(p, S_IFCHR | 0000, makedev(0, 0)) < 0)
		cr_skip_test("cannot make a whiteout here: %s", strerror(errno));
}

Test(detect, whiteout_in_upper_hides_lower)
{
	elf("lower/bin/busybox", "BusyBox");
	link_to("lower/sbin/init", "../bin/busybox");
	whiteout("upper/sbin/init");
	cr_expect_eq(detect(true, "/sbin/init"), INIT_UNKNOWN, "init deleted in the instance");
	cr_assert_eq(unlink(at("upper/sbin/init")), 0);
	whiteout("upper/bin");
	cr_expect_eq(detect(true, "/sbin/init"), INIT_UNKNOWN, "the link's directory deleted");
}

Test(detect, opaque_upper_directory_hides_lower)
{
	_cleanup_free_ char *sbin = at("upper/sbin");

	elf("lower/bin/busybox", "BusyBox");
	link_to("lower/sbin/init", "../bin/busybox");
	cr_assert_eq(mkdir_p(sbin, 0755), 0);
	cr_expect_eq(detect(true, "/sbin/init"), INIT_BUSYBOX, "a plain upper dir merges");
	if (setxattr(sbin, "user.overlay.opaque", "y", 1, 0) < 0)
		cr_skip_test("no user xattrs on %s: %s", tmp, strerror(errno));
	cr_expect_eq(detect(true, "/sbin/init"), INIT_UNKNOWN);
}

Test(detect, by_contents_of_a_file_named_init)
{
	elf("lower/sbin/init", "GNU C INIT_VERSION=sysvinit-3.06");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_SYSVINIT);
	cr_assert_eq(unlink(at("lower/sbin/init")), 0);
	elf("lower/sbin/init", "BusyBox v1.36.1 multi-call binary");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_BUSYBOX, "a hard-linked busybox");
	cr_assert_eq(unlink(at("lower/sbin/init")), 0);
	elf("lower/sbin/init", "OpenRC init version %s starting");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_OPENRC);
	cr_assert_eq(unlink(at("lower/sbin/init")), 0);
	elf("lower/sbin/init", "systemd 252 running in system mode");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_SYSTEMD);
	cr_assert_eq(unlink(at("lower/sbin/init")), 0);
	elf("lower/sbin/init", "BusyBox and INIT_VERSION");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_UNKNOWN, "two flavours: no guess");
	cr_assert_eq(unlink(at("lower/sbin/init")), 0);
	elf("lower/sbin/init", "tini");
	cr_expect_eq(detect(false, "/sbin/init"), INIT_UNKNOWN);
	cr_assert_eq(unlink(at("lower/sbin/init")), 0);
	mkparents("lower/sbin/init");
	cr_assert_eq(
		write_file_atomic(at("lower/sbin/init"), "#!/bin/sh\n# INIT_VERSION\n", 26, 0755),
		0);
	cr_expect_eq(detect(false, "/sbin/init"), INIT_UNKNOWN, "a script is not read as ELF");
}

Test(detect, marker_across_a_read_boundary)
{
	size_t pad = 64 * 1024 - 10;
	_cleanup_free_ char *text = malloc(pad + 32);
	_cleanup_free_ char *p = at("lower/sbin/init");

	memcpy(text, "\177ELF", 4);
	memset(text + 4, 'x', pad - 4);
	memcpy(text + pad, "INIT_VERSION=3", 15);
	mkparents("lower/sbin/init");
	cr_assert_eq(write_file_atomic(p, text, pad + 14, 0755), 0);
	cr_expect_eq(detect(false, "/sbin/init"), INIT_SYSVINIT);
}

Test(detect, names_decide_before_contents)
{
	elf("lower/sbin/openrc-init", "");
	cr_expect_eq(detect(false, "/sbin/openrc-init"), INIT_OPENRC);
	elf("lower/usr/lib/systemd/systemd", "");
	cr_expect_eq(detect(false, "/usr/lib/systemd/systemd"), INIT_SYSTEMD);
	elf("lower/sbin/runit-init", "BusyBox");
	cr_expect_eq(detect(false, "/sbin/runit-init"), INIT_UNKNOWN, "only init is read");
}

Test(detect, unknown_when_unsure)
{
	char link[32], target[32];

	cr_expect_eq(detect(false, "/sbin/init"), INIT_UNKNOWN, "no lower dir");
	cr_assert_eq(mkdir_p(at("lower/sbin/init"), 0755), 0);
	cr_expect_eq(detect(false, "/sbin/init"), INIT_UNKNOWN, "a directory");
	cr_expect_eq(detect(false, "/"), INIT_UNKNOWN, "the root");
	cr_expect_eq(detect(false, "/sbin/missing"), INIT_UNKNOWN);
	cr_expect_eq(init_flavour_detect(NULL, NULL, "/sbin/init"), INIT_UNKNOWN);
	link_to("lower/a", "b");
	link_to("lower/b", "a");
	cr_expect_eq(detect(false, "/a"), INIT_UNKNOWN, "a loop");
	link_to("lower/dangling", "/nowhere/busybox");
	cr_expect_eq(detect(false, "/dangling"), INIT_UNKNOWN, "a name alone is not enough");

	/* 16 hops are followed, 17 are not. */
	elf("lower/bin/busybox", "BusyBox");
	for (int i = 0; i < 17; i++) {
		snprintf(link, sizeof(link), "lower/l%d", i);
		snprintf(target, sizeof(target), i == 16 ? "bin/busybox" : "l%d", i + 1);
		link_to(link, target);
	}
	cr_expect_eq(detect(false, "/l1"), INIT_BUSYBOX, "16 links");
	cr_expect_eq(detect(false, "/l0"), INIT_UNKNOWN, "17 links");
}
