/*
 * piv_yk.h: YubiKey PIV extensions (PIV-REFERENCE §9; Yubico SDK APDU
 * documentation, yubico-piv-tool lib/ykpiv.h).
 *
 * Conventions as in piv.h: a struct apdu_session in, enum pv_err out,
 * results through out-parameters, a sentence in |why|.  A plain PIV card
 * answers these with 6D00 (instruction not supported), which sw_to_err()
 * maps to PV_E_NOT_SUPPORTED.
 *
 * The management key algorithm is never assumed: piv_yk_mgmt_alg() reads
 * it from GET METADATA and reports PV_E_NOT_SUPPORTED when the token
 * cannot say (firmware before 5.3 and plain cards), leaving the choice
 * (3DES there) to the caller.
 */
#ifndef PV_APDU_PIV_YK_H
#define PV_APDU_PIV_YK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "apdu/piv.h"

#define PIV_YK_INS_MOVE_KEY	0xf6
#define PIV_YK_INS_METADATA	0xf7
#define PIV_YK_INS_SERIAL	0xf8
#define PIV_YK_INS_ATTEST	0xf9
#define PIV_YK_INS_SET_RETRIES	0xfa
#define PIV_YK_INS_RESET	0xfb
#define PIV_YK_INS_VERSION	0xfd
#define PIV_YK_INS_IMPORT	0xfe
#define PIV_YK_INS_SET_MGMT	0xff

#define PIV_YK_ORIGIN_GENERATED	0x01
#define PIV_YK_ORIGIN_IMPORTED	0x02
#define PIV_YK_ALG_PIN		0xff	/* metadata 01 for PIN and PUK */
#define PIV_YK_DELETE		0xff	/* MOVE KEY destination: delete */

struct piv_yk_version {
	uint8_t major;
	uint8_t minor;
	uint8_t patch;
};

/* piv_yk_version_ge: |v| is at least major.minor.patch. */
bool piv_yk_version_ge(const struct piv_yk_version *v, uint8_t major,
    uint8_t minor, uint8_t patch);

/* piv_yk_get_version: GET VERSION (FD); the answer must be 3 bytes. */
enum pv_err piv_yk_get_version(struct apdu_session *s,
    struct piv_yk_version *out, struct pv_why *why);

/* piv_yk_get_serial: GET SERIAL (F8); 4 bytes, big-endian. */
enum pv_err piv_yk_get_serial(struct apdu_session *s, uint32_t *out,
    struct pv_why *why);

/*
 * piv_yk_read_serial reads the serial of a YubiKey whose version is |ver|:
 * GET SERIAL from firmware 5 on; before that (NEO, YubiKey 4) the OTP
 * application's serial command (SELECT A0 00 00 05 27 20 01 01, then
 * 00 01 10 00), after which PIV is selected again whatever happened, so
 * that the caller's next command reaches PIV.  PV_E_NOT_SUPPORTED for
 * version 0 (not a YubiKey's answer).  The re-SELECT failing is returned
 * over the serial's own outcome.
 */
enum pv_err piv_yk_read_serial(struct apdu_session *s,
    const struct piv_yk_version *ver, uint32_t *out, struct pv_why *why);

struct piv_yk_metadata {
	bool has_alg;
	uint8_t alg;			/* 01; PIV_YK_ALG_PIN for PIN/PUK */
	bool has_policy;
	uint8_t pin_policy;		/* 02, first byte */
	uint8_t touch_policy;		/* 02, second byte */
	bool has_origin;
	uint8_t origin;			/* 03: generated or imported */
	bool has_pubkey;
	struct piv_pubkey pubkey;	/* 04 */
	bool has_default;
	bool is_default;		/* 05: PIN, PUK or 9B still default */
	bool has_retries;
	uint8_t retries_total;		/* 06 */
	uint8_t retries_left;
};

/*
 * piv_yk_metadata_parse parses a GET METADATA answer: 01 algorithm
 * (1 byte), 02 policy (2), 03 origin (1: 01 or 02), 04 public key (the
 * content of a 7F49 template for the algorithm in 01, which must come
 * first), 05 is-default (1: 00 or 01), 06 retries (2: total, left <=
 * total).  Each at most once; unknown tags (biometric 07, 08) skipped.
 */
enum pv_err piv_yk_metadata_parse(const uint8_t *p, size_t len,
    struct piv_yk_metadata *out, struct pv_why *why);

/* piv_yk_get_metadata: GET METADATA (F7) for key or PIN reference |ref|. */
enum pv_err piv_yk_get_metadata(struct apdu_session *s, uint8_t ref,
    struct piv_yk_metadata *out, struct pv_why *why);

/*
 * piv_yk_mgmt_alg reads the 9B algorithm (03, 08, 0A, 0C) and whether the
 * key is still the factory default.  PV_E_NOT_SUPPORTED when the token
 * has no metadata (6D00, 6A88, 6A81, 6B00): the caller decides (3DES for
 * YubiKeys before 5.3 and plain cards).  *is_default is false when the
 * token does not say.
 */
enum pv_err piv_yk_mgmt_alg(struct apdu_session *s, uint8_t *alg,
    bool *is_default, struct pv_why *why);

/*
 * piv_yk_import_rsa imports an RSA private key into |key| (IMPORT KEY,
 * FE): |comp| holds p, q, dP, dQ, qInv (big-endian, any leading zeros),
 * each left-padded to half the modulus of |alg| (RSA 1024..4096).
 * |pin_policy|/|touch_policy| as in piv_generate.  The command buffer is
 * wiped before return.
 */
enum pv_err piv_yk_import_rsa(struct apdu_session *s, uint8_t key,
    uint8_t alg, const uint8_t *const comp[5], const size_t comp_len[5],
    uint8_t pin_policy, uint8_t touch_policy, struct pv_why *why);

/*
 * piv_yk_import_ec imports an EC private scalar (P-256, P-384: left-padded
 * to the field size, tag 06) or a 32-byte Ed25519 (07) / X25519 (08) key.
 */
enum pv_err piv_yk_import_ec(struct apdu_session *s, uint8_t key,
    uint8_t alg, const uint8_t *priv, size_t priv_len, uint8_t pin_policy,
    uint8_t touch_policy, struct pv_why *why);

/*
 * piv_yk_attest appends the attestation certificate for |key| (ATTEST,
 * F9): DER, must be one SEQUENCE.
 */
enum pv_err piv_yk_attest(struct apdu_session *s, uint8_t key,
    struct buf_out *out, struct pv_why *why);

/*
 * piv_des_key_weak is true when the 8-byte DES key |key| is one of the 4
 * weak or 12 semi-weak DES keys (FIPS 74 §3.6), parity bits ignored.
 */
bool piv_des_key_weak(const uint8_t key[8]);

/*
 * piv_yk_3des_key_weak is true when one of the three DES keys in the
 * 24-byte 3DES key |key| is a weak or semi-weak DES key, parity bits
 * ignored (firmware-notes/mgmt-key-weak-3des.md).
 */
bool piv_yk_3des_key_weak(const uint8_t key[24]);

/*
 * piv_yk_set_mgmt_key sets the 9B key (SET MANAGEMENT KEY, FF) with
 * algorithm |alg| (03, 08, 0A, 0C; |key_len| must match) and, with
 * |require_touch|, a touch requirement.  Needs 9B authentication first.
 * A weak 3DES key is refused (PV_E_INVAL) before anything is sent.
 */
enum pv_err piv_yk_set_mgmt_key(struct apdu_session *s, uint8_t alg,
    const uint8_t *key, size_t key_len, bool require_touch,
    struct pv_why *why);

/*
 * piv_yk_set_pin_retries sets PIN and PUK tries (1-255 each; SET PIN
 * RETRIES, FA).  Needs 9B authentication and a verified PIN; resets PIN
 * and PUK to their defaults.
 */
enum pv_err piv_yk_set_pin_retries(struct apdu_session *s, uint8_t pin_tries,
    uint8_t puk_tries, struct pv_why *why);

/*
 * piv_yk_reset resets the PIV application (RESET, FB).  The token only
 * agrees when PIN and PUK are both blocked: 6985 -> PV_E_CONDITIONS.
 */
enum pv_err piv_yk_reset(struct apdu_session *s, struct pv_why *why);

/*
 * piv_yk_move_key moves the key in |from| to |to| (MOVE KEY, F6;
 * firmware 5.7); |to| = PIV_YK_DELETE deletes it.
 */
enum pv_err piv_yk_move_key(struct apdu_session *s, uint8_t from, uint8_t to,
    struct pv_why *why);

#endif /* PV_APDU_PIV_YK_H */
