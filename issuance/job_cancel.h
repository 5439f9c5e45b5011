/*
 * job_cancel.h: an officer's view of issuance jobs, `pivstation job list`
 * and `pivstation job cancel`.
 *
 * A running issue job is bound to one card (job.h, wf_issue.h): while it
 * runs, `pivstation issue` for that person refuses any other card.  When
 * that card is lost for good the job is cancelled: in one store
 * transaction every live certificate of its device is revoked with reason
 * keyCompromise (the keys left our control), the device is terminated,
 * the job is set CANCELLED with the officer's reason, and an audit row
 * "job.cancel" records the reason and what was revoked (the actor is the
 * store's).  Escrow envelopes are kept: the escrowed 9D key stays
 * recoverable for the person's new card.  The next `pivstation issue` for
 * the person then starts a new job on a new card.
 */
#ifndef PV_ISSUANCE_JOB_CANCEL_H
#define PV_ISSUANCE_JOB_CANCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/identity.h"
#include "issuance/store.h"

#define JOB_REASON_MAX		200	/* bytes of a cancel reason */
#define JOB_CANCEL_MAX_REVOKED	16	/* serials reported (not a limit) */

/* One job as `pivstation job list` shows it. */
struct job_info {
	struct store_job row;
	char person[IDENTITY_PERSON_ID_LEN + 1];  /* identity person_id */
	bool has_device;
	char serial[STORE_SERIAL_TEXT_MAX];	/* device serial, "" if none */
	uint8_t guid[16];
	bool has_guid;
	enum store_device_status device_status;
	char last_done[STORE_STEP_NAME_MAX];	/* "" when no step is done */
	unsigned steps_done;
	unsigned n_steps;
};

/*
 * job_info_list lists the RUNNING jobs (all jobs when |all|), oldest
 * first.  Free *out with free().
 */
enum pv_err job_info_list(struct store *st, bool all, struct job_info **out,
    size_t *n_out, struct pv_why *why);

/* What job_cancel did. */
struct job_cancel_result {
	int64_t job_id;
	int64_t device_id;	/* 0: the job had no device yet */
	bool device_terminated;	/* the device was terminated now */
	size_t n_revoked;	/* certificates revoked now */
	char revoked[JOB_CANCEL_MAX_REVOKED][STORE_CERT_SERIAL_MAX];
				/* the first JOB_CANCEL_MAX_REVOKED serials */
};

/*
 * job_cancel cancels job |id| for |reason| (1-JOB_REASON_MAX bytes, no
 * control characters) as described above, all or nothing.
 * PV_E_NOT_FOUND for an unknown job, PV_E_STATE for a job that is not
 * running (done, failed or cancelled already: |why| says which),
 * PV_E_INPUT for a bad reason; PV_E_DB.
 */
enum pv_err job_cancel(struct store *st, int64_t id, const char *reason,
    struct job_cancel_result *out, struct pv_why *why);

#endif /* PV_ISSUANCE_JOB_CANCEL_H */
