/*
 * derive_pkg.h: what a derived credential is made of, as pure functions
 * over OpenSSL objects (no store, no card): the derived certificates'
 * profile and the PKCS#12 for a phone's keystore.  The derive workflow
 * (derive.h) and its tests use them.
 */
#ifndef PV_ISSUANCE_DERIVE_PKG_H
#define PV_ISSUANCE_DERIVE_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/ca.h"
#include "issuance/config.h"

/* ---- derived certificates ---------------------------------------------------- */

enum derive_cert_kind {
	DERIVE_CERT_AUTH,	/* Derived PIV Authentication */
	DERIVE_CERT_SIGN	/* digital signature */
};

struct derive_cert_req {
	enum derive_cert_kind kind;
	bool hardware;		/* on a token (…-hardware policies) */
	EVP_PKEY *pub;		/* borrowed */
	const X509_NAME *subject;	/* borrowed: the primary's 9A subject */
	uint8_t uuid[16];	/* the derived credential's UUID */
	const char *email;	/* rfc822Name of a signature certificate;
				 * NULL or "": none */
	time_t now;
};

/*
 * derive_cert_issue makes a derived certificate with the profile of FPKI
 * worksheet 15 (DERIVED-REFERENCE §2.2): version 3, random serial,
 * validity |now| to |now| + [derive] certificate_days (at most 1096 days),
 * keyUsage critical digitalSignature (authentication) or digitalSignature
 * and nonRepudiation (signature), certificatePolicies from [derive]
 * (hardware or software list by |hardware|), subjectAltName with the
 * credential's UUID as a urn:uuid: URI and no FASC-N (an authentication
 * certificate carries nothing else; a signature certificate also the
 * e-mail address), for authentication the [certificates] eku_9a usages
 * (Microsoft smart card logon only on hardware) and the PIV interim
 * indicator per [certificates] piv_interim, AIA and CRL distribution point
 * from [urls], SKI/AKI; signed by the issuing CA of |ca| (opened with its
 * key).  *out is owned by the caller.  PV_E_INPUT for a key that is not
 * RSA 2048/3072 or P-256/P-384; PV_E_STATE without the CA key.
 */
enum pv_err derive_cert_issue(const struct ca *ca, const struct pv_config *cfg,
    const struct derive_cert_req *q, X509 **out, struct pv_why *why);

/*
 * derive_cert_has_policy: does |x| assert one of |oids| (dotted)?  False
 * for a certificate without the extension.
 */
bool derive_cert_has_policy(X509 *x, const struct config_oids *oids);

/* ---- PKCS#12 ------------------------------------------------------------------- */

/* One identity in a PKCS#12: a private key and its certificate. */
struct derive_identity {
	EVP_PKEY *key;		/* borrowed */
	X509 *cert;		/* borrowed */
	const char *name;	/* friendly name ("PIV Authentication") */
};

#define DERIVE_P12_ITER		100000	/* PBKDF2 / PKCS#12 KDF and MAC */

/*
 * derive_p12_build packs |ids|[0..n) (each key with its certificate,
 * bound by localKeyId and named by friendlyName) and the certificates of
 * |extra| (NULL allowed: the CA chain, without keys) into a PKCS#12
 * protected by |pass|: CONFIG_P12_MODERN shrouds keys and encrypts the
 * certificate bag with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) under a
 * SHA-256 MAC; CONFIG_P12_LEGACY uses pbeWithSHA1And3-KeyTripleDES-CBC for
 * both and a SHA-1 MAC (DERIVED-REFERENCE §5.1-5.2: what older iOS and
 * Android accept), DERIVE_P12_ITER iterations each.  *out (OPENSSL_free;
 * it holds private keys, wipe it) on success.
 */
enum pv_err derive_p12_build(const struct derive_identity *ids, size_t n,
    STACK_OF(X509) *extra, const char *pass, enum config_p12_compat compat,
    uint8_t **out, size_t *out_len, struct pv_why *why);

#endif /* PV_ISSUANCE_DERIVE_PKG_H */
