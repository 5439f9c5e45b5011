/*
 * test_apdu.c: command encoding and parsing, ATR capabilities, and the
 * exchange engine driven by the scripted fake card: 61XX reassembly, 6CXX
 * re-send, command chaining, extended length, caps, and a transport
 * failure at every exchange (run under ASan for leaks).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/apdu.h"
#include "tests/support/fake_card.h"
#include "tests/support/hex.h"

static uint8_t *
H(const char *hex, size_t *n)
{
	uint8_t *p;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad test hex %s", hex);
	return p;
}

/* A pattern of |n| bytes (not all equal, so mis-ordering shows). */
static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;

	cr_assert_not_null(p);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
	return p;
}

/* hex of |p| followed by the hex string |tail| (e.g. an SW). */
static char *
hexcat(const char *head, const uint8_t *p, size_t n, const char *tail)
{
	char *h = hex_encode(p, n), *s;
	size_t len = strlen(head) + strlen(h) + strlen(tail) + 1;

	cr_assert_not_null(h);
	s = malloc(len);
	cr_assert_not_null(s);
	snprintf(s, len, "%s%s%s", head, h, tail);
	free(h);
	return s;
}

static void
expect_cat(struct fake_card *fc, const char *cmd_head, const uint8_t *cmd_data,
    size_t cmd_n, const char *cmd_tail, const char *rsp_head,
    const uint8_t *rsp_data, size_t rsp_n, const char *rsp_tail)
{
	char *c = hexcat(cmd_head, cmd_data, cmd_n, cmd_tail);
	char *r = hexcat(rsp_head, rsp_data, rsp_n, rsp_tail);

	fake_card_expect(fc, c, r);
	free(c);
	free(r);
}

static void
assert_encodes(const struct apdu_cmd *cmd, bool ext, bool t0, const char *want)
{
	uint8_t mem[APDU_MAX_CMD];
	struct buf_out o;
	char *got;
	size_t n;
	uint8_t *w = H(want, &n);

	buf_out_fixed(&o, mem, sizeof(mem));
	cr_assert_eq(apdu_encode(cmd, ext, t0, &o), PV_OK, "encode %s", want);
	got = hex_encode(o.p, o.len);
	cr_assert(o.len == n && memcmp(o.p, w, n) == 0, "want %s got %s", want,
	    got);
	free(got);
	free(w);
}

/* ---- encoding ---------------------------------------------------------- */

Test(apdu_encode, four_cases_short)
{
	uint8_t d[] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };
	struct apdu_cmd c1 = { 0x00, 0x20, 0x00, 0x80, NULL, 0, 0 };
	struct apdu_cmd c2 = { 0x00, 0xfd, 0x00, 0x00, NULL, 0, APDU_LE_ANY };
	struct apdu_cmd c2b = { 0x00, 0xc0, 0x00, 0x00, NULL, 0, 0x12 };
	struct apdu_cmd c2c = { 0x00, 0xc0, 0x00, 0x00, NULL, 0, 256 };
	struct apdu_cmd c3 = { 0x00, 0xa4, 0x04, 0x00, d, sizeof(d), 0 };
	struct apdu_cmd c4 = { 0x00, 0xa4, 0x04, 0x00, d, sizeof(d), APDU_LE_ANY };

	assert_encodes(&c1, false, false, "00 20 00 80");
	assert_encodes(&c2, false, false, "00 fd 00 00 00");
	assert_encodes(&c2b, false, false, "00 c0 00 00 12");
	assert_encodes(&c2c, false, false, "00 c0 00 00 00");
	assert_encodes(&c3, false, false, "00 a4 04 00 05 a000000308");
	assert_encodes(&c4, false, false, "00 a4 04 00 05 a000000308 00");
}

Test(apdu_encode, four_cases_extended)
{
	uint8_t d[] = { 0x5c, 0x03, 0x5f, 0xc1, 0x05 };
	struct apdu_cmd c2 = { 0x00, 0xcb, 0x3f, 0xff, NULL, 0, APDU_LE_ANY };
	struct apdu_cmd c2b = { 0x00, 0xcb, 0x3f, 0xff, NULL, 0, 0x1234 };
	struct apdu_cmd c2c = { 0x00, 0xcb, 0x3f, 0xff, NULL, 0, 65536 };
	struct apdu_cmd c3 = { 0x00, 0xdb, 0x3f, 0xff, d, sizeof(d), 0 };
	struct apdu_cmd c4 = { 0x00, 0xcb, 0x3f, 0xff, d, sizeof(d), APDU_LE_ANY };
	struct apdu_cmd c4b = { 0x00, 0xcb, 0x3f, 0xff, d, sizeof(d), 300 };

	assert_encodes(&c2, true, false, "00 cb 3f ff 00 00 00");
	assert_encodes(&c2b, true, false, "00 cb 3f ff 00 12 34");
	assert_encodes(&c2c, true, false, "00 cb 3f ff 00 00 00");
	assert_encodes(&c3, true, false, "00 db 3f ff 00 00 05 5c035fc105");
	assert_encodes(&c4, true, false, "00 cb 3f ff 00 00 05 5c035fc105 00 00");
	assert_encodes(&c4b, true, false, "00 cb 3f ff 00 00 05 5c035fc105 01 2c");
}

Test(apdu_encode, t0_drops_le_on_case4_and_pads_case1)
{
	uint8_t d[] = { 0x5c, 0x01, 0x7e };
	struct apdu_cmd c1 = { 0x00, 0x20, 0x00, 0x80, NULL, 0, 0 };
	struct apdu_cmd c2 = { 0x00, 0xc0, 0x00, 0x00, NULL, 0, 0x10 };
	struct apdu_cmd c4 = { 0x00, 0xcb, 0x3f, 0xff, d, sizeof(d), APDU_LE_ANY };

	assert_encodes(&c1, false, true, "00 20 00 80 00");
	assert_encodes(&c2, false, true, "00 c0 00 00 10");
	assert_encodes(&c4, false, true, "00 cb 3f ff 03 5c017e");
}

Test(apdu_encode, refuses_what_does_not_fit)
{
	uint8_t mem[8], *big = pattern(70000, 1);
	struct buf_out o;
	struct apdu_cmd c;

	memset(&c, 0, sizeof(c));
	c.data = big;
	c.data_len = 256;
	buf_out_fixed(&o, mem, sizeof(mem));
	cr_assert_eq(apdu_encode(&c, false, false, &o), PV_E_INVAL);
	c.data_len = 65536;
	cr_assert_eq(apdu_encode(&c, true, false, &o), PV_E_INVAL);
	c.data_len = 0;
	c.le = 257;
	cr_assert_eq(apdu_encode(&c, false, false, &o), PV_E_INVAL);
	c.le = 65537;
	cr_assert_eq(apdu_encode(&c, true, false, &o), PV_E_INVAL);
	c.le = 0;
	cr_assert_eq(apdu_encode(&c, true, true, &o), PV_E_INVAL, "ext on T=0");
	c.data = NULL;
	c.data_len = 3;
	cr_assert_eq(apdu_encode(&c, false, false, &o), PV_E_INVAL);
	/* Fits the form but not the caller's 8 bytes. */
	c.data = big;
	c.data_len = 10;
	cr_assert_eq(apdu_encode(&c, false, false, &o), PV_E_TOO_LONG);
	free(big);
}

/* ---- parsing ----------------------------------------------------------- */

Test(apdu_parse, cases_short_and_extended)
{
	struct { const char *hex; enum apdu_case c; bool ext; size_t lc, le; } t[] = {
		{ "00 20 00 80", APDU_CASE_1, false, 0, 0 },
		{ "00 fd 00 00 00", APDU_CASE_2, false, 0, 256 },
		{ "00 c0 00 00 1c", APDU_CASE_2, false, 0, 28 },
		{ "00 20 00 80 08 3132333435 36ffff", APDU_CASE_3, false, 8, 0 },
		{ "00 a4 04 00 05 a000000308 00", APDU_CASE_4, false, 5, 256 },
		{ "00 cb 3f ff 00 00 00", APDU_CASE_2, true, 0, 65536 },
		{ "00 cb 3f ff 00 01 00", APDU_CASE_2, true, 0, 256 },
		{ "00 db 3f ff 00 00 02 5c01", APDU_CASE_3, true, 2, 0 },
		{ "00 cb 3f ff 00 00 03 5c017e 00 00", APDU_CASE_4, true, 3, 65536 },
		{ "00 cb 3f ff 00 00 03 5c017e 04 00", APDU_CASE_4, true, 3, 1024 },
	};
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *p = H(t[i].hex, &n);
		struct apdu_view v;

		cr_assert(apdu_parse_cmd(p, n, &v), "%s", t[i].hex);
		cr_assert_eq(v.apdu_case, t[i].c, "%s", t[i].hex);
		cr_assert_eq(v.extended, t[i].ext, "%s", t[i].hex);
		cr_assert_eq(v.data.len, t[i].lc, "%s", t[i].hex);
		cr_assert_eq(v.le, t[i].le, "%s", t[i].hex);
		if (t[i].lc > 0)
			cr_assert_eq(v.data_off, t[i].ext ? 7u : 5u);
		free(p);
	}
}

Test(apdu_parse, hostile_lengths)
{
	const char *bad[] = {
		"", "00", "00 20 00",
		"00 20 00 80 08 31",		/* Lc past end */
		"00 20 00 80 02 3132 00 00",	/* two bytes after data */
		"00 cb 3f ff 00 00",		/* extended Le truncated */
		"00 cb 3f ff 00 00 00 5c",	/* extended Lc 0 with data */
		"00 cb 3f ff 00 00 03 5c01",	/* extended data short */
		"00 cb 3f ff 00 00 01 5c 00",	/* 1-byte Le after extended Lc */
		"00 cb 3f ff 00 00 01 5c 00 00 00",
	};
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = H(bad[i], &n);
		struct apdu_view v;

		cr_assert_not(apdu_parse_cmd(p, n, &v), "accepted %s", bad[i]);
		free(p);
	}
}

Test(apdu_parse, encode_parse_round_trip)
{
	uint8_t *d = pattern(600, 3), mem[APDU_MAX_CMD];
	size_t lens[] = { 0, 1, 255, 256, 600 };
	size_t les[] = { 0, 1, 255, 256, 257, 65536, APDU_LE_ANY };
	size_t i, j, k;

	for (i = 0; i < 5; i++)
		for (j = 0; j < 7; j++)
			for (k = 0; k < 2; k++) {
				struct apdu_cmd c = { 0x00, 0xdb, 0x3f, 0xff, d,
				    lens[i], les[j] };
				struct buf_out o;
				struct apdu_view v;
				size_t want_le;

				buf_out_fixed(&o, mem, sizeof(mem));
				if (apdu_encode(&c, k == 1, false, &o) != PV_OK)
					continue;
				cr_assert(apdu_parse_cmd(o.p, o.len, &v));
				cr_assert_eq(v.data.len, lens[i]);
				want_le = les[j] == APDU_LE_ANY ?
				    (k ? 65536u : 256u) : les[j];
				cr_assert_eq(v.le, want_le, "lc %zu le %zu ext %zu",
				    lens[i], les[j], k);
				cr_assert_eq(v.extended, k == 1 && (lens[i] > 0 ||
				    les[j] != 0));
				if (lens[i] > 0)
					cr_assert(memcmp(v.data.p, d, lens[i]) == 0);
			}
	free(d);
}

Test(apdu, rsp_split)
{
	uint8_t r[] = { 0x01, 0x02, 0x90, 0x00 };
	struct buf_cur d;
	uint16_t sw = 0;

	cr_assert(apdu_rsp_split(r, 4, &d, &sw));
	cr_assert_eq(sw, 0x9000);
	cr_assert_eq(d.len, 2);
	cr_assert(apdu_rsp_split(r + 2, 2, &d, &sw));
	cr_assert_eq(d.len, 0);
	cr_assert_not(apdu_rsp_split(r, 1, &d, &sw));
	cr_assert_not(apdu_rsp_split(NULL, 0, &d, &sw));
}

/* ---- ATR --------------------------------------------------------------- */

#define ATR_YK5		"3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40"
#define ATR_YK4		"3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"
#define ATR_YK5_NFC	"3B 8D 80 01 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 F9"

static bool
caps_of(const char *hex, struct apdu_caps *caps)
{
	size_t n;
	uint8_t *p = H(hex, &n);
	bool ok = apdu_caps_from_atr(p, n, caps);

	free(p);
	return ok;
}

Test(apdu_atr, real_atrs)
{
	struct apdu_caps c;

	cr_assert(caps_of(ATR_YK5, &c));
	cr_assert(c.extended && c.chaining && !c.t0);
	cr_assert(caps_of(ATR_YK5_NFC, &c));
	cr_assert(c.extended && c.chaining && !c.t0, "T=0 and T=1 offered");
	cr_assert(caps_of(ATR_YK4, &c));
	cr_assert(!c.extended && c.chaining && !c.t0, "says nothing: defaults");
}

Test(apdu_atr, t0_only_and_capability_bits)
{
	struct apdu_caps c;

	/* No TD1: T=0 implied, no TCK.  Category 80, 73 00 00 80: chaining. */
	cr_assert(caps_of("3B 05 80 73 00 00 80", &c));
	cr_assert(c.t0 && c.chaining && !c.extended);
	/* T=0 only, card capabilities claim extended: T=0 cannot carry it. */
	cr_assert(caps_of("3B 85 00 80 73 00 00 C0", &c));
	cr_assert(c.t0 && !c.extended);
	/* T=1, capabilities 00: neither chaining nor extended. */
	cr_assert(caps_of("3B 85 01 80 73 00 00 00 77", &c));
	cr_assert(!c.t0 && !c.chaining && !c.extended);
	/* Category 00: compact-TLV then a 3-byte status indicator. */
	cr_assert(caps_of("3B 08 00 73 00 00 40 00 90 00", &c));
	cr_assert(c.t0 && c.extended == false);
	cr_assert(caps_of("3B 88 01 00 73 00 00 40 00 90 00 2A", &c));
	cr_assert(!c.t0 && c.extended && !c.chaining);
}

Test(apdu_atr, truncation_and_corruption)
{
	const char *atrs[] = { ATR_YK5, ATR_YK4, ATR_YK5_NFC };
	size_t i, k, n;

	for (i = 0; i < 3; i++) {
		uint8_t *p = H(atrs[i], &n);
		struct apdu_caps c;

		for (k = 0; k < n; k++)
			cr_assert_not(apdu_caps_from_atr(p, k, &c),
			    "%s accepted cut at %zu", atrs[i], k);
		p[n - 1] ^= 0x01;	/* bad TCK */
		cr_assert_not(apdu_caps_from_atr(p, n, &c));
		free(p);
	}
	{
		struct apdu_caps c;

		cr_assert_not(caps_of("3B 05 80 73 00 00 80 00", &c), "trailing");
		cr_assert_not(caps_of("3C 05 80 73 00 00 80", &c), "bad TS");
		cr_assert_not(caps_of("3B 03 80 74 00", &c), "compact TLV past end");
		cr_assert_not(caps_of("3B 02 00 73", &c), "no status indicator");
		cr_assert(caps_of("3F 00", &c), "inverse convention, nothing else");
	}
}

/* ---- the engine -------------------------------------------------------- */

struct rig {
	struct fake_card *fc;
	struct apdu_session s;
	struct buf_out rsp;
};

static void
rig_init(struct rig *g, bool extended, bool t0)
{
	struct apdu_transport tr;

	g->fc = fake_card_new();
	cr_assert_not_null(g->fc);
	tr = fake_card_transport(g->fc);
	apdu_session_init(&g->s, &tr);
	g->s.caps.extended = extended;
	g->s.caps.t0 = t0;
	cr_assert(buf_out_alloc(&g->rsp, 64, APDU_MAX_RSP));
}

static void
rig_done(struct rig *g)
{
	cr_assert(fake_card_done(g->fc), "fake card: %s",
	    fake_card_error(g->fc) ? fake_card_error(g->fc) : "script not consumed");
	fake_card_free(g->fc);
	buf_out_cleanup(&g->rsp);
}

static void
rig_free(struct rig *g)
{
	fake_card_free(g->fc);
	buf_out_cleanup(&g->rsp);
}

static const uint8_t get_auth_cert[] = { 0x5c, 0x03, 0x5f, 0xc1, 0x05 };

Test(apdu_engine, simple_select)
{
	static const uint8_t aid[] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };
	struct apdu_cmd c = { 0x00, 0xa4, 0x04, 0x00, aid, 5, APDU_LE_ANY };
	struct rig g;
	uint16_t sw;

	rig_init(&g, false, false);
	fake_card_expect(g.fc, "00a4040005a00000030800",
	    "61114f0600001000010079074f05a000000308 9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
	cr_assert_eq(sw, 0x9000);
	cr_assert_eq(g.rsp.len, 19);
	cr_assert_eq(g.s.stats.n_apdus, 1);
	cr_assert_eq(g.s.stats.bytes_out, 11);
	cr_assert_eq(g.s.stats.bytes_in, 21);
	cr_assert_eq(g.s.stats.n_extended, 0);
	rig_done(&g);
}

Test(apdu_engine, status_word_is_data)
{
	struct apdu_cmd c = { 0x00, 0xcb, 0x3f, 0xff, get_auth_cert, 5, APDU_LE_ANY };
	struct rig g;
	uint16_t sw;

	rig_init(&g, false, false);
	fake_card_expect(g.fc, "00cb3fff055c035fc10500", "6a82");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
	cr_assert_eq(sw, 0x6a82);
	cr_assert_eq(g.rsp.len, 0);
	rig_done(&g);
}

/*
 * Required counts (issue 2): reading an object of L bytes costs 1
 * exchange on an extended-capable card and ceil(L/256) on a short-only
 * card (GET DATA + GET RESPONSEs, 61XX as PIV-REFERENCE §1.5 says).
 */
Test(apdu_engine, read_counts_short_and_extended)
{
	size_t lens[] = { 1, 200, 255, 256, 257, 511, 512, 1000, 1905, 3063, 12710 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t L = lens[i], off, want;
		uint8_t *obj = pattern(L, (unsigned)i);
		struct apdu_cmd c = { 0x00, 0xcb, 0x3f, 0xff, get_auth_cert, 5,
		    APDU_LE_ANY };
		struct rig g;
		uint16_t sw;

		/* Extended-capable card: one exchange, Le = 0000. */
		rig_init(&g, true, false);
		expect_cat(g.fc, "00cb3fff0000055c035fc105", NULL, 0, "0000",
		    "", obj, L, "9000");
		cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
		cr_assert_eq(sw, 0x9000);
		cr_assert(g.rsp.len == L && memcmp(g.rsp.p, obj, L) == 0);
		cr_assert_eq(g.s.stats.n_apdus, 1, "L=%zu ext", L);
		cr_assert_eq(g.s.stats.n_extended, 1);
		rig_done(&g);

		/* Short-only card: 256 bytes per answer, then 61XX. */
		rig_init(&g, false, false);
		for (off = 0; off < L; off += 256) {
			size_t chunk = L - off < 256 ? L - off : 256;
			size_t rest = L - off - chunk;
			char sw_hex[8];

			if (rest == 0)
				snprintf(sw_hex, sizeof(sw_hex), "9000");
			else
				snprintf(sw_hex, sizeof(sw_hex), "61%02x",
				    rest >= 256 ? 0 : (unsigned)rest);
			if (off == 0)
				expect_cat(g.fc, "00cb3fff055c035fc10500", NULL,
				    0, "", "", obj, chunk, sw_hex);
			else {
				char cmd[16];
				size_t asked = L - off + 0;

				/* The card said 61XX with XX = what is left. */
				snprintf(cmd, sizeof(cmd), "00c00000%02x",
				    asked >= 256 ? 0 : (unsigned)asked);
				expect_cat(g.fc, cmd, NULL, 0, "", "", obj + off,
				    chunk, sw_hex);
			}
		}
		cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK,
		    "L=%zu: %s", L, fake_card_error(g.fc));
		cr_assert_eq(sw, 0x9000);
		cr_assert(g.rsp.len == L && memcmp(g.rsp.p, obj, L) == 0);
		want = (L + 255) / 256;
		cr_assert_eq(g.s.stats.n_apdus, want, "L=%zu short: %llu", L,
		    (unsigned long long)g.s.stats.n_apdus);
		cr_assert_eq(g.s.stats.n_get_response, want - 1);
		cr_assert_eq(g.s.stats.n_extended, 0);
		rig_done(&g);
		free(obj);
	}
}

/*
 * Writing L bytes of command data costs 1 exchange extended and
 * ceil(L/255) chained, CLA 10 on all blocks but the last.
 */
Test(apdu_engine, write_counts_chained_and_extended)
{
	size_t lens[] = { 1, 254, 255, 256, 509, 510, 511, 1000, 3072 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t L = lens[i], off, want, out;
		uint8_t *d = pattern(L, 11 + (unsigned)i);
		struct apdu_cmd c = { 0x00, 0xdb, 0x3f, 0xff, d, L, 0 };
		struct rig g;
		uint16_t sw;
		char head[32];

		rig_init(&g, true, false);
		if (L > 255)
			snprintf(head, sizeof(head), "00db3fff00%04x", (unsigned)L);
		else
			snprintf(head, sizeof(head), "00db3fff%02x", (unsigned)L);
		expect_cat(g.fc, head, d, L, "", "", NULL, 0, "9000");
		cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_OK);
		cr_assert_eq(sw, 0x9000);
		cr_assert_eq(g.s.stats.n_apdus, 1, "L=%zu ext", L);
		cr_assert_eq(g.s.stats.n_extended, L > 255 ? 1 : 0);
		rig_done(&g);

		rig_init(&g, false, false);
		out = 0;
		for (off = 0; off < L; off += 255) {
			size_t chunk = L - off < 255 ? L - off : 255;
			bool last = off + chunk == L;

			snprintf(head, sizeof(head), "%sdb3fff%02x",
			    last ? "00" : "10", (unsigned)chunk);
			expect_cat(g.fc, head, d + off, chunk, "", "", NULL, 0,
			    "9000");
			out += 4 + 1 + chunk;
		}
		cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_OK,
		    "L=%zu: %s", L, fake_card_error(g.fc));
		cr_assert_eq(sw, 0x9000);
		want = (L + 254) / 255;
		cr_assert_eq(g.s.stats.n_apdus, want, "L=%zu chained", L);
		cr_assert_eq(g.s.stats.n_chained, want - 1);
		cr_assert_eq(g.s.stats.bytes_out, out);
		cr_assert_eq(g.s.stats.bytes_in, 2 * want);
		rig_done(&g);
		free(d);
	}
}

Test(apdu_engine, chain_ended_by_card)
{
	uint8_t *d = pattern(600, 5);
	struct apdu_cmd c = { 0x00, 0xdb, 0x3f, 0xff, d, 600, 0 };
	struct rig g;
	uint16_t sw;

	rig_init(&g, false, false);
	expect_cat(g.fc, "10db3fffff", d, 255, "", "", NULL, 0, "9000");
	expect_cat(g.fc, "10db3fffff", d + 255, 255, "", "", NULL, 0, "6982");
	cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_OK);
	cr_assert_eq(sw, 0x6982, "the card's SW ends the chain");
	cr_assert_eq(g.s.stats.n_apdus, 2);
	rig_done(&g);

	/* Data in an intermediate answer is not ISO: refused. */
	rig_init(&g, false, false);
	expect_cat(g.fc, "10db3fffff", d, 255, "", "", NULL, 0, "01 9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_E_MALFORMED);
	rig_done(&g);
	free(d);
}

Test(apdu_engine, no_chaining_no_extended_is_too_long)
{
	uint8_t *d = pattern(300, 5);
	struct apdu_cmd c = { 0x00, 0xdb, 0x3f, 0xff, d, 300, 0 };
	struct rig g;
	uint16_t sw = 1;

	rig_init(&g, false, false);
	g.s.caps.chaining = false;
	cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_E_TOO_LONG);
	cr_assert_eq(fake_card_count(g.fc), 0);
	cr_assert_eq(sw, 0);
	rig_done(&g);
	free(d);
}

Test(apdu_engine, extended_limit_falls_back_to_chaining)
{
	uint8_t *d = pattern(400, 9);
	struct apdu_cmd c = { 0x00, 0xdb, 0x3f, 0xff, d, 400, 0 };
	struct rig g;
	uint16_t sw;

	rig_init(&g, true, false);
	g.s.caps.max_ext_lc = 300;
	expect_cat(g.fc, "10db3fffff", d, 255, "", "", NULL, 0, "9000");
	expect_cat(g.fc, "00db3fff91", d + 255, 145, "", "", NULL, 0, "9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_OK);
	cr_assert_eq(g.s.stats.n_extended, 0);
	cr_assert_eq(g.s.stats.n_chained, 1);
	rig_done(&g);
	free(d);
}

Test(apdu_engine, extended_le_capped_by_card_limit)
{
	struct apdu_cmd c = { 0x00, 0xcb, 0x3f, 0xff, get_auth_cert, 5, APDU_LE_ANY };
	uint8_t *obj = pattern(1500, 2);
	struct rig g;
	uint16_t sw;

	rig_init(&g, true, false);
	g.s.caps.max_ext_le = 1024;
	expect_cat(g.fc, "00cb3fff0000055c035fc105", NULL, 0, "0400", "", obj,
	    1024, "61ff");
	expect_cat(g.fc, "00c00000ff", NULL, 0, "", "", obj + 1024, 255, "61dd");
	expect_cat(g.fc, "00c00000dd", NULL, 0, "", "", obj + 1279, 221, "9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
	cr_assert(g.rsp.len == 1500 && memcmp(g.rsp.p, obj, 1500) == 0);
	cr_assert_eq(g.s.stats.n_extended, 1);
	cr_assert_eq(g.s.stats.n_get_response, 2);
	rig_done(&g);
	free(obj);
}

Test(apdu_engine, resend_after_6c)
{
	struct apdu_cmd c = { 0x00, 0xfd, 0x00, 0x00, NULL, 0, APDU_LE_ANY };
	struct rig g;
	uint16_t sw;

	rig_init(&g, false, false);
	fake_card_expect(g.fc, "00fd000000", "6c03");
	fake_card_expect(g.fc, "00fd000003", "050403 9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
	cr_assert_eq(sw, 0x9000);
	cr_assert_eq(g.rsp.len, 3);
	cr_assert_eq(g.s.stats.n_resend_6c, 1);
	cr_assert_eq(g.s.stats.n_apdus, 2);
	rig_done(&g);

	/* 6C00 means Le = 256. */
	rig_init(&g, false, false);
	fake_card_expect(g.fc, "00fd000010", "6c00");
	fake_card_expect(g.fc, "00fd000000", "9000");
	c.le = 16;
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
	rig_done(&g);
}

Test(apdu_engine, resend_6c_capped)
{
	struct apdu_cmd c = { 0x00, 0xfd, 0x00, 0x00, NULL, 0, APDU_LE_ANY };
	struct rig g;
	uint16_t sw = 7;

	rig_init(&g, false, false);
	fake_card_expect(g.fc, "00fd000000", "6c03");
	fake_card_expect(g.fc, "00fd000003", "6c04");
	fake_card_expect(g.fc, "00fd000004", "6c05");
	fake_card_expect(g.fc, "00fd000005", "6c06");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_E_CHAIN);
	cr_assert_eq(g.s.stats.n_apdus, 4, "1 + 3 re-sends, then stop");
	cr_assert_eq(sw, 0);
	rig_done(&g);
}

Test(apdu_engine, get_response_capped_and_rsp_rolled_back)
{
	struct apdu_cmd c = { 0x00, 0xcb, 0x3f, 0xff, get_auth_cert, 5, APDU_LE_ANY };
	struct rig g;
	uint16_t sw;
	unsigned i;

	rig_init(&g, false, false);
	g.s.max_get_response = 3;
	cr_assert(buf_put(&g.rsp, "ab", 2));
	fake_card_expect(g.fc, "00cb3fff055c035fc10500", "0102 6100");
	for (i = 0; i < 3; i++)
		fake_card_expect(g.fc, "00c0000000", "0304 6100");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_E_CHAIN);
	cr_assert_eq(g.rsp.len, 2, "what was there before stays, nothing more");
	cr_assert_eq(memcmp(g.rsp.p, "ab", 2), 0);
	cr_assert_eq(g.s.stats.n_get_response, 3);
	rig_done(&g);
}

Test(apdu_engine, response_outgrows_caller_buffer)
{
	struct apdu_cmd c = { 0x00, 0xcb, 0x3f, 0xff, get_auth_cert, 5, APDU_LE_ANY };
	uint8_t *obj = pattern(300, 4);
	struct rig g;
	uint16_t sw;

	rig_init(&g, false, false);
	buf_out_cleanup(&g.rsp);
	cr_assert(buf_out_alloc(&g.rsp, 16, 100));
	expect_cat(g.fc, "00cb3fff055c035fc10500", NULL, 0, "", "", obj, 256, "612c");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_E_TOO_LONG);
	rig_done(&g);

	/* The session cap applies even when no data is kept. */
	rig_init(&g, false, false);
	g.s.max_rsp = 258 + 2;
	expect_cat(g.fc, "00cb3fff055c035fc10500", NULL, 0, "", "", obj, 256, "612c");
	expect_cat(g.fc, "00c000002c", NULL, 0, "", "", obj + 256, 44, "9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, NULL, &sw), PV_E_TOO_LONG);
	rig_done(&g);
	free(obj);
}

static enum pv_err
answer_one_byte(void *arg, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	(void)arg;
	(void)cmd;
	(void)cmd_len;
	cr_assert(rsp_cap >= 1);
	rsp[0] = 0x90;
	*rsp_len = 1;
	return PV_OK;
}

Test(apdu_engine, response_without_sw_is_malformed)
{
	struct apdu_cmd c = { 0x00, 0xfd, 0x00, 0x00, NULL, 0, APDU_LE_ANY };
	struct apdu_session s;
	struct apdu_transport tr = { NULL, NULL };
	struct fake_card *fc = fake_card_new();
	uint16_t sw;

	/* The fake card's own check stops 1-byte answers; go around it. */
	fake_card_expect_fn(fc, answer_one_byte, NULL);
	tr = fake_card_transport(fc);
	apdu_session_init(&s, &tr);
	cr_assert_neq(apdu_transmit(&s, &c, NULL, &sw), PV_OK);
	fake_card_free(fc);

	tr.xfer = NULL;
	apdu_session_init(&s, &tr);
	cr_assert_eq(apdu_transmit(&s, &c, NULL, &sw), PV_E_INVAL);
}

static enum pv_err
raw_one_byte(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	(void)ctx;
	(void)cmd;
	(void)cmd_len;
	(void)rsp_cap;
	rsp[0] = 0x90;
	*rsp_len = 1;
	return PV_OK;
}

Test(apdu_engine, one_byte_answer_from_transport)
{
	struct apdu_cmd c = { 0x00, 0xfd, 0x00, 0x00, NULL, 0, APDU_LE_ANY };
	struct apdu_transport tr = { raw_one_byte, NULL };
	struct apdu_session s;
	uint16_t sw;

	apdu_session_init(&s, &tr);
	cr_assert_eq(apdu_transmit(&s, &c, NULL, &sw), PV_E_MALFORMED);
	cr_assert_eq(s.stats.n_apdus, 1);
	cr_assert_eq(s.stats.bytes_in, 1);
}

Test(apdu_engine, t0_case4_gets_61xx)
{
	static const uint8_t d[] = { 0x5c, 0x01, 0x7e };
	struct apdu_cmd c = { 0x00, 0xcb, 0x3f, 0xff, d, 3, APDU_LE_ANY };
	struct rig g;
	uint16_t sw;

	rig_init(&g, true, true);	/* extended claimed, but T=0 */
	fake_card_expect(g.fc, "00cb3fff035c017e", "6114");
	fake_card_expect(g.fc, "00c0000014",
	    "7e124f0ba0000003080000100001005f2f024000 9000");
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK);
	cr_assert_eq(g.rsp.len, 20);
	cr_assert_eq(g.s.stats.n_extended, 0);
	rig_done(&g);
}

/*
 * The failure sweep (STYLE.md §8): a chained write then a 61XX read;
 * make exchange k fail for every k and check a clean error, no leak.
 */
static void
script_sweep(struct fake_card *fc, const uint8_t *d, const uint8_t *obj)
{
	expect_cat(fc, "10db3fffff", d, 255, "", "", NULL, 0, "9000");
	expect_cat(fc, "10db3fffff", d + 255, 255, "", "", NULL, 0, "9000");
	expect_cat(fc, "00db3fff5a", d + 510, 90, "", "", NULL, 0, "6c00");
	expect_cat(fc, "00db3fff5a", d + 510, 90, "00", "", obj, 256, "6100");
	expect_cat(fc, "00c0000000", NULL, 0, "", "", obj + 256, 256, "6110");
	expect_cat(fc, "00c0000010", NULL, 0, "", "", obj + 512, 16, "9000");
}

Test(apdu_engine, failure_sweep)
{
	enum pv_err errs[] = { PV_E_TRANSPORT, PV_E_NO_CARD, PV_E_RESET };
	uint8_t *d = pattern(600, 1), *obj = pattern(528, 2);
	struct apdu_cmd c = { 0x00, 0xdb, 0x3f, 0xff, d, 600, 0 };
	const size_t N = 6;
	size_t k, e;
	struct rig g;
	uint16_t sw;

	/* First the whole script passes. */
	rig_init(&g, false, false);
	script_sweep(g.fc, d, obj);
	cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw), PV_OK,
	    "%s", fake_card_error(g.fc));
	cr_assert_eq(sw, 0x9000);
	cr_assert(g.rsp.len == 528 && memcmp(g.rsp.p, obj, 528) == 0);
	cr_assert_eq(g.s.stats.n_apdus, N);
	cr_assert_eq(g.s.stats.n_chained, 2);
	cr_assert_eq(g.s.stats.n_resend_6c, 1);
	cr_assert_eq(g.s.stats.n_get_response, 2);
	rig_done(&g);

	for (e = 0; e < 3; e++)
		for (k = 1; k <= N; k++) {
			rig_init(&g, false, false);
			script_sweep(g.fc, d, obj);
			fake_card_fail_at(g.fc, k, errs[e]);
			sw = 1;
			cr_assert_eq(apdu_transmit(&g.s, &c, &g.rsp, &sw),
			    errs[e], "k=%zu", k);
			cr_assert_eq(sw, 0);
			cr_assert_eq(g.rsp.len, 0, "k=%zu: no partial data", k);
			cr_assert_eq(fake_card_count(g.fc), k);
			cr_assert_eq(g.s.stats.n_apdus, k);
			cr_assert_null(fake_card_error(g.fc));
			rig_free(&g);
		}
	free(d);
	free(obj);
}

Test(apdu_session, defaults_and_stats_add)
{
	struct apdu_session s;
	struct apdu_stats a = { 1, 2, 3, 4, 5, 6, 7 }, b = { 10, 20, 30, 40, 50, 60, 70 };

	apdu_session_init(&s, NULL);
	cr_assert(s.caps.chaining && !s.caps.extended && !s.caps.t0);
	cr_assert_eq(s.max_get_response, 64);
	cr_assert_eq(s.max_resend_6c, 3);
	cr_assert_eq(s.max_rsp, APDU_MAX_RSP);
	apdu_stats_add(&b, &a);
	cr_assert(b.n_apdus == 11 && b.bytes_out == 22 && b.bytes_in == 33 &&
	    b.n_get_response == 44 && b.n_chained == 55 &&
	    b.n_resend_6c == 66 && b.n_extended == 77);
}

/* The fake card itself: mismatches are recorded and sticky. */
Test(fake_card, mismatch_and_extra)
{
	struct fake_card *fc = fake_card_new();
	struct apdu_transport tr = fake_card_transport(fc);
	uint8_t rsp[16];
	size_t n;
	static const uint8_t cmd[] = { 0x00, 0xa4, 0x04, 0x00 };

	fake_card_expect(fc, "00a40400", "9000");
	fake_card_expect_prefix(fc, "00a4", "6a82");
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_OK);
	cr_assert_eq(rsp[0], 0x6a);
	cr_assert(fake_card_done(fc));
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_TRANSPORT);
	cr_assert_not(fake_card_done(fc));
	cr_assert_not_null(strstr(fake_card_error(fc), "exchange 3: unexpected"));
	fake_card_free(fc);

	fc = fake_card_new();
	tr = fake_card_transport(fc);
	fake_card_expect(fc, "00a40401", "9000");
	fake_card_expect(fc, "00a40400", "9000");
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_TRANSPORT);
	cr_assert_str_eq(fake_card_error(fc),
	    "exchange 1: expected 00a40401, got 00a40400");
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_TRANSPORT,
	    "sticky");
	cr_assert_eq(fake_card_count(fc), 2);
	fake_card_free(fc);

	fc = fake_card_new();
	fake_card_expect(fc, "00a4 0g", "9000");
	cr_assert_not(fake_card_done(fc), "bad hex in the script");
	fake_card_free(fc);
	fake_card_free(NULL);
}
