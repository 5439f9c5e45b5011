/*
 * test_ocsp_responder.c: the OCSP responder (issuance/ocsp_responder.c)
 * over an in-memory CA and its delegated responder, statuses from a
 * table: every answer decoded and its signature checked with OpenSSL's
 * client side (OCSP_basic_verify, which holds a delegated responder to
 * RFC 6960 §4.2.2.2), statuses, reasons, times, nonces, refusals, and
 * the GET form's decoding.
 */
#include <criterion/criterion.h>

#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "issuance/ca.h"
#include "issuance/ocsp_responder.h"
#include "issuance/pkix_util.h"
#include "test_ca_support.h"

/* ---- fixture: a CA, its responder, a status table ------------------------ */

static struct ca *g_ca;
static X509 *g_resp_cert;
static EVP_PKEY *g_resp_key;
static struct ocsp_responder *g_r;
static time_t g_now;

struct row {
	const char *serial;
	enum ocsp_cert_state state;
	int64_t at;
	int reason;
};

static const struct row g_rows[] = {
	{ "0a01", OCSP_CERT_GOOD, 0, -1 },
	{ "0a02", OCSP_CERT_REVOKED, 1767225600, 1 },	/* keyCompromise */
	{ "0a03", OCSP_CERT_REVOKED, 1767225600, -1 },	/* no reason */
	{ "0a04", OCSP_CERT_REVOKED, 1767225600, 6 },	/* certificateHold */
};

static unsigned g_lookups;
static bool g_lookup_fails;

static enum pv_err
lookup(void *ctx, const char *serial, struct ocsp_cert_status *out,
    struct pv_why *why)
{
	size_t i;

	(void)ctx;
	g_lookups++;
	if (g_lookup_fails)
		return pv_why_set(why, PV_E_IO, "store unavailable");
	memset(out, 0, sizeof(*out));
	out->state = OCSP_CERT_UNKNOWN;
	out->reason = -1;
	for (i = 0; i < sizeof(g_rows) / sizeof(g_rows[0]); i++) {
		if (strcmp(serial, g_rows[i].serial) == 0) {
			out->state = g_rows[i].state;
			out->revoked_at = g_rows[i].at;
			out->reason = g_rows[i].reason;
		}
	}
	return PV_OK;
}

static void
setup(void)
{
	struct ca_init_params p;
	struct ca_service_params sp;
	struct pv_why why = { "" };
	enum pv_err r;

	g_now = time(NULL);
	g_lookups = 0;
	g_lookup_fails = false;
	g_ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	ca_init_params_defaults(&p);
	pkix_dn_parse("C=US, O=Test Agency, OU=PIV Station", &p.name, NULL);
	ca_service_params_init(&sp, CA_SVC_OCSP, &p);
	r = ca_service_make(g_ca, &p, &sp, g_now - 60, &g_resp_cert,
	    &g_resp_key, &why);
	cr_assert_eq(r, PV_OK, "ca_service_make: %s", why.msg);
	r = ocsp_responder_new(ca_get0_issuing(g_ca), g_resp_cert, g_resp_key,
	    3600, &g_r, &why);
	cr_assert_eq(r, PV_OK, "ocsp_responder_new: %s", why.msg);
}

static void
teardown(void)
{
	ocsp_responder_free(g_r);
	X509_free(g_resp_cert);
	EVP_PKEY_free(g_resp_key);
	ca_free(g_ca);
	g_r = NULL;
	ERR_clear_error();
}

TestSuite(ocsp_responder, .init = setup, .fini = teardown);

/* ---- helpers ----------------------------------------------------------------- */

static OCSP_CERTID *
cid(const EVP_MD *md, X509 *issuer, long serial)
{
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	OCSP_CERTID *id;

	cr_assert(sn != NULL && ASN1_INTEGER_set(sn, serial));
	id = OCSP_cert_id_new(md, X509_get_subject_name(issuer),
	    X509_get0_pubkey_bitstr(issuer), sn);
	ASN1_INTEGER_free(sn);
	cr_assert(id != NULL);
	return id;
}

/* DER of |req| (OPENSSL_free). */
static uint8_t *
req_der(OCSP_REQUEST *req, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_OCSP_REQUEST(req, &der);

	cr_assert_gt(n, 0);
	*len = (size_t)n;
	return der;
}

/* Answers |req|: the response, its status in *status. */
static OCSP_RESPONSE *
ask(OCSP_REQUEST *req, int *status, struct ocsp_outcome *oc)
{
	struct pv_why why = { "" };
	uint8_t *in, *out = NULL;
	size_t in_len, out_len = 0;
	const unsigned char *p;
	OCSP_RESPONSE *resp;
	enum pv_err r;

	in = req_der(req, &in_len);
	r = ocsp_respond(g_r, in, in_len, g_now, lookup, NULL, &out, &out_len,
	    oc, &why);
	OPENSSL_free(in);
	cr_assert_eq(r, PV_OK, "ocsp_respond: %s", why.msg);
	p = out;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)out_len);
	cr_assert(resp != NULL && p == out + out_len, "response does not decode");
	OPENSSL_free(out);
	*status = OCSP_response_status(resp);
	return resp;
}

/* The basic response of |resp|, its signature checked against the CA's
 * root (the delegated responder must be authorised). */
static OCSP_BASICRESP *
verified(OCSP_RESPONSE *resp)
{
	OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
	STACK_OF(X509) *chain = ca_get0_chain(g_ca);
	X509_STORE *st = X509_STORE_new();
	int i;

	cr_assert(bs != NULL);
	cr_assert(st != NULL);
	for (i = 0; i < sk_X509_num(chain); i++)
		cr_assert(X509_STORE_add_cert(st, sk_X509_value(chain, i)));
	cr_assert_eq(OCSP_basic_verify(bs, NULL, st, 0), 1,
	    "OCSP_basic_verify refused the response");
	X509_STORE_free(st);
	return bs;
}

static time_t
t_of(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	cr_assert(t != NULL && ASN1_TIME_to_tm(t, &tm));
	return timegm(&tm);
}

/* ---- answers ---------------------------------------------------------------- */

Test(ocsp_responder, good_revoked_unknown_in_one_request)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *ids[5];
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	struct ocsp_outcome oc;
	ASN1_GENERALIZEDTIME *rev, *thisu, *nextu;
	X509 *issuing = ca_get0_issuing(g_ca);
	int status, st, reason;
	size_t i;

	ids[0] = cid(EVP_sha1(), issuing, 0x0a01);
	ids[1] = cid(EVP_sha1(), issuing, 0x0a02);
	ids[2] = cid(EVP_sha1(), issuing, 0x0a03);
	ids[3] = cid(EVP_sha1(), issuing, 0x0a04);
	ids[4] = cid(EVP_sha1(), issuing, 0x0bad);
	for (i = 0; i < 5; i++)
		cr_assert(OCSP_request_add0_id(req, OCSP_CERTID_dup(ids[i])));
	resp = ask(req, &status, &oc);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
	cr_assert_eq(oc.n_good, 1);
	cr_assert_eq(oc.n_revoked, 3);
	cr_assert_eq(oc.n_unknown, 1);
	cr_assert_not(oc.nonce);
	cr_assert_eq(g_lookups, 5);
	bs = verified(resp);
	cr_assert_eq(OCSP_resp_count(bs), 5);

	cr_assert(OCSP_resp_find_status(bs, ids[0], &st, &reason, &rev, &thisu,
	    &nextu));
	cr_assert_eq(st, V_OCSP_CERTSTATUS_GOOD);
	cr_assert_eq(t_of(thisu), g_now);
	cr_assert_eq(t_of(nextu), g_now + 3600);
	cr_assert(OCSP_resp_find_status(bs, ids[1], &st, &reason, &rev, NULL,
	    NULL));
	cr_assert_eq(st, V_OCSP_CERTSTATUS_REVOKED);
	cr_assert_eq(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
	cr_assert_eq(t_of(rev), 1767225600);
	cr_assert(OCSP_resp_find_status(bs, ids[2], &st, &reason, &rev, NULL,
	    NULL));
	cr_assert_eq(st, V_OCSP_CERTSTATUS_REVOKED);
	cr_assert_eq(reason, OCSP_REVOKED_STATUS_NOSTATUS, "no reason recorded, "
	    "none given");
	cr_assert(OCSP_resp_find_status(bs, ids[3], &st, &reason, NULL, NULL,
	    NULL));
	cr_assert_eq(reason, OCSP_REVOKED_STATUS_CERTIFICATEHOLD);
	cr_assert(OCSP_resp_find_status(bs, ids[4], &st, NULL, NULL, NULL,
	    NULL));
	cr_assert_eq(st, V_OCSP_CERTSTATUS_UNKNOWN);

	for (i = 0; i < 5; i++)
		OCSP_CERTID_free(ids[i]);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, signed_by_the_delegated_responder_named_by_key_hash)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	const ASN1_OCTET_STRING *kh = NULL;
	const X509_NAME *nm = NULL;
	X509 *signer = NULL;
	const STACK_OF(X509) *certs;
	int status;

	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	resp = ask(req, &status, NULL);
	bs = verified(resp);
	cr_assert(OCSP_resp_get0_id(bs, &kh, &nm));
	cr_assert(kh != NULL && nm == NULL, "responder ID by key hash");
	certs = OCSP_resp_get0_certs(bs);
	cr_assert_eq(sk_X509_num(certs), 1, "the signer's certificate sent");
	cr_assert(OCSP_resp_get0_signer(bs, &signer, NULL));
	cr_assert_eq(X509_cmp(signer, g_resp_cert), 0);
	cr_assert(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN);
	cr_assert_eq(tca_ext_crit(signer, NID_id_pkix_OCSP_noCheck), 0,
	    "id-pkix-ocsp-nocheck present");
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, nonce_echoed)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	struct ocsp_outcome oc;
	int status;

	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	cr_assert(OCSP_request_add1_nonce(req, NULL, 32));
	resp = ask(req, &status, &oc);
	bs = verified(resp);
	cr_assert(oc.nonce);
	cr_assert_eq(OCSP_check_nonce(req, bs), 1, "nonce echoed");
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, long_nonce_left_out_longer_refused)
{
	unsigned char n64[64], n200[200];
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	int status;

	memset(n64, 0x5a, sizeof(n64));
	memset(n200, 0x5a, sizeof(n200));
	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	cr_assert(OCSP_request_add1_nonce(req, n64, sizeof(n64)));
	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
	bs = verified(resp);
	/* RFC 8954: 1-32 bytes; a 64-byte one is not echoed */
	cr_assert_eq(OCSP_check_nonce(req, bs), -1, "nonce present in request "
	    "only");
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);

	req = OCSP_REQUEST_new();
	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	cr_assert(OCSP_request_add1_nonce(req, n200, sizeof(n200)));
	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, certid_by_sha256_and_sha512)
{
	const EVP_MD *mds[2] = { EVP_sha256(), EVP_sha512() };
	OCSP_CERTID *id;
	OCSP_REQUEST *req;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	int status, st, reason;
	size_t i;

	for (i = 0; i < 2; i++) {
		req = OCSP_REQUEST_new();
		id = cid(mds[i], ca_get0_issuing(g_ca), 0x0a02);
		cr_assert(OCSP_request_add0_id(req, OCSP_CERTID_dup(id)));
		resp = ask(req, &status, NULL);
		cr_assert_eq(status, OCSP_RESPONSE_STATUS_SUCCESSFUL);
		bs = verified(resp);
		cr_assert(OCSP_resp_find_status(bs, id, &st, &reason, NULL,
		    NULL, NULL));
		cr_assert_eq(st, V_OCSP_CERTSTATUS_REVOKED);
		OCSP_CERTID_free(id);
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(resp);
		OCSP_REQUEST_free(req);
	}
}

/* ---- refusals --------------------------------------------------------------- */

Test(ocsp_responder, another_issuer_unauthorized)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	int status;

	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(), g_resp_cert, 1)));
	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	cr_assert_null(OCSP_response_get1_basic(resp));
	OCSP_RESPONSE_free(resp);
	/* beside one of ours: refused whole */
	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	cr_assert_eq(g_lookups, 0);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, store_failing_try_later)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	int status;

	g_lookup_fails = true;
	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_TRYLATER);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, too_many_or_no_single_requests_malformed)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	int status, i;

	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, "none");
	OCSP_RESPONSE_free(resp);
	for (i = 0; i <= OCSP_RESP_MAX_IDS; i++)
		cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
		    ca_get0_issuing(g_ca), 0x0a01)));
	resp = ask(req, &status, NULL);
	cr_assert_eq(status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, "%d",
	    OCSP_RESP_MAX_IDS + 1);
	cr_assert_eq(g_lookups, 0);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, not_der_malformed)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01 };
	struct pv_why why = { "" };
	struct ocsp_outcome oc;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	uint8_t *out = NULL, *der, *longer;
	size_t n, out_len;

	cr_assert_eq(ocsp_respond(g_r, junk, sizeof(junk), g_now, lookup, NULL,
	    &out, &out_len, &oc, &why), PV_OK);
	cr_assert_eq(oc.response_status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OPENSSL_free(out);
	/* a good request with a byte after it */
	cr_assert(OCSP_request_add0_id(req, cid(EVP_sha1(),
	    ca_get0_issuing(g_ca), 0x0a01)));
	der = req_der(req, &n);
	longer = malloc(n + 1);
	memcpy(longer, der, n);
	longer[n] = 0;
	cr_assert_eq(ocsp_respond(g_r, longer, n + 1, g_now, lookup, NULL, &out,
	    &out_len, &oc, &why), PV_OK);
	cr_assert_eq(oc.response_status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OPENSSL_free(out);
	cr_assert_eq(ocsp_respond(g_r, longer, 0, g_now, lookup, NULL, &out,
	    &out_len, &oc, &why), PV_OK);
	cr_assert_eq(oc.response_status, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OPENSSL_free(out);
	free(longer);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
}

Test(ocsp_responder, signer_must_be_certified_for_ocsp)
{
	struct pv_why why = { "" };
	struct ocsp_responder *r = NULL;

	/* the content signer: issued by the CA, but not for OCSP signing */
	cr_assert_eq(ocsp_responder_new(ca_get0_issuing(g_ca),
	    ca_get0_signer(g_ca), ca_get0_signer_key(g_ca), 60, &r, &why),
	    PV_E_INPUT);
	cr_assert_null(r);
	cr_assert(strstr(why.msg, "OCSP signing") != NULL, "%s", why.msg);
	/* the responder's certificate with another key */
	cr_assert_eq(ocsp_responder_new(ca_get0_issuing(g_ca), g_resp_cert,
	    ca_get0_signer_key(g_ca), 60, &r, &why), PV_E_INPUT);
	/* the issuing CA itself answering */
	cr_assert_eq(ocsp_responder_new(ca_get0_issuing(g_ca),
	    ca_get0_issuing(g_ca), ca_get0_issuing_key(g_ca), 60, &r, &why),
	    PV_OK, "%s", why.msg);
	ocsp_responder_free(r);
}

/* ---- GET ------------------------------------------------------------------- */

Test(ocsp_responder, get_decode)
{
	struct pv_why why = { "" };
	uint8_t *out = NULL;
	size_t n = 0;

	/* "MAMCAQE=" is 30 03 02 01 01; escaped '+' '/' '=' and URL-safe */
	cr_assert_eq(ocsp_get_decode("MAMCAQE%3D", &out, &n, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(out, "\x30\x03\x02\x01\x01", 5), 0);
	free(out);
	cr_assert_eq(ocsp_get_decode("-_8%2B", &out, &n, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(out, "\xfb\xff\x3e", 3), 0);
	free(out);
	cr_assert_eq(ocsp_get_decode("%2f%2F//", &out, &n, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(out, "\xff\xff\xff", 3), 0);
	free(out);
	cr_assert_eq(ocsp_get_decode("MAMC\nAQE=", &out, &n, &why), PV_OK);
	free(out);
	cr_assert_eq(ocsp_get_decode("MAMCAQE=x", &out, &n, &why), PV_E_INPUT,
	    "data after padding");
	cr_assert_eq(ocsp_get_decode("MA*C", &out, &n, &why), PV_E_INPUT);
	cr_assert_eq(ocsp_get_decode("MAM%zz", &out, &n, &why), PV_E_INPUT);
	cr_assert_eq(ocsp_get_decode("MAM%4", &out, &n, &why), PV_E_INPUT);
	cr_assert_eq(ocsp_get_decode("", &out, &n, &why), PV_E_INPUT);
	cr_assert_eq(ocsp_get_decode("M", &out, &n, &why), PV_E_INPUT,
	    "six bits are no byte");
	cr_assert_eq(ocsp_get_decode("MAMCAQE===", &out, &n, &why), PV_E_INPUT);
	cr_assert_null(out);
}

Test(ocsp_responder, get_decode_too_long)
{
	struct pv_why why = { "" };
	size_t big = 4 * (OCSP_RESP_MAX_REQUEST / 3 + 8), n = 0;
	char *s = malloc(big + 1);
	uint8_t *out = NULL;

	memset(s, 'A', big);
	s[big] = '\0';
	cr_assert_eq(ocsp_get_decode(s, &out, &n, &why), PV_E_TOO_LONG, "%s",
	    why.msg);
	cr_assert_null(out);
	free(s);
}
