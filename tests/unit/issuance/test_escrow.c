/*
 * test_escrow.c: key and PUK escrow to the KRA, recovery to PKCS#12
 * (issuance/escrow.c).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "issuance/audit.h"
#include "issuance/escrow.h"
#include "issuance/recover.h"
#include "issuance/profile.h"
#include "issuance/store.h"
#include "tests/unit/issuance/test_ca_support.h"

struct kracase {
	int kra_alg;
	int key_alg;
	int ri_type;	/* CMS_RECIPINFO_TRANS or _AGREE */
	char kea[64];	/* key encryption algorithm OID */
};

ParameterizedTestParameters(escrow, seal_open_per_kra)
{
	static const struct kracase cases[] = {
		/* rsaesOaep */
		{ PKIX_ALG_RSA2048, PKIX_ALG_P256, CMS_RECIPINFO_TRANS,
		  "1.2.840.113549.1.1.7" },
		{ PKIX_ALG_RSA2048, PKIX_ALG_RSA2048, CMS_RECIPINFO_TRANS,
		  "1.2.840.113549.1.1.7" },
		/* dhSinglePass-stdDH-sha256kdf-scheme */
		{ PKIX_ALG_P256, PKIX_ALG_P384, CMS_RECIPINFO_AGREE,
		  "1.3.132.1.11.1" },
		{ PKIX_ALG_P384, PKIX_ALG_RSA2048, CMS_RECIPINFO_AGREE,
		  "1.3.132.1.11.1" },
	};

	return cr_make_param_array(struct kracase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct kracase *c, escrow, seal_open_per_kra)
{
	EVP_PKEY *kra_key = NULL, *k = NULL, *back = NULL;
	struct ca *ca = tca_new(PKIX_ALG_P256, (enum pkix_alg)c->kra_alg,
	    &kra_key);
	uint8_t *env = NULL;
	size_t env_len = 0;
	const unsigned char *d;
	CMS_ContentInfo *cms;
	CMS_RecipientInfo *ri;
	X509_ALGOR *kea = NULL;
	char oid[64];
	struct pv_why why = { "" };

	cr_assert_eq(escrow_keygen((enum pkix_alg)c->key_alg, &k, &why), PV_OK);
	cr_assert_eq(escrow_seal_key(k, ca_get0_kra(ca), &env, &env_len, &why),
	    PV_OK, "%s", why.msg);
	d = env;
	cr_assert_not_null(cms = d2i_CMS_ContentInfo(NULL, &d, (long)env_len));
	cr_assert_eq(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_enveloped);
	cr_assert_eq(sk_CMS_RecipientInfo_num(CMS_get0_RecipientInfos(cms)), 1);
	ri = sk_CMS_RecipientInfo_value(CMS_get0_RecipientInfos(cms), 0);
	cr_assert_eq(CMS_RecipientInfo_type(ri), c->ri_type);
	if (c->ri_type == CMS_RECIPINFO_TRANS)
		cr_assert(CMS_RecipientInfo_ktri_get0_algs(ri, NULL, NULL, &kea));
	else
		cr_assert(CMS_RecipientInfo_kari_get0_alg(ri, &kea, NULL));
	OBJ_obj2txt(oid, sizeof(oid), kea->algorithm, 1);
	cr_assert_str_eq(oid, c->kea);
	CMS_ContentInfo_free(cms);

	cr_assert_eq(escrow_open_key(env, env_len, ca_get0_kra(ca), kra_key,
	    &back, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(EVP_PKEY_eq(k, back), 1);
	cr_assert_eq(EVP_PKEY_get_bits(back), EVP_PKEY_get_bits(k));
	EVP_PKEY_free(back);
	EVP_PKEY_free(k);
	EVP_PKEY_free(kra_key);
	OPENSSL_free(env);
	ca_free(ca);
}

Test(escrow, wrong_kra_or_garbage_is_refused)
{
	EVP_PKEY *kra_key = NULL, *other_key = NULL, *k = tca_key(PKIX_ALG_P256);
	EVP_PKEY *back = NULL;
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, &kra_key);
	struct ca *other = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, &other_key);
	uint8_t *env = NULL;
	size_t env_len = 0, i;
	struct pv_why why = { "" };

	cr_assert_eq(escrow_seal_key(k, ca_get0_kra(ca), &env, &env_len, NULL),
	    PV_OK);
	cr_assert_eq(escrow_open_key(env, env_len, ca_get0_kra(other),
	    other_key, &back, &why), PV_E_VERIFY);
	cr_assert_null(back);
	cr_assert_eq(escrow_open_key((const uint8_t *)"\x30\x00", 2,
	    ca_get0_kra(ca), kra_key, &back, NULL), PV_E_MALFORMED);
	for (i = 0; i < env_len; i += 13)
		cr_assert_neq(escrow_open_key(env, i, ca_get0_kra(ca), kra_key,
		    &back, NULL), PV_OK, "truncated at %zu", i);
	/* one bit of ciphertext: the padding or the PKCS#8 breaks */
	env[env_len - 5] ^= 0x40;
	cr_assert_neq(escrow_open_key(env, env_len, ca_get0_kra(ca), kra_key,
	    &back, NULL), PV_OK);
	OPENSSL_free(env);
	EVP_PKEY_free(k);
	EVP_PKEY_free(kra_key);
	EVP_PKEY_free(other_key);
	ca_free(ca);
	ca_free(other);
}

Test(escrow, puk_is_random_digits_and_sealed)
{
	EVP_PKEY *kra_key = NULL;
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_RSA2048, &kra_key);
	char puk[ESCROW_PUK_LEN + 1], first[ESCROW_PUK_LEN + 1];
	uint8_t *env = NULL, *back = NULL;
	size_t env_len = 0, back_len = 0;
	unsigned seen[10] = { 0 };
	int i, j, distinct = 0;

	cr_assert_eq(escrow_random_puk(first, NULL), PV_OK);
	for (i = 0; i < 200; i++) {
		cr_assert_eq(escrow_random_puk(puk, NULL), PV_OK);
		cr_assert_eq(strlen(puk), 8);
		for (j = 0; j < 8; j++) {
			cr_assert(puk[j] >= '0' && puk[j] <= '9');
			seen[puk[j] - '0']++;
		}
		if (strcmp(puk, first) != 0)
			distinct++;
	}
	cr_assert_geq(distinct, 199);
	for (j = 0; j < 10; j++)	/* 1600 digits: each near 160 */
		cr_assert(seen[j] > 90 && seen[j] < 250, "digit %d: %u", j,
		    seen[j]);

	cr_assert_eq(escrow_seal_puk(puk, ca_get0_kra(ca), &env, &env_len,
	    NULL), PV_OK);
	cr_assert_eq(escrow_open(env, env_len, ca_get0_kra(ca), kra_key, &back,
	    &back_len, NULL), PV_OK);
	cr_assert_eq(back_len, 8);
	cr_assert_eq(memcmp(back, puk, 8), 0);
	cr_assert_eq(escrow_seal_puk("12", ca_get0_kra(ca), &env, &env_len,
	    NULL), PV_E_INPUT);
	OPENSSL_clear_free(back, back_len);
	OPENSSL_free(env);
	EVP_PKEY_free(kra_key);
	ca_free(ca);
}

Test(escrow, recover_writes_a_pkcs12_with_sha256_mac)
{
	EVP_PKEY *kra_key = NULL, *k = tca_key(PKIX_ALG_P256), *pk = NULL;
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, &kra_key);
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	struct pkix_pass pass;
	X509 *cert = NULL, *other = NULL, *got = NULL;
	uint8_t *env = NULL, *p12der = NULL;
	size_t env_len = 0, p12_len = 0;
	const unsigned char *d;
	PKCS12 *p12;
	const X509_ALGOR *macalg = NULL;
	const ASN1_OBJECT *mdoid;
	struct pv_why why = { "" };

	profile_cfg_defaults(&cfg);
	tca_subject(&s);
	tca_card(&card);
	cr_assert_eq(profile_issue(ca, k, 0x9d, &s, &card, &cfg, TCA_NOW, &cert,
	    NULL, NULL), PV_OK);
	cr_assert_eq(escrow_seal_key(k, ca_get0_kra(ca), &env, &env_len, NULL),
	    PV_OK);
	cr_assert_eq(pkix_pass_set(&pass, "p12 passphrase", NULL), PV_OK);
	cr_assert_eq(escrow_recover_p12(env, env_len, ca_get0_kra(ca), kra_key,
	    cert, &pass, "Jane Doe key management", &p12der, &p12_len, &why),
	    PV_OK, "%s", why.msg);

	d = p12der;
	cr_assert_not_null(p12 = d2i_PKCS12(NULL, &d, (long)p12_len));
	cr_assert(PKCS12_mac_present(p12));
	PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
	X509_ALGOR_get0(&mdoid, NULL, NULL, macalg);
	cr_assert_eq(OBJ_obj2nid(mdoid), NID_sha256);
	cr_assert(PKCS12_verify_mac(p12, "p12 passphrase", -1));
	cr_assert(!PKCS12_verify_mac(p12, "wrong", -1));
	cr_assert(PKCS12_parse(p12, "p12 passphrase", &pk, &got, NULL));
	cr_assert_eq(EVP_PKEY_eq(pk, k), 1);
	cr_assert_eq(X509_cmp(got, cert), 0);
	PKCS12_free(p12);
	EVP_PKEY_free(pk);
	X509_free(got);
	OPENSSL_free(p12der);
	p12der = NULL;

	/* the envelope does not belong to another certificate */
	{
		EVP_PKEY *k2 = tca_key(PKIX_ALG_P256);

		cr_assert_eq(profile_issue(ca, k2, 0x9d, &s, &card, &cfg,
		    TCA_NOW, &other, NULL, NULL), PV_OK);
		pv_why_clear(&why);
		cr_assert_eq(escrow_recover_p12(env, env_len, ca_get0_kra(ca),
		    kra_key, other, &pass, NULL, &p12der, &p12_len, &why),
		    PV_E_VERIFY);
		cr_assert_null(p12der);
		EVP_PKEY_free(k2);
	}
	/* A PKCS#12 passphrase follows the CA's rule: 8 characters. */
	{
		static const char *const short_ones[] = { "x", "1234567" };

		for (size_t i = 0; i < 2; i++) {
			char want[96];

			cr_assert_eq(pkix_pass_set(&pass, short_ones[i], NULL),
			    PV_OK);
			pv_why_clear(&why);
			cr_assert_eq(escrow_recover_p12(env, env_len,
			    ca_get0_kra(ca), kra_key, cert, &pass, NULL,
			    &p12der, &p12_len, &why), PV_E_INPUT, "%s",
			    short_ones[i]);
			cr_assert_null(p12der);
			snprintf(want, sizeof(want), "PKCS#12 passphrase: %zu "
			    "character%s, at least 8", strlen(short_ones[i]),
			    i == 0 ? "" : "s");
			cr_assert_str_eq(why.msg, want);
		}
		cr_assert_eq(pkix_pass_set(&pass, "12345678", NULL), PV_OK);
		cr_assert_eq(escrow_recover_p12(env, env_len, ca_get0_kra(ca),
		    kra_key, cert, &pass, NULL, &p12der, &p12_len, NULL),
		    PV_OK);
		OPENSSL_free(p12der);
		p12der = NULL;
	}
	pkix_pass_clear(&pass);
	X509_free(cert);
	X509_free(other);
	OPENSSL_free(env);
	EVP_PKEY_free(k);
	EVP_PKEY_free(kra_key);
	ca_free(ca);
}

static enum pv_err
count_recover(void *ctx, const struct audit_row *row)
{
	if (strcmp(row->action, "escrow.recover") == 0)
		(*(int *)ctx)++;
	return PV_OK;
}

Test(escrow, recover_by_person_from_the_store)
{
	EVP_PKEY *kra_key = NULL, *k = tca_key(PKIX_ALG_P256), *pk = NULL;
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_RSA2048, &kra_key);
	char *dir = tca_tmpdir(), path[4200], serial[PKIX_SERIAL_HEX_LEN];
	struct store *st = NULL;
	struct identity ident;
	struct store_device d;
	struct store_cert c;
	struct store_escrow e;
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	struct pkix_pass pass;
	struct pv_why why = { "" };
	int64_t pid = 0, did = 0;
	struct escrow_src src;
	X509 *cert = NULL, *got = NULL;
	uint8_t *env = NULL, *p12der = NULL;
	size_t env_len = 0, p12_len = 0;
	const unsigned char *dd;
	PKCS12 *p12;
	size_t pem_len = 0;
	int recovered = 0;

	snprintf(path, sizeof(path), "%s/store.db", dir);
	cr_assert_eq(store_open(path, NULL, &st, &why), PV_OK, "%s", why.msg);
	memset(&ident, 0, sizeof(ident));
	strcpy(ident.given_name, "Jane");
	strcpy(ident.family_name, "Doe");
	strcpy(ident.person_id, "0000000042");
	strcpy(ident.email, "jane.doe@example.gov");
	cr_assert_eq(store_person_put(st, &ident,
	    STORE_PERSON_UPDATE, &pid, &why), PV_OK, "%s",
	    why.msg);
	memset(&d, 0, sizeof(d));
	d.person_id = pid;
	d.type = STORE_DEV_USB_KEY;
	strcpy(d.serial, "12345678");
	d.status = STORE_DEV_ISSUING;
	cr_assert_eq(store_device_add(st, &d, &did, &why), PV_OK, "%s", why.msg);

	profile_cfg_defaults(&cfg);
	tca_subject(&s);
	tca_card(&card);
	card.expiry = time(NULL) + 86400 * 365;
	cr_assert_eq(profile_issue(ca, k, 0x9d, &s, &card, &cfg, time(NULL),
	    &cert, NULL, NULL), PV_OK);
	memset(&c, 0, sizeof(c));
	c.device_id = did;
	c.slot = 0x9d;
	pkix_serial_hex(cert, serial);
	strcpy(c.serial, serial);
	cr_assert_eq(pkix_cert_to_pem(cert, &c.pem, &pem_len, NULL), PV_OK);
	cr_assert_eq(pkix_spki_sha256(k, c.spki_sha256, NULL), PV_OK);
	c.not_before = time(NULL);
	c.not_after = card.expiry;
	c.status = STORE_CERT_ACTIVE;
	cr_assert_eq(store_cert_add(st, &c, NULL, &why), PV_OK, "%s", why.msg);
	OPENSSL_free(c.pem);

	cr_assert_eq(escrow_seal_key(k, ca_get0_kra(ca), &env, &env_len, NULL),
	    PV_OK);
	memset(&e, 0, sizeof(e));
	e.person_id = pid;
	e.device_id = did;
	e.kind = STORE_ESCROW_KEY_9D;
	e.cms = env;
	e.cms_len = env_len;
	cr_assert_eq(pkix_spki_sha256(k, e.fingerprint, NULL), PV_OK);
	cr_assert_eq(store_escrow_add(st, &e, NULL, NULL, &why), PV_OK, "%s",
	    why.msg);

	cr_assert_eq(pkix_pass_set(&pass, "p12 passphrase", NULL), PV_OK);
	cr_assert_eq(escrow_recover_person(st, "Jane.Doe@example.gov",
	    ca_get0_kra(ca), kra_key, &pass, NULL, &p12der, &p12_len, &src,
	    &why), PV_OK, "%s", why.msg);
	cr_assert_gt(src.escrow_id, 0);
	cr_assert_eq(src.device_id, did);
	cr_assert_str_eq(src.cert_serial, serial);
	dd = p12der;
	cr_assert_not_null(p12 = d2i_PKCS12(NULL, &dd, (long)p12_len));
	cr_assert(PKCS12_parse(p12, "p12 passphrase", &pk, &got, NULL));
	cr_assert_eq(EVP_PKEY_eq(pk, k), 1);
	cr_assert_eq(X509_cmp(got, cert), 0);
	PKCS12_free(p12);
	OPENSSL_free(p12der);
	p12der = NULL;
	/* by the person id too */
	cr_assert_eq(escrow_recover_person(st, "0000000042", ca_get0_kra(ca),
	    kra_key, &pass, NULL, &p12der, &p12_len, NULL, NULL), PV_OK);
	OPENSSL_free(p12der);
	p12der = NULL;
	/* the building block logs nothing: recover_key_p12 does */
	cr_assert_eq(audit_foreach(st, 0, count_recover, &recovered, NULL),
	    PV_OK);
	cr_assert_eq(recovered, 0);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
	/* nobody, and a person without an envelope */
	pv_why_clear(&why);
	cr_assert_eq(escrow_recover_person(st, "nobody@example.gov",
	    ca_get0_kra(ca), kra_key, &pass, NULL, &p12der, &p12_len, NULL,
	    &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "nobody@example.gov") != NULL, "%s", why.msg);
	strcpy(ident.person_id, "0000000043");
	strcpy(ident.email, "john@example.gov");
	cr_assert_eq(store_person_put(st, &ident,
	    STORE_PERSON_UPDATE, &pid, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(escrow_recover_person(st, "john@example.gov",
	    ca_get0_kra(ca), kra_key, &pass, NULL, &p12der, &p12_len, NULL,
	    &why), PV_E_NO_RECORD);
	cr_assert(strstr(why.msg, "no escrowed") != NULL, "%s", why.msg);
	cr_assert_null(p12der);

	store_close(st);
	pkix_pass_clear(&pass);
	EVP_PKEY_free(pk);
	X509_free(got);
	X509_free(cert);
	OPENSSL_free(env);
	EVP_PKEY_free(k);
	EVP_PKEY_free(kra_key);
	ca_free(ca);
	tca_rmtree(dir);
}

Test(escrow, recovery_reason_rules)
{
	char big[RECOVER_REASON_MAX + 2];
	struct pv_why why = { "" };

	cr_assert_eq(recover_reason_check("court order 2026-117", NULL), PV_OK);
	cr_assert_eq(recover_reason_check("ordonnance n\xc2\xb0 7", NULL),
	    PV_OK);
	cr_assert_eq(recover_reason_check(NULL, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "a reason is required") != NULL, "%s",
	    why.msg);
	cr_assert_eq(recover_reason_check("", NULL), PV_E_INPUT);
	pv_why_clear(&why);
	cr_assert_eq(recover_reason_check("a\tb", &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "control") != NULL, "%s", why.msg);
	cr_assert_eq(recover_reason_check("a\xe2\x80\xaeb", NULL), PV_E_INPUT,
	    "a bidirectional override is a control");
	cr_assert_eq(recover_reason_check("\xc0\xaf", NULL), PV_E_INPUT);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(recover_reason_check(big, NULL), PV_E_INPUT);
	big[RECOVER_REASON_MAX] = '\0';
	cr_assert_eq(recover_reason_check(big, NULL), PV_OK);
}

static enum pv_err
last_recover_row(void *ctx, const struct audit_row *row)
{
	if (strncmp(row->action, "escrow.recover", 14) == 0)
		snprintf(ctx, 400, "%s %s", row->action, row->detail);
	return PV_OK;
}

Test(escrow, copy_for_a_derived_credential_is_audited)
{
	EVP_PKEY *kra_key = NULL, *k = tca_key(PKIX_ALG_P256), *got = NULL;
	EVP_PKEY *other = tca_key(PKIX_ALG_P256);
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_RSA2048, &kra_key);
	char *dir = tca_tmpdir(), path[4200], last[400] = "";
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	struct recover_copy rc;
	struct recover_result res;
	struct store *st = NULL;
	struct pv_why why = { "" };
	X509 *cert = NULL, *foreign = NULL;
	uint8_t *env = NULL;
	size_t env_len = 0;

	snprintf(path, sizeof(path), "%s/store.db", dir);
	cr_assert_eq(store_open(path, NULL, &st, &why), PV_OK, "%s", why.msg);
	profile_cfg_defaults(&cfg);
	tca_subject(&s);
	tca_card(&card);
	card.expiry = time(NULL) + 86400 * 365;
	cr_assert_eq(profile_issue(ca, k, 0x9d, &s, &card, &cfg, time(NULL),
	    &cert, NULL, NULL), PV_OK);
	cr_assert_eq(profile_issue(ca, other, 0x9d, &s, &card, &cfg,
	    time(NULL), &foreign, NULL, NULL), PV_OK);
	cr_assert_eq(escrow_seal_key(k, ca_get0_kra(ca), &env, &env_len, NULL),
	    PV_OK);
	memset(&rc, 0, sizeof(rc));
	rc.st = st;
	rc.kra_cert = ca_get0_kra(ca);
	rc.kra_key = kra_key;
	rc.envelope = env;
	rc.envelope_len = env_len;
	rc.cert = cert;
	rc.escrow_id = 7;
	rc.device_id = 3;
	rc.reason = "derived credential for the cardholder";
	rc.detail_json = "{\"derived\":11,\"target\":\"p12\"}";
	cr_assert_eq(recover_key_copy(&rc, &got, &res, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(EVP_PKEY_eq(got, k), 1);
	cr_assert_eq(res.escrow_id, 7);
	cr_assert_eq(audit_foreach(st, 0, last_recover_row, last, NULL), PV_OK);
	cr_assert(strstr(last, "escrow.recover {") == last, "%s", last);
	cr_assert(strstr(last, "\"derived\":11") != NULL, "%s", last);
	cr_assert(strstr(last, "\"reason\":\"derived credential") != NULL,
	    "%s", last);
	EVP_PKEY_free(got);
	got = NULL;
	/* an envelope that is not the certificate's key: refused, audited */
	rc.cert = foreign;
	pv_why_clear(&why);
	cr_assert_eq(recover_key_copy(&rc, &got, NULL, &why), PV_E_VERIFY);
	cr_assert_null(got);
	cr_assert_eq(audit_foreach(st, 0, last_recover_row, last, NULL), PV_OK);
	cr_assert(strstr(last, "escrow.recover.refused") == last, "%s", last);
	/* no reason: refused before anything */
	rc.cert = cert;
	rc.reason = "";
	cr_assert_eq(recover_key_copy(&rc, &got, NULL, NULL), PV_E_INPUT);
	cr_assert_null(got);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
	store_close(st);
	X509_free(cert);
	X509_free(foreign);
	OPENSSL_free(env);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	EVP_PKEY_free(kra_key);
	ca_free(ca);
	tca_rmtree(dir);
}
