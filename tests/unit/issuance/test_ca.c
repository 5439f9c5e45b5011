/*
 * test_ca.c: the station CA (issuance/ca.c) and the helpers it stands on
 * (issuance/pkix_util.c): creation, files at rest, import, CRL, names,
 * passphrase sources.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/pkix_util.h"
#include "tests/unit/issuance/test_ca_support.h"

static int
policy_count(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *cp = X509_get_ext_d2i(x, NID_certificate_policies,
	    NULL, NULL);
	char buf[80];
	int i, hits = 0;

	for (i = 0; cp != NULL && i < sk_POLICYINFO_num(cp); i++) {
		OBJ_obj2txt(buf, sizeof(buf),
		    sk_POLICYINFO_value(cp, i)->policyid, 1);
		if (strcmp(buf, oid) == 0)
			hits++;
	}
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return hits;
}

static bool
has_eku(X509 *x, const char *oid)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL,
	    NULL);
	char buf[80];
	bool found = false;
	int i;

	for (i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, i), 1);
		if (strcmp(buf, oid) == 0)
			found = true;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return found;
}

static double
days_valid(X509 *x)
{
	int days = 0, secs = 0;

	cr_assert(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)));
	return days + secs / 86400.0;
}

Test(ca, new_builds_the_four_certificates)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	X509 *root = ca_get0_root(ca), *iss = ca_get0_issuing(ca);
	X509 *sig = ca_get0_signer(ca), *kra = ca_get0_kra(ca);

	/* root self-signed, issuing by root, signer and KRA by issuing */
	cr_assert_eq(X509_check_issued(root, root), X509_V_OK);
	cr_assert_eq(X509_check_issued(root, iss), X509_V_OK);
	cr_assert_eq(X509_check_issued(iss, sig), X509_V_OK);
	cr_assert_eq(X509_check_issued(iss, kra), X509_V_OK);
	cr_assert_eq(X509_verify(iss, X509_get0_pubkey(root)), 1);
	cr_assert_eq(X509_verify(sig, X509_get0_pubkey(iss)), 1);
	cr_assert_eq(X509_check_ca(root), 1);
	cr_assert_eq(X509_check_ca(iss), 1);
	cr_assert_eq(X509_check_ca(sig), 0);

	/* content signer: worksheet 17 */
	cr_assert_eq(tca_ext_crit(sig, NID_key_usage), 1);
	cr_assert_eq(X509_get_key_usage(sig), KU_DIGITAL_SIGNATURE);
	cr_assert_eq(tca_ext_crit(sig, NID_ext_key_usage), 1);
	cr_assert(has_eku(sig, PKIX_OID_PIV_CONTENT_SIGNING));
	cr_assert_eq(policy_count(sig, "2.16.840.1.101.3.2.1.48.86"), 1);
	cr_assert(days_valid(sig) <= 9 * 365.25);
	cr_assert(days_valid(sig) > 8 * 365);

	/* KRA: EC key agreement */
	cr_assert_eq(tca_ext_crit(kra, NID_key_usage), 1);
	cr_assert_eq(X509_get_key_usage(kra), KU_KEY_AGREEMENT);

	/* issuing CA lists every policy of the set; root lists none */
	cr_assert_eq(policy_count(iss, "2.16.840.1.101.3.2.1.48.11"), 1);
	cr_assert_eq(policy_count(iss, "2.16.840.1.101.3.2.1.48.13"), 1);
	cr_assert_eq(policy_count(iss, "2.16.840.1.101.3.2.1.48.9"), 1);
	cr_assert_eq(tca_ext_crit(root, NID_certificate_policies), -1);

	/* names: prefix then CN built from O */
	{
		char cn[128];

		X509_NAME_get_text_by_NID(X509_get_subject_name(sig),
		    NID_commonName, cn, sizeof(cn));
		cr_assert_str_eq(cn, "Test Agency PIV Content Signer");
	}
	cr_assert_eq(sk_X509_num(ca_get0_chain(ca)), 2);
	cr_assert_str_eq(ca_get0_dir(ca), "");
	ca_free(ca);
}

Test(ca, rsa_kra_uses_key_encipherment_and_p384_uses_sha384)
{
	struct ca *ca = tca_new(PKIX_ALG_P384, PKIX_ALG_RSA2048, NULL);

	cr_assert_eq(X509_get_key_usage(ca_get0_kra(ca)), KU_KEY_ENCIPHERMENT);
	cr_assert_eq(X509_get_signature_nid(ca_get0_signer(ca)),
	    NID_ecdsa_with_SHA384);
	ca_free(ca);
}

Test(ca, new_refuses_bad_names)
{
	struct ca_init_params p;
	struct pv_why why = { "" };
	struct ca *ca = NULL;

	ca_init_params_defaults(&p);
	memset(&p.name, 0, sizeof(p.name));
	cr_assert_eq(ca_new(&p, TCA_NOW, &ca, NULL, NULL, &why), PV_E_INPUT);
	cr_assert_null(ca);
	cr_assert_eq(pkix_dn_parse("O=X, CN=Mine", &p.name, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(ca_new(&p, TCA_NOW, &ca, NULL, NULL, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "CN") != NULL, "%s", why.msg);
	p.signer_days = 4000;
	cr_assert_eq(pkix_dn_parse("O=X", &p.name, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(ca_new(&p, TCA_NOW, &ca, NULL, NULL, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "9 years") != NULL, "%s", why.msg);
}

static void
pass(struct pkix_pass *p, const char *s)
{
	cr_assert_eq(pkix_pass_set(p, s, NULL), PV_OK);
}

static mode_t
mode_of(const char *dir, const char *name)
{
	char path[4400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(lstat(path, &st), 0, "%s missing", path);
	return st.st_mode & 07777;
}

Test(ca, init_writes_private_files_and_open_reads_them)
{
	static const char *const files[] = {
		CA_FILE_ROOT_CRT, CA_FILE_ROOT_KEY, CA_FILE_ISSUING_CRT,
		CA_FILE_ISSUING_KEY, CA_FILE_SIGNER_CRT, CA_FILE_SIGNER_KEY,
		CA_FILE_KRA_CRT, CA_FILE_KRA_KEY, CA_FILE_CHAIN
	};
	char *home = tca_tmpdir(), dir[4200];
	struct ca_init_params p;
	struct pkix_pass ps, kps, bad;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	EVP_PKEY *kra = NULL;
	size_t i;
	enum pv_err r;

	snprintf(dir, sizeof(dir), "%s/ca", home);
	ca_init_params_defaults(&p);
	pass(&ps, "correct horse battery");
	pass(&kps, "kra staple passphrase");
	pass(&bad, "wrong passphrase!");
	r = ca_init(dir, &p, &ps, &kps, TCA_NOW, &why);
	cr_assert_eq(r, PV_OK, "%s", why.msg);
	cr_assert_eq(mode_of(home, "ca"), 0700);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		cr_assert_eq(mode_of(dir, files[i]), 0600, "%s", files[i]);

	r = ca_open(dir, &ps, &ca, &why);
	cr_assert_eq(r, PV_OK, "%s", why.msg);
	cr_assert_not_null(ca_get0_issuing_key(ca));
	cr_assert_not_null(ca_get0_signer_key(ca));
	cr_assert_eq(X509_check_private_key(ca_get0_signer(ca),
	    ca_get0_signer_key(ca)), 1);
	cr_assert_eq(sk_X509_num(ca_get0_chain(ca)), 2);
	ca_free(ca);

	pv_why_clear(&why);
	cr_assert_eq(ca_open(dir, &bad, &ca, &why), PV_E_AUTH_FAILED, "%s",
	    why.msg);
	cr_assert_null(ca);
	cr_assert_eq(ca_open(dir, NULL, &ca, &why), PV_OK);
	cr_assert_null(ca_get0_issuing_key(ca));
	ca_free(ca);
	cr_assert_eq(ca_open_keys(dir, &ps, CA_KEY_SIGNER, &ca, &why), PV_OK);
	cr_assert_null(ca_get0_issuing_key(ca));
	cr_assert_not_null(ca_get0_signer_key(ca));
	ca_free(ca);

	/* the KRA key opens with its own passphrase only */
	pv_why_clear(&why);
	cr_assert_eq(ca_kra_key_load(dir, &ps, &kra, &why), PV_E_AUTH_FAILED);
	cr_assert_eq(ca_kra_key_load(dir, &kps, &kra, &why), PV_OK);
	EVP_PKEY_free(kra);

	/* a second init leaves the CA alone */
	pv_why_clear(&why);
	cr_assert_eq(ca_init(dir, &p, &ps, &kps, TCA_NOW, &why), PV_E_EXISTS);
	cr_assert_eq(ca_open(dir, &ps, &ca, NULL), PV_OK);
	ca_free(ca);
	/* nothing left over beside it: only "ca" in the home */
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = ca", home);
		cr_assert_eq(system(cmd), 0, "stray files in %s", home);
	}
	pkix_pass_clear(&ps);
	pkix_pass_clear(&kps);
	tca_rmtree(home);
}

/* ca/ and its keys follow the one rule for private files. */
Test(ca, open_folder_or_keys_refused)
{
	static const struct {
		const char *name;	/* under ca/; "" is ca/ itself */
		mode_t mode;
		const char *want;
	} cases[] = {
		{ "", 0755, "ca is open to group or others (mode 0755): run "
		    "chmod 700 " },
		{ CA_FILE_ISSUING_KEY, 0644, CA_FILE_ISSUING_KEY " is open to "
		    "group or others (mode 0644): run chmod 600 " },
		{ CA_FILE_SIGNER_KEY, 0640, CA_FILE_SIGNER_KEY " is open to "
		    "group or others (mode 0640): run chmod 600 " },
	};
	char *home = tca_tmpdir(), dir[4200], path[4400];
	struct ca_init_params p;
	struct pkix_pass ps;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	EVP_PKEY *kra = NULL;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/ca", home);
	ca_init_params_defaults(&p);
	pass(&ps, "correct horse battery");
	cr_assert_eq(ca_init(dir, &p, &ps, &ps, TCA_NOW, &why), PV_OK, "%s",
	    why.msg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s%s%s", dir,
		    cases[i].name[0] ? "/" : "", cases[i].name);
		cr_assert_eq(chmod(path, cases[i].mode), 0);
		pv_why_clear(&why);
		cr_assert_eq(ca_open(dir, &ps, &ca, &why), PV_E_POLICY, "%s",
		    cases[i].name);
		cr_assert_null(ca);
		cr_assert(strstr(why.msg, cases[i].want) != NULL, "%s",
		    why.msg);
		cr_assert_eq(chmod(path, cases[i].name[0] ? 0600 : 0700), 0);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CA_FILE_KRA_KEY);
	cr_assert_eq(chmod(path, 0604), 0);
	pv_why_clear(&why);
	cr_assert_eq(ca_kra_key_load(dir, &ps, &kra, &why), PV_E_POLICY);
	cr_assert(strstr(why.msg, "run chmod 600") != NULL, "%s", why.msg);
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(ca_kra_key_load(dir, &ps, &kra, &why), PV_OK, "%s",
	    why.msg);
	EVP_PKEY_free(kra);
	cr_assert_eq(ca_open(dir, &ps, &ca, &why), PV_OK, "%s", why.msg);
	ca_free(ca);
	pkix_pass_clear(&ps);
	tca_rmtree(home);
}

Test(ca, keys_at_rest_are_scrypt_aes256_pkcs8)
{
	char *home = tca_tmpdir(), path[4400];
	struct ca_init_params p;
	struct pkix_pass ps;
	X509_SIG *sig;
	const X509_ALGOR *alg;
	PBE2PARAM *pbe2;
	FILE *f;

	ca_init_params_defaults(&p);
	pass(&ps, "correct horse battery");
	snprintf(path, sizeof(path), "%s/ca", home);
	cr_assert_eq(ca_init(path, &p, &ps, &ps, TCA_NOW, NULL), PV_OK);
	snprintf(path, sizeof(path), "%s/ca/%s", home, CA_FILE_ISSUING_KEY);
	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(sig = PEM_read_PKCS8(f, NULL, NULL, NULL));
	fclose(f);
	X509_SIG_get0(sig, &alg, NULL);
	cr_assert_eq(OBJ_obj2nid(alg->algorithm), NID_pbes2);
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
	    alg->parameter);
	cr_assert_not_null(pbe2);
	cr_assert_eq(OBJ_obj2nid(pbe2->keyfunc->algorithm), NID_id_scrypt);
	cr_assert_eq(OBJ_obj2nid(pbe2->encryption->algorithm), NID_aes_256_cbc);
	PBE2PARAM_free(pbe2);
	X509_SIG_free(sig);
	tca_rmtree(home);
}

Test(ca, init_refuses_short_passphrase_before_touching_disk)
{
	char *home = tca_tmpdir(), dir[4200];
	struct ca_init_params p;
	struct pkix_pass ps, shortp;
	struct pv_why why = { "" };
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/ca", home);
	ca_init_params_defaults(&p);
	pass(&ps, "long enough pass");
	pass(&shortp, "short");
	cr_assert_eq(ca_init(dir, &p, &ps, &shortp, TCA_NOW, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "KRA passphrase") != NULL, "%s", why.msg);
	cr_assert_neq(lstat(dir, &st), 0);
	tca_rmtree(home);
}

Test(ca, import_uses_an_existing_issuing_ca)
{
	struct ca *other = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	char *home = tca_tmpdir(), dir[4200];
	struct ca_init_params p;
	struct pkix_pass ps;
	struct pv_why why = { "" };
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct ca *ca = NULL;
	enum pv_err r;

	ca_init_params_defaults(&p);
	pass(&ps, "import passphrase");
	snprintf(dir, sizeof(dir), "%s/ca", home);

	/* without the root the chain cannot be built */
	r = ca_import(dir, ca_get0_issuing(other), ca_get0_issuing_key(other),
	    NULL, &p, &ps, &ps, TCA_NOW, &why);
	cr_assert_eq(r, PV_E_VERIFY, "%s", why.msg);
	/* the wrong key */
	pv_why_clear(&why);
	r = ca_import(dir, ca_get0_issuing(other), ca_get0_signer_key(other),
	    NULL, &p, &ps, &ps, TCA_NOW, &why);
	cr_assert_eq(r, PV_E_INPUT, "%s", why.msg);
	/* not a CA */
	pv_why_clear(&why);
	r = ca_import(dir, ca_get0_signer(other), ca_get0_signer_key(other),
	    NULL, &p, &ps, &ps, TCA_NOW, &why);
	cr_assert_eq(r, PV_E_INPUT, "%s", why.msg);
	cr_assert(strstr(why.msg, "not a CA") != NULL, "%s", why.msg);

	sk_X509_push(chain, ca_get0_root(other));
	pv_why_clear(&why);
	r = ca_import(dir, ca_get0_issuing(other), ca_get0_issuing_key(other),
	    chain, &p, &ps, &ps, TCA_NOW, &why);
	cr_assert_eq(r, PV_OK, "%s", why.msg);
	cr_assert_eq(ca_open(dir, &ps, &ca, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(X509_cmp(ca_get0_issuing(ca), ca_get0_issuing(other)), 0);
	cr_assert_eq(X509_cmp(ca_get0_root(ca), ca_get0_root(other)), 0);
	/* a new signer under the imported CA */
	cr_assert_neq(X509_cmp(ca_get0_signer(ca), ca_get0_signer(other)), 0);
	cr_assert_eq(X509_verify(ca_get0_signer(ca),
	    X509_get0_pubkey(ca_get0_issuing(other))), 1);
	{
		char path[4400];

		snprintf(path, sizeof(path), "%s/%s", dir, CA_FILE_ROOT_KEY);
		cr_assert_neq(access(path, F_OK), 0, "import wrote a root key");
	}
	ca_free(ca);
	sk_X509_free(chain);
	ca_free(other);
	tca_rmtree(home);
}

Test(ca, import_self_signed_ca)
{
	struct ca *other = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	EVP_PKEY *root_key = NULL;
	struct ca_init_params p;
	struct ca *src = NULL, *ca = NULL;
	char *home = tca_tmpdir(), dir[4200];
	struct pkix_pass ps;
	struct pv_why why = { "" };

	ca_init_params_defaults(&p);
	cr_assert_eq(ca_new(&p, TCA_NOW, &src, &root_key, NULL, NULL), PV_OK);
	pass(&ps, "import passphrase");
	snprintf(dir, sizeof(dir), "%s/ca", home);
	cr_assert_eq(ca_import(dir, ca_get0_root(src), root_key, NULL, &p, &ps,
	    &ps, TCA_NOW, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(ca_open(dir, &ps, &ca, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(X509_cmp(ca_get0_root(ca), ca_get0_issuing(ca)), 0);
	cr_assert_eq(sk_X509_num(ca_get0_chain(ca)), 1);
	ca_free(ca);
	ca_free(src);
	ca_free(other);
	EVP_PKEY_free(root_key);
	tca_rmtree(home);
}

Test(ca, crl_lists_revoked_serials_with_number_and_reason)
{
	char *home = tca_tmpdir(), dir[4200];
	struct ca_init_params p;
	struct pkix_pass ps;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	struct ca_revoked rv[2];
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *d;
	X509_CRL *crl;
	X509_REVOKED *e;
	ASN1_INTEGER *num;
	ASN1_ENUMERATED *reason;
	uint64_t n = 0;
	bool found = true;
	int crit;

	ca_init_params_defaults(&p);
	pass(&ps, "crl passphrase");
	snprintf(dir, sizeof(dir), "%s/ca", home);
	cr_assert_eq(ca_init(dir, &p, &ps, &ps, TCA_NOW, NULL), PV_OK);
	cr_assert_eq(ca_open(dir, &ps, &ca, NULL), PV_OK);
	cr_assert_eq(ca_crl_last_number(dir, &n, &found, NULL), PV_OK);
	cr_assert(!found);

	memset(rv, 0, sizeof(rv));
	memcpy(rv[0].serial, "\x41\x02\x03", 3);
	rv[0].serial_len = 3;
	rv[0].revoked_at = TCA_NOW + 100;
	rv[0].reason = 1;	/* keyCompromise */
	memcpy(rv[1].serial, "\x7f\xff", 2);
	rv[1].serial_len = 2;
	rv[1].revoked_at = TCA_NOW + 200;
	rv[1].reason = 0;	/* unspecified: left out */
	cr_assert_eq(ca_crl_make(ca, rv, 2, 7, TCA_NOW + 300, 168, &der,
	    &der_len, &why), PV_OK, "%s", why.msg);
	d = der;
	cr_assert_not_null(crl = d2i_X509_CRL(NULL, &d, (long)der_len));
	cr_assert_eq(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	cr_assert_eq(X509_CRL_verify(crl, X509_get0_pubkey(
	    ca_get0_issuing(ca))), 1);
	cr_assert_eq(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca_get0_issuing(ca))), 0);
	cr_assert_eq(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	cr_assert_not_null(num);
	cr_assert_eq(ASN1_INTEGER_get(num), 7);
	ASN1_INTEGER_free(num);
	{
		ASN1_INTEGER *sn = ASN1_INTEGER_new();
		X509_REVOKED *found_e = NULL;

		ASN1_INTEGER_set(sn, 0x410203);
		cr_assert_eq(X509_CRL_get0_by_serial(crl, &found_e, sn), 1);
		e = found_e;
		reason = X509_REVOKED_get_ext_d2i(e, NID_crl_reason, NULL, NULL);
		cr_assert_not_null(reason);
		cr_assert_eq(ASN1_ENUMERATED_get(reason), 1);
		ASN1_ENUMERATED_free(reason);
		ASN1_INTEGER_set(sn, 0x7fff);
		cr_assert_eq(X509_CRL_get0_by_serial(crl, &found_e, sn), 1);
		cr_assert_eq(X509_REVOKED_get_ext_by_NID(found_e,
		    NID_crl_reason, -1), -1);
		ASN1_INTEGER_free(sn);
	}
	X509_CRL_free(crl);

	cr_assert_eq(ca_crl_publish(ca, der, der_len, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(ca_crl_last_number(dir, &n, &found, NULL), PV_OK);
	cr_assert(found);
	cr_assert_eq(n, 7);
	cr_assert_eq(mode_of(dir, CA_FILE_CRL_DER), 0600);
	cr_assert_eq(mode_of(dir, CA_FILE_CRL_PEM), 0600);
	OPENSSL_free(der);
	ca_free(ca);
	tca_rmtree(home);
}

Test(ca, crl_needs_the_key)
{
	struct ca *ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	struct ca_revoked rv = { .serial = { 1 }, .serial_len = 21 };
	uint8_t *der = NULL;
	size_t n = 0;

	cr_assert_eq(ca_crl_make(ca, &rv, 1, 1, TCA_NOW, 24, &der, &n, NULL),
	    PV_E_INVAL);
	cr_assert_eq(ca_crl_publish(ca, (const uint8_t *)"x", 1, NULL),
	    PV_E_STATE);
	ca_free(ca);
}

Test(ca, describe_gives_subjects_serials_and_fingerprints)
{
	struct ca *ca = tca_new(PKIX_ALG_P384, PKIX_ALG_RSA2048, NULL);
	struct ca_cert_info info[4];

	ca_describe(ca, info);
	cr_assert_str_eq(info[0].role, "root");
	cr_assert(strstr(info[0].subject, "CN=Test Agency Root CA") != NULL,
	    "%s", info[0].subject);
	cr_assert_str_eq(info[1].issuer, info[0].subject);
	cr_assert_eq(strlen(info[2].serial), 32);
	cr_assert_str_eq(info[2].key, "EC P-384");
	cr_assert_str_eq(info[3].key, "RSA 2048");
	cr_assert_eq(strlen(info[3].sha256), 95);
	cr_assert_str_eq(info[0].not_before, "2026-01-01T00:00:00Z");
	ca_free(ca);
}

Test(ca, settings_come_from_the_station_config)
{
	struct pv_config pc;
	struct ca_init_params p;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	unsigned s, i;

	config_defaults(&pc);
	cr_assert_eq(ca_params_from_config(&pc, &p, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(p.root_alg, pkix_alg_from_piv((unsigned)pc.ca_alg));
	cr_assert_eq(p.signer_days, pc.ca_signer_days);
	cr_assert_eq(p.name.n, pc.ca_name.n);
	cr_assert_eq(ca_new(&p, TCA_NOW, &ca, NULL, NULL, &why), PV_OK, "%s",
	    why.msg);
	/* the issuing CA lists every OID a slot or the signer will use */
	for (s = 0; s < CONFIG_N_SLOTS; s++)
		for (i = 0; i < pc.policy[s].n; i++)
			cr_assert_eq(policy_count(ca_get0_issuing(ca),
			    pc.policy[s].oid[i]), 1, "%s", pc.policy[s].oid[i]);
	for (i = 0; i < pc.policy_content_signer.n; i++)
		cr_assert_eq(policy_count(ca_get0_signer(ca),
		    pc.policy_content_signer.oid[i]), 1);
	ca_free(ca);
	/* an overridden slot OID outside the set reaches the issuing CA */
	pc.policy[0].n = 1;
	snprintf(pc.policy[0].oid[0], sizeof(pc.policy[0].oid[0]),
	    "1.3.6.1.4.1.99999.1");
	cr_assert_eq(ca_params_from_config(&pc, &p, NULL), PV_OK);
	cr_assert_eq(ca_new(&p, TCA_NOW, &ca, NULL, NULL, NULL), PV_OK);
	cr_assert_eq(policy_count(ca_get0_issuing(ca), "1.3.6.1.4.1.99999.1"),
	    1);
	ca_free(ca);
}

/* ---- pkix_util ---------------------------------------------------------------- */

struct dncase {
	char text[96];
	int ok;
	unsigned n;
};

ParameterizedTestParameters(pkix, dn_parse)
{
	static const struct dncase cases[] = {
		{ "", 1, 0 },
		{ "CN=Jane Doe", 1, 1 },
		{ " C=US ,O=Example Agency, OU=People,CN=Jane ", 1, 4 },
		{ "DC=gov, DC=example, UID=jdoe", 1, 3 },
		{ "C=usa", 0, 0 },		/* not two capitals */
		{ "C=us", 0, 0 },
		{ "X=1", 0, 0 },		/* unknown type */
		{ "CN", 0, 0 },			/* no '=' */
		{ "CN=a=b", 0, 0 },		/* two '=' */
		{ "CN=", 0, 0 },		/* empty value */
		{ "O=1,O=2,O=3,O=4,O=5,O=6,O=7,O=8,O=9", 0, 0 },
	};

	return cr_make_param_array(struct dncase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dncase *c, pkix, dn_parse)
{
	struct pkix_dn dn;
	struct pv_why why = { "" };
	enum pv_err r = pkix_dn_parse(c->text, &dn, &why);

	if (c->ok) {
		cr_assert_eq(r, PV_OK, "'%s': %s", c->text, why.msg);
		cr_assert_eq(dn.n, c->n);
	} else {
		cr_assert_eq(r, PV_E_INPUT, "'%s' accepted", c->text);
		cr_assert_neq(why.msg[0], '\0');
	}
}

Test(pkix, dn_encodes_printable_and_utf8)
{
	struct pkix_dn dn;
	X509_NAME *n = NULL;
	X509_NAME_ENTRY *e;

	cr_assert_eq(pkix_dn_parse("C=US, O=Agency, CN=Zoë Ünal", &dn, NULL),
	    PV_OK);
	cr_assert_eq(pkix_dn_to_name(&dn, &n, NULL), PV_OK);
	e = X509_NAME_get_entry(n, 0);
	cr_assert_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
	    V_ASN1_PRINTABLESTRING);
	e = X509_NAME_get_entry(n, 2);
	cr_assert_eq(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
	    V_ASN1_UTF8STRING);
	X509_NAME_free(n);
	/* a hand-filled struct is checked again */
	memset(&dn, 0, sizeof(dn));
	dn.n = 1;
	strcpy(dn.rdn[0].type, "CN");
	strcpy(dn.rdn[0].value, "bad\x01");
	cr_assert_eq(pkix_dn_to_name(&dn, &n, NULL), PV_E_INPUT);
}

/*
 * Whatever pkix_dn_add accepts, pkix_dn_to_name builds, with a string of
 * the type the attribute requires: the refusals OpenSSL would make when
 * the certificate is signed (after the card was written) come first.
 */
struct dnval {
	char type[16];
	char value[140];
	int ok;
};

ParameterizedTestParameters(pkix, dn_value_rules)
{
	static struct dnval cases[] = {
		{ "CN", "Jane Doe", 1 },
		{ "CN", "Zo\xc3\xab", 1 },
		{ "CN", "Ab\xc0\xaf", 0 },		/* overlong '/' */
		{ "CN", "Ab\xed\xa0\x80", 0 },	/* surrogate */
		{ "CN", "Ab\xf4\x90\x80\x80", 0 },	/* above U+10FFFF */
		{ "CN", "Ab\xc3", 0 },			/* cut short */
		{ "CN", "Ab\xc2\x9b" "1m", 0 },	/* C1 control */
		{ "CN", "Ab\xe2\x80\xae" "cd", 0 },	/* RLO */
		{ "O", "Agency\x7f", 0 },
		{ "serialNumber", "EX-0001", 1 },
		{ "serialNumber", "EX_0001", 0 },	/* '_' is not Printable */
		{ "serialNumber", "Zo\xc3\xab", 0 },
		{ "DC", "example", 1 },
		{ "DC", "ex\xc3\xa4mple", 0 },	/* IA5String */
		{ "UID", "j\xc3\xb6rg", 1 },
		{ "C", "US", 1 },
		{ "C", "\xc3\x9cS", 0 },
	};

	return cr_make_param_array(struct dnval, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dnval *c, pkix, dn_value_rules)
{
	struct pkix_dn dn;
	struct pv_why why = { "" };
	X509_NAME *n = NULL;
	const ASN1_STRING *d;
	const char *v = c->value;
	enum pv_err r;
	int type;

	memset(&dn, 0, sizeof(dn));
	r = pkix_dn_add(&dn, c->type, v, &why);
	if (!c->ok) {
		cr_assert_eq(r, PV_E_INPUT, "%s=%s accepted", c->type, c->value);
		cr_assert(strncmp(why.msg, c->type, strlen(c->type)) == 0,
		    "the message names the attribute: %s", why.msg);
		return;
	}
	cr_assert_eq(r, PV_OK, "%s=%s: %s", c->type, c->value, why.msg);
	cr_assert_eq(pkix_dn_to_name(&dn, &n, &why), PV_OK, "%s", why.msg);
	d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, 0));
	type = ASN1_STRING_type(d);
	if (strcmp(c->type, "DC") == 0)
		cr_assert_eq(type, V_ASN1_IA5STRING);
	else if (strcmp(c->type, "serialNumber") == 0 ||
	    strcmp(c->type, "C") == 0)
		cr_assert_eq(type, V_ASN1_PRINTABLESTRING);
	else
		cr_assert(type == V_ASN1_PRINTABLESTRING ||
		    type == V_ASN1_UTF8STRING);
	cr_assert_eq((size_t)ASN1_STRING_length(d), strlen(v));
	X509_NAME_free(n);
}

/* X.520 bounds count characters: 63 two-byte letters fit a CN of 64. */
Test(pkix, dn_bounds_count_characters)
{
	struct pkix_dn dn;
	X509_NAME *n = NULL;
	char v[200];
	size_t i;

	for (i = 0; i < 63; i++)
		memcpy(v + 2 * i, "\xc3\xa9", 2);
	v[126] = '\0';
	memset(&dn, 0, sizeof(dn));
	cr_assert_eq(pkix_dn_add(&dn, "CN", v, NULL), PV_OK);
	cr_assert_eq(pkix_dn_to_name(&dn, &n, NULL), PV_OK);
	X509_NAME_free(n);
	memset(v, 'a', 65);
	v[65] = '\0';
	cr_assert_eq(pkix_dn_add(&dn, "CN", v, NULL), PV_E_INPUT);
}

Test(pkix, uuid_text_round_trip)
{
	uint8_t u[16];
	char s[PKIX_UUID_STR_LEN];

	cr_assert_eq(pkix_uuid_parse("urn:uuid:3F6C1A22-9B4E-4D1C-8A55-"
	    "0E9D7120C4B7", u, NULL), PV_OK);
	pkix_uuid_str(u, s);
	cr_assert_str_eq(s, "3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7");
	cr_assert_eq(pkix_uuid_parse("3f6c1a229b4e4d1c8a550e9d7120c4b7", u,
	    NULL), PV_OK);
	cr_assert_eq(pkix_uuid_parse("3f6c1a229b4e4d1c8a550e9d7120c4", u, NULL),
	    PV_E_INPUT);
	cr_assert_eq(pkix_uuid_parse("3f6c1a229b4e4d1c8a550e9d7120c4b7aa", u,
	    NULL), PV_E_INPUT);
	cr_assert_eq(pkix_uuid_parse("zz6c1a229b4e4d1c8a550e9d7120c4b7", u,
	    NULL), PV_E_INPUT);
}

Test(pkix, random_serials_are_positive_16_bytes_and_differ)
{
	uint8_t a[PKIX_SERIAL_LEN], b[PKIX_SERIAL_LEN];
	int i;

	for (i = 0; i < 64; i++) {
		cr_assert_eq(pkix_random_serial(a, NULL), PV_OK);
		cr_assert_eq(pkix_random_serial(b, NULL), PV_OK);
		cr_assert_eq(a[0] & 0x80, 0);
		cr_assert_neq(a[0], 0);
		cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
	}
}

Test(pkix, key_alg_checks_type_size_and_exponent)
{
	EVP_PKEY_CTX *c;
	EVP_PKEY *k = NULL;
	BIGNUM *e3 = BN_new();
	OSSL_PARAM params[3];
	unsigned bits = 2048;
	enum pkix_alg alg;
	struct pv_why why = { "" };

	k = tca_key(PKIX_ALG_P384);
	cr_assert_eq(pkix_key_alg(k, &alg, NULL), PV_OK);
	cr_assert_eq(alg, PKIX_ALG_P384);
	cr_assert_eq(pkix_md_for_key(k), EVP_sha384());
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	cr_assert_eq(pkix_key_alg(k, &alg, &why), PV_E_INPUT);
	EVP_PKEY_free(k);
	k = NULL;
	/* RSA with e = 3 */
	BN_set_word(e3, 3);
	c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	cr_assert(EVP_PKEY_keygen_init(c) == 1);
	params[0] = OSSL_PARAM_construct_uint("bits", &bits);
	params[1] = OSSL_PARAM_construct_end();
	cr_assert(EVP_PKEY_CTX_set_params(c, params) == 1);
	cr_assert(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, e3) == 1);
	cr_assert(EVP_PKEY_generate(c, &k) == 1);
	pv_why_clear(&why);
	cr_assert_eq(pkix_key_alg(k, &alg, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "65537") != NULL, "%s", why.msg);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(c);
	BN_free(e3);
}

Test(pkix, alg_names_parse)
{
	enum pkix_alg a;

	cr_assert_eq(pkix_alg_parse("ECC-P256", &a, NULL), PV_OK);
	cr_assert_eq(a, PKIX_ALG_P256);
	cr_assert_eq(pkix_alg_parse("rsa3072", &a, NULL), PV_OK);
	cr_assert_eq(a, PKIX_ALG_RSA3072);
	cr_assert_eq(pkix_alg_parse("ed25519", &a, NULL), PV_E_INPUT);
	cr_assert_str_eq(pkix_alg_name(PKIX_ALG_P384), "p384");
}

Test(pkix, write_file_is_exclusive_and_private)
{
	char *dir = tca_tmpdir(), path[4200], link_path[4200];
	uint8_t *got = NULL;
	size_t n = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/f", dir);
	cr_assert_eq(pkix_write_file(path, "one", 3, false, NULL), PV_OK);
	cr_assert_eq(pkix_write_file(path, "two", 3, false, NULL), PV_E_EXISTS);
	cr_assert_eq(pkix_read_file(path, 100, &got, &n, NULL), PV_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(got, "one", 3), 0);
	OPENSSL_free(got);
	cr_assert_eq(pkix_write_file(path, "three", 5, true, NULL), PV_OK);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(pkix_read_file(path, 4, &got, &n, NULL), PV_E_TOO_LONG);
	/* a symbolic link is not followed when reading */
	snprintf(link_path, sizeof(link_path), "%s/l", dir);
	cr_assert_eq(symlink(path, link_path), 0);
	cr_assert_eq(pkix_read_file(link_path, 100, &got, &n, NULL), PV_E_IO);
	snprintf(path, sizeof(path), "%s/none", dir);
	cr_assert_eq(pkix_read_file(path, 100, &got, &n, NULL), PV_E_NO_FILE);
	tca_rmtree(dir);
}

Test(pkix, passphrase_sources)
{
	char *dir = tca_tmpdir(), path[4200];
	struct pkix_pass p;
	bool found;
	int fds[2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pass", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("first line pass\r\nsecond\n", f);
	fclose(f);
	cr_assert_eq(pkix_pass_from_file(path, &p, NULL), PV_OK);
	cr_assert_str_eq(p.v, "first line pass");
	cr_assert_eq(p.len, 15);

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "from fd\nrest", 12), 12);
	close(fds[1]);
	cr_assert_eq(pkix_pass_from_fd(fds[0], &p, NULL), PV_OK);
	cr_assert_str_eq(p.v, "from fd");
	close(fds[0]);

	setenv("PV_TEST_PASS", "from env", 1);
	cr_assert_eq(pkix_pass_from_env("PV_TEST_PASS", &p, &found, NULL),
	    PV_OK);
	cr_assert(found);
	cr_assert_str_eq(p.v, "from env");
	unsetenv("PV_TEST_PASS");
	cr_assert_eq(pkix_pass_from_env("PV_TEST_PASS", &p, &found, NULL),
	    PV_OK);
	cr_assert(!found);

	cr_assert_not_null(f = fopen(path, "w"));
	fputs("\n", f);
	fclose(f);
	cr_assert_eq(pkix_pass_from_file(path, &p, NULL), PV_E_INPUT);
	pkix_pass_clear(&p);
	cr_assert_eq(p.len, 0);
	tca_rmtree(dir);
}

/* One rule for every passphrase that protects something new: the CA and
 * KRA keys (ca_init, ca_import) and a PKCS#12 (escrow_recover_p12). */
Test(pkix, new_passphrase_rule)
{
	struct pkix_pass p;
	struct pv_why why = { "" };

	cr_assert_eq(pkix_pass_set(&p, "1234567", NULL), PV_OK);
	cr_assert_eq(pkix_pass_check_new(&p, "X passphrase", &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg, "X passphrase: 7 characters, at least 8");
	cr_assert_eq(pkix_pass_set(&p, "12345678", NULL), PV_OK);
	cr_assert_eq(pkix_pass_check_new(&p, "X passphrase", NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(pkix_pass_check_new(NULL, "Y", &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "Y: 0 characters, at least 8");
	pkix_pass_clear(&p);
}
