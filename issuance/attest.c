/*
 * attest.c: key attestation of YubiKey-class tokens (attest.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "issuance/attest.h"
#include "issuance/pkix_util.h"

#define ATTEST_CERT_MAX	8192	/* a certificate from the card, at most */
#define ATTEST_OID_SERIAL "1.3.6.1.4.1.41482.3.7"

const char *
attest_status_name(enum attest_status s)
{
	switch (s) {
	case ATTEST_VERIFIED: return "verified";
	case ATTEST_MISSING: return "not attested";
	default: return "failed";
	}
}

static void
attest_say(struct attest_result *out, enum attest_status s, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
attest_say(struct attest_result *out, enum attest_status s, const char *fmt,
    ...)
{
	va_list ap;

	out->status = s;
	va_start(ap, fmt);
	(void)vsnprintf(out->text, sizeof(out->text), fmt, ap);
	va_end(ap);
}

/* One DER certificate, all of |len| bytes; NULL when it is not. */
static X509 *
attest_d2i(const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	X509 *x;

	if (p == NULL || len == 0 || len > ATTEST_CERT_MAX)
		return NULL;
	x = d2i_X509(NULL, &q, (long)len);
	if (x != NULL && q != p + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/*
 * The Yubico serial extension: an OCTET STRING holding an INTEGER (tag
 * 02, 1-8 content bytes, big-endian; read leniently: a token may pad it
 * with leading zeros, which DER would not).  1 when it is there and
 * equals |serial|, 0 when it differs or cannot be read, -1 when the
 * certificate has none.
 */
static int
attest_serial_is(X509 *x, uint32_t serial)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(ATTEST_OID_SERIAL, 1);
	const ASN1_OCTET_STRING *os;
	const unsigned char *q;
	X509_EXTENSION *e;
	uint64_t v = 0;
	int i, n, res = 0;

	if (oid == NULL)
		return 0;
	if ((i = X509_get_ext_by_OBJ(x, oid, -1)) < 0) {
		res = -1;
		goto out;
	}
	if ((e = X509_get_ext(x, i)) == NULL ||
	    (os = X509_EXTENSION_get_data(e)) == NULL)
		goto out;
	q = ASN1_STRING_get0_data(os);
	n = ASN1_STRING_length(os);
	if (n < 3 || n > 10 || q[0] != 0x02 || q[1] != n - 2 ||
	    (q[2] & 0x80) != 0)
		goto out;
	for (i = 2; i < n; i++)
		v = v << 8 | q[i];
	res = v == serial;
out:
	ASN1_OBJECT_free(oid);
	ERR_clear_error();
	return res;
}

enum pv_err
attest_verify(const char *roots, const uint8_t *att, size_t att_len,
    const uint8_t *f9, size_t f9_len, EVP_PKEY *pub, const uint32_t *serial,
    struct attest_result *out, struct pv_why *why)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL, *chain;
	X509 *ax = NULL, *fx = NULL;
	char root[128];
	enum pv_err r = PV_OK;
	int s;

	memset(out, 0, sizeof(*out));
	if (att != NULL && att_len > 0) {
		out->has_cert = true;
		(void)SHA256(att, att_len, out->cert_sha256);
	}
	if (roots == NULL || roots[0] == '\0') {
		attest_say(out, ATTEST_MISSING, "no attestation root is "
		    "configured ([attestation] roots)");
		goto out;
	}
	if (!out->has_cert) {
		attest_say(out, ATTEST_MISSING, "the token gave no attestation");
		goto out;
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "attestation: out of memory");
		goto out;
	}
	if (X509_STORE_load_file(store, roots) != 1) {
		ERR_clear_error();
		r = access(roots, R_OK) != 0 ?
		    pv_why_set(why, PV_E_NO_FILE, "[attestation] roots: %s: "
		    "cannot be read", roots) :
		    pv_why_set(why, PV_E_CONFIG, "[attestation] roots: %s: no "
		    "PEM certificate in it", roots);
		goto out;
	}
	if ((ax = attest_d2i(att, att_len)) == NULL) {
		attest_say(out, ATTEST_FAILED, "the attestation is not one DER "
		    "certificate");
		goto out;
	}
	if ((fx = attest_d2i(f9, f9_len)) == NULL) {
		attest_say(out, ATTEST_FAILED, "the token's attestation "
		    "certificate (F9) is missing or not one DER certificate");
		goto out;
	}
	pkix_name_str(X509_get_subject_name(fx), out->f9_subject,
	    sizeof(out->f9_subject));
	if (!sk_X509_push(untrusted, fx)) {
		r = pv_why_set(why, PV_E_NOMEM, "attestation: out of memory");
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, store, ax, untrusted) != 1) {
		r = pv_why_set(why, PV_E_NOMEM, "attestation: out of memory");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		s = X509_STORE_CTX_get_error(ctx);
		attest_say(out, ATTEST_FAILED, "the attestation does not chain "
		    "to an attestation root through the token's F9 "
		    "certificate: %s", X509_verify_cert_error_string(s));
		goto out;
	}
	/* The token's own F9 key signed it: the chain goes through F9. */
	chain = X509_STORE_CTX_get0_chain(ctx);
	if (sk_X509_num(chain) < 3 || X509_cmp(sk_X509_value(chain, 1),
	    fx) != 0) {
		attest_say(out, ATTEST_FAILED, "the attestation is not signed "
		    "by the token's F9 attestation key");
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(ax), pub) != 1) {
		attest_say(out, ATTEST_FAILED, "the attestation certifies "
		    "another key than the one the token returned");
		goto out;
	}
	if (serial != NULL && attest_serial_is(ax, *serial) == 0) {
		attest_say(out, ATTEST_FAILED, "the attestation names another "
		    "token serial than %u", (unsigned)*serial);
		goto out;
	}
	pkix_name_str(X509_get_subject_name(sk_X509_value(chain,
	    sk_X509_num(chain) - 1)), root, sizeof(root));
	attest_say(out, ATTEST_VERIFIED, "key generated on the token, "
	    "attested through %s to %s", out->f9_subject, root);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	X509_free(ax);
	X509_free(fx);
	return r;
}
