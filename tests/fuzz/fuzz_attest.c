/*
 * fuzz_attest.c: the attestation checker (issuance/attest.c) on hostile
 * certificates from a token: the input is a 2-byte big-endian length, the
 * attestation certificate (that many bytes, cut to what there is), then
 * the token's F9 certificate, both judged against the pivstation-vcard
 * attestation root for a fixed key and serial.  A verdict is always
 * given, and "verified" only for a key that is the fixed one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "issuance/attest.h"
#include "vcard/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char roots[64];
static EVP_PKEY *pub;

static void
fuzz_attest_fini(void)
{
	(void)unlink(roots);
}

static void
fuzz_attest_init(void)
{
	FILE *f;
	int fd;

	(void)snprintf(roots, sizeof(roots), "/tmp/pv-fuzz-attest-XXXXXX");
	if ((fd = mkstemp(roots)) < 0 || (f = fdopen(fd, "w")) == NULL ||
	    fputs(vc_attest_root_pem(), f) < 0 || fclose(f) != 0)
		abort();
	(void)atexit(fuzz_attest_fini);
	if ((pub = EVP_EC_gen("P-256")) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attest_result res;
	uint32_t serial = 7800;
	size_t n;

	if (pub == NULL)
		fuzz_attest_init();
	if (size < 2)
		return 0;
	n = (size_t)data[0] << 8 | data[1];
	if (n > size - 2)
		n = size - 2;
	if (attest_verify(roots, data + 2, n, data + 2 + n, size - 2 - n, pub,
	    &serial, &res, NULL) == PV_OK && res.status == ATTEST_VERIFIED)
		__builtin_trap();	/* nobody else holds |pub|'s key */
	ERR_clear_error();
	return 0;
}
