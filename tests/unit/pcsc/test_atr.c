/*
 * test_atr.c: ATR decoding (ISO 7816-3) on real ATRs, hostile ATRs, and
 * identification against smartcard_list.txt syntax.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcsc/atr.h"

#define YK5 "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40"
#define YK4 "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"
#define YK5NFC "3B 8D 80 01 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 F9"
/* From smartcard_list.txt: a T=1 card with category-00 historical bytes. */
#define DF15 "3B DF 18 00 81 31 FE 58 00 31 B9 64 05 0E 01 00 73 B4 01 D3 00 00 00 22"

static void
parse_hex(const char *hex, struct atr_info *a)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n;
	struct pv_why why = { { 0 } };

	cr_assert_eq(atr_from_hex(hex, b, &n, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(atr_parse(b, n, a, &why), PV_OK, "%s: %s", hex, why.msg);
}

Test(atr, yubikey5_usb)
{
	struct atr_info a;

	parse_hex(YK5, &a);
	cr_assert_eq(a.ts, 0x3b);
	cr_assert_eq(a.len, 23);
	cr_assert_eq(a.protocols, 1u << 1, "T=1 only");
	cr_assert_eq(a.first_proto, 1);
	cr_assert(a.has_ta1);
	cr_assert_eq(a.f, 372);
	cr_assert_eq(a.d, 4);
	cr_assert_eq(a.fmax_khz, 5000);
	cr_assert_eq(a.n, 0);
	cr_assert_eq(a.n_groups, 3);
	cr_assert(a.t1_has_ifsc);
	cr_assert_eq(a.ifsc, 0xfe);
	cr_assert_eq(a.bwi, 1);
	cr_assert_eq(a.cwi, 5);
	cr_assert_not(a.crc);
	cr_assert_eq(a.hist_len, 13);
	cr_assert_eq(a.category, 0x80);
	cr_assert(a.hist_ctlv_ok);
	cr_assert(a.has_caps);
	cr_assert_eq(a.caps_len, 3);
	cr_assert_eq(a.caps[2] & 0xc0, 0xc0, "chaining + extended length");
	cr_assert_eq(a.n_ctlv, 2);
	cr_assert_eq(a.ctlv[1].tag, 5);
	cr_assert_eq(memcmp(a.ctlv[1].v, "YubiKey", 7), 0);
	cr_assert(a.tck_required);
	cr_assert(a.tck_present);
	cr_assert_eq(a.tck, 0x40);
	cr_assert(a.tck_ok);
}

Test(atr, yubikey4_proprietary_historical)
{
	struct atr_info a;

	parse_hex(YK4, &a);
	cr_assert_eq(a.protocols, 2);
	cr_assert_eq(a.hist_len, 8);
	cr_assert_eq(a.category, 0x59, "'Y' of Yubikey4: proprietary");
	cr_assert_not(a.hist_ctlv);
	cr_assert_not(a.has_caps);
	cr_assert(a.tck_ok);
}

Test(atr, yubikey5_nfc_contactless)
{
	struct atr_info a;

	parse_hex(YK5NFC, &a);
	/* 3B 8x 80 01: TD1 = 80 (T=0, TD2 follows), TD2 = 01 (T=1). */
	cr_assert_eq(a.protocols, 3);
	cr_assert_eq(a.first_proto, 0);
	cr_assert_not(a.has_ta1);
	cr_assert_eq(a.f, 372, "default Fi");
	cr_assert_eq(a.d, 1, "default Di");
	cr_assert_eq(a.ifsc, 32, "default IFSC");
	cr_assert(a.has_caps);
	cr_assert(a.tck_ok);
}

Test(atr, category00_status_indicator_and_service_data)
{
	struct atr_info a;

	parse_hex(DF15, &a);
	cr_assert_eq(a.d, 12);
	cr_assert_eq(a.f, 372);
	cr_assert_eq(a.ifsc, 0xfe);
	cr_assert_eq(a.bwi, 5);
	cr_assert_eq(a.cwi, 8);
	cr_assert_eq(a.category, 0);
	cr_assert(a.hist_ctlv_ok);
	cr_assert(a.has_service);
	cr_assert_eq(a.service, 0xb9);
	cr_assert(a.has_caps);
	cr_assert_eq(a.caps_len, 3);
	cr_assert(a.has_lcs);
	cr_assert(a.has_sw);
	cr_assert_eq(a.sw, 0x0000);
	cr_assert(a.tck_ok);
}

Test(atr, t0_only_has_no_tck)
{
	struct atr_info a;

	/* 3B 90 16 01 87: TA1 96? no: T0=90 -> TA1=16, TD1=01 -> T=1. */
	parse_hex("3B 90 16 01 87", &a);
	cr_assert_eq(a.protocols, 2);
	cr_assert(a.tck_ok);
	/* Minimal T=0 ATR: no TD1, no TCK. */
	parse_hex("3B 00", &a);
	cr_assert_eq(a.protocols, 1);
	cr_assert_not(a.tck_required);
	cr_assert_not(a.tck_present);
	cr_assert(a.tck_ok);
}

Test(atr, wrong_tck_is_reported_not_fatal)
{
	struct atr_info a;

	parse_hex("3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 41", &a);
	cr_assert(a.tck_present);
	cr_assert_not(a.tck_ok);
}

Test(atr, missing_required_tck_is_reported)
{
	struct atr_info a;

	parse_hex("3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79", &a);
	cr_assert_not(a.tck_present);
	cr_assert_not(a.tck_ok);
}

Test(atr, guard_time_and_t0_wi)
{
	struct atr_info a;

	/* TC1 = FF (minimum guard time), TD1 = 40 -> TC2 for T=0 = 20. */
	parse_hex("3B C0 FF 40 20", &a);
	cr_assert_eq(a.n, 255);
	cr_assert_eq(a.wi, 0x20);
	cr_assert_eq(a.protocols, 1);
}

Test(atr, t15_global_bytes)
{
	struct atr_info a;

	/* TD1 = 81 (T=1, TD2), TD2 = 1F (T=15, TA3): TA3 = C3 clock stop
	 * no preference, class A and B. */
	parse_hex("3B 80 81 1F C3 DD", &a);
	cr_assert(a.has_t15_ta);
	cr_assert_eq(a.clock_stop, 3);
	cr_assert_eq(a.class_ui, 3);
	cr_assert_eq(a.protocols, (1u << 1) | (1u << 15));
	cr_assert(a.tck_ok, "TCK %02X", a.tck);
}

struct bad_atr {
	char hex[100];
	char why_part[48];
};

static struct bad_atr bad_atrs[] = {
	{ "3A 00", "TS is 3A" },
	{ "3B", "ends after TS" },
	{ "3B 10", "group 1" },			/* TA1 announced, missing */
	{ "3B 80", "group 1" },			/* TD1 announced, missing */
	{ "3B 80 80", "group 2" },		/* TD1 -> TD2 missing */
	{ "3B 05 01 02", "historical" },	/* K=5, 2 left */
	{ "3B 00 01 02", "after the historical" },
	{ "3B 0F 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E", "historical" },
	{ "3B 8F 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80 80", "group" },
};

ParameterizedTestParameters(atr, hostile)
{
	return cr_make_param_array(struct bad_atr, bad_atrs,
	    sizeof(bad_atrs) / sizeof(bad_atrs[0]));
}

ParameterizedTest(struct bad_atr *t, atr, hostile)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n;
	struct pv_why why = { { 0 } };
	struct atr_info a;

	cr_assert_eq(atr_from_hex(t->hex, b, &n, NULL), PV_OK);
	cr_assert_eq(atr_parse(b, n, &a, &why), PV_E_MALFORMED, "%s", t->hex);
	cr_assert_not_null(strstr(why.msg, t->why_part), "%s: '%s'", t->hex,
	    why.msg);
}

Test(atr, truncation_at_every_byte_never_overreads)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n, k;
	struct atr_info a;

	cr_assert_eq(atr_from_hex(YK5, b, &n, NULL), PV_OK);
	for (k = 0; k < n; k++) {
		/* A heap copy of exactly k bytes so ASan sees any over-read. */
		uint8_t *p = malloc(k ? k : 1);

		memcpy(p, b, k);
		/* Cutting off TCK only is the one truncation that parses. */
		if (k == n - 1)
			cr_assert_eq(atr_parse(p, k, &a, NULL), PV_OK);
		else
			cr_assert_eq(atr_parse(p, k, &a, NULL), PV_E_MALFORMED,
			    "k=%zu", k);
		free(p);
	}
	cr_assert_eq(atr_parse(b, 34, &a, NULL), PV_E_MALFORMED);
}

Test(atr, hex_input_forms)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n;
	struct pv_why why = { { 0 } };
	char out[ATR_HEX_MAX];

	cr_assert_eq(atr_from_hex("3bfd13", b, &n, NULL), PV_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(atr_from_hex("3B:FD:13", b, &n, NULL), PV_OK);
	cr_assert_eq(n, 3);
	atr_to_hex(b, n, out);
	cr_assert_str_eq(out, "3B FD 13");
	cr_assert_eq(atr_from_hex("3B F", b, &n, &why), PV_E_INPUT);
	cr_assert_not_null(strstr(why.msg, "odd"));
	pv_why_clear(&why);
	cr_assert_eq(atr_from_hex("3B XX", b, &n, &why), PV_E_INPUT);
	cr_assert_not_null(strstr(why.msg, "'X'"), "%s", why.msg);
	cr_assert_eq(atr_from_hex("", b, &n, NULL), PV_E_INPUT);
}

struct expl_seen {
	char all[8192];
};

static void
collect(void *ctx, const char *field, const char *hex, const char *meaning)
{
	struct expl_seen *s = ctx;
	size_t o = strlen(s->all);

	snprintf(s->all + o, sizeof(s->all) - o, "%s|%s|%s\n", field, hex,
	    meaning);
}

Test(atr, explain_names_every_byte)
{
	struct atr_info a;
	static struct expl_seen s;

	parse_hex(YK5, &a);
	memset(&s, 0, sizeof(s));
	atr_explain(&a, collect, &s);
	cr_assert_not_null(strstr(s.all, "TS|3B|direct convention"));
	cr_assert_not_null(strstr(s.all, "TA1|13|Fi=372 Di=4"));
	cr_assert_not_null(strstr(s.all, "38400 bit/s"), "%s", s.all);
	cr_assert_not_null(strstr(s.all, "TA3|FE|T=1 IFSC 254"));
	cr_assert_not_null(strstr(s.all, "TB3|15|T=1 BWI 1, CWI 5"));
	cr_assert_not_null(strstr(s.all, "extended Lc/Le yes"));
	cr_assert_not_null(strstr(s.all, "command chaining yes"));
	cr_assert_not_null(strstr(s.all, "\"YubiKey\""));
	cr_assert_not_null(strstr(s.all, "TCK|40|check byte correct"));
	cr_assert_not_null(strstr(s.all, "protocols||T=1"));
}

/* ---- identification -------------------------------------------------- */

struct ids {
	int n;
	char text[8][128];
};

static void
got_id(void *ctx, const char *pattern, const char *text)
{
	struct ids *ids = ctx;

	(void)pattern;
	if (ids->n < 8)
		snprintf(ids->text[ids->n], sizeof(ids->text[0]), "%s", text);
	ids->n++;
}

static const char test_list[] =
    "# comment\n"
    "#\n"
    "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40\n"
    "\tExact entry\n"
    "\thttps://example.invalid/\n"
    "\n"
    "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 ..\n"
    "\tDot entry\n"
    "\n"
    "3B FD 1[0-3] 00 00 81 31 FE [1,5]5 .*\n"
    "\tClass and star entry\n"
    "\n"
    "3B FD 13 (00|01) 00\n"
    "\tUnsupported syntax entry\n"
    "\n"
    "3B FD 13 00\n"
    "\tPrefix only entry (must not match: anchored)\n"
    "\n"
    "3b fd 13 00 00 81 31 fe 15 80 73 c0 21 c0 57 59 75 62 69 4b 65 79 40\r\n"
    "\tLower case, CRLF entry\r\n";

Test(atr_list, matches_subset_anchored)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n, matched, skipped;
	struct ids ids = { 0 };

	cr_assert_eq(atr_from_hex(YK5, b, &n, NULL), PV_OK);
	cr_assert_eq(atr_list_match(test_list, sizeof(test_list) - 1, b, n,
	    got_id, &ids, &matched, &skipped), PV_OK);
	cr_assert_eq(matched, 4);
	cr_assert_eq(skipped, 1);
	cr_assert_eq(ids.n, 5);
	cr_assert_str_eq(ids.text[0], "Exact entry");
	cr_assert_str_eq(ids.text[1], "https://example.invalid/");
	cr_assert_str_eq(ids.text[2], "Dot entry");
	cr_assert_str_eq(ids.text[3], "Class and star entry");
	cr_assert_str_eq(ids.text[4], "Lower case, CRLF entry");
}

Test(atr_list, no_match_for_other_atr)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n, matched;
	struct ids ids = { 0 };

	cr_assert_eq(atr_from_hex(YK4, b, &n, NULL), PV_OK);
	cr_assert_eq(atr_list_match(test_list, sizeof(test_list) - 1, b, n,
	    got_id, &ids, &matched, NULL), PV_OK);
	cr_assert_eq(matched, 0);
	cr_assert_eq(ids.n, 0);
}

Test(atr_list, real_list_knows_yubikeys)
{
	uint8_t b[ATR_MAX_LEN];
	size_t n, matched;
	struct ids ids = { 0 };
	int i, found = 0;

	cr_assert_eq(atr_from_hex(YK5, b, &n, NULL), PV_OK);
	cr_assert_eq(atr_identify(ATR_LIST_DEFAULT, b, n, got_id, &ids,
	    &matched), PV_OK, "pcsc-tools' smartcard_list.txt is installed by "
	    "make deps");
	cr_assert_geq(matched, 1);
	for (i = 0; i < ids.n && i < 8; i++)
		if (strstr(ids.text[i], "YubiKey 5") != NULL)
			found = 1;
	cr_assert(found, "YubiKey 5 not among %d descriptions", ids.n);
}

Test(atr_list, missing_file_is_io_error)
{
	uint8_t b[2] = { 0x3b, 0x00 };

	cr_assert_eq(atr_identify("/nonexistent/list.txt", b, 2, got_id, NULL,
	    NULL), PV_E_IO);
}

/* The list is cached, and read again when the file changes. */
Test(atr_list, cache_follows_the_file)
{
	char path[] = "/tmp/pv-atr-list-XXXXXX";
	uint8_t b[2] = { 0x3b, 0x00 };
	struct ids ids = { 0 };
	size_t matched = 0;
	FILE *f;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_not_null(f = fdopen(fd, "w"));
	fputs("3B 00\n\tFirst card\n\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(atr_identify(path, b, 2, got_id, &ids, &matched), PV_OK);
	cr_assert_eq(matched, 1);
	cr_assert_str_eq(ids.text[0], "First card");
	/* Same list again: the same answer (from the cache). */
	memset(&ids, 0, sizeof(ids));
	cr_assert_eq(atr_identify(path, b, 2, got_id, &ids, NULL), PV_OK);
	cr_assert_str_eq(ids.text[0], "First card");
	/* Another size: read again. */
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("3B 00\n\tSecond card, renamed\n\n", f);
	cr_assert_eq(fclose(f), 0);
	memset(&ids, 0, sizeof(ids));
	cr_assert_eq(atr_identify(path, b, 2, got_id, &ids, NULL), PV_OK);
	cr_assert_str_eq(ids.text[0], "Second card, renamed");
	/* Gone: an I/O error, not the cached text. */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(atr_identify(path, b, 2, got_id, NULL, NULL), PV_E_IO);
}
