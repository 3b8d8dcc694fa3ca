/* SPDX-License-Identifier: MIT */
/*
 * JSON helpers: the one file that includes yajl. Everything else sees the
 * small interface in common.h, so yajl can be replaced without touching its
 * callers.
 *
 * yajl itself does not survive an allocation failure inside its own buffers
 * (it asserts); what we allocate ourselves is checked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "common.h"

#define JSON_PATH_MAX_KEYS 8

struct json_gen {
	yajl_gen y;
	int error;      /* the first failure, as -errno; later calls do nothing */
	unsigned depth; /* maps open: yajl_gen_get_buf does not tell */
	bool started;
};

json_gen *json_gen_new(void)
{
	json_gen *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->y = yajl_gen_alloc(NULL);
	if (!g->y) {
		free(g);
		return NULL;
	}
	/* Files people read: indented. Strings we are handed must be valid UTF-8. */
	if (!yajl_gen_config(g->y, yajl_gen_beautify, 1) ||
	    !yajl_gen_config(g->y, yajl_gen_indent_string, "  ") ||
	    !yajl_gen_config(g->y, yajl_gen_validate_utf8, 1)) {
		json_gen_free(g);
		return NULL;
	}
	return g;
}

void json_gen_free(json_gen *g)
{
	if (!g)
		return;
	yajl_gen_free(g->y);
	free(g);
}

/* Record the first failure: invalid UTF-8 or misuse (a value without a key) is EINVAL. */
static int gen_check(json_gen *g, yajl_gen_status s)
{
	if (s != yajl_gen_status_ok && g->error == 0)
		g->error = s == yajl_gen_invalid_string ? -EILSEQ : -EINVAL;
	return g->error;
}

int json_gen_map_open(json_gen *g)
{
	if (g->error || gen_check(g, yajl_gen_map_open(g->y)) < 0)
		return g->error;
	g->depth++;
	g->started = true;
	return 0;
}

int json_gen_map_close(json_gen *g)
{
	if (g->error || gen_check(g, yajl_gen_map_close(g->y)) < 0)
		return g->error;
	g->depth--;
	return 0;
}

int json_gen_array_open(json_gen *g)
{
	if (g->error || gen_check(g, yajl_gen_array_open(g->y)) < 0)
		return g->error;
	g->depth++;
	g->started = true;
	return 0;
}

int json_gen_array_close(json_gen *g)
{
	if (g->error || gen_check(g, yajl_gen_array_close(g->y)) < 0)
		return g->error;
	g->depth--;
	return 0;
}

int json_gen_string(json_gen *g, const char *value)
{
	if (g->error)
		return g->error;
	if (!value)
		return gen_check(g, yajl_gen_null(g->y));
	return gen_check(g, yajl_gen_string(g->y, (const unsigned char *)value, strlen(value)));
}

int json_gen_key(json_gen *g, const char *key)
{
	if (g->error)
		return g->error;
	return gen_check(g, yajl_gen_string(g->y, (const unsigned char *)key, strlen(key)));
}

int json_gen_key_string(json_gen *g, const char *key, const char *value)
{
	if (json_gen_key(g, key) < 0)
		return g->error;
	if (!value)
		return gen_check(g, yajl_gen_null(g->y));
	return gen_check(g, yajl_gen_string(g->y, (const unsigned char *)value, strlen(value)));
}

int json_gen_key_int(json_gen *g, const char *key, int64_t value)
{
	if (json_gen_key(g, key) < 0)
		return g->error;
	return gen_check(g, yajl_gen_integer(g->y, (long long)value));
}

/* yajl's integers are long long: write the digits ourselves to keep the full range. */
int json_gen_key_u64(json_gen *g, const char *key, uint64_t value)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, value);

	if (json_gen_key(g, key) < 0)
		return g->error;
	return gen_check(g, yajl_gen_number(g->y, buf, (size_t)n));
}

int json_gen_key_bool(json_gen *g, const char *key, bool value)
{
	if (json_gen_key(g, key) < 0)
		return g->error;
	return gen_check(g, yajl_gen_bool(g->y, value));
}

int json_gen_finish(json_gen *g, char **ret, size_t *ret_len)
{
	const unsigned char *buf;
	size_t len;
	char *copy;
	int r;

	if (!g)
		return -ENOMEM;
	r = g->error;
	if (r == 0 && (!g->started || g->depth > 0)) /* no document, or a map left open */
		r = -EINVAL;
	if (r == 0 && yajl_gen_get_buf(g->y, &buf, &len) != yajl_gen_status_ok)
		r = -EINVAL;
	if (r == 0) {
		copy = malloc(len + 1);
		if (!copy) {
			r = -ENOMEM;
		} else {
			memcpy(copy, buf, len);
			copy[len] = '\0';
			*ret = copy;
			if (ret_len)
				*ret_len = len;
		}
	}
	json_gen_free(g);
	return r;
}

/* A json_tree is a yajl node under another name: callers never see yajl_val. */
static yajl_val node(const json_tree *t) { return (yajl_val)(uintptr_t)t; }

/* One line saying where text goes wrong; yajl_tree_parse's own message spans three. */
static int parse_error(const char *text, berr *err)
{
	size_t len = strlen(text), at = len, line = 1, col = 1;
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	unsigned char *msg = NULL;
	int r;

	if (!h)
		return berr_set(err, ENOMEM, "parse JSON");
	yajl_config(h, yajl_allow_comments, 1); /* as yajl_tree_parse does */
	/* Bytes consumed include the one that did not fit. */
	if (yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok)
		at = yajl_get_bytes_consumed(h) > 0 ? yajl_get_bytes_consumed(h) - 1 : 0;
	else if (yajl_complete_parse(h) == yajl_status_ok) {
		yajl_free(h);
		return berr_setx(err, EINVAL, "malformed JSON");
	}
	msg = yajl_get_error(h, 0, NULL, 0);
	for (size_t i = 0; i < at && i < len; i++, col++)
		if (text[i] == '\n') {
			line++;
			col = 0;
		}
	if (msg)
		msg[strcspn((char *)msg, "\n")] = '\0';
	r = berr_setx(err, EINVAL, "malformed JSON at line %zu, column %zu: %s", line, col,
		      msg ? (const char *)msg : "parse error");
	if (msg)
		yajl_free_error(h, msg);
	yajl_free(h);
	return r;
}

int json_parse(const char *text, json_tree **ret, berr *err)
{
	char buf[256] = "";
	yajl_val v = yajl_tree_parse(text, buf, sizeof(buf));

	if (!v)
		return buf[0] ? parse_error(text, err) : berr_set(err, ENOMEM, "parse JSON");
	*ret = (json_tree *)v;
	return 0;
}

void json_tree_free(json_tree *t) { yajl_tree_free(node(t)); }

bool json_is_object(const json_tree *t) { return YAJL_IS_OBJECT(node(t)); }

static yajl_val member(yajl_val obj, const char *key, size_t key_len)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];

		if (strlen(k) == key_len && memcmp(k, key, key_len) == 0)
			return obj->u.object.values[i];
	}
	return NULL;
}

/* Walk path from t; 0 with a non-null node, -ENOENT, or -EINVAL (not an object on the way). */
static int lookup(const json_tree *t, const char *path, yajl_val *ret)
{
	yajl_val v = node(t);
	size_t depth = 0;

	for (const char *p = path;; depth++) {
		size_t n = strcspn(p, "/");

		if (depth >= JSON_PATH_MAX_KEYS)
			return -EINVAL;
		if (!YAJL_IS_OBJECT(v))
			return v ? -EINVAL : -ENOENT;
		v = member(v, p, n);
		if (!v || YAJL_IS_NULL(v))
			return -ENOENT;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*ret = v;
	return 0;
}

int json_get_object(const json_tree *t, const char *path, const json_tree **ret)
{
	yajl_val v;
	int r = lookup(t, path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_OBJECT(v))
		return -EINVAL;
	*ret = (const json_tree *)v;
	return 0;
}

int json_get_string(const json_tree *t, const char *path, const char **ret)
{
	yajl_val v;
	int r = lookup(t, path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_STRING(v))
		return -EINVAL;
	*ret = v->u.string;
	return 0;
}

/* Digits, with an optional leading '-': an integer that may be too large for yajl. */
static bool integer_text(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* From the number's text: yajl cannot read INT64_MIN back, which its generator writes. */
int json_get_int(const json_tree *t, const char *path, int64_t *ret)
{
	yajl_val v;
	long long n;
	int r = lookup(t, path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_NUMBER(v) || !integer_text(v->u.number.r))
		return -EINVAL;
	errno = 0;
	n = strtoll(v->u.number.r, NULL, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*ret = (int64_t)n;
	return 0;
}

int json_get_u64(const json_tree *t, const char *path, uint64_t *ret)
{
	yajl_val v;
	int r = lookup(t, path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_NUMBER(v) || !integer_text(v->u.number.r))
		return -EINVAL;
	if (v->u.number.r[0] == '-')
		return -ERANGE;
	return parse_u64(v->u.number.r, ret) < 0 ? -ERANGE : 0;
}

int json_get_bool(const json_tree *t, const char *path, bool *ret)
{
	yajl_val v;
	int r = lookup(t, path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return -EINVAL;
	*ret = YAJL_IS_TRUE(v);
	return 0;
}

int json_get_array(const json_tree *t, const char *path, const json_tree **ret)
{
	yajl_val v;
	int r = lookup(t, path, &v);

	if (r < 0)
		return r;
	if (!YAJL_IS_ARRAY(v))
		return -EINVAL;
	*ret = (const json_tree *)v;
	return 0;
}

size_t json_array_len(const json_tree *a)
{
	return YAJL_IS_ARRAY(node(a)) ? node(a)->u.array.len : 0;
}

const json_tree *json_array_at(const json_tree *a, size_t i)
{
	if (i >= json_array_len(a))
		return NULL;
	return (const json_tree *)node(a)->u.array.values[i];
}

const char *json_string_of(const json_tree *t)
{
	return t && YAJL_IS_STRING(node(t)) ? node(t)->u.string : NULL;
}
