/*
 * wf_derive_int.h: what the files of the derive workflow share
 * (wf_derive.c the checks, the person, the register step and the run;
 * wf_derive_pkg.c the package step).  Not for use outside
 * issuance/wf_derive*.c.
 */
#ifndef PV_ISSUANCE_WF_DERIVE_INT_H
#define PV_ISSUANCE_WF_DERIVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/fascn.h"
#include "issuance/card.h"
#include "issuance/derive.h"
#include "issuance/wf.h"

/*
 * The steps of a derive job, in order: (enum name, stored name, function,
 * writes the store).
 *
 *   register    person and primary device (found, or made for a card
 *               issued elsewhere), the derived device (ISSUING) and its
 *               derived row, the job
 *   package     keys made on the station, certified (software
 *               policies), packed with the recovered key-management
 *               keys into the PKCS#12 under a new activation code, the
 *               file written, certificates and activation recorded, the
 *               device ACTIVE, its re-check scheduled, the job DONE
 */
#define WF_DERIVE_STEPS(X) \
	X(REGISTER,	"register",	wd_step_register,	true) \
	X(PACKAGE,	"package",	wd_step_package,	true)

#define WD_S_ENUM(id, name, fn, writes) WD_S_##id,
enum wd_step { WF_DERIVE_STEPS(WD_S_ENUM) WD_S__COUNT };
#undef WD_S_ENUM

#define WD_S_DECL(id, name, fn, writes) wf_step_fn fn;
WF_DERIVE_STEPS(WD_S_DECL)
#undef WD_S_DECL

extern const struct wf_def wf_derive_def;

/* A key-management key to copy: its envelope and certificate. */
struct wd_km {
	int64_t escrow_id;
	int64_t device_id;		/* the device it was escrowed for */
	X509 *cert;			/* owned */
	char serial[STORE_CERT_SERIAL_MAX];
	bool current;			/* the current one; else retired */
	uint8_t *cms;			/* owned: the envelope */
	size_t cms_len;
};

/* The derive workflow's state for one run. */
struct wd {
	const struct wf_derive_params *p;
	struct card *primary;
	struct wf_derive_result *out;
	struct store *st;
	int64_t now;
	struct wf_run run;
	enum config_p12_compat compat;

	/* The primary card, as validated. */
	X509 *pa;			/* its 9A certificate */
	char pa_serial[STORE_CERT_SERIAL_MAX];
	char pa_issuer[STORE_DN_MAX];
	uint8_t fascn[FASCN_LEN];
	uint8_t guid[16];
	struct store_device prim;	/* prim.id == 0: not in the store */
	struct store_person person;	/* person.id == 0: not in the store */

	/* The job's rows (register). */
	struct store_derived drv;

	/* Key-management keys to copy (current first). */
	struct wd_km km[DERIVE_KM_MAX];
	size_t n_km;

	/* The package step wrote the output file (removed again when its
	 * transaction does not commit). */
	bool wrote_file;
};

/* ---- wf_derive.c ------------------------------------------------------------------- */

/*
 * wd_km_recover opens envelope |k| with the KRA key into *out (owned)
 * through recover_key_copy (recover.h: the key must be the certificate's,
 * escrow.recover audited with the derived credential and target).  Call
 * it before the step's transaction: the audit row is its own.
 */
enum pv_err wd_km_recover(struct wd *w, const struct wd_km *k, EVP_PKEY **out,
    struct pv_why *why);

#endif /* PV_ISSUANCE_WF_DERIVE_INT_H */
