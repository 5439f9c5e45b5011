/*
 * station_fixture.h: helpers for the station-side unit tests (home,
 * config, store, audit, identity, job): scratch folders, a store with a
 * fixed audit key, raw SQL for tampering.  Criterion runs each test in its
 * own process, so a test may chdir, setenv or umask freely.
 */
#ifndef PV_TESTS_STATION_FIXTURE_H
#define PV_TESTS_STATION_FIXTURE_H

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "issuance/audit.h"
#include "issuance/store.h"

/* fx_tmpdir makes a fresh scratch folder (0700) and returns its path. */
static inline const char *
fx_tmpdir(void)
{
	static char dir[64];

	strcpy(dir, "/tmp/pv-station-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp");
	return dir;
}

/* fx_rmtree removes a folder made by fx_tmpdir (a safe, known name). */
static inline void
fx_rmtree(const char *dir)
{
	char cmd[128];
	int rc;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	rc = system(cmd);
	cr_expect_eq(rc, 0, "%s", cmd);
}

/* fx_path joins |dir| and |name| into a static buffer (one of four). */
static inline const char *
fx_path(const char *dir, const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* The audit key of test stores. */
static inline const uint8_t *
fx_key(void)
{
	static const uint8_t k[32] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
	};

	return k;
}

/* fx_open opens <dir>/store.db with fx_key and <dir>/audit.head. */
static inline struct store *
fx_open(const char *dir)
{
	struct store_opts o;
	struct store *st = NULL;
	struct pv_why why = { "" };
	enum pv_err r;

	memset(&o, 0, sizeof(o));
	o.audit_key = fx_key();
	o.head_path = fx_path(dir, "audit.head");
	o.actor = "tester";
	o.busy_timeout_ms = 2000;
	r = store_open(fx_path(dir, "store.db"), &o, &st, &why);
	cr_assert_eq(r, PV_OK, "store_open: %s (%s)", pv_errname(r), why.msg);
	return st;
}

/* fx_sql runs |sql| on <dir>/store.db with the sqlite3 library directly
 * (as someone holding only the file would) and returns the result code. */
static inline int
fx_sql(const char *dir, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open(fx_path(dir, "store.db"), &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* fx_sql_int returns the integer of the first column of |sql|'s first
 * row, or -1. */
static inline long long
fx_sql_int(const char *dir, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_open(fx_path(dir, "store.db"), &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static inline struct identity
fx_identity(const char *person_id, const char *family, const char *email)
{
	struct identity id;

	memset(&id, 0, sizeof(id));
	strcpy(id.given_name, "Alice");
	strcpy(id.family_name, family);
	strcpy(id.person_id, person_id);
	strcpy(id.affiliation, "Employee");
	if (email != NULL)
		strcpy(id.email, email);
	return id;
}

/* fx_operator: an enabled operator |name| of role |role|, no card. */
static inline struct store_operator
fx_operator(const char *name, enum store_role role)
{
	struct store_operator o;

	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "%s", name);
	o.role = role;
	return o;
}

/* fx_rows counts audit rows through the public API. */
static inline enum pv_err
fx_count_row(void *ctx, const struct audit_row *row)
{
	(void)row;
	(*(long long *)ctx)++;
	return PV_OK;
}

static inline long long
fx_audit_rows(struct store *st)
{
	long long n = 0;

	cr_assert_eq(audit_foreach(st, 0, fx_count_row, &n, NULL), PV_OK);
	return n;
}

#endif /* PV_TESTS_STATION_FIXTURE_H */
