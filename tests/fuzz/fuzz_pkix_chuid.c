/*
 * fuzz_pkix_chuid.c: the CHUID signature checker (issuance/chuid.c) on a
 * hostile CHUID: the split into signed bytes and 3E, then the whole CMS
 * check (structure, attributes, signature) with the certificate the CMS
 * itself carries.  The signed bytes are never longer than the input.  An
 * input that is no CHUID goes to the CMS checks as a signature over fixed
 * bytes, so they are reached whatever the input.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "apdu/buf.h"
#include "issuance/chuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf_cur sig;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	X509 *signer = NULL;

	if (chuid_tbs(data, size, &tbs, &tbs_len, &sig, NULL) == PV_OK) {
		if (tbs_len > size || sig.len > size)
			__builtin_trap();
		(void)chuid_verify(tbs, tbs_len, sig.p, sig.len, NULL, &signer,
		    NULL);
		buf_free_secret(tbs, tbs_len);
		X509_free(signer);
	} else if (tbs != NULL) {
		__builtin_trap();	/* a failed split hands nothing out */
	} else {
		static const uint8_t fixed[] = { 0x30, 0x19 };

		(void)chuid_verify(fixed, sizeof(fixed), data, size, NULL,
		    &signer, NULL);
		X509_free(signer);
	}
	ERR_clear_error();
	return 0;
}
