/*
 * test_store.c: the SQLite store (store.h): schema, people, devices,
 * certificates, escrow, counters, transactions, concurrency.
 */
#include <fcntl.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "issuance/audit.h"
#include "issuance/store.h"
#include "station_fixture.h"

static const char *dir;
static struct store *st;

static void
setup(void)
{
	dir = fx_tmpdir();
	st = fx_open(dir);
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	fx_rmtree(dir);
}

static int64_t
add_person(const char *pid, const char *email)
{
	struct identity id = fx_identity(pid, "Example", email);
	int64_t out = 0;
	struct pv_why why = { "" };

	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &out, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_gt(out, 0);
	return out;
}

static int64_t
add_device(int64_t person, const char *serial, uint8_t guid0)
{
	struct store_device d;
	int64_t id = 0;
	struct pv_why why = { "" };

	memset(&d, 0, sizeof(d));
	d.person_id = person;
	d.type = STORE_DEV_USB_KEY;
	snprintf(d.serial, sizeof(d.serial), "%s", serial);
	d.guid[0] = guid0;
	d.guid[15] = 0x42;
	d.has_guid = true;
	d.status = STORE_DEV_ISSUING;
	d.atr_len = 3;
	memcpy(d.atr, "\x3b\x8c\x80", 3);
	cr_assert_eq(store_device_add(st, &d, &id, &why), PV_OK, "%s", why.msg);
	return id;
}

static struct store_cert
cert(int64_t device, uint8_t slot, const char *serial, uint8_t key)
{
	static char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n";
	struct store_cert c;

	memset(&c, 0, sizeof(c));
	c.device_id = device;
	c.slot = slot;
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	c.pem = pem;
	memset(c.spki_sha256, key, 32);
	c.not_before = 1700000000;
	c.not_after = 1800000000;
	c.status = STORE_CERT_ACTIVE;
	return c;
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, file_mode_wal_and_schema)
{
	struct stat sb;

	cr_assert_eq(store_schema_version(st), STORE_SCHEMA_VERSION);
	cr_assert_eq(stat(fx_path(dir, "store.db"), &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(fx_sql_int(dir, "SELECT version FROM schema_version"),
	    STORE_SCHEMA_VERSION);
	/* WAL mode is persistent: a new connection finds it. */
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM "
	    "pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	cr_assert_eq(fx_audit_rows(st), 1, "store.create is audited");
	/* Reopening runs no migration again. */
	store_close(st);
	st = fx_open(dir);
	cr_assert_eq(fx_audit_rows(st), 1);
}

/* store.db and its journal files follow the one rule for private files. */
Test(store, open_database_files_refused)
{
	static const char *const files[] = { "store.db", "store.db-wal" };
	struct store_opts o;
	struct store *s2 = NULL;
	struct pv_why why = { "" };
	char want[600];
	size_t i;
	int fd;

	store_close(st);
	st = NULL;
	memset(&o, 0, sizeof(o));
	o.audit_key = fx_key();
	o.head_path = fx_path(dir, "audit.head");
	for (i = 0; i < 2; i++) {
		fd = open(fx_path(dir, files[i]), O_WRONLY | O_CREAT, 0600);
		cr_assert_geq(fd, 0);
		close(fd);
		cr_assert_eq(chmod(fx_path(dir, files[i]), 0644), 0);
		pv_why_clear(&why);
		cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &s2,
		    &why), PV_E_POLICY, "%s", files[i]);
		cr_assert_null(s2);
		snprintf(want, sizeof(want), "%s is open to group or others "
		    "(mode 0644): run chmod 600 ", fx_path(dir, files[i]));
		cr_assert(strstr(why.msg, want) != NULL, "%s", why.msg);
		cr_assert_eq(chmod(fx_path(dir, files[i]), 0600), 0);
	}
	st = fx_open(dir);
}

Test(store, newer_schema_refused)
{
	struct store *other = NULL;
	struct pv_why why = { "" };

	store_close(st);
	st = NULL;
	cr_assert_eq(fx_sql(dir, "UPDATE schema_version SET version = 99"),
	    SQLITE_OK);
	cr_assert_eq(store_open(fx_path(dir, "store.db"), NULL, &other, &why),
	    PV_E_STATE);
	cr_assert_null(other);
	cr_assert(strstr(why.msg, "schema version 99") != NULL, "%s", why.msg);
	st = NULL;
}

Test(store, people)
{
	struct store_person p;
	struct identity id = fx_identity("0000000001", "Example",
	    "Alice@Example.gov");
	struct pv_why why = { "" };
	int64_t a, b, rows;

	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &a, NULL), PV_OK);
	rows = fx_audit_rows(st);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &b, NULL), PV_OK);
	cr_assert_eq(a, b);
	cr_assert_eq(fx_audit_rows(st), rows, "an unchanged person is not "
	    "rewritten");
	cr_assert_eq(store_person_find_external(st, "0000000001", &p, NULL),
	    PV_OK);
	cr_assert_eq(memcmp(&p.ident, &id, sizeof(id)), 0);
	cr_assert_eq(store_person_find_email(st, "alice@EXAMPLE.gov", &p,
	    NULL), PV_OK, "email lookup ignores case");
	cr_assert_eq(p.id, a);
	strcpy(id.family_name, "Renamed");
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &b, NULL), PV_OK);
	cr_assert_eq(a, b);
	cr_assert_eq(fx_audit_rows(st), rows + 1);
	cr_assert_eq(store_person_get(st, a, &p, NULL), PV_OK);
	cr_assert_str_eq(p.ident.family_name, "Renamed");
	/* Another person with the same email. */
	id = fx_identity("0000000002", "Other", "alice@example.gov");
	rows = fx_audit_rows(st);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &b, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "email: alice@example.gov already belongs "
	    "to person 0000000001") != NULL, "%s", why.msg);
	cr_assert_eq(fx_audit_rows(st), rows, "nothing written");
	cr_assert_eq(store_person_find_external(st, "0000000002", &p, NULL),
	    PV_E_NO_RECORD);
	/* Nor may the first person's update take another's address. */
	add_person("0000000005", "carol@example.gov");
	id = fx_identity("0000000001", "Renamed", "Carol@example.gov");
	pv_why_clear(&why);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &b, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "person 0000000005") != NULL, "%s", why.msg);
	/* Keeping one's own address (another case) is no clash. */
	id = fx_identity("0000000001", "Renamed", "ALICE@example.gov");
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &b, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(store_person_find_external(st, "0000000009", &p, &why),
	    PV_E_NO_RECORD);
	cr_assert(strstr(why.msg, "not found") != NULL, "%s", why.msg);
	/* Two people without email are fine. */
	add_person("0000000003", NULL);
	add_person("0000000004", NULL);
}

/*
 * A user principal name is the account a smart card logon maps the
 * certificate to: like an e-mail address it names one person (in any
 * case, as the directory compares it), for a new person and for an update.
 */
Test(store, upn_names_one_person)
{
	struct identity id = fx_identity("0000000011", "Upn", NULL);
	struct pv_why why = { "" };
	int64_t a, b, rows;

	strcpy(id.upn, "alice@agency.gov");
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_REFUSE, &a,
	    &why), PV_OK, "%s", why.msg);
	rows = fx_audit_rows(st);
	id = fx_identity("0000000012", "Mallory", NULL);
	strcpy(id.upn, "ALICE@agency.gov");
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_REFUSE, &b,
	    &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "upn: ALICE@agency.gov already belongs to "
	    "person 0000000011") != NULL, "%s", why.msg);
	cr_assert_eq(fx_audit_rows(st), rows, "nothing written");
	/* Nor may an update take it. */
	add_person("0000000013", NULL);
	id = fx_identity("0000000013", "Example", NULL);
	strcpy(id.upn, "Alice@Agency.gov");
	pv_why_clear(&why);
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_UPDATE, &b,
	    &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "person 0000000011") != NULL, "%s", why.msg);
	/* One's own, in another case, is no clash. */
	id = fx_identity("0000000011", "Upn", NULL);
	strcpy(id.upn, "Alice@agency.gov");
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_UPDATE, &b,
	    NULL), PV_OK);
	cr_assert_eq(a, b);
}

/* Keeps the detail of the last person.update row. */
static enum pv_err
last_update(void *ctx, const struct audit_row *row)
{
	if (strcmp(row->action, "person.update") == 0)
		(void)snprintf(ctx, 1024, "%s", row->detail);
	return PV_OK;
}

Test(store, person_changed_refused_unless_update)
{
	struct store_person p;
	struct identity id = fx_identity("0000000001", "Example",
	    "alice@example.gov");
	struct pv_why why = { "" };
	char detail[1024] = "";
	int64_t a, b = -1, rows;

	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_REFUSE, &a,
	    NULL), PV_OK, "a new person is no change");
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_REFUSE, &b,
	    NULL), PV_OK, "the same details are no change");
	cr_assert_eq(a, b);
	/* The same id with another name and address: refused, both named. */
	rows = fx_audit_rows(st);
	strcpy(id.family_name, "Other");
	strcpy(id.email, "mallory@example.gov");
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_REFUSE, &b,
	    &why), PV_E_INPUT);
	cr_assert_eq(b, 0);
	cr_assert(strstr(why.msg, "person 0000000001") != NULL, "%s", why.msg);
	cr_assert(strstr(why.msg, "--update-person): family_name 'Example', "
	    "given 'Other'; email 'alice@example.gov', given "
	    "'mallory@example.gov'") != NULL, "%s", why.msg);
	cr_assert(strstr(why.msg, "given_name") == NULL, "only what differs: "
	    "%s", why.msg);
	cr_assert_eq(fx_audit_rows(st), rows, "nothing written");
	cr_assert_eq(store_person_get(st, a, &p, NULL), PV_OK);
	cr_assert_str_eq(p.ident.family_name, "Example");
	/* Asked for: updated, the old values in the audit row. */
	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_UPDATE, &b,
	    NULL), PV_OK);
	cr_assert_eq(a, b);
	cr_assert_eq(fx_audit_rows(st), rows + 1);
	cr_assert_eq(store_person_get(st, a, &p, NULL), PV_OK);
	cr_assert_str_eq(p.ident.family_name, "Other");
	cr_assert_eq(audit_foreach(st, 0, last_update, detail, NULL), PV_OK);
	cr_assert(strstr(detail, "\"family_name\":{\"from\":\"Example\","
	    "\"to\":\"Other\"}") != NULL, "%s", detail);
	cr_assert(strstr(detail, "\"email\":{\"from\":\"alice@example.gov"
	    "\",\"to\":\"mallory@example.gov\"}") != NULL, "%s", detail);
	cr_assert(strstr(detail, "given_name") == NULL, "%s", detail);
}

Test(store, devices)
{
	struct store_device d, got, *list = NULL;
	struct pv_why why = { "" };
	int64_t p = add_person("0000000001", NULL), a, b;
	size_t n = 0;
	uint8_t guid[16] = { 0 };

	a = add_device(p, "1234", 1);
	cr_assert_eq(store_device_get(st, a, &got, NULL), PV_OK);
	cr_assert_eq(got.type, STORE_DEV_USB_KEY);
	cr_assert_eq(got.status, STORE_DEV_ISSUING);
	cr_assert_eq(got.atr_len, 3);
	cr_assert(got.has_guid);
	cr_assert(!got.has_fascn);
	cr_assert_eq(store_device_find_serial(st, "1234", &got, NULL), PV_OK);
	cr_assert_eq(got.id, a);
	guid[0] = 1;
	guid[15] = 0x42;
	cr_assert_eq(store_device_find_guid(st, guid, &got, NULL), PV_OK);
	cr_assert_eq(got.id, a);
	/* Same serial while the first is live; same GUID ever. */
	memset(&d, 0, sizeof(d));
	d.person_id = p;
	d.type = STORE_DEV_USB_KEY;
	strcpy(d.serial, "1234");
	d.status = STORE_DEV_ISSUING;
	cr_assert_eq(store_device_add(st, &d, &b, &why), PV_E_EXISTS);
	strcpy(d.serial, "9999");
	memcpy(d.guid, guid, 16);
	d.has_guid = true;
	cr_assert_eq(store_device_add(st, &d, &b, NULL), PV_E_EXISTS);
	/* Terminated: its serial may be issued again (a re-issued key). */
	cr_assert_eq(store_device_set_status(st, a, STORE_DEV_TERMINATED, NULL),
	    PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(store_device_set_status(st, a, STORE_DEV_ACTIVE, &why),
	    PV_E_STATE);
	cr_assert(strstr(why.msg, "terminated") != NULL, "%s", why.msg);
	b = add_device(p, "1234", 2);
	cr_assert_eq(store_device_find_serial(st, "1234", &got, NULL), PV_OK);
	cr_assert_eq(got.id, b, "the live one");
	/* Update: FASC-N, expiry, escrow flag. */
	got.has_fascn = true;
	memset(got.fascn, 0xd4, 25);
	got.expires_at = 1900000000;
	got.issued_at = 1750000000;
	got.key_9d_escrowed = true;
	got.status = STORE_DEV_ACTIVE;
	cr_assert_eq(store_device_update(st, &got, NULL), PV_OK);
	cr_assert_eq(store_device_get(st, b, &d, NULL), PV_OK);
	cr_assert(d.has_fascn && d.fascn[24] == 0xd4);
	cr_assert_eq(d.expires_at, 1900000000);
	cr_assert(d.key_9d_escrowed);
	cr_assert_eq(d.status, STORE_DEV_ACTIVE);
	cr_assert_eq(store_device_list_person(st, p, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].id, a);
	cr_assert_eq(list[1].id, b);
	free(list);
	/* A device for a person who does not exist. */
	d.person_id = 999;
	d.has_guid = false;
	d.has_fascn = false;
	d.serial[0] = '\0';
	cr_assert_eq(store_device_add(st, &d, NULL, NULL), PV_E_NO_RECORD);
}

Test(store, one_live_certificate_per_slot)
{
	struct store_cert c, got, *list = NULL;
	struct pv_why why = { "" };
	int64_t p = add_person("0000000001", NULL), dev = add_device(p, "1", 1);
	int64_t id = 0;
	size_t n = 0;

	c = cert(dev, 0x9a, "0A1B2C", 1);
	cr_assert_eq(store_cert_add(st, &c, &id, NULL), PV_OK);
	cr_assert_eq(store_cert_get_serial(st, "0a1b2c", &got, NULL), PV_OK,
	    "serials are stored lowercase");
	cr_assert_str_eq(got.serial, "0a1b2c");
	cr_assert_str_eq(got.pem, c.pem);
	cr_assert_eq(got.status, STORE_CERT_ACTIVE);
	cr_assert_eq(got.reason, -1);
	store_cert_cleanup(&got);
	/* A second live certificate for 9a: refused by the index. */
	c = cert(dev, 0x9a, "0a1b2d", 2);
	cr_assert_eq(store_cert_add(st, &c, NULL, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "slot 9a") != NULL, "%s", why.msg);
	/* On hold is still live. */
	cr_assert_eq(store_cert_set_hold(st, "0A1B2C", true, NULL), PV_OK);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_EXISTS);
	cr_assert_eq(store_cert_live(st, dev, 0x9a, &got, NULL), PV_OK);
	cr_assert_eq(got.status, STORE_CERT_ON_HOLD);
	cr_assert_eq(got.reason, STORE_REASON_HOLD);
	store_cert_cleanup(&got);
	/* Revoke (superseded), then the replacement goes in. */
	cr_assert_eq(store_cert_revoke(st, "0a1b2c", STORE_REASON_SUPERSEDED,
	    1750000000, NULL), PV_OK);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	cr_assert_eq(store_cert_live(st, dev, 0x9a, &got, NULL), PV_OK);
	cr_assert_str_eq(got.serial, "0a1b2d");
	cr_assert_eq(got.spki_sha256[0], 2);
	store_cert_cleanup(&got);
	pv_why_clear(&why);
	cr_assert_eq(store_cert_revoke(st, "0a1b2c", STORE_REASON_SUPERSEDED,
	    0, &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "revoked") != NULL, "%s", why.msg);
	cr_assert_eq(store_cert_set_hold(st, "0a1b2c", false, NULL),
	    PV_E_STATE, "revoked is final");
	/* Other slots are independent; the serial is unique everywhere. */
	c = cert(dev, 0x9c, "0a1b2d", 3);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_EXISTS);
	c = cert(dev, 0x9c, "ff", 3);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	cr_assert_eq(store_cert_list_device(st, dev, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(list[0].serial, "0a1b2c");
	cr_assert_eq(list[0].status, STORE_CERT_REVOKED);
	cr_assert_eq(list[0].revoked_at, 1750000000);
	cr_assert_eq(list[0].reason, STORE_REASON_SUPERSEDED);
	store_cert_free_list(list, n);
	/* The CRL: revoked and on hold, no PEM. */
	cr_assert_eq(store_cert_set_hold(st, "ff", true, NULL), PV_OK);
	cr_assert_eq(store_cert_list_crl(st, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(list[0].serial, "0a1b2c");
	cr_assert_str_eq(list[1].serial, "ff");
	cr_assert_null(list[0].pem);
	store_cert_free_list(list, n);
	cr_assert_eq(store_cert_set_hold(st, "ff", false, NULL), PV_OK);
	cr_assert_eq(store_cert_get_serial(st, "ff", &got, NULL), PV_OK);
	cr_assert_eq(got.status, STORE_CERT_ACTIVE);
	cr_assert_eq(got.revoked_at, 0);
	store_cert_cleanup(&got);
}

Test(store, certificate_input_checks)
{
	struct store_cert c;
	int64_t p = add_person("0000000001", NULL), dev = add_device(p, "1", 1);

	c = cert(dev, 0x9a, "xyz", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_INVAL);
	c = cert(dev, 0x9a, "0x12", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_INVAL);
	c = cert(dev, 0x9a, "00112233445566778899aabbccddeeff00112233", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK,
	    "20 bytes is the RFC 5280 maximum");
	c = cert(dev, 0x9a, "01", 1);
	c.status = STORE_CERT_REVOKED;
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_INVAL);
	c = cert(dev, 0x9a, "01", 1);
	cr_assert_eq(store_cert_revoke(st, "01", 7, 0, NULL), PV_E_INVAL);
	cr_assert_eq(store_cert_revoke(st, "01", 1, 0, NULL), PV_E_NO_RECORD);
	c = cert(999, 0x9a, "01", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_NO_RECORD,
	    "unknown device");
}

static struct store_escrow
envelope(int64_t person, int64_t device, enum store_escrow_kind kind,
    uint8_t fp)
{
	static uint8_t cms[3][40];
	static int next;
	struct store_escrow e;
	uint8_t *buf = cms[next++ % 3];

	memset(&e, 0, sizeof(e));
	e.person_id = person;
	e.device_id = device;
	e.kind = kind;
	memset(buf, 0x30 + fp, 40);
	e.cms = buf;
	e.cms_len = 40;
	memset(e.fingerprint, fp, 32);
	return e;
}

Test(store, escrow_never_duplicated_never_lost)
{
	struct store_escrow e, got, *list = NULL;
	int64_t p = add_person("0000000001", NULL), dev = add_device(p, "1", 1);
	int64_t id1 = 0, id2 = 0, id3 = 0, rows;
	bool existed = true;
	size_t n = 0;

	e = envelope(p, dev, STORE_ESCROW_KEY_9D, 1);
	cr_assert_eq(store_escrow_add(st, &e, &id1, &existed, NULL), PV_OK);
	cr_assert(!existed);
	rows = fx_audit_rows(st);
	/* A resumed job escrows the same key again: nothing new. */
	cr_assert_eq(store_escrow_add(st, &e, &id2, &existed, NULL), PV_OK);
	cr_assert(existed);
	cr_assert_eq(id1, id2);
	cr_assert_eq(fx_audit_rows(st), rows);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM escrow"), 1);
	/* A new key: the old envelope is kept as history. */
	e = envelope(p, dev, STORE_ESCROW_KEY_9D, 2);
	cr_assert_eq(store_escrow_add(st, &e, &id3, &existed, NULL), PV_OK);
	cr_assert(!existed);
	cr_assert_neq(id3, id1);
	cr_assert_eq(store_escrow_current(st, dev, STORE_ESCROW_KEY_9D, &got,
	    NULL), PV_OK);
	cr_assert_eq(got.id, id3);
	cr_assert(got.current);
	cr_assert_eq(got.cms_len, 40);
	cr_assert_eq(got.cms[0], 0x32);
	store_escrow_cleanup(&got);
	cr_assert_eq(store_escrow_list_person(st, p, STORE_ESCROW_KEY_9D, &list,
	    &n, NULL), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].id, id3, "newest first");
	cr_assert(!list[1].current);
	store_escrow_free_list(list, n);
	/* PUK envelopes are a separate kind. */
	e = envelope(p, dev, STORE_ESCROW_PUK, 9);
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, NULL), PV_OK);
	cr_assert_eq(store_escrow_current_person(st, p, STORE_ESCROW_PUK, &got,
	    NULL), PV_OK);
	cr_assert_eq(got.fingerprint[0], 9);
	store_escrow_cleanup(&got);
	/* Nobody deletes an envelope, not even with SQL. */
	cr_assert_neq(fx_sql(dir, "DELETE FROM escrow"), SQLITE_OK);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM escrow"), 3);
	/* A terminated device's envelope is not the person's current. */
	cr_assert_eq(store_device_set_status(st, dev, STORE_DEV_TERMINATED,
	    NULL), PV_OK);
	cr_assert_eq(store_escrow_current_person(st, p, STORE_ESCROW_KEY_9D,
	    &got, NULL), PV_E_NO_RECORD);
	cr_assert_eq(store_escrow_current(st, dev, STORE_ESCROW_KEY_9D, &got,
	    NULL), PV_OK, "but it is still there");
	store_escrow_cleanup(&got);
}

Test(store, escrow_input_checks)
{
	struct store_escrow e;
	int64_t p = add_person("0000000001", NULL), dev = add_device(p, "1", 1);

	e = envelope(p, dev, STORE_ESCROW_KEY_9D, 1);
	e.cms_len = 0;
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, NULL), PV_E_INVAL);
	e = envelope(p, 999, STORE_ESCROW_KEY_9D, 1);
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, NULL),
	    PV_E_NO_RECORD);
}

Test(store, transactions_nest_and_roll_back)
{
	struct store_person p;
	struct identity a = fx_identity("0000000001", "A", NULL);
	struct identity b = fx_identity("0000000002", "B", NULL);
	struct audit_report rep;
	long long rows = fx_audit_rows(st);

	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_person_put(st, &a,
	    STORE_PERSON_UPDATE, NULL, NULL), PV_OK);
	store_rollback(st);
	cr_assert_eq(store_person_find_external(st, a.person_id, &p, NULL),
	    PV_E_NO_RECORD);
	cr_assert_eq(fx_audit_rows(st), rows, "the audit row went too");

	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_person_put(st, &a,
	    STORE_PERSON_UPDATE, NULL, NULL), PV_OK);
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_person_put(st, &b,
	    STORE_PERSON_UPDATE, NULL, NULL), PV_OK);
	store_rollback(st);
	cr_assert_eq(store_commit(st, NULL), PV_OK);
	cr_assert_eq(store_person_find_external(st, a.person_id, &p, NULL),
	    PV_OK);
	cr_assert_eq(store_person_find_external(st, b.person_id, &p, NULL),
	    PV_E_NO_RECORD);
	cr_assert_eq(fx_audit_rows(st), rows + 1);
	cr_assert_eq(audit_verify(st, &rep, NULL), PV_OK);
	cr_assert_eq(store_commit(st, NULL), PV_E_STATE, "nothing to commit");
	/* Closing with a transaction open rolls it back. */
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_person_put(st, &b,
	    STORE_PERSON_UPDATE, NULL, NULL), PV_OK);
	store_close(st);
	st = fx_open(dir);
	cr_assert_eq(store_person_find_external(st, b.person_id, &p, NULL),
	    PV_E_NO_RECORD);
	cr_assert_eq(audit_verify(st, &rep, NULL), PV_OK);
}

Test(store, a_failed_call_leaves_nothing)
{
	struct store_cert c;
	long long rows;
	int64_t p = add_person("0000000001", NULL), dev = add_device(p, "1", 1);

	c = cert(dev, 0x9a, "01", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	rows = fx_audit_rows(st);
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	c = cert(dev, 0x9a, "02", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_E_EXISTS);
	/* The outer transaction is still usable after the inner failure. */
	c = cert(dev, 0x9c, "03", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	cr_assert_eq(store_commit(st, NULL), PV_OK);
	cr_assert_eq(fx_audit_rows(st), rows + 1);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM certificates"), 2);
}

Test(store, credential_numbers)
{
	uint32_t n = 0;
	struct pv_why why = { "" };

	cr_assert_eq(store_credential_number_next(st, "9999", "0001", 0, &n,
	    NULL), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_credential_number_next(st, "9999", "0001", 0, &n,
	    NULL), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(store_credential_number_next(st, "9999", "0002", 0, &n,
	    NULL), PV_OK);
	cr_assert_eq(n, 1, "each agency + system pair counts on its own");
	cr_assert_eq(store_credential_number_next(st, "999", "0001", 0, &n,
	    NULL), PV_E_INVAL);
	cr_assert_eq(store_credential_number_next(st, "9999", "00a1", 0, &n,
	    NULL), PV_E_INVAL);
	cr_assert_eq(fx_sql(dir, "INSERT INTO credential_numbers (agency_code, "
	    "system_code, number, job_id, allocated_at) VALUES "
	    "('1234', '5678', 999999, NULL, 0)"), SQLITE_OK);
	cr_assert_eq(store_credential_number_next(st, "1234", "5678", 0, &n,
	    &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "are used") != NULL, "%s", why.msg);
	/* An allocation survives a rolled-back caller?  No: it goes with it,
	 * so a job must keep its number in the same transaction. */
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_credential_number_next(st, "9999", "0001", 0, &n,
	    NULL), PV_OK);
	cr_assert_eq(n, 3);
	store_rollback(st);
	cr_assert_eq(store_credential_number_next(st, "9999", "0001", 0, &n,
	    NULL), PV_OK);
	cr_assert_eq(n, 3);
}

Test(store, crl_numbers_and_operators)
{
	uint64_t n = 0;

	cr_assert_eq(store_crl_number_next(st, &n, NULL), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_crl_number_next(st, &n, NULL), PV_OK);
	cr_assert_eq(n, 2);
}

Test(store, operators)
{
	struct store_operator o = fx_operator("officer", STORE_ROLE_HELP_DESK);
	struct store_operator got, *list = NULL;
	struct pv_why why = { "" };
	uint8_t uuid[16];
	size_t n = 0;
	int64_t id = 0;

	cr_assert_eq(store_operator_get(st, "officer", &got, NULL),
	    PV_E_NO_RECORD);
	memset(uuid, 0x5a, sizeof(uuid));
	memcpy(o.card_uuid, uuid, 16);
	o.has_card_uuid = true;
	cr_assert_eq(store_operator_add(st, &o, &id, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_gt(id, 0);
	cr_assert_eq(store_operator_get(st, "officer", &got, NULL), PV_OK);
	cr_assert_eq(got.role, STORE_ROLE_HELP_DESK);
	cr_assert(!got.disabled && got.has_card_uuid);
	cr_assert_eq(store_operator_find_card(st, uuid, &got, NULL), PV_OK);
	cr_assert_str_eq(got.name, "officer");
	pv_why_clear(&why);
	cr_assert_eq(store_operator_add(st, &o, NULL, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "already registered") != NULL, "%s", why.msg);
	/* Another name, the same card: one card signs one operator in. */
	snprintf(o.name, sizeof(o.name), "%s", "other");
	cr_assert_eq(store_operator_add(st, &o, NULL, NULL), PV_E_EXISTS);
	o.has_card_uuid = false;
	cr_assert_eq(store_operator_add(st, &o, NULL, NULL), PV_OK);
	o.disabled = true;
	o.role = STORE_ROLE_ADMIN;
	cr_assert_eq(store_operator_set(st, &o, "left the office", &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(store_operator_list(st, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(list[0].name, "officer");
	cr_assert_str_eq(list[1].name, "other");
	cr_assert(list[1].disabled && list[1].role == STORE_ROLE_ADMIN);
	free(list);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
	snprintf(o.name, sizeof(o.name), "%s", "nobody");
	cr_assert_eq(store_operator_set(st, &o, NULL, NULL), PV_E_NO_RECORD);
}

Test(store, second_writer_waits_then_fails_cleanly)
{
	struct store_opts o;
	struct store *other = NULL;
	struct identity a = fx_identity("0000000001", "A", NULL);
	struct pv_why why = { "" };
	struct audit_report rep;

	memset(&o, 0, sizeof(o));
	o.audit_key = fx_key();
	o.head_path = fx_path(dir, "audit.head");
	o.actor = "second";
	o.busy_timeout_ms = 50;
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &other, NULL),
	    PV_OK);
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_person_put(other, &a,
	    STORE_PERSON_UPDATE, NULL, &why), PV_E_DB,
	    "the write lock is held");
	cr_assert(strstr(why.msg, "locked") != NULL, "%s", why.msg);
	cr_assert_eq(store_commit(st, NULL), PV_OK);
	cr_assert_eq(store_person_put(other, &a,
	    STORE_PERSON_UPDATE, NULL, NULL), PV_OK);
	/* Both handles see one consistent chain. */
	cr_assert_eq(audit_verify(st, &rep, NULL), PV_OK);
	cr_assert_eq(audit_verify(other, &rep, NULL), PV_OK);
	store_close(other);
}

Test(store, terminate_revokes_every_live_certificate)
{
	struct store_cert c, *list = NULL;
	struct store_device d;
	int64_t p = add_person("0000000001", NULL), dev = add_device(p, "1", 1);
	size_t n = 0, revoked = 9;

	c = cert(dev, 0x9a, "a1", 1);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	c = cert(dev, 0x9c, "a2", 2);
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	c = cert(dev, 0x9e, "a3", 3);
	c.status = STORE_CERT_ON_HOLD;
	cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	cr_assert_eq(store_cert_revoke(st, "a2", STORE_REASON_KEY_COMPROMISE,
	    0, NULL), PV_OK);
	cr_assert_eq(store_device_terminate(st, dev, STORE_REASON_CESSATION,
	    &revoked, NULL), PV_OK);
	cr_assert_eq(revoked, 2);
	cr_assert_eq(store_device_get(st, dev, &d, NULL), PV_OK);
	cr_assert_eq(d.status, STORE_DEV_TERMINATED);
	cr_assert_eq(store_cert_list_device(st, dev, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(list[0].reason, STORE_REASON_CESSATION);
	cr_assert_eq(list[1].reason, STORE_REASON_KEY_COMPROMISE, "kept");
	cr_assert_eq(list[2].status, STORE_CERT_REVOKED);
	store_cert_free_list(list, n);
	cr_assert_eq(store_device_terminate(st, dev, 0, NULL, NULL), PV_E_STATE);
}

/*
 * A version 1 store (jobs and operators not yet bound to the audit log)
 * migrates to 2 in one audited step that records the digest of each
 * such row as it is: audit verify then vouches for them.
 */
Test(store, migration_2_binds_jobs_and_operators)
{
	static const char *const steps[] = { "one", "two" };
	struct store_job j;
	struct audit_report rep;
	struct pv_why why = { "" };
	int64_t person = add_person("0000000001", NULL), job = 0;
	long long before;

	memset(&j, 0, sizeof(j));
	snprintf(j.kind, sizeof(j.kind), "%s", "issue");
	j.person_id = person;
	cr_assert_eq(store_job_create(st, &j, steps, 2, &job, &why), PV_OK,
	    "%s", why.msg);
	{
		struct store_operator op = fx_operator("officer-1",
		    STORE_ROLE_ENROLLER);

		cr_assert_eq(store_operator_add(st, &op, NULL, &why), PV_OK,
		    "%s", why.msg);
	}
	{
		uint32_t number;

		cr_assert_eq(store_credential_number_next(st, "1234", "5678",
		    job, &number, &why), PV_OK, "%s", why.msg);
		cr_assert_eq(store_credential_number_next(st, "1234", "5678",
		    0, &number, &why), PV_OK, "%s", why.msg);
	}
	store_close(st);
	st = NULL;
	/* As a version 1 store left them: rows the log has no digest of
	 * (changed here behind its back to stand for that). */
	cr_assert_eq(fx_sql(dir, "UPDATE schema_version SET version = 1; "
	    "DROP TABLE activations; DROP TABLE derived; "
	    "UPDATE job_steps SET detail = 'from version 1'; "
	    "UPDATE operators SET created_at = 1; "
	    "DROP INDEX jobs_running_device; DROP INDEX jobs_running; "
	    "CREATE INDEX jobs_running ON jobs(kind, person_id) "
	    "WHERE state = 'running'; "
	    "ALTER TABLE audit_head DROP COLUMN tx_start; "
	    "CREATE TABLE ops1 AS SELECT id, name, disabled, created_at "
	    "FROM operators; DROP TABLE operators; "
	    "CREATE TABLE operators (id INTEGER PRIMARY KEY, name TEXT NOT "
	    "NULL UNIQUE, disabled INTEGER NOT NULL DEFAULT 0, created_at "
	    "INTEGER NOT NULL); INSERT INTO operators SELECT * FROM ops1; "
	    "DROP TABLE ops1; "
	    "CREATE TABLE cn1 AS SELECT agency_code, system_code, number, "
	    "job_id, allocated_at FROM credential_numbers; "
	    "DROP TABLE credential_numbers; "
	    "CREATE TABLE credential_numbers (agency_code TEXT NOT NULL, "
	    "system_code TEXT NOT NULL, number INTEGER NOT NULL, job_id "
	    "INTEGER REFERENCES jobs(id), allocated_at INTEGER NOT NULL, "
	    "PRIMARY KEY (agency_code, system_code, number)); "
	    "INSERT INTO credential_numbers SELECT * FROM cn1 ORDER BY number "
	    "DESC; DROP TABLE cn1; "
	    "DROP TABLE batch_rows; DROP TABLE batches"), SQLITE_OK);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit WHERE "
	    "action = 'store.migrate'"), 0);
	before = fx_sql_int(dir, "SELECT count(*) FROM audit");
	st = fx_open(dir);
	cr_assert_eq(store_schema_version(st), STORE_SCHEMA_VERSION);
	cr_assert_eq(fx_audit_rows(st), before + 1, "one audit row");
	{
		char q[400];

		snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE "
		    "action = 'store.migrate' AND detail LIKE "
		    "'%%\"from\":1,\"to\":%d%%' AND detail LIKE "
		    "'%%\"table\":\"jobs\"%%' AND detail LIKE "
		    "'%%\"table\":\"operators\"%%' AND detail LIKE "
		    "'%%\"table\":\"credential_numbers\"%%'",
		    STORE_SCHEMA_VERSION);
		cr_assert_eq(fx_sql_int(dir, q), 1);
	}
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	/* The numbers kept, with ids in the order they were handed out. */
	cr_assert_eq(fx_sql_int(dir, "SELECT group_concat(id || ':' || number "
	    "|| ':' || coalesce(job_id, 0)) = '1:1:1,2:2:0' FROM "
	    "credential_numbers"), 1);
	/* And from now on they are watched. */
	store_close(st);
	st = NULL;
	cr_assert_eq(fx_sql(dir, "UPDATE operators SET disabled = 1"),
	    SQLITE_OK);
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "operators row 1") != NULL, "%s", why.msg);
}
