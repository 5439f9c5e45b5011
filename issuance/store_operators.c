/*
 * store_operators.c: the operators who sign in to the console with their
 * own PIV card: roles, the card that identifies them, disabling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/store_int.h"

#define OPERATOR_COLS "id, name, roles, disabled, card_uuid, card_subject, " \
	"created_at, updated_at"

static const struct {
	unsigned bit;
	const char *name;
} store_roles[] = {
	{ STORE_OPERATOR_ENROLLER, "enroller" },
	{ STORE_OPERATOR_HELPDESK, "helpdesk" },
	{ STORE_OPERATOR_ADMIN, "admin" },
};
#define STORE_N_ROLES	(sizeof(store_roles) / sizeof(store_roles[0]))

void
store_operator_roles_text(unsigned roles, char *out, size_t cap)
{
	size_t i, n;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < STORE_N_ROLES; i++) {
		if (!(roles & store_roles[i].bit))
			continue;
		n = strlen(out);
		(void)snprintf(out + n, cap - n, "%s%s", n ? "," : "",
		    store_roles[i].name);
	}
}

bool
store_operator_roles_parse(const char *s, unsigned *out)
{
	const char *p = s, *end;
	unsigned roles = 0;
	size_t i, len;

	*out = 0;
	while (*p != '\0') {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 3 && memcmp(p, "all", 3) == 0) {
			roles |= STORE_OPERATOR_ALL;
		} else {
			for (i = 0; i < STORE_N_ROLES; i++)
				if (strlen(store_roles[i].name) == len &&
				    memcmp(store_roles[i].name, p, len) == 0)
					break;
			if (i == STORE_N_ROLES)
				return false;
			roles |= store_roles[i].bit;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (roles == 0)
		return false;
	*out = roles;
	return true;
}

static void
operator_from_row(sqlite3_stmt *s, struct store_operator *out)
{
	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, out->name, sizeof(out->name));
	out->roles = (unsigned)sqlite3_column_int64(s, 2) & STORE_OPERATOR_ALL;
	out->disabled = sqlite3_column_int64(s, 3) != 0;
	out->has_card = store_col_blob(s, 4, out->card_uuid, 16);
	store_col_text(s, 5, out->card_subject, sizeof(out->card_subject));
	out->created_at = sqlite3_column_int64(s, 6);
	out->updated_at = sqlite3_column_int64(s, 7);
}

/* One operator by name (|uuid| NULL) or by card. */
static enum pv_err
operator_query(struct store *st, const char *name, const uint8_t *uuid,
    struct store_operator *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, uuid != NULL ? "SELECT " OPERATOR_COLS
	    " FROM operators WHERE card_uuid = ?1" : "SELECT " OPERATOR_COLS
	    " FROM operators WHERE name = ?1", &s, "find operator", why)) !=
	    PV_OK)
		return r;
	if (!(uuid != NULL ? store_bind_blob(s, 1, uuid, 16) :
	    store_bind_text(s, 1, name))) {
		r = store_db_err(st, SQLITE_ERROR, "find operator", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find operator", "operator", why)) ==
	    PV_OK)
		operator_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_operator_get(struct store *st, const char *name,
    struct store_operator *out, struct pv_why *why)
{
	return operator_query(st, name, NULL, out, why);
}

enum pv_err
store_operator_find_card(struct store *st, const uint8_t card_uuid[16],
    struct store_operator *out, struct pv_why *why)
{
	return operator_query(st, NULL, card_uuid, out, why);
}

enum pv_err
store_operator_register(struct store *st, const char *name, unsigned roles,
    const uint8_t card_uuid[16], const char *subject, int64_t *out_id,
    struct pv_why *why)
{
	struct store_operator old;
	sqlite3_stmt *s = NULL;
	json_object *d = NULL;
	char obj[AUDIT_OBJECT_MAX], rt[64];
	int64_t id = 0, now;
	bool exists;
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if (name == NULL || name[0] == '\0' || strlen(name) >= AUDIT_ACTOR_MAX)
		return pv_why_set(why, PV_E_INVAL, "operator names are 1-%d "
		    "bytes", AUDIT_ACTOR_MAX - 1);
	if (roles == 0 || (roles & ~(unsigned)STORE_OPERATOR_ALL) != 0)
		return pv_why_set(why, PV_E_INVAL, "operator roles: 0x%x",
		    roles);
	if (subject == NULL)
		subject = "";
	if (strlen(subject) >= STORE_OPERATOR_SUBJECT_MAX)
		return pv_why_set(why, PV_E_INVAL, "operator card subject: "
		    "longer than %d bytes", STORE_OPERATOR_SUBJECT_MAX - 1);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	now = store_now(st);
	r = operator_query(st, name, NULL, &old, why);
	exists = r == PV_OK;
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = PV_OK;
	}
	if (r != PV_OK)
		goto out;
	r = store_prepare(st, exists ? "UPDATE operators SET roles = ?2, "
	    "card_uuid = ?3, card_subject = ?4, disabled = 0, updated_at = ?5 "
	    "WHERE name = ?1" : "INSERT INTO operators (name, roles, "
	    "card_uuid, card_subject, created_at, updated_at) VALUES (?1, ?2, "
	    "?3, ?4, ?5, ?5)", &s, "register operator", why);
	if (r != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, name) || !store_bind_i64(s, 2, roles) ||
	    !(card_uuid != NULL ? store_bind_blob(s, 3, card_uuid, 16) :
	    sqlite3_bind_null(s, 3) == SQLITE_OK) ||
	    !store_bind_text(s, 4, subject) || !store_bind_i64(s, 5, now)) {
		r = store_db_err(st, SQLITE_ERROR, "register operator", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "register operator", why)) != PV_OK) {
		if (r == PV_E_EXISTS) {
			pv_why_clear(why);
			r = pv_why_set(why, PV_E_EXISTS, "operator %s: another "
			    "operator signs in with this card", name);
		}
		goto out;
	}
	id = exists ? old.id : sqlite3_last_insert_rowid(st->db);
	(void)snprintf(obj, sizeof(obj), "operator:%s", name);
	store_operator_roles_text(roles, rt, sizeof(rt));
	if ((d = json_object_new_object()) != NULL) {
		store_jstr(d, "roles", rt);
		if (card_uuid != NULL)
			store_jhex(d, "card_uuid", card_uuid, 16);
		if (subject[0] != '\0')
			store_jstr(d, "card_subject", subject);
		if (exists && old.disabled)
			store_jstr(d, "enabled", "yes");
	}
	r = store_audit_row(st, exists ? "operator.update" : "operator.add",
	    obj, d, "operators", id, why);
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
store_operator_list(struct store *st, struct store_operator **out,
    size_t *n_out, struct pv_why *why)
{
	struct store_operator *v = NULL, *grow;
	sqlite3_stmt *s = NULL;
	size_t n = 0, cap = 0;
	int rc;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, "SELECT " OPERATOR_COLS " FROM operators "
	    "ORDER BY name", &s, "list operators", why)) != PV_OK)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grow = realloc(v, cap * sizeof(*v))) == NULL) {
				r = pv_why_set(why, PV_E_NOMEM, "list operators: "
				    "out of memory");
				goto out;
			}
			v = grow;
		}
		operator_from_row(s, &v[n++]);
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "list operators", why);
		goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
	r = PV_OK;
out:
	sqlite3_finalize(s);
	free(v);
	return r;
}

enum pv_err
store_operator_set_disabled(struct store *st, const char *name,
    bool disabled, struct pv_why *why)
{
	struct store_operator op;
	sqlite3_stmt *s = NULL;
	char obj[AUDIT_OBJECT_MAX];
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = operator_query(st, name, NULL, &op, why)) != PV_OK)
		goto out;
	if (op.disabled == disabled)
		goto out;
	if ((r = store_prepare(st, "UPDATE operators SET disabled = ?2, "
	    "updated_at = ?3 WHERE id = ?1", &s, "disable operator", why)) !=
	    PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, op.id) || !store_bind_i64(s, 2, disabled) ||
	    !store_bind_i64(s, 3, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "disable operator", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "disable operator", why)) != PV_OK)
		goto out;
	(void)snprintf(obj, sizeof(obj), "operator:%s", name);
	r = store_audit_row(st, disabled ? "operator.disable" :
	    "operator.enable", obj, json_object_new_object(), "operators",
	    op.id, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}
