/*
 * fuzz_ykadmin.c: the YubiKey ADMIN DATA (5FFF00) and stored management
 * key (5FC109, 88 { 89 }) parsers of issuance/yk_protected.h on hostile
 * bytes.  ADMIN DATA: whatever parses builds, the build parses to the
 * same members and builds to the same bytes (a fixed point, never longer
 * than the input); an empty build only for no members.  The stored key:
 * parsed for each algorithm, a key only of that algorithm's length.
 * Every refusal carries a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/buf.h"
#include "issuance/yk_protected.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
admin(const uint8_t *data, size_t size)
{
	struct ykp_admin a, b;
	struct ykp_token t;
	struct buf_out o1, o2;
	struct pv_why why = { { 0 } };

	ykp_token_from(data, size, &t);
	if (ykp_admin_parse(data, size, &a, &why) != PV_OK) {
		if (why.msg[0] == '\0' || !t.malformed || ykp_has_key(&t))
			__builtin_trap();
		return;
	}
	if (t.malformed || (t.stored && t.derived))
		__builtin_trap();
	if (!buf_out_alloc(&o1, 64, 1024))
		return;
	if (!buf_out_alloc(&o2, 64, 1024)) {
		buf_out_cleanup(&o1);
		return;
	}
	if (ykp_admin_build(&a, &o1) != PV_OK)
		__builtin_trap();
	if (o1.len == 0) {
		if (a.has_flags || a.has_salt || a.has_time)
			__builtin_trap();
	} else if (ykp_admin_parse(o1.p, o1.len, &b, NULL) != PV_OK ||
	    a.has_flags != b.has_flags || a.flags != b.flags ||
	    a.has_salt != b.has_salt ||
	    memcmp(a.salt, b.salt, sizeof(a.salt)) != 0 ||
	    a.has_time != b.has_time || a.pin_time != b.pin_time ||
	    ykp_admin_build(&b, &o2) != PV_OK || o1.len != o2.len ||
	    memcmp(o1.p, o2.p, o1.len) != 0 || o1.len > size) {
		__builtin_trap();
	}
	buf_out_cleanup(&o1);
	buf_out_cleanup(&o2);
}

static void
stored(const uint8_t *data, size_t size)
{
	static const enum mgmtkey_alg algs[] = { MGMTKEY_3DES, MGMTKEY_AES128,
	    MGMTKEY_AES192, MGMTKEY_AES256 };
	struct mgmtkey k;
	struct pv_why why;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		memset(&why, 0, sizeof(why));
		if (ykp_stored_key_parse(data, size, algs[i], &k, &why) ==
		    PV_OK) {
			if (k.alg != algs[i] || k.len != mgmtkey_alg_len(algs[i]))
				__builtin_trap();
		} else if (why.msg[0] == '\0' || k.len != 0) {
			__builtin_trap();
		}
		mgmtkey_clear(&k);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	admin(data, size);
	stored(data, size);
	return 0;
}
