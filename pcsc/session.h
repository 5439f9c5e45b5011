/*
 * session.h: "open a card session for this reader, with tracing and
 * stats as configured" — what `pivstation diag`, `issue` and the console
 * use to reach a card.
 *
 * A session is: a PC/SC context, the chosen reader's connection, the
 * tracer tap, and the apdu_session over them, with PIV selected.  Steps
 * that must not be interleaved with other programs run inside
 * pcsc_session_run, which holds a PC/SC transaction and recovers from a
 * reset by another program: reconnect, SELECT PIV again, check that the
 * card is the same one (YubiKey serial or CHUID GUID), mark the security
 * status lost (n_recoveries counts it: a caller that had authenticated
 * does so again when it changes), and run the step again.
 */
#ifndef PV_PCSC_SESSION_H
#define PV_PCSC_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "apdu/piv.h"
#include "pcsc/part10.h"
#include "pcsc/pcsc.h"
#include "pcsc/trace.h"

struct pcsc_session;

struct pcsc_session_opts {
	const char *reader;	/* -r: index, name part, serial:N, guid:HEX */
	const char *trace_path;	/* --trace FILE (NULL: none) */
	bool trace_json;	/* --trace-json */
	enum pcsc_share share;	/* default shared */
	bool no_select;		/* do not SELECT PIV at open */
	bool identify;		/* read serial/GUID at open (for reset checks) */
	unsigned step_gap_ms;	/* pause after each transaction so other
				 * programs polling for the card get a turn
				 * (pcsc-lite retries every 100 ms); 0 = none,
				 * or PIVSTATION_STEP_GAP_MS */
	pcsc_log_fn *log;
	void *log_arg;
};

/* Which card this is, for the same-card check after a reset. */
struct pcsc_identity {
	bool has_serial;
	uint32_t serial;	/* YubiKey GET SERIAL */
	bool has_guid;
	uint8_t guid[16];	/* CHUID card UUID */
};

struct pcsc_session {
	struct pcsc_ctx *ctx;
	struct pcsc_card *card;
	struct pcsc_trace *trace;
	struct pcsc_trace_tap *tap;
	struct apdu_session apdu;
	char reader[PCSC_READER_NAME_MAX];
	bool piv_selected;	/* the SELECT at open (or after a reset) worked */
	enum pv_err select_err;	/* why it did not */
	struct piv_apt apt;	/* what that SELECT returned */
	struct pcsc_identity id;
	bool security_lost;	/* a reset happened: PIN/admin status is gone */
	unsigned n_recoveries;
	uint64_t t_open_ns;	/* monotonic, for the total time in --stats */
	unsigned step_gap_ms;
};

/*
 * pcsc_session_open establishes the context, picks the reader per
 * opts->reader (serial: and guid: probe every card present), connects,
 * opens the trace when asked, sets the APDU capabilities from the ATR and
 * the negotiated protocol, and SELECTs PIV (unless no_select; a card
 * without PIV still opens, with piv_selected false).  Returns PV_OK with a
 * new session, or an error with |why| saying which reader/what failed.
 */
enum pv_err pcsc_session_open(const struct pcsc_session_opts *opts,
    struct pcsc_session **out, struct pv_why *why);

/* pcsc_session_close disconnects (leaving the card) and frees (NULL ok). */
void pcsc_session_close(struct pcsc_session *s);

typedef enum pv_err pcsc_step_fn(struct pcsc_session *s, void *arg,
    struct pv_why *why);

/*
 * pcsc_session_run runs |fn| inside one PC/SC transaction.  When the card
 * was reset by another program (PV_E_RESET from the transaction or any
 * exchange), it recovers (pcsc_session_recover) and runs |fn| again, at
 * most 3 times.  Returns what |fn| returned, PV_E_DIFFERENT_CARD when
 * another card is now in the reader, or the transport error.
 */
enum pv_err pcsc_session_run(struct pcsc_session *s, pcsc_step_fn *fn,
    void *arg, struct pv_why *why);

/*
 * pcsc_session_recover, after PV_E_RESET: SELECT PIV again and compare
 * the identity with the one known (reading it when none was); sets
 * security_lost.  PV_OK, PV_E_DIFFERENT_CARD, or a transport error.
 */
enum pv_err pcsc_session_recover(struct pcsc_session *s, struct pv_why *why);

/*
 * pcsc_session_set_identity sets which card the session works on (a
 * serial identifies a token for good; a GUID once the CHUID holding it is
 * on the card): the same-card check after a reset compares with it.
 */
void pcsc_session_set_identity(struct pcsc_session *s,
    const struct pcsc_identity *id);

/*
 * pcsc_session_read_identity reads the YubiKey serial (GET SERIAL) and,
 * when there is none, the CHUID GUID into *out.  PV_OK when either was
 * found; PV_E_NOT_FOUND when the card has neither.
 */
enum pv_err pcsc_session_read_identity(struct pcsc_session *s,
    struct pcsc_identity *out, struct pv_why *why);

/* Statistics for --stats: transport counters, APDU engine counters, time. */
struct pcsc_session_stats {
	struct pcsc_stats tr;
	struct apdu_stats apdu;
	uint64_t ns_total;
};

void pcsc_session_stats(const struct pcsc_session *s,
    struct pcsc_session_stats *out);

/* pcsc_stats_format writes the one-line --stats summary into |out|. */
void pcsc_stats_format(const struct pcsc_session_stats *st, char *out,
    size_t cap);

/*
 * pcsc_session_features asks the reader for its part 10 features.  A
 * reader that refuses the control call (Debian's vpcd rejects every
 * IFDHControl) gives PV_OK with no features and its PC/SC code in
 * *rc_out (0 when it answered).  PV_E_MALFORMED for a garbled answer.
 */
enum pv_err pcsc_session_features(struct pcsc_session *s,
    struct part10_features *out, uint32_t *rc_out, struct pv_why *why);

/* How long a PIN pad waits for the person, in seconds (bTimerOut). */
#define PCSC_PINPAD_TIMEOUT_S	30

/*
 * pcsc_session_verify_pinpad verifies reference |ref| with the PIN typed
 * on the reader's pad (FEATURE_VERIFY_PIN_DIRECT), |min_len|..|max_len|
 * digits: the PIN never passes through this process.  PV_E_NOT_SUPPORTED
 * without a pad; PV_E_TIMEOUT / PV_E_CANCELLED when nobody typed or the
 * person pressed Cancel; otherwise as piv_verify (*retries may be NULL).
 */
enum pv_err pcsc_session_verify_pinpad(struct pcsc_session *s, uint8_t ref,
    uint8_t min_len, uint8_t max_len, int *retries, struct pv_why *why);

/*
 * pcsc_session_change_pinpad changes reference |ref| from |cur| (given
 * by the host, e.g. the factory PIN) to a new value the person types on
 * the pad twice (FEATURE_MODIFY_PIN_DIRECT); the new value never passes
 * through this process.  As pcsc_session_verify_pinpad, plus PV_E_INPUT
 * when the two entries differ or the length is outside the range, and
 * PV_E_PIN_WRONG (with *retries) when |cur| is not the current value.
 */
enum pv_err pcsc_session_change_pinpad(struct pcsc_session *s, uint8_t ref,
    const uint8_t *cur, size_t cur_len, uint8_t min_len, uint8_t max_len,
    int *retries, struct pv_why *why);

#endif /* PV_PCSC_SESSION_H */
