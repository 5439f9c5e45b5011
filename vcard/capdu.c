/*
 * capdu.c: decode a command APDU as a card does (ISO 7816-3 §12.1.3).
 */
#include <string.h>

#include "apdu/buf.h"
#include "vcard/capdu.h"

enum vc_capdu_res
vc_capdu_parse(const uint8_t *p, size_t len, struct vc_capdu *out)
{
	struct buf_cur c, body;
	uint8_t p3, b;
	uint16_t lc16, le16;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&c, p, len);
	if (!buf_get_u8(&c, &out->cla) || !buf_get_u8(&c, &out->ins) ||
	    !buf_get_u8(&c, &out->p1) || !buf_get_u8(&c, &out->p2)) {
		memset(out, 0, sizeof(*out));
		return VC_CAPDU_SHORT;
	}
	if (buf_done(&c)) {			/* case 1: header only */
		out->kase = 1;
		return VC_CAPDU_OK;
	}
	(void)buf_get_u8(&c, &p3);
	if (buf_done(&c)) {			/* case 2S: P3 is Le */
		out->kase = 2;
		out->has_le = true;
		out->le = p3 == 0 ? 256 : p3;
		return VC_CAPDU_OK;
	}
	if (p3 != 0) {				/* case 3S or 4S: P3 is Lc */
		if (!buf_get_sub(&c, p3, &body))
			goto bad;
		out->data = body.p;
		out->lc = body.len;
		if (buf_done(&c)) {
			out->kase = 3;
			return VC_CAPDU_OK;
		}
		if (!buf_get_u8(&c, &b) || !buf_done(&c))
			goto bad;
		out->kase = 4;
		out->has_le = true;
		out->le = b == 0 ? 256 : b;
		return VC_CAPDU_OK;
	}
	/* P3 = 00 followed by more bytes: the extended form. */
	out->extended = true;
	if (!buf_get_u16(&c, &lc16))
		goto bad;
	if (buf_done(&c)) {			/* case 2E: 00 Le1 Le2 */
		out->kase = 2;
		out->has_le = true;
		out->le = lc16 == 0 ? 65536 : lc16;
		return VC_CAPDU_OK;
	}
	if (lc16 == 0 || !buf_get_sub(&c, lc16, &body))
		goto bad;
	out->data = body.p;
	out->lc = body.len;
	if (buf_done(&c)) {			/* case 3E */
		out->kase = 3;
		return VC_CAPDU_OK;
	}
	if (!buf_get_u16(&c, &le16) || !buf_done(&c))
		goto bad;
	out->kase = 4;				/* case 4E: Le1 Le2 after data */
	out->has_le = true;
	out->le = le16 == 0 ? 65536 : le16;
	return VC_CAPDU_OK;
bad:
	memset(out, 0, sizeof(*out));
	return VC_CAPDU_BAD_LENGTH;
}
