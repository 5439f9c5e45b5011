/*
 * store_batch.c: batches and their rows (store_batch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/buf.h"
#include "issuance/store_batch.h"
#include "issuance/store_int.h"

static const char *const batch_states[] = { "running", "done" };
static const char *const brow_states[] = {
	"pending", "running", "done", "failed"
};

const char *
store_batch_state_name(enum store_batch_state s)
{
	return (unsigned)s < 2 ? batch_states[s] : "?";
}

const char *
store_brow_state_name(enum store_brow_state s)
{
	return (unsigned)s < 4 ? brow_states[s] : "?";
}

static unsigned
name_index(const char *const *names, unsigned n, const char *s)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return 0;
}

static void
batch_object(int64_t id, char *out, size_t cap)
{
	(void)snprintf(out, cap, "batch:%lld", (long long)id);
}

#define BATCH_COLS "id, digest, source, format, n_rows, pin_mode, " \
	"pin_mailer, state, created_at, updated_at"

static void
batch_from_row(sqlite3_stmt *s, struct store_batch *b)
{
	char state[16];

	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(s, 0);
	(void)store_col_blob(s, 1, b->digest, sizeof(b->digest));
	store_col_text(s, 2, b->source, sizeof(b->source));
	store_col_text(s, 3, b->format, sizeof(b->format));
	b->n_rows = (unsigned)sqlite3_column_int64(s, 4);
	store_col_text(s, 5, b->pin_mode, sizeof(b->pin_mode));
	store_col_text(s, 6, b->pin_mailer, sizeof(b->pin_mailer));
	store_col_text(s, 7, state, sizeof(state));
	b->state = (enum store_batch_state)name_index(batch_states, 2, state);
	b->created_at = sqlite3_column_int64(s, 8);
	b->updated_at = sqlite3_column_int64(s, 9);
}

#define ROW_COLS "batch_id, row, person_id, state, coalesce(job_id, 0), " \
	"attempts, detail, updated_at"

static void
brow_from_row(sqlite3_stmt *s, struct store_batch_row *r)
{
	char state[16];

	memset(r, 0, sizeof(*r));
	r->batch_id = sqlite3_column_int64(s, 0);
	r->row = (unsigned)sqlite3_column_int64(s, 1);
	store_col_text(s, 2, r->person_id, sizeof(r->person_id));
	store_col_text(s, 3, state, sizeof(state));
	r->state = (enum store_brow_state)name_index(brow_states, 4, state);
	r->job_id = sqlite3_column_int64(s, 4);
	r->attempts = (unsigned)sqlite3_column_int64(s, 5);
	store_col_text(s, 6, r->detail, sizeof(r->detail));
	r->updated_at = sqlite3_column_int64(s, 7);
}

/* ---- batches ------------------------------------------------------------------- */

enum pv_err
store_batch_create(struct store *st, const struct store_batch *b,
    const unsigned *rows, const char *const *person_ids, size_t n,
    int64_t *out_id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32];
	int64_t id = 0, now = store_now(st);
	size_t i;
	enum pv_err r;

	*out_id = 0;
	if (memchr(b->source, '\0', sizeof(b->source)) == NULL ||
	    memchr(b->pin_mailer, '\0', sizeof(b->pin_mailer)) == NULL)
		return pv_why_set(why, PV_E_TOO_LONG, "create batch: a path "
		    "longer than %d bytes", STORE_BATCH_PATH_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO batches (digest, source, "
	    "format, n_rows, pin_mode, pin_mailer, state, created_at, "
	    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?7)",
	    &s, "create batch", why)) != PV_OK)
		goto out;
	if (!store_bind_blob(s, 1, b->digest, sizeof(b->digest)) ||
	    !store_bind_text(s, 2, b->source) ||
	    !store_bind_text(s, 3, b->format) ||
	    !store_bind_i64(s, 4, (int64_t)n) ||
	    !store_bind_text(s, 5, b->pin_mode) ||
	    !store_bind_text(s, 6, b->pin_mailer) ||
	    !store_bind_i64(s, 7, now)) {
		r = store_db_err(st, SQLITE_ERROR, "create batch", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "create batch", why)) != PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	s = NULL;
	if ((r = store_prepare(st, "INSERT INTO batch_rows (batch_id, row, "
	    "person_id, state, updated_at) VALUES (?1, ?2, ?3, 'pending', ?4)",
	    &s, "create batch row", why)) != PV_OK)
		goto out;
	for (i = 0; i < n; i++) {
		sqlite3_reset(s);
		if (!store_bind_i64(s, 1, id) ||
		    !store_bind_i64(s, 2, (int64_t)rows[i]) ||
		    !store_bind_text(s, 3, person_ids[i]) ||
		    !store_bind_i64(s, 4, now)) {
			r = store_db_err(st, SQLITE_ERROR, "create batch row",
			    why);
			goto out;
		}
		if ((r = store_step_done(st, s, "create batch row", why)) !=
		    PV_OK) {
			pv_why_prefix(why, "row %u", rows[i]);
			goto out;
		}
	}
	d = json_object_new_object();
	store_jhex(d, "digest", b->digest, sizeof(b->digest));
	store_jstr(d, "source", b->source);
	store_jstr(d, "format", b->format);
	store_jint(d, "n_rows", (int64_t)n);
	store_jstr(d, "pin_mode", b->pin_mode);
	batch_object(id, obj, sizeof(obj));
	r = store_audit(st, "batch.create", obj, d, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK)
		*out_id = id;
	return r;
}

static enum pv_err
batch_get_where(struct store *st, const char *sql, const void *key,
    size_t key_len, int64_t id, struct store_batch *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;
	bool ok;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, sql, &s, "find batch", why)) != PV_OK)
		return r;
	ok = key != NULL ? store_bind_blob(s, 1, key, key_len) :
	    store_bind_i64(s, 1, id);
	if (!ok) {
		r = store_db_err(st, SQLITE_ERROR, "find batch", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find batch", "batch", why)) == PV_OK)
		batch_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_batch_find(struct store *st, const uint8_t digest[32],
    struct store_batch *out, struct pv_why *why)
{
	return batch_get_where(st, "SELECT " BATCH_COLS " FROM batches WHERE "
	    "digest = ?1", digest, 32, 0, out, why);
}

enum pv_err
store_batch_get(struct store *st, int64_t id, struct store_batch *out,
    struct pv_why *why)
{
	return batch_get_where(st, "SELECT " BATCH_COLS " FROM batches WHERE "
	    "id = ?1", NULL, 0, id, out, why);
}

enum pv_err
store_batch_set_state(struct store *st, int64_t id,
    enum store_batch_state state, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32];
	enum pv_err r;

	if ((unsigned)state > STORE_BATCH_DONE)
		return pv_why_set(why, PV_E_INVAL, "set batch state: bad state");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "UPDATE batches SET state = ?1, "
	    "updated_at = ?2 WHERE id = ?3", &s, "set batch state", why)) !=
	    PV_OK)
		goto out;
	if (!store_bind_text(s, 1, store_batch_state_name(state)) ||
	    !store_bind_i64(s, 2, store_now(st)) || !store_bind_i64(s, 3, id)) {
		r = store_db_err(st, SQLITE_ERROR, "set batch state", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "set batch state", why)) != PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_NO_RECORD, "no batch %lld",
		    (long long)id);
		goto out;
	}
	d = json_object_new_object();
	store_jstr(d, "state", store_batch_state_name(state));
	batch_object(id, obj, sizeof(obj));
	r = store_audit(st, "batch.state", obj, d, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

/* ---- rows ---------------------------------------------------------------------- */

enum pv_err
store_batch_rows(struct store *st, int64_t id, struct store_batch_row **out,
    size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	struct store_batch_row *list = NULL, *grown;
	size_t n = 0, cap = 0;
	enum pv_err r;
	int rc;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, "SELECT " ROW_COLS " FROM batch_rows WHERE "
	    "batch_id = ?1 ORDER BY row", &s, "list batch rows", why)) !=
	    PV_OK)
		return r;
	if (!store_bind_i64(s, 1, id)) {
		r = store_db_err(st, SQLITE_ERROR, "list batch rows", why);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(list, cap * sizeof(*list))) ==
			    NULL) {
				r = PV_E_NOMEM;
				goto out;
			}
			list = grown;
		}
		brow_from_row(s, &list[n++]);
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "list batch rows", why);
		goto out;
	}
	*out = list;
	*n_out = n;
	list = NULL;
	r = PV_OK;
out:
	free(list);
	sqlite3_finalize(s);
	return r;
}

static enum pv_err
brow_get_where(struct store *st, const char *sql, int64_t a, int64_t b,
    struct store_batch_row *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, sql, &s, "find batch row", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, a) || !store_bind_i64(s, 2, b)) {
		r = store_db_err(st, SQLITE_ERROR, "find batch row", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find batch row", "batch row", why)) ==
	    PV_OK)
		brow_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_batch_row_get(struct store *st, int64_t id, unsigned row,
    struct store_batch_row *out, struct pv_why *why)
{
	return brow_get_where(st, "SELECT " ROW_COLS " FROM batch_rows WHERE "
	    "batch_id = ?1 AND row = ?2", id, (int64_t)row, out, why);
}

enum pv_err
store_batch_row_by_job(struct store *st, int64_t job_id,
    struct store_batch_row *out, struct pv_why *why)
{
	return brow_get_where(st, "SELECT " ROW_COLS " FROM batch_rows WHERE "
	    "job_id = ?1 AND ?2 = 0", job_id, 0, out, why);
}

static enum pv_err
brow_audit(struct store *st, int64_t id, unsigned row,
    enum store_brow_state state, int64_t job_id, const char *detail,
    struct pv_why *why)
{
	json_object *d = json_object_new_object();
	char obj[48];

	store_jint(d, "row", (int64_t)row);
	store_jstr(d, "state", store_brow_state_name(state));
	if (job_id > 0)
		store_jint(d, "job", job_id);
	if (detail != NULL && detail[0] != '\0')
		store_jstr(d, "detail", detail);
	batch_object(id, obj, sizeof(obj));
	return store_audit(st, "batch.row", obj, d, why);
}

enum pv_err
store_batch_row_link(struct store *st, int64_t id, unsigned row,
    int64_t job_id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "UPDATE batch_rows SET state = 'running', "
	    "job_id = ?1, attempts = attempts + 1, detail = '', updated_at = "
	    "?2 WHERE batch_id = ?3 AND row = ?4 AND state IN ('pending', "
	    "'failed')", &s, "link batch row", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, job_id) ||
	    !store_bind_i64(s, 2, store_now(st)) ||
	    !store_bind_i64(s, 3, id) || !store_bind_i64(s, 4, (int64_t)row)) {
		r = store_db_err(st, SQLITE_ERROR, "link batch row", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "link batch row", why)) != PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_EXISTS, "row %u of batch %lld is "
		    "taken by another run", row, (long long)id);
		goto out;
	}
	r = brow_audit(st, id, row, STORE_BROW_RUNNING, job_id, NULL, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
store_batch_row_set(struct store *st, int64_t id, unsigned row,
    enum store_brow_state state, int64_t job_id, const char *detail,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	if ((unsigned)state > STORE_BROW_FAILED)
		return pv_why_set(why, PV_E_INVAL, "set batch row: bad state");
	if (detail == NULL)
		detail = "";
	if (strlen(detail) >= STORE_DETAIL_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "set batch row: detail "
		    "longer than %d bytes", STORE_DETAIL_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	/* ?2 < 0 keeps the job, 0 clears it. */
	if ((r = store_prepare(st, "UPDATE batch_rows SET state = ?1, "
	    "job_id = CASE WHEN ?2 < 0 THEN job_id WHEN ?2 = 0 THEN NULL ELSE "
	    "?2 END, detail = ?3, updated_at = ?4 WHERE batch_id = ?5 AND "
	    "row = ?6", &s, "set batch row", why)) != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, store_brow_state_name(state)) ||
	    !store_bind_i64(s, 2, job_id) || !store_bind_text(s, 3, detail) ||
	    !store_bind_i64(s, 4, store_now(st)) ||
	    !store_bind_i64(s, 5, id) || !store_bind_i64(s, 6, (int64_t)row)) {
		r = store_db_err(st, SQLITE_ERROR, "set batch row", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "set batch row", why)) != PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_NO_RECORD, "batch %lld has no row %u",
		    (long long)id, row);
		goto out;
	}
	r = brow_audit(st, id, row, state, job_id, detail, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
store_batch_person_elsewhere(struct store *st, int64_t id,
    const char *person_id, struct store_batch_row *row,
    struct store_batch *batch, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(row, 0, sizeof(*row));
	memset(batch, 0, sizeof(*batch));
	if ((r = store_prepare(st, "SELECT r.batch_id, r.row, r.person_id, "
	    "r.state, coalesce(r.job_id, 0), r.attempts, r.detail, r.updated_at "
	    "FROM batch_rows r WHERE r.person_id = ?1 AND r.batch_id <> ?2 AND "
	    "r.state <> 'done' ORDER BY r.batch_id, r.row LIMIT 1", &s,
	    "find the person's batch rows", why)) != PV_OK)
		return r;
	if (!store_bind_text(s, 1, person_id) || !store_bind_i64(s, 2, id)) {
		r = store_db_err(st, SQLITE_ERROR, "find the person's batch rows",
		    why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find the person's batch rows",
	    "batch row", why)) != PV_OK)
		goto out;
	brow_from_row(s, row);
	sqlite3_finalize(s);
	s = NULL;
	r = store_batch_get(st, row->batch_id, batch, why);
out:
	sqlite3_finalize(s);
	return r;
}
