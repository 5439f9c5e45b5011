/*
 * store_jobs.c: jobs and their steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/store_int.h"

static const char *const job_states[] = {
	"running", "done", "failed", "cancelled"
};
static const char *const step_states[] = { "pending", "done", "failed" };

const char *
store_job_state_name(enum store_job_state s)
{
	return (unsigned)s < 4 ? job_states[s] : "?";
}

const char *
store_step_state_name(enum store_step_state s)
{
	return (unsigned)s < 3 ? step_states[s] : "?";
}

static unsigned
state_index(const char *const *names, unsigned n, const char *s)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return 0;
}

#define JOB_COLS "id, kind, coalesce(person_id, 0), reader, " \
	"coalesce(device_id, 0), state, detail, created_at, updated_at"

static void
job_from_row(sqlite3_stmt *s, struct store_job *j)
{
	char state[16];

	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, j->kind, sizeof(j->kind));
	j->person_id = sqlite3_column_int64(s, 2);
	store_col_text(s, 3, j->reader, sizeof(j->reader));
	j->device_id = sqlite3_column_int64(s, 4);
	store_col_text(s, 5, state, sizeof(state));
	j->state = (enum store_job_state)state_index(job_states, 4, state);
	store_col_text(s, 6, j->detail, sizeof(j->detail));
	j->created_at = sqlite3_column_int64(s, 7);
	j->updated_at = sqlite3_column_int64(s, 8);
}

static bool
bind_id_or_null(sqlite3_stmt *s, int i, int64_t id)
{
	return id != 0 ? store_bind_i64(s, i, id) :
	    sqlite3_bind_null(s, i) == SQLITE_OK;
}

static void
job_object(int64_t id, char *out, size_t cap)
{
	(void)snprintf(out, cap, "job:%lld", (long long)id);
}

enum pv_err
store_job_create(struct store *st, const struct store_job *j,
    const char *const *steps, size_t n_steps, int64_t *out_id,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d, *names;
	char obj[32];
	int64_t id = 0, now = store_now(st);
	size_t i;
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if (j->kind[0] == '\0' || memchr(j->kind, '\0', sizeof(j->kind)) ==
	    NULL || memchr(j->reader, '\0', sizeof(j->reader)) == NULL)
		return pv_why_set(why, PV_E_INVAL, "create job: bad kind or "
		    "reader");
	for (i = 0; i < n_steps; i++)
		if (steps[i] == NULL || steps[i][0] == '\0' ||
		    strlen(steps[i]) >= STORE_STEP_NAME_MAX)
			return pv_why_set(why, PV_E_INVAL, "create job: step "
			    "names are 1-%d bytes", STORE_STEP_NAME_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO jobs (kind, person_id, reader, "
	    "device_id, state, detail, created_at, updated_at) VALUES (?1, ?2, "
	    "?3, ?4, 'running', '', ?5, ?5)", &s, "create job", why)) != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, j->kind) ||
	    !bind_id_or_null(s, 2, j->person_id) ||
	    !store_bind_text(s, 3, j->reader) ||
	    !bind_id_or_null(s, 4, j->device_id) ||
	    !store_bind_i64(s, 5, now)) {
		r = store_db_err(st, SQLITE_ERROR, "create job", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "create job", why)) != PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	s = NULL;
	if ((r = store_prepare(st, "INSERT INTO job_steps (job_id, seq, name, "
	    "state, detail, updated_at) VALUES (?1, ?2, ?3, 'pending', '', ?4)",
	    &s, "create job step", why)) != PV_OK)
		goto out;
	for (i = 0; i < n_steps; i++) {
		sqlite3_reset(s);
		if (!store_bind_i64(s, 1, id) ||
		    !store_bind_i64(s, 2, (int64_t)i) ||
		    !store_bind_text(s, 3, steps[i]) ||
		    !store_bind_i64(s, 4, now)) {
			r = store_db_err(st, SQLITE_ERROR, "create job step",
			    why);
			goto out;
		}
		if ((r = store_step_done(st, s, "create job step", why)) !=
		    PV_OK) {
			if (r == PV_E_EXISTS) {
				pv_why_clear(why);
				r = pv_why_set(why, PV_E_INVAL, "create job: "
				    "step '%s' given twice", steps[i]);
			}
			goto out;
		}
	}
	d = json_object_new_object();
	store_jstr(d, "kind", j->kind);
	if (j->person_id != 0)
		store_jint(d, "person", j->person_id);
	if (j->reader[0] != '\0')
		store_jstr(d, "reader", j->reader);
	if (j->device_id != 0)
		store_jint(d, "device", j->device_id);
	if ((names = json_object_new_array()) != NULL) {
		for (i = 0; i < n_steps; i++)
			(void)json_object_array_add(names,
			    json_object_new_string(steps[i]));
		if (d == NULL || json_object_object_add(d, "steps", names) != 0)
			json_object_put(names);
	}
	job_object(id, obj, sizeof(obj));
	r = store_audit_row(st, "job.create", obj, d, "jobs", id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK && out_id != NULL)
		*out_id = id;
	return r;
}

enum pv_err
store_job_get(struct store *st, int64_t id, struct store_job *out,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, "SELECT " JOB_COLS " FROM jobs WHERE "
	    "id = ?1", &s, "find job", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, id)) {
		r = store_db_err(st, SQLITE_ERROR, "find job", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find job", "job", why)) == PV_OK)
		job_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_job_find_running(struct store *st, const char *kind, int64_t person_id,
    struct store_job *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, "SELECT " JOB_COLS " FROM jobs WHERE "
	    "kind = ?1 AND coalesce(person_id, 0) = ?2 AND state = 'running' "
	    "ORDER BY id DESC LIMIT 1", &s, "find running job", why)) != PV_OK)
		return r;
	if (!store_bind_text(s, 1, kind) || !store_bind_i64(s, 2, person_id)) {
		r = store_db_err(st, SQLITE_ERROR, "find running job", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find running job", "running job",
	    why)) == PV_OK)
		job_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

static enum pv_err
job_row(sqlite3_stmt *s, void *elem, void *arg)
{
	(void)arg;
	job_from_row(s, elem);
	return PV_OK;
}

static enum pv_err
job_list(struct store *st, const char *sql, struct store_job **out,
    size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, sql, &s, "list jobs", why)) != PV_OK)
		return r;
	if ((r = store_collect(st, s, sizeof(struct store_job), job_row, NULL,
	    NULL, "list jobs", &list, n_out, why)) == PV_OK)
		*out = list;
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_job_list_running(struct store *st, struct store_job **out,
    size_t *n_out, struct pv_why *why)
{
	return job_list(st, "SELECT " JOB_COLS " FROM jobs WHERE "
	    "state = 'running' ORDER BY id", out, n_out, why);
}

enum pv_err
store_job_list_all(struct store *st, struct store_job **out, size_t *n_out,
    struct pv_why *why)
{
	return job_list(st, "SELECT " JOB_COLS " FROM jobs ORDER BY id", out,
	    n_out, why);
}

/* Loads job |id| and checks it is running. */
static enum pv_err
job_running(struct store *st, int64_t id, struct store_job *j, const char *op,
    struct pv_why *why)
{
	enum pv_err r;

	if ((r = store_job_get(st, id, j, why)) != PV_OK)
		return r;
	if (j->state != STORE_JOB_RUNNING)
		return pv_why_set(why, PV_E_STATE, "%s: job %lld is %s", op,
		    (long long)id, store_job_state_name(j->state));
	return PV_OK;
}

enum pv_err
store_job_set_state(struct store *st, int64_t id, enum store_job_state state,
    const char *detail, struct pv_why *why)
{
	struct store_job j;
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32];
	enum pv_err r;

	if ((unsigned)state > STORE_JOB_CANCELLED)
		return pv_why_set(why, PV_E_INVAL, "set job state: bad state");
	if (detail == NULL)
		detail = "";
	if (strlen(detail) >= STORE_DETAIL_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "set job state: detail "
		    "longer than %d bytes", STORE_DETAIL_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = job_running(st, id, &j, "set job state", why)) != PV_OK)
		goto out;
	if ((r = store_prepare(st, "UPDATE jobs SET state = ?1, detail = ?2, "
	    "updated_at = ?3 WHERE id = ?4", &s, "set job state", why)) !=
	    PV_OK)
		goto out;
	if (!store_bind_text(s, 1, store_job_state_name(state)) ||
	    !store_bind_text(s, 2, detail) ||
	    !store_bind_i64(s, 3, store_now(st)) || !store_bind_i64(s, 4, id)) {
		r = store_db_err(st, SQLITE_ERROR, "set job state", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "set job state", why)) != PV_OK)
		goto out;
	d = json_object_new_object();
	store_jstr(d, "state", store_job_state_name(state));
	if (detail[0] != '\0')
		store_jstr(d, "detail", detail);
	job_object(id, obj, sizeof(obj));
	r = store_audit_row(st, "job.state", obj, d, "jobs", id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
store_job_set_device(struct store *st, int64_t id, int64_t device_id,
    struct pv_why *why)
{
	struct store_job j;
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32];
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = job_running(st, id, &j, "set job device", why)) != PV_OK)
		goto out;
	if ((r = store_prepare(st, "UPDATE jobs SET device_id = ?1, "
	    "updated_at = ?2 WHERE id = ?3", &s, "set job device", why)) !=
	    PV_OK)
		goto out;
	if (!bind_id_or_null(s, 1, device_id) ||
	    !store_bind_i64(s, 2, store_now(st)) || !store_bind_i64(s, 3, id)) {
		r = store_db_err(st, SQLITE_ERROR, "set job device", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "set job device", why)) != PV_OK)
		goto out;
	d = json_object_new_object();
	store_jint(d, "device", device_id);
	job_object(id, obj, sizeof(obj));
	r = store_audit_row(st, "job.device", obj, d, "jobs", id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

static enum pv_err
job_step_row(sqlite3_stmt *s, void *elem, void *arg)
{
	struct store_job_step *js = elem;
	char state[16];

	js->job_id = *(const int64_t *)arg;
	js->seq = (unsigned)sqlite3_column_int(s, 0);
	store_col_text(s, 1, js->name, sizeof(js->name));
	store_col_text(s, 2, state, sizeof(state));
	js->state = (enum store_step_state)state_index(step_states, 3, state);
	store_col_text(s, 3, js->detail, sizeof(js->detail));
	js->updated_at = sqlite3_column_int64(s, 4);
	return PV_OK;
}

enum pv_err
store_job_steps(struct store *st, int64_t job_id, struct store_job_step **out,
    size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, "SELECT seq, name, state, detail, updated_at "
	    "FROM job_steps WHERE job_id = ?1 ORDER BY seq", &s,
	    "list job steps", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, job_id)) {
		r = store_db_err(st, SQLITE_ERROR, "list job steps", why);
		goto out;
	}
	if ((r = store_collect(st, s, sizeof(struct store_job_step),
	    job_step_row, &job_id, NULL, "list job steps", &list, n_out,
	    why)) == PV_OK)
		*out = list;
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_job_step_set(struct store *st, int64_t job_id, const char *name,
    enum store_step_state state, const char *detail, struct pv_why *why)
{
	struct store_job j;
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32];
	enum pv_err r;

	if ((unsigned)state > STORE_STEP_FAILED)
		return pv_why_set(why, PV_E_INVAL, "set job step: bad state");
	if (detail != NULL && strlen(detail) >= STORE_DETAIL_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "job %lld step %s: detail "
		    "longer than %d bytes", (long long)job_id, name,
		    STORE_DETAIL_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = job_running(st, job_id, &j, "set job step", why)) != PV_OK)
		goto out;
	/* ?3 NULL keeps the old detail. */
	if ((r = store_prepare(st, "UPDATE job_steps SET state = ?1, "
	    "detail = coalesce(?3, detail), updated_at = ?4 WHERE job_id = ?5 "
	    "AND name = ?2", &s, "set job step", why)) != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, store_step_state_name(state)) ||
	    !store_bind_text(s, 2, name) ||
	    (detail != NULL ? !store_bind_text(s, 3, detail) :
	    sqlite3_bind_null(s, 3) != SQLITE_OK) ||
	    !store_bind_i64(s, 4, store_now(st)) ||
	    !store_bind_i64(s, 5, job_id)) {
		r = store_db_err(st, SQLITE_ERROR, "set job step", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "set job step", why)) != PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_NO_RECORD, "job %lld has no step '%s'",
		    (long long)job_id, name);
		goto out;
	}
	d = json_object_new_object();
	store_jstr(d, "step", name);
	store_jstr(d, "state", store_step_state_name(state));
	if (detail != NULL && detail[0] != '\0')
		store_jstr(d, "detail", detail);
	job_object(job_id, obj, sizeof(obj));
	r = store_audit_row(st, "job.step", obj, d, "jobs", job_id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}
