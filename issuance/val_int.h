/*
 * val_int.h: what the val_*.c files share and nothing else includes: the
 * context, the CRL index, one validation's working state, and the
 * functions between the pieces.
 */
#ifndef PV_ISSUANCE_VAL_INT_H
#define PV_ISSUANCE_VAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apdu/err.h"
#include "issuance/val.h"

/* RFC 5280 §4.2.1.13 ReasonFlags: bit i = flag i; unused(0) left out. */
#define VAL_REASONS_ALL		0x1feu

/* Default limits (val_opts). */
#define VAL_CRL_MAX_DEFAULT	(16u * 1024 * 1024)
#define VAL_AIA_MAX_DEFAULT	(256u * 1024)
#define VAL_OCSP_MAX_DEFAULT	(64u * 1024)
#define VAL_AIA_HOURS_DEFAULT	24
#define VAL_OCSP_AGE_DEFAULT	3600
#define VAL_URLS_PER_CERT	4	/* CRL / OCSP / AIA URLs tried per cert */
#define VAL_AIA_DEPTH		6	/* issuers fetched one above another */
#define VAL_SIGNER_DEPTH	4	/* CRL-signer paths inside paths */

/* ---- CRLs, parsed once ----------------------------------------------------- */

/* One revoked entry, in the serial order of the index. */
struct val_crl_ent {
	const ASN1_INTEGER *serial;	/* borrowed from the CRL */
	X509_REVOKED *rev;		/* borrowed */
	int issuer;			/* index in issuers[]; -1: the CRL's */
	int reason;			/* CRLReason, -1 when none */
};

struct val_crl {
	X509_CRL *crl;
	char source[256];		/* file name or URL */
	bool fetched;			/* came over HTTP */
	time_t fetched_at;		/* wall clock */
	/* index: entries sorted by serial; looked up, never scanned */
	struct val_crl_ent *ent;
	size_t n_ent;
	GENERAL_NAMES **issuers;	/* certificateIssuer values, owned */
	size_t n_issuers;
	/* why the CRL may not be used at all ("" when it may) */
	char unusable[160];
	/* scope */
	ISSUING_DIST_POINT *idp;	/* owned; NULL when absent */
	unsigned idp_reasons;		/* onlySomeReasons, or ALL */
	bool indirect;
	bool delta;
	ASN1_INTEGER *number;		/* CRL number, owned; NULL if none */
	ASN1_INTEGER *base;		/* delta: BaseCRLNumber, owned */
	time_t this_update;
	time_t next_update;		/* 0: absent */
	/* a signature once verified: by the key of this certificate */
	X509 *sig_ok_by;		/* reference; NULL: not yet */
};

/*
 * val_crl_new parses and indexes a CRL from DER or PEM bytes.  The index
 * holds every entry's effective certificate issuer (indirect CRLs, RFC
 * 5280 §5.3.3) and reason; a critical CRL or entry extension we do not
 * process marks it unusable (RFC 5280 §5.2, §5.3; PKITS 4.4.8-4.4.10).
 * PV_E_INPUT when the bytes are no CRL.
 */
enum pv_err val_crl_new(const uint8_t *p, size_t n, const char *source,
    struct val_crl **out, struct pv_why *why);
void val_crl_free(struct val_crl *c);

/*
 * val_crl_lookup finds the entry for serial |serial| of a certificate
 * issued by |issuer| (its issuer name), NULL when there is none.  Binary
 * search, then the entries of equal serial are compared by issuer.
 */
const struct val_crl_ent *val_crl_lookup(const struct val_crl *c,
    const ASN1_INTEGER *serial, const X509_NAME *issuer);

/* ---- the context ------------------------------------------------------------- */

/* A DSA certificate without parameters and its completed twin (PKITS 4.1.5). */
struct val_subst {
	X509 *orig;
	X509 *sub;		/* same certificate, parameters filled in */
	X509 *issuer;		/* whose key verified orig's signature */
};

struct val_aia {
	char url[512];
	STACK_OF(X509) *certs;	/* NULL: the fetch failed */
	time_t at;		/* wall clock of the fetch */
};

struct val_ctx {
	struct val_opts o;
	STACK_OF(X509) *anchors;
	STACK_OF(X509) *untrusted;
	X509_STORE *store;	/* anchors; rebuilt when they change */
	bool store_dirty;
	struct val_crl **crls;	/* given and fetched */
	size_t n_crls, cap_crls;
	struct val_aia *aia;
	size_t n_aia, cap_aia;
	struct val_subst *subst;
	size_t n_subst, cap_subst;
};

/* ---- one validation -------------------------------------------------------- */

enum val_st {
	VAL_ST_GOOD = 0,
	VAL_ST_REVOKED,
	VAL_ST_UNKNOWN,		/* nothing usable answered */
	VAL_ST_NOT_PUBLISHED	/* a CA certificate with no revocation source */
};

/* What is known about one certificate of a path during a validation. */
struct val_status_memo {
	X509 *cert;		/* reference */
	X509 *issuer;		/* reference */
	enum val_st st;
	bool busy;		/* being worked out (cycles: PKITS 4.14.30) */
	bool done;		/* st and text are final */
	int signer;		/* as a CRL/OCSP signer: 0 not asked, 1 may
				 * sign, -1 may not (signer_text says why) */
	bool signer_busy;
	char signer_text[256];
	time_t revoked_at;
	int reason;
	char text[512];
};

struct val_run {
	struct val_ctx *ctx;
	const struct val_params *p;
	STACK_OF(X509) *pool;		/* untrusted: ctx's, extra, fetched */
	X509 *anchor;			/* of the target's path */
	STACK_OF(X509) *chain;		/* the target's path, target first */
	struct val_status_memo **memo;	/* each allocated: pointers stay */
	size_t n_memo, cap_memo;
	unsigned signer_depth;
	/* URLs that failed in this run: not asked again */
	char failed[16][256];
	size_t n_failed;
};

/* val_run_memo finds (or adds, with |create|) the memo of |x|. */
struct val_status_memo *val_run_memo(struct val_run *run, X509 *x,
    bool create);

/*
 * val_path_verify runs X509_verify_cert for |x| as of p->at, with the
 * policy inputs of |p| when |policy|, the run's pool as untrusted
 * certificates (fetching issuers from AIA URLs first when they are
 * missing).  On success *chain (target first, anchor last) is owned by
 * the caller and *err is X509_V_OK; otherwise *err and *depth say what
 * OpenSSL found and |msg| says it in words.  |policy_set| (NULL allowed,
 * |ps_cap| bytes) receives the user-constrained policy set.
 */
enum pv_err val_path_verify(struct val_run *run, X509 *x, bool policy,
    STACK_OF(X509) **chain, int *err, int *depth, char *msg, size_t cap,
    char *policy_set, size_t ps_cap);

/*
 * val_subst_for returns |x|'s completed twin when |x| is a DSA
 * certificate whose parameters are inherited (it is made once and kept
 * in the context), else |x|.  Borrowed.
 */
X509 *val_subst_for(struct val_ctx *ctx, X509 *x);

/*
 * val_rev_cert decides the status of |x| (issued by |issuer|, in the path
 * of the run) with the run's revocation policy, records it in the memo
 * and returns it.  |is_target| marks the end entity (never
 * "not published").
 */
struct val_status_memo *val_rev_cert(struct val_run *run, X509 *x,
    X509 *issuer, bool is_target);

/*
 * val_crl_status works out |x|'s status from CRLs (RFC 5280 §6.3.3):
 * given ones and those fetched from its distribution points.  Writes a
 * sentence into |text|.
 */
enum val_st val_crl_status(struct val_run *run, X509 *x, X509 *issuer,
    time_t *revoked_at, int *reason, char *text, size_t cap);

/*
 * val_ocsp_status asks the OCSP responders of |x|'s AIA (RFC 6960).
 * VAL_ST_UNKNOWN when none answered usefully (the text says why);
 * *asked is false when |x| names no responder.
 */
enum val_st val_ocsp_status(struct val_run *run, X509 *x, X509 *issuer,
    bool *asked, time_t *revoked_at, int *reason, char *text, size_t cap);

/*
 * val_signer_ok: may |s| sign something about the certificates of this
 * run (a CRL issuer or OCSP responder)?  Its path must end at the run's
 * anchor and each of its certificates must not be revoked (with the run's
 * policy).  A certificate already being checked higher up counts as good
 * for now (cycles).  |why| (|cap| bytes) says why not.
 */
bool val_signer_ok(struct val_run *run, X509 *s, char *why, size_t cap);

/* ---- fetching and the caches ------------------------------------------------ */

enum val_kind { VAL_KIND_CRL, VAL_KIND_AIA };

/*
 * val_fetch_crl returns the CRL at |url| from the context's memory, the
 * disk cache (until its nextUpdate) or the network, parsed and indexed.
 * NULL with |why| set when it cannot be had.  Borrowed.
 */
struct val_crl *val_fetch_crl(struct val_run *run, const char *url,
    char *why, size_t cap);

/*
 * val_fetch_aia returns the certificates published at |url| (certs-only
 * CMS, DER, PEM), from memory, the disk cache or the network.  Borrowed;
 * NULL with |why| set on failure.
 */
STACK_OF(X509) *val_fetch_aia(struct val_run *run, const char *url,
    char *why, size_t cap);

/*
 * val_post: an HTTP POST through the context's fetcher (no cache), the
 * URL checked first.  PV_E_NOT_SUPPORTED when there is no fetcher.
 */
enum pv_err val_post(struct val_run *run, const char *url, const char *ctype,
    const uint8_t *body, size_t n, size_t max, uint8_t **out, size_t *out_len,
    char *ctype_out, struct pv_why *why);

/* val_run_url_failed / val_run_url_fail: remember URLs that failed. */
bool val_run_url_failed(const struct val_run *run, const char *url);
void val_run_url_fail(struct val_run *run, const char *url);


/* ---- small helpers ------------------------------------------------------------ */

/* val_asn1_time converts; false for a time that does not decode. */
bool val_asn1_time(const ASN1_TIME *t, time_t *out);



/* val_is_ca: basicConstraints cA is TRUE. */
bool val_is_ca(X509 *x);

/* val_uris: the http URIs (up to |max|) among |gens|. */
size_t val_uris(const GENERAL_NAMES *gens, const char **out, size_t max);

/*
 * val_sayf formats into |out| like snprintf; a text that does not fit is
 * cut (these are sentences for people, bounded on purpose).
 */
void val_sayf(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* val_memmem: is |needle| (|nl| bytes) inside |p|,|n|? */
bool val_memmem(const uint8_t *p, size_t n, const char *needle, size_t nl);

/* val_serial_str writes the serial in hex. */
void val_serial_str(const ASN1_INTEGER *s, char *out, size_t cap);

#endif /* PV_ISSUANCE_VAL_INT_H */
