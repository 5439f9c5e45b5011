/*
 * activation.h: handing a derived credential over to its device once,
 * with a one-time code (SP 800-63B §6.1.2.3; DERIVED-REFERENCE §1.9,
 * §5.5-5.6).
 *
 * `pivstation derive` (and the console) create an activation for a
 * derived credential: an id for the URL (https://HOST/a/<id>, shown as a
 * QR code) and a separate one-time code shown once to the cardholder.
 * Three kinds:
 *
 *   p12, mobileconfig  a payload (the PKCS#12 or the signed Apple
 *                      profile) waits, encrypted, until the device
 *                      collects it with the code (act_collect); the code
 *                      is also the PKCS#12's password
 *   scep               no payload: the device makes its own key and sends
 *                      a certificate request whose challengePassword is
 *                      the code (act_scep_redeem, then derive's CSR path)
 *
 * The code: [derive] activation_code_length (6-16, default 8) characters
 * drawn uniformly with RAND_priv_bytes from activation_code_alphabet
 * (0-9 A-Z a-z by default: the characters SP 800-157r1 App. B allows).
 * It is never stored, logged or put in an audit row: the store keeps
 * HMAC-SHA256(K_code, code), K_code = HKDF(master secret, "pivstation
 * activation code v1"), compared with CRYPTO_memcmp.  An activation
 * expires after activation_minutes (default 10), is usable once, and
 * locks after activation_attempts (default 5) wrong codes.  The payload
 * is sealed with AES-256-GCM under HKDF(master secret, "pivstation
 * activation payload v1", id || 0x00 || code), so that opening it needs
 * the code too, and it is erased from the row (overwritten: the store
 * runs with secure_delete) as soon as the activation is collected,
 * locked, expired or cancelled.
 *
 * Every attempt is audited in the store's log, in the same transaction as
 * the change it makes: activation.create, .attempt (a wrong code: the
 * tries left), .lock, .collect, .redeem, .expire, .cancel, and
 * activation.refused for an attempt on an activation that is not open or
 * an id that does not exist (no row changes; |source| says from where).
 * Audit details hold ids, states and counts only.
 *
 * Threads: no static state.  Each thread passes its own store connection
 * (station_store_open); SQLite's write lock orders concurrent attempts, and
 * each attempt is one transaction (BEGIN IMMEDIATE), so two devices racing
 * with the right code collect once between them: the other gets
 * PV_E_STATE.
 *
 * Errors (class in brackets, apdu/err.h):
 *   PV_E_NO_RECORD   [STATE] no activation with this id (also for an id
 *                    that is not 22 base64url characters), or no open
 *                    SCEP activation for this code
 *   PV_E_AUTH_FAILED [AUTH]  wrong code (|why| gives the tries left)
 *   PV_E_BLOCKED     [AUTH]  locked by wrong codes (now or before)
 *   PV_E_STATE       [STATE] expired, already collected/redeemed,
 *                    cancelled, or the wrong kind for the call
 *   PV_E_INVAL       [INTERNAL] a bad argument (a programmer's error)
 *   PV_E_EXISTS      [STATE] act_create: the code is already the code of
 *                    another open activation (draw another)
 *   PV_E_VERIFY      [VERIFY] the stored payload does not open (altered)
 *   PV_E_CRYPTO, PV_E_NOMEM [INTERNAL]; PV_E_DB [INTERNAL]
 */
#ifndef PV_ISSUANCE_ACTIVATION_H
#define PV_ISSUANCE_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/config.h"
#include "issuance/secret.h"
#include "issuance/store.h"

#define ACT_ID_LEN		STORE_ACT_ID_LEN	/* 22 */
#define ACT_CODE_MIN		6
#define ACT_CODE_MAX		16
#define ACT_SOURCE_MAX		128	/* |source| texts are cut there */
#define ACT_LABEL_CODE		"pivstation activation code v1"
#define ACT_LABEL_PAYLOAD	"pivstation activation payload v1"

/* How codes are made and how long activations live ([derive]). */
struct act_policy {
	unsigned code_len;			/* 6-16 */
	enum config_code_alphabet alphabet;
	unsigned lifetime_s;			/* > 0 */
	unsigned max_attempts;			/* 1-10 */
};

/* act_policy_from_config fills |out| from [derive] of |cfg|. */
void act_policy_from_config(const struct pv_config *cfg,
    struct act_policy *out);

/* A code in clear: a secret.  Wipe with act_code_clear. */
struct act_code {
	char v[ACT_CODE_MAX + 1];		/* NUL-terminated */
};

/*
 * act_code_new draws a new code per |pol| into |out|.  PV_OK, or
 * PV_E_INVAL (a policy out of range), PV_E_CRYPTO (no randomness); |out|
 * is wiped on failure.
 */
enum pv_err act_code_new(const struct act_policy *pol, struct act_code *out,
    struct pv_why *why);

/* act_code_clear wipes |c| (NULL allowed). */
void act_code_clear(struct act_code *c);

/*
 * act_code_hash: the keyed hash the store keeps for |code| (derives
 * K_code from |m|).  PV_OK or PV_E_CRYPTO.
 */
enum pv_err act_code_hash(const struct secret_master *m, const char *code,
    uint8_t out[32]);

/* What an activation is now (no secret in it). */
struct act_info {
	int64_t row_id;				/* activations.id */
	char id[ACT_ID_LEN + 1];		/* the URL id */
	int64_t derived_id;			/* derived.id */
	enum store_act_kind kind;
	/* STORE_ACT_EXPIRED as soon as the time is past, even before the
	 * row says so */
	enum store_act_state state;
	unsigned attempts;			/* wrong codes so far */
	unsigned attempts_left;			/* before it locks */
	bool has_payload;			/* waiting to be collected */
	char payload_name[STORE_ACT_NAME_MAX];	/* file name to offer */
	int64_t created_at;
	int64_t expires_at;
};

/* What to create. */
struct act_new {
	int64_t derived_id;			/* the derived credential */
	enum store_act_kind kind;
	/* p12 / mobileconfig: the bytes to hand over (borrowed; sealed and
	 * stored); NULL for scep, or when the package was handed over
	 * another way (the activation then records only the code) */
	const uint8_t *payload;
	size_t payload_len;			/* <= STORE_ACT_PAYLOAD_MAX */
	const char *payload_name;		/* "alice.p12"; NULL: "" */
	const char *detail_json;		/* more audit detail (a JSON
						 * object, no secrets); NULL */
};

/*
 * act_create records a new activation for |n| with code |code| (made with
 * act_code_new under the same policy; for a PKCS#12 it is already its
 * password) under |pol|, in one transaction (or inside the caller's),
 * audited as activation.create.  |out| receives its id and state.
 * Errors: PV_E_INVAL (bad |n| or code), PV_E_NO_RECORD (no such derived
 * credential), PV_E_EXISTS (the code is another open activation's), and
 * the store's and OpenSSL's.  Nothing is kept on failure.
 */
enum pv_err act_create(struct store *st, const struct secret_master *m,
    const struct act_policy *pol, const struct act_new *n,
    const struct act_code *code, struct act_info *out, struct pv_why *why);

/*
 * act_lookup: the activation with URL id |id| as it is now (for the page
 * that asks for the code).  Reads only, audits nothing.  PV_E_NO_RECORD
 * when there is none (or |id| is malformed).
 */
enum pv_err act_lookup(struct store *st, const char *id,
    struct act_info *out, struct pv_why *why);

/*
 * act_collect hands over the payload of activation |id| for the right
 * |code| (a p12 or mobileconfig activation): one transaction that marks it
 * collected, erases the payload from the store and audits it, naming
 * |source| (who asked: "203.0.113.7", "console"; NULL: "").  On PV_OK
 * *out (for act_payload_free) and *out_len hold the bytes, and |info|
 * (may be NULL) the activation after the change.  A wrong code counts an
 * attempt (PV_E_AUTH_FAILED, or PV_E_BLOCKED when it was the last one),
 * committed and audited before returning.  Other errors: PV_E_NO_RECORD,
 * PV_E_BLOCKED (locked before), PV_E_STATE (expired: the payload is then
 * erased; collected; cancelled; a scep activation), PV_E_VERIFY (the
 * sealed payload does not open).  An expired activation is refused
 * whatever the code.
 */
enum pv_err act_collect(struct store *st, const struct secret_master *m,
    const char *id, const char *code, const char *source, uint8_t **out,
    size_t *out_len, struct act_info *info, struct pv_why *why);

/* act_payload_free wipes and frees a payload act_collect returned. */
void act_payload_free(uint8_t *p, size_t len);

/*
 * act_scep_find: the OPEN, unexpired scep activation whose code is |code|
 * (found by its keyed hash).  Reads only.  PV_E_NO_RECORD when there is
 * none (wrong code, expired, used).
 */
enum pv_err act_scep_find(struct store *st, const struct secret_master *m,
    const char *code, struct act_info *out, struct pv_why *why);

/*
 * act_scep_redeem uses the code of the open scep activation it belongs to:
 * marks it collected, audited as activation.redeem with |source|.  Call it
 * inside the transaction that issues the certificate (store_begin; it
 * nests), so that the code is used if and only if the certificate is
 * recorded.  A code that matches no open scep activation is
 * PV_E_AUTH_FAILED, audited as activation.refused in its own
 * transaction when the caller holds none; a matching one that expired is
 * PV_E_STATE (marked expired likewise).  |out| (may be NULL) gets the
 * activation after the change.
 */
enum pv_err act_scep_redeem(struct store *st, const struct secret_master *m,
    const char *code, const char *source, struct act_info *out,
    struct pv_why *why);

/*
 * act_cancel cancels the open activation |id| (its payload erased),
 * audited as activation.cancel with |reason| (NULL: "").  PV_E_STATE when
 * it is not open; PV_E_NO_RECORD.
 */
enum pv_err act_cancel(struct store *st, const char *id, const char *reason,
    struct pv_why *why);

/*
 * act_cancel_derived cancels every open activation of derived credential
 * |derived_id| (it was terminated); *n_out (may be NULL) counts them.
 * Inside the caller's transaction when it has one.
 */
enum pv_err act_cancel_derived(struct store *st, int64_t derived_id,
    const char *reason, size_t *n_out, struct pv_why *why);

/*
 * act_sweep marks every open activation whose time is past as expired and
 * erases its payload (audited as activation.expire); *n_out (may be
 * NULL) counts them.  The service and `recheck` call it now and then, so
 * no payload outlives its activation.
 */
enum pv_err act_sweep(struct store *st, size_t *n_out, struct pv_why *why);

/* act_info_from_row (pure): |out| from store row |a| at time |now|. */
void act_info_from_row(const struct store_activation *a, int64_t now,
    struct act_info *out);

/* act_id_ok (pure): is |id| 22 base64url characters? */
bool act_id_ok(const char *id);

#endif /* PV_ISSUANCE_ACTIVATION_H */
