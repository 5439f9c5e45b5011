/*
 * piv.c: the SP 800-73-4 Part 2 card edge of the virtual card: SELECT,
 * GET DATA, PUT DATA, VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER,
 * GENERAL AUTHENTICATE and GENERATE ASYMMETRIC KEY PAIR, with the
 * security rules of Part 1 Tables 2, 4a and 4b.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "apdu/tlv.h"
#include "vcard/card_int.h"
#include "vcard/crypto.h"

static const uint8_t aid_piv[11] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
};
/* SP 800-157 Appendix B: the derived PIV application. */
static const uint8_t aid_derived[11] = {
	0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00,
};

/* Largest object a YubiKey stores: its 3072-byte buffer minus framing
 * (PIV-REFERENCE §2.6, ykpiv CB_OBJ_MAX). */
#define YK_OBJ_MAX	3063

/* ---- SELECT ------------------------------------------------------------ */

static bool
aid_match(const uint8_t *p, size_t n, const uint8_t *full, size_t full_len,
    bool need_full)
{
	if (need_full)
		return n == full_len && memcmp(p, full, n) == 0;
	/* Right-truncated AIDs select too, down to the RID (ykpiv sends
	 * only the five RID bytes). */
	return n >= 5 && n <= full_len && memcmp(p, full, n) == 0;
}

static bool
put_apt(const struct vc_card *c, struct buf_out *out)
{
	static const uint8_t yk_pix[6] = { 0x00, 0x00, 0x10, 0x00, 0x01, 0x00 };
	static const uint8_t algs[] = { 0x03, 0x06, 0x07, 0x05, 0x11, 0x14 };
	size_t apt, inner;

	tlv_open(out, 0x61, &apt);
	if (c->st->profile == VC_PROFILE_USB_KEY) {
		/* A YubiKey answers with the PIX and version only. */
		tlv_put(out, 0x4f, yk_pix, sizeof(yk_pix));
	} else {
		tlv_put(out, 0x4f, c->derived_aid ? aid_derived : aid_piv, 11);
	}
	tlv_open(out, 0x79, &inner);
	tlv_put(out, 0x4f, aid_piv, 5);
	tlv_close(out, inner);
	if (c->st->profile != VC_PROFILE_USB_KEY) {
		tlv_open(out, 0xac, &inner);
		for (size_t i = 0; i < sizeof(algs); i++)
			tlv_put(out, 0x80, &algs[i], 1);
		tlv_put(out, 0x06, "\x00", 1);
		tlv_close(out, inner);
	}
	return tlv_close(out, apt);
}

uint16_t
vc_piv_select(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	bool full = (c->cfg.quirks & VC_QUIRK_SELECT_FULL_AID) != 0;
	bool usb = c->st->profile == VC_PROFILE_USB_KEY;
	bool derived = false;

	c->cost.op = VC_OP_SELECT;
	if (a->p1 != 0x04)
		return a->p1 <= 0x09 ? SW_NOT_FOUND : SW_BAD_P1P2;
	/*
	 * A YubiKey takes only P2 = 00 as applet selection; anything else
	 * goes to the current applet, which does not know it (OpenSC issue
	 * 1230).
	 */
	if (usb && a->p2 != 0x00)
		return SW_INS_UNSUPPORTED;
	if (a->p2 != 0x00 && a->p2 != 0x0c)
		return SW_BAD_P1P2;
	if (c->st->profile == VC_PROFILE_MOBILE && a->lc > 7 &&
	    aid_match(a->data, a->lc, aid_derived, 11, full)) {
		derived = true;
	} else if (!aid_match(a->data, a->lc, aid_piv, 11, full)) {
		enum vc_app other = vc_yk_other_aid(a->data, a->lc);

		/* The YubiKey's management and OTP applications (ykmgmt.c);
		 * a plain card and the mobile token have neither. */
		if (usb && other != VC_APP_NONE)
			return vc_yk_select_other(c, other, out);
		/* Unknown AID: the current application stays selected
		 * with its security status (Part 2 §3.1.1). */
		return SW_NOT_FOUND;
	}
	if (c->app != VC_APP_PIV)
		vc_clear_security(c);
	/* Re-selecting PIV while it is current keeps the PIN status. */
	c->app = VC_APP_PIV;
	c->derived_aid = derived;
	if (a->p2 == 0x0c)
		return SW_OK;
	return put_apt(c, out) ? SW_OK : SW_MEMORY_FAILURE;
}

/* ---- data objects ------------------------------------------------------ */

static bool
tag_valid(const struct vc_card *c, uint32_t tag)
{
	if (tag == 0x7e || tag == 0x7f61)
		return true;
	if (c->st->profile == VC_PROFILE_USB_KEY)
		return (tag >> 8) == 0x5fc1 || (tag >> 8) == 0x5fff;
	return tag >= 0x5fc101 && tag <= 0x5fc123;
}

/* Part 1 Table 2: the objects read only after PIN verification. */
static bool
tag_needs_pin(uint32_t tag)
{
	return tag == 0x5fc103 || tag == 0x5fc108 || tag == 0x5fc109 ||
	    tag == 0x5fc121 || tag == 0x5fc123;
}

/* Part 1 §3.3.2: Discovery = 4F AID, 5F2F PIN usage policy 40 00. */
static void
put_discovery_default(const struct vc_card *c, struct buf_out *out)
{
	size_t m;

	tlv_open(out, 0x7e, &m);
	tlv_put(out, 0x4f, c->derived_aid ? aid_derived : aid_piv, 11);
	tlv_put(out, 0x5f2f, "\x40\x00", 2);
	tlv_close(out, m);
}

uint16_t
vc_piv_get_data(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct buf_cur in, v;
	const struct vc_obj *o;
	uint32_t tag = 0;
	uint8_t b;

	c->cost.op = VC_OP_READ;
	if (a->p1 != 0x3f || a->p2 != 0xff)
		return SW_BAD_P1P2;
	buf_cur_init(&in, a->data, a->lc);
	if (!tlv_get(&in, 0x5c, &v) || !buf_done(&in) || v.len < 1 ||
	    v.len > 3)
		return SW_BAD_DATA;
	while (buf_get_u8(&v, &b))
		tag = (tag << 8) | b;
	if (!tag_valid(c, tag))
		return SW_NOT_FOUND;
	if (tag_needs_pin(tag) && !c->pin_ok)
		return SW_SECURITY;
	/* discovery-builtin.md: the applet builds 7E itself, always. */
	o = tag == 0x7e && (c->cfg.quirks & VC_QUIRK_DISCOVERY_BUILTIN) ?
	    NULL : vc_state_obj(c->st, tag);
	if (o == NULL) {
		if (tag != 0x7e)
			return SW_NOT_FOUND;
		put_discovery_default(c, out);
		return SW_OK;
	}
	/* Discovery and the BIT group template carry their own tag; every
	 * other object comes wrapped in 53 (Part 2 §3.1.2). */
	tlv_put(out, tag == 0x7e || tag == 0x7f61 ? tag : 0x53, o->data,
	    o->len);
	return SW_OK;
}

uint16_t
vc_piv_put_data(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct buf_cur in, v, content;
	uint32_t tag = 0, first;
	size_t max;
	uint8_t b;

	(void)out;
	c->cost.op = VC_OP_WRITE;
	if (a->p1 != 0x3f || a->p2 != 0xff)
		return SW_BAD_P1P2;
	if (!c->admin_ok)
		return SW_SECURITY;
	buf_cur_init(&in, a->data, a->lc);
	if (!tlv_peek_tag(&in, &first))
		return SW_BAD_DATA;
	if (first == 0x5c) {
		if (!tlv_get(&in, 0x5c, &v) || v.len < 1 || v.len > 3)
			return SW_BAD_DATA;
		while (buf_get_u8(&v, &b))
			tag = (tag << 8) | b;
		if (!tlv_get(&in, 0x53, &content) || !buf_done(&in))
			return SW_BAD_DATA;
		if (tag == 0x7e || tag == 0x7f61)
			return SW_BAD_DATA;
	} else if (first == 0x7e || first == 0x7f61) {
		tag = first;
		if (!tlv_get(&in, first, &content) || !buf_done(&in))
			return SW_BAD_DATA;
	} else {
		return SW_BAD_DATA;
	}
	if (!tag_valid(c, tag))
		return SW_BAD_DATA;
	/* discovery-builtin.md: no storage for 7E, the write is refused. */
	if (tag == 0x7e && (c->cfg.quirks & VC_QUIRK_DISCOVERY_BUILTIN))
		return SW_BAD_DATA;
	max = c->st->profile == VC_PROFILE_USB_KEY ? YK_OBJ_MAX : VC_OBJ_MAX;
	if (content.len > max)
		return SW_NO_SPACE;
	if (vc_state_obj_put(c->st, tag, content.p, content.len) != PV_OK)
		return SW_NO_SPACE;
	return vc_commit(c, SW_OK);
}

/* ---- PIN and PUK -------------------------------------------------------- */

/* Length of an FF-padded value, or 0 when padding is interleaved. */
static size_t
padded_len(const uint8_t p[VC_PIN_LEN])
{
	size_t n = 0;

	while (n < VC_PIN_LEN && p[n] != 0xff)
		n++;
	for (size_t i = n; i < VC_PIN_LEN; i++)
		if (p[i] != 0xff)
			return 0;
	return n;
}

static bool
is_alnum(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') ||
	    (b >= 'a' && b <= 'z');
}

/*
 * Format rules for a new or presented value (Part 2 §2.4.3): a PIV PIN
 * is 6-8 digits, FF-padded; a PUK is 8 bytes of any value.  A YubiKey
 * takes any 6-8 bytes for both, except that from firmware 5.7 a PUK is
 * 6-8 bytes of 00-7F (Yubico SDK, CHANGE REFERENCE DATA).  The
 * derived-credential token's activation secret is 6-8 of 0-9 A-Z a-z
 * (SP 800-157 App. B).
 */
static bool
value_ok(const struct vc_card *c, const uint8_t v[VC_PIN_LEN], bool puk)
{
	size_t n = padded_len(v);

	switch (c->st->profile) {
	case VC_PROFILE_USB_KEY:
		if (n < 6)
			return false;
		if (puk && vc_fw_at_least(c, 5, 7, 0))
			for (size_t i = 0; i < n; i++)
				if (v[i] > 0x7f)
					return false;
		return true;
	case VC_PROFILE_PIV_CARD:
		if (puk)
			return true;
		if (n < 6)
			return false;
		for (size_t i = 0; i < n; i++)
			if (v[i] < '0' || v[i] > '9')
				return false;
		return true;
	case VC_PROFILE_MOBILE:
		if (puk)
			return true;
		if (n < 6)
			return false;
		for (size_t i = 0; i < n; i++)
			if (!is_alnum(v[i]))
				return false;
		return true;
	default:
		return false;
	}
}

/*
 * Which check comes first when a command carries both a value to verify
 * and a new one (firmware-notes/pin-puk-check-order.md).  A YubiKey
 * compares the presented PIN or PUK first (63CX, a try spent, when wrong)
 * and only then looks at the new value (6A80): ykman's PIV reset relies
 * on it, blocking the PUK with RESET RETRY COUNTER and an empty (all FF)
 * new PIN.  The plain card and the mobile token refuse a malformed new
 * value first (6A80, no try spent), which Part 2 §3.2.2-3.2.3 allows.
 */
static bool
verify_first(const struct vc_card *c)
{
	return c->st->profile == VC_PROFILE_USB_KEY;
}

/* 63CX, or 630X on a token with the NEO-style quirk (pin-sw-630x.md). */
static uint16_t
sw_retries(const struct vc_card *c, uint8_t left)
{
	uint8_t x = left > 15 ? 15 : left;

	if (c->cfg.quirks & VC_QUIRK_PIN_SW_630X)
		return (uint16_t)(0x6300 | x);
	return (uint16_t)(0x63c0 | x);
}

/*
 * check_value compares |v| with the stored |ref| (constant time) and
 * keeps the retry counter |left| (reset to |max| on success, one less
 * otherwise), persisting any change.  Returns 9000, 63CX or 6581.
 */
static uint16_t
check_value(struct vc_card *c, const uint8_t *v, const uint8_t *ref,
    uint8_t *left, uint8_t max)
{
	if (CRYPTO_memcmp(v, ref, VC_PIN_LEN) == 0) {
		if (*left == max)
			return SW_OK;
		*left = max;
		return vc_commit(c, SW_OK);
	}
	(*left)--;
	return vc_commit(c, sw_retries(c, *left));
}

uint16_t
vc_piv_verify(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	uint16_t sw;

	(void)out;
	c->cost.op = VC_OP_VERIFY;
	if (a->p1 != 0x00 && a->p1 != 0xff)
		return SW_BAD_P1P2;
	if (a->p2 != VC_REF_PIN)
		return SW_REF_NOT_FOUND;	/* no global PIN, OCC, pairing */
	if (a->p1 == 0xff) {
		/* Part 2 §3.2.1: reset the security status; no data. */
		if (a->lc != 0)
			return SW_BAD_DATA;
		c->pin_ok = c->pin_always_ok = false;
		return SW_OK;
	}
	if (a->lc == 0) {
		/* Status query (ykpiv sends it with P3 = 00, capdu.h). */
		c->cost.op = VC_OP_OTHER;
		if (c->pin_ok)
			return SW_OK;
		if (c->st->pin_left == 0)
			return SW_BLOCKED;
		return sw_retries(c, c->st->pin_left);
	}
	if (a->lc != VC_PIN_LEN)
		return SW_BAD_DATA;
	if (c->st->profile != VC_PROFILE_USB_KEY && !value_ok(c, a->data,
	    false))
		return SW_BAD_DATA;
	if (c->st->pin_left == 0)
		return SW_BLOCKED;
	c->pin_ok = c->pin_always_ok = false;
	sw = check_value(c, a->data, c->st->pin, &c->st->pin_left,
	    c->st->pin_max);
	if (sw == SW_OK)
		c->pin_ok = c->pin_always_ok = true;
	return sw;
}

uint16_t
vc_piv_change_ref(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	bool puk, new_ok;
	uint8_t *ref, *left, max;
	uint16_t sw;

	(void)out;
	c->cost.op = VC_OP_VERIFY;
	if (a->p1 != 0x00)
		return SW_BAD_P1P2;
	if (a->p2 != VC_REF_PIN && a->p2 != VC_REF_PUK)
		return SW_REF_NOT_FOUND;
	if (a->lc != 2 * VC_PIN_LEN)
		return SW_BAD_DATA;
	puk = a->p2 == VC_REF_PUK;
	ref = puk ? c->st->puk : c->st->pin;
	left = puk ? &c->st->puk_left : &c->st->pin_left;
	max = puk ? c->st->puk_max : c->st->pin_max;
	if (*left == 0)
		return SW_BLOCKED;
	new_ok = value_ok(c, a->data + VC_PIN_LEN, puk);
	if (!new_ok && !verify_first(c))
		return SW_BAD_DATA;
	if (!puk)
		c->pin_ok = c->pin_always_ok = false;
	sw = check_value(c, a->data, ref, left, max);
	if (sw != SW_OK)
		return sw;
	if (!new_ok)
		return SW_BAD_DATA;	/* the right value, a bad new one */
	memcpy(ref, a->data + VC_PIN_LEN, VC_PIN_LEN);
	if (puk) {
		c->st->puk_default = false;
	} else {
		c->st->pin_default = false;
		c->pin_ok = c->pin_always_ok = true;
	}
	return vc_commit(c, SW_OK);
}

uint16_t
vc_piv_reset_retry(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	bool new_ok;
	uint16_t sw;

	(void)out;
	c->cost.op = VC_OP_VERIFY;
	if (a->p1 != 0x00)
		return SW_BAD_P1P2;
	if (a->p2 != VC_REF_PIN)
		return SW_REF_NOT_FOUND;
	if (a->lc != 2 * VC_PIN_LEN)
		return SW_BAD_DATA;
	if (c->st->puk_left == 0)
		return SW_BLOCKED;
	new_ok = value_ok(c, a->data + VC_PIN_LEN, false);
	if (!new_ok && !verify_first(c))
		return SW_BAD_DATA;
	sw = check_value(c, a->data, c->st->puk, &c->st->puk_left,
	    c->st->puk_max);
	if (sw != SW_OK)
		return sw;
	if (!new_ok)
		return SW_BAD_DATA;	/* the right PUK, a bad new PIN */
	/* Part 2 §3.2.3: new PIN, counter reset, PIN status unchanged. */
	memcpy(c->st->pin, a->data + VC_PIN_LEN, VC_PIN_LEN);
	c->st->pin_left = c->st->pin_max;
	c->st->pin_default = false;
	return vc_commit(c, SW_OK);
}

/* ---- GENERAL AUTHENTICATE ----------------------------------------------- */

enum { GA_WITNESS, GA_CHALLENGE, GA_RESPONSE, GA_EXP, GA_N };

struct ga_tpl {
	bool has[GA_N];
	struct buf_cur v[GA_N];
};

/* Part 2 Table 7: 7C { 80 | 81 | 82 | 85 }, any order, each once. */
static bool
ga_parse(const struct vc_capdu *a, struct ga_tpl *t)
{
	struct buf_cur in, tpl, v;
	uint32_t tag;
	int i;

	memset(t, 0, sizeof(*t));
	buf_cur_init(&in, a->data, a->lc);
	if (!tlv_get(&in, 0x7c, &tpl) || !buf_done(&in))
		return false;
	while (!buf_done(&tpl)) {
		if (!tlv_get_any(&tpl, &tag, &v))
			return false;
		switch (tag) {
		case 0x80: i = GA_WITNESS; break;
		case 0x81: i = GA_CHALLENGE; break;
		case 0x82: i = GA_RESPONSE; break;
		case 0x85: i = GA_EXP; break;
		default: return false;
		}
		if (t->has[i])
			return false;
		t->has[i] = true;
		t->v[i] = v;
	}
	return true;
}

static bool
put_7c(struct buf_out *out, uint32_t tag, const uint8_t *p, size_t n)
{
	size_t m;

	return tlv_open(out, 0x7c, &m) && tlv_put(out, tag, p, n) &&
	    tlv_close(out, m);
}

/* 9B: external and mutual authentication (Part 2 App. A.1, A.2). */
static uint16_t
ga_admin(struct vc_card *c, const struct vc_capdu *a, const struct ga_tpl *t,
    struct buf_out *out)
{
	uint8_t alg = c->st->mgm_alg, blk[16], enc[16];
	size_t bl = vc_sym_block_len(alg);
	enum vc_auth_step step = c->auth_step;
	uint16_t sw = SW_SECURITY;

	c->cost.op = VC_OP_ADMIN;
	c->auth_step = VC_AUTH_IDLE;
	/*
	 * Some hosts name 3DES 00 (Part 2 examples; a YubiKey takes 00 or
	 * 03 for a 3DES key).  Another algorithm than the key's: 6A86 on
	 * the card (PIV-REFERENCE §2.5), 6A80 on a YubiKey
	 * (firmware-notes/pin-puk-check-order.md).
	 */
	if (a->p1 != alg && !(a->p1 == 0x00 && alg == VC_ALG_3DES))
		return c->st->profile == VC_PROFILE_USB_KEY ? SW_BAD_DATA :
		    SW_BAD_P1P2;
	if (t->has[GA_EXP])
		return SW_BAD_DATA;
	if (t->has[GA_WITNESS] && t->v[GA_WITNESS].len == 0 &&
	    !t->has[GA_CHALLENGE]) {
		/* Mutual step 1: the card sends E(witness). */
		if (!vc_rand(c->auth_buf, bl) ||
		    vc_sym_crypt(alg, c->st->mgm_key, true, c->auth_buf,
		    enc) != PV_OK)
			return SW_MEMORY_FAILURE;
		c->auth_step = VC_AUTH_WITNESS;
		c->auth_alg = alg;
		c->admin_ok = false;
		return put_7c(out, 0x80, enc, bl) ? SW_OK : SW_MEMORY_FAILURE;
	}
	if (t->has[GA_WITNESS] && t->has[GA_CHALLENGE]) {
		/* Mutual step 2: witness back in clear, host challenge in. */
		if (t->v[GA_WITNESS].len != bl || t->v[GA_CHALLENGE].len != bl ||
		    (t->has[GA_RESPONSE] && t->v[GA_RESPONSE].len != 0))
			goto fail;
		if (step != VC_AUTH_WITNESS || c->auth_alg != alg ||
		    CRYPTO_memcmp(t->v[GA_WITNESS].p, c->auth_buf, bl) != 0)
			goto fail;
		memcpy(blk, t->v[GA_CHALLENGE].p, bl);
		if (vc_sym_crypt(alg, c->st->mgm_key, true, blk, enc) != PV_OK) {
			sw = SW_MEMORY_FAILURE;
			goto fail;
		}
		c->admin_ok = true;
		sw = put_7c(out, 0x82, enc, bl) ? SW_OK : SW_MEMORY_FAILURE;
		goto out;
	}
	if (t->has[GA_CHALLENGE] && t->v[GA_CHALLENGE].len == 0 &&
	    !t->has[GA_RESPONSE]) {
		/* External step 1: a challenge in clear. */
		if (!vc_rand(c->auth_buf, bl))
			return SW_MEMORY_FAILURE;
		c->auth_step = VC_AUTH_CHALLENGE;
		c->auth_alg = alg;
		c->admin_ok = false;
		return put_7c(out, 0x81, c->auth_buf, bl) ? SW_OK :
		    SW_MEMORY_FAILURE;
	}
	if (t->has[GA_RESPONSE] && !t->has[GA_CHALLENGE] &&
	    !t->has[GA_WITNESS]) {
		/* External step 2: E(challenge) from the host. */
		if (t->v[GA_RESPONSE].len != bl || step != VC_AUTH_CHALLENGE ||
		    c->auth_alg != alg)
			goto fail;
		if (vc_sym_crypt(alg, c->st->mgm_key, true, c->auth_buf,
		    enc) != PV_OK) {
			sw = SW_MEMORY_FAILURE;
			goto fail;
		}
		if (CRYPTO_memcmp(enc, t->v[GA_RESPONSE].p, bl) != 0)
			goto fail;
		c->admin_ok = true;
		sw = SW_OK;
		goto out;
	}
	return SW_BAD_DATA;
fail:
	c->admin_ok = false;
out:
	OPENSSL_cleanse(c->auth_buf, sizeof(c->auth_buf));
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(enc, sizeof(enc));
	return sw;
}

static uint16_t
sw_of(enum pv_err r)
{
	switch (r) {
	case PV_OK: return SW_OK;
	case PV_E_BAD_DATA: return SW_BAD_DATA;
	case PV_E_NOMEM: return SW_MEMORY_FAILURE;
	default: return SW_BAD_DATA;
	}
}

uint16_t
vc_piv_general_auth(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct ga_tpl t;
	struct vc_key *k;
	struct buf_out res;
	enum pv_err r;
	uint16_t sw;
	size_t m, m2;

	if (!ga_parse(a, &t)) {
		c->auth_step = VC_AUTH_IDLE;
		return SW_BAD_DATA;
	}
	if (a->p2 == VC_REF_ADMIN)
		return ga_admin(c, a, &t, out);
	c->auth_step = VC_AUTH_IDLE;
	if (!vc_slot_allowed(c, a->p2, false) ||
	    (k = vc_state_key(c->st, a->p2)) == NULL)
		return SW_BAD_P1P2;
	if (k->alg == 0)
		return SW_REF_NOT_FOUND;
	if (a->p1 != k->alg)
		return SW_BAD_P1P2;
	/* Part 1 Table 4b and the slot's PIN policy. */
	if (k->pin_policy == VC_PIN_POLICY_ONCE && !c->pin_ok)
		return SW_SECURITY;
	if (k->pin_policy == VC_PIN_POLICY_ALWAYS && !c->pin_always_ok)
		return SW_SECURITY;
	if (!t.has[GA_RESPONSE] || t.v[GA_RESPONSE].len != 0 ||
	    t.has[GA_WITNESS] || t.has[GA_CHALLENGE] == t.has[GA_EXP])
		return SW_BAD_DATA;
	c->cost.op = VC_OP_SIGN;
	c->cost.alg = k->alg;
	if (!buf_out_alloc(&res, 600, 1024))
		return SW_MEMORY_FAILURE;
	if (t.has[GA_EXP]) {
		if (!vc_alg_is_ec(k->alg)) {
			sw = SW_BAD_DATA;
			goto out;
		}
		r = vc_ecdh(k->pkey, t.v[GA_EXP].p, t.v[GA_EXP].len, &res);
	} else if (vc_alg_is_rsa(k->alg)) {
		/* Sign or key transport: the host padded, the card does the
		 * raw private operation (App. A.3, A.5.1). */
		r = vc_rsa_private(k->pkey, t.v[GA_CHALLENGE].p,
		    t.v[GA_CHALLENGE].len, &res);
	} else {
		r = vc_ecdsa_sign(k->pkey, t.v[GA_CHALLENGE].p,
		    t.v[GA_CHALLENGE].len, &res);
	}
	if (r != PV_OK) {
		sw = sw_of(r);
		goto out;
	}
	if (k->pin_policy == VC_PIN_POLICY_ALWAYS)
		c->pin_always_ok = false;
	tlv_open(out, 0x7c, &m);
	tlv_open(out, 0x82, &m2);
	buf_put(out, res.p, res.len);
	tlv_close(out, m2);
	tlv_close(out, m);
	sw = buf_out_ok(out) ? SW_OK : SW_MEMORY_FAILURE;
out:
	buf_out_cleanup(&res);
	return sw;
}

/* ---- GENERATE ASYMMETRIC KEY PAIR ------------------------------------- */

/* Reads an optional YubiKey policy element's value into *out. */
static bool
policy_byte(const struct buf_cur *v, uint8_t max, uint8_t *out)
{
	uint8_t b;

	if (!buf_copy_exact(v, &b, 1) || b > max)
		return false;
	*out = b;
	return true;
}

/*
 * key_template parses the AC control reference template of GENERATE:
 * 80 algorithm, optional 81 public exponent, and on a YubiKey AA PIN
 * policy and AB touch policy (PIV-REFERENCE §2.7).
 */
static uint16_t
key_template(const struct vc_card *c, const struct vc_capdu *a,
    uint8_t *alg, uint8_t *pinp, uint8_t *touch)
{
	struct buf_cur in, tpl, v;
	uint32_t tag;
	bool have_alg = false, yk = c->st->profile == VC_PROFILE_USB_KEY;

	*pinp = *touch = 0;
	buf_cur_init(&in, a->data, a->lc);
	if (!tlv_get(&in, 0xac, &tpl) || !buf_done(&in))
		return SW_BAD_DATA;
	while (!buf_done(&tpl)) {
		if (!tlv_get_any(&tpl, &tag, &v))
			return SW_BAD_DATA;
		if (tag == 0x80 && !have_alg && buf_copy_exact(&v, alg, 1)) {
			have_alg = true;
		} else if (tag == 0x81) {
			/* Only e = 65537 (SP 800-78). */
			struct buf_cur e = v;
			uint8_t b;

			while (buf_peek_u8(&e, &b) && b == 0)
				(void)buf_skip(&e, 1);
			if (!buf_eq_mem(&e, "\x01\x00\x01", 3))
				return SW_BAD_DATA;
		} else if (yk && tag == 0xaa && policy_byte(&v, 3, pinp)) {
			continue;
		} else if (yk && tag == 0xab && policy_byte(&v, 3, touch)) {
			continue;
		} else {
			return SW_BAD_DATA;
		}
	}
	if (!have_alg || !vc_alg_supported(c, *alg))
		return SW_BAD_DATA;
	return SW_OK;
}

uint16_t
vc_piv_generate(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct vc_key *k;
	EVP_PKEY *pkey = NULL;
	uint8_t alg = 0, pinp, touch;
	uint16_t sw;
	size_t m;

	if (a->p1 != 0x00 || !vc_slot_allowed(c, a->p2, true) ||
	    (k = vc_state_key(c->st, a->p2)) == NULL)
		return SW_BAD_P1P2;
	if (!c->admin_ok)
		return SW_SECURITY;
	if ((sw = key_template(c, a, &alg, &pinp, &touch)) != SW_OK)
		return sw;
	c->cost.op = VC_OP_KEYGEN;
	c->cost.alg = alg;
	if (vc_keygen(alg, &pkey) != PV_OK)
		return SW_MEMORY_FAILURE;
	vc_key_clear(k);
	k->alg = alg;
	k->pkey = pkey;
	k->pin_policy = pinp != 0 ? pinp : vc_pin_policy_default(a->p2);
	k->touch_policy = touch != 0 ? touch : VC_TOUCH_POLICY_NEVER;
	k->origin = VC_ORIGIN_GENERATED;
	if ((sw = vc_commit(c, SW_OK)) != SW_OK)
		return sw;
	/* 7F49 { 81 n, 82 e } or { 86 point }: ykpiv wants 81 first. */
	tlv_open(out, 0x7f49, &m);
	vc_pubkey_put(pkey, out);
	tlv_close(out, m);
	return buf_out_ok(out) ? SW_OK : SW_MEMORY_FAILURE;
}
