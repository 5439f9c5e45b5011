/*
 * apdu.h: ISO 7816-4 command/response APDUs and the exchange engine.
 *
 * apdu/ reaches a card only through struct apdu_transport: pcsc/ supplies
 * the real one, tests/support/fake_card.c a scripted one, and pcsc/trace.c
 * wraps either.  apdu/ does no I/O and has no mutable globals.
 *
 * The status word is data, not a transport error: apdu_transmit returns
 * PV_OK once the exchange happened and puts the final SW in *sw.
 */
#ifndef PV_APDU_APDU_H
#define PV_APDU_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"
#include "apdu/err.h"

/*
 * apdu_xfer_fn sends one command APDU and receives one response APDU
 * (data || SW1 SW2) into |rsp| (|rsp_cap| bytes).  It returns PV_OK once a
 * response of at least 2 bytes arrived, or a transport error
 * (PV_E_NO_CARD, PV_E_RESET, PV_E_TRANSPORT, ...).
 */
typedef enum pv_err apdu_xfer_fn(void *ctx, const uint8_t *cmd,
    size_t cmd_len, uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

struct apdu_transport {
	apdu_xfer_fn *xfer;
	void *ctx;
};

/* Sizes from ISO 7816-4 §5.1 and pcsc-lite's MAX_BUFFER_SIZE_EXTENDED. */
#define APDU_SHORT_MAX_LC	255
#define APDU_SHORT_MAX_LE	256
#define APDU_EXT_MAX_LC		65535
#define APDU_EXT_MAX_LE		65536
#define APDU_MAX_CMD		(4 + 3 + 65535 + 3)
#define APDU_MAX_RSP		(65536 + 2)

/* Le value meaning "as much as the card has" (00 short, 0000 extended). */
#define APDU_LE_ANY		((size_t)-1)

#define APDU_CLA_CHAIN		0x10	/* ISO 7816-4 §5.1.1.1: b5 = more blocks */
#define APDU_INS_GET_RESPONSE	0xc0

/*
 * A command before encoding.  |le| is 0 when no response data is
 * expected, APDU_LE_ANY for "all", otherwise the exact count wanted.
 */
struct apdu_cmd {
	uint8_t cla;
	uint8_t ins;
	uint8_t p1;
	uint8_t p2;
	const uint8_t *data;
	size_t data_len;
	size_t le;
};

/* What the card accepts; decides how apdu_transmit encodes a command. */
struct apdu_caps {
	bool extended;		/* extended Lc/Le accepted */
	bool chaining;		/* command chaining (CLA 10) accepted */
	bool t0;		/* T=0: case 4 goes without Le, card answers 61XX */
	size_t max_ext_lc;	/* largest extended command data, 0 = 65535 */
	size_t max_ext_le;	/* largest extended response data, 0 = 65536 */
};

/* Counters for --stats.  Exact, so tests may assert them. */
struct apdu_stats {
	uint64_t n_apdus;	/* exchanges through the transport */
	uint64_t bytes_out;	/* command bytes sent */
	uint64_t bytes_in;	/* response bytes received, SW included */
	uint64_t n_get_response; /* of which GET RESPONSE for 61XX */
	uint64_t n_chained;	/* of which non-final chained blocks */
	uint64_t n_resend_6c;	/* of which re-sends after 6CXX */
	uint64_t n_extended;	/* of which extended-length encodings */
};

/* Debug log sink; apdu/ never writes to a stream itself. */
typedef void apdu_log_fn(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct apdu_session {
	struct apdu_transport tr;
	struct apdu_caps caps;
	struct apdu_stats stats;
	unsigned max_get_response;	/* cap on 61XX rounds per command */
	unsigned max_resend_6c;		/* cap on 6CXX re-sends per command */
	size_t max_rsp;			/* cap on a reassembled response */
	apdu_log_fn *log;		/* NULL: no debug log */
	void *log_ctx;
};

/*
 * apdu_session_init sets up |s| over transport |tr| with conservative
 * capabilities (short APDUs, chaining allowed, T=1) and the default caps:
 * 64 GET RESPONSE rounds, 3 re-sends after 6CXX, 64 KiB + 2 response.
 */
void apdu_session_init(struct apdu_session *s, const struct apdu_transport *tr);

/*
 * apdu_caps_from_atr fills |out| from an ATR: protocols from the TDi
 * chain and card capabilities from the historical bytes (ISO 7816-4
 * §8.1.1.2.7 compact-TLV tag 7x, third byte: b7 extended Lc/Le, b8
 * chaining).  Returns false when the ATR itself is malformed (truncated
 * interface or historical bytes, wrong TCK, trailing bytes, longer than
 * 33 bytes), leaving *out at the defaults; a card that says nothing about
 * capabilities gets those defaults too: short APDUs with chaining, T=1.
 */
bool apdu_caps_from_atr(const uint8_t *atr, size_t atr_len,
    struct apdu_caps *out);

/*
 * apdu_encode writes |cmd| as one APDU into |out|: short form when
 * |extended| is false (data_len <= 255, le <= 256), else extended form.
 * T=0 drops Le from case 4.  PV_E_INVAL when the command does not fit the
 * chosen form.
 */
enum pv_err apdu_encode(const struct apdu_cmd *cmd, bool extended, bool t0,
    struct buf_out *out);

/*
 * apdu_transmit sends |cmd| the cheapest way the card allows: one
 * extended APDU when caps.extended (and not T=0) and the command needs it
 * (data > 255, Le > 256, or Le = APDU_LE_ANY, so that an object is read
 * in one exchange) and its data fits caps.max_ext_lc; Le is then capped
 * at caps.max_ext_le.  Otherwise short APDUs, with command chaining in
 * blocks of 255 bytes (CLA | 10 on all but the last; each intermediate
 * answer must be a bare 9000, any other SW ends the chain and is
 * returned in *sw) and Le = 00 when more than 256 bytes are wanted.
 * 61XX is answered with GET RESPONSE 00 C0 00 00 XX and the pieces are
 * appended to |rsp|; 6CXX re-sends the current command with Le = XX.
 * Both loops are capped (max_get_response, max_resend_6c).  |rsp| may be
 * NULL when no data is wanted; otherwise data is appended (the SW is
 * not), and on failure |rsp| is cut back to its length on entry.
 *
 * Every call of the transport is counted in s->stats (n_apdus, bytes_out)
 * even when it fails; bytes_in counts what arrived.
 *
 * Returns PV_OK when the exchange completed, with the final status word in
 * *sw (which may be an error status: see sw.h).  Returns a transport error
 * unchanged, PV_E_CHAIN when a cap was hit, PV_E_TOO_LONG when the
 * response outgrew |rsp| or s->max_rsp, or when more than 255 bytes of
 * data must go to a card that offers neither chaining nor extended
 * length, PV_E_MALFORMED for a response shorter than 2 bytes or data in
 * an intermediate chain answer, PV_E_INVAL for a command no encoding can
 * carry, PV_E_NOMEM.  *sw is 0 on any failure.
 */
enum pv_err apdu_transmit(struct apdu_session *s, const struct apdu_cmd *cmd,
    struct buf_out *rsp, uint16_t *sw);

/*
 * apdu_rsp_split splits a raw response (data || SW1 SW2) into a view of
 * its data and the status word.  False when |len| < 2.
 */
bool apdu_rsp_split(const uint8_t *rsp, size_t len, struct buf_cur *data,
    uint16_t *sw);

/* apdu_stats_add adds the counters of |from| into |to|. */
void apdu_stats_add(struct apdu_stats *to, const struct apdu_stats *from);

/* ISO 7816-4 §5.1 command cases. */
enum apdu_case {
	APDU_CASE_1 = 1,	/* header only */
	APDU_CASE_2 = 2,	/* header, Le */
	APDU_CASE_3 = 3,	/* header, Lc, data */
	APDU_CASE_4 = 4		/* header, Lc, data, Le */
};

/*
 * A command APDU as parsed from bytes (by traces, the decoder and the
 * virtual card).  |data| is a view into the parsed bytes.  |le| is 0 when
 * absent, else the count asked for (1..65536; a 00 / 0000 Le is 256 /
 * 65536).  |data_off| is where the data field starts (5 short, 7
 * extended; the command length for cases 1 and 2), so bytes [4,
 * data_off) are the Lc field.
 */
struct apdu_view {
	uint8_t cla;
	uint8_t ins;
	uint8_t p1;
	uint8_t p2;
	enum apdu_case apdu_case;
	bool extended;
	struct buf_cur data;
	size_t le;
	size_t data_off;
};

/*
 * apdu_parse_cmd parses |cmd| (|len| bytes) as one command APDU in short
 * or extended form.  A 5-byte command is case 2 (ISO: a trailing 00 after
 * the header is Le = 256, never Lc = 0).  Returns false, leaving |out|
 * unspecified, when the length bytes do not match the command's size.
 */
bool apdu_parse_cmd(const uint8_t *cmd, size_t len, struct apdu_view *out);

#endif /* PV_APDU_APDU_H */
