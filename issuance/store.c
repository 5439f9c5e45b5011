/*
 * store.c: opening the store, the schema and its migrations, transactions
 * and the helpers the other store_*.c files share.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "issuance/secret.h"
#include "issuance/store_int.h"

/*
 * The schema, one entry per version.  Never edit a released entry: add a
 * new one that changes the previous schema.  Each runs in the same
 * transaction as the schema_version update and the audit row saying so:
 * its SQL (NULL: none), then, for each table in |bind|, the digest of
 * every existing row goes into that audit row (a table the log starts to
 * vouch for, audit.c's audit_tables).
 */
static const char *const store_bind_2[] = { "jobs", "operators", NULL };
static const char *const store_bind_ops[] = { "operators", NULL };
static const char *const store_bind_credno[] = { "credential_numbers", NULL };

static const struct store_migration {
	const char *sql;
	const char *const *bind;
} store_migrations[] = {
	/* 1: the first schema. */
	{ "CREATE TABLE people ("
	"  id INTEGER PRIMARY KEY,"
	"  person_id TEXT NOT NULL UNIQUE CHECK (length(person_id) = 10),"
	"  given_name TEXT NOT NULL,"
	"  middle_name TEXT NOT NULL DEFAULT '',"
	"  family_name TEXT NOT NULL,"
	"  affiliation TEXT NOT NULL,"
	"  email TEXT NOT NULL DEFAULT '' COLLATE NOCASE,"
	"  upn TEXT NOT NULL DEFAULT '',"
	"  organization TEXT NOT NULL DEFAULT '',"
	"  org_affiliation_1 TEXT NOT NULL DEFAULT '',"
	"  org_affiliation_2 TEXT NOT NULL DEFAULT '',"
	"  agency_card_serial TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX people_email ON people(email) WHERE email <> '';"

	"CREATE TABLE devices ("
	"  id INTEGER PRIMARY KEY,"
	"  person_id INTEGER NOT NULL REFERENCES people(id),"
	"  type TEXT NOT NULL CHECK (type IN ('card', 'usb-key', 'mobile')),"
	"  atr BLOB NOT NULL DEFAULT x'',"
	"  serial TEXT NOT NULL DEFAULT '',"
	"  guid BLOB UNIQUE CHECK (guid IS NULL OR length(guid) = 16),"
	"  fascn BLOB UNIQUE CHECK (fascn IS NULL OR length(fascn) = 25),"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('issuing', 'active', 'suspended', 'terminated')),"
	"  key_9d_escrowed INTEGER NOT NULL DEFAULT 0"
	"    CHECK (key_9d_escrowed IN (0, 1)),"
	"  expires_at INTEGER NOT NULL DEFAULT 0,"
	"  issued_at INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX devices_live_serial ON devices(serial)"
	"  WHERE serial <> '' AND status <> 'terminated';"
	"CREATE INDEX devices_person ON devices(person_id);"

	"CREATE TABLE certificates ("
	"  id INTEGER PRIMARY KEY,"
	"  device_id INTEGER NOT NULL REFERENCES devices(id),"
	"  slot INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 255),"
	"  serial TEXT NOT NULL UNIQUE,"
	"  pem TEXT NOT NULL,"
	"  spki_sha256 BLOB NOT NULL CHECK (length(spki_sha256) = 32),"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN"
	"    ('active', 'on-hold', 'revoked')),"
	"  revoked_at INTEGER NOT NULL DEFAULT 0,"
	"  reason INTEGER NOT NULL DEFAULT -1,"
	"  created_at INTEGER NOT NULL);"
	/* Never two live certificates for one slot of one device. */
	"CREATE UNIQUE INDEX certificates_one_live_per_slot"
	"  ON certificates(device_id, slot) WHERE status <> 'revoked';"

	"CREATE TABLE escrow ("
	"  id INTEGER PRIMARY KEY,"
	"  person_id INTEGER NOT NULL REFERENCES people(id),"
	"  device_id INTEGER NOT NULL REFERENCES devices(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('9d-key', 'puk')),"
	"  cms BLOB NOT NULL,"
	"  fingerprint BLOB NOT NULL CHECK (length(fingerprint) = 32),"
	"  current INTEGER NOT NULL CHECK (current IN (0, 1)),"
	"  created_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX escrow_one_current ON escrow(device_id, kind)"
	"  WHERE current = 1;"
	"CREATE INDEX escrow_person ON escrow(person_id, kind);"
	"CREATE TRIGGER escrow_keep BEFORE DELETE ON escrow BEGIN"
	"  SELECT RAISE(ABORT, 'escrow envelopes are never deleted'); END;"

	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  person_id INTEGER REFERENCES people(id),"
	"  reader TEXT NOT NULL DEFAULT '',"
	"  device_id INTEGER REFERENCES devices(id),"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('running', 'done', 'failed', 'cancelled')),"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX jobs_running ON jobs(kind, person_id)"
	"  WHERE state = 'running';"
	"CREATE TABLE job_steps ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id),"
	"  seq INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, name),"
	"  UNIQUE (job_id, seq));"

	"CREATE TABLE credential_numbers ("
	"  agency_code TEXT NOT NULL CHECK (length(agency_code) = 4),"
	"  system_code TEXT NOT NULL CHECK (length(system_code) = 4),"
	"  number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999999),"
	"  job_id INTEGER REFERENCES jobs(id),"
	"  allocated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (agency_code, system_code, number));"
	"CREATE TABLE counters ("
	"  name TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);"
	"CREATE TABLE operators ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"

	/* audit.h explains the chain and the head. */
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev_hash BLOB NOT NULL,"
	"  hash BLOB NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	"  SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TABLE audit_head ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  count INTEGER NOT NULL,"
	"  hash BLOB NOT NULL,"
	"  mac BLOB);"
	"INSERT INTO audit_head (id, count, hash, mac)"
	"  VALUES (1, 0, zeroblob(32), NULL);", NULL },

	/* 2: the audit log also vouches for jobs (with their steps) and
	 * operators; no table changes. */
	{ NULL, store_bind_2 },

	/* 3: at most one RUNNING job of a kind per person, and one per
	 * device: claiming a person or a card for a job is one insert or
	 * update the store refuses when another run got there first. */
	{ "DROP INDEX jobs_running;"
	"CREATE UNIQUE INDEX jobs_running ON jobs(kind, person_id)"
	"  WHERE state = 'running' AND person_id IS NOT NULL;"
	"CREATE UNIQUE INDEX jobs_running_device ON jobs(device_id)"
	"  WHERE state = 'running' AND device_id IS NOT NULL;"
	/* Where the last transaction's rows start: the head file may lag
	 * by those after a crash, never by more (audit.h). */
	"ALTER TABLE audit_head ADD COLUMN tx_start INTEGER NOT NULL"
	"  DEFAULT 0;", NULL },

	/* 4: operators have a role and may be linked to a person and to the
	 * PIV card they sign in with; their rows are digested again. */
	{ "ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT"
	"  'administrator' CHECK (role IN"
	"  ('enroller', 'help-desk', 'administrator'));"
	"ALTER TABLE operators ADD COLUMN person_id INTEGER"
	"  REFERENCES people(id);"
	"ALTER TABLE operators ADD COLUMN card_uuid BLOB"
	"  CHECK (card_uuid IS NULL OR length(card_uuid) = 16);"
	"ALTER TABLE operators ADD COLUMN updated_at INTEGER NOT NULL"
	"  DEFAULT 0;"
	"CREATE UNIQUE INDEX operators_card ON operators(card_uuid)"
	"  WHERE card_uuid IS NOT NULL;", store_bind_ops },

	/* 5: the audit log also vouches for credential numbers, so one
	 * deleted to be handed out again is noticed; they get an id of
	 * their own to be named by (a rowid may change on VACUUM). */
	{ "CREATE TABLE credential_numbers_5 ("
	"  id INTEGER PRIMARY KEY,"
	"  agency_code TEXT NOT NULL CHECK (length(agency_code) = 4),"
	"  system_code TEXT NOT NULL CHECK (length(system_code) = 4),"
	"  number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999999),"
	"  job_id INTEGER REFERENCES jobs(id),"
	"  allocated_at INTEGER NOT NULL,"
	"  UNIQUE (agency_code, system_code, number));"
	"INSERT INTO credential_numbers_5 (agency_code, system_code, number,"
	"  job_id, allocated_at) SELECT agency_code, system_code, number,"
	"  job_id, allocated_at FROM credential_numbers"
	"  ORDER BY allocated_at, agency_code, system_code, number;"
	"DROP TABLE credential_numbers;"
	"ALTER TABLE credential_numbers_5 RENAME TO credential_numbers;",
	store_bind_credno },

	/*
	 * 6: derived credentials (SP 800-157) and their activations.  A derived
	 * credential is a device of type 'mobile' (its certificates in
	 * certificates, its state in devices.status) with a row in derived
	 * linking it to the primary card it was derived from (primary_id),
	 * the derive job that made it (one per job), the primary's PIV
	 * Authentication certificate used then, and the re-check schedule.
	 * An activation hands a derived credential over once: a one-time
	 * code kept only as a keyed hash, a payload kept encrypted until it
	 * is collected (then erased: secure_delete).  Both tables are
	 * vouched for by the audit log.
	 */
	{ "CREATE TABLE derived ("
	"  id INTEGER PRIMARY KEY,"
	"  device_id INTEGER NOT NULL UNIQUE REFERENCES devices(id),"
	"  primary_id INTEGER NOT NULL REFERENCES devices(id),"
	"  person_id INTEGER NOT NULL REFERENCES people(id),"
	"  job_id INTEGER UNIQUE REFERENCES jobs(id),"
	"  target TEXT NOT NULL CHECK (target IN"
	"    ('token', 'p12', 'mobileconfig', 'csr')),"
	"  uuid BLOB NOT NULL UNIQUE CHECK (length(uuid) = 16),"
	"  pa_serial TEXT NOT NULL,"
	"  pa_issuer TEXT NOT NULL,"
	"  pa_pem TEXT NOT NULL,"
	"  primary_fascn BLOB CHECK (primary_fascn IS NULL OR"
	"    length(primary_fascn) = 25),"
	"  primary_uuid BLOB CHECK (primary_uuid IS NULL OR"
	"    length(primary_uuid) = 16),"
	"  recheck_due INTEGER NOT NULL DEFAULT 0,"
	"  recheck_at INTEGER NOT NULL DEFAULT 0,"
	"  recheck_result TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX derived_primary ON derived(primary_id);"
	"CREATE INDEX derived_person ON derived(person_id);"
	"CREATE INDEX derived_due ON derived(recheck_due)"
	"  WHERE recheck_due > 0;"

	"CREATE TABLE activations ("
	"  id INTEGER PRIMARY KEY,"
	"  public_id TEXT NOT NULL UNIQUE CHECK (length(public_id) = 22),"
	"  derived_id INTEGER NOT NULL REFERENCES derived(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('p12', 'mobileconfig', 'scep')),"
	"  code_hash BLOB NOT NULL CHECK (length(code_hash) = 32),"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('open', 'collected', 'locked', 'expired', 'cancelled')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 10),"
	"  payload BLOB,"
	"  payload_name TEXT NOT NULL DEFAULT '',"
	"  expires_at INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	/* SCEP finds an open activation by its code alone. */
	"CREATE UNIQUE INDEX activations_open_code ON activations(code_hash)"
	"  WHERE state = 'open';"
	"CREATE INDEX activations_derived ON activations(derived_id);"
	"CREATE INDEX activations_open ON activations(expires_at)"
	"  WHERE state = 'open';", NULL },
	/* 7: batch issuance (store_batch.h): a batch is one input file,
	 * known by its digest; each row a person, linked to the issue job
	 * that serves it (a job serves one row at most). */
	{ "CREATE TABLE batches ("
	"  id INTEGER PRIMARY KEY,"
	"  digest BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),"
	"  source TEXT NOT NULL,"
	"  format TEXT NOT NULL CHECK (format IN ('csv', 'jsonl')),"
	"  n_rows INTEGER NOT NULL CHECK (n_rows >= 0),"
	"  pin_mode TEXT NOT NULL CHECK (pin_mode IN ('random', 'stdin')),"
	"  pin_mailer TEXT NOT NULL DEFAULT '',"
	"  state TEXT NOT NULL CHECK (state IN ('running', 'done')),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE batch_rows ("
	"  batch_id INTEGER NOT NULL REFERENCES batches(id),"
	"  row INTEGER NOT NULL CHECK (row > 0),"
	"  person_id TEXT NOT NULL CHECK (length(person_id) = 10),"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('pending', 'running', 'done', 'failed')),"
	"  job_id INTEGER REFERENCES jobs(id),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (batch_id, row),"
	"  UNIQUE (batch_id, person_id));"
	"CREATE UNIQUE INDEX batch_rows_job ON batch_rows(job_id)"
	"  WHERE job_id IS NOT NULL;"
	"CREATE INDEX batch_rows_person ON batch_rows(person_id);", NULL },
};
#define STORE_N_MIGRATIONS \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

_Static_assert(STORE_N_MIGRATIONS == STORE_SCHEMA_VERSION,
    "one migration per schema version");

/* ---- helpers ---------------------------------------------------------------- */

enum pv_err
store_collect(struct store *st, sqlite3_stmt *stmt, size_t size,
    store_row_fn *row, void *arg, store_drop_fn *drop, const char *op,
    void **out, size_t *n_out, struct pv_why *why)
{
	unsigned char *list = NULL, *grown;
	size_t n = 0, cap = 0, c;
	enum pv_err r;
	int rc;

	*out = NULL;
	*n_out = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			c = cap ? 2 * cap : 8;
			if (c > SIZE_MAX / size ||
			    (grown = realloc(list, c * size)) == NULL) {
				r = pv_why_set(why, PV_E_NOMEM, "%s: out of "
				    "memory", op);
				goto out;
			}
			list = grown;
			cap = c;
		}
		memset(list + n * size, 0, size);
		if ((r = row(stmt, list + n * size, arg)) != PV_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = store_db_err(st, sqlite3_extended_errcode(st->db), op, why);
		goto out;
	}
	*out = list;
	*n_out = n;
	list = NULL;
	r = PV_OK;
out:
	if (list != NULL && drop != NULL)
		drop(list, n);
	else
		free(list);
	return r;
}

enum pv_err
store_db_err(struct store *st, int rc, const char *op, struct pv_why *why)
{
	const char *msg = st != NULL && st->db != NULL ?
	    sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
	enum pv_err e = PV_E_DB;

	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		switch (rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			e = PV_E_EXISTS;
			break;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			e = PV_E_NO_RECORD;
			break;
		default:
			e = PV_E_INVAL;
			break;
		}
	}
	return pv_why_set(why, e, "%s: %s", op, msg);
}

enum pv_err
store_prepare(struct store *st, const char *sql, sqlite3_stmt **out,
    const char *op, struct pv_why *why)
{
	int rc;

	*out = NULL;
	rc = sqlite3_prepare_v3(st->db, sql, -1, 0, out, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return store_db_err(st, rc, op, why);
	}
	return PV_OK;
}

enum pv_err
store_step_done(struct store *st, sqlite3_stmt *stmt, const char *op,
    struct pv_why *why)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PV_OK;
	return store_db_err(st, sqlite3_extended_errcode(st->db), op, why);
}

enum pv_err
store_step_row(struct store *st, sqlite3_stmt *stmt, const char *op,
    const char *what, struct pv_why *why)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return PV_OK;
	if (rc == SQLITE_DONE)
		return pv_why_set(why, PV_E_NO_RECORD, "%s: %s not found", op,
		    what);
	return store_db_err(st, sqlite3_extended_errcode(st->db), op, why);
}

void
store_col_text(sqlite3_stmt *stmt, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(stmt, i);
	size_t n = (size_t)sqlite3_column_bytes(stmt, i);

	if (cap == 0)
		return;
	if (t == NULL)
		n = 0;
	if (n > cap - 1)
		n = cap - 1;
	if (n > 0)
		memcpy(out, t, n);
	out[n] = '\0';
}

bool
store_col_blob(sqlite3_stmt *stmt, int i, uint8_t *out, size_t n)
{
	const void *p = sqlite3_column_blob(stmt, i);

	if (p == NULL || (size_t)sqlite3_column_bytes(stmt, i) != n)
		return false;
	memcpy(out, p, n);
	return true;
}

bool
store_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
	return sqlite3_bind_text(stmt, i, s ? s : "", -1, SQLITE_TRANSIENT) ==
	    SQLITE_OK;
}

bool
store_bind_i64(sqlite3_stmt *stmt, int i, int64_t v)
{
	return sqlite3_bind_int64(stmt, i, v) == SQLITE_OK;
}

bool
store_bind_blob(sqlite3_stmt *stmt, int i, const void *p, size_t n)
{
	if (n > 0x7fffffff)
		return false;
	return sqlite3_bind_blob(stmt, i, n ? p : "", (int)n,
	    SQLITE_TRANSIENT) == SQLITE_OK;
}

void
store_jstr(json_object *o, const char *key, const char *v)
{
	json_object *s;

	if (o == NULL || (s = json_object_new_string(v ? v : "")) == NULL)
		return;
	if (json_object_object_add(o, key, s) != 0)
		json_object_put(s);
}

void
store_jint(json_object *o, const char *key, int64_t v)
{
	json_object *s;

	if (o == NULL || (s = json_object_new_int64(v)) == NULL)
		return;
	if (json_object_object_add(o, key, s) != 0)
		json_object_put(s);
}

void
store_jhex(json_object *o, const char *key, const uint8_t *p, size_t n)
{
	char *h;

	if (o == NULL || n > 4096 || (h = malloc(2 * n + 1)) == NULL)
		return;
	buf_hex(p, n, h);
	store_jstr(o, key, h);
	free(h);
}

json_object *
store_jobj_parse(const char *json)
{
	json_object *o = json != NULL ? json_tokener_parse(json) : NULL;

	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o != NULL ? o : json_object_new_object();
}

enum pv_err
store_audit(struct store *st, const char *action, const char *object,
    json_object *detail, struct pv_why *why)
{
	const char *text = "{}";
	enum pv_err r;

	if (detail != NULL)
		text = json_object_to_json_string_ext(detail,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	r = store_audit_append_locked(st, action, object, text ? text : "{}", why);
	json_object_put(detail);
	return r;
}

enum pv_err
store_audit_row(struct store *st, const char *action, const char *object,
    json_object *detail, const char *table, int64_t id, struct pv_why *why)
{
	enum pv_err r;

	if (detail == NULL)
		return pv_why_set(why, PV_E_NOMEM, "%s: out of memory", action);
	if ((r = store_jrow(st, detail, table, id, why)) != PV_OK) {
		json_object_put(detail);
		return r;
	}
	return store_audit(st, action, object, detail, why);
}

/* ---- open, close, migrate ----------------------------------------------------------- */

static enum pv_err
store_exec(struct store *st, const char *sql, const char *op,
    struct pv_why *why)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_db_err(st, sqlite3_extended_errcode(st->db), op,
		    why);
	return PV_OK;
}

static enum pv_err
store_read_version(struct store *st, int *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;
	int rc;

	*out = 0;
	r = store_prepare(st, "SELECT count(*) FROM sqlite_schema WHERE "
	    "type = 'table' AND name = 'schema_version'", &s,
	    "read schema version", why);
	if (r != PV_OK)
		return r;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = store_db_err(st, rc, "read schema version", why);
		goto out;
	}
	if (sqlite3_column_int(s, 0) == 0) {
		r = PV_OK;	/* a new, empty database */
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if ((r = store_prepare(st, "SELECT version FROM schema_version", &s,
	    "read schema version", why)) != PV_OK)
		goto out;
	if ((r = store_step_row(st, s, "read schema version", "version row",
	    why)) != PV_OK)
		goto out;
	*out = sqlite3_column_int(s, 0);
	r = PV_OK;
out:
	sqlite3_finalize(s);
	return r;
}

/* The digests of every row of the tables migrations from+1.. bind. */
static enum pv_err
store_migrate_bind(struct store *st, int from, json_object *d,
    struct pv_why *why)
{
	const char *done[16];
	const char *const *t;
	size_t n_done = 0, i;
	enum pv_err r = PV_OK;
	int v;

	for (v = from; r == PV_OK && v < STORE_SCHEMA_VERSION; v++) {
		for (t = store_migrations[v].bind; r == PV_OK && t != NULL &&
		    *t != NULL; t++) {
			for (i = 0; i < n_done && strcmp(done[i], *t) != 0; i++)
				;
			if (i < n_done)
				continue;
			if (n_done < sizeof(done) / sizeof(done[0]))
				done[n_done++] = *t;
			r = store_jrows_all(st, d, *t, why);
		}
	}
	return r;
}

/*
 * Brings the schema to STORE_SCHEMA_VERSION in one transaction with one
 * audit row: "store.create" for a new store, else "store.migrate" with
 * the versions crossed.
 */
static enum pv_err
store_migrate(struct store *st, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d = NULL;
	int v, from;
	enum pv_err r;

	if ((r = store_read_version(st, &v, why)) != PV_OK)
		return r;
	if (v > STORE_SCHEMA_VERSION)
		return pv_why_set(why, PV_E_STATE,
		    "the store has schema version %d; this pivstation knows "
		    "up to %d: use a newer pivstation", v, STORE_SCHEMA_VERSION);
	if (v == STORE_SCHEMA_VERSION) {
		st->version = v;
		return PV_OK;
	}
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	from = v;
	if (v == 0)
		r = store_exec(st, "CREATE TABLE schema_version ("
		    "version INTEGER NOT NULL); INSERT INTO "
		    "schema_version VALUES (0);", "create store", why);
	if (r == PV_OK && (d = json_object_new_object()) == NULL)
		r = pv_why_set(why, PV_E_NOMEM, "migrate the store: out of "
		    "memory");
	for (; r == PV_OK && v < STORE_SCHEMA_VERSION; v++)
		if (store_migrations[v].sql != NULL)
			r = store_exec(st, store_migrations[v].sql,
			    "migrate the store", why);
	/* The rows of the tables the log starts to vouch for (or whose
	 * columns changed), digested once over the final schema. */
	r = r == PV_OK ? store_migrate_bind(st, from, d, why) : r;
	if (r == PV_OK)
		r = store_prepare(st, "UPDATE schema_version SET version = ?1",
		    &s, "migrate the store", why);
	if (r == PV_OK && !store_bind_i64(s, 1, v))
		r = store_db_err(st, SQLITE_ERROR, "migrate", why);
	if (r == PV_OK)
		r = store_step_done(st, s, "migrate the store", why);
	sqlite3_finalize(s);
	if (r == PV_OK) {
		store_jint(d, "from", from);
		store_jint(d, "to", v);
		r = store_audit(st, from == 0 ? "store.create" :
		    "store.migrate", "store", d, why);
		d = NULL;	/* store_audit released it */
	}
	json_object_put(d);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) != PV_OK)
		return r;
	st->version = v;
	return PV_OK;
}

static enum pv_err
store_check_files(const char *path, struct pv_why *why)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[PATH_MAX];
	size_t i;
	enum pv_err r;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >=
		    (int)sizeof(p))
			return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long",
			    path);
		if ((r = secret_check_path(p, false, i == 0, why)) != PV_OK)
			return r;
	}
	return PV_OK;
}

enum pv_err
store_open(const char *path, const struct store_opts *opts,
    struct store **out, struct pv_why *why)
{
	struct store *st = NULL;
	const char *actor = opts && opts->actor ? opts->actor : "station";
	unsigned busy = opts && opts->busy_timeout_ms ?
	    opts->busy_timeout_ms : 5000;
	sqlite3_stmt *s = NULL;
	enum pv_err r = PV_E_INTERNAL;
	int rc, fd;

	*out = NULL;
	if (strlen(actor) >= AUDIT_ACTOR_MAX || actor[0] == '\0')
		return pv_why_set(why, PV_E_INVAL,
		    "actor name must be 1-%d bytes", AUDIT_ACTOR_MAX - 1);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return PV_E_NOMEM;
	strcpy(st->actor, actor);
	if (opts != NULL && opts->audit_key != NULL) {
		memcpy(st->audit_key, opts->audit_key, sizeof(st->audit_key));
		st->has_key = true;
	}
	if (opts != NULL && opts->head_path != NULL) {
		if (strlen(opts->head_path) >= sizeof(st->head_path)) {
			r = pv_why_set(why, PV_E_TOO_LONG, "head path too long");
			goto out;
		}
		strcpy(st->head_path, opts->head_path);
	}
	if (opts != NULL && opts->anchor_path != NULL) {
		if (strlen(opts->anchor_path) >= sizeof(st->anchor_path)) {
			r = pv_why_set(why, PV_E_TOO_LONG, "anchor path too "
			    "long");
			goto out;
		}
		strcpy(st->anchor_path, opts->anchor_path);
	}
	/*
	 * Create the file 0600 ourselves: SQLite would use 0644 less the
	 * umask, and gives the -wal and -shm files the database's mode.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd >= 0)
		(void)close(fd);
	else if (errno != EEXIST) {
		r = pv_why_set(why, PV_E_IO, "%s: cannot create: %s", path,
		    strerror(errno));
		goto out;
	}
	/* Personal data: the one rule for private files, for the database
	 * and the journal files SQLite keeps beside it. */
	if ((r = store_check_files(path, why)) != PV_OK)
		goto out;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = pv_why_set(why, PV_E_DB, "open %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto out;
	}
	(void)sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_busy_timeout(st->db, (int)busy) != SQLITE_OK) {
		r = store_db_err(st, SQLITE_ERROR, "set busy timeout", why);
		goto out;
	}
	/* journal_mode answers with a row: check that WAL was taken. */
	if ((r = store_prepare(st, "PRAGMA journal_mode = WAL", &s,
	    "set WAL mode", why)) != PV_OK)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_text(s, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		r = pv_why_set(why, PV_E_DB, "%s: cannot switch to WAL mode: %s",
		    path, sqlite3_errmsg(st->db));
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* secure_delete: what a row held (an activation's payload) is
	 * overwritten when the row lets it go, not left in free pages. */
	if ((r = store_exec(st, "PRAGMA foreign_keys = ON;"
	    "PRAGMA secure_delete = ON;"
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA trusted_schema = OFF;", "set pragmas", why)) != PV_OK)
		goto out;
	if ((r = store_migrate(st, why)) != PV_OK)
		goto out;
	*out = st;
	st = NULL;
	r = PV_OK;
out:
	sqlite3_finalize(s);
	if (r != PV_OK)
		pv_why_prefix(why, "store %s", path);
	store_close(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL) {
		if (st->depth > 0)
			(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL,
			    NULL);
		(void)sqlite3_close_v2(st->db);
	}
	OPENSSL_cleanse(st->audit_key, sizeof(st->audit_key));
	free(st);
}

int
store_schema_version(const struct store *st)
{
	return st->version;
}

int64_t
store_now(const struct store *st)
{
	return st->clock != 0 ? st->clock : (int64_t)time(NULL);
}

void
store_set_clock(struct store *st, int64_t t)
{
	st->clock = t;
}

/* ---- transactions -------------------------------------------------------------------- */

/*
 * The outermost level is BEGIN IMMEDIATE ... COMMIT; inner levels are
 * savepoints, all named "pv": SQLite's RELEASE / ROLLBACK TO act on the
 * most recent savepoint of that name, which is the innermost.
 */
enum pv_err
store_begin(struct store *st, struct pv_why *why)
{
	enum pv_err r;

	r = store_exec(st, st->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT pv",
	    "begin a transaction", why);
	if (r == PV_OK) {
		if (st->depth == 0)
			st->tx_appended = false;
		st->depth++;
	}
	return r;
}

enum pv_err
store_commit(struct store *st, struct pv_why *why)
{
	enum pv_err r;

	if (st->depth <= 0)
		return pv_why_set(why, PV_E_STATE, "commit without begin");
	if (st->depth > 1) {
		r = store_exec(st, "RELEASE pv", "end a savepoint", why);
		if (r != PV_OK) {
			store_rollback(st);
			return r;
		}
		st->depth--;
		return PV_OK;
	}
	if (st->head_dirty && (r = store_audit_before_commit(st, why)) !=
	    PV_OK) {
		store_rollback(st);
		return r;
	}
	r = store_exec(st, "COMMIT", "commit", why);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	st->depth = 0;
	st->tx_appended = false;
	if (st->head_dirty) {
		st->head_dirty = false;
		store_audit_files_after_commit(st);
	}
	return PV_OK;
}

void
store_rollback(struct store *st)
{
	if (st->depth <= 0)
		return;
	if (st->depth > 1) {
		(void)sqlite3_exec(st->db, "ROLLBACK TO pv; RELEASE pv", NULL,
		    NULL, NULL);
		/* The rows of the transaction's first appender are gone: the
		 * next row starts it again (audit_head.tx_start). */
		if (st->tx_appended && st->tx_appended_depth >= st->depth)
			st->tx_appended = false;
	} else if (sqlite3_get_autocommit(st->db) == 0)
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->depth--;
	if (st->depth == 0) {
		st->head_dirty = false;
		st->tx_appended = false;
	}
}
