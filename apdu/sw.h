/*
 * sw.h: ISO 7816-4 / SP 800-73-4 status words and instruction names.
 *
 * A status word is data, not a transport error (apdu.h): PIV wrappers turn
 * it into an enum pv_err through sw_to_err() and nothing else, so one
 * table decides what "63C2" or "6A82" means for every caller.
 */
#ifndef PV_APDU_SW_H
#define PV_APDU_SW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

#define SW_OK			0x9000
#define SW_MORE_DATA		0x6100	/* 61XX: XX more bytes */
#define SW_VERIFY_FAIL		0x6300
#define SW_RETRIES		0x63c0	/* 63CX: X tries left */
#define SW_WRONG_LENGTH		0x6700
#define SW_SECURITY		0x6982
#define SW_BLOCKED		0x6983
#define SW_DATA_INVALID		0x6984
#define SW_CONDITIONS		0x6985
#define SW_BAD_DATA		0x6a80
#define SW_FUNC_NOT_SUPPORTED	0x6a81
#define SW_NOT_FOUND		0x6a82
#define SW_NO_SPACE		0x6a84
#define SW_BAD_P1P2		0x6a86
#define SW_REF_NOT_FOUND	0x6a88
#define SW_WRONG_P1P2		0x6b00
#define SW_WRONG_LE		0x6c00	/* 6CXX: resend with Le = XX */
#define SW_INS_NOT_SUPPORTED	0x6d00
#define SW_CLA_NOT_SUPPORTED	0x6e00
#define SW_UNKNOWN		0x6f00

/* sw_is_ok is true for 9000 only (61XX is resolved by the engine). */
bool sw_is_ok(uint16_t sw);

/*
 * sw_name returns a short name for |sw| ("ok", "not found", "wrong PIN"
 * for any 63CX); "unknown status" when not in the table.  Never NULL,
 * static storage.
 */
const char *sw_name(uint16_t sw);

/*
 * sw_text writes a plain-language sentence for |sw| into |out| (|cap|
 * bytes, always NUL-terminated when cap > 0): "6982: security status not
 * satisfied — PIN not verified or touch needed".  Families with a count
 * (61XX, 63CX, 6CXX) include it.  Returns |out|.
 */
const char *sw_text(uint16_t sw, char *out, size_t cap);

/*
 * sw_to_err maps a final status word to an error: PV_OK for 9000,
 * PV_E_PIN_WRONG for 63CX and 6300 (with *retries = X when |retries| is
 * not NULL; 6300 gives -1, no counter), PV_E_BLOCKED for 6983,
 * PV_E_NOT_FOUND for 6A82 and 6A88, PV_E_SECURITY for 6982,
 * PV_E_NOT_SUPPORTED for 6A81/6D00/6E00, PV_E_BAD_P1P2 for 6A86/6B00,
 * PV_E_BAD_DATA for 6A80 and 6984, PV_E_NO_SPACE for 6A84,
 * PV_E_WRONG_LENGTH for 6700, PV_E_CONDITIONS for 6985, PV_E_SW for any
 * other.  *retries is left untouched except for 63CX/6300.
 */
enum pv_err sw_to_err(uint16_t sw, int *retries);

/*
 * apdu_ins_name names instruction |ins| ("GET DATA", "VERIFY", YubiKey
 * "GET VERSION"...), or returns NULL when unknown.  Static storage.
 */
const char *apdu_ins_name(uint8_t ins);

#endif /* PV_APDU_SW_H */
