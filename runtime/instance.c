/* SPDX-License-Identifier: MIT */
/*
 * Instances on disk: paths, create, delete, list, status, and the helpers the
 * lifecycle (lifecycle.c) shares: the lock, the cgroup, signalling init. The
 * cgroup is the truth about whether an instance runs; state.json says what
 * the monitor last knew.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "cgroups.h"
#include "rootfs.h"
#include "runtime-internal.h"

int instance_paths_init(instance_paths *ip, const berth_paths *p, const char *name)
{
	*ip = (instance_paths){0};
	ip->dir = str_printf("%s/instances/%s", p->lib, name);
	ip->config = str_printf("%s/instances/%s/config.json", p->lib, name);
	ip->rw = str_printf("%s/instances/%s/rw", p->lib, name);
	ip->boots = str_printf("%s/instances/%s/boots", p->lib, name);
	ip->rundir = str_printf("%s/%s", p->run, name);
	ip->state = str_printf("%s/%s/state.json", p->run, name);
	ip->sock = str_printf("%s/%s/monitor.sock", p->run, name);
	ip->lock = str_printf("%s/%s/lock", p->run, name);
	ip->logdir = str_printf("%s/%s", p->log, name);
	ip->log = str_printf("%s/%s/console.log", p->log, name);
	ip->cgroup = str_printf("%s/%s", p->cgroup, name);
	ip->netdir = str_printf("%s/network", p->lib);
	if (!ip->netdir || !ip->dir || !ip->config || !ip->rw || !ip->boots || !ip->rundir ||
	    !ip->state || !ip->sock || !ip->lock || !ip->logdir || !ip->log || !ip->cgroup) {
		instance_paths_free(ip);
		return -ENOMEM;
	}
	/* Under a systemd unit the instance's cgroup is the unit's (delegate.c). */
	instance_cgroup_recorded(ip);
	return 0;
}

void instance_paths_free(instance_paths *ip)
{
	char **v[] = {&ip->dir,  &ip->config, &ip->rw,     &ip->boots, &ip->rundir, &ip->state,
		      &ip->sock, &ip->lock,   &ip->logdir, &ip->log,   &ip->cgroup, &ip->netdir};

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		free(*v[i]);
		*v[i] = NULL;
	}
}

uint64_t proc_start_time(pid_t pid)
{
	_cleanup_free_ char *buf = NULL;
	char path[64];
	const char *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || read_file_at(AT_FDCWD, path, &buf, NULL) < 0)
		return 0;
	/* comm may hold blanks and parentheses: fields count from the last ')'. */
	p = strrchr(buf, ')');
	/* A zombie is dead, however slowly its parent (often the host's PID 1) reaps it. */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
		   "%*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

void strv_free(char **v)
{
	for (char **s = v; s && *s; s++)
		free(*s);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Visible entries of dir (no dot names), sorted. A missing dir is an empty list. */
int list_dir_names(const char *dir, bool (*valid)(const char *), char ***ret)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v;
	size_t n = 0;

	if (!d && errno != ENOENT)
		return -errno;
	v = calloc(1, sizeof(char *));
	if (!v) {
		if (d)
			closedir(d);
		return -ENOMEM;
	}
	while (d && (de = readdir(d))) {
		char **nv;

		if (de->d_name[0] == '.' || (valid && !valid(de->d_name)))
			continue;
		nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv || !(nv[n] = strdup(de->d_name))) {
			strv_free(nv ? nv : v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[++n] = NULL;
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof(char *), cmp_str);
	*ret = v;
	return 0;
}

int instance_list(const berth_paths *p, char ***ret_names, berr *err)
{
	_cleanup_free_ char *dir = str_printf("%s/instances", p->lib);
	int r = dir ? list_dir_names(dir, instance_name_valid, ret_names) : -ENOMEM;

	return r < 0 ? berr_set(err, -r, "list %s", dir ? dir : "instances") : 0;
}

/* Commands on one instance serialise here; the kernel drops the lock if we die. */
int instance_lock(const instance_paths *ip, int *ret_fd, berr *err)
{
	int fd, r = mkdir_p(ip->rundir, 0700);

	if (r < 0)
		return berr_set(err, -r, "create %s", ip->rundir);
	fd = open(ip->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_set(err, errno, "open %s", ip->lock);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = errno;
			close(fd);
			return berr_set(err, r, "lock %s", ip->lock);
		}
	*ret_fd = fd;
	return 0;
}

/* The cgroup2 root as an O_PATH fd. */
int cgroup_root_open(int *ret_fd, berr *err)
{
	_cleanup_free_ char *root = NULL;
	int r = cg_find_mount("/proc/self/mountinfo", &root, err);

	if (r < 0)
		return r;
	*ret_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *ret_fd < 0 ? berr_set(err, errno, "open %s", root) : 0;
}

/* The instance's cgroup leaf as an O_PATH fd; -ENOENT when it has none. */
int instance_cgroup_open(const instance_paths *ip, int *ret_fd, berr *err)
{
	_cleanup_close_ int rootfd = -EBADF;
	int r = cgroup_root_open(&rootfd, err);

	if (r < 0)
		return r;
	*ret_fd = openat(rootfd, ip->cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *ret_fd < 0 ? -errno : 0;
}

int limits_host_check(const cg_limits *l, berr *err)
{
	_cleanup_close_ int rootfd = -EBADF;
	int r;

	if (!l->set)
		return 0;
	r = cgroup_root_open(&rootfd, err);
	return r < 0 ? r : cg_controllers_check(rootfd, "/proc/cgroups", l, err);
}

/* 1 running, 0 not, < 0 error. */
int instance_running(const instance_paths *ip, berr *err)
{
	_cleanup_close_ int cg = -EBADF;
	int r = instance_cgroup_open(ip, &cg, err);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = cg_is_populated(cg);
	return r == -ENOENT ? 0 : r;
}

int instance_load_config(const instance_paths *ip, const char *name, instance_config *c, berr *err)
{
	struct stat st;

	if (stat(ip->dir, &st) < 0 && errno == ENOENT)
		return berr_setx(err, ENOENT, "no instance named %s (berth list shows them)", name);
	return instance_config_load(ip->config, c, err);
}

unsigned int instance_boots_read(const instance_paths *ip)
{
	_cleanup_free_ char *buf = NULL;
	uint32_t n = 0;

	if (read_file_at(AT_FDCWD, ip->boots, &buf, NULL) < 0)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	return parse_u32(buf, &n) < 0 ? 0 : n;
}

int boots_bump(const instance_paths *ip)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%u\n", instance_boots_read(ip) + 1);

	return write_file_atomic(ip->boots, buf, (size_t)n, 0644);
}

/* Is the process pid still the one that started at start? */
bool proc_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && start != 0 && proc_start_time(pid) == start;
}

int instance_signal_init(const instance_state *st, int sig, const char *name, berr *err)
{
	_cleanup_close_ int pidfd = -EBADF;

	if (!proc_alive(st->init_pid, st->init_start))
		return berr_setx(err, ESRCH, "%s: its init (pid %d) is gone", name,
				 (int)st->init_pid);
	pidfd = (int)syscall(SYS_pidfd_open, st->init_pid, 0);
	if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return berr_set(err, errno, "signal %d to init (pid %d)", sig, (int)st->init_pid);
	/* The pidfd was opened after the start-time check: check again against pid reuse. */
	if (!proc_alive(st->init_pid, st->init_start))
		return berr_setx(err, ESRCH, "%s: its init (pid %d) is gone", name,
				 (int)st->init_pid);
	return 0;
}

void instance_wait_monitor_exit(const instance_state *st)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct pollfd p;

	if (!proc_alive(st->monitor_pid, st->monitor_start))
		return;
	pidfd = (int)syscall(SYS_pidfd_open, st->monitor_pid, 0);
	if (pidfd < 0)
		return;
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	poll(&p, 1, MONITOR_EXIT_WAIT_MS);
}

static int read_uuid(char **ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_file_at(AT_FDCWD, "/proc/sys/kernel/random/uuid", &buf, NULL);

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Fill c from the options, validating everything before anything is written. */
static int config_from_opts(instance_config *c, const char *name, const create_opts *o,
			    const char *lower, berr *err)
{
	int r;

	instance_config_init(c);
	c->name = strdup(name);
	c->template = strdup(o->template ? o->template : ROOTFS_DEFAULT_TEMPLATE);
	c->hostname = strdup(o->hostname ? o->hostname : name);
	c->init = strdup(o->init ? o->init : "/sbin/init");
	if (!c->name || !c->template || !c->hostname || !c->init || read_uuid(&c->uuid) < 0)
		return berr_set(err, ENOMEM, "config");
	if (!spec_hostname_valid(c->hostname))
		return berr_setx(err, EINVAL,
				 "hostname \"%s\" is not valid (letters, digits, '-' "
				 "and '.', at most 64 characters)",
				 c->hostname);
	if (c->init[0] != '/')
		return berr_setx(err, EINVAL,
				 "init \"%s\" is not an absolute path (e.g. /sbin/init)", c->init);
	if (o->flavour) {
		r = init_flavour_parse(o->flavour, &c->flavour);
		if (r < 0)
			return berr_setx(err, EINVAL,
					 "init flavour \"%s\" is unknown (use systemd, "
					 "busybox, sysvinit, openrc or unknown)",
					 o->flavour);
	} else {
		c->flavour = init_flavour_detect(lower, NULL, c->init);
	}
	c->halt_signal = o->halt_signal;
	c->reboot_signal = o->reboot_signal;
	c->stop_timeout = o->stop_timeout ? o->stop_timeout : 30;
	c->autostart = o->autostart;
	c->boot_order = o->boot_order;
	c->boot_delay = o->boot_delay;
	c->userns = o->userns;
	if (o->idmap_set)
		c->map = o->map;
	c->limits = o->limits;
	if (o->disk) {
		c->disk = DISK_IMAGE;
		c->disk_limit = o->disk;
		r = disk_size_check(o->disk, err);
		if (r < 0)
			return r;
	}
	c->lower_shifted = o->shifted_copy && o->userns;
	c->created = (int64_t)time(NULL);
	/* Refused now what this host could never enforce, rather than at every start. */
	return limits_host_check(&c->limits, err);
}

/* The writable layer: upper and work, owned by the instance's root so it can write them. */
static int make_rw(const char *dir, const instance_config *c, berr *err)
{
	static const char *const sub[] = {"", "/upper", "/work"};
	uid_t uid = c->userns ? c->map.outside : 0;

	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		_cleanup_free_ char *p = str_printf("%s/rw%s", dir, sub[i]);

		if (!p)
			return -ENOMEM;
		/* rw itself exists already when it is a disk image's mount point. */
		if ((mkdir(p, 0755) < 0 && (i > 0 || errno != EEXIST)) || chown(p, uid, uid) < 0)
			return berr_set(err, errno, "create %s", p);
	}
	return 0;
}

/* rw/ under dir (on its own disk image with --disk), with the machine's identity in upper. */
static int fill_rw(const char *dir, const instance_config *c, const char *lower, berr *err)
{
	_cleanup_free_ char *rw = str_printf("%s/rw", dir), *upper = str_printf("%s/rw/upper", dir);
	berr ignore = {0};
	int r;

	if (!rw || !upper)
		return berr_set(err, ENOMEM, "paths");
	if (c->disk == DISK_PROJECT) {
		/* Set before upper and work exist: they and all below inherit the project. */
		if (mkdir(rw, 0755) < 0)
			return berr_set(err, errno, "create %s", rw);
		r = quota_project_assign(rw, c->map.outside, err);
		if (r >= 0)
			r = quota_project_limit(dir, c->map.outside, c->disk_limit, err);
		if (r < 0)
			return r;
	}
	if (c->disk == DISK_IMAGE) {
		if (mkdir(rw, 0755) < 0)
			return berr_set(err, errno, "create %s", rw);
		r = disk_image_create(dir, c->disk_limit, c->userns ? c->map.outside : 0, err);
		if (r >= 0)
			r = disk_mount(dir, rw, err);
		if (r < 0)
			return r;
	}
	r = make_rw(dir, c, err);
	if (r >= 0)
		r = instance_identity_write(upper, lower, c, err);
	if (c->disk == DISK_IMAGE && disk_umount(rw, &ignore) < 0 && r >= 0)
		r = berr_setx(err, EBUSY, "%s", ignore.msg);
	return r;
}

/*
 * The id range (locked until the caller has put the config in place, see
 * idrange.c), and whether the template can be idmapped through it: where the
 * file system cannot, each range gets an id-shifted copy (shifted.c).
 */
static int ids_and_lower(const berth_paths *p, const create_opts *o, const char *lower,
			 instance_config *c, int *idlock, berr *err)
{
	berr why = {0};
	int r;

	if (!c->userns)
		return 0;
	r = idrange_lock(p, idlock, err);
	if (r >= 0)
		r = idrange_assign(p, o->idmap_set, &c->map, err);
	if (r < 0 || c->lower_shifted)
		return r;
	r = lower_idmap_works(lower, &c->map, &why);
	if (r < 0) {
		*err = why;
		return r;
	}
	if (r == 0) {
		c->lower_shifted = true;
		log_warn("%s: template %s cannot be idmapped here (%s): %s gets an id-shifted copy "
			 "of it at first start (docs/STORAGE.md)",
			 c->name, c->template, why.msg, c->name);
	}
	return 0;
}

int instance_create(const berth_paths *p, const char *name, const create_opts *o, berr *err)
{
	_cleanup_free_ char *lower = NULL, *tmp = NULL, *cfg_path = NULL, *parent = NULL;
	_cleanup_close_ int idlock = -EBADF;
	instance_config c;
	instance_paths ip;
	int r;

	r = instance_name_check(name, err);
	if (r < 0)
		return r;
	r = rootfs_template_resolve(p->templates,
				    o->template ? o->template : ROOTFS_DEFAULT_TEMPLATE,
				    BERTH_BUSYBOX, &lower, err);
	if (r < 0)
		return r;
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = config_from_opts(&c, name, o, lower, err);
	if (r < 0)
		goto out;
	if (access(ip.dir, F_OK) == 0) {
		r = berr_setx(err, EEXIST,
			      "instance %s already exists (berth delete %s first, or "
			      "choose another name)",
			      name, name);
		goto out;
	}
	r = ids_and_lower(p, o, lower, &c, &idlock, err);
	if (r < 0)
		goto out;
	/* Made aside and renamed into place: a half-made instance never appears. */
	parent = str_printf("%s/instances", p->lib);
	tmp = str_printf("%s/.%s.tmp-%d", parent, name, (int)getpid());
	cfg_path = str_printf("%s/config.json", tmp);
	if (!parent || !tmp || !cfg_path) {
		r = berr_set(err, ENOMEM, "paths");
		goto out;
	}
	r = mkdir_p(parent, 0700);
	if (r < 0 || mkdir(tmp, 0700) < 0) {
		r = berr_set(err, r < 0 ? -r : errno, "create %s", tmp);
		goto out;
	}
	/* The addresses are leased last before the files, and given back if those fail. */
	r = instance_net_create(p, name, o, &c.net, err);
	if (r < 0) {
		rmdir(tmp);
		goto out;
	}
	if (c.disk != DISK_NONE)
		r = disk_backend_choose(parent, o->disk_backend, &c, &c.disk, err);
	if (r >= 0)
		r = fill_rw(tmp, &c, lower, err);
	if (r >= 0)
		r = instance_config_save(cfg_path, &c, err);
	if (r >= 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, ip.dir, RENAME_NOREPLACE) < 0)
		r = errno == EEXIST ? berr_setx(err, EEXIST, "instance %s already exists", name)
				    : berr_set(err, errno, "rename %s to %s", tmp, ip.dir);
	if (r < 0) {
		berr ignore = {0};

		rm_rf_at(AT_FDCWD, tmp);
		if (c.net.mode != NET_NONE && net_leases_release(p, name, &ignore) < 0)
			log_warn("%s", ignore.msg);
		if (c.disk == DISK_PROJECT)
			quota_project_limit(parent, c.map.outside, 0, &(berr){0});
	}
out:
	instance_config_free(&c);
	instance_paths_free(&ip);
	return r;
}

/* Lock, load the config, and run op. Shared by the verbs that act on one existing instance. */
int with_instance(const berth_paths *p, const char *name, berr *err,
		  int (*op)(const instance_paths *ip, const instance_config *c, void *arg,
			    berr *err),
		  void *arg)
{
	_cleanup_close_ int lock = -EBADF;
	instance_config c = {0};
	instance_paths ip;
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = instance_load_config(&ip, name, &c, err);
	if (r >= 0)
		r = instance_lock(&ip, &lock, err);
	if (r >= 0)
		r = op(&ip, &c, arg, err);
	instance_config_free(&c);
	instance_paths_free(&ip);
	return r;
}

struct delete_args {
	const berth_paths *p;
	bool force;
};

static int op_delete(const instance_paths *ip, const instance_config *c, void *arg, berr *err)
{
	const struct delete_args *a = arg;
	_cleanup_free_ char *tmp = str_printf("%s.deleting-%d", ip->dir, (int)getpid());
	int r = instance_running(ip, err);

	if (r < 0)
		return r;
	if (r == 1 && !a->force)
		return berr_setx(err, EBUSY,
				 "%s is running (berth stop %s first, or delete --force)", c->name,
				 c->name);
	if (r == 1 && (r = stop_locked(ip, c, 0, true, err)) < 0)
		return r;
	if (!tmp)
		return berr_set(err, ENOMEM, "paths");
	/* A disk image left mounted (a monitor that died) goes first, or rw/ could not go. */
	if (c->disk == DISK_IMAGE && (r = disk_umount(ip->rw, err)) < 0)
		return r;
	/* Out of sight first, so that a half-deleted instance never shows. */
	if (rename(ip->dir, tmp) < 0)
		return berr_set(err, errno, "delete %s", ip->dir);
	r = rm_rf_at(AT_FDCWD, tmp);
	if (r < 0)
		return berr_set(err, -r, "remove %s", tmp);
	/* The instance is gone: its addresses are free for the next create. */
	if (c->net.mode != NET_NONE && ipam_release(ip->netdir, c->name, err) < 0)
		log_warn("%s", err->msg);
	/* Its files are gone, so is their usage: lift the limit, so the project id is clean. */
	if (c->disk == DISK_PROJECT) {
		_cleanup_free_ char *store = str_printf("%s/..", ip->dir);

		if (!store || quota_project_limit(store, c->map.outside, 0, err) < 0)
			log_warn("%s: %s", c->name, store ? err->msg : "out of memory");
	}
	if (c->lower_shifted)
		shifted_lower_remove(a->p, c);
	rm_rf_at(AT_FDCWD, ip->logdir);
	unlink(ip->state);
	unlink(ip->sock);
	/* The lock file goes last; we hold it until we return. */
	rm_rf_at(AT_FDCWD, ip->rundir);
	return 0;
}

int instance_delete(const berth_paths *p, const char *name, bool force, berr *err)
{
	struct delete_args a = {.p = p, .force = force};

	return with_instance(p, name, err, op_delete, &a);
}

/*
 * Init is gone (the cgroup is empty) but its monitor lives and its state still
 * says running or stopping: the monitor is recording why and tearing down,
 * which takes milliseconds. Wait for that (bounded), so that status never
 * shows "stopped" without the last exit that goes with it.
 */
static void status_settle(const instance_paths *ip, instance_status *st)
{
	berr ignore = {0};

	for (int ms = 0; ms < STATUS_SETTLE_MS; ms += 10) {
		if (!str_eq(st->state.state, "running") && !str_eq(st->state.state, "stopping"))
			return;
		if (!proc_alive(st->state.monitor_pid, st->state.monitor_start))
			break;
		usleep(10 * 1000);
		instance_state_load(ip->state, &st->state, &ignore);
		if (instance_running(ip, &ignore) == 1) {
			st->running = true; /* booted again meanwhile (a reboot) */
			break;
		}
	}
	instance_state_load(ip->state, &st->state, &ignore);
	st->monitor_alive = proc_alive(st->state.monitor_pid, st->state.monitor_start);
}

int instance_status_get(const berth_paths *p, const char *name, instance_status *ret, berr *err)
{
	instance_paths ip;
	berr ignore = {0};
	int r = instance_name_check(name, err);

	if (r < 0)
		return r;
	*ret = (instance_status){0};
	if (instance_paths_init(&ip, p, name) < 0)
		return berr_set(err, ENOMEM, "paths");
	r = instance_load_config(&ip, name, &ret->config, err);
	if (r >= 0) {
		instance_state_load(ip.state, &ret->state, &ignore);
		r = instance_running(&ip, err);
		ret->running = r == 1;
		if (ret->running) {
			_cleanup_close_ int cg = -EBADF;

			if (instance_cgroup_open(&ip, &cg, &ignore) >= 0)
				ret->frozen = cg_is_frozen(cg) == 1;
		}
		ret->monitor_alive = proc_alive(ret->state.monitor_pid, ret->state.monitor_start);
		if (!ret->running && ret->monitor_alive)
			status_settle(&ip, ret);
		ret->boots = instance_boots_read(&ip);
		/* The monitor counts a boot in state.json first, in the boots file just after. */
		if (ret->monitor_alive && ret->state.boots > ret->boots)
			ret->boots = ret->state.boots;
		if (ret->config.disk == DISK_IMAGE)
			disk_usage(ip.dir, ip.rw, &ret->disk_used, &ret->disk_live);
		ret->disk_live = ret->disk_live || ret->config.disk == DISK_PROJECT;
		if (ret->config.disk == DISK_PROJECT)
			quota_project_usage(ip.dir, ret->config.map.outside, &ret->disk_used);
	}
	instance_paths_free(&ip);
	if (r < 0)
		instance_status_free(ret);
	return r < 0 ? r : 0;
}

void instance_status_free(instance_status *st) { instance_config_free(&st->config); }
