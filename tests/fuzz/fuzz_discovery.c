/*
 * fuzz_discovery.c: the Discovery Object (7E { 4F, 5F2F }) parser on hostile bytes, with the
 * parse -> build -> parse -> build round trip of fuzz_obj.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "apdu/piv_obj.h"
#include "tests/fuzz/fuzz_obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum pv_err
parse(const uint8_t *p, size_t n, void *obj, struct pv_why *why)
{
	return piv_discovery_parse(p, n, obj, why);
}

static enum pv_err
build(const void *obj, struct buf_out *out)
{
	return piv_discovery_build(obj, out, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_discovery a, b;

	return fuzz_obj_roundtrip(data, size, parse, build, &a, &b);
}
