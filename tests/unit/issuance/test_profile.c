/*
 * test_profile.c: PIV certificate profiles for 9A, 9C, 9D, 9E
 * (issuance/profile.c) against PIV-REFERENCE §7.3.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/profile.h"
#include "tests/unit/issuance/test_ca_support.h"

static X509 *
issue(struct ca *ca, EVP_PKEY *k, uint8_t slot, struct profile_cfg *cfg,
    struct profile_issued *info)
{
	struct profile_subject s;
	struct profile_card card;
	struct pv_why why = { "" };
	X509 *x = NULL;
	enum pv_err r;

	tca_subject(&s);
	if (slot == PROFILE_SLOT_CARD_AUTH)
		memset(&s.dn, 0, sizeof(s.dn));
	tca_card(&card);
	r = profile_issue(ca, k, slot, &s, &card, cfg, TCA_NOW, &x, info, &why);
	cr_assert_eq(r, PV_OK, "slot %02x: %s: %s", slot, pv_strerror(r),
	    why.msg);
	return x;
}

/* Collect the SAN: FASC-N otherName bytes, URI, e-mail, UPN. */
struct san {
	int n;
	uint8_t fascn[64];
	int fascn_len;
	char uri[128];
	char email[128];
	char upn[128];
	int other;
};

static void
read_san(X509 *x, struct san *out)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char oid[64];
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; g != NULL && i < sk_GENERAL_NAME_num(g); i++) {
		GENERAL_NAME *n = sk_GENERAL_NAME_value(g, i);
		ASN1_OBJECT *o;
		ASN1_TYPE *v;

		out->n++;
		switch (n->type) {
		case GEN_OTHERNAME:
			GENERAL_NAME_get0_otherName(n, &o, &v);
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
			if (strcmp(oid, "2.16.840.1.101.3.6.6") == 0) {
				cr_assert_eq(v->type, V_ASN1_OCTET_STRING);
				out->fascn_len = ASN1_STRING_length(
				    v->value.octet_string);
				memcpy(out->fascn, ASN1_STRING_get0_data(
				    v->value.octet_string), out->fascn_len);
			} else if (strcmp(oid, "1.3.6.1.4.1.311.20.2.3") == 0) {
				cr_assert_eq(v->type, V_ASN1_UTF8STRING);
				snprintf(out->upn, sizeof(out->upn), "%.*s",
				    v->value.utf8string->length,
				    v->value.utf8string->data);
			} else
				out->other++;
			break;
		case GEN_URI:
			snprintf(out->uri, sizeof(out->uri), "%.*s",
			    n->d.uniformResourceIdentifier->length,
			    n->d.uniformResourceIdentifier->data);
			break;
		case GEN_EMAIL:
			snprintf(out->email, sizeof(out->email), "%.*s",
			    n->d.rfc822Name->length, n->d.rfc822Name->data);
			break;
		default:
			out->other++;
		}
	}
	GENERAL_NAMES_free(g);
}

static int
eku_list(X509 *x, char oids[4][64])
{
	EXTENDED_KEY_USAGE *e = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
	    NULL);
	int i, n = 0;

	for (i = 0; e != NULL && i < sk_ASN1_OBJECT_num(e) && n < 4; i++)
		OBJ_obj2txt(oids[n++], 64, sk_ASN1_OBJECT_value(e, i), 1);
	sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free);
	return e == NULL ? -1 : n;
}

static void
policies(X509 *x, char out[4][64], int *n)
{
	CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies,
	    NULL, NULL);
	int i;

	*n = 0;
	for (i = 0; cp != NULL && i < sk_POLICYINFO_num(cp) && *n < 4; i++)
		OBJ_obj2txt(out[(*n)++], 64, sk_POLICYINFO_value(cp, i)->policyid,
		    1);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
}

/*
 * verify_policy runs RFC 5280 path validation at TCA_NOW + 1 day with
 * |oid| as the user initial policy set and explicit policy required, as
 * `openssl verify -policy OID -explicit_policy` does.
 */
static int
verify_policy(struct ca *ca, X509 *x, const char *oid)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	int rc;

	cr_assert_eq(ca_trust_store(ca, &st, NULL), PV_OK);
	cr_assert(X509_STORE_CTX_init(ctx, st, x, NULL));
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, TCA_NOW + 86400);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_POLICY_CHECK |
	    X509_V_FLAG_EXPLICIT_POLICY);
	cr_assert(X509_VERIFY_PARAM_add0_policy(vp, OBJ_txt2obj(oid, 1)));
	rc = X509_verify_cert(ctx);
	if (rc != 1)
		rc = -X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	return rc;
}

struct slotcase {
	uint8_t slot;
	int alg;	/* enum pkix_alg */
	unsigned ku;	/* OpenSSL KU_ bits */
	char policy[64];
	int subject_empty;
	int ids;	/* FASC-N and UUID in SAN */
	char email[40];
	char eku[64];	/* first EKU, "" none */
	int eku_crit;
};

ParameterizedTestParameters(profile, slot_profiles)
{
	static const struct slotcase cases[] = {
		{ 0x9a, PKIX_ALG_P256, KU_DIGITAL_SIGNATURE,
		  "2.16.840.1.101.3.2.1.48.11", 0, 1, "", "1.3.6.1.5.5.7.3.2", 0 },
		{ 0x9a, PKIX_ALG_RSA2048, KU_DIGITAL_SIGNATURE,
		  "2.16.840.1.101.3.2.1.48.11", 0, 1, "", "1.3.6.1.5.5.7.3.2", 0 },
		{ 0x9c, PKIX_ALG_P384, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION,
		  "2.16.840.1.101.3.2.1.48.9", 0, 0, "jane.doe@example.gov", "",
		  -1 },
		{ 0x9d, PKIX_ALG_P256, KU_KEY_AGREEMENT,
		  "2.16.840.1.101.3.2.1.48.9", 0, 0, "jane.doe@example.gov", "",
		  -1 },
		{ 0x9d, PKIX_ALG_RSA2048, KU_KEY_ENCIPHERMENT,
		  "2.16.840.1.101.3.2.1.48.9", 0, 0, "jane.doe@example.gov", "",
		  -1 },
		{ 0x9e, PKIX_ALG_P256, KU_DIGITAL_SIGNATURE,
		  "2.16.840.1.101.3.2.1.48.13", 1, 1, "", "2.16.840.1.101.3.6.8",
		  1 },
	};

	return cr_make_param_array(struct slotcase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct slotcase *c, profile, slot_profiles)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key((enum pkix_alg)c->alg);
	struct profile_cfg cfg;
	struct profile_issued info;
	struct profile_card card;
	char pol[4][64], ekus[4][64];
	struct san san;
	int n_pol, n_eku;
	X509 *x;
	const ASN1_INTEGER *sn;

	profile_cfg_defaults(&cfg);
	tca_card(&card);
	x = issue(ca, k, c->slot, &cfg, &info);

	/* key usage, critical, exactly the slot's bits */
	cr_assert_eq(tca_ext_crit(x, NID_key_usage), 1);
	cr_assert_eq(X509_get_key_usage(x), c->ku, "KU %x", X509_get_key_usage(x));
	/* policy */
	policies(x, pol, &n_pol);
	cr_assert_eq(n_pol, 1);
	cr_assert_str_eq(pol[0], c->policy);
	/* EKU */
	n_eku = eku_list(x, ekus);
	if (c->eku[0] == '\0') {
		cr_assert_eq(n_eku, -1, "slot %02x has an EKU", c->slot);
	} else {
		cr_assert_eq(n_eku, 1);
		cr_assert_str_eq(ekus[0], c->eku);
		cr_assert_eq(tca_ext_crit(x, NID_ext_key_usage), c->eku_crit);
	}
	/* subject and SAN */
	read_san(x, &san);
	cr_assert_eq(X509_NAME_entry_count(X509_get_subject_name(x)) == 0,
	    c->subject_empty);
	if (c->ids) {
		cr_assert_eq(san.fascn_len, 25);
		cr_assert_eq(memcmp(san.fascn, card.fascn, 25), 0);
		cr_assert_str_eq(san.uri,
		    "urn:uuid:3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7");
	} else {
		cr_assert_eq(san.fascn_len, 0);
		cr_assert_str_eq(san.uri, "");
	}
	cr_assert_str_eq(san.email, c->email);
	cr_assert_str_eq(san.upn, "");
	cr_assert_eq(san.other, 0);
	if (c->slot == 0x9e) {
		cr_assert_eq(san.n, 2, "9E has other names");
		cr_assert_eq(tca_ext_crit(x, NID_subject_alt_name), 1);
	} else if (san.n > 0) {
		cr_assert_eq(tca_ext_crit(x, NID_subject_alt_name), 0);
	}
	/* serial: the 16 random bytes handed back */
	sn = X509_get0_serialNumber(x);
	cr_assert_eq(ASN1_STRING_length(sn), 16);
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(sn), info.serial, 16), 0);
	cr_assert_eq(ASN1_STRING_type(sn), V_ASN1_INTEGER);	/* positive */
	/* validity: the configured 3 years */
	cr_assert_eq(info.not_before, TCA_NOW);
	cr_assert_eq(info.not_after, TCA_NOW + (time_t)1095 * 86400);
	/* signed by the issuing CA, and the path holds with the policy */
	cr_assert_eq(X509_verify(x, X509_get0_pubkey(ca_get0_issuing(ca))), 1);
	cr_assert_eq(verify_policy(ca, x, c->policy), 1);
	cr_assert_lt(verify_policy(ca, x, "2.16.840.1.101.3.2.1.48.86"), 1,
	    "a foreign policy was accepted");
	cr_assert_eq(tca_ext_crit(x, NID_subject_key_identifier), 0);
	cr_assert_eq(tca_ext_crit(x, NID_authority_key_identifier), 0);
	cr_assert_eq(tca_ext_crit(x, NID_basic_constraints), -1);
	X509_free(x);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(profile, validity_stops_at_card_expiry)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	struct profile_issued info;
	struct pv_why why = { "" };
	X509 *x = NULL;
	time_t t;

	profile_cfg_defaults(&cfg);
	tca_subject(&s);
	tca_card(&card);
	card.expiry = TCA_NOW + 400 * 86400;
	cr_assert_eq(profile_issue(ca, k, 0x9c, &s, &card, &cfg, TCA_NOW, &x,
	    &info, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(info.not_after, card.expiry);
	cr_assert_eq(ASN1_TIME_to_tm(X509_get0_notAfter(x), NULL), 1);
	{
		struct tm tm;

		ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
		t = timegm(&tm);
	}
	cr_assert_eq(t, card.expiry);
	X509_free(x);
	x = NULL;

	/* an expired card gets nothing */
	card.expiry = TCA_NOW - 1;
	pv_why_clear(&why);
	cr_assert_eq(profile_issue(ca, k, 0x9c, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_INPUT);
	cr_assert_null(x);
	cr_assert(strstr(why.msg, "expiry") != NULL, "%s", why.msg);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(profile, auth_certificates_are_at_most_three_years)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	struct pv_why why = { "" };
	X509 *x = NULL;

	profile_cfg_defaults(&cfg);
	cfg.validity_days = 1500;
	tca_subject(&s);
	tca_card(&card);
	cr_assert_eq(profile_issue(ca, k, 0x9a, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_CONFIG);
	cr_assert(strstr(why.msg, "3 years") != NULL, "%s", why.msg);
	/* 9C may be longer, but not past the card */
	cr_assert_eq(profile_issue(ca, k, 0x9c, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, NULL), PV_OK);
	X509_free(x);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(profile, optional_extensions_follow_the_config)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct profile_cfg cfg;
	struct san san;
	char ekus[4][64], pol[4][64];
	int n;
	X509 *x;
	AUTHORITY_INFO_ACCESS *aia;
	CRL_DIST_POINTS *dps;

	profile_cfg_defaults(&cfg);
	cfg.policies = PKIX_POLICIES_PRODUCTION;
	cfg.eku_9a = PROFILE_EKU_CLIENT_AUTH | PROFILE_EKU_SMARTCARD_LOGON |
	    PROFILE_EKU_PKINIT;
	cfg.rfc822_slots = PROFILE_BIT_9A;
	cfg.upn_slots = PROFILE_BIT_9A;
	snprintf(cfg.ca_issuers_url, sizeof(cfg.ca_issuers_url),
	    "http://pki.example.gov/issuing.p7c");
	snprintf(cfg.ocsp_url, sizeof(cfg.ocsp_url), "http://ocsp.example.gov");
	snprintf(cfg.crl_url, sizeof(cfg.crl_url),
	    "http://pki.example.gov/issuing.crl");
	x = issue(ca, k, 0x9a, &cfg, NULL);
	cr_assert_eq(eku_list(x, ekus), 3);
	cr_assert_str_eq(ekus[1], "1.3.6.1.4.1.311.20.2.2");
	cr_assert_str_eq(ekus[2], "1.3.6.1.5.2.3.4");
	read_san(x, &san);
	cr_assert_eq(san.n, 4);
	cr_assert_str_eq(san.email, "jane.doe@example.gov");
	cr_assert_str_eq(san.upn, "jdoe@example.gov");
	policies(x, pol, &n);
	cr_assert_str_eq(pol[0], "2.16.840.1.101.3.2.1.3.13");
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	cr_assert_not_null(aia);
	cr_assert_eq(sk_ACCESS_DESCRIPTION_num(aia), 2);
	cr_assert_eq(OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 0)->method),
	    NID_ad_ca_issuers);
	cr_assert_eq(OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, 1)->method),
	    NID_ad_OCSP);
	AUTHORITY_INFO_ACCESS_free(aia);
	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	cr_assert_not_null(dps);
	cr_assert_eq(sk_DIST_POINT_num(dps), 1);
	CRL_DIST_POINTS_free(dps);
	X509_free(x);

	/* no EKU at all when none is configured; policy override list */
	cfg.eku_9a = 0;
	cfg.policy[0].n = 2;
	snprintf(cfg.policy[0].oid[0], 64, "2.16.840.1.101.3.2.1.3.13");
	snprintf(cfg.policy[0].oid[1], 64, "2.16.840.1.101.3.2.1.3.7");
	x = issue(ca, k, 0x9a, &cfg, NULL);
	cr_assert_eq(eku_list(x, ekus), -1);
	policies(x, pol, &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(pol[1], "2.16.840.1.101.3.2.1.3.7");
	X509_free(x);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(profile, serials_differ)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct profile_cfg cfg;
	struct profile_issued a, b;
	X509 *x, *y;

	profile_cfg_defaults(&cfg);
	x = issue(ca, k, 0x9c, &cfg, &a);
	y = issue(ca, k, 0x9c, &cfg, &b);
	cr_assert_neq(memcmp(a.serial, b.serial, 16), 0);
	X509_free(x);
	X509_free(y);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(profile, bad_inputs_are_named)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key(PKIX_ALG_P256), *big;
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	struct pv_why why = { "" };
	X509 *x = NULL;

	profile_cfg_defaults(&cfg);
	tca_subject(&s);
	tca_card(&card);

	snprintf(s.email, sizeof(s.email), "not an address");
	cr_assert_eq(profile_issue(ca, k, 0x9c, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_INPUT);
	cr_assert(strncmp(why.msg, "email:", 6) == 0, "%s", why.msg);
	tca_subject(&s);

	card.fascn[24] ^= 0x01;	/* break the LRC */
	pv_why_clear(&why);
	cr_assert_eq(profile_issue(ca, k, 0x9a, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "FASC-N") != NULL, "%s", why.msg);
	tca_card(&card);

	memset(&s.dn, 0, sizeof(s.dn));
	pv_why_clear(&why);
	cr_assert_eq(profile_issue(ca, k, 0x9a, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "subject") != NULL, "%s", why.msg);
	tca_subject(&s);

	cr_assert_eq(profile_issue(ca, k, 0x9b, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, NULL), PV_E_INVAL);

	cfg.rfc822_slots = PROFILE_BIT_9E;
	pv_why_clear(&why);
	cr_assert_eq(profile_issue(ca, k, 0x9e, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_CONFIG);
	profile_cfg_defaults(&cfg);
	snprintf(cfg.policy[1].oid[0], 64, "not.an.oid");
	cfg.policy[1].n = 1;
	pv_why_clear(&why);
	cr_assert_eq(profile_issue(ca, k, 0x9c, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_CONFIG);
	cr_assert(strstr(why.msg, "not.an.oid") != NULL, "%s", why.msg);
	profile_cfg_defaults(&cfg);
	snprintf(cfg.crl_url, sizeof(cfg.crl_url), "http://a b");
	cr_assert_eq(profile_issue(ca, k, 0x9c, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, NULL), PV_E_CONFIG);
	profile_cfg_defaults(&cfg);

	big = tca_key(PKIX_ALG_RSA4096);
	pv_why_clear(&why);
	cr_assert_eq(profile_issue(ca, big, 0x9a, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "4096") != NULL, "%s", why.msg);
	cr_assert_null(x);
	EVP_PKEY_free(big);
	EVP_PKEY_free(k);
	ca_free(ca);
}

Test(profile, needs_the_ca_key)
{
	char *home = tca_tmpdir(), dir[4200];
	struct ca_init_params p;
	struct pkix_pass ps;
	struct ca *ca = NULL;
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct profile_subject s;
	struct profile_card card;
	struct profile_cfg cfg;
	X509 *x = NULL;

	ca_init_params_defaults(&p);
	pkix_pass_set(&ps, "profile passphrase", NULL);
	snprintf(dir, sizeof(dir), "%s/ca", home);
	cr_assert_eq(ca_init(dir, &p, &ps, &ps, TCA_NOW, NULL), PV_OK);
	cr_assert_eq(ca_open(dir, NULL, &ca, NULL), PV_OK);
	profile_cfg_defaults(&cfg);
	tca_subject(&s);
	tca_card(&card);
	cr_assert_eq(profile_issue(ca, k, 0x9a, &s, &card, &cfg, TCA_NOW, &x,
	    NULL, NULL), PV_E_STATE);
	ca_free(ca);
	EVP_PKEY_free(k);
	tca_rmtree(home);
}

Test(profile, settings_come_from_the_station_config)
{
	struct pv_config pc;
	struct profile_cfg cfg;
	struct pv_why why = { "" };
	const char *oids[PROFILE_POLICIES_MAX];

	config_defaults(&pc);
	pc.eku_9a = CONFIG_EKU_PKINIT;
	pc.upn_slots = CONFIG_SLOT_BIT(CONFIG_SLOT_9A);
	pc.cert_days = 700;
	cr_assert_eq(profile_cfg_from_config(&pc, &cfg, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(cfg.eku_9a, PROFILE_EKU_PKINIT);
	cr_assert_eq(cfg.upn_slots, PROFILE_BIT_9A);
	cr_assert_eq(cfg.validity_days, 700);
	cr_assert_str_eq(cfg.crl_url, pc.crl_url);
	cr_assert_str_eq(cfg.ocsp_url, pc.ocsp_url);
	cr_assert_eq(profile_slot_policies(&cfg, 0x9e, oids), pc.policy[3].n);
	cr_assert_str_eq(oids[0], pc.policy[3].oid[0]);
	/* 9e with an e-mail is refused by the profile, naming why */
	pc.rfc822_slots |= CONFIG_SLOT_BIT(CONFIG_SLOT_9E);
	pv_why_clear(&why);
	cr_assert_eq(profile_cfg_from_config(&pc, &cfg, &why), PV_E_CONFIG);
	cr_assert(strstr(why.msg, "9e") != NULL, "%s", why.msg);
}

/*
 * Subjects from the configuration's templates and an identity: the same
 * checks before the job as profile_issue makes after it, so an identity
 * that passes builds all four certificates (tests/fuzz/
 * fuzz_identity_certs.c tries that on hostile documents).
 */
Test(profile, subject_from_templates)
{
	struct pv_config cfg;
	struct identity id;
	struct profile_subject s, s9e;
	struct pv_why why = { "" };
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct profile_cfg pc;
	struct profile_card card;
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	static const uint8_t slots[4] = { 0x9a, 0x9c, 0x9d, 0x9e };
	static const char doc[] = "{\"given_name\":\"Zo\xc3\xab\","
	    "\"family_name\":\"\xc3\x9cnal\",\"person_id\":\"0000012345\","
	    "\"affiliation\":\"Employee\",\"email\":\"zoe@example.gov\"}";
	X509 *x;
	int i;

	config_defaults(&cfg);
	cr_assert_eq(identity_parse(doc, strlen(doc), "id", &id, NULL), PV_OK);
	cr_assert_eq(profile_subject_build(&cfg, &id, NULL, false, &s, &why),
	    PV_OK, "%s", why.msg);
	cr_assert_str_eq(pkix_dn_get(&s.dn, "CN"), "Zo\xc3\xab \xc3\x9cnal");
	cr_assert_str_eq(s.email, "zoe@example.gov");
	cr_assert_eq(profile_subject_build(&cfg, &id, NULL, true, &s9e, &why),
	    PV_OK);
	cr_assert_eq(s9e.dn.n, 0, "default 9e subject: empty");
	cr_assert_str_eq(s9e.email, "", "9e carries no e-mail");
	cr_assert_eq(profile_cfg_from_config(&cfg, &pc, NULL), PV_OK);
	tca_card(&card);
	for (i = 0; i < 4; i++) {
		x = NULL;
		cr_assert_eq(profile_issue(ca, k, slots[i], i == 3 ? &s9e : &s,
		    &card, &pc, TCA_NOW, &x, NULL, &why), PV_OK, "%02x: %s",
		    slots[i], why.msg);
		X509_free(x);
	}
	/* A template a name cannot fill names the template and attribute. */
	strcpy(cfg.subject.rdn[0].type, "DC");
	strcpy(cfg.subject.rdn[0].value, "{given_name}");
	cr_assert_eq(profile_subject_build(&cfg, &id, NULL, false, &s, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg, "[certificates] subject: DC: only ASCII is "
	    "allowed (IA5String)");
	cr_assert_eq(s.dn.n, 0, "zeroed on failure");
	strcpy(cfg.subject.rdn[0].value, "{uuid}");
	pv_why_clear(&why);
	cr_assert_eq(profile_subject_build(&cfg, &id, NULL, false, &s, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg, "[certificates] subject: DC: subject: {uuid} "
	    "has no value for this person");
	EVP_PKEY_free(k);
	ca_free(ca);
}

/*
 * The PIV interim indicator (2.16.840.1.101.3.6.9.1): in 9A and 9E only,
 * not critical, its value the DER BOOLEAN (01 01 00 / 01 01 FF) as the
 * FPKI worksheets 12 and 14 and FIPS 201-2 App. B.2 define it; on by
 * default, FALSE; TRUE or left out per [certificates] piv_interim.
 */
static int
interim_ext(X509 *x, uint8_t out[8], int *crit)
{
	ASN1_OBJECT *o = OBJ_txt2obj("2.16.840.1.101.3.6.9.1", 1);
	int i = X509_get_ext_by_OBJ(x, o, -1), n = -1;
	X509_EXTENSION *e;
	const ASN1_OCTET_STRING *v;

	ASN1_OBJECT_free(o);
	if (i < 0)
		return -1;
	e = X509_get_ext(x, i);
	*crit = X509_EXTENSION_get_critical(e);
	v = X509_EXTENSION_get_data(e);
	n = ASN1_STRING_length(v);
	if (n <= 8)
		memcpy(out, ASN1_STRING_get0_data(v), (size_t)n);
	return n;
}

Test(profile, piv_interim_indicator)
{
	static const uint8_t slots[4] = { 0x9a, 0x9c, 0x9d, 0x9e };
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *k = tca_key(PKIX_ALG_P256);
	struct pv_config pv;
	struct profile_cfg cfg;
	uint8_t v[8];
	int i, n, crit, mode;
	X509 *x;

	for (mode = 0; mode < 3; mode++) {
		config_defaults(&pv);
		pv.piv_interim = mode == 0 ? CONFIG_PIV_INTERIM_NO : mode == 1 ?
		    CONFIG_PIV_INTERIM_YES : CONFIG_PIV_INTERIM_OMIT;
		cr_assert_eq(profile_cfg_from_config(&pv, &cfg, NULL), PV_OK);
		for (i = 0; i < 4; i++) {
			x = issue(ca, k, slots[i], &cfg, NULL);
			n = interim_ext(x, v, &crit);
			if (mode == 2 || slots[i] == 0x9c || slots[i] == 0x9d) {
				cr_assert_eq(n, -1, "slot %02x mode %d", slots[i],
				    mode);
			} else {
				cr_assert_eq(n, 3, "slot %02x", slots[i]);
				cr_assert_eq(crit, 0, "not critical");
				cr_assert(memcmp(v, mode == 1 ? "\x01\x01\xff" :
				    "\x01\x01\x00", 3) == 0, "slot %02x mode %d",
				    slots[i], mode);
			}
			X509_free(x);
		}
	}
	/* profile_cfg_defaults (no configuration) puts it in, FALSE */
	profile_cfg_defaults(&cfg);
	x = issue(ca, k, 0x9a, &cfg, NULL);
	cr_assert_eq(interim_ext(x, v, &crit), 3);
	cr_assert(memcmp(v, "\x01\x01\x00", 3) == 0);
	X509_free(x);
	EVP_PKEY_free(k);
	ca_free(ca);
}
