/* SPDX-License-Identifier: MIT */
/* runtime internals, shared by the module's files and its unit tests. */
#pragma once

#include <stdbool.h>

#include "ipam.h"
#include "runtime.h"

/*
 * Security, each backed by one library used only here:
 * seccomp.c (libseccomp) and caps.c (libcap).
 */

/* Build the default filter and write it as classic BPF to fd (no loading). */
int sec_export_bpf(int fd, berr *err);
/* Build and load the default filter into the calling thread. Call last, just before exec. */
int sec_load(berr *err);
/* The second filter sec_load stacks: ENOSYS for syscall numbers newer than the profile. */
const struct sock_filter *sec_unreviewed_filter(size_t *ret_len);

/* Does the default VPS capability set keep cap (CAP_*)? */
bool caps_default_keeps(int cap);
/* Drop from the bounding set every capability the default does not keep, and
 * limit the permitted, effective and inheritable sets to it. */
int caps_apply(berr *err);

/* Apply rlimits, only lowering: asking to raise one is an error. */
int rlimits_apply(const rlimit_req *v, size_t n, berr *err);

/* Child/parent sync messages over a SOCK_SEQPACKET socketpair. */
enum sync_kind {
	SYNC_GO = 1,     /* parent -> child: maps written, lower layer fd attached */
	SYNC_ERROR,      /* child -> parent: setup failed, see err */
	SYNC_CONSOLE,    /* child -> parent: the console pty master, attached */
	SYNC_EXEC_PIDFD, /* exec's middle process -> berth: the command's pidfd, attached */
};
typedef struct sync_msg {
	int kind;
	int exit_status; /* for SYNC_ERROR: EXIT_SETUP_FAILED / CANNOT_EXEC / NOT_FOUND */
	berr err;
} sync_msg;

/* Send a message, optionally with one fd (SCM_RIGHTS). */
int sync_send(int sock, const sync_msg *m, int fd);
/* Receive one message and an optional fd (-EBADF if none). 0 at EOF, 1 on a message. */
int sync_recv(int sock, sync_msg *m, int *ret_fd);

/* Shared by the container's init (child.c) and exec: */
/* setresgid/setgroups/setresuid to 0: from host root, unmapped, to the namespace's root. */
int ns_become_root(berr *err);
/* Default dispositions and an empty mask: nothing berth ignored or blocked is inherited. */
void signals_reset(void);

/* The container side of runtime_run, in the new namespaces. Never returns. */
/* cgroup_mnt: cgroup2 mounted by the host for /sys/fs/cgroup (hybrid hosts), or -EBADF. */
_Noreturn void child_main(const spec *s, int sock, int cgroup_mnt);

/*
 * Environment for the command: PATH, HOME, container=berth, term_kv ("TERM=xterm",
 * or NULL), then the spec's entries, a later key replacing an earlier one. The
 * strings are borrowed; free() the returned array only.
 */
char **env_build(char *const *user_env, char *term_kv);

/*
 * The monitor (monitor.c): one per running instance. Starts the instance,
 * writes state.json, serves the console, reboots on SIGHUP-death of init,
 * exits on halt/poweroff/exit. notify_fd gets one line, "ok" or the error,
 * once init runs (or fails); -1 for none. lock_fd (the instance lock, held by
 * the caller) is closed then too. Takes ownership of both fds.
 */
int monitor_main(const berth_paths *p, const char *name, int notify_fd, int lock_fd, berr *err);

/*
 * The console server (console.c), inside the monitor's loop: it holds the pty
 * master, appends its output to the console log (rotated at log_max bytes to
 * console.log.1), and serves viewers on the control socket. One epoll fd of
 * its own, which the monitor watches.
 */
typedef struct console_server console_server;

#define CONSOLE_LOG_MAX (1024 * 1024)

int console_server_new(const char *sock_path, const char *log_path, size_t log_max,
		       console_server **ret, berr *err);
/* The pty master of the current boot (replaced on reboot; viewers stay). -EBADF: none. */
void console_server_set_master(console_server *cs, int master_fd);
/* Append a line of the monitor's own (e.g. "[berth: rebooting]") to the log and viewers. */
void console_server_note(console_server *cs, const char *line);
int console_server_fd(console_server *cs);
/* Handle whatever is ready; never blocks. */
void console_server_dispatch(console_server *cs);
void console_server_free(console_server *cs);

/* Control socket messages (SOCK_SEQPACKET): one type byte, then the payload. */
enum ctl_type {
	CTL_ATTACH = 1, /* client -> monitor: payload 1 byte, 1 = wants to type; reply: granted */
	CTL_DATA,       /* both ways: terminal bytes */
	CTL_RESIZE,     /* client -> monitor: struct winsize, applied for the typing client */
};
#define CTL_MAX_PAYLOAD 4096

/* instance.c helpers shared with the monitor and templates. */
/* Visible entries of dir (no dot names) that valid() accepts (NULL: all), sorted. */
int list_dir_names(const char *dir, bool (*valid)(const char *), char ***ret);
/* Count one more boot of the instance (its boots file); instance_boots_read reads it. */
unsigned int instance_boots_read(const instance_paths *ip);
int boots_bump(const instance_paths *ip);
/* The instance's halt and reboot signals: its config's, else its init flavour's. */
init_signals instance_signals(const instance_config *c);
/* The spec an instance boots with; strings point into c and ip, env into env_buf. */
int instance_spec(const instance_config *c, const instance_paths *ip, const char *lower,
		  char *env_buf[4], char *args_buf[2], spec *ret, berr *err);

/* instance.c: the store, shared with lifecycle.c. */
#define MONITOR_EXIT_WAIT_MS 5000
#define FREEZE_WAIT_MS 5000
#define STATUS_SETTLE_MS 2000
/* Take the instance's lock (flock on <run>/NAME/lock), creating its run dir. */
int instance_lock(const instance_paths *ip, int *ret_fd, berr *err);
/* The cgroup2 root, and the instance's leaf below it (-ENOENT: it has none). */
int cgroup_root_open(int *ret_fd, berr *err);
int instance_cgroup_open(const instance_paths *ip, int *ret_fd, berr *err);
/* 1 running (its cgroup is populated), 0 not, < 0 error. */
int instance_running(const instance_paths *ip, berr *err);
/* The config, or "no instance named NAME" when there is none. */
int instance_load_config(const instance_paths *ip, const char *name, instance_config *c, berr *err);
/* Is pid still the process that started at start (and not a zombie)? */
bool proc_alive(pid_t pid, uint64_t start);
/* A signal to the instance's init, guarded against pid reuse. */
int instance_signal_init(const instance_state *st, int sig, const char *name, berr *err);
/* Wait (bounded) until the monitor recorded in st is gone. */
void instance_wait_monitor_exit(const instance_state *st);
/* Check the name, load the config, take the lock, run op. */
int with_instance(const berth_paths *p, const char *name, berr *err,
		  int (*op)(const instance_paths *ip, const instance_config *c, void *arg,
			    berr *err),
		  void *arg);
/* lifecycle.c: stop with the lock held (delete uses it). 1: it was not running. */
int stop_locked(const instance_paths *ip, const instance_config *c, unsigned int timeout_s,
		bool force, berr *err);

/*
 * sdnotify.c: sd_notify(3)'s protocol, to the service manager that started
 * berth (NOTIFY_SOCKET, as berth@.service with Type=notify sets it): one
 * datagram such as "READY=1\nSTATUS=running". A no-op without NOTIFY_SOCKET.
 */
int host_notify(const char *state);

/*
 * net.c: an instance's network, from its config and the host's network.json
 * (<etc>/network.json; missing: the built-in defaults, see docs/NETWORK.md).
 */
/* config.json's "network" object; absent: NET_NONE. */
void instance_net_to_json(json_gen *g, const instance_net *n);
int instance_net_from_json(const json_tree *t, instance_net *ret, berr *err);
/* <etc>/network.json, and <lib>/network (the lease file's directory). */
char *net_config_path(const berth_paths *p);
char *net_leases_dir(const berth_paths *p);
/*
 * create: the instance's network from the options and network.json, with its
 * addresses leased to name. Undo with net_leases_release().
 */
int instance_net_create(const berth_paths *p, const char *name, const create_opts *o,
			instance_net *ret, berr *err);
int net_leases_release(const berth_paths *p, const char *name, berr *err);
/*
 * clone: new_name gets a network like src's (mode, rates, anti-spoofing)
 * with fresh addresses: one auto address per family src had.
 */
int net_leases_clone(const berth_paths *p, const instance_net *src, const char *new_name,
		     instance_net *ret, berr *err);
/* The plan for one boot of c (NET_NONE: nothing to set up). */
int instance_net_plan(const berth_paths *p, const instance_config *c, net_plan *ret, berr *err);
/*
 * The resolv.conf text for instances: network.json's "dns" servers, else the
 * host's own nameservers (host_resolv: its /etc/resolv.conf text, may be
 * NULL) except loopback ones. NULL in *ret when there is none to give.
 */
int net_resolv_render(const net_config *c, const char *host_resolv, char **ret);
/* Write ip->rundir/resolv.conf for a boot; *ret_path NULL when there is nothing to write. */
int instance_net_resolv(const berth_paths *p, const instance_config *c, const instance_paths *ip,
			char **ret_path, berr *err);

/*
 * idrange.c: each instance's own host id range, lowest free from the host's
 * pool (1000000 upward, or user berth's ranges in /etc/subuid and
 * /etc/subgid). The taken set is read from the instances' configs; callers
 * hold idrange_lock from choosing a range until the config naming it is in place.
 */
#define IDRANGE_USER "berth"
#define IDRANGE_SUBUID "/etc/subuid"
#define IDRANGE_SUBGID "/etc/subgid"

typedef struct idrange {
	uint32_t base;
	uint32_t count;
} idrange;

/* user's (by name, or uid unless (uint32_t)-1) "name:start:count" lines; -E2BIG past max. */
int idrange_subid_parse(const char *text, const char *user, uint32_t uid, idrange *v, size_t max,
			size_t *ret_n);
/* The ids in both a and b, as ranges (at most max). */
size_t idrange_intersect(const idrange *a, size_t na, const idrange *b, size_t nb, idrange *out,
			 size_t max);
/* Index of the first taken range that [base, base+count) overlaps, -1 if none. */
ssize_t idrange_find_overlap(const idrange *taken, size_t n, uint32_t base, uint32_t count);
/* The lowest base in the pool whose count ids overlap no taken range; -ENOSPC if none. */
int idrange_alloc(const idrange *pool, size_t n_pool, const idrange *taken, size_t n_taken,
		  uint32_t count, uint32_t *ret_base);
/* The pool: user berth's ids in both files, else 1000000 to the last id. */
int idrange_pool_load(const char *subuid, const char *subgid, idrange *pool, size_t max,
		      size_t *ret_n, berr *err);
/* flock <lib>/idranges.lock (exclusive); close the fd to release. */
int idrange_lock(const berth_paths *p, int *ret_fd, berr *err);
/*
 * With the lock held: fixed, check that map (base, count) overlaps no
 * instance's range; else choose map->outside, lowest free for map->count ids.
 */
int idrange_assign(const berth_paths *p, bool fixed, idmap *map, berr *err);

/*
 * disk.c: the image backend of --disk. dir is the instance's directory
 * (disk.img lives there), rw its writable layer's mount point.
 */
char *disk_image_path(const char *dir);
/* 16M or more, a multiple of 4K. */
int disk_size_check(uint64_t size, berr *err);
/* A sparse ext4 image of size bytes whose root is owned by owner (the instance's root). */
int disk_image_create(const char *dir, uint64_t size, uid_t owner, berr *err);
/* Attach dir's image to a loop device (auto-clearing) and mount it on rw; 0 if it already is. */
int disk_mount(const char *dir, const char *rw, berr *err);
/* Unmount rw if the image is mounted there (the loop device clears itself). */
int disk_umount(const char *rw, berr *err);
/* Grow to size (online when mounted); a smaller size is refused. */
int disk_grow(const char *dir, const char *rw, uint64_t size, berr *err);
/* Bytes used: the mounted file system's, else the image's blocks; *ret_live says which. */
int disk_usage(const char *dir, const char *rw, uint64_t *ret_used, bool *ret_live);

/* identity.c: /etc/machine-id (unless the template has one) and /etc/hostname in upper. */
bool machine_id_valid(const char *s, size_t len);
void machine_id_from_uuid(const char *uuid, char out[33]);
int instance_identity_write(const char *upper, const char *lower, const instance_config *c,
			    berr *err);

/*
 * quota.c: the project backend of --disk. dir: any directory on the store's
 * file system; projid: the instance's id range base.
 */
/* 2: project quotas enforced on dir's file system, 1: only counted, 0: neither. */
int quota_project_state(const char *dir);
/* The hard block limit of project projid (0: none). */
int quota_project_limit(const char *dir, uint32_t projid, uint64_t bytes, berr *err);
int quota_project_usage(const char *dir, uint32_t projid, uint64_t *ret_used);
/* Put rw (a directory) in project projid, inherited by everything made below it. */
int quota_project_assign(const char *rw, uint32_t projid, berr *err);
/* The backend for c's --disk: want "project", "image", or NULL/"auto" (project where the store has it). */
int disk_backend_choose(const char *store, const char *want, const instance_config *c,
			disk_backend *ret, berr *err);

/*
 * shifted.c: where a template cannot be idmapped, a copy of it owned by the
 * instance's id range, cached in <lib>/shifted/TEMPLATE@BASE.
 */
/* 1: an idmapped mount of lower through map m works here; 0: it cannot (fall back). */
int lower_idmap_works(const char *lower, const idmap *m, berr *err);
/* The copy for c (made now, atomically, if missing). */
int shifted_lower_get(const berth_paths *p, const instance_config *c, const char *template_dir,
		      char **ret_path, berr *err);
void shifted_lower_remove(const berth_paths *p, const instance_config *c);

/*
 * The guest's /run/host (notify.c): a directory in the run dir, bound
 * read-only at /run/host, holding the host's os-release, "container-manager"
 * ("berth") and "notify", an sd_notify socket the monitor reads (the guest
 * gets NOTIFY_SOCKET=/run/host/notify). Only init's messages count.
 */
#define GUEST_NOTIFY_SOCKET "/run/host/notify"
#define GUEST_STATUS_MAX 128
typedef struct notify_state {
	bool ready;                    /* READY=1 seen, STOPPING=1 not since */
	char status[GUEST_STATUS_MAX]; /* the last STATUS=, printable ASCII */
} notify_state;
/* (Re)make dir and its files; the bound notify socket in *ret_notify_fd (non-blocking). */
int guest_host_dir_setup(const char *dir, int *ret_notify_fd, berr *err);
/* Read every pending message; those from init_pid update st. 1: st changed, 0: no, -errno. */
int notify_dispatch(int fd, pid_t init_pid, notify_state *st);

/*
 * delegate.c: where the instance's cgroup goes (docs/SYSTEMD.md). The v2 path
 * in /proc/PID/cgroup text ("0::/a/b"), without its leading '/', into buf;
 * -ENOENT without a v2 line.
 */
int cgroup_self_parse(const char *text, char *buf, size_t size);
/* "<unit>/<leaf>" into buf; -EINVAL for the root ("") or a path that is not relative. */
int delegate_layout(const char *unit, const char *leaf, char *buf, size_t size);
/*
 * For the monitor, before the first boot: when this process runs in a
 * delegated cgroup (BERTH_CGROUP_DELEGATED=1, or the trusted.delegate /
 * user.delegate xattr systemd sets), move itself into <that>/supervisor and
 * set ip->cgroup to <that>/payload; else ip->cgroup is <paths cgroup>/NAME.
 */
int instance_cgroup_place(instance_paths *ip, const berth_paths *p, const char *name, berr *err);
/* Readers: ip->cgroup becomes the cgroup state.json records, when it records one. */
void instance_cgroup_recorded(instance_paths *ip);
