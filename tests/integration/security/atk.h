/* SPDX-License-Identifier: MIT */
/*
 * What the attacker programs of the security battery share. Each program is
 * static (it runs in a busybox root), attempts one attack from inside an
 * instance as its root, and prints one line per step, "STEP: RESULT", where
 * RESULT is "ok", an errno name ("EPERM") or a fact ("0 nonzero"). The driver,
 * security.sh, compares those lines with the ones that mean "refused for the
 * right reason". A step that reaches something it must not prints "ESCAPED".
 */
#ifndef BERTH_ATK_H
#define BERTH_ATK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *atk_errname(int e)
{
	const char *name = strerrorname_np(e);
	static char num[16];

	if (name)
		return name;
	snprintf(num, sizeof(num), "errno%d", e);
	return num;
}

/* step: "STEP: ok" when r >= 0, else "STEP: ENAME" (errno at the call). */
static inline int atk_step(const char *step, long r)
{
	int e = errno;

	if (r >= 0)
		printf("%s: ok\n", step);
	else
		printf("%s: %s\n", step, atk_errname(e));
	fflush(stdout);
	errno = e;
	return r < 0 ? -e : 0;
}

static inline void atk_say(const char *step, const char *what)
{
	printf("%s: %s\n", step, what);
	fflush(stdout);
}

#endif
