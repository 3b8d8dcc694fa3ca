/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "common.h"

enum log_level log_max_level = LOG_WARN;

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {[LOG_ERR] = "",
					     [LOG_WARN] = "warning: ",
					     [LOG_INFO] = "",
					     [LOG_DEBUG] = "debug: "};
	va_list ap;

	if (level > log_max_level)
		return;
	fprintf(stderr, "berth: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
