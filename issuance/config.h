/*
 * config.h: the station configuration, <home>/pivstation.conf.
 *
 * An INI file read with libinih.  Every key is documented in the default
 * file, whose text lives in one place (config_default_text(), the same
 * bytes as examples/pivstation.conf; `pivstation init` writes it and
 * `pivstation init --print-config` prints it).  A key left out keeps its
 * default.  Unknown sections and keys, duplicate keys, values out of range
 * and lines that are not `key = value` are errors naming file, line,
 * section, key and the problem:
 *
 *   pivstation.conf:12: [escrow] policy: expected 'required' or 'optional',
 *   got 'maybe'
 *
 * struct pv_config is plain data (no pointers, nothing to free), so it can
 * be copied and compared.
 */
#ifndef PV_ISSUANCE_CONFIG_H
#define PV_ISSUANCE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/home.h"

/*
 * Key algorithms.  The values are the PIV algorithm identifiers
 * (PIV-REFERENCE §3.3), so a slot's value can go to GENERATE as it is.
 * RSA 4096 is accepted for the CA only.
 */
enum config_alg {
	CONFIG_ALG_RSA2048 = 0x07,
	CONFIG_ALG_RSA3072 = 0x05,
	CONFIG_ALG_RSA4096 = 0x16,
	CONFIG_ALG_ECCP256 = 0x11,
	CONFIG_ALG_ECCP384 = 0x14
};

/* The four PIV key slots, in the order of the arrays below. */
enum config_slot {
	CONFIG_SLOT_9A,		/* PIV Authentication */
	CONFIG_SLOT_9C,		/* Digital Signature */
	CONFIG_SLOT_9D,		/* Key Management */
	CONFIG_SLOT_9E,		/* Card Authentication */
	CONFIG_N_SLOTS
};
#define CONFIG_SLOT_BIT(s)	(1u << (s))

enum config_policy_set {
	CONFIG_POLICY_TEST,		/* FPKI CITE test OIDs (…3.2.1.48.x) */
	CONFIG_POLICY_PRODUCTION	/* id-fpki-common-* (…3.2.1.3.x) */
};

enum config_escrow {
	CONFIG_ESCROW_REQUIRED,	/* refuse a token that cannot import the 9D key */
	CONFIG_ESCROW_OPTIONAL	/* such a token gets an on-card, unescrowed key */
};

/*
 * [card] factory_chuid: what issuance does with an unsigned CHUID that no
 * job of this station wrote (a vendor's or a personalisation tool's
 * placeholder: firmware-notes/factory-chuid.md).
 */
enum config_factory_chuid {
	CONFIG_FACTORY_CHUID_OVERWRITE,	/* factory content: issue over it */
	CONFIG_FACTORY_CHUID_REFUSE	/* not blank: refuse (--reissue) */
};

/*
 * [attestation] policy: what issuance does with an on-card key whose
 * attestation is missing (the token has none, no root is configured) or
 * does not prove the key (issuance/attest.h).
 */
enum config_attest_policy {
	CONFIG_ATTEST_RECORD,	/* certify it, recorded "not attested" */
	CONFIG_ATTEST_REFUSE	/* refuse to certify it */
};

/* 9A extended key usages (bits of pv_config.eku_9a). */
#define CONFIG_EKU_CLIENT_AUTH		0x1	/* 1.3.6.1.5.5.7.3.2 */
#define CONFIG_EKU_SMARTCARD_LOGON	0x2	/* 1.3.6.1.4.1.311.20.2.2 */
#define CONFIG_EKU_PKINIT		0x4	/* 1.3.6.1.5.2.3.4 */

/* [certificates] piv_interim: the PIV interim indicator of 9A and 9E. */
enum config_piv_interim {
	CONFIG_PIV_INTERIM_NO,		/* present, FALSE: NACI done */
	CONFIG_PIV_INTERIM_YES,		/* present, TRUE: NACI pending */
	CONFIG_PIV_INTERIM_OMIT		/* left out */
};

enum config_pass_source {
	CONFIG_PASS_PROMPT,	/* ask on the terminal */
	CONFIG_PASS_ENV,	/* env:NAME */
	CONFIG_PASS_FILE,	/* file:PATH (first line) */
	CONFIG_PASS_FD		/* fd:N (first line) */
};

#define CONFIG_URL_MAX		192
#define CONFIG_LISTEN_MAX	64	/* "[v6 address]:port" */
#define CONFIG_OID_MAX		64
#define CONFIG_OIDS_MAX		4	/* policy OIDs per certificate */
#define CONFIG_DN_MAX_RDN	8
#define CONFIG_DN_TYPE_MAX	16
#define CONFIG_DN_VALUE_MAX	128
#define CONFIG_PASS_ARG_MAX	192
#define CONFIG_ISSUER_ID_MAX	15	/* Printed Information tag 06 */
#define CONFIG_PIN_MAX		8	/* SP 800-73-4: PINs of 6 to 8 */
#define CONFIG_PIN_LIST_MAX	16	/* [pin] refuse_values */

/*
 * Weak-PIN rules ([pin] refuse; bits of pv_config.pin_refuse):
 * FACTORY the factory PIN 123456 and the factory PUK 12345678 of PIV
 * cards and YubiKeys; REPEATED one character throughout (000000);
 * SEQUENCE characters rising or falling by one throughout (234567,
 * 87654321; no wrap-around).
 */
#define CONFIG_PIN_REFUSE_FACTORY	0x1u
#define CONFIG_PIN_REFUSE_REPEATED	0x2u
#define CONFIG_PIN_REFUSE_SEQUENCE	0x4u
#define CONFIG_PIN_REFUSE_ALL		0x7u

/*
 * [derive] targets (bits of pv_config.derive_targets and
 * derive_sign_targets): where a derived credential may be issued.
 */
#define CONFIG_DERIVE_TOKEN		0x1u	/* a token with the Derived
						 * PIV Application */
#define CONFIG_DERIVE_P12		0x2u	/* a PKCS#12 for a phone */
#define CONFIG_DERIVE_MOBILECONFIG	0x4u	/* an Apple profile */
#define CONFIG_DERIVE_CSR		0x8u	/* the device's own key (SCEP) */
#define CONFIG_DERIVE_ALL		0xfu

/* [derive] activation_code_alphabet (DERIVED-REFERENCE §1.9). */
enum config_code_alphabet {
	CONFIG_CODE_ALNUM,	/* 0-9 A-Z a-z */
	CONFIG_CODE_UPPER,	/* 0-9 A-Z */
	CONFIG_CODE_DIGITS	/* 0-9 */
};

/* [derive] p12: the PKCS#12 form (DERIVED-REFERENCE §5.1-5.2). */
enum config_p12_compat {
	CONFIG_P12_MODERN,	/* PBES2/PBKDF2/AES-256-CBC, SHA-256 MAC */
	CONFIG_P12_LEGACY	/* pbeWithSHA1And3-KeyTripleDES-CBC, SHA-1 MAC */
};

/* The policy lists of [derive], in this order (pv_config.derive_policy). */
enum config_derive_policy {
	CONFIG_DP_AUTH_HW,	/* derived PIV Authentication, hardware */
	CONFIG_DP_AUTH_SW,	/* ... software keystore */
	CONFIG_DP_SIGN_HW,	/* digital signature, hardware */
	CONFIG_DP_SIGN_SW,	/* ... software keystore */
	CONFIG_DP_KM_SW,	/* a key-management certificate asserting one
				 * of these may be copied to software */
	CONFIG_N_DP
};

struct config_oids {
	unsigned n;
	char oid[CONFIG_OIDS_MAX][CONFIG_OID_MAX];	/* dotted decimal */
};

#define CONFIG_PATHS_MAX	8
#define CONFIG_PATH_MAX		256

/* A list of files or directories ([trust], [revocation] crl_files). */
struct config_paths {
	unsigned n;
	char path[CONFIG_PATHS_MAX][CONFIG_PATH_MAX];
};

enum config_rev_mode {
	CONFIG_REV_OCSP_THEN_CRL,	/* OCSP; the CRL when OCSP cannot say */
	CONFIG_REV_BOTH,		/* OCSP and CRL must both say good */
	CONFIG_REV_CRL_ONLY
};

/*
 * A subject name template, root first (C, O, OU, ..., CN), as written in
 * the file: "C=US, O=Example Agency, OU=People, CN={full_name}".  Values
 * may hold placeholders that identity_expand() fills (see identity.h).
 * n == 0 means an empty subject.
 */
struct config_dn {
	unsigned n;
	struct {
		char type[CONFIG_DN_TYPE_MAX];	/* C ST L O OU CN DC UID */
		char value[CONFIG_DN_VALUE_MAX];
	} rdn[CONFIG_DN_MAX_RDN];
};

struct pv_config {
	/* [keys] */
	enum config_alg slot_alg[CONFIG_N_SLOTS];

	/* [validity] */
	unsigned cert_days;		/* end-entity certificates */
	unsigned card_years;		/* card expiry: years ... */
	unsigned card_days;		/* ... or days (exactly one is non-zero) */

	/* [urls]; empty string = leave the extension out */
	char crl_url[CONFIG_URL_MAX];		/* CRL distribution point */
	char ocsp_url[CONFIG_URL_MAX];		/* AIA id-ad-ocsp */
	char ca_issuers_url[CONFIG_URL_MAX];	/* AIA id-ad-caIssuers */

	/* [policy]: resolved (set defaults with any overrides applied) */
	enum config_policy_set policy_set;
	struct config_oids policy[CONFIG_N_SLOTS];
	struct config_oids policy_content_signer;

	/* [certificates] */
	unsigned eku_9a;		/* CONFIG_EKU_* bits; 0 = no EKU */
	unsigned rfc822_slots;		/* CONFIG_SLOT_BIT()s: email in SAN */
	unsigned upn_slots;		/* CONFIG_SLOT_BIT()s: UPN in SAN */
	struct config_dn subject;	/* 9A, 9C, 9D */
	struct config_dn card_auth_subject;	/* 9E; may be empty */
	enum config_piv_interim piv_interim;

	/* [escrow] */
	enum config_escrow escrow_policy;
	bool escrow_puk;

	/* [pin] */
	unsigned pin_min;
	unsigned pin_max;
	bool pin_digits_only;
	unsigned pin_refuse;		/* CONFIG_PIN_REFUSE_* bits */
	unsigned n_pin_refuse_values;
	char pin_refuse_values[CONFIG_PIN_LIST_MAX][CONFIG_PIN_MAX + 1];

	/* [fascn] (PIV-REFERENCE §5); strings of exactly that many digits */
	char agency_code[5];
	char system_code[5];
	unsigned credential_series;		/* 0-9 */
	unsigned individual_credential_issue;	/* 0-9 */
	unsigned organizational_category;	/* 0-9 */
	char organization_identifier[5];
	unsigned person_association;		/* 0-9 */

	/* [card] */
	char issuer_id[CONFIG_ISSUER_ID_MAX + 1];	/* Printed Information */
	enum config_factory_chuid factory_chuid;

	/* [attestation] */
	char attest_roots[CONFIG_PATH_MAX];	/* PEM file; "" none */
	enum config_attest_policy attest_policy;

	/* [ca] */
	enum config_alg ca_alg;
	unsigned ca_root_days;
	unsigned ca_issuing_days;
	unsigned ca_signer_days;		/* content signer */
	unsigned ca_kra_days;			/* key recovery agent */
	enum config_alg ca_ocsp_alg;		/* delegated OCSP responder */
	unsigned ca_ocsp_days;
	struct config_dn ca_name;		/* prefix of CA subject names */
	enum config_pass_source pass_source;
	char pass_arg[CONFIG_PASS_ARG_MAX];	/* NAME, PATH or N */

	/* [store] */
	unsigned busy_timeout_ms;

	/* [security] */
	bool strict_passphrase_files;	/* refuse (not warn of) passphrase
					 * files others may read or write */

	/* [audit] */
	char audit_anchor[CONFIG_PATH_MAX];	/* "" = none */
	bool audit_syslog;		/* checkpoints also to the system log */

	/* [trust]: empty lists mean the station CA's root / issuing CA */
	struct config_paths trust_anchors;
	struct config_paths trust_intermediates;

	/* [validation] (relying party: validate, derive); empty policy
	 * lists mean the [policy] set's 9a / content signer OID */
	struct config_oids val_auth_policies;
	struct config_oids val_signer_policies;
	bool val_explicit_policy;
	bool val_inhibit_any;
	bool val_inhibit_mapping;
	unsigned val_expiry_margin_days;
	bool val_card_auth;		/* also prove the 9e key (no PIN) */

	/* [revocation] */
	enum config_rev_mode rev_mode;
	bool rev_soft_fail;		/* failure = soft */
	bool rev_ca_required;		/* ca_certificates = required */
	bool rev_nonce_required;	/* ocsp_nonce = required */
	bool rev_fetch;
	bool rev_station_crl;		/* the station CA's own CRL file */
	struct config_paths rev_crl_files;
	unsigned rev_timeout_ms;
	unsigned rev_crl_max_kib;
	unsigned rev_aia_cache_hours;
	unsigned rev_ocsp_max_age_min;
	unsigned rev_clock_skew_s;
	char rev_cache_dir[CONFIG_PATH_MAX];	/* "": <home>/cache */

	/* [derive] (SP 800-157 derived credentials) */
	unsigned derive_targets;	/* CONFIG_DERIVE_* allowed */
	unsigned derive_sign_targets;	/* ... that get a new signature key */
	/* resolved: overrides, else the [policy] set's defaults */
	struct config_oids derive_policy[CONFIG_N_DP];
	bool derive_km;			/* copy the escrowed key-management
					 * key onto derived credentials */
	unsigned derive_history;	/* retired KM keys copied (0-20) */
	unsigned derive_cert_days;	/* derived certificates (1-1096) */
	unsigned derive_max_active;	/* per primary card; 0: no limit */
	unsigned derive_code_len;	/* activation code (6-16) */
	enum config_code_alphabet derive_code_alphabet;
	unsigned derive_activation_min;	/* activation lifetime (1-10080) */
	unsigned derive_activation_tries;	/* wrong codes before the
						 * activation locks (1-10) */
	unsigned derive_recheck_days;	/* re-check of the primary after
					 * issuance (0: never; 1-365) */
	bool derive_recheck_repeat;	/* and every as many days again */
	enum config_p12_compat derive_p12;

	/* [serve] (`pivstation serve`) */
	char serve_url[CONFIG_URL_MAX];		/* https://HOST[:PORT] */
	char serve_listen[CONFIG_LISTEN_MAX];	/* ADDRESS:PORT */
	char serve_listen_http[CONFIG_LISTEN_MAX]; /* "": none */
	char serve_tls_cert[CONFIG_PATH_MAX];	/* "": the station's */
	char serve_tls_key[CONFIG_PATH_MAX];
	unsigned serve_threads;
	unsigned serve_max_conn;
	unsigned serve_max_conn_ip;		/* 0: no limit */
	unsigned serve_timeout_s;
	unsigned serve_max_body_kib;
	unsigned serve_ocsp_minutes;		/* OCSP nextUpdate - thisUpdate */

	/* [console] */
	unsigned console_idle_lock_s;	/* 0 = never */
	bool console_recovery_dual;	/* escrow recovery needs a second
					 * operator's card */
};

/*
 * config_defaults fills |out| with the built-in defaults: exactly what the
 * default file (config_default_text()) says.
 */
void config_defaults(struct pv_config *out);

/*
 * config_default_text returns the documented default pivstation.conf, a
 * static NUL-terminated string (never NULL).
 */
const char *config_default_text(void);

/*
 * config_parse reads INI text |text| (|len| bytes; NUL bytes are an error)
 * over the defaults into |out|.  |name| names the source in messages
 * ("pivstation.conf").  Returns PV_OK, or PV_E_CONFIG with |why| naming
 * "name:line: [section] key: problem" for the first error.  |out| is
 * unspecified on failure.
 */
enum pv_err config_parse(const char *text, size_t len, const char *name,
    struct pv_config *out, struct pv_why *why);

/*
 * config_load reads the file |path| (at most 64 KiB) with config_parse.
 * Returns PV_OK, PV_E_NOT_FOUND, PV_E_IO, PV_E_TOO_LONG or PV_E_CONFIG.
 */
enum pv_err config_load(const char *path, struct pv_config *out,
    struct pv_why *why);

/*
 * config_load_home loads <home>/pivstation.conf; a home without one gets
 * PV_E_NOT_FOUND with "run 'pivstation init'".
 */
enum pv_err config_load_home(const struct home *h, struct pv_config *out,
    struct pv_why *why);

/*
 * config_check_pin is the one place a PIN the person chose is judged
 * against [pin]: length from pin_min to pin_max, digits only when
 * pin_digits_only (SP 800-73-4 PINs are digits), otherwise printable
 * ASCII without spaces; then the weak-PIN rules of pin_refuse
 * (config_pin_weakness) and the values of pin_refuse_values.  The
 * message never shows the PIN ("PIN: 5 characters, expected 6 to 8",
 * "PIN: a factory default value is refused ([pin] refuse: factory)").
 * Returns PV_OK or PV_E_INPUT.  (A PIN typed on a reader's PIN pad never
 * reaches the station: only the pad's own length limits apply to it.)
 */
enum pv_err config_check_pin(const struct pv_config *c, const uint8_t *pin,
    size_t len, struct pv_why *why);

/*
 * config_pin_weakness returns the name of the first of |rules|
 * (CONFIG_PIN_REFUSE_* bits) that |pin|,|len| breaks ("factory",
 * "repeated", "sequence"), or NULL when it breaks none.  The station's
 * own random PUKs are drawn again when they break any rule.
 */
const char *config_pin_weakness(unsigned rules, const uint8_t *pin,
    size_t len);

/*
 * config_card_expiry returns when a card issued at |from| (Unix seconds)
 * expires: |from| plus card_years calendar years (UTC; 29 February
 * becomes 1 March) or plus card_days days.  0 on a clock overflow.
 */
int64_t config_card_expiry(const struct pv_config *c, int64_t from);

/*
 * config_cert_not_after returns the notAfter of a certificate issued at
 * |from| onto a card expiring at |card_expiry|: |from| + cert_days days,
 * never after the card (PIV-REFERENCE §7.3).
 */
int64_t config_cert_not_after(const struct pv_config *c, int64_t from,
    int64_t card_expiry);

/*
 * config_derive_target_name: "token", "p12", "mobileconfig", "csr" for one
 * CONFIG_DERIVE_* bit; "unknown" otherwise.  config_derive_target_parse
 * reads one of those names; false for anything else.
 */
const char *config_derive_target_name(unsigned bit);
bool config_derive_target_parse(const char *s, unsigned *bit);

/* config_code_alphabet_name: "alphanumeric", "uppercase", "digits". */
const char *config_code_alphabet_name(enum config_code_alphabet a);

/* config_alg_name: "rsa2048", "eccp256", ...; "unknown" otherwise. */
const char *config_alg_name(enum config_alg a);

/* config_alg_is_rsa is true for the RSA algorithms. */
bool config_alg_is_rsa(enum config_alg a);

/* config_slot_ref: the PIV key reference of |s| (0x9a, 0x9c, 0x9d, 0x9e). */
uint8_t config_slot_ref(enum config_slot s);

/* config_slot_name: "9a", "9c", "9d", "9e". */
const char *config_slot_name(enum config_slot s);

/*
 * config_slot_from_ref maps a key reference (0x9a ...) to its slot.
 * Returns false for any other reference.
 */
bool config_slot_from_ref(uint8_t ref, enum config_slot *out);

#endif /* PV_ISSUANCE_CONFIG_H */
