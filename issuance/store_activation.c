/*
 * store_activation.c: the activations table (store.h); activation.c
 * builds the one-time hand-over on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "issuance/store_int.h"

static const char *const act_kinds[] = {
	[STORE_ACT_P12] = "p12",
	[STORE_ACT_MOBILECONFIG] = "mobileconfig",
	[STORE_ACT_SCEP] = "scep",
};
static const char *const act_states[] = {
	[STORE_ACT_OPEN] = "open",
	[STORE_ACT_COLLECTED] = "collected",
	[STORE_ACT_LOCKED] = "locked",
	[STORE_ACT_EXPIRED] = "expired",
	[STORE_ACT_CANCELLED] = "cancelled",
};
#define N_KINDS		(sizeof(act_kinds) / sizeof(act_kinds[0]))
#define N_STATES	(sizeof(act_states) / sizeof(act_states[0]))

const char *
store_act_kind_name(enum store_act_kind k)
{
	return (unsigned)k < N_KINDS ? act_kinds[k] : "unknown";
}

bool
store_act_kind_parse(const char *s, enum store_act_kind *out)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++)
		if (strcmp(s, act_kinds[i]) == 0) {
			*out = (enum store_act_kind)i;
			return true;
		}
	return false;
}

const char *
store_act_state_name(enum store_act_state s)
{
	return (unsigned)s < N_STATES ? act_states[s] : "unknown";
}

static bool
act_state_parse(const char *s, enum store_act_state *out)
{
	size_t i;

	for (i = 0; i < N_STATES; i++)
		if (strcmp(s, act_states[i]) == 0) {
			*out = (enum store_act_state)i;
			return true;
		}
	return false;
}

void
store_activation_cleanup(struct store_activation *a)
{
	if (a == NULL)
		return;
	if (a->payload != NULL)
		OPENSSL_clear_free(a->payload, a->payload_len);
	a->payload = NULL;
	a->payload_len = 0;
}

void
store_activation_free_list(struct store_activation *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		store_activation_cleanup(&list[i]);
	free(list);
}

#define ACT_COLS "id, public_id, derived_id, kind, code_hash, state, " \
	"attempts, max_attempts, %s, payload_name, expires_at, created_at, " \
	"updated_at"

static enum pv_err
act_from_row(sqlite3_stmt *s, struct store_activation *a, bool with_payload)
{
	char text[32];
	enum store_act_kind k = STORE_ACT_P12;
	enum store_act_state st = STORE_ACT_CANCELLED;
	const void *p;
	int n;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, a->public_id, sizeof(a->public_id));
	a->derived_id = sqlite3_column_int64(s, 2);
	store_col_text(s, 3, text, sizeof(text));
	(void)store_act_kind_parse(text, &k);
	a->kind = k;
	(void)store_col_blob(s, 4, a->code_hash, 32);
	store_col_text(s, 5, text, sizeof(text));
	(void)act_state_parse(text, &st);
	a->state = st;
	a->attempts = (unsigned)sqlite3_column_int(s, 6);
	a->max_attempts = (unsigned)sqlite3_column_int(s, 7);
	if (with_payload && sqlite3_column_type(s, 8) == SQLITE_BLOB) {
		p = sqlite3_column_blob(s, 8);
		n = sqlite3_column_bytes(s, 8);
		if (p != NULL && n > 0) {
			if ((a->payload = malloc((size_t)n)) == NULL)
				return PV_E_NOMEM;
			memcpy(a->payload, p, (size_t)n);
			a->payload_len = (size_t)n;
		}
	}
	store_col_text(s, 9, a->payload_name, sizeof(a->payload_name));
	a->expires_at = sqlite3_column_int64(s, 10);
	a->created_at = sqlite3_column_int64(s, 11);
	a->updated_at = sqlite3_column_int64(s, 12);
	return PV_OK;
}

enum pv_err
store_activation_add(struct store *st, const struct store_activation *a,
    const char *detail_json, int64_t *out_id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *j;
	char obj[AUDIT_OBJECT_MAX];
	int64_t id = 0, now = store_now(st);
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if (strlen(a->public_id) != STORE_ACT_ID_LEN ||
	    (unsigned)a->kind >= N_KINDS || a->max_attempts < 1 ||
	    a->max_attempts > 10 || a->payload_len > STORE_ACT_PAYLOAD_MAX ||
	    (a->payload == NULL) != (a->payload_len == 0))
		return pv_why_set(why, PV_E_INVAL, "add activation: bad fields");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO activations (public_id, "
	    "derived_id, kind, code_hash, state, attempts, max_attempts, "
	    "payload, payload_name, expires_at, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, 'open', 0, ?5, ?6, ?7, ?8, ?9, ?9)", &s,
	    "add activation", why)) != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, a->public_id) ||
	    !store_bind_i64(s, 2, a->derived_id) ||
	    !store_bind_text(s, 3, store_act_kind_name(a->kind)) ||
	    !store_bind_blob(s, 4, a->code_hash, 32) ||
	    !store_bind_i64(s, 5, a->max_attempts) ||
	    !(a->payload != NULL ? store_bind_blob(s, 6, a->payload,
	    a->payload_len) : sqlite3_bind_null(s, 6) == SQLITE_OK) ||
	    !store_bind_text(s, 7, a->payload_name) ||
	    !store_bind_i64(s, 8, a->expires_at) ||
	    !store_bind_i64(s, 9, now)) {
		r = store_db_err(st, SQLITE_ERROR, "add activation", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "add activation", why)) != PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	(void)snprintf(obj, sizeof(obj), "activation:%s", a->public_id);
	if ((j = store_jobj_parse(detail_json)) != NULL) {
		store_jint(j, "derived", a->derived_id);
		store_jstr(j, "kind", store_act_kind_name(a->kind));
		store_jint(j, "expires_at", a->expires_at);
	}
	r = store_audit_row(st, "activation.create", obj, j, "activations", id,
	    why);
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
act_one(struct store *st, const char *where, const void *key, size_t key_len,
    bool with_payload, struct store_activation *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	(void)snprintf(sql, sizeof(sql), "SELECT " ACT_COLS " FROM activations "
	    "WHERE %s", with_payload ? "payload" : "NULL", where);
	if ((r = store_prepare(st, sql, &s, "find activation", why)) != PV_OK)
		return r;
	if (!(key_len == 0 ? store_bind_text(s, 1, (const char *)key) :
	    store_bind_blob(s, 1, key, key_len))) {
		r = store_db_err(st, SQLITE_ERROR, "find activation", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find activation", "activation",
	    why)) == PV_OK)
		r = act_from_row(s, out, with_payload);
out:
	sqlite3_finalize(s);
	if (r != PV_OK)
		store_activation_cleanup(out);
	return r;
}

enum pv_err
store_activation_get(struct store *st, const char *public_id,
    bool with_payload, struct store_activation *out, struct pv_why *why)
{
	return act_one(st, "public_id = ?1", public_id, 0, with_payload, out,
	    why);
}

enum pv_err
store_activation_find_code(struct store *st, const uint8_t code_hash[32],
    bool with_payload, struct store_activation *out, struct pv_why *why)
{
	return act_one(st, "code_hash = ?1 AND state = 'open'", code_hash, 32,
	    with_payload, out, why);
}

enum pv_err
store_activation_update(struct store *st, const struct store_activation *a,
    const char *action, const char *detail_json, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *j;
	char obj[AUDIT_OBJECT_MAX];
	enum pv_err r;

	if ((unsigned)a->state >= N_STATES ||
	    a->payload_len > STORE_ACT_PAYLOAD_MAX ||
	    (a->payload == NULL) != (a->payload_len == 0))
		return pv_why_set(why, PV_E_INVAL, "update activation: bad "
		    "fields");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "UPDATE activations SET state = ?2, "
	    "attempts = ?3, payload = ?4, updated_at = ?5 WHERE id = ?1 AND "
	    "state = 'open'", &s, "update activation", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, a->id) ||
	    !store_bind_text(s, 2, store_act_state_name(a->state)) ||
	    !store_bind_i64(s, 3, a->attempts) ||
	    !(a->payload != NULL ? store_bind_blob(s, 4, a->payload,
	    a->payload_len) : sqlite3_bind_null(s, 4) == SQLITE_OK) ||
	    !store_bind_i64(s, 5, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "update activation", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "update activation", why)) != PV_OK)
		goto out;
	if (sqlite3_changes(st->db) != 1) {
		r = pv_why_set(why, PV_E_STATE, "activation %s is no longer "
		    "open", a->public_id);
		goto out;
	}
	(void)snprintf(obj, sizeof(obj), "activation:%s", a->public_id);
	if ((j = store_jobj_parse(detail_json)) != NULL) {
		store_jstr(j, "state", store_act_state_name(a->state));
		store_jint(j, "attempts", a->attempts);
	}
	r = store_audit_row(st, action, obj, j, "activations", a->id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

static enum pv_err
act_list(struct store *st, const char *where, int64_t key,
    struct store_activation **out, size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	struct store_activation *list = NULL, *grow;
	char sql[512];
	size_t n = 0, cap = 0;
	int rc;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	(void)snprintf(sql, sizeof(sql), "SELECT " ACT_COLS " FROM activations "
	    "WHERE %s ORDER BY id", "NULL", where);
	if ((r = store_prepare(st, sql, &s, "list activations", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, key)) {
		r = store_db_err(st, SQLITE_ERROR, "list activations", why);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			if ((grow = realloc(list, cap * sizeof(*list))) ==
			    NULL) {
				r = PV_E_NOMEM;
				goto out;
			}
			list = grow;
		}
		if ((r = act_from_row(s, &list[n], false)) != PV_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "list activations", why);
		goto out;
	}
	*out = list;
	*n_out = n;
	list = NULL;
	n = 0;
	r = PV_OK;
out:
	sqlite3_finalize(s);
	store_activation_free_list(list, n);
	return r;
}

enum pv_err
store_activation_list_derived(struct store *st, int64_t derived_id,
    struct store_activation **out, size_t *n_out, struct pv_why *why)
{
	return act_list(st, "derived_id = ?1", derived_id, out, n_out, why);
}

enum pv_err
store_activation_list_overdue(struct store *st, int64_t now,
    struct store_activation **out, size_t *n_out, struct pv_why *why)
{
	return act_list(st, "state = 'open' AND expires_at <= ?1", now, out,
	    n_out, why);
}
