/*
 * rig_card.h: an in-process virtual card (vcard/) behind a struct card,
 * for the issuance unit tests (test_wf_run.c, test_wf_cards.c): any
 * profile and quirks, pulled at APDU k and put back (power-on, SELECT
 * PIV), with the commands it was sent counted by instruction, and a
 * PUT DATA of one object refused with a status word of the test's.
 */
#ifndef PV_TESTS_RIG_CARD_H
#define PV_TESTS_RIG_CARD_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "apdu/apdu.h"
#include "apdu/piv.h"
#include "issuance/card.h"
#include "vcard/card.h"
#include "vcard/state.h"

struct rig_card {
	struct vc_state st;
	struct vc_card *vc;
	struct vc_config cfg;
	struct apdu_session a;
	struct card card;
	unsigned long n;		/* APDUs since the last insertion */
	unsigned long pull_at;		/* 0: never */
	bool pulled;
	unsigned long ins[256];		/* commands sent, by INS, for ever */
	unsigned long first_ins[256];	/* n of the first one since the last
					 * insertion (0: none) */
	char reader[32];
	uint32_t refuse_tag;		/* PUT DATA of this object ... */
	uint16_t refuse_sw;		/* ... gets this status (0: none) */
};

/* The object a PUT DATA command (the first of a chain) starts to write:
 * 5C tag, or 7E / 7F61 for the two objects without one; 0 otherwise. */
static inline uint32_t
rig_put_tag(const uint8_t *cmd, size_t len)
{
	const uint8_t *d = cmd + 5;
	size_t n, i;
	uint32_t t = 0;

	if (len < 7 || cmd[1] != 0xdb)
		return 0;
	if (cmd[4] == 0 && len >= 9)
		d = cmd + 7;		/* extended Lc */
	n = (size_t)(cmd + len - d);
	if (n >= 1 && d[0] == 0x7e)
		return 0x7e;
	if (n >= 2 && d[0] == 0x7f && d[1] == 0x61)
		return 0x7f61;
	if (n < 2 || d[0] != 0x5c || d[1] == 0 || d[1] > 3 || n < 2u + d[1])
		return 0;
	for (i = 0; i < d[1]; i++)
		t = t << 8 | d[2 + i];
	return t;
}

static inline enum pv_err
rig_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct rig_card *k = ctx;
	struct buf_out o;
	enum vc_action act;

	*rsp_len = 0;
	if (k->pulled)
		return PV_E_NO_CARD;
	if (++k->n == k->pull_at) {
		k->pulled = true;
		return PV_E_NO_CARD;
	}
	if (cmd_len >= 2) {
		k->ins[cmd[1]]++;
		if (k->first_ins[cmd[1]] == 0)
			k->first_ins[cmd[1]] = k->n;
	}
	if (k->refuse_sw != 0 && k->refuse_tag != 0 &&
	    rig_put_tag(cmd, cmd_len) == k->refuse_tag) {
		rsp[0] = (uint8_t)(k->refuse_sw >> 8);
		rsp[1] = (uint8_t)k->refuse_sw;
		*rsp_len = 2;
		return PV_OK;
	}
	memset(&o, 0, sizeof(o));
	if (!buf_out_alloc(&o, 512, 65538))
		return PV_E_NOMEM;
	act = vc_card_apdu(k->vc, cmd, cmd_len, &o, NULL);
	if (act != VC_ACT_REPLY || o.len > rsp_cap) {
		buf_out_cleanup(&o);
		return PV_E_TRANSPORT;
	}
	memcpy(rsp, o.p, o.len);
	*rsp_len = o.len;
	buf_out_cleanup(&o);
	return PV_OK;
}

/* (Re)inserts the card: power-on, SELECT PIV; pulls it at APDU |pull_at|
 * counted from here (0: never). */
static inline void
rig_insert(struct rig_card *k, unsigned long pull_at)
{
	struct apdu_transport tr = { rig_xfer, k };

	if (k->vc == NULL)
		cr_assert_eq(vc_card_new(&k->st, &k->cfg, NULL, NULL, &k->vc),
		    PV_OK);
	else
		vc_card_reset(k->vc);
	k->pulled = false;
	k->n = 0;
	k->pull_at = 0;
	apdu_session_init(&k->a, &tr);
	k->a.caps.extended = vc_card_extended(k->vc);
	cr_assert_eq(piv_select(&k->a, NULL, 0, NULL, NULL), PV_OK);
	k->n = 0;
	memset(k->first_ins, 0, sizeof(k->first_ins));
	k->pull_at = pull_at;
	memset(&k->card, 0, sizeof(k->card));
	k->card.apdu = &k->a;
	k->card.reader = k->reader;
	k->card.piv_selected = true;
}

/* A factory-fresh card of |profile| with |quirks| (vcard/card.h), as
 * pivstation-vcard makes one for a new state file. */
static inline void
rig_card_make(struct rig_card *k, enum vc_profile profile, unsigned quirks,
    uint32_t serial, int n)
{
	memset(k, 0, sizeof(*k));
	cr_assert_eq(vc_state_factory(&k->st, profile, serial, NULL), PV_OK);
	k->cfg.quirks = quirks;
	cr_assert_eq(vc_quirk_factory(&k->st, quirks), PV_OK);
	(void)snprintf(k->reader, sizeof(k->reader), "In-process %d", n);
	rig_insert(k, 0);
}

/* A blank usb-key. */
static inline void
rig_card_new(struct rig_card *k, uint32_t serial, int n)
{
	rig_card_make(k, VC_PROFILE_USB_KEY, 0, serial, n);
}

static inline void
rig_card_free(struct rig_card *k)
{
	vc_card_free(k->vc);
	vc_state_cleanup(&k->st);
}

#endif /* PV_TESTS_RIG_CARD_H */
