/*
 * mgmtkey.h: per-card PIV administration keys (9B) derived from the
 * station master secret, so nothing per card needs storing:
 *
 *   key = HKDF-SHA256(IKM = master secret, salt = the station's salt,
 *                     info = "pivstation 9B v1" || card id, L)
 *
 * where the card id is the token serial (4 bytes, big-endian) or the card
 * GUID (16 bytes), and L is 32 (AES-256), 24 (AES-192), 16 (AES-128) or
 * 24 (3DES: DES parity bits then set; weak, semi-weak and repeated halves
 * refused, re-derived with a counter byte appended to info).
 */
#ifndef PV_ISSUANCE_MGMTKEY_H
#define PV_ISSUANCE_MGMTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

/* PIV algorithm identifiers (PIV-REFERENCE §3.3). */
enum mgmtkey_alg {
	MGMTKEY_3DES = 0x03,
	MGMTKEY_AES128 = 0x08,
	MGMTKEY_AES192 = 0x0a,
	MGMTKEY_AES256 = 0x0c
};

/* Capabilities the caller found on the token. */
#define MGMTKEY_CAP_3DES	(1u << 0)
#define MGMTKEY_CAP_AES128	(1u << 1)
#define MGMTKEY_CAP_AES192	(1u << 2)
#define MGMTKEY_CAP_AES256	(1u << 3)

#define MGMTKEY_MAX_LEN		32
#define MGMTKEY_MASTER_MIN	32	/* bytes of station master secret */
#define MGMTKEY_ID_MAX		64
#define MGMTKEY_INFO_LABEL	"pivstation 9B v1"

/* The YubiKey factory default 9B key: 01..08 three times. */
extern const uint8_t mgmtkey_yubikey_default[24];

struct mgmtkey {
	enum mgmtkey_alg alg;
	uint8_t key[MGMTKEY_MAX_LEN];	/* secret */
	size_t len;
};

/* mgmtkey_clear wipes |k|; safe on a zeroed struct. */
void mgmtkey_clear(struct mgmtkey *k);

/* mgmtkey_alg_len: key bytes for |alg| (0 for an unknown value). */
size_t mgmtkey_alg_len(enum mgmtkey_alg alg);

/* mgmtkey_alg_name: "AES-256" ...; "unknown". */
const char *mgmtkey_alg_name(enum mgmtkey_alg alg);

/*
 * mgmtkey_caps_yubikey: what a YubiKey of firmware |major|.|minor|.|patch|
 * accepts as 9B key: 3DES always, AES-128/192/256 from 5.4.2.
 */
unsigned mgmtkey_caps_yubikey(unsigned major, unsigned minor, unsigned patch);

/*
 * mgmtkey_pick chooses the strongest of |caps|: AES-256, AES-192, AES-128,
 * then 3DES.  PV_E_NOT_SUPPORTED when |caps| names none.
 */
enum pv_err mgmtkey_pick(unsigned caps, enum mgmtkey_alg *out);

/*
 * mgmtkey_hkdf_sha256 is RFC 5869 HKDF with SHA-256 (EVP_KDF "HKDF");
 * |salt| and |info| may be empty.  Writes |out_len| (1..8160) bytes.
 */
enum pv_err mgmtkey_hkdf_sha256(const uint8_t *ikm, size_t ikm_len,
    const uint8_t *salt, size_t salt_len, const uint8_t *info,
    size_t info_len, uint8_t *out, size_t out_len, struct pv_why *why);

/*
 * mgmtkey_derive derives the 9B key of the card identified by |id|
 * (1..MGMTKEY_ID_MAX bytes) for |alg| from the station |master| secret
 * (at least MGMTKEY_MASTER_MIN bytes) and |salt| (may be empty).  The
 * same inputs always give the same key.  |out| is wiped on failure.
 */
enum pv_err mgmtkey_derive(const uint8_t *master, size_t master_len,
    const uint8_t *salt, size_t salt_len, const uint8_t *id, size_t id_len,
    enum mgmtkey_alg alg, struct mgmtkey *out, struct pv_why *why);

/* mgmtkey_des_weak: is this 8-byte DES key weak or semi-weak (parity ignored)? */
bool mgmtkey_des_weak(const uint8_t k[8]);

#endif /* PV_ISSUANCE_MGMTKEY_H */
