/*
 * redact.h: what an APDU trace may show, decided from the bytes alone
 * (STYLE.md §6; DESIGN.md "Security").
 *
 * Command rules (header and Lc always shown, the data field masked):
 *   - VERIFY (20): PIN, PUK, pairing code, OCC template.
 *   - CHANGE REFERENCE DATA (24): old || new PIN or PUK.
 *   - RESET RETRY COUNTER (2C): PUK || new PIN.
 *   - YubiKey IMPORT KEY (FE): private key components.
 *   - YubiKey SET MANAGEMENT KEY (FF): the new management key.
 *   - PUT DATA (DB) of Printed Information 5FC109: ykpiv keeps a
 *     PIN-protected management key there as 88 { 89 key }.  The tag list
 *     (5C 03 5F C1 09) stays visible; the 53 object is masked.
 *   - Chained blocks (CLA b5 set, and the final block) of all of these.
 *     Without context a PUT DATA block that does not start with a tag
 *     list (5C, 7E, 7F61) may continue a 5FC109 write and is masked; with
 *     struct redact_ctx the chain's own decision is followed instead.
 * Response rules (data masked, SW shown):
 *   - GET DATA (CB) of 5FC109, for the same reason.
 *   - GENERAL AUTHENTICATE (87) with a key-management key (9D, retired
 *     82-95): the answer is the decrypted key-transport block or the ECDH
 *     shared secret.
 *   - GET RESPONSE continuing a masked answer (needs struct redact_ctx).
 * Deliberately shown: GENERAL AUTHENTICATE to the management key 9B.
 * Its witness and challenge are fresh random nonces and their encryptions;
 * a trace gives an observer a few known plaintext/ciphertext pairs under
 * 3DES/AES, which neither reveals the key nor can be replayed (the card
 * picks a new witness each time), and seeing them is what makes a failed
 * management-key authentication debuggable.
 *
 * Nothing here allocates.
 */
#ifndef PV_APDU_REDACT_H
#define PV_APDU_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * redact_cmd decides for one command without context.  Returns true when
 * bytes from *keep to the end must be masked (*keep = header + Lc, or more
 * for PUT DATA 5FC109); false with *keep = len when all may be shown.  A
 * command whose length bytes do not parse keeps only its 4-byte header if
 * its INS is a masked one.
 */
bool redact_cmd(const uint8_t *cmd, size_t len, size_t *keep);

/*
 * redact_rsp is true when the data of the response to |cmd| must be
 * masked (everything but SW1 SW2), without context.
 */
bool redact_rsp(const uint8_t *cmd, size_t len);

/*
 * Context for a whole conversation: follows command chains and 61XX
 * GET RESPONSE rounds.  Initialise with redact_ctx_init (or zero it);
 * one context per card connection.
 */
struct redact_ctx {
	bool chain_active;	/* the last command had CLA b5 (more blocks) */
	uint8_t chain_ins;	/* its INS */
	bool chain_secret;	/* mask the chain's remaining blocks */
	bool rsp_secret;	/* mask the answer to the last command */
	bool rsp_more;		/* that answer was 61XX: GET RESPONSE follows */
};

void redact_ctx_init(struct redact_ctx *ctx);

/* redact_ctx_cmd is redact_cmd for the next command of a conversation. */
bool redact_ctx_cmd(struct redact_ctx *ctx, const uint8_t *cmd, size_t len,
    size_t *keep);

/*
 * redact_ctx_rsp decides for the response to the command last given to
 * redact_ctx_cmd.  True when bytes [0, len - 2) must be masked.
 */
bool redact_ctx_rsp(struct redact_ctx *ctx, const uint8_t *rsp, size_t len);

/*
 * redact_hex writes |p| (|len| bytes) as lowercase hex into |out| (|cap|
 * bytes, NUL-terminated when cap > 0), with "**" for each byte in
 * [mask_off, mask_off + mask_len), separated by spaces when |spaced|.
 * Returns the length the full string needs (without the NUL), like
 * snprintf: the output is complete when that is < cap.  |out| may be
 * NULL when |cap| is 0 (to size a buffer first).
 */
size_t redact_hex(char *out, size_t cap, const uint8_t *p, size_t len,
    size_t mask_off, size_t mask_len, bool spaced);

#endif /* PV_APDU_REDACT_H */
