/*
 * lifecycle.c: suspend, resume, terminate a credential (lifecycle.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "apdu/text.h"
#include "issuance/audit.h"
#include "issuance/lifecycle.h"

static enum pv_err
lc_check_reason(const char *reason, struct pv_why *why)
{
	size_t n = reason != NULL ? strlen(reason) : 0, off = 0, bad = 0;
	struct buf_cur c;
	uint32_t cp;

	if (n == 0 || n > LIFECYCLE_REASON_MAX)
		return pv_why_set(why, PV_E_INPUT, "reason: 1 to %d bytes",
		    LIFECYCLE_REASON_MAX);
	if (text_utf8_check(reason, n, &off, &bad) != TEXT_UTF8_OK)
		return pv_why_set(why, PV_E_INPUT, "reason: not UTF-8 at byte "
		    "%zu", off + 1);
	buf_cur_init(&c, reason, n);
	while (!buf_done(&c)) {
		(void)text_utf8_next(&c, &cp, NULL);
		if (text_cp_is_control(cp))
			return pv_why_set(why, PV_E_INPUT, "reason: control "
			    "character U+%04X", (unsigned)cp);
	}
	return PV_OK;
}

/* The audit row that says why, in the change's transaction. */
static enum pv_err
lc_audit(struct store *st, const char *action, const struct lifecycle_result
    *res, const char *reason, struct pv_why *why)
{
	json_object *d = json_object_new_object();
	char obj[48];
	enum pv_err r;

	if (d == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	(void)snprintf(obj, sizeof(obj), "device:%lld",
	    (long long)res->device_id);
	json_object_object_add(d, "reason", json_object_new_string(reason));
	json_object_object_add(d, "before", json_object_new_string(
	    store_device_status_name(res->before)));
	json_object_object_add(d, "certificates",
	    json_object_new_int64((int64_t)res->n_certs));
	r = audit_append(st, action, obj, json_object_to_json_string_ext(d,
	    JSON_C_TO_STRING_PLAIN), why);
	json_object_put(d);
	return r;
}

/* Suspend (|hold|) or resume: the device's status and its certificates. */
static enum pv_err
lc_hold(struct store *st, int64_t id, bool hold, const char *reason,
    struct lifecycle_result *out, struct pv_why *why)
{
	struct store_device d;
	struct store_cert *certs = NULL;
	size_t n = 0, i;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	out->device_id = id;
	if ((r = lc_check_reason(reason, why)) != PV_OK)
		return r;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_device_get(st, id, &d, why)) != PV_OK)
		goto out;
	out->before = d.status;
	if (d.status != (hold ? STORE_DEV_ACTIVE : STORE_DEV_SUSPENDED)) {
		r = pv_why_set(why, PV_E_STATE, "device %lld is %s: only %s "
		    "device can be %s", (long long)id,
		    store_device_status_name(d.status), hold ? "an active" :
		    "a suspended", hold ? "suspended" : "resumed");
		goto out;
	}
	if ((r = store_cert_list_device(st, id, &certs, &n, why)) != PV_OK)
		goto out;
	for (i = 0; i < n && r == PV_OK; i++) {
		if (certs[i].status != (hold ? STORE_CERT_ACTIVE :
		    STORE_CERT_ON_HOLD))
			continue;
		if ((r = store_cert_set_hold(st, certs[i].serial, hold, why)) ==
		    PV_OK)
			out->n_certs++;
	}
	if (r == PV_OK)
		r = store_device_set_status(st, id, hold ? STORE_DEV_SUSPENDED :
		    STORE_DEV_ACTIVE, why);
	out->after = hold ? STORE_DEV_SUSPENDED : STORE_DEV_ACTIVE;
	if (r == PV_OK)
		r = lc_audit(st, hold ? "device.suspend" : "device.resume", out,
		    reason, why);
out:
	store_cert_free_list(certs, n);
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}

enum pv_err
lifecycle_suspend(struct store *st, int64_t device_id, const char *reason,
    struct lifecycle_result *out, struct pv_why *why)
{
	return lc_hold(st, device_id, true, reason, out, why);
}

enum pv_err
lifecycle_resume(struct store *st, int64_t device_id, const char *reason,
    struct lifecycle_result *out, struct pv_why *why)
{
	return lc_hold(st, device_id, false, reason, out, why);
}

enum pv_err
lifecycle_terminate(struct store *st, int64_t device_id, int crl_reason,
    const char *reason, struct lifecycle_result *out, struct pv_why *why)
{
	struct store_device d;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	out->device_id = device_id;
	if ((r = lc_check_reason(reason, why)) != PV_OK)
		return r;
	if ((r = store_begin(st, why)) != PV_OK)
		return r;
	if ((r = store_device_get(st, device_id, &d, why)) != PV_OK)
		goto out;
	out->before = d.status;
	if (d.status == STORE_DEV_TERMINATED) {
		r = pv_why_set(why, PV_E_STATE, "device %lld is terminated "
		    "already", (long long)device_id);
		goto out;
	}
	if ((r = store_device_terminate(st, device_id, crl_reason,
	    &out->n_certs, why)) != PV_OK)
		goto out;
	out->after = STORE_DEV_TERMINATED;
	r = lc_audit(st, "device.terminate", out, reason, why);
out:
	if (r != PV_OK) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, why);
}
