/*
 * wf_derive_pkg.c: the package step of a derive job (wf_derive_int.h):
 * the p12 target's keys, certificates, PKCS#12 and activation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "issuance/derive_pkg.h"
#include "issuance/escrow.h"
#include "issuance/pkix_util.h"
#include "issuance/wf_derive_int.h"

/* The key algorithm of a derived key: the primary's for that slot. */
static enum pkix_alg
wp_alg(const struct pv_config *c, enum config_slot s)
{
	switch (c->slot_alg[s]) {
	case CONFIG_ALG_RSA2048: return PKIX_ALG_RSA2048;
	case CONFIG_ALG_RSA3072: return PKIX_ALG_RSA3072;
	case CONFIG_ALG_ECCP384: return PKIX_ALG_P384;
	default: return PKIX_ALG_P256;
	}
}

/* A new key on the station and its derived certificate. */
static enum pv_err
wp_identity(struct wd *w, enum derive_cert_kind kind, EVP_PKEY **key,
    X509 **cert, struct pv_why *why)
{
	struct derive_cert_req q;
	enum pv_err r;

	*key = NULL;
	*cert = NULL;
	if ((r = escrow_keygen(wp_alg(w->p->cfg, kind == DERIVE_CERT_AUTH ?
	    CONFIG_SLOT_9A : CONFIG_SLOT_9C), key, why)) != PV_OK)
		return r;
	memset(&q, 0, sizeof(q));
	q.kind = kind;
	q.hardware = false;
	q.pub = *key;
	q.subject = X509_get_subject_name(w->pa);
	memcpy(q.uuid, w->drv.uuid, 16);
	q.email = w->person.ident.email;
	q.now = (time_t)w->now;
	return derive_cert_issue(w->p->ca, w->p->cfg, &q, cert, why);
}

/* Records |x| as the derived device's certificate in |slot|. */
static enum pv_err
wp_record(struct wd *w, X509 *x, uint8_t slot, char serial[
    STORE_CERT_SERIAL_MAX], struct pv_why *why)
{
	struct store_cert c;
	char hex[PKIX_SERIAL_HEX_LEN];
	size_t pem_len = 0, i;
	struct tm tm;
	enum pv_err r;

	memset(&c, 0, sizeof(c));
	pkix_serial_hex(x, hex);
	if (strlen(hex) >= sizeof(c.serial))
		return pv_why_set(why, PV_E_INTERNAL, "certificate serial %s is "
		    "too long for the store", hex);
	for (i = 0; hex[i] != '\0'; i++)
		c.serial[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ?
		    hex[i] - 'A' + 'a' : hex[i]);
	c.device_id = w->drv.device_id;
	c.slot = slot;
	c.status = STORE_CERT_ACTIVE;
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
		c.not_before = (int64_t)timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		c.not_after = (int64_t)timegm(&tm);
	if ((r = pkix_cert_to_pem(x, &c.pem, &pem_len, why)) == PV_OK &&
	    (r = pkix_spki_sha256(X509_get0_pubkey(x), c.spki_sha256, why)) ==
	    PV_OK)
		r = store_cert_add(w->st, &c, NULL, why);
	if (r == PV_OK)
		memcpy(serial, c.serial, STORE_CERT_SERIAL_MAX);
	OPENSSL_free(c.pem);
	return r;
}

enum pv_err
wd_step_package(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wd *w = state;
	const struct pv_config *cfg = w->p->cfg;
	struct derive_identity ids[2 + DERIVE_KM_MAX];
	EVP_PKEY *auth_key = NULL, *sign_key = NULL, *km_key[DERIVE_KM_MAX];
	X509 *auth = NULL, *sign = NULL;
	struct act_policy pol;
	struct act_new an;
	char km_names[DERIVE_KM_MAX][40], d[160];
	const char *base;
	uint8_t *p12 = NULL;
	size_t p12_len = 0, n_ids = 0, i;
	bool with_sign = (cfg->derive_sign_targets & CONFIG_DERIVE_P12) != 0;
	int64_t due = 0;
	enum pv_err r;

	memset(km_key, 0, sizeof(km_key));
	/* The escrowed keys first, each recovery audited on its own: the log
	 * keeps it even when this step fails later. */
	for (i = 0; i < w->n_km; i++)
		if ((r = wd_km_recover(w, &w->km[i], &km_key[i], why)) != PV_OK)
			goto out;
	if ((r = wp_identity(w, DERIVE_CERT_AUTH, &auth_key, &auth, why)) !=
	    PV_OK ||
	    (with_sign && (r = wp_identity(w, DERIVE_CERT_SIGN, &sign_key,
	    &sign, why)) != PV_OK))
		goto out;
	ids[n_ids++] = (struct derive_identity){ auth_key, auth,
	    "Derived PIV Authentication" };
	if (with_sign)
		ids[n_ids++] = (struct derive_identity){ sign_key, sign,
		    "Derived PIV Digital Signature" };
	for (i = 0; i < w->n_km; i++) {
		if (w->km[i].current)
			(void)snprintf(km_names[i], sizeof(km_names[i]),
			    "Key Management");
		else
			(void)snprintf(km_names[i], sizeof(km_names[i]),
			    "Retired Key Management %u",
			    (unsigned)(i % 100));
		ids[n_ids++] = (struct derive_identity){ km_key[i],
		    w->km[i].cert, km_names[i] };
	}
	act_policy_from_config(cfg, &pol);
	if ((r = act_code_new(&pol, &w->out->code, why)) != PV_OK ||
	    (r = derive_p12_build(ids, n_ids, ca_get0_chain(w->p->ca),
	    w->out->code.v, w->compat, &p12, &p12_len, why)) != PV_OK)
		goto out;

	if ((r = wf_tx_begin(run, why)) != PV_OK ||
	    (r = wp_record(w, auth, 0x9a, w->out->auth_serial, why)) != PV_OK ||
	    (with_sign && (r = wp_record(w, sign, 0x9c, w->out->sign_serial,
	    why)) != PV_OK))
		goto out;
	base = strrchr(w->p->out_path, '/');
	base = base != NULL ? base + 1 : w->p->out_path;
	memset(&an, 0, sizeof(an));
	an.derived_id = w->drv.id;
	an.kind = STORE_ACT_P12;
	an.payload_name = base;	/* handed over as a file: code only */
	(void)snprintf(d, sizeof(d), "{\"out\":\"file\",\"compat\":\"%s\"}",
	    w->compat == CONFIG_P12_LEGACY ? "legacy" : "modern");
	an.detail_json = d;
	if ((r = act_create(w->st, w->p->master, &pol, &an, &w->out->code,
	    &w->out->activation, why)) != PV_OK)
		goto out;
	w->out->has_activation = true;
	if ((r = store_device_set_status(w->st, w->drv.device_id,
	    STORE_DEV_ACTIVE, why)) != PV_OK)
		goto out;
	if (cfg->derive_recheck_days > 0) {
		due = w->now + (int64_t)cfg->derive_recheck_days * 86400;
		if ((r = store_derived_set_recheck(w->st, w->drv.id, 0, "", due,
		    "{\"scheduled\":true}", why)) != PV_OK)
			goto out;
	}
	w->out->recheck_due = due;
	/* Last: the file, then the job done in the same transaction. */
	if ((r = pkix_write_file(w->p->out_path, p12, p12_len, false, why)) !=
	    PV_OK)
		goto out;
	w->wrote_file = true;
	(void)snprintf(w->out->out_path, sizeof(w->out->out_path), "%s",
	    w->p->out_path);
	(void)snprintf(d, sizeof(d), "{\"derived\":%lld,\"device\":%lld,"
	    "\"km\":%zu}", (long long)w->drv.id, (long long)w->drv.device_id,
	    w->n_km);
	wf_done_detail(run, "{\"auth\":\"%s\",\"sign\":\"%s\",\"km\":%zu,"
	    "\"activation\":\"%s\"}", w->out->auth_serial,
	    w->out->sign_serial, w->n_km, w->out->activation.id);
	if ((r = wf_finish(run, d, why)) != PV_OK)
		goto out;
	wf_note(run, WF_STEP_DONE, "derived PIV Authentication certificate %s"
	    "%s%s, %zu key-management key%s copied; PKCS#12 (%s) written to %s; "
	    "device %lld active", w->out->auth_serial, with_sign ?
	    ", signature certificate " : "", w->out->sign_serial, w->n_km,
	    w->n_km == 1 ? "" : "s", w->compat == CONFIG_P12_LEGACY ?
	    "legacy" : "modern", w->p->out_path, (long long)w->drv.device_id);
out:
	if (r != PV_OK) {
		act_code_clear(&w->out->code);
		w->out->has_activation = false;
		w->out->auth_serial[0] = w->out->sign_serial[0] = '\0';
	}
	OPENSSL_clear_free(p12, p12_len);
	for (i = 0; i < DERIVE_KM_MAX; i++)
		EVP_PKEY_free(km_key[i]);
	EVP_PKEY_free(auth_key);
	EVP_PKEY_free(sign_key);
	X509_free(auth);
	X509_free(sign);
	return r;
}
