/*
 * test_json.c: the JSON printers of cli/ (cli/util.c): what a document
 * looks like on standard output, and which stored text is shown as a JSON
 * object (audit details) and which only as a string.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"

static void
redirect(void)
{
	cr_redirect_stdout();
}

/* ---- cli_json_parse_object ------------------------------------------------------ */

/* The parameters are copied into the test's own process: no pointers. */
struct parse_case {
	char text[40];
	bool object;		/* parsed as an object */
};

ParameterizedTestParameters(json, parse_object)
{
	static struct parse_case cases[] = {
		{ "{\"text\":\"note number 1\"}", true },
		{ "  {\"a\":{\"b\":[1,2,3]}}\n", true },
		{ "{}", true },
		{ "{\"t\":\"caf\xc3\xa9\"}", true },
		/* not exactly one object in valid UTF-8: shown as a string */
		{ "{\"t\":\"caf\xe9\"}", false },	/* Latin-1 byte */
		{ "{\"t\":\"x\"} trailing", false },
		{ "{\"t\":\"x\"}{\"u\":1}", false },
		{ "[1,2]", false },
		{ "\"a string\"", false },
		{ "42", false },
		{ "{\"t\":", false },
		{ "", false },
		{ "not json", false },
	};

	return cr_make_param_array(struct parse_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct parse_case *c, json, parse_object)
{
	json_object *o = cli_json_parse_object(c->text);

	cr_assert_eq(o != NULL, c->object, "%s", c->text);
	if (o != NULL)
		cr_assert(json_object_is_type(o, json_type_object));
	json_object_put(o);
}

Test(json, parse_object_null)
{
	cr_assert_null(cli_json_parse_object(NULL));
}

/* ---- cli_json_str --------------------------------------------------------------- */

Test(json, str_keeps_utf8_and_escapes_the_rest, .init = redirect)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", cli_json_str("Zo\xc3\xab"));
	json_object_object_add(o, "bad", cli_json_str("a\xc0\xaf" "b"));
	json_object_object_add(o, "ctl", cli_json_str("x\x1b[2J"));
	json_object_object_add(o, "null", cli_json_str(NULL));
	cli_json_line(o);
	fflush(stdout);
	cr_assert_stdout_eq_str("{\"ok\":\"Zo\xc3\xab\",\"bad\":\"a\\\\xc0\\\\xafb\","
	    "\"ctl\":\"x\\u001b[2J\",\"null\":\"\"}\n");
}

/* ---- the printers ----------------------------------------------------------------- */

Test(json, line_is_one_line, .init = redirect)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string("/a/b"));
	json_object_object_add(o, "n", json_object_new_int64(3));
	cli_json_line(o);
	fflush(stdout);
	/* slashes are not escaped */
	cr_assert_stdout_eq_str("{\"path\":\"/a/b\",\"n\":3}\n");
}

Test(json, doc_is_indented, .init = redirect)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "n", json_object_new_int64(3));
	cli_json_doc(o);
	fflush(stdout);
	cr_assert_stdout_eq_str("{\n  \"n\":3\n}\n");
}

Test(json, list_empty_is_a_document, .init = redirect)
{
	struct cli_json_list l;

	cli_json_list_begin(&l, "rows");
	cli_json_list_end(&l);
	fflush(stdout);
	cr_assert_stdout_eq_str("{\"rows\":[\n]}\n");
}

Test(json, list_one_record_a_line, .init = redirect)
{
	struct cli_json_list l;
	json_object *o;
	int i;

	cli_json_list_begin(&l, "rows");
	for (i = 1; i <= 3; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "seq", json_object_new_int64(i));
		cli_json_list_add(&l, o);
	}
	cli_json_list_end(&l);
	fflush(stdout);
	cr_assert_eq(l.n, 3);
	cr_assert_stdout_eq_str("{\"rows\":[\n{\"seq\":1},\n{\"seq\":2},\n"
	    "{\"seq\":3}\n]}\n");
}
