/*
 * wf.c: the workflow runner (wf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/store.h"
#include "issuance/wf.h"

const char *
wf_step_state_name(enum wf_step_state s)
{
	switch (s) {
	case WF_STEP_DONE: return "done";
	case WF_STEP_DONE_BEFORE: return "done-before";
	case WF_STEP_SKIPPED: return "skipped";
	case WF_STEP_FAILED: return "failed";
	case WF_STEP_REDO: return "redo";
	case WF_STEP_RUNNING: return "running";
	}
	return "unknown";
}

void
wf_run_init(struct wf_run *r, const struct wf_def *def, struct store *st,
    const struct wf_hooks *hooks, const char *reader)
{
	memset(r, 0, sizeof(*r));
	r->def = def;
	r->st = st;
	r->hooks = hooks;
	r->reader = reader != NULL ? reader : "";
	r->cur = -1;
}

void
wf_run_cleanup(struct wf_run *r)
{
	while (r->tx_depth > 0) {
		store_rollback(r->st);
		r->tx_depth--;
	}
	job_cleanup(&r->job);
}

/* ---- events and questions ------------------------------------------------------- */

void
wf_emit(struct wf_run *r, long step, enum wf_step_state state,
    const char *fmt, ...)
{
	struct wf_event ev;
	char text[512];
	va_list ap;

	if (r->hooks == NULL || r->hooks->event == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.kind = r->def->kind;
	ev.job_id = r->job.row.id;
	ev.reader = r->reader;
	ev.step = step < 0 || (size_t)step >= r->def->n_steps ? "inspect" :
	    r->def->steps[step].name;
	ev.index = step < 0 ? 0 : (unsigned)step + 1;
	ev.count = (unsigned)r->def->n_steps;
	ev.state = state;
	ev.text = text;
	r->hooks->event(r->hooks->ctx, &ev);
}

enum pv_err
wf_ask(struct wf_run *r, const struct wf_ask *q, struct pkix_pass *answer,
    struct pv_why *why)
{
	if (r->hooks == NULL || r->hooks->ask == NULL) {
		if (q->kind == WF_ASK_PAD)
			return PV_OK;	/* a notice nobody needs to see */
		return pv_why_set(why, PV_E_INPUT, "%s: nobody to ask", q->text);
	}
	return r->hooks->ask(r->hooks->ctx, q, answer, why);
}

bool
wf_cancelled(const struct wf_run *r)
{
	return r->hooks != NULL && r->hooks->cancel != NULL &&
	    atomic_load(r->hooks->cancel);
}

void
wf_note(struct wf_run *r, enum wf_step_state state, const char *fmt, ...)
{
	va_list ap;

	r->note_state = state;
	va_start(ap, fmt);
	(void)vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

void
wf_done_detail(struct wf_run *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->detail))
		r->detail[0] = '\0';	/* the runner refuses an empty one */
}

/* ---- the job -------------------------------------------------------------------- */

/* Is the job made of exactly this workflow's steps, in order? */
static bool
wf_job_shape_ok(const struct wf_run *r)
{
	size_t i;

	if (r->job.n_steps != r->def->n_steps ||
	    strcmp(r->job.row.kind, r->def->kind) != 0)
		return false;
	for (i = 0; i < r->def->n_steps; i++)
		if (strcmp(r->job.steps[i].name, r->def->steps[i].name) != 0)
			return false;
	return true;
}

enum pv_err
wf_job_load(struct wf_run *r, int64_t id, struct pv_why *why)
{
	enum pv_err e;

	if ((e = job_load(r->st, id, &r->job, why)) != PV_OK)
		return e;
	if (!wf_job_shape_ok(r)) {
		job_cleanup(&r->job);
		return pv_why_set(why, PV_E_STATE, "job %lld was started by "
		    "another version of pivstation with other steps: cancel it "
		    "first ('pivstation job cancel %lld')", (long long)id,
		    (long long)id);
	}
	return PV_OK;
}

enum pv_err
wf_job_find(struct wf_run *r, int64_t person_id, bool *found,
    struct pv_why *why)
{
	struct store_job row;
	enum pv_err e;

	*found = false;
	e = store_job_find_running(r->st, r->def->kind, person_id, &row, why);
	if (e == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return PV_OK;
	}
	if (e != PV_OK || (e = wf_job_load(r, row.id, why)) != PV_OK)
		return e;
	r->resumed = true;
	*found = true;
	return PV_OK;
}

enum pv_err
wf_job_create(struct wf_run *r, int64_t person_id, struct pv_why *why)
{
	const char *names[64];
	size_t i;
	enum pv_err e;

	if (r->def->n_steps > sizeof(names) / sizeof(names[0]))
		return pv_why_set(why, PV_E_INVAL, "too many steps");
	for (i = 0; i < r->def->n_steps; i++)
		names[i] = r->def->steps[i].name;
	e = job_create(r->st, r->def->kind, person_id, r->reader, names,
	    r->def->n_steps, &r->job, why);
	if (e == PV_OK && r->hooks != NULL && r->hooks->created != NULL &&
	    (e = r->hooks->created(r->hooks->ctx, r->st, &r->job.row, why)) !=
	    PV_OK)
		job_cleanup(&r->job);	/* the step's rollback undoes the row */
	return e;
}

bool
wf_step_done_at(const struct wf_run *r, size_t i)
{
	return i < r->job.n_steps && r->job.steps[i].state == STORE_STEP_DONE;
}

const char *
wf_step_detail_at(const struct wf_run *r, size_t i)
{
	return i < r->job.n_steps ? r->job.steps[i].detail : "";
}

enum pv_err
wf_step_reset(struct wf_run *r, size_t i, struct pv_why *why)
{
	if (i >= r->def->n_steps)
		return pv_why_set(why, PV_E_INVAL, "no step %zu", i);
	return job_step_reset(r->st, &r->job, r->def->steps[i].name, why);
}

enum pv_err
wf_tx_begin(struct wf_run *r, struct pv_why *why)
{
	enum pv_err e;

	if (r->cur < 0 || !r->def->steps[r->cur].writes_store)
		return pv_why_set(why, PV_E_INTERNAL, "step %s writes the store "
		    "without saying so", r->cur < 0 ? "?" :
		    r->def->steps[r->cur].name);
	if ((e = store_begin(r->st, why)) != PV_OK)
		return e;
	r->tx_depth++;
	return PV_OK;
}

/* The running step's done mark, with its result. */
static enum pv_err
wf_mark_done(struct wf_run *r, struct pv_why *why)
{
	const char *name = r->def->steps[r->cur].name;

	if (job_step_is_done(&r->job, name))
		return PV_OK;	/* wf_finish marked it */
	return job_step_done(r->st, &r->job, name, r->detail[0] ? r->detail :
	    "{}", why);
}

enum pv_err
wf_finish(struct wf_run *r, const char *detail, struct pv_why *why)
{
	enum pv_err e;

	if (r->tx_depth == 0)
		return pv_why_set(why, PV_E_INTERNAL, "wf_finish outside the "
		    "step's transaction");
	if ((e = wf_mark_done(r, why)) != PV_OK)
		return e;
	return job_finish(r->st, &r->job, STORE_JOB_DONE, detail, why);
}

/*
 * Ends the running step: with |e| == PV_OK its done mark joins its rows in
 * one transaction (or one of its own); otherwise its transaction is undone
 * and the job in memory reloaded, since it may show a mark the store does
 * not keep.
 */
static enum pv_err
wf_step_end(struct wf_run *r, enum pv_err e, struct pv_why *why)
{
	struct pv_why ignore = { "" };
	bool own = r->tx_depth == 0;

	if (e == PV_OK && r->note_state != WF_STEP_REDO) {
		if (own && r->job.row.id != 0) {
			if ((e = store_begin(r->st, why)) == PV_OK)
				r->tx_depth++;
		}
		if (e == PV_OK)
			e = r->job.row.id != 0 ? wf_mark_done(r, why) :
			    pv_why_set(why, PV_E_INTERNAL, "the first step of %s "
			    "did not create its job", r->def->kind);
	}
	while (r->tx_depth > 0) {
		if (e == PV_OK)
			e = store_commit(r->st, why);	/* rolls back on failure */
		else
			store_rollback(r->st);
		r->tx_depth--;
	}
	if (e != PV_OK && r->job.row.id != 0)
		(void)job_load(r->st, r->job.row.id, &r->job, &ignore);
	return e;
}

/* Runs step |idx|: the cancel check, the step, its mark, its event. */
static enum pv_err
wf_run_one(struct wf_run *r, long idx, void *state, struct pv_why *why)
{
	struct pv_why ignore = { "" };
	const char *msg;
	enum pv_err e;

	if (idx < 0 || (size_t)idx >= r->def->n_steps ||
	    r->def->steps[idx].fn == NULL)
		return pv_why_set(why, PV_E_STATE, "job %lld: step '%s' cannot "
		    "run", (long long)r->job.row.id, idx < 0 ? "?" :
		    r->def->steps[idx].name);
	if (wf_cancelled(r))
		return pv_why_set(why, PV_E_CANCELLED, "cancelled before step "
		    "%s; job %lld is kept: run the same command again to "
		    "finish it", r->def->steps[idx].name,
		    (long long)r->job.row.id);
	r->cur = idx;
	r->note[0] = '\0';
	r->detail[0] = '\0';
	r->note_state = WF_STEP_DONE;
	e = r->def->steps[idx].fn(r, state, why);
	e = wf_step_end(r, e, why);
	r->cur = -1;
	if (e != PV_OK) {
		/* The last line a person reads always says why. */
		if (why != NULL && why->msg[0] == '\0')
			(void)pv_why_set(why, e, "%s", pv_strerror(e));
		msg = why != NULL ? why->msg : pv_strerror(e);
		/* The job stays RUNNING; the mark says what failed. */
		if (r->job.row.id != 0)
			(void)job_step_failed(r->st, &r->job,
			    r->def->steps[idx].name, msg, &ignore);
		wf_emit(r, idx, WF_STEP_FAILED, "%s", msg);
		if (r->job.row.id != 0)
			pv_why_prefix(why, "job %lld, step %s",
			    (long long)r->job.row.id, r->def->steps[idx].name);
		return e;
	}
	wf_emit(r, idx, r->note_state, "%s", r->note);
	if (r->note_state != WF_STEP_REDO)
		r->steps_run++;
	return PV_OK;
}

enum pv_err
wf_run_step_first(struct wf_run *r, void *state, struct pv_why *why)
{
	if (r->job.row.id != 0)
		return pv_why_set(why, PV_E_INTERNAL, "job %lld exists already",
		    (long long)r->job.row.id);
	return wf_run_one(r, 0, state, why);
}

enum pv_err
wf_run_steps(struct wf_run *r, void *state, struct pv_why *why)
{
	const char *name;
	unsigned iter;
	size_t i;
	enum pv_err e;

	if (r->resumed && r->steps_run == 0)
		for (i = 0; i < r->job.n_steps; i++)
			if (r->job.steps[i].state == STORE_STEP_DONE)
				wf_emit(r, (long)i, WF_STEP_DONE_BEFORE,
				    "done by an earlier run");
	/* A step put back (a key no longer on the card) is run again, so a
	 * job can take more turns than it has steps; but never for ever. */
	for (iter = 0; iter < 4 * r->def->n_steps + 1; iter++) {
		if (r->job.row.id == 0) {
			e = wf_run_one(r, 0, state, why);
		} else {
			if ((name = job_next_step(&r->job)) == NULL)
				return PV_OK;
			e = wf_run_one(r, job_find_step(&r->job, name), state,
			    why);
		}
		if (e != PV_OK)
			return e;
	}
	return pv_why_set(why, PV_E_STATE, "job %lld does not settle: its "
	    "steps keep being redone", (long long)r->job.row.id);
}
