/* SPDX-License-Identifier: MIT */
/*
 * berth exec: who the command runs as. Parsed from the instance's own
 * /etc/passwd and /etc/group (no NSS: the host's libc modules must never see
 * the guest's files, nor the guest get the host's users). The parsers are
 * pure and work on texts; exec_user_lookup reads the files, in the instance's
 * mount namespace.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "exec-internal.h"

#define PASSWD_LINE_MAX 1024
#define INSTANCE_FILE_MAX (4 * 1024 * 1024)

/* Copy the next line of *text into buf; false at the end. A line too long comes back empty. */
static bool line_next(const char **text, char *buf, size_t size)
{
	const char *s = *text, *nl;
	size_t len;

	if (!s || !*s)
		return false;
	nl = strchr(s, '\n');
	len = nl ? (size_t)(nl - s) : strlen(s);
	*text = s + len + (nl ? 1 : 0);
	if (len >= size)
		len = 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

/* Split a colon-separated line in place. Returns the field count, or max + 1 if more. */
static size_t colon_split(char *line, char **f, size_t max)
{
	size_t n = 1;

	f[0] = line;
	for (char *p = line; *p; p++) {
		if (*p != ':')
			continue;
		if (n == max)
			return max + 1;
		*p = '\0';
		f[n++] = p + 1;
	}
	return n;
}

/* Comments and NIS compat entries ("+", "-") name nobody. */
static bool line_skipped(const char *line)
{
	return !line[0] || line[0] == '#' || line[0] == '+' || line[0] == '-';
}

static bool id_parse(const char *s, uint32_t *ret)
{
	return parse_u32(s, ret) >= 0 && *ret != (uint32_t)-1;
}

static int copy_field(char *dst, size_t size, const char *src, const char *fallback)
{
	if (!src[0])
		src = fallback;
	if (strlen(src) >= size)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 0;
}

/* name:password:uid:gid:gecos:home:shell */
static int passwd_entry(char **f, exec_user *ret)
{
	exec_user u = {0};
	uint32_t uid, gid;

	if (!id_parse(f[2], &uid) || !id_parse(f[3], &gid) ||
	    copy_field(u.name, sizeof(u.name), f[0], "") < 0 ||
	    copy_field(u.home, sizeof(u.home), f[5], "/") < 0 ||
	    copy_field(u.shell, sizeof(u.shell), f[6], "/bin/sh") < 0)
		return -EINVAL;
	u.uid = uid;
	u.gid = gid;
	*ret = u;
	return 0;
}

int passwd_find(const char *passwd, const char *user, exec_user *ret)
{
	char line[PASSWD_LINE_MAX];
	exec_user by_uid;
	uint32_t want;
	bool numeric = parse_u32(user, &want) >= 0, have_uid = false;

	for (const char *t = passwd; line_next(&t, line, sizeof(line));) {
		char *f[7];
		exec_user u;

		if (line_skipped(line) || colon_split(line, f, 7) != 7 || passwd_entry(f, &u) < 0)
			continue;
		if (str_eq(u.name, user)) {
			*ret = u;
			return 0;
		}
		if (numeric && !have_uid && u.uid == want) {
			by_uid = u;
			have_uid = true;
		}
	}
	if (!have_uid)
		return -ENOENT;
	*ret = by_uid;
	return 0;
}

/* name:password:gid[:members], into f[0..3] (members "" when absent). */
static bool group_line(char *line, char **f)
{
	size_t n;

	if (line_skipped(line))
		return false;
	n = colon_split(line, f, 4);
	if (n == 3)
		f[3] = f[2] + strlen(f[2]);
	return n == 3 || n == 4;
}

int group_find(const char *group_text, const char *group, gid_t *ret)
{
	char line[PASSWD_LINE_MAX];
	uint32_t want, gid;
	bool numeric = parse_u32(group, &want) >= 0, have_gid = false;
	gid_t by_gid = 0;

	for (const char *t = group_text; line_next(&t, line, sizeof(line));) {
		char *f[4];

		if (!group_line(line, f) || !id_parse(f[2], &gid))
			continue;
		if (str_eq(f[0], group)) {
			*ret = gid;
			return 0;
		}
		if (numeric && !have_gid && gid == want) {
			by_gid = gid;
			have_gid = true;
		}
	}
	if (!have_gid)
		return -ENOENT;
	*ret = by_gid;
	return 0;
}

static void group_add(exec_user *u, gid_t gid)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return;
	if (u->n_groups < EXEC_GROUPS_MAX)
		u->groups[u->n_groups++] = gid;
}

static bool member_listed(char *members, const char *name)
{
	char *save = NULL;

	for (char *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (str_eq(m, name))
			return true;
	return false;
}

void group_collect(const char *group_text, const char *name, gid_t primary, exec_user *u)
{
	char line[PASSWD_LINE_MAX];
	uint32_t gid;

	u->n_groups = 0;
	group_add(u, primary);
	if (!name || !name[0])
		return;
	for (const char *t = group_text; line_next(&t, line, sizeof(line));) {
		char *f[4];

		if (group_line(line, f) && id_parse(f[2], &gid) && member_listed(f[3], name))
			group_add(u, gid);
	}
}

static int user_part(const char *user, const char *passwd, exec_user *ret, berr *err)
{
	uint32_t uid;

	if (passwd_find(passwd, user, ret) >= 0)
		return 0;
	if (!id_parse(user, &uid))
		return berr_setx(err, ENOENT,
				 passwd ? "user \"%s\" not found in the instance's /etc/passwd"
					: "user \"%s\" not found: the instance has no /etc/passwd",
				 user);
	/* A bare uid runs without an entry, as with docker and runc: group 0, home /. */
	*ret = (exec_user){.uid = uid, .gid = 0};
	strcpy(ret->home, uid == 0 ? "/root" : "/");
	strcpy(ret->shell, "/bin/sh");
	if (uid == 0)
		strcpy(ret->name, "root");
	return 0;
}

int exec_user_resolve(const char *user_spec, const char *passwd, const char *group_text,
		      exec_user *ret, berr *err)
{
	char user[EXEC_USER_NAME_MAX];
	const char *group = NULL, *colon;
	exec_user u;
	uint32_t gid;
	size_t len;
	int r;

	if (!user_spec)
		user_spec = "0";
	colon = strchr(user_spec, ':');
	len = colon ? (size_t)(colon - user_spec) : strlen(user_spec);
	if (len == 0 || len >= sizeof(user) || (colon && !colon[1]))
		return berr_setx(err, EINVAL,
				 "user \"%s\": not a user name or uid (use USER or "
				 "USER:GROUP, names or numbers)",
				 user_spec);
	memcpy(user, user_spec, len);
	user[len] = '\0';
	if (colon)
		group = colon + 1;
	r = user_part(user, passwd, &u, err);
	if (r < 0)
		return r;
	if (group) {
		gid_t g;

		if (group_find(group_text, group, &g) >= 0)
			u.gid = g;
		else if (id_parse(group, &gid))
			u.gid = gid;
		else
			return berr_setx(err, ENOENT,
					 "group \"%s\" not found in the instance's /etc/group",
					 group);
	}
	group_collect(group_text, u.name, u.gid, &u);
	*ret = u;
	return 0;
}

/* ---- The files, in the instance. ---- */

/* A file of the instance, read with care: it is the guest's, and may be a FIFO. */
static int instance_file_read(const char *path, char **ret, berr *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t n = 0;

	*ret = NULL;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_set(err, errno, "read the instance's %s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > INSTANCE_FILE_MAX)
		return berr_setx(err, EINVAL,
				 "the instance's %s is not a regular file of at most "
				 "4 MiB",
				 path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return berr_set(err, ENOMEM, "read the instance's %s", path);
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return berr_set(err, errno, "read the instance's %s", path);
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

int exec_user_lookup(const char *user_spec, exec_user *ret, berr *err)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	int r = instance_file_read("/etc/passwd", &passwd, err);

	if (r >= 0)
		r = instance_file_read("/etc/group", &group, err);
	if (r >= 0)
		r = exec_user_resolve(user_spec, passwd, group, ret, err);
	return r;
}
