/*
 * text.h: UTF-8 as RFC 3629 defines it, for every layer.
 *
 * Text reaches pivstation from cards (certificate names, APT labels, key
 * history URLs), from pcscd (reader names, driver strings), from files
 * (identity documents, traces) and from the store.  None of it is trusted
 * to be UTF-8 or free of terminal controls.  This module is the one
 * decoder that decides what valid UTF-8 is: shortest form only, no UTF-16
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF.  Lenient decoders
 * (json-c 0.16 among them) accept all three.
 *
 * Pure functions over caller memory: no I/O, no globals.
 */
#ifndef PV_APDU_TEXT_H
#define PV_APDU_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"

/* Why a byte sequence is not UTF-8. */
enum text_utf8_err {
	TEXT_UTF8_OK = 0,
	TEXT_UTF8_BAD_BYTE,	/* starts no sequence (80-BF, F8-FF) */
	TEXT_UTF8_TRUNCATED,	/* cut short, or a 10xxxxxx missing */
	TEXT_UTF8_OVERLONG,	/* a longer form than needed (C0 AF) */
	TEXT_UTF8_SURROGATE,	/* U+D800..U+DFFF (ED A0 80) */
	TEXT_UTF8_TOO_LARGE	/* above U+10FFFF (F4 90 80 80) */
};

/* text_utf8_err_str: "overlong encoding", ...; never NULL. */
const char *text_utf8_err_str(enum text_utf8_err e);

/*
 * text_utf8_next decodes the scalar value at the head of |c| into *out
 * and advances |c| past it.  On a sequence that is not UTF-8 it returns
 * the reason (with *out_len, NULL allowed, the number of bytes the bad
 * sequence spans, at least 1) and leaves |c| unchanged.  An empty |c| is
 * TEXT_UTF8_TRUNCATED.
 */
enum text_utf8_err text_utf8_next(struct buf_cur *c, uint32_t *out,
    size_t *out_len);

/*
 * text_utf8_check tells whether |p|,|n| is UTF-8 (an embedded NUL is
 * U+0000 and valid here; callers that hold C strings refuse it first).
 * On failure *bad_off (NULL allowed) is the offset of the first byte of
 * the first bad sequence and *bad_len (NULL allowed) its length.
 */
enum text_utf8_err text_utf8_check(const void *p, size_t n, size_t *bad_off,
    size_t *bad_len);

/*
 * text_utf8_count is the number of scalar values in |p|,|n|, which must
 * be UTF-8 (text_utf8_check); X.520 upper bounds count characters.
 */
size_t text_utf8_count(const void *p, size_t n);

/*
 * text_cp_is_control is true for the code points no printed text should
 * carry raw: C0 controls and DEL, C1 controls (U+0080..U+009F, 8-bit
 * terminal escapes), the line and paragraph separators U+2028/U+2029 and
 * the bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069) that reorder what a reader sees.
 */
bool text_cp_is_control(uint32_t cp);

/*
 * text_cp_is_noncharacter is true for U+FDD0..U+FDEF and the last two
 * code points of every plane (U+FFFE, U+FFFF, U+1FFFE, ...): Unicode
 * keeps them out of interchanged text.
 */
bool text_cp_is_noncharacter(uint32_t cp);

/*
 * Modes of text_sanitize.
 *
 * TEXT_SAN_TERMINAL: for people.  Valid UTF-8 that is not a control is
 *	copied; a control (text_cp_is_control) is written as "\xHH" (ASCII)
 *	or "\u{HHHH}" (above U+007F); every byte of a sequence that is not
 *	UTF-8 as "\xHH".  The result is one line of printable text.
 * TEXT_SAN_JSON: for a JSON string (whose writer escapes controls
 *	itself): valid UTF-8 is copied as it is, controls included; only
 *	bytes that are not UTF-8 become "\xHH", so the document stays
 *	valid UTF-8.
 */
enum text_san_mode {
	TEXT_SAN_TERMINAL = 0,
	TEXT_SAN_JSON
};

/*
 * text_sanitize writes the safe form of |p|,|n| (see above; input stops
 * at |n| or at a NUL byte, whichever comes first) and a NUL into |out|,
 * |cap| bytes (cap > 0).  What does not fit is cut at a character or
 * escape boundary, never inside one.  Returns the length the whole safe
 * form needs (without the NUL), so a result >= |cap| means it was cut.
 */
size_t text_sanitize(const void *p, size_t n, enum text_san_mode mode,
    char *out, size_t cap);

/*
 * text_sanitize_put appends the safe form of |p|,|n| (no NUL) to |o|.
 * Returns false when |o| fails (its error sticks).
 */
bool text_sanitize_put(struct buf_out *o, const void *p, size_t n,
    enum text_san_mode mode);

/*
 * text_sanitize_dup returns the safe form of the C string |s| (NULL is
 * "") in a new NUL-terminated string the caller frees with free(), or
 * NULL when out of memory.
 */
char *text_sanitize_dup(const char *s, enum text_san_mode mode);

/*
 * text_utc writes |t| (seconds since the epoch) as "2030-01-01T00:00:00Z"
 * (RFC 3339, UTC) into |out|; "?" when it is not a representable date.
 */
#define TEXT_UTC_LEN	32
void text_utc(int64_t t, char out[TEXT_UTC_LEN]);

#endif /* PV_APDU_TEXT_H */
