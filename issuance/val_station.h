/*
 * val_station.h: the validator set up from the station configuration
 * ([trust], [validation], [revocation]; config.h) and the station home,
 * with command-line overrides: what `pivstation validate`, deriving from
 * a card and the console share.
 *
 *   anchors        the overrides, else [trust] anchors, else the station
 *                  CA's root (<home>/ca/root.crt)
 *   intermediates  the overrides and [trust] intermediates (else the
 *                  station's issuing CA)
 *   CRLs           the overrides, [revocation] crl_files and, with
 *                  station_crl, <home>/ca/crl.der
 *   fetching       libcurl unless [revocation] fetch = no or no_fetch;
 *                  cache in [revocation] cache_dir, else <home>/cache
 * Relative paths in the configuration are relative to the station home.
 */
#ifndef PV_ISSUANCE_VAL_STATION_H
#define PV_ISSUANCE_VAL_STATION_H

#include <stdbool.h>
#include <stddef.h>

#include "apdu/err.h"
#include "issuance/config.h"
#include "issuance/home.h"
#include "issuance/station.h"
#include "issuance/val.h"

/* Command-line overrides; zero/NULL fields leave the configuration. */
struct val_station_opts {
	const char *const *anchors;
	size_t n_anchors;
	const char *const *untrusted;
	size_t n_untrusted;
	const char *const *crls;
	size_t n_crls;
	bool no_fetch;
	bool refresh;		/* ignore the disk cache this time */
	const char *cache_dir;
	int rev_mode;		/* enum val_rev_mode, or -1 */
	int soft_fail;		/* 0/1, or -1 */
	int ca_required;	/* 0/1, or -1 */
};

/* val_station_opts_init: nothing overridden. */
void val_station_opts_init(struct val_station_opts *o);

struct val_station {
	struct val_ctx *ctx;
	struct val_fetcher fetcher;
	bool have_fetcher;
	struct val_params auth;		/* for a PIV Authentication cert */
	struct val_params signer;	/* for the CHUID content signer */
	struct val_params plain;	/* revocation settings, any policy */
	unsigned expiry_margin_days;
	bool card_auth;
	char anchors_from[300];		/* says where the anchors came from */
};

/*
 * val_station_open builds |vs| from station |st|'s configuration (NULL,
 * or a station without a configuration file: the defaults, and no
 * station CA or cache in its home) with |o| (NULL: none).  PV_E_CONFIG
 * when no trust anchor can be found; PV_E_INPUT or PV_E_NOT_FOUND naming
 * a file that does not hold what it should.  Release with
 * val_station_close.
 */
enum pv_err val_station_open(const struct station *st,
    const struct val_station_opts *o, struct val_station *vs,
    struct pv_why *why);
void val_station_close(struct val_station *vs);

#endif /* PV_ISSUANCE_VAL_STATION_H */
