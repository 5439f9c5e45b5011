/*
 * test_chuid.c: the CHUID's CMS signature (issuance/chuid.c) against
 * PIV-REFERENCE §6.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "apdu/tlv.h"
#include "issuance/chuid.h"
#include "issuance/pkix_util.h"
#include "tests/support/hex.h"
#include "tests/unit/issuance/test_ca_support.h"

/* The ykpiv template CHUID without EE: 30 FASC-N, 34 GUID, 35 expiry, FE. */
static const char chuid_tbs_hex[] =
    "3019d4e739da739ced39ce739d836858210842108421c84210c3eb"
    "34103f6c1a229b4e4d1c8a550e9d7120c4b7"
    "35083230333030313031"
    "fe00";

static uint8_t *
H(const char *hex, size_t *n)
{
	uint8_t *p;

	cr_assert_eq(hex_decode(hex, &p, n), 0, "bad test hex");
	return p;
}

static void
sign(struct ca *ca, const uint8_t *tbs, size_t n, uint8_t **sig,
    size_t *sig_len)
{
	struct pv_why why = { "" };

	cr_assert_eq(chuid_sign(ca_get0_signer(ca), ca_get0_signer_key(ca), tbs,
	    n, sig, sig_len, &why), PV_OK, "%s", why.msg);
}

static CMS_ContentInfo *
parse(const uint8_t *sig, size_t n)
{
	const unsigned char *d = sig;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &d, (long)n);

	cr_assert_not_null(cms);
	cr_assert_eq(d, sig + n);
	return cms;
}

struct algcase {
	int alg;		/* signer key */
	int digest_nid;
	int sig_nid;		/* SignerInfo signatureAlgorithm */
};

ParameterizedTestParameters(chuid, shape_per_algorithm)
{
	static const struct algcase cases[] = {
		{ PKIX_ALG_P256, NID_sha256, NID_ecdsa_with_SHA256 },
		{ PKIX_ALG_P384, NID_sha384, NID_ecdsa_with_SHA384 },
		{ PKIX_ALG_RSA2048, NID_sha256, NID_rsaEncryption },
	};

	return cr_make_param_array(struct algcase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct algcase *c, chuid, shape_per_algorithm)
{
	struct ca *ca = tca_new((enum pkix_alg)c->alg, PKIX_ALG_P256, NULL);
	size_t tbs_len, sig_len = 0;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL;
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509) *certs;
	STACK_OF(X509_CRL) *crls;
	X509_ALGOR *dig, *salg;
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *iss = NULL;
	ASN1_INTEGER *sno = NULL;
	ASN1_OBJECT *dn_oid = OBJ_txt2obj("2.16.840.1.101.3.6.5", 1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	const unsigned char *d;
	X509_NAME *dn;
	long version = 0;
	char oid[64];
	struct pv_why why = { "" };
	X509 *signer = NULL;

	sign(ca, tbs, tbs_len, &sig, &sig_len);
	cms = parse(sig, sig_len);
	cr_assert_eq(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
	cr_assert_eq(pkix_cms_signed_data_version(sig, sig_len, &version, NULL),
	    PV_OK);
	cr_assert_eq(version, 3);
	OBJ_obj2txt(oid, sizeof(oid), CMS_get0_eContentType(cms), 1);
	cr_assert_str_eq(oid, "2.16.840.1.101.3.6.1");
	cr_assert_null(*CMS_get0_content(cms), "eContent present");
	certs = CMS_get1_certs(cms);
	cr_assert_eq(sk_X509_num(certs), 1);
	cr_assert_eq(X509_cmp(sk_X509_value(certs, 0), ca_get0_signer(ca)), 0);
	sk_X509_pop_free(certs, X509_free);
	crls = CMS_get1_crls(cms);
	cr_assert(crls == NULL || sk_X509_CRL_num(crls) == 0);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	cr_assert_eq(sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)), 1);
	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	cr_assert(CMS_SignerInfo_get0_signer_id(si, &keyid, &iss, &sno));
	cr_assert_null(keyid, "sid must be issuerAndSerialNumber");
	cr_assert_not_null(iss);
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &salg);
	cr_assert_eq(OBJ_obj2nid(dig->algorithm), c->digest_nid);
	cr_assert_eq(OBJ_obj2nid(salg->algorithm), c->sig_nid);
	/* signed attributes: contentType, signingTime, messageDigest,
	 * pivSigner-DN; no SMIMECapabilities */
	cr_assert_eq(CMS_signed_get_attr_count(si), 4);
	cr_assert_geq(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType,
	    -1), 0);
	cr_assert_geq(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest,
	    -1), 0);
	a = CMS_signed_get_attr(si, CMS_signed_get_attr_by_OBJ(si, dn_oid, -1));
	cr_assert_not_null(a);
	cr_assert_eq(X509_ATTRIBUTE_count(a), 1);
	t = X509_ATTRIBUTE_get0_type(a, 0);
	cr_assert_eq(t->type, V_ASN1_SEQUENCE, "pivSigner-DN is not a Name");
	d = t->value.sequence->data;
	dn = d2i_X509_NAME(NULL, &d, t->value.sequence->length);
	cr_assert_not_null(dn);
	cr_assert_eq(X509_NAME_cmp(dn, X509_get_subject_name(
	    ca_get0_signer(ca))), 0);
	X509_NAME_free(dn);

	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, &signer,
	    &why), PV_OK, "%s", why.msg);
	cr_assert_eq(X509_cmp(signer, ca_get0_signer(ca)), 0);
	X509_free(signer);
	ASN1_OBJECT_free(dn_oid);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
}

Test(chuid, verify_checks_content_and_chain)
{
	struct ca *ca = NULL;
	struct ca *other = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct ca_init_params p;
	size_t tbs_len, sig_len = 0;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL;
	X509_STORE *st = NULL, *wrong = NULL;
	struct pv_why why = { "" };
	size_t i;

	/* The chain is checked at the current time: a CA made a minute ago. */
	ca_init_params_defaults(&p);
	cr_assert_eq(ca_new(&p, time(NULL) - 60, &ca, NULL, NULL, NULL), PV_OK);
	sign(ca, tbs, tbs_len, &sig, &sig_len);
	cr_assert_eq(ca_trust_store(ca, &st, NULL), PV_OK);
	cr_assert_eq(ca_trust_store(other, &wrong, NULL), PV_OK);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, st, NULL, &why),
	    PV_OK, "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, wrong, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "signer certificate") != NULL, "%s", why.msg);

	/* one changed byte anywhere in the signed bytes */
	for (i = 0; i < tbs_len; i++) {
		tbs[i] ^= 0x01;
		cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
		    NULL), PV_E_VERIFY, "byte %zu", i);
		tbs[i] ^= 0x01;
	}
	/* missing FE: a different byte string */
	cr_assert_eq(chuid_verify(tbs, tbs_len - 2, sig, sig_len, NULL, NULL,
	    NULL), PV_E_VERIFY);
	/* truncated signatures never verify (and never crash) */
	for (i = 0; i < sig_len; i += 7)
		cr_assert_neq(chuid_verify(tbs, tbs_len, sig, i, NULL, NULL,
		    NULL), PV_OK, "truncated at %zu", i);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, 0, NULL, NULL, &why),
	    PV_E_MALFORMED);
	X509_STORE_free(st);
	X509_STORE_free(wrong);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
	ca_free(other);
}

Test(chuid, signer_without_content_signing_eku_is_refused)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	size_t tbs_len, sig_len = 0;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL;
	struct pv_why why = { "" };

	/* signed by the issuing CA itself: structure fine, EKU missing */
	cr_assert_eq(chuid_sign(ca_get0_issuing(ca), ca_get0_issuing_key(ca),
	    tbs, tbs_len, &sig, &sig_len, NULL), PV_OK);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "content-signing") != NULL, "%s", why.msg);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
}

Test(chuid, attached_or_foreign_content_type_is_refused)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	size_t tbs_len, sig_len = 0;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL;
	struct pv_why why = { "" };

	cr_assert_eq(pkix_cms_sign(ca_get0_signer(ca), ca_get0_signer_key(ca),
	    PKIX_OID_PIV_CHUID_SECURITY_OBJECT, tbs, tbs_len, false, true, &sig,
	    &sig_len, NULL), PV_OK);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "eContent") != NULL, "%s", why.msg);
	OPENSSL_free(sig);
	cr_assert_eq(pkix_cms_sign(ca_get0_signer(ca), ca_get0_signer_key(ca),
	    "2.16.840.1.101.3.6.2", tbs, tbs_len, true, true, &sig, &sig_len,
	    NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "eContentType") != NULL, "%s", why.msg);
	OPENSSL_free(sig);
	cr_assert_eq(pkix_cms_sign(ca_get0_signer(ca), ca_get0_signer_key(ca),
	    PKIX_OID_PIV_CHUID_SECURITY_OBJECT, tbs, tbs_len, true, false, &sig,
	    &sig_len, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
	    &why), PV_E_VERIFY);
	cr_assert(strstr(why.msg, "certificates") != NULL, "%s", why.msg);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
}

/*
 * The SignedData's digestAlgorithms set is what the content is hashed with:
 * it must name the signer's digest, and only digests OpenSSL knows.  These
 * edits leave the signature over the signed attributes intact, so only that
 * rule refuses them.  Under LeakSanitizer the refusal must also leave
 * nothing behind (OpenSSL 3.0's CMS_verify did, given a memory BIO).
 */
enum dalg_edit { DALG_OTHER_DIGEST, DALG_UNKNOWN_DIGEST, DALG_EMPTY };

ParameterizedTestParameters(chuid, digest_algorithms_must_name_the_signers)
{
	static const enum dalg_edit cases[] = {
		DALG_OTHER_DIGEST, DALG_UNKNOWN_DIGEST, DALG_EMPTY
	};

	return cr_make_param_array(enum dalg_edit, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(enum dalg_edit *e, chuid,
    digest_algorithms_must_name_the_signers)
{
	/* SET { SEQUENCE { OID sha256 } }, parameters absent */
	static const uint8_t set[] = {
		0x31, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01
	};
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	size_t tbs_len, sig_len = 0, off;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL, *at;
	struct pv_why why = { "" };
	const size_t len_at[] = { 2, 17, 21 };	/* ContentInfo, [0], SignedData */
	size_t i, v;

	sign(ca, tbs, tbs_len, &sig, &sig_len);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
	    &why), PV_OK, "%s", why.msg);
	/* 30 82 LLLL, 06 09 signedData, A0 82 LLLL, 30 82 LLLL, 02 01 03 */
	off = 26;
	at = sig + off;
	cr_assert(sig_len > off + sizeof(set) &&
	    memcmp(at, set, sizeof(set)) == 0,
	    "digestAlgorithms not where expected");
	switch (*e) {
	case DALG_OTHER_DIGEST:		/* sha384 */
		at[sizeof(set) - 1] = 0x02;
		break;
	case DALG_UNKNOWN_DIGEST:	/* 2.16.840.1.101.3.4.2.127 */
		at[sizeof(set) - 1] = 0x7f;
		break;
	case DALG_EMPTY:		/* SET {}: 13 bytes fewer */
		for (i = 0; i < 3; i++) {
			cr_assert_eq(sig[len_at[i] - 1], 0x82);
			v = ((size_t)sig[len_at[i]] << 8 | sig[len_at[i] + 1]) - 13;
			cr_assert_geq(v, 256);
			sig[len_at[i]] = (uint8_t)(v >> 8);
			sig[len_at[i] + 1] = (uint8_t)v;
		}
		at[1] = 0x00;
		memmove(at + 2, at + sizeof(set), sig_len - off - sizeof(set));
		sig_len -= 13;
		break;
	}
	pv_why_clear(&why);
	cr_assert_eq(chuid_verify(tbs, tbs_len, sig, sig_len, NULL, NULL,
	    &why), PV_E_VERIFY, "edit %d accepted", (int)*e);
	cr_assert(strstr(why.msg, "does not verify") != NULL, "%s", why.msg);
	cr_assert(strstr(why.msg, *e == DALG_OTHER_DIGEST ?
	    "lacks the signer's digest" : "names an unknown digest") != NULL,
	    "%s", why.msg);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
}

/* read_corpus returns the bytes of tests/fuzz/corpus/|name| (free()). */
static uint8_t *
read_corpus(const char *name, size_t *n)
{
	const char *root = getenv("PV_ROOT");
	char path[512];
	FILE *f;
	uint8_t *p;
	long len;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/%s",
	    root != NULL ? root : ".", name);
	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_gt(len = ftell(f), 0);
	rewind(f);
	cr_assert_not_null(p = malloc((size_t)len));
	cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return p;
}

/*
 * The input fuzz_pkix_chuid found leaking: a signed CHUID whose
 * digestAlgorithms names 2.16.8520.1.101.3.4.2.1.  Refused, and nothing
 * may leak (make check runs this under LeakSanitizer).
 */
Test(chuid, fuzz_unknown_digest_algorithm)
{
	static const uint8_t tbs[] = { 0x30, 0x19 };
	size_t n;
	uint8_t *p = read_corpus("pkix_chuid/unknown_digest_algorithm", &n);
	struct pv_why why = { "" };
	struct buf_cur c, v, sig = { NULL, 0 };
	uint32_t tag;
	X509 *signer = NULL;

	/* Not a well-formed CHUID (EE of 8 bytes, no FASC-N): refused as
	 * such; its 3E still goes to the CMS checks that leaked. */
	cr_assert_eq(chuid_verify_object(p, n, NULL, &signer, &why),
	    PV_E_MALFORMED, "%s", why.msg);
	buf_cur_init(&c, p, n);
	while (tlv_get_any(&c, &tag, &v))
		if (tag == 0x3e)
			sig = v;
	cr_assert_gt(sig.len, 0);
	pv_why_clear(&why);
	cr_assert_eq(chuid_verify(tbs, sizeof(tbs), sig.p, sig.len, NULL,
	    &signer, &why), PV_E_VERIFY, "%s", why.msg);
	cr_assert_null(signer);
	cr_assert(strstr(why.msg, "does not verify") != NULL, "%s", why.msg);
	free(p);
}

/*
 * pkix_cms_verify_carried (what diag reports): every SignerInfo checked
 * with the certificate the SignedData carries for it.
 */
Test(chuid, verify_with_carried_certificate)
{
	struct ca *ca = tca_new(PKIX_ALG_RSA2048, PKIX_ALG_P256, NULL);
	size_t tbs_len, sig_len = 0;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL;
	CMS_ContentInfo *cms;
	struct pv_why why = { "" };

	sign(ca, tbs, tbs_len, &sig, &sig_len);
	cms = parse(sig, sig_len);
	cr_assert_eq(pkix_cms_verify_carried(cms, tbs, tbs_len, &why), PV_OK,
	    "%s", why.msg);
	tbs[0] ^= 0x01;
	cr_assert_eq(pkix_cms_verify_carried(cms, tbs, tbs_len, &why),
	    PV_E_VERIFY);
	cr_assert_str_eq(why.msg,
	    "SignerInfo 1: messageDigest differs from the content's digest");
	tbs[0] ^= 0x01;
	CMS_ContentInfo_free(cms);
	OPENSSL_free(sig);
	/* without the certificate there is nothing to check against */
	cr_assert_eq(pkix_cms_sign(ca_get0_signer(ca), ca_get0_signer_key(ca),
	    PKIX_OID_PIV_CHUID_SECURITY_OBJECT, tbs, tbs_len, true, false, &sig,
	    &sig_len, NULL), PV_OK);
	cms = parse(sig, sig_len);
	pv_why_clear(&why);
	cr_assert_eq(pkix_cms_verify_carried(cms, tbs, tbs_len, &why),
	    PV_E_VERIFY);
	cr_assert(strstr(why.msg, "not included") != NULL, "%s", why.msg);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
}

/* Build a whole CHUID: EE 02 0000, the tbs elements, 3E sig, in order. */
static void
build_chuid(const uint8_t *sig, size_t sig_len, struct buf_out *o)
{
	size_t n;
	uint8_t *tbs = H(chuid_tbs_hex, &n);

	cr_assert(buf_out_alloc(o, 4096, 8192));
	tlv_put(o, 0xee, "\x00\x00", 2);
	buf_put(o, tbs, n - 2);		/* 30, 34, 35 */
	tlv_put(o, 0x3e, sig, sig_len);
	tlv_put(o, 0xfe, NULL, 0);
	cr_assert(buf_out_ok(o));
	free(tbs);
}

Test(chuid, whole_object_round_trip)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	size_t tbs_len, sig_len = 0, got_len = 0;
	uint8_t *tbs = H(chuid_tbs_hex, &tbs_len), *sig = NULL, *got = NULL;
	struct buf_out o = { 0 };
	struct buf_cur sv;
	struct pv_why why = { "" };

	sign(ca, tbs, tbs_len, &sig, &sig_len);
	build_chuid(sig, sig_len, &o);
	cr_assert_eq(chuid_tbs(o.p, o.len, &got, &got_len, &sv, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(got_len, tbs_len);
	cr_assert_eq(memcmp(got, tbs, tbs_len), 0, "EE or 3E leaked into tbs");
	cr_assert_eq(sv.len, sig_len);
	buf_free_secret(got, got_len);
	cr_assert_eq(chuid_verify_object(o.p, o.len, NULL, NULL, &why), PV_OK,
	    "%s", why.msg);
	/* flip one FASC-N bit inside the object */
	o.p[6] ^= 0x10;
	cr_assert_eq(chuid_verify_object(o.p, o.len, NULL, NULL, NULL),
	    PV_E_VERIFY);
	buf_out_cleanup(&o);
	OPENSSL_free(sig);
	free(tbs);
	ca_free(ca);
}

struct hexcase {
	char hex[80];
};

ParameterizedTestParameters(chuid, tbs_hostile)
{
	static const struct hexcase cases[] = {
		{ "" },				/* no 3E */
		{ "3001aa fe00" },		/* no 3E */
		{ "3e00 3e00" },		/* 3E twice */
		{ "3001aa 3e" },		/* truncated */
		{ "3005aa" },			/* length past the end */
		{ "3e8400000001aa" },		/* 84 length */
		{ "3e80 0000" },		/* indefinite */
	};

	return cr_make_param_array(struct hexcase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct hexcase *c, chuid, tbs_hostile)
{
	size_t n, tl = 0;
	uint8_t *p = H(c->hex, &n), *tbs = NULL;
	struct buf_cur sig;
	struct pv_why why = { "" };

	cr_assert_eq(chuid_tbs(p, n, &tbs, &tl, &sig, &why), PV_E_MALFORMED,
	    "'%s' accepted", c->hex);
	cr_assert_null(tbs);
	cr_assert(strncmp(why.msg, "CHUID:", 6) == 0, "%s", why.msg);
	free(p);
}
