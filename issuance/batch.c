/*
 * batch.c: batch issuance (batch.h): the checks before anything starts,
 * the batch in the store, the decisions from error classes, and the run:
 * reader events, one worker per reader (batch_work.c), progress.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "issuance/batch_int.h"
#include "issuance/job.h"
#include "issuance/store.h"
#include "issuance/wf_issue.h"

/* ---- names --------------------------------------------------------------------------- */

const char *
batch_rd_state_name(enum batch_rd_state s)
{
	switch (s) {
	case BATCH_RD_WAITING: return "waiting";
	case BATCH_RD_WORKING: return "working";
	case BATCH_RD_TAKE_OUT: return "take-out";
	case BATCH_RD_CLAIMED: return "claimed";
	case BATCH_RD_GONE: return "gone";
	}
	return "?";
}

const char *
batch_ev_name(enum batch_ev_kind k)
{
	switch (k) {
	case BATCH_EV_START: return "start";
	case BATCH_EV_READER: return "reader";
	case BATCH_EV_CARD: return "card";
	case BATCH_EV_ROW: return "row";
	case BATCH_EV_STEP: return "step";
	case BATCH_EV_TICK: return "tick";
	case BATCH_EV_NOTICE: return "notice";
	case BATCH_EV_END: return "end";
	}
	return "?";
}

const char *
batch_action_name(enum batch_action a)
{
	switch (a) {
	case BATCH_ACT_DONE: return "done";
	case BATCH_ACT_WAIT: return "wait";
	case BATCH_ACT_SKIP_CARD: return "skip-card";
	case BATCH_ACT_NEXT_ROW: return "next-row";
	case BATCH_ACT_RETRY: return "retry";
	case BATCH_ACT_ROW_FAILED: return "row-failed";
	case BATCH_ACT_CARD_FAILED: return "card-failed";
	case BATCH_ACT_STOP: return "stop";
	}
	return "?";
}

/* ---- decisions ----------------------------------------------------------------------- */

enum batch_action
batch_decide(enum pv_err e, bool job, bool at_register, unsigned tries)
{
	switch (pv_err_class(e)) {
	case PV_CLASS_OK:
		return BATCH_ACT_DONE;
	case PV_CLASS_CARD_GONE:
	case PV_CLASS_CANCEL:
		/* The card (or pcscd, or the reader) went away, or the run
		 * stops: a job resumes when its card is back. */
		return BATCH_ACT_WAIT;
	case PV_CLASS_INTERNAL:
		return BATCH_ACT_STOP;
	case PV_CLASS_INPUT:
		/* What the person's row gives cannot be issued (checked
		 * before the run, so rare): the row, not the card. */
		return job ? BATCH_ACT_ROW_FAILED : BATCH_ACT_NEXT_ROW;
	case PV_CLASS_CARD:
		if (!job)
			return at_register ? BATCH_ACT_NEXT_ROW :
			    BATCH_ACT_SKIP_CARD;
		return tries == 0 ? BATCH_ACT_RETRY : BATCH_ACT_CARD_FAILED;
	case PV_CLASS_AUTH:
	case PV_CLASS_VERIFY:
	case PV_CLASS_STATE:
		if (job)
			return BATCH_ACT_ROW_FAILED;
		/* Before the job: refused at the register step, it is the
		 * person's record (claimed elsewhere, an email taken);
		 * before that, the card (not blank, incompatible, PIN not
		 * the factory one). */
		return at_register ? BATCH_ACT_NEXT_ROW : BATCH_ACT_SKIP_CARD;
	}
	return BATCH_ACT_STOP;
}

/* ---- paths --------------------------------------------------------------------------- */

enum pv_err
batch_default_path(const char *input, const char *suffix, char *out,
    size_t cap)
{
	const char *slash = strrchr(input, '/');
	const char *base = slash != NULL ? slash + 1 : input;
	const char *dot = strrchr(base, '.');
	size_t stem = dot != NULL && dot != base ? (size_t)(dot - input) :
	    strlen(input);
	int n;

	n = snprintf(out, cap, "%.*s%s", (int)stem, input, suffix);
	if (n < 0 || (size_t)n >= cap)
		return PV_E_TOO_LONG;
	return PV_OK;
}

/* ---- the checks ------------------------------------------------------------------------ */

struct chk_errs {
	struct batch_row_err *list;	/* all, then sorted and cut */
	size_t n, cap;
	bool nomem;
};

static void
chk_add(struct chk_errs *e, unsigned row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
chk_add(struct chk_errs *e, unsigned row, const char *fmt, ...)
{
	struct batch_row_err *n;
	va_list ap;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;

		if ((n = realloc(e->list, cap * sizeof(*n))) == NULL) {
			e->nomem = true;
			return;
		}
		e->list = n;
		e->cap = cap;
	}
	e->list[e->n].row = row;
	va_start(ap, fmt);
	(void)vsnprintf(e->list[e->n].msg, sizeof(e->list[e->n].msg), fmt, ap);
	va_end(ap);
	e->n++;
}

static int
chk_cmp(const void *a, const void *b)
{
	const struct batch_row_err *x = a, *y = b;

	return x->row < y->row ? -1 : x->row > y->row;
}

/* The store's view of one person of the file. */
static enum pv_err
chk_person(struct store *st, const struct batch_check *c,
    const struct batch_opts *o, const struct store_batch_row *ours,
    const struct batch_row *br, const char *src, struct chk_errs *e,
    struct pv_why *why)
{
	char changed[sizeof(why->msg)];
	const struct identity *id = &br->id;
	struct store_person p, other;
	struct store_device *devs = NULL;
	struct store_job job;
	struct store_batch_row orow;
	struct store_batch ob;
	int64_t own_dev = 0;
	size_t n = 0, i;
	enum pv_err r;

	r = store_person_find_external(st, id->person_id, &p, why);
	if (r == PV_OK && !o->update_people &&
	    identity_diff(&p.ident, id, changed, sizeof(changed)) > 0)
		chk_add(e, br->row, "%s:%u: person_id: %s is in the store with "
		    "other details (%s): correct the row, or give "
		    "--update-people to take the row's", src, br->row,
		    id->person_id, changed);
	if (r == PV_OK) {
		/* A run killed after the row's job finished and before the
		 * row was marked done: that job's credential is the row's own
		 * (batch_open marks the row done). */
		if (ours != NULL && ours->job_id != 0 &&
		    store_job_get(st, ours->job_id, &job, why) == PV_OK &&
		    job.state == STORE_JOB_DONE)
			own_dev = job.device_id;
		pv_why_clear(why);
		if ((r = store_device_list_person(st, p.id, &devs, &n, why)) !=
		    PV_OK)
			return r;
		for (i = 0; i < n; i++) {
			if ((devs[i].status != STORE_DEV_ACTIVE &&
			    devs[i].status != STORE_DEV_SUSPENDED) ||
			    (own_dev != 0 && devs[i].id == own_dev))
				continue;
			chk_add(e, br->row, "%s:%u: person_id: %s already has "
			    "a %s credential (device %lld%s%s): remove the "
			    "row, or terminate that device first", src,
			    br->row, id->person_id,
			    store_device_status_name(devs[i].status),
			    (long long)devs[i].id, devs[i].serial[0] ?
			    ", serial " : "", devs[i].serial);
			break;
		}
		free(devs);
		r = store_job_find_running(st, WF_ISSUE_JOB_KIND, p.id, &job,
		    why);
		if (r == PV_OK && (ours == NULL || ours->job_id != job.id))
			chk_add(e, br->row, "%s:%u: person_id: %s has issuance "
			    "job %lld running%s%.60s: finish it ('pivstation "
			    "issue') or cancel it ('pivstation job cancel "
			    "%lld') first", src, br->row, id->person_id,
			    (long long)job.id, job.reader[0] ? " in " : "",
			    job.reader, (long long)job.id);
		else if (r != PV_OK && r != PV_E_NO_RECORD)
			return r;
	} else if (r != PV_E_NO_RECORD) {
		return r;
	}
	pv_why_clear(why);
	if (id->email[0] != '\0') {
		r = store_person_find_email(st, id->email, &other, why);
		if (r == PV_OK && strcmp(other.ident.person_id,
		    id->person_id) != 0)
			chk_add(e, br->row, "%s:%u: email: %.80s is the address "
			    "of person %s in the store", src, br->row, id->email,
			    other.ident.person_id);
		else if (r != PV_OK && r != PV_E_NO_RECORD)
			return r;
		pv_why_clear(why);
	}
	r = store_batch_person_elsewhere(st, c->known ? c->batch.id : 0,
	    id->person_id, &orow, &ob, why);
	if (r == PV_OK)
		chk_add(e, br->row, "%s:%u: person_id: %s is row %u of batch "
		    "%lld (%.80s), which is not finished", src, br->row,
		    id->person_id, orow.row, (long long)ob.id, ob.source);
	else if (r != PV_E_NO_RECORD)
		return r;
	pv_why_clear(why);
	return PV_OK;
}

enum pv_err
batch_check(struct station *stn, const struct batch_opts *o,
    struct batch_check *out, struct pv_why *why)
{
	const struct pv_config *cfg = station_config(stn);
	struct store *st = station_store(stn);
	struct store_batch_row *srows = NULL;
	struct chk_errs e;
	struct pv_why w;
	size_t n_srows = 0, i, k;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	r = batch_rows_load(o->input, o->fmt, &out->rows, why);
	if (r != PV_OK && r != PV_E_INPUT)
		return r;
	pv_why_clear(why);
	for (i = 0; i < out->rows.n_errs; i++)
		chk_add(&e, out->rows.errs[i].row, "%s", out->rows.errs[i].msg);
	out->n_errs_total = out->rows.n_errs_total - out->rows.n_errs;
	if (st == NULL) {
		r = pv_why_set(why, PV_E_INTERNAL, "batch: no store");
		goto out;
	}
	/* This file, seen before? */
	r = store_batch_find(st, out->rows.digest, &out->batch, why);
	if (r == PV_OK) {
		out->known = true;
		if ((r = store_batch_rows(st, out->batch.id, &srows, &n_srows,
		    why)) != PV_OK)
			goto out;
		for (i = 0; i < n_srows; i++) {
			switch (srows[i].state) {
			case STORE_BROW_DONE: out->n_done++; break;
			case STORE_BROW_RUNNING: out->n_running++; break;
			case STORE_BROW_FAILED: out->n_failed++; break;
			default: out->n_pending++; break;
			}
		}
	} else if (r != PV_E_NO_RECORD) {
		goto out;
	}
	pv_why_clear(why);
	for (i = 0; i < out->rows.n; i++) {
		const struct batch_row *br = &out->rows.rows[i];
		const struct store_batch_row *ours = NULL;

		for (k = 0; k < n_srows; k++)
			if (srows[k].row == br->row) {
				ours = &srows[k];
				break;
			}
		if (ours != NULL && ours->state == STORE_BROW_DONE)
			continue;	/* issued by this batch */
		pv_why_clear(&w);
		if (wf_issue_check_person(cfg, &br->id, &w) != PV_OK)
			chk_add(&e, br->row, "%s:%u: %s", o->input, br->row,
			    w.msg);
		if ((r = chk_person(st, out, o, ours, br, o->input, &e, why)) !=
		    PV_OK)
			goto out;
	}
	if (e.nomem) {
		r = PV_E_NOMEM;
		goto out;
	}
	out->n_errs_total += e.n;
	if (e.n > 0) {
		qsort(e.list, e.n, sizeof(*e.list), chk_cmp);
		out->n_errs = e.n < BATCH_ERRS_KEPT ? e.n : BATCH_ERRS_KEPT;
		out->errs = e.list;
		e.list = NULL;
		r = pv_why_set(why, PV_E_INPUT, "%s", out->errs[0].msg);
		goto out;
	}
	r = PV_OK;
out:
	free(e.list);
	free(srows);
	return r;
}

void
batch_check_cleanup(struct batch_check *c)
{
	batch_rows_cleanup(&c->rows);
	free(c->errs);
	memset(c, 0, sizeof(*c));
}

/* ---- events and progress ---------------------------------------------------------- */

void
batch_progress_locked(struct batch *b)
{
	struct batch_progress *p = &b->prog;
	struct batch_worker *w;
	size_t i;
	unsigned left;

	p->done = p->failed = p->running = p->pending = 0;
	p->done_before = 0;
	for (i = 0; i < b->n_rows; i++) {
		switch (b->rows[i].state) {
		case STORE_BROW_DONE:
			if (b->rows[i].done_before)
				p->done_before++;
			else
				p->done++;
			break;
		case STORE_BROW_FAILED: p->failed++; break;
		case STORE_BROW_RUNNING: p->running++; break;
		default: p->pending++; break;
		}
	}
	p->rows = (unsigned)b->n_rows;
	p->readers = 0;
	for (w = b->workers; w != NULL; w = w->next)
		if (!w->gone)
			p->readers++;
	p->elapsed_s = (double)(pcsc_now_ns() - b->t0_ns) / 1e9;
	p->per_min = p->elapsed_s > 1.0 ? p->done * 60.0 / p->elapsed_s : 0;
	left = p->pending + p->running;
	p->eta_s = p->per_min > 0 ? left * 60.0 / p->per_min :
	    left == 0 ? 0 : -1;
}

void
batch_emit(struct batch *b, struct batch_event *ev)
{
	struct batch_progress snap;

	if (b->hooks == NULL || b->hooks->event == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	batch_progress_locked(b);
	snap = b->prog;
	pthread_mutex_unlock(&b->mu);
	if (ev->reader == NULL)
		ev->reader = "";
	if (ev->person_id == NULL)
		ev->person_id = "";
	if (ev->name == NULL)
		ev->name = "";
	if (ev->serial == NULL)
		ev->serial = "";
	if (ev->text == NULL)
		ev->text = "";
	ev->prog = &snap;
	pthread_mutex_lock(&b->ev_mu);
	b->hooks->event(b->hooks->ctx, ev);
	pthread_mutex_unlock(&b->ev_mu);
}

static void
batch_notice(struct batch *b, enum pv_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
batch_notice(struct batch *b, enum pv_err e, const char *fmt, ...)
{
	struct batch_event ev;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.kind = BATCH_EV_NOTICE;
	ev.err = e;
	ev.text = text;
	batch_emit(b, &ev);
}

struct batch_rrow *
batch_rrow_find(struct batch *b, unsigned row)
{
	size_t lo = 0, hi = b->n_rows, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->rows[mid].row == row)
			return &b->rows[mid];
		if (b->rows[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- the batch in the store --------------------------------------------------------- */

/*
 * Brings the rows in line with their jobs, after a crash or an operator's
 * `job cancel`: a row whose job is done is done; one whose job was
 * cancelled or failed is pending again; a failed row is tried again (it
 * waits for its card when its job still runs).
 */
static enum pv_err
batch_reconcile(struct store *st, int64_t id, struct pv_why *why)
{
	struct store_batch_row *rows = NULL;
	struct store_job j;
	size_t n = 0, i;
	enum pv_err r;

	if ((r = store_batch_rows(st, id, &rows, &n, why)) != PV_OK)
		return r;
	for (i = 0; i < n && r == PV_OK; i++) {
		struct store_batch_row *w = &rows[i];

		if (w->state == STORE_BROW_DONE ||
		    (w->state == STORE_BROW_PENDING && w->job_id == 0))
			continue;
		if (w->job_id == 0) {
			r = store_batch_row_set(st, id, w->row,
			    STORE_BROW_PENDING, 0, w->detail, why);
			continue;
		}
		if ((r = store_job_get(st, w->job_id, &j, why)) != PV_OK)
			break;
		switch (j.state) {
		case STORE_JOB_DONE:
			r = store_batch_row_set(st, id, w->row, STORE_BROW_DONE,
			    j.id, NULL, why);
			break;
		case STORE_JOB_RUNNING:
			if (w->state != STORE_BROW_RUNNING)
				r = store_batch_row_set(st, id, w->row,
				    STORE_BROW_RUNNING, j.id, w->detail, why);
			break;
		default:
			r = store_batch_row_set(st, id, w->row,
			    STORE_BROW_PENDING, 0, j.state == STORE_JOB_CANCELLED ?
			    "its job was cancelled" : "its job failed", why);
			break;
		}
	}
	free(rows);
	return r;
}

/* The batch created or continued; its rows loaded into b->rows. */
static enum pv_err
batch_open(struct batch *b, struct pv_why *why)
{
	struct store *st = station_store(b->stn);
	const struct batch_check *c = b->chk;
	const struct batch_opts *o = b->o;
	struct store_batch sb;
	struct store_batch_row *srows = NULL;
	unsigned *nums = NULL;
	const char **pids = NULL;
	char mailer[STORE_BATCH_PATH_MAX] = "";
	size_t n_srows = 0, i, k;
	enum pv_err r = PV_E_INTERNAL;

	memset(&sb, 0, sizeof(sb));
	/* Where the PINs go, before anything is recorded. */
	if (c->known) {
		if (strcmp(c->batch.pin_mode, o->pin_mode == BATCH_PIN_RANDOM ?
		    "random" : "stdin") != 0)
			return pv_why_set(why, PV_E_INPUT, "batch %lld was "
			    "started with %s PINs: continue it the same way",
			    (long long)c->batch.id, strcmp(c->batch.pin_mode,
			    "random") == 0 ? "random (--pin random)" :
			    "a given PIN (--pin-stdin)");
		if (o->pin_mode == BATCH_PIN_RANDOM && o->pin_mailer != NULL &&
		    strcmp(o->pin_mailer, c->batch.pin_mailer) != 0)
			return pv_why_set(why, PV_E_INPUT, "batch %lld writes "
			    "its PINs to %.100s: give that --pin-mailer, or "
			    "none", (long long)c->batch.id, c->batch.pin_mailer);
		(void)snprintf(mailer, sizeof(mailer), "%s",
		    c->batch.pin_mailer);
	} else if (o->pin_mode == BATCH_PIN_RANDOM) {
		if (o->pin_mailer != NULL) {
			if (strlen(o->pin_mailer) >= sizeof(mailer))
				return pv_why_set(why, PV_E_TOO_LONG, "--pin-"
				    "mailer: path too long");
			memcpy(mailer, o->pin_mailer, strlen(o->pin_mailer) +
			    1);
		} else if (batch_default_path(o->input, ".pins.csv", mailer,
		    sizeof(mailer)) != PV_OK) {
			return pv_why_set(why, PV_E_TOO_LONG, "%s: path too "
			    "long", o->input);
		}
	}
	if (o->pin_mode == BATCH_PIN_RANDOM) {
		if ((r = batch_mailer_open(&b->mailer, mailer, why)) != PV_OK)
			return r;
		b->use_mailer = true;
		(void)snprintf(b->sum->pin_mailer, sizeof(b->sum->pin_mailer),
		    "%s", mailer);
	}
	if (c->known) {
		b->id = c->batch.id;
		if ((r = batch_reconcile(st, b->id, why)) != PV_OK)
			goto out;
	} else {
		memcpy(sb.digest, c->rows.digest, sizeof(sb.digest));
		if (strlen(o->input) >= sizeof(sb.source)) {
			r = pv_why_set(why, PV_E_TOO_LONG, "%s: path too long",
			    o->input);
			goto out;
		}
		memcpy(sb.source, o->input, strlen(o->input) + 1);
		(void)snprintf(sb.format, sizeof(sb.format), "%s",
		    batch_format_name(c->rows.fmt));
		(void)snprintf(sb.pin_mode, sizeof(sb.pin_mode), "%s",
		    o->pin_mode == BATCH_PIN_RANDOM ? "random" : "stdin");
		memcpy(sb.pin_mailer, mailer, sizeof(mailer));
		nums = calloc(c->rows.n + 1, sizeof(*nums));
		pids = calloc(c->rows.n + 1, sizeof(*pids));
		if (nums == NULL || pids == NULL) {
			r = PV_E_NOMEM;
			goto out;
		}
		for (i = 0; i < c->rows.n; i++) {
			nums[i] = c->rows.rows[i].row;
			pids[i] = c->rows.rows[i].id.person_id;
		}
		if ((r = store_batch_create(st, &sb, nums, pids, c->rows.n,
		    &b->id, why)) != PV_OK)
			goto out;
	}
	if ((r = store_batch_rows(st, b->id, &srows, &n_srows, why)) != PV_OK)
		goto out;
	if ((b->rows = calloc(c->rows.n + 1, sizeof(*b->rows))) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	b->n_rows = c->rows.n;
	for (i = k = 0; i < c->rows.n; i++) {
		struct batch_rrow *rr = &b->rows[i];
		const struct batch_row *br = &c->rows.rows[i];

		rr->row = br->row;
		rr->id = &br->id;
		if (identity_printed_name(&br->id, rr->name, sizeof(rr->name)) !=
		    PV_OK)
			(void)snprintf(rr->name, sizeof(rr->name), "%s",
			    br->id.family_name);
		while (k < n_srows && srows[k].row < br->row)
			k++;
		if (k >= n_srows || srows[k].row != br->row ||
		    strcmp(srows[k].person_id, br->id.person_id) != 0) {
			r = pv_why_set(why, PV_E_STATE, "batch %lld: row %u is "
			    "not the store's", (long long)b->id, br->row);
			goto out;
		}
		rr->state = srows[k].state;
		rr->job_id = srows[k].job_id;
		rr->done_before = rr->state == STORE_BROW_DONE;
	}
	r = PV_OK;
out:
	free(nums);
	free(pids);
	free(srows);
	return r;
}

/* ---- readers ------------------------------------------------------------------------ */

static bool
name_has(const char *name, const char *part, size_t plen)
{
	size_t n = strlen(name), i, k;

	if (plen == 0 || plen > n)
		return plen == 0;
	for (i = 0; i + plen <= n; i++) {
		for (k = 0; k < plen; k++)
			if (tolower((unsigned char)name[i + k]) !=
			    tolower((unsigned char)part[k]))
				break;
		if (k == plen)
			return true;
	}
	return false;
}

/*
 * Does --readers take reader |name|, the |index|-th of the first
 * snapshot (-1: added later)?  A list item of digits is an index, any
 * other item a part of a name.
 */
static bool
batch_reader_wanted(const char *spec, const char *name, long index)
{
	const char *p = spec, *end;
	size_t len, i;
	bool digits;

	if (spec == NULL || strcmp(spec, "all") == 0 || spec[0] == '\0')
		return true;
	while (*p != '\0') {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		digits = len > 0;
		for (i = 0; i < len; i++)
			if (!isdigit((unsigned char)p[i]))
				digits = false;
		if (digits && len < 6) {
			if (index >= 0 && strtol(p, NULL, 10) == index)
				return true;
		} else if (len > 0 && name_has(name, p, len)) {
			return true;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

static struct batch_worker *
batch_worker_find(struct batch *b, const char *name)
{
	struct batch_worker *w;

	for (w = b->workers; w != NULL; w = w->next)
		if (strcmp(w->reader, name) == 0)
			return w;
	return NULL;
}

static void
batch_reader_event(struct batch *b, const char *reader, enum batch_rd_state s,
    const char *text)
{
	struct batch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = BATCH_EV_READER;
	ev.reader = reader;
	ev.rd_state = s;
	ev.text = text;
	batch_emit(b, &ev);
}

/* A finished worker's thread joined and its record freed (b->mu held). */
static void
batch_worker_reap_locked(struct batch *b, struct batch_worker *w)
{
	struct batch_worker **pp;

	for (pp = &b->workers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->started)
		(void)pthread_join(w->th, NULL);
	free(w);
}

static void
batch_reap(struct batch *b)
{
	struct batch_worker *w, *next;

	pthread_mutex_lock(&b->mu);
	for (w = b->workers; w != NULL; w = next) {
		next = w->next;
		if (w->exited && w->gone)
			batch_worker_reap_locked(b, w);
	}
	pthread_mutex_unlock(&b->mu);
}

/* Is reader |name| one --readers chose by index at the start? */
static bool
batch_reader_by_index(const struct batch *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->n_by_index; i++)
		if (strcmp(b->by_index[i], name) == 0)
			return true;
	return false;
}

static void
batch_reader_added(struct batch *b, const struct pcsc_reader *rd, long index)
{
	struct batch_worker *w;
	bool start = false;

	if (!batch_reader_by_index(b, rd->name)) {
		if (!batch_reader_wanted(b->o->readers, rd->name, index))
			return;
		if (index >= 0 && b->n_by_index < PCSC_MAX_READERS)
			(void)snprintf(b->by_index[b->n_by_index++],
			    sizeof(b->by_index[0]), "%s", rd->name);
	}
	pthread_mutex_lock(&b->mu);
	w = batch_worker_find(b, rd->name);
	if (w != NULL && w->exited) {
		batch_worker_reap_locked(b, w);
		w = NULL;
	}
	if (w == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL) {
			pthread_mutex_unlock(&b->mu);
			return;
		}
		w->b = b;
		(void)snprintf(w->reader, sizeof(w->reader), "%s", rd->name);
		w->next = b->workers;
		b->workers = w;
		start = true;
	}
	/* A reader back before its worker ended keeps that worker. */
	w->gone = false;
	w->state = BATCH_RD_WAITING;
	if (rd->present && !w->present)
		w->gen++;
	w->present = rd->present;
	if (start) {
		if (pthread_create(&w->th, NULL, batch_worker_main, w) == 0) {
			w->started = true;
		} else {
			w->exited = true;
			w->gone = true;
		}
	}
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	/* A new worker says itself whether it could claim the reader. */
	if (!start)
		batch_reader_event(b, rd->name, BATCH_RD_WAITING, "back");
}

static void
batch_reader_removed(struct batch *b, const char *name)
{
	struct batch_worker *w;

	pthread_mutex_lock(&b->mu);
	w = batch_worker_find(b, name);
	if (w != NULL) {
		w->gone = true;
		w->present = false;
		w->state = BATCH_RD_GONE;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	if (w != NULL)
		batch_reader_event(b, name, BATCH_RD_GONE, "removed: dropped "
		    "from the batch");
}

static void
batch_card_event(struct batch *b, const char *name, bool inserted)
{
	struct batch_worker *w;
	bool waiting = false;

	pthread_mutex_lock(&b->mu);
	w = batch_worker_find(b, name);
	if (w != NULL && !w->gone) {
		if (inserted && !w->present)
			w->gen++;
		w->present = inserted;
		if (!inserted && !w->busy && w->state != BATCH_RD_CLAIMED) {
			w->state = BATCH_RD_WAITING;
			waiting = true;
		}
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	if (waiting)
		batch_reader_event(b, name, BATCH_RD_WAITING, "card taken out");
}

/* ---- the run ------------------------------------------------------------------------- */

/* Is the run over (b->mu held)? */
static bool
batch_over_locked(struct batch *b)
{
	struct batch_worker *w;

	batch_progress_locked(b);
	for (w = b->workers; w != NULL; w = w->next)
		if (w->busy)
			return false;
	if (b->stop_new)
		return true;
	return b->prog.pending == 0 && b->prog.running == 0;
}

static double
batch_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The PIN mailer rewritten: rows issued, and rows on their way. */
static enum pv_err
batch_mailer_finish(struct batch *b, struct pv_why *why)
{
	struct store *st = station_store(b->stn);
	struct batch_mailer_keep *keep = NULL;
	struct store_job j;
	struct store_device d;
	size_t n = 0, i;
	enum pv_err r;

	if (!b->use_mailer)
		return PV_OK;
	if ((keep = calloc(b->n_rows + 1, sizeof(*keep))) == NULL)
		return PV_E_NOMEM;
	for (i = 0; i < b->n_rows; i++) {
		struct batch_rrow *rr = &b->rows[i];
		struct batch_mailer_keep *k = &keep[n];

		if (rr->job_id == 0 || (rr->state != STORE_BROW_DONE &&
		    rr->state != STORE_BROW_RUNNING &&
		    rr->state != STORE_BROW_FAILED))
			continue;
		k->row = rr->row;
		k->person_id = rr->id->person_id;
		k->name = rr->name;
		k->status = rr->state == STORE_BROW_DONE ? "issued" :
		    "in progress";
		if (store_job_get(st, rr->job_id, &j, NULL) == PV_OK &&
		    j.device_id != 0 &&
		    store_device_get(st, j.device_id, &d, NULL) == PV_OK) {
			(void)snprintf(k->serial, sizeof(k->serial), "%s",
			    d.serial);
			if (d.has_guid)
				pkix_uuid_str(d.guid, k->card_uuid);
		}
		n++;
	}
	r = batch_mailer_rewrite(&b->mailer, keep, n, why);
	free(keep);
	return r;
}

enum pv_err
batch_run(struct station *stn, struct batch_check *chk,
    const struct batch_opts *o, const struct batch_hooks *hooks,
    struct batch_summary *out, struct pv_why *why)
{
	struct batch *b = NULL;
	struct pcsc_ctx *ctx = NULL;
	struct pcsc_monitor *mon = NULL;
	struct pcsc_event ev;
	struct batch_event bev;
	struct batch_worker *w;
	char hex[65];
	double cpu0 = batch_cpu_s();
	uint64_t last_tick = 0;
	long initial = 0;
	bool mu_ok = false, over;
	enum pv_err r = PV_E_INTERNAL, e;

	memset(out, 0, sizeof(*out));
	if (chk->n_errs_total > 0)
		return pv_why_set(why, PV_E_INPUT, "batch: the file has "
		    "problems: run --check");
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return PV_E_NOMEM;
	b->stn = stn;
	b->o = o;
	b->hooks = hooks;
	b->cfg = station_config(stn);
	b->chk = chk;
	b->sum = out;
	b->mailer.fd = -1;
	atomic_init(&b->cancel, false);
	if (pthread_mutex_init(&b->mu, NULL) != 0 ||
	    pthread_mutex_init(&b->ev_mu, NULL) != 0 ||
	    pthread_mutex_init(&b->pin_mu, NULL) != 0 ||
	    pthread_cond_init(&b->cv, NULL) != 0) {
		r = pv_why_set(why, PV_E_INTERNAL, "batch: no mutex");
		goto out;
	}
	mu_ok = true;
	/* One process runs a batch at a time. */
	buf_hex(chk->rows.digest, 32, hex);
	(void)snprintf(b->who, sizeof(b->who), "%s %.100s", o->who != NULL ?
	    o->who : "pivstation batch", o->input);
	if ((r = claim_take(station_home(stn), "batch", hex, b->who, &b->claim,
	    why)) != PV_OK) {
		if (r == PV_E_EXISTS)
			pv_why_prefix(why, "this batch runs already");
		goto out;
	}
	if ((r = batch_open(b, why)) != PV_OK)
		goto out;
	out->batch_id = b->id;
	if ((r = batch_keypool_start(&b->kp, pkix_alg_from_piv(
	    (unsigned)b->cfg->slot_alg[CONFIG_SLOT_9D]), o->keypool)) != PV_OK)
		pv_why_clear(why);	/* keys are then made on demand */
	if ((r = pcsc_ctx_new(&ctx)) != PV_OK ||
	    (r = pcsc_monitor_new(ctx, &mon)) != PV_OK)
		goto out;
	b->t0_ns = pcsc_now_ns();
	memset(&bev, 0, sizeof(bev));
	bev.kind = BATCH_EV_START;
	bev.text = chk->known ? "continuing" : "new";
	bev.job_id = b->id;
	batch_emit(b, &bev);

	for (;;) {
		if (hooks != NULL && hooks->cancel != NULL &&
		    atomic_load(hooks->cancel) && !atomic_load(&b->cancel)) {
			atomic_store(&b->cancel, true);
			out->cancelled = true;
			pthread_mutex_lock(&b->mu);
			b->stop_new = true;
			pthread_cond_broadcast(&b->cv);
			pthread_mutex_unlock(&b->mu);
			batch_notice(b, PV_E_CANCELLED, "stopping: the cards in "
			    "progress stop after their current step; run the "
			    "same command again to continue");
		}
		pthread_mutex_lock(&b->mu);
		over = batch_over_locked(b);
		pthread_mutex_unlock(&b->mu);
		if (over)
			break;
		e = pcsc_monitor_next(mon, 250, &ev);
		if (pcsc_now_ns() - last_tick > 500000000u) {
			last_tick = pcsc_now_ns();
			batch_reap(b);
			memset(&bev, 0, sizeof(bev));
			bev.kind = BATCH_EV_TICK;
			batch_emit(b, &bev);
		}
		if (e == PV_E_TIMEOUT)
			continue;
		if (e != PV_OK) {
			pthread_mutex_lock(&b->mu);
			b->fatal = e;
			(void)snprintf(b->fatal_why, sizeof(b->fatal_why),
			    "watching the readers: %s", pv_strerror(e));
			pthread_mutex_unlock(&b->mu);
			break;
		}
		switch (ev.kind) {
		case PCSC_EV_READER_ADDED:
			batch_reader_added(b, &ev.reader, ev.initial ?
			    initial++ : -1);
			break;
		case PCSC_EV_READER_REMOVED:
			batch_reader_removed(b, ev.reader.name);
			break;
		case PCSC_EV_CARD_INSERTED:
			batch_card_event(b, ev.reader.name, true);
			break;
		case PCSC_EV_CARD_REMOVED:
			batch_card_event(b, ev.reader.name, false);
			break;
		case PCSC_EV_SERVICE_LOST:
			batch_notice(b, PV_E_NO_SERVICE, "pcscd went away: "
			    "waiting for it; interrupted cards resume when it "
			    "is back");
			break;
		case PCSC_EV_SERVICE_BACK:
			batch_notice(b, PV_OK, "pcscd is back");
			break;
		default:
			break;
		}
	}
	r = PV_OK;
out:
	if (b != NULL && mu_ok) {
		/* Workers end: those on a card stop after their step. */
		pthread_mutex_lock(&b->mu);
		b->quit = true;
		b->stop_new = true;
		if (r != PV_OK || b->fatal != PV_OK)
			atomic_store(&b->cancel, true);
		pthread_cond_broadcast(&b->cv);
		while ((w = b->workers) != NULL) {
			w->gone = true;
			pthread_mutex_unlock(&b->mu);
			if (w->started)
				(void)pthread_join(w->th, NULL);
			pthread_mutex_lock(&b->mu);
			b->workers = w->next;
			free(w);
		}
		batch_progress_locked(b);
		out->prog = b->prog;
		pthread_mutex_unlock(&b->mu);
		out->complete = b->n_rows > 0 && out->prog.done +
		    out->prog.done_before == out->prog.rows;
		out->too_many_failures = o->max_failures > 0 &&
		    out->prog.failures >= o->max_failures;
		if (r == PV_OK && b->fatal != PV_OK) {
			r = pv_why_set(why, b->fatal, "%s", b->fatal_why);
		}
		if (b->kp.started) {
			pthread_mutex_lock(&b->kp.mu);
			out->keys_ahead = b->kp.taken;
			out->keys_inline = b->kp.missed;
			pthread_mutex_unlock(&b->kp.mu);
		}
		batch_keypool_stop(&b->kp);
		if (b->id != 0) {
			struct pv_why w2 = { "" };

			e = batch_mailer_finish(b, &w2);
			if (e != PV_OK && r == PV_OK)
				r = pv_why_set(why, e, "%s", w2.msg);
			if (out->complete && store_batch_set_state(
			    station_store(stn), b->id, STORE_BATCH_DONE,
			    &w2) != PV_OK && r == PV_OK)
				r = pv_why_set(why, PV_E_DB, "%s", w2.msg);
		}
		memset(&bev, 0, sizeof(bev));
		bev.kind = BATCH_EV_END;
		bev.text = out->complete ? "every row is issued" :
		    out->cancelled ? "interrupted" : out->too_many_failures ?
		    "too many failures" : r != PV_OK ? "stopped" :
		    "rows failed";
		bev.err = r;
		if (b->id != 0)
			batch_emit(b, &bev);
		out->cpu_s = batch_cpu_s() - cpu0;
	}
	pcsc_monitor_free(mon);
	pcsc_ctx_free(ctx);
	if (b != NULL) {
		batch_mailer_close(&b->mailer);
		claim_release(b->claim);
		free(b->rows);
		if (mu_ok) {
			pthread_cond_destroy(&b->cv);
			pthread_mutex_destroy(&b->ev_mu);
			pthread_mutex_destroy(&b->pin_mu);
			pthread_mutex_destroy(&b->mu);
		}
		free(b);
	}
	return r;
}
