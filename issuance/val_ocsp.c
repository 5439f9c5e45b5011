/*
 * val_ocsp.c: OCSP (RFC 6960) as a relying party: one request per
 * responder URL of the certificate's AIA, with a fresh nonce (RFC 8954),
 * POSTed over HTTP (App. A.1); the response is accepted only when
 *   - its status is successful and it is a basic response,
 *   - it echoes our nonce (a missing nonce fails when the policy wants
 *     one; a different one always fails),
 *   - it is signed by the CA that issued the certificate, or by a
 *     responder that CA certified for id-kp-OCSPSigning (§4.2.2.2), which
 *     is itself current and, without id-pkix-ocsp-nocheck, not revoked,
 *   - it answers for our CertID, and thisUpdate/nextUpdate bracket the
 *     validation time (§4.2.2.1; without nextUpdate, thisUpdate is no
 *     older than the configured maximum age).
 * OpenSSL builds and parses the messages and checks the signature; the
 * authorisation and time rules are here because OpenSSL's versions use
 * the wall clock and build their own chains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "apdu/text.h"
#include "issuance/val_int.h"

#define VAL_NONCE_LEN 32

/* May |signer| answer for certificates issued by |issuer|? */
static bool
val_ocsp_authorised(struct val_run *run, X509 *signer, X509 *issuer,
    char *why, size_t cap)
{
	EVP_PKEY *ik = X509_get0_pubkey(issuer), *sk = X509_get0_pubkey(signer);
	char subj[VAL_SUBJECT_MAX], w[256];
	time_t nb, na, at = run->p->at;

	val_subject(signer, subj, sizeof(subj));
	/* The CA itself (its certificate, or the same name and key). */
	if (X509_cmp(signer, issuer) == 0 || (ik != NULL && sk != NULL &&
	    X509_NAME_cmp(X509_get_subject_name(signer),
	    X509_get_subject_name(issuer)) == 0 && EVP_PKEY_eq(ik, sk) == 1))
		return true;
	/* A delegated responder: issued by that CA, for OCSP signing. */
	if (X509_check_issued(issuer, signer) != X509_V_OK || ik == NULL ||
	    X509_verify(signer, ik) != 1) {
		ERR_clear_error();
		val_sayf(why, cap, "signed by %s, which is neither the "
		    "issuing CA nor a responder it certified", subj);
		return false;
	}
	if (!(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)) {
		val_sayf(why, cap, "signed by %s, certified by the CA but "
		    "not for OCSP signing (no id-kp-OCSPSigning)", subj);
		return false;
	}
	if (!val_asn1_time(X509_get0_notBefore(signer), &nb) ||
	    !val_asn1_time(X509_get0_notAfter(signer), &na) || at < nb ||
	    at > na) {
		val_sayf(why, cap, "signed by responder %s, whose "
		    "certificate is not valid at the validation time", subj);
		return false;
	}
	if (X509_get_ext_by_NID(signer, NID_id_pkix_OCSP_noCheck, -1) >= 0)
		return true;
	/* §4.2.2.2.1: without nocheck its own status must be known. */
	{
		struct val_status_memo *m;
		time_t rt;
		int rr;

		m = val_run_memo(run, signer, true);
		if (m == NULL || m->busy)
			return m != NULL;
		m->busy = true;
		m->st = val_crl_status(run, signer, issuer, &rt, &rr, m->text,
		    sizeof(m->text));
		m->busy = false;
		m->done = true;
		if (m->st != VAL_ST_GOOD) {
			val_sayf(w, sizeof(w), "%s", m->text);
			val_sayf(why, cap, "signed by responder %s, which "
			    "lacks id-pkix-ocsp-nocheck and whose own status is "
			    "%s: %s", subj, m->st == VAL_ST_REVOKED ? "revoked" :
			    "unknown", w);
			return false;
		}
	}
	return true;
}

/* One exchange with one responder. */
static enum val_st
val_ocsp_one(struct val_run *run, const char *url, X509 *x, X509 *issuer,
    time_t *revoked_at, int *reason, char *text, size_t cap)
{
	const struct val_opts *o = &run->ctx->o;
	time_t at = run->p->at, skew = (time_t)o->clock_skew_s, tu = 0, nu = 0;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	STACK_OF(X509) *extra = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	struct pv_why pw = { { 0 } };
	unsigned char *der = NULL;
	const unsigned char *dp;
	uint8_t *body = NULL;
	size_t body_len = 0;
	char ctype[VAL_CTYPE_MAX] = "", w[VAL_TEXT_MAX / 2], t1[32], t2[32];
	X509 *signer = NULL;
	enum val_st st = VAL_ST_UNKNOWN;
	int len, status = -1, r_reason = -1, nonce;
	enum pv_err r;

	if ((req = OCSP_REQUEST_new()) == NULL ||
	    (id = OCSP_cert_to_id(NULL, x, issuer)) == NULL ||
	    OCSP_request_add0_id(req, id) == NULL) {
		val_sayf(text, cap, "OCSP %s: cannot build the request",
		    url);
		goto out;
	}
	id = NULL;	/* now the request's */
	if (!OCSP_request_add1_nonce(req, NULL, VAL_NONCE_LEN) ||
	    (len = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		val_sayf(text, cap, "OCSP %s: cannot build the request",
		    url);
		goto out;
	}
	r = val_post(run, url, "application/ocsp-request", der, (size_t)len,
	    o->ocsp_max_bytes, &body, &body_len, ctype, &pw);
	if (r != PV_OK) {
		val_sayf(text, cap, "OCSP %s: no answer: %s", url,
		    pw.msg[0] ? pw.msg : pv_strerror(r));
		val_run_url_fail(run, url);
		goto out;
	}
	if (ctype[0] != '\0' &&
	    strncasecmp(ctype, "application/ocsp-response", 25) != 0) {
		val_sayf(text, cap, "OCSP %s: the answer is %s, not "
		    "application/ocsp-response", url, ctype);
		goto out;
	}
	dp = body;
	if (body_len > LONG_MAX || (resp = d2i_OCSP_RESPONSE(NULL, &dp,
	    (long)body_len)) == NULL || dp != body + body_len) {
		val_sayf(text, cap, "OCSP %s: the answer is not an OCSP "
		    "response", url);
		goto out;
	}
	if ((status = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		val_sayf(text, cap, "OCSP %s: the responder answered %s",
		    url, OCSP_response_status_str(status));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		val_sayf(text, cap, "OCSP %s: not a basic OCSP response",
		    url);
		goto out;
	}
	nonce = OCSP_check_nonce(req, bs);
	if (nonce == 0) {
		val_sayf(text, cap, "OCSP %s: nonce mismatch: the "
		    "response answers another request (replayed or cached)",
		    url);
		goto out;
	}
	if (nonce != 1 && o->ocsp_nonce_required) {
		val_sayf(text, cap, "OCSP %s: the response does not echo "
		    "our nonce ([revocation] ocsp_nonce = required)", url);
		goto out;
	}
	/* The signer: among the response's certificates or the issuer. */
	if ((extra = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(extra, issuer)) {
		val_sayf(text, cap, "OCSP %s: out of memory", url);
		goto out;
	}
	if (!OCSP_resp_get0_signer(bs, &signer, extra) || signer == NULL) {
		val_sayf(text, cap, "OCSP %s: the response's signer is "
		    "not among its certificates nor the issuing CA", url);
		goto out;
	}
	if (OCSP_basic_verify(bs, extra, NULL, OCSP_NOVERIFY) != 1) {
		val_sayf(text, cap, "OCSP %s: the response's signature "
		    "does not verify", url);
		goto out;
	}
	if (!val_ocsp_authorised(run, signer, issuer, w, sizeof(w))) {
		val_sayf(text, cap, "OCSP %s: unauthorised response: %s",
		    url, w);
		goto out;
	}
	if ((id = OCSP_cert_to_id(NULL, x, issuer)) == NULL ||
	    !OCSP_resp_find_status(bs, id, &status, &r_reason, &rev, &thisupd,
	    &nextupd)) {
		val_sayf(text, cap, "OCSP %s: the response says nothing "
		    "about this certificate", url);
		goto out;
	}
	if (!val_asn1_time(thisupd, &tu) || (nextupd != NULL &&
	    !val_asn1_time(nextupd, &nu))) {
		val_sayf(text, cap, "OCSP %s: the response's times do "
		    "not decode", url);
		goto out;
	}
	text_utc(tu, t1);
	if (nextupd != NULL)
		text_utc(nu, t2);
	else
		val_sayf(t2, sizeof(t2), "none");
	if (tu > at + skew) {
		val_sayf(text, cap, "OCSP %s: the response's thisUpdate "
		    "%s is after the validation time", url, t1);
		goto out;
	}
	if (nextupd != NULL ? nu + skew < at :
	    at - tu > (time_t)o->ocsp_max_age_s) {
		val_sayf(text, cap, "OCSP %s: stale response (thisUpdate "
		    "%s, nextUpdate %s)", url, t1, t2);
		goto out;
	}
	val_subject(signer, w, sizeof(w));
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		st = VAL_ST_GOOD;
		val_sayf(text, cap, "good: OCSP %s (signed by %s, "
		    "thisUpdate %s, nextUpdate %s%s)", url, w, t1, t2,
		    nonce == 1 ? ", nonce echoed" : ", no nonce");
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		st = VAL_ST_REVOKED;
		*reason = r_reason;
		if (!val_asn1_time(rev, revoked_at))
			*revoked_at = 0;
		val_sayf(text, cap, "OCSP %s (signed by %s, thisUpdate %s)",
		    url, w, t1);
		break;
	default:
		val_sayf(text, cap, "OCSP %s: unknown: the responder does "
		    "not know this certificate", url);
		break;
	}
out:
	ERR_clear_error();
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	sk_X509_free(extra);
	OPENSSL_free(der);
	free(body);
	return st;
}

enum val_st
val_ocsp_status(struct val_run *run, X509 *x, X509 *issuer, bool *asked,
    time_t *revoked_at, int *reason, char *text, size_t cap)
{
	AUTHORITY_INFO_ACCESS *aia;
	const char *urls[VAL_URLS_PER_CERT];
	size_t n = 0, k, off = 0;
	enum val_st st = VAL_ST_UNKNOWN;
	int i;

	*asked = false;
	*reason = -1;
	*revoked_at = 0;
	text[0] = '\0';
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia) &&
	    n < VAL_URLS_PER_CERT; i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		GENERAL_NAMES *one;

		if (OBJ_obj2nid(ad->method) != NID_ad_OCSP ||
		    (one = sk_GENERAL_NAME_new_null()) == NULL)
			continue;
		if (sk_GENERAL_NAME_push(one, ad->location))
			n += val_uris(one, urls + n, 1);
		sk_GENERAL_NAME_free(one);
	}
	for (k = 0; k < n && st != VAL_ST_GOOD && st != VAL_ST_REVOKED; k++) {
		char one[VAL_TEXT_MAX / 2];

		*asked = true;
		if (strncasecmp(urls[k], "http://", 7) != 0)
			val_sayf(one, sizeof(one), "OCSP %.100s: only "
			    "http:// is used", urls[k]);
		else if (run->ctx->o.fetcher == NULL)
			val_sayf(one, sizeof(one), "OCSP %.100s: not "
			    "asked (fetching is off)", urls[k]);
		else if (val_run_url_failed(run, urls[k]))
			val_sayf(one, sizeof(one), "OCSP %.100s: no "
			    "answer (already failed)", urls[k]);
		else
			st = val_ocsp_one(run, urls[k], x, issuer, revoked_at,
			    reason, one, sizeof(one));
		if (st == VAL_ST_GOOD || st == VAL_ST_REVOKED)
			off = 0;
		if (off < cap)
			off += (size_t)snprintf(text + off, cap - off, "%s%s",
			    off ? "; " : "", one);
	}
	if (n == 0)
		val_sayf(text, cap, "no OCSP responder named in the "
		    "certificate");
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return st;
}
