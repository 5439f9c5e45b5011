/*
 * vpcd.c: vpcd message framing and dispatch to the card.
 */
#include <stdlib.h>
#include <string.h>

#include "vcard/vpcd.h"

bool
vc_frame_init(struct vc_frame_dec *d)
{
	memset(d, 0, sizeof(*d));
	d->msg = malloc(VC_VPCD_MSG_MAX);
	return d->msg != NULL;
}

void
vc_frame_cleanup(struct vc_frame_dec *d)
{
	buf_free_secret(d->msg, VC_VPCD_MSG_MAX);
	memset(d, 0, sizeof(*d));
}

size_t
vc_frame_feed(struct vc_frame_dec *d, const uint8_t *p, size_t n)
{
	size_t used = 0, take;

	if (d->done) {
		d->done = false;
		d->hdr_got = 0;
		d->need = d->got = 0;
	}
	while (d->hdr_got < 2 && used < n)
		d->hdr[d->hdr_got++] = p[used++];
	if (d->hdr_got < 2)
		return used;
	d->need = (size_t)d->hdr[0] << 8 | d->hdr[1];
	take = d->need - d->got;
	if (take > n - used)
		take = n - used;
	if (take > 0) {
		memcpy(d->msg + d->got, p + used, take);
		d->got += take;
		used += take;
	}
	if (d->got == d->need)
		d->done = true;
	return used;
}

bool
vc_frame_put(struct buf_out *o, const uint8_t *p, size_t n)
{
	if (n > VC_VPCD_MSG_MAX) {
		o->err = true;
		return false;
	}
	return buf_put_u16(o, (uint16_t)n) && buf_put(o, p, n);
}

enum vc_action
vc_vpcd_message(struct vc_card *c, const uint8_t *msg, size_t len,
    struct buf_out *reply, enum vc_msg_kind *kind, struct vc_cost *cost)
{
	struct buf_out rsp;
	uint8_t atr[33];
	enum vc_action act;
	size_t n, mark;

	if (cost != NULL)
		memset(cost, 0, sizeof(*cost));
	if (len == 1) {
		switch (msg[0]) {
		case VC_VPCD_POWER_OFF:
		case VC_VPCD_POWER_ON:
		case VC_VPCD_RESET:
			/* Volatile state is gone after any of them. */
			vc_card_reset(c);
			*kind = VC_MSG_POWER;
			break;
		case VC_VPCD_GET_ATR:
			n = vc_card_atr(c, atr);
			vc_frame_put(reply, atr, n);
			*kind = VC_MSG_ATR;
			break;
		default:
			*kind = VC_MSG_UNKNOWN;
			break;
		}
		return VC_ACT_REPLY;
	}
	*kind = VC_MSG_APDU;
	/* Build the response after a 2-byte hole for its length. */
	mark = reply->len;
	if (!buf_put_u16(reply, 0))
		return VC_ACT_REPLY;
	if (!buf_out_alloc(&rsp, 512, 65538)) {
		reply->err = true;
		return VC_ACT_REPLY;
	}
	act = vc_card_apdu(c, msg, len, &rsp, cost);
	if (act != VC_ACT_REPLY || rsp.len == 0) {
		buf_out_truncate(reply, mark);
		if (act == VC_ACT_REPLY)	/* never a zero-length reply */
			vc_frame_put(reply, (const uint8_t *)"\x6f\x00", 2);
		goto out;
	}
	if (rsp.len > VC_VPCD_MSG_MAX) {
		buf_out_truncate(reply, mark);
		vc_frame_put(reply, (const uint8_t *)"\x65\x81", 2);
		goto out;
	}
	reply->p[mark] = (uint8_t)(rsp.len >> 8);
	reply->p[mark + 1] = (uint8_t)rsp.len;
	buf_put(reply, rsp.p, rsp.len);
out:
	buf_out_cleanup(&rsp);
	return act;
}
