/*
 * fuzz_val_aia.c: what an AIA caIssuers URL answers is hostile input
 * (val_certs_decode in issuance/val.c): a certs-only CMS (.p7c, DER or
 * PEM), PEM certificates or one DER certificate.  A success hands out at
 * least one certificate, a failure nothing.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "issuance/val.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *sk = NULL;

	if (val_certs_decode(data, size, &sk, NULL) == PV_OK) {
		if (sk == NULL || sk_X509_num(sk) < 1)
			__builtin_trap();
	} else if (sk != NULL) {
		__builtin_trap();
	}
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return 0;
}
