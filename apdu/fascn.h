/*
 * fascn.h: the Federal Agency Smart Credential Number (FASC-N).
 *
 * PIV-REFERENCE §5 (TIG SCEPACS): 40 characters of 5 bits (4 data bits,
 * least significant first, then an odd-parity bit), 200 bits, 25 bytes:
 *
 *   SS AC(4) FS SC(4) FS CN(6) FS CS(1) FS ICI(1) FS PI(10) OC(1) OI(4)
 *   POA(1) ES LRC
 *
 * The fields are kept as NUL-terminated strings of ASCII digits, so
 * leading zeros survive ("0032").  Pure functions: no I/O, no allocation.
 */
#ifndef PV_APDU_FASCN_H
#define PV_APDU_FASCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

#define FASCN_LEN	25	/* bytes on the card (CHUID tag 30) */
#define FASCN_STR_LEN	40	/* "S9999F9999F999999F0F1F0000000000300001E" + NUL */
#define FASCN_TEXT_LEN	160	/* room for fascn_describe() */

struct fascn {
	char ac[5];	/* agency code (SP 800-87); PIV-I uses 9999 */
	char sc[5];	/* system code */
	char cn[7];	/* credential number */
	char cs[2];	/* credential series */
	char ici[2];	/* individual credential issue */
	char pi[11];	/* person identifier */
	char oc[2];	/* organizational category */
	char oi[5];	/* organizational identifier */
	char poa[2];	/* person/organization association category */
};

/*
 * fascn_encode writes the 25-byte FASC-N of |f| into |out|.  Every field
 * must hold exactly its number of ASCII digits.  Returns PV_OK, or
 * PV_E_INPUT naming the bad field in |why| (NULL allowed).
 */
enum pv_err fascn_encode(const struct fascn *f, uint8_t out[FASCN_LEN],
    struct pv_why *why);

/*
 * fascn_decode checks and decodes |len| bytes at |in|: length 25, odd
 * parity of every character, the sentinels and separators in their
 * places, digits elsewhere, and the LRC.  Returns PV_OK with *out filled,
 * or PV_E_MALFORMED with the first problem named in |why|
 * ("FASC-N: character 12 has bad parity").
 */
enum pv_err fascn_decode(const uint8_t *in, size_t len, struct fascn *out,
    struct pv_why *why);

/*
 * fascn_to_string writes the string form, sentinels as S, F and E:
 * "S9999F9999F999999F0F1F0000000000300001E" (39 characters + NUL).
 */
void fascn_to_string(const struct fascn *f, char out[FASCN_STR_LEN]);

/*
 * fascn_from_string parses the string form of fascn_to_string.  Returns
 * PV_OK or PV_E_INPUT with the first problem named in |why|.
 */
enum pv_err fascn_from_string(const char *s, struct fascn *out,
    struct pv_why *why);

/*
 * fascn_describe writes a readable form into |out| (|cap| bytes, always
 * NUL-terminated): "agency 9999, system 9999, credential 999999,
 * series 0, issue 1, person 0000000000, org category 3, org 0000,
 * association 1".
 */
void fascn_describe(const struct fascn *f, char *out, size_t cap);

/*
 * fascn_is_nonfederal is true for the PIV-I / non-federal form whose
 * first 14 digits are 9999 9999 999999 (such cards rely on the UUID).
 */
bool fascn_is_nonfederal(const struct fascn *f);

#endif /* PV_APDU_FASCN_H */
