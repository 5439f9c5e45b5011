/*
 * recover.c: the audited recovery of an escrowed key (recover.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "apdu/buf.h"
#include "apdu/text.h"
#include "issuance/audit.h"
#include "issuance/escrow.h"
#include "issuance/recover.h"
#include "issuance/station.h"

enum pv_err
recover_reason_check(const char *reason, struct pv_why *why)
{
	size_t n, bad = 0;
	uint32_t cp;
	struct buf_cur c;

	if (reason == NULL || reason[0] == '\0')
		return pv_why_set(why, PV_E_INPUT, "a reason is required: say "
		    "why this key is recovered (--reason)");
	if ((n = strlen(reason)) > RECOVER_REASON_MAX)
		return pv_why_set(why, PV_E_INPUT, "the reason is %zu bytes: at "
		    "most %d", n, RECOVER_REASON_MAX);
	if (text_utf8_check(reason, n, &bad, NULL) != TEXT_UTF8_OK)
		return pv_why_set(why, PV_E_INPUT, "the reason is not UTF-8 "
		    "text (byte %zu)", bad + 1);
	buf_cur_init(&c, reason, n);
	while (!buf_done(&c)) {
		if (text_utf8_next(&c, &cp, NULL) != TEXT_UTF8_OK ||
		    text_cp_is_control(cp))
			return pv_why_set(why, PV_E_INPUT, "the reason holds a "
			    "control character");
	}
	return PV_OK;
}

/* The SHA-256 of |p| in hex, for naming an envelope in the log. */
static void
recover_sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t d[32];

	if (EVP_Digest(p, n, d, NULL, EVP_sha256(), NULL) == 1)
		buf_hex(d, 32, out);
	else
		(void)snprintf(out, 65, "?");
}

static void
recover_jstr(json_object *o, const char *k, const char *v)
{
	char *safe = text_sanitize_dup(v != NULL ? v : "", TEXT_SAN_JSON);

	(void)json_object_object_add(o, k, json_object_new_string(
	    safe != NULL ? safe : ""));
	free(safe);
}

enum pv_err
recover_key_p12(struct station *st, const struct recover_req *rq,
    uint8_t **out, size_t *out_len, struct recover_result *res,
    struct pv_why *why)
{
	struct escrow_src src;
	struct pv_why aw = { "" }, cause = { "" };
	json_object *d = NULL;
	EVP_PKEY *kra = NULL;
	char object[AUDIT_OBJECT_MAX], hex[65], serial[PKIX_SERIAL_HEX_LEN];
	enum pv_err r, ar;

	*out = NULL;
	*out_len = 0;
	memset(&src, 0, sizeof(src));
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if ((r = recover_reason_check(rq->reason, why)) != PV_OK)
		return r;
	if ((rq->person == NULL) == (rq->envelope == NULL || rq->cert == NULL))
		return pv_why_set(why, PV_E_INPUT, "recover either a person's "
		    "key, or an envelope with its certificate");
	/* No log, no recovery. */
	if ((r = station_require(st, STATION_NEED_STORE | STATION_NEED_CA,
	    why)) != PV_OK)
		return r;
	if ((d = json_object_new_object()) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	recover_jstr(d, "reason", rq->reason);
	if (rq->person != NULL) {
		recover_jstr(d, "mode", "person");
		recover_jstr(d, "person", rq->person);
		(void)snprintf(object, sizeof(object), "person:%.*s",
		    (int)sizeof(object) - 8, rq->person);
	} else {
		recover_jstr(d, "mode", "envelope");
		recover_jstr(d, "envelope", rq->envelope_name);
		recover_sha256_hex(rq->envelope, rq->envelope_len, hex);
		recover_jstr(d, "envelope_sha256", hex);
		pkix_serial_hex(rq->cert, serial);
		(void)snprintf(object, sizeof(object), "cert:%s", serial);
	}
	if ((r = station_permit(st, OP_RECOVER, why)) != PV_OK ||
	    (r = station_kra_key(st, &kra, why)) != PV_OK)
		goto refused;
	if (rq->person != NULL)
		r = escrow_recover_person(station_store(st), rq->person,
		    ca_get0_kra(station_ca(st)), kra, rq->p12_pass, rq->name,
		    out, out_len, &src, why);
	else
		r = escrow_recover_p12(rq->envelope, rq->envelope_len,
		    ca_get0_kra(station_ca(st)), kra, rq->cert, rq->p12_pass,
		    rq->name, out, out_len, why);
	if (r != PV_OK)
		goto refused;
	if (rq->person != NULL) {
		(void)json_object_object_add(d, "escrow",
		    json_object_new_int64(src.escrow_id));
		(void)json_object_object_add(d, "device",
		    json_object_new_int64(src.device_id));
		recover_jstr(d, "cert", src.cert_serial);
		(void)snprintf(object, sizeof(object), "escrow:%lld",
		    (long long)src.escrow_id);
	} else {
		recover_jstr(d, "cert", serial);
	}
	if ((r = station_audit(st, "escrow.recover", object,
	    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
	    why)) != PV_OK) {
		/* No unrecorded recovery. */
		OPENSSL_clear_free(*out, *out_len);
		*out = NULL;
		*out_len = 0;
		goto out;
	}
	if (res != NULL) {
		res->escrow_id = src.escrow_id;
		res->device_id = src.device_id;
		(void)snprintf(res->cert_serial, sizeof(res->cert_serial), "%s",
		    rq->person != NULL ? src.cert_serial : serial);
	}
	r = PV_OK;
	goto out;
refused:
	OPENSSL_clear_free(*out, *out_len);
	*out = NULL;
	*out_len = 0;
	recover_jstr(d, "error", pv_class_name(pv_err_class(r)));
	recover_jstr(d, "why", why->msg[0] ? why->msg : pv_strerror(r));
	ar = station_audit(st, "escrow.recover.refused", object,
	    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN), &aw);
	if (ar != PV_OK) {
		cause = *why;
		pv_why_clear(why);
		(void)pv_why_set(why, r, "%s (and the refusal could not be "
		    "written to the audit log: %s)", cause.msg, aw.msg);
	}
out:
	EVP_PKEY_free(kra);
	json_object_put(d);
	return r;
}

enum pv_err
recover_key_copy(const struct recover_copy *rc, EVP_PKEY **out,
    struct recover_result *res, struct pv_why *why)
{
	struct pv_why aw = { "" }, cause = { "" };
	json_object *d = NULL, *more = NULL;
	char object[AUDIT_OBJECT_MAX], serial[PKIX_SERIAL_HEX_LEN];
	enum pv_err r, ar;

	*out = NULL;
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if ((r = recover_reason_check(rc->reason, why)) != PV_OK)
		return r;
	if (rc->st == NULL || rc->envelope == NULL || rc->cert == NULL ||
	    rc->kra_cert == NULL)
		return pv_why_set(why, PV_E_INVAL, "recover_key_copy: no log, "
		    "envelope, certificate or KRA certificate");
	if ((d = json_object_new_object()) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	recover_jstr(d, "reason", rc->reason);
	recover_jstr(d, "mode", "copy");
	pkix_serial_hex(rc->cert, serial);
	recover_jstr(d, "cert", serial);
	(void)json_object_object_add(d, "escrow",
	    json_object_new_int64(rc->escrow_id));
	(void)json_object_object_add(d, "device",
	    json_object_new_int64(rc->device_id));
	if (rc->detail_json != NULL &&
	    (more = json_tokener_parse(rc->detail_json)) != NULL &&
	    json_object_is_type(more, json_type_object)) {
		json_object_object_foreach(more, k, v)
			(void)json_object_object_add(d, k, json_object_get(v));
	}
	(void)snprintf(object, sizeof(object), "escrow:%lld",
	    (long long)rc->escrow_id);
	if (rc->kra_key == NULL) {
		r = pv_why_set(why, PV_E_STATE, "the key recovery agent's key "
		    "is not open");
		goto refused;
	}
	if ((r = escrow_open_key(rc->envelope, rc->envelope_len, rc->kra_cert,
	    rc->kra_key, out, why)) != PV_OK)
		goto refused;
	if (EVP_PKEY_eq(X509_get0_pubkey(rc->cert), *out) != 1) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_VERIFY, "escrow %lld: the key is not "
		    "the key of certificate %s", (long long)rc->escrow_id,
		    serial);
		goto refused;
	}
	if ((r = audit_append(rc->st, "escrow.recover", object,
	    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
	    why)) != PV_OK)
		goto out;	/* no unrecorded recovery */
	if (res != NULL) {
		res->escrow_id = rc->escrow_id;
		res->device_id = rc->device_id;
		(void)snprintf(res->cert_serial, sizeof(res->cert_serial), "%s",
		    serial);
	}
	r = PV_OK;
	goto out;
refused:
	recover_jstr(d, "error", pv_class_name(pv_err_class(r)));
	recover_jstr(d, "why", why->msg[0] ? why->msg : pv_strerror(r));
	ar = audit_append(rc->st, "escrow.recover.refused", object,
	    json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN), &aw);
	if (ar != PV_OK) {
		cause = *why;
		pv_why_clear(why);
		(void)pv_why_set(why, r, "%s (and the refusal could not be "
		    "written to the audit log: %s)", cause.msg, aw.msg);
	}
out:
	if (r != PV_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	json_object_put(more);
	json_object_put(d);
	return r;
}
