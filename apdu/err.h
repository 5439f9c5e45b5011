/*
 * err.h: the one list of error codes shared by every pivstation layer.
 *
 * The enum and its strings are expanded from the same X-macro list so they
 * cannot drift apart.  A function that can fail returns enum pv_err and
 * gives its results through out-parameters.  A card's status word is data,
 * not a transport error: see apdu.h and sw.h.
 */
#ifndef PV_APDU_ERR_H
#define PV_APDU_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define PV_ERRORS(X) \
	X(PV_OK,		"ok") \
	X(PV_E_INTERNAL,	"internal error") \
	X(PV_E_NOMEM,		"out of memory") \
	X(PV_E_INVAL,		"invalid argument") \
	X(PV_E_MALFORMED,	"card sent malformed data") \
	X(PV_E_TOO_LONG,	"data longer than allowed") \
	X(PV_E_TRANSPORT,	"communication with the card failed") \
	X(PV_E_NO_CARD,		"no card in the reader, or it was removed") \
	X(PV_E_RESET,		"the card was reset; security status was lost") \
	X(PV_E_TIMEOUT,		"timed out") \
	X(PV_E_NO_SERVICE,	"the PC/SC service (pcscd) is not running") \
	X(PV_E_NO_READER,	"no such reader") \
	X(PV_E_SHARING,		"the card is in use by another program") \
	X(PV_E_PROTO,		"protocol error") \
	X(PV_E_CHAIN,		"too many response or command chaining steps") \
	X(PV_E_SW,		"the card refused the command") \
	X(PV_E_NOT_FOUND,	"object, key or application not found") \
	X(PV_E_SECURITY,	"security status not satisfied") \
	X(PV_E_PIN_WRONG,	"wrong PIN") \
	X(PV_E_BLOCKED,		"authentication method blocked") \
	X(PV_E_NOT_SUPPORTED,	"not supported by this card") \
	X(PV_E_BAD_P1P2,	"incorrect parameters P1/P2") \
	X(PV_E_BAD_DATA,	"the card rejected the command data") \
	X(PV_E_NO_SPACE,	"not enough memory on the card") \
	X(PV_E_WRONG_LENGTH,	"wrong length") \
	X(PV_E_CONDITIONS,	"conditions of use not satisfied") \
	X(PV_E_AUTH_FAILED,	"authentication failed") \
	X(PV_E_CRYPTO,		"cryptographic operation failed") \
	X(PV_E_IO,		"file input/output failed") \
	X(PV_E_DB,		"database error") \
	X(PV_E_CONFIG,		"configuration error") \
	X(PV_E_INPUT,		"bad input") \
	X(PV_E_EXISTS,		"already exists") \
	X(PV_E_STATE,		"operation not allowed in the current state") \
	X(PV_E_POLICY,		"refused by policy") \
	X(PV_E_VERIFY,		"verification failed") \
	X(PV_E_CANCELLED,	"cancelled") \
	X(PV_E_DIFFERENT_CARD,	"a different card is now in the reader")

#define PV_ENUM(name, text) name,
enum pv_err { PV_ERRORS(PV_ENUM) PV_E__COUNT };
#undef PV_ENUM

/*
 * pv_strerror returns a short text for |e|.  It never returns NULL; an
 * out-of-range value gives "unknown error".
 */
const char *pv_strerror(enum pv_err e);

/* pv_errname returns the symbolic name ("PV_E_MALFORMED"); never NULL. */
const char *pv_errname(enum pv_err e);

/*
 * struct pv_why carries a sentence for a person about what exactly went
 * wrong ("CHUID: FASC-N is 24 bytes, expected 25").  Parsers take an
 * optional |why| (NULL allowed) and fill it on failure.  It lives in the
 * caller's storage; nothing is allocated.
 */
struct pv_why {
	char msg[256];
};

/*
 * pv_why_set formats into |why| when it is not NULL and returns |e|, so a
 * parser can write `return pv_why_set(why, PV_E_MALFORMED, "...")`.
 * An earlier message is kept when a later call would overwrite it with a
 * less specific one: the first (innermost) failure wins.
 */
enum pv_err pv_why_set(struct pv_why *why, enum pv_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* pv_why_prefix prepends "prefix: " to a message already set (nesting). */
void pv_why_prefix(struct pv_why *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* pv_why_clear empties |why| (NULL allowed). */
void pv_why_clear(struct pv_why *why);

#endif /* PV_APDU_ERR_H */
