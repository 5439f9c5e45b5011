/*
 * job.h: resumable jobs made of named steps, kept in the store.
 *
 * A workflow (wf.h runs them) names its steps once, in order.  Its job is
 * created with job_create (at most one RUNNING job of a kind per person,
 * and per device: the store's UNIQUE indexes make a second one fail, so
 * two runs never share a job) or, when one was left behind (a pulled
 * card, a killed process), loaded with job_load to be resumed.  Then the
 * first step that is not done runs, and so on.  A step that
 * completes is marked done together with what it produced, in the same
 * store transaction as the rows it wrote, so that after a crash the store
 * says either "not done, nothing written" or "done, and here is the
 * result":
 *
 *	store_begin(st);
 *	store_escrow_add(st, &env, &id, NULL, why);
 *	job_step_done(st, job, "escrow-9d", "{\"escrow_id\":12}", why);
 *	store_commit(st);		(store_rollback on any failure)
 *
 * A step whose effect is on the card only (GENERATE, PUT DATA) cannot be
 * atomic with the store: its step must be written so that running it again
 * is safe (check what the card holds first).  The detail of a done step
 * (JSON, at most STORE_DETAIL_MAX - 1 bytes) is how later steps and later
 * runs find its result (job_step_detail).
 *
 * The struct job in memory follows each call; after a store_rollback()
 * it may show a step done that the store does not: reload it with
 * job_load() before going on.
 */
#ifndef PV_ISSUANCE_JOB_H
#define PV_ISSUANCE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/store.h"

struct job {
	struct store_job row;
	struct store_job_step *steps;	/* owned, row order */
	size_t n_steps;
};

/*
 * job_create makes a RUNNING job of |kind| for |person_id| (0: none) with
 * the |n_steps| steps |steps| (distinct, in order), all pending, and
 * |reader|.  When the person already has a RUNNING job of that kind it is
 * PV_E_EXISTS naming that job and its reader: the caller resumes it (or
 * refuses) instead.  |out| must be zeroed or cleaned up; free it with
 * job_cleanup().
 */
enum pv_err job_create(struct store *st, const char *kind, int64_t person_id,
    const char *reader, const char *const *steps, size_t n_steps,
    struct job *out, struct pv_why *why);

/* job_load reads job |id| and its steps into |out| (any state). */
enum pv_err job_load(struct store *st, int64_t id, struct job *out,
    struct pv_why *why);

/* job_cleanup frees the steps; keeps nothing.  Safe on a zeroed struct. */
void job_cleanup(struct job *j);

/* job_find_step: the index of step |name|, or -1. */
long job_find_step(const struct job *j, const char *name);

/* job_next_step: the first step not done (its name), or NULL when all are
 * done. */
const char *job_next_step(const struct job *j);

/* job_step_is_done: true when step |name| exists and is done. */
bool job_step_is_done(const struct job *j, const char *name);

/* job_step_detail: the detail of step |name| ("" when none), or NULL for
 * an unknown step.  Valid until the next change to |j|. */
const char *job_step_detail(const struct job *j, const char *name);

/*
 * job_step_done marks step |name| done with |detail| (NULL = keep), in the
 * store and in |j|, and reports progress.  job_step_failed marks it failed
 * with |error| as its detail ({"error": ...} JSON is built here).
 * job_step_reset sets it back to pending (a card was swapped: redo it).
 * PV_E_NO_RECORD for an unknown step, PV_E_STATE when the job is not
 * RUNNING.
 */
enum pv_err job_step_done(struct store *st, struct job *j, const char *name,
    const char *detail, struct pv_why *why);
enum pv_err job_step_failed(struct store *st, struct job *j, const char *name,
    const char *error, struct pv_why *why);
enum pv_err job_step_reset(struct store *st, struct job *j, const char *name,
    struct pv_why *why);

/* job_set_device records the device the job personalises; a device
 * another RUNNING job works on is PV_E_EXISTS naming that job. */
enum pv_err job_set_device(struct store *st, struct job *j, int64_t device_id,
    struct pv_why *why);

/*
 * job_finish moves the job to DONE, FAILED or CANCELLED with |detail|
 * (NULL = "").  DONE requires every step done (PV_E_STATE otherwise).
 */
enum pv_err job_finish(struct store *st, struct job *j,
    enum store_job_state state, const char *detail, struct pv_why *why);

#endif /* PV_ISSUANCE_JOB_H */
