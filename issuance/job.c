/*
 * job.c: resumable jobs on top of the store's jobs and job_steps tables.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "issuance/job.h"

void
job_cleanup(struct job *j)
{
	if (j == NULL)
		return;
	free(j->steps);
	j->steps = NULL;
	j->n_steps = 0;
	memset(&j->row, 0, sizeof(j->row));
}

enum pv_err
job_load(struct store *st, int64_t id, struct job *out, struct pv_why *why)
{
	struct store_job_step *steps = NULL;
	size_t n = 0;
	enum pv_err r;

	job_cleanup(out);
	if ((r = store_job_get(st, id, &out->row, why)) != PV_OK)
		return r;
	if ((r = store_job_steps(st, id, &steps, &n, why)) != PV_OK) {
		memset(&out->row, 0, sizeof(out->row));
		return r;
	}
	out->steps = steps;
	out->n_steps = n;
	return PV_OK;
}

enum pv_err
job_create(struct store *st, const char *kind, int64_t person_id,
    const char *reader, const char *const *steps, size_t n_steps,
    struct job *out, struct pv_why *why)
{
	struct store_job row, other;
	struct pv_why ignore = { "" };
	int64_t id = 0;
	enum pv_err r;

	job_cleanup(out);
	if (strlen(kind) >= sizeof(row.kind) ||
	    (reader != NULL && strlen(reader) >= sizeof(row.reader)))
		return pv_why_set(why, PV_E_INVAL, "job: kind or reader name "
		    "too long");
	memset(&row, 0, sizeof(row));
	strcpy(row.kind, kind);
	row.person_id = person_id;
	if (reader != NULL)
		strcpy(row.reader, reader);
	r = store_job_create(st, &row, steps, n_steps, &id, why);
	if (r == PV_E_EXISTS && person_id != 0 &&
	    store_job_find_running(st, kind, person_id, &other, &ignore) ==
	    PV_OK) {
		pv_why_clear(why);
		return pv_why_set(why, PV_E_EXISTS, "this person already has "
		    "%s job %lld running%s%s", kind, (long long)other.id,
		    other.reader[0] ? " on " : "", other.reader);
	}
	if (r != PV_OK)
		return r;
	return job_load(st, id, out, why);
}

long
job_find_step(const struct job *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->n_steps; i++)
		if (strcmp(j->steps[i].name, name) == 0)
			return (long)i;
	return -1;
}

const char *
job_next_step(const struct job *j)
{
	size_t i;

	for (i = 0; i < j->n_steps; i++)
		if (j->steps[i].state != STORE_STEP_DONE)
			return j->steps[i].name;
	return NULL;
}

bool
job_step_is_done(const struct job *j, const char *name)
{
	long i = job_find_step(j, name);

	return i >= 0 && j->steps[i].state == STORE_STEP_DONE;
}

const char *
job_step_detail(const struct job *j, const char *name)
{
	long i = job_find_step(j, name);

	return i >= 0 ? j->steps[i].detail : NULL;
}

static enum pv_err
job_step_set(struct store *st, struct job *j, const char *name,
    enum store_step_state state, const char *detail, struct pv_why *why)
{
	long i = job_find_step(j, name);
	enum pv_err r;

	if (i < 0)
		return pv_why_set(why, PV_E_NO_RECORD, "job %lld has no step "
		    "'%s'", (long long)j->row.id, name);
	if ((r = store_job_step_set(st, j->row.id, name, state, detail,
	    why)) != PV_OK)
		return r;
	j->steps[i].state = state;
	if (detail != NULL) {
		/* store_job_step_set refused anything that does not fit. */
		strcpy(j->steps[i].detail, detail);
	}
	j->steps[i].updated_at = store_now(st);
	return PV_OK;
}

enum pv_err
job_step_done(struct store *st, struct job *j, const char *name,
    const char *detail, struct pv_why *why)
{
	return job_step_set(st, j, name, STORE_STEP_DONE, detail, why);
}

enum pv_err
job_step_failed(struct store *st, struct job *j, const char *name,
    const char *error, struct pv_why *why)
{
	json_object *o = json_object_new_object(), *s;
	char detail[STORE_DETAIL_MAX];
	const char *text;
	enum pv_err r;

	if (o == NULL)
		return PV_E_NOMEM;
	if ((s = json_object_new_string(error ? error : "")) == NULL ||
	    json_object_object_add(o, "error", s) != 0) {
		json_object_put(s);
		json_object_put(o);
		return PV_E_NOMEM;
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	/* Cut an over-long message; the detail must stay valid JSON, so
	 * fall back to a fixed one rather than truncating the text. */
	if (text == NULL || strlen(text) >= sizeof(detail))
		text = "{\"error\":\"(message too long)\"}";
	strcpy(detail, text);
	json_object_put(o);
	r = job_step_set(st, j, name, STORE_STEP_FAILED, detail, why);
	return r;
}

enum pv_err
job_step_reset(struct store *st, struct job *j, const char *name,
    struct pv_why *why)
{
	return job_step_set(st, j, name, STORE_STEP_PENDING, "", why);
}

enum pv_err
job_set_device(struct store *st, struct job *j, int64_t device_id,
    struct pv_why *why)
{
	struct store_job *jobs = NULL;
	size_t n = 0, i;
	enum pv_err r;

	r = store_job_set_device(st, j->row.id, device_id, why);
	if (r == PV_E_EXISTS && store_job_list_running(st, &jobs, &n,
	    NULL) == PV_OK) {
		for (i = 0; i < n; i++)
			if (jobs[i].device_id == device_id &&
			    jobs[i].id != j->row.id)
				break;
		if (i < n) {
			pv_why_clear(why);
			r = pv_why_set(why, PV_E_EXISTS, "device %lld is being "
			    "personalised by %s job %lld%s%s", (long long)
			    device_id, jobs[i].kind, (long long)jobs[i].id,
			    jobs[i].reader[0] ? " on " : "", jobs[i].reader);
		}
		free(jobs);
	}
	if (r != PV_OK)
		return r;
	j->row.device_id = device_id;
	return PV_OK;
}

enum pv_err
job_finish(struct store *st, struct job *j, enum store_job_state state,
    const char *detail, struct pv_why *why)
{
	const char *next;
	enum pv_err r;

	if (state == STORE_JOB_RUNNING)
		return pv_why_set(why, PV_E_INVAL, "job_finish: RUNNING is not "
		    "an end state");
	if (state == STORE_JOB_DONE && (next = job_next_step(j)) != NULL)
		return pv_why_set(why, PV_E_STATE, "job %lld is not done: step "
		    "'%s' is %s", (long long)j->row.id, next,
		    store_step_state_name(j->steps[job_find_step(j,
		    next)].state));
	if ((r = store_job_set_state(st, j->row.id, state, detail, why)) !=
	    PV_OK)
		return r;
	j->row.state = state;
	(void)strncpy(j->row.detail, detail ? detail : "",
	    sizeof(j->row.detail) - 1);
	j->row.detail[sizeof(j->row.detail) - 1] = '\0';
	return PV_OK;
}
