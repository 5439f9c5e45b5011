/*
 * diag.h: the diagnostics probe behind `pivstation diag`: reader and
 * driver facts, ATR, protocol, part 10 features, and a PIV probe that
 * reads each object once (extended-length where the card allows), with
 * reset recovery between steps.
 *
 * pcsc/ knows nothing about certificates: certificate containers are
 * unwrapped (and inflated) to DER and handed up as bytes for cli/ to
 * describe.
 */
#ifndef PV_PCSC_DIAG_H
#define PV_PCSC_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "apdu/piv_yk.h"
#include "pcsc/part10.h"
#include "pcsc/session.h"

#define DIAG_TEXT_MAX	256

struct pcsc_diag_opts {
	unsigned latency_n;	/* GET DATA round trips to time; 0 = none */
	bool try_default_mgmt;	/* authenticate with the factory 9B key when
				 * the card cannot say whether it is default */
	const uint8_t *pin;	/* VERIFY this PIN first (borrowed; NULL: no) */
	size_t pin_len;
	bool pin_pad;		/* or VERIFY the PIN typed on the reader's pad
				 * (PV_E_NOT_SUPPORTED as the result when the
				 * reader has none) */
};

/* One data object as read: its content (owned) or why not. */
struct pcsc_diag_obj {
	uint32_t tag;
	enum pv_err err;	/* PV_OK, PV_E_NOT_FOUND, PV_E_MALFORMED, ... */
	char why[DIAG_TEXT_MAX];
	uint8_t *data;		/* piv_get_data content */
	size_t len;
	bool parsed;		/* the matching parser accepted it */
	char parse_why[DIAG_TEXT_MAX];
};

struct pcsc_diag_cert {
	uint8_t key;		/* 9A, 9C, 9D, 9E, 82..95 */
	struct pcsc_diag_obj obj;
	uint8_t *der;		/* the certificate, inflated if compressed (owned) */
	size_t der_len;
	bool compressed;
	uint8_t certinfo;
	bool has_meta;		/* YubiKey metadata of the key (5.3+) */
	struct piv_yk_metadata meta;
	enum pv_err meta_err;	/* why not: see pcsc_diag.pin_meta_err */
	char meta_why[DIAG_TEXT_MAX];
};

#define DIAG_MAX_CERTS	(4 + PIV_RETIRED_KEYS)

struct pcsc_diag_latency {
	unsigned n;
	uint64_t min_us, median_us, max_us;
	enum pv_err err;
};

struct pcsc_diag {
	/* Reader and driver. */
	char reader[PCSC_READER_NAME_MAX];
	int protocol;
	bool extended, chaining;	/* APDU capabilities from the ATR */
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
	/* Driver text as the driver gives it: print it through apdu/text.h. */
	char vendor[64], ifd_type[64], ifd_serial[64];
	bool has_ifd_version;
	uint32_t ifd_version;
	bool has_channel;
	uint32_t channel;
	struct part10_features features;
	uint32_t features_rc;		/* PC/SC code when the reader refused */
	char features_why[DIAG_TEXT_MAX];
	bool has_props;
	struct part10_props props;

	/* PIV application. */
	bool piv;
	enum pv_err select_err;
	struct piv_apt apt;
	bool has_version;
	struct piv_yk_version version;
	bool has_serial;
	uint32_t serial;
	bool has_pin_meta, has_puk_meta, has_mgmt_meta;
	struct piv_yk_metadata pin_meta, puk_meta, mgmt_meta;
	/*
	 * Why a GET METADATA gave nothing: PV_OK when it was not sent (no
	 * YubiKey 5.3+), PV_E_NOT_SUPPORTED / PV_E_NOT_FOUND / PV_E_BAD_P1P2
	 * when the card has no such metadata, PV_E_MALFORMED for an answer
	 * that does not parse, another error for another refusal; the text
	 * in *_why.  pcsc_diag_meta_absent() tells the first kind apart.
	 */
	enum pv_err pin_meta_err, puk_meta_err, mgmt_meta_err;
	char pin_meta_why[DIAG_TEXT_MAX], puk_meta_why[DIAG_TEXT_MAX];
	char mgmt_meta_why[DIAG_TEXT_MAX];
	bool pin_tried;			/* opts->pin was presented */
	enum pv_err pin_result;		/* PV_OK, PV_E_PIN_WRONG, PV_E_BLOCKED */
	int pin_retries;		/* after a wrong PIN */
	bool has_pin_status;		/* VERIFY without data (no metadata) */
	struct piv_pin_status pin_status;
	bool mgmt_default_tested;	/* try_default_mgmt was used */
	bool mgmt_is_default;
	uint8_t mgmt_alg;		/* from metadata, or assumed 03 */
	bool mgmt_alg_known;

	/* YubiKey ADMIN DATA (5FFF00), read when the token is a YubiKey
	 * whose 9B key is not known to be the factory default: where ykman
	 * says the key is kept (PIN-protected, PIN-derived).  Bytes only:
	 * issuance/yk_protected.h interprets them. */
	bool yk_admin_read;
	struct pcsc_diag_obj yk_admin;

	struct pcsc_diag_obj chuid, ccc, discovery, keyhist;
	struct piv_chuid chuid_v;	/* views into chuid.data when parsed */
	struct piv_ccc ccc_v;
	struct piv_discovery discovery_v;
	struct piv_keyhist keyhist_v;

	size_t n_certs;
	struct pcsc_diag_cert certs[DIAG_MAX_CERTS];

	struct pcsc_diag_latency latency;
	struct pcsc_session_stats stats;	/* the probe, latency excluded */
	unsigned n_recoveries;		/* resets by other programs survived */
	bool security_lost;
};

/*
 * pcsc_diag_run probes the session's reader and card into |out| (zeroed
 * first; release with pcsc_diag_cleanup).  Objects that are missing or
 * malformed are recorded, not fatal.  Returns PV_OK, or a transport
 * error (card removed, pcscd gone, different card after a reset) with
 * |why|; |out| then holds what was read before.
 */
enum pv_err pcsc_diag_run(struct pcsc_session *s,
    const struct pcsc_diag_opts *opts, struct pcsc_diag *out,
    struct pv_why *why);

void pcsc_diag_cleanup(struct pcsc_diag *d);

/*
 * pcsc_diag_meta_absent is true when |err| (a *_meta_err) means the card
 * simply has no such metadata or was not asked, false when its answer was
 * malformed or refused otherwise: "no metadata" and "a broken answer" are
 * different findings.
 */
bool pcsc_diag_meta_absent(enum pv_err err);


#endif /* PV_PCSC_DIAG_H */
