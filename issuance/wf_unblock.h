/*
 * wf_unblock.h: the help desk unblocks (or resets a forgotten) PIN with
 * the card's escrowed PUK: `pivstation unblock -r R` and the console's
 * help-desk screen.  A workflow on the runner (wf.h), as a resumable job
 * of kind "unblock":
 *
 *   register    the card is a device of this station (serial, else CHUID
 *               GUID), active, with an escrowed PUK; the job claims the
 *               person and the card
 *   reset-pin   the PUK is opened from its escrow envelope with the key
 *               recovery agent's key (and checked against the fingerprint
 *               recorded at issuance); RESET RETRY COUNTER with it sets
 *               the new PIN.  On a PIN-pad reader the PIN is reset to a
 *               random temporary value, which the cardholder replaces at
 *               once by typing the new PIN twice on the pad: the new PIN
 *               never reaches the station.  Running the step again is
 *               safe (the PUK still works whatever the PIN is)
 *   finish      audited ("pin.unblock"), job done
 *
 * The PUK, the temporary PIN and the new PIN are never logged, traced or
 * stored; they are wiped after use.
 */
#ifndef PV_ISSUANCE_WF_UNBLOCK_H
#define PV_ISSUANCE_WF_UNBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/secret.h"
#include "issuance/store.h"

struct card;
struct wf_def;
struct wf_hooks;

#define WF_UNBLOCK_JOB_KIND	"unblock"

struct wf_unblock_params {
	const struct pv_config *cfg;
	struct store *st;
	const struct secret_master *master;
	X509 *kra_cert;			/* the key recovery agent (borrowed) */
	EVP_PKEY *kra_key;
	const uint8_t *pin;		/* the new PIN (borrowed) */
	size_t pin_len;
	bool pin_pad;			/* instead: typed on the reader's pad */
	const struct wf_hooks *hooks;	/* events, questions, cancel; NULL */
};

struct wf_unblock_result {
	int64_t job_id;
	int64_t device_id;
	int64_t person_id;
	char person[3 * IDENTITY_NAME_MAX + 8];	/* printed name */
	bool resumed;
	bool was_blocked;		/* the PIN was blocked before */
	unsigned steps_run;
};

/* wf_unblock_definition: the workflow's steps (wf.h). */
const struct wf_def *wf_unblock_definition(void);

/*
 * wf_unblock_check: what needs no card: the new PIN against [pin] (not
 * with pin_pad), the KRA certificate and key.  PV_OK or PV_E_INPUT /
 * PV_E_STATE with |why|.
 */
enum pv_err wf_unblock_check(const struct wf_unblock_params *p,
    struct pv_why *why);

/*
 * wf_unblock_run unblocks the PIN of the card behind |card| (or resumes
 * the person's unblock job).  Returns PV_OK with |out| filled; or
 *   PV_E_NO_RECORD  the card is not a device of this station;
 *   PV_E_STATE      the device is not active, or has no escrowed PUK;
 *   PV_E_BLOCKED    the card's PUK is blocked (the card must be reissued);
 *   PV_E_VERIFY     the envelope does not open with this KRA, or holds a
 *                   PUK other than the one recorded;
 *   PV_E_INPUT / PV_E_TIMEOUT / PV_E_CANCELLED  from the pad;
 *   a transport error when the card went away: the job stays RUNNING and
 *   the same call resumes it; PV_E_DB, PV_E_CRYPTO, ... otherwise.
 */
enum pv_err wf_unblock_run(const struct wf_unblock_params *p,
    struct card *card, struct wf_unblock_result *out, struct pv_why *why);

#endif /* PV_ISSUANCE_WF_UNBLOCK_H */
