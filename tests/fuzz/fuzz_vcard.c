/*
 * fuzz_vcard.c: the virtual card's command processor on any byte string.
 *
 * Input: one configuration byte (profile = b % 3, quirks = b >> 2), then a
 * sequence of records.  A record starts with a length byte L:
 *   00..FA  an APDU of L bytes follows
 *   FF      an APDU whose length is the next two bytes (extended APDUs)
 *   FE      power cycle (volatile state lost)
 *   FD      management-key mutual authentication done right (the fuzzer
 *           cannot compute 3DES), so admin-only commands are reachable
 *   FC      VERIFY with the right PIN
 *   FB      GET RESPONSE with Le 00 until the data ends (bounded)
 * When the card persisted anything, the final state is encoded, decoded and
 * encoded again, and both encodings must be equal (round trip).  The card's
 * invariants are checked after every command: a reply of at least one byte
 * (two unless garbage was asked for), never more than 65536 + 2.  No disk
 * writes; randomness is the deterministic generator of PV_FUZZING builds.
 * Factory cards are made once per profile and copied per input (keys are
 * shared by reference: the card replaces keys, never changes them).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/buf.h"
#include "vcard/card.h"
#include "vcard/crypto.h"
#include "vcard/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum pv_err
mark_dirty(void *ctx, const struct vc_state *st)
{
	(void)st;
	*(bool *)ctx = true;
	return PV_OK;
}

static void
roundtrip(const struct vc_state *st)
{
	struct buf_out a, b;
	struct vc_state copy;

	if (!buf_out_alloc(&a, 4096, 1 << 22))
		return;
	if (!vc_state_encode(st, &a))
		__builtin_trap();
	if (vc_state_decode(a.p, a.len, &copy, NULL) != PV_OK)
		__builtin_trap();
	if (!buf_out_alloc(&b, a.len, 1 << 22)) {
		vc_state_cleanup(&copy);
		buf_out_cleanup(&a);
		return;
	}
	/* PKCS#8 is deterministic, so the encodings must match byte for
	 * byte. */
	if (!vc_state_encode(&copy, &b) || a.len != b.len ||
	    memcmp(a.p, b.p, a.len) != 0)
		__builtin_trap();
	vc_state_cleanup(&copy);
	buf_out_cleanup(&a);
	buf_out_cleanup(&b);
}

/* A copy of |from| in |to|: keys by reference, objects by value. */
static bool
clone_state(const struct vc_state *from, struct vc_state *to)
{
	*to = *from;
	to->objs = NULL;
	to->n_objs = 0;
	for (size_t i = 0; i < VC_N_SLOTS; i++)
		if (to->keys[i].pkey != NULL && !EVP_PKEY_up_ref(to->keys[i].pkey)) {
			to->keys[i].pkey = NULL;
			to->keys[i].alg = 0;
		}
	for (size_t i = 0; i < from->n_objs; i++)
		if (vc_state_obj_put(to, from->objs[i].tag, from->objs[i].data,
		    from->objs[i].len) != PV_OK)
			return false;
	return true;
}

static uint16_t
send(struct vc_card *c, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t *rsp_len)
{
	struct buf_out o;
	enum vc_action act;
	uint16_t sw = 0;

	if (!buf_out_alloc(&o, 512, 65538))
		return 0;
	act = vc_card_apdu(c, cmd, n, &o, NULL);
	if (act == VC_ACT_REPLY) {
		if (o.len < 1 || o.len > 65538)
			__builtin_trap();
		if (o.len >= 2)
			sw = (uint16_t)(o.p[o.len - 2] << 8 | o.p[o.len - 1]);
		if (rsp != NULL && o.len <= 600) {
			memcpy(rsp, o.p, o.len);
			*rsp_len = o.len;
		}
	} else if (o.len != 0) {
		__builtin_trap();	/* no data when nothing is sent */
	}
	buf_out_cleanup(&o);
	return sw;
}

static void
admin(struct vc_card *c, const struct vc_state *st)
{
	uint8_t cmd[64], rsp[600], w[16];
	size_t rl = 0, bl = vc_sym_block_len(st->mgm_alg), n = 0;

	if (bl == 0)
		return;
	memcpy(cmd, (const uint8_t[]){ 0x00, 0x87, st->mgm_alg, 0x9b, 0x04,
	    0x7c, 0x02, 0x80, 0x00 }, 9);
	if (send(c, cmd, 9, rsp, &rl) != 0x9000 || rl != 4 + bl + 2)
		return;
	if (vc_sym_crypt(st->mgm_alg, st->mgm_key, false, rsp + 4, w) != PV_OK)
		return;
	cmd[n++] = 0x00;
	cmd[n++] = 0x87;
	cmd[n++] = st->mgm_alg;
	cmd[n++] = 0x9b;
	cmd[n++] = (uint8_t)(2 + 2 * (2 + bl));
	cmd[n++] = 0x7c;
	cmd[n++] = (uint8_t)(2 * (2 + bl));
	cmd[n++] = 0x80;
	cmd[n++] = (uint8_t)bl;
	memcpy(cmd + n, w, bl);
	n += bl;
	cmd[n++] = 0x81;
	cmd[n++] = (uint8_t)bl;
	memset(cmd + n, 0x42, bl);
	n += bl;
	(void)send(c, cmd, n, NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum vc_profile profiles[3] = { VC_PROFILE_USB_KEY,
	    VC_PROFILE_PIV_CARD, VC_PROFILE_MOBILE };
	static struct vc_state tmpl[3];
	static bool made[3];
	struct vc_state st;
	struct vc_config cfg;
	struct vc_card *c = NULL;
	struct buf_cur in;
	uint64_t seed = 1469598103934665603u;
	uint8_t b;
	unsigned steps = 0, p;
	bool dirty = false;

	if (size < 1)
		return 0;
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 1099511628211u;
	p = data[0] % 3u;
	if (!made[p]) {
		vc_rand_seed(p);
		if (vc_state_factory(&tmpl[p], profiles[p], 4242, NULL) != PV_OK)
			return 0;
		made[p] = true;
	}
	vc_rand_seed(seed);
	memset(&cfg, 0, sizeof(cfg));
	cfg.quirks = (unsigned)(data[0] >> 2) & 0x0f;
	if (!clone_state(&tmpl[p], &st)) {
		vc_state_cleanup(&st);
		return 0;
	}
	if (vc_card_new(&st, &cfg, mark_dirty, &dirty, &c) != PV_OK) {
		vc_state_cleanup(&st);
		return 0;
	}
	buf_cur_init(&in, data + 1, size - 1);
	while (buf_get_u8(&in, &b) && steps++ < 256) {
		struct buf_cur apdu;
		uint16_t n16;

		switch (b) {
		case 0xfe:
			vc_card_reset(c);
			continue;
		case 0xfd:
			admin(c, &st);
			continue;
		case 0xfc:
			(void)send(c, (const uint8_t *)"\x00\x20\x00\x80\x08"
			    "123456\xff\xff", 13, NULL, NULL);
			continue;
		case 0xfb:
			for (int i = 0; i < 300; i++)
				if ((send(c, (const uint8_t *)"\x00\xc0\x00\x00\x00",
				    5, NULL, NULL) & 0xff00) != 0x6100)
					break;
			continue;
		case 0xff:
			if (!buf_get_u16(&in, &n16) ||
			    !buf_get_sub(&in, n16, &apdu))
				goto out;
			break;
		default:
			if (!buf_get_sub(&in, b, &apdu))
				goto out;
			break;
		}
		(void)send(c, apdu.p, apdu.len, NULL, NULL);
	}
out:
	if (dirty)
		roundtrip(&st);
	vc_card_free(c);
	vc_state_cleanup(&st);
	return 0;
}
