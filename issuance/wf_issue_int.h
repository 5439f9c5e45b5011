/*
 * wf_issue_int.h: what the files of the primary issuance workflow share
 * (wf_issue.c runner and decisions, wf_issue_card.c card commands,
 * wf_issue_steps.c the job's steps, wf_issue_obj.c object builders).
 * Not for use outside issuance/wf_issue*.c.
 */
#ifndef PV_ISSUANCE_WF_ISSUE_INT_H
#define PV_ISSUANCE_WF_ISSUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "apdu/piv.h"
#include "apdu/piv_yk.h"
#include "issuance/job.h"
#include "issuance/mgmtkey.h"
#include "issuance/profile.h"
#include "issuance/wf_issue.h"
#include "issuance/yk_protected.h"

/* Step names, in order (the job's steps; job.h). */
enum wf_step {
	WF_S_REGISTER,
	WF_S_MGMT,
	WF_S_CHUID,
	WF_S_ESCROW_PUK,
	WF_S_SET_PUK,
	WF_S_SET_PIN,
	WF_S_KEY_9A,
	WF_S_KEY_9C,
	WF_S_ESCROW_9D,
	WF_S_KEY_9D,
	WF_S_KEY_9E,
	WF_S_CERTS,
	WF_S_OBJECTS,
	WF_S_SECOBJ,
	WF_S_FINISH,
	WF_S__COUNT
};

extern const char *const wf_step_names[WF_S__COUNT];

/* Factory defaults (PIV-REFERENCE §9). */
#define WF_DEFAULT_PIN		"123456"
#define WF_DEFAULT_PUK		"12345678"
#define WF_PUK_LEN		8

/* What the card said before anything was written (read-only). */
struct wf_insp {
	bool yk;			/* GET VERSION answered: YubiKey extensions */
	struct piv_yk_version ver;
	bool has_serial;
	uint32_t serial;
	bool has_mgm_meta;		/* 9B metadata: algorithm, default */
	uint8_t mgm_alg;
	bool mgm_default;
	bool has_pin_meta;		/* PIN metadata: default, tries */
	bool pin_default;
	uint8_t pin_left;
	bool has_puk_meta;
	bool puk_default;
	uint8_t puk_left;
	bool has_pin_status;		/* VERIFY without data */
	struct piv_pin_status pin_status;
	bool has_chuid;			/* a CHUID object is present */
	bool chuid_ok;			/* ... and parses */
	uint8_t chuid_guid[16];
	struct ykp_token ykp;		/* 9B kept for the PIN (ykman) */
	bool read_certs;		/* the four containers were read */
	unsigned certs;			/* bit (1 << config slot) per certificate */
	uint8_t cert_sha256[4][32];	/* of each certificate object's DER */
};

/*
 * wf_done_match (pure): is the inspected card |in| the device |d| of the
 * DONE issue job |j| of person |person_id| (store ids), unchanged since?
 * The device must be ACTIVE and the person's, the job done for it, the
 * serial (when the store has one) and the CHUID GUID the device's, and
 * the card's certificates exactly the store's live ones: |live| bit
 * (1 << config slot) per slot with a live certificate whose DER hashes
 * to live_sha256[slot].  Reads nothing else.
 */
bool wf_done_match(const struct wf_insp *in, const struct store_device *d,
    const struct store_job *j, int64_t person_id, unsigned live,
    const uint8_t live_sha256[4][32]);

/* The workflow's state for one run. */
struct wf {
	const struct wf_issue_params *p;
	const struct wf_card *card;
	struct wf_issue_result *out;
	struct store *st;
	int64_t now;
	struct job job;
	bool resumed;

	struct wf_insp in;

	/* Facts of the job, from its register step. */
	struct store_device dev;
	uint8_t guid[16];
	uint8_t salt[16];		/* per-job PUK salt (not secret alone) */
	uint32_t cred;			/* FASC-N credential number */
	uint8_t fascn[FASCN_LEN];
	char fascn_str[FASCN_STR_LEN];
	int64_t expires;

	/* Decisions. */
	int64_t old_dev[2];		/* --reissue: devices to terminate */
	size_t n_old_dev;
	bool can_import;		/* YubiKey IMPORT KEY available */
	bool escrow_9d;			/* 9D made on the host and escrowed */
	bool can_set_mgmt;		/* YubiKey SET MANAGEMENT KEY available */

	/* Management key: the one the card has now, and maybe the other. */
	struct mgmtkey mk_cur;
	bool mk_cur_default;
	struct mgmtkey mk_alt;
	bool have_alt;
	bool mk_alt_default;
	enum mgmtkey_alg derived_alg;
	struct mgmtkey mk_stored;	/* the key ykman keeps for the PIN,
					 * unlocked (wf_ykp_unlock) */
	bool have_stored;
	bool mk_cur_stored;		/* mk_cur is it: to be replaced */
	bool admin_ok;
	unsigned admin_epoch;

	/* Made in this run. */
	EVP_PKEY *km_key;		/* the 9D private key before its import */
	unsigned made_now;		/* slot bits whose key step ran now */

	/* Certificates. */
	struct profile_cfg pcfg;
	struct profile_subject subj;	/* 9A 9C 9D */
	struct profile_subject subj_9e;

	/* For the progress line of the step being run. */
	enum wf_step_state note_state;
	char note[256];

	uint64_t ns_card;
};

/* ---- wf_issue_card.c -------------------------------------------------------- */

/* Is |r| the card, reader or service going away (resumable)? */
bool wf_err_is_transport(enum pv_err r);

/* wf_card_run runs |fn| through the card seam and counts its time. */
enum pv_err wf_card_run(struct wf *w, wf_card_fn *fn, void *arg,
    struct pv_why *why);

/* wf_inspect reads what wf_insp holds (certificates when |certs|). */
enum pv_err wf_inspect(struct wf *w, bool certs, struct pv_why *why);

/*
 * wf_mgmt_setup works out which 9B key the card has now (metadata, else
 * the job's record) and the derived key; wf_admin authenticates with it
 * (again after a reset), inside a card command group.
 */
enum pv_err wf_mgmt_setup(struct wf *w, struct pv_why *why);
enum pv_err wf_admin(struct wf *w, struct apdu_session *a,
    struct pv_why *why);

/*
 * wf_mgmt_set, inside a group: replace the current key by the derived one
 * (when the token can and it is not already).  *changed says whether the
 * card's key is now the derived one.
 */
enum pv_err wf_mgmt_set(struct wf *w, struct apdu_session *a, bool *changed,
    struct pv_why *why);

/*
 * wf_pad_verify_pin: VERIFY the PIN the person types on the reader's pad,
 * after telling them |prompt|; messages as wf_verify_pin.
 */
enum pv_err wf_pad_verify_pin(struct wf *w, const char *prompt,
    struct pv_why *why);

/*
 * wf_pad_change_pin: CHANGE REFERENCE DATA of the PIN from |cur| to what
 * the person types twice on the pad, after telling them |prompt|.  Its
 * own messages only for a PIN-pad refusal; a wrong |cur| is returned as
 * PV_E_PIN_WRONG with *retries.
 */
enum pv_err wf_pad_change_pin(struct wf *w, const char *prompt,
    const uint8_t *cur, size_t cur_len, int *retries, struct pv_why *why);

/*
 * wf_ykp_probe, after the inspection (and after an already-issued card was
 * recognised: it needs nothing more): on a YubiKey whose 9B key is not
 * the factory one, before the job's mgmt-key step, reads ADMIN DATA into
 * w->in.ykp to learn whether ykman keeps the key for the PIN.  One GET
 * DATA, no PIN; only a transport error fails.
 */
enum pv_err wf_ykp_probe(struct wf *w, struct pv_why *why);

/*
 * wf_ykp_unlock, before the job's mgmt-key step when wf_ykp_probe found
 * a 9B key kept for the PIN (ykman --protect, PIV Manager): unlocks it
 * with the factory PIN (the PIN is set only after that step) into
 * w->mk_stored.  A stale copy (not the card's key) on a resumed job is
 * left alone (the station's own key is then in place); anything else
 * refuses with what to do.
 */
enum pv_err wf_ykp_unlock(struct wf *w, struct pv_why *why);

/* wf_verify_pin: VERIFY |pin| (card group of its own). */
enum pv_err wf_verify_pin(struct wf *w, const uint8_t *pin, size_t len,
    struct pv_why *why);

/* wf_card_pubkey_spki: the SHA-256 of the SPKI of the key in |slot| per
 * GET METADATA; PV_E_NOT_FOUND when no key, PV_E_NOT_SUPPORTED without
 * metadata.  Inside a group. */
enum pv_err wf_card_key_hash(struct apdu_session *a, uint8_t slot,
    uint8_t out[32], struct pv_why *why);

/* ---- wf_issue_steps.c ------------------------------------------------------- */

typedef enum pv_err wf_step_fn(struct wf *w, struct pv_why *why);
extern wf_step_fn *const wf_step_fns[WF_S__COUNT];

/* wf_load_job_facts reads the register step's detail and the device. */
enum pv_err wf_load_job_facts(struct wf *w, struct pv_why *why);

/* wf_subjects builds the certificate subjects (needs the card UUID). */
enum pv_err wf_subjects(struct wf *w, struct pv_why *why);

/* wf_tx_end commits (r == PV_OK) or rolls back, reloading the job when the
 * store did not take it. */
enum pv_err wf_tx_end(struct wf *w, enum pv_err r, struct pv_why *why);

/* ---- wf_issue_obj.c ----------------------------------------------------------- */

/* JSON step details: read one member ("" / 0 / false when absent). */
bool wf_json_str(const char *json, const char *key, char *out, size_t cap);
bool wf_json_i64(const char *json, const char *key, int64_t *out);
bool wf_json_bool(const char *json, const char *key, bool *out);

/* wf_fascn_make: the FASC-N of this job from [fascn] and the person. */
enum pv_err wf_fascn_make(const struct pv_config *cfg,
    const struct identity *id, uint32_t cred, uint8_t out[FASCN_LEN],
    char out_str[FASCN_STR_LEN], struct pv_why *why);

/* Object contents as PUT DATA takes them (buf_out set up by the caller). */
enum pv_err wf_build_chuid(struct wf *w, struct buf_out *out,
    struct pv_why *why);
enum pv_err wf_build_ccc(struct wf *w, struct buf_out *out,
    struct pv_why *why);
enum pv_err wf_build_discovery(struct buf_out *out, struct pv_why *why);
enum pv_err wf_build_keyhist(struct buf_out *out, struct pv_why *why);
enum pv_err wf_build_printed(struct wf *w, struct buf_out *out,
    struct pv_why *why);

/* wf_spki_hash: SHA-256 of |pkey|'s SubjectPublicKeyInfo DER. */
enum pv_err wf_spki_hash(EVP_PKEY *pkey, uint8_t out[32], struct pv_why *why);

/* wf_spki_b64 / wf_spki_from_b64: the SPKI DER as base64 and back. */
enum pv_err wf_spki_b64(EVP_PKEY *pkey, char *out, size_t cap,
    struct pv_why *why);
enum pv_err wf_spki_from_b64(const char *b64, EVP_PKEY **out,
    struct pv_why *why);

/* wf_now_ns: CLOCK_MONOTONIC in nanoseconds. */
uint64_t wf_now_ns(void);

#endif /* PV_ISSUANCE_WF_ISSUE_INT_H */
