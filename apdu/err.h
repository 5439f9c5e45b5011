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
#include <stdbool.h>
#include <stddef.h>

/*
 * Each error has a class: what kind of trouble it is, whatever the layer
 * that met it.  Exit codes (cli/), batch's retry/skip/stop decision and the
 * console's wording come from the class, never from a list of codes kept
 * elsewhere.
 *
 *   CARD_GONE  the card, reader or PC/SC service went away or was taken
 *              (pulled, reset, pcscd stopped, another card put in): the
 *              same work can resume once it is back
 *   CARD       the card answered, and refused or answered nonsense
 *   AUTH       a PIN, PUK or management key was wrong, or is blocked
 *   INPUT      what a person gave (a file they named, a value, the
 *              configuration) is invalid or does not exist
 *   VERIFY     a signature, certificate or audit check failed
 *   STATE      not possible in the current state of the station or of the
 *              card (already exists, refused by policy, not set up yet)
 *   CANCEL     a person cancelled (Ctrl-C, the PIN pad's Cancel key, Esc)
 *   INTERNAL   the host failed (memory, files, database, a bug)
 */
#define PV_ERRORS(X) \
	X(PV_OK,		OK,		"ok") \
	X(PV_E_INTERNAL,	INTERNAL,	"internal error") \
	X(PV_E_NOMEM,		INTERNAL,	"out of memory") \
	X(PV_E_INVAL,		INTERNAL,	"invalid argument") \
	X(PV_E_MALFORMED,	CARD,		"card sent malformed data") \
	X(PV_E_TOO_LONG,	INPUT,		"data longer than allowed") \
	X(PV_E_TRANSPORT,	CARD_GONE,	"communication with the card failed") \
	X(PV_E_NO_CARD,		CARD_GONE,	"no card in the reader, or it was removed") \
	X(PV_E_RESET,		CARD_GONE,	"the card was reset; security status was lost") \
	X(PV_E_TIMEOUT,		CARD_GONE,	"timed out") \
	X(PV_E_NO_SERVICE,	CARD_GONE,	"the PC/SC service (pcscd) is not running") \
	X(PV_E_NO_READER,	CARD_GONE,	"no such reader") \
	X(PV_E_SHARING,		CARD_GONE,	"the card is in use by another program") \
	X(PV_E_PROTO,		CARD_GONE,	"protocol error") \
	X(PV_E_CHAIN,		CARD,		"too many response or command chaining steps") \
	X(PV_E_SW,		CARD,		"the card refused the command") \
	X(PV_E_NOT_FOUND,	CARD,		"object, key or application not found") \
	X(PV_E_SECURITY,	CARD,		"security status not satisfied") \
	X(PV_E_PIN_WRONG,	AUTH,		"wrong PIN") \
	X(PV_E_BLOCKED,		AUTH,		"authentication method blocked") \
	X(PV_E_NOT_SUPPORTED,	CARD,		"not supported by this card") \
	X(PV_E_BAD_P1P2,	CARD,		"incorrect parameters P1/P2") \
	X(PV_E_BAD_DATA,	CARD,		"the card rejected the command data") \
	X(PV_E_NO_SPACE,	CARD,		"not enough memory on the card") \
	X(PV_E_WRONG_LENGTH,	CARD,		"wrong length") \
	X(PV_E_CONDITIONS,	CARD,		"conditions of use not satisfied") \
	X(PV_E_AUTH_FAILED,	AUTH,		"authentication failed") \
	X(PV_E_CRYPTO,		INTERNAL,	"cryptographic operation failed") \
	X(PV_E_IO,		INTERNAL,	"file input/output failed") \
	X(PV_E_DB,		INTERNAL,	"database error") \
	X(PV_E_CONFIG,		INPUT,		"configuration error") \
	X(PV_E_INPUT,		INPUT,		"bad input") \
	X(PV_E_NO_FILE,		INPUT,		"no such file") \
	X(PV_E_NO_RECORD,	STATE,		"no such record in the store") \
	X(PV_E_NOT_SET_UP,	STATE,		"the station is not set up") \
	X(PV_E_EXISTS,		STATE,		"already exists") \
	X(PV_E_STATE,		STATE,		"operation not allowed in the current state") \
	X(PV_E_POLICY,		STATE,		"refused by policy") \
	X(PV_E_VERIFY,		VERIFY,		"verification failed") \
	X(PV_E_CANCELLED,	CANCEL,		"cancelled") \
	X(PV_E_DIFFERENT_CARD,	CARD_GONE,	"a different card is now in the reader")

enum pv_class {
	PV_CLASS_OK,
	PV_CLASS_CARD_GONE,
	PV_CLASS_CARD,
	PV_CLASS_AUTH,
	PV_CLASS_INPUT,
	PV_CLASS_VERIFY,
	PV_CLASS_STATE,
	PV_CLASS_CANCEL,
	PV_CLASS_INTERNAL
};

#define PV_ENUM(name, class, text) name,
enum pv_err { PV_ERRORS(PV_ENUM) PV_E__COUNT };
#undef PV_ENUM

/*
 * pv_strerror returns a short text for |e|.  It never returns NULL; an
 * out-of-range value gives "unknown error".
 */
const char *pv_strerror(enum pv_err e);

/* pv_errname returns the symbolic name ("PV_E_MALFORMED"); never NULL. */
const char *pv_errname(enum pv_err e);

/* pv_err_class returns the class of |e| (PV_CLASS_INTERNAL when out of
 * range). */
enum pv_class pv_err_class(enum pv_err e);

/* pv_class_name: "card-gone", "card", "auth", "input", "verify", "state",
 * "cancel", "internal", "ok"; never NULL. */
const char *pv_class_name(enum pv_class c);

/*
 * pv_err_card_gone is true when |e| means the card, reader or service went
 * away (class CARD_GONE): work on the card stops and can resume later.
 */
static inline bool
pv_err_card_gone(enum pv_err e)
{
	return pv_err_class(e) == PV_CLASS_CARD_GONE;
}

/*
 * pv_err_aborts is true when |e| must end a run of card commands instead of
 * being taken as the card's answer to one of them: the card went away, a
 * person cancelled, or the host ran out of memory.  A probe that reads what
 * it can (inspection, diag) records any other error and goes on.
 */
static inline bool
pv_err_aborts(enum pv_err e)
{
	enum pv_class c = pv_err_class(e);

	return c == PV_CLASS_CARD_GONE || c == PV_CLASS_CANCEL ||
	    e == PV_E_NOMEM;
}

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
