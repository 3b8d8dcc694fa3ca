/* SPDX-License-Identifier: MIT */
/*
 * Templates, as instances see them: the store itself is rootfs's; what is
 * added here is the one rule that needs the instances, that a template in use
 * is never removed.
 */
#include <stdio.h>
#include <string.h>

#include "rootfs.h"
#include "runtime.h"

/* How many users a refusal names before "and N more". */
#define USERS_NAMED 8

int template_list(const berth_paths *p, char ***ret_names, berr *err)
{
	return rootfs_template_list(p->templates, ret_names, err);
}

int template_import(const berth_paths *p, const char *name, const char *source, berr *err)
{
	return rootfs_template_import(p->templates, name, source, err);
}

int template_create_busybox(const berth_paths *p, const char *name, berr *err)
{
	return rootfs_template_create_busybox(p->templates, name, BERTH_BUSYBOX, err);
}

int template_create_debootstrap(const berth_paths *p, const char *name,
				const struct rootfs_debootstrap *o, berr *err)
{
	return rootfs_template_create_debootstrap(p->templates, name, o, err);
}

/* Which template instance name uses; NULL in the config means the default. */
static int instance_template(const berth_paths *p, const char *name, char **ret, berr *err)
{
	instance_paths ip = {0};
	instance_config c;
	int r;

	instance_config_init(&c);
	r = instance_paths_init(&ip, p, name);
	if (r < 0)
		return berr_set(err, -r, "instance %s", name);
	r = instance_config_load(ip.config, &c, err);
	instance_paths_free(&ip);
	if (r < 0) {
		instance_config_free(&c);
		return r;
	}
	*ret = strdup(c.template ? c.template : ROOTFS_DEFAULT_TEMPLATE);
	instance_config_free(&c);
	return *ret ? 0 : berr_set(err, ENOMEM, "instance %s", name);
}

/* "used by a, b, c (delete them first)", naming at most USERS_NAMED. */
static int refuse_used(char **users, size_t n, berr *err)
{
	char list[sizeof(err->msg)] = "";
	size_t len = 0;

	for (size_t i = 0; i < n && i < USERS_NAMED; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					users[i]);
	if (n > USERS_NAMED && len < sizeof(list))
		snprintf(list + len, sizeof(list) - len, " and %zu more", n - USERS_NAMED);
	return berr_setx(err, EBUSY, "used by %s (delete %s first)", list, n == 1 ? "it" : "them");
}

/*
 * An instance whose config cannot be read might use the template: refuse
 * rather than pull the lower layer from under a running VPS.
 */
int template_remove(const berth_paths *p, const char *name, berr *err)
{
	char **instances = NULL, **users = NULL;
	size_t n_users = 0;
	int r;

	r = rootfs_template_name_check(name, err);
	if (r < 0)
		return r;
	r = instance_list(p, &instances, err);
	if (r < 0)
		return r;
	while (instances && instances[n_users])
		n_users++;
	users = calloc(n_users + 1, sizeof(char *)); /* at most every instance */
	n_users = 0;
	if (!users)
		r = berr_set(err, ENOMEM, "template %s", name);
	for (char **i = instances; r >= 0 && i && *i; i++) {
		_cleanup_free_ char *t = NULL;
		berr e = {0};

		r = instance_template(p, *i, &t, &e);
		if (r < 0) {
			r = berr_setx(err, -r,
				      "cannot tell whether instance %s uses it: %s (repair or "
				      "delete that instance first)",
				      *i, e.msg);
			break;
		}
		if (str_eq(t, name))
			users[n_users++] = *i;
	}
	if (r >= 0 && n_users > 0)
		r = refuse_used(users, n_users, err);
	if (r >= 0)
		r = rootfs_template_remove(p->templates, name, err);
	free(users); /* its strings belong to instances */
	strv_free(instances);
	return r;
}
