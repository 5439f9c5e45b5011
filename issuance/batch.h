/*
 * batch.h: batch issuance, `pivstation batch` (DESIGN.md "Device-facing
 * service and batch"): the people of a file (batch_rows.h) issued onto the
 * cards fed into several readers at once, unattended but for someone
 * feeding cards, resumable, each row exactly once.
 *
 * Set-up (batch_check), before any card is touched: every row is read and
 * checked (the identity, the subject templates of the configuration), and
 * so are the people against each other (duplicates in the file) and
 * against the store (an active credential already, an issuance running
 * outside this batch, an email that is another person's, a row of another
 * unfinished batch, a person stored with other details, the fields named,
 * unless opts->update_people: the workflow then records the row's, audited
 * as person.update).  The same file run again (the same bytes: SHA-256) is
 * the same batch, which continues.
 *
 * The run (batch_run): one worker thread per reader (all readers, or
 * those --readers names; readers added later are taken in, removed ones
 * dropped), each with its own PC/SC handle (exclusive access) and store
 * connection, and a station-wide claim on its reader (claim.h) so that no
 * other batch or console drives it.  Cards are taken as they are inserted
 * (reader events, no polling):
 *
 *   - a card whose issuance (a row's running job) was interrupted resumes
 *     that row, whichever reader it comes back in;
 *   - a card this batch issued is reported ("take it out");
 *   - any other card takes the next pending row: wf_issue_run on the card
 *     seam, the job linked to the row in the transaction that creates it
 *     (the workflow's "created" hook), so that after a crash the store
 *     holds both or neither;
 *   - a card that is not blank is skipped and reported (with --reissue it
 *     is issued again, as `pivstation issue --reissue` would).
 *
 * What happens after a failure comes from the error's class (batch_decide).
 * A signal (the caller's cancel flag) stops every worker between two steps;
 * the jobs stay RUNNING and the same command continues them.  SIGKILL at
 * any moment leaves the store consistent the same way: every step of the
 * issuance is a state of its job.
 *
 * PINs: random per card (the default) under the [pin] rules, appended to
 * the PIN-mailer file (0600, fsync'd) before the card's PIN is set, so an
 * interrupted issuance resumes with the PIN its mailer shows; never in the
 * store.  At the end of a run the file is rewritten (atomically) with one
 * line per row issued or still in progress.  Or one PIN for every card
 * given by the caller (test and lab use).
 *
 * Throughput: 9D key pairs are made ahead by a thread of their own (a
 * small pool), so a card never waits for the host's RSA key generation;
 * certificate signing and escrow sealing take milliseconds on the
 * worker's own thread while the other readers' cards work.
 *
 * Events reach the front end through one callback, never two at once.
 */
#ifndef PV_ISSUANCE_BATCH_H
#define PV_ISSUANCE_BATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/batch_rows.h"
#include "issuance/store_batch.h"

struct station;		/* station.h */
struct wf_event;	/* wf.h */

enum batch_pin_mode {
	BATCH_PIN_RANDOM,	/* a random PIN per card, to the PIN mailer */
	BATCH_PIN_GIVEN		/* one PIN for every card (--pin-stdin) */
};

struct batch_opts {
	const char *input;		/* the file */
	enum batch_format fmt;
	const char *readers;		/* NULL or "all", or a comma list:
					 * an index (at the start), or a
					 * part of a name (every reader that
					 * has it, added later too) */
	bool reissue;			/* a card not blank is issued again */
	bool update_people;		/* a person stored with other details
					 * takes the row's (else the row is
					 * refused, naming the fields) */
	enum batch_pin_mode pin_mode;
	const uint8_t *pin;		/* BATCH_PIN_GIVEN (borrowed) */
	size_t pin_len;
	const char *pin_mailer;		/* BATCH_PIN_RANDOM: NULL = the
					 * batch's, else <input>.pins.csv */
	unsigned max_failures;		/* failed rows and cards before the
					 * batch stops; 0: no limit */
	unsigned keypool;		/* 9D keys made ahead; 0: 8 (a rack
					 * of readers starting at once) */
	const char *who;		/* for claims: "pivstation batch" */
};

/* ---- set-up ----------------------------------------------------------------------- */

/* What batch_check found. */
struct batch_check {
	struct batch_rows rows;		/* the file (rows.errs: its problems) */
	struct batch_row_err *errs;	/* every problem, the file's and the
					 * store's, in row order (owned) */
	size_t n_errs;			/* kept, at most BATCH_ERRS_KEPT */
	size_t n_errs_total;
	bool known;			/* the store has this batch already */
	struct store_batch batch;	/* ... this one */
	unsigned n_done, n_running, n_failed, n_pending;	/* its rows */
};

/*
 * batch_check reads opts->input and checks it as described above, with
 * the station's configuration and store (the CA is not needed).  Returns
 * PV_OK with |out| filled (release with batch_check_cleanup); PV_E_INPUT
 * when a row has a problem (out->errs lists them, |why| the first); the
 * file's errors (PV_E_NO_FILE, PV_E_TOO_LONG); PV_E_DB ...
 */
enum pv_err batch_check(struct station *stn, const struct batch_opts *o,
    struct batch_check *out, struct pv_why *why);

void batch_check_cleanup(struct batch_check *c);

/*
 * batch_default_path: <input> without its extension, then |suffix>
 * ("people.csv", ".results.csv" -> "people.results.csv").  PV_E_TOO_LONG.
 */
enum pv_err batch_default_path(const char *input, const char *suffix,
    char *out, size_t cap);

/* ---- the run --------------------------------------------------------------------- */

/* Where a reader is. */
enum batch_rd_state {
	BATCH_RD_WAITING,	/* ready: insert a card */
	BATCH_RD_WORKING,	/* issuing the card in it */
	BATCH_RD_TAKE_OUT,	/* finished with the card in it */
	BATCH_RD_CLAIMED,	/* another program has claimed it */
	BATCH_RD_GONE		/* removed (or pcscd went away) */
};

const char *batch_rd_state_name(enum batch_rd_state s);

/* Counts, sent with every event. */
struct batch_progress {
	unsigned rows;			/* in the file */
	unsigned done_before;		/* issued by earlier runs */
	unsigned done;			/* issued by this run */
	unsigned failed;		/* rows failed in this run */
	unsigned running;		/* started, their card away */
	unsigned pending;
	unsigned cards_skipped;		/* not blank, foreign, defective */
	unsigned failures;		/* toward --max-failures */
	unsigned readers;		/* readers this batch drives */
	double elapsed_s;
	double per_min;			/* cards issued per minute, this run */
	double eta_s;			/* < 0: unknown */
};

enum batch_ev_kind {
	BATCH_EV_START,		/* the run begins */
	BATCH_EV_READER,	/* a reader's state (rd_state, text) */
	BATCH_EV_CARD,		/* what was done with a card (text) */
	BATCH_EV_ROW,		/* a row's state (row_state, text) */
	BATCH_EV_STEP,		/* a workflow step on a reader (step) */
	BATCH_EV_TICK,		/* time passes (twice a second) */
	BATCH_EV_NOTICE,	/* something for the operator (text) */
	BATCH_EV_END		/* the run ends (text: why) */
};

const char *batch_ev_name(enum batch_ev_kind k);

struct batch_event {
	enum batch_ev_kind kind;
	const char *reader;		/* "" when none */
	enum batch_rd_state rd_state;
	unsigned row;			/* 0 when none */
	const char *person_id;		/* "" when none */
	const char *name;		/* the printed name, "" */
	enum store_brow_state row_state;
	const char *serial;		/* the card's serial, "" */
	int64_t job_id;			/* 0 when none */
	enum pv_err err;		/* PV_OK, or what failed */
	uint64_t apdus;			/* BATCH_EV_ROW done: this card's */
	const struct wf_event *step;	/* BATCH_EV_STEP */
	const char *text;		/* a sentence, never a secret */
	const struct batch_progress *prog;
};

typedef void batch_event_fn(void *ctx, const struct batch_event *ev);

struct batch_hooks {
	batch_event_fn *event;
	void *ctx;
	const atomic_bool *cancel;	/* set: stop between steps */
};

/* How a run ended. */
struct batch_summary {
	int64_t batch_id;
	struct batch_progress prog;
	bool complete;			/* every row done */
	bool cancelled;			/* the cancel flag stopped it */
	bool too_many_failures;		/* --max-failures stopped it */
	enum pv_err first_err;		/* of the first failure, PV_OK */
	char pin_mailer[STORE_BATCH_PATH_MAX];	/* "" without */
	double cpu_s;			/* host CPU of the whole run */
	unsigned keys_ahead;		/* 9D keys the pool had ready */
	unsigned keys_inline;		/* ... made while a card waited */
};

/*
 * batch_run runs the batch |chk| found (batch_check without errors)
 * with the station |stn| (store, CA keys and master secret open) until
 * every row is done or failed, the cancel flag is set, or
 * opts->max_failures is reached; rows whose card was pulled keep it
 * waiting.  Returns PV_OK with |out| filled however it ended (out->
 * complete says whether every row is done); PV_E_EXISTS when another
 * process runs this batch; the PIN-mailer file's errors (PV_E_POLICY for
 * one others may read); a host failure that stopped the batch (PV_E_DB,
 * PV_E_IO, ...), with |why|.
 */
enum pv_err batch_run(struct station *stn, struct batch_check *chk,
    const struct batch_opts *o, const struct batch_hooks *hooks,
    struct batch_summary *out, struct pv_why *why);

/*
 * batch_results_write writes the results file |path| (CSV, 0600, written
 * to a temporary name then renamed): one line per row of batch |id| with
 * row, person_id, name, status, serial, card_uuid, fascn, the four
 * certificate serials, job and error, from the store.  PV_E_IO.
 */
enum pv_err batch_results_write(struct station *stn, int64_t id,
    const struct batch_rows *rows, const char *path, struct pv_why *why);

/* ---- decisions (pure: public for the tests) --------------------------------------- */

enum batch_action {
	BATCH_ACT_DONE,		/* the row is done */
	BATCH_ACT_WAIT,		/* the card went away (or the run stops):
				 * a row with a job waits for its card */
	BATCH_ACT_SKIP_CARD,	/* the card cannot be used: the row stays
				 * pending, the card is reported */
	BATCH_ACT_NEXT_ROW,	/* the row cannot be issued: it fails, the
				 * card takes the next row */
	BATCH_ACT_RETRY,	/* the card refused mid-job: once more */
	BATCH_ACT_ROW_FAILED,	/* the row fails; its job is kept for an
				 * operator or the next run */
	BATCH_ACT_CARD_FAILED,	/* the card fails mid-job again: the job is
				 * cancelled, the row pending for a new card */
	BATCH_ACT_STOP		/* the host failed: the batch stops */
};

const char *batch_action_name(enum batch_action a);

/*
 * batch_decide: what to do after wf_issue_run returned |e| for a row,
 * from |e|'s class: whether its job exists (|job|), whether the failure
 * came at the register step (the person's record: |at_register|) rather
 * than from the card before it, and how many times this card already
 * failed the job (|tries|).
 */
enum batch_action batch_decide(enum pv_err e, bool job, bool at_register,
    unsigned tries);

/*
 * batch_pin_random draws a random PIN under the [pin] rules of |cfg|
 * (digits, max(min_length, min(8, max_length)) of them, and every weak-PIN
 * rule; config_check_pin accepts it) into |out| (9 bytes, NUL-ended).
 * PV_E_CRYPTO without random bytes, PV_E_CONFIG when the rules allow no
 * digit PIN.
 */
enum pv_err batch_pin_random(const struct pv_config *cfg, char out[9],
    struct pv_why *why);

#endif /* PV_ISSUANCE_BATCH_H */
