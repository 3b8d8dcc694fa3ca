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
/* Close and forget: a second closep() of the same variable is a no-op, never a stray close. */
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -EBADF;
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
/*
 * write_file_atomic without the fsync: readers see the old or the new file, whole, but
 * after a crash it may be empty or missing. Only for files that a crash makes stale
 * anyway and whose readers treat an empty or unreadable one as absent.
 */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);
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

/*
 * JSON, behind our own small interface (yajl is used in json.c only).
 *
 * Generating: calls record the first error in the generator (sticky), so a
 * caller can emit a whole document and check once, at json_gen_finish.
 * Strings must be valid UTF-8; a NULL string is written as null.
 */
typedef struct json_gen json_gen;

json_gen *json_gen_new(void); /* NULL when out of memory */
void json_gen_free(json_gen *g);
int json_gen_map_open(json_gen *g);
int json_gen_map_close(json_gen *g);
int json_gen_array_open(json_gen *g); /* also a document's top level, e.g. a list */
int json_gen_array_close(json_gen *g);
int json_gen_string(json_gen *g, const char *value); /* an array element */
int json_gen_key(json_gen *g, const char *key);      /* the next value (e.g. a map) is key's */
int json_gen_key_string(json_gen *g, const char *key, const char *value);
int json_gen_key_int(json_gen *g, const char *key, int64_t value);
int json_gen_key_u64(json_gen *g, const char *key, uint64_t value);
int json_gen_key_bool(json_gen *g, const char *key, bool value);
/* The document as a NUL-terminated string, ending in a newline; frees g in every case. */
int json_gen_finish(json_gen *g, char **ret, size_t *ret_len);

/*
 * Parsing: a document is read whole into a tree. A json_tree is any node of
 * it; only the root is freed. Members are found by a key path of up to 8
 * '/'-separated keys ("idmap/base"). Getters return 0, -ENOENT when the member
 * is absent or null, -EINVAL when it has another type (or, for numbers, is
 * not an integer), -ERANGE when an integer does not fit; *ret is written
 * only on success. A string stays owned by the tree.
 */
typedef struct json_tree json_tree;

/* err says where a malformed document goes wrong: "line 3, column 12: ..." */
int json_parse(const char *text, json_tree **ret, berr *err);
void json_tree_free(json_tree *t);
bool json_is_object(const json_tree *t);
int json_get_object(const json_tree *t, const char *path, const json_tree **ret);
int json_get_string(const json_tree *t, const char *path, const char **ret);
int json_get_int(const json_tree *t, const char *path, int64_t *ret);
int json_get_u64(const json_tree *t, const char *path, uint64_t *ret);
int json_get_bool(const json_tree *t, const char *path, bool *ret);
/* Arrays: the member at path (-EINVAL when not an array), then its length and elements. */
int json_get_array(const json_tree *t, const char *path, const json_tree **ret);
size_t json_array_len(const json_tree *a);
const json_tree *json_array_at(const json_tree *a, size_t i); /* NULL past the end */
/* An element's text when it is a string, else NULL. */
const char *json_string_of(const json_tree *t);
