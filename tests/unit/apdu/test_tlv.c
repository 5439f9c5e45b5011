/*
 * test_tlv.c: BER-TLV cursor and builder.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/tlv.h"
#include "tests/support/hex.h"

static uint8_t *
H(const char *hex, size_t *n)
{
	uint8_t *p;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad test hex %s", hex);
	return p;
}

Test(tlv, tags_one_two_three_bytes)
{
	size_t n;
	uint8_t *p = H("53 01 aa 7f49 02 bbcc 5fc102 00", &n);
	struct buf_cur c, v;
	uint32_t tag;

	buf_cur_init(&c, p, n);
	cr_assert(tlv_get_any(&c, &tag, &v));
	cr_assert_eq(tag, 0x53);
	cr_assert_eq(v.len, 1);
	cr_assert(tlv_get(&c, 0x7f49, &v));
	cr_assert_eq(v.len, 2);
	cr_assert(tlv_get(&c, 0x5fc102, &v));
	cr_assert_eq(v.len, 0);
	cr_assert(buf_done(&c));
	free(p);
}

Test(tlv, long_lengths_accepted_and_non_minimal_read)
{
	size_t n;
	uint8_t *p = H("53 81 02 0102  53 82 0001 03  53 83 000001 04", &n);
	struct buf_cur c, v;

	buf_cur_init(&c, p, n);
	cr_assert(tlv_get(&c, 0x53, &v));
	cr_assert_eq(v.len, 2);
	cr_assert(tlv_get(&c, 0x53, &v));
	cr_assert_eq(v.len, 1);
	cr_assert_eq(v.p[0], 3);
	cr_assert(tlv_get(&c, 0x53, &v));
	cr_assert_eq(v.p[0], 4);
	cr_assert(buf_done(&c));
	free(p);
}

/*
 * Hostile headers: every one must fail and leave the cursor untouched.
 * Parameters are copied by value: Criterion re-executes the test binary,
 * so pointers to literals would not survive.
 */
struct hexcase {
	char hex[64];
};

ParameterizedTestParameters(tlv, hostile)
{
	static const struct hexcase cases[] = {
		{ "" },			/* empty */
		{ "53" },			/* no length */
		{ "53 02 01" },		/* length past end */
		{ "53 80 00 00" },		/* indefinite length */
		{ "53 84 00 00 00 01 00" },	/* 4-byte length */
		{ "53 85" },		/* 5-byte length */
		{ "53 81" },		/* truncated 81 */
		{ "53 82 00" },		/* truncated 82 */
		{ "53 83 00 00" },		/* truncated 83 */
		{ "5f" },			/* truncated 2-byte tag */
		{ "5f c1" },		/* truncated 3-byte tag */
		{ "5f c1 82 00" },		/* 4-byte tag */
		{ "53 82 ff ff 00" },	/* huge length, little data */
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct hexcase *arr = cr_malloc(sizeof(cases));

	memcpy(arr, cases, sizeof(cases));
	return cr_make_param_array(struct hexcase, arr, n);
}

ParameterizedTest(struct hexcase *hc, tlv, hostile)
{
	size_t n;
	uint8_t *p = H(hc->hex, &n);
	struct buf_cur c, before, v;
	uint32_t tag = 0x1234;

	buf_cur_init(&c, p, n);
	before = c;
	cr_assert_not(tlv_get_any(&c, &tag, &v), "accepted %s", hc->hex);
	cr_assert_eq(c.p, before.p);
	cr_assert_eq(c.len, before.len);
	cr_assert_eq(tag, 0x1234);
	free(p);
}

Test(tlv, truncation_at_every_byte)
{
	size_t n, k;
	uint8_t *p = H("7f49 82 0104 81 82 0100", &n);
	uint8_t *big = calloc(1, n + 0x100);
	struct buf_cur c, v;
	uint32_t tag;

	/* A 7F49 with a 256-byte modulus, cut at every length. */
	memcpy(big, p, n);
	for (k = 0; k < n + 0x100; k++) {
		buf_cur_init(&c, big, k);
		cr_assert_not(tlv_get_any(&c, &tag, &v), "accepted at %zu", k);
		cr_assert_eq(c.len, k);
	}
	free(p);
	free(big);
}

Test(tlv, wrong_tag_leaves_cursor)
{
	size_t n;
	uint8_t *p = H("70 01 00", &n);
	struct buf_cur c, v;
	bool present = true;

	buf_cur_init(&c, p, n);
	cr_assert_not(tlv_get(&c, 0x71, &v));
	cr_assert_eq(c.len, n);
	cr_assert(tlv_get_opt(&c, 0x71, &v, &present));
	cr_assert_not(present);
	cr_assert(tlv_get_opt(&c, 0x70, &v, &present));
	cr_assert(present);
	cr_assert(buf_done(&c));
	free(p);
}

Test(tlv, builder_widens_lengths_minimally)
{
	static const size_t sizes[] = { 0, 1, 127, 128, 255, 256, 65535, 65536 };
	struct buf_out o;
	struct buf_cur c, v;
	uint32_t tag;
	size_t i, mark, inner;
	uint8_t *body = malloc(65536);

	memset(body, 0x5a, 65536);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cr_assert(buf_out_alloc(&o, 16, 1 << 20));
		cr_assert(tlv_open(&o, 0x53, &mark));
		cr_assert(tlv_open(&o, 0x70, &inner));
		cr_assert(buf_put(&o, body, sizes[i]));
		cr_assert(tlv_close(&o, inner));
		cr_assert(tlv_put(&o, 0xfe, NULL, 0));
		cr_assert(tlv_close(&o, mark));
		cr_assert(buf_out_ok(&o));
		/* Outer length is minimal: body = 70 hdr + data + FE 00. */
		inner = 1 + tlv_len_len(sizes[i]) + sizes[i] + 2;
		cr_assert_eq(o.len, 1 + tlv_len_len(inner) + inner);
		buf_cur_init(&c, o.p, o.len);
		cr_assert(tlv_get(&c, 0x53, &v));
		cr_assert(buf_done(&c));
		cr_assert(tlv_get_any(&v, &tag, &c));
		cr_assert_eq(tag, 0x70);
		cr_assert_eq(c.len, sizes[i]);
		cr_assert(tlv_get(&v, 0xfe, &c));
		cr_assert(buf_done(&v));
		buf_out_cleanup(&o);
	}
	free(body);
}

Test(buf, fixed_builder_errors_stick)
{
	uint8_t mem[4];
	struct buf_out o;

	buf_out_fixed(&o, mem, sizeof(mem));
	cr_assert(buf_put_u16(&o, 0x0102));
	cr_assert_not(buf_put(&o, "abc", 3));
	cr_assert_not(buf_put_u8(&o, 1), "error did not stick");
	cr_assert_not(buf_out_ok(&o));
	cr_assert_eq(o.len, 2);
}

Test(buf, alloc_builder_respects_max)
{
	struct buf_out o;

	cr_assert(buf_out_alloc(&o, 1, 10));
	cr_assert(buf_put_zeros(&o, 10));
	cr_assert_not(buf_put_u8(&o, 1));
	buf_out_cleanup(&o);
	buf_out_cleanup(&o);	/* twice is safe */
}
