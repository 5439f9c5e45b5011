/*
 * harness.c: see harness.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "apdu/tlv.h"
#include "tests/support/hex.h"
#include "tests/unit/vcard/harness.h"
#include "vcard/crypto.h"

struct vc_state h_st;
struct vc_card *h_c;
uint8_t h_rsp[70000];
size_t h_rsp_len;
uint8_t h_all[70000];
size_t h_all_len;
unsigned h_saves;
enum vc_action h_act;

static enum pv_err
count_save(void *ctx, const struct vc_state *st)
{
	(void)ctx;
	(void)st;
	h_saves++;
	return PV_OK;
}

void
h_card_cfg(enum vc_profile profile, const struct vc_config *cfg)
{
	h_done();
	cr_assert_eq(vc_state_factory(&h_st, profile, 12345678, NULL), PV_OK);
	/* as pivstation-vcard makes a new card */
	cr_assert_eq(vc_quirk_factory(&h_st, cfg != NULL ? cfg->quirks : 0),
	    PV_OK);
	cr_assert_eq(vc_card_new(&h_st, cfg, count_save, NULL, &h_c), PV_OK);
	h_saves = 0;
}

void
h_card(enum vc_profile profile, unsigned quirks)
{
	struct vc_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.quirks = quirks;
	h_card_cfg(profile, &cfg);
}

void
h_card_fw(uint8_t maj, uint8_t min, uint8_t patch)
{
	const uint8_t v[3] = { maj, min, patch };
	struct vc_config cfg;

	h_done();
	memset(&cfg, 0, sizeof(cfg));
	cr_assert_eq(vc_state_factory(&h_st, VC_PROFILE_USB_KEY, 12345678, v),
	    PV_OK);
	cr_assert_eq(vc_card_new(&h_st, &cfg, count_save, NULL, &h_c), PV_OK);
	h_saves = 0;
}

void
h_done(void)
{
	vc_card_free(h_c);
	h_c = NULL;
	vc_state_cleanup(&h_st);
}

uint16_t
h_txb(const uint8_t *p, size_t n)
{
	struct buf_out o;
	uint16_t sw = 0;

	cr_assert(buf_out_alloc(&o, 512, 65538));
	h_act = vc_card_apdu(h_c, p, n, &o, NULL);
	h_rsp_len = 0;
	if (h_act == VC_ACT_REPLY && o.len >= 2) {
		h_rsp_len = o.len - 2;
		memcpy(h_rsp, o.p, h_rsp_len);
		sw = (uint16_t)(o.p[o.len - 2] << 8 | o.p[o.len - 1]);
	} else if (h_act == VC_ACT_REPLY) {
		h_rsp_len = o.len;
		memcpy(h_rsp, o.p, o.len);
	}
	buf_out_cleanup(&o);
	return sw;
}

uint16_t
h_tx(const char *hex)
{
	uint8_t *p;
	size_t n;
	uint16_t sw;

	cr_assert_eq(hex_decode(hex, &p, &n), 0, "bad hex %s", hex);
	sw = h_txb(p, n);
	free(p);
	return sw;
}

const char *
h_rsp_hex(void)
{
	static char s[2 * sizeof(h_rsp) + 1];
	char *e = hex_encode(h_rsp, h_rsp_len);

	cr_assert_not_null(e);
	snprintf(s, sizeof(s), "%s", e);
	free(e);
	return s;
}

void
h_select(void)
{
	cr_assert_eq(h_tx("00 a4 04 00 09 a0 00 00 03 08 00 00 10 00 00"),
	    0x9000);
}

void
h_verify(void)
{
	cr_assert_eq(h_tx("00 20 00 80 08 31 32 33 34 35 36 ff ff"), 0x9000);
}

uint16_t
h_admin_key(uint8_t alg, const uint8_t *key)
{
	uint8_t cmd[64], w[16], chal[16], exp[16];
	size_t bl = vc_sym_block_len(alg), n = 0;
	uint16_t sw;

	/* Step 1: 7C 02 80 00 -> 7C L 80 bl E(witness). */
	n = 0;
	memcpy(cmd, (uint8_t[]){ 0x00, 0x87, alg, 0x9b, 0x04, 0x7c, 0x02,
	    0x80, 0x00 }, 9);
	n = 9;
	sw = h_txb(cmd, n);
	if (sw != 0x9000)
		return sw;
	cr_assert_eq(h_rsp_len, 4 + bl);
	cr_assert_eq(h_rsp[0], 0x7c);
	cr_assert_eq(h_rsp[2], 0x80);
	cr_assert_eq(vc_sym_crypt(alg, key, false, h_rsp + 4, w), PV_OK);
	memset(chal, 0x5a, sizeof(chal));
	/* Step 2: 7C { 80 W, 81 C } -> 7C { 82 E(C) }. */
	n = 0;
	cmd[n++] = 0x00;
	cmd[n++] = 0x87;
	cmd[n++] = alg;
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
	memcpy(cmd + n, chal, bl);
	n += bl;
	sw = h_txb(cmd, n);
	if (sw != 0x9000)
		return sw;
	cr_assert_eq(vc_sym_crypt(alg, key, true, chal, exp), PV_OK);
	cr_assert_eq(h_rsp_len, 4 + bl);
	cr_assert_eq(h_rsp[2], 0x82);
	cr_assert_eq(memcmp(h_rsp + 4, exp, bl), 0, "card's E(challenge)");
	return sw;
}

void
h_admin(void)
{
	static const uint8_t k[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5,
	    6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };

	cr_assert_eq(h_admin_key(0x03, k), 0x9000);
}

uint16_t
h_read_all(const char *hex, unsigned *n_apdus)
{
	uint16_t sw = h_tx(hex);
	unsigned n = 1;

	h_all_len = 0;
	for (;;) {
		memcpy(h_all + h_all_len, h_rsp, h_rsp_len);
		h_all_len += h_rsp_len;
		if ((sw & 0xff00) != 0x6100)
			break;
		sw = h_tx("00 c0 00 00 00");
		n++;
		cr_assert_lt(n, 400);
	}
	if (n_apdus != NULL)
		*n_apdus = n;
	return sw;
}

static EVP_PKEY *
pub_from_7f49(const uint8_t *p, size_t n, uint8_t alg)
{
	struct buf_cur c, t, v, e;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL, *be = NULL;

	buf_cur_init(&c, p, n);
	cr_assert(tlv_get(&c, 0x7f49, &t));
	cr_assert(buf_done(&c));
	if (vc_alg_is_rsa(alg)) {
		cr_assert(tlv_get(&t, 0x81, &v), "81 first");
		cr_assert(tlv_get(&t, 0x82, &e));
		bn = BN_bin2bn(v.p, (int)v.len, NULL);
		be = BN_bin2bn(e.p, (int)e.len, NULL);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		cr_assert(tlv_get(&t, 0x86, &v));
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    alg == 0x11 ? "P-256" : "P-384", 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    v.p, v.len);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	cr_assert(buf_done(&t));
	params = OSSL_PARAM_BLD_to_param(bld);
	cr_assert(EVP_PKEY_fromdata_init(ctx) > 0);
	cr_assert(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) > 0);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

EVP_PKEY *
h_generate(uint8_t slot, uint8_t alg)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "00 47 00 %02x 05 ac 03 80 01 %02x 00", slot,
	    alg);
	cr_assert_eq(h_read_all(cmd, NULL), 0x9000, "GENERATE %02x/%02x",
	    slot, alg);
	return pub_from_7f49(h_all, h_all_len, alg);
}

uint16_t
h_ga(uint8_t alg, uint8_t slot, uint8_t tag, const uint8_t *in, size_t n)
{
	uint8_t cmd[1200];
	struct buf_out o;
	size_t m;
	uint16_t sw;

	buf_out_fixed(&o, cmd, sizeof(cmd));
	buf_put(&o, (uint8_t[]){ 0x00, 0x87, alg, slot }, 4);
	/* Extended form when the template does not fit a short APDU. */
	tlv_open(&o, 0x7c, &m);
	tlv_put(&o, 0x82, NULL, 0);
	tlv_put(&o, tag, in, n);
	tlv_close(&o, m);
	cr_assert(buf_out_ok(&o));
	if (o.len - 4 <= 255) {
		memmove(cmd + 5, cmd + 4, o.len - 4);
		cmd[4] = (uint8_t)(o.len - 4);
		cmd[o.len + 1] = 0x00;
		sw = h_txb(cmd, o.len + 2);
	} else {
		size_t dl = o.len - 4;

		memmove(cmd + 7, cmd + 4, dl);
		cmd[4] = 0;
		cmd[5] = (uint8_t)(dl >> 8);
		cmd[6] = (uint8_t)dl;
		cmd[7 + dl] = 0;
		cmd[8 + dl] = 0;
		sw = h_txb(cmd, 9 + dl);
	}
	h_all_len = 0;
	for (;;) {
		memcpy(h_all + h_all_len, h_rsp, h_rsp_len);
		h_all_len += h_rsp_len;
		if ((sw & 0xff00) != 0x6100)
			break;
		sw = h_tx("00 c0 00 00 00");
	}
	return sw;
}
