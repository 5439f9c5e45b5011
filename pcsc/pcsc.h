/*
 * pcsc.h: the pcsc-lite transport: context, readers, live events, card
 * connections, transactions and reset recovery, PC/SC part 10 features.
 *
 * Nothing here exposes <winscard.h> types: PC/SC codes travel as uint32_t
 * (see pcsc/rc.h), so cli/ and issuance/ can use this header.  Every call
 * that can fail returns enum pv_err and keeps the raw PC/SC code of the
 * failure for messages (pcsc_ctx_last_rc).
 *
 * Threads: a context and what hangs off it are used by one thread at a
 * time, except pcsc_monitor_cancel(), which any thread may call.
 */
#ifndef PV_PCSC_PCSC_H
#define PV_PCSC_PCSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "pcsc/atr.h"

#define PCSC_READER_NAME_MAX	128	/* pcsc-lite MAX_READERNAME, NUL included */
#define PCSC_MAX_READERS	16	/* PCSCLITE_MAX_READERS_CONTEXTS */

/* Debug log sink: pcsc/ never writes to a stream itself. */
typedef void pcsc_log_fn(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- context ------------------------------------------------------------ */

struct pcsc_ctx;

/*
 * pcsc_ctx_new allocates a context; the PC/SC context itself is
 * established lazily by the first call that needs it (so a context can be
 * created while pcscd is down).  Returns PV_OK or PV_E_NOMEM.
 */
enum pv_err pcsc_ctx_new(struct pcsc_ctx **out);

/* pcsc_ctx_free releases the PC/SC context and |c| (NULL allowed). */
void pcsc_ctx_free(struct pcsc_ctx *c);

/*
 * pcsc_ctx_set_backoff sets how long pcsc_ctx_ensure keeps trying while
 * pcscd is away: the first pause |first_ms|, doubled up to |max_ms|, for
 * at most |total_ms| in all (0 = until cancelled).  Defaults: 25, 500,
 * 3000.
 */
void pcsc_ctx_set_backoff(struct pcsc_ctx *c, unsigned first_ms,
    unsigned max_ms, unsigned total_ms);

void pcsc_ctx_set_log(struct pcsc_ctx *c, pcsc_log_fn *fn, void *arg);

/*
 * pcsc_ctx_ensure establishes the PC/SC context if there is none or the
 * old one died (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, invalid
 * handle), retrying with the bounded back-off.  Returns PV_OK,
 * PV_E_NO_SERVICE when the budget ran out, PV_E_CANCELLED when cancelled
 * by pcsc_ctx_cancel().
 */
enum pv_err pcsc_ctx_ensure(struct pcsc_ctx *c);

/*
 * pcsc_ctx_cancel interrupts a blocking wait or a back-off pause on |c|
 * from any thread (SCardCancel plus a wake-up); sticky until
 * pcsc_ctx_uncancel.
 */
void pcsc_ctx_cancel(struct pcsc_ctx *c);
void pcsc_ctx_uncancel(struct pcsc_ctx *c);
bool pcsc_ctx_cancelled(const struct pcsc_ctx *c);

/* The raw PC/SC code and function name of the last failed call. */
uint32_t pcsc_ctx_last_rc(const struct pcsc_ctx *c);
const char *pcsc_ctx_last_call(const struct pcsc_ctx *c);

/* How many times the context was re-established after pcscd went away. */
unsigned pcsc_ctx_reestablished(const struct pcsc_ctx *c);

/* ---- readers --------------------------------------------------------- */

struct pcsc_reader {
	char name[PCSC_READER_NAME_MAX];
	bool present;		/* a card is in the reader */
	bool mute;		/* the card does not answer */
	bool inuse;		/* another handle uses the card */
	bool exclusive;		/* someone holds it exclusively */
	bool unavailable;	/* the reader's state cannot be read */
	uint32_t state;		/* raw dwEventState (events in the upper 16 bits) */
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
};

/*
 * pcsc_readers_list lists the readers and their current state into a new
 * array (*out, free with free(); *n_out entries, at most
 * PCSC_MAX_READERS).  No reader at all is PV_OK with *n_out = 0.  Re-
 * establishes the context when pcscd restarted.
 */
enum pv_err pcsc_readers_list(struct pcsc_ctx *c, struct pcsc_reader **out,
    size_t *n_out);

/*
 * pcsc_reader_pick chooses among |r| (|n|) by |spec|: NULL or "" = the
 * only reader, or else the only one holding a card; "N" = index N; a
 * reader's whole name = that reader; any other text = the one reader
 * whose name contains it (case-insensitive).
 * serial:/guid: specs need a card probe: see pcsc_session_open.  Returns
 * the index in *out, or PV_E_NO_READER / PV_E_INPUT (ambiguous) with |why|.
 */
enum pv_err pcsc_reader_pick(const struct pcsc_reader *r, size_t n,
    const char *spec, size_t *out, struct pv_why *why);

/* ---- live events ------------------------------------------------------ */

enum pcsc_ev_kind {
	PCSC_EV_READER_ADDED,
	PCSC_EV_READER_REMOVED,
	PCSC_EV_CARD_INSERTED,
	PCSC_EV_CARD_REMOVED,
	PCSC_EV_CARD_STATE,	/* in use / exclusive / mute changed */
	PCSC_EV_SERVICE_LOST,	/* pcscd went away */
	PCSC_EV_SERVICE_BACK	/* pcscd is back; readers follow as ADDED */
};

struct pcsc_event {
	enum pcsc_ev_kind kind;
	bool initial;		/* part of the first snapshot */
	struct timespec when;	/* CLOCK_REALTIME when pcsc/ saw it */
	struct pcsc_reader reader;	/* zeroed for SERVICE_* */
};

/* pcsc_ev_name: "reader-added", "card-inserted", ... */
const char *pcsc_ev_name(enum pcsc_ev_kind k);

struct pcsc_monitor;

/*
 * pcsc_monitor_new watches readers and cards on |c| (borrowed; it must
 * outlive the monitor).  The first events are the current readers
 * (READER_ADDED with initial = true; the reader's state says whether a
 * card is in it).  Returns PV_OK or PV_E_NOMEM.
 */
enum pv_err pcsc_monitor_new(struct pcsc_ctx *c, struct pcsc_monitor **out);
void pcsc_monitor_free(struct pcsc_monitor *m);

/*
 * pcsc_monitor_next gives the next event, blocking in
 * SCardGetStatusChange (PnP notification reader included) for at most
 * |timeout_ms| (-1: no limit); it never polls.  When pcscd goes away it
 * reports SERVICE_LOST and READER_REMOVED for each reader, then keeps
 * re-establishing the context with the back-off and, once pcscd is back,
 * SERVICE_BACK and the readers again.  Returns PV_OK with *out,
 * PV_E_TIMEOUT, or PV_E_CANCELLED after pcsc_ctx_cancel().
 */
enum pv_err pcsc_monitor_next(struct pcsc_monitor *m, int timeout_ms,
    struct pcsc_event *out);

/*
 * pcsc_monitor_fn is called for each event by pcsc_monitor_run; it
 * returns false to stop.
 */
typedef bool pcsc_monitor_fn(void *arg, const struct pcsc_event *ev);

/* pcsc_monitor_run calls |fn| per event until it returns false (PV_OK) or
 * the monitor is cancelled (PV_E_CANCELLED). */
enum pv_err pcsc_monitor_run(struct pcsc_monitor *m, pcsc_monitor_fn *fn,
    void *arg);

/* ---- card connection ---------------------------------------------------- */

enum pcsc_share {
	PCSC_SHARE_SHARED,
	PCSC_SHARE_EXCLUSIVE,
	PCSC_SHARE_DIRECT	/* no card needed: reader control only */
};

/* Counters kept by the transport: exact, so tests may assert them. */
struct pcsc_stats {
	uint64_t n_apdus;	/* SCardTransmit calls that returned */
	uint64_t bytes_out;
	uint64_t bytes_in;	/* SW included */
	uint64_t ns_transmit;	/* time inside SCardTransmit */
	uint64_t n_resets;	/* SCARD_W_RESET_CARD seen and recovered */
	uint64_t n_reconnects;
};

struct pcsc_card;

/*
 * pcsc_card_connect connects to |reader| with T=0 or T=1 (pcscd prefers
 * T=1 when both are offered) in |share| mode.  Returns PV_OK with a new
 * connection, or PV_E_NO_CARD, PV_E_SHARING, PV_E_NO_READER,
 * PV_E_NO_SERVICE (after the back-off), ... with the PC/SC code in the
 * context.  The context is borrowed and must outlive the card.
 */
enum pv_err pcsc_card_connect(struct pcsc_ctx *c, const char *reader,
    enum pcsc_share share, struct pcsc_card **out);

/* pcsc_card_free disconnects (leaving the card, or resetting it when
 * |reset|) and frees |k| (NULL allowed). */
void pcsc_card_free(struct pcsc_card *k, bool reset);

const char *pcsc_card_reader(const struct pcsc_card *k);
/* Active protocol: 0 (T=0), 1 (T=1), -1 (direct/none). */
int pcsc_card_protocol(const struct pcsc_card *k);
const uint8_t *pcsc_card_atr(const struct pcsc_card *k, size_t *len);
void pcsc_card_stats(const struct pcsc_card *k, struct pcsc_stats *out);
struct pcsc_ctx *pcsc_card_ctx(const struct pcsc_card *k);

/*
 * pcsc_card_transport gives the apdu_transport over this connection.
 * Each exchange is one SCardTransmit with the PCI of the active protocol.
 * On SCARD_W_RESET_CARD it reconnects (acknowledging the reset) and
 * returns PV_E_RESET without retrying: the caller must SELECT again and
 * assume security status lost (pcsc_session_run does this).  A removed
 * card gives PV_E_NO_CARD.
 */
struct apdu_transport pcsc_card_transport(struct pcsc_card *k);

/*
 * pcsc_card_begin / pcsc_card_end bracket a PC/SC transaction: no other
 * program gets the card in between.  begin handles a reset the same way
 * as the transport (reconnect, PV_E_RESET).
 */
enum pv_err pcsc_card_begin(struct pcsc_card *k);
enum pv_err pcsc_card_end(struct pcsc_card *k);

/* pcsc_card_reconnect re-negotiates (warm reset when |reset|). */
enum pv_err pcsc_card_reconnect(struct pcsc_card *k, bool reset);

/*
 * pcsc_card_control sends a reader control code (SCardControl).  Returns
 * PV_OK with *out_len bytes in |out|, or an error with the PC/SC code in
 * the context.
 */
enum pv_err pcsc_card_control(struct pcsc_card *k, uint32_t code,
    const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
    size_t *out_len);

/*
 * pcsc_card_attr reads reader attribute |id| (SCardGetAttrib) into
 * |out|; PV_E_NOT_SUPPORTED when the driver has none.
 */
enum pv_err pcsc_card_attr(struct pcsc_card *k, uint32_t id, uint8_t *out,
    size_t cap, size_t *out_len);

/* pcsc_now_ns: CLOCK_MONOTONIC in nanoseconds (for --stats and timings). */
uint64_t pcsc_now_ns(void);

#endif /* PV_PCSC_PCSC_H */
