/*
 * audit.h: the hash-chained audit log in the store.
 *
 * Each row is (seq, time, actor, action, object, detail, prev_hash, hash):
 * seq counts from 1 without gaps, detail is a JSON object (never a secret)
 * and
 *
 *	hash = SHA-256(prev_hash || canonical(row))
 *	canonical(row) = "pivstation-audit-v1" 0x00 || u64 seq || i64 time ||
 *			 for actor, action, object, detail: u32 length || bytes
 *
 * (integers big-endian), with prev_hash of row 1 = 32 zero bytes.  Changing,
 * inserting or deleting a row in the middle breaks the chain at that row.
 *
 * Deleting rows from the END keeps the remaining chain valid, so the head
 * (row count and last hash) is kept twice, each time authenticated with
 * HMAC-SHA256 under a key derived from the station master secret
 * (secret.h, SECRET_LABEL_AUDIT):
 *
 *   1. in table audit_head, updated in the same transaction as the row,
 *      so it is always exact.  Someone holding only the database cannot
 *      forge the MAC after truncating the log; but they could put back a
 *      whole older copy of the database, whose head is consistent.
 *   2. in the file <home>/audit.head, rewritten (temporary file + rename,
 *      under a lock, never with an older head than it has) after each
 *      commit that added rows, by whichever writer (process or thread)
 *      commits.  Replacing the database with an older copy leaves this
 *      file ahead of it, and verify reports the rollback.  The file may
 *      lag behind the database only by the last transaction (a crash
 *      between the commit and the rewrite: audit_head.tx_start records
 *      where that transaction began); a missing file, or one further
 *      behind, is an error.
 *   3. optionally in an anchor file outside the home ([audit] anchor: on
 *      another volume, or a mount that keeps what is written), one line
 *      appended per commit and per `audit checkpoint`.  Whoever replaces
 *      both the database and the head file with older copies still
 *      leaves the anchor ahead, and verify reports it.
 *
 * A head that could not be written is reported by the command that
 * committed (store_audit_files_status), which then fails.
 *
 * Someone who holds the master secret can rewrite history; that is out of
 * reach of this design (the secret is what the station trusts).
 *
 * The log also vouches for the rows of the tables it describes
 * (certificates, escrow, devices, people, jobs with their job_steps as
 * one more column, operators; not the counters and credential numbers,
 * which the log records but whose rows have no stable id): every change
 * of such a row
 * records in its audit row's detail "rows": [{"table", "id", "sha256"}],
 * the digest of the row after the change,
 *
 *	SHA-256("pivstation-row-v1" 0x00 || u32 length || table ||
 *		for each column in a fixed order: u8 SQLite type ||
 *		integer: u64 | text, blob: u32 length || bytes | null: - ||
 *		for each child row in order (a job's steps by seq):
 *		0xFE || its columns framed the same way)
 *
 * audit_verify, once the chain holds, checks that each such row equals
 * the last digest recorded for it, that every recorded row still exists
 * and that no row exists the log never recorded.
 */
#ifndef PV_ISSUANCE_AUDIT_H
#define PV_ISSUANCE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

struct store;

#define AUDIT_ACTOR_MAX		64
#define AUDIT_ACTION_MAX	48
#define AUDIT_OBJECT_MAX	128
#define AUDIT_DETAIL_MAX	8192

struct audit_row {
	int64_t seq;
	int64_t time;			/* Unix seconds, UTC */
	char actor[AUDIT_ACTOR_MAX];
	char action[AUDIT_ACTION_MAX];	/* "cert.add", "job.step", ... */
	char object[AUDIT_OBJECT_MAX];	/* "cert:3f..", "device:4", ... */
	const char *detail;		/* JSON object; valid during the callback */
	uint8_t prev_hash[32];
	uint8_t hash[32];
	bool prev_ok, hash_ok;		/* both were 32 bytes */
};

/*
 * audit_append adds a row for |action| on |object| with |detail_json| (a
 * JSON object text, NULL = "{}") in the current transaction, or in its
 * own if none is open.  Store calls use it for every change; workflows use
 * it for events that change no row ("issue.refused").  Never put secrets
 * in |detail_json|.  Returns PV_OK, PV_E_INVAL (too long), PV_E_DB.
 */
enum pv_err audit_append(struct store *st, const char *action,
    const char *object, const char *detail_json, struct pv_why *why);

#define AUDIT_NOTE_MAX		1000

/*
 * audit_note records an operator's free-text note (shift start, incident,
 * ...) as action "note": 1-AUDIT_NOTE_MAX bytes without control
 * characters.  Returns PV_OK, PV_E_INPUT with |why|, PV_E_DB.
 */
enum pv_err audit_note(struct store *st, const char *text,
    struct pv_why *why);

/* What audit_verify found. */
struct audit_report {
	int64_t rows;		/* rows checked */
	int64_t first_bad;	/* first bad row (seq), 0 when none */
	bool head_authenticated;	/* the head MAC was checked */
	bool file_checked;	/* the head file was present and checked */
	int64_t file_lag;	/* rows the head file is behind the log (the
				 * last transaction's, after a crash) */
	bool anchor_checked;	/* the anchor's last head was checked */
	int64_t anchor_rows;	/* the rows it records */
	int64_t anchor_time;	/* when it was written */
	int64_t store_rows;	/* store rows matching their audit record */
};

/*
 * audit_verify recomputes the whole chain and checks the heads (the
 * store's, the head file, the anchor when one is configured).  Returns
 * PV_OK when intact; PV_E_VERIFY with |why| naming the first bad row and
 * what is wrong with it ("audit row 7: altered: its hash does not match
 * its contents", "audit row 12 is missing: the log ends at row 11 but its
 * head records 12 rows"); PV_E_DB.  |out| (may be NULL) is filled either
 * way.  A store opened without an audit key cannot authenticate the head:
 * head_authenticated is false and only the chain is checked.
 */
enum pv_err audit_verify(struct store *st, struct audit_report *out,
    struct pv_why *why);

typedef enum pv_err audit_row_fn(void *ctx, const struct audit_row *row);

/*
 * audit_checkpoint appends the current head to the anchor file (and, with
 * |to_syslog|, to the system log: journald keeps it outside the station),
 * filling *out_count with the rows it records.  PV_E_CONFIG when the
 * store has no anchor and |to_syslog| is false; PV_E_IO.
 */
enum pv_err audit_checkpoint(struct store *st, bool to_syslog,
    int64_t *out_count, struct pv_why *why);

/*
 * audit_foreach calls |fn| for each row with seq > |since| in order,
 * stopping at the first error |fn| returns (which audit_foreach returns).
 */
enum pv_err audit_foreach(struct store *st, int64_t since, audit_row_fn *fn,
    void *ctx, struct pv_why *why);

#endif /* PV_ISSUANCE_AUDIT_H */
