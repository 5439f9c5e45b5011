/*
 * store_certs.c: the certificates table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/store_int.h"

static const char *const cert_statuses[] = { "active", "on-hold", "revoked" };

const char *
store_cert_status_name(enum store_cert_status s)
{
	return (unsigned)s < 3 ? cert_statuses[s] : "?";
}

static void
cert_status_parse(const char *s, enum store_cert_status *out)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, cert_statuses[i]) == 0)
			*out = (enum store_cert_status)i;
}

void
store_cert_cleanup(struct store_cert *c)
{
	if (c == NULL)
		return;
	free(c->pem);
	c->pem = NULL;
}

void
store_cert_free_list(struct store_cert *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		store_cert_cleanup(&list[i]);
	free(list);
}

/*
 * Normalises a serial to lowercase hex without separators; 1-40 digits.
 * Leading zeros are kept as given: the caller writes the serial the way
 * the certificate encodes it.
 */
static bool
cert_serial_norm(const char *in, char out[STORE_CERT_SERIAL_MAX])
{
	size_t i, n = strlen(in);

	if (n == 0 || n > STORE_CERT_SERIAL_MAX - 1)
		return false;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)in[i]))
			return false;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[n] = '\0';
	return true;
}

#define CERT_COLS "id, device_id, slot, serial, pem, spki_sha256, " \
	"not_before, not_after, status, revoked_at, reason, created_at"

/* Fills |c| from a row; with_pem false leaves c->pem NULL. */
static enum pv_err
cert_from_row(sqlite3_stmt *s, struct store_cert *c, bool with_pem)
{
	char status[16];

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(s, 0);
	c->device_id = sqlite3_column_int64(s, 1);
	c->slot = (uint8_t)sqlite3_column_int(s, 2);
	store_col_text(s, 3, c->serial, sizeof(c->serial));
	if (with_pem) {
		const unsigned char *t = sqlite3_column_text(s, 4);

		if ((c->pem = strdup(t ? (const char *)t : "")) == NULL)
			return PV_E_NOMEM;
	}
	(void)store_col_blob(s, 5, c->spki_sha256, 32);
	c->not_before = sqlite3_column_int64(s, 6);
	c->not_after = sqlite3_column_int64(s, 7);
	store_col_text(s, 8, status, sizeof(status));
	cert_status_parse(status, &c->status);
	c->revoked_at = sqlite3_column_int64(s, 9);
	c->reason = sqlite3_column_int(s, 10);
	c->created_at = sqlite3_column_int64(s, 11);
	return PV_OK;
}

enum pv_err
store_cert_add(struct store *st, const struct store_cert *c, int64_t *out_id,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d;
	char serial[STORE_CERT_SERIAL_MAX], obj[64];
	int64_t id = 0;
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if (!cert_serial_norm(c->serial, serial))
		return pv_why_set(why, PV_E_INVAL,
		    "add certificate: serial must be 1-40 hex digits");
	if (c->pem == NULL || c->pem[0] == '\0')
		return pv_why_set(why, PV_E_INVAL, "add certificate: no PEM");
	if (c->status != STORE_CERT_ACTIVE && c->status != STORE_CERT_ON_HOLD)
		return pv_why_set(why, PV_E_INVAL,
		    "add certificate: a new certificate is active or on hold");
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO certificates (device_id, slot, "
	    "serial, pem, spki_sha256, not_before, not_after, status, "
	    "revoked_at, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7, ?8, ?9, ?10, ?11)", &s, "add certificate", why)) != PV_OK)
		goto out;
	if (!store_bind_i64(s, 1, c->device_id) ||
	    !store_bind_i64(s, 2, c->slot) || !store_bind_text(s, 3, serial) ||
	    !store_bind_text(s, 4, c->pem) ||
	    !store_bind_blob(s, 5, c->spki_sha256, 32) ||
	    !store_bind_i64(s, 6, c->not_before) ||
	    !store_bind_i64(s, 7, c->not_after) ||
	    !store_bind_text(s, 8, store_cert_status_name(c->status)) ||
	    !store_bind_i64(s, 9, c->status == STORE_CERT_ON_HOLD ?
	    store_now(st) : 0) ||
	    !store_bind_i64(s, 10, c->status == STORE_CERT_ON_HOLD ?
	    STORE_REASON_HOLD : -1) ||
	    !store_bind_i64(s, 11, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "add certificate", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "add certificate", why)) != PV_OK) {
		if (r == PV_E_EXISTS) {
			pv_why_clear(why);
			r = pv_why_set(why, PV_E_EXISTS, "add certificate %s: "
			    "the serial is known, or device %lld already has a "
			    "live certificate in slot %02x", serial,
			    (long long)c->device_id, c->slot);
		}
		goto out;
	}
	id = sqlite3_last_insert_rowid(st->db);
	d = json_object_new_object();
	store_jint(d, "device", c->device_id);
	store_jhex(d, "slot", &c->slot, 1);
	store_jstr(d, "status", store_cert_status_name(c->status));
	store_jhex(d, "spki_sha256", c->spki_sha256, 32);
	store_jint(d, "not_before", c->not_before);
	store_jint(d, "not_after", c->not_after);
	(void)snprintf(obj, sizeof(obj), "cert:%s", serial);
	r = store_audit_row(st, "cert.add", obj, d, "certificates", id, why);
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

/* Changes status (and revocation fields) of |serial| from |from_mask|. */
static enum pv_err
cert_set_status(struct store *st, const char *serial_in,
    enum store_cert_status to, unsigned from_mask, int reason, int64_t when,
    const char *action, struct pv_why *why)
{
	struct store_cert c;
	sqlite3_stmt *s = NULL;
	json_object *d;
	char serial[STORE_CERT_SERIAL_MAX], obj[64];
	enum pv_err r;

	memset(&c, 0, sizeof(c));
	if (!cert_serial_norm(serial_in, serial))
		return pv_why_set(why, PV_E_INVAL,
		    "%s: serial must be 1-40 hex digits", action);
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_cert_get_serial(st, serial, &c, why)) != PV_OK)
		goto out;
	if ((from_mask & (1u << c.status)) == 0) {
		r = pv_why_set(why, PV_E_STATE, "certificate %s is %s", serial,
		    store_cert_status_name(c.status));
		goto out;
	}
	if ((r = store_prepare(st, "UPDATE certificates SET status = ?1, "
	    "revoked_at = ?2, reason = ?3 WHERE id = ?4", &s, action,
	    why)) != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, store_cert_status_name(to)) ||
	    !store_bind_i64(s, 2, to == STORE_CERT_ACTIVE ? 0 :
	    (when ? when : store_now(st))) ||
	    !store_bind_i64(s, 3, to == STORE_CERT_ACTIVE ? -1 : reason) ||
	    !store_bind_i64(s, 4, c.id)) {
		r = store_db_err(st, SQLITE_ERROR, action, why);
		goto out;
	}
	if ((r = store_step_done(st, s, action, why)) != PV_OK)
		goto out;
	d = json_object_new_object();
	store_jint(d, "device", c.device_id);
	store_jhex(d, "slot", &c.slot, 1);
	store_jstr(d, "from", store_cert_status_name(c.status));
	store_jstr(d, "to", store_cert_status_name(to));
	if (to != STORE_CERT_ACTIVE)
		store_jint(d, "reason", reason);
	(void)snprintf(obj, sizeof(obj), "cert:%s", serial);
	r = store_audit_row(st, action, obj, d, "certificates", c.id, why);
out:
	sqlite3_finalize(s);
	store_cert_cleanup(&c);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
store_cert_revoke(struct store *st, const char *serial, int reason,
    int64_t when, struct pv_why *why)
{
	if (reason < 0 || reason > 10 || reason == 7)
		return pv_why_set(why, PV_E_INVAL,
		    "revoke: %d is not a CRL reason code", reason);
	return cert_set_status(st, serial, STORE_CERT_REVOKED,
	    (1u << STORE_CERT_ACTIVE) | (1u << STORE_CERT_ON_HOLD), reason,
	    when, "cert.revoke", why);
}

enum pv_err
store_cert_set_hold(struct store *st, const char *serial, bool hold,
    struct pv_why *why)
{
	if (hold)
		return cert_set_status(st, serial, STORE_CERT_ON_HOLD,
		    1u << STORE_CERT_ACTIVE, STORE_REASON_HOLD, 0, "cert.hold",
		    why);
	return cert_set_status(st, serial, STORE_CERT_ACTIVE,
	    1u << STORE_CERT_ON_HOLD, -1, 0, "cert.release", why);
}

enum pv_err
store_cert_status(struct store *st, const char *serial_in,
    enum store_cert_status *status, int64_t *revoked_at, int *reason,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char serial[STORE_CERT_SERIAL_MAX], text[16];
	enum pv_err r;

	*status = STORE_CERT_ACTIVE;
	*revoked_at = 0;
	*reason = -1;
	if (!cert_serial_norm(serial_in, serial))
		return pv_why_set(why, PV_E_NO_RECORD, "certificate status: "
		    "a serial of more than 20 bytes is none of ours");
	if ((r = store_prepare(st, "SELECT status, revoked_at, reason FROM "
	    "certificates WHERE serial = ?1", &s, "certificate status",
	    why)) != PV_OK)
		return r;
	if (!store_bind_text(s, 1, serial)) {
		r = store_db_err(st, SQLITE_ERROR, "certificate status", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "certificate status", "certificate",
	    why)) != PV_OK)
		goto out;
	store_col_text(s, 0, text, sizeof(text));
	if (strcmp(text, "revoked") == 0)
		*status = STORE_CERT_REVOKED;
	else if (strcmp(text, "on-hold") == 0)
		*status = STORE_CERT_ON_HOLD;
	*revoked_at = sqlite3_column_int64(s, 1);
	*reason = sqlite3_column_int(s, 2);
	r = PV_OK;
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_cert_get_serial(struct store *st, const char *serial_in,
    struct store_cert *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	char serial[STORE_CERT_SERIAL_MAX];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if (!cert_serial_norm(serial_in, serial))
		return pv_why_set(why, PV_E_INVAL,
		    "find certificate: serial must be 1-40 hex digits");
	if ((r = store_prepare(st, "SELECT " CERT_COLS " FROM certificates "
	    "WHERE serial = ?1", &s, "find certificate", why)) != PV_OK)
		return r;
	if (!store_bind_text(s, 1, serial)) {
		r = store_db_err(st, SQLITE_ERROR, "find certificate", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find certificate", "certificate",
	    why)) != PV_OK)
		goto out;
	r = cert_from_row(s, out, true);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_cert_live(struct store *st, int64_t device_id, uint8_t slot,
    struct store_cert *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, "SELECT " CERT_COLS " FROM certificates "
	    "WHERE device_id = ?1 AND slot = ?2 AND status <> 'revoked'", &s,
	    "find live certificate", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, device_id) || !store_bind_i64(s, 2, slot)) {
		r = store_db_err(st, SQLITE_ERROR, "find live certificate", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find live certificate",
	    "live certificate for this slot", why)) != PV_OK)
		goto out;
	r = cert_from_row(s, out, true);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_cert_find_spki(struct store *st, int64_t device_id, uint8_t slot,
    const uint8_t spki_sha256[32], struct store_cert *out,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, "SELECT " CERT_COLS " FROM certificates "
	    "WHERE device_id = ?1 AND slot = ?2 AND spki_sha256 = ?3 "
	    "ORDER BY id DESC LIMIT 1", &s, "find certificate by key",
	    why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, device_id) || !store_bind_i64(s, 2, slot) ||
	    !store_bind_blob(s, 3, spki_sha256, 32)) {
		r = store_db_err(st, SQLITE_ERROR, "find certificate by key",
		    why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find certificate by key",
	    "certificate for this key", why)) != PV_OK)
		goto out;
	r = cert_from_row(s, out, true);
out:
	sqlite3_finalize(s);
	return r;
}

static enum pv_err
cert_row(sqlite3_stmt *s, void *elem, void *arg)
{
	(void)arg;
	return cert_from_row(s, elem, false);
}

static enum pv_err
cert_row_pem(sqlite3_stmt *s, void *elem, void *arg)
{
	(void)arg;
	return cert_from_row(s, elem, true);
}

static void
cert_drop(void *list, size_t n)
{
	store_cert_free_list(list, n);
}

static enum pv_err
cert_list(struct store *st, const char *sql, int64_t device_id, bool with_pem,
    struct store_cert **out, size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, sql, &s, "list certificates", why)) != PV_OK)
		return r;
	if (device_id != 0 && !store_bind_i64(s, 1, device_id)) {
		r = store_db_err(st, SQLITE_ERROR, "list certificates", why);
		goto out;
	}
	if ((r = store_collect(st, s, sizeof(struct store_cert),
	    with_pem ? cert_row_pem : cert_row, NULL, cert_drop,
	    "list certificates", &list, n_out, why)) == PV_OK)
		*out = list;
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_cert_list_device(struct store *st, int64_t device_id,
    struct store_cert **out, size_t *n_out, struct pv_why *why)
{
	if (device_id == 0)
		return pv_why_set(why, PV_E_INVAL, "list certificates: no device");
	return cert_list(st, "SELECT " CERT_COLS " FROM certificates WHERE "
	    "device_id = ?1 ORDER BY id", device_id, true, out, n_out, why);
}

enum pv_err
store_cert_list_crl(struct store *st, struct store_cert **out, size_t *n_out,
    struct pv_why *why)
{
	return cert_list(st, "SELECT " CERT_COLS " FROM certificates WHERE "
	    "status <> 'active' ORDER BY serial", 0, false, out, n_out, why);
}

enum pv_err
store_device_terminate(struct store *st, int64_t id, int reason,
    size_t *out_revoked, struct pv_why *why)
{
	struct store_cert *list = NULL;
	struct store_device d;
	size_t n = 0, i, revoked = 0;
	enum pv_err r;

	if (out_revoked != NULL)
		*out_revoked = 0;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_device_get(st, id, &d, why)) != PV_OK)
		goto out;
	if (d.status == STORE_DEV_TERMINATED) {
		r = pv_why_set(why, PV_E_STATE, "device %lld is already "
		    "terminated", (long long)id);
		goto out;
	}
	if ((r = store_cert_list_device(st, id, &list, &n, why)) != PV_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if (list[i].status == STORE_CERT_REVOKED)
			continue;
		if ((r = store_cert_revoke(st, list[i].serial, reason, 0,
		    why)) != PV_OK)
			goto out;
		revoked++;
	}
	r = store_device_set_status(st, id, STORE_DEV_TERMINATED, why);
out:
	store_cert_free_list(list, n);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK && out_revoked != NULL)
		*out_revoked = revoked;
	return r;
}
