/* SPDX-License-Identifier: MIT */
/*
 * rootfs: templates, the container's root (idmapped overlay), the mount plan
 * applied inside the new mount namespace, and pivot_root.
 *
 * Plan, then apply: rootfs_mount_plan_build() makes a plain list of mounts
 * with no syscalls (unit-tested); rootfs_mount_plan_apply() performs it with
 * every target resolved inside the new root.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common.h"

enum mount_kind {
	MOUNT_FS,       /* mount a fresh filesystem of fstype at target */
	MOUNT_BIND,     /* bind source (a host path, opened before pivot) onto target */
	MOUNT_MASK,     /* hide target: /dev/null over a file, empty read-only tmpfs over a dir */
	MOUNT_READONLY, /* bind target onto itself and make it read-only */
	MOUNT_DEVNODE,  /* mknod target (or bind the host node in a user namespace) */
	MOUNT_SYMLINK,  /* symlink source -> target */
};

/* Entry flags. */
#define MOUNT_OPTIONAL 0x1u /* a missing target (ENOENT) is not an error */
#define MOUNT_FILE 0x2u     /* the target is a file, not a directory */

typedef struct mount_entry {
	enum mount_kind kind;
	const char *source; /* fs source name, host path for binds, link text for symlinks */
	const char *target; /* absolute path inside the container root */
	const char *fstype;
	unsigned long mflags; /* MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_RDONLY, ... */
	const char *data;     /* fs options, e.g. "mode=755" */
	unsigned int flags;   /* MOUNT_OPTIONAL, MOUNT_FILE */
	mode_t mode;          /* for MOUNT_DEVNODE */
	dev_t dev;            /* for MOUNT_DEVNODE */
} mount_entry;

typedef struct mount_plan {
	mount_entry *v;
	size_t n;
	size_t cap;
} mount_plan;

typedef struct rootfs_opts {
	bool userns;             /* in a user namespace: bind device nodes instead of mknod */
	const char *console;     /* host terminal to bind at /dev/console, or NULL */
	const char *resolv_conf; /* host file to bind read-only at /etc/resolv.conf, or NULL */
	const char *run_host; /* host dir bound read-only at /run/host (/proc/self/fd/N), or NULL */
	bool cgroup_from_host; /* /sys/fs/cgroup comes mounted from the host: not in the plan */
} rootfs_opts;

int rootfs_mount_plan_build(const rootfs_opts *opts, mount_plan *ret);
void rootfs_mount_plan_free(mount_plan *plan);
/* Find an entry by target (tests). */
const mount_entry *rootfs_mount_plan_find(const mount_plan *plan, const char *target);

/* Apply a plan below rootfd (the new root, not yet pivoted). */
int rootfs_mount_plan_apply(const mount_plan *plan, int rootfd, bool userns, berr *err);

/*
 * Open the lower layer: a detached clone of dir's mount tree, idmapped through
 * userns_fd when userns_fd >= 0 (the template stays owned by plain host ids
 * on disk, and appears owned by root inside). Host side, before the child
 * mounts its root.
 */
int rootfs_open_lower(const char *dir, int userns_fd, int *ret_fd, berr *err);

/*
 * In the child's mount namespace: make every mount private, attach a staging
 * tmpfs on stage_fd (an O_PATH fd of an existing directory, opened while the
 * caller could still reach it), put lower_fd there and build the overlay root.
 * The writable layer is rw_fd's "upper" and "work" directories, or, with
 * rw_fd < 0, a throwaway one on the staging tmpfs. Everything goes through
 * fds, so host directory permissions on the way do not matter. Returns an
 * O_PATH fd of the new root.
 */
int rootfs_overlay_root(int stage_fd, int lower_fd, int rw_fd, bool userns, int *ret_rootfd,
			berr *err);

/*
 * Can a tmpfs keep user.* xattrs (Linux 6.6)? An overlay mounted inside a user
 * namespace keeps its whiteouts and opaque directories in them; without them
 * a removed directory fails with EIO, so a throwaway upper must go on disk.
 */
bool rootfs_tmpfs_has_user_xattrs(void);

/* pivot_root into rootfd and detach the old root; cwd becomes "/". */
int rootfs_pivot(int rootfd, berr *err);

/*
 * Resolve path inside rootfd (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS),
 * never following a symlink in the last component. Returns an O_PATH fd.
 */
int rootfs_open_in_root(int rootfd, const char *path, int *ret_fd, berr *err);

/* Templates, in templates_dir/NAME. */
#define ROOTFS_DEFAULT_TEMPLATE "default"

/* Is name a valid template name ([a-z0-9][a-z0-9._-]{0,62})? */
bool rootfs_template_name_valid(const char *name);

/*
 * Return the path of template name; for ROOTFS_DEFAULT_TEMPLATE, build it
 * from the host's static busybox on first use (atomically: a half-made
 * template never appears under its name).
 */
int rootfs_template_resolve(const char *templates_dir, const char *name, const char *busybox,
			    char **ret_path, berr *err);

/* Build the busybox template at dest (which must not exist). */
int rootfs_template_build_busybox(const char *busybox, const char *dest, berr *err);

/* The same check, with an error that names the name and the rule. */
int rootfs_template_name_check(const char *name, berr *err);

/*
 * The template store, templates_dir. A template is made in a hidden temp dir
 * beside its final place (".NAME.tmp-PID-RAND", never a valid name) and
 * renamed onto NAME; it is removed by renaming it to such a name first. So a
 * half-made or half-removed template never appears under its name, and
 * rootfs_template_list() never shows one. Temp dirs whose process is gone
 * (killed half-way) are removed by the next create, import or remove.
 */
char *rootfs_template_temp_name(const char *name, pid_t pid, uint64_t rnd);
/* Is entry a temp name? *ret_pid (may be NULL): the process that made it. */
bool rootfs_template_temp_parse(const char *entry, pid_t *ret_pid);

/* Valid names of the directories in templates_dir, sorted, NULL-terminated (none: {NULL}). */
int rootfs_template_list(const char *templates_dir, char ***ret_names, berr *err);
void rootfs_strv_free(char **v);

/*
 * Does the tree at dirfd look like a root file system: /bin or /usr/bin a
 * directory, and /sbin/init present or /etc a directory (symlinks resolved
 * inside the tree)? what names the tree in the error.
 */
int rootfs_template_check_tree(int dirfd, const char *what, berr *err);

/* Make template name from the host's static busybox. An existing name is refused. */
int rootfs_template_create_busybox(const char *templates_dir, const char *name, const char *busybox,
				   berr *err);
/*
 * Make template name from source, a directory or a tar archive (any
 * compression tar(1) detects), copied faithfully with tar(1): numeric owners,
 * modes, device nodes, xattrs (security.capability too), ACLs, hard links,
 * sparse files, timestamps. The result must pass rootfs_template_check_tree;
 * its top directory is made 0755, owned by the caller. An existing name is
 * refused before anything is copied; any failure leaves nothing.
 */
int rootfs_template_import(const char *templates_dir, const char *name, const char *source,
			   berr *err);
/* What to debootstrap. */
typedef struct rootfs_debootstrap {
	const char *suite;   /* bookworm, trixie, noble, ... */
	const char *mirror;  /* NULL: debootstrap's default for the suite (deb.debian.org) */
	const char *include; /* comma-separated packages, or NULL; systemd adds systemd-sysv */
	const char *variant; /* NULL: minbase; "buildd"; "default": debootstrap's own */
} rootfs_debootstrap;
/* Check the options and that debootstrap is installed, before anything is made. */
int rootfs_debootstrap_check(const rootfs_debootstrap *o, berr *err);
/*
 * Make template name with debootstrap(8), its progress on our stdout and
 * stderr. Made like an import (a hidden temp dir renamed into place); an
 * interrupt (SIGINT, SIGTERM, SIGHUP) or a failure leaves nothing. The tree
 * gets an empty /etc/machine-id, no /etc/hostname and a localhost /etc/hosts.
 */
int rootfs_template_create_debootstrap(const char *templates_dir, const char *name,
				       const rootfs_debootstrap *o, berr *err);
/* Remove template name (the caller has checked that no instance uses it). */
int rootfs_template_remove(const char *templates_dir, const char *name, berr *err);

/*
 * Copy the tree below src_dirfd into dst_dirfd (an existing empty
 * directory, whose owner, mode and xattrs become the source's), moving every
 * owner in [from, from+count) to the same offset from to; ids outside stay.
 * Keeps types, modes, times, hard links and xattrs, the ids in ACLs and v3
 * file capabilities moved too. Never follows a symlink in the tree.
 */
int rootfs_copy_shifted(int src_dirfd, int dst_dirfd, uint32_t from, uint32_t to, uint32_t count,
			berr *err);
/* id moved from [from, from+count) to to; unchanged outside that range. */
uint32_t rootfs_shift_id(uint32_t id, uint32_t from, uint32_t to, uint32_t count);
/* Move the ids inside an xattr value: POSIX ACLs, v3 security.capability; others untouched. */
void rootfs_shift_xattr(const char *name, char *value, size_t len, uint32_t from, uint32_t to,
			uint32_t count);
