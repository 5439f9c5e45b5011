/*
 * fuzz_apt.c: the SELECT response (Application Property Template) parser
 * on hostile bytes: no over-read, every refusal named, and what it
 * reports stays inside its arrays.
 */
#include <stddef.h>
#include <stdint.h>

#include "apdu/piv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct piv_apt a;
	struct pv_why why = { { 0 } };

	if (piv_apt_parse(data, size, &a, &why) != PV_OK) {
		if (why.msg[0] == '\0' || a.present)
			__builtin_trap();
		return 0;
	}
	if (!a.present || a.aid_len == 0 || a.aid_len > sizeof(a.aid) ||
	    a.auth_rid_len == 0 || a.auth_rid_len > sizeof(a.auth_rid) ||
	    a.label_len > sizeof(a.label) || a.url_len > sizeof(a.url) ||
	    a.n_algs > PIV_APT_MAX_ALGS)
		__builtin_trap();
	return 0;
}
