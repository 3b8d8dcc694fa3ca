/* SPDX-License-Identifier: MIT */
/*
 * Join a host namespace. The driver passes the host's namespace ids (inode
 * numbers of the links in /proc/1/ns, as "mnt:[4026531841]"); this scans every ns link
 * of every process and thread in the instance's /proc for one of them (none
 * must show: the host's processes are not in the PID namespace), then asks
 * the kernel for the parents of its own user and PID namespaces, the way out
 * that needs no /proc: EPERM, the parent is outside the caller's namespace.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "atk.h"

static int host_hits, links_seen;

static void scan(const char *dir, int argc, char **argv)
{
	static const char *const kinds[] = {"mnt", "net", "pid",    "user",
					    "uts", "ipc", "cgroup", "time"};
	char path[1024], target[128];

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/ns/%s", dir, kinds[k]);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		links_seen++;
		for (int i = 1; i < argc; i++)
			if (strcmp(target, argv[i]) == 0) {
				host_hits++;
				printf("ESCAPED: %s is the host's %s\n", path, target);
			}
	}
}

int main(int argc, char **argv)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	char path[512];
	int fd;

	while (d && (de = readdir(d))) {
		DIR *t;
		struct dirent *te;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
		t = opendir(path);
		while (t && (te = readdir(t))) {
			char tdir[800];

			if (te->d_name[0] == '.')
				continue;
			snprintf(tdir, sizeof(tdir), "%s/%s", path, te->d_name);
			scan(tdir, argc, argv);
		}
		if (t)
			closedir(t);
	}
	if (d)
		closedir(d);
	printf("host namespaces among %s ns links: %d\n", links_seen > 10 ? "the" : "FEW",
	       host_hits);
	fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
	atk_step("NS_GET_PARENT of the user namespace", ioctl(fd, NS_GET_PARENT));
	fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	atk_step("NS_GET_PARENT of the PID namespace", ioctl(fd, NS_GET_PARENT));
	/* On a hybrid host the cgroup namespace belongs to the host's user namespace (EPERM). */
	fd = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
	atk_step("NS_GET_USERNS of the cgroup namespace", ioctl(fd, NS_GET_USERNS));
	/* /proc/1 is the instance's init: joining its namespaces stays inside. */
	fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
	atk_step("setns /proc/1/ns/mnt (the instance's init)", setns(fd, CLONE_NEWNS));
	return 0;
}
