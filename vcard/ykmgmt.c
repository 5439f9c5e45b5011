/*
 * ykmgmt.c: the YubiKey applications that live beside PIV on the usb-key
 * profile: the management application (A0 00 00 05 27 47 11 17), whose
 * SELECT answers the firmware version as text and whose READ CONFIG (1D)
 * gives the device information, and the SELECT of the OTP application
 * (A0 00 00 05 27 20 01 [01]), which answers the OTP status.  The OTP
 * serial command lives in ykext.c.  firmware-notes/yubikey-management-app.md.
 */
#include <stdio.h>
#include <string.h>

#include "apdu/tlv.h"
#include "vcard/card_int.h"

static const uint8_t aid_yk_mgmt[8] = {
	0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17,
};
static const uint8_t aid_yk_otp[8] = {
	0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01, 0x01,
};

/* Capability bits of the device information (yubikit CAPABILITY). */
#define YK_CAP_OTP	0x0001u
#define YK_CAP_U2F	0x0002u
#define YK_CAP_OPENPGP	0x0008u
#define YK_CAP_PIV	0x0010u
#define YK_CAP_OATH	0x0020u
#define YK_CAP_FIDO2	0x0200u

/* Form factor: USB-A keychain, the shape of a YubiKey 5A / 4. */
#define YK_FORM_USB_A_KEYCHAIN	0x01

/*
 * Which SELECT, if any, of the YubiKey's other applications |aid| is:
 * the management AID in full, or the OTP AID in full or without its last
 * byte (yubikit selects A0 00 00 05 27 20 01, ykpiv all eight bytes).
 */
enum vc_app
vc_yk_other_aid(const uint8_t *aid, size_t n)
{
	if (n == sizeof(aid_yk_mgmt) && memcmp(aid, aid_yk_mgmt, n) == 0)
		return VC_APP_YK_MGMT;
	if ((n == 7 || n == 8) && memcmp(aid, aid_yk_otp, n) == 0)
		return VC_APP_YK_OTP;
	return VC_APP_NONE;
}

/*
 * Firmware 1.x and 2.x YubiKeys had no smart-card interface at all: a key
 * reporting such a version has no management application to select.  The
 * NEO (3.x), the YubiKey 4 and 5 answer its SELECT with the version text.
 */
static bool
has_mgmt_app(const struct vc_card *c)
{
	return vc_fw_at_least(c, 3, 0, 0);
}

uint16_t
vc_yk_select_other(struct vc_card *c, enum vc_app app, struct buf_out *out)
{
	const uint8_t *v = c->st->version;
	char text[48];
	int n;

	if (app == VC_APP_YK_MGMT && !has_mgmt_app(c))
		return SW_NOT_FOUND;
	/* Part 2 §3.1.1: another valid application deselects PIV and
	 * clears its security status. */
	vc_clear_security(c);
	c->app = app;
	if (app == VC_APP_YK_MGMT) {
		/* The text ykman and yubikit read the version from. */
		n = snprintf(text, sizeof(text), "Virtual mgr - FW version "
		    "%u.%u.%u", v[0], v[1], v[2]);
		if (n < 0 || (size_t)n >= sizeof(text))
			return SW_MEMORY_FAILURE;
		buf_put(out, text, (size_t)n);
		return SW_OK;
	}
	/* OTP status: version, programming sequence (0: no slot written),
	 * touch level (2 bytes, little-endian; no slot configured). */
	buf_put(out, v, 3);
	buf_put(out, "\x00\x00\x00", 3);
	return SW_OK;
}

static void
put_u16(struct buf_out *out, uint32_t tag, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	tlv_put(out, tag, b, sizeof(b));
}

static void
put_u8(struct buf_out *out, uint32_t tag, uint8_t v)
{
	tlv_put(out, tag, &v, 1);
}

/*
 * READ CONFIG, 00 1D 00 00 in the management application (firmware 4.1
 * and later; card.c answers 6D00 below): one length byte, then the device
 * information TLVs.  A YubiKey 5A without NFC: the applications it has
 * over USB, all enabled, unlocked; a YubiKey 4 has no FIDO2 and reports
 * no enabled set.
 */
uint16_t
vc_yk_read_config(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	const struct vc_state *st = c->st;
	uint8_t ser[4] = { (uint8_t)(st->serial >> 24),
	    (uint8_t)(st->serial >> 16), (uint8_t)(st->serial >> 8),
	    (uint8_t)st->serial };
	bool yk5 = vc_fw_at_least(c, 5, 0, 0);
	unsigned caps = YK_CAP_OTP | YK_CAP_U2F | YK_CAP_OPENPGP | YK_CAP_PIV |
	    YK_CAP_OATH | (yk5 ? YK_CAP_FIDO2 : 0u);
	size_t len_at = out->len, body;

	if (c->app != VC_APP_YK_MGMT)
		return SW_INS_UNSUPPORTED;
	if (a->p1 != 0x00 || a->p2 != 0x00)
		return SW_BAD_P1P2;
	buf_put_u8(out, 0);	/* the length, set below */
	put_u16(out, 0x01, caps);
	tlv_put(out, 0x02, ser, sizeof(ser));
	if (yk5)
		put_u16(out, 0x03, caps);
	put_u8(out, 0x04, YK_FORM_USB_A_KEYCHAIN);
	tlv_put(out, 0x05, st->version, 3);
	put_u16(out, 0x06, 0);		/* auto-eject timeout: none */
	put_u8(out, 0x07, 15);		/* challenge-response timeout, s */
	put_u8(out, 0x08, 0);		/* device flags */
	put_u8(out, 0x0a, 0);		/* configuration not locked */
	if (!buf_out_ok(out))
		return SW_MEMORY_FAILURE;
	body = out->len - len_at - 1;
	if (body > 0xff)
		return SW_MEMORY_FAILURE;
	out->p[len_at] = (uint8_t)body;
	return SW_OK;
}
