/* SPDX-License-Identifier: MIT */
/*
 * Climb out of the pivoted root: ".." from /, the classic chroot trick in a
 * second mount namespace of our own (unshare -m, chroot into a subdirectory
 * with the cwd left outside it, ".." up, chroot "."), detaching / in it, and
 * ".." from /proc/1/root. After each, HOST_MARKER (a host file, by its host
 * path) must be ENOENT and the walk must end at the instance's own root
 * (etc/berth-sec-instance there, relative to the cwd): pivot_root
 * left no host directory above the instance's root, and the old root was
 * unmounted, so there is nothing to climb to.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atk.h"

static void check(const char *how, const char *host_marker)
{
	char step[160];
	struct stat st;

	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	snprintf(step, sizeof(step), "%s: host marker", how);
	atk_step(step, stat(host_marker, &st) == 0 || stat(host_marker + 1, &st) == 0 ? 0 : -1);
	if (stat(host_marker, &st) == 0 || stat(host_marker + 1, &st) == 0)
		atk_say(step, "ESCAPED");
	snprintf(step, sizeof(step), "%s: instance marker", how);
	atk_step(step, stat("etc/berth-sec-instance", &st)); /* where the walk ended */
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pivot-escape HOST_MARKER\n");
		return 2;
	}
	if (chdir("/") < 0)
		return 2;
	check("dotdot from /", argv[1]);
	if (chdir("/proc/1/root") == 0)
		check("dotdot from /proc/1/root", argv[1]);
	if (atk_step("unshare -m", unshare(CLONE_NEWNS)) < 0)
		return 0;
	mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	mkdir("/tmp/atk-chroot", 0700);
	if (chdir("/") < 0 || atk_step("chroot subdirectory", chroot("/tmp/atk-chroot")) < 0)
		return 0;
	check("chroot trick", argv[1]);
	if (chroot(".") < 0)
		atk_step("chroot .", -1);
	check("chroot trick, chroot .", argv[1]);
	atk_step("umount -l /", umount2("/", MNT_DETACH));
	check("after umount -l /", argv[1]);
	return 0;
}
