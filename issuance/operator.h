/*
 * operator.h: who may do what at the station.
 *
 * Operators are registered in the store (store.h: name, role, disabled,
 * the person and PIV card they are) by an administrator with `pivstation
 * operator add`.  A front end names the operator acting (the console after
 * a card sign-in, the CLI from $PIVSTATION_OPERATOR); the station refuses
 * a name that is not registered or is disabled, records it as the actor of
 * every audit row, and asks op_permitted before each action.  With no
 * operator named, the account running pivstation acts ("uid 1000 (ann)")
 * and may do everything: whoever runs it holds the station's files anyway.
 *
 * Signing in (the console): operator_signin reads the card's CHUID, PIV Authentication (9A)
 * certificate and Security Object, validates them as a relying party
 * (val_card.h: CHUID signature and signer, 9A path to the station's trust
 * anchors (its own root unless [trust] says otherwise), policy,
 * revocation, expiry, FASC-N and UUID binding), looks the card up among
 * the registered operators (by the card UUID of its 9A certificate:
 * store_operator_find_card), and only then asks for proof of possession:
 * VERIFY of the PIN (typed on the keyboard, or on the reader's PIN pad)
 * and a fresh challenge signed by the 9A key.  A card that is not an
 * operator's spends no PIN try.
 *
 * Every attempt is audited: "operator.signin" with the operator as the
 * actor, or "operator.signin-refused" with the station's actor and the
 * reason.  The front end then works as that operator (station.h
 * station_set_operator, station_store_open_as) until it signs out or
 * locks.
 */
#ifndef PV_ISSUANCE_OPERATOR_H
#define PV_ISSUANCE_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/audit.h"
#include "issuance/store.h"
#include "issuance/val_report.h"

enum op_action {
	OP_ISSUE,		/* issue a primary credential */
	OP_DERIVE,		/* derive a mobile credential */
	OP_LIFECYCLE,		/* cancel a job, suspend, resume, terminate */
	OP_UNBLOCK,		/* unblock a PIN with the escrowed PUK */
	OP_RECOVER,		/* recover an escrowed key */
	OP_CA,			/* create the CA, sign, publish the CRL */
	OP_OPERATORS,		/* add, change or disable operators */
	OP_AUDIT		/* read and verify the log, add a note */
};

/* op_permitted: may role |r| do |a|? */
bool op_permitted(enum store_role r, enum op_action a);

/* op_action_name: "issue a credential", ...; never NULL. */
const char *op_action_name(enum op_action a);

/* op_roles_for: the roles that may do |a|, for messages ("enroller or
 * administrator"). */
const char *op_roles_for(enum op_action a);

/* ---- signing in with the operator's own PIV card ---------------------------- */

#define OPERATOR_SUBJECT_MAX	256

struct card;
struct station;
struct val_station;

/* Who is signed in. */
struct operator_session {
	char name[AUDIT_ACTOR_MAX];
	enum store_role role;
	uint8_t card_uuid[16];
	char subject[OPERATOR_SUBJECT_MAX];	/* the 9A subject */
	char reader[128];		/* where the card was */
};

struct operator_signin_params {
	const struct station *stn;
	struct val_station *vs;		/* NULL: opened for this call from the
					 * station's configuration */
	const uint8_t *pin;		/* the operator's PIN (borrowed) */
	size_t pin_len;
	bool pin_pad;			/* instead: typed on the reader's pad */
	const char *purpose;		/* for the audit row: "console",
					 * "second operator for escrow
					 * recovery"; NULL: "console" */
};

/*
 * operator_signin signs in the holder of the card behind |card|.
 * Returns PV_OK with |out| filled and |rep| (NULL allowed) holding every
 * check; or:
 *   PV_E_VERIFY   the card does not validate (|why| names the first
 *                 failed check and its reason);
 *   PV_E_POLICY   a valid card that is no registered operator's, or a
 *                 disabled operator's;
 *   PV_E_PIN_WRONG / PV_E_BLOCKED   the PIN ("wrong PIN (2 tries left)");
 *   PV_E_TIMEOUT / PV_E_CANCELLED   nobody typed on the pad / Cancel;
 *   the card's errors when it went away; PV_E_DB, ...
 */
enum pv_err operator_signin(const struct operator_signin_params *p,
    struct card *card, struct operator_session *out, struct val_report *rep,
    struct pv_why *why);

/*
 * operator_card_identify reads and validates the card behind |card| as
 * operator_signin does (no PIN: for registering the card of an operator)
 * and gives the card UUID of its 9A certificate and its subject (|cap|
 * bytes).  PV_OK; PV_E_VERIFY naming the first failed check (|rep|, NULL
 * allowed, holds them all); the card's errors.
 */
enum pv_err operator_card_identify(const struct station *stn,
    struct val_station *vs, struct card *card, uint8_t uuid[16],
    char *subject, size_t cap, struct val_report *rep, struct pv_why *why);

/* operator_permits: may the operator signed in as |s| do |a| (NULL or
 * nobody signed in: no)? */
bool operator_permits(const struct operator_session *s, enum op_action a);

/* operator_clear forgets a session. */
void operator_clear(struct operator_session *s);

#endif /* PV_ISSUANCE_OPERATOR_H */
