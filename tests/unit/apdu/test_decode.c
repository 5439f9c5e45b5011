/*
 * test_decode.c: the conversation explainer: names, cases, reassembly,
 * redaction in text and JSON, and the errors that name the line.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/decode.h"

/* Decode |conv|; returns a NUL-terminated copy of the output (free it). */
static char *
run(const char *conv, bool json, enum pv_err want, struct pv_why *why)
{
	struct buf_out o;
	enum pv_err r;
	char *s;

	pv_why_clear(why);
	cr_assert(buf_out_alloc(&o, 64, 1 << 22));
	r = decode_conversation(conv, strlen(conv), json, &o, why);
	cr_assert_eq(r, want, "decode: %s (%s)", pv_errname(r), why->msg);
	s = calloc(1, o.len + 1);
	cr_assert_not_null(s);
	memcpy(s, o.p, o.len);
	buf_out_cleanup(&o);
	return s;
}

static void
assert_has(const char *out, const char *want)
{
	cr_assert_not_null(strstr(out, want), "output lacks \"%s\":\n%s", want,
	    out);
}

static void
assert_lacks(const char *out, const char *bad)
{
	cr_assert_null(strstr(out, bad), "output shows \"%s\":\n%s", bad, out);
}

static const char conv_basic[] =
    "# basic\n"
    "> 00 a4 04 00 05 a0 00 00 03 08 00\n"
    "< 61 11 4f 06 00 00 10 00 01 00 79 07 4f 05 a0 00 00 03 08 90 00\n"
    "> 00 20 00 80 08 31 32 33 34 35 36 ff ff\n"
    "< 63 c2\n"
    "> 00 cb 3f ff 05 5c 03 5f c1 02 00   # CHUID\n"
    "< 53 0e 30 02 d4 e7 34 02 3c 5e 35 02 32 30 61 02\n"
    "> 00 c0 00 00 02\n"
    "< fe 00 90 00\n";

Test(decode, names_cases_and_reassembly)
{
	struct pv_why why;
	char *out = run(conv_basic, false, PV_OK, &why);

	assert_has(out, "SELECT  (case 4, short)");
	assert_has(out, "select by DF name (AID)");
	assert_has(out, "NIST RID");
	assert_has(out, "application property template");
	assert_has(out, "verify PIV PIN");
	assert_has(out, "63C2: verification failed, 2 tries left");
	assert_has(out, "object 5FC102 (Card Holder Unique Identifier (CHUID))");
	assert_has(out, "continues the answer to #3");
	assert_has(out, "reassembled answer of #3: 16 bytes");
	assert_has(out, "FASC-N (2): d4e7  [not a valid FASC-N: ");
	assert_has(out, "error detection code (0)");
	free(out);
}

Test(decode, verify_pin_never_shown)
{
	struct pv_why why;
	char *out = run(conv_basic, false, PV_OK, &why);
	char *js = run(conv_basic, true, PV_OK, &why);

	assert_has(out, "[8 bytes redacted]");
	assert_has(out, "00 20 00 80 08 ** ** ** ** ** ** ** **");
	assert_lacks(out, "31 32 33");
	assert_lacks(out, "313233");
	assert_lacks(out, "123456");
	assert_lacks(js, "313233");
	assert_lacks(js, "123456");
	assert_has(js, "\"data\":\"****************\",\"data_redacted\":true");
	free(out);
	free(js);
}

Test(decode, json_is_one_document)
{
	struct pv_why why;
	char *js = run(conv_basic, true, PV_OK, &why);
	struct json_object *o = json_tokener_parse(js), *x, *e, *v;

	cr_assert_not_null(o, "not JSON:\n%s", js);
	cr_assert(json_object_object_get_ex(o, "exchanges", &x));
	cr_assert_eq(json_object_array_length(x), 4);
	e = json_object_array_get_idx(x, 0);
	cr_assert(json_object_object_get_ex(e, "name", &v));
	cr_assert_str_eq(json_object_get_string(v), "SELECT");
	cr_assert(json_object_object_get_ex(e, "rsp_tlv", &v));
	e = json_object_array_get_idx(x, 3);
	cr_assert(json_object_object_get_ex(e, "reassembled_len", &v));
	cr_assert_eq(json_object_get_int(v), 16);
	cr_assert(json_object_object_get_ex(e, "sw", &v));
	cr_assert_str_eq(json_object_get_string(v), "9000");
	json_object_put(o);
	free(js);

	/* Empty input: an empty list, still valid. */
	js = run("# nothing\n\n", true, PV_OK, &why);
	o = json_tokener_parse(js);
	cr_assert_not_null(o);
	json_object_put(o);
	free(js);
}

Test(decode, secrets_in_chains_and_responses)
{
	static const char conv[] =
	    "> 10 db 3f ff 07 5c 03 5f c1 09 53 82\n< 90 00\n"
	    "> 10 db 3f ff 03 01 88 20\n< 90 00\n"
	    "> 00 db 3f ff 06 89 18 c0ffee 77\n< 90 00\n"
	    "> 00 cb 3f ff 05 5c 03 5f c1 09 00\n< 88 04 89 02 c0 ff 61 02\n"
	    "> 00 c0 00 00 02\n< ee 77 90 00\n"
	    "> 00 87 11 9d 08 7c 06 82 00 85 02 04 01 00\n< 7c 04 82 02 aa bb 90 00\n"
	    "> 00 fe 11 9a 04 06 02 ab cd\n< 90 00\n"
	    "> 00 ff ff ff 05 03 9b 02 dd ee\n< 90 00\n";
	struct pv_why why;
	char *out = run(conv, false, PV_OK, &why);
	char *js = run(conv, true, PV_OK, &why);

	assert_has(out, "chained block 1, more follow");
	assert_has(out, "last block 3 of the chain from #1, 16 bytes in all");
	assert_has(out, "Lc 7: 5c 03 5f c1 09 [2 bytes redacted]");
	assert_has(out, "object 5FC109 (printed information)");
	assert_has(out, "[6 bytes redacted] 61 02");
	assert_has(out, "[2 bytes redacted] 90 00");
	assert_has(out, "ECC P-256, Key Management key");
	assert_has(out, "import ECC P-256 into PIV Authentication key");
	assert_has(out, "no touch");
	/* The secret bytes appear nowhere, in either form. */
	assert_lacks(out, "c0 ff");
	assert_lacks(out, "c0ff");
	assert_lacks(out, "ee 77");
	assert_lacks(out, "aa bb");
	assert_lacks(out, "ab cd");
	assert_lacks(out, "dd ee");
	assert_lacks(js, "c0ff");
	assert_lacks(js, "ee77");
	assert_lacks(js, "aabb");
	assert_lacks(js, "abcd");
	assert_lacks(js, "ddee");
	free(out);
	free(js);
}

Test(decode, hostile_apdus_are_shown_not_fatal)
{
	static const char conv[] =
	    "> 00 20 00 80 08 31 32\n< 67 00\n"		/* Lc past end */
	    "> 00 cb 3f ff 00 00 05 5c 03 5f c1 05 00 00\n"	/* unanswered */
	    "> 00 fd 00 00\n<\n"				/* no SW */
	    "> 00 cb 3f ff 03 5c 01 7e 00\n< 7e 05 4f 09 00 90 00\n"
	    "> 00 ca 00 00 00\n< 6c 05\n"
	    "> 00 20 00 80 08 ** ** ** ** ** ** ** **\n< 90 00\n"
	    "> 00 fd 00 00 00\n< 00 00\n";			/* SW 0000 */
	struct pv_why why;
	char *out = run(conv, false, PV_OK, &why);
	char *js = run(conv, true, PV_OK, &why);

	assert_has(out, "SW 0000: unknown status word");
	assert_has(js, "\"sw\":\"0000\",\"sw_name\":\"unknown status\","
	    "\"sw_text\":\"0000: unknown status word\"");
	free(js);

	assert_has(out, "malformed command");
	assert_lacks(out, "31 32");
	assert_has(out, "(case 4, extended)");
	assert_has(out, "(no response)");
	assert_has(out, "malformed response: no status word");
	assert_has(out, "response data (5 bytes) is not TLV");
	assert_has(out, "re-send with Le 5 expected");
	assert_has(out, "6700: wrong length");
	free(out);
}

Test(decode, errors_name_the_line)
{
	struct {
		const char *in;
		const char *msg;
	} t[] = {
		{ "> 00 a4 04 00\n< 9\n", "line 2: odd number of hex digits" },
		{ "\n< 90 00\n", "line 2: a response with no command before it" },
		{ "> 00 a4 0g 00\n", "line 1: 'g' is not a hex digit" },
		{ "> 00 a4\n", "line 1: a command has at least 4 bytes" },
		{ "hello\n", "line 1: expected \"> command hex\"" },
		{ "> 00 a4 04 00 *\n", "line 1: \"*\" must come in pairs" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pv_why why;
		char *out = run(t[i].in, false, PV_E_INPUT, &why);

		cr_assert_not_null(strstr(why.msg, t[i].msg), "%s: got \"%s\"",
		    t[i].in, why.msg);
		free(out);
	}
}

Test(decode, limits)
{
	struct buf_out o;
	struct pv_why why;
	char *big;
	size_t i, n = 2 * 70000 + 8;

	/* A response longer than any APDU. */
	big = malloc(n + 1);
	cr_assert_not_null(big);
	memcpy(big, "> 00 00 00 00\n<", 15);
	for (i = 15; i < n; i++)
		big[i] = 'a';
	big[n] = '\0';
	cr_assert(buf_out_alloc(&o, 64, 1 << 22));
	pv_why_clear(&why);
	cr_assert_eq(decode_conversation(big, n, false, &o, &why), PV_E_INPUT);
	cr_assert_not_null(strstr(why.msg, "longer than any APDU"), "%s", why.msg);
	buf_out_cleanup(&o);
	free(big);

	/* Output that does not fit the caller's buffer. */
	cr_assert(buf_out_alloc(&o, 16, 100));
	pv_why_clear(&why);
	cr_assert_eq(decode_conversation(conv_basic, strlen(conv_basic), false,
	    &o, &why), PV_E_TOO_LONG);
	buf_out_cleanup(&o);
}
