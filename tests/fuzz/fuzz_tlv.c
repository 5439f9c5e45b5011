/*
 * fuzz_tlv.c: the BER-TLV cursor on hostile bytes, recursively, and a
 * rebuild round trip: whatever parses must re-encode minimally and parse
 * back to the same tree.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/tlv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
walk(struct buf_cur c, struct buf_out *o, int depth)
{
	struct buf_cur v;
	uint32_t tag;
	size_t mark;

	while (!buf_done(&c)) {
		size_t before = c.len;

		if (!tlv_get_any(&c, &tag, &v)) {
			/* A failed read must not move the cursor. */
			if (c.len != before)
				__builtin_trap();
			return -1;
		}
		if (v.len > before)
			__builtin_trap();
		if (depth < 8 && (tag & 0x20) != 0 && tag <= 0xff) {
			/* Constructed one-byte tag: rebuild nested. */
			if (!tlv_open(o, tag, &mark))
				return -1;
			if (walk(v, o, depth + 1) != 0)
				return -1;
			if (!tlv_close(o, mark))
				return -1;
		} else if (!tlv_put(o, tag, v.p, v.len)) {
			return -1;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf_cur c;
	struct buf_out a, b;

	buf_cur_init(&c, data, size);
	if (!buf_out_alloc(&a, 64, 1 << 20))
		return 0;
	if (walk(c, &a, 0) == 0) {
		/* Round trip: the rebuilt encoding is a fixed point. */
		if (!buf_out_alloc(&b, 64, 1 << 20)) {
			buf_out_cleanup(&a);
			return 0;
		}
		buf_cur_init(&c, a.p, a.len);
		if (walk(c, &b, 0) != 0 || a.len != b.len ||
		    memcmp(a.p, b.p, a.len) != 0)
			__builtin_trap();
		buf_out_cleanup(&b);
	}
	buf_out_cleanup(&a);
	return 0;
}
