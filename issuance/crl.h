/*
 * crl.h: publishing the issuing CA's CRL from what the station knows.
 *
 * The revoked and on-hold certificates and the CRL number come from the
 * store; a station without a store (a CA made before `pivstation init`, or
 * an offline signing host) gives them as a list, "SERIALHEX [UNIXTIME
 * [REASON]]" per line, and numbers its CRLs after the last one published.
 * Every workflow that revokes (job cancel, lifecycle changes, re-check)
 * publishes through crl_publish, so the CRL at the URL the certificates
 * name follows the store.
 */
#ifndef PV_ISSUANCE_CRL_H
#define PV_ISSUANCE_CRL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apdu/err.h"
#include "issuance/ca.h"

struct store;

#define CRL_DEFAULT_HOURS	168	/* next update a week later */

/*
 * crl_revoked_from_store lists the store's revoked and on-hold
 * certificates.  *out (free()) has *n_out entries.
 */
enum pv_err crl_revoked_from_store(struct store *st, struct ca_revoked **out,
    size_t *n_out, struct pv_why *why);

/*
 * crl_revoked_parse reads "SERIALHEX [UNIXTIME [REASON]]" lines (blank
 * lines and # comments skipped; UNIXTIME defaults to |now|, REASON to
 * none) from |text| into a new array (*out, free()).  PV_E_INPUT naming
 * |name|:line for a line that is not of that form.
 */
enum pv_err crl_revoked_parse(const char *text, size_t len, const char *name,
    time_t now, struct ca_revoked **out, size_t *n_out, struct pv_why *why);

struct crl_result {
	uint64_t number;	/* the CRL number */
	size_t entries;		/* revoked or on-hold certificates listed */
};

/*
 * crl_publish signs the CRL of |ca| (opened with its issuing key) and
 * writes it to the CA folder (crl.der, crl.pem).  With |st|, the entries
 * and the next CRL number come from the store and the publication is
 * audited ("crl.publish"); without, |rv| (|n_rv| entries) is listed and the
 * number follows the last CRL published in the folder.  This update is
 * |now|, next update |now| + |hours|.
 */
enum pv_err crl_publish(struct ca *ca, struct store *st,
    const struct ca_revoked *rv, size_t n_rv, time_t now, unsigned hours,
    struct crl_result *out, struct pv_why *why);

#endif /* PV_ISSUANCE_CRL_H */
