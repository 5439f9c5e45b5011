/*
 * test_piv_crypto.c: the cryptographic card-edge flows against a fake
 * card whose callback plays the card with OpenSSL: 9B mutual and
 * external authentication for 3DES and AES-128/192/256, RSA sign and
 * decrypt, ECDSA P-256/P-384, ECDH, and the EVP_PKEY conversions.  The
 * host's results are checked with OpenSSL, never against fixed bytes.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "apdu/piv.h"
#include "apdu/piv_pkey.h"
#include "apdu/tlv.h"
#include "tests/unit/apdu/piv_rig.h"

/* ---- the soft card ------------------------------------------------------ */

enum { MIS_NONE, MIS_BAD_RESPONSE, MIS_SHORT_WITNESS };

struct soft {
	uint8_t mgmt_alg;
	uint8_t mgmt_key[32];
	size_t mgmt_len;
	int misbehave;
	uint8_t witness[16];
	uint8_t challenge[16];
	EVP_PKEY *key;
	uint8_t chain[8192];
	size_t chain_len;
	uint8_t pend[8192];
	size_t pend_len, pend_off;
	uint8_t first_cmd[64];	/* the first command seen, for wire checks */
	size_t first_cmd_len;
	size_t calls;
};

static const EVP_CIPHER *
soft_cipher(uint8_t alg)
{
	switch (alg) {
	case 0x00:
	case 0x03:
		return EVP_des_ede3_ecb();
	case 0x08:
		return EVP_aes_128_ecb();
	case 0x0a:
		return EVP_aes_192_ecb();
	default:
		return EVP_aes_256_ecb();
	}
}

static void
soft_ecb(const struct soft *c, int enc, const uint8_t *in, size_t n,
    uint8_t *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;

	cr_assert(EVP_CipherInit_ex(x, soft_cipher(c->mgmt_alg), NULL,
	    c->mgmt_key, NULL, enc) == 1);
	EVP_CIPHER_CTX_set_padding(x, 0);
	cr_assert(EVP_CipherUpdate(x, out, &a, in, (int)n) == 1);
	cr_assert(EVP_CipherFinal_ex(x, out + a, &b) == 1);
	cr_assert_eq((size_t)(a + b), n);
	EVP_CIPHER_CTX_free(x);
}

static size_t
soft_block(const struct soft *c)
{
	return c->mgmt_alg <= 0x03 ? 8 : 16;
}

/* pend = 7C { tag value } */
static void
soft_answer(struct soft *c, uint32_t tag, const uint8_t *v, size_t n)
{
	struct buf_out o;
	size_t mark;

	buf_out_fixed(&o, c->pend, sizeof(c->pend));
	tlv_open(&o, 0x7c, &mark);
	tlv_put(&o, tag, v, n);
	tlv_close(&o, mark);
	cr_assert(buf_out_ok(&o));
	c->pend_len = o.len;
	c->pend_off = 0;
}

/* 9B: the card side of App. A.1/A.2.  Returns the SW. */
static uint16_t
soft_mgmt(struct soft *c, uint8_t alg, struct buf_cur t)
{
	struct buf_cur v80 = { 0 }, v81 = { 0 }, v82 = { 0 }, v;
	bool h80 = false, h81 = false, h82 = false;
	uint32_t tag;
	size_t bl = soft_block(c);
	uint8_t tmp[16];

	if (alg != c->mgmt_alg)
		return 0x6a86;
	while (!buf_done(&t)) {
		cr_assert(tlv_get_any(&t, &tag, &v));
		if (tag == 0x80) { v80 = v; h80 = true; }
		if (tag == 0x81) { v81 = v; h81 = true; }
		if (tag == 0x82) { v82 = v; h82 = true; }
	}
	if (h80 && v80.len == 0) {
		cr_assert(RAND_bytes(c->witness, (int)bl) == 1);
		soft_ecb(c, 1, c->witness, bl, tmp);
		soft_answer(c, 0x80, tmp, c->misbehave == MIS_SHORT_WITNESS ?
		    bl - 1 : bl);
		return 0x9000;
	}
	if (h80 && h81) {
		if (v80.len != bl || memcmp(v80.p, c->witness, bl) != 0 ||
		    v81.len != bl)
			return 0x6982;
		soft_ecb(c, 1, v81.p, bl, tmp);
		if (c->misbehave == MIS_BAD_RESPONSE)
			tmp[3] ^= 0x10;
		soft_answer(c, 0x82, tmp, bl);
		return 0x9000;
	}
	if (h81 && v81.len == 0) {
		cr_assert(RAND_bytes(c->challenge, (int)bl) == 1);
		soft_answer(c, 0x81, c->challenge, bl);
		return 0x9000;
	}
	if (h82 && v82.len == bl) {
		soft_ecb(c, 1, c->challenge, bl, tmp);
		c->pend_len = 0;
		return memcmp(tmp, v82.p, bl) == 0 ? 0x9000 : 0x6982;
	}
	return 0x6a80;
}

/* Asymmetric keys: sign/decrypt (81) and ECDH (85). */
static uint16_t
soft_asym(struct soft *c, uint8_t alg, struct buf_cur t)
{
	struct buf_cur v, in = { 0 };
	uint32_t tag, in_tag = 0;
	uint8_t out[1024];
	size_t n = sizeof(out);
	EVP_PKEY_CTX *x;

	while (!buf_done(&t)) {
		cr_assert(tlv_get_any(&t, &tag, &v));
		if (tag == 0x81 || tag == 0x85) {
			in = v;
			in_tag = tag;
		}
	}
	cr_assert_not_null(c->key);
	x = EVP_PKEY_CTX_new_from_pkey(NULL, c->key, NULL);
	if (in_tag == 0x85) {
		struct piv_pubkey peer;
		EVP_PKEY *pp = NULL;

		memset(&peer, 0, sizeof(peer));
		peer.alg = alg;
		memcpy(peer.point, in.p, in.len);
		peer.point_len = in.len;
		cr_assert_eq(piv_pubkey_to_evp(&peer, &pp, NULL), PV_OK);
		cr_assert(EVP_PKEY_derive_init(x) == 1);
		cr_assert(EVP_PKEY_derive_set_peer(x, pp) == 1);
		cr_assert(EVP_PKEY_derive(x, out, &n) == 1);
		EVP_PKEY_free(pp);
	} else if (EVP_PKEY_is_a(c->key, "RSA")) {
		/* The card does raw RSA; the host padded. */
		cr_assert(EVP_PKEY_decrypt_init(x) == 1);
		cr_assert(EVP_PKEY_CTX_set_rsa_padding(x, RSA_NO_PADDING) == 1);
		cr_assert(EVP_PKEY_decrypt(x, out, &n, in.p, in.len) == 1);
	} else {
		/* ECDSA over the hash it was given. */
		cr_assert(EVP_PKEY_sign_init(x) == 1);
		cr_assert(EVP_PKEY_sign(x, out, &n, in.p, in.len) == 1);
	}
	EVP_PKEY_CTX_free(x);
	soft_answer(c, 0x82, out, n);
	return 0x9000;
}

static enum pv_err
soft_xfer(void *arg, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct soft *c = arg;
	const uint8_t *data = NULL;
	size_t lc = 0, n, left;
	bool ext = false;
	uint16_t sw;
	struct buf_cur all, t;

	c->calls++;
	if (c->first_cmd_len == 0 && cmd_len <= sizeof(c->first_cmd)) {
		memcpy(c->first_cmd, cmd, cmd_len);
		c->first_cmd_len = cmd_len;
	}
	cr_assert_geq(cmd_len, 4);
	if (cmd[1] == 0xc0)
		goto send;
	if (cmd_len > 5 && cmd[4] == 0) {
		ext = true;
		lc = (size_t)cmd[5] << 8 | cmd[6];
		data = cmd + 7;
	} else if (cmd_len > 5) {
		lc = cmd[4];
		data = cmd + 5;
	}
	cr_assert_leq(c->chain_len + lc, sizeof(c->chain));
	memcpy(c->chain + c->chain_len, data, lc);
	c->chain_len += lc;
	if (cmd[0] & 0x10) {
		rsp[0] = 0x90;
		rsp[1] = 0x00;
		*rsp_len = 2;
		return PV_OK;
	}
	buf_cur_init(&all, c->chain, c->chain_len);
	cr_assert_eq(cmd[1], 0x87, "only GENERAL AUTHENTICATE here");
	cr_assert(tlv_get(&all, 0x7c, &t) && buf_done(&all));
	c->pend_len = c->pend_off = 0;
	sw = cmd[3] == 0x9b ? soft_mgmt(c, cmd[2], t) : soft_asym(c, cmd[2], t);
	c->chain_len = 0;
	if (sw != 0x9000) {
		rsp[0] = (uint8_t)(sw >> 8);
		rsp[1] = (uint8_t)sw;
		*rsp_len = 2;
		return PV_OK;
	}
send:
	left = c->pend_len - c->pend_off;
	n = ext ? left : left < 256 ? left : 256;
	cr_assert_leq(n + 2, rsp_cap);
	memcpy(rsp, c->pend + c->pend_off, n);
	c->pend_off += n;
	left -= n;
	rsp[n] = left == 0 ? 0x90 : 0x61;
	rsp[n + 1] = left == 0 ? 0x00 : left >= 256 ? 0x00 : (uint8_t)left;
	*rsp_len = n + 2;
	return PV_OK;
}

/* Queue |n| exchanges answered by the soft card. */
static void
soft_expect(struct rig *r, struct soft *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fake_card_expect_fn(r->fc, soft_xfer, c);
}

/* ---- 9B authentication ------------------------------------------------------- */

struct algcase {
	int alg;
	size_t key_len;
	char step1[64];
};

ParameterizedTestParameters(piv_auth, mutual_every_algorithm)
{
	static struct algcase a[] = {
		{ 0x00, 24, "00 87 00 9B 04 7C 02 80 00 00" },
		{ 0x03, 24, "00 87 03 9B 04 7C 02 80 00 00" },
		{ 0x08, 16, "00 87 08 9B 04 7C 02 80 00 00" },
		{ 0x0a, 24, "00 87 0A 9B 04 7C 02 80 00 00" },
		{ 0x0c, 32, "00 87 0C 9B 04 7C 02 80 00 00" },
	};

	return cr_make_param_array(struct algcase, a, sizeof(a) / sizeof(a[0]));
}

ParameterizedTest(struct algcase *a, piv_auth, mutual_every_algorithm)
{
	struct soft *c = calloc(1, sizeof(*c));
	struct rig r;
	size_t n;
	uint8_t *want = rig_unhex(a->step1, &n);

	c->mgmt_alg = (uint8_t)a->alg;
	c->mgmt_len = a->key_len;
	cr_assert(RAND_bytes(c->mgmt_key, (int)a->key_len) == 1);
	rig_init(&r, false);
	soft_expect(&r, c, 2);
	cr_assert_eq(piv_auth_mgmt(&r.s, c->mgmt_alg, c->mgmt_key, c->mgmt_len,
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(r.s.stats.n_apdus, 2);
	cr_assert_eq(c->first_cmd_len, n);
	cr_assert_arr_eq(c->first_cmd, want, n);
	rig_done(&r);

	/* The same with the wrong key: the card refuses our witness. */
	rig_init(&r, false);
	soft_expect(&r, c, 2);
	{
		uint8_t other[32];

		memcpy(other, c->mgmt_key, sizeof(other));
		other[0] ^= 0x55;
		cr_assert_eq(piv_auth_mgmt(&r.s, c->mgmt_alg, other, c->mgmt_len,
		    &r.why), PV_E_AUTH_FAILED);
		cr_assert(strstr(r.why.msg, "the card refused the "
		    "authentication") != NULL, "%s", r.why.msg);
	}
	rig_done(&r);
	free(want);
	free(c);
}

Test(piv_auth, card_that_does_not_know_the_key)
{
	struct soft *c = calloc(1, sizeof(*c));
	struct rig r;

	c->mgmt_alg = PIV_ALG_AES192;
	c->mgmt_len = 24;
	c->misbehave = MIS_BAD_RESPONSE;
	rig_init(&r, false);
	soft_expect(&r, c, 2);
	cr_assert_eq(piv_auth_mgmt(&r.s, c->mgmt_alg, c->mgmt_key, 24, &r.why),
	    PV_E_AUTH_FAILED);
	cr_assert_str_eq(r.why.msg, "GENERAL AUTHENTICATE 9B (mutual): the card "
	    "answered our challenge wrongly: it does not hold this management "
	    "key");
	rig_done(&r);
	free(c);
}

Test(piv_auth, witness_of_wrong_size)
{
	struct soft *c = calloc(1, sizeof(*c));
	struct rig r;

	c->mgmt_alg = PIV_ALG_3DES;
	c->mgmt_len = 24;
	c->misbehave = MIS_SHORT_WITNESS;
	rig_init(&r, false);
	soft_expect(&r, c, 1);
	cr_assert_eq(piv_auth_mgmt(&r.s, c->mgmt_alg, c->mgmt_key, 24, &r.why),
	    PV_E_MALFORMED);
	cr_assert_str_eq(r.why.msg, "GENERAL AUTHENTICATE 9B (mutual): the "
	    "card's witness is 7 bytes, expected one 8-byte 3DES block");
	rig_done(&r);
	free(c);
}

Test(piv_auth, wrong_algorithm_and_bad_arguments)
{
	struct soft *c = calloc(1, sizeof(*c));
	struct rig r;
	uint8_t key[32] = { 0 };

	c->mgmt_alg = PIV_ALG_AES128;
	rig_init(&r, false);
	soft_expect(&r, c, 1);
	/* The token's 9B is AES-128; asking for 3DES gets 6A86 (a card). */
	cr_assert_eq(piv_auth_mgmt(&r.s, PIV_ALG_3DES, key, 24, &r.why),
	    PV_E_AUTH_FAILED);
	cr_assert(strstr(r.why.msg, "the card's management key is not 3DES") !=
	    NULL, "%s", r.why.msg);
	cr_assert_eq(piv_auth_mgmt(&r.s, PIV_ALG_AES128, key, 24, NULL),
	    PV_E_INVAL);
	cr_assert_eq(piv_auth_mgmt(&r.s, PIV_ALG_ECC_P256, key, 32, NULL),
	    PV_E_INVAL);
	cr_assert_eq(piv_auth_mgmt(&r.s, PIV_ALG_AES256, NULL, 32, NULL),
	    PV_E_INVAL);
	cr_assert_eq(r.s.stats.n_apdus, 1, "bad arguments send nothing");
	rig_done(&r);
	free(c);
}

Test(piv_auth, yubikey_refuses_other_algorithm_with_6a80)
{
	struct rig r;
	uint8_t key[24] = { 0 };

	rig_init(&r, false);
	/* A YubiKey with an AES-192 key asked for 3DES (firmware 5.7's
	 * default key is AES-192 with the old 3DES bytes). */
	fake_card_expect(r.fc, "00 87 03 9B 04 7C 02 80 00 00", "6A 80");
	cr_assert_eq(piv_auth_mgmt(&r.s, 3, key, 24, &r.why),
	    PV_E_AUTH_FAILED);
	cr_assert(strstr(r.why.msg, "is not 3DES") != NULL, "%s", r.why.msg);
	rig_done(&r);
}

Test(piv_auth, mutual_scripted_bytes)
{
	/* A scripted run checks what the card gets in step 2: 7C 14 80 08
	 * <witness> 81 08 <challenge>, Lc 16 (PIV-REFERENCE §2.5). */
	struct rig r;
	uint8_t key[24], w[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, ew[8];
	struct soft k;
	char *hx, *rsp, *pfx;

	memset(&k, 0, sizeof(k));
	k.mgmt_alg = 3;
	memcpy(key, "\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06"
	    "\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08", 24);
	memcpy(k.mgmt_key, key, 24);
	soft_ecb(&k, 1, w, 8, ew);
	hx = rig_bytes(ew, 8);
	rsp = rig_hex("7C 0A 80 08 %s 90 00", hx);
	pfx = rig_hex("00 87 03 9B 16 7C 14 80 08 %s 81 08",
	    "0102030405060708");
	rig_init(&r, false);
	fake_card_expect(r.fc, "00 87 03 9B 04 7C 02 80 00 00", rsp);
	fake_card_expect_prefix(r.fc, pfx, "69 82");
	cr_assert_eq(piv_auth_mgmt(&r.s, 3, key, 24, &r.why), PV_E_AUTH_FAILED);
	rig_done(&r);
	free(hx);
	free(rsp);
	free(pfx);
}

Test(piv_auth, external_3des_and_aes)
{
	static const uint8_t algs[] = { PIV_ALG_3DES, PIV_ALG_AES256 };
	size_t i;

	for (i = 0; i < sizeof(algs); i++) {
		struct soft *c = calloc(1, sizeof(*c));
		struct rig r;
		uint8_t bad[32];

		c->mgmt_alg = algs[i];
		c->mgmt_len = piv_alg_sym_key_len(algs[i]);
		cr_assert(RAND_bytes(c->mgmt_key, (int)c->mgmt_len) == 1);
		rig_init(&r, false);
		soft_expect(&r, c, 4);
		cr_assert_eq(piv_auth_mgmt_external(&r.s, c->mgmt_alg, c->mgmt_key,
		    c->mgmt_len, &r.why), PV_OK, "%s", r.why.msg);
		memcpy(bad, c->mgmt_key, sizeof(bad));
		bad[5] ^= 0x80;	/* not a DES parity bit */
		cr_assert_eq(piv_auth_mgmt_external(&r.s, c->mgmt_alg, bad,
		    c->mgmt_len, &r.why), PV_E_AUTH_FAILED);
		cr_assert_eq(r.s.stats.n_apdus, 4);
		rig_done(&r);
		free(c);
	}
}

/* ---- RSA ------------------------------------------------------------------------------- */

static EVP_PKEY *
keygen(const char *type, const char *param, size_t bits)
{
	EVP_PKEY *k = param != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, type, param) :
	    bits != 0 ? EVP_PKEY_Q_keygen(NULL, NULL, type, bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, type);

	cr_assert_not_null(k, "keygen %s", type);
	return k;
}

/* EMSA-PKCS1-v1_5 for SHA-256 (RFC 8017 §9.2), k bytes. */
static void
pkcs1_sha256(const uint8_t hash[32], uint8_t *em, size_t k)
{
	static const uint8_t di[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
	    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
	    0x20 };
	size_t t = sizeof(di) + 32;

	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, k - t - 3);
	em[k - t - 1] = 0x00;
	memcpy(em + k - t, di, sizeof(di));
	memcpy(em + k - 32, hash, 32);
}

static void
rsa_sign_verify(bool extended, size_t want_apdus)
{
	struct soft *c = calloc(1, sizeof(*c));
	EVP_PKEY *k = keygen("RSA", NULL, 2048);
	uint8_t hash[32], em[256];
	struct rig r;
	struct buf_out o;
	EVP_PKEY_CTX *v;

	c->key = k;
	cr_assert(RAND_bytes(hash, 32) == 1);
	pkcs1_sha256(hash, em, sizeof(em));
	rig_init(&r, extended);
	soft_expect(&r, c, want_apdus);
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_sign(&r.s, PIV_ALG_RSA2048, PIV_KEY_AUTH, em, 256, &o,
	    &r.why), PV_OK, "%s", r.why.msg);
	cr_assert_eq(o.len, 256);
	cr_assert_eq(r.s.stats.n_apdus, want_apdus);
	v = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	cr_assert(EVP_PKEY_verify_init(v) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING) == 1);
	cr_assert(EVP_PKEY_CTX_set_signature_md(v, EVP_sha256()) == 1);
	cr_assert_eq(EVP_PKEY_verify(v, o.p, o.len, hash, 32), 1,
	    "OpenSSL rejects the card's signature");
	EVP_PKEY_CTX_free(v);
	buf_out_cleanup(&o);
	rig_done(&r);
	EVP_PKEY_free(k);
	free(c);
}

/* Short-only: 2 chained blocks + 1 GET RESPONSE; extended: 1. */
Test(piv_crypto, rsa2048_sign_short_card, .timeout = 60)
{
	rsa_sign_verify(false, 3);
}

Test(piv_crypto, rsa2048_sign_extended_card, .timeout = 60)
{
	rsa_sign_verify(true, 1);
}

Test(piv_crypto, rsa_decrypt_key_transport, .timeout = 60)
{
	struct soft *c = calloc(1, sizeof(*c));
	EVP_PKEY *k = keygen("RSA", NULL, 1024);
	uint8_t ct[128], msg[16];
	size_t ct_len = sizeof(ct), i;
	struct rig r;
	struct buf_out o;
	EVP_PKEY_CTX *e;

	c->key = k;
	cr_assert(RAND_bytes(msg, sizeof(msg)) == 1);
	e = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	cr_assert(EVP_PKEY_encrypt_init(e) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(e, RSA_PKCS1_PADDING) == 1);
	cr_assert(EVP_PKEY_encrypt(e, ct, &ct_len, msg, sizeof(msg)) == 1);
	EVP_PKEY_CTX_free(e);
	rig_init(&r, false);
	soft_expect(&r, c, 1);
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_decrypt(&r.s, PIV_ALG_RSA1024, PIV_KEY_KEYMGMT, ct,
	    ct_len, &o, &r.why), PV_OK, "%s", r.why.msg);
	/* EME-PKCS1-v1_5: 00 02 PS 00 M */
	cr_assert_eq(o.len, 128);
	cr_assert_eq(o.p[0], 0x00);
	cr_assert_eq(o.p[1], 0x02);
	for (i = 2; i < 128 - 17; i++)
		cr_assert_neq(o.p[i], 0x00);
	cr_assert_eq(o.p[128 - 17], 0x00);
	cr_assert_arr_eq(o.p + 128 - 16, msg, 16);
	buf_out_cleanup(&o);
	rig_done(&r);
	EVP_PKEY_free(k);
	free(c);
}

/* ---- ECC ---------------------------------------------------------------------------------- */

struct eccase {
	int alg;
	char curve[8];
	size_t hash_len;
};

ParameterizedTestParameters(piv_crypto, ecdsa)
{
	static struct eccase e[] = {
		{ 0x11, "P-256", 32 }, { 0x14, "P-384", 48 },
		{ 0x11, "P-256", 64 },	/* SHA-512 hash cut to 32 bytes */
	};

	return cr_make_param_array(struct eccase, e, sizeof(e) / sizeof(e[0]));
}

ParameterizedTest(struct eccase *e, piv_crypto, ecdsa)
{
	struct soft *c = calloc(1, sizeof(*c));
	EVP_PKEY *k = keygen("EC", e->curve, 0);
	uint8_t hash[64];
	struct rig r;
	struct buf_out o;
	EVP_PKEY_CTX *v;
	size_t f = piv_alg_ec_len((uint8_t)e->alg);

	c->key = k;
	cr_assert(RAND_bytes(hash, sizeof(hash)) == 1);
	rig_init(&r, false);
	soft_expect(&r, c, 1);
	cr_assert(buf_out_alloc(&o, 16, 4096));
	cr_assert_eq(piv_sign(&r.s, (uint8_t)e->alg, PIV_KEY_SIGN, hash,
	    e->hash_len, &o, &r.why), PV_OK, "%s", r.why.msg);
	v = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	cr_assert(EVP_PKEY_verify_init(v) == 1);
	cr_assert_eq(EVP_PKEY_verify(v, o.p, o.len, hash, f), 1,
	    "OpenSSL rejects the card's ECDSA signature");
	EVP_PKEY_CTX_free(v);
	cr_assert_eq(r.s.stats.n_apdus, 1);
	buf_out_cleanup(&o);
	rig_done(&r);
	EVP_PKEY_free(k);
	free(c);
}

Test(piv_crypto, ecdh_p256_and_p384)
{
	static const char *const curves[] = { "P-256", "P-384" };
	static const uint8_t algs[] = { PIV_ALG_ECC_P256, PIV_ALG_ECC_P384 };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct soft *c = calloc(1, sizeof(*c));
		EVP_PKEY *card = keygen("EC", curves[i], 0);
		EVP_PKEY *host = keygen("EC", curves[i], 0);
		struct piv_pubkey hp, cp;
		EVP_PKEY *cpub = NULL;
		EVP_PKEY_CTX *x;
		uint8_t z[64];
		size_t zn = sizeof(z);
		struct rig r;
		struct buf_out o;

		c->key = card;
		cr_assert_eq(piv_pubkey_from_evp(host, &hp, NULL), PV_OK);
		cr_assert_eq(hp.alg, algs[i]);
		rig_init(&r, false);
		soft_expect(&r, c, 1);
		cr_assert(buf_out_alloc(&o, 16, 4096));
		cr_assert_eq(piv_ecdh(&r.s, algs[i], PIV_KEY_KEYMGMT, hp.point,
		    hp.point_len, &o, &r.why), PV_OK, "%s", r.why.msg);
		/* The host side of the same agreement must match. */
		cr_assert_eq(piv_pubkey_from_evp(card, &cp, NULL), PV_OK);
		cr_assert_eq(piv_pubkey_to_evp(&cp, &cpub, NULL), PV_OK);
		x = EVP_PKEY_CTX_new_from_pkey(NULL, host, NULL);
		cr_assert(EVP_PKEY_derive_init(x) == 1);
		cr_assert(EVP_PKEY_derive_set_peer(x, cpub) == 1);
		cr_assert(EVP_PKEY_derive(x, z, &zn) == 1);
		cr_assert_eq(o.len, zn);
		cr_assert_arr_eq(o.p, z, zn);
		EVP_PKEY_CTX_free(x);
		EVP_PKEY_free(cpub);
		buf_out_cleanup(&o);
		rig_done(&r);
		EVP_PKEY_free(card);
		EVP_PKEY_free(host);
		free(c);
	}
}

/* ---- EVP_PKEY conversions ------------------------------------------------------------------- */

Test(piv_pkey, round_trips, .timeout = 60)
{
	EVP_PKEY *keys[4];
	const uint8_t want[4] = { PIV_ALG_RSA1024, PIV_ALG_ECC_P256,
	    PIV_ALG_ECC_P384, PIV_ALG_ED25519 };
	size_t i;

	keys[0] = keygen("RSA", NULL, 1024);
	keys[1] = keygen("EC", "P-256", 0);
	keys[2] = keygen("EC", "P-384", 0);
	keys[3] = keygen("ED25519", NULL, 0);
	for (i = 0; i < 4; i++) {
		struct piv_pubkey pk, back;
		struct buf_out o;
		EVP_PKEY *e = NULL;

		cr_assert_eq(piv_pubkey_from_evp(keys[i], &pk, NULL), PV_OK);
		cr_assert_eq(pk.alg, want[i]);
		/* Through the card's 7F49 encoding and back. */
		cr_assert(buf_out_alloc(&o, 16, 4096));
		cr_assert_eq(piv_pubkey_build(&pk, &o, NULL), PV_OK);
		cr_assert_eq(piv_pubkey_parse(pk.alg, o.p, o.len, &back, NULL),
		    PV_OK);
		cr_assert_eq(piv_pubkey_to_evp(&back, &e, NULL), PV_OK);
		cr_assert_eq(EVP_PKEY_eq(e, keys[i]), 1, "key %zu", i);
		EVP_PKEY_free(e);
		buf_out_cleanup(&o);
		EVP_PKEY_free(keys[i]);
	}
}

Test(piv_pkey, refusals)
{
	struct piv_pubkey pk;
	EVP_PKEY *e = (EVP_PKEY *)1, *k;
	struct pv_why why = { { 0 } };
	size_t i;

	memset(&pk, 0, sizeof(pk));
	pk.alg = PIV_ALG_ECC_P256;
	pk.point[0] = 0x04;
	for (i = 1; i < 65; i++)
		pk.point[i] = (uint8_t)i;	/* not on the curve */
	pk.point_len = 65;
	cr_assert_eq(piv_pubkey_to_evp(&pk, &e, &why), PV_E_MALFORMED);
	cr_assert_str_eq(why.msg, "public key: EC point is not on P-256");
	cr_assert_null(e);
	pk.alg = PIV_ALG_AES128;
	cr_assert_eq(piv_pubkey_to_evp(&pk, &e, NULL), PV_E_INVAL);
	/* A curve PIV does not use. */
	k = keygen("EC", "P-521", 0);
	cr_assert_eq(piv_pubkey_from_evp(k, &pk, NULL), PV_E_INVAL);
	EVP_PKEY_free(k);
}

/* STYLE §8 failure sweep: the card vanishes at exchange k of the flow. */
Test(piv_auth, failure_sweep)
{
	size_t k;

	for (k = 1; k <= 2; k++) {
		struct soft *c = calloc(1, sizeof(*c));
		struct rig r;

		c->mgmt_alg = PIV_ALG_AES128;
		c->mgmt_len = 16;
		rig_init(&r, false);
		soft_expect(&r, c, 2);
		fake_card_fail_at(r.fc, k, PV_E_NO_CARD);
		cr_assert_eq(piv_auth_mgmt(&r.s, c->mgmt_alg, c->mgmt_key, 16,
		    &r.why), PV_E_NO_CARD, "k=%zu", k);
		cr_assert(strstr(r.why.msg, "GENERAL AUTHENTICATE 9B (mutual)") ==
		    r.why.msg, "%s", r.why.msg);
		cr_assert_eq(r.s.stats.n_apdus, k);
		fake_card_free(r.fc);
		free(c);
	}
}
