/*
 * piv_rig.h: shared helpers of the PIV card-edge tests: a session over the
 * scripted fake card, and hex strings for long commands.
 */
#ifndef PV_TESTS_PIV_RIG_H
#define PV_TESTS_PIV_RIG_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/apdu.h"
#include "tests/support/fake_card.h"
#include "tests/support/hex.h"

struct rig {
	struct fake_card *fc;
	struct apdu_session s;
	struct pv_why why;
};

/* A session over a fresh fake card; |extended| as the card's caps say. */
static inline void
rig_init(struct rig *r, bool extended)
{
	struct apdu_transport tr;

	memset(r, 0, sizeof(*r));
	r->fc = fake_card_new();
	cr_assert_not_null(r->fc);
	tr = fake_card_transport(r->fc);
	apdu_session_init(&r->s, &tr);
	r->s.caps.extended = extended;
}

/* Every scripted exchange happened, and nothing else. */
static inline void
rig_done(struct rig *r)
{
	const char *e = fake_card_error(r->fc);

	cr_assert(fake_card_done(r->fc), "fake card: %s",
	    e != NULL ? e : "script not finished");
	fake_card_free(r->fc);
	r->fc = NULL;
}

/* rig_hex: printf into a new string, for commands built from parts. */
static inline char *
rig_hex(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *
rig_hex(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	va_start(ap, fmt);
	(void)vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* rig_bytes: hex of |n| bytes (new string, free it). */
static inline char *
rig_bytes(const uint8_t *p, size_t n)
{
	char *s = hex_encode(p, n);

	cr_assert_not_null(s);
	return s;
}

static inline uint8_t *
rig_unhex(const char *hex, size_t *n)
{
	uint8_t *p;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad test hex %s", hex);
	return p;
}

#endif /* PV_TESTS_PIV_RIG_H */
