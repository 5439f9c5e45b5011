/*
 * reader.c: the reader list, reader choice, and live reader/card events
 * through SCardGetStatusChange with the PnP notification reader.
 *
 * The middleware is distrusted too (STYLE.md §7): the reader multi-string
 * is checked for its terminators, names are bounded, and ATR lengths are
 * capped before use.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pcsc/internal.h"
#include "pcsc/rc.h"

/* Upper 16 bits of dwEventState: the reader's card event counter. */
#define PCSC_EVCOUNT(st)	(((st) >> 16) & 0xffffu)

static void
pcsc_reader_from_state(struct pcsc_reader *r, const SCARD_READERSTATE *s)
{
	DWORD st = s->dwEventState;

	r->state = (uint32_t)st;
	r->present = (st & SCARD_STATE_PRESENT) != 0;
	r->mute = (st & SCARD_STATE_MUTE) != 0;
	r->inuse = (st & SCARD_STATE_INUSE) != 0;
	r->exclusive = (st & SCARD_STATE_EXCLUSIVE) != 0;
	r->unavailable = (st & (SCARD_STATE_UNAVAILABLE |
	    SCARD_STATE_UNKNOWN)) != 0;
	r->atr_len = 0;
	if (r->present && s->cbAtr <= ATR_MAX_LEN) {
		memcpy(r->atr, s->rgbAtr, s->cbAtr);
		r->atr_len = s->cbAtr;
	}
}

/*
 * pcsc_list_names fills |names| (|max| entries) from SCardListReaders.
 * Returns PV_OK with *n (0 when there is no reader).
 */
static enum pv_err
pcsc_list_names(struct pcsc_ctx *c, char (*names)[PCSC_READER_NAME_MAX],
    size_t max, size_t *n)
{
	char *buf = NULL;
	DWORD len = 0;
	LONG rc;
	size_t off = 0, k;
	enum pv_err r = PV_E_INTERNAL;
	int attempt;

	*n = 0;
	for (attempt = 0; attempt < 3; attempt++) {
		if ((r = pcsc_ctx_ensure(c)) != PV_OK)
			goto out;
		rc = c->sys->list_readers(pcsc_ctx_handle(c), NULL, NULL, &len);
		if (rc == SCARD_S_SUCCESS && len > 0 && len <= 65536) {
			free(buf);
			if ((buf = calloc(1, (size_t)len + 2)) == NULL) {
				r = PV_E_NOMEM;
				goto out;
			}
			rc = c->sys->list_readers(pcsc_ctx_handle(c), NULL, buf,
			    &len);
		}
		if (rc == SCARD_E_NO_READERS_AVAILABLE) {
			r = PV_OK;
			goto out;
		}
		if (rc == SCARD_S_SUCCESS)
			break;
		if (rc == SCARD_E_INSUFFICIENT_BUFFER)
			continue;	/* a reader appeared in between */
		r = pcsc_note_rc(c, "SCardListReaders", rc);
		if (!pcsc_ctx_lost(c, rc))
			goto out;
	}
	if (attempt == 3 || buf == NULL) {
		r = attempt == 3 ? PV_E_NO_SERVICE : PV_OK;
		goto out;
	}
	/* Multi-string: names separated by NUL, ended by an empty name.  Our
	 * buffer has two extra NULs, so a missing terminator cannot run off. */
	while (off < (size_t)len && buf[off] != '\0' && *n < max) {
		k = strnlen(buf + off, (size_t)len - off);
		if (k >= PCSC_READER_NAME_MAX) {
			pcsc_log(c, "%s: reader name of %zu bytes skipped",
			    __func__, k);
		} else {
			memcpy(names[*n], buf + off, k);
			names[*n][k] = '\0';
			(*n)++;
		}
		off += k + 1;
	}
	r = PV_OK;
out:
	free(buf);
	return r;
}

enum pv_err
pcsc_readers_list(struct pcsc_ctx *c, struct pcsc_reader **out, size_t *n_out)
{
	char (*names)[PCSC_READER_NAME_MAX] = NULL;
	SCARD_READERSTATE *st = NULL;
	struct pcsc_reader *rd = NULL;
	size_t n = 0, i;
	LONG rc;
	enum pv_err r = PV_E_INTERNAL;
	int attempt;

	*out = NULL;
	*n_out = 0;
	names = calloc(PCSC_MAX_READERS, sizeof(*names));
	st = calloc(PCSC_MAX_READERS, sizeof(*st));
	if (names == NULL || st == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	for (attempt = 0; attempt < 3; attempt++) {
		if ((r = pcsc_list_names(c, names, PCSC_MAX_READERS, &n)) != PV_OK)
			goto out;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			memset(&st[i], 0, sizeof(st[i]));
			st[i].szReader = names[i];
			st[i].dwCurrentState = SCARD_STATE_UNAWARE;
		}
		rc = c->sys->get_status_change(pcsc_ctx_handle(c), 0, st,
		    (DWORD)n);
		if (rc == SCARD_S_SUCCESS || rc == SCARD_E_TIMEOUT)
			break;
		r = pcsc_note_rc(c, "SCardGetStatusChange", rc);
		/* A reader vanished between the two calls: list again. */
		if (rc != SCARD_E_UNKNOWN_READER &&
		    rc != SCARD_E_READER_UNAVAILABLE && !pcsc_ctx_lost(c, rc))
			goto out;
	}
	if (attempt == 3) {
		r = PV_E_NO_READER;
		goto out;
	}
	if (n > 0 && (rd = calloc(n, sizeof(*rd))) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		memcpy(rd[i].name, names[i], sizeof(rd[i].name));
		pcsc_reader_from_state(&rd[i], &st[i]);
	}
	*out = rd;
	*n_out = n;
	rd = NULL;
	r = PV_OK;
out:
	free(rd);
	free(st);
	free(names);
	return r;
}

static bool
pcsc_name_contains(const char *name, const char *part)
{
	size_t n = strlen(part), i;

	if (n == 0)
		return true;
	for (i = 0; name[i] != '\0'; i++)
		if (strncasecmp(name + i, part, n) == 0)
			return true;
	return false;
}

enum pv_err
pcsc_reader_pick(const struct pcsc_reader *r, size_t n, const char *spec,
    size_t *out, struct pv_why *why)
{
	size_t i, found = 0, hit = 0;
	char *end;
	unsigned long idx;

	if (n == 0)
		return pv_why_set(why, PV_E_NO_READER, "no reader is connected");
	if (spec == NULL || *spec == '\0') {
		if (n == 1) {
			*out = 0;
			return PV_OK;
		}
		for (i = 0; i < n; i++)
			if (r[i].present) {
				found++;
				hit = i;
			}
		if (found == 1) {
			*out = hit;
			return PV_OK;
		}
		return pv_why_set(why, found == 0 ? PV_E_NO_CARD : PV_E_INPUT,
		    found == 0 ? "%zu readers and none holds a card" :
		    "%zu readers hold a card: choose one with -r (index, "
		    "name part, serial:N or guid:HEX)", found ? found : n);
	}
	if (isdigit((unsigned char)spec[0])) {
		idx = strtoul(spec, &end, 10);
		if (*end == '\0') {
			if (idx >= n)
				return pv_why_set(why, PV_E_NO_READER,
				    "reader index %lu: only %zu reader%s (0-%zu)",
				    idx, n, n == 1 ? "" : "s", n - 1);
			*out = (size_t)idx;
			return PV_OK;
		}
	}
	/* A reader's whole name is that reader, even when it is also a
	 * part of another's name. */
	for (i = 0; i < n; i++)
		if (strcmp(r[i].name, spec) == 0) {
			*out = i;
			return PV_OK;
		}
	for (i = 0; i < n; i++)
		if (pcsc_name_contains(r[i].name, spec)) {
			found++;
			hit = i;
		}
	if (found == 1) {
		*out = hit;
		return PV_OK;
	}
	if (found == 0)
		return pv_why_set(why, PV_E_NO_READER,
		    "no reader name contains \"%s\"", spec);
	return pv_why_set(why, PV_E_INPUT,
	    "%zu readers match \"%s\": give more of the name or an index",
	    found, spec);
}

/* ---- monitor ------------------------------------------------------------ */

const char *
pcsc_ev_name(enum pcsc_ev_kind k)
{
	switch (k) {
	case PCSC_EV_READER_ADDED: return "reader-added";
	case PCSC_EV_READER_REMOVED: return "reader-removed";
	case PCSC_EV_CARD_INSERTED: return "card-inserted";
	case PCSC_EV_CARD_REMOVED: return "card-removed";
	case PCSC_EV_CARD_STATE: return "card-state";
	case PCSC_EV_SERVICE_LOST: return "service-lost";
	case PCSC_EV_SERVICE_BACK: return "service-back";
	}
	return "unknown";
}

#define MON_QUEUE 64	/* > 2 events per reader for every reader */

struct pcsc_monitor {
	struct pcsc_ctx *c;
	size_t n;				/* known readers */
	char names[PCSC_MAX_READERS][PCSC_READER_NAME_MAX];
	SCARD_READERSTATE st[PCSC_MAX_READERS + 1];	/* [0] = PnP */
	struct pcsc_reader last[PCSC_MAX_READERS];
	DWORD pnp_state;			/* PnP reader's last event state */
	bool need_rescan;
	bool list_checked;	/* reader list compared since the last wake-up */
	bool started;
	bool lost_reported;
	struct pcsc_event q[MON_QUEUE];
	size_t q_head, q_len;
};

enum pv_err
pcsc_monitor_new(struct pcsc_ctx *c, struct pcsc_monitor **out)
{
	struct pcsc_monitor *m;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return PV_E_NOMEM;
	m->c = c;
	m->need_rescan = true;
	*out = m;
	return PV_OK;
}

void
pcsc_monitor_free(struct pcsc_monitor *m)
{
	free(m);
}

static void
mon_push(struct pcsc_monitor *m, enum pcsc_ev_kind kind,
    const struct pcsc_reader *r, bool initial)
{
	struct pcsc_event *e;

	if (m->q_len >= MON_QUEUE) {
		pcsc_log(m->c, "%s: event queue full, event dropped", __func__);
		return;
	}
	e = &m->q[(m->q_head + m->q_len) % MON_QUEUE];
	m->q_len++;
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->initial = initial;
	(void)clock_gettime(CLOCK_REALTIME, &e->when);
	if (r != NULL)
		e->reader = *r;
}

/* Diffs one reader's old and new state into events. */
static void
mon_diff(struct pcsc_monitor *m, const struct pcsc_reader *old,
    const struct pcsc_reader *now)
{
	bool replaced = old->present && now->present &&
	    PCSC_EVCOUNT(old->state) != PCSC_EVCOUNT(now->state) &&
	    (old->atr_len != now->atr_len ||
	    memcmp(old->atr, now->atr, now->atr_len) != 0 ||
	    PCSC_EVCOUNT(now->state) - PCSC_EVCOUNT(old->state) >= 2);

	if (old->present && (!now->present || replaced))
		mon_push(m, PCSC_EV_CARD_REMOVED, now, false);
	if (now->present && (!old->present || replaced))
		mon_push(m, PCSC_EV_CARD_INSERTED, now, false);
	else if (now->present && (old->inuse != now->inuse ||
	    old->exclusive != now->exclusive || old->mute != now->mute))
		mon_push(m, PCSC_EV_CARD_STATE, now, false);
}

/*
 * Re-reads the reader list and reports readers that came and went.  A
 * reader that arrives with a card gets READER_ADDED and, after the first
 * snapshot, CARD_INSERTED.
 */
static enum pv_err
mon_rescan(struct pcsc_monitor *m)
{
	struct pcsc_reader *now = NULL;
	size_t n_now = 0, i, j;
	bool keep[PCSC_MAX_READERS] = { false };
	bool initial = !m->started;
	unsigned saved_total = m->c->total_ms;
	enum pv_err r;

	/* One try: if pcscd is gone the caller reports it and then waits. */
	m->c->total_ms = 1;
	r = pcsc_readers_list(m->c, &now, &n_now);
	m->c->total_ms = saved_total;
	if (r != PV_OK)
		return r;
	/* Removed readers. */
	for (i = 0; i < m->n; i++) {
		for (j = 0; j < n_now; j++)
			if (strcmp(m->names[i], now[j].name) == 0)
				break;
		if (j < n_now) {
			keep[i] = true;
			continue;
		}
		if (m->last[i].present)
			mon_push(m, PCSC_EV_CARD_REMOVED, &m->last[i], false);
		mon_push(m, PCSC_EV_READER_REMOVED, &m->last[i], false);
	}
	/* Readers that stay: diff their state; new readers: added. */
	for (j = 0; j < n_now; j++) {
		for (i = 0; i < m->n; i++)
			if (keep[i] && strcmp(m->names[i], now[j].name) == 0)
				break;
		if (i < m->n) {
			mon_diff(m, &m->last[i], &now[j]);
			continue;
		}
		mon_push(m, PCSC_EV_READER_ADDED, &now[j], initial);
		if (!initial && now[j].present)
			mon_push(m, PCSC_EV_CARD_INSERTED, &now[j], false);
	}
	/* Adopt the new list. */
	m->n = n_now;
	memset(m->st, 0, sizeof(m->st));
	for (j = 0; j < n_now; j++) {
		memcpy(m->names[j], now[j].name, PCSC_READER_NAME_MAX);
		m->last[j] = now[j];
		m->st[j + 1].szReader = m->names[j];
		m->st[j + 1].dwCurrentState = now[j].state;
	}
	m->st[0].szReader = PCSC_PNP_READER;
	/* Some PC/SC stacks keep the reader count in the PnP reader's
	 * upper 16 bits and signal when ours differs: start from ours, then
	 * follow what is reported.  pcsc-lite 1.9.9 reports 0 there and
	 * ignores it (firmware-notes/pcsc-pnp-reader.md). */
	if (!m->started || m->pnp_state == 0)
		m->pnp_state = (DWORD)n_now << 16;
	m->st[0].dwCurrentState = m->pnp_state;
	m->started = true;
	m->need_rescan = false;
	free(now);
	return PV_OK;
}

static void
mon_service_lost(struct pcsc_monitor *m)
{
	size_t i;

	if (!m->lost_reported) {
		mon_push(m, PCSC_EV_SERVICE_LOST, NULL, false);
		for (i = 0; i < m->n; i++) {
			if (m->last[i].present)
				mon_push(m, PCSC_EV_CARD_REMOVED, &m->last[i],
				    false);
			mon_push(m, PCSC_EV_READER_REMOVED, &m->last[i], false);
		}
		m->n = 0;
		m->pnp_state = 0;
		m->lost_reported = true;
		/* "No service" was the first snapshot: what follows
		 * SERVICE_BACK is news, with CARD_INSERTED for the cards, as
		 * after a restart. */
		m->started = true;
	}
	m->need_rescan = true;
}

/*
 * pcsc-lite 1.9.9 signals on the PnP reader only the readers that come or
 * go while SCardGetStatusChange blocks, so a reader plugged in while we
 * were busy with the last event would go unseen
 * (firmware-notes/pcsc-pnp-reader.md).  Before each wait, once per
 * wake-up: does pcscd's reader list still have the length of ours?
 */
static bool
mon_list_changed(struct pcsc_monitor *m)
{
	DWORD len = 0;
	size_t want = 1, i;
	LONG rc;

	if (m->list_checked)
		return false;
	m->list_checked = true;
	rc = m->c->sys->list_readers(pcsc_ctx_handle(m->c), NULL, NULL, &len);
	if (rc == SCARD_E_NO_READERS_AVAILABLE)
		return m->n != 0;
	if (rc != SCARD_S_SUCCESS)
		return false;	/* the wait itself reports what is wrong */
	for (i = 0; i < m->n; i++)
		want += strlen(m->names[i]) + 1;
	return (size_t)len != want;
}

static bool
mon_pop(struct pcsc_monitor *m, struct pcsc_event *out)
{
	if (m->q_len == 0)
		return false;
	*out = m->q[m->q_head];
	m->q_head = (m->q_head + 1) % MON_QUEUE;
	m->q_len--;
	return true;
}

enum pv_err
pcsc_monitor_next(struct pcsc_monitor *m, int timeout_ms,
    struct pcsc_event *out)
{
	struct pcsc_ctx *c = m->c;
	uint64_t deadline = timeout_ms < 0 ? 0 :
	    pcsc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	unsigned saved_total = c->total_ms;
	struct pcsc_reader now;
	DWORD wait;
	LONG rc;
	size_t i;
	enum pv_err r;

	for (;;) {
		if (mon_pop(m, out))
			return PV_OK;
		if (pcsc_ctx_cancelled(c))
			return PV_E_CANCELLED;
		if (timeout_ms < 0) {
			wait = INFINITE;
		} else {
			uint64_t t = pcsc_now_ns();

			if (t >= deadline)
				return PV_E_TIMEOUT;
			wait = (DWORD)((deadline - t) / 1000000u);
		}
		if (m->need_rescan) {
			/* While pcscd is away, wait for it as long as the
			 * caller waits for events. */
			c->total_ms = 1;	/* one try: report the loss first */
			r = pcsc_ctx_ensure(c);
			if (r == PV_E_NO_SERVICE && m->lost_reported) {
				c->total_ms = timeout_ms < 0 ? 0 :
				    (unsigned)wait + 1;
				r = pcsc_ctx_ensure(c);
			}
			c->total_ms = saved_total;
			if (r == PV_E_NO_SERVICE) {
				mon_service_lost(m);
				continue;	/* deadline check returns */
			}
			if (r != PV_OK)
				return r;
			if (m->lost_reported) {
				m->lost_reported = false;
				mon_push(m, PCSC_EV_SERVICE_BACK, NULL, false);
			}
			r = mon_rescan(m);
			if (r == PV_E_NO_SERVICE || r == PV_E_TRANSPORT) {
				mon_service_lost(m);
				continue;
			}
			if (r != PV_OK)
				return r;
			continue;
		}
		if (mon_list_changed(m)) {
			m->need_rescan = true;
			continue;
		}
		rc = c->sys->get_status_change(pcsc_ctx_handle(c), wait, m->st,
		    (DWORD)m->n + 1);
		m->list_checked = false;
		if (rc == SCARD_E_TIMEOUT)
			continue;
		if (rc == SCARD_E_CANCELLED) {
			if (pcsc_ctx_cancelled(c))
				return PV_E_CANCELLED;
			continue;
		}
		if (rc != SCARD_S_SUCCESS) {
			(void)pcsc_note_rc(c, "SCardGetStatusChange", rc);
			if (pcsc_ctx_lost(c, rc)) {
				mon_service_lost(m);
			} else {
				/* A reader vanished: list again, without
				 * spinning if the error persists. */
				m->need_rescan = true;
				if (!pcsc_ctx_pause(c, 20))
					return PV_E_CANCELLED;
			}
			continue;
		}
		if (m->st[0].dwEventState & SCARD_STATE_CHANGED)
			m->need_rescan = true;
		m->pnp_state = m->st[0].dwEventState &
		    ~(DWORD)SCARD_STATE_CHANGED;
		m->st[0].dwCurrentState = m->pnp_state;
		for (i = 0; i < m->n; i++) {
			SCARD_READERSTATE *s = &m->st[i + 1];

			if (!(s->dwEventState & SCARD_STATE_CHANGED))
				continue;
			if (s->dwEventState & (SCARD_STATE_UNKNOWN |
			    SCARD_STATE_IGNORE)) {
				m->need_rescan = true;
				continue;
			}
			memset(&now, 0, sizeof(now));
			memcpy(now.name, m->names[i], PCSC_READER_NAME_MAX);
			pcsc_reader_from_state(&now, s);
			mon_diff(m, &m->last[i], &now);
			m->last[i] = now;
			s->dwCurrentState = s->dwEventState &
			    ~(DWORD)SCARD_STATE_CHANGED;
		}
	}
}

enum pv_err
pcsc_monitor_run(struct pcsc_monitor *m, pcsc_monitor_fn *fn, void *arg)
{
	struct pcsc_event ev;
	enum pv_err r;

	for (;;) {
		r = pcsc_monitor_next(m, -1, &ev);
		if (r != PV_OK)
			return r;
		if (!fn(arg, &ev))
			return PV_OK;
	}
}
