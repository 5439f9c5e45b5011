/*
 * test_wf_done.c: wf_done_match, the decision that a re-run of `pivstation
 * issue` finds the person's card already issued (nothing to do) rather
 * than a card that is not blank.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "issuance/wf_issue_int.h"

struct done_case {
	struct card_facts in;
	struct store_device d;
	struct store_job j;
	int64_t person;
	unsigned live;
	uint8_t live_sha[4][32];
};

/* A card issued by job 7 to person 3 as device 5, unchanged since. */
static void
done_case_init(struct done_case *c)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->in.yk = true;
	c->in.has_serial = true;
	c->in.serial = 12345678;
	c->in.has_chuid = c->in.chuid_ok = true;
	memset(c->in.chuid_guid, 0xa5, 16);
	c->in.read_certs = true;
	c->in.certs = 0xf;
	c->d.id = 5;
	c->d.person_id = 3;
	c->d.status = STORE_DEV_ACTIVE;
	(void)snprintf(c->d.serial, sizeof(c->d.serial), "12345678");
	c->d.has_guid = true;
	memset(c->d.guid, 0xa5, 16);
	c->j.id = 7;
	(void)snprintf(c->j.kind, sizeof(c->j.kind), "%s", WF_ISSUE_JOB_KIND);
	c->j.person_id = 3;
	c->j.device_id = 5;
	c->j.state = STORE_JOB_DONE;
	c->person = 3;
	c->live = 0xf;
	for (i = 0; i < 4; i++) {
		memset(c->in.cert_sha256[i], (int)(0x10 + i), 32);
		memset(c->live_sha[i], (int)(0x10 + i), 32);
	}
}

static bool
done_case_match(const struct done_case *c)
{
	return wf_done_match(&c->in, &c->d, &c->j, c->person, c->live,
	    (const uint8_t (*)[32])c->live_sha);
}

Test(wf_done, unchanged_card_of_the_done_job_matches)
{
	struct done_case c;

	done_case_init(&c);
	cr_assert(done_case_match(&c));
	/* a PIV card without a serial: the GUID alone identifies it */
	c.in.has_serial = false;
	c.d.serial[0] = '\0';
	cr_assert(done_case_match(&c));
	/* a token without a 9D certificate where the store has none either */
	done_case_init(&c);
	c.in.certs = c.live = 0xb;
	cr_assert(done_case_match(&c));
}

Test(wf_done, another_person_does_not_match)
{
	struct done_case c;

	done_case_init(&c);
	c.person = 4;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.person = 0;		/* the person is not in the store */
	c.d.person_id = c.j.person_id = 0;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.j.person_id = 4;
	cr_assert_not(done_case_match(&c));
}

Test(wf_done, job_must_be_the_devices_done_issue_job)
{
	struct done_case c;

	done_case_init(&c);
	c.j.state = STORE_JOB_RUNNING;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.j.state = STORE_JOB_CANCELLED;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.j.device_id = 6;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	(void)snprintf(c.j.kind, sizeof(c.j.kind), "renew");
	cr_assert_not(done_case_match(&c));
}

Test(wf_done, device_must_be_active)
{
	static const enum store_device_status st[] = { STORE_DEV_ISSUING,
		STORE_DEV_SUSPENDED, STORE_DEV_TERMINATED };
	struct done_case c;
	size_t i;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		done_case_init(&c);
		c.d.status = st[i];
		cr_assert_not(done_case_match(&c), "status %d", (int)st[i]);
	}
}

Test(wf_done, serial_and_guid_must_be_the_devices)
{
	struct done_case c;

	done_case_init(&c);
	c.in.serial = 12345679;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.in.has_serial = false;	/* store has a serial, card none */
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.in.chuid_guid[15] ^= 1;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.in.chuid_ok = false;		/* reset card, or a CHUID that does not parse */
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.d.has_guid = false;
	cr_assert_not(done_case_match(&c));
}

Test(wf_done, certificates_must_be_the_live_ones)
{
	struct done_case c;
	unsigned i;

	for (i = 0; i < 4; i++) {
		done_case_init(&c);
		c.in.cert_sha256[i][31] ^= 1;	/* another certificate */
		cr_assert_not(done_case_match(&c), "slot %u replaced", i);
		done_case_init(&c);
		c.in.certs &= ~(1u << i);	/* deleted from the card */
		cr_assert_not(done_case_match(&c), "slot %u gone", i);
		done_case_init(&c);
		c.live &= ~(1u << i);		/* revoked in the store */
		cr_assert_not(done_case_match(&c), "slot %u not live", i);
	}
	done_case_init(&c);
	c.in.read_certs = false;
	cr_assert_not(done_case_match(&c));
	done_case_init(&c);
	c.in.certs = c.live = 0;
	cr_assert_not(done_case_match(&c));
}
