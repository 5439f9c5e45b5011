/*
 * text.c: strict UTF-8 (RFC 3629 §3, §4) and the sanitiser for text
 * that is printed (text.h).
 */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/text.h"

const char *
text_utf8_err_str(enum text_utf8_err e)
{
	switch (e) {
	case TEXT_UTF8_OK: return "valid";
	case TEXT_UTF8_BAD_BYTE: return "a byte that starts no character";
	case TEXT_UTF8_TRUNCATED: return "an incomplete sequence";
	case TEXT_UTF8_OVERLONG: return "an overlong encoding";
	case TEXT_UTF8_SURROGATE: return "a UTF-16 surrogate (U+D800-U+DFFF)";
	case TEXT_UTF8_TOO_LARGE: return "a code point above U+10FFFF";
	}
	return "invalid";
}

/*
 * RFC 3629 §4: a lead byte, how many continuation bytes (80..BF) follow,
 * and the narrower range the first of them must lie in.  The narrowed
 * ranges are what exclude overlong forms (C0, C1; E0 80..9F; F0 80..8F),
 * surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..BF;
 * F5..F7).  80..BF and F8..FF start nothing.
 */
enum text_utf8_err
text_utf8_next(struct buf_cur *c, uint32_t *out, size_t *out_len)
{
	struct buf_cur t = *c;
	uint8_t b0, b, lo = 0x80, hi = 0xbf;
	enum text_utf8_err narrow = TEXT_UTF8_OK;
	uint32_t cp;
	size_t need, i, span;

	if (out_len != NULL)
		*out_len = 1;
	if (!buf_get_u8(&t, &b0))
		return TEXT_UTF8_TRUNCATED;
	if (b0 < 0x80) {
		*out = b0;
		*c = t;
		return TEXT_UTF8_OK;
	}
	if (b0 < 0xc0 || b0 > 0xf7)
		return TEXT_UTF8_BAD_BYTE;
	need = b0 < 0xe0 ? 1 : b0 < 0xf0 ? 2 : 3;
	cp = b0 & (need == 1 ? 0x1fu : need == 2 ? 0x0fu : 0x07u);
	if (b0 < 0xc2 || b0 == 0xe0 || b0 == 0xf0)
		narrow = TEXT_UTF8_OVERLONG;
	else if (b0 == 0xed)
		narrow = TEXT_UTF8_SURROGATE;
	else if (b0 >= 0xf4)
		narrow = TEXT_UTF8_TOO_LARGE;
	if (b0 < 0xc2 || b0 > 0xf4) {
		lo = 0xff;	/* no first continuation byte is allowed */
		hi = 0x00;
	} else if (b0 == 0xe0) {
		lo = 0xa0;
	} else if (b0 == 0xed) {
		hi = 0x9f;
	} else if (b0 == 0xf0) {
		lo = 0x90;
	} else if (b0 == 0xf4) {
		hi = 0x8f;
	}
	for (i = 0; i < need; i++) {
		if (!buf_get_u8(&t, &b) || b < 0x80 || b > 0xbf) {
			if (out_len != NULL)
				*out_len = i + 1;
			return TEXT_UTF8_TRUNCATED;
		}
		if (i == 0 && (b < lo || b > hi)) {
			/* A well-formed shape with a forbidden value: the
			 * bad part is the lead and the continuation bytes
			 * that follow it, up to the sequence's length. */
			for (span = 2; span <= need && buf_get_u8(&t, &b) &&
			    b >= 0x80 && b <= 0xbf; span++)
				;
			if (out_len != NULL)
				*out_len = span;
			return narrow;
		}
		cp = cp << 6 | (b & 0x3fu);
	}
	*out = cp;
	if (out_len != NULL)
		*out_len = need + 1;
	*c = t;
	return TEXT_UTF8_OK;
}

enum text_utf8_err
text_utf8_check(const void *p, size_t n, size_t *bad_off, size_t *bad_len)
{
	struct buf_cur c;
	enum text_utf8_err e;
	uint32_t cp;
	size_t len;

	buf_cur_init(&c, p, n);
	while (!buf_done(&c)) {
		if ((e = text_utf8_next(&c, &cp, &len)) != TEXT_UTF8_OK) {
			if (bad_off != NULL)
				*bad_off = n - c.len;
			if (bad_len != NULL)
				*bad_len = len;
			return e;
		}
	}
	return TEXT_UTF8_OK;
}

size_t
text_utf8_count(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

bool
text_cp_is_control(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return true;
	switch (cp) {
	case 0x061c:			/* ARABIC LETTER MARK */
	case 0x200e: case 0x200f:	/* LRM, RLM */
	case 0x2028: case 0x2029:	/* line, paragraph separator */
		return true;
	default:
		break;
	}
	return (cp >= 0x202a && cp <= 0x202e) ||	/* LRE .. RLO */
	    (cp >= 0x2066 && cp <= 0x2069);		/* LRI .. PDI */
}

bool
text_cp_is_noncharacter(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/* ---- the sanitiser ------------------------------------------------------ */

/*
 * One step: the safe form of the character (or bad byte) at the head of
 * |c| into |piece| (at most 12 bytes), consuming it.
 */
static size_t
text_san_step(struct buf_cur *c, enum text_san_mode mode, char piece[16])
{
	struct buf_cur before = *c;
	uint32_t cp;
	uint8_t b;
	size_t len;

	if (text_utf8_next(c, &cp, &len) != TEXT_UTF8_OK) {
		(void)buf_get_u8(c, &b);	/* one bad byte at a time */
		(void)snprintf(piece, 16, "\\x%02x", b);
		return 4;
	}
	if (mode == TEXT_SAN_TERMINAL && text_cp_is_control(cp)) {
		if (cp < 0x80)
			(void)snprintf(piece, 16, "\\x%02x", (unsigned)cp);
		else
			(void)snprintf(piece, 16, "\\u{%04X}", (unsigned)cp);
		return strlen(piece);
	}
	len = before.len - c->len;
	memcpy(piece, before.p, len);
	return len;
}

static size_t
text_input_len(const void *p, size_t n)
{
	const void *z = p != NULL ? memchr(p, '\0', n) : NULL;

	if (p == NULL)
		return 0;
	return z != NULL ? (size_t)((const char *)z - (const char *)p) : n;
}

size_t
text_sanitize(const void *p, size_t n, enum text_san_mode mode, char *out,
    size_t cap)
{
	struct buf_cur c;
	char piece[16];
	size_t k, total = 0, used = 0;
	bool full = false;

	buf_cur_init(&c, p, text_input_len(p, n));
	while (!buf_done(&c)) {
		k = text_san_step(&c, mode, piece);
		if (!full && used + k < cap) {
			memcpy(out + used, piece, k);
			used += k;
		} else {
			full = true;
		}
		total += k;
	}
	if (cap > 0)
		out[used] = '\0';
	return total;
}

bool
text_sanitize_put(struct buf_out *o, const void *p, size_t n,
    enum text_san_mode mode)
{
	struct buf_cur c;
	char piece[16];
	size_t k;

	buf_cur_init(&c, p, text_input_len(p, n));
	while (!buf_done(&c)) {
		k = text_san_step(&c, mode, piece);
		if (!buf_put(o, piece, k))
			return false;
	}
	return buf_out_ok(o);
}

char *
text_sanitize_dup(const char *s, enum text_san_mode mode)
{
	size_t n = s != NULL ? strlen(s) : 0, need;
	char *out;

	need = text_sanitize(s, n, mode, NULL, 0);
	if ((out = malloc(need + 1)) == NULL)
		return NULL;
	(void)text_sanitize(s, n, mode, out, need + 1);
	return out;
}

void
text_utc(int64_t t, char out[TEXT_UTC_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0 ||
	    strftime(out, TEXT_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, TEXT_UTC_LEN, "?");
}
