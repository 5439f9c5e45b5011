/*
 * test_pcsc.c: PC/SC codes, reader list and choice, live events (PnP
 * reader, pcscd going away and coming back), connections with reset and
 * removal handling, session recovery, tracing with redaction, part 10 —
 * all against the scripted pcsc-lite of fake_pcsc.c.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apdu/piv_yk.h"
#include "pcsc/part10.h"
#include "pcsc/rc.h"
#include "pcsc/session.h"
#include "pcsc/trace.h"
#include "tests/unit/pcsc/fake_pcsc.h"

static void
setup(void)
{
	fake_pcsc_reset();
}

static void
teardown(void)
{
	fake_pcsc_reset();
}

/* ---- rc ------------------------------------------------------------------ */

Test(pcsc_rc, every_code_has_name_text_and_error)
{
	unsigned i;

	cr_assert_geq(pcsc_rc_count(), 55);
	for (i = 0; i < pcsc_rc_count(); i++) {
		uint32_t rc = pcsc_rc_at(i);

		cr_assert_neq(strcmp(pcsc_rc_name(rc), "SCARD_?"), 0, "%08x", rc);
		cr_assert_neq(strcmp(pcsc_rc_text(rc), "unknown PC/SC error"), 0);
		cr_assert_eq(strncmp(pcsc_rc_name(rc), "SCARD_", 6), 0);
	}
	cr_assert_str_eq(pcsc_rc_name(0x80100068u), "SCARD_W_RESET_CARD");
	cr_assert_eq(pcsc_rc_to_err(0x80100068u), PV_E_RESET);
	cr_assert_eq(pcsc_rc_to_err(0x80100069u), PV_E_NO_CARD);
	cr_assert_eq(pcsc_rc_to_err(0x8010001du), PV_E_NO_SERVICE);
	cr_assert_eq(pcsc_rc_to_err(0x8010001eu), PV_E_NO_SERVICE);
	cr_assert_eq(pcsc_rc_to_err(0x8010000bu), PV_E_SHARING);
	cr_assert_eq(pcsc_rc_to_err(0x8010000fu), PV_E_PROTO);
	cr_assert_eq(pcsc_rc_to_err(0), PV_OK);
	cr_assert_str_eq(pcsc_rc_name(0x80100099u), "SCARD_?");
	cr_assert_eq(pcsc_rc_to_err(0x80100099u), PV_E_TRANSPORT);
	cr_assert(pcsc_rc_is_service_gone(0x8010001du));
	cr_assert_not(pcsc_rc_is_service_gone(0x80100068u));
	/* The codes agree with pcsc-lite's header. */
	cr_assert_eq(PCSC_RC_RESET_CARD, (uint32_t)SCARD_W_RESET_CARD);
	cr_assert_eq(PCSC_RC_NO_SERVICE, (uint32_t)SCARD_E_NO_SERVICE);
}

/* ---- readers ------------------------------------------------------------- */

Test(pcsc_readers, list_with_state_and_atr, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_reader *r;
	size_t n;

	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fake_pcsc_add_reader("Virtual PCD 00 01", false);
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	cr_assert_eq(pcsc_readers_list(c, &r, &n), PV_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(r[0].name, "Virtual PCD 00 00");
	cr_assert(r[0].present);
	cr_assert_eq(r[0].atr_len, 23);
	cr_assert_eq(r[0].atr[0], 0x3b);
	cr_assert_not(r[1].present);
	cr_assert_eq(r[1].atr_len, 0);
	free(r);
	pcsc_ctx_free(c);
}

Test(pcsc_readers, none_is_ok, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_reader *r;
	size_t n = 9;

	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	cr_assert_eq(pcsc_readers_list(c, &r, &n), PV_OK);
	cr_assert_eq(n, 0);
	cr_assert_null(r);
	pcsc_ctx_free(c);
}

Test(pcsc_readers, no_service_bounded_backoff, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_reader *r;
	size_t n;

	fk.service_up = false;
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	pcsc_ctx_set_backoff(c, 1, 4, 30);
	cr_assert_eq(pcsc_readers_list(c, &r, &n), PV_E_NO_SERVICE);
	cr_assert_gt(fk.n_establish, 3, "retried with back-off");
	cr_assert_lt(fk.n_establish, 40, "bounded");
	cr_assert_eq(pcsc_ctx_last_rc(c), PCSC_RC_NO_SERVICE);
	pcsc_ctx_free(c);
}

Test(pcsc_readers, service_comes_back_during_backoff, .init = setup,
    .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_reader *r;
	size_t n;

	fake_pcsc_add_reader("R", true);
	fk.service_up = false;
	fk.service_back_after = 3;
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	pcsc_ctx_set_backoff(c, 1, 2, 2000);
	cr_assert_eq(pcsc_readers_list(c, &r, &n), PV_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(fk.n_establish, 4);
	free(r);
	pcsc_ctx_free(c);
}

Test(pcsc_readers, cancel_stops_backoff, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;

	fk.service_up = false;
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	pcsc_ctx_set_backoff(c, 1, 1, 0);	/* forever, unless cancelled */
	pcsc_ctx_cancel(c);
	cr_assert_eq(pcsc_ctx_ensure(c), PV_E_CANCELLED);
	pcsc_ctx_uncancel(c);
	fk.service_up = true;
	cr_assert_eq(pcsc_ctx_ensure(c), PV_OK);
	pcsc_ctx_free(c);
}

struct pick_case {
	char spec[32];
	int want;	/* index, or -1 for an error */
	int err;
};

static struct pick_case pick_cases[] = {
	{ "0", 0, PV_OK },
	{ "2", 2, PV_OK },
	{ "3", -1, PV_E_NO_READER },
	{ "Yubico", 1, PV_OK },
	{ "yubico yubikey", 1, PV_OK },		/* case-insensitive */
	{ "PCD 00 01", 2, PV_OK },
	{ "Virtual", -1, PV_E_INPUT },		/* two match */
	{ "Nothing", -1, PV_E_NO_READER },
	{ "2x", -1, PV_E_NO_READER },		/* not an index, no name */
};

ParameterizedTestParameters(pcsc_pick, table)
{
	return cr_make_param_array(struct pick_case, pick_cases,
	    sizeof(pick_cases) / sizeof(pick_cases[0]));
}

ParameterizedTest(struct pick_case *t, pcsc_pick, table)
{
	struct pcsc_reader r[3];
	size_t out = 99;
	struct pv_why why = { { 0 } };
	enum pv_err e;

	memset(r, 0, sizeof(r));
	strcpy(r[0].name, "Virtual PCD 00 00");
	strcpy(r[1].name, "Yubico YubiKey OTP+FIDO+CCID 00 00");
	strcpy(r[2].name, "Virtual PCD 00 01");
	e = pcsc_reader_pick(r, 3, t->spec, &out, &why);
	cr_assert_eq(e, t->err, "%s: %s", t->spec, why.msg);
	if (t->want >= 0)
		cr_assert_eq(out, (size_t)t->want);
	else
		cr_assert_neq(why.msg[0], '\0');
}

Test(pcsc_pick, default_is_the_only_card)
{
	struct pcsc_reader r[3];
	size_t out = 99;

	memset(r, 0, sizeof(r));
	r[1].present = true;
	cr_assert_eq(pcsc_reader_pick(r, 3, NULL, &out, NULL), PV_OK);
	cr_assert_eq(out, 1);
	r[2].present = true;
	cr_assert_eq(pcsc_reader_pick(r, 3, NULL, &out, NULL), PV_E_INPUT);
	r[1].present = r[2].present = false;
	cr_assert_eq(pcsc_reader_pick(r, 3, "", &out, NULL), PV_E_NO_CARD);
	cr_assert_eq(pcsc_reader_pick(r, 1, NULL, &out, NULL), PV_OK);
	cr_assert_eq(pcsc_reader_pick(r, 0, NULL, &out, NULL), PV_E_NO_READER);
}

/* ---- monitor ------------------------------------------------------------- */

static void
m_remove_card(void)
{
	fk.r[0].present = false;
	fk.r[0].events++;
}

static void
m_insert_card(void)
{
	fk.r[0].present = true;
	fk.r[0].events++;
}

static void
m_add_reader(void)
{
	fake_pcsc_add_reader("New Reader 00 00", true);
}

static void
m_remove_reader(void)
{
	fake_pcsc_remove_reader("New Reader 00 00");
}

static void
m_service_down(void)
{
	fk.service_up = false;
	fk.service_back_after = 2;
}

static void
m_swap_card(void)
{
	/* Out and in again between two waits: only the counter tells. */
	fk.r[0].events += 2;
}

static enum pcsc_ev_kind
next_kind(struct pcsc_monitor *m, struct pcsc_event *ev)
{
	enum pv_err e = pcsc_monitor_next(m, 200, ev);

	cr_assert_eq(e, PV_OK, "pcsc_monitor_next: %s", pv_errname(e));
	return ev->kind;
}

Test(pcsc_monitor, events_in_order, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_monitor *m;
	struct pcsc_event ev;

	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fake_pcsc_on_wait(m_remove_card);
	fake_pcsc_on_wait(m_insert_card);
	fake_pcsc_on_wait(m_add_reader);
	fake_pcsc_on_wait(m_remove_reader);
	fake_pcsc_on_wait(m_swap_card);
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	cr_assert_eq(pcsc_monitor_new(c, &m), PV_OK);

	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert(ev.initial);
	cr_assert(ev.reader.present);
	cr_assert_str_eq(ev.reader.name, "Virtual PCD 00 00");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_REMOVED);
	cr_assert_not(ev.initial);
	cr_assert_neq(ev.when.tv_sec, 0);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_INSERTED);
	cr_assert_eq(ev.reader.atr_len, 23);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_str_eq(ev.reader.name, "New Reader 00 00");
	cr_assert_not(ev.initial);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_INSERTED);
	cr_assert_str_eq(ev.reader.name, "New Reader 00 00");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_REMOVED);
	cr_assert_str_eq(ev.reader.name, "New Reader 00 00");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_REMOVED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_REMOVED, "card swapped");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_INSERTED);
	cr_assert_eq(pcsc_monitor_next(m, 30, &ev), PV_E_TIMEOUT);
	pcsc_monitor_free(m);
	pcsc_ctx_free(c);
}

static void
m_add_late_reader(void)
{
	fake_pcsc_add_reader("Late Reader 00 00", true);
}

/*
 * pcsc-lite 1.9.9 signals on the PnP reader only the readers that arrive
 * while SCardGetStatusChange blocks; one plugged in while the client was
 * busy with the previous event must still be reported.
 */
Test(pcsc_monitor, reader_added_between_waits, .init = setup,
    .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_monitor *m;
	struct pcsc_event ev;

	fk.pnp_during_call_only = true;
	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fake_pcsc_on_wait(m_remove_card);
	fk.on_return = m_add_late_reader;
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	cr_assert_eq(pcsc_monitor_new(c, &m), PV_OK);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_REMOVED);
	cr_assert_null(fk.on_return, "the reader came after the wait");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_str_eq(ev.reader.name, "Late Reader 00 00");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_INSERTED);
	cr_assert_str_eq(ev.reader.name, "Late Reader 00 00");
	cr_assert_eq(pcsc_monitor_next(m, 30, &ev), PV_E_TIMEOUT);
	pcsc_monitor_free(m);
	pcsc_ctx_free(c);
}

Test(pcsc_monitor, pcscd_goes_and_comes_back, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_monitor *m;
	struct pcsc_event ev;

	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fake_pcsc_add_reader("Virtual PCD 00 01", false);
	fake_pcsc_on_wait(m_service_down);
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	pcsc_ctx_set_backoff(c, 1, 2, 3000);
	cr_assert_eq(pcsc_monitor_new(c, &m), PV_OK);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_SERVICE_LOST);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_REMOVED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_REMOVED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_REMOVED);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_SERVICE_BACK);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_not(ev.initial);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_INSERTED);
	cr_assert_str_eq(ev.reader.name, "Virtual PCD 00 00");
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert_eq(pcsc_ctx_reestablished(c), 1);
	cr_assert_geq(fk.n_release, 1, "the dead context was released");
	pcsc_monitor_free(m);
	pcsc_ctx_free(c);
}

Test(pcsc_monitor, started_while_pcscd_is_down, .init = setup,
    .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_monitor *m;
	struct pcsc_event ev;

	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fk.service_up = false;
	fk.service_back_after = 6;
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	pcsc_ctx_set_backoff(c, 1, 2, 3000);
	cr_assert_eq(pcsc_monitor_new(c, &m), PV_OK);
	/* Said at once, not after the back-off. */
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_SERVICE_LOST);
	cr_assert_lt(fk.n_establish, 6);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_SERVICE_BACK);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	cr_assert(ev.reader.present);
	/* The same events as after a restart: not a first snapshot. */
	cr_assert_not(ev.initial);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_CARD_INSERTED);
	cr_assert_str_eq(ev.reader.name, "Virtual PCD 00 00");
	cr_assert_eq(pcsc_monitor_next(m, 20, &ev), PV_E_TIMEOUT);
	pcsc_monitor_free(m);
	pcsc_ctx_free(c);
}

Test(pcsc_monitor, cancel, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_monitor *m;
	struct pcsc_event ev;

	fake_pcsc_add_reader("R", false);
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	cr_assert_eq(pcsc_monitor_new(c, &m), PV_OK);
	cr_assert_eq(next_kind(m, &ev), PCSC_EV_READER_ADDED);
	pcsc_ctx_cancel(c);
	cr_assert_eq(pcsc_monitor_next(m, -1, &ev), PV_E_CANCELLED);
	pcsc_monitor_free(m);
	pcsc_ctx_free(c);
}

/* ---- connection and transport -------------------------------------------- */

static struct pcsc_card *
connect_one(struct pcsc_ctx **c)
{
	struct pcsc_card *k;

	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fk.card = fake_card_new();
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, c), PV_OK);
	cr_assert_eq(pcsc_card_connect(*c, "Virtual PCD 00 00",
	    PCSC_SHARE_SHARED, &k), PV_OK);
	return k;
}

Test(pcsc_card, share_modes_reach_pcscd, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_card *k;

	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	cr_assert_eq(pcsc_ctx_new_sys(&fake_sys, &c), PV_OK);
	cr_assert_eq(pcsc_card_connect(c, "Virtual PCD 00 00",
	    PCSC_SHARE_EXCLUSIVE, &k), PV_OK);
	cr_assert_eq(fk.last_share, (DWORD)SCARD_SHARE_EXCLUSIVE);
	cr_assert_eq(fk.last_protos,
	    (DWORD)(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1));
	/* A reconnect keeps the mode (a reset must not open the card). */
	cr_assert_eq(pcsc_card_reconnect(k, true), PV_OK);
	cr_assert_eq(fk.last_share, (DWORD)SCARD_SHARE_EXCLUSIVE);
	cr_assert_eq(fk.last_reconnect_init, (DWORD)SCARD_RESET_CARD);
	pcsc_card_free(k, false);
	cr_assert_eq(pcsc_card_connect(c, "Virtual PCD 00 00",
	    PCSC_SHARE_DIRECT, &k), PV_OK);
	cr_assert_eq(fk.last_share, (DWORD)SCARD_SHARE_DIRECT);
	cr_assert_eq(fk.last_protos, 0, "direct: no protocol");
	pcsc_card_free(k, false);
	cr_assert_eq(pcsc_card_connect(c, "Virtual PCD 00 00",
	    PCSC_SHARE_SHARED, &k), PV_OK);
	cr_assert_eq(fk.last_share, (DWORD)SCARD_SHARE_SHARED);
	pcsc_card_free(k, false);
	pcsc_ctx_free(c);
}

Test(pcsc_card, transmit_counts_and_pci, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_card *k = connect_one(&c);
	struct apdu_transport tr = pcsc_card_transport(k);
	uint8_t cmd[] = { 0x00, 0xfd, 0x00, 0x00 }, rsp[64];
	size_t n, alen;
	struct pcsc_stats st;

	cr_assert_eq(pcsc_card_protocol(k), 1);
	(void)pcsc_card_atr(k, &alen);
	cr_assert_eq(alen, 23);
	fake_card_expect(fk.card, "00fd0000", "050403 9000");
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_OK);
	cr_assert_eq(n, 5);
	pcsc_card_stats(k, &st);
	cr_assert_eq(st.n_apdus, 1);
	cr_assert_eq(st.bytes_out, 4);
	cr_assert_eq(st.bytes_in, 5);
	/* The PCI must match the protocol: T=0 now. */
	fk.proto = SCARD_PROTOCOL_T0;
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_PROTO);
	cr_assert_eq(pcsc_ctx_last_rc(c), (uint32_t)SCARD_E_PROTO_MISMATCH);
	pcsc_card_free(k, false);
	cr_assert_eq(fk.n_disconnect, 1);
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	pcsc_ctx_free(c);
}

Test(pcsc_card, reset_reconnects_and_reports, .init = setup, .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_card *k = connect_one(&c);
	struct apdu_transport tr = pcsc_card_transport(k);
	uint8_t cmd[] = { 0x00, 0xfd, 0x00, 0x00 }, rsp[64];
	size_t n;
	struct pcsc_stats st;

	fk.transmit_rc[0] = SCARD_W_RESET_CARD;
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_RESET);
	cr_assert_eq(fk.n_reconnect, 1);
	cr_assert_eq(fk.last_reconnect_init, (DWORD)SCARD_LEAVE_CARD,
	    "acknowledge, do not reset again");
	pcsc_card_stats(k, &st);
	cr_assert_eq(st.n_resets, 1);
	/* Removed: no card; an empty answer (vpcd) is a removal too. */
	fk.transmit_rc[1] = SCARD_W_REMOVED_CARD;
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_NO_CARD);
	fk.transmit_empty_at[2] = true;
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_NO_CARD);
	/* pcscd gone: the context is marked for re-establishment. */
	fk.transmit_rc[3] = SCARD_E_NO_SERVICE;
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n),
	    PV_E_NO_SERVICE);
	cr_assert_eq(tr.xfer(tr.ctx, cmd, 4, rsp, sizeof(rsp), &n), PV_E_NO_CARD,
	    "the connection is gone with pcscd");
	pcsc_card_free(k, false);
	pcsc_ctx_free(c);
}

Test(pcsc_card, begin_after_reset_retakes_transaction, .init = setup,
    .fini = teardown)
{
	struct pcsc_ctx *c;
	struct pcsc_card *k = connect_one(&c);

	fk.begin_rc[0] = SCARD_W_RESET_CARD;
	cr_assert_eq(pcsc_card_begin(k), PV_E_RESET);
	cr_assert_eq(fk.n_reconnect, 1);
	cr_assert_eq(fk.n_begin, 2, "the transaction is held again");
	cr_assert_eq(pcsc_card_end(k), PV_OK);
	cr_assert_eq(fk.n_end, 1);
	pcsc_card_free(k, false);
	pcsc_ctx_free(c);
}

/* ---- session: open, recovery after a reset ------------------------------- */

#define SEL_PREFIX "00a40400"
#define SEL_RSP "61114f0600001000010079074f05a000000308 9000"

static struct pcsc_session *
open_session(void)
{
	struct pcsc_session_opts o;
	struct pcsc_session *s;
	struct pv_why why = { { 0 } };

	memset(&o, 0, sizeof(o));
	o.identify = true;
	fake_pcsc_add_reader("Virtual PCD 00 00", true);
	fk.card = fake_card_new();
	fake_card_expect_prefix(fk.card, SEL_PREFIX, SEL_RSP);
	fake_card_expect_prefix(fk.card, "00f80000", "00bc614e 9000");
	cr_assert_eq(pcsc_session_open_sys(&fake_sys, &o, &s, &why), PV_OK,
	    "%s", why.msg);
	cr_assert(s->piv_selected);
	cr_assert(s->id.has_serial);
	cr_assert_eq(s->id.serial, 12345678);
	return s;
}

static enum pv_err
step_version(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct piv_yk_version *v = arg;

	return piv_yk_get_version(&s->apdu, v, why);
}

Test(pcsc_session, reset_recovered_same_card, .init = setup, .fini = teardown)
{
	struct pcsc_session *s = open_session();
	struct piv_yk_version v;
	struct pv_why why = { { 0 } };

	/* Transmit 3 is the GET VERSION: the card was reset before it. */
	fk.transmit_rc[2] = SCARD_W_RESET_CARD;
	fake_card_expect_prefix(fk.card, SEL_PREFIX, SEL_RSP);
	fake_card_expect_prefix(fk.card, "00f80000", "00bc614e 9000");
	fake_card_expect_prefix(fk.card, "00fd0000", "050403 9000");
	cr_assert_eq(pcsc_session_run(s, step_version, &v, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(v.major, 5);
	cr_assert(s->security_lost);
	cr_assert_eq(s->n_recoveries, 1);
	/* The caller sees the epoch change and authenticates again. */
	cr_assert(fake_card_done(fk.card), "%s", fake_card_error(fk.card));
	pcsc_session_close(s);
}

Test(pcsc_session, reset_into_a_card_without_piv, .init = setup,
    .fini = teardown)
{
	struct pcsc_session *s = open_session();
	struct piv_yk_version v;
	struct pv_why why = { { 0 } };

	fk.transmit_rc[2] = SCARD_W_RESET_CARD;
	fake_card_expect_prefix(fk.card, SEL_PREFIX, "6a82");
	cr_assert_eq(pcsc_session_run(s, step_version, &v, &why),
	    PV_E_DIFFERENT_CARD);
	cr_assert_eq(s->n_recoveries, 1);
	pcsc_session_close(s);
}

Test(pcsc_session, reset_with_another_card_is_refused, .init = setup,
    .fini = teardown)
{
	struct pcsc_session *s = open_session();
	struct piv_yk_version v;
	struct pv_why why = { { 0 } };

	fk.transmit_rc[2] = SCARD_W_RESET_CARD;
	fake_card_expect_prefix(fk.card, SEL_PREFIX, SEL_RSP);
	fake_card_expect_prefix(fk.card, "00f80000", "00000001 9000");
	cr_assert_eq(pcsc_session_run(s, step_version, &v, &why),
	    PV_E_DIFFERENT_CARD);
	cr_assert_not_null(strstr(why.msg, "serial"), "%s", why.msg);
	pcsc_session_close(s);
}

Test(pcsc_session, resets_forever_are_capped, .init = setup, .fini = teardown)
{
	struct pcsc_session *s = open_session();
	struct piv_yk_version v;
	struct pv_why why = { { 0 } };
	int i;

	for (i = 0; i < 8; i++)
		fk.begin_rc[2 + i] = SCARD_W_RESET_CARD;
	cr_assert_eq(pcsc_session_run(s, step_version, &v, &why), PV_E_RESET);
	cr_assert_not_null(strstr(why.msg, "reset"), "%s", why.msg);
	pcsc_session_close(s);
}

/* ---- trace --------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[8192];
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
trace_verify(bool json, const char *path)
{
	struct fake_card *fc = fake_card_new();
	struct apdu_transport inner = fake_card_transport(fc), tr;
	struct pcsc_trace *t;
	struct pcsc_trace_tap *tap;
	uint8_t verify[] = { 0x00, 0x20, 0x00, 0x80, 0x08, '9', '7', '5', '3',
	    '1', '8', 0xff, 0xff };
	uint8_t rsp[16];
	size_t n;
	struct stat st;

	fake_card_expect(fc, "0020008008393735333138ffff", "63c2");
	cr_assert_eq(pcsc_trace_open(path, json, &t, NULL), PV_OK);
	cr_assert_eq(pcsc_trace_tap_new(t, &inner, "Reader \"Q\"", &tap, &tr),
	    PV_OK);
	pcsc_trace_note(t, "connected");
	cr_assert_eq(tr.xfer(tr.ctx, verify, sizeof(verify), rsp, sizeof(rsp),
	    &n), PV_OK);
	cr_assert_eq(n, 2);
	pcsc_trace_tap_free(tap);
	pcsc_trace_close(t);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	fake_card_free(fc);
}

Test(pcsc_trace, text_redacts_pin)
{
	char path[] = "/tmp/pv-trace-XXXXXX";
	int fd = mkstemp(path);
	char *s;

	close(fd);
	chmod(path, 0644);	/* an existing file is tightened */
	trace_verify(false, path);
	s = slurp(path);
	cr_assert_not_null(strstr(s, "> 00 20 00 80 08 ** ** ** ** ** ** ** **"),
	    "%s", s);
	cr_assert_not_null(strstr(s, "VERIFY"), "%s", s);
	cr_assert_not_null(strstr(s, "< 63 c2 #"), "%s", s);
	cr_assert_not_null(strstr(s, "# 20"), "timestamped note: %s", s);
	cr_assert_null(strstr(s, "39 37 35"), "%s", s);
	cr_assert_null(strstr(s, "393735"), "%s", s);
	cr_assert_null(strstr(s, "975318"), "%s", s);
	unlink(path);
}

Test(pcsc_trace, json_lines_fields)
{
	char path[] = "/tmp/pv-trace-XXXXXX";
	int fd = mkstemp(path);
	char *s;

	close(fd);
	trace_verify(true, path);
	s = slurp(path);
	cr_assert_not_null(strstr(s, "{\"seq\":1,\"t\":\"20"), "%s", s);
	cr_assert_not_null(strstr(s, "\"reader\":\"Reader \\\"Q\\\"\""), "%s", s);
	cr_assert_not_null(strstr(s, "\"cmd\":\"0020008008****************\""),
	    "%s", s);
	cr_assert_not_null(strstr(s, "\"rsp\":\"63c2\""), "%s", s);
	cr_assert_not_null(strstr(s, "\"us\":"), "%s", s);
	cr_assert_null(strstr(s, "connected"), "no notes in JSON Lines");
	cr_assert_null(strstr(s, "393735"), "%s", s);
	unlink(path);
}

Test(pcsc_trace, refuses_symlink)
{
	char dir[] = "/tmp/pv-trace-dir-XXXXXX", link_path[64];
	struct pcsc_trace *t;
	struct pv_why why = { { 0 } };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(link_path, sizeof(link_path), "%s/l", dir);
	cr_assert_eq(symlink("/tmp/pv-should-not-exist", link_path), 0);
	cr_assert_eq(pcsc_trace_open(link_path, false, &t, &why), PV_E_IO);
	cr_assert_not_null(strstr(why.msg, "--trace"), "%s", why.msg);
	unlink(link_path);
	rmdir(dir);
}

/* ---- part 10 ------------------------------------------------------------- */

Test(pcsc_part10, features_parse)
{
	static const uint8_t ok[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x06,
	    0x12, 0x04, 0x42, 0x33, 0x00, 0x12 };
	struct part10_features fs;
	struct pv_why why = { { 0 } };
	uint32_t code;

	cr_assert_eq(part10_parse_features(ok, sizeof(ok), &fs, NULL), PV_OK);
	cr_assert_eq(fs.n, 2);
	cr_assert(part10_find(&fs, PART10_VERIFY_PIN_DIRECT, &code));
	cr_assert_eq(code, 0x42330006u);
	cr_assert_not(part10_find(&fs, PART10_MODIFY_PIN_DIRECT, &code));
	cr_assert_str_eq(part10_feature_name(0x06), "FEATURE_VERIFY_PIN_DIRECT");
	cr_assert_eq(part10_parse_features(ok, 0, &fs, NULL), PV_OK);
	cr_assert_eq(fs.n, 0);
	cr_assert_eq(part10_parse_features(ok, 5, &fs, &why), PV_E_MALFORMED);
	cr_assert_not_null(strstr(why.msg, "truncated"), "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(part10_parse_features((const uint8_t *)"\x06\x03\x01\x02\x03",
	    5, &fs, &why), PV_E_MALFORMED);
	cr_assert_not_null(strstr(why.msg, "length 3"), "%s", why.msg);
	cr_assert_eq(part10_parse_features(ok, 1, &fs, NULL), PV_E_MALFORMED);
}

Test(pcsc_part10, props_parse_little_endian)
{
	static const uint8_t p[] = { 0x0a, 0x04, 0x00, 0x00, 0x01, 0x00,
	    0x06, 0x01, 0x04, 0x0b, 0x02, 0xe6, 0x08, 0x08, 0x03, 'a', 'b',
	    'c' };
	struct part10_props pr;

	cr_assert_eq(part10_parse_props(p, sizeof(p), &pr, NULL), PV_OK);
	cr_assert_eq(pr.n, 4);
	cr_assert_eq(pr.p[0].value, 0x10000u);
	cr_assert_str_eq(part10_prop_name(pr.p[0].tag), "dwMaxAPDUDataSize");
	cr_assert_eq(pr.p[1].value, 4);
	cr_assert_eq(pr.p[2].value, 0x08e6u);
	cr_assert_eq(pr.p[3].value, 0, "strings carry no number");
	cr_assert_eq(part10_parse_props(p, 3, &pr, NULL), PV_E_MALFORMED);
}

Test(pcsc_part10, verify_structure_bytes)
{
	uint8_t b[64];
	size_t n = part10_build_verify(0x80, 6, 8, 30, b, sizeof(b));
	static const uint8_t want[] = {
		30, 30, 0x82, 0x08, 0x00, 8, 6, 0x02, 0x01, 0x09, 0x04, 0x00,
		0, 0, 0, 13, 0, 0, 0,
		0x00, 0x20, 0x00, 0x80, 0x08,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	cr_assert_eq(n, sizeof(want));
	cr_assert_eq(memcmp(b, want, n), 0);
	cr_assert_eq(part10_build_verify(0x80, 6, 8, 30, b, 10), 0);
}

Test(pcsc_part10, modify_structure_bytes)
{
	uint8_t b[64];
	size_t n = part10_build_modify(0x80, (const uint8_t *)"123456", 6, 6,
	    8, 30, b, sizeof(b));
	static const uint8_t want[] = {
		30, 30, 0x82, 0x08, 0x00, 0, 8, 8, 6, 0x01, 0x02, 0x02,
		0x09, 0x04, 0x01, 0x02, 0x00, 0, 0, 0, 21, 0, 0, 0,
		0x00, 0x24, 0x00, 0x80, 0x10,
		'1', '2', '3', '4', '5', '6', 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	cr_assert_eq(n, sizeof(want));
	cr_assert_eq(memcmp(b, want, n), 0);
	/* A current value over 8 bytes, or no room: nothing written. */
	cr_assert_eq(part10_build_modify(0x80, (const uint8_t *)"123456789",
	    9, 6, 8, 30, b, sizeof(b)), 0);
	cr_assert_eq(part10_build_modify(0x80, (const uint8_t *)"1", 1, 6, 8,
	    30, b, 20), 0);
	/* An empty current value leaves the first block all FF. */
	n = part10_build_modify(0x81, NULL, 0, 8, 8, 10, b, sizeof(b));
	cr_assert_eq(n, sizeof(want));
	cr_assert_eq(b[27], 0x81);
	for (size_t i = 29; i < n; i++)
		cr_assert_eq(b[i], 0xff, "byte %zu", i);
}

Test(pcsc_part10, pinpad_change_through_control, .init = setup,
    .fini = teardown)
{
	struct pcsc_session *s = open_session();
	static const uint8_t feats[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x06 };
	static const uint8_t both[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x06,
	    0x07, 0x04, 0x42, 0x33, 0x00, 0x07 };
	static const struct { uint8_t sw1, sw2; enum pv_err r; const char *m; }
	    outcomes[] = {
		{ 0x64, 0x00, PV_E_TIMEOUT, "no PIN entered" },
		{ 0x64, 0x01, PV_E_CANCELLED, "cancelled" },
		{ 0x64, 0x02, PV_E_INPUT, "confirmation differ" },
		{ 0x64, 0x03, PV_E_INPUT, "too short or too long" },
		{ 0x63, 0xc1, PV_E_PIN_WRONG, "" },
		{ 0x69, 0x83, PV_E_BLOCKED, "" },
	};
	struct pv_why why = { { 0 } };
	int retries = -1;

	/* A pad that can only verify cannot change. */
	fk.control_rc = 0;
	memcpy(fk.features, feats, sizeof(feats));
	fk.features_len = sizeof(feats);
	cr_assert_eq(pcsc_session_change_pinpad(s, 0x80,
	    (const uint8_t *)"123456", 6, 6, 8, &retries, &why),
	    PV_E_NOT_SUPPORTED);
	cr_assert_not_null(strstr(why.msg, "FEATURE_MODIFY_PIN_DIRECT"), "%s",
	    why.msg);
	memcpy(fk.features, both, sizeof(both));
	fk.features_len = sizeof(both);
	fk.control_answer_len = 2;
	for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
		fk.control_answer[0] = outcomes[i].sw1;
		fk.control_answer[1] = outcomes[i].sw2;
		pv_why_clear(&why);
		cr_assert_eq(pcsc_session_change_pinpad(s, 0x80,
		    (const uint8_t *)"123456", 6, 6, 8, &retries, &why),
		    outcomes[i].r, "%02X%02X", outcomes[i].sw1,
		    outcomes[i].sw2);
		cr_assert_not_null(strstr(why.msg, outcomes[i].m), "%s",
		    why.msg);
	}
	cr_assert_eq(retries, 1, "63C1 gives the tries left");
	cr_assert_eq(fk.last_control_code, 0x42330007u);
	cr_assert_eq(fk.last_control_in_len, 45);
	cr_assert_eq(fk.last_control_in[27], 0x80, "P2 = PIN reference");
	fk.control_answer[0] = 0x90;
	fk.control_answer[1] = 0x00;
	cr_assert_eq(pcsc_session_change_pinpad(s, 0x80,
	    (const uint8_t *)"123456", 6, 6, 8, NULL, NULL), PV_OK);
	/* A garbled answer from the reader. */
	fk.control_answer_len = 3;
	pv_why_clear(&why);
	cr_assert_eq(pcsc_session_change_pinpad(s, 0x80,
	    (const uint8_t *)"123456", 6, 6, 8, NULL, &why), PV_E_MALFORMED);
	pcsc_session_close(s);
}

Test(pcsc_part10, pinpad_verify_through_control, .init = setup,
    .fini = teardown)
{
	struct pcsc_session *s = open_session();
	static const uint8_t feats[] = { 0x06, 0x04, 0x42, 0x33, 0x00, 0x06 };
	struct pv_why why = { { 0 } };
	int retries = -1;

	/* No features at all: a clear "no PIN pad". */
	fk.control_rc = SCARD_E_UNSUPPORTED_FEATURE;
	cr_assert_eq(pcsc_session_verify_pinpad(s, 0x80, 6, 8, &retries, &why),
	    PV_E_NOT_SUPPORTED);
	cr_assert_not_null(strstr(why.msg, "PIN pad"), "%s", why.msg);
	/* A pad: the structure goes to its control code; 63C2 = wrong. */
	fk.control_rc = 0;
	memcpy(fk.features, feats, sizeof(feats));
	fk.features_len = sizeof(feats);
	fk.control_answer[0] = 0x63;
	fk.control_answer[1] = 0xc2;
	fk.control_answer_len = 2;
	pv_why_clear(&why);
	cr_assert_eq(pcsc_session_verify_pinpad(s, 0x80, 6, 8, &retries, &why),
	    PV_E_PIN_WRONG);
	cr_assert_eq(retries, 2);
	cr_assert_eq(fk.last_control_code, 0x42330006u);
	cr_assert_eq(fk.last_control_in_len, 32);
	cr_assert_eq(fk.last_control_in[22], 0x80, "P2 = PIN reference");
	fk.control_answer[0] = 0x90;
	fk.control_answer[1] = 0x00;
	cr_assert_eq(pcsc_session_verify_pinpad(s, 0x80, 6, 8, NULL, NULL), PV_OK);
	pcsc_session_close(s);
}
