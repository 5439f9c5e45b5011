/*
 * fuzz_val_crl.c: a CRL from a distribution point is hostile input
 * (issuance/val_crl.c): parse, index (reasons, indirect certificate
 * issuers, scope, numbers), then look serials up.  The index must be
 * sorted and every entry found again by its own serial.
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/err.h>

#include "issuance/val_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct val_crl *c = NULL;
	size_t i;

	if (val_crl_new(data, size, "fuzz", &c, NULL) != PV_OK) {
		if (c != NULL)
			__builtin_trap();
		ERR_clear_error();
		return 0;
	}
	for (i = 0; i < c->n_ent; i++) {
		const struct val_crl_ent *e = &c->ent[i];

		if (i > 0 && ASN1_INTEGER_cmp(c->ent[i - 1].serial,
		    e->serial) > 0)
			__builtin_trap();
		if (e->issuer < 0 && val_crl_lookup(c, e->serial,
		    X509_CRL_get_issuer(c->crl)) == NULL)
			__builtin_trap();
		if (e->issuer >= (int)c->n_issuers)
			__builtin_trap();
	}
	val_crl_free(c);
	ERR_clear_error();
	return 0;
}
