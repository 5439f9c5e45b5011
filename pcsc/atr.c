/*
 * atr.c: ATR decoding per ISO/IEC 7816-3:2006 §8 and the historical bytes
 * per ISO/IEC 7816-4:2013 §8.1.1; identification against pcsc-tools'
 * smartcard_list.txt.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apdu/buf.h"
#include "pcsc/atr.h"

/* ISO 7816-3 Table 7: clock rate conversion integer Fi and f(max). */
static const unsigned atr_fi_table[16] = {
	372, 372, 558, 744, 1116, 1488, 1860, 0,
	0, 512, 768, 1024, 1536, 2048, 0, 0
};
static const unsigned atr_fmax_khz[16] = {
	4000, 5000, 6000, 8000, 12000, 16000, 20000, 0,
	0, 5000, 7500, 10000, 15000, 20000, 0, 0
};
/* ISO 7816-3 Table 8: baud rate adjustment integer Di. */
static const unsigned atr_di_table[16] = {
	0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0
};

/* Reference clock for the bit rates we print (a common reader clock). */
#define ATR_REF_CLOCK_HZ 3571200u

static void
atr_set_defaults(struct atr_info *a)
{
	a->fi = 1;
	a->di = 1;
	a->f = 372;
	a->d = 1;
	a->fmax_khz = 5000;
	a->wi = 10;
	a->ifsc = 32;
	a->bwi = 4;
	a->cwi = 13;
	a->ta2_proto = -1;
}

/* ISO 7816-4 §8.1.1.2: compact-TLV objects, one header byte each. */
static bool
atr_parse_ctlv(struct atr_info *a, struct buf_cur c)
{
	uint8_t h;
	struct buf_cur v;
	struct atr_ctlv *o;

	while (!buf_done(&c)) {
		if (!buf_get_u8(&c, &h))
			return false;
		if (!buf_get_sub(&c, (size_t)(h & 0x0f), &v))
			return false;
		if (a->n_ctlv >= ATR_MAX_HIST)
			return false;
		o = &a->ctlv[a->n_ctlv++];
		o->tag = (uint8_t)(h >> 4);
		o->len = (uint8_t)(h & 0x0f);
		memcpy(o->v, v.p, v.len);
		switch (o->tag) {
		case 0x3:
			if (o->len == 1) {
				a->has_service = true;
				a->service = o->v[0];
			}
			break;
		case 0x7:
			if (o->len >= 1 && o->len <= 3) {
				a->has_caps = true;
				a->caps_len = o->len;
				memcpy(a->caps, o->v, o->len);
			}
			break;
		case 0x8:
			/* Status indicator: LCS, SW, or LCS + SW. */
			if (o->len == 1 || o->len == 3) {
				a->has_lcs = true;
				a->lcs = o->v[0];
			}
			if (o->len == 2 || o->len == 3) {
				a->has_sw = true;
				a->sw = (uint16_t)(o->v[o->len - 2] << 8 |
				    o->v[o->len - 1]);
			}
			break;
		default:
			break;
		}
	}
	return true;
}

static void
atr_parse_hist(struct atr_info *a)
{
	struct buf_cur c;

	if (a->hist_len == 0)
		return;
	a->category = a->hist[0];
	switch (a->category) {
	case 0x00:
		/* Objects, then a mandatory 3-byte status indicator. */
		a->hist_ctlv = true;
		if (a->hist_len < 4)
			return;
		buf_cur_init(&c, a->hist + 1, a->hist_len - 4);
		a->hist_ctlv_ok = atr_parse_ctlv(a, c);
		a->has_lcs = a->has_sw = true;
		a->lcs = a->hist[a->hist_len - 3];
		a->sw = (uint16_t)(a->hist[a->hist_len - 2] << 8 |
		    a->hist[a->hist_len - 1]);
		break;
	case 0x80:
		a->hist_ctlv = true;
		buf_cur_init(&c, a->hist + 1, a->hist_len - 1);
		a->hist_ctlv_ok = atr_parse_ctlv(a, c);
		break;
	case 0x10:
		if (a->hist_len >= 2) {
			a->has_dir_ref = true;
			a->dir_ref = a->hist[1];
		}
		break;
	default:
		break;		/* proprietary */
	}
}

/* Protocol-specific bytes of groups 2.. (ISO 7816-3 §11.4, §8.3). */
static void
atr_interpret_groups(struct atr_info *a)
{
	size_t i;
	const struct atr_group *g;

	g = &a->g[0];
	if (g->has_ta) {
		a->has_ta1 = true;
		a->fi = (uint8_t)(g->ta >> 4);
		a->di = (uint8_t)(g->ta & 0x0f);
		a->f = atr_fi_table[a->fi];
		a->fmax_khz = atr_fmax_khz[a->fi];
		a->d = atr_di_table[a->di];
	}
	if (g->has_tc)
		a->n = g->tc;
	if (a->n_groups > 1) {
		g = &a->g[1];
		if (g->has_ta) {
			a->has_ta2 = true;
			a->ta2_cannot_change = (g->ta & 0x80) != 0;
			a->ta2_implicit = (g->ta & 0x10) != 0;
			a->ta2_proto = g->ta & 0x0f;
		}
		if (g->has_tc && g->proto == 0)
			a->wi = g->tc;
	}
	for (i = 2; i < a->n_groups; i++) {
		g = &a->g[i];
		if (g->proto == 1) {
			if (g->has_ta && !a->t1_has_ifsc) {
				a->t1_has_ifsc = true;
				a->ifsc = g->ta;
			}
			if (g->has_tb && !a->t1_has_bwi) {
				a->t1_has_bwi = true;
				a->bwi = (uint8_t)(g->tb >> 4);
				a->cwi = (uint8_t)(g->tb & 0x0f);
			}
			if (g->has_tc && !a->t1_has_edc) {
				a->t1_has_edc = true;
				a->crc = (g->tc & 0x01) != 0;
			}
		} else if (g->proto == 15 && g->has_ta && !a->has_t15_ta) {
			a->has_t15_ta = true;
			a->clock_stop = (uint8_t)(g->ta >> 6);
			a->class_ui = (uint8_t)(g->ta & 0x3f);
		}
	}
}

enum pv_err
atr_parse(const uint8_t *atr, size_t len, struct atr_info *out,
    struct pv_why *why)
{
	struct buf_cur c, hist;
	struct atr_group *g;
	uint8_t y, x, td;
	int proto = -1;
	size_t i;

	memset(out, 0, sizeof(*out));
	atr_set_defaults(out);
	if (atr == NULL || len == 0)
		return pv_why_set(why, PV_E_MALFORMED, "ATR is empty");
	if (len > ATR_MAX_LEN)
		return pv_why_set(why, PV_E_MALFORMED,
		    "ATR is %zu bytes, at most %d allowed", len, ATR_MAX_LEN);
	memcpy(out->raw, atr, len);
	out->len = len;
	buf_cur_init(&c, atr, len);

	(void)buf_get_u8(&c, &out->ts);
	if (out->ts != 0x3b && out->ts != 0x3f)
		return pv_why_set(why, PV_E_MALFORMED,
		    "TS is %02X, expected 3B (direct) or 3F (inverse)", out->ts);
	if (!buf_get_u8(&c, &out->t0))
		return pv_why_set(why, PV_E_MALFORMED, "ATR ends after TS");
	y = (uint8_t)(out->t0 >> 4);
	for (i = 0;; i++) {
		if (i >= ATR_MAX_GROUPS)
			return pv_why_set(why, PV_E_MALFORMED,
			    "more than %d groups of interface bytes",
			    ATR_MAX_GROUPS);
		g = &out->g[i];
		g->proto = proto;
		out->n_groups = i + 1;
		if ((y & 1) != 0) {
			if (!buf_get_u8(&c, &g->ta))
				goto truncated;
			g->has_ta = true;
		}
		if ((y & 2) != 0) {
			if (!buf_get_u8(&c, &g->tb))
				goto truncated;
			g->has_tb = true;
		}
		if ((y & 4) != 0) {
			if (!buf_get_u8(&c, &g->tc))
				goto truncated;
			g->has_tc = true;
		}
		if ((y & 8) == 0)
			break;
		if (!buf_get_u8(&c, &td))
			goto truncated;
		g->has_td = true;
		g->td = td;
		proto = td & 0x0f;
		out->protocols |= (uint16_t)(1u << proto);
		if (i == 0)
			out->first_proto = proto;
		if (proto != 0)
			out->tck_required = true;
		y = (uint8_t)(td >> 4);
	}
	if (!out->g[0].has_td)
		out->protocols |= 1u;	/* §8.2.3: no TD1 means T=0 only */

	out->hist_len = (size_t)(out->t0 & 0x0f);
	if (!buf_get_sub(&c, out->hist_len, &hist))
		return pv_why_set(why, PV_E_MALFORMED,
		    "T0 announces %zu historical bytes, only %zu left",
		    out->hist_len, c.len);
	memcpy(out->hist, hist.p, hist.len);

	if (c.len > 1)
		return pv_why_set(why, PV_E_MALFORMED,
		    "%zu bytes after the historical bytes (expected at most TCK)",
		    c.len);
	if (c.len == 1) {
		out->tck_present = true;
		out->tck = c.p[0];
		x = 0;
		for (i = 1; i < len; i++)
			x ^= atr[i];
		out->tck_ok = x == 0;
	} else {
		out->tck_ok = !out->tck_required;
	}
	atr_interpret_groups(out);
	atr_parse_hist(out);
	return PV_OK;

truncated:
	return pv_why_set(why, PV_E_MALFORMED,
	    "interface bytes of group %zu announced but the ATR ends", i + 1);
}

enum pv_err
atr_from_hex(const char *hex, uint8_t *out, size_t *out_len,
    struct pv_why *why)
{
	size_t n = 0;
	int hi = -1, v;
	const char *p;

	*out_len = 0;
	for (p = hex; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (isspace(ch) || ch == ':' || ch == '-') {
			if (hi >= 0)
				return pv_why_set(why, PV_E_INPUT,
				    "ATR hex: odd digit before separator at "
				    "position %zu", (size_t)(p - hex) + 1);
			continue;
		}
		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		else
			return pv_why_set(why, PV_E_INPUT,
			    "ATR hex: '%c' at position %zu is not a hex digit",
			    isprint(ch) ? ch : '?', (size_t)(p - hex) + 1);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= ATR_MAX_LEN)
			return pv_why_set(why, PV_E_INPUT,
			    "ATR hex: more than %d bytes", ATR_MAX_LEN);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return pv_why_set(why, PV_E_INPUT, "ATR hex: odd number of digits");
	if (n == 0)
		return pv_why_set(why, PV_E_INPUT, "ATR hex: no bytes");
	*out_len = n;
	return PV_OK;
}

void
atr_to_hex(const uint8_t *atr, size_t len, char out[ATR_HEX_MAX])
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if (len > ATR_MAX_LEN)
		len = ATR_MAX_LEN;
	for (i = 0; i < len; i++) {
		if (i > 0)
			out[o++] = ' ';
		out[o++] = digits[atr[i] >> 4];
		out[o++] = digits[atr[i] & 0x0f];
	}
	out[o] = '\0';
}

void
atr_proto_list(uint16_t protocols, char *out, size_t cap)
{
	size_t o = 0;
	unsigned t;
	int k;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (t = 0; t < 16; t++) {
		if ((protocols & (1u << t)) == 0)
			continue;
		k = snprintf(out + o, cap - o, "%sT=%u", o > 0 ? ", " : "", t);
		if (k < 0 || (size_t)k >= cap - o)
			return;
		o += (size_t)k;
	}
}

/* ---- explanation ------------------------------------------------------ */

#define EXPL_MAX 512

struct atr_expl {
	atr_explain_fn *fn;
	void *ctx;
	char hex[12];
	char m[EXPL_MAX];
};

static void
expl_emit(struct atr_expl *e, const char *field, int byte, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
expl_emit(struct atr_expl *e, const char *field, int byte, const char *fmt,
    ...)
{
	va_list ap;

	if (byte >= 0)
		(void)snprintf(e->hex, sizeof(e->hex), "%02X", (unsigned)byte & 0xffu);
	else
		e->hex[0] = '\0';
	va_start(ap, fmt);
	(void)vsnprintf(e->m, sizeof(e->m), fmt, ap);
	va_end(ap);
	e->fn(e->ctx, field, e->hex, e->m);
}

static const char *
atr_proto_name(int t)
{
	switch (t) {
	case 0: return "T=0 (half-duplex character protocol)";
	case 1: return "T=1 (half-duplex block protocol)";
	case 14: return "T=14 (proprietary)";
	case 15: return "T=15 (global interface bytes follow)";
	default: return "RFU protocol";
	}
}

static void
atr_explain_ta1(struct atr_expl *e, const struct atr_info *a, uint8_t ta)
{
	unsigned fi = ta >> 4, di = ta & 0x0f;
	unsigned f = atr_fi_table[fi], d = atr_di_table[di];

	if (f == 0 || d == 0) {
		expl_emit(e, "TA1", ta, "Fi=%s (FI=%X), Di=%s (DI=%X): RFU "
		    "value, the reader keeps the defaults",
		    f ? "ok" : "RFU", fi, d ? "ok" : "RFU", di);
		return;
	}
	expl_emit(e, "TA1", ta, "Fi=%u Di=%u: %u/%u = %.2f clocks per ETU; "
	    "%u bit/s at 3.5712 MHz; f(max) %.1f MHz", f, d, f, d,
	    (double)f / d, (unsigned)((unsigned long)ATR_REF_CLOCK_HZ * d / f),
	    atr_fmax_khz[fi] / 1000.0);
	(void)a;
}

static void
atr_explain_caps(struct atr_expl *e, const struct atr_info *a)
{
	uint8_t b;
	unsigned lc;

	if (a->caps_len >= 1) {
		b = a->caps[0];
		expl_emit(e, "caps: selection", b,
		    "DF selection by full name %s, by partial name %s, by path "
		    "%s, by file id %s, implicit %s; short EF id %s; record "
		    "number %s; record identifier %s",
		    b & 0x80 ? "yes" : "no", b & 0x40 ? "yes" : "no",
		    b & 0x20 ? "yes" : "no", b & 0x10 ? "yes" : "no",
		    b & 0x08 ? "yes" : "no", b & 0x04 ? "yes" : "no",
		    b & 0x02 ? "yes" : "no", b & 0x01 ? "yes" : "no");
	}
	if (a->caps_len >= 2) {
		static const char *const wr[4] = { "one-time write",
		    "proprietary", "write OR", "write AND" };

		b = a->caps[1];
		expl_emit(e, "caps: data coding", b,
		    "EF with TLV structure %s; write functions: %s; FF as first "
		    "tag byte %s; data unit %u quartets",
		    b & 0x80 ? "supported" : "not supported",
		    wr[(b >> 5) & 3], b & 0x10 ? "valid" : "invalid",
		    1u << (b & 0x0f));
	}
	if (a->caps_len >= 3) {
		b = a->caps[2];
		lc = (b & 7) == 7 ? 8 : (unsigned)(b & 7) + 1;
		expl_emit(e, "caps: commands", b,
		    "command chaining %s; extended Lc/Le %s; extended length "
		    "info in EF.ATR %s; logical channels: %s, up to %u%s",
		    b & 0x80 ? "yes" : "no", b & 0x40 ? "yes" : "no",
		    b & 0x20 ? "yes" : "no",
		    (b & 0x18) == 0 ? "none assigned" :
		    (b & 0x10) ? "assigned by the card" : "assigned by the reader",
		    (b & 0x18) == 0 ? 1 : lc, (b & 7) == 7 ? " or more" : "");
	}
}

static const char *
atr_lcs_text(uint8_t lcs)
{
	if (lcs == 0x00)
		return "no information given";
	if (lcs == 0x01)
		return "creation state";
	if (lcs == 0x03)
		return "initialisation state";
	if ((lcs & 0xfd) == 0x05)
		return "operational state (activated)";
	if ((lcs & 0xfd) == 0x04)
		return "operational state (deactivated)";
	if ((lcs & 0xfc) == 0x0c)
		return "termination state";
	if (lcs >= 0x10)
		return "proprietary";
	return "RFU";
}

static const char *
atr_ctlv_name(uint8_t tag)
{
	switch (tag) {
	case 0x1: return "country code";
	case 0x2: return "issuer identification number";
	case 0x3: return "card service data";
	case 0x4: return "initial access data";
	case 0x5: return "card issuer's data";
	case 0x6: return "pre-issuing data";
	case 0x7: return "card capabilities";
	case 0x8: return "status indicator";
	case 0xf: return "application identifier";
	default: return "RFU tag";
	}
}

/* Bytes as hex, then as text in quotes when all printable. */
static void
atr_bytes_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	bool printable = n > 0;
	int k;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(out + o, cap - o, "%s%02X", i ? " " : "", p[i]);
		if (k < 0 || (size_t)k >= cap - o)
			return;
		o += (size_t)k;
		if (p[i] < 0x20 || p[i] > 0x7e)
			printable = false;
	}
	if (printable && o + n + 4 < cap) {
		out[o++] = ' ';
		out[o++] = '"';
		memcpy(out + o, p, n);
		o += n;
		out[o++] = '"';
		out[o] = '\0';
	}
}

static void
atr_explain_hist(struct atr_expl *e, const struct atr_info *a)
{
	char txt[ATR_MAX_HIST * 4 + 8];
	size_t i;
	const struct atr_ctlv *o;

	atr_bytes_text(a->hist, a->hist_len, txt, sizeof(txt));
	expl_emit(e, "historical", -1, "%zu bytes: %s", a->hist_len, txt);
	if (a->hist_len == 0)
		return;
	switch (a->category) {
	case 0x00:
		expl_emit(e, "category", a->category,
		    "compact-TLV objects followed by a 3-byte status indicator");
		break;
	case 0x80:
		expl_emit(e, "category", a->category,
		    "compact-TLV objects (status indicator, if any, in tag 8)");
		break;
	case 0x10:
		expl_emit(e, "category", a->category,
		    "DIR data reference follows%s",
		    a->has_dir_ref ? "" : " (missing)");
		break;
	default:
		expl_emit(e, "category", a->category,
		    a->category >= 0x81 && a->category <= 0x8f ?
		    "RFU category" : "proprietary historical bytes");
		return;
	}
	if (a->hist_ctlv && !a->hist_ctlv_ok)
		expl_emit(e, "compact-TLV", -1,
		    "malformed: an object runs past the historical bytes");
	for (i = 0; i < a->n_ctlv; i++) {
		char field[32];

		o = &a->ctlv[i];
		(void)snprintf(field, sizeof(field), "tag %X", o->tag);
		atr_bytes_text(o->v, o->len, txt, sizeof(txt));
		expl_emit(e, field, (o->tag << 4) | o->len, "%s: %s",
		    atr_ctlv_name(o->tag), txt);
		if (o->tag == 0x3 && o->len == 1) {
			uint8_t b = o->v[0];

			expl_emit(e, "service data", b,
			    "application selection by full DF name %s, by "
			    "partial DF name %s; data objects in EF.DIR %s, in "
			    "EF.ATR %s; EF.DIR/EF.ATR read by %s; %s",
			    b & 0x80 ? "yes" : "no", b & 0x40 ? "yes" : "no",
			    b & 0x20 ? "yes" : "no", b & 0x10 ? "yes" : "no",
			    (b & 0x0e) == 0x08 ? "READ BINARY" :
			    (b & 0x0e) == 0x00 ? "READ RECORD" :
			    (b & 0x0e) == 0x04 ? "GET DATA" : "RFU method",
			    b & 0x01 ? "card without MF" : "card with MF");
		}
	}
	if (a->has_caps)
		atr_explain_caps(e, a);
	if (a->has_lcs)
		expl_emit(e, "life cycle", a->lcs, "%s", atr_lcs_text(a->lcs));
	if (a->has_sw)
		expl_emit(e, "status word", -1, "%04X%s", a->sw,
		    a->sw == 0x9000 ? " (normal)" : "");
	if (a->has_dir_ref)
		expl_emit(e, "DIR reference", a->dir_ref, "DIR data reference");
}

static void
atr_explain_group(struct atr_expl *e, const struct atr_info *a, size_t i)
{
	const struct atr_group *g = &a->g[i];
	unsigned n = (unsigned)i + 1;
	char field[8];

	if (g->has_ta) {
		(void)snprintf(field, sizeof(field), "TA%u", n);
		if (i == 0)
			atr_explain_ta1(e, a, g->ta);
		else if (i == 1)
			expl_emit(e, field, g->ta, "specific mode T=%u; "
			    "%s; parameters %s", g->ta & 0x0f,
			    g->ta & 0x80 ? "cannot change to negotiable mode" :
			    "can change to negotiable mode",
			    g->ta & 0x10 ? "implicit (not from TA1)" :
			    "from TA1");
		else if (g->proto == 1)
			expl_emit(e, field, g->ta, "T=1 IFSC %u bytes%s",
			    g->ta, g->ta == 0 || g->ta == 0xff ?
			    " (invalid value)" : "");
		else if (g->proto == 15)
			expl_emit(e, field, g->ta, "clock stop %s; class %s%s%s",
			    (const char *[]){ "not supported", "state L",
			    "state H", "no preference" }[g->ta >> 6],
			    g->ta & 1 ? "A (5 V) " : "",
			    g->ta & 2 ? "B (3 V) " : "",
			    g->ta & 4 ? "C (1.8 V)" : "");
		else
			expl_emit(e, field, g->ta, "specific to T=%d", g->proto);
	}
	if (g->has_tb) {
		(void)snprintf(field, sizeof(field), "TB%u", n);
		if (i == 0 || i == 1)
			expl_emit(e, field, g->tb, "programming voltage "
			    "(deprecated)%s", g->tb == 0 ? ": VPP not connected" : "");
		else if (g->proto == 1)
			expl_emit(e, field, g->tb, "T=1 BWI %u, CWI %u: block "
			    "waiting time %u ms, character waiting time %u ETU "
			    "(at 3.5712 MHz)", g->tb >> 4, g->tb & 0x0f,
			    (unsigned)(11u * 372u * 1000u / ATR_REF_CLOCK_HZ +
			    (1u << (g->tb >> 4)) * 100u),
			    11u + (1u << (g->tb & 0x0f)));
		else if (g->proto == 15)
			expl_emit(e, field, g->tb, "standard or proprietary use "
			    "of contact C6 (SPU)");
		else
			expl_emit(e, field, g->tb, "specific to T=%d", g->proto);
	}
	if (g->has_tc) {
		(void)snprintf(field, sizeof(field), "TC%u", n);
		if (i == 0)
			expl_emit(e, field, g->tc, g->tc == 255 ?
			    "extra guard time N=255: minimum (12 ETU for T=0, "
			    "11 ETU for T=1)" : "extra guard time N=%u ETU",
			    g->tc);
		else if (i == 1 && g->proto == 0)
			expl_emit(e, field, g->tc, "T=0 waiting time integer "
			    "WI=%u (WT = %u ms at Fi/3.5712 MHz)", g->tc,
			    (unsigned)((unsigned long)g->tc * 960u * a->f /
			    (ATR_REF_CLOCK_HZ / 1000u)));
		else if (g->proto == 1)
			expl_emit(e, field, g->tc, "T=1 error detection: %s",
			    g->tc & 1 ? "CRC" : "LRC");
		else
			expl_emit(e, field, g->tc, "specific to T=%d", g->proto);
	}
	if (g->has_td) {
		(void)snprintf(field, sizeof(field), "TD%u", n);
		expl_emit(e, field, g->td, "%s; next group: %s%s%s%s%s",
		    atr_proto_name(g->td & 0x0f),
		    g->td & 0x10 ? "TA " : "", g->td & 0x20 ? "TB " : "",
		    g->td & 0x40 ? "TC " : "", g->td & 0x80 ? "TD " : "",
		    (g->td & 0xf0) == 0 ? "none" : "");
	}
}

void
atr_explain(const struct atr_info *a, atr_explain_fn *fn, void *ctx)
{
	struct atr_expl e = { .fn = fn, .ctx = ctx };
	char protos[64];
	size_t i;

	expl_emit(&e, "TS", a->ts, a->ts == 0x3b ? "direct convention" :
	    "inverse convention");
	expl_emit(&e, "T0", a->t0, "Y1=%X (%s%s%s%s), K=%u historical bytes",
	    a->t0 >> 4, a->t0 & 0x10 ? "TA1 " : "", a->t0 & 0x20 ? "TB1 " : "",
	    a->t0 & 0x40 ? "TC1 " : "", a->t0 & 0x80 ? "TD1" : "",
	    a->t0 & 0x0f);
	for (i = 0; i < a->n_groups; i++)
		atr_explain_group(&e, a, i);
	atr_explain_hist(&e, a);
	if (a->tck_present)
		expl_emit(&e, "TCK", a->tck, "check byte %s%s", a->tck_ok ?
		    "correct" : "WRONG (XOR of T0..TCK is not 00)",
		    a->tck_required ? "" : " (present although only T=0)");
	else if (a->tck_required)
		expl_emit(&e, "TCK", -1, "MISSING although a protocol other "
		    "than T=0 is offered");

	atr_proto_list(a->protocols, protos, sizeof(protos));
	expl_emit(&e, "protocols", -1, "%s; first offered T=%d%s", protos,
	    a->first_proto, a->has_ta2 ? " (specific mode)" : "");
	if (a->f != 0 && a->d != 0)
		expl_emit(&e, "speed", -1, "Fi/Di = %u/%u; %u bit/s at 3.5712 "
		    "MHz%s", a->f, a->d,
		    (unsigned)((unsigned long)ATR_REF_CLOCK_HZ * a->d / a->f),
		    a->has_ta1 ? "" : " (defaults)");
	if (a->protocols & 2)
		expl_emit(&e, "T=1", -1, "IFSC %u, BWI %u, CWI %u, %s%s",
		    a->ifsc, a->bwi, a->cwi, a->crc ? "CRC" : "LRC",
		    a->t1_has_ifsc || a->t1_has_bwi ? "" : " (defaults)");
}

/* ---- smartcard_list.txt ---------------------------------------------- */

/*
 * The list's patterns are regular expressions over "3B FD 13 ..." that in
 * practice use only: literal hex digits and spaces, `.`, bracket classes
 * with ranges (commas are literal members), and `*` after an atom.  We
 * match that subset with a linear NFA simulation (no regex library, no
 * backtracking); a line using anything else is skipped.
 */
#define ATR_PAT_MAX 160		/* the longest real pattern is under 100 */

struct atr_atom {
	uint8_t set[32];	/* 256-bit membership */
	bool star;
};

static void
atom_add(struct atr_atom *a, unsigned ch)
{
	unsigned u = (unsigned)toupper((int)ch);
	unsigned l = (unsigned)tolower((int)ch);

	a->set[u >> 3] = (uint8_t)(a->set[u >> 3] | (1u << (u & 7)));
	a->set[l >> 3] = (uint8_t)(a->set[l >> 3] | (1u << (l & 7)));
}

static bool
atom_has(const struct atr_atom *a, unsigned ch)
{
	return (a->set[ch >> 3] >> (ch & 7) & 1) != 0;
}

static bool
atr_pat_char_ok(unsigned ch)
{
	return isxdigit((int)ch) || ch == ' ' || ch == '.' || ch == '[' ||
	    ch == ']' || ch == '-' || ch == ',' || ch == '*';
}

/* Compiles |pat| (|n| chars) into atoms; false if outside the subset. */
static bool
atr_pat_compile(const char *pat, size_t n, struct atr_atom *atoms,
    size_t *n_atoms)
{
	size_t i = 0, k = 0, j;
	unsigned c, lo, hi;

	while (i < n) {
		c = (unsigned char)pat[i];
		if (!atr_pat_char_ok(c))
			return false;
		if (c == '*') {
			if (k == 0 || atoms[k - 1].star)
				return false;
			atoms[k - 1].star = true;
			i++;
			continue;
		}
		if (k >= ATR_PAT_MAX)
			return false;
		memset(&atoms[k], 0, sizeof(atoms[k]));
		if (c == '.') {
			memset(atoms[k].set, 0xff, sizeof(atoms[k].set));
			i++;
		} else if (c == '[') {
			j = i + 1;
			if (j < n && pat[j] == '^')
				return false;
			while (j < n && pat[j] != ']') {
				lo = (unsigned char)pat[j];
				if (!atr_pat_char_ok(lo) || lo == '[')
					return false;
				if (j + 2 < n && pat[j + 1] == '-' &&
				    pat[j + 2] != ']') {
					hi = (unsigned char)pat[j + 2];
					if (!atr_pat_char_ok(hi) || hi < lo)
						return false;
					for (; lo <= hi; lo++)
						atom_add(&atoms[k], lo);
					j += 3;
				} else {
					atom_add(&atoms[k], lo);
					j++;
				}
			}
			if (j >= n || j == i + 1)
				return false;	/* unclosed or empty class */
			i = j + 1;
		} else if (c == ']' || c == '-' || c == ',') {
			return false;		/* stray class characters */
		} else {
			atom_add(&atoms[k], c);
			i++;
		}
		k++;
	}
	*n_atoms = k;
	return k > 0;
}

/* Thompson simulation over the atoms: O(len(s) * atoms). */
static bool
atr_pat_match(const struct atr_atom *atoms, size_t n_atoms, const char *s)
{
	bool cur[ATR_PAT_MAX + 1], nxt[ATR_PAT_MAX + 1];
	size_t i;
	const char *p;

	memset(cur, 0, sizeof(cur));
	cur[0] = true;
	for (i = 0; i < n_atoms; i++)	/* closure: starred atoms may match none */
		if (cur[i] && atoms[i].star)
			cur[i + 1] = true;
	for (p = s; *p != '\0'; p++) {
		bool any = false;

		memset(nxt, 0, sizeof(nxt));
		for (i = 0; i < n_atoms; i++) {
			if (!cur[i] || !atom_has(&atoms[i], (unsigned char)*p))
				continue;
			if (atoms[i].star)
				nxt[i] = true;
			else
				nxt[i + 1] = true;
			any = true;
		}
		if (!any)
			return false;
		for (i = 0; i < n_atoms; i++)
			if (nxt[i] && atoms[i].star)
				nxt[i + 1] = true;
		memcpy(cur, nxt, sizeof(cur));
	}
	return cur[n_atoms];
}

enum pv_err
atr_list_match(const char *list, size_t list_len, const uint8_t *atr,
    size_t atr_len, atr_match_fn *fn, void *ctx, size_t *n_matched,
    size_t *n_skipped)
{
	char subject[ATR_HEX_MAX];
	char pattern[ATR_PAT_MAX + 1];
	char text[512];
	struct atr_atom *atoms = NULL;
	size_t pos = 0, n_atoms, matched = 0, skipped = 0;
	bool in_entry = false, hit = false;

	if (n_matched != NULL)
		*n_matched = 0;
	if (n_skipped != NULL)
		*n_skipped = 0;
	if ((atoms = calloc(ATR_PAT_MAX, sizeof(*atoms))) == NULL)
		return PV_E_NOMEM;
	atr_to_hex(atr, atr_len, subject);
	pattern[0] = '\0';
	while (pos < list_len) {
		const char *line = list + pos;
		const char *nl = memchr(line, '\n', list_len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : list_len - pos;

		pos += n + (nl != NULL ? 1 : 0);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
		    line[n - 1] == '\t'))
			n--;
		if (n == 0) {
			in_entry = hit = false;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (line[0] == '\t' || line[0] == ' ') {
			size_t b = 0;

			if (!in_entry || !hit)
				continue;
			while (b < n && (line[b] == '\t' || line[b] == ' '))
				b++;
			if (n - b >= sizeof(text))
				n = b + sizeof(text) - 1;
			memcpy(text, line + b, n - b);
			text[n - b] = '\0';
			fn(ctx, pattern, text);
			continue;
		}
		/* A pattern line starts a new entry. */
		in_entry = true;
		hit = false;
		if (n > ATR_PAT_MAX ||
		    !atr_pat_compile(line, n, atoms, &n_atoms)) {
			skipped++;
			continue;
		}
		memcpy(pattern, line, n);
		pattern[n] = '\0';
		if (atr_pat_match(atoms, n_atoms, subject)) {
			hit = true;
			matched++;
		}
	}
	free(atoms);
	if (n_matched != NULL)
		*n_matched = matched;
	if (n_skipped != NULL)
		*n_skipped = skipped;
	return PV_OK;
}

/*
 * The list (480 KB in Debian 12) is read once per process and kept while
 * the file stays the same (device, inode, size, modification time):
 * `readers --watch` identifies a card on every insertion.
 */
static struct {
	pthread_mutex_t mu;
	char *path;
	struct stat st;		/* of the file when it was read */
	char *buf;
	size_t len;
} atr_list_cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The same file, unchanged: device, inode, size, modification time. */
static bool
atr_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads |f| whole into *out (NUL-free text is not assumed). */
static enum pv_err
atr_list_read(FILE *f, char **out, size_t *out_len)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;

	for (;;) {
		if (cap - len < 65536) {
			if (cap > (64u << 20)) {	/* a sane list is < 1 MiB */
				free(buf);
				return PV_E_TOO_LONG;
			}
			cap = cap ? cap * 2 : 1u << 20;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return PV_E_NOMEM;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return PV_E_IO;
	}
	*out = buf;
	*out_len = len;
	return PV_OK;
}

enum pv_err
atr_identify(const char *path, const uint8_t *atr, size_t atr_len,
    atr_match_fn *fn, void *ctx, size_t *n_matched)
{
	struct stat st;
	FILE *f = NULL;
	char *buf = NULL, *p = NULL;
	size_t len = 0;
	enum pv_err r;

	if (path == NULL)
		path = getenv("PIVSTATION_SMARTCARD_LIST");
	if (path == NULL || *path == '\0')
		path = ATR_LIST_DEFAULT;
	pthread_mutex_lock(&atr_list_cache.mu);
	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) != 0) {
		r = PV_E_IO;
		goto out;
	}
	if (atr_list_cache.buf == NULL || strcmp(atr_list_cache.path, path) !=
	    0 || !atr_same_file(&atr_list_cache.st, &st)) {
		struct stat after;

		if ((r = atr_list_read(f, &buf, &len)) != PV_OK)
			goto out;
		/* Rewritten while being read: use it once, keep nothing. */
		if (fstat(fileno(f), &after) != 0 ||
		    !atr_same_file(&st, &after) || (off_t)len != st.st_size) {
			r = atr_list_match(buf, len, atr, atr_len, fn, ctx,
			    n_matched, NULL);
			goto out;
		}
		if ((p = strdup(path)) == NULL) {
			r = PV_E_NOMEM;
			goto out;
		}
		free(atr_list_cache.buf);
		free(atr_list_cache.path);
		atr_list_cache.buf = buf;
		atr_list_cache.len = len;
		atr_list_cache.path = p;
		atr_list_cache.st = st;
		buf = p = NULL;
	}
	/* Matching under the lock: |fn| must not identify again. */
	r = atr_list_match(atr_list_cache.buf, atr_list_cache.len, atr,
	    atr_len, fn, ctx, n_matched, NULL);
out:
	pthread_mutex_unlock(&atr_list_cache.mu);
	if (f != NULL)
		fclose(f);
	free(buf);
	free(p);
	return r;
}
