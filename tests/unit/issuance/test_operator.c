/*
 * test_operator.c: what a signed-in operator may do (the store's
 * registry is test_store.c's) and what the console adds around the
 * station: identities edited field by field with identity.json's words,
 * the [console] keys, lifecycle changes of a device.
 */
#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/lifecycle.h"
#include "issuance/operator.h"
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
	fx_rmtree(dir);
}

TestSuite(operator, .init = setup, .fini = teardown);

Test(operator, permits)
{
	struct operator_session s;

	memset(&s, 0, sizeof(s));
	s.role = STORE_ROLE_ADMIN;
	cr_assert(!operator_permits(&s, OP_ISSUE), "nobody signed in");
	cr_assert(!operator_permits(NULL, OP_ISSUE));
	strcpy(s.name, "h");
	s.role = STORE_ROLE_HELP_DESK;
	cr_assert(operator_permits(&s, OP_UNBLOCK));
	cr_assert(operator_permits(&s, OP_RECOVER));
	cr_assert(operator_permits(&s, OP_LIFECYCLE));
	cr_assert(!operator_permits(&s, OP_ISSUE));
	s.role = STORE_ROLE_ENROLLER;
	cr_assert(operator_permits(&s, OP_ISSUE));
	cr_assert(!operator_permits(&s, OP_RECOVER));
	s.role = STORE_ROLE_ADMIN;
	cr_assert(operator_permits(&s, OP_ISSUE) &&
	    operator_permits(&s, OP_RECOVER), "an administrator may do all");
	operator_clear(&s);
	cr_assert(!operator_permits(&s, OP_AUDIT), "signed out");
}

/* ---- identities field by field -------------------------------------------------- */

/* What differs between a stored person and an identity, in the store's
 * words; the key and the per-issuance background investigation aside. */
Test(operator, identity_diff_names_the_person_details)
{
	struct identity a, b;
	char out[200];

	memset(&a, 0, sizeof(a));
	strcpy(a.given_name, "Eve");
	strcpy(a.person_id, "0000000005");
	b = a;
	cr_assert_eq(identity_diff(&a, &b, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	strcpy(b.person_id, "0000000006");
	strcpy(b.background_investigation, "pending");
	cr_assert_eq(identity_diff(&a, &b, out, sizeof(out)), 0, "%s", out);
	strcpy(b.given_name, "Eva");
	strcpy(b.email, "eva@example.gov");
	cr_assert_eq(identity_diff(&a, &b, out, sizeof(out)), 2);
	cr_assert_str_eq(out, "given_name 'Eve', given 'Eva'; email '', "
	    "given 'eva@example.gov'");
	cr_assert_eq(identity_diff(&a, &b, out, 20), 2, "counted when cut");
	cr_assert_eq(strlen(out), 19);
}

Test(operator, identity_fields_speak_like_files)
{
	static const char *const bad[][2] = {
		{ "person_id", "12345" },
		{ "email", "a@b" },
		{ "given_name", " Ann" },
		{ "agency_card_serial", "\xc3\xa9" },
		{ "family_name", "" },
		{ "background_investigation", "maybe" },
	};
	struct identity id, tmp;
	struct pv_why w1 = { "" }, w2 = { "" };
	char json[512];
	size_t i, f;

	memset(&id, 0, sizeof(id));
	cr_assert_eq(identity_field_count(), 12);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (f = 0; f < identity_field_count(); f++)
			if (strcmp(identity_field_name(f), bad[i][0]) == 0)
				break;
		cr_assert_lt(f, identity_field_count());
		pv_why_clear(&w1);
		pv_why_clear(&w2);
		cr_assert_eq(identity_field_set(&id, f, bad[i][1], "form", &w1),
		    PV_E_INPUT, "%s", bad[i][0]);
		/* The same value in a document: the same sentence. */
		{
			static const char *const base[4][2] = {
				{ "given_name", "A" }, { "family_name", "B" },
				{ "person_id", "0000000001" },
				{ "affiliation", "E" } };
			size_t k, n = 1;
			bool seen = false;

			(void)snprintf(json, sizeof(json), "{");
			for (k = 0; k < 4; k++) {
				bool it = strcmp(base[k][0], bad[i][0]) == 0;

				seen |= it;
				n = strlen(json);
				(void)snprintf(json + n, sizeof(json) - n,
				    "%s\"%s\":\"%s\"", k ? "," : "", base[k][0],
				    it ? bad[i][1] : base[k][1]);
			}
			n = strlen(json);
			if (!seen)
				(void)snprintf(json + n, sizeof(json) - n,
				    ",\"%s\":\"%s\"", bad[i][0], bad[i][1]);
			n = strlen(json);
			(void)snprintf(json + n, sizeof(json) - n, "}");
		}
		cr_assert_eq(identity_parse(json, strlen(json), "form", &tmp,
		    &w2), PV_E_INPUT);
		cr_assert_str_eq(w1.msg, w2.msg);
		cr_assert_str_eq(identity_field_get(&id, f), "", "unchanged");
	}
	cr_assert_eq(identity_field_set(&id, 0, "Ann", "form", NULL), PV_OK);
	cr_assert_str_eq(id.given_name, "Ann");
	pv_why_clear(&w1);
	cr_assert_eq(identity_check(&id, "form", &w1), PV_E_INPUT);
	cr_assert(strstr(w1.msg, "family_name: missing") != NULL, "%s", w1.msg);
	(void)identity_field_set(&id, 2, "Lee", "form", NULL);
	(void)identity_field_set(&id, 3, "0000000042", "form", NULL);
	(void)identity_field_set(&id, 4, "Employee", "form", NULL);
	cr_assert_eq(identity_check(&id, "form", &w1), PV_OK, "%s", w1.msg);
	cr_assert_eq(identity_field_set(&id, 99, "x", "form", NULL),
	    PV_E_INVAL);
}

Test(operator, console_config_keys)
{
	struct pv_config c;
	struct pv_why why = { "" };
	static const char ok[] = "[console]\nidle_lock_seconds = 60\n"
	    "recovery_dual_control = no\n";
	static const char bad[] = "[console]\nidle_lock_seconds = 90000\n";

	config_defaults(&c);
	cr_assert_eq(c.console_idle_lock_s, 300);
	cr_assert(c.console_recovery_dual);
	cr_assert_eq(config_parse(ok, sizeof(ok) - 1, "t.conf", &c, &why),
	    PV_OK, "%s", why.msg);
	cr_assert_eq(c.console_idle_lock_s, 60);
	cr_assert(!c.console_recovery_dual);
	cr_assert_eq(config_parse(bad, sizeof(bad) - 1, "t.conf", &c, &why),
	    PV_E_CONFIG);
	cr_assert(strstr(why.msg, "[console] idle_lock_seconds") != NULL, "%s",
	    why.msg);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int64_t
lc_device(void)
{
	struct identity id = fx_identity("0000000077", "Cycle", NULL);
	struct store_device d;
	struct store_cert c;
	char pem[] = "-";
	int64_t pid, did;
	int i;

	cr_assert_eq(store_person_put(st, &id, STORE_PERSON_REFUSE, &pid, NULL),
	    PV_OK);
	memset(&d, 0, sizeof(d));
	d.person_id = pid;
	d.type = STORE_DEV_CARD;
	d.status = STORE_DEV_ACTIVE;
	cr_assert_eq(store_device_add(st, &d, &did, NULL), PV_OK);
	for (i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		c.device_id = did;
		c.slot = i ? 0x9c : 0x9a;
		(void)snprintf(c.serial, sizeof(c.serial), "a%d", i);
		c.pem = pem;
		c.status = STORE_CERT_ACTIVE;
		cr_assert_eq(store_cert_add(st, &c, NULL, NULL), PV_OK);
	}
	return did;
}

Test(operator, lifecycle_suspend_resume_terminate)
{
	struct lifecycle_result res;
	struct pv_why why = { "" };
	int64_t did = lc_device();
	char q[128];

	cr_assert_eq(lifecycle_resume(st, did, "x", &res, &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "only a suspended device") != NULL);
	cr_assert_eq(lifecycle_suspend(st, did, "", &res, NULL), PV_E_INPUT,
	    "a reason is needed");
	cr_assert_eq(lifecycle_suspend(st, did, "bad\x1b[2J", &res, NULL),
	    PV_E_INPUT, "no terminal escapes in the log");
	cr_assert_eq(lifecycle_suspend(st, did, "lost badge", &res, &why),
	    PV_OK, "%s", why.msg);
	cr_assert_eq(res.n_certs, 2);
	(void)snprintf(q, sizeof(q), "SELECT count(*) FROM certificates WHERE "
	    "device_id = %lld AND status = 'on-hold'", (long long)did);
	cr_assert_eq(fx_sql_int(dir, q), 2);
	cr_assert_eq(lifecycle_resume(st, did, "found", &res, &why), PV_OK);
	cr_assert_eq(res.before, STORE_DEV_SUSPENDED);
	cr_assert_eq(res.after, STORE_DEV_ACTIVE);
	cr_assert_eq(fx_sql_int(dir, q), 0);
	cr_assert_eq(lifecycle_terminate(st, did, STORE_REASON_CESSATION,
	    "left", &res, &why), PV_OK);
	cr_assert_eq(res.n_certs, 2);
	cr_assert_eq(lifecycle_terminate(st, did, 0, "again", &res, &why),
	    PV_E_STATE);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit WHERE action "
	    "IN ('device.suspend', 'device.resume', 'device.terminate')"), 3);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
}
