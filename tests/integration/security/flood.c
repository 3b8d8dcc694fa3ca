/* SPDX-License-Identifier: MIT */
/*
 * Send as much as the instance's own link takes: UDP datagrams of 1400 bytes
 * to DST:PORT for SECONDS seconds (IPv4), then print "sent bytes: N" and
 * "seconds: S". Run after the attacker removed its own qdiscs, the driver
 * compares N with what the host side let through (its rate limit's counters).
 *
 *   flood DST PORT SECONDS
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "atk.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	static char buf[1400];
	long long sent = 0;
	double t0, t1;
	int fd;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: flood DST PORT SECONDS\n");
		return 2;
	}
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (atk_step("udp socket", fd) < 0)
		return 0;
	t0 = t1 = now();
	while (t1 - t0 < atof(argv[3])) {
		for (int i = 0; i < 64; i++) {
			ssize_t n =
				sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to));

			if (n > 0)
				sent += n;
		}
		t1 = now();
	}
	printf("sent bytes: %lld\nseconds: %.2f\n", sent, t1 - t0);
	return 0;
}
