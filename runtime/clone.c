/* SPDX-License-Identifier: MIT */
/*
 * berth clone SRC DST: a new instance from a stopped one. The copy gets SRC's
 * config and writable layer, with a name, UUID, id range and machine identity
 * of its own: every owner in the layer is moved from SRC's host range to
 * DST's, /etc/machine-id is made anew from the new UUID (unless the template
 * has one) and /etc/hostname says DST's host name. Like create, it is built
 * in a hidden temp dir and renamed into place: a failed clone leaves nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rootfs.h"
#include "runtime-internal.h"

typedef struct clone_args {
	const berth_paths *p;
	const char *dst;
} clone_args;

/* DST's config: SRC's, renamed, with a new UUID; the id range is chosen by the caller. */
static int clone_config(const instance_config *src, const char *dst, instance_config *ret,
			berr *err)
{
	_cleanup_free_ char *json = NULL, *uuid = NULL;
	int r = instance_config_to_json(src, &json, NULL);

	if (r < 0)
		return berr_set(err, -r, "copy the config of %s", src->name);
	r = instance_config_from_json(json, ret, err);
	if (r < 0)
		return r;
	r = read_file_at(AT_FDCWD, "/proc/sys/kernel/random/uuid", &uuid, NULL);
	if (r < 0)
		return berr_set(err, -r, "make a UUID");
	uuid[strcspn(uuid, "\n")] = '\0';
	free(ret->name);
	free(ret->uuid);
	ret->name = strdup(dst);
	ret->uuid = TAKE_PTR(uuid);
	/* A host name that was the instance's name follows the new name. */
	if (!ret->hostname || str_eq(ret->hostname, src->name)) {
		free(ret->hostname);
		ret->hostname = strdup(dst);
	}
	ret->created = (int64_t)time(NULL);
	if (!ret->name || !ret->hostname)
		return berr_set(err, ENOMEM, "config");
	return 0;
}

/* SRC's rw/ into tmp/rw/, owners moved to DST's range; on DST's own image with --disk. */
static int clone_rw(const instance_paths *sp, const instance_config *src, const char *tmp,
		    const instance_config *dst, berr *err)
{
	_cleanup_free_ char *rw = str_printf("%s/rw", tmp);
	_cleanup_close_ int from = -EBADF, to = -EBADF;
	berr ignore = {0};
	bool src_mounted = false;
	int r;

	if (!rw || mkdir(rw, 0755) < 0)
		return berr_set(err, rw ? errno : ENOMEM, "create %s", rw ? rw : "rw");
	/* Its own project, set before anything is copied in, so every copy is charged to it. */
	if (dst->disk == DISK_PROJECT &&
	    ((r = quota_project_assign(rw, dst->map.outside, err)) < 0 ||
	     (r = quota_project_limit(tmp, dst->map.outside, dst->disk_limit, err)) < 0))
		return r;
	if (dst->disk == DISK_IMAGE) {
		r = disk_image_create(tmp, dst->disk_limit, dst->userns ? dst->map.outside : 0,
				      err);
		if (r >= 0)
			r = disk_mount(tmp, rw, err);
		if (r < 0)
			return r;
		r = disk_mount(sp->dir, sp->rw, err);
		src_mounted = r >= 0;
	} else {
		r = 0;
	}
	if (r >= 0) {
		from = open(sp->rw, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		to = open(rw, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = from < 0 || to < 0 ? berr_set(err, errno, "open %s", from < 0 ? sp->rw : rw)
				       : 0;
	}
	if (r >= 0)
		r = rootfs_copy_shifted(from, to, src->userns ? src->map.outside : 0,
					dst->userns ? dst->map.outside : 0,
					src->userns ? src->map.count : IDMAP_DEFAULT_COUNT, err);
	closep(&from);
	closep(&to);
	if (src_mounted)
		disk_umount(sp->rw, &ignore);
	if (dst->disk == DISK_IMAGE && disk_umount(rw, &ignore) < 0 && r >= 0)
		r = berr_setx(err, EBUSY, "%s", ignore.msg);
	return r;
}

/* The new machine's identity in the copied upper layer (the old machine-id must not survive). */
static int clone_identity(const berth_paths *p, const char *tmp, const instance_config *dst,
			  berr *err)
{
	_cleanup_free_ char *upper = str_printf("%s/rw/upper", tmp), *lower = NULL;
	_cleanup_free_ char *rw = str_printf("%s/rw", tmp);
	berr ignore = {0};
	int r = rootfs_template_resolve(p->templates, dst->template, BERTH_BUSYBOX, &lower, err);

	if (r < 0)
		return r;
	if (!upper || !rw)
		return berr_set(err, ENOMEM, "paths");
	if (dst->disk == DISK_IMAGE && (r = disk_mount(tmp, rw, err)) < 0)
		return r;
	/* Writes the new machine-id over the copied one (identity.c: fds, never a path below upper). */
	r = instance_identity_write(upper, lower, dst, err);
	if (dst->disk == DISK_IMAGE && disk_umount(rw, &ignore) < 0 && r >= 0)
		r = berr_setx(err, EBUSY, "%s", ignore.msg);
	return r;
}

static int op_clone(const instance_paths *sp, const instance_config *src, void *arg, berr *err)
{
	const clone_args *a = arg;
	_cleanup_free_ char *tmp = NULL, *cfg = NULL;
	_cleanup_free_ char *claim = NULL;
	instance_config dst;
	instance_paths dp;
	bool leased = false;
	int r = instance_running(sp, err);

	if (r < 0)
		return r;
	if (r == 1)
		return berr_setx(err, EBUSY,
				 "%s is running: a clone copies a stopped instance (berth stop %s "
				 "first)",
				 src->name, src->name);
	if (instance_paths_init(&dp, a->p, a->dst) < 0)
		return berr_set(err, ENOMEM, "paths");
	instance_config_init(&dst);
	r = clone_config(src, a->dst, &dst, err);
	if (r >= 0 && access(dp.dir, F_OK) == 0)
		r = berr_setx(err, EEXIST, "instance %s already exists (choose another name)",
			      a->dst);
	/* A range of its own, claimed until its config is in place (creates go on meanwhile). */
	if (r >= 0 && dst.userns)
		r = idrange_claim(a->p, &dst.map, &claim, err);
	/* Fresh addresses, one per family SRC had: nothing of SRC's network identity is kept. */
	if (r >= 0 && (r = net_leases_clone(a->p, &src->net, a->dst, &dst.net, err)) >= 0)
		leased = dst.net.mode != NET_NONE;
	tmp = str_printf("%s/instances/.%s.tmp-%d", a->p->lib, a->dst, (int)getpid());
	cfg = str_printf("%s/config.json", tmp);
	if (r >= 0 && (!tmp || !cfg))
		r = berr_set(err, ENOMEM, "paths");
	if (r >= 0 && mkdir(tmp, 0700) < 0)
		r = berr_set(err, errno, "create %s", tmp);
	if (r >= 0) {
		r = clone_rw(sp, src, tmp, &dst, err);
		if (r >= 0)
			r = clone_identity(a->p, tmp, &dst, err);
		if (r >= 0)
			r = instance_config_save(cfg, &dst, err);
		if (r >= 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dp.dir, RENAME_NOREPLACE) < 0)
			r = berr_set(err, errno, "rename %s to %s", tmp, dp.dir);
		if (r < 0) {
			rm_rf_at(AT_FDCWD, tmp);
			if (dst.disk == DISK_PROJECT)
				quota_project_limit(sp->dir, dst.map.outside, 0, &(berr){0});
		}
	}
	if (r < 0 && leased)
		net_leases_release(a->p, a->dst, &(berr){0});
	if (claim)
		unlink(claim);
	instance_config_free(&dst);
	instance_paths_free(&dp);
	return r;
}

int instance_clone(const berth_paths *p, const char *src, const char *dst, berr *err)
{
	clone_args a = {.p = p, .dst = dst};
	int r = instance_name_check(dst, err);

	if (r < 0)
		return r;
	if (str_eq(src, dst))
		return berr_setx(err, EINVAL, "clone %s onto itself: give a new name", src);
	return with_instance(p, src, err, op_clone, &a);
}
