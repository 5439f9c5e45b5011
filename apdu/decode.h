/*
 * decode.h: explain an APDU conversation for people (`pivstation decode`).
 *
 * Input, the conversation text format (also what `--trace` writes):
 *   > 00 a4 04 00 05 a0 00 00 03 08 00     a command (hex; spaces and ':'
 *   < 61 11 4f 06 ... 90 00                 ignored), then its response
 *   # a comment                             ('#' to end of line)
 * "**" stands for one byte a trace masked; such bytes are never guessed.
 * Blank lines are ignored.  A command with no response line before the
 * next command is shown as unanswered.
 *
 * The JSON Lines trace (`--trace-json`, written by pcsc/trace.c, read by
 * cli/cmd_decode.c which turns each line into the text form above) has
 * one object per exchange with these fields; the hex strings use the same
 * "**" masking:
 *   "seq"    exchange number (integer, from 1)
 *   "t"      wall-clock time, ISO 8601 UTC with microseconds (string)
 *   "reader" reader name (string)
 *   "cmd"    command APDU, lowercase hex (string)
 *   "rsp"    response APDU, data || SW, lowercase hex (string; absent
 *            when the transport failed)
 *   "us"     microseconds inside the transport call (integer)
 *   "err"    transport error name when it failed, e.g. "PV_E_NO_CARD"
 * Unknown fields are ignored.
 *
 * Output, per exchange: the instruction, case (1-4), short/extended,
 * chaining and GET RESPONSE continuation, P1/P2 meaning, Lc/Le, the data
 * (redacted per redact.h), the response data as a TLV tree where it parses
 * (reassembled over 61XX rounds), and the SW with its text.  With |json|
 * the same as one JSON document {"exchanges": [...]}.
 */
#ifndef PV_APDU_DECODE_H
#define PV_APDU_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "apdu/buf.h"
#include "apdu/err.h"

#define DECODE_JSON_SEQ		"seq"
#define DECODE_JSON_TIME	"t"
#define DECODE_JSON_READER	"reader"
#define DECODE_JSON_CMD		"cmd"
#define DECODE_JSON_RSP		"rsp"
#define DECODE_JSON_MICROS	"us"
#define DECODE_JSON_ERROR	"err"

/* Largest input decode_conversation accepts, and largest output. */
#define DECODE_MAX_INPUT	(16u << 20)
#define DECODE_MAX_OUTPUT	(256u << 20)

/*
 * decode_conversation reads |text| (|len| bytes, need not be
 * NUL-terminated) and appends the explanation to |out| (a buf_out the
 * caller set up; text is NUL-free, no terminator is added).
 *
 * Returns PV_OK; PV_E_INPUT with |why| naming the line for a line that is
 * not a command, response or comment, bad hex, or an APDU longer than
 * ISO 7816-4 allows; PV_E_TOO_LONG when the input exceeds
 * DECODE_MAX_INPUT or |out| is full; PV_E_NOMEM.  Card bytes that do not
 * parse (lengths, TLV) are not errors: the output says what is wrong.
 * On failure |out| holds what was written so far.
 */
enum pv_err decode_conversation(const char *text, size_t len, bool json,
    struct buf_out *out, struct pv_why *why);

#endif /* PV_APDU_DECODE_H */
