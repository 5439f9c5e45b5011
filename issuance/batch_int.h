/*
 * batch_int.h: what the files of batch issuance share (batch.c the set-up
 * and the run, batch_work.c a reader's worker, batch_pins.c PINs and the
 * PIN mailer, batch_keypool.c 9D keys made ahead, batch_out.c the results
 * file).  Not for use outside issuance/batch*.c.
 */
#ifndef PV_ISSUANCE_BATCH_INT_H
#define PV_ISSUANCE_BATCH_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "issuance/batch.h"
#include "issuance/claim.h"
#include "issuance/config.h"
#include "issuance/pkix_util.h"
#include "issuance/station.h"
#include "pcsc/pcsc.h"

/* ---- 9D keys made ahead (batch_keypool.c) --------------------------------------- */

#define BATCH_KEYPOOL_MAX	16

struct batch_keypool {
	enum pkix_alg alg;
	unsigned cap;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	EVP_PKEY *keys[BATCH_KEYPOOL_MAX];
	unsigned n;
	bool stop;
	bool started;
	pthread_t th;
	unsigned made, taken, missed;	/* counters for the summary */
};

/*
 * batch_keypool_start starts a thread keeping up to |cap| key pairs of
 * |alg| ready.  PV_E_INTERNAL when the thread cannot start (the pool then
 * makes keys on demand).
 */
enum pv_err batch_keypool_start(struct batch_keypool *kp, enum pkix_alg alg,
    unsigned cap);

/* batch_keypool_take: a wf_keygen_fn (ctx = the pool): a key made ahead,
 * or one made now when none is ready or |alg| is not the pool's. */
enum pv_err batch_keypool_take(void *ctx, enum pkix_alg alg, EVP_PKEY **out,
    struct pv_why *why);

/* batch_keypool_stop ends the thread and frees the keys left. */
void batch_keypool_stop(struct batch_keypool *kp);

/* ---- the PIN mailer (batch_pins.c) ----------------------------------------------- */

struct batch_mailer {
	char path[STORE_BATCH_PATH_MAX];
	int fd;				/* open for appending; -1 */
};

/*
 * batch_mailer_open opens (creating 0600 with a header line) the PIN
 * mailer |path| for appending.  A file others may read or write, or not
 * ours, is PV_E_POLICY; a symlink or not a file PV_E_INPUT; PV_E_IO.
 */
enum pv_err batch_mailer_open(struct batch_mailer *m, const char *path,
    struct pv_why *why);

/*
 * batch_mailer_append records |pin| for |row| (person, printed name, card
 * serial) and syncs it to disk before returning.  PV_E_IO.
 */
enum pv_err batch_mailer_append(struct batch_mailer *m, unsigned row,
    const char *person_id, const char *name, const char *serial,
    const char *pin, struct pv_why *why);

/*
 * batch_mailer_lookup finds the last PIN recorded for |row| into |pin|
 * (wiped by the caller); *found false when there is none.  PV_E_IO.
 */
enum pv_err batch_mailer_lookup(struct batch_mailer *m, unsigned row,
    char pin[9], bool *found, struct pv_why *why);

/* What the rewrite keeps for a row: its last PIN, with these columns. */
struct batch_mailer_keep {
	unsigned row;
	const char *person_id;
	const char *name;
	const char *status;		/* "issued", "in progress" */
	char card_uuid[40];		/* "" */
	char serial[STORE_SERIAL_TEXT_MAX];	/* "" */
};

/*
 * batch_mailer_rewrite replaces the file (temporary name, fsync, rename)
 * by one line per row of |keep| that has a PIN, in that order; the other
 * lines go.  The file stays open for appending.  PV_E_IO.
 */
enum pv_err batch_mailer_rewrite(struct batch_mailer *m,
    const struct batch_mailer_keep *keep, size_t n, struct pv_why *why);

/* batch_mailer_close closes the file (safe twice). */
void batch_mailer_close(struct batch_mailer *m);

/* batch_csv_field appends |s| to |o| as one CSV field (quoted when it has
 * a comma, a quote or a line break); false on overflow. */
bool batch_csv_field(char *o, size_t cap, size_t *len, const char *s,
    bool last);

/* ---- the run (batch.c, batch_work.c) --------------------------------------------- */

/* A row as the run tracks it (under batch.mu). */
struct batch_rrow {
	unsigned row;
	const struct identity *id;	/* in the check's rows */
	char name[3 * IDENTITY_NAME_MAX + 8];	/* printed name */
	enum store_brow_state state;
	int64_t job_id;
	bool busy;			/* a worker has it now */
	bool done_before;		/* done by an earlier run */
	unsigned card_tries;		/* CARD failures of its job */
	char serial[STORE_SERIAL_TEXT_MAX];	/* its card, when known */
};

struct batch;

/* A reader's worker. */
struct batch_worker {
	struct batch *b;
	char reader[PCSC_READER_NAME_MAX];
	pthread_t th;
	bool started;
	/* Under b->mu. */
	bool present;			/* a card is in the reader */
	unsigned gen;			/* insertions seen */
	bool gone;			/* the reader went away: end */
	bool exited;			/* the thread is finished */
	bool busy;			/* working on a card */
	enum batch_rd_state state;
	/* The worker's own. */
	unsigned done_gen;
	struct store *st;
	struct claim *claim;
	unsigned cur_row;		/* the row of the run in progress */
	bool at_register;		/* the run reached its register step */
	struct batch_worker *next;
};

struct batch {
	struct station *stn;
	const struct batch_opts *o;
	const struct batch_hooks *hooks;
	const struct pv_config *cfg;
	struct batch_check *chk;
	int64_t id;
	struct claim *claim;		/* this batch, in this process */
	char who[160];			/* for claims: "pivstation batch F" */
	/* Readers --readers chose by index in the first snapshot: known by
	 * name afterwards (they come back under it after a pcscd restart). */
	char by_index[PCSC_MAX_READERS][PCSC_READER_NAME_MAX];
	size_t n_by_index;
	struct batch_keypool kp;
	struct batch_mailer mailer;
	bool use_mailer;

	pthread_mutex_t mu;		/* rows, workers, progress */
	pthread_cond_t cv;
	pthread_mutex_t ev_mu;		/* one event at a time */
	pthread_mutex_t pin_mu;		/* the PIN mailer's file */
	struct batch_rrow *rows;
	size_t n_rows;
	struct batch_worker *workers;
	struct batch_progress prog;
	uint64_t t0_ns;
	bool stop_new;			/* take no more cards */
	bool quit;			/* workers end */
	atomic_bool cancel;		/* stop between steps (signal) */
	enum pv_err fatal;		/* a host failure: the batch stops */
	char fatal_why[256];
	struct batch_summary *sum;
};

/* batch_emit sends |ev| (prog filled here) to the front end, one at a
 * time.  Called without b->mu held. */
void batch_emit(struct batch *b, struct batch_event *ev);

/* batch_progress_locked recomputes b->prog (b->mu held). */
void batch_progress_locked(struct batch *b);

/* batch_rrow_find: the row numbered |row| (b->mu held), or NULL. */
struct batch_rrow *batch_rrow_find(struct batch *b, unsigned row);

/* batch_worker_main: a reader's thread (batch_work.c). */
void *batch_worker_main(void *arg);

#endif /* PV_ISSUANCE_BATCH_INT_H */
