/* SPDX-License-Identifier: MIT */
/*
 * The guest's sd_notify socket (runtime/notify.c): a real socket in a temp
 * dir, messages sent to it as a guest's init would; only the sender named as
 * init counts. No root needed.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "runtime-internal.h"

static char dir[64];
static int srv = -1;

static void setup(void)
{
	char tmpl[] = "/tmp/berth-notify-XXXXXX";
	berr err = {0};

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(dir, sizeof(dir), "%s/host", tmpl);
	cr_assert_eq(guest_host_dir_setup(dir, &srv, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	char parent[64];

	close(srv);
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	rm_rf_at(AT_FDCWD, parent);
}

static void send_msg(const char *msg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa)),
		     (ssize_t)strlen(msg));
	close(fd);
}

TestSuite(notify, .init = setup, .fini = teardown);

Test(notify, host_dir_holds_what_the_guest_reads)
{
	_cleanup_free_ char *cm = NULL;
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "%s/container-manager", dir);
	cr_assert_eq(read_file_at(AT_FDCWD, path, &cm, NULL), 0);
	cr_expect_str_eq(cm, "berth\n");
	snprintf(path, sizeof(path), "%s/notify", dir);
	cr_expect_eq(stat(path, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0666, "the guest's root (not host root) may send");
	snprintf(path, sizeof(path), "%s/os-release", dir);
	if (access("/etc/os-release", R_OK) == 0)
		cr_expect_eq(access(path, R_OK), 0);
}

Test(notify, ready_status_and_stopping_from_init)
{
	notify_state st = {0};

	send_msg("READY=1\nSTATUS=Startup finished in 200ms.");
	cr_expect_eq(notify_dispatch(srv, getpid(), &st), 1);
	cr_expect(st.ready);
	cr_expect_str_eq(st.status, "Startup finished in 200ms.");
	cr_expect_eq(notify_dispatch(srv, getpid(), &st), 0, "nothing pending: no change");
	send_msg("STOPPING=1\nSTATUS=Shutting down\x1b[1m");
	cr_expect_eq(notify_dispatch(srv, getpid(), &st), 1);
	cr_expect_not(st.ready);
	cr_expect_str_eq(st.status, "Shutting down?[1m", "control characters replaced");
}

Test(notify, other_senders_ignored)
{
	notify_state st = {0};

	/* The sender is this process; init is someone else: a process in the guest posing. */
	send_msg("READY=1\nSTATUS=forged");
	cr_expect_eq(notify_dispatch(srv, getpid() + 1, &st), 0);
	cr_expect_not(st.ready);
	cr_expect_str_eq(st.status, "");
}

Test(notify, setup_replaces_a_stale_dir)
{
	notify_state st = {0};
	int again = -1;
	berr err = {0};

	/* A monitor killed before it cleaned up: the next start makes it afresh. */
	cr_assert_eq(guest_host_dir_setup(dir, &again, &err), 0, "%s", err.msg);
	close(srv);
	srv = again;
	send_msg("READY=1");
	cr_expect_eq(notify_dispatch(srv, getpid(), &st), 1);
	cr_expect(st.ready);
}
