/*
 * audit_chain.h: the arithmetic of the audit log (audit.h explains the
 * design): row hashes, the head's MAC, the digest of a store row the log
 * vouches for, and the head file and anchor file formats.  No SQL and no
 * store here: the store (store_audit.c) appends rows with these, and
 * audit.c verifies with them, over the store's interface.
 */
#ifndef PV_ISSUANCE_AUDIT_CHAIN_H
#define PV_ISSUANCE_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

#define AUDIT_ROW_TAG		"pivstation-audit-v1"
#define AUDIT_HEAD_TAG		"pivstation-audit-head-v1"
#define AUDIT_ROWREC_TAG	"pivstation-row-v1"
#define AUDIT_KEY_LEN		32

/*
 * audit_row_hash: SHA-256(prev || "pivstation-audit-v1" 00 || u64 seq ||
 * i64 time || for actor, action, object, detail: u32 length || bytes).
 */
enum pv_err audit_row_hash(const uint8_t prev[32], int64_t seq, int64_t time,
    const char *actor, const char *action, const char *object,
    const char *detail, uint8_t out[32]);

/* audit_head_mac: HMAC-SHA256(key, "pivstation-audit-head-v1" 00 || u64
 * count || hash). */
enum pv_err audit_head_mac(const uint8_t key[AUDIT_KEY_LEN], int64_t count,
    const uint8_t hash[32], uint8_t out[32]);

/*
 * A column value of a row the log vouches for, typed the way the digest
 * frames it (the numbers are SQLite's type codes, which the first schema
 * digested; any other engine maps its values to these).
 */
enum audit_val_type {
	AUDIT_VAL_INT = 1,
	AUDIT_VAL_FLOAT = 2,	/* digested as its text */
	AUDIT_VAL_TEXT = 3,
	AUDIT_VAL_BLOB = 4,
	AUDIT_VAL_NULL = 5
};

struct audit_val {
	enum audit_val_type type;
	int64_t i;		/* AUDIT_VAL_INT */
	const void *p;		/* text (without NUL) or blob */
	size_t n;
};

/* A row digest being built: audit_digest_begin, _cols (the row's
 * columns, then each child row's after a marker), _end. */
struct audit_digest;

enum pv_err audit_digest_begin(const char *table, struct audit_digest **out);
enum pv_err audit_digest_cols(struct audit_digest *d, bool child,
    const struct audit_val *v, size_t n);
enum pv_err audit_digest_end(struct audit_digest *d, uint8_t out[32]);
void audit_digest_free(struct audit_digest *d);

/* ---- files outside the store ----------------------------------------------- */

/* A head as the files record it. */
struct audit_head {
	int64_t count;
	uint8_t hash[32];
	uint8_t mac[32];
};

/* Is the head |cur| the file records still the log's history? */
typedef enum pv_err audit_head_check_fn(void *ctx,
    const struct audit_head *cur, struct pv_why *why);

/*
 * audit_head_file_update writes |h| to the head file |path| unless the
 * file already records as many rows or more: under an exclusive lock on
 * the folder, so that several writers (processes or threads) leave the
 * newest head, never an older one.  A head file the log no longer holds
 * (|check|, when not NULL, says so: a store put back and written to) is
 * kept as the evidence it is, with check's error.  Returns PV_OK, or
 * PV_E_IO or check's error with |why|.
 */
enum pv_err audit_head_file_update(const char *path,
    const struct audit_head *h, const uint8_t key[AUDIT_KEY_LEN],
    audit_head_check_fn *check, void *check_ctx, struct pv_why *why);

/*
 * audit_head_file_read reads the head file |path| and checks its MAC with
 * |key|.  PV_E_NO_FILE when absent, PV_E_VERIFY (malformed, or a MAC
 * from another key), PV_E_IO.
 */
enum pv_err audit_head_file_read(const char *path,
    const uint8_t key[AUDIT_KEY_LEN], struct audit_head *out,
    struct pv_why *why);

/*
 * audit_anchor_append appends |h| with the time |now| as one line to the
 * anchor file |path| (created 0600; a file outside the station home:
 * another volume, a mount that keeps what is written), under a lock.
 */
enum pv_err audit_anchor_append(const char *path, const struct audit_head *h,
    int64_t now, struct pv_why *why);

/*
 * audit_anchor_read reads every line of the anchor file |path|, each with
 * a MAC that |key| checks, into a new array |*out| (|*n| heads, sorted by
 * count; the caller frees it) and the time of the last line into
 * |*out_time|.  Every line is history the log must still hold: the last
 * one alone would let a rolled-back store that was written to afterwards
 * pass.  PV_E_NO_FILE when the file is absent, PV_E_NO_RECORD when it has
 * no line, PV_E_VERIFY for a malformed line or one whose MAC is wrong
 * (named by its number).
 */
enum pv_err audit_anchor_read(const char *path,
    const uint8_t key[AUDIT_KEY_LEN], struct audit_head **out, size_t *n,
    int64_t *out_time, struct pv_why *why);

#endif /* PV_ISSUANCE_AUDIT_CHAIN_H */
