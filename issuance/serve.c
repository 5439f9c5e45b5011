/*
 * serve.c: the service's set-up, its listeners on libmicrohttpd, and its
 * housekeeping (serve.h).  Requests are answered by serve_handle
 * (serve_route.c); this file only moves bytes between it and
 * libmicrohttpd, and applies the limits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "issuance/ca_publish.h"
#include "issuance/pkix_util.h"
#include "issuance/serve_int.h"
#include "issuance/station.h"
#include "issuance/store.h"
#include "issuance/val.h"

#define SERVE_HEADER_MEM	(32 * 1024)	/* request line + headers */
#define SERVE_TLS_RENEW_DAYS	30
#define SERVE_OCSP_WARN_DAYS	14
#define SERVE_TICK_MS		200
/* TLS 1.2 and 1.3 with AEAD ciphers only, the server's order. */
#define SERVE_TLS_PRIORITIES	"SECURE128:-VERS-ALL:+VERS-TLS1.3:" \
	"+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
	"+CHACHA20-POLY1305:%SERVER_PRECEDENCE"

/* ---- log --------------------------------------------------------------------- */

void
serve_logf(const struct serve *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (s->o.log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->o.log(s->o.log_ctx, line);
}

static void
serve_mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct serve *s = cls;
	char line[400];
	size_t n;

	if (s->o.log == NULL)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	serve_logf(s, "http: %s", line);
}

/* ---- each thread's store ---------------------------------------------------- */

static void
serve_store_dtor(void *p)
{
	store_close(p);
}

struct store *
serve_store(struct serve *s, struct pv_why *why)
{
	struct store *st = pthread_getspecific(s->store_key);

	if (st != NULL)
		return st;
	if (station_store_open(s->st, &st, why) != PV_OK)
		return NULL;
	if (pthread_setspecific(s->store_key, st) != 0) {
		store_close(st);
		(void)pv_why_set(why, PV_E_INTERNAL, "thread store");
		return NULL;
	}
	return st;
}

/* ---- set-up ------------------------------------------------------------------- */

/* The path of an http:// URL of [urls] (no query), or "" for none. */
static enum pv_err
serve_url_path(const char *url, const char *key, char *out, size_t cap,
    struct pv_why *why)
{
	struct val_url u;

	out[0] = '\0';
	if (url[0] == '\0')
		return PV_OK;
	if (val_url_parse(url, &u, why) != PV_OK ||
	    strchr(u.path, '?') != NULL || strlen(u.path) >= cap) {
		pv_why_clear(why);
		return pv_why_set(why, PV_E_CONFIG, "[urls] %s: '%.80s' cannot "
		    "be served (a path without a query)", key, url);
	}
	(void)snprintf(out, cap, "%s", u.path);
	return PV_OK;
}

/* The host of [serve] url ("[::1]" without its brackets). */
static void
serve_url_host(const char *url, char *out, size_t cap)
{
	const char *h = url + 8, *e;

	if (*h == '[') {
		h++;
		e = strchr(h, ']');
	} else {
		e = strchr(h, ':');
	}
	if (e == NULL)
		e = h + strlen(h);
	(void)snprintf(out, cap, "%.*s", (int)(e - h), h);
}

static time_t
serve_not_after(X509 *x)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return 0;
	return timegm(&tm);
}

static time_t
serve_not_before(X509 *x)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm))
		return 0;
	return timegm(&tm);
}

/* Audits a service certificate made: {k: v, "serial": serial}. */
static enum pv_err
serve_audit(struct serve *s, const char *action, const char *object,
    const char *k, const char *v, const char *serial, struct pv_why *why)
{
	json_object *d = json_object_new_object();
	enum pv_err r;

	if (d == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	(void)json_object_object_add(d, k, json_object_new_string(v));
	(void)json_object_object_add(d, "serial",
	    json_object_new_string(serial));
	r = station_audit(s->st, action, object,
	    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN), why);
	json_object_put(d);
	return r;
}

/* PEM of a private key, unencrypted, for GnuTLS (kept in memory only). */
static enum pv_err
serve_key_pem(EVP_PKEY *k, char **out, size_t *out_len, struct pv_why *why)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *d = NULL;
	long n;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL) || (n = BIO_get_mem_data(b, &d)) <= 0 ||
	    (*out = OPENSSL_malloc((size_t)n + 1)) == NULL) {
		BIO_free(b);
		return pkix_crypto_err(why, "TLS key");
	}
	memcpy(*out, d, (size_t)n);
	(*out)[n] = '\0';
	*out_len = (size_t)n;
	OPENSSL_cleanse(d, (size_t)n);
	BIO_free(b);
	return PV_OK;
}

/* PEM of |x| followed by |more| (NULL allowed). */
static enum pv_err
serve_certs_pem(X509 *x, X509 *more, char **out, size_t *out_len,
    struct pv_why *why)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *d = NULL;
	long n;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_X509(b, x) ||
	    (more != NULL && !PEM_write_bio_X509(b, more)) ||
	    (n = BIO_get_mem_data(b, &d)) <= 0 ||
	    (*out = OPENSSL_malloc((size_t)n + 1)) == NULL) {
		BIO_free(b);
		return pkix_crypto_err(why, "TLS certificate");
	}
	memcpy(*out, d, (size_t)n);
	(*out)[n] = '\0';
	*out_len = (size_t)n;
	BIO_free(b);
	return PV_OK;
}

/* A configured certificate and key ([serve] tls_certificate, tls_key). */
static enum pv_err
serve_tls_configured(struct serve *s, const struct pkix_pass *pass,
    struct pv_why *why)
{
	uint8_t *cb = NULL, *kb = NULL;
	size_t cn = 0, kn = 0;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *k = NULL;
	enum pv_err r;

	if ((r = pkix_read_file(s->cfg->serve_tls_cert, 1024 * 1024, &cb, &cn,
	    why)) != PV_OK ||
	    (r = pkix_certs_from_bytes(cb, cn, &certs, why)) != PV_OK) {
		pv_why_prefix(why, "[serve] tls_certificate %s",
		    s->cfg->serve_tls_cert);
		goto out;
	}
	if ((r = pkix_read_file(s->cfg->serve_tls_key, 1024 * 1024, &kb, &kn,
	    why)) != PV_OK ||
	    (r = pkix_key_from_bytes(kb, kn, pass->v, pass->len, &k, why)) !=
	    PV_OK) {
		pv_why_prefix(why, "[serve] tls_key %s", s->cfg->serve_tls_key);
		goto out;
	}
	if (X509_check_private_key(sk_X509_value(certs, 0), k) != 1) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_CONFIG, "[serve] tls_key does not "
		    "match tls_certificate");
		goto out;
	}
	if ((r = serve_key_pem(k, &s->tls_key_pem, &s->tls_key_len, why)) !=
	    PV_OK)
		goto out;
	/* the file as it is: the server certificate and its chain */
	if ((s->tls_cert_pem = OPENSSL_malloc(cn + 1)) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(s->tls_cert_pem, cb, cn);
	s->tls_cert_pem[cn] = '\0';
	s->tls_cert_len = cn;
	r = PV_OK;
out:
	OPENSSL_free(cb);
	if (kb != NULL)
		OPENSSL_clear_free(kb, kn + 1);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(k);
	return r;
}

/*
 * The station's own server certificate for the host of [serve] url:
 * <ca>/tls.crt, made again when missing, for another host, or within
 * SERVE_TLS_RENEW_DAYS of its end.
 */
static enum pv_err
serve_tls_station(struct serve *s, const struct pkix_pass *pass, time_t now,
    struct pv_why *why)
{
	struct ca_init_params p;
	struct ca_service_params sp;
	char host[CONFIG_URL_MAX], serial[PKIX_SERIAL_HEX_LEN];
	const char *dir = station_ca_dir(s->st);
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	bool renew = false;
	enum pv_err r;

	serve_url_host(s->cfg->serve_url, host, sizeof(host));
	r = ca_service_load(dir, CA_SVC_TLS, pass, &x, &k, why);
	if (r == PV_E_NO_FILE) {
		pv_why_clear(why);
		renew = true;
	} else if (r != PV_OK) {
		return r;
	} else if (serve_not_after(x) < now + SERVE_TLS_RENEW_DAYS * 86400 ||
	    (X509_check_host(x, host, 0, 0, NULL) != 1 &&
	    X509_check_ip_asc(x, host, 0) != 1)) {
		ERR_clear_error();
		renew = true;
	}
	if (renew) {
		X509_free(x);
		EVP_PKEY_free(k);
		x = NULL;
		k = NULL;
		if ((r = ca_params_from_config(s->cfg, &p, why)) != PV_OK)
			return r;
		ca_service_params_init(&sp, CA_SVC_TLS, &p);
		sp.n_hosts = 1;
		sp.hosts[0] = host;
		if ((r = ca_service_roll(s->ca, &p, &sp, pass, now, serial,
		    why)) != PV_OK) {
			pv_why_prefix(why, "server certificate for %s", host);
			return r;
		}
		if ((r = serve_audit(s, "ca.service_issue", "ca:tls", "host",
		    host, serial, why)) != PV_OK)
			return r;
		serve_logf(s, "server certificate issued for %s (serial %s)",
		    host, serial);
		if ((r = ca_service_load(dir, CA_SVC_TLS, pass, &x, &k, why)) !=
		    PV_OK)
			return r;
	}
	r = serve_key_pem(k, &s->tls_key_pem, &s->tls_key_len, why);
	if (r == PV_OK)
		r = serve_certs_pem(x, ca_get0_issuing(s->ca), &s->tls_cert_pem,
		    &s->tls_cert_len, why);
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

/*
 * serve_ocsp_check: the responder certificate is there; one past a third
 * of its life is renewed now when the issuing key is at hand (audited),
 * an expired one otherwise refuses to start.
 */
static enum pv_err
serve_ocsp_check(struct serve *s, const struct pkix_pass *pass, time_t now,
    struct pv_why *why)
{
	struct ca_init_params p;
	struct ca_service_params sp;
	char serial[PKIX_SERIAL_HEX_LEN];
	X509 *x = ca_get0_ocsp(s->ca);
	time_t nb, na;
	enum pv_err r;

	if (x == NULL)
		return pv_why_set(why, PV_E_NOT_SET_UP, "no OCSP responder "
		    "certificate in %s (a CA made before it existed): run "
		    "'pivstation ca roll ocsp'", station_ca_dir(s->st));
	nb = serve_not_before(x);
	na = serve_not_after(x);
	if (na - now > (na - nb) / 3)
		return PV_OK;
	if (ca_get0_issuing_key(s->ca) == NULL) {
		if (na <= now)
			return pv_why_set(why, PV_E_STATE, "the OCSP responder "
			    "certificate has expired: run 'pivstation ca roll "
			    "ocsp'");
		serve_logf(s, "warning: the OCSP responder certificate "
		    "expires in %ld days: run 'pivstation ca roll ocsp'",
		    (long)((na - now) / 86400));
		return PV_OK;
	}
	if ((r = ca_params_from_config(s->cfg, &p, why)) != PV_OK)
		return r;
	ca_service_params_init(&sp, CA_SVC_OCSP, &p);
	if ((r = ca_service_roll(s->ca, &p, &sp, pass, now, serial, why)) !=
	    PV_OK) {
		pv_why_prefix(why, "renewing the OCSP responder certificate");
		return r;
	}
	if ((r = serve_audit(s, "ca.roll", "ca:ocsp", "by", "serve", serial,
	    why)) != PV_OK)
		return r;
	serve_logf(s, "OCSP responder certificate renewed (serial %s)", serial);
	return PV_OK;
}

enum pv_err
serve_new(struct station *st, const struct serve_opts *o, struct serve **out,
    struct pv_why *why)
{
	struct serve *s = NULL;
	struct pkix_pass pass;
	STACK_OF(X509) *certs = NULL;
	unsigned which;
	time_t now = time(NULL);
	bool own_tls;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	memset(&pass, 0, sizeof(pass));
	if (station_store(st) == NULL || station_master(st) == NULL)
		return pv_why_set(why, PV_E_INVAL, "serve: the station was "
		    "opened without its store");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	s->st = st;
	s->cfg = station_config(st);
	s->o = *o;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return pv_why_set(why, PV_E_INTERNAL, "mutex");
	}
	s->lock_made = true;
	if (pthread_key_create(&s->store_key, serve_store_dtor) != 0) {
		r = pv_why_set(why, PV_E_INTERNAL, "thread key");
		goto out;
	}
	s->store_key_made = true;
	s->max_body = (size_t)s->cfg->serve_max_body_kib * 1024;
	if ((r = serve_url_path(s->cfg->ocsp_url, "ocsp", s->ocsp_path,
	    sizeof(s->ocsp_path), why)) != PV_OK ||
	    (r = serve_url_path(s->cfg->crl_url, "crl", s->crl_path,
	    sizeof(s->crl_path), why)) != PV_OK ||
	    (r = serve_url_path(s->cfg->ca_issuers_url, "ca_issuers",
	    s->p7c_path, sizeof(s->p7c_path), why)) != PV_OK)
		goto out;

	/* One passphrase for every key the service holds. */
	own_tls = s->cfg->serve_tls_cert[0] == '\0';
	which = CA_KEY_OCSP;
	if (own_tls)
		which |= CA_KEY_ISSUING;	/* to renew the server's */
	if ((r = station_passphrase(st, PASS_CA, false, &pass, why)) != PV_OK ||
	    (r = ca_open_keys(station_ca_dir(st), &pass, which, &s->ca,
	    why)) != PV_OK)
		goto out;
	if ((r = serve_ocsp_check(s, &pass, now, why)) != PV_OK)
		goto out;
	if ((r = ocsp_responder_new(ca_get0_issuing(s->ca), ca_get0_ocsp(s->ca),
	    ca_get0_ocsp_key(s->ca), s->cfg->serve_ocsp_minutes * 60u,
	    &s->ocsp, why)) != PV_OK)
		goto out;
	/* The AIA .p7c: the issuing CA (what ca publish writes). */
	if ((certs = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(certs, ca_get0_issuing(s->ca))) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ca_certs_only(certs, &s->p7c, &s->p7c_len, why)) != PV_OK)
		goto out;
	if ((o->listen == NULL ? s->cfg->serve_listen[0] : o->listen[0]) !=
	    '\0') {
		r = own_tls ? serve_tls_station(s, &pass, now, why) :
		    serve_tls_configured(s, &pass, why);
		if (r != PV_OK)
			goto out;
	}
	serve_crl_refresh(s, true);
	*out = s;
	s = NULL;
	r = PV_OK;
out:
	pkix_pass_clear(&pass);
	sk_X509_free(certs);
	serve_free(s);
	return r;
}

/* ---- one request ----------------------------------------------------------------- */

/* What libmicrohttpd keeps for us between the calls of one request. */
struct serve_conn {
	uint8_t *body;
	size_t len, cap;
	bool too_long;
	bool answered;		/* refused before the body came */
	struct timespec start;
	struct serve *s;
	bool https;
};

static void
serve_http_date(time_t t, char *out, size_t cap)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

static void
serve_free_body(void *p)
{
	free(p);
}

static void
serve_add_headers(struct MHD_Response *r, const struct serve_rsp *rsp,
    bool https)
{
	char date[64];

	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    rsp->ctype[0] ? rsp->ctype : "application/octet-stream");
	(void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    rsp->cache[0] ? rsp->cache : "no-store");
	if (rsp->allow[0] != '\0')
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    rsp->allow);
	if (rsp->modified != 0) {
		serve_http_date(rsp->modified, date, sizeof(date));
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED,
		    date);
	}
	if (rsp->expires != 0) {
		serve_http_date(rsp->expires, date, sizeof(date));
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, date);
	}
	if (https)
		(void)MHD_add_response_header(r, "Strict-Transport-Security",
		    "max-age=31536000");
}

/* Sends |rsp| (taking its body) and logs the request. */
static enum MHD_Result
serve_queue(struct serve *s, struct MHD_Connection *c, struct serve_conn *sc,
    const char *method, struct serve_rsp *rsp)
{
	struct MHD_Response *r = NULL;
	const union MHD_ConnectionInfo *ci;
	struct timespec end;
	char peer[SERVE_PEER_MAX] = "?";
	enum MHD_Result ret;
	size_t len = rsp->len;
	double ms;

	r = MHD_create_response_from_buffer_with_free_callback(rsp->len,
	    rsp->body, serve_free_body);
	if (r == NULL)
		serve_rsp_cleanup(rsp);
	rsp->body = NULL;
	if (r == NULL)
		return MHD_NO;
	serve_add_headers(r, rsp, sc->https);
	ret = MHD_queue_response(c, rsp->status, r);
	MHD_destroy_response(r);
	if (s->o.access_log || rsp->status >= 500) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL) {
			const struct sockaddr *sa = ci->client_addr;

			if (sa->sa_family == AF_INET)
				(void)inet_ntop(AF_INET, &((const struct
				    sockaddr_in *)(const void *)sa)->sin_addr,
				    peer, sizeof(peer));
			else if (sa->sa_family == AF_INET6)
				(void)inet_ntop(AF_INET6, &((const struct
				    sockaddr_in6 *)(const void *)sa)->sin6_addr,
				    peer, sizeof(peer));
		}
		(void)clock_gettime(CLOCK_MONOTONIC, &end);
		ms = (double)(end.tv_sec - sc->start.tv_sec) * 1e3 +
		    (double)(end.tv_nsec - sc->start.tv_nsec) / 1e6;
		serve_logf(s, "%s %.8s %s %u %zu %.1fms%s%s", peer, method,
		    rsp->route, rsp->status, len, ms, rsp->outcome[0] ? " " : "",
		    rsp->outcome);
	}
	return ret;
}

static enum serve_method
serve_method(const char *m)
{
	if (strcmp(m, MHD_HTTP_METHOD_GET) == 0)
		return SERVE_GET;
	if (strcmp(m, MHD_HTTP_METHOD_HEAD) == 0)
		return SERVE_HEAD;
	if (strcmp(m, MHD_HTTP_METHOD_POST) == 0)
		return SERVE_POST;
	return SERVE_OTHER;
}

static enum MHD_Result
serve_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct serve_conn *sc = *con_cls;
	struct serve *s;
	struct serve_req req;
	struct serve_rsp rsp;
	const union MHD_ConnectionInfo *ci;
	const char *cl, *ct;
	char peer[SERVE_PEER_MAX] = "";
	unsigned long long declared;
	size_t n;

	(void)version;
	if (sc == NULL) {
		if ((sc = calloc(1, sizeof(*sc))) == NULL)
			return MHD_NO;
		sc->s = ((struct serve_listener *)cls)->s;
		sc->https = ((struct serve_listener *)cls)->https;
		(void)clock_gettime(CLOCK_MONOTONIC, &sc->start);
		*con_cls = sc;
		/* a declared body over the limit is refused before it comes */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (declared = strtoull(cl, NULL, 10)) >
		    sc->s->max_body) {
			memset(&rsp, 0, sizeof(rsp));
			serve_rsp_text(&rsp, 413, "request body too large");
			(void)snprintf(rsp.route, sizeof(rsp.route), "-");
			sc->answered = true;
			return serve_queue(sc->s, c, sc, method, &rsp);
		}
		return MHD_YES;
	}
	s = sc->s;
	if (*upload_data_size > 0) {
		n = *upload_data_size;
		*upload_data_size = 0;
		if (sc->answered || sc->too_long)
			return MHD_YES;
		if (n > s->max_body - sc->len) {
			sc->too_long = true;
			return MHD_YES;
		}
		if (sc->len + n > sc->cap) {
			size_t ncap = sc->cap ? sc->cap : 4096;
			uint8_t *nb;

			while (ncap < sc->len + n)
				ncap *= 2;
			if (ncap > s->max_body)
				ncap = s->max_body;
			if ((nb = realloc(sc->body, ncap)) == NULL)
				return MHD_NO;
			sc->body = nb;
			sc->cap = ncap;
		}
		memcpy(sc->body + sc->len, upload_data, n);
		sc->len += n;
		return MHD_YES;
	}
	if (sc->answered)
		return MHD_YES;
	memset(&req, 0, sizeof(req));
	req.method = serve_method(method);
	req.path = url;
	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	req.content_type = ct != NULL ? ct : "";
	req.body = sc->body;
	req.body_len = sc->len;
	req.body_too_long = sc->too_long;
	req.https = sc->https;
	req.now = time(NULL);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, peer, sizeof(peer));
		else if (sa->sa_family == AF_INET6)
			(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr, peer, sizeof(peer));
	}
	req.peer = peer;
	serve_handle(s, &req, &rsp);
	s->n_requests++;
	return serve_queue(s, c, sc, method, &rsp);
}

static void
serve_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct serve_conn *sc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (sc == NULL)
		return;
	/* a body may be a form with a code in it */
	if (sc->body != NULL)
		OPENSSL_cleanse(sc->body, sc->cap);
	free(sc->body);
	free(sc);
	*con_cls = NULL;
}

/* ---- listeners -------------------------------------------------------------------- */

/* "A.B.C.D:PORT" / "[v6]:PORT" into |ss| (port 0 allowed: any). */
static bool
serve_parse_addr(const char *a, struct sockaddr_storage *ss, bool *v6)
{
	char host[CONFIG_LISTEN_MAX];
	const char *port;
	char *end;
	unsigned long p;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (strlen(a) >= sizeof(host))
		return false;
	if (a[0] == '[') {
		const char *rb = strchr(a, ']');

		if (rb == NULL || rb[1] != ':')
			return false;
		hl = (size_t)(rb - a - 1);
		memcpy(host, a + 1, hl);
		port = rb + 2;
		*v6 = true;
	} else {
		const char *colon = strrchr(a, ':');

		if (colon == NULL)
			return false;
		hl = (size_t)(colon - a);
		memcpy(host, a, hl);
		port = colon + 1;
		*v6 = false;
	}
	host[hl] = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno != 0 || p > 65535)
		return false;
	if (*v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		return inet_pton(AF_INET, host, &s4->sin_addr) == 1;
	}
}

static enum pv_err
serve_daemon(struct serve *s, const char *addr, bool https, void **out,
    unsigned *port, struct pv_why *why)
{
	struct sockaddr_storage ss;
	struct serve_listener *tag;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	bool v6;

	*out = NULL;
	if (!serve_parse_addr(addr, &ss, &v6))
		return pv_why_set(why, PV_E_CONFIG, "listen address '%.60s': "
		    "expected ADDRESS:PORT", addr);
	if (v6)
		flags |= MHD_USE_IPv6;
	/* The tag carries the serve and the kind of listener to each
	 * request (the daemon keeps only one closure pointer). */
	tag = https ? &s->l_https : &s->l_http;
	tag->s = s;
	tag->https = https;
	if (https)
		d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL,
		    serve_access, tag,
		    MHD_OPTION_EXTERNAL_LOGGER, serve_mhd_log, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, s->cfg->serve_threads,
		    MHD_OPTION_CONNECTION_LIMIT, s->cfg->serve_max_conn,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg->serve_max_conn_ip,
		    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg->serve_timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_HEADER_MEM,
		    MHD_OPTION_NOTIFY_COMPLETED, serve_completed, s,
		    MHD_OPTION_HTTPS_MEM_KEY, s->tls_key_pem,
		    MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert_pem,
		    MHD_OPTION_HTTPS_PRIORITIES, SERVE_TLS_PRIORITIES,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL,
		    serve_access, tag,
		    MHD_OPTION_EXTERNAL_LOGGER, serve_mhd_log, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, s->cfg->serve_threads,
		    MHD_OPTION_CONNECTION_LIMIT, s->cfg->serve_max_conn,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg->serve_max_conn_ip,
		    MHD_OPTION_CONNECTION_TIMEOUT, s->cfg->serve_timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_HEADER_MEM,
		    MHD_OPTION_NOTIFY_COMPLETED, serve_completed, s,
		    MHD_OPTION_END);
	if (d == NULL)
		return pv_why_set(why, PV_E_IO, "cannot listen on %s (%s): in "
		    "use, not an address of this host, or not allowed",
		    addr, https ? "HTTPS" : "HTTP");
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = di != NULL ? di->port : 0;
	*out = d;
	return PV_OK;
}

enum pv_err
serve_start(struct serve *s, struct pv_why *why)
{
	const char *https = s->o.listen != NULL ? s->o.listen :
	    s->cfg->serve_listen;
	const char *http = s->o.listen_http != NULL ? s->o.listen_http :
	    s->cfg->serve_listen_http;
	enum pv_err r;

	if (https[0] == '\0' && http[0] == '\0')
		return pv_why_set(why, PV_E_CONFIG, "no listener: [serve] listen "
		    "and listen_http are both empty");
	if (https[0] != '\0' && (r = serve_daemon(s, https, true, &s->d_https,
	    &s->port_https, why)) != PV_OK)
		return r;
	if (http[0] != '\0' && (r = serve_daemon(s, http, false, &s->d_http,
	    &s->port_http, why)) != PV_OK)
		return r;
	serve_logf(s, "listening:%s%s%s%s%s; OCSP %s, CRL %s, AIA %s",
	    https[0] ? " https " : "", https, http[0] ? " http " : "", http,
	    "", s->ocsp_path[0] ? s->ocsp_path : "off",
	    s->crl_path[0] ? s->crl_path : "off",
	    s->p7c_path[0] ? s->p7c_path : "off");
	return PV_OK;
}

unsigned
serve_port(const struct serve *s, bool https)
{
	return https ? s->port_https : s->port_http;
}

/* ---- running and stopping ------------------------------------------------------- */

static unsigned
serve_connections(void *d)
{
	const union MHD_DaemonInfo *di;

	if (d == NULL)
		return 0;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return di != NULL ? di->num_connections : 0;
}

static void
serve_stop(struct serve *s, unsigned grace_s)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	MHD_socket fd;
	unsigned waited = 0;

	/* Stop accepting, let what is in progress finish, then stop. */
	if (s->d_https != NULL && (fd = MHD_quiesce_daemon(s->d_https)) !=
	    MHD_INVALID_SOCKET)
		(void)close(fd);
	if (s->d_http != NULL && (fd = MHD_quiesce_daemon(s->d_http)) !=
	    MHD_INVALID_SOCKET)
		(void)close(fd);
	while ((serve_connections(s->d_https) + serve_connections(s->d_http)) >
	    0 && waited < grace_s * 20) {
		(void)nanosleep(&tick, NULL);
		waited++;
	}
	if (s->d_https != NULL)
		MHD_stop_daemon(s->d_https);
	if (s->d_http != NULL)
		MHD_stop_daemon(s->d_http);
	s->d_https = NULL;
	s->d_http = NULL;
}

enum pv_err
serve_run(struct serve *s, atomic_bool *stop, atomic_bool *reload,
    struct pv_why *why)
{
	struct timespec tick = { 0, SERVE_TICK_MS * 1000 * 1000 };
	time_t now, last_crl = 0, last_day = 0, na;
	X509 *ocsp;

	(void)why;
	while (!atomic_load(stop)) {
		(void)nanosleep(&tick, NULL);
		now = time(NULL);
		if (reload != NULL && atomic_exchange(reload, false)) {
			serve_logf(s, "reload: re-reading the CRL");
			serve_crl_refresh(s, true);
			last_crl = now;
		}
		if (now - last_crl >= 5) {
			serve_crl_refresh(s, false);
			last_crl = now;
		}
		if (now - last_day >= 86400) {
			ocsp = ocsp_responder_signer(s->ocsp);
			na = serve_not_after(ocsp);
			if (na - now < SERVE_OCSP_WARN_DAYS * 86400)
				serve_logf(s, "warning: the OCSP responder "
				    "certificate expires %s: run 'pivstation "
				    "ca roll ocsp' and restart", na <= now ?
				    "now" : "within 14 days");
			last_day = now;
		}
	}
	serve_logf(s, "stopping: %lu requests answered",
	    (unsigned long)s->n_requests);
	serve_stop(s, s->cfg->serve_timeout_s);
	serve_logf(s, "stopped");
	return PV_OK;
}

void
serve_free(struct serve *s)
{
	struct store *mine;

	if (s == NULL)
		return;
	serve_stop(s, 0);
	if (s->store_key_made) {
		/* the calling thread's own (tests call serve_handle) */
		if ((mine = pthread_getspecific(s->store_key)) != NULL) {
			(void)pthread_setspecific(s->store_key, NULL);
			store_close(mine);
		}
		(void)pthread_key_delete(s->store_key);
	}
	OPENSSL_free(s->crl.der);
	OPENSSL_free(s->p7c);
	if (s->tls_key_pem != NULL)
		OPENSSL_clear_free(s->tls_key_pem, s->tls_key_len + 1);
	OPENSSL_free(s->tls_cert_pem);
	ocsp_responder_free(s->ocsp);
	ca_free(s->ca);
	if (s->lock_made)
		(void)pthread_mutex_destroy(&s->lock);
	OPENSSL_clear_free(s, sizeof(*s));
}
