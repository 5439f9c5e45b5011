/*
 * serve_route.c: which handler answers a request (serve.h lists the
 * routes), and the public, read-only ones: OCSP, the CRL, the AIA
 * certificates, the health check.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "issuance/ca.h"
#include "issuance/pkix_util.h"
#include "issuance/serve_int.h"
#include "issuance/station.h"

/* ---- responses -------------------------------------------------------------- */

void
serve_rsp_cleanup(struct serve_rsp *rsp)
{
	free(rsp->body);
	rsp->body = NULL;
	rsp->len = 0;
}

bool
serve_rsp_bytes(struct serve_rsp *rsp, unsigned status, const char *ctype,
    const void *p, size_t n)
{
	serve_rsp_cleanup(rsp);
	if (n > 0) {
		if ((rsp->body = malloc(n)) == NULL) {
			rsp->status = 500;
			(void)snprintf(rsp->ctype, sizeof(rsp->ctype),
			    "text/plain; charset=utf-8");
			return false;
		}
		memcpy(rsp->body, p, n);
	}
	rsp->len = n;
	rsp->status = status;
	(void)snprintf(rsp->ctype, sizeof(rsp->ctype), "%s", ctype);
	return true;
}

void
serve_rsp_text(struct serve_rsp *rsp, unsigned status, const char *text)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", text);

	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	(void)serve_rsp_bytes(rsp, status, "text/plain; charset=utf-8", line,
	    (size_t)n);
}

static void
serve_outcome(struct serve_rsp *rsp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
serve_outcome(struct serve_rsp *rsp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(rsp->outcome, sizeof(rsp->outcome), fmt, ap);
	va_end(ap);
}

static void
serve_not_allowed(struct serve_rsp *rsp, const char *allow)
{
	serve_rsp_text(rsp, 405, "method not allowed");
	(void)snprintf(rsp->allow, sizeof(rsp->allow), "%s", allow);
}

/* ---- OCSP ------------------------------------------------------------------- */

void
serve_ocsp(struct serve *s, const struct serve_req *req, const char *tail,
    struct serve_rsp *rsp)
{
	struct pv_why why = { "" };
	struct ocsp_outcome oc;
	struct store *st;
	uint8_t *der = NULL, *out = NULL;
	const uint8_t *in;
	size_t in_len, out_len = 0;
	long age;
	enum pv_err r;

	(void)snprintf(rsp->route, sizeof(rsp->route), "ocsp");
	if (req->method == SERVE_POST) {
		if (*tail != '\0') {
			serve_rsp_text(rsp, 404, "not found");
			return;
		}
		in = req->body;
		in_len = req->body_len;
	} else if (req->method == SERVE_GET || req->method == SERVE_HEAD) {
		if (*tail == '\0') {
			serve_rsp_text(rsp, 400, "OCSP: GET needs the request "
			    "in the path (RFC 6960 A.1); or POST it");
			return;
		}
		if ((r = ocsp_get_decode(tail, &der, &in_len, &why)) != PV_OK) {
			serve_rsp_text(rsp, r == PV_E_TOO_LONG ? 414 : 400,
			    why.msg);
			serve_outcome(rsp, "bad GET");
			return;
		}
		in = der;
	} else {
		serve_not_allowed(rsp, "GET, HEAD, POST");
		return;
	}
	if ((st = serve_store(s, &why)) == NULL) {
		serve_rsp_text(rsp, 503, "the store is not available");
		serve_outcome(rsp, "store: %s", why.msg);
		goto out;
	}
	r = ocsp_respond(s->ocsp, in, in_len, req->now, ocsp_lookup_store, st,
	    &out, &out_len, &oc, &why);
	if (r != PV_OK) {
		serve_rsp_text(rsp, 500, "internal error");
		serve_outcome(rsp, "%s", why.msg);
		goto out;
	}
	/* A request that is not one is the client's fault: 4xx, still with
	 * the OCSP answer saying so in the body. */
	(void)serve_rsp_bytes(rsp, oc.response_status ==
	    OCSP_RESPONSE_STATUS_MALFORMEDREQUEST ? 400 : 200,
	    "application/ocsp-response", out, out_len);
	if (oc.response_status == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		serve_outcome(rsp, "good=%u revoked=%u unknown=%u%s",
		    oc.n_good, oc.n_revoked, oc.n_unknown,
		    oc.nonce ? " nonce" : "");
		/* RFC 5019 §6.2: a GET answer without a nonce may be cached
		 * until its nextUpdate. */
		age = (long)s->cfg->serve_ocsp_minutes * 60;
		if (req->method != SERVE_POST && !oc.nonce) {
			(void)snprintf(rsp->cache, sizeof(rsp->cache),
			    "max-age=%ld, public, no-transform, "
			    "must-revalidate", age);
			rsp->modified = req->now;
			rsp->expires = req->now + age;
		}
	} else {
		serve_outcome(rsp, "%s", OCSP_response_status_str(
		    oc.response_status));
	}
out:
	OPENSSL_free(out);
	free(der);
}

/* ---- CRL and AIA ------------------------------------------------------------ */

static bool
serve_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return false;
	*out = timegm(&tm);
	return true;
}

void
serve_crl_refresh(struct serve *s, bool force)
{
	struct pv_why why = { "" };
	char path[HOME_PATH_MAX + 16];
	struct stat sb;
	struct serve_crl n;
	const unsigned char *d;
	X509_CRL *crl = NULL;
	bool same;
	enum pv_err r;

	memset(&n, 0, sizeof(n));
	if (pkix_path_join(path, sizeof(path), station_ca_dir(s->st),
	    CA_FILE_CRL_DER) != PV_OK)
		return;
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT)
			serve_logf(s, "CRL %s: %s", path, strerror(errno));
		return;
	}
	(void)pthread_mutex_lock(&s->lock);
	same = s->crl.der != NULL && s->crl.mtime == sb.st_mtime;
	(void)pthread_mutex_unlock(&s->lock);
	if (same && !force)
		return;
	if ((r = pkix_read_file(path, 256u * 1024 * 1024, &n.der, &n.len,
	    &why)) != PV_OK) {
		serve_logf(s, "CRL: %s", why.msg);
		return;
	}
	d = n.der;
	if (n.len > LONG_MAX || (crl = d2i_X509_CRL(NULL, &d, (long)n.len)) ==
	    NULL || d != n.der + n.len ||
	    !serve_asn1_time(X509_CRL_get0_lastUpdate(crl), &n.this_update)) {
		ERR_clear_error();
		serve_logf(s, "CRL %s is not a DER CRL: kept the previous one",
		    path);
		OPENSSL_free(n.der);
		X509_CRL_free(crl);
		return;
	}
	if (!serve_asn1_time(X509_CRL_get0_nextUpdate(crl), &n.next_update))
		n.next_update = 0;
	X509_CRL_free(crl);
	n.mtime = sb.st_mtime;
	(void)pthread_mutex_lock(&s->lock);
	OPENSSL_free(s->crl.der);
	s->crl = n;
	(void)pthread_mutex_unlock(&s->lock);
	serve_logf(s, "CRL loaded: %zu bytes", n.len);
}

void
serve_crl_get(struct serve *s, const struct serve_req *req,
    struct serve_rsp *rsp)
{
	time_t next, thisu;
	long age;
	bool ok;

	(void)snprintf(rsp->route, sizeof(rsp->route), "crl");
	if (req->method != SERVE_GET && req->method != SERVE_HEAD) {
		serve_not_allowed(rsp, "GET, HEAD");
		return;
	}
	(void)pthread_mutex_lock(&s->lock);
	if (s->crl.der == NULL) {
		(void)pthread_mutex_unlock(&s->lock);
		serve_rsp_text(rsp, 404, "no CRL published yet");
		return;
	}
	ok = serve_rsp_bytes(rsp, 200, "application/pkix-crl", s->crl.der,
	    s->crl.len);
	next = s->crl.next_update;
	thisu = s->crl.this_update;
	(void)pthread_mutex_unlock(&s->lock);
	if (!ok)
		return;
	rsp->modified = thisu;
	if (next > req->now) {
		/* caches keep it until the next CRL is due, at most a day */
		age = (long)(next - req->now);
		if (age > 86400)
			age = 86400;
		(void)snprintf(rsp->cache, sizeof(rsp->cache),
		    "max-age=%ld, public, no-transform", age);
		rsp->expires = next;
	} else {
		(void)snprintf(rsp->cache, sizeof(rsp->cache), "no-cache");
	}
}

static void
serve_p7c(struct serve *s, const struct serve_req *req, struct serve_rsp *rsp)
{
	(void)snprintf(rsp->route, sizeof(rsp->route), "aia");
	if (req->method != SERVE_GET && req->method != SERVE_HEAD) {
		serve_not_allowed(rsp, "GET, HEAD");
		return;
	}
	/* RFC 5280 §4.2.2.1: certs-only CMS, application/pkcs7-mime */
	if (serve_rsp_bytes(rsp, 200, "application/pkcs7-mime", s->p7c,
	    s->p7c_len))
		(void)snprintf(rsp->cache, sizeof(rsp->cache),
		    "max-age=86400, public");
}

static void
serve_health(struct serve *s, const struct serve_req *req,
    struct serve_rsp *rsp)
{
	struct pv_why why = { "" };

	(void)snprintf(rsp->route, sizeof(rsp->route), "health");
	if (req->method != SERVE_GET && req->method != SERVE_HEAD) {
		serve_not_allowed(rsp, "GET, HEAD");
		return;
	}
	if (serve_store(s, &why) == NULL) {
		serve_rsp_text(rsp, 503, "the store is not available");
		serve_outcome(rsp, "%s", why.msg);
		return;
	}
	serve_rsp_text(rsp, 200, "ok");
}

/* ---- routing ---------------------------------------------------------------- */

/*
 * Is |path| the responder's URL path |prefix|, or a GET request under it
 * (RFC 6960 A.1: "prefix/<request>", or "prefix<request>" when |prefix|
 * ends in '/')?  *tail is the request part ("" for the URL itself).  A
 * responder at ".../ocsp/" is also POSTed to as ".../ocsp".
 */
static bool
serve_ocsp_match(const char *path, const char *prefix, const char **tail)
{
	size_t n = strlen(prefix);
	const char *t;

	if (n == 0)
		return false;
	if (strncmp(path, prefix, n) == 0) {
		t = path + n;
		if (prefix[n - 1] == '/' || *t == '\0') {
			*tail = t;
			return true;
		}
		if (*t == '/') {
			*tail = t + 1;
			return true;
		}
		return false;
	}
	if (n > 1 && prefix[n - 1] == '/' && strlen(path) == n - 1 &&
	    strncmp(path, prefix, n - 1) == 0) {
		*tail = path + n - 1;
		return true;
	}
	return false;
}

void
serve_handle(struct serve *s, const struct serve_req *req,
    struct serve_rsp *rsp)
{
	const char *path = req->path, *tail;

	memset(rsp, 0, sizeof(*rsp));
	(void)snprintf(rsp->route, sizeof(rsp->route), "-");
	if (req->body_too_long) {
		serve_rsp_text(rsp, 413, "request body too large");
		return;
	}
	if (path[0] != '/') {
		serve_rsp_text(rsp, 400, "bad request path");
		return;
	}
	if (req->method == SERVE_OTHER) {
		serve_not_allowed(rsp, "GET, HEAD, POST");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		serve_health(s, req, rsp);
		return;
	}
	if (s->crl_path[0] != '\0' && strcmp(path, s->crl_path) == 0) {
		serve_crl_get(s, req, rsp);
		return;
	}
	if (s->p7c_path[0] != '\0' && strcmp(path, s->p7c_path) == 0) {
		serve_p7c(s, req, rsp);
		return;
	}
	/* last: the responder's URL may be "/", under which all else is */
	if (serve_ocsp_match(path, s->ocsp_path, &tail)) {
		serve_ocsp(s, req, tail, rsp);
		return;
	}
	serve_rsp_text(rsp, 404, "not found");
}
