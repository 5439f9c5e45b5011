/*
 * fuzz_val_fetch.c: a whole validation (issuance/val.c) where everything
 * fetched is hostile: the input is the body of every HTTP answer, so it
 * is read as an OCSP response (the certificate names a responder), then
 * as the CRL at its distribution point and as a delta CRL.  The station CA
 * and the certificate are made once.  Whatever the bytes, the run ends
 * with a report and the certificate is not found good on garbage alone:
 * a body that is no signed answer never makes the revocation check pass.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "apdu/fascn.h"
#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/profile.h"
#include "issuance/val.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ca *fz_ca;
static X509 *fz_ee;
static time_t fz_now;
static const uint8_t *fz_data;
static size_t fz_size;

static enum pv_err
fz_body(size_t max, uint8_t **out, size_t *n, char *ctype, struct pv_why *why)
{
	if (ctype != NULL)
		strcpy(ctype, "application/ocsp-response");
	if (fz_size == 0)
		return pv_why_set(why, PV_E_IO, "empty answer");
	if (fz_size > max)
		return pv_why_set(why, PV_E_TOO_LONG, "too long");
	if ((*out = malloc(fz_size)) == NULL)
		return PV_E_NOMEM;
	memcpy(*out, fz_data, fz_size);
	*n = fz_size;
	return PV_OK;
}

static enum pv_err
fz_get(void *ctx, const char *url, size_t max, uint8_t **out, size_t *n,
    char *ctype, struct pv_why *why)
{
	(void)ctx;
	(void)url;
	return fz_body(max, out, n, ctype, why);
}

static enum pv_err
fz_post(void *ctx, const char *url, const char *ct, const uint8_t *body,
    size_t len, size_t max, uint8_t **out, size_t *n, char *ctype,
    struct pv_why *why)
{
	(void)ctx;
	(void)url;
	(void)ct;
	(void)body;
	(void)len;
	return fz_body(max, out, n, ctype, why);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ca_init_params p;
	struct pv_config pc;
	struct profile_cfg cfg;
	struct profile_subject subj;
	struct profile_card card;
	EVP_PKEY *k = NULL;
	struct fascn fa;

	(void)argc;
	(void)argv;
	fz_now = time(NULL);
	ca_init_params_defaults(&p);
	(void)pkix_dn_parse("C=US, O=Fuzz Agency", &p.name, NULL);
	p.crl_url = "http://crl.fuzz/ca.crl";
	if (ca_new(&p, fz_now - 60, &fz_ca, NULL, NULL, NULL) != PV_OK)
		abort();
	config_defaults(&pc);
	strcpy(pc.crl_url, "http://crl.fuzz/ca.crl");
	strcpy(pc.ocsp_url, "http://ocsp.fuzz/");
	strcpy(pc.ca_issuers_url, "http://aia.fuzz/ca.p7c");
	memset(&subj, 0, sizeof(subj));
	(void)pkix_dn_parse("C=US, CN=Fuzz Person", &subj.dn, NULL);
	memset(&card, 0, sizeof(card));
	if (fascn_from_string("S9999F0001F000001F0F1F0000012345100001E", &fa,
	    NULL) != PV_OK || fascn_encode(&fa, card.fascn, NULL) != PV_OK)
		abort();
	memset(card.uuid, 0x22, sizeof(card.uuid));
	card.expiry = fz_now + 86400 * 365;
	if (profile_cfg_from_config(&pc, &cfg, NULL) != PV_OK ||
	    pkix_keygen(PKIX_ALG_P256, &k, NULL) != PV_OK ||
	    profile_issue(fz_ca, k, 0x9a, &subj, &card, &cfg, fz_now - 60,
	    &fz_ee, NULL, NULL) != PV_OK)
		abort();
	EVP_PKEY_free(k);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct val_fetcher f = { fz_get, fz_post, NULL };
	struct val_opts o;
	struct val_params p;
	struct val_report *rep = malloc(sizeof(*rep));
	struct val_ctx *ctx = NULL;
	const struct val_check *c;

	if (rep == NULL)
		return 0;
	fz_data = data;
	fz_size = size;
	val_opts_defaults(&o);
	o.fetcher = &f;
	o.crl_max_bytes = 1u << 20;
	if (val_ctx_new(&o, &ctx, NULL) != PV_OK ||
	    val_ctx_add_anchor(ctx, ca_get0_root(fz_ca), NULL) != PV_OK ||
	    val_ctx_add_untrusted(ctx, ca_get0_issuing(fz_ca), NULL) != PV_OK)
		abort();
	val_params_defaults(&p);
	p.at = fz_now;
	p.ca_status_required = false;
	val_report_init(rep);
	if (val_cert(ctx, fz_ee, NULL, &p, rep, NULL) != PV_OK)
		abort();
	/* Garbage is never a signed "good": the CA's key is not in it. */
	if ((c = val_report_find(rep, "revocation")) != NULL &&
	    c->status == VAL_PASS)
		__builtin_trap();
	val_ctx_free(ctx);
	free(rep);
	ERR_clear_error();
	return 0;
}
