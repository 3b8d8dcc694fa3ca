/* SPDX-License-Identifier: MIT */
/*
 * runtime: the container spec and the one function that turns a spec into a
 * process inside fresh namespaces (runtime_run).
 *
 * The spec keeps the OCI runtime spec's shape (process, root, hostname,
 * namespaces, id mappings, rlimits) so that an OCI bundle can be translated
 * into it later.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "cgroups.h"
#include "common.h"
#include "netns.h"

/* Where berth keeps its files; everything moves with --root / BERTH_ROOT. */
typedef struct berth_paths {
	char *lib;       /* /var/lib/berth */
	char *run;       /* /run/berth */
	char *log;       /* /var/log/berth */
	char *templates; /* <lib>/templates */
	/*
	 * The cgroup every instance and `berth run` leaf lives below, relative to
	 * the cgroup2 root: "berth" for the system paths, "berth-HASH" (8 hex
	 * digits of the absolute root path) with --root, so that two roots on one
	 * host never share a cgroup.
	 */
	char *cgroup;
	char *etc; /* /etc/berth (with --root: root/etc): network.json */
	/* systemd units berth enable writes: /etc/systemd/system; ROOT/systemd with --root. */
	char *units;
} berth_paths;

#define BERTH_SYSTEMD_UNITS "/etc/systemd/system"

/* root == NULL: the system paths; else root/lib, root/run, root/log. */
int berth_paths_init(berth_paths *p, const char *root);
void berth_paths_free(berth_paths *p);

/* The host's static busybox, from which the default template is made. */
#define BERTH_BUSYBOX "/bin/busybox"

/*
 * The directory a container's root is made from: rootfs_dir when given (it
 * must exist), else template_name (NULL: the default template, made on first
 * use). Returns an absolute path.
 */
int runtime_root_resolve(const berth_paths *p, const char *template_name, const char *rootfs_dir,
			 char **ret_path, berr *err);

#define IDMAP_DEFAULT_BASE 1000000u
#define IDMAP_DEFAULT_COUNT 65536u

typedef struct idmap {
	uint32_t inside;
	uint32_t outside;
	uint32_t count;
} idmap;

/*
 * For `berth run` and clone: take the lowest free id range of the instances'
 * pool and hold it with a claim file until the file (*ret_claim) is unlinked;
 * a claim whose process died is freed at the next allocation. docs/STORAGE.md.
 */
int idrange_claim(const berth_paths *p, idmap *map, char **ret_claim, berr *err);

/* "BASE" or "BASE:COUNT" -> {0, BASE, COUNT}. Validates overflow and count >= 1. */
int idmap_parse(const char *s, idmap *ret, berr *err);
/* Render as a uid_map/gid_map line: "0 1000000 65536\n". Returns length or -ENOSPC. */
int idmap_render(const idmap *m, char *buf, size_t size);
/* Map an id inside to the host; (uint32_t)-1 when unmapped. */
uint32_t idmap_to_host(const idmap *m, uint32_t inside);

typedef struct rlimit_req {
	int resource; /* RLIMIT_* */
	rlim_t soft;
	rlim_t hard;
} rlimit_req;

/* "NOFILE=1024" or "NOFILE=1024:4096" (names as in prlimit(1), any case). */
int rlimit_parse(const char *s, rlimit_req *ret, berr *err);

#define SPEC_MAX_RLIMITS 16

typedef struct spec {
	struct {
		char **args; /* argv, NULL-terminated */
		char **env;  /* NULL-terminated KEY=VALUE */
		const char *cwd;
		rlimit_req rlimits[SPEC_MAX_RLIMITS];
		size_t n_rlimits;
	} process;
	struct {
		const char *path; /* the lower layer: a template or a --rootfs directory */
	} root;
	const char *hostname;
	bool userns; /* new user namespace (default) */
	idmap uid_map;
	idmap gid_map;
	/*
	 * The writable layer: NULL for a throwaway tmpfs (berth run); else a host
	 * directory holding "upper" and "work", owned by the container's root.
	 */
	const char *upper_dir;
	/* root.path is already owned by the container's ids (an id-shifted copy): no idmapped mount. */
	bool lower_no_idmap;
	/*
	 * Give the command a console: a pty allocated in the container's own
	 * devpts, bound at /dev/console, made its controlling terminal and its
	 * fds 0-2 (in a new session). The master comes back from container_start.
	 */
	bool console;
	/* Where the stage tmpfs is attached in the child's mount namespace (the run dir). */
	const char *stage_dir;
	/*
	 * Kill the container when its parent dies (berth run, which nobody else
	 * would reap). Off for instances: they outlive a lost monitor.
	 */
	bool die_with_parent;
	/*
	 * Resource limits written into the container's cgroup after it is made
	 * and before clone3 (NULL: none). Refused when the host cannot enforce one.
	 */
	const cg_limits *limits;
	/*
	 * The network, set up by the parent after the id maps are written and
	 * before the command runs (NULL or NET_NONE: loopback only).
	 */
	const net_plan *net;
	/* A host file bound read-only at /etc/resolv.conf (NULL: the root's own). */
	const char *resolv_conf;
	/* A host directory bound read-only at /run/host (NULL: none): see runtime/notify.c. */
	const char *host_dir;
} spec;

/* Defaults: userns on, ids from IDMAP_DEFAULT_BASE, cwd "/", hostname NULL. */
void spec_init(spec *s);

/* RFC 1123 host name, at most 64 characters. */
bool spec_hostname_valid(const char *h);

/* Check a spec before anything is touched: args present, cwd absolute, hostname valid, ... */
int spec_validate(const spec *s, berr *err);

/* What runtime_run needs besides the spec. */
typedef struct run_ctx {
	const berth_paths *paths;
	const char *cgroup_mountinfo; /* "/proc/self/mountinfo" */
	const char *cgroup_name;      /* leaf below the cgroup2 root, e.g. "berth/run-1234" */
} run_ctx;

/*
 * Run spec in the foreground: forward SIGINT, SIGTERM and SIGHUP, wait for it
 * and clean up (cgroup, mounts are in the child's namespace). *ret_status is
 * the command's exit status, 128+N when killed by signal N.
 * Setup failures return -errno with err filled and leave nothing behind.
 */
int runtime_run(const run_ctx *ctx, const spec *s, int *ret_status, berr *err);

/*
 * A started container, for callers that outlive it (the monitor). runtime_run
 * is container_start + waiting + container_destroy.
 */
typedef struct container {
	pid_t pid; /* host pid of the container's PID 1 */
	int pidfd;
	int console_master; /* with spec.console, else -EBADF */
	void *priv;         /* cgroup leaf and sync socket: runtime's own */
} container;

/*
 * Create the cgroup leaf ctx->cgroup_name, clone into new namespaces and that
 * leaf, build the root and exec. Returns once the command runs. On failure
 * nothing is left behind and *ret_status says 125/126/127.
 */
int container_start(const run_ctx *ctx, const spec *s, container *ret, int *ret_status, berr *err);
/* Reap PID 1 (it must have exited: the pidfd is readable), as waitid would report it. */
int container_reap(container *c, siginfo_t *ret_info);
/* Kill what is left in the leaf, wait until it is empty, remove it, close every fd. */
int container_destroy(container *c, berr *err);

/* Exit statuses for failures before the command runs (as podman and docker do). */
#define EXIT_SETUP_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/*
 * Instances: named, persistent containers that boot an init system and are
 * watched by a monitor (one small process each). Files:
 *   <lib>/instances/NAME/config.json   the operator's config (instance_config)
 *   <lib>/instances/NAME/rw/{upper,work} the instance's own layer over its template
 *   <lib>/instances/NAME/boots         boots since create
 *   <run>/NAME/state.json              what runs now (instance_state), written by the monitor
 *   <run>/NAME/monitor.sock            the monitor's control socket (console)
 *   <run>/NAME/lock                    commands on one instance serialise on it (flock)
 *   <log>/NAME/console.log             the console, bounded (rotated to console.log.1)
 * The instance's cgroup is <cgroup2>/berth/NAME (<unit>/payload under a delegated systemd
 * unit, delegate.c; state.json records which): populated means running, whatever the
 * monitor's fate.
 */

#define INSTANCE_NAME_MAX 63
#define BOOT_ORDER_MAX 999  /* berth enable --boot-order */
#define BOOT_DELAY_MAX 3600 /* berth enable --boot-delay, seconds */

/* [a-z0-9][a-z0-9-]{0,62} */
bool instance_name_valid(const char *name);
/* The same check with a clear error naming the problem and the rule. */
int instance_name_check(const char *name, berr *err);

/* Init systems berth knows how to ask to halt and reboot. */
typedef enum init_flavour {
	INIT_UNKNOWN = 0,
	INIT_SYSTEMD,
	INIT_BUSYBOX,
	INIT_SYSVINIT,
	INIT_OPENRC,
} init_flavour;

typedef struct init_signals {
	int halt;   /* ends the instance: init cleans up, then reboot(2) POWER_OFF/HALT */
	int reboot; /* init cleans up, then reboot(2) RESTART; 0: restart = stop + start */
} init_signals;

const char *init_flavour_name(init_flavour f);
int init_flavour_parse(const char *s, init_flavour *ret);
init_signals init_flavour_signals(init_flavour f);
/*
 * Which init is init_path (e.g. "/sbin/init") in the instance's file system:
 * look in upper_dir first (may be NULL), then in lower_dir; symlinks are
 * followed inside that layer only. Unknown when it cannot tell.
 */
init_flavour init_flavour_detect(const char *lower_dir, const char *upper_dir,
				 const char *init_path);

/* An instance's network (config.json "network"); NET_NONE when absent (older configs). */
typedef struct instance_net {
	net_mode mode;
	net_addr addrs[NET_MAX_ADDRS]; /* leased at create, released at delete */
	size_t n_addrs;
	uint64_t rate_in;  /* bits/s towards the instance, 0: unlimited */
	uint64_t rate_out; /* bits/s from the instance */
	bool antispoof;
} instance_net;

/* "addresses": ["ADDR/PREFIX", ...], as config.json and status --json write them. */
void instance_net_addrs_json(json_gen *g, const instance_net *n);

/* Where an instance's disk limit is enforced (docs/STORAGE.md). */
typedef enum disk_backend {
	DISK_NONE = 0, /* no limit: the upper layer shares the store's file system */
	DISK_IMAGE,    /* a sparse ext4 image of its own, on a loop device, mounted as rw/ */
	DISK_PROJECT,  /* a project quota on rw/ (project id: the id range's base) */
} disk_backend;

const char *disk_backend_name(disk_backend b);

typedef struct instance_config {
	char *name;
	char *uuid; /* stable machine UUID, "8-4-4-4-12" hex */
	char *template;
	char *hostname;       /* default: the name */
	char *init;           /* default "/sbin/init" */
	init_flavour flavour; /* detected at create unless given */
	int halt_signal;      /* 0: the flavour's */
	int reboot_signal;    /* 0: the flavour's */
	bool autostart;
	unsigned int boot_order; /* autostart: lower boots first, higher waits (0-999, default 0) */
	unsigned int boot_delay; /* autostart: seconds the next boot order waits after this one */
	bool userns;             /* false: --userns=host */
	idmap map;               /* uid and gid */
	unsigned int stop_timeout; /* seconds, default 30 */
	int64_t created;           /* unix time */
	cg_limits limits;          /* applied at every boot; config.json "limits" */
	instance_net net;
	disk_backend disk;   /* config.json "disk": {"backend", "limit"} */
	uint64_t disk_limit; /* bytes; 0 with DISK_NONE */
	bool lower_shifted;  /* an id-shifted copy of the template, not an idmapped mount */
} instance_config;

void instance_config_init(instance_config *c); /* defaults, all strings NULL */
void instance_config_free(instance_config *c);
/* JSON (yajl). from_json rejects malformed JSON, unknown types and bad values, naming them. */
int instance_config_to_json(const instance_config *c, char **ret, size_t *ret_len);
int instance_config_from_json(const char *json, instance_config *ret, berr *err);
int instance_config_load(const char *path, instance_config *ret, berr *err);
int instance_config_save(const char *path, const instance_config *c, berr *err); /* atomic */

typedef struct instance_state {
	char state[16];      /* "starting", "running", "rebooting", "stopped" */
	pid_t init_pid;      /* host pid of the instance's init */
	uint64_t init_start; /* its start time (/proc/PID/stat field 22): guards pid reuse */
	pid_t monitor_pid;
	uint64_t monitor_start;
	int64_t started_at;    /* unix time the current boot began */
	unsigned int boots;    /* boots since create */
	char last_exit[48];    /* "reboot", "poweroff", "halt", "exited 3", "killed by SIGKILL" */
	char cgroup[128];      /* below the cgroup2 root, e.g. "berth/web1" */
	char init_cgroup[256]; /* init's own cgroup when it moved (systemd), else empty */
	bool ready;            /* the guest said READY=1 (or, an init that does not notify, runs) */
	char status[128];      /* the guest's last STATUS= (sd_notify), else empty */
} instance_state;

int instance_state_to_json(const instance_state *st, char **ret, size_t *ret_len);
int instance_state_from_json(const char *json, instance_state *ret, berr *err);
int instance_state_load(const char *path, instance_state *ret, berr *err);
int instance_state_save(const char *path, const instance_state *st, berr *err); /* atomic */

/* Start time of pid from /proc/PID/stat (clock ticks after boot), 0 when gone or a zombie. */
uint64_t proc_start_time(pid_t pid);

/* Every path of one instance. */
typedef struct instance_paths {
	char *dir;    /* <lib>/instances/NAME */
	char *config; /* dir/config.json */
	char *rw;     /* dir/rw: upper and work */
	char *boots;  /* dir/boots */
	char *rundir; /* <run>/NAME */
	char *state;  /* rundir/state.json */
	char *sock;   /* rundir/monitor.sock */
	char *lock;   /* rundir/lock */
	char *logdir; /* <log>/NAME */
	char *log;    /* logdir/console.log */
	char *cgroup; /* "<paths cgroup>/NAME", e.g. "berth/web1" */
	char *netdir; /* <lib>/network: the address leases of all instances */
} instance_paths;

int instance_paths_init(instance_paths *ip, const berth_paths *p, const char *name);
void instance_paths_free(instance_paths *ip);

typedef struct create_opts {
	const char *template; /* NULL: the default template */
	const char *hostname; /* NULL: the name */
	const char *init;     /* NULL: /sbin/init */
	const char *flavour;  /* NULL: detect */
	int halt_signal;      /* 0: the flavour's */
	int reboot_signal;
	unsigned int stop_timeout; /* 0: 30 s */
	bool autostart;
	unsigned int boot_order; /* see instance_config */
	unsigned int boot_delay;
	bool userns;
	bool idmap_set; /* a fixed --idmap BASE[:COUNT]; else the lowest free range */
	idmap map;
	uint64_t disk;            /* --disk SIZE in bytes, 0: no limit */
	const char *disk_backend; /* "project", "image", or NULL/"auto": project where possible */
	bool shifted_copy;        /* an id-shifted template copy even where idmapped mounts work */
	cg_limits limits; /* parsed with cg_limits_parse; checked against the host at create */
	/* Network (runtime/net.c); NULL/0: network.json's mode, rates and one auto address per family. */
	const char *net_mode;           /* "routed", "bridge", "none" */
	const char *ips[NET_MAX_ADDRS]; /* --ip: "auto" or ADDR/PREFIX */
	size_t n_ips;
	const char *net_rate_in;  /* --net-rate-in, e.g. "100mbit" */
	const char *net_rate_out; /* --net-rate-out */
	bool no_antispoof;
} create_opts;

int instance_create(const berth_paths *p, const char *name, const create_opts *o, berr *err);
/*
 * A copy of the stopped instance src named dst: its config and writable layer,
 * with a new UUID, its own id range (every owner moved to it), a new
 * /etc/machine-id and dst's /etc/hostname. A running src is refused; a
 * failure leaves nothing.
 */
int instance_clone(const berth_paths *p, const char *src, const char *dst, berr *err);
/* Refuses a running instance unless force (then it is stopped at once first). */
int instance_delete(const berth_paths *p, const char *name, bool force, berr *err);
/* Start: returns when init runs. foreground: become the monitor (for systemd), never detach. */
int instance_start(const berth_paths *p, const char *name, bool foreground, berr *err);
/*
 * Wait up to timeout_s until the running instance is ready (state.json
 * "ready": a systemd guest's READY=1, any other init once it runs). Fails
 * when it stops meanwhile or the time runs out (it keeps running then).
 */
int instance_wait_ready(const berth_paths *p, const char *name, unsigned int timeout_s, berr *err);
/* Halt with init's signal, wait timeout_s (0: the config's), then kill the cgroup. */
int instance_stop(const berth_paths *p, const char *name, unsigned int timeout_s, bool force,
		  berr *err);
/* A clean reboot of a running instance; a stopped one is started. */
int instance_restart(const berth_paths *p, const char *name, berr *err);
int instance_kill(const berth_paths *p, const char *name, int sig, berr *err);
/*
 * Change limits (those set in changes) under the instance lock: checked
 * against the host, written into the running instance's cgroup, then saved in
 * config.json; a stopped instance's config only. On any failure nothing is
 * saved and the values already written are put back. Returns 1 when applied
 * to a running instance, 0 when only saved.
 */
int instance_set(const berth_paths *p, const char *name, const cg_limits *changes, berr *err);
/*
 * Grow the instance's disk (--disk) to size bytes: online when it runs. A
 * smaller size is refused. Returns 1 when it runs (the guest sees it now).
 */
int instance_set_disk(const berth_paths *p, const char *name, uint64_t size, berr *err);
/* Can this host enforce l? The error names the missing controller and the option. */
int limits_host_check(const cg_limits *l, berr *err);
/*
 * Change the network rates (net.c): saved in config.json, and set live on a
 * running instance's host-side link. set_in/set_out: which to change.
 * Returns 1 when applied to a running instance, 0 when only saved.
 */
int instance_set_rate(const berth_paths *p, const char *name, bool set_in, uint64_t rate_in,
		      bool set_out, uint64_t rate_out, berr *err);

typedef struct instance_status {
	instance_config config;
	instance_state state; /* zeroed when it never ran since host boot */
	bool running;         /* its cgroup is populated */
	bool monitor_alive;
	unsigned int boots; /* since create */
	bool frozen;        /* running, and its cgroup is frozen (berth freeze) */
	uint64_t disk_used; /* with a disk limit: bytes used */
	bool disk_live;     /* disk_used is the mounted file system's (else the image's blocks) */
} instance_status;

int instance_status_get(const berth_paths *p, const char *name, instance_status *ret, berr *err);
void instance_status_free(instance_status *st);
/* Names of all instances, sorted, NULL-terminated. */
int instance_list(const berth_paths *p, char ***ret_names, berr *err);
void strv_free(char **v);

/* exec (exec.c): join a running instance and run a command there. */
typedef struct exec_opts {
	char **args;      /* NULL-terminated */
	char **env;       /* extra KEY=VALUE, NULL-terminated or NULL */
	const char *user; /* name or uid, resolved in the instance's /etc/passwd; NULL: root */
	const char *cwd;  /* NULL: the user's home, else / */
	bool tty;         /* a pty from the instance's devpts, relayed in raw mode */
	bool login;       /* enter: a login shell */
} exec_opts;

int instance_exec(const berth_paths *p, const char *name, const exec_opts *o, int *ret_status,
		  berr *err);

/* console (console-client.c): attach the terminal; Ctrl-a q detaches. */
int instance_console_attach(const berth_paths *p, const char *name, bool read_only, berr *err);
/* Print the console log (the rotated part first) to out_fd. */
int instance_console_log(const berth_paths *p, const char *name, int out_fd, berr *err);

/* Templates, as instances see them. */
int template_list(const berth_paths *p, char ***ret_names, berr *err);
/* Import a directory or a tarball faithfully (owners, modes, devices, xattrs, hard links). */
int template_import(const berth_paths *p, const char *name, const char *source, berr *err);
int template_create_busybox(const berth_paths *p, const char *name, berr *err);
/* A Debian/Ubuntu template by debootstrap (rootfs_template_create_debootstrap, rootfs.h). */
struct rootfs_debootstrap;
int template_create_debootstrap(const berth_paths *p, const char *name,
				const struct rootfs_debootstrap *o, berr *err);
/* Refused while an instance uses it. */
int template_remove(const berth_paths *p, const char *name, berr *err);

/*
 * freeze and thaw (instance.c): cgroup.freeze on the instance's cgroup, then
 * wait until cgroup.events says so. A frozen instance's processes stay where
 * they are, stopped; exec is refused, stop and kill still work.
 */
int instance_freeze(const berth_paths *p, const char *name, bool freeze, berr *err);

/*
 * stats (stats.c): what running instances use, read from their cgroups. A set
 * opens each instance's cgroup once; every sample is one pass over all of them
 * (openat + read per file, nothing spawned), so that a caller sleeps once for
 * all instances between two samples.
 */
typedef struct instance_stats {
	char name[INSTANCE_NAME_MAX + 1];
	bool have_net;    /* it has a host-side link (netns_counters) */
	net_counters net; /* the last sample's */
	int cgfd;         /* its cgroup directory (O_PATH), -EBADF when it has none */
	bool running;     /* its cgroup is populated */
	bool frozen;
	cg_stats cg;         /* the last sample */
	uint64_t sampled_ns; /* CLOCK_MONOTONIC of that sample */
	bool have_cpu_pct;   /* two samples of cpu usage were taken */
	double cpu_pct;      /* between the last two samples; 100 = one CPU */
	cg_stats prev;       /* the sample before */
	uint64_t prev_ns;
} instance_stats;

typedef struct stats_set {
	instance_stats *v;
	size_t n;
} stats_set;

/*
 * Open the cgroups of names (NULL: every instance that runs now). A name
 * that is not an instance is an error; a named instance that is stopped gets
 * an entry with running false. prev (may be NULL): a former set whose samples
 * carry over by name, so that the first sample already gives cpu%.
 */
int stats_set_open(const berth_paths *p, char *const *names, const stats_set *prev, stats_set *ret,
		   berr *err);
/* Sample every instance of the set once; an instance that stopped meanwhile gets running false. */
int stats_set_sample(stats_set *s);
void stats_set_free(stats_set *s);

/*
 * Autostart under systemd (autostart.c, docs/SYSTEMD.md). berth.target wants
 * berth@NAME.service for every instance marked autostart, through symlinks in
 * <units>/berth.target.wants; each such instance gets a drop-in
 * <units>/berth@NAME.service.d/50-berth-autostart.conf ordering it After= the
 * instances with a lower boot order and holding its boot delay. <units> is
 * /etc/systemd/system, or ROOT/systemd with --root (nothing reloaded then).
 */
typedef struct autostart_opts {
	bool enable;
	bool order_set, delay_set;
	unsigned int boot_order, boot_delay;
} autostart_opts;

/* Record autostart (and order, delay) in the config, then autostart_sync. */
int instance_autostart(const berth_paths *p, const char *name, const autostart_opts *o, berr *err);
/*
 * Make <units> match the configs of every instance: wants links and drop-ins
 * for the autostart ones, none for the others; then systemctl daemon-reload
 * when systemd runs the host (system paths only). Idempotent.
 */
int autostart_sync(const berth_paths *p, berr *err);
/* The drop-in text for c, given every autostart config (all, n). Pure; malloc'd. */
char *autostart_dropin(const instance_config *c, const instance_config *all, size_t n);
