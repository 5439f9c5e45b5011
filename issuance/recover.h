/*
 * recover.h: getting an escrowed key management key back, at the station.
 *
 * The one way every front end (the command line, the console, the derive
 * workflow) recovers a key: who acts must be allowed to (OP_RECOVER), a
 * reason is required, and every attempt is in the audit log, whether it
 * was refused (not permitted, wrong KRA passphrase, no such person, an
 * envelope that is not for the certificate) or succeeded: a recovery is
 * never returned unless its audit row is written.  The log holds what was
 * asked and why, never a secret.
 */
#ifndef PV_ISSUANCE_RECOVER_H
#define PV_ISSUANCE_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/pkix_util.h"

struct station;
struct store;

#define RECOVER_REASON_MAX	200	/* bytes */

/* What is recovered, and why. */
struct recover_req {
	/* Either a person (e-mail or 10-digit person id): their current
	 * envelope and 9D certificate from the store, */
	const char *person;
	/* or an envelope and its certificate brought by the operator
	 * (|person| NULL); |envelope_name| says where it came from. */
	const uint8_t *envelope;
	size_t envelope_len;
	const char *envelope_name;
	X509 *cert;
	/* Why: required, 1..RECOVER_REASON_MAX bytes of UTF-8 text without
	 * control characters ("subpoena 2026-117", "user lost the card"). */
	const char *reason;
	/* The PKCS#12: its passphrase (pkix_pass_check_new's rule) and the
	 * friendly name (NULL: none). */
	const struct pkix_pass *p12_pass;
	const char *name;
};

/* What the audit row records of a successful recovery. */
struct recover_result {
	int64_t escrow_id;		/* 0 with an envelope brought in */
	int64_t device_id;
	char cert_serial[64];		/* hex */
	int64_t audit_seq;		/* the escrow.recover row */
};

/*
 * recover_reason_check: PV_OK when |reason| is an acceptable reason,
 * else PV_E_INPUT saying what is wrong with it.
 */
enum pv_err recover_reason_check(const char *reason, struct pv_why *why);

/*
 * recover_key_p12 recovers the key |rq| names as a PKCS#12 (*out,
 * OPENSSL_free; escrow_recover_p12 says what it holds).  The station must
 * have a store (the log) and a CA (the KRA); the KRA passphrase comes
 * through the station's passphrase chain.  Every attempt past the
 * reason's check appends one audit row: "escrow.recover" on success,
 * "escrow.recover.refused" with the error's class and message otherwise.
 * Returns PV_OK with *res (NULL allowed) filled, or the error that
 * stopped it: PV_E_INPUT (reason, person), PV_E_POLICY (not permitted),
 * PV_E_AUTH_FAILED (KRA passphrase), PV_E_NO_RECORD, PV_E_VERIFY (the
 * envelope is not for the certificate), PV_E_NOT_SET_UP, ...
 */
enum pv_err recover_key_p12(struct station *st, const struct recover_req *rq,
    uint8_t **out, size_t *out_len, struct recover_result *res,
    struct pv_why *why);

/*
 * An escrowed key copied by a workflow onto the cardholder's own derived
 * credential (derive.h): the workflow has the store, the CA and the KRA
 * key already, and its front end checked the operator may act.
 */
struct recover_copy {
	struct store *st;		/* the log (the actor is the store's) */
	X509 *kra_cert;			/* the envelope's recipient */
	EVP_PKEY *kra_key;
	const uint8_t *envelope;	/* the escrow row's CMS */
	size_t envelope_len;
	X509 *cert;			/* the key's certificate */
	int64_t escrow_id;
	int64_t device_id;		/* the device it was escrowed for */
	const char *reason;		/* recover_reason_check's rule */
	/* more audit detail (a JSON object text, no secret): which derived
	 * credential and target; NULL: none */
	const char *detail_json;
};

/*
 * recover_key_copy opens the envelope of |rc| into *out (EVP_PKEY_free),
 * under the same rule as recover_key_p12: a reason is required, the key
 * must be the certificate's (PV_E_VERIFY), and every attempt past the
 * reason's check appends one audit row in its own transaction (call it
 * outside any): "escrow.recover" (never returned unless written) or
 * "escrow.recover.refused".  |res| (NULL allowed) as recover_key_p12.
 */
enum pv_err recover_key_copy(const struct recover_copy *rc, EVP_PKEY **out,
    struct recover_result *res, struct pv_why *why);

#endif /* PV_ISSUANCE_RECOVER_H */
