/*
 * hex.c: hex helpers for tests.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/hex.h"

static int
hex_nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(const char *hex, uint8_t **out, size_t *out_len)
{
	size_t n = strlen(hex), k = 0;
	uint8_t *buf;
	int hi = -1, v;

	*out = NULL;
	*out_len = 0;
	if ((buf = malloc(n / 2 + 1)) == NULL)
		return -1;
	for (; *hex != '\0'; hex++) {
		if (isspace((unsigned char)*hex) || *hex == ':')
			continue;
		if ((v = hex_nibble((unsigned char)*hex)) < 0)
			goto fail;
		if (hi < 0) {
			hi = v;
		} else {
			buf[k++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		goto fail;
	*out = buf;
	*out_len = k;
	return 0;
fail:
	free(buf);
	return -1;
}

char *
hex_encode(const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	char *s;
	size_t i;

	if ((s = malloc(2 * n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = d[p[i] >> 4];
		s[2 * i + 1] = d[p[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}
