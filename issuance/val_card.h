/*
 * val_card.h: validating a PIV card from any issuer as a relying party
 * (FIPS 201-3 §6.2.3.1 PKI-AUTH; DERIVED-REFERENCE §4): what the card
 * holds must bind together, the PIV Authentication certificate must be
 * valid, and the person must prove they hold its key.
 *
 * Checks, in the order of the report (ids are stable):
 *   chuid.read        CHUID present and well formed
 *   chuid.signature   its CMS signature verifies, signer has
 *                     id-PIV-content-signing (issuance/chuid.h)
 *   chuid.signer      the content signer chains to a trust anchor with an
 *                     acceptable policy and was valid at the signing time;
 *                     not revoked
 *   chuid.expiry      the CHUID's expiration date is not past
 *   cert.read         the 9A certificate is on the card and decodes
 *   cert.path, cert.policy, cert.revocation[.caN]   (val.h)
 *   cert.expiry       the certificate does not expire within the margin
 *                     and not after the CHUID
 *   binding.fascn     the FASC-N in the certificate's SAN is the CHUID's
 *   binding.uuid      the UUID in the certificate's SAN is the CHUID GUID
 *   secobj            the Security Object (when present) is signed by the
 *                     CHUID signer and its hashes match the objects read
 *   pop.pin           VERIFY of the PIN (tries left when wrong)
 *   pop.9a            GENERAL AUTHENTICATE: the 9A key signs a random
 *                     challenge the certificate's public key verifies
 *   pop.9e            the same with the card authentication key, no PIN
 *                     (when asked)
 *
 * The pieces are separate so that the console and derive can run them
 * step by step: val_card_read (APDUs), val_card_check (host only: bytes
 * in, checks out), val_card_pop (APDUs), and val_card_validate, which
 * runs the three on a pcsc session with the card steps in transactions.
 */
#ifndef PV_ISSUANCE_VAL_CARD_H
#define PV_ISSUANCE_VAL_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "issuance/val.h"
#include "issuance/val_report.h"

struct card;
struct val_station;

/* One object read from the card. */
struct val_obj {
	enum pv_err err;	/* PV_OK; PV_E_NOT_FOUND: not on the card */
	char why[128];		/* what went wrong reading it */
	uint8_t *p;		/* contents (the value inside 53; for a
				 * certificate, the DER certificate) */
	size_t n;
};

struct val_card_objects {
	struct val_obj chuid;
	struct val_obj cert_9a;
	struct val_obj secobj;
	struct val_obj cert_9e;	/* read only when asked */
};

/*
 * val_card_read reads the CHUID, the 9A certificate (inflated when the
 * container says it is compressed) and the Security Object, and with
 * |with_9e| the 9E certificate: one GET DATA each.  An object the card
 * does not have, or that does not decode, is recorded in |o|, not
 * returned as an error; errors are what ends the session (card gone,
 * transport).  Free |o| with val_card_objects_free.
 */
enum pv_err val_card_read(struct apdu_session *s, bool with_9e,
    struct val_card_objects *o, struct pv_why *why);
void val_card_objects_free(struct val_card_objects *o);

struct val_card_params {
	const struct val_params *auth;	/* for the 9A certificate */
	const struct val_params *signer; /* for the content signer */
	unsigned expiry_margin_days;
};

/*
 * val_card_check runs the host checks (chuid.*, cert.*, binding.*,
 * secobj) on |o| as of p->auth->at and appends them to |rep|.  PV_OK
 * when they ran, whatever they found.
 */
enum pv_err val_card_check(struct val_ctx *ctx,
    const struct val_card_objects *o, const struct val_card_params *p,
    struct val_report *rep, struct pv_why *why);

/*
 * How the PIN is verified: |fn| performs it (VERIFY with a PIN, or on the
 * reader's PIN pad) and returns PV_OK, PV_E_PIN_WRONG with *retries set,
 * PV_E_BLOCKED, or what ended the session.
 */
typedef enum pv_err val_pin_fn(void *arg, struct apdu_session *s,
    int *retries, struct pv_why *why);

struct val_pop_params {
	val_pin_fn *pin;	/* NULL: no PIN, no pop.pin, no pop.9a */
	void *pin_arg;
	bool card_auth;		/* pop.9e */
};

/*
 * val_card_pop verifies the PIN and has the 9A key (and with card_auth
 * the 9E key) sign a fresh random challenge, checked with the
 * certificate's public key (RSA PKCS#1 v1.5 or ECDSA, SHA-256, SHA-384
 * for P-384).  Appends pop.* to |rep|.  Returns what ended the session;
 * a refused PIN or a wrong signature are checks, not errors.
 */
enum pv_err val_card_pop(struct apdu_session *s,
    const struct val_card_objects *o, const struct val_pop_params *pp,
    struct val_report *rep, struct pv_why *why);

/* What val_card_validate is asked to do. */
struct val_card_opts {
	time_t at;		/* validation time */
	bool pop;		/* prove possession (needs a PIN source) */
	const uint8_t *pin;	/* the PIN (|pin_pad| false) */
	size_t pin_len;
	bool pin_pad;		/* typed on the reader's PIN pad */
	bool card_auth;		/* also the 9E key */
	/* NULL, or where val_card_validate leaves the objects it read (the
	 * caller frees them with val_card_objects_free): derive builds on
	 * the very bytes that were checked */
	struct val_card_objects *objects;
};

/*
 * val_card_validate: read (one transaction), check on the host, prove
 * possession (one transaction: VERIFY then GENERAL AUTHENTICATE), with
 * |vs|'s settings.  The APDUs are exactly SELECT (when the session was
 * opened), GET DATA CHUID, 9A certificate, Security Object, VERIFY,
 * GENERAL AUTHENTICATE (plus GET DATA 9E certificate and a second
 * GENERAL AUTHENTICATE with card_auth).  PV_OK when the checks ran.
 */
enum pv_err val_card_validate(struct val_station *vs, struct card *card,
    const struct val_card_opts *o, struct val_report *rep,
    struct pv_why *why);

#endif /* PV_ISSUANCE_VAL_CARD_H */
