/*
 * state.h: what a virtual card remembers across power cycles.
 *
 * The persistent half of a card: PIN, PUK and their retry counters, the
 * management key, the asymmetric keys with their policies, and the data
 * objects.  Volatile state (selected application, PIN verified, chaining)
 * lives in struct vc_card (card.h).  vc_state_save writes the whole state
 * atomically (temporary file, fsync, rename; mode 0600) in the versioned
 * TLV format described in state.c; private keys are PKCS#8 DER inside.
 */
#ifndef PV_VCARD_STATE_H
#define PV_VCARD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "apdu/buf.h"
#include "apdu/err.h"

enum vc_profile {
	VC_PROFILE_NONE = 0,
	VC_PROFILE_USB_KEY = 1,		/* YubiKey-5-like USB key */
	VC_PROFILE_PIV_CARD = 2,	/* plain SP 800-73-4 card */
	VC_PROFILE_MOBILE = 3,		/* SP 800-157 derived-credential token */
};

/* PIV algorithm identifiers (SP 800-78; PIV-REFERENCE §3.3). */
#define VC_ALG_3DES		0x03
#define VC_ALG_AES128		0x08
#define VC_ALG_AES192		0x0a
#define VC_ALG_AES256		0x0c
#define VC_ALG_RSA1024		0x06
#define VC_ALG_RSA2048		0x07
#define VC_ALG_RSA3072		0x05
#define VC_ALG_RSA4096		0x16
#define VC_ALG_ECCP256		0x11
#define VC_ALG_ECCP384		0x14

/* YubiKey policy bytes (PIV-REFERENCE §9). */
#define VC_PIN_POLICY_DEFAULT	0x00
#define VC_PIN_POLICY_NEVER	0x01
#define VC_PIN_POLICY_ONCE	0x02
#define VC_PIN_POLICY_ALWAYS	0x03
#define VC_TOUCH_POLICY_DEFAULT	0x00
#define VC_TOUCH_POLICY_NEVER	0x01
#define VC_TOUCH_POLICY_ALWAYS	0x02
#define VC_TOUCH_POLICY_CACHED	0x03

#define VC_ORIGIN_GENERATED	0x01
#define VC_ORIGIN_IMPORTED	0x02

/* Key references (SP 800-73-4 Part 1 Table 4b) and the YubiKey F9. */
#define VC_REF_PIN		0x80
#define VC_REF_PUK		0x81
#define VC_REF_ADMIN		0x9b
#define VC_REF_ATTEST		0xf9

/* 9A 9C 9D 9E, retired 82..95, F9: the slots that hold key pairs. */
#define VC_N_SLOTS		25

#define VC_PIN_LEN		8	/* PIN and PUK are sent FF-padded to 8 */
#define VC_MGM_MAX		32
#define VC_DEFAULT_RETRIES	3

/* The largest object a card stores (facial image 12710 + framing). */
#define VC_OBJ_MAX		16384

struct vc_key {
	uint8_t ref;		/* key reference, fixed per slot */
	uint8_t alg;		/* PIV algorithm id; 0 = no key */
	uint8_t pin_policy;	/* resolved: never, once or always */
	uint8_t touch_policy;	/* resolved: never, always or cached */
	uint8_t origin;		/* generated or imported */
	EVP_PKEY *pkey;		/* owned */
};

struct vc_obj {
	uint32_t tag;		/* 0x5fc102, 0x7e, 0x7f61, 0x5fff01, ... */
	uint8_t *data;		/* owned; the content (inside 53 for most) */
	size_t len;
};

struct vc_state {
	enum vc_profile profile;
	uint32_t serial;
	uint8_t version[3];	/* reported by GET VERSION (usb-key) */
	uint8_t pin[VC_PIN_LEN];	/* FF-padded */
	uint8_t puk[VC_PIN_LEN];
	uint8_t pin_max, pin_left;
	uint8_t puk_max, puk_left;
	bool pin_default, puk_default, mgm_default;
	uint8_t mgm_alg;
	uint8_t mgm_touch;	/* touch policy byte of SET MANAGEMENT KEY */
	uint8_t mgm_len;
	uint8_t mgm_key[VC_MGM_MAX];
	struct vc_key keys[VC_N_SLOTS];
	struct vc_obj *objs;	/* owned array */
	size_t n_objs;
};

/* vc_profile_name is "usb-key", "piv-card", "mobile" or "none". */
const char *vc_profile_name(enum vc_profile p);

/* vc_profile_parse maps a name to a profile; VC_PROFILE_NONE if unknown. */
enum vc_profile vc_profile_parse(const char *name);

/*
 * vc_state_factory fills |st| (caller's storage, any contents are
 * overwritten without freeing) as a factory-fresh card of |profile|: PIN
 * 123456, PUK 12345678, 3/3 retries, the default 3DES management key, no
 * keys and no objects, except that a usb-key gets an attestation key in F9
 * and its certificate in 5FFF01.  |version| may be NULL (5.4.3).
 * PV_E_CRYPTO when the attestation key cannot be made; |st| is then empty.
 */
enum pv_err vc_state_factory(struct vc_state *st, enum vc_profile profile,
    uint32_t serial, const uint8_t *version);

/* vc_state_cleanup frees and wipes everything; safe on a zeroed struct. */
void vc_state_cleanup(struct vc_state *st);

/* vc_state_reset_piv puts PIN, PUK, management key, keys (F9 kept) and
 * objects (5FFF01 kept) back to factory values, as YubiKey RESET does. */
void vc_state_reset_piv(struct vc_state *st);

/* vc_state_key returns the slot for key reference |ref|, or NULL. */
struct vc_key *vc_state_key(struct vc_state *st, uint8_t ref);

/* vc_state_obj returns the object with |tag|, or NULL when absent. */
const struct vc_obj *vc_state_obj(const struct vc_state *st, uint32_t tag);

/*
 * vc_state_obj_put stores a copy of |len| bytes as the object |tag|,
 * replacing any earlier content; len 0 deletes the object.  PV_E_NOMEM.
 */
enum pv_err vc_state_obj_put(struct vc_state *st, uint32_t tag,
    const uint8_t *data, size_t len);

/* vc_key_clear drops the key in |k| (the reference stays). */
void vc_key_clear(struct vc_key *k);

/*
 * vc_state_encode appends the serialised state to |out|.  False when the
 * builder fails.  The output holds secrets: clean it with
 * buf_out_cleanup.
 */
bool vc_state_encode(const struct vc_state *st, struct buf_out *out);

/*
 * vc_state_decode parses |len| bytes into |st| (caller's storage,
 * overwritten).  PV_E_MALFORMED (with |why|) on any defect; |st| is then
 * empty.
 */
enum pv_err vc_state_decode(const uint8_t *p, size_t len,
    struct vc_state *st, struct pv_why *why);

/*
 * vc_state_load reads |path| into |st|.  PV_E_NO_FILE when the file
 * does not exist, PV_E_IO or PV_E_MALFORMED otherwise (with |why|).
 */
enum pv_err vc_state_load(const char *path, struct vc_state *st,
    struct pv_why *why);

/*
 * vc_state_save writes |st| to |path| atomically: a new 0600 file next to
 * it (O_EXCL|O_NOFOLLOW), fsync, rename over |path|.  PV_E_IO with |why|.
 */
enum pv_err vc_state_save(const char *path, const struct vc_state *st,
    struct pv_why *why);

#endif /* PV_VCARD_STATE_H */
