/*
 * fuzz_atr_list.c: the smartcard_list.txt reader and its pattern matcher
 * on a hostile list.  The first byte picks one of a few ATRs to match; the
 * rest is the list text.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pcsc/atr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sink(void *ctx, const char *pattern, const char *text)
{
	size_t *n = ctx;

	*n += strlen(pattern) + strlen(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t yk5[] = { 0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81,
	    0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75,
	    0x62, 0x69, 0x4b, 0x65, 0x79, 0x40 };
	static const uint8_t t0[] = { 0x3b, 0x00 };
	size_t n = 0, matched = 0, skipped = 0;
	const uint8_t *atr;
	size_t atr_len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		atr = yk5;
		atr_len = sizeof(yk5);
	} else {
		atr = t0;
		atr_len = sizeof(t0);
	}
	(void)atr_list_match((const char *)data + 1, size - 1, atr, atr_len,
	    sink, &n, &matched, &skipped);
	if (matched > size || skipped > size)
		__builtin_trap();
	return 0;
}
