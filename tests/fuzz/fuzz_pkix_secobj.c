/*
 * fuzz_pkix_secobj.c: the Security Object checker (issuance/secobj.c) on
 * hostile bytes.  The first input byte picks the target: even = the whole
 * container (BA map, BB CMS, FE) against a fixed signer, odd = the LDS
 * security object parser behind the signature (secobj_check_lds), with a
 * fixed map and the rest of the input as the CHUID container's contents.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "issuance/secobj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One self-signed P-256 certificate, made once (only its key matters). */
static X509 *
fuzz_signer(void)
{
	static X509 *x;
	EVP_PKEY *k;

	if (x != NULL)
		return x;
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	x = X509_new();
	if (k == NULL || x == NULL || !X509_set_pubkey(x, k) ||
	    !X509_sign(x, k, EVP_sha256()))
		__builtin_trap();
	EVP_PKEY_free(k);
	return x;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secobj_entry map[2] = {
		{ 1, SECOBJ_CID_CHUID, NULL, 0 },
		{ 3, SECOBJ_CID_PRINTED_INFO, NULL, 0 },
	};
	struct secobj_entry have[1];
	size_t checked = 0;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		(void)secobj_verify(data + 1, size - 1, fuzz_signer(), NULL, 0,
		    &checked, NULL);
	} else {
		have[0].dg = 0;
		have[0].container_id = SECOBJ_CID_CHUID;
		have[0].data = data + 1;
		have[0].len = size - 1 < 16 ? size - 1 : 16;
		if (secobj_check_lds(data + 1, size - 1, map, 2, have, 1,
		    &checked, NULL) == PV_OK && checked != 1)
			__builtin_trap();
	}
	if (checked > 1)
		__builtin_trap();
	ERR_clear_error();
	return 0;
}
