/*
 * rc.h: PC/SC return codes for people: name, meaning, and the mapping to
 * the project's error list.
 *
 * PC/SC LONG codes are passed as uint32_t (their 32-bit value, as printed
 * in hex) so that callers above pcsc/ never need <winscard.h>.
 */
#ifndef PV_PCSC_RC_H
#define PV_PCSC_RC_H

#include <stdbool.h>
#include <stdint.h>

#include "apdu/err.h"

/* Success, and the codes the transport handles specially. */
#define PCSC_RC_OK		0x00000000u
#define PCSC_RC_CANCELLED	0x80100002u
#define PCSC_RC_TIMEOUT		0x8010000au
#define PCSC_RC_NO_SERVICE	0x8010001du
#define PCSC_RC_SERVICE_STOPPED	0x8010001eu
#define PCSC_RC_RESET_CARD	0x80100068u
#define PCSC_RC_REMOVED_CARD	0x80100069u

/*
 * pcsc_rc_name returns the symbolic name of |rc| ("SCARD_W_RESET_CARD"),
 * or "SCARD_?" for a code pcsc-lite does not define.  Never NULL.
 */
const char *pcsc_rc_name(uint32_t rc);

/*
 * pcsc_rc_text returns what |rc| means for an operator, in a sentence
 * fragment ("the card was reset by another program; security status was
 * lost").  Never NULL: an unknown code gives "unknown PC/SC error".
 */
const char *pcsc_rc_text(uint32_t rc);

/*
 * pcsc_rc_to_err maps |rc| to the project's error list: the one place
 * where PC/SC codes become enum pv_err.  SCARD_S_SUCCESS gives PV_OK.
 */
enum pv_err pcsc_rc_to_err(uint32_t rc);

/* pcsc_rc_is_service_gone is true for NO_SERVICE and SERVICE_STOPPED. */
bool pcsc_rc_is_service_gone(uint32_t rc);

/* pcsc_rc_count is the number of codes known (for tests). */
unsigned pcsc_rc_count(void);

/* pcsc_rc_at gives the code at index |i| < pcsc_rc_count() (for tests). */
uint32_t pcsc_rc_at(unsigned i);

#endif /* PV_PCSC_RC_H */
