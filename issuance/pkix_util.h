/*
 * pkix_util.h: helpers shared by the OpenSSL side of issuance/ (ca, profile,
 * chuid, secobj, escrow, mgmtkey): key algorithms, PIV object identifiers,
 * certificate extension builders, random serials, passphrases, and files
 * that hold secrets (0600, O_EXCL|O_NOFOLLOW, temporary name then rename).
 *
 * OpenSSL 3 APIs only.  Every function that fails on an OpenSSL call drains
 * OpenSSL's error queue into |why| and returns PV_E_CRYPTO.
 */
#ifndef PV_ISSUANCE_PKIX_UTIL_H
#define PV_ISSUANCE_PKIX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"

/* ---- object identifiers (PIV-REFERENCE §6, §7) ---------------------------- */

#define PKIX_OID_PIV_CHUID_SECURITY_OBJECT	"2.16.840.1.101.3.6.1"
#define PKIX_OID_PIV_SIGNER_DN			"2.16.840.1.101.3.6.5"
#define PKIX_OID_PIV_FASCN			"2.16.840.1.101.3.6.6"
#define PKIX_OID_PIV_CONTENT_SIGNING		"2.16.840.1.101.3.6.7"
#define PKIX_OID_PIV_CARD_AUTH			"2.16.840.1.101.3.6.8"
/* id-piv-NACI, the PIV interim indicator (FIPS 201-2 App. B.2) */
#define PKIX_OID_PIV_INTERIM			"2.16.840.1.101.3.6.9.1"
#define PKIX_OID_MS_UPN				"1.3.6.1.4.1.311.20.2.3"
#define PKIX_OID_MS_SMARTCARD_LOGON		"1.3.6.1.4.1.311.20.2.2"
#define PKIX_OID_PKINIT_CLIENT_AUTH		"1.3.6.1.5.2.3.4"
#define PKIX_OID_CLIENT_AUTH			"1.3.6.1.5.5.7.3.2"
#define PKIX_OID_ANY_POLICY			"2.5.29.32.0"
/*
 * The PIV Security Object's eContentType.  SP 800-73-4 points at ICAO's
 * "PKI for MRTDs offering ICC read-only access" v1.1, whose OID is
 * 1.3.27.1.1.1; GSA's conformance tool (test CMS.20) requires exactly that
 * value.  Doc 9303's later OID is accepted when verifying.
 */
#define PKIX_OID_LDS_SECURITY_OBJECT		"1.3.27.1.1.1"
#define PKIX_OID_LDS_SECURITY_OBJECT_9303	"2.23.136.1.1.1"

/*
 * Certificate policies by role.  PKIX_POLICIES_PRODUCTION are the Federal
 * PKI Common Policy OIDs; PKIX_POLICIES_TEST the FPKI CITE test OIDs
 * (PIV-REFERENCE §7.1).
 */
enum pkix_policy_set {
	PKIX_POLICIES_TEST = 0,
	PKIX_POLICIES_PRODUCTION
};

enum pkix_policy_role {
	PKIX_POLICY_COMMON = 0,		/* id-fpki-common-policy */
	PKIX_POLICY_HARDWARE,		/* 9C, 9D */
	PKIX_POLICY_AUTH,		/* 9A */
	PKIX_POLICY_HIGH,
	PKIX_POLICY_CARD_AUTH,		/* 9E */
	PKIX_POLICY_CONTENT_SIGNING,	/* CHUID / Security Object signer */
	PKIX_POLICY_DERIVED_AUTH,
	PKIX_POLICY_DERIVED_AUTH_HW,
	PKIX_POLICY__COUNT
};

/* pkix_policy_oid returns the dotted OID for |role| in |set|; never NULL. */
const char *pkix_policy_oid(enum pkix_policy_set set,
    enum pkix_policy_role role);

/*
 * pkix_policy_set_parse accepts "test" or "production".  PV_E_CONFIG with
 * a message naming the value otherwise.
 */
enum pv_err pkix_policy_set_parse(const char *s, enum pkix_policy_set *out,
    struct pv_why *why);

#define PKIX_OID_MAX 64	/* room for a dotted OID */

/* pkix_oid_valid is true for a dotted OID OpenSSL can encode. */
bool pkix_oid_valid(const char *s);

/* ---- key algorithms ------------------------------------------------------- */

enum pkix_alg {
	PKIX_ALG_NONE = 0,
	PKIX_ALG_P256,
	PKIX_ALG_P384,
	PKIX_ALG_RSA2048,
	PKIX_ALG_RSA3072,
	PKIX_ALG_RSA4096	/* CA keys only; PIV slots stop at 3072 */
};

/*
 * pkix_alg_parse accepts "p256" "p-256" "ecc-p256" "ec-p256" "p384" ...
 * "rsa2048" "rsa-2048" "rsa3072" "rsa4096" (case-insensitive).  PV_E_INPUT
 * naming the value otherwise.
 */
enum pv_err pkix_alg_parse(const char *s, enum pkix_alg *out,
    struct pv_why *why);

/*
 * pkix_alg_from_piv maps a PIV algorithm identifier (PIV-REFERENCE §3.3:
 * 07 RSA 2048, 05 RSA 3072, 16 RSA 4096, 11 P-256, 14 P-384) to ours;
 * PKIX_ALG_NONE for any other.
 */
enum pkix_alg pkix_alg_from_piv(unsigned id);

/* pkix_alg_name returns "p256", "p384", "rsa2048", ... or "none". */
const char *pkix_alg_name(enum pkix_alg alg);

/* pkix_alg_is_rsa is true for the RSA algorithms. */
bool pkix_alg_is_rsa(enum pkix_alg alg);

/*
 * pkix_keygen makes a new key pair (RSA with e = 65537; EC on a named
 * curve).  On success *out is owned by the caller (EVP_PKEY_free).
 */
enum pv_err pkix_keygen(enum pkix_alg alg, EVP_PKEY **out,
    struct pv_why *why);

/*
 * pkix_key_alg tells which of our algorithms |key| is.  PV_E_INPUT (with a
 * message) for any other type, curve or size, and for an RSA exponent
 * other than 65537.  (RSA 4096 is reported as PKIX_ALG_RSA4096: callers
 * issuing for a PIV slot refuse it.)
 */
enum pv_err pkix_key_alg(const EVP_PKEY *key, enum pkix_alg *out,
    struct pv_why *why);

/*
 * pkix_md_for_key is the digest used with |key|: SHA-384 for P-384,
 * SHA-256 otherwise (SP 800-78).  Never NULL.
 */
const EVP_MD *pkix_md_for_key(const EVP_PKEY *key);

/* pkix_key_describe writes "EC P-256" or "RSA 2048" into |out|. */
void pkix_key_describe(const EVP_PKEY *key, char *out, size_t cap);

/* ---- errors --------------------------------------------------------------- */

/*
 * pkix_crypto_err formats "<what>: <OpenSSL's reason>" into |why|, clears
 * OpenSSL's error queue and returns PV_E_CRYPTO.
 */
enum pv_err pkix_crypto_err(struct pv_why *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- certificates --------------------------------------------------------- */

/* Key usage bits, in the order of RFC 5280 §4.2.1.3. */
enum {
	PKIX_KU_DIGITAL_SIGNATURE = 1u << 0,
	PKIX_KU_NON_REPUDIATION = 1u << 1,
	PKIX_KU_KEY_ENCIPHERMENT = 1u << 2,
	PKIX_KU_DATA_ENCIPHERMENT = 1u << 3,
	PKIX_KU_KEY_AGREEMENT = 1u << 4,
	PKIX_KU_KEY_CERT_SIGN = 1u << 5,
	PKIX_KU_CRL_SIGN = 1u << 6
};

#define PKIX_SERIAL_LEN 16

/*
 * pkix_random_serial fills |out| with a random positive 16-byte serial
 * whose first byte is never zero, so its DER INTEGER is exactly 16 bytes.
 */
enum pv_err pkix_random_serial(uint8_t out[PKIX_SERIAL_LEN],
    struct pv_why *why);

/*
 * pkix_cert_new starts a version 3 certificate for |pub| with |subject|
 * (copied), issuer = |issuer|'s subject (or |subject| when |issuer| is
 * NULL: self-signed), the given serial and validity, and a subject key
 * identifier.  On success *out is owned by the caller.
 */
enum pv_err pkix_cert_new(EVP_PKEY *pub, const X509_NAME *subject,
    const X509 *issuer, const uint8_t *serial, size_t serial_len,
    time_t not_before, time_t not_after, X509 **out, struct pv_why *why);

/* Each adds one extension to |x|; PV_E_CRYPTO on failure. */
enum pv_err pkix_ext_key_usage(X509 *x, unsigned bits, struct pv_why *why);
enum pv_err pkix_ext_eku(X509 *x, const char *const *oids, size_t n_oids,
    bool critical, struct pv_why *why);
enum pv_err pkix_ext_policies(X509 *x, const char *const *oids,
    size_t n_oids, struct pv_why *why);
enum pv_err pkix_ext_basic_constraints(X509 *x, bool ca, int pathlen,
    struct pv_why *why);	/* pathlen < 0: none; always critical */
enum pv_err pkix_ext_aki(X509 *x, X509 *issuer, struct pv_why *why);
/* AIA with caIssuers and OCSP; each URL may be NULL or empty (skipped). */
enum pv_err pkix_ext_aia(X509 *x, const char *ca_issuers_url,
    const char *ocsp_url, struct pv_why *why);
enum pv_err pkix_ext_crldp(X509 *x, const char *url, struct pv_why *why);
/*
 * The PIV interim indicator (id-piv-NACI, FIPS 201-2 App. B.2: NACI-indicator
 * ::= BOOLEAN), not critical: extnValue is the DER BOOLEAN, 01 01 FF when
 * |interim| (the fingerprint check passed, the background investigation
 * is initiated but not completed), 01 01 00 when it was completed and
 * adjudicated.
 */
enum pv_err pkix_ext_piv_interim(X509 *x, bool interim, struct pv_why *why);

/*
 * pkix_sign signs |x| with |key| using pkix_md_for_key (RSA PKCS#1 v1.5
 * or ECDSA).
 */
enum pv_err pkix_sign(X509 *x, EVP_PKEY *key, struct pv_why *why);

/*
 * A distinguished name as plain data, root first ("C=US, O=Example Agency,
 * OU=People, CN=Jane Doe").  Attribute types: C ST L O OU CN DC UID
 * serialNumber.  n == 0 is the empty name.
 */
#define PKIX_DN_MAX_RDN		8
#define PKIX_DN_TYPE_MAX	16
#define PKIX_DN_VALUE_MAX	128
struct pkix_dn {
	unsigned n;
	struct {
		char type[PKIX_DN_TYPE_MAX];
		char value[PKIX_DN_VALUE_MAX];
	} rdn[PKIX_DN_MAX_RDN];
};

/*
 * pkix_dn_add appends one attribute (copied).  PV_E_INPUT names a type we
 * do not know, a full name, or a value that pkix_dn_to_name (OpenSSL)
 * could not encode: empty, not strict UTF-8, with control characters
 * (text_cp_is_control), longer than the X.520 upper bound in characters
 * (or PKIX_DN_VALUE_MAX - 1 bytes), a C that is not two capitals, a DC
 * that is not ASCII (IA5String), a serialNumber outside the
 * PrintableString alphabet.
 */
enum pv_err pkix_dn_add(struct pkix_dn *dn, const char *type,
    const char *value, struct pv_why *why);

/*
 * pkix_dn_parse reads "TYPE=value, TYPE=value" (root first; a value may
 * not contain ',' or '='; blanks around items are dropped).  An empty
 * string is the empty name.
 */
enum pv_err pkix_dn_parse(const char *s, struct pkix_dn *out,
    struct pv_why *why);

/* pkix_dn_get returns the value of the last |type| attribute, or NULL. */
const char *pkix_dn_get(const struct pkix_dn *dn, const char *type);

/*
 * pkix_dn_to_name makes the X509_NAME.  Text that fits the PrintableString
 * alphabet is encoded as PrintableString (C always must), anything else as
 * UTF8String (DC and emailAddress-like values as IA5String).  Upper bounds
 * of X.520 apply (CN, O, OU 64).  PV_E_INPUT names the bad attribute.
 */
enum pv_err pkix_dn_to_name(const struct pkix_dn *dn, X509_NAME **out,
    struct pv_why *why);

/*
 * pkix_x509_refresh replaces *x by a fresh decode of its DER, so nothing
 * OpenSSL cached while the certificate was being built (extension flags,
 * hash) outlives it.  Call it after signing.
 */
enum pv_err pkix_x509_refresh(X509 **x, struct pv_why *why);

/*
 * pkix_spki_sha256 is the SHA-256 of |key|'s SubjectPublicKeyInfo (DER):
 * what the store keys certificates and escrowed keys by.
 */
enum pv_err pkix_spki_sha256(EVP_PKEY *key, uint8_t out[32],
    struct pv_why *why);

/* pkix_cert_fingerprint writes the SHA-256 as "AB:CD:..." (96 bytes). */
#define PKIX_FP_LEN 96
enum pv_err pkix_cert_fingerprint(const X509 *x, char out[PKIX_FP_LEN]);

/* pkix_serial_hex writes the serial as lowercase hex (up to 2*20+1). */
#define PKIX_SERIAL_HEX_LEN 64
void pkix_serial_hex(const X509 *x, char out[PKIX_SERIAL_HEX_LEN]);

/* pkix_time_str writes an ASN1_TIME as "2030-01-01T00:00:00Z". */
void pkix_time_str(const ASN1_TIME *t, char *out, size_t cap);

/* pkix_uuid_str writes "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes). */
#define PKIX_UUID_STR_LEN 37
void pkix_uuid_str(const uint8_t uuid[16], char out[PKIX_UUID_STR_LEN]);

/*
 * pkix_uuid_parse reads the textual UUID form (hyphens optional, hex
 * either case) into 16 bytes.  PV_E_INPUT otherwise.
 */
enum pv_err pkix_uuid_parse(const char *s, uint8_t out[16],
    struct pv_why *why);

/* ---- encodings ------------------------------------------------------------ */

/*
 * pkix_cert_to_der / pkix_cert_to_pem / pkix_crl_* / pkix_key_to_pkcs8_der
 * allocate *out with OPENSSL_malloc (free: OPENSSL_free; for key material
 * OPENSSL_clear_free).  PEM output is NUL-terminated; *out_len excludes
 * the NUL.
 */
enum pv_err pkix_cert_to_der(const X509 *x, uint8_t **out, size_t *out_len,
    struct pv_why *why);
enum pv_err pkix_cert_to_pem(const X509 *x, char **out, size_t *out_len,
    struct pv_why *why);

/*
 * pkix_key_to_encrypted_pem writes |key| as encrypted PKCS#8 PEM
 * ("ENCRYPTED PRIVATE KEY"): PBES2 with scrypt (N=2^14, r=8, p=1) and
 * AES-256-CBC, keyed by |pass| (|pass_len| bytes, at least one).
 */
enum pv_err pkix_key_to_encrypted_pem(EVP_PKEY *key, const char *pass,
    size_t pass_len, char **out, size_t *out_len, struct pv_why *why);

/*
 * pkix_key_from_bytes decodes a private key in PEM or DER, PKCS#8
 * encrypted or not, or a traditional form, with |pass| (NULL: none).
 * PV_E_AUTH_FAILED when the key is encrypted and the passphrase does not
 * open it; PV_E_INPUT when the bytes hold no private key.
 */
enum pv_err pkix_key_from_bytes(const uint8_t *p, size_t n, const char *pass,
    size_t pass_len, EVP_PKEY **out, struct pv_why *why);

/* pkix_pubkey_from_bytes decodes a public key (SPKI, PEM or DER). */
enum pv_err pkix_pubkey_from_bytes(const uint8_t *p, size_t n, EVP_PKEY **out,
    struct pv_why *why);

/*
 * pkix_certs_from_bytes decodes one or more certificates (PEM, several
 * allowed, or one DER).  On success *out holds at least one certificate.
 */
enum pv_err pkix_certs_from_bytes(const uint8_t *p, size_t n,
    STACK_OF(X509) **out, struct pv_why *why);

/* ---- CMS SignedData (CHUID and Security Object) ---------------------------- */

/*
 * pkix_cms_sign makes a DER ContentInfo(SignedData) over |p|,|n| with
 * eContentType |econtent_oid|: eContent omitted when |detached|, the
 * signer's certificate included when |with_cert|; one SignerInfo
 * (issuerAndSerialNumber) with signed attributes contentType, signingTime,
 * messageDigest and pivSigner-DN (the signer's subject Name), digest per
 * pkix_md_for_key.  *out is OPENSSL_free'd by the caller.
 */
enum pv_err pkix_cms_sign(X509 *cert, EVP_PKEY *key, const char *econtent_oid,
    const uint8_t *p, size_t n, bool detached, bool with_cert, uint8_t **out,
    size_t *out_len, struct pv_why *why);

/*
 * pkix_cms_signed_data_version reads SignedData.version from a DER
 * ContentInfo (through the TLV cursor; the bytes may be hostile).
 */
enum pv_err pkix_cms_signed_data_version(const uint8_t *der, size_t n,
    long *out, struct pv_why *why);

/*
 * pkix_cms_verify_signer checks SignerInfo |si| of the SignedData |cms|
 * with |signer|'s key over the content |p|,|n| (the detached content, or
 * the eContent itself), as CMS_verify does with CMS_BINARY and without
 * path validation: |si| must name |signer| (the certificates inside |cms|
 * are not looked at), its signed attributes (when present) must verify,
 * and the content's digest must match messageDigest (or, without signed
 * attributes, the signature), with the signer's digest among the
 * SignedData's digestAlgorithms, all of which OpenSSL must know.  Sets
 * |signer| as |si|'s signer certificate.  PV_E_VERIFY with the failed rule
 * in |why| (callers prefix it); nothing is leaked on any input.
 */
enum pv_err pkix_cms_verify_signer(CMS_ContentInfo *cms, CMS_SignerInfo *si,
    X509 *signer, const uint8_t *p, size_t n, struct pv_why *why);

/*
 * pkix_cms_verify_carried checks every SignerInfo of |cms| as
 * pkix_cms_verify_signer does, each with the certificate |cms| itself
 * carries for it (none is trusted: this says only that the bytes are
 * signed by whoever those certificates name).  CMS_verify(cms, NULL, NULL,
 * content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) without its leak.
 */
enum pv_err pkix_cms_verify_carried(CMS_ContentInfo *cms, const uint8_t *p,
    size_t n, struct pv_why *why);

/* ---- files ---------------------------------------------------------------- */

/*
 * pkix_write_file writes |n| bytes to |path| with mode 0600: to a new
 * temporary name in the same folder (O_CREAT|O_EXCL|O_NOFOLLOW, umask
 * 077), fsync, then rename (secret_write_file() does it).  With |replace|
 * false an existing |path| is left alone and PV_E_EXISTS returned.
 * PV_E_IO names the path otherwise.
 */
enum pv_err pkix_write_file(const char *path, const void *p, size_t n,
    bool replace, struct pv_why *why);

/*
 * pkix_read_file reads at most |max| bytes from |path| (refusing symbolic
 * links).  *out (OPENSSL_malloc, NUL-terminated beyond *out_len) is owned
 * by the caller; free with OPENSSL_clear_free(*out, *out_len + 1) when it
 * may hold a secret.  PV_E_TOO_LONG if the file is larger; PV_E_NOT_FOUND
 * when it does not exist.
 */
enum pv_err pkix_read_file(const char *path, size_t max, uint8_t **out,
    size_t *out_len, struct pv_why *why);

/* pkix_path_join writes "dir/name" into |out|; PV_E_TOO_LONG if it won't fit. */
enum pv_err pkix_path_join(char *out, size_t cap, const char *dir,
    const char *name);

/* ---- passphrases ---------------------------------------------------------- */

#define PKIX_PASS_MAX 1023
#define PKIX_PASS_FIFO_WAIT_S 10	/* how long a FIFO may keep us waiting */
#define PKIX_PASS_MIN_NEW 8	/* shortest passphrase accepted for new keys */

/* A passphrase in the caller's storage; wipe it with pkix_pass_clear. */
struct pkix_pass {
	char v[PKIX_PASS_MAX + 1];	/* NUL-terminated */
	size_t len;
};

/*
 * pkix_pass_from_file reads the first line of |path| (without its line
 * end): a regular file, a FIFO (written to within PKIX_PASS_FIFO_WAIT_S
 * seconds, else PV_E_INPUT), or /dev/fd/N, /proc/self/fd/N, /dev/stdin
 * (read as that descriptor: a shell's process substitution).  Symbolic
 * links are followed; whether the file may be read by others is the
 * caller's rule (passphrase.h).  pkix_pass_from_fd reads the first line
 * from |fd| (does not close it; the rest stays unread).
 * pkix_pass_from_env copies $|var|; *found tells whether it was set.  An
 * empty passphrase, an empty first line or a NUL byte is PV_E_INPUT; a
 * missing file PV_E_NO_FILE.
 */
enum pv_err pkix_pass_from_file(const char *path, struct pkix_pass *out,
    struct pv_why *why);
/* The same, with the fstat of the file or descriptor read in |*out_st|
 * (when the path could be opened), so that a mode rule judges what was
 * read rather than what a path named a moment before. */
struct stat;
enum pv_err pkix_pass_from_file_stat(const char *path,
    struct pkix_pass *out, struct stat *out_st, struct pv_why *why);
enum pv_err pkix_pass_from_fd(int fd, struct pkix_pass *out,
    struct pv_why *why);
enum pv_err pkix_pass_from_env(const char *var, struct pkix_pass *out,
    bool *found, struct pv_why *why);

/*
 * pkix_pass_is_fd_path: is |path| "/dev/fd/N", "/proc/self/fd/N" or
 * "/dev/stdin" (descriptor N of this process, as a shell's process
 * substitution hands over)?  Sets *fd.
 */
bool pkix_pass_is_fd_path(const char *path, int *fd);

/*
 * pkix_pass_check_new is the one rule for a passphrase that protects
 * something new (CA and KRA keys, a PKCS#12 handed out): at least
 * PKIX_PASS_MIN_NEW characters.  PV_E_INPUT otherwise, with |why|
 * "<what>: 3 characters, at least 8" (|what| names the passphrase, or
 * the option or variable it came from); the passphrase is never shown.
 */
enum pv_err pkix_pass_check_new(const struct pkix_pass *p, const char *what,
    struct pv_why *why);

/* pkix_pass_set copies a NUL-terminated string (PV_E_TOO_LONG / PV_E_INPUT). */
enum pv_err pkix_pass_set(struct pkix_pass *p, const char *s,
    struct pv_why *why);

/* pkix_pass_clear wipes |p|; safe on a zeroed struct. */
void pkix_pass_clear(struct pkix_pass *p);

/* pkix_name_str writes name |n| in RFC 2253 form into |out| (cut to |cap|;
 * "" for NULL). */
void pkix_name_str(const X509_NAME *n, char *out, size_t cap);

#endif /* PV_ISSUANCE_PKIX_UTIL_H */
