/* SPDX-License-Identifier: MIT */
/*
 * Create a nested user namespace and map host ids into it. Ids in a child's
 * uid_map are ids of the parent namespace, the instance's: its root maps (to
 * the instance's own host range), but COUNT (the first id past the instance's
 * range, from the driver) and 4294967294 have no host id behind them: EPERM.
 * The host's root cannot be named at all.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atk.h"

static int write_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = (int)write(fd, map, strlen(map));
	close(fd);
	return r < 0 ? -1 : 0;
}

static pid_t spawn_userns(int *go)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		(void)!read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	usleep(100000); /* the child unshares; a map written earlier would hit our own ns */
	return pid;
}

static void attempt(const char *step, const char *map)
{
	int go = -1;
	pid_t pid = spawn_userns(&go);
	char s[160];

	if (pid < 0)
		return (void)atk_step("fork", -1);
	snprintf(s, sizeof(s), "uid_map %s", step);
	atk_step(s, write_map(pid, "uid_map", map));
	close(go);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	char map[64];

	if (argc != 2) {
		fprintf(stderr, "usage: userns-map COUNT\n");
		return 2;
	}
	attempt("0 0 1 (the instance's root)", "0 0 1\n");
	snprintf(map, sizeof(map), "0 %s 1\n", argv[1]);
	attempt("0 COUNT 1 (past the instance's range)", map);
	attempt("0 4294967294 1 (an id the instance lacks)", "0 4294967294 1\n");
	return 0;
}
