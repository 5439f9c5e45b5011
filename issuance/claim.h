/*
 * claim.h: station-wide claims, so that two front ends (two batches, a
 * batch and the console) never drive the same reader, and one batch runs
 * in one process at a time.
 *
 * A claim is an exclusive flock(2) on <home>/claims/<kind>-<hash>.lock,
 * <hash> being the first 16 hex digits of the SHA-256 of the claimed name
 * (reader names hold spaces, brackets and any bytes).  A lock rather than
 * a row with a lease in the store: the kernel releases it when its holder
 * ends, however it ends (SIGKILL included), so there is no lease to
 * renew, no clock to trust and nothing stale to clean up after a crash;
 * and readers belong to this machine, which is exactly the scope of the
 * lock.  The file says who holds it ("pid 4242: pivstation batch
 * people.csv"), for the message the next claimant gets.  Lock files are
 * left in place (removing a locked file races with the next claimant).
 *
 * Locks of one process conflict too (each claim opens the file anew), so
 * two workers of one batch never share a reader either.
 */
#ifndef PV_ISSUANCE_CLAIM_H
#define PV_ISSUANCE_CLAIM_H

#include "apdu/err.h"
#include "issuance/home.h"

#define CLAIM_DIR	"claims"

struct claim;	/* opaque */

/*
 * claim_take claims |name| of |kind| ("reader", "batch") in home |h| for
 * |who| (what the holder is doing, for others' messages).  Returns PV_OK
 * with a new claim (release with claim_release), PV_E_EXISTS with |why|
 * naming the holder ("reader \"X\" is in use: pid 4242: pivstation batch
 * people.csv"), PV_E_IO / PV_E_POLICY for the folder or the file.
 */
enum pv_err claim_take(const struct home *h, const char *kind,
    const char *name, const char *who, struct claim **out,
    struct pv_why *why);

/* claim_release ends the claim (NULL allowed). */
void claim_release(struct claim *c);

#endif /* PV_ISSUANCE_CLAIM_H */
