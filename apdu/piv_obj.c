/*
 * piv_obj.c: PIV data object codecs (SP 800-73-4 Part 1 §3).
 *
 * Each object is described by a table of its elements in the spec's
 * order, with the spec's length limits; one walker checks order,
 * presence, duplicates and lengths for the parsers, and the same tables
 * check what the builders are given.  Object-specific rules (dates, the
 * discovery policy byte, key history counts) follow in each parser.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "apdu/tlv.h"

#define TAG_FE		0xfe	/* error detection code, always empty */
#define OBJ_MAX_ELEMS	16
#define OBJ_ANY		0xffffffu	/* no length limit beyond TLV's */
#define PL(n)		((n) == 1 ? "" : "s")

struct obj_elem {
	uint32_t tag;
	const char *name;
	size_t min;
	size_t max;
	bool zero_ok;		/* length 0 allowed as well as min..max */
	bool required;
};

struct obj_spec {
	const char *obj;		/* "CHUID": prefixes every message */
	const struct obj_elem *elems;
	size_t n;
	uint32_t forbidden;		/* a tag the spec bans, 0 for none */
	const char *forbidden_name;
};

/* The views and presence flags a walk produces, indexed like the table. */
struct obj_vals {
	struct buf_cur v[OBJ_MAX_ELEMS];
	bool present[OBJ_MAX_ELEMS];
};

/* ---- element tables ------------------------------------------------------ */

/* Part 1 Table 9; order per SP 800-85B and PIV-REFERENCE §4.3. */
enum { CH_EE, CH_FASCN, CH_ORG, CH_DUNS, CH_GUID, CH_EXP, CH_HOLDER,
    CH_SIG, CH_FE };
static const struct obj_elem chuid_elems[] = {
	{ 0xee, "buffer length", 0, 2, false, false },
	{ 0x30, "FASC-N", FASCN_LEN, FASCN_LEN, false, true },
	{ 0x32, "organizational identifier", 0, 4, false, false },
	{ 0x33, "DUNS", 0, 9, false, false },
	{ 0x34, "GUID", PIV_CHUID_GUID_LEN, PIV_CHUID_GUID_LEN, false, true },
	{ 0x35, "expiration date", PIV_CHUID_EXPIRY_LEN,
	    PIV_CHUID_EXPIRY_LEN, false, true },
	{ 0x36, "cardholder UUID", 16, 16, false, false },
	{ 0x3e, "issuer signature", 0, OBJ_ANY, false, true },
	{ TAG_FE, "error detection code", 0, 0, false, true },
};
static const struct obj_spec chuid_spec = { "CHUID", chuid_elems,
    sizeof(chuid_elems) / sizeof(chuid_elems[0]), 0x3d,
    "authentication key map, no longer allowed" };

/* Part 1 Tables 10, 15-17, 20-39, 42. */
enum { CE_CERT, CE_INFO, CE_MSCUID, CE_FE };
static const struct obj_elem cert_elems[] = {
	{ 0x70, "certificate", 0, OBJ_ANY, false, true },
	{ 0x71, "CertInfo", 1, 1, false, false },
	{ 0x72, "MSCUID", 0, 38, false, false },
	{ TAG_FE, "error detection code", 0, 0, false, true },
};
static const struct obj_spec cert_spec = { "certificate container",
    cert_elems, sizeof(cert_elems) / sizeof(cert_elems[0]), 0, NULL };

/* Part 1 Table 8. */
enum { CC_F0, CC_F1, CC_F2, CC_F3, CC_F4, CC_F5, CC_F6, CC_F7, CC_FA,
    CC_FB, CC_FC, CC_FD, CC_E3, CC_B4, CC_FE };
static const struct obj_elem ccc_elems[] = {
	{ 0xf0, "card identifier", 21, 21, true, true },
	{ 0xf1, "capability container version", 0, 1, false, true },
	{ 0xf2, "capability grammar version", 0, 1, false, true },
	{ 0xf3, "applications CardURL", 0, 128, false, true },
	{ 0xf4, "PKCS#15", 0, 1, false, true },
	{ 0xf5, "registered data model number", 1, 1, false, true },
	{ 0xf6, "access control rule table", 17, 17, true, true },
	{ 0xf7, "card APDUs", 0, 0, false, true },
	{ 0xfa, "redirection tag", 0, 0, false, true },
	{ 0xfb, "capability tuples", 0, 0, false, true },
	{ 0xfc, "status tuples", 0, 0, false, true },
	{ 0xfd, "next CCC", 0, 0, false, true },
	{ 0xe3, "extended application CardURL", 0, 48, false, false },
	{ 0xb4, "security object buffer", 0, 48, false, false },
	{ TAG_FE, "error detection code", 0, 0, false, true },
};
static const struct obj_spec ccc_spec = { "CCC", ccc_elems,
    sizeof(ccc_elems) / sizeof(ccc_elems[0]), 0, NULL };

/* Part 1 Table 18 (inside 7E). */
enum { DI_AID, DI_POLICY };
static const struct obj_elem disc_elems[] = {
	{ 0x4f, "PIV AID", 5, 16, false, true },
	{ 0x5f2f, "PIN usage policy", 2, 2, false, true },
};
static const struct obj_spec disc_spec = { "discovery object", disc_elems,
    sizeof(disc_elems) / sizeof(disc_elems[0]), 0, NULL };

/* Part 1 Table 19. */
enum { KH_ON, KH_OFF, KH_URL, KH_FE };
static const struct obj_elem kh_elems[] = {
	{ 0xc1, "keysWithOnCardCerts", 1, 1, false, true },
	{ 0xc2, "keysWithOffCardCerts", 1, 1, false, true },
	{ 0xf3, "offCardCertURL", 0, 118, false, false },
	{ TAG_FE, "error detection code", 0, 0, false, true },
};
static const struct obj_spec kh_spec = { "key history", kh_elems,
    sizeof(kh_elems) / sizeof(kh_elems[0]), 0, NULL };

/* Part 1 Table 14. */
enum { PR_NAME, PR_AFF, PR_EXP, PR_SER, PR_ISS, PR_ORG1, PR_ORG2, PR_FE };
static const struct obj_elem pr_elems[] = {
	{ 0x01, "name", 0, 125, false, true },
	{ 0x02, "employee affiliation", 0, 20, false, true },
	{ 0x04, "expiration date", 9, 9, false, true },
	{ 0x05, "agency card serial number", 0, 20, false, true },
	{ 0x06, "issuer identification", 0, 15, false, true },
	{ 0x07, "organization affiliation line 1", 0, 20, false, false },
	{ 0x08, "organization affiliation line 2", 0, 20, false, false },
	{ TAG_FE, "error detection code", 0, 0, false, true },
};
static const struct obj_spec pr_spec = { "printed information", pr_elems,
    sizeof(pr_elems) / sizeof(pr_elems[0]), 0x03,
    "old expiration date tag, no longer allowed" };

/* Part 1 Table 12. */
enum { SO_MAP, SO_CMS, SO_FE };
static const struct obj_elem so_elems[] = {
	{ 0xba, "mapping of DG to container ID", 0, PIV_SECOBJ_MAP_MAX,
	    false, true },
	{ 0xbb, "security object", 0, OBJ_ANY, false, true },
	{ TAG_FE, "error detection code", 0, 0, false, true },
};
static const struct obj_spec so_spec = { "security object", so_elems,
    sizeof(so_elems) / sizeof(so_elems[0]), 0, NULL };

/* ---- the walker ------------------------------------------------------------ */

/*
 * The cursor calls only report false; a person wants to know whether the
 * length ran past the end or used a form PIV does not allow.
 */
void
piv_tlv_explain(const struct buf_cur *at, char *out, size_t cap)
{
	struct buf_cur c = *at;
	uint8_t b, l;
	uint32_t tag = 0;
	size_t n = 0, k, i;

	if (!buf_get_u8(&c, &b)) {
		(void)snprintf(out, cap, "nothing to read");
		return;
	}
	tag = b;
	if ((b & 0x1f) == 0x1f) {
		for (i = 0; ; i++) {
			if (i == 2) {
				(void)snprintf(out, cap, "tag longer than 3 bytes");
				return;
			}
			if (!buf_get_u8(&c, &b)) {
				(void)snprintf(out, cap, "tag %X is cut short",
				    tag);
				return;
			}
			tag = (tag << 8) | b;
			if ((b & 0x80) == 0)
				break;
		}
	}
	if (!buf_get_u8(&c, &l)) {
		(void)snprintf(out, cap, "tag %02X has no length", tag);
		return;
	}
	if (l == 0x80) {
		(void)snprintf(out, cap,
		    "tag %02X uses the indefinite length form 80", tag);
		return;
	}
	if (l > 0x83) {
		(void)snprintf(out, cap,
		    "tag %02X uses a %u-byte length (at most 3 allowed)", tag,
		    (unsigned)(l & 0x7f));
		return;
	}
	if (l < 0x80) {
		n = l;
	} else {
		for (k = 0; k < (size_t)(l & 0x7f); k++) {
			if (!buf_get_u8(&c, &b)) {
				(void)snprintf(out, cap,
				    "tag %02X: length is cut short", tag);
				return;
			}
			n = (n << 8) | b;
		}
	}
	(void)snprintf(out, cap,
	    "tag %02X: length %zu runs past the end (%zu %s left)", tag, n,
	    c.len, buf_bytes_word(c.len));
}

static int
spec_find(const struct obj_spec *s, uint32_t tag)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->elems[i].tag == tag)
			return (int)i;
	return -1;
}

static enum pv_err
elem_check_len(const struct obj_spec *s, size_t i, size_t len,
    struct pv_why *why)
{
	const struct obj_elem *e = &s->elems[i];

	if ((len >= e->min && len <= e->max) || (len == 0 && e->zero_ok))
		return PV_OK;
	if (e->min == e->max && e->zero_ok)
		return pv_why_set(why, PV_E_MALFORMED,
		    "%s: %s is %zu byte%s, expected 0 or %zu", s->obj, e->name,
		    len, PL(len), e->min);
	if (e->min == e->max)
		return pv_why_set(why, PV_E_MALFORMED,
		    "%s: %s is %zu byte%s, expected %zu", s->obj, e->name, len,
		    PL(len), e->min);
	if (len > e->max)
		return pv_why_set(why, PV_E_MALFORMED,
		    "%s: %s is %zu %s, at most %zu allowed", s->obj, e->name,
		    len, buf_bytes_word(len), e->max);
	return pv_why_set(why, PV_E_MALFORMED,
	    "%s: %s is %zu byte%s, at least %zu required", s->obj, e->name,
	    len, PL(len), e->min);
}

static enum pv_err
elem_missing(const struct obj_spec *s, size_t i, struct pv_why *why)
{
	return pv_why_set(why, PV_E_MALFORMED, "%s: tag %02X (%s) is missing",
	    s->obj, s->elems[i].tag, s->elems[i].name);
}

/*
 * obj_walk reads the elements of |in| against |s|: known tags in table
 * order, each at most once, with lengths in range; unknown tags skipped;
 * nothing after FE; required ones present.  Fills |out| on success.
 */
static enum pv_err
obj_walk(const struct obj_spec *s, struct buf_cur in, struct obj_vals *out,
    struct pv_why *why)
{
	size_t total = in.len, next = 0, j;
	int last = -1, idx;
	enum pv_err r;
	char diag[128];

	memset(out, 0, sizeof(*out));
	while (!buf_done(&in)) {
		struct buf_cur before = in, v;
		uint32_t tag;

		if (!tlv_get_any(&in, &tag, &v)) {
			piv_tlv_explain(&before, diag, sizeof(diag));
			return pv_why_set(why, PV_E_MALFORMED,
			    "%s: bad element at byte %zu: %s", s->obj,
			    total - before.len, diag);
		}
		if (s->forbidden != 0 && tag == s->forbidden)
			return pv_why_set(why, PV_E_MALFORMED,
			    "%s: tag %02X (%s) is present", s->obj, tag,
			    s->forbidden_name);
		if ((idx = spec_find(s, tag)) < 0)
			continue;	/* optional or newer: skipped */
		if (out->present[idx])
			return pv_why_set(why, PV_E_MALFORMED,
			    "%s: tag %02X (%s) appears twice", s->obj, tag,
			    s->elems[idx].name);
		if ((size_t)idx < next)
			return pv_why_set(why, PV_E_MALFORMED,
			    "%s: tag %02X (%s) comes after tag %02X (%s): "
			    "out of order", s->obj, tag, s->elems[idx].name,
			    s->elems[last].tag, s->elems[last].name);
		if ((r = elem_check_len(s, (size_t)idx, v.len, why)) != PV_OK)
			return r;
		out->v[idx] = v;
		out->present[idx] = true;
		next = (size_t)idx + 1;
		last = idx;
		if (tag == TAG_FE && !buf_done(&in))
			return pv_why_set(why, PV_E_MALFORMED,
			    "%s: %zu byte%s after FE (error detection code)",
			    s->obj, in.len, PL(in.len));
	}
	/* Checked last, so an element that came late is "out of order". */
	for (j = 0; j < s->n; j++)
		if (s->elems[j].required && !out->present[j])
			return elem_missing(s, j, why);
	return PV_OK;
}

/* obj_check validates builder input against the table, as a parse would. */
static enum pv_err
obj_check(const struct obj_spec *s, const struct obj_vals *vals,
    struct pv_why *why)
{
	size_t i;
	enum pv_err r;

	for (i = 0; i < s->n; i++) {
		if (!vals->present[i]) {
			if (s->elems[i].required)
				return pv_why_set(why, PV_E_INPUT,
				    "%s: tag %02X (%s) is required", s->obj,
				    s->elems[i].tag, s->elems[i].name);
			continue;
		}
		if ((r = elem_check_len(s, i, vals->v[i].len, why)) != PV_OK)
			return r == PV_E_MALFORMED ? PV_E_INPUT : r;
	}
	return PV_OK;
}

static enum pv_err
out_status(const struct obj_spec *s, const struct buf_out *out,
    struct pv_why *why)
{
	if (buf_out_ok(out))
		return PV_OK;
	return pv_why_set(why, PV_E_TOO_LONG,
	    "%s: the encoding does not fit the output buffer", s->obj);
}

/* obj_emit writes the present elements of |vals| in table order. */
static enum pv_err
obj_emit(const struct obj_spec *s, const struct obj_vals *vals,
    struct buf_out *out, struct pv_why *why)
{
	enum pv_err r;
	size_t i;

	if ((r = obj_check(s, vals, why)) != PV_OK)
		return r;
	for (i = 0; i < s->n; i++)
		if (vals->present[i])
			(void)tlv_put(out, s->elems[i].tag, vals->v[i].p,
			    vals->v[i].len);
	return out_status(s, out, why);
}

/* The byte of a 1-byte element the walker has already length-checked. */
static uint8_t
view_u8(const struct buf_cur *v)
{
	uint8_t b = 0;

	(void)buf_peek_u8(v, &b);
	return b;
}

static void
vals_set(struct obj_vals *vals, size_t i, const void *p, size_t n)
{
	buf_cur_init(&vals->v[i], p, n);
	vals->present[i] = true;
}

static void
vals_set_view(struct obj_vals *vals, size_t i, bool present,
    const struct buf_cur *v)
{
	if (!present)
		return;
	vals->v[i] = *v;
	vals->present[i] = true;
}

static enum pv_err
obj_empty(const struct obj_spec *s, struct pv_why *why)
{
	return pv_why_set(why, PV_E_NOT_FOUND, "%s: object is empty", s->obj);
}

/* ---- shared checks --------------------------------------------------------- */

static bool
all_digits(const struct buf_cur *v, size_t off, size_t n)
{
	struct buf_cur c = *v;
	uint8_t b;
	size_t i;

	if (!buf_skip(&c, off))
		return false;
	for (i = 0; i < n; i++)
		if (!buf_get_u8(&c, &b) || b < '0' || b > '9')
			return false;
	return true;
}

static unsigned
digits_value(const uint8_t *p, size_t n)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

static unsigned
days_in_month(unsigned year, unsigned month)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month == 2 && leap)
		return 29;
	return days[month - 1];
}

/* A YYYYMMDD date (CHUID 35): 8 ASCII digits naming a real day. */
static bool
date_valid(const struct buf_cur *v)
{
	uint8_t d[8];
	unsigned y, m, day;

	if (!all_digits(v, 0, 8) || !buf_copy_exact(v, d, sizeof(d)))
		return false;
	y = digits_value(d, 4);
	m = digits_value(d + 4, 2);
	day = digits_value(d + 6, 2);
	return y > 0 && m >= 1 && m <= 12 && day >= 1 &&
	    day <= days_in_month(y, m);
}

/* A YYYYMMMDD date (printed information 04): "2030JAN01". */
static bool
printed_date_valid(const struct buf_cur *v)
{
	static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
	uint8_t d[9];
	unsigned y, m, day;
	size_t i;

	if (!buf_copy_exact(v, d, sizeof(d)) || !all_digits(v, 0, 4) ||
	    !all_digits(v, 7, 2))
		return false;
	for (i = 4; i < 7; i++)
		if (d[i] >= 'a' && d[i] <= 'z')
			d[i] = (uint8_t)(d[i] - 'a' + 'A');
	for (m = 1; m <= 12; m++)
		if (memcmp(d + 4, months + 3 * (m - 1), 3) == 0)
			break;
	if (m > 12)
		return false;
	y = digits_value(d, 4);
	day = digits_value(d + 7, 2);
	return y > 0 && day >= 1 && day <= days_in_month(y, m);
}

/* ---- object names ---------------------------------------------------------- */

const uint8_t piv_main_key[PIV_MAIN_KEYS] = {
	PIV_KEY_AUTH, PIV_KEY_SIGN, PIV_KEY_KEYMGMT, PIV_KEY_CARD_AUTH
};

int
piv_main_key_index(uint8_t key_ref)
{
	int i;

	for (i = 0; i < PIV_MAIN_KEYS; i++)
		if (piv_main_key[i] == key_ref)
			return i;
	return -1;
}

const char *
piv_key_name(uint8_t key_ref)
{
	static const char *const retired[20] = {
		"retired 1", "retired 2", "retired 3", "retired 4",
		"retired 5", "retired 6", "retired 7", "retired 8",
		"retired 9", "retired 10", "retired 11", "retired 12",
		"retired 13", "retired 14", "retired 15", "retired 16",
		"retired 17", "retired 18", "retired 19", "retired 20" };

	switch (key_ref) {
	case PIV_KEY_AUTH: return "PIV Authentication";
	case PIV_KEY_SIGN: return "Digital Signature";
	case PIV_KEY_KEYMGMT: return "Key Management";
	case PIV_KEY_CARD_AUTH: return "Card Authentication";
	case PIV_KEY_MGMT: return "Card Management (9B)";
	case PIV_KEY_YK_ATTEST: return "attestation (F9)";
	default:
		if (key_ref >= PIV_KEY_RETIRED_FIRST &&
		    key_ref <= PIV_KEY_RETIRED_LAST)
			return retired[key_ref - PIV_KEY_RETIRED_FIRST];
		return "unknown key";
	}
}

bool
piv_obj_for_key(uint8_t key_ref, uint32_t *out_tag)
{
	switch (key_ref) {
	case 0x9a:
		*out_tag = PIV_OBJ_AUTH_CERT;
		return true;
	case 0x9c:
		*out_tag = PIV_OBJ_SIGN_CERT;
		return true;
	case 0x9d:
		*out_tag = PIV_OBJ_KEYMGMT_CERT;
		return true;
	case 0x9e:
		*out_tag = PIV_OBJ_CARD_AUTH_CERT;
		return true;
	case 0xf9:
		*out_tag = PIV_OBJ_YK_ATTEST;
		return true;
	default:
		break;
	}
	/* Part 1 Table 4b: retired keys 82..95 map to 5FC10D..5FC120. */
	if (key_ref >= 0x82 && key_ref <= 0x95) {
		*out_tag = PIV_OBJ_RETIRED_FIRST + (uint32_t)(key_ref - 0x82);
		return true;
	}
	return false;
}

const char *
piv_obj_name(uint32_t tag)
{
	switch (tag) {
	case PIV_OBJ_CARD_AUTH_CERT:
		return "Card Authentication certificate (9E)";
	case PIV_OBJ_CHUID:
		return "CHUID";
	case PIV_OBJ_FINGERPRINTS:
		return "cardholder fingerprints";
	case PIV_OBJ_AUTH_CERT:
		return "PIV Authentication certificate (9A)";
	case PIV_OBJ_SECURITY:
		return "security object";
	case PIV_OBJ_CCC:
		return "card capability container";
	case PIV_OBJ_FACE:
		return "cardholder facial image";
	case PIV_OBJ_PRINTED:
		return "printed information";
	case PIV_OBJ_SIGN_CERT:
		return "Digital Signature certificate (9C)";
	case PIV_OBJ_KEYMGMT_CERT:
		return "Key Management certificate (9D)";
	case PIV_OBJ_KEY_HISTORY:
		return "key history";
	case PIV_OBJ_IRIS:
		return "cardholder iris images";
	case PIV_OBJ_SM_SIGNER:
		return "secure messaging certificate signer";
	case PIV_OBJ_PAIRING:
		return "pairing code reference data";
	case PIV_OBJ_DISCOVERY:
		return "discovery object";
	case PIV_OBJ_BIT_GROUP:
		return "biometric information templates group template";
	case PIV_OBJ_YK_ADMIN:
		return "YubiKey admin data";
	case PIV_OBJ_YK_ATTEST:
		return "YubiKey attestation certificate";
	default:
		break;
	}
	if (tag >= PIV_OBJ_RETIRED_FIRST && tag <= PIV_OBJ_RETIRED_LAST)
		return "retired Key Management certificate";
	return "unknown object";
}

/* ---- certificate container ------------------------------------------------- */

/* One DER SEQUENCE and nothing else (a certificate's outer shape). */
static bool
der_one_sequence(const struct buf_cur *v)
{
	struct buf_cur c = *v, body;

	return tlv_get(&c, 0x30, &body) && buf_done(&c);
}

enum pv_err
piv_certobj_parse(const uint8_t *p, size_t len, struct piv_certobj *out,
    struct pv_why *why)
{
	struct buf_cur in;
	struct obj_vals vals;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&cert_spec, why);
	if ((r = obj_walk(&cert_spec, in, &vals, why)) != PV_OK)
		return r;
	if (buf_done(&vals.v[CE_CERT]))
		return pv_why_set(why, PV_E_NOT_FOUND,
		    "certificate container: no certificate (tag 70 is empty)");
	out->cert = vals.v[CE_CERT];
	if (vals.present[CE_INFO]) {
		uint8_t info = view_u8(&vals.v[CE_INFO]);

		/* 01 gzip; 80 what older cards set for gzip; rest reserved. */
		if ((info & ~(PIV_CERTINFO_GZIP | PIV_CERTINFO_LEGACY_GZ)) != 0)
			return pv_why_set(why, PV_E_MALFORMED,
			    "certificate container: CertInfo %02X names an "
			    "unsupported encoding", info);
		out->has_certinfo = true;
		out->certinfo = info;
		out->compressed = info != 0;
	}
	if (vals.present[CE_MSCUID]) {
		out->has_mscuid = true;
		out->mscuid = vals.v[CE_MSCUID];
	}
	if (!out->compressed && !der_one_sequence(&out->cert))
		return pv_why_set(why, PV_E_MALFORMED,
		    "certificate container: tag 70 does not hold one DER "
		    "SEQUENCE");
	return PV_OK;
}

static enum pv_err
cert_inflate(const struct buf_cur *in, size_t max, uint8_t **out,
    size_t *out_len, struct pv_why *why)
{
	z_stream zs;
	uint8_t *buf = NULL, *small;
	enum pv_err r = PV_E_INTERNAL;
	int zr;
	bool inited = false;

	if (in->len > UINT_MAX || max >= UINT_MAX)
		return pv_why_set(why, PV_E_TOO_LONG,
		    "certificate container: compressed certificate too long");
	/* One byte of headroom tells "exactly max" from "more than max". */
	if ((buf = malloc(max + 1)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	memset(&zs, 0, sizeof(zs));
	zs.next_in = in->p;
	zs.avail_in = (uInt)in->len;
	zs.next_out = buf;
	zs.avail_out = (uInt)(max + 1);
	/* 15 + 32: 32 KiB window, gzip or zlib header detected. */
	if (inflateInit2(&zs, 15 + 32) != Z_OK) {
		r = PV_E_NOMEM;
		goto out;
	}
	inited = true;
	zr = inflate(&zs, Z_FINISH);
	if (zs.total_out > max) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "certificate container: compressed certificate inflates "
		    "past %zu bytes", max);
		goto out;
	}
	if (zr == Z_MEM_ERROR) {
		r = PV_E_NOMEM;
		goto out;
	}
	if (zr == Z_BUF_ERROR) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "certificate container: compressed certificate is cut "
		    "short");
		goto out;
	}
	if (zr != Z_STREAM_END) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "certificate container: compressed certificate is "
		    "corrupt (%s)", zs.msg != NULL ? zs.msg : "zlib error");
		goto out;
	}
	if (zs.avail_in != 0) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "certificate container: %u byte%s after the compressed "
		    "certificate", zs.avail_in, PL(zs.avail_in));
		goto out;
	}
	*out_len = zs.total_out;
	if ((small = realloc(buf, *out_len > 0 ? *out_len : 1)) != NULL)
		buf = small;
	*out = buf;
	buf = NULL;
	r = PV_OK;
out:
	if (inited)
		(void)inflateEnd(&zs);
	free(buf);
	return r;
}

enum pv_err
piv_certobj_cert(const struct piv_certobj *obj, size_t max, uint8_t **out,
    size_t *out_len, struct pv_why *why)
{
	struct buf_cur der;
	uint8_t *buf = NULL;
	size_t n = 0;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (max == 0)
		max = PIV_CERT_INFLATE_MAX;
	if (buf_done(&obj->cert))
		return pv_why_set(why, PV_E_NOT_FOUND,
		    "certificate container: no certificate");
	if (obj->compressed) {
		if ((r = cert_inflate(&obj->cert, max, &buf, &n, why)) != PV_OK)
			goto out;
	} else {
		if (obj->cert.len > max) {
			r = pv_why_set(why, PV_E_TOO_LONG,
			    "certificate container: certificate is %zu %s, "
			    "more than %zu", obj->cert.len,
			    buf_bytes_word(obj->cert.len), max);
			goto out;
		}
		if ((buf = malloc(obj->cert.len)) == NULL) {
			r = PV_E_NOMEM;
			goto out;
		}
		n = obj->cert.len;
		memcpy(buf, obj->cert.p, n);
	}
	buf_cur_init(&der, buf, n);
	if (!der_one_sequence(&der)) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "certificate container: the %s certificate is not one DER "
		    "SEQUENCE", obj->compressed ? "inflated" : "stored");
		goto out;
	}
	*out = buf;
	*out_len = n;
	buf = NULL;
	r = PV_OK;
out:
	free(buf);
	return r;
}

static enum pv_err
cert_deflate(const uint8_t *der, size_t der_len, uint8_t **out,
    size_t *out_len)
{
	z_stream zs;
	uint8_t *buf = NULL;
	uLong bound;
	enum pv_err r = PV_E_INTERNAL;
	bool inited = false;

	*out = NULL;
	*out_len = 0;
	if (der_len > UINT_MAX / 2)
		return PV_E_TOO_LONG;
	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: gzip wrapper (RFC 1952), mtime 0, so output is stable. */
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return PV_E_NOMEM;
	inited = true;
	bound = deflateBound(&zs, (uLong)der_len);
	if (bound > UINT_MAX || (buf = malloc(bound)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	zs.next_in = der;
	zs.avail_in = (uInt)der_len;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		r = PV_E_INTERNAL;
		goto out;
	}
	*out_len = zs.total_out;
	*out = buf;
	buf = NULL;
	r = PV_OK;
out:
	if (inited)
		(void)deflateEnd(&zs);
	free(buf);
	return r;
}

enum pv_err
piv_certobj_build(const uint8_t *der, size_t der_len, bool compress,
    struct buf_out *out, struct pv_why *why)
{
	struct buf_cur c;
	struct obj_vals vals;
	uint8_t info = compress ? PIV_CERTINFO_GZIP : 0, *gz = NULL;
	size_t gz_len = 0;
	enum pv_err r = PV_E_INTERNAL;

	buf_cur_init(&c, der, der_len);
	if (buf_done(&c) || !der_one_sequence(&c))
		return pv_why_set(why, PV_E_INPUT,
		    "certificate container: the certificate is not one DER "
		    "SEQUENCE");
	memset(&vals, 0, sizeof(vals));
	if (compress) {
		if ((r = cert_deflate(der, der_len, &gz, &gz_len)) != PV_OK) {
			(void)pv_why_set(why, r, "certificate container: "
			    "cannot compress the certificate");
			goto out;
		}
		vals_set(&vals, CE_CERT, gz, gz_len);
	} else {
		vals_set(&vals, CE_CERT, der, der_len);
	}
	vals_set(&vals, CE_INFO, &info, 1);
	vals_set(&vals, CE_FE, NULL, 0);
	r = obj_emit(&cert_spec, &vals, out, why);
out:
	free(gz);
	return r;
}

/* ---- CHUID ----------------------------------------------------------------- */

enum pv_err
piv_chuid_parse(const uint8_t *p, size_t len, struct piv_chuid *out,
    struct pv_why *why)
{
	struct buf_cur in;
	struct obj_vals vals;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&chuid_spec, why);
	if ((r = obj_walk(&chuid_spec, in, &vals, why)) != PV_OK)
		return r;
	if (!date_valid(&vals.v[CH_EXP]))
		return pv_why_set(why, PV_E_MALFORMED,
		    "CHUID: expiration date is not a valid YYYYMMDD date");
	out->has_buffer_len = vals.present[CH_EE];
	out->buffer_len = vals.v[CH_EE];
	(void)buf_copy_exact(&vals.v[CH_FASCN], out->fascn, FASCN_LEN);
	out->has_org_id = vals.present[CH_ORG];
	out->org_id = vals.v[CH_ORG];
	out->has_duns = vals.present[CH_DUNS];
	out->duns = vals.v[CH_DUNS];
	(void)buf_copy_exact(&vals.v[CH_GUID], out->guid, PIV_CHUID_GUID_LEN);
	(void)buf_copy_exact(&vals.v[CH_EXP], out->expiry,
	    PIV_CHUID_EXPIRY_LEN);
	out->expiry[PIV_CHUID_EXPIRY_LEN] = '\0';
	if (vals.present[CH_HOLDER]) {
		out->has_cardholder_uuid = true;
		(void)buf_copy_exact(&vals.v[CH_HOLDER], out->cardholder_uuid,
		    sizeof(out->cardholder_uuid));
	}
	out->signature = vals.v[CH_SIG];
	return PV_OK;
}

enum pv_err
piv_chuid_build(const struct piv_chuid *in, struct buf_out *out,
    struct pv_why *why)
{
	struct obj_vals vals;
	struct buf_cur exp;

	memset(&vals, 0, sizeof(vals));
	vals_set_view(&vals, CH_EE, in->has_buffer_len, &in->buffer_len);
	vals_set(&vals, CH_FASCN, in->fascn, FASCN_LEN);
	vals_set_view(&vals, CH_ORG, in->has_org_id, &in->org_id);
	vals_set_view(&vals, CH_DUNS, in->has_duns, &in->duns);
	vals_set(&vals, CH_GUID, in->guid, PIV_CHUID_GUID_LEN);
	vals_set(&vals, CH_EXP, in->expiry, strnlen(in->expiry,
	    sizeof(in->expiry)));
	if (in->has_cardholder_uuid)
		vals_set(&vals, CH_HOLDER, in->cardholder_uuid,
		    sizeof(in->cardholder_uuid));
	vals_set_view(&vals, CH_SIG, true, &in->signature);
	vals_set(&vals, CH_FE, NULL, 0);
	exp = vals.v[CH_EXP];
	if (exp.len != PIV_CHUID_EXPIRY_LEN || !date_valid(&exp))
		return pv_why_set(why, PV_E_INPUT,
		    "CHUID: expiration date \"%.8s\" is not a valid YYYYMMDD "
		    "date", in->expiry);
	return obj_emit(&chuid_spec, &vals, out, why);
}

enum pv_err
piv_chuid_tbs(const uint8_t *p, size_t len, struct buf_out *out,
    struct pv_why *why)
{
	struct piv_chuid chk;
	struct buf_cur in, raw, v;
	uint32_t tag;
	enum pv_err r;

	if ((r = piv_chuid_parse(p, len, &chk, why)) != PV_OK)
		return r;
	buf_cur_init(&in, p, len);
	while (!buf_done(&in)) {
		struct buf_cur before = in;

		if (!tlv_get_any(&in, &tag, &v))
			return PV_E_INTERNAL;	/* parsed above */
		/* The raw element: header and value as the card has them. */
		if (!buf_get_sub(&before, before.len - in.len, &raw))
			return PV_E_INTERNAL;
		if (tag == 0xee || tag == 0x3e)
			continue;
		(void)buf_put(out, raw.p, raw.len);
		if (tag == TAG_FE)
			break;
	}
	return out_status(&chuid_spec, out, why);
}

/* ---- CCC ------------------------------------------------------------------- */

enum pv_err
piv_ccc_parse(const uint8_t *p, size_t len, struct piv_ccc *out,
    struct pv_why *why)
{
	struct buf_cur in;
	struct obj_vals vals;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&ccc_spec, why);
	if ((r = obj_walk(&ccc_spec, in, &vals, why)) != PV_OK)
		return r;
	out->card_id = vals.v[CC_F0];
	out->cc_version = vals.v[CC_F1];
	out->grammar_version = vals.v[CC_F2];
	out->app_url = vals.v[CC_F3];
	out->pkcs15 = vals.v[CC_F4];
	out->data_model = view_u8(&vals.v[CC_F5]);
	out->acr_table = vals.v[CC_F6];
	out->card_apdus = vals.v[CC_F7];
	out->redirection = vals.v[CC_FA];
	out->cap_tuples = vals.v[CC_FB];
	out->status_tuples = vals.v[CC_FC];
	out->next_ccc = vals.v[CC_FD];
	out->has_ext_app_url = vals.present[CC_E3];
	out->ext_app_url = vals.v[CC_E3];
	out->has_secobj_buffer = vals.present[CC_B4];
	out->secobj_buffer = vals.v[CC_B4];
	return PV_OK;
}

enum pv_err
piv_ccc_build(const struct piv_ccc *in, struct buf_out *out,
    struct pv_why *why)
{
	struct obj_vals vals;

	if (in->data_model != PIV_CCC_DATA_MODEL)
		return pv_why_set(why, PV_E_INPUT,
		    "CCC: data model number is %02X, PIV requires %02X",
		    in->data_model, PIV_CCC_DATA_MODEL);
	memset(&vals, 0, sizeof(vals));
	vals_set_view(&vals, CC_F0, true, &in->card_id);
	vals_set_view(&vals, CC_F1, true, &in->cc_version);
	vals_set_view(&vals, CC_F2, true, &in->grammar_version);
	vals_set_view(&vals, CC_F3, true, &in->app_url);
	vals_set_view(&vals, CC_F4, true, &in->pkcs15);
	vals_set(&vals, CC_F5, &in->data_model, 1);
	vals_set_view(&vals, CC_F6, true, &in->acr_table);
	vals_set_view(&vals, CC_F7, true, &in->card_apdus);
	vals_set_view(&vals, CC_FA, true, &in->redirection);
	vals_set_view(&vals, CC_FB, true, &in->cap_tuples);
	vals_set_view(&vals, CC_FC, true, &in->status_tuples);
	vals_set_view(&vals, CC_FD, true, &in->next_ccc);
	vals_set_view(&vals, CC_E3, in->has_ext_app_url, &in->ext_app_url);
	vals_set_view(&vals, CC_B4, in->has_secobj_buffer,
	    &in->secobj_buffer);
	vals_set(&vals, CC_FE, NULL, 0);
	return obj_emit(&ccc_spec, &vals, out, why);
}

/* ---- Discovery Object ------------------------------------------------------ */

static const uint8_t piv_rid[5] = { 0xa0, 0x00, 0x00, 0x03, 0x08 };

/*
 * Table 18: b8 and b2-b1 of byte 1 are 0, b7 (PIV PIN) is always set, and
 * "VCI without pairing code" needs VCI: 40 48 4C 50 58 5C 60 68 6C 70 78 7C.
 */
static enum pv_err
disc_check(const char *obj, const uint8_t *aid, size_t aid_len,
    const uint8_t policy[2], enum pv_err e, struct pv_why *why)
{
	uint8_t b1 = policy[0], b2 = policy[1];

	if (aid_len < sizeof(piv_rid) ||
	    memcmp(aid, piv_rid, sizeof(piv_rid)) != 0)
		return pv_why_set(why, e,
		    "%s: AID does not start with the PIV RID A0 00 00 03 08",
		    obj);
	if ((b1 & 0x83) != 0 || (b1 & PIV_POLICY_PIV_PIN) == 0 ||
	    ((b1 & PIV_POLICY_VCI_NOPAIR) != 0 && (b1 & PIV_POLICY_VCI) == 0))
		return pv_why_set(why, e,
		    "%s: PIN usage policy byte 1 is %02X, not a value SP "
		    "800-73-4 Table 18 allows", obj, b1);
	if (b2 != 0 && b2 != PIV_POLICY2_PIV_PIN && b2 != PIV_POLICY2_GLOBAL_PIN)
		return pv_why_set(why, e,
		    "%s: PIN usage policy byte 2 is %02X, expected 00, 10 or "
		    "20", obj, b2);
	return PV_OK;
}

enum pv_err
piv_discovery_parse(const uint8_t *p, size_t len, struct piv_discovery *out,
    struct pv_why *why)
{
	struct buf_cur in, body;
	struct obj_vals vals;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&disc_spec, why);
	if (!tlv_get(&in, PIV_OBJ_DISCOVERY, &body)) {
		char diag[128];
		uint32_t tag;

		if (tlv_peek_tag(&in, &tag) && tag != PIV_OBJ_DISCOVERY)
			return pv_why_set(why, PV_E_MALFORMED,
			    "discovery object: starts with tag %02X, expected "
			    "7E", tag);
		piv_tlv_explain(&in, diag, sizeof(diag));
		return pv_why_set(why, PV_E_MALFORMED,
		    "discovery object: %s", diag);
	}
	if (!buf_done(&in))
		return pv_why_set(why, PV_E_MALFORMED,
		    "discovery object: %zu byte%s after the 7E element", in.len,
		    PL(in.len));
	if ((r = obj_walk(&disc_spec, body, &vals, why)) != PV_OK)
		return r;
	(void)buf_copy_exact(&vals.v[DI_POLICY], out->policy, 2);
	out->aid_len = vals.v[DI_AID].len;
	(void)buf_copy_exact(&vals.v[DI_AID], out->aid, out->aid_len);
	if ((r = disc_check("discovery object", out->aid, out->aid_len,
	    out->policy, PV_E_MALFORMED, why)) != PV_OK) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return PV_OK;
}

enum pv_err
piv_discovery_build(const struct piv_discovery *in, struct buf_out *out,
    struct pv_why *why)
{
	struct obj_vals vals;
	size_t mark;
	enum pv_err r;

	if (in->aid_len > sizeof(in->aid))
		return pv_why_set(why, PV_E_INPUT,
		    "discovery object: AID is %zu %s, at most 16", in->aid_len,
		    buf_bytes_word(in->aid_len));
	if ((r = disc_check("discovery object", in->aid, in->aid_len,
	    in->policy, PV_E_INPUT, why)) != PV_OK)
		return r;
	memset(&vals, 0, sizeof(vals));
	vals_set(&vals, DI_AID, in->aid, in->aid_len);
	vals_set(&vals, DI_POLICY, in->policy, 2);
	if ((r = obj_check(&disc_spec, &vals, why)) != PV_OK)
		return r;
	(void)tlv_open(out, PIV_OBJ_DISCOVERY, &mark);
	(void)tlv_put(out, 0x4f, in->aid, in->aid_len);
	(void)tlv_put(out, 0x5f2f, in->policy, 2);
	(void)tlv_close(out, mark);
	return out_status(&disc_spec, out, why);
}

/* ---- Key History Object ---------------------------------------------------- */

static enum pv_err
kh_check(uint8_t on, uint8_t off, bool has_url, enum pv_err e,
    struct pv_why *why)
{
	if (on > PIV_RETIRED_KEYS || off > PIV_RETIRED_KEYS ||
	    on + off > PIV_RETIRED_KEYS)
		return pv_why_set(why, e,
		    "key history: %u on-card and %u off-card keys, more than "
		    "the %d retired key slots", on, off, PIV_RETIRED_KEYS);
	if (off > 0 && !has_url)
		return pv_why_set(why, e,
		    "key history: %u off-card keys but no offCardCertURL (F3)",
		    off);
	if (off == 0 && has_url)
		return pv_why_set(why, e,
		    "key history: offCardCertURL (F3) present but no off-card "
		    "keys");
	return PV_OK;
}

enum pv_err
piv_keyhist_parse(const uint8_t *p, size_t len, struct piv_keyhist *out,
    struct pv_why *why)
{
	struct buf_cur in;
	struct obj_vals vals;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&kh_spec, why);
	if ((r = obj_walk(&kh_spec, in, &vals, why)) != PV_OK)
		return r;
	out->on_card = view_u8(&vals.v[KH_ON]);
	out->off_card = view_u8(&vals.v[KH_OFF]);
	out->has_url = vals.present[KH_URL];
	out->url = vals.v[KH_URL];
	if ((r = kh_check(out->on_card, out->off_card, out->has_url,
	    PV_E_MALFORMED, why)) != PV_OK) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return PV_OK;
}

enum pv_err
piv_keyhist_build(const struct piv_keyhist *in, struct buf_out *out,
    struct pv_why *why)
{
	struct obj_vals vals;
	enum pv_err r;

	if ((r = kh_check(in->on_card, in->off_card, in->has_url, PV_E_INPUT,
	    why)) != PV_OK)
		return r;
	memset(&vals, 0, sizeof(vals));
	vals_set(&vals, KH_ON, &in->on_card, 1);
	vals_set(&vals, KH_OFF, &in->off_card, 1);
	vals_set_view(&vals, KH_URL, in->has_url, &in->url);
	vals_set(&vals, KH_FE, NULL, 0);
	return obj_emit(&kh_spec, &vals, out, why);
}

/* ---- Printed Information --------------------------------------------------- */

enum pv_err
piv_printed_parse(const uint8_t *p, size_t len, struct piv_printed *out,
    struct pv_why *why)
{
	struct buf_cur in;
	struct obj_vals vals;
	uint32_t tag;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&pr_spec, why);
	/* yubico-piv-tool keeps its PIN-protected 9B key here: 88 { 89 }. */
	if (tlv_peek_tag(&in, &tag) && tag == 0x88)
		return pv_why_set(why, PV_E_MALFORMED,
		    "printed information: the object holds a PIN-protected "
		    "management key (tag 88), not printed information");
	if ((r = obj_walk(&pr_spec, in, &vals, why)) != PV_OK)
		return r;
	if (!printed_date_valid(&vals.v[PR_EXP]))
		return pv_why_set(why, PV_E_MALFORMED,
		    "printed information: expiration date is not a valid "
		    "YYYYMMMDD date");
	out->name = vals.v[PR_NAME];
	out->affiliation = vals.v[PR_AFF];
	out->expiry = vals.v[PR_EXP];
	out->serial = vals.v[PR_SER];
	out->issuer = vals.v[PR_ISS];
	out->has_org1 = vals.present[PR_ORG1];
	out->org1 = vals.v[PR_ORG1];
	out->has_org2 = vals.present[PR_ORG2];
	out->org2 = vals.v[PR_ORG2];
	return PV_OK;
}

enum pv_err
piv_printed_build(const struct piv_printed *in, struct buf_out *out,
    struct pv_why *why)
{
	struct obj_vals vals;

	if (in->expiry.len != 9 || !printed_date_valid(&in->expiry))
		return pv_why_set(why, PV_E_INPUT,
		    "printed information: expiration date is not a valid "
		    "YYYYMMMDD date (like 2030JAN01)");
	memset(&vals, 0, sizeof(vals));
	vals_set_view(&vals, PR_NAME, true, &in->name);
	vals_set_view(&vals, PR_AFF, true, &in->affiliation);
	vals_set_view(&vals, PR_EXP, true, &in->expiry);
	vals_set_view(&vals, PR_SER, true, &in->serial);
	vals_set_view(&vals, PR_ISS, true, &in->issuer);
	vals_set_view(&vals, PR_ORG1, in->has_org1, &in->org1);
	vals_set_view(&vals, PR_ORG2, in->has_org2, &in->org2);
	vals_set(&vals, PR_FE, NULL, 0);
	return obj_emit(&pr_spec, &vals, out, why);
}

/* ---- Security Object ------------------------------------------------------- */

enum pv_err
piv_secobj_parse(const uint8_t *p, size_t len, struct piv_secobj *out,
    struct pv_why *why)
{
	struct buf_cur in;
	struct obj_vals vals;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&in, p, len);
	if (buf_done(&in))
		return obj_empty(&so_spec, why);
	if ((r = obj_walk(&so_spec, in, &vals, why)) != PV_OK)
		return r;
	if (vals.v[SO_MAP].len % 3 != 0)
		return pv_why_set(why, PV_E_MALFORMED,
		    "security object: mapping is %zu %s, not a multiple of "
		    "3", vals.v[SO_MAP].len,
		    buf_bytes_word(vals.v[SO_MAP].len));
	out->map = vals.v[SO_MAP];
	out->cms = vals.v[SO_CMS];
	return PV_OK;
}

enum pv_err
piv_secobj_build(const struct piv_secobj *in, struct buf_out *out,
    struct pv_why *why)
{
	struct obj_vals vals;

	if (in->map.len % 3 != 0)
		return pv_why_set(why, PV_E_INPUT,
		    "security object: mapping is %zu %s, not a multiple of "
		    "3", in->map.len, buf_bytes_word(in->map.len));
	memset(&vals, 0, sizeof(vals));
	vals_set_view(&vals, SO_MAP, true, &in->map);
	vals_set_view(&vals, SO_CMS, true, &in->cms);
	vals_set(&vals, SO_FE, NULL, 0);
	return obj_emit(&so_spec, &vals, out, why);
}

size_t
piv_secobj_map_count(const struct piv_secobj *so)
{
	return so->map.len / 3;
}

bool
piv_secobj_map_get(const struct piv_secobj *so, size_t i, uint8_t *out_dg,
    uint16_t *out_container_id)
{
	struct buf_cur c = so->map;

	if (i >= piv_secobj_map_count(so) || !buf_skip(&c, 3 * i))
		return false;
	return buf_get_u8(&c, out_dg) && buf_get_u16(&c, out_container_id);
}
