/*
 * harness.h: a virtual card in memory for the vcard unit tests.
 *
 * h_card(profile, quirks) makes a factory card; h_tx() sends one APDU
 * given in hex and returns the status word, leaving the response data in
 * h_rsp / h_rsp_len.  Helpers perform the common steps (SELECT, PIN,
 * management-key authentication, full reads through GET RESPONSE).
 */
#ifndef PV_TESTS_VCARD_HARNESS_H
#define PV_TESTS_VCARD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "vcard/card.h"
#include "vcard/state.h"

extern struct vc_state h_st;
extern struct vc_card *h_c;
extern uint8_t h_rsp[70000];
extern size_t h_rsp_len;
extern unsigned h_saves;		/* save callback calls */
extern enum vc_action h_act;		/* action of the last h_tx */

/* h_card makes the card (and frees an earlier one). */
void h_card(enum vc_profile profile, unsigned quirks);

/* h_card_cfg: with a full configuration (faults). */
void h_card_cfg(enum vc_profile profile, const struct vc_config *cfg);

/* h_card_fw: a factory usb-key reporting firmware |maj|.|min|.|patch|
 * (as made with --firmware). */
void h_card_fw(uint8_t maj, uint8_t min, uint8_t patch);

/* h_done frees everything (use as a Criterion .fini). */
void h_done(void);

/* h_tx sends the APDU in |hex|; returns SW (0 when no reply). */
uint16_t h_tx(const char *hex);

/* h_txb sends raw bytes. */
uint16_t h_txb(const uint8_t *p, size_t n);

/* h_rsp_hex is the response data in lowercase hex (static buffer). */
const char *h_rsp_hex(void);

/* h_select sends SELECT with the 9-byte truncated PIV AID; asserts 9000. */
void h_select(void);

/* h_verify sends VERIFY with "123456" and asserts 9000. */
void h_verify(void);

/* h_admin authenticates 9B (mutual, default 3DES key); asserts 9000. */
void h_admin(void);

/* h_admin_key: mutual authentication with |key| of |alg|; returns SW. */
uint16_t h_admin_key(uint8_t alg, const uint8_t *key);

/*
 * h_read_all sends |hex| and follows 61XX with GET RESPONSE (Le 00) until
 * the end; returns the final SW, all data in h_all / h_all_len and the
 * number of APDUs in *n_apdus (may be NULL).
 */
extern uint8_t h_all[70000];
extern size_t h_all_len;
uint16_t h_read_all(const char *hex, unsigned *n_apdus);

/* h_generate: GENERATE in |slot| with |alg| (after h_admin); returns the
 * public key parsed from the 7F49 response (caller frees). */
EVP_PKEY *h_generate(uint8_t slot, uint8_t alg);

/* h_sign sends GA with |in| for |slot|/|alg|; returns SW, result in h_all. */
uint16_t h_ga(uint8_t alg, uint8_t slot, uint8_t tag, const uint8_t *in,
    size_t n);

#endif /* PV_TESTS_VCARD_HARNESS_H */
