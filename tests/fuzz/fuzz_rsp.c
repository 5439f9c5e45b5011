/*
 * fuzz_rsp.c: the exchange engine against a card that answers from the
 * fuzz input: 61XX reassembly, 6CXX re-sends, chained and extended
 * commands, the caps on all of them, and short or missing SWs.
 *
 * Input layout: byte 0 picks the command and the session (extended,
 * chaining, T=0, small caps, or capabilities from an ATR); byte 1 the
 * caller's buffer size; the rest is a list of responses, each a 2-byte
 * big-endian length then that many bytes (a length past the end takes
 * what is left; an exhausted input makes the transport fail).  The first
 * up-to-33 bytes of that list are also parsed as an ATR
 * (apdu_caps_from_atr on hostile bytes); with bit 0x40 of byte 0 the
 * session uses what it found.
 *
 * Checked after each run: the SW is set only on success; the response
 * never exceeds the caller's cap or s->max_rsp; the stats add up (every
 * exchange was a transport call; GET RESPONSE, chained and 6C rounds are
 * within their caps).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apdu/apdu.h"
#include "apdu/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
	struct buf_cur in;
	size_t calls;
};

static enum pv_err
fuzz_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct script *s = ctx;
	struct apdu_view v;
	uint16_t n;
	size_t take;

	s->calls++;
	/* Every command the engine sends must parse as one APDU. */
	if (cmd_len < 4 || !apdu_parse_cmd(cmd, cmd_len, &v))
		__builtin_trap();
	*rsp_len = 0;
	if (!buf_get_u16(&s->in, &n))
		return PV_E_NO_CARD;
	take = n <= s->in.len ? n : s->in.len;
	if (take > rsp_cap)
		take = rsp_cap;
	memcpy(rsp, s->in.p, take);
	buf_skip(&s->in, take);
	*rsp_len = take;
	return PV_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[1300];
	struct script sc;
	struct apdu_transport tr = { fuzz_xfer, &sc };
	struct apdu_session s;
	struct apdu_cmd c;
	struct buf_out rsp;
	size_t cap;
	uint16_t sw = 0x1234;
	uint8_t sel, capb;
	enum pv_err r;
	size_t i;

	if (size < 2)
		return 0;
	sel = data[0];
	capb = data[1];
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	buf_cur_init(&sc.in, data + 2, size - 2);
	sc.calls = 0;

	apdu_session_init(&s, &tr);
	s.caps.extended = (sel & 0x01) != 0;
	s.caps.chaining = (sel & 0x02) == 0;
	s.caps.t0 = (sel & 0x04) != 0;
	{
		struct apdu_caps ac;
		size_t alen = size - 2 < 33 ? size - 2 : 33;
		bool ok = apdu_caps_from_atr(data + 2, alen, &ac);

		/* A failed parse leaves the conservative defaults. */
		if (!ok && (ac.extended || !ac.chaining || ac.t0))
			__builtin_trap();
		if (ok && ac.t0 && ac.extended)
			__builtin_trap();
		if (sel & 0x40)
			s.caps = ac;
	}
	if (sel & 0x08) {
		s.max_get_response = 4;
		s.max_resend_6c = 1;
		s.max_rsp = 600;
		s.caps.max_ext_lc = 300;
		s.caps.max_ext_le = 512;
	}
	memset(&c, 0, sizeof(c));
	c.cla = 0x00;
	c.p1 = 0x3f;
	c.p2 = 0xff;
	switch ((sel >> 4) & 0x3) {
	case 0:		/* read: GET DATA, all there is */
		c.ins = 0xcb;
		c.data = payload;
		c.data_len = 5;
		c.le = APDU_LE_ANY;
		break;
	case 1:		/* write: PUT DATA, chained or extended */
		c.ins = 0xdb;
		c.data = payload;
		c.data_len = 255 + (size_t)capb * 4;
		break;
	case 2:		/* exact Le */
		c.ins = 0xfd;
		c.le = (size_t)capb + 1;
		break;
	default:	/* case 4 with a large exact Le */
		c.ins = 0x87;
		c.data = payload;
		c.data_len = capb;
		c.le = 300 + (size_t)capb;
		break;
	}
	cap = (size_t)capb * 64;
	if (!buf_out_alloc(&rsp, 16, cap))
		return 0;
	r = apdu_transmit(&s, &c, &rsp, &sw);
	if (r != PV_OK && (sw != 0 || rsp.len != 0))
		__builtin_trap();
	if (rsp.len > cap || rsp.len + 2 > s.max_rsp)
		__builtin_trap();
	if (s.stats.n_apdus != sc.calls ||
	    s.stats.n_get_response > s.max_get_response ||
	    s.stats.n_resend_6c > s.max_resend_6c ||
	    s.stats.n_chained + s.stats.n_get_response + s.stats.n_resend_6c >
	    s.stats.n_apdus)
		__builtin_trap();
	buf_out_cleanup(&rsp);
	return 0;
}
