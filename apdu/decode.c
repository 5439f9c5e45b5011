/*
 * decode.c: the conversation explainer of decode.h.
 *
 * The input is hostile (a trace from any card): every APDU is parsed with
 * apdu_parse_cmd and every data field through the TLV cursor; nothing in
 * it is trusted to be well formed, and what does not parse is shown as
 * hex with a note.  Redaction follows redact.h with a conversation
 * context, so chained blocks and GET RESPONSE rounds are covered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/apdu.h"
#include "apdu/decode.h"
#include "apdu/fascn.h"
#include "apdu/redact.h"
#include "apdu/sw.h"
#include "apdu/tlv.h"

#define DEC_MAX_DEPTH	8	/* TLV nesting shown */
#define DEC_HEX_SHOWN	48	/* bytes of a long value shown in text */
#define DEC_MAX_CHAIN	(1u << 20)	/* chained command data kept */

/* Bytes with a "masked in the input" flag per byte. */
struct mbytes {
	uint8_t *p;
	uint8_t *m;
	size_t len;
	size_t cap;
};

struct dec {
	struct buf_out *out;
	bool json;
	bool oom;
	struct redact_ctx rctx;
	size_t n;			/* exchanges shown */
	/* the pending command */
	struct mbytes cmd;
	size_t cmd_line;
	bool have_cmd;
	/* command chaining */
	bool chain_on;
	uint8_t chain_ins;
	size_t chain_first, chain_block;
	bool chain_masked;
	uint32_t chain_obj;
	struct mbytes chain;
	/* response reassembly over 61XX */
	bool acc_on;
	size_t acc_first;
	uint8_t acc_ins;
	uint8_t acc_p1, acc_p2;
	uint32_t acc_obj;
	bool acc_masked;
	struct mbytes acc;
};

/* Context for naming TLV tags. */
struct tctx {
	uint8_t ins;
	uint32_t obj;
	bool is_cmd;
};

/* ---- output ------------------------------------------------------------ */

static void dec_out(struct dec *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dec_out(struct dec *d, const char *fmt, ...)
{
	va_list ap;
	uint8_t *dst;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if (!buf_out_reserve(d->out, (size_t)n + 1, &dst))
		return;
	va_start(ap, fmt);
	(void)vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
	va_end(ap);
	d->out->len--;		/* drop the NUL */
}

static void
dec_puts(struct dec *d, const char *s)
{
	buf_put(d->out, s, strlen(s));
}

/* A JSON string literal. */
static void
dec_jstr(struct dec *d, const char *s)
{
	const unsigned char *p;

	buf_put_u8(d->out, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			dec_out(d, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			dec_out(d, "\\u%04x", *p);
		else
			buf_put_u8(d->out, *p);
	}
	buf_put_u8(d->out, '"');
}

static void
dec_indent(struct dec *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		dec_puts(d, "  ");
}

/*
 * Hex of p[0..n), "**" for masked bytes: flags in |m| (may be NULL) or
 * index >= |mask_from|.  At most |limit| bytes, then "...".
 */
static void
dec_hex(struct dec *d, const uint8_t *p, const uint8_t *m, size_t n,
    size_t mask_from, bool spaced, size_t limit)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n && i < limit; i++) {
		bool masked = i >= mask_from || (m != NULL && m[i]);
		char b[3];

		b[0] = masked ? '*' : hx[p[i] >> 4];
		b[1] = masked ? '*' : hx[p[i] & 0xf];
		b[2] = ' ';
		buf_put(d->out, b, spaced && i + 1 < n ? 3 : 2);
	}
	if (i < n)
		dec_puts(d, "...");
}

/* ---- masked byte strings ----------------------------------------------- */

static bool
mb_put(struct mbytes *b, const uint8_t *p, const uint8_t *m, size_t n,
    size_t max)
{
	size_t ncap;
	uint8_t *np, *nm;

	if (n > max || b->len > max - n)
		return false;
	if (b->len + n > b->cap) {
		ncap = b->cap ? b->cap : 64;
		while (ncap < b->len + n)
			ncap *= 2;
		if ((np = malloc(ncap)) == NULL)
			return false;
		if ((nm = malloc(ncap)) == NULL) {
			free(np);
			return false;
		}
		if (b->len > 0) {
			memcpy(np, b->p, b->len);
			memcpy(nm, b->m, b->len);
		}
		buf_free_secret(b->p, b->cap);
		free(b->m);
		b->p = np;
		b->m = nm;
		b->cap = ncap;
	}
	if (n > 0) {
		memcpy(b->p + b->len, p, n);
		if (m != NULL)
			memcpy(b->m + b->len, m, n);
		else
			memset(b->m + b->len, 0, n);
	}
	b->len += n;
	return true;
}

static void
mb_clear(struct mbytes *b)
{
	if (b->p != NULL)
		buf_wipe(b->p, b->len);
	b->len = 0;
}

static void
mb_free(struct mbytes *b)
{
	buf_free_secret(b->p, b->cap);
	free(b->m);
	memset(b, 0, sizeof(*b));
}

static bool
mb_any_masked(const uint8_t *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i])
			return true;
	return false;
}

/* ---- names --------------------------------------------------------------- */

static const char *
dec_keyref_name(uint8_t ref)
{
	switch (ref) {
	case 0x00: return "Global PIN";
	case 0x04: return "secure messaging key";
	case 0x80: return "PIV PIN";
	case 0x81: return "PUK";
	case 0x96: return "primary finger OCC";
	case 0x97: return "secondary finger OCC";
	case 0x98: return "pairing code";
	case 0x9a: return "PIV Authentication key";
	case 0x9b: return "card management key";
	case 0x9c: return "Digital Signature key";
	case 0x9d: return "Key Management key";
	case 0x9e: return "Card Authentication key";
	case 0xf9: return "attestation key (YubiKey)";
	default:
		if (ref >= 0x82 && ref <= 0x95)
			return "retired Key Management key";
		return NULL;
	}
}

static const char *
dec_alg_name(uint8_t alg)
{
	switch (alg) {
	case 0x00: return "3DES (3-key)";
	case 0x03: return "3DES";
	case 0x05: return "RSA 3072";
	case 0x06: return "RSA 1024";
	case 0x07: return "RSA 2048";
	case 0x08: return "AES-128";
	case 0x0a: return "AES-192";
	case 0x0c: return "AES-256";
	case 0x11: return "ECC P-256";
	case 0x14: return "ECC P-384";
	case 0x16: return "RSA 4096";
	case 0x27: return "cipher suite 2 (SM, P-256)";
	case 0x2e: return "cipher suite 7 (SM, P-384)";
	case 0xe0: return "Ed25519";
	case 0xe1: return "X25519";
	case 0xff: return "PIN/PUK";
	default: return NULL;
	}
}

static const char *
dec_object_name(uint32_t tag)
{
	switch (tag) {
	case 0x5fc101: return "X.509 certificate for Card Authentication (9E)";
	case 0x5fc102: return "Card Holder Unique Identifier (CHUID)";
	case 0x5fc103: return "cardholder fingerprints";
	case 0x5fc105: return "X.509 certificate for PIV Authentication (9A)";
	case 0x5fc106: return "security object";
	case 0x5fc107: return "Card Capability Container";
	case 0x5fc108: return "cardholder facial image";
	case 0x5fc109: return "printed information";
	case 0x5fc10a: return "X.509 certificate for Digital Signature (9C)";
	case 0x5fc10b: return "X.509 certificate for Key Management (9D)";
	case 0x5fc10c: return "key history object";
	case 0x5fc121: return "cardholder iris images";
	case 0x5fc122: return "secure messaging certificate signer";
	case 0x5fc123: return "pairing code reference data";
	case 0x7e: return "discovery object";
	case 0x7f61: return "biometric information templates group";
	case 0x5fff00: return "YubiKey admin data";
	case 0x5fff01: return "YubiKey attestation certificate";
	case 0x5fff10: return "YubiKey MS container map";
	default:
		if (tag >= 0x5fc10d && tag <= 0x5fc120)
			return "retired Key Management certificate";
		if (tag >= 0x5fff11 && tag <= 0x5fff15)
			return "YubiKey MS root";
		return NULL;
	}
}

static const char *
dec_aid_name(const uint8_t *p, size_t n)
{
	static const uint8_t piv[] = { 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00,
	    0x00, 0x10, 0x00, 0x01, 0x00 };
	static const uint8_t dpiv[] = { 0xa0, 0x00, 0x00, 0x03, 0x08, 0x00,
	    0x00, 0x20, 0x00, 0x01, 0x00 };
	static const uint8_t pix[] = { 0x00, 0x00, 0x10, 0x00, 0x01, 0x00 };
	static const uint8_t otp[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x20,
	    0x01, 0x01 };
	static const uint8_t mgmt[] = { 0xa0, 0x00, 0x00, 0x05, 0x27, 0x47,
	    0x11, 0x17 };
	static const uint8_t gp[] = { 0xa0, 0x00, 0x00, 0x01, 0x51, 0x00,
	    0x00, 0x00 };

	if (n == 5 && memcmp(p, piv, 5) == 0)
		return "NIST RID (PIV, prefix selection)";
	if ((n == 9 || n == 11) && memcmp(p, piv, n) == 0)
		return n == 9 ? "PIV application (truncated AID)" :
		    "PIV application";
	if ((n == 9 || n == 11) && memcmp(p, dpiv, n) == 0)
		return "derived PIV application (SP 800-157)";
	if (n == sizeof(pix) && memcmp(p, pix, n) == 0)
		return "PIV PIX and version";
	if (n == sizeof(otp) && memcmp(p, otp, n) == 0)
		return "YubiKey OTP application";
	if (n == sizeof(mgmt) && memcmp(p, mgmt, n) == 0)
		return "YubiKey management application";
	if (n == sizeof(gp) && memcmp(p, gp, n) == 0)
		return "GlobalPlatform card manager";
	return NULL;
}

static bool
dec_is_cert_object(uint32_t obj)
{
	return obj == 0x5fc101 || obj == 0x5fc105 || obj == 0x5fc10a ||
	    obj == 0x5fc10b || obj == 0x5fc122 || obj == 0x5fff01 ||
	    (obj >= 0x5fc10d && obj <= 0x5fc120);
}

static const char *
dec_tag_name(const struct tctx *t, uint32_t parent, uint32_t tag)
{
	switch (parent) {
	case 0:
		if (t->ins == 0xf7) {	/* YubiKey GET METADATA */
			switch (tag) {
			case 0x01: return "algorithm";
			case 0x02: return "PIN and touch policy";
			case 0x03: return "origin (1 generated, 2 imported)";
			case 0x04: return "public key";
			case 0x05: return "is default value";
			case 0x06: return "retries (total, remaining)";
			}
		}
		switch (tag) {
		case 0x53: return dec_object_name(t->obj) ?
		    dec_object_name(t->obj) : "data object";
		case 0x5c: return "tag list";
		case 0x61: return "application property template";
		case 0x7c: return "dynamic authentication template";
		case 0x7e: return "discovery object";
		case 0x7f49: return "public key";
		case 0x7f61: return "biometric information templates group";
		case 0xac: return "control reference template";
		}
		return NULL;
	case 0x61:
		switch (tag) {
		case 0x4f: return "application identifier";
		case 0x79: return "coexistent tag allocation authority";
		case 0x50: return "application label";
		case 0x5f50: return "application URL";
		case 0xac: return "cryptographic algorithms";
		}
		return NULL;
	case 0x79:
		return tag == 0x4f ? "tag allocation authority AID" : NULL;
	case 0x7e:
		if (tag == 0x4f)
			return "PIV application AID";
		return tag == 0x5f2f ? "PIN usage policy" : NULL;
	case 0xac:
		switch (tag) {
		case 0x80: return "algorithm";
		case 0x06: return "object identifier";
		case 0x81: return "parameter (RSA public exponent)";
		case 0xaa: return "PIN policy (YubiKey)";
		case 0xab: return "touch policy (YubiKey)";
		}
		return NULL;
	case 0x7c:
		switch (tag) {
		case 0x80: return "witness";
		case 0x81: return "challenge";
		case 0x82: return "response";
		case 0x85: return "exponentiation (peer public point)";
		}
		return NULL;
	case 0x7f49:
	case 0x04:
		switch (tag) {
		case 0x81: return "RSA modulus";
		case 0x82: return "RSA public exponent";
		case 0x86: return "EC point";
		}
		return NULL;
	case 0x53:
		if (tag == 0xfe)
			return "error detection code";
		if (t->obj == 0x5fc102) {
			switch (tag) {
			case 0xee: return "buffer length";
			case 0x30: return "FASC-N";
			case 0x32: return "organizational identifier";
			case 0x33: return "DUNS";
			case 0x34: return "GUID (card UUID)";
			case 0x35: return "expiration date";
			case 0x36: return "cardholder UUID";
			case 0x3e: return "issuer asymmetric signature";
			}
		} else if (dec_is_cert_object(t->obj)) {
			switch (tag) {
			case 0x70: return "certificate";
			case 0x71: return "CertInfo";
			case 0x72: return "MSCUID";
			}
		} else if (t->obj == 0x5fc107) {
			switch (tag) {
			case 0xf0: return "card identifier";
			case 0xf1: return "capability container version";
			case 0xf2: return "capability grammar version";
			case 0xf3: return "applications CardURL";
			case 0xf4: return "PKCS#15";
			case 0xf5: return "registered data model number";
			case 0xf6: return "access control rule table";
			case 0xf7: return "card APDUs";
			case 0xfa: return "redirection tag";
			case 0xfb: return "capability tuples";
			case 0xfc: return "status tuples";
			case 0xfd: return "next CCC";
			}
		} else if (t->obj == 0x5fc109) {
			switch (tag) {
			case 0x01: return "name";
			case 0x02: return "employee affiliation";
			case 0x04: return "expiration date";
			case 0x05: return "agency card serial number";
			case 0x06: return "issuer identification";
			case 0x07: return "organization affiliation (line 1)";
			case 0x08: return "organization affiliation (line 2)";
			case 0x88: return "YubiKey protected data";
			}
		} else if (t->obj == 0x5fc10c) {
			switch (tag) {
			case 0xc1: return "keys with on-card certificates";
			case 0xc2: return "keys with off-card certificates";
			case 0xf3: return "off-card certificate URL";
			}
		}
		return NULL;
	default:
		return NULL;
	}
}

/* Tags whose value is itself a TLV list, when it parses as one. */
static bool
dec_is_container(const struct tctx *t, uint32_t parent, uint32_t tag)
{
	switch (tag) {
	case 0x53:
	case 0x61:
	case 0x79:
	case 0x7c:
	case 0x7e:
	case 0x7f49:
	case 0x7f61:
	case 0xac:
		return true;
	case 0x04:
		return parent == 0 && t->ins == 0xf7;
	case 0x88:
		return parent == 0x53 && t->obj == 0x5fc109;
	default:
		return false;
	}
}

/* True when the whole view is a sequence of TLVs. */
static bool
dec_tlv_all(struct buf_cur c)
{
	struct buf_cur v;
	uint32_t tag;

	if (buf_done(&c))
		return false;
	while (!buf_done(&c))
		if (!tlv_get_any(&c, &tag, &v))
			return false;
	return true;
}

static bool
dec_printable(const struct buf_cur *v)
{
	size_t i;

	if (v->len < 2)
		return false;
	for (i = 0; i < v->len; i++)
		if (v->p[i] < 0x20 || v->p[i] > 0x7e)
			return false;
	return true;
}

/* A short human note on a value, or "" (into |b|). */
static void
dec_value_note(const struct tctx *t, uint32_t parent, uint32_t tag,
    const struct buf_cur *v, char *b, size_t cap)
{
	const char *s;

	b[0] = '\0';
	if (((parent == 0xac && tag == 0x80) ||
	    (parent == 0 && t->ins == 0xf7 && tag == 0x01)) && v->len == 1 &&
	    (s = dec_alg_name(v->p[0])) != NULL) {
		(void)snprintf(b, cap, "%s", s);
	} else if (tag == 0x4f && (s = dec_aid_name(v->p, v->len)) != NULL) {
		(void)snprintf(b, cap, "%s", s);
	} else if (parent == 0x53 && tag == 0x71 && v->len == 1) {
		(void)snprintf(b, cap, "%s", (v->p[0] & 0x01) ? "gzip-compressed" :
		    "not compressed");
	} else if (parent == 0x53 && tag == 0x70 && dec_is_cert_object(t->obj)) {
		(void)snprintf(b, cap, "DER certificate, %zu %s", v->len,
		    buf_bytes_word(v->len));
	} else if (parent == 0x53 && t->obj == 0x5fc102 && tag == 0x30) {
		struct fascn f;
		struct pv_why why;
		char str[FASCN_STR_LEN];

		pv_why_clear(&why);
		if (fascn_decode(v->p, v->len, &f, &why) == PV_OK) {
			fascn_to_string(&f, str);
			(void)snprintf(b, cap, "%s", str);
		} else {
			(void)snprintf(b, cap, "not a valid FASC-N: %s", why.msg);
		}
	} else if (parent == 0x53 && (tag == 0x34 || tag == 0x36) &&
	    t->obj == 0x5fc102 && v->len == 16) {
		const uint8_t *u = v->p;

		(void)snprintf(b, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
		    u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		    u[13], u[14], u[15]);
	} else if (tag == 0x5c && v->len >= 1 && v->len <= 3) {
		uint32_t o = 0;
		size_t i;

		for (i = 0; i < v->len; i++)
			o = o << 8 | v->p[i];
		if ((s = dec_object_name(o)) != NULL)
			(void)snprintf(b, cap, "%s", s);
	}
}

/* Render the TLV list |c| (known to parse) at |depth|. */
static void
dec_tlv_list(struct dec *d, const struct tctx *t, struct buf_cur c,
    uint32_t parent, int depth)
{
	struct buf_cur v;
	uint32_t tag;
	bool first = true;
	char note[320];

	if (d->json)
		dec_puts(d, "[");
	while (!buf_done(&c) && tlv_get_any(&c, &tag, &v)) {
		const char *name = dec_tag_name(t, parent, tag);
		bool nest = depth < DEC_MAX_DEPTH &&
		    dec_is_container(t, parent, tag) && dec_tlv_all(v);
		int tw = (int)tlv_tag_len(tag) * 2;

		dec_value_note(t, parent, tag, &v, note, sizeof(note));
		if (d->json) {
			dec_out(d, "%s{\"tag\":\"%0*x\",\"len\":%zu", first ? "" :
			    ",", tw, (unsigned)tag, v.len);
			if (name != NULL) {
				dec_puts(d, ",\"name\":");
				dec_jstr(d, name);
			}
			if (note[0] != '\0') {
				dec_puts(d, ",\"note\":");
				dec_jstr(d, note);
			}
			if (nest) {
				dec_puts(d, ",\"children\":");
				dec_tlv_list(d, t, v, tag, depth + 1);
			} else {
				dec_puts(d, ",\"value\":\"");
				dec_hex(d, v.p, NULL, v.len, SIZE_MAX, false,
				    SIZE_MAX);
				dec_puts(d, "\"");
				if (dec_printable(&v)) {
					char txt[256];

					(void)snprintf(txt, sizeof(txt), "%.*s",
					    (int)(v.len < 255 ? v.len : 255),
					    (const char *)v.p);
					dec_puts(d, ",\"text\":");
					dec_jstr(d, txt);
				}
			}
			dec_puts(d, "}");
		} else {
			dec_indent(d, depth + 3);
			dec_out(d, "%0*X", tw, (unsigned)tag);
			if (name != NULL)
				dec_out(d, " %s", name);
			dec_out(d, " (%zu)", v.len);
			if (nest) {
				if (note[0] != '\0')
					dec_out(d, ": %s", note);
				dec_puts(d, "\n");
				dec_tlv_list(d, t, v, tag, depth + 1);
			} else if (v.len == 0) {
				dec_puts(d, "\n");
			} else {
				dec_puts(d, ": ");
				if (dec_printable(&v))
					dec_out(d, "\"%.*s\"", (int)(v.len < 80 ?
					    v.len : 80), (const char *)v.p);
				else
					dec_hex(d, v.p, NULL, v.len, SIZE_MAX,
					    false, DEC_HEX_SHOWN);
				if (note[0] != '\0')
					dec_out(d, "  [%s]", note);
				dec_puts(d, "\n");
			}
		}
		first = false;
	}
	if (d->json)
		dec_puts(d, "]");
}

/* ---- one exchange ------------------------------------------------------ */

/* The object a GET DATA / PUT DATA names in its 5C tag list, or 0. */
static uint32_t
dec_obj_of(const struct apdu_view *v)
{
	struct buf_cur c = v->data, t;
	uint32_t o = 0;
	uint8_t b;

	if (v->ins != 0xcb && v->ins != 0xdb)
		return 0;
	if (tlv_get(&c, 0x5c, &t) && t.len >= 1 && t.len <= 3) {
		while (buf_get_u8(&t, &b))
			o = o << 8 | b;
		return o;
	}
	/* PUT DATA of discovery and BIT group carry their own tag. */
	if (v->ins == 0xdb && tlv_peek_tag(&c, &o) && (o == 0x7e || o == 0x7f61))
		return o;
	return 0;
}

/* P1/P2 in words, into |b|. */
static void
dec_params(const struct apdu_view *v, uint32_t obj, char *b, size_t cap)
{
	const char *k = dec_keyref_name(v->p2), *a = dec_alg_name(v->p1);
	const char *o = dec_object_name(obj);

	b[0] = '\0';
	switch (v->ins) {
	case 0xa4:
		(void)snprintf(b, cap, "%s", v->p1 == 0x04 ?
		    "select by DF name (AID)" : "select");
		break;
	case 0xcb:
	case 0xdb:
		if (obj != 0)
			(void)snprintf(b, cap, "object %0*X%s%s%s",
			    (int)tlv_tag_len(obj) * 2, (unsigned)obj,
			    o ? " (" : "", o ? o : "", o ? ")" : "");
		else if (v->p1 == 0x3f && v->p2 == 0xff)
			(void)snprintf(b, cap, "current application");
		break;
	case 0x20:
		if (v->p1 == 0xff)
			(void)snprintf(b, cap, "reset security status of %s",
			    k ? k : "this reference");
		else if (v->data.len == 0)
			(void)snprintf(b, cap, "status query for %s",
			    k ? k : "this reference");
		else
			(void)snprintf(b, cap, "verify %s", k ? k : "reference");
		break;
	case 0x24:
		(void)snprintf(b, cap, "change %s", k ? k : "reference data");
		break;
	case 0x2c:
		(void)snprintf(b, cap, "unblock %s with the PUK",
		    k ? k : "reference");
		break;
	case 0x87:
		(void)snprintf(b, cap, "%s, %s", a ? a : "unknown algorithm",
		    k ? k : "unknown key");
		break;
	case 0x47:
		(void)snprintf(b, cap, "generate in %s", k ? k : "unknown slot");
		break;
	case 0xf7:
		(void)snprintf(b, cap, "metadata of %s", k ? k : "unknown slot");
		break;
	case 0xf9:
		k = dec_keyref_name(v->p1);
		(void)snprintf(b, cap, "attest %s", k ? k : "unknown slot");
		break;
	case 0xfe:
		(void)snprintf(b, cap, "import %s into %s", a ? a : "unknown key",
		    k ? k : "unknown slot");
		break;
	case 0xff:
		(void)snprintf(b, cap, "%s", v->p2 == 0xfe ? "touch required" :
		    v->p2 == 0xff ? "no touch" : "");
		break;
	case 0xfa:
		(void)snprintf(b, cap, "PIN tries %u, PUK tries %u", v->p1, v->p2);
		break;
	case 0xf6:
		if (v->p1 == 0xff)
			(void)snprintf(b, cap, "delete key %02X", v->p2);
		else
			(void)snprintf(b, cap, "move key %02X to %02X", v->p2,
			    v->p1);
		break;
	}
}

static const char *
dec_case_word(const struct apdu_view *v)
{
	static const char *const w[] = { "", "case 1", "case 2", "case 3",
	    "case 4" };

	return w[v->apdu_case];
}

/* What a response to a known INS means, into |b|. */
static void
dec_rsp_note(uint8_t ins, const struct buf_cur *data, uint16_t sw, char *b,
    size_t cap)
{
	b[0] = '\0';
	if (sw != SW_OK)
		return;
	if (ins == 0xfd && data->len == 3)
		(void)snprintf(b, cap, "firmware version %u.%u.%u", data->p[0],
		    data->p[1], data->p[2]);
	else if (ins == 0xf8 && data->len == 4)
		(void)snprintf(b, cap, "serial number %lu",
		    (unsigned long)data->p[0] << 24 |
		    (unsigned long)data->p[1] << 16 |
		    (unsigned long)data->p[2] << 8 | data->p[3]);
}

static void
dec_exchange(struct dec *d, const struct mbytes *cmd, size_t line,
    const struct mbytes *rsp, size_t rsp_line)
{
	struct apdu_view v;
	struct tctx tc;
	struct buf_cur rdata, full;
	const char *name = NULL;
	size_t keep = 0;
	bool parsed, cmd_masked, rsp_masked = false, more = false, cont = false;
	bool data_secret, show_cmd_tlv = false, show_rsp_tlv = false;
	bool is_gr = false, final = false;
	uint16_t sw = 0;
	uint32_t obj = 0;
	char params[160], note[160], rnote[64], swt[160];

	d->n++;
	parsed = apdu_parse_cmd(cmd->p, cmd->len, &v);
	cmd_masked = redact_ctx_cmd(&d->rctx, cmd->p, cmd->len, &keep);
	if (!cmd_masked)
		keep = SIZE_MAX;
	if (rsp != NULL && rsp->len >= 2)
		rsp_masked = redact_ctx_rsp(&d->rctx, rsp->p, rsp->len);
	params[0] = note[0] = rnote[0] = '\0';
	buf_cur_init(&full, NULL, 0);

	if (parsed) {
		name = apdu_ins_name(v.ins);
		more = (v.cla & APDU_CLA_CHAIN) != 0;
		cont = d->chain_on && v.ins == d->chain_ins;
		if (!cont) {
			mb_clear(&d->chain);
			d->chain_first = d->n;
			d->chain_block = 0;
			d->chain_masked = false;
			d->chain_obj = dec_obj_of(&v);
		}
		d->chain_block++;
		data_secret = cmd_masked || mb_any_masked(cmd->m + v.data_off,
		    v.data.len);
		d->chain_masked |= data_secret;
		if (!mb_put(&d->chain, v.data.p, cmd->m + v.data_off, v.data.len,
		    DEC_MAX_CHAIN))
			d->chain_masked = true;	/* too much to keep: not shown */
		d->chain_on = more;
		d->chain_ins = v.ins;
		obj = d->chain_obj;
		dec_params(&v, obj, params, sizeof(params));
		if (more)
			(void)snprintf(note, sizeof(note), "chained block %zu, "
			    "more follow", d->chain_block);
		else if (cont)
			(void)snprintf(note, sizeof(note), "last block %zu of "
			    "the chain from #%zu, %zu %s in all",
			    d->chain_block, d->chain_first, d->chain.len,
			    buf_bytes_word(d->chain.len));
		if (!more && d->chain.len > 0 && !d->chain_masked) {
			buf_cur_init(&full, d->chain.p, d->chain.len);
			show_cmd_tlv = dec_tlv_all(full);
		}
		is_gr = v.ins == APDU_INS_GET_RESPONSE && d->acc_on;
		if (is_gr)
			(void)snprintf(note, sizeof(note), "continues the answer "
			    "to #%zu", d->acc_first);
	} else {
		d->chain_on = false;
	}
	tc.ins = parsed ? v.ins : 0;
	tc.obj = obj;
	tc.is_cmd = true;

	/* Response bookkeeping: reassemble over 61XX. */
	buf_cur_init(&rdata, NULL, 0);
	if (rsp != NULL && rsp->len >= 2) {
		bool in_masked;

		sw = (uint16_t)(rsp->p[rsp->len - 2] << 8 | rsp->p[rsp->len - 1]);
		buf_cur_init(&rdata, rsp->p, rsp->len - 2);
		in_masked = mb_any_masked(rsp->m, rsp->len - 2);
		if (!is_gr) {
			mb_clear(&d->acc);
			d->acc_first = d->n;
			d->acc_ins = tc.ins;
			d->acc_p1 = parsed ? v.p1 : 0;
			d->acc_p2 = parsed ? v.p2 : 0;
			d->acc_obj = obj;
			d->acc_masked = false;
		}
		d->acc_masked |= rsp_masked || in_masked;
		if (!mb_put(&d->acc, rdata.p, rsp->m, rdata.len, APDU_MAX_RSP))
			d->acc_masked = true;
		d->acc_on = (sw >> 8) == 0x61;
		final = !d->acc_on;
		if (final && d->acc.len > 0 && !d->acc_masked) {
			struct buf_cur a;

			buf_cur_init(&a, d->acc.p, d->acc.len);
			show_rsp_tlv = dec_tlv_all(a);
			dec_rsp_note(d->acc_ins, &a, sw, rnote, sizeof(rnote));
		}
	} else {
		d->acc_on = false;
	}
	swt[0] = '\0';
	if (rsp != NULL && rsp->len >= 2)
		sw_text(sw, swt, sizeof(swt));

	if (d->json) {
		dec_out(d, "%s{\"n\":%zu,\"line\":%zu,\"cmd\":\"", d->n == 1 ?
		    "" : ",\n", d->n, line);
		dec_hex(d, cmd->p, cmd->m, cmd->len, keep, false, SIZE_MAX);
		dec_puts(d, "\"");
		if (!parsed) {
			dec_puts(d, ",\"error\":\"length bytes do not match "
			    "the command size\"");
		} else {
			dec_out(d, ",\"cla\":\"%02x\",\"ins\":\"%02x\","
			    "\"p1\":\"%02x\",\"p2\":\"%02x\"", v.cla, v.ins,
			    v.p1, v.p2);
			if (name != NULL) {
				dec_puts(d, ",\"name\":");
				dec_jstr(d, name);
			}
			dec_out(d, ",\"case\":%d,\"extended\":%s,\"chained\":%s",
			    (int)v.apdu_case, v.extended ? "true" : "false",
			    more ? "true" : "false");
			if (params[0] != '\0') {
				dec_puts(d, ",\"params\":");
				dec_jstr(d, params);
			}
			if (note[0] != '\0') {
				dec_puts(d, ",\"note\":");
				dec_jstr(d, note);
			}
			if (v.data.len > 0) {
				dec_out(d, ",\"lc\":%zu,\"data\":\"", v.data.len);
				dec_hex(d, v.data.p, cmd->m + v.data_off,
				    v.data.len, keep > v.data_off ?
				    keep - v.data_off : 0, false, SIZE_MAX);
				dec_out(d, "\",\"data_redacted\":%s",
				    cmd_masked ? "true" : "false");
			}
			if (v.le != 0)
				dec_out(d, ",\"le\":%zu", v.le);
			if (show_cmd_tlv) {
				dec_puts(d, ",\"data_tlv\":");
				dec_tlv_list(d, &tc, full, 0, 0);
			}
		}
		if (rsp == NULL) {
			dec_puts(d, ",\"rsp\":null");
		} else {
			dec_out(d, ",\"rsp_line\":%zu,\"rsp\":\"", rsp_line);
			if (rsp_masked) {
				/* rsp_masked implies at least SW1 SW2. */
				dec_hex(d, rsp->p, rsp->m, rsp->len - 2, 0,
				    false, SIZE_MAX);
				dec_hex(d, rsp->p + rsp->len - 2, NULL, 2,
				    SIZE_MAX, false, 2);
			} else {
				dec_hex(d, rsp->p, rsp->m, rsp->len, SIZE_MAX,
				    false, SIZE_MAX);
			}
			dec_puts(d, "\"");
			if (rsp->len < 2) {
				dec_puts(d, ",\"rsp_error\":\"no status word\"");
			} else {
				dec_out(d, ",\"sw\":\"%04x\",\"sw_name\":", sw);
				dec_jstr(d, sw_name(sw));
				dec_puts(d, ",\"sw_text\":");
				dec_jstr(d, swt);
				dec_out(d, ",\"rsp_len\":%zu,\"rsp_redacted\":%s",
				    rdata.len, rsp_masked ? "true" : "false");
				if (final && d->acc_first != d->n)
					dec_out(d, ",\"reassembled_from\":%zu,"
					    "\"reassembled_len\":%zu",
					    d->acc_first, d->acc.len);
				if (rnote[0] != '\0') {
					dec_puts(d, ",\"rsp_note\":");
					dec_jstr(d, rnote);
				}
				if (show_rsp_tlv) {
					struct buf_cur a;
					struct tctx rt = { d->acc_ins, d->acc_obj,
					    false };

					buf_cur_init(&a, d->acc.p, d->acc.len);
					dec_puts(d, ",\"rsp_tlv\":");
					dec_tlv_list(d, &rt, a, 0, 0);
				}
			}
		}
		dec_puts(d, "}");
		return;
	}

	/* Text. */
	dec_out(d, "#%zu  line %zu  > ", d->n, line);
	dec_hex(d, cmd->p, cmd->m, cmd->len, keep, true, SIZE_MAX);
	dec_puts(d, "\n");
	if (!parsed) {
		dec_out(d, "    malformed command: its %zu %s do not match "
		    "its length bytes (ISO 7816-4 cases 1-4)\n", cmd->len,
		    buf_bytes_word(cmd->len));
	} else {
		dec_out(d, "    %s  (%s, %s%s)", name ? name : "unknown INS",
		    dec_case_word(&v), v.extended ? "extended" : "short",
		    more ? ", chained" : "");
		dec_out(d, "  CLA %02X INS %02X P1 %02X P2 %02X", v.cla, v.ins,
		    v.p1, v.p2);
		if (params[0] != '\0')
			dec_out(d, ": %s", params);
		dec_puts(d, "\n");
		if (note[0] != '\0')
			dec_out(d, "    %s\n", note);
		if (v.data.len > 0) {
			dec_out(d, "    Lc %zu: ", v.data.len);
			if (cmd_masked) {
				size_t shown = keep > v.data_off ? keep -
				    v.data_off : 0;

				dec_hex(d, v.data.p, cmd->m + v.data_off, shown,
				    SIZE_MAX, true, SIZE_MAX);
				dec_out(d, "%s[%zu %s redacted]", shown ?
				    " " : "", v.data.len - shown,
				    buf_bytes_word(v.data.len - shown));
			} else {
				dec_hex(d, v.data.p, cmd->m + v.data_off,
				    v.data.len, SIZE_MAX, true, DEC_HEX_SHOWN);
				if (v.ins == 0xa4 && dec_aid_name(v.data.p,
				    v.data.len) != NULL)
					dec_out(d, "  [%s]", dec_aid_name(v.data.p,
					    v.data.len));
			}
			dec_puts(d, "\n");
		}
		if (v.le != 0)
			dec_out(d, "    Le %zu%s\n", v.le, v.le == 256 ||
			    v.le == 65536 ? " (as much as available)" : "");
		if (show_cmd_tlv) {
			dec_puts(d, "    command data:\n");
			dec_tlv_list(d, &tc, full, 0, 0);
		}
	}
	if (rsp == NULL) {
		dec_puts(d, "    (no response)\n\n");
		return;
	}
	dec_out(d, "    line %zu  < ", rsp_line);
	if (rsp->len < 2) {
		dec_hex(d, rsp->p, rsp->m, rsp->len, SIZE_MAX, true, SIZE_MAX);
		dec_puts(d, "\n    malformed response: no status word\n\n");
		return;
	}
	if (rsp_masked) {
		dec_out(d, "[%zu %s redacted] ", rdata.len,
		    buf_bytes_word(rdata.len));
		dec_hex(d, rsp->p + rsp->len - 2, NULL, 2, SIZE_MAX, true, 2);
	} else {
		dec_hex(d, rsp->p, rsp->m, rsp->len, SIZE_MAX, true,
		    DEC_HEX_SHOWN);
		if (rsp->len > DEC_HEX_SHOWN) {
			dec_puts(d, " ");
			dec_hex(d, rsp->p + rsp->len - 2, NULL, 2, SIZE_MAX,
			    true, 2);
		}
	}
	dec_out(d, "\n    SW %s\n", swt);
	if ((sw >> 8) == 0x61)
		dec_out(d, "    %zu data %s so far; GET RESPONSE expected\n",
		    d->acc.len, buf_bytes_word(d->acc.len));
	if ((sw >> 8) == 0x6c)
		dec_out(d, "    re-send with Le %u expected\n",
		    (sw & 0xff) == 0 ? 256u : sw & 0xffu);
	if (final && d->acc_first != d->n && d->acc.len > 0)
		dec_out(d, "    reassembled answer of #%zu: %zu %s\n",
		    d->acc_first, d->acc.len, buf_bytes_word(d->acc.len));
	if (rnote[0] != '\0')
		dec_out(d, "    %s\n", rnote);
	if (show_rsp_tlv) {
		struct buf_cur a;
		struct tctx rt = { d->acc_ins, d->acc_obj, false };

		buf_cur_init(&a, d->acc.p, d->acc.len);
		dec_puts(d, "    response data:\n");
		dec_tlv_list(d, &rt, a, 0, 0);
	} else if (final && d->acc.len > 0 && !d->acc_masked &&
	    rnote[0] == '\0') {
		dec_out(d, "    response data (%zu %s) is not TLV\n",
		    d->acc.len, buf_bytes_word(d->acc.len));
	}
	dec_puts(d, "\n");
}

/* ---- input ------------------------------------------------------------- */

static int
dec_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse hex (and "**") from s[0..n) into |b|. */
static enum pv_err
dec_parse_hex(const char *s, size_t n, struct mbytes *b, size_t max,
    size_t line, struct pv_why *why)
{
	size_t i;
	int hi = -1, v;
	uint8_t byte, mask;

	b->len = 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == ':' || c == '\r')
			continue;
		if (c == '*') {
			if (hi >= 0 || i + 1 >= n || s[i + 1] != '*')
				return pv_why_set(why, PV_E_INPUT, "line %zu: "
				    "\"*\" must come in pairs (\"**\" is one "
				    "masked byte)", line);
			i++;
			byte = 0;
			mask = 1;
			if (!mb_put(b, &byte, &mask, 1, max))
				goto toolong;
			continue;
		}
		if ((v = dec_nibble(c)) < 0)
			return pv_why_set(why, PV_E_INPUT, "line %zu: '%c' is "
			    "not a hex digit", line, c >= 0x20 && c < 0x7f ?
			    c : '?');
		if (hi < 0) {
			hi = v;
			continue;
		}
		byte = (uint8_t)(hi << 4 | v);
		mask = 0;
		hi = -1;
		if (!mb_put(b, &byte, &mask, 1, max))
			goto toolong;
	}
	if (hi >= 0)
		return pv_why_set(why, PV_E_INPUT, "line %zu: odd number of hex "
		    "digits", line);
	return PV_OK;
toolong:
	return pv_why_set(why, PV_E_INPUT, "line %zu: more than %zu bytes, "
	    "longer than any APDU", line, max);
}

enum pv_err
decode_conversation(const char *text, size_t len, bool json,
    struct buf_out *out, struct pv_why *why)
{
	struct dec d;
	struct mbytes rsp;
	size_t pos = 0, line = 0;
	enum pv_err r = PV_E_INTERNAL;

	memset(&d, 0, sizeof(d));
	memset(&rsp, 0, sizeof(rsp));
	d.out = out;
	d.json = json;
	redact_ctx_init(&d.rctx);
	if (len > DECODE_MAX_INPUT) {
		r = pv_why_set(why, PV_E_TOO_LONG, "input of %zu bytes is over "
		    "the %u-byte limit", len, DECODE_MAX_INPUT);
		goto out;
	}
	if (json)
		dec_puts(&d, "{\"exchanges\":[\n");
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos, k;
		const char *hash;

		pos += n + (nl != NULL ? 1 : 0);
		line++;
		if ((hash = memchr(s, '#', n)) != NULL)
			n = (size_t)(hash - s);
		while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
		    s[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if (memchr(s, '\0', n) != NULL) {
			r = pv_why_set(why, PV_E_INPUT, "line %zu: NUL byte",
			    line);
			goto out;
		}
		if (*s == '>') {
			if (d.have_cmd)
				dec_exchange(&d, &d.cmd, d.cmd_line, NULL, 0);
			if ((r = dec_parse_hex(s + 1, n - 1, &d.cmd,
			    APDU_MAX_CMD, line, why)) != PV_OK)
				goto out;
			if (d.cmd.len < 4) {
				r = pv_why_set(why, PV_E_INPUT, "line %zu: a "
				    "command has at least 4 bytes (CLA INS P1 "
				    "P2), this one %zu", line, d.cmd.len);
				goto out;
			}
			d.have_cmd = true;
			d.cmd_line = line;
		} else if (*s == '<') {
			if (!d.have_cmd) {
				r = pv_why_set(why, PV_E_INPUT, "line %zu: a "
				    "response with no command before it", line);
				goto out;
			}
			if ((r = dec_parse_hex(s + 1, n - 1, &rsp,
			    APDU_MAX_RSP, line, why)) != PV_OK)
				goto out;
			dec_exchange(&d, &d.cmd, d.cmd_line, &rsp, line);
			d.have_cmd = false;
		} else {
			for (k = 0; k < n && k < 20 && s[k] >= 0x20 &&
			    s[k] < 0x7f; k++)
				;
			r = pv_why_set(why, PV_E_INPUT, "line %zu: expected "
			    "\"> command hex\", \"< response hex\" or a "
			    "# comment, got \"%.*s\"", line, (int)k, s);
			goto out;
		}
		if (!buf_out_ok(out)) {
			r = PV_E_TOO_LONG;
			goto out;
		}
	}
	if (d.have_cmd)
		dec_exchange(&d, &d.cmd, d.cmd_line, NULL, 0);
	if (json)
		dec_puts(&d, "\n]}\n");
	if (!buf_out_ok(out)) {
		r = pv_why_set(why, PV_E_TOO_LONG, "output over %zu bytes",
		    out->max);
		goto out;
	}
	r = PV_OK;
out:
	mb_free(&d.cmd);
	mb_free(&d.chain);
	mb_free(&d.acc);
	mb_free(&rsp);
	return r;
}
