/*
 * activation.c: one-time hand-over of a derived credential (activation.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "issuance/activation.h"
#include "issuance/audit.h"

#define ACT_NONCE_LEN	12
#define ACT_TAG_LEN	16
#define ACT_AAD		"pivstation-activation-v1"

static const char act_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *
act_alphabet(enum config_code_alphabet a)
{
	switch (a) {
	case CONFIG_CODE_ALNUM:
		return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz";
	case CONFIG_CODE_UPPER:
		return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	case CONFIG_CODE_DIGITS:
		return "0123456789";
	}
	return NULL;
}

void
act_policy_from_config(const struct pv_config *cfg, struct act_policy *out)
{
	memset(out, 0, sizeof(*out));
	out->code_len = cfg->derive_code_len;
	out->alphabet = cfg->derive_code_alphabet;
	out->lifetime_s = cfg->derive_activation_min * 60u;
	out->max_attempts = cfg->derive_activation_tries;
}

static bool
act_policy_ok(const struct act_policy *pol)
{
	return pol != NULL && pol->code_len >= ACT_CODE_MIN &&
	    pol->code_len <= ACT_CODE_MAX && act_alphabet(pol->alphabet) !=
	    NULL && pol->lifetime_s > 0 && pol->max_attempts >= 1 &&
	    pol->max_attempts <= 10;
}

void
act_code_clear(struct act_code *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c, sizeof(*c));
}

enum pv_err
act_code_new(const struct act_policy *pol, struct act_code *out,
    struct pv_why *why)
{
	const char *abc;
	uint8_t rnd[64];
	size_t alen, limit, i, n = 0;
	enum pv_err r = PV_E_CRYPTO;

	memset(out, 0, sizeof(*out));
	if (!act_policy_ok(pol))
		return pv_why_set(why, PV_E_INVAL, "activation code: policy "
		    "out of range");
	abc = act_alphabet(pol->alphabet);
	alen = strlen(abc);
	limit = 256 - 256 % alen;	/* uniform: bytes >= limit are drawn again */
	while (n < pol->code_len) {
		if (RAND_priv_bytes(rnd, sizeof(rnd)) != 1) {
			r = pv_why_set(why, PV_E_CRYPTO, "activation code: no "
			    "random bytes");
			goto out;
		}
		for (i = 0; i < sizeof(rnd) && n < pol->code_len; i++)
			if (rnd[i] < limit)
				out->v[n++] = abc[rnd[i] % alen];
	}
	out->v[n] = '\0';
	r = PV_OK;
out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if (r != PV_OK)
		act_code_clear(out);
	return r;
}

enum pv_err
act_code_hash(const struct secret_master *m, const char *code,
    uint8_t out[32])
{
	uint8_t key[32];
	unsigned int len = 0;
	enum pv_err r;

	if ((r = secret_derive(m, ACT_LABEL_CODE, NULL, 0, key,
	    sizeof(key))) != PV_OK)
		return r;
	if (HMAC(EVP_sha256(), key, (int)sizeof(key),
	    (const unsigned char *)code, strnlen(code, 256), out, &len) ==
	    NULL || len != 32)
		r = PV_E_CRYPTO;
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

bool
act_id_ok(const char *id)
{
	size_t i;

	if (id == NULL)
		return false;
	for (i = 0; i < ACT_ID_LEN; i++)
		if (id[i] == '\0' || strchr(act_b64url, id[i]) == NULL)
			return false;
	return id[ACT_ID_LEN] == '\0';
}

/* A new URL id: 16 random bytes as unpadded base64url. */
static enum pv_err
act_id_new(char out[ACT_ID_LEN + 1])
{
	uint8_t b[16];
	unsigned acc = 0, bits = 0;
	size_t i, n = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return PV_E_CRYPTO;
	for (i = 0; i < sizeof(b); i++) {
		acc = (acc << 8) | b[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = act_b64url[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[n++] = act_b64url[(acc << (6 - bits)) & 0x3f];
	out[n] = '\0';
	return n == ACT_ID_LEN ? PV_OK : PV_E_INTERNAL;
}

void
act_info_from_row(const struct store_activation *a, int64_t now,
    struct act_info *out)
{
	memset(out, 0, sizeof(*out));
	out->row_id = a->id;
	memcpy(out->id, a->public_id, sizeof(out->id));
	out->id[ACT_ID_LEN] = '\0';
	out->derived_id = a->derived_id;
	out->kind = a->kind;
	out->state = a->state;
	if (a->state == STORE_ACT_OPEN && now >= a->expires_at)
		out->state = STORE_ACT_EXPIRED;
	out->attempts = a->attempts;
	out->attempts_left = a->max_attempts > a->attempts ?
	    a->max_attempts - a->attempts : 0;
	out->has_payload = a->payload != NULL && out->state == STORE_ACT_OPEN;
	memcpy(out->payload_name, a->payload_name, sizeof(out->payload_name));
	out->payload_name[sizeof(out->payload_name) - 1] = '\0';
	out->created_at = a->created_at;
	out->expires_at = a->expires_at;
}

/* ---- sealing the payload ---------------------------------------------------------- */

static enum pv_err
act_payload_key(const struct secret_master *m, const char *id,
    const char *code, uint8_t key[32])
{
	uint8_t ctx[ACT_ID_LEN + 1 + 256];
	size_t cl = strnlen(code, 256);
	enum pv_err r;

	memcpy(ctx, id, ACT_ID_LEN);
	ctx[ACT_ID_LEN] = 0;
	memcpy(ctx + ACT_ID_LEN + 1, code, cl);
	r = secret_derive(m, ACT_LABEL_PAYLOAD, ctx, ACT_ID_LEN + 1 + cl, key,
	    32);
	OPENSSL_cleanse(ctx, sizeof(ctx));
	return r;
}

/* AES-256-GCM: out = nonce || ciphertext || tag; |dec| opens instead. */
static enum pv_err
act_gcm(bool dec, const uint8_t key[32], const char *id,
    enum store_act_kind kind, const uint8_t *in, size_t n, uint8_t **out,
    size_t *out_len)
{
	EVP_CIPHER_CTX *c = NULL;
	uint8_t *buf = NULL, nonce[ACT_NONCE_LEN];
	const char *kn = store_act_kind_name(kind);
	size_t body, cap;
	int len = 0, fin = 0;
	enum pv_err r = PV_E_CRYPTO;

	*out = NULL;
	*out_len = 0;
	if (dec && n < ACT_NONCE_LEN + ACT_TAG_LEN)
		return PV_E_VERIFY;
	body = dec ? n - ACT_NONCE_LEN - ACT_TAG_LEN : n;
	if (body > STORE_ACT_PAYLOAD_MAX || body > 0x7fffffff)
		return PV_E_TOO_LONG;
	cap = dec ? body : ACT_NONCE_LEN + body + ACT_TAG_LEN;
	if ((buf = malloc(cap > 0 ? cap : 1)) == NULL)
		return PV_E_NOMEM;
	if (dec)
		memcpy(nonce, in, ACT_NONCE_LEN);
	else if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto out;
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if ((dec ? EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) :
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, ACT_NONCE_LEN,
	    NULL) != 1 ||
	    (dec ? EVP_DecryptInit_ex(c, NULL, NULL, key, nonce) :
	    EVP_EncryptInit_ex(c, NULL, NULL, key, nonce)) != 1)
		goto out;
	/* AAD: what the bytes are for, so a payload cannot be moved to
	 * another activation's row or kind. */
	if ((dec ? EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)ACT_AAD,
	    (int)strlen(ACT_AAD)) : EVP_EncryptUpdate(c, NULL, &len,
	    (const uint8_t *)ACT_AAD, (int)strlen(ACT_AAD))) != 1 ||
	    (dec ? EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)id,
	    ACT_ID_LEN) : EVP_EncryptUpdate(c, NULL, &len,
	    (const uint8_t *)id, ACT_ID_LEN)) != 1 ||
	    (dec ? EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)kn,
	    (int)strlen(kn)) : EVP_EncryptUpdate(c, NULL, &len,
	    (const uint8_t *)kn, (int)strlen(kn))) != 1)
		goto out;
	if (dec) {
		if (EVP_DecryptUpdate(c, buf, &len, in + ACT_NONCE_LEN,
		    (int)body) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ACT_TAG_LEN,
		    (void *)(uintptr_t)(in + n - ACT_TAG_LEN)) != 1)
			goto out;
		if (EVP_DecryptFinal_ex(c, buf + len, &fin) != 1) {
			r = PV_E_VERIFY;
			goto out;
		}
		*out_len = (size_t)len + (size_t)fin;
	} else {
		memcpy(buf, nonce, ACT_NONCE_LEN);
		if (EVP_EncryptUpdate(c, buf + ACT_NONCE_LEN, &len, in,
		    (int)body) != 1 ||
		    EVP_EncryptFinal_ex(c, buf + ACT_NONCE_LEN + len, &fin) !=
		    1 || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG,
		    ACT_TAG_LEN, buf + ACT_NONCE_LEN + body) != 1)
			goto out;
		*out_len = cap;
	}
	*out = buf;
	buf = NULL;
	r = PV_OK;
out:
	EVP_CIPHER_CTX_free(c);
	if (buf != NULL)
		OPENSSL_clear_free(buf, cap > 0 ? cap : 1);
	if (r != PV_OK)
		*out_len = 0;
	return r;
}

void
act_payload_free(uint8_t *p, size_t len)
{
	if (p != NULL)
		OPENSSL_clear_free(p, len > 0 ? len : 1);
}

/* ---- audit details ----------------------------------------------------------------- */

/* {"source": ..., "reason": ..., "kind": ...}; the caller frees. */
static char *
act_detail(const char *source, const char *reason, const char *kind)
{
	json_object *o = json_object_new_object();
	char src[ACT_SOURCE_MAX];
	const char *t;
	char *s = NULL;

	if (o == NULL)
		return NULL;
	if (source != NULL && source[0] != '\0') {
		(void)snprintf(src, sizeof(src), "%s", source);
		json_object_object_add(o, "source",
		    json_object_new_string(src));
	}
	if (reason != NULL)
		json_object_object_add(o, "reason",
		    json_object_new_string(reason));
	if (kind != NULL)
		json_object_object_add(o, "kind", json_object_new_string(kind));
	t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (t != NULL)
		s = strdup(t);
	json_object_put(o);
	return s;
}

/* Audits an attempt that changes no row (inside the open transaction). */
static enum pv_err
act_refused(struct store *st, const char *id, const char *source,
    const char *reason, struct pv_why *why)
{
	char obj[AUDIT_OBJECT_MAX], *d;
	enum pv_err r;

	(void)snprintf(obj, sizeof(obj), "activation:%s", act_id_ok(id) ? id :
	    "?");
	d = act_detail(source, reason, NULL);
	r = audit_append(st, "activation.refused", obj, d != NULL ? d : "{}",
	    why);
	free(d);
	return r;
}

/* Writes |a| (state, attempts, payload) audited as |action|. */
static enum pv_err
act_write(struct store *st, const struct store_activation *a,
    const char *action, const char *source, const char *reason,
    struct pv_why *why)
{
	char *d = act_detail(source, reason, NULL);
	enum pv_err r;

	r = store_activation_update(st, a, action, d, why);
	free(d);
	return r;
}

/* Erases the payload of |a| (in memory: the next write erases the row's). */
static void
act_drop_payload(struct store_activation *a)
{
	store_activation_cleanup(a);
}

/* ---- create, look up --------------------------------------------------------------- */

enum pv_err
act_create(struct store *st, const struct secret_master *m,
    const struct act_policy *pol, const struct act_new *n,
    const struct act_code *code, struct act_info *out, struct pv_why *why)
{
	struct store_activation a;
	uint8_t key[32];
	size_t cl;
	enum pv_err r;

	pv_why_clear(why);
	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	if (!act_policy_ok(pol) || code == NULL || n == NULL ||
	    (unsigned)n->kind > STORE_ACT_SCEP ||
	    (n->kind == STORE_ACT_SCEP && n->payload != NULL) ||
	    (n->payload == NULL) != (n->payload_len == 0) ||
	    n->payload_len > STORE_ACT_PAYLOAD_MAX ||
	    (n->payload_name != NULL &&
	    strlen(n->payload_name) >= sizeof(a.payload_name)))
		return pv_why_set(why, PV_E_INVAL, "create activation: bad "
		    "arguments");
	cl = strnlen(code->v, sizeof(code->v));
	if (cl < ACT_CODE_MIN || cl > ACT_CODE_MAX)
		return pv_why_set(why, PV_E_INVAL, "create activation: the "
		    "code has %zu characters, expected %d to %d", cl,
		    ACT_CODE_MIN, ACT_CODE_MAX);
	if ((r = act_id_new(a.public_id)) != PV_OK)
		return pv_why_set(why, r, "create activation: no random id");
	a.derived_id = n->derived_id;
	a.kind = n->kind;
	a.state = STORE_ACT_OPEN;
	a.max_attempts = pol->max_attempts;
	a.expires_at = store_now(st) + (int64_t)pol->lifetime_s;
	if (n->payload_name != NULL)
		(void)snprintf(a.payload_name, sizeof(a.payload_name), "%s",
		    n->payload_name);
	if ((r = act_code_hash(m, code->v, a.code_hash)) != PV_OK) {
		r = pv_why_set(why, r, "create activation: code hash failed");
		goto out;
	}
	if (n->payload != NULL) {
		if ((r = act_payload_key(m, a.public_id, code->v, key)) !=
		    PV_OK ||
		    (r = act_gcm(false, key, a.public_id, a.kind, n->payload,
		    n->payload_len, &a.payload, &a.payload_len)) != PV_OK) {
			r = pv_why_set(why, r, "create activation: cannot seal "
			    "the payload");
			goto out;
		}
	}
	if ((r = store_activation_add(st, &a, n->detail_json, &a.id, why)) !=
	    PV_OK) {
		if (r == PV_E_EXISTS) {
			pv_why_clear(why);
			r = pv_why_set(why, r, "create activation: the code or "
			    "id is in use by another open activation; draw "
			    "another");
		}
		goto out;
	}
	a.created_at = store_now(st);
	act_info_from_row(&a, a.created_at, out);
	out->has_payload = n->payload != NULL;
	r = PV_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	store_activation_cleanup(&a);
	return r;
}

enum pv_err
act_lookup(struct store *st, const char *id, struct act_info *out,
    struct pv_why *why)
{
	struct store_activation a;
	enum pv_err r;

	pv_why_clear(why);
	memset(out, 0, sizeof(*out));
	if (!act_id_ok(id))
		return pv_why_set(why, PV_E_NO_RECORD, "no such activation");
	if ((r = store_activation_get(st, id, true, &a, why)) != PV_OK) {
		if (r == PV_E_NO_RECORD) {
			pv_why_clear(why);
			r = pv_why_set(why, r, "no such activation");
		}
		return r;
	}
	act_info_from_row(&a, store_now(st), out);
	store_activation_cleanup(&a);
	return PV_OK;
}

/* ---- collection ------------------------------------------------------------------------ */

/* Why a row that is not open refuses, as an error. */
static enum pv_err
act_not_open(const struct store_activation *a, int64_t now,
    struct pv_why *why)
{
	switch (a->state) {
	case STORE_ACT_LOCKED:
		return pv_why_set(why, PV_E_BLOCKED, "activation %s is locked "
		    "after %u wrong codes", a->public_id, a->attempts);
	case STORE_ACT_COLLECTED:
		return pv_why_set(why, PV_E_STATE, "activation %s was already "
		    "used", a->public_id);
	case STORE_ACT_EXPIRED:
		return pv_why_set(why, PV_E_STATE, "activation %s has expired",
		    a->public_id);
	case STORE_ACT_CANCELLED:
		return pv_why_set(why, PV_E_STATE, "activation %s was "
		    "cancelled", a->public_id);
	case STORE_ACT_OPEN:
		break;
	}
	if (now >= a->expires_at)
		return pv_why_set(why, PV_E_STATE, "activation %s has expired",
		    a->public_id);
	return PV_OK;
}

/*
 * The collection in the open transaction; |*commit| says whether what was
 * done (an attempt counted, an expiry, an audit row) must be committed
 * even though an error is returned.
 */
static enum pv_err
act_collect_tx(struct store *st, const struct secret_master *m,
    const char *id, const char *code, const char *source, uint8_t **out,
    size_t *out_len, struct act_info *info, bool *commit,
    struct pv_why *why)
{
	struct store_activation a;
	uint8_t h[32], key[32];
	int64_t now = store_now(st);
	size_t cl;
	bool right;
	enum pv_err r, e;

	memset(&a, 0, sizeof(a));
	memset(h, 0, sizeof(h));
	*commit = false;
	if ((r = store_activation_get(st, id, true, &a, why)) != PV_OK) {
		if (r != PV_E_NO_RECORD)
			return r;
		pv_why_clear(why);
		if ((r = act_refused(st, id, source, "no such activation",
		    why)) != PV_OK)
			return r;
		*commit = true;
		return pv_why_set(why, PV_E_NO_RECORD, "no such activation");
	}
	if (a.kind == STORE_ACT_SCEP) {
		if ((r = act_refused(st, id, source, "a scep activation has "
		    "nothing to collect", why)) == PV_OK) {
			*commit = true;
			r = pv_why_set(why, PV_E_STATE, "activation %s is for "
			    "SCEP enrolment: nothing to collect", a.public_id);
		}
		goto out;
	}
	if (a.state != STORE_ACT_OPEN) {
		if ((r = act_refused(st, id, source, store_act_state_name(
		    a.state), why)) == PV_OK) {
			*commit = true;
			r = act_not_open(&a, now, why);
		}
		goto out;
	}
	if (now >= a.expires_at) {
		act_drop_payload(&a);
		a.state = STORE_ACT_EXPIRED;
		if ((r = act_write(st, &a, "activation.expire", source,
		    "attempt after expiry", why)) == PV_OK) {
			*commit = true;
			r = pv_why_set(why, PV_E_STATE, "activation %s has "
			    "expired", a.public_id);
		}
		goto out;
	}
	cl = code != NULL ? strnlen(code, ACT_CODE_MAX + 1) : 0;
	if ((r = act_code_hash(m, code != NULL ? code : "", h)) != PV_OK)
		goto out;
	right = cl >= ACT_CODE_MIN && cl <= ACT_CODE_MAX &&
	    CRYPTO_memcmp(h, a.code_hash, 32) == 0;
	if (!right) {
		a.attempts++;
		if (a.attempts >= a.max_attempts) {
			act_drop_payload(&a);
			a.state = STORE_ACT_LOCKED;
		}
		e = a.state == STORE_ACT_LOCKED ? PV_E_BLOCKED :
		    PV_E_AUTH_FAILED;
		if ((r = act_write(st, &a, a.state == STORE_ACT_LOCKED ?
		    "activation.lock" : "activation.attempt", source,
		    "wrong code", why)) != PV_OK)
			goto out;
		*commit = true;
		if (e == PV_E_BLOCKED)
			r = pv_why_set(why, e, "wrong code: activation %s is "
			    "now locked", a.public_id);
		else
			r = pv_why_set(why, e, "wrong code: %u %s left",
			    a.max_attempts - a.attempts, a.max_attempts -
			    a.attempts == 1 ? "try" : "tries");
		goto out;
	}
	if (a.payload == NULL) {
		if ((r = act_refused(st, id, source, "handed over by file",
		    why)) == PV_OK) {
			*commit = true;
			r = pv_why_set(why, PV_E_STATE, "activation %s holds "
			    "nothing to collect: the package was handed over "
			    "as a file", a.public_id);
		}
		goto out;
	}
	if ((r = act_payload_key(m, a.public_id, code, key)) != PV_OK)
		goto out;
	r = act_gcm(true, key, a.public_id, a.kind, a.payload, a.payload_len,
	    out, out_len);
	OPENSSL_cleanse(key, sizeof(key));
	if (r != PV_OK) {
		if (r == PV_E_VERIFY)
			r = pv_why_set(why, r, "activation %s: the stored "
			    "package does not open (altered)", a.public_id);
		goto out;
	}
	act_drop_payload(&a);
	a.state = STORE_ACT_COLLECTED;
	if ((r = act_write(st, &a, "activation.collect", source, NULL, why)) !=
	    PV_OK) {
		act_payload_free(*out, *out_len);
		*out = NULL;
		*out_len = 0;
		goto out;
	}
	*commit = true;
	r = PV_OK;
out:
	if (info != NULL)
		act_info_from_row(&a, now, info);
	store_activation_cleanup(&a);
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}

enum pv_err
act_collect(struct store *st, const struct secret_master *m, const char *id,
    const char *code, const char *source, uint8_t **out, size_t *out_len,
    struct act_info *info, struct pv_why *why)
{
	struct pv_why cwhy;
	bool commit = false;
	enum pv_err r, c;

	pv_why_clear(why);
	*out = NULL;
	*out_len = 0;
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	r = act_collect_tx(st, m, act_id_ok(id) ? id : "?", code, source, out,
	    out_len, info, &commit, why);
	if (!commit) {
		store_rollback(st);
		return r;
	}
	pv_why_clear(&cwhy);
	if ((c = store_commit(st, &cwhy)) != PV_OK) {
		act_payload_free(*out, *out_len);
		*out = NULL;
		*out_len = 0;
		pv_why_clear(why);
		return pv_why_set(why, c, "%s", cwhy.msg);
	}
	return r;
}

/* ---- SCEP -------------------------------------------------------------------------------- */

enum pv_err
act_scep_find(struct store *st, const struct secret_master *m,
    const char *code, struct act_info *out, struct pv_why *why)
{
	struct store_activation a;
	uint8_t h[32];
	enum pv_err r;

	pv_why_clear(why);
	memset(out, 0, sizeof(*out));
	if (code == NULL || strnlen(code, ACT_CODE_MAX + 1) < ACT_CODE_MIN ||
	    strnlen(code, ACT_CODE_MAX + 1) > ACT_CODE_MAX)
		return pv_why_set(why, PV_E_NO_RECORD, "no open SCEP "
		    "activation for this code");
	if ((r = act_code_hash(m, code, h)) != PV_OK)
		return r;
	r = store_activation_find_code(st, h, false, &a, why);
	if (r == PV_OK && (a.kind != STORE_ACT_SCEP ||
	    store_now(st) >= a.expires_at))
		r = PV_E_NO_RECORD;
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, r, "no open SCEP activation for this code");
	} else if (r == PV_OK)
		act_info_from_row(&a, store_now(st), out);
	store_activation_cleanup(&a);
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}

enum pv_err
act_scep_redeem(struct store *st, const struct secret_master *m,
    const char *code, const char *source, struct act_info *out,
    struct pv_why *why)
{
	struct store_activation a;
	uint8_t h[32];
	int64_t now = store_now(st);
	size_t cl = code != NULL ? strnlen(code, ACT_CODE_MAX + 1) : 0;
	bool commit = false;
	enum pv_err r;

	pv_why_clear(why);
	memset(&a, 0, sizeof(a));
	memset(h, 0, sizeof(h));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if (cl < ACT_CODE_MIN || cl > ACT_CODE_MAX)
		r = PV_E_NO_RECORD;
	else if ((r = act_code_hash(m, code, h)) == PV_OK)
		r = store_activation_find_code(st, h, false, &a, why);
	if (r == PV_OK && a.kind != STORE_ACT_SCEP)
		r = PV_E_NO_RECORD;
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		if ((r = act_refused(st, "?", source, "SCEP challenge matches "
		    "no open scep activation", why)) == PV_OK) {
			commit = true;
			r = pv_why_set(why, PV_E_AUTH_FAILED, "the SCEP "
			    "challenge is not the code of an open activation");
		}
		goto out;
	}
	if (r != PV_OK)
		goto out;
	if (now >= a.expires_at) {
		a.state = STORE_ACT_EXPIRED;
		if ((r = act_write(st, &a, "activation.expire", source,
		    "SCEP request after expiry", why)) == PV_OK) {
			commit = true;
			r = pv_why_set(why, PV_E_STATE, "activation %s has "
			    "expired", a.public_id);
		}
		goto out;
	}
	a.state = STORE_ACT_COLLECTED;
	if ((r = act_write(st, &a, "activation.redeem", source, NULL, why)) ==
	    PV_OK)
		commit = true;
out:
	if (out != NULL)
		act_info_from_row(&a, now, out);
	store_activation_cleanup(&a);
	OPENSSL_cleanse(h, sizeof(h));
	if (!commit) {
		store_rollback(st);
		return r;
	}
	if (r == PV_OK)
		return store_commit(st, why);
	(void)store_commit(st, NULL);
	return r;
}

/* ---- cancel, sweep -------------------------------------------------------------------- */

enum pv_err
act_cancel(struct store *st, const char *id, const char *reason,
    struct pv_why *why)
{
	struct store_activation a;
	enum pv_err r;

	pv_why_clear(why);
	if (!act_id_ok(id))
		return pv_why_set(why, PV_E_NO_RECORD, "no such activation");
	if ((r = store_activation_get(st, id, false, &a, why)) != PV_OK)
		return r;
	if (a.state != STORE_ACT_OPEN) {
		r = pv_why_set(why, PV_E_STATE, "activation %s is %s, not "
		    "open", id, store_act_state_name(a.state));
		goto out;
	}
	a.state = STORE_ACT_CANCELLED;
	r = act_write(st, &a, "activation.cancel", NULL,
	    reason != NULL ? reason : "", why);
out:
	store_activation_cleanup(&a);
	return r;
}

/* Moves every OPEN activation of |list| to |state|. */
static enum pv_err
act_close_list(struct store *st, struct store_activation *list, size_t n,
    enum store_act_state state, const char *action, const char *reason,
    size_t *n_out, struct pv_why *why)
{
	size_t i, done = 0;
	enum pv_err r = PV_OK;

	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	for (i = 0; i < n && r == PV_OK; i++) {
		if (list[i].state != STORE_ACT_OPEN)
			continue;
		act_drop_payload(&list[i]);
		list[i].state = state;
		if ((r = act_write(st, &list[i], action, NULL, reason, why)) ==
		    PV_OK)
			done++;
	}
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	if ((r = store_commit(st, why)) == PV_OK && n_out != NULL)
		*n_out = done;
	return r;
}

enum pv_err
act_cancel_derived(struct store *st, int64_t derived_id, const char *reason,
    size_t *n_out, struct pv_why *why)
{
	struct store_activation *list = NULL;
	size_t n = 0;
	enum pv_err r;

	if (n_out != NULL)
		*n_out = 0;
	if ((r = store_activation_list_derived(st, derived_id, &list, &n,
	    why)) != PV_OK)
		return r;
	r = act_close_list(st, list, n, STORE_ACT_CANCELLED,
	    "activation.cancel", reason != NULL ? reason : "", n_out, why);
	store_activation_free_list(list, n);
	return r;
}

enum pv_err
act_sweep(struct store *st, size_t *n_out, struct pv_why *why)
{
	struct store_activation *list = NULL;
	size_t n = 0;
	enum pv_err r;

	if (n_out != NULL)
		*n_out = 0;
	if ((r = store_activation_list_overdue(st, store_now(st), &list, &n,
	    why)) != PV_OK)
		return r;
	r = act_close_list(st, list, n, STORE_ACT_EXPIRED, "activation.expire",
	    "expired unused", n_out, why);
	store_activation_free_list(list, n);
	return r;
}
