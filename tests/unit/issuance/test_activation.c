/*
 * test_activation.c: one-time hand-over of derived credentials
 * (activation.h) and the store rows under it (derived, activations).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/activation.h"
#include "issuance/audit.h"
#include "issuance/store.h"
#include "station_fixture.h"

static const char *dir;
static struct store *st;
static struct secret_master master;
static int64_t derived_id;

static char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n"
    "-----END CERTIFICATE-----\n";

static int64_t
add_device(int64_t person, enum store_device_type type, uint8_t guid0)
{
	struct store_device d;
	int64_t id = 0;
	struct pv_why why = { "" };

	memset(&d, 0, sizeof(d));
	d.person_id = person;
	d.type = type;
	d.guid[0] = guid0;
	d.has_guid = type != STORE_DEV_MOBILE;
	d.status = STORE_DEV_ACTIVE;
	cr_assert_eq(store_device_add(st, &d, &id, &why), PV_OK, "%s", why.msg);
	return id;
}

static int64_t
add_derived(uint8_t uuid0)
{
	struct identity ident = fx_identity("0000012345", "Example", NULL);
	struct store_derived d;
	struct store_person p;
	int64_t person = 0, id = 0;
	struct pv_why why = { "" };

	if (store_person_find_external(st, "0000012345", &p, NULL) == PV_OK)
		person = p.id;
	else
		cr_assert_eq(store_person_put(st, &ident, STORE_PERSON_REFUSE,
		    &person, &why), PV_OK, "%s", why.msg);
	memset(&d, 0, sizeof(d));
	d.primary_id = add_device(person, STORE_DEV_CARD, uuid0);
	d.device_id = add_device(person, STORE_DEV_MOBILE, 0);
	d.person_id = person;
	d.target = STORE_DERIVED_P12;
	d.uuid[0] = uuid0;
	d.uuid[15] = 0x99;
	strcpy(d.pa_serial, "0a1b2c");
	strcpy(d.pa_issuer, "CN=Issuing CA");
	d.pa_pem = pem;
	cr_assert_eq(store_derived_add(st, &d, &id, &why), PV_OK, "%s",
	    why.msg);
	return id;
}

static void
setup(void)
{
	size_t i;

	dir = fx_tmpdir();
	st = fx_open(dir);
	for (i = 0; i < sizeof(master.v); i++)
		master.v[i] = (uint8_t)(0xa0 + i);
	derived_id = add_derived(1);
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	fx_rmtree(dir);
}

static struct act_policy
policy(void)
{
	struct act_policy p;
	struct pv_config cfg;

	config_defaults(&cfg);
	act_policy_from_config(&cfg, &p);
	return p;
}

static const uint8_t payload[] = "PKCS12-BYTES-FOR-THE-PHONE";

/* A p12 activation with |code| (a new one when NULL), its info in |out|. */
static void
make(const struct act_code *code, enum store_act_kind kind,
    struct act_info *out, struct act_code *code_out)
{
	struct act_policy pol = policy();
	struct act_new n;
	struct act_code c;
	struct pv_why why = { "" };

	if (code != NULL)
		c = *code;
	else
		cr_assert_eq(act_code_new(&pol, &c, &why), PV_OK, "%s",
		    why.msg);
	memset(&n, 0, sizeof(n));
	n.derived_id = derived_id;
	n.kind = kind;
	if (kind != STORE_ACT_SCEP) {
		n.payload = payload;
		n.payload_len = sizeof(payload);
		n.payload_name = "alice.p12";
	}
	cr_assert_eq(act_create(st, &master, &pol, &n, &c, out, &why), PV_OK,
	    "%s", why.msg);
	if (code_out != NULL)
		*code_out = c;
	act_code_clear(&c);
}

/* How many audit rows have |action|. */
struct count_ctx {
	const char *action;
	long long n;
};

static enum pv_err
count_action(void *ctx, const struct audit_row *row)
{
	struct count_ctx *c = ctx;

	if (strcmp(row->action, c->action) == 0)
		c->n++;
	return PV_OK;
}

static long long
audited(const char *action)
{
	struct count_ctx c = { action, 0 };

	cr_assert_eq(audit_foreach(st, 0, count_action, &c, NULL), PV_OK);
	return c.n;
}

static void
verify_audit(void)
{
	struct audit_report rep;
	struct pv_why why = { "" };

	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
}

/* Is |needle| anywhere in the bytes of file |name| of the store folder? */
static bool
file_has(const char *name, const void *needle, size_t n)
{
	FILE *f = fopen(fx_path(dir, name), "rb");
	char *buf;
	long len;
	bool found = false;
	long i;

	if (f == NULL)
		return false;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (i = 0; i + (long)n <= len && !found; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

/* Flips byte |at| of the one activation's payload, as someone holding the
 * database file could. */
static void
flip_payload_byte(int at)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	uint8_t buf[512];
	int n;

	cr_assert_eq(sqlite3_open(fx_path(dir, "store.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT payload FROM activations",
	    -1, &s, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_bytes(s, 0);
	cr_assert(n > at && n <= (int)sizeof(buf));
	memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
	sqlite3_finalize(s);
	buf[at] ^= 0x01;
	cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE activations SET payload = "
	    "?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_blob(s, 1, buf, n, SQLITE_TRANSIENT);
	cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

TestSuite(activation, .init = setup, .fini = teardown);

Test(activation, codes_follow_the_policy)
{
	struct act_policy pol = policy();
	struct act_code a, b;
	struct pv_why why = { "" };
	size_t i;

	cr_assert_eq(pol.code_len, 8);
	cr_assert_eq(pol.lifetime_s, 600);
	cr_assert_eq(pol.max_attempts, 5);
	cr_assert_eq(act_code_new(&pol, &a, &why), PV_OK);
	cr_assert_eq(act_code_new(&pol, &b, &why), PV_OK);
	cr_assert_eq(strlen(a.v), 8);
	cr_assert_str_neq(a.v, b.v);
	for (i = 0; i < 8; i++)
		cr_assert(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz", a.v[i]) != NULL);
	pol.alphabet = CONFIG_CODE_DIGITS;
	pol.code_len = 16;
	cr_assert_eq(act_code_new(&pol, &a, &why), PV_OK);
	cr_assert_eq(strspn(a.v, "0123456789"), 16);
	pol.code_len = 5;
	cr_assert_eq(act_code_new(&pol, &a, &why), PV_E_INVAL);
	cr_assert_eq(a.v[0], '\0', "wiped on failure");
	act_code_clear(&b);
	cr_assert_eq(b.v[0], '\0');
}

Test(activation, every_alphabet_character_comes_up)
{
	struct act_policy pol = policy();
	struct act_code c;
	bool seen[128] = { false };
	int i, n = 0;

	pol.alphabet = CONFIG_CODE_UPPER;
	pol.code_len = 16;
	for (i = 0; i < 200; i++) {
		cr_assert_eq(act_code_new(&pol, &c, NULL), PV_OK);
		for (size_t k = 0; k < 16; k++) {
			cr_assert(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
			    c.v[k]) != NULL);
			seen[(unsigned char)c.v[k]] = true;
		}
	}
	for (i = 0; i < 128; i++)
		n += seen[i];
	cr_assert_eq(n, 36, "3200 draws reach all 36 characters");
}

Test(activation, create_stores_no_secret)
{
	struct act_info info, look;
	struct act_code code;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_P12, &info, &code);
	cr_assert(act_id_ok(info.id), "%s", info.id);
	cr_assert_eq(info.state, STORE_ACT_OPEN);
	cr_assert_eq(info.attempts_left, 5);
	cr_assert(info.has_payload);
	cr_assert_eq(info.expires_at - info.created_at, 600);
	cr_assert_eq(act_lookup(st, info.id, &look, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_str_eq(look.id, info.id);
	cr_assert_eq(look.derived_id, derived_id);
	cr_assert(look.has_payload);
	cr_assert_str_eq(look.payload_name, "alice.p12");
	cr_assert_eq(audited("activation.create"), 1);
	/* Neither the code nor the payload is in the store's files. */
	cr_assert_not(file_has("store.db", code.v, strlen(code.v)));
	cr_assert_not(file_has("store.db-wal", code.v, strlen(code.v)));
	cr_assert_not(file_has("store.db-wal", payload, sizeof(payload) - 1));
	cr_assert_not(file_has("store.db", payload, sizeof(payload) - 1));
	cr_assert_eq(fx_sql_int(dir, "SELECT length(payload) FROM "
	    "activations"), (long long)sizeof(payload) + 12 + 16);
	verify_audit();
	act_code_clear(&code);
}

Test(activation, malformed_or_unknown_ids)
{
	struct act_info info;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	cr_assert_not(act_id_ok("short"));
	cr_assert_not(act_id_ok("AAAAAAAAAAAAAAAAAAAAA/"));
	cr_assert_not(act_id_ok("AAAAAAAAAAAAAAAAAAAAAAA"));
	cr_assert(act_id_ok("AAAAAAAAAAAAAAAAAAAA-_"));
	cr_assert_eq(act_lookup(st, "../../etc/passwd", &info, &why),
	    PV_E_NO_RECORD);
	cr_assert_eq(act_lookup(st, "AAAAAAAAAAAAAAAAAAAA-_", &info, &why),
	    PV_E_NO_RECORD);
	cr_assert_eq(act_collect(st, &master, "AAAAAAAAAAAAAAAAAAAA-_",
	    "abcdefgh", "192.0.2.1", &p, &n, &info, &why), PV_E_NO_RECORD);
	cr_assert_null(p);
	cr_assert_eq(act_collect(st, &master, "'; DROP TABLE audit;--",
	    "abcdefgh", "192.0.2.1", &p, &n, &info, &why), PV_E_NO_RECORD);
	cr_assert_eq(audited("activation.refused"), 2, "every attempt audited");
	verify_audit();
}

Test(activation, collect_once_with_the_right_code)
{
	struct act_info info, after;
	struct act_code code;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_P12, &info, &code);
	cr_assert_eq(act_collect(st, &master, info.id, code.v, "192.0.2.7", &p,
	    &n, &after, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(n, sizeof(payload));
	cr_assert_eq(memcmp(p, payload, n), 0);
	act_payload_free(p, n);
	p = NULL;
	cr_assert_eq(after.state, STORE_ACT_COLLECTED);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations WHERE "
	    "payload IS NULL AND state = 'collected'"), 1, "payload erased");
	/* Used once. */
	cr_assert_eq(act_collect(st, &master, info.id, code.v, "192.0.2.7", &p,
	    &n, &after, &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "already used") != NULL, "%s", why.msg);
	cr_assert_null(p);
	cr_assert_eq(audited("activation.collect"), 1);
	cr_assert_eq(audited("activation.refused"), 1);
	verify_audit();
	act_code_clear(&code);
}

Test(activation, locks_after_five_wrong_codes)
{
	struct act_info info, after;
	struct act_code code;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };
	int i;

	make(NULL, STORE_ACT_MOBILECONFIG, &info, &code);
	for (i = 1; i <= 4; i++) {
		cr_assert_eq(act_collect(st, &master, info.id, "WRONG123",
		    "198.51.100.2", &p, &n, &after, &why), PV_E_AUTH_FAILED);
		cr_assert_eq(after.attempts_left, (unsigned)(5 - i));
		cr_assert_eq(pv_err_class(PV_E_AUTH_FAILED), PV_CLASS_AUTH);
	}
	cr_assert(strstr(why.msg, "1 try left") != NULL, "%s", why.msg);
	/* A code of the wrong shape counts too. */
	cr_assert_eq(act_collect(st, &master, info.id, "", "198.51.100.2", &p,
	    &n, &after, &why), PV_E_BLOCKED);
	cr_assert_eq(after.state, STORE_ACT_LOCKED);
	/* Now even the right code is refused, and the payload is gone. */
	cr_assert_eq(act_collect(st, &master, info.id, code.v, "198.51.100.2",
	    &p, &n, &after, &why), PV_E_BLOCKED);
	cr_assert_null(p);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations WHERE "
	    "payload IS NULL AND state = 'locked' AND attempts = 5"), 1);
	cr_assert_eq(audited("activation.attempt"), 4);
	cr_assert_eq(audited("activation.lock"), 1);
	cr_assert_eq(audited("activation.refused"), 1);
	verify_audit();
	act_code_clear(&code);
}

Test(activation, expires)
{
	struct act_info info, after, look;
	struct act_code code;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	store_set_clock(st, 1800000000);
	make(NULL, STORE_ACT_P12, &info, &code);
	store_set_clock(st, 1800000000 + 599);
	cr_assert_eq(act_lookup(st, info.id, &look, &why), PV_OK);
	cr_assert_eq(look.state, STORE_ACT_OPEN);
	store_set_clock(st, 1800000000 + 600);
	cr_assert_eq(act_lookup(st, info.id, &look, &why), PV_OK);
	cr_assert_eq(look.state, STORE_ACT_EXPIRED, "expired before the row "
	    "says so");
	cr_assert_eq(act_collect(st, &master, info.id, code.v, NULL, &p, &n,
	    &after, &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "expired") != NULL, "%s", why.msg);
	cr_assert_null(p);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations WHERE "
	    "payload IS NULL AND state = 'expired'"), 1);
	verify_audit();
	act_code_clear(&code);
}

Test(activation, sweep_erases_overdue_payloads)
{
	struct act_info a, b;
	size_t n = 9;
	struct pv_why why = { "" };

	store_set_clock(st, 1800000000);
	make(NULL, STORE_ACT_P12, &a, NULL);
	store_set_clock(st, 1800000300);
	make(NULL, STORE_ACT_P12, &b, NULL);
	store_set_clock(st, 1800000650);
	cr_assert_eq(act_sweep(st, &n, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations WHERE "
	    "payload IS NOT NULL"), 1);
	store_set_clock(st, 1800001000);
	cr_assert_eq(act_sweep(st, &n, &why), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(act_sweep(st, &n, &why), PV_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(audited("activation.expire"), 2);
	verify_audit();
}

Test(activation, tampered_payload_does_not_open)
{
	struct act_info info, after;
	struct act_code code;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_P12, &info, &code);
	store_close(st);
	flip_payload_byte(20);
	st = fx_open(dir);
	cr_assert_eq(act_collect(st, &master, info.id, code.v, NULL, &p, &n,
	    &after, &why), PV_E_VERIFY);
	cr_assert_null(p);
	cr_assert_eq(act_lookup(st, info.id, &after, &why), PV_OK);
	cr_assert_eq(after.state, STORE_ACT_OPEN, "nothing changed");
	act_code_clear(&code);
}

Test(activation, another_master_secret_cannot_use_the_code)
{
	struct act_info info, after;
	struct act_code code;
	struct secret_master other = master;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_P12, &info, &code);
	other.v[0] ^= 1;
	cr_assert_eq(act_collect(st, &other, info.id, code.v, NULL, &p, &n,
	    &after, &why), PV_E_AUTH_FAILED);
	act_code_clear(&code);
}

Test(activation, same_code_twice_is_refused)
{
	struct act_info a, b;
	struct act_code code;
	struct act_policy pol = policy();
	struct act_new nn;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_SCEP, &a, &code);
	memset(&nn, 0, sizeof(nn));
	nn.derived_id = derived_id;
	nn.kind = STORE_ACT_SCEP;
	cr_assert_eq(act_create(st, &master, &pol, &nn, &code, &b, &why),
	    PV_E_EXISTS);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations"), 1);
	nn.derived_id = 4242;
	cr_assert_eq(act_code_new(&pol, &code, NULL), PV_OK);
	cr_assert_eq(act_create(st, &master, &pol, &nn, &code, &b, &why),
	    PV_E_NO_RECORD, "%s", why.msg);
	act_code_clear(&code);
}

Test(activation, scep_find_and_redeem)
{
	struct act_info info, found, other, x;
	struct act_code code, pcode;
	uint8_t *p = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_SCEP, &info, &code);
	make(NULL, STORE_ACT_P12, &other, &pcode);
	cr_assert_not(info.has_payload);
	cr_assert_eq(act_scep_find(st, &master, code.v, &found, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_str_eq(found.id, info.id);
	cr_assert_eq(act_scep_find(st, &master, "zzzzzzzz", &found, &why),
	    PV_E_NO_RECORD);
	/* A p12 activation's code is no SCEP challenge. */
	cr_assert_eq(act_scep_find(st, &master, pcode.v, &found, &why),
	    PV_E_NO_RECORD);
	cr_assert_eq(act_scep_redeem(st, &master, pcode.v, "scep", &x, &why),
	    PV_E_AUTH_FAILED);
	/* Nothing to collect from a scep activation. */
	cr_assert_eq(act_collect(st, &master, info.id, code.v, NULL, &p, &n,
	    &x, &why), PV_E_STATE);
	/* Redeemed inside a transaction that rolls back: still open. */
	cr_assert_eq(store_begin(st, &why), PV_OK);
	cr_assert_eq(act_scep_redeem(st, &master, code.v, "scep", &x, &why),
	    PV_OK, "%s", why.msg);
	store_rollback(st);
	cr_assert_eq(act_scep_find(st, &master, code.v, &found, &why), PV_OK);
	/* Redeemed for good, once. */
	cr_assert_eq(act_scep_redeem(st, &master, code.v, "203.0.113.9", &x,
	    &why), PV_OK, "%s", why.msg);
	cr_assert_eq(x.state, STORE_ACT_COLLECTED);
	cr_assert_eq(act_scep_redeem(st, &master, code.v, "203.0.113.9", &x,
	    &why), PV_E_AUTH_FAILED);
	cr_assert_eq(audited("activation.redeem"), 1);
	cr_assert_eq(audited("activation.refused"), 3);
	verify_audit();
	act_code_clear(&code);
	act_code_clear(&pcode);
}

Test(activation, scep_code_expires)
{
	struct act_info info, x;
	struct act_code code;
	struct pv_why why = { "" };

	store_set_clock(st, 1800000000);
	make(NULL, STORE_ACT_SCEP, &info, &code);
	store_set_clock(st, 1800000600);
	cr_assert_eq(act_scep_find(st, &master, code.v, &x, &why),
	    PV_E_NO_RECORD);
	cr_assert_eq(act_scep_redeem(st, &master, code.v, NULL, &x, &why),
	    PV_E_STATE);
	cr_assert_eq(x.state, STORE_ACT_EXPIRED);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations WHERE "
	    "state = 'expired'"), 1);
	act_code_clear(&code);
}

Test(activation, cancel_and_cancel_derived)
{
	struct act_info a, b, c, x;
	size_t n = 0;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_P12, &a, NULL);
	make(NULL, STORE_ACT_SCEP, &b, NULL);
	make(NULL, STORE_ACT_P12, &c, NULL);
	cr_assert_eq(act_cancel(st, a.id, "operator", &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(act_cancel(st, a.id, "operator", &why), PV_E_STATE);
	cr_assert_eq(act_cancel_derived(st, derived_id, "derived credential "
	    "terminated", &n, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(n, 2);
	cr_assert_eq(act_lookup(st, c.id, &x, &why), PV_OK);
	cr_assert_eq(x.state, STORE_ACT_CANCELLED);
	cr_assert_not(x.has_payload);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM activations WHERE "
	    "payload IS NOT NULL"), 0);
	cr_assert_eq(audited("activation.cancel"), 3);
	verify_audit();
}

Test(activation, audit_verify_sees_a_changed_row)
{
	struct act_info a;
	struct audit_report rep;
	struct pv_why why = { "" };

	make(NULL, STORE_ACT_P12, &a, NULL);
	store_close(st);
	cr_assert_eq(fx_sql(dir, "UPDATE activations SET attempts = 0, "
	    "max_attempts = 10"), SQLITE_OK);
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "activations") != NULL, "%s", why.msg);
}

/* Two devices race with the right code: it is collected once. */
struct racer {
	const char *id;
	const char *code;
	enum pv_err r;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	struct store *mine = fx_open(dir);
	uint8_t *p = NULL;
	size_t n = 0;

	rc->r = act_collect(mine, &master, rc->id, rc->code, "race", &p, &n,
	    NULL, NULL);
	act_payload_free(p, n);
	store_close(mine);
	return NULL;
}

Test(activation, two_threads_collect_once)
{
	struct act_info a;
	struct act_code code;
	struct racer r[4];
	pthread_t t[4];
	int i, ok = 0, used = 0;

	make(NULL, STORE_ACT_P12, &a, &code);
	for (i = 0; i < 4; i++) {
		r[i].id = a.id;
		r[i].code = code.v;
		cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].r == PV_OK;
		used += r[i].r == PV_E_STATE;
	}
	cr_assert_eq(ok, 1);
	cr_assert_eq(used, 3);
	verify_audit();
	act_code_clear(&code);
}

Test(activation, derived_rows)
{
	struct store_derived d, *list = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	cr_assert_eq(store_derived_get(st, derived_id, &d, &why), PV_OK);
	cr_assert_str_eq(d.pa_pem, pem);
	cr_assert_eq(d.target, STORE_DERIVED_P12);
	cr_assert_eq(d.status, STORE_DEV_ACTIVE);
	cr_assert_eq(store_derived_list_person(st, d.person_id, &list, &n,
	    &why), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_null(list[0].pa_pem);
	store_derived_free_list(list, n);
	/* The UUID is unique. */
	d.device_id = add_device(d.person_id, STORE_DEV_MOBILE, 0);
	cr_assert_eq(store_derived_add(st, &d, NULL, &why), PV_E_EXISTS);
	store_derived_cleanup(&d);
	/* Re-check schedule. */
	store_set_clock(st, 1900000000);
	cr_assert_eq(store_derived_set_recheck(st, derived_id, 1900000000,
	    "good", 1900000000 + 7 * 86400, "{\"source\":\"crl\"}", &why),
	    PV_OK, "%s", why.msg);
	cr_assert_eq(store_derived_list_due(st, 1900000000, false, 0, 100,
	    &list, &n, &why), PV_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_derived_list_due(st, 1900000000 + 7 * 86400, false,
	    0, 100, &list, &n, &why), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(list[0].recheck_result, "good");
	cr_assert_not_null(list[0].pa_pem);
	store_derived_free_list(list, n);
	verify_audit();
}
