/*
 * fuzz_ccc.c: the CCC (F0..FD, E3, B4, FE) parser on hostile bytes, with the
 * parse -> build -> parse -> build round trip of fuzz_obj.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "apdu/piv_obj.h"
#include "tests/fuzz/fuzz_obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A card may hold any data model number, but we only build 10 (PIV): a
 * CCC with another one must be refused by the builder, then takes the
 * round trip as if it said 10.
 */
static enum pv_err
parse(const uint8_t *p, size_t n, void *obj, struct pv_why *why)
{
	struct piv_ccc *c = obj;
	struct buf_out o;
	enum pv_err r;

	if ((r = piv_ccc_parse(p, n, c, why)) != PV_OK ||
	    c->data_model == PIV_CCC_DATA_MODEL)
		return r;
	if (!buf_out_alloc(&o, 64, 4096))
		return pv_why_set(why, PV_E_NOMEM, "fuzz: out of memory");
	if (piv_ccc_build(c, &o, NULL) != PV_E_INPUT)
		__builtin_trap();
	buf_out_cleanup(&o);
	c->data_model = PIV_CCC_DATA_MODEL;
	return PV_OK;
}

static enum pv_err
build(const void *obj, struct buf_out *out)
{
	return piv_ccc_build(obj, out, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_ccc a, b;

	return fuzz_obj_roundtrip(data, size, parse, build, &a, &b);
}
