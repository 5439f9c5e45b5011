/*
 * serve.h: `pivstation serve`, the station's device-facing service.
 *
 * One process, built on libmicrohttpd (a thread pool, epoll), serving
 *
 *   over HTTPS (TLS 1.2 and 1.3; [serve] listen) and plain HTTP ([serve]
 *   listen_http), since certificates name http:// URLs for them and what
 *   they return is signed:
 *     the path of [urls] ocsp      the OCSP responder (RFC 6960; POST, and
 *                                  GET with the request in the path)
 *     the path of [urls] crl       the issuing CA's CRL (DER)
 *     the path of [urls] ca_issuers the issuing CA's certificate as a
 *                                  certs-only CMS (.p7c)
 *     /healthz       "ok" while the store answers
 *
 * What each request does is decided in issuance/ (serve_route.c and the
 * handlers it calls), so it can be tested and fuzzed without sockets;
 * serve.c only carries bytes between libmicrohttpd and those handlers.
 * Limits: [serve] max_body_kib for a body (413), libmicrohttpd's memory
 * pool for the request line and headers (414/431), timeout_seconds for
 * an idle or slow connection, max_connections (and per address).
 *
 * Logs: one line per request through the front end's callback ("peer
 * method route status bytes time outcome"); never a query string, a
 * request body or a key.
 *
 * Threads: each worker thread opens its own store connection on its first
 * request (station_store_open) and closes it when the thread ends.
 */
#ifndef PV_ISSUANCE_SERVE_H
#define PV_ISSUANCE_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>

#include "apdu/err.h"
#include "issuance/config.h"

struct station;
struct serve;	/* opaque */

/* serve_log_fn receives one line (no newline) of the service's log. */
typedef void serve_log_fn(void *ctx, const char *line);

struct serve_opts {
	/* NULL: [serve] listen / listen_http; "" turns a listener off */
	const char *listen;
	const char *listen_http;
	bool access_log;	/* a line per request (errors are always) */
	serve_log_fn *log;	/* NULL: nothing is logged */
	void *log_ctx;
};

/*
 * serve_new prepares the service on the open station |st| (opened with
 * the store and the CA certificates): it asks the CA passphrase along the
 * station's chain once, loads the OCSP responder's key (and, when the
 * station issues its own server certificate, the issuing CA's), renews
 * the OCSP responder certificate past two thirds of its life and makes
 * the server certificate when the one it has is missing, expiring or for
 * other host names (both audited), and builds the responder.  Nothing is
 * listening yet.  PV_E_NOT_SET_UP names what to run when the CA has no
 * OCSP responder certificate; PV_E_CONFIG a listener or URL that cannot
 * be used; the passphrase's and the CA's errors.  |st| must outlive the
 * service.
 */
enum pv_err serve_new(struct station *st, const struct serve_opts *o,
    struct serve **out, struct pv_why *why);

/*
 * serve_start binds the listeners and starts the worker threads.
 * PV_E_IO names the address that could not be bound.
 */
enum pv_err serve_start(struct serve *s, struct pv_why *why);

/*
 * serve_run keeps the service until |*stop| becomes true (the front end's
 * SIGTERM/SIGINT handler sets it), doing the housekeeping meanwhile (the
 * CRL re-read when its file changes, a warning as the OCSP certificate
 * nears its end);
 * |*reload| (may be NULL; SIGHUP) re-reads the CRL at once.  Then it stops
 * accepting, lets the requests in progress end (at most the timeout) and
 * stops.  PV_OK on a clean stop.
 */
enum pv_err serve_run(struct serve *s, atomic_bool *stop, atomic_bool *reload,
    struct pv_why *why);

/* serve_free stops what still runs and releases everything.  NULL ok. */
void serve_free(struct serve *s);

/* serve_port: the port listener |https| (else plain HTTP) is bound to
 * once started (0 when off); what ":0" in a listen address became. */
unsigned serve_port(const struct serve *s, bool https);

#endif /* PV_ISSUANCE_SERVE_H */
