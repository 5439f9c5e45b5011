/*
 * piv_pkey.c: struct piv_pubkey <-> OpenSSL EVP_PKEY, and IMPORT KEY from
 * an EVP_PKEY.  OpenSSL 3 provider APIs only (OSSL_PARAM,
 * EVP_PKEY_fromdata, EVP_PKEY_get_bn_param).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "apdu/buf.h"
#include "apdu/piv_pkey.h"
#include "apdu/piv_yk.h"

static const char *
ec_group(uint8_t alg)
{
	return alg == PIV_ALG_ECC_P256 ? "P-256" :
	    alg == PIV_ALG_ECC_P384 ? "P-384" : NULL;
}

static enum pv_err
fromdata(const char *type, OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx;
	enum pv_err r = PV_E_MALFORMED;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		return PV_E_CRYPTO;
	if (EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		r = PV_OK;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* EVP_PKEY_public_check: for EC, the point is on the curve. */
static bool
public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	bool ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return false;
	ok = EVP_PKEY_public_check(ctx) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

enum pv_err
piv_pubkey_to_evp(const struct piv_pubkey *pk, EVP_PKEY **out,
    struct pv_why *why)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey = NULL;
	const char *group = ec_group(pk->alg);
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if (pk->alg == PIV_ALG_ED25519 || pk->alg == PIV_ALG_X25519) {
		pkey = EVP_PKEY_new_raw_public_key_ex(NULL,
		    pk->alg == PIV_ALG_ED25519 ? "ED25519" : "X25519", NULL,
		    pk->point, pk->point_len);
		r = pkey != NULL ? PV_OK : pv_why_set(why, PV_E_MALFORMED,
		    "public key: OpenSSL refuses the %s key",
		    piv_alg_name(pk->alg));
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	if (piv_alg_rsa_len(pk->alg) > 0) {
		if ((n = BN_bin2bn(pk->modulus, (int)pk->modulus_len, NULL)) ==
		    NULL || (e = BN_bin2bn(pk->exponent, (int)pk->exponent_len,
		    NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
		    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
			r = PV_E_NOMEM;
			goto out;
		}
		if ((r = fromdata("RSA", params, &pkey)) != PV_OK)
			(void)pv_why_set(why, r, "public key: OpenSSL refuses "
			    "the RSA key");
		goto out;
	}
	if (group == NULL) {
		r = pv_why_set(why, PV_E_INVAL, "public key: algorithm %02X has "
		    "no public key", pk->alg);
		goto out;
	}
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0) || !OSSL_PARAM_BLD_push_octet_string(bld,
	    OSSL_PKEY_PARAM_PUB_KEY, pk->point, pk->point_len) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	if (fromdata("EC", params, &pkey) != PV_OK || !public_ok(pkey)) {
		r = pv_why_set(why, PV_E_MALFORMED, "public key: EC point is not "
		    "on %s", group);
		goto out;
	}
	r = PV_OK;
out:
	if (r == PV_OK) {
		*out = pkey;
		pkey = NULL;
	}
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

/* A BIGNUM parameter of |pkey| as exactly |n| big-endian bytes. */
static bool
bn_param(const EVP_PKEY *pkey, const char *name, uint8_t *dst, size_t n)
{
	BIGNUM *bn = NULL;
	bool ok;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return false;
	ok = (size_t)BN_num_bytes(bn) <= n &&
	    BN_bn2binpad(bn, dst, (int)n) == (int)n;
	BN_clear_free(bn);
	return ok;
}

static uint8_t
rsa_alg(int bits)
{
	switch (bits) {
	case 1024:
		return PIV_ALG_RSA1024;
	case 2048:
		return PIV_ALG_RSA2048;
	case 3072:
		return PIV_ALG_RSA3072;
	case 4096:
		return PIV_ALG_RSA4096;
	default:
		return 0;
	}
}

/* The PIV algorithm for |pkey|, 0 when PIV cannot hold it. */
static uint8_t
evp_alg(const EVP_PKEY *pkey)
{
	char name[64];
	size_t len = 0;

	if (EVP_PKEY_is_a(pkey, "RSA"))
		return rsa_alg(EVP_PKEY_get_bits(pkey));
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return PIV_ALG_ED25519;
	if (EVP_PKEY_is_a(pkey, "X25519"))
		return PIV_ALG_X25519;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    name, sizeof(name), &len) != 1)
		return 0;
	if (strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0)
		return PIV_ALG_ECC_P256;
	if (strcmp(name, "secp384r1") == 0 || strcmp(name, "P-384") == 0)
		return PIV_ALG_ECC_P384;
	return 0;
}

enum pv_err
piv_pubkey_from_evp(const EVP_PKEY *pkey, struct piv_pubkey *out,
    struct pv_why *why)
{
	uint8_t alg = evp_alg(pkey);
	size_t k = piv_alg_rsa_len(alg), f = piv_alg_ec_len(alg), len = 0;
	BIGNUM *e = NULL;
	enum pv_err r = PV_E_CRYPTO;

	memset(out, 0, sizeof(*out));
	if (alg == 0)
		return pv_why_set(why, PV_E_INVAL, "public key: a PIV card cannot "
		    "hold this key type or size");
	out->alg = alg;
	if (k > 0) {
		if (!bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, out->modulus, k) ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
			goto out;
		out->modulus_len = k;
		out->exponent_len = (size_t)BN_num_bytes(e);
		if (out->exponent_len == 0 ||
		    out->exponent_len > sizeof(out->exponent) ||
		    BN_bn2bin(e, out->exponent) != (int)out->exponent_len) {
			r = pv_why_set(why, PV_E_INVAL, "public key: RSA exponent "
			    "longer than %zu bytes", sizeof(out->exponent));
			goto out;
		}
	} else if (alg == PIV_ALG_ED25519 || alg == PIV_ALG_X25519) {
		len = sizeof(out->point);
		if (EVP_PKEY_get_raw_public_key(pkey, out->point, &len) != 1 ||
		    len != f)
			goto out;
		out->point_len = len;
	} else {
		/* 04 || X || Y, whatever encoding the key was made with. */
		out->point[0] = 0x04;
		if (!bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, out->point + 1, f) ||
		    !bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, out->point + 1 + f,
		    f))
			goto out;
		out->point_len = 1 + 2 * f;
	}
	r = PV_OK;
out:
	BN_free(e);
	if (r == PV_E_CRYPTO)
		(void)pv_why_set(why, r, "public key: OpenSSL cannot export the "
		    "%s key", piv_alg_name(alg));
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

enum pv_err
piv_yk_import_evp(struct apdu_session *s, uint8_t key, const EVP_PKEY *pkey,
    uint8_t pin_policy, uint8_t touch_policy, struct pv_why *why)
{
	/* p, q, dP, dQ, qInv: the CRT form IMPORT KEY wants. */
	static const char *const rsa_names[5] = {
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	uint8_t alg = evp_alg(pkey), *buf = NULL;
	size_t k = piv_alg_rsa_len(alg), f = piv_alg_ec_len(alg), half, i;
	size_t buf_len = 0, len;
	const uint8_t *comp[5];
	size_t comp_len[5];
	enum pv_err r = PV_E_INTERNAL;

	if (alg == 0)
		return pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: a PIV card "
		    "cannot hold this key type or size", key);
	/* One buffer for every private component, wiped at the end. */
	buf_len = k > 0 ? 5 * (k / 2) : f;
	if ((buf = malloc(buf_len)) == NULL)
		return PV_E_NOMEM;
	if (k > 0) {
		half = k / 2;
		for (i = 0; i < 5; i++) {
			if (!bn_param(pkey, rsa_names[i], buf + i * half, half)) {
				r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: "
				    "the RSA key has no CRT component %zu of at "
				    "most %zu bytes", key, i + 1, half);
				goto out;
			}
			comp[i] = buf + i * half;
			comp_len[i] = half;
		}
		r = piv_yk_import_rsa(s, key, alg, comp, comp_len, pin_policy,
		    touch_policy, why);
	} else if (alg == PIV_ALG_ED25519 || alg == PIV_ALG_X25519) {
		len = buf_len;
		if (EVP_PKEY_get_raw_private_key(pkey, buf, &len) != 1 ||
		    len != f) {
			r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: no %s "
			    "private key", key, piv_alg_name(alg));
			goto out;
		}
		r = piv_yk_import_ec(s, key, alg, buf, len, pin_policy,
		    touch_policy, why);
	} else {
		if (!bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, buf, f)) {
			r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: no %s "
			    "private key", key, piv_alg_name(alg));
			goto out;
		}
		r = piv_yk_import_ec(s, key, alg, buf, f, pin_policy,
		    touch_policy, why);
	}
out:
	buf_free_secret(buf, buf_len);
	return r;
}
