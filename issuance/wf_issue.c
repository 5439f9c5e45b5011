/*
 * wf_issue.c: primary issuance (wf_issue.h): the checks made before
 * anything is written, the register step that creates the job, and the
 * runner that takes the job's steps in order until it is done.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "apdu/buf.h"
#include "issuance/ca.h"
#include "issuance/wf_issue_int.h"
#include "pcsc/pcsc.h"

#define WF_S_DEF(id, name, fn, writes) [WF_S_##id] = { name, fn, writes },
static const struct wf_step_def wf_issue_steps[WF_S__COUNT] = {
	WF_ISSUE_STEPS(WF_S_DEF)
};
#undef WF_S_DEF

const struct wf_def wf_issue_def = {
	WF_ISSUE_JOB_KIND, wf_issue_steps, WF_S__COUNT
};

const struct wf_def *
wf_issue_definition(void)
{
	return &wf_issue_def;
}

/* ---- checks without a card -------------------------------------------------------- */

/*
 * The certificate profile from the configuration, with what the identity
 * says of this issuance: the PIV interim indicator follows the person's
 * background investigation when the identity gives it.
 */
static enum pv_err
wf_profile_cfg(const struct wf_issue_params *p, struct profile_cfg *pc,
    struct pv_why *why)
{
	const char *bi = p->ident->background_investigation;
	enum pv_err r;

	if ((r = profile_cfg_from_config(p->cfg, pc, why)) != PV_OK)
		return r;
	if (strcmp(bi, "pending") == 0)
		pc->piv_interim = PROFILE_INTERIM_TRUE;
	else if (strcmp(bi, "adjudicated") == 0)
		pc->piv_interim = PROFILE_INTERIM_FALSE;
	return profile_cfg_check(pc, why);
}

enum pv_err
wf_issue_check_person(const struct pv_config *cfg,
    const struct identity *ident, struct pv_why *why)
{
	static const char dummy_uuid[] = "00000000-0000-4000-8000-000000000000";
	struct profile_subject tmp;
	unsigned k;

	/* The subjects the certificates will have, with a stand-in UUID: a
	 * name they cannot carry is refused before any job starts. */
	for (k = 0; k < 2; k++)
		if (profile_subject_build(cfg, ident, dummy_uuid, k == 1, &tmp,
		    why) != PV_OK)
			return PV_E_INPUT;
	return PV_OK;
}

enum pv_err
wf_issue_check(const struct wf_issue_params *p, struct pv_why *why)
{
	struct profile_cfg pc;
	unsigned s;
	enum pv_err r;

	if ((r = wf_profile_cfg(p, &pc, why)) != PV_OK ||
	    (r = wf_issue_check_person(p->cfg, p->ident, why)) != PV_OK)
		return r;
	for (s = 0; s < CONFIG_N_SLOTS; s++) {
		enum pkix_alg a = pkix_alg_from_piv(
		    (unsigned)p->cfg->slot_alg[s]);

		if (a == PKIX_ALG_NONE || a == PKIX_ALG_RSA4096)
			return pv_why_set(why, PV_E_CONFIG, "[keys] slot_%s: "
			    "%s cannot go on a card", config_slot_name(
			    (enum config_slot)s),
			    config_alg_name(p->cfg->slot_alg[s]));
	}
	/* A PIN typed on the pad is checked there: digits, pin_min..pin_max
	 * (wPINMaxExtraDigit). */
	if (!p->pin_pad &&
	    (r = config_check_pin(p->cfg, p->pin, p->pin_len, why)) != PV_OK)
		return r;
	if (ca_get0_issuing_key(p->ca) == NULL ||
	    ca_get0_signer_key(p->ca) == NULL)
		return pv_why_set(why, PV_E_STATE, "the CA was opened without "
		    "its passphrase: it cannot sign");
	if (ca_get0_kra(p->ca) == NULL || ca_get0_signer(p->ca) == NULL)
		return pv_why_set(why, PV_E_STATE, "the CA has no key recovery "
		    "agent or content signer certificate");
	return PV_OK;
}

/* ---- decisions on the inspected card ---------------------------------------------- */

static void
wf_add_reason(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);

	(void)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", s);
}

/* A non-terminated device of the store with this card's serial or GUID. */
static enum pv_err
wf_store_knows(struct wf *w, struct store_device *d, bool *found,
    struct pv_why *why)
{
	char serial[16];
	enum pv_err r = PV_E_NO_RECORD;

	*found = false;
	if (w->in.has_serial) {
		(void)snprintf(serial, sizeof(serial), "%u", w->in.serial);
		r = store_device_find_serial(w->st, serial, d, why);
	}
	if (r == PV_E_NO_RECORD && w->in.chuid_ok) {
		pv_why_clear(why);
		r = store_device_find_guid(w->st, w->in.chuid_guid, d, why);
		if (r == PV_OK && d->status == STORE_DEV_TERMINATED)
			r = PV_E_NO_RECORD;
	}
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return PV_OK;
	}
	if (r == PV_OK)
		*found = true;
	return r;
}

/*
 * Factory content (firmware-notes/factory-chuid.md): an unsigned CHUID
 * (empty signature element) whose GUID and FASC-N no device of the store
 * has, ever.  This station signs every CHUID it writes, so such a CHUID
 * was left by a vendor or a personalisation tool.  A signed CHUID, one
 * that does not parse, or one the store knows belongs to an issuer.
 */
static enum pv_err
wf_chuid_factory(struct wf *w, bool *out, struct pv_why *why)
{
	struct store_device d;
	enum pv_err r;

	*out = false;
	if (!w->in.has_chuid || !w->in.chuid_ok || w->in.chuid_signed)
		return PV_OK;
	r = store_device_find_guid(w->st, w->in.chuid_guid, &d, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = store_device_find_fascn(w->st, w->in.chuid_fascn, &d, why);
	}
	if (r == PV_OK)
		return PV_OK;	/* a device of this station's */
	if (r != PV_E_NO_RECORD)
		return r;
	pv_why_clear(why);
	*out = true;
	return PV_OK;
}

/*
 * A new job needs a blank card: no CHUID, no certificate, factory PIN,
 * PUK and management key where the token can tell, and not a device the
 * store already knows.  An unsigned CHUID that is factory content does not
 * count unless [card] factory_chuid = refuse.  With --reissue the objects
 * may be overwritten and
 * the store's device is terminated (its certificates revoked), but the
 * PIN and PUK must still be the factory ones: this station cannot set
 * them without the old values.
 */
static enum pv_err
wf_check_blank(struct wf *w, struct pv_why *why)
{
	static const char *const sl[4] = { "9A", "9C", "9D", "9E" };
	const struct card_facts *in = &w->in;
	struct store_device d;
	char reasons[200] = "", certs[32] = "", tmp[64];
	bool found;
	enum pv_err r;
	int i;

	/* A 9B key kept for the PIN is unlocked with the factory PIN only
	 * (yk_protected.h): then it is no reason to refuse. */
	if (ykp_has_key(&w->ykp) && in->has_pin_meta && !in->pin_default)
		return pv_why_set(why, PV_E_STATE, "the token's management key "
		    "is %s and its PIN is not the factory default: this station "
		    "cannot unlock the key; nothing was written (reset the "
		    "token's PIV application, e.g. ykman piv reset, then issue "
		    "it)", ykp_describe(&w->ykp));
	if ((r = wf_chuid_factory(w, &w->factory_chuid, why)) != PV_OK)
		return r;
	if (in->has_chuid && !w->factory_chuid)
		wf_add_reason(reasons, sizeof(reasons), "a CHUID");
	else if (w->factory_chuid && w->p->cfg->factory_chuid ==
	    CONFIG_FACTORY_CHUID_REFUSE)
		wf_add_reason(reasons, sizeof(reasons), "an unsigned factory "
		    "CHUID ([card] factory_chuid = refuse)");
	for (i = 0; i < 4; i++)
		if (in->certs & (1u << i))
			wf_add_reason(certs, sizeof(certs), sl[i]);
	if (certs[0] != '\0') {
		(void)snprintf(tmp, sizeof(tmp), "certificates in %s", certs);
		wf_add_reason(reasons, sizeof(reasons), tmp);
	}
	if (in->has_mgm_meta && !in->mgm_default && !ykp_has_key(&w->ykp))
		wf_add_reason(reasons, sizeof(reasons), "a changed management "
		    "key");
	if (in->has_pin_meta && !in->pin_default)
		wf_add_reason(reasons, sizeof(reasons), "a changed PIN");
	if (in->has_puk_meta && !in->puk_default)
		wf_add_reason(reasons, sizeof(reasons), "a changed PUK");
	if ((r = wf_store_knows(w, &d, &found, why)) != PV_OK)
		return r;
	if (found) {
		(void)snprintf(tmp, sizeof(tmp), "a store record (device %lld, "
		    "%s)", (long long)d.id,
		    store_device_status_name(d.status));
		wf_add_reason(reasons, sizeof(reasons), tmp);
		w->old_dev[w->n_old_dev++] = d.id;
	}
	if (reasons[0] == '\0')
		return PV_OK;
	if (!w->p->reissue)
		/* The reader is left out: the whole sentence must fit a
		 * pv_why, the hint included. */
		return pv_why_set(why, PV_E_EXISTS, "the card is not blank: it "
		    "has %s; nothing was written (--reissue issues it again, "
		    "revoking what the store has for it)", reasons);
	if ((in->has_pin_meta && !in->pin_default) ||
	    (in->has_puk_meta && !in->puk_default))
		return pv_why_set(why, PV_E_STATE, "--reissue: the card's %s "
		    "not the factory default, and this station cannot set a "
		    "new one without the old; reset the token's PIV "
		    "application first", in->has_pin_meta && !in->pin_default ?
		    "PIN is" : "PUK is");
	return PV_OK;
}

bool
wf_done_match(const struct card_facts *in, const struct store_device *d,
    const struct store_job *j, int64_t person_id, unsigned live,
    const uint8_t live_sha256[4][32])
{
	char serial[16];
	unsigned i;

	if (person_id == 0 || d->status != STORE_DEV_ACTIVE ||
	    d->person_id != person_id || j->state != STORE_JOB_DONE ||
	    strcmp(j->kind, WF_ISSUE_JOB_KIND) != 0 ||
	    j->person_id != person_id || j->device_id != d->id || d->id == 0)
		return false;
	if (d->serial[0] != '\0') {
		(void)snprintf(serial, sizeof(serial), "%u", in->serial);
		if (!in->has_serial || strcmp(serial, d->serial) != 0)
			return false;
	}
	if (!d->has_guid || !in->chuid_ok ||
	    memcmp(in->chuid_guid, d->guid, 16) != 0)
		return false;
	if (!in->read_certs || in->certs != live || live == 0)
		return false;
	for (i = 0; i < 4; i++)
		if ((live & (1u << i)) != 0 &&
		    memcmp(in->cert_sha256[i], live_sha256[i], 32) != 0)
			return false;
	return true;
}

/* SHA-256 of the DER of the certificate in |pem|. */
static bool
wf_pem_sha256(const char *pem, uint8_t out[32])
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = x != NULL ? i2d_X509(x, &der) : -1;
	bool ok = n > 0 && EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(),
	    NULL) == 1;

	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	return ok;
}

/*
 * Without --reissue: is the card the person's DONE issue job's device,
 * unchanged?  Then *done and the job's facts are loaded into |w|; reads
 * only.  Anything that does not fit leaves *done false (the blank check
 * then refuses the card as before).
 */
static enum pv_err
wf_check_done(struct wf *w, bool *done, struct pv_why *why)
{
	uint8_t live_sha[4][32];
	struct store_person person;
	struct store_job *jobs = NULL, *hit = NULL;
	struct store_device d;
	struct store_cert c;
	struct pv_why ignore = { "" };
	unsigned live = 0, s;
	size_t n = 0, i;
	bool found;
	enum pv_err r;

	*done = false;
	memset(live_sha, 0, sizeof(live_sha));
	if (!w->in.chuid_ok || !w->in.read_certs)
		return PV_OK;
	if ((r = wf_store_knows(w, &d, &found, why)) != PV_OK)
		return r;
	if (!found || d.status != STORE_DEV_ACTIVE)
		return PV_OK;
	r = store_person_find_external(w->st, w->p->ident->person_id, &person,
	    why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return PV_OK;
	}
	if (r != PV_OK)
		return r;
	if (d.person_id != person.id)
		return PV_OK;
	if ((r = store_job_list_all(w->st, &jobs, &n, why)) != PV_OK)
		return r;
	for (i = 0; i < n; i++)	/* oldest first: the last match wins */
		if (jobs[i].device_id == d.id &&
		    jobs[i].state == STORE_JOB_DONE &&
		    strcmp(jobs[i].kind, WF_ISSUE_JOB_KIND) == 0)
			hit = &jobs[i];
	for (s = 0; s < CONFIG_N_SLOTS && s < 4 && hit != NULL; s++) {
		memset(&c, 0, sizeof(c));
		if (store_cert_live(w->st, d.id,
		    config_slot_ref((enum config_slot)s), &c, &ignore) == PV_OK &&
		    c.pem != NULL && wf_pem_sha256(c.pem, live_sha[s]))
			live |= 1u << s;
		store_cert_cleanup(&c);
	}
	if (hit == NULL || !wf_done_match(&w->in, &d, hit, person.id, live,
	    live_sha)) {
		free(jobs);
		return PV_OK;
	}
	r = wf_job_load(&w->run, hit->id, why);
	if (r == PV_OK)
		r = wf_load_job_facts(w, why);
	if (r == PV_OK) {
		w->out->issued_at = hit->updated_at;
		*done = true;
	} else {
		/* Not this version's job, or its facts no longer follow:
		 * not taken as done. */
		pv_why_clear(why);
		job_cleanup(&w->run.job);
		memset(&w->dev, 0, sizeof(w->dev));
		r = PV_OK;
	}
	free(jobs);
	return r;
}

/* The resumed job's card must be the one in the reader. */
static enum pv_err
wf_check_same_card(struct wf *w, struct pv_why *why)
{
	const struct card_facts *in = &w->in;
	char serial[16];

	if (w->dev.serial[0] != '\0') {
		(void)snprintf(serial, sizeof(serial), "%u", in->serial);
		if (in->has_serial && strcmp(serial, w->dev.serial) == 0)
			return PV_OK;
		return pv_why_set(why, PV_E_DIFFERENT_CARD, "job %lld for this "
		    "person is issuing the token with serial %s%s%s%s, but the "
		    "card in %s %s%s: put that token back to finish the job",
		    (long long)w->run.job.row.id, w->dev.serial,
		    w->run.job.row.reader[0] ? " (in " : "",
		    w->run.job.row.reader,
		    w->run.job.row.reader[0] ? ")" : "", card_reader(w->card),
		    in->has_serial ? "has serial " : "has no serial",
		    in->has_serial ? serial : "");
	}
	if (in->has_chuid) {
		bool factory = false;
		enum pv_err r;

		if (in->chuid_ok && memcmp(in->chuid_guid, w->guid, 16) == 0)
			return PV_OK;
		/* Pulled before the chuid step: the factory CHUID is still
		 * there, and nothing card-specific was written yet. */
		if (!wf_step_done_at(&w->run, WF_S_CHUID)) {
			if ((r = wf_chuid_factory(w, &factory, why)) != PV_OK)
				return r;
			w->factory_chuid = factory;
			if (factory)
				return PV_OK;
		}
	} else if (!wf_step_done_at(&w->run, WF_S_CHUID)) {
		return PV_OK;	/* nothing card-specific written yet */
	}
	return pv_why_set(why, PV_E_DIFFERENT_CARD, "job %lld for this person "
	    "is issuing another card%s%s%s (its CHUID GUID differs): put that "
	    "card back to finish the job", (long long)w->run.job.row.id,
	    w->run.job.row.reader[0] ? " (in " : "", w->run.job.row.reader,
	    w->run.job.row.reader[0] ? ")" : "");
}

/* Escrow policy, algorithms, blocked PIN or PUK. */
static enum pv_err
wf_check_token(struct wf *w, struct pv_why *why)
{
	const struct pv_config *cfg = w->p->cfg;
	const struct card_facts *in = &w->in;
	const char *reader = card_reader(w->card);
	bool yk57;
	unsigned s;

	/* IMPORT KEY is a YubiKey extension (PIV-REFERENCE §9); a token that
	 * answers GET VERSION has it. */
	w->can_import = in->yk;
	if (wf_step_done_at(&w->run, WF_S_ESCROW_9D))
		(void)wf_json_bool(wf_detail(w, WF_S_ESCROW_9D), "escrowed",
		    &w->escrow_9d);
	else
		w->escrow_9d = w->can_import;
	if (!w->can_import && !wf_step_done_at(&w->run, WF_S_ESCROW_9D) &&
	    cfg->escrow_policy == CONFIG_ESCROW_REQUIRED)
		return pv_why_set(why, PV_E_POLICY, "escrow policy 'required' "
		    "([escrow] policy): the token in %s is a plain PIV card "
		    "without IMPORT KEY, so the 9D key made on the station "
		    "cannot be put on it; nothing was written (use a token "
		    "that can import keys, or [escrow] policy = optional to "
		    "make 9D on the card, not escrowed)", reader);
	yk57 = piv_yk_version_ge(&in->ver, 5, 7, 0);
	for (s = 0; s < CONFIG_N_SLOTS; s++) {
		enum config_alg a = cfg->slot_alg[s];

		if (in->yk && !yk57 && (a == CONFIG_ALG_RSA3072 ||
		    a == CONFIG_ALG_RSA4096))
			return pv_why_set(why, PV_E_NOT_SUPPORTED, "[keys] "
			    "slot_%s = %s: the token in %s (firmware %u.%u.%u) "
			    "has RSA 3072 only from firmware 5.7; nothing was "
			    "written", config_slot_name((enum config_slot)s),
			    config_alg_name(a), reader, in->ver.major,
			    in->ver.minor, in->ver.patch);
	}
	if ((in->has_pin_meta && in->pin_left == 0) ||
	    (in->has_pin_status && in->pin_status.blocked))
		return pv_why_set(why, PV_E_BLOCKED, "the card's PIN is blocked; "
		    "nothing was written");
	if (in->has_puk_meta && in->puk_left == 0)
		return pv_why_set(why, PV_E_BLOCKED, "the card's PUK is blocked; "
		    "nothing was written");
	return PV_OK;
}

/* ---- the register step -------------------------------------------------------------- */

/* --reissue: a device of the store that this card was; its running job
 * (another person's) is cancelled, its certificates revoked. */
static enum pv_err
wf_retire_device(struct wf *w, int64_t dev_id, struct pv_why *why)
{
	struct store_job *jobs = NULL;
	struct store_device d;
	struct job j;
	size_t n = 0, i;
	enum pv_err r;

	memset(&j, 0, sizeof(j));
	if ((r = store_device_get(w->st, dev_id, &d, why)) != PV_OK)
		return r;
	if (d.status == STORE_DEV_TERMINATED)
		return PV_OK;
	if ((r = store_job_list_running(w->st, &jobs, &n, why)) != PV_OK)
		return r;
	for (i = 0; i < n && r == PV_OK; i++) {
		if (jobs[i].device_id != dev_id)
			continue;
		if ((r = job_load(w->st, jobs[i].id, &j, why)) == PV_OK)
			r = job_finish(w->st, &j, STORE_JOB_CANCELLED,
			    "{\"reason\":\"card re-issued\"}", why);
		job_cleanup(&j);
	}
	free(jobs);
	if (r == PV_OK)
		r = store_device_terminate(w->st, dev_id,
		    STORE_REASON_SUPERSEDED, NULL, why);
	return r;
}

/* The first step: person, device, card UUID, credential number, the job. */
enum pv_err
wf_step_register(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wf *w = state;
	const struct pv_config *cfg = w->p->cfg;
	struct store_device *d = &w->dev;
	char gh[33], sh[33];
	int64_t person_id = 0;
	size_t i;
	enum pv_err r;

	if ((r = wf_tx_begin(run, why)) != PV_OK)
		return r;
	r = store_person_put(w->st, w->p->ident, w->p->update_person ?
	    STORE_PERSON_UPDATE : STORE_PERSON_REFUSE, &person_id, why);
	for (i = 0; i < w->n_old_dev && r == PV_OK; i++)
		r = wf_retire_device(w, w->old_dev[i], why);
	/* Claims the person: another run that got here first makes this one
	 * stop, before anything is written to its card. */
	if (r == PV_OK)
		r = wf_job_create(run, person_id, why);
	if (r == PV_OK)
		r = store_credential_number_next(w->st, cfg->agency_code,
		    cfg->system_code, run->job.row.id, &w->cred, why);
	if (r == PV_OK && (RAND_bytes(w->guid, 16) != 1 ||
	    RAND_bytes(w->salt, 16) != 1))
		r = pv_why_set(why, PV_E_CRYPTO, "no random bytes for the card "
		    "UUID");
	if (r == PV_OK) {
		/* RFC 4122 version 4 (random) */
		w->guid[6] = (uint8_t)((w->guid[6] & 0x0f) | 0x40);
		w->guid[8] = (uint8_t)((w->guid[8] & 0x3f) | 0x80);
		w->expires = config_card_expiry(cfg, w->now);
		if (w->expires <= w->now)
			r = pv_why_set(why, PV_E_CONFIG, "[validity] card: the "
			    "expiry overflows the clock");
	}
	if (r == PV_OK)
		r = wf_fascn_make(cfg, w->p->ident, w->cred, w->fascn,
		    w->fascn_str, why);
	if (r == PV_OK) {
		memset(d, 0, sizeof(*d));
		d->person_id = person_id;
		d->type = w->in.yk ? STORE_DEV_USB_KEY : STORE_DEV_CARD;
		if (w->card->atr != NULL && w->card->atr_len <= STORE_ATR_MAX) {
			memcpy(d->atr, w->card->atr, w->card->atr_len);
			d->atr_len = w->card->atr_len;
		}
		if (w->in.has_serial)
			(void)snprintf(d->serial, sizeof(d->serial), "%u",
			    w->in.serial);
		memcpy(d->guid, w->guid, 16);
		d->has_guid = true;
		memcpy(d->fascn, w->fascn, FASCN_LEN);
		d->has_fascn = true;
		d->status = STORE_DEV_ISSUING;
		d->expires_at = w->expires;
		r = store_device_add(w->st, d, &d->id, why);
	}
	/* Claims the card: a device in another running job is refused. */
	if (r == PV_OK)
		r = job_set_device(w->st, &run->job, d->id, why);
	if (r != PV_OK) {
		/* The runner rolls back: no job, no device. */
		job_cleanup(&run->job);
		memset(d, 0, sizeof(*d));
		return r;
	}
	buf_hex(w->guid, 16, gh);
	buf_hex(w->salt, 16, sh);
	wf_done_detail(run, "{\"guid\":\"%s\",\"salt\":\"%s\",\"cred\":%u,"
	    "\"expires\":%lld,\"device\":%lld}", gh, sh, w->cred,
	    (long long)w->expires, (long long)d->id);
	wf_note(run, WF_STEP_DONE, "job %lld: device %lld, card UUID and "
	    "FASC-N %s allocated", (long long)run->job.row.id,
	    (long long)d->id, w->fascn_str);
	return PV_OK;
}

/* ---- the run ----------------------------------------------------------------------- */

/* The person's RUNNING issue job, if any: reads only. */
static enum pv_err
wf_find_job(struct wf *w, struct pv_why *why)
{
	struct store_person person;
	bool found = false;
	enum pv_err r;

	r = store_person_find_external(w->st, w->p->ident->person_id, &person,
	    why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return PV_OK;
	}
	if (r == PV_OK)
		r = wf_job_find(&w->run, person.id, &found, why);
	if (r != PV_OK || !found)
		return r;
	/* The job goes on with the identity given now: its details must be
	 * the person's in the store, which the register step checked and the
	 * certificates already made carry.  An update waits for a new job
	 * (one card, one set of details). */
	if ((r = store_person_put(w->st, w->p->ident, STORE_PERSON_REFUSE,
	    NULL, why)) != PV_OK) {
		pv_why_prefix(why, "job %lld issues with the stored details%s",
		    (long long)w->run.job.row.id, w->p->update_person ?
		    " (--update-person: finish or cancel the job first)" : "");
		return r;
	}
	return wf_load_job_facts(w, why);
}

static void
wf_fill_result(struct wf *w)
{
	struct wf_issue_result *o = w->out;
	struct store_cert c;
	struct pv_why ignore = { "" };
	bool b = false;
	unsigned s;

	o->job_id = w->run.job.row.id;
	o->person_id = w->dev.person_id;
	o->device_id = w->dev.id;
	o->resumed = w->run.resumed;
	o->type = w->dev.type;
	(void)snprintf(o->serial, sizeof(o->serial), "%s", w->dev.serial);
	memcpy(o->guid, w->guid, 16);
	(void)snprintf(o->fascn, sizeof(o->fascn), "%s", w->fascn_str);
	o->expires_at = w->expires;
	for (s = 0; s < CONFIG_N_SLOTS && w->dev.id != 0; s++) {
		memset(&c, 0, sizeof(c));
		if (store_cert_live(w->st, w->dev.id,
		    config_slot_ref((enum config_slot)s), &c, &ignore) == PV_OK)
			(void)snprintf(o->cert_serial[s],
			    sizeof(o->cert_serial[s]), "%s", c.serial);
		store_cert_cleanup(&c);
	}
	(void)wf_json_bool(wf_detail(w, WF_S_ESCROW_9D), "escrowed", &b);
	o->key_9d_escrowed = b;
	b = false;
	(void)wf_json_bool(wf_detail(w, WF_S_ESCROW_PUK), "escrowed", &b);
	o->puk_escrowed = b;
	if (w->adm.cur.len != 0) {
		(void)snprintf(o->mgmt_alg, sizeof(o->mgmt_alg), "%s",
		    mgmtkey_alg_name(w->adm.cur.alg));
		o->mgmt_changed = !w->adm.cur_default;
	}
	o->steps_run = w->run.steps_run;
	o->ns_card = w->card->ns;
}

/* The card's refusals that need no reading: PIV, the pad. */
static enum pv_err
wf_check_reader(struct wf *w, struct pv_why *why)
{
	struct pv_why pad = { "" };
	enum pv_err r;

	if ((r = card_check_piv(w->card, why)) != PV_OK)
		return r;
	if (w->p->pin_pad && (r = card_check_pad(w->card, true, &pad)) !=
	    PV_OK)
		return pv_why_set(why, r, "%s; nothing was written", pad.msg);
	return PV_OK;
}

enum pv_err
wf_issue_run(const struct wf_issue_params *p, struct card *card,
    struct wf_issue_result *out, struct pv_why *why)
{
	struct wf w;
	uint64_t t0 = pcsc_now_ns(), c0 = card->ns;
	char desc[256];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.card = card;
	w.out = out;
	w.st = p->st;
	w.now = p->now != 0 ? p->now : store_now(p->st);
	wf_run_init(&w.run, &wf_issue_def, p->st, p->hooks, card->reader);

	if ((r = wf_issue_check(p, why)) != PV_OK ||
	    (r = wf_profile_cfg(p, &w.pcfg, why)) != PV_OK ||
	    (r = wf_check_reader(&w, why)) != PV_OK ||
	    (r = wf_find_job(&w, why)) != PV_OK)
		goto out;

	/* Read the card; nothing is written before the decisions below. */
	if ((r = card_inspect(card, w.run.resumed ? 0 : CARD_FACTS_CERTS,
	    &w.in, why)) != PV_OK) {
		pv_why_prefix(why, "reading the card");
		goto out;
	}
	card_describe(&w.in, NULL, desc, sizeof(desc));
	if (!w.run.resumed && !p->reissue) {
		bool done = false;

		if ((r = wf_check_done(&w, &done, why)) != PV_OK)
			goto out;
		if (done) {
			out->already_issued = true;
			if (w.in.has_mgm_meta) {
				(void)snprintf(out->mgmt_alg,
				    sizeof(out->mgmt_alg), "%s",
				    mgmtkey_alg_name(
				    (enum mgmtkey_alg)w.in.mgm_alg));
				out->mgmt_changed = !w.in.mgm_default;
			}
			wf_emit(&w.run, -1, WF_STEP_DONE, "%s; already issued "
			    "to this person by job %lld: nothing to do", desc,
			    (long long)w.run.job.row.id);
			goto out;
		}
	}
	/* Where ykman keeps a changed 9B key (yk_protected.h). */
	if ((r = wf_ykp_probe(&w, why)) != PV_OK) {
		pv_why_prefix(why, "reading the card");
		goto out;
	}
	if (ykp_describe(&w.ykp) != NULL) {
		char more[96];

		(void)snprintf(more, sizeof(more), "management key %s",
		    ykp_describe(&w.ykp));
		card_describe(&w.in, more, desc, sizeof(desc));
	}
	if (w.run.resumed)
		r = wf_check_same_card(&w, why);
	else
		r = wf_check_blank(&w, why);
	if (r == PV_OK)
		r = wf_check_token(&w, why);
	if (r != PV_OK) {
		wf_emit(&w.run, -1, WF_STEP_FAILED, "%s: %s", desc, why->msg);
		goto out;
	}
	/*
	 * The PIN.  A resumed job that set the person's PIN checks that the
	 * PIN given now is that one (a wrong one costs a try, and stops
	 * here).  A new job on a token that cannot say whether its PIN is
	 * the factory default tries the default once: a card whose PIN is
	 * not the default is not blank, and this is where that shows
	 * without anything written.
	 */
	if (w.run.resumed && wf_step_done_at(&w.run, WF_S_SET_PIN)) {
		r = p->pin_pad ? wf_pad_verify_pin(&w, "type the PIN this job "
		    "set, on the reader's PIN pad", why) :
		    card_verify_pin(card, p->pin, p->pin_len, NULL, why);
		if (r != PV_OK) {
			pv_why_prefix(why, "job %lld already set the person's "
			    "PIN in an earlier run; give that PIN",
			    (long long)w.run.job.row.id);
			goto out;
		}
	} else if (!w.run.resumed && !w.in.has_pin_meta) {
		r = card_verify_pin(card, (const uint8_t *)WF_DEFAULT_PIN,
		    sizeof(WF_DEFAULT_PIN) - 1, NULL, why);
		if (r == PV_E_PIN_WRONG) {
			pv_why_prefix(why, "the card's PIN is not the factory "
			    "default, so it is not blank; nothing was written");
			goto out;
		}
		if (r != PV_OK)
			goto out;
	}
	/* A 9B key kept for the PIN: unlocked now, replaced by mgmt-key. */
	if (ykp_has_key(&w.ykp) && !wf_step_done_at(&w.run, WF_S_MGMT) &&
	    (r = wf_ykp_unlock(&w, why)) != PV_OK) {
		wf_emit(&w.run, -1, WF_STEP_FAILED, "%s: %s", desc, why->msg);
		goto out;
	}
	wf_emit(&w.run, -1, WF_STEP_DONE, "%s%s%s", desc, w.run.resumed ?
	    "; resuming the person's job" : "; blank", w.factory_chuid ?
	    " (the CHUID is factory content: unsigned and written by no job "
	    "of this station; the chuid step replaces it)" : "");

	/* A new job's register step runs before the card is touched; the
	 * rest needs the card UUID it allocates. */
	if (!w.run.resumed) {
		r = wf_run_step_first(&w.run, &w, why);
		if (r != PV_OK)
			goto out;
	}
	card_note_identity(card, w.in.has_serial, w.in.serial, w.in.chuid_ok,
	    w.in.chuid_guid);
	if ((r = wf_subjects(&w, why)) != PV_OK ||
	    (r = wf_mgmt_setup(&w, why)) != PV_OK)
		goto out;
	r = wf_run_steps(&w.run, &w, why);
out:
	wf_fill_result(&w);
	out->ns_card = card->ns - c0;
	out->ns_total = pcsc_now_ns() - t0;
	card_admin_clear(&w.adm);
	mgmtkey_clear(&w.mk_stored);
	EVP_PKEY_free(w.km_key);
	wf_run_cleanup(&w.run);
	OPENSSL_cleanse(w.salt, sizeof(w.salt));
	return r;
}
