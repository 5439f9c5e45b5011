/*
 * fuzz_atr.c: the ATR decoder on hostile bytes.  Whatever parses must
 * explain without crashing, keep its counts inside the ATR, and agree
 * with a recomputed TCK.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcsc/atr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sink(void *ctx, const char *field, const char *hex, const char *meaning)
{
	size_t *n = ctx;

	*n += strlen(field) + strlen(hex) + strlen(meaning);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct atr_info a;
	char hex[ATR_HEX_MAX];
	uint8_t back[ATR_MAX_LEN];
	size_t n = 0, back_len, i;
	uint8_t x = 0;

	if (atr_parse(data, size, &a, NULL) != PV_OK)
		return 0;
	if (a.len != size || a.hist_len > ATR_MAX_HIST ||
	    a.n_groups > ATR_MAX_GROUPS || a.n_ctlv > ATR_MAX_HIST ||
	    a.caps_len > 3)
		__builtin_trap();
	if (a.tck_present) {
		for (i = 1; i < size; i++)
			x ^= data[i];
		if ((x == 0) != a.tck_ok)
			__builtin_trap();
	}
	atr_explain(&a, sink, &n);
	/* Hex round trip. */
	atr_to_hex(data, size, hex);
	if (atr_from_hex(hex, back, &back_len, NULL) != PV_OK ||
	    back_len != size || memcmp(back, data, size) != 0)
		__builtin_trap();
	return 0;
}
