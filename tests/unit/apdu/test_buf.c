/*
 * test_buf.c: buf_out under random operation sequences, checked after
 * every step against a plain model (STYLE.md §8, after OpenSSH's sshbuf
 * fuzz test): contents, length within cap within max, sticky errors,
 * wiped bytes after truncation, and TLV open/close lengths.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/buf.h"
#include "apdu/tlv.h"

/* A small deterministic generator (xorshift32), so failures repeat. */
static uint32_t
rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

struct model {
	uint8_t *p;
	size_t len;
	bool err;
	size_t marks[8];
	size_t n_marks;
};

static void
model_put(struct model *m, size_t max, const uint8_t *p, size_t n)
{
	if (m->err)
		return;
	if (n > max || m->len > max - n) {
		m->err = true;
		return;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
}

/* tlv_close in the model: replace the 1-byte placeholder at mark. */
static void
model_close(struct model *m, size_t max, size_t mark)
{
	size_t body, k, i;
	uint8_t hdr[4];

	if (m->err)
		return;
	body = m->len - mark - 1;
	k = tlv_len_len(body);
	if (k > 1 && (k - 1 > max || m->len > max - (k - 1))) {
		m->err = true;
		return;
	}
	if (k == 1) {
		hdr[0] = (uint8_t)body;
	} else {
		hdr[0] = (uint8_t)(0x80 | (k - 1));
		for (i = 1; i < k; i++)
			hdr[i] = (uint8_t)(body >> (8 * (k - 1 - i)));
	}
	memmove(m->p + mark + k, m->p + mark + 1, body);
	memcpy(m->p + mark, hdr, k);
	m->len += k - 1;
}

static void
check(const struct buf_out *o, const struct model *m, bool fixed, size_t max,
    unsigned step)
{
	cr_assert_eq(o->err, m->err, "step %u: err %d model %d", step, o->err,
	    m->err);
	if (m->err)
		return;		/* contents after an error are unspecified */
	cr_assert_eq(o->len, m->len, "step %u: len %zu model %zu", step, o->len,
	    m->len);
	cr_assert(o->len <= o->cap && o->cap <= o->max && o->max == max,
	    "step %u: len %zu cap %zu max %zu", step, o->len, o->cap, o->max);
	cr_assert_eq(o->fixed, fixed);
	cr_assert(o->len == 0 || memcmp(o->p, m->p, o->len) == 0,
	    "step %u: contents differ", step);
}

static void
random_run(uint32_t seed, bool fixed, size_t max)
{
	uint8_t *mem = fixed ? malloc(max) : NULL, data[600];
	struct model m;
	struct buf_out o;
	unsigned step;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.p = calloc(1, max + 8);
	cr_assert_not_null(m.p);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rnd(&seed);
	if (fixed)
		buf_out_fixed(&o, mem, max);
	else
		cr_assert(buf_out_alloc(&o, 1 + rnd(&seed) % 16, max));
	for (step = 0; step < 400; step++) {
		uint32_t op = rnd(&seed) % 9;
		size_t n = rnd(&seed) % (rnd(&seed) % 4 == 0 ? 600 : 24);
		uint8_t b2[2];

		switch (op) {
		case 0:
		case 1:
			buf_put(&o, data, n);
			model_put(&m, max, data, n);
			break;
		case 2:
			buf_put_u8(&o, data[n % 600]);
			model_put(&m, max, &data[n % 600], 1);
			break;
		case 3:
			b2[0] = (uint8_t)(n >> 8);
			b2[1] = (uint8_t)n;
			buf_put_u16(&o, (uint16_t)n);
			model_put(&m, max, b2, 2);
			break;
		case 4: {
			static const uint8_t z[600];

			buf_put_zeros(&o, n);
			model_put(&m, max, z, n);
			break;
		}
		case 5: {
			size_t to = m.len ? rnd(&seed) % (m.len + 1) : 0;
			size_t old = o.len;

			if (m.err || m.n_marks > 0)
				break;	/* keep open marks valid */
			buf_out_truncate(&o, to);
			if (to < old)
				for (i = to; i < old; i++)
					cr_assert_eq(o.p[i], 0, "not wiped");
			m.len = to < m.len ? to : m.len;
			break;
		}
		case 6:
			if (m.n_marks < 8 && !m.err) {
				size_t mark = 0;
				uint8_t t[2] = { 0x70, 0x00 };

				tlv_open(&o, 0x70, &mark);
				model_put(&m, max, t, 2);
				if (!m.err) {
					m.marks[m.n_marks++] = m.len - 1;
					cr_assert_eq(mark, m.len - 1);
				}
			}
			break;
		case 7:
			if (m.n_marks > 0 && !m.err) {
				size_t mark = m.marks[--m.n_marks];

				tlv_close(&o, mark);
				model_close(&m, max, mark);
			}
			break;
		default: {
			uint8_t *dst = NULL;

			if (buf_out_reserve(&o, n, &dst) && n > 0)
				memcpy(dst, data, n);
			model_put(&m, max, data, n);
			break;
		}
		}
		check(&o, &m, fixed, max, step);
	}
	/* Errors stick: nothing succeeds after one. */
	if (o.err) {
		cr_assert_not(buf_put(&o, data, 0));
		cr_assert_not(buf_put_u8(&o, 1));
	}
	buf_out_cleanup(&o);
	cr_assert_eq(o.len, 0);
	cr_assert_null(o.p);
	buf_out_cleanup(&o);		/* twice is safe */
	free(mem);
	free(m.p);
}

Test(buf_out, random_sequences_alloc)
{
	uint32_t seed;

	for (seed = 1; seed <= 200; seed++)
		random_run(seed * 2654435761u, false, 64 + seed * 37 % 3000);
}

Test(buf_out, random_sequences_fixed)
{
	uint32_t seed;

	for (seed = 1; seed <= 200; seed++)
		random_run(seed * 40503u + 7, true, 16 + seed * 53 % 2000);
}

Test(buf_out, take_moves_ownership)
{
	struct buf_out o;
	uint8_t *p, mem[4];
	size_t n;

	cr_assert(buf_out_alloc(&o, 2, 100));
	cr_assert(buf_put(&o, "abcdef", 6));
	cr_assert(buf_out_take(&o, &p, &n));
	cr_assert_eq(n, 6);
	cr_assert_eq(memcmp(p, "abcdef", 6), 0);
	cr_assert_null(o.p);
	buf_free_secret(p, n);
	buf_out_fixed(&o, mem, sizeof(mem));
	cr_assert_not(buf_out_take(&o, &p, &n), "fixed memory is not ours");
	cr_assert_null(p);
	buf_out_cleanup(&o);
}

Test(buf_hex, round_trip_and_refusals)
{
	static const uint8_t b[] = { 0x00, 0x9a, 0xff, 0x10 };
	uint8_t back[4];
	char hex[9];

	buf_hex(b, sizeof(b), hex);
	cr_assert_str_eq(hex, "009aff10");
	cr_assert(buf_unhex(hex, strlen(hex), back, sizeof(back)));
	cr_assert_arr_eq(back, b, sizeof(b));
	cr_assert(buf_unhex("009AFF10", 8, back, sizeof(back)));
	cr_assert_arr_eq(back, b, sizeof(b));
	cr_assert_not(buf_unhex("009aff1", 7, back, sizeof(back)));	/* odd */
	cr_assert_not(buf_unhex("009aff1g", 8, back, sizeof(back)));
	cr_assert_not(buf_unhex(" 09aff10", 8, back, sizeof(back)));
	cr_assert_not(buf_unhex("009aff1000", 10, back, sizeof(back)));
	cr_assert_eq(buf_hexval('F'), 15);
	cr_assert_eq(buf_hexval('x'), -1);
}

Test(buf_dec, strict_decimal)
{
	static const char *const bad[] = { "", "-1", " 1", "+1", "1 ", "1x",
	    "0x10", "18446744073709551616", "99999999999999999999" };
	unsigned long long v = 7;

	cr_assert(buf_dec_uint("0", 10, &v));
	cr_assert_eq(v, 0);
	cr_assert(buf_dec_uint("0010", 10, &v));
	cr_assert_eq(v, 10);
	cr_assert(buf_dec_uint("65535", 65535, &v));
	cr_assert_eq(v, 65535);
	cr_assert(buf_dec_uint("18446744073709551615", ~0ULL, &v));
	cr_assert_eq(v, ~0ULL);
	v = 7;
	cr_assert_not(buf_dec_uint("65536", 65535, &v));
	cr_assert_not(buf_dec_uint(NULL, 10, &v));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(buf_dec_uint(bad[i], ~0ULL, &v), "'%s'", bad[i]);
	cr_assert_eq(v, 7, "unchanged on failure");
}
