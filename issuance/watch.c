/*
 * watch.c: readers and cards followed live (watch.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "issuance/card_open.h"
#include "issuance/station.h"
#include "issuance/store.h"
#include "issuance/watch.h"
#include "pcsc/pcsc.h"

/* How long one wait for PC/SC events lasts before requests (refresh,
 * busy, stop) are looked at again. */
#define WATCH_WAIT_MS	200

struct watch {
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	bool service;
	struct pcsc_ctx *ctx;
	struct pcsc_monitor *mon;
	struct store *st;		/* the watch thread's own connection */
	watch_notify_fn *fn;
	void *fn_ctx;
	struct watch_reader rd[WATCH_READERS_MAX];
	bool need_read[WATCH_READERS_MAX];
	size_t n;
	char reading[WATCH_READER_NAME_MAX];	/* "" when none */
};

static long
watch_find(const struct watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->rd[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Applies one event to the table (under the lock). */
static void
watch_apply(struct watch *w, const struct pcsc_event *ev)
{
	struct watch_reader *r;
	long i = -1;

	if (ev->kind == PCSC_EV_SERVICE_LOST) {
		w->service = false;
		return;
	}
	if (ev->kind == PCSC_EV_SERVICE_BACK) {
		w->service = true;
		return;
	}
	w->service = true;
	i = watch_find(w, ev->reader.name);
	if (ev->kind == PCSC_EV_READER_REMOVED) {
		if (i < 0)
			return;
		memmove(&w->rd[i], &w->rd[i + 1],
		    (w->n - (size_t)i - 1) * sizeof(w->rd[0]));
		memmove(&w->need_read[i], &w->need_read[i + 1],
		    (w->n - (size_t)i - 1) * sizeof(w->need_read[0]));
		w->n--;
		return;
	}
	if (i < 0) {
		if (w->n == WATCH_READERS_MAX)
			return;
		i = (long)w->n++;
		memset(&w->rd[i], 0, sizeof(w->rd[i]));
		w->need_read[i] = false;
		(void)snprintf(w->rd[i].name, sizeof(w->rd[i].name), "%s",
		    ev->reader.name);
	}
	r = &w->rd[i];
	if (ev->reader.present && (!r->present ||
	    ev->kind == PCSC_EV_CARD_INSERTED)) {
		r->inserted++;
		r->read = false;
		memset(&r->card, 0, sizeof(r->card));
		w->need_read[i] = true;
	}
	if (!ev->reader.present) {
		r->read = false;
		memset(&r->card, 0, sizeof(r->card));
		w->need_read[i] = false;
	}
	if (r->mute && !ev->reader.mute && ev->reader.present)
		w->need_read[i] = true;
	r->present = ev->reader.present;
	r->mute = ev->reader.mute;
	r->inuse = ev->reader.inuse;
}

static void
watch_notify(struct watch *w)
{
	if (w->fn != NULL)
		w->fn(w->fn_ctx);
}

/* Reads the cards that wait for it, one at a time, the lock released
 * while the card talks. */
static void
watch_read_cards(struct watch *w)
{
	struct card_summary sum;
	struct card_conn *cc;
	struct pv_why why;
	char name[WATCH_READER_NAME_MAX];
	unsigned long ins;
	size_t i;
	long k;
	enum pv_err r;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		for (i = 0; i < w->n; i++)
			if (w->need_read[i] && w->rd[i].present &&
			    !w->rd[i].mute && !w->rd[i].busy)
				break;
		if (i == w->n || w->stop) {
			pthread_mutex_unlock(&w->mu);
			return;
		}
		w->need_read[i] = false;
		(void)snprintf(name, sizeof(name), "%s", w->rd[i].name);
		(void)snprintf(w->reading, sizeof(w->reading), "%s", name);
		ins = w->rd[i].inserted;
		pthread_mutex_unlock(&w->mu);

		memset(&why, 0, sizeof(why));
		memset(&sum, 0, sizeof(sum));
		r = card_conn_open(name, NULL, &cc, &why);
		if (r == PV_OK) {
			(void)card_summarize(card_conn_card(cc), w->st, &sum,
			    &why);
			card_conn_close(cc);
		} else {
			sum.cls = CARD_CLASS_ERROR;
			sum.pin_left = -1;
			(void)snprintf(sum.why, sizeof(sum.why), "%s",
			    why.msg[0] ? why.msg : pv_strerror(r));
		}

		pthread_mutex_lock(&w->mu);
		w->reading[0] = '\0';
		k = watch_find(w, name);
		/* The same insertion still: otherwise it is read again. */
		if (k >= 0 && w->rd[k].inserted == ins && w->rd[k].present) {
			w->rd[k].card = sum;
			w->rd[k].read = true;
		}
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		watch_notify(w);
	}
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	struct pcsc_event ev;
	struct timespec pause = { 0, WATCH_WAIT_MS * 1000000L };
	bool stop;
	enum pv_err r;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		r = pcsc_monitor_next(w->mon, WATCH_WAIT_MS, &ev);
		if (r == PV_OK) {
			pthread_mutex_lock(&w->mu);
			watch_apply(w, &ev);
			pthread_mutex_unlock(&w->mu);
			watch_notify(w);
			continue;	/* all queued events before reading */
		}
		if (r != PV_E_TIMEOUT && r != PV_E_CANCELLED)
			(void)nanosleep(&pause, NULL);
		watch_read_cards(w);
	}
	return NULL;
}

enum pv_err
watch_start(const struct station *stn, watch_notify_fn *fn, void *ctx,
    struct watch **out, struct pv_why *why)
{
	struct pv_why ignore = { "" };
	struct watch *w;
	enum pv_err r;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	w->fn = fn;
	w->fn_ctx = ctx;
	w->service = true;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* A station without a store still shows its readers. */
	if (stn != NULL && station_master(stn) != NULL &&
	    station_store_open(stn, &w->st, &ignore) != PV_OK)
		w->st = NULL;
	if ((r = pcsc_ctx_new(&w->ctx)) != PV_OK ||
	    (r = pcsc_monitor_new(w->ctx, &w->mon)) != PV_OK) {
		(void)pv_why_set(why, r, "cannot watch the readers: %s",
		    pv_strerror(r));
		goto fail;
	}
	/* pcscd away: keep trying in the background, for ever. */
	pcsc_ctx_set_backoff(w->ctx, 25, 1000, 0);
	if (pthread_create(&w->th, NULL, watch_main, w) != 0) {
		r = pv_why_set(why, PV_E_INTERNAL, "cannot start the reader "
		    "watch thread");
		goto fail;
	}
	w->started = true;
	*out = w;
	return PV_OK;
fail:
	watch_stop(w);
	return r;
}

size_t
watch_snapshot(struct watch *w, struct watch_reader *out, size_t cap,
    bool *service)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->n;
	memcpy(out, w->rd, (n < cap ? n : cap) * sizeof(out[0]));
	if (service != NULL)
		*service = w->service;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
watch_set_busy(struct watch *w, const char *reader, bool busy)
{
	long i;

	pthread_mutex_lock(&w->mu);
	if ((i = watch_find(w, reader)) >= 0) {
		w->rd[i].busy = busy;
		if (!busy && w->rd[i].present)
			w->need_read[i] = true;
	}
	while (busy && strcmp(w->reading, reader) == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void
watch_refresh(struct watch *w, const char *reader)
{
	long i;

	pthread_mutex_lock(&w->mu);
	if ((i = watch_find(w, reader)) >= 0 && w->rd[i].present)
		w->need_read[i] = true;
	pthread_mutex_unlock(&w->mu);
}

void
watch_stop(struct watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_mutex_unlock(&w->mu);
	if (w->ctx != NULL)
		pcsc_ctx_cancel(w->ctx);
	if (w->started)
		pthread_join(w->th, NULL);
	pcsc_monitor_free(w->mon);
	pcsc_ctx_free(w->ctx);
	store_close(w->st);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
