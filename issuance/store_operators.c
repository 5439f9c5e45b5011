/*
 * store_operators.c: the operators who act at the station (store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/buf.h"
#include "issuance/store_int.h"

static const char *const store_roles[] = {
	[STORE_ROLE_ENROLLER] = "enroller",
	[STORE_ROLE_HELP_DESK] = "help-desk",
	[STORE_ROLE_ADMIN] = "administrator",
};

const char *
store_role_name(enum store_role r)
{
	return (unsigned)r < sizeof(store_roles) / sizeof(store_roles[0]) ?
	    store_roles[r] : "unknown";
}

bool
store_role_parse(const char *s, enum store_role *out)
{
	size_t i;

	for (i = 0; i < sizeof(store_roles) / sizeof(store_roles[0]); i++)
		if (strcmp(s, store_roles[i]) == 0) {
			*out = (enum store_role)i;
			return true;
		}
	return false;
}

#define STORE_OP_COLS "id, name, role, disabled, person_id, card_uuid, " \
	"created_at, updated_at"

static void
store_operator_row(sqlite3_stmt *s, struct store_operator *o)
{
	char role[32];

	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, o->name, sizeof(o->name));
	store_col_text(s, 2, role, sizeof(role));
	if (!store_role_parse(role, &o->role))
		o->role = STORE_ROLE_ENROLLER;	/* the CHECK allows no other */
	o->disabled = sqlite3_column_int64(s, 3) != 0;
	o->person_id = sqlite3_column_int64(s, 4);
	o->has_card_uuid = store_col_blob(s, 5, o->card_uuid, 16);
	o->created_at = sqlite3_column_int64(s, 6);
	o->updated_at = sqlite3_column_int64(s, 7);
}

static bool
store_bind_operator(sqlite3_stmt *s, const struct store_operator *o)
{
	return store_bind_text(s, 1, o->name) &&
	    store_bind_text(s, 2, store_role_name(o->role)) &&
	    store_bind_i64(s, 3, o->disabled ? 1 : 0) &&
	    (o->person_id != 0 ? store_bind_i64(s, 4, o->person_id) :
	    sqlite3_bind_null(s, 4) == SQLITE_OK) &&
	    (o->has_card_uuid ? store_bind_blob(s, 5, o->card_uuid, 16) :
	    sqlite3_bind_null(s, 5) == SQLITE_OK);
}

enum pv_err
store_operator_add(struct store *st, const struct store_operator *o,
    int64_t *out_id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[AUDIT_OBJECT_MAX];
	int64_t id = 0, now = store_now(st);
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if (o->name[0] == '\0' || strlen(o->name) >= AUDIT_ACTOR_MAX)
		return pv_why_set(why, PV_E_INVAL, "operator names are 1-%d "
		    "bytes", AUDIT_ACTOR_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO operators (name, role, "
	    "disabled, person_id, card_uuid, created_at, updated_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?6)", &s, "add operator", why)) != PV_OK)
		goto out;
	if (!store_bind_operator(s, o) || !store_bind_i64(s, 6, now)) {
		r = store_db_err(st, SQLITE_ERROR, "add operator", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "add operator", why)) != PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	(void)snprintf(obj, sizeof(obj), "operator:%s", o->name);
	if ((d = json_object_new_object()) != NULL) {
		store_jstr(d, "role", store_role_name(o->role));
		if (o->person_id != 0)
			store_jint(d, "person", o->person_id);
		if (o->has_card_uuid)
			store_jhex(d, "card_uuid", o->card_uuid, 16);
	}
	r = store_audit_row(st, "operator.add", obj, d, "operators", id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		if (r == PV_E_EXISTS) {
			pv_why_clear(why);
			r = pv_why_set(why, r, "operator '%s' (or the card "
			    "given) is already registered", o->name);
		}
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK && out_id != NULL)
		*out_id = id;
	return r;
}

static enum pv_err
store_operator_one(struct store *st, const char *sql, const void *key,
    size_t key_len, struct store_operator *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, sql, &s, "find operator", why)) != PV_OK)
		return r;
	if (!(key_len == 0 ? store_bind_text(s, 1, key) :
	    store_bind_blob(s, 1, key, key_len))) {
		r = store_db_err(st, SQLITE_ERROR, "find operator", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find operator", "operator", why)) ==
	    PV_OK)
		store_operator_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_operator_get(struct store *st, const char *name,
    struct store_operator *out, struct pv_why *why)
{
	return store_operator_one(st, "SELECT " STORE_OP_COLS " FROM operators "
	    "WHERE name = ?1", name, 0, out, why);
}

enum pv_err
store_operator_find_card(struct store *st, const uint8_t uuid[16],
    struct store_operator *out, struct pv_why *why)
{
	return store_operator_one(st, "SELECT " STORE_OP_COLS " FROM operators "
	    "WHERE card_uuid = ?1", uuid, 16, out, why);
}

static enum pv_err
operator_row(sqlite3_stmt *s, void *elem, void *arg)
{
	(void)arg;
	store_operator_row(s, elem);
	return PV_OK;
}

enum pv_err
store_operator_list(struct store *st, struct store_operator **out,
    size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	void *v = NULL;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, "SELECT " STORE_OP_COLS " FROM operators "
	    "ORDER BY name", &s, "list operators", why)) != PV_OK)
		return r;
	if ((r = store_collect(st, s, sizeof(struct store_operator),
	    operator_row, NULL, NULL, "list operators", &v, n_out, why)) ==
	    PV_OK)
		*out = v;
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_operator_set(struct store *st, const struct store_operator *o,
    const char *reason, struct pv_why *why)
{
	struct store_operator old;
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[AUDIT_OBJECT_MAX];
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_operator_get(st, o->name, &old, why)) != PV_OK)
		goto out;
	if ((r = store_prepare(st, "UPDATE operators SET role = ?2, disabled = "
	    "?3, person_id = ?4, card_uuid = ?5, updated_at = ?6 WHERE name = "
	    "?1", &s, "update operator", why)) != PV_OK)
		goto out;
	if (!store_bind_operator(s, o) ||
	    !store_bind_i64(s, 6, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "update operator", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "update operator", why)) != PV_OK)
		goto out;
	(void)snprintf(obj, sizeof(obj), "operator:%s", o->name);
	if ((d = json_object_new_object()) != NULL) {
		store_jstr(d, "role", store_role_name(o->role));
		store_jstr(d, "old_role", store_role_name(old.role));
		store_jint(d, "disabled", o->disabled);
		store_jint(d, "old_disabled", old.disabled);
		if (reason != NULL)
			store_jstr(d, "reason", reason);
	}
	r = store_audit_row(st, "operator.update", obj, d, "operators", old.id,
	    why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}
