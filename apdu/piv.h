/*
 * piv.h: the PIV card edge (SP 800-73-4 Part 2 §3; PIV-REFERENCE §1-3).
 *
 * Every command takes a struct apdu_session (apdu.h) and returns enum
 * pv_err with its results in out-parameters.  The card's status word is
 * mapped by sw_to_err() alone: 63CX -> PV_E_PIN_WRONG with *retries = X,
 * 6983 -> PV_E_BLOCKED, 6A82/6A88 -> PV_E_NOT_FOUND, 6982 ->
 * PV_E_SECURITY, and so on (sw.h).  |why| (NULL allowed) gets a sentence
 * naming the command and what went wrong: "GET DATA 5FC102 (CHUID): 6A82:
 * ...", "GENERAL AUTHENTICATE 9A: the card's response is 255 bytes,
 * expected 256".
 *
 * Response data lands in caller-owned struct buf_out (set up with
 * buf_out_alloc; its |max| bounds what the card may send); on failure
 * nothing is appended.  Secrets passed in (PIN, PUK, keys) are borrowed,
 * copied only into command buffers that are wiped before return.
 *
 * The response parsers (piv_apt_parse, piv_pubkey_parse) are public so
 * they can be fuzzed and reused; they are pure.
 */
#ifndef PV_APDU_PIV_H
#define PV_APDU_PIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/buf.h"
#include "apdu/err.h"

/* ---- AIDs (Part 1 §2.2; SP 800-157 App. B) -------------------------------- */

#define PIV_RID_LEN		5
#define PIV_AID_LEN		11	/* full AID incl. version */
#define PIV_AID_TRUNC_LEN	9	/* right-truncated, without version */
/* Use as initialisers: static const uint8_t aid[] = { PIV_AID_BYTES }; */
#define PIV_RID_BYTES		0xa0, 0x00, 0x00, 0x03, 0x08
#define PIV_AID_BYTES		PIV_RID_BYTES, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00
#define PIV_DERIVED_AID_BYTES	PIV_RID_BYTES, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00

/* ---- instructions ------------------------------------------------------------ */

#define PIV_INS_VERIFY		0x20
#define PIV_INS_CHANGE_REF	0x24
#define PIV_INS_RESET_RETRY	0x2c
#define PIV_INS_GEN_KEYPAIR	0x47
#define PIV_INS_GEN_AUTH	0x87
#define PIV_INS_SELECT		0xa4
#define PIV_INS_GET_DATA	0xcb
#define PIV_INS_PUT_DATA	0xdb

/* ---- key and PIN references (Part 1 Tables 4a, 4b) -------------------------- */

#define PIV_REF_GLOBAL_PIN	0x00
#define PIV_REF_PIN		0x80	/* PIV Card Application PIN */
#define PIV_REF_PUK		0x81
#define PIV_KEY_SM		0x04	/* secure messaging */
#define PIV_KEY_AUTH		0x9a	/* PIV Authentication */
#define PIV_KEY_MGMT		0x9b	/* Card Application Administration */
#define PIV_KEY_SIGN		0x9c	/* Digital Signature */
#define PIV_KEY_KEYMGMT		0x9d	/* Key Management */
#define PIV_KEY_CARD_AUTH	0x9e	/* Card Authentication */
#define PIV_KEY_RETIRED_FIRST	0x82
#define PIV_KEY_RETIRED_LAST	0x95
#define PIV_KEY_YK_ATTEST	0xf9	/* YubiKey attestation key */

/* ---- algorithm identifiers (Part 1 Table 5; PIV-REFERENCE §3.3) ------------ */

#define PIV_ALG_3DES_LEGACY	0x00	/* 3-key TDEA, older identifier */
#define PIV_ALG_3DES		0x03	/* 3-key TDEA */
#define PIV_ALG_RSA3072		0x05
#define PIV_ALG_RSA1024		0x06
#define PIV_ALG_RSA2048		0x07
#define PIV_ALG_AES128		0x08
#define PIV_ALG_AES192		0x0a
#define PIV_ALG_AES256		0x0c
#define PIV_ALG_ECC_P256	0x11
#define PIV_ALG_ECC_P384	0x14
#define PIV_ALG_RSA4096		0x16	/* YubiKey 5.7 */
#define PIV_ALG_ED25519		0xe0	/* YubiKey 5.7 */
#define PIV_ALG_X25519		0xe1	/* YubiKey 5.7 */

/* piv_alg_name: "RSA 2048", "AES-192", ...; "unknown" otherwise. */
const char *piv_alg_name(uint8_t alg);

/* piv_alg_is_sym: 3DES or AES (a 9B / symmetric key). */
bool piv_alg_is_sym(uint8_t alg);

/* piv_alg_sym_key_len: 24 for 3DES, 16/24/32 for AES, 0 otherwise. */
size_t piv_alg_sym_key_len(uint8_t alg);

/* piv_alg_block_len: 8 for 3DES, 16 for AES, 0 otherwise. */
size_t piv_alg_block_len(uint8_t alg);

/* piv_alg_rsa_len: modulus bytes (128/256/384/512), 0 if not RSA. */
size_t piv_alg_rsa_len(uint8_t alg);

/* piv_alg_ec_len: field bytes (32 P-256, 48 P-384, 32 for 25519), else 0. */
size_t piv_alg_ec_len(uint8_t alg);

/* ---- PIN and touch policies (YubiKey AA / AB; PIV-REFERENCE §9) ------------ */

#define PIV_PINPOL_DEFAULT	0x00
#define PIV_PINPOL_NEVER	0x01
#define PIV_PINPOL_ONCE		0x02
#define PIV_PINPOL_ALWAYS	0x03
#define PIV_PINPOL_MATCH_ONCE	0x04
#define PIV_PINPOL_MATCH_ALWAYS	0x05
#define PIV_TOUCH_DEFAULT	0x00
#define PIV_TOUCH_NEVER		0x01
#define PIV_TOUCH_ALWAYS	0x02
#define PIV_TOUCH_CACHED	0x03

/* ---- Application Property Template (Part 2 Tables 3-5) --------------------- */

#define PIV_APT_TEXT_MAX	128
#define PIV_APT_MAX_ALGS	32

struct piv_apt {
	bool present;			/* false: SELECT returned no data */
	uint8_t aid[16];		/* 4F: full AID or PIX+version */
	size_t aid_len;
	uint8_t auth_rid[16];		/* 79 { 4F }: allocation authority */
	size_t auth_rid_len;
	uint8_t label[PIV_APT_TEXT_MAX];	/* 50: raw bytes, not NUL-ended */
	size_t label_len;
	bool has_label;
	uint8_t url[PIV_APT_TEXT_MAX];	/* 5F50: raw bytes */
	size_t url_len;
	bool has_url;
	uint8_t algs[PIV_APT_MAX_ALGS];	/* AC { 80 alg ... } */
	size_t n_algs;
	bool has_algs;
};

/*
 * piv_apt_parse parses a SELECT response: 61 { 4F AID, 79 { 4F RID },
 * [50 label], [5F50 url], [AC { 80 alg, ..., 06 oid }]... }.  4F comes
 * first; 79 is required; each of 4F, 79, 50, 5F50 at most once; AC may
 * repeat; unknown tags are skipped; nothing may follow the 61 element.
 * PV_OK or PV_E_MALFORMED ("APT: ...").
 */
enum pv_err piv_apt_parse(const uint8_t *p, size_t len, struct piv_apt *out,
    struct pv_why *why);

/* ---- public keys (7F49; Part 2 §3.3.2) -------------------------------------- */

#define PIV_RSA_MAX_LEN		512
#define PIV_RSA_EXP_MAX_LEN	8
#define PIV_EC_POINT_MAX_LEN	97	/* 04 || X || Y for P-384 */

struct piv_pubkey {
	uint8_t alg;
	uint8_t modulus[PIV_RSA_MAX_LEN];	/* RSA 81, leading zeros removed */
	size_t modulus_len;
	uint8_t exponent[PIV_RSA_EXP_MAX_LEN];	/* RSA 82, leading zeros removed */
	size_t exponent_len;
	uint8_t point[PIV_EC_POINT_MAX_LEN];	/* 86: 04||X||Y, or 25519 key */
	size_t point_len;
};

/*
 * piv_pubkey_parse parses a 7F49 template for algorithm |alg|: RSA
 * 81 modulus (exactly the key size once leading zeros are dropped) then
 * 82 exponent (odd, >= 3, at most 8 bytes); EC 86 uncompressed point
 * (65 or 97 bytes starting 04); Ed25519/X25519 86 32-byte key.  Nothing
 * may follow.  PV_OK, PV_E_MALFORMED, or PV_E_INVAL for an unknown |alg|.
 * piv_pubkey_parse_inner takes the template's content only (YubiKey GET
 * METADATA tag 04 carries it without the 7F49 wrapper).
 */
enum pv_err piv_pubkey_parse(uint8_t alg, const uint8_t *p, size_t len,
    struct piv_pubkey *out, struct pv_why *why);
enum pv_err piv_pubkey_parse_inner(uint8_t alg, const uint8_t *p, size_t len,
    struct piv_pubkey *out, struct pv_why *why);

/* piv_pubkey_build appends 7F49 { ... } for |pk| (the vcard's answer). */
enum pv_err piv_pubkey_build(const struct piv_pubkey *pk, struct buf_out *out,
    struct pv_why *why);

/* ---- card-edge commands ------------------------------------------------------- */

/*
 * piv_select selects the application |aid| (|aid_len| 5..16 bytes; NULL
 * selects PIV with the 9-byte right-truncated AID, as OpenSC does) and,
 * when |apt| is not NULL, parses the Application Property Template it
 * returns (apt->present false if none came).  6A82 -> PV_E_NOT_FOUND.
 */
enum pv_err piv_select(struct apdu_session *s, const uint8_t *aid,
    size_t aid_len, struct piv_apt *apt, struct pv_why *why);

/*
 * piv_get_data reads object |tag| (1-3 bytes: 5FC102, 7E, 7F61) and
 * appends its content to |out|: the value inside 53 for ordinary
 * objects, the whole 7E / 7F61 element for Discovery / BIT group.
 * PV_E_NOT_FOUND for 6A82 and for an empty answer; PV_E_MALFORMED when
 * the answer is not exactly one such element.
 */
enum pv_err piv_get_data(struct apdu_session *s, uint32_t tag,
    struct buf_out *out, struct pv_why *why);

/*
 * piv_put_data writes object |tag|: 5C tag 53 content for ordinary
 * objects; for 7E and 7F61 |content| is the whole element and is sent as
 * it is (it must be exactly one element with that tag).  Long objects are
 * sent chained or extended, as the session allows.
 */
enum pv_err piv_put_data(struct apdu_session *s, uint32_t tag,
    const uint8_t *content, size_t len, struct pv_why *why);

/*
 * piv_verify presents a PIN (1-8 bytes, FF-padded to 8) for reference
 * |ref| (80 PIN, 00 global PIN).  PV_OK; PV_E_PIN_WRONG with *retries
 * (NULL allowed) = tries left; PV_E_BLOCKED; others per sw_to_err.
 */
enum pv_err piv_verify(struct apdu_session *s, uint8_t ref,
    const uint8_t *pin, size_t pin_len, int *retries, struct pv_why *why);

struct piv_pin_status {
	bool verified;
	bool blocked;
	int retries;	/* tries left; -1 when the card did not say */
};

/*
 * piv_verify_status asks, without a PIN (VERIFY with no data), whether
 * |ref| is verified: 9000 verified, 63CX not verified with X tries left,
 * 6983 blocked.  All three give PV_OK; any other answer is an error.
 */
enum pv_err piv_verify_status(struct apdu_session *s, uint8_t ref,
    struct piv_pin_status *out, struct pv_why *why);

/* piv_logout resets the security status of |ref| (VERIFY P1 = FF). */
enum pv_err piv_logout(struct apdu_session *s, uint8_t ref,
    struct pv_why *why);

/*
 * piv_change_reference changes PIN (80, 00) or PUK (81) from |old| to
 * |new_| (each 1-8 bytes, FF-padded).  Errors as piv_verify.
 */
enum pv_err piv_change_reference(struct apdu_session *s, uint8_t ref,
    const uint8_t *old, size_t old_len, const uint8_t *new_, size_t new_len,
    int *retries, struct pv_why *why);

/*
 * piv_reset_retry unblocks the PIN with the PUK and sets |new_pin|.
 * PV_E_PIN_WRONG and *retries refer to the PUK.
 */
enum pv_err piv_reset_retry(struct apdu_session *s, const uint8_t *puk,
    size_t puk_len, const uint8_t *new_pin, size_t new_pin_len, int *retries,
    struct pv_why *why);

/*
 * piv_auth_mgmt authenticates to the card with management key 9B
 * (Part 2 App. A.2, mutual): the card's witness is decrypted and returned
 * with a fresh challenge of ours, and the card's encryption of that
 * challenge is checked in constant time.  |alg| is 00/03 (3DES, 24-byte
 * key) or 08/0A/0C (AES-128/192/256).  PV_OK; PV_E_AUTH_FAILED when the
 * card refuses our witness or answers the challenge wrongly;
 * PV_E_MALFORMED; PV_E_INVAL for a bad |alg|/|key_len|.
 * Use piv_yk_mgmt_alg() (piv_yk.h) to learn |alg| where the token says.
 */
enum pv_err piv_auth_mgmt(struct apdu_session *s, uint8_t alg,
    const uint8_t *key, size_t key_len, struct pv_why *why);

/* piv_auth_mgmt_external: one-way (App. A.1): we encrypt its challenge. */
enum pv_err piv_auth_mgmt_external(struct apdu_session *s, uint8_t alg,
    const uint8_t *key, size_t key_len, struct pv_why *why);

/*
 * piv_sign asks key |key| to sign.  RSA (06 07 05 16): |in| is the
 * k-byte padded block (the caller pads) and k bytes are appended.
 * ECDSA (11 14): |in| is the hash (longer input is cut to the field
 * size) and the DER Ecdsa-Sig-Value is appended after checking its shape.
 * Ed25519 (E0): |in| is the message, 64 bytes appended.
 */
enum pv_err piv_sign(struct apdu_session *s, uint8_t alg, uint8_t key,
    const uint8_t *in, size_t in_len, struct buf_out *out, struct pv_why *why);

/* piv_decrypt: RSA raw decryption of a k-byte block; k bytes appended
 * (the caller removes the padding). */
enum pv_err piv_decrypt(struct apdu_session *s, uint8_t alg, uint8_t key,
    const uint8_t *in, size_t in_len, struct buf_out *out, struct pv_why *why);

/* piv_ecdh: key agreement with the peer's point (65/97 bytes 04||X||Y,
 * or a 32-byte X25519 key); the shared secret (x-coordinate) is
 * appended. */
enum pv_err piv_ecdh(struct apdu_session *s, uint8_t alg, uint8_t key,
    const uint8_t *point, size_t point_len, struct buf_out *out,
    struct pv_why *why);

/*
 * piv_generate generates a key pair in |key| with algorithm |alg| and
 * returns its public key.  |pin_policy| and |touch_policy| are the
 * YubiKey AA/AB bytes; PIV_PINPOL_DEFAULT / PIV_TOUCH_DEFAULT leave them
 * out (a plain card refuses them).
 */
enum pv_err piv_generate(struct apdu_session *s, uint8_t key, uint8_t alg,
    uint8_t pin_policy, uint8_t touch_policy, struct piv_pubkey *out,
    struct pv_why *why);

/* ---- shared by piv*.c ----------------------------------------------------------- */

/*
 * piv_cmd sends one command and maps the status word: PV_OK only for
 * 9000, with response data appended to |out| (NULL: none wanted);
 * otherwise sw_to_err(sw, retries) with "|what|: <SW text>" in |why| and
 * nothing appended.  *sw_out (NULL allowed) gets the final status word.
 * |le| as in struct apdu_cmd.
 */
enum pv_err piv_cmd(struct apdu_session *s, uint8_t ins, uint8_t p1,
    uint8_t p2, const uint8_t *data, size_t data_len, size_t le,
    struct buf_out *out, uint16_t *sw_out, int *retries, const char *what,
    struct pv_why *why);

#endif /* PV_APDU_PIV_H */
