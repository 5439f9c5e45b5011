/*
 * test_wf_run.c: wf_issue_run over an in-process virtual card (vcard/),
 * at unit speed: a whole issuance judged through the store and the card;
 * the card pulled at every APDU k of an issuance and the job resumed (the
 * logic of `make check-sweep` without pcscd); four issuances on four
 * threads against one store; two runs racing for one person.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "apdu/apdu.h"
#include "apdu/piv.h"
#include "issuance/card.h"
#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "rig_card.h"
#include "station_fixture.h"
#include "tests/unit/issuance/test_ca_support.h"
#include "vcard/card.h"
#include "vcard/state.h"

/* ---- the station side -------------------------------------------------------- */

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
	/* P-256 everywhere: the logic under test, not RSA keygen time. */
	for (s = 0; s < CONFIG_N_SLOTS; s++)
		cfg.slot_alg[s] = CONFIG_ALG_ECCP256;
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

TestSuite(wf_run, .init = setup, .fini = teardown, .timeout = 300);

static struct wf_issue_params
params(struct store *s, const struct identity *id, const char *pin)
{
	struct wf_issue_params p;

	memset(&p, 0, sizeof(p));
	p.cfg = &cfg;
	p.ident = id;
	p.ca = ca;
	p.master = &master;
	p.st = s;
	p.pin = (const uint8_t *)pin;
	p.pin_len = strlen(pin);
	return p;
}

/* The card is exactly what the store says it issued: a run without
 * --reissue finds it done and writes nothing. */
static void
expect_issued(struct rig_card *k, const struct identity *id,
    const char *pin, int64_t job_id)
{
	struct wf_issue_params p = params(st, id, pin);
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct store_job j;
	unsigned long before;
	enum pv_err r;

	rig_insert(k, 0);
	before = vc_card_n_apdus(k->vc);
	r = wf_issue_run(&p, &k->card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert(res.already_issued, "the card matches the store");
	cr_assert_eq(res.job_id, job_id);
	cr_assert_eq(res.steps_run, 0);
	cr_assert(vc_card_n_apdus(k->vc) - before <= 12, "reads only");
	cr_assert_eq(store_job_get(st, job_id, &j, NULL), PV_OK);
	cr_assert_eq(j.state, STORE_JOB_DONE);
}

static long long
count(const char *sql)
{
	return fx_sql_int(dir, sql);
}

Test(wf_run, issues_a_usb_key)
{
	struct identity id = fx_identity("0000001001", "Runner", NULL);
	struct rig_card k;
	struct wf_issue_params p = params(st, &id, "24681357");
	struct wf_issue_result res;
	struct pv_why why = { "" };
	struct audit_report rep;
	enum pv_err r;

	rig_card_new(&k, 1001, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert(!res.resumed && !res.already_issued);
	cr_assert_eq(res.steps_run, 15);
	cr_assert(res.key_9d_escrowed && res.puk_escrowed && res.mgmt_changed);
	cr_assert(res.cert_serial[0][0] && res.cert_serial[1][0] &&
	    res.cert_serial[2][0] && res.cert_serial[3][0]);
	cr_assert_eq(count("SELECT count(*) FROM certificates WHERE status = "
	    "'active'"), 4);
	cr_assert_eq(count("SELECT count(*) FROM devices WHERE status = "
	    "'active'"), 1);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert(vc_card_n_apdus(k.vc) > 20);
	expect_issued(&k, &id, "24681357", res.job_id);
	rig_card_free(&k);
}

/*
 * The card pulled at APDU k, for every k of an issuance, then put back
 * and the same issuance run again: it finishes the same job, with exactly
 * one active certificate per slot, the current 9D escrow record the key
 * on the card, and the log intact.
 */
Test(wf_run, pulled_at_every_apdu_then_resumed)
{
	struct rig_card ref;
	struct wf_issue_result res;
	struct pv_why why = { "" };
	unsigned long total, k;
	char pid[16];
	enum pv_err r;

	/* How many APDUs one issuance takes. */
	{
		struct identity id = fx_identity("0000002000", "Sweep", NULL);
		struct wf_issue_params p = params(st, &id, "24681357");

		rig_card_new(&ref, 2000, 0);
		cr_assert_eq(wf_issue_run(&p, &ref.card, &res, &why), PV_OK,
		    "%s", why.msg);
		total = ref.n;
		rig_card_free(&ref);
	}
	cr_assert(total > 20 && total < 60, "%lu APDUs", total);
	for (k = 1; k <= total; k++) {
		struct identity id;
		struct rig_card c;
		struct wf_issue_params p;
		struct store_escrow e;
		uint8_t card_key[32];
		unsigned tries;

		(void)snprintf(pid, sizeof(pid), "%010lu", 3000 + k);
		id = fx_identity(pid, "Sweep", NULL);
		p = params(st, &id, "24681357");
		rig_card_new(&c, (uint32_t)(3000 + k), (int)k);
		rig_insert(&c, k);
		r = wf_issue_run(&p, &c.card, &res, &why);
		cr_assert(r == PV_E_NO_CARD || r == PV_OK, "k=%lu: %s: %s", k,
		    pv_errname(r), why.msg);
		/* Put back until it finishes (at most twice: a pull costs one
		 * run). */
		for (tries = 0; r != PV_OK && tries < 2; tries++) {
			rig_insert(&c, 0);
			pv_why_clear(&why);
			r = wf_issue_run(&p, &c.card, &res, &why);
		}
		cr_assert_eq(r, PV_OK, "k=%lu resumed: %s: %s", k,
		    pv_errname(r), why.msg);
		expect_issued(&c, &id, "24681357", res.job_id);
		/* One active certificate per slot for the device. */
		{
			char q[160];

			(void)snprintf(q, sizeof(q), "SELECT count(*) FROM "
			    "certificates WHERE device_id = %lld AND status = "
			    "'active'", (long long)res.device_id);
			cr_assert_eq(count(q), 4, "k=%lu", k);
		}
		/* The current escrow record is the key on the card. */
		memset(&e, 0, sizeof(e));
		cr_assert_eq(store_escrow_current(st, res.device_id,
		    STORE_ESCROW_KEY_9D, &e, NULL), PV_OK);
		rig_insert(&c, 0);
		cr_assert_eq(card_key_hash(&c.a, 0x9d, card_key, NULL), PV_OK);
		cr_assert_eq(memcmp(card_key, e.fingerprint, 32), 0, "k=%lu",
		    k);
		store_escrow_cleanup(&e);
		rig_card_free(&c);
	}
	cr_assert_eq(count("SELECT count(*) FROM jobs WHERE state <> 'done'"),
	    0);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
}

/* ---- threads -------------------------------------------------------------------- */

struct worker {
	pthread_t t;
	struct rig_card card;
	struct identity id;
	struct store *st;
	enum pv_err r;
	struct pv_why why;
	struct wf_issue_result res;
	atomic_int *go;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct wf_issue_params p = params(w->st, &w->id, "13572468");

	while (atomic_load(w->go) == 0)
		;
	w->r = wf_issue_run(&p, &w->card.card, &w->res, &w->why);
	return NULL;
}

/* Four cards on four threads, each with its own store connection. */
Test(wf_run, four_threads_one_store)
{
	struct worker w[4];
	struct audit_report rep;
	struct pv_why why = { "" };
	atomic_int go = 0;
	char pid[16];
	int i;

	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		(void)snprintf(pid, sizeof(pid), "%010d", 4000 + i);
		w[i].id = fx_identity(pid, "Thread", NULL);
		rig_card_new(&w[i].card, (uint32_t)(4000 + i), i);
		w[i].st = fx_open(dir);
		w[i].go = &go;
		cr_assert_eq(pthread_create(&w[i].t, NULL, worker_run, &w[i]),
		    0);
	}
	atomic_store(&go, 1);
	for (i = 0; i < 4; i++) {
		pthread_join(w[i].t, NULL);
		cr_assert_eq(w[i].r, PV_OK, "thread %d: %s: %s", i,
		    pv_errname(w[i].r), w[i].why.msg);
		store_close(w[i].st);
	}
	cr_assert_eq(count("SELECT count(*) FROM jobs WHERE state = 'done'"),
	    4);
	cr_assert_eq(count("SELECT count(*) FROM certificates WHERE status = "
	    "'active'"), 16);
	cr_assert_eq(audit_verify(st, &rep, &why), PV_OK, "%s", why.msg);
	cr_assert(rep.file_checked);
	cr_assert_eq(rep.file_lag, 0, "the head file ends where the log does");
	for (i = 0; i < 4; i++) {
		expect_issued(&w[i].card, &w[i].id, "13572468", w[i].res.job_id);
		rig_card_free(&w[i].card);
	}
}

/*
 * Two runs for one person on two cards at once: one gets the job, the
 * other is refused before it writes to its card, naming the reader that
 * holds the job.  (Before schema 3 the second silently attached itself to
 * the first one's job.)
 */
Test(wf_run, two_runs_for_one_person_never_share_a_job)
{
	struct worker w[2];
	struct identity id = fx_identity("0000005000", "Twice", NULL);
	atomic_int go = 0;
	int i, ok = 0, refused = 0;

	for (i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = id;
		rig_card_new(&w[i].card, (uint32_t)(5000 + i), i);
		w[i].st = fx_open(dir);
		w[i].go = &go;
		cr_assert_eq(pthread_create(&w[i].t, NULL, worker_run, &w[i]),
		    0);
	}
	atomic_store(&go, 1);
	for (i = 0; i < 2; i++) {
		pthread_join(w[i].t, NULL);
		store_close(w[i].st);
		if (w[i].r == PV_OK) {
			ok++;
			continue;
		}
		/* The loser either lost the claim, or found the winner's
		 * running job for another card. */
		cr_assert(w[i].r == PV_E_EXISTS ||
		    w[i].r == PV_E_DIFFERENT_CARD, "%s: %s",
		    pv_errname(w[i].r), w[i].why.msg);
		cr_assert(strstr(w[i].why.msg, "In-process") != NULL ||
		    strstr(w[i].why.msg, "serial") != NULL, "%s",
		    w[i].why.msg);
		refused++;
		/* Nothing of this station's reached the loser's card. */
		cr_assert_null(vc_state_obj(&w[i].card.st, 0x5fc102),
		    "no CHUID written");
	}
	cr_assert_eq(ok, 1);
	cr_assert_eq(refused, 1);
	cr_assert_eq(count("SELECT count(*) FROM jobs"), 1);
	cr_assert_eq(count("SELECT count(*) FROM devices"), 1);
	for (i = 0; i < 2; i++)
		rig_card_free(&w[i].card);
}

/* ---- a resumed job and the person's details ------------------------------------- */

/* Runs an issuance of |id| pulled at APDU |k|: a running job is left. */
static void
start_and_pull(struct rig_card *k, const struct identity *id,
    unsigned long at)
{
	struct wf_issue_params p = params(st, id, "24681357");
	struct wf_issue_result res;
	struct pv_why why = { "" };
	enum pv_err r;

	rig_insert(k, at);
	r = wf_issue_run(&p, &k->card, &res, &why);
	cr_assert_eq(r, PV_E_NO_CARD, "%s: %s", pv_errname(r), why.msg);
	cr_assert_eq(count("SELECT count(*) FROM jobs WHERE state = "
	    "'running'"), 1);
}

/*
 * A job cut short is resumed with the identity file given now.  One whose
 * details differ from the person the job registered (another name, another
 * person's e-mail address) is refused: the certificates still to be made
 * would carry details the store never recorded, nor vetted (the e-mail of
 * somebody else), next to certificates made with the old ones.  Nor does
 * --update-person change a person in the middle of a card.
 */
Test(wf_run, resume_with_other_details_is_refused)
{
	struct identity victim = fx_identity("0000007001", "Victim",
	    "victim@agency.gov");
	struct identity id = fx_identity("0000007000", "Original",
	    "orig@agency.gov");
	struct identity other = id;
	struct rig_card k;
	struct wf_issue_params p;
	struct wf_issue_result res;
	struct pv_why why = { "" };
	long long certs;
	enum pv_err r;

	cr_assert_eq(store_person_put(st, &victim, STORE_PERSON_REFUSE, NULL,
	    &why), PV_OK, "%s", why.msg);
	rig_card_new(&k, 7000, 0);
	start_and_pull(&k, &id, 20);
	certs = count("SELECT count(*) FROM certificates");

	/* Another name, another person's address: refused, card untouched. */
	strcpy(other.family_name, "Impostor");
	strcpy(other.email, "victim@agency.gov");
	p = params(st, &other, "24681357");
	rig_insert(&k, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_INPUT, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "family_name") != NULL, "%s", why.msg);
	cr_assert_eq(count("SELECT count(*) FROM certificates"), certs);

	/* --update-person: not in the middle of a card either. */
	p.update_person = true;
	strcpy(other.email, "orig@agency.gov");
	pv_why_clear(&why);
	rig_insert(&k, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_E_INPUT, "%s: %s", pv_errname(r), why.msg);
	cr_assert(strstr(why.msg, "finish or cancel the job first)") != NULL,
	    "%s", why.msg);
	cr_assert_eq(count("SELECT count(*) FROM certificates"), certs);
	cr_assert_eq(count("SELECT count(*) FROM people WHERE family_name = "
	    "'Impostor'"), 0);

	/* The details of the store: the job finishes. */
	p = params(st, &id, "24681357");
	pv_why_clear(&why);
	rig_insert(&k, 0);
	r = wf_issue_run(&p, &k.card, &res, &why);
	cr_assert_eq(r, PV_OK, "%s: %s", pv_errname(r), why.msg);
	cr_assert(res.resumed);
	cr_assert_eq(count("SELECT count(*) FROM audit WHERE action = "
	    "'person.update'"), 0);
	cr_assert_eq(audit_verify(st, NULL, &why), PV_OK, "%s", why.msg);
	rig_card_free(&k);
}
