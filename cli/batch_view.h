/*
 * batch_view.h: what `pivstation batch` shows on a terminal while it runs
 * (cli/cmd_batch.c): a line per reader (the row and person on it, the
 * step, or what the reader waits for) and an overall bar with the count,
 * the rate and the time left.  A model fed with the batch's events, and a
 * renderer that turns it into lines of at most a given width: both
 * without a terminal, so the tests can read what a person would see.
 */
#ifndef PV_CLI_BATCH_VIEW_H
#define PV_CLI_BATCH_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "issuance/batch.h"

#define BV_READERS_MAX	16

struct bv_reader {
	char name[128];
	enum batch_rd_state state;
	unsigned row;			/* 0: no row on it */
	char who[80];			/* the person's printed name */
	char step[24];			/* the workflow step */
	unsigned index, count;		/* of the step */
	char text[120];			/* the last thing it said */
};

struct bv_model {
	struct bv_reader rd[BV_READERS_MAX];
	size_t n;
	struct batch_progress prog;
	bool ended;
};

/* bv_update applies |ev| to |m| (a zeroed model to start). */
void bv_update(struct bv_model *m, const struct batch_event *ev);

/*
 * bv_render writes the view of |m| into |out| (|cap| bytes, NUL-ended):
 * one line per reader, then the bar, each ending in '\n' and at most
 * |width| characters (text from readers, files and cards sanitised).
 * Returns the number of lines.
 */
unsigned bv_render(const struct bv_model *m, unsigned width, char *out,
    size_t cap);

/*
 * bv_duration writes |s| seconds as "M:SS" or "H:MM:SS" ("-" when < 0).
 */
void bv_duration(double s, char *out, size_t cap);

#endif /* PV_CLI_BATCH_VIEW_H */
