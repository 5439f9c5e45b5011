/*
 * store_derived.c: the derived table, derived credentials linked to their
 * primary card (store.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/store_int.h"

static const char *const derived_targets[] = {
	[STORE_DERIVED_TOKEN] = "token",
	[STORE_DERIVED_P12] = "p12",
	[STORE_DERIVED_MOBILECONFIG] = "mobileconfig",
	[STORE_DERIVED_CSR] = "csr",
};
#define N_TARGETS (sizeof(derived_targets) / sizeof(derived_targets[0]))

const char *
store_derived_target_name(enum store_derived_target t)
{
	return (unsigned)t < N_TARGETS ? derived_targets[t] : "unknown";
}

bool
store_derived_target_parse(const char *s, enum store_derived_target *out)
{
	size_t i;

	for (i = 0; i < N_TARGETS; i++)
		if (strcmp(s, derived_targets[i]) == 0) {
			*out = (enum store_derived_target)i;
			return true;
		}
	return false;
}

void
store_derived_cleanup(struct store_derived *d)
{
	if (d == NULL)
		return;
	free(d->pa_pem);
	d->pa_pem = NULL;
}

void
store_derived_free_list(struct store_derived *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		store_derived_cleanup(&list[i]);
	free(list);
}

/* Columns read back, the device's status last. */
#define DERIVED_COLS "d.id, d.device_id, d.primary_id, d.person_id, " \
	"d.job_id, d.target, d.uuid, d.pa_serial, d.pa_issuer, %s, " \
	"d.primary_fascn, d.primary_uuid, d.recheck_due, d.recheck_at, " \
	"d.recheck_result, d.created_at, d.updated_at, v.status"
#define DERIVED_FROM " FROM derived d JOIN devices v ON v.id = d.device_id "

static enum pv_err
derived_from_row(sqlite3_stmt *s, struct store_derived *d, bool with_pem)
{
	char text[32];
	const unsigned char *t;
	enum store_derived_target tg = STORE_DERIVED_P12;

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, 0);
	d->device_id = sqlite3_column_int64(s, 1);
	d->primary_id = sqlite3_column_int64(s, 2);
	d->person_id = sqlite3_column_int64(s, 3);
	d->job_id = sqlite3_column_int64(s, 4);
	store_col_text(s, 5, text, sizeof(text));
	(void)store_derived_target_parse(text, &tg);
	d->target = tg;
	(void)store_col_blob(s, 6, d->uuid, 16);
	store_col_text(s, 7, d->pa_serial, sizeof(d->pa_serial));
	store_col_text(s, 8, d->pa_issuer, sizeof(d->pa_issuer));
	if (with_pem) {
		t = sqlite3_column_text(s, 9);
		if ((d->pa_pem = strdup(t ? (const char *)t : "")) == NULL)
			return PV_E_NOMEM;
	}
	d->has_primary_fascn = store_col_blob(s, 10, d->primary_fascn, 25);
	d->has_primary_uuid = store_col_blob(s, 11, d->primary_uuid, 16);
	d->recheck_due = sqlite3_column_int64(s, 12);
	d->recheck_at = sqlite3_column_int64(s, 13);
	store_col_text(s, 14, d->recheck_result, sizeof(d->recheck_result));
	d->created_at = sqlite3_column_int64(s, 15);
	d->updated_at = sqlite3_column_int64(s, 16);
	store_col_text(s, 17, text, sizeof(text));
	d->status = STORE_DEV_ISSUING;
	if (strcmp(text, "active") == 0)
		d->status = STORE_DEV_ACTIVE;
	else if (strcmp(text, "suspended") == 0)
		d->status = STORE_DEV_SUSPENDED;
	else if (strcmp(text, "terminated") == 0)
		d->status = STORE_DEV_TERMINATED;
	return PV_OK;
}

static bool
derived_serial_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= STORE_CERT_SERIAL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return false;
	return true;
}

enum pv_err
store_derived_add(struct store *st, const struct store_derived *d,
    int64_t *out_id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *j;
	char obj[64];
	int64_t id = 0, now = store_now(st);
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if (d->pa_pem == NULL || d->pa_pem[0] == '\0' ||
	    strlen(d->pa_pem) > STORE_PEM_MAX || !derived_serial_ok(d->pa_serial))
		return pv_why_set(why, PV_E_INVAL, "add derived credential: "
		    "the primary's certificate (PEM, lowercase hex serial) is "
		    "required");
	if ((unsigned)d->target >= N_TARGETS)
		return pv_why_set(why, PV_E_INVAL, "add derived credential: "
		    "unknown target");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO derived (device_id, primary_id, "
	    "person_id, job_id, target, uuid, pa_serial, pa_issuer, pa_pem, "
	    "primary_fascn, primary_uuid, recheck_due, recheck_at, "
	    "recheck_result, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 0, '', ?13, ?13)", &s,
	    "add derived credential", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, d->device_id) ||
	    !store_bind_i64(s, 2, d->primary_id) ||
	    !store_bind_i64(s, 3, d->person_id) ||
	    !(d->job_id != 0 ? store_bind_i64(s, 4, d->job_id) :
	    sqlite3_bind_null(s, 4) == SQLITE_OK) ||
	    !store_bind_text(s, 5, store_derived_target_name(d->target)) ||
	    !store_bind_blob(s, 6, d->uuid, 16) ||
	    !store_bind_text(s, 7, d->pa_serial) ||
	    !store_bind_text(s, 8, d->pa_issuer) ||
	    !store_bind_text(s, 9, d->pa_pem) ||
	    !(d->has_primary_fascn ? store_bind_blob(s, 10, d->primary_fascn,
	    25) : sqlite3_bind_null(s, 10) == SQLITE_OK) ||
	    !(d->has_primary_uuid ? store_bind_blob(s, 11, d->primary_uuid,
	    16) : sqlite3_bind_null(s, 11) == SQLITE_OK) ||
	    !store_bind_i64(s, 12, d->recheck_due) ||
	    !store_bind_i64(s, 13, now)) {
		r = store_db_err(st, SQLITE_ERROR, "add derived credential", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "add derived credential", why)) !=
	    PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	(void)snprintf(obj, sizeof(obj), "derived:%lld", (long long)id);
	if ((j = json_object_new_object()) != NULL) {
		store_jint(j, "device", d->device_id);
		store_jint(j, "primary", d->primary_id);
		store_jint(j, "person", d->person_id);
		store_jstr(j, "target", store_derived_target_name(d->target));
		store_jstr(j, "primary_auth_serial", d->pa_serial);
		if (d->job_id != 0)
			store_jint(j, "job", d->job_id);
	}
	r = store_audit_row(st, "derived.add", obj, j, "derived", id, why);
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

static enum pv_err
derived_one(struct store *st, const char *where, int64_t key,
    struct store_derived *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char sql[768];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	(void)snprintf(sql, sizeof(sql), "SELECT " DERIVED_COLS DERIVED_FROM
	    "WHERE %s = ?1", "d.pa_pem", where);
	if ((r = store_prepare(st, sql, &s, "find derived credential", why)) !=
	    PV_OK)
		return r;
	if (!store_bind_i64(s, 1, key)) {
		r = store_db_err(st, SQLITE_ERROR, "find derived credential",
		    why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find derived credential",
	    "derived credential", why)) == PV_OK)
		r = derived_from_row(s, out, true);
out:
	sqlite3_finalize(s);
	if (r != PV_OK)
		store_derived_cleanup(out);
	return r;
}

enum pv_err
store_derived_get(struct store *st, int64_t id, struct store_derived *out,
    struct pv_why *why)
{
	return derived_one(st, "d.id", id, out, why);
}

enum pv_err
store_derived_find_device(struct store *st, int64_t device_id,
    struct store_derived *out, struct pv_why *why)
{
	return derived_one(st, "d.device_id", device_id, out, why);
}

enum pv_err
store_derived_find_job(struct store *st, int64_t job_id,
    struct store_derived *out, struct pv_why *why)
{
	return derived_one(st, "d.job_id", job_id, out, why);
}

/* Runs |sql| (?1..?4 bound to a, b, c, lim when their flags say) and
 * collects the rows. */
static enum pv_err
derived_list(struct store *st, const char *sql, int nbind, const int64_t *v,
    bool with_pem, struct store_derived **out, size_t *n_out,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	struct store_derived *list = NULL, *grow;
	size_t n = 0, cap = 0;
	int i, rc;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, sql, &s, "list derived credentials", why)) !=
	    PV_OK)
		return r;
	for (i = 0; i < nbind; i++)
		if (!store_bind_i64(s, i + 1, v[i])) {
			r = store_db_err(st, SQLITE_ERROR,
			    "list derived credentials", why);
			goto out;
		}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grow = realloc(list, cap * sizeof(*list))) ==
			    NULL) {
				r = PV_E_NOMEM;
				goto out;
			}
			list = grow;
		}
		if ((r = derived_from_row(s, &list[n], with_pem)) != PV_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "list derived credentials", why);
		goto out;
	}
	*out = list;
	*n_out = n;
	list = NULL;
	n = 0;
	r = PV_OK;
out:
	sqlite3_finalize(s);
	store_derived_free_list(list, n);
	return r;
}

enum pv_err
store_derived_list_primary(struct store *st, int64_t primary_id,
    struct store_derived **out, size_t *n_out, struct pv_why *why)
{
	char sql[768];

	(void)snprintf(sql, sizeof(sql), "SELECT " DERIVED_COLS DERIVED_FROM
	    "WHERE d.primary_id = ?1 ORDER BY d.id", "NULL");
	return derived_list(st, sql, 1, &primary_id, false, out, n_out, why);
}

enum pv_err
store_derived_list_person(struct store *st, int64_t person_id,
    struct store_derived **out, size_t *n_out, struct pv_why *why)
{
	char sql[768];

	(void)snprintf(sql, sizeof(sql), "SELECT " DERIVED_COLS DERIVED_FROM
	    "WHERE d.person_id = ?1 ORDER BY d.id", "NULL");
	return derived_list(st, sql, 1, &person_id, false, out, n_out, why);
}

enum pv_err
store_derived_list_due(struct store *st, int64_t now, bool all,
    int64_t after_id, size_t limit, struct store_derived **out,
    size_t *n_out, struct pv_why *why)
{
	char sql[900];
	int64_t v[3];

	v[0] = now;
	v[1] = after_id;
	v[2] = limit > 1000000 ? 1000000 : (int64_t)limit;
	(void)snprintf(sql, sizeof(sql), "SELECT " DERIVED_COLS DERIVED_FROM
	    "WHERE v.status <> 'terminated' AND d.id > ?2 AND %s "
	    "ORDER BY d.id LIMIT ?3", "d.pa_pem", all ? "?1 = ?1" :
	    "d.recheck_due BETWEEN 1 AND ?1");
	return derived_list(st, sql, 3, v, true, out, n_out, why);
}

/* Audits the change of row |id| as |action| with |detail_json| merged
 * into the detail. */
static enum pv_err
derived_audit(struct store *st, const char *action, int64_t id,
    const char *detail_json, struct pv_why *why)
{
	json_object *j;
	char obj[64];

	(void)snprintf(obj, sizeof(obj), "derived:%lld", (long long)id);
	j = store_jobj_parse(detail_json);
	return store_audit_row(st, action, obj, j, "derived", id, why);
}

enum pv_err
store_derived_set_recheck(struct store *st, int64_t id, int64_t at,
    const char *result, int64_t due, const char *detail_json,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	if (result == NULL || strlen(result) >= STORE_RECHECK_RESULT_MAX)
		return pv_why_set(why, PV_E_INVAL, "re-check result too long");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "UPDATE derived SET recheck_at = ?2, "
	    "recheck_result = ?3, recheck_due = ?4, updated_at = ?5 "
	    "WHERE id = ?1", &s, "record re-check", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, id) || !store_bind_i64(s, 2, at) ||
	    !store_bind_text(s, 3, result) || !store_bind_i64(s, 4, due) ||
	    !store_bind_i64(s, 5, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "record re-check", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "record re-check", why)) != PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_NO_RECORD, "record re-check: derived "
		    "credential %lld not found", (long long)id);
		goto out;
	}
	r = derived_audit(st, "derived.recheck", id, detail_json, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
store_derived_relink(struct store *st, int64_t id, int64_t primary_id,
    const char *pa_serial, const char *pa_issuer, const char *pa_pem,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *j;
	char obj[64];
	enum pv_err r;

	if (pa_pem == NULL || pa_pem[0] == '\0' || pa_issuer == NULL ||
	    pa_serial == NULL || !derived_serial_ok(pa_serial))
		return pv_why_set(why, PV_E_INVAL, "relink derived credential: "
		    "the primary's certificate is required");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "UPDATE derived SET primary_id = ?2, "
	    "pa_serial = ?3, pa_issuer = ?4, pa_pem = ?5, updated_at = ?6 "
	    "WHERE id = ?1", &s, "relink derived credential", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, id) || !store_bind_i64(s, 2, primary_id) ||
	    !store_bind_text(s, 3, pa_serial) ||
	    !store_bind_text(s, 4, pa_issuer) ||
	    !store_bind_text(s, 5, pa_pem) ||
	    !store_bind_i64(s, 6, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "relink derived credential",
		    why);
		goto out;
	}
	if ((r = store_step_done(st, s, "relink derived credential", why)) !=
	    PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_NO_RECORD, "relink: derived "
		    "credential %lld not found", (long long)id);
		goto out;
	}
	(void)snprintf(obj, sizeof(obj), "derived:%lld", (long long)id);
	if ((j = json_object_new_object()) != NULL) {
		store_jint(j, "primary", primary_id);
		store_jstr(j, "primary_auth_serial", pa_serial);
	}
	r = store_audit_row(st, "derived.relink", obj, j, "derived", id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}
