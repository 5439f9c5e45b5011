/*
 * test_piv.c: the PIV card edge against the scripted fake card: exact
 * command bytes, 61XX/6CXX, chaining and extended length, PIN status
 * words, APDU counts from the session stats, hostile responses, and the
 * APT and 7F49 parsers.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "apdu/tlv.h"
#include "tests/unit/apdu/piv_rig.h"

#define YK_SELECT_RSP "61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08"

/* ---- SELECT and the APT ---------------------------------------------------- */

Test(piv, select_yubikey_apt)
{
	struct rig r;
	struct piv_apt apt;

	rig_init(&r, false);
	/* OpenSC's form: the 9-byte truncated AID, Le 00. */
	fake_card_expect(r.fc, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00",
	    YK_SELECT_RSP " 90 00");
	cr_assert_eq(piv_select(&r.s, NULL, 0, &apt, &r.why), PV_OK, "%s",
	    r.why.msg);
	cr_assert(apt.present);
	cr_assert_eq(apt.aid_len, 6);
	cr_assert_arr_eq(apt.aid, "\x00\x00\x10\x00\x01\x00", 6);
	cr_assert_eq(apt.auth_rid_len, 5);
	cr_assert_arr_eq(apt.auth_rid, "\xa0\x00\x00\x03\x08", 5);
	cr_assert_not(apt.has_label || apt.has_url || apt.has_algs);
	cr_assert_eq(r.s.stats.n_apdus, 1);
	rig_done(&r);
}

Test(piv, select_full_and_derived_aid_and_not_found)
{
	static const uint8_t full[] = { PIV_AID_BYTES };
	static const uint8_t derived[] = { PIV_DERIVED_AID_BYTES };
	struct rig r;
	struct piv_apt apt;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00 00",
	    "90 00");
	fake_card_expect(r.fc, "00 A4 04 00 0B A0 00 00 03 08 00 00 20 00 01 00 00",
	    "6A 82");
	cr_assert_eq(piv_select(&r.s, full, sizeof(full), &apt, NULL), PV_OK);
	cr_assert_not(apt.present, "no APT returned");
	cr_assert_eq(piv_select(&r.s, derived, sizeof(derived), &apt, &r.why),
	    PV_E_NOT_FOUND);
	cr_assert(strncmp(r.why.msg, "SELECT: 6A82", 12) == 0, "%s", r.why.msg);
	cr_assert_eq(piv_select(&r.s, full, 4, NULL, NULL), PV_E_INVAL);
	rig_done(&r);
}

Test(piv, select_through_get_response)
{
	struct rig r;
	struct piv_apt apt;

	rig_init(&r, false);
	/* A T=0-style answer: 61 13, then GET RESPONSE for 0x13 bytes. */
	fake_card_expect(r.fc, "00 A4 04 00 05 A0 00 00 03 08 00", "61 13");
	fake_card_expect(r.fc, "00 C0 00 00 13", YK_SELECT_RSP " 90 00");
	cr_assert_eq(piv_select(&r.s, (const uint8_t *)"\xa0\x00\x00\x03\x08",
	    5, &apt, &r.why), PV_OK, "%s", r.why.msg);
	cr_assert(apt.present);
	cr_assert_eq(r.s.stats.n_apdus, 2);
	cr_assert_eq(r.s.stats.n_get_response, 1);
	rig_done(&r);
}

Test(piv, select_malformed_apt_is_named)
{
	struct rig r;
	struct piv_apt apt;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00",
	    "61 0A 4F 06 00 00 10 00 01 00 79 00 90 00");
	cr_assert_eq(piv_select(&r.s, NULL, 0, &apt, &r.why), PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "SELECT: APT: tag 79 (allocation authority) "
	    "holds no 4F RID of 1-16 bytes");
	rig_done(&r);
}

Test(piv_apt, pivapplet_style_full_template)
{
	size_t n;
	uint8_t *p = rig_unhex("61 3D 4F 0B A0 00 00 03 08 00 00 10 00 01 00 "
	    "79 07 4F 05 A0 00 00 03 08 50 0B 5069764170706C65742076 "
	    "5F50 04 68747470 AC 0C 80 01 07 80 01 11 80 01 14 06 01 00 "
	    "AC 03 80 01 03", &n);
	struct piv_apt a;
	struct pv_why why = { { 0 } };

	cr_assert_eq(piv_apt_parse(p, n, &a, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(a.aid_len, 11);
	cr_assert(a.has_label && a.label_len == 11);
	cr_assert_arr_eq(a.label, "PivApplet v", 11);
	cr_assert(a.has_url && a.url_len == 4);
	cr_assert(a.has_algs);
	cr_assert_eq(a.n_algs, 4);
	cr_assert_eq(a.algs[0], 0x07);
	cr_assert_eq(a.algs[2], 0x14);
	cr_assert_eq(a.algs[3], 0x03, "second AC template read too");
	free(p);
}

struct hexcase {
	char hex[200];
	char msg[120];
};

ParameterizedTestParameters(piv_apt, hostile)
{
	static struct hexcase c[] = {
		{ "", "APT: nothing to read" },
		{ "6F 02 4F 00", "APT: starts with tag 6F, expected 61" },
		{ "61 13 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08",
		  "APT: tag 61: length 19 runs past the end (17 bytes left)" },
		{ "61 80 4F 00 00 00", "APT: tag 61 uses the indefinite length "
		  "form 80" },
		{ "61 84 00 00 00 02 4F 00", "APT: tag 61 uses a 4-byte length (at "
		  "most 3 allowed)" },
		{ YK_SELECT_RSP " 00", "APT: 1 byte after the 61 template" },
		{ "61 09 79 07 4F 05 A0 00 00 03 08",
		  "APT: does not start with 4F (application identifier)" },
		{ "61 08 4F 06 00 00 10 00 01 00", "APT: tag 79 (allocation "
		  "authority) is missing" },
		{ "61 1A 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 "
		  "79 07 4F 05 A0 00 00 03 08", "APT: tag 79 (allocation authority) "
		  "appears twice" },
		{ "61 14 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 4F 01 00",
		  "APT: tag 4F (AID) appears twice" },
		{ "61 16 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 "
		  "AC 03 80 02 00",
		  "APT: algorithms template: tag 80: length 2 runs past the end "
		  "(1 byte left)" },
		{ "61 17 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 "
		  "AC 04 80 02 07 11",
		  "APT: algorithm identifier is 2 bytes, expected 1" },
		{ "61 0B 4F 00 79 07 4F 05 A0 00 00 03 08", "APT: AID is 0 bytes, "
		  "expected 1-16" },
		{ "61 12 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 50",
		  "APT: tag 50 has no length" },
	};

	return cr_make_param_array(struct hexcase, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct hexcase *c, piv_apt, hostile)
{
	size_t n;
	uint8_t *p = rig_unhex(c->hex, &n);
	struct piv_apt a;
	struct pv_why why = { { 0 } };

	cr_assert_eq(piv_apt_parse(p, n, &a, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, c->msg);
	cr_assert_not(a.present);
	free(p);
}

Test(piv_apt, truncation_at_every_byte)
{
	size_t n, k;
	uint8_t *p = rig_unhex(YK_SELECT_RSP, &n), *q;
	struct piv_apt a;

	cr_assert_eq(piv_apt_parse(p, n, &a, NULL), PV_OK);
	for (k = 0; k < n; k++) {
		q = malloc(k + 1);
		memcpy(q, p, k);
		cr_assert_eq(piv_apt_parse(q, k, &a, NULL), PV_E_MALFORMED,
		    "prefix %zu", k);
		free(q);
	}
	free(p);
}

/* ---- GET DATA ------------------------------------------------------------------- */

#define CHUID_YK "30 19 D4E739DA739CED39CE739D836858210842108421C84210C3EB " \
	"34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333030313031 3E 00 FE 00"

Test(piv, get_data_chuid_wire_example)
{
	struct rig r;
	struct buf_out o;
	size_t n;
	uint8_t *want = rig_unhex(CHUID_YK, &n);
	struct piv_chuid c;

	rig_init(&r, false);
	/* PIV-REFERENCE §2.2: 00 CB 3F FF 05 5C 03 5F C1 02 00. */
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 02 00",
	    "53 3B " CHUID_YK " 90 00");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_CHUID, &o, &r.why), PV_OK, "%s",
	    r.why.msg);
	cr_assert_eq(o.len, n);
	cr_assert_arr_eq(o.p, want, n);
	cr_assert_eq(piv_chuid_parse(o.p, o.len, &c, NULL), PV_OK);
	buf_out_cleanup(&o);
	free(want);
	rig_done(&r);
}

Test(piv, get_data_discovery_whole_and_errors)
{
	struct rig r;
	struct buf_out o;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 CB 3F FF 03 5C 01 7E 00",
	    "7E 12 4F 0B A0 00 00 03 08 00 00 10 00 01 00 5F 2F 02 40 00 90 00");
	fake_card_expect(r.fc, "00 CB 3F FF 04 5C 02 7F 61 00", "6A 82");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 08 00", "69 82");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 01 00", "90 00");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 0C 00",
	    "7E 02 C1 00 90 00");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 0C 00",
	    "53 02 C1 00 FE 00 90 00");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 0C 00",
	    "53 05 C1 01 00 90 00");
	cr_assert(buf_out_alloc(&o, 16, 4096));

	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_DISCOVERY, &o, NULL), PV_OK);
	cr_assert_eq(o.len, 20, "the whole 7E element");
	cr_assert_eq(o.p[0], 0x7e);
	buf_out_truncate(&o, 0);

	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_BIT_GROUP, &o, &r.why),
	    PV_E_NOT_FOUND);
	pv_why_clear(&r.why);
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_FACE, &o, &r.why), PV_E_SECURITY);
	cr_assert(strstr(r.why.msg, "GET DATA 5FC108 (cardholder facial image): "
	    "6982") == r.why.msg, "%s", r.why.msg);
	pv_why_clear(&r.why);
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_CARD_AUTH_CERT, &o, &r.why),
	    PV_E_NOT_FOUND);
	cr_assert_str_eq(r.why.msg, "GET DATA 5FC101 (Card Authentication "
	    "certificate (9E)): the card returned no data");
	pv_why_clear(&r.why);
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_KEY_HISTORY, &o, &r.why),
	    PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GET DATA 5FC10C (key history): the answer "
	    "starts with tag 7E, expected 53");
	pv_why_clear(&r.why);
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_KEY_HISTORY, &o, &r.why),
	    PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GET DATA 5FC10C (key history): 2 bytes "
	    "after the 53 element");
	pv_why_clear(&r.why);
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_KEY_HISTORY, &o, &r.why),
	    PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GET DATA 5FC10C (key history): tag 53: "
	    "length 5 runs past the end (3 bytes left)");
	cr_assert_eq(o.len, 0, "nothing appended on failure");
	buf_out_cleanup(&o);
	rig_done(&r);
}

/* A certificate object of |body| content bytes, as the card holds it. */
static uint8_t *
cert_object(size_t body, size_t *n)
{
	uint8_t *p = malloc(body + 4);
	size_t i;

	p[0] = 0x53;
	p[1] = 0x82;
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)body;
	for (i = 0; i < body; i++)
		p[4 + i] = (uint8_t)(i * 7 + 3);
	*n = body + 4;
	return p;
}

/*
 * Issue 2 "Done means": reading an object of L bytes costs 1 exchange on
 * an extended-capable card and ceil(L/256) on a short-only one.
 */
Test(piv, get_data_certificate_apdu_counts)
{
	size_t L, off, k, n_ex;
	uint8_t *obj = cert_object(1996, &L);
	char *rsp, *hx;
	struct rig r;
	struct buf_out o;

	cr_assert_eq(L, 2000);
	/* Short-only: 256 bytes + 61 00 each, the last with 90 00. */
	rig_init(&r, false);
	for (off = 0, n_ex = 0; off < L; off += 256, n_ex++) {
		k = L - off < 256 ? L - off : 256;
		hx = rig_bytes(obj + off, k);
		rsp = rig_hex("%s %s", hx, off + k < L ?
		    (L - off - k >= 256 ? "61 00" : "61 D0") : "90 00");
		fake_card_expect(r.fc, off == 0 ?
		    "00 CB 3F FF 05 5C 03 5F C1 05 00" : off + 256 < L ?
		    "00 C0 00 00 00" : "00 C0 00 00 D0", rsp);
		free(rsp);
		free(hx);
	}
	cr_assert(buf_out_alloc(&o, 16, 1 << 16));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_AUTH_CERT, &o, &r.why), PV_OK,
	    "%s", r.why.msg);
	cr_assert_eq(o.len, L - 4);
	cr_assert_arr_eq(o.p, obj + 4, L - 4);
	cr_assert_eq(r.s.stats.n_apdus, (L + 255) / 256);
	cr_assert_eq(r.s.stats.n_apdus, n_ex);
	cr_assert_eq(r.s.stats.n_get_response, n_ex - 1);
	buf_out_cleanup(&o);
	rig_done(&r);

	/* Extended: one exchange, extended Lc and Le. */
	rig_init(&r, true);
	hx = rig_bytes(obj, L);
	rsp = rig_hex("%s 90 00", hx);
	fake_card_expect(r.fc, "00 CB 3F FF 00 00 05 5C 03 5F C1 05 00 00", rsp);
	cr_assert(buf_out_alloc(&o, 16, 1 << 16));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_AUTH_CERT, &o, &r.why), PV_OK,
	    "%s", r.why.msg);
	cr_assert_eq(o.len, L - 4);
	cr_assert_eq(r.s.stats.n_apdus, 1);
	cr_assert_eq(r.s.stats.n_extended, 1);
	buf_out_cleanup(&o);
	rig_done(&r);
	free(rsp);
	free(hx);
	free(obj);
}

Test(piv, get_data_6cxx_resend)
{
	struct rig r;
	struct buf_out o;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 0C 00", "6C 08");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 0C 08",
	    "53 06 C1 01 00 C2 01 00 90 00");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_KEY_HISTORY, &o, &r.why), PV_OK,
	    "%s", r.why.msg);
	cr_assert_eq(o.len, 6);
	cr_assert_eq(r.s.stats.n_resend_6c, 1);
	cr_assert_eq(r.s.stats.n_apdus, 2);
	buf_out_cleanup(&o);
	rig_done(&r);
}

Test(piv, get_data_response_larger_than_buffer)
{
	struct rig r;
	struct buf_out o;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 02 00",
	    "53 3B " CHUID_YK " 90 00");
	cr_assert(buf_out_alloc(&o, 8, 16));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_CHUID, &o, &r.why),
	    PV_E_TOO_LONG);
	buf_out_cleanup(&o);
	rig_done(&r);
}

/* ---- PUT DATA --------------------------------------------------------------------- */

/*
 * Writing an object costs 1 exchange on an extended-capable card and
 * ceil(L/255) chained blocks on a short-only one (L = command data).
 */
Test(piv, put_data_certificate_chained_and_extended)
{
	uint8_t cert[2000], *data;
	size_t i, L, off, k, n_blocks = 0;
	struct buf_out d;
	char *hx, *cmd;
	struct rig r;

	for (i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)(i * 13);
	/* What the card must receive: 5C 03 5FC105 53 82 07D0 <content>. */
	cr_assert(buf_out_alloc(&d, 16, 1 << 16));
	tlv_put(&d, 0x5c, "\x5f\xc1\x05", 3);
	tlv_put(&d, 0x53, cert, sizeof(cert));
	data = d.p;
	L = d.len;
	cr_assert_eq(L, 2009);

	rig_init(&r, false);
	for (off = 0; off < L; off += 255, n_blocks++) {
		k = L - off < 255 ? L - off : 255;
		hx = rig_bytes(data + off, k);
		cmd = rig_hex("%s DB 3F FF %02zX %s", off + k < L ? "10" : "00",
		    k, hx);
		fake_card_expect(r.fc, cmd, "90 00");
		free(cmd);
		free(hx);
	}
	cr_assert_eq(piv_put_data(&r.s, PIV_OBJ_AUTH_CERT, cert, sizeof(cert),
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(r.s.stats.n_apdus, (L + 254) / 255);
	cr_assert_eq(r.s.stats.n_apdus, n_blocks);
	cr_assert_eq(r.s.stats.n_chained, n_blocks - 1);
	rig_done(&r);

	rig_init(&r, true);
	hx = rig_bytes(data, L);
	cmd = rig_hex("00 DB 3F FF 00 %04zX %s", L, hx);
	fake_card_expect(r.fc, cmd, "90 00");
	cr_assert_eq(piv_put_data(&r.s, PIV_OBJ_AUTH_CERT, cert, sizeof(cert),
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(r.s.stats.n_apdus, 1);
	rig_done(&r);
	free(cmd);
	free(hx);
	buf_out_cleanup(&d);
}

Test(piv, put_data_discovery_whole_and_refusals)
{
	static const uint8_t disc[] = { 0x7e, 0x12, 0x4f, 0x0b, 0xa0, 0x00,
	    0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x5f, 0x2f,
	    0x02, 0x40, 0x00 };
	struct rig r;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 DB 3F FF 14 7E 12 4F 0B A0 00 00 03 08 00 00 "
	    "10 00 01 00 5F 2F 02 40 00", "90 00");
	fake_card_expect(r.fc, "00 DB 3F FF 09 5C 03 5F C1 02 53 02 FE 00",
	    "69 82");
	cr_assert_eq(piv_put_data(&r.s, PIV_OBJ_DISCOVERY, disc, sizeof(disc),
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(piv_put_data(&r.s, PIV_OBJ_CHUID,
	    (const uint8_t *)"\xfe\x00", 2, &r.why), PV_E_SECURITY);
	/* Not one 7E element: refused before anything is sent. */
	cr_assert_eq(piv_put_data(&r.s, PIV_OBJ_DISCOVERY, disc,
	    sizeof(disc) - 1, NULL), PV_E_INVAL);
	cr_assert_eq(piv_put_data(&r.s, 0, disc, 1, NULL), PV_E_INVAL);
	rig_done(&r);
}

Test(piv, put_data_empty_object)
{
	struct rig r;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 DB 3F FF 07 5C 03 5F C1 09 53 00", "90 00");
	cr_assert_eq(piv_put_data(&r.s, PIV_OBJ_PRINTED, NULL, 0, &r.why), PV_OK,
	    "%s", r.why.msg);
	rig_done(&r);
}

/* ---- PINs -------------------------------------------------------------------------- */

Test(piv, verify_ok_wrong_blocked)
{
	struct rig r;
	int retries = 99;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 20 00 80 08 31 32 33 34 35 36 FF FF", "90 00");
	fake_card_expect(r.fc, "00 20 00 80 08 31 32 33 34 35 37 FF FF", "63 C2");
	fake_card_expect(r.fc, "00 20 00 80 08 31 32 33 34 35 37 38 39", "69 83");
	fake_card_expect(r.fc, "00 20 00 00 08 31 32 33 34 35 36 FF FF", "6A 88");
	cr_assert_eq(piv_verify(&r.s, PIV_REF_PIN, (const uint8_t *)"123456", 6,
	    &retries, &r.why), PV_OK);
	cr_assert_eq(retries, 99, "untouched on success");
	cr_assert_eq(piv_verify(&r.s, PIV_REF_PIN, (const uint8_t *)"123457", 6,
	    &retries, &r.why), PV_E_PIN_WRONG);
	cr_assert_eq(retries, 2);
	cr_assert(strncmp(r.why.msg, "VERIFY 80: 63C2", 15) == 0, "%s",
	    r.why.msg);
	cr_assert_eq(piv_verify(&r.s, PIV_REF_PIN, (const uint8_t *)"12345789", 8,
	    &retries, NULL), PV_E_BLOCKED);
	cr_assert_eq(retries, 0);
	cr_assert_eq(piv_verify(&r.s, PIV_REF_GLOBAL_PIN,
	    (const uint8_t *)"123456", 6, NULL, NULL), PV_E_NOT_FOUND);
	/* Refused before anything is sent. */
	cr_assert_eq(piv_verify(&r.s, PIV_REF_PIN, (const uint8_t *)"123456789",
	    9, NULL, NULL), PV_E_INVAL);
	cr_assert_eq(piv_verify(&r.s, PIV_REF_PIN, NULL, 0, NULL, NULL),
	    PV_E_INVAL);
	cr_assert_eq(r.s.stats.n_apdus, 4);
	rig_done(&r);
}

Test(piv, verify_status_and_logout)
{
	struct rig r;
	struct piv_pin_status st;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 20 00 80", "63 C3");
	fake_card_expect(r.fc, "00 20 00 80", "90 00");
	fake_card_expect(r.fc, "00 20 00 80", "69 83");
	fake_card_expect(r.fc, "00 20 00 80", "6A 88");
	fake_card_expect(r.fc, "00 20 FF 80", "90 00");
	cr_assert_eq(piv_verify_status(&r.s, PIV_REF_PIN, &st, NULL), PV_OK);
	cr_assert(!st.verified && !st.blocked && st.retries == 3);
	cr_assert_eq(piv_verify_status(&r.s, PIV_REF_PIN, &st, NULL), PV_OK);
	cr_assert(st.verified && !st.blocked && st.retries == -1);
	cr_assert_eq(piv_verify_status(&r.s, PIV_REF_PIN, &st, NULL), PV_OK);
	cr_assert(!st.verified && st.blocked && st.retries == 0);
	cr_assert_eq(piv_verify_status(&r.s, PIV_REF_PIN, &st, &r.why),
	    PV_E_NOT_FOUND);
	cr_assert(strncmp(r.why.msg, "VERIFY 80 (status): 6A88", 24) == 0, "%s",
	    r.why.msg);
	cr_assert_eq(piv_logout(&r.s, PIV_REF_PIN, NULL), PV_OK);
	rig_done(&r);
}

Test(piv, change_reference_and_reset_retry)
{
	struct rig r;
	int retries = -5;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 24 00 80 10 31 32 33 34 35 36 FF FF "
	    "36 35 34 33 32 31 30 FF", "90 00");
	fake_card_expect(r.fc, "00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "38 37 36 35 34 33 32 31", "63 C1");
	fake_card_expect(r.fc, "00 2C 00 80 10 31 32 33 34 35 36 37 38 "
	    "39 39 39 39 39 39 FF FF", "90 00");
	fake_card_expect(r.fc, "00 2C 00 80 10 31 32 33 34 35 36 37 38 "
	    "39 39 39 39 39 39 FF FF", "69 83");
	cr_assert_eq(piv_change_reference(&r.s, PIV_REF_PIN,
	    (const uint8_t *)"123456", 6, (const uint8_t *)"6543210", 7, NULL,
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(piv_change_reference(&r.s, PIV_REF_PUK,
	    (const uint8_t *)"12345678", 8, (const uint8_t *)"87654321", 8,
	    &retries, NULL), PV_E_PIN_WRONG);
	cr_assert_eq(retries, 1);
	cr_assert_eq(piv_reset_retry(&r.s, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"999999", 6, NULL, NULL), PV_OK);
	cr_assert_eq(piv_reset_retry(&r.s, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"999999", 6, &retries, &r.why), PV_E_BLOCKED);
	cr_assert_eq(retries, 0);
	cr_assert_eq(piv_change_reference(&r.s, PIV_REF_PIN,
	    (const uint8_t *)"123456", 6, (const uint8_t *)"", 0, NULL, NULL),
	    PV_E_INVAL);
	rig_done(&r);
}

/*
 * Tokens that count tries as 63 0X (YubiKey NEO; firmware-notes/
 * pin-sw-630x.md): for PIN and PUK commands 63 0X means "wrong, X left",
 * as 63 CX does; 63 00 stays "failed, no counter"; other commands keep
 * 63 0X as a plain warning.
 */
Test(piv, pin_commands_read_630x_tries)
{
	struct piv_pin_status st;
	struct buf_out o;
	struct rig r;
	int retries = 99;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 20 00 80 08 31 32 33 34 35 37 FF FF", "63 02");
	fake_card_expect(r.fc, "00 20 00 80", "63 01");
	fake_card_expect(r.fc, "00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "38 37 36 35 34 33 32 31", "63 02");
	fake_card_expect(r.fc, "00 2C 00 80 10 31 32 33 34 35 36 37 38 "
	    "39 39 39 39 39 39 FF FF", "63 01");
	fake_card_expect(r.fc, "00 20 00 98 08 31 32 33 34 35 36 37 38", "63 00");
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 02 00", "63 02");
	cr_assert_eq(piv_verify(&r.s, PIV_REF_PIN, (const uint8_t *)"123457", 6,
	    &retries, &r.why), PV_E_PIN_WRONG);
	cr_assert_eq(retries, 2);
	cr_assert(strcmp(r.why.msg, "VERIFY 80: 6302: verification failed, 2 "
	    "tries left (63 0X form)") == 0, "%s", r.why.msg);
	cr_assert_eq(piv_verify_status(&r.s, PIV_REF_PIN, &st, NULL), PV_OK);
	cr_assert(!st.verified && !st.blocked && st.retries == 1);
	cr_assert_eq(piv_change_reference(&r.s, PIV_REF_PUK,
	    (const uint8_t *)"12345678", 8, (const uint8_t *)"87654321", 8,
	    &retries, NULL), PV_E_PIN_WRONG);
	cr_assert_eq(retries, 2);
	memset(&r.why, 0, sizeof(r.why));
	cr_assert_eq(piv_reset_retry(&r.s, (const uint8_t *)"12345678", 8,
	    (const uint8_t *)"999999", 6, &retries, &r.why), PV_E_PIN_WRONG);
	cr_assert_eq(retries, 1);
	cr_assert(strstr(r.why.msg, "1 try left") != NULL, "%s", r.why.msg);
	cr_assert_eq(piv_verify(&r.s, 0x98, (const uint8_t *)"12345678", 8,
	    &retries, NULL), PV_E_PIN_WRONG);
	cr_assert_eq(retries, -1, "63 00: no counter");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	memset(&r.why, 0, sizeof(r.why));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_CHUID, &o, &r.why), PV_E_SW,
	    "63 02 on GET DATA is no PIN answer: %s", r.why.msg);
	buf_out_cleanup(&o);
	rig_done(&r);
}

/* ---- GENERAL AUTHENTICATE framing (crypto checks in test_piv_crypto.c) ---- */

Test(piv, ecdsa_sign_wire_example)
{
	uint8_t hash[32];
	char *hx, *cmd;
	struct rig r;
	struct buf_out o;

	memset(hash, 0xab, sizeof(hash));
	hx = rig_bytes(hash, sizeof(hash));
	/* PIV-REFERENCE §2.5: 00 87 11 9A 26 7C 24 82 00 81 20 <32> 00. */
	cmd = rig_hex("00 87 11 9A 26 7C 24 82 00 81 20 %s 00", hx);
	rig_init(&r, false);
	fake_card_expect(r.fc, cmd, "7C 0C 82 0A 30 08 02 02 00 FF 02 02 01 02 "
	    "90 00");
	/* A 48-byte hash is cut to the P-256 field size (32 bytes). */
	fake_card_expect(r.fc, cmd, "7C 0A 82 08 30 06 02 01 01 02 01 02 90 00");
	fake_card_expect(r.fc, cmd, "7C 0A 82 08 30 06 02 01 81 02 01 02 90 00");
	fake_card_expect(r.fc, cmd, "7C 0A 82 08 31 06 02 01 01 02 01 02 90 00");
	fake_card_expect(r.fc, cmd, "7C 0B 82 09 30 06 02 01 01 02 01 02 00 90 00");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P256, PIV_KEY_AUTH, hash, 32, &o,
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(o.len, 10);
	{
		uint8_t h48[48];

		memset(h48, 0xab, sizeof(h48));
		cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P256, PIV_KEY_AUTH, h48,
		    48, &o, NULL), PV_OK);
	}
	pv_why_clear(&r.why);
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P256, PIV_KEY_AUTH, hash, 32, &o,
	    &r.why), PV_E_MALFORMED, "negative r");
	cr_assert_str_eq(r.why.msg, "GENERAL AUTHENTICATE 9A (sign): the "
	    "signature is not a DER SEQUENCE of two ECC P-256-sized INTEGERs");
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P256, PIV_KEY_AUTH, hash, 32, &o,
	    NULL), PV_E_MALFORMED, "SET, not SEQUENCE");
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P256, PIV_KEY_AUTH, hash, 32, &o,
	    NULL), PV_E_MALFORMED, "trailing byte in the signature");
	cr_assert_eq(o.len, 18, "failures append nothing");
	buf_out_cleanup(&o);
	rig_done(&r);
	free(cmd);
	free(hx);
}

Test(piv, general_authenticate_bad_frames)
{
	uint8_t hash[32] = { 0 };
	char *hx, *cmd;
	struct rig r;
	struct buf_out o;

	hx = rig_bytes(hash, sizeof(hash));
	cmd = rig_hex("00 87 14 9C 26 7C 24 82 00 81 20 %s 00", hx);
	rig_init(&r, false);
	fake_card_expect(r.fc, cmd, "7D 02 82 00 90 00");
	fake_card_expect(r.fc, cmd, "7C 02 81 00 90 00");
	fake_card_expect(r.fc, cmd, "7C 03 82 00 00 90 00");
	fake_card_expect(r.fc, cmd, "7C 04 82 05 01 02 90 00");
	fake_card_expect(r.fc, cmd, "69 82");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P384, PIV_KEY_SIGN, hash, 32, &o,
	    &r.why), PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GENERAL AUTHENTICATE 9C (sign): the answer "
	    "is not 7C { 82 response }");
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P384, PIV_KEY_SIGN, hash, 32, &o,
	    NULL), PV_E_MALFORMED);
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P384, PIV_KEY_SIGN, hash, 32, &o,
	    NULL), PV_E_MALFORMED);
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P384, PIV_KEY_SIGN, hash, 32, &o,
	    NULL), PV_E_MALFORMED);
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_ECC_P384, PIV_KEY_SIGN, hash, 32, &o,
	    NULL), PV_E_SECURITY, "PIN not verified");
	/* Refused before sending: wrong RSA length, symmetric algorithm. */
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_RSA2048, PIV_KEY_SIGN, hash, 32, &o,
	    NULL), PV_E_INVAL);
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_AES128, PIV_KEY_SIGN, hash, 32, &o,
	    NULL), PV_E_INVAL);
	cr_assert_eq(piv_decrypt(&r.s, PIV_ALG_ECC_P256, PIV_KEY_KEYMGMT, hash,
	    32, &o, NULL), PV_E_INVAL);
	cr_assert_eq(piv_ecdh(&r.s, PIV_ALG_ECC_P256, PIV_KEY_KEYMGMT, hash, 32,
	    &o, NULL), PV_E_INVAL);
	cr_assert_eq(o.len, 0);
	buf_out_cleanup(&o);
	rig_done(&r);
	free(cmd);
	free(hx);
}

/*
 * RSA-2048 on a short-only card: the 266-byte template goes in two
 * chained blocks, and the 264-byte answer comes as 256 bytes + 61 08 and
 * a GET RESPONSE for the last 8 (SP 800-73-4 Part 2 Table 20).
 */
Test(piv, rsa_sign_chaining_and_61xx)
{
	uint8_t blk[256], sig[256], full[266];
	char *b1, *b2, *c1, *c2, *s1, *s2, *r1, *r2;
	struct rig r;
	struct buf_out o;
	size_t i;

	for (i = 0; i < 256; i++) {
		blk[i] = (uint8_t)i;
		sig[i] = (uint8_t)(255 - i);
	}
	memcpy(full, "\x7c\x82\x01\x06\x82\x00\x81\x82\x01\x00", 10);
	memcpy(full + 10, blk, 256);
	b1 = rig_bytes(full, 255);
	b2 = rig_bytes(full + 255, 11);
	c1 = rig_hex("10 87 07 9A FF %s", b1);
	c2 = rig_hex("00 87 07 9A 0B %s 00", b2);
	s1 = rig_bytes(sig, 248);
	s2 = rig_bytes(sig + 248, 8);
	r1 = rig_hex("7C 82 01 04 82 82 01 00 %s 61 08", s1);
	r2 = rig_hex("%s 90 00", s2);
	rig_init(&r, false);
	fake_card_expect(r.fc, c1, "90 00");
	fake_card_expect(r.fc, c2, r1);
	fake_card_expect(r.fc, "00 C0 00 00 08", r2);
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_RSA2048, PIV_KEY_AUTH, blk, 256, &o,
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(o.len, 256);
	cr_assert_arr_eq(o.p, sig, 256);
	cr_assert_eq(r.s.stats.n_apdus, 3);
	cr_assert_eq(r.s.stats.n_chained, 1);
	cr_assert_eq(r.s.stats.n_get_response, 1);
	buf_out_cleanup(&o);
	rig_done(&r);
	free(b1); free(b2); free(c1); free(c2);
	free(s1); free(s2); free(r1); free(r2);
}

Test(piv, rsa_short_answer_is_left_padded)
{
	uint8_t blk[128] = { 0 };
	char *hx, *cmd;
	struct rig r;
	struct buf_out o;

	hx = rig_bytes(blk, sizeof(blk));
	cmd = rig_hex("00 87 06 9D 88 7C 81 85 82 00 81 81 80 %s 00", hx);
	rig_init(&r, false);
	fake_card_expect(r.fc, cmd, "7C 05 82 03 01 02 03 90 00");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_decrypt(&r.s, PIV_ALG_RSA1024, PIV_KEY_KEYMGMT, blk,
	    sizeof(blk), &o, &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(o.len, 128);
	cr_assert_eq(o.p[0], 0);
	cr_assert_eq(o.p[127], 3);
	cr_assert_eq(o.p[125], 1);
	buf_out_cleanup(&o);
	rig_done(&r);
	free(cmd);
	free(hx);
}

/* ---- GENERATE ---------------------------------------------------------------------------- */

Test(piv, generate_ec_with_policies_sdk_example)
{
	uint8_t pt[65];
	char *hx, *rsp;
	struct rig r;
	struct piv_pubkey pk;
	size_t i;

	pt[0] = 0x04;
	for (i = 1; i < 65; i++)
		pt[i] = (uint8_t)i;
	hx = rig_bytes(pt, sizeof(pt));
	rsp = rig_hex("7F 49 43 86 41 %s 90 00", hx);
	rig_init(&r, false);
	/* Yubico SDK: 00 47 00 9C 0B AC 09 80 01 11 AA 01 02 AB 01 02 (+ Le). */
	fake_card_expect(r.fc, "00 47 00 9C 0B AC 09 80 01 11 AA 01 02 AB 01 02 00",
	    rsp);
	fake_card_expect(r.fc, "00 47 00 9A 05 AC 03 80 01 11 00", rsp);
	fake_card_expect(r.fc, "00 47 00 9A 05 AC 03 80 01 14 00", rsp);
	fake_card_expect(r.fc, "00 47 00 9A 05 AC 03 80 01 11 00", "6A 80");
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_SIGN, PIV_ALG_ECC_P256,
	    PIV_PINPOL_ONCE, PIV_TOUCH_ALWAYS, &pk, &r.why), PV_OK, "%s",
	    r.why.msg);
	cr_assert_eq(pk.alg, PIV_ALG_ECC_P256);
	cr_assert_eq(pk.point_len, 65);
	cr_assert_arr_eq(pk.point, pt, 65);
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P256,
	    PIV_PINPOL_DEFAULT, PIV_TOUCH_DEFAULT, &pk, NULL), PV_OK);
	pv_why_clear(&r.why);
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P384,
	    PIV_PINPOL_DEFAULT, PIV_TOUCH_DEFAULT, &pk, &r.why), PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GENERATE 9A (ECC P-384): public key: ECC "
	    "P-384 point is 65 bytes, expected 97");
	cr_assert_eq(pk.point_len, 0, "cleared on failure");
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P256,
	    PIV_PINPOL_DEFAULT, PIV_TOUCH_DEFAULT, &pk, NULL), PV_E_BAD_DATA);
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_AUTH, PIV_ALG_AES128, 0, 0, &pk,
	    NULL), PV_E_INVAL);
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P256, 9, 0, &pk,
	    NULL), PV_E_INVAL);
	rig_done(&r);
	free(rsp);
	free(hx);
}

Test(piv, generate_rsa_through_get_response)
{
	uint8_t mod[256];
	struct buf_out full;
	struct piv_pubkey pk, want;
	char *h1, *h2, *r1, *r2;
	struct rig r;
	size_t i;

	for (i = 0; i < 256; i++)
		mod[i] = (uint8_t)(0x80 | i);
	memset(&want, 0, sizeof(want));
	want.alg = PIV_ALG_RSA2048;
	memcpy(want.modulus, mod, 256);
	want.modulus_len = 256;
	memcpy(want.exponent, "\x01\x00\x01", 3);
	want.exponent_len = 3;
	cr_assert(buf_out_alloc(&full, 16, 4096));
	cr_assert_eq(piv_pubkey_build(&want, &full, NULL), PV_OK);
	cr_assert_eq(full.len, 5 + 4 + 256 + 5);
	h1 = rig_bytes(full.p, 256);
	h2 = rig_bytes(full.p + 256, full.len - 256);
	r1 = rig_hex("%s 61 %02zX", h1, full.len - 256);
	r2 = rig_hex("%s 90 00", h2);
	rig_init(&r, false);
	fake_card_expect(r.fc, "00 47 00 9D 05 AC 03 80 01 07 00", r1);
	fake_card_expect(r.fc, "00 C0 00 00 0E", r2);
	cr_assert_eq(piv_generate(&r.s, PIV_KEY_KEYMGMT, PIV_ALG_RSA2048, 0, 0,
	    &pk, &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(pk.modulus_len, 256);
	cr_assert_arr_eq(pk.modulus, mod, 256);
	cr_assert_eq(pk.exponent_len, 3);
	cr_assert_eq(r.s.stats.n_apdus, 2);
	rig_done(&r);
	buf_out_cleanup(&full);
	free(h1); free(h2); free(r1); free(r2);
}

/* ---- 7F49 parser ---------------------------------------------------------------------------- */

struct pkcase {
	int alg;
	char hex[120];
	int err;
	char msg[120];
};

ParameterizedTestParameters(piv_pubkey, hostile)
{
	static struct pkcase c[] = {
		{ 0x11, "", PV_E_MALFORMED, "public key: nothing to read" },
		{ 0x11, "7F 48 02 86 00", PV_E_MALFORMED, "public key: starts with "
		  "tag 7F48, expected 7F49" },
		{ 0x11, "7F 49 03 86 01 04", PV_E_MALFORMED, "public key: ECC P-256 "
		  "point is 1 byte, expected 65" },
		{ 0x11, "7F 49 05 86 01 04", PV_E_MALFORMED, "public key: tag 7F49: "
		  "length 5 runs past the end (3 bytes left)" },
		{ 0x11, "7F 49 80 86 01 04 00 00", PV_E_MALFORMED, "public key: tag "
		  "7F49 uses the indefinite length form 80" },
		{ 0x11, "7F 49 84 00 00 00 03 86 01 04", PV_E_MALFORMED, "public "
		  "key: tag 7F49 uses a 4-byte length (at most 3 allowed)" },
		{ 0x11, "7F 49 03 86 01 04 00", PV_E_MALFORMED, "public key: 1 byte "
		  "after the 7F49 template" },
		{ 0x11, "7F 49 03 81 01 04", PV_E_MALFORMED, "public key: ECC P-256 "
		  "key is not an 86 (point) element" },
		{ 0xe0, "7F 49 02 86 00", PV_E_MALFORMED, "public key: Ed25519 point "
		  "is 0 bytes, expected 32" },
		{ 0x06, "7F 49 03 82 01 03", PV_E_MALFORMED, "public key: RSA 1024 "
		  "key does not start with 81 (modulus)" },
		{ 0x06, "7F 49 03 81 01 03", PV_E_MALFORMED, "public key: RSA 1024 "
		  "modulus is not followed by 82 (exponent)" },
		{ 0x06, "7F 49 06 81 01 03 82 01 03", PV_E_MALFORMED, "public key: "
		  "RSA 1024 modulus is 1 byte, expected 128" },
		{ 0x9b, "7F 49 02 86 00", PV_E_INVAL, "public key: algorithm 9B has "
		  "no public key" },
		{ 0x03, "7F 49 02 86 00", PV_E_INVAL, "public key: algorithm 03 has "
		  "no public key" },
	};

	return cr_make_param_array(struct pkcase, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct pkcase *c, piv_pubkey, hostile)
{
	size_t n;
	uint8_t *p = rig_unhex(c->hex, &n);
	struct piv_pubkey pk;
	struct pv_why why = { { 0 } };

	cr_assert_eq(piv_pubkey_parse((uint8_t)c->alg, p, n, &pk, &why),
	    (enum pv_err)c->err, "%s", why.msg);
	cr_assert_str_eq(why.msg, c->msg);
	free(p);
}

Test(piv_pubkey, rsa_exponent_rules_and_zero_stripping)
{
	uint8_t buf[300];
	struct piv_pubkey pk;
	struct pv_why why;
	size_t i, n;

	/* 7F49 82 01 0B | 81 82 01 01 00 <128 bytes> ... wrong: build 1024. */
	n = 0;
	buf[n++] = 0x7f; buf[n++] = 0x49; buf[n++] = 0x81; buf[n++] = 0;
	buf[n++] = 0x81; buf[n++] = 0x81; buf[n++] = 129;
	buf[n++] = 0x00;	/* a sign byte: stripped */
	for (i = 0; i < 128; i++)
		buf[n++] = (uint8_t)(0x80 + i);
	buf[n++] = 0x82; buf[n++] = 0x04;
	buf[n++] = 0x00; buf[n++] = 0x01; buf[n++] = 0x00; buf[n++] = 0x01;
	buf[3] = (uint8_t)(n - 4);
	cr_assert_eq(piv_pubkey_parse(PIV_ALG_RSA1024, buf, n, &pk, NULL), PV_OK);
	cr_assert_eq(pk.modulus_len, 128);
	cr_assert_eq(pk.modulus[0], 0x80);
	cr_assert_eq(pk.exponent_len, 3);
	/* Even exponent. */
	buf[n - 1] = 0x02;
	pv_why_clear(&why);
	cr_assert_eq(piv_pubkey_parse(PIV_ALG_RSA1024, buf, n, &pk, &why),
	    PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, "public key: RSA exponent is even or less "
	    "than 3");
	/* Wrong size for the algorithm. */
	buf[n - 1] = 0x01;
	cr_assert_eq(piv_pubkey_parse(PIV_ALG_RSA2048, buf, n, &pk, NULL),
	    PV_E_MALFORMED);
}

Test(piv_pubkey, truncation_at_every_byte_and_round_trip)
{
	struct piv_pubkey pk, back;
	struct buf_out o;
	size_t k, i;
	uint8_t *q;

	memset(&pk, 0, sizeof(pk));
	pk.alg = PIV_ALG_ECC_P384;
	pk.point[0] = 4;
	for (i = 1; i < 97; i++)
		pk.point[i] = (uint8_t)i;
	pk.point_len = 97;
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_pubkey_build(&pk, &o, NULL), PV_OK);
	cr_assert_eq(o.p[2], 0x63, "99 bytes: one length byte, as ykpiv "
	    "expects");
	cr_assert_eq(piv_pubkey_parse(pk.alg, o.p, o.len, &back, NULL), PV_OK);
	cr_assert_eq(memcmp(&pk, &back, sizeof(pk)), 0);
	for (k = 0; k < o.len; k++) {
		q = malloc(k + 1);
		memcpy(q, o.p, k);
		cr_assert_neq(piv_pubkey_parse(pk.alg, q, k, &back, NULL), PV_OK);
		free(q);
	}
	/* Building what we would not parse is refused. */
	pk.point[0] = 3;
	buf_out_truncate(&o, 0);
	cr_assert_eq(piv_pubkey_build(&pk, &o, NULL), PV_E_INPUT);
	cr_assert_eq(o.len, 0);
	buf_out_cleanup(&o);
}

/* ---- failure sweep ------------------------------------------------------------------------ */

/*
 * STYLE §8: a select + read flow with exchange k failing, for every k:
 * each call either succeeds or returns the transport error, cleanly.
 */
Test(piv, failure_sweep_select_and_read)
{
	size_t k;

	for (k = 1; k <= 4; k++) {
		struct rig r;
		struct buf_out o;
		struct piv_apt apt;
		enum pv_err e1, e2;

		rig_init(&r, false);
		fake_card_expect(r.fc, "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00",
		    YK_SELECT_RSP " 61 00");
		fake_card_expect(r.fc, "00 C0 00 00 00", "90 00");
		fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 02 00",
		    "53 3B " CHUID_YK " 61 02");
		fake_card_expect(r.fc, "00 C0 00 00 02", "90 00");
		fake_card_fail_at(r.fc, k, PV_E_NO_CARD);
		cr_assert(buf_out_alloc(&o, 16, 4096));
		e1 = piv_select(&r.s, NULL, 0, &apt, NULL);
		e2 = piv_get_data(&r.s, PIV_OBJ_CHUID, &o, NULL);
		cr_assert_eq(e1, k <= 2 ? PV_E_NO_CARD : PV_OK, "k=%zu", k);
		if (k <= 2)
			cr_assert_not(apt.present);
		/*
		 * k = 1: the GET DATA meets the script's GET RESPONSE (the
		 * fake card calls that a transport failure); k = 2: the
		 * script lines up again and the read works; k = 3, 4: the
		 * read itself loses the card.
		 */
		cr_assert_eq(e2, k == 1 ? PV_E_TRANSPORT : k == 2 ? PV_OK :
		    PV_E_NO_CARD, "k=%zu: %s", k, pv_errname(e2));
		cr_assert_eq(o.len, k == 2 ? 59u : 0u, "k=%zu", k);
		buf_out_cleanup(&o);
		fake_card_free(r.fc);
	}
}

/* T=0: case 4 goes without Le and the card answers 61XX (ISO 7816-3). */
Test(piv, get_data_under_t0)
{
	struct rig r;
	struct buf_out o;

	rig_init(&r, false);
	r.s.caps.t0 = true;
	fake_card_expect(r.fc, "00 CB 3F FF 05 5C 03 5F C1 02", "61 3D");
	fake_card_expect(r.fc, "00 C0 00 00 3D", "53 3B " CHUID_YK " 90 00");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_get_data(&r.s, PIV_OBJ_CHUID, &o, &r.why), PV_OK, "%s",
	    r.why.msg);
	cr_assert_eq(o.len, 59);
	cr_assert_eq(r.s.stats.n_apdus, 2);
	buf_out_cleanup(&o);
	rig_done(&r);
}
