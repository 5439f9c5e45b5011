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

#endif /* PV_APDU_APDU_H */
