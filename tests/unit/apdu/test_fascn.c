/*
 * test_fascn.c: FASC-N encode/decode against the two worked vectors of
 * PIV-REFERENCE §5, byte for byte, and hostile inputs.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/fascn.h"
#include "tests/support/hex.h"

struct fascn_vec {
	char str[FASCN_STR_LEN];
	char hex[80];
	char fields[9][12];	/* ac sc cn cs ici pi oc oi poa */
};

ParameterizedTestParameters(fascn, vectors)
{
	static struct fascn_vec v[] = {
		{ "S9999F9999F999999F0F1F0000000000300001E",
		  "D4E739DA739CED39CE739D836858210842108421C84210C3EB",
		  { "9999", "9999", "999999", "0", "1", "0000000000", "3",
		    "0000", "1" } },
		{ "S0032F0001F092446F0F1F1112223333112232E",
		  "D0439458210C2C19A0846D83685A1082108CE73984108CA3FC",
		  { "0032", "0001", "092446", "0", "1", "1112223333", "1",
		    "1223", "2" } },
	};

	return cr_make_param_array(struct fascn_vec, v, sizeof(v) / sizeof(v[0]));
}

static void
fields_eq(const struct fascn *f, char want[9][12])
{
	const char *got[9] = { f->ac, f->sc, f->cn, f->cs, f->ici, f->pi,
	    f->oc, f->oi, f->poa };
	int i;

	for (i = 0; i < 9; i++)
		cr_assert_str_eq(got[i], want[i], "field %d", i);
}

ParameterizedTest(struct fascn_vec *v, fascn, vectors)
{
	struct fascn f, g;
	struct pv_why why = { { 0 } };
	uint8_t enc[FASCN_LEN], *want;
	size_t want_len;
	char s[FASCN_STR_LEN];

	cr_assert_eq(hex_decode(v->hex, &want, &want_len), 0);
	cr_assert_eq(want_len, FASCN_LEN);

	/* string -> fields -> 25 bytes, byte for byte */
	cr_assert_eq(fascn_from_string(v->str, &f, &why), PV_OK, "%s", why.msg);
	fields_eq(&f, v->fields);
	cr_assert_eq(fascn_encode(&f, enc, &why), PV_OK, "%s", why.msg);
	cr_assert_arr_eq(enc, want, FASCN_LEN);

	/* 25 bytes -> fields -> string */
	cr_assert_eq(fascn_decode(want, want_len, &g, &why), PV_OK, "%s",
	    why.msg);
	fields_eq(&g, v->fields);
	fascn_to_string(&g, s);
	cr_assert_str_eq(s, v->str);
	free(want);
}

Test(fascn, first_bytes_by_hand)
{
	/* PIV-REFERENCE §5: SS 11010, 9 10011 x4, FS 10110 -> D4 E7 39 DA */
	struct fascn f;
	uint8_t enc[FASCN_LEN];

	cr_assert_eq(fascn_from_string("S9999F9999F999999F0F1F0000000000300001E",
	    &f, NULL), PV_OK);
	cr_assert_eq(fascn_encode(&f, enc, NULL), PV_OK);
	cr_assert_eq(enc[0], 0xd4);
	cr_assert_eq(enc[1], 0xe7);
	cr_assert_eq(enc[2], 0x39);
	cr_assert_eq(enc[3], 0xda);
	cr_assert(fascn_is_nonfederal(&f));
}

Test(fascn, wrong_length_is_named)
{
	uint8_t b[26] = { 0 };
	struct fascn f;
	struct pv_why why = { { 0 } };

	cr_assert_eq(fascn_decode(b, 24, &f, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, "FASC-N is 24 bytes, expected 25");
	pv_why_clear(&why);
	cr_assert_eq(fascn_decode(b, 26, &f, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, "FASC-N is 26 bytes, expected 25");
	cr_assert_eq(fascn_decode(NULL, 0, &f, NULL), PV_E_MALFORMED);
}

Test(fascn, every_single_bit_flip_is_caught)
{
	uint8_t *v, b[FASCN_LEN];
	size_t n, bit;
	struct fascn f;
	struct pv_why why;

	cr_assert_eq(hex_decode("D4E739DA739CED39CE739D836858210842108421C84210C3EB",
	    &v, &n), 0);
	for (bit = 0; bit < 8 * FASCN_LEN; bit++) {
		memcpy(b, v, FASCN_LEN);
		b[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		pv_why_clear(&why);
		cr_assert_eq(fascn_decode(b, FASCN_LEN, &f, &why), PV_E_MALFORMED,
		    "bit %zu", bit);
		cr_assert(strstr(why.msg, "bad parity") != NULL, "%s", why.msg);
		cr_assert_eq(f.ac[0], '\0', "no partial output");
	}
	free(v);
}

Test(fascn, lrc_mismatch)
{
	uint8_t *v;
	size_t n;
	struct fascn f;
	struct pv_why why = { { 0 } };

	cr_assert_eq(hex_decode("D4E739DA739CED39CE739D836858210842108421C84210C3EB",
	    &v, &n), 0);
	/* The last 5 bits are the LRC (01011 here): flip two data bits so
	 * parity still holds but the value is wrong. */
	v[24] ^= 0x06;
	cr_assert_eq(fascn_decode(v, n, &f, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, "FASC-N: LRC check failed");
	free(v);
}

/* A separator moved: build characters by hand with valid parity and LRC. */
static void
pack(const uint8_t ch[40], uint8_t out[FASCN_LEN])
{
	size_t i, bit = 0;
	uint8_t lrc = 0;
	uint8_t c2[40];

	memcpy(c2, ch, 40);
	for (i = 0; i < 39; i++)
		lrc ^= c2[i];
	c2[39] = lrc;
	memset(out, 0, FASCN_LEN);
	for (i = 0; i < 40; i++) {
		uint8_t g = 0, ones = 0;
		int k;

		for (k = 0; k < 4; k++) {
			uint8_t b = (c2[i] >> k) & 1;
			g = (uint8_t)(g << 1 | b);
			ones += b;
		}
		g = (uint8_t)(g << 1 | ((ones & 1) ? 0 : 1));
		for (k = 4; k >= 0; k--, bit++)
			if ((g >> k) & 1)
				out[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
}

Test(fascn, structure_errors_are_named)
{
	uint8_t ch[40], b[FASCN_LEN];
	struct fascn f;
	struct pv_why why;
	size_t i;

	for (i = 0; i < 40; i++)
		ch[i] = 1;
	ch[0] = 0xb;
	ch[5] = ch[10] = ch[17] = ch[19] = ch[21] = 0xd;
	ch[38] = 0xf;
	pack(ch, b);
	cr_assert_eq(fascn_decode(b, FASCN_LEN, &f, NULL), PV_OK);
	cr_assert_str_eq(f.pi, "1111111111");

	ch[10] = 3;	/* separator replaced by a digit */
	pack(ch, b);
	pv_why_clear(&why);
	cr_assert_eq(fascn_decode(b, FASCN_LEN, &f, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg,
	    "FASC-N: character 11 is 0x3, expected field separator");

	ch[10] = 0xd;
	ch[25] = 0xd;	/* separator inside the person identifier */
	pack(ch, b);
	pv_why_clear(&why);
	cr_assert_eq(fascn_decode(b, FASCN_LEN, &f, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg,
	    "FASC-N: character 26 is field separator (0xD), expected a digit");

	ch[25] = 1;
	ch[0] = 0xf;	/* no start sentinel */
	pack(ch, b);
	pv_why_clear(&why);
	cr_assert_eq(fascn_decode(b, FASCN_LEN, &f, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg,
	    "FASC-N: character 1 is 0xF, expected start sentinel");
}

Test(fascn, encode_rejects_bad_fields)
{
	struct fascn f;
	uint8_t b[FASCN_LEN];
	struct pv_why why = { { 0 } };

	cr_assert_eq(fascn_from_string("S0032F0001F092446F0F1F1112223333112232E",
	    &f, NULL), PV_OK);
	f.cn[2] = 'x';
	cr_assert_eq(fascn_encode(&f, b, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "FASC-N: credential number must be exactly 6 digits");
	cr_assert_eq(fascn_from_string("S0032F0001F092446F0F1F1112223333112232E",
	    &f, NULL), PV_OK);
	memcpy(f.ac, "12", 3);	/* too short */
	cr_assert_eq(fascn_encode(&f, b, NULL), PV_E_INPUT);
}

Test(fascn, string_form_errors)
{
	struct fascn f;
	struct pv_why why = { { 0 } };

	cr_assert_eq(fascn_from_string("S0032F0001", &f, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "FASC-N string is 10 characters, expected 39");
	pv_why_clear(&why);
	cr_assert_eq(fascn_from_string("S0032X0001F092446F0F1F1112223333112232E",
	    &f, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "FASC-N string: character 6 is 'X', expected 'F'");
	pv_why_clear(&why);
	cr_assert_eq(fascn_from_string("S0032F0001F0924A6F0F1F1112223333112232E",
	    &f, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "FASC-N string: character 16 is 'A', expected a digit");
}

Test(fascn, describe)
{
	struct fascn f;
	char t[FASCN_TEXT_LEN];

	cr_assert_eq(fascn_from_string("S0032F0001F092446F0F1F1112223333112232E",
	    &f, NULL), PV_OK);
	fascn_describe(&f, t, sizeof(t));
	cr_assert_str_eq(t, "agency 0032, system 0001, credential 092446, "
	    "series 0, issue 1, person 1112223333, org category 1, org 1223, "
	    "association 2");
	cr_assert_not(fascn_is_nonfederal(&f));
}
