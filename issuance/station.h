/*
 * station.h: the station, opened once by every front end (cli, console,
 * batch, service) with what it needs: the home, the configuration, the
 * master secret, the store, the CA and who acts.
 *
 * A front end says what it needs (STATION_NEED_*) and how passphrases
 * reach it (passphrase.h: its options, then its own prompt); station_open
 * loads it all or says, in one sentence, what is missing and what to run
 * ("no master secret in /x: run 'pivstation init'").
 *
 * Threads: a struct station is read-only once open and may be shared.
 * The store connection station_store() returns belongs to the thread that
 * opened the station; any other thread opens its own with
 * station_store_open() (SQLite WAL, the configured busy timeout; audit.h
 * says how several writers share the log).
 */
#ifndef PV_ISSUANCE_STATION_H
#define PV_ISSUANCE_STATION_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "apdu/err.h"
#include "issuance/audit.h"
#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/operator.h"
#include "issuance/home.h"
#include "issuance/passphrase.h"
#include "issuance/secret.h"

struct station;		/* opaque */
struct store;		/* store.h */

/* What a front end needs (bits for station_opts.need). */
#define STATION_NEED_CONFIG	0x01	/* pivstation.conf must exist (without
					 * it the built-in defaults are used) */
#define STATION_NEED_MASTER	0x02	/* the master secret */
#define STATION_NEED_STORE	0x04	/* the store (and the master secret) */
#define STATION_WANT_STORE	0x08	/* the store when the station has one */
#define STATION_NEED_CA		0x10	/* the CA certificates */
#define STATION_NEED_CA_ISSUING	0x20	/* + the issuing CA's key */
#define STATION_NEED_CA_SIGNER	0x40	/* + the content signer's key */

struct station_opts {
	const char *home;	/* NULL: $PIVSTATION_HOME, else the default */
	unsigned need;		/* STATION_NEED_* / STATION_WANT_* bits */
	/*
	 * Who acts, for the audit log: the name of an operator (printable,
	 * no control characters, < AUDIT_ACTOR_MAX bytes), or NULL for the
	 * account running the process ("uid 1000 (alice)").
	 */
	const char *operator;
	const struct pass_chain *pass;	/* copied; NULL: environment and
					 * configuration only */
};

/*
 * station_open opens what |o| asks for.  Returns PV_OK with a new station
 * (free with station_close), or with |why| saying what is missing:
 * PV_E_NOT_SET_UP (no home, configuration, master secret, store or CA:
 * what to run), PV_E_POLICY (a file's owner or mode), PV_E_INPUT /
 * PV_E_CONFIG (the operator name, the configuration), the passphrase's
 * errors (PV_E_INPUT, PV_E_AUTH_FAILED for a wrong one), PV_E_DB, ...
 */
enum pv_err station_open(const struct station_opts *o, struct station **out,
    struct pv_why *why);

/*
 * station_require opens what |need| adds to an open station (the CA keys
 * after the inputs were checked, say): what is open already is kept.
 * Errors as station_open.
 */
enum pv_err station_require(struct station *s, unsigned need,
    struct pv_why *why);

/* station_close closes the store, frees the CA, wipes the secrets.  NULL
 * allowed. */
void station_close(struct station *s);

/* Borrowed views, valid until station_close. */
const struct home *station_home(const struct station *s);
const struct pv_config *station_config(const struct station *s);
bool station_has_config_file(const struct station *s);
/* NULL unless the master secret was loaded. */
const struct secret_master *station_master(const struct station *s);
/* The opening thread's store connection; NULL when not opened. */
struct store *station_store(const struct station *s);
/* NULL unless a STATION_NEED_CA* bit was given. */
struct ca *station_ca(const struct station *s);
/* <home>/ca */
const char *station_ca_dir(const struct station *s);
/* Who acts, as the audit log records it. */
const char *station_actor(const struct station *s);

/*
 * station_store_open opens another connection to the station's store,
 * for another thread (the station must have been opened with the master
 * secret).  Free it with store_close().  Errors as store_open.
 */
enum pv_err station_store_open(const struct station *s, struct store **out,
    struct pv_why *why);

/*
 * station_passphrase gets a passphrase of kind |k| along the station's
 * chain (passphrase.h).  Errors as pass_get.
 */
enum pv_err station_passphrase(const struct station *s, enum pass_kind k,
    bool confirm, struct pkix_pass *out, struct pv_why *why);

/*
 * station_kra_key loads the key recovery agent's private key with the
 * KRA passphrase.  *out for EVP_PKEY_free.  PV_E_AUTH_FAILED for a wrong
 * passphrase; the passphrase's and the file's errors otherwise.
 */
enum pv_err station_kra_key(const struct station *s, EVP_PKEY **out,
    struct pv_why *why);

/*
 * station_audit appends |action| on |object| with |detail_json| to the
 * audit log when the station has a store (a station without one has no
 * log yet); audit_append's errors otherwise.
 */
enum pv_err station_audit(const struct station *s, const char *action,
    const char *object, const char *detail_json, struct pv_why *why);

/*
 * station_permit: may who acts do |a|?  PV_OK for the account (no operator
 * named) and for an operator whose role allows it; PV_E_POLICY naming the
 * roles that may otherwise.
 */
enum pv_err station_permit(const struct station *s, enum op_action a,
    struct pv_why *why);

/* station_operator: the operator acting (registered, enabled), or NULL
 * for the account. */
const struct store_operator *station_operator(const struct station *s);

/*
 * station_audit_status: PV_OK, or why the audit log's head could not be
 * recorded outside the store after a change (store_audit_files_status of
 * the station's store): a front end reports it and does not end as if all
 * were well.
 */
enum pv_err station_audit_status(const struct station *s,
    struct pv_why *why);

/*
 * station_ca_create makes the station's CA (ca_init), or with |cert| and
 * |key| imports an existing issuing CA (ca_import, |chain| up to its
 * root): the home is created if missing, the CA passphrase is asked twice,
 * the KRA's too when a source of its own is given (else the KRA key takes
 * the CA passphrase), and the creation is audited when the station has a
 * store.  The station then holds the new CA (certificates only).
 */
enum pv_err station_ca_create(struct station *s,
    const struct ca_init_params *p, X509 *cert, EVP_PKEY *key,
    STACK_OF(X509) *chain, struct pv_why *why);

/* What station_ca_roll did. */
struct station_roll_result {
	bool rolled;			/* false: not yet due (if_within) */
	bool had_one;			/* the CA had one before */
	char serial[PKIX_SERIAL_HEX_LEN];	/* the current one's */
	char not_after[32];		/* "2027-03-01T12:00:00Z" */
};

/*
 * station_ca_roll replaces the CA's service certificate |kind| (only
 * CA_SVC_OCSP, the delegated OCSP responder) with a new key and
 * certificate from the issuing CA (ca_service_roll; the CA passphrase
 * asked once), for |days| (0: [ca] ocsp_days), audited as ca.roll.  With |if_within| > 0 it
 * does so only when the current one is missing or ends within that many
 * days (|out|->rolled says whether it did).  Errors as ca_service_roll,
 * the passphrase's, PV_E_INVAL for another kind.
 */
enum pv_err station_ca_roll(struct station *s, enum ca_service kind,
    unsigned days, unsigned if_within, struct station_roll_result *out,
    struct pv_why *why);

/* What station_init found and made. */
struct station_init_result {
	bool home_created, config_created, master_created, store_created;
	bool admin_created;
	int schema_version;
};

/*
 * station_init sets up the home |home| (NULL: as station_open): the folder
 * (0700), a documented default pivstation.conf, the master secret and the
 * store, each only if missing; what exists is checked (the configuration
 * parsed, the master secret read, the store migrated).  The account acts
 * (no operator can be registered before the store exists); |admin| (NULL:
 * none) names the first administrator to register, unless an operator of
 * that name exists already.  Returns PV_OK with |out| filled, or the first
 * error.
 */
enum pv_err station_init(const char *home, const char *admin,
    struct station_init_result *out, struct pv_why *why);

/*
 * station_os_actor writes who runs this process, "uid 1000 (alice)", into
 * |out|: the actor when no operator is named.
 */
void station_os_actor(char out[AUDIT_ACTOR_MAX]);

/*
 * station_check_actor checks an operator name |name| for the audit log:
 * 1 to AUDIT_ACTOR_MAX - 1 bytes of valid UTF-8 without control
 * characters.  PV_E_INPUT with |why| otherwise.
 */
enum pv_err station_check_actor(const char *name, struct pv_why *why);

#endif /* PV_ISSUANCE_STATION_H */
