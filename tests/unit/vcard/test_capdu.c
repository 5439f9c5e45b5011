/*
 * test_capdu.c: the card-side C-APDU decoder (ISO 7816-3 §12.1.3).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>

#include "tests/support/hex.h"
#include "vcard/capdu.h"

struct capdu_case {
	char hex[64];
	int kase;
	int lc;
	int le;		/* -1: absent */
	int ext;
};

ParameterizedTestParameters(capdu, valid)
{
	static const struct capdu_case cases[] = {
		{ "00 a4 04 00", 1, 0, -1, 0 },
		/* ykpiv's case 1 with P3 = 00: Le = 256, never Lc = 0. */
		{ "00 20 00 80 00", 2, 0, 256, 0 },
		{ "00 fd 00 00 00", 2, 0, 256, 0 },
		{ "00 c0 00 00 10", 2, 0, 16, 0 },
		{ "00 a4 04 00 05 a0 00 00 03 08", 3, 5, -1, 0 },
		{ "00 a4 04 00 05 a0 00 00 03 08 00", 4, 5, 256, 0 },
		{ "00 cb 3f ff 03 5c 01 7e 08", 4, 3, 8, 0 },
		{ "00 ca 00 00 00 00 ff", 2, 0, 255, 1 },
		{ "00 ca 00 00 00 00 00", 2, 0, 65536, 1 },
		{ "00 cb 3f ff 00 00 03 5c 01 7e", 3, 3, -1, 1 },
		{ "00 cb 3f ff 00 00 03 5c 01 7e 00 00", 4, 3, 65536, 1 },
		{ "00 cb 3f ff 00 00 03 5c 01 7e 01 00", 4, 3, 256, 1 },
	};

	return cr_make_param_array(struct capdu_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct capdu_case *tc, capdu, valid)
{
	struct vc_capdu a;
	uint8_t *p;
	size_t n;

	cr_assert_eq(hex_decode(tc->hex, &p, &n), 0);
	cr_assert_eq(vc_capdu_parse(p, n, &a), VC_CAPDU_OK, "%s", tc->hex);
	cr_assert_eq(a.kase, tc->kase, "%s: case %d", tc->hex, a.kase);
	cr_assert_eq(a.lc, (size_t)tc->lc);
	cr_assert_eq(a.has_le, tc->le >= 0);
	if (tc->le >= 0)
		cr_assert_eq(a.le, (size_t)tc->le, "%s: le %zu", tc->hex, a.le);
	cr_assert_eq(a.extended, tc->ext != 0);
	cr_assert_eq(a.cla, p[0]);
	cr_assert_eq(a.ins, p[1]);
	if (tc->lc > 0)
		cr_assert_eq(a.data, p + (tc->ext ? 7 : 5), "data points in");
	free(p);
}

struct bad_case {
	char hex[64];
	int why;
};

ParameterizedTestParameters(capdu, malformed)
{
	static const struct bad_case cases[] = {
		{ "", VC_CAPDU_SHORT },
		{ "00", VC_CAPDU_SHORT },
		{ "00 a4 04", VC_CAPDU_SHORT },
		{ "00 a4 04 00 05 a0 00", VC_CAPDU_BAD_LENGTH },	/* Lc past end */
		{ "00 a4 04 00 02 a0 00 00 00", VC_CAPDU_BAD_LENGTH },	/* 2 after data */
		{ "00 a4 04 00 00 00", VC_CAPDU_BAD_LENGTH },	/* ext, 1 byte */
		{ "00 a4 04 00 00 00 00 01", VC_CAPDU_BAD_LENGTH },	/* Lc 0 + data */
		{ "00 a4 04 00 00 00 02 a0", VC_CAPDU_BAD_LENGTH },	/* ext Lc past end */
		{ "00 a4 04 00 00 00 01 a0 00", VC_CAPDU_BAD_LENGTH },	/* 1-byte ext Le */
		{ "00 a4 04 00 00 00 01 a0 00 00 00", VC_CAPDU_BAD_LENGTH },
	};

	return cr_make_param_array(struct bad_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *tc, capdu, malformed)
{
	struct vc_capdu a;
	uint8_t *p;
	size_t n;

	cr_assert_eq(hex_decode(tc->hex, &p, &n), 0);
	cr_assert_eq(vc_capdu_parse(p, n, &a), (enum vc_capdu_res)tc->why,
	    "%s", tc->hex);
	cr_assert_eq(a.kase, 0, "zeroed on failure");
	cr_assert_null(a.data);
	free(p);
}

Test(capdu, longest_short_and_extended)
{
	uint8_t cmd[4 + 3 + 65535 + 2];
	struct vc_capdu a;

	memset(cmd, 0x11, sizeof(cmd));
	cmd[4] = 0xff;	/* short Lc 255 + Le */
	cr_assert_eq(vc_capdu_parse(cmd, 4 + 1 + 255 + 1, &a), VC_CAPDU_OK);
	cr_assert_eq(a.lc, 255);
	cr_assert_eq(a.le, 0x11);
	cmd[4] = 0;
	cmd[5] = 0xff;
	cmd[6] = 0xff;	/* extended Lc 65535 + Le */
	cr_assert_eq(vc_capdu_parse(cmd, sizeof(cmd), &a), VC_CAPDU_OK);
	cr_assert_eq(a.lc, 65535);
	cr_assert_eq(a.kase, 4);
	cr_assert_eq(a.le, 0x1111);
}
