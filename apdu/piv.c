/*
 * piv.c: the PIV card edge (SP 800-73-4 Part 2 §3), its response parsers
 * (APT, 7F49) and the algorithm table.  Management-key authentication is
 * in piv_auth.c, YubiKey extensions in piv_yk.c, EVP_PKEY glue in
 * piv_pkey.c.
 */
#include <stdio.h>
#include <string.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "apdu/sw.h"
#include "apdu/tlv.h"

#define PIV_PIN_BLOCK	8	/* Part 2 §2.4.3: PIN FF-padded to 8 bytes */
#define PIV_RSP_SMALL	4096	/* cap for short answers (APT, 7F49, GA) */

#define PIV_DBG(s, ...) \
	do { if ((s)->log != NULL) (s)->log((s)->log_ctx, __VA_ARGS__); } \
	while (0)

/* ---- algorithms --------------------------------------------------------- */

struct piv_alg_info {
	uint8_t alg;
	const char *name;
	size_t sym_key;		/* symmetric key bytes */
	size_t block;		/* cipher block bytes */
	size_t rsa;		/* modulus bytes */
	size_t ec;		/* field bytes */
};

static const struct piv_alg_info piv_algs[] = {
	{ PIV_ALG_3DES_LEGACY, "3DES", 24, 8, 0, 0 },
	{ PIV_ALG_3DES, "3DES", 24, 8, 0, 0 },
	{ PIV_ALG_RSA3072, "RSA 3072", 0, 0, 384, 0 },
	{ PIV_ALG_RSA1024, "RSA 1024", 0, 0, 128, 0 },
	{ PIV_ALG_RSA2048, "RSA 2048", 0, 0, 256, 0 },
	{ PIV_ALG_AES128, "AES-128", 16, 16, 0, 0 },
	{ PIV_ALG_AES192, "AES-192", 24, 16, 0, 0 },
	{ PIV_ALG_AES256, "AES-256", 32, 16, 0, 0 },
	{ PIV_ALG_ECC_P256, "ECC P-256", 0, 0, 0, 32 },
	{ PIV_ALG_ECC_P384, "ECC P-384", 0, 0, 0, 48 },
	{ PIV_ALG_RSA4096, "RSA 4096", 0, 0, 512, 0 },
	{ PIV_ALG_ED25519, "Ed25519", 0, 0, 0, 32 },
	{ PIV_ALG_X25519, "X25519", 0, 0, 0, 32 },
};

static const struct piv_alg_info *
piv_alg_find(uint8_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(piv_algs) / sizeof(piv_algs[0]); i++)
		if (piv_algs[i].alg == alg)
			return &piv_algs[i];
	return NULL;
}

const char *
piv_alg_name(uint8_t alg)
{
	const struct piv_alg_info *a = piv_alg_find(alg);

	return a != NULL ? a->name : "unknown";
}

bool
piv_alg_is_sym(uint8_t alg)
{
	return piv_alg_sym_key_len(alg) != 0;
}

size_t
piv_alg_sym_key_len(uint8_t alg)
{
	const struct piv_alg_info *a = piv_alg_find(alg);

	return a != NULL ? a->sym_key : 0;
}

size_t
piv_alg_block_len(uint8_t alg)
{
	const struct piv_alg_info *a = piv_alg_find(alg);

	return a != NULL ? a->block : 0;
}

size_t
piv_alg_rsa_len(uint8_t alg)
{
	const struct piv_alg_info *a = piv_alg_find(alg);

	return a != NULL ? a->rsa : 0;
}

size_t
piv_alg_ec_len(uint8_t alg)
{
	const struct piv_alg_info *a = piv_alg_find(alg);

	return a != NULL ? a->ec : 0;
}

static bool
piv_alg_is_ecc(uint8_t alg)
{
	return alg == PIV_ALG_ECC_P256 || alg == PIV_ALG_ECC_P384;
}

static bool
piv_alg_is_25519(uint8_t alg)
{
	return alg == PIV_ALG_ED25519 || alg == PIV_ALG_X25519;
}

/* ---- one command ---------------------------------------------------------- */

/*
 * pin_sw reads the status word of a PIN or PUK command (VERIFY, CHANGE
 * REFERENCE DATA, RESET RETRY COUNTER).  Some tokens count the tries left
 * as 63 0X instead of 63 CX (firmware-notes/pin-sw-630x.md, vcard
 * --quirk pin-sw-630x): for these commands both mean "wrong, X left".
 * 63 00 stays "failed, no counter" (the pairing code, Part 2 §3.2.1).
 */
static uint16_t
pin_sw(uint16_t sw)
{
	if ((sw & 0xfff0) == SW_VERIFY_FAIL && (sw & 0x0f) != 0)
		return (uint16_t)(SW_RETRIES | (sw & 0x0f));
	return sw;
}

enum pv_err
piv_cmd(struct apdu_session *s, uint8_t ins, uint8_t p1, uint8_t p2,
    const uint8_t *data, size_t data_len, size_t le, struct buf_out *out,
    uint16_t *sw_out, int *retries, const char *what, struct pv_why *why)
{
	struct apdu_cmd cmd = { 0x00, ins, p1, p2, data, data_len, le };
	size_t start = out != NULL ? out->len : 0;
	uint16_t sw = 0;
	enum pv_err r;
	char t[160];

	if (sw_out != NULL)
		*sw_out = 0;
	if ((r = apdu_transmit(s, &cmd, out, &sw)) != PV_OK) {
		PIV_DBG(s, "%s: %s: %s", __func__, what, pv_strerror(r));
		return pv_why_set(why, r, "%s: %s", what, pv_strerror(r));
	}
	if (sw_out != NULL)
		*sw_out = sw;
	if (sw == SW_OK)
		return PV_OK;
	if (out != NULL)
		buf_out_truncate(out, start);
	if ((ins == PIV_INS_VERIFY || ins == PIV_INS_CHANGE_REF ||
	    ins == PIV_INS_RESET_RETRY) && pin_sw(sw) != sw) {
		unsigned left = sw & 0x0fu;

		r = sw_to_err(pin_sw(sw), retries);
		PIV_DBG(s, "%s: %s: SW %04X", __func__, what, sw);
		return pv_why_set(why, r, "%s: %04X: verification failed, %u "
		    "%s left (63 0X form)", what, sw, left,
		    left == 1 ? "try" : "tries");
	}
	r = sw_to_err(sw, retries);
	if (r == PV_E_BLOCKED && retries != NULL)
		*retries = 0;
	PIV_DBG(s, "%s: %s: SW %04X", __func__, what, sw);
	return pv_why_set(why, r, "%s: %s", what, sw_text(sw, t, sizeof(t)));
}

static enum pv_err
buf_fail(const char *what, struct pv_why *why)
{
	return pv_why_set(why, PV_E_TOO_LONG,
	    "%s: the data does not fit the buffer", what);
}

/* ---- Application Property Template --------------------------------------- */

static enum pv_err
apt_text(const char *name, const struct buf_cur *v, uint8_t *dst,
    size_t *dst_len, struct pv_why *why)
{
	if (v->len > PIV_APT_TEXT_MAX)
		return pv_why_set(why, PV_E_MALFORMED,
		    "APT: %s is %zu %s, at most %d allowed", name, v->len,
		    buf_bytes_word(v->len),
		    PIV_APT_TEXT_MAX);
	(void)buf_copy_exact(v, dst, v->len);
	*dst_len = v->len;
	return PV_OK;
}

static enum pv_err
apt_algs(struct buf_cur t, struct piv_apt *out, struct pv_why *why)
{
	struct buf_cur v;
	uint32_t tag;
	uint8_t alg;
	char diag[128];

	while (!buf_done(&t)) {
		struct buf_cur before = t;

		if (!tlv_get_any(&t, &tag, &v)) {
			piv_tlv_explain(&before, diag, sizeof(diag));
			return pv_why_set(why, PV_E_MALFORMED,
			    "APT: algorithms template: %s", diag);
		}
		if (tag != 0x80)
			continue;	/* 06 object identifier, or newer */
		if (v.len != 1 || !buf_get_u8(&v, &alg))
			return pv_why_set(why, PV_E_MALFORMED,
			    "APT: algorithm identifier is %zu %s, expected 1",
			    v.len, buf_bytes_word(v.len));
		if (out->n_algs == PIV_APT_MAX_ALGS)
			return pv_why_set(why, PV_E_MALFORMED,
			    "APT: more than %d algorithms", PIV_APT_MAX_ALGS);
		out->algs[out->n_algs++] = alg;
	}
	return PV_OK;
}

/* Part 2 Table 3: 61 { 4F, 79 { 4F }, [50], [5F50], [AC]... }. */
enum pv_err
piv_apt_parse(const uint8_t *p, size_t len, struct piv_apt *out,
    struct pv_why *why)
{
	struct buf_cur in, apt, v, rid;
	uint32_t tag;
	bool seen79 = false;
	enum pv_err r = PV_E_MALFORMED;
	char diag[128];

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (!tlv_get(&in, 0x61, &apt)) {
		piv_tlv_explain(&in, diag, sizeof(diag));
		if (tlv_peek_tag(&in, &tag) && tag != 0x61)
			(void)pv_why_set(why, r, "APT: starts with tag %02X, "
			    "expected 61", tag);
		else
			(void)pv_why_set(why, r, "APT: %s", diag);
		goto out;
	}
	if (!buf_done(&in)) {
		(void)pv_why_set(why, r, "APT: %zu %s after the 61 template",
		    in.len, buf_bytes_word(in.len));
		goto out;
	}
	if (!tlv_get(&apt, 0x4f, &v)) {
		(void)pv_why_set(why, r,
		    "APT: does not start with 4F (application identifier)");
		goto out;
	}
	if (v.len < 1 || v.len > sizeof(out->aid)) {
		(void)pv_why_set(why, r, "APT: AID is %zu %s, expected 1-16",
		    v.len, buf_bytes_word(v.len));
		goto out;
	}
	out->aid_len = v.len;
	(void)buf_copy_exact(&v, out->aid, v.len);
	while (!buf_done(&apt)) {
		struct buf_cur before = apt;

		if (!tlv_get_any(&apt, &tag, &v)) {
			piv_tlv_explain(&before, diag, sizeof(diag));
			(void)pv_why_set(why, r, "APT: %s", diag);
			goto out;
		}
		switch (tag) {
		case 0x4f:
			(void)pv_why_set(why, r, "APT: tag 4F (AID) appears twice");
			goto out;
		case 0x79:
			if (seen79) {
				(void)pv_why_set(why, r, "APT: tag 79 (allocation "
				    "authority) appears twice");
				goto out;
			}
			seen79 = true;
			if (!tlv_find(&v, 0x4f, &rid) || rid.len < 1 ||
			    rid.len > sizeof(out->auth_rid)) {
				(void)pv_why_set(why, r, "APT: tag 79 (allocation "
				    "authority) holds no 4F RID of 1-16 bytes");
				goto out;
			}
			out->auth_rid_len = rid.len;
			(void)buf_copy_exact(&rid, out->auth_rid, rid.len);
			break;
		case 0x50:
			if (out->has_label) {
				(void)pv_why_set(why, r, "APT: tag 50 (label) "
				    "appears twice");
				goto out;
			}
			if ((r = apt_text("application label", &v, out->label,
			    &out->label_len, why)) != PV_OK)
				goto out;
			r = PV_E_MALFORMED;
			out->has_label = true;
			break;
		case 0x5f50:
			if (out->has_url) {
				(void)pv_why_set(why, r, "APT: tag 5F50 (URL) "
				    "appears twice");
				goto out;
			}
			if ((r = apt_text("URL", &v, out->url, &out->url_len,
			    why)) != PV_OK)
				goto out;
			r = PV_E_MALFORMED;
			out->has_url = true;
			break;
		case 0xac:
			/* OpenSC reads algorithms from repeated AC templates. */
			if ((r = apt_algs(v, out, why)) != PV_OK)
				goto out;
			r = PV_E_MALFORMED;
			out->has_algs = true;
			break;
		default:
			break;	/* newer or vendor tags: skipped */
		}
	}
	if (!seen79) {
		(void)pv_why_set(why, r, "APT: tag 79 (allocation authority) is "
		    "missing");
		goto out;
	}
	out->present = true;
	r = PV_OK;
out:
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

/* ---- 7F49 public keys --------------------------------------------------------- */

/* Drops leading zero bytes from a big-endian integer view. */
static void
strip_zeros(struct buf_cur *v)
{
	uint8_t b;

	while (buf_peek_u8(v, &b) && b == 0)
		(void)buf_skip(v, 1);
}

enum pv_err
piv_pubkey_parse_inner(uint8_t alg, const uint8_t *p, size_t len,
    struct piv_pubkey *out, struct pv_why *why)
{
	struct buf_cur in, m, e, pt;
	size_t k = piv_alg_rsa_len(alg), f = piv_alg_ec_len(alg);
	uint8_t b;
	enum pv_err r = PV_E_MALFORMED;
	const char *an = piv_alg_name(alg);

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (k > 0) {
		if (!tlv_get(&in, 0x81, &m)) {
			(void)pv_why_set(why, r, "public key: %s key does not "
			    "start with 81 (modulus)", an);
			goto out;
		}
		if (!tlv_get(&in, 0x82, &e)) {
			(void)pv_why_set(why, r, "public key: %s modulus is not "
			    "followed by 82 (exponent)", an);
			goto out;
		}
		strip_zeros(&m);
		strip_zeros(&e);
		if (m.len != k) {
			(void)pv_why_set(why, r, "public key: %s modulus is %zu "
			    "%s, expected %zu", an, m.len,
			    buf_bytes_word(m.len), k);
			goto out;
		}
		if (e.len == 0 || e.len > sizeof(out->exponent)) {
			(void)pv_why_set(why, r, "public key: RSA exponent is %zu "
			    "%s, expected 1-%zu", e.len, buf_bytes_word(e.len),
			    sizeof(out->exponent));
			goto out;
		}
		(void)buf_copy_exact(&m, out->modulus, k);
		(void)buf_copy_exact(&e, out->exponent, e.len);
		out->modulus_len = k;
		out->exponent_len = e.len;
		b = out->exponent[e.len - 1];
		if ((b & 1) == 0 || (e.len == 1 && b < 3)) {
			(void)pv_why_set(why, r, "public key: RSA exponent is even "
			    "or less than 3");
			goto out;
		}
	} else if (f > 0) {
		size_t want = piv_alg_is_25519(alg) ? f : 1 + 2 * f;

		if (!tlv_get(&in, 0x86, &pt)) {
			(void)pv_why_set(why, r, "public key: %s key is not an 86 "
			    "(point) element", an);
			goto out;
		}
		if (pt.len != want) {
			(void)pv_why_set(why, r, "public key: %s point is %zu %s, "
			    "expected %zu", an, pt.len, buf_bytes_word(pt.len),
			    want);
			goto out;
		}
		(void)buf_copy_exact(&pt, out->point, want);
		out->point_len = want;
		if (!piv_alg_is_25519(alg) && out->point[0] != 0x04) {
			(void)pv_why_set(why, r, "public key: %s point is not in "
			    "uncompressed form (04)", an);
			goto out;
		}
	} else {
		r = pv_why_set(why, PV_E_INVAL,
		    "public key: algorithm %02X has no public key", alg);
		goto out;
	}
	if (!buf_done(&in)) {
		(void)pv_why_set(why, r, "public key: %zu %s after the key",
		    in.len, buf_bytes_word(in.len));
		goto out;
	}
	out->alg = alg;
	r = PV_OK;
out:
	if (r != PV_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

enum pv_err
piv_pubkey_parse(uint8_t alg, const uint8_t *p, size_t len,
    struct piv_pubkey *out, struct pv_why *why)
{
	struct buf_cur in, t;
	char diag[128];

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (!tlv_get(&in, 0x7f49, &t)) {
		uint32_t tag;

		if (tlv_peek_tag(&in, &tag) && tag != 0x7f49)
			return pv_why_set(why, PV_E_MALFORMED, "public key: "
			    "starts with tag %02X, expected 7F49", tag);
		piv_tlv_explain(&in, diag, sizeof(diag));
		return pv_why_set(why, PV_E_MALFORMED, "public key: %s", diag);
	}
	if (!buf_done(&in))
		return pv_why_set(why, PV_E_MALFORMED,
		    "public key: %zu %s after the 7F49 template", in.len,
		    buf_bytes_word(in.len));
	return piv_pubkey_parse_inner(alg, t.p, t.len, out, why);
}

enum pv_err
piv_pubkey_build(const struct piv_pubkey *pk, struct buf_out *out,
    struct pv_why *why)
{
	size_t mark, start = out->len;
	struct piv_pubkey chk;
	struct buf_cur v;
	enum pv_err r;

	(void)tlv_open(out, 0x7f49, &mark);
	if (piv_alg_rsa_len(pk->alg) > 0) {
		(void)tlv_put(out, 0x81, pk->modulus, pk->modulus_len);
		(void)tlv_put(out, 0x82, pk->exponent, pk->exponent_len);
	} else {
		(void)tlv_put(out, 0x86, pk->point, pk->point_len);
	}
	(void)tlv_close(out, mark);
	if (!buf_out_ok(out))
		return buf_fail("public key", why);
	/* What we write must be what we would accept. */
	buf_cur_init(&v, out->p + start, out->len - start);
	if ((r = piv_pubkey_parse(pk->alg, v.p, v.len, &chk, why)) != PV_OK) {
		buf_out_truncate(out, start);
		return r == PV_E_MALFORMED ? PV_E_INPUT : r;
	}
	return PV_OK;
}

/* ---- SELECT, GET DATA, PUT DATA ------------------------------------------------ */

enum pv_err
piv_select(struct apdu_session *s, const uint8_t *aid, size_t aid_len,
    struct piv_apt *apt, struct pv_why *why)
{
	static const uint8_t piv_aid[] = { PIV_AID_BYTES };
	struct buf_out rsp;
	enum pv_err r = PV_E_INTERNAL;

	memset(&rsp, 0, sizeof(rsp));
	if (apt != NULL)
		memset(apt, 0, sizeof(*apt));
	if (aid == NULL) {
		aid = piv_aid;
		aid_len = PIV_AID_TRUNC_LEN;
	}
	if (aid_len < PIV_RID_LEN || aid_len > 16)
		return pv_why_set(why, PV_E_INVAL,
		    "SELECT: AID is %zu %s, expected 5-16", aid_len,
		    buf_bytes_word(aid_len));
	if (!buf_out_alloc(&rsp, 64, PIV_RSP_SMALL))
		return PV_E_NOMEM;
	if ((r = piv_cmd(s, PIV_INS_SELECT, 0x04, 0x00, aid, aid_len,
	    APDU_LE_ANY, &rsp, NULL, NULL, "SELECT", why)) != PV_OK)
		goto out;
	if (apt != NULL && rsp.len > 0 &&
	    (r = piv_apt_parse(rsp.p, rsp.len, apt, why)) != PV_OK) {
		pv_why_prefix(why, "SELECT");
		goto out;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&rsp);
	return r;
}

/* Objects returned and written whole, not wrapped in 53 (Part 2 §3.1.2). */
static bool
obj_is_whole(uint32_t tag)
{
	return tag == PIV_OBJ_DISCOVERY || tag == PIV_OBJ_BIT_GROUP;
}

static bool
obj_tag_ok(uint32_t tag)
{
	return tag != 0 && tag <= 0xffffff;
}

/* "5C L <tag>": the tag list of GET DATA and PUT DATA. */
static bool
put_tag_list(struct buf_out *o, uint32_t tag)
{
	size_t mark;

	return tlv_open(o, 0x5c, &mark) && tlv_put_tag(o, tag) &&
	    tlv_close(o, mark);
}

enum pv_err
piv_get_data(struct apdu_session *s, uint32_t tag, struct buf_out *out,
    struct pv_why *why)
{
	uint8_t cmd[8];
	struct buf_out c, rsp;
	struct buf_cur in, v;
	uint32_t want = obj_is_whole(tag) ? tag : 0x53, first;
	enum pv_err r = PV_E_INTERNAL;
	char what[96], diag[128];

	memset(&rsp, 0, sizeof(rsp));
	(void)snprintf(what, sizeof(what), "GET DATA %02X (%s)", tag,
	    piv_obj_name(tag));
	if (!obj_tag_ok(tag))
		return pv_why_set(why, PV_E_INVAL, "GET DATA: bad tag %X", tag);
	buf_out_fixed(&c, cmd, sizeof(cmd));
	if (!put_tag_list(&c, tag))
		return PV_E_INTERNAL;
	if (!buf_out_alloc(&rsp, 1024, s->max_rsp > 0 ? s->max_rsp : 1024))
		return PV_E_NOMEM;
	if ((r = piv_cmd(s, PIV_INS_GET_DATA, 0x3f, 0xff, c.p, c.len,
	    APDU_LE_ANY, &rsp, NULL, NULL, what, why)) != PV_OK)
		goto out;
	buf_cur_init(&in, rsp.p, rsp.len);
	if (buf_done(&in)) {
		r = pv_why_set(why, PV_E_NOT_FOUND, "%s: the card returned no "
		    "data", what);
		goto out;
	}
	if (!tlv_get(&in, want, &v)) {
		if (tlv_peek_tag(&in, &first) && first != want) {
			r = pv_why_set(why, PV_E_MALFORMED, "%s: the answer "
			    "starts with tag %02X, expected %02X", what, first,
			    want);
		} else {
			piv_tlv_explain(&in, diag, sizeof(diag));
			r = pv_why_set(why, PV_E_MALFORMED, "%s: %s", what, diag);
		}
		goto out;
	}
	if (!buf_done(&in)) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: %zu %s after the "
		    "%02X element", what, in.len, buf_bytes_word(in.len), want);
		goto out;
	}
	if (obj_is_whole(tag))
		buf_cur_init(&v, rsp.p, rsp.len);
	if (!buf_put(out, v.p, v.len)) {
		r = buf_fail(what, why);
		goto out;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&rsp);	/* wiped: 5FC109 may hold a key */
	return r;
}

enum pv_err
piv_put_data(struct apdu_session *s, uint32_t tag, const uint8_t *content,
    size_t len, struct pv_why *why)
{
	struct buf_out c;
	struct buf_cur in, v;
	size_t mark;
	enum pv_err r = PV_E_INTERNAL;
	char what[96];

	memset(&c, 0, sizeof(c));
	(void)snprintf(what, sizeof(what), "PUT DATA %02X (%s)", tag,
	    piv_obj_name(tag));
	if (!obj_tag_ok(tag) || (content == NULL && len > 0))
		return pv_why_set(why, PV_E_INVAL, "PUT DATA: bad arguments");
	if (obj_is_whole(tag)) {
		/* Part 2 §3.3.1: 7E and 7F61 are sent as their own element. */
		buf_cur_init(&in, content, len);
		if (!tlv_get(&in, tag, &v) || !buf_done(&in))
			return pv_why_set(why, PV_E_INVAL, "%s: the data is not "
			    "exactly one %02X element", what, tag);
		return piv_cmd(s, PIV_INS_PUT_DATA, 0x3f, 0xff, content, len,
		    0, NULL, NULL, NULL, what, why);
	}
	if (!buf_out_alloc(&c, len + 16, APDU_EXT_MAX_LC))
		return PV_E_NOMEM;
	(void)put_tag_list(&c, tag);
	(void)tlv_open(&c, 0x53, &mark);
	(void)buf_put(&c, content, len);
	(void)tlv_close(&c, mark);
	if (!buf_out_ok(&c)) {
		r = pv_why_set(why, PV_E_TOO_LONG, "%s: %zu %s is more than "
		    "one command can carry", what, len, buf_bytes_word(len));
		goto out;
	}
	r = piv_cmd(s, PIV_INS_PUT_DATA, 0x3f, 0xff, c.p, c.len, 0, NULL,
	    NULL, NULL, what, why);
out:
	buf_out_cleanup(&c);	/* wiped */
	return r;
}

/* ---- PINs ------------------------------------------------------------------------- */

/* Part 2 §2.4.3: 1-8 bytes, right-padded with FF to 8. */
static bool
pin_block(const uint8_t *pin, size_t len, uint8_t out[PIV_PIN_BLOCK])
{
	if (pin == NULL || len == 0 || len > PIV_PIN_BLOCK)
		return false;
	memset(out, 0xff, PIV_PIN_BLOCK);
	memcpy(out, pin, len);
	return true;
}

enum pv_err
piv_verify(struct apdu_session *s, uint8_t ref, const uint8_t *pin,
    size_t pin_len, int *retries, struct pv_why *why)
{
	uint8_t blk[PIV_PIN_BLOCK];
	enum pv_err r;
	char what[32];

	(void)snprintf(what, sizeof(what), "VERIFY %02X", ref);
	if (!pin_block(pin, pin_len, blk))
		return pv_why_set(why, PV_E_INVAL,
		    "%s: PIN must be 1-8 bytes, got %zu", what, pin_len);
	r = piv_cmd(s, PIV_INS_VERIFY, 0x00, ref, blk, sizeof(blk), 0, NULL,
	    NULL, retries, what, why);
	buf_wipe(blk, sizeof(blk));
	return r;
}

enum pv_err
piv_verify_status(struct apdu_session *s, uint8_t ref,
    struct piv_pin_status *out, struct pv_why *why)
{
	struct apdu_cmd cmd = { 0x00, PIV_INS_VERIFY, 0x00, ref, NULL, 0, 0 };
	uint16_t sw = 0;
	enum pv_err r;
	char t[160];

	memset(out, 0, sizeof(*out));
	out->retries = -1;
	if ((r = apdu_transmit(s, &cmd, NULL, &sw)) != PV_OK)
		return pv_why_set(why, r, "VERIFY %02X (status): %s", ref,
		    pv_strerror(r));
	/* Part 2 §3.2.1: no data = ask; the status word is the answer. */
	sw = pin_sw(sw);
	if (sw == SW_OK) {
		out->verified = true;
		return PV_OK;
	}
	if ((sw & 0xfff0) == SW_RETRIES) {
		out->retries = sw & 0x0f;
		return PV_OK;
	}
	if (sw == SW_BLOCKED) {
		out->blocked = true;
		out->retries = 0;
		return PV_OK;
	}
	return pv_why_set(why, sw_to_err(sw, NULL), "VERIFY %02X (status): %s",
	    ref, sw_text(sw, t, sizeof(t)));
}

enum pv_err
piv_logout(struct apdu_session *s, uint8_t ref, struct pv_why *why)
{
	char what[40];

	(void)snprintf(what, sizeof(what), "VERIFY %02X (reset)", ref);
	return piv_cmd(s, PIV_INS_VERIFY, 0xff, ref, NULL, 0, 0, NULL, NULL,
	    NULL, what, why);
}

/* CHANGE REFERENCE DATA and RESET RETRY COUNTER: two padded blocks. */
static enum pv_err
pin_pair_cmd(struct apdu_session *s, uint8_t ins, uint8_t ref,
    const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
    int *retries, const char *what, struct pv_why *why)
{
	uint8_t blk[2 * PIV_PIN_BLOCK];
	enum pv_err r;

	if (!pin_block(a, a_len, blk) || !pin_block(b, b_len, blk + 8)) {
		buf_wipe(blk, sizeof(blk));
		return pv_why_set(why, PV_E_INVAL,
		    "%s: each PIN or PUK must be 1-8 bytes", what);
	}
	r = piv_cmd(s, ins, 0x00, ref, blk, sizeof(blk), 0, NULL, NULL,
	    retries, what, why);
	buf_wipe(blk, sizeof(blk));
	return r;
}

enum pv_err
piv_change_reference(struct apdu_session *s, uint8_t ref,
    const uint8_t *old, size_t old_len, const uint8_t *new_, size_t new_len,
    int *retries, struct pv_why *why)
{
	char what[48];

	(void)snprintf(what, sizeof(what), "CHANGE REFERENCE DATA %02X", ref);
	return pin_pair_cmd(s, PIV_INS_CHANGE_REF, ref, old, old_len, new_,
	    new_len, retries, what, why);
}

enum pv_err
piv_reset_retry(struct apdu_session *s, const uint8_t *puk, size_t puk_len,
    const uint8_t *new_pin, size_t new_pin_len, int *retries,
    struct pv_why *why)
{
	return pin_pair_cmd(s, PIV_INS_RESET_RETRY, PIV_REF_PIN, puk, puk_len,
	    new_pin, new_pin_len, retries, "RESET RETRY COUNTER", why);
}

/* ---- GENERAL AUTHENTICATE ------------------------------------------------------- */

/*
 * piv_ga sends 7C { 82 00, <in_tag> <in> } (82 first, as OpenSC and ykpiv
 * do) and puts the value of the answer's 7C { 82 ... } into |res| (a
 * buffer the caller wipes).
 */
static enum pv_err
piv_ga(struct apdu_session *s, uint8_t alg, uint8_t key, uint32_t in_tag,
    const uint8_t *in, size_t in_len, struct buf_out *res, const char *what,
    struct pv_why *why)
{
	struct buf_out c, rsp;
	struct buf_cur cur, t, v;
	size_t mark;
	enum pv_err r = PV_E_INTERNAL;

	memset(&c, 0, sizeof(c));
	memset(&rsp, 0, sizeof(rsp));
	if (!buf_out_alloc(&c, in_len + 16, APDU_EXT_MAX_LC) ||
	    !buf_out_alloc(&rsp, 600, 8192)) {
		r = PV_E_NOMEM;
		goto out;
	}
	(void)tlv_open(&c, 0x7c, &mark);
	(void)tlv_put(&c, 0x82, NULL, 0);
	(void)tlv_put(&c, in_tag, in, in_len);
	(void)tlv_close(&c, mark);
	if (!buf_out_ok(&c)) {
		r = buf_fail(what, why);
		goto out;
	}
	if ((r = piv_cmd(s, PIV_INS_GEN_AUTH, alg, key, c.p, c.len,
	    APDU_LE_ANY, &rsp, NULL, NULL, what, why)) != PV_OK)
		goto out;
	buf_cur_init(&cur, rsp.p, rsp.len);
	if (!tlv_get(&cur, 0x7c, &t) || !buf_done(&cur) ||
	    !tlv_get(&t, 0x82, &v) || !buf_done(&t)) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: the answer is not "
		    "7C { 82 response }", what);
		goto out;
	}
	if (!buf_put(res, v.p, v.len)) {
		r = buf_fail(what, why);
		goto out;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&c);
	buf_out_cleanup(&rsp);
	return r;
}

/* An RSA answer: at most k bytes, left-padded with zeros to exactly k. */
static enum pv_err
put_rsa_block(const struct buf_out *res, size_t k, struct buf_out *out,
    const char *what, struct pv_why *why)
{
	if (res->len == 0 || res->len > k)
		return pv_why_set(why, PV_E_MALFORMED, "%s: the card's response "
		    "is %zu %s, expected %zu", what, res->len,
		    buf_bytes_word(res->len), k);
	if (!buf_put_zeros(out, k - res->len) || !buf_put(out, res->p, res->len))
		return buf_fail(what, why);
	return PV_OK;
}

/* X9.62 Ecdsa-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each <= f+1. */
static bool
ecdsa_sig_ok(const struct buf_out *res, size_t f)
{
	struct buf_cur c, seq, i;
	uint8_t b;
	int k;

	buf_cur_init(&c, res->p, res->len);
	if (!tlv_get(&c, 0x30, &seq) || !buf_done(&c))
		return false;
	for (k = 0; k < 2; k++) {
		if (!tlv_get(&seq, 0x02, &i) || i.len == 0 || i.len > f + 1 ||
		    !buf_peek_u8(&i, &b) || (b & 0x80) != 0)
			return false;
	}
	return buf_done(&seq);
}

enum pv_err
piv_sign(struct apdu_session *s, uint8_t alg, uint8_t key, const uint8_t *in,
    size_t in_len, struct buf_out *out, struct pv_why *why)
{
	struct buf_out res;
	size_t k = piv_alg_rsa_len(alg), f = piv_alg_ec_len(alg);
	enum pv_err r = PV_E_INTERNAL;
	char what[48];

	memset(&res, 0, sizeof(res));
	(void)snprintf(what, sizeof(what), "GENERAL AUTHENTICATE %02X (sign)",
	    key);
	if (in == NULL || in_len == 0)
		return pv_why_set(why, PV_E_INVAL, "%s: nothing to sign", what);
	if (k > 0 && in_len != k)
		return pv_why_set(why, PV_E_INVAL, "%s: input is %zu %s, %s "
		    "needs %zu", what, in_len, buf_bytes_word(in_len),
		    piv_alg_name(alg), k);
	if (k == 0 && !piv_alg_is_ecc(alg) && alg != PIV_ALG_ED25519)
		return pv_why_set(why, PV_E_INVAL, "%s: %s cannot sign", what,
		    piv_alg_name(alg));
	/* ECDSA uses the leftmost field-size bytes of the hash (X9.62). */
	if (piv_alg_is_ecc(alg) && in_len > f)
		in_len = f;
	if (!buf_out_alloc(&res, 600, 8192))
		return PV_E_NOMEM;
	if ((r = piv_ga(s, alg, key, 0x81, in, in_len, &res, what, why)) !=
	    PV_OK)
		goto out;
	if (k > 0) {
		r = put_rsa_block(&res, k, out, what, why);
		goto out;
	}
	if (alg == PIV_ALG_ED25519 && res.len != 64) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: Ed25519 signature is "
		    "%zu %s, expected 64", what, res.len,
		    buf_bytes_word(res.len));
		goto out;
	}
	if (piv_alg_is_ecc(alg) && !ecdsa_sig_ok(&res, f)) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: the signature is not a "
		    "DER SEQUENCE of two %s-sized INTEGERs", what,
		    piv_alg_name(alg));
		goto out;
	}
	r = buf_put(out, res.p, res.len) ? PV_OK : buf_fail(what, why);
out:
	buf_out_cleanup(&res);
	return r;
}

enum pv_err
piv_decrypt(struct apdu_session *s, uint8_t alg, uint8_t key,
    const uint8_t *in, size_t in_len, struct buf_out *out, struct pv_why *why)
{
	struct buf_out res;
	size_t k = piv_alg_rsa_len(alg);
	enum pv_err r = PV_E_INTERNAL;
	char what[48];

	memset(&res, 0, sizeof(res));
	(void)snprintf(what, sizeof(what),
	    "GENERAL AUTHENTICATE %02X (decrypt)", key);
	if (k == 0)
		return pv_why_set(why, PV_E_INVAL, "%s: %s is not RSA", what,
		    piv_alg_name(alg));
	if (in == NULL || in_len != k)
		return pv_why_set(why, PV_E_INVAL, "%s: input is %zu %s, %s "
		    "needs %zu", what, in_len, buf_bytes_word(in_len),
		    piv_alg_name(alg), k);
	if (!buf_out_alloc(&res, k, 8192))
		return PV_E_NOMEM;
	if ((r = piv_ga(s, alg, key, 0x81, in, in_len, &res, what, why)) ==
	    PV_OK)
		r = put_rsa_block(&res, k, out, what, why);
	buf_out_cleanup(&res);	/* wiped: it holds the padded plaintext */
	return r;
}

enum pv_err
piv_ecdh(struct apdu_session *s, uint8_t alg, uint8_t key,
    const uint8_t *point, size_t point_len, struct buf_out *out,
    struct pv_why *why)
{
	struct buf_out res;
	struct buf_cur pc;
	size_t f = piv_alg_ec_len(alg), want;
	uint8_t b = 0;
	enum pv_err r = PV_E_INTERNAL;
	char what[48];

	memset(&res, 0, sizeof(res));
	(void)snprintf(what, sizeof(what), "GENERAL AUTHENTICATE %02X (ECDH)",
	    key);
	if (!piv_alg_is_ecc(alg) && alg != PIV_ALG_X25519)
		return pv_why_set(why, PV_E_INVAL, "%s: %s cannot agree keys",
		    what, piv_alg_name(alg));
	want = alg == PIV_ALG_X25519 ? f : 1 + 2 * f;
	buf_cur_init(&pc, point, point_len);
	if (point_len != want || (alg != PIV_ALG_X25519 &&
	    (!buf_peek_u8(&pc, &b) || b != 0x04)))
		return pv_why_set(why, PV_E_INVAL, "%s: peer point must be %zu "
		    "bytes%s", what, want, alg == PIV_ALG_X25519 ? "" :
		    " starting 04");
	if (!buf_out_alloc(&res, 64, 8192))
		return PV_E_NOMEM;
	/* Part 2 App. A.5.2: the peer's point goes in 85 (exponentiation). */
	if ((r = piv_ga(s, alg, key, 0x85, point, point_len, &res, what,
	    why)) != PV_OK)
		goto out;
	if (res.len != f) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: shared secret is %zu "
		    "%s, expected %zu", what, res.len, buf_bytes_word(res.len),
		    f);
		goto out;
	}
	r = buf_put(out, res.p, res.len) ? PV_OK : buf_fail(what, why);
out:
	buf_out_cleanup(&res);	/* wiped: the shared secret */
	return r;
}

/* ---- GENERATE ASYMMETRIC KEY PAIR ------------------------------------------------- */

enum pv_err
piv_generate(struct apdu_session *s, uint8_t key, uint8_t alg,
    uint8_t pin_policy, uint8_t touch_policy, struct piv_pubkey *out,
    struct pv_why *why)
{
	uint8_t cmd[32];
	struct buf_out c, rsp;
	size_t mark;
	enum pv_err r = PV_E_INTERNAL;
	char what[48];

	memset(out, 0, sizeof(*out));
	memset(&rsp, 0, sizeof(rsp));
	(void)snprintf(what, sizeof(what), "GENERATE %02X (%s)", key,
	    piv_alg_name(alg));
	if (piv_alg_rsa_len(alg) == 0 && piv_alg_ec_len(alg) == 0)
		return pv_why_set(why, PV_E_INVAL, "GENERATE %02X: algorithm "
		    "%02X is not asymmetric", key, alg);
	if (pin_policy > PIV_PINPOL_MATCH_ALWAYS ||
	    touch_policy > PIV_TOUCH_CACHED)
		return pv_why_set(why, PV_E_INVAL, "%s: bad PIN or touch policy",
		    what);
	buf_out_fixed(&c, cmd, sizeof(cmd));
	/* Part 2 §3.3.2: AC { 80 alg }; YubiKey adds AA/AB inside AC. */
	(void)tlv_open(&c, 0xac, &mark);
	(void)tlv_put(&c, 0x80, &alg, 1);
	if (pin_policy != PIV_PINPOL_DEFAULT)
		(void)tlv_put(&c, 0xaa, &pin_policy, 1);
	if (touch_policy != PIV_TOUCH_DEFAULT)
		(void)tlv_put(&c, 0xab, &touch_policy, 1);
	(void)tlv_close(&c, mark);
	if (!buf_out_ok(&c))
		return PV_E_INTERNAL;
	if (!buf_out_alloc(&rsp, 600, PIV_RSP_SMALL))
		return PV_E_NOMEM;
	if ((r = piv_cmd(s, PIV_INS_GEN_KEYPAIR, 0x00, key, c.p, c.len,
	    APDU_LE_ANY, &rsp, NULL, NULL, what, why)) != PV_OK)
		goto out;
	if ((r = piv_pubkey_parse(alg, rsp.p, rsp.len, out, why)) != PV_OK)
		pv_why_prefix(why, "%s", what);
out:
	buf_out_cleanup(&rsp);
	return r;
}
