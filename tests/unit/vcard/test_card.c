/*
 * test_card.c: the command frame and the PIV security rules: class byte,
 * SELECT, PIN/PUK counters, data objects, command and response chaining,
 * extended length, management-key authentication, key generation and
 * private-key operations.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "apdu/piv_obj.h"
#include "apdu/tlv.h"
#include "tests/unit/vcard/harness.h"
#include "vcard/crypto.h"

TestSuite(card, .fini = h_done);

/* ---- frame ---------------------------------------------------------------- */

Test(card, class_byte_rules)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	cr_assert_eq(h_tx("80 cb 3f ff 03 5c 01 7e 00"), 0x6e00);
	cr_assert_eq(h_tx("0c cb 3f ff 03 5c 01 7e 00"), 0x6882);
	cr_assert_eq(h_tx("01 cb 3f ff 03 5c 01 7e 00"), 0x6881);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
}

Test(card, malformed_apdu_is_6700)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	cr_assert_eq(h_tx("00 a4"), 0x6700);
	cr_assert_eq(h_tx("00 a4 04 00 05 a0 00"), 0x6700);
	cr_assert_eq(h_tx("00 a4 04 00 00 00"), 0x6700);
}

Test(card, unknown_ins_6d00)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	cr_assert_eq(h_tx("00 b0 00 00 00"), 0x6d00);
	cr_assert_eq(h_tx("00 ca 9f 7f 00"), 0x6d00);
}

Test(card, get_response_without_pending_data)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	cr_assert_eq(h_tx("00 c0 00 00 00"), 0x6985);
}

/* ---- SELECT -------------------------------------------------------------- */

Test(card, select_usb_key_apt_and_aid_lengths)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	/* Nothing is selected at power-on on the USB key. */
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x6d00);
	cr_assert_eq(h_tx("00 a4 04 00 05 a0 00 00 03 08"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(),
	    "61114f0600001000010079074f05a000000308");
	cr_assert_eq(h_tx("00 a4 04 00 0b a0 00 00 03 08 00 00 10 00 01 00 00"),
	    0x9000);
	cr_assert_eq(h_tx("00 a4 04 00 04 a0 00 00 03"), 0x6a82);
	cr_assert_eq(h_tx("00 a4 04 00 0c a0 00 00 03 08 00 00 10 00 01 00 00"),
	    0x6a82);
	cr_assert_eq(h_tx("00 a4 04 00 09 a0 00 00 03 08 00 00 20 00"),
	    0x6a82, "derived AID is not on a USB key");
	/* YubiKey: P2 other than 00 goes to the applet, which refuses. */
	cr_assert_eq(h_tx("00 a4 04 0c 05 a0 00 00 03 08"), 0x6d00);
}

Test(card, select_piv_card_full_aid_and_ac)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	cr_assert_eq(h_tx("00 a4 04 00 09 a0 00 00 03 08 00 00 10 00 00"),
	    0x9000);
	cr_assert_eq(h_rsp[0], 0x61);
	cr_assert_eq(memcmp(h_rsp + 2, "\x4f\x0b\xa0\x00\x00\x03\x08\x00\x00"
	    "\x10\x00\x01\x00", 13), 0, "full AID in 4F: %s", h_rsp_hex());
	cr_assert_not_null(strstr(h_rsp_hex(), "ac"), "AC template");
	cr_assert_eq(h_tx("00 a4 04 0c 05 a0 00 00 03 08"), 0x9000);
	cr_assert_eq(h_rsp_len, 0, "P2 0C: no FCI");
}

Test(card, reselect_keeps_pin_status_unknown_aid_too)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	h_verify();
	h_select();
	cr_assert_eq(h_tx("00 20 00 80 00"), 0x9000, "PIN status kept");
	cr_assert_eq(h_tx("00 a4 04 00 07 a0 00 00 00 79 01 00"), 0x6a82);
	cr_assert_eq(h_tx("00 20 00 80"), 0x9000, "unknown AID keeps PIV");
}

Test(card, other_yubikey_applet_clears_pin_status)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_verify();
	cr_assert_eq(h_tx("00 a4 04 00 08 a0 00 00 05 27 47 11 17"), 0x9000);
	cr_assert_eq(h_tx("00 20 00 80 00"), 0x6d00, "PIV deselected");
	h_select();
	cr_assert_eq(h_tx("00 20 00 80 00"), 0x63c3, "status cleared");
}

Test(card, mobile_answers_derived_and_piv_aid)
{
	h_card(VC_PROFILE_MOBILE, 0);
	cr_assert_eq(h_tx("00 a4 04 00 0b a0 00 00 03 08 00 00 20 00 01 00 00"),
	    0x9000);
	cr_assert_eq(memcmp(h_rsp + 4, "\xa0\x00\x00\x03\x08\x00\x00\x20", 8),
	    0, "derived AID reported: %s", h_rsp_hex());
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	cr_assert_eq(h_rsp[11], 0x20, "discovery names the derived AID");
	h_select();
	cr_assert_eq(h_rsp[11], 0x10);
}

/* ---- PIN and PUK ---------------------------------------------------------- */

Test(card, verify_counter_block_and_status)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	/* ykpiv's 5-byte status query and OpenSC's 4-byte one. */
	cr_assert_eq(h_tx("00 20 00 80 00"), 0x63c3);
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3);
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 37 ff ff"), 0x63c2);
	cr_assert_eq(h_saves, 1, "counter persisted");
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 37 ff ff"), 0x63c1);
	h_verify();
	cr_assert_eq(h_st.pin_left, 3, "reset on success");
	for (int i = 2; i >= 0; i--)
		cr_assert_eq(h_tx("00 20 00 80 08 39 39 39 39 39 39 ff ff"),
		    0x63c0 | i);
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 36 ff ff"), 0x6983,
	    "blocked: not even the right PIN");
	cr_assert_eq(h_tx("00 20 00 80"), 0x6983);
}

Test(card, verify_format_and_references)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 20 00 80 06 31 32 33 34 35 36"), 0x6a80);
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 ff ff ff"), 0x6a80,
	    "5 digits");
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 41 ff ff"), 0x6a80,
	    "letter in a card PIN");
	cr_assert_eq(h_st.pin_left, 3, "format errors cost no try");
	cr_assert_eq(h_tx("00 20 00 00 08 31 32 33 34 35 36 ff ff"), 0x6a88);
	cr_assert_eq(h_tx("00 20 00 96"), 0x6a88);
	cr_assert_eq(h_tx("00 20 01 80"), 0x6a86);
	h_verify();
	cr_assert_eq(h_tx("00 20 ff 80"), 0x9000, "logout");
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3, "status FALSE after logout");
}

Test(card, quirk_pin_sw_630x)
{
	h_card(VC_PROFILE_USB_KEY, VC_QUIRK_PIN_SW_630X);
	h_select();
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 37 ff ff"), 0x6302);
	cr_assert_eq(h_tx("00 20 00 80"), 0x6302);
}

Test(card, mobile_pin_is_alphanumeric)
{
	h_card(VC_PROFILE_MOBILE, 0);
	h_select();
	h_verify();
	cr_assert_eq(h_tx("00 24 00 80 10 31 32 33 34 35 36 ff ff "
	    "61 42 63 31 32 33 ff ff"), 0x9000);
	cr_assert_eq(h_tx("00 20 00 80 08 61 42 63 31 32 33 ff ff"), 0x9000);
	cr_assert_eq(h_tx("00 24 00 80 10 61 42 63 31 32 33 ff ff "
	    "61 42 63 2d 32 33 ff ff"), 0x6a80, "'-' is not allowed");
}

Test(card, change_reference_data_pin_and_puk)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 24 00 80 10 31 31 31 31 31 31 ff ff "
	    "36 35 34 33 32 31 ff ff"), 0x63c2, "wrong old PIN");
	cr_assert_eq(h_tx("00 24 00 80 10 31 32 33 34 35 36 ff ff "
	    "36 35 34 ff ff ff ff ff"), 0x6a80, "new PIN too short");
	cr_assert_eq(h_st.pin_left, 3, "the old PIN was right: counter reset");
	cr_assert(h_st.pin_default, "PIN unchanged");
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3, "and not verified");
	cr_assert_eq(h_tx("00 24 00 80 10 31 32 33 34 35 36 ff ff "
	    "36 35 34 33 32 31 ff ff"), 0x9000);
	cr_assert_eq(h_st.pin_left, 3);
	cr_assert_not(h_st.pin_default);
	cr_assert_eq(h_tx("00 20 00 80"), 0x9000, "status TRUE after change");
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 36 ff ff"), 0x63c2);
	cr_assert_eq(h_tx("00 20 00 80 08 36 35 34 33 32 31 ff ff"), 0x9000);
	cr_assert_eq(h_tx("00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "38 37 36 35 34 33 32 31"), 0x9000, "PUK");
	cr_assert_eq(h_tx("00 24 00 00 10 31 32 33 34 35 36 37 38 "
	    "38 37 36 35 34 33 32 31"), 0x6a88, "global PIN");
	cr_assert_eq(h_tx("00 24 00 80 08 31 32 33 34 35 36 ff ff"), 0x6a80);
}

Test(card, reset_retry_counter)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	for (int i = 0; i < 3; i++)
		h_tx("00 20 00 80 08 39 39 39 39 39 39 ff ff");
	cr_assert_eq(h_tx("00 20 00 80"), 0x6983);
	cr_assert_eq(h_tx("00 2c 00 80 10 31 31 31 31 31 31 31 31 "
	    "31 31 31 31 31 31 ff ff"), 0x63c2, "wrong PUK");
	cr_assert_eq(h_tx("00 2c 00 80 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 31 31 31 ff ff"), 0x9000);
	cr_assert_eq(h_st.pin_left, 3);
	cr_assert_eq(h_st.puk_left, 3);
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3, "status stays FALSE");
	cr_assert_eq(h_tx("00 20 00 80 08 31 31 31 31 31 31 ff ff"), 0x9000);
	cr_assert_eq(h_tx("00 2c 00 81 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 31 31 31 ff ff"), 0x6a88);
	/* Blocking the PUK. */
	for (int i = 2; i >= 0; i--)
		cr_assert_eq(h_tx("00 2c 00 80 10 30 30 30 30 30 30 30 30 "
		    "31 31 31 31 31 31 ff ff"), 0x63c0 | i);
	cr_assert_eq(h_tx("00 2c 00 80 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 31 31 31 ff ff"), 0x6983);
}

/*
 * Which check comes first (firmware-notes/pin-puk-check-order.md): a
 * YubiKey verifies the presented PIN or PUK before it looks at the new
 * value; the plain card refuses a malformed new value first, at no cost.
 */
Test(card, usb_key_checks_puk_before_new_pin)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	/* ykman piv reset: wrong PUK, empty new PIN, 63CX each time. */
	for (int i = 2; i >= 0; i--)
		cr_assert_eq(h_tx("00 2c 00 80 10 ff ff ff ff ff ff ff ff "
		    "ff ff ff ff ff ff ff ff"), 0x63c0 | i, "try %d", i);
	cr_assert_eq(h_st.puk_left, 0, "the PUK is blocked");
	cr_assert_eq(h_tx("00 2c 00 80 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 31 31 31 ff ff"), 0x6983, "blocked, right PUK or not");
}

Test(card, usb_key_right_puk_bad_new_pin)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 2c 00 80 10 30 30 30 30 30 30 30 30 "
	    "31 31 31 31 31 31 ff ff"), 0x63c2);
	cr_assert_eq(h_tx("00 2c 00 80 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 ff ff ff ff ff"), 0x6a80, "new PIN of 3 bytes");
	cr_assert_eq(h_st.puk_left, 3, "the PUK was right: counter reset");
	cr_assert(h_st.pin_default, "the PIN is unchanged");
	cr_assert_eq(h_tx("00 2c 00 80 10 31 32 33 34 35 36 37 38 "
	    "ff ff ff ff ff ff ff ff"), 0x6a80, "empty new PIN");
	cr_assert_eq(h_tx("00 2c 00 80 10 31 32 33 34 35 36 37 38 "
	    "31 31 31 31 31 31 ff ff"), 0x9000);
	cr_assert_not(h_st.pin_default);
}

Test(card, usb_key_checks_old_value_before_new_one)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 24 00 80 10 39 39 39 39 39 39 ff ff "
	    "ff ff ff ff ff ff ff ff"), 0x63c2, "wrong PIN, empty new one");
	cr_assert_eq(h_tx("00 24 00 81 10 39 39 39 39 39 39 39 39 "
	    "31 32 ff ff ff ff ff ff"), 0x63c2, "wrong PUK, short new one");
	cr_assert_eq(h_st.pin_left, 2);
	cr_assert_eq(h_st.puk_left, 2);
}

Test(card, usb_key_any_bytes_verify_and_count)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	/* ykman blocks the PIN with an empty PIN: a wrong PIN, not 6A80. */
	cr_assert_eq(h_tx("00 20 00 80 08 ff ff ff ff ff ff ff ff"), 0x63c2);
	cr_assert_eq(h_tx("00 20 00 80 08 41 42 ff ff ff ff ff ff"), 0x63c1);
}

Test(card, usb_key_puk_ascii_only_from_5_7)
{
	h_card_fw(5, 7, 1);
	h_select();
	cr_assert_eq(h_tx("00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "31 32 33 34 35 36 37 e9"), 0x6a80, "5.7: PUK byte E9");
	cr_assert_eq(h_st.puk_left, 3);
	h_card_fw(5, 4, 3);
	h_select();
	cr_assert_eq(h_tx("00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "31 32 33 34 35 36 37 e9"), 0x9000, "5.4.3: any byte");
}

Test(card, piv_card_checks_new_value_format_first)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 2c 00 80 10 30 30 30 30 30 30 30 30 "
	    "ff ff ff ff ff ff ff ff"), 0x6a80, "empty new PIN");
	cr_assert_eq(h_tx("00 24 00 80 10 39 39 39 39 39 39 ff ff "
	    "31 32 33 ff ff ff ff ff"), 0x6a80, "short new PIN");
	cr_assert_eq(h_st.puk_left, 3, "no PUK try spent");
	cr_assert_eq(h_st.pin_left, 3, "no PIN try spent");
}

/* ---- data objects ------------------------------------------------------------ */

Test(card, discovery_default_and_absent_objects)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "7e124f0ba0000003080000100001005f2f024000");
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x6a82, "CHUID");
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 07 00"), 0x6a82, "CCC");
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02"), 0x6a82, "no Le");
	cr_assert_eq(h_tx("00 cb 3f fe 05 5c 03 5f c1 02 00"), 0x6a86);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5d 03 5f c1 02 00"), 0x6a80);
	cr_assert_eq(h_tx("00 cb 3f ff 06 5c 03 5f c1 02 00 00"), 0x6a80,
	    "trailing byte");
}

Test(card, put_data_needs_admin_and_reads_back)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x6982);
	h_admin();
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x9000);
	cr_assert_eq(h_saves, 1);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "5302abcd");
	/* Empty content deletes. */
	cr_assert_eq(h_tx("00 db 3f ff 07 5c 03 5f c1 02 53 00"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x6a82);
	/* Discovery written as its own 7E TLV. */
	cr_assert_eq(h_tx("00 db 3f ff 14 7e 12 4f 0b a0 00 00 03 08 00 00 10 "
	    "00 01 00 5f 2f 02 60 20"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "7e124f0ba0000003080000100001005f2f026020");
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c2 02 53 02 ab cd"), 0x6a80,
	    "not a PIV tag on a plain card");
	cr_assert_eq(h_tx("00 db 3f ff 0a 5c 03 5f c1 02 53 02 ab cd 00"),
	    0x6a80, "trailing byte");
}

Test(card, pin_protected_objects)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	cr_assert_eq(h_tx("00 db 3f ff 0a 5c 03 5f c1 09 53 03 88 01 00"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 09 00"), 0x6982);
	h_verify();
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 09 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "5303880100");
}

Test(card, object_size_limit_usb_key)
{
	uint8_t cmd[3200];
	size_t n = 0;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	/* Extended PUT DATA: 5C 03 5FC10D 53 82 0BF8 <3064 bytes>. */
	cmd[n++] = 0x00; cmd[n++] = 0xdb; cmd[n++] = 0x3f; cmd[n++] = 0xff;
	cmd[n++] = 0x00; cmd[n++] = 0x0c; cmd[n++] = 0x00;
	memcpy(cmd + n, "\x5c\x03\x5f\xc1\x0d\x53\x82\x0b\xf8", 9);
	n += 9;
	memset(cmd + n, 0x42, 3064);
	n += 3064;
	cr_assert_eq(n - 7, 0x0c01);
	cmd[5] = 0x0c;
	cmd[6] = 0x01;
	cr_assert_eq(h_txb(cmd, n), 0x6a84, "3064 bytes is one too many");
	cmd[15] = 0xf7;
	cmd[6] = 0x00;
	cr_assert_eq(h_txb(cmd, n - 1), 0x9000, "3063 fits");
}

/* ---- response chaining and extended length ------------------------------ */

static void
put_object(size_t len)
{
	uint8_t cmd[16 + 4000];
	size_t n = 0;

	cmd[n++] = 0x00; cmd[n++] = 0xdb; cmd[n++] = 0x3f; cmd[n++] = 0xff;
	cmd[n++] = 0x00;
	cmd[n++] = (uint8_t)((len + 9) >> 8);
	cmd[n++] = (uint8_t)(len + 9);
	memcpy(cmd + n, "\x5c\x03\x5f\xc1\x05\x53\x82", 7);
	n += 7;
	cmd[n++] = (uint8_t)(len >> 8);
	cmd[n++] = (uint8_t)len;
	for (size_t i = 0; i < len; i++)
		cmd[n++] = (uint8_t)i;
	cr_assert_eq(h_txb(cmd, n), 0x9000);
}

Test(card, response_chaining_61xx)
{
	unsigned n;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	put_object(1000);			/* 53 82 03E8 + 1000 = 1004 */
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 05 00"), 0x6100,
	    "256 now, 748 left");
	cr_assert_eq(h_rsp_len, 256);
	cr_assert_eq(h_tx("00 c0 00 00 00"), 0x6100);
	cr_assert_eq(h_tx("00 c0 00 00 00"), 0x61ec, "236 left");
	cr_assert_eq(h_tx("00 c0 00 00 10"), 0x61dc, "Le 16: 16 now");
	cr_assert_eq(h_rsp_len, 16);
	cr_assert_eq(h_tx("00 c0 00 00 dc"), 0x9000);
	cr_assert_eq(h_rsp_len, 0xdc);
	cr_assert_eq(h_tx("00 c0 00 00 00"), 0x6985, "nothing pending");
	cr_assert_eq(h_read_all("00 cb 3f ff 05 5c 03 5f c1 05 00", &n), 0x9000);
	cr_assert_eq(h_all_len, 1004);
	cr_assert_eq(n, 4, "1004 bytes in 4 R-APDUs");
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(h_all[4 + i], (uint8_t)i);
	/* OpenSC reads 8 bytes first, then starts over. */
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 05 08"), 0x6100);
	cr_assert_eq(h_rsp_len, 8);
	cr_assert_eq(h_read_all("00 cb 3f ff 05 5c 03 5f c1 05 00", NULL),
	    0x9000);
	cr_assert_eq(h_all_len, 1004);
	/* Another command drops the pending data. */
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 05 00"), 0x6100);
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3);
	cr_assert_eq(h_tx("00 c0 00 00 00"), 0x6985);
}

Test(card, quirk_get_response_255)
{
	unsigned n;

	h_card(VC_PROFILE_USB_KEY, VC_QUIRK_GET_RESPONSE_255);
	h_select();
	h_admin();
	put_object(1000);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 05 00"), 0x6100);
	cr_assert_eq(h_rsp_len, 255, "capped although Le asked 256");
	cr_assert_eq(h_read_all("00 cb 3f ff 05 5c 03 5f c1 05 00", &n), 0x9000);
	cr_assert_eq(h_all_len, 1004);
	cr_assert_eq(n, 4);
	/* Even an extended Le gets 255 per R-APDU. */
	cr_assert_eq(h_tx("00 cb 3f ff 00 00 05 5c 03 5f c1 05 00 00"), 0x6100);
	cr_assert_eq(h_rsp_len, 255);
}

Test(card, extended_length_usb_key)
{
	h_card(VC_PROFILE_USB_KEY, 0);
	cr_assert(vc_card_extended(h_c));
	h_select();
	h_admin();
	put_object(3000);
	cr_assert_eq(h_tx("00 cb 3f ff 00 00 05 5c 03 5f c1 05 00 00"), 0x9000);
	cr_assert_eq(h_rsp_len, 3004, "one R-APDU");
	cr_assert_eq(h_tx("00 cb 3f ff 00 00 05 5c 03 5f c1 05 01 00"), 0x6100,
	    "extended Le 256");
	cr_assert_eq(h_rsp_len, 256);
}

Test(card, extended_refused_on_piv_card_and_quirk)
{
	uint8_t atr[33];
	size_t n;

	h_card(VC_PROFILE_PIV_CARD, 0);
	cr_assert_not(vc_card_extended(h_c));
	cr_assert_eq(h_tx("00 cb 3f ff 00 00 03 5c 01 7e 00 00"), 0x6700);
	n = vc_card_atr(h_c, atr);
	cr_assert_eq(atr[11] & 0x40, 0, "ATR: no extended Lc/Le");
	h_card(VC_PROFILE_USB_KEY, VC_QUIRK_NO_EXTENDED);
	h_select();
	cr_assert_eq(h_tx("00 cb 3f ff 00 00 03 5c 01 7e 00 00"), 0x6700);
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	n = vc_card_atr(h_c, atr);
	cr_assert_eq(atr[13], 0x80, "capabilities byte 3 without b7");
	(void)n;
}

/* ---- command chaining ---------------------------------------------------- */

Test(card, command_chaining_put_data)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	h_admin();
	cr_assert_eq(h_tx("10 db 3f ff 06 5c 03 5f c1 02 53"), 0x9000);
	cr_assert_eq(h_rsp_len, 0);
	cr_assert_eq(h_tx("10 db 3f ff 02 03 01"), 0x9000);
	cr_assert_eq(h_tx("00 db 3f ff 02 02 03"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "5303010203");
	/* A different command in the middle rolls the chain back. */
	cr_assert_eq(h_tx("10 db 3f ff 06 5c 03 5f c1 02 53"), 0x9000);
	cr_assert_eq(h_tx("00 20 00 80"), 0x63c3);
	cr_assert_eq(h_tx("00 db 3f ff 02 01 aa"), 0x6a80, "fresh, malformed");
	/* Chaining only where Part 2 Table 2 allows it. */
	cr_assert_eq(h_tx("10 cb 3f ff 03 5c 01 7e"), 0x6884);
	cr_assert_eq(h_tx("10 a4 04 00 05 a0 00 00 03 08"), 0x6884);
}

/* ---- management key ------------------------------------------------------- */

Test(card, admin_mutual_wrong_witness_and_alg)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 87 08 9b 04 7c 02 80 00"), 0x6a86,
	    "card: AES != 3DES is a P1 error");
	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	cr_assert_eq(h_tx("00 87 08 9b 04 7c 02 80 00"), 0x6a80,
	    "YubiKey: AES != 3DES is a data error");
	cr_assert_eq(h_tx("00 87 00 9b 04 7c 02 80 00"), 0x9000, "00 = 3DES");
	cr_assert_eq(h_tx("00 87 03 9b 04 7c 02 80 00"), 0x9000);
	cr_assert_eq(h_tx("00 87 03 9b 16 7c 14 80 08 00 00 00 00 00 00 00 00 "
	    "81 08 11 11 11 11 11 11 11 11"), 0x6982, "wrong witness");
	cr_assert_eq(h_tx("00 87 03 9b 16 7c 14 80 08 00 00 00 00 00 00 00 00 "
	    "81 08 11 11 11 11 11 11 11 11"), 0x6982, "no witness in flight");
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x6982);
}

Test(card, admin_external_authenticate)
{
	static const uint8_t k[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5,
	    6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t cmd[20] = { 0x00, 0x87, 0x03, 0x9b, 0x0c, 0x7c, 0x0a, 0x82,
	    0x08 };

	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 87 03 9b 04 7c 02 81 00 00"), 0x9000);
	cr_assert_eq(h_rsp_len, 12);
	cr_assert_eq(vc_sym_crypt(0x03, k, true, h_rsp + 4, cmd + 9), PV_OK);
	cr_assert_eq(h_txb(cmd, 17), 0x9000);
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x9000);
	/* A wrong response fails. */
	cr_assert_eq(h_tx("00 87 03 9b 04 7c 02 81 00 00"), 0x9000);
	cmd[9] ^= 1;
	cr_assert_eq(h_txb(cmd, 17), 0x6982);
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x6982,
	    "failed auth drops the admin status");
}

/* ---- keys ----------------------------------------------------------------- */

Test(card, generate_rules)
{
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 47 00 9a 05 ac 03 80 01 11 00"), 0x6982);
	h_admin();
	cr_assert_eq(h_tx("00 47 00 82 05 ac 03 80 01 11 00"), 0x6a86,
	    "plain card: GENERATE takes 9A 9C 9D 9E");
	cr_assert_eq(h_tx("00 47 00 9a 05 ac 03 80 01 99 00"), 0x6a80);
	cr_assert_eq(h_tx("00 47 01 9a 05 ac 03 80 01 11 00"), 0x6a86);
	cr_assert_eq(h_tx("00 47 00 9a 08 ac 06 80 01 11 aa 01 01 00"), 0x6a80,
	    "no YubiKey policy on a plain card");
	cr_assert_eq(h_tx("00 47 00 9a 09 ac 07 80 01 07 81 02 00 03 00"), 0x6a80,
	    "e = 3");
	cr_assert_eq(h_tx("00 47 00 9a 05 ac 03 80 01 11 00"), 0x9000);
	cr_assert_eq(h_rsp_len, 70);
	cr_assert_eq(memcmp(h_rsp, "\x7f\x49\x43\x86\x41\x04", 6), 0);
	h_card(VC_PROFILE_MOBILE, 0);
	h_select();
	h_admin();
	cr_assert_eq(h_tx("00 47 00 9e 05 ac 03 80 01 11 00"), 0x6a86,
	    "no 9E on the mobile token");
	cr_assert_eq(h_tx("00 47 00 95 05 ac 03 80 01 11 00"), 0x9000);
}

Test(card, generate_rsa_chains_and_policies)
{
	EVP_PKEY *pk;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	cr_assert_eq(h_tx("00 47 00 9a 05 ac 03 80 01 07 00"), 0x610e,
	    "270 bytes: 256 + 61 0E");
	cr_assert_eq(memcmp(h_rsp, "\x7f\x49\x82\x01\x09\x81\x82\x01\x00", 9),
	    0, "81 first, minimal lengths");
	cr_assert_eq(h_tx("00 c0 00 00 0e"), 0x9000);
	cr_assert_eq(memcmp(h_rsp + 9, "\x82\x03\x01\x00\x01", 5), 0,
	    "e = 65537");
	cr_assert_eq(h_st.keys[0].pin_policy, VC_PIN_POLICY_ONCE);
	pk = h_generate(0x9c, 0x11);
	EVP_PKEY_free(pk);
	cr_assert_eq(vc_state_key(&h_st, 0x9c)->pin_policy, VC_PIN_POLICY_ALWAYS);
	cr_assert_eq(h_tx("00 47 00 9e 0b ac 09 80 01 11 aa 01 02 ab 01 03 00"),
	    0x9000);
	cr_assert_eq(vc_state_key(&h_st, 0x9e)->pin_policy, VC_PIN_POLICY_ONCE);
	cr_assert_eq(vc_state_key(&h_st, 0x9e)->touch_policy,
	    VC_TOUCH_POLICY_CACHED);
	cr_assert_eq(h_tx("00 47 00 9e 08 ac 06 80 01 11 aa 01 07 00"), 0x6a80);
	cr_assert_eq(h_tx("00 47 00 9a 05 ac 03 80 01 05 00"), 0x6a80,
	    "no RSA-3072 before firmware 5.7");
}

static void
verify_ecdsa(EVP_PKEY *pk, const uint8_t *h, size_t hl)
{
	struct buf_cur c, t, s;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);

	buf_cur_init(&c, h_all, h_all_len);
	cr_assert(tlv_get(&c, 0x7c, &t) && buf_done(&c));
	cr_assert(tlv_get(&t, 0x82, &s) && buf_done(&t));
	cr_assert(EVP_PKEY_verify_init(ctx) > 0);
	cr_assert_eq(EVP_PKEY_verify(ctx, s.p, s.len, h, hl), 1,
	    "card's ECDSA signature verifies");
	EVP_PKEY_CTX_free(ctx);
}

Test(card, ecdsa_sign_pin_rules)
{
	uint8_t h[32];
	EVP_PKEY *a, *c, *e;

	memset(h, 0x37, sizeof(h));
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	h_admin();
	a = h_generate(0x9a, 0x11);
	c = h_generate(0x9c, 0x11);
	e = h_generate(0x9e, 0x14);
	cr_assert_eq(h_ga(0x11, 0x9a, 0x81, h, 32), 0x6982, "9A needs PIN");
	cr_assert_eq(h_ga(0x14, 0x9e, 0x81, h, 32), 0x9000, "9E never");
	verify_ecdsa(e, h, 32);
	cr_assert_eq(h_ga(0x14, 0x9a, 0x81, h, 32), 0x6a86, "alg mismatch");
	h_verify();
	cr_assert_eq(h_ga(0x11, 0x9a, 0x81, h, 32), 0x9000);
	verify_ecdsa(a, h, 32);
	cr_assert_eq(h_ga(0x11, 0x9a, 0x81, h, 32), 0x9000, "once: again ok");
	cr_assert_eq(h_ga(0x11, 0x9c, 0x81, h, 32), 0x9000, "fresh VERIFY");
	verify_ecdsa(c, h, 32);
	cr_assert_eq(h_ga(0x11, 0x9c, 0x81, h, 32), 0x6982,
	    "9C: PIN always, used up");
	h_verify();
	cr_assert_eq(h_ga(0x11, 0x9c, 0x81, h, 20), 0x9000, "short hash");
	verify_ecdsa(c, h, 20);
	cr_assert_eq(h_ga(0x11, 0x9d, 0x81, h, 32), 0x6a88, "no key in 9D");
	cr_assert_eq(h_ga(0x11, 0x9a, 0x80, h, 32), 0x6a80, "witness tag");
	EVP_PKEY_free(a);
	EVP_PKEY_free(c);
	EVP_PKEY_free(e);
}

Test(card, rsa_raw_private_operation)
{
	uint8_t em[256], back[256];
	size_t n = sizeof(back);
	EVP_PKEY *pk;
	EVP_PKEY_CTX *ctx;
	struct buf_cur c, t, s;

	h_card(VC_PROFILE_USB_KEY, 0);
	h_select();
	h_admin();
	pk = h_generate(0x9d, 0x07);
	h_verify();
	memset(em, 0x11, sizeof(em));
	em[0] = 0x00;
	cr_assert_eq(h_ga(0x07, 0x9d, 0x81, em, 255), 0x6a80, "short input");
	cr_assert_eq(h_ga(0x07, 0x9d, 0x81, em, 256), 0x9000);
	buf_cur_init(&c, h_all, h_all_len);
	cr_assert(tlv_get(&c, 0x7c, &t));
	cr_assert(tlv_get(&t, 0x82, &s));
	cr_assert_eq(s.len, 256);
	/* (em^d)^e = em */
	ctx = EVP_PKEY_CTX_new(pk, NULL);
	cr_assert(EVP_PKEY_verify_recover_init(ctx) > 0);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0);
	cr_assert(EVP_PKEY_verify_recover(ctx, back, &n, s.p, s.len) > 0);
	cr_assert_eq(n, 256);
	cr_assert_eq(memcmp(back, em, 256), 0);
	memset(em, 0xff, sizeof(em));
	cr_assert_eq(h_ga(0x07, 0x9d, 0x81, em, 256), 0x6a80, "input >= n");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
}

Test(card, ecdh_matches_host)
{
	EVP_PKEY *card_pub, *host = NULL;
	EVP_PKEY_CTX *ctx;
	uint8_t pt[65], z[32];
	size_t ptl = 0, zl = sizeof(z);
	struct buf_cur c, t, s;

	h_card(VC_PROFILE_MOBILE, 0);
	h_select();
	h_admin();
	card_pub = h_generate(0x9d, 0x11);
	cr_assert_eq(vc_keygen(0x11, &host), PV_OK);
	cr_assert(EVP_PKEY_get_octet_string_param(host, "encoded-pub-key", pt,
	    sizeof(pt), &ptl));
	cr_assert_eq(h_ga(0x11, 0x9d, 0x85, pt, ptl), 0x6982, "PIN once");
	h_verify();
	cr_assert_eq(h_ga(0x11, 0x9d, 0x85, pt, ptl), 0x9000);
	buf_cur_init(&c, h_all, h_all_len);
	cr_assert(tlv_get(&c, 0x7c, &t));
	cr_assert(tlv_get(&t, 0x82, &s));
	ctx = EVP_PKEY_CTX_new(host, NULL);
	cr_assert(EVP_PKEY_derive_init(ctx) > 0);
	cr_assert(EVP_PKEY_derive_set_peer(ctx, card_pub) > 0);
	cr_assert(EVP_PKEY_derive(ctx, z, &zl) > 0);
	cr_assert_eq(s.len, 32);
	cr_assert_eq(memcmp(s.p, z, 32), 0, "same shared secret");
	pt[10] ^= 0x55;
	cr_assert_eq(h_ga(0x11, 0x9d, 0x85, pt, ptl), 0x6a80, "off-curve point");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(host);
	EVP_PKEY_free(card_pub);
}

/* ---- profiles ------------------------------------------------------------- */

Test(card, piv_card_has_no_yubikey_extensions)
{
	static const char *const ins[] = { "fd", "f8", "f7", "f9", "fa", "fb",
	    "fe", "ff" };
	char cmd[32];

	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	for (size_t i = 0; i < 8; i++) {
		snprintf(cmd, sizeof(cmd), "00 %s 00 00 00", ins[i]);
		cr_assert_eq(h_tx(cmd), 0x6d00, "INS %s", ins[i]);
	}
}

Test(card, atrs_offer_t1_with_good_tck)
{
	static const enum vc_profile ps[] = { VC_PROFILE_USB_KEY,
	    VC_PROFILE_PIV_CARD, VC_PROFILE_MOBILE };
	uint8_t atr[33], x;
	size_t n;

	for (size_t i = 0; i < 3; i++) {
		h_card(ps[i], 0);
		n = vc_card_atr(h_c, atr);
		cr_assert_eq(atr[0], 0x3b);
		cr_assert_not(atr[1] >> 4 == 8 && atr[2] == 0x80 &&
		    atr[3] == 0x01, "not the contactless shape");
		x = 0;
		for (size_t j = 1; j < n; j++)
			x ^= atr[j];
		cr_assert_eq(x, 0, "TCK");
	}
	h_card(VC_PROFILE_USB_KEY, 0);
	n = vc_card_atr(h_c, atr);
	cr_assert_eq(n, 23);
	cr_assert_eq(memcmp(atr, "\x3b\xfd\x13\x00\x00\x81\x31\xfe\x15\x80\x73"
	    "\xc0\x21\xc0\x57\x59\x75\x62\x69\x4b\x65\x79\x40", 23), 0,
	    "the YubiKey 5 ATR");
	/* TD1 = 81: T=1 offered on the USB key; TD2 = 31 on the card. */
	h_card(VC_PROFILE_PIV_CARD, 0);
	vc_card_atr(h_c, atr);
	cr_assert_eq(atr[3] & 0x0f, 1);
	cr_assert_eq(atr[4] & 0x0f, 1);
}

Test(card, quirk_select_needs_full_aid)
{
	uint8_t atr[33];

	h_card(VC_PROFILE_PIV_CARD, VC_QUIRK_SELECT_FULL_AID);
	cr_assert_eq(h_tx("00 a4 04 00 09 a0 00 00 03 08 00 00 10 00 00"),
	    0x6a82);
	cr_assert_eq(h_tx("00 a4 04 00 05 a0 00 00 03 08 00"), 0x6a82);
	cr_assert_eq(h_tx("00 a4 04 00 0b a0 00 00 03 08 00 00 10 00 01 00 00"),
	    0x9000);
	vc_card_atr(h_c, atr);
	cr_assert_eq(atr[9], 0x80, "ATR: selection by full DF name only");
}

Test(card, quirk_and_fault_names)
{
	struct vc_fault f;
	struct pv_why why = { { 0 } };

	cr_assert_eq(vc_quirk_parse("no-extended"), VC_QUIRK_NO_EXTENDED);
	cr_assert_eq(vc_quirk_parse("get-response-255"),
	    VC_QUIRK_GET_RESPONSE_255);
	cr_assert_eq(vc_quirk_parse("select-needs-full-aid"),
	    VC_QUIRK_SELECT_FULL_AID);
	cr_assert_eq(vc_quirk_parse("pin-sw-630x"), VC_QUIRK_PIN_SW_630X);
	cr_assert_eq(vc_quirk_parse("factory-chuid"), VC_QUIRK_FACTORY_CHUID);
	cr_assert_eq(vc_quirk_parse("discovery-builtin"),
	    VC_QUIRK_DISCOVERY_BUILTIN);
	cr_assert_eq(vc_quirk_parse("nope"), 0);
	cr_assert(vc_fault_parse("remove-after=12:500", &f, &why));
	cr_assert_eq(f.kind, VC_FAULT_REMOVE);
	cr_assert_eq(f.after, 12);
	cr_assert_eq(f.ms, 500);
	cr_assert(vc_fault_parse("garbage-after=0", &f, &why));
	cr_assert_eq(f.kind, VC_FAULT_GARBAGE);
	cr_assert_not(vc_fault_parse("garbage-after=1:5", &f, &why));
	cr_assert_not(vc_fault_parse("remove-after=", &f, &why));
	cr_assert_not(vc_fault_parse("remove-after=-1", &f, &why));
	cr_assert_not(vc_fault_parse("explode-after=3", &f, &why));
	cr_assert_not(vc_fault_parse("mute-after=99999999999", &f, &why));
	cr_assert_not_null(strstr(why.msg, "mute-after"), "why names it");
}

/* GENERAL AUTHENTICATE sent in 255-byte chained blocks, short APDUs only. */
static uint16_t
ga_chained(uint8_t alg, uint8_t slot, const uint8_t *in, size_t n)
{
	uint8_t tpl[600], cmd[300];
	struct buf_out o;
	size_t m, off = 0;
	uint16_t sw = 0;

	buf_out_fixed(&o, tpl, sizeof(tpl));
	tlv_open(&o, 0x7c, &m);
	tlv_put(&o, 0x82, NULL, 0);
	tlv_put(&o, 0x81, in, n);
	tlv_close(&o, m);
	cr_assert(buf_out_ok(&o));
	while (off < o.len) {
		size_t k = o.len - off > 255 ? 255 : o.len - off;
		bool last = off + k == o.len;

		cmd[0] = last ? 0x00 : 0x10;
		cmd[1] = 0x87;
		cmd[2] = alg;
		cmd[3] = slot;
		cmd[4] = (uint8_t)k;
		memcpy(cmd + 5, tpl + off, k);
		cmd[5 + k] = 0x00;
		sw = h_txb(cmd, 6 + k);
		if (!last)
			cr_assert_eq(sw, 0x9000, "intermediate block");
		off += k;
	}
	h_all_len = 0;
	for (;;) {
		memcpy(h_all + h_all_len, h_rsp, h_rsp_len);
		h_all_len += h_rsp_len;
		if ((sw & 0xff00) != 0x6100)
			break;
		sw = h_tx("00 c0 00 00 00");
	}
	return sw;
}

Test(card, rsa3072_and_rsa1024_on_piv_card)
{
	uint8_t em[384], back[384];
	size_t n = sizeof(back);
	EVP_PKEY *pk, *small;
	EVP_PKEY_CTX *ctx;
	struct buf_cur c, t, s;

	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	h_admin();
	pk = h_generate(0x9d, 0x05);
	cr_assert_eq(EVP_PKEY_get_bits(pk), 3072);
	small = h_generate(0x9e, 0x06);
	cr_assert_eq(EVP_PKEY_get_bits(small), 1024);
	EVP_PKEY_free(small);
	h_verify();
	memset(em, 0x01, sizeof(em));
	em[0] = 0;
	cr_assert_eq(ga_chained(0x05, 0x9d, em, sizeof(em)), 0x9000);
	buf_cur_init(&c, h_all, h_all_len);
	cr_assert(tlv_get(&c, 0x7c, &t) && tlv_get(&t, 0x82, &s));
	cr_assert_eq(s.len, 384);
	ctx = EVP_PKEY_CTX_new(pk, NULL);
	cr_assert(EVP_PKEY_verify_recover_init(ctx) > 0);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0);
	cr_assert(EVP_PKEY_verify_recover(ctx, back, &n, s.p, s.len) > 0);
	cr_assert_eq(memcmp(back, em, 384), 0, "RSA-3072 raw operation");
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
}

/*
 * factory-chuid (firmware-notes/factory-chuid.md): the card leaves the
 * factory with an unsigned CHUID: the placeholder FASC-N, a random v4
 * GUID, expiry 2030-01-01, 3E 00.  It can be overwritten, and a PIV reset
 * (usb-key) brings a factory CHUID back.
 */
Test(card, quirk_factory_chuid)
{
	static const char fascn[] =
	    "d4e739da739ced39ce739d836858210842108421c84210c3eb";
	struct piv_chuid ch;
	struct buf_cur v;
	char hex[64];
	int i;

	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x6a82,
	    "no CHUID without the quirk");

	h_card(VC_PROFILE_PIV_CARD, VC_QUIRK_FACTORY_CHUID);
	h_select();
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x9000);
	buf_cur_init(&v, h_rsp, h_rsp_len);
	cr_assert(tlv_get(&v, 0x53, &v) && v.len > 0);
	cr_assert_eq(piv_chuid_parse(v.p, v.len, &ch, NULL), PV_OK);
	for (i = 0; i < 25; i++)
		snprintf(hex + 2 * i, 3, "%02x", ch.fascn[i]);
	cr_assert_str_eq(hex, fascn, "the placeholder FASC-N");
	cr_assert_eq(ch.signature.len, 0, "unsigned: 3E 00");
	cr_assert_str_eq(ch.expiry, "20300101");
	cr_assert_eq(ch.guid[6] >> 4, 4, "a version 4 UUID");
	cr_assert(memcmp(h_rsp + h_rsp_len - 4, "\x3e\x00\xfe\x00", 4) == 0,
	    "ends 3E 00 FE 00: %s", h_rsp_hex());
	/* issuance overwrites it like any object */
	h_admin();
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), "5302abcd");

	/* usb-key: a PIV reset (PIN and PUK blocked) brings it back */
	h_card(VC_PROFILE_USB_KEY, VC_QUIRK_FACTORY_CHUID);
	h_select();
	h_admin();
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 02 53 02 ab cd"), 0x9000);
	for (i = 0; i < 3; i++) {
		h_tx("00 20 00 80 08 39 39 39 39 39 39 ff ff");
		h_tx("00 2c 00 80 10 39 39 39 39 39 39 39 39 39 39 39 39 39 39 "
		    "ff ff");
	}
	cr_assert_eq(h_tx("00 fb 00 00"), 0x9000);
	cr_assert_eq(h_tx("00 cb 3f ff 05 5c 03 5f c1 02 00"), 0x9000);
	buf_cur_init(&v, h_rsp, h_rsp_len);
	cr_assert(tlv_get(&v, 0x53, &v));
	cr_assert_eq(piv_chuid_parse(v.p, v.len, &ch, NULL), PV_OK);
	cr_assert_eq(ch.signature.len, 0);
}

/*
 * discovery-builtin (firmware-notes/discovery-builtin.md): the applet
 * builds its Discovery Object (PIV AID, PIN policy 40 00) and refuses
 * PUT DATA 7E with 6A80, changing nothing; other objects are written as
 * usual.
 */
Test(card, quirk_discovery_builtin)
{
	static const char disc[] = "7e124f0ba0000003080000100001005f2f024000";
	static const char put[] = "00 db 3f ff 14 7e 12 4f 0b a0 00 00 03 08 "
	    "00 00 10 00 01 00 5f 2f 02 60 20";

	/* without the quirk the card stores what it is given */
	h_card(VC_PROFILE_PIV_CARD, 0);
	h_select();
	h_admin();
	cr_assert_eq(h_tx(put), 0x9000);

	h_card(VC_PROFILE_PIV_CARD, VC_QUIRK_DISCOVERY_BUILTIN);
	h_select();
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), disc);
	h_admin();
	h_saves = 0;
	cr_assert_eq(h_tx(put), 0x6a80, "PUT DATA 7E refused");
	cr_assert_eq(h_saves, 0, "nothing changed");
	cr_assert_eq(h_tx("00 cb 3f ff 03 5c 01 7e 00"), 0x9000);
	cr_assert_str_eq(h_rsp_hex(), disc, "still the applet's own");
	cr_assert_eq(h_tx("00 db 3f ff 09 5c 03 5f c1 07 53 02 f5 10"), 0x9000,
	    "other objects are written");
}
