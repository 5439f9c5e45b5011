/*
 * wf_issue_steps.c: the steps of a primary issuance job (wf_issue.h), one
 * function each.  A step that writes rows commits them together with its
 * "done" mark (job.h); a step that writes only to the card checks or
 * rewrites what it needs, so that running it again is harmless.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/piv_obj.h"
#include "apdu/piv_pkey.h"
#include "apdu/piv_yk.h"
#include "issuance/attest.h"
#include "issuance/ca.h"
#include "issuance/escrow.h"
#include "issuance/secobj.h"
#include "issuance/wf_issue_int.h"

#define WF_OBJ_MAX	16384	/* largest object this workflow builds */

const char *
wf_detail(const struct wf *w, enum wf_step s)
{
	return wf_step_detail_at(&w->run, (size_t)s);
}

/* ---- job facts and subjects -------------------------------------------------- */

enum pv_err
wf_load_job_facts(struct wf *w, struct pv_why *why)
{
	const char *d = wf_detail(w, WF_S_REGISTER);
	char hex[40];
	int64_t v;
	enum pv_err r;

	if (!wf_step_done_at(&w->run, WF_S_REGISTER))
		return pv_why_set(why, PV_E_STATE, "job %lld was never "
		    "registered", (long long)w->run.job.row.id);
	if (!wf_json_str(d, "guid", hex, sizeof(hex)) ||
	    !buf_unhex(hex, strlen(hex), w->guid, 16) ||
	    !wf_json_str(d, "salt", hex, sizeof(hex)) ||
	    !buf_unhex(hex, strlen(hex), w->salt, 16) ||
	    !wf_json_i64(d, "cred", &v) || v < 1 || v > 999999 ||
	    !wf_json_i64(d, "expires", &w->expires) || w->expires <= 0)
		return pv_why_set(why, PV_E_STATE, "job %lld: its register "
		    "record is damaged", (long long)w->run.job.row.id);
	w->cred = (uint32_t)v;
	if ((r = store_device_get(w->st, w->run.job.row.device_id, &w->dev,
	    why)) != PV_OK)
		return r;
	if ((r = wf_fascn_make(w->p->cfg, w->p->ident, w->cred, w->fascn,
	    w->fascn_str, why)) != PV_OK)
		return r;
	if (!w->dev.has_fascn || memcmp(w->dev.fascn, w->fascn, FASCN_LEN) !=
	    0)
		return pv_why_set(why, PV_E_STATE, "job %lld: the FASC-N of "
		    "device %lld does not follow from the job's record: "
		    "[fascn] settings or the person ID changed since the "
		    "job began", (long long)w->run.job.row.id,
		    (long long)w->dev.id);
	return PV_OK;
}

enum pv_err
wf_subjects(struct wf *w, struct pv_why *why)
{
	char uuid[PKIX_UUID_STR_LEN];
	enum pv_err r;

	pkix_uuid_str(w->guid, uuid);
	if ((r = profile_subject_build(w->p->cfg, w->p->ident, uuid, false,
	    &w->subj, why)) != PV_OK)
		return r;
	return profile_subject_build(w->p->cfg, w->p->ident, uuid, true,
	    &w->subj_9e, why);
}

/* ---- card helpers -------------------------------------------------------------- */

#define WF_PUT_MAX	4

/* PUT DATA of up to four objects in one group, after 9B authentication. */
struct wf_put_arg {
	struct wf *w;
	size_t n;
	uint32_t tag[WF_PUT_MAX];
	const uint8_t *data[WF_PUT_MAX];
	size_t len[WF_PUT_MAX];
};

static enum pv_err
wf_put_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_put_arg *pa = arg;
	enum pv_err r;
	size_t i;

	if ((r = card_admin_auth(&pa->w->adm, a, why)) != PV_OK)
		return r;
	for (i = 0; i < pa->n; i++) {
		r = piv_put_data(a, pa->tag[i], pa->data[i], pa->len[i], why);
		if (r != PV_OK) {
			pv_why_prefix(why, "writing %s", piv_obj_name(
			    pa->tag[i]));
			return r;
		}
	}
	return PV_OK;
}

static void
wf_put_add(struct wf_put_arg *pa, uint32_t tag, const struct buf_out *o)
{
	pa->tag[pa->n] = tag;
	pa->data[pa->n] = o->p;
	pa->len[pa->n] = o->len;
	pa->n++;
}

/* ---- mgmt-key ------------------------------------------------------------------ */

struct wf_mgmt_arg {
	struct wf *w;
	bool changed;
};

static enum pv_err
wf_mgmt_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_mgmt_arg *ma = arg;

	return card_admin_set_derived(&ma->w->adm, a, &ma->changed, why);
}

enum pv_err
wf_step_mgmt(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct wf_mgmt_arg ma = { w, false };
	bool was_default = w->adm.cur_default, was_stored = w->adm.cur_stored;
	enum pv_err r;

	if ((r = card_run(w->card, wf_mgmt_fn, &ma, why)) != PV_OK)
		return r;
	wf_done_detail(run, "{\"changed\":%s,\"alg_id\":%d,\"alg\":\"%s\"}",
	    ma.changed ? "true" : "false", (int)w->adm.cur.alg,
	    mgmtkey_alg_name(w->adm.cur.alg));
	if (!w->adm.can_set)
		wf_note(run, WF_STEP_SKIPPED, "the token has no SET MANAGEMENT "
		    "KEY command: its factory management key stays");
	else if (was_default)
		wf_note(run, WF_STEP_DONE, "factory management key replaced by "
		    "this station's per-card %s key",
		    mgmtkey_alg_name(w->adm.cur.alg));
	else if (was_stored)
		wf_note(run, WF_STEP_DONE, "management key %s replaced by this "
		    "station's per-card %s key; ykman's copy and flag removed",
		    ykp_describe(&w->ykp), mgmtkey_alg_name(w->adm.cur.alg));
	else
		wf_note(run, WF_STEP_DONE, "the card already has this station's "
		    "per-card %s key", mgmtkey_alg_name(w->adm.cur.alg));
	return PV_OK;
}

/* ---- chuid ------------------------------------------------------------------- */

enum pv_err
wf_step_chuid(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct wf_put_arg pa;
	struct buf_out obj;
	char date[9] = "";
	enum pv_err r;

	memset(&pa, 0, sizeof(pa));
	memset(&obj, 0, sizeof(obj));
	pa.w = w;
	(void)wf_chuid_date(w->expires, date);
	if (!buf_out_alloc(&obj, 2048, WF_OBJ_MAX)) {
		r = PV_E_NOMEM;
		goto out;
	}
	if ((r = wf_build_chuid(w, &obj, why)) != PV_OK)
		goto out;
	wf_put_add(&pa, PIV_OBJ_CHUID, &obj);
	if ((r = card_run(w->card, wf_put_fn, &pa, why)) != PV_OK)
		goto out;
	card_note_identity(w->card, w->in.has_serial, w->in.serial, true,
	    w->guid);
	wf_note(run, WF_STEP_DONE, "signed CHUID written%s: FASC-N %s, expiry "
	    "%s", w->factory_chuid ? " over the factory one" : "",
	    w->fascn_str, date);
out:
	buf_out_cleanup(&obj);
	return r;
}

/* ---- escrow-puk, set-puk, set-pin ------------------------------------------------- */

enum pv_err
wf_step_escrow_puk(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct store_escrow e;
	char puk[9];
	uint8_t *cms = NULL;
	size_t cms_len = 0;
	int64_t id = 0;
	bool existed = false;
	enum pv_err r;

	memset(&e, 0, sizeof(e));
	if (!w->p->cfg->escrow_puk) {
		wf_done_detail(run, "{\"escrowed\":false}");
		wf_note(run, WF_STEP_SKIPPED, "PUK escrow is off ([escrow] puk = "
		    "no)");
		return PV_OK;
	}
	if ((r = wf_puk_derive(w->p->master, w->guid, w->salt, puk)) !=
	    PV_OK ||
	    (r = escrow_seal_puk(puk, ca_get0_kra(w->p->ca), &cms, &cms_len,
	    why)) != PV_OK)
		goto out;
	/* Identifies the PUK without revealing it: keyed by the master
	 * secret, so the store alone cannot test guesses. */
	if ((r = secret_derive(w->p->master, "pivstation PUK fingerprint v1",
	    (const uint8_t *)puk, WF_PUK_LEN, e.fingerprint,
	    sizeof(e.fingerprint))) != PV_OK)
		goto out;
	e.person_id = w->dev.person_id;
	e.device_id = w->dev.id;
	e.kind = STORE_ESCROW_PUK;
	e.cms = cms;
	e.cms_len = cms_len;
	if ((r = wf_tx_begin(run, why)) != PV_OK ||
	    (r = store_escrow_add(w->st, &e, &id, &existed, why)) != PV_OK)
		goto out;
	wf_done_detail(run, "{\"escrowed\":true,\"escrow_id\":%lld}",
	    (long long)id);
	wf_note(run, WF_STEP_DONE, "random PUK sealed to the key recovery agent "
	    "(escrow record %lld)%s", (long long)id, existed ?
	    ", as recorded before" : "");
out:
	OPENSSL_cleanse(puk, sizeof(puk));
	OPENSSL_free(cms);
	return r;
}

struct wf_ref_arg {
	struct wf *w;
	const uint8_t *val;	/* the new PIN or PUK */
	size_t len;
	int retries;
	bool via_verify;	/* the card already had it */
};

/*
 * CHANGE REFERENCE DATA from the factory default to the job's PUK.  When
 * the metadata says the PUK is no longer the default, or the card refuses
 * the default, the PUK is checked to be this job's (an earlier run set it
 * and died before recording that): changing it to itself proves it.  A
 * refused check costs a try, which the successful one gives back.
 */
static enum pv_err
wf_puk_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	static const uint8_t def[] = WF_DEFAULT_PUK;
	struct wf_ref_arg *ra = arg;
	const struct card_facts *in = &ra->w->in;
	enum pv_err r = PV_E_PIN_WRONG;

	ra->retries = -1;
	ra->via_verify = false;
	if (!in->has_puk_meta || in->puk_default) {
		r = piv_change_reference(a, PIV_REF_PUK, def, WF_PUK_LEN,
		    ra->val, ra->len, &ra->retries, why);
		if (r != PV_E_PIN_WRONG)
			return r;
		pv_why_clear(why);
	}
	r = piv_change_reference(a, PIV_REF_PUK, ra->val, ra->len, ra->val,
	    ra->len, &ra->retries, why);
	ra->via_verify = r == PV_OK;
	return r;
}

enum pv_err
wf_step_set_puk(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	char puk[9];
	struct wf_ref_arg ra;
	enum pv_err r;

	memset(&ra, 0, sizeof(ra));
	if ((r = wf_puk_derive(w->p->master, w->guid, w->salt, puk)) != PV_OK)
		return r;
	ra.w = w;
	ra.val = (const uint8_t *)puk;
	ra.len = WF_PUK_LEN;
	r = card_run(w->card, wf_puk_fn, &ra, why);
	OPENSSL_cleanse(puk, sizeof(puk));
	if (r == PV_E_PIN_WRONG) {
		pv_why_clear(why);
		return pv_why_set(why, r, "PUK: the card's PUK is neither the "
		    "factory default nor the one this job set (%d tries left)",
		    ra.retries);
	}
	if (r == PV_E_BLOCKED) {
		pv_why_clear(why);
		return pv_why_set(why, r, "the card's PUK is blocked");
	}
	if (r != PV_OK)
		return r;
	wf_note(run, WF_STEP_DONE, ra.via_verify ? "the card already has this "
	    "job's PUK" : "PUK changed from the factory default to the random "
	    "escrowed one");
	return PV_OK;
}

static enum pv_err
wf_pin_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	static const uint8_t def[] = WF_DEFAULT_PIN;
	struct wf_ref_arg *ra = arg;
	const struct card_facts *in = &ra->w->in;
	enum pv_err r;

	ra->retries = -1;
	ra->via_verify = false;
	if (!in->has_pin_meta || in->pin_default) {
		r = piv_change_reference(a, PIV_REF_PIN, def, sizeof(def) - 1,
		    ra->val, ra->len, &ra->retries, why);
		if (r != PV_E_PIN_WRONG)
			return r;
		pv_why_clear(why);
	}
	/* Set by an earlier run that died before recording it. */
	r = piv_verify(a, PIV_REF_PIN, ra->val, ra->len, &ra->retries, why);
	ra->via_verify = r == PV_OK;
	return r;
}

/*
 * set-pin with the PIN typed on the reader's pad: CHANGE REFERENCE DATA
 * from the factory PIN (which the host puts in the command) to what the
 * person types twice; on a card whose PIN an earlier run already changed,
 * VERIFY what the person types instead.  The person's PIN never passes
 * through this process.
 */
static enum pv_err
wf_set_pin_pad(struct wf_run *run, struct wf *w, struct pv_why *why)
{
	static const uint8_t def[] = WF_DEFAULT_PIN;
	const struct card_facts *in = &w->in;
	bool via_verify = false;
	int retries = -1;
	enum pv_err r = PV_E_PIN_WRONG;

	if (!in->has_pin_meta || in->pin_default) {
		r = wf_pad_change_pin(w, "the cardholder types a new PIN on the "
		    "reader's PIN pad, then again to confirm", def,
		    sizeof(def) - 1, &retries, why);
		if (r == PV_E_PIN_WRONG)
			pv_why_clear(why);
	}
	if (r == PV_E_PIN_WRONG) {
		/* Set by an earlier run that died before recording it. */
		r = wf_pad_verify_pin(w, "the card's PIN is no longer the "
		    "factory one: the cardholder types the PIN set earlier on "
		    "the reader's PIN pad", why);
		if (r == PV_E_PIN_WRONG)
			pv_why_prefix(why, "the card's PIN is neither the "
			    "factory default nor the PIN typed");
		via_verify = r == PV_OK;
	} else if (r == PV_E_BLOCKED) {
		pv_why_clear(why);
		r = pv_why_set(why, r, "the card's PIN is blocked");
	}
	if (r != PV_OK)
		return r;
	wf_done_detail(run, "{\"pin_pad\":true}");
	wf_note(run, WF_STEP_DONE, via_verify ? "the card already has the PIN "
	    "typed on the pad" : "PIN changed from the factory default to the "
	    "one the cardholder typed on the reader's PIN pad");
	return PV_OK;
}

enum pv_err
wf_step_set_pin(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct wf_ref_arg ra;
	enum pv_err r;

	if (w->p->pin_pad)
		return wf_set_pin_pad(run, w, why);
	memset(&ra, 0, sizeof(ra));
	ra.w = w;
	ra.val = w->p->pin;
	ra.len = w->p->pin_len;
	r = card_run(w->card, wf_pin_fn, &ra, why);
	if (r == PV_E_PIN_WRONG) {
		pv_why_clear(why);
		return pv_why_set(why, r, "wrong PIN: the card's PIN is neither "
		    "the factory default nor the PIN given (%d tries left)",
		    ra.retries);
	}
	if (r == PV_E_BLOCKED) {
		pv_why_clear(why);
		return pv_why_set(why, r, "the card's PIN is blocked");
	}
	if (r != PV_OK)
		return r;
	wf_note(run, WF_STEP_DONE, ra.via_verify ? "the card already has the "
	    "PIN given" : "PIN changed from the factory default to the "
	    "person's");
	return PV_OK;
}

/* ---- keys and certificates ------------------------------------------------------- */

static unsigned
wf_slot_bit(enum config_slot s)
{
	return 1u << s;
}

static enum wf_step
wf_key_step(enum config_slot s)
{
	switch (s) {
	case CONFIG_SLOT_9A: return WF_S_KEY_9A;
	case CONFIG_SLOT_9C: return WF_S_KEY_9C;
	case CONFIG_SLOT_9D: return WF_S_KEY_9D;
	default: return WF_S_KEY_9E;
	}
}

/*
 * The key step's result: the certificate serial and, for a key made on
 * the token, its attestation (status, why, the token's F9 subject, the
 * attestation certificate's SHA-256).
 */
static enum pv_err
wf_certify_detail(struct wf *w, const char *serial,
    const struct attest_result *att, struct pv_why *why)
{
	json_object *d = json_object_new_object();
	char hex[65];
	enum pv_err r = PV_E_NOMEM;

	if (d == NULL || json_object_object_add(d, "serial",
	    json_object_new_string(serial)) != 0)
		goto out;
	if (att != NULL) {
		if (json_object_object_add(d, "attestation",
		    json_object_new_string(attest_status_name(att->status))) !=
		    0 || json_object_object_add(d, "attestation_text",
		    json_object_new_string(att->text)) != 0)
			goto out;
		if (att->f9_subject[0] != '\0' && json_object_object_add(d,
		    "attestation_ca", json_object_new_string(
		    att->f9_subject)) != 0)
			goto out;
		if (att->has_cert) {
			buf_hex(att->cert_sha256, 32, hex);
			if (json_object_object_add(d, "attestation_sha256",
			    json_object_new_string(hex)) != 0)
				goto out;
		}
	}
	wf_done_detail(&w->run, "%s", json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN));
	r = PV_OK;
out:
	json_object_put(d);
	return r == PV_OK ? r : pv_why_set(why, r, "recording the key step");
}

/*
 * wf_certify issues the certificate of slot |s| over |pub| and records
 * it, with step |step| done, in one transaction.  A live certificate the
 * slot still has (one that no longer matched the card) is revoked first,
 * so the slot never has two.
 */
static enum pv_err
wf_certify(struct wf *w, enum config_slot s, EVP_PKEY *pub,
    const char *how, const struct attest_result *att, struct pv_why *why)
{
	uint8_t slot = config_slot_ref(s);
	struct profile_card card;
	struct profile_issued info;
	struct store_cert c, old;
	X509 *x = NULL;
	size_t pem_len = 0;
	enum pv_err r;

	memset(&c, 0, sizeof(c));
	memset(&old, 0, sizeof(old));
	memset(&card, 0, sizeof(card));
	memcpy(card.fascn, w->fascn, FASCN_LEN);
	memcpy(card.uuid, w->guid, 16);
	card.expiry = (time_t)w->expires;
	if ((r = profile_issue(w->p->ca, pub, slot, s == CONFIG_SLOT_9E ?
	    &w->subj_9e : &w->subj, &card, &w->pcfg, (time_t)w->now, &x, &info,
	    why)) != PV_OK)
		goto out;
	c.device_id = w->dev.id;
	c.slot = slot;
	{
		char hex[PKIX_SERIAL_HEX_LEN];

		pkix_serial_hex(x, hex);
		if (strlen(hex) >= sizeof(c.serial)) {
			r = pv_why_set(why, PV_E_INTERNAL,
			    "certificate serial %s is too long for the store", hex);
			goto out;
		}
		memcpy(c.serial, hex, strlen(hex) + 1);
	}
	c.not_before = (int64_t)info.not_before;
	c.not_after = (int64_t)info.not_after;
	c.status = STORE_CERT_ACTIVE;
	if ((r = pkix_cert_to_pem(x, &c.pem, &pem_len, why)) != PV_OK ||
	    (r = pkix_spki_sha256(pub, c.spki_sha256, why)) != PV_OK)
		goto out;
	if ((r = wf_tx_begin(&w->run, why)) != PV_OK)
		goto out;
	r = store_cert_live(w->st, w->dev.id, slot, &old, why);
	if (r == PV_OK)
		r = store_cert_revoke(w->st, old.serial,
		    STORE_REASON_SUPERSEDED, 0, why);
	else if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = PV_OK;
	}
	if (r == PV_OK)
		r = store_cert_add(w->st, &c, NULL, why);
	if (r != PV_OK)
		goto out;
	if ((r = wf_certify_detail(w, c.serial, att, why)) != PV_OK)
		goto out;
	wf_note(&w->run, WF_STEP_DONE, "%s; %s certificate %s issued%s%s", how,
	    piv_key_name(slot), c.serial, old.serial[0] ?
	    ", replacing " : "", old.serial);
out:
	OPENSSL_free(c.pem);
	store_cert_cleanup(&old);
	X509_free(x);
	return r;
}

struct wf_gen_arg {
	struct wf *w;
	uint8_t slot;
	uint8_t alg;
	struct piv_pubkey pk;
	/* A YubiKey-class token's attestation of the new key and its F9
	 * certificate (DER); a refusal of either is kept in words. */
	struct buf_out att, f9obj;
	bool has_att, has_f9;
	char att_why[160];
};

/* GENERATE, and on a token with the YubiKey extensions ATTEST of the
 * slot and the F9 certificate, in the same group. */
static enum pv_err
wf_gen_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_gen_arg *ga = arg;
	enum pv_err r;

	ga->has_att = ga->has_f9 = false;
	ga->att_why[0] = '\0';
	buf_out_truncate(&ga->att, 0);
	buf_out_truncate(&ga->f9obj, 0);
	if ((r = card_admin_auth(&ga->w->adm, a, why)) != PV_OK)
		return r;
	if ((r = piv_generate(a, ga->slot, ga->alg, PIV_PINPOL_DEFAULT,
	    PIV_TOUCH_DEFAULT, &ga->pk, why)) != PV_OK)
		return r;
	if (!ga->w->in.yk)
		return PV_OK;
	r = piv_yk_attest(a, ga->slot, &ga->att, why);
	if (r == PV_OK)
		r = piv_get_data(a, PIV_OBJ_YK_ATTEST, &ga->f9obj, why);
	if (r == PV_OK) {
		ga->has_att = ga->has_f9 = true;
		return PV_OK;
	}
	if (pv_err_aborts(r))
		return r;
	(void)snprintf(ga->att_why, sizeof(ga->att_why), "%.150s", why->msg);
	pv_why_clear(why);
	return PV_OK;
}

/*
 * The attestation of the key |pub| just made in slot |s| (attest.h):
 * PV_E_POLICY when it is missing or does not prove the key and
 * [attestation] policy = refuse.
 */
static enum pv_err
wf_attest(struct wf *w, enum config_slot s, struct wf_gen_arg *ga,
    EVP_PKEY *pub, struct attest_result *res, struct pv_why *why)
{
	const struct pv_config *cfg = w->p->cfg;
	struct piv_certobj co;
	const uint8_t *f9 = NULL;
	size_t f9_len = 0;
	char roots[CONFIG_PATH_MAX * 2];
	enum pv_err r;

	roots[0] = '\0';
	if (cfg->attest_roots[0] == '/' || w->p->home == NULL)
		(void)snprintf(roots, sizeof(roots), "%s", cfg->attest_roots);
	else if (cfg->attest_roots[0] != '\0')
		(void)snprintf(roots, sizeof(roots), "%s/%s", w->p->home,
		    cfg->attest_roots);
	if (ga->has_f9 && piv_certobj_parse(ga->f9obj.p, ga->f9obj.len, &co,
	    NULL) == PV_OK) {
		f9 = co.cert.p;
		f9_len = co.cert.len;
	}
	if ((r = attest_verify(roots, ga->has_att ? ga->att.p : NULL,
	    ga->att.len, f9, f9_len, pub, w->in.has_serial ? &w->in.serial :
	    NULL, res, why)) != PV_OK)
		return r;
	if (res->status == ATTEST_MISSING && roots[0] != '\0') {
		if (!w->in.yk)
			(void)snprintf(res->text, sizeof(res->text), "the token "
			    "has no key attestation (no YubiKey extensions)");
		else if (!ga->has_att)
			(void)snprintf(res->text, sizeof(res->text), "the token "
			    "gave no attestation: %s", ga->att_why);
	}
	if (res->status != ATTEST_VERIFIED &&
	    cfg->attest_policy == CONFIG_ATTEST_REFUSE)
		return pv_why_set(why, PV_E_POLICY, "[attestation] policy = "
		    "refuse: the %s key made on the token is not certified: "
		    "%s: %s", piv_key_name(config_slot_ref(s)),
		    res->status == ATTEST_MISSING ? "no attestation" :
		    "attestation failed", res->text);
	return PV_OK;
}

/* An on-card key: GENERATE (and attest), then the certificate over what
 * it returned. */
static enum pv_err
wf_step_oncard(struct wf *w, enum config_slot s, struct pv_why *why)
{
	struct wf_gen_arg ga;
	struct attest_result att;
	EVP_PKEY *pub = NULL;
	char how[320];
	enum pv_err r;

	memset(&ga, 0, sizeof(ga));
	ga.w = w;
	ga.slot = config_slot_ref(s);
	ga.alg = (uint8_t)w->p->cfg->slot_alg[s];
	if (!buf_out_alloc(&ga.att, 1024, 8192) ||
	    !buf_out_alloc(&ga.f9obj, 1024, 8192)) {
		r = PV_E_NOMEM;
		goto out;
	}
	if ((r = card_run(w->card, wf_gen_fn, &ga, why)) != PV_OK)
		goto out;
	w->made_now |= wf_slot_bit(s);
	if ((r = piv_pubkey_to_evp(&ga.pk, &pub, why)) != PV_OK ||
	    (r = wf_attest(w, s, &ga, pub, &att, why)) != PV_OK)
		goto out;
	(void)snprintf(how, sizeof(how), "%s key generated on the card; %s%s%s",
	    piv_alg_name(ga.alg), att.status == ATTEST_VERIFIED ? "" :
	    attest_status_name(att.status), att.status == ATTEST_VERIFIED ?
	    "" : ": ", att.text);
	r = wf_certify(w, s, pub, how, &att, why);
out:
	EVP_PKEY_free(pub);
	buf_out_cleanup(&ga.att);
	buf_out_cleanup(&ga.f9obj);
	return r;
}

enum pv_err
wf_step_key_9a(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;

	(void)run;
	return wf_step_oncard(w, CONFIG_SLOT_9A, why);
}

enum pv_err
wf_step_key_9c(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;

	(void)run;
	return wf_step_oncard(w, CONFIG_SLOT_9C, why);
}

enum pv_err
wf_step_key_9e(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;

	(void)run;
	return wf_step_oncard(w, CONFIG_SLOT_9E, why);
}

/* ---- escrow-9d, key-9d ------------------------------------------------------------- */

enum pv_err
wf_step_escrow_9d(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct store_escrow e;
	EVP_PKEY *km = NULL;
	uint8_t *cms = NULL;
	size_t cms_len = 0;
	char b64[800];
	int64_t id = 0;
	enum pkix_alg alg;
	enum pv_err r;

	memset(&e, 0, sizeof(e));
	if (!w->escrow_9d) {
		wf_done_detail(run, "{\"escrowed\":false}");
		wf_note(run, WF_STEP_SKIPPED, "the token cannot import keys and "
		    "[escrow] policy = optional: the 9D key is made on the card "
		    "and not escrowed");
		return PV_OK;
	}
	alg = pkix_alg_from_piv((unsigned)w->p->cfg->slot_alg[CONFIG_SLOT_9D]);
	if ((r = w->p->keygen != NULL ? w->p->keygen(w->p->keygen_ctx, alg,
	    &km, why) : escrow_keygen(alg, &km, why)) != PV_OK ||
	    (r = escrow_seal_key(km, ca_get0_kra(w->p->ca), &cms, &cms_len,
	    why)) != PV_OK ||
	    (r = pkix_spki_sha256(km, e.fingerprint, why)) != PV_OK ||
	    (r = wf_spki_b64(km, b64, sizeof(b64), why)) != PV_OK)
		goto out;
	e.person_id = w->dev.person_id;
	e.device_id = w->dev.id;
	e.kind = STORE_ESCROW_KEY_9D;
	e.cms = cms;
	e.cms_len = cms_len;
	if ((r = wf_tx_begin(run, why)) != PV_OK ||
	    (r = store_escrow_add(w->st, &e, &id, NULL, why)) != PV_OK)
		goto out;
	wf_done_detail(run, "{\"escrowed\":true,\"escrow_id\":%lld,"
	    "\"spki\":\"%s\"}", (long long)id, b64);
	EVP_PKEY_free(w->km_key);
	w->km_key = km;
	km = NULL;
	wf_note(run, WF_STEP_DONE, "%s key made on the station and sealed to "
	    "the key recovery agent (escrow record %lld) before it goes near "
	    "the card", pkix_alg_name(alg), (long long)id);
out:
	EVP_PKEY_free(km);
	OPENSSL_free(cms);
	return r;
}

struct wf_km_arg {
	struct wf *w;
	EVP_PKEY *key;		/* import this */
	uint8_t hash[32];	/* else: the card's 9D key hash */
	enum pv_err card_r;
};

static enum pv_err
wf_import_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_km_arg *ka = arg;
	enum pv_err r;

	if ((r = card_admin_auth(&ka->w->adm, a, why)) != PV_OK)
		return r;
	return piv_yk_import_evp(a, PIV_KEY_KEYMGMT, ka->key,
	    PIV_PINPOL_DEFAULT, PIV_TOUCH_DEFAULT, why);
}

static enum pv_err
wf_km_hash_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_km_arg *ka = arg;

	ka->card_r = card_key_hash(a, PIV_KEY_KEYMGMT, ka->hash, why);
	if (pv_err_aborts(ka->card_r))
		return ka->card_r;
	pv_why_clear(why);
	return PV_OK;
}

enum pv_err
wf_step_key_9d(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct wf_km_arg ka;
	EVP_PKEY *pub = NULL;
	uint8_t want[32], have[32];
	char b64[800];
	bool escrowed = false;
	const char *how;
	enum pv_err r;

	memset(&ka, 0, sizeof(ka));
	ka.w = w;
	(void)wf_json_bool(wf_detail(w, WF_S_ESCROW_9D), "escrowed", &escrowed);
	if (!escrowed)
		return wf_step_oncard(w, CONFIG_SLOT_9D, why);
	if (!wf_json_str(wf_detail(w, WF_S_ESCROW_9D), "spki", b64,
	    sizeof(b64)))
		return pv_why_set(why, PV_E_STATE, "job %lld: the escrow-9d "
		    "record has no public key", (long long)w->run.job.row.id);
	if ((r = wf_spki_from_b64(b64, &pub, why)) != PV_OK ||
	    (r = pkix_spki_sha256(pub, want, why)) != PV_OK)
		goto out;
	if (w->km_key != NULL && pkix_spki_sha256(w->km_key, have, why) == PV_OK &&
	    memcmp(have, want, 32) == 0) {
		ka.key = w->km_key;
		if ((r = card_run(w->card, wf_import_fn, &ka, why)) != PV_OK)
			goto out;
		how = "escrowed key imported";
	} else {
		/* A later run: the private key lives only in escrow now.  It
		 * is enough if the card has it already. */
		if ((r = card_run(w->card, wf_km_hash_fn, &ka, why)) != PV_OK)
			goto out;
		if (ka.card_r != PV_OK || memcmp(ka.hash, want, 32) != 0) {
			r = wf_step_reset(run, WF_S_ESCROW_9D, why);
			if (r == PV_OK)
				wf_note(run, WF_STEP_REDO, "the 9D key escrowed "
				    "by an earlier run is not on the card and "
				    "its private key is only in escrow now: a "
				    "new one is made and escrowed (the earlier "
				    "envelope is kept, no longer current)");
			goto out;
		}
		how = "the escrowed key is on the card already";
	}
	w->made_now |= wf_slot_bit(CONFIG_SLOT_9D);
	r = wf_certify(w, CONFIG_SLOT_9D, pub, how, NULL, why);
out:
	EVP_PKEY_free(pub);
	return r;
}

/* ---- certs --------------------------------------------------------------------------- */

struct wf_match_arg {
	struct wf *w;
	unsigned check;			/* slot bits to compare */
	uint8_t want[CONFIG_N_SLOTS][32];
	unsigned mismatch;		/* out */
};

static enum pv_err
wf_match_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_match_arg *ma = arg;
	uint8_t have[32];
	enum pv_err r;
	unsigned s;

	ma->mismatch = 0;
	for (s = 0; s < CONFIG_N_SLOTS; s++) {
		if (!(ma->check & wf_slot_bit((enum config_slot)s)))
			continue;
		r = card_key_hash(a, config_slot_ref((enum config_slot)s),
		    have, why);
		if (pv_err_aborts(r))
			return r;
		pv_why_clear(why);
		if (r != PV_OK || memcmp(have, ma->want[s], 32) != 0)
			ma->mismatch |= wf_slot_bit((enum config_slot)s);
	}
	return PV_OK;
}

/*
 * The certificates recorded earlier go on the card only if the card's
 * keys still are theirs.  Slots whose key was made in this run need no
 * check; the others are compared through GET METADATA where the token has
 * it (elsewhere the job's record is trusted: only this station holds the
 * card's management key).  A certificate that no longer matches is
 * revoked and its key step done again.
 */
enum pv_err
wf_step_certs(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct store_cert c[CONFIG_N_SLOTS];
	struct buf_out obj[CONFIG_N_SLOTS];
	struct wf_match_arg ma;
	struct wf_put_arg pa;
	unsigned s;
	enum pv_err r = PV_OK;

	memset(c, 0, sizeof(c));
	memset(obj, 0, sizeof(obj));
	memset(&ma, 0, sizeof(ma));
	memset(&pa, 0, sizeof(pa));
	ma.w = pa.w = w;
	for (s = 0; s < CONFIG_N_SLOTS && r == PV_OK; s++) {
		uint8_t *der = NULL;
		size_t der_len = 0;
		STACK_OF(X509) *sk = NULL;

		r = store_cert_live(w->st, w->dev.id,
		    config_slot_ref((enum config_slot)s), &c[s], why);
		if (r == PV_OK)
			r = pkix_certs_from_bytes((const uint8_t *)c[s].pem,
			    strlen(c[s].pem), &sk, why);
		if (r == PV_OK)
			r = pkix_cert_to_der(sk_X509_value(sk, 0), &der,
			    &der_len, why);
		if (r == PV_OK && !buf_out_alloc(&obj[s], der_len + 16,
		    WF_OBJ_MAX))
			r = PV_E_NOMEM;
		if (r == PV_OK)
			r = piv_certobj_build(der, der_len, false, &obj[s], why);
		OPENSSL_free(der);
		sk_X509_pop_free(sk, X509_free);
		memcpy(ma.want[s], c[s].spki_sha256, 32);
		if (w->in.yk && !(w->made_now & wf_slot_bit(
		    (enum config_slot)s)))
			ma.check |= wf_slot_bit((enum config_slot)s);
	}
	if (r != PV_OK)
		goto out;
	if (ma.check != 0) {
		if ((r = card_run(w->card, wf_match_fn, &ma, why)) != PV_OK)
			goto out;
	}
	if (ma.mismatch != 0) {
		bool escrowed = false;

		(void)wf_json_bool(wf_detail(w, WF_S_ESCROW_9D), "escrowed",
		    &escrowed);
		if ((r = wf_tx_begin(run, why)) != PV_OK)
			goto out;
		for (s = 0; s < CONFIG_N_SLOTS && r == PV_OK; s++) {
			if (!(ma.mismatch & wf_slot_bit((enum config_slot)s)))
				continue;
			r = store_cert_revoke(w->st, c[s].serial,
			    STORE_REASON_SUPERSEDED, 0, why);
			if (r == PV_OK)
				r = wf_step_reset(run, wf_key_step(
				    (enum config_slot)s), why);
			if (r == PV_OK && s == CONFIG_SLOT_9D && escrowed)
				r = wf_step_reset(run, WF_S_ESCROW_9D, why);
		}
		if (r == PV_OK)
			wf_note(run, WF_STEP_REDO, "the card's keys no longer "
			    "match %u recorded certificate(s): revoked, their "
			    "keys are made again",
			    (unsigned)__builtin_popcount(ma.mismatch));
		goto out;
	}
	for (s = 0; s < CONFIG_N_SLOTS; s++) {
		uint32_t tag;

		(void)piv_obj_for_key(config_slot_ref((enum config_slot)s),
		    &tag);
		wf_put_add(&pa, tag, &obj[s]);
	}
	if ((r = card_run(w->card, wf_put_fn, &pa, why)) != PV_OK)
		goto out;
	wf_note(run, WF_STEP_DONE, "the four certificates written to the card%s",
	    ma.check ? " (keys checked against the card)" : "");
out:
	for (s = 0; s < CONFIG_N_SLOTS; s++) {
		store_cert_cleanup(&c[s]);
		buf_out_cleanup(&obj[s]);
	}
	return r;
}

/* ---- objects, secobj, finish ---------------------------------------------------------- */

/*
 * The objects step's card work, in one group after 9B authentication.
 * The CCC is required: a refusal fails the step.  The Discovery Object
 * is read first: an applet may build its own and refuse PUT DATA 7E
 * (firmware-notes/discovery-builtin.md); one that already has the PIN
 * policy we would write (the parser holds its AID to the PIV RID) is
 * kept.  A refused write of the
 * Discovery Object or the Key History (optional objects) is recorded,
 * with the card's answer, and the step goes on.
 */
enum wf_obj_outcome {
	WF_OBJ_WRITTEN,
	WF_OBJ_KEPT,		/* the card's own says what we want */
	WF_OBJ_REFUSED		/* the card refused the write */
};

static const char *const wf_obj_outcome_name[] = { "written", "kept",
	"refused" };

struct wf_objects_arg {
	struct wf *w;
	const struct buf_out *ccc, *disc, *keyhist;
	struct buf_out *card_disc;	/* the card's 7E, as read */
	enum wf_obj_outcome disc_out, keyhist_out;
	enum pv_err disc_err, keyhist_err;
	char disc_why[160], keyhist_why[160];
	char disc_policy[8];		/* the card's PIN policy, "4000" */
};

/* A refusal an optional object may get: the card said no to this write.
 * Anything that means the card or our authentication went away is not. */
static bool
wf_obj_refused(enum pv_err e)
{
	return pv_err_class(e) == PV_CLASS_CARD && e != PV_E_SECURITY &&
	    e != PV_E_MALFORMED && e != PV_E_CHAIN;
}

/* PUT DATA of the optional object |tag|; a refusal is noted in |out|,
 * |err| and |msg|, and is not an error. */
static enum pv_err
wf_put_optional(struct apdu_session *a, uint32_t tag, const struct buf_out *o,
    enum wf_obj_outcome *out, enum pv_err *err, char *msg, size_t cap,
    struct pv_why *why)
{
	enum pv_err r;
	size_t n;

	*out = WF_OBJ_WRITTEN;
	r = piv_put_data(a, tag, o->p, o->len, why);
	if (r == PV_OK)
		return PV_OK;
	if (!wf_obj_refused(r)) {
		pv_why_prefix(why, "writing %s", piv_obj_name(tag));
		return r;
	}
	*out = WF_OBJ_REFUSED;
	*err = r;
	if (cap > 0) {	/* the card's words, cut to fit */
		n = strnlen(why->msg, cap - 1);
		memcpy(msg, why->msg, n);
		msg[n] = '\0';
	}
	pv_why_clear(why);
	return PV_OK;
}

static enum pv_err
wf_objects_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_objects_arg *oa = arg;
	struct piv_discovery want, have;
	enum pv_err r;

	oa->disc_out = oa->keyhist_out = WF_OBJ_WRITTEN;
	oa->disc_policy[0] = '\0';
	if ((r = card_admin_auth(&oa->w->adm, a, why)) != PV_OK)
		return r;
	if ((r = piv_put_data(a, PIV_OBJ_CCC, oa->ccc->p, oa->ccc->len,
	    why)) != PV_OK) {
		pv_why_prefix(why, "writing %s", piv_obj_name(PIV_OBJ_CCC));
		return r;
	}

	/* What the card has: none (6A82), ours, or another one. */
	buf_out_truncate(oa->card_disc, 0);
	r = piv_get_data(a, PIV_OBJ_DISCOVERY, oa->card_disc, why);
	if (r == PV_OK && piv_discovery_parse(oa->card_disc->p,
	    oa->card_disc->len, &have, NULL) == PV_OK &&
	    piv_discovery_parse(oa->disc->p, oa->disc->len, &want, NULL) ==
	    PV_OK) {
		(void)snprintf(oa->disc_policy, sizeof(oa->disc_policy),
		    "%02X%02X", have.policy[0], have.policy[1]);
		if (memcmp(have.policy, want.policy, 2) == 0)
			oa->disc_out = WF_OBJ_KEPT;
	} else if (r != PV_OK && !wf_obj_refused(r) &&
	    r != PV_E_MALFORMED) {
		pv_why_prefix(why, "reading %s", piv_obj_name(
		    PIV_OBJ_DISCOVERY));
		return r;
	}
	pv_why_clear(why);
	if (oa->disc_out != WF_OBJ_KEPT &&
	    (r = wf_put_optional(a, PIV_OBJ_DISCOVERY, oa->disc,
	    &oa->disc_out, &oa->disc_err, oa->disc_why,
	    sizeof(oa->disc_why), why)) != PV_OK)
		return r;
	return wf_put_optional(a, PIV_OBJ_KEY_HISTORY, oa->keyhist,
	    &oa->keyhist_out, &oa->keyhist_err, oa->keyhist_why,
	    sizeof(oa->keyhist_why), why);
}

enum pv_err
wf_step_objects(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct buf_out o[4];
	struct wf_objects_arg oa;
	char disc[256], kh[256];
	enum pv_err r;
	int i;

	memset(o, 0, sizeof(o));
	memset(&oa, 0, sizeof(oa));
	for (i = 0; i < 4; i++)
		if (!buf_out_alloc(&o[i], 64, 1024)) {
			r = PV_E_NOMEM;
			goto out;
		}
	if ((r = wf_build_ccc(w, &o[0], why)) != PV_OK ||
	    (r = wf_build_discovery(&o[1], why)) != PV_OK ||
	    (r = wf_build_keyhist(&o[2], why)) != PV_OK)
		goto out;
	oa.w = w;
	oa.ccc = &o[0];
	oa.disc = &o[1];
	oa.keyhist = &o[2];
	oa.card_disc = &o[3];
	if ((r = card_run(w->card, wf_objects_fn, &oa, why)) != PV_OK)
		goto out;

	switch (oa.disc_out) {
	case WF_OBJ_WRITTEN:
		(void)snprintf(disc, sizeof(disc), "Discovery Object written");
		break;
	case WF_OBJ_KEPT:
		(void)snprintf(disc, sizeof(disc), "the card's own Discovery "
		    "Object kept (PIV AID, PIN policy %s)", oa.disc_policy);
		break;
	case WF_OBJ_REFUSED:
		(void)snprintf(disc, sizeof(disc), "the card refused the "
		    "Discovery Object (%s); it has %s%s", oa.disc_why,
		    oa.disc_policy[0] != '\0' ? "its own, PIN policy " :
		    "none", oa.disc_policy);
		break;
	}
	if (oa.keyhist_out == WF_OBJ_REFUSED)
		(void)snprintf(kh, sizeof(kh), "the card refused the Key "
		    "History (%s)", oa.keyhist_why);
	else
		(void)snprintf(kh, sizeof(kh), "Key History written");
	wf_done_detail(run, "{\"ccc\":\"written\",\"discovery\":\"%s\","
	    "\"discovery_error\":\"%s\",\"discovery_policy\":\"%s\","
	    "\"key_history\":\"%s\",\"key_history_error\":\"%s\"}",
	    wf_obj_outcome_name[oa.disc_out], oa.disc_out == WF_OBJ_REFUSED ?
	    pv_errname(oa.disc_err) : "", oa.disc_policy,
	    wf_obj_outcome_name[oa.keyhist_out], oa.keyhist_out ==
	    WF_OBJ_REFUSED ? pv_errname(oa.keyhist_err) : "");
	wf_note(run, WF_STEP_DONE, "CCC written; %s; %s", disc, kh);
out:
	for (i = 0; i < 4; i++)
		buf_out_cleanup(&o[i]);
	return r;
}

struct wf_secobj_arg {
	struct wf *w;
	const struct buf_out *printed;
	struct buf_out *chuid;		/* out: the CHUID as the card has it */
};

static enum pv_err
wf_printed_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_secobj_arg *sa = arg;
	enum pv_err r;

	if ((r = card_admin_auth(&sa->w->adm, a, why)) != PV_OK)
		return r;
	if ((r = piv_put_data(a, PIV_OBJ_PRINTED, sa->printed->p,
	    sa->printed->len, why)) != PV_OK)
		return r;
	buf_out_truncate(sa->chuid, 0);
	return piv_get_data(a, PIV_OBJ_CHUID, sa->chuid, why);
}

/*
 * Printed Information, then the Security Object over it and the CHUID as
 * read back from the card: the hashes are of what the card holds.
 */
enum pv_err
wf_step_secobj(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	struct buf_out printed, chuid, so;
	struct secobj_entry e[2];
	struct wf_secobj_arg sa;
	struct wf_put_arg pa;
	struct piv_chuid ch;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	enum pv_err r;

	memset(&printed, 0, sizeof(printed));
	memset(&chuid, 0, sizeof(chuid));
	memset(&so, 0, sizeof(so));
	memset(e, 0, sizeof(e));
	memset(&pa, 0, sizeof(pa));
	if (!buf_out_alloc(&printed, 256, 1024) ||
	    !buf_out_alloc(&chuid, 2048, WF_OBJ_MAX)) {
		r = PV_E_NOMEM;
		goto out;
	}
	if ((r = wf_build_printed(w, &printed, why)) != PV_OK)
		goto out;
	sa.w = w;
	sa.printed = &printed;
	sa.chuid = &chuid;
	if ((r = card_run(w->card, wf_printed_fn, &sa, why)) != PV_OK)
		goto out;
	if (piv_chuid_parse(chuid.p, chuid.len, &ch, NULL) != PV_OK ||
	    memcmp(ch.guid, w->guid, 16) != 0) {
		r = pv_why_set(why, PV_E_STATE, "the CHUID on the card is not "
		    "the one job %lld wrote", (long long)w->run.job.row.id);
		goto out;
	}
	e[0].dg = secobj_default_dg(SECOBJ_CID_CHUID);
	e[0].container_id = SECOBJ_CID_CHUID;
	e[0].data = chuid.p;
	e[0].len = chuid.len;
	e[1].dg = secobj_default_dg(SECOBJ_CID_PRINTED_INFO);
	e[1].container_id = SECOBJ_CID_PRINTED_INFO;
	e[1].data = printed.p;
	e[1].len = printed.len;
	if ((r = secobj_build(ca_get0_signer(w->p->ca),
	    ca_get0_signer_key(w->p->ca), e, 2, &sig, &sig_len, why)) != PV_OK)
		goto out;
	so.p = sig;
	so.len = sig_len;
	pa.w = w;
	wf_put_add(&pa, PIV_OBJ_SECURITY, &so);
	if ((r = card_run(w->card, wf_put_fn, &pa, why)) != PV_OK)
		goto out;
	wf_note(run, WF_STEP_DONE, "Printed Information written; signed "
	    "Security Object over CHUID and Printed Information written last");
out:
	OPENSSL_free(sig);
	buf_out_cleanup(&printed);
	buf_out_cleanup(&chuid);
	return r;
}

enum pv_err
wf_step_finish(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	char d[64];
	bool escrowed = false;
	enum pv_err r;

	(void)wf_json_bool(wf_detail(w, WF_S_ESCROW_9D), "escrowed", &escrowed);
	if ((r = wf_tx_begin(run, why)) != PV_OK)
		return r;
	w->dev.status = STORE_DEV_ACTIVE;
	w->dev.issued_at = w->now;
	w->dev.expires_at = w->expires;
	w->dev.key_9d_escrowed = escrowed;
	(void)snprintf(d, sizeof(d), "{\"device\":%lld}", (long long)w->dev.id);
	if ((r = store_device_update(w->st, &w->dev, why)) != PV_OK ||
	    (r = wf_finish(run, d, why)) != PV_OK)
		return r;
	wf_note(run, WF_STEP_DONE, "device %lld active; job %lld done",
	    (long long)w->dev.id, (long long)w->run.job.row.id);
	return PV_OK;
}

/* ---- the card's management key and PIN pad, for every step ------------------- */

enum pv_err
wf_mgmt_setup(struct wf *w, struct pv_why *why)
{
	struct card_admin_record rec;
	int64_t alg = 0;
	enum pv_err r;

	memset(&rec, 0, sizeof(rec));
	if (wf_step_done_at(&w->run, WF_S_MGMT)) {
		(void)wf_json_bool(wf_detail(w, WF_S_MGMT), "changed",
		    &rec.changed);
		if (wf_json_i64(wf_detail(w, WF_S_MGMT), "alg_id", &alg))
			rec.alg = (int)alg;
	}
	if ((r = card_admin_setup(&w->adm, w->card, w->p->master, &w->in,
	    w->guid, &rec, why)) != PV_OK)
		return r;
	if (!wf_step_done_at(&w->run, WF_S_MGMT) && w->have_stored)
		/* The key ykman kept for the PIN, unlocked and checked by
		 * wf_ykp_unlock: the mgmt-key step replaces it. */
		card_admin_use_stored(&w->adm, &w->mk_stored, &w->ykp);
	return PV_OK;
}

/* ---- a 9B key kept for the PIN (yk_protected.h) ------------------------------ */

struct wf_ykp_arg {
	struct wf *w;
	int retries;
};

static enum pv_err
wf_ykp_probe_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_ykp_arg *ya = arg;

	return ykp_probe(a, &ya->w->ykp, why);
}

enum pv_err
wf_ykp_probe(struct wf *w, struct pv_why *why)
{
	struct wf_ykp_arg ya = { w, -1 };

	memset(&w->ykp, 0, sizeof(w->ykp));
	/* A factory key is kept nowhere; a key this job set is its own. */
	if (!w->in.yk || (w->in.has_mgm_meta && w->in.mgm_default) ||
	    wf_step_done_at(&w->run, WF_S_MGMT))
		return PV_OK;
	return card_run(w->card, wf_ykp_probe_fn, &ya, why);
}

static enum pv_err
wf_ykp_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_ykp_arg *ya = arg;
	const struct card_facts *in = &ya->w->in;
	enum mgmtkey_alg alg = in->has_mgm_meta ?
	    (enum mgmtkey_alg)in->mgm_alg : MGMTKEY_3DES;

	ya->retries = -1;
	return ykp_unlock(a, &ya->w->ykp, (const uint8_t *)WF_DEFAULT_PIN,
	    sizeof(WF_DEFAULT_PIN) - 1, alg, &ya->w->mk_stored, &ya->retries,
	    why);
}

enum pv_err
wf_ykp_unlock(struct wf *w, struct pv_why *why)
{
	struct wf_ykp_arg ya = { w, -1 };
	const char *how = ykp_describe(&w->ykp);
	const char *tail = w->run.resumed ? "" : "; nothing was written";
	enum pv_err r;

	mgmtkey_clear(&w->mk_stored);
	w->have_stored = false;
	r = card_run(w->card, wf_ykp_fn, &ya, why);
	if (r == PV_OK) {
		w->have_stored = true;
		return PV_OK;
	}
	if (pv_err_aborts(r))
		return r;
	if (r == PV_E_AUTH_FAILED && w->run.resumed) {
		/* A copy left behind when this job replaced the key and was
		 * interrupted before removing it: the station's key is in
		 * place, and the mgmt-key step removes the copy. */
		pv_why_clear(why);
		return PV_OK;
	}
	if (r == PV_E_PIN_WRONG || r == PV_E_BLOCKED) {
		pv_why_clear(why);
		return pv_why_set(why, r, "the token's management key is %s, and "
		    "its PIN is not the factory default (%s): this station "
		    "cannot unlock the key%s (reset the token's PIV application, "
		    "e.g. ykman piv reset, then issue it)", how,
		    r == PV_E_BLOCKED ? "blocked" : "refused", tail);
	}
	pv_why_prefix(why, "the token's management key is %s, but this station "
	    "cannot use it%s (reset the token's PIV application, e.g. ykman piv "
	    "reset, then issue it)", how, tail);
	return r;
}

/*
 * Before the pad waits: the person is told |prompt|; the length range is
 * [pin] min_length..max_length, within PIV's 8 bytes.
 */
static void
wf_pad_ready(struct wf *w, const char *prompt, uint8_t *min, uint8_t *max)
{
	struct wf_ask q;
	unsigned lo = w->p->cfg->pin_min, hi = w->p->cfg->pin_max;

	if (hi > 8)
		hi = 8;
	if (lo < 1)
		lo = 1;
	if (lo > hi)
		lo = hi;
	*min = (uint8_t)lo;
	*max = (uint8_t)hi;
	memset(&q, 0, sizeof(q));
	q.kind = WF_ASK_PAD;
	q.text = prompt;
	q.min = lo;
	q.max = hi;
	(void)wf_ask(&w->run, &q, NULL, NULL);
}

enum pv_err
wf_pad_verify_pin(struct wf *w, const char *prompt, struct pv_why *why)
{
	uint8_t min, max;

	wf_pad_ready(w, prompt, &min, &max);
	return card_pad_verify_pin(w->card, min, max, NULL, why);
}

enum pv_err
wf_pad_change_pin(struct wf *w, const char *prompt, const uint8_t *cur,
    size_t cur_len, int *retries, struct pv_why *why)
{
	uint8_t min, max;

	wf_pad_ready(w, prompt, &min, &max);
	return card_pad_change_pin(w->card, cur, cur_len, min, max, retries,
	    why);
}
