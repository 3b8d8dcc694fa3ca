/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <sys/stat.h>

#include "rootfs.h"
#include "runtime.h"

/* FNV-1a: a stable, short tag for a root path. */
static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int berth_paths_init(berth_paths *p, const char *root)
{
	_cleanup_free_ char *abs = NULL;

	*p = (berth_paths){0};
	if (root && root[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		abs = str_printf("%s/%s", cwd, root);
		if (!abs)
			return -ENOMEM;
		root = abs;
	}
	p->lib = root ? str_printf("%s/lib", root) : strdup("/var/lib/berth");
	p->run = root ? str_printf("%s/run", root) : strdup("/run/berth");
	p->log = root ? str_printf("%s/log", root) : strdup("/var/log/berth");
	p->templates = p->lib ? str_printf("%s/templates", p->lib) : NULL;
	p->cgroup = root ? str_printf("berth-%08x", fnv1a32(root)) : strdup("berth");
	p->etc = root ? str_printf("%s/etc", root) : strdup("/etc/berth");
	p->units = root ? str_printf("%s/systemd", root) : strdup(BERTH_SYSTEMD_UNITS);
	if (!p->lib || !p->run || !p->log || !p->templates || !p->cgroup || !p->etc || !p->units) {
		berth_paths_free(p);
		return -ENOMEM;
	}
	return 0;
}

void berth_paths_free(berth_paths *p)
{
	free(p->lib);
	free(p->run);
	free(p->log);
	free(p->templates);
	free(p->cgroup);
	free(p->etc);
	free(p->units);
	*p = (berth_paths){0};
}

int runtime_root_resolve(const berth_paths *p, const char *template_name, const char *rootfs_dir,
			 char **ret_path, berr *err)
{
	struct stat st;
	char *path;

	if (!rootfs_dir)
		return rootfs_template_resolve(
			p->templates, template_name ? template_name : ROOTFS_DEFAULT_TEMPLATE,
			BERTH_BUSYBOX, ret_path, err);
	path = realpath(rootfs_dir, NULL);
	if (!path)
		return berr_set(err, errno, "root file system %s", rootfs_dir);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(path);
		return berr_setx(err, ENOTDIR, "root file system %s is not a directory",
				 rootfs_dir);
	}
	*ret_path = path;
	return 0;
}
