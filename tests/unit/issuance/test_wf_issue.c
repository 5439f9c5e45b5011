/*
 * test_wf_issue.c: the pure helpers of primary issuance (issuance/
 * wf_issue.h): the derived PUK (checked against HKDF-SHA256 computed here
 * from its definition), the CHUID and Printed Information date forms, step
 * state names, and wf_issue_check's refusals made before any card.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "tests/unit/issuance/test_ca_support.h"

/* ---- PUK ------------------------------------------------------------------ */

static void
fill(uint8_t *p, size_t n, uint8_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i * 7);
}

/* HKDF-SHA256, empty salt, info = label || 00 || guid || salt: the PUK is
 * the first 8 bytes, big-endian, mod 10^8, as 8 digits. */
static void
puk_reference(const struct secret_master *m, const uint8_t guid[16],
    const uint8_t salt[16], char out[9])
{
	static const char label[] = "pivstation PUK v1";
	uint8_t info[sizeof(label) + 32], v[16];
	OSSL_PARAM params[4];
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	uint64_t x = 0;
	int i;

	memcpy(info, label, sizeof(label));	/* the NUL is the 00 */
	memcpy(info + sizeof(label), guid, 16);
	memcpy(info + sizeof(label) + 16, salt, 16);
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	cr_assert_not_null(kdf);
	ctx = EVP_KDF_CTX_new(kdf);
	cr_assert_not_null(ctx);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)m->v, sizeof(m->v));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info, sizeof(info));
	params[3] = OSSL_PARAM_construct_end();
	cr_assert_eq(EVP_KDF_derive(ctx, v, sizeof(v), params), 1);
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	for (i = 0; i < 8; i++)
		x = x << 8 | v[i];
	(void)snprintf(out, 9, "%08" PRIu64, x % 100000000u);
}

Test(wf_issue, puk_matches_its_definition)
{
	struct secret_master m;
	uint8_t guid[16], salt[16];
	char puk[9], want[9];
	int k;

	for (k = 0; k < 8; k++) {
		fill(m.v, sizeof(m.v), (uint8_t)(k * 31));
		fill(guid, 16, (uint8_t)(k + 1));
		fill(salt, 16, (uint8_t)(200 - k));
		cr_assert_eq(wf_puk_derive(&m, guid, salt, puk), PV_OK);
		puk_reference(&m, guid, salt, want);
		cr_assert_str_eq(puk, want, "case %d", k);
	}
}

Test(wf_issue, puk_deterministic_and_eight_digits)
{
	struct secret_master m;
	uint8_t guid[16], salt[16];
	char a[9], b[9];
	int i;

	fill(m.v, sizeof(m.v), 3);
	fill(guid, 16, 40);
	fill(salt, 16, 90);
	cr_assert_eq(wf_puk_derive(&m, guid, salt, a), PV_OK);
	cr_assert_eq(wf_puk_derive(&m, guid, salt, b), PV_OK);
	cr_assert_str_eq(a, b);
	cr_assert_eq(strlen(a), 8);
	for (i = 0; i < 8; i++)
		cr_assert(a[i] >= '0' && a[i] <= '9', "digit %d of the PUK", i);
}

/*
 * A derivation that comes out as a weak PIN is never the PUK: these inputs
 * (found by searching salts) derive 98765432 first; the PUK is the next,
 * counter-bumped derivation, the same every time.
 */
Test(wf_issue, puk_never_weak)
{
	struct secret_master m;
	uint8_t guid[16], salt[16] = { 0 };
	char raw[9], a[9], b[9];
	int i;

	memset(m.v, 0x42, sizeof(m.v));
	for (i = 0; i < 16; i++)
		guid[i] = (uint8_t)i;
	salt[13] = 0x65;
	salt[14] = 0xe0;
	salt[15] = 0x02;
	puk_reference(&m, guid, salt, raw);
	cr_assert_str_eq(raw, "98765432", "the inputs derive a weak value");
	cr_assert_eq(wf_puk_derive(&m, guid, salt, a), PV_OK);
	cr_assert_str_neq(a, raw);
	cr_assert_null(config_pin_weakness(CONFIG_PIN_REFUSE_ALL,
	    (const uint8_t *)a, 8), "%s is weak", a);
	cr_assert_eq(wf_puk_derive(&m, guid, salt, b), PV_OK);
	cr_assert_str_eq(a, b, "derived again the same way");
}

/* Another salt (a re-issue), another GUID (another card), another master
 * (another station): each gives another PUK. */
Test(wf_issue, puk_differs_per_salt_guid_and_master)
{
	struct secret_master m, m2;
	uint8_t guid[16], guid2[16], salt[16], salt2[16];
	char base[9], other[9];
	int k, same = 0;

	fill(m.v, sizeof(m.v), 3);
	fill(guid, 16, 40);
	fill(salt, 16, 90);
	cr_assert_eq(wf_puk_derive(&m, guid, salt, base), PV_OK);
	/* 64 salts differing in one bit each: 10^-8 chance per collision */
	for (k = 0; k < 64; k++) {
		memcpy(salt2, salt, 16);
		salt2[k / 8] ^= (uint8_t)(1u << (k % 8));
		cr_assert_eq(wf_puk_derive(&m, guid, salt2, other), PV_OK);
		same += strcmp(base, other) == 0;
	}
	cr_assert_eq(same, 0, "a PUK repeated across salts");
	memcpy(guid2, guid, 16);
	guid2[15] ^= 1;
	cr_assert_eq(wf_puk_derive(&m, guid2, salt, other), PV_OK);
	cr_assert_str_neq(base, other);
	memcpy(&m2, &m, sizeof(m));
	m2.v[0] ^= 0x80;
	cr_assert_eq(wf_puk_derive(&m2, guid, salt, other), PV_OK);
	cr_assert_str_neq(base, other);
}

/* ---- dates ---------------------------------------------------------------- */

struct datecase {
	int64_t t;
	char chuid[9];
	char printed[10];
};

ParameterizedTestParameters(wf_issue, dates)
{
	static const struct datecase cases[] = {
		{ 1, "19700101", "1970JAN01" },
		{ 946684800, "20000101", "2000JAN01" },
		{ 1835438400, "20280229", "2028FEB29" },	/* leap day */
		{ 1924991999, "20301231", "2030DEC31" },	/* 23:59:59 */
		{ 1924992000, "20310101", "2031JAN01" },
		{ 1930435200, "20310305", "2031MAR05" },
		{ 253402300799, "99991231", "9999DEC31" },	/* last day */
	};

	return cr_make_param_array(struct datecase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct datecase *c, wf_issue, dates)
{
	char chuid[9], printed[10];

	cr_assert(wf_chuid_date(c->t, chuid));
	cr_assert_str_eq(chuid, c->chuid);
	cr_assert(wf_printed_date(c->t, printed));
	cr_assert_str_eq(printed, c->printed);
}

Test(wf_issue, dates_out_of_range)
{
	char chuid[9], printed[10];

	cr_assert_not(wf_chuid_date(0, chuid));
	cr_assert_not(wf_chuid_date(-86400, chuid));
	cr_assert_not(wf_chuid_date(253402300800, chuid));	/* year 10000 */
	cr_assert_not(wf_printed_date(0, printed));
	cr_assert_not(wf_printed_date(253402300800, printed));
	cr_assert_not(wf_printed_date(INT64_MAX, printed));
}

Test(wf_issue, step_state_names)
{
	cr_assert_str_eq(wf_step_state_name(WF_STEP_DONE), "done");
	cr_assert_str_eq(wf_step_state_name(WF_STEP_DONE_BEFORE),
	    "done-before");
	cr_assert_str_eq(wf_step_state_name(WF_STEP_SKIPPED), "skipped");
	cr_assert_str_eq(wf_step_state_name(WF_STEP_FAILED), "failed");
	cr_assert_str_eq(wf_step_state_name(WF_STEP_REDO), "redo");
}

/* ---- wf_issue_check: refusals before any card ------------------------------ */

static const char ident_json[] =
    "{\"given_name\":\"Alice\",\"family_name\":\"Example\","
    "\"person_id\":\"0000012345\",\"affiliation\":\"Employee\","
    "\"email\":\"alice@example.gov\"}";

struct check_env {
	struct pv_config cfg;
	struct identity id;
	struct secret_master m;
	struct ca *ca;
	struct wf_issue_params p;
};

static void
check_env_init(struct check_env *e, const char *pin)
{
	struct pv_why why = { "" };

	memset(e, 0, sizeof(*e));
	config_defaults(&e->cfg);
	cr_assert_eq(identity_parse(ident_json, strlen(ident_json), "t.json",
	    &e->id, &why), PV_OK, "%s", why.msg);
	e->ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	cr_assert_not_null(e->ca);
	e->p.cfg = &e->cfg;
	e->p.ident = &e->id;
	e->p.ca = e->ca;
	e->p.master = &e->m;
	e->p.pin = (const uint8_t *)pin;
	e->p.pin_len = strlen(pin);
}

Test(wf_issue, check_accepts_defaults)
{
	struct check_env e;
	struct pv_why why = { "" };

	check_env_init(&e, "24681357");
	cr_assert_eq(wf_issue_check(&e.p, &why), PV_OK, "%s", why.msg);
	ca_free(e.ca);
}

struct pincase {
	char pin[16];
	char want[32];	/* in the message */
};

ParameterizedTestParameters(wf_issue, check_refuses_pin)
{
	static const struct pincase cases[] = {
		{ "12345", "PIN" },
		{ "123456789", "PIN" },
		{ "12ab5678", "PIN" },
		{ "", "PIN" },
		/* weak PINs, refused before any job starts */
		{ "123456", "refuse: factory" },
		{ "12345678", "refuse: factory" },
		{ "00000000", "refuse: repeated" },
		{ "76543210", "refuse: sequence" },
	};

	return cr_make_param_array(struct pincase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pincase *c, wf_issue, check_refuses_pin)
{
	struct check_env e;
	struct pv_why why = { "" };

	check_env_init(&e, c->pin);
	cr_assert_eq(wf_issue_check(&e.p, &why), PV_E_INPUT);
	cr_assert_not_null(strstr(why.msg, c->want), "%s", why.msg);
	cr_assert_null(strstr(why.msg, c->pin[0] ? c->pin : "\x01"),
	    "the message shows the PIN: %s", why.msg);
	ca_free(e.ca);
}

Test(wf_issue, check_refuses_rsa4096_on_card)
{
	struct check_env e;
	struct pv_why why = { "" };

	check_env_init(&e, "24681357");
	e.cfg.slot_alg[CONFIG_SLOT_9C] = CONFIG_ALG_RSA4096;
	cr_assert_neq(wf_issue_check(&e.p, &why), PV_OK);
	cr_assert_not_null(strstr(why.msg, "9c"), "%s", why.msg);
	ca_free(e.ca);
}
