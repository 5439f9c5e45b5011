/*
 * ocsp_responder.c: the station CA's OCSP responder (ocsp_responder.h).
 * OpenSSL decodes the request and encodes and signs the response; which
 * status each CertID gets, and when a request is refused, is decided here.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "apdu/buf.h"
#include "issuance/ocsp_responder.h"
#include "issuance/pkix_util.h"
#include "issuance/store.h"

/* CertID hash algorithms we recognise the issuer under. */
#define OCSP_RESP_N_MD	4

struct ocsp_responder {
	X509 *issuer;
	X509 *signer;
	EVP_PKEY *key;
	unsigned validity_s;
	/* the issuer's CertID under each hash (serial unused) */
	OCSP_CERTID *issuer_id[OCSP_RESP_N_MD];
};

enum pv_err
ocsp_lookup_store(void *ctx, const char *serial_hex,
    struct ocsp_cert_status *out, struct pv_why *why)
{
	struct store *st = ctx;
	enum store_cert_status s;
	int64_t at;
	int reason;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	out->reason = -1;
	r = store_cert_status(st, serial_hex, &s, &at, &reason, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		out->state = OCSP_CERT_UNKNOWN;
		return PV_OK;
	}
	if (r != PV_OK)
		return r;
	switch (s) {
	case STORE_CERT_ACTIVE:
		out->state = OCSP_CERT_GOOD;
		break;
	case STORE_CERT_ON_HOLD:
		/* RFC 6960 §2.2: on hold is revoked, certificateHold. */
		out->state = OCSP_CERT_REVOKED;
		out->revoked_at = at;
		out->reason = STORE_REASON_HOLD;
		break;
	case STORE_CERT_REVOKED:
		out->state = OCSP_CERT_REVOKED;
		out->revoked_at = at;
		out->reason = reason;
		break;
	}
	return PV_OK;
}

void
ocsp_responder_free(struct ocsp_responder *r)
{
	size_t i;

	if (r == NULL)
		return;
	X509_free(r->issuer);
	X509_free(r->signer);
	EVP_PKEY_free(r->key);
	for (i = 0; i < OCSP_RESP_N_MD; i++)
		OCSP_CERTID_free(r->issuer_id[i]);
	free(r);
}

X509 *
ocsp_responder_signer(const struct ocsp_responder *r)
{
	return r->signer;
}

enum pv_err
ocsp_responder_new(X509 *issuer, X509 *signer, EVP_PKEY *signer_key,
    unsigned validity_s, struct ocsp_responder **out, struct pv_why *why)
{
	const EVP_MD *mds[OCSP_RESP_N_MD];
	struct ocsp_responder *r = NULL;
	ASN1_INTEGER *one = NULL;
	enum pv_err e = PV_E_INTERNAL;
	size_t i;

	*out = NULL;
	if (validity_s == 0)
		return pv_why_set(why, PV_E_INVAL, "OCSP validity of 0 s");
	if (X509_cmp(issuer, signer) != 0) {
		/* RFC 6960 §4.2.2.2: issued by the CA, for OCSP signing. */
		if (X509_check_issued(issuer, signer) != X509_V_OK ||
		    X509_verify(signer, X509_get0_pubkey(issuer)) != 1 ||
		    !(X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) ||
		    !(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN)) {
			ERR_clear_error();
			return pv_why_set(why, PV_E_INPUT, "the OCSP signer is "
			    "neither the issuing CA nor a responder it "
			    "certified for OCSP signing");
		}
	}
	if (X509_check_private_key(signer, signer_key) != 1) {
		ERR_clear_error();
		return pv_why_set(why, PV_E_INPUT, "the OCSP signing key does "
		    "not match its certificate");
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	mds[0] = EVP_sha1();	/* RFC 5019 §2.1.1: what clients send */
	mds[1] = EVP_sha256();
	mds[2] = EVP_sha384();
	mds[3] = EVP_sha512();
	if ((one = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(one, 1))
		goto crypto;
	for (i = 0; i < OCSP_RESP_N_MD; i++)
		if ((r->issuer_id[i] = OCSP_cert_id_new(mds[i],
		    X509_get_subject_name(issuer),
		    X509_get0_pubkey_bitstr(issuer), one)) == NULL)
			goto crypto;
	if (!X509_up_ref(issuer))
		goto crypto;
	r->issuer = issuer;
	if (!X509_up_ref(signer))
		goto crypto;
	r->signer = signer;
	if (!EVP_PKEY_up_ref(signer_key))
		goto crypto;
	r->key = signer_key;
	r->validity_s = validity_s;
	*out = r;
	r = NULL;
	e = PV_OK;
	goto out;
crypto:
	e = pkix_crypto_err(why, "OCSP responder");
out:
	ASN1_INTEGER_free(one);
	ocsp_responder_free(r);
	return e;
}

/* Does |id| name our issuer (under any hash we know)? */
static bool
ocsp_resp_ours(const struct ocsp_responder *r, OCSP_CERTID *id)
{
	size_t i;

	for (i = 0; i < OCSP_RESP_N_MD; i++)
		if (OCSP_id_issuer_cmp(r->issuer_id[i], id) == 0)
			return true;
	return false;
}

/*
 * The serial of |id| as the store writes serials, or false for one no
 * certificate of ours can have (negative, empty, longer than 20 bytes).
 */
static bool
ocsp_resp_serial(OCSP_CERTID *id, char out[2 * 20 + 1])
{
	ASN1_INTEGER *sn = NULL;
	const unsigned char *d;
	int n;

	if (!OCSP_id_get0_info(NULL, NULL, NULL, &sn, id) || sn == NULL ||
	    ASN1_STRING_type(sn) != V_ASN1_INTEGER)
		return false;
	d = ASN1_STRING_get0_data(sn);
	n = ASN1_STRING_length(sn);
	if (d == NULL || n <= 0 || n > 20)
		return false;
	buf_hex(d, (size_t)n, out);
	return true;
}

/*
 * The nonce of |req|, RFC 8954 §2.1: 0 none or one to leave out (33-128
 * bytes, or not an OCTET STRING), 1 echo it, -1 refuse (over 128 bytes).
 */
static int
ocsp_resp_nonce(OCSP_REQUEST *req)
{
	X509_EXTENSION *ext;
	ASN1_OCTET_STRING *v, *inner = NULL;
	const unsigned char *p;
	int i, n, ret;

	if ((i = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce,
	    -1)) < 0)
		return 0;
	if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, i) >= 0)
		return -1;	/* twice: malformed */
	ext = OCSP_REQUEST_get_ext(req, i);
	v = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(v);
	n = ASN1_STRING_length(v);
	if (p == NULL || n <= 0)
		return 0;
	if ((inner = d2i_ASN1_OCTET_STRING(NULL, &p, n)) == NULL ||
	    p != ASN1_STRING_get0_data(v) + n) {
		/* not DER: an old client's raw bytes */
		ERR_clear_error();
		ret = n > 128 ? -1 : 0;
	} else {
		n = ASN1_STRING_length(inner);
		ret = n > 128 ? -1 : (n >= 1 && n <= 32) ? 1 : 0;
	}
	ASN1_OCTET_STRING_free(inner);
	return ret;
}

/* An OCSPResponse with only a status (RFC 6960 §4.2.1). */
static enum pv_err
ocsp_resp_status_only(int status, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	OCSP_RESPONSE *resp = OCSP_response_create(status, NULL);
	unsigned char *der = NULL;
	int n;

	if (resp == NULL || (n = i2d_OCSP_RESPONSE(resp, &der)) <= 0) {
		OCSP_RESPONSE_free(resp);
		return pkix_crypto_err(why, "OCSP response");
	}
	OCSP_RESPONSE_free(resp);
	*out = der;
	*out_len = (size_t)n;
	return PV_OK;
}

enum pv_err
ocsp_respond(const struct ocsp_responder *r, const uint8_t *req_der,
    size_t len, time_t now, ocsp_lookup_fn *lookup, void *ctx,
    uint8_t **out, size_t *out_len, struct ocsp_outcome *outcome,
    struct pv_why *why)
{
	struct ocsp_outcome oc;
	OCSP_REQUEST *req = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL, *revt = NULL;
	const unsigned char *p = req_der;
	unsigned char *der = NULL;
	int status = OCSP_RESPONSE_STATUS_SUCCESSFUL, n, i, nonce = 0, ours = 0;
	enum pv_err e = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	memset(&oc, 0, sizeof(oc));
	if (len == 0 || len > OCSP_RESP_MAX_REQUEST ||
	    (req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != req_der + len) {
		status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
		goto status_only;
	}
	n = OCSP_request_onereq_count(req);
	if (n <= 0 || n > OCSP_RESP_MAX_IDS ||
	    (nonce = ocsp_resp_nonce(req)) < 0) {
		status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
		goto status_only;
	}
	/* Authoritative for the issuing CA's certificates only: a request
	 * naming another issuer's, even beside ours, is refused whole (a
	 * delegated responder's "unknown" for it would vouch for nothing,
	 * and clients refuse a response mixing issuers). */
	for (i = 0; i < n; i++)
		if (ocsp_resp_ours(r, OCSP_onereq_get0_id(
		    OCSP_request_onereq_get0(req, i))))
			ours++;
	if (ours != n) {
		status = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
		goto status_only;
	}
	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    (thisupd = ASN1_TIME_set(NULL, now)) == NULL ||
	    (nextupd = ASN1_TIME_set(NULL, now + (time_t)r->validity_s)) ==
	    NULL)
		goto crypto;
	for (i = 0; i < n; i++) {
		OCSP_CERTID *id = OCSP_onereq_get0_id(
		    OCSP_request_onereq_get0(req, i));
		struct ocsp_cert_status cs;
		char serial[2 * 20 + 1];
		int st, reason;

		memset(&cs, 0, sizeof(cs));
		cs.state = OCSP_CERT_UNKNOWN;
		cs.reason = -1;
		if (ocsp_resp_serial(id, serial) &&
		    lookup(ctx, serial, &cs, why) != PV_OK) {
			/* §2.3: the store cannot say now */
			status = OCSP_RESPONSE_STATUS_TRYLATER;
			goto status_only;
		}
		reason = OCSP_REVOKED_STATUS_NOSTATUS;
		switch (cs.state) {
		case OCSP_CERT_GOOD:
			st = V_OCSP_CERTSTATUS_GOOD;
			oc.n_good++;
			break;
		case OCSP_CERT_REVOKED:
			st = V_OCSP_CERTSTATUS_REVOKED;
			/* RFC 5280 §5.3.1: 7 is unused; 0 is left out as the
			 * CRL leaves it out */
			if (cs.reason > 0 && cs.reason <= 10 && cs.reason != 7)
				reason = cs.reason;
			ASN1_TIME_free(revt);
			if ((revt = ASN1_TIME_set(NULL, (time_t)cs.revoked_at)) ==
			    NULL)
				goto crypto;
			oc.n_revoked++;
			break;
		default:
			st = V_OCSP_CERTSTATUS_UNKNOWN;
			oc.n_unknown++;
			break;
		}
		if (OCSP_basic_add1_status(bs, id, st, reason,
		    st == V_OCSP_CERTSTATUS_REVOKED ? revt : NULL, thisupd,
		    nextupd) == NULL)
			goto crypto;
	}
	if (nonce == 1) {
		if (OCSP_copy_nonce(bs, req) != 1)
			goto crypto;
		oc.nonce = true;
	}
	/* RFC 5019 §2.2.3: the responder named by its key's hash. */
	if (OCSP_basic_sign(bs, r->signer, r->key, pkix_md_for_key(r->key),
	    NULL, OCSP_RESPID_KEY) != 1 ||
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) ==
	    NULL || (n = i2d_OCSP_RESPONSE(resp, &der)) <= 0)
		goto crypto;
	*out = der;
	*out_len = (size_t)n;
	oc.response_status = OCSP_RESPONSE_STATUS_SUCCESSFUL;
	e = PV_OK;
	goto out;
status_only:
	pv_why_clear(why);
	memset(&oc, 0, sizeof(oc));
	oc.response_status = status;
	e = ocsp_resp_status_only(status, out, out_len, why);
	goto out;
crypto:
	e = pkix_crypto_err(why, "OCSP response");
out:
	if (outcome != NULL)
		*outcome = oc;
	ERR_clear_error();
	OCSP_REQUEST_free(req);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revt);
	return e;
}

/* ---- GET ------------------------------------------------------------------- */

static int
ocsp_b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

enum pv_err
ocsp_get_decode(const char *path, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	size_t n = strlen(path), i, o = 0, pad = 0;
	uint8_t *b = NULL;
	uint32_t acc = 0;
	unsigned bits = 0;
	int c, v, h1, h2;
	enum pv_err r = PV_E_INPUT;

	*out = NULL;
	*out_len = 0;
	/* base64 of OCSP_RESP_MAX_REQUEST bytes, escaped at worst 3:1 */
	if (n > 3 * ((OCSP_RESP_MAX_REQUEST + 2) / 3 * 4 + 64))
		return pv_why_set(why, PV_E_TOO_LONG, "OCSP GET request longer "
		    "than %u bytes", OCSP_RESP_MAX_REQUEST);
	if ((b = malloc(n / 4 * 3 + 3)) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		c = (unsigned char)path[i];
		if (c == '%') {
			if (n - i < 3 || (h1 = buf_hexval(path[i + 1])) < 0 ||
			    (h2 = buf_hexval(path[i + 2])) < 0) {
				r = pv_why_set(why, PV_E_INPUT, "OCSP GET: a bad "
				    "percent escape");
				goto out;
			}
			c = h1 * 16 + h2;
			i += 2;
		}
		if (c == ' ' || c == '\r' || c == '\n' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = ocsp_b64_val(c)) < 0) {
			r = pv_why_set(why, PV_E_INPUT, "OCSP GET: not base64");
			goto out;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* leftover bits must be zero padding; at most two '=' */
	if (pad > 2 || acc != 0 || o == 0 || bits >= 6) {
		r = pv_why_set(why, PV_E_INPUT, "OCSP GET: not base64");
		goto out;
	}
	if (o > OCSP_RESP_MAX_REQUEST) {
		r = pv_why_set(why, PV_E_TOO_LONG, "OCSP GET request longer "
		    "than %u bytes", OCSP_RESP_MAX_REQUEST);
		goto out;
	}
	*out = b;
	*out_len = o;
	b = NULL;
	r = PV_OK;
out:
	free(b);
	return r;
}
