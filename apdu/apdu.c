/*
 * apdu.c: ISO 7816-4 command encoding, ATR capabilities and the exchange
 * engine (chaining, extended length, 61XX GET RESPONSE, 6CXX re-send).
 *
 * The engine keeps one receive buffer of APDU_MAX_RSP bytes on the heap
 * per call (never on the stack), wipes what it used, and counts every
 * exchange in s->stats so tests can pin APDU counts exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "apdu/apdu.h"

#define APDU_DBG(s, ...) do {						\
	if ((s)->log != NULL)						\
		(s)->log((s)->log_ctx, __VA_ARGS__);			\
} while (0)

/* Defaults documented in apdu.h. */
#define APDU_DEFAULT_MAX_GET_RESPONSE	64
#define APDU_DEFAULT_MAX_RESEND_6C	3

/* ISO 7816-3 §8.2: at most 33 bytes; TS is 3B (direct) or 3F (inverse). */
#define ATR_MAX_LEN	33

void
apdu_session_init(struct apdu_session *s, const struct apdu_transport *tr)
{
	memset(s, 0, sizeof(*s));
	if (tr != NULL)
		s->tr = *tr;
	s->caps.chaining = true;
	s->max_get_response = APDU_DEFAULT_MAX_GET_RESPONSE;
	s->max_resend_6c = APDU_DEFAULT_MAX_RESEND_6C;
	s->max_rsp = APDU_MAX_RSP;
}

void
apdu_stats_add(struct apdu_stats *to, const struct apdu_stats *from)
{
	to->n_apdus += from->n_apdus;
	to->bytes_out += from->bytes_out;
	to->bytes_in += from->bytes_in;
	to->n_get_response += from->n_get_response;
	to->n_chained += from->n_chained;
	to->n_resend_6c += from->n_resend_6c;
	to->n_extended += from->n_extended;
}

bool
apdu_rsp_split(const uint8_t *rsp, size_t len, struct buf_cur *data,
    uint16_t *sw)
{
	struct buf_cur c, d;
	uint16_t w;

	if (rsp == NULL || len < 2)
		return false;
	buf_cur_init(&c, rsp, len);
	if (!buf_get_sub(&c, len - 2, &d) || !buf_get_u16(&c, &w))
		return false;
	*data = d;
	*sw = w;
	return true;
}

/*
 * ISO 7816-4 §8.1.1.2.7 compact-TLV in the historical bytes: one byte
 * (tag << 4 | length) then the value.  Tag 7 is card capabilities; its
 * third byte has b8 = command chaining, b7 = extended Lc and Le.
 */
static bool
atr_compact_tlv(struct buf_cur c, struct apdu_caps *caps)
{
	struct buf_cur v;
	uint8_t b;

	while (!buf_done(&c)) {
		if (!buf_get_u8(&c, &b) || !buf_get_sub(&c, b & 0x0fu, &v))
			return false;
		if ((b >> 4) == 0x7 && v.len >= 3) {
			caps->chaining = (v.p[2] & 0x80) != 0;
			caps->extended = (v.p[2] & 0x40) != 0;
		}
	}
	return true;
}

bool
apdu_caps_from_atr(const uint8_t *atr, size_t atr_len, struct apdu_caps *out)
{
	struct apdu_caps caps = { false, true, false, 0, 0 };
	struct buf_cur c, hist, body;
	uint32_t protos = 0;
	uint8_t ts, t0, td, y, cat, x;
	size_t i;

	*out = caps;
	if (atr == NULL || atr_len > ATR_MAX_LEN)
		return false;
	buf_cur_init(&c, atr, atr_len);
	if (!buf_get_u8(&c, &ts) || (ts != 0x3b && ts != 0x3f))
		return false;
	body = c;			/* T0 .. TCK, for the check byte */
	if (!buf_get_u8(&c, &t0))
		return false;
	y = (uint8_t)(t0 >> 4);
	/* ISO 7816-3 §8.2.3: Yi says which of TAi TBi TCi TDi follow. */
	for (;;) {
		for (i = 0; i < 3; i++)
			if ((y & (1u << i)) != 0 && !buf_skip(&c, 1))
				return false;
		if ((y & 0x8) == 0)
			break;
		if (!buf_get_u8(&c, &td))
			return false;
		protos |= 1u << (td & 0x0f);
		y = (uint8_t)(td >> 4);
	}
	if (!buf_get_sub(&c, t0 & 0x0fu, &hist))
		return false;
	/* TCK is present when any protocol other than T=0 is indicated. */
	if ((protos & ~1u) != 0) {
		if (!buf_skip(&c, 1))
			return false;
		for (x = 0, i = 0; i < body.len; i++)
			x ^= body.p[i];
		if (x != 0)
			return false;
	}
	if (!buf_done(&c))
		return false;
	/* No TD1 means T=0; T=15 only carries global bytes. */
	caps.t0 = (protos & ~(1u | 1u << 15)) == 0;
	if (buf_get_u8(&hist, &cat)) {
		if (cat == 0x80) {
			if (!atr_compact_tlv(hist, &caps))
				return false;
		} else if (cat == 0x00) {
			/* Compact-TLV, then a 3-byte status indicator. */
			struct buf_cur objs;

			if (hist.len < 3 || !buf_get_sub(&hist, hist.len - 3, &objs) ||
			    !atr_compact_tlv(objs, &caps))
				return false;
		}
		/* Other categories are proprietary: nothing to learn. */
	}
	if (caps.t0)
		caps.extended = false;	/* T=0 needs ENVELOPE for that */
	*out = caps;
	return true;
}

enum pv_err
apdu_encode(const struct apdu_cmd *cmd, bool extended, bool t0,
    struct buf_out *out)
{
	bool has_data = cmd->data_len > 0, has_le = cmd->le != 0;
	size_t le = cmd->le;

	if (has_data && cmd->data == NULL)
		return PV_E_INVAL;
	if (extended) {
		if (t0 || cmd->data_len > APDU_EXT_MAX_LC ||
		    (le != APDU_LE_ANY && le > APDU_EXT_MAX_LE))
			return PV_E_INVAL;
	} else if (cmd->data_len > APDU_SHORT_MAX_LC ||
	    (le != APDU_LE_ANY && le > APDU_SHORT_MAX_LE)) {
		return PV_E_INVAL;
	}
	/* ISO 7816-3 §12.2: T=0 carries no Le in case 4; the card says 61XX. */
	if (t0 && has_data)
		has_le = false;
	if (le == APDU_LE_ANY)
		le = 0;			/* 00 or 0000: as much as there is */
	buf_put_u8(out, cmd->cla);
	buf_put_u8(out, cmd->ins);
	buf_put_u8(out, cmd->p1);
	buf_put_u8(out, cmd->p2);
	if (!has_data && !has_le && t0)
		buf_put_u8(out, 0);	/* T=0 case 1: P3 = 00 */
	if (has_data) {
		if (extended) {
			buf_put_u8(out, 0);
			buf_put_u16(out, (uint16_t)cmd->data_len);
		} else {
			buf_put_u8(out, (uint8_t)cmd->data_len);
		}
		buf_put(out, cmd->data, cmd->data_len);
	}
	if (has_le) {
		if (extended) {
			if (!has_data)
				buf_put_u8(out, 0);
			buf_put_u16(out, (uint16_t)(le & 0xffff));	/* 65536 -> 0000 */
		} else {
			buf_put_u8(out, (uint8_t)(le & 0xff));	/* 256 -> 00 */
		}
	}
	return buf_out_ok(out) ? PV_OK : PV_E_TOO_LONG;
}

bool
apdu_parse_cmd(const uint8_t *cmd, size_t len, struct apdu_view *out)
{
	struct buf_cur c;
	uint16_t n;
	uint8_t b;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&c, cmd, len);
	if (!buf_get_u8(&c, &out->cla) || !buf_get_u8(&c, &out->ins) ||
	    !buf_get_u8(&c, &out->p1) || !buf_get_u8(&c, &out->p2))
		return false;
	out->data_off = len;
	buf_cur_init(&out->data, NULL, 0);
	if (buf_done(&c)) {
		out->apdu_case = APDU_CASE_1;
		return true;
	}
	if (!buf_get_u8(&c, &b))
		return false;
	if (buf_done(&c)) {
		out->apdu_case = APDU_CASE_2;
		out->le = b == 0 ? 256 : b;
		return true;
	}
	if (b != 0) {
		/* Short Lc = b, then data, then an optional 1-byte Le. */
		out->data_off = 5;
		if (!buf_get_sub(&c, b, &out->data))
			return false;
		if (buf_done(&c)) {
			out->apdu_case = APDU_CASE_3;
			return true;
		}
		if (!buf_get_u8(&c, &b) || !buf_done(&c))
			return false;
		out->apdu_case = APDU_CASE_4;
		out->le = b == 0 ? 256 : b;
		return true;
	}
	/* 00 then two bytes: extended Le (case 2) or extended Lc. */
	out->extended = true;
	if (!buf_get_u16(&c, &n))
		return false;
	if (buf_done(&c)) {
		out->apdu_case = APDU_CASE_2;
		out->le = n == 0 ? 65536 : n;
		return true;
	}
	if (n == 0)
		return false;
	out->data_off = 7;
	if (!buf_get_sub(&c, n, &out->data))
		return false;
	if (buf_done(&c)) {
		out->apdu_case = APDU_CASE_3;
		return true;
	}
	if (!buf_get_u16(&c, &n) || !buf_done(&c))
		return false;
	out->apdu_case = APDU_CASE_4;
	out->le = n == 0 ? 65536 : n;
	return true;
}

/*
 * apdu_want_ext: one extended APDU when the card takes them and the
 * command needs more than short form gives (data > 255, Le > 256, or
 * "everything": reading an object in one exchange), and the data fits
 * the card's extended limit.
 */
static bool
apdu_want_ext(const struct apdu_session *s, const struct apdu_cmd *cmd)
{
	size_t max_lc = s->caps.max_ext_lc ? s->caps.max_ext_lc : APDU_EXT_MAX_LC;

	if (!s->caps.extended || s->caps.t0)
		return false;
	if (cmd->data_len <= APDU_SHORT_MAX_LC &&
	    (cmd->le == 0 || (cmd->le != APDU_LE_ANY && cmd->le <= APDU_SHORT_MAX_LE)))
		return false;
	return cmd->data_len <= max_lc;
}

/*
 * apdu_xchg encodes |c| into |cb| and runs one exchange, counting it.
 * On PV_OK *rlen >= 2 and *rhigh covers every byte ever received.
 */
static enum pv_err
apdu_xchg(struct apdu_session *s, const struct apdu_cmd *c, bool ext,
    struct buf_out *cb, uint8_t *rb, size_t *rlen, size_t *rhigh)
{
	enum pv_err r;

	buf_out_truncate(cb, 0);
	if ((r = apdu_encode(c, ext, s->caps.t0, cb)) != PV_OK) {
		APDU_DBG(s, "%s: encode INS %02x: %s", __func__, c->ins,
		    pv_strerror(r));
		return r;
	}
	s->stats.n_apdus++;
	s->stats.bytes_out += cb->len;
	if (ext)
		s->stats.n_extended++;
	*rlen = 0;
	r = s->tr.xfer(s->tr.ctx, cb->p, cb->len, rb, APDU_MAX_RSP, rlen);
	if (*rlen > APDU_MAX_RSP) {
		*rhigh = APDU_MAX_RSP;
		APDU_DBG(s, "%s: transport claims %zu %s", __func__, *rlen,
		    buf_bytes_word(*rlen));
		return PV_E_TRANSPORT;
	}
	if (*rlen > *rhigh)
		*rhigh = *rlen;
	if (r != PV_OK) {
		APDU_DBG(s, "%s: INS %02x: transport: %s", __func__, c->ins,
		    pv_strerror(r));
		return r;
	}
	s->stats.bytes_in += *rlen;
	if (*rlen < 2) {
		APDU_DBG(s, "%s: INS %02x: response of %zu %s has no SW",
		    __func__, c->ins, *rlen, buf_bytes_word(*rlen));
		return PV_E_MALFORMED;
	}
	return PV_OK;
}

enum pv_err
apdu_transmit(struct apdu_session *s, const struct apdu_cmd *cmd,
    struct buf_out *rsp, uint16_t *sw)
{
	struct buf_out cb;
	struct apdu_cmd cur;
	uint8_t *rb = NULL;
	size_t rlen = 0, rhigh = 0, off = 0, total = 0, dlen, rsp_start, max_le;
	unsigned n_gr = 0, n_6c = 0;
	enum pv_err r = PV_E_INTERNAL;
	uint16_t w = 0;
	bool ext;

	memset(&cb, 0, sizeof(cb));
	*sw = 0;
	rsp_start = rsp != NULL ? rsp->len : 0;
	if (s->tr.xfer == NULL || (cmd->data_len > 0 && cmd->data == NULL) ||
	    cmd->data_len > APDU_EXT_MAX_LC ||
	    (cmd->le != APDU_LE_ANY && cmd->le > APDU_EXT_MAX_LE)) {
		APDU_DBG(s, "%s: bad command", __func__);
		r = PV_E_INVAL;
		goto out;
	}
	ext = apdu_want_ext(s, cmd);
	if (!ext && cmd->data_len > APDU_SHORT_MAX_LC && !s->caps.chaining) {
		APDU_DBG(s, "%s: %zu %s need chaining or extended length, "
		    "the card offers neither", __func__, cmd->data_len,
		    buf_bytes_word(cmd->data_len));
		r = PV_E_TOO_LONG;
		goto out;
	}
	if ((rb = malloc(APDU_MAX_RSP)) == NULL ||
	    !buf_out_alloc(&cb, ext ? 7 + cmd->data_len + 3 : 4 + 1 +
	    APDU_SHORT_MAX_LC + 1, APDU_MAX_CMD)) {
		r = PV_E_NOMEM;
		goto out;
	}

	/* ISO 7816-4 §5.1.1.1: command chaining, CLA b5 on all but the last. */
	while (!ext && cmd->data_len - off > APDU_SHORT_MAX_LC) {
		struct apdu_cmd blk = {
			(uint8_t)(cmd->cla | APDU_CLA_CHAIN), cmd->ins, cmd->p1,
			cmd->p2, cmd->data + off, APDU_SHORT_MAX_LC, 0
		};

		if ((r = apdu_xchg(s, &blk, false, &cb, rb, &rlen, &rhigh)) != PV_OK)
			goto out;
		s->stats.n_chained++;
		w = (uint16_t)(rb[rlen - 2] << 8 | rb[rlen - 1]);
		if (w != 0x9000) {
			/* The card ended the chain: its SW is the answer. */
			APDU_DBG(s, "%s: chain block at %zu answered %04x",
			    __func__, off, w);
			*sw = w;
			r = PV_OK;
			goto out;
		}
		if (rlen != 2) {
			APDU_DBG(s, "%s: data in an intermediate chain answer",
			    __func__);
			r = PV_E_MALFORMED;
			goto out;
		}
		off += APDU_SHORT_MAX_LC;
	}

	cur = *cmd;
	cur.data = cmd->data_len > 0 ? cmd->data + off : NULL;
	cur.data_len = cmd->data_len - off;
	if (ext) {
		max_le = s->caps.max_ext_le ? s->caps.max_ext_le : APDU_EXT_MAX_LE;
		if (max_le > APDU_EXT_MAX_LE)
			max_le = APDU_EXT_MAX_LE;
		if (cur.le != 0 && (cur.le == APDU_LE_ANY || cur.le > max_le) &&
		    max_le < APDU_EXT_MAX_LE)
			cur.le = max_le;	/* the card sends 61XX for more */
	} else if (cur.le != APDU_LE_ANY && cur.le > APDU_SHORT_MAX_LE) {
		cur.le = APDU_LE_ANY;	/* 00: 256 now, 61XX for the rest */
	}

	for (;;) {
		if ((r = apdu_xchg(s, &cur, ext, &cb, rb, &rlen, &rhigh)) != PV_OK)
			goto out;
		w = (uint16_t)(rb[rlen - 2] << 8 | rb[rlen - 1]);
		if ((w >> 8) == 0x6c) {
			/* ISO 7816-4: 6CXX = wrong Le, re-send with Le = XX. */
			if (n_6c >= s->max_resend_6c) {
				APDU_DBG(s, "%s: %u re-sends after 6CXX", __func__,
				    n_6c);
				r = PV_E_CHAIN;
				goto out;
			}
			n_6c++;
			s->stats.n_resend_6c++;
			cur.le = (w & 0xff) == 0 ? 256 : (w & 0xffu);
			continue;
		}
		dlen = rlen - 2;
		if (dlen > 0) {
			if (s->max_rsp < 2 || total > s->max_rsp - 2 ||
			    dlen > s->max_rsp - 2 - total) {
				APDU_DBG(s, "%s: response over %zu bytes", __func__,
				    s->max_rsp);
				r = PV_E_TOO_LONG;
				goto out;
			}
			if (rsp != NULL && !buf_put(rsp, rb, dlen)) {
				APDU_DBG(s, "%s: response over the caller's %zu "
				    "bytes", __func__, rsp->max);
				r = PV_E_TOO_LONG;
				goto out;
			}
			total += dlen;
		}
		if ((w >> 8) == 0x61) {
			/* ISO 7816-4: 61XX = XX more bytes (00: 256 or more). */
			if (n_gr >= s->max_get_response) {
				APDU_DBG(s, "%s: %u GET RESPONSE rounds", __func__,
				    n_gr);
				r = PV_E_CHAIN;
				goto out;
			}
			n_gr++;
			s->stats.n_get_response++;
			memset(&cur, 0, sizeof(cur));
			cur.cla = (uint8_t)(cmd->cla & 0x03);	/* logical channel */
			cur.ins = APDU_INS_GET_RESPONSE;
			cur.le = (w & 0xff) == 0 ? 256 : (w & 0xffu);
			ext = false;
			continue;
		}
		break;
	}
	*sw = w;
	r = PV_OK;
out:
	if (r != PV_OK && rsp != NULL)
		buf_out_truncate(rsp, rsp_start);
	buf_out_cleanup(&cb);
	if (rb != NULL) {
		buf_wipe(rb, rhigh);
		free(rb);
	}
	return r;
}
