/*
 * chuid.c: sign and check the CHUID's CMS signature (chuid.h).
 */
#include <limits.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "apdu/tlv.h"
#include "apdu/piv_obj.h"
#include "issuance/chuid.h"
#include "issuance/pkix_util.h"


enum pv_err
chuid_sign(X509 *cert, EVP_PKEY *key, const uint8_t *tbs, size_t tbs_len,
    uint8_t **out, size_t *out_len, struct pv_why *why)
{
	return pkix_cms_sign(cert, key, PKIX_OID_PIV_CHUID_SECURITY_OBJECT, tbs,
	    tbs_len, true, true, out, out_len, why);
}

/* chuid_has_eku: does |x| carry the id-PIV-content-signing EKU? */
static bool
chuid_has_content_signing_eku(X509 *x)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *want;
	bool found = false;
	int i;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	want = OBJ_txt2obj(PKIX_OID_PIV_CONTENT_SIGNING, 1);
	for (i = 0; eku != NULL && want != NULL &&
	    i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
			found = true;
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ASN1_OBJECT_free(want);
	ERR_clear_error();
	return found;
}

/* chuid_check_signer_dn: pivSigner-DN present once and equal to |x|'s subject. */
static enum pv_err
chuid_check_signer_dn(CMS_SignerInfo *si, X509 *x, struct pv_why *why)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(PKIX_OID_PIV_SIGNER_DN, 1);
	X509_ATTRIBUTE *attr;
	ASN1_TYPE *t;
	X509_NAME *name = NULL;
	const unsigned char *d;
	int loc;
	enum pv_err r = PV_E_INTERNAL;

	if (oid == NULL) {
		r = pkix_crypto_err(why, "pivSigner-DN");
		goto out;
	}
	loc = CMS_signed_get_attr_by_OBJ(si, oid, -1);
	if (loc < 0 || CMS_signed_get_attr_by_OBJ(si, oid, loc) >= 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: pivSigner-DN signed attribute %s",
		    loc < 0 ? "missing" : "repeated");
		goto out;
	}
	attr = CMS_signed_get_attr(si, loc);
	if (X509_ATTRIBUTE_count(attr) != 1 ||
	    (t = X509_ATTRIBUTE_get0_type(attr, 0)) == NULL ||
	    t->type != V_ASN1_SEQUENCE) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: pivSigner-DN is not one Name");
		goto out;
	}
	d = t->value.sequence->data;
	if ((name = d2i_X509_NAME(NULL, &d, t->value.sequence->length)) ==
	    NULL || d != t->value.sequence->data + t->value.sequence->length) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: pivSigner-DN is not a Name");
		goto out;
	}
	if (X509_NAME_cmp(name, X509_get_subject_name(x)) != 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: pivSigner-DN differs from the signer's "
		    "subject");
		goto out;
	}
	r = PV_OK;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	ASN1_OBJECT_free(oid);
	return r;
}

static enum pv_err
chuid_check_digest(CMS_SignerInfo *si, struct pv_why *why)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	int nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	nid = dig != NULL ? OBJ_obj2nid(dig->algorithm) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384)
		return pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: digest %s is not SHA-256 or SHA-384",
		    OBJ_nid2sn(nid));
	return PV_OK;
}

static enum pv_err
chuid_check_chain(X509 *x, STACK_OF(X509) *untrusted, X509_STORE *trust,
    struct pv_why *why)
{
	X509_STORE_CTX *ctx = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, trust, x, untrusted)) {
		r = pkix_crypto_err(why, "CHUID signer path");
		goto out;
	}
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signer certificate: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	r = PV_OK;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return r;
}

enum pv_err
chuid_verify(const uint8_t *tbs, size_t tbs_len, const uint8_t *sig,
    size_t sig_len, X509_STORE *trust, X509 **signer, struct pv_why *why)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING **content;
	ASN1_OBJECT *want = NULL;
	const ASN1_OBJECT *attr_ct;
	X509 *x;
	const unsigned char *d = sig;
	long version = 0;
	enum pv_err r = PV_E_INTERNAL;

	if (signer != NULL)
		*signer = NULL;
	if (sig_len == 0 || sig_len > INT_MAX || tbs_len > INT_MAX) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "CHUID signature: %s", sig_len == 0 ? "empty (unsigned "
		    "CHUID)" : "too long");
		goto out;
	}
	if ((r = pkix_cms_signed_data_version(sig, sig_len, &version, why)) !=
	    PV_OK)
		goto out;
	if ((cms = d2i_CMS_ContentInfo(NULL, &d, (long)sig_len)) == NULL ||
	    d != sig + sig_len) {
		r = pv_why_set(why, PV_E_MALFORMED,
		    "CHUID signature: not one DER CMS ContentInfo");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: not SignedData");
		goto out;
	}
	if (version != 3) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: SignedData version %ld, expected 3",
		    version);
		goto out;
	}
	if ((want = OBJ_txt2obj(PKIX_OID_PIV_CHUID_SECURITY_OBJECT, 1)) ==
	    NULL) {
		r = pkix_crypto_err(why, "CHUID OID");
		goto out;
	}
	if (OBJ_cmp(CMS_get0_eContentType(cms), want) != 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: eContentType is not "
		    "id-PIV-CHUIDSecurityObject");
		goto out;
	}
	content = CMS_get0_content(cms);
	if (content == NULL || *content != NULL) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: eContent must be absent (detached)");
		goto out;
	}
	certs = CMS_get1_certs(cms);
	if (certs == NULL || sk_X509_num(certs) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: %d certificates, expected exactly one",
		    certs ? sk_X509_num(certs) : 0);
		goto out;
	}
	crls = CMS_get1_crls(cms);
	if (crls != NULL && sk_X509_CRL_num(crls) > 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: CRLs must be omitted");
		goto out;
	}
	x = sk_X509_value(certs, 0);
	sis = CMS_get0_SignerInfos(cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: exactly one SignerInfo expected");
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	{
		ASN1_OCTET_STRING *keyid = NULL;
		X509_NAME *iss = NULL;
		ASN1_INTEGER *sno = NULL;

		if (!CMS_SignerInfo_get0_signer_id(si, &keyid, &iss, &sno) ||
		    keyid != NULL || iss == NULL ||
		    CMS_SignerInfo_cert_cmp(si, x) != 0) {
			r = pv_why_set(why, PV_E_VERIFY,
			    "CHUID signature: signer must be identified by "
			    "issuerAndSerialNumber of the included certificate");
			goto out;
		}
	}
	if ((r = chuid_check_digest(si, why)) != PV_OK ||
	    (r = chuid_check_signer_dn(si, x, why)) != PV_OK)
		goto out;
	attr_ct = CMS_signed_get0_data_by_OBJ(si,
	    OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT);
	if (attr_ct == NULL || OBJ_cmp(attr_ct, want) != 0) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signature: contentType attribute missing or wrong");
		goto out;
	}
	if (!chuid_has_content_signing_eku(x)) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "CHUID signer certificate lacks the id-PIV-content-signing "
		    "EKU");
		goto out;
	}
	if ((r = pkix_cms_verify_signer(cms, si, x, tbs, tbs_len, why)) !=
	    PV_OK) {
		pv_why_prefix(why,
		    "CHUID signature does not verify over the CHUID contents");
		goto out;
	}
	if (trust != NULL && (r = chuid_check_chain(x, certs, trust, why)) !=
	    PV_OK)
		goto out;
	if (signer != NULL) {
		if (!X509_up_ref(x)) {
			r = pkix_crypto_err(why, "CHUID signer");
			goto out;
		}
		*signer = x;
	}
	r = PV_OK;
out:
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	ASN1_OBJECT_free(want);
	return r;
}

enum pv_err
chuid_tbs(const uint8_t *p, size_t n, uint8_t **tbs, size_t *tbs_len,
    struct buf_cur *sig, struct pv_why *why)
{
	struct piv_chuid ch;
	struct buf_out o;
	struct pv_why w = { "" };
	enum pv_err r;

	*tbs = NULL;
	*tbs_len = 0;
	memset(&o, 0, sizeof(o));
	/* The TLV rules and the signed bytes are apdu/piv_obj's (one
	 * definition for signing and verifying). */
	if ((r = piv_chuid_parse(p, n, &ch, &w)) != PV_OK)
		return pv_why_set(why, PV_E_MALFORMED, "CHUID: %s", w.msg[0] ?
		    w.msg : "malformed");
	if (!buf_out_alloc(&o, n, n + 1))
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	if ((r = piv_chuid_tbs(p, n, &o, &w)) != PV_OK) {
		r = pv_why_set(why, PV_E_MALFORMED, "CHUID: %s", w.msg);
		goto out;
	}
	if (!buf_out_take(&o, tbs, tbs_len)) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	*sig = ch.signature;
	r = PV_OK;
out:
	buf_out_cleanup(&o);
	return r;
}

enum pv_err
chuid_verify_object(const uint8_t *p, size_t n, X509_STORE *trust,
    X509 **signer, struct pv_why *why)
{
	struct buf_cur sig;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;
	enum pv_err r;

	if (signer != NULL)
		*signer = NULL;
	if ((r = chuid_tbs(p, n, &tbs, &tbs_len, &sig, why)) != PV_OK)
		return r;
	r = chuid_verify(tbs, tbs_len, sig.p, sig.len, trust, signer, why);
	buf_free_secret(tbs, tbs_len);
	return r;
}
