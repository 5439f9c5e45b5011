/*
 * work.c: the console's worker thread (work.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "issuance/ca.h"
#include "issuance/card_open.h"
#include "issuance/recover.h"
#include "issuance/station.h"
#include "issuance/val_station.h"
#include "tui/work.h"

#define TUI_WORK_QUEUE	16

struct tui_work {
	struct station *stn;
	struct tui_bus *bus;
	struct watch *watch;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tui_req q[TUI_WORK_QUEUE];
	size_t head, n;
	bool stop, done;
	atomic_bool cancel;
	struct val_station vs;		/* opened on the first sign-in */
	bool has_vs;
	char home[HOME_PATH_MAX];	/* the station's, for stations opened
					 * as an operator */
	struct pass_chain pass;		/* the console's chain (copied) */
};

enum pv_err
tui_work_prompt(void *ctx, enum pass_kind kind, const char *what,
    bool confirm, struct pkix_pass *out, struct pv_why *why)
{
	enum pv_err r;

	(void)kind;
	r = tui_bus_ask(ctx, what, confirm, out);
	if (r != PV_OK)
		return pv_why_set(why, PV_E_CANCELLED, "%s: not given", what);
	return PV_OK;
}

/* ---- workflow hooks -------------------------------------------------------------- */

static void
tui_work_event(void *ctx, const struct wf_event *ev)
{
	struct tui_work *w = ctx;
	struct tui_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = TUI_MSG_EVENT;
	(void)snprintf(m.ev.kind, sizeof(m.ev.kind), "%s", ev->kind);
	m.ev.job_id = ev->job_id;
	(void)snprintf(m.ev.step, sizeof(m.ev.step), "%s", ev->step);
	m.ev.index = ev->index;
	m.ev.count = ev->count;
	m.ev.state = ev->state;
	(void)snprintf(m.ev.text, sizeof(m.ev.text), "%s", ev->text);
	tui_bus_post(w->bus, &m);
}

static void
tui_work_pad(struct tui_work *w, const char *text)
{
	struct tui_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = TUI_MSG_PAD;
	(void)snprintf(m.text, sizeof(m.text), "%s", text);
	tui_bus_post(w->bus, &m);
}

static enum pv_err
tui_work_ask(void *ctx, const struct wf_ask *q, struct pkix_pass *answer,
    struct pv_why *why)
{
	struct tui_work *w = ctx;

	if (q->kind == WF_ASK_PAD) {
		tui_work_pad(w, q->text);
		return PV_OK;
	}
	if (q->kind == WF_ASK_CONFIRM)
		return pv_why_set(why, PV_E_INPUT, "%s: nobody to ask",
		    q->text);
	return tui_work_prompt(w->bus, PASS_KEY, q->text,
	    q->kind == WF_ASK_NEW_PIN, answer, why);
}

/* ---- one request ----------------------------------------------------------------- */

/* What a request does, as the roles see it; false: no check (a note). */
static bool
tui_work_action(enum tui_req_kind k, enum op_action *out)
{
	switch (k) {
	case TUI_REQ_ISSUE: *out = OP_ISSUE; return true;
	case TUI_REQ_UNBLOCK: *out = OP_UNBLOCK; return true;
	case TUI_REQ_SUSPEND:
	case TUI_REQ_RESUME:
	case TUI_REQ_TERMINATE: *out = OP_LIFECYCLE; return true;
	case TUI_REQ_RECOVER: *out = OP_RECOVER; return true;
	case TUI_REQ_VERIFY: *out = OP_AUDIT; return true;
	default: return false;
	}
}

/*
 * The operator's own store connection.  The registry is read again for
 * each request: an operator disabled, or given another role, since they
 * signed in acts no more (as station_permit decides for the command
 * line).
 */
static enum pv_err
tui_work_store(struct tui_work *w, const struct tui_req *q,
    struct store **st, struct pv_why *why)
{
	struct store_operator op;
	enum op_action act;
	enum pv_err r;

	if (q->actor[0] == '\0')
		return station_store_open(w->stn, st, why);
	if ((r = station_store_open_as(w->stn, q->actor, st, why)) != PV_OK)
		return r;
	if (!tui_work_action(q->kind, &act))
		return PV_OK;
	r = store_operator_get(*st, q->actor, &op, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_POLICY, "operator '%s' is no longer "
		    "registered", q->actor);
	} else if (r == PV_OK && op.disabled) {
		r = pv_why_set(why, PV_E_POLICY, "operator '%s' was disabled",
		    q->actor);
	} else if (r == PV_OK && !op_permitted(op.role, act)) {
		r = pv_why_set(why, PV_E_POLICY, "operator '%s' (%s) may not "
		    "%s: only %s", q->actor, store_role_name(op.role),
		    op_action_name(act), op_roles_for(act));
	}
	if (r != PV_OK) {
		store_close(*st);
		*st = NULL;
	}
	return r;
}

/* Closes |st|; a head that could not be written fails a good result. */
static void
tui_work_store_done(struct store *st, struct tui_result *res)
{
	struct pv_why why = { "" };

	if (st != NULL && res->r == PV_OK &&
	    (res->r = store_audit_files_status(st, &why)) != PV_OK)
		(void)snprintf(res->why, sizeof(res->why), "%s", why.msg);
	store_close(st);
}

static enum pv_err
tui_work_signin(struct tui_work *w, const char *reader, bool pad,
    const struct pkix_pass *pin, const char *purpose,
    struct operator_session *op, struct val_report *rep, struct pv_why *why)
{
	struct operator_signin_params p;
	struct card_conn *cc = NULL;
	enum pv_err r;

	if (!w->has_vs) {
		if ((r = val_station_open(w->stn, NULL, &w->vs,
		    why)) != PV_OK)
			return r;
		w->has_vs = true;
	}
	memset(&p, 0, sizeof(p));
	p.stn = w->stn;
	p.vs = &w->vs;
	p.pin = (const uint8_t *)pin->v;
	p.pin_len = pin->len;
	p.pin_pad = pad;
	p.purpose = purpose;
	watch_set_busy(w->watch, reader, true);
	if ((r = card_conn_open(reader, NULL, &cc, why)) == PV_OK) {
		if (pad)
			tui_work_pad(w, "Type your PIN on the reader's PIN pad");
		r = operator_signin(&p, card_conn_card(cc), op, rep, why);
	}
	card_conn_close(cc);
	watch_set_busy(w->watch, reader, false);
	return r;
}

static void
tui_work_issue(struct tui_work *w, const struct tui_req *q,
    struct tui_result *res)
{
	struct pv_why why = { "" };
	struct wf_issue_params p;
	struct wf_hooks hooks;
	struct card_conn *cc = NULL;
	struct store *st = NULL;

	res->r = station_require(w->stn, STATION_NEED_STORE |
	    STATION_NEED_CA_ISSUING | STATION_NEED_CA_SIGNER, &why);
	if (res->r == PV_OK)
		res->r = tui_work_store(w, q, &st, &why);
	if (res->r != PV_OK)
		goto out;
	memset(&hooks, 0, sizeof(hooks));
	hooks.event = tui_work_event;
	hooks.ask = tui_work_ask;
	hooks.ctx = w;
	hooks.cancel = &w->cancel;
	memset(&p, 0, sizeof(p));
	p.cfg = station_config(w->stn);
	p.ident = &q->ident;
	p.ca = station_ca(w->stn);
	p.master = station_master(w->stn);
	p.st = st;
	p.pin = (const uint8_t *)q->pin.v;
	p.pin_len = q->pin.len;
	p.pin_pad = q->pin_pad;
	p.reissue = q->reissue;
	p.update_person = q->update_person;
	p.hooks = &hooks;
	watch_set_busy(w->watch, q->reader, true);
	if ((res->r = card_conn_open(q->reader, NULL, &cc, &why)) == PV_OK)
		res->r = wf_issue_run(&p, card_conn_card(cc), &res->issue,
		    &why);
	card_conn_close(cc);
	watch_set_busy(w->watch, q->reader, false);
out:
	(void)snprintf(res->why, sizeof(res->why), "%s", why.msg[0] ?
	    why.msg : pv_strerror(res->r));
	tui_work_store_done(st, res);
}

static void
tui_work_unblock(struct tui_work *w, const struct tui_req *q,
    struct tui_result *res)
{
	struct pv_why why = { "" };
	struct wf_unblock_params p;
	struct wf_hooks hooks;
	struct card_conn *cc = NULL;
	struct store *st = NULL;
	EVP_PKEY *kra = NULL;

	res->r = station_require(w->stn, STATION_NEED_STORE | STATION_NEED_CA,
	    &why);
	if (res->r == PV_OK)
		res->r = station_kra_key(w->stn, &kra, &why);
	if (res->r == PV_OK)
		res->r = tui_work_store(w, q, &st, &why);
	if (res->r != PV_OK)
		goto out;
	memset(&hooks, 0, sizeof(hooks));
	hooks.event = tui_work_event;
	hooks.ask = tui_work_ask;
	hooks.ctx = w;
	hooks.cancel = &w->cancel;
	memset(&p, 0, sizeof(p));
	p.cfg = station_config(w->stn);
	p.st = st;
	p.master = station_master(w->stn);
	p.kra_cert = ca_get0_kra(station_ca(w->stn));
	p.kra_key = kra;
	p.pin = (const uint8_t *)q->pin.v;
	p.pin_len = q->pin.len;
	p.pin_pad = q->pin_pad;
	p.hooks = &hooks;
	watch_set_busy(w->watch, q->reader, true);
	if ((res->r = card_conn_open(q->reader, NULL, &cc, &why)) == PV_OK)
		res->r = wf_unblock_run(&p, card_conn_card(cc), &res->unblock,
		    &why);
	card_conn_close(cc);
	watch_set_busy(w->watch, q->reader, false);
out:
	EVP_PKEY_free(kra);
	(void)snprintf(res->why, sizeof(res->why), "%s", why.msg[0] ?
	    why.msg : pv_strerror(res->r));
	tui_work_store_done(st, res);
}

/*
 * The key recovery, recover.h's one audited path, under the operator
 * signed in: a station of its own opened as that operator (its store
 * connection, the permission check and the audit rows are the
 * operator's, in this thread), closed at the end.
 */
static void
tui_work_recover(struct tui_work *w, const struct tui_req *q,
    struct tui_result *res)
{
	struct pv_why why = { "" };
	struct operator_session second;
	struct station_opts so;
	struct station *ost = NULL;
	struct recover_req rq;
	struct recover_result rr;
	uint8_t *der = NULL;
	size_t len = 0, off = 0;
	ssize_t k;
	char detail[200], object[48], name[96], done[400] = "";
	int fd = -1;
	enum pv_err r;

	memset(&second, 0, sizeof(second));
	memset(&rr, 0, sizeof(rr));
	/* Dual control: another operator's card and PIN first. */
	if (q->dual) {
		r = tui_work_signin(w, q->second_reader, q->second_pad,
		    &q->second_pin, "second operator for escrow recovery",
		    &second, NULL, &why);
		if (r == PV_OK && strcmp(second.name, q->actor) == 0)
			r = pv_why_set(&why, PV_E_POLICY, "the second operator "
			    "must be another person than %s", q->actor);
		if (r == PV_OK && !operator_permits(&second, OP_RECOVER))
			r = pv_why_set(&why, PV_E_POLICY, "%s (%s) may not %s: "
			    "only %s", second.name, store_role_name(second.role),
			    op_action_name(OP_RECOVER), op_roles_for(OP_RECOVER));
		if (r != PV_OK) {
			pv_why_prefix(&why, "dual control");
			res->r = r;
			goto out;
		}
		(void)snprintf(res->second, sizeof(res->second), "%s",
		    second.name);
	}
	/* The file first: an existing one is never overwritten. */
	fd = open(q->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		res->r = pv_why_set(&why, PV_E_INPUT, "%.300s: %s", q->path,
		    strerror(errno));
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.home = w->home;
	so.need = STATION_NEED_STORE | STATION_NEED_CA;
	so.operator = q->actor[0] != '\0' ? q->actor : NULL;
	so.pass = &w->pass;
	if ((res->r = station_open(&so, &ost, &why)) != PV_OK)
		goto out;
	if (q->dual) {
		(void)snprintf(object, sizeof(object), "person:%s",
		    q->person_ext);
		(void)snprintf(detail, sizeof(detail), "{\"second_operator\":"
		    "\"%s\",\"purpose\":\"escrow recovery\"}", second.name);
		if ((res->r = station_audit(ost, "escrow.dual-control", object,
		    detail, &why)) != PV_OK)
			goto out;
	}
	(void)snprintf(name, sizeof(name), "%s key management",
	    q->person_ext);
	memset(&rq, 0, sizeof(rq));
	rq.person = q->person_ext;
	rq.reason = q->reason;
	rq.p12_pass = &q->p12;
	rq.name = name;
	if ((res->r = recover_key_p12(ost, &rq, &der, &len, &rr, &why)) !=
	    PV_OK)
		goto out;
	res->escrow_id = rr.escrow_id;
	while (off < len) {
		if ((k = write(fd, der + off, len - off)) <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			res->r = pv_why_set(&why, PV_E_IO, "%.300s: %s", q->path,
			    strerror(errno));
			goto out;
		}
		off += (size_t)k;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		res->r = pv_why_set(&why, PV_E_IO, "%.300s: %s", q->path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	(void)snprintf(done, sizeof(done), "the encryption key of person %s is "
	    "in %.120s (escrow record %lld)%s%s", q->person_ext, q->path,
	    (long long)res->escrow_id, q->dual ? "; second operator " : "",
	    q->dual ? second.name : "");
out:
	if (fd >= 0) {
		close(fd);
		(void)unlink(q->path);	/* nothing, or a part: not kept */
	}
	OPENSSL_clear_free(der, len);
	operator_clear(&second);
	if (ost != NULL && res->r == PV_OK &&
	    (res->r = station_audit_status(ost, &why)) != PV_OK)
		done[0] = '\0';
	station_close(ost);
	(void)snprintf(res->why, sizeof(res->why), "%.255s", res->r == PV_OK ?
	    done : why.msg[0] ? why.msg : pv_strerror(res->r));
}

static void
tui_work_one(struct tui_work *w, const struct tui_req *q,
    struct tui_result *res)
{
	struct pv_why why = { "" };
	struct store *st = NULL;

	res->kind = q->kind;
	(void)snprintf(res->reader, sizeof(res->reader), "%s", q->reader);
	atomic_store(&w->cancel, false);
	switch (q->kind) {
	case TUI_REQ_SIGNIN:
		res->r = tui_work_signin(w, q->reader, q->pin_pad, &q->pin,
		    "console", &res->op, &res->rep, &why);
		break;
	case TUI_REQ_ISSUE:
		tui_work_issue(w, q, res);
		return;
	case TUI_REQ_UNBLOCK:
		tui_work_unblock(w, q, res);
		return;
	case TUI_REQ_RECOVER:
		tui_work_recover(w, q, res);
		return;
	case TUI_REQ_DIAG:
		watch_set_busy(w->watch, q->reader, true);
		res->r = diag_facts_read(q->reader, &res->facts, &why);
		watch_set_busy(w->watch, q->reader, false);
		break;
	case TUI_REQ_SUSPEND:
	case TUI_REQ_RESUME:
	case TUI_REQ_TERMINATE:
		if ((res->r = tui_work_store(w, q, &st, &why)) != PV_OK)
			break;
		if (q->kind == TUI_REQ_SUSPEND)
			res->r = lifecycle_suspend(st, q->device_id, q->reason,
			    &res->lc, &why);
		else if (q->kind == TUI_REQ_RESUME)
			res->r = lifecycle_resume(st, q->device_id, q->reason,
			    &res->lc, &why);
		else
			res->r = lifecycle_terminate(st, q->device_id,
			    STORE_REASON_UNSPECIFIED, q->reason, &res->lc, &why);
		break;
	case TUI_REQ_VERIFY:
		if ((res->r = tui_work_store(w, q, &st, &why)) == PV_OK)
			res->r = audit_verify(st, &res->audit, &why);
		break;
	case TUI_REQ_NOTE:
		if ((res->r = tui_work_store(w, q, &st, &why)) == PV_OK)
			res->r = audit_append(st, q->action, q->object,
			    q->detail[0] ? q->detail : NULL, &why);
		break;
	default:
		res->r = PV_E_INVAL;
		break;
	}
	(void)snprintf(res->why, sizeof(res->why), "%s", why.msg[0] ?
	    why.msg : pv_strerror(res->r));
	tui_work_store_done(st, res);
}

static void *
tui_work_main(void *arg)
{
	struct tui_work *w = arg;
	struct tui_result *res;
	struct tui_msg m;
	struct tui_req q;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->n == 0 && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->n == 0 && w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		q = w->q[w->head];
		OPENSSL_cleanse(&w->q[w->head], sizeof(w->q[0]));
		w->head = (w->head + 1) % TUI_WORK_QUEUE;
		w->n--;
		pthread_mutex_unlock(&w->mu);

		if ((res = calloc(1, sizeof(*res))) == NULL) {
			tui_req_wipe(&q);
			continue;
		}
		tui_work_one(w, &q, res);
		tui_req_wipe(&q);
		memset(&m, 0, sizeof(m));
		m.kind = TUI_MSG_DONE;
		m.res = res;
		tui_bus_post(w->bus, &m);
	}
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

enum pv_err
tui_work_start(struct station *stn, const struct station_opts *so,
    struct tui_bus *bus, struct watch *watch, struct tui_work **out)
{
	struct tui_work *w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return PV_E_NOMEM;
	w->stn = stn;
	(void)snprintf(w->home, sizeof(w->home), "%s", so->home != NULL ?
	    so->home : "");
	if (so->pass != NULL)
		w->pass = *so->pass;
	else
		pass_chain_init(&w->pass);
	w->bus = bus;
	w->watch = watch;
	atomic_init(&w->cancel, false);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, tui_work_main, w) != 0) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return PV_E_INTERNAL;
	}
	*out = w;
	return PV_OK;
}

void
tui_work_submit(struct tui_work *w, const struct tui_req *q)
{
	pthread_mutex_lock(&w->mu);
	if (w->n < TUI_WORK_QUEUE) {
		w->q[(w->head + w->n) % TUI_WORK_QUEUE] = *q;
		w->n++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

void
tui_work_cancel(struct tui_work *w)
{
	atomic_store(&w->cancel, true);
}

bool
tui_work_stop(struct tui_work *w, unsigned wait_ms)
{
	struct timespec until;
	bool ended;
	int rc = 0;

	if (w == NULL)
		return true;
	atomic_store(&w->cancel, true);
	tui_bus_close(w->bus);
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	while (!w->done && rc == 0)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
	ended = w->done;
	pthread_mutex_unlock(&w->mu);
	if (!ended) {
		/* Still inside a card command (a PIN pad waits, say): the
		 * process ends around it. */
		pthread_detach(w->th);
		return false;
	}
	pthread_join(w->th, NULL);
	if (w->has_vs)
		val_station_close(&w->vs);
	while (w->n > 0) {
		tui_req_wipe(&w->q[w->head]);
		w->head = (w->head + 1) % TUI_WORK_QUEUE;
		w->n--;
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return true;
}
