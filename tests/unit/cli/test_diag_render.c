/*
 * test_diag_render.c: what `pivstation diag` says (cli/cmd_diag.c) about
 * YubiKey metadata: a card that has none, and a card whose GET METADATA
 * answer is malformed, are different findings and read differently.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cmd_diag.h"
#include "pcsc/diag.h"

static void
quiet_atr_list(void)
{
	/* the ATR section reads smartcard_list.txt: not needed here */
	setenv("PIVSTATION_SMARTCARD_LIST", "/dev/null", 1);
}

static struct pcsc_diag *
yubikey(enum pv_err meta_err)
{
	struct pcsc_diag *d = calloc(1, sizeof(*d));

	cr_assert_not_null(d);
	d->piv = true;
	d->has_version = true;
	d->version.major = 5;
	d->version.minor = 4;
	d->version.patch = 3;
	d->pin_meta_err = d->puk_meta_err = d->mgmt_meta_err = meta_err;
	snprintf(d->pin_meta_why, sizeof(d->pin_meta_why),
	    "GET METADATA 80: TLV length past the end");
	snprintf(d->puk_meta_why, sizeof(d->puk_meta_why),
	    "GET METADATA 81: TLV length past the end");
	snprintf(d->mgmt_meta_why, sizeof(d->mgmt_meta_why),
	    "GET METADATA 9B: TLV length past the end");
	d->chuid.err = d->ccc.err = d->discovery.err = d->keyhist.err =
	    PV_E_NOT_FOUND;
	d->n_certs = 1;
	d->certs[0].key = 0x9a;
	d->certs[0].obj.tag = 0x5fc105;
	d->certs[0].obj.err = PV_E_NOT_FOUND;
	d->certs[0].meta_err = meta_err;
	snprintf(d->certs[0].meta_why, sizeof(d->certs[0].meta_why),
	    "GET METADATA 9A: TLV length past the end");
	return d;
}

static const char *
get(json_object *doc, const char *a, const char *b, const char *c)
{
	json_object *o = doc, *v = NULL;

	if (!json_object_object_get_ex(o, a, &o) ||
	    !json_object_object_get_ex(o, b, &o) ||
	    (c != NULL && !json_object_object_get_ex(o, c, &v)))
		return NULL;
	return json_object_get_string(c != NULL ? v : o);
}

Test(diag_render, malformed_metadata_is_said_so, .init = quiet_atr_list)
{
	struct pcsc_diag *d = yubikey(PV_E_MALFORMED);
	json_object *doc = cli_diag_json(d, false), *cert, *v;
	const char *s = json_object_to_json_string(doc);

	cr_assert_null(strstr(s, "has no metadata"), "%s", s);
	cr_assert_str_eq(get(doc, "piv", "management_key", "metadata_error"),
	    "malformed answer: GET METADATA 9B: TLV length past the end");
	cr_assert_not_null(strstr(get(doc, "piv", "management_key",
	    "factory_default_note"), "not usable"));
	cr_assert_str_eq(get(doc, "piv", "pin", "metadata_error"),
	    "malformed answer: GET METADATA 80: TLV length past the end");
	cr_assert_str_eq(get(doc, "piv", "puk", "metadata_error"),
	    "malformed answer: GET METADATA 81: TLV length past the end");
	cr_assert_null(get(doc, "piv", "puk", "note"));
	cert = json_object_array_get_idx(json_object_object_get(doc,
	    "certificates"), 0);
	cr_assert(json_object_object_get_ex(cert, "key_in_slot_error", &v));
	cr_assert_str_eq(json_object_get_string(v),
	    "malformed answer: GET METADATA 9A: TLV length past the end");
	json_object_put(doc);
	free(d);
}

Test(diag_render, absent_metadata_is_said_so, .init = quiet_atr_list)
{
	struct pcsc_diag *d = yubikey(PV_E_NOT_SUPPORTED);
	json_object *doc = cli_diag_json(d, false);

	cr_assert_not_null(strstr(get(doc, "piv", "management_key",
	    "factory_default_note"), "the card has no metadata"));
	cr_assert_null(get(doc, "piv", "management_key", "metadata_error"));
	cr_assert_null(get(doc, "piv", "pin", "metadata_error"));
	cr_assert_not_null(get(doc, "piv", "puk", "note"));
	json_object_put(doc);
	free(d);
}
