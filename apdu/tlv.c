/*
 * tlv.c: BER-TLV cursor and builder.
 */
#include <string.h>

#include "apdu/tlv.h"

/* ISO 7816-4 §5.2.2.1: a first byte with b5-b1 all set means more follow. */
static bool
tlv_read_tag(struct buf_cur *c, uint32_t *out)
{
	struct buf_cur t = *c;
	uint32_t tag;
	uint8_t b;
	int i;

	if (!buf_get_u8(&t, &b))
		return false;
	tag = b;
	if ((b & 0x1f) == 0x1f) {
		for (i = 0; ; i++) {
			if (i == 2)
				return false;	/* more than 3 tag bytes */
			if (!buf_get_u8(&t, &b))
				return false;
			tag = (tag << 8) | b;
			if ((b & 0x80) == 0)
				break;
		}
	}
	*c = t;
	*out = tag;
	return true;
}

static bool
tlv_read_len(struct buf_cur *c, size_t *out)
{
	struct buf_cur t = *c;
	uint32_t v;
	uint8_t b;

	if (!buf_get_u8(&t, &b))
		return false;
	if (b < 0x80) {
		v = b;
	} else if (b == 0x81) {
		uint8_t x;
		if (!buf_get_u8(&t, &x))
			return false;
		v = x;
	} else if (b == 0x82) {
		uint16_t x;
		if (!buf_get_u16(&t, &x))
			return false;
		v = x;
	} else if (b == 0x83) {
		if (!buf_get_u24(&t, &v))
			return false;
	} else {
		return false;	/* 80 indefinite, 84+ too long */
	}
	*c = t;
	*out = v;
	return true;
}

bool
tlv_get_any(struct buf_cur *c, uint32_t *tag, struct buf_cur *val)
{
	struct buf_cur t = *c, v;
	uint32_t tg;
	size_t n;

	if (!tlv_read_tag(&t, &tg) || !tlv_read_len(&t, &n) ||
	    !buf_get_sub(&t, n, &v))
		return false;
	*c = t;
	*tag = tg;
	*val = v;
	return true;
}

bool
tlv_get(struct buf_cur *c, uint32_t tag, struct buf_cur *val)
{
	struct buf_cur t = *c, v;
	uint32_t tg;

	if (!tlv_get_any(&t, &tg, &v) || tg != tag)
		return false;
	*c = t;
	*val = v;
	return true;
}

bool
tlv_get_opt(struct buf_cur *c, uint32_t tag, struct buf_cur *val,
    bool *present)
{
	struct buf_cur t = *c, v;
	uint32_t tg;

	*present = false;
	if (buf_done(c))
		return true;
	if (!tlv_get_any(&t, &tg, &v))
		return false;
	if (tg != tag)
		return true;
	*c = t;
	*val = v;
	*present = true;
	return true;
}

bool
tlv_peek_tag(const struct buf_cur *c, uint32_t *tag)
{
	struct buf_cur t = *c;

	return tlv_read_tag(&t, tag);
}

bool
tlv_find(const struct buf_cur *c, uint32_t tag, struct buf_cur *val)
{
	struct buf_cur t = *c, v;
	uint32_t tg;

	while (!buf_done(&t)) {
		if (!tlv_get_any(&t, &tg, &v))
			return false;
		if (tg == tag) {
			*val = v;
			return true;
		}
	}
	return false;
}

size_t
tlv_tag_len(uint32_t tag)
{
	if (tag > 0xffff)
		return 3;
	if (tag > 0xff)
		return 2;
	return 1;
}

size_t
tlv_len_len(size_t n)
{
	if (n < 0x80)
		return 1;
	if (n <= 0xff)
		return 2;
	if (n <= 0xffff)
		return 3;
	return 4;
}

bool
tlv_put_tag(struct buf_out *o, uint32_t tag)
{
	if (tag > 0xffffff) {
		o->err = true;
		return false;
	}
	if (tag > 0xffff && !buf_put_u8(o, (uint8_t)(tag >> 16)))
		return false;
	if (tag > 0xff && !buf_put_u8(o, (uint8_t)(tag >> 8)))
		return false;
	return buf_put_u8(o, (uint8_t)tag);
}

bool
tlv_put_len(struct buf_out *o, size_t n)
{
	uint8_t b[4];
	size_t k;

	if (n > TLV_MAX_LEN) {
		o->err = true;
		return false;
	}
	k = tlv_len_len(n);
	if (k == 1) {
		b[0] = (uint8_t)n;
	} else {
		b[0] = (uint8_t)(0x80 | (k - 1));
		for (size_t i = 1; i < k; i++)
			b[i] = (uint8_t)(n >> (8 * (k - 1 - i)));
	}
	return buf_put(o, b, k);
}

bool
tlv_put(struct buf_out *o, uint32_t tag, const void *val, size_t n)
{
	return tlv_put_tag(o, tag) && tlv_put_len(o, n) && buf_put(o, val, n);
}

bool
tlv_open(struct buf_out *o, uint32_t tag, size_t *mark)
{
	if (!tlv_put_tag(o, tag))
		return false;
	*mark = o->len;
	return buf_put_u8(o, 0);
}

bool
tlv_close(struct buf_out *o, size_t mark)
{
	size_t body, k;
	uint8_t *dst;

	if (o->err)
		return false;
	if (mark >= o->len) {
		o->err = true;
		return false;
	}
	body = o->len - mark - 1;
	if (body > TLV_MAX_LEN) {
		o->err = true;
		return false;
	}
	k = tlv_len_len(body);
	if (k > 1) {
		if (!buf_out_reserve(o, k - 1, &dst))
			return false;
		memmove(o->p + mark + k, o->p + mark + 1, body);
		o->p[mark] = (uint8_t)(0x80 | (k - 1));
		for (size_t i = 1; i < k; i++)
			o->p[mark + i] = (uint8_t)(body >> (8 * (k - 1 - i)));
	} else {
		o->p[mark] = (uint8_t)body;
	}
	return true;
}
