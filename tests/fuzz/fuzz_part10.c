/*
 * fuzz_part10.c: the reader's part 10 answers (feature list and TLV
 * properties) on hostile bytes.  Whatever parses must stay within its
 * bounds and agree with a re-encoding of the feature list.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcsc/part10.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct part10_features fs;
	struct part10_props pr;
	uint8_t back[PART10_MAX_FEATURES * 6];
	uint32_t code;
	size_t i;

	if (part10_parse_features(data, size, &fs, NULL) == PV_OK) {
		if (fs.n > PART10_MAX_FEATURES || fs.n * 6 != size)
			__builtin_trap();
		for (i = 0; i < fs.n; i++) {
			back[6 * i] = fs.f[i].tag;
			back[6 * i + 1] = 4;
			back[6 * i + 2] = (uint8_t)(fs.f[i].code >> 24);
			back[6 * i + 3] = (uint8_t)(fs.f[i].code >> 16);
			back[6 * i + 4] = (uint8_t)(fs.f[i].code >> 8);
			back[6 * i + 5] = (uint8_t)fs.f[i].code;
			(void)part10_feature_name(fs.f[i].tag);
		}
		if (memcmp(back, data, size) != 0)
			__builtin_trap();
		if (fs.n > 0 && !part10_find(&fs, fs.f[0].tag, &code))
			__builtin_trap();
	}
	if (part10_parse_props(data, size, &pr, NULL) == PV_OK) {
		if (pr.n > PART10_MAX_PROPS)
			__builtin_trap();
		for (i = 0; i < pr.n; i++)
			(void)part10_prop_name(pr.p[i].tag);
	}
	return 0;
}
