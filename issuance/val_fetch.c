/*
 * val_fetch.c: CRLs and AIA certificates over HTTP, with the caches in
 * front (val_int.h), and the libcurl fetcher (val.h).
 *
 * Memory: a CRL fetched once stays parsed and indexed in the context
 * until its nextUpdate passes; AIA bundles for [revocation]
 * aia_cache_hours.  Disk (<cache_dir>/<SHA-256 of the URL>.crl|.aia,
 * 0600, written to a temporary name then renamed): the same, so a new
 * process starts warm.  A URL that failed is not asked again in the same
 * validation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "apdu/buf.h"
#include "issuance/pkix_util.h"
#include "issuance/val_int.h"

/* ---- the disk cache ------------------------------------------------------------ */

static bool
val_cache_path(const struct val_ctx *ctx, const char *url, const char *ext,
    char *out, size_t cap)
{
	unsigned char h[32];
	char hex[65];
	unsigned int hl = 0;

	if (ctx->o.cache_dir[0] == '\0' ||
	    !EVP_Digest(url, strlen(url), h, &hl, EVP_sha256(), NULL) ||
	    hl != 32)
		return false;
	buf_hex(h, 32, hex);
	return snprintf(out, cap, "%s/%s.%s", ctx->o.cache_dir, hex, ext) <
	    (int)cap;
}

static void
val_cache_write(const struct val_ctx *ctx, const char *url, const char *ext,
    const uint8_t *p, size_t n)
{
	char path[1024];
	struct pv_why w = { { 0 } };

	if (!val_cache_path(ctx, url, ext, path, sizeof(path)))
		return;
	if (mkdir(ctx->o.cache_dir, 0700) != 0 && errno != EEXIST)
		return;
	/* A cache that cannot be written is no reason to fail. */
	(void)pkix_write_file(path, p, n, true, &w);
}

/* Reads the cached copy; *age is its age in seconds. */
static bool
val_cache_read(const struct val_ctx *ctx, const char *url, const char *ext,
    size_t max, uint8_t **out, size_t *n, time_t *age)
{
	char path[1024];
	struct pv_why w = { { 0 } };
	struct stat st;

	*out = NULL;
	if (ctx->o.refresh || !val_cache_path(ctx, url, ext, path, sizeof(path))
	    || stat(path, &st) != 0)
		return false;
	*age = time(NULL) - st.st_mtime;
	return pkix_read_file(path, max, out, n, &w) == PV_OK;
}

/* ---- fetching through the context's fetcher --------------------------------- */

static enum pv_err
val_get(struct val_run *run, const char *url, size_t max, uint8_t **out,
    size_t *n, struct pv_why *why)
{
	const struct val_fetcher *f = run->ctx->o.fetcher;
	struct val_url u;
	char ctype[VAL_CTYPE_MAX];
	enum pv_err r;

	*out = NULL;
	*n = 0;
	if (f == NULL || f->get == NULL)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "fetching is off");
	if (val_run_url_failed(run, url))
		return pv_why_set(why, PV_E_IO, "no answer (already failed "
		    "in this validation)");
	if ((r = val_url_parse(url, &u, why)) != PV_OK)
		return r;
	r = f->get(f->ctx, url, max, out, n, ctype, why);
	if (r != PV_OK) {
		free(*out);
		*out = NULL;
		val_run_url_fail(run, url);
	}
	return r;
}

enum pv_err
val_post(struct val_run *run, const char *url, const char *ctype,
    const uint8_t *body, size_t n, size_t max, uint8_t **out, size_t *out_len,
    char *ctype_out, struct pv_why *why)
{
	const struct val_fetcher *f = run->ctx->o.fetcher;
	struct val_url u;
	enum pv_err r;

	*out = NULL;
	*out_len = 0;
	ctype_out[0] = '\0';
	if (f == NULL || f->post == NULL)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "fetching is off");
	if ((r = val_url_parse(url, &u, why)) != PV_OK)
		return r;
	r = f->post(f->ctx, url, ctype, body, n, max, out, out_len, ctype_out,
	    why);
	if (r != PV_OK) {
		free(*out);
		*out = NULL;
	}
	return r;
}

/* ---- CRLs ---------------------------------------------------------------------- */

static bool
val_crl_fresh(const struct val_run *run, const struct val_crl *c)
{
	time_t now = time(NULL), at = run->p->at;

	if (c->next_update == 0)	/* none: an hour, then ask again */
		return now - c->fetched_at < 3600;
	return c->next_update >= now && c->next_update >= at;
}

static struct val_crl *
val_crl_keep(struct val_run *run, const char *url, const uint8_t *p,
    size_t n, time_t fetched_at, char *why, size_t cap)
{
	struct val_ctx *ctx = run->ctx;
	struct pv_why w = { { 0 } };
	struct val_crl *c, **grow;

	if (val_crl_new(p, n, url, &c, &w) != PV_OK) {
		val_sayf(why, cap, "CRL %s: %s", url, w.msg);
		return NULL;
	}
	c->fetched = true;
	c->fetched_at = fetched_at;
	if (ctx->n_crls == ctx->cap_crls) {
		size_t nc = ctx->cap_crls ? 2 * ctx->cap_crls : 8;

		if ((grow = realloc(ctx->crls, nc * sizeof(*grow))) == NULL) {
			val_crl_free(c);
			val_sayf(why, cap, "out of memory");
			return NULL;
		}
		ctx->crls = grow;
		ctx->cap_crls = nc;
	}
	ctx->crls[ctx->n_crls++] = c;
	return c;
}

struct val_crl *
val_fetch_crl(struct val_run *run, const char *url, char *why, size_t cap)
{
	struct val_ctx *ctx = run->ctx;
	struct val_crl *c = NULL;
	struct pv_why w = { { 0 } };
	uint8_t *body = NULL;
	size_t n = 0, i;
	time_t age = 0;
	enum pv_err r;

	why[0] = '\0';
	/* Newest first: a later fetch of the same URL supersedes. */
	for (i = ctx->n_crls; i > 0; i--) {
		struct val_crl *k = ctx->crls[i - 1];

		if (k->fetched && strcmp(k->source, url) == 0) {
			if (val_crl_fresh(run, k) && !ctx->o.refresh)
				return k;
			break;
		}
	}
	if (val_cache_read(ctx, url, "crl", ctx->o.crl_max_bytes, &body, &n,
	    &age)) {
		c = val_crl_keep(run, url, body, n, time(NULL) - age, why, cap);
		OPENSSL_free(body);
		body = NULL;
		if (c != NULL && val_crl_fresh(run, c))
			return c;
	}
	why[0] = '\0';
	r = val_get(run, url, ctx->o.crl_max_bytes, &body, &n, &w);
	if (r != PV_OK) {
		val_sayf(why, cap, "CRL %s: %s", url, r == PV_E_TOO_LONG ?
		    "larger than [revocation] crl_max_kib" : w.msg[0] ?
		    w.msg : pv_strerror(r));
		/* A stale cached copy still tells why it cannot be used. */
		return c;
	}
	if ((c = val_crl_keep(run, url, body, n, time(NULL), why, cap)) != NULL)
		val_cache_write(ctx, url, "crl", body, n);
	free(body);
	return c;
}

/* ---- AIA certificates ------------------------------------------------------------ */

STACK_OF(X509) *
val_fetch_aia(struct val_run *run, const char *url, char *why, size_t cap)
{
	struct val_ctx *ctx = run->ctx;
	struct pv_why w = { { 0 } };
	STACK_OF(X509) *sk = NULL;
	struct val_aia *grow, *a;
	time_t ttl = (time_t)ctx->o.aia_cache_hours * 3600, age = 0;
	uint8_t *body = NULL;
	size_t n = 0, i;
	enum pv_err r;

	why[0] = '\0';
	for (i = 0; i < ctx->n_aia; i++) {
		a = &ctx->aia[i];
		if (strcmp(a->url, url) == 0 && a->certs != NULL &&
		    time(NULL) - a->at < ttl && !ctx->o.refresh)
			return a->certs;
	}
	if (val_cache_read(ctx, url, "aia", ctx->o.aia_max_bytes, &body, &n,
	    &age) && age < ttl) {
		(void)val_certs_decode(body, n, &sk, &w);
	}
	OPENSSL_free(body);
	body = NULL;
	if (sk == NULL) {
		pv_why_clear(&w);
		r = val_get(run, url, ctx->o.aia_max_bytes, &body, &n, &w);
		if (r != PV_OK) {
			val_sayf(why, cap, "AIA %s: %s", url,
			    w.msg[0] ? w.msg : pv_strerror(r));
			return NULL;
		}
		if (val_certs_decode(body, n, &sk, &w) != PV_OK) {
			val_sayf(why, cap, "AIA %s: %s", url, w.msg);
			free(body);
			return NULL;
		}
		val_cache_write(ctx, url, "aia", body, n);
		free(body);
		age = 0;
	}
	if (ctx->n_aia == ctx->cap_aia) {
		size_t nc = ctx->cap_aia ? 2 * ctx->cap_aia : 4;

		if ((grow = realloc(ctx->aia, nc * sizeof(*grow))) == NULL) {
			sk_X509_pop_free(sk, X509_free);
			val_sayf(why, cap, "out of memory");
			return NULL;
		}
		ctx->aia = grow;
		ctx->cap_aia = nc;
	}
	a = &ctx->aia[ctx->n_aia++];
	memset(a, 0, sizeof(*a));
	val_sayf(a->url, sizeof(a->url), "%s", url);
	a->certs = sk;
	a->at = time(NULL) - age;
	return sk;
}

/* ---- the libcurl fetcher ---------------------------------------------------------- */

struct val_http {
	CURL *curl;
	unsigned timeout_ms;
};

struct val_body {
	uint8_t *p;
	size_t n, cap, max;
	bool over;
};

static size_t
val_http_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct val_body *b = ud;
	size_t len = size * nmemb;

	if (nmemb != 0 && len / nmemb != size)
		return 0;
	if (len > b->max - b->n) {
		b->over = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		uint8_t *np;

		while (cap < b->n + len)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		if ((np = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, len);
	b->n += len;
	return len;
}

static pthread_once_t val_curl_once = PTHREAD_ONCE_INIT;
static bool val_curl_ok;

static void
val_curl_init(void)
{
	val_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static enum pv_err
val_http_do(struct val_http *h, const char *url, const char *ctype,
    const uint8_t *body, size_t body_len, size_t max, uint8_t **out,
    size_t *out_len, char *ctype_out, struct pv_why *why)
{
	struct curl_slist *hdr = NULL;
	struct val_body b;
	char line[128], *ct = NULL;
	long code = 0;
	CURLcode rc;
	enum pv_err r;

	*out = NULL;
	*out_len = 0;
	if (ctype_out != NULL)
		ctype_out[0] = '\0';
	memset(&b, 0, sizeof(b));
	b.max = max;
	curl_easy_reset(h->curl);
	(void)curl_easy_setopt(h->curl, CURLOPT_URL, url);
	(void)curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http");
	(void)curl_easy_setopt(h->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http");
	(void)curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 1L);
	(void)curl_easy_setopt(h->curl, CURLOPT_MAXREDIRS, 3L);
	(void)curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	(void)curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)h->timeout_ms);
	(void)curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)max);
	(void)curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, val_http_write);
	(void)curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &b);
	(void)curl_easy_setopt(h->curl, CURLOPT_USERAGENT,
	    "pivstation/" PV_VERSION);
	if (body != NULL) {
		val_sayf(line, sizeof(line), "Content-Type: %s", ctype);
		if ((hdr = curl_slist_append(NULL, line)) == NULL) {
			r = pv_why_set(why, PV_E_NOMEM, "out of memory");
			goto out;
		}
		(void)curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		(void)curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	}
	rc = curl_easy_perform(h->curl);
	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR &&
	    b.over)) {
		r = pv_why_set(why, PV_E_TOO_LONG, "%s: the answer is larger "
		    "than %zu bytes", url, max);
		goto out;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		r = pv_why_set(why, PV_E_TIMEOUT, "%s: no answer within %u ms",
		    url, h->timeout_ms);
		goto out;
	}
	if (rc != CURLE_OK) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", url,
		    curl_easy_strerror(rc));
		goto out;
	}
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		r = pv_why_set(why, PV_E_IO, "%s: HTTP status %ld", url, code);
		goto out;
	}
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) ==
	    CURLE_OK && ct != NULL && ctype_out != NULL)
		val_sayf(ctype_out, VAL_CTYPE_MAX, "%s", ct);
	if (b.n == 0) {
		r = pv_why_set(why, PV_E_IO, "%s: empty answer", url);
		goto out;
	}
	*out = b.p;
	*out_len = b.n;
	b.p = NULL;
	r = PV_OK;
out:
	curl_slist_free_all(hdr);
	free(b.p);
	return r;
}

static enum pv_err
val_http_get(void *ctx, const char *url, size_t max, uint8_t **out,
    size_t *out_len, char *ctype_out, struct pv_why *why)
{
	return val_http_do(ctx, url, NULL, NULL, 0, max, out, out_len,
	    ctype_out, why);
}

static enum pv_err
val_http_post(void *ctx, const char *url, const char *ctype,
    const uint8_t *body, size_t body_len, size_t max, uint8_t **out,
    size_t *out_len, char *ctype_out, struct pv_why *why)
{
	return val_http_do(ctx, url, ctype, body, body_len, max, out, out_len,
	    ctype_out, why);
}

enum pv_err
val_http_fetcher(struct val_fetcher *f, unsigned timeout_ms,
    struct pv_why *why)
{
	struct val_http *h;

	memset(f, 0, sizeof(*f));
	if (pthread_once(&val_curl_once, val_curl_init) != 0 || !val_curl_ok)
		return pv_why_set(why, PV_E_INTERNAL, "libcurl does not start");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h);
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	}
	h->timeout_ms = timeout_ms ? timeout_ms : 5000;
	f->get = val_http_get;
	f->post = val_http_post;
	f->ctx = h;
	return PV_OK;
}

void
val_http_fetcher_free(struct val_fetcher *f)
{
	struct val_http *h;

	if (f == NULL || (h = f->ctx) == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
	f->ctx = NULL;
}
