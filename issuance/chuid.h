/*
 * chuid.h: the CHUID's issuer asymmetric signature (tag 3E), exactly as
 * PIV-REFERENCE §6 (SP 800-73-4 Part 1 §3.1.2.1, FIPS 201-3 App. B):
 *
 *   ContentInfo { signedData, SignedData {
 *     version 3, digestAlgorithms { SHA-256 | SHA-384 },
 *     encapContentInfo { id-PIV-CHUIDSecurityObject, eContent absent },
 *     certificates { the content signer }, no CRLs,
 *     signerInfos { one: issuerAndSerialNumber,
 *       signedAttrs { contentType, signingTime, messageDigest,
 *                     pivSigner-DN = the signer's subject Name },
 *       rsaEncryption (PKCS#1 v1.5) | ecdsa-with-SHA256/384 } } }
 *
 * The signed bytes are the CHUID's elements except EE (buffer length) and
 * 3E itself, FE included.  Building the CHUID TLVs is apdu/piv_obj.h's job;
 * this module signs and checks them.
 */
#ifndef PV_ISSUANCE_CHUID_H
#define PV_ISSUANCE_CHUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/err.h"

/*
 * chuid_sign signs |tbs| (|tbs_len| bytes) with the content signer |cert|
 * and |key| (digest SHA-384 for a P-384 key, else SHA-256).  On success
 * *out (OPENSSL_free) holds the DER ContentInfo: the value of tag 3E.
 */
enum pv_err chuid_sign(X509 *cert, EVP_PKEY *key, const uint8_t *tbs,
    size_t tbs_len, uint8_t **out, size_t *out_len, struct pv_why *why);

/*
 * chuid_verify checks that |sig| is a CHUID signature of the shape above
 * over |tbs|, made by the one certificate it carries, which must have the
 * id-PIV-content-signing EKU.  With |trust| (NULL: skip) that certificate
 * must also chain to it (any purpose) at the current time.  On success and
 * with |signer| non-NULL, *signer is the signing certificate (owned by the
 * caller).  PV_E_MALFORMED for bytes that do not decode; PV_E_VERIFY
 * naming the rule broken otherwise.
 */
enum pv_err chuid_verify(const uint8_t *tbs, size_t tbs_len,
    const uint8_t *sig, size_t sig_len, X509_STORE *trust, X509 **signer,
    struct pv_why *why);

/*
 * chuid_tbs splits a CHUID's contents (the value inside tag 53) into the
 * bytes its signature covers, copied in order as they appear, and a view
 * of the 3E value (|sig| dies with |p|).  On success *tbs is owned by the
 * caller (buf_free_secret(*tbs, *tbs_len)).  PV_E_MALFORMED for a bad
 * TLV, a missing or repeated 3E.
 */
enum pv_err chuid_tbs(const uint8_t *p, size_t n, uint8_t **tbs,
    size_t *tbs_len, struct buf_cur *sig, struct pv_why *why);

/* chuid_verify_object: chuid_tbs then chuid_verify on a whole CHUID. */
enum pv_err chuid_verify_object(const uint8_t *p, size_t n, X509_STORE *trust,
    X509 **signer, struct pv_why *why);

#endif /* PV_ISSUANCE_CHUID_H */
