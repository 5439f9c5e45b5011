/*
 * fuzz_pubkey.c: the 7F49 public key parser (GENERATE ASYMMETRIC KEY PAIR
 * response) on hostile bytes.  The first input byte picks the algorithm
 * the caller expects; the rest is the card's answer.  Round trip: what
 * parses builds, and the build parses back to the same key.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/piv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t algs[] = { PIV_ALG_RSA1024, PIV_ALG_RSA2048,
    PIV_ALG_RSA3072, PIV_ALG_RSA4096, PIV_ALG_ECC_P256, PIV_ALG_ECC_P384,
    PIV_ALG_ED25519, PIV_ALG_X25519 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_pubkey a, b;
	struct buf_out o;
	struct pv_why why = { { 0 } };
	uint8_t alg;

	if (size < 1)
		return 0;
	alg = algs[data[0] % sizeof(algs)];
	if (piv_pubkey_parse(alg, data + 1, size - 1, &a, &why) != PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();
		return 0;
	}
	if (a.alg != alg || a.modulus_len > sizeof(a.modulus) ||
	    a.exponent_len > sizeof(a.exponent) ||
	    a.point_len > sizeof(a.point))
		__builtin_trap();
	if (!buf_out_alloc(&o, 64, 1 << 16))
		return 0;
	if (piv_pubkey_build(&a, &o, NULL) != PV_OK ||
	    piv_pubkey_parse(alg, o.p, o.len, &b, NULL) != PV_OK ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		__builtin_trap();
	buf_out_cleanup(&o);
	return 0;
}
