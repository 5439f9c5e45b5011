/*
 * wf_issue_int.h: what the files of the primary issuance workflow share
 * (wf_issue.c the checks, decisions and run, wf_issue_steps.c the job's
 * steps, wf_issue_obj.c the object builders).  Not for use outside
 * issuance/wf_issue*.c.
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
#include "issuance/card.h"
#include "issuance/card_admin.h"
#include "issuance/job.h"
#include "issuance/mgmtkey.h"
#include "issuance/profile.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"

/*
 * The steps of a primary issuance job, in order: step (enum name, stored
 * name, function, writes the store).  A step that writes rows commits
 * them with its done mark (wf.h); one that only writes to the card is
 * safe to run again.
 *
 *   register    person, device (ISSUING), card UUID, FASC-N credential
 *               number, expiry and the per-job PUK salt; creates the job
 *   mgmt-key    factory 9B key replaced by the per-card derived key
 *   chuid       signed CHUID written first, so the card carries its GUID
 *               (its identity on a resume) from the start
 *   escrow-puk  the PUK sealed to the KRA and stored, before it is set
 *   set-puk     PUK changed from the factory default
 *   set-pin     PIN changed from the factory default to the person's
 *   key-9a/9c   on-card key, certificate issued and recorded
 *   escrow-9d   9D key made on the host, sealed to the KRA, stored
 *   key-9d      9D key imported (or made on the card when not escrowed),
 *               certificate issued and recorded
 *   key-9e      on-card key, certificate issued and recorded
 *   certs       the four certificates written to their containers
 *   objects     CCC; Discovery Object (the card's own kept when its PIN
 *               policy is ours) and Key History, a refusal recorded
 *   secobj      Printed Information, then the Security Object last
 *   finish      device ACTIVE, job DONE
 */
#define WF_ISSUE_STEPS(X) \
	X(REGISTER,	"register",	wf_step_register,	true) \
	X(MGMT,		"mgmt-key",	wf_step_mgmt,		false) \
	X(CHUID,	"chuid",	wf_step_chuid,		false) \
	X(ESCROW_PUK,	"escrow-puk",	wf_step_escrow_puk,	true) \
	X(SET_PUK,	"set-puk",	wf_step_set_puk,	false) \
	X(SET_PIN,	"set-pin",	wf_step_set_pin,	false) \
	X(KEY_9A,	"key-9a",	wf_step_key_9a,		true) \
	X(KEY_9C,	"key-9c",	wf_step_key_9c,		true) \
	X(ESCROW_9D,	"escrow-9d",	wf_step_escrow_9d,	true) \
	X(KEY_9D,	"key-9d",	wf_step_key_9d,		true) \
	X(KEY_9E,	"key-9e",	wf_step_key_9e,		true) \
	X(CERTS,	"certs",	wf_step_certs,		true) \
	X(OBJECTS,	"objects",	wf_step_objects,	false) \
	X(SECOBJ,	"secobj",	wf_step_secobj,		false) \
	X(FINISH,	"finish",	wf_step_finish,		true)

#define WF_S_ENUM(id, name, fn, writes) WF_S_##id,
enum wf_step { WF_ISSUE_STEPS(WF_S_ENUM) WF_S__COUNT };
#undef WF_S_ENUM

extern const struct wf_def wf_issue_def;

/* Factory defaults (PIV-REFERENCE §9). */
#define WF_DEFAULT_PIN		"123456"
#define WF_DEFAULT_PUK		"12345678"
#define WF_PUK_LEN		8

/*
 * wf_done_match (pure): is the inspected card |in| the device |d| of the
 * DONE issue job |j| of person |person_id| (store ids), unchanged since?
 * The device must be ACTIVE and the person's, the job done for it, the
 * serial (when the store has one) and the CHUID GUID the device's, and
 * the card's certificates exactly the store's live ones: |live| bit
 * (1 << config slot) per slot with a live certificate whose DER hashes
 * to live_sha256[slot].  Reads nothing else.
 */
bool wf_done_match(const struct card_facts *in, const struct store_device *d,
    const struct store_job *j, int64_t person_id, unsigned live,
    const uint8_t live_sha256[4][32]);

/* The issue workflow's state for one run. */
struct wf {
	const struct wf_issue_params *p;
	struct card *card;
	struct wf_issue_result *out;
	struct store *st;
	int64_t now;
	struct wf_run run;

	struct card_facts in;

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
	bool factory_chuid;		/* the card's CHUID is factory content
					 * (wf_chuid_factory) */
	bool can_import;		/* YubiKey IMPORT KEY available */
	bool escrow_9d;			/* 9D made on the host and escrowed */

	struct card_admin adm;		/* the 9B key */
	struct ykp_token ykp;		/* where ykman keeps a changed 9B key */
	struct mgmtkey mk_stored;	/* ... unlocked (wf_ykp_unlock) */
	bool have_stored;

	/* Made in this run. */
	EVP_PKEY *km_key;		/* the 9D private key before its import */
	unsigned made_now;		/* slot bits whose key step ran now */

	/* Certificates. */
	struct profile_cfg pcfg;
	struct profile_subject subj;	/* 9A 9C 9D */
	struct profile_subject subj_9e;
};

/* ---- wf_issue_steps.c -------------------------------------------------------- */

#define WF_S_DECL(id, name, fn, writes) wf_step_fn fn;
WF_ISSUE_STEPS(WF_S_DECL)
#undef WF_S_DECL

/* wf_detail: the result recorded by step |s| ("" when none). */
const char *wf_detail(const struct wf *w, enum wf_step s);

/* wf_load_job_facts reads the register step's detail and the device. */
enum pv_err wf_load_job_facts(struct wf *w, struct pv_why *why);

/* wf_subjects builds the certificate subjects (needs the card UUID). */
enum pv_err wf_subjects(struct wf *w, struct pv_why *why);

/* wf_mgmt_setup: which 9B key the card has (metadata, else the job's
 * record) and the derived one. */
enum pv_err wf_mgmt_setup(struct wf *w, struct pv_why *why);

/*
 * wf_ykp_probe, after the inspection (and after an already-issued card was
 * recognised: it needs nothing more): on a YubiKey whose 9B key is not
 * the factory one, before the job's mgmt-key step, reads ADMIN DATA into
 * w->ykp to learn whether ykman keeps the key for the PIN.  One GET DATA,
 * no PIN; only an error that ends card work fails.
 */
enum pv_err wf_ykp_probe(struct wf *w, struct pv_why *why);

/*
 * wf_ykp_unlock, before the job's mgmt-key step when wf_ykp_probe found a
 * 9B key kept for the PIN (ykman --protect, PIV Manager): unlocks it with
 * the factory PIN (the person's PIN is set only after that step) into
 * w->mk_stored.  A stale copy (not the card's key) on a resumed job is
 * left alone (the station's own key is then in place); anything else
 * refuses with what to do.
 */
enum pv_err wf_ykp_unlock(struct wf *w, struct pv_why *why);

/*
 * wf_pad_verify_pin / wf_pad_change_pin: the PIN typed on the reader's
 * pad, after telling the person |prompt| (lengths from [pin]); outcomes
 * as card_pad_verify_pin / card_pad_change_pin.
 */
enum pv_err wf_pad_verify_pin(struct wf *w, const char *prompt,
    struct pv_why *why);
enum pv_err wf_pad_change_pin(struct wf *w, const char *prompt,
    const uint8_t *cur, size_t cur_len, int *retries, struct pv_why *why);

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

/* wf_spki_b64 / wf_spki_from_b64: the SPKI DER as base64 and back. */
enum pv_err wf_spki_b64(EVP_PKEY *pkey, char *out, size_t cap,
    struct pv_why *why);
enum pv_err wf_spki_from_b64(const char *b64, EVP_PKEY **out,
    struct pv_why *why);

#endif /* PV_ISSUANCE_WF_ISSUE_INT_H */
