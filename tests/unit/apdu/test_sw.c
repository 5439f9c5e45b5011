/*
 * test_sw.c: status-word texts, the SW -> pv_err mapping, INS names.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "apdu/sw.h"

Test(sw, is_ok)
{
	cr_assert(sw_is_ok(0x9000));
	cr_assert_not(sw_is_ok(0x6110));
	cr_assert_not(sw_is_ok(0x9001));
}

Test(sw, to_err_table)
{
	struct { uint16_t sw; enum pv_err e; } t[] = {
		{ 0x9000, PV_OK },
		{ 0x6983, PV_E_BLOCKED },
		{ 0x6a82, PV_E_NOT_FOUND },
		{ 0x6a88, PV_E_NOT_FOUND },
		{ 0x6982, PV_E_SECURITY },
		{ 0x6a81, PV_E_NOT_SUPPORTED },
		{ 0x6d00, PV_E_NOT_SUPPORTED },
		{ 0x6e00, PV_E_NOT_SUPPORTED },
		{ 0x6a86, PV_E_BAD_P1P2 },
		{ 0x6b00, PV_E_BAD_P1P2 },
		{ 0x6a80, PV_E_BAD_DATA },
		{ 0x6984, PV_E_BAD_DATA },
		{ 0x6a84, PV_E_NO_SPACE },
		{ 0x6700, PV_E_WRONG_LENGTH },
		{ 0x6985, PV_E_CONDITIONS },
		{ 0x6f00, PV_E_SW },
		{ 0x6581, PV_E_SW },
		{ 0x6283, PV_E_SW },
		{ 0x1234, PV_E_SW },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int retries = 42;

		cr_assert_eq(sw_to_err(t[i].sw, &retries), t[i].e, "%04x", t[i].sw);
		cr_assert_eq(retries, 42, "%04x touched retries", t[i].sw);
	}
}

Test(sw, retries)
{
	int r = -5, x;

	for (x = 0; x < 16; x++) {
		cr_assert_eq(sw_to_err((uint16_t)(0x63c0 | x), &r), PV_E_PIN_WRONG);
		cr_assert_eq(r, x);
	}
	cr_assert_eq(sw_to_err(0x6300, &r), PV_E_PIN_WRONG);
	cr_assert_eq(r, -1, "pairing code: no counter");
	cr_assert_eq(sw_to_err(0x63c2, NULL), PV_E_PIN_WRONG);
}

Test(sw, texts)
{
	char b[160];

	cr_assert_str_eq(sw_text(0x6982, b, sizeof(b)),
	    "6982: security status not satisfied \xe2\x80\x94 PIN not verified "
	    "or touch needed");
	cr_assert_str_eq(sw_text(0x63c2, b, sizeof(b)),
	    "63C2: verification failed, 2 tries left");
	cr_assert_str_eq(sw_text(0x63c1, b, sizeof(b)),
	    "63C1: verification failed, 1 try left");
	cr_assert_not_null(strstr(sw_text(0x6110, b, sizeof(b)), "16 bytes"));
	cr_assert_not_null(strstr(sw_text(0x6100, b, sizeof(b)), "256 bytes"));
	cr_assert_not_null(strstr(sw_text(0x6c03, b, sizeof(b)), "Le=03"));
	cr_assert_not_null(strstr(sw_text(0x6a82, b, sizeof(b)), "not found"));
	cr_assert_not_null(strstr(sw_text(0x9000, b, sizeof(b)), "success"));
	cr_assert_str_eq(sw_text(0x1234, b, sizeof(b)),
	    "1234: unknown status word");
	/* Truncation is safe. */
	cr_assert_str_eq(sw_text(0x9000, b, 3), "90");
	cr_assert_eq(sw_text(0x9000, b, 0), b);
}

Test(sw, every_listed_code_has_a_specific_entry)
{
	uint16_t codes[] = { 0x6281, 0x6282, 0x6283, 0x6300, 0x63c3, 0x6400,
	    0x6581, 0x6700, 0x6800, 0x6881, 0x6882, 0x6982, 0x6983, 0x6984,
	    0x6985, 0x6986, 0x6987, 0x6988, 0x6a80, 0x6a81, 0x6a82, 0x6a84,
	    0x6a86, 0x6a88, 0x6b00, 0x6c10, 0x6d00, 0x6e00, 0x6f00, 0x6101,
	    0x9000 };
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		cr_assert_str_neq(sw_name(codes[i]), "unknown status", "%04x",
		    codes[i]);
	cr_assert_str_eq(sw_name(0x0000), "unknown status");
	/* Exact entries win over their family. */
	cr_assert_str_eq(sw_name(0x6a82), "not found");
	cr_assert_str_eq(sw_name(0x6a8f), "wrong parameters");
	cr_assert_str_eq(sw_name(0x63c5), "wrong PIN");
}

Test(sw, ins_names)
{
	cr_assert_str_eq(apdu_ins_name(0xa4), "SELECT");
	cr_assert_str_eq(apdu_ins_name(0xcb), "GET DATA");
	cr_assert_str_eq(apdu_ins_name(0xdb), "PUT DATA");
	cr_assert_str_eq(apdu_ins_name(0x20), "VERIFY");
	cr_assert_str_eq(apdu_ins_name(0x24), "CHANGE REFERENCE DATA");
	cr_assert_str_eq(apdu_ins_name(0x2c), "RESET RETRY COUNTER");
	cr_assert_str_eq(apdu_ins_name(0x87), "GENERAL AUTHENTICATE");
	cr_assert_str_eq(apdu_ins_name(0x47), "GENERATE ASYMMETRIC KEY PAIR");
	cr_assert_str_eq(apdu_ins_name(0xc0), "GET RESPONSE");
	cr_assert_str_eq(apdu_ins_name(0xfb), "RESET (YubiKey)");
	cr_assert_str_eq(apdu_ins_name(0xfd), "GET VERSION (YubiKey)");
	cr_assert_not_null(apdu_ins_name(0xf6));
	cr_assert_not_null(apdu_ins_name(0xff));
	cr_assert_null(apdu_ins_name(0x01));
}
