/*
 * fuzz_metadata.c: the YubiKey GET METADATA response parser on hostile
 * bytes: no over-read, every refusal named and leaving nothing behind,
 * and the invariants it promises (retries left <= total).
 */
#include <stddef.h>
#include <stdint.h>

#include "apdu/piv_yk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_yk_metadata m;
	struct pv_why why = { { 0 } };

	if (piv_yk_metadata_parse(data, size, &m, &why) != PV_OK) {
		if (why.msg[0] == '\0' || m.has_alg || m.has_pubkey)
			__builtin_trap();
		return 0;
	}
	if ((m.has_retries && m.retries_left > m.retries_total) ||
	    (m.has_pubkey && (!m.has_alg || m.pubkey.alg != m.alg)) ||
	    (m.has_origin && m.origin != 1 && m.origin != 2))
		__builtin_trap();
	return 0;
}
