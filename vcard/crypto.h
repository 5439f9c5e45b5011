/*
 * crypto.h: the virtual card's cryptography, on OpenSSL 3 EVP APIs.
 *
 * Key generation, the raw RSA private operation (the host pads), ECDSA
 * over a host-computed hash, ECDH, single-block 3DES/AES for the
 * management-key challenge, key import from YubiKey IMPORT components,
 * PKCS#8 for the state file, and the attestation certificates.
 *
 * With PV_FUZZING defined, randomness comes from a seeded deterministic
 * generator (vc_rand_seed) and key generation hands out one cached key
 * per algorithm, so fuzzing is reproducible and fast.
 */
#ifndef PV_VCARD_CRYPTO_H
#define PV_VCARD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "apdu/buf.h"
#include "apdu/err.h"

/* vc_rand fills |n| bytes; false if the generator fails. */
bool vc_rand(void *p, size_t n);

/* vc_rand_seed restarts the deterministic generator (fuzz builds only). */
void vc_rand_seed(uint64_t seed);

/* vc_alg_is_rsa / vc_alg_is_ec: PIV algorithm id classes. */
bool vc_alg_is_rsa(uint8_t alg);
bool vc_alg_is_ec(uint8_t alg);

/* vc_alg_bits is the RSA modulus or EC field size in bits, 0 if unknown. */
unsigned vc_alg_bits(uint8_t alg);

/* vc_alg_of_pkey gives the PIV algorithm id of |pkey|, 0 if none fits. */
uint8_t vc_alg_of_pkey(const EVP_PKEY *pkey);

/*
 * vc_keygen makes a new key pair for PIV algorithm |alg| (RSA with
 * e = 65537, or P-256/P-384).  On success *out is owned by the caller.
 */
enum pv_err vc_keygen(uint8_t alg, EVP_PKEY **out);

/*
 * vc_pubkey_put appends the public key as the inner elements of a 7F49
 * template: 81 modulus, 82 exponent (RSA) or 86 04||X||Y (EC).
 */
bool vc_pubkey_put(const EVP_PKEY *pkey, struct buf_out *out);

/*
 * vc_rsa_private computes in^d mod n with no padding.  |in_len| must be
 * the modulus length; |out| receives as many bytes.  PV_E_BAD_DATA when
 * the input is not smaller than the modulus or has the wrong length.
 */
enum pv_err vc_rsa_private(EVP_PKEY *pkey, const uint8_t *in, size_t in_len,
    struct buf_out *out);

/*
 * vc_ecdsa_sign signs the hash |h| (at most 64 bytes; shorter than the
 * field means left-padded with zeros, longer is truncated as ECDSA does)
 * and appends the DER Ecdsa-Sig-Value.
 */
enum pv_err vc_ecdsa_sign(EVP_PKEY *pkey, const uint8_t *h, size_t h_len,
    struct buf_out *out);

/*
 * vc_ecdh derives the shared secret (the x coordinate) with the peer
 * point |pt| (04||X||Y on the key's curve) and appends it.
 * PV_E_BAD_DATA for a point that is not on the curve.
 */
enum pv_err vc_ecdh(EVP_PKEY *pkey, const uint8_t *pt, size_t pt_len,
    struct buf_out *out);

/* vc_sym_block_len is 8 for 3DES, 16 for AES, 0 for an unknown id. */
size_t vc_sym_block_len(uint8_t alg);

/* vc_sym_key_len is 24 for 3DES and AES-192, 16/32 for AES-128/256. */
size_t vc_sym_key_len(uint8_t alg);


/*
 * vc_sym_crypt encrypts (|enc|) or decrypts one block of vc_sym_block_len
 * bytes in ECB mode with the management key.
 */
enum pv_err vc_sym_crypt(uint8_t alg, const uint8_t *key, bool enc,
    const uint8_t *in, uint8_t *out);

/*
 * vc_import_rsa builds an RSA key from the CRT components of YubiKey
 * IMPORT (p, q, dP, dQ, qInv; e = 65537).  PV_E_BAD_DATA when they do not
 * make a consistent key of a supported size.
 */
enum pv_err vc_import_rsa(const uint8_t *p, size_t p_len, const uint8_t *q,
    size_t q_len, const uint8_t *dp, size_t dp_len, const uint8_t *dq,
    size_t dq_len, const uint8_t *qinv, size_t qinv_len, EVP_PKEY **out);

/* vc_import_ec builds a P-256/P-384 key from its private scalar. */
enum pv_err vc_import_ec(uint8_t alg, const uint8_t *d, size_t d_len,
    EVP_PKEY **out);

/* vc_pkcs8_put appends |pkey| as PKCS#8 PrivateKeyInfo DER. */
bool vc_pkcs8_put(const EVP_PKEY *pkey, struct buf_out *out);

/* vc_pkcs8_get parses PKCS#8 DER into a new key. */
enum pv_err vc_pkcs8_get(const uint8_t *p, size_t len, EVP_PKEY **out);

/*
 * vc_attest_ca makes the card's attestation key (P-256) and its
 * certificate (DER, appended to |cert|), a CA certificate signed by the
 * vcard attestation root.
 */
enum pv_err vc_attest_ca(uint32_t serial, EVP_PKEY **key,
    struct buf_out *cert);

/* vc_attest_root_pem: the vcard attestation root certificate, PEM;
 * static storage. */
const char *vc_attest_root_pem(void);

/*
 * vc_attest_cert issues the attestation certificate for the key in
 * |slot|, signed by |ca_key| whose certificate is |ca_der|.  Extensions
 * as a YubiKey writes them (Yubico OIDs 1.3.6.1.4.1.41482.3.3/.7/.8/.9):
 * firmware |version|, |serial|, PIN/touch policy, form factor.
 */
enum pv_err vc_attest_cert(EVP_PKEY *ca_key, const uint8_t *ca_der,
    size_t ca_len, EVP_PKEY *subject_key, uint8_t slot,
    const uint8_t version[3], uint32_t serial, uint8_t pin_policy,
    uint8_t touch_policy, struct buf_out *out);

#endif /* PV_VCARD_CRYPTO_H */
