/*
 * test_diag.c: the diag probe against a scripted YubiKey-like card: the
 * exact APDU sequence (each object once, no second SELECT), what is
 * recorded, and the failure sweep: the card pulled at every exchange k
 * gives a clean PV_E_NO_CARD with nothing leaked (ASan).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pcsc/diag.h"
#include "tests/unit/pcsc/fake_pcsc.h"

#define SEL_RSP "61114f0600001000010079074f05a000000308 9000"
/* Discovery: 7E { 4F AID, 5F2F 40 00 } */
#define DISC "7e124f0ba0000003080000100001005f2f024000 9000"
/* Key history: 53 { C1 01 00, C2 01 00, FE 00 } */
#define KEYHIST "5308c10100c20100fe00 9000"
#define PIN_META "0101ff050101060203 02 9000"
#define MGMT_META "010103 02020001 050100 9000"
#define MGMT_META_DEFAULT "010103 02020001 050101 9000"
/* ADMIN DATA 5FFF00: 53 { 80 { 81 02 } }, the key stored for the PIN. */
#define ADMIN_STORED "5305 8003 810102 9000"

/* The whole probe of a usb-key with no certificates whose 9B key is not
 * the factory one: 19 exchanges (ADMIN DATA after the metadata). */
static void
script_usb_key_mgmt(const char *mgmt_meta, bool admin)
{
	fake_card_expect_prefix(fk.card, "00a40400", SEL_RSP);
	fake_card_expect_prefix(fk.card, "00fd0000", "050403 9000");
	fake_card_expect_prefix(fk.card, "00f80000", "00bc614e 9000");
	fake_card_expect_prefix(fk.card, "00f70080", PIN_META);
	fake_card_expect_prefix(fk.card, "00f70081", PIN_META);
	fake_card_expect_prefix(fk.card, "00f7009b", mgmt_meta);
	if (admin)
		fake_card_expect_prefix(fk.card, "00cb3fff0000055c035fff00",
		    ADMIN_STORED);
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* CHUID */
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* CCC */
	fake_card_expect_prefix(fk.card, "00cb3fff", DISC);
	fake_card_expect_prefix(fk.card, "00cb3fff", KEYHIST);
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* 9A */
	fake_card_expect_prefix(fk.card, "00f7009a", "6a82");
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* 9C */
	fake_card_expect_prefix(fk.card, "00f7009c", "6a82");
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* 9D */
	fake_card_expect_prefix(fk.card, "00f7009d", "6a82");
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* 9E */
	fake_card_expect_prefix(fk.card, "00f7009e", "6a82");
}

static void
script_usb_key(void)
{
	script_usb_key_mgmt(MGMT_META, true);
}

static enum pv_err
run_diag(struct pcsc_diag *d)
{
	struct pcsc_session_opts o;
	struct pcsc_session *s = NULL;
	struct pcsc_diag_opts dopts;
	struct pv_why why = { { 0 } };
	enum pv_err r;

	memset(&o, 0, sizeof(o));
	memset(&dopts, 0, sizeof(dopts));
	r = pcsc_session_open_sys(&fake_sys, &o, &s, &why);
	if (r == PV_OK)
		r = pcsc_diag_run(s, &dopts, d, &why);
	pcsc_session_close(s);
	return r;
}

static void
setup(void)
{
	fake_pcsc_reset();
	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fk.card = fake_card_new();
	fk.control_rc = SCARD_E_UNSUPPORTED_FEATURE;
}

Test(pcsc_diag, usb_key_sequence_and_results, .init = setup,
    .fini = fake_pcsc_reset)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));

	script_usb_key();
	cr_assert_eq(run_diag(d), PV_OK);
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	cr_assert_eq(fake_card_count(fk.card), 19);
	cr_assert_eq(d->stats.tr.n_apdus, 19);
	cr_assert_str_eq(d->reader, "Virtual PCD 00 00");
	cr_assert_str_eq(d->vendor, "Fake");
	cr_assert_eq(d->features.n, 0);
	cr_assert_eq(d->features_rc, (uint32_t)SCARD_E_UNSUPPORTED_FEATURE);
	cr_assert(d->extended);
	cr_assert(d->piv);
	cr_assert(d->has_version);
	cr_assert_eq(d->version.minor, 4);
	cr_assert(d->has_serial);
	cr_assert_eq(d->serial, 12345678);
	cr_assert(d->has_pin_meta);
	cr_assert_eq(d->pin_meta.retries_left, 2);
	cr_assert(d->mgmt_alg_known);
	cr_assert_eq(d->mgmt_alg, 0x03);
	cr_assert(d->yk_admin_read);
	cr_assert_eq(d->yk_admin.err, PV_OK);
	cr_assert_eq(d->yk_admin.len, 5, "the 80 element, as bytes");
	cr_assert_eq(d->chuid.err, PV_E_NOT_FOUND);
	cr_assert_eq(d->discovery.err, PV_OK);
	cr_assert(d->discovery.parsed, "%s", d->discovery.parse_why);
	cr_assert(d->keyhist.parsed, "%s", d->keyhist.parse_why);
	cr_assert_eq(d->n_certs, 4);
	cr_assert_eq(d->certs[0].key, 0x9a);
	cr_assert_eq(d->certs[3].obj.tag, 0x5fc101u);
	cr_assert_eq(d->certs[0].obj.err, PV_E_NOT_FOUND);
	cr_assert_not(d->security_lost);
	pcsc_diag_cleanup(d);
	free(d);
}

Test(pcsc_diag, factory_management_key_skips_admin_data, .init = setup,
    .fini = fake_pcsc_reset)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));

	script_usb_key_mgmt(MGMT_META_DEFAULT, false);
	cr_assert_eq(run_diag(d), PV_OK);
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	cr_assert_eq(d->stats.tr.n_apdus, 18);
	cr_assert_not(d->yk_admin_read);
	pcsc_diag_cleanup(d);
	free(d);
}

Test(pcsc_diag, plain_card_without_yubikey_extensions, .init = setup,
    .fini = fake_pcsc_reset)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));
	int i;

	fake_card_expect_prefix(fk.card, "00a40400", SEL_RSP);
	fake_card_expect_prefix(fk.card, "00fd0000", "6d00");
	fake_card_expect_prefix(fk.card, "00200080", "63c3");
	for (i = 0; i < 8; i++)
		fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");
	cr_assert_eq(run_diag(d), PV_OK);
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	cr_assert_eq(d->stats.tr.n_apdus, 11);
	cr_assert_not(d->has_version);
	cr_assert_not(d->has_pin_meta);
	cr_assert(d->has_pin_status);
	cr_assert_eq(d->pin_status.retries, 3);
	cr_assert_not(d->mgmt_alg_known);
	pcsc_diag_cleanup(d);
	free(d);
}

Test(pcsc_diag, not_a_piv_card, .init = setup, .fini = fake_pcsc_reset)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));

	fake_card_expect_prefix(fk.card, "00a40400", "6a82");
	cr_assert_eq(run_diag(d), PV_OK);
	cr_assert_not(d->piv);
	cr_assert_eq(d->select_err, PV_E_NOT_FOUND);
	cr_assert_eq(d->stats.tr.n_apdus, 1);
	pcsc_diag_cleanup(d);
	free(d);
}

/* STYLE.md §8 failure sweep: the card disappears at exchange k. */
Test(pcsc_diag, card_pulled_at_every_exchange, .fini = fake_pcsc_reset)
{
	unsigned k;

	for (k = 1; k <= 19; k++) {
		struct pcsc_diag *d = calloc(1, sizeof(*d));
		enum pv_err r;

		setup();
		script_usb_key();
		fk.transmit_rc[k - 1] = SCARD_W_REMOVED_CARD;
		r = run_diag(d);
		cr_assert_eq(r, PV_E_NO_CARD, "k=%u: %s", k, pv_errname(r));
		pcsc_diag_cleanup(d);
		free(d);
		fake_pcsc_reset();
	}
}

Test(pcsc_diag, garbage_answers_are_recorded_not_fatal, .init = setup,
    .fini = fake_pcsc_reset)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));
	int i;

	fake_card_expect_prefix(fk.card, "00a40400", SEL_RSP);
	fake_card_expect_prefix(fk.card, "00fd0000", "0504 9000");	/* short */
	fake_card_expect_prefix(fk.card, "00200080", "63c3");
	fake_card_expect_prefix(fk.card, "00cb3fff", "53 05 3001ff 9000");
	fake_card_expect_prefix(fk.card, "00cb3fff", "ffff 9000");
	fake_card_expect_prefix(fk.card, "00cb3fff", "7e02 4f 9000");
	for (i = 0; i < 5; i++)
		fake_card_expect_prefix(fk.card, "00cb3fff", "53 03 7001 ff 9000");
	cr_assert_eq(run_diag(d), PV_OK);
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	cr_assert_not(d->has_version);
	cr_assert_not(d->chuid.parsed);
	cr_assert_not(d->discovery.parsed);
	cr_assert_null(d->certs[0].der);
	cr_assert_not(d->certs[0].obj.parsed);
	pcsc_diag_cleanup(d);
	free(d);
}

/*
 * A YubiKey whose GET METADATA answers do not parse (a TLV length past
 * the end): recorded as malformed, with the reason, not as "no metadata";
 * a 6A82 answer for a slot is "none".  The PIN tries then come from
 * VERIFY without data.
 */
Test(pcsc_diag, malformed_metadata_is_not_absent_metadata, .init = setup,
    .fini = fake_pcsc_reset)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));
	int i;

	fake_card_expect_prefix(fk.card, "00a40400", SEL_RSP);
	fake_card_expect_prefix(fk.card, "00fd0000", "050403 9000");
	fake_card_expect_prefix(fk.card, "00f80000", "00bc614e 9000");
	fake_card_expect_prefix(fk.card, "00f70080", "0105ff 9000");
	fake_card_expect_prefix(fk.card, "00f70081", "0602 03 9000");
	fake_card_expect_prefix(fk.card, "00f7009b", "01 9000");
	fake_card_expect_prefix(fk.card, "00200080", "63c3");
	/* The 9B metadata said nothing: ADMIN DATA is asked for. */
	fake_card_expect_prefix(fk.card, "00cb3fff0000055c035fff00", "6a82");
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* CHUID */
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* CCC */
	fake_card_expect_prefix(fk.card, "00cb3fff", DISC);
	fake_card_expect_prefix(fk.card, "00cb3fff", KEYHIST);
	fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");	/* 9A */
	fake_card_expect_prefix(fk.card, "00f7009a", "0101 9000");
	for (i = 0; i < 3; i++) {
		fake_card_expect_prefix(fk.card, "00cb3fff", "6a82");
		fake_card_expect_prefix(fk.card, "00f7", "6a82");
	}
	cr_assert_eq(run_diag(d), PV_OK);
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	cr_assert_not(d->has_pin_meta);
	cr_assert_eq(d->pin_meta_err, PV_E_MALFORMED);
	cr_assert(strstr(d->pin_meta_why, "GET METADATA 80") != NULL, "%s",
	    d->pin_meta_why);
	cr_assert_eq(d->puk_meta_err, PV_E_MALFORMED);
	cr_assert_eq(d->mgmt_meta_err, PV_E_MALFORMED);
	cr_assert_not(pcsc_diag_meta_absent(d->mgmt_meta_err));
	cr_assert_not(d->mgmt_alg_known);
	cr_assert(d->has_pin_status, "tries from VERIFY instead");
	cr_assert_eq(d->certs[0].meta_err, PV_E_MALFORMED);
	cr_assert(strstr(d->certs[0].meta_why, "GET METADATA 9A") != NULL,
	    "%s", d->certs[0].meta_why);
	cr_assert_eq(d->certs[1].meta_err, PV_E_NOT_FOUND);
	cr_assert(pcsc_diag_meta_absent(d->certs[1].meta_err));
	pcsc_diag_cleanup(d);
	free(d);
}
