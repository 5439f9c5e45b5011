/*
 * card_summary.c: a card at a glance (card_summary.h).
 */
#include <stdio.h>
#include <string.h>

#include "issuance/card_summary.h"
#include "issuance/store.h"

const char *
card_class_name(enum card_class cls)
{
	switch (cls) {
	case CARD_CLASS_UNREAD: return "reading";
	case CARD_CLASS_NOT_PIV: return "not PIV";
	case CARD_CLASS_BLANK: return "blank";
	case CARD_CLASS_ISSUING: return "issuing";
	case CARD_CLASS_ISSUED: return "issued";
	case CARD_CLASS_SUSPENDED: return "suspended";
	case CARD_CLASS_FOREIGN: return "personalised";
	case CARD_CLASS_ERROR: return "unreadable";
	}
	return "?";
}

/* The store's device for this card (serial, else CHUID GUID). */
static enum pv_err
card_summary_lookup(const struct card_facts *f, struct store *st,
    struct store_device *d, bool *found, struct pv_why *why)
{
	char serial[16];
	enum pv_err r = PV_E_NO_RECORD;

	*found = false;
	if (f->has_serial) {
		(void)snprintf(serial, sizeof(serial), "%u", f->serial);
		r = store_device_find_serial(st, serial, d, why);
	}
	if (r == PV_E_NO_RECORD && f->chuid_ok) {
		pv_why_clear(why);
		r = store_device_find_guid(st, f->chuid_guid, d, why);
	}
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return PV_OK;
	}
	if (r == PV_OK)
		*found = true;
	return r;
}

enum pv_err
card_summarize(struct card *c, struct store *st, struct card_summary *out,
    struct pv_why *why)
{
	struct card_facts f;
	struct store_device d;
	struct store_person p;
	struct pv_why ignore = { "" };
	bool found = false, factory;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	out->pin_left = -1;
	out->pad = card_check_pad(c, true, &ignore) == PV_OK;
	if (card_check_piv(c, &ignore) != PV_OK) {
		out->cls = CARD_CLASS_NOT_PIV;
		(void)snprintf(out->desc, sizeof(out->desc), "no PIV "
		    "application");
		return PV_OK;
	}
	if ((r = card_inspect(c, 0, &f, why)) != PV_OK) {
		out->cls = CARD_CLASS_ERROR;
		(void)snprintf(out->why, sizeof(out->why), "%s", why != NULL &&
		    why->msg[0] ? why->msg : pv_strerror(r));
		return r;
	}
	card_describe(&f, NULL, out->desc, sizeof(out->desc));
	out->yk = f.yk;
	out->has_serial = f.has_serial;
	out->serial = f.serial;
	if (f.chuid_ok) {
		out->has_guid = true;
		memcpy(out->guid, f.chuid_guid, 16);
	}
	if (f.has_pin_meta)
		out->pin_left = f.pin_left;
	else if (f.has_pin_status)
		out->pin_left = f.pin_status.retries;
	out->pin_blocked = (f.has_pin_meta && f.pin_left == 0) ||
	    (f.has_pin_status && f.pin_status.blocked);
	out->puk_blocked = f.has_puk_meta && f.puk_left == 0;
	if (st != NULL && card_summary_lookup(&f, st, &d, &found, &ignore) ==
	    PV_OK && found) {
		out->device_id = d.id;
		out->person_id = d.person_id;
		switch (d.status) {
		case STORE_DEV_ISSUING: out->cls = CARD_CLASS_ISSUING; break;
		case STORE_DEV_ACTIVE: out->cls = CARD_CLASS_ISSUED; break;
		case STORE_DEV_SUSPENDED: out->cls = CARD_CLASS_SUSPENDED; break;
		case STORE_DEV_TERMINATED: out->cls = CARD_CLASS_FOREIGN; break;
		}
		if (store_person_get(st, d.person_id, &p, &ignore) == PV_OK) {
			(void)identity_printed_name(&p.ident, out->person,
			    sizeof(out->person));
			(void)snprintf(out->person_ext, sizeof(out->person_ext),
			    "%s", p.ident.person_id);
		}
		return PV_OK;
	}
	/* Nothing personal on it, where the token can tell. */
	factory = !f.has_chuid && (!f.has_pin_meta || f.pin_default) &&
	    (!f.has_puk_meta || f.puk_default) &&
	    (!f.has_mgm_meta || f.mgm_default);
	out->cls = factory ? CARD_CLASS_BLANK : CARD_CLASS_FOREIGN;
	return PV_OK;
}
