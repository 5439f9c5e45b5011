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

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "apdu/tlv.h"
#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "rig_card.h"
#include "station_fixture.h"
#include "tests/unit/issuance/test_ca_support.h"
#include "vcard/crypto.h"

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

/* ---- objects the card manages itself (firmware-notes/discovery-builtin.md) ----- */

/* The objects step's outcome for object |key| of job |job|. */
static bool
objects_said(int64_t job, const char *key, const char *value)
{
	char sql[256];

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_steps "
	    "WHERE job_id = %lld AND name = 'objects' AND state = 'done' AND "
	    "json_extract(detail, '$.%s') = '%s'", (long long)job, key, value);
	return count(sql) == 1;
}

/*
 * An applet that builds its Discovery Object and refuses PUT DATA 7E
 * (6A80): its own already has the PIN policy we want (40 00), so it is
 * kept and not written; CCC and Key History are written; the card is
 * issued (before: the objects step failed, "writing discovery object:
 * ... 6A80", after keys and certificates were made).
 */
Test(wf_cards, discovery_builtin_is_kept)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		char pid[16];
		struct identity id;
		struct wf_issue_params p;
		struct wf_issue_result res;
		struct pv_why why = { "" };
		struct rig_card k;
		enum pv_err r;

		(void)snprintf(pid, sizeof(pid), "00000074%02u", i);
		id = fx_identity(pid, "Builtin", NULL);
		p = params(&id);
		rig_card_make(&k, both[i], VC_QUIRK_DISCOVERY_BUILTIN, 7400 + i,
		    (int)i);
		r = wf_issue_run(&p, &k.card, &res, &why);
		cr_assert_eq(r, PV_OK, "%s: %s: %s", vc_profile_name(both[i]),
		    pv_errname(r), why.msg);
		cr_assert(objects_said(res.job_id, "discovery", "kept"));
		cr_assert(objects_said(res.job_id, "discovery_policy", "4000"));
		cr_assert(objects_said(res.job_id, "key_history", "written"));
		cr_assert_not_null(vc_state_obj(&k.st, PIV_OBJ_CCC));
		cr_assert_not_null(vc_state_obj(&k.st, PIV_OBJ_KEY_HISTORY));
		cr_assert_not_null(vc_state_obj(&k.st, PIV_OBJ_SECURITY));
		rig_card_free(&k);
	}
	cr_assert_eq(count("SELECT count(*) FROM devices WHERE status = "
	    "'active'"), 2);
}

/* A Discovery Object whose content a card stores, as 7E holds it (the
 * PIV AID, PIN policy |p0 p1|). */
static void
card_discovery_put(struct rig_card *k, uint8_t p0, uint8_t p1)
{
	const uint8_t d[] = { 0x4f, 0x0b, PIV_AID_BYTES, 0x5f, 0x2f, 0x02, p0,
		p1 };

	cr_assert_eq(vc_state_obj_put(&k->st, PIV_OBJ_DISCOVERY, d,
	    sizeof(d)), PV_OK);
}

static void
card_discovery_policy(struct rig_card *k, uint8_t p0, uint8_t p1)
{
	const struct vc_obj *o = vc_state_obj(&k->st, PIV_OBJ_DISCOVERY);
	struct buf_out b;
	struct piv_discovery d;

	cr_assert_not_null(o);
	memset(&b, 0, sizeof(b));
	cr_assert(buf_out_alloc(&b, 64, 256));
	tlv_put(&b, PIV_OBJ_DISCOVERY, o->data, o->len);
	cr_assert_eq(piv_discovery_parse(b.p, b.len, &d, NULL), PV_OK);
	cr_assert(d.policy[0] == p0 && d.policy[1] == p1, "policy %02X%02X",
	    d.policy[0], d.policy[1]);
	buf_out_cleanup(&b);
}

/* A card whose Discovery Object says another PIN policy (global PIN
 * usable and primary) gets ours written. */
Test(wf_cards, discovery_with_another_policy_is_written)
{
	struct identity id = fx_identity("0000007500", "Plain", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card k;

	rig_card_make(&k, VC_PROFILE_PIV_CARD, 0, 7500, 0);
	card_discovery_put(&k, 0x60, 0x20);
	cr_assert_eq(wf_issue_run(&p, &k.card, &res, &why), PV_OK, "%s",
	    why.msg);
	cr_assert(objects_said(res.job_id, "discovery", "written"));
	cr_assert(objects_said(res.job_id, "discovery_policy", "6020"));
	card_discovery_policy(&k, 0x40, 0x00);
	rig_card_free(&k);
}

/*
 * A refused write of an optional object (Discovery Object, Key History;
 * each status word an applet may give) is recorded in the step, with the
 * error, and the issuance completes; the card keeps what it had.
 */
Test(wf_cards, optional_object_refused_is_recorded)
{
	static const struct {
		uint32_t tag;
		uint16_t sw;
		const char *key, *err;
	} c[] = {
		{ PIV_OBJ_DISCOVERY, 0x6a80, "discovery", "PV_E_BAD_DATA" },
		{ PIV_OBJ_DISCOVERY, 0x6a81, "discovery", "PV_E_NOT_SUPPORTED" },
		{ PIV_OBJ_KEY_HISTORY, 0x6a84, "key_history", "PV_E_NO_SPACE" },
	};
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char pid[16], ek[40];
		struct identity id;
		struct wf_issue_params p;
		struct wf_issue_result res;
		struct pv_why why = { "" };
		struct rig_card k;
		enum pv_err r;

		(void)snprintf(pid, sizeof(pid), "00000076%02u", i);
		id = fx_identity(pid, "Refused", NULL);
		p = params(&id);
		rig_card_make(&k, VC_PROFILE_PIV_CARD, 0, 7600 + i, (int)i);
		card_discovery_put(&k, 0x60, 0x20);
		k.refuse_tag = c[i].tag;
		k.refuse_sw = c[i].sw;
		r = wf_issue_run(&p, &k.card, &res, &why);
		cr_assert_eq(r, PV_OK, "%04X: %s: %s", c[i].sw, pv_errname(r),
		    why.msg);
		cr_assert(objects_said(res.job_id, c[i].key, "refused"), "%u",
		    i);
		(void)snprintf(ek, sizeof(ek), "%s_error", c[i].key);
		cr_assert(objects_said(res.job_id, ek, c[i].err), "%u", i);
		if (c[i].tag == PIV_OBJ_DISCOVERY) {
			card_discovery_policy(&k, 0x60, 0x20);
			cr_assert_not_null(vc_state_obj(&k.st,
			    PIV_OBJ_KEY_HISTORY));
		} else {
			cr_assert_null(vc_state_obj(&k.st, c[i].tag));
			card_discovery_policy(&k, 0x40, 0x00);
		}
		cr_assert_not_null(vc_state_obj(&k.st, PIV_OBJ_SECURITY));
		cr_assert_eq(count("SELECT count(*) FROM devices WHERE status "
		    "= 'active'"), i + 1);
		rig_card_free(&k);
	}
}

/*
 * The CCC is required: a refused write fails the objects step with the
 * card's answer, the job is kept, and a run once the card takes it
 * resumes and completes.
 */
Test(wf_cards, required_object_refused_fails_the_step)
{
	struct identity id = fx_identity("0000007700", "Required", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card k;
	enum pv_err r;

	rig_card_make(&k, VC_PROFILE_PIV_CARD, 0, 7700, 0);
	k.refuse_tag = PIV_OBJ_CCC;
	k.refuse_sw = 0x6a80;
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_BAD_DATA, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "card capability container") != NULL &&
	    strstr(why.msg, "6A80") != NULL, "%s", why.msg);
	cr_assert_eq(count("SELECT count(*) FROM job_steps WHERE name = "
	    "'objects' AND state = 'done'"), 0);
	cr_assert_eq(count("SELECT count(*) FROM jobs WHERE state = "
	    "'running'"), 1);
	k.refuse_sw = 0;
	pv_why_clear(&why);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert(res.resumed);
	cr_assert(objects_said(res.job_id, "discovery", "kept"));
	rig_card_free(&k);
}

/* ---- key attestation (issuance/attest.h) ------------------------------------- */

/* |dir|/name holding the vcard attestation root, or |x| when not NULL. */
static const char *
roots_file(const char *name, X509 *x)
{
	static char path[512];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	if (x != NULL)
		cr_assert_eq(PEM_write_X509(f, x), 1);
	else
		cr_assert_geq(fputs(vc_attest_root_pem(), f), 0);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* The key steps of job |job| whose attestation is |status|. */
static long long
attested(int64_t job, const char *status)
{
	char sql[256];

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_steps "
	    "WHERE job_id = %lld AND name LIKE 'key-9%%' AND state = 'done' "
	    "AND json_extract(detail, '$.attestation') = '%s'",
	    (long long)job, status);
	return count(sql);
}

/*
 * A usb-key's on-card keys (9A, 9C, 9E; 9D is made on the station and
 * escrowed) are attested through the token's F9 certificate to the
 * configured root before they are certified; the job records it.
 */
Test(wf_cards, attestation_verified_before_certifying)
{
	struct identity id = fx_identity("0000007800", "Attested", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card k;
	char sql[256];

	(void)snprintf(cfg.attest_roots, sizeof(cfg.attest_roots), "%s",
	    roots_file("roots.pem", NULL));
	cfg.attest_policy = CONFIG_ATTEST_REFUSE;
	rig_card_new(&k, 7800, 0);
	cr_assert_eq(wf_issue_run(&p, &k.card, &res, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(attested(res.job_id, "verified"), 3);
	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_steps "
	    "WHERE job_id = %lld AND json_extract(detail, '$.attestation_ca') "
	    "LIKE '%%pivstation-vcard PIV Attestation%%' AND length("
	    "json_extract(detail, '$.attestation_sha256')) = 64",
	    (long long)res.job_id);
	cr_assert_eq(count(sql), 3);
	cr_assert_eq(k.ins[0xf9], 3, "one ATTEST per on-card key");
	rig_card_free(&k);
}

/*
 * Trusting another root, the attestation does not prove the key: with
 * [attestation] policy = refuse the key is not certified (PV_E_POLICY,
 * the job kept); with record the job goes on and records "failed".
 */
Test(wf_cards, attestation_to_another_root_refused_or_recorded)
{
	struct identity id = fx_identity("0000007900", "Unproven", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card k;
	enum pv_err r;

	(void)snprintf(cfg.attest_roots, sizeof(cfg.attest_roots), "%s",
	    roots_file("other.pem", ca_get0_root(ca)));
	cfg.attest_policy = CONFIG_ATTEST_REFUSE;
	rig_card_new(&k, 7900, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_POLICY, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "[attestation] policy = refuse: the PIV "
	    "Authentication key made on the token is not certified: "
	    "attestation failed: the attestation does not chain") != NULL,
	    "%s", why.msg);
	cr_assert_eq(count("SELECT count(*) FROM certificates"), 0);
	cr_assert_eq(count("SELECT count(*) FROM jobs WHERE state = "
	    "'running'"), 1);
	cfg.attest_policy = CONFIG_ATTEST_RECORD;
	pv_why_clear(&why);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert_eq(attested(res.job_id, "failed"), 3);
	rig_card_free(&k);
}

/*
 * A plain card has no key attestation: refused under policy = refuse,
 * recorded "not attested" under record; and with no root configured a
 * usb-key's keys are "not attested" too.
 */
Test(wf_cards, no_attestation_refused_or_recorded)
{
	struct identity id = fx_identity("0000008000", "Plain", NULL);
	struct identity id2 = fx_identity("0000008001", "Noroot", NULL);
	struct wf_issue_params p = params(&id);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct rig_card k, k2;
	enum pv_err r;

	(void)snprintf(cfg.attest_roots, sizeof(cfg.attest_roots), "%s",
	    roots_file("roots.pem", NULL));
	cfg.attest_policy = CONFIG_ATTEST_REFUSE;
	rig_card_make(&k, VC_PROFILE_PIV_CARD, 0, 8000, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_POLICY, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "no attestation: the token has no key "
	    "attestation") != NULL, "%s", why.msg);
	cfg.attest_policy = CONFIG_ATTEST_RECORD;
	pv_why_clear(&why);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert_eq(attested(res.job_id, "not attested"), 4);
	rig_card_free(&k);

	cfg.attest_roots[0] = '\0';
	p = params(&id2);
	rig_card_new(&k2, 8001, 1);
	pv_why_clear(&why);
	r = wf_issue_run(&p, &k2.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert_eq(attested(res.job_id, "not attested"), 3);
	cr_assert_eq(k2.ins[0xf9], 3, "attested, but nothing to judge by");
	rig_card_free(&k2);
}
