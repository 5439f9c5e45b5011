/*
 * diag.c: the diagnostics probe.
 *
 * APDU budget (the performance model in DESIGN.md): one SELECT (done when
 * the session opened), GET VERSION, and on YubiKeys GET SERIAL and GET
 * METADATA for PIN, PUK, 9B and the four key slots; then one GET DATA per
 * object — CHUID, CCC, Discovery, Key History, each certificate — which
 * apdu/ sends as a single extended-length APDU when the ATR allows it, or
 * as short APDUs with GET RESPONSE rounds otherwise.  Nothing is read
 * twice and PIV is not re-selected unless another program reset the card.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/piv_obj.h"
#include "apdu/buf.h"
#include "apdu/sw.h"
#include "pcsc/diag.h"
#include "pcsc/internal.h"
#include "pcsc/rc.h"

#define DIAG_OBJ_MAX	(64u * 1024u)

static void
diag_obj_reset(struct pcsc_diag_obj *o)
{
	free(o->data);
	o->data = NULL;
	o->len = 0;
	o->err = PV_E_INTERNAL;
	o->why[0] = '\0';
	o->parsed = false;
	o->parse_why[0] = '\0';
}

/* GET DATA into |o|; only transport-level failures are returned. */
static enum pv_err
diag_read(struct pcsc_session *s, struct pcsc_diag_obj *o)
{
	struct buf_out b;
	struct pv_why w = { { 0 } };
	uint8_t *p = NULL;
	size_t n = 0;
	enum pv_err r;

	diag_obj_reset(o);
	memset(&b, 0, sizeof(b));
	if (!buf_out_alloc(&b, 2048, DIAG_OBJ_MAX))
		return PV_E_NOMEM;
	r = piv_get_data(&s->apdu, o->tag, &b, &w);
	o->err = r;
	(void)snprintf(o->why, sizeof(o->why), "%s", w.msg);
	if (r == PV_OK) {
		if (!buf_out_take(&b, &p, &n)) {
			buf_out_cleanup(&b);
			return PV_E_NOMEM;
		}
		o->data = p;
		o->len = n;
	}
	buf_out_cleanup(&b);
	return pv_err_aborts(r) ? r : PV_OK;
}

/* ---- steps --------------------------------------------------------------- */

static enum pv_err
step_ident(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct pcsc_diag *d = arg;
	enum pv_err r;

	(void)why;
	d->has_version = d->has_serial = false;
	r = piv_yk_get_version(&s->apdu, &d->version, NULL);
	if (pv_err_aborts(r))
		return r;
	d->has_version = r == PV_OK;
	/* From firmware 5 GET SERIAL; before, the OTP application's. */
	if (d->has_version && d->version.major > 0) {
		r = piv_yk_read_serial(&s->apdu, &d->version, &d->serial, NULL);
		if (pv_err_aborts(r))
			return r;
		d->has_serial = r == PV_OK;
		if (d->has_serial && !s->id.has_serial && !s->id.has_guid) {
			s->id.has_serial = true;	/* for the reset check */
			s->id.serial = d->serial;
		}
	}
	return PV_OK;
}

bool
pcsc_diag_meta_absent(enum pv_err err)
{
	return err == PV_OK || err == PV_E_NOT_SUPPORTED ||
	    err == PV_E_NOT_FOUND || err == PV_E_BAD_P1P2;
}

/*
 * One GET METADATA: the metadata, or why there is none (a card that has
 * none and a card whose answer is malformed are told apart).
 */
static enum pv_err
diag_meta(struct pcsc_session *s, uint8_t ref, struct piv_yk_metadata *out,
    bool *has, enum pv_err *err, char why[DIAG_TEXT_MAX])
{
	struct pv_why w = { { 0 } };
	enum pv_err r;

	r = piv_yk_get_metadata(&s->apdu, ref, out, &w);
	*has = r == PV_OK;
	*err = r;
	(void)snprintf(why, DIAG_TEXT_MAX, "%s", w.msg[0] ? w.msg :
	    r == PV_OK ? "" : pv_strerror(r));
	return pv_err_aborts(r) ? r : PV_OK;
}

/* Metadata and PIN state, after the VERIFY if one was asked for. */
static enum pv_err
step_token(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct pcsc_diag *d = arg;
	enum pv_err r;

	(void)why;
	d->has_pin_meta = d->has_puk_meta = d->has_mgmt_meta = false;
	d->pin_meta_err = d->puk_meta_err = d->mgmt_meta_err = PV_OK;
	d->pin_meta_why[0] = d->puk_meta_why[0] = d->mgmt_meta_why[0] = '\0';
	d->has_pin_status = false;
	if (d->has_version && piv_yk_version_ge(&d->version, 5, 3, 0)) {
		if ((r = diag_meta(s, PIV_REF_PIN, &d->pin_meta,
		    &d->has_pin_meta, &d->pin_meta_err, d->pin_meta_why)) !=
		    PV_OK ||
		    (r = diag_meta(s, PIV_REF_PUK, &d->puk_meta,
		    &d->has_puk_meta, &d->puk_meta_err, d->puk_meta_why)) !=
		    PV_OK ||
		    (r = diag_meta(s, PIV_KEY_MGMT, &d->mgmt_meta,
		    &d->has_mgmt_meta, &d->mgmt_meta_err, d->mgmt_meta_why)) !=
		    PV_OK)
			return r;
		if (d->has_mgmt_meta && d->mgmt_meta.has_alg) {
			d->mgmt_alg = d->mgmt_meta.alg;
			d->mgmt_alg_known = true;
		}
	}
	if (!d->has_pin_meta) {
		/* Plain PIV: VERIFY without data tells tries left (Part 2
		 * §3.2.1).  The PUK has no such query. */
		r = piv_verify_status(&s->apdu, PIV_REF_PIN, &d->pin_status,
		    NULL);
		if (pv_err_aborts(r))
			return r;
		d->has_pin_status = r == PV_OK;
	}
	return PV_OK;
}

static enum pv_err
step_verify(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct pcsc_diag *d = ((void **)arg)[0];
	const struct pcsc_diag_opts *o = ((void **)arg)[1];
	enum pv_err r;

	(void)why;
	d->pin_retries = -1;
	r = piv_verify(&s->apdu, PIV_REF_PIN, o->pin, o->pin_len,
	    &d->pin_retries, NULL);
	if (pv_err_aborts(r))
		return r;
	d->pin_tried = true;
	d->pin_result = r;
	return PV_OK;
}

struct obj_step {
	struct pcsc_diag *d;
	struct pcsc_diag_obj *o;
};

static enum pv_err
step_object(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct obj_step *st = arg;
	struct pcsc_diag *d = st->d;
	struct pcsc_diag_obj *o = st->o;
	struct pv_why w = { { 0 } };
	enum pv_err r;

	(void)why;
	if ((r = diag_read(s, o)) != PV_OK)
		return r;
	if (o->err != PV_OK)
		return PV_OK;
	switch (o->tag) {
	case PIV_OBJ_CHUID:
		r = piv_chuid_parse(o->data, o->len, &d->chuid_v, &w);
		if (r == PV_OK && !s->id.has_serial && !s->id.has_guid) {
			s->id.has_guid = true;
			memcpy(s->id.guid, d->chuid_v.guid, 16);
		}
		break;
	case PIV_OBJ_CCC:
		r = piv_ccc_parse(o->data, o->len, &d->ccc_v, &w);
		break;
	case PIV_OBJ_DISCOVERY:
		r = piv_discovery_parse(o->data, o->len, &d->discovery_v, &w);
		break;
	case PIV_OBJ_KEY_HISTORY:
		r = piv_keyhist_parse(o->data, o->len, &d->keyhist_v, &w);
		break;
	default:
		r = PV_OK;
		break;
	}
	o->parsed = r == PV_OK;
	(void)snprintf(o->parse_why, sizeof(o->parse_why), "%s", w.msg);
	return PV_OK;
}

struct cert_step {
	struct pcsc_diag *d;
	struct pcsc_diag_cert *c;
};

static enum pv_err
step_cert(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct cert_step *st = arg;
	struct pcsc_diag *d = st->d;
	struct pcsc_diag_cert *c = st->c;
	struct piv_certobj co;
	struct pv_why w = { { 0 } };
	enum pv_err r;

	(void)why;
	free(c->der);
	c->der = NULL;
	c->der_len = 0;
	c->has_meta = false;
	c->meta_err = PV_OK;
	c->meta_why[0] = '\0';
	if ((r = diag_read(s, &c->obj)) != PV_OK)
		return r;
	if (c->obj.err == PV_OK) {
		r = piv_certobj_parse(c->obj.data, c->obj.len, &co, &w);
		if (r == PV_OK) {
			c->compressed = co.compressed;
			c->certinfo = co.certinfo;
			r = piv_certobj_cert(&co, 0, &c->der, &c->der_len, &w);
		}
		if (r == PV_E_NOT_FOUND)
			c->obj.err = PV_E_NOT_FOUND;	/* empty container */
		c->obj.parsed = r == PV_OK;
		(void)snprintf(c->obj.parse_why, sizeof(c->obj.parse_why), "%s",
		    w.msg);
	}
	/* What the token knows about the key itself (YubiKey 5.3+). */
	if (d->has_version && piv_yk_version_ge(&d->version, 5, 3, 0) &&
	    (c->key < PIV_KEY_RETIRED_FIRST || c->key > PIV_KEY_RETIRED_LAST)) {
		if ((r = diag_meta(s, c->key, &c->meta, &c->has_meta,
		    &c->meta_err, c->meta_why)) != PV_OK)
			return r;
	}
	return PV_OK;
}

static enum pv_err
step_mgmt_default(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	static const uint8_t def[24] = {
		1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
		1, 2, 3, 4, 5, 6, 7, 8 };
	struct pcsc_diag *d = arg;
	uint8_t alg = d->mgmt_alg_known ? d->mgmt_alg : PIV_ALG_3DES;
	enum pv_err r;

	(void)why;
	if (piv_alg_sym_key_len(alg) != sizeof(def))
		return PV_OK;	/* the factory key is 24 bytes */
	r = piv_auth_mgmt(&s->apdu, alg, def, sizeof(def), NULL);
	if (pv_err_aborts(r))
		return r;
	if (r == PV_OK || r == PV_E_AUTH_FAILED) {
		d->mgmt_default_tested = true;
		d->mgmt_is_default = r == PV_OK;
	}
	return PV_OK;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static enum pv_err
step_latency(struct pcsc_session *s, void *arg, struct pv_why *why)
{
	struct pcsc_diag *d = arg;
	struct pcsc_diag_latency *l = &d->latency;
	struct buf_out b;
	uint64_t *t, t0;
	unsigned i;
	enum pv_err r = PV_OK;

	(void)why;
	if ((t = calloc(l->n, sizeof(*t))) == NULL)
		return PV_E_NOMEM;
	memset(&b, 0, sizeof(b));
	if (!buf_out_alloc(&b, 64, 4096)) {
		free(t);
		return PV_E_NOMEM;
	}
	for (i = 0; i < l->n; i++) {
		buf_out_truncate(&b, 0);
		t0 = pcsc_now_ns();
		r = piv_get_data(&s->apdu, PIV_OBJ_DISCOVERY, &b, NULL);
		t[i] = (pcsc_now_ns() - t0) / 1000u;
		if (pv_err_aborts(r))
			break;
		r = PV_OK;
	}
	if (r == PV_OK && l->n > 0) {
		qsort(t, l->n, sizeof(*t), cmp_u64);
		l->min_us = t[0];
		l->max_us = t[l->n - 1];
		l->median_us = l->n % 2 ? t[l->n / 2] :
		    (t[l->n / 2 - 1] + t[l->n / 2]) / 2;
	}
	l->err = r;
	buf_out_cleanup(&b);
	free(t);
	return r;
}

/* ---- reader facts (no APDU) --------------------------------------------- */

static void
diag_attr_str(struct pcsc_card *k, uint32_t id, char *out, size_t cap)
{
	uint8_t buf[256];
	size_t n = 0, i;

	out[0] = '\0';
	if (pcsc_card_attr(k, id, buf, sizeof(buf), &n) != PV_OK)
		return;
	/* Driver text, as the driver gave it (up to a NUL): whoever prints
	 * it sanitises it (apdu/text.h). */
	for (i = 0; i < n && i + 1 < cap && buf[i] != '\0'; i++)
		out[i] = (char)buf[i];
	out[i] = '\0';
}

static bool
diag_attr_u32(struct pcsc_card *k, uint32_t id, uint32_t *out)
{
	uint8_t buf[8];
	size_t n = 0;

	if (pcsc_card_attr(k, id, buf, sizeof(buf), &n) != PV_OK || n != 4)
		return false;
	/* pcsc-lite returns DWORD attributes in host order (little-endian). */
	*out = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
	    (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
	return true;
}

static enum pv_err
diag_reader(struct pcsc_session *s, struct pcsc_diag *d, struct pv_why *why)
{
	const uint8_t *atr;
	uint8_t buf[256];
	size_t n = 0;
	uint32_t code;
	struct pv_why w = { { 0 } };
	enum pv_err r;

	(void)snprintf(d->reader, sizeof(d->reader), "%s", s->reader);
	d->protocol = pcsc_card_protocol(s->card);
	atr = pcsc_card_atr(s->card, &d->atr_len);
	memcpy(d->atr, atr, d->atr_len);
	d->extended = s->apdu.caps.extended;
	d->chaining = s->apdu.caps.chaining;
	diag_attr_str(s->card, SCARD_ATTR_VENDOR_NAME, d->vendor,
	    sizeof(d->vendor));
	diag_attr_str(s->card, SCARD_ATTR_VENDOR_IFD_TYPE, d->ifd_type,
	    sizeof(d->ifd_type));
	diag_attr_str(s->card, SCARD_ATTR_VENDOR_IFD_SERIAL_NO, d->ifd_serial,
	    sizeof(d->ifd_serial));
	d->has_ifd_version = diag_attr_u32(s->card,
	    SCARD_ATTR_VENDOR_IFD_VERSION, &d->ifd_version);
	d->has_channel = diag_attr_u32(s->card, SCARD_ATTR_CHANNEL_ID,
	    &d->channel);
	r = pcsc_session_features(s, &d->features, &d->features_rc, &w);
	(void)snprintf(d->features_why, sizeof(d->features_why), "%s", w.msg);
	if (pv_err_aborts(r))
		return pv_why_set(why, r, "reader features: %s", pv_strerror(r));
	if (part10_find(&d->features, PART10_GET_TLV_PROPERTIES, &code) &&
	    pcsc_card_control(s->card, code, NULL, 0, buf, sizeof(buf), &n) ==
	    PV_OK)
		d->has_props = part10_parse_props(buf, n, &d->props, NULL) ==
		    PV_OK;
	return PV_OK;
}

/* ---- the probe -------------------------------------------------------- */

enum pv_err
pcsc_diag_run(struct pcsc_session *s, const struct pcsc_diag_opts *opts,
    struct pcsc_diag *d, struct pv_why *why)
{
	struct pcsc_diag_obj *objs[4];
	struct obj_step st;
	struct cert_step cs;
	uint32_t tag;
	size_t i, n_retired = 0;
	bool stats_taken = false;
	enum pv_err r;

	memset(d, 0, sizeof(*d));
	d->chuid.tag = PIV_OBJ_CHUID;
	d->ccc.tag = PIV_OBJ_CCC;
	d->discovery.tag = PIV_OBJ_DISCOVERY;
	d->keyhist.tag = PIV_OBJ_KEY_HISTORY;
	d->yk_admin.tag = PIV_OBJ_YK_ADMIN;
	objs[0] = &d->chuid;
	objs[1] = &d->ccc;
	objs[2] = &d->discovery;
	objs[3] = &d->keyhist;
	d->mgmt_alg = PIV_ALG_3DES;

	if ((r = diag_reader(s, d, why)) != PV_OK)
		goto out;
	d->piv = s->piv_selected;
	d->select_err = s->select_err;
	d->apt = s->apt;
	if (!d->piv) {
		r = PV_OK;
		goto out;
	}
	/*
	 * Version and serial before any VERIFY: before firmware 5 the serial
	 * comes from the OTP application, and leaving PIV may drop the PIN's
	 * verified state.
	 */
	if ((r = pcsc_session_run(s, step_ident, d, why)) != PV_OK)
		goto out;
	if (opts->pin != NULL) {
		void *va[2] = { d, (void *)(uintptr_t)opts };

		if ((r = pcsc_session_run(s, step_verify, va, why)) != PV_OK)
			goto out;
	} else if (opts->pin_pad) {
		d->pin_retries = -1;
		r = pcsc_session_verify_pinpad(s, PIV_REF_PIN, 6, 8,
		    &d->pin_retries, NULL);
		if (pv_err_aborts(r) && r != PV_E_TIMEOUT &&
		    r != PV_E_CANCELLED) {
			(void)pv_why_set(why, r, "PIN pad VERIFY: %s",
			    pv_strerror(r));
			goto out;
		}
		d->pin_tried = true;
		d->pin_result = r;
	}
	if ((r = pcsc_session_run(s, step_token, d, why)) != PV_OK)
		goto out;
	st.d = d;
	/*
	 * A YubiKey whose 9B key is not (known to be) the factory default
	 * may keep it on the token for the PIN to unlock; ADMIN DATA says so
	 * without the PIN.  A factory key has nothing to keep: not read.
	 */
	if (d->has_version && !(d->has_mgmt_meta && d->mgmt_meta.has_default &&
	    d->mgmt_meta.is_default)) {
		d->yk_admin_read = true;
		st.o = &d->yk_admin;
		if ((r = pcsc_session_run(s, step_object, &st, why)) != PV_OK)
			goto out;
	}
	for (i = 0; i < 4; i++) {
		st.o = objs[i];
		if ((r = pcsc_session_run(s, step_object, &st, why)) != PV_OK)
			goto out;
	}
	if (d->keyhist.parsed)
		n_retired = d->keyhist_v.on_card;
	for (i = 0; i < 4 + n_retired && i < DIAG_MAX_CERTS; i++) {
		struct pcsc_diag_cert *c = &d->certs[d->n_certs];

		c->key = i < 4 ? piv_main_key[i] :
		    (uint8_t)(PIV_KEY_RETIRED_FIRST + (i - 4));
		if (!piv_obj_for_key(c->key, &tag))
			continue;
		c->obj.tag = tag;
		d->n_certs++;
		cs.d = d;
		cs.c = c;
		if ((r = pcsc_session_run(s, step_cert, &cs, why)) != PV_OK)
			goto out;
	}
	if (opts->try_default_mgmt && !(d->has_mgmt_meta &&
	    d->mgmt_meta.has_default) &&
	    (r = pcsc_session_run(s, step_mgmt_default, d, why)) != PV_OK)
		goto out;
	pcsc_session_stats(s, &d->stats);
	stats_taken = true;
	if (opts->latency_n > 0) {
		d->latency.n = opts->latency_n;
		if ((r = pcsc_session_run(s, step_latency, d, why)) != PV_OK)
			goto out;
	}
	r = PV_OK;
out:
	if (!stats_taken)
		pcsc_session_stats(s, &d->stats);
	d->n_recoveries = s->n_recoveries;
	d->security_lost = s->security_lost;
	return r;
}

void
pcsc_diag_cleanup(struct pcsc_diag *d)
{
	size_t i;

	free(d->chuid.data);
	free(d->ccc.data);
	free(d->discovery.data);
	free(d->keyhist.data);
	free(d->yk_admin.data);
	for (i = 0; i < d->n_certs; i++) {
		free(d->certs[i].obj.data);
		free(d->certs[i].der);
	}
	memset(d, 0, sizeof(*d));
}
