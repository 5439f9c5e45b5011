/*
 * session.c: a card session for a reader chosen by index, name, token
 * serial or CHUID GUID; transactions with reset recovery; stats; part 10
 * features and PIN-pad VERIFY.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apdu/buf.h"
#include "apdu/piv_obj.h"
#include "apdu/piv_yk.h"
#include "apdu/sw.h"
#include "pcsc/internal.h"
#include "pcsc/rc.h"
#include "pcsc/session.h"

#define SESSION_MAX_RUNS	4	/* one step, and up to three resets */

/* ---- identity ------------------------------------------------------------ */

void
pcsc_session_set_identity(struct pcsc_session *s,
    const struct pcsc_identity *id)
{
	s->id = *id;
}

enum pv_err
pcsc_session_read_identity(struct pcsc_session *s, struct pcsc_identity *out,
    struct pv_why *why)
{
	struct buf_out obj;
	struct piv_chuid ch;
	struct piv_yk_version ver;
	uint32_t serial;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&obj, 0, sizeof(obj));
	r = piv_yk_get_serial(&s->apdu, &serial, NULL);
	if (r != PV_OK && !pv_err_aborts(r)) {
		/* A YubiKey before 5 has its serial in the OTP application. */
		r = piv_yk_get_version(&s->apdu, &ver, NULL);
		if (r == PV_OK && ver.major > 0 && ver.major < 5)
			r = piv_yk_read_serial(&s->apdu, &ver, &serial, NULL);
		else if (r == PV_OK)
			r = PV_E_NOT_SUPPORTED;	/* F8 failed above */
	}
	if (r == PV_OK) {
		out->has_serial = true;
		out->serial = serial;
		return PV_OK;
	}
	if (pv_err_aborts(r))
		return r;
	if (!buf_out_alloc(&obj, 512, 8192))
		return PV_E_NOMEM;
	r = piv_get_data(&s->apdu, PIV_OBJ_CHUID, &obj, why);
	if (r == PV_OK) {
		r = piv_chuid_parse(obj.p, obj.len, &ch, why);
		if (r == PV_OK) {
			out->has_guid = true;
			memcpy(out->guid, ch.guid, sizeof(out->guid));
		}
	}
	buf_out_cleanup(&obj);
	return r;
}

static bool
pcsc_identity_same(const struct pcsc_identity *a, const struct pcsc_identity *b)
{
	if (a->has_serial || b->has_serial)
		return a->has_serial && b->has_serial && a->serial == b->serial;
	if (a->has_guid || b->has_guid)
		return a->has_guid && b->has_guid &&
		    memcmp(a->guid, b->guid, sizeof(a->guid)) == 0;
	return true;	/* neither card can say: nothing to compare */
}

/* ---- steps --------------------------------------------------------------- */

static enum pv_err
session_select(struct pcsc_session *s, struct pv_why *why)
{
	enum pv_err r;

	r = piv_select(&s->apdu, NULL, 0, &s->apt, why);
	s->piv_selected = r == PV_OK;
	s->select_err = r;
	/* A card without PIV still opens: diag reports it. */
	if (r == PV_E_NOT_FOUND || r == PV_E_NOT_SUPPORTED || r == PV_E_SW ||
	    r == PV_E_MALFORMED) {
		pv_why_clear(why);
		return PV_OK;
	}
	return r;
}

static enum pv_err
step_select(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	(void)arg;
	return session_select(s, why);
}

static enum pv_err
step_identify(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	enum pv_err r;

	(void)arg;
	if (!s->piv_selected)
		return PV_OK;
	r = pcsc_session_read_identity(s, &s->id, why);
	if (r == PV_E_NOT_FOUND || r == PV_E_MALFORMED || r == PV_E_SECURITY) {
		pv_why_clear(why);
		return PV_OK;	/* the card cannot say who it is */
	}
	return r;
}

enum pv_err
pcsc_session_recover(struct pcsc_session *s, struct pv_why *why)
{
	struct pcsc_identity now;
	bool known = s->id.has_serial || s->id.has_guid;
	enum pv_err r;

	s->security_lost = true;
	s->n_recoveries++;
	pcsc_log(s->ctx, "%s: %s: card was reset; SELECT again and check "
	    "it is the same card", __func__, s->reader);
	pcsc_trace_note(s->trace, "card reset by another program: "
	    "security status lost; SELECT again, check identity");
	if ((r = session_select(s, why)) != PV_OK)
		return r;
	if (!s->piv_selected)
		return known ? pv_why_set(why, PV_E_DIFFERENT_CARD,
		    "%s: after a reset the card has no PIV application",
		    s->reader) : PV_OK;
	r = pcsc_session_read_identity(s, &now, NULL);
	if (pv_err_aborts(r))
		return r;
	if (!known) {
		if (r == PV_OK)
			s->id = now;
	} else if (r != PV_OK || !pcsc_identity_same(&s->id, &now)) {
		return pv_why_set(why, PV_E_DIFFERENT_CARD,
		    "%s: after a reset the card's %s no longer matches",
		    s->reader, s->id.has_serial ? "serial" : "CHUID GUID");
	} else {
		pcsc_trace_note(s->trace, "same card after reset (%s checked)",
		    s->id.has_serial ? "serial" : "GUID");
	}
	return PV_OK;
}

enum pv_err
pcsc_session_run(struct pcsc_session *s, pcsc_step_fn *fn, void *arg,
    struct pv_why *why)
{
	enum pv_err r, e;
	bool need_recover = false;
	int run;

	for (run = 0; run < SESSION_MAX_RUNS; run++) {
		r = pcsc_card_begin(s->card);
		if (r == PV_OK && need_recover) {
			r = pcsc_session_recover(s, why);
			if (r == PV_OK)
				need_recover = false;
		}
		if (r == PV_OK)
			r = fn(s, arg, why);
		e = pcsc_card_end(s->card);
		if (s->step_gap_ms > 0)
			(void)pcsc_ctx_pause(s->ctx, s->step_gap_ms);
		if (r == PV_E_RESET) {
			/* Recover inside the next transaction, then rerun. */
			need_recover = true;
			pv_why_clear(why);
			continue;
		}
		return r != PV_OK ? r : e;
	}
	return pv_why_set(why, PV_E_RESET, "%s: the card was reset %d times "
	    "during one step", s->reader, SESSION_MAX_RUNS);
}

/* ---- opening ------------------------------------------------------------- */

/* Connects |s| to |name| and sets up tap and APDU session. */
static enum pv_err
session_connect(struct pcsc_session *s, const struct pcsc_session_opts *o,
    const char *name, struct pv_why *why)
{
	struct apdu_transport inner, tr;
	const uint8_t *atr;
	size_t atr_len;
	char hex[ATR_HEX_MAX];
	int proto;
	enum pv_err r;

	r = pcsc_card_connect(s->ctx, name, o->share, &s->card);
	if (r != PV_OK)
		return pv_why_set(why, r, "%s: %s (%s)", name, pv_strerror(r),
		    pcsc_rc_name(pcsc_ctx_last_rc(s->ctx)));
	(void)snprintf(s->reader, sizeof(s->reader), "%s", name);
	atr = pcsc_card_atr(s->card, &atr_len);
	proto = pcsc_card_protocol(s->card);
	atr_to_hex(atr, atr_len, hex);
	pcsc_trace_note(s->trace, "connected \"%s\" T=%d ATR %s", name, proto,
	    hex);
	inner = pcsc_card_transport(s->card);
	if ((r = pcsc_trace_tap_new(s->trace, &inner, name, &s->tap, &tr)) !=
	    PV_OK)
		return r;
	apdu_session_init(&s->apdu, &tr);
	(void)apdu_caps_from_atr(atr, atr_len, &s->apdu.caps);
	s->apdu.caps.t0 = proto == 0;
	if (proto == 0)
		s->apdu.caps.extended = false;	/* T=0 would need ENVELOPE */
	if (!o->no_select &&
	    (r = pcsc_session_run(s, step_select, NULL, why)) != PV_OK)
		return r;
	if (o->identify &&
	    (r = pcsc_session_run(s, step_identify, NULL, why)) != PV_OK)
		return r;
	return PV_OK;
}

static void
session_disconnect(struct pcsc_session *s)
{
	pcsc_trace_tap_free(s->tap);
	s->tap = NULL;
	pcsc_card_free(s->card, false);
	s->card = NULL;
	memset(&s->apdu, 0, sizeof(s->apdu));
	memset(&s->id, 0, sizeof(s->id));
	memset(&s->apt, 0, sizeof(s->apt));
	s->piv_selected = false;
}

/* "serial:N" or "guid:HEX" (dashes allowed) into |want|; false if not. */
static enum pv_err
parse_probe_spec(const char *spec, struct pcsc_identity *want, bool *is_probe,
    struct pv_why *why)
{
	const char *p;
	char *end;
	unsigned long v;
	size_t n = 0;
	int hi = -1, d;

	memset(want, 0, sizeof(*want));
	*is_probe = false;
	if (spec == NULL)
		return PV_OK;
	if (strncasecmp(spec, "serial:", 7) == 0) {
		*is_probe = true;
		errno = 0;
		v = strtoul(spec + 7, &end, 10);
		if (spec[7] == '\0' || *end != '\0' || errno != 0 ||
		    v > 0xfffffffful)
			return pv_why_set(why, PV_E_INPUT, "-r %s: the serial "
			    "must be a decimal number", spec);
		want->has_serial = true;
		want->serial = (uint32_t)v;
		return PV_OK;
	}
	if (strncasecmp(spec, "guid:", 5) == 0) {
		*is_probe = true;
		for (p = spec + 5; *p != '\0'; p++) {
			if (*p == '-')
				continue;
			if ((d = buf_hexval((unsigned char)*p)) < 0 || n >= 16)
				return pv_why_set(why, PV_E_INPUT, "-r %s: the "
				    "GUID must be 32 hex digits", spec);
			if (hi < 0) {
				hi = d;
			} else {
				want->guid[n++] = (uint8_t)(hi << 4 | d);
				hi = -1;
			}
		}
		if (n != 16 || hi >= 0)
			return pv_why_set(why, PV_E_INPUT, "-r %s: the GUID must "
			    "be 32 hex digits", spec);
		want->has_guid = true;
	}
	return PV_OK;
}

static enum pv_err
session_probe(struct pcsc_session *s, const struct pcsc_session_opts *o,
    const struct pcsc_reader *rd, size_t n, const struct pcsc_identity *want,
    struct pv_why *why)
{
	struct pcsc_identity got;
	struct pcsc_session_opts po = *o;
	size_t i;
	enum pv_err r;

	po.no_select = false;
	po.identify = false;
	for (i = 0; i < n; i++) {
		if (!rd[i].present)
			continue;
		r = session_connect(s, &po, rd[i].name, NULL);
		if (r == PV_OK && s->piv_selected &&
		    pcsc_session_read_identity(s, &got, NULL) == PV_OK &&
		    ((want->has_serial && got.has_serial &&
		    got.serial == want->serial) ||
		    (want->has_guid && got.has_guid &&
		    memcmp(got.guid, want->guid, 16) == 0))) {
			s->id = got;
			return PV_OK;
		}
		pcsc_log(s->ctx, "%s: %s: not the card asked for", __func__,
		    rd[i].name);
		session_disconnect(s);
	}
	return pv_why_set(why, PV_E_NO_READER, "no card present has %s %s",
	    want->has_serial ? "serial" : "GUID", o->reader);
}

enum pv_err
pcsc_session_open(const struct pcsc_session_opts *o, struct pcsc_session **out,
    struct pv_why *why)
{
	return pcsc_session_open_sys(&pcsc_sys_real, o, out, why);
}

enum pv_err
pcsc_session_open_sys(const struct pcsc_sys *sys,
    const struct pcsc_session_opts *o, struct pcsc_session **out,
    struct pv_why *why)
{
	struct pcsc_session *s = NULL;
	struct pcsc_reader *rd = NULL;
	struct pcsc_identity want;
	size_t n = 0, idx;
	const char *gap;
	bool probe;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if ((r = parse_probe_spec(o->reader, &want, &probe, why)) != PV_OK)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	s->t_open_ns = pcsc_now_ns();
	s->step_gap_ms = o->step_gap_ms;
	if (s->step_gap_ms == 0 && (gap = getenv("PIVSTATION_STEP_GAP_MS")) !=
	    NULL)
		s->step_gap_ms = (unsigned)strtoul(gap, NULL, 10) % 60000u;
	if ((r = pcsc_ctx_new_sys(sys, &s->ctx)) != PV_OK)
		goto out;
	pcsc_ctx_set_log(s->ctx, o->log, o->log_arg);
	if (o->trace_path != NULL &&
	    (r = pcsc_trace_open(o->trace_path, o->trace_json, &s->trace,
	    why)) != PV_OK)
		goto out;
	if ((r = pcsc_readers_list(s->ctx, &rd, &n)) != PV_OK) {
		pv_why_set(why, r, "listing readers: %s (%s)", pv_strerror(r),
		    pcsc_rc_name(pcsc_ctx_last_rc(s->ctx)));
		goto out;
	}
	if (probe) {
		r = session_probe(s, o, rd, n, &want, why);
		if (r == PV_OK && !o->no_select && !s->piv_selected)
			r = session_select(s, why);
		goto done;
	}
	if ((r = pcsc_reader_pick(rd, n, o->reader, &idx, why)) != PV_OK)
		goto out;
	if (!rd[idx].present && o->share != PCSC_SHARE_DIRECT) {
		r = pv_why_set(why, PV_E_NO_CARD, "%s: no card in the reader",
		    rd[idx].name);
		goto out;
	}
	r = session_connect(s, o, rd[idx].name, why);
done:
	if (r != PV_OK)
		goto out;
	*out = s;
	s = NULL;
out:
	free(rd);
	pcsc_session_close(s);
	return r;
}

void
pcsc_session_close(struct pcsc_session *s)
{
	if (s == NULL)
		return;
	session_disconnect(s);
	pcsc_trace_close(s->trace);
	pcsc_ctx_free(s->ctx);
	free(s);
}

/* ---- stats --------------------------------------------------------------- */

void
pcsc_session_stats(const struct pcsc_session *s, struct pcsc_session_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (s->card != NULL)
		pcsc_card_stats(s->card, &out->tr);
	out->apdu = s->apdu.stats;
	out->ns_total = pcsc_now_ns() - s->t_open_ns;
}

void
pcsc_stats_format(const struct pcsc_session_stats *st, char *out, size_t cap)
{
	(void)snprintf(out, cap, "%llu APDUs (%llu GET RESPONSE, %llu chained, "
	    "%llu extended, %llu 6CXX re-sends), %llu bytes sent, %llu bytes "
	    "received, %.3f ms in SCardTransmit, %.3f ms total%s",
	    (unsigned long long)st->tr.n_apdus,
	    (unsigned long long)st->apdu.n_get_response,
	    (unsigned long long)st->apdu.n_chained,
	    (unsigned long long)st->apdu.n_extended,
	    (unsigned long long)st->apdu.n_resend_6c,
	    (unsigned long long)st->tr.bytes_out,
	    (unsigned long long)st->tr.bytes_in,
	    (double)st->tr.ns_transmit / 1e6, (double)st->ns_total / 1e6,
	    st->tr.n_resets ? ", card reset by another program" : "");
}

/* ---- part 10 ------------------------------------------------------------- */

enum pv_err
pcsc_session_features(struct pcsc_session *s, struct part10_features *out,
    uint32_t *rc_out, struct pv_why *why)
{
	uint8_t buf[256];
	size_t len = 0;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	*rc_out = 0;
	r = pcsc_card_control(s->card, PART10_GET_FEATURE_REQUEST, NULL, 0,
	    buf, sizeof(buf), &len);
	if (r == PV_E_NO_SERVICE || r == PV_E_NO_CARD || r == PV_E_NOMEM)
		return r;
	if (r != PV_OK) {
		/* The driver has no control channel: no features.  See
		 * firmware-notes/vpcd-no-ifdhcontrol.md. */
		*rc_out = pcsc_ctx_last_rc(s->ctx);
		return PV_OK;
	}
	return part10_parse_features(buf, len, out, why);
}

/*
 * Sends a part 10 structure to the pad's |feature| and turns the answer
 * (the card's status word, or the reader's 64XX) into an error.  |what|
 * names the command for messages ("VERIFY", "CHANGE REFERENCE DATA").
 */
static enum pv_err
pinpad_control(struct pcsc_session *s, uint8_t feature, const char *what,
    const uint8_t *in, size_t in_len, int *retries, struct pv_why *why)
{
	struct part10_features fs;
	uint8_t rsp[8];
	size_t len = 0;
	uint32_t code, rc;
	uint16_t sw;
	enum pv_err r;

	if ((r = pcsc_session_features(s, &fs, &rc, why)) != PV_OK)
		return r;
	if (!part10_find(&fs, feature, &code))
		return pv_why_set(why, PV_E_NOT_SUPPORTED,
		    "%s: the reader has no PIN pad (no %s)", s->reader,
		    part10_feature_name(feature));
	r = pcsc_card_control(s->card, code, in, in_len, rsp, sizeof(rsp),
	    &len);
	if (r != PV_OK)
		return pv_why_set(why, r, "PIN pad %s: %s (%s)", what,
		    pv_strerror(r), pcsc_rc_name(pcsc_ctx_last_rc(s->ctx)));
	if (len != 2)
		return pv_why_set(why, PV_E_MALFORMED, "PIN pad %s: the "
		    "reader answered %zu bytes, expected a status word", what,
		    len);
	sw = (uint16_t)(rsp[0] << 8 | rsp[1]);
	pcsc_trace_note(s->trace, "PIN pad %s answered %04X", what, sw);
	/* The reader's own outcomes (part 10 §2.5.5, CCID §6.2.6). */
	switch (sw) {
	case 0x6400:
		return pv_why_set(why, PV_E_TIMEOUT, "PIN pad: no PIN entered "
		    "in time");
	case 0x6401:
		return pv_why_set(why, PV_E_CANCELLED, "PIN pad: cancelled "
		    "on the pad");
	case 0x6402:
		return pv_why_set(why, PV_E_INPUT, "PIN pad: the new PIN and "
		    "its confirmation differ");
	case 0x6403:
		return pv_why_set(why, PV_E_INPUT, "PIN pad: the PIN typed "
		    "is too short or too long");
	default:
		break;
	}
	r = sw_to_err(sw, retries);
	if (r != PV_OK) {
		char t[128];

		return pv_why_set(why, r, "PIN pad %s: %s", what,
		    sw_text(sw, t, sizeof(t)));
	}
	return PV_OK;
}

struct pad_arg {
	uint8_t feature;
	const char *what;
	const uint8_t *in;
	size_t in_len;
	int *retries;
};

static enum pv_err
pad_step(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct pad_arg *a = arg;

	return pinpad_control(s, a->feature, a->what, a->in, a->in_len,
	    a->retries, why);
}

/*
 * The pad's command runs inside a transaction like any other step: no
 * other program's command gets in between, and a reset by another one is
 * recovered (same card checked, PIV selected) before the pad is asked
 * again.
 */
static enum pv_err
pinpad_run(struct pcsc_session *s, uint8_t feature, const char *what,
    const uint8_t *in, size_t in_len, int *retries, struct pv_why *why)
{
	struct pad_arg a = { feature, what, in, in_len, retries };

	return pcsc_session_run(s, pad_step, &a, why);
}

enum pv_err
pcsc_session_verify_pinpad(struct pcsc_session *s, uint8_t ref,
    uint8_t min_len, uint8_t max_len, int *retries, struct pv_why *why)
{
	uint8_t pvs[64];
	size_t n;

	n = part10_build_verify(ref, min_len, max_len, PCSC_PINPAD_TIMEOUT_S,
	    pvs, sizeof(pvs));
	if (n == 0)
		return pv_why_set(why, PV_E_INTERNAL, "PIN pad VERIFY: "
		    "structure too long");
	pcsc_trace_note(s->trace, "VERIFY %02X on the reader's PIN pad", ref);
	return pinpad_run(s, PART10_VERIFY_PIN_DIRECT, "VERIFY", pvs, n,
	    retries, why);
}

enum pv_err
pcsc_session_change_pinpad(struct pcsc_session *s, uint8_t ref,
    const uint8_t *cur, size_t cur_len, uint8_t min_len, uint8_t max_len,
    int *retries, struct pv_why *why)
{
	uint8_t pms[64];
	size_t n;
	enum pv_err r;

	n = part10_build_modify(ref, cur, cur_len, min_len, max_len,
	    PCSC_PINPAD_TIMEOUT_S, pms, sizeof(pms));
	if (n == 0)
		return pv_why_set(why, PV_E_INPUT, "PIN pad CHANGE REFERENCE "
		    "DATA: the current value is longer than 8 bytes");
	/* The structure carries |cur|: only its name goes to the trace. */
	pcsc_trace_note(s->trace, "CHANGE REFERENCE DATA %02X, new value on "
	    "the reader's PIN pad", ref);
	r = pinpad_run(s, PART10_MODIFY_PIN_DIRECT, "CHANGE REFERENCE "
	    "DATA", pms, n, retries, why);
	buf_wipe(pms, sizeof(pms));
	return r;
}
