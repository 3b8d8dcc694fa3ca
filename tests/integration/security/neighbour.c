/* SPDX-License-Identifier: MIT */
/*
 * Reach a neighbour instance. "neighbour serve" runs in instance B: it
 * listens on the abstract unix socket @berth-sec-neighbour, puts a secret in
 * /dev/shm/berth-sec-neighbour, a SysV shared memory segment, message queue
 * and semaphore set under key 0x62657274, prints "serving" and sleeps.
 * "neighbour probe B_FILE B_PID" runs in instance A and tries each of them,
 * plus a file of B by its host path and B's init by its host pid. Each
 * instance has its own network namespace (abstract sockets live there), its
 * own /dev/shm, IPC namespace, mount and PID namespace: ECONNREFUSED, ENOENT,
 * ESRCH.
 */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "atk.h"

#define KEY 0x62657274
#define SOCK "\0berth-sec-neighbour"
#define SHM "/dev/shm/berth-sec-neighbour"

static socklen_t sock_addr(struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, SOCK, sizeof(SOCK) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof(SOCK) - 1);
}

static int serve(void)
{
	struct sockaddr_un a;
	socklen_t len = sock_addr(&a);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;

	if (s < 0 || bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 8) < 0)
		return atk_step("serve: listen", -1), 1;
	fd = open(SHM, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || write(fd, "secret\n", 7) != 7)
		return atk_step("serve: " SHM, -1), 1;
	if (shmget(KEY, 4096, IPC_CREAT | 0666) < 0 || msgget(KEY, IPC_CREAT | 0666) < 0 ||
	    semget(KEY, 1, IPC_CREAT | 0666) < 0)
		return atk_step("serve: SysV IPC", -1), 1;
	printf("serving\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int probe(const char *b_file, int b_pid)
{
	struct sockaddr_un a;
	socklen_t len = sock_addr(&a);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;

	atk_step("connect @berth-sec-neighbour", connect(s, (struct sockaddr *)&a, len));
	atk_step("open " SHM, open(SHM, O_RDONLY | O_CLOEXEC));
	atk_step("shmget", shmget(KEY, 0, 0));
	atk_step("msgget", msgget(KEY, 0));
	atk_step("semget", semget(KEY, 0, 0));
	atk_step("stat the neighbour's file by its host path", stat(b_file, &st));
	atk_step("kill the neighbour's init by its host pid", kill(b_pid, SIGKILL));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if (argc == 4 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: neighbour serve | neighbour probe B_FILE B_PID\n");
	return 2;
}
