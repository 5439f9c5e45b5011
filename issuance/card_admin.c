/*
 * card_admin.c: the card's management key (card_admin.h).
 */
#include <string.h>

#include "apdu/piv.h"
#include "apdu/piv_yk.h"
#include "issuance/card_admin.h"

static enum pv_err
card_admin_default(struct mgmtkey *k, uint8_t alg, struct pv_why *why)
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
card_admin_derived(const struct card_admin *adm, enum mgmtkey_alg alg,
    struct mgmtkey *k, struct pv_why *why)
{
	return mgmtkey_derive(adm->master->v, SECRET_MASTER_LEN, NULL, 0,
	    adm->id, adm->id_len, alg, k, why);
}

enum pv_err
card_admin_setup(struct card_admin *adm, struct card *c,
    const struct secret_master *m, const struct card_facts *f,
    const uint8_t *guid, const struct card_admin_record *rec,
    struct pv_why *why)
{
	enum mgmtkey_alg alg;
	enum pv_err r;

	card_admin_clear(adm);
	adm->card = c;
	adm->master = m;
	/* HKDF over the token serial, or the card GUID on a card without
	 * one (mgmtkey.h): nothing per card is stored. */
	if (f->has_serial) {
		adm->id[0] = (uint8_t)(f->serial >> 24);
		adm->id[1] = (uint8_t)(f->serial >> 16);
		adm->id[2] = (uint8_t)(f->serial >> 8);
		adm->id[3] = (uint8_t)f->serial;
		adm->id_len = 4;
	} else if (guid != NULL) {
		memcpy(adm->id, guid, 16);
		adm->id_len = 16;
	} else {
		return pv_why_set(why, PV_E_INVAL, "no serial and no GUID to "
		    "derive the card's management key over");
	}
	adm->can_set = f->yk;
	adm->derived_alg = MGMTKEY_3DES;
	if (f->yk && mgmtkey_pick(mgmtkey_caps_yubikey(f->ver.major,
	    f->ver.minor, f->ver.patch), &adm->derived_alg) != PV_OK)
		adm->derived_alg = MGMTKEY_3DES;

	if (f->has_mgm_meta) {
		/* The token says which key it has: never a guess. */
		adm->cur_default = f->mgm_default;
		if (f->mgm_default)
			return card_admin_default(&adm->cur, f->mgm_alg, why);
		return card_admin_derived(adm, (enum mgmtkey_alg)f->mgm_alg,
		    &adm->cur, why);
	}
	if (rec != NULL && rec->changed) {
		alg = adm->derived_alg;
		if (rec->alg != 0 &&
		    mgmtkey_alg_len((enum mgmtkey_alg)rec->alg) != 0)
			alg = (enum mgmtkey_alg)rec->alg;
		adm->cur_default = false;
		return card_admin_derived(adm, alg, &adm->cur, why);
	}
	adm->cur_default = true;
	if ((r = card_admin_default(&adm->cur, PIV_ALG_3DES, why)) != PV_OK)
		return r;
	if (adm->can_set) {
		if ((r = card_admin_derived(adm, adm->derived_alg, &adm->alt,
		    why)) != PV_OK)
			return r;
		adm->have_alt = true;
		adm->alt_default = false;
	}
	return PV_OK;
}

void
card_admin_use_stored(struct card_admin *adm, const struct mgmtkey *k,
    const struct ykp_token *t)
{
	mgmtkey_clear(&adm->cur);
	mgmtkey_clear(&adm->alt);
	adm->cur = *k;
	adm->cur_default = false;
	adm->cur_stored = true;
	adm->have_alt = false;
	adm->ykp = *t;
	adm->ok = false;
}

enum pv_err
card_admin_auth(struct card_admin *adm, struct apdu_session *a,
    struct pv_why *why)
{
	struct mgmtkey tmp;
	bool tmp_default;
	enum pv_err r;

	if (adm->ok && adm->epoch == card_epoch(adm->card))
		return PV_OK;
	adm->ok = false;
	r = piv_auth_mgmt(a, (uint8_t)adm->cur.alg, adm->cur.key, adm->cur.len,
	    why);
	if (r == PV_E_AUTH_FAILED && adm->have_alt) {
		pv_why_clear(why);
		r = piv_auth_mgmt(a, (uint8_t)adm->alt.alg, adm->alt.key,
		    adm->alt.len, why);
		if (r == PV_OK) {
			tmp = adm->cur;
			tmp_default = adm->cur_default;
			adm->cur = adm->alt;
			adm->cur_default = adm->alt_default;
			adm->alt = tmp;
			adm->alt_default = tmp_default;
			mgmtkey_clear(&tmp);
		}
		adm->have_alt = false;
	}
	if (r == PV_E_AUTH_FAILED)
		return pv_why_set(why, r, "management key: the card refused %s "
		    "(%s): its key is neither the factory default nor the one "
		    "this station derives for it",
		    adm->cur_default ? "the factory default key" :
		    "this station's key for the card",
		    mgmtkey_alg_name(adm->cur.alg));
	if (r != PV_OK)
		return r;
	adm->ok = true;
	adm->epoch = card_epoch(adm->card);
	return PV_OK;
}

enum pv_err
card_admin_set_derived(struct card_admin *adm, struct apdu_session *a,
    bool *changed, struct pv_why *why)
{
	struct mgmtkey k;
	enum pv_err r;

	*changed = !adm->cur_default;
	if ((r = card_admin_auth(adm, a, why)) != PV_OK)
		return r;
	if (adm->can_set && (adm->cur_default || adm->cur_stored)) {
		memset(&k, 0, sizeof(k));
		if ((r = card_admin_derived(adm, adm->derived_alg, &k, why)) !=
		    PV_OK)
			return r;
		r = piv_yk_set_mgmt_key(a, (uint8_t)k.alg, k.key, k.len, false,
		    why);
		if (r == PV_OK) {
			/* The authentication stays valid; later groups (and
			 * a re-authentication after a reset) use the new
			 * key. */
			mgmtkey_clear(&adm->alt);
			adm->alt = adm->cur;
			adm->alt_default = adm->cur_default;
			adm->have_alt = false;
			adm->cur = k;
			adm->cur_default = false;
			adm->cur_stored = false;
			*changed = true;
		}
		mgmtkey_clear(&k);
		if (r != PV_OK)
			return r;
	}
	/* The key ykman kept for the PIN is no longer the card's: its copy
	 * and flag go, so ykman stops looking there. */
	return ykp_forget(a, &adm->ykp, why);
}

void
card_admin_clear(struct card_admin *adm)
{
	mgmtkey_clear(&adm->cur);
	mgmtkey_clear(&adm->alt);
	memset(adm, 0, sizeof(*adm));
}
