/* SPDX-License-Identifier: MIT */
/*
 * Escape the instance's disk limit (--disk), as root inside. First fill the
 * root until the file system says no, then try every way around that: a new
 * file, fallocate, a sparse file written in its hole, hard links (to a file of
 * the template, which overlay must copy up, and to one of the writable layer),
 * remounting or unmounting the root, the loop device nodes, the host's image
 * file by its path (IMAGE), and a tmpfs (SHM_FILE, written SHM_MIB MiB: memory,
 * not disk). Prints one "STEP: RESULT" line each; the driver checks the host
 * side (the image's blocks) itself.
 *
 *   quota LIMIT_MIB IMAGE SHM_FILE SHM_MIB
 *
 * Never writes more than twice LIMIT_MIB (then says ESCAPED and stops): a root
 * that is not on its limited disk must not fill the host's.
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "atk.h"

static char chunk[1 << 20];
static long long cap_bytes;

/* Write PIECE-sized pieces to FD until a write fails; returns errno, *bytes what went in. */
static int fill(int fd, size_t piece, long long *bytes)
{
	for (;;) {
		if (*bytes >= cap_bytes) {
			atk_say("fill the root", "ESCAPED (wrote twice the limit; stopped)");
			return 0;
		}
		ssize_t n = write(fd, chunk, piece);

		if (n < 0)
			return errno;
		if (n == 0)
			return ENOSPC;
		*bytes += n;
	}
}

static int fill_root(void)
{
	long long bytes = 0;
	int fd = open("/fill", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), e;
	struct statfs sf;

	if (atk_step("open /fill", fd) < 0)
		return 0;
	/* Near the limit each refused allocation makes ext4 commit its journal and retry:
	 * slow on a busy host, so no finer-grained filling after the first refusal. */
	e = fill(fd, sizeof(chunk), &bytes);
	if (e)
		atk_say("fill the root", atk_errname(e));
	if (statfs("/", &sf) == 0)
		printf("root size MiB: %lld\n", (long long)sf.f_blocks * sf.f_bsize >> 20);
	printf("filled MiB: %lld\n", bytes >> 20);
	close(fd);
	return e ? 0 : -1;
}

static void after_full(void)
{
	int fd = open("/more", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct stat st;

	atk_step("write a new file", fd < 0 ? -1 : write(fd, chunk, sizeof(chunk)) > 0 ? 0 : -1);
	if (fd >= 0)
		close(fd);
	fd = open("/falloc", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	atk_step("fallocate 64 MiB", fd < 0 ? -1 : fallocate(fd, 0, 0, 64 << 20));
	if (fd >= 0)
		close(fd);
	fd = open("/sparse", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	atk_step("sparse file of 1 GiB (no blocks)", fd < 0 ? -1 : ftruncate(fd, 1LL << 30));
	atk_step("write into its hole", fd < 0                                    ? -1
					: pwrite(fd, chunk, 65536, 512 << 20) > 0 ? 0
										  : -1);
	if (fd >= 0 && fstat(fd, &st) == 0)
		printf("sparse file KiB allocated: %lld\n", (long long)st.st_blocks / 2);
	if (fd >= 0)
		close(fd);
	/* A template file: overlay copies it up into the full layer before linking. */
	atk_step("hard link a template file (copy-up)", link("/bin/busybox", "/hl-lower"));
	atk_step("hard link the full file", link("/fill", "/hl-fill"));
	fd = open("/hl-fill", O_WRONLY | O_APPEND | O_CLOEXEC);
	atk_step("append through the link", fd < 0 ? -1 : write(fd, chunk, 65536) > 0 ? 0 : -1);
	if (fd >= 0)
		close(fd);
}

static void mounts(const char *image)
{
	int fd;

	atk_step("remount / read-write", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	atk_step("remount / with new overlay options",
		 mount("overlay", "/", "overlay", MS_REMOUNT, "upperdir=/dev/shm"));
	atk_step("umount /", umount2("/", MNT_DETACH));
	atk_step("open /dev/loop-control", open("/dev/loop-control", O_RDWR | O_CLOEXEC));
	atk_step("open /dev/loop0", open("/dev/loop0", O_RDWR | O_CLOEXEC));
	atk_step("open the image by its host path", open(image, O_RDWR | O_CLOEXEC));
	fd = open("/after-mounts", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	atk_step("write after the mount attempts",
		 fd < 0                                                  ? -1
		 : write(fd, chunk, sizeof(chunk)) > 0 && fsync(fd) == 0 ? 0
									 : -1);
	if (fd >= 0)
		close(fd);
}

static void shm(const char *path, int mib)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), i;

	if (atk_step("open the tmpfs file", fd) < 0)
		return;
	for (i = 0; i < mib; i++)
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			break;
	printf("tmpfs MiB written: %d\n", i);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 5 || atoll(argv[1]) <= 0) {
		fprintf(stderr, "usage: quota LIMIT_MIB IMAGE SHM_FILE SHM_MIB\n");
		return 2;
	}
	cap_bytes = atoll(argv[1]) << 21;
	memset(chunk, 0x5a, sizeof(chunk));
	if (fill_root() < 0) {
		unlink("/fill"); /* the root is not on the limited disk: free the host's */
		return 0;
	}
	after_full();
	mounts(argv[2]);
	shm(argv[3], atoi(argv[4]));
	return 0;
}
