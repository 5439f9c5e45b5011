/*
 * audit.c: the audit log over the store's interface (audit.h explains the
 * design): appending events and notes, verification of the chain, its
 * heads and the rows it vouches for, reading and checkpoints.  No SQL:
 * the store keeps the rows (store_audit.c), audit_chain.c does the
 * arithmetic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "issuance/audit.h"
#include "issuance/audit_chain.h"
#include "issuance/store.h"

enum pv_err
audit_append(struct store *st, const char *action, const char *object,
    const char *detail_json, struct pv_why *why)
{
	return store_audit_append(st, action, object, detail_json, why);
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
	if (json_object_object_add(d, "text", json_object_new_string(text)) !=
	    0) {
		json_object_put(d);
		return PV_E_NOMEM;
	}
	r = audit_append(st, "note", "note", json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), why);
	json_object_put(d);
	return r;
}

enum pv_err
audit_foreach(struct store *st, int64_t since, audit_row_fn *fn, void *ctx,
    struct pv_why *why)
{
	return store_audit_rows(st, since, fn, ctx, why);
}

/* ---- the chain ------------------------------------------------------------------ */

struct audit_walk {
	struct audit_report *rep;
	struct pv_why *why;
	int64_t expect;
	uint8_t prev[32];
	int64_t mark;			/* a row whose hash is wanted */
	uint8_t mark_hash[32];
	bool mark_seen;
	const struct audit_head *anc;	/* the anchor's heads, by count */
	size_t n_anc, at_anc;
	int64_t anc_bad;		/* the first that differs, or 0 */
};

static enum pv_err
audit_walk_row(void *ctx, const struct audit_row *row)
{
	struct audit_walk *w = ctx;
	uint8_t want[32];
	enum pv_err r;

	if (row->seq != w->expect) {
		w->rep->first_bad = w->expect;
		return pv_why_set(w->why, PV_E_VERIFY, row->seq > w->expect ?
		    "audit row %lld is missing (the log jumps from row %lld to "
		    "row %lld)" : "audit row %lld is out of order (the log goes "
		    "from row %lld to row %lld)", (long long)w->expect,
		    (long long)(w->expect - 1), (long long)row->seq);
	}
	if (!row->prev_ok || CRYPTO_memcmp(row->prev_hash, w->prev, 32) != 0) {
		w->rep->first_bad = row->seq;
		return pv_why_set(w->why, PV_E_VERIFY, "audit row %lld: does not "
		    "follow row %lld (prev_hash differs from that row's hash)",
		    (long long)row->seq, (long long)(row->seq - 1));
	}
	if ((r = audit_row_hash(w->prev, row->seq, row->time, row->actor,
	    row->action, row->object, row->detail, want)) != PV_OK)
		return pv_why_set(w->why, r, "audit verify: hashing failed");
	if (!row->hash_ok || CRYPTO_memcmp(row->hash, want, 32) != 0) {
		w->rep->first_bad = row->seq;
		return pv_why_set(w->why, PV_E_VERIFY, "audit row %lld: altered "
		    "(its hash does not match its contents)",
		    (long long)row->seq);
	}
	memcpy(w->prev, want, 32);
	if (row->seq == w->mark) {
		memcpy(w->mark_hash, want, 32);
		w->mark_seen = true;
	}
	for (; w->at_anc < w->n_anc && w->anc[w->at_anc].count <= row->seq;
	    w->at_anc++)
		if (w->anc_bad == 0 && (w->anc[w->at_anc].count != row->seq ||
		    CRYPTO_memcmp(w->anc[w->at_anc].hash, want, 32) != 0))
			w->anc_bad = w->anc[w->at_anc].count;
	w->rep->rows = row->seq;
	w->expect++;
	return PV_OK;
}

/* ---- rows the log vouches for ---------------------------------------------------- */

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
	size_t at;			/* the walk over the store's rows */
	struct audit_report *rep;
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

/* Adds the "rows" records of one audit row. */
static enum pv_err
audit_recs_add(void *ctx, const struct audit_row *row)
{
	struct audit_recs *rs = ctx;
	json_object *d, *rows, *rec, *jt, *ji, *jh;
	struct audit_rec *grow;
	const char *hex;
	size_t i, n;
	enum pv_err r = PV_OK;

	if (strstr(row->detail, "\"rows\"") == NULL)
		return PV_OK;
	if ((d = json_tokener_parse(row->detail)) == NULL ||
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
		grow->t = store_bound_table_index(json_object_get_string(jt));
		grow->id = json_object_get_int64(ji);
		grow->seq = row->seq;
		(void)snprintf(grow->object, sizeof(grow->object), "%s",
		    row->object);
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
		rs->rep->first_bad = row->seq;
	return r;
}

static enum pv_err
audit_rec_deleted(struct audit_recs *rs, struct pv_why *why)
{
	const struct audit_rec *rec = &rs->v[rs->at];

	rs->rep->first_bad = rec->seq;
	return pv_why_set(why, PV_E_VERIFY, "%s row %lld (%s) was deleted: "
	    "audit row %lld records it", store_bound_table_name(rec->t),
	    (long long)rec->id, rec->object, (long long)rec->seq);
}

/* One row of the store against the last record of it (both walks go by
 * table, then id). */
static enum pv_err
audit_check_bound(void *ctx, int t, const char *table, int64_t id,
    const char *name, const uint8_t digest[32], struct pv_why *why)
{
	struct audit_recs *rs = ctx;
	const struct audit_rec *rec;

	/* A record before this row: its row is gone. */
	if (rs->at < rs->n && (rs->v[rs->at].t < t ||
	    (rs->v[rs->at].t == t && rs->v[rs->at].id < id)))
		return audit_rec_deleted(rs, why);
	rec = rs->at < rs->n ? &rs->v[rs->at] : NULL;
	if (rec == NULL || rec->t != t || rec->id != id)
		return pv_why_set(why, PV_E_VERIFY, "%s row %lld (%s) is not in "
		    "the audit log: it was added outside pivstation", table,
		    (long long)id, name);
	if (CRYPTO_memcmp(digest, rec->sha, 32) != 0) {
		rs->rep->first_bad = rec->seq;
		return pv_why_set(why, PV_E_VERIFY, "%s row %lld (%s) was "
		    "altered: it differs from what audit row %lld recorded",
		    table, (long long)id, name, (long long)rec->seq);
	}
	rs->rep->store_rows++;
	rs->at++;
	return PV_OK;
}

/*
 * Checks each row the log vouches for against the last digest the log
 * recorded for it: altered, deleted and unrecorded rows are reported.
 * Runs in audit_verify's snapshot, after the chain passed.
 */
static enum pv_err
audit_verify_rows(struct store *st, struct audit_report *rep,
    struct pv_why *why)
{
	struct audit_recs rs;
	size_t i, k;
	enum pv_err r;

	memset(&rs, 0, sizeof(rs));
	rs.rep = rep;
	if ((r = store_audit_rows(st, 0, audit_recs_add, &rs, why)) != PV_OK) {
		if (r == PV_E_VERIFY)
			r = pv_why_set(why, r, "audit row %lld: malformed row "
			    "record in its detail", (long long)rep->first_bad);
		goto out;
	}
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
	if ((r = store_bound_rows(st, audit_check_bound, &rs, why)) != PV_OK)
		goto out;
	if (rs.at < rs.n) {
		r = audit_rec_deleted(&rs, why);
		goto out;
	}
	r = PV_OK;
out:
	free(rs.v);
	return r;
}

/* ---- verify ---------------------------------------------------------------------- */

/* The head file against the chain: never ahead, behind only by the last
 * transaction. */
static enum pv_err
audit_check_file(struct audit_report *rep, const struct store_audit_head *sh,
    const struct audit_head *fh, const struct audit_walk *w,
    const char *path, struct pv_why *why)
{
	if (fh->count > rep->rows) {
		rep->first_bad = rep->rows + 1;
		return pv_why_set(why, PV_E_VERIFY, "audit row %lld is missing: "
		    "the store was rolled back (the log ends at row %lld, the "
		    "head file records %lld rows)", (long long)(rep->rows + 1),
		    (long long)rep->rows, (long long)fh->count);
	}
	if (fh->count > 0 && (!w->mark_seen ||
	    CRYPTO_memcmp(w->mark_hash, fh->hash, 32) != 0)) {
		rep->first_bad = fh->count;
		return pv_why_set(why, PV_E_VERIFY, "audit row %lld: differs "
		    "from the head file (the log was rewritten)",
		    (long long)fh->count);
	}
	rep->file_lag = rep->rows - fh->count;
	if (rep->file_lag > 0 && fh->count != sh->tx_start) {
		rep->first_bad = fh->count + 1;
		return pv_why_set(why, PV_E_VERIFY, "the head file %s records "
		    "%lld rows, %lld behind the log and more than its last "
		    "transaction: it was replaced with an older copy, or "
		    "writing it failed", path, (long long)fh->count,
		    (long long)rep->file_lag);
	}
	return PV_OK;
}

enum pv_err
audit_verify(struct store *st, struct audit_report *out, struct pv_why *why)
{
	struct audit_report rep;
	struct audit_walk w;
	struct store_audit_head sh;
	struct audit_head fh, *anc = NULL;
	size_t n_anc = 0;
	const uint8_t *key = store_audit_key(st);
	const char *head_path = store_head_path(st);
	const char *anchor = store_anchor_path(st);
	struct pv_why dw = { "" };
	uint8_t want[32];
	bool began = false, have_file = false, have_anchor = false;
	bool dangling = false;
	enum pv_err r;

	memset(&rep, 0, sizeof(rep));
	memset(&w, 0, sizeof(w));
	memset(&fh, 0, sizeof(fh));
	w.rep = &rep;
	w.why = why;
	w.expect = 1;
	w.mark = -1;
	/* One snapshot: rows and head together. */
	if ((r = store_snapshot_begin(st, &began, why)) != PV_OK)
		goto out;
	if (key != NULL && head_path[0] != '\0') {
		r = audit_head_file_read(head_path, key, &fh, why);
		if (r == PV_E_NO_FILE)
			pv_why_clear(why);
		else if (r != PV_OK)
			goto out;
		else
			have_file = true;
		w.mark = fh.count;
	}
	if (key != NULL && anchor[0] != '\0') {
		r = audit_anchor_read(anchor, key, &anc, &n_anc,
		    &rep.anchor_time, why);
		if (r == PV_E_NO_FILE || r == PV_E_NO_RECORD) {
			/* Nothing anchored yet: said below if the log has
			 * rows. */
			pv_why_clear(why);
		} else if (r != PV_OK) {
			goto out;
		} else {
			have_anchor = true;
			/* A head of an empty log vouches for nothing. */
			while (w.at_anc < n_anc && anc[w.at_anc].count == 0)
				w.at_anc++;
		}
		w.anc = anc;
		w.n_anc = n_anc;
	}
	r = store_audit_head(st, &sh, NULL);
	if (r == PV_E_NO_RECORD || r == PV_E_VERIFY) {
		r = pv_why_set(why, PV_E_VERIFY, "audit head: missing or "
		    "malformed (the audit_head row was deleted or altered)");
		goto out;
	}
	if (r != PV_OK) {
		r = pv_why_set(why, r, "audit verify: cannot read the head");
		goto out;
	}
	if ((r = store_audit_rows(st, 0, audit_walk_row, &w, why)) != PV_OK)
		goto out;
	/* The head in the store: the log's exact end. */
	if (sh.count != rep.rows || CRYPTO_memcmp(sh.hash, w.prev, 32) != 0) {
		rep.first_bad = sh.count > rep.rows ? rep.rows + 1 :
		    sh.count + 1;
		if (sh.count > rep.rows)
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld is "
			    "missing: the log ends at row %lld but its head "
			    "records %lld rows (rows deleted from the end)",
			    (long long)(rep.rows + 1), (long long)rep.rows,
			    (long long)sh.count);
		else if (sh.count < rep.rows)
			r = pv_why_set(why, PV_E_VERIFY, "audit row %lld: added "
			    "after the head (the head records %lld rows, the "
			    "log has %lld)", (long long)(sh.count + 1),
			    (long long)sh.count, (long long)rep.rows);
		else
			r = pv_why_set(why, PV_E_VERIFY, "audit head: its hash "
			    "is not the hash of row %lld", (long long)rep.rows);
		goto out;
	}
	if (key != NULL) {
		if (!sh.has_mac || audit_head_mac(key, sh.count, sh.hash,
		    want) != PV_OK || CRYPTO_memcmp(want, sh.mac, 32) != 0) {
			rep.first_bad = rep.rows;
			r = pv_why_set(why, PV_E_VERIFY, "audit head: its MAC is "
			    "wrong: the head (row %lld) was altered or written "
			    "without this station's master secret",
			    (long long)sh.count);
			goto out;
		}
		rep.head_authenticated = true;
	}
	/* The head file: the store may not be behind it, nor it far behind
	 * the store; a log with rows has one. */
	if (key != NULL && head_path[0] != '\0') {
		if (!have_file && rep.rows > 0) {
			r = pv_why_set(why, PV_E_VERIFY, "the head file %s is "
			    "missing: the log has %lld rows (a store put back "
			    "without its head file cannot be told from a "
			    "rolled-back one)", head_path, (long long)rep.rows);
			goto out;
		}
		if (have_file) {
			rep.file_checked = true;
			if ((r = audit_check_file(&rep, &sh, &fh, &w, head_path,
			    why)) != PV_OK)
				goto out;
		}
	}
	/* The anchor outside the home: the store may not be behind it. */
	if (key != NULL && anchor[0] != '\0') {
		if (!have_anchor && rep.rows > 0) {
			r = pv_why_set(why, PV_E_VERIFY, "the audit anchor %s "
			    "records no head, but the log has %lld rows",
			    anchor, (long long)rep.rows);
			goto out;
		}
		if (have_anchor) {
			const struct audit_head *ah = &anc[n_anc - 1];

			rep.anchor_checked = true;
			rep.anchor_rows = ah->count;
			if (ah->count > rep.rows) {
				rep.first_bad = rep.rows + 1;
				r = pv_why_set(why, PV_E_VERIFY, "audit row %lld "
				    "is missing: the store was rolled back (the "
				    "log ends at row %lld, the anchor %s records "
				    "%lld rows)", (long long)(rep.rows + 1),
				    (long long)rep.rows, anchor,
				    (long long)ah->count);
				goto out;
			}
			if (w.anc_bad != 0) {
				rep.first_bad = w.anc_bad;
				r = pv_why_set(why, PV_E_VERIFY, "audit row %lld: "
				    "differs from the anchor %s (the log was "
				    "rewritten, or rolled back and written to "
				    "since)", (long long)w.anc_bad, anchor);
				goto out;
			}
		}
	}
	/* The chain holds: now the rows it vouches for, and what refers to
	 * them. */
	if ((r = audit_verify_rows(st, &rep, why)) != PV_OK)
		goto out;
	if ((r = store_dangling(st, &dangling, &dw)) != PV_OK) {
		(void)pv_why_set(why, r, "%s", dw.msg);
		goto out;
	}
	if (dangling) {
		r = pv_why_set(why, PV_E_VERIFY, "%s: rows were deleted "
		    "outside pivstation", dw.msg);
		goto out;
	}
	r = PV_OK;
out:
	store_snapshot_end(st, began);
	free(anc);
	if (out != NULL)
		*out = rep;
	return r;
}

/* ---- checkpoints ------------------------------------------------------------------ */

enum pv_err
audit_checkpoint(struct store *st, bool to_syslog, int64_t *out_count,
    struct pv_why *why)
{
	struct store_audit_head sh;
	struct audit_head h;
	const uint8_t *key = store_audit_key(st);
	const char *anchor = store_anchor_path(st);
	char hh[65];
	enum pv_err r;

	*out_count = 0;
	if (anchor[0] == '\0' && !to_syslog)
		return pv_why_set(why, PV_E_CONFIG, "audit checkpoint: no place "
		    "to write it: set [audit] anchor, or ask for the system "
		    "log");
	if (key == NULL)
		return pv_why_set(why, PV_E_STATE, "audit checkpoint: the store "
		    "was opened without the audit key");
	if ((r = store_audit_head(st, &sh, why)) != PV_OK)
		return r;
	if (!sh.has_mac)
		return pv_why_set(why, PV_E_VERIFY, "audit checkpoint: the head "
		    "has no MAC");
	h.count = sh.count;
	memcpy(h.hash, sh.hash, 32);
	memcpy(h.mac, sh.mac, 32);
	if (anchor[0] != '\0' &&
	    (r = audit_anchor_append(anchor, &h, store_now(st), why)) != PV_OK)
		return r;
	if (to_syslog) {
		buf_hex(h.hash, 32, hh);
		openlog("pivstation", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_NOTICE, "audit head: %lld rows, last row hash %s",
		    (long long)h.count, hh);
		closelog();
	}
	*out_count = h.count;
	return PV_OK;
}
