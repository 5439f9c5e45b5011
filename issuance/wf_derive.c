/*
 * wf_derive.c: deriving a credential from a primary PIV card (derive.h):
 * the checks before any write, the validation of the primary, the person,
 * the key-management keys to copy, the register step and the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/text.h"
#include "issuance/audit.h"
#include "issuance/card_binding.h"
#include "issuance/derive_pkg.h"
#include "issuance/identity.h"
#include "issuance/job.h"
#include "issuance/pkix_util.h"
#include "issuance/recover.h"
#include "issuance/val_card.h"
#include "issuance/val_station.h"
#include "issuance/wf_derive_int.h"
#include "pcsc/pcsc.h"

#define WD_S_DEF(id, name, fn, writes) [WD_S_##id] = { name, fn, writes },
static const struct wf_step_def wf_derive_steps[WD_S__COUNT] = {
	WF_DERIVE_STEPS(WD_S_DEF)
};
#undef WD_S_DEF

const struct wf_def wf_derive_def = {
	DERIVE_JOB_KIND, wf_derive_steps, WD_S__COUNT
};

static unsigned
wd_target_bit(enum store_derived_target t)
{
	switch (t) {
	case STORE_DERIVED_TOKEN: return CONFIG_DERIVE_TOKEN;
	case STORE_DERIVED_P12: return CONFIG_DERIVE_P12;
	case STORE_DERIVED_MOBILECONFIG: return CONFIG_DERIVE_MOBILECONFIG;
	case STORE_DERIVED_CSR: return CONFIG_DERIVE_CSR;
	}
	return 0;
}

static bool
wd_is_package(const struct wd *w)
{
	return w->p->target == STORE_DERIVED_P12 ||
	    w->p->target == STORE_DERIVED_MOBILECONFIG;
}

void
wf_derive_result_clear(struct wf_derive_result *r)
{
	if (r != NULL)
		act_code_clear(&r->code);
}

/* ---- checks without a card ---------------------------------------------------------- */

enum pv_err
wf_derive_check(const struct wf_derive_params *p, struct pv_why *why)
{
	const struct pv_config *c = p->cfg;
	unsigned bit = wd_target_bit(p->target);
	struct stat sb;

	if (bit == 0)
		return pv_why_set(why, PV_E_INVAL, "unknown derive target");
	if (p->target != STORE_DERIVED_P12)
		return pv_why_set(why, PV_E_INPUT, "derive --to %s is not made "
		    "by this version of pivstation (p12 is)",
		    store_derived_target_name(p->target));
	if ((c->derive_targets & bit) == 0)
		return pv_why_set(why, PV_E_POLICY, "[derive] targets does not "
		    "allow %s", store_derived_target_name(p->target));
	if (!p->pin_pad && (p->pin == NULL || p->pin_len == 0))
		return pv_why_set(why, PV_E_INPUT, "the primary card's PIN is "
		    "needed for proof of possession");
	if (p->out_path == NULL || p->out_path[0] == '\0')
		return pv_why_set(why, PV_E_INPUT, "derive --to p12 needs the "
		    "output file (--out FILE)");
	if (strlen(p->out_path) >= DERIVE_PATH_MAX)
		return pv_why_set(why, PV_E_INPUT, "%s: path too long",
		    p->out_path);
	if (lstat(p->out_path, &sb) == 0)
		return pv_why_set(why, PV_E_EXISTS, "%s exists: derive does not "
		    "overwrite a file; name a new one", p->out_path);
	if (p->p12_compat != -1 && p->p12_compat != CONFIG_P12_MODERN &&
	    p->p12_compat != CONFIG_P12_LEGACY)
		return pv_why_set(why, PV_E_INVAL, "unknown PKCS#12 form");
	/* Last: a front end checks the rest before opening the CA. */
	if (p->ca == NULL || ca_get0_issuing_key(p->ca) == NULL)
		return pv_why_set(why, PV_E_STATE, "the CA must be opened with "
		    "its passphrase (the issuing CA's key)");
	return PV_OK;
}

/* ---- the primary card, as validated ---------------------------------------------------- */

/* Takes the 9A certificate and the CHUID identifiers from what was read. */
static enum pv_err
wd_primary_facts(struct wd *w, const struct val_card_objects *o,
    struct pv_why *why)
{
	struct card_binding b;
	const unsigned char *d;
	char hex[PKIX_SERIAL_HEX_LEN];
	size_t i;

	if (o->cert_9a.err != PV_OK || o->cert_9a.p == NULL)
		return pv_why_set(why, PV_E_STATE, "the primary's 9A "
		    "certificate was not read");
	d = o->cert_9a.p;
	if ((w->pa = d2i_X509(NULL, &d, (long)o->cert_9a.n)) == NULL) {
		ERR_clear_error();
		return pv_why_set(why, PV_E_MALFORMED, "the primary's 9A "
		    "certificate does not decode");
	}
	pkix_serial_hex(w->pa, hex);
	if (strlen(hex) >= sizeof(w->pa_serial))
		return pv_why_set(why, PV_E_INPUT, "the primary's 9A "
		    "certificate serial is longer than 20 bytes");
	for (i = 0; hex[i] != '\0'; i++)
		w->pa_serial[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ?
		    hex[i] - 'A' + 'a' : hex[i]);
	w->pa_serial[i] = '\0';
	pkix_name_str(X509_get_issuer_name(w->pa), w->pa_issuer,
	    sizeof(w->pa_issuer));
	memset(&b, 0, sizeof(b));
	card_binding_chuid(o->chuid.err == PV_OK ? o->chuid.p : NULL,
	    o->chuid.err == PV_OK ? o->chuid.n : 0, &b, NULL);
	if (!b.chuid_parsed)
		return pv_why_set(why, PV_E_STATE, "the primary's CHUID was not "
		    "read");
	memcpy(w->fascn, b.fascn, FASCN_LEN);
	memcpy(w->guid, b.guid, 16);
	return PV_OK;
}

/* The store's device for the card (GUID, else FASC-N) and its person. */
static enum pv_err
wd_find_primary(struct wd *w, struct pv_why *why)
{
	struct store_device *d = &w->prim;
	char pi[IDENTITY_PERSON_ID_LEN + 1];
	struct fascn f;
	enum pv_err r;

	r = store_device_find_guid(w->st, w->guid, d, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = store_device_find_fascn(w->st, w->fascn, d, why);
	}
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		memset(d, 0, sizeof(*d));
		/* Issued elsewhere: maybe a person we know by the FASC-N's
		 * person identifier. */
		if (fascn_decode(w->fascn, FASCN_LEN, &f, NULL) != PV_OK)
			return pv_why_set(why, PV_E_INPUT, "the primary card's "
			    "FASC-N does not decode: no person identifier");
		(void)snprintf(pi, sizeof(pi), "%s", f.pi);
		r = store_person_find_external(w->st, pi, &w->person, why);
		if (r == PV_E_NO_RECORD) {
			pv_why_clear(why);
			memset(&w->person, 0, sizeof(w->person));
			return PV_OK;
		}
		return r;
	}
	if (r != PV_OK)
		return r;
	if (d->type == STORE_DEV_MOBILE)
		return pv_why_set(why, PV_E_STATE, "device %lld is a derived "
		    "credential, not a primary card", (long long)d->id);
	switch (d->status) {
	case STORE_DEV_ACTIVE:
		break;
	case STORE_DEV_SUSPENDED:
		return pv_why_set(why, PV_E_STATE, "the primary card (device "
		    "%lld) is suspended in the store: resume it first",
		    (long long)d->id);
	case STORE_DEV_TERMINATED:
		return pv_why_set(why, PV_E_STATE, "the primary card (device "
		    "%lld) was terminated: no credential can be derived from it",
		    (long long)d->id);
	case STORE_DEV_ISSUING:
		return pv_why_set(why, PV_E_STATE, "the primary card (device "
		    "%lld) is still being issued: finish its issue job first",
		    (long long)d->id);
	}
	return store_person_get(w->st, d->person_id, &w->person, why);
}

/* A person for a card issued elsewhere, from its 9A certificate. */
static enum pv_err
wd_person_from_card(struct wd *w, struct identity *id, struct pv_why *why)
{
	X509_NAME *n = X509_get_subject_name(w->pa);
	char cn[IDENTITY_NAME_MAX * 3 + 1] = "", o[IDENTITY_ORG_MAX * 2] = "";
	char *tok[16], *save = NULL, *t, *json = NULL;
	struct fascn f;
	size_t nt = 0, i;
	enum pv_err r;

	memset(id, 0, sizeof(*id));
	if (fascn_decode(w->fascn, FASCN_LEN, &f, NULL) != PV_OK)
		return pv_why_set(why, PV_E_INPUT, "the card's FASC-N does not "
		    "decode: no person identifier to register it under");
	(void)X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof(cn));
	(void)X509_NAME_get_text_by_NID(n, NID_organizationName, o, sizeof(o));
	for (t = strtok_r(cn, " ", &save); t != NULL && nt < 16;
	    t = strtok_r(NULL, " ", &save))
		tok[nt++] = t;
	if (nt == 0)
		return pv_why_set(why, PV_E_INPUT, "the card's 9A certificate "
		    "has no common name to register the person under");
	(void)snprintf(id->given_name, sizeof(id->given_name), "%s", tok[0]);
	(void)snprintf(id->family_name, sizeof(id->family_name), "%s",
	    tok[nt - 1]);
	for (i = 1; i + 1 < nt; i++) {
		size_t l = strlen(id->middle_name);

		(void)snprintf(id->middle_name + l, sizeof(id->middle_name) - l,
		    "%s%s", l ? " " : "", tok[i]);
	}
	(void)snprintf(id->person_id, sizeof(id->person_id), "%s", f.pi);
	(void)snprintf(id->affiliation, sizeof(id->affiliation), "External");
	if (strlen(o) < sizeof(id->organization))
		memcpy(id->organization, o, strlen(o) + 1);
	/* Every field as strictly as an identity file's. */
	if ((json = identity_to_json(id)) == NULL)
		return PV_E_NOMEM;
	r = identity_parse(json, strlen(json), "the card's 9A certificate", id,
	    why);
	free(json);
	return r;
}

/* ---- key-management keys --------------------------------------------------------------- */

static void
wd_km_clear(struct wd *w)
{
	size_t i;

	for (i = 0; i < w->n_km; i++) {
		X509_free(w->km[i].cert);
		free(w->km[i].cms);
	}
	memset(w->km, 0, sizeof(w->km));
	w->n_km = 0;
}

static enum pv_err
wd_km_add(struct wd *w, const struct store_escrow *e, bool current,
    struct pv_why *why)
{
	struct store_cert c;
	STACK_OF(X509) *sk = NULL;
	struct wd_km *k;
	enum pv_err r;

	memset(&c, 0, sizeof(c));
	r = store_cert_find_spki(w->st, e->device_id, 0x9d, e->fingerprint, &c,
	    why);
	if (r == PV_E_NO_RECORD && !current) {
		pv_why_clear(why);	/* a retired key without a certificate */
		return PV_OK;
	}
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_STATE, "the escrowed key-management key "
		    "(escrow %lld) has no certificate in the store",
		    (long long)e->id);
	}
	if (r != PV_OK)
		goto out;
	if (c.status == STORE_CERT_REVOKED &&
	    (current || c.reason == STORE_REASON_KEY_COMPROMISE)) {
		if (current)
			r = pv_why_set(why, PV_E_STATE, "the current key-"
			    "management certificate %s is revoked", c.serial);
		goto out;	/* a compromised retired key is not copied */
	}
	if ((r = pkix_certs_from_bytes((const uint8_t *)c.pem, strlen(c.pem),
	    &sk, why)) != PV_OK)
		goto out;
	if (w->n_km >= DERIVE_KM_MAX) {
		r = PV_OK;
		goto out;
	}
	k = &w->km[w->n_km];
	memset(k, 0, sizeof(*k));
	if ((k->cms = malloc(e->cms_len)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	memcpy(k->cms, e->cms, e->cms_len);
	k->cms_len = e->cms_len;
	k->cert = sk_X509_shift(sk);
	k->escrow_id = e->id;
	k->device_id = e->device_id;
	k->current = current;
	memcpy(k->serial, c.serial, sizeof(k->serial));
	w->n_km++;
	r = PV_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	store_cert_cleanup(&c);
	return r;
}

static enum pv_err
wd_km_plan(struct wd *w, struct pv_why *why)
{
	const struct pv_config *c = w->p->cfg;
	struct store_escrow *list = NULL;
	struct store_device d;
	size_t n = 0, i, cur = (size_t)-1, hist = 0;
	enum pv_err r;

	wd_km_clear(w);
	if (!c->derive_km || w->p->target == STORE_DERIVED_CSR ||
	    w->person.id == 0)
		return PV_OK;
	if ((r = store_escrow_list_person(w->st, w->person.id,
	    STORE_ESCROW_KEY_9D, &list, &n, why)) != PV_OK)
		return r;
	for (i = 0; i < n && cur == (size_t)-1; i++) {
		if (!list[i].current)
			continue;
		if ((r = store_device_get(w->st, list[i].device_id, &d, why)) !=
		    PV_OK)
			goto out;
		if (d.status != STORE_DEV_TERMINATED)
			cur = i;
	}
	if (cur == (size_t)-1) {
		r = PV_OK;	/* nothing escrowed that is current */
		goto out;
	}
	if ((r = wd_km_add(w, &list[cur], true, why)) != PV_OK)
		goto out;
	for (i = 0; i < n && hist < c->derive_history; i++) {
		size_t before = w->n_km;

		if (i == cur)
			continue;
		if ((r = wd_km_add(w, &list[i], false, why)) != PV_OK)
			goto out;
		hist += w->n_km > before;
	}
	r = PV_OK;
out:
	store_escrow_free_list(list, n);
	if (r != PV_OK)
		wd_km_clear(w);
	return r;
}

/* SP 800-157r1 App. A: a copy in software only under a policy that
 * allows software modules. */
static enum pv_err
wd_km_policy(struct wd *w, struct pv_why *why)
{
	const struct config_oids *ok =
	    &w->p->cfg->derive_policy[CONFIG_DP_KM_SW];
	size_t i;

	if (!wd_is_package(w))
		return PV_OK;
	for (i = 0; i < w->n_km; i++)
		if (!derive_cert_has_policy(w->km[i].cert, ok))
			return pv_why_set(why, PV_E_POLICY, "the key-management "
			    "certificate %s%s does not assert a policy that "
			    "allows a software keystore ([derive] "
			    "software_key_management_policies, e.g. %s): its key "
			    "may not go into a %s (SP 800-157r1 App. A); derive "
			    "to a token, or set [derive] key_management = no",
			    w->km[i].serial, w->km[i].current ? "" :
			    " (a retired key)", ok->n ? ok->oid[0] : "-",
			    w->p->target == STORE_DERIVED_P12 ? "PKCS#12" :
			    "configuration profile");
	return PV_OK;
}

enum pv_err
wd_km_recover(struct wd *w, const struct wd_km *k, EVP_PKEY **out,
    struct pv_why *why)
{
	struct recover_copy rc;
	json_object *d = json_object_new_object();
	enum pv_err r;

	*out = NULL;
	if (d == NULL)
		return PV_E_NOMEM;
	json_object_object_add(d, "derived", json_object_new_int64(w->drv.id));
	json_object_object_add(d, "target", json_object_new_string(
	    store_derived_target_name(w->p->target)));
	json_object_object_add(d, "current",
	    json_object_new_boolean(k->current));
	memset(&rc, 0, sizeof(rc));
	rc.st = w->st;
	rc.kra_cert = ca_get0_kra(w->p->ca);
	rc.kra_key = w->p->kra_key;
	rc.envelope = k->cms;
	rc.envelope_len = k->cms_len;
	rc.cert = k->cert;
	rc.escrow_id = k->escrow_id;
	rc.device_id = k->device_id;
	rc.reason = w->p->reason != NULL ? w->p->reason :
	    "derived credential for the cardholder";
	rc.detail_json = json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN);
	r = recover_key_copy(&rc, out, NULL, why);
	json_object_put(d);
	return r;
}

/* ---- the register step ------------------------------------------------------------------ */

enum pv_err
wd_step_register(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wd *w = state;
	struct identity id;
	struct store_device dev, *d = &dev;
	char *pem = NULL, uh[33];
	size_t pem_len = 0;
	enum pv_err r;

	if ((r = wf_tx_begin(run, why)) != PV_OK)
		return r;
	if (w->person.id == 0) {
		if ((r = wd_person_from_card(w, &id, why)) != PV_OK ||
		    (r = store_person_put(w->st, &id, STORE_PERSON_REFUSE,
		    &w->person.id, why)) !=
		    PV_OK ||
		    (r = store_person_get(w->st, w->person.id, &w->person,
		    why)) != PV_OK)
			goto fail;
		w->out->created_person = true;
	}
	if (w->prim.id == 0) {
		struct store_device *pd = &w->prim;
		time_t na = 0;

		memset(pd, 0, sizeof(*pd));
		pd->person_id = w->person.id;
		pd->type = STORE_DEV_CARD;
		if (w->primary->atr != NULL &&
		    w->primary->atr_len <= STORE_ATR_MAX) {
			memcpy(pd->atr, w->primary->atr, w->primary->atr_len);
			pd->atr_len = w->primary->atr_len;
		}
		memcpy(pd->guid, w->guid, 16);
		pd->has_guid = true;
		memcpy(pd->fascn, w->fascn, FASCN_LEN);
		pd->has_fascn = true;
		pd->status = STORE_DEV_ACTIVE;
		{
			struct tm tm;

			if (ASN1_TIME_to_tm(X509_get0_notAfter(w->pa), &tm) == 1)
				na = timegm(&tm);
		}
		pd->expires_at = (int64_t)na;
		if ((r = store_device_add(w->st, pd, &pd->id, why)) != PV_OK)
			goto fail;
		w->out->created_primary = true;
	}
	/* Claims the person: another run that got here first stops this
	 * one before anything is written to a card. */
	if ((r = wf_job_create(run, w->person.id, why)) != PV_OK)
		goto fail;
	memset(d, 0, sizeof(*d));
	d->person_id = w->person.id;
	d->type = STORE_DEV_MOBILE;
	d->status = STORE_DEV_ISSUING;
	if ((r = store_device_add(w->st, d, &d->id, why)) != PV_OK ||
	    (r = job_set_device(w->st, &run->job, d->id, why)) != PV_OK)
		goto fail;
	memset(&w->drv, 0, sizeof(w->drv));
	w->drv.device_id = d->id;
	w->drv.primary_id = w->prim.id;
	w->drv.person_id = w->person.id;
	w->drv.job_id = run->job.row.id;
	w->drv.target = w->p->target;
	if (RAND_bytes(w->drv.uuid, 16) != 1) {
		r = pv_why_set(why, PV_E_CRYPTO, "no random bytes for the UUID");
		goto fail;
	}
	/* RFC 4122 version 4: a UUID of its own, not the card's (FIPS 201-3
	 * §5.5.1 keeps the card UUID out of widely shown certificates). */
	w->drv.uuid[6] = (uint8_t)((w->drv.uuid[6] & 0x0f) | 0x40);
	w->drv.uuid[8] = (uint8_t)((w->drv.uuid[8] & 0x3f) | 0x80);
	memcpy(w->drv.pa_serial, w->pa_serial, sizeof(w->drv.pa_serial));
	memcpy(w->drv.pa_issuer, w->pa_issuer, sizeof(w->drv.pa_issuer));
	if ((r = pkix_cert_to_pem(w->pa, &pem, &pem_len, why)) != PV_OK)
		goto fail;
	w->drv.pa_pem = pem;
	memcpy(w->drv.primary_fascn, w->fascn, FASCN_LEN);
	w->drv.has_primary_fascn = true;
	memcpy(w->drv.primary_uuid, w->guid, 16);
	w->drv.has_primary_uuid = true;
	r = store_derived_add(w->st, &w->drv, &w->drv.id, why);
	w->drv.pa_pem = NULL;
	OPENSSL_free(pem);
	if (r != PV_OK)
		goto fail;
	buf_hex(w->drv.uuid, 16, uh);
	wf_done_detail(run, "{\"derived\":%lld,\"device\":%lld,\"primary\":%lld,"
	    "\"uuid\":\"%s\",\"target\":\"%s\"}", (long long)w->drv.id,
	    (long long)d->id, (long long)w->prim.id, uh,
	    store_derived_target_name(w->p->target));
	wf_note(run, WF_STEP_DONE, "job %lld: derived credential %lld (device "
	    "%lld) for person %lld, from primary device %lld%s",
	    (long long)run->job.row.id, (long long)w->drv.id, (long long)d->id,
	    (long long)w->person.id, (long long)w->prim.id,
	    w->out->created_primary ? " (a card issued elsewhere, now "
	    "recorded)" : "");
	return PV_OK;
fail:
	/* The runner rolls back: nothing of this run stays. */
	job_cleanup(&run->job);
	memset(&w->drv, 0, sizeof(w->drv));
	if (w->out->created_person) {
		w->person.id = 0;
		w->out->created_person = false;
	}
	if (w->out->created_primary) {
		w->prim.id = 0;
		w->out->created_primary = false;
	}
	return r;
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Refusal by validation: audited, nothing else written. */
static enum pv_err
wd_refuse(struct wd *w, const struct val_report *rep, struct pv_why *why)
{
	json_object *d = json_object_new_object(), *a = json_object_new_array();
	const struct val_check *first = NULL;
	char obj[64];
	const char *t;
	size_t i;

	for (i = 0; i < rep->n; i++) {
		if (rep->check[i].status != VAL_FAIL)
			continue;
		if (first == NULL)
			first = &rep->check[i];
		if (a != NULL)
			json_object_array_add(a, json_object_new_string(
			    rep->check[i].id));
	}
	if (d != NULL) {
		json_object_object_add(d, "target", json_object_new_string(
		    store_derived_target_name(w->p->target)));
		json_object_object_add(d, "failed", a);
		a = NULL;
		t = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
		(void)snprintf(obj, sizeof(obj), "reader:%.48s",
		    card_reader(w->primary));
		(void)audit_append(w->st, "derive.refused", obj, t != NULL ? t :
		    "{}", NULL);
	}
	json_object_put(d);
	json_object_put(a);
	w->out->refused = true;
	return pv_why_set(why, PV_E_VERIFY, "the primary card failed "
	    "validation (%s: %s); nothing was written", first != NULL ?
	    first->id : "?", first != NULL ? first->text : "?");
}

static enum pv_err
wd_validate(struct wd *w, struct val_report *rep, struct pv_why *why)
{
	struct val_card_objects objs;
	struct val_card_opts co;
	enum pv_err r;

	memset(&objs, 0, sizeof(objs));
	memset(&co, 0, sizeof(co));
	co.at = w->p->at != 0 ? w->p->at : (time_t)w->now;
	co.pop = true;
	co.pin = w->p->pin;
	co.pin_len = w->p->pin_len;
	co.pin_pad = w->p->pin_pad;
	co.card_auth = w->p->vs->card_auth;
	co.objects = &objs;
	val_report_init(rep);
	wf_emit(&w->run, -1, WF_STEP_RUNNING, "validating the primary card in "
	    "%s: every relying-party check and proof of possession",
	    card_reader(w->primary));
	r = val_card_validate(w->p->vs, w->primary, &co, rep, why);
	if (r == PV_OK && !rep->valid)
		r = wd_refuse(w, rep, why);
	if (r == PV_OK)
		r = wd_primary_facts(w, &objs, why);
	val_card_objects_free(&objs);
	return r;
}

/* The person's running derive job, if any: reads only. */
static enum pv_err
wd_find_job(struct wd *w, struct pv_why *why)
{
	bool found = false;
	enum pv_err r;

	if (w->person.id == 0)
		return PV_OK;
	if ((r = wf_job_find(&w->run, w->person.id, &found, why)) != PV_OK ||
	    !found)
		return r;
	if ((r = store_derived_find_job(w->st, w->run.job.row.id, &w->drv,
	    why)) != PV_OK) {
		pv_why_prefix(why, "job %lld", (long long)w->run.job.row.id);
		return r;
	}
	if (w->drv.target != w->p->target)
		return pv_why_set(why, PV_E_STATE, "job %lld, a derivation to %s "
		    "for this person, is not finished: run 'pivstation derive "
		    "--to %s' to finish it, or 'pivstation job cancel %lld'",
		    (long long)w->run.job.row.id,
		    store_derived_target_name(w->drv.target),
		    store_derived_target_name(w->drv.target),
		    (long long)w->run.job.row.id);
	if (w->drv.primary_id != w->prim.id)
		return pv_why_set(why, PV_E_STATE, "job %lld derives from "
		    "another primary card (device %lld): finish it with that "
		    "card, or 'pivstation job cancel %lld'",
		    (long long)w->run.job.row.id, (long long)w->drv.primary_id,
		    (long long)w->run.job.row.id);
	return PV_OK;
}

/* [derive] max_active: derived credentials of this card not terminated. */
static enum pv_err
wd_check_limit(struct wd *w, struct pv_why *why)
{
	struct store_derived *list = NULL;
	size_t n = 0, i, live = 0;
	enum pv_err r;

	if (w->p->cfg->derive_max_active == 0 || w->prim.id == 0)
		return PV_OK;
	if ((r = store_derived_list_primary(w->st, w->prim.id, &list, &n,
	    why)) != PV_OK)
		return r;
	for (i = 0; i < n; i++)
		live += list[i].status != STORE_DEV_TERMINATED;
	store_derived_free_list(list, n);
	if (live >= w->p->cfg->derive_max_active)
		return pv_why_set(why, PV_E_POLICY, "the primary card has %zu "
		    "derived credentials that are not terminated: [derive] "
		    "max_active = %u", live, w->p->cfg->derive_max_active);
	return PV_OK;
}

static void
wd_fill_result(struct wd *w)
{
	struct wf_derive_result *o = w->out;
	struct store_cert c;
	struct pv_why ignore = { "" };
	size_t i;

	o->job_id = w->run.job.row.id;
	o->person_id = w->person.id;
	o->primary_id = w->prim.id;
	o->derived_id = w->drv.id;
	o->device_id = w->drv.device_id;
	o->resumed = w->run.resumed;
	o->target = w->p->target;
	o->p12_compat = w->compat;
	memcpy(o->uuid, w->drv.uuid, 16);
	o->steps_run = w->run.steps_run;
	if (w->drv.device_id != 0) {
		memset(&c, 0, sizeof(c));
		if (store_cert_live(w->st, w->drv.device_id, 0x9a, &c,
		    &ignore) == PV_OK)
			memcpy(o->auth_serial, c.serial, sizeof(o->auth_serial));
		store_cert_cleanup(&c);
		if (store_cert_live(w->st, w->drv.device_id, 0x9c, &c,
		    &ignore) == PV_OK)
			memcpy(o->sign_serial, c.serial, sizeof(o->sign_serial));
		store_cert_cleanup(&c);
	}
	o->n_km = w->n_km;
	for (i = 0; i < w->n_km; i++) {
		memcpy(o->km_serial[i], w->km[i].serial,
		    sizeof(o->km_serial[i]));
	}
}

enum pv_err
wf_derive_run(const struct wf_derive_params *p, struct card *primary,
    struct val_report *rep, struct wf_derive_result *out, struct pv_why *why)
{
	struct wd w;
	uint64_t t0 = pcsc_now_ns();
	uint64_t c0 = primary->ns;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.primary = primary;
	w.out = out;
	w.st = p->st;
	w.now = p->now != 0 ? p->now : store_now(p->st);
	w.compat = p->p12_compat >= 0 ? (enum config_p12_compat)p->p12_compat :
	    p->cfg->derive_p12;
	wf_run_init(&w.run, &wf_derive_def, p->st, p->hooks,
	    card_reader(primary));

	if ((r = wf_derive_check(p, why)) != PV_OK)
		goto out;
	/* 1. The primary card, before anything is written anywhere. */
	if ((r = wd_validate(&w, rep, why)) != PV_OK)
		goto out;
	wf_emit(&w.run, -1, WF_STEP_DONE, "the primary card is valid: every "
	    "check passed and the cardholder proved possession of its 9A key");
	/* 2. The person, the job, what may be copied. */
	if ((r = wd_find_primary(&w, why)) != PV_OK ||
	    (r = wd_find_job(&w, why)) != PV_OK)
		goto out;
	if (!w.run.resumed && (r = wd_check_limit(&w, why)) != PV_OK)
		goto out;
	if ((r = wd_km_plan(&w, why)) != PV_OK ||
	    (r = wd_km_policy(&w, why)) != PV_OK)
		goto out;
	if (w.n_km > 0 && p->kra_key == NULL) {
		r = pv_why_set(why, PV_E_STATE, "the key recovery agent's key is "
		    "needed to copy the escrowed key-management key (KRA "
		    "passphrase), or set [derive] key_management = no");
		goto out;
	}
	r = wf_run_steps(&w.run, &w, why);
	out->done = r == PV_OK;
	if (r != PV_OK && w.wrote_file) {
		/* Its transaction did not commit: the file holds nothing the
		 * store knows, and the next run writes it again. */
		(void)unlink(p->out_path);
		out->out_path[0] = '\0';
	}
out:
	wd_fill_result(&w);
	out->ns_card = primary->ns - c0;
	out->ns_total = pcsc_now_ns() - t0;
	wd_km_clear(&w);
	X509_free(w.pa);
	store_derived_cleanup(&w.drv);
	wf_run_cleanup(&w.run);
	return r;
}
