/*
 * card_binding.c: the CHUID, its signature and the certificates' SAN
 * identifiers against it (card_binding.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "apdu/buf.h"
#include "apdu/piv_obj.h"
#include "issuance/card_binding.h"
#include "issuance/chuid.h"
#include "issuance/pkix_util.h"

enum pv_err
card_san_ids(X509 *x, uint8_t fascn[FASCN_LEN], bool *has_fascn,
    uint8_t uuid[16], bool *has_uuid, struct pv_why *why)
{
	GENERAL_NAMES *gens;
	ASN1_OBJECT *oid;
	int i;

	*has_fascn = *has_uuid = false;
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	oid = OBJ_txt2obj(PKIX_OID_PIV_FASCN, 1);
	for (i = 0; gens != NULL && oid != NULL &&
	    i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_OTHERNAME &&
		    OBJ_cmp(g->d.otherName->type_id, oid) == 0) {
			const ASN1_TYPE *v = g->d.otherName->value;

			if (v == NULL || v->type != V_ASN1_OCTET_STRING ||
			    ASN1_STRING_length(v->value.octet_string) !=
			    FASCN_LEN) {
				(void)pv_why_set(why, PV_E_MALFORMED, "the SAN "
				    "FASC-N is not a 25-byte OCTET STRING");
				continue;
			}
			memcpy(fascn, ASN1_STRING_get0_data(
			    v->value.octet_string), FASCN_LEN);
			*has_fascn = true;
		} else if (g->type == GEN_URI) {
			const ASN1_IA5STRING *u = g->d.uniformResourceIdentifier;
			char s[64];
			struct pv_why w = { { 0 } };

			if (u->length < 9 || u->length >= (int)sizeof(s) ||
			    strncasecmp((const char *)u->data, "urn:uuid:", 9)
			    != 0)
				continue;
			memcpy(s, u->data + 9, (size_t)u->length - 9);
			s[u->length - 9] = '\0';
			if (pkix_uuid_parse(s, uuid, &w) == PV_OK)
				*has_uuid = true;
			else
				(void)pv_why_set(why, PV_E_MALFORMED, "the SAN "
				    "UUID '%.40s' does not parse", s);
		}
	}
	GENERAL_NAMES_free(gens);
	ASN1_OBJECT_free(oid);
	ERR_clear_error();
	return PV_OK;
}

/*
 * What the CMS in |sig| says about itself, before any check: the subject
 * of the first certificate it carries and its content type.
 */
static void
card_binding_signed_info(const struct buf_cur *sig, struct card_binding *out)
{
	const unsigned char *d = sig->p;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *certs = NULL;

	if (sig->len > 0 && sig->len < (1u << 24))
		cms = d2i_CMS_ContentInfo(NULL, &d, (long)sig->len);
	if (cms != NULL && CMS_get0_eContentType(cms) != NULL)
		(void)OBJ_obj2txt(out->content_type, sizeof(out->content_type),
		    CMS_get0_eContentType(cms), 1);
	if (cms != NULL && (certs = CMS_get1_certs(cms)) != NULL &&
	    sk_X509_num(certs) > 0)
		pkix_name_str(X509_get_subject_name(sk_X509_value(certs, 0)),
		    out->signer, sizeof(out->signer));
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
}

void
card_binding_chuid(const uint8_t *chuid, size_t n, struct card_binding *out,
    X509 **signer)
{
	struct piv_chuid ch;
	struct pv_why w = { "" };
	struct buf_cur sig;
	uint8_t *tbs = NULL;
	size_t tbs_len = 0;

	memset(out, 0, sizeof(*out));
	out->sig = PV_E_NOT_FOUND;
	if (signer != NULL)
		*signer = NULL;
	if (chuid == NULL)
		return;
	out->chuid_present = true;
	if (piv_chuid_parse(chuid, n, &ch, &w) != PV_OK) {
		(void)snprintf(out->chuid_why, sizeof(out->chuid_why), "%s",
		    w.msg);
		return;
	}
	out->chuid_parsed = true;
	memcpy(out->fascn, ch.fascn, FASCN_LEN);
	memcpy(out->guid, ch.guid, 16);
	(void)snprintf(out->expiry, sizeof(out->expiry), "%s", ch.expiry);
	out->signed_ = ch.signature.len > 0;
	if (!out->signed_) {
		(void)snprintf(out->sig_why, sizeof(out->sig_why), "the CHUID "
		    "is not signed (3E is empty)");
		return;
	}
	card_binding_signed_info(&ch.signature, out);
	pv_why_clear(&w);
	out->sig = chuid_tbs(chuid, n, &tbs, &tbs_len, &sig, &w);
	if (out->sig == PV_OK)
		out->sig = chuid_verify(tbs, tbs_len, sig.p, sig.len, NULL,
		    signer, &w);
	if (out->sig != PV_OK)
		(void)snprintf(out->sig_why, sizeof(out->sig_why), "%s",
		    w.msg[0] ? w.msg : pv_strerror(out->sig));
	buf_free_secret(tbs, tbs_len);
}

void
card_binding_cert(X509 *x, const struct card_binding *b,
    struct card_binding_cert *out)
{
	struct pv_why w = { "" };

	memset(out, 0, sizeof(*out));
	(void)card_san_ids(x, out->fascn, &out->has_fascn, out->uuid,
	    &out->has_uuid, &w);
	(void)snprintf(out->san_why, sizeof(out->san_why), "%.127s", w.msg);
	if (!b->chuid_parsed)
		return;
	out->fascn_matches = out->has_fascn &&
	    memcmp(out->fascn, b->fascn, FASCN_LEN) == 0;
	out->uuid_matches = out->has_uuid && memcmp(out->uuid, b->guid, 16) == 0;
}
