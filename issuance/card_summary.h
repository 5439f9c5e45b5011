/*
 * card_summary.h: what an officer needs to know of the card in a reader
 * at a glance (the console's readers panel, batch's "next card"): blank,
 * issued by this station (to whom), being issued, suspended, personalised
 * elsewhere, not a PIV card; its PIN blocked or not; the token's type.
 * Read with a few APDUs (card_inspect without the certificates) and
 * looked up in the store; nothing is written.
 */
#ifndef PV_ISSUANCE_CARD_SUMMARY_H
#define PV_ISSUANCE_CARD_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/card.h"

struct store;

enum card_class {
	CARD_CLASS_UNREAD,	/* not read (yet) */
	CARD_CLASS_NOT_PIV,	/* no PIV application */
	CARD_CLASS_BLANK,	/* factory state: can be issued */
	CARD_CLASS_ISSUING,	/* a device this station is issuing */
	CARD_CLASS_ISSUED,	/* an active device of this station */
	CARD_CLASS_SUSPENDED,	/* a suspended device of this station */
	CARD_CLASS_FOREIGN,	/* personalised, unknown to this station's
				 * store (another issuer, or terminated here) */
	CARD_CLASS_ERROR	/* could not be read: see why */
};

#define CARD_SUMMARY_TEXT_MAX	256
#define CARD_SUMMARY_NAME_MAX	128

struct card_summary {
	enum card_class cls;
	bool yk;			/* YubiKey-compatible token */
	bool has_serial;
	uint32_t serial;
	bool pin_blocked;
	bool puk_blocked;
	int pin_left;			/* -1: the card does not say */
	bool has_guid;			/* its CHUID's card UUID */
	uint8_t guid[16];
	bool pad;			/* the reader has a PIN pad that can
					 * verify and change a PIN */
	int64_t device_id;		/* store ids; 0 when not known */
	int64_t person_id;
	char person[CARD_SUMMARY_NAME_MAX];	/* printed name, "" if none */
	char person_ext[16];		/* the person's 10-digit person_id */
	char desc[CARD_SUMMARY_TEXT_MAX];	/* card_describe */
	char why[CARD_SUMMARY_TEXT_MAX];	/* for CARD_CLASS_ERROR */
};

/*
 * card_summarize reads the card behind |c| and looks it up in |st| (NULL:
 * no store: a personalised card is then FOREIGN).  Returns PV_OK with
 * |out| filled; an error that ends card work (the card went away) with
 * |why|, |out| then saying CARD_CLASS_ERROR.
 */
enum pv_err card_summarize(struct card *c, struct store *st,
    struct card_summary *out, struct pv_why *why);

/* card_class_name: "blank", "issued", "issuing", "suspended",
 * "personalised", "not PIV", "unreadable", "reading". */
const char *card_class_name(enum card_class cls);

#endif /* PV_ISSUANCE_CARD_SUMMARY_H */
