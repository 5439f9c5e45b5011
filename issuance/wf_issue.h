/*
 * wf_issue.h: primary issuance, `pivstation issue` (DESIGN.md "Primary
 * issuance", issue 5 §7): a blank card or USB key becomes a FIPS 201 PIV
 * credential for one person, as a resumable job in the store (job.h).
 *
 * Before the job (nothing written anywhere): the identity, configuration,
 * CA and PIN are checked by the caller and wf_issue_check(); the card is
 * inspected (SELECT, version, serial, metadata, CHUID, certificates, PIN
 * and PUK state); a card that is not blank is refused unless |reissue|; a
 * token that cannot import keys is refused when the escrow policy is
 * "required".  Then the job's steps (wf_issue_int.h lists them) run on the
 * workflow runner (wf.h), each a state of the job.
 *
 * A step that writes rows commits them with its "done" mark in one store
 * transaction; a step that only writes to the card is safe to run again.
 * Running the same issuance again after a pulled card, a killed process or
 * a restarted pcscd resumes the person's running job: keys and
 * certificates that still match the card are kept, a certificate that no
 * longer matches is revoked before another is issued for its slot, and the
 * 9D escrow record that is current is always the one of the key on the
 * card.  Secrets (PIN, PUK, management keys, private keys) never reach a
 * log, a trace, a message or the store in clear.
 */
#ifndef PV_ISSUANCE_WF_ISSUE_H
#define PV_ISSUANCE_WF_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "apdu/fascn.h"
#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/pkix_util.h"
#include "issuance/secret.h"
#include "issuance/store.h"

struct ca;		/* issuance/ca.h */
struct wf_def;		/* issuance/wf.h */
struct card;		/* issuance/card.h */
struct wf_hooks;	/* issuance/wf.h */

#define WF_ISSUE_JOB_KIND	"issue"

/* ---- the issuance -------------------------------------------------------------- */

/*
 * wf_keygen_fn makes (or hands over) a new key pair of |alg| for the 9D
 * escrow: *out for EVP_PKEY_free.  Errors as escrow_keygen.
 */
typedef enum pv_err wf_keygen_fn(void *ctx, enum pkix_alg alg,
    EVP_PKEY **out, struct pv_why *why);

struct wf_issue_params {
	const struct pv_config *cfg;
	const struct identity *ident;
	struct ca *ca;			/* opened with its passphrase */
	const struct secret_master *master;
	struct store *st;
	const uint8_t *pin;		/* the person's new PIN (borrowed) */
	size_t pin_len;
	bool pin_pad;			/* instead: the person types it on the
					 * reader's pad (told through the
					 * hooks' ask, WF_ASK_PAD) */
	bool reissue;			/* a card already issued may be redone */
	bool update_person;		/* a person already in the store with
					 * other details is updated (audited
					 * with the old values), not refused */
	const char *home;		/* the station's home: relative paths
					 * of the configuration ([attestation]
					 * roots); NULL: taken as they are */
	int64_t now;			/* 0: the store's clock */
	const struct wf_hooks *hooks;	/* events, questions, cancel; NULL */
	/* Where the escrow-9d step gets its key pair (a pool made ahead,
	 * so the card does not wait for the host); NULL: made there. */
	wf_keygen_fn *keygen;
	void *keygen_ctx;
};

#define WF_SERIAL_MAX	STORE_SERIAL_TEXT_MAX

struct wf_issue_result {
	int64_t job_id;
	int64_t person_id;
	int64_t device_id;
	bool resumed;			/* an earlier run's job was continued */
	enum store_device_type type;
	char serial[WF_SERIAL_MAX];	/* token serial, "" if none */
	uint8_t guid[16];
	char fascn[FASCN_STR_LEN];	/* string form */
	int64_t expires_at;
	char cert_serial[4][STORE_CERT_SERIAL_MAX];	/* 9A 9C 9D 9E */
	bool key_9d_escrowed;
	bool puk_escrowed;
	char mgmt_alg[16];		/* the 9B key's algorithm now */
	bool mgmt_changed;		/* no longer the factory default */
	bool already_issued;		/* the card was the person's DONE job's:
					 * nothing was written (issued_at set) */
	int64_t issued_at;		/* that job's completion time */
	unsigned steps_run;		/* steps done by this run */
	uint64_t ns_total;		/* wall time of wf_issue_run */
	uint64_t ns_card;		/* of which inside card command groups */
};

/*
 * wf_issue_check validates what does not need a card: the configuration
 * for this person (subject templates expand, profile settings), the PIN
 * against [pin], and that the CA can sign (issuing CA and content signer
 * keys loaded) and has a KRA certificate.  Returns PV_OK, or PV_E_INPUT /
 * PV_E_CONFIG / PV_E_STATE with |why| naming what is wrong.
 */
enum pv_err wf_issue_check(const struct wf_issue_params *p,
    struct pv_why *why);

/*
 * wf_issue_check_person: the part of wf_issue_check that depends on the
 * person: the subject templates of |cfg| expand for |ident| into names a
 * certificate can take.  PV_E_INPUT with |why| naming the template.
 */
enum pv_err wf_issue_check_person(const struct pv_config *cfg,
    const struct identity *ident, struct pv_why *why);

/*
 * wf_issue_run issues (or resumes issuing) a primary credential onto the
 * card behind |card| for p->ident.  Without p->reissue, a card that is
 * the ACTIVE device of this person's DONE issue job and still matches the
 * store (serial, CHUID GUID, the four certificates) is reported as done
 * (out->already_issued) with nothing written: a re-run after a crash
 * succeeds.  Returns PV_OK with |out| filled; or:
 *   PV_E_EXISTS   the card is already issued (or being issued to someone
 *                 else) and p->reissue is false; or another run claimed
 *                 this person or this card for a job first (nothing was
 *                 written to the card);
 *   PV_E_INPUT    --pin-pad on a reader without a PIN pad;
 *   PV_E_NOT_FOUND (or the SELECT's error)  the card has no PIV
 *                 application;
 *   PV_E_POLICY   escrow = required and the token cannot import keys;
 *   PV_E_PIN_WRONG, PV_E_BLOCKED  the PIN (or PUK) is not the expected one
 *                 or is blocked;
 *   PV_E_DIFFERENT_CARD  the person's running job is for another card;
 *   PV_E_NOT_SUPPORTED  the token lacks an algorithm the configuration
 *                 wants;
 *   a transport error (PV_E_NO_CARD, PV_E_NO_SERVICE, ...) when the card
 *   went away: the job stays RUNNING and the same call resumes it;
 *   PV_E_DB, PV_E_CRYPTO, ... otherwise.
 * A refusal before the job exists writes nothing to the card or the store.
 * |why| says what happened and, for a resumable failure, which job to
 * resume.  |out| is filled as far as known even on failure (job_id).
 */
enum pv_err wf_issue_run(const struct wf_issue_params *p, struct card *card,
    struct wf_issue_result *out, struct pv_why *why);

/*
 * wf_issue_definition: the issue workflow's steps (wf.h), for a front end
 * that lists them before they run.
 */
const struct wf_def *wf_issue_definition(void);

/* ---- helpers, public for the tests ------------------------------------------- */

/*
 * wf_puk_derive derives the job's PUK: 8 decimal digits from
 * HKDF(master, "pivstation PUK v1", card GUID || job salt).  See
 * wf_issue.c for why the PUK is derived rather than drawn.  |out| is wiped
 * on failure; the caller wipes it after use.
 */
enum pv_err wf_puk_derive(const struct secret_master *m,
    const uint8_t guid[16], const uint8_t salt[16], char out[9]);

/*
 * wf_printed_date writes a Unix time as Printed Information's
 * YYYYMMMDD ("2031MAR05", UTC) into |out|; wf_chuid_date as the CHUID's
 * YYYYMMDD.  False on a clock overflow.
 */
bool wf_printed_date(int64_t t, char out[10]);
bool wf_chuid_date(int64_t t, char out[9]);

#endif /* PV_ISSUANCE_WF_ISSUE_H */
