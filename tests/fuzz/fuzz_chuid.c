/*
 * fuzz_chuid.c: the CHUID parser on hostile bytes, with a round trip:
 * whatever parses builds, the build parses to the same fields, and a
 * second build is byte-identical (a fixed point).  The signed-bytes
 * function must agree with the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/piv_obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_view(const struct buf_cur *a, const struct buf_cur *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int
same(const struct piv_chuid *a, const struct piv_chuid *b)
{
	return a->has_buffer_len == b->has_buffer_len &&
	    (!a->has_buffer_len || same_view(&a->buffer_len, &b->buffer_len)) &&
	    memcmp(a->fascn, b->fascn, sizeof(a->fascn)) == 0 &&
	    a->has_org_id == b->has_org_id &&
	    (!a->has_org_id || same_view(&a->org_id, &b->org_id)) &&
	    a->has_duns == b->has_duns &&
	    (!a->has_duns || same_view(&a->duns, &b->duns)) &&
	    memcmp(a->guid, b->guid, sizeof(a->guid)) == 0 &&
	    strcmp(a->expiry, b->expiry) == 0 &&
	    a->has_cardholder_uuid == b->has_cardholder_uuid &&
	    memcmp(a->cardholder_uuid, b->cardholder_uuid,
	    sizeof(a->cardholder_uuid)) == 0 &&
	    same_view(&a->signature, &b->signature);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_chuid a, b;
	struct buf_out o1, o2, t;
	struct pv_why why = { { 0 } };
	struct fascn f;
	enum pv_err r;

	r = piv_chuid_parse(data, size, &a, &why);
	if (!buf_out_alloc(&t, 64, 1 << 20))
		return 0;
	/* The signed bytes exist exactly when the CHUID parses. */
	if ((piv_chuid_tbs(data, size, &t, NULL) == PV_OK) != (r == PV_OK))
		__builtin_trap();
	buf_out_cleanup(&t);
	if (r != PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();	/* every failure is named */
		return 0;
	}
	(void)fascn_decode(a.fascn, sizeof(a.fascn), &f, NULL);
	if (!buf_out_alloc(&o1, 64, 1 << 20))
		return 0;
	if (!buf_out_alloc(&o2, 64, 1 << 20)) {
		buf_out_cleanup(&o1);
		return 0;
	}
	if (piv_chuid_build(&a, &o1, NULL) != PV_OK ||
	    piv_chuid_parse(o1.p, o1.len, &b, NULL) != PV_OK || !same(&a, &b) ||
	    piv_chuid_build(&b, &o2, NULL) != PV_OK || o1.len != o2.len ||
	    memcmp(o1.p, o2.p, o1.len) != 0)
		__builtin_trap();
	buf_out_cleanup(&o1);
	buf_out_cleanup(&o2);
	return 0;
}
