/*
 * ykext.c: YubiKey PIV extensions (PIV-REFERENCE §9): GET VERSION, GET
 * SERIAL, GET METADATA, ATTEST, SET PIN RETRIES, RESET, IMPORT KEY,
 * SET MANAGEMENT KEY and MOVE KEY.  The usb-key profile answers them
 * (each from the firmware version that has it); the mobile token takes
 * IMPORT for its key-management slots only; card.c answers 6D00 for the
 * rest.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "apdu/piv_yk.h"
#include "apdu/tlv.h"
#include "vcard/card_int.h"
#include "vcard/crypto.h"

uint16_t
vc_yk_version(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	(void)a;
	buf_put(out, c->st->version, 3);
	return SW_OK;
}

uint16_t
vc_yk_serial(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	uint32_t s = c->st->serial;
	uint8_t b[4] = { (uint8_t)(s >> 24), (uint8_t)(s >> 16),
	    (uint8_t)(s >> 8), (uint8_t)s };

	(void)a;
	buf_put(out, b, sizeof(b));
	return SW_OK;
}

/*
 * The OTP applet's serial command, 00 01 10 00: how hosts read the serial
 * of keys before firmware 5, which have no GET SERIAL in PIV (ykpiv
 * selects the OTP applet, sends it, then selects PIV again; on a 6D00 it
 * gives up without re-selecting PIV).
 */
uint16_t
vc_yk_otp_serial(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	if (c->app != VC_APP_YK_OTP)
		return SW_INS_UNSUPPORTED;
	if (a->p1 != 0x10 || a->p2 != 0x00)
		return SW_BAD_P1P2;
	return vc_yk_serial(c, a, out);
}

static void
put_byte(struct buf_out *out, uint32_t tag, uint8_t v)
{
	tlv_put(out, tag, &v, 1);
}

/* Metadata policy byte for a management key set with touch byte FF/FE. */
static uint8_t
mgm_touch_policy(uint8_t touch)
{
	return touch == 0xfe ? VC_TOUCH_POLICY_ALWAYS : VC_TOUCH_POLICY_NEVER;
}

uint16_t
vc_yk_metadata(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct vc_state *st = c->st;
	struct vc_key *k;
	uint8_t b2[2];
	size_t m;

	if (a->p1 != 0x00)
		return SW_BAD_P1P2;
	switch (a->p2) {
	case VC_REF_PIN:
	case VC_REF_PUK: {
		bool pin = a->p2 == VC_REF_PIN;

		put_byte(out, 0x01, 0xff);
		put_byte(out, 0x05, (pin ? st->pin_default : st->puk_default) ?
		    1 : 0);
		b2[0] = pin ? st->pin_max : st->puk_max;
		b2[1] = pin ? st->pin_left : st->puk_left;
		tlv_put(out, 0x06, b2, 2);
		return SW_OK;
	}
	case VC_REF_ADMIN:
		put_byte(out, 0x01, st->mgm_alg);
		b2[0] = 0x00;
		b2[1] = mgm_touch_policy(st->mgm_touch);
		tlv_put(out, 0x02, b2, 2);
		put_byte(out, 0x05, st->mgm_default ? 1 : 0);
		return SW_OK;
	default:
		break;
	}
	if ((k = vc_state_key(st, a->p2)) == NULL || k->alg == 0)
		return SW_REF_NOT_FOUND;
	put_byte(out, 0x01, k->alg);
	b2[0] = k->pin_policy;
	b2[1] = k->touch_policy;
	tlv_put(out, 0x02, b2, 2);
	put_byte(out, 0x03, k->origin);
	tlv_open(out, 0x04, &m);
	vc_pubkey_put(k->pkey, out);
	tlv_close(out, m);
	return SW_OK;
}

uint16_t
vc_yk_attest(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct vc_key *k, *ca;
	const struct vc_obj *o;
	struct buf_cur in, cert;

	if (a->p2 != 0x00 || !vc_slot_allowed(c, a->p1, false) ||
	    (k = vc_state_key(c->st, a->p1)) == NULL)
		return SW_BAD_P1P2;
	if (k->alg == 0)
		return SW_REF_NOT_FOUND;
	/* Only keys made on the device can be attested. */
	if (k->origin != VC_ORIGIN_GENERATED)
		return SW_BAD_DATA;
	ca = vc_state_key(c->st, VC_REF_ATTEST);
	o = vc_state_obj(c->st, 0x5fff01);
	if (ca == NULL || ca->alg == 0 || o == NULL)
		return SW_REF_NOT_FOUND;
	buf_cur_init(&in, o->data, o->len);
	if (!tlv_get(&in, 0x70, &cert))
		return SW_REF_NOT_FOUND;
	c->cost.op = VC_OP_SIGN;
	c->cost.alg = ca->alg;
	if (vc_attest_cert(ca->pkey, cert.p, cert.len, k->pkey, a->p1,
	    c->st->version, c->st->serial, k->pin_policy, k->touch_policy,
	    out) != PV_OK)
		return SW_MEMORY_FAILURE;
	return SW_OK;
}

uint16_t
vc_yk_set_retries(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct vc_state *st = c->st;

	(void)out;
	if (!c->admin_ok || !c->pin_ok)
		return SW_SECURITY;
	if (a->p1 == 0 || a->p2 == 0)
		return SW_BAD_P1P2;
	/* Both values go back to their defaults with the new counts. */
	memset(st->pin, 0xff, sizeof(st->pin));
	memcpy(st->pin, "123456", 6);
	memcpy(st->puk, "12345678", 8);
	st->pin_max = st->pin_left = a->p1;
	st->puk_max = st->puk_left = a->p2;
	st->pin_default = st->puk_default = true;
	c->pin_ok = c->pin_always_ok = false;
	return vc_commit(c, SW_OK);
}

uint16_t
vc_yk_reset(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	(void)a;
	(void)out;
	/* Only a key whose PIN and PUK are both blocked may be reset. */
	if (c->st->pin_left != 0 || c->st->puk_left != 0)
		return SW_CONDITIONS;
	vc_state_reset_piv(c->st);
	/* back to what the card had when it left the factory */
	if (vc_quirk_factory(c->st, c->cfg.quirks) != PV_OK)
		return SW_MEMORY_FAILURE;
	vc_clear_security(c);
	return vc_commit(c, SW_OK);
}

uint16_t
vc_yk_import(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct buf_cur in, v, comp[8];
	bool have[8] = { false }, yk = c->st->profile == VC_PROFILE_USB_KEY;
	struct vc_key *k;
	EVP_PKEY *pkey = NULL;
	uint8_t pinp = 0, touch = 0;
	uint32_t tag;
	enum pv_err r;
	bool slot_ok;

	(void)out;
	c->cost.op = VC_OP_WRITE;
	if (yk)
		slot_ok = vc_slot_allowed(c, a->p2, false) ||
		    a->p2 == VC_REF_ATTEST;
	else	/* mobile: key management and retired slots only */
		slot_ok = a->p2 == 0x9d || (a->p2 >= 0x82 && a->p2 <= 0x95);
	if (!slot_ok || (k = vc_state_key(c->st, a->p2)) == NULL)
		return SW_BAD_P1P2;
	if (!c->admin_ok)
		return SW_SECURITY;
	if (!vc_alg_supported(c, a->p1))
		return SW_BAD_P1P2;
	buf_cur_init(&in, a->data, a->lc);
	while (!buf_done(&in)) {
		if (!tlv_get_any(&in, &tag, &v))
			return SW_BAD_DATA;
		if (tag >= 0x01 && tag <= 0x06 && !have[tag]) {
			have[tag] = true;
			comp[tag] = v;
		} else if (tag == 0xaa && v.len == 1 && v.p[0] <= 3) {
			pinp = v.p[0];
		} else if (tag == 0xab && v.len == 1 && v.p[0] <= 3) {
			touch = v.p[0];
		} else {
			return SW_BAD_DATA;
		}
	}
	if (vc_alg_is_rsa(a->p1)) {
		for (int i = 1; i <= 5; i++)
			if (!have[i])
				return SW_BAD_DATA;
		if (have[6])
			return SW_BAD_DATA;
		r = vc_import_rsa(comp[1].p, comp[1].len, comp[2].p,
		    comp[2].len, comp[3].p, comp[3].len, comp[4].p, comp[4].len,
		    comp[5].p, comp[5].len, &pkey);
	} else {
		for (int i = 1; i <= 5; i++)
			if (have[i])
				return SW_BAD_DATA;
		if (!have[6])
			return SW_BAD_DATA;
		r = vc_import_ec(a->p1, comp[6].p, comp[6].len, &pkey);
	}
	if (r != PV_OK)
		return r == PV_E_NOMEM ? SW_MEMORY_FAILURE : SW_BAD_DATA;
	if (vc_alg_of_pkey(pkey) != a->p1) {
		EVP_PKEY_free(pkey);
		return SW_BAD_DATA;
	}
	vc_key_clear(k);
	k->alg = a->p1;
	k->pkey = pkey;
	k->pin_policy = pinp != 0 ? pinp : vc_pin_policy_default(a->p2);
	k->touch_policy = touch != 0 ? touch : VC_TOUCH_POLICY_NEVER;
	k->origin = VC_ORIGIN_IMPORTED;
	return vc_commit(c, SW_OK);
}

uint16_t
vc_yk_set_mgm(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct buf_cur in;
	uint8_t alg, ref, len;
	bool aes_ok = vc_fw_at_least(c, 5, 4, 0);

	(void)out;
	if (a->p1 != 0xff || (a->p2 != 0xff && a->p2 != 0xfe))
		return SW_BAD_P1P2;
	if (!c->admin_ok)
		return SW_SECURITY;
	buf_cur_init(&in, a->data, a->lc);
	if (!buf_get_u8(&in, &alg) || !buf_get_u8(&in, &ref) ||
	    !buf_get_u8(&in, &len) || ref != VC_REF_ADMIN ||
	    in.len != len || vc_sym_key_len(alg) != len ||
	    (alg != VC_ALG_3DES && !aes_ok))
		return SW_BAD_DATA;
	/* A weak DES key inside the 3DES key: firmware-notes/
	   mgmt-key-weak-3des.md. */
	if (alg == VC_ALG_3DES && piv_yk_3des_key_weak(in.p))
		return SW_BAD_DATA;
	OPENSSL_cleanse(c->st->mgm_key, sizeof(c->st->mgm_key));
	memcpy(c->st->mgm_key, in.p, len);
	c->st->mgm_len = len;
	c->st->mgm_alg = alg;
	c->st->mgm_touch = a->p2;
	c->st->mgm_default = false;
	return vc_commit(c, SW_OK);
}

/*
 * MOVE KEY, 00 F6 <to> <from> (firmware 5.7): moves the key in |from| to
 * the empty slot |to|, or deletes it when |to| is FF.  The attestation
 * key can be deleted but not moved (firmware-notes/yubikey-firmware-gates.md).
 */
uint16_t
vc_yk_move_key(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out)
{
	struct vc_key *from, *to;
	uint8_t ref;

	(void)out;
	if (!c->admin_ok)
		return SW_SECURITY;
	from = vc_state_key(c->st, a->p2);
	if (from == NULL || (a->p2 != VC_REF_ATTEST &&
	    !vc_slot_allowed(c, a->p2, false)))
		return SW_BAD_P1P2;
	if (a->lc != 0)
		return SW_WRONG_LENGTH;
	if (from->alg == 0)
		return SW_REF_NOT_FOUND;
	if (a->p1 == 0xff) {
		vc_key_clear(from);
		return vc_commit(c, SW_OK);
	}
	to = vc_state_key(c->st, a->p1);
	if (to == NULL || a->p1 == a->p2 || a->p1 == VC_REF_ATTEST ||
	    a->p2 == VC_REF_ATTEST || !vc_slot_allowed(c, a->p1, false))
		return SW_BAD_P1P2;
	if (to->alg != 0)
		return SW_CONDITIONS;
	ref = to->ref;
	*to = *from;		/* takes over the EVP_PKEY */
	to->ref = ref;
	ref = from->ref;
	memset(from, 0, sizeof(*from));
	from->ref = ref;
	return vc_commit(c, SW_OK);
}
