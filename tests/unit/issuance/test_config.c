/*
 * test_config.c: pivstation.conf parsing (config.h).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "issuance/config.h"
#include "station_fixture.h"

static enum pv_err
parse(const char *text, struct pv_config *c, struct pv_why *why)
{
	pv_why_clear(why);
	return config_parse(text, strlen(text), "test.conf", c, why);
}

Test(config, default_text_round_trips_to_defaults)
{
	struct pv_config parsed, defaults;
	struct pv_why why = { "" };
	const char *t = config_default_text();

	config_defaults(&defaults);
	cr_assert_eq(config_parse(t, strlen(t), "default", &parsed, &why),
	    PV_OK, "%s", why.msg);
	cr_assert_eq(memcmp(&parsed, &defaults, sizeof(parsed)), 0,
	    "config_defaults() and the default file disagree");
	/* A few values spelled out, so the test also says what they are. */
	cr_assert_eq(parsed.slot_alg[CONFIG_SLOT_9A], CONFIG_ALG_ECCP256);
	cr_assert_eq(parsed.slot_alg[CONFIG_SLOT_9C], CONFIG_ALG_RSA2048);
	cr_assert_eq(parsed.escrow_policy, CONFIG_ESCROW_REQUIRED);
	cr_assert_str_eq(parsed.policy[CONFIG_SLOT_9A].oid[0],
	    "2.16.840.1.101.3.2.1.48.11");
	cr_assert_str_eq(parsed.policy_content_signer.oid[0],
	    "2.16.840.1.101.3.2.1.48.86");
	cr_assert_eq(parsed.subject.n, 4);
	cr_assert_str_eq(parsed.subject.rdn[3].type, "CN");
	cr_assert_str_eq(parsed.subject.rdn[3].value, "{full_name}");
	cr_assert_eq(parsed.card_auth_subject.n, 0);
	cr_assert_str_eq(parsed.agency_code, "9999");
	cr_assert_eq(parsed.card_years, 5);
}

Test(config, example_file_is_the_default_text)
{
	const char *root = getenv("PV_ROOT");
	char path[512];
	FILE *f;
	static char buf[70000];
	size_t n;

	snprintf(path, sizeof(path), "%s/examples/pivstation.conf",
	    root ? root : ".");
	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_eq(n, strlen(config_default_text()),
	    "examples/pivstation.conf differs: regenerate it with "
	    "'pivstation init --print-config'");
	cr_assert_eq(memcmp(buf, config_default_text(), n), 0,
	    "examples/pivstation.conf differs: regenerate it with "
	    "'pivstation init --print-config'");
}

Test(config, default_text_lines_fit)
{
	const char *p = config_default_text();

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		cr_assert_not_null(nl, "the default text ends with a newline");
		cr_assert_leq((size_t)(nl - p), 78, "line too wide: %.40s", p);
		p = nl + 1;
	}
}

Test(config, empty_file_is_all_defaults)
{
	struct pv_config a, b;

	config_defaults(&b);
	cr_assert_eq(parse("", &a, NULL), PV_OK);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(parse("# only a comment\n\n; another\n", &a, NULL), PV_OK);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(config, values_and_overrides)
{
	struct pv_config c;
	struct pv_why why = { "" };

	cr_assert_eq(parse(
	    "[keys]\n"
	    "  slot_9a = rsa3072\n"			/* indented is fine */
	    "slot_9d = eccp384 ; an inline comment\n"
	    "[validity]\ncard = 400d\n"
	    "[policy]\nset = production\n"
	    "slot_9c = 2.16.840.1.101.3.2.1.3.16, 2.16.840.1.101.3.2.1.3.7\n"
	    "[certificates]\neku_9a =\nrfc822 = 9A\nupn = 9a, 9c\n"
	    "subject = DC=gov, DC=example, UID={person_id}, CN={given_name} "
	    "{family_name}\n"
	    "card_auth_subject = CN={uuid}\n"
	    "[escrow]\npolicy = optional\npuk = off\n"
	    "[pin]\ndigits_only = FALSE\n"
	    "[ca]\npassphrase = env:PV_CA_PASS\nalgorithm = rsa4096\n"
	    "[card]\nfactory_chuid = refuse\n"
	    "[attestation]\nroots = yubico-piv-roots.pem\npolicy = refuse\n"
	    "[store]\nbusy_timeout_ms = 0\n", &c, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(c.slot_alg[CONFIG_SLOT_9A], CONFIG_ALG_RSA3072);
	cr_assert_eq(c.slot_alg[CONFIG_SLOT_9D], CONFIG_ALG_ECCP384);
	cr_assert_eq(c.card_years, 0);
	cr_assert_eq(c.card_days, 400);
	cr_assert_eq(c.policy_set, CONFIG_POLICY_PRODUCTION);
	cr_assert_eq(c.policy[CONFIG_SLOT_9A].n, 1);
	cr_assert_str_eq(c.policy[CONFIG_SLOT_9A].oid[0],
	    "2.16.840.1.101.3.2.1.3.13");
	cr_assert_eq(c.policy[CONFIG_SLOT_9C].n, 2);
	cr_assert_str_eq(c.policy[CONFIG_SLOT_9C].oid[0],
	    "2.16.840.1.101.3.2.1.3.16");
	cr_assert_str_eq(c.policy[CONFIG_SLOT_9E].oid[0],
	    "2.16.840.1.101.3.2.1.3.17");
	cr_assert_str_eq(c.policy_content_signer.oid[0],
	    "2.16.840.1.101.3.2.1.3.39");
	cr_assert_eq(c.eku_9a, 0);
	cr_assert_eq(c.rfc822_slots, CONFIG_SLOT_BIT(CONFIG_SLOT_9A));
	cr_assert_eq(c.upn_slots, CONFIG_SLOT_BIT(CONFIG_SLOT_9A) |
	    CONFIG_SLOT_BIT(CONFIG_SLOT_9C));
	cr_assert_eq(c.subject.n, 4);
	cr_assert_str_eq(c.subject.rdn[2].type, "UID");
	cr_assert_str_eq(c.subject.rdn[3].value, "{given_name} {family_name}");
	cr_assert_eq(c.card_auth_subject.n, 1);
	cr_assert_eq(c.escrow_policy, CONFIG_ESCROW_OPTIONAL);
	cr_assert(!c.escrow_puk);
	cr_assert(!c.pin_digits_only);
	cr_assert_eq(c.pass_source, CONFIG_PASS_ENV);
	cr_assert_str_eq(c.pass_arg, "PV_CA_PASS");
	cr_assert_eq(c.ca_alg, CONFIG_ALG_RSA4096);
	cr_assert_eq(c.busy_timeout_ms, 0);
	cr_assert_eq(c.factory_chuid, CONFIG_FACTORY_CHUID_REFUSE);
	cr_assert_str_eq(c.attest_roots, "yubico-piv-roots.pem");
	cr_assert_eq(c.attest_policy, CONFIG_ATTEST_REFUSE);
}

Test(config, slot_helpers)
{
	enum config_slot s;

	cr_assert_eq(config_slot_ref(CONFIG_SLOT_9D), 0x9d);
	cr_assert_str_eq(config_slot_name(CONFIG_SLOT_9E), "9e");
	cr_assert(config_slot_from_ref(0x9c, &s));
	cr_assert_eq(s, CONFIG_SLOT_9C);
	cr_assert(!config_slot_from_ref(0x9b, &s));
	cr_assert_str_eq(config_alg_name(CONFIG_ALG_ECCP384), "eccp384");
	cr_assert(config_alg_is_rsa(CONFIG_ALG_RSA3072));
	cr_assert(!config_alg_is_rsa(CONFIG_ALG_ECCP256));
}

/* Bad files and the exact start of the message each must produce. */
struct bad_conf {
	char text[400];
	char want[200];
};

ParameterizedTestParameters(config, bad_files)
{
	static struct bad_conf cases[] = {
		{ "[escrow]\npolicy = maybe\n", "test.conf:2: [escrow] policy: "
		    "expected 'required' or 'optional', got 'maybe'" },
		{ "[escrow]\n\n  policy = maybe\n", "test.conf:3: [escrow] "
		    "policy:" },
		{ "[keys]\nslot_9a = eccp256\n[bogus]\n", "test.conf:3: "
		    "unknown section [bogus]" },
		{ "[bogus]\nx = 1\n", "test.conf:1: unknown section [bogus]" },
		{ "[keys]\nslot_9b = rsa2048\n", "test.conf:2: [keys] slot_9b: "
		    "unknown key" },
		{ "[keys]\nslot_9a = rsa4096\n", "test.conf:2: [keys] slot_9a: "
		    "expected rsa2048, rsa3072, eccp256 or eccp384, got "
		    "'rsa4096'" },
		{ "[keys]\nslot_9a = rsa2048\nslot_9a = rsa2048\n",
		    "test.conf:3: [keys] slot_9a: given twice (first on line 2)" },
		{ "x = 1\n", "test.conf:1: x: key outside any [section]" },
		{ "[keys]\nnot a key line\n", "test.conf:2: expected 'key = "
		    "value', a [section] or a comment" },
		{ "[keys\n", "test.conf:1: expected 'key = value'" },
		{ "[pin]\nmin_length = 5\n", "test.conf:2: [pin] min_length: "
		    "expected a whole number from 6 to 8, got '5'" },
		{ "[pin]\nmin_length = -6\n", "test.conf:2: [pin] min_length: "
		    "expected a whole number" },
		{ "[pin]\nmin_length = 8\nmax_length = 6\n", "test.conf:2: "
		    "[pin] min_length: 8 is more than max_length 6" },
		{ "[pin]\ndigits_only = maybe\n", "test.conf:2: [pin] "
		    "digits_only: expected 'yes' or 'no', got 'maybe'" },
		{ "[pin]\nrefuse = factory, easy\n", "test.conf:2: [pin] "
		    "refuse: expected factory, repeated or sequence, got "
		    "'easy'" },
		{ "[pin]\nrefuse_values = 12345\n", "test.conf:2: [pin] "
		    "refuse_values: each value is 6 to 8 printable characters" },
		{ "[pin]\nrefuse_values = 1234 5678\n", "test.conf:2: [pin] "
		    "refuse_values: each value is 6 to 8" },
		{ "[pin]\nrefuse_values = 111112,111113,111114,111115,111116,"
		    "111117,111118,111119,111120,111121,111122,111123,111124,"
		    "111125,111126,111127,111128\n", "test.conf:2: [pin] "
		    "refuse_values: at most 16 values" },
		{ "[fascn]\nagency_code = 12a4\n", "test.conf:2: [fascn] "
		    "agency_code: expected 4 digits, got '12a4'" },
		{ "[fascn]\nsystem_code = 123\n", "test.conf:2: [fascn] "
		    "system_code: expected 4 digits, got '123'" },
		{ "[fascn]\ncredential_series = 10\n", "test.conf:2: [fascn] "
		    "credential_series: expected a whole number from 0 to 9" },
		{ "[urls]\ncrl = https://pki.example.gov/x.crl\n", "test.conf:2: "
		    "[urls] crl: expected an http:// URL" },
		{ "[urls]\nocsp = http://a b/\n", "test.conf:2: [urls] ocsp: "
		    "expected an http:// URL" },
		{ "[policy]\nslot_9a = 2.16.840.01\n", "test.conf:2: [policy] "
		    "slot_9a: '2.16.840.01' is not a dotted OID" },
		{ "[policy]\nslot_9a = 3.1\n", "test.conf:2: [policy] "
		    "slot_9a: '3.1' is not a dotted OID" },
		{ "[policy]\nslot_9a = 1.2,,1.3\n", "test.conf:2: [policy] "
		    "slot_9a: empty item" },
		{ "[policy]\nslot_9c = 1.1, 1.2, 1.3, 1.4, 1.5\n", "test.conf:2: "
		    "[policy] slot_9c: at most 4 OIDs" },
		{ "[policy]\nset = prod\n", "test.conf:2: [policy] set: "
		    "expected 'test' or 'production', got 'prod'" },
		{ "[certificates]\nsubject = CN={nick}\n", "test.conf:2: "
		    "[certificates] subject: unknown placeholder '{nick}'" },
		{ "[certificates]\nsubject = CN={given_name\n", "test.conf:2: "
		    "[certificates] subject: '{' without a matching '}'" },
		{ "[certificates]\nsubject = XX=foo\n", "test.conf:2: "
		    "[certificates] subject: attribute type 'XX' is not one of" },
		{ "[certificates]\nsubject = O=Ab\xc0\xaf, CN=x\n", "test.conf:2: "
		    "[certificates] subject: the value of O is not UTF-8 at byte "
		    "3: an overlong encoding" },
		{ "[ca]\nname = O=Ab\xed\xa0\x80\n", "test.conf:2: [ca] name: "
		    "the value of O is not UTF-8 at byte 3: a UTF-16 surrogate" },
		{ "[certificates]\nsubject = O=A\xc2\x9b" "b, CN=x\n",
		    "test.conf:2: [certificates] subject: control character in "
		    "the value of O" },
		{ "[certificates]\nsubject = CN\n", "test.conf:2: "
		    "[certificates] subject: 'CN' is not TYPE=value" },
		{ "[certificates]\nsubject = C=USA, CN=x\n", "test.conf:2: "
		    "[certificates] subject: C must be a two-letter country" },
		{ "[certificates]\nsubject =\n", "test.conf:2: [certificates] "
		    "subject: may not be empty" },
		{ "[certificates]\npiv_interim = maybe\n", "test.conf:2: "
		    "[certificates] piv_interim: expected 'no', 'yes' or 'omit', "
		    "got 'maybe'" },
		{ "[certificates]\nrfc822 = 9e\n", "test.conf:2: [certificates] "
		    "rfc822: expected 9a, 9c or 9d, got '9e'" },
		{ "[certificates]\neku_9a = any\n", "test.conf:2: [certificates] "
		    "eku_9a: expected client_auth, smartcard_logon or pkinit, "
		    "got 'any'" },
		{ "[validity]\ncard = 7y\n", "test.conf:2: [validity] card: "
		    "expected 1y to 6y or 1d to 2192d, got '7y'" },
		{ "[validity]\ncard = 5\n", "test.conf:2: [validity] card: "
		    "expected" },
		{ "[validity]\ncertificate_days = 0\n", "test.conf:2: [validity] "
		    "certificate_days: expected a whole number from 1 to 1096" },
		{ "[ca]\npassphrase = stdin\n", "test.conf:2: [ca] passphrase: "
		    "expected prompt, env:NAME, file:PATH or fd:N, got 'stdin'" },
		{ "[ca]\npassphrase = env:1X\n", "test.conf:2: [ca] passphrase: "
		    "expected" },
		{ "[ca]\nname = C=US, O={organization}\n", "test.conf:2: [ca] "
		    "name: placeholders are not allowed here" },
		{ "[ca]\nissuing_days = 8000\n", "test.conf:2: [ca] issuing_days: "
		    "8000 outlives root_days 7300" },
		{ "[ca]\nroot_days = 100\n", "test.conf: [ca] issuing_days: "
		    "3650 outlives root_days 100" },
		{ "[card]\nissuer_id = ABCDEFGHIJKLMNOP\n", "test.conf:2: [card] "
		    "issuer_id: expected 1-15 printable ASCII characters" },
		{ "[card]\nfactory_chuid = keep\n", "test.conf:2: [card] "
		    "factory_chuid: expected 'overwrite' or 'refuse', got 'keep'" },
		{ "[attestation]\npolicy = warn\n", "test.conf:2: [attestation] "
		    "policy: expected 'record' or 'refuse', got 'warn'" },
		{ "[store]\nbusy_timeout_ms = 600001\n", "test.conf:2: [store] "
		    "busy_timeout_ms: expected a whole number from 0 to 600000" },
		{ "[derive]\ntargets = token, phone\n", "test.conf:2: [derive] "
		    "targets: expected token, p12, mobileconfig or csr, got "
		    "'phone'" },
		{ "[derive]\nsignature_targets = p12, csr\n", "test.conf:2: "
		    "[derive] signature_targets: csr cannot get a signature "
		    "key" },
		{ "[derive]\ncertificate_days = 1200\n", "test.conf:2: [derive] "
		    "certificate_days: expected a whole number from 1 to 1096" },
		{ "[derive]\nhistory_keys = 21\n", "test.conf:2: [derive] "
		    "history_keys: expected a whole number from 0 to 20" },
		{ "[derive]\nactivation_code_length = 5\n", "test.conf:2: "
		    "[derive] activation_code_length: expected a whole number "
		    "from 6 to 16" },
		{ "[derive]\nactivation_code_alphabet = emoji\n", "test.conf:2: "
		    "[derive] activation_code_alphabet: expected alphanumeric, "
		    "uppercase or digits, got 'emoji'" },
		{ "[derive]\nactivation_attempts = 11\n", "test.conf:2: "
		    "[derive] activation_attempts: expected a whole number from "
		    "1 to 10" },
		{ "[derive]\np12 = rc2\n", "test.conf:2: [derive] p12: expected "
		    "'modern' or 'legacy', got 'rc2'" },
		{ "[derive]\nauth_policy_software = 1.2.x\n", "test.conf:2: "
		    "[derive] auth_policy_software: '1.2.x' is not a dotted OID" },
		{ "[ca]\nocsp_algorithm = rsa1024\n", "test.conf:2: [ca] "
		    "ocsp_algorithm: expected rsa2048, rsa3072, rsa4096, eccp256 "
		    "or eccp384, got 'rsa1024'" },
		{ "[ca]\nocsp_days = 1096\n", "test.conf:2: [ca] ocsp_days: "
		    "expected a whole number from 1 to 1095" },
		{ "[ca]\nissuing_days = 100\ncontent_signer_days = 100\n"
		    "kra_days = 100\nocsp_days = 101\n", "test.conf:5: [ca] "
		    "ocsp_days: 101 outlives issuing_days 100" },
		{ "[serve]\nurl = http://a.example\n", "test.conf:2: [serve] url: "
		    "expected https://HOST or https://HOST:PORT (no path)" },
		{ "[serve]\nurl = https://a.example/a\n", "test.conf:2: [serve] "
		    "url: expected https://HOST" },
		{ "[serve]\nurl = https://a.example:0\n", "test.conf:2: [serve] "
		    "url: expected https://HOST" },
		{ "[serve]\nurl = https://[::1\n", "test.conf:2: [serve] "
		    "url: expected https://HOST" },
		{ "[serve]\nlisten = localhost:8443\n", "test.conf:2: [serve] "
		    "listen: expected ADDRESS:PORT (an IPv4 address, or an IPv6 "
		    "one in brackets, and a port 1-65535), got 'localhost:8443'" },
		{ "[serve]\nlisten = 0.0.0.0:65536\n", "test.conf:2: [serve] "
		    "listen: expected ADDRESS:PORT" },
		{ "[serve]\nlisten = ::1:443\n", "test.conf:2: [serve] "
		    "listen: expected ADDRESS:PORT" },
		{ "[serve]\nlisten =\n", "test.conf:2: [serve] listen: expected "
		    "ADDRESS:PORT (an IPv4 address, or an IPv6 one in brackets, "
		    "and a port 1-65535), got ''" },
		{ "[serve]\nlisten_http = 127.0.0.1:08080\n", "test.conf:2: "
		    "[serve] listen_http: expected ADDRESS:PORT (an IPv4 address, "
		    "or an IPv6 one in brackets, and a port 1-65535) or nothing" },
		{ "[serve]\ntls_certificate = /etc/x.pem\n", "test.conf:2: "
		    "[serve] tls_certificate and tls_key: give both or neither" },
		{ "[serve]\nthreads = 0\n", "test.conf:2: [serve] threads: "
		    "expected a whole number from 1 to 64" },
		{ "[serve]\nmax_body_kib = 2048\n", "test.conf:2: [serve] "
		    "max_body_kib: expected a whole number from 1 to 1024" },
		{ "[serve]\nocsp_validity_minutes = 0\n", "test.conf:2: [serve] "
		    "ocsp_validity_minutes: expected a whole number from 1" },
	};

	return cr_make_param_array(struct bad_conf, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_conf *bc, config, bad_files)
{
	struct pv_config c;
	struct pv_why why = { "" };

	cr_assert_eq(parse(bc->text, &c, &why), PV_E_CONFIG,
	    "accepted: %s", bc->text);
	cr_assert(strncmp(why.msg, bc->want, strlen(bc->want)) == 0,
	    "for %s\n got: %s\nwant: %s", bc->text, why.msg, bc->want);
}

Test(config, derive_section)
{
	struct pv_config c;
	struct pv_why why = { "" };

	cr_assert_eq(parse("", &c, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(c.derive_targets, CONFIG_DERIVE_ALL);
	cr_assert_eq(c.derive_sign_targets, CONFIG_DERIVE_TOKEN |
	    CONFIG_DERIVE_P12 | CONFIG_DERIVE_MOBILECONFIG);
	cr_assert_str_eq(c.derive_policy[CONFIG_DP_AUTH_HW].oid[0],
	    "2.16.840.1.101.3.2.1.48.110");
	cr_assert_str_eq(c.derive_policy[CONFIG_DP_AUTH_SW].oid[0],
	    "2.16.840.1.101.3.2.1.48.109");
	cr_assert_str_eq(c.derive_policy[CONFIG_DP_KM_SW].oid[0],
	    "2.16.840.1.101.3.2.1.48.8");
	cr_assert_eq(c.derive_recheck_days, 7);
	cr_assert_eq(c.derive_code_len, 8);
	cr_assert_eq(c.derive_p12, CONFIG_P12_MODERN);
	/* The production set gives the production OIDs; an override wins. */
	cr_assert_eq(parse("[policy]\nset = production\n[derive]\n"
	    "targets = p12, csr\nsignature_targets =\n"
	    "software_key_management_policies = 1.2.3.4, 2.16.840.1.101.3.2.1."
	    "3.6\np12 = legacy\nactivation_code_alphabet = digits\n", &c,
	    &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(c.derive_policy[CONFIG_DP_AUTH_HW].oid[0],
	    "2.16.840.1.101.3.2.1.3.41");
	cr_assert_str_eq(c.derive_policy[CONFIG_DP_SIGN_SW].oid[0],
	    "2.16.840.1.101.3.2.1.3.6");
	cr_assert_eq(c.derive_policy[CONFIG_DP_KM_SW].n, 2);
	cr_assert_str_eq(c.derive_policy[CONFIG_DP_KM_SW].oid[0], "1.2.3.4");
	cr_assert_eq(c.derive_targets, CONFIG_DERIVE_P12 | CONFIG_DERIVE_CSR);
	cr_assert_eq(c.derive_sign_targets, 0);
	cr_assert_eq(c.derive_p12, CONFIG_P12_LEGACY);
	cr_assert_eq(c.derive_code_alphabet, CONFIG_CODE_DIGITS);
	cr_assert_str_eq(config_derive_target_name(CONFIG_DERIVE_MOBILECONFIG),
	    "mobileconfig");
}

Test(config, serve_values)
{
	struct pv_config c;
	struct pv_why why = { "" };

	cr_assert_eq(parse("[serve]\nurl = https://[2001:db8::1]:8443\n"
	    "listen = [::]:443\nlisten_http =\nthreads = 2\n"
	    "tls_certificate = /etc/pivstation/tls.pem\n"
	    "tls_key = /etc/pivstation/tls.key\n", &c, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_str_eq(c.serve_url, "https://[2001:db8::1]:8443");
	cr_assert_str_eq(c.serve_listen, "[::]:443");
	cr_assert_str_eq(c.serve_listen_http, "");
	cr_assert_eq(c.serve_threads, 2);
	cr_assert_str_eq(c.serve_tls_key, "/etc/pivstation/tls.key");
	cr_assert_eq(parse("[serve]\nurl = https://pki.example.gov\n"
	    "listen = 192.0.2.1:8443\n", &c, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(c.serve_listen_http, "0.0.0.0:8080", "the default");
	cr_assert_eq(c.serve_max_body_kib, 64);
	cr_assert_eq(c.ca_ocsp_alg, CONFIG_ALG_ECCP256);
	cr_assert_eq(c.ca_ocsp_days, 90);
}

Test(config, long_line_and_nul_byte)
{
	struct pv_config c;
	struct pv_why why = { "" };
	char text[512];

	snprintf(text, sizeof(text), "[urls]\ncrl = http://%0250d/\n", 0);
	cr_assert_eq(parse(text, &c, &why), PV_E_CONFIG);
	cr_assert_str_eq(why.msg, "test.conf:2: line longer than 199 "
	    "characters");
	pv_why_clear(&why);
	cr_assert_eq(config_parse("[pin]\n\0min_length = 6\n", 21, "test.conf",
	    &c, &why), PV_E_CONFIG);
	cr_assert_str_eq(why.msg, "test.conf:2: NUL byte in the file");
}

Test(config, the_first_error_wins)
{
	struct pv_config c;
	struct pv_why why = { "" };

	cr_assert_eq(parse("[keys]\nbad line\n[pin]\nmin_length = 1\n", &c,
	    &why), PV_E_CONFIG);
	cr_assert(strncmp(why.msg, "test.conf:2:", 12) == 0, "%s", why.msg);
	cr_assert_eq(parse("[pin]\nmin_length = 1\n[keys]\nbad line\n", &c,
	    &why), PV_E_CONFIG);
	cr_assert(strncmp(why.msg, "test.conf:2: [pin]", 18) == 0, "%s",
	    why.msg);
}

Test(config, load_files)
{
	const char *d = fx_tmpdir();
	struct pv_config c;
	struct pv_why why = { "" };
	struct home h;
	FILE *f;

	cr_assert_eq(home_resolve(d, &h, NULL), PV_OK);
	cr_assert_eq(config_load_home(&h, &c, &why), PV_E_NOT_SET_UP);
	cr_assert(strstr(why.msg, "pivstation init") != NULL, "%s", why.msg);
	f = fopen(fx_path(d, HOME_CONFIG), "w");
	cr_assert_not_null(f);
	fputs("[escrow]\npolicy = optional\n", f);
	fclose(f);
	cr_assert_eq(config_load_home(&h, &c, NULL), PV_OK);
	cr_assert_eq(c.escrow_policy, CONFIG_ESCROW_OPTIONAL);
	f = fopen(fx_path(d, HOME_CONFIG), "w");
	fputs("[escrow]\npolicy = never\n", f);
	fclose(f);
	pv_why_clear(&why);
	cr_assert_eq(config_load_home(&h, &c, &why), PV_E_CONFIG);
	cr_assert(strstr(why.msg, "/pivstation.conf:2: [escrow] policy:") !=
	    NULL, "%s", why.msg);
	fx_rmtree(d);
}

Test(config, pin_rules)
{
	struct pv_config c;
	struct pv_why why = { "" };

	config_defaults(&c);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"135792", 6, NULL),
	    PV_OK);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"24681357", 8, NULL),
	    PV_OK);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"12345", 5, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg, "PIN: 5 characters, expected 6 to 8");
	cr_assert(strstr(why.msg, "12345") == NULL, "the PIN is not shown");
	pv_why_clear(&why);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"12a456", 6, &why),
	    PV_E_INPUT);
	cr_assert_str_eq(why.msg, "PIN: only digits are allowed");
	c.pin_digits_only = false;
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"12a456", 6, NULL),
	    PV_OK);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"12 456", 6, NULL),
	    PV_E_INPUT);
}

/*
 * Weak PINs: the factory PIN and PUK (as a PIN too), one character
 * repeated, rising or falling sequences; each rule can be turned off, and
 * refuse_values adds a site's own.  The message names the rule, never the
 * PIN.
 */
struct weak_pin {
	char pin[12];
	char rule[12];	/* "" = accepted with the defaults */
};

ParameterizedTestParameters(config, weak_pins)
{
	static struct weak_pin cases[] = {
		{ "123456", "factory" },
		{ "12345678", "factory" },
		{ "00000000", "repeated" },
		{ "111111", "repeated" },
		{ "9999999", "repeated" },
		{ "234567", "sequence" },
		{ "1234567", "sequence" },
		{ "01234567", "sequence" },
		{ "987654", "sequence" },
		{ "87654321", "sequence" },
		{ "890123", "" },	/* no wrap-around */
		{ "123457", "" },
		{ "112233", "" },
		{ "121212", "" },
		{ "24681357", "" },
		{ "654320", "" },
	};

	return cr_make_param_array(struct weak_pin, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct weak_pin *wp, config, weak_pins)
{
	struct pv_config c;
	struct pv_why why = { "" };
	size_t n = strlen(wp->pin);
	const uint8_t *pin = (const uint8_t *)wp->pin;
	char want[128];

	config_defaults(&c);
	if (wp->rule[0] == '\0') {
		cr_assert_eq(config_check_pin(&c, pin, n, &why), PV_OK, "%s: %s",
		    wp->pin, why.msg);
		cr_assert_null(config_pin_weakness(CONFIG_PIN_REFUSE_ALL, pin,
		    n));
		return;
	}
	cr_assert_eq(config_check_pin(&c, pin, n, &why), PV_E_INPUT,
	    "%s accepted", wp->pin);
	snprintf(want, sizeof(want), "([pin] refuse: %s)", wp->rule);
	cr_assert_not_null(strstr(why.msg, want), "%s: %s", wp->pin, why.msg);
	cr_assert_null(strstr(why.msg, wp->pin), "the message shows the PIN");
	cr_assert_str_eq(config_pin_weakness(CONFIG_PIN_REFUSE_ALL, pin, n),
	    wp->rule);
	/* Without the rules it is a PIN like any other. */
	c.pin_refuse = 0;
	cr_assert_eq(config_check_pin(&c, pin, n, NULL), PV_OK);
}

Test(config, weak_pin_settings)
{
	struct pv_config c;
	struct pv_why why = { "" };

	cr_assert_eq(parse("[pin]\nrefuse = repeated\nrefuse_values = 24682468,"
	    " 13571357\n", &c, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(c.pin_refuse, CONFIG_PIN_REFUSE_REPEATED);
	cr_assert_eq(c.n_pin_refuse_values, 2);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"123456", 6, NULL),
	    PV_OK, "factory values allowed when only 'repeated' is refused");
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"13571357", 8,
	    &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "PIN: one of the values [pin] refuse_values "
	    "lists");
	cr_assert_eq(parse("[pin]\nrefuse =\n", &c, &why), PV_OK);
	cr_assert_eq(c.pin_refuse, 0);
	cr_assert_eq(config_check_pin(&c, (const uint8_t *)"000000", 6, NULL),
	    PV_OK);
	/* The defaults refuse all three. */
	config_defaults(&c);
	cr_assert_eq(c.pin_refuse, CONFIG_PIN_REFUSE_ALL);
}

Test(config, expiry_dates)
{
	struct pv_config c;
	int64_t from = 1709164800;	/* 2024-02-29T00:00:00Z */
	int64_t card;

	config_defaults(&c);	/* 5 years, certificates 1095 days */
	card = config_card_expiry(&c, from);
	cr_assert_eq(card, 1867017600, "2029-03-01T00:00:00Z");
	cr_assert_eq(config_cert_not_after(&c, from, card),
	    from + 1095 * 86400);
	c.card_years = 0;
	c.card_days = 400;
	card = config_card_expiry(&c, from);
	cr_assert_eq(card, from + 400 * 86400);
	cr_assert_eq(config_cert_not_after(&c, from, card), card,
	    "a certificate never outlives the card");
}
