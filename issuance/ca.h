/*
 * ca.h: the station's certificate authority.
 *
 * `ca_init` creates, in one folder (normally <station home>/ca), a root CA,
 * an issuing CA signed by the root, a PIV content signer (for the CHUID and
 * the Security Object; PIV-REFERENCE §6) and a key recovery agent (KRA)
 * whose certificate receives escrowed keys.  `ca_import` uses an existing
 * CA certificate and key as the issuing CA instead, and creates the content
 * signer and the KRA under it.
 *
 * Files in the folder (all mode 0600, the folder 0700):
 *   root.crt issuing.crt signer.crt kra.crt   certificates (PEM)
 *   root.key issuing.key signer.key kra.key   encrypted PKCS#8 (PEM, scrypt
 *                                             + AES-256-CBC); root.key is
 *                                             absent after an import
 *   chain.pem                                 issuing CA then root (PEM)
 *   crl.der crl.pem                           the last CRL published
 * The root, issuing CA and content signer keys share the CA passphrase;
 * the KRA key has its own (which may be the same text).
 */
#ifndef PV_ISSUANCE_CA_H
#define PV_ISSUANCE_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/pkix_util.h"

#define CA_FILE_ROOT_CRT	"root.crt"
#define CA_FILE_ROOT_KEY	"root.key"
#define CA_FILE_ISSUING_CRT	"issuing.crt"
#define CA_FILE_ISSUING_KEY	"issuing.key"
#define CA_FILE_SIGNER_CRT	"signer.crt"
#define CA_FILE_SIGNER_KEY	"signer.key"
#define CA_FILE_KRA_CRT		"kra.crt"
#define CA_FILE_KRA_KEY		"kra.key"
#define CA_FILE_OCSP_CRT	"ocsp.crt"
#define CA_FILE_OCSP_KEY	"ocsp.key"
#define CA_FILE_TLS_CRT		"tls.crt"
#define CA_FILE_TLS_KEY		"tls.key"
#define CA_FILE_CHAIN		"chain.pem"
#define CA_FILE_CRL_DER		"crl.der"
#define CA_FILE_CRL_PEM		"crl.pem"

/* Default lifetimes in days. */
#define CA_DAYS_ROOT		7305	/* 20 years */
#define CA_DAYS_ISSUING		3652	/* 10 years */
#define CA_DAYS_SIGNER		3287	/* 9 years: the most worksheet 17 allows */
#define CA_DAYS_KRA		3652
#define CA_DAYS_OCSP		90	/* worksheet 20 allows 3 years; a
					 * responder without revocation
					 * checking should live briefly */
#define CA_DAYS_TLS		397	/* what browsers accept at most */
#define CA_DAYS_SERVICE_MAX	1095

/* The service certificates (bits of ca_init_params.services). */
enum ca_service {
	CA_SVC_OCSP = 0x1,
	CA_SVC_TLS = 0x4
};
#define CA_TLS_HOSTS_MAX	8

#define CA_POLICIES_MAX		16

/* The CA once created or loaded.  Opaque. */
struct ca;

struct ca_init_params {
	/*
	 * Start of every CA certificate's subject, root first, without CN
	 * ("C=US, O=Example Agency, OU=PIV Station"); each certificate adds
	 * CN = "<O> Root CA", "<O> PIV Issuing CA", "<O> PIV Content
	 * Signer", "<O> Key Recovery Agent" (just the role without an O).
	 */
	struct pkix_dn name;
	enum pkix_alg root_alg;		/* each: PKIX_ALG_NONE = P-256 */
	enum pkix_alg issuing_alg;
	enum pkix_alg signer_alg;
	enum pkix_alg kra_alg;
	enum pkix_policy_set policies;	/* the PIV policy OIDs in use */
	/*
	 * The content signer's policies; n == 0: the set's
	 * id-fpki-common-piv-contentSigning (or its test OID).
	 */
	unsigned n_signer_policies;
	char signer_policies[CA_POLICIES_MAX][PKIX_OID_MAX];
	/*
	 * The issuing CA lists every policy of the set, the signer's, and
	 * these (configured per-slot OIDs outside the set), so that paths
	 * validate with `-policy <OID> -explicit_policy`.
	 */
	unsigned n_extra_policies;
	char extra_policies[CA_POLICIES_MAX][PKIX_OID_MAX];
	unsigned root_days;		/* 0: the defaults above */
	unsigned issuing_days;
	unsigned signer_days;		/* never more than 9 years */
	unsigned kra_days;
	const char *crl_url;		/* CRL DP of signer/KRA certs, optional */
	const char *ca_issuers_url;	/* AIA caIssuers, optional */
	/*
	 * The service certificates ca_init and ca_import make (CA_SVC_OCSP:
	 * 0 in the defaults, set from the configuration), the responder's
	 * algorithm (PKIX_ALG_NONE: P-256) and lifetime (0: CA_DAYS_OCSP).
	 */
	unsigned services;
	enum pkix_alg ocsp_alg;
	unsigned ocsp_days;
};

/* ca_init_params_defaults: P-256 keys, test policies, default lifetimes,
 * name "O=PIV Station". */
void ca_init_params_defaults(struct ca_init_params *p);

struct pv_config;	/* issuance/config.h */

/*
 * ca_params_from_config fills |p| from the station configuration: [ca]
 * algorithm, lifetimes and name; [policy] set, content signer and per-slot
 * OIDs; [urls].  PV_E_CONFIG names a value that does not fit.
 */
enum pv_err ca_params_from_config(const struct pv_config *cfg,
    struct ca_init_params *p, struct pv_why *why);

/*
 * ca_init creates the CA in |dir|, which must not exist yet (or be an
 * empty folder); its parent must exist.  Everything is written to a
 * temporary folder beside it and renamed into place at the end, so a
 * failure leaves nothing behind.  |pass| protects the root, issuing and
 * signer keys, |kra_pass| the KRA key; each must be at least
 * PKIX_PASS_MIN_NEW bytes.  PV_E_EXISTS if a CA is already there.
 */
enum pv_err ca_init(const char *dir, const struct ca_init_params *p,
    const struct pkix_pass *pass, const struct pkix_pass *kra_pass,
    time_t now, struct pv_why *why);

/*
 * ca_new makes the same CA as ca_init in memory only (nothing written; the
 * result has its issuing CA and signer keys, as ca_open with a passphrase
 * gives): for tests, benchmarks and ca_init itself.  *root_key and
 * *kra_key (each NULL allowed: then discarded) receive the root and KRA
 * private keys.  ca_get0_dir() of the result is "".
 */
enum pv_err ca_new(const struct ca_init_params *p, time_t now,
    struct ca **out, EVP_PKEY **root_key, EVP_PKEY **kra_key,
    struct pv_why *why);

/*
 * ca_import makes |dir| use an existing CA: |cert| and |key| become the
 * issuing CA (the key is re-encrypted under |pass|), |chain| (NULL
 * allowed when |cert| is self-signed) supplies the certificates up to a
 * self-signed root.  The certificate must be a CA allowed to sign
 * certificates, the key must match it, and the chain must verify.  A
 * content signer and a KRA are created under it as in ca_init (|p| gives
 * their algorithms, lifetimes and URLs; p->name names them).
 */
enum pv_err ca_import(const char *dir, X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, const struct ca_init_params *p,
    const struct pkix_pass *pass, const struct pkix_pass *kra_pass,
    time_t now, struct pv_why *why);

/*
 * ca_open loads the certificates in |dir|, and with |pass| (NULL: none)
 * the issuing CA and content signer private keys.  *out is freed with
 * ca_free.  PV_E_NOT_FOUND when |dir| holds no CA; PV_E_AUTH_FAILED when
 * the passphrase is wrong.
 */
enum pv_err ca_open(const char *dir, const struct pkix_pass *pass,
    struct ca **out, struct pv_why *why);

/*
 * ca_open_keys is ca_open loading only the private keys named in |which|
 * (CA_KEY_ISSUING, CA_KEY_SIGNER, or both): each costs an scrypt.
 */
#define CA_KEY_ISSUING	0x1
#define CA_KEY_SIGNER	0x2
#define CA_KEY_OCSP	0x4	/* the service keys, when the folder has them */
enum pv_err ca_open_keys(const char *dir, const struct pkix_pass *pass,
    unsigned which, struct ca **out, struct pv_why *why);

/* ca_free releases |ca| and wipes its keys.  NULL allowed. */
void ca_free(struct ca *ca);

/* Borrowed views (live as long as |ca|).  Keys are NULL unless opened. */
X509 *ca_get0_root(const struct ca *ca);
X509 *ca_get0_issuing(const struct ca *ca);
X509 *ca_get0_signer(const struct ca *ca);
X509 *ca_get0_kra(const struct ca *ca);
EVP_PKEY *ca_get0_issuing_key(const struct ca *ca);
EVP_PKEY *ca_get0_signer_key(const struct ca *ca);
/* The service certificates and keys: NULL when the folder has none (a CA
 * made before they existed: ca_service_roll makes them) or the key was not
 * asked for. */
X509 *ca_get0_ocsp(const struct ca *ca);
EVP_PKEY *ca_get0_ocsp_key(const struct ca *ca);
/* The chain above an end-entity certificate: issuing CA, then the root. */
STACK_OF(X509) *ca_get0_chain(const struct ca *ca);
const char *ca_get0_dir(const struct ca *ca);

/*
 * ca_trust_store returns a new store holding the root as trust anchor and
 * the issuing CA (caller frees with X509_STORE_free).
 */
enum pv_err ca_trust_store(const struct ca *ca, X509_STORE **out,
    struct pv_why *why);

/*
 * ca_kra_key_load decrypts the KRA private key in |dir| with |pass|.
 * *out is owned by the caller.  PV_E_AUTH_FAILED on a wrong passphrase.
 */
enum pv_err ca_kra_key_load(const char *dir, const struct pkix_pass *pass,
    EVP_PKEY **out, struct pv_why *why);

/* What `ca show` prints about one certificate. */
struct ca_cert_info {
	const char *role;	/* "root", "issuing", "signer", "kra" */
	char subject[256];
	char issuer[256];
	char serial[PKIX_SERIAL_HEX_LEN];
	char not_before[32];
	char not_after[32];
	char key[32];		/* "EC P-256", "RSA 3072" */
	char sha256[PKIX_FP_LEN];
};

/* ca_describe fills out[0..3] for root, issuing, signer and KRA. */
void ca_describe(const struct ca *ca, struct ca_cert_info out[4]);

/* ca_describe_services fills out[] for the OCSP responder when the CA
 * has one (role "ocsp") and returns how many (0-1; room for 2). */
size_t ca_describe_services(const struct ca *ca, struct ca_cert_info out[2]);

/* A revoked certificate, as the store supplies it for a CRL. */
struct ca_revoked {
	uint8_t serial[20];
	size_t serial_len;	/* 1..20 */
	time_t revoked_at;
	int reason;		/* RFC 5280 CRLReason; 0 or < 0: none given */
};

/*
 * ca_crl_make signs a version 2 CRL with the issuing CA key: this update
 * |now|, next update |now| + |next_update_hours|, CRL number
 * |crl_number|, authority key identifier, and one entry per |rv| (with a
 * reason code when one is given).  The store keeps the CRL number; it
 * must grow with every CRL.  *out (DER, OPENSSL_free) on success.
 */
enum pv_err ca_crl_make(const struct ca *ca, const struct ca_revoked *rv,
    size_t n_rv, uint64_t crl_number, time_t now, unsigned next_update_hours,
    uint8_t **out, size_t *out_len, struct pv_why *why);

/*
 * ca_crl_publish writes |der| as crl.der and crl.pem in the CA folder
 * (replacing the previous CRL).
 */
enum pv_err ca_crl_publish(const struct ca *ca, const uint8_t *der,
    size_t der_len, struct pv_why *why);

/*
 * ca_crl_last_number reads the CRL number of the CRL published last in
 * |dir|.  *found is false (and PV_OK returned) when none was published.
 */
enum pv_err ca_crl_last_number(const char *dir, uint64_t *out, bool *found,
    struct pv_why *why);

/*
 * ca_sign_cert sets the issuer name and authority key identifier of |x|
 * from the issuing CA and signs it with the issuing CA key.  PV_E_STATE if
 * |ca| was opened without its passphrase.
 */
enum pv_err ca_sign_cert(const struct ca *ca, X509 *x, struct pv_why *why);

/* ---- service certificates ------------------------------------------------- */

/* What one service certificate is made for. */
struct ca_service_params {
	enum ca_service kind;		/* one of CA_SVC_* */
	enum pkix_alg alg;		/* PKIX_ALG_NONE: the kind's default */
	unsigned days;			/* 0: the kind's default */
	/* tls: the host names (DNS names or IP addresses) it is for, the
	 * first one its CN */
	unsigned n_hosts;
	const char *hosts[CA_TLS_HOSTS_MAX];
};

/*
 * ca_service_params_init fills |sp| for |kind| from |p| (the CA's
 * settings: name, policies, URLs, the ocsp algorithm and days).
 */
void ca_service_params_init(struct ca_service_params *sp,
    enum ca_service kind, const struct ca_init_params *p);

/*
 * ca_service_make issues a service certificate with a new key, signed by
 * the issuing CA of |ca| (opened with its issuing key): subject
 * "<ca name prefix>, CN=<O> OCSP Responder" (id-kp-OCSPSigning,
 * id-pkix-ocsp-nocheck, the issuing CA's policies) or, for a server,
 * CN=<first host> (id-kp-serverAuth, the hosts as subjectAltName); serial
 * random, valid from |now| for the days asked but never past the issuing
 * CA.  *cert and *key (owned) on success.  PV_E_STATE without the issuing
 * key; PV_E_INPUT for a host name that cannot be a DNS name or an IP
 * address.
 */
enum pv_err ca_service_make(const struct ca *ca, const struct ca_init_params *p,
    const struct ca_service_params *sp, time_t now, X509 **cert,
    EVP_PKEY **key, struct pv_why *why);

/*
 * ca_service_roll makes a new service certificate and key (ca_service_make)
 * and writes them to the CA folder of |ca| (its key under |pass|),
 * replacing the previous ones: the key first, then the certificate, each
 * to a temporary name and renamed, so a reader sees either pair whole or a
 * mismatch ca_open refuses, never a half-written file.  |ca| then holds
 * the new certificate and key.  *serial_hex (may be NULL; PKIX_SERIAL_HEX_LEN
 * bytes) receives the new serial.
 */
enum pv_err ca_service_roll(struct ca *ca, const struct ca_init_params *p,
    const struct ca_service_params *sp, const struct pkix_pass *pass,
    time_t now, char *serial_hex, struct pv_why *why);

/*
 * ca_service_load reads the service certificate |kind| from |dir| and,
 * with |pass|, its key, into *cert and *key (each owned; *key NULL when
 * |pass| is NULL).  PV_E_NO_FILE when the folder has none.  The key must
 * match the certificate (PV_E_CONFIG).
 */
enum pv_err ca_service_load(const char *dir, enum ca_service kind,
    const struct pkix_pass *pass, X509 **cert, EVP_PKEY **key,
    struct pv_why *why);

/* ca_service_name: "ocsp", "tls" ("?" otherwise). */
const char *ca_service_name(enum ca_service kind);

#endif /* PV_ISSUANCE_CA_H */
