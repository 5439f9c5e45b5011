/*
 * piv_pkey.h: PIV public keys and YubiKey key import to and from OpenSSL
 * EVP_PKEY (OpenSSL 3: OSSL_PARAM, EVP_PKEY_fromdata; no deprecated
 * RSA_ and EC_KEY_ functions).
 *
 * Kept apart from piv.c so the card-edge parsers stay free of OpenSSL
 * types; this file is pure crypto plus the IMPORT command's framing.
 */
#ifndef PV_APDU_PIV_PKEY_H
#define PV_APDU_PIV_PKEY_H

#include <stdint.h>

#include <openssl/evp.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "apdu/piv.h"

/*
 * piv_pubkey_to_evp makes a new EVP_PKEY (*out, EVP_PKEY_free it) from
 * |pk|: RSA from modulus/exponent, P-256/P-384 from the point (checked to
 * be on the curve), Ed25519/X25519 from the raw key.  PV_OK; PV_E_INVAL
 * for an algorithm without a public key; PV_E_MALFORMED when OpenSSL
 * refuses the key ("public key: EC point is not on P-256").  *out is NULL
 * on failure.
 */
enum pv_err piv_pubkey_to_evp(const struct piv_pubkey *pk, EVP_PKEY **out,
    struct pv_why *why);

/*
 * piv_pubkey_from_evp fills |out| from the public half of |pkey| and
 * picks the PIV algorithm from its type and size.  PV_E_INVAL for a key
 * PIV cannot hold (RSA other than 1024/2048/3072/4096, other curves).
 */
enum pv_err piv_pubkey_from_evp(const EVP_PKEY *pkey, struct piv_pubkey *out,
    struct pv_why *why);

/*
 * piv_yk_import_evp imports the private key |pkey| into |key| with
 * piv_yk_import_rsa / piv_yk_import_ec, the algorithm taken from the key.
 * Every temporary copy of private material is wiped.
 */
enum pv_err piv_yk_import_evp(struct apdu_session *s, uint8_t key,
    const EVP_PKEY *pkey, uint8_t pin_policy, uint8_t touch_policy,
    struct pv_why *why);

#endif /* PV_APDU_PIV_PKEY_H */
