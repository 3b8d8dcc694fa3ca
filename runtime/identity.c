/* SPDX-License-Identifier: MIT */
/*
 * Machine identity, written into the instance's own upper layer at create
 * (and again for a clone): /etc/machine-id from the config's UUID (32 hex
 * digits, no dashes, as systemd wants it), unless the template carries a valid
 * one of its own, and /etc/hostname with the instance's host name. Written
 * once, so both stay the same across reboots; the guest may change them.
 * upper may hold what a guest made (a clone's copy): everything below it is
 * reached through fds with O_NOFOLLOW, so a symlink planted there (etc ->
 * /etc) cannot redirect a write or an unlink onto the host.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime-internal.h"

bool machine_id_valid(const char *s, size_t len)
{
	if (len == 33 && s[32] == '\n')
		len = 32;
	if (len != 32)
		return false;
	for (size_t i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void machine_id_from_uuid(const char *uuid, char out[33])
{
	size_t n = 0;

	for (const char *p = uuid; *p && n < 32; p++)
		if (*p != '-')
			out[n++] = (char)((*p >= 'A' && *p <= 'F') ? *p - 'A' + 'a' : *p);
	out[n] = '\0';
}

/* Does the template hold a valid /etc/machine-id (a regular file, not through a symlink)? */
static bool template_has_machine_id(int lowerfd)
{
	_cleanup_close_ int etc =
		openat(lowerfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int fd = -EBADF;
	char buf[40];
	ssize_t n;

	if (etc < 0)
		return false;
	fd = openat(etc, "machine-id", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	return n > 0 && machine_id_valid(buf, (size_t)n);
}

/* Replace etcfd/name with data, owned by uid:gid (root inside). */
static int put_file(int etcfd, const char *name, const char *data, mode_t mode, uid_t uid,
		    berr *err)
{
	_cleanup_close_ int fd = -EBADF;
	size_t len = strlen(data);

	if (unlinkat(etcfd, name, 0) < 0 && errno != ENOENT)
		return berr_set(err, errno, "replace /etc/%s", name);
	fd = openat(etcfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 || fchown(fd, uid, uid) < 0 || fchmod(fd, mode) < 0 ||
	    write(fd, data, len) != (ssize_t)len)
		return berr_set(err, errno ? errno : EIO, "write /etc/%s", name);
	return 0;
}

int instance_identity_write(const char *upper, const char *lower, const instance_config *c,
			    berr *err)
{
	_cleanup_close_ int lowerfd = open(lower, O_PATH | O_DIRECTORY | O_CLOEXEC),
			    upperfd = open(upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
			    etc = -EBADF;
	uid_t base = c->userns ? c->map.outside : 0;
	struct stat st = {.st_mode = S_IFDIR | 0755};
	char id[34], host[80];
	int r;

	if (lowerfd < 0)
		return berr_set(err, errno, "open %s", lower);
	if (upperfd < 0)
		return berr_set(err, errno, "open %s", upper);
	/* etc in the upper as the template has it (mode, owner shifted), so overlay shows no change. */
	if (fstatat(lowerfd, "etc", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		return 0; /* an odd template (etc a symlink): leave its identity to it */
	if (mkdirat(upperfd, "etc", st.st_mode & 07777) < 0 && errno != EEXIST)
		return berr_set(err, errno, "create %s/etc", upper);
	etc = openat(upperfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0 || fchown(etc, base + st.st_uid, base + st.st_gid) < 0)
		return berr_set(err, errno, "create %s/etc", upper);
	snprintf(host, sizeof(host), "%s\n", c->hostname ? c->hostname : c->name);
	r = put_file(etc, "hostname", host, 0644, base, err);
	if (r < 0)
		return r;
	/* The template's own shows through (a clone drops the one it copied). */
	if (template_has_machine_id(lowerfd))
		return unlinkat(etc, "machine-id", 0) < 0 && errno != ENOENT
			       ? berr_set(err, errno, "remove %s/etc/machine-id", upper)
			       : 0;
	machine_id_from_uuid(c->uuid, id);
	strcat(id, "\n");
	return put_file(etc, "machine-id", id, 0444, base, err);
}
