/*
 * card_admin.h: the card's management key (9B): which one it has now,
 * authenticating with it (again after a reset), and replacing the
 * factory key by this station's per-card key.
 *
 * The per-card key is derived from the station master secret over the
 * token serial, or the card GUID on a card without one (mgmtkey.h), so no
 * per-card secret is stored.  Which key a card has is never guessed where
 * the token can say (GET METADATA); elsewhere the caller's record decides
 * which goes first, and only a token that can change its key may hold the
 * other one (changed, then the process died before recording it).
 */
#ifndef PV_ISSUANCE_CARD_ADMIN_H
#define PV_ISSUANCE_CARD_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "issuance/card.h"
#include "issuance/mgmtkey.h"
#include "issuance/secret.h"
#include "issuance/yk_protected.h"

/* The 9B key state of one card, for one run; wipe with card_admin_clear. */
struct card_admin {
	struct card *card;
	const struct secret_master *master;
	uint8_t id[16];			/* what the key is derived over */
	size_t id_len;
	bool can_set;			/* YubiKey SET MANAGEMENT KEY */
	enum mgmtkey_alg derived_alg;	/* of a new per-card key */
	struct mgmtkey cur;		/* the key the card has (believed) */
	bool cur_default;
	bool cur_stored;		/* cur is the key ykman keeps for the
					 * PIN (yk_protected.h) */
	struct ykp_token ykp;		/* where ykman keeps it */
	struct mgmtkey alt;		/* the other one it may have */
	bool have_alt;
	bool alt_default;
	bool ok;			/* authenticated ... */
	unsigned epoch;			/* ... in this security epoch */
};

/* What the caller's record says of an earlier change (a job's step). */
struct card_admin_record {
	bool changed;			/* the card was given the derived key */
	int alg;			/* its algorithm; 0 when not recorded */
};

/*
 * card_admin_setup works out which key |f|'s card has now: the metadata's
 * word where the token has metadata, else |rec| (NULL: nothing recorded).
 * The derived key is over the token serial, else |guid| (the card's GUID,
 * NULL when the card has a serial).  |c| and |m| are borrowed for the life
 * of |adm|.  PV_E_NOT_SUPPORTED for a default key of an algorithm with no
 * known factory value.
 */
enum pv_err card_admin_setup(struct card_admin *adm, struct card *c,
    const struct secret_master *m, const struct card_facts *f,
    const uint8_t *guid, const struct card_admin_record *rec,
    struct pv_why *why);

/*
 * card_admin_use_stored: the card's key is |k|, the one ykman keeps for
 * the PIN as |t| describes (unlocked by the caller): it is the current
 * key, and card_admin_set_derived replaces it and removes ykman's copy.
 */
void card_admin_use_stored(struct card_admin *adm, const struct mgmtkey *k,
    const struct ykp_token *t);

/*
 * card_admin_auth (inside a command group) authenticates with the current
 * key, or the other one if refused; again only when the security status
 * was lost since.  PV_E_AUTH_FAILED with a sentence when neither works.
 */
enum pv_err card_admin_auth(struct card_admin *adm, struct apdu_session *a,
    struct pv_why *why);

/*
 * card_admin_set_derived (inside a group) replaces a factory key, or one
 * ykman keeps for the PIN, by the derived one where the token can (SET
 * MANAGEMENT KEY), and then removes ykman's copy and flag so ykman stops
 * looking there; *changed says whether the card's key is now the derived
 * one.
 */
enum pv_err card_admin_set_derived(struct card_admin *adm,
    struct apdu_session *a, bool *changed, struct pv_why *why);

/* card_admin_clear wipes the keys; safe on a zeroed struct. */
void card_admin_clear(struct card_admin *adm);

#endif /* PV_ISSUANCE_CARD_ADMIN_H */
