/*
 * test_job_cancel.c: listing issuance jobs and cancelling one whose card
 * is lost (job_cancel.h), on the store.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/audit.h"
#include "issuance/job.h"
#include "issuance/job_cancel.h"
#include "station_fixture.h"

static const char *dir;
static struct store *st;
static int64_t person, device;
static struct job job;

static const char *const steps[] = {
	"register", "key-9a", "key-9c", "escrow-9d", "key-9d", "finish"
};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static void
add_cert(uint8_t slot, const char *serial, uint8_t key)
{
	static char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n";
	struct store_cert c;
	struct pv_why why = { "" };

	memset(&c, 0, sizeof(c));
	c.device_id = device;
	c.slot = slot;
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	c.pem = pem;
	memset(c.spki_sha256, key, 32);
	c.not_before = 1700000000;
	c.not_after = 1800000000;
	c.status = STORE_CERT_ACTIVE;
	cr_assert_eq(store_cert_add(st, &c, NULL, &why), PV_OK, "%s", why.msg);
}

static void
add_escrow(enum store_escrow_kind kind, uint8_t fp)
{
	static uint8_t cms[2][40];
	struct store_escrow e;
	struct pv_why why = { "" };

	memset(&e, 0, sizeof(e));
	e.person_id = person;
	e.device_id = device;
	e.kind = kind;
	memset(cms[kind], 0x30 + fp, 40);
	e.cms = cms[kind];
	e.cms_len = 40;
	memset(e.fingerprint, fp, 32);
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, &why), PV_OK, "%s",
	    why.msg);
}

/*
 * A job interrupted after its 9A and 9C certificates and the 9D escrow:
 * an older 9A certificate was already superseded by a resume.
 */
static void
setup(void)
{
	struct identity id = fx_identity("0000000007", "Example", NULL);
	struct store_device d;
	struct pv_why why = { "" };

	dir = fx_tmpdir();
	st = fx_open(dir);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &person, NULL), PV_OK);
	memset(&d, 0, sizeof(d));
	d.person_id = person;
	d.type = STORE_DEV_USB_KEY;
	strcpy(d.serial, "12345678");
	d.guid[0] = 0xab;
	d.guid[15] = 0xcd;
	d.has_guid = true;
	d.status = STORE_DEV_ISSUING;
	cr_assert_eq(store_device_add(st, &d, &device, &why), PV_OK, "%s",
	    why.msg);
	memset(&job, 0, sizeof(job));
	cr_assert_eq(job_create(st, "issue", person, "Virtual PCD 00 00", steps,
	    N_STEPS, &job, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(job_set_device(st, &job, device, NULL), PV_OK);
	cr_assert_eq(job_step_done(st, &job, "register", NULL, NULL), PV_OK);
	add_cert(0x9a, "0a01", 1);
	cr_assert_eq(store_cert_revoke(st, "0a01", STORE_REASON_SUPERSEDED, 0,
	    NULL), PV_OK);
	add_cert(0x9a, "0a02", 2);
	cr_assert_eq(job_step_done(st, &job, "key-9a", NULL, NULL), PV_OK);
	add_cert(0x9c, "0c01", 3);
	cr_assert_eq(job_step_done(st, &job, "key-9c", NULL, NULL), PV_OK);
	add_escrow(STORE_ESCROW_PUK, 4);
	add_escrow(STORE_ESCROW_KEY_9D, 5);
	cr_assert_eq(job_step_done(st, &job, "escrow-9d", NULL, NULL), PV_OK);
}

static void
teardown(void)
{
	job_cleanup(&job);
	store_close(st);
	st = NULL;
	fx_rmtree(dir);
}

TestSuite(job_cancel, .init = setup, .fini = teardown);

static enum store_cert_status
cert_status(const char *serial, int *reason)
{
	struct store_cert c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(store_cert_get_serial(st, serial, &c, NULL), PV_OK);
	*reason = c.reason;
	store_cert_cleanup(&c);
	return c.status;
}

struct find_action {
	const char *action;
	char actor[AUDIT_ACTOR_MAX];
	char object[AUDIT_OBJECT_MAX];
	char detail[AUDIT_DETAIL_MAX];
	int n;
};

static enum pv_err
find_action_row(void *ctx, const struct audit_row *row)
{
	struct find_action *f = ctx;

	if (strcmp(row->action, f->action) == 0) {
		f->n++;
		snprintf(f->actor, sizeof(f->actor), "%s", row->actor);
		snprintf(f->object, sizeof(f->object), "%s", row->object);
		snprintf(f->detail, sizeof(f->detail), "%s", row->detail);
	}
	return PV_OK;
}

Test(job_cancel, list_shows_the_running_job)
{
	struct job_info *list = NULL;
	size_t n = 0;
	struct pv_why why = { "" };

	cr_assert_eq(job_info_list(st, false, &list, &n, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].row.id, job.row.id);
	cr_assert_str_eq(list[0].person, "0000000007");
	cr_assert_str_eq(list[0].serial, "12345678");
	cr_assert(list[0].has_guid);
	cr_assert_eq(list[0].guid[0], 0xab);
	cr_assert_str_eq(list[0].row.reader, "Virtual PCD 00 00");
	cr_assert_str_eq(list[0].last_done, "escrow-9d");
	cr_assert_eq(list[0].steps_done, 4);
	cr_assert_eq(list[0].n_steps, N_STEPS);
	free(list);
}

Test(job_cancel, revokes_terminates_keeps_escrow_audited)
{
	struct job_cancel_result res;
	struct store_device d;
	struct store_job row;
	struct store_escrow *esc = NULL, cur;
	struct audit_report rep;
	struct find_action f = { "job.cancel", "", "", "", 0 };
	struct job_info *list = NULL;
	size_t n = 0;
	int reason;
	struct pv_why why = { "" };
	long long escrow_before = fx_sql_int(dir, "SELECT count(*) FROM escrow");

	cr_assert_eq(escrow_before, 2);
	cr_assert_eq(job_cancel(st, job.row.id, "card lost on the \"bus\"",
	    &res, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(res.job_id, job.row.id);
	cr_assert_eq(res.device_id, device);
	cr_assert(res.device_terminated);
	cr_assert_eq(res.n_revoked, 2, "the live 9A and 9C certificates");
	cr_assert_str_eq(res.revoked[0], "0a02");
	cr_assert_str_eq(res.revoked[1], "0c01");
	/* Certificates: the live ones revoked for keyCompromise, the one
	 * superseded before keeps its reason. */
	cr_assert_eq(cert_status("0a02", &reason), STORE_CERT_REVOKED);
	cr_assert_eq(reason, STORE_REASON_KEY_COMPROMISE);
	cr_assert_eq(cert_status("0c01", &reason), STORE_CERT_REVOKED);
	cr_assert_eq(reason, STORE_REASON_KEY_COMPROMISE);
	cr_assert_eq(cert_status("0a01", &reason), STORE_CERT_REVOKED);
	cr_assert_eq(reason, STORE_REASON_SUPERSEDED);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM certificates WHERE "
	    "status <> 'revoked'"), 0);
	/* Device terminated, job cancelled with the reason. */
	cr_assert_eq(store_device_get(st, device, &d, NULL), PV_OK);
	cr_assert_eq(d.status, STORE_DEV_TERMINATED);
	cr_assert_eq(store_job_get(st, job.row.id, &row, NULL), PV_OK);
	cr_assert_eq(row.state, STORE_JOB_CANCELLED);
	cr_assert(strstr(row.detail, "card lost on the \\\"bus\\\"") != NULL,
	    "%s", row.detail);
	/* Escrow untouched: same rows, the 9D key still current. */
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM escrow"), 2);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM escrow WHERE "
	    "current = 1"), 2);
	memset(&cur, 0, sizeof(cur));
	cr_assert_eq(store_escrow_current(st, device, STORE_ESCROW_KEY_9D, &cur,
	    NULL), PV_OK);
	cr_assert_eq(cur.fingerprint[0], 5);
	store_escrow_cleanup(&cur);
	cr_assert_eq(store_escrow_list_person(st, person, STORE_ESCROW_KEY_9D,
	    &esc, &n, NULL), PV_OK);
	cr_assert_eq(n, 1);
	store_escrow_free_list(esc, n);
	/* Audited: who and why, and the chain is intact. */
	cr_assert_eq(audit_foreach(st, 0, find_action_row, &f, NULL), PV_OK);
	cr_assert_eq(f.n, 1);
	cr_assert_str_eq(f.actor, "tester");
	cr_assert(strstr(f.object, "job:") == f.object);
	cr_assert(strstr(f.detail, "card lost on the") != NULL, "%s", f.detail);
	cr_assert(strstr(f.detail, "keyCompromise") != NULL, "%s", f.detail);
	cr_assert(strstr(f.detail, "\"0c01\"") != NULL, "%s", f.detail);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	/* No longer listed as running; listed with --all. */
	cr_assert_eq(job_info_list(st, false, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 0);
	free(list);
	cr_assert_eq(job_info_list(st, true, &list, &n, NULL), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].row.state, STORE_JOB_CANCELLED);
	cr_assert_eq(list[0].device_status, STORE_DEV_TERMINATED);
	free(list);
}

Test(job_cancel, a_cancelled_job_no_longer_blocks_a_new_one)
{
	struct job next;

	cr_assert_eq(job_cancel(st, job.row.id, "card lost", NULL, NULL),
	    PV_OK);
	memset(&next, 0, sizeof(next));
	cr_assert_eq(job_create(st, "issue", person, "Virtual PCD 00 01", steps,
	    N_STEPS, &next, NULL), PV_OK);
	cr_assert_neq(next.row.id, job.row.id);
	cr_assert_eq(next.n_steps, N_STEPS);
	cr_assert_str_eq(job_next_step(&next), steps[0]);
	job_cleanup(&next);
}

Test(job_cancel, refusals_change_nothing)
{
	struct pv_why why = { "" };
	struct job_cancel_result res;
	long long rows = fx_audit_rows(st);
	char longer[JOB_REASON_MAX + 2];

	cr_assert_eq(job_cancel(st, 999, "lost", &res, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "no job 999") != NULL, "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(job_cancel(st, job.row.id, "", &res, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "reason") != NULL, "%s", why.msg);
	cr_assert_eq(job_cancel(st, job.row.id, NULL, &res, &why), PV_E_INPUT);
	cr_assert_eq(job_cancel(st, job.row.id, "bad\nline", &res, &why),
	    PV_E_INPUT);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	cr_assert_eq(job_cancel(st, job.row.id, longer, &res, &why),
	    PV_E_INPUT);
	cr_assert_eq(fx_audit_rows(st), rows);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM certificates WHERE "
	    "status = 'active'"), 2);
	/* Cancelled once: a second cancel is refused and says why. */
	cr_assert_eq(job_cancel(st, job.row.id, "lost", &res, &why), PV_OK);
	rows = fx_audit_rows(st);
	pv_why_clear(&why);
	cr_assert_eq(job_cancel(st, job.row.id, "lost", &res, &why),
	    PV_E_STATE);
	cr_assert(strstr(why.msg, "cancelled already") != NULL, "%s", why.msg);
	cr_assert_eq(fx_audit_rows(st), rows);
}

Test(job_cancel, a_done_job_is_refused)
{
	struct pv_why why = { "" };
	size_t i;

	for (i = 0; i < N_STEPS; i++)
		if (!job_step_is_done(&job, steps[i]))
			cr_assert_eq(job_step_done(st, &job, steps[i], NULL,
			    NULL), PV_OK);
	cr_assert_eq(job_finish(st, &job, STORE_JOB_DONE, NULL, NULL), PV_OK);
	cr_assert_eq(store_device_set_status(st, device, STORE_DEV_ACTIVE,
	    NULL), PV_OK);
	cr_assert_eq(job_cancel(st, job.row.id, "lost", NULL, &why),
	    PV_E_STATE);
	cr_assert(strstr(why.msg, "is done") != NULL, "%s", why.msg);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM certificates WHERE "
	    "status = 'active'"), 2, "a done job's card is not touched");
}

Test(job_cancel, a_job_without_a_device)
{
	struct job other;
	struct job_cancel_result res;
	struct identity id = fx_identity("0000000008", "Other", NULL);
	int64_t p2;
	struct pv_why why = { "" };

	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &p2, NULL), PV_OK);
	memset(&other, 0, sizeof(other));
	cr_assert_eq(job_create(st, "issue", p2, "r", steps, N_STEPS, &other,
	    NULL), PV_OK);
	cr_assert_eq(job_cancel(st, other.row.id, "never started", &res, &why),
	    PV_OK, "%s", why.msg);
	cr_assert_eq(res.device_id, 0);
	cr_assert(!res.device_terminated);
	cr_assert_eq(res.n_revoked, 0);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM certificates WHERE "
	    "status = 'active'"), 2, "the other person's job is untouched");
	job_cleanup(&other);
}
