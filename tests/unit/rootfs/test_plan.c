/* SPDX-License-Identifier: MIT */
/* The mount plan for a container root: what a user relies on, checked without mounting. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rootfs.h"

static mount_plan plan_for(bool userns, const char *console)
{
	rootfs_opts o = {.userns = userns, .console = console};
	mount_plan p;

	cr_assert_eq(rootfs_mount_plan_build(&o, &p), 0);
	return p;
}

static size_t index_of(const mount_plan *p, const char *target)
{
	const mount_entry *e = rootfs_mount_plan_find(p, target);

	cr_assert_not_null(e, "plan has %s", target);
	return (size_t)(e - p->v);
}

Test(plan, pseudo_file_systems)
{
	mount_plan p = plan_for(true, NULL);
	const mount_entry *proc = rootfs_mount_plan_find(&p, "/proc");
	const mount_entry *sys = rootfs_mount_plan_find(&p, "/sys");
	const mount_entry *cg = rootfs_mount_plan_find(&p, "/sys/fs/cgroup");
	const mount_entry *run = rootfs_mount_plan_find(&p, "/run");

	cr_assert(proc && sys && cg && run);
	cr_expect_str_eq(proc->fstype, "proc");
	cr_expect(proc->mflags & MS_NOSUID && proc->mflags & MS_NODEV && proc->mflags & MS_NOEXEC);
	cr_expect_str_eq(sys->fstype, "sysfs");
	cr_expect(sys->mflags & MS_RDONLY, "/sys is read-only");
	cr_expect_str_eq(cg->fstype, "cgroup2", "cgroup2, never v1, at /sys/fs/cgroup");
	cr_expect_gt(index_of(&p, "/sys/fs/cgroup"), index_of(&p, "/sys"), "after /sys");
	cr_expect_str_eq(run->fstype, "tmpfs");
	rootfs_mount_plan_free(&p);
}

/* Hybrid hosts: the host mounts the instance's cgroup2, which the instance itself could not. */
Test(plan, cgroup2_from_the_host_leaves_it_out)
{
	rootfs_opts o = {.userns = true, .cgroup_from_host = true};
	mount_plan p;

	cr_assert_eq(rootfs_mount_plan_build(&o, &p), 0);
	cr_expect_null(rootfs_mount_plan_find(&p, "/sys/fs/cgroup"),
		       "no cgroup mount of the instance's own in the plan");
	cr_expect_not_null(rootfs_mount_plan_find(&p, "/sys"), "/sys is still there");
	rootfs_mount_plan_free(&p);
}

Test(plan, dev_nodes_and_devpts)
{
	static const struct {
		const char *path;
		unsigned int maj, min;
	} want[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
		    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
	mount_plan p = plan_for(true, NULL);
	size_t dev = index_of(&p, "/dev");

	cr_expect_str_eq(p.v[dev].fstype, "tmpfs");
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		const mount_entry *e = rootfs_mount_plan_find(&p, want[i].path);

		cr_assert_not_null(e, "%s planned", want[i].path);
		cr_expect_eq(e->kind, MOUNT_DEVNODE);
		cr_expect(S_ISCHR(e->mode));
		cr_expect_eq(major(e->dev), want[i].maj, "%s major", want[i].path);
		cr_expect_eq(minor(e->dev), want[i].min, "%s minor", want[i].path);
		cr_expect_str_eq(e->source, want[i].path, "bound from the host's node");
		cr_expect_gt(index_of(&p, want[i].path), dev, "after the /dev tmpfs");
	}
	cr_expect_str_eq(rootfs_mount_plan_find(&p, "/dev/pts")->fstype, "devpts");
	cr_expect(strstr(rootfs_mount_plan_find(&p, "/dev/pts")->data, "newinstance") != NULL,
		  "a devpts of its own, not the host's");
	cr_expect_eq(rootfs_mount_plan_find(&p, "/dev/ptmx")->kind, MOUNT_SYMLINK);
	cr_expect_str_eq(rootfs_mount_plan_find(&p, "/dev/ptmx")->source, "pts/ptmx");
	cr_expect_str_eq(rootfs_mount_plan_find(&p, "/dev/shm")->fstype, "tmpfs");
	cr_expect_null(rootfs_mount_plan_find(&p, "/dev/console"), "no console without a terminal");
	rootfs_mount_plan_free(&p);
}

Test(plan, console_bound_from_terminal)
{
	mount_plan p = plan_for(true, "/dev/pts/3");
	const mount_entry *c = rootfs_mount_plan_find(&p, "/dev/console");

	cr_assert_not_null(c);
	cr_expect_eq(c->kind, MOUNT_BIND);
	cr_expect_str_eq(c->source, "/dev/pts/3");
	cr_expect(c->flags & MOUNT_FILE);
	rootfs_mount_plan_free(&p);
}

Test(plan, host_leaks_masked_and_kernel_knobs_read_only)
{
	static const char *const masked[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
					     "/proc/sched_debug", "/sys/firmware"};
	static const char *const ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
					 "/proc/bus"};
	mount_plan p = plan_for(true, NULL);
	size_t proc = index_of(&p, "/proc"), net = index_of(&p, "/proc/sys/net");

	for (size_t i = 0; i < ARRAY_SIZE(masked); i++) {
		const mount_entry *e = rootfs_mount_plan_find(&p, masked[i]);

		cr_assert_not_null(e, "%s masked", masked[i]);
		cr_expect_eq(e->kind, MOUNT_MASK);
		cr_expect(e->flags & MOUNT_OPTIONAL, "%s may be absent on this kernel", masked[i]);
		cr_expect_gt(index_of(&p, masked[i]), proc);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
		cr_expect_eq(rootfs_mount_plan_find(&p, ro[i])->kind, MOUNT_READONLY, "%s", ro[i]);
	/* /proc/sys/net gets its own mount first, so the read-only /proc/sys leaves it writable. */
	cr_expect_eq(p.v[net].kind, MOUNT_BIND);
	cr_expect_null(p.v[net].source);
	cr_expect_lt(net, index_of(&p, "/proc/sys"));
	rootfs_mount_plan_free(&p);
}

Test(plan, every_target_absolute_and_unique)
{
	mount_plan p = plan_for(false, "/dev/pts/0");

	for (size_t i = 0; i < p.n; i++) {
		cr_expect_eq(p.v[i].target[0], '/', "%s absolute", p.v[i].target);
		cr_expect_null(strstr(p.v[i].target, ".."), "%s has no ..", p.v[i].target);
		for (size_t j = i + 1; j < p.n; j++)
			cr_expect_str_neq(p.v[i].target, p.v[j].target, "%s planned twice",
					  p.v[i].target);
	}
	rootfs_mount_plan_free(&p);
}

/* systemd's container interface: /run/lock a tmpfs of its own, /run/host read-only after /run. */
Test(plan, run_lock_and_run_host)
{
	rootfs_opts o = {.userns = true, .run_host = "/proc/self/fd/9"};
	mount_plan p, none = plan_for(true, NULL);
	const mount_entry *lock, *host;

	cr_assert_eq(rootfs_mount_plan_build(&o, &p), 0);
	lock = rootfs_mount_plan_find(&p, "/run/lock");
	host = rootfs_mount_plan_find(&p, "/run/host");
	cr_assert(lock && host);
	cr_expect_str_eq(lock->fstype, "tmpfs");
	cr_expect(strstr(lock->data, "mode=1777") != NULL);
	cr_expect(lock->mflags & MS_NOSUID && lock->mflags & MS_NODEV && lock->mflags & MS_NOEXEC);
	cr_expect_eq(host->kind, MOUNT_BIND);
	cr_expect_str_eq(host->source, "/proc/self/fd/9");
	cr_expect(host->mflags & MS_RDONLY, "/run/host is read-only");
	cr_expect_lt(index_of(&p, "/run"), index_of(&p, "/run/lock"));
	cr_expect_lt(index_of(&p, "/run"), index_of(&p, "/run/host"));
	cr_expect_null(rootfs_mount_plan_find(&none, "/run/host"), "no /run/host unless asked");
	rootfs_mount_plan_free(&p);
	rootfs_mount_plan_free(&none);
}
