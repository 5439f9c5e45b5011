/*
 * derive.h: derived PIV credentials (NIST SP 800-157; DESIGN.md "Derived
 * mobile credential"; DERIVED-REFERENCE §1-3, §5), `pivstation derive`.
 *
 * A derivation starts at a primary PIV card in one reader.  Before any
 * write, anywhere: the card is validated with every check of `pivstation
 * validate` (val_card.h), proof of possession included (PIN VERIFY, then
 * the 9A key signs a fresh challenge); any failure refuses with the
 * report's reasons (PV_E_VERIFY) and only a derive.refused audit row is
 * written.  The person is found by the card (its CHUID GUID or FASC-N in
 * the store, else the FASC-N's person identifier); a card issued
 * elsewhere creates the person (name from the 9A certificate's subject
 * CN, person identifier from the FASC-N) and a device for that card.
 * Then a resumable job (wf.h, kind "derive", one running per person)
 * makes the derived credential, a device of type "mobile" linked to the
 * primary card (store.h, struct store_derived).
 *
 * Targets.  This version makes the p12 target: keys made on the station
 * (SP 800-157r1 AAL2; the station keeps no copy), a Derived PIV
 * Authentication certificate (and a signature certificate where [derive]
 * signature_targets has p12) under the software policies of [derive],
 * packed with the recovered key-management key(s) into one PKCS#12 whose
 * password is a one-time activation code, shown once and kept only as a
 * keyed hash (activation.h).  The token, mobileconfig and csr targets are
 * refused (PV_E_INPUT) until they are made.
 *
 * The escrowed key-management key is copied only where its certificate's
 * policy allows a software keystore (SP 800-157r1 App. A; [derive]
 * software_key_management_policies); otherwise derive refuses
 * (PV_E_POLICY) before writing anything.  Every copy goes through
 * recover_key_copy (recover.h): a reason, escrow.recover audit rows.
 *
 * Steps (wf_derive_int.h): register (person, primary device, derived
 * device and row, the job) and package (keys, certificates, the
 * PKCS#12 written to the output file, activation, device ACTIVE, re-check
 * scheduled, job DONE, one transaction).  A run stopped before package
 * committed (pulled card, killed process, restarted pcscd) is resumed by
 * the same command: the person's running job goes on, and the job has
 * one derived credential (derived.job_id is unique), never two.
 *
 * Threads: nothing static; each thread passes its own store connection.
 */
#ifndef PV_ISSUANCE_DERIVE_H
#define PV_ISSUANCE_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "apdu/err.h"
#include "issuance/activation.h"
#include "issuance/config.h"
#include "issuance/secret.h"
#include "issuance/store.h"

struct ca;
struct card;
struct val_report;
struct val_station;
struct wf_hooks;

#define DERIVE_JOB_KIND		"derive"
#define DERIVE_KM_MAX		21	/* the current key and 20 retired */
#define DERIVE_PATH_MAX		512

struct wf_derive_params {
	const struct pv_config *cfg;
	struct ca *ca;			/* issuing CA (opened with its key) */
	const struct secret_master *master;
	struct store *st;
	struct val_station *vs;		/* the relying-party settings */
	/* The KRA private key (station_kra_key), borrowed; NULL: derive
	 * refuses when a key-management key is to be copied */
	EVP_PKEY *kra_key;
	enum store_derived_target target;
	/* The primary card's PIN (proof of possession), or on its pad. */
	const uint8_t *pin;
	size_t pin_len;
	bool pin_pad;
	/* p12: the package is written to this file (0600; refused when it
	 * exists) */
	const char *out_path;
	int p12_compat;			/* enum config_p12_compat; -1: [derive] */
	/* why the escrowed key is copied (recover.h's rule); NULL:
	 * "derived credential for the cardholder" */
	const char *reason;
	time_t at;			/* validation time; 0: now */
	int64_t now;			/* 0: the store's clock */
	const struct wf_hooks *hooks;	/* events, questions, cancel; NULL */
};

struct wf_derive_result {
	int64_t job_id;
	int64_t person_id;
	int64_t primary_id;		/* the primary card's device */
	int64_t derived_id;		/* derived.id */
	int64_t device_id;		/* the derived credential's device */
	bool resumed;
	bool refused;			/* the primary failed validation */
	bool created_person;		/* a card issued elsewhere */
	bool created_primary;
	bool done;			/* the job finished in this run */
	enum store_derived_target target;
	uint8_t uuid[16];		/* in its certificates' SAN */
	char auth_serial[STORE_CERT_SERIAL_MAX];
	char sign_serial[STORE_CERT_SERIAL_MAX];
	size_t n_km;			/* key-management keys copied */
	char km_serial[DERIVE_KM_MAX][STORE_CERT_SERIAL_MAX];
	bool has_activation;
	struct act_info activation;
	/* The activation code (the PKCS#12 password): shown once, never
	 * stored.  Wipe with wf_derive_result_clear. */
	struct act_code code;
	char out_path[DERIVE_PATH_MAX];	/* the file written, "" when none */
	enum config_p12_compat p12_compat;
	int64_t recheck_due;		/* 0: no re-check scheduled */
	unsigned steps_run;
	uint64_t ns_total;
	uint64_t ns_card;
};

/* wf_derive_result_clear wipes the code. */
void wf_derive_result_clear(struct wf_derive_result *r);

/*
 * wf_derive_check validates what needs no card: the target made by this
 * version and allowed by [derive] targets, the CA key, the PIN given, the
 * output file named and absent.  PV_E_POLICY, PV_E_INPUT, PV_E_EXISTS,
 * PV_E_STATE with |why|.
 */
enum pv_err wf_derive_check(const struct wf_derive_params *p,
    struct pv_why *why);

/*
 * wf_derive_run derives (or resumes deriving) a credential from the
 * primary card behind |primary|.  |rep| (caller's storage, initialised
 * here) receives the primary's validation.  Returns PV_OK with |out|
 * filled; or
 *   PV_E_VERIFY   the primary failed validation (out->refused; |rep| says
 *                 which checks and why; nothing written but a
 *                 derive.refused audit row)
 *   PV_E_POLICY   refused by [derive] (target, max_active, a key-
 *                 management certificate whose policy keeps it in
 *                 hardware), nothing written
 *   PV_E_STATE    the primary card is terminated, suspended or still
 *                 being issued in the store; the person's running derive
 *                 job is for another target or primary card
 *   PV_E_EXISTS   another run claimed this person first; the output file
 *                 exists
 *   PV_E_PIN_WRONG, PV_E_BLOCKED  the primary's PIN refused
 *   a transport error (card gone): the job, once created, stays RUNNING
 *   and the same call resumes it; PV_E_DB, PV_E_CRYPTO, ... otherwise.
 */
enum pv_err wf_derive_run(const struct wf_derive_params *p,
    struct card *primary, struct val_report *rep,
    struct wf_derive_result *out, struct pv_why *why);

#endif /* PV_ISSUANCE_DERIVE_H */
