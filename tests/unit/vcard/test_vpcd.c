/*
 * test_vpcd.c: vpcd framing and message dispatch, and the latency model.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/vcard/harness.h"
#include "vcard/latency.h"
#include "vcard/vpcd.h"

TestSuite(vpcd, .fini = h_done);
TestSuite(latency);

static const uint8_t stream[] = {
	0x00, 0x01, 0x04,				/* get ATR */
	0x00, 0x05, 0x00, 0x20, 0x00, 0x80, 0x00,	/* VERIFY status */
	0x00, 0x00,					/* empty */
	0x00, 0x01, 0x01,				/* power on */
};

static void
check_messages(const size_t *lens, size_t n_expected, size_t chunk)
{
	struct vc_frame_dec d;
	size_t off = 0, got = 0;

	cr_assert(vc_frame_init(&d));
	while (off < sizeof(stream)) {
		size_t k = sizeof(stream) - off < chunk ? sizeof(stream) - off :
		    chunk;
		size_t used = 0;

		while (used < k) {
			used += vc_frame_feed(&d, stream + off + used, k - used);
			if (d.done) {
				cr_assert_lt(got, n_expected);
				cr_assert_eq(d.need, lens[got], "message %zu", got);
				got++;
			}
		}
		off += k;
	}
	cr_assert_eq(got, n_expected, "chunk %zu", chunk);
	vc_frame_cleanup(&d);
}

Test(vpcd, frames_survive_any_split)
{
	static const size_t lens[] = { 1, 5, 0, 1 };

	for (size_t chunk = 1; chunk <= sizeof(stream); chunk++)
		check_messages(lens, 4, chunk);
}

Test(vpcd, control_messages_and_apdus)
{
	struct buf_out r;
	enum vc_msg_kind kind;
	uint8_t atr[33];
	size_t n;

	h_card(VC_PROFILE_PIV_CARD, 0);
	cr_assert(buf_out_alloc(&r, 64, 70000));
	cr_assert_eq(vc_vpcd_message(h_c, (const uint8_t *)"\x04", 1, &r, &kind,
	    NULL), VC_ACT_REPLY);
	cr_assert_eq(kind, VC_MSG_ATR);
	n = vc_card_atr(h_c, atr);
	cr_assert_eq(r.len, n + 2);
	cr_assert_eq(r.p[0], 0);
	cr_assert_eq(r.p[1], n);
	cr_assert_eq(memcmp(r.p + 2, atr, n), 0);
	buf_out_truncate(&r, 0);
	vc_vpcd_message(h_c, (const uint8_t *)"\x01", 1, &r, &kind, NULL);
	cr_assert_eq(kind, VC_MSG_POWER);
	cr_assert_eq(r.len, 0, "power on is not answered");
	vc_vpcd_message(h_c, (const uint8_t *)"\x03", 1, &r, &kind, NULL);
	cr_assert_eq(kind, VC_MSG_UNKNOWN);
	cr_assert_eq(r.len, 0);
	vc_vpcd_message(h_c, (const uint8_t *)"\x00\x20\x00\x80\x00", 5, &r,
	    &kind, NULL);
	cr_assert_eq(kind, VC_MSG_APDU);
	cr_assert_eq(r.len, 4);
	cr_assert_eq(memcmp(r.p, "\x00\x02\x63\xc3", 4), 0);
	buf_out_truncate(&r, 0);
	/* An empty message is a malformed APDU, answered, never silence. */
	vc_vpcd_message(h_c, (const uint8_t *)"", 0, &r, &kind, NULL);
	cr_assert_eq(memcmp(r.p, "\x00\x02\x67\x00", 4), 0);
	buf_out_cleanup(&r);
}

Test(vpcd, power_events_reset_the_session)
{
	struct buf_out r;
	enum vc_msg_kind kind;
	static const uint8_t codes[] = { 0x00, 0x01, 0x02 };

	for (size_t i = 0; i < 3; i++) {
		h_card(VC_PROFILE_PIV_CARD, 0);
		h_verify();
		cr_assert(buf_out_alloc(&r, 64, 1024));
		vc_vpcd_message(h_c, &codes[i], 1, &r, &kind, NULL);
		cr_assert_eq(h_tx("00 20 00 80"), 0x63c3, "code %u", codes[i]);
		buf_out_cleanup(&r);
	}
}

Test(vpcd, faults_reach_the_transport)
{
	struct vc_config cfg;
	struct buf_out r;
	enum vc_msg_kind kind;
	struct pv_why why;

	memset(&cfg, 0, sizeof(cfg));
	cr_assert(vc_fault_parse("remove-after=0", &cfg.faults[0], &why));
	cfg.n_faults = 1;
	h_card_cfg(VC_PROFILE_PIV_CARD, &cfg);
	cr_assert(buf_out_alloc(&r, 64, 1024));
	/* ATR polls do not count. */
	vc_vpcd_message(h_c, (const uint8_t *)"\x04", 1, &r, &kind, NULL);
	buf_out_truncate(&r, 0);
	cr_assert_eq(vc_vpcd_message(h_c, (const uint8_t *)"\x00\x20\x00\x80",
	    4, &r, &kind, NULL), VC_ACT_REMOVE);
	cr_assert_eq(r.len, 0, "nothing to send");
	buf_out_cleanup(&r);
}

Test(latency, parse)
{
	struct vc_latency m;
	struct pv_why why;

	cr_assert(vc_latency_parse("none", &m, &why));
	cr_assert_not(m.yubikey5);
	cr_assert(vc_latency_parse("yubikey5", &m, &why));
	cr_assert(m.yubikey5);
	cr_assert(vc_latency_parse("apdu=2.5", &m, &why));
	cr_assert_eq(m.base_us, 2500);
	cr_assert(vc_latency_parse("yubikey5,apdu=1", &m, &why));
	cr_assert(m.yubikey5);
	cr_assert_eq(m.base_us, 1000);
	cr_assert_not(vc_latency_parse("fast", &m, &why));
	cr_assert_not(vc_latency_parse("apdu=", &m, &why));
	cr_assert_not(vc_latency_parse("apdu=-1", &m, &why));
	pv_why_clear(&why);
	cr_assert_not(vc_latency_parse("apdu=1ms", &m, &why));
	cr_assert_not_null(strstr(why.msg, "apdu=1ms"));
}

Test(latency, yubikey5_figures)
{
	struct vc_latency m;
	struct vc_cost c;
	struct pv_why why;

	cr_assert(vc_latency_parse("yubikey5", &m, &why));
	memset(&c, 0, sizeof(c));
	c.op = VC_OP_SELECT;
	cr_assert_eq(vc_latency_us(&m, &c), 1300);
	c.op = VC_OP_VERIFY;
	cr_assert_eq(vc_latency_us(&m, &c), 9100);
	c.op = VC_OP_SIGN;
	c.alg = 0x07;
	cr_assert_eq(vc_latency_us(&m, &c), 138000);
	c.alg = 0x11;
	cr_assert_eq(vc_latency_us(&m, &c), 72000);
	c.op = VC_OP_KEYGEN;
	c.alg = 0x07;
	cr_assert_eq(vc_latency_us(&m, &c), 4000000);
	c.alg = 0x11;
	cr_assert_eq(vc_latency_us(&m, &c), 100000);
	c.op = VC_OP_READ;
	c.bytes_out = 1024;
	cr_assert_eq(vc_latency_us(&m, &c), 7301, "a 1 KiB certificate");
	c.bytes_out = 10;
	cr_assert_eq(vc_latency_us(&m, &c), 1000, "floor per APDU");
	cr_assert(vc_latency_parse("apdu=0.25", &m, &why));
	c.op = VC_OP_SIGN;
	cr_assert_eq(vc_latency_us(&m, &c), 250, "flat model");
	cr_assert(vc_latency_parse("none", &m, &why));
	cr_assert_eq(vc_latency_us(&m, &c), 0);
}
