/*
 * mgmtkey.c: HKDF-derived per-card 9B keys (mgmtkey.h).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "apdu/piv_yk.h"
#include "issuance/mgmtkey.h"
#include "issuance/pkix_util.h"

const uint8_t mgmtkey_yubikey_default[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8
};


void
mgmtkey_clear(struct mgmtkey *k)
{
	if (k != NULL)
		OPENSSL_cleanse(k, sizeof(*k));
}

size_t
mgmtkey_alg_len(enum mgmtkey_alg alg)
{
	switch (alg) {
	case MGMTKEY_3DES: return 24;
	case MGMTKEY_AES128: return 16;
	case MGMTKEY_AES192: return 24;
	case MGMTKEY_AES256: return 32;
	default: return 0;
	}
}

const char *
mgmtkey_alg_name(enum mgmtkey_alg alg)
{
	switch (alg) {
	case MGMTKEY_3DES: return "3DES";
	case MGMTKEY_AES128: return "AES-128";
	case MGMTKEY_AES192: return "AES-192";
	case MGMTKEY_AES256: return "AES-256";
	default: return "unknown";
	}
}

unsigned
mgmtkey_caps_yubikey(unsigned major, unsigned minor, unsigned patch)
{
	unsigned caps = MGMTKEY_CAP_3DES;
	unsigned long v = (unsigned long)major * 1000000ul +
	    (unsigned long)minor * 1000ul + patch;

	/* Yubico SDK: AES management keys from firmware 5.4.2. */
	if (v >= 5004002ul)
		caps |= MGMTKEY_CAP_AES128 | MGMTKEY_CAP_AES192 |
		    MGMTKEY_CAP_AES256;
	return caps;
}

enum pv_err
mgmtkey_pick(unsigned caps, enum mgmtkey_alg *out)
{
	if (caps & MGMTKEY_CAP_AES256)
		*out = MGMTKEY_AES256;
	else if (caps & MGMTKEY_CAP_AES192)
		*out = MGMTKEY_AES192;
	else if (caps & MGMTKEY_CAP_AES128)
		*out = MGMTKEY_AES128;
	else if (caps & MGMTKEY_CAP_3DES)
		*out = MGMTKEY_3DES;
	else
		return PV_E_NOT_SUPPORTED;
	return PV_OK;
}

enum pv_err
mgmtkey_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
    size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
    size_t out_len, struct pv_why *why)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5];
	size_t n = 0;
	enum pv_err r = PV_E_INTERNAL;

	if (out_len == 0 || out_len > 255 * 32 || ikm_len == 0)
		return pv_why_set(why, PV_E_INVAL, "HKDF: bad lengths");
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)ikm, ikm_len);
	if (salt_len > 0)
		params[n++] = OSSL_PARAM_construct_octet_string(
		    OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt, salt_len);
	if (info_len > 0)
		params[n++] = OSSL_PARAM_construct_octet_string(
		    OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info, info_len);
	params[n] = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, out, out_len, params) != 1) {
		OPENSSL_cleanse(out, out_len);
		r = pkix_crypto_err(why, "HKDF-SHA256");
		goto out;
	}
	r = PV_OK;
out:
	EVP_KDF_CTX_free(ctx);	/* clears the key material it copied */
	EVP_KDF_free(kdf);
	return r;
}

bool
mgmtkey_des_weak(const uint8_t k[8])
{
	return piv_des_key_weak(k);
}

/* Odd parity in every byte (the low bit is DES's parity bit). */
static void
mgmtkey_des_parity(uint8_t *k, size_t n)
{
	size_t i;
	uint8_t b, ones;

	for (i = 0; i < n; i++) {
		b = (uint8_t)(k[i] & 0xfe);
		ones = (uint8_t)__builtin_popcount(b);
		k[i] = (uint8_t)(b | ((ones & 1) ? 0 : 1));
	}
}

static bool
mgmtkey_3des_ok(const uint8_t k[24])
{
	return !mgmtkey_des_weak(k) && !mgmtkey_des_weak(k + 8) &&
	    !mgmtkey_des_weak(k + 16) &&
	    /* K1 = K2 or K2 = K3 collapses 3DES to single DES */
	    CRYPTO_memcmp(k, k + 8, 8) != 0 && CRYPTO_memcmp(k + 8, k + 16, 8) != 0;
}

enum pv_err
mgmtkey_derive(const uint8_t *master, size_t master_len, const uint8_t *salt,
    size_t salt_len, const uint8_t *id, size_t id_len, enum mgmtkey_alg alg,
    struct mgmtkey *out, struct pv_why *why)
{
	uint8_t info[sizeof(MGMTKEY_INFO_LABEL) - 1 + MGMTKEY_ID_MAX + 1];
	size_t label = sizeof(MGMTKEY_INFO_LABEL) - 1, info_len;
	size_t len = mgmtkey_alg_len(alg);
	unsigned attempt;
	enum pv_err r = PV_E_INTERNAL;

	mgmtkey_clear(out);
	if (len == 0)
		return pv_why_set(why, PV_E_INVAL, "management key algorithm %02X",
		    (unsigned)alg);
	if (master == NULL || master_len < MGMTKEY_MASTER_MIN)
		return pv_why_set(why, PV_E_CONFIG,
		    "station master secret: at least %d bytes needed",
		    MGMTKEY_MASTER_MIN);
	if (id == NULL || id_len == 0 || id_len > MGMTKEY_ID_MAX)
		return pv_why_set(why, PV_E_INVAL,
		    "card id of %zu bytes (1..%d)", id_len, MGMTKEY_ID_MAX);
	memcpy(info, MGMTKEY_INFO_LABEL, label);
	memcpy(info + label, id, id_len);
	info_len = label + id_len;
	for (attempt = 0; attempt < 16; attempt++) {
		/* Retries (3DES only, about 2^-52 likely) append a counter. */
		if (attempt > 0)
			info[label + id_len] = (uint8_t)attempt;
		if ((r = mgmtkey_hkdf_sha256(master, master_len, salt, salt_len,
		    info, info_len + (attempt > 0 ? 1 : 0), out->key, len,
		    why)) != PV_OK)
			goto out;
		if (alg != MGMTKEY_3DES)
			break;
		mgmtkey_des_parity(out->key, len);
		if (mgmtkey_3des_ok(out->key))
			break;
	}
	if (attempt == 16) {
		r = pv_why_set(why, PV_E_CRYPTO, "no usable 3DES key derived");
		goto out;
	}
	out->alg = alg;
	out->len = len;
	r = PV_OK;
out:
	OPENSSL_cleanse(info, sizeof(info));
	if (r != PV_OK)
		mgmtkey_clear(out);
	return r;
}
