/*
 * wf_unblock.c: PIN unblock with the escrowed PUK (wf_unblock.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "apdu/piv.h"
#include "issuance/card.h"
#include "issuance/escrow.h"
#include "issuance/wf.h"
#include "issuance/wf_unblock.h"

/* The label wf_issue's escrow-puk step records the PUK's fingerprint
 * with (wf_issue_steps.c). */
#define WF_PUK_FP_LABEL	"pivstation PUK fingerprint v1"
#define WF_PUK_LEN	8

struct wfu {
	const struct wf_unblock_params *p;
	struct card *card;
	struct wf_unblock_result *out;
	struct wf_run run;
	struct card_facts in;
	struct store_device dev;
};

static wf_step_fn wfu_step_register, wfu_step_reset, wfu_step_finish;

static const struct wf_step_def wfu_steps[] = {
	{ "register", wfu_step_register, true },
	{ "reset-pin", wfu_step_reset, false },
	{ "finish", wfu_step_finish, true },
};

static const struct wf_def wfu_def = {
	WF_UNBLOCK_JOB_KIND, wfu_steps, sizeof(wfu_steps) / sizeof(wfu_steps[0])
};

const struct wf_def *
wf_unblock_definition(void)
{
	return &wfu_def;
}

enum pv_err
wf_unblock_check(const struct wf_unblock_params *p, struct pv_why *why)
{
	enum pv_err r;

	if (!p->pin_pad &&
	    (r = config_check_pin(p->cfg, p->pin, p->pin_len, why)) != PV_OK)
		return r;
	if (p->kra_cert == NULL || p->kra_key == NULL)
		return pv_why_set(why, PV_E_STATE, "the key recovery agent's "
		    "key is needed to open the escrowed PUK");
	if (p->master == NULL)
		return pv_why_set(why, PV_E_STATE, "the station's master secret "
		    "is needed");
	return PV_OK;
}

/* The store's device for the inspected card: serial, else CHUID GUID. */
static enum pv_err
wfu_find_device(struct wfu *u, struct pv_why *why)
{
	char serial[16];
	enum pv_err r = PV_E_NO_RECORD;

	if (u->in.has_serial) {
		(void)snprintf(serial, sizeof(serial), "%u", u->in.serial);
		r = store_device_find_serial(u->p->st, serial, &u->dev, why);
	}
	if (r == PV_E_NO_RECORD && u->in.chuid_ok) {
		pv_why_clear(why);
		r = store_device_find_guid(u->p->st, u->in.chuid_guid, &u->dev,
		    why);
	}
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return pv_why_set(why, PV_E_NO_RECORD, "the card in %s was not "
		    "issued by this station (no device with its %s)",
		    card_reader(u->card), u->in.has_serial ? "serial" :
		    "card UUID");
	}
	return r;
}

/* ---- steps ------------------------------------------------------------------------ */

static enum pv_err
wfu_step_register(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wfu *u = state;
	enum pv_err r;

	if ((r = wf_tx_begin(run, why)) != PV_OK ||
	    (r = wf_job_create(run, u->dev.person_id, why)) != PV_OK ||
	    (r = job_set_device(u->p->st, &run->job, u->dev.id, why)) != PV_OK) {
		job_cleanup(&run->job);
		return r;
	}
	wf_done_detail(run, "{\"device\":%lld,\"was_blocked\":%s}",
	    (long long)u->dev.id, u->out->was_blocked ? "true" : "false");
	wf_note(run, WF_STEP_DONE, "job %lld: device %lld of %s",
	    (long long)run->job.row.id, (long long)u->dev.id, u->out->person);
	return PV_OK;
}

/* The PUK out of its envelope, checked against the recorded fingerprint. */
static enum pv_err
wfu_open_puk(struct wfu *u, char puk[WF_PUK_LEN + 1], struct pv_why *why)
{
	struct store_escrow e;
	uint8_t *sec = NULL, fp[32];
	size_t len = 0;
	enum pv_err r;

	memset(&e, 0, sizeof(e));
	r = store_escrow_current(u->p->st, u->dev.id, STORE_ESCROW_PUK, &e,
	    why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_STATE, "device %lld has no escrowed "
		    "PUK ([escrow] puk was off when it was issued): this "
		    "station cannot unblock it; reissue the card",
		    (long long)u->dev.id);
		goto out;
	}
	if (r != PV_OK)
		goto out;
	if ((r = escrow_open(e.cms, e.cms_len, u->p->kra_cert, u->p->kra_key,
	    &sec, &len, why)) != PV_OK) {
		pv_why_prefix(why, "escrow record %lld", (long long)e.id);
		goto out;
	}
	if (len != WF_PUK_LEN) {
		r = pv_why_set(why, PV_E_VERIFY, "escrow record %lld does not "
		    "hold an %d-digit PUK", (long long)e.id, WF_PUK_LEN);
		goto out;
	}
	if ((r = secret_derive(u->p->master, WF_PUK_FP_LABEL, sec, len, fp,
	    sizeof(fp))) != PV_OK)
		goto out;
	if (CRYPTO_memcmp(fp, e.fingerprint, sizeof(fp)) != 0) {
		r = pv_why_set(why, PV_E_VERIFY, "escrow record %lld: the PUK "
		    "inside is not the one recorded at issuance",
		    (long long)e.id);
		goto out;
	}
	memcpy(puk, sec, WF_PUK_LEN);
	puk[WF_PUK_LEN] = '\0';
	r = PV_OK;
out:
	OPENSSL_clear_free(sec, len);
	OPENSSL_cleanse(fp, sizeof(fp));
	store_escrow_cleanup(&e);
	return r;
}

struct wfu_reset_arg {
	const uint8_t *puk;
	const uint8_t *pin;
	size_t pin_len;
	int retries;
};

static enum pv_err
wfu_reset_fn(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct wfu_reset_arg *ra = arg;

	ra->retries = -1;
	return piv_reset_retry(a, ra->puk, WF_PUK_LEN, ra->pin, ra->pin_len,
	    &ra->retries, why);
}

static enum pv_err
wfu_step_reset(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wfu *u = state;
	const struct pv_config *cfg = u->p->cfg;
	struct wfu_reset_arg ra;
	struct wf_ask q;
	char puk[WF_PUK_LEN + 1], tmp[ESCROW_PUK_LEN + 1];
	unsigned lo = cfg->pin_min, hi = cfg->pin_max;
	int retries = -1;
	enum pv_err r;

	memset(&ra, 0, sizeof(ra));
	memset(tmp, 0, sizeof(tmp));
	if ((r = wfu_open_puk(u, puk, why)) != PV_OK)
		goto out;
	ra.puk = (const uint8_t *)puk;
	if (u->p->pin_pad) {
		/* A random PIN the station forgets at once, replaced on the
		 * pad by the cardholder's. */
		if ((r = escrow_random_puk(tmp, why)) != PV_OK)
			goto out;
		ra.pin = (const uint8_t *)tmp;
		ra.pin_len = ESCROW_PUK_LEN;
	} else {
		ra.pin = u->p->pin;
		ra.pin_len = u->p->pin_len;
	}
	r = card_run(u->card, wfu_reset_fn, &ra, why);
	if (r == PV_E_PIN_WRONG) {
		pv_why_clear(why);
		r = pv_why_set(why, r, "the card refused the escrowed PUK (%d "
		    "tries left): it is not this card's", ra.retries);
		goto out;
	}
	if (r == PV_E_BLOCKED) {
		pv_why_clear(why);
		r = pv_why_set(why, r, "the card's PUK is blocked: the card must "
		    "be reissued");
		goto out;
	}
	if (r != PV_OK)
		goto out;
	if (u->p->pin_pad) {
		if (hi > 8)
			hi = 8;
		if (lo < 1)
			lo = 1;
		if (lo > hi)
			lo = hi;
		memset(&q, 0, sizeof(q));
		q.kind = WF_ASK_PAD;
		q.text = "the cardholder types a new PIN on the reader's PIN "
		    "pad, then again to confirm";
		q.min = lo;
		q.max = hi;
		(void)wf_ask(run, &q, NULL, NULL);
		r = card_pad_change_pin(u->card, (const uint8_t *)tmp,
		    ESCROW_PUK_LEN, (uint8_t)lo, (uint8_t)hi, &retries, why);
		if (r != PV_OK)
			goto out;
	}
	wf_note(run, WF_STEP_DONE, "PIN %s with the escrowed PUK%s",
	    u->out->was_blocked ? "unblocked" : "reset", u->p->pin_pad ?
	    "; the cardholder typed the new PIN on the PIN pad" : "");
	r = PV_OK;
out:
	OPENSSL_cleanse(puk, sizeof(puk));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return r;
}

static enum pv_err
wfu_step_finish(struct wf_run *run, void *state, struct pv_why *why)
{
	struct wfu *u = state;
	char obj[64], detail[160];
	enum pv_err r;

	if ((r = wf_tx_begin(run, why)) != PV_OK)
		return r;
	(void)snprintf(obj, sizeof(obj), "device:%lld", (long long)u->dev.id);
	(void)snprintf(detail, sizeof(detail), "{\"job\":%lld,\"person\":%lld,"
	    "\"was_blocked\":%s,\"pin_pad\":%s}", (long long)run->job.row.id,
	    (long long)u->dev.person_id, u->out->was_blocked ? "true" : "false",
	    u->p->pin_pad ? "true" : "false");
	if ((r = audit_append(u->p->st, "pin.unblock", obj, detail, why)) !=
	    PV_OK ||
	    (r = wf_finish(run, detail, why)) != PV_OK)
		return r;
	wf_note(run, WF_STEP_DONE, "done");
	return PV_OK;
}

/* ---- the run ------------------------------------------------------------------------ */

enum pv_err
wf_unblock_run(const struct wf_unblock_params *p, struct card *card,
    struct wf_unblock_result *out, struct pv_why *why)
{
	struct store_person person;
	struct pv_why ignore = { "" };
	struct wfu u;
	char desc[256];
	bool found = false;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&u, 0, sizeof(u));
	u.p = p;
	u.card = card;
	u.out = out;
	wf_run_init(&u.run, &wfu_def, p->st, p->hooks, card->reader);

	if ((r = wf_unblock_check(p, why)) != PV_OK ||
	    (r = card_check_piv(card, why)) != PV_OK)
		goto out;
	if (p->pin_pad && (r = card_check_pad(card, true, why)) != PV_OK)
		goto out;
	if ((r = card_inspect(card, 0, &u.in, why)) != PV_OK) {
		pv_why_prefix(why, "reading the card");
		goto out;
	}
	card_describe(&u.in, NULL, desc, sizeof(desc));
	if ((r = wfu_find_device(&u, why)) != PV_OK)
		goto fail;
	out->device_id = u.dev.id;
	out->person_id = u.dev.person_id;
	if (store_person_get(p->st, u.dev.person_id, &person, &ignore) == PV_OK)
		(void)identity_printed_name(&person.ident, out->person,
		    sizeof(out->person));
	if (u.dev.status != STORE_DEV_ACTIVE) {
		r = pv_why_set(why, PV_E_STATE, "device %lld is %s: only an "
		    "active card is unblocked%s", (long long)u.dev.id,
		    store_device_status_name(u.dev.status),
		    u.dev.status == STORE_DEV_SUSPENDED ? " (resume it first)" :
		    "");
		goto fail;
	}
	if (u.in.has_puk_meta && u.in.puk_left == 0) {
		r = pv_why_set(why, PV_E_BLOCKED, "the card's PUK is blocked: "
		    "the card must be reissued");
		goto fail;
	}
	out->was_blocked = (u.in.has_pin_meta && u.in.pin_left == 0) ||
	    (u.in.has_pin_status && u.in.pin_status.blocked);
	if ((r = wf_job_find(&u.run, u.dev.person_id, &found, why)) != PV_OK)
		goto fail;
	if (found && u.run.job.row.device_id != u.dev.id) {
		r = pv_why_set(why, PV_E_DIFFERENT_CARD, "job %lld is "
		    "unblocking another card of this person: put that card "
		    "back, or cancel the job", (long long)u.run.job.row.id);
		goto fail;
	}
	wf_emit(&u.run, -1, WF_STEP_DONE, "%s; device %lld of %s%s%s", desc,
	    (long long)u.dev.id, out->person[0] ? out->person : "?",
	    out->was_blocked ? "; PIN blocked" : "", found ?
	    "; resuming the person's job" : "");
	card_note_identity(card, u.in.has_serial, u.in.serial, u.in.chuid_ok,
	    u.in.chuid_guid);
	r = wf_run_steps(&u.run, &u, why);
	goto out;
fail:
	wf_emit(&u.run, -1, WF_STEP_FAILED, "%s: %s", desc, why->msg);
out:
	out->job_id = u.run.job.row.id;
	out->resumed = u.run.resumed;
	out->steps_run = u.run.steps_run;
	wf_run_cleanup(&u.run);
	return r;
}
