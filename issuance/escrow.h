/*
 * escrow.h: key escrow to the key recovery agent (KRA).
 *
 * The encryption (9D) key pair is made on the host and its private key,
 * as PKCS#8 DER, is sealed in a CMS EnvelopedData to the KRA certificate
 * before the key goes anywhere near a card; the PUK is sealed the same way.
 * Recipient info: RSA KRA = ktri with RSAES-OAEP (SHA-256, MGF1-SHA-256);
 * EC KRA = kari, ECDH dhSinglePass-stdDH with the X9.63 KDF over SHA-256
 * and AES key wrap.  Content encryption AES-256-CBC.  `openssl cms -decrypt
 * -inform DER -recip kra.crt -inkey kra.key` opens either.
 *
 * Recovery decrypts with the KRA key and writes a PKCS#12 holding the
 * certificate and key (PBES2 AES-256-CBC, MAC HMAC-SHA-256).
 */
#ifndef PV_ISSUANCE_ESCROW_H
#define PV_ISSUANCE_ESCROW_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/pkix_util.h"

#define ESCROW_PUK_LEN 8

/*
 * escrow_keygen makes the 9D key pair on the host (P-256, P-384, RSA 2048
 * or 3072 with e = 65537).  *out is owned by the caller.
 */
enum pv_err escrow_keygen(enum pkix_alg alg, EVP_PKEY **out,
    struct pv_why *why);

/*
 * escrow_seal wraps |secret| (|len| bytes) in a DER CMS EnvelopedData for
 * |kra| (RSA or EC certificate).  *out (OPENSSL_free) on success.
 */
enum pv_err escrow_seal(const uint8_t *secret, size_t len, X509 *kra,
    uint8_t **out, size_t *out_len, struct pv_why *why);

/* escrow_seal_key seals |key|'s private key as PKCS#8 DER. */
enum pv_err escrow_seal_key(EVP_PKEY *key, X509 *kra, uint8_t **out,
    size_t *out_len, struct pv_why *why);

/*
 * escrow_random_puk writes ESCROW_PUK_LEN random decimal digits and a NUL
 * (uniform: rejection sampling over random bytes), never a weak PIN
 * (config_pin_weakness with every rule: those are drawn again).
 */
enum pv_err escrow_random_puk(char out[ESCROW_PUK_LEN + 1],
    struct pv_why *why);

/* escrow_seal_puk seals the 8-digit PUK. */
enum pv_err escrow_seal_puk(const char *puk, X509 *kra, uint8_t **out,
    size_t *out_len, struct pv_why *why);

/*
 * escrow_open decrypts envelope |env| with the KRA |cert| and |key|.
 * *out (secret: OPENSSL_clear_free(*out, *out_len)) on success.
 * PV_E_MALFORMED for bytes that are not an EnvelopedData; PV_E_VERIFY when
 * it is not for this KRA or does not decrypt.
 */
enum pv_err escrow_open(const uint8_t *env, size_t env_len, X509 *cert,
    EVP_PKEY *key, uint8_t **out, size_t *out_len, struct pv_why *why);

/* escrow_open_key: escrow_open, then the PKCS#8 inside as a key. */
enum pv_err escrow_open_key(const uint8_t *env, size_t env_len, X509 *cert,
    EVP_PKEY *key, EVP_PKEY **out, struct pv_why *why);

/*
 * escrow_recover_p12 opens |env| with the KRA and packs the key with
 * |cert| (its public key must match: PV_E_VERIFY otherwise) as a PKCS#12
 * protected by |p12_pass| (key and certificate bags PBES2 AES-256-CBC with
 * PBKDF2-HMAC-SHA-256, MAC HMAC-SHA-256; |name| is the friendly name, NULL
 * allowed).  *out (OPENSSL_free) holds the DER on success.  A passphrase
 * shorter than pkix_pass_check_new allows is PV_E_INPUT before anything
 * is decrypted.
 */
enum pv_err escrow_recover_p12(const uint8_t *env, size_t env_len,
    X509 *kra_cert, EVP_PKEY *kra_key, X509 *cert,
    const struct pkix_pass *p12_pass, const char *name, uint8_t **out,
    size_t *out_len, struct pv_why *why);

struct store;	/* issuance/store.h */

/* Where a person's recovered key came from. */
struct escrow_src {
	int64_t escrow_id;
	int64_t device_id;
	char cert_serial[64];		/* the 9d certificate's, hex */
};

/*
 * escrow_recover_person recovers the current escrowed key management key
 * of |person| (an e-mail address, or the 10-digit person id) from the
 * store |st|: its newest current 9d envelope on a device that is not
 * terminated, with the live 9d certificate of the same device, packed as
 * escrow_recover_p12 does.  *out (OPENSSL_free) on success; *src (NULL
 * allowed) says which envelope and certificate.  PV_E_INPUT for an unknown
 * person, PV_E_NO_RECORD naming what is missing (envelope, certificate).
 * Not audited: this is a building block of recover_key_p12 (recover.h),
 * the one audited way to recover a key.
 */
enum pv_err escrow_recover_person(struct store *st, const char *person,
    X509 *kra_cert, EVP_PKEY *kra_key, const struct pkix_pass *p12_pass,
    const char *name, uint8_t **out, size_t *out_len,
    struct escrow_src *src, struct pv_why *why);

#endif /* PV_ISSUANCE_ESCROW_H */
