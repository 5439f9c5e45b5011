/*
 * test_text.c: strict UTF-8 (RFC 3629) and the text sanitiser (text.h):
 * hex tables of valid and invalid sequences with the reason and the
 * offset reported, every scalar value round-tripped against a reference
 * encoder, every two-byte sequence against a reference predicate, and
 * the sanitiser's escapes and cuts.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/text.h"
#include "tests/support/hex.h"

struct utf8_case {
	char hex[40];
	enum text_utf8_err want;
	size_t off, len;	/* of the first bad sequence */
};

ParameterizedTestParameters(text, utf8_table)
{
	static struct utf8_case cases[] = {
		{ "", TEXT_UTF8_OK, 0, 0 },
		{ "41", TEXT_UTF8_OK, 0, 0 },
		{ "c3a9", TEXT_UTF8_OK, 0, 0 },			/* é */
		{ "e282ac", TEXT_UTF8_OK, 0, 0 },		/* € */
		{ "f09d849e", TEXT_UTF8_OK, 0, 0 },		/* U+1D11E */
		{ "f48fbfbf", TEXT_UTF8_OK, 0, 0 },		/* U+10FFFF */
		{ "ed9fbf", TEXT_UTF8_OK, 0, 0 },		/* U+D7FF */
		{ "ee8080", TEXT_UTF8_OK, 0, 0 },		/* U+E000 */
		{ "efbfbd", TEXT_UTF8_OK, 0, 0 },		/* U+FFFD */
		/* the byte sequences json-c 0.16 lets through */
		{ "c0af", TEXT_UTF8_OVERLONG, 0, 2 },
		{ "eda080", TEXT_UTF8_SURROGATE, 0, 3 },
		{ "f4908080", TEXT_UTF8_TOO_LARGE, 0, 4 },
		/* more overlong forms */
		{ "c1bf", TEXT_UTF8_OVERLONG, 0, 2 },
		{ "e080af", TEXT_UTF8_OVERLONG, 0, 3 },
		{ "e09fbf", TEXT_UTF8_OVERLONG, 0, 3 },
		{ "f08080af", TEXT_UTF8_OVERLONG, 0, 4 },
		{ "f08fbfbf", TEXT_UTF8_OVERLONG, 0, 4 },
		/* surrogates, low and high */
		{ "edbfbf", TEXT_UTF8_SURROGATE, 0, 3 },
		{ "41edb080", TEXT_UTF8_SURROGATE, 1, 3 },
		/* above U+10FFFF */
		{ "f5808080", TEXT_UTF8_TOO_LARGE, 0, 4 },
		{ "f7bfbfbf", TEXT_UTF8_TOO_LARGE, 0, 4 },
		/* bytes that start nothing */
		{ "80", TEXT_UTF8_BAD_BYTE, 0, 1 },
		{ "41bf", TEXT_UTF8_BAD_BYTE, 1, 1 },
		{ "f888808080", TEXT_UTF8_BAD_BYTE, 0, 1 },
		{ "fe", TEXT_UTF8_BAD_BYTE, 0, 1 },
		{ "ff", TEXT_UTF8_BAD_BYTE, 0, 1 },
		/* cut short, or interrupted by a non-continuation byte */
		{ "c3", TEXT_UTF8_TRUNCATED, 0, 1 },
		{ "e282", TEXT_UTF8_TRUNCATED, 0, 2 },
		{ "f09d84", TEXT_UTF8_TRUNCATED, 0, 3 },
		{ "e24141", TEXT_UTF8_TRUNCATED, 0, 1 },
		{ "4142e2ac41", TEXT_UTF8_TRUNCATED, 2, 2 },
		{ "c3a9c3", TEXT_UTF8_TRUNCATED, 2, 1 },
		/* the first error is the one reported */
		{ "c3a9c0afeda080", TEXT_UTF8_OVERLONG, 2, 2 },
		/* a forbidden value cut short spans what is there */
		{ "eda0", TEXT_UTF8_SURROGATE, 0, 2 },
		{ "f490", TEXT_UTF8_TOO_LARGE, 0, 2 },
	};
	return cr_make_param_array(struct utf8_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct utf8_case *tc, text, utf8_table)
{
	uint8_t *b = NULL;
	size_t n = 0, off = 99, len = 99;
	enum text_utf8_err e;

	cr_assert_eq(hex_decode(tc->hex, &b, &n), 0);
	e = text_utf8_check(b, n, &off, &len);
	free(b);
	cr_assert_eq(e, tc->want, "%s: got %s, want %s", tc->hex,
	    text_utf8_err_str(e), text_utf8_err_str(tc->want));
	if (tc->want != TEXT_UTF8_OK) {
		cr_assert_eq(off, tc->off, "%s: offset %zu", tc->hex, off);
		cr_assert_eq(len, tc->len, "%s: length %zu", tc->hex, len);
	}
}

/* Reference encoder, RFC 3629 §3. */
static size_t
enc(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

Test(text, every_scalar_value_round_trips)
{
	uint8_t b[4];
	uint32_t cp, got;
	size_t n, len;
	struct buf_cur c;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = enc(cp, b);
		buf_cur_init(&c, b, n);
		if (cp >= 0xd800 && cp <= 0xdfff) {
			cr_assert_eq(text_utf8_next(&c, &got, &len),
			    TEXT_UTF8_SURROGATE, "U+%04X", cp);
			cr_assert_eq(c.len, n, "cursor moved on failure");
			continue;
		}
		cr_assert_eq(text_utf8_next(&c, &got, &len), TEXT_UTF8_OK,
		    "U+%04X", cp);
		cr_assert_eq(got, cp);
		cr_assert_eq(len, n);
		cr_assert(buf_done(&c));
		cr_assert_eq(text_utf8_count(b, n), 1);
	}
}

Test(text, every_two_byte_sequence)
{
	uint8_t b[2];
	unsigned i, j;
	bool want;

	for (i = 0; i < 256; i++) {
		for (j = 0; j < 256; j++) {
			b[0] = (uint8_t)i;
			b[1] = (uint8_t)j;
			/* ASCII ASCII, or a 2-byte form of U+0080..U+07FF */
			want = (i < 0x80 && j < 0x80) ||
			    (i >= 0xc2 && i <= 0xdf && j >= 0x80 && j <= 0xbf);
			cr_assert_eq(text_utf8_check(b, 2, NULL, NULL) ==
			    TEXT_UTF8_OK, want, "%02x %02x", i, j);
		}
	}
}

Test(text, every_truncation_of_valid_text_fails)
{
	static const char s[] = "Zo\xc3\xab \xe2\x82\xac \xf0\x9d\x84\x9e";
	size_t n = sizeof(s) - 1, i;

	cr_assert_eq(text_utf8_check(s, n, NULL, NULL), TEXT_UTF8_OK);
	cr_assert_eq(text_utf8_count(s, n), 7);
	for (i = 0; i < n; i++) {
		bool boundary = ((unsigned char)s[i] & 0xc0) != 0x80;

		cr_assert_eq(text_utf8_check(s, i, NULL, NULL) == TEXT_UTF8_OK,
		    boundary, "prefix %zu", i);
	}
}

Test(text, controls)
{
	uint32_t yes[] = { 0, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9b, 0x9f,
	    0x61c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202e, 0x2066,
	    0x2069 };
	uint32_t no[] = { 0x20, 0x41, 0x7e, 0xa0, 0xe9, 0x200d, 0x2030,
	    0x2065, 0x206a, 0xfffd, 0x10ffff };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(text_cp_is_control(yes[i]), "U+%04X", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert(!text_cp_is_control(no[i]), "U+%04X", no[i]);
	cr_assert(text_cp_is_noncharacter(0xfdd0));
	cr_assert(text_cp_is_noncharacter(0xfffe));
	cr_assert(text_cp_is_noncharacter(0x10ffff));
	cr_assert(!text_cp_is_noncharacter(0xfffd));
	cr_assert(!text_cp_is_noncharacter(0xfdf0));
}

struct san_case {
	char in[48];
	char term[96];
	char json[96];
};

ParameterizedTestParameters(text, sanitize_table)
{
	static struct san_case cases[] = {
		{ "Virtual PCD 00 00", "Virtual PCD 00 00",
		    "Virtual PCD 00 00" },
		{ "Zo\xc3\xab", "Zo\xc3\xab", "Zo\xc3\xab" },
		/* a 7-bit terminal escape: clear screen, set the title */
		{ "x\x1b[2J\x1b]0;pwned\x07y", "x\\x1b[2J\\x1b]0;pwned\\x07y",
		    "x\x1b[2J\x1b]0;pwned\x07y" },
		{ "a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd", "a\nb\tc\rd" },
		{ "\x7f", "\\x7f", "\x7f" },
		/* an 8-bit CSI as a raw byte, and as U+009B */
		{ "\x9b" "31m", "\\x9b31m", "\\x9b31m" },
		{ "\xc2\x9b" "31m", "\\u{009B}31m", "\xc2\x9b" "31m" },
		/* right-to-left override */
		{ "abc\xe2\x80\xaetxt.exe", "abc\\u{202E}txt.exe",
		    "abc\xe2\x80\xaetxt.exe" },
		/* invalid UTF-8: every byte of the bad sequence */
		{ "\xc0\xaf", "\\xc0\\xaf", "\\xc0\\xaf" },
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80", "\\xed\\xa0\\x80" },
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80",
		    "\\xf4\\x90\\x80\\x80" },
		{ "\xe2\x82", "\\xe2\\x82", "\\xe2\\x82" },
		/* a backslash stays one */
		{ "a\\b", "a\\b", "a\\b" },
	};

	return cr_make_param_array(struct san_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct san_case *tc, text, sanitize_table)
{
	char out[128], *d;
	size_t n;

	n = text_sanitize(tc->in, strlen(tc->in), TEXT_SAN_TERMINAL, out,
	    sizeof(out));
	cr_assert_str_eq(out, tc->term);
	cr_assert_eq(n, strlen(tc->term));
	n = text_sanitize(tc->in, strlen(tc->in), TEXT_SAN_JSON, out,
	    sizeof(out));
	cr_assert_str_eq(out, tc->json);
	cr_assert_eq(n, strlen(tc->json));
	/* The terminal form is printable one-line UTF-8. */
	n = text_sanitize(tc->in, strlen(tc->in), TEXT_SAN_TERMINAL, out,
	    sizeof(out));
	cr_assert_eq(text_utf8_check(out, n, NULL, NULL), TEXT_UTF8_OK);
	for (size_t i = 0; i < n; i++)
		cr_assert((unsigned char)out[i] >= 0x20 &&
		    (unsigned char)out[i] != 0x7f, "%s: byte %zu", tc->term, i);
	d = text_sanitize_dup(tc->in, TEXT_SAN_TERMINAL);
	cr_assert_str_eq(d, tc->term);
	free(d);
}

Test(text, sanitize_cuts_at_boundaries)
{
	static const char in[] = "ab\x1b" "c\xc3\xa9" "d";
	/* safe form: a b \x1b c é d = 2 + 4 + 1 + 2 + 1 = 10 bytes */
	char out[16];
	size_t cap;
	static const char *const want[] = {
		"", "", "a", "ab", "ab", "ab", "ab", "ab\\x1b", "ab\\x1bc",
		"ab\\x1bc", "ab\\x1bc\xc3\xa9", "ab\\x1bc\xc3\xa9" "d"
	};

	for (cap = 1; cap <= 11; cap++) {
		memset(out, 'Z', sizeof(out));
		cr_assert_eq(text_sanitize(in, sizeof(in) - 1,
		    TEXT_SAN_TERMINAL, out, cap), 10);
		cr_assert_str_eq(out, want[cap], "cap %zu", cap);
	}
	/* Input stops at a NUL inside |n|. */
	cr_assert_eq(text_sanitize("ab\0cd", 5, TEXT_SAN_TERMINAL, out,
	    sizeof(out)), 2);
	cr_assert_str_eq(out, "ab");
	cr_assert_eq(text_sanitize(NULL, 5, TEXT_SAN_TERMINAL, out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "");
}

Test(text, sanitize_put_appends)
{
	struct buf_out o;

	memset(&o, 0, sizeof(o));
	cr_assert(buf_out_alloc(&o, 4, 64));
	cr_assert(text_sanitize_put(&o, "x\x1b", 2, TEXT_SAN_TERMINAL));
	cr_assert(text_sanitize_put(&o, "\xff", 1, TEXT_SAN_JSON));
	cr_assert_eq(o.len, 9);
	cr_assert(memcmp(o.p, "x\\x1b\\xff", 9) == 0);
	buf_out_cleanup(&o);
	/* A full builder fails and the error sticks. */
	cr_assert(buf_out_alloc(&o, 4, 4));
	cr_assert(!text_sanitize_put(&o, "\x1b\x1b", 2, TEXT_SAN_TERMINAL));
	cr_assert(!buf_out_ok(&o));
	buf_out_cleanup(&o);
}
