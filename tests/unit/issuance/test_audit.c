/*
 * test_audit.c: the hash-chained audit log (audit.h): the documented row
 * hash, and tampering with the database file the way someone holding
 * only that file could.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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

TestSuite(audit, .init = setup, .fini = teardown);

/* Ten rows: store.create, then people and events. */
static void
fill(void)
{
	char pid[16];
	int i;

	for (i = 0; i < 5; i++) {
		struct identity id;

		snprintf(pid, sizeof(pid), "%010d", i + 1);
		id = fx_identity(pid, "Example", NULL);
		cr_assert_eq(store_person_put(st, &id,
		    STORE_PERSON_UPDATE, NULL, NULL), PV_OK);
	}
	for (i = 0; i < 4; i++)
		cr_assert_eq(audit_append(st, "test.event", "thing:1",
		    "{\"n\":1}", NULL), PV_OK);
	cr_assert_eq(fx_audit_rows(st), 10);
}

static void
put_str(EVP_MD_CTX *md, const char *s)
{
	size_t n = strlen(s);
	uint8_t len[4] = {
		(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
		(uint8_t)n
	};

	EVP_DigestUpdate(md, len, 4);
	EVP_DigestUpdate(md, s, n);
}

struct chain_check {
	uint8_t prev[32];
	int rows;
};

/* Recomputes each row's hash from the format audit.h documents. */
static enum pv_err
check_row(void *ctx, const struct audit_row *row)
{
	struct chain_check *cc = ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t ints[16], h[32];
	unsigned len = 0;
	int i;

	for (i = 0; i < 8; i++) {
		ints[i] = (uint8_t)((uint64_t)row->seq >> (56 - 8 * i));
		ints[8 + i] = (uint8_t)((uint64_t)row->time >> (56 - 8 * i));
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, cc->prev, 32);
	EVP_DigestUpdate(md, "pivstation-audit-v1", 20);	/* with NUL */
	EVP_DigestUpdate(md, ints, 16);
	put_str(md, row->actor);
	put_str(md, row->action);
	put_str(md, row->object);
	put_str(md, row->detail);
	EVP_DigestFinal_ex(md, h, &len);
	EVP_MD_CTX_free(md);
	cr_assert_eq(memcmp(row->prev_hash, cc->prev, 32), 0, "row %lld prev",
	    (long long)row->seq);
	cr_assert_eq(memcmp(row->hash, h, 32), 0, "row %lld hash",
	    (long long)row->seq);
	memcpy(cc->prev, h, 32);
	cc->rows++;
	cr_assert_eq(row->seq, cc->rows);
	return PV_OK;
}

Test(audit, rows_follow_the_documented_hash)
{
	struct chain_check cc;
	struct audit_report rep;

	fill();
	memset(&cc, 0, sizeof(cc));
	cr_assert_eq(audit_foreach(st, 0, check_row, &cc, NULL), PV_OK);
	cr_assert_eq(cc.rows, 10);
	cr_assert_eq(audit_verify(st, &rep, NULL), PV_OK);
	cr_assert_eq(rep.rows, 10);
	cr_assert(rep.head_authenticated);
	cr_assert(rep.file_checked);
	cr_assert_eq(rep.file_lag, 0);
	cr_assert_eq(rep.first_bad, 0);
}

Test(audit, show_since_and_fields)
{
	struct chain_check cc;

	fill();
	memset(&cc, 0, sizeof(cc));
	/* Rows after 10: none. */
	cr_assert_eq(audit_foreach(st, 10, check_row, &cc, NULL), PV_OK);
	cr_assert_eq(cc.rows, 0);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit WHERE "
	    "actor = 'tester' AND action = 'person.add' AND object LIKE "
	    "'person:%'"), 5);
}

Test(audit, append_limits)
{
	char big[AUDIT_DETAIL_MAX + 8];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(audit_append(st, "a", "b", big, NULL), PV_E_INVAL);
	cr_assert_eq(audit_append(st, "a", "b", NULL, NULL), PV_OK);
}

/*
 * Tampering, with the triggers that protect the table dropped first (as
 * anyone with the file can).  Each case changes row 6 of 10 or removes
 * rows, and names the row verify must report first.
 */
struct tamper {
	char sql[300];
	long long first_bad;
	char want[100];
};

#define DROP "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; "

ParameterizedTestParameters(audit, tampering)
{
	static struct tamper cases[] = {
		{ DROP "UPDATE audit SET time = time + 1 WHERE seq = 6", 6,
		    "audit row 6: altered" },
		{ DROP "UPDATE audit SET actor = 'mallory' WHERE seq = 6", 6,
		    "audit row 6: altered" },
		{ DROP "UPDATE audit SET action = 'x' WHERE seq = 6", 6,
		    "audit row 6: altered" },
		{ DROP "UPDATE audit SET object = 'person:99' WHERE seq = 6", 6,
		    "audit row 6: altered" },
		{ DROP "UPDATE audit SET detail = '{}' WHERE seq = 6", 6,
		    "audit row 6: altered" },
		{ DROP "UPDATE audit SET hash = zeroblob(32) WHERE seq = 6", 6,
		    "audit row 6: altered" },
		{ DROP "UPDATE audit SET prev_hash = zeroblob(32) WHERE seq = 6",
		    6, "audit row 6: does not follow row 5" },
		{ DROP "UPDATE audit SET seq = 60 WHERE seq = 6", 6,
		    "audit row 6 is missing" },
		{ DROP "DELETE FROM audit WHERE seq = 6", 6,
		    "audit row 6 is missing" },
		{ DROP "DELETE FROM audit WHERE seq = 1", 1,
		    "audit row 1 is missing" },
		/* Deleting a middle row and renumbering the rest. */
		{ DROP "DELETE FROM audit WHERE seq = 6; UPDATE audit SET "
		    "seq = seq - 1 WHERE seq > 6", 6,
		    "audit row 6: does not follow row 5" },
		/* An inserted copy of row 5 after row 5. */
		{ DROP "UPDATE audit SET seq = seq + 100 WHERE seq > 5; UPDATE "
		    "audit SET seq = seq - 99 WHERE seq > 100; INSERT INTO audit "
		    "SELECT 6, time, actor, action, object, detail, prev_hash, "
		    "hash FROM audit WHERE seq = 5", 6,
		    "audit row 6: does not follow row 5" },
		/* The end: the last row, then the last two. */
		{ DROP "DELETE FROM audit WHERE seq = 10", 10,
		    "audit row 10 is missing: the log ends at row 9 but its "
		    "head records 10 rows" },
		{ DROP "DELETE FROM audit WHERE seq >= 9", 9,
		    "audit row 9 is missing" },
		/* ... and moving the head back to match: its MAC is wrong. */
		{ DROP "DELETE FROM audit WHERE seq = 10; UPDATE audit_head SET "
		    "count = 9, hash = (SELECT hash FROM audit WHERE seq = 9)",
		    9, "audit head: its MAC is wrong" },
		{ "UPDATE audit_head SET mac = zeroblob(32)", 10,
		    "audit head: its MAC is wrong" },
		{ "DELETE FROM audit_head", 0, "audit head: missing" },
		/* A row added at the end, chained correctly. */
		{ "INSERT INTO audit SELECT 11, time, actor, action, object, "
		    "detail, hash, hash FROM audit WHERE seq = 10", 11,
		    "audit row 11: altered" },
	};

	return cr_make_param_array(struct tamper, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct tamper *t, audit, tampering)
{
	struct audit_report rep;
	struct pv_why why = { "" };
	enum pv_err r;

	fill();
	store_close(st);
	st = NULL;
	cr_assert_eq(fx_sql(dir, t->sql), SQLITE_OK, "%s", t->sql);
	st = fx_open(dir);
	r = audit_verify(st, &rep, &why);
	cr_assert_neq(r, PV_OK, "tampering not seen: %s", t->sql);
	cr_assert(strncmp(why.msg, t->want, strlen(t->want)) == 0,
	    "%s\n got: %s\nwant: %s", t->sql, why.msg, t->want);
	cr_assert_eq(rep.first_bad, t->first_bad, "%s: first bad %lld",
	    t->sql, (long long)rep.first_bad);
}

Test(audit, appended_row_with_a_valid_chain_but_no_head)
{
	struct audit_report rep;
	struct pv_why why = { "" };
	struct store_opts o;
	struct store *nokey = NULL;

	fill();
	store_close(st);
	st = NULL;
	/* Someone without the key adds a correctly chained row: open the
	 * store without the key (as a DB-only attacker could reimplement). */
	memset(&o, 0, sizeof(o));
	o.actor = "mallory";
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &nokey, NULL),
	    PV_OK);
	cr_assert_eq(audit_append(nokey, "forged", "x", NULL, NULL), PV_OK);
	cr_assert_eq(audit_verify(nokey, &rep, NULL), PV_OK);
	cr_assert(!rep.head_authenticated, "without a key: chain only");
	store_close(nokey);
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "MAC is wrong") != NULL, "%s", why.msg);
	cr_assert_eq(rep.first_bad, 11);
}

static void
copy_file(const char *from, const char *to)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", from, to);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(audit, rollback_of_the_whole_store_is_seen)
{
	struct audit_report rep;
	struct pv_why why = { "" };

	fill();
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "store.db"), fx_path(dir, "old.db"));
	st = fx_open(dir);
	cr_assert_eq(audit_append(st, "later", "x", NULL, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "later", "y", NULL, NULL), PV_OK);
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "old.db"), fx_path(dir, "store.db"));
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "audit row 11 is missing: the store was "
	    "rolled back") != NULL, "%s", why.msg);
	cr_assert_eq(rep.first_bad, 11);
}

/*
 * An older store put back (a backup restored) and then worked with: the
 * head file, newer than the store, must not be overwritten by the heads
 * of the fork, else a few changes later verify says intact.  The first
 * change after the rollback fails (committed, but the command says why)
 * and the head file keeps its evidence.
 */
Test(audit, rollback_then_written_to_keeps_the_head_file)
{
	struct audit_report rep;
	struct pv_why why = { "" };
	int i;

	fill();
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "store.db"), fx_path(dir, "old.db"));
	st = fx_open(dir);
	cr_assert_eq(audit_append(st, "later", "x", NULL, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "later", "y", NULL, NULL), PV_OK);
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "old.db"), fx_path(dir, "store.db"));
	(void)remove(fx_path(dir, "store.db-wal"));
	(void)remove(fx_path(dir, "store.db-shm"));
	st = fx_open(dir);
	for (i = 0; i < 4; i++)
		cr_assert_eq(audit_append(st, "cover", "a new row", NULL,
		    NULL), PV_OK, "the rows themselves are committed");
	cr_assert_eq(store_audit_files_status(st, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "rolled back") != NULL, "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY,
	    "the head file still tells");
	cr_assert(strstr(why.msg, "audit row 12") != NULL, "%s", why.msg);
}

/* Keeps the detail of the last audit.head_missing row. */
static enum pv_err
last_missing(void *ctx, const struct audit_row *row)
{
	if (strcmp(row->action, "audit.head_missing") == 0)
		(void)snprintf(ctx, 256, "%s", row->detail);
	return PV_OK;
}

/*
 * An older store put back with the head file deleted, then written to:
 * the new head file would make the log look whole.  The change that finds
 * the head file missing under a log that had rows records that in the log
 * itself and fails; the first change of a new log does not.
 */
Test(audit, head_file_missing_then_written_to_is_recorded)
{
	struct audit_report rep;
	struct pv_why why = { "" };
	char detail[256] = "";

	fill();
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "store.db"), fx_path(dir, "old.db"));
	st = fx_open(dir);
	cr_assert_eq(audit_append(st, "later", "x", NULL, NULL), PV_OK);
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "old.db"), fx_path(dir, "store.db"));
	(void)remove(fx_path(dir, "store.db-wal"));
	(void)remove(fx_path(dir, "store.db-shm"));
	cr_assert_eq(remove(fx_path(dir, "audit.head")), 0);
	st = fx_open(dir);
	cr_assert_eq(store_audit_files_status(st, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "cover", "a new row", NULL, NULL),
	    PV_OK, "the row itself is committed");
	cr_assert_eq(store_audit_files_status(st, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "was missing and the log had 10 rows") !=
	    NULL, "%s", why.msg);
	cr_assert_eq(audit_foreach(st, 0, last_missing, detail, NULL), PV_OK);
	cr_assert_str_eq(detail, "{\"rows_before\":10}");
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(rep.rows, 12);
}

Test(audit, head_file_may_lag_but_not_lie)
{
	struct audit_report rep;
	struct pv_why why = { "" };

	fill();
	copy_file(fx_path(dir, "audit.head"), fx_path(dir, "head.old"));
	cr_assert_eq(audit_append(st, "later", "x", NULL, NULL), PV_OK);
	/* A crash between commit and the head file: the file is behind. */
	copy_file(fx_path(dir, "head.old"), fx_path(dir, "audit.head"));
	cr_assert_eq(audit_verify(st, &rep, NULL), PV_OK);
	cr_assert_eq(rep.file_lag, 1);
	/* The next change brings it up to date. */
	cr_assert_eq(audit_append(st, "later", "y", NULL, NULL), PV_OK);
	cr_assert_eq(audit_verify(st, &rep, NULL), PV_OK);
	cr_assert_eq(rep.file_lag, 0);
	/* An altered head file is refused. */
	{
		FILE *f = fopen(fx_path(dir, "audit.head"), "r+");

		int c;

		cr_assert_not_null(f);
		fseek(f, 30, SEEK_SET);	/* inside the hash */
		c = fgetc(f);
		fseek(f, 30, SEEK_SET);
		fputc(c == '9' ? '8' : '9', f);
		fclose(f);
	}
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "audit head file") != NULL, "%s", why.msg);
	/* A missing head file: a store put back without it cannot be told
	 * from a rolled-back one. */
	cr_assert_eq(remove(fx_path(dir, "audit.head")), 0);
	pv_why_clear(&why);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "is missing") != NULL, "%s", why.msg);
}

/* The head file may be behind by the last transaction only. */
Test(audit, head_file_older_than_the_last_transaction_is_refused)
{
	struct audit_report rep;
	struct pv_why why = { "" };

	fill();
	copy_file(fx_path(dir, "audit.head"), fx_path(dir, "head.old"));
	cr_assert_eq(audit_append(st, "later", "x", NULL, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "later", "y", NULL, NULL), PV_OK);
	copy_file(fx_path(dir, "head.old"), fx_path(dir, "audit.head"));
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "more than its last transaction") != NULL,
	    "%s", why.msg);
	/* One transaction of several rows: still only its lag. */
	cr_assert_eq(audit_append(st, "later", "z", NULL, NULL), PV_OK);
	copy_file(fx_path(dir, "audit.head"), fx_path(dir, "head.old"));
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "in", "one", NULL, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "transaction", "two", NULL, NULL), PV_OK);
	cr_assert_eq(store_commit(st, NULL), PV_OK);
	copy_file(fx_path(dir, "head.old"), fx_path(dir, "audit.head"));
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(rep.file_lag, 2);
}

/*
 * A savepoint that appended the transaction's first row and was rolled
 * back: the transaction's start is still where it began, so a head file
 * that missed only this transaction is a lag, not a rollback.
 */
Test(audit, rolled_back_savepoint_keeps_the_transaction_start)
{
	struct audit_report rep;
	struct pv_why why = { "" };

	fill();
	copy_file(fx_path(dir, "audit.head"), fx_path(dir, "head.old"));
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(store_begin(st, NULL), PV_OK);
	cr_assert_eq(audit_append(st, "inner", "rolled back", NULL, NULL),
	    PV_OK);
	store_rollback(st);
	cr_assert_eq(audit_append(st, "outer", "kept", NULL, NULL), PV_OK);
	cr_assert_eq(store_commit(st, NULL), PV_OK);
	copy_file(fx_path(dir, "head.old"), fx_path(dir, "audit.head"));
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(rep.file_lag, 1);
}

/* Several writers: the head file never goes back to an older head. */
Test(audit, head_file_never_goes_back)
{
	struct store *other = fx_open(dir);
	struct audit_report rep;

	fill();
	cr_assert_eq(audit_append(other, "from", "another connection", NULL,
	    NULL), PV_OK);
	/* This connection commits and writes the head file after the other
	 * one; the newest head stays. */
	cr_assert_eq(audit_append(st, "and", "this one", NULL, NULL), PV_OK);
	cr_assert_eq(audit_verify(other, &rep, NULL), PV_OK);
	cr_assert_eq(rep.file_lag, 0);
	store_close(other);
}

/* A head that cannot be recorded outside the store fails the command. */
Test(audit, failed_head_write_is_reported)
{
	struct pv_why why = { "" };

	fill();
	cr_assert_eq(store_audit_files_status(st, NULL), PV_OK);
	/* (Tests may run as root, whom modes do not stop: a folder in the
	 * file's place does.) */
	cr_assert_eq(remove(fx_path(dir, "audit.head")), 0);
	cr_assert_eq(mkdir(fx_path(dir, "audit.head"), 0700), 0);
	cr_assert_eq(audit_append(st, "after", "the head file became a folder",
	    NULL, NULL), PV_OK, "the row itself is committed");
	cr_assert_eq(store_audit_files_status(st, &why), PV_E_IO);
	cr_assert(strstr(why.msg, "committed") != NULL, "%s", why.msg);
}

/* The anchor outside the home catches a store and head file put back
 * together. */
Test(audit, anchor_catches_a_rollback_of_store_and_head_file)
{
	struct store_opts o;
	struct store *a = NULL;
	struct audit_report rep;
	struct pv_why why = { "" };
	char head[256], anchor[256];
	int64_t n = 0;

	(void)snprintf(head, sizeof(head), "%s/audit.head", dir);
	(void)snprintf(anchor, sizeof(anchor), "%s/anchor.log", dir);
	memset(&o, 0, sizeof(o));
	o.audit_key = fx_key();
	o.head_path = head;
	o.anchor_path = anchor;
	o.actor = "tester";
	store_close(st);
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &a, &why), PV_OK,
	    "%s", why.msg);
	st = a;
	fill();
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert(rep.anchor_checked);
	cr_assert_eq(rep.anchor_rows, rep.rows);
	cr_assert_eq(audit_checkpoint(st, false, &n, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(n, rep.rows);
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "store.db"), fx_path(dir, "store.old"));
	copy_file(fx_path(dir, "audit.head"), fx_path(dir, "head.old"));
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &a, &why), PV_OK);
	cr_assert_eq(audit_append(a, "later", "x", NULL, NULL), PV_OK);
	store_close(a);
	/* Both put back: the head file agrees with the old store ... */
	copy_file(fx_path(dir, "store.old"), fx_path(dir, "store.db"));
	copy_file(fx_path(dir, "head.old"), fx_path(dir, "audit.head"));
	(void)remove(fx_path(dir, "store.db-wal"));
	(void)remove(fx_path(dir, "store.db-shm"));
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &st, &why),
	    PV_OK);
	/* ... the anchor does not. */
	pv_why_clear(&why);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "rolled back") != NULL &&
	    strstr(why.msg, "anchor") != NULL, "%s", why.msg);
}

/*
 * A store and head file put back, then written to before anyone verifies:
 * the anchor gets a new last line that agrees with the rolled-back log.
 * Every line of the anchor is history the log must still hold, not only
 * the last one.
 */
Test(audit, anchor_catches_a_rollback_written_to_afterwards)
{
	struct store_opts o;
	struct store *a = NULL;
	struct audit_report rep;
	struct pv_why why = { "" };
	char head[256], anchor[256];
	int i, more;

	(void)snprintf(head, sizeof(head), "%s/audit.head", dir);
	(void)snprintf(anchor, sizeof(anchor), "%s/anchor.log", dir);
	memset(&o, 0, sizeof(o));
	o.audit_key = fx_key();
	o.head_path = head;
	o.anchor_path = anchor;
	o.actor = "tester";
	store_close(st);
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &a, &why), PV_OK,
	    "%s", why.msg);
	st = a;
	fill();
	store_close(st);
	st = NULL;
	copy_file(fx_path(dir, "store.db"), fx_path(dir, "store.old"));
	copy_file(fx_path(dir, "audit.head"), fx_path(dir, "head.old"));
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &a, &why), PV_OK);
	cr_assert_eq(audit_append(a, "later", "recovered a key", NULL, NULL),
	    PV_OK);
	cr_assert_eq(audit_append(a, "later", "and another", NULL, NULL),
	    PV_OK);
	store_close(a);
	/* One more row than was rolled back, and exactly as many. */
	for (more = 1; more <= 3; more++) {
		copy_file(fx_path(dir, "store.old"), fx_path(dir, "store.db"));
		copy_file(fx_path(dir, "head.old"), fx_path(dir, "audit.head"));
		(void)remove(fx_path(dir, "store.db-wal"));
		(void)remove(fx_path(dir, "store.db-shm"));
		cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &st,
		    &why), PV_OK);
		for (i = 0; i < more; i++)
			cr_assert_eq(audit_append(st, "cover", "a new row",
			    NULL, NULL), PV_OK);
		pv_why_clear(&why);
		cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY,
		    "%d rows after the rollback", more);
		cr_assert(strstr(why.msg, "anchor") != NULL, "%s", why.msg);
		store_close(st);
		st = NULL;
	}
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &st, &why),
	    PV_OK);
}

Test(audit, another_stations_key_is_refused)
{
	struct store_opts o;
	struct store *other = NULL;
	struct audit_report rep;
	uint8_t key[32];
	struct pv_why why = { "" };

	fill();
	memset(key, 0x77, sizeof(key));
	memset(&o, 0, sizeof(o));
	o.audit_key = key;
	cr_assert_eq(store_open(fx_path(dir, "store.db"), &o, &other, NULL),
	    PV_OK);
	cr_assert_eq(audit_verify(other, &rep, &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "MAC is wrong") != NULL, "%s", why.msg);
	store_close(other);
}

Test(audit, update_and_delete_refused_by_triggers)
{
	fill();
	cr_assert_neq(fx_sql(dir, "UPDATE audit SET actor = 'x'"), SQLITE_OK);
	cr_assert_neq(fx_sql(dir, "DELETE FROM audit"), SQLITE_OK);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit"), 10);
}

Test(audit, notes)
{
	struct pv_why why = { "" };
	char big[AUDIT_NOTE_MAX + 2];

	cr_assert_eq(audit_note(st, "shift start \"desk 2\"", NULL), PV_OK);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit WHERE action "
	    "= 'note' AND detail = '{\"text\":\"shift start \\\"desk 2\\\"\"}'"),
	    1);
	cr_assert_eq(audit_note(st, "", NULL), PV_E_INPUT);
	cr_assert_eq(audit_note(st, "a\nb", &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "audit note: control character at byte 2");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(audit_note(st, big, NULL), PV_E_INPUT);
	cr_assert_eq(audit_verify(st, NULL, NULL), PV_OK);
}

/* ---- the rows the log vouches for ---------------------------------------------------- */

/*
 * Two people (person:2 owns nothing), a device, certificate 0a01
 * (revoked) and 0a02 (active), and two 9D envelopes, the second
 * replacing the first (escrow:1 changed to current = 0).
 */
static void
fill_rows(void)
{
	static char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END CERTIFICATE-----\n";
	static uint8_t cms[2][40];
	struct identity id;
	struct store_device d;
	struct store_cert c;
	struct store_escrow e;
	struct pv_why why = { "" };
	int64_t person = 0, other = 0, dev = 0;
	int i;

	id = fx_identity("0000000001", "Example", NULL);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &person, &why), PV_OK, "%s",
	    why.msg);
	id = fx_identity("0000000002", "Other", NULL);
	cr_assert_eq(store_person_put(st, &id,
	    STORE_PERSON_UPDATE, &other, &why), PV_OK, "%s",
	    why.msg);
	memset(&d, 0, sizeof(d));
	d.person_id = person;
	d.type = STORE_DEV_USB_KEY;
	snprintf(d.serial, sizeof(d.serial), "%s", "1234");
	d.status = STORE_DEV_ISSUING;
	cr_assert_eq(store_device_add(st, &d, &dev, &why), PV_OK, "%s",
	    why.msg);
	for (i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		c.device_id = dev;
		c.slot = i == 0 ? 0x9a : 0x9c;
		snprintf(c.serial, sizeof(c.serial), "0a0%d", i + 1);
		c.pem = pem;
		memset(c.spki_sha256, i + 1, 32);
		c.not_before = 1700000000;
		c.not_after = 1800000000;
		c.status = STORE_CERT_ACTIVE;
		cr_assert_eq(store_cert_add(st, &c, NULL, &why), PV_OK, "%s",
		    why.msg);
	}
	cr_assert_eq(store_cert_revoke(st, "0a01", 1, 0, &why), PV_OK, "%s",
	    why.msg);
	for (i = 0; i < 2; i++) {
		memset(&e, 0, sizeof(e));
		e.person_id = person;
		e.device_id = dev;
		e.kind = STORE_ESCROW_KEY_9D;
		memset(cms[i], 0x30 + i, sizeof(cms[i]));
		e.cms = cms[i];
		e.cms_len = sizeof(cms[i]);
		memset(e.fingerprint, i + 1, 32);
		cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, &why), PV_OK,
		    "%s", why.msg);
	}
	/* A job with two steps, one done, then its device; an operator. */
	{
		static const char *const steps[] = { "first", "second" };
		struct store_job j;
		int64_t job = 0;

		memset(&j, 0, sizeof(j));
		snprintf(j.kind, sizeof(j.kind), "%s", "issue");
		j.person_id = person;
		cr_assert_eq(store_job_create(st, &j, steps, 2, &job, &why),
		    PV_OK, "%s", why.msg);
		cr_assert_eq(store_job_step_set(st, job, "first",
		    STORE_STEP_DONE, "{}", &why), PV_OK, "%s", why.msg);
		cr_assert_eq(store_job_set_device(st, job, dev, &why), PV_OK,
		    "%s", why.msg);
		uint32_t number = 0;

		cr_assert_eq(store_credential_number_next(st, "1234", "5678",
		    job, &number, &why), PV_OK, "%s", why.msg);
		cr_assert_eq(number, 1);
		struct store_operator op = fx_operator("officer-1",
		    STORE_ROLE_ENROLLER);

		cr_assert_eq(store_operator_add(st, &op, NULL, &why), PV_OK,
		    "%s", why.msg);
	}
}

Test(audit, untouched_rows_verify)
{
	struct store_device d;
	struct audit_report rep;
	struct pv_why why = { "" };

	fill_rows();
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(rep.store_rows, 10, "2 people, 1 device, 2 certificates, "
	    "2 envelopes, 1 job, 1 operator, 1 credential number: %lld",
	    (long long)rep.store_rows);
	/* Legitimate changes keep it so. */
	memset(&d, 0, sizeof(d));
	cr_assert_eq(store_device_get(st, 1, &d, &why), PV_OK, "%s", why.msg);
	d.status = STORE_DEV_ACTIVE;
	cr_assert_eq(store_device_update(st, &d, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(store_cert_set_hold(st, "0a02", true, &why), PV_OK, "%s",
	    why.msg);
	store_close(st);
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(store_job_step_set(st, 1, "second", STORE_STEP_DONE,
	    NULL, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(store_job_set_state(st, 1, STORE_JOB_DONE, "ok", &why),
	    PV_OK, "%s", why.msg);
	store_close(st);
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(rep.store_rows, 10);
}

struct row_tamper {
	char sql[300];
	char want[120];
	char first_bad_sql[120];	/* the audit row the message names */
};

static struct row_tamper *
row_tamper_cases(size_t *n)
{
	static struct row_tamper cases[] = {
		{ "UPDATE certificates SET status = 'active', revoked_at = 0, "
		    "reason = -1 WHERE serial = '0a01'",
		    "certificates row 1 (cert:0a01) was altered: it differs "
		    "from what audit row ",
		    "SELECT max(seq) FROM audit WHERE object = 'cert:0a01'" },
		{ "UPDATE certificates SET pem = pem || ' ' WHERE id = 2",
		    "certificates row 2 (cert:0a02) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'cert:0a02'" },
		{ "DELETE FROM certificates WHERE id = 2",
		    "certificates row 2 (cert:0a02) was deleted: audit row ",
		    "SELECT max(seq) FROM audit WHERE object = 'cert:0a02'" },
		{ "INSERT INTO certificates (device_id, slot, serial, pem, "
		    "spki_sha256, not_before, not_after, status, created_at) "
		    "VALUES (1, 130, 'ff', 'x', zeroblob(32), 0, 0, 'active', "
		    "0)",
		    "certificates row 3 (cert:ff) is not in the audit log",
		    "SELECT 0" },
		{ "DROP TRIGGER escrow_keep; DELETE FROM escrow WHERE id = 2",
		    "escrow row 2 (escrow:2) was deleted: audit row ",
		    "SELECT max(seq) FROM audit WHERE object = 'escrow:2'" },
		/* The replaced envelope: its last record is escrow:2's. */
		{ "DROP TRIGGER escrow_keep; DELETE FROM escrow WHERE id = 1",
		    "escrow row 1 (escrow:2) was deleted: audit row ",
		    "SELECT max(seq) FROM audit WHERE object = 'escrow:2'" },
		{ "UPDATE escrow SET created_at = created_at + 1 WHERE id = 1",
		    "escrow row 1 (escrow:1) was altered: it differs from "
		    "what audit row ",
		    "SELECT max(seq) FROM audit WHERE object = 'escrow:2'" },
		{ "UPDATE escrow SET current = 0 WHERE id = 2",
		    "escrow row 2 (escrow:2) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'escrow:2'" },
		{ "UPDATE escrow SET cms = x'00' WHERE id = 2",
		    "escrow row 2 (escrow:2) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'escrow:2'" },
		{ "UPDATE devices SET status = 'active'",
		    "devices row 1 (device:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'device:1'" },
		{ "DELETE FROM people WHERE id = 2",
		    "people row 2 (person:2) was deleted",
		    "SELECT max(seq) FROM audit WHERE object = 'person:2'" },
		{ "UPDATE people SET email = 'x@example.org' WHERE id = 1",
		    "people row 1 (person:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'person:1'" },
		/* A job marked done by hand, or a step of it. */
		{ "UPDATE jobs SET state = 'done'",
		    "jobs row 1 (job:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'job:1'" },
		{ "UPDATE job_steps SET state = 'done' WHERE name = 'second'",
		    "jobs row 1 (job:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'job:1'" },
		{ "DELETE FROM job_steps WHERE name = 'second'",
		    "jobs row 1 (job:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'job:1'" },
		/* One step deleted, its text moved into another's detail. */
		{ "UPDATE job_steps SET detail = detail || char(10) || '1' || "
		    "char(9) || 'second' || char(9) || 'pending' WHERE name = "
		    "'first'; DELETE FROM job_steps WHERE name = 'second'",
		    "jobs row 1 (job:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'job:1'" },
		{ "UPDATE job_steps SET seq = 5 WHERE name = 'first'",
		    "jobs row 1 (job:1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = 'job:1'" },
		{ "DELETE FROM job_steps; DELETE FROM jobs",
		    "jobs row 1 (job:1) was deleted",
		    "SELECT max(seq) FROM audit WHERE object = 'job:1'" },
		{ "UPDATE operators SET disabled = 1",
		    "operators row 1 (operator:officer-1) was altered",
		    "SELECT max(seq) FROM audit WHERE object = "
		    "'operator:officer-1'" },
		/* A credential number freed to be handed out again. */
		{ "DELETE FROM credential_numbers",
		    "credential_numbers row 1 (credno:1234-5678-000001) was "
		    "deleted: audit row ",
		    "SELECT max(seq) FROM audit WHERE object = "
		    "'credno:1234-5678-000001'" },
		{ "UPDATE credential_numbers SET job_id = NULL",
		    "credential_numbers row 1 (credno:1234-5678-000001) was "
		    "altered",
		    "SELECT max(seq) FROM audit WHERE object = "
		    "'credno:1234-5678-000001'" },
		/* Rows that belong to one that is gone. */
		{ "INSERT INTO job_steps (job_id, seq, name, state, "
		    "updated_at) VALUES (9, 1, 'orphan', 'done', 0)",
		    "job_steps row 3 refers to a jobs row that does not exist: "
		    "rows were deleted outside pivstation", "SELECT 0" },
	};

	*n = sizeof(cases) / sizeof(cases[0]);
	return cases;
}

ParameterizedTestParameters(audit, row_tampering)
{
	size_t n;
	struct row_tamper *c = row_tamper_cases(&n);

	return cr_make_param_array(struct row_tamper, c, n);
}

ParameterizedTest(struct row_tamper *t, audit, row_tampering)
{
	struct audit_report rep;
	struct pv_why why = { "" };
	long long first_bad;

	fill_rows();
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
	store_close(st);
	st = NULL;
	first_bad = fx_sql_int(dir, t->first_bad_sql);
	cr_assert_geq(first_bad, 0);
	cr_assert_eq(fx_sql(dir, t->sql), SQLITE_OK, "%s", t->sql);
	st = fx_open(dir);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_E_VERIFY,
	    "tampering not seen: %s", t->sql);
	cr_assert(strncmp(why.msg, t->want, strlen(t->want)) == 0,
	    "%s\n got: %s\nwant: %s", t->sql, why.msg, t->want);
	cr_assert_eq(rep.first_bad, first_bad, "%s: first bad %lld, want %lld",
	    t->sql, (long long)rep.first_bad, first_bad);
	if (first_bad > 0) {
		char seq[32];

		snprintf(seq, sizeof(seq), "audit row %lld", first_bad);
		cr_assert(strstr(why.msg, seq) != NULL, "%s", why.msg);
	}
}
