/*
 * secobj.h: the PIV Security Object (container 9000, tag 5FC106;
 * SP 800-73-4 Part 1 §3.1.7, PIV-REFERENCE §4.6):
 *
 *   BA  mapping: 3 bytes per signed container, data group number then
 *       container ID (big-endian)
 *   BB  CMS SignedData, eContent included, eContentType ldsSecurityObject,
 *       signer certificate omitted (it is in the CHUID), signed by the
 *       content signer:
 *         LDSSecurityObject ::= SEQUENCE { version INTEGER (0),
 *           hashAlgorithm AlgorithmIdentifier,
 *           dataGroupHashValues SEQUENCE OF SEQUENCE {
 *             dataGroupNumber INTEGER, dataGroupHashValue OCTET STRING } }
 *   FE  error detection code, empty
 *
 * Each hash covers the full contents of a container: the value inside its
 * 53 tag as written to the card.
 */
#ifndef PV_ISSUANCE_SECOBJ_H
#define PV_ISSUANCE_SECOBJ_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"

/* Container IDs (PIV-REFERENCE §4.1) of the objects usually covered. */
#define SECOBJ_CID_CHUID		0x3000
#define SECOBJ_CID_FINGERPRINTS		0x6010
#define SECOBJ_CID_PRINTED_INFO		0x3001
#define SECOBJ_CID_FACIAL_IMAGE		0x6030
#define SECOBJ_CID_IRIS			0x1015

#define SECOBJ_MAX_ENTRIES	10	/* BA holds at most 30 bytes */

/* One signed container: its data group number, ID and contents. */
struct secobj_entry {
	uint8_t dg;		/* 1..127, unique */
	uint16_t container_id;
	const uint8_t *data;	/* the value inside the container's 53 */
	size_t len;
};

/*
 * secobj_default_dg gives this station's data group number for a
 * container: CHUID 1, fingerprints 2, printed information 3, facial image
 * 4, iris 5; 0 for any other.
 */
uint8_t secobj_default_dg(uint16_t container_id);

/*
 * secobj_build makes the Security Object's contents (BA, BB, FE: the
 * value that goes inside 53) for |e|[0..n) (1..SECOBJ_MAX_ENTRIES entries,
 * distinct DG numbers and container IDs), signed with the content signer
 * |cert|/|key|; hashes SHA-384 for a P-384 signer, else SHA-256.  *out
 * (OPENSSL_free) on success.
 */
enum pv_err secobj_build(X509 *cert, EVP_PKEY *key,
    const struct secobj_entry *e, size_t n, uint8_t **out, size_t *out_len,
    struct pv_why *why);

/*
 * secobj_build_with_cert is secobj_build with the signer's certificate in
 * the SignedData: the Derived PIV Application has no CHUID to carry it,
 * and its Security Object's BB "SHALL include the derived PIV credential
 * issuer's certificate" (SP 800-157r1 App. B).
 */
enum pv_err secobj_build_with_cert(X509 *cert, EVP_PKEY *key,
    const struct secobj_entry *e, size_t n, uint8_t **out, size_t *out_len,
    struct pv_why *why);

/*
 * secobj_verify checks the Security Object contents |p|,|n| read from a
 * card: the mapping, the CMS signature by |signer| (the CHUID's signer),
 * and, for every container in |have|[0..n_have) (the caller fills dg = 0;
 * only container_id, data and len are read), that the mapping lists it
 * and its hash matches.  *n_checked (NULL allowed) counts the hashes
 * compared.  PV_E_MALFORMED for bytes that do not decode, PV_E_VERIFY
 * naming the container or rule that failed.
 */
enum pv_err secobj_verify(const uint8_t *p, size_t n, X509 *signer,
    const struct secobj_entry *have, size_t n_have, size_t *n_checked,
    struct pv_why *why);

/*
 * secobj_check_lds is secobj_verify's last step, on its own for tests and
 * the fuzz target: the DER LDSSecurityObject |p|,|n| (the verified
 * eContent), the BA mapping |map|[0..n_map) (dg and container_id), and
 * the containers |have| as for secobj_verify.
 */
enum pv_err secobj_check_lds(const uint8_t *p, size_t n,
    const struct secobj_entry *map, size_t n_map,
    const struct secobj_entry *have, size_t n_have, size_t *n_checked,
    struct pv_why *why);

#endif /* PV_ISSUANCE_SECOBJ_H */
