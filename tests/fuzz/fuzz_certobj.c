/*
 * fuzz_certobj.c: the certificate container parser and the capped zlib
 * inflate on hostile bytes.  Round trip: a container whose certificate
 * comes out builds again (compressed as it was) and gives back the same
 * DER certificate.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/piv_obj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 8192	/* small cap so the fuzzer meets it often */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_certobj a, b;
	struct buf_out o;
	uint8_t *der = NULL, *der2 = NULL;
	size_t n = 0, n2 = 0;
	struct pv_why why = { { 0 } };

	if (piv_certobj_parse(data, size, &a, &why) != PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();
		return 0;
	}
	if (piv_certobj_cert(&a, CAP, &der, &n, &why) != PV_OK) {
		if (why.msg[0] == '\0' || der != NULL || n != 0)
			__builtin_trap();
		return 0;
	}
	if (n > CAP)
		__builtin_trap();
	if (!buf_out_alloc(&o, 64, 1 << 20)) {
		free(der);
		return 0;
	}
	if (piv_certobj_build(der, n, a.compressed, &o, NULL) != PV_OK ||
	    piv_certobj_parse(o.p, o.len, &b, NULL) != PV_OK ||
	    b.compressed != a.compressed ||
	    piv_certobj_cert(&b, CAP, &der2, &n2, NULL) != PV_OK ||
	    n2 != n || memcmp(der, der2, n) != 0)
		__builtin_trap();
	free(der);
	free(der2);
	buf_out_cleanup(&o);
	return 0;
}
