/*
 * state.c: the persistent state of a virtual card and its file format.
 *
 * File format, version 1: the four bytes "PVVC", a version byte 01, then a
 * sequence of BER-TLV elements (apdu/tlv.h, minimal lengths):
 *
 *   80 profile (1)          81 serial (4, big-endian)   82 version (3)
 *   83 PIN (8, FF-padded)   84 PUK (8)
 *   85 counters (4): PIN max, PIN left, PUK max, PUK left
 *   86 flags (1): 01 PIN default, 02 PUK default, 04 management key default
 *   87 management key: algorithm (1), touch policy (1), key (16-32)
 *   A0 key, once per occupied slot: { 80 ref, 81 alg, 82 PIN policy,
 *        83 touch policy, 84 origin, 85 PKCS#8 PrivateKeyInfo DER }
 *   A1 data object, once per object: { 80 tag (1-3 bytes), 81 content }
 *   8F SHA-256 of every byte before this element: last, exactly once
 *
 * Every scalar element must appear exactly once; unknown tags are an error
 * (a later format gets a new version byte); the digest catches a cut or
 * damaged file.  The file holds the PIN, PUK,
 * management key and private keys, so it is written 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "apdu/piv_obj.h"
#include "apdu/tlv.h"
#include "vcard/crypto.h"
#include "vcard/state.h"

#define STATE_MAGIC		"PVVC"
#define STATE_VERSION		0x01
#define STATE_FILE_MAX		(16u << 20)
#define STATE_MAX_OBJS		256
#define STATE_DIGEST_LEN	32
#define STATE_TRAILER_LEN	(2 + STATE_DIGEST_LEN)

static bool
digest(const uint8_t *p, size_t n, uint8_t out[STATE_DIGEST_LEN])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
	    len == STATE_DIGEST_LEN;
}

/* Slot order: 9A 9C 9D 9E, retired 82..95, F9. */
static uint8_t
slot_ref(size_t i)
{
	if (i < PIV_MAIN_KEYS)
		return piv_main_key[i];
	if (i < 24)
		return (uint8_t)(0x82 + (i - 4));
	return VC_REF_ATTEST;
}

const char *
vc_profile_name(enum vc_profile p)
{
	switch (p) {
	case VC_PROFILE_USB_KEY: return "usb-key";
	case VC_PROFILE_PIV_CARD: return "piv-card";
	case VC_PROFILE_MOBILE: return "mobile";
	default: return "none";
	}
}

enum vc_profile
vc_profile_parse(const char *name)
{
	if (strcmp(name, "usb-key") == 0)
		return VC_PROFILE_USB_KEY;
	if (strcmp(name, "piv-card") == 0)
		return VC_PROFILE_PIV_CARD;
	if (strcmp(name, "mobile") == 0)
		return VC_PROFILE_MOBILE;
	return VC_PROFILE_NONE;
}

void
vc_key_clear(struct vc_key *k)
{
	uint8_t ref = k->ref;

	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
	k->ref = ref;
}

static void
init_slots(struct vc_state *st)
{
	for (size_t i = 0; i < VC_N_SLOTS; i++) {
		memset(&st->keys[i], 0, sizeof(st->keys[i]));
		st->keys[i].ref = slot_ref(i);
	}
}

/* Factory management key: 3DES 0102..08 x3; AES-192 from firmware 5.7. */
static void
default_mgm(struct vc_state *st)
{
	static const uint8_t k[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	bool aes = st->profile == VC_PROFILE_USB_KEY &&
	    (st->version[0] > 5 || (st->version[0] == 5 && st->version[1] >= 7));

	OPENSSL_cleanse(st->mgm_key, sizeof(st->mgm_key));
	for (size_t i = 0; i < 3; i++)
		memcpy(st->mgm_key + 8 * i, k, sizeof(k));
	st->mgm_len = 24;
	st->mgm_alg = aes ? VC_ALG_AES192 : VC_ALG_3DES;
	st->mgm_touch = 0xff;
	st->mgm_default = true;
}

static void
default_pins(struct vc_state *st)
{
	memset(st->pin, 0xff, sizeof(st->pin));
	memcpy(st->pin, "123456", 6);
	memcpy(st->puk, "12345678", 8);
	st->pin_max = st->pin_left = VC_DEFAULT_RETRIES;
	st->puk_max = st->puk_left = VC_DEFAULT_RETRIES;
	st->pin_default = st->puk_default = true;
}

static void
free_objs(struct vc_state *st, uint32_t keep)
{
	size_t j = 0;

	for (size_t i = 0; i < st->n_objs; i++) {
		if (keep != 0 && st->objs[i].tag == keep) {
			st->objs[j++] = st->objs[i];
			continue;
		}
		buf_free_secret(st->objs[i].data, st->objs[i].len);
	}
	st->n_objs = j;
	if (j == 0) {
		free(st->objs);
		st->objs = NULL;
	}
}

void
vc_state_cleanup(struct vc_state *st)
{
	for (size_t i = 0; i < VC_N_SLOTS; i++)
		EVP_PKEY_free(st->keys[i].pkey);
	free_objs(st, 0);
	OPENSSL_cleanse(st, sizeof(*st));
}

void
vc_state_reset_piv(struct vc_state *st)
{
	default_pins(st);
	default_mgm(st);
	for (size_t i = 0; i < VC_N_SLOTS; i++)
		if (st->keys[i].ref != VC_REF_ATTEST)
			vc_key_clear(&st->keys[i]);
	free_objs(st, 0x5fff01);
}

struct vc_key *
vc_state_key(struct vc_state *st, uint8_t ref)
{
	for (size_t i = 0; i < VC_N_SLOTS; i++)
		if (st->keys[i].ref == ref)
			return &st->keys[i];
	return NULL;
}

const struct vc_obj *
vc_state_obj(const struct vc_state *st, uint32_t tag)
{
	for (size_t i = 0; i < st->n_objs; i++)
		if (st->objs[i].tag == tag)
			return &st->objs[i];
	return NULL;
}

enum pv_err
vc_state_obj_put(struct vc_state *st, uint32_t tag, const uint8_t *data,
    size_t len)
{
	struct vc_obj *o = NULL, *grown;
	uint8_t *copy = NULL;

	for (size_t i = 0; i < st->n_objs; i++)
		if (st->objs[i].tag == tag)
			o = &st->objs[i];
	if (len == 0) {
		if (o != NULL) {
			buf_free_secret(o->data, o->len);
			*o = st->objs[st->n_objs - 1];
			st->n_objs--;
		}
		return PV_OK;
	}
	if ((copy = malloc(len)) == NULL)
		return PV_E_NOMEM;
	memcpy(copy, data, len);
	if (o == NULL) {
		if (st->n_objs >= STATE_MAX_OBJS) {
			free(copy);
			return PV_E_NO_SPACE;
		}
		grown = realloc(st->objs, (st->n_objs + 1) * sizeof(*grown));
		if (grown == NULL) {
			free(copy);
			return PV_E_NOMEM;
		}
		st->objs = grown;
		o = &st->objs[st->n_objs++];
		o->tag = tag;
	} else {
		buf_free_secret(o->data, o->len);
	}
	o->data = copy;
	o->len = len;
	return PV_OK;
}

/* The certificate container for the attestation certificate (5FFF01). */
static enum pv_err
make_attestation(struct vc_state *st)
{
	struct buf_out cert, obj;
	struct vc_key *k = vc_state_key(st, VC_REF_ATTEST);
	EVP_PKEY *key = NULL;
	size_t mark;
	enum pv_err r;

	memset(&obj, 0, sizeof(obj));
	if (!buf_out_alloc(&cert, 1024, 8192))
		return PV_E_NOMEM;
	if ((r = vc_attest_ca(st->serial, &key, &cert)) != PV_OK)
		goto out;
	r = PV_E_NOMEM;
	if (!buf_out_alloc(&obj, cert.len + 16, 8192) ||
	    !tlv_open(&obj, 0x70, &mark) ||
	    !buf_put(&obj, cert.p, cert.len) || !tlv_close(&obj, mark) ||
	    !tlv_put(&obj, 0x71, "\x00", 1) || !tlv_put(&obj, 0xfe, NULL, 0))
		goto out;
	if ((r = vc_state_obj_put(st, 0x5fff01, obj.p, obj.len)) != PV_OK)
		goto out;
	vc_key_clear(k);
	k->alg = vc_alg_of_pkey(key);
	k->pkey = key;
	key = NULL;
	k->pin_policy = VC_PIN_POLICY_NEVER;
	k->touch_policy = VC_TOUCH_POLICY_NEVER;
	k->origin = VC_ORIGIN_IMPORTED;
	r = PV_OK;
out:
	EVP_PKEY_free(key);
	buf_out_cleanup(&cert);
	buf_out_cleanup(&obj);
	return r;
}

enum pv_err
vc_state_factory(struct vc_state *st, enum vc_profile profile,
    uint32_t serial, const uint8_t *version)
{
	static const uint8_t v543[3] = { 5, 4, 3 };
	enum pv_err r;

	memset(st, 0, sizeof(*st));
	st->profile = profile;
	st->serial = serial;
	memcpy(st->version, version != NULL ? version : v543, 3);
	init_slots(st);
	default_pins(st);
	default_mgm(st);
	if (profile == VC_PROFILE_USB_KEY &&
	    (r = make_attestation(st)) != PV_OK) {
		vc_state_cleanup(st);
		return r;
	}
	return PV_OK;
}

/* ---- encoding ------------------------------------------------------- */

bool
vc_state_encode(const struct vc_state *st, struct buf_out *o)
{
	uint8_t b4[4], flags, mgm[2 + VC_MGM_MAX];
	size_t mark, inner;
	bool ok;

	buf_put(o, STATE_MAGIC, 4);
	buf_put_u8(o, STATE_VERSION);
	tlv_put(o, 0x80, (const uint8_t[]){ (uint8_t)st->profile }, 1);
	b4[0] = (uint8_t)(st->serial >> 24);
	b4[1] = (uint8_t)(st->serial >> 16);
	b4[2] = (uint8_t)(st->serial >> 8);
	b4[3] = (uint8_t)st->serial;
	tlv_put(o, 0x81, b4, 4);
	tlv_put(o, 0x82, st->version, 3);
	tlv_put(o, 0x83, st->pin, VC_PIN_LEN);
	tlv_put(o, 0x84, st->puk, VC_PIN_LEN);
	b4[0] = st->pin_max;
	b4[1] = st->pin_left;
	b4[2] = st->puk_max;
	b4[3] = st->puk_left;
	tlv_put(o, 0x85, b4, 4);
	flags = (uint8_t)((st->pin_default ? 1 : 0) |
	    (st->puk_default ? 2 : 0) | (st->mgm_default ? 4 : 0));
	tlv_put(o, 0x86, &flags, 1);
	mgm[0] = st->mgm_alg;
	mgm[1] = st->mgm_touch;
	memcpy(mgm + 2, st->mgm_key, st->mgm_len <= VC_MGM_MAX ?
	    st->mgm_len : VC_MGM_MAX);
	tlv_put(o, 0x87, mgm, 2 + (size_t)st->mgm_len);
	OPENSSL_cleanse(mgm, sizeof(mgm));
	for (size_t i = 0; i < VC_N_SLOTS; i++) {
		const struct vc_key *k = &st->keys[i];

		if (k->alg == 0 || k->pkey == NULL)
			continue;
		tlv_open(o, 0xa0, &mark);
		tlv_put(o, 0x80, &k->ref, 1);
		tlv_put(o, 0x81, &k->alg, 1);
		tlv_put(o, 0x82, &k->pin_policy, 1);
		tlv_put(o, 0x83, &k->touch_policy, 1);
		tlv_put(o, 0x84, &k->origin, 1);
		tlv_open(o, 0x85, &inner);
		vc_pkcs8_put(k->pkey, o);
		tlv_close(o, inner);
		tlv_close(o, mark);
	}
	for (size_t i = 0; i < st->n_objs; i++) {
		const struct vc_obj *ob = &st->objs[i];
		uint8_t t[3];
		size_t tl = tlv_tag_len(ob->tag);

		for (size_t j = 0; j < tl; j++)
			t[j] = (uint8_t)(ob->tag >> (8 * (tl - 1 - j)));
		tlv_open(o, 0xa1, &mark);
		tlv_put(o, 0x80, t, tl);
		tlv_put(o, 0x81, ob->data, ob->len);
		tlv_close(o, mark);
	}
	ok = buf_out_ok(o);
	if (ok) {
		uint8_t d[STATE_DIGEST_LEN];

		ok = digest(o->p, o->len, d) &&
		    tlv_put(o, 0x8f, d, sizeof(d));
	}
	return ok;
}

static bool
get_u8_exact(const struct buf_cur *v, uint8_t *out)
{
	return buf_copy_exact(v, out, 1);
}

static enum pv_err
decode_key(struct buf_cur v, struct vc_state *st, struct pv_why *why)
{
	struct buf_cur e;
	struct vc_key *k;
	uint8_t ref, alg, pinp, touch, origin;
	EVP_PKEY *pkey = NULL;
	enum pv_err r;

	if (!tlv_get(&v, 0x80, &e) || !get_u8_exact(&e, &ref) ||
	    (k = vc_state_key(st, ref)) == NULL)
		return pv_why_set(why, PV_E_MALFORMED, "key: bad reference");
	if (k->alg != 0)
		return pv_why_set(why, PV_E_MALFORMED,
		    "key %02x: stored twice", ref);
	if (!tlv_get(&v, 0x81, &e) || !get_u8_exact(&e, &alg) ||
	    vc_alg_bits(alg) == 0 ||
	    !tlv_get(&v, 0x82, &e) || !get_u8_exact(&e, &pinp) ||
	    pinp < 1 || pinp > 3 ||
	    !tlv_get(&v, 0x83, &e) || !get_u8_exact(&e, &touch) ||
	    touch < 1 || touch > 3 ||
	    !tlv_get(&v, 0x84, &e) || !get_u8_exact(&e, &origin) ||
	    origin < 1 || origin > 2 || !tlv_get(&v, 0x85, &e) ||
	    !buf_done(&v))
		return pv_why_set(why, PV_E_MALFORMED,
		    "key %02x: bad or missing attribute", ref);
	if ((r = vc_pkcs8_get(e.p, e.len, &pkey)) != PV_OK)
		return pv_why_set(why, r, "key %02x: bad PKCS#8", ref);
	if (vc_alg_of_pkey(pkey) != alg) {
		EVP_PKEY_free(pkey);
		return pv_why_set(why, PV_E_MALFORMED,
		    "key %02x: key does not match algorithm %02x", ref, alg);
	}
	k->alg = alg;
	k->pin_policy = pinp;
	k->touch_policy = touch;
	k->origin = origin;
	k->pkey = pkey;
	return PV_OK;
}

static enum pv_err
decode_obj(struct buf_cur v, struct vc_state *st, struct pv_why *why)
{
	struct buf_cur t, d;
	uint32_t tag = 0;
	uint8_t b;

	if (!tlv_get(&v, 0x80, &t) || t.len < 1 || t.len > 3 ||
	    !tlv_get(&v, 0x81, &d) || !buf_done(&v) || d.len == 0 ||
	    d.len > VC_OBJ_MAX)
		return pv_why_set(why, PV_E_MALFORMED, "object: bad element");
	while (buf_get_u8(&t, &b))
		tag = (tag << 8) | b;
	if (vc_state_obj(st, tag) != NULL)
		return pv_why_set(why, PV_E_MALFORMED,
		    "object %06x: stored twice", tag);
	if (st->n_objs >= STATE_MAX_OBJS)
		return pv_why_set(why, PV_E_MALFORMED, "too many objects");
	return vc_state_obj_put(st, tag, d.p, d.len);
}

enum pv_err
vc_state_decode(const uint8_t *p, size_t len, struct vc_state *st,
    struct pv_why *why)
{
	struct buf_cur c, v;
	uint32_t tag;
	unsigned seen = 0;
	uint8_t ver = 0, b, d[STATE_DIGEST_LEN];
	enum pv_err r = PV_E_MALFORMED;

	memset(st, 0, sizeof(*st));
	init_slots(st);
	buf_cur_init(&c, p, len);
	if (!buf_eq_mem(&(struct buf_cur){ c.p, c.len < 4 ? c.len : 4 },
	    STATE_MAGIC, 4)) {
		r = pv_why_set(why, PV_E_MALFORMED, "not a vcard state file");
		goto out;
	}
	(void)buf_skip(&c, 4);
	if (!buf_get_u8(&c, &ver) || ver != STATE_VERSION) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "state file version %u not supported", ver);
		goto out;
	}
	/* The digest first: nothing of a cut or damaged file is trusted. */
	if (c.len < STATE_TRAILER_LEN ||
	    p[len - STATE_TRAILER_LEN] != 0x8f ||
	    p[len - STATE_TRAILER_LEN + 1] != STATE_DIGEST_LEN ||
	    !digest(p, len - STATE_TRAILER_LEN, d) ||
	    CRYPTO_memcmp(d, p + len - STATE_DIGEST_LEN, sizeof(d)) != 0) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "state file is cut short or damaged (digest mismatch)");
		goto out;
	}
	c.len -= STATE_TRAILER_LEN;
	while (!buf_done(&c)) {
		unsigned bit = 0;

		if (!tlv_get_any(&c, &tag, &v)) {
			r = pv_why_set(why, PV_E_MALFORMED, "truncated element");
			goto out;
		}
		if (tag >= 0x80 && tag <= 0x87) {
			bit = 1u << (tag - 0x80);
			if (seen & bit) {
				r = pv_why_set(why, PV_E_MALFORMED,
				    "element %02x twice", tag);
				goto out;
			}
			seen |= bit;
		}
		switch (tag) {
		case 0x80:
			if (!get_u8_exact(&v, &b) ||
			    (b != VC_PROFILE_USB_KEY && b != VC_PROFILE_PIV_CARD &&
			    b != VC_PROFILE_MOBILE))
				goto bad;
			st->profile = (enum vc_profile)b;
			break;
		case 0x81:
			if (v.len != 4 || !buf_get_u32(&v, &st->serial))
				goto bad;
			break;
		case 0x82:
			if (!buf_copy_exact(&v, st->version, 3))
				goto bad;
			break;
		case 0x83:
			if (!buf_copy_exact(&v, st->pin, VC_PIN_LEN))
				goto bad;
			break;
		case 0x84:
			if (!buf_copy_exact(&v, st->puk, VC_PIN_LEN))
				goto bad;
			break;
		case 0x85:
			if (v.len != 4 || !buf_get_u8(&v, &st->pin_max) ||
			    !buf_get_u8(&v, &st->pin_left) ||
			    !buf_get_u8(&v, &st->puk_max) ||
			    !buf_get_u8(&v, &st->puk_left) ||
			    st->pin_max == 0 || st->puk_max == 0 ||
			    st->pin_left > st->pin_max ||
			    st->puk_left > st->puk_max)
				goto bad;
			break;
		case 0x86:
			if (!get_u8_exact(&v, &b) || (b & ~7u) != 0)
				goto bad;
			st->pin_default = (b & 1) != 0;
			st->puk_default = (b & 2) != 0;
			st->mgm_default = (b & 4) != 0;
			break;
		case 0x87:
			if (!buf_get_u8(&v, &st->mgm_alg) ||
			    !buf_get_u8(&v, &st->mgm_touch) ||
			    vc_sym_key_len(st->mgm_alg) != v.len ||
			    !buf_copy_exact(&v, st->mgm_key, v.len))
				goto bad;
			st->mgm_len = (uint8_t)v.len;
			break;
		case 0xa0:
			if ((r = decode_key(v, st, why)) != PV_OK)
				goto out;
			break;
		case 0xa1:
			if ((r = decode_obj(v, st, why)) != PV_OK)
				goto out;
			break;
		default:
			r = pv_why_set(why, PV_E_MALFORMED,
			    "unknown element %02x", tag);
			goto out;
		}
		continue;
bad:
		r = pv_why_set(why, PV_E_MALFORMED, "bad element %02x", tag);
		goto out;
	}
	if (seen != 0xff) {
		r = pv_why_set(why, PV_E_MALFORMED, "required element missing");
		goto out;
	}
	r = PV_OK;
out:
	if (r != PV_OK)
		vc_state_cleanup(st);
	return r;
}

/* ---- files ------------------------------------------------------------ */

enum pv_err
vc_state_load(const char *path, struct vc_state *st, struct pv_why *why)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;
	enum pv_err r = PV_E_IO;

	memset(st, 0, sizeof(*st));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return PV_E_NO_FILE;
		return pv_why_set(why, PV_E_IO, "%s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size > STATE_FILE_MAX) {
		r = pv_why_set(why, PV_E_IO, "%s: not a regular file of "
		    "sensible size", path);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = pv_why_set(why, PV_E_IO, "%s: short read", path);
			goto out;
		}
		got += (size_t)n;
	}
	if ((r = vc_state_decode(buf, got, st, why)) != PV_OK)
		pv_why_prefix(why, "%s", path);
out:
	buf_free_secret(buf, got);
	close(fd);
	return r;
}

static bool
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

enum pv_err
vc_state_save(const char *path, const struct vc_state *st,
    struct pv_why *why)
{
	struct buf_out o;
	char tmp[4096];
	int fd = -1, n;
	enum pv_err r = PV_E_IO;

	if (!buf_out_alloc(&o, 4096, STATE_FILE_MAX))
		return PV_E_NOMEM;
	if (!vc_state_encode(st, &o)) {
		r = pv_why_set(why, PV_E_NOMEM, "cannot encode the state");
		goto out;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		r = pv_why_set(why, PV_E_IO, "%s: path too long", path);
		goto out;
	}
	(void)unlink(tmp);	/* a leftover of an earlier process with our pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (!write_all(fd, o.p, o.len) || fsync(fd) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = pv_why_set(why, PV_E_IO, "rename to %s: %s", path,
		    strerror(errno));
		goto out;
	}
	r = PV_OK;
out:
	if (fd >= 0)
		close(fd);
	if (r != PV_OK)
		(void)unlink(tmp);
	buf_out_cleanup(&o);
	return r;
}
