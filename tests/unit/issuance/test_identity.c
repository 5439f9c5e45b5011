/*
 * test_identity.c: identity JSON validation and subject templates
 * (identity.h).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/identity.h"

static const char *
root_path(const char *rel)
{
	static char buf[2][512];
	static int next;
	const char *root = getenv("PV_ROOT");
	char *b = buf[next++ % 2];

	snprintf(b, sizeof(buf[0]), "%s/%s", root ? root : ".", rel);
	return b;
}

static enum pv_err
parse(const char *json, struct identity *id, struct pv_why *why)
{
	pv_why_clear(why);
	return identity_parse(json, strlen(json), "identity.json", id, why);
}

#define GOOD "{\"given_name\":\"Bob\",\"family_name\":\"Builder\"," \
	"\"person_id\":\"0000000001\",\"affiliation\":\"Contractor\""

Test(identity, example_file)
{
	struct identity id;
	struct pv_why why = { "" };
	char name[200];

	cr_assert_eq(identity_load_file(root_path("examples/identity.json"),
	    &id, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(id.given_name, "Alice");
	cr_assert_str_eq(id.middle_name, "M");
	cr_assert_str_eq(id.family_name, "Example");
	cr_assert_str_eq(id.person_id, "0000012345");
	cr_assert_str_eq(id.affiliation, "Employee");
	cr_assert_str_eq(id.email, "alice.example@example.gov");
	cr_assert_str_eq(id.organization, "Example Agency");
	cr_assert_eq(identity_printed_name(&id, name, sizeof(name)), PV_OK);
	cr_assert_str_eq(name, "Example, Alice M");
}

Test(identity, json_round_trip)
{
	struct identity a, b;
	char *js;

	cr_assert_eq(identity_load_file(root_path("examples/identity.json"),
	    &a, NULL), PV_OK);
	js = identity_to_json(&a);
	cr_assert_not_null(js);
	cr_assert_eq(identity_parse(js, strlen(js), "x", &b, NULL), PV_OK,
	    "%s", js);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	free(js);
	/* Optional fields left out are absent from the JSON. */
	cr_assert_eq(parse(GOOD "}", &a, NULL), PV_OK);
	js = identity_to_json(&a);
	cr_assert_str_eq(js, GOOD "}");
	free(js);
}

Test(identity, optional_empty_or_null_is_absent)
{
	struct identity id;

	cr_assert_eq(parse(GOOD ",\"email\":\"\",\"upn\":null}", &id, NULL),
	    PV_OK);
	cr_assert_str_eq(id.email, "");
	cr_assert_str_eq(id.upn, "");
}

/* Files under tests/data/identity and the message each must give. */
struct bad_file {
	char name[64];
	char want[160];
};

ParameterizedTestParameters(identity, bad_files)
{
	static struct bad_file cases[] = {
		{ "bad_email", "email: not an address" },
		{ "bad_upn", "upn: not an address" },
		{ "short_person_id", "person_id: expected 10 digits, got 7" },
		{ "letters_person_id", "person_id: expected 10 digits, got "
		    "'00000000AB'" },
		{ "number_person_id", "person_id: expected a string, got a "
		    "number" },
		{ "unknown_field", "nickname: unknown field" },
		{ "missing_family_name", "family_name: missing" },
		{ "long_affiliation", "affiliation: 23 bytes, at most 20" },
		{ "duplicate_field", "a field is given twice" },
		{ "not_object", "expected a JSON object, got an array" },
		{ "trailing_data", "not valid JSON at byte" },
		{ "control_char", "given_name: control character U+0007 at byte 4" },
		{ "bad_utf8", "not valid JSON at byte" },
		{ "nested_object", "given_name: expected a string, got an "
		    "object" },
		{ "truncated", "not valid JSON: unexpected end of input" },
		{ "long_printed_name", "name: the printed name" },
	};

	return cr_make_param_array(struct bad_file, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_file *bf, identity, bad_files)
{
	struct identity id;
	struct pv_why why = { "" };
	char rel[128], want[300];
	const char *path;

	snprintf(rel, sizeof(rel), "tests/data/identity/%s.json", bf->name);
	path = root_path(rel);
	cr_assert_eq(identity_load_file(path, &id, &why), PV_E_INPUT,
	    "%s accepted", bf->name);
	snprintf(want, sizeof(want), "%s: %s", path, bf->want);
	cr_assert(strncmp(why.msg, want, strlen(want)) == 0,
	    "%s\n got: %s\nwant: %s", bf->name, why.msg, want);
	cr_assert_eq(id.given_name[0], 0, "output zeroed on failure");
}

Test(identity, messages_name_source_and_field)
{
	struct identity id;
	struct pv_why why = { "" };

	cr_assert_eq(parse(GOOD ",\"email\":\"alice\"}", &id, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "identity.json: email: not an address");
	cr_assert_eq(parse("{\"given_name\":\"B\",\"family_name\":\"C\","
	    "\"person_id\":\"1234567\",\"affiliation\":\"x\"}", &id, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "identity.json: person_id: expected 10 digits, got 7");
	cr_assert_eq(parse(GOOD ",\"given_name\":\"x\"}", &id, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg, "identity.json: a field is given twice");
	cr_assert_eq(parse(GOOD ",\"organization\":\" Lead\"}", &id, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "identity.json: organization: leading or trailing spaces");
	cr_assert_eq(parse(GOOD ",\"agency_card_serial\":\"\\u00e9\"}", &id,
	    &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "identity.json: agency_card_serial: only ASCII is allowed here");
	cr_assert_eq(parse("", &id, &why), PV_E_INPUT);
	cr_assert_eq(parse("\"x\"", &id, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "identity.json: expected a JSON object, got a string");
	pv_why_clear(&why);
	cr_assert_eq(identity_parse("{\"a\0", 4, "f", &id, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "f: NUL byte at offset 3");
}

Test(identity, background_investigation)
{
	struct identity id;
	struct pv_why why = { "" };

	cr_assert_eq(parse(GOOD "}", &id, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(id.background_investigation, "", "absent: the "
	    "configuration decides");
	cr_assert_eq(parse(GOOD ",\"background_investigation\":\"pending\"}",
	    &id, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(id.background_investigation, "pending");
	cr_assert_eq(parse(GOOD ",\"background_investigation\":"
	    "\"adjudicated\"}", &id, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(id.background_investigation, "adjudicated");
	cr_assert_eq(parse(GOOD ",\"background_investigation\":\"Pending\"}",
	    &id, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "identity.json: background_investigation: "
	    "expected \"pending\" or \"adjudicated\", got 'Pending'");
	cr_assert_eq(parse(GOOD ",\"background_investigation\":true}", &id,
	    &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "identity.json: background_investigation: "
	    "expected a string, got a boolean");
}

Test(identity, size_limits)
{
	struct identity id;
	struct pv_why why = { "" };
	char doc[1024], name[200];

	/* Printed name "Family, Given": exactly 125 bytes is accepted. */
	memset(name, 'G', 61);
	name[61] = '\0';
	snprintf(doc, sizeof(doc), "{\"given_name\":\"%s\",\"family_name\":"
	    "\"%s\",\"person_id\":\"0000000001\",\"affiliation\":\"x\"}", name,
	    name + 1);	/* 60 + 2 + 61 = 123 */
	cr_assert_eq(parse(doc, &id, &why), PV_OK, "%s", why.msg);
	snprintf(doc, sizeof(doc), "{\"given_name\":\"%s\",\"family_name\":"
	    "\"%sFF\",\"person_id\":\"0000000001\",\"affiliation\":\"x\"}",
	    name, name);	/* 63 + 2 + 61 = 126 */
	cr_assert_eq(parse(doc, &id, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "126 bytes; the card holds 125") != NULL,
	    "%s", why.msg);
	/* A document over the limit is refused before parsing. */
	{
		size_t big = IDENTITY_FILE_MAX + 1;
		char *p = malloc(big);

		memset(p, ' ', big);
		cr_assert_eq(identity_parse(p, big, "big", &id, &why),
		    PV_E_TOO_LONG);
		free(p);
	}
}

Test(identity, deep_nesting_refused)
{
	struct identity id;
	char doc[300];

	memset(doc, '[', 200);
	doc[200] = '\0';
	cr_assert_eq(parse(doc, &id, NULL), PV_E_INPUT);
}

Test(identity, every_truncation_fails_cleanly)
{
	struct identity id;
	const char *doc = GOOD ",\"email\":\"bob@example.gov\"}";
	size_t n = strlen(doc), i;

	for (i = 0; i < n; i++)
		cr_assert_eq(identity_parse(doc, i, "t", &id, NULL), PV_E_INPUT,
		    "prefix of %zu bytes accepted", i);
	cr_assert_eq(identity_parse(doc, n, "t", &id, NULL), PV_OK);
}

struct email_case {
	char addr[80];
	bool ok;
};

ParameterizedTestParameters(identity, emails)
{
	static struct email_case cases[] = {
		{ "a@b.co", true },
		{ "first.last+tag@sub.example.gov", true },
		{ "x_y-z@a-b.example", true },
		{ "a", false },
		{ "@b.co", false },
		{ "a@b", false },
		{ "a@@b.co", false },
		{ "a..b@c.de", false },
		{ ".a@b.cd", false },
		{ "a.@b.cd", false },
		{ "a@-b.cd", false },
		{ "a@b-.cd", false },
		{ "a@b..cd", false },
		{ "a b@c.de", false },
		{ "a@b.c_d", false },
		{ "a@b.cd.", false },
		{ "\"q\"@b.cd", false },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "@b.cd", false },	/* 65-byte local part */
	};

	return cr_make_param_array(struct email_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct email_case *ec, identity, emails)
{
	struct identity id;
	char doc[300];

	snprintf(doc, sizeof(doc), GOOD ",\"email\":\"%s\"}", ec->addr);
	if (strchr(ec->addr, '"') != NULL)
		snprintf(doc, sizeof(doc), GOOD ",\"email\":\"\\\"q\\\"@b.cd\"}");
	cr_assert_eq(parse(doc, &id, NULL) == PV_OK, ec->ok, "%s", ec->addr);
}

Test(identity, templates)
{
	struct identity id;
	struct pv_why why = { "" };
	char out[64];

	cr_assert_eq(parse(GOOD ",\"middle_name\":\"Q\"}", &id, NULL), PV_OK);
	cr_assert_eq(identity_template_check("{full_name} ({person_id})",
	    NULL), PV_OK);
	cr_assert_eq(identity_template_check("{nick}", &why), PV_E_CONFIG);
	cr_assert_str_eq(why.msg, "unknown placeholder '{nick}'");
	cr_assert_eq(identity_template_check("a}b", NULL), PV_E_CONFIG);
	cr_assert_eq(identity_template_check("{a{b}", NULL), PV_E_CONFIG);
	cr_assert_eq(identity_expand("{full_name} ({person_id})", &id, NULL,
	    out, sizeof(out), NULL), PV_OK);
	cr_assert_str_eq(out, "Bob Q Builder (0000000001)");
	cr_assert_eq(identity_expand("x{uuid}", &id,
	    "01234567-89ab-cdef-0123-456789abcdef", out, sizeof(out), NULL),
	    PV_OK);
	cr_assert_str_eq(out, "x01234567-89ab-cdef-0123-456789abcdef");
	pv_why_clear(&why);
	cr_assert_eq(identity_expand("{uuid}", &id, NULL, out, sizeof(out),
	    &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "subject: {uuid} has no value for this "
	    "person");
	cr_assert_eq(identity_expand("{email}", &id, NULL, out, sizeof(out),
	    NULL), PV_E_INPUT, "no email: the RDN would be empty");
	cr_assert_eq(identity_expand("{full_name}{full_name}{full_name}"
	    "{full_name}", &id, NULL, out, 32, NULL), PV_E_TOO_LONG);
	cr_assert_eq(parse(GOOD "}", &id, NULL), PV_OK);
	cr_assert_eq(identity_expand("{full_name}", &id, NULL, out,
	    sizeof(out), NULL), PV_OK);
	cr_assert_str_eq(out, "Bob Builder");
}

/*
 * Strict UTF-8: json-c (0.16) lets overlong forms, UTF-16 surrogates and
 * code points above U+10FFFF through; the identity check refuses them
 * itself, naming the field, the byte and the bytes.  Then the characters
 * no name carries: C1 and bidirectional controls, U+FFFD (what json-c
 * makes of a lone \uD800 escape) and noncharacters.
 */
struct utf8_field_case {
	char field[24];
	char raw[24];		/* placed between "Ab" and "cd" */
	char want[160];
};

ParameterizedTestParameters(identity, strict_utf8)
{
	static struct utf8_field_case cases[] = {
		{ "given_name", "\xc0\xaf", "given_name: not UTF-8 at byte 3: "
		    "an overlong encoding (c0 af)" },
		{ "family_name", "\xed\xa0\x80", "family_name: not UTF-8 at "
		    "byte 3: a UTF-16 surrogate (U+D800-U+DFFF) (ed a0 80)" },
		{ "middle_name", "\xf4\x90\x80\x80", "middle_name: not UTF-8 at "
		    "byte 3: a code point above U+10FFFF (f4 90 80 80)" },
		{ "organization", "\xe0\x80\xaf", "organization: not UTF-8 at "
		    "byte 3: an overlong encoding (e0 80 af)" },
		{ "affiliation", "\xc2\x85", "affiliation: control character "
		    "U+0085 at byte 3" },
		{ "org_affiliation_1", "\xe2\x80\xae", "org_affiliation_1: "
		    "control character U+202E at byte 3" },
		{ "given_name", "\\ud800", "given_name: U+FFFD at byte 3: a "
		    "replacement character (damaged text, or a lone \\u "
		    "surrogate escape)" },
		{ "family_name", "\xef\xbf\xbe", "family_name: U+FFFE at byte 3: "
		    "a noncharacter" },
	};

	return cr_make_param_array(struct utf8_field_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct utf8_field_case *tc, identity, strict_utf8)
{
	struct identity id;
	struct pv_why why = { "" };
	char doc[512], want[256];

	snprintf(doc, sizeof(doc), "{\"given_name\":\"Bob\",\"family_name\":"
	    "\"Builder\",\"person_id\":\"0000000001\",\"affiliation\":\"x\","
	    "\"%s\":\"Ab%scd\"}", tc->field, tc->raw);
	/* the document has the field twice when it is a required one */
	if (strcmp(tc->field, "given_name") == 0 ||
	    strcmp(tc->field, "family_name") == 0 ||
	    strcmp(tc->field, "affiliation") == 0) {
		const char *other = strcmp(tc->field, "given_name") == 0 ?
		    "family_name" : "given_name";

		snprintf(doc, sizeof(doc), "{\"%s\":\"Bob\",\"person_id\":"
		    "\"0000000001\",%s\"%s\":\"Ab%scd\"}", other,
		    strcmp(tc->field, "affiliation") == 0 ?
		    "\"family_name\":\"B\"," : "\"affiliation\":\"x\",",
		    tc->field, tc->raw);
	}
	cr_assert_eq(parse(doc, &id, &why), PV_E_INPUT, "%s accepted",
	    tc->field);
	snprintf(want, sizeof(want), "identity.json: %s", tc->want);
	cr_assert_str_eq(why.msg, want);
	cr_assert_eq(id.given_name[0], 0, "output zeroed on failure");
}

/* What the validator accepts, certificate building takes (X.520 counts
 * characters: a 64-character name of 2-byte letters is 128 bytes). */
Test(identity, utf8_accepted)
{
	struct identity id;
	struct pv_why why = { "" };

	cr_assert_eq(parse("{\"given_name\":\"Zo\xc3\xab\",\"family_name\":"
	    "\"\xe5\xb1\xb1\xe7\x94\xb0\",\"person_id\":\"0000000001\","
	    "\"affiliation\":\"\xf0\x9f\x82\xa1\"}", &id, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_str_eq(id.given_name, "Zo\xc3\xab");
}
