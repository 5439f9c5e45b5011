/*
 * serve_int.h: the service's insides, shared by serve*.c (not by front
 * ends): one request in, one response out, and the state the handlers
 * share.  The request handlers take a struct serve_req (what
 * libmicrohttpd parsed) and fill a struct serve_rsp; they never see a
 * socket, so unit tests and fuzz targets call serve_handle directly.
 */
#ifndef PV_ISSUANCE_SERVE_INT_H
#define PV_ISSUANCE_SERVE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/ca.h"
#include "issuance/ocsp_responder.h"
#include "issuance/serve.h"

struct store;
struct station;

#define SERVE_PATH_MAX		1024	/* a route's path */
#define SERVE_PEER_MAX		64	/* "2001:db8::1" */
#define SERVE_CTYPE_MAX		128
#define SERVE_OUTCOME_MAX	160	/* the log's last field */

enum serve_method {
	SERVE_GET,
	SERVE_HEAD,
	SERVE_POST,
	SERVE_OTHER
};

/* One request as the handlers see it (all borrowed). */
struct serve_req {
	enum serve_method method;
	const char *path;		/* decoded path, no query */
	const char *content_type;	/* "" when none */
	const uint8_t *body;		/* POST body */
	size_t body_len;
	bool body_too_long;		/* cut at the limit: answer 413 */
	const char *peer;		/* client address, for audit and log */
	bool https;
	time_t now;
};

/* One response: the handler fills it, serve.c sends and frees it. */
struct serve_rsp {
	unsigned status;
	char ctype[SERVE_CTYPE_MAX];
	uint8_t *body;			/* malloc'd; NULL: empty */
	size_t len;
	char cache[96];			/* Cache-Control; "" = no-store */
	char allow[32];			/* Allow (405) */
	char route[24];			/* for the log: "ocsp", "crl", ... */
	char outcome[SERVE_OUTCOME_MAX];	/* for the log */
	time_t expires;			/* Expires/Last-Modified; 0: none */
	time_t modified;
};

/* The CRL as last read from the CA folder. */
struct serve_crl {
	uint8_t *der;			/* NULL: none published */
	size_t len;
	time_t mtime;			/* the file's, to notice a new one */
	time_t next_update;
	time_t this_update;
};

/* What a listener hands each of its requests. */
struct serve_listener {
	struct serve *s;
	bool https;
};

struct serve {
	struct station *st;
	const struct pv_config *cfg;
	struct serve_opts o;
	struct ca *ca;			/* this service's own, with its keys */
	struct ocsp_responder *ocsp;
	uint8_t *p7c;			/* the AIA .p7c */
	size_t p7c_len;
	char ocsp_path[SERVE_PATH_MAX];	/* "" when [urls] ocsp is empty */
	char crl_path[SERVE_PATH_MAX];
	char p7c_path[SERVE_PATH_MAX];
	size_t max_body;
	/* the TLS key and certificate, PEM, until the daemon stops */
	char *tls_key_pem;
	size_t tls_key_len;
	char *tls_cert_pem;
	size_t tls_cert_len;
	/* listeners (struct MHD_Daemon *) */
	struct serve_listener l_https, l_http;
	void *d_https;
	void *d_http;
	unsigned port_https, port_http;
	/* each worker thread's store connection */
	pthread_key_t store_key;
	bool store_key_made;
	pthread_mutex_t lock;		/* crl */
	bool lock_made;
	struct serve_crl crl;
	_Atomic unsigned long n_requests;
};

/*
 * serve_handle answers |req| into |rsp| (zeroed by it): the routes of
 * serve.h.  It never fails: what goes wrong becomes a 4xx or 5xx
 * response, logged.
 */
void serve_handle(struct serve *s, const struct serve_req *req,
    struct serve_rsp *rsp);

/* serve_rsp_cleanup frees the body. */
void serve_rsp_cleanup(struct serve_rsp *rsp);

/* serve_store: the calling thread's store connection (opened on first
 * use), or NULL with |why|. */
struct store *serve_store(struct serve *s, struct pv_why *why);

/* serve_logf writes one log line through the front end's callback. */
void serve_logf(const struct serve *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- responses ------------------------------------------------------------ */

/* serve_rsp_bytes sets |rsp| to |status| with a copy of |p|,|n|.  false
 * when out of memory (then a 500 is set). */
bool serve_rsp_bytes(struct serve_rsp *rsp, unsigned status,
    const char *ctype, const void *p, size_t n);

/* serve_rsp_text: a short text/plain answer ("ok", "not found"). */
void serve_rsp_text(struct serve_rsp *rsp, unsigned status, const char *text);

/* ---- routes (serve_route.c) ------------------------------------------------ */

void serve_ocsp(struct serve *s, const struct serve_req *req,
    const char *tail, struct serve_rsp *rsp);
void serve_crl_get(struct serve *s, const struct serve_req *req,
    struct serve_rsp *rsp);

/* serve_crl_refresh re-reads <ca>/crl.der when it changed (or |force|). */
void serve_crl_refresh(struct serve *s, bool force);

#endif /* PV_ISSUANCE_SERVE_INT_H */
