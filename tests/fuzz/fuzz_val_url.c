/*
 * fuzz_val_url.c: the URLs the validator follows come from certificates
 * and CRLs (issuance/val_url.c): parse and map to a publishing file name.
 * A URL accepted has a host, a port in 1..65535 and a path starting with
 * '/'; a file name has no empty, "." or ".." part.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "issuance/val.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[VAL_URL_MAX + 64], file[VAL_URL_MAX];
	struct val_url u;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (val_url_parse(s, &u, NULL) == PV_OK) {
		if (u.host[0] == '\0' || u.port == 0 || u.port > 65535 ||
		    u.path[0] != '/')
			__builtin_trap();
	}
	if (val_url_file(s, file, sizeof(file), NULL) == PV_OK) {
		if (file[0] == '/' || strstr(file, "//") != NULL ||
		    strcmp(file, "..") == 0 || strncmp(file, "../", 3) == 0 ||
		    strstr(file, "/../") != NULL || strstr(file, "/./") != NULL)
			__builtin_trap();
	}
	return 0;
}
