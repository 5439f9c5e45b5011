/*
 * fuzz_obj.h: the round trip shared by the object-codec fuzz targets.
 * Whatever parses must build; the build must parse; building that again
 * must give the same bytes (a fixed point).  Every refusal must carry a
 * message.  Each target supplies two small wrappers over its codec.
 */
#ifndef PV_FUZZ_OBJ_H
#define PV_FUZZ_OBJ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/buf.h"
#include "apdu/err.h"

typedef enum pv_err fuzz_parse_fn(const uint8_t *p, size_t n, void *obj,
    struct pv_why *why);
typedef enum pv_err fuzz_build_fn(const void *obj, struct buf_out *out);

static inline int
fuzz_obj_roundtrip(const uint8_t *data, size_t size, fuzz_parse_fn *parse,
    fuzz_build_fn *build, void *a, void *b)
{
	struct buf_out o1, o2;
	struct pv_why why = { { 0 } };

	if (parse(data, size, a, &why) != PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();	/* every refusal is named */
		return 0;
	}
	if (!buf_out_alloc(&o1, 64, 1 << 20))
		return 0;
	if (!buf_out_alloc(&o2, 64, 1 << 20)) {
		buf_out_cleanup(&o1);
		return 0;
	}
	if (build(a, &o1) != PV_OK || parse(o1.p, o1.len, b, NULL) != PV_OK ||
	    build(b, &o2) != PV_OK || o1.len != o2.len ||
	    memcmp(o1.p, o2.p, o1.len) != 0)
		__builtin_trap();
	/* The build is minimal: never longer than what was parsed. */
	if (o1.len > size)
		__builtin_trap();
	buf_out_cleanup(&o1);
	buf_out_cleanup(&o2);
	return 0;
}

#endif /* PV_FUZZ_OBJ_H */
