/*
 * val_crl.c: a CRL parsed once and indexed (val_int.h).
 *
 * OpenSSL decodes; this file reads what a relying party needs out of the
 * decoded CRL once, so that a status look-up is a binary search (a CRL
 * of 100 000 entries is parsed once per process and then costs
 * microseconds per certificate):
 *   - every entry's serial, reason and effective certificate issuer: in
 *     an indirect CRL an entry's certificateIssuer extension names the
 *     issuer of it and of the entries after it until the next one (RFC
 *     5280 §5.3.3; PKITS 4.14.24-4.14.35);
 *   - the issuing distribution point with its relative name resolved
 *     against the CRL issuer, onlySomeReasons and indirectCRL (PKITS
 *     4.14.1-4.14.23);
 *   - CRL number and delta base (PKITS 4.15);
 *   - whether a critical extension we do not process forbids using the
 *     CRL at all (RFC 5280 §5.2 and §5.3; PKITS 4.4.8, 4.4.9, 4.4.10).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "issuance/val_int.h"

/* The CRL extensions this validator processes (RFC 5280 §5.2). */
static bool
val_crl_ext_known(int nid)
{
	switch (nid) {
	case NID_authority_key_identifier:
	case NID_issuer_alt_name:
	case NID_crl_number:
	case NID_delta_crl:
	case NID_issuing_distribution_point:
	case NID_freshest_crl:
	case NID_info_access:
		return true;
	default:
		return false;
	}
}

/* The CRL entry extensions it processes (RFC 5280 §5.3). */
static bool
val_entry_ext_known(int nid)
{
	switch (nid) {
	case NID_crl_reason:
	case NID_invalidity_date:
	case NID_certificate_issuer:
	case NID_hold_instruction_code:
		return true;
	default:
		return false;
	}
}

static int
val_ent_cmp(const void *a, const void *b)
{
	const struct val_crl_ent *x = a, *y = b;

	return ASN1_INTEGER_cmp(x->serial, y->serial);
}

/* val_crl_decode: DER, or PEM "X509 CRL". */
static X509_CRL *
val_crl_decode(const uint8_t *p, size_t n)
{
	const unsigned char *d = p;
	X509_CRL *crl;
	BIO *b;

	if (n == 0 || n > (size_t)LONG_MAX)
		return NULL;
	if (p[0] == 0x30) {
		crl = d2i_X509_CRL(NULL, &d, (long)n);
		if (crl != NULL && d != p + n) {
			X509_CRL_free(crl);
			crl = NULL;
		}
		return crl;
	}
	if (n > INT_MAX || (b = BIO_new_mem_buf(p, (int)n)) == NULL)
		return NULL;
	crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	BIO_free(b);
	return crl;
}

static unsigned
val_bits_reasons(const ASN1_BIT_STRING *bs)
{
	unsigned m = 0;
	int i;

	if (bs == NULL)
		return VAL_REASONS_ALL;
	for (i = 1; i <= 8; i++)
		if (ASN1_BIT_STRING_get_bit(bs, i))
			m |= 1u << i;
	return m;
}

/* val_crl_scan reads extensions, scope and numbers. */
static enum pv_err
val_crl_scan(struct val_crl *c, struct pv_why *why)
{
	int i, crit, n = X509_CRL_get_ext_count(c->crl);

	for (i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_CRL_get_ext(c->crl, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));

		if (X509_EXTENSION_get_critical(e) && !val_crl_ext_known(nid)) {
			char oid[80];

			OBJ_obj2txt(oid, sizeof(oid),
			    X509_EXTENSION_get_object(e), 1);
			val_sayf(c->unusable, sizeof(c->unusable),
			    "it has a critical extension %s that this validator "
			    "does not process (RFC 5280 §5.2)", oid);
		}
	}
	crit = -1;
	c->idp = X509_CRL_get_ext_d2i(c->crl, NID_issuing_distribution_point,
	    &crit, NULL);
	if (c->idp == NULL && crit != -1) {
		val_sayf(c->unusable, sizeof(c->unusable),
		    "its issuing distribution point does not decode");
	}
	c->idp_reasons = VAL_REASONS_ALL;
	if (c->idp != NULL) {
		if (c->idp->distpoint != NULL &&
		    !DIST_POINT_set_dpname(c->idp->distpoint,
		    X509_CRL_get_issuer(c->crl)))
			return pv_why_set(why, PV_E_NOMEM, "out of memory");
		c->idp_reasons = val_bits_reasons(c->idp->onlysomereasons);
		c->indirect = c->idp->indirectCRL > 0;
	}
	crit = -1;
	c->number = X509_CRL_get_ext_d2i(c->crl, NID_crl_number, &crit, NULL);
	crit = -1;
	c->base = X509_CRL_get_ext_d2i(c->crl, NID_delta_crl, &crit, NULL);
	if (c->base == NULL && crit != -1)
		val_sayf(c->unusable, sizeof(c->unusable),
		    "its delta CRL indicator does not decode");
	c->delta = c->base != NULL;
	if (!val_asn1_time(X509_CRL_get0_lastUpdate(c->crl), &c->this_update))
		return pv_why_set(why, PV_E_INPUT, "%s: thisUpdate does not "
		    "decode", c->source);
	c->next_update = 0;
	if (X509_CRL_get0_nextUpdate(c->crl) != NULL &&
	    !val_asn1_time(X509_CRL_get0_nextUpdate(c->crl), &c->next_update))
		return pv_why_set(why, PV_E_INPUT, "%s: nextUpdate does not "
		    "decode", c->source);
	ERR_clear_error();
	return PV_OK;
}

/* val_crl_index builds the sorted entry table. */
static enum pv_err
val_crl_index(struct val_crl *c, struct pv_why *why)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(c->crl);
	int i, j, n = revs != NULL ? sk_X509_REVOKED_num(revs) : 0;
	int cur = -1;

	if (n == 0)
		return PV_OK;
	if ((c->ent = calloc((size_t)n, sizeof(*c->ent))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	/* In the order of the CRL: certificateIssuer carries forward. */
	for (i = 0; i < n; i++) {
		X509_REVOKED *rev = sk_X509_REVOKED_value(revs, i);
		struct val_crl_ent *e = &c->ent[i];
		ASN1_ENUMERATED *reason;
		int m = X509_REVOKED_get_ext_count(rev), crit = -1;

		for (j = 0; j < m; j++) {
			X509_EXTENSION *x = X509_REVOKED_get_ext(rev, j);
			int nid = OBJ_obj2nid(X509_EXTENSION_get_object(x));

			if (X509_EXTENSION_get_critical(x) &&
			    !val_entry_ext_known(nid) && c->unusable[0] == '\0')
				val_sayf(c->unusable, sizeof(c->unusable),
				    "an entry has a critical extension this "
				    "validator does not process (RFC 5280 §5.3)");
		}
		e->serial = X509_REVOKED_get0_serialNumber(rev);
		e->rev = rev;
		e->reason = -1;
		reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit,
		    NULL);
		if (reason != NULL) {
			long v = ASN1_ENUMERATED_get(reason);

			e->reason = v >= 0 && v <= 10 ? (int)v : 0;
			ASN1_ENUMERATED_free(reason);
		} else if (crit != -1 && c->unusable[0] == '\0') {
			val_sayf(c->unusable, sizeof(c->unusable),
			    "an entry's reason code does not decode");
		}
		if (c->indirect) {
			GENERAL_NAMES *gens;
			GENERAL_NAMES **grow;

			crit = -1;
			gens = X509_REVOKED_get_ext_d2i(rev,
			    NID_certificate_issuer, &crit, NULL);
			if (gens != NULL) {
				grow = realloc(c->issuers, (c->n_issuers + 1) *
				    sizeof(*grow));
				if (grow == NULL) {
					GENERAL_NAMES_free(gens);
					return pv_why_set(why, PV_E_NOMEM,
					    "out of memory");
				}
				c->issuers = grow;
				c->issuers[c->n_issuers] = gens;
				cur = (int)c->n_issuers++;
			} else if (crit != -1 && c->unusable[0] == '\0') {
				val_sayf(c->unusable, sizeof(c->unusable),
				    "an entry's certificate issuer does not "
				    "decode");
			}
		}
		e->issuer = cur;
	}
	c->n_ent = (size_t)n;
	qsort(c->ent, c->n_ent, sizeof(*c->ent), val_ent_cmp);
	ERR_clear_error();
	return PV_OK;
}

enum pv_err
val_crl_new(const uint8_t *p, size_t n, const char *source,
    struct val_crl **out, struct pv_why *why)
{
	struct val_crl *c;
	enum pv_err r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	val_sayf(c->source, sizeof(c->source), "%s",
	    source != NULL ? source : "CRL");
	if ((c->crl = val_crl_decode(p, n)) == NULL) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_INPUT, "%s: not a CRL (DER or PEM)",
		    c->source);
		goto fail;
	}
	if ((r = val_crl_scan(c, why)) != PV_OK ||
	    (r = val_crl_index(c, why)) != PV_OK)
		goto fail;
	*out = c;
	return PV_OK;
fail:
	val_crl_free(c);
	return r;
}

void
val_crl_free(struct val_crl *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_issuers; i++)
		GENERAL_NAMES_free(c->issuers[i]);
	free(c->issuers);
	free(c->ent);
	ISSUING_DIST_POINT_free(c->idp);
	ASN1_INTEGER_free(c->number);
	ASN1_INTEGER_free(c->base);
	X509_free(c->sig_ok_by);
	X509_CRL_free(c->crl);
	free(c);
}

/* Does |gens| hold |name| as a directoryName? */
static bool
val_gens_has_dn(const GENERAL_NAMES *gens, const X509_NAME *name)
{
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DIRNAME &&
		    X509_NAME_cmp(g->d.directoryName, name) == 0)
			return true;
	}
	return false;
}

const struct val_crl_ent *
val_crl_lookup(const struct val_crl *c, const ASN1_INTEGER *serial,
    const X509_NAME *issuer)
{
	size_t lo = 0, hi = c->n_ent, i;

	/* First entry whose serial is not below |serial|. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ASN1_INTEGER_cmp(c->ent[mid].serial, serial) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < c->n_ent &&
	    ASN1_INTEGER_cmp(c->ent[i].serial, serial) == 0; i++) {
		const struct val_crl_ent *e = &c->ent[i];

		if (e->issuer < 0) {
			if (X509_NAME_cmp(X509_CRL_get_issuer(c->crl),
			    issuer) == 0)
				return e;
		} else if (val_gens_has_dn(c->issuers[e->issuer], issuer)) {
			return e;
		}
	}
	return NULL;
}
