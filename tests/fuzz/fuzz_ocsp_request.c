/*
 * fuzz_ocsp_request.c: an OCSP request is whatever a client sends
 * (issuance/ocsp_responder.c): the DER of a POST body, and the same bytes
 * read as the path of a GET (base64, URL-escaped).  Every answer must be
 * an OCSPResponse that decodes, successful ones signed and covering each
 * request.  The responder is a fixed test CA answering for itself, so
 * the corpus's CertIDs name it (the key is a published test key that
 * protects nothing).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "issuance/ocsp_responder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVA9sA191/9fkoMYn\n"
	"MQK4skjlWwbLjzkm3Bb5hySpVUChRANCAASpHoNzTft4rLZDHuL8WD8oJQjsvY6i\n"
	"5pycjGqbh4odw+dIun4o9LBWuk1KbxJVt3R9vdn+ptj/BQNAGuAEuL6e\n"
	"-----END PRIVATE KEY-----\n";

static const char fuzz_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB4jCCAYegAwIBAgIUYdpAA8TqwoiqpflufiTvtVJyqRIwCgYIKoZIzj0EAwIw\n"
	"PTELMAkGA1UEBhMCVVMxFDASBgNVBAoMC0Z1enogQWdlbmN5MRgwFgYDVQQDDA9G\n"
	"dXp6IElzc3VpbmcgQ0EwIBcNMjYxMjA3MjEwNzM3WhgPMjEyNjExMTMyMTA3Mzda\n"
	"MD0xCzAJBgNVBAYTAlVTMRQwEgYDVQQKDAtGdXp6IEFnZW5jeTEYMBYGA1UEAwwP\n"
	"RnV6eiBJc3N1aW5nIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqR6Dc037\n"
	"eKy2Qx7i/Fg/KCUI7L2OouacnIxqm4eKHcPnSLp+KPSwVrpNSm8SVbd0fb3Z/qbY\n"
	"/wUDQBrgBLi+nqNjMGEwHQYDVR0OBBYEFBpbgXsKGf4gLCYdzr81VB2RGZdpMB8G\n"
	"A1UdIwQYMBaAFBpbgXsKGf4gLCYdzr81VB2RGZdpMA8GA1UdEwEB/wQFMAMBAf8w\n"
	"DgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0kAMEYCIQCo5qcgoPNdGzeitWCJ\n"
	"yXjlM+7ymE3Y32KTvTfrIYkviQIhALeApmGRagX6nm+vNWjfgCsSRdXddZ9miKNH\n"
	"b3+miFri\n"
	"-----END CERTIFICATE-----\n";

static struct ocsp_responder *fuzz_r;
static X509 *fuzz_issuer;

static void
fuzz_init(void)
{
	BIO *b;
	EVP_PKEY *k;

	if (fuzz_r != NULL)
		return;
	b = BIO_new_mem_buf(fuzz_key, -1);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(fuzz_cert, -1);
	fuzz_issuer = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k == NULL || fuzz_issuer == NULL ||
	    ocsp_responder_new(fuzz_issuer, fuzz_issuer, k, 3600, &fuzz_r,
	    NULL) != PV_OK)
		abort();
	EVP_PKEY_free(k);
}

/* Statuses by the serial's last hex digit: all three kinds, reasons
 * in and out of range, and a store that fails. */
static enum pv_err
fuzz_lookup(void *ctx, const char *serial, struct ocsp_cert_status *out,
    struct pv_why *why)
{
	size_t n = strlen(serial);
	int d = n > 0 ? serial[n - 1] : '0';

	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->reason = -1;
	switch (d) {
	case '1':
		out->state = OCSP_CERT_GOOD;
		break;
	case '2': case '3': case '4': case '5':
		out->state = OCSP_CERT_REVOKED;
		out->revoked_at = 1767225600;
		out->reason = d == '5' ? 7 : d - '2';
		break;
	case 'f':
		return pv_why_set(why, PV_E_IO, "store unavailable");
	default:
		out->state = OCSP_CERT_UNKNOWN;
		break;
	}
	return PV_OK;
}

static void
fuzz_answer(const uint8_t *req, size_t len)
{
	struct pv_why why = { "" };
	struct ocsp_outcome oc;
	uint8_t *out = NULL;
	size_t out_len = 0;
	const unsigned char *p;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs = NULL;

	if (ocsp_respond(fuzz_r, req, len, 1767225600, fuzz_lookup, NULL, &out,
	    &out_len, &oc, &why) != PV_OK) {
		if (out != NULL)
			__builtin_trap();
		return;
	}
	p = out;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)out_len)) == NULL ||
	    p != out + out_len ||
	    OCSP_response_status(resp) != oc.response_status)
		__builtin_trap();
	if (oc.response_status == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		if ((bs = OCSP_response_get1_basic(resp)) == NULL ||
		    OCSP_basic_verify(bs, NULL, NULL, OCSP_NOVERIFY) != 1 ||
		    (unsigned)OCSP_resp_count(bs) !=
		    oc.n_good + oc.n_revoked + oc.n_unknown)
			__builtin_trap();
	}
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OPENSSL_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pv_why why = { "" };
	uint8_t *der = NULL;
	size_t n = 0;
	char *path;

	fuzz_init();
	fuzz_answer(data, size);
	/* the same bytes as a GET path */
	if ((path = malloc(size + 1)) == NULL)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (ocsp_get_decode(path, &der, &n, &why) == PV_OK) {
		if (der == NULL || n == 0 || n > OCSP_RESP_MAX_REQUEST)
			__builtin_trap();
		fuzz_answer(der, n);
	} else if (der != NULL) {
		__builtin_trap();
	}
	free(der);
	free(path);
	ERR_clear_error();
	return 0;
}
