/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "common.h"

static int berr_vset(berr *e, int code, bool with_errno, const char *fmt, va_list ap)
{
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);

	if (n < 0)
		n = 0;
	if (with_errno && code > 0 && (size_t)n < sizeof(e->msg) &&
	    snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(code)) < 0)
		e->msg[n] = '\0';
	e->code = code > 0 ? code : EINVAL;
	return -e->code;
}

int berr_set(berr *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = berr_vset(e, code, true, fmt, ap);
	va_end(ap);
	return r;
}

int berr_setx(berr *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = berr_vset(e, code, false, fmt, ap);
	va_end(ap);
	return r;
}

void berr_prefix(berr *e, const char *fmt, ...)
{
	char prefix[128], old[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* A long message loses its tail rather than its prefix. */
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old) >= (int)sizeof(e->msg))
		e->msg[sizeof(e->msg) - 1] = '\0';
}
