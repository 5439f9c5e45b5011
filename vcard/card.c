/*
 * card.c: the command processor frame: class byte, command chaining,
 * response chaining (61XX / GET RESPONSE), extended length, quirks and
 * faults, and the dispatch to the card-edge handlers in piv.c and ykext.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu/fascn.h"
#include "apdu/piv_obj.h"
#include "vcard/card_int.h"
#include "vcard/crypto.h"

/* Largest command data a chain may gather (an object of VC_OBJ_MAX). */
#define VC_CHAIN_MAX	(VC_OBJ_MAX + 64)
/* Largest response data one command produces (RSA-4096 GA, certs). */
#define VC_RSP_MAX	65536

/* ---- ATRs ----------------------------------------------------------- */

/*
 * usb-key: the YubiKey 5 ATR (ykpiv.h; PIV-REFERENCE §9): T=1 offered,
 * card capabilities 73 C0 21 C0 (chaining, extended Lc/Le), TCK 40.
 */
static const uint8_t atr_usb_key[] = {
	0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0,
	0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69, 0x4b, 0x65, 0x79, 0x40,
};

/*
 * piv-card: TA1 96, TD1 81 (T=1 follows), TD2 31 (T=1: TA3 IFSC FE,
 * TB3 45), historical bytes 80 | 73 C0 21 80 (chaining, no extended
 * length) | 56 "PVCARD" (issuer data), TCK.  Not 3B 8x 80 01, which
 * OpenSC takes for a contactless card (PIV-REFERENCE §10).
 */
static const uint8_t atr_piv_card_body[] = {
	0x3b, 0x9c, 0x96, 0x81, 0x31, 0xfe, 0x45, 0x80, 0x73, 0xc0, 0x21, 0x80,
	0x56, 'P', 'V', 'C', 'A', 'R', 'D',
};

/* mobile: the same shape, capabilities C0 (extended), issuer "PVMOBI". */
static const uint8_t atr_mobile_body[] = {
	0x3b, 0x9c, 0x96, 0x81, 0x31, 0xfe, 0x45, 0x80, 0x73, 0xc0, 0x21, 0xc0,
	0x56, 'P', 'V', 'M', 'O', 'B', 'I',
};

/* Offset of the card-capabilities third byte in each ATR above. */
#define ATR_CAPS3_USB	13
#define ATR_CAPS3_BODY	11
#define ATR_CAPS1_USB	11
#define ATR_CAPS1_BODY	9

size_t
vc_card_atr(const struct vc_card *c, uint8_t out[33])
{
	size_t n, caps1, caps3;
	uint8_t tck = 0;

	switch (c->st->profile) {
	case VC_PROFILE_USB_KEY:
		n = sizeof(atr_usb_key);
		memcpy(out, atr_usb_key, n);
		caps1 = ATR_CAPS1_USB;
		caps3 = ATR_CAPS3_USB;
		n--;		/* TCK recomputed below */
		break;
	case VC_PROFILE_MOBILE:
		n = sizeof(atr_mobile_body);
		memcpy(out, atr_mobile_body, n);
		caps1 = ATR_CAPS1_BODY;
		caps3 = ATR_CAPS3_BODY;
		break;
	default:
		n = sizeof(atr_piv_card_body);
		memcpy(out, atr_piv_card_body, n);
		caps1 = ATR_CAPS1_BODY;
		caps3 = ATR_CAPS3_BODY;
		break;
	}
	/* A quirky token says so in its card capabilities (ISO 7816-4
	 * §8.1.1.2.7): b7 of byte 3 extended Lc/Le, b7 of byte 1 partial
	 * DF-name selection. */
	if (c->cfg.quirks & VC_QUIRK_NO_EXTENDED)
		out[caps3] &= (uint8_t)~0x40u;
	if (c->cfg.quirks & VC_QUIRK_SELECT_FULL_AID)
		out[caps1] &= (uint8_t)~0x40u;
	/* TCK: XOR of T0 .. last historical byte (ISO 7816-3 §8.2.5). */
	for (size_t i = 1; i < n; i++)
		tck ^= out[i];
	out[n++] = tck;
	return n;
}

bool
vc_card_extended(const struct vc_card *c)
{
	if (c->cfg.quirks & VC_QUIRK_NO_EXTENDED)
		return false;
	return c->st->profile != VC_PROFILE_PIV_CARD;
}

/* ---- quirks and faults ---------------------------------------------- */

unsigned
vc_quirk_parse(const char *name)
{
	if (strcmp(name, "no-extended") == 0)
		return VC_QUIRK_NO_EXTENDED;
	if (strcmp(name, "get-response-255") == 0)
		return VC_QUIRK_GET_RESPONSE_255;
	if (strcmp(name, "select-needs-full-aid") == 0)
		return VC_QUIRK_SELECT_FULL_AID;
	if (strcmp(name, "pin-sw-630x") == 0)
		return VC_QUIRK_PIN_SW_630X;
	if (strcmp(name, "factory-chuid") == 0)
		return VC_QUIRK_FACTORY_CHUID;
	if (strcmp(name, "discovery-builtin") == 0)
		return VC_QUIRK_DISCOVERY_BUILTIN;
	return 0;
}

/*
 * firmware-notes/factory-chuid.md: the CHUID such cards carry, the one
 * yubico-piv-tool's set-chuid and ykman write (PIV-REFERENCE §4.3): the
 * placeholder FASC-N (agency 9999, system 9999, credential 999999), a
 * random GUID, expiry 2030-01-01, an empty signature (3E 00).
 */
enum pv_err
vc_quirk_factory(struct vc_state *st, unsigned quirks)
{
	static const uint8_t placeholder_fascn[FASCN_LEN] = {
		0xd4, 0xe7, 0x39, 0xda, 0x73, 0x9c, 0xed, 0x39, 0xce, 0x73,
		0x9d, 0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21,
		0xc8, 0x42, 0x10, 0xc3, 0xeb
	};
	struct piv_chuid ch;
	struct buf_out o;
	enum pv_err r = PV_E_INTERNAL;

	if (!(quirks & VC_QUIRK_FACTORY_CHUID))
		return PV_OK;
	memset(&ch, 0, sizeof(ch));
	memset(&o, 0, sizeof(o));
	memcpy(ch.fascn, placeholder_fascn, sizeof(ch.fascn));
	memcpy(ch.expiry, "20300101", sizeof(ch.expiry));
	if (!vc_rand(ch.guid, sizeof(ch.guid))) {
		r = PV_E_CRYPTO;
		goto out;
	}
	/* RFC 4122 §4.4: version 4, variant 10 */
	ch.guid[6] = (uint8_t)((ch.guid[6] & 0x0fu) | 0x40u);
	ch.guid[8] = (uint8_t)((ch.guid[8] & 0x3fu) | 0x80u);
	if (!buf_out_alloc(&o, 64, 256)) {
		r = PV_E_NOMEM;
		goto out;
	}
	if ((r = piv_chuid_build(&ch, &o, NULL)) != PV_OK ||
	    (r = vc_state_obj_put(st, 0x5fc102, o.p, o.len)) != PV_OK)
		goto out;
	r = PV_OK;
out:
	buf_out_cleanup(&o);
	return r;
}

static bool
parse_ulong(const char *s, char stop, unsigned long *out, const char **end)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		if (v > (0xffffffffUL - (unsigned long)(*p - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (*p != '\0' && *p != stop)
		return false;
	*out = v;
	*end = p;
	return true;
}

bool
vc_fault_parse(const char *spec, struct vc_fault *out, struct pv_why *why)
{
	static const struct {
		const char *name;
		enum vc_fault_kind kind;
		bool has_ms;
	} kinds[] = {
		{ "remove-after=", VC_FAULT_REMOVE, true },
		{ "mute-after=", VC_FAULT_MUTE, true },
		{ "garbage-after=", VC_FAULT_GARBAGE, false },
		{ "reset-after=", VC_FAULT_RESET, false },
	};
	const char *p, *end;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].name);

		if (strncmp(spec, kinds[i].name, n) != 0)
			continue;
		p = spec + n;
		if (!parse_ulong(p, kinds[i].has_ms ? ':' : '\0', &out->after,
		    &end))
			break;
		if (*end == ':' && !parse_ulong(end + 1, '\0', &out->ms, &end))
			break;
		out->kind = kinds[i].kind;
		return true;
	}
	pv_why_set(why, PV_E_INPUT, "fault \"%s\": expected remove-after=N"
	    "[:MS], mute-after=N[:MS], garbage-after=N or reset-after=N",
	    spec);
	return false;
}

/* ---- life cycle ------------------------------------------------------- */

enum pv_err
vc_card_new(struct vc_state *st, const struct vc_config *cfg,
    vc_save_fn *save, void *save_ctx, struct vc_card **out)
{
	struct vc_card *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PV_E_NOMEM;
	c->st = st;
	if (cfg != NULL)
		c->cfg = *cfg;
	c->save = save;
	c->save_ctx = save_ctx;
	c->garbage_rng = 0x2545f4914f6cdd1du;
	vc_card_reset(c);
	*out = c;
	return PV_OK;
}

static void
drop_pending(struct vc_card *c)
{
	if (c->pending != NULL)
		buf_free_secret(c->pending, c->pending_len);
	c->pending = NULL;
	c->pending_len = c->pending_off = 0;
}

static void
drop_chain(struct vc_card *c)
{
	buf_out_cleanup(&c->chain);
	c->chaining = false;
}

void
vc_clear_security(struct vc_card *c)
{
	c->pin_ok = false;
	c->pin_always_ok = false;
	c->admin_ok = false;
	c->auth_step = VC_AUTH_IDLE;
	OPENSSL_cleanse(c->auth_buf, sizeof(c->auth_buf));
}

void
vc_card_reset(struct vc_card *c)
{
	vc_clear_security(c);
	drop_chain(c);
	drop_pending(c);
	/*
	 * A plain PIV card and the mobile token have PIV as their default
	 * application; the USB key starts with nothing selected, so clients
	 * must SELECT (they all do).
	 */
	c->app = c->st->profile == VC_PROFILE_USB_KEY ? VC_APP_NONE :
	    VC_APP_PIV;
	c->derived_aid = false;
}

void
vc_card_free(struct vc_card *c)
{
	if (c == NULL)
		return;
	drop_chain(c);
	drop_pending(c);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

unsigned long
vc_card_fault_ms(const struct vc_card *c)
{
	return c->fault_ms;
}

unsigned long
vc_card_n_apdus(const struct vc_card *c)
{
	return c->n_apdus;
}

uint16_t
vc_commit(struct vc_card *c, uint16_t sw)
{
	if (c->save == NULL)
		return sw;
	if (c->save(c->save_ctx, c->st) != PV_OK)
		return SW_MEMORY_FAILURE;
	return sw;
}

/* ---- profile rules -------------------------------------------------- */

bool
vc_slot_allowed(const struct vc_card *c, uint8_t ref, bool gen)
{
	bool retired = ref >= 0x82 && ref <= 0x95;

	switch (c->st->profile) {
	case VC_PROFILE_USB_KEY:
		return ref == 0x9a || ref == 0x9c || ref == 0x9d ||
		    ref == 0x9e || retired;
	case VC_PROFILE_PIV_CARD:
		/* SP 800-73-4 Part 2 §3.3.2: GENERATE takes 9A 9C 9D 9E. */
		return ref == 0x9a || ref == 0x9c || ref == 0x9d ||
		    ref == 0x9e || (!gen && retired);
	case VC_PROFILE_MOBILE:
		/* SP 800-157: no Card Authentication key on the token. */
		return ref == 0x9a || ref == 0x9c || ref == 0x9d || retired;
	default:
		return false;
	}
}

bool
vc_fw_at_least(const struct vc_card *c, uint8_t maj, uint8_t min,
    uint8_t patch)
{
	const uint8_t *v = c->st->version;

	if (v[0] != maj)
		return v[0] > maj;
	if (v[1] != min)
		return v[1] > min;
	return v[2] >= patch;
}

bool
vc_alg_supported(const struct vc_card *c, uint8_t alg)
{
	bool yk57 = vc_fw_at_least(c, 5, 7, 0);

	switch (alg) {
	case VC_ALG_RSA1024:
	case VC_ALG_RSA2048:
	case VC_ALG_ECCP256:
	case VC_ALG_ECCP384:
		return true;
	case VC_ALG_RSA3072:
	case VC_ALG_RSA4096:
		/* YubiKeys from 5.7; the card and token: SP 800-78-5 sizes. */
		return c->st->profile != VC_PROFILE_USB_KEY || yk57;
	default:
		return false;
	}
}

uint8_t
vc_pin_policy_default(uint8_t ref)
{
	if (ref == 0x9c)
		return VC_PIN_POLICY_ALWAYS;
	if (ref == 0x9e || ref == VC_REF_ATTEST)
		return VC_PIN_POLICY_NEVER;
	return VC_PIN_POLICY_ONCE;
}

/* ---- dispatch ---------------------------------------------------------- */

typedef uint16_t handler_fn(struct vc_card *, const struct vc_capdu *,
    struct buf_out *);

struct ins_entry {
	uint8_t ins;
	handler_fn *fn;
	bool chain;		/* command chaining accepted */
	uint8_t profiles;	/* bit (1 << profile) */
	bool needs_piv;		/* only while PIV is selected */
	uint8_t min_fw[3];	/* usb-key: 6D00 below this firmware */
};

#define P_USB	(1u << VC_PROFILE_USB_KEY)
#define P_CARD	(1u << VC_PROFILE_PIV_CARD)
#define P_MOB	(1u << VC_PROFILE_MOBILE)
#define P_ALL	(P_USB | P_CARD | P_MOB)

/*
 * The YubiKey extensions each appeared in some firmware release; a usb-key
 * reporting an older version answers 6D00 to them, as the real key does
 * (firmware-notes/yubikey-firmware-gates.md).  The base PIV commands work
 * on every version.
 */
static const struct ins_entry ins_table[] = {
	{ 0xa4, vc_piv_select, false, P_ALL, false, { 0, 0, 0 } },
	{ 0xcb, vc_piv_get_data, false, P_ALL, true, { 0, 0, 0 } },
	{ 0xdb, vc_piv_put_data, true, P_ALL, true, { 0, 0, 0 } },
	{ 0x20, vc_piv_verify, false, P_ALL, true, { 0, 0, 0 } },
	{ 0x24, vc_piv_change_ref, false, P_ALL, true, { 0, 0, 0 } },
	{ 0x2c, vc_piv_reset_retry, false, P_ALL, true, { 0, 0, 0 } },
	{ 0x87, vc_piv_general_auth, true, P_ALL, true, { 0, 0, 0 } },
	{ 0x47, vc_piv_generate, true, P_ALL, true, { 0, 0, 0 } },
	{ 0xfd, vc_yk_version, false, P_USB, true, { 0, 0, 0 } },
	{ 0xf8, vc_yk_serial, false, P_USB, true, { 5, 0, 0 } },
	{ 0xf7, vc_yk_metadata, false, P_USB, true, { 5, 3, 0 } },
	{ 0xf9, vc_yk_attest, false, P_USB, true, { 4, 3, 0 } },
	{ 0xfa, vc_yk_set_retries, false, P_USB, true, { 0, 0, 0 } },
	{ 0xfb, vc_yk_reset, false, P_USB, true, { 0, 0, 0 } },
	{ 0xfe, vc_yk_import, true, P_USB | P_MOB, true, { 0, 0, 0 } },
	{ 0xff, vc_yk_set_mgm, false, P_USB, true, { 0, 0, 0 } },
	{ 0xf6, vc_yk_move_key, false, P_USB, true, { 5, 7, 0 } },
	/* OTP applet (A0 00 00 05 27 20 01 01): serial, P1 10. */
	{ 0x01, vc_yk_otp_serial, false, P_USB, false, { 0, 0, 0 } },
	/* Management application: READ CONFIG (ykmgmt.c). */
	{ 0x1d, vc_yk_read_config, false, P_USB, false, { 4, 1, 0 } },
};

static const struct ins_entry *
find_ins(const struct vc_card *c, uint8_t ins)
{
	for (size_t i = 0; i < sizeof(ins_table) / sizeof(ins_table[0]); i++)
		if (ins_table[i].ins == ins &&
		    (ins_table[i].profiles & (1u << c->st->profile)) != 0) {
			const uint8_t *m = ins_table[i].min_fw;

			if (c->st->profile == VC_PROFILE_USB_KEY &&
			    !vc_fw_at_least(c, m[0], m[1], m[2]))
				return NULL;
			return &ins_table[i];
		}
	return NULL;
}

static void
put_sw(struct buf_out *rsp, uint16_t sw)
{
	buf_put_u16(rsp, sw);
}

/*
 * How much response data one R-APDU may carry for command |a|: Le, or
 * 256 when Le is absent (clients such as piv-go never send Le but expect
 * data, PIV-REFERENCE §1.3), 65536 for an extended Le; quirk
 * get-response-255 caps every R-APDU at 255 bytes.
 */
static size_t
rsp_room(const struct vc_card *c, const struct vc_capdu *a)
{
	size_t room;

	if (a->extended)
		room = a->has_le ? a->le : VC_RSP_MAX;
	else
		room = a->has_le ? a->le : 256;
	if ((c->cfg.quirks & VC_QUIRK_GET_RESPONSE_255) && room > 255)
		room = 255;
	return room;
}

/* Sends the next part of the pending data, with 61XX or the final SW. */
static void
emit_pending(struct vc_card *c, size_t room, uint16_t final_sw,
    struct buf_out *rsp)
{
	size_t left = c->pending_len - c->pending_off;
	size_t n = left < room ? left : room;

	buf_put(rsp, c->pending + c->pending_off, n);
	c->pending_off += n;
	left -= n;
	c->cost.bytes_out += n;
	if (left == 0) {
		drop_pending(c);
		put_sw(rsp, final_sw);
		return;
	}
	/* ISO 7816-4 §5.1.3: 61XX, XX = bytes still available, 00 = 256+. */
	put_sw(rsp, (uint16_t)(0x6100 | (left >= 256 ? 0 : left)));
}

static uint16_t
get_response(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *rsp)
{
	if (a->p1 != 0 || a->p2 != 0)
		return SW_BAD_P1P2;
	if (c->pending == NULL)
		return SW_CONDITIONS;
	if (a->lc != 0)
		return SW_WRONG_LENGTH;
	c->cost.op = VC_OP_READ;
	emit_pending(c, rsp_room(c, a), SW_OK, rsp);
	return 0;	/* already written */
}

/* Garbage for the garbage-after fault: 1..300 bytes of xorshift noise. */
static void
emit_garbage(struct vc_card *c, struct buf_out *rsp)
{
	uint64_t x = c->garbage_rng;
	size_t n;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	n = 1 + (size_t)(x % 300);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf_put_u8(rsp, (uint8_t)(x >> 24));
	}
	c->garbage_rng = x;
}

/* Fires the faults due before command number c->n_apdus (1-based). */
static enum vc_action
check_faults(struct vc_card *c)
{
	enum vc_action act = VC_ACT_REPLY;

	for (size_t i = 0; i < c->cfg.n_faults; i++) {
		const struct vc_fault *f = &c->cfg.faults[i];

		if (c->fault_fired[i] || c->n_apdus <= f->after)
			continue;
		c->fault_fired[i] = true;
		c->fault_ms = f->ms;
		switch (f->kind) {
		case VC_FAULT_REMOVE:
			act = VC_ACT_REMOVE;
			break;
		case VC_FAULT_MUTE:
			if (act == VC_ACT_REPLY)
				act = VC_ACT_MUTE;
			break;
		case VC_FAULT_GARBAGE:
			c->garbage = true;
			break;
		case VC_FAULT_RESET:
			vc_card_reset(c);
			break;
		default:
			break;
		}
	}
	return act;
}

static uint16_t
check_cla(uint8_t cla)
{
	if (cla & 0x80)
		return SW_CLA_UNSUPPORTED;	/* proprietary class */
	if (cla & 0x0c)
		return SW_SM_UNSUPPORTED;	/* secure messaging */
	if (cla & 0x03)
		return SW_LOGICAL_CHANNEL;	/* channels 1-3 */
	if (cla & 0x60)
		return SW_CLA_UNSUPPORTED;	/* further interindustry */
	return 0;
}

/*
 * process handles one decoded command and writes the whole response
 * (data and SW) to |rsp|.
 */
static void
process(struct vc_card *c, struct vc_capdu *a, struct buf_out *rsp)
{
	const struct ins_entry *e;
	struct buf_out data;
	struct vc_capdu full;
	uint16_t sw;
	bool last = (a->cla & 0x10) == 0;

	memset(&data, 0, sizeof(data));
	if ((sw = check_cla(a->cla)) != 0)
		goto status;
	if (a->extended && !vc_card_extended(c)) {
		sw = SW_WRONG_LENGTH;	/* no-extended.md */
		goto status;
	}
	if (a->ins == 0xc0) {
		drop_chain(c);
		if ((sw = get_response(c, a, rsp)) != 0)
			goto status;
		return;
	}
	drop_pending(c);
	if (a->ins != 0x87) {
		/* The 9B challenge lives only until the next other command. */
		c->auth_step = VC_AUTH_IDLE;
	}
	e = find_ins(c, a->ins);
	/* A new command that is not the next block ends an open chain
	 * (Part 2 §3.2.4: roll back as if it never started). */
	if (c->chaining && (a->ins != c->ch_ins || a->p1 != c->ch_p1 ||
	    a->p2 != c->ch_p2))
		drop_chain(c);
	if (e == NULL) {
		drop_chain(c);
		sw = SW_INS_UNSUPPORTED;
		goto status;
	}
	if (e->needs_piv && c->app != VC_APP_PIV) {
		drop_chain(c);
		sw = SW_INS_UNSUPPORTED;
		goto status;
	}
	if (!last) {
		if (!e->chain) {
			sw = SW_CHAIN_UNSUPPORTED;
			goto status;
		}
		if (!c->chaining) {
			if (!buf_out_alloc(&c->chain, 512, VC_CHAIN_MAX)) {
				sw = SW_MEMORY_FAILURE;
				goto status;
			}
			c->chaining = true;
			c->ch_ins = a->ins;
			c->ch_p1 = a->p1;
			c->ch_p2 = a->p2;
		}
		if (!buf_put(&c->chain, a->data, a->lc)) {
			drop_chain(c);
			sw = SW_NO_SPACE;
			goto status;
		}
		c->cost.op = VC_OP_WRITE;
		sw = SW_OK;		/* Part 2 Table 20: 9000, no data */
		goto status;
	}
	full = *a;
	if (c->chaining) {
		if (!buf_put(&c->chain, a->data, a->lc)) {
			drop_chain(c);
			sw = SW_NO_SPACE;
			goto status;
		}
		full.data = c->chain.p;
		full.lc = c->chain.len;
	}
	if (!buf_out_alloc(&data, 512, VC_RSP_MAX)) {
		drop_chain(c);
		sw = SW_MEMORY_FAILURE;
		goto status;
	}
	sw = e->fn(c, &full, &data);
	drop_chain(c);
	if (!buf_out_ok(&data)) {
		sw = SW_MEMORY_FAILURE;
		goto status;
	}
	if ((sw == SW_OK || (sw & 0xff00) == 0x6300) && data.len > 0) {
		/* Hand the data out through the pending buffer: one piece
		 * now, the rest on GET RESPONSE. */
		if (!buf_out_take(&data, &c->pending, &c->pending_len)) {
			sw = SW_MEMORY_FAILURE;
			goto status;
		}
		c->pending_off = 0;
		emit_pending(c, rsp_room(c, a), sw, rsp);
		goto out;
	}
status:
	put_sw(rsp, sw);
out:
	buf_out_cleanup(&data);
}

enum vc_action
vc_card_apdu(struct vc_card *c, const uint8_t *cmd, size_t len,
    struct buf_out *rsp, struct vc_cost *cost)
{
	struct vc_capdu a;
	enum vc_action act;
	size_t start = rsp->len;

	memset(&c->cost, 0, sizeof(c->cost));
	c->cost.bytes_in = len;
	c->n_apdus++;
	if ((act = check_faults(c)) != VC_ACT_REPLY)
		goto out;
	if (c->garbage) {
		emit_garbage(c, rsp);
		goto out;
	}
	if (vc_capdu_parse(cmd, len, &a) != VC_CAPDU_OK) {
		drop_pending(c);
		drop_chain(c);
		put_sw(rsp, SW_WRONG_LENGTH);
		goto out;
	}
	process(c, &a, rsp);
	if (!buf_out_ok(rsp)) {
		/* The caller's buffer is too small: say so, never send less. */
		rsp->err = false;
		buf_out_truncate(rsp, start);
		put_sw(rsp, SW_MEMORY_FAILURE);
	}
out:
	c->cost.bytes_out = rsp->len - start;
	if (cost != NULL)
		*cost = c->cost;
	return act;
}
