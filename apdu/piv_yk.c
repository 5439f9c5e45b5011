/*
 * piv_yk.c: YubiKey PIV extensions (PIV-REFERENCE §9): GET VERSION,
 * GET SERIAL, GET METADATA, IMPORT KEY, ATTEST, SET MANAGEMENT KEY,
 * SET PIN RETRIES, RESET, MOVE KEY.
 */
#include <stdio.h>
#include <string.h>

#include "apdu/piv_obj.h"
#include "apdu/piv_yk.h"
#include "apdu/sw.h"
#include "apdu/tlv.h"

#define YK_RSP_MAX	4096

bool
piv_yk_version_ge(const struct piv_yk_version *v, uint8_t major,
    uint8_t minor, uint8_t patch)
{
	if (v->major != major)
		return v->major > major;
	if (v->minor != minor)
		return v->minor > minor;
	return v->patch >= patch;
}

/* A command whose whole answer must be exactly |n| bytes, copied out. */
static enum pv_err
yk_fixed_answer(struct apdu_session *s, uint8_t ins, uint8_t p1, uint8_t p2,
    uint8_t *dst, size_t n, const char *what, struct pv_why *why)
{
	struct buf_out rsp;
	struct buf_cur c;
	enum pv_err r;

	if (!buf_out_alloc(&rsp, 16, 256))
		return PV_E_NOMEM;
	if ((r = piv_cmd(s, ins, p1, p2, NULL, 0, APDU_LE_ANY, &rsp, NULL,
	    NULL, what, why)) == PV_OK) {
		buf_cur_init(&c, rsp.p, rsp.len);
		if (!buf_copy_exact(&c, dst, n))
			r = pv_why_set(why, PV_E_MALFORMED, "%s: the answer is "
			    "%zu %s, expected %zu", what, rsp.len,
			    buf_bytes_word(rsp.len), n);
	}
	buf_out_cleanup(&rsp);
	return r;
}

enum pv_err
piv_yk_get_version(struct apdu_session *s, struct piv_yk_version *out,
    struct pv_why *why)
{
	uint8_t v[3];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = yk_fixed_answer(s, PIV_YK_INS_VERSION, 0, 0, v, sizeof(v),
	    "GET VERSION", why)) != PV_OK)
		return r;
	out->major = v[0];
	out->minor = v[1];
	out->patch = v[2];
	return PV_OK;
}

enum pv_err
piv_yk_get_serial(struct apdu_session *s, uint32_t *out, struct pv_why *why)
{
	uint8_t v[4];
	struct buf_cur c;
	enum pv_err r;

	*out = 0;
	if ((r = yk_fixed_answer(s, PIV_YK_INS_SERIAL, 0, 0, v, sizeof(v),
	    "GET SERIAL", why)) != PV_OK)
		return r;
	buf_cur_init(&c, v, sizeof(v));
	(void)buf_get_u32(&c, out);
	return PV_OK;
}

enum pv_err
piv_yk_read_serial(struct apdu_session *s, const struct piv_yk_version *ver,
    uint32_t *out, struct pv_why *why)
{
	static const uint8_t otp_aid[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20,
	    0x01, 0x01 };
	struct pv_why sel_why;
	uint8_t v[4];
	struct buf_cur c;
	enum pv_err r, rs;

	*out = 0;
	if (ver->major >= 5)
		return piv_yk_get_serial(s, out, why);
	if (ver->major == 0)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "serial: version "
		    "0.%u.%u is no YubiKey firmware", ver->minor, ver->patch);
	r = piv_select(s, otp_aid, sizeof(otp_aid), NULL, why);
	if (r == PV_OK) {
		/* The OTP application's "get serial": INS 01, P1 10. */
		r = yk_fixed_answer(s, 0x01, 0x10, 0x00, v, sizeof(v),
		    "OTP serial", why);
		if (r == PV_OK) {
			buf_cur_init(&c, v, sizeof(v));
			(void)buf_get_u32(&c, out);
		}
	} else {
		pv_why_prefix(why, "SELECT of the OTP application");
	}
	memset(&sel_why, 0, sizeof(sel_why));
	rs = piv_select(s, NULL, 0, NULL, &sel_why);
	if (rs != PV_OK) {
		*out = 0;
		pv_why_clear(why);
		return pv_why_set(why, rs, "SELECT of PIV after the serial: %s",
		    sel_why.msg[0] ? sel_why.msg : pv_strerror(rs));
	}
	return r;
}

/* ---- GET METADATA ------------------------------------------------------------ */

static enum pv_err
md_len(const char *name, const struct buf_cur *v, size_t n,
    struct pv_why *why)
{
	if (v->len == n)
		return PV_OK;
	return pv_why_set(why, PV_E_MALFORMED, "metadata: %s is %zu %s, "
	    "expected %zu", name, v->len, buf_bytes_word(v->len), n);
}

enum pv_err
piv_yk_metadata_parse(const uint8_t *p, size_t len,
    struct piv_yk_metadata *out, struct pv_why *why)
{
	struct buf_cur in, v, pk;
	uint32_t tag;
	unsigned seen = 0;
	bool have_pk = false;
	uint8_t b;
	enum pv_err r = PV_E_MALFORMED;
	char diag[128];

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in)) {
		(void)pv_why_set(why, r, "metadata: the answer is empty");
		goto out;
	}
	while (!buf_done(&in)) {
		struct buf_cur before = in;

		if (!tlv_get_any(&in, &tag, &v)) {
			piv_tlv_explain(&before, diag, sizeof(diag));
			(void)pv_why_set(why, r, "metadata: %s", diag);
			goto out;
		}
		if (tag >= 0x01 && tag <= 0x06) {
			if (seen & (1u << tag)) {
				(void)pv_why_set(why, r, "metadata: tag %02X "
				    "appears twice", tag);
				goto out;
			}
			seen |= 1u << tag;
		}
		switch (tag) {
		case 0x01:
			if ((r = md_len("algorithm", &v, 1, why)) != PV_OK)
				goto out;
			(void)buf_get_u8(&v, &out->alg);
			out->has_alg = true;
			break;
		case 0x02:
			if ((r = md_len("policy", &v, 2, why)) != PV_OK)
				goto out;
			(void)buf_get_u8(&v, &out->pin_policy);
			(void)buf_get_u8(&v, &out->touch_policy);
			out->has_policy = true;
			break;
		case 0x03:
			if ((r = md_len("origin", &v, 1, why)) != PV_OK)
				goto out;
			(void)buf_get_u8(&v, &out->origin);
			if (out->origin != PIV_YK_ORIGIN_GENERATED &&
			    out->origin != PIV_YK_ORIGIN_IMPORTED) {
				r = pv_why_set(why, PV_E_MALFORMED, "metadata: "
				    "origin %02X is neither 01 (generated) nor "
				    "02 (imported)", out->origin);
				goto out;
			}
			out->has_origin = true;
			break;
		case 0x04:
			pk = v;		/* parsed below, once 01 is known */
			have_pk = true;
			break;
		case 0x05:
			if ((r = md_len("default flag", &v, 1, why)) != PV_OK)
				goto out;
			(void)buf_get_u8(&v, &b);
			if (b > 1) {
				r = pv_why_set(why, PV_E_MALFORMED, "metadata: "
				    "default flag is %02X, expected 00 or 01", b);
				goto out;
			}
			out->is_default = b == 1;
			out->has_default = true;
			break;
		case 0x06:
			if ((r = md_len("retries", &v, 2, why)) != PV_OK)
				goto out;
			(void)buf_get_u8(&v, &out->retries_total);
			(void)buf_get_u8(&v, &out->retries_left);
			if (out->retries_left > out->retries_total) {
				r = pv_why_set(why, PV_E_MALFORMED, "metadata: %u "
				    "retries left of %u", out->retries_left,
				    out->retries_total);
				goto out;
			}
			out->has_retries = true;
			break;
		default:
			break;	/* 07/08 biometric state, newer tags */
		}
		r = PV_E_MALFORMED;
	}
	if (have_pk) {
		if (!out->has_alg) {
			(void)pv_why_set(why, r, "metadata: public key (04) "
			    "without an algorithm (01)");
			goto out;
		}
		if ((r = piv_pubkey_parse_inner(out->alg, pk.p, pk.len,
		    &out->pubkey, why)) != PV_OK) {
			pv_why_prefix(why, "metadata");
			r = PV_E_MALFORMED;
			goto out;
		}
		out->has_pubkey = true;
	}
	r = PV_OK;
out:
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

enum pv_err
piv_yk_get_metadata(struct apdu_session *s, uint8_t ref,
    struct piv_yk_metadata *out, struct pv_why *why)
{
	struct buf_out rsp;
	enum pv_err r;
	char what[40];

	memset(out, 0, sizeof(*out));
	(void)snprintf(what, sizeof(what), "GET METADATA %02X", ref);
	if (!buf_out_alloc(&rsp, 128, YK_RSP_MAX))
		return PV_E_NOMEM;
	if ((r = piv_cmd(s, PIV_YK_INS_METADATA, 0x00, ref, NULL, 0,
	    APDU_LE_ANY, &rsp, NULL, NULL, what, why)) == PV_OK &&
	    (r = piv_yk_metadata_parse(rsp.p, rsp.len, out, why)) != PV_OK)
		pv_why_prefix(why, "%s", what);
	buf_out_cleanup(&rsp);
	return r;
}

enum pv_err
piv_yk_mgmt_alg(struct apdu_session *s, uint8_t *alg, bool *is_default,
    struct pv_why *why)
{
	struct piv_yk_metadata md;
	struct buf_out rsp;
	uint16_t sw = 0;
	enum pv_err r;
	struct pv_why w = { { 0 } };

	*alg = 0;
	*is_default = false;
	if (!buf_out_alloc(&rsp, 128, YK_RSP_MAX))
		return PV_E_NOMEM;
	r = piv_cmd(s, PIV_YK_INS_METADATA, 0x00, PIV_KEY_MGMT, NULL, 0,
	    APDU_LE_ANY, &rsp, &sw, NULL, "GET METADATA 9B", &w);
	if (r != PV_OK) {
		/* No metadata on this token: the algorithm is unknown. */
		if (sw == SW_INS_NOT_SUPPORTED || sw == SW_REF_NOT_FOUND ||
		    sw == SW_FUNC_NOT_SUPPORTED || sw == SW_WRONG_P1P2)
			r = PV_E_NOT_SUPPORTED;
		(void)pv_why_set(why, r, "%s%s", w.msg,
		    r == PV_E_NOT_SUPPORTED ? " (the token does not report "
		    "its management key algorithm)" : "");
		goto out;
	}
	if ((r = piv_yk_metadata_parse(rsp.p, rsp.len, &md, why)) != PV_OK) {
		pv_why_prefix(why, "GET METADATA 9B");
		goto out;
	}
	if (!md.has_alg || !piv_alg_is_sym(md.alg)) {
		r = pv_why_set(why, PV_E_MALFORMED, "GET METADATA 9B: algorithm "
		    "%s is not a management key algorithm", md.has_alg ?
		    piv_alg_name(md.alg) : "missing");
		goto out;
	}
	*alg = md.alg;
	*is_default = md.has_default && md.is_default;
	r = PV_OK;
out:
	buf_out_cleanup(&rsp);
	return r;
}

/* ---- IMPORT KEY ------------------------------------------------------------------- */

static bool
policy_ok(uint8_t pin_policy, uint8_t touch_policy)
{
	return pin_policy <= PIV_PINPOL_MATCH_ALWAYS &&
	    touch_policy <= PIV_TOUCH_CACHED;
}

static void
put_policies(struct buf_out *c, uint8_t pin_policy, uint8_t touch_policy)
{
	if (pin_policy != PIV_PINPOL_DEFAULT)
		(void)tlv_put(c, 0xaa, &pin_policy, 1);
	if (touch_policy != PIV_TOUCH_DEFAULT)
		(void)tlv_put(c, 0xab, &touch_policy, 1);
}

/*
 * put_padded writes tag, then |v| left-padded with zeros to |n| bytes
 * (leading zeros of |v| dropped first).  False when it does not fit.
 */
static bool
put_padded(struct buf_out *c, uint32_t tag, const uint8_t *v, size_t v_len,
    size_t n)
{
	struct buf_cur x;
	uint8_t b;

	buf_cur_init(&x, v, v_len);
	while (buf_peek_u8(&x, &b) && b == 0)
		(void)buf_skip(&x, 1);
	if (x.len > n)
		return false;
	return tlv_put_tag(c, tag) && tlv_put_len(c, n) &&
	    buf_put_zeros(c, n - x.len) && buf_put(c, x.p, x.len);
}

static enum pv_err
yk_import(struct apdu_session *s, uint8_t key, uint8_t alg,
    const struct buf_out *c, struct pv_why *why)
{
	char what[48];

	(void)snprintf(what, sizeof(what), "IMPORT KEY %02X (%s)", key,
	    piv_alg_name(alg));
	if (!buf_out_ok(c))
		return pv_why_set(why, PV_E_TOO_LONG, "%s: key too long", what);
	return piv_cmd(s, PIV_YK_INS_IMPORT, alg, key, c->p, c->len, 0, NULL,
	    NULL, NULL, what, why);
}

enum pv_err
piv_yk_import_rsa(struct apdu_session *s, uint8_t key, uint8_t alg,
    const uint8_t *const comp[5], const size_t comp_len[5],
    uint8_t pin_policy, uint8_t touch_policy, struct pv_why *why)
{
	static const char *const names[5] = { "p", "q", "dP", "dQ", "qInv" };
	struct buf_out c;
	size_t half = piv_alg_rsa_len(alg) / 2, i;
	enum pv_err r = PV_E_INTERNAL;

	memset(&c, 0, sizeof(c));
	if (half == 0)
		return pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: %s is not "
		    "RSA", key, piv_alg_name(alg));
	if (!policy_ok(pin_policy, touch_policy))
		return pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: bad PIN or "
		    "touch policy", key);
	if (!buf_out_alloc(&c, 5 * (half + 4) + 8, APDU_EXT_MAX_LC))
		return PV_E_NOMEM;
	/* PIV-REFERENCE §9: 01 p, 02 q, 03 dP, 04 dQ, 05 qInv, each k/2. */
	for (i = 0; i < 5; i++) {
		if (comp[i] == NULL || !put_padded(&c, (uint32_t)(i + 1),
		    comp[i], comp_len[i], half)) {
			r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: RSA "
			    "component %s is longer than %zu bytes", key,
			    names[i], half);
			goto out;
		}
	}
	put_policies(&c, pin_policy, touch_policy);
	r = yk_import(s, key, alg, &c, why);
out:
	buf_out_cleanup(&c);	/* wiped: private key */
	return r;
}

enum pv_err
piv_yk_import_ec(struct apdu_session *s, uint8_t key, uint8_t alg,
    const uint8_t *priv, size_t priv_len, uint8_t pin_policy,
    uint8_t touch_policy, struct pv_why *why)
{
	uint8_t mem[80];
	struct buf_out c;
	size_t f = piv_alg_ec_len(alg);
	uint32_t tag;
	enum pv_err r = PV_E_INTERNAL;

	buf_out_fixed(&c, mem, sizeof(mem));
	if (alg == PIV_ALG_ECC_P256 || alg == PIV_ALG_ECC_P384)
		tag = 0x06;
	else if (alg == PIV_ALG_ED25519)
		tag = 0x07;
	else if (alg == PIV_ALG_X25519)
		tag = 0x08;
	else {
		r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: %s is not an "
		    "EC or 25519 algorithm", key, piv_alg_name(alg));
		goto out;
	}
	if (!policy_ok(pin_policy, touch_policy)) {
		r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: bad PIN or "
		    "touch policy", key);
		goto out;
	}
	/* 25519 keys are byte strings, not integers: exactly 32 bytes. */
	if (priv == NULL || (tag != 0x06 && priv_len != f) ||
	    !put_padded(&c, tag, priv, priv_len, f)) {
		r = pv_why_set(why, PV_E_INVAL, "IMPORT KEY %02X: %s private "
		    "key must be %zu %s", key, piv_alg_name(alg), f,
		    buf_bytes_word(f));
		goto out;
	}
	if (tag != 0x06) {
		/* put_padded dropped leading zeros: write it verbatim. */
		buf_out_truncate(&c, 0);
		(void)tlv_put(&c, tag, priv, priv_len);
	}
	put_policies(&c, pin_policy, touch_policy);
	r = yk_import(s, key, alg, &c, why);
out:
	buf_out_cleanup(&c);	/* wiped: private key */
	return r;
}

/* ---- the rest ------------------------------------------------------------------------ */

enum pv_err
piv_yk_attest(struct apdu_session *s, uint8_t key, struct buf_out *out,
    struct pv_why *why)
{
	struct buf_out rsp;
	struct buf_cur c, v;
	enum pv_err r;
	char what[32];

	(void)snprintf(what, sizeof(what), "ATTEST %02X", key);
	if (!buf_out_alloc(&rsp, 1024, 8192))
		return PV_E_NOMEM;
	if ((r = piv_cmd(s, PIV_YK_INS_ATTEST, key, 0x00, NULL, 0,
	    APDU_LE_ANY, &rsp, NULL, NULL, what, why)) != PV_OK)
		goto out;
	/* The answer is a DER certificate: one SEQUENCE (starts 30). */
	buf_cur_init(&c, rsp.p, rsp.len);
	if (!tlv_get(&c, 0x30, &v) || !buf_done(&c)) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: the answer is not one "
		    "DER certificate", what);
		goto out;
	}
	if (!buf_put(out, rsp.p, rsp.len))
		r = pv_why_set(why, PV_E_TOO_LONG, "%s: the certificate does "
		    "not fit the buffer", what);
out:
	buf_out_cleanup(&rsp);
	return r;
}

/* The weak and semi-weak DES keys (FIPS 74 §3.6), with odd parity. */
static const uint8_t des_weak[16][8] = {
	{ 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01 },
	{ 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe },
	{ 0x1f, 0x1f, 0x1f, 0x1f, 0x0e, 0x0e, 0x0e, 0x0e },
	{ 0xe0, 0xe0, 0xe0, 0xe0, 0xf1, 0xf1, 0xf1, 0xf1 },
	{ 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe },
	{ 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01 },
	{ 0x1f, 0xe0, 0x1f, 0xe0, 0x0e, 0xf1, 0x0e, 0xf1 },
	{ 0xe0, 0x1f, 0xe0, 0x1f, 0xf1, 0x0e, 0xf1, 0x0e },
	{ 0x01, 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1 },
	{ 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1, 0x01 },
	{ 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e, 0xfe },
	{ 0xfe, 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e },
	{ 0x01, 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e },
	{ 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e, 0x01 },
	{ 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe },
	{ 0xfe, 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1 },
};

bool
piv_des_key_weak(const uint8_t key[8])
{
	size_t w, i;

	for (w = 0; w < 16; w++) {
		for (i = 0; i < 8; i++)		/* b1 is parity */
			if ((key[i] & 0xfe) != (des_weak[w][i] & 0xfe))
				break;
		if (i == 8)
			return true;
	}
	return false;
}

bool
piv_yk_3des_key_weak(const uint8_t key[24])
{
	return piv_des_key_weak(key) || piv_des_key_weak(key + 8) ||
	    piv_des_key_weak(key + 16);
}

enum pv_err
piv_yk_set_mgmt_key(struct apdu_session *s, uint8_t alg, const uint8_t *key,
    size_t key_len, bool require_touch, struct pv_why *why)
{
	uint8_t mem[40];
	struct buf_out c;
	enum pv_err r;

	if (alg == PIV_ALG_3DES_LEGACY || !piv_alg_is_sym(alg))
		return pv_why_set(why, PV_E_INVAL, "SET MANAGEMENT KEY: algorithm "
		    "%02X is not 03, 08, 0A or 0C", alg);
	if (key == NULL || key_len != piv_alg_sym_key_len(alg))
		return pv_why_set(why, PV_E_INVAL, "SET MANAGEMENT KEY: %s needs "
		    "a %zu-byte key, got %zu", piv_alg_name(alg),
		    piv_alg_sym_key_len(alg), key_len);
	if (alg == PIV_ALG_3DES && piv_yk_3des_key_weak(key))
		return pv_why_set(why, PV_E_INVAL, "SET MANAGEMENT KEY: the 3DES "
		    "key contains a weak or semi-weak DES key");
	/* PIV-REFERENCE §9: data = alg, 9B, length, key; P2 FE = touch. */
	buf_out_fixed(&c, mem, sizeof(mem));
	(void)buf_put_u8(&c, alg);
	(void)tlv_put(&c, PIV_KEY_MGMT, key, key_len);
	r = buf_out_ok(&c) ? piv_cmd(s, PIV_YK_INS_SET_MGMT, 0xff,
	    require_touch ? 0xfe : 0xff, c.p, c.len, 0, NULL, NULL, NULL,
	    "SET MANAGEMENT KEY", why) : PV_E_INTERNAL;
	buf_out_cleanup(&c);	/* wiped: the new key */
	return r;
}

enum pv_err
piv_yk_set_pin_retries(struct apdu_session *s, uint8_t pin_tries,
    uint8_t puk_tries, struct pv_why *why)
{
	if (pin_tries == 0 || puk_tries == 0)
		return pv_why_set(why, PV_E_INVAL, "SET PIN RETRIES: tries must "
		    "be 1-255");
	return piv_cmd(s, PIV_YK_INS_SET_RETRIES, pin_tries, puk_tries, NULL,
	    0, 0, NULL, NULL, NULL, "SET PIN RETRIES", why);
}

enum pv_err
piv_yk_reset(struct apdu_session *s, struct pv_why *why)
{
	struct pv_why w = { { 0 } };
	enum pv_err r;

	r = piv_cmd(s, PIV_YK_INS_RESET, 0x00, 0x00, NULL, 0, 0, NULL, NULL,
	    NULL, "RESET", &w);
	if (r == PV_E_CONDITIONS)
		return pv_why_set(why, r, "%s (the token resets only when the "
		    "PIN and the PUK are both blocked)", w.msg);
	if (r != PV_OK)
		return pv_why_set(why, r, "%s", w.msg);
	return PV_OK;
}

enum pv_err
piv_yk_move_key(struct apdu_session *s, uint8_t from, uint8_t to,
    struct pv_why *why)
{
	char what[40];

	if (to == PIV_YK_DELETE)
		(void)snprintf(what, sizeof(what), "MOVE KEY %02X (delete)",
		    from);
	else
		(void)snprintf(what, sizeof(what), "MOVE KEY %02X to %02X",
		    from, to);
	/* PIV-REFERENCE §9: P1 = destination, P2 = source. */
	return piv_cmd(s, PIV_YK_INS_MOVE_KEY, to, from, NULL, 0, 0, NULL,
	    NULL, NULL, what, why);
}
