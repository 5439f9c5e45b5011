/*
 * job_cancel.c: listing issuance jobs and cancelling one whose card is
 * lost (job_cancel.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "issuance/audit.h"
#include "issuance/job_cancel.h"

/* Fills the person, device and step fields of |ji| from the store. */
static enum pv_err
job_info_fill(struct store *st, struct job_info *ji, struct pv_why *why)
{
	struct store_job_step *steps = NULL;
	struct store_person p;
	struct store_device d;
	size_t n = 0, i;
	enum pv_err r;

	if (ji->row.person_id != 0) {
		if ((r = store_person_get(st, ji->row.person_id, &p, why)) !=
		    PV_OK)
			return r;
		(void)snprintf(ji->person, sizeof(ji->person), "%s",
		    p.ident.person_id);
	}
	if (ji->row.device_id != 0) {
		if ((r = store_device_get(st, ji->row.device_id, &d, why)) !=
		    PV_OK)
			return r;
		ji->has_device = true;
		(void)snprintf(ji->serial, sizeof(ji->serial), "%s", d.serial);
		ji->has_guid = d.has_guid;
		memcpy(ji->guid, d.guid, sizeof(ji->guid));
		ji->device_status = d.status;
	}
	if ((r = store_job_steps(st, ji->row.id, &steps, &n, why)) != PV_OK)
		return r;
	ji->n_steps = (unsigned)n;
	for (i = 0; i < n; i++) {
		if (steps[i].state != STORE_STEP_DONE)
			continue;
		ji->steps_done++;
		(void)snprintf(ji->last_done, sizeof(ji->last_done), "%s",
		    steps[i].name);
	}
	free(steps);
	return PV_OK;
}

enum pv_err
job_info_list(struct store *st, bool all, struct job_info **out,
    size_t *n_out, struct pv_why *why)
{
	struct store_job *rows = NULL;
	struct job_info *list = NULL;
	size_t n = 0, i;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	r = all ? store_job_list_all(st, &rows, &n, why) :
	    store_job_list_running(st, &rows, &n, why);
	if (r != PV_OK)
		return r;
	if (n > 0 && (list = calloc(n, sizeof(*list))) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		list[i].row = rows[i];
		if ((r = job_info_fill(st, &list[i], why)) != PV_OK)
			goto out;
	}
	*out = list;
	*n_out = n;
	list = NULL;
out:
	free(list);
	free(rows);
	return r;
}

static enum pv_err
job_reason_check(const char *reason, struct pv_why *why)
{
	size_t len, i;

	if (reason == NULL || (len = strlen(reason)) == 0)
		return pv_why_set(why, PV_E_INPUT, "job cancel: a reason is "
		    "required");
	if (len > JOB_REASON_MAX)
		return pv_why_set(why, PV_E_INPUT, "job cancel: the reason is "
		    "%zu bytes, at most %d", len, JOB_REASON_MAX);
	for (i = 0; i < len; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			return pv_why_set(why, PV_E_INPUT, "job cancel: the "
			    "reason has a control character at byte %zu",
			    i + 1);
	return PV_OK;
}

/* Revokes the device's live certificates and terminates it. */
static enum pv_err
job_retire_device(struct store *st, int64_t dev_id,
    struct job_cancel_result *res, json_object *serials, struct pv_why *why)
{
	struct store_cert *certs = NULL;
	struct store_device d;
	size_t n = 0, i, revoked = 0;
	enum pv_err r;

	if ((r = store_device_get(st, dev_id, &d, why)) != PV_OK)
		return r;
	if (d.status == STORE_DEV_TERMINATED)
		return PV_OK;	/* retired already (a --reissue elsewhere) */
	if ((r = store_cert_list_device(st, dev_id, &certs, &n, why)) != PV_OK)
		return r;
	for (i = 0; i < n; i++) {
		if (certs[i].status == STORE_CERT_REVOKED)
			continue;
		if (res->n_revoked < JOB_CANCEL_MAX_REVOKED)
			(void)snprintf(res->revoked[res->n_revoked],
			    sizeof(res->revoked[0]), "%s", certs[i].serial);
		res->n_revoked++;
		(void)json_object_array_add(serials,
		    json_object_new_string(certs[i].serial));
	}
	store_cert_free_list(certs, n);
	if ((r = store_device_terminate(st, dev_id,
	    STORE_REASON_KEY_COMPROMISE, &revoked, why)) != PV_OK)
		return r;
	if (revoked != res->n_revoked)	/* same transaction: cannot differ */
		return pv_why_set(why, PV_E_STATE, "job cancel: device %lld: "
		    "%zu certificates revoked, %zu expected", (long long)dev_id,
		    revoked, res->n_revoked);
	res->device_terminated = true;
	return PV_OK;
}

enum pv_err
job_cancel(struct store *st, int64_t id, const char *reason,
    struct job_cancel_result *out, struct pv_why *why)
{
	struct job_cancel_result res;
	struct store_job job;
	json_object *d = NULL, *serials, *jd = NULL;
	char obj[32];
	enum pv_err r;

	memset(&res, 0, sizeof(res));
	res.job_id = id;
	if ((r = job_reason_check(reason, why)) != PV_OK)
		return r;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_job_get(st, id, &job, why)) != PV_OK) {
		if (r == PV_E_NO_RECORD) {
			/* The operator named the job: bad input. */
			pv_why_clear(why);
			r = pv_why_set(why, PV_E_INPUT, "job cancel: there is "
			    "no job %lld", (long long)id);
		}
		goto out;
	}
	if (job.state != STORE_JOB_RUNNING) {
		r = pv_why_set(why, PV_E_STATE, "job cancel: job %lld is %s "
		    "already: nothing to cancel", (long long)id,
		    store_job_state_name(job.state));
		goto out;
	}
	res.device_id = job.device_id;
	d = json_object_new_object();
	serials = json_object_new_array();
	if (d == NULL || serials == NULL) {
		json_object_put(serials);
		r = PV_E_NOMEM;
		goto out;
	}
	(void)json_object_object_add(d, "reason",
	    json_object_new_string(reason));
	(void)json_object_object_add(d, "kind",
	    json_object_new_string(job.kind));
	(void)json_object_object_add(d, "device",
	    json_object_new_int64(job.device_id));
	(void)json_object_object_add(d, "revoked", serials);
	(void)json_object_object_add(d, "crl_reason",
	    json_object_new_string("keyCompromise"));
	if (job.device_id != 0 && (r = job_retire_device(st, job.device_id,
	    &res, serials, why)) != PV_OK)
		goto out;
	if ((jd = json_object_new_object()) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	(void)json_object_object_add(jd, "reason",
	    json_object_new_string(reason));
	(void)json_object_object_add(jd, "revoked",
	    json_object_new_int64((int64_t)res.n_revoked));
	if ((r = store_job_set_state(st, id, STORE_JOB_CANCELLED,
	    json_object_to_json_string_ext(jd, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), why)) != PV_OK)
		goto out;
	(void)snprintf(obj, sizeof(obj), "job:%lld", (long long)id);
	r = audit_append(st, "job.cancel", obj,
	    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE), why);
out:
	json_object_put(d);
	json_object_put(jd);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK && out != NULL)
		*out = res;
	return r;
}
