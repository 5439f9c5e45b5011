/*
 * lifecycle.h: the help desk suspends, resumes and terminates a
 * credential (a device with its certificates), each change one store
 * transaction with an audit row giving the officer's reason:
 *
 *   suspend    active device -> suspended; its active certificates are
 *              put on hold (CRL reason certificateHold)
 *   resume     suspended device -> active; certificates on hold released
 *   terminate  any device that is not terminated -> terminated; every
 *              live certificate revoked (|crl_reason|); for good
 *
 * The next CRL (`pivstation ca crl`) carries the change.  Derived
 * credentials follow their primary in the derive workflow's own rules.
 */
#ifndef PV_ISSUANCE_LIFECYCLE_H
#define PV_ISSUANCE_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/store.h"

#define LIFECYCLE_REASON_MAX	200

struct lifecycle_result {
	int64_t device_id;
	enum store_device_status before, after;
	size_t n_certs;		/* certificates put on hold, released or
				 * revoked */
};

/*
 * lifecycle_suspend / _resume / _terminate change device |device_id| for
 * |reason| (1-LIFECYCLE_REASON_MAX bytes, no control characters).
 * PV_E_NO_RECORD for an unknown device, PV_E_STATE when its status does
 * not allow the change (|why| says which it is), PV_E_INPUT for the
 * reason; PV_E_DB.  All or nothing.
 */
enum pv_err lifecycle_suspend(struct store *st, int64_t device_id,
    const char *reason, struct lifecycle_result *out, struct pv_why *why);
enum pv_err lifecycle_resume(struct store *st, int64_t device_id,
    const char *reason, struct lifecycle_result *out, struct pv_why *why);
enum pv_err lifecycle_terminate(struct store *st, int64_t device_id,
    int crl_reason, const char *reason, struct lifecycle_result *out,
    struct pv_why *why);

#endif /* PV_ISSUANCE_LIFECYCLE_H */
