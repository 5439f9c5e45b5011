/*
 * wf.h: the workflow runner.  Issue, derive, unblock, lifecycle and
 * re-check are workflows: each declares its steps once, and this runner
 * takes them in order as a resumable job (job.h) in the store.
 *
 * A step is a function, a name and whether it writes the store.  A step
 * that writes rows opens the step's transaction with wf_tx_begin() before
 * its first write; the runner then marks the step done in that same
 * transaction and commits, so after a crash the store says either "not
 * done, nothing written" or "done, and here is the result".  A step that
 * only talks to the card writes nothing before it returns; it must be safe
 * to run again (check what the card holds first), and the runner marks it
 * done on its own.  A step may instead put itself or others back to be
 * done again (WF_STEP_REDO, wf_step_reset) when the card no longer
 * matches what was recorded.
 *
 * The runner emits one kind of event (struct wf_event) to the front end,
 * checks a cancel flag between steps (the job is left RUNNING: the same
 * command resumes it), and hands questions to the front end through one
 * callback (a PIN pad prompt, a PIN, a confirmation).  It never prints.
 */
#ifndef PV_ISSUANCE_WF_H
#define PV_ISSUANCE_WF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/job.h"
#include "issuance/pkix_util.h"

struct wf_run;

/* A step: |state| is the workflow's own (the runner does not look). */
typedef enum pv_err wf_step_fn(struct wf_run *run, void *state,
    struct pv_why *why);

struct wf_step_def {
	const char *name;	/* unique in the workflow, stored in the job */
	wf_step_fn *fn;
	bool writes_store;	/* opens its transaction with wf_tx_begin */
};

struct wf_def {
	const char *kind;	/* the job kind: "issue", "derive", ... */
	const struct wf_step_def *steps;
	size_t n_steps;
};

enum wf_step_state {
	WF_STEP_DONE,		/* the step ran and completed now */
	WF_STEP_DONE_BEFORE,	/* completed by an earlier run of the job */
	WF_STEP_SKIPPED,	/* nothing to do (policy, token) */
	WF_STEP_FAILED,		/* the step failed; the job stays resumable */
	WF_STEP_REDO,		/* no longer matches the card: done again */
	WF_STEP_RUNNING		/* the step starts (long card work ahead) */
};

/* wf_step_state_name: "done", "done-before", "skipped", "failed", "redo",
 * "running". */
const char *wf_step_state_name(enum wf_step_state s);

/* What a front end is told: one kind of event for every workflow. */
struct wf_event {
	const char *kind;	/* the workflow ("issue") */
	int64_t job_id;		/* 0 before the job exists */
	const char *reader;	/* "" when none */
	const char *step;	/* the step's name; "inspect" before the job */
	unsigned index;		/* 1-based; 0 for "inspect" */
	unsigned count;		/* the workflow's number of steps */
	enum wf_step_state state;
	const char *text;	/* a sentence for a person; never a secret */
};

typedef void wf_event_fn(void *ctx, const struct wf_event *ev);

/* What a workflow may ask a person in the middle of a run. */
enum wf_ask_kind {
	WF_ASK_PAD,		/* type on the reader's PIN pad now: a notice,
				 * answered at once (no answer) */
	WF_ASK_PIN,		/* the PIN the card has */
	WF_ASK_NEW_PIN,		/* a new PIN, typed twice by the front end */
	WF_ASK_CONFIRM		/* yes (PV_OK) or no (PV_E_CANCELLED) */
};

struct wf_ask {
	enum wf_ask_kind kind;
	const char *text;	/* what to tell the person */
	unsigned min, max;	/* PIN lengths */
};

/*
 * wf_ask_fn asks |q|; a PIN comes back in |answer| (wiped by the caller).
 * PV_E_CANCELLED when the person declines, PV_E_INPUT when nobody can be
 * asked.
 */
typedef enum pv_err wf_ask_fn(void *ctx, const struct wf_ask *q,
    struct pkix_pass *answer, struct pv_why *why);

/*
 * wf_created_fn is called by wf_job_create once the new job's row exists,
 * inside the transaction of the step creating it, with that step's store
 * |st|: a front end links the job to a record of its own (a batch row)
 * atomically with its creation.  An error undoes the creation (the step
 * fails with it, nothing written).
 */
typedef enum pv_err wf_created_fn(void *ctx, struct store *st,
    const struct store_job *job, struct pv_why *why);

/* How a front end follows and steers a run (all may be NULL). */
struct wf_hooks {
	wf_event_fn *event;
	wf_ask_fn *ask;
	void *ctx;
	const atomic_bool *cancel;	/* set: stop before the next step */
	wf_created_fn *created;		/* a new job, in its transaction */
};

/* The runner's state for one run of one job. */
struct wf_run {
	const struct wf_def *def;
	const struct wf_hooks *hooks;
	struct store *st;
	const char *reader;
	struct job job;			/* row.id == 0 until it exists */
	bool resumed;			/* an earlier run's job is continued */
	unsigned steps_run;		/* steps completed by this run */
	/* The step being run. */
	long cur;			/* its index, -1 between steps */
	enum wf_step_state note_state;
	char note[256];
	char detail[STORE_DETAIL_MAX];	/* its result, JSON ("" = "{}") */
	int tx_depth;			/* wf_tx_begin levels open */
};

/*
 * wf_run_init prepares |r| for workflow |def| over store |st|, reporting
 * through |hooks| (NULL: none) and naming |reader| ("" or NULL: none).
 * Release with wf_run_cleanup.
 */
void wf_run_init(struct wf_run *r, const struct wf_def *def, struct store *st,
    const struct wf_hooks *hooks, const char *reader);

/* wf_run_cleanup releases the job in memory. */
void wf_run_cleanup(struct wf_run *r);

/*
 * wf_job_find loads the RUNNING job of this workflow for |person_id|
 * (store ids) into r->job, setting r->resumed; *found false (and PV_OK)
 * when there is none.  A job whose steps are not this workflow's (another
 * version) is PV_E_STATE.  Reads only.
 */
enum pv_err wf_job_find(struct wf_run *r, int64_t person_id, bool *found,
    struct pv_why *why);

/*
 * wf_job_create, inside the first step's transaction: the job for
 * |person_id| (0: none), RUNNING with every step pending.  A RUNNING job
 * of this kind for the person that exists already is PV_E_EXISTS naming
 * its reader: two runs never share one job.
 */
enum pv_err wf_job_create(struct wf_run *r, int64_t person_id,
    struct pv_why *why);

/*
 * wf_job_load loads job |id| into r->job (a job found another way: by its
 * device); PV_E_STATE when its steps are not this workflow's.
 */
enum pv_err wf_job_load(struct wf_run *r, int64_t id, struct pv_why *why);

/*
 * wf_run_steps runs the job's steps in order from the first not done,
 * until none is left; for a new job (no r->job yet) it starts with the
 * first step, which must create it (wf_job_create).  Steps done earlier
 * are reported as WF_STEP_DONE_BEFORE first.  Between steps the cancel
 * flag is checked (PV_E_CANCELLED, the job left RUNNING).  A step's
 * failure marks it failed in the store (the job stays RUNNING) and ends
 * the run with |why| naming the job, the step and the cause.  |state| is
 * passed to each step.
 */
enum pv_err wf_run_steps(struct wf_run *r, void *state, struct pv_why *why);

/*
 * wf_run_step_first runs only the first step of a new job (the one that
 * creates it), for a workflow that has more to prepare from its result
 * before the other steps; wf_run_steps then goes on from the second.
 */
enum pv_err wf_run_step_first(struct wf_run *r, void *state,
    struct pv_why *why);

/* ---- for the steps ------------------------------------------------------- */

/*
 * wf_tx_begin opens the running step's store transaction (a step declared
 * writes_store); the runner commits it with the step's done mark.
 */
enum pv_err wf_tx_begin(struct wf_run *r, struct pv_why *why);

/* wf_note sets what the step's event will say (state DONE unless said). */
void wf_note(struct wf_run *r, enum wf_step_state state, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* wf_done_detail sets the step's result (a JSON object text) recorded
 * with its done mark. */
void wf_done_detail(struct wf_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * wf_emit reports step |step| (an index; -1: "inspect", before the job)
 * in |state| with a sentence.  Steps call it for progress inside a long
 * step; the runner calls it at each step's end.
 */
void wf_emit(struct wf_run *r, long step, enum wf_step_state state,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* wf_ask asks the front end (PV_E_INPUT when there is nobody to ask). */
enum pv_err wf_ask(struct wf_run *r, const struct wf_ask *q,
    struct pkix_pass *answer, struct pv_why *why);

/* wf_cancelled: has the front end asked to stop? */
bool wf_cancelled(const struct wf_run *r);

/* wf_step_done_at / wf_step_detail_at: step |i|'s mark and result ("" when
 * none). */
bool wf_step_done_at(const struct wf_run *r, size_t i);
const char *wf_step_detail_at(const struct wf_run *r, size_t i);

/*
 * wf_step_reset puts step |i| back to pending (inside the running step's
 * transaction when it has one), to be done again.
 */
enum pv_err wf_step_reset(struct wf_run *r, size_t i, struct pv_why *why);

/*
 * wf_finish moves the job to DONE (every step done, the last one's mark
 * included) with |detail|, inside the last step's transaction.
 */
enum pv_err wf_finish(struct wf_run *r, const char *detail,
    struct pv_why *why);

#endif /* PV_ISSUANCE_WF_H */
