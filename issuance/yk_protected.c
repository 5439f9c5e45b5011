/*
 * yk_protected.c: YubiKey 9B keys kept where the PIN unlocks them
 * (yk_protected.h).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "apdu/tlv.h"
#include "issuance/yk_protected.h"

#define TAG_ADMIN	0x80
#define TAG_FLAGS	0x81
#define TAG_SALT	0x82
#define TAG_TIME	0x83
#define TAG_PROTECTED	0x88
#define TAG_KEY		0x89

/* ---- codecs ---------------------------------------------------------------- */

enum pv_err
ykp_admin_parse(const uint8_t *p, size_t len, struct ykp_admin *out,
    struct pv_why *why)
{
	struct buf_cur in, obj, v;
	uint32_t tag;
	uint8_t t[4];

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (!tlv_get(&in, TAG_ADMIN, &obj) || !buf_done(&in))
		return pv_why_set(why, PV_E_MALFORMED, "ADMIN DATA (5FFF00): "
		    "not one 80 element");
	while (!buf_done(&obj)) {
		if (!tlv_get_any(&obj, &tag, &v))
			return pv_why_set(why, PV_E_MALFORMED, "ADMIN DATA "
			    "(5FFF00): a truncated element inside 80");
		switch (tag) {
		case TAG_FLAGS:
			if (out->has_flags || !buf_copy_exact(&v, &out->flags, 1))
				goto bad;
			out->has_flags = true;
			break;
		case TAG_SALT:
			if (out->has_salt ||
			    !buf_copy_exact(&v, out->salt, YKP_SALT_LEN))
				goto bad;
			out->has_salt = true;
			break;
		case TAG_TIME:
			if (out->has_time || !buf_copy_exact(&v, t, 4))
				goto bad;
			out->pin_time = (uint32_t)t[0] << 24 |
			    (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
			out->has_time = true;
			break;
		default:
			break;	/* newer members: not ours to judge */
		}
		continue;
bad:
		memset(out, 0, sizeof(*out));
		return pv_why_set(why, PV_E_MALFORMED, "ADMIN DATA (5FFF00): "
		    "element %02X is repeated or has the wrong length (%zu)",
		    tag, v.len);
	}
	return PV_OK;
}

enum pv_err
ykp_admin_build(const struct ykp_admin *a, struct buf_out *out)
{
	uint8_t t[4] = { (uint8_t)(a->pin_time >> 24),
	    (uint8_t)(a->pin_time >> 16), (uint8_t)(a->pin_time >> 8),
	    (uint8_t)a->pin_time };
	size_t mark;

	if (!a->has_flags && !a->has_salt && !a->has_time)
		return PV_OK;
	(void)tlv_open(out, TAG_ADMIN, &mark);
	if (a->has_flags)
		(void)tlv_put(out, TAG_FLAGS, &a->flags, 1);
	if (a->has_salt)
		(void)tlv_put(out, TAG_SALT, a->salt, YKP_SALT_LEN);
	if (a->has_time)
		(void)tlv_put(out, TAG_TIME, t, sizeof(t));
	if (!tlv_close(out, mark))
		return PV_E_NOMEM;
	return PV_OK;
}

/* The 89 value inside 88 (a view into |p|). */
static enum pv_err
stored_key_view(const uint8_t *p, size_t len, struct buf_cur *key,
    struct pv_why *why)
{
	struct buf_cur in, obj, v;
	uint32_t tag;
	bool found = false;

	buf_cur_init(&in, p, len);
	if (!tlv_get(&in, TAG_PROTECTED, &obj) || !buf_done(&in))
		return pv_why_set(why, PV_E_MALFORMED, "Printed Information "
		    "(5FC109): not one 88 element (no key stored there)");
	while (!buf_done(&obj)) {
		if (!tlv_get_any(&obj, &tag, &v))
			return pv_why_set(why, PV_E_MALFORMED, "Printed "
			    "Information (5FC109): a truncated element inside "
			    "88");
		if (tag != TAG_KEY)
			continue;
		if (found)
			return pv_why_set(why, PV_E_MALFORMED, "Printed "
			    "Information (5FC109): two keys (89) inside 88");
		found = true;
		*key = v;
	}
	if (!found)
		return pv_why_set(why, PV_E_NOT_FOUND, "Printed Information "
		    "(5FC109) holds no stored management key (88 without 89)");
	return PV_OK;
}

enum pv_err
ykp_stored_key_parse(const uint8_t *p, size_t len, enum mgmtkey_alg alg,
    struct mgmtkey *out, struct pv_why *why)
{
	struct buf_cur key;
	size_t want = mgmtkey_alg_len(alg);
	enum pv_err r;

	mgmtkey_clear(out);
	if ((r = stored_key_view(p, len, &key, why)) != PV_OK)
		return r;
	if (want == 0 || key.len != want)
		return pv_why_set(why, PV_E_MALFORMED, "the stored management "
		    "key is %zu bytes, but a %s key is %zu", key.len,
		    mgmtkey_alg_name(alg), want);
	memcpy(out->key, key.p, want);
	out->len = want;
	out->alg = alg;
	return PV_OK;
}

enum pv_err
ykp_derive_key(const uint8_t *pin, size_t pin_len,
    const uint8_t salt[YKP_SALT_LEN], struct mgmtkey *out, struct pv_why *why)
{
	mgmtkey_clear(out);
	/* The PIN as typed (its UTF-8 bytes), without the FF padding. */
	if (PKCS5_PBKDF2_HMAC((const char *)pin, (int)pin_len, salt,
	    YKP_SALT_LEN, YKP_PBKDF2_ITER, EVP_sha1(), 24, out->key) != 1) {
		mgmtkey_clear(out);
		return pv_why_set(why, PV_E_CRYPTO, "PBKDF2 of the PIN failed");
	}
	out->alg = MGMTKEY_3DES;
	out->len = 24;
	return PV_OK;
}

/* ---- the token ----------------------------------------------------------- */

void
ykp_token_from(const uint8_t *p, size_t len, struct ykp_token *out)
{
	memset(out, 0, sizeof(*out));
	out->read = out->present = true;
	if (ykp_admin_parse(p, len, &out->admin, NULL) != PV_OK) {
		out->malformed = true;
		return;
	}
	/* ykman: a stored key wins over a salt (it clears the salt when it
	 * stores a key, and looks at the flag first). */
	out->stored = out->admin.has_flags &&
	    (out->admin.flags & YKP_FLAG_MGM_STORED) != 0;
	out->derived = !out->stored && out->admin.has_salt;
}

bool
ykp_has_key(const struct ykp_token *t)
{
	return t->stored || t->derived;
}

const char *
ykp_describe(const struct ykp_token *t)
{
	if (t->stored)
		return "PIN-protected (stored on the token)";
	if (t->derived)
		return "derived from the PIN (PBKDF2, YubiKey PIV Manager)";
	return NULL;
}

/* Transport and memory errors stop; anything else is the card's answer. */
static bool
ykp_fatal(enum pv_err r)
{
	switch (r) {
	case PV_E_TRANSPORT:
	case PV_E_NO_CARD:
	case PV_E_RESET:
	case PV_E_TIMEOUT:
	case PV_E_NO_SERVICE:
	case PV_E_NO_READER:
	case PV_E_SHARING:
	case PV_E_PROTO:
	case PV_E_NOMEM:
	case PV_E_CANCELLED:
		return true;
	default:
		return false;
	}
}

enum pv_err
ykp_probe(struct apdu_session *a, struct ykp_token *out, struct pv_why *why)
{
	struct buf_out obj;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if (!buf_out_alloc(&obj, 64, 1024))
		return PV_E_NOMEM;
	out->read = true;
	r = piv_get_data(a, PIV_OBJ_YK_ADMIN, &obj, why);
	if (ykp_fatal(r))
		goto out;
	if (r == PV_OK)
		ykp_token_from(obj.p, obj.len, out);
	/* Not there, or refused: the token keeps no such key. */
	pv_why_clear(why);
	r = PV_OK;
out:
	buf_out_cleanup(&obj);
	return r;
}

enum pv_err
ykp_unlock(struct apdu_session *a, const struct ykp_token *t,
    const uint8_t *pin, size_t pin_len, enum mgmtkey_alg alg,
    struct mgmtkey *out, int *retries, struct pv_why *why)
{
	struct buf_out obj;
	struct buf_cur key;
	enum pv_err r;

	mgmtkey_clear(out);
	memset(&obj, 0, sizeof(obj));
	if (!ykp_has_key(t))
		return pv_why_set(why, PV_E_STATE, "the token keeps no "
		    "PIN-protected management key");
	/* Checked before the PIN is spent on it. */
	if (!t->stored && alg != MGMTKEY_3DES)
		return pv_why_set(why, PV_E_AUTH_FAILED, "a management key "
		    "derived from the PIN is 3DES, but the card's is %s",
		    mgmtkey_alg_name(alg));
	if ((r = piv_verify(a, PIV_REF_PIN, pin, pin_len, retries, why)) !=
	    PV_OK)
		goto out;
	if (t->stored) {
		if (!buf_out_alloc(&obj, 64, 1024)) {
			r = PV_E_NOMEM;
			goto out;
		}
		r = piv_get_data(a, PIV_OBJ_PRINTED, &obj, why);
		if (r == PV_E_NOT_FOUND) {
			pv_why_clear(why);
			r = pv_why_set(why, PV_E_NOT_FOUND, "ADMIN DATA says the "
			    "management key is stored on the token, but there is "
			    "no Printed Information (5FC109)");
		}
		if (r == PV_OK)
			r = stored_key_view(obj.p, obj.len, &key, why);
		if (r == PV_OK && key.len != mgmtkey_alg_len(alg))
			/* Another length than the card's algorithm: not the
			 * card's key (a stale copy). */
			r = pv_why_set(why, PV_E_AUTH_FAILED, "the management key "
			    "stored on the token (%zu bytes) cannot be the card's "
			    "%s key", key.len, mgmtkey_alg_name(alg));
		if (r == PV_OK)
			r = ykp_stored_key_parse(obj.p, obj.len, alg, out, why);
	} else {
		r = ykp_derive_key(pin, pin_len, t->admin.salt, out, why);
	}
	if (r != PV_OK)
		goto out;
	r = piv_auth_mgmt(a, (uint8_t)out->alg, out->key, out->len, why);
	if (r == PV_E_AUTH_FAILED) {
		pv_why_clear(why);
		r = pv_why_set(why, r, "the card refused the management key %s: "
		    "it is not the card's key", t->stored ? "stored on the "
		    "token" : "derived from the PIN");
	}
out:
	buf_out_cleanup(&obj);
	if (r != PV_OK)
		mgmtkey_clear(out);
	return r;
}

enum pv_err
ykp_forget(struct apdu_session *a, const struct ykp_token *t,
    struct pv_why *why)
{
	struct ykp_admin adm;
	struct buf_out obj;
	enum pv_err r;

	if (!ykp_has_key(t))
		return PV_OK;
	adm = t->admin;
	adm.flags &= (uint8_t)~YKP_FLAG_MGM_STORED;
	if (adm.has_flags && adm.flags == 0)
		adm.has_flags = false;
	OPENSSL_cleanse(adm.salt, sizeof(adm.salt));
	adm.has_salt = false;
	if (!buf_out_alloc(&obj, 32, 256))
		return PV_E_NOMEM;
	if ((r = ykp_admin_build(&adm, &obj)) != PV_OK)
		goto out;
	if ((r = piv_put_data(a, PIV_OBJ_YK_ADMIN, obj.p, obj.len, why)) !=
	    PV_OK) {
		pv_why_prefix(why, "rewriting ADMIN DATA (5FFF00)");
		goto out;
	}
	if (t->stored &&
	    (r = piv_put_data(a, PIV_OBJ_PRINTED, NULL, 0, why)) != PV_OK)
		pv_why_prefix(why, "removing the stored management key "
		    "(5FC109)");
out:
	buf_out_cleanup(&obj);
	return r;
}
