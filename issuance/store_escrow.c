/*
 * store_escrow.c: escrow envelopes (CMS EnvelopedData to the key recovery
 * agent).  Envelopes are never deleted (a trigger refuses it); one per
 * (device, kind) is current.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "issuance/store_int.h"

static const char *const escrow_kinds[] = { "9d-key", "puk" };

const char *
store_escrow_kind_name(enum store_escrow_kind k)
{
	return (unsigned)k < 2 ? escrow_kinds[k] : "?";
}

void
store_escrow_cleanup(struct store_escrow *e)
{
	if (e == NULL)
		return;
	free(e->cms);	/* encrypted to the KRA: no need to wipe */
	e->cms = NULL;
	e->cms_len = 0;
}

void
store_escrow_free_list(struct store_escrow *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		store_escrow_cleanup(&list[i]);
	free(list);
}

#define ESCROW_COLS "id, person_id, device_id, kind, cms, fingerprint, " \
	"current, created_at"

static enum pv_err
escrow_from_row(sqlite3_stmt *s, struct store_escrow *e)
{
	char kind[16];
	int n;

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	e->person_id = sqlite3_column_int64(s, 1);
	e->device_id = sqlite3_column_int64(s, 2);
	store_col_text(s, 3, kind, sizeof(kind));
	e->kind = strcmp(kind, "puk") == 0 ? STORE_ESCROW_PUK :
	    STORE_ESCROW_KEY_9D;
	n = sqlite3_column_bytes(s, 4);
	if (n > 0) {
		if ((e->cms = malloc((size_t)n)) == NULL)
			return PV_E_NOMEM;
		memcpy(e->cms, sqlite3_column_blob(s, 4), (size_t)n);
		e->cms_len = (size_t)n;
	}
	(void)store_col_blob(s, 5, e->fingerprint, 32);
	e->current = sqlite3_column_int(s, 6) != 0;
	e->created_at = sqlite3_column_int64(s, 7);
	return PV_OK;
}

static enum pv_err
escrow_one(struct store *st, const char *sql, int64_t key,
    enum store_escrow_kind kind, struct store_escrow *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, sql, &s, "find escrow", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, key) ||
	    !store_bind_text(s, 2, store_escrow_kind_name(kind))) {
		r = store_db_err(st, SQLITE_ERROR, "find escrow", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find escrow", "current envelope",
	    why)) != PV_OK)
		goto out;
	r = escrow_from_row(s, out);
	if (r != PV_OK)
		store_escrow_cleanup(out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_escrow_current(struct store *st, int64_t device_id,
    enum store_escrow_kind kind, struct store_escrow *out, struct pv_why *why)
{
	return escrow_one(st, "SELECT " ESCROW_COLS " FROM escrow WHERE "
	    "device_id = ?1 AND kind = ?2 AND current = 1", device_id, kind,
	    out, why);
}

enum pv_err
store_escrow_current_person(struct store *st, int64_t person_id,
    enum store_escrow_kind kind, struct store_escrow *out, struct pv_why *why)
{
	return escrow_one(st, "SELECT e.id, e.person_id, e.device_id, e.kind, "
	    "e.cms, e.fingerprint, e.current, e.created_at FROM escrow e "
	    "JOIN devices d ON d.id = e.device_id WHERE e.person_id = ?1 AND "
	    "e.kind = ?2 AND e.current = 1 AND d.status <> 'terminated' "
	    "ORDER BY e.id DESC LIMIT 1", person_id, kind, out, why);
}

enum pv_err
store_escrow_add(struct store *st, const struct store_escrow *e,
    int64_t *out_id, bool *out_existed, struct pv_why *why)
{
	struct store_escrow cur;
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32], fp[65];
	int64_t id = 0, replaced = 0;
	bool existed = false;
	enum pv_err r;

	memset(&cur, 0, sizeof(cur));
	if (out_id != NULL)
		*out_id = 0;
	if (out_existed != NULL)
		*out_existed = false;
	if (e->cms == NULL || e->cms_len == 0 ||
	    e->cms_len > STORE_ESCROW_CMS_MAX ||
	    (unsigned)e->kind > STORE_ESCROW_PUK)
		return pv_why_set(why, PV_E_INVAL,
		    "add escrow: empty or oversized envelope, or bad kind");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	r = store_escrow_current(st, e->device_id, e->kind, &cur, why);
	if (r == PV_OK && CRYPTO_memcmp(cur.fingerprint, e->fingerprint,
	    32) == 0) {
		/* Same key escrowed already: a resumed job.  Keep that one. */
		if (cur.person_id != e->person_id) {
			r = pv_why_set(why, PV_E_STATE, "add escrow: the current "
			    "envelope of device %lld belongs to another person",
			    (long long)e->device_id);
			goto out;
		}
		id = cur.id;
		existed = true;
		goto out;
	}
	if (r != PV_OK && r != PV_E_NO_RECORD)
		goto out;
	pv_why_clear(why);
	if (r == PV_OK) {
		/* A different key: the old envelope stays, as history. */
		replaced = cur.id;
		if ((r = store_prepare(st, "UPDATE escrow SET current = 0 WHERE "
		    "id = ?1", &s, "add escrow", why)) != PV_OK)
			goto out;
		if (!store_bind_i64(s, 1, cur.id)) {
			r = store_db_err(st, SQLITE_ERROR, "add escrow", why);
			goto out;
		}
		if ((r = store_step_done(st, s, "add escrow", why)) != PV_OK)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	if ((r = store_prepare(st, "INSERT INTO escrow (person_id, device_id, "
	    "kind, cms, fingerprint, current, created_at) VALUES (?1, ?2, ?3, "
	    "?4, ?5, 1, ?6)", &s, "add escrow", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, e->person_id) ||
	    !store_bind_i64(s, 2, e->device_id) ||
	    !store_bind_text(s, 3, store_escrow_kind_name(e->kind)) ||
	    !store_bind_blob(s, 4, e->cms, e->cms_len) ||
	    !store_bind_blob(s, 5, e->fingerprint, 32) ||
	    !store_bind_i64(s, 6, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "add escrow", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "add escrow", why)) != PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	d = json_object_new_object();
	store_jint(d, "person", e->person_id);
	store_jint(d, "device", e->device_id);
	store_jstr(d, "kind", store_escrow_kind_name(e->kind));
	buf_hex(e->fingerprint, 32, fp);
	store_jstr(d, "fingerprint", fp);
	store_jint(d, "cms_bytes", (int64_t)e->cms_len);
	if (replaced != 0)
		store_jint(d, "replaces", replaced);
	(void)snprintf(obj, sizeof(obj), "escrow:%lld", (long long)id);
	/* The replaced envelope changed too (current = 0). */
	if ((replaced != 0 &&
	    (r = store_jrow(st, d, "escrow", replaced, why)) != PV_OK) ||
	    (r = store_jrow(st, d, "escrow", id, why)) != PV_OK) {
		json_object_put(d);
		goto out;
	}
	r = store_audit(st, "escrow.add", obj, d, why);
out:
	sqlite3_finalize(s);
	store_escrow_cleanup(&cur);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK) {
		if (out_id != NULL)
			*out_id = id;
		if (out_existed != NULL)
			*out_existed = existed;
	}
	return r;
}

static enum pv_err
escrow_row(sqlite3_stmt *s, void *elem, void *arg)
{
	enum pv_err r;

	(void)arg;
	if ((r = escrow_from_row(s, elem)) != PV_OK)
		store_escrow_cleanup(elem);
	return r;
}

static void
escrow_drop(void *list, size_t n)
{
	store_escrow_free_list(list, n);
}

enum pv_err
store_escrow_list_person(struct store *st, int64_t person_id,
    enum store_escrow_kind kind, struct store_escrow **out, size_t *n_out,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, "SELECT " ESCROW_COLS " FROM escrow WHERE "
	    "person_id = ?1 AND kind = ?2 ORDER BY id DESC", &s,
	    "list escrow", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, person_id) ||
	    !store_bind_text(s, 2, store_escrow_kind_name(kind))) {
		r = store_db_err(st, SQLITE_ERROR, "list escrow", why);
		goto out;
	}
	if ((r = store_collect(st, s, sizeof(struct store_escrow), escrow_row,
	    NULL, escrow_drop, "list escrow", &list, n_out, why)) == PV_OK)
		*out = list;
out:
	sqlite3_finalize(s);
	return r;
}
