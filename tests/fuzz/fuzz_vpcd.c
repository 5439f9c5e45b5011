/*
 * fuzz_vpcd.c: the vcard's vpcd stream decoder and message dispatch.
 *
 * Input: one byte choosing the profile, one byte seeding the read sizes,
 * then the byte stream vpcd would send.  The stream is fed to the decoder
 * in pieces of 1..64 bytes (as recv() may return them); every complete
 * message goes to the card as vpcd's would, and the framed reply must be
 * well formed: a 2-byte length that matches, never a zero-length reply.
 * Factory cards are made once per profile and copied per input, as in
 * fuzz_vcard.c (making the usb-key's attestation certificate for every
 * input held the target to a few hundred runs a second).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vcard/card.h"
#include "vcard/crypto.h"
#include "vcard/state.h"
#include "vcard/vpcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum vc_profile profiles[3] = { VC_PROFILE_USB_KEY,
	    VC_PROFILE_PIV_CARD, VC_PROFILE_MOBILE };
	static struct vc_state tmpl[3];
	static bool made[3];
	struct vc_state st;
	struct vc_card *c = NULL;
	struct vc_frame_dec dec;
	struct buf_out reply;
	size_t off = 2;
	uint32_t x;
	unsigned msgs = 0, p;

	if (size < 2)
		return 0;
	p = data[0] % 3u;
	if (!made[p]) {
		vc_rand_seed(p);
		if (vc_state_factory(&tmpl[p], profiles[p], 7, NULL) != PV_OK)
			return 0;
		made[p] = true;
	}
	vc_rand_seed(data[1]);
	x = 0x9e3779b9u ^ data[1];
	if (!clone_state(&tmpl[p], &st)) {
		vc_state_cleanup(&st);
		return 0;
	}
	if (vc_card_new(&st, NULL, NULL, NULL, &c) != PV_OK ||
	    !vc_frame_init(&dec)) {
		vc_card_free(c);
		vc_state_cleanup(&st);
		return 0;
	}
	while (off < size && msgs < 512) {
		size_t piece, used;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		piece = 1 + x % 64;
		if (piece > size - off)
			piece = size - off;
		used = 0;
		while (used < piece) {
			size_t k = vc_frame_feed(&dec, data + off + used,
			    piece - used);

			if (k == 0 && !dec.done)
				__builtin_trap();	/* no progress */
			used += k;
			if (!dec.done)
				continue;
			if (dec.need > VC_VPCD_MSG_MAX)
				__builtin_trap();
			if (!buf_out_alloc(&reply, 64, 70000))
				goto out;
			{
				enum vc_msg_kind kind;
				enum vc_action act = vc_vpcd_message(c, dec.msg,
				    dec.need, &reply, &kind, NULL);

				if (reply.len == 1 || (reply.len >= 2 &&
				    (size_t)(reply.p[0] << 8 | reply.p[1]) !=
				    reply.len - 2))
					__builtin_trap();	/* bad framing */
				if (kind == VC_MSG_APDU && act == VC_ACT_REPLY &&
				    reply.len < 4)
					__builtin_trap();	/* empty reply */
			}
			buf_out_cleanup(&reply);
			msgs++;
		}
		off += piece;
	}
out:
	vc_frame_cleanup(&dec);
	vc_card_free(c);
	vc_state_cleanup(&st);
	return 0;
}
