/*
 * store_devices.c: the devices table (cards, USB keys, mobile tokens).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/store_int.h"

static const char *const device_types[] = { "card", "usb-key", "mobile" };
static const char *const device_statuses[] = {
	"issuing", "active", "suspended", "terminated"
};

const char *
store_device_type_name(enum store_device_type t)
{
	return (unsigned)t < 3 ? device_types[t] : "?";
}

const char *
store_device_status_name(enum store_device_status s)
{
	return (unsigned)s < 4 ? device_statuses[s] : "?";
}

bool
store_device_type_parse(const char *s, enum store_device_type *out)
{
	unsigned i;

	for (i = 0; i < 3; i++) {
		if (strcmp(s, device_types[i]) == 0) {
			*out = (enum store_device_type)i;
			return true;
		}
	}
	return false;
}

static bool
device_status_parse(const char *s, enum store_device_status *out)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, device_statuses[i]) == 0) {
			*out = (enum store_device_status)i;
			return true;
		}
	}
	return false;
}

#define DEVICE_COLS "id, person_id, type, atr, serial, guid, fascn, status, " \
	"key_9d_escrowed, expires_at, issued_at, created_at, updated_at"

static void
device_from_row(sqlite3_stmt *s, struct store_device *d)
{
	char text[16];
	int n;

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, 0);
	d->person_id = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, text, sizeof(text));
	(void)store_device_type_parse(text, &d->type);
	n = sqlite3_column_bytes(s, 3);
	if (n > 0 && n <= STORE_ATR_MAX) {
		memcpy(d->atr, sqlite3_column_blob(s, 3), (size_t)n);
		d->atr_len = (size_t)n;
	}
	store_col_text(s, 4, d->serial, sizeof(d->serial));
	d->has_guid = store_col_blob(s, 5, d->guid, sizeof(d->guid));
	d->has_fascn = store_col_blob(s, 6, d->fascn, sizeof(d->fascn));
	store_col_text(s, 7, text, sizeof(text));
	(void)device_status_parse(text, &d->status);
	d->key_9d_escrowed = sqlite3_column_int(s, 8) != 0;
	d->expires_at = sqlite3_column_int64(s, 9);
	d->issued_at = sqlite3_column_int64(s, 10);
	d->created_at = sqlite3_column_int64(s, 11);
	d->updated_at = sqlite3_column_int64(s, 12);
}

static enum pv_err
device_check(const struct store_device *d, struct pv_why *why)
{
	if ((unsigned)d->type > STORE_DEV_MOBILE ||
	    (unsigned)d->status > STORE_DEV_TERMINATED)
		return pv_why_set(why, PV_E_INVAL, "device: bad type or status");
	if (d->atr_len > STORE_ATR_MAX)
		return pv_why_set(why, PV_E_INVAL, "device: ATR too long");
	if (memchr(d->serial, '\0', sizeof(d->serial)) == NULL)
		return pv_why_set(why, PV_E_INVAL, "device: serial too long");
	return PV_OK;
}

/* Binds the mutable fields to ?1..?8 (see the statements below). */
static bool
device_bind(sqlite3_stmt *s, const struct store_device *d)
{
	return store_bind_blob(s, 1, d->atr, d->atr_len) &&
	    store_bind_text(s, 2, d->serial) &&
	    (d->has_guid ? store_bind_blob(s, 3, d->guid, 16) :
	    sqlite3_bind_null(s, 3) == SQLITE_OK) &&
	    (d->has_fascn ? store_bind_blob(s, 4, d->fascn, 25) :
	    sqlite3_bind_null(s, 4) == SQLITE_OK) &&
	    store_bind_text(s, 5, store_device_status_name(d->status)) &&
	    store_bind_i64(s, 6, d->key_9d_escrowed ? 1 : 0) &&
	    store_bind_i64(s, 7, d->expires_at) &&
	    store_bind_i64(s, 8, d->issued_at);
}

static json_object *
device_detail(const struct store_device *d)
{
	json_object *o = json_object_new_object();

	store_jstr(o, "type", store_device_type_name(d->type));
	store_jstr(o, "status", store_device_status_name(d->status));
	if (d->serial[0] != '\0')
		store_jstr(o, "serial", d->serial);
	if (d->has_guid)
		store_jhex(o, "guid", d->guid, 16);
	if (d->has_fascn)
		store_jhex(o, "fascn", d->fascn, 25);
	if (d->atr_len > 0)
		store_jhex(o, "atr", d->atr, d->atr_len);
	store_jint(o, "key_9d_escrowed", d->key_9d_escrowed);
	if (d->expires_at != 0)
		store_jint(o, "expires_at", d->expires_at);
	if (d->issued_at != 0)
		store_jint(o, "issued_at", d->issued_at);
	return o;
}

enum pv_err
store_device_add(struct store *st, const struct store_device *d,
    int64_t *out_id, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *o;
	char obj[32];
	int64_t id = 0, now = store_now(st);
	enum pv_err r;

	if (out_id != NULL)
		*out_id = 0;
	if ((r = device_check(d, why)) != PV_OK)
		return r;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO devices (atr, serial, guid, "
	    "fascn, status, key_9d_escrowed, expires_at, issued_at, person_id, "
	    "type, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11, ?11)", &s, "add device", why)) != PV_OK)
		goto out;
	if (!device_bind(s, d) || !store_bind_i64(s, 9, d->person_id) ||
	    !store_bind_text(s, 10, store_device_type_name(d->type)) ||
	    !store_bind_i64(s, 11, now)) {
		r = store_db_err(st, SQLITE_ERROR, "add device", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "add device", why)) != PV_OK)
		goto out;
	id = sqlite3_last_insert_rowid(st->db);
	o = device_detail(d);
	store_jint(o, "person", d->person_id);
	(void)snprintf(obj, sizeof(obj), "device:%lld", (long long)id);
	r = store_audit_row(st, "device.add", obj, o, "devices", id, why);
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

enum pv_err
store_device_update(struct store *st, const struct store_device *d,
    struct pv_why *why)
{
	struct store_device old;
	sqlite3_stmt *s = NULL;
	json_object *o;
	char obj[32];
	enum pv_err r;

	if ((r = device_check(d, why)) != PV_OK)
		return r;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_device_get(st, d->id, &old, why)) != PV_OK)
		goto out;
	if (old.status == STORE_DEV_TERMINATED) {
		r = pv_why_set(why, PV_E_STATE, "device %lld is terminated and "
		    "cannot change", (long long)d->id);
		goto out;
	}
	if ((r = store_prepare(st, "UPDATE devices SET atr = ?1, serial = ?2, "
	    "guid = ?3, fascn = ?4, status = ?5, key_9d_escrowed = ?6, "
	    "expires_at = ?7, issued_at = ?8, updated_at = ?9 WHERE id = ?10",
	    &s, "update device", why)) != PV_OK)
		goto out;
	if (!device_bind(s, d) || !store_bind_i64(s, 9, store_now(st)) ||
	    !store_bind_i64(s, 10, d->id)) {
		r = store_db_err(st, SQLITE_ERROR, "update device", why);
		goto out;
	}
	if ((r = store_step_done(st, s, "update device", why)) != PV_OK)
		goto out;
	(void)snprintf(obj, sizeof(obj), "device:%lld", (long long)d->id);
	o = device_detail(d);
	r = store_audit_row(st, "device.update", obj, o, "devices", d->id,
	    why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
store_device_set_status(struct store *st, int64_t id,
    enum store_device_status status, struct pv_why *why)
{
	struct store_device d;
	enum pv_err r;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_device_get(st, id, &d, why)) == PV_OK) {
		d.status = status;
		r = store_device_update(st, &d, why);
	}
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

static enum pv_err
device_query(struct store *st, const char *sql, const void *key,
    size_t key_len, int64_t id, struct store_device *out, const char *what,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	enum pv_err r;
	bool ok;

	memset(out, 0, sizeof(*out));
	if ((r = store_prepare(st, sql, &s, "find device", why)) != PV_OK)
		return r;
	if (key == NULL)
		ok = store_bind_i64(s, 1, id);
	else if (key_len == 0)
		ok = store_bind_text(s, 1, key);
	else
		ok = store_bind_blob(s, 1, key, key_len);
	if (!ok) {
		r = store_db_err(st, SQLITE_ERROR, "find device", why);
		goto out;
	}
	if ((r = store_step_row(st, s, "find device", what, why)) != PV_OK)
		goto out;
	device_from_row(s, out);
out:
	sqlite3_finalize(s);
	return r;
}

enum pv_err
store_device_get(struct store *st, int64_t id, struct store_device *out,
    struct pv_why *why)
{
	return device_query(st, "SELECT " DEVICE_COLS " FROM devices WHERE "
	    "id = ?1", NULL, 0, id, out, "device", why);
}

enum pv_err
store_device_find_serial(struct store *st, const char *serial,
    struct store_device *out, struct pv_why *why)
{
	if (serial[0] == '\0')
		return pv_why_set(why, PV_E_INVAL, "find device: empty serial");
	return device_query(st, "SELECT " DEVICE_COLS " FROM devices WHERE "
	    "serial = ?1 AND status <> 'terminated'", serial, 0, 0, out,
	    "live device with this serial", why);
}

enum pv_err
store_device_find_guid(struct store *st, const uint8_t guid[16],
    struct store_device *out, struct pv_why *why)
{
	return device_query(st, "SELECT " DEVICE_COLS " FROM devices WHERE "
	    "guid = ?1", guid, 16, 0, out, "device with this GUID", why);
}

static enum pv_err
device_row(sqlite3_stmt *s, void *elem, void *arg)
{
	(void)arg;
	device_from_row(s, elem);
	return PV_OK;
}

enum pv_err
store_device_find_fascn(struct store *st, const uint8_t fascn[25],
    struct store_device *out, struct pv_why *why)
{
	return device_query(st, "SELECT " DEVICE_COLS " FROM devices WHERE "
	    "fascn = ?1", fascn, 25, 0, out, "device with this FASC-N", why);
}

enum pv_err
store_device_list_person(struct store *st, int64_t person_id,
    struct store_device **out, size_t *n_out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	void *list = NULL;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_prepare(st, "SELECT " DEVICE_COLS " FROM devices WHERE "
	    "person_id = ?1 ORDER BY id", &s, "list devices", why)) != PV_OK)
		return r;
	if (!store_bind_i64(s, 1, person_id)) {
		r = store_db_err(st, SQLITE_ERROR, "list devices", why);
		goto out;
	}
	if ((r = store_collect(st, s, sizeof(struct store_device), device_row,
	    NULL, NULL, "list devices", &list, n_out, why)) == PV_OK)
		*out = list;
out:
	sqlite3_finalize(s);
	return r;
}
