/*
 * wf_issue_card.c: the card side of primary issuance that is not a step of
 * its own: the card seam over a pcsc session, the read-only inspection,
 * management-key authentication and replacement, PIN checks.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "apdu/piv_obj.h"
#include "apdu/piv_pkey.h"
#include "pcsc/session.h"
#include "issuance/wf_issue_int.h"

/* ---- the seam over a pcsc session ------------------------------------------------ */

struct wf_tramp {
	wf_card_fn *fn;
	void *arg;
};

static enum pv_err
wf_sess_step(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct wf_tramp *t = arg;

	return t->fn(&s->apdu, t->arg, why);
}

static enum pv_err
wf_sess_run(void *ctx, wf_card_fn *fn, void *arg, struct pv_why *why)
{
	struct wf_tramp t = { fn, arg };

	return pcsc_session_run(ctx, wf_sess_step, &t, why);
}

static unsigned
wf_sess_epoch(void *ctx)
{
	const struct pcsc_session *s = ctx;

	return s->n_recoveries;
}

static void
wf_sess_note(void *ctx, bool has_serial, uint32_t serial, bool has_guid,
    const uint8_t guid[16])
{
	struct pcsc_session *s = ctx;

	/* A serial identifies a token for good; a GUID only once the CHUID
	 * holding it is on the card (pcsc_session_recover reads it there). */
	memset(&s->id, 0, sizeof(s->id));
	if (has_serial) {
		s->id.has_serial = true;
		s->id.serial = serial;
	} else if (has_guid) {
		s->id.has_guid = true;
		memcpy(s->id.guid, guid, 16);
	}
}

static enum pv_err
wf_sess_pad_verify(void *ctx, uint8_t ref, uint8_t min, uint8_t max,
    int *retries, struct pv_why *why)
{
	return pcsc_session_verify_pinpad(ctx, ref, min, max, retries, why);
}

static enum pv_err
wf_sess_pad_change(void *ctx, uint8_t ref, const uint8_t *cur,
    size_t cur_len, uint8_t min, uint8_t max, int *retries,
    struct pv_why *why)
{
	return pcsc_session_change_pinpad(ctx, ref, cur, cur_len, min, max,
	    retries, why);
}

void
wf_card_from_session(struct wf_card *c, struct pcsc_session *s)
{
	memset(c, 0, sizeof(*c));
	c->apdu = &s->apdu;
	c->run = wf_sess_run;
	c->epoch = wf_sess_epoch;
	c->note_identity = wf_sess_note;
	c->pad_verify = wf_sess_pad_verify;
	c->pad_change = wf_sess_pad_change;
	c->ctx = s;
	c->atr = pcsc_card_atr(s->card, &c->atr_len);
	c->reader = s->reader;
}

/* ---- running groups of commands ----------------------------------------------- */

bool
wf_err_is_transport(enum pv_err r)
{
	switch (r) {
	case PV_E_TRANSPORT:
	case PV_E_NO_CARD:
	case PV_E_RESET:
	case PV_E_TIMEOUT:
	case PV_E_NO_SERVICE:
	case PV_E_NO_READER:
	case PV_E_SHARING:
	case PV_E_PROTO:
	case PV_E_DIFFERENT_CARD:
	case PV_E_CANCELLED:
		return true;
	default:
		return false;
	}
}

enum pv_err
wf_card_run(struct wf *w, wf_card_fn *fn, void *arg, struct pv_why *why)
{
	uint64_t t0 = wf_now_ns();
	enum pv_err r;

	if (w->card->run != NULL)
		r = w->card->run(w->card->ctx, fn, arg, why);
	else
		r = fn(w->card->apdu, arg, why);
	w->ns_card += wf_now_ns() - t0;
	return r;
}

static unsigned
wf_epoch(const struct wf *w)
{
	return w->card->epoch != NULL ? w->card->epoch(w->card->ctx) : 0;
}

/* ---- inspection (reads only) -------------------------------------------------------- */

struct wf_insp_arg {
	struct wf *w;
	bool certs;
};

/* Keeps transport errors; anything else means "the card cannot say". */
static bool
wf_soft(enum pv_err r, struct pv_why *why)
{
	if (wf_err_is_transport(r) || r == PV_E_NOMEM)
		return false;
	pv_why_clear(why);
	return true;
}

static enum pv_err
wf_insp_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	static const uint8_t slots[4] = { 0x9a, 0x9c, 0x9d, 0x9e };
	struct wf_insp_arg *ia = arg;
	struct wf_insp *in = &ia->w->in;
	struct piv_yk_metadata md;
	struct piv_chuid ch;
	struct piv_certobj co;
	struct buf_out obj;
	uint32_t tag;
	enum pv_err r;
	int i;

	memset(&obj, 0, sizeof(obj));
	in->yk = false;
	in->has_serial = in->has_mgm_meta = in->has_pin_meta = false;
	in->has_puk_meta = in->has_pin_status = false;
	in->has_chuid = in->chuid_ok = false;
	in->certs = 0;
	in->read_certs = false;

	/* YubiKey extensions: version, serial, metadata (PIV-REFERENCE §9). */
	r = piv_yk_get_version(a, &in->ver, why);
	if (r == PV_OK)
		in->yk = true;
	else if (!wf_soft(r, why))
		return r;
	if (in->yk) {
		/* GET SERIAL, or the OTP application's before firmware 5. */
		r = piv_yk_read_serial(a, &in->ver, &in->serial, why);
		if (r == PV_OK)
			in->has_serial = true;
		else if (!wf_soft(r, why))
			return r;
		r = piv_yk_get_metadata(a, PIV_KEY_MGMT, &md, why);
		if (r == PV_OK && md.has_alg && md.has_default) {
			in->has_mgm_meta = true;
			in->mgm_alg = md.alg;
			in->mgm_default = md.is_default;
		} else if (r != PV_OK && !wf_soft(r, why)) {
			return r;
		}
		r = piv_yk_get_metadata(a, PIV_REF_PIN, &md, why);
		if (r == PV_OK && md.has_default && md.has_retries) {
			in->has_pin_meta = true;
			in->pin_default = md.is_default;
			in->pin_left = md.retries_left;
		} else if (r != PV_OK && !wf_soft(r, why)) {
			return r;
		}
		r = piv_yk_get_metadata(a, PIV_REF_PUK, &md, why);
		if (r == PV_OK && md.has_default && md.has_retries) {
			in->has_puk_meta = true;
			in->puk_default = md.is_default;
			in->puk_left = md.retries_left;
		} else if (r != PV_OK && !wf_soft(r, why)) {
			return r;
		}
	}
	if (!in->has_pin_meta) {
		r = piv_verify_status(a, PIV_REF_PIN, &in->pin_status, why);
		if (r == PV_OK)
			in->has_pin_status = true;
		else if (!wf_soft(r, why))
			return r;
	}

	if (!buf_out_alloc(&obj, 1024, 16384))
		return PV_E_NOMEM;
	r = piv_get_data(a, PIV_OBJ_CHUID, &obj, why);
	if (r == PV_OK) {
		in->has_chuid = true;
		if (piv_chuid_parse(obj.p, obj.len, &ch, NULL) == PV_OK) {
			in->chuid_ok = true;
			memcpy(in->chuid_guid, ch.guid, 16);
		}
	} else if (!wf_soft(r, why)) {
		goto out;
	}
	if (ia->certs) {
		for (i = 0; i < 4; i++) {
			(void)piv_obj_for_key(slots[i], &tag);
			buf_out_truncate(&obj, 0);
			r = piv_get_data(a, tag, &obj, why);
			if (r == PV_OK &&
			    piv_certobj_parse(obj.p, obj.len, &co, NULL) ==
			    PV_OK) {
				in->certs |= 1u << i;
				if (EVP_Digest(co.cert.p, co.cert.len,
				    in->cert_sha256[i], NULL, EVP_sha256(),
				    NULL) != 1)
					memset(in->cert_sha256[i], 0, 32);
			}
			else if (r != PV_OK && !wf_soft(r, why))
				goto out;
		}
		in->read_certs = true;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&obj);
	return r;
}

enum pv_err
wf_inspect(struct wf *w, bool certs, struct pv_why *why)
{
	struct wf_insp_arg ia = { w, certs };

	return wf_card_run(w, wf_insp_fn, &ia, why);
}

/* ---- management key -------------------------------------------------------------- */

static enum pv_err
wf_mgmt_default(struct mgmtkey *k, uint8_t alg, struct pv_why *why)
{
	memset(k, 0, sizeof(*k));
	if (alg == PIV_ALG_3DES_LEGACY)
		alg = PIV_ALG_3DES;
	if (alg != MGMTKEY_3DES && alg != MGMTKEY_AES192)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "the token reports a "
		    "default management key of algorithm %s, which has no "
		    "known factory value", piv_alg_name(alg));
	k->alg = (enum mgmtkey_alg)alg;
	memcpy(k->key, mgmtkey_yubikey_default, 24);
	k->len = 24;
	return PV_OK;
}

static enum pv_err
wf_mgmt_derived(struct wf *w, enum mgmtkey_alg alg, struct mgmtkey *k,
    struct pv_why *why)
{
	uint8_t id[16];
	size_t id_len;

	/* HKDF over the token serial, or the card GUID on a card without
	 * one (mgmtkey.h): nothing per card is stored. */
	if (w->in.has_serial) {
		id[0] = (uint8_t)(w->in.serial >> 24);
		id[1] = (uint8_t)(w->in.serial >> 16);
		id[2] = (uint8_t)(w->in.serial >> 8);
		id[3] = (uint8_t)w->in.serial;
		id_len = 4;
	} else {
		memcpy(id, w->guid, 16);
		id_len = 16;
	}
	return mgmtkey_derive(w->p->master->v, SECRET_MASTER_LEN, NULL, 0, id,
	    id_len, alg, k, why);
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

	return ykp_probe(a, &ya->w->in.ykp, why);
}

enum pv_err
wf_ykp_probe(struct wf *w, struct pv_why *why)
{
	struct wf_ykp_arg ya = { w, -1 };

	memset(&w->in.ykp, 0, sizeof(w->in.ykp));
	/* A factory key is kept nowhere; a key this job set is its own. */
	if (!w->in.yk || (w->in.has_mgm_meta && w->in.mgm_default) ||
	    job_step_is_done(&w->job, wf_step_names[WF_S_MGMT]))
		return PV_OK;
	return wf_card_run(w, wf_ykp_probe_fn, &ya, why);
}

static enum pv_err
wf_ykp_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_ykp_arg *ya = arg;
	const struct wf_insp *in = &ya->w->in;
	enum mgmtkey_alg alg = in->has_mgm_meta ?
	    (enum mgmtkey_alg)in->mgm_alg : MGMTKEY_3DES;

	ya->retries = -1;
	return ykp_unlock(a, &in->ykp, (const uint8_t *)WF_DEFAULT_PIN,
	    sizeof(WF_DEFAULT_PIN) - 1, alg, &ya->w->mk_stored, &ya->retries,
	    why);
}

enum pv_err
wf_ykp_unlock(struct wf *w, struct pv_why *why)
{
	struct wf_ykp_arg ya = { w, -1 };
	const char *how = ykp_describe(&w->in.ykp);
	const char *tail = w->resumed ? "" : "; nothing was written";
	enum pv_err r;

	mgmtkey_clear(&w->mk_stored);
	w->have_stored = false;
	r = wf_card_run(w, wf_ykp_fn, &ya, why);
	if (r == PV_OK) {
		w->have_stored = true;
		return PV_OK;
	}
	if (wf_err_is_transport(r) || r == PV_E_NOMEM)
		return r;
	if (r == PV_E_AUTH_FAILED && w->resumed) {
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

enum pv_err
wf_mgmt_setup(struct wf *w, struct pv_why *why)
{
	const char *d = job_step_detail(&w->job, wf_step_names[WF_S_MGMT]);
	bool done = job_step_is_done(&w->job, wf_step_names[WF_S_MGMT]);
	bool changed = false;
	int64_t alg_id = 0;
	enum pv_err r;

	mgmtkey_clear(&w->mk_cur);
	mgmtkey_clear(&w->mk_alt);
	w->have_alt = false;
	w->mk_cur_stored = false;
	w->admin_ok = false;
	w->can_set_mgmt = w->in.yk;
	w->derived_alg = MGMTKEY_3DES;
	if (w->in.yk && mgmtkey_pick(mgmtkey_caps_yubikey(w->in.ver.major,
	    w->in.ver.minor, w->in.ver.patch), &w->derived_alg) != PV_OK)
		w->derived_alg = MGMTKEY_3DES;
	if (done && d != NULL)
		(void)wf_json_bool(d, "changed", &changed);

	if (!done && w->have_stored) {
		/* The key ykman kept for the PIN, unlocked and checked by
		 * wf_ykp_unlock: the mgmt-key step replaces it. */
		w->mk_cur = w->mk_stored;
		w->mk_cur_default = false;
		w->mk_cur_stored = true;
		return PV_OK;
	}

	if (w->in.has_mgm_meta) {
		/* The token says which key it has: never a guess. */
		w->mk_cur_default = w->in.mgm_default;
		if (w->in.mgm_default)
			return wf_mgmt_default(&w->mk_cur, w->in.mgm_alg, why);
		return wf_mgmt_derived(w, (enum mgmtkey_alg)w->in.mgm_alg,
		    &w->mk_cur, why);
	}
	/*
	 * No metadata: the job's record decides which key goes first.  Only
	 * a token that can change its key (SET MANAGEMENT KEY) may hold the
	 * other one (changed, then the process died before recording it),
	 * so only there is the other one tried after a refusal.
	 */
	if (done && changed) {
		enum mgmtkey_alg alg = w->derived_alg;

		if (wf_json_i64(d, "alg_id", &alg_id) &&
		    mgmtkey_alg_len((enum mgmtkey_alg)alg_id) != 0)
			alg = (enum mgmtkey_alg)alg_id;
		w->mk_cur_default = false;
		return wf_mgmt_derived(w, alg, &w->mk_cur, why);
	}
	w->mk_cur_default = true;
	if ((r = wf_mgmt_default(&w->mk_cur, PIV_ALG_3DES, why)) != PV_OK)
		return r;
	if (w->can_set_mgmt) {
		if ((r = wf_mgmt_derived(w, w->derived_alg, &w->mk_alt,
		    why)) != PV_OK)
			return r;
		w->have_alt = true;
		w->mk_alt_default = false;
	}
	return PV_OK;
}

enum pv_err
wf_admin(struct wf *w, struct apdu_session *a, struct pv_why *why)
{
	struct mgmtkey tmp;
	enum pv_err r;
	bool tmp_default;

	if (w->admin_ok && w->admin_epoch == wf_epoch(w))
		return PV_OK;
	w->admin_ok = false;
	r = piv_auth_mgmt(a, (uint8_t)w->mk_cur.alg, w->mk_cur.key,
	    w->mk_cur.len, why);
	if (r == PV_E_AUTH_FAILED && w->have_alt) {
		pv_why_clear(why);
		r = piv_auth_mgmt(a, (uint8_t)w->mk_alt.alg, w->mk_alt.key,
		    w->mk_alt.len, why);
		if (r == PV_OK) {
			tmp = w->mk_cur;
			tmp_default = w->mk_cur_default;
			w->mk_cur = w->mk_alt;
			w->mk_cur_default = w->mk_alt_default;
			w->mk_alt = tmp;
			w->mk_alt_default = tmp_default;
			mgmtkey_clear(&tmp);
		}
		w->have_alt = false;
	}
	if (r == PV_E_AUTH_FAILED)
		return pv_why_set(why, r, "management key: the card refused %s "
		    "(%s): its key is neither the factory default nor the one "
		    "this station derives for it",
		    w->mk_cur_default ? "the factory default key" :
		    "this station's key for the card",
		    mgmtkey_alg_name(w->mk_cur.alg));
	if (r != PV_OK)
		return r;
	w->admin_ok = true;
	w->admin_epoch = wf_epoch(w);
	return PV_OK;
}

enum pv_err
wf_mgmt_set(struct wf *w, struct apdu_session *a, bool *changed,
    struct pv_why *why)
{
	struct mgmtkey k;
	enum pv_err r;

	*changed = !w->mk_cur_default;
	if ((r = wf_admin(w, a, why)) != PV_OK)
		return r;
	if (w->can_set_mgmt && (w->mk_cur_default || w->mk_cur_stored)) {
		memset(&k, 0, sizeof(k));
		if ((r = wf_mgmt_derived(w, w->derived_alg, &k, why)) != PV_OK)
			return r;
		r = piv_yk_set_mgmt_key(a, (uint8_t)k.alg, k.key, k.len, false,
		    why);
		if (r == PV_OK) {
			/* The authentication stays valid; later groups (and
			 * a re-authentication after a reset) use the new
			 * key. */
			mgmtkey_clear(&w->mk_alt);
			w->mk_alt = w->mk_cur;
			w->mk_alt_default = w->mk_cur_default;
			w->have_alt = false;
			w->mk_cur = k;
			w->mk_cur_default = false;
			w->mk_cur_stored = false;
			*changed = true;
		}
		mgmtkey_clear(&k);
		if (r != PV_OK)
			return r;
	}
	/* The key ykman kept for the PIN is no longer the card's: its copy
	 * and flags go, so that ykman stops looking there. */
	return ykp_forget(a, &w->in.ykp, why);
}

/* ---- PIN and keys ------------------------------------------------------------------ */

struct wf_pin_arg {
	const uint8_t *pin;
	size_t len;
	int retries;
};

static enum pv_err
wf_verify_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wf_pin_arg *pa = arg;

	pa->retries = -1;
	return piv_verify(a, PIV_REF_PIN, pa->pin, pa->len, &pa->retries, why);
}

/* A VERIFY's refusal in the cardholder's words; other results as they are. */
static enum pv_err
wf_pin_outcome(enum pv_err r, int retries, struct pv_why *why)
{
	if (r == PV_E_PIN_WRONG) {
		pv_why_clear(why);
		return pv_why_set(why, r, "wrong PIN (%d tries left)", retries);
	}
	if (r == PV_E_BLOCKED) {
		pv_why_clear(why);
		return pv_why_set(why, r, "the card's PIN is blocked");
	}
	return r;
}

enum pv_err
wf_verify_pin(struct wf *w, const uint8_t *pin, size_t len,
    struct pv_why *why)
{
	struct wf_pin_arg pa = { pin, len, -1 };
	enum pv_err r;

	r = wf_card_run(w, wf_verify_fn, &pa, why);
	return wf_pin_outcome(r, pa.retries, why);
}

/*
 * Before the pad waits: it must exist; the person is told |prompt|; the
 * length range is [pin] min_length..max_length, within PIV's 8 bytes.
 */
static enum pv_err
wf_pad_ready(const struct wf *w, bool change, const char *prompt,
    uint8_t *min, uint8_t *max, struct pv_why *why)
{
	unsigned lo = w->p->cfg->pin_min, hi = w->p->cfg->pin_max;

	if ((change ? w->card->pad_change == NULL : w->card->pad_verify ==
	    NULL))
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "%s: no PIN pad to "
		    "type the PIN on", w->card->reader != NULL ?
		    w->card->reader : "the reader");
	if (hi > 8)
		hi = 8;
	if (lo < 1)
		lo = 1;
	if (lo > hi)
		lo = hi;
	*min = (uint8_t)lo;
	*max = (uint8_t)hi;
	if (w->p->pad_prompt != NULL)
		w->p->pad_prompt(w->p->progress_ctx, prompt);
	return PV_OK;
}

enum pv_err
wf_pad_verify_pin(struct wf *w, const char *prompt, struct pv_why *why)
{
	uint64_t t0;
	uint8_t min, max;
	int retries = -1;
	enum pv_err r;

	if ((r = wf_pad_ready(w, false, prompt, &min, &max, why)) != PV_OK)
		return r;
	t0 = wf_now_ns();
	r = w->card->pad_verify(w->card->ctx, PIV_REF_PIN, min, max, &retries,
	    why);
	w->ns_card += wf_now_ns() - t0;
	return wf_pin_outcome(r, retries, why);
}

enum pv_err
wf_pad_change_pin(struct wf *w, const char *prompt, const uint8_t *cur,
    size_t cur_len, int *retries, struct pv_why *why)
{
	uint64_t t0;
	uint8_t min, max;
	enum pv_err r;

	if ((r = wf_pad_ready(w, true, prompt, &min, &max, why)) != PV_OK)
		return r;
	t0 = wf_now_ns();
	r = w->card->pad_change(w->card->ctx, PIV_REF_PIN, cur, cur_len, min,
	    max, retries, why);
	w->ns_card += wf_now_ns() - t0;
	return r;
}

enum pv_err
wf_card_key_hash(struct apdu_session *a, uint8_t slot, uint8_t out[32],
    struct pv_why *why)
{
	struct piv_yk_metadata md;
	EVP_PKEY *pk = NULL;
	enum pv_err r;

	r = piv_yk_get_metadata(a, slot, &md, why);
	if (r != PV_OK)
		return r;
	if (!md.has_pubkey)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "metadata of %02X "
		    "carries no public key", slot);
	if ((r = piv_pubkey_to_evp(&md.pubkey, &pk, why)) == PV_OK)
		r = wf_spki_hash(pk, out, why);
	EVP_PKEY_free(pk);
	return r;
}
