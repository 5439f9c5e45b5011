/*
 * vpcd.h: the vsmartcard vpcd protocol (PIV-REFERENCE §11.2).
 *
 * Every message in both directions is a 2-byte big-endian length and that
 * many bytes.  A 1-byte message from vpcd is a control code (00 power
 * off, 01 power on, 02 reset, 04 get ATR; only 04 is answered); any other
 * length is a command APDU answered by one response APDU.  A reply of
 * length 0 would make vpcd drop the card, so the card never sends one.
 */
#ifndef PV_VCARD_VPCD_H
#define PV_VCARD_VPCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"
#include "vcard/card.h"

#define VC_VPCD_POWER_OFF	0x00
#define VC_VPCD_POWER_ON	0x01
#define VC_VPCD_RESET		0x02
#define VC_VPCD_GET_ATR		0x04
#define VC_VPCD_MSG_MAX		0xffff

/*
 * A stream decoder: bytes in, whole messages out.  The message buffer is
 * allocated once (VC_VPCD_MSG_MAX bytes).
 */
struct vc_frame_dec {
	uint8_t hdr[2];
	size_t hdr_got;
	size_t need;		/* length of the message being read */
	size_t got;
	bool done;		/* msg[0..need) is a complete message */
	uint8_t *msg;
};

/* vc_frame_init allocates the buffer; false when out of memory. */
bool vc_frame_init(struct vc_frame_dec *d);

/* vc_frame_cleanup wipes and frees; safe on a zeroed struct. */
void vc_frame_cleanup(struct vc_frame_dec *d);

/*
 * vc_frame_feed consumes bytes of |p|,|n| up to the end of the current
 * message and returns how many it took.  When it sets d->done, the
 * message is d->msg[0..d->need); the next call starts a new message.
 */
size_t vc_frame_feed(struct vc_frame_dec *d, const uint8_t *p, size_t n);

/* vc_frame_put appends |p|,|n| as one framed message (n <= 65535). */
bool vc_frame_put(struct buf_out *o, const uint8_t *p, size_t n);

/* What one vpcd message was, for the caller's statistics. */
enum vc_msg_kind {
	VC_MSG_APDU = 0,
	VC_MSG_ATR,
	VC_MSG_POWER,		/* on, off or reset */
	VC_MSG_UNKNOWN,		/* an unknown control code: ignored */
};

/*
 * vc_vpcd_message handles one decoded message for card |c|: it applies
 * power events, answers ATR requests and runs APDUs.  A reply, if any,
 * is appended to |reply| already framed.  *kind says what the message
 * was; |cost| (NULL allowed) receives the APDU's cost.  The return value
 * is the card's action (card.h); control messages always give
 * VC_ACT_REPLY, with or without a reply.
 */
enum vc_action vc_vpcd_message(struct vc_card *c, const uint8_t *msg,
    size_t len, struct buf_out *reply, enum vc_msg_kind *kind,
    struct vc_cost *cost);

#endif /* PV_VCARD_VPCD_H */
