/*
 * test_yk_protected.c: YubiKey 9B keys kept for the PIN
 * (issuance/yk_protected.h): the ADMIN DATA codec and the stored-key
 * parser on good and hostile bytes, the PIN-derived key against PBKDF2
 * computed here through EVP_KDF, and the card side (probe, unlock,
 * forget) against a scripted card whose management-key answers are
 * computed by a small software 9B, with the failure sweep.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "apdu/apdu.h"
#include "issuance/yk_protected.h"
#include "tests/support/fake_card.h"
#include "tests/support/hex.h"

static uint8_t *
H(const char *hex, size_t *n)
{
	uint8_t *p = NULL;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad hex in test: %s", hex);
	return p;
}

/* ---- ADMIN DATA ------------------------------------------------------------ */

Test(ykp, admin_ykman_protected_and_build)
{
	struct ykp_admin a;
	struct buf_out o;
	size_t n;
	uint8_t *p = H("80 03 81 01 02", &n);

	cr_assert_eq(ykp_admin_parse(p, n, &a, NULL), PV_OK);
	cr_assert(a.has_flags);
	cr_assert_eq(a.flags, YKP_FLAG_MGM_STORED);
	cr_assert_not(a.has_salt);
	cr_assert_not(a.has_time);
	cr_assert(buf_out_alloc(&o, 16, 256));
	cr_assert_eq(ykp_admin_build(&a, &o), PV_OK);
	cr_assert_eq(o.len, n);
	cr_assert_eq(memcmp(o.p, p, n), 0);
	buf_out_cleanup(&o);
	free(p);
}

Test(ykp, admin_all_members_unknown_skipped)
{
	struct ykp_admin a;
	struct buf_out o;
	size_t n, m;
	uint8_t *p = H("80 20 81 01 03 "
	    "82 10 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF "
	    "84 01 00 83 04 65 43 21 0F 85 00", &n);
	uint8_t *want = H("80 1B 81 01 03 "
	    "82 10 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF "
	    "83 04 65 43 21 0F", &m);

	cr_assert_eq(ykp_admin_parse(p, n, &a, NULL), PV_OK);
	cr_assert_eq(a.flags, 3);
	cr_assert(a.has_salt);
	cr_assert_eq(a.salt[15], 0xff);
	cr_assert(a.has_time);
	cr_assert_eq(a.pin_time, 0x6543210fu);
	cr_assert(buf_out_alloc(&o, 16, 256));
	cr_assert_eq(ykp_admin_build(&a, &o), PV_OK);
	cr_assert_eq(o.len, m, "unknown tags dropped, order 81 82 83");
	cr_assert_eq(memcmp(o.p, want, m), 0);
	buf_out_cleanup(&o);
	free(p);
	free(want);
}

Test(ykp, admin_empty_builds_nothing)
{
	struct ykp_admin a;
	struct buf_out o;
	size_t n;
	uint8_t *p = H("80 00", &n);

	cr_assert_eq(ykp_admin_parse(p, n, &a, NULL), PV_OK);
	cr_assert(buf_out_alloc(&o, 16, 256));
	cr_assert_eq(ykp_admin_build(&a, &o), PV_OK);
	cr_assert_eq(o.len, 0, "nothing left: PUT DATA deletes the object");
	buf_out_cleanup(&o);
	free(p);
}

/* Arrays, not pointers: Criterion runs each parameter in a new process. */
struct bad {
	char hex[128];
	char msg[96];
};

ParameterizedTestParameters(ykp, admin_hostile)
{
	static struct bad b[] = {
		{ "", "not one 80 element" },
		{ "81 01 02", "not one 80 element" },
		{ "80 03 81 01", "not one 80 element" },
		{ "80 03 81 01 02 00", "not one 80 element" },
		{ "80 84 00 00 00 03 81 01 02", "not one 80 element" },
		{ "80 80 81 01 02 00 00", "not one 80 element" },
		{ "80 03 81 02 02", "a truncated element inside 80" },
		{ "80 04 81 02 02 02", "element 81 is repeated or has the "
		    "wrong length (2)" },
		{ "80 06 81 01 02 81 01 00", "element 81 is repeated" },
		{ "80 05 82 03 01 02 03", "element 82 is repeated or has the "
		    "wrong length (3)" },
		{ "80 05 83 03 01 02 03", "element 83 is repeated or has the "
		    "wrong length (3)" },
	};

	return cr_make_param_array(struct bad, b, sizeof(b) / sizeof(b[0]));
}

ParameterizedTest(struct bad *b, ykp, admin_hostile)
{
	struct ykp_admin a;
	struct ykp_token t;
	struct pv_why why = { { 0 } };
	size_t n = 0;
	uint8_t *p = b->hex[0] ? H(b->hex, &n) : NULL;

	cr_assert_eq(ykp_admin_parse(p, n, &a, &why), PV_E_MALFORMED, "%s",
	    b->hex);
	cr_assert(strstr(why.msg, b->msg) != NULL, "%s: %s", b->hex, why.msg);
	cr_assert_not(a.has_flags || a.has_salt || a.has_time, "zeroed");
	ykp_token_from(p, n, &t);
	cr_assert(t.present && t.malformed && !ykp_has_key(&t));
	free(p);
}

Test(ykp, admin_every_truncation_fails)
{
	size_t n, k;
	uint8_t *p = H("80 1B 81 01 03 "
	    "82 10 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF "
	    "83 04 65 43 21 0F", &n);
	struct ykp_admin a;

	for (k = 0; k < n; k++)
		cr_assert_eq(ykp_admin_parse(p, k, &a, NULL), PV_E_MALFORMED,
		    "prefix of %zu bytes", k);
	free(p);
}

Test(ykp, token_modes)
{
	struct ykp_token t;
	size_t n;
	uint8_t *p;

	p = H("80 03 81 01 02", &n);
	ykp_token_from(p, n, &t);
	cr_assert(t.stored && !t.derived && ykp_has_key(&t));
	cr_assert_str_eq(ykp_describe(&t), "PIN-protected (stored on the "
	    "token)");
	free(p);
	p = H("80 12 82 10 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF", &n);
	ykp_token_from(p, n, &t);
	cr_assert(t.derived && !t.stored);
	cr_assert_str_eq(ykp_describe(&t), "derived from the PIN (PBKDF2, "
	    "YubiKey PIV Manager)");
	free(p);
	/* Flag and salt both (not what ykman writes): the flag wins. */
	p = H("80 15 81 01 02 82 10 00 11 22 33 44 55 66 77 88 99 AA BB CC DD "
	    "EE FF", &n);
	ykp_token_from(p, n, &t);
	cr_assert(t.stored && !t.derived);
	free(p);
	p = H("80 03 81 01 01", &n);	/* PUK blocked on purpose only */
	ykp_token_from(p, n, &t);
	cr_assert_not(ykp_has_key(&t));
	cr_assert_null(ykp_describe(&t));
	free(p);
}

/* ---- the stored key -------------------------------------------------------- */

Test(ykp, stored_key_each_algorithm)
{
	static const struct { enum mgmtkey_alg alg; size_t len; } a[] = {
		{ MGMTKEY_3DES, 24 }, { MGMTKEY_AES128, 16 },
		{ MGMTKEY_AES192, 24 }, { MGMTKEY_AES256, 32 },
	};
	struct mgmtkey k;
	uint8_t buf[2 + 2 + 32];
	size_t i, j;

	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		buf[0] = 0x88;
		buf[1] = (uint8_t)(2 + a[i].len);
		buf[2] = 0x89;
		buf[3] = (uint8_t)a[i].len;
		for (j = 0; j < a[i].len; j++)
			buf[4 + j] = (uint8_t)(0x40 + j);
		cr_assert_eq(ykp_stored_key_parse(buf, 4 + a[i].len, a[i].alg,
		    &k, NULL), PV_OK);
		cr_assert_eq(k.alg, a[i].alg);
		cr_assert_eq(k.len, a[i].len);
		cr_assert_eq(memcmp(k.key, buf + 4, a[i].len), 0);
		mgmtkey_clear(&k);
	}
}

ParameterizedTestParameters(ykp, stored_hostile)
{
	static struct bad b[] = {
		{ "", "not one 88 element" },
		{ "01 04 41 6C 69 63", "not one 88 element" },
		{ "88 04 89 10 00 00", "a truncated element inside 88" },
		{ "88 12 89 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F "
		    "00", "not one 88 element" },
		{ "88 00", "holds no stored management key" },
		{ "88 03 8A 01 00", "holds no stored management key" },
		{ "88 0C 89 04 00 01 02 03 89 04 00 01 02 03", "two keys" },
		{ "88 12 89 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
		    "the stored management key is 16 bytes, but a AES-256 key "
		    "is 32" },
	};

	return cr_make_param_array(struct bad, b, sizeof(b) / sizeof(b[0]));
}

ParameterizedTest(struct bad *b, ykp, stored_hostile)
{
	struct mgmtkey k;
	struct pv_why why = { { 0 } };
	size_t n = 0;
	uint8_t *p = b->hex[0] ? H(b->hex, &n) : NULL;
	enum pv_err r;

	memset(&k, 0x5a, sizeof(k));
	r = ykp_stored_key_parse(p, n, MGMTKEY_AES256, &k, &why);
	cr_assert(r == PV_E_MALFORMED || r == PV_E_NOT_FOUND, "%s", b->hex);
	cr_assert(strstr(why.msg, b->msg) != NULL, "%s: %s", b->hex, why.msg);
	cr_assert_eq(k.len, 0, "wiped");
	cr_assert_eq(k.key[0], 0, "wiped");
	free(p);
}

/* ---- the PIN-derived key --------------------------------------------------- */

Test(ykp, derived_key_is_pbkdf2_sha1)
{
	static const uint8_t salt[YKP_SALT_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9,
	    10, 11, 12, 13, 14, 15, 16 };
	uint8_t want[24];
	unsigned int iter = YKP_PBKDF2_ITER;
	OSSL_PARAM params[5];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	struct mgmtkey k;

	cr_assert_not_null(ctx);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)(uintptr_t)"123456", 6);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(uintptr_t)salt, sizeof(salt));
	params[3] = OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter);
	params[4] = OSSL_PARAM_construct_end();
	cr_assert_eq(EVP_KDF_derive(ctx, want, sizeof(want), params), 1);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	cr_assert_eq(ykp_derive_key((const uint8_t *)"123456", 6, salt, &k,
	    NULL), PV_OK);
	cr_assert_eq(k.alg, MGMTKEY_3DES);
	cr_assert_eq(k.len, 24);
	cr_assert_eq(memcmp(k.key, want, 24), 0);
	mgmtkey_clear(&k);
}

/* ---- the card side --------------------------------------------------------- */

struct rig {
	struct fake_card *fc;
	struct apdu_session s;
};

static void
rig_init(struct rig *r)
{
	struct apdu_transport tr;

	memset(r, 0, sizeof(*r));
	r->fc = fake_card_new();
	cr_assert_not_null(r->fc);
	tr = fake_card_transport(r->fc);
	apdu_session_init(&r->s, &tr);
	r->s.caps.extended = false;
}

static void
rig_done(struct rig *r)
{
	const char *e = fake_card_error(r->fc);

	cr_assert(fake_card_done(r->fc), "fake card: %s",
	    e != NULL ? e : "script not finished");
	fake_card_free(r->fc);
}

/* A software 9B for the mutual authentication (SP 800-73-4 App. A.2). */
struct soft9b {
	enum mgmtkey_alg alg;
	uint8_t key[32];
	size_t key_len;
	uint8_t witness[16];
	bool refuse;		/* answer 6982 to step 2 */
};

static size_t
blk(const struct soft9b *c)
{
	return c->alg == MGMTKEY_3DES ? 8 : 16;
}

static void
ecb(const struct soft9b *c, const uint8_t *in, uint8_t *out)
{
	const EVP_CIPHER *ciph = c->alg == MGMTKEY_3DES ?
	    EVP_des_ede3_ecb() : c->alg == MGMTKEY_AES128 ?
	    EVP_aes_128_ecb() : c->alg == MGMTKEY_AES192 ?
	    EVP_aes_192_ecb() : EVP_aes_256_ecb();
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;

	cr_assert(x != NULL && EVP_EncryptInit_ex(x, ciph, NULL, c->key,
	    NULL) == 1 && EVP_CIPHER_CTX_set_padding(x, 0) == 1 &&
	    EVP_EncryptUpdate(x, out, &n1, in, (int)blk(c)) == 1 &&
	    EVP_EncryptFinal_ex(x, out + n1, &n2) == 1);
	EVP_CIPHER_CTX_free(x);
}

/* Step 1: 7C { 80 00 } -> 7C { 80 E(witness) }. */
static enum pv_err
soft_step1(void *arg, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *len)
{
	struct soft9b *c = arg;
	size_t b = blk(c);

	cr_assert(n >= 9 && cmd[1] == 0x87 && cmd[2] == c->alg &&
	    cmd[3] == 0x9b && memcmp(cmd + 5, "\x7c\x02\x80\x00", 4) == 0,
	    "step 1 command");
	cr_assert_geq(cap, b + 6);
	rsp[0] = 0x7c;
	rsp[1] = (uint8_t)(b + 2);
	rsp[2] = 0x80;
	rsp[3] = (uint8_t)b;
	ecb(c, c->witness, rsp + 4);
	rsp[4 + b] = 0x90;
	rsp[5 + b] = 0x00;
	*len = b + 6;
	return PV_OK;
}

/* Step 2: 7C { 80 witness, 81 challenge } -> 7C { 82 E(challenge) }. */
static enum pv_err
soft_step2(void *arg, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t cap, size_t *len)
{
	struct soft9b *c = arg;
	size_t b = blk(c);
	const uint8_t *d = cmd + 5;

	cr_assert(n >= 5 + 6 + 2 * b && cmd[1] == 0x87 && d[0] == 0x7c &&
	    d[2] == 0x80 && d[3] == b && d[4 + b] == 0x81, "step 2 command");
	cr_assert_geq(cap, b + 6);
	if (c->refuse || memcmp(d + 4, c->witness, b) != 0) {
		rsp[0] = 0x69;
		rsp[1] = 0x82;
		*len = 2;
		return PV_OK;
	}
	rsp[0] = 0x7c;
	rsp[1] = (uint8_t)(b + 2);
	rsp[2] = 0x82;
	rsp[3] = (uint8_t)b;
	ecb(c, d + 6 + b, rsp + 4);
	rsp[4 + b] = 0x90;
	rsp[5 + b] = 0x00;
	*len = b + 6;
	return PV_OK;
}

#define VERIFY_DEFAULT	"00 20 00 80 08 31 32 33 34 35 36 FF FF"
#define GET_PRINTED	"00 CB 3F FF 05 5C 03 5F C1 09 00"
#define GET_ADMIN	"00 CB 3F FF 05 5C 03 5F FF 00 00"

static const uint8_t key32[32] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
	0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
	0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

static struct ykp_token
token_of(const char *admin_hex)
{
	struct ykp_token t;
	size_t n;
	uint8_t *p = H(admin_hex, &n);

	ykp_token_from(p, n, &t);
	free(p);
	return t;
}

/* The script of a successful unlock of an AES-256 key stored in 5FC109. */
static void
script_stored(struct rig *r, struct soft9b *c)
{
	char *hx = hex_encode(key32, 32), rsp[200];

	memset(c, 0, sizeof(*c));
	c->alg = MGMTKEY_AES256;
	memcpy(c->key, key32, 32);
	c->key_len = 32;
	memset(c->witness, 0xa5, sizeof(c->witness));
	(void)snprintf(rsp, sizeof(rsp), "53 24 88 22 89 20 %s 90 00", hx);
	free(hx);
	fake_card_expect(r->fc, VERIFY_DEFAULT, "90 00");
	fake_card_expect(r->fc, GET_PRINTED, rsp);
	fake_card_expect_fn(r->fc, soft_step1, c);
	fake_card_expect_fn(r->fc, soft_step2, c);
}

Test(ykp, probe_answers)
{
	struct rig r;
	struct ykp_token t;
	struct pv_why why = { { 0 } };

	rig_init(&r);
	fake_card_expect(r.fc, GET_ADMIN, "6A 82");
	fake_card_expect(r.fc, GET_ADMIN, "53 05 80 03 81 01 02 90 00");
	fake_card_expect(r.fc, GET_ADMIN, "53 02 81 00 90 00");
	fake_card_expect(r.fc, GET_ADMIN, "6D 00");
	cr_assert_eq(ykp_probe(&r.s, &t, &why), PV_OK);
	cr_assert(t.read && !t.present && !ykp_has_key(&t));
	cr_assert_eq(why.msg[0], '\0', "a missing object is no error");
	cr_assert_eq(ykp_probe(&r.s, &t, &why), PV_OK);
	cr_assert(t.present && t.stored);
	cr_assert_eq(ykp_probe(&r.s, &t, &why), PV_OK);
	cr_assert(t.present && t.malformed && !ykp_has_key(&t));
	cr_assert_eq(ykp_probe(&r.s, &t, &why), PV_OK, "6D00: not a YubiKey");
	cr_assert_not(ykp_has_key(&t));
	rig_done(&r);
}

Test(ykp, unlock_stored_key)
{
	struct rig r;
	struct soft9b c;
	struct ykp_token t = token_of("80 03 81 01 02");
	struct mgmtkey k;
	struct pv_why why = { { 0 } };
	int retries = 7;

	rig_init(&r);
	script_stored(&r, &c);
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_AES256, &k, &retries, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(k.alg, MGMTKEY_AES256);
	cr_assert_eq(k.len, 32);
	cr_assert_eq(memcmp(k.key, key32, 32), 0);
	mgmtkey_clear(&k);
	rig_done(&r);
}

Test(ykp, unlock_wrong_pin_spends_nothing_more)
{
	struct rig r;
	struct ykp_token t = token_of("80 03 81 01 02");
	struct mgmtkey k;
	struct pv_why why = { { 0 } };
	int retries = -1;

	rig_init(&r);
	fake_card_expect(r.fc, VERIFY_DEFAULT, "63 C2");
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_AES256, &k, &retries, &why), PV_E_PIN_WRONG);
	cr_assert_eq(retries, 2);
	cr_assert_eq(k.len, 0);
	rig_done(&r);
}

Test(ykp, unlock_stale_copy_of_another_algorithm)
{
	struct rig r;
	struct ykp_token t = token_of("80 03 81 01 02");
	struct mgmtkey k;
	struct pv_why why = { { 0 } };

	rig_init(&r);
	fake_card_expect(r.fc, VERIFY_DEFAULT, "90 00");
	/* A 24-byte (3DES) copy, the card's key AES-256: no GA sent. */
	fake_card_expect(r.fc, GET_PRINTED, "53 1C 88 1A 89 18 "
	    "010203040506070801020304050607080102030405060708 90 00");
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_AES256, &k, NULL, &why), PV_E_AUTH_FAILED);
	cr_assert_str_eq(why.msg, "the management key stored on the token (24 "
	    "bytes) cannot be the card's AES-256 key");
	cr_assert(strstr(why.msg, "0102") == NULL, "no key bytes shown");
	rig_done(&r);
}

Test(ykp, unlock_refused_key_and_missing_key)
{
	struct rig r;
	struct soft9b c;
	struct ykp_token t = token_of("80 03 81 01 02");
	struct mgmtkey k;
	struct pv_why why = { { 0 } };

	rig_init(&r);
	script_stored(&r, &c);
	c.refuse = true;
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_AES256, &k, NULL, &why), PV_E_AUTH_FAILED);
	cr_assert_str_eq(why.msg, "the card refused the management key stored "
	    "on the token: it is not the card's key");
	cr_assert_eq(k.len, 0);
	fake_card_expect(r.fc, VERIFY_DEFAULT, "90 00");
	fake_card_expect(r.fc, GET_PRINTED, "6A 82");
	memset(&why, 0, sizeof(why));
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_AES256, &k, NULL, &why), PV_E_NOT_FOUND);
	cr_assert_str_eq(why.msg, "ADMIN DATA says the management key is stored "
	    "on the token, but there is no Printed Information (5FC109)");
	rig_done(&r);
}

Test(ykp, unlock_pin_derived_key)
{
	static const uint8_t salt[16] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3,
	    4, 5, 6, 7, 8, 9, 10, 11 };
	struct rig r;
	struct soft9b c;
	struct ykp_token t = token_of("80 12 82 10 DE AD BE EF 00 01 02 03 04 05 "
	    "06 07 08 09 0A 0B");
	struct mgmtkey k, want;

	cr_assert_eq(ykp_derive_key((const uint8_t *)"123456", 6, salt, &want,
	    NULL), PV_OK);
	memset(&c, 0, sizeof(c));
	c.alg = MGMTKEY_3DES;
	memcpy(c.key, want.key, 24);
	memset(c.witness, 0x3c, sizeof(c.witness));
	rig_init(&r);
	fake_card_expect(r.fc, VERIFY_DEFAULT, "90 00");
	fake_card_expect_fn(r.fc, soft_step1, &c);
	fake_card_expect_fn(r.fc, soft_step2, &c);
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_3DES, &k, NULL, NULL), PV_OK);
	cr_assert_eq(memcmp(k.key, want.key, 24), 0);
	mgmtkey_clear(&k);
	mgmtkey_clear(&want);
	/* A derived key is 3DES: an AES card's key cannot be it. */
	cr_assert_eq(ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
	    MGMTKEY_AES192, &k, NULL, NULL), PV_E_AUTH_FAILED);
	rig_done(&r);
}

Test(ykp, unlock_card_pulled_at_every_exchange)
{
	struct ykp_token t = token_of("80 03 81 01 02");
	size_t kx;

	for (kx = 1; kx <= 4; kx++) {
		struct rig r;
		struct soft9b c;
		struct mgmtkey k;
		struct pv_why why = { { 0 } };
		enum pv_err e;

		rig_init(&r);
		script_stored(&r, &c);
		fake_card_fail_at(r.fc, kx, PV_E_NO_CARD);
		e = ykp_unlock(&r.s, &t, (const uint8_t *)"123456", 6,
		    MGMTKEY_AES256, &k, NULL, &why);
		cr_assert_eq(e, PV_E_NO_CARD, "k=%zu: %s", kx, pv_errname(e));
		cr_assert_eq(k.len, 0, "k=%zu: wiped", kx);
		fake_card_free(r.fc);
	}
}

Test(ykp, forget_stored_deletes_both_objects)
{
	struct rig r;
	struct ykp_token t = token_of("80 03 81 01 02");

	rig_init(&r);
	fake_card_expect(r.fc, "00 DB 3F FF 07 5C 03 5F FF 00 53 00", "90 00");
	fake_card_expect(r.fc, "00 DB 3F FF 07 5C 03 5F C1 09 53 00", "90 00");
	cr_assert_eq(ykp_forget(&r.s, &t, NULL), PV_OK);
	rig_done(&r);
}

Test(ykp, forget_keeps_other_flags_and_time)
{
	struct rig r;
	struct ykp_token t = token_of("80 0B 81 01 03 83 04 00 00 10 00 84 00");

	rig_init(&r);
	/* PUK-blocked flag and the PIN time stay; 02 goes. */
	fake_card_expect(r.fc, "00 DB 3F FF 12 5C 03 5F FF 00 53 0B "
	    "80 09 81 01 01 83 04 00 00 10 00", "90 00");
	fake_card_expect(r.fc, "00 DB 3F FF 07 5C 03 5F C1 09 53 00", "90 00");
	cr_assert_eq(ykp_forget(&r.s, &t, NULL), PV_OK);
	rig_done(&r);
}

Test(ykp, forget_derived_removes_the_salt_only)
{
	struct rig r;
	struct ykp_token t = token_of("80 12 82 10 DE AD BE EF 00 01 02 03 04 05 "
	    "06 07 08 09 0A 0B");
	struct ykp_token none = token_of("80 03 81 01 01");
	struct pv_why why = { { 0 } };

	rig_init(&r);
	fake_card_expect(r.fc, "00 DB 3F FF 07 5C 03 5F FF 00 53 00", "90 00");
	cr_assert_eq(ykp_forget(&r.s, &t, NULL), PV_OK);
	cr_assert_eq(ykp_forget(&r.s, &none, NULL), PV_OK, "nothing to do");
	fake_card_expect(r.fc, "00 DB 3F FF 07 5C 03 5F FF 00 53 00", "69 82");
	cr_assert_eq(ykp_forget(&r.s, &t, &why), PV_E_SECURITY);
	cr_assert(strstr(why.msg, "rewriting ADMIN DATA (5FFF00)") == why.msg,
	    "%s", why.msg);
	rig_done(&r);
}
