/*
 * fake_card.h: a scripted card for unit tests.
 *
 * A test queues the exchanges it expects, in order: a command (hex, spaces
 * ignored, matched exactly or by prefix) and the response to give (data ||
 * SW1 SW2, hex), or a callback that computes the response.  The card plugs
 * into apdu/ through fake_card_transport(), so production code runs
 * unchanged; only the transport differs.
 *
 * On a mismatch, or a command past the end of the script, the card records
 * "exchange K: expected ..., got ..." (see fake_card_error) and answers
 * PV_E_TRANSPORT, and so does every later exchange: a test cannot pass by
 * accident after a mismatch.  fake_card_fail_at() injects a transport
 * failure at exchange K for the failure sweep (STYLE.md §8).
 */
#ifndef PV_TESTS_FAKE_CARD_H
#define PV_TESTS_FAKE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/err.h"

struct fake_card;

/* fake_card_new returns an empty script, or NULL when out of memory. */
struct fake_card *fake_card_new(void);

/* fake_card_free releases |fc| and everything it holds (NULL allowed). */
void fake_card_free(struct fake_card *fc);

/*
 * fake_card_expect queues one expected command (hex, exact match) and its
 * response (data || SW, hex).  Bad hex in either is a test bug: it is
 * recorded as the card's error, so fake_card_done() is false.
 */
void fake_card_expect(struct fake_card *fc, const char *cmd_hex,
    const char *rsp_hex);

/*
 * fake_card_expect_prefix is fake_card_expect, but only the first bytes
 * of the command (as many as |cmd_prefix_hex| holds) must match: for
 * commands that carry random data.
 */
void fake_card_expect_prefix(struct fake_card *fc, const char *cmd_prefix_hex,
    const char *rsp_hex);

/*
 * fake_card_fn computes the response to |cmd| into |rsp| (|rsp_cap|
 * bytes), setting *rsp_len; it returns PV_OK or an error, which the
 * transport passes on (and the card records as its error).  |arg| is what
 * was given to fake_card_expect_fn.
 */
typedef enum pv_err fake_card_fn(void *arg, const uint8_t *cmd,
    size_t cmd_len, uint8_t *rsp, size_t rsp_cap, size_t *rsp_len);

/* fake_card_expect_fn queues one exchange answered by |fn|(|arg|, ...). */
void fake_card_expect_fn(struct fake_card *fc, fake_card_fn *fn, void *arg);

/*
 * fake_card_fail_at makes exchange |k| (1-based, counting every call of
 * the transport) fail with transport error |e| instead of answering.  The
 * exchange still consumes its expectation.  k = 0 disables.
 */
void fake_card_fail_at(struct fake_card *fc, size_t k, enum pv_err e);

/* fake_card_transport returns the transport; it borrows |fc|. */
struct apdu_transport fake_card_transport(struct fake_card *fc);

/* fake_card_done: every expectation was consumed and no error recorded. */
bool fake_card_done(const struct fake_card *fc);

/* fake_card_count: exchanges seen so far (failed ones included). */
size_t fake_card_count(const struct fake_card *fc);

/*
 * fake_card_error returns the first recorded mismatch ("exchange 3:
 * expected 00a4..., got ..."), or NULL.  Valid until fake_card_free.
 */
const char *fake_card_error(const struct fake_card *fc);

#endif /* PV_TESTS_FAKE_CARD_H */
