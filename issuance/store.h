/*
 * store.h: the station's SQLite store.
 *
 * One file (<home>/store.db) in WAL mode with foreign keys on and a busy
 * timeout, so several pivstation processes (batch on several readers, the
 * console) can share it.  The schema is created and migrated in code
 * (store.c, table schema_version).  Every statement is a fixed string with
 * bound parameters.
 *
 * Tables: people, devices, certificates, escrow, jobs, job_steps,
 * credential_numbers, counters (CRL number), operators, derived,
 * activations, audit, audit_head, batches and batch_rows (store_batch.h).
 *
 * Every call that changes state appends an audit row (audit.h) in the same
 * transaction, naming the actor given at open.  Calls are atomic on their
 * own; to make several calls one unit (record a certificate and mark the
 * job step that made it done), wrap them in store_begin()/store_commit():
 * transactions nest (inner ones are savepoints), and a failure anywhere
 * is undone by store_rollback() back to the matching store_begin().
 *
 * Errors: PV_E_DB for SQLite failures (|why| names the operation and
 * SQLite's message), PV_E_EXISTS for a uniqueness violation (the row, or
 * an active certificate for the slot, or a live device with the serial,
 * already exists), PV_E_NO_RECORD for a missing row or a reference to one,
 * PV_E_INVAL for a value the schema refuses, PV_E_STATE for a change the
 * row's state does not allow.
 *
 * Rows are returned as plain structs in the caller's storage.  A few
 * carry heap fields (certificate PEM, escrow CMS): free them with the
 * matching *_cleanup / *_free_list call.  A struct store is one
 * connection, used by one thread at a time; threads open one each
 * (station_store_open), and SQLite's locks with the busy timeout order
 * their writes.
 *
 * How the issuance workflow is meant to use it (DESIGN.md "Primary
 * issuance", issue 5 §7), see also job.h:
 *   - find or add the person (store_person_put), start or resume the job;
 *   - add the device row (status ISSUING) once the card is known;
 *   - allocate the credential number once and keep it in the step detail;
 *   - escrow the 9D key with store_escrow_add() BEFORE the import: adding
 *     the same key again (same fingerprint) is a no-op, so a resumed job
 *     never duplicates an envelope, and an older envelope is kept (not
 *     current) rather than deleted, so no escrowed key is ever lost;
 *   - record each certificate (store_cert_add) before writing it to the
 *     card; on resume compare store_cert_active()'s spki_sha256 with the
 *     card's key: equal = reuse, different = store_cert_revoke() it
 *     (superseded) and add the new one in the same transaction.  The
 *     partial UNIQUE index makes a second live certificate per device and
 *     slot impossible (PV_E_EXISTS);
 *   - finally set the device ACTIVE with its issue date and expiry.
 */
#ifndef PV_ISSUANCE_STORE_H
#define PV_ISSUANCE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/home.h"
#include "issuance/audit.h"
#include "issuance/identity.h"

#define STORE_SCHEMA_VERSION	7

struct store;	/* opaque */

struct store_opts {
	/*
	 * HMAC-SHA256 key (32 bytes) authenticating the audit log head
	 * (audit.h).  NULL leaves the head unauthenticated: tests only.
	 */
	const uint8_t *audit_key;
	/* File that mirrors the authenticated head (audit.h); NULL: none. */
	const char *head_path;
	/* File outside the home the heads are appended to; NULL: none. */
	const char *anchor_path;
	/* Who acts (operator name); recorded in each audit row.  NULL:
	 * "station". At most 63 bytes. */
	const char *actor;
	/* SQLite busy timeout; 0 = 5000 ms. */
	unsigned busy_timeout_ms;
};

/*
 * store_open opens (creating if needed) the database |path| and brings its
 * schema to STORE_SCHEMA_VERSION.  A database from a newer version is
 * refused (PV_E_STATE).  On success *out is a new handle for
 * store_close().  Copies what it needs from |opts| (NULL = all defaults).
 * Returns PV_OK, PV_E_DB, PV_E_STATE, PV_E_NOMEM.
 */
enum pv_err store_open(const char *path, const struct store_opts *opts,
    struct store **out, struct pv_why *why);

/* store_close rolls back an open transaction, closes, wipes the audit key.
 * NULL allowed. */
void store_close(struct store *st);

/* store_schema_version returns the schema version of the open store. */
int store_schema_version(const struct store *st);

/*
 * store_begin starts a transaction (BEGIN IMMEDIATE: the write lock is
 * taken now, so a concurrent writer waits for the busy timeout instead of
 * failing later) or, inside one, a savepoint.  store_commit ends the
 * innermost; store_rollback undoes it.  Each store_begin() that returned
 * PV_OK must be matched by exactly one store_commit() or store_rollback().
 * If store_commit() fails, the innermost level is rolled back.
 */
enum pv_err store_begin(struct store *st, struct pv_why *why);
enum pv_err store_commit(struct store *st, struct pv_why *why);
void store_rollback(struct store *st);

/* store_now returns the clock the store stamps rows with (Unix seconds). */
int64_t store_now(const struct store *st);

/* store_set_clock fixes the clock to |t| (tests); 0 returns to time(). */
void store_set_clock(struct store *st, int64_t t);

/* ---- people ------------------------------------------------------------- */

struct store_person {
	int64_t id;
	struct identity ident;		/* ident.person_id is unique */
	int64_t created_at;
	int64_t updated_at;
};

/* What store_person_put does with a person whose details differ. */
enum store_person_mode {
	STORE_PERSON_REFUSE,	/* refuse: the same id, another person? */
	STORE_PERSON_UPDATE	/* update: the change is intended */
};

/*
 * store_person_put records |ident|: a new row when no person has
 * ident->person_id; the same row, untouched, when its fields are equal;
 * when they differ, with STORE_PERSON_REFUSE, PV_E_INPUT with |why|
 * listing each differing field ("given_name 'Alice', given
 * 'Alicia'"), with STORE_PERSON_UPDATE the row updated and every
 * old value kept in the person.update audit row.  Sets *out_id.  Audited
 * as person.add or person.update (nothing when equal).  PV_E_EXISTS when
 * another person already has the same email.
 */
enum pv_err store_person_put(struct store *st, const struct identity *ident,
    enum store_person_mode mode, int64_t *out_id, struct pv_why *why);

/* store_person_get / _find_*: PV_E_NO_RECORD when there is no such row. */
enum pv_err store_person_get(struct store *st, int64_t id,
    struct store_person *out, struct pv_why *why);
enum pv_err store_person_find_external(struct store *st,
    const char *person_id, struct store_person *out, struct pv_why *why);
enum pv_err store_person_find_email(struct store *st, const char *email,
    struct store_person *out, struct pv_why *why);	/* case-insensitive */

/*
 * store_person_search lists up to |max| people whose person_id, email or
 * names start with |text| (case-insensitive; "" lists the most recently
 * changed), most recently changed first, into a new array (*out, free
 * with free()).  For an officer picking a person already enrolled.
 */
enum pv_err store_person_search(struct store *st, const char *text,
    size_t max, struct store_person **out, size_t *n_out,
    struct pv_why *why);

/* ---- devices ------------------------------------------------------------ */

enum store_device_type {
	STORE_DEV_CARD,		/* "card" */
	STORE_DEV_USB_KEY,	/* "usb-key" */
	STORE_DEV_MOBILE	/* "mobile" */
};

enum store_device_status {
	STORE_DEV_ISSUING,	/* "issuing": a job is personalising it */
	STORE_DEV_ACTIVE,	/* "active" */
	STORE_DEV_SUSPENDED,	/* "suspended" */
	STORE_DEV_TERMINATED	/* "terminated": never live again */
};

#define STORE_ATR_MAX		33
#define STORE_SERIAL_TEXT_MAX	64

struct store_device {
	int64_t id;
	int64_t person_id;
	enum store_device_type type;
	uint8_t atr[STORE_ATR_MAX];
	size_t atr_len;
	char serial[STORE_SERIAL_TEXT_MAX];	/* token serial; "" if none */
	uint8_t guid[16];			/* card UUID */
	bool has_guid;
	uint8_t fascn[25];
	bool has_fascn;
	enum store_device_status status;
	bool key_9d_escrowed;	/* false: 9D generated on the card (policy
				   optional) or not yet escrowed */
	int64_t expires_at;	/* 0 = not set */
	int64_t issued_at;	/* 0 = not issued yet */
	int64_t created_at;
	int64_t updated_at;
};

/*
 * store_device_add inserts |d| (its id and timestamps are ignored) and
 * sets *out_id.  The GUID and FASC-N are unique over all devices; the
 * serial is unique among devices that are not terminated (PV_E_EXISTS).
 */
enum pv_err store_device_add(struct store *st, const struct store_device *d,
    int64_t *out_id, struct pv_why *why);

/*
 * store_device_update writes the mutable fields of |d| (ATR, serial, GUID,
 * FASC-N, status, escrow flag, expiry, issue date) to row d->id.  A
 * terminated device cannot change (PV_E_STATE).
 */
enum pv_err store_device_update(struct store *st, const struct store_device *d,
    struct pv_why *why);

/* store_device_set_status changes only the status (same rules). */
enum pv_err store_device_set_status(struct store *st, int64_t id,
    enum store_device_status status, struct pv_why *why);

/*
 * store_device_terminate revokes every live certificate of the device with
 * |reason| (STORE_REASON_*) and sets it TERMINATED, in one transaction:
 * a card that is re-issued, lost or returned.  *out_revoked (may be NULL)
 * counts the certificates revoked.  PV_E_STATE if already terminated.
 */
enum pv_err store_device_terminate(struct store *st, int64_t id, int reason,
    size_t *out_revoked, struct pv_why *why);

enum pv_err store_device_get(struct store *st, int64_t id,
    struct store_device *out, struct pv_why *why);
/* The device with this serial that is not terminated. */
enum pv_err store_device_find_serial(struct store *st, const char *serial,
    struct store_device *out, struct pv_why *why);
/* The device (of any status) with this CHUID GUID, or FASC-N. */
enum pv_err store_device_find_guid(struct store *st, const uint8_t guid[16],
    struct store_device *out, struct pv_why *why);
enum pv_err store_device_find_fascn(struct store *st, const uint8_t fascn[25],
    struct store_device *out, struct pv_why *why);

/* store_device_list_person: all of a person's devices, oldest first; free
 * *out with free(). */
enum pv_err store_device_list_person(struct store *st, int64_t person_id,
    struct store_device **out, size_t *n_out, struct pv_why *why);

const char *store_device_type_name(enum store_device_type t);
const char *store_device_status_name(enum store_device_status s);
bool store_device_type_parse(const char *s, enum store_device_type *out);

/* ---- certificates --------------------------------------------------------- */

enum store_cert_status {
	STORE_CERT_ACTIVE,	/* "active" */
	STORE_CERT_ON_HOLD,	/* "on-hold" (CRL reason certificateHold) */
	STORE_CERT_REVOKED	/* "revoked": final */
};

/* RFC 5280 CRLReason values used here. */
#define STORE_REASON_UNSPECIFIED	0
#define STORE_REASON_KEY_COMPROMISE	1
#define STORE_REASON_AFFILIATION_CHANGED 3
#define STORE_REASON_SUPERSEDED		4
#define STORE_REASON_CESSATION		5
#define STORE_REASON_HOLD		6

#define STORE_CERT_SERIAL_MAX	41	/* 20 bytes as hex + NUL */

struct store_cert {
	int64_t id;
	int64_t device_id;
	uint8_t slot;			/* key reference: 0x9a 0x9c 0x9d 0x9e ... */
	char serial[STORE_CERT_SERIAL_MAX];	/* lowercase hex, unique */
	char *pem;			/* owned; NULL in CRL listings */
	uint8_t spki_sha256[32];	/* SHA-256 of the SubjectPublicKeyInfo */
	int64_t not_before;
	int64_t not_after;
	enum store_cert_status status;
	int64_t revoked_at;		/* 0 unless revoked / on hold */
	int reason;			/* STORE_REASON_*, -1 when none */
	int64_t created_at;
};

/*
 * store_cert_add records certificate |c| (id, created_at, revocation
 * fields ignored; status must be ACTIVE or ON_HOLD) and sets *out_id
 * (may be NULL).  The serial must be 1-40 hex digits and is stored in
 * lowercase.  PV_E_EXISTS for a known serial or when the device already
 * has a live (active or on-hold) certificate in that slot: the partial
 * UNIQUE index enforces "never two live certificates per slot".
 */
enum pv_err store_cert_add(struct store *st, const struct store_cert *c,
    int64_t *out_id, struct pv_why *why);

/*
 * store_cert_revoke marks the certificate with |serial| revoked at
 * |when| (0 = now) for |reason|.  PV_E_STATE if it is already revoked.
 */
enum pv_err store_cert_revoke(struct store *st, const char *serial,
    int reason, int64_t when, struct pv_why *why);

/* store_cert_set_hold puts an active certificate on hold (|hold|) or
 * releases one from hold.  PV_E_STATE when the status does not allow it. */
enum pv_err store_cert_set_hold(struct store *st, const char *serial,
    bool hold, struct pv_why *why);

/* store_cert_get_serial: PV_E_NO_RECORD when unknown.  Cleanup |out|. */
enum pv_err store_cert_get_serial(struct store *st, const char *serial,
    struct store_cert *out, struct pv_why *why);

/*
 * store_cert_status reads only the status of the certificate with
 * |serial| (1-40 hex digits, any case), with its revocation time and
 * reason (-1: none) when revoked or on hold: what an OCSP responder
 * answers from.  PV_E_NO_RECORD for a serial the store does not know.
 */
enum pv_err store_cert_status(struct store *st, const char *serial,
    enum store_cert_status *status, int64_t *revoked_at, int *reason,
    struct pv_why *why);

/*
 * store_cert_live returns the device's live (active or on-hold)
 * certificate in |slot|: at most one exists.  PV_E_NO_RECORD when none.
 */
enum pv_err store_cert_live(struct store *st, int64_t device_id,
    uint8_t slot, struct store_cert *out, struct pv_why *why);

/*
 * store_cert_find_spki: the newest certificate of the device's |slot|
 * (any status) whose key hashes to |spki_sha256| (the key of an escrow
 * envelope).  PV_E_NO_RECORD when none.  Cleanup |out|.
 */
enum pv_err store_cert_find_spki(struct store *st, int64_t device_id,
    uint8_t slot, const uint8_t spki_sha256[32], struct store_cert *out,
    struct pv_why *why);

/* store_cert_list_device: all certificates of a device, oldest first. */
enum pv_err store_cert_list_device(struct store *st, int64_t device_id,
    struct store_cert **out, size_t *n_out, struct pv_why *why);

/*
 * store_cert_list_crl: every revoked or on-hold certificate (for the CRL),
 * by serial, without PEM.  Free with store_cert_free_list().
 */
enum pv_err store_cert_list_crl(struct store *st, struct store_cert **out,
    size_t *n_out, struct pv_why *why);

/* store_cert_cleanup frees c->pem (safe on a zeroed struct, twice). */
void store_cert_cleanup(struct store_cert *c);
void store_cert_free_list(struct store_cert *list, size_t n);

const char *store_cert_status_name(enum store_cert_status s);

/* ---- escrow --------------------------------------------------------------- */

enum store_escrow_kind {
	STORE_ESCROW_KEY_9D,	/* "9d-key": the Key Management private key */
	STORE_ESCROW_PUK	/* "puk" */
};

#define STORE_ESCROW_CMS_MAX	(64 * 1024)

struct store_escrow {
	int64_t id;
	int64_t person_id;
	int64_t device_id;
	enum store_escrow_kind kind;
	uint8_t *cms;			/* owned: CMS EnvelopedData DER */
	size_t cms_len;
	/*
	 * Identifies what is escrowed without revealing it: for 9d-key the
	 * SHA-256 of the public key's SubjectPublicKeyInfo, for puk a value
	 * the caller derives (an HMAC of the PUK under a station key).
	 */
	uint8_t fingerprint[32];
	bool current;
	int64_t created_at;
};

/*
 * store_escrow_add records envelope |e| as the current one for (device,
 * kind).  If the current envelope already has the same fingerprint,
 * nothing changes, *out_existed (may be NULL) is set and *out_id is the
 * existing row: a resumed job calls it again without duplicating.
 * Otherwise the previous current envelope is kept as history (current =
 * 0) and the new one becomes current.  Envelopes are never deleted.
 */
enum pv_err store_escrow_add(struct store *st, const struct store_escrow *e,
    int64_t *out_id, bool *out_existed, struct pv_why *why);

/* The current envelope for (device, kind); PV_E_NO_RECORD if none. */
enum pv_err store_escrow_current(struct store *st, int64_t device_id,
    enum store_escrow_kind kind, struct store_escrow *out,
    struct pv_why *why);

/* The person's newest current envelope of |kind| over devices that are
 * not terminated (recovery, derived credentials). */
enum pv_err store_escrow_current_person(struct store *st, int64_t person_id,
    enum store_escrow_kind kind, struct store_escrow *out,
    struct pv_why *why);

/* All of a person's envelopes of |kind|, newest first (key history). */
enum pv_err store_escrow_list_person(struct store *st, int64_t person_id,
    enum store_escrow_kind kind, struct store_escrow **out, size_t *n_out,
    struct pv_why *why);

void store_escrow_cleanup(struct store_escrow *e);
void store_escrow_free_list(struct store_escrow *list, size_t n);
const char *store_escrow_kind_name(enum store_escrow_kind k);

/* ---- jobs and steps (job.h builds the resumable model on these) --------- */

enum store_job_state {
	STORE_JOB_RUNNING,	/* "running": in progress or interrupted */
	STORE_JOB_DONE,		/* "done" */
	STORE_JOB_FAILED,	/* "failed": stopped for good (policy, input) */
	STORE_JOB_CANCELLED	/* "cancelled" by an operator */
};

enum store_step_state {
	STORE_STEP_PENDING,	/* "pending" */
	STORE_STEP_DONE,	/* "done" */
	STORE_STEP_FAILED	/* "failed": the last attempt failed */
};

#define STORE_JOB_KIND_MAX	32
#define STORE_READER_MAX	128
#define STORE_STEP_NAME_MAX	48
#define STORE_DETAIL_MAX	1024	/* step/job detail text (JSON) */

struct store_job {
	int64_t id;
	char kind[STORE_JOB_KIND_MAX];	/* "issue", ... */
	int64_t person_id;		/* 0 = none */
	char reader[STORE_READER_MAX];
	int64_t device_id;		/* 0 = not known yet */
	enum store_job_state state;
	char detail[STORE_DETAIL_MAX];	/* last error or outcome */
	int64_t created_at;
	int64_t updated_at;
};

struct store_job_step {
	int64_t job_id;
	unsigned seq;			/* order, from 0 */
	char name[STORE_STEP_NAME_MAX];
	enum store_step_state state;
	char detail[STORE_DETAIL_MAX];	/* JSON the workflow keeps */
	int64_t updated_at;
};

/*
 * store_job_create inserts a RUNNING job from |j| (kind, person, reader,
 * device) with |n_steps| pending steps named |steps| (distinct, in order),
 * in one transaction.  Sets *out_id.
 */
enum pv_err store_job_create(struct store *st, const struct store_job *j,
    const char *const *steps, size_t n_steps, int64_t *out_id,
    struct pv_why *why);

enum pv_err store_job_get(struct store *st, int64_t id, struct store_job *out,
    struct pv_why *why);

/*
 * store_job_find_running: the newest RUNNING job of |kind| for
 * |person_id|.  PV_E_NO_RECORD when none.
 */
enum pv_err store_job_find_running(struct store *st, const char *kind,
    int64_t person_id, struct store_job *out, struct pv_why *why);

/* All RUNNING jobs, oldest first; free *out with free(). */
enum pv_err store_job_list_running(struct store *st, struct store_job **out,
    size_t *n_out, struct pv_why *why);
/* Every job, any state, oldest first; free *out with free(). */
enum pv_err store_job_list_all(struct store *st, struct store_job **out,
    size_t *n_out, struct pv_why *why);

/*
 * store_job_set_state moves a RUNNING job to |state| with |detail| (NULL =
 * ""); a finished job cannot change (PV_E_STATE).
 */
enum pv_err store_job_set_state(struct store *st, int64_t id,
    enum store_job_state state, const char *detail, struct pv_why *why);

/* store_job_set_device records the device a RUNNING job works on. */
enum pv_err store_job_set_device(struct store *st, int64_t id,
    int64_t device_id, struct pv_why *why);

/* store_job_steps: the job's steps in order; free *out with free(). */
enum pv_err store_job_steps(struct store *st, int64_t job_id,
    struct store_job_step **out, size_t *n_out, struct pv_why *why);

/*
 * store_job_step_set sets step |name| of a RUNNING job to |state| with
 * |detail| (NULL = keep the old detail).  PV_E_NO_RECORD for an unknown
 * step, PV_E_STATE when the job is finished, PV_E_TOO_LONG for a detail
 * of STORE_DETAIL_MAX bytes or more.
 */
enum pv_err store_job_step_set(struct store *st, int64_t job_id,
    const char *name, enum store_step_state state, const char *detail,
    struct pv_why *why);

const char *store_job_state_name(enum store_job_state s);
const char *store_step_state_name(enum store_step_state s);

/* ---- counters ------------------------------------------------------------- */

/*
 * store_credential_number_next allocates the next FASC-N credential
 * number (1..999999) for |agency_code| + |system_code| (4 digits each),
 * unique for that pair, in a transaction; |job_id| (0 = none) is recorded
 * with it.  PV_E_STATE when all numbers are used, PV_E_INVAL for codes
 * that are not 4 digits.
 */
enum pv_err store_credential_number_next(struct store *st,
    const char *agency_code, const char *system_code, int64_t job_id,
    uint32_t *out, struct pv_why *why);

/* store_crl_number_next returns the next CRL number (1, 2, ...). */
enum pv_err store_crl_number_next(struct store *st, uint64_t *out,
    struct pv_why *why);

/* ---- operators ----------------------------------------------------------------- */

enum store_role {
	STORE_ROLE_ENROLLER,	/* "enroller": issues and derives */
	STORE_ROLE_HELP_DESK,	/* "help-desk": unblock, lifecycle, recovery */
	STORE_ROLE_ADMIN	/* "administrator": everything, operators, CA */
};

#define STORE_OPERATOR_NAME_MAX	64	/* AUDIT_ACTOR_MAX */

struct store_operator {
	int64_t id;
	char name[STORE_OPERATOR_NAME_MAX];
	enum store_role role;
	bool disabled;
	int64_t person_id;		/* 0: not linked to a person */
	uint8_t card_uuid[16];		/* the operator's PIV card (its 9A SAN
					 * UUID), for signing in with it */
	bool has_card_uuid;
	int64_t created_at;
	int64_t updated_at;
};

/*
 * store_operator_add records operator |o| (id and times ignored) and sets
 * *out_id (may be NULL).  PV_E_EXISTS for a name (or card) already
 * registered.  Audited as operator.add.
 */
enum pv_err store_operator_add(struct store *st, const struct store_operator *o,
    int64_t *out_id, struct pv_why *why);

/* store_operator_get / _find_card: PV_E_NO_RECORD when there is none. */
enum pv_err store_operator_get(struct store *st, const char *name,
    struct store_operator *out, struct pv_why *why);
enum pv_err store_operator_find_card(struct store *st,
    const uint8_t uuid[16], struct store_operator *out, struct pv_why *why);

/* store_operator_list: every operator by name; free *out with free(). */
enum pv_err store_operator_list(struct store *st, struct store_operator **out,
    size_t *n_out, struct pv_why *why);

/*
 * store_operator_set writes the role, disabled flag, person and card of
 * operator o->name, audited as operator.update with |reason| (NULL
 * allowed) and the old values.  PV_E_NO_RECORD for an unknown name.
 */
enum pv_err store_operator_set(struct store *st, const struct store_operator *o,
    const char *reason, struct pv_why *why);

const char *store_role_name(enum store_role r);
bool store_role_parse(const char *s, enum store_role *out);

/* ---- derived credentials (SP 800-157) ------------------------------------------- */

/*
 * A derived credential is a device of type STORE_DEV_MOBILE (its
 * certificates, its lifecycle state) plus this row: the primary card it
 * was derived from, the derive job that made it, the primary's PIV
 * Authentication certificate checked then, and the re-check schedule.
 */
enum store_derived_target {
	STORE_DERIVED_TOKEN,		/* "token" */
	STORE_DERIVED_P12,		/* "p12" */
	STORE_DERIVED_MOBILECONFIG,	/* "mobileconfig" */
	STORE_DERIVED_CSR		/* "csr" */
};

#define STORE_DN_MAX		512
#define STORE_RECHECK_RESULT_MAX 32
#define STORE_PEM_MAX		(32 * 1024)

struct store_derived {
	int64_t id;
	int64_t device_id;		/* the derived credential's device */
	int64_t primary_id;		/* the primary card's device */
	int64_t person_id;
	int64_t job_id;			/* the derive job; 0: none */
	enum store_derived_target target;
	uint8_t uuid[16];		/* the UUID in its certificates' SAN */
	/* the primary's PIV Authentication certificate it was derived from
	 * (or, after the primary was reissued, its successor's) */
	char pa_serial[STORE_CERT_SERIAL_MAX];	/* lowercase hex */
	char pa_issuer[STORE_DN_MAX];		/* RFC 2253 */
	char *pa_pem;			/* owned; NULL in lists without it */
	uint8_t primary_fascn[25];	/* the card's at derivation */
	bool has_primary_fascn;
	uint8_t primary_uuid[16];
	bool has_primary_uuid;
	int64_t recheck_due;		/* next re-check; 0: none scheduled */
	int64_t recheck_at;		/* last re-check; 0: never */
	char recheck_result[STORE_RECHECK_RESULT_MAX];	/* "good", ... */
	int64_t created_at;
	int64_t updated_at;
	/* read from the device row (not written by store_derived_*) */
	enum store_device_status status;
};

/*
 * store_derived_add records |d| (id, timestamps and status ignored;
 * d->pa_pem required) and sets *out_id (may be NULL).  Audited as
 * derived.add.  PV_E_EXISTS when the device, the job or the UUID already
 * has a derived row; PV_E_NO_RECORD for an unknown device, primary,
 * person or job.
 */
enum pv_err store_derived_add(struct store *st, const struct store_derived *d,
    int64_t *out_id, struct pv_why *why);

/* One row, PEM included; PV_E_NO_RECORD when none.  Cleanup |out|. */
enum pv_err store_derived_get(struct store *st, int64_t id,
    struct store_derived *out, struct pv_why *why);
enum pv_err store_derived_find_device(struct store *st, int64_t device_id,
    struct store_derived *out, struct pv_why *why);
enum pv_err store_derived_find_job(struct store *st, int64_t job_id,
    struct store_derived *out, struct pv_why *why);

/*
 * store_derived_list_primary / _person: the derived credentials of a
 * primary card / of a person, oldest first, without PEM.  Free with
 * store_derived_free_list.
 */
enum pv_err store_derived_list_primary(struct store *st, int64_t primary_id,
    struct store_derived **out, size_t *n_out, struct pv_why *why);
enum pv_err store_derived_list_person(struct store *st, int64_t person_id,
    struct store_derived **out, size_t *n_out, struct pv_why *why);

/*
 * store_derived_list_due: up to |limit| derived credentials that are not
 * terminated, whose re-check is due at |now| (recheck_due in 1..now; with
 * |all|, every one that is not terminated), with id > |after_id|, by id,
 * PEM included: a re-check walks them page by page.
 */
enum pv_err store_derived_list_due(struct store *st, int64_t now, bool all,
    int64_t after_id, size_t limit, struct store_derived **out,
    size_t *n_out, struct pv_why *why);

/*
 * store_derived_set_recheck records a re-check of row |id|: when it ran
 * (|at|), what it found (|result|, at most STORE_RECHECK_RESULT_MAX - 1
 * bytes) and the next due time (0: none).  Audited as derived.recheck
 * with |detail_json| (NULL: {}) merged in.
 */
enum pv_err store_derived_set_recheck(struct store *st, int64_t id,
    int64_t at, const char *result, int64_t due, const char *detail_json,
    struct pv_why *why);

/*
 * store_derived_relink links row |id| to primary device |primary_id| and
 * its PIV Authentication certificate (the primary was reissued: SP
 * 800-157r1 §2.3 leaves derived credentials alone).  Audited as
 * derived.relink.
 */
enum pv_err store_derived_relink(struct store *st, int64_t id,
    int64_t primary_id, const char *pa_serial, const char *pa_issuer,
    const char *pa_pem, struct pv_why *why);

/* store_derived_cleanup frees d->pa_pem (safe on a zeroed struct). */
void store_derived_cleanup(struct store_derived *d);
void store_derived_free_list(struct store_derived *list, size_t n);

const char *store_derived_target_name(enum store_derived_target t);
bool store_derived_target_parse(const char *s,
    enum store_derived_target *out);

/* ---- activations (activation.h builds one-time hand-over on these) ------------ */

enum store_act_kind {
	STORE_ACT_P12,			/* "p12" */
	STORE_ACT_MOBILECONFIG,		/* "mobileconfig" */
	STORE_ACT_SCEP			/* "scep": the device sends a CSR */
};

enum store_act_state {
	STORE_ACT_OPEN,			/* "open" */
	STORE_ACT_COLLECTED,		/* "collected" (or redeemed by SCEP) */
	STORE_ACT_LOCKED,		/* "locked": too many wrong codes */
	STORE_ACT_EXPIRED,		/* "expired" */
	STORE_ACT_CANCELLED		/* "cancelled" */
};

#define STORE_ACT_ID_LEN	22	/* base64url of 16 random bytes */
#define STORE_ACT_NAME_MAX	64
#define STORE_ACT_PAYLOAD_MAX	(1024 * 1024)

struct store_activation {
	int64_t id;
	char public_id[STORE_ACT_ID_LEN + 1];
	int64_t derived_id;
	enum store_act_kind kind;
	uint8_t code_hash[32];		/* keyed hash of the code */
	enum store_act_state state;
	unsigned attempts;		/* wrong codes so far */
	unsigned max_attempts;		/* locks when attempts reaches it */
	uint8_t *payload;		/* owned, encrypted; NULL: none (erased,
					 * or not asked for) */
	size_t payload_len;
	char payload_name[STORE_ACT_NAME_MAX];	/* the file name offered */
	int64_t expires_at;
	int64_t created_at;
	int64_t updated_at;
};

/*
 * store_activation_add records |a| (id, timestamps ignored; state OPEN,
 * attempts 0) and sets *out_id (may be NULL).  Audited as
 * activation.create with |detail_json| (NULL: {}).  PV_E_EXISTS for a
 * public id in use or a code hash of another open activation;
 * PV_E_NO_RECORD for an unknown derived credential.
 */
enum pv_err store_activation_add(struct store *st,
    const struct store_activation *a, const char *detail_json,
    int64_t *out_id, struct pv_why *why);

/*
 * store_activation_get / _find_code: the activation with public id
 * |public_id| / the OPEN one whose code hash is |code_hash|, payload
 * included when |with_payload|.  PV_E_NO_RECORD when there is none.
 * Cleanup |out|.
 */
enum pv_err store_activation_get(struct store *st, const char *public_id,
    bool with_payload, struct store_activation *out, struct pv_why *why);
enum pv_err store_activation_find_code(struct store *st,
    const uint8_t code_hash[32], bool with_payload,
    struct store_activation *out, struct pv_why *why);

/*
 * store_activation_update writes a->state, a->attempts and a->payload
 * (NULL erases it) of row a->id, audited as |action| on it with
 * |detail_json| (NULL: {}).  A row that is not OPEN cannot change
 * (PV_E_STATE).
 */
enum pv_err store_activation_update(struct store *st,
    const struct store_activation *a, const char *action,
    const char *detail_json, struct pv_why *why);

/*
 * store_activation_list_derived: a derived credential's activations,
 * oldest first, without payload.  store_activation_list_overdue: the OPEN
 * ones that expired at |now|.  Free with store_activation_free_list.
 */
enum pv_err store_activation_list_derived(struct store *st,
    int64_t derived_id, struct store_activation **out, size_t *n_out,
    struct pv_why *why);
enum pv_err store_activation_list_overdue(struct store *st, int64_t now,
    struct store_activation **out, size_t *n_out, struct pv_why *why);

/* store_activation_cleanup wipes and frees a->payload. */
void store_activation_cleanup(struct store_activation *a);
void store_activation_free_list(struct store_activation *list, size_t n);

const char *store_act_kind_name(enum store_act_kind k);
bool store_act_kind_parse(const char *s, enum store_act_kind *out);
const char *store_act_state_name(enum store_act_state s);

/* ---- the audit log's storage (audit.c builds the log on these) ------------ */

struct store_audit_head {
	int64_t count;			/* rows in the log */
	uint8_t hash[32];		/* the last row's hash */
	uint8_t mac[32];
	bool has_mac;
	int64_t tx_start;		/* rows before the last transaction */
};

/* store_audit_head reads the head (PV_E_NO_RECORD: its row is gone). */
enum pv_err store_audit_head(struct store *st, struct store_audit_head *out,
    struct pv_why *why);

/*
 * store_audit_append adds a row in the current transaction, or in its own
 * (audit_append is the way for callers outside the store).
 */
enum pv_err store_audit_append(struct store *st, const char *action,
    const char *object, const char *detail_json, struct pv_why *why);

typedef enum pv_err store_audit_row_fn(void *ctx, const struct audit_row *row);

/* store_audit_rows calls |fn| for each row with seq > |since|, in order;
 * an error from |fn| stops and is returned. */
enum pv_err store_audit_rows(struct store *st, int64_t since,
    store_audit_row_fn *fn, void *ctx, struct pv_why *why);

/*
 * store_bound_rows calls |fn| for every row the log vouches for, table by
 * table (|t| = store_bound_table_index of its table) and by id, with its
 * name as audit objects give it and its digest (audit.h).
 */
typedef enum pv_err store_bound_row_fn(void *ctx, int t, const char *table,
    int64_t id, const char *name, const uint8_t digest[32],
    struct pv_why *why);
enum pv_err store_bound_rows(struct store *st, store_bound_row_fn *fn,
    void *ctx, struct pv_why *why);

/*
 * store_dangling looks for rows that refer to a row that is not there
 * (a job step without its job, a certificate without its device: rows
 * deleted or added outside pivstation, with foreign keys not enforced).
 * PV_OK with *found false when there is none; with *found true, |why|
 * names the first ("job_steps row 7 refers to a jobs row that does not
 * exist").
 */
enum pv_err store_dangling(struct store *st, bool *found, struct pv_why *why);

/* store_bound_table_index: the order of a table the log vouches for, or
 * -1 for any other table. */
int store_bound_table_index(const char *table);

/* store_bound_table_name: the table of index |t| ("?" out of range). */
const char *store_bound_table_name(int t);

/* A read snapshot (nothing open: BEGIN ... COMMIT); *began for _end. */
enum pv_err store_snapshot_begin(struct store *st, bool *began,
    struct pv_why *why);
void store_snapshot_end(struct store *st, bool began);

/* The audit key (NULL without one), the head file and anchor paths
 * ("" when none). */
const uint8_t *store_audit_key(const struct store *st);
const char *store_head_path(const struct store *st);
const char *store_anchor_path(const struct store *st);

/*
 * store_audit_files_status: PV_OK, or the first failure to record the head
 * outside the store (head file, anchor) since the store was opened, with
 * |why| saying that the store is committed but the head is not recorded.
 */
enum pv_err store_audit_files_status(const struct store *st,
    struct pv_why *why);

#endif /* PV_ISSUANCE_STORE_H */
