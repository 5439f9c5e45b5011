/*
 * console.c: the console's loop (tui.h): the station, the reader watch
 * and the worker set up, then keys, bus messages and reader changes
 * taken in turn, the actions' reactions acted on, and everything given
 * back on the way out.
 */
#include <curses.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "issuance/secret.h"
#include "issuance/station.h"
#include "issuance/store.h"
#include "issuance/watch.h"
#include "tui/bus.h"
#include "tui/draw.h"
#include "tui/model.h"
#include "tui/term.h"
#include "tui/tui.h"
#include "tui/work.h"

/* How often the loop wakes up without news: clocks, idle lock. */
#define TUI_TICK_MS	500

/* ---- the UI thread's own store reads (model.h struct tui_ops) ------------------- */

static enum pv_err
tui_ops_people(void *ctx, const char *text, struct store_person *out,
    size_t max, size_t *n)
{
	struct store_person *v = NULL;
	size_t k = 0;
	enum pv_err r;

	*n = 0;
	if ((r = store_person_search(ctx, text, max, &v, &k, NULL)) != PV_OK)
		return r;
	memcpy(out, v, k * sizeof(*v));
	*n = k;
	free(v);
	return PV_OK;
}

static enum pv_err
tui_ops_person(void *ctx, int64_t id, struct store_person *out)
{
	return store_person_get(ctx, id, out, NULL);
}

static enum pv_err
tui_ops_devices(void *ctx, int64_t person_id, struct store_device *out,
    size_t max, size_t *n)
{
	struct store_device *v = NULL;
	size_t k = 0, first;
	enum pv_err r;

	*n = 0;
	if ((r = store_device_list_person(ctx, person_id, &v, &k, NULL)) !=
	    PV_OK)
		return r;
	first = k > max ? k - max : 0;	/* the newest */
	memcpy(out, v + first, (k - first) * sizeof(*v));
	*n = k - first;
	free(v);
	return PV_OK;
}

static enum pv_err
tui_ops_certs(void *ctx, int64_t device_id, struct tui_cert *out, size_t max,
    size_t *n)
{
	struct store_cert *v = NULL;
	size_t k = 0, i, first;
	enum pv_err r;

	*n = 0;
	if ((r = store_cert_list_device(ctx, device_id, &v, &k, NULL)) !=
	    PV_OK)
		return r;
	first = k > max ? k - max : 0;
	for (i = first; i < k; i++) {
		out[*n].slot = v[i].slot;
		(void)snprintf(out[*n].serial, sizeof(out[*n].serial), "%s",
		    v[i].serial);
		out[*n].status = v[i].status;
		out[*n].not_after = v[i].not_after;
		(*n)++;
	}
	store_cert_free_list(v, k);
	return PV_OK;
}

struct tui_audit_take {
	struct tui_audit_row *out;
	size_t max, n;
};

static enum pv_err
tui_audit_one(void *ctx, const struct audit_row *row)
{
	struct tui_audit_take *t = ctx;
	struct tui_audit_row *o;

	if (t->n == t->max)
		return PV_OK;
	o = &t->out[t->n++];
	o->seq = row->seq;
	o->time = row->time;
	(void)snprintf(o->actor, sizeof(o->actor), "%s", row->actor);
	(void)snprintf(o->action, sizeof(o->action), "%s", row->action);
	(void)snprintf(o->object, sizeof(o->object), "%s", row->object);
	(void)snprintf(o->detail, sizeof(o->detail), "%s",
	    row->detail != NULL ? row->detail : "");
	return PV_OK;
}

static enum pv_err
tui_ops_audit(void *ctx, struct tui_audit_row *out, size_t max, size_t *n)
{
	struct store_audit_head h;
	struct tui_audit_take t = { out, max, 0 };
	struct tui_audit_row tmp;
	size_t i;
	enum pv_err r;

	*n = 0;
	if ((r = store_audit_head(ctx, &h, NULL)) != PV_OK)
		return r;
	r = audit_foreach(ctx, h.count > (int64_t)max ? h.count -
	    (int64_t)max : 0, tui_audit_one, &t, NULL);
	if (r != PV_OK)
		return r;
	for (i = 0; i < t.n / 2; i++) {		/* newest first */
		tmp = out[i];
		out[i] = out[t.n - 1 - i];
		out[t.n - 1 - i] = tmp;
	}
	*n = t.n;
	return PV_OK;
}

static bool
tui_ops_any_operator(void *ctx)
{
	struct store_operator *v = NULL;
	size_t n = 0, i;
	bool any = false;

	if (store_operator_list(ctx, &v, &n, NULL) != PV_OK)
		return true;	/* cannot tell: no false hint */
	for (i = 0; i < n; i++)
		any |= !v[i].disabled && v[i].has_card_uuid;
	free(v);
	return any;
}

/* ---- the loop ----------------------------------------------------------------------- */

static void
tui_watch_notify(void *ctx)
{
	tui_bus_wake(ctx);
}

static unsigned
tui_take_bus(struct tui_app *a, struct tui_bus *bus, time_t now)
{
	struct tui_msg m;
	unsigned r = TUI_R_NONE;

	while (tui_bus_take(bus, &m)) {
		switch (m.kind) {
		case TUI_MSG_EVENT:
			r |= tui_app_event(a, &m.ev);
			break;
		case TUI_MSG_PAD:
			r |= tui_app_pad(a, m.text);
			break;
		case TUI_MSG_ASK:
			r |= tui_app_ask(a, m.text, m.confirm);
			break;
		case TUI_MSG_DONE:
			r |= tui_app_result(a, m.res, now);
			diag_facts_free(&m.res->facts);
			OPENSSL_cleanse(m.res, sizeof(*m.res));
			free(m.res);
			break;
		}
	}
	return r;
}

static unsigned
tui_take_readers(struct tui_app *a, struct watch *w, time_t now)
{
	static struct watch_reader rd[WATCH_READERS_MAX];
	bool service = true;
	size_t n;

	n = watch_snapshot(w, rd, WATCH_READERS_MAX, &service);
	if (n > WATCH_READERS_MAX)
		n = WATCH_READERS_MAX;
	if (n == a->n_readers && service == a->service &&
	    memcmp(rd, a->readers, n * sizeof(rd[0])) == 0)
		return TUI_R_NONE;
	return tui_app_readers(a, rd, n, service, now);
}

static void
tui_send(struct tui_app *a, struct tui_work *work)
{
	struct tui_req q;

	while (tui_app_take_req(a, &q)) {
		tui_work_submit(work, &q);
		tui_req_wipe(&q);
	}
}

enum pv_err
tui_run(const struct tui_opts *o, int *sig, struct pv_why *why)
{
	static struct tui_app app;	/* large: off the stack */
	struct station_opts so;
	struct pass_chain chain;
	struct station *stn = NULL;
	struct tui_bus *bus = NULL;
	struct watch *watch = NULL;
	struct tui_work *work = NULL;
	struct tui_ops ops;
	struct pollfd pf[3];
	struct pkix_pass ans;
	sigset_t block, old;
	enum pv_err r, ar;
	unsigned re = TUI_R_CLEAR;
	time_t now;
	int k;

	*sig = 0;
	(void)secret_harden_process();
	if ((r = tui_bus_new(&bus)) != PV_OK)
		return pv_why_set(why, r, "cannot set up the console");
	if (o->pass != NULL)
		chain = *o->pass;
	else
		pass_chain_init(&chain);
	chain.prompt = tui_work_prompt;
	chain.prompt_ctx = bus;
	chain.note = NULL;
	memset(&so, 0, sizeof(so));
	so.home = o->home;
	so.need = STATION_NEED_STORE;
	so.pass = &chain;
	if ((r = station_open(&so, &stn, why)) != PV_OK)
		goto out;

	/* Only this thread takes the signals: the watch and the worker
	 * inherit the mask. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = watch_start(stn, tui_watch_notify, bus, &watch, why);
	if (r == PV_OK && (r = tui_work_start(stn, &so, bus, watch,
	    &work)) != PV_OK)
		(void)pv_why_set(why, r, "cannot start the worker thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != PV_OK)
		goto out;

	memset(&ops, 0, sizeof(ops));
	ops.people = tui_ops_people;
	ops.person = tui_ops_person;
	ops.devices = tui_ops_devices;
	ops.certs = tui_ops_certs;
	ops.audit = tui_ops_audit;
	ops.any_operator = tui_ops_any_operator;
	ops.ctx = station_store(stn);
	if ((r = tui_term_open(o->mono, why)) != PV_OK)
		goto out;
	now = time(NULL);
	tui_app_init(&app, station_config(stn), &ops, now);
	if (o->idle_lock_s >= 0)
		app.idle_lock_s = (unsigned)o->idle_lock_s;
	re |= tui_take_readers(&app, watch, now);

	for (;;) {
		now = time(NULL);
		if (re & TUI_R_BEEP)
			(void)beep();
		tui_draw(&app, (re & TUI_R_CLEAR) != 0, now);
		re = TUI_R_NONE;
		pf[0].fd = STDIN_FILENO;
		pf[0].events = POLLIN;
		pf[1].fd = tui_term_fd();
		pf[1].events = POLLIN;
		pf[2].fd = tui_bus_fd(bus);
		pf[2].events = POLLIN;
		(void)poll(pf, 3, TUI_TICK_MS);
		now = time(NULL);
		if ((*sig = tui_term_signal()) != 0)
			break;
		while ((k = tui_term_key()) != TUI_K_NONE) {
			re |= tui_app_key(&app, k, now);
			if (re & TUI_R_QUIT)
				break;
		}
		re |= tui_take_bus(&app, bus, now);
		re |= tui_take_readers(&app, watch, now);
		re |= tui_app_tick(&app, now);
		if (tui_app_take_answer(&app, &ar, &ans)) {
			tui_bus_answer(bus, ar, &ans);
			pkix_pass_clear(&ans);
		}
		if (re & TUI_R_CANCEL)
			tui_work_cancel(work);
		tui_send(&app, work);
		if ((re & TUI_R_QUIT) || app.quit)
			break;
	}
	r = *sig != 0 ? PV_E_CANCELLED : PV_OK;
	if (*sig != 0)
		(void)pv_why_set(why, r, "ended by signal %d", *sig);
out:
	tui_term_close();
	if (work != NULL) {
		/* What is queued (the sign-out's audit row) is written. */
		tui_send(&app, work);
		if (!tui_work_stop(work, 3000)) {
			/* Still inside a card command: what it uses stays
			 * until the process ends. */
			fprintf(stderr, "pivstation: console: card work was "
			    "still under way; its job is kept and resumes on the "
			    "next run\n");
			tui_app_cleanup(&app);
			return r;
		}
	}
	watch_stop(watch);
	if (r == PV_OK && stn != NULL &&
	    (r = station_audit_status(stn, why)) != PV_OK)
		pv_why_prefix(why, "console");
	tui_app_cleanup(&app);
	station_close(stn);
	tui_bus_free(bus);
	return r;
}
