/*
 * hex.h: hex helpers for tests (spaces and newlines in input are ignored).
 */
#ifndef PV_TESTS_HEX_H
#define PV_TESTS_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * hex_decode parses |hex| into a new buffer (*out, caller frees) of
 * *out_len bytes.  Returns 0 on success, -1 on a bad digit or odd count.
 */
int hex_decode(const char *hex, uint8_t **out, size_t *out_len);

/* hex_encode writes lowercase hex of |p| into a new NUL-terminated string. */
char *hex_encode(const uint8_t *p, size_t n);

#endif /* PV_TESTS_HEX_H */
