/*
 * ocsp_responder.h: the station CA's OCSP responder (RFC 6960), answering
 * from the store.
 *
 * One request (DER OCSPRequest, from a POST body or a GET path) gives one
 * DER OCSPResponse:
 *   - a request that does not decode, holds no single request, more than
 *     OCSP_RESP_MAX_IDS of them, or a nonce longer than 128 bytes (RFC
 *     8954 §2.1): malformedRequest;
 *   - a CertID not naming the issuing CA (by the SHA-1, SHA-256, SHA-384
 *     or SHA-512 hashes of its name and key): unauthorized (§2.3: not
 *     authoritative), for the whole request;
 *   - otherwise a BasicOCSPResponse signed by the responder (the delegated
 *     OCSP signer, or the issuing CA itself) with one SingleResponse per
 *     CertID: good, revoked (time; reason unless none was recorded;
 *     on-hold is revoked with certificateHold, §2.2) or unknown (a serial
 *     the store does not know);
 *     thisUpdate = |now|, nextUpdate = |now| + validity; the responder ID
 *     by key hash (RFC 5019 §2.2.3); the signer's certificate included;
 *     a nonce of 1-32 bytes echoed (RFC 8954), a longer one left out.
 * The request's own signature, if any, is not required and not checked.
 *
 * The status comes from a callback, so the responder can be tested and
 * fuzzed without a store; ocsp_lookup_store is the store's.
 *
 * Threads: a struct ocsp_responder is read-only once made and may be
 * shared; ocsp_respond keeps no state between calls.
 */
#ifndef PV_ISSUANCE_OCSP_RESPONDER_H
#define PV_ISSUANCE_OCSP_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"

struct store;

#define OCSP_RESP_MAX_IDS	32	/* single requests in one request */
#define OCSP_RESP_MAX_REQUEST	(16 * 1024)	/* bytes of a request */

enum ocsp_cert_state {
	OCSP_CERT_GOOD,
	OCSP_CERT_REVOKED,
	OCSP_CERT_UNKNOWN
};

struct ocsp_cert_status {
	enum ocsp_cert_state state;
	int64_t revoked_at;		/* OCSP_CERT_REVOKED */
	int reason;			/* CRLReason, -1: none */
};

/*
 * ocsp_lookup_fn gives the status of the certificate with serial
 * |serial_hex| (lowercase hex of the INTEGER's content bytes, as
 * pkix_serial_hex writes it).  An unknown serial is PV_OK with
 * OCSP_CERT_UNKNOWN; an error (the store failing) makes the whole answer
 * tryLater.
 */
typedef enum pv_err ocsp_lookup_fn(void *ctx, const char *serial_hex,
    struct ocsp_cert_status *out, struct pv_why *why);

/* ocsp_lookup_store: ocsp_lookup_fn over a store connection (|ctx|). */
enum pv_err ocsp_lookup_store(void *ctx, const char *serial_hex,
    struct ocsp_cert_status *out, struct pv_why *why);

struct ocsp_responder;	/* opaque */

/*
 * ocsp_responder_new makes a responder for certificates issued by
 * |issuer|, signing with |signer_key| and |signer| (the delegated
 * responder: issued by |issuer| with id-kp-OCSPSigning; or |issuer|
 * itself).  References are taken on the three; responses are valid for
 * |validity_s| seconds (> 0).  PV_E_INPUT when |signer| is neither
 * |issuer| nor a certificate it issued for OCSP signing, or the key does
 * not match.  Free with ocsp_responder_free.
 */
enum pv_err ocsp_responder_new(X509 *issuer, X509 *signer,
    EVP_PKEY *signer_key, unsigned validity_s, struct ocsp_responder **out,
    struct pv_why *why);

/* ocsp_responder_free: NULL allowed. */
void ocsp_responder_free(struct ocsp_responder *r);

/* ocsp_responder_signer: the certificate responses are signed with. */
X509 *ocsp_responder_signer(const struct ocsp_responder *r);

/* What one answer said, for the log (no secret in a request). */
struct ocsp_outcome {
	int response_status;	/* OCSP_RESPONSE_STATUS_* */
	unsigned n_good, n_revoked, n_unknown;
	bool nonce;		/* a nonce was echoed */
};

/*
 * ocsp_respond answers the DER request |req| (|len| bytes) at |now|,
 * looking statuses up with |lookup| (|ctx|).  Always PV_OK with a DER
 * OCSPResponse in *out (OPENSSL_free) unless the response itself cannot
 * be made (PV_E_CRYPTO, PV_E_NOMEM): a bad request gets an OCSP error
 * status, not an error here.  |outcome| (may be NULL) says what was
 * answered.
 */
enum pv_err ocsp_respond(const struct ocsp_responder *r, const uint8_t *req,
    size_t len, time_t now, ocsp_lookup_fn *lookup, void *ctx,
    uint8_t **out, size_t *out_len, struct ocsp_outcome *outcome,
    struct pv_why *why);

/*
 * ocsp_get_decode reads the request of an HTTP GET (RFC 6960 App. A.1:
 * the DER request, base64, URL-encoded, as the path after the responder's
 * URL): percent escapes are undone, blanks and line ends skipped, '-' '_'
 * taken as '+' '/'.  *out (free()) holds at most OCSP_RESP_MAX_REQUEST
 * bytes.  PV_E_INPUT for anything that is not base64; PV_E_TOO_LONG.
 */
enum pv_err ocsp_get_decode(const char *path, uint8_t **out, size_t *out_len,
    struct pv_why *why);

#endif /* PV_ISSUANCE_OCSP_RESPONDER_H */
