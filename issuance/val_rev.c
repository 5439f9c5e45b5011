/*
 * val_rev.c: revocation status of each certificate of a path, with the
 * configured policy (OCSP then CRL, both, CRL only), and the CRL part of
 * it written after RFC 5280 §6.3.3, on top of OpenSSL's CRL parser
 * (val_crl.c indexes the CRLs).  OpenSSL's own CRL checking is not used:
 * with its extended CRL support it still gets PKITS 4.14.30 wrong (an
 * indirect CRL that covers its own issuer's certificate), and without it
 * it accepts 4.15.1/3/10 (deltas).  What each piece is for:
 *
 *   scope (§6.3.3 (b)): issuer or cRLIssuer with indirectCRL, IDP name
 *     against the DP name or the cRLIssuer, relative names resolved,
 *     onlyContainsUser/CA/AttributeCerts: PKITS 4.14.1-4.14.14,
 *     4.14.22-4.14.35
 *   reasons mask (§6.3.3 (d), (k)): reason-partitioned CRLs, a status
 *     only when every reason is covered: PKITS 4.14.15-4.14.21
 *   CRL signer (§6.3.3 (f)): a key other than the certificate's issuer's,
 *     cRLSign, its own path to the same anchor and its own status, with
 *     cycles cut: PKITS 4.4.19-4.4.21, 4.5.3-4.5.8, 4.7.4, 4.7.5,
 *     4.14.24-4.14.30
 *   freshness (§6.3.3 (a)): PKITS 4.4.11-4.4.13
 *   delta CRLs (§5.2.4, §6.3.3 (c), (i)-(k)): same issuer and scope, base
 *     not newer than the complete CRL, removeFromCRL: PKITS 4.15.1-4.15.10
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "apdu/text.h"
#include "issuance/val_int.h"

/* ---- a sentence built piece by piece -------------------------------------- */

struct val_txt {
	char *p;
	size_t cap, off;
};

static void val_txt_add(struct val_txt *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
val_txt_add(struct val_txt *t, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (t->off + 1 >= t->cap)
		return;
	va_start(ap, fmt);
	w = vsnprintf(t->p + t->off, t->cap - t->off, fmt, ap);
	va_end(ap);
	if (w > 0)
		t->off += (size_t)w < t->cap - t->off ? (size_t)w :
		    t->cap - t->off - 1;
}

static void
val_crl_desc(const struct val_crl *c, char *out, size_t cap)
{
	char num[64] = "", tu[32], nu[32] = "none";

	if (c->number != NULL)
		val_serial_str(c->number, num, sizeof(num));
	text_utc(c->this_update, tu);
	if (c->next_update != 0)
		text_utc(c->next_update, nu);
	val_sayf(out, cap, "%s %s (%s%s%sthisUpdate %s, nextUpdate %s)",
	    c->delta ? "delta CRL" : "CRL", c->source, num[0] ? "number " : "",
	    num[0] ? num : "", num[0] ? ", " : "", tu, nu);
}

/* ---- distribution points ----------------------------------------------------- */

static bool
val_gens_has_dn(const GENERAL_NAMES *gens, const X509_NAME *name)
{
	int i;

	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DIRNAME &&
		    X509_NAME_cmp(g->d.directoryName, name) == 0)
			return true;
	}
	return false;
}

/* The first directoryName of |gens|, or NULL. */
static const X509_NAME *
val_gens_dn(const GENERAL_NAMES *gens)
{
	int i;

	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DIRNAME)
			return g->d.directoryName;
	}
	return NULL;
}

/*
 * Do two distribution point names share a name?  A relative name counts
 * as the full name it makes with its CRL issuer (dpname, set beforehand).
 */
static bool
val_dpn_match(const DIST_POINT_NAME *a, const DIST_POINT_NAME *b)
{
	const X509_NAME *nm = NULL;
	const GENERAL_NAMES *gens = NULL;
	int i, j;

	if (a->type == 1) {
		if (a->dpname == NULL)
			return false;
		if (b->type == 1)
			return b->dpname != NULL &&
			    X509_NAME_cmp(a->dpname, b->dpname) == 0;
		nm = a->dpname;
		gens = b->name.fullname;
	} else if (b->type == 1) {
		if (b->dpname == NULL)
			return false;
		nm = b->dpname;
		gens = a->name.fullname;
	}
	if (nm != NULL)
		return val_gens_has_dn(gens, nm);
	for (i = 0; i < sk_GENERAL_NAME_num(a->name.fullname); i++)
		for (j = 0; j < sk_GENERAL_NAME_num(b->name.fullname); j++)
			if (GENERAL_NAME_cmp(
			    sk_GENERAL_NAME_value(a->name.fullname, i),
			    sk_GENERAL_NAME_value(b->name.fullname, j)) == 0)
				return true;
	return false;
}

/* An IDP name against a list of CRL issuer names (§6.3.3 (b)(2)(i)). */
static bool
val_dpn_match_issuers(const DIST_POINT_NAME *idp, const GENERAL_NAMES *iss,
    const X509_NAME *one)
{
	int i;

	if (idp->type == 1) {
		if (idp->dpname == NULL)
			return false;
		return iss != NULL ? val_gens_has_dn(iss, idp->dpname) :
		    X509_NAME_cmp(idp->dpname, one) == 0;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(idp->name.fullname); i++) {
		const GENERAL_NAME *g =
		    sk_GENERAL_NAME_value(idp->name.fullname, i);

		if (g->type != GEN_DIRNAME)
			continue;
		if (iss != NULL ? val_gens_has_dn(iss, g->d.directoryName) :
		    X509_NAME_cmp(g->d.directoryName, one) == 0)
			return true;
	}
	return false;
}

/*
 * Is |c| a CRL for |x| through distribution point |dp| (NULL: the
 * default one of a certificate without the extension)?
 */
static bool
val_crl_in_scope(const struct val_crl *c, X509 *x, const DIST_POINT *dp,
    struct val_txt *why)
{
	const X509_NAME *ci = X509_CRL_get_issuer(c->crl);
	const X509_NAME *xi = X509_get_issuer_name(x);
	const ISSUING_DIST_POINT *idp = c->idp;

	if (dp != NULL && dp->CRLissuer != NULL) {
		if (!val_gens_has_dn(dp->CRLissuer, ci) || !c->indirect) {
			val_txt_add(why, "%s: %s; ", c->source,
			    !c->indirect ? "not an indirect CRL, and the "
			    "certificate names another CRL issuer" :
			    "its issuer is not the cRLIssuer the certificate "
			    "names");
			return false;
		}
	} else if (X509_NAME_cmp(ci, xi) != 0) {
		return false;	/* another CA's CRL: not worth a word */
	}
	if (idp == NULL)
		return true;
	if (idp->onlyattr > 0 || (idp->onlyuser > 0 && val_is_ca(x)) ||
	    (idp->onlyCA > 0 && !val_is_ca(x))) {
		val_txt_add(why, "%s: covers only %s; ", c->source,
		    idp->onlyattr > 0 ? "attribute certificates" :
		    idp->onlyuser > 0 ? "end-entity certificates" :
		    "CA certificates");
		return false;
	}
	if (idp->distpoint == NULL)
		return true;
	if (dp != NULL && dp->distpoint != NULL) {
		if (val_dpn_match(idp->distpoint, dp->distpoint))
			return true;
	} else if (val_dpn_match_issuers(idp->distpoint,
	    dp != NULL ? dp->CRLissuer : NULL, xi)) {
		return true;
	}
	val_txt_add(why, "%s: its distribution point is not the one the "
	    "certificate names; ", c->source);
	return false;
}

/* ---- CRL signer (§6.3.3 (f)) ----------------------------------------------- */

bool
val_signer_ok(struct val_run *run, X509 *s, char *why, size_t cap)
{
	STACK_OF(X509) *chain = NULL;
	struct val_status_memo *m;
	char msg[VAL_TEXT_MAX], subj[VAL_SUBJECT_MAX];
	int err, depth, i, n, at = -1;
	bool ok = false;

	why[0] = '\0';
	if (X509_cmp(s, run->anchor) == 0)
		return true;
	for (i = 0; i < sk_X509_num(run->ctx->anchors); i++) {
		if (X509_cmp(sk_X509_value(run->ctx->anchors, i), s) == 0) {
			val_sayf(why, cap, "signed by another trust "
			    "anchor than the path's");
			return false;
		}
	}
	if ((m = val_run_memo(run, s, true)) == NULL) {
		val_sayf(why, cap, "out of memory");
		return false;
	}
	if (m->signer != 0) {
		val_sayf(why, cap, "%s", m->signer_text);
		return m->signer > 0;
	}
	if (m->busy || m->signer_busy)
		return true;	/* higher up: good for now (PKITS 4.14.30) */
	val_subject(s, subj, sizeof(subj));
	/* Inside the target's path: its path is the rest of that path. */
	for (i = 1; i < sk_X509_num(run->chain); i++)
		if (X509_cmp(sk_X509_value(run->chain, i), s) == 0)
			at = i;
	m->signer_busy = true;
	if (at > 0) {
		chain = X509_chain_up_ref(run->chain);
		for (i = 0; chain != NULL && i < at; i++)
			X509_free(sk_X509_shift(chain));
	} else if (run->signer_depth >= VAL_SIGNER_DEPTH) {
		val_sayf(m->signer_text, sizeof(m->signer_text),
		    "%s: signer paths nested too deep", subj);
		goto out;
	} else {
		run->signer_depth++;
		(void)val_path_verify(run, s, false, &chain, &err, &depth, msg,
		    sizeof(msg), NULL, 0);
		run->signer_depth--;
		if (err != X509_V_OK) {
			val_sayf(m->signer_text, sizeof(m->signer_text),
			    "signer %s: %s", subj, msg);
			goto out;
		}
	}
	if (chain == NULL || (n = sk_X509_num(chain)) < 1) {
		val_sayf(m->signer_text, sizeof(m->signer_text),
		    "signer %s: no path", subj);
		goto out;
	}
	if (X509_cmp(sk_X509_value(chain, n - 1), run->anchor) != 0) {
		val_sayf(m->signer_text, sizeof(m->signer_text),
		    "signer %s: its path ends at another trust anchor", subj);
		goto out;
	}
	for (i = n - 2; i >= 0; i--) {
		struct val_status_memo *cm;
		X509 *c = sk_X509_value(chain, i);

		cm = val_rev_cert(run, c, sk_X509_value(chain, i + 1), false);
		if (cm == NULL || cm->busy)
			continue;
		if (cm->st == VAL_ST_GOOD || (cm->st == VAL_ST_NOT_PUBLISHED &&
		    !run->p->ca_status_required))
			continue;
		val_subject(c, msg, sizeof(msg));
		val_sayf(m->signer_text, sizeof(m->signer_text),
		    "signer %s: %s is %s", subj, msg,
		    cm->st == VAL_ST_REVOKED ? "revoked" : "of unknown status");
		goto out;
	}
	ok = true;
out:
	m->signer_busy = false;
	m->signer = ok ? 1 : -1;
	sk_X509_pop_free(chain, X509_free);
	val_sayf(why, cap, "%s", m->signer_text);
	return ok;
}

/* Finds a certificate whose key signed |c| and that may sign CRLs. */
static bool
val_crl_signer(struct val_run *run, struct val_crl *c, X509 *issuer,
    struct val_txt *why)
{
	STACK_OF(X509) *lists[3] = { run->ctx->anchors, run->pool,
	    run->ctx->untrusted };
	const X509_NAME *ci = X509_CRL_get_issuer(c->crl);
	X509 *tried[32];
	size_t n_tried = 0, t;
	char w[256];
	int l, i;
	bool named = false;

	for (l = -1; l < 3; l++) {
		int n = l < 0 ? 1 : sk_X509_num(lists[l]);

		for (i = 0; i < n; i++) {
			X509 *s = l < 0 ? issuer : sk_X509_value(lists[l], i);
			EVP_PKEY *k;

			if (s == NULL || X509_NAME_cmp(X509_get_subject_name(s),
			    ci) != 0)
				continue;
			s = val_subst_for(run->ctx, s);
			for (t = 0; t < n_tried && tried[t] != s; t++)
				;
			if (t < n_tried || n_tried == 32)
				continue;
			tried[n_tried++] = s;
			named = true;
			if ((X509_get_extension_flags(s) & EXFLAG_KUSAGE) &&
			    !(X509_get_key_usage(s) & KU_CRL_SIGN)) {
				val_txt_add(why, "%s: its issuer's key usage "
				    "lacks cRLSign; ", c->source);
				continue;
			}
			if ((k = X509_get0_pubkey(s)) == NULL)
				continue;
			if (c->sig_ok_by == NULL ||
			    X509_cmp(c->sig_ok_by, s) != 0) {
				if (X509_CRL_verify(c->crl, k) != 1) {
					ERR_clear_error();
					continue;
				}
				if (X509_up_ref(s)) {
					X509_free(c->sig_ok_by);
					c->sig_ok_by = s;
				}
			}
			if (!val_signer_ok(run, s, w, sizeof(w))) {
				val_txt_add(why, "%s: %s; ", c->source, w);
				continue;
			}
			return true;
		}
	}
	if (!named)
		val_txt_add(why, "%s: no certificate of its issuer is known; ",
		    c->source);
	else
		val_txt_add(why, "%s: its signature does not verify with a key "
		    "allowed to sign CRLs; ", c->source);
	return false;
}

/* ---- candidates ---------------------------------------------------------------- */

struct val_cands {
	struct val_crl *c[64];
	size_t n;
};

static void
val_cands_add(struct val_cands *k, struct val_crl *c)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->c[i] == c)
			return;
	if (k->n < sizeof(k->c) / sizeof(k->c[0]))
		k->c[k->n++] = c;
}

/* Fetches the CRLs named by the URIs of |dps|. */
static void
val_fetch_dps(struct val_run *run, const CRL_DIST_POINTS *dps,
    struct val_cands *k, struct val_txt *why)
{
	int i;

	for (i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		const char *urls[VAL_URLS_PER_CERT];
		size_t n, j;

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		n = val_uris(dp->distpoint->name.fullname, urls,
		    VAL_URLS_PER_CERT);
		for (j = 0; j < n; j++) {
			char w[256];
			struct val_crl *c;

			if (strncasecmp(urls[j], "http://", 7) != 0) {
				val_txt_add(why, "%.120s: only http:// is "
				    "fetched; ", urls[j]);
				continue;
			}
			if ((c = val_fetch_crl(run, urls[j], w, sizeof(w))) !=
			    NULL)
				val_cands_add(k, c);
			else
				val_txt_add(why, "%s; ", w);
		}
	}
}

/* ---- delta CRLs ---------------------------------------------------------------- */

/* Same issuing distribution point, byte for byte (or both without). */
static bool
val_same_idp(const struct val_crl *a, const struct val_crl *b)
{
	int ia = X509_CRL_get_ext_by_NID(a->crl, NID_issuing_distribution_point,
	    -1);
	int ib = X509_CRL_get_ext_by_NID(b->crl, NID_issuing_distribution_point,
	    -1);

	if (ia < 0 || ib < 0)
		return ia < 0 && ib < 0;
	return ASN1_OCTET_STRING_cmp(
	    X509_EXTENSION_get_data(X509_CRL_get_ext(a->crl, ia)),
	    X509_EXTENSION_get_data(X509_CRL_get_ext(b->crl, ib))) == 0;
}

static struct val_crl *
val_find_delta(struct val_run *run, struct val_cands *k,
    const struct val_crl *base, X509 *issuer, struct val_txt *why)
{
	time_t at = run->p->at, skew = (time_t)run->ctx->o.clock_skew_s;
	struct val_crl *best = NULL;
	size_t i;

	if (base->number == NULL)
		return NULL;
	for (i = 0; i < k->n; i++) {
		struct val_crl *d = k->c[i];

		if (!d->delta || d->unusable[0] != '\0' || d->number == NULL ||
		    X509_NAME_cmp(X509_CRL_get_issuer(d->crl),
		    X509_CRL_get_issuer(base->crl)) != 0 ||
		    !val_same_idp(d, base))
			continue;
		/* RFC 5280 §5.2.4: the base it extends is no newer than the
		 * complete CRL, and it is newer than that CRL. */
		if (ASN1_INTEGER_cmp(d->base, base->number) > 0 ||
		    ASN1_INTEGER_cmp(d->number, base->number) <= 0)
			continue;
		if (d->this_update > at + skew ||
		    (d->next_update != 0 && d->next_update < at)) {
			val_txt_add(why, "%s: not current; ", d->source);
			continue;
		}
		if (best != NULL && ASN1_INTEGER_cmp(d->number,
		    best->number) <= 0)
			continue;
		if (!val_crl_signer(run, d, issuer, why))
			continue;
		best = d;
	}
	return best;
}

/* ---- the status from CRLs (§6.3.3) ------------------------------------------ */

/*
 * val_crl_one weighs one complete CRL |c| for |x| through |dp| (§6.3.3 (b)
 * to (j)): in scope, usable, current, signed by a key allowed to, with
 * its delta.  Adds the reasons it covers to *mask.  VAL_ST_REVOKED (with
 * the date, reason and |text|) when |x| is listed; VAL_ST_UNKNOWN
 * otherwise, with what was found said in |why| or |good|.
 */
static enum val_st
val_crl_one(struct val_run *run, struct val_cands *k, struct val_crl *c,
    X509 *x, X509 *issuer, const DIST_POINT *dp, unsigned dp_reasons,
    unsigned *mask, time_t *revoked_at, int *reason, struct val_txt *why,
    struct val_txt *good, char *text, size_t cap)
{
	time_t at = run->p->at, skew = (time_t)run->ctx->o.clock_skew_s;
	const X509_NAME *xi = X509_get_issuer_name(x);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	const struct val_crl_ent *e = NULL;
	const struct val_crl *src = c;
	struct val_crl *delta;
	char d[VAL_TEXT_MAX];
	unsigned interim;

	if (c->delta || !val_crl_in_scope(c, x, dp, why))
		return VAL_ST_UNKNOWN;
	if (c->unusable[0] != '\0') {
		val_txt_add(why, "%s: unusable: %s; ", c->source, c->unusable);
		return VAL_ST_UNKNOWN;
	}
	interim = c->idp_reasons & dp_reasons;
	if ((interim & ~*mask) == 0)
		return VAL_ST_UNKNOWN;	/* nothing new to learn from it */
	if (c->this_update > at + skew) {
		text_utc(c->this_update, d);
		val_txt_add(why, "%s: not yet issued at the validation time "
		    "(thisUpdate %s); ", c->source, d);
		return VAL_ST_UNKNOWN;
	}
	if (c->next_update != 0 && c->next_update < at) {
		text_utc(c->next_update, d);
		val_txt_add(why, "%s: stale, its nextUpdate %s has passed; ",
		    c->source, d);
		return VAL_ST_UNKNOWN;
	}
	if (!val_crl_signer(run, c, issuer, why))
		return VAL_ST_UNKNOWN;
	/* §6.3.3 (i)-(k): the delta first; removeFromCRL unrevokes. */
	if ((delta = val_find_delta(run, k, c, issuer, why)) != NULL &&
	    (e = val_crl_lookup(delta, serial, xi)) != NULL) {
		src = delta;
		if (e->reason == 8) {
			val_crl_desc(delta, d, sizeof(d));
			val_txt_add(good, "%s%s removes it from the CRL",
			    good->off ? "; " : "", d);
			*mask |= interim;
			return VAL_ST_UNKNOWN;
		}
	}
	if (e == NULL && (e = val_crl_lookup(c, serial, xi)) != NULL &&
	    e->reason == 8)
		e = NULL;	/* removeFromCRL means something in a delta only */
	if (e != NULL) {
		*reason = e->reason;
		if (!val_asn1_time(X509_REVOKED_get0_revocationDate(e->rev),
		    revoked_at))
			*revoked_at = 0;
		val_crl_desc(src, d, sizeof(d));
		val_sayf(text, cap, "listed in %s", d);
		return VAL_ST_REVOKED;
	}
	*mask |= interim;
	val_crl_desc(c, d, sizeof(d));
	val_txt_add(good, "%snot in %s", good->off ? "; " : "", d);
	if (delta != NULL) {
		val_crl_desc(delta, d, sizeof(d));
		val_txt_add(good, " nor in %s", d);
	}
	if (interim != VAL_REASONS_ALL)
		val_txt_add(good, " (for some reasons only)");
	return VAL_ST_UNKNOWN;
}

enum val_st
val_crl_status(struct val_run *run, X509 *x, X509 *issuer, time_t *revoked_at,
    int *reason, char *text, size_t cap)
{
	const X509_NAME *xi = X509_get_issuer_name(x);
	CRL_DIST_POINTS *dps = NULL, *fresh = NULL;
	struct val_cands k;
	struct val_txt why = { NULL, 0, 0 }, good = { NULL, 0, 0 };
	char why_buf[VAL_TEXT_MAX], good_buf[VAL_TEXT_MAX];
	unsigned mask = 0;
	enum val_st st = VAL_ST_UNKNOWN;
	size_t i;
	int ndp, j, crit = -1;
	bool any_issuer_crl = false;

	why.p = why_buf;
	why.cap = sizeof(why_buf);
	why_buf[0] = '\0';
	good.p = good_buf;
	good.cap = sizeof(good_buf);
	good_buf[0] = '\0';
	text[0] = '\0';
	*reason = -1;
	*revoked_at = 0;
	memset(&k, 0, sizeof(k));
	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, &crit, NULL);
	if (dps == NULL && crit != -1) {
		val_sayf(text, cap, "its CRL distribution points do not "
		    "decode");
		goto out;
	}
	/* A relative name is relative to the CRL issuer: the DP's, else
	 * the certificate's issuer. */
	for (j = 0; dps != NULL && j < sk_DIST_POINT_num(dps); j++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, j);
		const X509_NAME *base = val_gens_dn(dp->CRLissuer);

		if (dp->distpoint != NULL &&
		    !DIST_POINT_set_dpname(dp->distpoint, base != NULL ? base :
		    xi)) {
			val_sayf(text, cap, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < run->ctx->n_crls; i++)
		val_cands_add(&k, run->ctx->crls[i]);
	val_fetch_dps(run, dps, &k, &why);
	fresh = X509_get_ext_d2i(x, NID_freshest_crl, NULL, NULL);
	val_fetch_dps(run, fresh, &k, &why);
	for (i = 0; i < k.n; i++) {
		if (X509_NAME_cmp(X509_CRL_get_issuer(k.c[i]->crl), xi) == 0)
			any_issuer_crl = true;
		if (!k.c[i]->delta) {
			/* Deltas named by a complete CRL (FreshestCRL). */
			CRL_DIST_POINTS *f = X509_CRL_get_ext_d2i(k.c[i]->crl,
			    NID_freshest_crl, NULL, NULL);

			if (f != NULL && X509_NAME_cmp(X509_CRL_get_issuer(
			    k.c[i]->crl), xi) == 0)
				val_fetch_dps(run, f, &k, &why);
			CRL_DIST_POINTS_free(f);
		}
	}
	ndp = dps != NULL ? sk_DIST_POINT_num(dps) : 0;
	for (j = 0; j < (ndp > 0 ? ndp : 1) && mask != VAL_REASONS_ALL &&
	    st != VAL_ST_REVOKED; j++) {
		const DIST_POINT *dp = ndp > 0 ? sk_DIST_POINT_value(dps, j) :
		    NULL;
		unsigned dp_reasons = VAL_REASONS_ALL;

		if (dp != NULL && dp->reasons != NULL) {
			dp_reasons = 0;
			for (int b = 1; b <= 8; b++)
				if (ASN1_BIT_STRING_get_bit(dp->reasons, b))
					dp_reasons |= 1u << b;
		}
		for (i = 0; i < k.n && mask != VAL_REASONS_ALL; i++) {
			st = val_crl_one(run, &k, k.c[i], x, issuer, dp,
			    dp_reasons, &mask, revoked_at, reason, &why, &good,
			    text, cap);
			if (st == VAL_ST_REVOKED)
				goto out;
		}
	}
	if (mask == VAL_REASONS_ALL) {
		st = VAL_ST_GOOD;
		val_sayf(text, cap, "good: %s", good_buf);
		goto out;
	}
	if (ndp == 0 && !any_issuer_crl) {
		st = VAL_ST_NOT_PUBLISHED;
		val_sayf(text, cap, "no CRL: the certificate names no "
		    "distribution point and no CRL of its issuer is known");
		goto out;
	}
	if (mask != 0)
		val_sayf(text, cap, "the usable CRLs cover only some "
		    "revocation reasons (%s); %s", good_buf, why_buf);
	else
		val_sayf(text, cap, "no usable CRL%s%s", why_buf[0] ?
		    ": " : (ndp == 0 ? " (the certificate names no "
		    "distribution point)" : ""), why_buf);
	/* Drop a trailing "; ". */
	for (i = strlen(text); i >= 2 && text[i - 1] == ' ' &&
	    text[i - 2] == ';'; i -= 2)
		text[i - 2] = '\0';
out:
	CRL_DIST_POINTS_free(dps);
	CRL_DIST_POINTS_free(fresh);
	ERR_clear_error();
	return st;
}

/* ---- the policy: OCSP, CRL, both ------------------------------------------- */

static bool
val_has_ocsp(X509 *x)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL,
	    NULL);
	bool found = false;
	int i;

	for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++)
		if (OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia, i)->method) ==
		    NID_ad_OCSP)
			found = true;
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return found;
}

struct val_status_memo *
val_rev_cert(struct val_run *run, X509 *x, X509 *issuer, bool is_target)
{
	struct val_status_memo *m = val_run_memo(run, x, true);
	char ot[VAL_TEXT_MAX / 2 + 64], ct[VAL_TEXT_MAX];
	enum val_st os = VAL_ST_UNKNOWN, cs = VAL_ST_UNKNOWN;
	time_t ort = 0, crt = 0;
	int orr = -1, crr = -1;
	bool asked = false;

	if (m == NULL || m->done || m->busy)
		return m;
	m->busy = true;
	if (m->issuer == NULL && X509_up_ref(issuer))
		m->issuer = issuer;
	ot[0] = ct[0] = '\0';
	if (run->p->rev_mode != VAL_REV_CRL_ONLY)
		os = val_ocsp_status(run, x, issuer, &asked, &ort, &orr, ot,
		    sizeof(ot));
	switch (run->p->rev_mode) {
	case VAL_REV_OCSP_THEN_CRL:
		if (asked && (os == VAL_ST_GOOD || os == VAL_ST_REVOKED)) {
			m->st = os;
			val_sayf(m->text, sizeof(m->text), "%s", ot);
			break;
		}
		cs = val_crl_status(run, x, issuer, &crt, &crr, ct, sizeof(ct));
		m->st = cs;
		if (asked)
			val_sayf(m->text, sizeof(m->text), "%s; then %s",
			    ot, ct);
		else
			val_sayf(m->text, sizeof(m->text), "%s", ct);
		break;
	case VAL_REV_BOTH:
		cs = val_crl_status(run, x, issuer, &crt, &crr, ct, sizeof(ct));
		if (os == VAL_ST_REVOKED || cs == VAL_ST_REVOKED)
			m->st = VAL_ST_REVOKED;
		else if (asked && os == VAL_ST_GOOD && cs == VAL_ST_GOOD)
			m->st = VAL_ST_GOOD;
		else if (!asked && cs == VAL_ST_NOT_PUBLISHED)
			m->st = VAL_ST_NOT_PUBLISHED;
		else
			m->st = VAL_ST_UNKNOWN;
		val_sayf(m->text, sizeof(m->text), "%s%s%s%s",
		    asked ? ot : "no OCSP responder named (both OCSP and CRL "
		    "are required)", "; ", ct, "");
		break;
	case VAL_REV_CRL_ONLY:
	default:
		cs = val_crl_status(run, x, issuer, &crt, &crr, ct, sizeof(ct));
		m->st = cs;
		val_sayf(m->text, sizeof(m->text), "%s", ct);
		break;
	}
	if (m->st == VAL_ST_REVOKED) {
		bool from_ocsp = os == VAL_ST_REVOKED;

		m->revoked_at = from_ocsp ? ort : crt;
		m->reason = from_ocsp ? orr : crr;
	}
	/* The target always needs a status; an OCSP URL means one was
	 * published. */
	if (m->st == VAL_ST_NOT_PUBLISHED && (is_target || val_has_ocsp(x)))
		m->st = VAL_ST_UNKNOWN;
	m->busy = false;
	m->done = true;
	return m;
}
