/*
 * test_piv_yk.c: YubiKey PIV extensions against the scripted fake card:
 * exact command bytes, metadata parsing (and its hostile cases), the 9B
 * algorithm probe, key import framing (checked against OpenSSL's own
 * numbers of the key), attestation, and the refusals.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "apdu/piv_pkey.h"
#include "apdu/piv_yk.h"
#include "apdu/tlv.h"
#include "tests/unit/apdu/piv_rig.h"

Test(piv_yk, version_and_serial)
{
	struct rig r;
	struct piv_yk_version v;
	uint32_t serial;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 FD 00 00 00", "05 04 03 90 00");
	fake_card_expect(r.fc, "00 F8 00 00 00", "00 BC 61 4E 90 00");
	fake_card_expect(r.fc, "00 FD 00 00 00", "05 04 90 00");
	fake_card_expect(r.fc, "00 F8 00 00 00", "6D 00");
	cr_assert_eq(piv_yk_get_version(&r.s, &v, &r.why), PV_OK, "%s", r.why.msg);
	cr_assert(v.major == 5 && v.minor == 4 && v.patch == 3);
	cr_assert(piv_yk_version_ge(&v, 5, 4, 3));
	cr_assert(piv_yk_version_ge(&v, 5, 3, 9));
	cr_assert(piv_yk_version_ge(&v, 4, 9, 9));
	cr_assert_not(piv_yk_version_ge(&v, 5, 4, 4));
	cr_assert_not(piv_yk_version_ge(&v, 5, 7, 0));
	cr_assert_eq(piv_yk_get_serial(&r.s, &serial, NULL), PV_OK);
	cr_assert_eq(serial, 12345678);
	cr_assert_eq(piv_yk_get_version(&r.s, &v, &r.why), PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GET VERSION: the answer is 2 bytes, "
	    "expected 3");
	cr_assert_eq(piv_yk_get_serial(&r.s, &serial, NULL), PV_E_NOT_SUPPORTED,
	    "a plain card has no F8");
	rig_done(&r);
}

Test(piv_yk, metadata_of_a_generated_p256_key)
{
	uint8_t pt[65];
	char *hx, *rsp;
	struct rig r;
	struct piv_yk_metadata md;
	size_t i;

	pt[0] = 4;
	for (i = 1; i < 65; i++)
		pt[i] = (uint8_t)(i * 3);
	hx = rig_bytes(pt, sizeof(pt));
	rsp = rig_hex("01 01 11 02 02 02 01 03 01 01 04 43 86 41 %s 90 00", hx);
	rig_init(&r, false);
	fake_card_expect(r.fc, "00 F7 00 9A 00", rsp);
	cr_assert_eq(piv_yk_get_metadata(&r.s, PIV_KEY_AUTH, &md, &r.why), PV_OK,
	    "%s", r.why.msg);
	cr_assert(md.has_alg && md.alg == PIV_ALG_ECC_P256);
	cr_assert(md.has_policy && md.pin_policy == PIV_PINPOL_ONCE &&
	    md.touch_policy == PIV_TOUCH_NEVER);
	cr_assert(md.has_origin && md.origin == PIV_YK_ORIGIN_GENERATED);
	cr_assert(md.has_pubkey && md.pubkey.point_len == 65);
	cr_assert_arr_eq(md.pubkey.point, pt, 65);
	cr_assert_not(md.has_default || md.has_retries);
	rig_done(&r);
	free(rsp);
	free(hx);
}

Test(piv_yk, metadata_of_pin_and_mgmt_key)
{
	struct rig r;
	struct piv_yk_metadata md;
	uint8_t alg;
	bool dflt;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 F7 00 80 00",
	    "01 01 FF 02 02 00 00 05 01 01 06 02 03 02 90 00");
	fake_card_expect(r.fc, "00 F7 00 9B 00",
	    "01 01 0A 02 02 00 01 05 01 01 90 00");
	fake_card_expect(r.fc, "00 F7 00 9B 00", "01 01 03 02 02 00 01 90 00");
	cr_assert_eq(piv_yk_get_metadata(&r.s, PIV_REF_PIN, &md, NULL), PV_OK);
	cr_assert_eq(md.alg, PIV_YK_ALG_PIN);
	cr_assert(md.has_default && md.is_default);
	cr_assert(md.has_retries && md.retries_total == 3 &&
	    md.retries_left == 2);
	/* 5.7: AES-192 default key. */
	cr_assert_eq(piv_yk_mgmt_alg(&r.s, &alg, &dflt, &r.why), PV_OK, "%s",
	    r.why.msg);
	cr_assert_eq(alg, PIV_ALG_AES192);
	cr_assert(dflt);
	/* No 05: "not default" is all we can say. */
	cr_assert_eq(piv_yk_mgmt_alg(&r.s, &alg, &dflt, NULL), PV_OK);
	cr_assert_eq(alg, PIV_ALG_3DES);
	cr_assert_not(dflt);
	rig_done(&r);
}

Test(piv_yk, mgmt_alg_unknown_on_old_tokens_and_plain_cards)
{
	struct rig r;
	uint8_t alg = 0x42;
	bool dflt = true;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 F7 00 9B 00", "6D 00");
	fake_card_expect(r.fc, "00 F7 00 9B 00", "6A 88");
	fake_card_expect(r.fc, "00 F7 00 9B 00", "69 82");
	fake_card_expect(r.fc, "00 F7 00 9B 00", "01 01 11 90 00");
	cr_assert_eq(piv_yk_mgmt_alg(&r.s, &alg, &dflt, &r.why),
	    PV_E_NOT_SUPPORTED);
	cr_assert(strstr(r.why.msg, "GET METADATA 9B: 6D00") == r.why.msg,
	    "%s", r.why.msg);
	cr_assert(strstr(r.why.msg, "does not report its management key "
	    "algorithm") != NULL, "%s", r.why.msg);
	cr_assert_eq(alg, 0);
	cr_assert_not(dflt);
	cr_assert_eq(piv_yk_mgmt_alg(&r.s, &alg, &dflt, NULL),
	    PV_E_NOT_SUPPORTED);
	/* Other refusals are errors, not "unknown". */
	cr_assert_eq(piv_yk_mgmt_alg(&r.s, &alg, &dflt, NULL), PV_E_SECURITY);
	pv_why_clear(&r.why);
	cr_assert_eq(piv_yk_mgmt_alg(&r.s, &alg, &dflt, &r.why), PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GET METADATA 9B: algorithm ECC P-256 is "
	    "not a management key algorithm");
	rig_done(&r);
}

struct hexcase {
	char hex[160];
	char msg[120];
};

ParameterizedTestParameters(piv_yk, metadata_hostile)
{
	static struct hexcase c[] = {
		{ "", "metadata: the answer is empty" },
		{ "01 01 11 01 01 11", "metadata: tag 01 appears twice" },
		{ "01 02 11 00", "metadata: algorithm is 2 bytes, expected 1" },
		{ "02 01 00", "metadata: policy is 1 byte, expected 2" },
		{ "03 01 03", "metadata: origin 03 is neither 01 (generated) nor "
		  "02 (imported)" },
		{ "05 01 02", "metadata: default flag is 02, expected 00 or 01" },
		{ "06 02 03 04", "metadata: 4 retries left of 3" },
		{ "04 03 86 01 04", "metadata: public key (04) without an "
		  "algorithm (01)" },
		{ "01 01 11 04 03 86 01 04", "metadata: public key: ECC P-256 "
		  "point is 1 byte, expected 65" },
		{ "01 01 11 04 05 86 01 04", "metadata: tag 04: length 5 runs past "
		  "the end (3 bytes left)" },
		{ "01 80 11 00 00", "metadata: tag 01 uses the indefinite length "
		  "form 80" },
		{ "01 84 00 00 00 01 11", "metadata: tag 01 uses a 4-byte length "
		  "(at most 3 allowed)" },
		{ "01 01", "metadata: tag 01: length 1 runs past the end (0 bytes "
		  "left)" },
	};

	return cr_make_param_array(struct hexcase, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct hexcase *c, piv_yk, metadata_hostile)
{
	size_t n;
	uint8_t *p = rig_unhex(c->hex, &n);
	struct piv_yk_metadata md;
	struct pv_why why = { { 0 } };

	cr_assert_eq(piv_yk_metadata_parse(p, n, &md, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, c->msg);
	cr_assert_not(md.has_alg);
	free(p);
}

Test(piv_yk, metadata_skips_biometric_tags_and_truncation_fails)
{
	size_t n, k;
	uint8_t *p = rig_unhex("01 01 FF 05 01 00 06 02 08 08 07 01 01 08 01 00",
	    &n), *q;
	struct piv_yk_metadata md;

	cr_assert_eq(piv_yk_metadata_parse(p, n, &md, NULL), PV_OK);
	cr_assert(md.has_retries && md.retries_left == 8);
	/* Every cut inside an element fails; cuts between elements are a
	 * shorter valid answer. */
	for (k = 1; k < n; k++) {
		bool boundary = k == 3 || k == 6 || k == 10 || k == 13;

		q = malloc(k);
		memcpy(q, p, k);
		cr_assert_eq(piv_yk_metadata_parse(q, k, &md, NULL) == PV_OK,
		    boundary, "prefix %zu", k);
		free(q);
	}
	free(p);
}

/* ---- IMPORT KEY ---------------------------------------------------------------- */

/* Collects the data of a (possibly chained) IMPORT command. */
struct catcher {
	uint8_t data[4096];
	size_t len;
	uint8_t p1, p2;
	size_t calls;
};

static enum pv_err
catch_xfer(void *arg, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct catcher *c = arg;
	size_t lc, off;

	(void)rsp_cap;
	c->calls++;
	cr_assert_eq(cmd[1], 0xfe);
	if (cmd[4] == 0) {
		lc = (size_t)cmd[5] << 8 | cmd[6];
		off = 7;
	} else {
		lc = cmd[4];
		off = 5;
	}
	cr_assert_eq(cmd_len, off + lc, "IMPORT carries no Le");
	memcpy(c->data + c->len, cmd + off, lc);
	c->len += lc;
	c->p1 = cmd[2];
	c->p2 = cmd[3];
	rsp[0] = 0x90;
	rsp[1] = 0x00;
	*rsp_len = 2;
	return PV_OK;
}

static void
check_bn(const EVP_PKEY *k, const char *name, struct buf_cur v)
{
	BIGNUM *bn = NULL, *got;

	cr_assert(EVP_PKEY_get_bn_param(k, name, &bn) == 1);
	got = BN_bin2bn(v.p, (int)v.len, NULL);
	cr_assert_eq(BN_cmp(bn, got), 0, "component %s differs", name);
	BN_free(bn);
	BN_free(got);
}

static void
import_rsa(bool extended, size_t want_calls)
{
	static const char *const names[5] = {
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct catcher *c = calloc(1, sizeof(*c));
	struct rig r;
	struct buf_cur in, v;
	uint32_t tag;
	size_t i;

	cr_assert_not_null(k);
	rig_init(&r, extended);
	for (i = 0; i < want_calls; i++)
		fake_card_expect_fn(r.fc, catch_xfer, c);
	cr_assert_eq(piv_yk_import_evp(&r.s, PIV_KEY_KEYMGMT, k,
	    PIV_PINPOL_ONCE, PIV_TOUCH_NEVER, &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(c->calls, want_calls);
	cr_assert_eq(c->p1, PIV_ALG_RSA2048);
	cr_assert_eq(c->p2, PIV_KEY_KEYMGMT);
	/* 01..05 each exactly 128 bytes, then AA 01 02, AB 01 01. */
	buf_cur_init(&in, c->data, c->len);
	for (i = 0; i < 5; i++) {
		cr_assert(tlv_get(&in, (uint32_t)(i + 1), &v), "tag %zu", i + 1);
		cr_assert_eq(v.len, 128);
		check_bn(k, names[i], v);
	}
	cr_assert(tlv_get(&in, 0xaa, &v) && v.len == 1 && v.p[0] == 2);
	cr_assert(tlv_get(&in, 0xab, &v) && v.len == 1 && v.p[0] == 1);
	cr_assert(buf_done(&in));
	cr_assert_eq(c->len, 5 * 131 + 6);
	rig_done(&r);
	(void)tag;
	EVP_PKEY_free(k);
	free(c);
}

/* 661 bytes: three chained blocks on a short-only card, one extended. */
Test(piv_yk, import_rsa2048_from_evp_short, .timeout = 60)
{
	import_rsa(false, 3);
}

Test(piv_yk, import_rsa2048_from_evp_extended, .timeout = 60)
{
	import_rsa(true, 1);
}

Test(piv_yk, import_ec_exact_bytes)
{
	uint8_t d[32];
	char *hx, *cmd;
	struct rig r;
	size_t i;

	for (i = 0; i < 32; i++)
		d[i] = (uint8_t)(i + 1);
	hx = rig_bytes(d, 32);
	cmd = rig_hex("00 FE 11 9A 28 06 20 %s AA 01 02 AB 01 01", hx);
	rig_init(&r, false);
	fake_card_expect(r.fc, cmd, "90 00");
	/* A scalar with a leading zero byte dropped is padded back. */
	fake_card_expect(r.fc, "00 FE 11 9E 22 06 20 00 02 03 04 05 06 07 08 09 0A "
	    "0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 20",
	    "69 82");
	cr_assert_eq(piv_yk_import_ec(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P256, d, 32,
	    PIV_PINPOL_ONCE, PIV_TOUCH_NEVER, &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(piv_yk_import_ec(&r.s, PIV_KEY_CARD_AUTH, PIV_ALG_ECC_P256,
	    d + 1, 31, 0, 0, &r.why), PV_E_SECURITY);
	/* Refused before sending. */
	cr_assert_eq(piv_yk_import_ec(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P256, d, 33,
	    0, 0, NULL), PV_E_INVAL);
	cr_assert_eq(piv_yk_import_ec(&r.s, PIV_KEY_AUTH, PIV_ALG_RSA2048, d, 32,
	    0, 0, NULL), PV_E_INVAL);
	cr_assert_eq(piv_yk_import_ec(&r.s, PIV_KEY_AUTH, PIV_ALG_ED25519, d, 31,
	    0, 0, NULL), PV_E_INVAL);
	rig_done(&r);
	free(cmd);
	free(hx);
}

Test(piv_yk, import_p384_from_evp)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	struct catcher *c = calloc(1, sizeof(*c));
	struct rig r;
	struct buf_cur in, v;

	rig_init(&r, false);
	fake_card_expect_fn(r.fc, catch_xfer, c);
	cr_assert_eq(piv_yk_import_evp(&r.s, PIV_KEY_SIGN, k, 0, 0, &r.why),
	    PV_OK, "%s", r.why.msg);
	cr_assert_eq(c->p1, PIV_ALG_ECC_P384);
	buf_cur_init(&in, c->data, c->len);
	cr_assert(tlv_get(&in, 0x06, &v) && v.len == 48);
	check_bn(k, OSSL_PKEY_PARAM_PRIV_KEY, v);
	cr_assert(buf_done(&in), "no policy tags when both are default");
	rig_done(&r);
	EVP_PKEY_free(k);
	free(c);
}

Test(piv_yk, import_rsa_component_too_long)
{
	uint8_t big[65], ok[64];
	const uint8_t *comp[5] = { ok, ok, ok, ok, big };
	size_t len[5] = { 64, 64, 64, 64, 65 };
	struct rig r;

	memset(big, 0x11, sizeof(big));
	memset(ok, 0x22, sizeof(ok));
	rig_init(&r, false);
	cr_assert_eq(piv_yk_import_rsa(&r.s, PIV_KEY_AUTH, PIV_ALG_RSA1024, comp,
	    len, 0, 0, &r.why), PV_E_INVAL);
	cr_assert_str_eq(r.why.msg, "IMPORT KEY 9A: RSA component qInv is "
	    "longer than 64 bytes");
	cr_assert_eq(piv_yk_import_rsa(&r.s, PIV_KEY_AUTH, PIV_ALG_ECC_P256, comp,
	    len, 0, 0, NULL), PV_E_INVAL);
	cr_assert_eq(fake_card_count(r.fc), 0);
	rig_done(&r);
}

/* ---- the rest ----------------------------------------------------------------------- */

Test(piv_yk, attest)
{
	struct rig r;
	struct buf_out o;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 F9 9A 00 00", "30 03 02 01 05 90 00");
	fake_card_expect(r.fc, "00 F9 9C 00 00", "31 03 02 01 05 90 00");
	fake_card_expect(r.fc, "00 F9 9D 00 00", "30 03 02 01 05 00 90 00");
	fake_card_expect(r.fc, "00 F9 9E 00 00", "6A 80");
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_yk_attest(&r.s, PIV_KEY_AUTH, &o, &r.why), PV_OK, "%s",
	    r.why.msg);
	cr_assert_eq(o.len, 5);
	cr_assert_eq(piv_yk_attest(&r.s, PIV_KEY_SIGN, &o, &r.why),
	    PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "ATTEST 9C: the answer is not one DER "
	    "certificate");
	cr_assert_eq(piv_yk_attest(&r.s, PIV_KEY_KEYMGMT, &o, NULL),
	    PV_E_MALFORMED);
	cr_assert_eq(piv_yk_attest(&r.s, PIV_KEY_CARD_AUTH, &o, NULL),
	    PV_E_BAD_DATA, "no key in the slot");
	cr_assert_eq(o.len, 5);
	buf_out_cleanup(&o);
	rig_done(&r);
}

Test(piv_yk, set_management_key)
{
	static const uint8_t k24[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6,
	    7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t k32[32];
	struct rig r;

	memset(k32, 0xa5, sizeof(k32));
	rig_init(&r, false);
	fake_card_expect(r.fc, "00 FF FF FF 1B 03 9B 18 "
	    "010203040506070801020304050607080102030405060708", "90 00");
	fake_card_expect(r.fc, "00 FF FF FE 23 0C 9B 20 "
	    "A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5",
	    "69 82");
	cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_3DES, k24, 24, false,
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_AES256, k32, 32, true,
	    NULL), PV_E_SECURITY);
	cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_AES128, k24, 24, false,
	    NULL), PV_E_INVAL);
	cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_3DES_LEGACY, k24, 24,
	    false, NULL), PV_E_INVAL);
	cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_RSA2048, k24, 24, false,
	    NULL), PV_E_INVAL);
	rig_done(&r);
}

/* Weak or semi-weak DES keys inside a 3DES key never reach the card. */
Test(piv_yk, set_management_key_refuses_weak_3des)
{
	uint8_t k[24];
	struct rig r;
	size_t pos;

	for (pos = 0; pos < 3; pos++) {
		memcpy(k, "\x0f\x0e\x0d\x0c\x0b\x0a\x09\x08\x07\x06\x05\x04"
		    "\x03\x02\x01\x00\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8", 24);
		cr_assert(!piv_yk_3des_key_weak(k));
		/* semi-weak 1F E0 1F E0 0E F1 0E F1, parity bits cleared */
		memcpy(k + 8 * pos, "\x1e\xe0\x1e\xe0\x0e\xf0\x0e\xf0", 8);
		cr_assert(piv_yk_3des_key_weak(k), "position %zu", pos);
		rig_init(&r, false);
		cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_3DES, k, 24,
		    false, &r.why), PV_E_INVAL);
		cr_assert_str_eq(r.why.msg, "SET MANAGEMENT KEY: the 3DES key "
		    "contains a weak or semi-weak DES key");
		cr_assert_eq(r.s.stats.n_apdus, 0);
		rig_done(&r);
	}
	memset(k, 0xfe, sizeof(k));
	cr_assert(piv_yk_3des_key_weak(k), "all FE");
	memset(k, 0x01, sizeof(k));
	cr_assert(piv_yk_3des_key_weak(k), "all 01");
	/* An AES-192 key may be anything. */
	rig_init(&r, false);
	fake_card_expect(r.fc, "00 FF FF FF 1B 0A 9B 18 "
	    "010101010101010101010101010101010101010101010101", "90 00");
	cr_assert_eq(piv_yk_set_mgmt_key(&r.s, PIV_ALG_AES192, k, 24, false,
	    &r.why), PV_OK, "%s", r.why.msg);
	rig_done(&r);
}

Test(piv_yk, retries_reset_move)
{
	struct rig r;

	rig_init(&r, false);
	fake_card_expect(r.fc, "00 FA 05 03", "90 00");
	fake_card_expect(r.fc, "00 FB 00 00", "69 85");
	fake_card_expect(r.fc, "00 FB 00 00", "90 00");
	fake_card_expect(r.fc, "00 F6 82 9A", "90 00");
	fake_card_expect(r.fc, "00 F6 FF 9D", "6D 00");
	cr_assert_eq(piv_yk_set_pin_retries(&r.s, 5, 3, NULL), PV_OK);
	cr_assert_eq(piv_yk_set_pin_retries(&r.s, 0, 3, NULL), PV_E_INVAL);
	cr_assert_eq(piv_yk_reset(&r.s, &r.why), PV_E_CONDITIONS);
	cr_assert(strstr(r.why.msg, "the token resets only when the PIN and the "
	    "PUK are both blocked") != NULL, "%s", r.why.msg);
	cr_assert_eq(piv_yk_reset(&r.s, NULL), PV_OK);
	cr_assert_eq(piv_yk_move_key(&r.s, PIV_KEY_AUTH, 0x82, NULL), PV_OK);
	pv_why_clear(&r.why);
	cr_assert_eq(piv_yk_move_key(&r.s, PIV_KEY_KEYMGMT, PIV_YK_DELETE,
	    &r.why), PV_E_NOT_SUPPORTED);
	cr_assert(strncmp(r.why.msg, "MOVE KEY 9D (delete): 6D00", 26) == 0,
	    "%s", r.why.msg);
	rig_done(&r);
}

#define SEL_OTP "00 A4 04 00 08 A0 00 00 05 27 20 01 01 00"
#define SEL_PIV "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00"

/* Before firmware 5 the serial comes from the OTP application, and PIV is
 * selected again whatever the OTP application answered. */
Test(piv_yk, serial_before_firmware_5)
{
	const struct piv_yk_version v4 = { 4, 3, 5 }, v5 = { 5, 7, 1 },
	    v0 = { 0, 1, 0 };
	struct rig r;
	uint32_t serial = 1;

	rig_init(&r, false);
	fake_card_expect(r.fc, SEL_OTP, "90 00");
	fake_card_expect(r.fc, "00 01 10 00 00", "00 BC 61 4E 90 00");
	fake_card_expect(r.fc, SEL_PIV, "90 00");
	cr_assert_eq(piv_yk_read_serial(&r.s, &v4, &serial, &r.why), PV_OK,
	    "%s", r.why.msg);
	cr_assert_eq(serial, 12345678);
	/* The OTP application refuses: PIV again all the same. */
	fake_card_expect(r.fc, SEL_OTP, "90 00");
	fake_card_expect(r.fc, "00 01 10 00 00", "6D 00");
	fake_card_expect(r.fc, SEL_PIV, "90 00");
	cr_assert_eq(piv_yk_read_serial(&r.s, &v4, &serial, &r.why),
	    PV_E_NOT_SUPPORTED);
	cr_assert_eq(serial, 0);
	cr_assert_not_null(strstr(r.why.msg, "OTP serial"), "%s", r.why.msg);
	/* No OTP application at all. */
	pv_why_clear(&r.why);
	fake_card_expect(r.fc, SEL_OTP, "6A 82");
	fake_card_expect(r.fc, SEL_PIV, "90 00");
	cr_assert_eq(piv_yk_read_serial(&r.s, &v4, &serial, &r.why),
	    PV_E_NOT_FOUND);
	cr_assert_not_null(strstr(r.why.msg, "SELECT of the OTP application"),
	    "%s", r.why.msg);
	/* PIV does not come back: that is what the caller must hear. */
	pv_why_clear(&r.why);
	fake_card_expect(r.fc, SEL_OTP, "90 00");
	fake_card_expect(r.fc, "00 01 10 00 00", "00 BC 61 4E 90 00");
	fake_card_expect(r.fc, SEL_PIV, "6A 82");
	cr_assert_eq(piv_yk_read_serial(&r.s, &v4, &serial, &r.why),
	    PV_E_NOT_FOUND);
	cr_assert_eq(serial, 0);
	cr_assert_not_null(strstr(r.why.msg, "SELECT of PIV after the serial"),
	    "%s", r.why.msg);
	/* A truncated serial is malformed (and PIV is selected again). */
	pv_why_clear(&r.why);
	fake_card_expect(r.fc, SEL_OTP, "90 00");
	fake_card_expect(r.fc, "00 01 10 00 00", "00 BC 61 90 00");
	fake_card_expect(r.fc, SEL_PIV, "90 00");
	cr_assert_eq(piv_yk_read_serial(&r.s, &v4, &serial, &r.why),
	    PV_E_MALFORMED);
	/* Firmware 5: GET SERIAL, nothing else. */
	fake_card_expect(r.fc, "00 F8 00 00 00", "00 BC 61 4F 90 00");
	cr_assert_eq(piv_yk_read_serial(&r.s, &v5, &serial, NULL), PV_OK);
	cr_assert_eq(serial, 12345679);
	/* Version 0 is no YubiKey: no command at all. */
	cr_assert_eq(piv_yk_read_serial(&r.s, &v0, &serial, NULL),
	    PV_E_NOT_SUPPORTED);
	rig_done(&r);
}
