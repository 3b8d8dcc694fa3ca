/* SPDX-License-Identifier: MIT */
/* The mount plan for a container root: a plain list, no syscalls. */
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "rootfs.h"

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int plan_add(mount_plan *p, mount_entry e)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		mount_entry *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = e;
	return 0;
}

#define ADD(...)                                                  \
	do {                                                      \
		int _r = plan_add(p, (mount_entry){__VA_ARGS__}); \
		if (_r < 0)                                       \
			return _r;                                \
	} while (0)

static int plan_pseudo_fs(mount_plan *p, const rootfs_opts *o)
{
	ADD(.kind = MOUNT_FS, .source = "proc", .target = "/proc", .fstype = "proc",
	    .mflags = NOSUID_NODEV_NOEXEC);
	ADD(.kind = MOUNT_FS, .source = "sysfs", .target = "/sys", .fstype = "sysfs",
	    .mflags = NOSUID_NODEV_NOEXEC | MS_RDONLY);
	/* The cgroup namespace makes the container's own leaf the root of this view. */
	if (!o->cgroup_from_host)
		ADD(.kind = MOUNT_FS, .source = "cgroup2", .target = "/sys/fs/cgroup",
		    .fstype = "cgroup2", .mflags = NOSUID_NODEV_NOEXEC);
	ADD(.kind = MOUNT_FS, .source = "tmpfs", .target = "/run", .fstype = "tmpfs",
	    .mflags = MS_NOSUID | MS_NODEV, .data = "mode=755");
	/* systemd's container interface: /run/lock a tmpfs of its own, as podman and Debian do. */
	ADD(.kind = MOUNT_FS, .source = "tmpfs", .target = "/run/lock", .fstype = "tmpfs",
	    .mflags = NOSUID_NODEV_NOEXEC, .data = "mode=1777,size=5m");
	return 0;
}

/* /run/host: what the container manager tells its guest (os-release, notify socket). */
static int plan_run_host(mount_plan *p, const rootfs_opts *o)
{
	if (o->run_host)
		ADD(.kind = MOUNT_BIND, .source = o->run_host, .target = "/run/host",
		    .mflags = MS_RDONLY | NOSUID_NODEV_NOEXEC);
	return 0;
}

static int plan_dev(mount_plan *p, const rootfs_opts *o)
{
	static const struct {
		const char *path;
		unsigned int major, minor;
	} nodes[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
		     {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
	static const char *const links[][2] = {{"pts/ptmx", "/dev/ptmx"},
					       {"/proc/self/fd", "/dev/fd"},
					       {"/proc/self/fd/0", "/dev/stdin"},
					       {"/proc/self/fd/1", "/dev/stdout"},
					       {"/proc/self/fd/2", "/dev/stderr"}};

	ADD(.kind = MOUNT_FS, .source = "tmpfs", .target = "/dev", .fstype = "tmpfs",
	    .mflags = MS_NOSUID | MS_STRICTATIME, .data = "mode=755,size=65536k");
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		/* In a user namespace mknod is refused: bind the host's node instead. */
		ADD(.kind = MOUNT_DEVNODE, .source = nodes[i].path, .target = nodes[i].path,
		    .flags = MOUNT_FILE, .mode = S_IFCHR | 0666,
		    .dev = makedev(nodes[i].major, nodes[i].minor));
	}
	ADD(.kind = MOUNT_FS, .source = "devpts", .target = "/dev/pts", .fstype = "devpts",
	    .mflags = MS_NOSUID | MS_NOEXEC, .data = "newinstance,ptmxmode=0666,mode=0620,gid=5");
	ADD(.kind = MOUNT_FS, .source = "shm", .target = "/dev/shm", .fstype = "tmpfs",
	    .mflags = NOSUID_NODEV_NOEXEC, .data = "mode=1777");
	ADD(.kind = MOUNT_FS, .source = "mqueue", .target = "/dev/mqueue", .fstype = "mqueue",
	    .mflags = NOSUID_NODEV_NOEXEC);
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		ADD(.kind = MOUNT_SYMLINK, .source = links[i][0], .target = links[i][1]);
	if (o->console)
		ADD(.kind = MOUNT_BIND, .source = o->console, .target = "/dev/console",
		    .flags = MOUNT_FILE, .mflags = MS_NOSUID | MS_NOEXEC);
	return 0;
}

/*
 * Hide what leaks the host (kernel memory, keys, timers of other processes,
 * firmware) and make the kernel's knobs read-only; /proc/sys/net belongs to
 * the container's own network namespace and stays writable.
 */
static int plan_proc_sys_protection(mount_plan *p)
{
	static const char *const masked[] = {
		"/proc/kcore",         "/proc/keys",
		"/proc/timer_list",    "/proc/sched_debug",
		"/proc/latency_stats", "/proc/timer_stats",
		"/proc/acpi",          "/proc/scsi",
		"/sys/firmware",       "/sys/devices/virtual/powercap"};
	static const char *const readonly[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
					       "/proc/bus", "/proc/fs"};

	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		ADD(.kind = MOUNT_MASK, .target = masked[i], .flags = MOUNT_OPTIONAL);
	/* A mount of its own, so that the read-only /proc/sys above it leaves it writable. */
	ADD(.kind = MOUNT_BIND, .source = NULL, .target = "/proc/sys/net", .flags = MOUNT_OPTIONAL);
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++)
		ADD(.kind = MOUNT_READONLY, .target = readonly[i], .flags = MOUNT_OPTIONAL);
	return 0;
}

int rootfs_mount_plan_build(const rootfs_opts *opts, mount_plan *ret)
{
	mount_plan p = {0};
	int r;

	r = plan_pseudo_fs(&p, opts);
	if (r >= 0)
		r = plan_run_host(&p, opts);
	if (r >= 0)
		r = plan_dev(&p, opts);
	if (r >= 0)
		r = plan_proc_sys_protection(&p);
	/*
	 * The instance's DNS servers (berth's network config); read-only: berth
	 * owns it. Optional: a root without the file, or whose file is a link to
	 * one made later (systemd-resolved's stub), keeps its own.
	 */
	if (r >= 0 && opts->resolv_conf)
		r = plan_add(&p, (mount_entry){.kind = MOUNT_BIND,
					       .source = opts->resolv_conf,
					       .target = "/etc/resolv.conf",
					       .flags = MOUNT_FILE | MOUNT_OPTIONAL,
					       .mflags = MS_RDONLY | NOSUID_NODEV_NOEXEC});
	if (r < 0) {
		rootfs_mount_plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void rootfs_mount_plan_free(mount_plan *plan)
{
	free(plan->v);
	*plan = (mount_plan){0};
}

const mount_entry *rootfs_mount_plan_find(const mount_plan *plan, const char *target)
{
	for (size_t i = 0; i < plan->n; i++)
		if (str_eq(plan->v[i].target, target))
			return &plan->v[i];
	return NULL;
}
