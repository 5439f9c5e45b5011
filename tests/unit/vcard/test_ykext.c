/*
 * test_ykext.c: YubiKey extensions on the usb-key profile, IMPORT on the
 * mobile token, and the faults.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apdu/tlv.h"
#include "tests/unit/vcard/harness.h"
#include "vcard/crypto.h"

TestSuite(ykext, .fini = h_done);
TestSuite(fault, .fini = h_done);

Test(ykext, version_serial_metadata_defaults)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 fd 00 00 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "050403");
	cr_assert_eq(h_tx("00 f8 00 00 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "00bc614e", "serial 12345678");
	cr_assert_eq(h_tx("00 f7 00 80 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "0101ff05010106020303");
	cr_assert_eq(h_tx("00 f7 00 81 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "0101ff05010106020303");
	cr_assert_eq(h_tx("00 f7 00 9b 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "01010302020001050101");
	cr_assert_eq(h_tx("00 f7 00 9a 00"), 0x6a88, "empty slot");
	cr_assert_eq(h_tx("00 f7 01 9a 00"), 0x6a86);
	/* F9 holds the factory attestation key. */
	cr_assert_eq(h_tx("00 f7 00 f9 00"), 0x9000);
	cr_assert_eq(memcmp(h_rsp, "\x01\x01\x11\x02\x02\x01\x01\x03\x01\x02",
	    10), 0, "%s", h_rsp_hex());
	/* After a wrong PIN the counter and default flag show. */
	h_tx("00 20 00 80 08 39 39 39 39 39 39 ff ff");
	cr_assert_eq(h_tx("00 f7 00 80 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "0101ff05010106020302");
}

static void
put_component(struct buf_out *o, uint32_t tag, EVP_PKEY *pk, const char *name,
    size_t width)
{
	BIGNUM *bn = NULL;
	uint8_t b[512];

	cr_assert(EVP_PKEY_get_bn_param(pk, name, &bn), "%s", name);
	cr_assert(BN_bn2binpad(bn, b, (int)width) > 0);
	tlv_put(o, tag, b, width);
	BN_free(bn);
}

/* Sends |data| as IMPORT in 255-byte chained blocks, as ykpiv does. */
static uint16_t
import_chained(uint8_t alg, uint8_t slot, const uint8_t *data, size_t n)
{
	uint8_t cmd[300];
	size_t off = 0;
	uint16_t sw = 0;

	while (off < n) {
		size_t k = n - off > 255 ? 255 : n - off;
		bool last = off + k == n;

		cmd[0] = last ? 0x00 : 0x10;
		cmd[1] = 0xfe;
		cmd[2] = alg;
		cmd[3] = slot;
		cmd[4] = (uint8_t)k;
		memcpy(cmd + 5, data + off, k);
		sw = h_txb(cmd, 5 + k);
		if (!last)
			cr_assert_eq(sw, 0x9000, "chained block");
		off += k;
	}
	return sw;
}

Test(ykext, import_rsa_chained_and_sign)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx;
	struct buf_out o;
	struct buf_cur c, t, s;
	uint8_t em[256], back[256];
	size_t n = sizeof(back);

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(vc_keygen(0x07, &pk), PV_OK);
	cr_assert(buf_out_alloc(&o, 1024, 4096));
	put_component(&o, 0x01, pk, OSSL_PKEY_PARAM_RSA_FACTOR1, 128);
	put_component(&o, 0x02, pk, OSSL_PKEY_PARAM_RSA_FACTOR2, 128);
	put_component(&o, 0x03, pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, 128);
	put_component(&o, 0x04, pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, 128);
	put_component(&o, 0x05, pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 128);
	tlv_put(&o, 0xaa, "\x01", 1);
	cr_assert(buf_out_ok(&o));
	cr_assert_eq(import_chained(0x07, 0x9a, o.p, o.len), 0x6982,
	    "IMPORT needs the management key");
	h_admin();
	cr_assert_eq(import_chained(0x11, 0x9a, o.p, o.len), 0x6a80,
	    "RSA components under an EC algorithm");
	cr_assert_eq(import_chained(0x06, 0x9a, o.p, o.len), 0x6a80,
	    "a 2048-bit key is not RSA-1024");
	cr_assert_eq(import_chained(0x07, 0x9a, o.p, o.len), 0x9000);
	cr_assert_eq(h_read_all("00 f7 00 9a 00", NULL), 0x9000);
	cr_assert_eq(memcmp(h_all, "\x01\x01\x07\x02\x02\x01\x01\x03\x01\x02",
	    10), 0, "alg 07, PIN never, touch never, imported");
	/* PIN policy never: no VERIFY needed. */
	memset(em, 0x33, sizeof(em));
	em[0] = 0;
	cr_assert_eq(h_ga(0x07, 0x9a, 0x81, em, 256), 0x9000);
	buf_cur_init(&c, h_all, h_all_len);
	cr_assert(tlv_get(&c, 0x7c, &t) && tlv_get(&t, 0x82, &s));
	ctx = EVP_PKEY_CTX_new(pk, NULL);
	cr_assert(EVP_PKEY_verify_recover_init(ctx) > 0);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0);
	cr_assert(EVP_PKEY_verify_recover(ctx, back, &n, s.p, s.len) > 0);
	cr_assert_eq(memcmp(back, em, 256), 0, "the imported key signed");
	/* Imported keys cannot be attested. */
	cr_assert_eq(h_tx("00 f9 9a 00 00"), 0x6a80);
	/* A broken component is refused. */
	o.p[10] ^= 0x40;
	cr_assert_eq(import_chained(0x07, 0x9c, o.p, o.len), 0x6a80);
	EVP_PKEY_CTX_free(ctx);
	buf_out_cleanup(&o);
	EVP_PKEY_free(pk);
}

static void
import_ec(uint8_t slot, EVP_PKEY **out, uint16_t want)
{
	BIGNUM *d = NULL;
	uint8_t cmd[64] = { 0x00, 0xfe, 0x11, slot, 0x22, 0x06, 0x20 };

	cr_assert_eq(vc_keygen(0x11, out), PV_OK);
	cr_assert(EVP_PKEY_get_bn_param(*out, OSSL_PKEY_PARAM_PRIV_KEY, &d));
	cr_assert(BN_bn2binpad(d, cmd + 7, 32) == 32);
	cr_assert_eq(h_txb(cmd, 39), want, "IMPORT EC into %02x", slot);
	BN_clear_free(d);
}

Test(ykext, import_ec_on_mobile_slots)
{
	EVP_PKEY *pk;

	h_card(VC_PROFILE_MOBILE, 0);
	h_select();
	h_admin();
	import_ec(0x9a, &pk, 0x6a86);
	EVP_PKEY_free(pk);
	import_ec(0x9c, &pk, 0x6a86);
	EVP_PKEY_free(pk);
	import_ec(0x83, &pk, 0x9000);
	EVP_PKEY_free(pk);
	import_ec(0x9d, &pk, 0x9000);
	cr_assert(EVP_PKEY_eq(vc_state_key(&h_st, 0x9d)->pkey, pk) == 1);
	cr_assert_eq(vc_state_key(&h_st, 0x9d)->origin, VC_ORIGIN_IMPORTED);
	EVP_PKEY_free(pk);
	/* The mobile token has no other YubiKey commands. */
	cr_assert_eq(h_tx("00 fd 00 00 00"), 0x6d00);
	cr_assert_eq(h_tx("00 f7 00 9d 00"), 0x6d00);
}

Test(ykext, attest_generated_key)
{
	EVP_PKEY *pk, *ca_pub;
	X509 *ca, *x;
	const unsigned char *q;
	struct buf_cur c, o, cert;
	uint8_t obj[4096];
	size_t obj_len;
	ASN1_OBJECT *fw;
	int idx;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 f9 9a 00 00"), 0x6a88, "empty slot");
	h_admin();
	pk = h_generate(0x9a, 0x11);
	cr_assert_eq(h_read_all("00 f9 9a 00 00", NULL), 0x9000);
	q = h_all;
	x = d2i_X509(NULL, &q, (long)h_all_len);
	cr_assert_not_null(x);
	cr_assert_eq(q, h_all + h_all_len, "one certificate, nothing after");
	cr_assert(EVP_PKEY_eq(X509_get0_pubkey(x), pk) == 1, "certifies 9A");
	/* The F9 certificate in 5FFF01 signed it. */
	cr_assert_eq(h_read_all("00 cb 3f ff 05 5c 03 5f ff 01 00", NULL),
	    0x9000);
	obj_len = h_all_len;
	memcpy(obj, h_all, obj_len);
	buf_cur_init(&c, obj, obj_len);
	cr_assert(tlv_get(&c, 0x53, &o));
	cr_assert(tlv_get(&o, 0x70, &cert));
	q = cert.p;
	ca = d2i_X509(NULL, &q, (long)cert.len);
	cr_assert_not_null(ca);
	ca_pub = X509_get0_pubkey(ca);
	cr_assert_eq(X509_verify(x, ca_pub), 1);
	cr_assert_eq(X509_check_issued(ca, x), X509_V_OK);
	fw = OBJ_txt2obj("1.3.6.1.4.1.41482.3.3", 1);
	idx = X509_get_ext_by_OBJ(x, fw, -1);
	cr_assert_geq(idx, 0, "firmware extension");
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(X509_EXTENSION_get_data(
	    X509_get_ext(x, idx))), "\x05\x04\x03", 3), 0);
	ASN1_OBJECT_free(fw);
	X509_free(ca);
	X509_free(x);
	EVP_PKEY_free(pk);
}

Test(ykext, set_pin_retries_rules)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 fa 05 04"), 0x6982);
	h_admin();
	cr_assert_eq(h_tx("00 fa 05 04"), 0x6982, "PIN needed too");
	h_verify();
	cr_assert_eq(h_tx("00 fa 00 04"), 0x6a86);
	cr_assert_eq(h_tx("00 24 00 80 10 31 32 33 34 35 36 ff ff "
	    "36 35 34 33 32 31 ff ff"), 0x9000);
	cr_assert_eq(h_tx("00 fa 05 04"), 0x9000);
	cr_assert_eq(h_tx("00 f7 00 80 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "0101ff05010106020505");
	cr_assert_eq(h_tx("00 f7 00 81 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "0101ff05010106020404");
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 36 ff ff"), 0x9000,
	    "PIN back to the default");
}

Test(ykext, reset_only_when_both_blocked)
{
	EVP_PKEY *pk;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	pk = h_generate(0x9a, 0x11);
	EVP_PKEY_free(pk);
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x9000);
	cr_assert_eq(h_tx("00 fb 00 00"), 0x6985);
	for (int i = 0; i < 3; i++)
		h_tx("00 20 00 80 08 39 39 39 39 39 39 ff ff");
	cr_assert_eq(h_tx("00 fb 00 00"), 0x6985, "PUK still usable");
	for (int i = 0; i < 3; i++)
		h_tx("00 2c 00 80 10 30 30 30 30 30 30 30 30 31 31 31 31 31 31 "
		    "ff ff");
	cr_assert_eq(h_tx("00 fb 00 00"), 0x9000);
	cr_assert_eq(h_st.pin_left, 3);
	cr_assert_eq(vc_state_key(&h_st, 0x9a)->alg, 0, "keys gone");
	cr_assert_neq(vc_state_key(&h_st, 0xf9)->alg, 0, "F9 kept");
	cr_assert_null(vc_state_obj(&h_st, 0x5fc102), "objects gone");
	cr_assert_not_null(vc_state_obj(&h_st, 0x5fff01), "F9 cert kept");
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x6982,
	    "admin status dropped");
	h_verify();
}

Test(ykext, set_management_key_aes)
{
	static const uint8_t aes[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 ff ff ff 13 08 9b 10 10 11 12 13 14 15 16 17 18 19 "
	    "1a 1b 1c 1d 1e 1f"), 0x6982);
	h_admin();
	cr_assert_eq(h_tx("00 ff ff ff 12 08 9b 0f 10 11 12 13 14 15 16 17 18 19 "
	    "1a 1b 1c 1d 1e"), 0x6a80, "15-byte AES key");
	cr_assert_eq(h_tx("00 ff ff 00 13 08 9b 10 10 11 12 13 14 15 16 17 18 19 "
	    "1a 1b 1c 1d 1e 1f"), 0x6a86);
	cr_assert_eq(h_tx("00 ff ff fe 13 08 9b 10 10 11 12 13 14 15 16 17 18 19 "
	    "1a 1b 1c 1d 1e 1f"), 0x9000);
	cr_assert_eq(h_saves, 1);
	cr_assert_eq(h_tx("00 f7 00 9b 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "01010802020002050100",
	    "AES-128, touch always, not default");
	cr_assert_eq(h_tx("00 87 03 9b 04 7c 02 80 00"), 0x6a80, "3DES gone");
	cr_assert_eq(h_admin_key(0x08, aes), 0x9000);
}

/*
 * A 3DES key holding a weak or semi-weak DES key is refused (6A80), parity
 * bits ignored, in any of the three positions; the key stays as it was.
 * The factory key (K1 = K2 = K3, none weak) is accepted.
 */
Test(ykext, set_management_key_refuses_weak_3des)
{
	static const uint8_t good[24] = { 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a,
	    0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0xf1,
	    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8 };
	static const char *weak[] = {
		/* all FE (weak), as yubico-piv-tool's own test uses */
		"fefefefefefefefe fefefefefefefefe fefefefefefefefe",
		/* weak 1F1F1F1F0E0E0E0E as K2, parity bits flipped */
		"0f0e0d0c0b0a0908 1e1e1e1e0f0f0f0f f1f2f3f4f5f6f7f8",
		/* semi-weak E0FEE0FEF1FEF1FE as K3 */
		"0f0e0d0c0b0a0908 0706050403020100 e0fee0fef1fef1fe",
		/* weak 0101010101010101 as K1, parity stripped */
		"0000000000000000 0706050403020100 f1f2f3f4f5f6f7f8",
	};
	char cmd[160];
	size_t i;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		snprintf(cmd, sizeof(cmd), "00 ff ff ff 1b 03 9b 18 %s",
		    weak[i]);
		cr_assert_eq(h_tx(cmd), 0x6a80, "weak key %zu accepted", i);
	}
	cr_assert_eq(h_saves, 0, "nothing changed");
	cr_assert_eq(h_admin_key(0x03, (const uint8_t *)
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06"
	    "\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08"), 0x9000,
	    "the factory key still works");
	cr_assert_eq(h_tx("00 ff ff ff 1b 03 9b 18 0f0e0d0c0b0a0908 "
	    "0706050403020100 f1f2f3f4f5f6f7f8"), 0x9000);
	cr_assert_eq(h_admin_key(0x03, good), 0x9000);
	cr_assert_eq(h_tx("00 ff ff ff 1b 03 9b 18 0102030405060708 "
	    "0102030405060708 0102030405060708"), 0x9000,
	    "back to the factory key");
}

/* ---- faults -------------------------------------------------------------- */

static void
fault_card(enum vc_profile p, const char *spec)
{
	struct vc_config cfg;
	struct pv_why why = { { 0 } };

	memset(&cfg, 0, sizeof(cfg));
	cr_assert(vc_fault_parse(spec, &cfg.faults[0], &why), "%s", why.msg);
	cfg.n_faults = 1;
	h_card_cfg(p, &cfg);
}

Test(fault, remove_after_n)
{
	fault_card(VC_PROFILE_USB_KEY, "remove-after=2:300");
	h_select();
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3);
	cr_assert_eq(h_tx("00 20 00 80"), 0);
	cr_assert_eq(h_act, VC_ACT_REMOVE);
	cr_assert_eq(vc_card_fault_ms(h_c), 300);
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3, "fires once");
	cr_assert_eq(vc_card_n_apdus(h_c), 4);
}

Test(fault, mute_after_n)
{
	fault_card(VC_PROFILE_PIV_CARD, "mute-after=0");
	cr_assert_eq(h_tx("00 20 00 80"), 0);
	cr_assert_eq(h_act, VC_ACT_MUTE);
}

Test(fault, garbage_after_n)
{
	size_t first;

	fault_card(VC_PROFILE_PIV_CARD, "garbage-after=1");
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3);
	h_tx("00 20 00 80");
	cr_assert_eq(h_act, VC_ACT_REPLY);
	cr_assert_geq(h_rsp_len + 2, 1);
	cr_assert_leq(h_rsp_len + 2, 300);
	first = h_rsp_len;
	h_tx("00 20 00 80");
	cr_assert(h_rsp_len != first || h_rsp_len + 2 >= 1, "still noise");
	for (int i = 0; i < 50; i++) {
		h_tx("00 20 00 80");
		cr_assert_eq(h_act, VC_ACT_REPLY);
	}
}

Test(fault, reset_after_n_drops_volatile_state)
{
	fault_card(VC_PROFILE_PIV_CARD, "reset-after=2");
	h_select();
	h_verify();
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3, "PIN status lost");
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3);
	h_verify();
	cr_assert_eq(h_tx("00 20 00 80"), 0x9000, "fires once");
}

Test(ykext, firmware_57_adds_rsa3072)
{
	EVP_PKEY *pk;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_st.version[1] = 7;	/* as if made with --firmware 5.7.x */
	h_select();
	h_admin();
	cr_assert_eq(h_tx("00 fd 00 00 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "050703");
	pk = h_generate(0x9a, 0x05);
	cr_assert_eq(EVP_PKEY_get_bits(pk), 3072);
	EVP_PKEY_free(pk);
}

Test(ykext, aes192_and_aes256_management_keys)
{
	static const uint8_t k24[24] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,
	    6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6 };
	static const uint8_t k32[32] = { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21,
	    23, 25, 27, 29, 31, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
	    28, 30, 32 };
	uint8_t cmd[64] = { 0x00, 0xff, 0xff, 0xff };

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	cmd[4] = 3 + 24;
	cmd[5] = 0x0a;
	cmd[6] = 0x9b;
	cmd[7] = 24;
	memcpy(cmd + 8, k24, 24);
	cr_assert_eq(h_txb(cmd, 8 + 24), 0x9000);
	cr_assert_eq(h_admin_key(0x0a, k24), 0x9000, "AES-192");
	cmd[4] = 3 + 32;
	cmd[5] = 0x0c;
	cmd[7] = 32;
	memcpy(cmd + 8, k32, 32);
	cr_assert_eq(h_txb(cmd, 8 + 32), 0x9000);
	cr_assert_eq(h_admin_key(0x0c, k32), 0x9000, "AES-256");
	cr_assert_eq(h_admin_key(0x0a, k24), 0x6a80, "the AES-192 key is gone");
	cr_assert_eq(h_st.mgm_alg, 0x0c);
}

/* ---- firmware gates (firmware-notes/yubikey-firmware-gates.md) ---------- */

static const uint8_t default_mgm[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
    5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

Test(ykext, fw_gate_base_piv_commands_on_every_version)
{
	/* Each base command reaches its handler (whatever it then says)
	 * on the oldest firmware, never 6D00. */
	static const char *const cmds[] = {
		"00 cb 3f ff 03 5c 01 7e 00", "00 20 00 80",
		"00 24 00 80 01 00", "00 2c 00 80 01 00",
		"00 87 03 9b 04 7c 02 80 00", "00 47 00 9a 05 ac 03 80 01 11",
		"00 db 3f ff 01 00", "00 fd 00 00 00",
	};

	h_card_fw(1, 0, 0);
	h_select();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		cr_assert_neq(h_tx(cmds[i]), 0x6d00, "%s", cmds[i]);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	cr_assert_eq(h_tx("00 fd 00 00 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "010000");
}

Test(ykext, fw_gate_metadata_from_5_3_0)
{
	h_card_fw(5, 2, 7);
	h_select();
	cr_assert_eq(h_tx("00 f7 00 9b 00"), 0x6d00, "5.2.7");
	cr_assert_eq(h_tx("00 f7 00 80 00"), 0x6d00, "5.2.7");
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000,
	    "GET DATA after a refused F7");
	h_card_fw(5, 3, 0);
	h_select();
	cr_assert_eq(h_tx("00 f7 00 9b 00"), 0x9000, "5.3.0");
	cr_assert_str_eq(h_rsp_hex(), "01010302020001050101");
}

Test(ykext, fw_gate_attest_from_4_3_0)
{
	EVP_PKEY *pk;

	h_card_fw(4, 2, 9);
	h_select();
	h_admin();
	pk = h_generate(0x9a, 0x11);
	EVP_PKEY_free(pk);
	cr_assert_eq(h_tx("00 f9 9a 00 00"), 0x6d00, "4.2.9");
	h_card_fw(4, 3, 0);
	h_select();
	h_admin();
	pk = h_generate(0x9a, 0x11);
	EVP_PKEY_free(pk);
	cr_assert_eq(h_read_all("00 f9 9a 00 00", NULL), 0x9000, "4.3.0");
	cr_assert_eq(h_all[0], 0x30, "a certificate");
}

Test(ykext, fw_gate_serial_through_otp_applet_before_5)
{
	h_card_fw(4, 3, 5);
	h_select();
	cr_assert_eq(h_tx("00 f8 00 00 00"), 0x6d00, "no F8 before 5");
	cr_assert_eq(h_tx("00 01 10 00"), 0x6d00, "PIV has no 01");
	/* ykpiv: OTP applet, its serial command, PIV again. */
	cr_assert_eq(h_tx("00 a4 04 00 08 a0 00 00 05 27 20 01 01"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x6d00,
	    "PIV is deselected");
	cr_assert_eq(h_tx("00 01 11 00"), 0x6a86);
	cr_assert_eq(h_tx("00 01 10 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "00bc614e", "serial 12345678");
	h_select();
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	h_card_fw(5, 0, 0);
	h_select();
	cr_assert_eq(h_tx("00 f8 00 00 00"), 0x9000, "5.0.0");
	cr_assert_str_eq(h_rsp_hex(), "00bc614e");
}

/* ---- management application (firmware-notes/yubikey-management-app.md) - */

#define SELECT_MGMT	"00 a4 04 00 08 a0 00 00 05 27 47 11 17"

Test(ykext, management_select_answers_the_version_text)
{
	h_card_fw(5, 4, 3);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x9000);
	cr_assert_eq(h_rsp_len, strlen("Virtual mgr - FW version 5.4.3"));
	cr_assert_eq(memcmp(h_rsp, "Virtual mgr - FW version 5.4.3",
	    h_rsp_len), 0);
	h_card_fw(4, 3, 7);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x9000);
	cr_assert_eq(memcmp(h_rsp, "Virtual mgr - FW version 4.3.7",
	    h_rsp_len), 0);
	h_card_fw(3, 4, 9);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x9000, "the NEO has it");
	h_card_fw(2, 2, 0);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x6a82, "no CCID before the NEO");
	h_select();
	cr_assert_eq(h_tx("00 fd 00 00 00"), 0x9000, "PIV still selected");
}

Test(ykext, management_select_on_plain_card_and_mobile)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx(SELECT_MGMT), 0x6a82);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000,
	    "PIV stays selected");
	h_card(VC_PROFILE_MOBILE, 0);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x6a82);
}

Test(ykext, management_read_config)
{
	size_t i, n;
	bool seen[16] = { false };

	h_card_fw(5, 4, 3);
	cr_assert_eq(h_tx("00 1d 00 00 00"), 0x6d00, "not in PIV/no app");
	cr_assert_eq(h_tx(SELECT_MGMT), 0x9000);
	cr_assert_eq(h_tx("00 1d 00 00 00"), 0x9000);
	cr_assert_eq(h_rsp[0], h_rsp_len - 1, "length byte");
	for (i = 1; i + 2 <= h_rsp_len; i += 2 + n) {
		uint8_t t = h_rsp[i];

		n = h_rsp[i + 1];
		cr_assert_leq(i + 2 + n, h_rsp_len);
		cr_assert_lt(t, 16);
		cr_assert_not(seen[t], "tag %02x once", t);
		seen[t] = true;
		if (t == 0x01 || t == 0x03)
			cr_assert(n == 2 && h_rsp[i + 2] == 0x02 &&
			    h_rsp[i + 3] == 0x3b, "OTP U2F PGP PIV OATH FIDO2");
		if (t == 0x02)
			cr_assert(n == 4 && memcmp(h_rsp + i + 2,
			    "\x00\xbc\x61\x4e", 4) == 0, "serial");
		if (t == 0x05)
			cr_assert(n == 3 && memcmp(h_rsp + i + 2,
			    "\x05\x04\x03", 3) == 0, "version");
	}
	cr_assert_eq(i, h_rsp_len, "whole TLVs");
	cr_assert(seen[1] && seen[2] && seen[3] && seen[4] && seen[5]);
	cr_assert_eq(h_tx("00 1d 01 00 00"), 0x6a86);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x6d00,
	    "PIV is not selected");
	h_select();
	cr_assert_eq(h_tx("00 1d 00 00 00"), 0x6d00, "not in PIV");
}

/* The value of device-information tag |t| in h_rsp, or NULL. */
static const uint8_t *
config_tag(uint8_t t, size_t *n)
{
	for (size_t i = 1; i + 2 <= h_rsp_len; i += 2 + (size_t)h_rsp[i + 1])
		if (h_rsp[i] == t) {
			*n = h_rsp[i + 1];
			return h_rsp + i + 2;
		}
	return NULL;
}

Test(ykext, management_read_config_from_4_1)
{
	const uint8_t *v;
	size_t n = 0;

	h_card_fw(4, 0, 9);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x9000);
	cr_assert_eq(h_tx("00 1d 00 00 00"), 0x6d00, "4.0.9");
	h_card_fw(4, 1, 0);
	cr_assert_eq(h_tx(SELECT_MGMT), 0x9000);
	cr_assert_eq(h_tx("00 1d 00 00 00"), 0x9000, "4.1.0");
	cr_assert_null(config_tag(0x03, &n), "no enabled set on a 4");
	v = config_tag(0x01, &n);
	cr_assert(v != NULL && n == 2 && v[0] == 0x00 && v[1] == 0x3b,
	    "no FIDO2 on a YubiKey 4");
}

Test(ykext, otp_select_answers_status_and_takes_seven_bytes)
{
	h_card_fw(4, 3, 5);
	cr_assert_eq(h_tx("00 a4 04 00 07 a0 00 00 05 27 20 01"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "040305000000", "version, seq, touch");
	cr_assert_eq(h_tx("00 01 10 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "00bc614e");
	cr_assert_eq(h_tx("00 a4 04 00 06 a0 00 00 05 27 20"), 0x6a82,
	    "six bytes name no applet");
}

static uint16_t
set_mgm_aes192(void)
{
	static const uint8_t k[24] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7,
	    6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6 };
	uint8_t cmd[32] = { 0x00, 0xff, 0xff, 0xff, 27, 0x0a, 0x9b, 24 };

	memcpy(cmd + 8, k, sizeof(k));
	return h_txb(cmd, sizeof(cmd));
}

Test(ykext, fw_gate_aes_management_key_from_5_4_0)
{
	h_card_fw(5, 3, 9);
	h_select();
	h_admin();
	cr_assert_eq(set_mgm_aes192(), 0x6a80, "5.3.9: 3DES only");
	cr_assert_eq(h_st.mgm_alg, 0x03);
	cr_assert_eq(h_admin_key(0x03, default_mgm), 0x9000, "key kept");
	h_card_fw(5, 4, 0);
	h_select();
	h_admin();
	cr_assert_eq(set_mgm_aes192(), 0x9000, "5.4.0");
	cr_assert_eq(h_st.mgm_alg, 0x0a);
}

Test(ykext, fw_gate_default_management_key_aes192_from_5_7_0)
{
	h_card_fw(5, 6, 9);
	cr_assert_eq(h_st.mgm_alg, 0x03, "3DES before 5.7");
	h_select();
	cr_assert_eq(h_admin_key(0x03, default_mgm), 0x9000);
	h_card_fw(5, 7, 0);
	cr_assert_eq(h_st.mgm_alg, 0x0a, "AES-192 from 5.7");
	h_select();
	cr_assert_eq(h_tx("00 f7 00 9b 00"), 0x9000);
	cr_assert_eq(memcmp(h_rsp, "\x01\x01\x0a", 3), 0, "%s", h_rsp_hex());
	cr_assert_eq(h_admin_key(0x03, default_mgm), 0x6a80, "not 3DES");
	cr_assert_eq(h_admin_key(0x0a, default_mgm), 0x9000);
}

Test(ykext, fw_gate_move_and_delete_key_from_5_7_0)
{
	EVP_PKEY *pk;

	h_card_fw(5, 6, 9);
	h_select();
	h_admin();
	pk = h_generate(0x9a, 0x11);
	EVP_PKEY_free(pk);
	cr_assert_eq(h_tx("00 f6 9c 9a"), 0x6d00, "5.6.9");
	cr_assert_eq(h_tx("00 f6 ff 9a"), 0x6d00, "5.6.9");

	h_card_fw(5, 7, 0);
	h_select();
	cr_assert_eq(h_tx("00 f6 9c 9a"), 0x6982, "management key first");
	cr_assert_eq(h_admin_key(0x0a, default_mgm), 0x9000);
	cr_assert_eq(h_tx("00 f6 9c 9a"), 0x6a88, "9A is empty");
	pk = h_generate(0x9a, 0x11);
	EVP_PKEY_free(pk);
	pk = h_generate(0x9e, 0x11);
	EVP_PKEY_free(pk);
	cr_assert_eq(h_tx("00 f6 9e 9a"), 0x6985, "9E is not empty");
	cr_assert_eq(h_tx("00 f6 9a 9a"), 0x6a86);
	cr_assert_eq(h_tx("00 f6 9c f9"), 0x6a86, "F9 is not moved");
	cr_assert_eq(h_tx("00 f6 9c 9a"), 0x9000);
	cr_assert_eq(h_tx("00 f7 00 9a 00"), 0x6a88, "9A empty now");
	cr_assert_eq(h_tx("00 f7 00 9c 00"), 0x9000);
	cr_assert_eq(memcmp(h_rsp, "\x01\x01\x11", 3), 0, "%s", h_rsp_hex());
	cr_assert_eq(h_tx("00 f6 ff 9c"), 0x9000, "delete");
	cr_assert_eq(h_tx("00 f7 00 9c 00"), 0x6a88);
	cr_assert_eq(h_tx("00 f6 ff 9c"), 0x6a88, "nothing to delete");
	cr_assert_eq(h_tx("00 f6 ff f9"), 0x9000, "F9 can be deleted");
	cr_assert_eq(h_tx("00 f7 00 f9 00"), 0x6a88);
}
