/*
 * escrow.c: seal keys and PUKs to the KRA, open them, recover to PKCS#12
 * (escrow.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "issuance/audit.h"
#include "issuance/config.h"
#include "issuance/escrow.h"
#include "issuance/store.h"

#define ESCROW_P12_ITER 100000	/* PBKDF2 rounds for the PKCS#12 */

enum pv_err
escrow_keygen(enum pkix_alg alg, EVP_PKEY **out, struct pv_why *why)
{
	return pkix_keygen(alg, out, why);
}

/* escrow_set_recipient_params: OAEP for RSA, X9.63 KDF over SHA-256 for EC. */
static enum pv_err
escrow_set_recipient_params(CMS_RecipientInfo *ri, X509 *kra,
    struct pv_why *why)
{
	EVP_PKEY_CTX *pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
	EVP_PKEY *pub = X509_get0_pubkey(kra);

	if (pctx == NULL || pub == NULL)
		return pkix_crypto_err(why, "KRA recipient");
	if (EVP_PKEY_is_a(pub, "RSA")) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
			return pkix_crypto_err(why, "RSA-OAEP parameters");
	} else if (EVP_PKEY_is_a(pub, "EC")) {
		/* OpenSSL picks the X9.63 KDF and the AES wrap itself; without
		 * this the KDF hash would be SHA-1. */
		if (EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) <= 0)
			return pkix_crypto_err(why, "ECDH KDF parameters");
	} else {
		return pv_why_set(why, PV_E_INPUT,
		    "KRA certificate key is neither RSA nor EC");
	}
	return PV_OK;
}

enum pv_err
escrow_seal(const uint8_t *secret, size_t len, X509 *kra, uint8_t **out,
    size_t *out_len, struct pv_why *why)
{
	CMS_ContentInfo *cms = NULL;
	CMS_RecipientInfo *ri;
	BIO *in = NULL;
	unsigned char *der = NULL;
	int n;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (len > INT_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "secret too long to seal");
	if ((in = BIO_new_mem_buf(secret, (int)len)) == NULL ||
	    (cms = CMS_encrypt(NULL, NULL, EVP_aes_256_cbc(),
	    CMS_BINARY | CMS_PARTIAL)) == NULL ||
	    (ri = CMS_add1_recipient_cert(cms, kra, CMS_KEY_PARAM)) == NULL) {
		r = pkix_crypto_err(why, "escrow envelope");
		goto out;
	}
	if ((r = escrow_set_recipient_params(ri, kra, why)) != PV_OK)
		goto out;
	if (!CMS_final(cms, in, NULL, CMS_BINARY) ||
	    (n = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		r = pkix_crypto_err(why, "escrow envelope");
		goto out;
	}
	*out = der;
	*out_len = (size_t)n;
	r = PV_OK;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);	/* a read-only view of |secret|: nothing to wipe */
	return r;
}

enum pv_err
escrow_seal_key(EVP_PKEY *key, X509 *kra, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *der = NULL;
	int n = 0;
	enum pv_err r;

	*out = NULL;
	*out_len = 0;
	if ((p8 = EVP_PKEY2PKCS8(key)) == NULL ||
	    (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0) {
		r = pkix_crypto_err(why, "encoding the key as PKCS#8");
		goto out;
	}
	r = escrow_seal(der, (size_t)n, kra, out, out_len, why);
out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return r;
}

enum pv_err
escrow_random_puk(char out[ESCROW_PUK_LEN + 1], struct pv_why *why)
{
	uint8_t b[32];
	size_t i, got = 0;
	int rounds;

	/* A draw that is a weak PIN (config_pin_weakness: 10^-7 of them)
	 * is thrown away: nobody should guess a PUK by trying 12345678. */
	for (rounds = 0; rounds < 64; rounds++) {
		if (got == ESCROW_PUK_LEN) {
			if (config_pin_weakness(CONFIG_PIN_REFUSE_ALL,
			    (const uint8_t *)out, got) == NULL)
				break;
			got = 0;
		}
		if (RAND_bytes(b, sizeof(b)) != 1) {
			OPENSSL_cleanse(out, ESCROW_PUK_LEN + 1);
			return pkix_crypto_err(why, "random PUK");
		}
		/* 250 = 25 * 10: bytes below it are uniform modulo 10. */
		for (i = 0; i < sizeof(b) && got < ESCROW_PUK_LEN; i++)
			if (b[i] < 250)
				out[got++] = (char)('0' + b[i] % 10);
	}
	OPENSSL_cleanse(b, sizeof(b));
	if (got < ESCROW_PUK_LEN || config_pin_weakness(CONFIG_PIN_REFUSE_ALL,
	    (const uint8_t *)out, got) != NULL) {
		OPENSSL_cleanse(out, ESCROW_PUK_LEN + 1);
		return pv_why_set(why, PV_E_CRYPTO, "random PUK: no randomness");
	}
	out[ESCROW_PUK_LEN] = '\0';
	return PV_OK;
}

enum pv_err
escrow_seal_puk(const char *puk, X509 *kra, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	size_t n = puk != NULL ? strlen(puk) : 0;

	if (n < 6 || n > 8)
		return pv_why_set(why, PV_E_INPUT, "PUK of %zu characters", n);
	return escrow_seal((const uint8_t *)puk, n, kra, out, out_len, why);
}

enum pv_err
escrow_open(const uint8_t *env, size_t env_len, X509 *cert, EVP_PKEY *key,
    uint8_t **out, size_t *out_len, struct pv_why *why)
{
	CMS_ContentInfo *cms = NULL;
	const unsigned char *d = env;
	BIO *plain = NULL;
	char *p = NULL;
	long n;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (env_len == 0 || env_len > INT_MAX ||
	    (cms = d2i_CMS_ContentInfo(NULL, &d, (long)env_len)) == NULL ||
	    d != env + env_len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "escrow envelope: not one DER CMS EnvelopedData");
		goto out;
	}
	if ((plain = BIO_new(BIO_s_secmem())) == NULL) {
		r = pkix_crypto_err(why, "escrow envelope");
		goto out;
	}
	if (CMS_decrypt(cms, key, cert, NULL, plain, CMS_BINARY) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "escrow envelope: not for this KRA, or it does not decrypt");
		goto out;
	}
	n = BIO_get_mem_data(plain, &p);
	if (n <= 0 || p == NULL) {
		r = pv_why_set(why, PV_E_MALFORMED, "escrow envelope: empty");
		goto out;
	}
	if ((*out = OPENSSL_memdup(p, (size_t)n)) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	*out_len = (size_t)n;
	r = PV_OK;
out:
	ERR_clear_error();
	BIO_free(plain);	/* secure-heap memory BIO: cleared on free */
	CMS_ContentInfo_free(cms);
	return r;
}

enum pv_err
escrow_open_key(const uint8_t *env, size_t env_len, X509 *cert, EVP_PKEY *key,
    EVP_PKEY **out, struct pv_why *why)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	uint8_t *der = NULL;
	const unsigned char *d;
	size_t n = 0;
	enum pv_err r;

	*out = NULL;
	if ((r = escrow_open(env, env_len, cert, key, &der, &n, why)) != PV_OK)
		return r;
	d = der;
	if (n > LONG_MAX || (p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &d,
	    (long)n)) == NULL || d != der + n ||
	    (*out = EVP_PKCS82PKEY(p8)) == NULL) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_MALFORMED,
		    "escrow envelope: the content is not a PKCS#8 private key");
		goto out;
	}
	r = PV_OK;
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_clear_free(der, n);
	return r;
}

enum pv_err
escrow_recover_p12(const uint8_t *env, size_t env_len, X509 *kra_cert,
    EVP_PKEY *kra_key, X509 *cert, const struct pkix_pass *p12_pass,
    const char *name, uint8_t **out, size_t *out_len, struct pv_why *why)
{
	EVP_PKEY *k = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	int n;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	/* The same rule as the CA's: the key leaves the station in it. */
	if ((r = pkix_pass_check_new(p12_pass, "PKCS#12 passphrase", why)) !=
	    PV_OK)
		return r;
	if ((r = escrow_open_key(env, env_len, kra_cert, kra_key, &k, why)) !=
	    PV_OK)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), k) != 1) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_VERIFY,
		    "the escrowed key does not belong to the certificate given");
		goto out;
	}
	/* mac_iter -1: no MAC yet; PKCS12_set_mac adds one with SHA-256
	 * (PKCS12_create_ex's own MAC would use SHA-1). */
	if ((p12 = PKCS12_create_ex(p12_pass->v, name, k, cert, NULL,
	    NID_aes_256_cbc, NID_aes_256_cbc, ESCROW_P12_ITER, -1, 0, NULL,
	    NULL)) == NULL ||
	    !PKCS12_set_mac(p12, p12_pass->v, (int)p12_pass->len, NULL, 0,
	    ESCROW_P12_ITER, EVP_sha256()) ||
	    (n = i2d_PKCS12(p12, &der)) <= 0) {
		r = pkix_crypto_err(why, "making the PKCS#12");
		goto out;
	}
	*out = der;
	*out_len = (size_t)n;
	r = PV_OK;
out:
	PKCS12_free(p12);
	EVP_PKEY_free(k);
	return r;
}

enum pv_err
escrow_recover_person(struct store *st, const char *person, X509 *kra_cert,
    EVP_PKEY *kra_key, const struct pkix_pass *p12_pass, const char *name,
    uint8_t **out, size_t *out_len, struct escrow_src *src,
    struct pv_why *why)
{
	struct store_person p;
	struct store_escrow e;
	struct store_cert sc;
	X509 *cert = NULL;
	BIO *b = NULL;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	memset(&e, 0, sizeof(e));
	memset(&sc, 0, sizeof(sc));
	r = strchr(person, '@') != NULL ?
	    store_person_find_email(st, person, &p, why) :
	    store_person_find_external(st, person, &p, why);
	if (r == PV_E_NO_RECORD) {
		/* The operator named the person: bad input. */
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_INPUT, "no person '%s' in the store",
		    person);
	}
	if (r != PV_OK)
		goto out;
	r = store_escrow_current_person(st, p.id, STORE_ESCROW_KEY_9D, &e, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_NO_RECORD,
		    "'%s' has no escrowed key management key", person);
	}
	if (r != PV_OK)
		goto out;
	r = store_cert_live(st, e.device_id, 0x9d, &sc, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_NO_RECORD,
		    "device %" PRId64 " of '%s' has no live 9d certificate",
		    e.device_id, person);
	}
	if (r != PV_OK)
		goto out;
	if (sc.pem == NULL || (b = BIO_new_mem_buf(sc.pem, -1)) == NULL ||
	    (cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
		r = pkix_crypto_err(why, "the stored 9d certificate");
		goto out;
	}
	if (src != NULL) {
		src->escrow_id = e.id;
		src->device_id = e.device_id;
		(void)snprintf(src->cert_serial, sizeof(src->cert_serial), "%s",
		    sc.serial);
	}
	if ((r = escrow_recover_p12(e.cms, e.cms_len, kra_cert, kra_key, cert,
	    p12_pass, name, out, out_len, why)) != PV_OK)
		goto out;
	r = PV_OK;
out:
	BIO_free(b);
	X509_free(cert);
	store_cert_cleanup(&sc);
	store_escrow_cleanup(&e);
	return r;
}
