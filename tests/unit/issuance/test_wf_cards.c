/*
 * test_wf_cards.c: wf_issue_run on cards that differ from a blank one the
 * way real cards do (vcard quirks, each with its firmware-notes/ page):
 * a CHUID left by the factory, a Discovery Object the applet manages
 * itself, and the keys' attestation.  Judged through the store and the
 * card, over an in-process virtual card (rig_card.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "rig_card.h"
#include "station_fixture.h"
#include "tests/unit/issuance/test_ca_support.h"

static const char *dir;
static struct store *st;
static struct ca *ca;
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
	/* A plain card cannot import the 9D key. */
	cfg.escrow_policy = CONFIG_ESCROW_OPTIONAL;
	ca = tca_new(PKIX_ALG_P256, PKIX_ALG_P256, NULL);
	cr_assert_eq(RAND_bytes(master.v, sizeof(master.v)), 1);
}

static void
teardown(void)
{
	store_close(st);
	ca_free(ca);
	fx_rmtree(dir);
}

TestSuite(wf_cards, .init = setup, .fini = teardown, .timeout = 120);

static struct wf_issue_params
params(const struct identity *id)
{
	struct wf_issue_params p;

	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.ident = id;
	p.ca = ca;
	p.master = &master;
	p.st = st;
	p.pin = (const uint8_t *)"24681357";
	p.pin_len = 8;
	return p;
}

static long long
count(const char *sql)
{
	return fx_sql_int(dir, sql);
}

/* The card's CHUID, parsed (views into |buf|). */
static void
card_chuid(struct rig_card *k, struct buf_out *buf, struct piv_chuid *ch)
{
	const struct vc_obj *o = vc_state_obj(&k->st, PIV_OBJ_CHUID);

	cr_assert_not_null(o, "the card has a CHUID");
	cr_assert(buf_out_alloc(buf, o->len, o->len));
	buf_put(buf, o->data, o->len);
	cr_assert_eq(piv_chuid_parse(buf->p, buf->len, ch, NULL), PV_OK);
}

/* ---- a CHUID from the factory (firmware-notes/factory-chuid.md) ---------------- */

static const enum vc_profile both[] = { VC_PROFILE_USB_KEY,
	VC_PROFILE_PIV_CARD };

/*
 * The unsigned placeholder CHUID a card leaves the factory with is not
 * the work of an issuer: issuance goes ahead and writes its own signed
 * CHUID over it (before: "the card is not blank: it has a CHUID").
 */
Test(wf_cards, factory_chuid_is_issued_over)
{
	struct buf_out b0, b1;
	struct piv_chuid before, after;
	unsigned i;

	for (i = 0; i < 2; i++) {
		char pid[16];
		struct identity id;
		struct wf_issue_params p;
		struct wf_issue_result res;
		struct pv_why why = { "" };
		struct rig_card k;
		enum pv_err r;

		(void)snprintf(pid, sizeof(pid), "00000070%02u", i);
		id = fx_identity(pid, "Factory", NULL);
		p = params(&id);
		rig_card_make(&k, both[i], VC_QUIRK_FACTORY_CHUID, 7000 + i,
		    (int)i);
		memset(&b0, 0, sizeof(b0));
		memset(&b1, 0, sizeof(b1));
		card_chuid(&k, &b0, &before);
		cr_assert_eq(before.signature.len, 0, "factory: unsigned");
		r = wf_issue_run(&p, &k.card, &res, &why);
		cr_assert_eq(r, PV_OK, "%s: %s: %s", vc_profile_name(both[i]),
		    pv_errname(r), why.msg);
		card_chuid(&k, &b1, &after);
		cr_assert_neq(after.signature.len, 0, "ours is signed");
		cr_assert_neq(memcmp(after.guid, before.guid, 16), 0);
		cr_assert_eq(memcmp(after.guid, res.guid, 16), 0);
		buf_out_cleanup(&b0);
		buf_out_cleanup(&b1);
		rig_card_free(&k);
	}
	cr_assert_eq(count("SELECT count(*) FROM devices WHERE status = "
	    "'active'"), 2);
}

/* [card] factory_chuid = refuse: such a card is not blank, nothing is
 * written; --reissue takes it. */
Test(wf_cards, factory_chuid_refused_when_configured)
{
	struct identity id = fx_identity("0000007100", "Factory", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card k;
	enum pv_err r;

	cfg.factory_chuid = CONFIG_FACTORY_CHUID_REFUSE;
	rig_card_make(&k, VC_PROFILE_USB_KEY, VC_QUIRK_FACTORY_CHUID, 7100, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_EXISTS, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "factory_chuid = refuse") != NULL, "%s",
	    why.msg);
	cr_assert_eq(count("SELECT count(*) FROM jobs"), 0);
	cr_assert_eq(k.ins[0xdb], 0, "nothing written to the card");
	p.reissue = true;
	pv_why_clear(&why);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "--reissue: %s: %s", pv_errname(r), why.msg);
	rig_card_free(&k);
}

/* An unsigned CHUID whose GUID (or FASC-N) the store knows is a card of
 * this station's, not factory content: still refused. */
Test(wf_cards, unsigned_chuid_the_store_knows_is_not_factory)
{
	struct identity id = fx_identity("0000007200", "Factory", NULL);
	struct identity other = fx_identity("0000007201", "Other", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct store_device d;
	struct rig_card k;
	struct buf_out b;
	struct piv_chuid ch;
	int64_t pid = 0;
	enum pv_err r;

	rig_card_make(&k, VC_PROFILE_PIV_CARD, VC_QUIRK_FACTORY_CHUID, 7200, 0);
	memset(&b, 0, sizeof(b));
	card_chuid(&k, &b, &ch);
	cr_assert_eq(store_person_put(st, &other, STORE_PERSON_REFUSE, &pid,
	    NULL), PV_OK);
	memset(&d, 0, sizeof(d));
	d.person_id = pid;
	d.type = STORE_DEV_CARD;
	memcpy(d.guid, ch.guid, 16);
	d.has_guid = true;
	d.status = STORE_DEV_TERMINATED;
	cr_assert_eq(store_device_add(st, &d, &d.id, &why), PV_OK, "%s",
	    why.msg);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_EXISTS, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "not blank: it has a CHUID") != NULL, "%s",
	    why.msg);
	cr_assert_eq(k.ins[0xdb], 0, "nothing written to the card");
	buf_out_cleanup(&b);
	rig_card_free(&k);
}

/*
 * A plain card (no serial: the GUID is its identity) pulled at the write
 * of the CHUID, then put back: the factory CHUID is still there and the
 * job goes on (before: "its CHUID GUID differs: put that card back").
 */
Test(wf_cards, factory_chuid_card_pulled_before_its_chuid_resumes)
{
	struct identity id = fx_identity("0000007300", "Factory", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card ref, k;
	unsigned long at;
	enum pv_err r;

	/* Where the first PUT DATA (the CHUID) is, in a new job's run. */
	{
		struct identity rid = fx_identity("0000007301", "Ref", NULL);
		struct wf_issue_params rp = params(&rid);

		rig_card_make(&ref, VC_PROFILE_PIV_CARD,
		    VC_QUIRK_FACTORY_CHUID, 7301, 1);
		cr_assert_eq(wf_issue_run(&rp, &ref.card, &res, &why), PV_OK,
		    "%s", why.msg);
		at = ref.first_ins[0xdb];
		cr_assert_gt(at, 0);
		rig_card_free(&ref);
	}
	rig_card_make(&k, VC_PROFILE_PIV_CARD, VC_QUIRK_FACTORY_CHUID, 7300, 0);
	rig_insert(&k, at);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_NO_CARD, "%s: %s", pv_errname(r), why.msg);
	cr_assert_not_null(vc_state_obj(&k.st, PIV_OBJ_CHUID));
	rig_insert(&k, 0);
	pv_why_clear(&why);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "resumed: %s: %s", pv_errname(r), why.msg);
	cr_assert(res.resumed);
	rig_card_free(&k);
}
