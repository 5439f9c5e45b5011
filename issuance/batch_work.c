/*
 * batch_work.c: a reader's worker (batch_int.h).  It claims its reader,
 * opens its own store connection, and for each card inserted: opens the
 * card exclusively, works out which row it serves (the row whose job was
 * interrupted on it, or the next pending row), runs the issuance on the
 * card seam and acts on the outcome (batch_decide).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "apdu/fascn.h"
#include "issuance/batch_int.h"
#include "issuance/card.h"
#include "issuance/job.h"
#include "issuance/job_cancel.h"
#include "issuance/store.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "pcsc/session.h"

#define BW_ROWS_PER_CARD	4	/* rows a card may try (NEXT_ROW) */
#define BW_RETRIES		5	/* opens of a card still present */

/* One issuance on a card: the hooks' context. */
struct bw_run {
	struct batch_worker *w;
	struct batch_rrow *rr;
	const char *serial;
	bool at_register;		/* the register step failed */
};

/* ---- events ------------------------------------------------------------------------ */

static void
bw_emit(struct batch_worker *w, enum batch_ev_kind kind,
    const struct batch_rrow *rr, enum pv_err e, const char *serial,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
bw_emit(struct batch_worker *w, enum batch_ev_kind kind,
    const struct batch_rrow *rr, enum pv_err e, const char *serial,
    const char *fmt, ...)
{
	struct batch_event ev;
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.reader = w->reader;
	ev.rd_state = w->state;
	ev.err = e;
	ev.serial = serial;
	ev.text = text;
	if (rr != NULL) {
		ev.row = rr->row;
		ev.person_id = rr->id->person_id;
		ev.name = rr->name;
		/* A row a worker has in hand is running, job or not. */
		ev.row_state = rr->busy && rr->state == STORE_BROW_PENDING ?
		    STORE_BROW_RUNNING : rr->state;
		ev.job_id = rr->job_id;
	}
	batch_emit(w->b, &ev);
}

static void
bw_state(struct batch_worker *w, enum batch_rd_state s, const char *text)
{
	struct batch_event ev;

	pthread_mutex_lock(&w->b->mu);
	w->state = s;
	pthread_mutex_unlock(&w->b->mu);
	memset(&ev, 0, sizeof(ev));
	ev.kind = BATCH_EV_READER;
	ev.reader = w->reader;
	ev.rd_state = s;
	ev.text = text;
	batch_emit(w->b, &ev);
}

/* The workflow's events, as steps on this reader for this row. */
static void
bw_step(void *ctx, const struct wf_event *wev)
{
	struct bw_run *run = ctx;
	struct batch_event ev;

	if (strcmp(wev->step, "register") == 0 &&
	    wev->state == WF_STEP_FAILED)
		run->at_register = true;
	memset(&ev, 0, sizeof(ev));
	ev.kind = BATCH_EV_STEP;
	ev.reader = run->w->reader;
	ev.rd_state = BATCH_RD_WORKING;
	ev.row = run->rr->row;
	ev.person_id = run->rr->id->person_id;
	ev.name = run->rr->name;
	ev.row_state = STORE_BROW_RUNNING;
	ev.job_id = wev->job_id;
	ev.serial = run->serial;
	ev.step = wev;
	ev.text = wev->text;
	batch_emit(run->w->b, &ev);
}

/* The new job, linked to its row in the transaction that creates it. */
static enum pv_err
bw_created(void *ctx, struct store *st, const struct store_job *job,
    struct pv_why *why)
{
	struct bw_run *run = ctx;

	return store_batch_row_link(st, run->w->b->id, run->rr->row, job->id,
	    why);
}

/* ---- bookkeeping ------------------------------------------------------------------- */

/* Counts a failure toward --max-failures (b->mu held). */
static void
bw_failure_locked(struct batch *b, enum pv_err e)
{
	b->prog.failures++;
	if (b->sum->first_err == PV_OK)
		b->sum->first_err = e;
}

static void
bw_check_failures(struct batch_worker *w)
{
	struct batch *b = w->b;
	bool stop = false;
	unsigned n;

	pthread_mutex_lock(&b->mu);
	n = b->prog.failures;
	if (b->o->max_failures > 0 && n >= b->o->max_failures &&
	    !b->stop_new) {
		b->stop_new = true;
		stop = true;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	if (stop)
		bw_emit(w, BATCH_EV_NOTICE, NULL, PV_E_STATE, "", "%u failures "
		    "(--max-failures %u): no more cards are taken; the cards in "
		    "progress finish", n, b->o->max_failures);
}

/* Sets a row's state in memory (and releases it). */
static void
bw_row_mem(struct batch *b, struct batch_rrow *rr, enum store_brow_state s,
    int64_t job_id, const char *serial)
{
	pthread_mutex_lock(&b->mu);
	rr->state = s;
	if (job_id >= 0)
		rr->job_id = job_id;
	if (serial != NULL && serial[0] != '\0')
		(void)snprintf(rr->serial, sizeof(rr->serial), "%s", serial);
	rr->busy = false;
	pthread_mutex_unlock(&b->mu);
}

/* The next pending row, reserved; NULL when none is left. */
static struct batch_rrow *
bw_next_row(struct batch *b)
{
	struct batch_rrow *rr = NULL;
	size_t i;

	pthread_mutex_lock(&b->mu);
	for (i = 0; i < b->n_rows && !b->stop_new; i++)
		if (b->rows[i].state == STORE_BROW_PENDING && !b->rows[i].busy) {
			rr = &b->rows[i];
			rr->busy = true;
			break;
		}
	pthread_mutex_unlock(&b->mu);
	return rr;
}

/* Reserves row |row| for a resumed job; NULL when another worker has it
 * or it waits for no card. */
static struct batch_rrow *
bw_take_row(struct batch *b, unsigned row)
{
	struct batch_rrow *rr;

	pthread_mutex_lock(&b->mu);
	rr = batch_rrow_find(b, row);
	if (rr != NULL && (rr->busy || rr->state == STORE_BROW_DONE))
		rr = NULL;
	if (rr != NULL)
		rr->busy = true;
	pthread_mutex_unlock(&b->mu);
	return rr;
}

/* ---- which row the card serves -------------------------------------------------------- */

enum bw_match {
	BW_NEW,		/* a card for the next pending row */
	BW_RESUME,	/* the card of a row whose job was interrupted */
	BW_DONE,	/* a card this batch issued */
	BW_FOREIGN,	/* a card another job (not this batch's) is issuing */
	BW_BUSY		/* its row is being worked on in another reader */
};

/* The RUNNING issue job of device |dev|: its id, or 0. */
static enum pv_err
bw_device_job(struct store *st, int64_t dev, int64_t *job, struct pv_why *why)
{
	struct store_job *jobs = NULL;
	size_t n = 0, i;
	enum pv_err r;

	*job = 0;
	if ((r = store_job_list_running(st, &jobs, &n, why)) != PV_OK)
		return r;
	for (i = 0; i < n; i++)
		if (jobs[i].device_id == dev &&
		    strcmp(jobs[i].kind, WF_ISSUE_JOB_KIND) == 0)
			*job = jobs[i].id;
	free(jobs);
	return PV_OK;
}

/*
 * A card that says nothing of itself (no serial, no CHUID): the row whose
 * job has written nothing card-specific yet (no serial recorded, CHUID not
 * written), if one waits.
 */
static struct batch_rrow *
bw_anonymous_row(struct batch_worker *w)
{
	struct batch *b = w->b;
	struct store_device d;
	struct job j;
	int64_t job;
	unsigned row;
	size_t i;
	bool ok;

	for (i = 0; i < b->n_rows; i++) {
		pthread_mutex_lock(&b->mu);
		ok = b->rows[i].state == STORE_BROW_RUNNING && !b->rows[i].busy;
		job = b->rows[i].job_id;
		row = b->rows[i].row;
		pthread_mutex_unlock(&b->mu);
		if (!ok || job == 0)
			continue;
		memset(&j, 0, sizeof(j));
		ok = job_load(w->st, job, &j, NULL) == PV_OK &&
		    j.row.device_id != 0 && !job_step_is_done(&j, "chuid") &&
		    store_device_get(w->st, j.row.device_id, &d, NULL) ==
		    PV_OK && d.serial[0] == '\0';
		job_cleanup(&j);
		if (ok)
			return bw_take_row(b, row);
	}
	return NULL;
}

static enum pv_err
bw_match(struct batch_worker *w, const struct pcsc_identity *id,
    enum bw_match *kind, struct batch_rrow **out, int64_t *job,
    struct pv_why *why)
{
	struct batch *b = w->b;
	struct store_device d;
	struct store_batch_row brow;
	struct store_person person;
	struct batch_rrow *rr;
	char serial[16];
	bool found = false;
	size_t i;
	enum pv_err r = PV_E_NO_RECORD;

	*kind = BW_NEW;
	*out = NULL;
	*job = 0;
	if (id->has_serial) {
		(void)snprintf(serial, sizeof(serial), "%u", id->serial);
		r = store_device_find_serial(w->st, serial, &d, why);
	}
	if (r == PV_E_NO_RECORD && id->has_guid) {
		pv_why_clear(why);
		r = store_device_find_guid(w->st, id->guid, &d, why);
		if (r == PV_OK && d.status == STORE_DEV_TERMINATED)
			r = PV_E_NO_RECORD;
	}
	if (r == PV_OK)
		found = true;
	else if (r != PV_E_NO_RECORD)
		return r;
	pv_why_clear(why);
	if (!found) {
		if (!id->has_serial && !id->has_guid &&
		    (*out = bw_anonymous_row(w)) != NULL)
			*kind = BW_RESUME;
		return PV_OK;
	}
	if ((r = bw_device_job(w->st, d.id, job, why)) != PV_OK)
		return r;
	if (*job != 0) {
		r = store_batch_row_by_job(w->st, *job, &brow, why);
		if (r == PV_E_NO_RECORD || (r == PV_OK && brow.batch_id !=
		    b->id)) {
			pv_why_clear(why);
			*kind = BW_FOREIGN;
			return PV_OK;
		}
		if (r != PV_OK)
			return r;
		if ((rr = bw_take_row(b, brow.row)) == NULL) {
			*kind = BW_BUSY;
			return PV_OK;
		}
		pthread_mutex_lock(&b->mu);
		rr->job_id = *job;
		rr->state = STORE_BROW_RUNNING;
		pthread_mutex_unlock(&b->mu);
		*kind = BW_RESUME;
		*out = rr;
		return PV_OK;
	}
	/* Issued: by this batch? */
	if (d.status == STORE_DEV_ACTIVE &&
	    store_person_get(w->st, d.person_id, &person, NULL) == PV_OK) {
		pthread_mutex_lock(&b->mu);
		for (i = 0; i < b->n_rows; i++)
			if (b->rows[i].state == STORE_BROW_DONE &&
			    strcmp(b->rows[i].id->person_id,
			    person.ident.person_id) == 0) {
				*out = &b->rows[i];
				*kind = BW_DONE;
			}
		pthread_mutex_unlock(&b->mu);
	}
	return PV_OK;
}

/* ---- one card ------------------------------------------------------------------------ */

/* The PIN of |rr| for this run into |pin|: PV_OK, or why it cannot be
 * (the row then fails). */
static enum pv_err
bw_pin(struct batch_worker *w, struct batch_rrow *rr, const char *serial,
    char pin[9], struct pv_why *why)
{
	struct batch *b = w->b;
	struct job j;
	bool found = false, set;
	enum pv_err r;

	memset(pin, 0, 9);
	if (b->o->pin_mode == BATCH_PIN_GIVEN) {
		if (b->o->pin_len == 0 || b->o->pin_len > 8)
			return pv_why_set(why, PV_E_INPUT, "no PIN given");
		memcpy(pin, b->o->pin, b->o->pin_len);
		return PV_OK;
	}
	pthread_mutex_lock(&b->pin_mu);
	if (rr->job_id != 0) {
		if ((r = batch_mailer_lookup(&b->mailer, rr->row, pin, &found,
		    why)) != PV_OK || found)
			goto out;
		memset(&j, 0, sizeof(j));
		if ((r = job_load(w->st, rr->job_id, &j, why)) != PV_OK)
			goto out;
		set = job_step_is_done(&j, "set-pin");
		job_cleanup(&j);
		if (set) {
			r = pv_why_set(why, PV_E_STATE, "job %lld set a PIN that "
			    "the PIN mailer %.80s no longer has (row %u): the "
			    "card's PIN is unknown; cancel the job ('pivstation "
			    "job cancel %lld') and issue the row again on a new "
			    "card", (long long)rr->job_id, b->mailer.path,
			    rr->row, (long long)rr->job_id);
			goto out;
		}
	}
	if ((r = batch_pin_random(b->cfg, pin, why)) != PV_OK)
		goto out;
	r = batch_mailer_append(&b->mailer, rr->row, rr->id->person_id,
	    rr->name, serial, pin, why);
out:
	pthread_mutex_unlock(&b->pin_mu);
	if (r != PV_OK)
		OPENSSL_cleanse(pin, 9);
	return r;
}

/* Cancels a row's job on a card that failed twice; the row is pending
 * again. */
static enum pv_err
bw_card_failed(struct batch_worker *w, struct batch_rrow *rr, int64_t job,
    const char *cause, struct pv_why *why)
{
	struct job_cancel_result res;
	char reason[JOB_REASON_MAX + 1];
	enum pv_err r;
	size_t i;

	(void)snprintf(reason, sizeof(reason), "batch %lld row %u: the card "
	    "failed: %.140s", (long long)w->b->id, rr->row, cause);
	/* A reason takes no control characters. */
	for (i = 0; reason[i] != '\0'; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			reason[i] = ' ';
	if ((r = job_cancel(w->st, job, reason, &res, why)) != PV_OK &&
	    r != PV_E_STATE)
		return r;
	pv_why_clear(why);
	return store_batch_row_set(w->st, w->b->id, rr->row,
	    STORE_BROW_PENDING, 0, reason, why);
}

/* What is left to do with the card after the rows it tried. */
enum bw_after {
	BW_TAKE_OUT,	/* finished with it */
	BW_AGAIN	/* it is still in: try it again shortly */
};

/*
 * Issues rows onto the card: |rr| (a resumed row) or pending rows, as the
 * outcomes allow.  Returns what the reader should show.
 */
static enum bw_after
bw_issue(struct batch_worker *w, struct pcsc_session *s, struct card *card,
    struct batch_rrow *rr, const char *serial)
{
	struct batch *b = w->b;
	struct wf_issue_params p;
	struct wf_issue_result res;
	struct wf_hooks hooks;
	struct pcsc_session_stats stats;
	struct bw_run run;
	struct pv_why why;
	enum batch_action act;
	enum bw_after after = BW_TAKE_OUT;
	char pin[9];
	unsigned tries;
	bool retried = false;	/* this card, still in, is tried again */
	enum pv_err r;

	memset(pin, 0, sizeof(pin));
	for (tries = 0; tries < BW_ROWS_PER_CARD + 1; tries++) {
		if (rr == NULL && (rr = bw_next_row(b)) == NULL) {
			pthread_mutex_lock(&b->mu);
			act = b->stop_new ? BATCH_ACT_WAIT : BATCH_ACT_DONE;
			pthread_mutex_unlock(&b->mu);
			bw_emit(w, BATCH_EV_CARD, NULL, PV_OK, serial, "%s",
			    act == BATCH_ACT_WAIT ? "the batch takes no more "
			    "cards: this one was not used" : "no row is left "
			    "for this card: it was not used");
			break;
		}
		pv_why_clear(&why);
		if ((r = bw_pin(w, rr, serial, pin, &why)) != PV_OK) {
			act = pv_err_class(r) == PV_CLASS_INTERNAL ?
			    BATCH_ACT_STOP : BATCH_ACT_ROW_FAILED;
			memset(&res, 0, sizeof(res));
			res.job_id = rr->job_id;
			goto act;
		}
		if (rr->job_id != 0)
			bw_emit(w, BATCH_EV_ROW, rr, PV_OK, serial, "resuming "
			    "job %lld on the card in %s",
			    (long long)rr->job_id, w->reader);
		else
			bw_emit(w, BATCH_EV_ROW, rr, PV_OK, serial, "started on "
			    "the card in %s", w->reader);
		memset(&run, 0, sizeof(run));
		run.w = w;
		run.rr = rr;
		run.serial = serial;
		memset(&hooks, 0, sizeof(hooks));
		hooks.event = bw_step;
		hooks.ctx = &run;
		hooks.cancel = &b->cancel;
		hooks.created = bw_created;
		memset(&p, 0, sizeof(p));
		p.cfg = b->cfg;
		p.ident = rr->id;
		p.ca = station_ca(b->stn);
		p.master = station_master(b->stn);
		p.st = w->st;
		p.pin = (const uint8_t *)pin;
		p.pin_len = strlen(pin);
		p.reissue = b->o->reissue;
		p.update_person = b->o->update_people;
		p.hooks = &hooks;
		p.keygen = batch_keypool_take;
		p.keygen_ctx = &b->kp;
		r = wf_issue_run(&p, card, &res, &why);
		OPENSSL_cleanse(pin, sizeof(pin));
		act = batch_decide(r, res.job_id != 0, run.at_register,
		    rr->card_tries);
		/* Tried again without leaving the reader (a removal ends the
		 * session first), the card no longer answers as the one the
		 * job is bound to: it is the card that is wrong, not the
		 * reader's content, and waiting for "its" card would wait
		 * for a card that is already there. */
		if (act == BATCH_ACT_WAIT && r == PV_E_DIFFERENT_CARD &&
		    retried) {
			act = BATCH_ACT_CARD_FAILED;
			pv_why_prefix(&why, "tried again, the card no longer "
			    "answers as itself");
		}
act:
		if (r != PV_OK && why.msg[0] == '\0')
			(void)pv_why_set(&why, r, "%s", pv_strerror(r));
		switch (act) {
		case BATCH_ACT_DONE:
			pv_why_clear(&why);
			if (store_batch_row_set(w->st, b->id, rr->row,
			    STORE_BROW_DONE, res.job_id, NULL, &why) != PV_OK)
				/* The job is done: the next run's reconcile
				 * marks the row. */
				bw_emit(w, BATCH_EV_NOTICE, rr, PV_E_DB, serial,
				    "row %u: %s", rr->row, why.msg);
			bw_row_mem(b, rr, STORE_BROW_DONE, res.job_id,
			    res.serial);
			memset(&stats, 0, sizeof(stats));
			pcsc_session_stats(s, &stats);
			{
				struct batch_event ev;
				char text[256];

				(void)snprintf(text, sizeof(text), "%s: device "
				    "%lld, FASC-N %s", res.already_issued ?
				    "already issued" : res.resumed ? "issued "
				    "(job resumed)" : "issued",
				    (long long)res.device_id, res.fascn);
				memset(&ev, 0, sizeof(ev));
				ev.kind = BATCH_EV_ROW;
				ev.reader = w->reader;
				ev.rd_state = BATCH_RD_TAKE_OUT;
				ev.row = rr->row;
				ev.person_id = rr->id->person_id;
				ev.name = rr->name;
				ev.row_state = STORE_BROW_DONE;
				ev.serial = res.serial;
				ev.job_id = res.job_id;
				ev.apdus = stats.tr.n_apdus;
				ev.text = text;
				batch_emit(b, &ev);
			}
			goto out;
		case BATCH_ACT_WAIT:
			if (res.job_id != 0) {
				bw_row_mem(b, rr, STORE_BROW_RUNNING,
				    res.job_id, res.serial);
				bw_emit(w, BATCH_EV_ROW, rr, r, serial, "waits "
				    "for its card%s%s (job %lld): %s",
				    rr->serial[0] ? ", serial " : "",
				    rr->serial, (long long)res.job_id, why.msg);
			} else {
				bw_row_mem(b, rr, STORE_BROW_PENDING, 0, NULL);
				bw_emit(w, BATCH_EV_ROW, rr, r, serial, "not "
				    "started: %s", why.msg);
			}
			/* A card still in after a reset or a busy moment is
			 * looked at again; not one that is another card. */
			after = pv_err_class(r) == PV_CLASS_CANCEL ||
			    r == PV_E_DIFFERENT_CARD ? BW_TAKE_OUT : BW_AGAIN;
			goto out;
		case BATCH_ACT_SKIP_CARD:
			bw_row_mem(b, rr, STORE_BROW_PENDING, 0, NULL);
			pthread_mutex_lock(&b->mu);
			b->prog.cards_skipped++;
			pthread_mutex_unlock(&b->mu);
			bw_emit(w, BATCH_EV_CARD, NULL, r, serial, "skipped: %s",
			    why.msg);
			goto out;
		case BATCH_ACT_NEXT_ROW:
		case BATCH_ACT_ROW_FAILED: {
			struct pv_why w2 = { "" };

			if (store_batch_row_set(w->st, b->id, rr->row,
			    STORE_BROW_FAILED, act == BATCH_ACT_NEXT_ROW ? 0 :
			    -1, why.msg, &w2) != PV_OK)
				bw_emit(w, BATCH_EV_NOTICE, rr, PV_E_DB, serial,
				    "row %u: %s", rr->row, w2.msg);
			bw_row_mem(b, rr, STORE_BROW_FAILED,
			    act == BATCH_ACT_NEXT_ROW ? 0 : res.job_id, NULL);
			pthread_mutex_lock(&b->mu);
			bw_failure_locked(b, r);
			pthread_mutex_unlock(&b->mu);
			bw_emit(w, BATCH_EV_ROW, rr, r, serial, "failed: %s",
			    why.msg);
			bw_check_failures(w);
			if (act == BATCH_ACT_ROW_FAILED)
				goto out;
			rr = NULL;
			continue;
		}
		case BATCH_ACT_RETRY:
			pthread_mutex_lock(&b->mu);
			rr->card_tries++;
			rr->job_id = res.job_id;	/* resumed, same PIN */
			rr->state = STORE_BROW_RUNNING;
			pthread_mutex_unlock(&b->mu);
			retried = true;
			bw_emit(w, BATCH_EV_ROW, rr, r, serial, "the card "
			    "refused (%s): trying it once more", why.msg);
			continue;
		case BATCH_ACT_CARD_FAILED: {
			struct pv_why w2 = { "" };

			if (bw_card_failed(w, rr, res.job_id, why.msg, &w2) !=
			    PV_OK) {
				bw_emit(w, BATCH_EV_NOTICE, rr, PV_E_DB, serial,
				    "row %u: %s", rr->row, w2.msg);
				bw_row_mem(b, rr, STORE_BROW_RUNNING,
				    res.job_id, NULL);
			} else {
				rr->card_tries = 0;
				bw_row_mem(b, rr, STORE_BROW_PENDING, 0, NULL);
			}
			pthread_mutex_lock(&b->mu);
			b->prog.cards_skipped++;
			bw_failure_locked(b, r);
			pthread_mutex_unlock(&b->mu);
			bw_emit(w, BATCH_EV_CARD, rr, r, serial, "defective: %s; "
			    "job %lld cancelled, row %u goes to another card: "
			    "set this card aside", why.msg,
			    (long long)res.job_id, rr->row);
			bw_check_failures(w);
			goto out;
		}
		case BATCH_ACT_STOP:
			bw_row_mem(b, rr, res.job_id != 0 ? STORE_BROW_RUNNING :
			    STORE_BROW_PENDING, res.job_id, NULL);
			pthread_mutex_lock(&b->mu);
			if (b->fatal == PV_OK) {
				b->fatal = r;
				(void)snprintf(b->fatal_why,
				    sizeof(b->fatal_why), "row %u: %.230s",
				    rr->row, why.msg);
			}
			b->stop_new = true;
			bw_failure_locked(b, r);
			pthread_cond_broadcast(&b->cv);
			pthread_mutex_unlock(&b->mu);
			bw_emit(w, BATCH_EV_NOTICE, rr, r, serial, "the batch "
			    "stops: %s", why.msg);
			goto out;
		}
	}
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	return after;
}

/*
 * Works on the card in the reader.  Returns BW_AGAIN when it could not be
 * opened or went away while it still shows as present (another program
 * had it, a reset): the caller tries again shortly.
 */
static enum bw_after
bw_card(struct batch_worker *w)
{
	struct batch *b = w->b;
	struct pcsc_session_opts so;
	struct pcsc_session *s = NULL;
	struct card card;
	struct batch_rrow *rr = NULL;
	struct pv_why why = { "" };
	enum bw_match kind;
	enum bw_after after = BW_TAKE_OUT;
	char serial[16] = "";
	int64_t job = 0;
	enum pv_err r;

	memset(&so, 0, sizeof(so));
	so.reader = w->reader;
	so.share = PCSC_SHARE_EXCLUSIVE;
	so.identify = true;
	if ((r = pcsc_session_open(&so, &s, &why)) != PV_OK) {
		if (pv_err_card_gone(r)) {
			if (r == PV_E_SHARING)
				bw_emit(w, BATCH_EV_CARD, NULL, r, "", "another "
				    "program is using the card: waiting");
			return BW_AGAIN;
		}
		bw_emit(w, BATCH_EV_CARD, NULL, r, "", "cannot use the card: %s",
		    why.msg[0] ? why.msg : pv_strerror(r));
		return BW_TAKE_OUT;
	}
	if (s->id.has_serial)
		(void)snprintf(serial, sizeof(serial), "%u", s->id.serial);
	if (!s->piv_selected) {
		pthread_mutex_lock(&b->mu);
		b->prog.cards_skipped++;
		pthread_mutex_unlock(&b->mu);
		bw_emit(w, BATCH_EV_CARD, NULL, s->select_err, serial, "skipped: "
		    "the card has no PIV application");
		goto out;
	}
	card_from_session(&card, s);
	if ((r = bw_match(w, &s->id, &kind, &rr, &job, &why)) != PV_OK) {
		bw_emit(w, BATCH_EV_CARD, NULL, r, serial, "cannot tell which "
		    "row the card serves: %s", why.msg);
		after = pv_err_card_gone(r) ? BW_AGAIN : BW_TAKE_OUT;
		goto out;
	}
	switch (kind) {
	case BW_DONE:
		bw_emit(w, BATCH_EV_CARD, rr, PV_OK, serial, "already issued to "
		    "row %u (%s): take it out", rr->row, rr->name);
		goto out;
	case BW_FOREIGN:
		pthread_mutex_lock(&b->mu);
		b->prog.cards_skipped++;
		pthread_mutex_unlock(&b->mu);
		bw_emit(w, BATCH_EV_CARD, NULL, PV_E_EXISTS, serial, "skipped: "
		    "job %lld, not this batch's, is issuing this card: finish "
		    "it with 'pivstation issue' or cancel it ('pivstation job "
		    "cancel %lld')", (long long)job, (long long)job);
		goto out;
	case BW_BUSY:
		bw_emit(w, BATCH_EV_CARD, NULL, PV_E_EXISTS, serial, "skipped: "
		    "its row is being issued in another reader");
		goto out;
	case BW_RESUME:
	case BW_NEW:
		break;
	}
	after = bw_issue(w, s, &card, rr, serial);
out:
	pcsc_session_close(s);
	return after;
}

/* ---- the thread ------------------------------------------------------------------------ */

void *
batch_worker_main(void *arg)
{
	struct batch_worker *w = arg;
	struct batch *b = w->b;
	struct pv_why why = { "" };
	struct timespec until;
	enum bw_after after;
	enum pv_err r;
	unsigned g, again = 0;
	bool claimed_msg = false;

	if ((r = station_store_open(b->stn, &w->st, &why)) != PV_OK) {
		pthread_mutex_lock(&b->mu);
		if (b->fatal == PV_OK) {
			b->fatal = r;
			(void)snprintf(b->fatal_why, sizeof(b->fatal_why),
			    "%.60s: %.180s", w->reader, why.msg);
		}
		b->stop_new = true;
		w->exited = true;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		return NULL;
	}
	/* The reader is claimed as it is taken in, so that other programs
	 * see it busy; if another holds it, again at each card. */
	if (claim_take(station_home(b->stn), "reader", w->reader, b->who,
	    &w->claim, &why) != PV_OK) {
		bw_state(w, BATCH_RD_CLAIMED, why.msg);
		claimed_msg = true;
	} else {
		bw_state(w, BATCH_RD_WAITING, "taken into the batch");
	}
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!w->gone && !b->quit && (b->stop_new || !w->present ||
		    w->gen == w->done_gen))
			pthread_cond_wait(&b->cv, &b->mu);
		if (w->gone || b->quit)
			break;
		g = w->gen;
		w->busy = true;
		pthread_mutex_unlock(&b->mu);

		after = BW_TAKE_OUT;
		if (w->claim == NULL) {
			pv_why_clear(&why);
			r = claim_take(station_home(b->stn), "reader", w->reader,
			    b->who, &w->claim, &why);
			if (r != PV_OK) {
				if (!claimed_msg)
					bw_state(w, BATCH_RD_CLAIMED, why.msg);
				claimed_msg = true;
				pthread_mutex_lock(&b->mu);
				w->busy = false;
				w->done_gen = g;
				continue;
			}
			claimed_msg = false;
		}
		bw_state(w, BATCH_RD_WORKING, "card inserted");
		after = bw_card(w);
		pthread_mutex_lock(&b->mu);
		w->busy = false;
		if (after == BW_AGAIN && w->present && w->gen == g &&
		    ++again < BW_RETRIES && !b->stop_new) {
			/* Still in: looked at again shortly. */
			w->state = BATCH_RD_WAITING;
			(void)clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 500000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			(void)pthread_cond_timedwait(&b->cv, &b->mu, &until);
			continue;
		}
		again = 0;
		w->done_gen = g;
		{
			enum batch_rd_state st = w->gone ? BATCH_RD_GONE :
			    w->present ? BATCH_RD_TAKE_OUT : BATCH_RD_WAITING;

			pthread_mutex_unlock(&b->mu);
			if (st != BATCH_RD_GONE)
				bw_state(w, st, st == BATCH_RD_TAKE_OUT ?
				    "take the card out" : "insert a card");
		}
		pthread_mutex_lock(&b->mu);
	}
	w->exited = true;
	pthread_mutex_unlock(&b->mu);
	claim_release(w->claim);
	w->claim = NULL;
	store_close(w->st);
	w->st = NULL;
	return NULL;
}
