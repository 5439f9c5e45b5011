/*
 * val_util.c: small pieces the validator's files share: times, names,
 * serials, modes and defaults (val.h, val_int.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "issuance/pkix_util.h"
#include "issuance/val_int.h"

void
val_opts_defaults(struct val_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->crl_max_bytes = VAL_CRL_MAX_DEFAULT;
	o->aia_max_bytes = VAL_AIA_MAX_DEFAULT;
	o->ocsp_max_bytes = VAL_OCSP_MAX_DEFAULT;
	o->aia_cache_hours = VAL_AIA_HOURS_DEFAULT;
	o->clock_skew_s = 300;
	o->ocsp_max_age_s = VAL_OCSP_AGE_DEFAULT;
}

void
val_params_defaults(struct val_params *p)
{
	memset(p, 0, sizeof(*p));
	p->at = time(NULL);
	p->rev_mode = VAL_REV_OCSP_THEN_CRL;
	p->ca_status_required = true;
}

static const char *const val_mode_names[] = {
	"ocsp-then-crl", "both", "crl-only", "none"
};

const char *
val_rev_mode_name(enum val_rev_mode m)
{
	return (unsigned)m < 4 ? val_mode_names[m] : "unknown";
}

bool
val_rev_mode_parse(const char *s, enum val_rev_mode *out)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		if (strcmp(s, val_mode_names[i]) == 0) {
			*out = (enum val_rev_mode)i;
			return true;
		}
	}
	return false;
}

bool
val_asn1_time(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;
	time_t v;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return false;
	}
	v = timegm(&tm);
	if (v == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 &&
	    tm.tm_mday == 31))
		return false;
	*out = v;
	return true;
}

/* Reads exactly |n| digits at *s into *v. */
static bool
val_digits(const char **s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		*v = *v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return true;
}

enum pv_err
val_time_parse(const char *s, time_t *out, struct pv_why *why)
{
	const char *p = s;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	time_t t;

	if (s[0] == '@') {
		char *end;
		long long v = strtoll(s + 1, &end, 10);

		if (s[1] == '\0' || *end != '\0' || v < 0)
			return pv_why_set(why, PV_E_INPUT, "time '%s': expected "
			    "@SECONDS since 1970", s);
		*out = (time_t)v;
		return PV_OK;
	}
	if (!val_digits(&p, 4, &y) || *p++ != '-' || !val_digits(&p, 2, &mo) ||
	    *p++ != '-' || !val_digits(&p, 2, &d))
		goto bad;
	if (*p == 'T') {
		p++;
		if (!val_digits(&p, 2, &h) || *p++ != ':' ||
		    !val_digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (!val_digits(&p, 2, &sec))
				goto bad;
		}
		if (*p++ != 'Z')
			goto bad;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || y < 1950)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 31 February: refuse what it had to move. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		goto bad;
	*out = t;
	return PV_OK;
bad:
	return pv_why_set(why, PV_E_INPUT, "time '%s': expected ISO 8601 UTC "
	    "such as 2011-04-15T00:00:00Z", s);
}

void
val_subject(const X509 *x, char *out, size_t cap)
{
	pkix_name_str(X509_get_subject_name(x), out, cap);
	if (cap > 0 && out[0] == '\0')
		(void)snprintf(out, cap, "(empty subject)");
}

bool
val_is_ca(X509 *x)
{
	return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

size_t
val_uris(const GENERAL_NAMES *gens, const char **out, size_t max)
{
	size_t n = 0;
	int i;

	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && n < max;
	    i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *u;

		if (g->type != GEN_URI)
			continue;
		u = g->d.uniformResourceIdentifier;
		/* Only a NUL-free IA5 string is a URL we may look at. */
		if (u == NULL || u->length <= 0 ||
		    memchr(u->data, '\0', (size_t)u->length) != NULL ||
		    u->data[u->length] != '\0')
			continue;
		out[n++] = (const char *)u->data;
	}
	return n;
}

void
val_serial_str(const ASN1_INTEGER *s, char *out, size_t cap)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	char *h = bn != NULL ? BN_bn2hex(bn) : NULL;

	(void)snprintf(out, cap, "%s", h != NULL ? h : "?");
	OPENSSL_free(h);
	BN_free(bn);
	ERR_clear_error();
}

void
val_sayf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

bool
val_memmem(const uint8_t *p, size_t n, const char *needle, size_t nl)
{
	size_t i;

	for (i = 0; nl <= n && i <= n - nl; i++)
		if (memcmp(p + i, needle, nl) == 0)
			return true;
	return false;
}
