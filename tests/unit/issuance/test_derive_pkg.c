/*
 * test_derive_pkg.c: the derived certificates' profile and their PKCS#12
 * (issuance/derive_pkg.h), over an in-memory CA.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/derive_pkg.h"
#include "tests/unit/issuance/test_ca_support.h"

static const uint8_t test_uuid[16] = {
	0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
	0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
};

static X509 *
issue(struct ca *ca, const struct pv_config *cfg, enum derive_cert_kind kind,
    EVP_PKEY *k, time_t now)
{
	struct derive_cert_req q;
	X509_NAME *n = X509_NAME_new();
	struct pv_why why = { "" };
	X509 *x = NULL;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Jane Doe", -1, -1, 0);
	memset(&q, 0, sizeof(q));
	q.kind = kind;
	q.pub = k;
	q.subject = n;
	memcpy(q.uuid, test_uuid, 16);
	q.email = "jane.doe@example.gov";
	q.now = now;
	cr_assert_eq(derive_cert_issue(ca, cfg, &q, &x, &why), PV_OK, "%s",
	    why.msg);
	X509_NAME_free(n);
	return x;
}

/* The SAN's entries as "URI:..." / "email:..." / "other" in one line. */
static void
san_text(X509 *x, char *out, size_t len)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	int i;

	out[0] = '\0';
	cr_assert_not_null(g);
	for (i = 0; i < sk_GENERAL_NAME_num(g); i++) {
		GENERAL_NAME *e = sk_GENERAL_NAME_value(g, i);
		size_t l = strlen(out);

		if (e->type == GEN_URI)
			snprintf(out + l, len - l, "URI:%s ", (const char *)
			    ASN1_STRING_get0_data(e->d.uniformResourceIdentifier));
		else if (e->type == GEN_EMAIL)
			snprintf(out + l, len - l, "email:%s ", (const char *)
			    ASN1_STRING_get0_data(e->d.rfc822Name));
		else
			snprintf(out + l, len - l, "other ");
	}
	GENERAL_NAMES_free(g);
}

Test(derive_pkg, auth_certificate_profile)
{
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct pv_config cfg;
	char san[512];
	time_t now = time(NULL);
	ASN1_BIT_STRING *ku;
	X509 *x;
	int crit = -1, days = 0, secs = 0;

	config_defaults(&cfg);
	cfg.derive_cert_days = 1095;
	x = issue(ca, &cfg, DERIVE_CERT_AUTH, k, now);
	san_text(x, san, sizeof(san));
	cr_assert_str_eq(san, "URI:urn:uuid:12345678-9abc-4def-8123-"
	    "456789abcdef ", "only the UUID, no FASC-N, no e-mail: %s", san);
	cr_assert_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	cr_assert_not_null(ku);
	cr_assert_eq(crit, 1, "keyUsage critical");
	ASN1_BIT_STRING_free(ku);
	cr_assert(derive_cert_has_policy(x,
	    &cfg.derive_policy[CONFIG_DP_AUTH_SW]));
	cr_assert(!derive_cert_has_policy(x,
	    &cfg.derive_policy[CONFIG_DP_AUTH_HW]), "software, not hardware");
	cr_assert_eq(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	cr_assert_eq(days, 1095);
	cr_assert_eq(X509_check_issued(ca_get0_issuing(ca), x), X509_V_OK);
	cr_assert_eq(X509_verify(x, X509_get0_pubkey(ca_get0_issuing(ca))), 1);
	X509_free(x);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(derive_pkg, signature_certificate_and_refusals)
{
	EVP_PKEY *k = tca_key(PKIX_ALG_RSA2048), *big = tca_key(PKIX_ALG_RSA4096);
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct derive_cert_req q;
	struct pv_config cfg;
	struct pv_why why = { "" };
	char san[512];
	X509 *x = NULL;

	config_defaults(&cfg);
	x = issue(ca, &cfg, DERIVE_CERT_SIGN, k, time(NULL));
	san_text(x, san, sizeof(san));
	cr_assert(strstr(san, "email:jane.doe@example.gov") != NULL, "%s", san);
	cr_assert_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE |
	    KU_NON_REPUDIATION);
	cr_assert(derive_cert_has_policy(x,
	    &cfg.derive_policy[CONFIG_DP_SIGN_SW]));
	X509_free(x);
	x = NULL;
	memset(&q, 0, sizeof(q));
	q.kind = DERIVE_CERT_AUTH;
	q.pub = big;
	q.subject = X509_get_subject_name(ca_get0_issuing(ca));
	q.now = time(NULL);
	cr_assert_eq(derive_cert_issue(ca, &cfg, &q, &x, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "RSA 4096") != NULL, "%s", why.msg);
	cr_assert_null(x);
	cfg.derive_cert_days = 1097;
	q.pub = k;
	cr_assert_eq(derive_cert_issue(ca, &cfg, &q, &x, NULL), PV_E_CONFIG,
	    "more than three years");
	EVP_PKEY_free(k);
	EVP_PKEY_free(big);
	ca_free(ca);
}

static void
p12_check(enum config_p12_compat compat, int want_mac_nid)
{
	EVP_PKEY *k1 = tca_key(PKIX_ALG_P256), *k2 = tca_key(PKIX_ALG_RSA2048);
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct pv_config cfg;
	struct derive_identity ids[2];
	struct pv_why why = { "" };
	const X509_ALGOR *mac_alg = NULL;
	const ASN1_OBJECT *obj;
	const unsigned char *d;
	STACK_OF(X509) *ca_certs = NULL;
	EVP_PKEY *pk = NULL;
	X509 *c1, *c2, *got = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	PKCS12 *p12;

	config_defaults(&cfg);
	c1 = issue(ca, &cfg, DERIVE_CERT_AUTH, k1, time(NULL));
	c2 = issue(ca, &cfg, DERIVE_CERT_SIGN, k2, time(NULL));
	ids[0] = (struct derive_identity){ k1, c1, "Derived PIV Authentication" };
	ids[1] = (struct derive_identity){ k2, c2, "Signature" };
	cr_assert_eq(derive_p12_build(ids, 2, ca_get0_chain(ca), "Ab3dE6gH",
	    compat, &der, &len, &why), PV_OK, "%s", why.msg);
	d = der;
	cr_assert_not_null(p12 = d2i_PKCS12(NULL, &d, (long)len));
	cr_assert_eq(PKCS12_verify_mac(p12, "Ab3dE6gH", -1), 1);
	cr_assert_eq(PKCS12_verify_mac(p12, "Ab3dE6gX", -1), 0);
	PKCS12_get0_mac(NULL, &mac_alg, NULL, NULL, p12);
	X509_ALGOR_get0(&obj, NULL, NULL, mac_alg);
	cr_assert_eq(OBJ_obj2nid(obj), want_mac_nid);
	cr_assert_eq(PKCS12_parse(p12, "Ab3dE6gH", &pk, &got, &ca_certs), 1);
	ERR_clear_error();
	/* two identities and the chain's two certificates */
	cr_assert_eq(sk_X509_num(ca_certs) + (got != NULL), 4);
	PKCS12_free(p12);
	OPENSSL_free(der);
	der = NULL;
	/* a key that is not the certificate's is refused */
	ids[1].key = k1;
	cr_assert_eq(derive_p12_build(ids, 2, NULL, "Ab3dE6gH", compat, &der,
	    &len, &why), PV_E_INVAL);
	cr_assert_null(der);
	sk_X509_pop_free(ca_certs, X509_free);
	X509_free(got);
	EVP_PKEY_free(pk);
	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	ca_free(ca);
}

Test(derive_pkg, p12_modern_has_a_sha256_mac)
{
	p12_check(CONFIG_P12_MODERN, NID_sha256);
}

Test(derive_pkg, p12_legacy_has_a_sha1_mac)
{
	p12_check(CONFIG_P12_LEGACY, NID_sha1);
}
