/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "common.h"

static json_tree *parse_ok(const char *text)
{
	json_tree *t = NULL;
	berr err = {0};

	cr_assert_eq(json_parse(text, &t, &err), 0, "json_parse(%s): %s", text, err.msg);
	cr_assert_not_null(t);
	return t;
}

static void parse_fails(const char *text, const char *expect_in_msg)
{
	json_tree *t = (json_tree *)0x1;
	berr err = {0};

	cr_assert_eq(json_parse(text, &t, &err), -EINVAL, "json_parse(%s) should fail", text);
	cr_expect_eq(t, (json_tree *)0x1, "*ret is written only on success");
	cr_expect(strstr(err.msg, expect_in_msg), "json_parse(%s): \"%s\" should contain \"%s\"",
		  text, err.msg, expect_in_msg);
}

Test(json_gen, document_round_trip)
{
	json_gen *g = json_gen_new();
	_cleanup_free_ char *text = NULL;
	const json_tree *sub = NULL;
	const char *s = NULL;
	json_tree *t;
	int64_t i = 0;
	uint64_t u = 0;
	bool b = false;
	size_t len = 0;

	cr_assert_not_null(g);
	json_gen_map_open(g);
	json_gen_key_string(g, "name", "web1 \"quoted\" \\ é");
	json_gen_key_string(g, "none", NULL);
	json_gen_key_int(g, "neg", INT64_MIN);
	json_gen_key_u64(g, "big", UINT64_MAX);
	json_gen_key_bool(g, "yes", true);
	json_gen_key(g, "sub");
	json_gen_map_open(g);
	json_gen_key_int(g, "n", 42);
	json_gen_map_close(g);
	json_gen_map_close(g);
	cr_assert_eq(json_gen_finish(g, &text, &len), 0);
	cr_expect_eq(len, strlen(text));
	cr_expect_eq(text[len - 1], '\n', "a file ends in a newline");

	t = parse_ok(text);
	cr_expect(json_is_object(t));
	cr_expect_eq(json_get_string(t, "name", &s), 0);
	cr_expect_str_eq(s, "web1 \"quoted\" \\ é");
	cr_expect_eq(json_get_int(t, "neg", &i), 0);
	cr_expect_eq(i, INT64_MIN);
	cr_expect_eq(json_get_u64(t, "big", &u), 0);
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(json_get_bool(t, "yes", &b), 0);
	cr_expect(b);
	cr_expect_eq(json_get_object(t, "sub", &sub), 0);
	cr_expect_eq(json_get_int(sub, "n", &i), 0);
	cr_expect_eq(i, 42);
	cr_expect_eq(json_get_int(t, "sub/n", &i), 0, "a key path reaches into objects");
	cr_expect_eq(json_get_string(t, "none", &s), -ENOENT, "null reads as absent");
	json_tree_free(t);
}

Test(json_gen, invalid_utf8_is_refused)
{
	json_gen *g = json_gen_new();
	char *text = NULL;

	json_gen_map_open(g);
	cr_expect_eq(json_gen_key_string(g, "name", "bad \xff byte"), -EILSEQ);
	cr_expect_eq(json_gen_key_int(g, "later", 1), -EILSEQ, "the first error sticks");
	json_gen_map_close(g);
	cr_expect_eq(json_gen_finish(g, &text, NULL), -EILSEQ);
	cr_expect_null(text);
}

Test(json_gen, misuse_is_an_error)
{
	json_gen *g = json_gen_new();
	char *text = NULL;

	json_gen_map_open(g);
	json_gen_key_int(g, "a", 1);
	cr_expect_eq(json_gen_finish(g, &text, NULL), -EINVAL, "a map left open");
	cr_expect_null(text);

	g = json_gen_new();
	json_gen_map_open(g);
	json_gen_map_close(g);
	cr_expect_eq(json_gen_key_int(g, "after", 1), -EINVAL, "nothing after the document");
	cr_expect_eq(json_gen_finish(g, &text, NULL), -EINVAL);
	cr_expect_eq(json_gen_finish(NULL, &text, NULL), -ENOMEM,
		     "json_gen_new's NULL is passed on");
}

Test(json_parse, malformed_says_where)
{
	parse_fails("", "premature EOF");
	parse_fails("{\"a\": 1,", "premature EOF");
	parse_fails("{\"a\": 1,\n \"b\" 2}", "line 2, column 6");
	parse_fails("{\n\n  \"a\": tru }", "line 3, column");
	parse_fails("{\"a\": 1}}", "trailing garbage");
	parse_fails("{'a': 1}", "line 1, column 2");
	parse_fails("{\"a\": \"\xff\"}", "invalid bytes in UTF8 string");
}

Test(json_get, absent_wrong_type_and_range)
{
	json_tree *t = parse_ok("{\"s\": \"x\", \"i\": 7, \"f\": 1.5, \"e\": 1e3, \"b\": false,"
				" \"o\": {\"k\": null}, \"huge\": 99999999999999999999,"
				" \"neg\": -1, \"max\": 18446744073709551615}");
	const json_tree *o = NULL;
	const char *s = "untouched";
	int64_t i = 77;
	uint64_t u = 77;
	bool b = true;

	cr_expect_eq(json_get_string(t, "missing", &s), -ENOENT);
	cr_expect_eq(json_get_string(t, "i", &s), -EINVAL);
	cr_expect_eq(json_get_int(t, "s", &i), -EINVAL);
	cr_expect_eq(json_get_int(t, "f", &i), -EINVAL, "1.5 is not an integer");
	cr_expect_eq(json_get_int(t, "e", &i), -EINVAL, "1e3 is not written as an integer");
	cr_expect_eq(json_get_int(t, "huge", &i), -ERANGE);
	cr_expect_eq(json_get_u64(t, "huge", &u), -ERANGE);
	cr_expect_eq(json_get_u64(t, "neg", &u), -ERANGE);
	cr_expect_eq(json_get_bool(t, "i", &b), -EINVAL);
	cr_expect_eq(json_get_object(t, "s", &o), -EINVAL);
	cr_expect_eq(json_get_string(t, "o/k", &s), -ENOENT);
	cr_expect_eq(json_get_int(t, "s/x", &i), -EINVAL, "a path through a string");
	cr_expect_eq(json_get_int(t, "o/k/x", &i), -ENOENT, "a path through null");
	cr_expect_str_eq(s, "untouched", "*ret is written only on success");
	cr_expect_eq(i, 77);
	cr_expect_eq(u, 77);
	cr_expect(b);
	cr_expect_eq(json_get_u64(t, "max", &u), 0);
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(json_get_int(t, "neg", &i), 0);
	cr_expect_eq(i, -1);
	json_tree_free(t);
}

Test(json_parse, top_level_kinds)
{
	json_tree *t = parse_ok("[1, 2]");
	int64_t i;

	cr_expect_not(json_is_object(t));
	cr_expect_eq(json_get_int(t, "a", &i), -EINVAL, "an array has no members");
	json_tree_free(t);
	t = parse_ok("{}");
	cr_expect(json_is_object(t));
	json_tree_free(t);
	json_tree_free(NULL);
}

Test(json_gen, arrays_nest_and_must_close)
{
	json_gen *g = json_gen_new();
	_cleanup_free_ char *out = NULL;
	json_tree *t = NULL;
	berr e = {0};

	cr_assert_not_null(g);
	json_gen_array_open(g);
	json_gen_map_open(g);
	json_gen_key_string(g, "name", "web1");
	json_gen_key(g, "addresses");
	json_gen_array_open(g);
	json_gen_string(g, "10.0.0.2");
	json_gen_array_close(g);
	json_gen_map_close(g);
	json_gen_array_close(g);
	cr_assert_eq(json_gen_finish(g, &out, NULL), 0);
	cr_assert_eq(json_parse(out, &t, &e), 0, "%s", e.msg);
	cr_expect_not(json_is_object(t), "the top level is an array");
	json_tree_free(t);
	cr_expect(strstr(out, "\"10.0.0.2\"") != NULL, "%s", out);

	g = json_gen_new();
	json_gen_array_open(g);
	json_gen_string(g, "left open");
	cr_expect_eq(json_gen_finish(g, &out, NULL), -EINVAL, "an open array is not a document");
}
