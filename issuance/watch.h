/*
 * watch.h: readers and cards followed live, for a front end that shows
 * them (the console's readers panel) or waits for the next card (batch).
 *
 * A watch runs one thread of its own: it follows PC/SC events (readers
 * added and removed, cards inserted and pulled, pcscd going away and
 * coming back) and reads each inserted card once (card_summary.h), then
 * calls the front end's notify function, from that thread, which should
 * only wake the front end up: the front end then takes a snapshot.
 *
 * While the front end works on a card itself it marks the reader busy:
 * the watch then leaves that card alone (an inspection in the middle of
 * a workflow would interleave its SELECT with the workflow's commands),
 * and reads it again once the reader is no longer busy.
 */
#ifndef PV_ISSUANCE_WATCH_H
#define PV_ISSUANCE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "apdu/err.h"
#include "issuance/card_summary.h"

struct station;
struct watch;	/* opaque */

#define WATCH_READER_NAME_MAX	128
#define WATCH_READERS_MAX	16

struct watch_reader {
	char name[WATCH_READER_NAME_MAX];	/* as pcscd gives it: print
						 * it through apdu/text.h */
	bool present;		/* a card is in the reader */
	bool mute;		/* ... and does not answer */
	bool inuse;		/* another program (or our work) uses it */
	bool busy;		/* the front end works on it */
	bool read;		/* |card| holds what was read */
	unsigned long inserted;	/* counts insertions into this reader */
	struct card_summary card;
};

/* Called from the watch's thread after a change. */
typedef void watch_notify_fn(void *ctx);

/*
 * watch_start starts watching; |stn| (borrowed; it must outlive the
 * watch) gives the store the cards are looked up in (its own connection:
 * none when the station has no store).  The first notification follows
 * the first snapshot of the readers.  Returns PV_OK with a new watch
 * (watch_stop), or PV_E_NOMEM / PV_E_INTERNAL.
 */
enum pv_err watch_start(const struct station *stn, watch_notify_fn *fn,
    void *ctx, struct watch **out, struct pv_why *why);

/*
 * watch_snapshot copies up to |cap| readers into |out| and returns how
 * many there are; *service (NULL allowed) tells whether pcscd is there.
 */
size_t watch_snapshot(struct watch *w, struct watch_reader *out, size_t cap,
    bool *service);

/*
 * watch_set_busy marks |reader| busy (the watch's own reading of it, if
 * any, is finished first) or no longer busy (its card is then read
 * again).
 */
void watch_set_busy(struct watch *w, const char *reader, bool busy);

/* watch_refresh has the card in |reader| read again. */
void watch_refresh(struct watch *w, const char *reader);

/* watch_stop stops the thread and frees |w| (NULL allowed). */
void watch_stop(struct watch *w);

#endif /* PV_ISSUANCE_WATCH_H */
