/*
 * store_audit.c: the audit log's storage in SQLite: appending rows with
 * the head in the same transaction, reading them back, and the digests of
 * the rows the log vouches for (audit.h explains the design; the
 * arithmetic is audit_chain.c's).  The only file of the log with SQL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "issuance/audit_chain.h"
#include "issuance/store_int.h"

/* ---- the head and appending -------------------------------------------------------- */

enum pv_err
store_audit_head(struct store *st, struct store_audit_head *out,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, "SELECT count, hash, mac, tx_start FROM "
	    "audit_head WHERE id = 1", &s, "read the audit head", why)) !=
	    PV_OK)
		return r;
	if ((r = store_step_row(st, s, "read the audit head", "head row",
	    why)) != PV_OK)
		goto out;
	out->count = sqlite3_column_int64(s, 0);
	if (!store_col_blob(s, 1, out->hash, 32)) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head: bad hash");
		goto out;
	}
	out->has_mac = store_col_blob(s, 2, out->mac, 32);
	out->tx_start = sqlite3_column_int64(s, 3);
	r = PV_OK;
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_audit_append_locked(struct store *st, const char *action,
    const char *object, const char *detail, struct pv_why *why)
{
	struct store_audit_head head;
	sqlite3_stmt *s = NULL;
	uint8_t hash[32], mac[32];
	int64_t seq, now = store_now(st);
	enum pv_err r;

	if (strlen(action) >= AUDIT_ACTION_MAX ||
	    strlen(object) >= AUDIT_OBJECT_MAX ||
	    strlen(detail) >= AUDIT_DETAIL_MAX)
		return pv_why_set(why, PV_E_INVAL,
		    "audit %s: action, object or detail too long", action);
	if ((r = store_audit_head(st, &head, why)) != PV_OK)
		return r;
	/* The first row of this transaction: where a head file that missed
	 * the transaction (a crash after its commit) may stand. */
	if (!st->tx_appended) {
		st->tx_appended = true;
		st->tx_appended_depth = st->depth;
		head.tx_start = head.count;
	}
	seq = head.count + 1;
	if ((r = audit_row_hash(head.hash, seq, now, st->actor, action, object,
	    detail, hash)) != PV_OK)
		return pv_why_set(why, r, "audit: hashing failed");
	if ((r = store_prepare(st, "INSERT INTO audit (seq, time, actor, "
	    "action, object, detail, prev_hash, hash) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &s, "append to the audit log",
	    why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, seq) || !store_bind_i64(s, 2, now) ||
	    !store_bind_text(s, 3, st->actor) ||
	    !store_bind_text(s, 4, action) || !store_bind_text(s, 5, object) ||
	    !store_bind_text(s, 6, detail) ||
	    !store_bind_blob(s, 7, head.hash, 32) ||
	    !store_bind_blob(s, 8, hash, 32)) {
		r = store_db_err(st, SQLITE_ERROR, "append to the audit log",
		    why);
		goto out;
	}
	if ((r = store_step_done(st, s, "append to the audit log", why)) !=
	    PV_OK)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (st->has_key &&
	    (r = audit_head_mac(st->audit_key, seq, hash, mac)) != PV_OK) {
		r = pv_why_set(why, r, "audit: MAC failed");
		goto out;
	}
	if ((r = store_prepare(st, "UPDATE audit_head SET count = ?1, "
	    "hash = ?2, mac = ?3, tx_start = ?4 WHERE id = 1", &s,
	    "update the audit head", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, seq) || !store_bind_blob(s, 2, hash, 32) ||
	    (st->has_key ? !store_bind_blob(s, 3, mac, 32) :
	    sqlite3_bind_null(s, 3) != SQLITE_OK) ||
	    !store_bind_i64(s, 4, head.tx_start)) {
		r = store_db_err(st, SQLITE_ERROR, "update the audit head", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "update the audit head", why)) != PV_OK)
		goto out;
	st->head_dirty = true;
	r = PV_OK;
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_audit_append(struct store *st, const char *action, const char *object,
    const char *detail_json, struct pv_why *why)
{
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	r = store_audit_append_locked(st, action, object,
	    detail_json ? detail_json : "{}", why);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

/*
 * The head file's row |cur| must be in the log with its hash: another
 * writer's newer head has its row committed before the file is written;
 * a head the log lacks, or has with another hash, is a store put back
 * (an older copy) and written to since.
 */
static enum pv_err
store_head_file_check(void *ctx, const struct audit_head *cur,
    struct pv_why *why)
{
	struct store *st = ctx;
	sqlite3_stmt *s = NULL;
	uint8_t hash[32];
	bool same = false;
	enum pv_err r;

	if ((r = store_prepare(st, "SELECT hash FROM audit WHERE seq = ?1", &s,
	    "read an audit row", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, cur->count)) {
		r = store_db_err(st, SQLITE_ERROR, "read an audit row", why);
		goto out;
	}
	r = store_step_row(st, s, "read an audit row", "audit row", why);
	if (r == PV_OK)
		same = store_col_blob(s, 0, hash, 32) &&
		    CRYPTO_memcmp(hash, cur->hash, 32) == 0;
	else if (r == PV_E_NO_RECORD)
		pv_why_clear(why);
	else
		goto out;
	r = same ? PV_OK : pv_why_set(why, PV_E_VERIFY, "the head file %s "
	    "records audit row %lld, which the log %s: the store was rolled "
	    "back (an older copy put back) and written to since; the head "
	    "file is kept as evidence, run 'pivstation audit verify'",
	    st->head_path, (long long)cur->count, r == PV_OK ? "holds with "
	    "another hash" : "does not hold");
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_audit_before_commit(struct store *st, struct pv_why *why)
{
	struct store_audit_head sh;
	struct stat sb;
	char detail[64];
	enum pv_err r;

	st->head_missing = 0;
	if (!st->has_key || st->head_path[0] == '\0' ||
	    lstat(st->head_path, &sb) == 0 || errno != ENOENT)
		return PV_OK;
	if ((r = store_audit_head(st, &sh, why)) != PV_OK)
		return r;
	if (sh.tx_start == 0)
		return PV_OK;	/* the log's first transaction */
	(void)snprintf(detail, sizeof(detail), "{\"rows_before\":%lld}",
	    (long long)sh.tx_start);
	if ((r = store_audit_append_locked(st, "audit.head_missing",
	    "audit:head", detail, why)) != PV_OK)
		return r;
	st->head_missing = sh.tx_start;
	return PV_OK;
}

/*
 * After a commit that added rows: the head file and the anchor follow the
 * store.  A failure is kept for store_audit_files_status: the commit
 * stands, but the command must not end as if all were well.
 */
void
store_audit_files_after_commit(struct store *st)
{
	struct store_audit_head sh;
	struct audit_head h;
	struct pv_why why = { "" };
	enum pv_err r;

	if (!st->has_key || (st->head_path[0] == '\0' &&
	    st->anchor_path[0] == '\0'))
		return;
	r = store_audit_head(st, &sh, &why);
	if (r == PV_OK && !sh.has_mac)
		r = pv_why_set(&why, PV_E_VERIFY, "the audit head has no MAC");
	if (r == PV_OK) {
		h.count = sh.count;
		memcpy(h.hash, sh.hash, 32);
		memcpy(h.mac, sh.mac, 32);
		if (st->head_path[0] != '\0')
			r = audit_head_file_update(st->head_path, &h,
			    st->audit_key, store_head_file_check, st, &why);
		if (r == PV_OK && st->anchor_path[0] != '\0')
			r = audit_anchor_append(st->anchor_path, &h,
			    store_now(st), &why);
	}
	if (r == PV_OK && st->head_missing > 0)
		r = pv_why_set(&why, PV_E_VERIFY, "the head file %s was missing "
		    "and the log had %lld rows before this change: a store put "
		    "back without its head file cannot be told from a "
		    "rolled-back one; recorded in the log (audit.head_missing), "
		    "the head file written again", st->head_path,
		    (long long)st->head_missing);
	st->head_missing = 0;
	if (r != PV_OK && st->files_err == PV_OK) {
		st->files_err = r;
		(void)snprintf(st->files_why, sizeof(st->files_why), "%s",
		    why.msg[0] ? why.msg : pv_strerror(r));
	}
}

enum pv_err
store_audit_files_status(const struct store *st, struct pv_why *why)
{
	if (st->files_err == PV_OK)
		return PV_OK;
	return pv_why_set(why, st->files_err, "the store is committed, but "
	    "the audit log's head could not be recorded outside it: %s",
	    st->files_why);
}

const uint8_t *
store_audit_key(const struct store *st)
{
	return st->has_key ? st->audit_key : NULL;
}

const char *
store_head_path(const struct store *st)
{
	return st->head_path;
}

const char *
store_anchor_path(const struct store *st)
{
	return st->anchor_path;
}

enum pv_err
store_snapshot_begin(struct store *st, bool *began, struct pv_why *why)
{
	*began = false;
	if (st->depth > 0)
		return PV_OK;	/* inside a transaction: its view */
	if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_db_err(st, sqlite3_extended_errcode(st->db),
		    "read snapshot", why);
	*began = true;
	return PV_OK;
}

void
store_snapshot_end(struct store *st, bool began)
{
	if (began)
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

enum pv_err
store_audit_rows(struct store *st, int64_t since, store_audit_row_fn *fn,
    void *ctx, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	struct audit_row row;
	enum pv_err r;
	int rc;

	if ((r = store_prepare(st, "SELECT seq, time, actor, action, object, "
	    "detail, prev_hash, hash FROM audit WHERE seq > ?1 ORDER BY seq",
	    &s, "read the audit log", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, since)) {
		r = store_db_err(st, SQLITE_ERROR, "read the audit log", why);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.seq = sqlite3_column_int64(s, 0);
		row.time = sqlite3_column_int64(s, 1);
		store_col_text(s, 2, row.actor, sizeof(row.actor));
		store_col_text(s, 3, row.action, sizeof(row.action));
		store_col_text(s, 4, row.object, sizeof(row.object));
		row.detail = (const char *)sqlite3_column_text(s, 5);
		if (row.detail == NULL)
			row.detail = "";
		row.prev_ok = store_col_blob(s, 6, row.prev_hash, 32);
		row.hash_ok = store_col_blob(s, 7, row.hash, 32);
		if ((r = fn(ctx, &row)) != PV_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "read the audit log", why);
		goto out;
	}
	r = PV_OK;
out:
	sqlite3_finalize(s);
	return r;
}

/* ---- rows the log vouches for ------------------------------------------------------ */

/*
 * The tables whose rows the log vouches for, each with its columns in the
 * fixed order of the row digest and an SQL expression naming a row the
 * way audit objects do.
 */
static const struct store_bound {
	const char *table;
	const char *cols;
	const char *name;
	const char *child;	/* rows that belong to this one (?1 = its id),
				 * digested after it in this order; NULL: none */
} store_bound[] = {
	{ "certificates", "id, device_id, slot, serial, pem, spki_sha256, "
	    "not_before, not_after, status, revoked_at, reason, created_at",
	    "'cert:' || serial", NULL },
	{ "escrow", "id, person_id, device_id, kind, cms, fingerprint, "
	    "current, created_at", "'escrow:' || id", NULL },
	{ "devices", "id, person_id, type, atr, serial, guid, fascn, status, "
	    "key_9d_escrowed, expires_at, issued_at, created_at, updated_at",
	    "'device:' || id", NULL },
	{ "people", "id, person_id, given_name, middle_name, family_name, "
	    "affiliation, email, upn, organization, org_affiliation_1, "
	    "org_affiliation_2, agency_card_serial, created_at, updated_at",
	    "'person:' || id", NULL },
	/*
	 * A job with its steps: the steps are digested after the job's
	 * columns, each column framed like the job's, so every change to
	 * either records the job's digest and no step can hide in another.
	 */
	{ "jobs", "id, kind, person_id, reader, device_id, state, detail, "
	    "created_at, updated_at", "'job:' || id",
	    "SELECT seq, name, state, detail, updated_at FROM job_steps "
	    "WHERE job_id = ?1 ORDER BY seq" },
	{ "operators", "id, name, disabled, created_at, role, person_id, "
	    "card_uuid, updated_at", "'operator:' || name", NULL },
	{ "credential_numbers", "id, agency_code, system_code, number, "
	    "job_id, allocated_at", "'credno:' || agency_code || '-' || "
	    "system_code || '-' || printf('%06d', number)", NULL },
	{ "derived", "id, device_id, primary_id, person_id, job_id, target, "
	    "uuid, pa_serial, pa_issuer, pa_pem, primary_fascn, primary_uuid, "
	    "recheck_due, recheck_at, recheck_result, created_at, updated_at",
	    "'derived:' || id", NULL },
	{ "activations", "id, public_id, derived_id, kind, code_hash, state, "
	    "attempts, max_attempts, payload, payload_name, expires_at, "
	    "created_at, updated_at", "'activation:' || public_id", NULL },
};
#define STORE_N_BOUND	((int)(sizeof(store_bound) / sizeof(store_bound[0])))

int
store_bound_table_index(const char *table)
{
	int i;

	for (i = 0; i < STORE_N_BOUND; i++)
		if (strcmp(store_bound[i].table, table) == 0)
			return i;
	return -1;
}

const char *
store_bound_table_name(int t)
{
	return t >= 0 && t < STORE_N_BOUND ? store_bound[t].table : "?";
}

/* The columns 0..|n|-1 of the current row of |stmt| as digest values. */
static enum pv_err
store_digest_cols(struct audit_digest *d, bool child, sqlite3_stmt *stmt,
    int n)
{
	struct audit_val v[20];
	int i;

	if (n > (int)(sizeof(v) / sizeof(v[0])))
		return PV_E_INTERNAL;
	for (i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		switch (sqlite3_column_type(stmt, i)) {
		case SQLITE_INTEGER:
			v[i].type = AUDIT_VAL_INT;
			v[i].i = sqlite3_column_int64(stmt, i);
			break;
		case SQLITE_NULL:
			v[i].type = AUDIT_VAL_NULL;
			break;
		case SQLITE_BLOB:
			v[i].type = AUDIT_VAL_BLOB;
			v[i].p = sqlite3_column_blob(stmt, i);
			v[i].n = (size_t)sqlite3_column_bytes(stmt, i);
			break;
		default:	/* text, and a float as its text */
			v[i].type = sqlite3_column_type(stmt, i) ==
			    SQLITE_FLOAT ? AUDIT_VAL_FLOAT : AUDIT_VAL_TEXT;
			v[i].p = sqlite3_column_text(stmt, i);
			v[i].n = (size_t)sqlite3_column_bytes(stmt, i);
			break;
		}
	}
	return audit_digest_cols(d, child, v, (size_t)n);
}

/* Digest of the current row of |stmt| (columns of store_bound[t], the
 * name last), then of its child rows. */
static enum pv_err
store_digest_stmt(struct store *st, int t, sqlite3_stmt *stmt,
    uint8_t out[32])
{
	struct audit_digest *d = NULL;
	sqlite3_stmt *c = NULL;
	int rc = SQLITE_DONE;
	enum pv_err r;

	if ((r = audit_digest_begin(store_bound[t].table, &d)) != PV_OK)
		return r;
	r = store_digest_cols(d, false, stmt, sqlite3_column_count(stmt) - 1);
	if (r == PV_OK && store_bound[t].child != NULL) {
		if (sqlite3_prepare_v2(st->db, store_bound[t].child, -1, &c,
		    NULL) != SQLITE_OK || sqlite3_bind_int64(c, 1,
		    sqlite3_column_int64(stmt, 0)) != SQLITE_OK)
			r = PV_E_DB;
		while (r == PV_OK && (rc = sqlite3_step(c)) == SQLITE_ROW)
			r = store_digest_cols(d, true, c,
			    sqlite3_column_count(c));
		if (r == PV_OK && rc != SQLITE_DONE)
			r = PV_E_DB;
	}
	if (r == PV_OK)
		r = audit_digest_end(d, out);
	sqlite3_finalize(c);
	audit_digest_free(d);
	return r;
}

/* SELECT <cols>, <name> FROM <table> [WHERE id = ?1] ORDER BY id. */
static enum pv_err
store_bound_select(struct store *st, int t, bool one, sqlite3_stmt **out,
    struct pv_why *why)
{
	char sql[640];
	int w;

	w = snprintf(sql, sizeof(sql), "SELECT %s, %s FROM %s%s ORDER BY id",
	    store_bound[t].cols, store_bound[t].name, store_bound[t].table,
	    one ? " WHERE id = ?1" : "");
	if (w <= 0 || (size_t)w >= sizeof(sql))
		return pv_why_set(why, PV_E_INTERNAL, "audit: query too long");
	return store_prepare(st, sql, out, "audit row digest", why);
}

enum pv_err
store_jrow(struct store *st, json_object *detail, const char *table,
    int64_t id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *rows, *rec;
	uint8_t dg[32];
	char hex[65];
	int t = store_bound_table_index(table);
	enum pv_err r;

	if (t < 0)
		return pv_why_set(why, PV_E_INTERNAL, "audit: table %s is not "
		    "bound to the log", table);
	if (detail == NULL)
		return pv_why_set(why, PV_E_NOMEM, "audit: no detail for %s "
		    "row %lld", table, (long long)id);
	if ((r = store_bound_select(st, t, true, &s, why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, id)) {
		r = store_db_err(st, SQLITE_ERROR, "audit row digest", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "audit row digest", table, why)) !=
	    PV_OK)
		goto out;
	if ((r = store_digest_stmt(st, t, s, dg)) != PV_OK) {
		r = pv_why_set(why, r, "audit: cannot digest %s row %lld",
		    table, (long long)id);
		goto out;
	}
	buf_hex(dg, 32, hex);
	if (!json_object_object_get_ex(detail, "rows", &rows)) {
		if ((rows = json_object_new_array()) == NULL ||
		    json_object_object_add(detail, "rows", rows) != 0) {
			json_object_put(rows);
			r = PV_E_NOMEM;
			goto out;
		}
	}
	if ((rec = json_object_new_object()) == NULL ||
	    json_object_array_add(rows, rec) != 0) {
		json_object_put(rec);
		r = PV_E_NOMEM;
		goto out;
	}
	store_jstr(rec, "table", table);
	store_jint(rec, "id", id);
	store_jstr(rec, "sha256", hex);
	if (json_object_object_length(rec) != 3)
		r = PV_E_NOMEM;
out:
	sqlite3_finalize(s);
	return r;
}

static enum pv_err
audit_id_row(sqlite3_stmt *s, void *elem, void *arg)
{
	(void)arg;
	*(int64_t *)elem = sqlite3_column_int64(s, 0);
	return PV_OK;
}

enum pv_err
store_jrows_all(struct store *st, json_object *detail, const char *table,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char sql[128];
	void *list = NULL;
	const int64_t *ids;
	size_t n = 0, i;
	enum pv_err r = PV_OK;

	if (store_bound_table_index(table) < 0)
		return pv_why_set(why, PV_E_INTERNAL, "audit: table %s is not "
		    "bound to the log", table);
	(void)snprintf(sql, sizeof(sql), "SELECT id FROM %s ORDER BY id",
	    table);
	if ((r = store_prepare(st, sql, &s, "audit row digests", why)) !=
	    PV_OK)
		return r;
	/* The ids first: store_jrow runs its own statements. */
	r = store_collect(st, s, sizeof(int64_t), audit_id_row, NULL, NULL,
	    "audit row digests", &list, &n, why);
	sqlite3_finalize(s);
	ids = list;
	for (i = 0; i < n && r == PV_OK; i++)
		r = store_jrow(st, detail, table, ids[i], why);
	free(list);
	return r;
}

enum pv_err
store_bound_rows(struct store *st, store_bound_row_fn *fn, void *ctx,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	uint8_t dg[32];
	const char *name;
	int64_t id;
	int t, rc = SQLITE_DONE, name_col;
	enum pv_err r = PV_OK;

	for (t = 0; t < STORE_N_BOUND && r == PV_OK; t++) {
		if ((r = store_bound_select(st, t, false, &s, why)) != PV_OK)
			return r;
		name_col = sqlite3_column_count(s) - 1;
		while (r == PV_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			id = sqlite3_column_int64(s, 0);
			name = (const char *)sqlite3_column_text(s, name_col);
			if ((r = store_digest_stmt(st, t, s, dg)) != PV_OK) {
				r = pv_why_set(why, r, "audit verify: cannot "
				    "digest %s row %lld", store_bound[t].table,
				    (long long)id);
				break;
			}
			r = fn(ctx, t, store_bound[t].table, id,
			    name != NULL ? name : "?", dg, why);
		}
		if (r == PV_OK && rc != SQLITE_DONE)
			r = store_db_err(st, sqlite3_extended_errcode(st->db),
			    "audit verify", why);
		sqlite3_finalize(s);
		s = NULL;
	}
	return r;
}

enum pv_err
store_dangling(struct store *st, bool *found, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char table[64], parent[64];
	enum pv_err r;
	int rc;

	*found = false;
	if ((r = store_prepare(st, "PRAGMA foreign_key_check", &s,
	    "check references", why)) != PV_OK)
		return r;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		store_col_text(s, 0, table, sizeof(table));
		store_col_text(s, 2, parent, sizeof(parent));
		*found = true;
		r = pv_why_set(why, PV_E_VERIFY, "%s row %lld refers to a %s "
		    "row that does not exist", table,
		    (long long)sqlite3_column_int64(s, 1), parent);
	} else if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "check references", why);
	}
	sqlite3_finalize(s);
	return *found ? PV_OK : r;
}
