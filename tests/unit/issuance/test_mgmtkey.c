/*
 * test_mgmtkey.c: per-card 9B keys from the station master secret
 * (issuance/mgmtkey.c), with the RFC 5869 vectors for the HKDF wrapper.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/mgmtkey.h"
#include "tests/support/hex.h"

struct hkdfcase {
	char ikm[200];
	char salt[200];
	char info[200];
	char okm[200];
};

/* RFC 5869 Appendix A, test cases 1-3 (SHA-256). */
ParameterizedTestParameters(mgmtkey, rfc5869)
{
	static const struct hkdfcase cases[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  "000102030405060708090a0b0c",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4"
		  "c5bf34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
		  "1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b"
		  "3c3d3e3f404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d"
		  "7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b"
		  "9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccd"
		  "cecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaeb"
		  "ecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19af"
		  "a97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9"
		  "aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c73"
		  "8d2d9d201395faa4b61a96c8" },
	};

	return cr_make_param_array(struct hkdfcase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct hkdfcase *c, mgmtkey, rfc5869)
{
	uint8_t *ikm, *salt, *info, *okm, out[128];
	size_t ikm_len, salt_len, info_len, okm_len;
	struct pv_why why = { "" };

	cr_assert_eq(hex_decode(c->ikm, &ikm, &ikm_len), 0);
	cr_assert_eq(hex_decode(c->salt, &salt, &salt_len), 0);
	cr_assert_eq(hex_decode(c->info, &info, &info_len), 0);
	cr_assert_eq(hex_decode(c->okm, &okm, &okm_len), 0);
	cr_assert_eq(mgmtkey_hkdf_sha256(ikm, ikm_len, salt, salt_len, info,
	    info_len, out, okm_len, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(memcmp(out, okm, okm_len), 0);
	free(ikm);
	free(salt);
	free(info);
	free(okm);
}

static const uint8_t master[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};
static const uint8_t salt[] = "station-salt";
static const uint8_t serial[4] = { 0x00, 0xbc, 0x61, 0x4e };	/* 12345678 */

Test(mgmtkey, derive_known_answer_and_determinism)
{
	/* HKDF-SHA256(master, "station-salt", "pivstation 9B v1" || serial),
	 * computed independently. */
	static const char want[] =
	    "ebb8097a5b49f0cf5e15d2a3f3f28e35f752a84c294d3a12980c3ee6757fa8e5";
	struct mgmtkey a, b;
	uint8_t *w;
	size_t wn;

	cr_assert_eq(mgmtkey_derive(master, 32, salt, sizeof(salt) - 1, serial,
	    4, MGMTKEY_AES256, &a, NULL), PV_OK);
	cr_assert_eq(a.len, 32);
	cr_assert_eq(a.alg, MGMTKEY_AES256);
	cr_assert_eq(hex_decode(want, &w, &wn), 0);
	cr_assert_eq(memcmp(a.key, w, 32), 0);
	free(w);
	cr_assert_eq(mgmtkey_derive(master, 32, salt, sizeof(salt) - 1, serial,
	    4, MGMTKEY_AES256, &b, NULL), PV_OK);
	cr_assert_eq(memcmp(a.key, b.key, 32), 0);
	/* another card, another station salt: other keys */
	cr_assert_eq(mgmtkey_derive(master, 32, salt, sizeof(salt) - 1,
	    (const uint8_t *)"\x00\xbc\x61\x4f", 4, MGMTKEY_AES256, &b, NULL),
	    PV_OK);
	cr_assert_neq(memcmp(a.key, b.key, 32), 0);
	cr_assert_eq(mgmtkey_derive(master, 32, (const uint8_t *)"x", 1, serial,
	    4, MGMTKEY_AES256, &b, NULL), PV_OK);
	cr_assert_neq(memcmp(a.key, b.key, 32), 0);
	mgmtkey_clear(&a);
	cr_assert_eq(a.len, 0);
	mgmtkey_clear(&b);
}

Test(mgmtkey, lengths_per_algorithm)
{
	struct mgmtkey k;

	cr_assert_eq(mgmtkey_derive(master, 32, NULL, 0, serial, 4,
	    MGMTKEY_AES128, &k, NULL), PV_OK);
	cr_assert_eq(k.len, 16);
	cr_assert_eq(mgmtkey_derive(master, 32, NULL, 0, serial, 4,
	    MGMTKEY_AES192, &k, NULL), PV_OK);
	cr_assert_eq(k.len, 24);
	cr_assert_eq(mgmtkey_derive(master, 32, NULL, 0, serial, 4,
	    MGMTKEY_3DES, &k, NULL), PV_OK);
	cr_assert_eq(k.len, 24);
	cr_assert_eq(mgmtkey_derive(master, 32, NULL, 0, serial, 4,
	    (enum mgmtkey_alg)0x07, &k, NULL), PV_E_INVAL);
	cr_assert_eq(k.len, 0);
	mgmtkey_clear(&k);
}

static int
odd_parity(uint8_t b)
{
	return __builtin_popcount(b) & 1;
}

Test(mgmtkey, tdes_keys_have_parity_and_are_not_weak)
{
	struct mgmtkey k;
	uint8_t id[16];
	int i, j;

	/* many cards (GUIDs): each key has odd parity, no weak part, and
	 * three different DES keys */
	for (i = 0; i < 300; i++) {
		memset(id, 0, sizeof(id));
		id[0] = (uint8_t)i;
		id[1] = (uint8_t)(i >> 8);
		cr_assert_eq(mgmtkey_derive(master, 32, salt, 4, id, 16,
		    MGMTKEY_3DES, &k, NULL), PV_OK);
		for (j = 0; j < 24; j++)
			cr_assert(odd_parity(k.key[j]), "byte %d of card %d", j, i);
		cr_assert(!mgmtkey_des_weak(k.key));
		cr_assert(!mgmtkey_des_weak(k.key + 8));
		cr_assert(!mgmtkey_des_weak(k.key + 16));
		cr_assert_neq(memcmp(k.key, k.key + 8, 8), 0);
		cr_assert_neq(memcmp(k.key + 8, k.key + 16, 8), 0);
	}
	mgmtkey_clear(&k);
}

Test(mgmtkey, weak_key_table)
{
	cr_assert(mgmtkey_des_weak((const uint8_t *)"\x01\x01\x01\x01\x01\x01"
	    "\x01\x01"));
	cr_assert(mgmtkey_des_weak((const uint8_t *)"\x00\x00\x00\x00\x00\x00"
	    "\x00\x00"));	/* parity ignored */
	cr_assert(mgmtkey_des_weak((const uint8_t *)"\xe0\xfe\xe0\xfe\xf1\xfe"
	    "\xf1\xfe"));
	cr_assert(!mgmtkey_des_weak(mgmtkey_yubikey_default));
}

Test(mgmtkey, refuses_short_master_and_bad_ids)
{
	struct mgmtkey k;
	uint8_t big[MGMTKEY_ID_MAX + 1] = { 0 };
	struct pv_why why = { "" };

	cr_assert_eq(mgmtkey_derive(master, 31, NULL, 0, serial, 4,
	    MGMTKEY_AES256, &k, &why), PV_E_CONFIG);
	cr_assert(strstr(why.msg, "master secret") != NULL, "%s", why.msg);
	cr_assert_eq(mgmtkey_derive(master, 32, NULL, 0, serial, 0,
	    MGMTKEY_AES256, &k, NULL), PV_E_INVAL);
	cr_assert_eq(mgmtkey_derive(master, 32, NULL, 0, big, sizeof(big),
	    MGMTKEY_AES256, &k, NULL), PV_E_INVAL);
}

Test(mgmtkey, strongest_algorithm_the_token_has)
{
	enum mgmtkey_alg a;

	cr_assert_eq(mgmtkey_caps_yubikey(5, 4, 1), MGMTKEY_CAP_3DES);
	cr_assert_eq(mgmtkey_caps_yubikey(4, 3, 7), MGMTKEY_CAP_3DES);
	cr_assert_eq(mgmtkey_pick(mgmtkey_caps_yubikey(5, 4, 1), &a), PV_OK);
	cr_assert_eq(a, MGMTKEY_3DES);
	cr_assert_eq(mgmtkey_pick(mgmtkey_caps_yubikey(5, 4, 2), &a), PV_OK);
	cr_assert_eq(a, MGMTKEY_AES256);
	cr_assert_eq(mgmtkey_pick(mgmtkey_caps_yubikey(5, 7, 1), &a), PV_OK);
	cr_assert_eq(a, MGMTKEY_AES256);
	cr_assert_eq(mgmtkey_pick(MGMTKEY_CAP_3DES | MGMTKEY_CAP_AES128, &a),
	    PV_OK);
	cr_assert_eq(a, MGMTKEY_AES128);
	cr_assert_eq(mgmtkey_pick(0, &a), PV_E_NOT_SUPPORTED);
	cr_assert_str_eq(mgmtkey_alg_name(MGMTKEY_AES192), "AES-192");
}
