/*
 * station_roll.c: rolling over the CA's delegated OCSP responder
 * certificate on the station (station.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "issuance/ca.h"
#include "issuance/station.h"

static time_t
station_roll_not_after(X509 *x)
{
	struct tm tm;

	if (x == NULL || !ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return 0;
	return timegm(&tm);
}

enum pv_err
station_ca_roll(struct station *s, enum ca_service kind, unsigned days,
    unsigned if_within, struct station_roll_result *out, struct pv_why *why)
{
	struct ca_init_params p;
	struct ca_service_params sp;
	struct pkix_pass pass;
	struct ca *ca = NULL;
	json_object *d = NULL;
	X509 *cur;
	time_t now = time(NULL), na;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&pass, 0, sizeof(pass));
	if (kind != CA_SVC_OCSP)
		return pv_why_set(why, PV_E_INVAL, "only the OCSP responder "
		    "certificate is rolled over");
	if ((r = ca_params_from_config(station_config(s), &p, why)) != PV_OK)
		return r;
	if ((r = station_passphrase(s, PASS_CA, false, &pass, why)) != PV_OK ||
	    (r = ca_open_keys(station_ca_dir(s), &pass, CA_KEY_ISSUING, &ca,
	    why)) != PV_OK)
		goto out;
	cur = ca_get0_ocsp(ca);
	out->had_one = cur != NULL;
	na = station_roll_not_after(cur);
	if (cur != NULL && if_within > 0 &&
	    na > now + (time_t)if_within * 86400) {
		pkix_serial_hex(cur, out->serial);
		pkix_time_str(X509_get0_notAfter(cur), out->not_after,
		    sizeof(out->not_after));
		r = PV_OK;
		goto out;
	}
	ca_service_params_init(&sp, kind, &p);
	if (days != 0)
		sp.days = days;
	if ((r = ca_service_roll(ca, &p, &sp, &pass, now, out->serial, why)) !=
	    PV_OK)
		goto out;
	cur = ca_get0_ocsp(ca);
	pkix_time_str(X509_get0_notAfter(cur), out->not_after,
	    sizeof(out->not_after));
	out->rolled = true;
	if ((d = json_object_new_object()) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	(void)json_object_object_add(d, "serial",
	    json_object_new_string(out->serial));
	(void)json_object_object_add(d, "not_after",
	    json_object_new_string(out->not_after));
	r = station_audit(s, "ca.roll", "ca:ocsp",
	    json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN), why);
out:
	json_object_put(d);
	pkix_pass_clear(&pass);
	ca_free(ca);
	return r;
}
