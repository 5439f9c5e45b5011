/*
 * test_piv_obj.c: PIV data object codecs: spec samples, hostile tables
 * (truncation at every byte, lengths past the end, 80/84 lengths,
 * duplicates, order, trailing bytes) and round trips.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "apdu/piv_obj.h"
#include "apdu/tlv.h"
#include "tests/support/hex.h"

static uint8_t *
H(const char *hex, size_t *n)
{
	uint8_t *p;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad test hex %s", hex);
	return p;
}

/* ---- one dispatcher over every object codec ------------------------------ */

enum kind { K_CHUID, K_CCC, K_DISC, K_KH, K_PRINTED, K_SECOBJ, K_CERT };

static enum pv_err
parse_kind(int kind, const uint8_t *p, size_t n, struct pv_why *why)
{
	struct piv_chuid ch;
	struct piv_ccc cc;
	struct piv_discovery di;
	struct piv_keyhist kh;
	struct piv_printed pr;
	struct piv_secobj so;
	struct piv_certobj ce;

	switch (kind) {
	case K_CHUID:
		return piv_chuid_parse(p, n, &ch, why);
	case K_CCC:
		return piv_ccc_parse(p, n, &cc, why);
	case K_DISC:
		return piv_discovery_parse(p, n, &di, why);
	case K_KH:
		return piv_keyhist_parse(p, n, &kh, why);
	case K_PRINTED:
		return piv_printed_parse(p, n, &pr, why);
	case K_SECOBJ:
		return piv_secobj_parse(p, n, &so, why);
	default:
		return piv_certobj_parse(p, n, &ce, why);
	}
}

/* Parse, build from what was parsed, into |out|. */
static enum pv_err
roundtrip_kind(int kind, const uint8_t *p, size_t n, struct buf_out *out)
{
	struct piv_chuid ch;
	struct piv_ccc cc;
	struct piv_discovery di;
	struct piv_keyhist kh;
	struct piv_printed pr;
	struct piv_secobj so;
	struct piv_certobj ce;
	enum pv_err r;
	uint8_t *der;
	size_t der_len;

	switch (kind) {
	case K_CHUID:
		if ((r = piv_chuid_parse(p, n, &ch, NULL)) != PV_OK)
			return r;
		return piv_chuid_build(&ch, out, NULL);
	case K_CCC:
		if ((r = piv_ccc_parse(p, n, &cc, NULL)) != PV_OK)
			return r;
		return piv_ccc_build(&cc, out, NULL);
	case K_DISC:
		if ((r = piv_discovery_parse(p, n, &di, NULL)) != PV_OK)
			return r;
		return piv_discovery_build(&di, out, NULL);
	case K_KH:
		if ((r = piv_keyhist_parse(p, n, &kh, NULL)) != PV_OK)
			return r;
		return piv_keyhist_build(&kh, out, NULL);
	case K_PRINTED:
		if ((r = piv_printed_parse(p, n, &pr, NULL)) != PV_OK)
			return r;
		return piv_printed_build(&pr, out, NULL);
	case K_SECOBJ:
		if ((r = piv_secobj_parse(p, n, &so, NULL)) != PV_OK)
			return r;
		return piv_secobj_build(&so, out, NULL);
	default:
		if ((r = piv_certobj_parse(p, n, &ce, NULL)) != PV_OK)
			return r;
		if ((r = piv_certobj_cert(&ce, 0, &der, &der_len, NULL)) != PV_OK)
			return r;
		r = piv_certobj_build(der, der_len, ce.compressed, out, NULL);
		free(der);
		return r;
	}
}

#define FASCN_HEX "D4E739DA739CED39CE739D836858210842108421C84210C3EB"
#define GUID_HEX "00112233445566778899AABBCCDDEEFF"
#define EXP_HEX "3230333030313031"	/* "20300101" */
#define CHUID_YK "30 19 " FASCN_HEX " 34 10 " GUID_HEX " 35 08 " EXP_HEX \
	" 3E 00 FE 00"
#define CHUID_FULL "EE 02 0BB8 30 19 " FASCN_HEX " 32 04 01020304 " \
	"33 09 313233343536373839 34 10 " GUID_HEX " 35 08 " EXP_HEX \
	" 36 10 FFEEDDCCBBAA99887766554433221100 3E 03 300100 FE 00"
#define CCC_YK "F0 15 A000000116FF02 0102030405060708090A0B0C0D0E " \
	"F1 01 21 F2 01 21 F3 00 F4 01 00 F5 01 10 F6 00 F7 00 FA 00 " \
	"FB 00 FC 00 FD 00 FE 00"
#define DISC_PLAIN "7E 12 4F 0B A0000003080000100001 00 5F2F 02 4000"
#define KH_URL "C1 01 02 C2 01 01 F3 0A 687474703A2F2F782F61 FE 00"
#define KH_NONE "C1 01 00 C2 01 00 FE 00"
#define PRINTED "01 08 4A6F686E20446F65 02 08 456D706C6F796565 " \
	"04 09 323033304A414E3031 05 04 31323334 06 04 41424344 FE 00"
#define SECOBJ "BA 06 013000 020101 BB 03 300100 FE 00"
#define CERTOBJ "70 04 30 02 05 00 71 01 00 FE 00"

struct sample {
	int kind;
	char hex[400];
};

ParameterizedTestParameters(piv_obj, samples)
{
	static struct sample s[] = {
		{ K_CHUID, CHUID_YK }, { K_CHUID, CHUID_FULL },
		{ K_CCC, CCC_YK }, { K_DISC, DISC_PLAIN },
		{ K_KH, KH_URL }, { K_KH, KH_NONE }, { K_PRINTED, PRINTED },
		{ K_SECOBJ, SECOBJ }, { K_CERT, CERTOBJ },
	};

	return cr_make_param_array(struct sample, s, sizeof(s) / sizeof(s[0]));
}

/*
 * Every sample: parses; builds back to the same bytes (the samples use
 * minimal lengths and known tags only); every proper prefix fails; one
 * trailing byte fails.
 */
ParameterizedTest(struct sample *s, piv_obj, samples)
{
	size_t n, k;
	uint8_t *p = H(s->hex, &n), *q;
	struct pv_why why = { { 0 } };
	struct buf_out o;

	cr_assert_eq(parse_kind(s->kind, p, n, &why), PV_OK, "%s", why.msg);

	cr_assert(buf_out_alloc(&o, 16, 1 << 16));
	cr_assert_eq(roundtrip_kind(s->kind, p, n, &o), PV_OK);
	cr_assert_eq(o.len, n, "rebuilt %zu bytes, want %zu", o.len, n);
	cr_assert_arr_eq(o.p, p, n);
	buf_out_cleanup(&o);

	for (k = 0; k < n; k++) {
		pv_why_clear(&why);
		/* A fresh heap copy, so ASan sees any read past the prefix. */
		q = malloc(k + 1);
		memcpy(q, p, k);
		cr_assert_neq(parse_kind(s->kind, q, k, &why), PV_OK,
		    "prefix of %zu bytes parsed", k);
		cr_assert_neq(why.msg[0], '\0', "no message for prefix %zu", k);
		free(q);
	}
	q = malloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0x00;
	cr_assert_neq(parse_kind(s->kind, q, n + 1, NULL), PV_OK,
	    "trailing byte accepted");
	free(q);
	free(p);
}

struct bad {
	int kind;
	char hex[400];
	int err;
	char msg[160];
};

ParameterizedTestParameters(piv_obj, hostile)
{
	static struct bad b[] = {
		/* CHUID */
		{ K_CHUID, "30 18 D4E739DA739CED39CE739D836858210842108421C84210C3 "
		    "34 10 " GUID_HEX " 35 08 " EXP_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: FASC-N is 24 bytes, expected 25" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 10 " GUID_HEX " 34 10 " GUID_HEX
		    " 35 08 " EXP_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: tag 34 (GUID) appears twice" },
		{ K_CHUID, "30 19 " FASCN_HEX " 35 08 " EXP_HEX " 34 10 " GUID_HEX
		    " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: tag 34 (GUID) comes after tag 35 "
		    "(expiration date): out of order" },
		{ K_CHUID, "34 10 " GUID_HEX " 35 08 " EXP_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: tag 30 (FASC-N) is missing" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 10 " GUID_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: tag 35 (expiration date) is missing" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 10 " GUID_HEX " 35 08 " EXP_HEX
		    " 3E 00",
		  PV_E_MALFORMED, "CHUID: tag FE (error detection code) is "
		    "missing" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 10 " GUID_HEX
		    " 35 08 3230323330323330 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: expiration date is not a valid "
		    "YYYYMMDD date" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 10 " GUID_HEX
		    " 35 08 323032342D30312D 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: expiration date is not a valid "
		    "YYYYMMDD date" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 0F 00112233445566778899AABBCCDDEE"
		    " 35 08 " EXP_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: GUID is 15 bytes, expected 16" },
		{ K_CHUID, "30 19 " FASCN_HEX " 3D 01 00 34 10 " GUID_HEX
		    " 35 08 " EXP_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: tag 3D (authentication key map, no "
		    "longer allowed) is present" },
		{ K_CHUID, CHUID_YK " 00",
		  PV_E_MALFORMED, "CHUID: 1 byte after FE (error detection "
		    "code)" },
		{ K_CHUID, CHUID_YK " 01 00",
		  PV_E_MALFORMED, "CHUID: 2 bytes after FE (error detection "
		    "code)" },
		{ K_CHUID, "30 80 " FASCN_HEX " 00 00",
		  PV_E_MALFORMED, "CHUID: bad element at byte 0: tag 30 uses the "
		    "indefinite length form 80" },
		{ K_CHUID, "30 84 00 00 00 19 " FASCN_HEX,
		  PV_E_MALFORMED, "CHUID: bad element at byte 0: tag 30 uses a "
		    "4-byte length (at most 3 allowed)" },
		{ K_CHUID, "30 19 D4E7",
		  PV_E_MALFORMED, "CHUID: bad element at byte 0: tag 30: length "
		    "25 runs past the end (2 bytes left)" },
		{ K_CHUID, "30 82 01",
		  PV_E_MALFORMED, "CHUID: bad element at byte 0: tag 30: length "
		    "is cut short" },
		{ K_CHUID, "5F", PV_E_MALFORMED,
		  "CHUID: bad element at byte 0: tag 5F is cut short" },
		{ K_CHUID, "", PV_E_NOT_FOUND, "CHUID: object is empty" },
		{ K_CHUID, "EE 03 000000 30 19 " FASCN_HEX " 34 10 " GUID_HEX
		    " 35 08 " EXP_HEX " 3E 00 FE 00",
		  PV_E_MALFORMED, "CHUID: buffer length is 3 bytes, at most 2 "
		    "allowed" },
		{ K_CHUID, "30 19 " FASCN_HEX " 34 10 " GUID_HEX " 35 08 " EXP_HEX
		    " 3E 00 FE 01 00",
		  PV_E_MALFORMED, "CHUID: error detection code is 1 byte, "
		    "expected 0" },
		/* CCC */
		{ K_CCC, "F0 14 A000000116FF02 0102030405060708090A0B0C0D",
		  PV_E_MALFORMED, "CCC: card identifier is 20 bytes, expected 0 "
		    "or 21" },
		{ K_CCC, "F0 00 F1 00 F2 00 F3 00 F4 00 F6 00 F7 00 FA 00 FB 00 "
		    "FC 00 FD 00 FE 00",
		  PV_E_MALFORMED, "CCC: tag F5 (registered data model number) is "
		    "missing" },
		{ K_CCC, "F0 00 F1 00 F2 00 F3 00 F4 00 F5 01 10 F5 01 10",
		  PV_E_MALFORMED, "CCC: tag F5 (registered data model number) "
		    "appears twice" },
		{ K_CCC, "F0 00 F1 00 F2 00 F3 00 F4 00 F5 00",
		  PV_E_MALFORMED, "CCC: registered data model number is 0 bytes, "
		    "expected 1" },
		/* discovery */
		{ K_DISC, "7E 12 4F 0B A0000003080000100001 00 5F2F 02 4400",
		  PV_E_MALFORMED, "discovery object: PIN usage policy byte 1 is "
		    "44, not a value SP 800-73-4 Table 18 allows" },
		{ K_DISC, "7E 12 4F 0B A0000003080000100001 00 5F2F 02 4030",
		  PV_E_MALFORMED, "discovery object: PIN usage policy byte 2 is "
		    "30, expected 00, 10 or 20" },
		{ K_DISC, "7E 12 4F 0B A0000003090000100001 00 5F2F 02 4000",
		  PV_E_MALFORMED, "discovery object: AID does not start with the "
		    "PIV RID A0 00 00 03 08" },
		{ K_DISC, "7E 0D 4F 0B A0000003080000100001 00",
		  PV_E_MALFORMED, "discovery object: tag 5F2F (PIN usage policy) "
		    "is missing" },
		{ K_DISC, "53 12 4F 0B A0000003080000100001 00 5F2F 02 4000",
		  PV_E_MALFORMED, "discovery object: starts with tag 53, expected "
		    "7E" },
		{ K_DISC, DISC_PLAIN " 00",
		  PV_E_MALFORMED, "discovery object: 1 byte after the 7E "
		    "element" },
		{ K_DISC, "7E 13 4F 0B A0000003080000100001 00 5F2F 02 4000",
		  PV_E_MALFORMED, "discovery object: tag 7E: length 19 runs past "
		    "the end (18 bytes left)" },
		/* key history */
		{ K_KH, "C1 01 00 C2 01 02 FE 00",
		  PV_E_MALFORMED, "key history: 2 off-card keys but no "
		    "offCardCertURL (F3)" },
		{ K_KH, "C1 01 01 C2 01 00 F3 01 68 FE 00",
		  PV_E_MALFORMED, "key history: offCardCertURL (F3) present but "
		    "no off-card keys" },
		{ K_KH, "C1 01 15 C2 01 00 FE 00",
		  PV_E_MALFORMED, "key history: 21 on-card and 0 off-card keys, "
		    "more than the 20 retired key slots" },
		{ K_KH, "C1 02 0001 C2 01 00 FE 00",
		  PV_E_MALFORMED, "key history: keysWithOnCardCerts is 2 bytes, "
		    "expected 1" },
		/* printed information */
		{ K_PRINTED, "88 1A 89 18 010203040506070801020304050607080102030405060708",
		  PV_E_MALFORMED, "printed information: the object holds a "
		    "PIN-protected management key (tag 88), not printed "
		    "information" },
		{ K_PRINTED, "01 00 02 00 04 09 323033304A414E3332 05 00 06 00 FE 00",
		  PV_E_MALFORMED, "printed information: expiration date is not a "
		    "valid YYYYMMMDD date" },
		{ K_PRINTED, "01 00 02 00 04 09 32303330584D5A3031 05 00 06 00 FE 00",
		  PV_E_MALFORMED, "printed information: expiration date is not a "
		    "valid YYYYMMMDD date" },
		{ K_PRINTED, "01 00 02 15 000000000000000000000000000000000000000000",
		  PV_E_MALFORMED, "printed information: employee affiliation is "
		    "21 bytes, at most 20 allowed" },
		/* security object */
		{ K_SECOBJ, "BA 04 01300002 BB 00 FE 00",
		  PV_E_MALFORMED, "security object: mapping is 4 bytes, not a "
		    "multiple of 3" },
		{ K_SECOBJ, "BB 00 FE 00",
		  PV_E_MALFORMED, "security object: tag BA (mapping of DG to "
		    "container ID) is missing" },
		/* certificate container */
		{ K_CERT, "70 00 71 01 00 FE 00",
		  PV_E_NOT_FOUND, "certificate container: no certificate (tag 70 "
		    "is empty)" },
		{ K_CERT, "70 02 04 00 71 01 00 FE 00",
		  PV_E_MALFORMED, "certificate container: tag 70 does not hold one "
		    "DER SEQUENCE" },
		{ K_CERT, "70 04 30 02 05 00 71 01 02 FE 00",
		  PV_E_MALFORMED, "certificate container: CertInfo 02 names an "
		    "unsupported encoding" },
		{ K_CERT, "70 04 30 02 05 00 71 02 0000 FE 00",
		  PV_E_MALFORMED, "certificate container: CertInfo is 2 bytes, "
		    "expected 1" },
		{ K_CERT, "70 04 30 02 05 00 70 04 30 02 05 00 FE 00",
		  PV_E_MALFORMED, "certificate container: tag 70 (certificate) "
		    "appears twice" },
		{ K_CERT, "70 05 30 02 05 00 00 71 01 00 FE 00",
		  PV_E_MALFORMED, "certificate container: tag 70 does not hold one "
		    "DER SEQUENCE" },
	};

	return cr_make_param_array(struct bad, b, sizeof(b) / sizeof(b[0]));
}

ParameterizedTest(struct bad *b, piv_obj, hostile)
{
	size_t n;
	uint8_t *p = H(b->hex, &n);
	struct pv_why why = { { 0 } };

	cr_assert_eq(parse_kind(b->kind, p, n, &why), (enum pv_err)b->err,
	    "got %s (%s)", pv_errname(parse_kind(b->kind, p, n, NULL)),
	    why.msg);
	cr_assert_str_eq(why.msg, b->msg);
	free(p);
}

/* ---- object specifics ------------------------------------------------------ */

Test(piv_obj, chuid_ykpiv_template_fields)
{
	size_t n;
	uint8_t *p = H(CHUID_YK, &n), *g;
	size_t gn;
	struct piv_chuid c;
	struct fascn f;
	char s[FASCN_STR_LEN];

	cr_assert_eq(piv_chuid_parse(p, n, &c, NULL), PV_OK);
	cr_assert_eq(fascn_decode(c.fascn, FASCN_LEN, &f, NULL), PV_OK);
	fascn_to_string(&f, s);
	cr_assert_str_eq(s, "S9999F9999F999999F0F1F0000000000300001E");
	g = H(GUID_HEX, &gn);
	cr_assert_arr_eq(c.guid, g, 16);
	cr_assert_str_eq(c.expiry, "20300101");
	cr_assert_eq(c.signature.len, 0);
	cr_assert_not(c.has_buffer_len || c.has_org_id || c.has_duns ||
	    c.has_cardholder_uuid);
	free(g);
	free(p);
}

Test(piv_obj, chuid_signature_is_a_view)
{
	size_t n;
	uint8_t *p = H(CHUID_FULL, &n);
	struct piv_chuid c;

	cr_assert_eq(piv_chuid_parse(p, n, &c, NULL), PV_OK);
	cr_assert_eq(c.signature.len, 3);
	cr_assert(c.signature.p >= p && c.signature.p + 3 <= p + n);
	cr_assert(c.has_buffer_len && c.has_org_id && c.has_duns &&
	    c.has_cardholder_uuid);
	cr_assert_eq(c.cardholder_uuid[0], 0xff);
	free(p);
}

Test(piv_obj, chuid_tbs_skips_ee_and_signature_keeps_fe)
{
	size_t n, wn;
	uint8_t *p = H(CHUID_FULL, &n);
	uint8_t *w = H("30 19 " FASCN_HEX " 32 04 01020304 33 09 "
	    "313233343536373839 34 10 " GUID_HEX " 35 08 " EXP_HEX
	    " 36 10 FFEEDDCCBBAA99887766554433221100 FE 00", &wn);
	struct buf_out o;

	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_chuid_tbs(p, n, &o, NULL), PV_OK);
	cr_assert_eq(o.len, wn);
	cr_assert_arr_eq(o.p, w, wn);
	buf_out_cleanup(&o);
	free(w);
	free(p);
}

Test(piv_obj, chuid_tbs_copies_card_bytes_verbatim)
{
	/* A non-minimal length (81 19) is hashed as the card has it. */
	size_t n;
	uint8_t *p = H("30 81 19 " FASCN_HEX " 34 10 " GUID_HEX " 35 08 "
	    EXP_HEX " 3E 00 FE 00", &n);
	struct buf_out o;

	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_chuid_tbs(p, n, &o, NULL), PV_OK);
	cr_assert_eq(o.len, n - 2);
	cr_assert_eq(o.p[1], 0x81);
	buf_out_cleanup(&o);
	free(p);
}

Test(piv_obj, chuid_build_validates)
{
	struct piv_chuid c;
	struct buf_out o;
	struct pv_why why = { { 0 } };

	memset(&c, 0, sizeof(c));
	memcpy(c.expiry, "20300230", 9);
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_chuid_build(&c, &o, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "CHUID: expiration date \"20300230\" is not "
	    "a valid YYYYMMDD date");
	memcpy(c.expiry, "20320229", 9);	/* leap day */
	cr_assert_eq(piv_chuid_build(&c, &o, NULL), PV_OK);
	buf_out_cleanup(&o);
}

Test(piv_obj, build_reports_full_buffer)
{
	size_t n;
	uint8_t *p = H(CHUID_YK, &n), mem[20];
	struct piv_chuid c;
	struct buf_out o;
	struct pv_why why = { { 0 } };

	cr_assert_eq(piv_chuid_parse(p, n, &c, NULL), PV_OK);
	buf_out_fixed(&o, mem, sizeof(mem));
	cr_assert_eq(piv_chuid_build(&c, &o, &why), PV_E_TOO_LONG);
	cr_assert_str_eq(why.msg,
	    "CHUID: the encoding does not fit the output buffer");
	free(p);
}

Test(piv_obj, ccc_build_requires_piv_data_model)
{
	size_t n;
	uint8_t *p = H(CCC_YK, &n);
	struct piv_ccc c;
	struct buf_out o;
	struct pv_why why = { { 0 } };

	cr_assert_eq(piv_ccc_parse(p, n, &c, NULL), PV_OK);
	cr_assert_eq(c.data_model, 0x10);
	cr_assert_eq(c.card_id.len, 21);
	c.data_model = 0x11;
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_ccc_build(&c, &o, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg,
	    "CCC: data model number is 11, PIV requires 10");
	buf_out_cleanup(&o);
	free(p);
}

Test(piv_obj, discovery_fields_and_all_allowed_policies)
{
	static const uint8_t ok[] = { 0x40, 0x48, 0x4c, 0x50, 0x58, 0x5c, 0x60,
	    0x68, 0x6c, 0x70, 0x78, 0x7c };
	struct piv_discovery d;
	struct buf_out o;
	unsigned b;
	size_t i, n_ok = 0;

	memset(&d, 0, sizeof(d));
	memcpy(d.aid, "\xa0\x00\x00\x03\x08\x00\x00\x10\x00\x01\x00", 11);
	d.aid_len = 11;
	for (b = 0; b < 256; b++) {
		bool allowed = false;

		for (i = 0; i < sizeof(ok); i++)
			allowed |= ok[i] == b;
		d.policy[0] = (uint8_t)b;
		d.policy[1] = 0;
		cr_assert(buf_out_alloc(&o, 16, 256));
		cr_assert_eq(piv_discovery_build(&d, &o, NULL) == PV_OK, allowed,
		    "policy %02x", b);
		if (allowed) {
			struct piv_discovery e;

			cr_assert_eq(piv_discovery_parse(o.p, o.len, &e, NULL),
			    PV_OK);
			cr_assert_eq(e.policy[0], b);
			cr_assert_eq(e.aid_len, 11);
			n_ok++;
		}
		buf_out_cleanup(&o);
	}
	cr_assert_eq(n_ok, sizeof(ok));
}

Test(piv_obj, keyhist_fields)
{
	size_t n;
	uint8_t *p = H(KH_URL, &n);
	struct piv_keyhist k;

	cr_assert_eq(piv_keyhist_parse(p, n, &k, NULL), PV_OK);
	cr_assert_eq(k.on_card, 2);
	cr_assert_eq(k.off_card, 1);
	cr_assert(k.has_url);
	cr_assert(buf_eq_mem(&k.url, "http://x/a", 10));
	free(p);
}

Test(piv_obj, printed_optional_lines_and_lowercase_month)
{
	size_t n;
	uint8_t *p = H("01 00 02 00 04 09 323033326665623239 05 00 06 00 "
	    "07 02 4141 08 01 42 FE 00", &n);
	struct piv_printed pr;

	cr_assert_eq(piv_printed_parse(p, n, &pr, NULL), PV_OK);
	cr_assert(pr.has_org1 && pr.has_org2);
	cr_assert(buf_eq_mem(&pr.org2, "B", 1));
	free(p);
}

Test(piv_obj, secobj_map)
{
	size_t n;
	uint8_t *p = H(SECOBJ, &n), dg;
	uint16_t id;
	struct piv_secobj so;

	cr_assert_eq(piv_secobj_parse(p, n, &so, NULL), PV_OK);
	cr_assert_eq(piv_secobj_map_count(&so), 2);
	cr_assert(piv_secobj_map_get(&so, 0, &dg, &id));
	cr_assert_eq(dg, 1);
	cr_assert_eq(id, 0x3000);
	cr_assert(piv_secobj_map_get(&so, 1, &dg, &id));
	cr_assert_eq(id, 0x0101);
	cr_assert_not(piv_secobj_map_get(&so, 2, &dg, &id));
	free(p);
}

Test(piv_obj, key_to_object)
{
	uint32_t t;

	cr_assert(piv_obj_for_key(0x9a, &t) && t == 0x5fc105);
	cr_assert(piv_obj_for_key(0x9c, &t) && t == 0x5fc10a);
	cr_assert(piv_obj_for_key(0x9d, &t) && t == 0x5fc10b);
	cr_assert(piv_obj_for_key(0x9e, &t) && t == 0x5fc101);
	cr_assert(piv_obj_for_key(0x82, &t) && t == 0x5fc10d);
	cr_assert(piv_obj_for_key(0x95, &t) && t == 0x5fc120);
	cr_assert(piv_obj_for_key(0xf9, &t) && t == 0x5fff01);
	cr_assert_not(piv_obj_for_key(0x9b, &t));
	cr_assert_not(piv_obj_for_key(0x96, &t));
	cr_assert_str_eq(piv_obj_name(0x5fc102), "CHUID");
	cr_assert_str_eq(piv_obj_name(0x5fc10e),
	    "retired Key Management certificate");
}

/* ---- certificate compression ----------------------------------------------- */

/* A fake 2000-byte certificate: one DER SEQUENCE of compressible bytes. */
static uint8_t *
fake_cert(size_t *n)
{
	size_t body = 1996, i;
	uint8_t *c = malloc(body + 4);

	c[0] = 0x30;
	c[1] = 0x82;
	c[2] = (uint8_t)(body >> 8);
	c[3] = (uint8_t)body;
	for (i = 0; i < body; i++)
		c[4 + i] = (uint8_t)("pivstation certificate "[i % 23]);
	*n = body + 4;
	return c;
}

/* Container with an arbitrary 70 value and CertInfo byte. */
static void
container(const uint8_t *v, size_t n, uint8_t info, struct buf_out *o)
{
	cr_assert(buf_out_alloc(o, 64, 1 << 22));
	tlv_put(o, 0x70, v, n);
	tlv_put(o, 0x71, &info, 1);
	tlv_put(o, 0xfe, NULL, 0);
	cr_assert(buf_out_ok(o));
}

Test(piv_obj, cert_gzip_round_trip)
{
	size_t n, dn;
	uint8_t *cert = fake_cert(&n), *der;
	struct buf_out o;
	struct piv_certobj co;

	cr_assert(buf_out_alloc(&o, 64, 1 << 16));
	cr_assert_eq(piv_certobj_build(cert, n, true, &o, NULL), PV_OK);
	cr_assert_lt(o.len, n / 4, "compressed to %zu bytes", o.len);
	cr_assert_eq(piv_certobj_parse(o.p, o.len, &co, NULL), PV_OK);
	cr_assert(co.compressed);
	cr_assert_eq(co.certinfo, 0x01);
	/* RFC 1952 magic */
	cr_assert(co.cert.len > 2 && co.cert.p[0] == 0x1f && co.cert.p[1] == 0x8b);
	cr_assert_eq(piv_certobj_cert(&co, 0, &der, &dn, NULL), PV_OK);
	cr_assert_eq(dn, n);
	cr_assert_arr_eq(der, cert, n);
	free(der);
	buf_out_cleanup(&o);
	free(cert);
}

Test(piv_obj, cert_legacy_flag_and_zlib_stream)
{
	size_t n, dn;
	uint8_t *cert = fake_cert(&n), *der, z[4096];
	uLongf zn = sizeof(z);
	struct buf_out o;
	struct piv_certobj co;

	/* A zlib (RFC 1950) stream under the legacy 80 flag: detected. */
	cr_assert_eq(compress2(z, &zn, cert, n, 9), Z_OK);
	container(z, zn, 0x80, &o);
	cr_assert_eq(piv_certobj_parse(o.p, o.len, &co, NULL), PV_OK);
	cr_assert(co.compressed);
	cr_assert_eq(piv_certobj_cert(&co, 0, &der, &dn, NULL), PV_OK);
	cr_assert_eq(dn, n);
	cr_assert_arr_eq(der, cert, n);
	free(der);
	buf_out_cleanup(&o);
	free(cert);
}

Test(piv_obj, cert_inflate_is_capped)
{
	size_t n = 100000, dn;
	uint8_t *big = calloc(1, n), *der = (uint8_t *)1, *z;
	uLongf zn = compressBound(n);
	struct buf_out o;
	struct piv_certobj co;
	struct pv_why why = { { 0 } };

	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = 0x01;
	big[3] = 0x86;
	big[4] = 0x9b;	/* 99995 */
	z = malloc(zn);
	cr_assert_eq(compress2(z, &zn, big, n, 9), Z_OK);
	cr_assert_lt(zn, 1000);
	container(z, zn, 0x01, &o);
	cr_assert_eq(piv_certobj_parse(o.p, o.len, &co, NULL), PV_OK);
	cr_assert_eq(piv_certobj_cert(&co, 0, &der, &dn, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, "certificate container: compressed "
	    "certificate inflates past 32768 bytes");
	cr_assert_null(der);
	cr_assert_eq(dn, 0);
	/* With room for it, the same stream inflates. */
	cr_assert_eq(piv_certobj_cert(&co, n, &der, &dn, NULL), PV_OK);
	cr_assert_eq(dn, n);
	free(der);
	/* Exactly at the cap is fine; one byte less is not. */
	cr_assert_eq(piv_certobj_cert(&co, n - 1, &der, &dn, NULL),
	    PV_E_MALFORMED);
	buf_out_cleanup(&o);
	free(z);
	free(big);
}

Test(piv_obj, cert_bad_streams)
{
	size_t n, dn, k;
	uint8_t *cert = fake_cert(&n), *der;
	struct buf_out o, c;
	struct piv_certobj co;
	struct pv_why why;

	cr_assert(buf_out_alloc(&o, 64, 1 << 16));
	cr_assert_eq(piv_certobj_build(cert, n, true, &o, NULL), PV_OK);
	cr_assert_eq(piv_certobj_parse(o.p, o.len, &co, NULL), PV_OK);

	/* Every truncation of the gzip stream fails, none crashes. */
	for (k = 0; k < co.cert.len; k++) {
		container(co.cert.p, k, 0x01, &c);
		struct piv_certobj t;
		enum pv_err r = piv_certobj_parse(c.p, c.len, &t, NULL);

		if (r == PV_OK) {
			pv_why_clear(&why);
			cr_assert_neq(piv_certobj_cert(&t, 0, &der, &dn, &why),
			    PV_OK, "truncated to %zu inflated", k);
			cr_assert_neq(why.msg[0], '\0');
		}
		buf_out_cleanup(&c);
	}

	/* Bytes after the stream. */
	{
		uint8_t *x = malloc(co.cert.len + 3);

		memcpy(x, co.cert.p, co.cert.len);
		memcpy(x + co.cert.len, "abc", 3);
		container(x, co.cert.len + 3, 0x01, &c);
		cr_assert_eq(piv_certobj_parse(c.p, c.len, &co, NULL), PV_OK);
		pv_why_clear(&why);
		cr_assert_eq(piv_certobj_cert(&co, 0, &der, &dn, &why),
		    PV_E_MALFORMED);
		cr_assert_str_eq(why.msg, "certificate container: 3 bytes after "
		    "the compressed certificate");
		buf_out_cleanup(&c);
		free(x);
	}

	/* Not compressed at all, but flagged so. */
	container(cert, n, 0x01, &c);
	cr_assert_eq(piv_certobj_parse(c.p, c.len, &co, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(piv_certobj_cert(&co, 0, &der, &dn, &why), PV_E_MALFORMED);
	cr_assert(strstr(why.msg, "corrupt") != NULL, "%s", why.msg);
	buf_out_cleanup(&c);

	/* Inflates to something that is not a certificate. */
	{
		uint8_t z[64];
		uLongf zn = sizeof(z);

		cr_assert_eq(compress2(z, &zn, (const uint8_t *)"hello", 5, 9),
		    Z_OK);
		container(z, zn, 0x01, &c);
		cr_assert_eq(piv_certobj_parse(c.p, c.len, &co, NULL), PV_OK);
		pv_why_clear(&why);
		cr_assert_eq(piv_certobj_cert(&co, 0, &der, &dn, &why),
		    PV_E_MALFORMED);
		cr_assert_str_eq(why.msg, "certificate container: the inflated "
		    "certificate is not one DER SEQUENCE");
		buf_out_cleanup(&c);
	}
	buf_out_cleanup(&o);
	free(cert);
}

Test(piv_obj, cert_build_refuses_non_certificate)
{
	struct buf_out o;
	struct pv_why why = { { 0 } };

	cr_assert(buf_out_alloc(&o, 64, 1 << 16));
	cr_assert_eq(piv_certobj_build((const uint8_t *)"\x04\x00", 2, false,
	    &o, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "certificate container: the certificate is "
	    "not one DER SEQUENCE");
	cr_assert_eq(piv_certobj_build(NULL, 0, false, &o, NULL), PV_E_INPUT);
	buf_out_cleanup(&o);
}

Test(piv_obj, cert_uncompressed_cap)
{
	size_t n, dn;
	uint8_t *cert = fake_cert(&n), *der;
	struct buf_out o;
	struct piv_certobj co;
	struct pv_why why = { { 0 } };

	cr_assert(buf_out_alloc(&o, 64, 1 << 16));
	cr_assert_eq(piv_certobj_build(cert, n, false, &o, NULL), PV_OK);
	cr_assert_eq(piv_certobj_parse(o.p, o.len, &co, NULL), PV_OK);
	cr_assert_not(co.compressed);
	cr_assert_eq(piv_certobj_cert(&co, 100, &der, &dn, &why), PV_E_TOO_LONG);
	cr_assert_str_eq(why.msg, "certificate container: certificate is 2000 "
	    "bytes, more than 100");
	buf_out_cleanup(&o);
	free(cert);
}
