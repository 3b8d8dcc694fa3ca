/* SPDX-License-Identifier: MIT */
/* common: errors, logging, cleanup helpers, small file and number helpers. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -EBADF;  \
		_fd;            \
	})
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * An error with its context, carried up the stack and, from the container's
 * init, across the sync socket to the parent. msg reads like
 * "pivot_root into /run/berth/...: Invalid argument".
 */
typedef struct berr {
	int code; /* positive errno, 0 when none */
	char msg[512];
} berr;

/* Format msg, append ": strerror(code)" when code != 0; returns -code (or -EINVAL). */
int berr_set(berr *e, int code, const char *fmt, ...) _printf_(3, 4);
/* Format msg without errno text (validation errors); returns -code. */
int berr_setx(berr *e, int code, const char *fmt, ...) _printf_(3, 4);
/* Put "prefix: " in front of the message already in e. */
void berr_prefix(berr *e, const char *fmt, ...) _printf_(2, 3);

/* Logging. The level is the one mutable global (BERTH_DEBUG=1 or --debug). */
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern enum log_level log_max_level;
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);
#define log_debug(...)                                   \
	do {                                             \
		if (log_max_level >= LOG_DEBUG)          \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

/* Files. All fds O_CLOEXEC. Return >= 0 or -errno. */
int write_file_at(int dirfd, const char *path, const char *data);
int read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len);
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
int rm_rf_at(int dirfd, const char *name);
int copy_file_at(int src_dirfd, const char *src, int dst_dirfd, const char *dst, mode_t mode);

/* Numbers. Return 0 or -EINVAL / -ERANGE; *ret written only on success. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
/* "512M", "2G", "1.5G", "4096", "64k": binary units (K = 1024). */
int parse_size(const char *s, uint64_t *ret);

/* Strings. */
bool str_eq(const char *a, const char *b);
bool str_startswith(const char *s, const char *prefix);
char *str_printf(const char *fmt, ...) _printf_(1, 2);
