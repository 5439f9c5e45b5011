/*
 * buf.c: the cursor and builder of buf.h.
 *
 * Bounds are checked by subtraction on the side already known valid
 * (`n > c->len`), never by forming `p + n` first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/buf.h"

void
buf_cur_init(struct buf_cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = p == NULL ? 0 : len;
}

bool
buf_skip(struct buf_cur *c, size_t n)
{
	if (n > c->len)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

bool
buf_get_bytes(struct buf_cur *c, void *dst, size_t n)
{
	if (n > c->len)
		return false;
	if (n > 0)
		memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
	return true;
}

static bool
buf_get_be(struct buf_cur *c, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (n > c->len)
		return false;
	for (i = 0; i < n; i++)
		v = (v << 8) | c->p[i];
	c->p += n;
	c->len -= n;
	*out = v;
	return true;
}

bool
buf_get_u8(struct buf_cur *c, uint8_t *out)
{
	uint32_t v;

	if (!buf_get_be(c, 1, &v))
		return false;
	*out = (uint8_t)v;
	return true;
}

bool
buf_get_u16(struct buf_cur *c, uint16_t *out)
{
	uint32_t v;

	if (!buf_get_be(c, 2, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

bool
buf_get_u24(struct buf_cur *c, uint32_t *out)
{
	return buf_get_be(c, 3, out);
}

bool
buf_get_u32(struct buf_cur *c, uint32_t *out)
{
	return buf_get_be(c, 4, out);
}

bool
buf_peek_u8(const struct buf_cur *c, uint8_t *out)
{
	if (c->len < 1)
		return false;
	*out = c->p[0];
	return true;
}

bool
buf_get_sub(struct buf_cur *c, size_t n, struct buf_cur *out)
{
	if (n > c->len)
		return false;
	out->p = c->p;
	out->len = n;
	c->p += n;
	c->len -= n;
	return true;
}

bool
buf_copy_exact(const struct buf_cur *c, void *dst, size_t n)
{
	if (c->len != n)
		return false;
	if (n > 0)
		memcpy(dst, c->p, n);
	return true;
}

bool
buf_eq_mem(const struct buf_cur *c, const void *p, size_t n)
{
	return c->len == n && (n == 0 || memcmp(c->p, p, n) == 0);
}

void
buf_wipe(void *p, size_t n)
{
	/* A volatile function pointer keeps the compiler from dropping it. */
	static void *(*const volatile memset_v)(void *, int, size_t) = memset;

	if (p != NULL && n > 0)
		(void)memset_v(p, 0, n);
}

void
buf_free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	buf_wipe(p, n);
	free(p);
}

void
buf_out_fixed(struct buf_out *o, uint8_t *mem, size_t cap)
{
	o->p = mem;
	o->len = 0;
	o->cap = cap;
	o->max = cap;
	o->fixed = true;
	o->err = mem == NULL && cap > 0;
}

bool
buf_out_alloc(struct buf_out *o, size_t hint, size_t max)
{
	memset(o, 0, sizeof(*o));
	o->max = max;
	if (hint > max)
		hint = max;
	if (hint == 0)
		hint = 1;
	if ((o->p = malloc(hint)) == NULL) {
		o->err = true;
		return false;
	}
	o->cap = hint;
	return true;
}

bool
buf_out_reserve(struct buf_out *o, size_t n, uint8_t **out)
{
	size_t want, newcap;
	uint8_t *np;

	if (o->err)
		return false;
	if (n > o->max || o->len > o->max - n)
		goto fail;
	want = o->len + n;
	if (want > o->cap) {
		if (o->fixed)
			goto fail;
		newcap = o->cap;
		while (newcap < want)
			newcap = newcap > o->max / 2 ? o->max : newcap * 2;
		/* Grow by copying so the old contents can be wiped. */
		if ((np = malloc(newcap)) == NULL)
			goto fail;
		if (o->len > 0)
			memcpy(np, o->p, o->len);
		buf_free_secret(o->p, o->cap);
		o->p = np;
		o->cap = newcap;
	}
	if (out != NULL)
		*out = o->p + o->len;
	o->len += n;
	return true;
fail:
	o->err = true;
	return false;
}

bool
buf_put(struct buf_out *o, const void *p, size_t n)
{
	uint8_t *dst;

	if (!buf_out_reserve(o, n, &dst))
		return false;
	if (n > 0)
		memcpy(dst, p, n);
	return true;
}

bool
buf_put_u8(struct buf_out *o, uint8_t v)
{
	return buf_put(o, &v, 1);
}

bool
buf_put_u16(struct buf_out *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put(o, b, sizeof(b));
}

bool
buf_put_zeros(struct buf_out *o, size_t n)
{
	uint8_t *dst;

	if (!buf_out_reserve(o, n, &dst))
		return false;
	if (n > 0)
		memset(dst, 0, n);
	return true;
}

void
buf_out_truncate(struct buf_out *o, size_t len)
{
	if (len >= o->len)
		return;
	buf_wipe(o->p + len, o->len - len);
	o->len = len;
}

bool
buf_out_take(struct buf_out *o, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (o->err || o->fixed)
		return false;
	*out = o->p;
	*out_len = o->len;
	memset(o, 0, sizeof(*o));
	return true;
}

void
buf_out_cleanup(struct buf_out *o)
{
	if (o->fixed)
		buf_wipe(o->p, o->len);
	else
		buf_free_secret(o->p, o->cap);
	memset(o, 0, sizeof(*o));
}

void
buf_hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
buf_hex_upper(const uint8_t *p, size_t n, char *out, size_t cap)
{
	static const char d[] = "0123456789ABCDEF";
	size_t i;

	if (n > (cap - 1) / 2)
		n = (cap - 1) / 2;
	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
buf_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
buf_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * n)
		return false;
	for (i = 0; i < n; i++) {
		hi = buf_hexval(s[2 * i]);
		lo = buf_hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool
buf_dec_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')	/* strtoull takes "-1", " 1" */
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}
