/*
 * store_people.c: the people table.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "issuance/store_int.h"

#define PERSON_COLS "id, person_id, given_name, middle_name, family_name, " \
	"affiliation, email, upn, organization, org_affiliation_1, " \
	"org_affiliation_2, agency_card_serial, created_at, updated_at"

static void
person_from_row(sqlite3_stmt *s, struct store_person *out)
{
	struct identity *id = &out->ident;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	store_col_text(s, 1, id->person_id, sizeof(id->person_id));
	store_col_text(s, 2, id->given_name, sizeof(id->given_name));
	store_col_text(s, 3, id->middle_name, sizeof(id->middle_name));
	store_col_text(s, 4, id->family_name, sizeof(id->family_name));
	store_col_text(s, 5, id->affiliation, sizeof(id->affiliation));
	store_col_text(s, 6, id->email, sizeof(id->email));
	store_col_text(s, 7, id->upn, sizeof(id->upn));
	store_col_text(s, 8, id->organization, sizeof(id->organization));
	store_col_text(s, 9, id->org_affiliation_1,
	    sizeof(id->org_affiliation_1));
	store_col_text(s, 10, id->org_affiliation_2,
	    sizeof(id->org_affiliation_2));
	store_col_text(s, 11, id->agency_card_serial,
	    sizeof(id->agency_card_serial));
	out->created_at = sqlite3_column_int64(s, 12);
	out->updated_at = sqlite3_column_int64(s, 13);
}

static enum pv_err
person_query(struct store *st, const char *sql, const char *key, int64_t id,
    struct store_person *out, const char *op, const char *what,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, sql, &s, op, why)) != PV_OK)
		return r;
	if (!(key != NULL ? store_bind_text(s, 1, key) :
	    store_bind_i64(s, 1, id))) {
		r = store_db_err(st, SQLITE_ERROR, op, why);
		goto out;
	}
	if ((r = store_step_row(st, s, op, what, why)) != PV_OK)
		goto out;
	person_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_person_get(struct store *st, int64_t id, struct store_person *out,
    struct pv_why *why)
{
	return person_query(st, "SELECT " PERSON_COLS " FROM people WHERE "
	    "id = ?1", NULL, id, out, "find person", "person", why);
}

enum pv_err
store_person_find_external(struct store *st, const char *person_id,
    struct store_person *out, struct pv_why *why)
{
	return person_query(st, "SELECT " PERSON_COLS " FROM people WHERE "
	    "person_id = ?1", person_id, 0, out, "find person",
	    "person with this person_id", why);
}

enum pv_err
store_person_find_email(struct store *st, const char *email,
    struct store_person *out, struct pv_why *why)
{
	return person_query(st, "SELECT " PERSON_COLS " FROM people WHERE "
	    "email = ?1 AND email <> ''", email, 0, out, "find person",
	    "person with this email", why);
}

/* Binds the identity fields to parameters 1-11 in PERSON_COLS order. */
static bool
person_bind(sqlite3_stmt *s, const struct identity *id)
{
	return store_bind_text(s, 1, id->person_id) &&
	    store_bind_text(s, 2, id->given_name) &&
	    store_bind_text(s, 3, id->middle_name) &&
	    store_bind_text(s, 4, id->family_name) &&
	    store_bind_text(s, 5, id->affiliation) &&
	    store_bind_text(s, 6, id->email) &&
	    store_bind_text(s, 7, id->upn) &&
	    store_bind_text(s, 8, id->organization) &&
	    store_bind_text(s, 9, id->org_affiliation_1) &&
	    store_bind_text(s, 10, id->org_affiliation_2) &&
	    store_bind_text(s, 11, id->agency_card_serial);
}

/*
 * An email address names one person (people_email), and so does a user
 * principal name (the account a smart card logon maps a certificate to):
 * say whose it is rather than let the UNIQUE index fail with SQLite's
 * words.  Both compare without case, as mail systems and directories do;
 * the check runs inside store_person_put's write transaction, so two
 * writers cannot both pass it.
 */
static enum pv_err
person_name_free(struct store *st, const char *what, const char *value,
    int64_t self, struct pv_why *why)
{
	char other[32], sql[128];
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	if (value[0] == '\0')
		return PV_OK;
	(void)snprintf(sql, sizeof(sql), "SELECT person_id FROM people WHERE "
	    "%s = ?1 COLLATE NOCASE AND id <> ?2", what);
	if ((r = store_prepare(st, sql, &s, "check unique details", why)) !=
	    PV_OK)
		return r;
	if (!store_bind_text(s, 1, value) || !store_bind_i64(s, 2, self)) {
		r = store_db_err(st, SQLITE_ERROR, "check unique details", why);
		goto out;
	}
	r = store_step_row(st, s, "check unique details", "person", why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = PV_OK;
		goto out;
	}
	if (r != PV_OK)
		goto out;
	store_col_text(s, 0, other, sizeof(other));
	r = pv_why_set(why, PV_E_EXISTS, "%s: %s already belongs to person %s "
	    "in the store", what, value, other);
out:
	sqlite3_finalize(s);
	return r;
}

static enum pv_err
person_email_free(struct store *st, const struct identity *ident,
    int64_t self, struct pv_why *why)
{
	enum pv_err r;

	if ((r = person_name_free(st, "email", ident->email, self, why)) !=
	    PV_OK)
		return r;
	return person_name_free(st, "upn", ident->upn, self, why);
}

/* The fields of a person, for messages and the audit log. */
static const struct person_field {
	const char *name;
	size_t off;
} person_fields[] = {
#define PF(f)	{ #f, offsetof(struct identity, f) }
	PF(given_name), PF(middle_name), PF(family_name), PF(affiliation),
	PF(email), PF(upn), PF(organization), PF(org_affiliation_1),
	PF(org_affiliation_2), PF(agency_card_serial)
#undef PF
};
#define PERSON_N_FIELDS	(sizeof(person_fields) / sizeof(person_fields[0]))

static const char *
person_field(const struct identity *id, size_t i)
{
	return (const char *)id + person_fields[i].off;
}

/* Field by field: bytes after a field's NUL do not count. */
unsigned
store_person_diff(const struct identity *a, const struct identity *b,
    char *out, size_t cap)
{
	size_t i, len = 0;
	unsigned n = 0;
	int k;

	if (cap > 0)
		out[0] = '\0';
	for (i = 0; i < PERSON_N_FIELDS; i++) {
		if (strcmp(person_field(a, i), person_field(b, i)) == 0)
			continue;
		if (len < cap) {
			k = snprintf(out + len, cap - len, "%s%s",
			    n > 0 ? ", " : "", person_fields[i].name);
			len = k < 0 ? cap : len + (size_t)k;
		}
		n++;
	}
	return n;
}

/*
 * The same person id with other details: another person, or a change
 * nobody asked for.  Each differing field is named with both values,
 * after the hint, so that a long list cut short still says what to do.
 */
static enum pv_err
person_refuse_diff(const struct identity *old, const struct identity *ident,
    struct pv_why *why)
{
	char diff[sizeof(why->msg)];
	size_t i, o = 0;
	int k;

	diff[0] = '\0';
	for (i = 0; i < PERSON_N_FIELDS; i++) {
		if (strcmp(person_field(old, i), person_field(ident, i)) == 0)
			continue;
		k = snprintf(diff + o, sizeof(diff) - o, "%s%s '%s', given "
		    "'%s'", o ? "; " : "", person_fields[i].name,
		    person_field(old, i), person_field(ident, i));
		if (k < 0 || (size_t)k >= sizeof(diff) - o)
			break;
		o += (size_t)k;
	}
	return pv_why_set(why, PV_E_INPUT, "person %s is in the store with "
	    "other details, nothing was changed (the same person? then "
	    "--update-person): %s", ident->person_id, diff);
}

/* Each changed field with its old and new value, for person.update. */
static void
person_jdiff(json_object *d, const struct identity *old,
    const struct identity *ident)
{
	json_object *ch = json_object_new_object(), *f;
	size_t i;

	for (i = 0; ch != NULL && i < PERSON_N_FIELDS; i++) {
		if (strcmp(person_field(old, i), person_field(ident, i)) == 0)
			continue;
		if ((f = json_object_new_object()) == NULL)
			break;
		store_jstr(f, "from", person_field(old, i));
		store_jstr(f, "to", person_field(ident, i));
		(void)json_object_object_add(ch, person_fields[i].name, f);
	}
	if (ch != NULL)
		(void)json_object_object_add(d, "changed", ch);
}

enum pv_err
store_person_put(struct store *st, const struct identity *ident,
    enum store_person_mode mode, int64_t *out_id, struct pv_why *why)
{
	struct store_person old;
	sqlite3_stmt *s = NULL;
	json_object *d = NULL;
	char obj[32];
	int64_t id = 0, now = store_now(st);
	bool update;
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	r = store_person_find_external(st, ident->person_id, &old, why);
	if (r != PV_OK && r != PV_E_NO_RECORD)
		goto out;
	update = r == PV_OK;
	pv_why_clear(why);
	if (update && store_person_diff(&old.ident, ident, NULL, 0) == 0) {
		id = old.id;	/* nothing changed: no row, no audit */
		r = PV_OK;
		goto out;
	}
	if (update && mode != STORE_PERSON_UPDATE) {
		r = person_refuse_diff(&old.ident, ident, why);
		goto out;
	}
	if ((r = person_email_free(st, ident, update ? old.id : 0, why)) !=
	    PV_OK)
		goto out;
	if (update)
		r = store_prepare(st, "UPDATE people SET person_id = ?1, "
		    "given_name = ?2, middle_name = ?3, family_name = ?4, "
		    "affiliation = ?5, email = ?6, upn = ?7, organization = ?8, "
		    "org_affiliation_1 = ?9, org_affiliation_2 = ?10, "
		    "agency_card_serial = ?11, updated_at = ?12 WHERE id = ?13",
		    &s, "update person", why);
	else
		r = store_prepare(st, "INSERT INTO people (person_id, "
		    "given_name, middle_name, family_name, affiliation, email, "
		    "upn, organization, org_affiliation_1, org_affiliation_2, "
		    "agency_card_serial, updated_at, created_at) VALUES (?1, ?2, "
		    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)", &s,
		    "add person", why);
	if (r != PV_OK)
		goto out;
	if (!person_bind(s, ident) || !store_bind_i64(s, 12, now) ||
	    (update && !store_bind_i64(s, 13, old.id))) {
		r = store_db_err(st, SQLITE_ERROR, "add person", why);
		goto out;
	}
	if ((r = store_step_done(st, s, update ? "update person" :
	    "add person", why)) != PV_OK)
		goto out;
	id = update ? old.id : sqlite3_last_insert_rowid(st->db);
	/* The audit row names the person but holds no more personal data
	 * than the people table itself. */
	d = json_object_new_object();
	store_jstr(d, "person_id", ident->person_id);
	store_jstr(d, "name", ident->family_name);
	if (update)
		person_jdiff(d, &old.ident, ident);
	(void)snprintf(obj, sizeof(obj), "person:%lld", (long long)id);
	r = store_audit_row(st, update ? "person.update" : "person.add", obj,
	    d, "people", id, why);
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
