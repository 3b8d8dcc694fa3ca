/* SPDX-License-Identifier: MIT */
/* runtime internals, shared by the module's files and its unit tests. */
#pragma once

#include <stdbool.h>

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
		  char *env_buf[3], char *args_buf[2], spec *ret, berr *err);

/* instance.c: the store, shared with lifecycle.c. */
#define MONITOR_EXIT_WAIT_MS 5000
#define FREEZE_WAIT_MS 5000
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
