/*
 * test_batch.c: the pieces of batch issuance that need no card: the
 * decision per error class, random PINs under the [pin] rules, reader
 * claims, the PIN-mailer journal, default paths, and the batch and its
 * rows in the store (a job linked to its row once, audited).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "issuance/batch.h"
#include "issuance/batch_int.h"
#include "issuance/claim.h"
#include "issuance/config.h"
#include "issuance/store_batch.h"
#include "station_fixture.h"

/* ---- decisions ------------------------------------------------------------------- */

struct decide_case {
	enum pv_err e;
	bool job, at_register;
	unsigned tries;
	enum batch_action want;
};

ParameterizedTestParameters(batch, decide)
{
	static struct decide_case cases[] = {
		{ PV_OK, true, false, 0, BATCH_ACT_DONE },
		/* The card went away: the row waits for it, anywhere. */
		{ PV_E_NO_CARD, true, false, 0, BATCH_ACT_WAIT },
		{ PV_E_NO_SERVICE, true, false, 0, BATCH_ACT_WAIT },
		{ PV_E_RESET, false, false, 0, BATCH_ACT_WAIT },
		{ PV_E_CANCELLED, true, false, 0, BATCH_ACT_WAIT },
		/* Before the job, the card refused: skip the card. */
		{ PV_E_EXISTS, false, false, 0, BATCH_ACT_SKIP_CARD },
		{ PV_E_POLICY, false, false, 0, BATCH_ACT_SKIP_CARD },
		{ PV_E_PIN_WRONG, false, false, 0, BATCH_ACT_SKIP_CARD },
		{ PV_E_NOT_SUPPORTED, false, false, 0, BATCH_ACT_SKIP_CARD },
		/* At the register step: the person's record. */
		{ PV_E_EXISTS, false, true, 0, BATCH_ACT_NEXT_ROW },
		{ PV_E_INPUT, false, false, 0, BATCH_ACT_NEXT_ROW },
		/* Mid-job: the card refused once, twice. */
		{ PV_E_SW, true, false, 0, BATCH_ACT_RETRY },
		{ PV_E_NO_SPACE, true, false, 1, BATCH_ACT_CARD_FAILED },
		{ PV_E_PIN_WRONG, true, false, 0, BATCH_ACT_ROW_FAILED },
		{ PV_E_STATE, true, false, 0, BATCH_ACT_ROW_FAILED },
		{ PV_E_VERIFY, true, false, 0, BATCH_ACT_ROW_FAILED },
		/* The host failed. */
		{ PV_E_DB, true, false, 0, BATCH_ACT_STOP },
		{ PV_E_NOMEM, false, false, 0, BATCH_ACT_STOP },
	};

	return cr_make_param_array(struct decide_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct decide_case *c, batch, decide)
{
	enum batch_action a = batch_decide(c->e, c->job, c->at_register,
	    c->tries);

	cr_assert_eq(a, c->want, "%s job=%d reg=%d tries=%u: %s, want %s",
	    pv_errname(c->e), c->job, c->at_register, c->tries,
	    batch_action_name(a), batch_action_name(c->want));
}

/* ---- PINs -------------------------------------------------------------------------- */

Test(batch, random_pins_follow_the_rules)
{
	struct pv_config cfg;
	struct pv_why why = { "" };
	char pin[9];
	unsigned seen[10] = { 0 }, i, k;

	config_defaults(&cfg);
	for (i = 0; i < 2000; i++) {
		cr_assert_eq(batch_pin_random(&cfg, pin, &why), PV_OK, "%s",
		    why.msg);
		cr_assert_eq(strlen(pin), cfg.pin_max < 8 ? cfg.pin_max : 8);
		cr_assert_eq(config_check_pin(&cfg, (const uint8_t *)pin,
		    strlen(pin), NULL), PV_OK, "weak PIN drawn");
		for (k = 0; pin[k] != '\0'; k++)
			seen[pin[k] - '0']++;
	}
	for (k = 0; k < 10; k++)
		cr_assert_gt(seen[k], 1200, "digit %u seldom drawn", k);
	cfg.pin_min = cfg.pin_max = 4;
	cr_assert_eq(batch_pin_random(&cfg, pin, NULL), PV_OK);
	cr_assert_eq(strlen(pin), 4);
	cfg.pin_min = 9;
	cfg.pin_max = 12;
	cr_assert_eq(batch_pin_random(&cfg, pin, &why), PV_E_CONFIG);
	cr_assert_str_eq(pin, "", "wiped on failure");
}

/* ---- paths -------------------------------------------------------------------------- */

Test(batch, default_paths)
{
	char out[64];

	cr_assert_eq(batch_default_path("people.csv", ".pins.csv", out,
	    sizeof(out)), PV_OK);
	cr_assert_str_eq(out, "people.pins.csv");
	cr_assert_eq(batch_default_path("a.b/c.d/hr", ".results.csv", out,
	    sizeof(out)), PV_OK);
	cr_assert_str_eq(out, "a.b/c.d/hr.results.csv");
	cr_assert_eq(batch_default_path("x/.hidden", ".pins.csv", out,
	    sizeof(out)), PV_OK);
	cr_assert_str_eq(out, "x/.hidden.pins.csv");
	cr_assert_eq(batch_default_path("0123456789012345678901234567890123456789"
	    "45678901234567890123.csv", ".pins.csv", out, sizeof(out)),
	    PV_E_TOO_LONG);
}

/* ---- claims ----------------------------------------------------------------------------- */

Test(batch, reader_claims)
{
	const char *dir = fx_tmpdir();
	struct home h;
	struct claim *a = NULL, *b = NULL, *c = NULL;
	struct pv_why why = { "" };

	snprintf(h.dir, sizeof(h.dir), "%s", dir);
	cr_assert_eq(claim_take(&h, "reader", "Virtual PCD 00 00",
	    "pivstation batch a.csv", &a, &why), PV_OK, "%s", why.msg);
	/* Another claim of the same reader, even in this process. */
	cr_assert_eq(claim_take(&h, "reader", "Virtual PCD 00 00",
	    "console", &b, &why), PV_E_EXISTS);
	cr_assert_null(b);
	cr_assert(strstr(why.msg, "reader \"Virtual PCD 00 00\" is in use: "
	    "pid ") != NULL, "%s", why.msg);
	cr_assert(strstr(why.msg, ": pivstation batch a.csv") != NULL, "%s",
	    why.msg);
	/* Another reader is free. */
	cr_assert_eq(claim_take(&h, "reader", "Virtual PCD 00 01", "x", &c,
	    NULL), PV_OK);
	claim_release(a);
	pv_why_clear(&why);
	cr_assert_eq(claim_take(&h, "reader", "Virtual PCD 00 00", "console",
	    &b, &why), PV_OK, "%s", why.msg);
	claim_release(b);
	claim_release(c);
	claim_release(NULL);
	fx_rmtree(dir);
}

/* ---- the PIN mailer ----------------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

Test(batch, pin_mailer_journal)
{
	const char *dir = fx_tmpdir();
	struct batch_mailer m;
	struct batch_mailer_keep keep[2];
	struct pv_why why = { "" };
	struct stat sb;
	char path[256], pin[9];
	bool found;

	snprintf(path, sizeof(path), "%s/pins.csv", dir);
	cr_assert_eq(batch_mailer_open(&m, path, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(batch_mailer_append(&m, 2, "0000000001", "Doe, \"J\"",
	    "100", "11111111", &why), PV_OK);
	cr_assert_eq(batch_mailer_append(&m, 3, "0000000002", "Roe, R",
	    "", "22222222", &why), PV_OK);
	cr_assert_eq(batch_mailer_append(&m, 2, "0000000001", "Doe, \"J\"",
	    "101", "33333333", &why), PV_OK);
	cr_assert_eq(batch_mailer_lookup(&m, 2, pin, &found, &why), PV_OK);
	cr_assert(found);
	cr_assert_str_eq(pin, "33333333", "the last line of a row wins");
	cr_assert_eq(batch_mailer_lookup(&m, 4, pin, &found, &why), PV_OK);
	cr_assert(!found);
	/* The rewrite keeps the rows asked for, with their last PIN. */
	memset(keep, 0, sizeof(keep));
	keep[0].row = 2;
	keep[0].person_id = "0000000001";
	keep[0].name = "Doe, \"J\"";
	keep[0].status = "issued";
	strcpy(keep[0].serial, "101");
	strcpy(keep[0].card_uuid, "4994c130-0012-444d-a300-32e621433071");
	keep[1].row = 9;	/* no PIN: left out */
	keep[1].person_id = "0000000009";
	keep[1].name = "X";
	keep[1].status = "issued";
	cr_assert_eq(batch_mailer_rewrite(&m, keep, 2, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_str_eq(slurp(path),
	    "row,person_id,name,serial,card_uuid,status,pin\n"
	    "2,0000000001,\"Doe, \"\"J\"\"\",101,"
	    "4994c130-0012-444d-a300-32e621433071,issued,33333333\n");
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	/* Still a journal after the rewrite. */
	cr_assert_eq(batch_mailer_append(&m, 3, "0000000002", "Roe, R", "",
	    "44444444", &why), PV_OK);
	cr_assert_eq(batch_mailer_lookup(&m, 3, pin, &found, &why), PV_OK);
	cr_assert(found);
	cr_assert_str_eq(pin, "44444444");
	batch_mailer_close(&m);
	batch_mailer_close(&m);
	fx_rmtree(dir);
}

Test(batch, pin_mailer_refuses_open_files)
{
	const char *dir = fx_tmpdir();
	struct batch_mailer m;
	struct pv_why why = { "" };
	char path[256], link[256];
	int fd;

	snprintf(path, sizeof(path), "%s/open.csv", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
	cr_assert_eq(batch_mailer_open(&m, path, &why), PV_E_POLICY);
	cr_assert(strstr(why.msg, "others may read or write it (mode 644)") !=
	    NULL, "%s", why.msg);
	snprintf(link, sizeof(link), "%s/link.csv", dir);
	cr_assert_eq(symlink(path, link), 0);
	pv_why_clear(&why);
	cr_assert_eq(batch_mailer_open(&m, link, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "a symbolic link") != NULL, "%s", why.msg);
	fx_rmtree(dir);
}

/* ---- the store ---------------------------------------------------------------------------- */

Test(batch, store_rows_and_links)
{
	static const char *const steps[] = { "one", "two" };
	const char *dir = fx_tmpdir();
	struct store *st = fx_open(dir);
	struct store_batch b, got, other;
	struct store_batch_row row, *rows = NULL;
	struct store_job j;
	struct audit_report rep;
	struct pv_why why = { "" };
	unsigned nums[2] = { 2, 5 };
	const char *pids[2] = { "0000000001", "0000000002" };
	int64_t id = 0, id2 = 0, job = 0;
	size_t n = 0;
	struct identity ident = fx_identity("0000000001", "Doe", NULL);
	int64_t person = 0;

	memset(&b, 0, sizeof(b));
	memset(b.digest, 0xab, sizeof(b.digest));
	strcpy(b.source, "people.csv");
	strcpy(b.format, "csv");
	strcpy(b.pin_mode, "random");
	strcpy(b.pin_mailer, "people.pins.csv");
	cr_assert_eq(store_batch_create(st, &b, nums, pids, 2, &id, &why),
	    PV_OK, "%s", why.msg);
	cr_assert_eq(store_batch_create(st, &b, nums, pids, 2, &id2, &why),
	    PV_E_EXISTS, "one batch per file");
	pv_why_clear(&why);
	cr_assert_eq(store_batch_find(st, b.digest, &got, &why), PV_OK);
	cr_assert_eq(got.id, id);
	cr_assert_eq(got.n_rows, 2);
	cr_assert_str_eq(got.pin_mailer, "people.pins.csv");
	cr_assert_eq(store_batch_rows(st, id, &rows, &n, &why), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(rows[1].row, 5);
	cr_assert_eq(rows[1].state, STORE_BROW_PENDING);
	free(rows);

	/* A job linked to its row inside the job's own transaction. */
	cr_assert_eq(store_person_put(st, &ident, STORE_PERSON_UPDATE, &person,
	    &why), PV_OK);
	cr_assert_eq(store_begin(st, &why), PV_OK);
	memset(&j, 0, sizeof(j));
	strcpy(j.kind, "issue");
	j.person_id = person;
	cr_assert_eq(store_job_create(st, &j, steps, 2, &job, &why), PV_OK);
	cr_assert_eq(store_batch_row_link(st, id, 2, job, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(store_commit(st, &why), PV_OK);
	cr_assert_eq(store_batch_row_get(st, id, 2, &row, &why), PV_OK);
	cr_assert_eq(row.state, STORE_BROW_RUNNING);
	cr_assert_eq(row.job_id, job);
	cr_assert_eq(row.attempts, 1);
	/* Taken: a second link fails, and undoes nothing else. */
	cr_assert_eq(store_batch_row_link(st, id, 2, job, &why), PV_E_EXISTS);
	pv_why_clear(&why);
	cr_assert_eq(store_batch_row_by_job(st, job, &row, &why), PV_OK);
	cr_assert_eq(row.row, 2);
	/* A row linked and then rolled back is pending again. */
	cr_assert_eq(store_begin(st, &why), PV_OK);
	cr_assert_eq(store_batch_row_link(st, id, 5, job + 100, &why),
	    PV_E_NO_RECORD, "the job must exist");
	store_rollback(st);
	pv_why_clear(&why);
	cr_assert_eq(store_batch_row_get(st, id, 5, &row, &why), PV_OK);
	cr_assert_eq(row.state, STORE_BROW_PENDING);
	cr_assert_eq(row.job_id, 0);
	/* The person is in an unfinished batch, for another batch's check. */
	cr_assert_eq(store_batch_person_elsewhere(st, 0, "0000000002", &row,
	    &other, &why), PV_OK);
	cr_assert_eq(row.row, 5);
	cr_assert_str_eq(other.source, "people.csv");
	cr_assert_eq(store_batch_person_elsewhere(st, id, "0000000002", &row,
	    &other, &why), PV_E_NO_RECORD, "not elsewhere than its batch");
	pv_why_clear(&why);
	cr_assert_eq(store_batch_row_set(st, id, 2, STORE_BROW_DONE, -1, NULL,
	    &why), PV_OK);
	cr_assert_eq(store_batch_row_get(st, id, 2, &row, &why), PV_OK);
	cr_assert_eq(row.job_id, job, "-1 keeps the job");
	cr_assert_eq(store_batch_person_elsewhere(st, 0, "0000000001", &row,
	    &other, &why), PV_E_NO_RECORD, "done rows are finished");
	pv_why_clear(&why);
	cr_assert_eq(store_batch_set_state(st, id, STORE_BATCH_DONE, &why),
	    PV_OK);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit WHERE "
	    "action IN ('batch.create', 'batch.row', 'batch.state')"), 4);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	store_close(st);
	fx_rmtree(dir);
}
