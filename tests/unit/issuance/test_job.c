/*
 * test_job.c: resumable jobs (job.h) over the store.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/audit.h"
#include "issuance/job.h"
#include "station_fixture.h"

static const char *dir;
static struct store *st;
static int64_t person;

static const char *const steps[] = {
	"select", "allocate-fascn", "escrow-9d", "write-certs", "finish"
};
#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static void
setup(void)
{
	struct identity id = fx_identity("0000000001", "Example", NULL);

	dir = fx_tmpdir();
	st = fx_open(dir);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &person, NULL), PV_OK);
}

static void
teardown(void)
{
	store_close(st);
	st = NULL;
	fx_rmtree(dir);
}

TestSuite(job, .init = setup, .fini = teardown);

Test(job, create_then_resume)
{
	struct job j, k;
	struct pv_why why = { "" };

	memset(&j, 0, sizeof(j));
	memset(&k, 0, sizeof(k));
	cr_assert_eq(job_create(st, "issue", person, "Virtual PCD 00 00", steps,
	    N_STEPS, &j, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(j.n_steps, N_STEPS);
	cr_assert_eq(j.row.state, STORE_JOB_RUNNING);
	cr_assert_str_eq(job_next_step(&j), "select");
	cr_assert_eq(job_step_done(st, &j, "select", "{\"serial\":\"1234\"}",
	    NULL), PV_OK);
	cr_assert_eq(job_step_done(st, &j, "allocate-fascn",
	    "{\"credential_number\":7}", NULL), PV_OK);
	cr_assert_str_eq(job_next_step(&j), "escrow-9d");
	/* The process dies; a new one finds the job where it was. */
	store_close(st);
	st = fx_open(dir);
	{
		struct store_job row;

		cr_assert_eq(store_job_find_running(st, "issue", person, &row,
		    NULL), PV_OK);
		cr_assert_eq(job_load(st, row.id, &k, NULL), PV_OK);
	}
	cr_assert_eq(k.row.id, j.row.id);
	cr_assert_str_eq(k.row.reader, "Virtual PCD 00 00", "reader kept");
	cr_assert(job_step_is_done(&k, "allocate-fascn"));
	cr_assert(!job_step_is_done(&k, "escrow-9d"));
	cr_assert_str_eq(job_step_detail(&k, "allocate-fascn"),
	    "{\"credential_number\":7}");
	cr_assert_str_eq(job_next_step(&k), "escrow-9d");
	cr_assert_null(job_step_detail(&k, "nope"));
	job_cleanup(&j);
	job_cleanup(&k);
}

Test(job, other_kinds_and_people_are_separate)
{
	struct job a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(job_create(st, "issue", person, NULL, steps, N_STEPS, &a,
	    NULL), PV_OK);
	cr_assert_eq(job_create(st, "reissue", person, NULL, steps, N_STEPS, &b,
	    NULL), PV_OK);
	cr_assert_neq(a.row.id, b.row.id);
	job_cleanup(&a);
	job_cleanup(&b);
}

/*
 * Claiming a person for a job is one insert the store refuses when a
 * running job of that kind is there: two runs never share a job.
 */
Test(job, one_running_job_per_person_and_kind)
{
	struct job a, b;
	struct pv_why why = { "" };
	static const char *const other[] = { "select", "finish" };

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(job_create(st, "issue", person, "Reader A", steps, N_STEPS,
	    &a, NULL), PV_OK);
	cr_assert_eq(job_create(st, "issue", person, "Reader B", other, 2, &b,
	    &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "Reader A") != NULL, "%s", why.msg);
	cr_assert_null(b.steps);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM jobs"), 1);
	/* Cancelled, a new job starts. */
	cr_assert_eq(job_finish(st, &a, STORE_JOB_CANCELLED, "operator", NULL),
	    PV_OK);
	cr_assert_eq(job_create(st, "issue", person, NULL, other, 2, &b, NULL), PV_OK);
	cr_assert_neq(a.row.id, b.row.id);
	/* A finished job cannot change. */
	cr_assert_eq(job_step_done(st, &a, "select", NULL, NULL), PV_E_STATE);
	job_cleanup(&a);
	job_cleanup(&b);
}

Test(job, failures_and_reset)
{
	struct job j;
	struct pv_why why = { "" };

	memset(&j, 0, sizeof(j));
	cr_assert_eq(job_create(st, "issue", person, NULL, steps, N_STEPS, &j,
	    NULL), PV_OK);
	cr_assert_eq(job_step_failed(st, &j, "select", "card removed \"x\"",
	    NULL), PV_OK);
	cr_assert_eq(j.steps[0].state, STORE_STEP_FAILED);
	cr_assert_str_eq(job_step_detail(&j, "select"),
	    "{\"error\":\"card removed \\\"x\\\"\"}");
	cr_assert_str_eq(job_next_step(&j), "select", "failed is not done");
	cr_assert_eq(job_step_done(st, &j, "select", NULL, NULL), PV_OK);
	cr_assert_eq(job_step_reset(st, &j, "select", NULL), PV_OK);
	cr_assert_eq(j.steps[0].state, STORE_STEP_PENDING);
	cr_assert_str_eq(job_step_detail(&j, "select"), "");
	cr_assert_eq(job_step_done(st, &j, "nope", NULL, &why), PV_E_NO_RECORD);
	cr_assert(strstr(why.msg, "no step 'nope'") != NULL, "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(job_finish(st, &j, STORE_JOB_DONE, NULL, &why),
	    PV_E_STATE);
	cr_assert(strstr(why.msg, "step 'select' is pending") != NULL, "%s",
	    why.msg);
	job_cleanup(&j);
}

Test(job, detail_size_bounded)
{
	struct job j;
	static char big[STORE_DETAIL_MAX + 1];

	memset(&j, 0, sizeof(j));
	memset(big, 'x', STORE_DETAIL_MAX);
	cr_assert_eq(job_create(st, "issue", person, NULL, steps, N_STEPS, &j,
	    NULL), PV_OK);
	cr_assert_eq(job_step_done(st, &j, "select", big, NULL), PV_E_TOO_LONG);
	cr_assert_eq(j.steps[0].state, STORE_STEP_PENDING);
	/* A huge error message is replaced, not cut into invalid JSON. */
	cr_assert_eq(job_step_failed(st, &j, "select", big, NULL), PV_OK);
	cr_assert_str_eq(job_step_detail(&j, "select"),
	    "{\"error\":\"(message too long)\"}");
	job_cleanup(&j);
}

Test(job, finish)
{
	struct job j, k;
	size_t i;

	memset(&j, 0, sizeof(j));
	memset(&k, 0, sizeof(k));
	cr_assert_eq(job_create(st, "issue", person, NULL, steps, N_STEPS, &j,
	    NULL), PV_OK);
	for (i = 0; i < N_STEPS; i++) {
		cr_assert_eq(job_step_done(st, &j, steps[i], "{}", NULL), PV_OK);
		cr_assert_eq(j.steps[i].state, STORE_STEP_DONE);
	}
	cr_assert_null(job_next_step(&j));
	cr_assert_eq(job_set_device(st, &j, 0, NULL), PV_OK);
	cr_assert_eq(job_finish(st, &j, STORE_JOB_DONE, "issued", NULL), PV_OK);
	cr_assert_eq(j.row.state, STORE_JOB_DONE);
	job_cleanup(&j);
	/* Finished: the person may have a new one. */
	cr_assert_eq(job_create(st, "issue", person, NULL, steps, N_STEPS, &k,
	    NULL), PV_OK);
	job_cleanup(&k);
}

/* A card is personalised by one running job at a time. */
Test(job, one_running_job_per_device)
{
	struct job a, b;
	struct store_device d;
	struct pv_why why = { "" };
	struct identity id2 = fx_identity("0000000077", "Other", NULL);
	int64_t dev = 0, p2 = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&d, 0, sizeof(d));
	d.person_id = person;
	d.type = STORE_DEV_USB_KEY;
	d.status = STORE_DEV_ISSUING;
	cr_assert_eq(store_device_add(st, &d, &dev, NULL), PV_OK);
	cr_assert_eq(store_person_put(st, &id2,
	    STORE_PERSON_UPDATE, &p2, NULL), PV_OK);
	cr_assert_eq(job_create(st, "issue", person, "Reader A", steps, N_STEPS,
	    &a, NULL), PV_OK);
	cr_assert_eq(job_create(st, "issue", p2, "Reader B", steps, N_STEPS, &b,
	    NULL), PV_OK);
	cr_assert_eq(job_set_device(st, &a, dev, NULL), PV_OK);
	cr_assert_eq(job_set_device(st, &b, dev, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "Reader A") != NULL, "%s", why.msg);
	cr_assert_eq(b.row.device_id, 0);
	/* Once the first is over, the device is free. */
	cr_assert_eq(job_finish(st, &a, STORE_JOB_CANCELLED, NULL, NULL), PV_OK);
	cr_assert_eq(job_set_device(st, &b, dev, NULL), PV_OK);
	job_cleanup(&a);
	job_cleanup(&b);
}

/*
 * The pattern job.h documents: the step's rows and its "done" commit
 * together, or neither does.
 */
Test(job, step_and_its_rows_are_one_transaction)
{
	struct job j, k;
	struct store_device d;
	struct store_escrow e, got;
	uint8_t cms[16];
	int64_t dev = 0;

	memset(&j, 0, sizeof(j));
	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	d.person_id = person;
	d.type = STORE_DEV_CARD;
	d.status = STORE_DEV_ISSUING;
	cr_assert_eq(store_device_add(st, &d, &dev, NULL), PV_OK);
	cr_assert_eq(job_create(st, "issue", person, NULL, steps, N_STEPS, &j,
	    NULL), PV_OK);
	cr_assert_eq(job_set_device(st, &j, dev, NULL), PV_OK);
	memset(&e, 0, sizeof(e));
	memset(cms, 0x30, sizeof(cms));
	e.person_id = person;
	e.device_id = dev;
	e.kind = STORE_ESCROW_KEY_9D;
	e.cms = cms;
	e.cms_len = sizeof(cms);
	memset(e.fingerprint, 0xab, 32);

	/* Interrupted before the commit: nothing happened. */
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, NULL), PV_OK);
	cr_assert_eq(job_step_done(st, &j, "escrow-9d", "{\"escrow\":1}",
	    NULL), PV_OK);
	store_close(st);	/* the process dies here */
	st = fx_open(dir);
	cr_assert_eq(job_load(st, j.row.id, &k, NULL), PV_OK);
	cr_assert_eq(k.row.device_id, dev);
	cr_assert(!job_step_is_done(&k, "escrow-9d"));
	cr_assert_eq(store_escrow_current(st, dev, STORE_ESCROW_KEY_9D, &got,
	    NULL), PV_E_NO_RECORD);

	/* Run again to the commit: both are there. */
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, NULL), PV_OK);
	cr_assert_eq(job_step_done(st, &k, "escrow-9d", "{\"escrow\":1}",
	    NULL), PV_OK);
	cr_assert_eq(store_commit(st, NULL), PV_OK);
	cr_assert(job_step_is_done(&k, "escrow-9d"));
	cr_assert_eq(store_escrow_current(st, dev, STORE_ESCROW_KEY_9D, &got,
	    NULL), PV_OK);
	store_escrow_cleanup(&got);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM escrow"), 1);
	cr_assert_eq(audit_verify(st, NULL, NULL), PV_OK);
	job_cleanup(&j);
	job_cleanup(&k);
}
