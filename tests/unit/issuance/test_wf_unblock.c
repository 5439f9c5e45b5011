/*
 * test_wf_unblock.c: PIN unblock with the escrowed PUK (wf_unblock.h) over
 * an in-process virtual card: a card issued, its PIN blocked, unblocked;
 * the card pulled at every APDU of the unblock and resumed; the refusals
 * (a card this station did not issue, a suspended device, the wrong KRA,
 * a weak PIN); and card_summarize's reading of the same cards.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "issuance/ca.h"
#include "issuance/card_summary.h"
#include "issuance/config.h"
#include "issuance/lifecycle.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "issuance/wf_unblock.h"
#include "card_rig.h"
#include "station_fixture.h"
#include "tests/unit/issuance/test_ca_support.h"

static const char *dir;
static struct store *st;
static struct ca *ca;
static EVP_PKEY *kra;
static struct pv_config cfg;
static struct secret_master master;

static void
setup(void)
{
	unsigned s;

	dir = fx_tmpdir();
	st = fx_open(dir);
	config_defaults(&cfg);
	for (s = 0; s < CONFIG_N_SLOTS; s++)
		cfg.slot_alg[s] = CONFIG_ALG_ECCP256;
	ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, &kra);
	cr_assert_eq(RAND_bytes(master.v, sizeof(master.v)), 1);
}

static void
teardown(void)
{
	EVP_PKEY_free(kra);
	store_close(st);
	ca_free(ca);
	fx_rmtree(dir);
}

TestSuite(wf_unblock, .init = setup, .fini = teardown, .timeout = 300);

/* Issues |k| to person |pid| with PIN 24681357. */
static int64_t
issue(struct rig_card *k, const char *pid)
{
	struct identity id = fx_identity(pid, "Blocked", NULL);
	struct wf_issue_params p;
	struct wf_issue_result res;
	struct pv_why why = { "" };
	enum pv_err r;

	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.ident = &id;
	p.ca = ca;
	p.master = &master;
	p.st = st;
	p.pin = (const uint8_t *)"24681357";
	p.pin_len = 8;
	rig_insert(k, 0);
	r = wf_issue_run(&p, &k->card, &res, &why);
	cr_assert_eq(r, PV_OK, "issue: %s: %s", pv_errname(r), why.msg);
	return res.device_id;
}

static void
block(struct rig_card *k)
{
	int i, left = -1;

	rig_insert(k, 0);
	for (i = 0; i < 3; i++)
		(void)card_verify_pin(&k->card, (const uint8_t *)"00000000", 8,
		    &left, NULL);
	cr_assert_eq(card_verify_pin(&k->card, (const uint8_t *)"24681357", 8,
	    NULL, NULL), PV_E_BLOCKED);
}

static struct wf_unblock_params
params(const char *pin)
{
	struct wf_unblock_params p;

	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.st = st;
	p.master = &master;
	p.kra_cert = ca_get0_kra(ca);
	p.kra_key = kra;
	p.pin = (const uint8_t *)pin;
	p.pin_len = strlen(pin);
	return p;
}

static void
expect_pin(struct rig_card *k, const char *pin)
{
	rig_insert(k, 0);
	cr_assert_eq(card_verify_pin(&k->card, (const uint8_t *)pin,
	    strlen(pin), NULL, NULL), PV_OK, "the card takes %s", pin);
}

Test(wf_unblock, blocked_pin_unblocked_with_the_escrowed_puk)
{
	struct rig_card k;
	struct wf_unblock_params p = params("13572468");
	struct wf_unblock_result res;
	struct card_summary sum;
	struct pv_why why = { "" };
	int64_t dev;
	enum pv_err r;

	rig_card_new(&k, 7001, 0);
	dev = issue(&k, "0000007001");
	block(&k);
	rig_insert(&k, 0);
	cr_assert_eq(card_summarize(&k.card, st, &sum, NULL), PV_OK);
	cr_assert_eq(sum.cls, CARD_CLASS_ISSUED);
	cr_assert(sum.pin_blocked);
	cr_assert_eq(sum.device_id, dev);
	cr_assert_str_eq(sum.person, "Blocked, Alice");
	rig_insert(&k, 0);
	r = wf_unblock_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert(res.was_blocked);
	cr_assert_eq(res.device_id, dev);
	cr_assert_eq(res.steps_run, 3);
	expect_pin(&k, "13572468");
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM jobs WHERE kind = "
	    "'unblock' AND state = 'done'"), 1);
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM audit WHERE action "
	    "= 'pin.unblock'"), 1);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
	/* Not blocked: a forgotten PIN is reset the same way. */
	p = params("86421357");
	rig_insert(&k, 0);
	cr_assert_eq(wf_unblock_run(&p, &k.card, &res, &why), PV_OK, "%s",
	    why.msg);
	cr_assert(!res.was_blocked);
	expect_pin(&k, "86421357");
	rig_card_free(&k);
}

/* The card pulled at APDU k of the unblock, for every k, then put back:
 * the same job finishes and the card takes the new PIN. */
Test(wf_unblock, pulled_at_every_apdu_then_resumed)
{
	struct wf_unblock_params p = params("13572468");
	struct wf_unblock_result res;
	struct pv_why why = { "" };
	struct rig_card k;
	unsigned long total, i;
	char pid[16];
	enum pv_err r;

	rig_card_new(&k, 7100, 0);
	(void)issue(&k, "0000007100");
	block(&k);
	rig_insert(&k, 0);
	cr_assert_eq(wf_unblock_run(&p, &k.card, &res, &why), PV_OK, "%s",
	    why.msg);
	total = k.n;
	rig_card_free(&k);
	cr_assert(total > 3 && total < 30, "%lu APDUs", total);
	for (i = 1; i <= total; i++) {
		(void)snprintf(pid, sizeof(pid), "%010lu", 7200 + i);
		rig_card_new(&k, (uint32_t)(7200 + i), (int)i);
		(void)issue(&k, pid);
		block(&k);
		rig_insert(&k, i);
		pv_why_clear(&why);
		r = wf_unblock_run(&p, &k.card, &res, &why);
		cr_assert(r == PV_OK || r == PV_E_NO_CARD, "k=%lu: %s: %s", i,
		    pv_errname(r), why.msg);
		if (r != PV_OK) {
			rig_insert(&k, 0);
			pv_why_clear(&why);
			r = wf_unblock_run(&p, &k.card, &res, &why);
			cr_assert_eq(r, PV_OK, "k=%lu resumed: %s", i, why.msg);
		}
		expect_pin(&k, "13572468");
		rig_card_free(&k);
	}
	cr_assert_eq(fx_sql_int(dir, "SELECT count(*) FROM jobs WHERE kind = "
	    "'unblock' AND state <> 'done'"), 0);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
}

Test(wf_unblock, refusals)
{
	struct wf_unblock_params p = params("13572468");
	struct wf_unblock_result res;
	struct lifecycle_result lc;
	struct card_summary sum;
	struct pv_why why = { "" };
	struct rig_card k, blank;
	EVP_PKEY *other = NULL;
	struct ca *ca2;
	int64_t dev;

	/* A card this station never issued. */
	rig_card_new(&blank, 7300, 0);
	cr_assert_eq(card_summarize(&blank.card, st, &sum, NULL), PV_OK);
	cr_assert_eq(sum.cls, CARD_CLASS_BLANK);
	rig_insert(&blank, 0);
	cr_assert_eq(wf_unblock_run(&p, &blank.card, &res, &why),
	    PV_E_NO_RECORD);
	cr_assert(strstr(why.msg, "not issued by this station") != NULL, "%s",
	    why.msg);
	rig_card_free(&blank);

	rig_card_new(&k, 7301, 1);
	dev = issue(&k, "0000007301");
	block(&k);
	/* A weak PIN: refused before the card is touched. */
	{
		struct wf_unblock_params w = params("123456");

		pv_why_clear(&why);
		cr_assert_eq(wf_unblock_run(&w, &k.card, &res, &why),
		    PV_E_INPUT);
	}
	/* A KRA that is not the one the PUK was sealed to. */
	ca2 = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, &other);
	{
		struct wf_unblock_params w = params("13572468");

		w.kra_cert = ca_get0_kra(ca2);
		w.kra_key = other;
		rig_insert(&k, 0);
		pv_why_clear(&why);
		cr_assert_eq(wf_unblock_run(&w, &k.card, &res, &why),
		    PV_E_VERIFY, "%s", why.msg);
	}
	EVP_PKEY_free(other);
	ca_free(ca2);
	/* A suspended device. */
	cr_assert_eq(lifecycle_suspend(st, dev, "lost", &lc, NULL), PV_OK);
	rig_insert(&k, 0);
	cr_assert_eq(card_summarize(&k.card, st, &sum, NULL), PV_OK);
	cr_assert_eq(sum.cls, CARD_CLASS_SUSPENDED);
	rig_insert(&k, 0);
	pv_why_clear(&why);
	cr_assert_eq(wf_unblock_run(&p, &k.card, &res, &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "resume it first") != NULL, "%s", why.msg);
	/* Still blocked: nothing was done to it. */
	rig_insert(&k, 0);
	cr_assert_eq(card_verify_pin(&k.card, (const uint8_t *)"24681357", 8,
	    NULL, NULL), PV_E_BLOCKED);
	rig_card_free(&k);
}
