/*
 * test_val.c: the relying-party validator (issuance/val*.c) on an
 * in-memory station CA, through a scripted fetcher: URLs, times, the
 * report, CRLs (fetched, cached in memory and on disk, revoked, too
 * large, hard and soft failure), AIA issuers, OCSP (good, revoked, nonce
 * mismatch, unauthorised signer), policy; and the card checks
 * (val_card_check) on a CHUID and Security Object made by the CA.
 * PKITS (tests/integ/pkits.sh) covers RFC 5280 itself.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "apdu/text.h"
#include "apdu/buf.h"
#include "apdu/piv_obj.h"
#include "issuance/ca_publish.h"
#include "issuance/chuid.h"
#include "issuance/config.h"
#include "issuance/secobj.h"
#include "issuance/val.h"
#include "issuance/val_card.h"
#include "issuance/val_int.h"
#include "tests/unit/issuance/test_ca_support.h"

#define CRL_URL		"http://crl.test/ca.crl"
#define AIA_URL		"http://aia.test/ca.p7c"
#define OCSP_URL	"http://ocsp.test/"
/* The validation time: now (cached CRLs are judged by the wall clock). */
static time_t val_at;
#define AT		val_at

/* ---- URLs and times --------------------------------------------------------- */

/* Arrays, not pointers: Criterion hands parameters to another process. */
struct url_case {
	char url[48];
	bool ok;
	char host[24];
	unsigned port;
	char path[24];
};

ParameterizedTestParameters(val_url, parse)
{
	static struct url_case c[] = {
		{ "http://pki.example.gov/crl/a.crl", true, "pki.example.gov",
		    80, "/crl/a.crl" },
		{ "HTTP://x.test", true, "x.test", 80, "/" },
		{ "http://127.0.0.1:8480/a?b=c", true, "127.0.0.1", 8480,
		    "/a?b=c" },
		{ "http://[::1]:81/", true, "[::1]", 81, "/" },
		{ "http://a.b/%41", true, "a.b", 80, "/%41" },
		{ "https://x.test/", false, "", 0, "" },
		{ "ldap://x.test/cn=a", false, "", 0, "" },
		{ "http://", false, "", 0, "" },
		{ "http://user@x.test/", false, "", 0, "" },
		{ "http://x.test:0/", false, "", 0, "" },
		{ "http://x.test:65536/", false, "", 0, "" },
		{ "http://x.test:/", false, "", 0, "" },
		{ "http://x.test/a b", false, "", 0, "" },
		{ "http://x.test/a#frag", false, "", 0, "" },
		{ "http://x.test/%4", false, "", 0, "" },
		{ "http://-x.test/", false, "", 0, "" },
		{ "http://[::1/", false, "", 0, "" },
		{ "http://x.test\x01/", false, "", 0, "" },
	};

	return cr_make_param_array(struct url_case, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct url_case *c, val_url, parse)
{
	struct val_url u;
	struct pv_why why = { { 0 } };
	enum pv_err r = val_url_parse(c->url, &u, &why);

	cr_assert_eq(r == PV_OK, c->ok, "%s: %s", c->url, why.msg);
	if (!c->ok) {
		cr_assert(why.msg[0] != '\0');
		return;
	}
	cr_assert_str_eq(u.host, c->host);
	cr_assert_eq(u.port, c->port);
	cr_assert_str_eq(u.path, c->path);
}

Test(val_url, too_long_and_file_names)
{
	char big[VAL_URL_MAX + 16], out[256];
	struct val_url u;

	memset(big, 'a', sizeof(big));
	memcpy(big, "http://x/", 9);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(val_url_parse(big, &u, NULL), PV_E_INPUT);
	cr_assert_eq(val_url_file("http://h/crl/a-b_c.crl", out, sizeof(out),
	    NULL), PV_OK);
	cr_assert_str_eq(out, "crl/a-b_c.crl");
	cr_assert_eq(val_url_file("http://h/../etc/passwd", out, sizeof(out),
	    NULL), PV_E_INPUT);
	cr_assert_eq(val_url_file("http://h/a//b", out, sizeof(out), NULL),
	    PV_E_INPUT);
	cr_assert_eq(val_url_file("http://h/a?x=1", out, sizeof(out), NULL),
	    PV_E_INPUT);
	cr_assert_eq(val_url_file("http://h/", out, sizeof(out), NULL),
	    PV_E_INPUT);
	cr_assert_eq(val_url_file("http://h/a/./b", out, sizeof(out), NULL),
	    PV_E_INPUT);
}

Test(val_time, parse_and_print)
{
	time_t t;
	char s[32];

	cr_assert_eq(val_time_parse("2011-04-15T00:00:00Z", &t, NULL), PV_OK);
	cr_assert_eq(t, 1302825600);
	cr_assert_eq(val_time_parse("2011-04-15T10:20Z", &t, NULL), PV_OK);
	cr_assert_eq(t, 1302825600 + 10 * 3600 + 20 * 60);
	cr_assert_eq(val_time_parse("2011-04-15", &t, NULL), PV_OK);
	cr_assert_eq(t, 1302825600);
	cr_assert_eq(val_time_parse("@1302825600", &t, NULL), PV_OK);
	cr_assert_eq(t, 1302825600);
	text_utc(t, s);
	cr_assert_str_eq(s, "2011-04-15T00:00:00Z");
	cr_assert_eq(val_time_parse("2011-02-30", &t, NULL), PV_E_INPUT);
	cr_assert_eq(val_time_parse("2011-04-15T00:00:00", &t, NULL),
	    PV_E_INPUT);
	cr_assert_eq(val_time_parse("2011-04-15T25:00Z", &t, NULL), PV_E_INPUT);
	cr_assert_eq(val_time_parse("11-04-15", &t, NULL), PV_E_INPUT);
	cr_assert_eq(val_time_parse("@", &t, NULL), PV_E_INPUT);
	cr_assert_eq(val_time_parse("@12x", &t, NULL), PV_E_INPUT);
}

Test(val_report, add_find_truncate)
{
	struct val_report *r = malloc(sizeof(*r));
	size_t i;

	cr_assert_not_null(r);
	val_report_init(r);
	cr_assert(r->valid);
	val_report_add(r, "a", "A", VAL_PASS, "x %d", 1);
	val_report_add(r, "b", "B", VAL_WARN, "soft");
	cr_assert(r->valid && r->soft_failed);
	cr_assert_str_eq(val_report_find(r, "a")->text, "x 1");
	cr_assert_null(val_report_find(r, "c"));
	val_report_add(r, "c", "C", VAL_SKIP, "not run");
	cr_assert(r->valid);
	for (i = 0; i < VAL_CHECKS_MAX + 3; i++)
		val_report_add(r, "n", "N", VAL_PASS, "%zu", i);
	cr_assert(r->truncated && !r->valid);
	cr_assert_eq(r->n, VAL_CHECKS_MAX);
	cr_assert_str_eq(r->check[VAL_CHECKS_MAX - 1].id, "report.truncated");
	cr_assert_str_eq(val_reason_name(1), "keyCompromise");
	cr_assert_str_eq(val_reason_name(-1), "unspecified");
	cr_assert_str_eq(val_reason_name(99), "unknown");
	free(r);
}

Test(val_config, keys_and_errors)
{
	struct pv_config c;
	struct pv_why why = { { 0 } };
	const char *t = "[trust]\nanchors = /etc/a.pem, roots\n"
	    "[validation]\nauth_policies = 2.16.840.1.101.3.2.1.3.13\n"
	    "expiry_margin_days = 30\ninhibit_any_policy = no\n"
	    "[revocation]\nmode = both\nfailure = soft\n"
	    "ca_certificates = required\nocsp_nonce = required\n"
	    "crl_max_kib = 64\ncache_dir = /var/cache/pv\n";

	cr_assert_eq(config_parse(t, strlen(t), "t.conf", &c, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(c.trust_anchors.n, 2);
	cr_assert_str_eq(c.trust_anchors.path[1], "roots");
	cr_assert_eq(c.val_auth_policies.n, 1);
	cr_assert_eq(c.val_expiry_margin_days, 30);
	cr_assert(!c.val_inhibit_any);
	cr_assert_eq(c.rev_mode, CONFIG_REV_BOTH);
	cr_assert(c.rev_soft_fail && c.rev_ca_required && c.rev_nonce_required);
	cr_assert_eq(c.rev_crl_max_kib, 64);
	cr_assert_str_eq(c.rev_cache_dir, "/var/cache/pv");
	t = "[revocation]\nmode = ocsp-only\n";
	cr_assert_eq(config_parse(t, strlen(t), "t.conf", &c, &why),
	    PV_E_CONFIG);
	pv_why_clear(&why);
	t = "[revocation]\nfailure = maybe\n";
	cr_assert_eq(config_parse(t, strlen(t), "t.conf", &c, &why),
	    PV_E_CONFIG);
	cr_assert(strstr(why.msg, "t.conf:2: [revocation] failure") != NULL,
	    "%s", why.msg);
	pv_why_clear(&why);
	t = "[validation]\nauth_policies = 1.2.x\n";
	cr_assert_eq(config_parse(t, strlen(t), "t.conf", &c, &why),
	    PV_E_CONFIG);
}

/* ---- a station CA and a scripted fetcher ------------------------------------- */

#define MOCK_MAX 8

struct mock {
	struct {
		const char *url;
		uint8_t *body;
		size_t len;
		enum pv_err err;
	} e[MOCK_MAX];
	size_t n;
	unsigned gets, posts;
	/* OCSP answers */
	struct ca *ca;
	int ocsp_status;		/* V_OCSP_CERTSTATUS_* */
	bool bad_nonce;
	EVP_PKEY *ocsp_key;		/* signer; NULL: the issuing CA */
	X509 *ocsp_cert;
};

static enum pv_err
mock_get(void *ctx, const char *url, size_t max, uint8_t **out, size_t *n,
    char *ctype, struct pv_why *why)
{
	struct mock *m = ctx;
	size_t i;

	m->gets++;
	if (ctype != NULL)
		ctype[0] = '\0';
	for (i = 0; i < m->n; i++) {
		if (strcmp(m->e[i].url, url) != 0)
			continue;
		if (m->e[i].err != PV_OK)
			return pv_why_set(why, m->e[i].err, "%s: scripted "
			    "failure", url);
		if (m->e[i].len > max)
			return pv_why_set(why, PV_E_TOO_LONG, "%s: too long", url);
		*out = malloc(m->e[i].len);
		memcpy(*out, m->e[i].body, m->e[i].len);
		*n = m->e[i].len;
		return PV_OK;
	}
	return pv_why_set(why, PV_E_IO, "%s: HTTP status 404", url);
}

static enum pv_err
mock_post(void *ctx, const char *url, const char *ct, const uint8_t *body,
    size_t len, size_t max, uint8_t **out, size_t *n, char *ctype,
    struct pv_why *why)
{
	struct mock *m = ctx;
	const unsigned char *d = body;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &d, (long)len);
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_RESPONSE *resp;
	ASN1_TIME *tu = ASN1_TIME_set(NULL, AT - 60);
	ASN1_TIME *nu = ASN1_TIME_set(NULL, AT + 3600);
	ASN1_TIME *rv = ASN1_TIME_set(NULL, AT - 7200);
	OCSP_CERTID *id;
	unsigned char *der = NULL;
	int dl;

	(void)url;
	(void)max;
	m->posts++;
	cr_assert_str_eq(ct, "application/ocsp-request");
	cr_assert_not_null(req);
	id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
	cr_assert_not_null(OCSP_basic_add1_status(bs, id, m->ocsp_status,
	    OCSP_REVOKED_STATUS_KEYCOMPROMISE, m->ocsp_status ==
	    V_OCSP_CERTSTATUS_REVOKED ? rv : NULL, tu, nu));
	if (m->bad_nonce) {
		unsigned char other[16] = "0123456789abcde";

		cr_assert(OCSP_basic_add1_nonce(bs, other, 16));
	}
	else
		cr_assert(OCSP_copy_nonce(bs, req) == 1);
	cr_assert(OCSP_basic_sign(bs, m->ocsp_cert != NULL ? m->ocsp_cert :
	    ca_get0_issuing(m->ca), m->ocsp_key != NULL ? m->ocsp_key :
	    ca_get0_issuing_key(m->ca), EVP_sha256(), NULL, 0));
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	dl = i2d_OCSP_RESPONSE(resp, &der);
	*out = malloc((size_t)dl);
	memcpy(*out, der, (size_t)dl);
	*n = (size_t)dl;
	strcpy(ctype, "application/ocsp-response");
	OPENSSL_free(der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(rv);
	(void)why;
	return PV_OK;
}

struct fix {
	struct ca *ca;
	X509 *ee;
	EVP_PKEY *ee_key;
	struct mock m;
	struct val_fetcher f;
	struct val_ctx *ctx;
	struct val_params p;
	struct val_report *rep;
	char *dir;
};

static void
mock_add(struct mock *m, const char *url, uint8_t *body, size_t len,
    enum pv_err err)
{
	cr_assert_lt(m->n, MOCK_MAX);
	m->e[m->n].url = url;
	m->e[m->n].body = body;
	m->e[m->n].len = len;
	m->e[m->n].err = err;
	m->n++;
}

/* A CRL of the issuing CA listing |serials| (NULL: none). */
static void
fix_crl(struct fix *x, X509 *revoked, uint8_t **der, size_t *len)
{
	struct ca_revoked rv;
	struct pv_why why = { { 0 } };
	BIGNUM *bn;
	int n;

	memset(&rv, 0, sizeof(rv));
	if (revoked != NULL) {
		bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(revoked), NULL);
		n = BN_num_bytes(bn);
		cr_assert(n > 0 && n <= 20);
		(void)BN_bn2bin(bn, rv.serial);
		BN_free(bn);
		rv.serial_len = (size_t)n;
		rv.revoked_at = AT - 3600;
		rv.reason = 1;
	}
	cr_assert_eq(ca_crl_make(x->ca, &rv, revoked != NULL ? 1 : 0, 7, AT - 60,
	    24 * 30, der, len, &why), PV_OK, "%s", why.msg);
}

static void
fix_setup(struct fix *x, bool with_ocsp, bool with_issuing)
{
	struct profile_cfg cfg;
	struct profile_subject subj;
	struct profile_card card;
	struct pv_config pc;
	struct val_opts o;
	struct pv_why why = { { 0 } };
	uint8_t *crl = NULL;
	size_t crl_len = 0;

	struct ca_init_params cp;

	memset(x, 0, sizeof(*x));
	val_at = time(NULL);
	ca_init_params_defaults(&cp);
	pkix_dn_parse("C=US, O=Test Agency, OU=PIV Station", &cp.name, NULL);
	cp.crl_url = CRL_URL;	/* the content signer's CRL DP */
	cr_assert_eq(ca_new(&cp, TCA_NOW, &x->ca, NULL, NULL, &why), PV_OK,
	    "%s", why.msg);
	x->m.ca = x->ca;
	x->m.ocsp_status = V_OCSP_CERTSTATUS_GOOD;
	config_defaults(&pc);
	strcpy(pc.crl_url, CRL_URL);
	strcpy(pc.ca_issuers_url, AIA_URL);
	strcpy(pc.ocsp_url, with_ocsp ? OCSP_URL : "");
	cr_assert_eq(profile_cfg_from_config(&pc, &cfg, &why), PV_OK, "%s",
	    why.msg);
	tca_subject(&subj);
	tca_card(&card);
	x->ee_key = tca_key(PKIX_ALG_P256);
	cr_assert_eq(profile_issue(x->ca, x->ee_key, 0x9a, &subj, &card, &cfg,
	    TCA_NOW, &x->ee, NULL, &why), PV_OK, "%s", why.msg);
	fix_crl(x, NULL, &crl, &crl_len);
	mock_add(&x->m, CRL_URL, crl, crl_len, PV_OK);
	x->f.get = mock_get;
	x->f.post = mock_post;
	x->f.ctx = &x->m;
	val_opts_defaults(&o);
	o.fetcher = &x->f;
	x->dir = tca_tmpdir();
	(void)snprintf(o.cache_dir, sizeof(o.cache_dir), "%s/cache", x->dir);
	cr_assert_eq(val_ctx_new(&o, &x->ctx, &why), PV_OK);
	cr_assert_eq(val_ctx_add_anchor(x->ctx, ca_get0_root(x->ca), &why),
	    PV_OK);
	if (with_issuing)
		cr_assert_eq(val_ctx_add_untrusted(x->ctx,
		    ca_get0_issuing(x->ca), &why), PV_OK);
	val_params_defaults(&x->p);
	x->p.at = AT;
	x->p.ca_status_required = false;
	strcpy(x->p.policies[0], "2.16.840.1.101.3.2.1.48.11");
	x->p.n_policies = 1;
	x->p.explicit_policy = x->p.inhibit_any = true;
	cr_assert_not_null(x->rep = malloc(sizeof(*x->rep)));
	val_report_init(x->rep);
}

static void
fix_done(struct fix *x)
{
	size_t i;

	val_ctx_free(x->ctx);
	for (i = 0; i < x->m.n; i++)
		OPENSSL_free(x->m.e[i].body);
	X509_free(x->ee);
	EVP_PKEY_free(x->ee_key);
	EVP_PKEY_free(x->m.ocsp_key);
	X509_free(x->m.ocsp_cert);
	ca_free(x->ca);
	free(x->rep);
	tca_rmtree(x->dir);
}

static const struct val_check *
must(const struct val_report *r, const char *id)
{
	const struct val_check *c = val_report_find(r, id);

	cr_assert_not_null(c, "no check %s", id);
	return c;
}

static void
run(struct fix *x)
{
	struct pv_why why = { { 0 } };

	val_report_init(x->rep);
	cr_assert_eq(val_cert(x->ctx, x->ee, NULL, &x->p, x->rep, &why), PV_OK,
	    "%s", why.msg);
}

/* ---- CRLs ---------------------------------------------------------------------- */

Test(val_crl, fetched_once_then_from_memory_and_disk)
{
	struct fix x;
	struct val_ctx *c2;
	struct val_opts o;

	fix_setup(&x, false, true);
	run(&x);
	cr_assert(x.rep->valid, "%s", must(x.rep, "revocation")->text);
	cr_assert_eq(must(x.rep, "path")->status, VAL_PASS);
	cr_assert_eq(must(x.rep, "policy")->status, VAL_PASS);
	cr_assert(strstr(must(x.rep, "revocation")->text, "good: not in CRL "
	    CRL_URL " (number 07") != NULL, "%s",
	    must(x.rep, "revocation")->text);
	cr_assert_str_eq(x.rep->policy_set, "2.16.840.1.101.3.2.1.48.11");
	cr_assert_eq(x.m.gets, 1);
	run(&x);
	cr_assert(x.rep->valid);
	cr_assert_eq(x.m.gets, 1, "the second validation fetched again");
	/* A new context with the same cache folder and no network. */
	val_opts_defaults(&o);
	(void)snprintf(o.cache_dir, sizeof(o.cache_dir), "%s/cache", x.dir);
	cr_assert_eq(val_ctx_new(&o, &c2, NULL), PV_OK);
	cr_assert_eq(val_ctx_add_anchor(c2, ca_get0_root(x.ca), NULL), PV_OK);
	cr_assert_eq(val_ctx_add_untrusted(c2, ca_get0_issuing(x.ca), NULL),
	    PV_OK);
	val_ctx_free(x.ctx);
	x.ctx = c2;
	run(&x);
	cr_assert(x.rep->valid, "from disk: %s", must(x.rep, "revocation")->text);
	fix_done(&x);
}

Test(val_crl, revoked_with_date_and_reason)
{
	struct fix x;

	fix_setup(&x, false, true);
	OPENSSL_free(x.m.e[0].body);
	fix_crl(&x, x.ee, &x.m.e[0].body, &x.m.e[0].len);
	run(&x);
	cr_assert(!x.rep->valid);
	cr_assert(x.rep->revoked);
	cr_assert_eq(x.rep->revoked_reason, 1);
	cr_assert_eq(x.rep->revoked_at, AT - 3600);
	cr_assert(strstr(must(x.rep, "revocation")->text, "REVOKED on ") !=
	    NULL);
	fix_done(&x);
}

Test(val_crl, too_large_hard_and_soft)
{
	struct fix x;

	fix_setup(&x, false, true);
	x.m.e[0].err = PV_E_TOO_LONG;
	run(&x);
	cr_assert(!x.rep->valid);
	cr_assert_eq(must(x.rep, "revocation")->status, VAL_FAIL);
	cr_assert(strstr(must(x.rep, "revocation")->text, "refused "
	    "(hard-fail)") != NULL, "%s", must(x.rep, "revocation")->text);
	x.p.soft_fail = true;
	run(&x);
	cr_assert(x.rep->valid && x.rep->soft_failed);
	cr_assert_eq(must(x.rep, "revocation")->status, VAL_WARN);
	fix_done(&x);
}

Test(val_crl, index_is_sorted_and_searched)
{
	struct fix x;
	struct ca_revoked *rv = calloc(3000, sizeof(*rv));
	struct val_crl *c;
	uint8_t *der = NULL;
	size_t len = 0, i;
	ASN1_INTEGER *s = ASN1_INTEGER_new();

	fix_setup(&x, false, true);
	cr_assert_not_null(rv);
	for (i = 0; i < 3000; i++) {
		/* out of order on purpose */
		size_t v = (i * 7919) % 3000 + 1;

		rv[i].serial[0] = (uint8_t)(v >> 8);
		rv[i].serial[1] = (uint8_t)v;
		rv[i].serial_len = 2;
		rv[i].revoked_at = TCA_NOW;
		rv[i].reason = (int)(v % 5);
	}
	cr_assert_eq(ca_crl_make(x.ca, rv, 3000, 1, TCA_NOW, 24, &der, &len,
	    NULL), PV_OK);
	cr_assert_eq(val_crl_new(der, len, "t", &c, NULL), PV_OK);
	cr_assert_eq(c->n_ent, 3000);
	for (i = 1; i < c->n_ent; i++)
		cr_assert(ASN1_INTEGER_cmp(c->ent[i - 1].serial,
		    c->ent[i].serial) <= 0);
	for (i = 0; i <= 3001; i += 37) {
		const struct val_crl_ent *e;

		ASN1_INTEGER_set(s, (long)i);
		e = val_crl_lookup(c, s, X509_get_subject_name(
		    ca_get0_issuing(x.ca)));
		cr_assert_eq(e != NULL, i >= 1 && i <= 3000, "serial %zu", i);
		if (e != NULL && i % 5 != 0)
			cr_assert_eq(e->reason, (int)(i % 5));
	}
	/* another issuer's certificate is not on this CRL */
	ASN1_INTEGER_set(s, 5);
	cr_assert_null(val_crl_lookup(c, s, X509_get_subject_name(
	    ca_get0_root(x.ca))));
	ASN1_INTEGER_free(s);
	val_crl_free(c);
	OPENSSL_free(der);
	free(rv);
	fix_done(&x);
}

/* ---- AIA ----------------------------------------------------------------------- */

Test(val_aia, issuer_fetched_from_p7c)
{
	struct fix x;
	STACK_OF(X509) *sk = sk_X509_new_null();
	uint8_t *p7c = NULL;
	size_t n = 0;

	fix_setup(&x, false, false);
	run(&x);
	cr_assert_eq(must(x.rep, "path")->status, VAL_FAIL,
	    "no issuer, no .p7c: the path must fail");
	sk_X509_push(sk, ca_get0_issuing(x.ca));
	cr_assert_eq(ca_certs_only(sk, &p7c, &n, NULL), PV_OK);
	sk_X509_free(sk);
	mock_add(&x.m, AIA_URL, p7c, n, PV_OK);
	val_ctx_free(x.ctx);
	{
		struct val_opts o;

		val_opts_defaults(&o);
		o.fetcher = &x.f;
		cr_assert_eq(val_ctx_new(&o, &x.ctx, NULL), PV_OK);
		cr_assert_eq(val_ctx_add_anchor(x.ctx, ca_get0_root(x.ca), NULL),
		    PV_OK);
	}
	run(&x);
	cr_assert(x.rep->valid, "%s", must(x.rep, "path")->text);
	cr_assert_eq(x.rep->chain_len, 3);
	fix_done(&x);
}

/* ---- policy --------------------------------------------------------------------- */

Test(val_policy, unacceptable_policy_fails_the_policy_check)
{
	struct fix x;

	fix_setup(&x, false, true);
	strcpy(x.p.policies[0], "2.16.840.1.101.3.2.1.3.13");
	run(&x);
	cr_assert(!x.rep->valid);
	cr_assert_eq(must(x.rep, "path")->status, VAL_PASS);
	cr_assert_eq(must(x.rep, "policy")->status, VAL_FAIL);
	x.p.explicit_policy = false;
	run(&x);
	cr_assert(x.rep->valid, "without explicit policy the path is valid");
	fix_done(&x);
}

/* ---- OCSP ------------------------------------------------------------------------ */

Test(val_ocsp, good_revoked_nonce_unauthorised)
{
	struct fix x;
	const struct val_check *c;

	fix_setup(&x, true, true);
	run(&x);
	c = must(x.rep, "revocation");
	cr_assert(x.rep->valid, "%s", c->text);
	cr_assert(strstr(c->text, "good: OCSP " OCSP_URL) != NULL, "%s",
	    c->text);
	cr_assert(strstr(c->text, "nonce echoed") != NULL);
	cr_assert_eq(x.m.posts, 1);
	cr_assert_eq(x.m.gets, 0, "OCSP answered: no CRL needed");

	x.m.ocsp_status = V_OCSP_CERTSTATUS_REVOKED;
	run(&x);
	cr_assert(!x.rep->valid && x.rep->revoked);
	cr_assert_eq(x.rep->revoked_reason, 1);
	cr_assert_eq(x.rep->revoked_at, AT - 7200);

	/* A replayed response: OCSP refused, the CRL decides (good). */
	x.m.ocsp_status = V_OCSP_CERTSTATUS_GOOD;
	x.m.bad_nonce = true;
	run(&x);
	c = must(x.rep, "revocation");
	cr_assert(strstr(c->text, "nonce mismatch") != NULL, "%s", c->text);
	cr_assert(x.rep->valid, "CRL fallback: %s", c->text);
	x.p.rev_mode = VAL_REV_BOTH;
	run(&x);
	cr_assert(!x.rep->valid, "both: OCSP must answer too");
	x.p.rev_mode = VAL_REV_OCSP_THEN_CRL;
	x.m.bad_nonce = false;

	/* Signed by a key the CA never certified for OCSP. */
	x.m.ocsp_key = tca_key(PKIX_ALG_P256);
	cr_assert_eq(pkix_cert_new(x.m.ocsp_key, X509_get_subject_name(
	    ca_get0_issuing(x.ca)), NULL, (const uint8_t *)"\x01", 1, TCA_NOW,
	    TCA_NOW + 86400 * 30, &x.m.ocsp_cert, NULL), PV_OK);
	cr_assert_eq(pkix_sign(x.m.ocsp_cert, x.m.ocsp_key, NULL), PV_OK);
	run(&x);
	c = must(x.rep, "revocation");
	cr_assert(strstr(c->text, "unauthorised response") != NULL ||
	    strstr(c->text, "signature does not verify") != NULL, "%s",
	    c->text);
	fix_done(&x);
}

/* ---- card checks ------------------------------------------------------------------ */

static void
card_objects(struct fix *x, struct val_card_objects *o, bool alter_fascn)
{
	struct piv_chuid ch;
	struct buf_out b, t;
	struct profile_card card;
	struct secobj_entry e;
	struct pv_why why = { { 0 } };
	uint8_t *sig = NULL, *so = NULL, *der = NULL;
	size_t sig_len = 0, so_len = 0;
	int dl;

	memset(o, 0, sizeof(*o));
	memset(&ch, 0, sizeof(ch));
	tca_card(&card);
	memcpy(ch.fascn, card.fascn, 25);
	if (alter_fascn)
		ch.fascn[24] ^= 0x01;
	memcpy(ch.guid, card.uuid, 16);
	strcpy(ch.expiry, "20301231");
	memset(&b, 0, sizeof(b));
	memset(&t, 0, sizeof(t));
	cr_assert(buf_out_alloc(&b, 512, 8192) && buf_out_alloc(&t, 512, 8192));
	cr_assert_eq(piv_chuid_build(&ch, &b, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(piv_chuid_tbs(b.p, b.len, &t, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(chuid_sign(ca_get0_signer(x->ca), ca_get0_signer_key(x->ca),
	    t.p, t.len, &sig, &sig_len, &why), PV_OK, "%s", why.msg);
	buf_cur_init(&ch.signature, sig, sig_len);
	buf_out_truncate(&b, 0);
	cr_assert_eq(piv_chuid_build(&ch, &b, &why), PV_OK, "%s", why.msg);
	cr_assert(buf_out_take(&b, &o->chuid.p, &o->chuid.n));
	memset(&e, 0, sizeof(e));
	e.dg = 1;
	e.container_id = SECOBJ_CID_CHUID;
	e.data = o->chuid.p;
	e.len = o->chuid.n;
	cr_assert_eq(secobj_build(ca_get0_signer(x->ca),
	    ca_get0_signer_key(x->ca), &e, 1, &so, &so_len, &why), PV_OK);
	o->secobj.p = malloc(so_len);
	memcpy(o->secobj.p, so, so_len);
	o->secobj.n = so_len;
	dl = i2d_X509(x->ee, &der);
	o->cert_9a.p = malloc((size_t)dl);
	memcpy(o->cert_9a.p, der, (size_t)dl);
	o->cert_9a.n = (size_t)dl;
	o->cert_9e.err = PV_E_NOT_FOUND;
	OPENSSL_free(der);
	OPENSSL_free(sig);
	OPENSSL_free(so);
	buf_out_cleanup(&b);
	buf_out_cleanup(&t);
}

Test(val_card, host_checks_pass_then_a_changed_fascn_fails)
{
	struct fix x;
	struct val_card_objects o;
	struct val_card_params cp;
	struct val_params sp;
	struct pv_why why = { { 0 } };
	size_t i;

	fix_setup(&x, false, true);
	sp = x.p;
	strcpy(sp.policies[0], "2.16.840.1.101.3.2.1.48.86");
	cp.auth = &x.p;
	cp.signer = &sp;
	cp.expiry_margin_days = 7;
	card_objects(&x, &o, false);
	cr_assert_eq(val_card_check(x.ctx, &o, &cp, x.rep, &why), PV_OK);
	for (i = 0; i < x.rep->n; i++)
		cr_assert_eq(x.rep->check[i].status, VAL_PASS, "%s: %s",
		    x.rep->check[i].id, x.rep->check[i].text);
	cr_assert_not_null(val_report_find(x.rep, "binding.fascn"));
	cr_assert_not_null(val_report_find(x.rep, "secobj"));
	val_card_objects_free(&o);

	card_objects(&x, &o, true);
	val_report_init(x.rep);
	cr_assert_eq(val_card_check(x.ctx, &o, &cp, x.rep, &why), PV_OK);
	cr_assert_eq(must(x.rep, "binding.fascn")->status, VAL_FAIL, "%s",
	    must(x.rep, "binding.fascn")->text);
	cr_assert_eq(must(x.rep, "binding.uuid")->status, VAL_PASS);
	cr_assert_eq(must(x.rep, "chuid.signature")->status, VAL_PASS,
	    "the CHUID was signed after the change");
	val_card_objects_free(&o);

	/* The certificate expiring within a 2000-day margin fails. */
	card_objects(&x, &o, false);
	cp.expiry_margin_days = 2000;
	val_report_init(x.rep);
	cr_assert_eq(val_card_check(x.ctx, &o, &cp, x.rep, &why), PV_OK);
	cr_assert_eq(must(x.rep, "cert.expiry")->status, VAL_FAIL);
	val_card_objects_free(&o);
	fix_done(&x);
}
