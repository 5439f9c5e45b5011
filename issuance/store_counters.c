/*
 * store_counters.c: FASC-N credential numbers and the CRL number.
 */
#include <stdio.h>
#include <string.h>

#include "issuance/store_int.h"

#define CREDENTIAL_NUMBER_MAX	999999	/* 6 digits (PIV-REFERENCE §5) */

static bool
four_digits(const char *s)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[4] == '\0';
}

enum pv_err
store_credential_number_next(struct store *st, const char *agency_code,
    const char *system_code, int64_t job_id, uint32_t *out,
    struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d;
	char obj[32];
	int64_t next = 0;
	enum pv_err r;

	*out = 0;
	if (!four_digits(agency_code) || !four_digits(system_code))
		return pv_why_set(why, PV_E_INVAL, "credential number: agency "
		    "and system codes are 4 digits each");
	/* BEGIN IMMEDIATE holds the write lock: max + 1 cannot race. */
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "SELECT coalesce(max(number), 0) + 1 FROM "
	    "credential_numbers WHERE agency_code = ?1 AND system_code = ?2",
	    &s, "allocate credential number", why)) != PV_OK)
		goto out;
	if (!store_bind_text(s, 1, agency_code) ||
	    !store_bind_text(s, 2, system_code)) {
		r = store_db_err(st, SQLITE_ERROR, "allocate credential number",
		    why);
		goto out;
	}
	if ((r = store_step_row(st, s, "allocate credential number", "row",
	    why)) != PV_OK)
		goto out;
	next = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (next > CREDENTIAL_NUMBER_MAX) {
		r = pv_why_set(why, PV_E_STATE, "all %d credential numbers of "
		    "agency %s system %s are used: configure another "
		    "system_code", CREDENTIAL_NUMBER_MAX, agency_code,
		    system_code);
		goto out;
	}
	if ((r = store_prepare(st, "INSERT INTO credential_numbers "
	    "(agency_code, system_code, number, job_id, allocated_at) VALUES "
	    "(?1, ?2, ?3, ?4, ?5)", &s, "allocate credential number", why)) !=
	    PV_OK)
		goto out;
	if (!store_bind_text(s, 1, agency_code) ||
	    !store_bind_text(s, 2, system_code) || !store_bind_i64(s, 3, next) ||
	    !(job_id != 0 ? store_bind_i64(s, 4, job_id) :
	    sqlite3_bind_null(s, 4) == SQLITE_OK) ||
	    !store_bind_i64(s, 5, store_now(st))) {
		r = store_db_err(st, SQLITE_ERROR, "allocate credential number",
		    why);
		goto out;
	}
	if ((r = store_step_done(st, s, "allocate credential number", why)) !=
	    PV_OK)
		goto out;
	d = json_object_new_object();
	store_jstr(d, "agency_code", agency_code);
	store_jstr(d, "system_code", system_code);
	store_jint(d, "number", next);
	if (job_id != 0)
		store_jint(d, "job", job_id);
	(void)snprintf(obj, sizeof(obj), "credno:%s-%s-%06lld", agency_code,
	    system_code, (long long)next);
	r = store_audit_row(st, "credno.allocate", obj, d,
	    "credential_numbers", sqlite3_last_insert_rowid(st->db), why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK)
		*out = (uint32_t)next;
	return r;
}

enum pv_err
store_crl_number_next(struct store *st, uint64_t *out, struct pv_why *why)
{
	sqlite3_stmt *s = NULL;
	json_object *d;
	int64_t v = 0;
	enum pv_err r;

	*out = 0;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_prepare(st, "INSERT INTO counters (name, value) VALUES "
	    "('crl_number', 1) ON CONFLICT (name) DO UPDATE SET value = "
	    "value + 1 RETURNING value", &s, "next CRL number", why)) != PV_OK)
		goto out;
	if ((r = store_step_row(st, s, "next CRL number", "counter", why)) !=
	    PV_OK)
		goto out;
	v = sqlite3_column_int64(s, 0);
	/* Finish the statement before anything else writes. */
	if ((r = store_step_done(st, s, "next CRL number", why)) != PV_OK)
		goto out;
	d = json_object_new_object();
	store_jint(d, "number", v);
	r = store_audit(st, "crl.number", "counter:crl_number", d, why);
out:
	sqlite3_finalize(s);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK)
		*out = (uint64_t)v;
	return r;
}
