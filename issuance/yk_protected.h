/*
 * yk_protected.h: YubiKeys whose management key (9B) ykman or the YubiKey
 * PIV Manager keeps where the PIN unlocks it
 * (firmware-notes/ykpiv-printed-info-mgmt-key.md):
 *
 *   stored   `ykman piv access change-management-key --protect` (and
 *            yubico-piv-tool's PIN-protected mode): a random 9B key kept in
 *            Printed Information 5FC109 as 88 { 89 <key> }, readable after
 *            VERIFY; ADMIN DATA 5FFF00 = 80 { 81 <flags, 02 set> }.
 *   derived  the YubiKey PIV Manager's older mode, which ykman still
 *            honours: 9B = PBKDF2-HMAC-SHA1(PIN, salt, 10000, 24 bytes),
 *            3DES, with the 16-byte salt in ADMIN DATA 80 { 82 <salt> }.
 *
 * ADMIN DATA is readable without the PIN, so a token says which mode it is
 * in before anything is spent; the key itself needs the PIN.  Issuance
 * unlocks such a key with the token's current PIN, uses it to put its own
 * per-card key in place, then removes the stored copy and the flags
 * (ykp_forget) so that ykman no longer looks for a key there.
 *
 * The parsers treat the bytes as hostile (tests/fuzz/fuzz_ykadmin.c).
 * Keys and PINs are wiped on every path.
 */
#ifndef PV_ISSUANCE_YK_PROTECTED_H
#define PV_ISSUANCE_YK_PROTECTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/buf.h"
#include "apdu/err.h"
#include "issuance/mgmtkey.h"

/* ADMIN DATA flags (tag 81; yubico-piv-tool lib/internal.h, ykman piv.py). */
#define YKP_FLAG_PUK_BLOCKED	0x01	/* PUK blocked on purpose (PIN only) */
#define YKP_FLAG_MGM_STORED	0x02	/* 9B kept in Printed Information */

#define YKP_SALT_LEN		16
#define YKP_PBKDF2_ITER		10000

/* ADMIN DATA as read (a view into nothing: values are copied). */
struct ykp_admin {
	bool has_flags;
	uint8_t flags;			/* 81 */
	bool has_salt;
	uint8_t salt[YKP_SALT_LEN];	/* 82: the 9B key is derived from the PIN */
	bool has_time;
	uint32_t pin_time;		/* 83: when the PIN was last changed */
};

/*
 * ykp_admin_parse parses the content of ADMIN DATA (what GET DATA 5FFF00
 * returns inside 53): 80 { 81 flags (1), 82 salt (16), 83 time (4) },
 * each at most once, other tags inside 80 skipped, nothing after 80.
 * PV_E_MALFORMED with |why| otherwise; |out| is zeroed first.
 */
enum pv_err ykp_admin_parse(const uint8_t *p, size_t len,
    struct ykp_admin *out, struct pv_why *why);

/*
 * ykp_admin_build writes |a| as ADMIN DATA content (80 { 81, 82, 83 } for
 * the members it has, in that order) to |out|; nothing at all when it has
 * none (PUT DATA of an empty object deletes it).  PV_E_NOMEM when |out|
 * cannot take it.
 */
enum pv_err ykp_admin_build(const struct ykp_admin *a, struct buf_out *out);

/*
 * ykp_stored_key_parse takes the 9B key out of Printed Information content
 * 88 { 89 <key> } (other tags inside 88 skipped, nothing after 88) for a
 * key of |alg|: the key must have that algorithm's length.  PV_E_NOT_FOUND
 * when 88 holds no 89 (ykman's "no stored key"), PV_E_MALFORMED otherwise;
 * the message never shows key bytes.  |out| is wiped on failure.
 */
enum pv_err ykp_stored_key_parse(const uint8_t *p, size_t len,
    enum mgmtkey_alg alg, struct mgmtkey *out, struct pv_why *why);

/*
 * ykp_derive_key: the YubiKey PIV Manager's 9B key for |pin| and |salt|:
 * PBKDF2-HMAC-SHA1, 10000 iterations, 24 bytes, 3DES.  PV_E_CRYPTO.
 */
enum pv_err ykp_derive_key(const uint8_t *pin, size_t pin_len,
    const uint8_t salt[YKP_SALT_LEN], struct mgmtkey *out,
    struct pv_why *why);

/* What a token says about its 9B key without the PIN. */
struct ykp_token {
	bool read;			/* ADMIN DATA was asked for */
	bool present;			/* ... and the token has it */
	bool malformed;			/* ... and it did not parse */
	struct ykp_admin admin;		/* when present and parsed */
	bool stored;			/* flag 02: the key is in 5FC109 */
	bool derived;			/* salt 82: the key comes from the PIN */
};

/*
 * ykp_token_from fills |out| from ADMIN DATA content |p|,|len| as GET DATA
 * returned it (the object exists): which mode, or malformed (then
 * neither).  For callers that read the object themselves (diag).
 */
void ykp_token_from(const uint8_t *p, size_t len, struct ykp_token *out);

/* ykp_has_key: the token keeps its 9B key where the PIN unlocks it. */
bool ykp_has_key(const struct ykp_token *t);

/* ykp_describe: "PIN-protected (stored on the token)", "derived from the
 * PIN (PBKDF2, YubiKey PIV Manager)", or NULL for neither. */
const char *ykp_describe(const struct ykp_token *t);

/*
 * ykp_probe reads ADMIN DATA (GET DATA 5FFF00, no PIN needed) into |out|.
 * A missing object means neither mode; a malformed one is recorded
 * (out->malformed) and means neither.  Returns PV_OK, or the transport
 * error that stopped it.
 */
enum pv_err ykp_probe(struct apdu_session *a, struct ykp_token *out,
    struct pv_why *why);

/*
 * ykp_unlock fetches the 9B key of a token in one of the two modes with
 * its current |pin|: VERIFY, then the key (read from 5FC109, or derived
 * from the PIN and the salt), then a mutual authentication with it as
 * |alg| (the card's algorithm, from its metadata; 3DES when it cannot
 * say), so that the key returned is the one the card holds; the card is
 * then authenticated.  Returns PV_OK with |out|; PV_E_PIN_WRONG (with
 * *retries) or PV_E_BLOCKED; PV_E_NOT_FOUND when 5FC109 holds no key;
 * PV_E_AUTH_FAILED when the key found is not the card's (another
 * algorithm or value: stale); PV_E_MALFORMED; a transport error.  |out| is
 * wiped unless PV_OK.  |why| never shows the key or the PIN.
 */
enum pv_err ykp_unlock(struct apdu_session *a, const struct ykp_token *t,
    const uint8_t *pin, size_t pin_len, enum mgmtkey_alg alg,
    struct mgmtkey *out, int *retries, struct pv_why *why);

/*
 * ykp_forget, once the token has another 9B key and it is authenticated:
 * rewrites ADMIN DATA without flag 02 and salt 82 (deleting the object
 * when nothing is left), then empties 5FC109 when flag 02 was set, in
 * that order so that an interruption never leaves the flag pointing at a
 * missing key.  Does nothing for a token in neither mode.
 */
enum pv_err ykp_forget(struct apdu_session *a, const struct ykp_token *t,
    struct pv_why *why);

#endif /* PV_ISSUANCE_YK_PROTECTED_H */
