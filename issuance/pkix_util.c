/*
 * pkix_util.c: algorithms, OIDs, extension builders, encodings, secret
 * files and passphrases for the OpenSSL side of issuance/.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "apdu/buf.h"
#include "apdu/text.h"
#include "apdu/tlv.h"
#include "issuance/pkix_util.h"
#include "issuance/secret.h"

/* ---- object identifiers --------------------------------------------------- */

/* PIV-REFERENCE §7.1: production arc 2.16.840.1.101.3.2.1.3.N, test .48.N */
static const char *const pkix_policy_oids[2][PKIX_POLICY__COUNT] = {
	[PKIX_POLICIES_TEST] = {
		[PKIX_POLICY_COMMON] = "2.16.840.1.101.3.2.1.48.8",
		[PKIX_POLICY_HARDWARE] = "2.16.840.1.101.3.2.1.48.9",
		[PKIX_POLICY_AUTH] = "2.16.840.1.101.3.2.1.48.11",
		[PKIX_POLICY_HIGH] = "2.16.840.1.101.3.2.1.48.12",
		[PKIX_POLICY_CARD_AUTH] = "2.16.840.1.101.3.2.1.48.13",
		[PKIX_POLICY_CONTENT_SIGNING] = "2.16.840.1.101.3.2.1.48.86",
		[PKIX_POLICY_DERIVED_AUTH] = "2.16.840.1.101.3.2.1.48.109",
		[PKIX_POLICY_DERIVED_AUTH_HW] = "2.16.840.1.101.3.2.1.48.110",
	},
	[PKIX_POLICIES_PRODUCTION] = {
		[PKIX_POLICY_COMMON] = "2.16.840.1.101.3.2.1.3.6",
		[PKIX_POLICY_HARDWARE] = "2.16.840.1.101.3.2.1.3.7",
		[PKIX_POLICY_AUTH] = "2.16.840.1.101.3.2.1.3.13",
		[PKIX_POLICY_HIGH] = "2.16.840.1.101.3.2.1.3.16",
		[PKIX_POLICY_CARD_AUTH] = "2.16.840.1.101.3.2.1.3.17",
		[PKIX_POLICY_CONTENT_SIGNING] = "2.16.840.1.101.3.2.1.3.39",
		[PKIX_POLICY_DERIVED_AUTH] = "2.16.840.1.101.3.2.1.3.40",
		[PKIX_POLICY_DERIVED_AUTH_HW] = "2.16.840.1.101.3.2.1.3.41",
	},
};

const char *
pkix_policy_oid(enum pkix_policy_set set, enum pkix_policy_role role)
{
	if ((unsigned)set > PKIX_POLICIES_PRODUCTION ||
	    (unsigned)role >= PKIX_POLICY__COUNT)
		return PKIX_OID_ANY_POLICY;
	return pkix_policy_oids[set][role];
}

enum pv_err
pkix_policy_set_parse(const char *s, enum pkix_policy_set *out,
    struct pv_why *why)
{
	if (s != NULL && strcasecmp(s, "test") == 0)
		*out = PKIX_POLICIES_TEST;
	else if (s != NULL && strcasecmp(s, "production") == 0)
		*out = PKIX_POLICIES_PRODUCTION;
	else
		return pv_why_set(why, PV_E_CONFIG,
		    "policy set '%s': expected 'test' or 'production'",
		    s ? s : "");
	return PV_OK;
}

bool
pkix_oid_valid(const char *s)
{
	ASN1_OBJECT *o;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 120)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
	o = OBJ_txt2obj(s, 1);
	ERR_clear_error();
	if (o == NULL)
		return false;
	ASN1_OBJECT_free(o);
	return true;
}

/* ---- errors --------------------------------------------------------------- */

enum pv_err
pkix_crypto_err(struct pv_why *why, const char *fmt, ...)
{
	char what[160], reason[160] = "";
	unsigned long e, last = 0;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* The first error queued is usually the root cause. */
	while ((e = ERR_get_error()) != 0)
		if (last == 0)
			last = e;
	if (last != 0)
		ERR_error_string_n(last, reason, sizeof(reason));
	if (reason[0] != '\0')
		return pv_why_set(why, PV_E_CRYPTO, "%s: %s", what, reason);
	return pv_why_set(why, PV_E_CRYPTO, "%s", what);
}

/* ---- key algorithms ------------------------------------------------------- */

static const struct {
	const char *name;
	enum pkix_alg alg;
} pkix_alg_names[] = {
	{ "p256", PKIX_ALG_P256 }, { "p-256", PKIX_ALG_P256 },
	{ "ecc-p256", PKIX_ALG_P256 }, { "ec-p256", PKIX_ALG_P256 },
	{ "eccp256", PKIX_ALG_P256 }, { "prime256v1", PKIX_ALG_P256 },
	{ "p384", PKIX_ALG_P384 }, { "p-384", PKIX_ALG_P384 },
	{ "ecc-p384", PKIX_ALG_P384 }, { "ec-p384", PKIX_ALG_P384 },
	{ "eccp384", PKIX_ALG_P384 }, { "secp384r1", PKIX_ALG_P384 },
	{ "rsa2048", PKIX_ALG_RSA2048 }, { "rsa-2048", PKIX_ALG_RSA2048 },
	{ "rsa3072", PKIX_ALG_RSA3072 }, { "rsa-3072", PKIX_ALG_RSA3072 },
	{ "rsa4096", PKIX_ALG_RSA4096 }, { "rsa-4096", PKIX_ALG_RSA4096 },
};

enum pv_err
pkix_alg_parse(const char *s, enum pkix_alg *out, struct pv_why *why)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(pkix_alg_names) /
	    sizeof(pkix_alg_names[0]); i++) {
		if (strcasecmp(s, pkix_alg_names[i].name) == 0) {
			*out = pkix_alg_names[i].alg;
			return PV_OK;
		}
	}
	return pv_why_set(why, PV_E_INPUT,
	    "key algorithm '%s': expected p256, p384, rsa2048, rsa3072 or "
	    "rsa4096",
	    s ? s : "");
}

enum pkix_alg
pkix_alg_from_piv(unsigned id)
{
	switch (id) {
	case 0x07: return PKIX_ALG_RSA2048;
	case 0x05: return PKIX_ALG_RSA3072;
	case 0x16: return PKIX_ALG_RSA4096;
	case 0x11: return PKIX_ALG_P256;
	case 0x14: return PKIX_ALG_P384;
	default: return PKIX_ALG_NONE;
	}
}

const char *
pkix_alg_name(enum pkix_alg alg)
{
	switch (alg) {
	case PKIX_ALG_P256: return "p256";
	case PKIX_ALG_P384: return "p384";
	case PKIX_ALG_RSA2048: return "rsa2048";
	case PKIX_ALG_RSA3072: return "rsa3072";
	case PKIX_ALG_RSA4096: return "rsa4096";
	default: return "none";
	}
}

bool
pkix_alg_is_rsa(enum pkix_alg alg)
{
	return alg == PKIX_ALG_RSA2048 || alg == PKIX_ALG_RSA3072 ||
	    alg == PKIX_ALG_RSA4096;
}

enum pv_err
pkix_keygen(enum pkix_alg alg, EVP_PKEY **out, struct pv_why *why)
{
	EVP_PKEY *k = NULL;

	*out = NULL;
	switch (alg) {
	case PKIX_ALG_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case PKIX_ALG_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case PKIX_ALG_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case PKIX_ALG_RSA3072:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case PKIX_ALG_RSA4096:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	default:
		return pv_why_set(why, PV_E_INVAL, "no key algorithm given");
	}
	if (k == NULL)
		return pkix_crypto_err(why, "%s key generation",
		    pkix_alg_name(alg));
	*out = k;
	return PV_OK;
}

enum pv_err
pkix_key_alg(const EVP_PKEY *key, enum pkix_alg *out, struct pv_why *why)
{
	char group[64];
	BIGNUM *e = NULL;
	enum pv_err r = PV_E_INTERNAL;
	int bits;

	if (key == NULL)
		return pv_why_set(why, PV_E_INVAL, "no key");
	bits = EVP_PKEY_get_bits(key);
	if (EVP_PKEY_is_a(key, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL)) {
			ERR_clear_error();
			return pv_why_set(why, PV_E_INPUT,
			    "EC key without a named curve");
		}
		if (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0)
			*out = PKIX_ALG_P256;
		else if (strcmp(group, "secp384r1") == 0 ||
		    strcmp(group, "P-384") == 0)
			*out = PKIX_ALG_P384;
		else
			return pv_why_set(why, PV_E_INPUT,
			    "EC curve %s: only P-256 and P-384 are allowed",
			    group);
		return PV_OK;
	}
	if (!EVP_PKEY_is_a(key, "RSA"))
		return pv_why_set(why, PV_E_INPUT,
		    "key type %s: only RSA and EC are allowed",
		    EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) :
		    "unknown");
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
		r = pkix_crypto_err(why, "RSA key without an exponent");
		goto out;
	}
	if (!BN_is_word(e, 65537)) {
		r = pv_why_set(why, PV_E_INPUT,
		    "RSA public exponent must be 65537");
		goto out;
	}
	if (bits == 2048)
		*out = PKIX_ALG_RSA2048;
	else if (bits == 3072)
		*out = PKIX_ALG_RSA3072;
	else if (bits == 4096)
		*out = PKIX_ALG_RSA4096;
	else {
		r = pv_why_set(why, PV_E_INPUT,
		    "RSA key of %d bits: only 2048, 3072 and 4096 are allowed",
		    bits);
		goto out;
	}
	r = PV_OK;
out:
	BN_free(e);
	return r;
}

const EVP_MD *
pkix_md_for_key(const EVP_PKEY *key)
{
	if (key != NULL && EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_bits(key) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

void
pkix_key_describe(const EVP_PKEY *key, char *out, size_t cap)
{
	enum pkix_alg alg;

	if (key != NULL && pkix_key_alg(key, &alg, NULL) == PV_OK) {
		switch (alg) {
		case PKIX_ALG_P256: (void)snprintf(out, cap, "EC P-256"); return;
		case PKIX_ALG_P384: (void)snprintf(out, cap, "EC P-384"); return;
		default: break;
		}
	}
	ERR_clear_error();
	if (key != NULL && EVP_PKEY_get0_type_name(key) != NULL)
		(void)snprintf(out, cap, "%s %d", EVP_PKEY_get0_type_name(key),
		    EVP_PKEY_get_bits(key));
	else
		(void)snprintf(out, cap, "unknown");
}

/* ---- certificates --------------------------------------------------------- */

enum pv_err
pkix_random_serial(uint8_t out[PKIX_SERIAL_LEN], struct pv_why *why)
{
	if (RAND_bytes(out, PKIX_SERIAL_LEN) != 1)
		return pkix_crypto_err(why, "random serial");
	/* Positive (top bit clear) and first byte non-zero: 126 random bits. */
	out[0] = (uint8_t)((out[0] & 0x3f) | 0x40);
	return PV_OK;
}

static enum pv_err
pkix_set_time(ASN1_TIME *dst, time_t t, struct pv_why *why)
{
	/* ASN1_TIME_set picks UTCTime up to 2049, GeneralizedTime after. */
	if (ASN1_TIME_set(dst, t) == NULL)
		return pkix_crypto_err(why, "certificate time");
	return PV_OK;
}

static enum pv_err
pkix_ext_ski(X509 *x, struct pv_why *why)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	ASN1_OCTET_STRING *ski = NULL;
	enum pv_err r = PV_E_INTERNAL;

	/* RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
	if (!X509_pubkey_digest(x, EVP_sha1(), md, &md_len) ||
	    (ski = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(ski, md, (int)md_len) ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0,
	    X509V3_ADD_REPLACE)) {
		r = pkix_crypto_err(why, "subject key identifier");
		goto out;
	}
	r = PV_OK;
out:
	ASN1_OCTET_STRING_free(ski);
	return r;
}

enum pv_err
pkix_cert_new(EVP_PKEY *pub, const X509_NAME *subject, const X509 *issuer,
    const uint8_t *serial, size_t serial_len, time_t not_before,
    time_t not_after, X509 **out, struct pv_why *why)
{
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if (serial_len == 0 || serial_len > 20 || not_after <= not_before) {
		r = pv_why_set(why, PV_E_INVAL, "bad serial or validity");
		goto out;
	}
	if ((x = X509_new()) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    (bn = BN_bin2bn(serial, (int)serial_len, NULL)) == NULL ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, sn) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : subject) ||
	    !X509_set_pubkey(x, pub)) {
		r = pkix_crypto_err(why, "new certificate");
		goto out;
	}
	if ((r = pkix_set_time(X509_getm_notBefore(x), not_before, why)) !=
	    PV_OK ||
	    (r = pkix_set_time(X509_getm_notAfter(x), not_after, why)) != PV_OK ||
	    (r = pkix_ext_ski(x, why)) != PV_OK)
		goto out;
	*out = x;
	x = NULL;
	r = PV_OK;
out:
	X509_free(x);
	BN_free(bn);
	ASN1_INTEGER_free(sn);
	return r;
}

enum pv_err
pkix_ext_key_usage(X509 *x, unsigned bits, struct pv_why *why)
{
	ASN1_BIT_STRING *ku = NULL;
	enum pv_err r = PV_E_INTERNAL;
	int i;

	if ((ku = ASN1_BIT_STRING_new()) == NULL)
		goto crypto;
	for (i = 0; i < 9; i++)
		if ((bits & (1u << i)) != 0 && !ASN1_BIT_STRING_set_bit(ku, i, 1))
			goto crypto;
	if (!X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_REPLACE))
		goto crypto;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "key usage extension");
out:
	ASN1_BIT_STRING_free(ku);
	return r;
}

enum pv_err
pkix_ext_eku(X509 *x, const char *const *oids, size_t n_oids, bool critical,
    struct pv_why *why)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *o = NULL;
	enum pv_err r = PV_E_INTERNAL;
	size_t i;

	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL)
		goto crypto;
	for (i = 0; i < n_oids; i++) {
		if ((o = OBJ_txt2obj(oids[i], 1)) == NULL ||
		    !sk_ASN1_OBJECT_push(eku, o))
			goto crypto;
		o = NULL;
	}
	if (!X509_add1_ext_i2d(x, NID_ext_key_usage, eku, critical ? 1 : 0,
	    X509V3_ADD_REPLACE))
		goto crypto;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "extended key usage extension");
out:
	ASN1_OBJECT_free(o);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return r;
}

enum pv_err
pkix_ext_policies(X509 *x, const char *const *oids, size_t n_oids,
    struct pv_why *why)
{
	CERTIFICATEPOLICIES *cp = NULL;
	POLICYINFO *pi = NULL;
	enum pv_err r = PV_E_INTERNAL;
	size_t i;

	if ((cp = sk_POLICYINFO_new_null()) == NULL)
		goto crypto;
	for (i = 0; i < n_oids; i++) {
		if ((pi = POLICYINFO_new()) == NULL)
			goto crypto;
		ASN1_OBJECT_free(pi->policyid);
		if ((pi->policyid = OBJ_txt2obj(oids[i], 1)) == NULL ||
		    !sk_POLICYINFO_push(cp, pi))
			goto crypto;
		pi = NULL;
	}
	if (!X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0,
	    X509V3_ADD_REPLACE))
		goto crypto;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "certificate policies extension");
out:
	POLICYINFO_free(pi);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return r;
}

enum pv_err
pkix_ext_basic_constraints(X509 *x, bool ca, int pathlen, struct pv_why *why)
{
	BASIC_CONSTRAINTS *bc = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		goto crypto;
	bc->ca = ca ? 0xff : 0;
	if (ca && pathlen >= 0) {
		if ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(bc->pathlen, pathlen))
			goto crypto;
	}
	if (!X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_REPLACE))
		goto crypto;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "basic constraints extension");
out:
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

enum pv_err
pkix_ext_aki(X509 *x, X509 *issuer, struct pv_why *why)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	AUTHORITY_KEYID *aki = NULL;
	const ASN1_OCTET_STRING *ski;
	enum pv_err r = PV_E_INTERNAL;

	if ((aki = AUTHORITY_KEYID_new()) == NULL) {
		r = pkix_crypto_err(why, "authority key identifier");
		goto out;
	}
	if (issuer == x) {
		/* Self-signed and not finished: the same SHA-1 as its SKI,
		 * without asking OpenSSL to cache the extensions of an
		 * unsigned certificate. */
		if (!X509_pubkey_digest(x, EVP_sha1(), md, &md_len) ||
		    (aki->keyid = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(aki->keyid, md, (int)md_len)) {
			r = pkix_crypto_err(why, "authority key identifier");
			goto out;
		}
	} else {
		ski = X509_get0_subject_key_id(issuer);
		if (ski == NULL) {
			r = PV_OK;	/* an imported CA without SKI */
			goto out;
		}
		if ((aki->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL) {
			r = pkix_crypto_err(why, "authority key identifier");
			goto out;
		}
	}
	if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0,
	    X509V3_ADD_REPLACE)) {
		r = pkix_crypto_err(why, "authority key identifier");
		goto out;
	}
	r = PV_OK;
out:
	AUTHORITY_KEYID_free(aki);
	return r;
}

enum pv_err
pkix_x509_refresh(X509 **x, struct pv_why *why)
{
	unsigned char *der = NULL;
	const unsigned char *d;
	X509 *fresh;
	int n;

	if ((n = i2d_X509(*x, &der)) <= 0)
		return pkix_crypto_err(why, "encoding the certificate");
	d = der;
	fresh = d2i_X509(NULL, &d, n);
	OPENSSL_free(der);
	if (fresh == NULL)
		return pkix_crypto_err(why, "decoding the certificate");
	X509_free(*x);
	*x = fresh;
	return PV_OK;
}

/* pkix_gen_uri makes a uniformResourceIdentifier GeneralName. */
static GENERAL_NAME *
pkix_gen_uri(const char *url)
{
	GENERAL_NAME *g;
	ASN1_IA5STRING *s;

	if ((g = GENERAL_NAME_new()) == NULL)
		return NULL;
	if ((s = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, url, (int)strlen(url))) {
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(g);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, GEN_URI, s);
	return g;
}

static bool
pkix_url_ok(const char *url)
{
	const unsigned char *p;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "ldap://", 7) != 0)
		return false;
	for (p = (const unsigned char *)url; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return strlen(url) < 1024;
}

static enum pv_err
pkix_aia_add(AUTHORITY_INFO_ACCESS *aia, int nid, const char *url,
    struct pv_why *why)
{
	ACCESS_DESCRIPTION *ad;

	if (!pkix_url_ok(url))
		return pv_why_set(why, PV_E_CONFIG,
		    "URL '%s': expected http://, https:// or ldap:// and no "
		    "spaces", url);
	if ((ad = ACCESS_DESCRIPTION_new()) == NULL)
		return pkix_crypto_err(why, "authority information access");
	ASN1_OBJECT_free(ad->method);
	GENERAL_NAME_free(ad->location);
	ad->method = OBJ_nid2obj(nid);
	ad->location = pkix_gen_uri(url);
	if (ad->location == NULL || !sk_ACCESS_DESCRIPTION_push(aia, ad)) {
		ACCESS_DESCRIPTION_free(ad);
		return pkix_crypto_err(why, "authority information access");
	}
	return PV_OK;
}

enum pv_err
pkix_ext_aia(X509 *x, const char *ca_issuers_url, const char *ocsp_url,
    struct pv_why *why)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if ((ca_issuers_url == NULL || *ca_issuers_url == '\0') &&
	    (ocsp_url == NULL || *ocsp_url == '\0'))
		return PV_OK;
	if ((aia = sk_ACCESS_DESCRIPTION_new_null()) == NULL) {
		r = pkix_crypto_err(why, "authority information access");
		goto out;
	}
	if (ca_issuers_url != NULL && *ca_issuers_url != '\0' &&
	    (r = pkix_aia_add(aia, NID_ad_ca_issuers, ca_issuers_url, why)) !=
	    PV_OK)
		goto out;
	if (ocsp_url != NULL && *ocsp_url != '\0' &&
	    (r = pkix_aia_add(aia, NID_ad_OCSP, ocsp_url, why)) != PV_OK)
		goto out;
	if (!X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_REPLACE)) {
		r = pkix_crypto_err(why, "authority information access");
		goto out;
	}
	r = PV_OK;
out:
	sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
	return r;
}

enum pv_err
pkix_ext_crldp(X509 *x, const char *url, struct pv_why *why)
{
	CRL_DIST_POINTS *dps = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *g = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if (url == NULL || *url == '\0')
		return PV_OK;
	if (!pkix_url_ok(url))
		return pv_why_set(why, PV_E_CONFIG,
		    "CRL URL '%s': expected http://, https:// or ldap:// and no "
		    "spaces", url);
	if ((dps = sk_DIST_POINT_new_null()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (g = pkix_gen_uri(url)) == NULL ||
	    !sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g))
		goto crypto;
	g = NULL;
	dp->distpoint->type = 0;	/* fullName */
	if (!sk_DIST_POINT_push(dps, dp))
		goto crypto;
	dp = NULL;
	if (!X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0,
	    X509V3_ADD_REPLACE))
		goto crypto;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "CRL distribution points");
out:
	GENERAL_NAME_free(g);
	DIST_POINT_free(dp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return r;
}

enum pv_err
pkix_ext_piv_interim(X509 *x, bool interim, struct pv_why *why)
{
	/* DER BOOLEAN: FALSE is 00, TRUE is FF (X.690 §11.1). */
	const unsigned char der[3] = { 0x01, 0x01, interim ? 0xff : 0x00 };
	ASN1_OBJECT *o = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if ((o = OBJ_txt2obj(PKIX_OID_PIV_INTERIM, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, der, (int)sizeof(der)) ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) == NULL ||
	    !X509_add_ext(x, ext, -1)) {
		r = pkix_crypto_err(why, "PIV interim indicator extension");
		goto out;
	}
	r = PV_OK;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return r;
}

enum pv_err
pkix_sign(X509 *x, EVP_PKEY *key, struct pv_why *why)
{
	if (X509_sign(x, key, pkix_md_for_key(key)) <= 0)
		return pkix_crypto_err(why, "signing the certificate");
	return PV_OK;
}

/* X.680 PrintableString alphabet. */
static bool
pkix_is_printable(const char *s)
{
	static const char extra[] = " '()+,-./:=?";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL)
			continue;
		return false;
	}
	return true;
}

/* Attribute types a name may use, with X.520 upper bounds. */
static const struct {
	const char *type;
	int nid;
	size_t max;
} pkix_dn_types[] = {
	{ "C", NID_countryName, 2 },
	{ "ST", NID_stateOrProvinceName, 127 },
	{ "L", NID_localityName, 127 },
	{ "O", NID_organizationName, 64 },
	{ "OU", NID_organizationalUnitName, 64 },
	{ "CN", NID_commonName, 64 },
	{ "DC", NID_domainComponent, 63 },
	{ "UID", NID_userId, 127 },
	{ "serialNumber", NID_serialNumber, 64 },
};

static int
pkix_dn_type(const char *type, size_t *max)
{
	size_t i;

	for (i = 0; i < sizeof(pkix_dn_types) / sizeof(pkix_dn_types[0]); i++) {
		if (strcasecmp(type, pkix_dn_types[i].type) == 0) {
			*max = pkix_dn_types[i].max;
			return pkix_dn_types[i].nid;
		}
	}
	return NID_undef;
}

enum pv_err
pkix_dn_add(struct pkix_dn *dn, const char *type, const char *value,
    struct pv_why *why)
{
	struct buf_cur c;
	enum text_utf8_err e;
	size_t max = 0, len, off = 0;
	uint32_t cp;
	int nid;

	if (type == NULL || (nid = pkix_dn_type(type, &max)) == NID_undef)
		return pv_why_set(why, PV_E_INPUT,
		    "name attribute '%s': expected C, ST, L, O, OU, CN, DC, UID "
		    "or serialNumber", type ? type : "");
	len = value != NULL ? strlen(value) : 0;
	if (len == 0)
		return pv_why_set(why, PV_E_INPUT, "%s: empty value", type);
	if (len >= PKIX_DN_VALUE_MAX)
		return pv_why_set(why, PV_E_INPUT,
		    "%s: longer than %d bytes", type, PKIX_DN_VALUE_MAX - 1);
	/* What OpenSSL would refuse when the certificate is built (after a
	 * card was written) is refused here, where the name is first made. */
	if ((e = text_utf8_check(value, len, &off, NULL)) != TEXT_UTF8_OK)
		return pv_why_set(why, PV_E_INPUT, "%s: not UTF-8 at byte %zu: "
		    "%s", type, off + 1, text_utf8_err_str(e));
	buf_cur_init(&c, value, len);
	while (text_utf8_next(&c, &cp, NULL) == TEXT_UTF8_OK)
		if (text_cp_is_control(cp))
			return pv_why_set(why, PV_E_INPUT,
			    "%s: contains a control character", type);
	/* X.520 upper bounds count characters, not bytes. */
	if (text_utf8_count(value, len) > max)
		return pv_why_set(why, PV_E_INPUT,
		    "%s: longer than %zu characters", type, max);
	if (nid == NID_countryName && !(value[0] >= 'A' && value[0] <= 'Z' &&
	    value[1] >= 'A' && value[1] <= 'Z'))
		return pv_why_set(why, PV_E_INPUT,
		    "C: '%s' is not two capital letters (ISO 3166)", value);
	/* RFC 4519 domainComponent is an IA5String; X.520 serialNumber a
	 * PrintableString. */
	if (nid == NID_domainComponent && text_utf8_count(value, len) != len)
		return pv_why_set(why, PV_E_INPUT,
		    "DC: only ASCII is allowed (IA5String)");
	if (nid == NID_serialNumber && !pkix_is_printable(value))
		return pv_why_set(why, PV_E_INPUT,
		    "serialNumber: only A-Z a-z 0-9, space and '()+,-./:=? are "
		    "allowed (PrintableString)");
	if (dn->n >= PKIX_DN_MAX_RDN)
		return pv_why_set(why, PV_E_INPUT,
		    "name: more than %d attributes", PKIX_DN_MAX_RDN);
	(void)snprintf(dn->rdn[dn->n].type, sizeof(dn->rdn[dn->n].type), "%s",
	    type);
	memcpy(dn->rdn[dn->n].value, value, len + 1);
	dn->n++;
	return PV_OK;
}

static void
pkix_trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

enum pv_err
pkix_dn_parse(const char *s, struct pkix_dn *out, struct pv_why *why)
{
	char buf[PKIX_DN_MAX_RDN * (PKIX_DN_TYPE_MAX + PKIX_DN_VALUE_MAX) + 64];
	char *item, *save = NULL, *eq;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if (s == NULL || strlen(s) >= sizeof(buf))
		return pv_why_set(why, PV_E_INPUT, "name: too long");
	memcpy(buf, s, strlen(s) + 1);
	pkix_trim(buf);
	if (buf[0] == '\0')
		return PV_OK;
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL || strchr(eq + 1, '=') !=
		    NULL)
			return pv_why_set(why, PV_E_INPUT,
			    "name: '%s' is not TYPE=value", item);
		*eq = '\0';
		pkix_trim(item);
		pkix_trim(eq + 1);
		if ((r = pkix_dn_add(out, item, eq + 1, why)) != PV_OK)
			return r;
	}
	return PV_OK;
}

const char *
pkix_dn_get(const struct pkix_dn *dn, const char *type)
{
	const char *v = NULL;
	unsigned i;

	for (i = 0; i < dn->n && i < PKIX_DN_MAX_RDN; i++)
		if (strcasecmp(dn->rdn[i].type, type) == 0)
			v = dn->rdn[i].value;
	return v;
}

enum pv_err
pkix_dn_to_name(const struct pkix_dn *dn, X509_NAME **out, struct pv_why *why)
{
	struct pkix_dn check;
	X509_NAME *n = NULL;
	enum pv_err r = PV_E_INTERNAL;
	size_t max;
	unsigned i;
	int nid, type;

	*out = NULL;
	memset(&check, 0, sizeof(check));
	if (dn->n > PKIX_DN_MAX_RDN)
		return pv_why_set(why, PV_E_INPUT, "name: too many attributes");
	if ((n = X509_NAME_new()) == NULL) {
		r = pkix_crypto_err(why, "name");
		goto out;
	}
	for (i = 0; i < dn->n; i++) {
		/* Re-check: the struct may have been filled by hand. */
		if ((r = pkix_dn_add(&check, dn->rdn[i].type, dn->rdn[i].value,
		    why)) != PV_OK)
			goto out;
		nid = pkix_dn_type(dn->rdn[i].type, &max);
		if (nid == NID_domainComponent)
			type = V_ASN1_IA5STRING;
		else if (pkix_is_printable(dn->rdn[i].value))
			type = V_ASN1_PRINTABLESTRING;
		else
			type = MBSTRING_UTF8;
		if (!X509_NAME_add_entry_by_NID(n, nid, type,
		    (const unsigned char *)dn->rdn[i].value, -1, -1, 0)) {
			r = pkix_crypto_err(why, "name attribute %s",
			    dn->rdn[i].type);
			goto out;
		}
	}
	*out = n;
	n = NULL;
	r = PV_OK;
out:
	X509_NAME_free(n);
	return r;
}

enum pv_err
pkix_spki_sha256(EVP_PKEY *key, uint8_t out[32], struct pv_why *why)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);
	enum pv_err r = PV_OK;

	if (n <= 0 || !EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(),
	    NULL))
		r = pkix_crypto_err(why, "public key fingerprint");
	OPENSSL_free(der);
	return r;
}

enum pv_err
pkix_cert_fingerprint(const X509 *x, char out[PKIX_FP_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	out[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32) {
		ERR_clear_error();
		return PV_E_CRYPTO;
	}
	for (i = 0; i < n; i++)
		(void)snprintf(out + 3 * i, PKIX_FP_LEN - 3 * i, "%02X%s", md[i],
		    i + 1 < n ? ":" : "");
	return PV_OK;
}

void
pkix_serial_hex(const X509 *x, char out[PKIX_SERIAL_HEX_LEN])
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *d = ASN1_STRING_get0_data(sn);
	int n = ASN1_STRING_length(sn), i;

	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 2 < PKIX_SERIAL_HEX_LEN; i++)
		(void)snprintf(out + 2 * i, (size_t)(PKIX_SERIAL_HEX_LEN - 2 * i),
		    "%02x", d[i]);
}

void
pkix_time_str(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		(void)snprintf(out, cap, "?");
		ERR_clear_error();
		return;
	}
	(void)snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

void
pkix_uuid_str(const uint8_t uuid[16], char out[PKIX_UUID_STR_LEN])
{
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		(void)snprintf(out + o, PKIX_UUID_STR_LEN - o, "%02x", uuid[i]);
		o += 2;
	}
	out[o] = '\0';
}

enum pv_err
pkix_uuid_parse(const char *s, uint8_t out[16], struct pv_why *why)
{
	size_t n = 0;
	const char *p;
	int hi, lo;

	if (s != NULL && strncasecmp(s, "urn:uuid:", 9) == 0)
		s += 9;
	for (p = s; p != NULL && *p != '\0';) {
		if (*p == '-') {
			p++;
			continue;
		}
		if (n == 16 || (hi = buf_hexval(p[0])) < 0 || p[1] == '\0' ||
		    (lo = buf_hexval(p[1])) < 0)
			goto bad;
		out[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (n == 16)
		return PV_OK;
bad:
	return pv_why_set(why, PV_E_INPUT,
	    "UUID '%s': expected 32 hex digits, hyphens allowed", s ? s : "");
}

/* ---- encodings ------------------------------------------------------------ */

static enum pv_err
pkix_bio_take(BIO *b, uint8_t **out, size_t *out_len, struct pv_why *why)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	uint8_t *p;

	if (n < 0 || data == NULL)
		return pkix_crypto_err(why, "memory buffer");
	if ((p = OPENSSL_malloc((size_t)n + 1)) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	memcpy(p, data, (size_t)n);
	p[n] = 0;
	*out = p;
	*out_len = (size_t)n;
	return PV_OK;
}

enum pv_err
pkix_cert_to_der(const X509 *x, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	unsigned char *p = NULL;
	int n;

	*out = NULL;
	*out_len = 0;
	if ((n = i2d_X509(x, &p)) <= 0)
		return pkix_crypto_err(why, "encoding the certificate");
	*out = p;
	*out_len = (size_t)n;
	return PV_OK;
}

enum pv_err
pkix_cert_to_pem(const X509 *x, char **out, size_t *out_len,
    struct pv_why *why)
{
	BIO *b = NULL;
	enum pv_err r;

	*out = NULL;
	*out_len = 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(b, x)) {
		r = pkix_crypto_err(why, "encoding the certificate");
		goto out;
	}
	r = pkix_bio_take(b, (uint8_t **)out, out_len, why);
out:
	BIO_free(b);
	return r;
}

enum pv_err
pkix_key_to_encrypted_pem(EVP_PKEY *key, const char *pass, size_t pass_len,
    char **out, size_t *out_len, struct pv_why *why)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *enc = NULL;
	BIO *b = NULL;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (pass == NULL || pass_len == 0 || pass_len > INT_MAX)
		return pv_why_set(why, PV_E_INVAL, "no passphrase");
	/* scrypt N=2^14 r=8 p=1: the parameters `openssl pkcs8 -scrypt` uses. */
	if ((p8 = EVP_PKEY2PKCS8(key)) == NULL ||
	    (pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, 16, NULL,
	    16384, 8, 1)) == NULL)
		goto crypto;
	if ((enc = PKCS8_set0_pbe(pass, (int)pass_len, p8, pbe)) == NULL)
		goto crypto;
	pbe = NULL;	/* owned by enc */
	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PKCS8(b, enc))
		goto crypto;
	r = pkix_bio_take(b, (uint8_t **)out, out_len, why);
	goto out;
crypto:
	r = pkix_crypto_err(why, "encrypting the private key");
out:
	PKCS8_PRIV_KEY_INFO_free(p8);	/* wipes: ASN1_SENSITIVE */
	X509_ALGOR_free(pbe);
	X509_SIG_free(enc);
	BIO_free(b);
	return r;
}

/* pkix_contains: is |needle| somewhere in |p|,|n|? */
static bool
pkix_contains(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; k <= n && i <= n - k; i++)
		if (memcmp(p + i, needle, k) == 0)
			return true;
	return false;
}

/* PEM "ENCRYPTED PRIVATE KEY", legacy "Proc-Type: 4,ENCRYPTED", or DER
 * EncryptedPrivateKeyInfo. */
static bool
pkix_looks_encrypted(const uint8_t *p, size_t n)
{
	const unsigned char *d = p;
	X509_SIG *sig;

	if (pkix_contains(p, n, "ENCRYPTED"))
		return true;
	if (n == 0 || p[0] != 0x30 || n > LONG_MAX)
		return false;
	sig = d2i_X509_SIG(NULL, &d, (long)n);
	ERR_clear_error();
	X509_SIG_free(sig);
	return sig != NULL;
}

enum pv_err
pkix_key_from_bytes(const uint8_t *p, size_t n, const char *pass,
    size_t pass_len, EVP_PKEY **out, struct pv_why *why)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *k = NULL;
	const unsigned char *d = p;
	size_t left = n;
	enum pv_err r = PV_E_INTERNAL;
	bool encrypted;

	*out = NULL;
	encrypted = pkix_looks_encrypted(p, n);
	dctx = OSSL_DECODER_CTX_new_for_pkey(&k, NULL, NULL, NULL,
	    OSSL_KEYMGMT_SELECT_PRIVATE_KEY, NULL, NULL);
	if (dctx == NULL) {
		r = pkix_crypto_err(why, "key decoder");
		goto out;
	}
	if (pass != NULL && !OSSL_DECODER_CTX_set_passphrase(dctx,
	    (const unsigned char *)pass, pass_len)) {
		r = pkix_crypto_err(why, "key decoder");
		goto out;
	}
	if (!OSSL_DECODER_from_data(dctx, &d, &left) || k == NULL) {
		ERR_clear_error();
		if (encrypted)
			r = pv_why_set(why, PV_E_AUTH_FAILED,
			    "the passphrase does not open the private key");
		else
			r = pv_why_set(why, PV_E_INPUT, "no private key found");
		goto out;
	}
	*out = k;
	k = NULL;
	r = PV_OK;
out:
	EVP_PKEY_free(k);
	OSSL_DECODER_CTX_free(dctx);
	return r;
}

enum pv_err
pkix_pubkey_from_bytes(const uint8_t *p, size_t n, EVP_PKEY **out,
    struct pv_why *why)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *k = NULL;
	const unsigned char *d = p;
	size_t left = n;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	dctx = OSSL_DECODER_CTX_new_for_pkey(&k, NULL, NULL, NULL,
	    OSSL_KEYMGMT_SELECT_PUBLIC_KEY, NULL, NULL);
	if (dctx == NULL) {
		r = pkix_crypto_err(why, "key decoder");
		goto out;
	}
	if (!OSSL_DECODER_from_data(dctx, &d, &left) || k == NULL) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_INPUT, "no public key found");
		goto out;
	}
	*out = k;
	k = NULL;
	r = PV_OK;
out:
	EVP_PKEY_free(k);
	OSSL_DECODER_CTX_free(dctx);
	return r;
}

enum pv_err
pkix_certs_from_bytes(const uint8_t *p, size_t n, STACK_OF(X509) **out,
    struct pv_why *why)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	enum pv_err r = PV_E_INTERNAL;
	const unsigned char *d = p;

	*out = NULL;
	if (n > INT_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "certificate file too big");
	if ((sk = sk_X509_new_null()) == NULL) {
		r = pkix_crypto_err(why, "certificates");
		goto out;
	}
	if (n > 0 && p[0] == 0x30) {
		if ((x = d2i_X509(NULL, &d, (long)n)) == NULL ||
		    d != p + n) {
			ERR_clear_error();
			r = pv_why_set(why, PV_E_INPUT,
			    "not a DER certificate");
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			r = pkix_crypto_err(why, "certificates");
			goto out;
		}
		x = NULL;
	} else {
		if ((b = BIO_new_mem_buf(p, (int)n)) == NULL) {
			r = pkix_crypto_err(why, "certificates");
			goto out;
		}
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (!sk_X509_push(sk, x)) {
				r = pkix_crypto_err(why, "certificates");
				goto out;
			}
			x = NULL;
		}
		ERR_clear_error();	/* the end of the PEM stream */
	}
	if (sk_X509_num(sk) == 0) {
		r = pv_why_set(why, PV_E_INPUT, "no certificate found");
		goto out;
	}
	*out = sk;
	sk = NULL;
	r = PV_OK;
out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return r;
}

/* ---- CMS SignedData ------------------------------------------------------- */

enum pv_err
pkix_cms_sign(X509 *cert, EVP_PKEY *key, const char *econtent_oid,
    const uint8_t *p, size_t n, bool detached, bool with_cert, uint8_t **out,
    size_t *out_len, struct pv_why *why)
{
	unsigned int base = CMS_BINARY | CMS_PARTIAL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OBJECT *ctype = NULL, *dn_oid = NULL;
	unsigned char *name_der = NULL, *der = NULL;
	BIO *in = NULL;
	int name_len, der_len;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (n > INT_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "content too long to sign");
	if ((ctype = OBJ_txt2obj(econtent_oid, 1)) == NULL ||
	    (dn_oid = OBJ_txt2obj(PKIX_OID_PIV_SIGNER_DN, 1)) == NULL ||
	    (in = BIO_new_mem_buf(p, (int)n)) == NULL)
		goto crypto;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL,
	    base | (detached ? CMS_DETACHED : 0))) == NULL ||
	    !CMS_set1_eContentType(cms, ctype))
		goto crypto;
	si = CMS_add1_signer(cms, cert, key, pkix_md_for_key(key),
	    base | CMS_NOSMIMECAP | (with_cert ? 0 : CMS_NOCERTS));
	if (si == NULL)
		goto crypto;
	/* pivSigner-DN (FIPS 201-3 Table B-2): the value is the X.501 Name
	 * itself, so the attribute's one value is that SEQUENCE. */
	if ((name_len = i2d_X509_NAME(X509_get_subject_name(cert),
	    &name_der)) <= 0 ||
	    !CMS_signed_add1_attr_by_OBJ(si, dn_oid, V_ASN1_SEQUENCE, name_der,
	    name_len))
		goto crypto;
	if (!CMS_final(cms, in, NULL, CMS_BINARY |
	    (detached ? CMS_DETACHED : 0)))
		goto crypto;
	if ((der_len = i2d_CMS_ContentInfo(cms, &der)) <= 0)
		goto crypto;
	*out = der;
	*out_len = (size_t)der_len;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "CMS signature");
out:
	CMS_ContentInfo_free(cms);
	ASN1_OBJECT_free(ctype);
	ASN1_OBJECT_free(dn_oid);
	OPENSSL_free(name_der);
	BIO_free(in);
	return r;
}

enum pv_err
pkix_cms_signed_data_version(const uint8_t *der, size_t n, long *out,
    struct pv_why *why)
{
	struct buf_cur c, ci, ex, sd, v;
	uint8_t b;
	long val = 0;

	/* ContentInfo ::= SEQUENCE { contentType OID, [0] EXPLICIT SignedData }
	 * SignedData ::= SEQUENCE { version INTEGER, ... } (RFC 5652 §5.1) */
	buf_cur_init(&c, der, n);
	if (!tlv_get(&c, 0x30, &ci) || !tlv_get(&ci, 0x06, &v) ||
	    !tlv_get(&ci, 0xa0, &ex) || !tlv_get(&ex, 0x30, &sd) ||
	    !tlv_get(&sd, 0x02, &v) || v.len == 0 || v.len > 2)
		return pv_why_set(why, PV_E_MALFORMED,
		    "CMS: not a ContentInfo holding SignedData");
	while (buf_get_u8(&v, &b))
		val = val << 8 | b;
	*out = val;
	return PV_OK;
}

/*
 * The steps of CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY |
 * CMS_NO_SIGNER_CERT_VERIFY) for one SignerInfo, on BIOs we own: handed a
 * memory BIO, OpenSSL 3.0's CMS_verify copies it into one of its own and
 * loses that copy when CMS_dataInit fails (digestAlgorithms empty or naming
 * an unknown digest), which a hostile card can arrange.
 */
enum pv_err
pkix_cms_verify_signer(CMS_ContentInfo *cms, CMS_SignerInfo *si,
    X509 *signer, const uint8_t *p, size_t n, struct pv_why *why)
{
	unsigned char buf[4096];
	BIO *in = NULL, *chain = NULL;
	bool attrs;
	int got;
	enum pv_err r = PV_E_INTERNAL;

	if (n > INT_MAX) {
		r = pv_why_set(why, PV_E_TOO_LONG, "signed content too long");
		goto out;
	}
	if (CMS_SignerInfo_cert_cmp(si, signer) != 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "the SignerInfo names another certificate");
		goto out;
	}
	CMS_SignerInfo_set1_signer_cert(si, signer);
	/* With signed attributes the signature covers them (RFC 5652 §5.4)
	 * and messageDigest the content; without, the content itself. */
	attrs = CMS_signed_get_attr_count(si) >= 0;
	if (attrs && CMS_SignerInfo_verify(si) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "the signature over the signed attributes is wrong");
		goto out;
	}
	if ((in = BIO_new_mem_buf(n > 0 ? (const void *)p : "", (int)n)) ==
	    NULL) {
		r = pkix_crypto_err(why, "CMS content");
		goto out;
	}
	/* One digest BIO per digestAlgorithms entry, ending in |in|. */
	if ((chain = CMS_dataInit(cms, in)) == NULL) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "digestAlgorithms is empty or names an unknown digest");
		goto out;
	}
	in = NULL;	/* the chain's tail now */
	while ((got = BIO_read(chain, buf, sizeof(buf))) > 0)
		;
	if (got < 0) {
		r = pkix_crypto_err(why, "CMS content");
		goto out;
	}
	if (CMS_SignerInfo_verify_content(si, chain) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    CMS_R_NO_MATCHING_DIGEST)
			r = pv_why_set(why, PV_E_VERIFY,
			    "digestAlgorithms lacks the signer's digest");
		else
			r = pv_why_set(why, PV_E_VERIFY, attrs ?
			    "messageDigest differs from the content's digest" :
			    "the signature over the content is wrong");
		goto out;
	}
	r = PV_OK;
out:
	ERR_clear_error();
	OPENSSL_cleanse(buf, sizeof(buf));
	BIO_free_all(chain);
	BIO_free(in);
	return r;
}

enum pv_err
pkix_cms_verify_carried(CMS_ContentInfo *cms, const uint8_t *p, size_t n,
    struct pv_why *why)
{
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	CMS_SignerInfo *si;
	X509 *x;
	int i, j;
	enum pv_err r = PV_E_INTERNAL;

	sis = CMS_get0_SignerInfos(cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) <= 0) {
		r = pv_why_set(why, PV_E_VERIFY, "no SignerInfo");
		goto out;
	}
	certs = CMS_get1_certs(cms);
	for (i = 0; i < sk_CMS_SignerInfo_num(sis); i++) {
		si = sk_CMS_SignerInfo_value(sis, i);
		x = NULL;
		for (j = 0; x == NULL && j < sk_X509_num(certs); j++)
			if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs,
			    j)) == 0)
				x = sk_X509_value(certs, j);
		if (x == NULL) {
			r = pv_why_set(why, PV_E_VERIFY,
			    "SignerInfo %d: its certificate is not included",
			    i + 1);
			goto out;
		}
		if ((r = pkix_cms_verify_signer(cms, si, x, p, n, why)) !=
		    PV_OK) {
			pv_why_prefix(why, "SignerInfo %d", i + 1);
			goto out;
		}
	}
	r = PV_OK;
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* ---- files ---------------------------------------------------------------- */

enum pv_err
pkix_path_join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= cap)
		return PV_E_TOO_LONG;
	return PV_OK;
}

enum pv_err
pkix_write_file(const char *path, const void *p, size_t n, bool replace,
    struct pv_why *why)
{
	/* One implementation of the 0600 / O_EXCL / rename dance: secret.h. */
	return secret_write_file(path, p, n, replace ? HOME_WRITE_REPLACE : 0,
	    why);
}

enum pv_err
pkix_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t n = 0;
	ssize_t got;
	int fd, e;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		return pv_why_set(why, e == ENOENT ? PV_E_NO_FILE : PV_E_IO,
		    "%s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = pv_why_set(why, PV_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = pv_why_set(why, PV_E_TOO_LONG,
		    "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if ((p = OPENSSL_malloc((size_t)st.st_size + 1)) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size) {
		got = read(fd, p + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = pv_why_set(why, PV_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;	/* shrank while reading: take what is there */
		n += (size_t)got;
	}
	p[n] = 0;
	*out = p;
	*out_len = n;
	p = NULL;
	r = PV_OK;
out:
	if (p != NULL)
		OPENSSL_clear_free(p, (size_t)st.st_size + 1);
	(void)close(fd);
	return r;
}

/* ---- passphrases ---------------------------------------------------------- */

void
pkix_pass_clear(struct pkix_pass *p)
{
	if (p != NULL)
		OPENSSL_cleanse(p, sizeof(*p));
}

/*
 * pkix_pass_take_line keeps the first line of |buf| (without CR/LF).  A
 * NUL byte in it would cut the passphrase short without a word, and a
 * first line left empty by mistake looks like "no passphrase": both are
 * refused with a message that says so.
 */
static enum pv_err
pkix_pass_take_line(const char *buf, size_t n, const char *src,
    struct pkix_pass *out, struct pv_why *why)
{
	size_t len = 0;

	while (len < n && buf[len] != '\n') {
		if (buf[len] == '\0')
			return pv_why_set(why, PV_E_INPUT, "%s: the passphrase "
			    "holds a NUL byte", src);
		len++;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0)
		return pv_why_set(why, PV_E_INPUT, len < n ? "%s: the first "
		    "line is empty (the passphrase is the first line)" :
		    "%s: empty passphrase", src);
	if (len > PKIX_PASS_MAX)
		return pv_why_set(why, PV_E_TOO_LONG,
		    "%s: passphrase longer than %d bytes", src, PKIX_PASS_MAX);
	memcpy(out->v, buf, len);
	out->v[len] = '\0';
	out->len = len;
	return PV_OK;
}

/* Reads up to the first line end of |fd| (one byte at a time, so the rest
 * stays unread for whoever reads the descriptor next). */
static enum pv_err
pkix_pass_read_line(int fd, const char *src, struct pkix_pass *out,
    struct pv_why *why)
{
	char buf[PKIX_PASS_MAX + 3];
	size_t n = 0;
	ssize_t got;
	enum pv_err r;

	while (n < sizeof(buf)) {
		got = read(fd, buf + n, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = pv_why_set(why, PV_E_IO, "%s: %s", src,
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (buf[n++] == '\n')
			break;
	}
	r = pkix_pass_take_line(buf, n, src, out, why);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

bool
pkix_pass_is_fd_path(const char *path, int *fd)
{
	static const char *const pre[] = { "/dev/fd/", "/proc/self/fd/" };
	unsigned long long v;
	size_t i, k;

	if (strcmp(path, "/dev/stdin") == 0) {
		*fd = STDIN_FILENO;
		return true;
	}
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		k = strlen(pre[i]);
		if (strncmp(path, pre[i], k) == 0 &&
		    buf_dec_uint(path + k, 65535, &v)) {
			*fd = (int)v;
			return true;
		}
	}
	return false;
}

enum pv_err
pkix_pass_from_file(const char *path, struct pkix_pass *out,
    struct pv_why *why)
{
	return pkix_pass_from_file_stat(path, out, NULL, why);
}

enum pv_err
pkix_pass_from_file_stat(const char *path, struct pkix_pass *out,
    struct stat *out_st, struct pv_why *why)
{
	struct pollfd pfd;
	struct stat st;
	int fd = -1, k, pr;
	enum pv_err r;

	pkix_pass_clear(out);
	if (out_st != NULL)
		memset(out_st, 0, sizeof(*out_st));
	if (pkix_pass_is_fd_path(path, &k)) {
		/* A pipe from the shell: read it as the descriptor it is. */
		if (fstat(k, &st) != 0)
			return pv_why_set(why, PV_E_INPUT, "%s: %s", path,
			    strerror(errno));
		if (out_st != NULL)
			*out_st = st;
		return pkix_pass_read_line(k, path, out, why);
	}
	/* Non-blocking, so that a FIFO nobody writes to cannot hang us. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pv_why_set(why, errno == ENOENT ? PV_E_NO_FILE :
		    PV_E_INPUT, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (out_st != NULL)
		*out_st = st;	/* what is read, for the caller's mode rule */
	if (S_ISFIFO(st.st_mode)) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		do
			pr = poll(&pfd, 1, PKIX_PASS_FIFO_WAIT_S * 1000);
		while (pr < 0 && errno == EINTR);
		if (pr <= 0) {
			r = pv_why_set(why, PV_E_INPUT, "%s: a FIFO nobody wrote "
			    "to within %d s", path, PKIX_PASS_FIFO_WAIT_S);
			goto out;
		}
	} else if (!S_ISREG(st.st_mode)) {
		r = pv_why_set(why, PV_E_INPUT, "%s: not a regular file, FIFO "
		    "or pipe", path);
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = pkix_pass_read_line(fd, path, out, why);
out:
	(void)close(fd);
	return r;
}

enum pv_err
pkix_pass_from_fd(int fd, struct pkix_pass *out, struct pv_why *why)
{
	char src[32];

	pkix_pass_clear(out);
	(void)snprintf(src, sizeof(src), "file descriptor %d", fd);
	return pkix_pass_read_line(fd, src, out, why);
}

enum pv_err
pkix_pass_from_env(const char *var, struct pkix_pass *out, bool *found,
    struct pv_why *why)
{
	const char *v = getenv(var);

	pkix_pass_clear(out);
	*found = v != NULL;
	if (v == NULL)
		return PV_OK;
	return pkix_pass_take_line(v, strlen(v), var, out, why);
}

enum pv_err
pkix_pass_check_new(const struct pkix_pass *p, const char *what,
    struct pv_why *why)
{
	size_t n = p != NULL ? p->len : 0;

	if (n < PKIX_PASS_MIN_NEW)
		return pv_why_set(why, PV_E_INPUT, "%s: %zu character%s, at "
		    "least %d", what, n, n == 1 ? "" : "s", PKIX_PASS_MIN_NEW);
	return PV_OK;
}

enum pv_err
pkix_pass_set(struct pkix_pass *p, const char *s, struct pv_why *why)
{
	size_t n = s != NULL ? strlen(s) : 0;

	pkix_pass_clear(p);
	if (n == 0)
		return pv_why_set(why, PV_E_INPUT, "empty passphrase");
	if (n > PKIX_PASS_MAX)
		return pv_why_set(why, PV_E_TOO_LONG,
		    "passphrase longer than %d bytes", PKIX_PASS_MAX);
	memcpy(p->v, s, n + 1);
	p->len = n;
	return PV_OK;
}

void
pkix_name_str(const X509_NAME *n, char *out, size_t cap)
{
	BIO *b;
	char *p = NULL;
	long len;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (n == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0 && p != NULL) {
		size_t k = (size_t)len < cap - 1 ? (size_t)len : cap - 1;

		memcpy(out, p, k);
		out[k] = '\0';
	}
	BIO_free(b);
	ERR_clear_error();
}
