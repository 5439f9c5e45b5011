/*
 * store_batch.h: batch issuance in the store (tables batches and
 * batch_rows; batch.h builds on them).
 *
 * A batch is one input file, known by the SHA-256 of its bytes: running
 * the same command again finds it and continues.  Each of its rows is a
 * person (the identity's person_id) in one of four states:
 *
 *   pending   not started (or started, and its job was cancelled)
 *   running   linked to its issue job, which is RUNNING: the row waits for
 *             its card, in any reader
 *   done      its job is DONE
 *   failed    the last attempt failed (the detail says why); a later run
 *             of the batch tries it again
 *
 * A row is linked to its job in the transaction that creates the job
 * (store_batch_row_link from the workflow's "created" hook), so after a
 * crash either both exist or neither.  Every change is audited ("batch.
 * create", "batch.state", "batch.row") in its own transaction, or the
 * caller's.  Errors as store.h.
 */
#ifndef PV_ISSUANCE_STORE_BATCH_H
#define PV_ISSUANCE_STORE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/identity.h"
#include "issuance/store.h"

#define STORE_BATCH_PATH_MAX	1024	/* bytes of a path, NUL included */

enum store_batch_state {
	STORE_BATCH_RUNNING,	/* "running": started, not every row done */
	STORE_BATCH_DONE	/* "done": every row done */
};

enum store_brow_state {
	STORE_BROW_PENDING,	/* "pending" */
	STORE_BROW_RUNNING,	/* "running" */
	STORE_BROW_DONE,	/* "done" */
	STORE_BROW_FAILED	/* "failed" */
};

struct store_batch {
	int64_t id;
	uint8_t digest[32];
	char source[STORE_BATCH_PATH_MAX];	/* the file as it was named */
	char format[8];				/* "csv", "jsonl" */
	unsigned n_rows;
	char pin_mode[8];			/* "random", "stdin" */
	char pin_mailer[STORE_BATCH_PATH_MAX];	/* "" with "stdin" */
	enum store_batch_state state;
	int64_t created_at;
	int64_t updated_at;
};

struct store_batch_row {
	int64_t batch_id;
	unsigned row;
	char person_id[IDENTITY_PERSON_ID_LEN + 1];
	enum store_brow_state state;
	int64_t job_id;			/* 0: none */
	unsigned attempts;		/* jobs started for it */
	char detail[STORE_DETAIL_MAX];	/* the last error, "" */
	int64_t updated_at;
};

const char *store_batch_state_name(enum store_batch_state s);
const char *store_brow_state_name(enum store_brow_state s);

/*
 * store_batch_create records batch |b| (digest, source, format, pin_mode,
 * pin_mailer; RUNNING) with |n| pending rows numbered rows[i] for the
 * person person_ids[i], in one transaction.  Sets *out_id.  PV_E_EXISTS
 * when a batch has the digest already.
 */
enum pv_err store_batch_create(struct store *st, const struct store_batch *b,
    const unsigned *rows, const char *const *person_ids, size_t n,
    int64_t *out_id, struct pv_why *why);

/* store_batch_find: the batch of this digest; PV_E_NO_RECORD if none. */
enum pv_err store_batch_find(struct store *st, const uint8_t digest[32],
    struct store_batch *out, struct pv_why *why);

/* store_batch_get: batch |id|; PV_E_NO_RECORD if none. */
enum pv_err store_batch_get(struct store *st, int64_t id,
    struct store_batch *out, struct pv_why *why);

/* store_batch_set_state moves batch |id| to |state|. */
enum pv_err store_batch_set_state(struct store *st, int64_t id,
    enum store_batch_state state, struct pv_why *why);

/* store_batch_rows: the rows of batch |id| by row number; free *out. */
enum pv_err store_batch_rows(struct store *st, int64_t id,
    struct store_batch_row **out, size_t *n_out, struct pv_why *why);

/* store_batch_row_get: one row; PV_E_NO_RECORD if none. */
enum pv_err store_batch_row_get(struct store *st, int64_t id, unsigned row,
    struct store_batch_row *out, struct pv_why *why);

/*
 * store_batch_row_by_job: the row linked to |job_id| (any batch);
 * PV_E_NO_RECORD when the job is no batch's.
 */
enum pv_err store_batch_row_by_job(struct store *st, int64_t job_id,
    struct store_batch_row *out, struct pv_why *why);

/*
 * store_batch_row_link, inside the transaction that creates job |job_id|:
 * a pending or failed row becomes RUNNING with the job, its attempts
 * counted.  PV_E_EXISTS when the row is neither (another run took it).
 */
enum pv_err store_batch_row_link(struct store *st, int64_t id, unsigned row,
    int64_t job_id, struct pv_why *why);

/*
 * store_batch_row_set sets a row's state and |detail| (NULL: ""), and its
 * job (|job_id| < 0 keeps it, 0 clears it).
 */
enum pv_err store_batch_row_set(struct store *st, int64_t id, unsigned row,
    enum store_brow_state state, int64_t job_id, const char *detail,
    struct pv_why *why);

/*
 * store_batch_person_elsewhere: a row for |person_id| that is not done, in
 * a batch other than |id| (0: any): its batch, row and source.
 * PV_E_NO_RECORD when there is none.
 */
enum pv_err store_batch_person_elsewhere(struct store *st, int64_t id,
    const char *person_id, struct store_batch_row *row,
    struct store_batch *batch, struct pv_why *why);

#endif /* PV_ISSUANCE_STORE_BATCH_H */
