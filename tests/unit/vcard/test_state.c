/*
 * test_state.c: the state file: round trip, hostile files, atomic 0600
 * saves, factory values and RESET.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "apdu/tlv.h"
#include "vcard/crypto.h"
#include "vcard/state.h"

static struct vc_state a, b;
static struct buf_out enc;

static void
fini(void)
{
	vc_state_cleanup(&a);
	vc_state_cleanup(&b);
	buf_out_cleanup(&enc);
}

TestSuite(state, .fini = fini);

static void
make_rich(void)
{
	struct vc_key *k;

	cr_assert_eq(vc_state_factory(&a, VC_PROFILE_USB_KEY, 777, NULL), PV_OK);
	k = vc_state_key(&a, 0x9c);
	cr_assert_eq(vc_keygen(0x14, &k->pkey), PV_OK);
	k->alg = 0x14;
	k->pin_policy = 3;
	k->touch_policy = 2;
	k->origin = 1;
	cr_assert_eq(vc_state_obj_put(&a, 0x5fc102, (const uint8_t *)"abc", 3),
	    PV_OK);
	cr_assert_eq(vc_state_obj_put(&a, 0x7e, (const uint8_t *)"\x4f\x00", 2),
	    PV_OK);
	a.pin_left = 1;
	a.puk_default = false;
	cr_assert(buf_out_alloc(&enc, 4096, 1 << 20));
	cr_assert(vc_state_encode(&a, &enc));
}

Test(state, factory_values)
{
	static const uint8_t mgm[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
	    5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

	cr_assert_eq(vc_state_factory(&a, VC_PROFILE_PIV_CARD, 1, NULL), PV_OK);
	cr_assert_eq(memcmp(a.pin, "123456\xff\xff", 8), 0);
	cr_assert_eq(memcmp(a.puk, "12345678", 8), 0);
	cr_assert_eq(a.pin_left, 3);
	cr_assert_eq(a.puk_max, 3);
	cr_assert_eq(a.mgm_alg, VC_ALG_3DES);
	cr_assert_eq(memcmp(a.mgm_key, mgm, 24), 0);
	cr_assert_eq(a.n_objs, 0, "no CHUID, no CCC: a blank card");
	cr_assert_eq(vc_state_key(&a, 0xf9)->alg, 0);
	vc_state_cleanup(&a);
	cr_assert_eq(vc_state_factory(&a, VC_PROFILE_USB_KEY, 1,
	    (const uint8_t *)"\x05\x07\x01"), PV_OK);
	cr_assert_eq(a.mgm_alg, VC_ALG_AES192, "5.7: AES-192 default");
	cr_assert_eq(vc_state_key(&a, 0xf9)->alg, VC_ALG_ECCP256);
	cr_assert_not_null(vc_state_obj(&a, 0x5fff01));
}

Test(state, round_trip)
{
	make_rich();
	cr_assert_eq(vc_state_decode(enc.p, enc.len, &b, NULL), PV_OK);
	cr_assert_eq(b.profile, VC_PROFILE_USB_KEY);
	cr_assert_eq(b.serial, 777);
	cr_assert_eq(b.pin_left, 1);
	cr_assert_not(b.puk_default);
	cr_assert(b.pin_default);
	cr_assert_eq(memcmp(b.mgm_key, a.mgm_key, 24), 0);
	cr_assert_eq(b.n_objs, a.n_objs);
	cr_assert_eq(memcmp(vc_state_obj(&b, 0x5fc102)->data, "abc", 3), 0);
	cr_assert_eq(vc_state_obj(&b, 0x7e)->len, 2);
	for (size_t i = 0; i < VC_N_SLOTS; i++) {
		cr_assert_eq(b.keys[i].ref, a.keys[i].ref);
		cr_assert_eq(b.keys[i].alg, a.keys[i].alg);
		if (a.keys[i].alg != 0)
			cr_assert(EVP_PKEY_eq(a.keys[i].pkey, b.keys[i].pkey) == 1,
			    "key %02x", a.keys[i].ref);
	}
	cr_assert_eq(vc_state_key(&b, 0x9c)->pin_policy, 3);
	cr_assert_eq(vc_state_key(&b, 0x9c)->touch_policy, 2);
}

Test(state, every_truncation_and_flip_fails)
{
	make_rich();
	for (size_t n = 0; n < enc.len; n++) {
		struct pv_why why = { { 0 } };

		cr_assert_neq(vc_state_decode(enc.p, n, &b, &why), PV_OK,
		    "prefix %zu accepted", n);
		cr_assert_neq(why.msg[0], '\0', "a reason for prefix %zu", n);
		cr_assert_eq(b.n_objs, 0, "cleaned up");
	}
	for (size_t i = 5; i < enc.len; i += 7) {
		enc.p[i] ^= 0x01;
		cr_assert_neq(vc_state_decode(enc.p, enc.len, &b, NULL), PV_OK,
		    "flip at %zu accepted", i);
		enc.p[i] ^= 0x01;
	}
	cr_assert_eq(vc_state_decode(enc.p, enc.len, &b, NULL), PV_OK);
}

/* Replaces the trailing digest after a deliberate edit of |p|. */
static size_t
reseal(uint8_t *p, size_t n_body)
{
	unsigned int dl = 0;

	p[n_body] = 0x8f;
	p[n_body + 1] = 32;
	cr_assert(EVP_Digest(p, n_body, p + n_body + 2, &dl, EVP_sha256(), NULL));
	return n_body + 34;
}

static void
expect_bad(const uint8_t *p, size_t n, const char *what)
{
	struct pv_why why = { { 0 } };

	cr_assert_eq(vc_state_decode(p, n, &b, &why), PV_E_MALFORMED, "%s", what);
	cr_assert_not_null(strstr(why.msg, what), "why: %s", why.msg);
}

Test(state, hostile_files)
{
	uint8_t buf[8192];
	size_t n;

	make_rich();
	n = enc.len - 34;		/* body without the digest */
	memcpy(buf, enc.p, enc.len);
	buf[0] = 'X';
	expect_bad(buf, enc.len, "not a vcard state file");
	memcpy(buf, enc.p, enc.len);
	buf[4] = 2;
	expect_bad(buf, enc.len, "version 2");
	memcpy(buf, enc.p, enc.len);
	buf[n + 10] ^= 0xff;
	expect_bad(buf, enc.len, "digest mismatch");
	/* Unknown element appended. */
	memcpy(buf, enc.p, n);
	memcpy(buf + n, "\x99\x01\x00", 3);
	expect_bad(buf, reseal(buf, n + 3), "unknown element 99");
	/* A scalar element twice. */
	memcpy(buf, enc.p, n);
	memcpy(buf + n, "\x81\x04\x00\x00\x00\x01", 6);
	expect_bad(buf, reseal(buf, n + 6), "element 81 twice");
	/* Counters: more left than allowed. */
	memcpy(buf, enc.p, n);
	for (size_t i = 5; i + 6 < n; i++)
		if (buf[i] == 0x85 && buf[i + 1] == 4) {
			buf[i + 3] = 9;
			break;
		}
	expect_bad(buf, reseal(buf, n), "bad element 85");
	/* Only the header. */
	memcpy(buf, "PVVC\x01", 5);
	expect_bad(buf, reseal(buf, 5), "required element missing");
}

Test(state, save_is_atomic_and_private)
{
	char dir[] = "/tmp/pv-vc-state.XXXXXX", path[256], tmp[300];
	struct stat sb;
	struct pv_why why = { { 0 } };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/card.pv", dir);
	cr_assert_eq(vc_state_load(path, &b, &why), PV_E_NO_FILE);
	make_rich();
	cr_assert_eq(vc_state_save(path, &a, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	cr_assert_neq(access(tmp, F_OK), 0, "no temporary left");
	cr_assert_eq(vc_state_load(path, &b, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(b.serial, 777);
	vc_state_cleanup(&b);
	/* Saving again replaces the file. */
	a.serial = 778;
	cr_assert_eq(vc_state_save(path, &a, &why), PV_OK);
	cr_assert_eq(vc_state_load(path, &b, &why), PV_OK);
	cr_assert_eq(b.serial, 778);
	vc_state_cleanup(&b);
	/* A damaged file says where and what. */
	cr_assert_eq(truncate(path, 20), 0);
	cr_assert_eq(vc_state_load(path, &b, &why), PV_E_MALFORMED);
	cr_assert_not_null(strstr(why.msg, path), "%s", why.msg);
	unlink(path);
	/* A directory that does not exist. */
	snprintf(path, sizeof(path), "%s/no/card.pv", dir);
	cr_assert_eq(vc_state_save(path, &a, &why), PV_E_IO);
	rmdir(dir);
}

Test(state, reset_keeps_attestation)
{
	make_rich();
	vc_state_reset_piv(&a);
	cr_assert_eq(vc_state_key(&a, 0x9c)->alg, 0);
	cr_assert_neq(vc_state_key(&a, 0xf9)->alg, 0);
	cr_assert_null(vc_state_obj(&a, 0x5fc102));
	cr_assert_null(vc_state_obj(&a, 0x7e));
	cr_assert_not_null(vc_state_obj(&a, 0x5fff01));
	cr_assert_eq(a.pin_left, 3);
	cr_assert(a.puk_default);
}

Test(state, objects_replace_and_delete)
{
	cr_assert_eq(vc_state_factory(&a, VC_PROFILE_PIV_CARD, 1, NULL), PV_OK);
	cr_assert_eq(vc_state_obj_put(&a, 0x5fc105, (const uint8_t *)"1", 1),
	    PV_OK);
	cr_assert_eq(vc_state_obj_put(&a, 0x5fc10a, (const uint8_t *)"2", 1),
	    PV_OK);
	cr_assert_eq(vc_state_obj_put(&a, 0x5fc105, (const uint8_t *)"33", 2),
	    PV_OK);
	cr_assert_eq(a.n_objs, 2);
	cr_assert_eq(vc_state_obj(&a, 0x5fc105)->len, 2);
	cr_assert_eq(vc_state_obj_put(&a, 0x5fc105, NULL, 0), PV_OK);
	cr_assert_null(vc_state_obj(&a, 0x5fc105));
	cr_assert_eq(vc_state_obj(&a, 0x5fc10a)->data[0], '2');
	cr_assert_eq(vc_state_obj_put(&a, 0x5fc101, NULL, 0), PV_OK,
	    "deleting nothing");
}

Test(state, profile_names)
{
	cr_assert_eq(vc_profile_parse("usb-key"), VC_PROFILE_USB_KEY);
	cr_assert_eq(vc_profile_parse("piv-card"), VC_PROFILE_PIV_CARD);
	cr_assert_eq(vc_profile_parse("mobile"), VC_PROFILE_MOBILE);
	cr_assert_eq(vc_profile_parse("smartcard"), VC_PROFILE_NONE);
	cr_assert_str_eq(vc_profile_name(VC_PROFILE_MOBILE), "mobile");
}
