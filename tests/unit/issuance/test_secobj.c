/*
 * test_secobj.c: the PIV Security Object (issuance/secobj.c).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "apdu/tlv.h"
#include "issuance/pkix_util.h"
#include "issuance/secobj.h"
#include "tests/support/hex.h"
#include "tests/unit/issuance/test_ca_support.h"

static const uint8_t chuid_body[] = {
	0x30, 0x02, 0xaa, 0xbb, 0x34, 0x01, 0x01, 0x3e, 0x00, 0xfe, 0x00
};
static const uint8_t printed_body[] = {
	0x01, 0x08, 'J', 'a', 'n', 'e', ' ', 'D', 'o', 'e', 0xfe, 0x00
};

static void
entries(struct secobj_entry e[2])
{
	memset(e, 0, 2 * sizeof(*e));
	e[0].dg = secobj_default_dg(SECOBJ_CID_CHUID);
	e[0].container_id = SECOBJ_CID_CHUID;
	e[0].data = chuid_body;
	e[0].len = sizeof(chuid_body);
	e[1].dg = secobj_default_dg(SECOBJ_CID_PRINTED_INFO);
	e[1].container_id = SECOBJ_CID_PRINTED_INFO;
	e[1].data = printed_body;
	e[1].len = sizeof(printed_body);
}

static void
build(struct ca *ca, uint8_t **out, size_t *n)
{
	struct secobj_entry e[2];
	struct pv_why why = { "" };

	entries(e);
	cr_assert_eq(secobj_build(ca_get0_signer(ca), ca_get0_signer_key(ca), e,
	    2, out, n, &why), PV_OK, "%s", why.msg);
}

Test(secobj, layout_map_cms_edc)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	uint8_t *so = NULL;
	size_t n = 0;
	struct buf_cur c, v, cms_v;
	const unsigned char *d;
	CMS_ContentInfo *cms;
	STACK_OF(X509) *certs;
	ASN1_OCTET_STRING **content;
	char oid[64];
	long version = 0;

	build(ca, &so, &n);
	buf_cur_init(&c, so, n);
	cr_assert(tlv_get(&c, 0xba, &v));
	cr_assert(buf_eq_mem(&v, "\x01\x30\x00\x03\x30\x01", 6));
	cr_assert(tlv_get(&c, 0xbb, &cms_v));
	cr_assert(tlv_get(&c, 0xfe, &v));
	cr_assert_eq(v.len, 0);
	cr_assert(buf_done(&c));

	d = cms_v.p;
	cr_assert_not_null(cms = d2i_CMS_ContentInfo(NULL, &d,
	    (long)cms_v.len));
	cr_assert_eq(pkix_cms_signed_data_version(cms_v.p, cms_v.len, &version,
	    NULL), PV_OK);
	cr_assert_eq(version, 3);
	OBJ_obj2txt(oid, sizeof(oid), CMS_get0_eContentType(cms), 1);
	cr_assert_str_eq(oid, "1.3.27.1.1.1");
	content = CMS_get0_content(cms);
	cr_assert(content != NULL && *content != NULL, "eContent missing");
	certs = CMS_get1_certs(cms);
	cr_assert(certs == NULL || sk_X509_num(certs) == 0,
	    "the signer certificate must be omitted");
	sk_X509_pop_free(certs, X509_free);
	/* LDSSecurityObject v0, SHA-256, two data groups */
	{
		struct buf_cur l, seq, alg, list, item;

		buf_cur_init(&l, ASN1_STRING_get0_data(*content),
		    (size_t)ASN1_STRING_length(*content));
		cr_assert(tlv_get(&l, 0x30, &seq) && buf_done(&l));
		cr_assert(tlv_get(&seq, 0x02, &v) && buf_eq_mem(&v, "\x00", 1));
		cr_assert(tlv_get(&seq, 0x30, &alg));
		cr_assert(tlv_get(&alg, 0x06, &v));
		cr_assert(buf_eq_mem(&v, "\x60\x86\x48\x01\x65\x03\x04\x02\x01",
		    9));
		cr_assert(buf_done(&alg), "hash parameters must be absent");
		cr_assert(tlv_get(&seq, 0x30, &list));
		cr_assert(tlv_get(&list, 0x30, &item));
		cr_assert(tlv_get(&item, 0x02, &v) && buf_eq_mem(&v, "\x01", 1));
		cr_assert(tlv_get(&item, 0x04, &v) && v.len == 32);
		cr_assert(tlv_get(&list, 0x30, &item));
		cr_assert(tlv_get(&item, 0x02, &v) && buf_eq_mem(&v, "\x03", 1));
		cr_assert(buf_done(&list));
	}
	CMS_ContentInfo_free(cms);
	OPENSSL_free(so);
	ca_free(ca);
}

Test(secobj, verify_checks_every_container_given)
{
	struct ca *ca = tca_new(PKIX_ALG_P384, PKIX_ALG_P256, NULL);
	struct ca *other = tca_new(PKIX_ALG_P384, PKIX_ALG_P256, NULL);
	struct secobj_entry have[3];
	uint8_t *so = NULL, changed[sizeof(printed_body)];
	size_t n = 0, checked = 99;
	struct pv_why why = { "" };
	enum pv_err r;

	build(ca, &so, &n);
	entries(have);
	r = secobj_verify(so, n, ca_get0_signer(ca), have, 2, &checked, &why);
	cr_assert_eq(r, PV_OK, "%s", why.msg);
	cr_assert_eq(checked, 2);
	/* the PIN-protected printed information not read: one checked */
	cr_assert_eq(secobj_verify(so, n, ca_get0_signer(ca), have, 1, &checked,
	    NULL), PV_OK);
	cr_assert_eq(checked, 1);
	/* a changed container */
	memcpy(changed, printed_body, sizeof(changed));
	changed[3] = 'X';
	have[1].data = changed;
	pv_why_clear(&why);
	cr_assert_eq(secobj_verify(so, n, ca_get0_signer(ca), have, 2, &checked,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "3001") != NULL, "%s", why.msg);
	entries(have);
	/* a container the object does not cover */
	have[2] = have[1];
	have[2].container_id = 0x6010;
	pv_why_clear(&why);
	cr_assert_eq(secobj_verify(so, n, ca_get0_signer(ca), have, 3, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "6010") != NULL, "%s", why.msg);
	/* another signer */
	pv_why_clear(&why);
	cr_assert_eq(secobj_verify(so, n, ca_get0_signer(other), have, 2, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "signature") != NULL, "%s", why.msg);
	OPENSSL_free(so);
	ca_free(ca);
	ca_free(other);
}

Test(secobj, build_refuses_bad_lists)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct secobj_entry e[2];
	uint8_t *so = NULL;
	size_t n = 0;

	entries(e);
	cr_assert_eq(secobj_build(ca_get0_signer(ca), ca_get0_signer_key(ca), e,
	    0, &so, &n, NULL), PV_E_INVAL);
	e[1].dg = e[0].dg;
	cr_assert_eq(secobj_build(ca_get0_signer(ca), ca_get0_signer_key(ca), e,
	    2, &so, &n, NULL), PV_E_INVAL);
	entries(e);
	e[0].dg = 0;
	cr_assert_eq(secobj_build(ca_get0_signer(ca), ca_get0_signer_key(ca), e,
	    2, &so, &n, NULL), PV_E_INVAL);
	cr_assert_null(so);
	ca_free(ca);
}

Test(secobj, truncations_never_pass)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct secobj_entry have[2];
	uint8_t *so = NULL;
	size_t n = 0, i;

	build(ca, &so, &n);
	entries(have);
	for (i = 0; i < n; i++)
		cr_assert_neq(secobj_verify(so, i, ca_get0_signer(ca), have, 2,
		    NULL, NULL), PV_OK, "truncated at %zu", i);
	OPENSSL_free(so);
	ca_free(ca);
}

struct hexcase {
	char hex[64];
};

ParameterizedTestParameters(secobj, hostile_layout)
{
	static const struct hexcase cases[] = {
		{ "" },
		{ "ba00 bb0130 fe00" },		/* empty map */
		{ "ba0201 30 bb0130" },		/* map not a multiple of 3 */
		{ "ba03013000" },		/* no BB */
		{ "ba03013000 bb00" },		/* empty BB */
		{ "ba03013000 bb0130 fe00 00" },	/* trailing byte */
		{ "ba03013000 bb0130" },	/* no FE */
		{ "ba03013000 bb0130 fe0100" },	/* FE not empty */
		{ "ba06013000013001 bb0130" },	/* DG mapped twice */
		{ "ba03013000 bb0230" },	/* BB past the end */
		{ "ba03013000 bb023000" },	/* not SignedData */
	};

	return cr_make_param_array(struct hexcase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct hexcase *c, secobj, hostile_layout)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	uint8_t *p = NULL;
	size_t n;
	struct pv_why why = { "" };

	cr_assert_eq(hex_decode(c->hex, &p, &n), 0);
	cr_assert_eq(secobj_verify(p, n, ca_get0_signer(ca), NULL, 0, NULL,
	    &why), PV_E_MALFORMED, "'%s' not refused as malformed (%s)", c->hex,
	    why.msg);
	cr_assert(strncmp(why.msg, "Security Object", 15) == 0, "%s", why.msg);
	free(p);
	ca_free(ca);
}

/*
 * The Security Object is signed by the CHUID's signer, whose certificate
 * it omits.  One that carries its own certificate, names it as the signer
 * and verifies with its key proves nothing: refused.
 */
Test(secobj, certificate_inside_the_object_is_not_the_signer)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct ca *other = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct secobj_entry have[2];
	uint8_t *so = NULL, *cms = NULL;
	size_t n = 0, cms_len = 0;
	struct buf_cur c, map, bb;
	struct buf_out o = { 0 };
	const unsigned char *d;
	CMS_ContentInfo *ci;
	ASN1_OCTET_STRING **content;
	struct pv_why why = { "" };

	build(ca, &so, &n);
	entries(have);
	buf_cur_init(&c, so, n);
	cr_assert(tlv_get(&c, 0xba, &map) && tlv_get(&c, 0xbb, &bb));
	d = bb.p;
	cr_assert_not_null(ci = d2i_CMS_ContentInfo(NULL, &d, (long)bb.len));
	content = CMS_get0_content(ci);
	cr_assert(content != NULL && *content != NULL);
	/* the same LDSSecurityObject, signed by another key, cert included */
	cr_assert_eq(pkix_cms_sign(ca_get0_signer(other),
	    ca_get0_signer_key(other), PKIX_OID_LDS_SECURITY_OBJECT,
	    ASN1_STRING_get0_data(*content),
	    (size_t)ASN1_STRING_length(*content), false, true, &cms, &cms_len,
	    NULL), PV_OK);
	cr_assert(buf_out_alloc(&o, 2048, 8192));
	tlv_put(&o, 0xba, map.p, map.len);
	tlv_put(&o, 0xbb, cms, cms_len);
	tlv_put(&o, 0xfe, NULL, 0);
	cr_assert(buf_out_ok(&o));
	cr_assert_eq(secobj_verify(o.p, o.len, ca_get0_signer(other), have, 2,
	    NULL, &why), PV_OK, "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(secobj_verify(o.p, o.len, ca_get0_signer(ca), have, 2,
	    NULL, &why), PV_E_VERIFY, "a foreign signer was accepted");
	cr_assert(strstr(why.msg, "signer") != NULL, "%s", why.msg);
	buf_out_cleanup(&o);
	CMS_ContentInfo_free(ci);
	OPENSSL_free(cms);
	OPENSSL_free(so);
	ca_free(ca);
	ca_free(other);
}

Test(secobj, with_cert_carries_the_signer_and_still_verifies)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct secobj_entry e[2];
	struct pv_why why = { "" };
	uint8_t *so = NULL;
	size_t n = 0;
	struct buf_cur c, v, bb;
	const unsigned char *d;
	CMS_ContentInfo *cms;
	STACK_OF(X509) *certs;

	entries(e);
	cr_assert_eq(secobj_build_with_cert(ca_get0_signer(ca),
	    ca_get0_signer_key(ca), e, 2, &so, &n, &why), PV_OK, "%s",
	    why.msg);
	buf_cur_init(&c, so, n);
	cr_assert(tlv_get(&c, 0xba, &v) && tlv_get(&c, 0xbb, &bb));
	d = bb.p;
	cr_assert_not_null(cms = d2i_CMS_ContentInfo(NULL, &d, (long)bb.len));
	certs = CMS_get1_certs(cms);
	cr_assert(certs != NULL && sk_X509_num(certs) == 1,
	    "exactly the signer's certificate");
	cr_assert_eq(X509_cmp(sk_X509_value(certs, 0), ca_get0_signer(ca)), 0);
	sk_X509_pop_free(certs, X509_free);
	cr_assert_eq(secobj_verify(so, n, ca_get0_signer(ca), e, 2, NULL,
	    &why), PV_OK, "%s", why.msg);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(so);
	ca_free(ca);
}
