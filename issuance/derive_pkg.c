/*
 * derive_pkg.c: derived certificates and their PKCS#12 (derive_pkg.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "apdu/buf.h"
#include "issuance/derive_pkg.h"
#include "issuance/pkix_util.h"

/* ---- derived certificates ---------------------------------------------------- */

static enum pv_err
dp_push_ia5(GENERAL_NAMES *gens, int type, const char *s, struct pv_why *why)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *v = ASN1_IA5STRING_new();

	if (g == NULL || v == NULL || !ASN1_STRING_set(v, s, (int)strlen(s))) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(v);
		return pkix_crypto_err(why, "subject alternative name");
	}
	GENERAL_NAME_set0_value(g, type, v);
	if (!sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return pkix_crypto_err(why, "subject alternative name");
	}
	return PV_OK;
}

/* SAN: the credential's UUID as a URI (RFC 4122 §3), the e-mail for a
 * signature certificate; never a FASC-N (worksheet 15). */
static enum pv_err
dp_san(X509 *x, const struct derive_cert_req *q, struct pv_why *why)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	char uri[9 + PKIX_UUID_STR_LEN] = "urn:uuid:";
	enum pv_err r;

	if (gens == NULL)
		return PV_E_NOMEM;
	pkix_uuid_str(q->uuid, uri + 9);
	r = dp_push_ia5(gens, GEN_URI, uri, why);
	if (r == PV_OK && q->kind == DERIVE_CERT_SIGN && q->email != NULL &&
	    q->email[0] != '\0')
		r = dp_push_ia5(gens, GEN_EMAIL, q->email, why);
	if (r == PV_OK && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_REPLACE))
		r = pkix_crypto_err(why, "subject alternative name");
	GENERAL_NAMES_free(gens);
	return r;
}

enum pv_err
derive_cert_issue(const struct ca *ca, const struct pv_config *cfg,
    const struct derive_cert_req *q, X509 **out, struct pv_why *why)
{
	const struct config_oids *pol;
	const char *eku[3], *oids[CONFIG_OIDS_MAX];
	uint8_t serial[PKIX_SERIAL_LEN];
	X509_NAME *name = NULL;
	X509 *x = NULL;
	enum pkix_alg alg;
	size_t n_eku = 0, i;
	time_t not_after;
	unsigned ku;
	enum pv_err r;

	*out = NULL;
	if (ca_get0_issuing_key(ca) == NULL)
		return pv_why_set(why, PV_E_STATE, "the CA was opened without "
		    "its passphrase");
	if ((r = pkix_key_alg(q->pub, &alg, why)) != PV_OK)
		return r;
	if (alg == PKIX_ALG_RSA4096)
		return pv_why_set(why, PV_E_INPUT, "RSA 4096 is not a key size "
		    "for a derived credential (RSA 2048, 3072, P-256, P-384)");
	if (cfg->derive_cert_days < 1 || cfg->derive_cert_days > 1096)
		return pv_why_set(why, PV_E_CONFIG, "[derive] certificate_days: "
		    "%u is out of 1-1096", cfg->derive_cert_days);
	not_after = q->now + (time_t)cfg->derive_cert_days * 86400;
	if (q->kind == DERIVE_CERT_AUTH) {
		pol = &cfg->derive_policy[q->hardware ? CONFIG_DP_AUTH_HW :
		    CONFIG_DP_AUTH_SW];
		ku = PKIX_KU_DIGITAL_SIGNATURE;
		if (cfg->eku_9a & CONFIG_EKU_CLIENT_AUTH)
			eku[n_eku++] = PKIX_OID_CLIENT_AUTH;
		/* Worksheet 23: smart card logon only for a key on a card. */
		if (q->hardware && (cfg->eku_9a & CONFIG_EKU_SMARTCARD_LOGON))
			eku[n_eku++] = PKIX_OID_MS_SMARTCARD_LOGON;
		if (cfg->eku_9a & CONFIG_EKU_PKINIT)
			eku[n_eku++] = PKIX_OID_PKINIT_CLIENT_AUTH;
	} else {
		pol = &cfg->derive_policy[q->hardware ? CONFIG_DP_SIGN_HW :
		    CONFIG_DP_SIGN_SW];
		ku = PKIX_KU_DIGITAL_SIGNATURE | PKIX_KU_NON_REPUDIATION;
	}
	for (i = 0; i < pol->n && i < CONFIG_OIDS_MAX; i++)
		oids[i] = pol->oid[i];
	if ((name = X509_NAME_dup(q->subject)) == NULL) {
		r = pkix_crypto_err(why, "subject");
		goto out;
	}
	if ((r = pkix_random_serial(serial, why)) != PV_OK ||
	    (r = pkix_cert_new(q->pub, name, ca_get0_issuing(ca), serial,
	    sizeof(serial), q->now, not_after, &x, why)) != PV_OK)
		goto out;
	if ((r = pkix_ext_key_usage(x, ku, why)) != PV_OK ||
	    (n_eku > 0 && (r = pkix_ext_eku(x, eku, n_eku, false, why)) !=
	    PV_OK) ||
	    (r = pkix_ext_policies(x, oids, i, why)) != PV_OK ||
	    (r = dp_san(x, q, why)) != PV_OK ||
	    (r = pkix_ext_aia(x, cfg->ca_issuers_url, cfg->ocsp_url, why)) !=
	    PV_OK ||
	    (r = pkix_ext_crldp(x, cfg->crl_url, why)) != PV_OK ||
	    (q->kind == DERIVE_CERT_AUTH &&
	    cfg->piv_interim != CONFIG_PIV_INTERIM_OMIT &&
	    (r = pkix_ext_piv_interim(x, cfg->piv_interim ==
	    CONFIG_PIV_INTERIM_YES, why)) != PV_OK) ||
	    (r = ca_sign_cert(ca, x, why)) != PV_OK ||
	    (r = pkix_x509_refresh(&x, why)) != PV_OK)
		goto out;
	*out = x;
	x = NULL;
	r = PV_OK;
out:
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

bool
derive_cert_has_policy(X509 *x, const struct config_oids *oids)
{
	CERTIFICATEPOLICIES *cp;
	char buf[PKIX_OID_MAX];
	bool found = false;
	int i, crit = 0;
	unsigned j;

	cp = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
	if (cp == NULL) {
		ERR_clear_error();
		return false;
	}
	for (i = 0; i < sk_POLICYINFO_num(cp) && !found; i++) {
		POLICYINFO *pi = sk_POLICYINFO_value(cp, i);

		if (OBJ_obj2txt(buf, sizeof(buf), pi->policyid, 1) <= 0)
			continue;
		for (j = 0; j < oids->n && !found; j++)
			found = strcmp(buf, oids->oid[j]) == 0;
	}
	CERTIFICATEPOLICIES_free(cp);
	return found;
}

/* ---- PKCS#12 ------------------------------------------------------------------- */

/* friendlyName and localKeyId (SHA-1 of the certificate) on a bag. */
static bool
dp_bag_attrs(PKCS12_SAFEBAG *bag, const char *name, const uint8_t *id,
    int id_len)
{
	if (bag == NULL)
		return false;
	if (name != NULL && !PKCS12_add_friendlyname(bag, name, -1))
		return false;
	return id == NULL || PKCS12_add_localkeyid(bag, (unsigned char *)
	    (uintptr_t)id, id_len) != 0;
}

enum pv_err
derive_p12_build(const struct derive_identity *ids, size_t n,
    STACK_OF(X509) *extra, const char *pass, enum config_p12_compat compat,
    uint8_t **out, size_t *out_len, struct pv_why *why)
{
	STACK_OF(PKCS12_SAFEBAG) *certs = NULL, *keys = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	PKCS12 *p12 = NULL;
	PKCS12_SAFEBAG *bag;
	uint8_t id[EVP_MAX_MD_SIZE];
	unsigned int id_len;
	unsigned char *der = NULL;
	int nid_key, nid_cert, len;
	const EVP_MD *mac;
	size_t i;
	enum pv_err r = PV_E_CRYPTO;

	*out = NULL;
	*out_len = 0;
	if (n == 0 || pass == NULL || pass[0] == '\0')
		return pv_why_set(why, PV_E_INVAL, "PKCS#12: nothing to pack "
		    "or no password");
	if (compat == CONFIG_P12_LEGACY) {
		nid_key = nid_cert = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
		mac = EVP_sha1();
	} else {
		nid_key = nid_cert = NID_aes_256_cbc;	/* PBES2, PBKDF2 */
		mac = EVP_sha256();
	}
	for (i = 0; i < n; i++) {
		if (ids[i].key == NULL || ids[i].cert == NULL ||
		    X509_check_private_key(ids[i].cert, ids[i].key) != 1) {
			ERR_clear_error();
			r = pv_why_set(why, PV_E_INVAL, "PKCS#12: identity %zu: "
			    "the key does not match its certificate", i);
			goto out;
		}
		if (!X509_digest(ids[i].cert, EVP_sha1(), id, &id_len))
			goto fail;
		bag = PKCS12_add_cert(&certs, ids[i].cert);
		if (!dp_bag_attrs(bag, ids[i].name, id, (int)id_len))
			goto fail;
		bag = PKCS12_add_key_ex(&keys, ids[i].key, 0, DERIVE_P12_ITER,
		    nid_key, pass, NULL, NULL);
		if (!dp_bag_attrs(bag, ids[i].name, id, (int)id_len))
			goto fail;
	}
	for (i = 0; extra != NULL && i < (size_t)sk_X509_num(extra); i++)
		if (PKCS12_add_cert(&certs, sk_X509_value(extra, (int)i)) ==
		    NULL)
			goto fail;
	if (!PKCS12_add_safe_ex(&safes, certs, nid_cert, DERIVE_P12_ITER, pass,
	    NULL, NULL) ||
	    !PKCS12_add_safe_ex(&safes, keys, -1, 0, NULL, NULL, NULL) ||
	    (p12 = PKCS12_add_safes_ex(safes, 0, NULL, NULL)) == NULL ||
	    !PKCS12_set_mac(p12, pass, -1, NULL, 0, DERIVE_P12_ITER, mac) ||
	    (len = i2d_PKCS12(p12, &der)) <= 0)
		goto fail;
	*out = der;
	*out_len = (size_t)len;
	der = NULL;
	r = PV_OK;
	goto out;
fail:
	r = pkix_crypto_err(why, "making the PKCS#12");
out:
	sk_PKCS12_SAFEBAG_pop_free(certs, PKCS12_SAFEBAG_free);
	sk_PKCS12_SAFEBAG_pop_free(keys, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	return r;
}
