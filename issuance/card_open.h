/*
 * card_open.h: a card handle (card.h) for a reader, for front ends that
 * must not reach pcsc/ themselves (the console, batch): the PC/SC
 * session behind it is opened, kept and closed here.
 */
#ifndef PV_ISSUANCE_CARD_OPEN_H
#define PV_ISSUANCE_CARD_OPEN_H

#include <stdbool.h>

#include "apdu/err.h"
#include "issuance/card.h"

struct card_conn;	/* opaque */

struct card_conn_opts {
	const char *trace_path;	/* APDU trace (secrets redacted); NULL: none */
	bool trace_json;
};

/*
 * card_conn_open connects to the card in |reader| (a reader's whole name,
 * an index, or what pcsc_reader_pick takes), shared, with the PIV
 * application selected when it has one.  Returns PV_OK with a new
 * connection (card_conn_close), or PV_E_NO_CARD, PV_E_NO_READER,
 * PV_E_NO_SERVICE, ... with |why| naming the reader.  |o| may be NULL.
 */
enum pv_err card_conn_open(const char *reader, const struct card_conn_opts *o,
    struct card_conn **out, struct pv_why *why);

/* card_conn_card: the handle (borrowed, valid until card_conn_close). */
struct card *card_conn_card(struct card_conn *c);

/* card_conn_apdus: APDUs exchanged so far (exact, for tests and stats). */
unsigned long card_conn_apdus(const struct card_conn *c);

/* card_conn_close disconnects, leaving the card as it is; NULL allowed. */
void card_conn_close(struct card_conn *c);

#endif /* PV_ISSUANCE_CARD_OPEN_H */
