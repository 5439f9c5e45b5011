/*
 * capdu.h: the card side of ISO 7816-4 §5.1: decode one command APDU.
 *
 * This is the virtual card's own parser, independent of the client-side
 * encoder in apdu/.  It decodes cases 1-4 in short and extended form the
 * way ISO 7816-3 §12.1.3 tells a card to, including the trap of
 * PIV-REFERENCE §1.3: ykpiv sends case-1 commands as five bytes with
 * P3 = 00, which is a case-2 command with Le = 256, never Lc = 0.
 */
#ifndef PV_VCARD_CAPDU_H
#define PV_VCARD_CAPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decoded command.  |data| points into the caller's buffer. */
struct vc_capdu {
	uint8_t cla;
	uint8_t ins;
	uint8_t p1;
	uint8_t p2;
	const uint8_t *data;
	size_t lc;		/* command data length; 0 when absent */
	size_t le;		/* 0 when absent; 256 or 65536 for "all" */
	bool has_le;
	bool extended;		/* Lc and/or Le in the extended form */
	uint8_t kase;		/* ISO case 1, 2, 3 or 4 */
};

enum vc_capdu_res {
	VC_CAPDU_OK = 0,
	VC_CAPDU_SHORT,		/* fewer than 4 bytes */
	VC_CAPDU_BAD_LENGTH,	/* P3/Lc/Le inconsistent with the length */
};

/*
 * vc_capdu_parse decodes |len| bytes at |p| into |out|.  Returns
 * VC_CAPDU_OK, or why it could not (the card answers 6700 then).  |out|
 * is fully written on success and zeroed on failure.
 */
enum vc_capdu_res vc_capdu_parse(const uint8_t *p, size_t len,
    struct vc_capdu *out);

#endif /* PV_VCARD_CAPDU_H */
