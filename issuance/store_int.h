/*
 * store_int.h: what store*.c and audit.c share inside issuance/.  Not for
 * use outside the store: the public interface is store.h / audit.h.
 */
#ifndef PV_ISSUANCE_STORE_INT_H
#define PV_ISSUANCE_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "apdu/err.h"
#include "issuance/audit.h"
#include "issuance/audit_chain.h"
#include "issuance/home.h"
#include "issuance/store.h"

struct store {
	sqlite3 *db;
	int depth;			/* open store_begin() levels */
	bool head_dirty;		/* audit rows added since the file */
	bool tx_appended;		/* this transaction added audit rows */
	int tx_appended_depth;		/* ... first at this store_begin level */
	bool has_key;
	uint8_t audit_key[32];
	char head_path[HOME_PATH_MAX];	/* "" = no head file */
	char anchor_path[HOME_PATH_MAX];	/* "" = no anchor */
	int64_t head_missing;		/* rows the log had when this
					 * transaction found no head file */
	enum pv_err files_err;		/* a head or anchor write failed */
	char files_why[256];
	char actor[AUDIT_ACTOR_MAX];
	int64_t clock;			/* 0 = time() */
	int version;
};

/*
 * store_db_err turns SQLite result |rc| of operation |op| into an error:
 * uniqueness -> PV_E_EXISTS, foreign key -> PV_E_NO_RECORD, other
 * constraints -> PV_E_INVAL, anything else -> PV_E_DB.  |why| gets
 * "<op>: <sqlite message>".
 */
enum pv_err store_db_err(struct store *st, int rc, const char *op,
    struct pv_why *why);

/* store_prepare: sqlite3_prepare_v3 of a fixed |sql|; errors as above. */
enum pv_err store_prepare(struct store *st, const char *sql,
    sqlite3_stmt **out, const char *op, struct pv_why *why);

/* store_step_done steps |stmt| expecting SQLITE_DONE. */
enum pv_err store_step_done(struct store *st, sqlite3_stmt *stmt,
    const char *op, struct pv_why *why);

/*
 * store_step_row steps |stmt| expecting a row: PV_OK with a row,
 * PV_E_NO_RECORD ("<op>: <what> not found") when there is none.
 */
enum pv_err store_step_row(struct store *st, sqlite3_stmt *stmt,
    const char *op, const char *what, struct pv_why *why);

/*
 * store_collect steps |stmt| to its end and returns its rows as one array
 * of |size|-byte elements: |row| fills each (zeroed first) from the
 * current row and, when it fails, leaves that element with nothing to
 * free.  On PV_OK *out (free with |drop|, or free() when |drop| is NULL)
 * holds *n_out elements; on failure nothing is returned and the rows
 * made so far are dropped.  |stmt| is not finalised.  |op| names the
 * operation in messages.
 */
typedef enum pv_err store_row_fn(sqlite3_stmt *stmt, void *elem, void *arg);
typedef void store_drop_fn(void *list, size_t n);
enum pv_err store_collect(struct store *st, sqlite3_stmt *stmt, size_t size,
    store_row_fn *row, void *arg, store_drop_fn *drop, const char *op,
    void **out, size_t *n_out, struct pv_why *why);

/* store_col_text copies text column |i| into |out| (cut to |cap| - 1). */
void store_col_text(sqlite3_stmt *stmt, int i, char *out, size_t cap);

/* store_col_blob copies blob column |i| if it is exactly |n| bytes. */
bool store_col_blob(sqlite3_stmt *stmt, int i, uint8_t *out, size_t n);

/* Binding helpers: true on success. */
bool store_bind_text(sqlite3_stmt *stmt, int i, const char *s);
bool store_bind_i64(sqlite3_stmt *stmt, int i, int64_t v);
bool store_bind_blob(sqlite3_stmt *stmt, int i, const void *p, size_t n);

/*
 * store_audit records an audit row inside the current transaction:
 * |detail| (may be NULL = {}) is serialised and released here, whatever
 * happens.
 */
enum pv_err store_audit(struct store *st, const char *action,
    const char *object, json_object *detail, struct pv_why *why);

/* JSON detail builders; a NULL |o| or failure is ignored (the detail
 * is informative; the audit row itself is what must not be lost). */
void store_jstr(json_object *o, const char *key, const char *v);
void store_jint(json_object *o, const char *key, int64_t v);
void store_jhex(json_object *o, const char *key, const uint8_t *p,
    size_t n);

/*
 * store_jobj_parse: a new JSON object from |json| (a JSON object text), or
 * an empty object when |json| is NULL or is not an object; NULL only when
 * memory runs out.  For details a caller gives as text.
 */
json_object *store_jobj_parse(const char *json);

/*
 * store_jrow binds row |id| of |table| (certificates, escrow, devices,
 * people) to the audit log: it appends {"table", "id", "sha256"} to the
 * "rows" array of |detail|, the digest being over the row as it is now
 * (audit.h).  Call it after the change, before store_audit; a failure
 * must abort the change.  |detail| is not released here.
 */
enum pv_err store_jrow(struct store *st, json_object *detail,
    const char *table, int64_t id, struct pv_why *why);

/*
 * store_audit_row: store_jrow of row |id| of |table| into |detail|, then
 * store_audit.  |detail| is released whatever happens; NULL (an
 * allocation that failed) gives PV_E_NOMEM.
 */
enum pv_err store_audit_row(struct store *st, const char *action,
    const char *object, json_object *detail, const char *table, int64_t id,
    struct pv_why *why);

/* store_jrows_all: store_jrow for every row of |table|, in id order (a
 * migration that starts binding a table). */
enum pv_err store_jrows_all(struct store *st, json_object *detail,
    const char *table, struct pv_why *why);


/* store_audit.c: append with the store's actor and clock (no transaction
 * of its own: the caller holds one). */
enum pv_err store_audit_append_locked(struct store *st, const char *action,
    const char *object, const char *detail, struct pv_why *why);

/* store_audit.c: before the commit of a transaction that added rows: a
 * head file missing under a log that had rows before is recorded in the
 * log itself (the next head file would hide it). */
enum pv_err store_audit_before_commit(struct store *st, struct pv_why *why);

/* store_audit.c: the head file and the anchor follow a commit that added
 * rows; a failure is kept for store_audit_files_status. */
void store_audit_files_after_commit(struct store *st);

#endif /* PV_ISSUANCE_STORE_INT_H */
