/*
 * bench_validate_host.c: host time of relying-party validation
 * (issuance/val.h, val_card.h), outside any card and network: the CRL is
 * served from memory by a scripted fetcher.  For each CA algorithm and a
 * CRL of 10 and of 100 000 entries:
 *
 *   cold   a fresh context: the CRL fetched, parsed, indexed and its
 *          signature verified, plus the path
 *   warm   the same context again (what a console does for the next card):
 *          path, policy and a CRL look-up; median and 90th percentile
 *   card   the host checks of a whole card, warm: CHUID signature, content
 *          signer path at signing time and its status, 9A path, policy and
 *          status, binding, Security Object
 *   lookup one serial looked up in the indexed CRL
 *
 * A benchmark, not a test: it never fails on time (only when a validation
 * does not come out valid).
 *
 *   usage: bench_validate_host [runs [p256|p384|rsa2048]]
 *          (default 200 runs, every algorithm)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "apdu/piv_obj.h"
#include "issuance/ca.h"
#include "issuance/chuid.h"
#include "issuance/config.h"
#include "issuance/profile.h"
#include "issuance/secobj.h"
#include "issuance/val.h"
#include "issuance/val_card.h"
#include "issuance/val_int.h"

#define CRL_URL "http://crl.bench/ca.crl"

static const uint8_t *crl_body;
static size_t crl_len;
static unsigned n_gets;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static enum pv_err
b_get(void *ctx, const char *url, size_t max, uint8_t **out, size_t *n,
    char *ctype, struct pv_why *why)
{
	(void)ctx;
	(void)ctype;
	n_gets++;
	if (strcmp(url, CRL_URL) != 0 || crl_len > max)
		return pv_why_set(why, PV_E_IO, "%s: not served", url);
	if ((*out = malloc(crl_len)) == NULL)
		return PV_E_NOMEM;
	memcpy(*out, crl_body, crl_len);
	*n = crl_len;
	return PV_OK;
}

static void
die(const char *what, const struct pv_why *why)
{
	fprintf(stderr, "bench: %s: %s\n", what, why != NULL ? why->msg : "");
	exit(1);
}

/* A card's objects: CHUID and Security Object signed by the CA, the 9A
 * certificate. */
static void
card_objects(struct ca *ca, X509 *ee, const struct profile_card *card,
    struct val_card_objects *o)
{
	struct piv_chuid ch;
	struct buf_out b, t;
	struct secobj_entry e;
	struct pv_why why = { { 0 } };
	uint8_t *sig = NULL, *so = NULL, *der = NULL;
	size_t sig_len = 0, so_len = 0;
	int dl;

	memset(o, 0, sizeof(*o));
	memset(&ch, 0, sizeof(ch));
	memset(&b, 0, sizeof(b));
	memset(&t, 0, sizeof(t));
	memcpy(ch.fascn, card->fascn, 25);
	memcpy(ch.guid, card->uuid, 16);
	strcpy(ch.expiry, "20391231");
	if (!buf_out_alloc(&b, 512, 8192) || !buf_out_alloc(&t, 512, 8192) ||
	    piv_chuid_build(&ch, &b, &why) != PV_OK ||
	    piv_chuid_tbs(b.p, b.len, &t, &why) != PV_OK ||
	    chuid_sign(ca_get0_signer(ca), ca_get0_signer_key(ca), t.p, t.len,
	    &sig, &sig_len, &why) != PV_OK)
		die("CHUID", &why);
	buf_cur_init(&ch.signature, sig, sig_len);
	buf_out_truncate(&b, 0);
	if (piv_chuid_build(&ch, &b, &why) != PV_OK ||
	    !buf_out_take(&b, &o->chuid.p, &o->chuid.n))
		die("CHUID", &why);
	memset(&e, 0, sizeof(e));
	e.dg = 1;
	e.container_id = SECOBJ_CID_CHUID;
	e.data = o->chuid.p;
	e.len = o->chuid.n;
	if (secobj_build(ca_get0_signer(ca), ca_get0_signer_key(ca), &e, 1, &so,
	    &so_len, &why) != PV_OK)
		die("Security Object", &why);
	o->secobj.p = malloc(so_len);
	memcpy(o->secobj.p, so, so_len);
	o->secobj.n = so_len;
	dl = i2d_X509(ee, &der);
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

static void
bench_one(enum pkix_alg alg, const char *alg_name, size_t n_revoked,
    unsigned runs)
{
	struct ca_init_params cp;
	struct pv_config pc;
	struct profile_cfg cfg;
	struct profile_subject subj;
	struct profile_card card;
	struct fascn fa;
	struct ca_revoked *rv;
	struct val_fetcher f = { b_get, NULL, NULL };
	struct val_opts o;
	struct val_params p, sp;
	struct val_card_params vcp;
	struct val_card_objects obj;
	struct val_report *rep = malloc(sizeof(*rep));
	struct val_ctx *ctx = NULL;
	struct val_crl *idx = NULL;
	struct pv_why why = { { 0 } };
	EVP_PKEY *k = NULL;
	X509 *ee = NULL;
	struct ca *ca = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0, i;
	double t0, cold, *w = calloc(runs, sizeof(double));
	double *cw = calloc(runs, sizeof(double)), t_lookup;
	time_t now = time(NULL);
	ASN1_INTEGER *s;

	if (rep == NULL || w == NULL || cw == NULL)
		die("memory", NULL);
	ca_init_params_defaults(&cp);
	(void)pkix_dn_parse("C=US, O=Bench Agency, OU=PIV Station", &cp.name,
	    NULL);
	cp.root_alg = cp.issuing_alg = cp.signer_alg = alg;
	cp.kra_alg = PKIX_ALG_P256;
	cp.crl_url = CRL_URL;
	if (ca_new(&cp, now - 3600, &ca, NULL, NULL, &why) != PV_OK)
		die("ca_new", &why);
	config_defaults(&pc);
	strcpy(pc.crl_url, CRL_URL);
	pc.ocsp_url[0] = pc.ca_issuers_url[0] = '\0';
	memset(&subj, 0, sizeof(subj));
	(void)pkix_dn_parse("C=US, O=Bench Agency, CN=Pat Bench", &subj.dn,
	    NULL);
	memset(&card, 0, sizeof(card));
	if (fascn_from_string("S9999F0001F000001F0F1F0000012345100001E", &fa,
	    NULL) != PV_OK || fascn_encode(&fa, card.fascn, NULL) != PV_OK)
		die("FASC-N", NULL);
	memset(card.uuid, 0x5a, 16);
	card.expiry = now + 86400L * 365 * 5;
	if (profile_cfg_from_config(&pc, &cfg, &why) != PV_OK ||
	    pkix_keygen(PKIX_ALG_P256, &k, &why) != PV_OK ||
	    profile_issue(ca, k, 0x9a, &subj, &card, &cfg, now - 3600, &ee, NULL,
	    &why) != PV_OK)
		die("certificate", &why);
	if ((rv = calloc(n_revoked ? n_revoked : 1, sizeof(*rv))) == NULL)
		die("memory", NULL);
	for (i = 0; i < n_revoked; i++) {
		(void)RAND_bytes(rv[i].serial, 16);
		rv[i].serial[0] = (uint8_t)(rv[i].serial[0] & 0x7f) | 0x01;
		rv[i].serial_len = 16;
		rv[i].revoked_at = now - 7200;
		rv[i].reason = (int)(i % 6);
	}
	if (ca_crl_make(ca, rv, n_revoked, 1, now - 600, 168, &der, &der_len,
	    &why) != PV_OK)
		die("CRL", &why);
	crl_body = der;
	crl_len = der_len;

	val_opts_defaults(&o);
	o.fetcher = &f;
	o.crl_max_bytes = 64u * 1024 * 1024;
	val_params_defaults(&p);
	p.at = now;
	p.rev_mode = VAL_REV_CRL_ONLY;
	p.ca_status_required = false;
	p.n_policies = 1;
	strcpy(p.policies[0], "2.16.840.1.101.3.2.1.48.11");
	p.explicit_policy = p.inhibit_any = true;
	sp = p;
	strcpy(sp.policies[0], "2.16.840.1.101.3.2.1.48.86");

	/* cold: everything from scratch */
	n_gets = 0;
	t0 = now_ms();
	if (val_ctx_new(&o, &ctx, &why) != PV_OK ||
	    val_ctx_add_anchor(ctx, ca_get0_root(ca), &why) != PV_OK ||
	    val_ctx_add_untrusted(ctx, ca_get0_issuing(ca), &why) != PV_OK)
		die("context", &why);
	val_report_init(rep);
	if (val_cert(ctx, ee, NULL, &p, rep, &why) != PV_OK || !rep->valid)
		die("cold validation", &why);
	cold = now_ms() - t0;

	/* warm */
	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		val_report_init(rep);
		if (val_cert(ctx, ee, NULL, &p, rep, &why) != PV_OK ||
		    !rep->valid)
			die("warm validation", &why);
		w[i] = now_ms() - t0;
	}
	if (n_gets != 1)
		die("the CRL was fetched more than once", NULL);
	card_objects(ca, ee, &card, &obj);
	vcp.auth = &p;
	vcp.signer = &sp;
	vcp.expiry_margin_days = 7;
	for (i = 0; i < runs; i++) {
		t0 = now_ms();
		val_report_init(rep);
		if (val_card_check(ctx, &obj, &vcp, rep, &why) != PV_OK ||
		    !rep->valid) {
			size_t j;

			for (j = 0; j < rep->n; j++)
				if (rep->check[j].status == VAL_FAIL)
					fprintf(stderr, "  %s: %s\n",
					    rep->check[j].id, rep->check[j].text);
			die("card host checks", &why);
		}
		cw[i] = now_ms() - t0;
	}

	/* look-ups in the index */
	if (val_crl_new(der, der_len, "bench", &idx, &why) != PV_OK)
		die("index", &why);
	s = ASN1_INTEGER_new();
	t0 = now_ms();
	for (i = 0; i < 100000; i++) {
		(void)ASN1_INTEGER_set(s, (long)i * 7919);
		(void)val_crl_lookup(idx, s, X509_get_subject_name(
		    ca_get0_issuing(ca)));
	}
	t_lookup = (now_ms() - t0) * 1e3 / 100000;	/* microseconds */

	qsort(w, runs, sizeof(double), cmp_d);
	qsort(cw, runs, sizeof(double), cmp_d);
	printf("CA %-8s CRL %6zu entries (%7zu bytes): cold %8.2f ms | warm "
	    "validation median %.3f ms, p90 %.3f ms | card host checks median "
	    "%.3f ms, p90 %.3f ms | look-up %.2f us\n", alg_name, n_revoked,
	    der_len, cold, w[runs / 2], w[runs * 9 / 10], cw[runs / 2],
	    cw[runs * 9 / 10], t_lookup);
	fflush(stdout);

	ASN1_INTEGER_free(s);
	val_crl_free(idx);
	val_card_objects_free(&obj);
	val_ctx_free(ctx);
	OPENSSL_free(der);
	free(rv);
	X509_free(ee);
	EVP_PKEY_free(k);
	ca_free(ca);
	free(rep);
	free(w);
	free(cw);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *key, *name;
		enum pkix_alg alg;
	} algs[] = {
		{ "p256", "P-256", PKIX_ALG_P256 },
		{ "p384", "P-384", PKIX_ALG_P384 },
		{ "rsa2048", "RSA-2048", PKIX_ALG_RSA2048 },
	};
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 200;
	size_t i;

	if (runs < 10)
		runs = 10;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (argc > 2 && strcmp(argv[2], algs[i].key) != 0)
			continue;
		bench_one(algs[i].alg, algs[i].name, 10, runs);
		bench_one(algs[i].alg, algs[i].name, 100000, runs);
	}
	return 0;
}
