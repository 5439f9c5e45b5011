/*
 * card.c: the card seam (card.h): a pcsc session behind it, PIN outcomes,
 * key hashes, and the read-only inspection.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "apdu/buf.h"
#include "apdu/piv_obj.h"
#include "apdu/piv_pkey.h"
#include "issuance/card.h"
#include "issuance/pkix_util.h"
#include "pcsc/part10.h"
#include "pcsc/session.h"

/* ---- the seam over a pcsc session -------------------------------------------- */

struct card_tramp {
	card_fn *fn;
	void *arg;
};

static enum pv_err
card_sess_step(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct card_tramp *t = arg;

	return t->fn(&s->apdu, t->arg, why);
}

static enum pv_err
card_sess_run(void *ctx, card_fn *fn, void *arg, struct pv_why *why)
{
	struct card_tramp t = { fn, arg };

	return pcsc_session_run(ctx, card_sess_step, &t, why);
}

static unsigned
card_sess_epoch(void *ctx)
{
	const struct pcsc_session *s = ctx;

	return s->n_recoveries;
}

static void
card_sess_note(void *ctx, bool has_serial, uint32_t serial, bool has_guid,
    const uint8_t guid[16])
{
	struct pcsc_identity id;

	/* A serial identifies a token for good; a GUID only once the CHUID
	 * holding it is on the card (pcsc_session_recover reads it there). */
	memset(&id, 0, sizeof(id));
	if (has_serial) {
		id.has_serial = true;
		id.serial = serial;
	} else if (has_guid) {
		id.has_guid = true;
		memcpy(id.guid, guid, 16);
	}
	pcsc_session_set_identity(ctx, &id);
}

static enum pv_err
card_sess_pad_missing(void *ctx, bool change, const char **missing,
    struct pv_why *why)
{
	struct part10_features fs;
	uint32_t code, rc;
	enum pv_err r;

	*missing = NULL;
	if ((r = pcsc_session_features(ctx, &fs, &rc, why)) != PV_OK)
		return r;
	if (change && !part10_find(&fs, PART10_MODIFY_PIN_DIRECT, &code))
		*missing = part10_feature_name(PART10_MODIFY_PIN_DIRECT);
	else if (!part10_find(&fs, PART10_VERIFY_PIN_DIRECT, &code))
		*missing = part10_feature_name(PART10_VERIFY_PIN_DIRECT);
	return PV_OK;
}

static enum pv_err
card_sess_pad_verify(void *ctx, uint8_t ref, uint8_t min, uint8_t max,
    int *retries, struct pv_why *why)
{
	return pcsc_session_verify_pinpad(ctx, ref, min, max, retries, why);
}

static enum pv_err
card_sess_pad_change(void *ctx, uint8_t ref, const uint8_t *cur,
    size_t cur_len, uint8_t min, uint8_t max, int *retries,
    struct pv_why *why)
{
	return pcsc_session_change_pinpad(ctx, ref, cur, cur_len, min, max,
	    retries, why);
}

static const struct card_ops card_session_ops = {
	.run = card_sess_run,
	.epoch = card_sess_epoch,
	.note_identity = card_sess_note,
	.pad_missing = card_sess_pad_missing,
	.pad_verify = card_sess_pad_verify,
	.pad_change = card_sess_pad_change,
};

void
card_from_session(struct card *c, struct pcsc_session *s)
{
	memset(c, 0, sizeof(*c));
	c->apdu = &s->apdu;
	c->ops = &card_session_ops;
	c->ctx = s;
	c->atr = pcsc_card_atr(s->card, &c->atr_len);
	c->reader = s->reader;
	c->piv_selected = s->piv_selected;
	c->select_err = s->select_err;
}

const char *
card_reader(const struct card *c)
{
	return c->reader != NULL && c->reader[0] != '\0' ? c->reader :
	    "the reader";
}

enum pv_err
card_check_piv(const struct card *c, struct pv_why *why)
{
	if (c->piv_selected)
		return PV_OK;
	return pv_why_set(why, c->select_err != PV_OK ? c->select_err :
	    PV_E_NOT_FOUND, "the card in %s has no PIV application (SELECT: "
	    "%s)", card_reader(c), pv_strerror(c->select_err));
}

enum pv_err
card_run(struct card *c, card_fn *fn, void *arg, struct pv_why *why)
{
	uint64_t t0 = pcsc_now_ns();
	enum pv_err r;

	if (c->ops != NULL && c->ops->run != NULL)
		r = c->ops->run(c->ctx, fn, arg, why);
	else
		r = fn(c->apdu, arg, why);
	c->ns += pcsc_now_ns() - t0;
	return r;
}

unsigned
card_epoch(const struct card *c)
{
	return c->ops != NULL && c->ops->epoch != NULL ?
	    c->ops->epoch(c->ctx) : 0;
}

void
card_note_identity(struct card *c, bool has_serial, uint32_t serial,
    bool has_guid, const uint8_t guid[16])
{
	if (c->ops != NULL && c->ops->note_identity != NULL)
		c->ops->note_identity(c->ctx, has_serial, serial, has_guid,
		    guid);
}

enum pv_err
card_check_pad(struct card *c, bool change, struct pv_why *why)
{
	const char *missing = "a PIN pad";
	enum pv_err r;

	if (c->ops != NULL && c->ops->pad_missing != NULL &&
	    (r = c->ops->pad_missing(c->ctx, change, &missing, why)) !=
	    PV_OK) {
		pv_why_prefix(why, "%s: reader features", card_reader(c));
		return r;
	}
	if (missing != NULL || c->ops->pad_verify == NULL ||
	    (change && c->ops->pad_change == NULL))
		return pv_why_set(why, PV_E_INPUT, "--pin-pad: %s has no PIN pad "
		    "(it does not offer %s)",
		    card_reader(c), missing != NULL ? missing : "a PIN pad");
	return PV_OK;
}

/* ---- PINs ------------------------------------------------------------------------ */

struct card_pin_arg {
	const uint8_t *pin;
	size_t len;
	int retries;
};

static enum pv_err
card_verify_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct card_pin_arg *pa = arg;

	pa->retries = -1;
	return piv_verify(a, PIV_REF_PIN, pa->pin, pa->len, &pa->retries, why);
}

enum pv_err
card_pin_outcome(enum pv_err r, int retries, struct pv_why *why)
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
card_verify_pin(struct card *c, const uint8_t *pin, size_t len, int *retries,
    struct pv_why *why)
{
	struct card_pin_arg pa = { pin, len, -1 };
	enum pv_err r;

	r = card_run(c, card_verify_fn, &pa, why);
	if (retries != NULL)
		*retries = pa.retries;
	return card_pin_outcome(r, pa.retries, why);
}

enum pv_err
card_pad_verify_pin(struct card *c, uint8_t min, uint8_t max, int *retries,
    struct pv_why *why)
{
	uint64_t t0;
	int left = -1;
	enum pv_err r;

	if (c->ops == NULL || c->ops->pad_verify == NULL)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "%s: no PIN pad to "
		    "type the PIN on", card_reader(c));
	t0 = pcsc_now_ns();
	r = c->ops->pad_verify(c->ctx, PIV_REF_PIN, min, max, &left, why);
	c->ns += pcsc_now_ns() - t0;
	if (retries != NULL)
		*retries = left;
	return card_pin_outcome(r, left, why);
}

enum pv_err
card_pad_change_pin(struct card *c, const uint8_t *cur, size_t cur_len,
    uint8_t min, uint8_t max, int *retries, struct pv_why *why)
{
	uint64_t t0;
	enum pv_err r;

	if (c->ops == NULL || c->ops->pad_change == NULL)
		return pv_why_set(why, PV_E_NOT_SUPPORTED, "%s: no PIN pad to "
		    "type the PIN on", card_reader(c));
	t0 = pcsc_now_ns();
	r = c->ops->pad_change(c->ctx, PIV_REF_PIN, cur, cur_len, min, max,
	    retries, why);
	c->ns += pcsc_now_ns() - t0;
	return r;
}

/* ---- keys -------------------------------------------------------------------------- */

enum pv_err
card_key_hash(struct apdu_session *a, uint8_t slot, uint8_t out[32],
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
		r = pkix_spki_sha256(pk, out, why);
	EVP_PKEY_free(pk);
	return r;
}

/* ---- inspection (reads only) ----------------------------------------------------- */

struct card_insp_arg {
	struct card_facts *f;
	bool certs;
};

/* Keeps the errors that end card work; anything else means "the card
 * cannot say". */
static bool
card_soft(enum pv_err r, struct pv_why *why)
{
	if (pv_err_aborts(r))
		return false;
	pv_why_clear(why);
	return true;
}

/* GET METADATA of |ref|; *has set when it answered with what is needed. */
static enum pv_err
card_meta(struct apdu_session *a, uint8_t ref, struct piv_yk_metadata *md,
    bool *has, struct pv_why *why)
{
	enum pv_err r;

	memset(md, 0, sizeof(*md));
	r = piv_yk_get_metadata(a, ref, md, why);
	*has = r == PV_OK && md->has_default && (ref == PIV_KEY_MGMT ?
	    md->has_alg : md->has_retries);
	if (r != PV_OK && !card_soft(r, why))
		return r;
	return PV_OK;
}

static enum pv_err
card_insp_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct card_insp_arg *ia = arg;
	struct card_facts *f = ia->f;
	struct piv_yk_metadata md;
	struct piv_chuid ch;
	struct piv_certobj co;
	struct buf_out obj;
	uint32_t tag;
	enum pv_err r;
	int i;

	memset(&obj, 0, sizeof(obj));
	memset(f, 0, sizeof(*f));

	/* YubiKey extensions: version, serial, metadata (PIV-REFERENCE §9). */
	r = piv_yk_get_version(a, &f->ver, why);
	if (r == PV_OK)
		f->yk = true;
	else if (!card_soft(r, why))
		return r;
	if (f->yk) {
		/* GET SERIAL, or the OTP application's before firmware 5. */
		r = piv_yk_read_serial(a, &f->ver, &f->serial, why);
		if (r == PV_OK)
			f->has_serial = true;
		else if (!card_soft(r, why))
			return r;
		if ((r = card_meta(a, PIV_KEY_MGMT, &md, &f->has_mgm_meta,
		    why)) != PV_OK)
			return r;
		f->mgm_alg = md.alg;
		f->mgm_default = md.is_default;
		if ((r = card_meta(a, PIV_REF_PIN, &md, &f->has_pin_meta,
		    why)) != PV_OK)
			return r;
		f->pin_default = md.is_default;
		f->pin_left = md.retries_left;
		if ((r = card_meta(a, PIV_REF_PUK, &md, &f->has_puk_meta,
		    why)) != PV_OK)
			return r;
		f->puk_default = md.is_default;
		f->puk_left = md.retries_left;
	}
	if (!f->has_pin_meta) {
		r = piv_verify_status(a, PIV_REF_PIN, &f->pin_status, why);
		if (r == PV_OK)
			f->has_pin_status = true;
		else if (!card_soft(r, why))
			return r;
	}

	if (!buf_out_alloc(&obj, 1024, 16384))
		return PV_E_NOMEM;
	r = piv_get_data(a, PIV_OBJ_CHUID, &obj, why);
	if (r == PV_OK) {
		f->has_chuid = true;
		if (piv_chuid_parse(obj.p, obj.len, &ch, NULL) == PV_OK) {
			f->chuid_ok = true;
			f->chuid_signed = ch.signature.len != 0;
			memcpy(f->chuid_guid, ch.guid, 16);
			memcpy(f->chuid_fascn, ch.fascn, sizeof(f->chuid_fascn));
		}
	} else if (!card_soft(r, why)) {
		goto out;
	}
	if (ia->certs) {
		for (i = 0; i < PIV_MAIN_KEYS; i++) {
			(void)piv_obj_for_key(piv_main_key[i], &tag);
			buf_out_truncate(&obj, 0);
			r = piv_get_data(a, tag, &obj, why);
			if (r == PV_OK &&
			    piv_certobj_parse(obj.p, obj.len, &co, NULL) ==
			    PV_OK) {
				f->certs |= 1u << i;
				if (EVP_Digest(co.cert.p, co.cert.len,
				    f->cert_sha256[i], NULL, EVP_sha256(),
				    NULL) != 1)
					memset(f->cert_sha256[i], 0, 32);
			} else if (r != PV_OK && !card_soft(r, why)) {
				goto out;
			}
		}
		f->read_certs = true;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&obj);
	return r;
}

enum pv_err
card_inspect(struct card *c, unsigned what, struct card_facts *out,
    struct pv_why *why)
{
	struct card_insp_arg ia = { out, (what & CARD_FACTS_CERTS) != 0 };

	return card_run(c, card_insp_fn, &ia, why);
}

void
card_describe(const struct card_facts *f, const char *more, char *out,
    size_t cap)
{
	size_t n;

	if (f->yk)
		(void)snprintf(out, cap, "YubiKey-compatible token, firmware "
		    "%u.%u.%u%s", f->ver.major, f->ver.minor, f->ver.patch,
		    f->has_serial ? ", serial " : "");
	else
		(void)snprintf(out, cap, "PIV card without YubiKey "
		    "extensions");
	n = strlen(out);
	if (f->has_serial)
		(void)snprintf(out + n, cap - n, "%u", f->serial);
	n = strlen(out);
	if (f->has_pin_meta)
		(void)snprintf(out + n, cap - n, "; PIN %s, %u tries left",
		    f->pin_default ? "default" : "set", f->pin_left);
	else if (f->has_pin_status && f->pin_status.retries >= 0)
		(void)snprintf(out + n, cap - n, "; PIN %d tries left",
		    f->pin_status.retries);
	n = strlen(out);
	if (more != NULL)
		(void)snprintf(out + n, cap - n, "; %s", more);
	n = strlen(out);
	(void)snprintf(out + n, cap - n, "; %s", !f->has_chuid ? "no CHUID" :
	    !f->chuid_ok ? "has a CHUID that does not parse" : f->chuid_signed ?
	    "has a signed CHUID" : "has an unsigned CHUID");
}
