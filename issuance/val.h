/*
 * val.h: relying-party validation of a certificate (RFC 5280 §6): path to
 * a trust anchor, certificate policies, and revocation by CRL (RFC 5280
 * §6.3, including indirect, delta and reason-partitioned CRLs) and OCSP
 * (RFC 6960); the answer is a list of checks, each passed or failed with
 * a sentence saying why, that every front end renders as it likes
 * (val_report.h).
 *
 * Path building, signatures, validity, basic constraints, key usage,
 * name constraints and the policy tree are OpenSSL's X509_verify_cert;
 * what it lacks for a relying party is done here on top of its parsers:
 * fetching intermediates from the AIA caIssuers URL, DSA parameter
 * inheritance (val_path.c), and the whole of revocation (val_crl.c,
 * val_ocsp.c, val_rev.c).  Each such piece names the PKITS cases it
 * exists for.
 *
 * A struct val_ctx holds what outlives one validation: trust anchors,
 * untrusted certificates, CRLs given as files, the fetcher, and caches
 * (parsed CRLs with a sorted serial index and their verified signature,
 * certificates fetched from AIA URLs; on disk, fetched CRLs until their
 * nextUpdate and AIA bundles for a configured time).  A console keeps one
 * for the whole session; a second validation of the same card then costs
 * signature checks and look-ups, no parsing.  A val_ctx is used by one
 * thread at a time.
 */
#ifndef PV_ISSUANCE_VAL_H
#define PV_ISSUANCE_VAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/val_report.h"

/* ---- fetching ------------------------------------------------------------- */

/*
 * The one seam to the network.  |get| fetches |url| (an http:// URL that
 * val_url_parse accepted) and |post| sends |body| with |ctype| to it (OCSP
 * over HTTP, RFC 6960 App. A.1).  Either stores at most |max| bytes of the
 * response body into *out (malloc; free with free()) and returns PV_OK for
 * an HTTP 200 answer; a larger body is PV_E_TOO_LONG, no answer in time
 * PV_E_TIMEOUT, any other failure PV_E_IO, each with |why| naming the URL.
 * *ctype_out (NULL allowed; at most 64 bytes with the NUL) receives the
 * response's Content-Type ("" when none).
 */
struct val_fetcher {
	enum pv_err (*get)(void *ctx, const char *url, size_t max,
	    uint8_t **out, size_t *out_len, char *ctype_out,
	    struct pv_why *why);
	enum pv_err (*post)(void *ctx, const char *url, const char *ctype,
	    const uint8_t *body, size_t body_len, size_t max, uint8_t **out,
	    size_t *out_len, char *ctype_out, struct pv_why *why);
	void *ctx;
};

#define VAL_CTYPE_MAX 64

/*
 * A URL as the validator accepts it from a certificate or a CRL (hostile
 * input): http:// only, a host name, IPv4 address or [IPv6] address, an
 * optional port, a path; no user information, no fragment, no spaces or
 * control characters, at most VAL_URL_MAX - 1 bytes.
 */
#define VAL_URL_MAX	512
struct val_url {
	char host[256];
	unsigned port;		/* 80 when not given */
	char path[VAL_URL_MAX];	/* from the first '/', query included; "/"
				 * when empty */
};

/* val_url_parse checks |s| and splits it; PV_E_INPUT says what is wrong. */
enum pv_err val_url_parse(const char *s, struct val_url *out,
    struct pv_why *why);

/*
 * val_url_file maps the path of |s| to a relative file name for
 * publishing ("http://pki.example.gov/crl/a.crl" gives "crl/a.crl"):
 * segments of letters, digits and - _ . only, none "." or "..", no query.
 * PV_E_INPUT otherwise.
 */
enum pv_err val_url_file(const char *s, char *out, size_t cap,
    struct pv_why *why);

/*
 * val_http_fetcher sets |f| up to fetch over HTTP with libcurl: plain
 * http:// only, no redirects to anything else (at most 3), connect and
 * total time bounded by |timeout_ms|, bodies cut at the caller's |max|.
 * Release it with val_http_fetcher_free.
 */
enum pv_err val_http_fetcher(struct val_fetcher *f, unsigned timeout_ms,
    struct pv_why *why);
void val_http_fetcher_free(struct val_fetcher *f);

/* ---- options of a context (config: [revocation], [trust]) ----------------- */

struct val_opts {
	const struct val_fetcher *fetcher;	/* NULL: nothing is fetched */
	char cache_dir[512];		/* "": no disk cache */
	size_t crl_max_bytes;		/* 0: 16 MiB */
	size_t aia_max_bytes;		/* 0: 256 KiB */
	size_t ocsp_max_bytes;		/* 0: 64 KiB */
	unsigned aia_cache_hours;	/* 0: 24 */
	unsigned clock_skew_s;		/* OCSP/CRL times: tolerance */
	unsigned ocsp_max_age_s;	/* response without nextUpdate: how old
					 * thisUpdate may be (0: 3600) */
	bool ocsp_nonce_required;	/* a response without our nonce fails */
	bool refresh;			/* ignore the disk cache (still write it) */
};

/* val_opts_defaults fills |o| with the defaults above (no fetcher). */
void val_opts_defaults(struct val_opts *o);

/* ---- the context ---------------------------------------------------------- */

struct val_ctx;

/*
 * val_ctx_new makes an empty context with a copy of |o| (the fetcher it
 * points to must outlive the context).  *out is freed with val_ctx_free.
 */
enum pv_err val_ctx_new(const struct val_opts *o, struct val_ctx **out,
    struct pv_why *why);
void val_ctx_free(struct val_ctx *ctx);

/*
 * val_ctx_add_anchor / val_ctx_add_untrusted take a reference to |x|.
 * val_ctx_add_anchors_path reads a file (PEM with one or more
 * certificates, or one DER certificate) or every *.pem *.crt *.cer *.der
 * file of a directory; PV_E_INPUT names the file that holds none.  With
 * |untrusted| the certificates become intermediates instead of anchors.
 */
enum pv_err val_ctx_add_anchor(struct val_ctx *ctx, X509 *x,
    struct pv_why *why);
enum pv_err val_ctx_add_untrusted(struct val_ctx *ctx, X509 *x,
    struct pv_why *why);
enum pv_err val_ctx_add_certs_path(struct val_ctx *ctx, const char *path,
    bool untrusted, struct pv_why *why);

/* val_ctx_n_anchors: how many trust anchors |ctx| holds. */
size_t val_ctx_n_anchors(const struct val_ctx *ctx);

/*
 * val_ctx_add_crl adds a CRL (DER or PEM bytes; |source| names it in
 * reports: the file name).  val_ctx_add_crl_path reads a file or every
 * *.crl *.pem *.der file of a directory.  PV_E_INPUT names what does not
 * decode.
 */
enum pv_err val_ctx_add_crl(struct val_ctx *ctx, const uint8_t *p, size_t n,
    const char *source, struct pv_why *why);
enum pv_err val_ctx_add_crl_path(struct val_ctx *ctx, const char *path,
    struct pv_why *why);

/* ---- one validation --------------------------------------------------------- */

enum val_rev_mode {
	VAL_REV_OCSP_THEN_CRL = 0,	/* OCSP; the CRL when OCSP has no answer */
	VAL_REV_BOTH,			/* OCSP and CRL, both must answer */
	VAL_REV_CRL_ONLY,
	VAL_REV_NONE			/* not checked (the check says so) */
};

/* val_rev_mode_name: "ocsp-then-crl", "both", "crl-only", "none". */
const char *val_rev_mode_name(enum val_rev_mode m);

/* val_rev_mode_parse: the names above; false for anything else. */
bool val_rev_mode_parse(const char *s, enum val_rev_mode *out);

#define VAL_POLICIES_MAX	8
#define VAL_OID_MAX		64

struct val_params {
	time_t at;			/* validation time */
	/* RFC 5280 §6.1.1 (c), (e)-(g); n_policies 0 = any-policy */
	unsigned n_policies;
	char policies[VAL_POLICIES_MAX][VAL_OID_MAX];
	bool explicit_policy;
	bool inhibit_mapping;
	bool inhibit_any;
	enum val_rev_mode rev_mode;
	bool soft_fail;		/* no status: accepted, and said in the check */
	bool ca_status_required; /* a CA certificate whose issuer publishes
				  * nothing for it fails (RFC 5280, PKITS);
				  * else it passes with a note */
	const char *what;	/* "9A certificate", "certificate": names the
				 * target in check texts; NULL: "certificate" */
	const char *id_prefix;	/* prefix of check ids ("cert." gives
				 * cert.path ...); NULL: none */
};

/* val_params_defaults: now, any-policy, OCSP then CRL, hard-fail, CA
 * status required. */
void val_params_defaults(struct val_params *p);

/*
 * val_cert validates |target| (with |extra| untrusted certificates, NULL
 * allowed, used for this call only) as of p->at and appends its checks to
 * |rep|: "<prefix>path" (chain to an anchor: signatures, names, validity,
 * basic constraints, key usage, name constraints, critical extensions),
 * "<prefix>policy", and "<prefix>revocation" plus one
 * "<prefix>revocation.ca<N>" per CA certificate below the anchor.
 * Returns PV_OK when the checks could be run, whatever they found
 * (rep->valid says); an error only for what stopped the run itself
 * (memory).  Facts found (chain, policy set, revocation) go to |rep|.
 */
enum pv_err val_cert(struct val_ctx *ctx, X509 *target, STACK_OF(X509) *extra,
    const struct val_params *p, struct val_report *rep, struct pv_why *why);

/*
 * val_time_parse reads ISO 8601 UTC "2011-04-15T00:00:00Z" (also without
 * seconds, or a date alone meaning midnight UTC) or "@SECONDS".
 * PV_E_INPUT otherwise.
 */
enum pv_err val_time_parse(const char *s, time_t *out, struct pv_why *why);

/*
 * val_certs_decode reads certificates from bytes: PEM (one or more), one
 * DER certificate, or a certs-only CMS/PKCS#7 bundle (DER or PEM, the
 * .p7c of AIA URLs).  *out (at least one) is owned by the caller.
 * PV_E_INPUT when nothing decodes.
 */
enum pv_err val_certs_decode(const uint8_t *p, size_t n, STACK_OF(X509) **out,
    struct pv_why *why);

/* val_subject writes |x|'s subject (RFC 2253), or "(empty subject)". */
void val_subject(const X509 *x, char *out, size_t cap);


#endif /* PV_ISSUANCE_VAL_H */
