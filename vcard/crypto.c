/*
 * crypto.c: the virtual card's cryptography on OpenSSL 3 (EVP, OSSL_PARAM).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apdu/tlv.h"
#include "vcard/crypto.h"

#ifdef PV_FUZZING
/* Deterministic stream (splitmix64) so a fuzz input replays the same. */
static uint64_t vc_rng_state = 0x9e3779b97f4a7c15u;

void
vc_rand_seed(uint64_t seed)
{
	vc_rng_state = seed ^ 0x9e3779b97f4a7c15u;
}

bool
vc_rand(void *p, size_t n)
{
	uint8_t *o = p;

	while (n > 0) {
		uint64_t z = (vc_rng_state += 0x9e3779b97f4a7c15u);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
		for (int i = 0; i < 8 && n > 0; i++, n--)
			*o++ = (uint8_t)(z >> (8 * i));
	}
	return true;
}
#else
void
vc_rand_seed(uint64_t seed)
{
	(void)seed;
}

bool
vc_rand(void *p, size_t n)
{
	if (n > (size_t)0x7fffffff)
		return false;
	return RAND_bytes(p, (int)n) == 1;
}
#endif

bool
vc_alg_is_rsa(uint8_t alg)
{
	return alg == 0x06 || alg == 0x07 || alg == 0x05 || alg == 0x16;
}

bool
vc_alg_is_ec(uint8_t alg)
{
	return alg == 0x11 || alg == 0x14;
}

unsigned
vc_alg_bits(uint8_t alg)
{
	switch (alg) {
	case 0x06: return 1024;
	case 0x07: return 2048;
	case 0x05: return 3072;
	case 0x16: return 4096;
	case 0x11: return 256;
	case 0x14: return 384;
	default: return 0;
	}
}

uint8_t
vc_alg_of_pkey(const EVP_PKEY *pkey)
{
	int bits = EVP_PKEY_get_bits(pkey);

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		switch (bits) {
		case 1024: return 0x06;
		case 2048: return 0x07;
		case 3072: return 0x05;
		case 4096: return 0x16;
		default: return 0;
		}
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char name[32];

		if (!EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), NULL))
			return 0;
		if (strcmp(name, "prime256v1") == 0 ||
		    strcmp(name, "P-256") == 0)
			return 0x11;
		if (strcmp(name, "secp384r1") == 0 ||
		    strcmp(name, "P-384") == 0)
			return 0x14;
	}
	return 0;
}

static enum pv_err
vc_keygen_real(uint8_t alg, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	enum pv_err r = PV_E_CRYPTO;
	unsigned bits = vc_alg_bits(alg);

	if (bits == 0)
		return PV_E_INVAL;
	ctx = EVP_PKEY_CTX_new_from_name(NULL,
	    vc_alg_is_rsa(alg) ? "RSA" : "EC", NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
		goto out;
	if (vc_alg_is_rsa(alg)) {
		if (EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0)
			goto out;
	} else if (EVP_PKEY_CTX_set_group_name(ctx,
	    alg == 0x11 ? "P-256" : "P-384") <= 0) {
		goto out;
	}
	if (EVP_PKEY_generate(ctx, &pkey) <= 0)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = PV_OK;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

enum pv_err
vc_keygen(uint8_t alg, EVP_PKEY **out)
{
	*out = NULL;
#ifdef PV_FUZZING
	/* One key per algorithm for the whole run: fast and repeatable. */
	static EVP_PKEY *cache[6];
	static const uint8_t algs[6] = { 0x06, 0x07, 0x05, 0x16, 0x11, 0x14 };

	for (size_t i = 0; i < 6; i++) {
		if (algs[i] != alg)
			continue;
		if (cache[i] == NULL) {
			enum pv_err r = vc_keygen_real(alg, &cache[i]);

			if (r != PV_OK)
				return r;
		}
		if (!EVP_PKEY_up_ref(cache[i]))
			return PV_E_CRYPTO;
		*out = cache[i];
		return PV_OK;
	}
	return PV_E_INVAL;
#else
	return vc_keygen_real(alg, out);
#endif
}

/* Appends BIGNUM parameter |name| of |pkey| as TLV |tag|, minimal bytes. */
static bool
put_bn_param(const EVP_PKEY *pkey, const char *name, uint32_t tag,
    size_t pad_to, struct buf_out *out)
{
	BIGNUM *bn = NULL;
	uint8_t *tmp = NULL;
	size_t n;
	bool ok = false;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		goto out;
	n = (size_t)BN_num_bytes(bn);
	if (pad_to > n)
		n = pad_to;
	if ((tmp = OPENSSL_malloc(n > 0 ? n : 1)) == NULL)
		goto out;
	if (BN_bn2binpad(bn, tmp, (int)n) < 0)
		goto out;
	ok = tlv_put(out, tag, tmp, n);
out:
	OPENSSL_free(tmp);
	BN_free(bn);
	return ok;
}

bool
vc_pubkey_put(const EVP_PKEY *pkey, struct buf_out *out)
{
	uint8_t pt[133];
	size_t n = 0;

	if (EVP_PKEY_is_a(pkey, "RSA"))
		return put_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0x81,
		    (size_t)EVP_PKEY_get_size(pkey), out) &&
		    put_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0x82, 0, out);
	if (!EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &n)) {
		out->err = true;
		return false;
	}
	return tlv_put(out, 0x86, pt, n);
}

enum pv_err
vc_rsa_private(EVP_PKEY *pkey, const uint8_t *in, size_t in_len,
    struct buf_out *out)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *dst;
	size_t k = (size_t)EVP_PKEY_get_size(pkey), n = k;
	enum pv_err r = PV_E_CRYPTO;

	if (!EVP_PKEY_is_a(pkey, "RSA"))
		return PV_E_INVAL;
	if (in_len != k)
		return PV_E_BAD_DATA;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0)
		goto out;
	if (!buf_out_reserve(out, k, &dst)) {
		r = PV_E_NOMEM;
		goto out;
	}
	if (EVP_PKEY_decrypt(ctx, dst, &n, in, in_len) <= 0 || n != k) {
		/* OpenSSL refuses input >= n: the host's data is bad. */
		buf_out_truncate(out, out->len - k);
		ERR_clear_error();
		r = PV_E_BAD_DATA;
		goto out;
	}
	r = PV_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

enum pv_err
vc_ecdsa_sign(EVP_PKEY *pkey, const uint8_t *h, size_t h_len,
    struct buf_out *out)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t sig[160];
	size_t n = sizeof(sig);
	enum pv_err r = PV_E_CRYPTO;

	if (!EVP_PKEY_is_a(pkey, "EC"))
		return PV_E_INVAL;
	if (h_len == 0 || h_len > 64)
		return PV_E_BAD_DATA;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_sign(ctx, sig, &n, h, h_len) <= 0)
		goto out;
	r = buf_put(out, sig, n) ? PV_OK : PV_E_NOMEM;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* A public-only EC key on the curve of |like| from the point |pt|. */
static EVP_PKEY *
ec_peer(const EVP_PKEY *like, const uint8_t *pt, size_t pt_len)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer = NULL;
	char group[32];

	if (!EVP_PKEY_get_utf8_string_param(like, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL))
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)pt, pt_len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		peer = NULL;
	EVP_PKEY_CTX_free(ctx);
	return peer;
}

enum pv_err
vc_ecdh(EVP_PKEY *pkey, const uint8_t *pt, size_t pt_len,
    struct buf_out *out)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer = NULL;
	uint8_t z[66];
	size_t n = sizeof(z), want;
	enum pv_err r = PV_E_CRYPTO;

	if (!EVP_PKEY_is_a(pkey, "EC"))
		return PV_E_INVAL;
	want = 1 + 2 * (((size_t)EVP_PKEY_get_bits(pkey) + 7) / 8);
	if (pt_len != want || pt[0] != 0x04)
		return PV_E_BAD_DATA;
	if ((peer = ec_peer(pkey, pt, pt_len)) == NULL) {
		ERR_clear_error();
		r = PV_E_BAD_DATA;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) <= 0) {
		ERR_clear_error();
		r = PV_E_BAD_DATA;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, z, &n) <= 0)
		goto out;
	r = buf_put(out, z, n) ? PV_OK : PV_E_NOMEM;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return r;
}

size_t
vc_sym_block_len(uint8_t alg)
{
	switch (alg) {
	case 0x03: return 8;
	case 0x08: case 0x0a: case 0x0c: return 16;
	default: return 0;
	}
}

size_t
vc_sym_key_len(uint8_t alg)
{
	switch (alg) {
	case 0x03: return 24;
	case 0x08: return 16;
	case 0x0a: return 24;
	case 0x0c: return 32;
	default: return 0;
	}
}


enum pv_err
vc_sym_crypt(uint8_t alg, const uint8_t *key, bool enc, const uint8_t *in,
    uint8_t *out)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t bl = vc_sym_block_len(alg);
	int n1 = 0, n2 = 0;
	enum pv_err r = PV_E_CRYPTO;

	switch (alg) {
	case 0x03: c = EVP_des_ede3_ecb(); break;
	case 0x08: c = EVP_aes_128_ecb(); break;
	case 0x0a: c = EVP_aes_192_ecb(); break;
	case 0x0c: c = EVP_aes_256_ecb(); break;
	default: return PV_E_INVAL;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, c, NULL, key, NULL, enc ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n1, in, (int)bl) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1 ||
	    (size_t)(n1 + n2) != bl)
		goto out;
	r = PV_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

enum pv_err
vc_import_rsa(const uint8_t *p, size_t p_len, const uint8_t *q,
    size_t q_len, const uint8_t *dp, size_t dp_len, const uint8_t *dq,
    size_t dq_len, const uint8_t *qinv, size_t qinv_len, EVP_PKEY **out)
{
	BN_CTX *bc = NULL;
	BIGNUM *bp = NULL, *bq = NULL, *bdp = NULL, *bdq = NULL, *bqi = NULL;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *p1 = NULL, *q1 = NULL;
	BIGNUM *phi = NULL, *t = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	enum pv_err r = PV_E_CRYPTO;
	int bits;

	*out = NULL;
	if ((bc = BN_CTX_secure_new()) == NULL ||
	    (bp = BN_secure_new()) == NULL || (bq = BN_secure_new()) == NULL ||
	    (bdp = BN_secure_new()) == NULL || (bdq = BN_secure_new()) == NULL ||
	    (bqi = BN_secure_new()) == NULL || (n = BN_new()) == NULL ||
	    (e = BN_new()) == NULL || (d = BN_secure_new()) == NULL ||
	    (p1 = BN_secure_new()) == NULL || (q1 = BN_secure_new()) == NULL ||
	    (phi = BN_secure_new()) == NULL || (t = BN_secure_new()) == NULL)
		goto out;
	if (p_len > 512 || q_len > 512 || dp_len > 512 || dq_len > 512 ||
	    qinv_len > 512) {
		r = PV_E_BAD_DATA;
		goto out;
	}
	if (BN_bin2bn(p, (int)p_len, bp) == NULL ||
	    BN_bin2bn(q, (int)q_len, bq) == NULL ||
	    BN_bin2bn(dp, (int)dp_len, bdp) == NULL ||
	    BN_bin2bn(dq, (int)dq_len, bdq) == NULL ||
	    BN_bin2bn(qinv, (int)qinv_len, bqi) == NULL ||
	    !BN_set_word(e, 65537))
		goto out;
	r = PV_E_BAD_DATA;
	if (BN_num_bits(bp) < 256 || BN_num_bits(bq) < 256 || !BN_is_odd(bp) ||
	    !BN_is_odd(bq) || BN_cmp(bp, bq) == 0)
		goto out;
	if (!BN_mul(n, bp, bq, bc))
		goto out;
	bits = BN_num_bits(n);
	if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096)
		goto out;
	if (BN_copy(p1, bp) == NULL || !BN_sub_word(p1, 1) ||
	    BN_copy(q1, bq) == NULL || !BN_sub_word(q1, 1) ||
	    !BN_mul(phi, p1, q1, bc) ||
	    BN_mod_inverse(d, e, phi, bc) == NULL)
		goto out;
	/* The components must describe the key with e = 65537. */
	if (!BN_mod(t, d, p1, bc) || BN_cmp(t, bdp) != 0 ||
	    !BN_mod(t, d, q1, bc) || BN_cmp(t, bdq) != 0 ||
	    !BN_mod_mul(t, bq, bqi, bp, bc) || !BN_is_one(t))
		goto out;
	r = PV_E_CRYPTO;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, bp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, bq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, bdp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, bdq) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bqi) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = PV_OK;
out:
	if (r != PV_OK)
		ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bp);
	BN_clear_free(bq);
	BN_clear_free(bdp);
	BN_clear_free(bdq);
	BN_clear_free(bqi);
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(phi);
	BN_clear_free(t);
	BN_CTX_free(bc);
	return r;
}

enum pv_err
vc_import_ec(uint8_t alg, const uint8_t *dbytes, size_t d_len,
    EVP_PKEY **out)
{
	EC_GROUP *grp = NULL;
	EC_POINT *pub = NULL;
	BN_CTX *bc = NULL;
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t pt[97];
	size_t pt_len, flen = vc_alg_bits(alg) / 8;
	enum pv_err r = PV_E_CRYPTO;

	*out = NULL;
	if (!vc_alg_is_ec(alg))
		return PV_E_INVAL;
	if (d_len != flen)
		return PV_E_BAD_DATA;
	if ((grp = EC_GROUP_new_by_curve_name(alg == 0x11 ?
	    NID_X9_62_prime256v1 : NID_secp384r1)) == NULL ||
	    (pub = EC_POINT_new(grp)) == NULL ||
	    (bc = BN_CTX_secure_new()) == NULL ||
	    (d = BN_secure_new()) == NULL ||
	    BN_bin2bn(dbytes, (int)d_len, d) == NULL)
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
		r = PV_E_BAD_DATA;
		goto out;
	}
	if (!EC_POINT_mul(grp, pub, d, NULL, NULL, bc) ||
	    (pt_len = EC_POINT_point2oct(grp, pub,
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), bc)) == 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    alg == 0x11 ? "P-256" : "P-384", 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, pt_len) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = PV_OK;
out:
	if (r != PV_OK)
		ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	BN_CTX_free(bc);
	EC_POINT_free(pub);
	EC_GROUP_free(grp);
	return r;
}

bool
vc_pkcs8_put(const EVP_PKEY *pkey, struct buf_out *out)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL;
	int n;
	bool ok = false;

	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL ||
	    (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0)
		goto out;
	ok = buf_put(out, der, (size_t)n);
out:
	if (!ok)
		out->err = true;
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return ok;
}

enum pv_err
vc_pkcs8_get(const uint8_t *p, size_t len, EVP_PKEY **out)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	const unsigned char *q = p;
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	if (len > 0x100000)
		return PV_E_MALFORMED;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)len);
	if (p8 == NULL || q != p + len ||
	    (pkey = EVP_PKCS82PKEY(p8)) == NULL) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		ERR_clear_error();
		return PV_E_MALFORMED;
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	*out = pkey;
	return PV_OK;
}

/* Adds an extension whose value is |len| raw bytes (not re-encoded). */
static bool
add_raw_ext(X509 *x, const char *oid, const uint8_t *v, size_t len)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	bool ok = false;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, v, (int)len) ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		goto out;
	ok = true;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

static bool
add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return false;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static bool
set_random_serial(X509 *x)
{
	uint8_t b[16];
	BIGNUM *bn;
	bool ok;

	if (!vc_rand(b, sizeof(b)))
		return false;
	b[0] &= 0x7f;
	b[0] |= 0x01;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		return false;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

static bool
set_validity(X509 *x)
{
	/* Fixed dates: the card has no clock. */
	return ASN1_TIME_set_string_X509(X509_getm_notBefore(x),
	    "20200101000000Z") == 1 &&
	    ASN1_TIME_set_string_X509(X509_getm_notAfter(x),
	    "20600101000000Z") == 1;
}

static bool
der_put_x509(X509 *x, struct buf_out *out)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	bool ok;

	if (n <= 0) {
		out->err = true;
		return false;
	}
	ok = buf_put(out, der, (size_t)n);
	OPENSSL_free(der);
	return ok;
}

/*
 * The attestation root of every pivstation-vcard usb-key, standing in for
 * a vendor's attestation CA (Yubico's PIV Root CA): it signs each card's
 * F9 certificate.  A test station trusts it through [attestation] roots
 * (pivstation-vcard --attestation-root prints it).  Its key is public by
 * design: it vouches for simulated tokens only.
 */
static const char vc_attest_root_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDKFbO6PxPFOxfq48\n"
	"pV6MU1M9NDoFdCPpKMHk35zbDp+hRANCAAQyXIQpVXx9FfOxnu2aNBTQNGhw8tJS\n"
	"gtK8h3fjj1evk6D6osyHeY2Ts36zURkyeGO0z9vd/CbVvAIQQPtpvZrQ\n"
	"-----END PRIVATE KEY-----\n";

static const char vc_attest_root_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBpTCCAUygAwIBAgIUOW2/Kwdy9EDXG7hd0tBU2K1d0PkwCgYIKoZIzj0EAwIw\n"
	"MDEuMCwGA1UEAwwlcGl2c3RhdGlvbi12Y2FyZCBQSVYgQXR0ZXN0YXRpb24gUm9v\n"
	"dDAgFw0yMDAxMDEwMDAwMDBaGA8yMDYwMDEwMTAwMDAwMFowMDEuMCwGA1UEAwwl\n"
	"cGl2c3RhdGlvbi12Y2FyZCBQSVYgQXR0ZXN0YXRpb24gUm9vdDBZMBMGByqGSM49\n"
	"AgEGCCqGSM49AwEHA0IABDJchClVfH0V87Ge7Zo0FNA0aHDy0lKC0ryHd+OPV6+T\n"
	"oPqizId5jZOzfrNRGTJ4Y7TP2938JtW8AhBA+2m9mtCjQjBAMA8GA1UdEwEB/wQF\n"
	"MAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBRjHYjsc8utlZodqPgbGXBI\n"
	"qw07STAKBggqhkjOPQQDAgNHADBEAiAQcV4JSNQfE46X+85wTVt0O3OOzYPeGbIX\n"
	"QJ8GXaBBNAIgBf8GtkQs1ljVAC7tr53uWkl0HR7facibm9iLYrkwlHo=\n"
	"-----END CERTIFICATE-----\n";

const char *
vc_attest_root_pem(void)
{
	return vc_attest_root_cert;
}

/* The root's key and certificate, parsed. */
static enum pv_err
vc_attest_root(EVP_PKEY **key, X509 **cert)
{
	BIO *b = NULL;
	enum pv_err r = PV_E_CRYPTO;

	*key = NULL;
	*cert = NULL;
	if ((b = BIO_new_mem_buf(vc_attest_root_key, -1)) == NULL ||
	    (*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		goto out;
	BIO_free(b);
	if ((b = BIO_new_mem_buf(vc_attest_root_cert, -1)) == NULL ||
	    (*cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto out;
	r = PV_OK;
out:
	BIO_free(b);
	if (r != PV_OK) {
		EVP_PKEY_free(*key);
		*key = NULL;
		ERR_clear_error();
	}
	return r;
}

enum pv_err
vc_attest_ca(uint32_t serial, EVP_PKEY **key, struct buf_out *cert)
{
	EVP_PKEY *pkey = NULL, *root_key = NULL;
	X509 *x = NULL, *root = NULL;
	X509_NAME *name = NULL;
	char cn[96];
	enum pv_err r;

	*key = NULL;
	if ((r = vc_attest_root(&root_key, &root)) != PV_OK)
		return r;
	if ((r = vc_keygen(0x11, &pkey)) != PV_OK)
		goto out;
	r = PV_E_CRYPTO;
	(void)snprintf(cn, sizeof(cn),
	    "pivstation-vcard PIV Attestation %u", (unsigned)serial);
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_version(x, 2) || !set_random_serial(x) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(root)) ||
	    !set_validity(x) || !X509_set_pubkey(x, pkey) ||
	    !add_conf_ext(x, root, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") ||
	    !add_conf_ext(x, root, NID_key_usage, "critical,keyCertSign") ||
	    !add_conf_ext(x, root, NID_subject_key_identifier, "hash") ||
	    !add_conf_ext(x, root, NID_authority_key_identifier,
	    "keyid:always") ||
	    X509_sign(x, root_key, EVP_sha256()) <= 0 ||
	    !der_put_x509(x, cert))
		goto out;
	*key = pkey;
	pkey = NULL;
	r = PV_OK;
out:
	if (r != PV_OK)
		ERR_clear_error();
	X509_NAME_free(name);
	X509_free(x);
	X509_free(root);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(root_key);
	return r;
}

enum pv_err
vc_attest_cert(EVP_PKEY *ca_key, const uint8_t *ca_der, size_t ca_len,
    EVP_PKEY *subject_key, uint8_t slot, const uint8_t version[3],
    uint32_t serial, uint8_t pin_policy, uint8_t touch_policy,
    struct buf_out *out)
{
	X509 *ca = NULL, *x = NULL;
	X509_NAME *name = NULL;
	const unsigned char *q = ca_der;
	uint8_t ser[6], pol[2] = { pin_policy, touch_policy }, ff = 0x01;
	char cn[64];
	enum pv_err r = PV_E_CRYPTO;

	if (ca_len > 0x10000 ||
	    (ca = d2i_X509(NULL, &q, (long)ca_len)) == NULL)
		goto out;
	(void)snprintf(cn, sizeof(cn), "pivstation-vcard PIV Attestation %02x",
	    slot);
	/* Serial: DER INTEGER, as the YubiKey encodes extension .3.7. */
	ser[0] = 0x02;
	ser[1] = 0x04;
	ser[2] = (uint8_t)(serial >> 24);
	ser[3] = (uint8_t)(serial >> 16);
	ser[4] = (uint8_t)(serial >> 8);
	ser[5] = (uint8_t)serial;
	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_version(x, 2) || !set_random_serial(x) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    !set_validity(x) || !X509_set_pubkey(x, subject_key) ||
	    !add_raw_ext(x, "1.3.6.1.4.1.41482.3.3", version, 3) ||
	    !add_raw_ext(x, "1.3.6.1.4.1.41482.3.7", ser, sizeof(ser)) ||
	    !add_raw_ext(x, "1.3.6.1.4.1.41482.3.8", pol, sizeof(pol)) ||
	    !add_raw_ext(x, "1.3.6.1.4.1.41482.3.9", &ff, 1) ||
	    X509_sign(x, ca_key, EVP_sha256()) <= 0 || !der_put_x509(x, out))
		goto out;
	r = PV_OK;
out:
	if (r != PV_OK)
		ERR_clear_error();
	X509_NAME_free(name);
	X509_free(x);
	X509_free(ca);
	return r;
}
