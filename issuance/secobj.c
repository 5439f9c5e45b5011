/*
 * secobj.c: build and check the PIV Security Object (secobj.h).
 */
#include <limits.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "apdu/tlv.h"
#include "issuance/pkix_util.h"
#include "issuance/secobj.h"

#define SECOBJ_TAG_MAP		0xba
#define SECOBJ_TAG_CMS		0xbb
#define SECOBJ_TAG_EDC		0xfe
#define SECOBJ_MAX_BYTES	(64 * 1024)

/* DER of the digest OIDs (RFC 5754 §2): 2.16.840.1.101.3.4.2.1 / .2 */
static const uint8_t secobj_oid_sha256[] = {
	0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
};
static const uint8_t secobj_oid_sha384[] = {
	0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02
};

uint8_t
secobj_default_dg(uint16_t container_id)
{
	switch (container_id) {
	case SECOBJ_CID_CHUID: return 1;
	case SECOBJ_CID_FINGERPRINTS: return 2;
	case SECOBJ_CID_PRINTED_INFO: return 3;
	case SECOBJ_CID_FACIAL_IMAGE: return 4;
	case SECOBJ_CID_IRIS: return 5;
	default: return 0;
	}
}

static enum pv_err
secobj_check_entries(const struct secobj_entry *e, size_t n,
    struct pv_why *why)
{
	size_t i, j;

	if (n == 0 || n > SECOBJ_MAX_ENTRIES)
		return pv_why_set(why, PV_E_INVAL,
		    "Security Object: %zu containers (1..%d allowed)", n,
		    SECOBJ_MAX_ENTRIES);
	for (i = 0; i < n; i++) {
		if (e[i].dg == 0 || e[i].dg > 127)
			return pv_why_set(why, PV_E_INVAL,
			    "Security Object: data group %u out of range",
			    e[i].dg);
		if (e[i].data == NULL && e[i].len != 0)
			return pv_why_set(why, PV_E_INVAL,
			    "Security Object: container %04X has no data",
			    e[i].container_id);
		for (j = 0; j < i; j++)
			if (e[j].dg == e[i].dg ||
			    e[j].container_id == e[i].container_id)
				return pv_why_set(why, PV_E_INVAL,
				    "Security Object: data group %u or container "
				    "%04X listed twice", e[i].dg,
				    e[i].container_id);
	}
	return PV_OK;
}

/* secobj_lds builds the DER LDSSecurityObject for |e| with |md|. */
static enum pv_err
secobj_lds(const struct secobj_entry *e, size_t n, const EVP_MD *md,
    struct buf_out *o, struct pv_why *why)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int h_len = 0;
	size_t top, alg, list, item, i;
	bool sha384 = EVP_MD_get_type(md) == NID_sha384;

	(void)tlv_open(o, 0x30, &top);
	(void)tlv_put(o, 0x02, "\x00", 1);		/* version v0 */
	(void)tlv_open(o, 0x30, &alg);			/* parameters absent */
	(void)tlv_put(o, 0x06, sha384 ? secobj_oid_sha384 : secobj_oid_sha256,
	    sizeof(secobj_oid_sha256));
	(void)tlv_close(o, alg);
	(void)tlv_open(o, 0x30, &list);
	for (i = 0; i < n; i++) {
		if (!EVP_Digest(e[i].data != NULL ? e[i].data :
		    (const uint8_t *)"", e[i].len, h, &h_len, md, NULL))
			return pkix_crypto_err(why, "hashing container %04X",
			    e[i].container_id);
		(void)tlv_open(o, 0x30, &item);
		(void)tlv_put(o, 0x02, &e[i].dg, 1);	/* 1..127: one byte */
		(void)tlv_put(o, 0x04, h, h_len);
		(void)tlv_close(o, item);
	}
	(void)tlv_close(o, list);
	(void)tlv_close(o, top);
	if (!buf_out_ok(o))
		return pv_why_set(why, PV_E_TOO_LONG,
		    "Security Object: too large");
	return PV_OK;
}

static enum pv_err
secobj_build_int(X509 *cert, EVP_PKEY *key, const struct secobj_entry *e,
    size_t n, bool with_cert, uint8_t **out, size_t *out_len,
    struct pv_why *why);

enum pv_err
secobj_build(X509 *cert, EVP_PKEY *key, const struct secobj_entry *e,
    size_t n, uint8_t **out, size_t *out_len, struct pv_why *why)
{
	return secobj_build_int(cert, key, e, n, false, out, out_len, why);
}

enum pv_err
secobj_build_with_cert(X509 *cert, EVP_PKEY *key,
    const struct secobj_entry *e, size_t n, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	return secobj_build_int(cert, key, e, n, true, out, out_len, why);
}

static enum pv_err
secobj_build_int(X509 *cert, EVP_PKEY *key, const struct secobj_entry *e,
    size_t n, bool with_cert, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	struct buf_out lds, obj;
	uint8_t *cms = NULL, *res = NULL;
	size_t cms_len = 0, res_len = 0, mark, i;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	memset(&lds, 0, sizeof(lds));
	memset(&obj, 0, sizeof(obj));
	if ((r = secobj_check_entries(e, n, why)) != PV_OK)
		goto out;
	if (!buf_out_alloc(&lds, 256, SECOBJ_MAX_BYTES) ||
	    !buf_out_alloc(&obj, 1024, SECOBJ_MAX_BYTES)) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = secobj_lds(e, n, pkix_md_for_key(key), &lds, why)) != PV_OK)
		goto out;
	if ((r = pkix_cms_sign(cert, key, PKIX_OID_LDS_SECURITY_OBJECT, lds.p,
	    lds.len, false, with_cert, &cms, &cms_len, why)) != PV_OK)
		goto out;
	(void)tlv_open(&obj, SECOBJ_TAG_MAP, &mark);
	for (i = 0; i < n; i++) {
		(void)buf_put_u8(&obj, e[i].dg);
		(void)buf_put_u16(&obj, e[i].container_id);
	}
	(void)tlv_close(&obj, mark);
	(void)tlv_put(&obj, SECOBJ_TAG_CMS, cms, cms_len);
	(void)tlv_put(&obj, SECOBJ_TAG_EDC, NULL, 0);
	if (!buf_out_ok(&obj) || !buf_out_take(&obj, &res, &res_len)) {
		r = pv_why_set(why, PV_E_TOO_LONG, "Security Object: too large");
		goto out;
	}
	/* Hand over an OPENSSL_malloc copy, as the header promises. */
	if ((*out = OPENSSL_memdup(res, res_len)) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	*out_len = res_len;
	r = PV_OK;
out:
	buf_free_secret(res, res_len);
	buf_out_cleanup(&lds);
	buf_out_cleanup(&obj);
	OPENSSL_free(cms);
	return r;
}

/* ---- verify ------------------------------------------------------------------- */

struct secobj_map {
	struct secobj_entry e[SECOBJ_MAX_ENTRIES];	/* dg, container_id */
	size_t n;
};

static enum pv_err
secobj_parse(const uint8_t *p, size_t n, struct secobj_map *map,
    struct buf_cur *cms, struct pv_why *why)
{
	struct buf_cur c, m, edc;
	uint8_t dg;
	uint16_t cid;
	size_t i;

	memset(map, 0, sizeof(*map));
	buf_cur_init(&c, p, n);
	if (!tlv_get(&c, SECOBJ_TAG_MAP, &m))
		return pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: mapping (BA) missing or malformed");
	if (m.len == 0 || m.len % 3 != 0 || m.len / 3 > SECOBJ_MAX_ENTRIES)
		return pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: mapping of %zu bytes (3 per container, "
		    "at most %d containers)", m.len, SECOBJ_MAX_ENTRIES);
	while (buf_get_u8(&m, &dg) && buf_get_u16(&m, &cid)) {
		for (i = 0; i < map->n; i++)
			if (map->e[i].dg == dg)
				return pv_why_set(why, PV_E_MALFORMED,
				    "Security Object: data group %u mapped twice",
				    dg);
		map->e[map->n].dg = dg;
		map->e[map->n].container_id = cid;
		map->n++;
	}
	if (!tlv_get(&c, SECOBJ_TAG_CMS, cms) || cms->len == 0)
		return pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: signed object (BB) missing or malformed");
	/* SP 800-73-4 Part 1 Table 12: the error detection code is there,
	 * empty, and last. */
	if (!tlv_get(&c, SECOBJ_TAG_EDC, &edc) || edc.len != 0 || !buf_done(&c))
		return pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: expected an empty FE and nothing after it");
	return PV_OK;
}

/*
 * secobj_cms_content checks the SignedData |der| and its one signature, by
 * |signer|, and copies its eContent into *out (OPENSSL_free).
 */
static enum pv_err
secobj_cms_content(const struct buf_cur *der, X509 *signer, uint8_t **out,
    size_t *out_len, struct pv_why *why)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	ASN1_OCTET_STRING **content;
	ASN1_OBJECT *a = NULL, *b = NULL;
	const unsigned char *d = der->p;
	const ASN1_OBJECT *ct;
	const uint8_t *cp;
	size_t clen;
	long version = 0;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (der->len > INT_MAX) {
		r = pv_why_set(why, PV_E_MALFORMED, "Security Object: too long");
		goto out;
	}
	if ((r = pkix_cms_signed_data_version(der->p, der->len, &version,
	    why)) != PV_OK) {
		pv_why_prefix(why, "Security Object");
		goto out;
	}
	if ((cms = d2i_CMS_ContentInfo(NULL, &d, (long)der->len)) == NULL ||
	    d != der->p + der->len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: BB is not one DER SignedData");
		goto out;
	}
	if (version != 3) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "Security Object: SignedData version %ld, expected 3",
		    version);
		goto out;
	}
	if ((a = OBJ_txt2obj(PKIX_OID_LDS_SECURITY_OBJECT, 1)) == NULL ||
	    (b = OBJ_txt2obj(PKIX_OID_LDS_SECURITY_OBJECT_9303, 1)) == NULL) {
		r = pkix_crypto_err(why, "LDS OID");
		goto out;
	}
	ct = CMS_get0_eContentType(cms);
	if (OBJ_cmp(ct, a) != 0 && OBJ_cmp(ct, b) != 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "Security Object: eContentType is not ldsSecurityObject");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "Security Object: exactly one SignerInfo expected");
		goto out;
	}
	content = CMS_get0_content(cms);
	if (content == NULL || *content == NULL) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "Security Object: eContent absent (detached)");
		goto out;
	}
	cp = ASN1_STRING_get0_data(*content);
	clen = (size_t)ASN1_STRING_length(*content);
	/* Signed by the CHUID's signer, whose certificate BB omits: any
	 * certificate inside is never the one checked against. */
	if ((r = pkix_cms_verify_signer(cms, sk_CMS_SignerInfo_value(sis, 0),
	    signer, cp, clen, why)) != PV_OK) {
		pv_why_prefix(why, "Security Object: signature does not verify "
		    "with the CHUID signer's key");
		goto out;
	}
	if (clen == 0) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: empty eContent");
		goto out;
	}
	if ((*out = OPENSSL_memdup(cp, clen)) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	*out_len = clen;
	r = PV_OK;
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	ASN1_OBJECT_free(a);
	ASN1_OBJECT_free(b);
	return r;
}

enum pv_err
secobj_check_lds(const uint8_t *p, size_t n, const struct secobj_entry *map,
    size_t n_map, const struct secobj_entry *have, size_t n_have,
    size_t *n_checked, struct pv_why *why)
{
	struct buf_cur c, lds, v, alg, oid, list, item, dgv, hv;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int h_len = 0;
	bool covered[SECOBJ_MAX_ENTRIES] = { false };
	const EVP_MD *md;
	uint8_t dg;
	size_t i, j, checked = 0;

	if (n_checked != NULL)
		*n_checked = 0;
	if (n_have > SECOBJ_MAX_ENTRIES)
		return pv_why_set(why, PV_E_INVAL,
		    "Security Object: more than %d containers to check",
		    SECOBJ_MAX_ENTRIES);
	/* LDSSecurityObject, DER, read through the cursor. */
	buf_cur_init(&c, p, n);
	if (!tlv_get(&c, 0x30, &lds) || !buf_done(&c) ||
	    !tlv_get(&lds, 0x02, &v) || !buf_eq_mem(&v, "\x00", 1) ||
	    !tlv_get(&lds, 0x30, &alg) || !tlv_get(&alg, 0x06, &oid) ||
	    !tlv_get(&lds, 0x30, &list) || !buf_done(&lds))
		return pv_why_set(why, PV_E_MALFORMED,
		    "Security Object: eContent is not an LDSSecurityObject v0");
	if (buf_eq_mem(&oid, secobj_oid_sha256, sizeof(secobj_oid_sha256)))
		md = EVP_sha256();
	else if (buf_eq_mem(&oid, secobj_oid_sha384,
	    sizeof(secobj_oid_sha384)))
		md = EVP_sha384();
	else
		return pv_why_set(why, PV_E_VERIFY,
		    "Security Object: hash algorithm is not SHA-256 or SHA-384");
	while (!buf_done(&list)) {
		if (!tlv_get(&list, 0x30, &item) ||
		    !tlv_get(&item, 0x02, &dgv) || dgv.len != 1 ||
		    !buf_get_u8(&dgv, &dg) || dg == 0 || dg > 127 ||
		    !tlv_get(&item, 0x04, &hv) || !buf_done(&item))
			return pv_why_set(why, PV_E_MALFORMED,
			    "Security Object: malformed data group hash");
		for (i = 0; i < n_map && map[i].dg != dg; i++)
			;
		if (i == n_map)
			return pv_why_set(why, PV_E_VERIFY,
			    "Security Object: data group %u is hashed but not "
			    "mapped to a container", dg);
		for (j = 0; j < n_have &&
		    have[j].container_id != map[i].container_id; j++)
			;
		if (j == n_have)
			continue;	/* not read from the card (e.g. PIN) */
		if (covered[j])
			return pv_why_set(why, PV_E_VERIFY,
			    "Security Object: container %04X hashed twice",
			    map[i].container_id);
		if (!EVP_Digest(have[j].data != NULL ? have[j].data :
		    (const uint8_t *)"", have[j].len, h, &h_len, md, NULL))
			return pkix_crypto_err(why, "hash");
		if (hv.len != h_len || CRYPTO_memcmp(hv.p, h, h_len) != 0)
			return pv_why_set(why, PV_E_VERIFY,
			    "Security Object: container %04X does not match its "
			    "hash", map[i].container_id);
		covered[j] = true;
		checked++;
	}
	for (j = 0; j < n_have; j++)
		if (!covered[j])
			return pv_why_set(why, PV_E_VERIFY,
			    "Security Object: container %04X is not covered",
			    have[j].container_id);
	if (n_checked != NULL)
		*n_checked = checked;
	return PV_OK;
}

enum pv_err
secobj_verify(const uint8_t *p, size_t n, X509 *signer,
    const struct secobj_entry *have, size_t n_have, size_t *n_checked,
    struct pv_why *why)
{
	struct secobj_map map;
	struct buf_cur cms;
	uint8_t *lds = NULL;
	size_t lds_len = 0;
	enum pv_err r = PV_E_INTERNAL;

	if (n_checked != NULL)
		*n_checked = 0;
	if (n_have > SECOBJ_MAX_ENTRIES)
		return pv_why_set(why, PV_E_INVAL,
		    "Security Object: more than %d containers to check",
		    SECOBJ_MAX_ENTRIES);
	if ((r = secobj_parse(p, n, &map, &cms, why)) != PV_OK)
		goto out;
	if ((r = secobj_cms_content(&cms, signer, &lds, &lds_len, why)) !=
	    PV_OK)
		goto out;
	r = secobj_check_lds(lds, lds_len, map.e, map.n, have, n_have,
	    n_checked, why);
out:
	OPENSSL_free(lds);
	return r;
}
