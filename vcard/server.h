/*
 * server.h: the vcard's connection to vpcd and its statistics.
 *
 * vc_server_run connects to vpcd (listening inside pcscd) on host:port,
 * answers its messages with the card, reconnects whenever the connection
 * drops (pcscd restarted, or a remove fault with a reinsertion time),
 * applies the latency model and the transport side of faults, and
 * returns when *stop becomes non-zero.
 */
#ifndef PV_VCARD_SERVER_H
#define PV_VCARD_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "apdu/err.h"
#include "vcard/card.h"
#include "vcard/latency.h"

struct vc_stats {
	uint64_t apdus;		/* command APDUs answered or swallowed */
	uint64_t bytes_in;	/* command APDU bytes (host to card) */
	uint64_t bytes_out;	/* response APDU bytes (card to host) */
	uint64_t atr_requests;	/* vpcd presence polls and ATR reads */
	uint64_t power_events;	/* power on, off, reset */
	uint64_t connections;	/* times the link to vpcd was made */
	uint64_t latency_us;	/* simulated card time slept */
	uint64_t faults;	/* faults that fired */
	uint64_t by_ins[256];	/* command APDUs per INS byte */
};

struct vc_server {
	const char *host;	/* "127.0.0.1" */
	uint16_t port;
	const char *name;	/* for log lines */
	struct vc_card *card;
	struct vc_latency lat;
	const char *stats_path;	/* NULL: no stats file */
	const char *profile;	/* written into the stats */
	int verbose;		/* 1: one line per APDU (header and SW only) */
	struct vc_stats stats;
};

/*
 * vc_server_run serves until *stop is set; when *dump becomes non-zero
 * it writes the statistics and clears it.  Returns PV_OK on a requested
 * stop, PV_E_NOMEM if it cannot start.
 */
enum pv_err vc_server_run(struct vc_server *s, volatile sig_atomic_t *stop,
    volatile sig_atomic_t *dump);

/*
 * vc_stats_write writes |s|'s statistics as one JSON object to |path|
 * (atomically: temporary file and rename).  PV_E_IO.
 */
enum pv_err vc_stats_write(const struct vc_server *s, const char *path);

#endif /* PV_VCARD_SERVER_H */
