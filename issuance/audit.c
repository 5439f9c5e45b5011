/*
 * audit.c: appending to the hash-chained audit log, the authenticated
 * head (in the store and in the head file), and verification.  audit.h
 * explains the design.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "apdu/buf.h"
#include "issuance/secret.h"
#include "issuance/store_int.h"

#define AUDIT_ROW_TAG	"pivstation-audit-v1"
#define AUDIT_HEAD_TAG	"pivstation-audit-head-v1"
#define AUDIT_FILE_MAX	512

static void
audit_put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static bool
audit_hash_str(EVP_MD_CTX *md, const char *s)
{
	size_t n = strlen(s);
	uint8_t len[4];

	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	return EVP_DigestUpdate(md, len, 4) == 1 &&
	    EVP_DigestUpdate(md, s, n) == 1;
}

/* hash = SHA-256(prev_hash || canonical(row)); see audit.h. */
static enum pv_err
audit_row_hash(const uint8_t prev[32], int64_t seq, int64_t time,
    const char *actor, const char *action, const char *object,
    const char *detail, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t ints[16];
	unsigned len = 0;
	enum pv_err r = PV_E_CRYPTO;

	if (md == NULL)
		return PV_E_NOMEM;
	audit_put_u64(ints, (uint64_t)seq);
	audit_put_u64(ints + 8, (uint64_t)time);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, prev, 32) == 1 &&
	    EVP_DigestUpdate(md, AUDIT_ROW_TAG, sizeof(AUDIT_ROW_TAG)) == 1 &&
	    EVP_DigestUpdate(md, ints, sizeof(ints)) == 1 &&
	    audit_hash_str(md, actor) && audit_hash_str(md, action) &&
	    audit_hash_str(md, object) && audit_hash_str(md, detail) &&
	    EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32)
		r = PV_OK;
	EVP_MD_CTX_free(md);
	return r;
}

/* MAC over the head: HMAC-SHA256(key, tag || u64 count || hash). */
static enum pv_err
audit_head_mac(const struct store *st, int64_t count, const uint8_t hash[32],
    uint8_t out[32])
{
	uint8_t msg[sizeof(AUDIT_HEAD_TAG) + 8 + 32];
	unsigned len = 0;

	memcpy(msg, AUDIT_HEAD_TAG, sizeof(AUDIT_HEAD_TAG));
	audit_put_u64(msg + sizeof(AUDIT_HEAD_TAG), (uint64_t)count);
	memcpy(msg + sizeof(AUDIT_HEAD_TAG) + 8, hash, 32);
	if (HMAC(EVP_sha256(), st->audit_key, sizeof(st->audit_key), msg,
	    sizeof(msg), out, &len) == NULL || len != 32)
		return PV_E_CRYPTO;
	return PV_OK;
}

static enum pv_err
audit_read_head(struct store *st, int64_t *count, uint8_t hash[32],
    uint8_t mac[32], bool *has_mac, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	if ((r = store_prepare(st, "SELECT count, hash, mac FROM audit_head "
	    "WHERE id = 1", &s, "read the audit head", why)) != PV_OK)
		return r;
	if ((r = store_step_row(st, s, "read the audit head", "head row",
	    why)) != PV_OK)
		goto out;
	*count = sqlite3_column_int64(s, 0);
	if (!store_col_blob(s, 1, hash, 32)) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head: bad hash");
		goto out;
	}
	*has_mac = store_col_blob(s, 2, mac, 32);
	r = PV_OK;
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
audit_append_locked(struct store *st, const char *action, const char *object,
    const char *detail, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	uint8_t prev[32], hash[32], mac[32];
	int64_t count, seq, now = store_now(st);
	bool has_mac;
	enum pv_err r;

	if (strlen(action) >= AUDIT_ACTION_MAX ||
	    strlen(object) >= AUDIT_OBJECT_MAX ||
	    strlen(detail) >= AUDIT_DETAIL_MAX)
		return pv_why_set(why, PV_E_INVAL,
		    "audit %s: action, object or detail too long", action);
	if ((r = audit_read_head(st, &count, prev, mac, &has_mac, why)) != PV_OK)
		return r;
	seq = count + 1;
	if ((r = audit_row_hash(prev, seq, now, st->actor, action, object,
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
	    !store_bind_text(s, 6, detail) || !store_bind_blob(s, 7, prev, 32) ||
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
	    (r = audit_head_mac(st, seq, hash, mac)) != PV_OK) {
		r = pv_why_set(why, r, "audit: MAC failed");
		goto out;
	}
	if ((r = store_prepare(st, "UPDATE audit_head SET count = ?1, "
	    "hash = ?2, mac = ?3 WHERE id = 1", &s, "update the audit head",
	    why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, seq) || !store_bind_blob(s, 2, hash, 32) ||
	    (st->has_key ? !store_bind_blob(s, 3, mac, 32) :
	    sqlite3_bind_null(s, 3) != SQLITE_OK)) {
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
audit_append(struct store *st, const char *action, const char *object,
    const char *detail_json, struct pv_why *why)
{
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	r = audit_append_locked(st, action, object,
	    detail_json ? detail_json : "{}", why);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
audit_note(struct store *st, const char *text, struct pv_why *why)
{
	json_object *d;
	size_t i, n = strlen(text);
	enum pv_err r;

	if (n == 0 || n > AUDIT_NOTE_MAX)
		return pv_why_set(why, PV_E_INPUT, "audit note: 1-%d bytes",
		    AUDIT_NOTE_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return pv_why_set(why, PV_E_INPUT, "audit note: control "
			    "character at byte %zu", i + 1);
	if ((d = json_object_new_object()) == NULL)
		return PV_E_NOMEM;
	store_jstr(d, "text", text);
	r = audit_append(st, "note", "note", json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), why);
	json_object_put(d);
	return r;
}

/* ---- the head file ----------------------------------------------------------------- */

/*
 * Format: one line, "pivstation-audit-head-v1 COUNT HASHHEX MACHEX\n".
 * Written only with a key (without one it could not be checked).
 */
void
audit_write_head_file(struct store *st)
{
	char line[AUDIT_FILE_MAX], hh[65], mh[65];
	uint8_t hash[32], mac[32];
	int64_t count;
	bool has_mac;
	int w;

	if (st->head_path[0] == '\0' || !st->has_key)
		return;
	if (audit_read_head(st, &count, hash, mac, &has_mac, NULL) != PV_OK ||
	    !has_mac)
		return;
	buf_hex(hash, 32, hh);
	buf_hex(mac, 32, mh);
	w = snprintf(line, sizeof(line), "%s %lld %s %s\n", AUDIT_HEAD_TAG,
	    (long long)count, hh, mh);
	if (w <= 0 || (size_t)w >= sizeof(line))
		return;
	/* A failure leaves the file behind; audit_verify reports the lag. */
	(void)secret_write_file(st->head_path, line, (size_t)w,
	    HOME_WRITE_REPLACE, NULL);
}

/* Reads the head file: PV_E_NO_FILE when absent, PV_E_VERIFY if bad. */
static enum pv_err
audit_read_head_file(struct store *st, int64_t *count, uint8_t hash[32],
    struct pv_why *why)
{
	uint8_t *buf = NULL, mac[32], want[32];
	size_t len = 0;
	char *f[4], *save = NULL, *tok;
	long long c;
	char *end;
	int n = 0;
	enum pv_err r;

	r = secret_read_file(st->head_path, AUDIT_FILE_MAX, &buf, &len, why);
	if (r != PV_OK)
		return r;
	for (tok = strtok_r((char *)buf, " \n", &save); tok != NULL && n < 4;
	    tok = strtok_r(NULL, " \n", &save))
		f[n++] = tok;
	r = PV_E_VERIFY;
	if (n != 4 || strcmp(f[0], AUDIT_HEAD_TAG) != 0 ||
	    !buf_unhex(f[2], strlen(f[2]), hash, 32) ||
	    !buf_unhex(f[3], strlen(f[3]), mac, 32)) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head file %s is "
		    "malformed", st->head_path);
		goto out;
	}
	c = strtoll(f[1], &end, 10);
	if (*end != '\0' || c < 0) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head file %s is "
		    "malformed", st->head_path);
		goto out;
	}
	*count = c;
	if (audit_head_mac(st, c, hash, want) != PV_OK ||
	    CRYPTO_memcmp(want, mac, 32) != 0) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head file %s: its MAC "
		    "is wrong (altered, or written with another master "
		    "secret)", st->head_path);
		goto out;
	}
	r = PV_OK;
out:
	buf_free_secret(buf, len);
	return r;
}

/* ---- rows the log vouches for ------------------------------------------------------ */

#define AUDIT_ROWREC_TAG	"pivstation-row-v1"

/*
 * The tables whose rows the log vouches for, each with its columns in the
 * fixed order of the row digest and an SQL expression naming a row the
 * way audit objects do.
 */
static const struct audit_table {
	const char *table;
	const char *cols;
	const char *name;
	const char *child;	/* rows that belong to this one (?1 = its id),
				 * digested after it in this order; NULL: none */
} audit_tables[] = {
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
	{ "operators", "id, name, disabled, created_at",
	    "'operator:' || name", NULL },
};
#define AUDIT_N_TABLES \
	((int)(sizeof(audit_tables) / sizeof(audit_tables[0])))

static int
audit_table_index(const char *table)
{
	int i;

	for (i = 0; i < AUDIT_N_TABLES; i++)
		if (strcmp(audit_tables[i].table, table) == 0)
			return i;
	return -1;
}

/*
 * Feeds columns 0..|n|-1 of the current row of |stmt|: per column its
 * SQLite type byte, then an integer as u64, text or blob as u32 length
 * and bytes, nothing for NULL.
 */
static bool
audit_hash_cols(EVP_MD_CTX *md, sqlite3_stmt *stmt, int n)
{
	bool ok = true;
	int i;

	for (i = 0; ok && i < n; i++) {
		int type = sqlite3_column_type(stmt, i);
		uint8_t tb = (uint8_t)type, v[8], l4[4];
		const void *p;
		size_t pn;

		ok = EVP_DigestUpdate(md, &tb, 1) == 1;
		if (!ok || type == SQLITE_NULL)
			continue;
		if (type == SQLITE_INTEGER) {
			audit_put_u64(v, (uint64_t)sqlite3_column_int64(stmt, i));
			ok = EVP_DigestUpdate(md, v, 8) == 1;
			continue;
		}
		if (type == SQLITE_BLOB)
			p = sqlite3_column_blob(stmt, i);
		else
			p = sqlite3_column_text(stmt, i);	/* text, float */
		pn = (size_t)sqlite3_column_bytes(stmt, i);
		if (p == NULL)
			pn = 0;
		l4[0] = (uint8_t)(pn >> 24);
		l4[1] = (uint8_t)(pn >> 16);
		l4[2] = (uint8_t)(pn >> 8);
		l4[3] = (uint8_t)pn;
		ok = EVP_DigestUpdate(md, l4, 4) == 1 &&
		    (pn == 0 || EVP_DigestUpdate(md, p, pn) == 1);
	}
	return ok;
}

/*
 * Digest of the current row of |stmt| (columns as audit_tables[t], its
 * id first), then of its child rows if the table has any: each preceded
 * by a marker byte, so that the rows' boundaries are part of the digest.
 */
static enum pv_err
audit_digest_stmt(struct store *st, int t, sqlite3_stmt *stmt,
    uint8_t out[32])
{
	static const uint8_t child_mark = 0xfe;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	sqlite3_stmt *c = NULL;
	int rc = SQLITE_DONE, n = sqlite3_column_count(stmt) - 1;	/* last: name */
	unsigned len = 0;
	enum pv_err r = PV_E_CRYPTO;
	bool ok;

	if (md == NULL)
		return PV_E_NOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, AUDIT_ROWREC_TAG,
	    sizeof(AUDIT_ROWREC_TAG)) == 1 &&
	    audit_hash_str(md, audit_tables[t].table) &&
	    audit_hash_cols(md, stmt, n);
	if (ok && audit_tables[t].child != NULL) {
		if (sqlite3_prepare_v2(st->db, audit_tables[t].child, -1, &c,
		    NULL) != SQLITE_OK || sqlite3_bind_int64(c, 1,
		    sqlite3_column_int64(stmt, 0)) != SQLITE_OK) {
			r = PV_E_DB;
			ok = false;
		}
		while (ok && (rc = sqlite3_step(c)) == SQLITE_ROW)
			ok = EVP_DigestUpdate(md, &child_mark, 1) == 1 &&
			    audit_hash_cols(md, c, sqlite3_column_count(c));
		if (ok && rc != SQLITE_DONE) {
			r = PV_E_DB;
			ok = false;
		}
	}
	if (ok && EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32)
		r = PV_OK;
	sqlite3_finalize(c);
	EVP_MD_CTX_free(md);
	return r;
}

/* SELECT <cols>, <name> FROM <table> [WHERE id = ?1] ORDER BY id. */
static enum pv_err
audit_table_select(struct store *st, int t, bool one, sqlite3_stmt **out,
    struct pv_why *why)
{
	char sql[640];
	int w;

	w = snprintf(sql, sizeof(sql), "SELECT %s, %s FROM %s%s ORDER BY id",
	    audit_tables[t].cols, audit_tables[t].name, audit_tables[t].table,
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
	int t = audit_table_index(table);
	enum pv_err r;

	if (t < 0)
		return pv_why_set(why, PV_E_INTERNAL, "audit: table %s is not "
		    "bound to the log", table);
	if (detail == NULL)
		return pv_why_set(why, PV_E_NOMEM, "audit: no detail for %s "
		    "row %lld", table, (long long)id);
	if ((r = audit_table_select(st, t, true, &s, why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, id)) {
		r = store_db_err(st, SQLITE_ERROR, "audit row digest", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "audit row digest", table, why)) !=
	    PV_OK)
		goto out;
	if ((r = audit_digest_stmt(st, t, s, dg)) != PV_OK) {
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

enum pv_err
store_jrows_all(struct store *st, json_object *detail, const char *table,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char sql[128];
	int64_t *ids = NULL, *grow;
	size_t n = 0, cap = 0, i;
	int rc;
	enum pv_err r = PV_OK;

	if (audit_table_index(table) < 0)
		return pv_why_set(why, PV_E_INTERNAL, "audit: table %s is not "
		    "bound to the log", table);
	(void)snprintf(sql, sizeof(sql), "SELECT id FROM %s ORDER BY id",
	    table);
	if ((r = store_prepare(st, sql, &s, "audit row digests", why)) !=
	    PV_OK)
		return r;
	/* The ids first: store_jrow runs its own statements. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((grow = realloc(ids, cap * sizeof(*ids))) == NULL) {
				r = PV_E_NOMEM;
				goto out;
			}
			ids = grow;
		}
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "audit row digests", why);
		goto out;
	}
	for (i = 0; i < n && r == PV_OK; i++)
		r = store_jrow(st, detail, table, ids[i], why);
out:
	sqlite3_finalize(s);
	free(ids);
	return r;
}

/* What the log last recorded of one row. */
struct audit_rec {
	int t;
	int64_t id;
	int64_t seq;
	uint8_t sha[32];
	char object[AUDIT_OBJECT_MAX];
};

struct audit_recs {
	struct audit_rec *v;
	size_t n, cap;
};

static int
audit_rec_cmp(const void *a, const void *b)
{
	const struct audit_rec *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Adds the "rows" records of audit row |seq|. */
static enum pv_err
audit_recs_add(struct audit_recs *rs, int64_t seq, const char *object,
    const char *detail, struct pv_why *why)
{
	json_object *d, *rows, *rec, *jt, *ji, *jh;
	struct audit_rec *grow;
	const char *hex;
	size_t i, n;
	enum pv_err r = PV_OK;

	if (strstr(detail, "\"rows\"") == NULL)
		return PV_OK;
	if ((d = json_tokener_parse(detail)) == NULL ||
	    !json_object_object_get_ex(d, "rows", &rows))
		goto out;	/* "rows" only inside a string */
	if (!json_object_is_type(rows, json_type_array)) {
		r = PV_E_VERIFY;
		goto out;
	}
	n = json_object_array_length(rows);
	for (i = 0; i < n && r == PV_OK; i++) {
		rec = json_object_array_get_idx(rows, i);
		if (!json_object_object_get_ex(rec, "table", &jt) ||
		    !json_object_object_get_ex(rec, "id", &ji) ||
		    !json_object_object_get_ex(rec, "sha256", &jh) ||
		    (hex = json_object_get_string(jh)) == NULL) {
			r = PV_E_VERIFY;
			break;
		}
		if (rs->n == rs->cap) {
			size_t cap = rs->cap ? 2 * rs->cap : 64;

			if ((grow = realloc(rs->v, cap * sizeof(*grow))) ==
			    NULL) {
				r = PV_E_NOMEM;
				break;
			}
			rs->v = grow;
			rs->cap = cap;
		}
		grow = &rs->v[rs->n];
		memset(grow, 0, sizeof(*grow));
		grow->t = audit_table_index(json_object_get_string(jt));
		grow->id = json_object_get_int64(ji);
		grow->seq = seq;
		(void)snprintf(grow->object, sizeof(grow->object), "%s", object);
		if (grow->t < 0 || !buf_unhex(hex, strlen(hex), grow->sha,
		    32)) {
			r = PV_E_VERIFY;
			break;
		}
		rs->n++;
	}
out:
	json_object_put(d);
	if (r == PV_E_VERIFY)
		return pv_why_set(why, r, "audit row %lld: malformed row "
		    "record in its detail", (long long)seq);
	if (r != PV_OK)
		return pv_why_set(why, r, "audit verify: out of memory");
	return PV_OK;
}

/*
 * Checks each row of audit_tables against the last digest the log
 * recorded for it: altered, deleted and unrecorded rows are reported.
 * Runs inside audit_verify's read transaction, after the chain passed.
 */
static enum pv_err
audit_verify_rows(struct store *st, struct audit_report *rep,
    struct pv_why *why)
{
	struct audit_recs rs = { NULL, 0, 0 };
	sqlite3_stmt *s = NULL;
	uint8_t dg[32];
	size_t i, k;
	int t, rc;
	enum pv_err r;

	if ((r = store_prepare(st, "SELECT seq, object, detail FROM audit "
	    "ORDER BY seq", &s, "audit verify", why)) != PV_OK)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(s, 1);
		const char *d = (const char *)sqlite3_column_text(s, 2);

		if ((r = audit_recs_add(&rs, sqlite3_column_int64(s, 0),
		    o ? o : "", d ? d : "", why)) != PV_OK) {
			rep->first_bad = sqlite3_column_int64(s, 0);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "audit verify", why);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rs.n > 0)
		qsort(rs.v, rs.n, sizeof(*rs.v), audit_rec_cmp);
	/* Keep the last record of each row. */
	for (i = 0, k = 0; i < rs.n; i++) {
		if (i + 1 < rs.n && rs.v[i + 1].t == rs.v[i].t &&
		    rs.v[i + 1].id == rs.v[i].id)
			continue;
		rs.v[k++] = rs.v[i];
	}
	rs.n = k;
	for (t = 0, i = 0; t < AUDIT_N_TABLES; t++) {
		const char *tab = audit_tables[t].table;
		int name_col;

		if ((r = audit_table_select(st, t, false, &s, why)) != PV_OK)
			goto out;
		name_col = sqlite3_column_count(s) - 1;
		for (;;) {
			struct audit_rec *rec = i < rs.n && rs.v[i].t == t ?
			    &rs.v[i] : NULL;
			int64_t id;
			const char *name;

			rc = sqlite3_step(s);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
				r = store_db_err(st,
				    sqlite3_extended_errcode(st->db),
				    "audit verify", why);
				goto out;
			}
			if (rc == SQLITE_DONE) {
				if (rec == NULL)
					break;
				rep->first_bad = rec->seq;
				r = pv_why_set(why, PV_E_VERIFY, "%s row %lld "
				    "(%s) was deleted: audit row %lld records "
				    "it", tab, (long long)rec->id, rec->object,
				    (long long)rec->seq);
				goto out;
			}
			id = sqlite3_column_int64(s, 0);
			name = (const char *)sqlite3_column_text(s, name_col);
			if (name == NULL)
				name = "?";
			if (rec != NULL && rec->id < id) {
				rep->first_bad = rec->seq;
				r = pv_why_set(why, PV_E_VERIFY, "%s row %lld "
				    "(%s) was deleted: audit row %lld records "
				    "it", tab, (long long)rec->id, rec->object,
				    (long long)rec->seq);
				goto out;
			}
			if (rec == NULL || rec->id > id) {
				r = pv_why_set(why, PV_E_VERIFY, "%s row %lld "
				    "(%s) is not in the audit log: it was added "
				    "outside pivstation", tab, (long long)id,
				    name);
				goto out;
			}
			if ((r = audit_digest_stmt(st, t, s, dg)) != PV_OK) {
				r = pv_why_set(why, r, "audit verify: cannot "
				    "digest %s row %lld", tab, (long long)id);
				goto out;
			}
			if (CRYPTO_memcmp(dg, rec->sha, 32) != 0) {
				rep->first_bad = rec->seq;
				r = pv_why_set(why, PV_E_VERIFY, "%s row %lld "
				    "(%s) was altered: it differs from what "
				    "audit row %lld recorded", tab,
				    (long long)id, name, (long long)rec->seq);
				goto out;
			}
			rep->store_rows++;
			i++;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	r = PV_OK;
out:
	sqlite3_finalize(s);
	free(rs.v);
	return r;
}

/* ---- verify and show ------------------------------------------------------------------ */

enum pv_err
audit_verify(struct store *st, struct audit_report *out, struct pv_why *why)
{
	struct audit_report rep;
	sqlite3_stmt *s = NULL;
	uint8_t prev[32], hash[32], want[32], head_hash[32], head_mac[32];
	uint8_t file_hash[32], file_row_hash[32];
	int64_t expect = 1, head_count = 0, file_count = -1;
	bool has_mac = false, file_row_seen = false, began = false;
	enum pv_err r;
	int rc;

	memset(&rep, 0, sizeof(rep));
	memset(prev, 0, sizeof(prev));
	/* One read transaction: rows and head from the same snapshot. */
	if (st->depth == 0) {
		if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			r = store_db_err(st, sqlite3_extended_errcode(st->db),
			    "audit verify", why);
			goto out;
		}
		began = true;
	}
	if (st->head_path[0] != '\0' && st->has_key) {
		r = audit_read_head_file(st, &file_count, file_hash, why);
		if (r == PV_E_NO_FILE) {
			pv_why_clear(why);
			file_count = -1;
		} else if (r != PV_OK) {
			goto out;
		} else {
			rep.file_checked = true;
		}
	}
	r = audit_read_head(st, &head_count, head_hash, head_mac, &has_mac,
	    NULL);
	if (r == PV_E_NO_RECORD || r == PV_E_VERIFY) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head: missing or "
		    "malformed (the audit_head row was deleted or altered)");
		goto out;
	}
	if (r != PV_OK) {
		r = pv_why_set(why, r, "audit verify: cannot read the head");
		goto out;
	}
	if ((r = store_prepare(st, "SELECT seq, time, actor, action, object, "
	    "detail, prev_hash, hash FROM audit ORDER BY seq", &s,
	    "audit verify", why)) != PV_OK)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0);
		const char *txt[4];
		uint8_t row_prev[32], row_hash[32];
		int i;

		for (i = 0; i < 4; i++) {
			txt[i] = (const char *)sqlite3_column_text(s, 2 + i);
			if (txt[i] == NULL)
				txt[i] = "";
		}
		if (seq != expect) {
			rep.first_bad = expect;
			r = pv_why_set(why, PV_E_VERIFY, seq > expect ?
			    "audit row %lld is missing (the log jumps from "
			    "row %lld to row %lld)" :
			    "audit row %lld is out of order (the log goes from "
			    "row %lld to row %lld)", (long long)expect,
			    (long long)(expect - 1), (long long)seq);
			goto out;
		}
		if (!store_col_blob(s, 6, row_prev, 32) ||
		    CRYPTO_memcmp(row_prev, prev, 32) != 0) {
			rep.first_bad = seq;
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld: does "
			    "not follow row %lld (prev_hash differs from that "
			    "row's hash)", (long long)seq, (long long)(seq - 1));
			goto out;
		}
		if ((r = audit_row_hash(prev, seq, sqlite3_column_int64(s, 1),
		    txt[0], txt[1], txt[2], txt[3], want)) != PV_OK)
			goto out;
		if (!store_col_blob(s, 7, row_hash, 32) ||
		    CRYPTO_memcmp(row_hash, want, 32) != 0) {
			rep.first_bad = seq;
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld: "
			    "altered (its hash does not match its contents)",
			    (long long)seq);
			goto out;
		}
		memcpy(prev, want, 32);
		if (seq == file_count) {
			memcpy(file_row_hash, want, 32);
			file_row_seen = true;
		}
		rep.rows = seq;
		expect++;
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db),
		    "audit verify", why);
		goto out;
	}
	memcpy(hash, prev, 32);
	/* The head in the store: the log's exact end. */
	if (head_count != rep.rows || CRYPTO_memcmp(head_hash, hash, 32) != 0) {
		rep.first_bad = head_count > rep.rows ? rep.rows + 1 :
		    head_count + 1;
		if (head_count > rep.rows)
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld is "
			    "missing: the log ends at row %lld but its head "
			    "records %lld rows (rows deleted from the end)",
			    (long long)(rep.rows + 1), (long long)rep.rows,
			    (long long)head_count);
		else if (head_count < rep.rows)
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld: added "
			    "after the head (the head records %lld rows, the "
			    "log has %lld)", (long long)(head_count + 1),
			    (long long)head_count, (long long)rep.rows);
		else
			r = pv_why_set(why, PV_E_VERIFY, "audit head: its hash "
			    "is not the hash of row %lld", (long long)rep.rows);
		goto out;
	}
	if (st->has_key) {
		if (!has_mac || audit_head_mac(st, head_count, head_hash,
		    want) != PV_OK || CRYPTO_memcmp(want, head_mac, 32) != 0) {
			rep.first_bad = rep.rows;
			r = pv_why_set(why, PV_E_VERIFY, "audit head: its MAC is "
			    "wrong: the head (row %lld) was altered or written "
			    "without this station's master secret",
			    (long long)head_count);
			goto out;
		}
		rep.head_authenticated = true;
	}
	/* The head file: the database may not be behind it. */
	if (rep.file_checked) {
		if (file_count > rep.rows) {
			rep.first_bad = rep.rows + 1;
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld is "
			    "missing: the store was rolled back (the log ends "
			    "at row %lld, the head file records %lld rows)",
			    (long long)(rep.rows + 1), (long long)rep.rows,
			    (long long)file_count);
			goto out;
		}
		if (file_count > 0 && (!file_row_seen ||
		    CRYPTO_memcmp(file_row_hash, file_hash, 32) != 0)) {
			rep.first_bad = file_count;
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld: differs "
			    "from the head file (the log was rewritten)",
			    (long long)file_count);
			goto out;
		}
		rep.file_lag = rep.rows - file_count;
	}
	/* The chain holds: now the rows it vouches for. */
	if ((r = audit_verify_rows(st, &rep, why)) != PV_OK)
		goto out;
	r = PV_OK;
out:
	sqlite3_finalize(s);
	if (began)
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (out != NULL)
		*out = rep;
	return r;
}

enum pv_err
audit_foreach(struct store *st, int64_t since, audit_row_fn *fn, void *ctx,
    struct pv_why *why)
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
		(void)store_col_blob(s, 6, row.prev_hash, 32);
		(void)store_col_blob(s, 7, row.hash, 32);
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
