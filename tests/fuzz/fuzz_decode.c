/*
 * fuzz_decode.c: `pivstation decode` on hostile conversations, text and
 * JSON output.  The first byte picks the output form; the rest is the
 * conversation text.  Checked: the output never contains a NUL, success
 * and failure are the only outcomes, and for JSON a successful run is
 * one valid JSON document (parsed back with json-c).
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf_out out;
	struct pv_why why;
	enum pv_err r;
	bool json;

	if (size < 1)
		return 0;
	json = (data[0] & 1) != 0;
	pv_why_clear(&why);
	if (!buf_out_alloc(&out, 256, 1u << 24))
		return 0;
	r = decode_conversation((const char *)data + 1, size - 1, json, &out,
	    &why);
	if (r != PV_OK && r != PV_E_INPUT && r != PV_E_TOO_LONG &&
	    r != PV_E_NOMEM)
		__builtin_trap();
	if (r != PV_OK && why.msg[0] == '\0' && r == PV_E_INPUT)
		__builtin_trap();	/* bad input must say what was wrong */
	if (out.len > 0 && memchr(out.p, '\0', out.len) != NULL)
		__builtin_trap();
	if (r == PV_OK && json) {
		struct json_tokener *tok = json_tokener_new_ex(64);
		struct json_object *o;

		if (out.len < 4 || memcmp(out.p + out.len - 4, "\n]}\n", 4) != 0)
			__builtin_trap();
		if (tok != NULL && out.len <= INT32_MAX) {
			o = json_tokener_parse_ex(tok, (const char *)out.p,
			    (int)out.len);
			if (o == NULL || !json_object_is_type(o, json_type_object))
				__builtin_trap();	/* the JSON must parse */
			json_object_put(o);
		}
		if (tok != NULL)
			json_tokener_free(tok);
	}
	buf_out_cleanup(&out);
	return 0;
}
