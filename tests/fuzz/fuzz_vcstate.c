/*
 * fuzz_vcstate.c: the virtual card's state file decoder (vcard/state.c)
 * on hostile bytes: elements, keys (PKCS#8 through OpenSSL), objects.
 *
 * The file ends in a SHA-256 of everything before it, which a mutation
 * would almost never keep right; so the input is the file without its
 * trailer and the target appends a correct one (8F 20 digest), then
 * also tries the input as it is (the trailer check itself).  Checked:
 * every refusal is named; whatever decodes encodes, decodes again, and
 * encodes to the same bytes (a fixed point).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "apdu/buf.h"
#include "vcard/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_MAX	(1u << 20)

static void
roundtrip(const struct vc_state *st)
{
	struct buf_out a, b;
	struct vc_state again;

	if (!buf_out_alloc(&a, 4096, 1 << 22))
		return;
	if (!buf_out_alloc(&b, 4096, 1 << 22)) {
		buf_out_cleanup(&a);
		return;
	}
	if (!vc_state_encode(st, &a) ||
	    vc_state_decode(a.p, a.len, &again, NULL) != PV_OK)
		__builtin_trap();	/* what was read must write and read */
	if (!vc_state_encode(&again, &b) || a.len != b.len ||
	    memcmp(a.p, b.p, a.len) != 0)
		__builtin_trap();
	vc_state_cleanup(&again);
	buf_out_cleanup(&a);
	buf_out_cleanup(&b);
}

static void
one(const uint8_t *p, size_t n)
{
	struct vc_state st;
	struct pv_why why = { { 0 } };

	if (vc_state_decode(p, n, &st, &why) != PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();	/* every refusal is named */
		return;
	}
	roundtrip(&st);
	vc_state_cleanup(&st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f;
	unsigned int dlen = 0;

	if (size > FILE_MAX)
		return 0;
	one(data, size);
	if ((f = malloc(size + 34)) == NULL)
		return 0;
	if (size > 0)
		memcpy(f, data, size);
	f[size] = 0x8f;
	f[size + 1] = 32;
	if (EVP_Digest(f, size, f + size + 2, &dlen, EVP_sha256(), NULL) ==
	    1 && dlen == 32)
		one(f, size + 34);
	free(f);
	ERR_clear_error();
	return 0;
}
