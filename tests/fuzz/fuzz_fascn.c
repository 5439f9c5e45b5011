/*
 * fuzz_fascn.c: FASC-N decoding on hostile bytes, with round trips:
 * decoded fields encode back to the same 25 bytes, and the string form
 * parses back to the same fields.  The same input is also tried as a
 * string ("S9999F...E"), so the encoder sees fuzzed fields too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/fascn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
as_string(const uint8_t *data, size_t size)
{
	struct fascn f, g;
	uint8_t enc[FASCN_LEN];
	char *s;

	if (size > 64 || (s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (fascn_from_string(s, &f, NULL) == PV_OK) {
		if (fascn_encode(&f, enc, NULL) != PV_OK ||
		    fascn_decode(enc, sizeof(enc), &g, NULL) != PV_OK ||
		    memcmp(&f, &g, sizeof(f)) != 0)
			__builtin_trap();
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fascn f, g;
	uint8_t enc[FASCN_LEN];
	char s[FASCN_STR_LEN], t[FASCN_TEXT_LEN];
	struct pv_why why = { { 0 } };

	as_string(data, size);
	if (fascn_decode(data, size, &f, &why) != PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();
		return 0;
	}
	if (fascn_encode(&f, enc, NULL) != PV_OK ||
	    memcmp(enc, data, FASCN_LEN) != 0)
		__builtin_trap();
	fascn_to_string(&f, s);
	if (fascn_from_string(s, &g, NULL) != PV_OK ||
	    memcmp(&f, &g, sizeof(f)) != 0)
		__builtin_trap();
	fascn_describe(&f, t, sizeof(t));
	return 0;
}
