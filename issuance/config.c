/*
 * config.c: pivstation.conf, parsed with libinih.
 *
 * libinih reads the lines through our reader (config_reader), which counts
 * lines (the Debian build does not pass line numbers to handlers), strips
 * leading blanks (so an indented line is never taken as a continuation of
 * the previous value), refuses over-long lines (libinih would split them)
 * and checks section names (libinih says nothing about an empty unknown
 * section).  Each key has one entry in config_keys[] saying how to parse
 * it; values are checked as they are read and the cross-key rules once
 * the file is read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <ini.h>
#include <openssl/crypto.h>

#include "apdu/piv_obj.h"
#include "apdu/text.h"
#include "issuance/config.h"
#include "issuance/identity.h"

#define CONFIG_FILE_MAX		65536
#define CONFIG_LINE_MAX		199	/* libinih's INI_MAX_LINE is 200 */

/* ---- names ------------------------------------------------------------------ */

static const struct {
	const char *name;
	enum config_alg alg;
	bool ca_only;
} config_algs[] = {
	{ "rsa2048", CONFIG_ALG_RSA2048, false },
	{ "rsa3072", CONFIG_ALG_RSA3072, false },
	{ "rsa4096", CONFIG_ALG_RSA4096, true },
	{ "eccp256", CONFIG_ALG_ECCP256, false },
	{ "eccp384", CONFIG_ALG_ECCP384, false },
};

const char *
config_alg_name(enum config_alg a)
{
	size_t i;

	for (i = 0; i < sizeof(config_algs) / sizeof(config_algs[0]); i++)
		if (config_algs[i].alg == a)
			return config_algs[i].name;
	return "unknown";
}

bool
config_alg_is_rsa(enum config_alg a)
{
	return a == CONFIG_ALG_RSA2048 || a == CONFIG_ALG_RSA3072 ||
	    a == CONFIG_ALG_RSA4096;
}

static const char *const config_slot_names[CONFIG_N_SLOTS] = {
	"9a", "9c", "9d", "9e"
};

uint8_t
config_slot_ref(enum config_slot s)
{
	return (unsigned)s < CONFIG_N_SLOTS ? piv_main_key[s] : 0;
}

const char *
config_slot_name(enum config_slot s)
{
	return (unsigned)s < CONFIG_N_SLOTS ? config_slot_names[s] : "?";
}

bool
config_slot_from_ref(uint8_t ref, enum config_slot *out)
{
	int i = piv_main_key_index(ref);

	if (i < 0)
		return false;
	*out = (enum config_slot)i;
	return true;
}

/* Policy OIDs of the two sets (PIV-REFERENCE §7.1). */
#define FPKI	"2.16.840.1.101.3.2.1."
static const char *const config_policy_prod[CONFIG_N_SLOTS + 1] = {
	FPKI "3.13", FPKI "3.7", FPKI "3.7", FPKI "3.17", FPKI "3.39"
};
static const char *const config_policy_test[CONFIG_N_SLOTS + 1] = {
	FPKI "48.11", FPKI "48.9", FPKI "48.9", FPKI "48.13", FPKI "48.86"
};
/*
 * [derive] policies of the two sets (DERIVED-REFERENCE §2.1, §1.7): the
 * derived PIV Authentication policies (-hardware 3.41 / 48.110 for a
 * token, 3.40 / 48.109 for a software keystore), signature certificates
 * under id-fpki-common-hardware (3.7 / 48.9) on a token and
 * id-fpki-common-policy (3.6 / 48.8) in software, and a key-management
 * certificate that may go to software only under id-fpki-common-policy.
 */
static const char *const config_dpolicy_prod[CONFIG_N_DP] = {
	FPKI "3.41", FPKI "3.40", FPKI "3.7", FPKI "3.6", FPKI "3.6"
};
static const char *const config_dpolicy_test[CONFIG_N_DP] = {
	FPKI "48.110", FPKI "48.109", FPKI "48.9", FPKI "48.8", FPKI "48.8"
};
#undef FPKI

static const char *const config_derive_targets[] = {
	"token", "p12", "mobileconfig", "csr"
};

const char *
config_derive_target_name(unsigned bit)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (bit == (1u << i))
			return config_derive_targets[i];
	return "unknown";
}

bool
config_derive_target_parse(const char *s, unsigned *bit)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, config_derive_targets[i]) == 0) {
			*bit = 1u << i;
			return true;
		}
	return false;
}

static const char *const config_alphabets[] = {
	[CONFIG_CODE_ALNUM] = "alphanumeric",
	[CONFIG_CODE_UPPER] = "uppercase",
	[CONFIG_CODE_DIGITS] = "digits",
};

const char *
config_code_alphabet_name(enum config_code_alphabet a)
{
	return (unsigned)a < 3 ? config_alphabets[a] : "unknown";
}

/* ---- parse state -------------------------------------------------------------- */

enum config_type {
	T_ALG,		/* slot algorithm; arg = slot */
	T_CA_ALG,
	T_UINT,		/* lo..hi at off */
	T_BOOL,
	T_CARD,		/* Ny or Nd */
	T_URL,
	T_POLICY_SET,
	T_OIDS,		/* override; arg = slot or CONFIG_N_SLOTS (signer) */
	T_EKU,
	T_SLOTS,	/* 9a/9c/9d list at off */
	T_DN,		/* with placeholders */
	T_DN_PLAIN,	/* without */
	T_ESCROW,
	T_DIGITS,	/* exactly hi digits, char array at off */
	T_TEXT,		/* printable ASCII, 1..hi */
	T_PATH,		/* one path (may be empty) at off */
	T_PASS,
	T_PIN_RULES,	/* factory/repeated/sequence list */
	T_INTERIM,	/* no, yes or omit */
	T_PIN_LIST,	/* PINs refused, a list */
	T_PATHS,	/* comma list of files/directories at off */
	T_OID_LIST,	/* comma list of OIDs at off (struct config_oids) */
	T_REV_MODE,
	T_REV_FAILURE,
	T_REV_CA,
	T_REV_NONCE,
	T_TARGETS,	/* [derive] target list, bits at off */
	T_DERIVE_OIDS,	/* [derive] policy override; arg = CONFIG_DP_* */
	T_ALPHABET,
	T_P12,
	T_HTTPS_URL,	/* https://HOST[:PORT] without a path, at off */
	T_LISTEN,	/* ADDRESS:PORT at off; empty allowed when arg = 1 */
	T_ENUM		/* one of config_enums[arg], its index at off */
};

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	size_t off;
	unsigned lo, hi;
	int arg;
};

/*
 * T_ENUM keys: the names a value may take, in the order of the enum the
 * field has (the name's index is the value stored).
 */
enum config_enum_id {
	CONFIG_ENUM_FACTORY_CHUID,
	CONFIG_ENUM_ATTEST_POLICY
};
static const char *const config_enum_factory_chuid[] = { "overwrite",
	"refuse", NULL };
static const char *const config_enum_attest_policy[] = { "record",
	"refuse", NULL };
static const char *const *const config_enums[] = {
	[CONFIG_ENUM_FACTORY_CHUID] = config_enum_factory_chuid,
	[CONFIG_ENUM_ATTEST_POLICY] = config_enum_attest_policy,
};
_Static_assert(sizeof(enum config_factory_chuid) == sizeof(int) &&
    sizeof(enum config_attest_policy) == sizeof(int),
    "T_ENUM fields are stored as int");

#define OFF(f) offsetof(struct pv_config, f)
static const struct config_key config_keys[] = {
	{ "keys", "slot_9a", T_ALG, 0, 0, 0, CONFIG_SLOT_9A },
	{ "keys", "slot_9c", T_ALG, 0, 0, 0, CONFIG_SLOT_9C },
	{ "keys", "slot_9d", T_ALG, 0, 0, 0, CONFIG_SLOT_9D },
	{ "keys", "slot_9e", T_ALG, 0, 0, 0, CONFIG_SLOT_9E },
	{ "validity", "certificate_days", T_UINT, OFF(cert_days), 1, 1096, 0 },
	{ "validity", "card", T_CARD, 0, 0, 0, 0 },
	{ "urls", "crl", T_URL, OFF(crl_url), 0, 0, 0 },
	{ "urls", "ocsp", T_URL, OFF(ocsp_url), 0, 0, 0 },
	{ "urls", "ca_issuers", T_URL, OFF(ca_issuers_url), 0, 0, 0 },
	{ "policy", "set", T_POLICY_SET, 0, 0, 0, 0 },
	{ "policy", "slot_9a", T_OIDS, 0, 0, 0, CONFIG_SLOT_9A },
	{ "policy", "slot_9c", T_OIDS, 0, 0, 0, CONFIG_SLOT_9C },
	{ "policy", "slot_9d", T_OIDS, 0, 0, 0, CONFIG_SLOT_9D },
	{ "policy", "slot_9e", T_OIDS, 0, 0, 0, CONFIG_SLOT_9E },
	{ "policy", "content_signer", T_OIDS, 0, 0, 0, CONFIG_N_SLOTS },
	{ "certificates", "eku_9a", T_EKU, 0, 0, 0, 0 },
	{ "certificates", "rfc822", T_SLOTS, OFF(rfc822_slots), 0, 0, 0 },
	{ "certificates", "upn", T_SLOTS, OFF(upn_slots), 0, 0, 0 },
	{ "certificates", "subject", T_DN, OFF(subject), 0, 0, 0 },
	{ "certificates", "card_auth_subject", T_DN, OFF(card_auth_subject),
	    0, 0, 0 },
	{ "certificates", "piv_interim", T_INTERIM, 0, 0, 0, 0 },
	{ "escrow", "policy", T_ESCROW, 0, 0, 0, 0 },
	{ "escrow", "puk", T_BOOL, OFF(escrow_puk), 0, 0, 0 },
	{ "pin", "min_length", T_UINT, OFF(pin_min), 6, 8, 0 },
	{ "pin", "max_length", T_UINT, OFF(pin_max), 6, 8, 0 },
	{ "pin", "digits_only", T_BOOL, OFF(pin_digits_only), 0, 0, 0 },
	{ "pin", "refuse", T_PIN_RULES, 0, 0, 0, 0 },
	{ "pin", "refuse_values", T_PIN_LIST, 0, 0, 0, 0 },
	{ "fascn", "agency_code", T_DIGITS, OFF(agency_code), 0, 4, 0 },
	{ "fascn", "system_code", T_DIGITS, OFF(system_code), 0, 4, 0 },
	{ "fascn", "credential_series", T_UINT, OFF(credential_series),
	    0, 9, 0 },
	{ "fascn", "individual_credential_issue", T_UINT,
	    OFF(individual_credential_issue), 0, 9, 0 },
	{ "fascn", "organizational_category", T_UINT,
	    OFF(organizational_category), 0, 9, 0 },
	{ "fascn", "organization_identifier", T_DIGITS,
	    OFF(organization_identifier), 0, 4, 0 },
	{ "fascn", "person_association", T_UINT, OFF(person_association),
	    0, 9, 0 },
	{ "card", "issuer_id", T_TEXT, OFF(issuer_id), 1, CONFIG_ISSUER_ID_MAX,
	    0 },
	{ "card", "factory_chuid", T_ENUM, OFF(factory_chuid), 0, 0,
	    CONFIG_ENUM_FACTORY_CHUID },
	{ "attestation", "roots", T_PATH, OFF(attest_roots), 0,
	    CONFIG_PATH_MAX - 1, 0 },
	{ "attestation", "policy", T_ENUM, OFF(attest_policy), 0, 0,
	    CONFIG_ENUM_ATTEST_POLICY },
	{ "ca", "algorithm", T_CA_ALG, OFF(ca_alg), 0, 0, 0 },
	{ "ca", "root_days", T_UINT, OFF(ca_root_days), 1, 10958, 0 },
	{ "ca", "issuing_days", T_UINT, OFF(ca_issuing_days), 1, 10958, 0 },
	{ "ca", "content_signer_days", T_UINT, OFF(ca_signer_days), 1, 3287,
	    0 },
	{ "ca", "kra_days", T_UINT, OFF(ca_kra_days), 1, 10958, 0 },
	{ "ca", "ocsp_algorithm", T_CA_ALG, OFF(ca_ocsp_alg), 0, 0, 0 },
	{ "ca", "ocsp_days", T_UINT, OFF(ca_ocsp_days), 1, 1095, 0 },
	{ "ca", "name", T_DN_PLAIN, OFF(ca_name), 0, 0, 0 },
	{ "ca", "passphrase", T_PASS, 0, 0, 0, 0 },
	{ "store", "busy_timeout_ms", T_UINT, OFF(busy_timeout_ms), 0, 600000,
	    0 },
	{ "security", "strict_passphrase_files", T_BOOL,
	    OFF(strict_passphrase_files), 0, 0, 0 },
	{ "audit", "anchor", T_PATH, OFF(audit_anchor), 0,
	    CONFIG_PATH_MAX - 1, 0 },
	{ "audit", "syslog", T_BOOL, OFF(audit_syslog), 0, 0, 0 },
	{ "trust", "anchors", T_PATHS, OFF(trust_anchors), 0, 0, 0 },
	{ "trust", "intermediates", T_PATHS, OFF(trust_intermediates), 0, 0, 0 },
	{ "validation", "auth_policies", T_OID_LIST, OFF(val_auth_policies),
	    0, 0, 0 },
	{ "validation", "content_signer_policies", T_OID_LIST,
	    OFF(val_signer_policies), 0, 0, 0 },
	{ "validation", "explicit_policy", T_BOOL, OFF(val_explicit_policy),
	    0, 0, 0 },
	{ "validation", "inhibit_any_policy", T_BOOL, OFF(val_inhibit_any),
	    0, 0, 0 },
	{ "validation", "inhibit_policy_mapping", T_BOOL,
	    OFF(val_inhibit_mapping), 0, 0, 0 },
	{ "validation", "expiry_margin_days", T_UINT,
	    OFF(val_expiry_margin_days), 0, 365, 0 },
	{ "validation", "card_auth", T_BOOL, OFF(val_card_auth), 0, 0, 0 },
	{ "revocation", "mode", T_REV_MODE, 0, 0, 0, 0 },
	{ "revocation", "failure", T_REV_FAILURE, 0, 0, 0, 0 },
	{ "revocation", "ca_certificates", T_REV_CA, 0, 0, 0, 0 },
	{ "revocation", "ocsp_nonce", T_REV_NONCE, 0, 0, 0, 0 },
	{ "revocation", "fetch", T_BOOL, OFF(rev_fetch), 0, 0, 0 },
	{ "revocation", "station_crl", T_BOOL, OFF(rev_station_crl), 0, 0, 0 },
	{ "revocation", "crl_files", T_PATHS, OFF(rev_crl_files), 0, 0, 0 },
	{ "revocation", "timeout_ms", T_UINT, OFF(rev_timeout_ms), 100, 120000,
	    0 },
	{ "revocation", "crl_max_kib", T_UINT, OFF(rev_crl_max_kib), 16,
	    262144, 0 },
	{ "revocation", "aia_cache_hours", T_UINT, OFF(rev_aia_cache_hours), 1,
	    8760, 0 },
	{ "revocation", "ocsp_max_age_minutes", T_UINT,
	    OFF(rev_ocsp_max_age_min), 1, 10080, 0 },
	{ "revocation", "clock_skew_seconds", T_UINT, OFF(rev_clock_skew_s), 0,
	    3600, 0 },
	{ "revocation", "cache_dir", T_PATH, OFF(rev_cache_dir), 0, 0, 0 },
	{ "derive", "targets", T_TARGETS, OFF(derive_targets), 0, 0, 0 },
	{ "derive", "signature_targets", T_TARGETS, OFF(derive_sign_targets),
	    0, 0, 0 },
	{ "derive", "auth_policy_hardware", T_DERIVE_OIDS, 0, 0, 0,
	    CONFIG_DP_AUTH_HW },
	{ "derive", "auth_policy_software", T_DERIVE_OIDS, 0, 0, 0,
	    CONFIG_DP_AUTH_SW },
	{ "derive", "signature_policy_hardware", T_DERIVE_OIDS, 0, 0, 0,
	    CONFIG_DP_SIGN_HW },
	{ "derive", "signature_policy_software", T_DERIVE_OIDS, 0, 0, 0,
	    CONFIG_DP_SIGN_SW },
	{ "derive", "software_key_management_policies", T_DERIVE_OIDS, 0, 0,
	    0, CONFIG_DP_KM_SW },
	{ "derive", "key_management", T_BOOL, OFF(derive_km), 0, 0, 0 },
	{ "derive", "history_keys", T_UINT, OFF(derive_history), 0, 20, 0 },
	{ "derive", "certificate_days", T_UINT, OFF(derive_cert_days), 1,
	    1096, 0 },
	{ "derive", "max_active", T_UINT, OFF(derive_max_active), 0, 100, 0 },
	{ "derive", "activation_code_length", T_UINT, OFF(derive_code_len), 6,
	    16, 0 },
	{ "derive", "activation_code_alphabet", T_ALPHABET, 0, 0, 0, 0 },
	{ "derive", "activation_minutes", T_UINT, OFF(derive_activation_min),
	    1, 10080, 0 },
	{ "derive", "activation_attempts", T_UINT,
	    OFF(derive_activation_tries), 1, 10, 0 },
	{ "derive", "recheck_days", T_UINT, OFF(derive_recheck_days), 0, 365,
	    0 },
	{ "derive", "recheck_repeat", T_BOOL, OFF(derive_recheck_repeat), 0, 0,
	    0 },
	{ "derive", "p12", T_P12, 0, 0, 0, 0 },
	{ "serve", "url", T_HTTPS_URL, OFF(serve_url), 0, 0, 0 },
	{ "serve", "listen", T_LISTEN, OFF(serve_listen), 0, 0, 0 },
	{ "serve", "listen_http", T_LISTEN, OFF(serve_listen_http), 0, 0, 1 },
	{ "serve", "tls_certificate", T_PATH, OFF(serve_tls_cert), 0, 0, 0 },
	{ "serve", "tls_key", T_PATH, OFF(serve_tls_key), 0, 0, 0 },
	{ "serve", "threads", T_UINT, OFF(serve_threads), 1, 64, 0 },
	{ "serve", "max_connections", T_UINT, OFF(serve_max_conn), 1, 10000,
	    0 },
	{ "serve", "max_connections_per_address", T_UINT,
	    OFF(serve_max_conn_ip), 0, 10000, 0 },
	{ "serve", "timeout_seconds", T_UINT, OFF(serve_timeout_s), 1, 300, 0 },
	{ "serve", "max_body_kib", T_UINT, OFF(serve_max_body_kib), 1, 1024,
	    0 },
	{ "serve", "ocsp_validity_minutes", T_UINT, OFF(serve_ocsp_minutes), 1,
	    10080, 0 },
	{ "console", "idle_lock_seconds", T_UINT, OFF(console_idle_lock_s), 0,
	    86400, 0 },
	{ "console", "recovery_dual_control", T_BOOL,
	    OFF(console_recovery_dual), 0, 0, 0 },
};
#undef OFF
#define CONFIG_N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const config_sections[] = {
	"keys", "validity", "urls", "policy", "certificates", "escrow", "pin",
	"fascn", "card", "attestation", "ca", "store", "security", "audit",
	"trust", "validation", "revocation", "derive", "serve", "console"
};

struct config_parse {
	const char *name;		/* file name for messages */
	const char *p;			/* reader position */
	const char *end;
	unsigned line;			/* line last handed to libinih */
	unsigned err_line;		/* first error found by us; 0 = none */
	char msg[sizeof(((struct pv_why *)0)->msg)];
	unsigned seen[CONFIG_N_KEYS];	/* line where each key was given */
	struct config_oids override[CONFIG_N_SLOTS + 1];
	bool has_override[CONFIG_N_SLOTS + 1];
	struct config_oids d_override[CONFIG_N_DP];
	bool has_d_override[CONFIG_N_DP];
	struct pv_config *cfg;
};

static void config_fail(struct config_parse *p, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the first error: "name:line: " + message. */
static void
config_fail(struct config_parse *p, unsigned line, const char *fmt, ...)
{
	char body[sizeof(p->msg)];
	va_list ap;
	int w;

	if (p->err_line != 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (line > 0)
		w = snprintf(p->msg, sizeof(p->msg), "%s:%u: ", p->name, line);
	else
		w = snprintf(p->msg, sizeof(p->msg), "%s: ", p->name);
	/* A very long message is cut; its start says what matters. */
	if (w > 0 && (size_t)w < sizeof(p->msg)) {
		size_t room = sizeof(p->msg) - 1 - (size_t)w, n = strlen(body);

		if (n > room)
			n = room;
		memcpy(p->msg + w, body, n);
		p->msg[(size_t)w + n] = '\0';
	}
	p->err_line = line > 0 ? line : ~0u;
}

/* ---- value parsers: false + message on error ---------------------------------- */

/* config_port_ok: 1-65535 in decimal, no sign or leading zero. */
static bool
config_port_ok(const char *s)
{
	unsigned long n = 0;
	size_t i;

	if (s[0] == '\0' || s[0] == '0' || strlen(s) > 5)
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	return n >= 1 && n <= 65535;
}

/*
 * config_listen_ok: "A.B.C.D:PORT" or "[IPv6]:PORT", the address one
 * inet_pton reads (a listener binds an address, never a name).
 */
static bool
config_listen_ok(const char *v)
{
	char addr[CONFIG_LISTEN_MAX];
	unsigned char bin[16];
	const char *colon;
	size_t n = strlen(v), al;

	if (n == 0 || n >= CONFIG_LISTEN_MAX)
		return false;
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || rb[1] != ':')
			return false;
		al = (size_t)(rb - v - 1);
		memcpy(addr, v + 1, al);
		addr[al] = '\0';
		return inet_pton(AF_INET6, addr, bin) == 1 &&
		    config_port_ok(rb + 2);
	}
	if ((colon = strrchr(v, ':')) == NULL)
		return false;
	al = (size_t)(colon - v);
	memcpy(addr, v, al);
	addr[al] = '\0';
	return inet_pton(AF_INET, addr, bin) == 1 && config_port_ok(colon + 1);
}

/*
 * config_https_url_ok: "https://HOST" or "https://HOST:PORT", HOST a DNS
 * name, an IPv4 address or a bracketed IPv6 one; no path, user or query
 * (the activation URLs are built from it).
 */
static bool
config_https_url_ok(const char *v)
{
	const char *h = v + 8, *e;
	size_t n = strlen(v), i;

	if (n <= 8 || n >= CONFIG_URL_MAX || strncmp(v, "https://", 8) != 0)
		return false;
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL || e == h + 1)
			return false;
		for (i = 1; h + i < e; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return false;
		e++;
	} else {
		for (e = h; *e != '\0' && *e != ':'; e++)
			if (!isalnum((unsigned char)*e) && *e != '-' &&
			    *e != '.')
				return false;
		if (e == h)
			return false;
	}
	return *e == '\0' || (*e == ':' && config_port_ok(e + 1));
}

static bool
config_parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long n = 0;
	const char *s = v;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > hi)
			return false;
	}
	if (n < lo)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool
config_parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Dotted-decimal OID: first arc 0-2, at least two arcs, no leading 0s. */
static bool
config_oid_ok(const char *s, size_t len)
{
	size_t i, arcs = 0, digits = 0;

	if (len == 0 || len >= CONFIG_OID_MAX || s[0] < '0' || s[0] > '2')
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (digits == 0)
				return false;
			arcs++;
			digits = 0;
		} else if (s[i] >= '0' && s[i] <= '9') {
			if (digits == 1 && s[i - 1] == '0')
				return false;	/* leading zero */
			if (++digits > 18)
				return false;
		} else {
			return false;
		}
	}
	return arcs >= 2;
}

/*
 * Splits a comma list; calls |fn| for each trimmed item (empty items are
 * errors).  An empty value is an empty list.
 */
typedef bool config_item_fn(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx);

static bool
config_list(struct config_parse *p, const struct config_key *k, const char *v,
    config_item_fn *fn, void *ctx)
{
	const char *s = v;

	if (*v == '\0')
		return true;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		while (len > 0 && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)s[len - 1]))
			len--;
		if (len == 0) {
			config_fail(p, p->line, "[%s] %s: empty item in the "
			    "comma-separated list", k->section, k->key);
			return false;
		}
		if (!fn(p, k, s, len, ctx))
			return false;
		if (comma == NULL)
			return true;
		s = comma + 1;
	}
}

static bool
config_oid_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	struct config_oids *o = ctx;

	if (!config_oid_ok(item, len)) {
		config_fail(p, p->line, "[%s] %s: '%.*s' is not a dotted OID "
		    "such as 2.16.840.1.101.3.2.1.3.13", k->section, k->key,
		    (int)len, item);
		return false;
	}
	if (o->n >= CONFIG_OIDS_MAX) {
		config_fail(p, p->line, "[%s] %s: at most %d OIDs", k->section,
		    k->key, CONFIG_OIDS_MAX);
		return false;
	}
	memcpy(o->oid[o->n], item, len);
	o->oid[o->n][len] = '\0';
	o->n++;
	return true;
}

static bool
config_path_ok(const char *v, size_t len)
{
	size_t i;

	if (len == 0 || len >= CONFIG_PATH_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
			return false;
	return true;
}

static bool
config_path_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	struct config_paths *o = ctx;

	if (!config_path_ok(item, len)) {
		config_fail(p, p->line, "[%s] %s: '%.*s' is not a file or "
		    "directory name (1-%d characters, no control characters)",
		    k->section, k->key, (int)(len > 60 ? 60 : len), item,
		    CONFIG_PATH_MAX - 1);
		return false;
	}
	if (o->n >= CONFIG_PATHS_MAX) {
		config_fail(p, p->line, "[%s] %s: at most %d entries",
		    k->section, k->key, CONFIG_PATHS_MAX);
		return false;
	}
	memcpy(o->path[o->n], item, len);
	o->path[o->n][len] = '\0';
	o->n++;
	return true;
}

static bool
config_eku_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	unsigned *bits = ctx;

	if (len == 11 && memcmp(item, "client_auth", 11) == 0)
		*bits |= CONFIG_EKU_CLIENT_AUTH;
	else if (len == 15 && memcmp(item, "smartcard_logon", 15) == 0)
		*bits |= CONFIG_EKU_SMARTCARD_LOGON;
	else if (len == 6 && memcmp(item, "pkinit", 6) == 0)
		*bits |= CONFIG_EKU_PKINIT;
	else {
		config_fail(p, p->line, "[%s] %s: expected client_auth, "
		    "smartcard_logon or pkinit, got '%.*s'", k->section, k->key,
		    (int)len, item);
		return false;
	}
	return true;
}

static bool
config_slot_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	unsigned *bits = ctx;
	unsigned s;

	for (s = 0; s < CONFIG_N_SLOTS; s++) {
		if (s != CONFIG_SLOT_9E && len == 2 &&
		    strncasecmp(item, config_slot_names[s], 2) == 0) {
			*bits |= CONFIG_SLOT_BIT(s);
			return true;
		}
	}
	config_fail(p, p->line, "[%s] %s: expected 9a, 9c or 9d, got '%.*s'",
	    k->section, k->key, (int)len, item);
	return false;
}

static bool
config_target_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	unsigned *bits = ctx;
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (strlen(config_derive_targets[i]) == len &&
		    memcmp(item, config_derive_targets[i], len) == 0) {
			*bits |= 1u << i;
			return true;
		}
	}
	config_fail(p, p->line, "[%s] %s: expected token, p12, mobileconfig "
	    "or csr, got '%.*s'", k->section, k->key, len > 40 ? 40 : (int)len,
	    item);
	return false;
}

static bool
config_pin_rule_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	unsigned *bits = ctx;

	if (len == 7 && memcmp(item, "factory", 7) == 0)
		*bits |= CONFIG_PIN_REFUSE_FACTORY;
	else if (len == 8 && memcmp(item, "repeated", 8) == 0)
		*bits |= CONFIG_PIN_REFUSE_REPEATED;
	else if (len == 8 && memcmp(item, "sequence", 8) == 0)
		*bits |= CONFIG_PIN_REFUSE_SEQUENCE;
	else {
		config_fail(p, p->line, "[%s] %s: expected factory, repeated "
		    "or sequence, got '%.*s'", k->section, k->key,
		    len > 40 ? 40 : (int)len, item);
		return false;
	}
	return true;
}

static bool
config_pin_value_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	struct pv_config *c = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)item[i] < 0x21 ||
		    (unsigned char)item[i] > 0x7e)
			break;
	if (len < 6 || len > CONFIG_PIN_MAX || i != len) {
		config_fail(p, p->line, "[%s] %s: each value is 6 to %d "
		    "printable characters without spaces", k->section, k->key,
		    CONFIG_PIN_MAX);
		return false;
	}
	if (c->n_pin_refuse_values >= CONFIG_PIN_LIST_MAX) {
		config_fail(p, p->line, "[%s] %s: at most %d values",
		    k->section, k->key, CONFIG_PIN_LIST_MAX);
		return false;
	}
	memcpy(c->pin_refuse_values[c->n_pin_refuse_values], item, len);
	c->pin_refuse_values[c->n_pin_refuse_values][len] = '\0';
	c->n_pin_refuse_values++;
	return true;
}

struct config_dn_ctx {
	struct config_dn *dn;
	bool placeholders;
};

static bool
config_dn_item(struct config_parse *p, const struct config_key *k,
    const char *item, size_t len, void *ctx)
{
	static const char *const types[] = {
		"C", "ST", "L", "O", "OU", "CN", "DC", "UID"
	};
	struct config_dn_ctx *c = ctx;
	const char *eq = memchr(item, '=', len);
	size_t tlen, vlen, i;
	const char *val;
	struct pv_why why;
	char value[CONFIG_DN_VALUE_MAX];

	if (eq == NULL) {
		config_fail(p, p->line, "[%s] %s: '%.*s' is not TYPE=value",
		    k->section, k->key, (int)len, item);
		return false;
	}
	tlen = (size_t)(eq - item);
	while (tlen > 0 && isspace((unsigned char)item[tlen - 1]))
		tlen--;
	val = eq + 1;
	vlen = len - (size_t)(val - item);
	while (vlen > 0 && isspace((unsigned char)*val)) {
		val++;
		vlen--;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i]) == tlen &&
		    strncasecmp(types[i], item, tlen) == 0)
			break;
	if (i == sizeof(types) / sizeof(types[0])) {
		config_fail(p, p->line, "[%s] %s: attribute type '%.*s' is not "
		    "one of C, ST, L, O, OU, CN, DC, UID", k->section, k->key,
		    (int)tlen, item);
		return false;
	}
	if (vlen == 0 || vlen >= sizeof(value)) {
		config_fail(p, p->line, "[%s] %s: the value of %s must be 1-%zu "
		    "characters", k->section, k->key, types[i],
		    sizeof(value) - 1);
		return false;
	}
	memcpy(value, val, vlen);
	value[vlen] = '\0';
	/* Names go into certificates: strict UTF-8, no control characters
	 * (pkix_dn_add checks the expanded value again). */
	{
		struct buf_cur cur;
		enum text_utf8_err e;
		size_t off = 0;
		uint32_t cp;

		if ((e = text_utf8_check(value, vlen, &off, NULL)) !=
		    TEXT_UTF8_OK) {
			config_fail(p, p->line, "[%s] %s: the value of %s is "
			    "not UTF-8 at byte %zu: %s", k->section, k->key,
			    types[i], off + 1, text_utf8_err_str(e));
			return false;
		}
		buf_cur_init(&cur, value, vlen);
		while (text_utf8_next(&cur, &cp, NULL) == TEXT_UTF8_OK) {
			if (text_cp_is_control(cp)) {
				config_fail(p, p->line, "[%s] %s: control "
				    "character in the value of %s", k->section,
				    k->key, types[i]);
				return false;
			}
		}
	}
	if (c->placeholders) {
		pv_why_clear(&why);
		if (identity_template_check(value, &why) != PV_OK) {
			config_fail(p, p->line, "[%s] %s: %s", k->section,
			    k->key, why.msg);
			return false;
		}
	} else if (strchr(value, '{') != NULL || strchr(value, '}') != NULL) {
		config_fail(p, p->line, "[%s] %s: placeholders are not allowed "
		    "here", k->section, k->key);
		return false;
	}
	if (strcmp(types[i], "C") == 0 && strchr(value, '{') == NULL &&
	    (vlen != 2 || !isupper((unsigned char)value[0]) ||
	    !isupper((unsigned char)value[1]))) {
		config_fail(p, p->line, "[%s] %s: C must be a two-letter country "
		    "code such as US, got '%s'", k->section, k->key, value);
		return false;
	}
	if (c->dn->n >= CONFIG_DN_MAX_RDN) {
		config_fail(p, p->line, "[%s] %s: at most %d attributes",
		    k->section, k->key, CONFIG_DN_MAX_RDN);
		return false;
	}
	strcpy(c->dn->rdn[c->dn->n].type, types[i]);
	strcpy(c->dn->rdn[c->dn->n].value, value);
	c->dn->n++;
	return true;
}

static bool
config_text_ok(const char *v, size_t lo, size_t hi)
{
	size_t n = strlen(v), i;

	if (n < lo || n > hi)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return false;
	return true;
}

/* ---- one key ------------------------------------------------------------------- */

/* A T_ENUM value: its index among the names of config_enums[k->arg]. */
static bool
config_enum(struct config_parse *p, const struct config_key *k, const char *v,
    char *field)
{
	const char *const *names = config_enums[k->arg];
	char expect[160] = "";
	size_t n;
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			memcpy(field, &i, sizeof(i));
			return true;
		}
		n = strlen(expect);
		(void)snprintf(expect + n, sizeof(expect) - n, "%s'%s'",
		    i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ",
		    names[i]);
	}
	config_fail(p, p->line, "[%s] %s: expected %s, got '%.40s'",
	    k->section, k->key, expect, v);
	return false;
}

static bool
config_set(struct config_parse *p, const struct config_key *k, const char *v)
{
	struct pv_config *c = p->cfg;
	char *base = (char *)c;
	size_t i, n;

	switch (k->type) {
	case T_ALG:
	case T_CA_ALG:
		for (i = 0; i < sizeof(config_algs) / sizeof(config_algs[0]);
		    i++) {
			if (strcmp(v, config_algs[i].name) != 0)
				continue;
			if (config_algs[i].ca_only && k->type == T_ALG)
				break;
			if (k->type == T_ALG)
				c->slot_alg[k->arg] = config_algs[i].alg;
			else
				*(enum config_alg *)(void *)(base + k->off) =
				    config_algs[i].alg;
			return true;
		}
		config_fail(p, p->line, "[%s] %s: expected %s, got '%s'",
		    k->section, k->key, k->type == T_ALG ?
		    "rsa2048, rsa3072, eccp256 or eccp384" :
		    "rsa2048, rsa3072, rsa4096, eccp256 or eccp384", v);
		return false;
	case T_UINT:
		if (!config_parse_uint(v, k->lo, k->hi,
		    (unsigned *)(void *)(base + k->off))) {
			config_fail(p, p->line, "[%s] %s: expected a whole number "
			    "from %u to %u, got '%s'", k->section, k->key, k->lo,
			    k->hi, v);
			return false;
		}
		return true;
	case T_BOOL:
		if (!config_parse_bool(v, (bool *)(void *)(base + k->off))) {
			config_fail(p, p->line, "[%s] %s: expected 'yes' or "
			    "'no', got '%s'", k->section, k->key, v);
			return false;
		}
		return true;
	case T_CARD:
		n = strlen(v);
		if (n >= 2 && (v[n - 1] == 'y' || v[n - 1] == 'd')) {
			char num[16];
			unsigned val;

			if (n - 1 < sizeof(num)) {
				memcpy(num, v, n - 1);
				num[n - 1] = '\0';
				if (v[n - 1] == 'y' &&
				    config_parse_uint(num, 1, 6, &val)) {
					c->card_years = val;
					c->card_days = 0;
					return true;
				}
				if (v[n - 1] == 'd' &&
				    config_parse_uint(num, 1, 2192, &val)) {
					c->card_years = 0;
					c->card_days = val;
					return true;
				}
			}
		}
		config_fail(p, p->line, "[%s] %s: expected 1y to 6y or 1d to "
		    "2192d, got '%s'", k->section, k->key, v);
		return false;
	case T_URL:
		n = strlen(v);
		if (n == 0) {
			((char *)(base + k->off))[0] = '\0';
			return true;
		}
		if (n >= CONFIG_URL_MAX || strncmp(v, "http://", 7) != 0 ||
		    n == 7 || !config_text_ok(v, 8, CONFIG_URL_MAX - 1) ||
		    strchr(v, ' ') != NULL) {
			config_fail(p, p->line, "[%s] %s: expected an http:// "
			    "URL without spaces, at most %d characters, got "
			    "'%.60s'", k->section, k->key, CONFIG_URL_MAX - 1, v);
			return false;
		}
		memcpy(base + k->off, v, n + 1);
		return true;
	case T_POLICY_SET:
		if (strcmp(v, "test") == 0)
			c->policy_set = CONFIG_POLICY_TEST;
		else if (strcmp(v, "production") == 0)
			c->policy_set = CONFIG_POLICY_PRODUCTION;
		else {
			config_fail(p, p->line, "[%s] %s: expected 'test' or "
			    "'production', got '%s'", k->section, k->key, v);
			return false;
		}
		return true;
	case T_OIDS:
		memset(&p->override[k->arg], 0, sizeof(p->override[0]));
		p->has_override[k->arg] = v[0] != '\0';
		return config_list(p, k, v, config_oid_item,
		    &p->override[k->arg]);
	case T_EKU:
		c->eku_9a = 0;
		return config_list(p, k, v, config_eku_item, &c->eku_9a);
	case T_SLOTS:
		*(unsigned *)(void *)(base + k->off) = 0;
		return config_list(p, k, v, config_slot_item,
		    base + k->off);
	case T_DN:
	case T_DN_PLAIN: {
		struct config_dn_ctx dc;

		dc.dn = (struct config_dn *)(void *)(base + k->off);
		dc.placeholders = k->type == T_DN;
		memset(dc.dn, 0, sizeof(*dc.dn));
		return config_list(p, k, v, config_dn_item, &dc);
	}
	case T_ESCROW:
		if (strcmp(v, "required") == 0)
			c->escrow_policy = CONFIG_ESCROW_REQUIRED;
		else if (strcmp(v, "optional") == 0)
			c->escrow_policy = CONFIG_ESCROW_OPTIONAL;
		else {
			config_fail(p, p->line, "[%s] %s: expected 'required' "
			    "or 'optional', got '%s'", k->section, k->key, v);
			return false;
		}
		return true;
	case T_DIGITS:
		n = strlen(v);
		for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			;
		if (n != k->hi || i != n) {
			config_fail(p, p->line, "[%s] %s: expected %u digits, "
			    "got '%s'", k->section, k->key, k->hi, v);
			return false;
		}
		memcpy(base + k->off, v, n + 1);
		return true;
	case T_TEXT:
		if (!config_text_ok(v, k->lo, k->hi)) {
			config_fail(p, p->line, "[%s] %s: expected %u-%u printable "
			    "ASCII characters, got '%.40s'", k->section, k->key,
			    k->lo, k->hi, v);
			return false;
		}
		memcpy(base + k->off, v, strlen(v) + 1);
		return true;
	case T_INTERIM:
		if (strcmp(v, "no") == 0)
			c->piv_interim = CONFIG_PIV_INTERIM_NO;
		else if (strcmp(v, "yes") == 0)
			c->piv_interim = CONFIG_PIV_INTERIM_YES;
		else if (strcmp(v, "omit") == 0)
			c->piv_interim = CONFIG_PIV_INTERIM_OMIT;
		else {
			config_fail(p, p->line, "[%s] %s: expected 'no', 'yes' "
			    "or 'omit', got '%.40s'", k->section, k->key, v);
			return false;
		}
		return true;
	case T_PIN_RULES:
		c->pin_refuse = 0;
		return config_list(p, k, v, config_pin_rule_item,
		    &c->pin_refuse);
	case T_PIN_LIST:
		memset(c->pin_refuse_values, 0, sizeof(c->pin_refuse_values));
		c->n_pin_refuse_values = 0;
		return config_list(p, k, v, config_pin_value_item, c);
	case T_PASS:
		if (strcmp(v, "prompt") == 0) {
			c->pass_source = CONFIG_PASS_PROMPT;
			c->pass_arg[0] = '\0';
			return true;
		}
		if (strncmp(v, "env:", 4) == 0 && v[4] != '\0' &&
		    strlen(v + 4) < CONFIG_PASS_ARG_MAX &&
		    strspn(v + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(v + 4) &&
		    !isdigit((unsigned char)v[4])) {
			c->pass_source = CONFIG_PASS_ENV;
			strcpy(c->pass_arg, v + 4);
			return true;
		}
		if (strncmp(v, "file:", 5) == 0 && v[5] != '\0' &&
		    strlen(v + 5) < CONFIG_PASS_ARG_MAX) {
			c->pass_source = CONFIG_PASS_FILE;
			strcpy(c->pass_arg, v + 5);
			return true;
		}
		if (strncmp(v, "fd:", 3) == 0) {
			unsigned fd;

			if (config_parse_uint(v + 3, 0, 1023, &fd)) {
				c->pass_source = CONFIG_PASS_FD;
				strcpy(c->pass_arg, v + 3);
				return true;
			}
		}
		config_fail(p, p->line, "[%s] %s: expected prompt, env:NAME, "
		    "file:PATH or fd:N, got '%.60s'", k->section, k->key, v);
		return false;
	case T_PATHS:
		memset(base + k->off, 0, sizeof(struct config_paths));
		return config_list(p, k, v, config_path_item, base + k->off);
	case T_PATH:
		n = strlen(v);
		if (n != 0 && !config_path_ok(v, n)) {
			config_fail(p, p->line, "[%s] %s: '%.60s' is not a "
			    "directory name", k->section, k->key, v);
			return false;
		}
		memcpy(base + k->off, v, n + 1);
		return true;
	case T_HTTPS_URL:
		n = strlen(v);
		if (!config_https_url_ok(v)) {
			config_fail(p, p->line, "[%s] %s: expected https://HOST "
			    "or https://HOST:PORT (no path), at most %d "
			    "characters, got '%.60s'", k->section, k->key,
			    CONFIG_URL_MAX - 1, v);
			return false;
		}
		memcpy(base + k->off, v, n + 1);
		return true;
	case T_LISTEN:
		n = strlen(v);
		if ((n == 0 && k->arg == 1) || config_listen_ok(v)) {
			memcpy(base + k->off, v, n + 1);
			return true;
		}
		config_fail(p, p->line, "[%s] %s: expected ADDRESS:PORT (an IPv4 "
		    "address, or an IPv6 one in brackets, and a port 1-65535)%s, "
		    "got '%.60s'", k->section, k->key, k->arg == 1 ?
		    " or nothing" : "", v);
		return false;
	case T_OID_LIST:
		memset(base + k->off, 0, sizeof(struct config_oids));
		return config_list(p, k, v, config_oid_item, base + k->off);
	case T_REV_MODE:
		if (strcmp(v, "ocsp-then-crl") == 0)
			c->rev_mode = CONFIG_REV_OCSP_THEN_CRL;
		else if (strcmp(v, "both") == 0)
			c->rev_mode = CONFIG_REV_BOTH;
		else if (strcmp(v, "crl-only") == 0)
			c->rev_mode = CONFIG_REV_CRL_ONLY;
		else {
			config_fail(p, p->line, "[%s] %s: expected "
			    "ocsp-then-crl, both or crl-only, got '%.40s'",
			    k->section, k->key, v);
			return false;
		}
		return true;
	case T_REV_FAILURE:
		if (strcmp(v, "hard") == 0 || strcmp(v, "soft") == 0) {
			c->rev_soft_fail = v[0] == 's';
			return true;
		}
		config_fail(p, p->line, "[%s] %s: expected 'hard' or 'soft', "
		    "got '%.40s'", k->section, k->key, v);
		return false;
	case T_REV_CA:
		if (strcmp(v, "required") == 0 ||
		    strcmp(v, "if_published") == 0) {
			c->rev_ca_required = v[0] == 'r';
			return true;
		}
		config_fail(p, p->line, "[%s] %s: expected 'required' or "
		    "'if_published', got '%.40s'", k->section, k->key, v);
		return false;
	case T_REV_NONCE:
		if (strcmp(v, "required") == 0 || strcmp(v, "optional") == 0) {
			c->rev_nonce_required = v[0] == 'r';
			return true;
		}
		config_fail(p, p->line, "[%s] %s: expected 'required' or "
		    "'optional', got '%.40s'", k->section, k->key, v);
		return false;
	case T_ENUM:
		return config_enum(p, k, v, base + k->off);
	case T_TARGETS:
		*(unsigned *)(void *)(base + k->off) = 0;
		return config_list(p, k, v, config_target_item, base + k->off);
	case T_DERIVE_OIDS:
		memset(&p->d_override[k->arg], 0, sizeof(p->d_override[0]));
		p->has_d_override[k->arg] = v[0] != '\0';
		return config_list(p, k, v, config_oid_item,
		    &p->d_override[k->arg]);
	case T_ALPHABET:
		for (i = 0; i < 3; i++)
			if (strcmp(v, config_alphabets[i]) == 0) {
				c->derive_code_alphabet =
				    (enum config_code_alphabet)i;
				return true;
			}
		config_fail(p, p->line, "[%s] %s: expected alphanumeric, "
		    "uppercase or digits, got '%.40s'", k->section, k->key, v);
		return false;
	case T_P12:
		if (strcmp(v, "modern") == 0 || strcmp(v, "legacy") == 0) {
			c->derive_p12 = v[0] == 'm' ? CONFIG_P12_MODERN :
			    CONFIG_P12_LEGACY;
			return true;
		}
		config_fail(p, p->line, "[%s] %s: expected 'modern' or "
		    "'legacy', got '%.40s'", k->section, k->key, v);
		return false;
	}
	return false;
}

/* ---- libinih glue ----------------------------------------------------------------- */

static bool
config_section_known(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]);
	    i++)
		if (strlen(config_sections[i]) == len &&
		    memcmp(config_sections[i], s, len) == 0)
			return true;
	return false;
}

/* ini_reader: one line per call, like fgets. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_parse *p = stream;
	const char *s, *nl;
	size_t len, cap = num > 1 ? (size_t)num - 1 : 0;

	if (p->p >= p->end)
		return NULL;
	s = p->p;
	nl = memchr(s, '\n', (size_t)(p->end - s));
	len = nl ? (size_t)(nl - s) + 1 : (size_t)(p->end - s);
	p->p = s + len;
	p->line++;
	if (len > CONFIG_LINE_MAX + 1 || (len == CONFIG_LINE_MAX + 1 &&
	    s[len - 1] != '\n'))
		config_fail(p, p->line, "line longer than %d characters",
		    CONFIG_LINE_MAX);
	/* Leading blanks go: libinih would take the line as a continuation. */
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len > 0 && *s == '[') {
		const char *close = memchr(s, ']', len);

		if (close != NULL && !config_section_known(s + 1,
		    (size_t)(close - s - 1)))
			config_fail(p, p->line, "unknown section [%.*s]",
			    (int)(close - s - 1 > 40 ? 40 : close - s - 1), s + 1);
	}
	if (len > cap)
		len = cap;
	memcpy(str, s, len);
	str[len] = '\0';
	return str;
}

static int
config_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_parse *p = user;
	size_t i;

	if (section[0] == '\0') {
		config_fail(p, p->line, "%s: key outside any [section]", name);
		return 0;
	}
	if (!config_section_known(section, strlen(section)))
		return 0;	/* reported by config_reader */
	for (i = 0; i < CONFIG_N_KEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].key, name) == 0)
			break;
	}
	if (i == CONFIG_N_KEYS) {
		config_fail(p, p->line, "[%s] %.40s: unknown key", section,
		    name);
		return 0;
	}
	if (p->seen[i] != 0) {
		config_fail(p, p->line, "[%s] %s: given twice (first on line "
		    "%u)", section, name, p->seen[i]);
		return 0;
	}
	p->seen[i] = p->line;
	return config_set(p, &config_keys[i], value) ? 1 : 0;
}

/* Line where key |section|/|key| was given, 0 if it was not. */
static unsigned
config_seen(const struct config_parse *p, const char *section,
    const char *key)
{
	size_t i;

	for (i = 0; i < CONFIG_N_KEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].key, key) == 0)
			return p->seen[i];
	return 0;
}

static void
config_resolve(struct config_parse *p)
{
	struct pv_config *c = p->cfg;
	const char *const *set = c->policy_set == CONFIG_POLICY_PRODUCTION ?
	    config_policy_prod : config_policy_test;
	unsigned s;

	for (s = 0; s <= CONFIG_N_SLOTS; s++) {
		struct config_oids *o = s < CONFIG_N_SLOTS ? &c->policy[s] :
		    &c->policy_content_signer;

		memset(o, 0, sizeof(*o));
		if (p->has_override[s]) {
			*o = p->override[s];
		} else {
			o->n = 1;
			strcpy(o->oid[0], set[s]);
		}
	}
	for (s = 0; s < CONFIG_N_DP; s++) {
		struct config_oids *o = &c->derive_policy[s];

		memset(o, 0, sizeof(*o));
		if (p->has_d_override[s]) {
			*o = p->d_override[s];
		} else {
			o->n = 1;
			strcpy(o->oid[0], c->policy_set ==
			    CONFIG_POLICY_PRODUCTION ? config_dpolicy_prod[s] :
			    config_dpolicy_test[s]);
		}
	}
	/* Cross-key rules. */
	if ((c->derive_sign_targets & CONFIG_DERIVE_CSR) != 0)
		config_fail(p, config_seen(p, "derive", "signature_targets"),
		    "[derive] signature_targets: csr cannot get a signature "
		    "key (the device's request carries one key)");
	if (c->pin_min > c->pin_max)
		config_fail(p, config_seen(p, "pin", "min_length"),
		    "[pin] min_length: %u is more than max_length %u",
		    c->pin_min, c->pin_max);
	if (c->ca_issuing_days > c->ca_root_days)
		config_fail(p, config_seen(p, "ca", "issuing_days"),
		    "[ca] issuing_days: %u outlives root_days %u",
		    c->ca_issuing_days, c->ca_root_days);
	if (c->ca_signer_days > c->ca_issuing_days)
		config_fail(p, config_seen(p, "ca", "content_signer_days"),
		    "[ca] content_signer_days: %u outlives issuing_days %u",
		    c->ca_signer_days, c->ca_issuing_days);
	if (c->ca_ocsp_days > c->ca_issuing_days)
		config_fail(p, config_seen(p, "ca", "ocsp_days"),
		    "[ca] ocsp_days: %u outlives issuing_days %u",
		    c->ca_ocsp_days, c->ca_issuing_days);
	if ((c->serve_tls_cert[0] == '\0') != (c->serve_tls_key[0] == '\0'))
		config_fail(p, config_seen(p, "serve", c->serve_tls_cert[0] ?
		    "tls_certificate" : "tls_key"), "[serve] tls_certificate "
		    "and tls_key: give both or neither");
	if (c->ca_kra_days > c->ca_root_days)
		config_fail(p, config_seen(p, "ca", "kra_days"),
		    "[ca] kra_days: %u outlives root_days %u",
		    c->ca_kra_days, c->ca_root_days);
	if (c->subject.n == 0)
		config_fail(p, config_seen(p, "certificates", "subject"),
		    "[certificates] subject: may not be empty (only the 9e "
		    "certificate may have an empty subject)");
	if (c->ca_name.n == 0)
		config_fail(p, config_seen(p, "ca", "name"),
		    "[ca] name: may not be empty");
}

/* ---- public ---------------------------------------------------------------------- */

void
config_defaults(struct pv_config *out)
{
	static const struct {
		const char *type, *value;
	} subject[] = {
		{ "C", "US" }, { "O", "Example Agency" }, { "OU", "People" },
		{ "CN", "{full_name}" }
	}, ca_name[] = {
		{ "C", "US" }, { "O", "Example Agency" }, { "OU", "PIV Station" }
	};
	unsigned s;

	memset(out, 0, sizeof(*out));
	out->slot_alg[CONFIG_SLOT_9A] = CONFIG_ALG_ECCP256;
	out->slot_alg[CONFIG_SLOT_9C] = CONFIG_ALG_RSA2048;
	out->slot_alg[CONFIG_SLOT_9D] = CONFIG_ALG_RSA2048;
	out->slot_alg[CONFIG_SLOT_9E] = CONFIG_ALG_ECCP256;
	out->cert_days = 1095;
	out->card_years = 5;
	out->card_days = 0;
	strcpy(out->crl_url, "http://pki.example.gov/crl/pivstation.crl");
	strcpy(out->ocsp_url, "http://ocsp.example.gov/");
	strcpy(out->ca_issuers_url,
	    "http://pki.example.gov/aia/pivstation-issuing.p7c");
	out->policy_set = CONFIG_POLICY_TEST;
	for (s = 0; s <= CONFIG_N_SLOTS; s++) {
		struct config_oids *o = s < CONFIG_N_SLOTS ? &out->policy[s] :
		    &out->policy_content_signer;

		o->n = 1;
		strcpy(o->oid[0], config_policy_test[s]);
	}
	out->eku_9a = CONFIG_EKU_CLIENT_AUTH | CONFIG_EKU_SMARTCARD_LOGON;
	out->rfc822_slots = CONFIG_SLOT_BIT(CONFIG_SLOT_9C) |
	    CONFIG_SLOT_BIT(CONFIG_SLOT_9D);
	out->upn_slots = 0;
	for (s = 0; s < sizeof(subject) / sizeof(subject[0]); s++) {
		strcpy(out->subject.rdn[s].type, subject[s].type);
		strcpy(out->subject.rdn[s].value, subject[s].value);
	}
	out->subject.n = s;
	out->card_auth_subject.n = 0;
	out->piv_interim = CONFIG_PIV_INTERIM_NO;
	out->escrow_policy = CONFIG_ESCROW_REQUIRED;
	out->escrow_puk = true;
	out->pin_min = 6;
	out->pin_max = 8;
	out->pin_digits_only = true;
	out->pin_refuse = CONFIG_PIN_REFUSE_ALL;
	out->n_pin_refuse_values = 0;
	strcpy(out->agency_code, "9999");
	strcpy(out->system_code, "0001");
	out->credential_series = 0;
	out->individual_credential_issue = 1;
	out->organizational_category = 1;
	strcpy(out->organization_identifier, "0000");
	out->person_association = 1;
	strcpy(out->issuer_id, "PIVSTATION");
	out->factory_chuid = CONFIG_FACTORY_CHUID_OVERWRITE;
	out->attest_policy = CONFIG_ATTEST_RECORD;
	out->ca_alg = CONFIG_ALG_ECCP384;
	out->ca_root_days = 7300;
	out->ca_issuing_days = 3650;
	out->ca_signer_days = 3285;
	out->ca_kra_days = 3650;
	out->ca_ocsp_alg = CONFIG_ALG_ECCP256;
	out->ca_ocsp_days = 90;
	for (s = 0; s < sizeof(ca_name) / sizeof(ca_name[0]); s++) {
		strcpy(out->ca_name.rdn[s].type, ca_name[s].type);
		strcpy(out->ca_name.rdn[s].value, ca_name[s].value);
	}
	out->ca_name.n = s;
	out->pass_source = CONFIG_PASS_PROMPT;
	out->busy_timeout_ms = 5000;
	out->val_explicit_policy = true;
	out->val_inhibit_any = true;
	out->val_inhibit_mapping = false;
	out->val_expiry_margin_days = 7;
	out->val_card_auth = false;
	out->rev_mode = CONFIG_REV_OCSP_THEN_CRL;
	out->rev_soft_fail = false;
	out->rev_ca_required = false;
	out->rev_nonce_required = false;
	out->rev_fetch = true;
	out->rev_station_crl = true;
	out->rev_timeout_ms = 5000;
	out->rev_crl_max_kib = 16384;
	out->rev_aia_cache_hours = 24;
	out->rev_ocsp_max_age_min = 60;
	out->rev_clock_skew_s = 300;
	out->derive_targets = CONFIG_DERIVE_ALL;
	out->derive_sign_targets = CONFIG_DERIVE_TOKEN | CONFIG_DERIVE_P12 |
	    CONFIG_DERIVE_MOBILECONFIG;
	for (s = 0; s < CONFIG_N_DP; s++) {
		out->derive_policy[s].n = 1;
		strcpy(out->derive_policy[s].oid[0], config_dpolicy_test[s]);
	}
	out->derive_km = true;
	out->derive_history = 3;
	out->derive_cert_days = 1095;
	out->derive_max_active = 0;
	out->derive_code_len = 8;
	out->derive_code_alphabet = CONFIG_CODE_ALNUM;
	out->derive_activation_min = 10;
	out->derive_activation_tries = 5;
	out->derive_recheck_days = 7;
	out->derive_recheck_repeat = true;
	out->derive_p12 = CONFIG_P12_MODERN;
	strcpy(out->serve_url, "https://pivstation.example.gov");
	strcpy(out->serve_listen, "0.0.0.0:8443");
	strcpy(out->serve_listen_http, "0.0.0.0:8080");
	out->serve_threads = 4;
	out->serve_max_conn = 1024;
	out->serve_max_conn_ip = 0;
	out->serve_timeout_s = 15;
	out->serve_max_body_kib = 64;
	out->serve_ocsp_minutes = 60;
	out->console_idle_lock_s = 300;
	out->console_recovery_dual = true;
}

enum pv_err
config_parse(const char *text, size_t len, const char *name,
    struct pv_config *out, struct pv_why *why)
{
	struct config_parse *p;
	enum pv_err r = PV_E_CONFIG;
	int rc;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return PV_E_NOMEM;
	config_defaults(out);
	p->name = name != NULL ? name : "pivstation.conf";
	p->p = text;
	p->end = text + len;
	p->cfg = out;
	if (memchr(text, '\0', len) != NULL) {
		const char *z = memchr(text, '\0', len);
		unsigned line = 1;

		for (const char *q = text; q < z; q++)
			line += *q == '\n';
		config_fail(p, line, "NUL byte in the file");
		goto fail;
	}
	rc = ini_parse_stream(config_reader, p, config_handler, p);
	if (rc < 0) {
		r = PV_E_NOMEM;
		(void)pv_why_set(why, r, "%s: out of memory", p->name);
		goto out;
	}
	/* libinih reports the first line it could not take, ours included. */
	if (rc > 0 && (p->err_line == 0 || (unsigned)rc < p->err_line)) {
		p->err_line = 0;
		config_fail(p, (unsigned)rc, "expected 'key = value', a "
		    "[section] or a comment");
	}
	if (p->err_line == 0)
		config_resolve(p);
	if (p->err_line != 0)
		goto fail;
	r = PV_OK;
	goto out;
fail:
	(void)pv_why_set(why, PV_E_CONFIG, "%s", p->msg);
out:
	free(p);
	return r;
}

enum pv_err
config_load(const char *path, struct pv_config *out, struct pv_why *why)
{
	FILE *f;
	char *text = NULL;
	size_t n;
	enum pv_err r = PV_E_INTERNAL;

	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return pv_why_set(why, PV_E_NO_FILE,
			    "%s does not exist", path);
		return pv_why_set(why, PV_E_IO, "%s: %s", path,
		    strerror(errno));
	}
	if ((text = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	n = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		r = pv_why_set(why, PV_E_IO, "%s: read failed", path);
		goto out;
	}
	if (n > CONFIG_FILE_MAX) {
		r = pv_why_set(why, PV_E_TOO_LONG, "%s: larger than %d bytes",
		    path, CONFIG_FILE_MAX);
		goto out;
	}
	r = config_parse(text, n, path, out, why);
out:
	free(text);
	fclose(f);
	return r;
}

enum pv_err
config_load_home(const struct home *h, struct pv_config *out,
    struct pv_why *why)
{
	char path[HOME_PATH_MAX];
	enum pv_err r;

	if ((r = home_path(h, HOME_CONFIG, path, sizeof(path))) != PV_OK)
		return pv_why_set(why, r, "station home path too long");
	r = config_load(path, out, why);
	if (r == PV_E_NO_FILE) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_NOT_SET_UP,
		    "%s does not exist: run 'pivstation init'", path);
	}
	return r;
}

/* ---- helpers for issuance -------------------------------------------------------- */

const char *
config_pin_weakness(unsigned rules, const uint8_t *pin, size_t len)
{
	static const char *const factory[] = { "123456", "12345678" };
	bool same = true, up = true, down = true;
	size_t i;

	if (rules & CONFIG_PIN_REFUSE_FACTORY)
		for (i = 0; i < sizeof(factory) / sizeof(factory[0]); i++)
			if (len == strlen(factory[i]) &&
			    CRYPTO_memcmp(pin, factory[i], len) == 0)
				return "factory";
	if (len < 2)
		return NULL;
	for (i = 1; i < len; i++) {
		same = same && pin[i] == pin[0];
		up = up && pin[i] == pin[i - 1] + 1;
		down = down && pin[i] + 1 == pin[i - 1];
	}
	if ((rules & CONFIG_PIN_REFUSE_REPEATED) && same)
		return "repeated";
	if ((rules & CONFIG_PIN_REFUSE_SEQUENCE) && (up || down))
		return "sequence";
	return NULL;
}

enum pv_err
config_check_pin(const struct pv_config *c, const uint8_t *pin, size_t len,
    struct pv_why *why)
{
	const char *weak;
	size_t i;

	if (len < c->pin_min || len > c->pin_max)
		return pv_why_set(why, PV_E_INPUT,
		    "PIN: %zu characters, expected %u to %u", len, c->pin_min,
		    c->pin_max);
	for (i = 0; i < len; i++) {
		if (c->pin_digits_only && (pin[i] < '0' || pin[i] > '9'))
			return pv_why_set(why, PV_E_INPUT,
			    "PIN: only digits are allowed");
		if (pin[i] < 0x21 || pin[i] > 0x7e)
			return pv_why_set(why, PV_E_INPUT, "PIN: only printable "
			    "ASCII characters without spaces are allowed");
	}
	if ((weak = config_pin_weakness(c->pin_refuse, pin, len)) != NULL) {
		if (strcmp(weak, "factory") == 0)
			return pv_why_set(why, PV_E_INPUT, "PIN: a factory "
			    "default value is refused ([pin] refuse: factory)");
		if (strcmp(weak, "repeated") == 0)
			return pv_why_set(why, PV_E_INPUT, "PIN: one character "
			    "repeated is refused ([pin] refuse: repeated)");
		return pv_why_set(why, PV_E_INPUT, "PIN: a rising or falling "
		    "sequence is refused ([pin] refuse: sequence)");
	}
	for (i = 0; i < c->n_pin_refuse_values && i < CONFIG_PIN_LIST_MAX;
	    i++)
		if (strlen(c->pin_refuse_values[i]) == len &&
		    CRYPTO_memcmp(c->pin_refuse_values[i], pin, len) == 0)
			return pv_why_set(why, PV_E_INPUT, "PIN: one of the "
			    "values [pin] refuse_values lists");
	return PV_OK;
}

int64_t
config_card_expiry(const struct pv_config *c, int64_t from)
{
	struct tm tm;
	time_t t = (time_t)from;

	if (c->card_years == 0)
		return from > INT64_MAX - (int64_t)c->card_days * 86400 ? 0 :
		    from + (int64_t)c->card_days * 86400;
	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	tm.tm_year += (int)c->card_years;
	/* timegm normalises 29 February of a common year to 1 March. */
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : (int64_t)t;
}

int64_t
config_cert_not_after(const struct pv_config *c, int64_t from,
    int64_t card_expiry)
{
	int64_t end = from + (int64_t)c->cert_days * 86400;

	return card_expiry != 0 && end > card_expiry ? card_expiry : end;
}
