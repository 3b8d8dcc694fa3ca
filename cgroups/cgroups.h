/* SPDX-License-Identifier: MIT */
/* cgroups: cgroup v2 only. Every function takes its root as a directory fd. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common.h"

/*
 * Find the cgroup2 mount in a mountinfo file ("/proc/self/mountinfo" on a
 * real host; a fixture in tests). Hybrid hosts mount it at
 * /sys/fs/cgroup/unified, pure v2 hosts at /sys/fs/cgroup.
 */
int cg_find_mount(const char *mountinfo_path, char **ret_path, berr *err);

/* A leaf cgroup that one container runs in. */
typedef struct cg_leaf {
	int dirfd; /* O_PATH|O_DIRECTORY, for CLONE_INTO_CGROUP and openat */
	int parentfd;
	char *name; /* relative to the cgroup2 root, e.g. "berth/run-1234" */
} cg_leaf;
#define CG_LEAF_INIT ((cg_leaf){.dirfd = -EBADF, .parentfd = -EBADF, .name = NULL})

/*
 * Create root/name (parents as needed). When owner != (uid_t)-1, chown the
 * leaf's directory and its cgroup.procs, cgroup.subtree_control and
 * cgroup.threads to owner:group, so that a root inside a user namespace can
 * manage its own subtree (delegation).
 */
int cg_leaf_create(int rootfd, const char *name, uid_t owner, gid_t group, cg_leaf *ret, berr *err);

/* Kill every process in the leaf (cgroup.kill), wait until it is empty, remove it. */
int cg_leaf_destroy(cg_leaf *leaf, int timeout_ms, berr *err);
/* rmdir dfd/name and the cgroups below it (made by a guest's systemd), deepest first. */
int cg_rmdir_tree(int dfd, const char *name);

/* Wait up to timeout_ms for cgroup.events "populated 0": 0, or -ETIMEDOUT. */
int cg_wait_empty(int dirfd, int timeout_ms);

/* Write "1" to cgroup.kill and wait up to timeout_ms for cgroup.events "populated 0". */
int cg_kill_and_wait(int dirfd, int timeout_ms);

/* Is the cgroup populated? Reads cgroup.events. Returns 1, 0 or -errno. */
int cg_is_populated(int dirfd);

/*
 * Remove the parent of leaf_name ("berth/NAME", "berth-HASH/run.PID") when it
 * is empty: only a first-level parent named berth or berth-*, which berth made;
 * never a delegated unit's cgroup. Busy or not empty: left, not an error.
 */
int cg_parent_prune(int rootfd, const char *leaf_name);
void cg_leaf_close(cg_leaf *leaf);

/*
 * Remove the empty children of root/parent that stale() calls stale: what a
 * killed berth left behind. A populated child is never touched.
 */
void cg_prune(int rootfd, const char *parent, bool (*stale)(const char *name));

/*
 * Limits (limits.c): a limit set is parsed and validated with no syscalls (a
 * DEV path for the io options is resolved with stat()), rendered into the
 * files and exact contents that apply it, and written through the instance
 * cgroup's directory fd.
 */
typedef enum cg_limit_key {
	CG_CPUS,        /* cpu.max: quota in microseconds per CG_CPU_PERIOD_US */
	CG_CPU_WEIGHT,  /* cpu.weight */
	CG_CPUSET,      /* cpuset.cpus (the list is in cg_limits.cpuset) */
	CG_MEMORY,      /* memory.max, bytes */
	CG_MEMORY_HIGH, /* memory.high, bytes */
	CG_SWAP,        /* memory.swap.max, bytes */
	CG_PIDS,        /* pids.max */
	CG_IO_WEIGHT,   /* io.weight */
	CG_IO_READ_BPS, /* io.max, per device (cg_limits.io) */
	CG_IO_WRITE_BPS,
	CG_IO_READ_IOPS,
	CG_IO_WRITE_IOPS,
	CG_LIMIT_KEYS
} cg_limit_key;

#define CG_MAX UINT64_MAX /* "max": no limit */
#define CG_CPU_PERIOD_US 100000
#define CG_IO_DEVICES_MAX 16
#define CG_CPUSET_LEN 128

/* Controllers, as a mask. */
enum {
	CG_CTRL_CPU = 1 << 0,
	CG_CTRL_CPUSET = 1 << 1,
	CG_CTRL_MEMORY = 1 << 2,
	CG_CTRL_PIDS = 1 << 3,
	CG_CTRL_IO = 1 << 4,
};

typedef struct cg_io_device {
	uint32_t major, minor;
	uint64_t rate[4]; /* rbps, wbps, riops, wiops: 0 not given (written as max), CG_MAX max */
} cg_io_device;

typedef struct cg_limits {
	uint32_t set;                     /* bit (1u << key) for each limit given */
	uint64_t value[CG_IO_WEIGHT + 1]; /* CG_MAX: "max" */
	char cpuset[CG_CPUSET_LEN];       /* "0-1,3"; "" with CG_CPUSET set: every CPU */
	cg_io_device io[CG_IO_DEVICES_MAX];
	size_t n_io;
} cg_limits;

static inline bool cg_limits_has(const cg_limits *l, cg_limit_key k) { return l->set & (1u << k); }

/* The option's name without "--" ("cpus", "memory-high", ...); NULL past the last. */
const char *cg_limit_option(cg_limit_key k);
/* "memory-high" or "memory_high" -> CG_MEMORY_HIGH; -EINVAL when unknown. */
int cg_limit_key_parse(const char *option, cg_limit_key *ret);

/*
 * Parse one option's value into l, e.g. (CG_CPUS, "1.5"), (CG_MEMORY, "512M"),
 * (CG_IO_READ_BPS, "/dev/vdb=4M" or "254:16=4M"; several, space-separated,
 * each adding or updating one device). Errors name the limit, the value and
 * the fix. l is unchanged on failure.
 */
int cg_limits_parse(cg_limits *l, cg_limit_key k, const char *value, berr *err);
/* The value in a form cg_limits_parse takes back ("1.5", "512M", "8:0=1M 8:16=max"); "" when not set. */
int cg_limits_format(const cg_limits *l, cg_limit_key k, char *buf, size_t size);
/* Every limit set in changes replaces l's (io: per device and rate). -ENOSPC: too many devices. */
int cg_limits_merge(cg_limits *l, const cg_limits *changes);
/* The controllers l needs (CG_CTRL_*). */
unsigned int cg_limits_controllers(const cg_limits *l);

typedef struct cg_write {
	const char *file; /* "memory.max" */
	char content[160];
} cg_write;
#define CG_WRITES_MAX (CG_IO_WEIGHT + 1 + CG_IO_DEVICES_MAX)

/* The writes that apply l, in order: file and exact content. Returns how many, or -ENOSPC. */
int cg_limits_render(const cg_limits *l, cg_write *out, size_t max);

/*
 * Can this host enforce l? rootfd is the cgroup2 root; proc_cgroups
 * ("/proc/cgroups") says why a controller is missing (bound to a v1
 * hierarchy, disabled, not built). The error names the option and the
 * controller.
 */
int cg_controllers_check(int rootfd, const char *proc_cgroups, const cg_limits *l, berr *err);
/* Enable the controllers l needs in the subtree_control of rootfd and of parent ("berth"). */
int cg_controllers_enable(int rootfd, const char *parent, const cg_limits *l, berr *err);

/* What was in the files before cg_limits_write changed them. */
typedef struct cg_undo {
	cg_write saved[CG_WRITES_MAX];
	size_t n;
} cg_undo;

/*
 * Write l into the cgroup at dirfd. When undo is given it receives the old
 * contents of every file written. On failure, what was already written is
 * put back as it was, and the error names the file and the value.
 */
int cg_limits_write(int dirfd, const cg_limits *l, cg_undo *undo, berr *err);
/* Put the saved contents back, last first. Returns the first error, having tried every one. */
int cg_undo_apply(int dirfd, const cg_undo *undo);

/*
 * Usage of one cgroup, as its files report it; nothing formatted. A field is
 * meaningful only when its CG_HAVE_* bit is set in have: a file is absent when
 * its controller is not enabled for the cgroup (or the kernel predates it,
 * e.g. memory.peak before 5.19), and then the field stays 0, never invented.
 */
enum {
	CG_HAVE_CPU_USAGE = 1u << 0,    /* cpu.stat usage_usec, user_usec, system_usec */
	CG_HAVE_CPU_THROTTLE = 1u << 1, /* cpu.stat nr_throttled, throttled_usec (cpu controller) */
	CG_HAVE_MEMORY = 1u << 2,       /* memory.current */
	CG_HAVE_MEMORY_PEAK = 1u << 3,  /* memory.peak (5.19+) */
	CG_HAVE_MEMORY_MAX = 1u << 4,   /* memory.max */
	CG_HAVE_SWAP = 1u << 5,         /* memory.swap.current */
	CG_HAVE_SWAP_MAX = 1u << 6,     /* memory.swap.max */
	CG_HAVE_MEMORY_EVENTS = 1u << 7, /* memory.events oom, oom_kill */
	CG_HAVE_PIDS = 1u << 8,          /* pids.current */
	CG_HAVE_PIDS_MAX = 1u << 9,      /* pids.max */
	CG_HAVE_IO = 1u << 10,           /* io.stat */
};

/* A limit file that says "max". */
#define CG_UNLIMITED UINT64_MAX

typedef struct cg_stats {
	unsigned int have;      /* CG_HAVE_* */
	bool populated, frozen; /* cgroup.events (always there) */
	uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
	uint64_t cpu_nr_throttled, cpu_throttled_usec;
	uint64_t memory_current, memory_peak, memory_max; /* bytes; max may be CG_UNLIMITED */
	uint64_t swap_current, swap_max;
	uint64_t oom, oom_kill; /* memory.events: times the limit was hit, processes killed */
	uint64_t pids_current, pids_max;
	uint64_t io_rbytes, io_wbytes, io_rios, io_wios; /* summed over devices */
} cg_stats;

/*
 * Parse the text of one stats file (file is its name, e.g. "cpu.stat") into
 * st, setting its CG_HAVE_* bit. Pure: no syscalls. -EINVAL for a name it
 * does not know, -EBADMSG for text it cannot read.
 */
int cg_stats_parse(const char *file, const char *text, cg_stats *st);

/*
 * Read every stats file of the cgroup at dirfd (any fd of its directory, O_PATH
 * is fine). A missing file leaves its fields unavailable. Fails (-errno) only
 * when the cgroup itself is gone or a file present cannot be read or parsed.
 */
int cg_stats_read(int dirfd, cg_stats *ret);

/*
 * Freeze (cgroup.freeze 1) or thaw (0) the cgroup at dirfd, then wait up to
 * timeout_ms for cgroup.events to say "frozen 1" / "frozen 0". 0, -ETIMEDOUT,
 * or -errno (-ENOENT: no cgroup.freeze, a kernel before 5.2).
 */
int cg_freeze(int dirfd, bool freeze, int timeout_ms);

/* Is the cgroup frozen? cgroup.events "frozen": 1, 0 or -errno. */
int cg_is_frozen(int dirfd);

/*
 * Devices (devices.c): the device filter, a BPF_PROG_TYPE_CGROUP_DEVICE
 * program built from an allow list and attached to an instance's cgroup.
 * Everything not on the list is denied, block devices included, even to a
 * process with CAP_MKNOD in the host user namespace.
 */
enum {
	CG_DEV_MKNOD = 1 << 0, /* BPF_DEVCG_ACC_* */
	CG_DEV_READ = 1 << 1,
	CG_DEV_WRITE = 1 << 2,
};
#define CG_DEV_ANY UINT32_MAX /* any minor */
#define CG_DEV_INSNS_MAX 256

typedef struct cg_dev_rule {
	char type;             /* 'c' or 'b' */
	uint32_t major, minor; /* minor may be CG_DEV_ANY */
	unsigned int access;   /* CG_DEV_* */
	const char *name;      /* "/dev/null", for docs and tests */
} cg_dev_rule;

/* The allow list every instance gets. */
const cg_dev_rule *cg_devices_default(size_t *ret_n);

struct bpf_insn;
/*
 * The program for rules, into out: returns its instruction count, -ENOSPC
 * when max is too small, -EINVAL for a bad rule. Pure. The program reads
 * struct bpf_cgroup_dev_ctx and returns 1 (allow) or 0 (deny).
 */
int cg_devices_plan(const cg_dev_rule *rules, size_t n, struct bpf_insn *out, size_t max);

/*
 * Load the default allow list's program and attach it to the cgroup at dirfd
 * (any fd of its directory, O_PATH is fine) with BPF_F_ALLOW_MULTI. The
 * attachment lasts as long as the cgroup: removing the cgroup detaches it.
 */
int cg_devices_attach(int dirfd, berr *err);
