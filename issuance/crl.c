/*
 * crl.c: the issuing CA's CRL from the store or a list (crl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "issuance/audit.h"
#include "issuance/crl.h"
#include "issuance/store.h"

enum pv_err
crl_revoked_from_store(struct store *st, struct ca_revoked **out,
    size_t *n_out, struct pv_why *why)
{
	struct store_cert *list = NULL;
	struct ca_revoked *rv = NULL;
	size_t n = 0, i, hl;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = store_cert_list_crl(st, &list, &n, why)) != PV_OK)
		return r;
	if (n > 0 && (rv = calloc(n, sizeof(*rv))) == NULL) {
		store_cert_free_list(list, n);
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		/* The store keeps 1-40 hex digits (store_cert_add). */
		hl = strlen(list[i].serial);
		if (hl % 2 != 0 || hl / 2 > sizeof(rv[i].serial) ||
		    !buf_unhex(list[i].serial, hl, rv[i].serial, hl / 2)) {
			r = pv_why_set(why, PV_E_STATE, "certificate serial '%s' "
			    "in the store is not even-length hex",
			    list[i].serial);
			free(rv);
			store_cert_free_list(list, n);
			return r;
		}
		rv[i].serial_len = hl / 2;
		rv[i].revoked_at = (time_t)list[i].revoked_at;
		rv[i].reason = list[i].reason;
	}
	store_cert_free_list(list, n);
	*out = rv;
	*n_out = n;
	return PV_OK;
}

enum pv_err
crl_revoked_parse(const char *text, size_t len, const char *name, time_t now,
    struct ca_revoked **out, size_t *n_out, struct pv_why *why)
{
	struct ca_revoked *rv = NULL, *grow;
	size_t cap = 0, cnt = 0, line = 0, pos = 0, e, hl;
	char buf[256], hex[64];
	long long when;
	int reason, got;
	char tail;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*n_out = 0;
	while (pos < len) {
		const char *l;

		for (e = pos; e < len && text[e] != '\n'; e++)
			;
		line++;
		if (e - pos >= sizeof(buf)) {
			r = pv_why_set(why, PV_E_INPUT, "%s:%zu: line too long",
			    name, line);
			goto out;
		}
		memcpy(buf, text + pos, e - pos);
		buf[e - pos] = '\0';
		pos = e + 1;
		for (l = buf; *l == ' ' || *l == '\t'; l++)
			;
		if (*l == '#' || *l == '\0' || *l == '\r')
			continue;
		when = 0;
		reason = -1;
		got = sscanf(l, "%63s %lld %d %c", hex, &when, &reason, &tail);
		hl = strlen(hex);
		if (got < 1 || got > 3 || hl == 0 || hl % 2 != 0 || hl > 40 ||
		    when < 0 || reason > 10) {
			r = pv_why_set(why, PV_E_INPUT, "%s:%zu: expected "
			    "SERIALHEX [UNIXTIME [REASON]]", name, line);
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grow = realloc(rv, cap * sizeof(*rv))) == NULL) {
				r = pv_why_set(why, PV_E_NOMEM, "out of memory");
				goto out;
			}
			rv = grow;
		}
		memset(&rv[cnt], 0, sizeof(rv[cnt]));
		if (!buf_unhex(hex, hl, rv[cnt].serial, hl / 2)) {
			r = pv_why_set(why, PV_E_INPUT, "%s:%zu: '%s' is not "
			    "hex", name, line, hex);
			goto out;
		}
		rv[cnt].serial_len = hl / 2;
		rv[cnt].revoked_at = got >= 2 ? (time_t)when : now;
		rv[cnt].reason = got >= 3 ? reason : -1;
		cnt++;
	}
	*out = rv;
	*n_out = cnt;
	rv = NULL;
	r = PV_OK;
out:
	free(rv);
	return r;
}

enum pv_err
crl_publish(struct ca *ca, struct store *st, const struct ca_revoked *rv,
    size_t n_rv, time_t now, unsigned hours, struct crl_result *out,
    struct pv_why *why)
{
	struct ca_revoked *from_store = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	uint64_t number = 0;
	bool found = false;
	char detail[96];
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if (st != NULL) {
		if ((r = crl_revoked_from_store(st, &from_store, &n_rv, why)) !=
		    PV_OK ||
		    (r = store_crl_number_next(st, &number, why)) != PV_OK)
			goto out;
		rv = from_store;
	} else {
		if ((r = ca_crl_last_number(ca_get0_dir(ca), &number, &found,
		    why)) != PV_OK)
			goto out;
		number = found ? number + 1 : 1;
	}
	if ((r = ca_crl_make(ca, rv, n_rv, number, now, hours, &der, &der_len,
	    why)) != PV_OK ||
	    (r = ca_crl_publish(ca, der, der_len, why)) != PV_OK)
		goto out;
	if (st != NULL) {
		(void)snprintf(detail, sizeof(detail),
		    "{\"crl_number\":%llu,\"entries\":%zu}",
		    (unsigned long long)number, n_rv);
		if ((r = audit_append(st, "crl.publish", "ca", detail, why)) !=
		    PV_OK)
			goto out;
	}
	out->number = number;
	out->entries = n_rv;
	r = PV_OK;
out:
	OPENSSL_free(der);
	free(from_store);
	return r;
}
