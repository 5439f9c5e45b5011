/*
 * val_path.c: the path to a trust anchor, with OpenSSL's X509_verify_cert
 * doing the RFC 5280 §6.1 work (val_int.h), and two things it lacks done
 * around it:
 *
 *   - missing intermediates fetched from the AIA caIssuers URL of the
 *     certificate whose issuer is missing (RFC 5280 §4.2.2.1), before the
 *     verifier runs;
 *   - DSA parameter inheritance (RFC 3279 §2.3.2, RFC 5280 §6.1.4 (k)):
 *     OpenSSL 3 refuses a DSA key without parameters outright, so such a
 *     certificate can neither be an issuer nor sign.  PKITS 4.1.5 is the
 *     case.  Here its signature is checked first with its issuer's key,
 *     then a twin of it with the issuer's parameters filled in takes its
 *     place in the pool; the twin's own signature no longer matches its
 *     altered body, and the verify callback accepts exactly that one
 *     failure for exactly that twin below exactly that issuer, since the
 *     original's signature was verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#include "apdu/text.h"
#include "issuance/pkix_util.h"
#include "issuance/val_int.h"

/* ---- DSA parameter inheritance (PKITS 4.1.5) -------------------------------- */

/* Is |x|'s key DSA with its parameters left out? */
static bool
val_dsa_no_params(X509 *x)
{
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *alg = NULL;
	const X509_ALGOR *a = NULL;
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF;

	if (pk == NULL || !X509_PUBKEY_get0_param(&alg, NULL, NULL,
	    (X509_ALGOR **)(void *)&a, pk) || OBJ_obj2nid(alg) != NID_dsa)
		return false;
	if (a != NULL)
		X509_ALGOR_get0(NULL, &ptype, &pval, a);
	return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
}

/* The key of |x| with the domain parameters of |from| (a DSA key). */
static EVP_PKEY *
val_dsa_inherit(X509 *x, EVP_PKEY *from)
{
	X509_PUBKEY *pk = X509_get_X509_PUBKEY(x);
	const unsigned char *kp = NULL, *d;
	ASN1_INTEGER *ai = NULL;
	BIGNUM *p = NULL, *q = NULL, *g = NULL, *y = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *out = NULL;
	int klen = 0;

	if (EVP_PKEY_get_base_id(from) != EVP_PKEY_DSA ||
	    !X509_PUBKEY_get0_param(NULL, &kp, &klen, NULL, pk) || klen <= 0)
		goto out;
	d = kp;
	/* DSAPublicKey ::= INTEGER (RFC 3279 §2.3.2) */
	if ((ai = d2i_ASN1_INTEGER(NULL, &d, klen)) == NULL || d != kp + klen ||
	    (y = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    !EVP_PKEY_get_bn_param(from, OSSL_PKEY_PARAM_FFC_P, &p) ||
	    !EVP_PKEY_get_bn_param(from, OSSL_PKEY_PARAM_FFC_Q, &q) ||
	    !EVP_PKEY_get_bn_param(from, OSSL_PKEY_PARAM_FFC_G, &g))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_Q, q) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		EVP_PKEY_free(out);
		out = NULL;
	}
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	ASN1_INTEGER_free(ai);
	BN_free(p);
	BN_free(q);
	BN_free(g);
	BN_free(y);
	return out;
}

/* val_subst_add records |x|'s twin with |k|'s parameters, issued by |s|. */
static bool
val_subst_add(struct val_ctx *ctx, X509 *x, X509 *s, EVP_PKEY *k)
{
	EVP_PKEY *full = val_dsa_inherit(x, k);
	struct val_subst *grow;
	unsigned char *der = NULL;
	const unsigned char *dp;
	X509 *dup = NULL, *sub = NULL;
	int len;

	if (full == NULL)
		return false;
	/* X509_set_pubkey leaves the cached encoding of the body in place;
	 * i2d_re_X509_tbs marks it modified, so the new key is encoded. */
	if ((dup = X509_dup(x)) != NULL && X509_set_pubkey(dup, full) &&
	    i2d_re_X509_tbs(dup, NULL) > 0 &&
	    (len = i2d_X509(dup, &der)) > 0) {
		dp = der;
		sub = d2i_X509(NULL, &dp, len);
	}
	OPENSSL_free(der);
	X509_free(dup);
	EVP_PKEY_free(full);
	ERR_clear_error();
	if (sub == NULL)
		return false;
	if (ctx->n_subst == ctx->cap_subst) {
		grow = realloc(ctx->subst, (ctx->cap_subst + 4) * sizeof(*grow));
		if (grow == NULL) {
			X509_free(sub);
			return false;
		}
		ctx->subst = grow;
		ctx->cap_subst += 4;
	}
	if (!X509_up_ref(x)) {
		X509_free(sub);
		return false;
	}
	if (!X509_up_ref(s)) {
		X509_free(x);
		X509_free(sub);
		return false;
	}
	ctx->subst[ctx->n_subst].orig = x;
	ctx->subst[ctx->n_subst].sub = sub;
	ctx->subst[ctx->n_subst].issuer = s;
	ctx->n_subst++;
	return true;
}

/* The issuers of |x| known to the context whose key is DSA with params. */
static X509 *
val_dsa_issuer(struct val_ctx *ctx, X509 *x, int depth)
{
	STACK_OF(X509) *lists[2] = { ctx->anchors, ctx->untrusted };
	int l, i;

	if (depth > VAL_AIA_DEPTH)
		return NULL;
	for (l = 0; l < 2; l++) {
		for (i = 0; i < sk_X509_num(lists[l]); i++) {
			X509 *c = sk_X509_value(lists[l], i), *s;
			EVP_PKEY *k;

			if (c == x || X509_NAME_cmp(X509_get_subject_name(c),
			    X509_get_issuer_name(x)) != 0)
				continue;
			s = val_dsa_no_params(c) ? NULL : c;
			/* The issuer may inherit its parameters too. */
			if (s == NULL) {
				size_t j;

				(void)val_dsa_issuer(ctx, c, depth + 1);
				for (j = 0; j < ctx->n_subst; j++)
					if (ctx->subst[j].orig == c)
						s = ctx->subst[j].sub;
			}
			if (s == NULL || (k = X509_get0_pubkey(s)) == NULL ||
			    EVP_PKEY_get_base_id(k) != EVP_PKEY_DSA ||
			    X509_verify(x, k) != 1) {
				ERR_clear_error();
				continue;
			}
			/* Records the twin as a side effect when |x| is one. */
			if (val_dsa_no_params(x) && !val_subst_add(ctx, x, s, k))
				return NULL;
			return s;
		}
	}
	return NULL;
}

X509 *
val_subst_for(struct val_ctx *ctx, X509 *x)
{
	size_t i;

	for (i = 0; i < ctx->n_subst; i++)
		if (ctx->subst[i].orig == x || ctx->subst[i].sub == x)
			return ctx->subst[i].sub;
	if (!val_dsa_no_params(x))
		return x;
	(void)val_dsa_issuer(ctx, x, 0);
	for (i = 0; i < ctx->n_subst; i++)
		if (ctx->subst[i].orig == x)
			return ctx->subst[i].sub;
	return x;
}

/* The verify callback: one failure is forgiven, see the top of the file. */
static int
val_verify_cb(int ok, X509_STORE_CTX *sctx)
{
	struct val_run *run = X509_STORE_CTX_get_app_data(sctx);
	STACK_OF(X509) *chain;
	X509 *cur;
	int depth;
	size_t i;

	if (ok || run == NULL ||
	    X509_STORE_CTX_get_error(sctx) != X509_V_ERR_CERT_SIGNATURE_FAILURE)
		return ok;
	cur = X509_STORE_CTX_get_current_cert(sctx);
	depth = X509_STORE_CTX_get_error_depth(sctx);
	chain = X509_STORE_CTX_get0_chain(sctx);
	if (cur == NULL || chain == NULL || depth + 1 >= sk_X509_num(chain))
		return ok;
	for (i = 0; i < run->ctx->n_subst; i++) {
		const struct val_subst *s = &run->ctx->subst[i];

		if (s->sub == cur && X509_cmp(sk_X509_value(chain, depth + 1),
		    s->issuer) == 0)
			return 1;	/* the original's signature verified */
	}
	return ok;
}

/* ---- AIA: fetch the missing issuers ---------------------------------------- */

static X509 *
val_find_issuer(STACK_OF(X509) *sk, X509 *x)
{
	int i;

	for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
		X509 *c = sk_X509_value(sk, i);

		if (c != x && X509_check_issued(c, x) == X509_V_OK)
			return c;
	}
	return NULL;
}

static void
val_fetch_issuers(struct val_run *run, X509 *x)
{
	X509 *cur = x, *up;
	int depth, i;

	if (run->ctx->o.fetcher == NULL && run->ctx->o.cache_dir[0] == '\0')
		return;
	for (depth = 0; depth < VAL_AIA_DEPTH; depth++) {
		AUTHORITY_INFO_ACCESS *aia;
		const char *urls[VAL_URLS_PER_CERT];
		size_t n = 0, k;

		if (X509_check_issued(cur, cur) == X509_V_OK ||
		    val_find_issuer(run->ctx->anchors, cur) != NULL)
			return;
		if ((up = val_find_issuer(run->pool, cur)) != NULL) {
			cur = up;
			continue;
		}
		aia = X509_get_ext_d2i(cur, NID_info_access, NULL, NULL);
		for (i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia) &&
		    n < VAL_URLS_PER_CERT; i++) {
			ACCESS_DESCRIPTION *ad =
			    sk_ACCESS_DESCRIPTION_value(aia, i);
			GENERAL_NAMES *one;

			if (OBJ_obj2nid(ad->method) != NID_ad_ca_issuers)
				continue;
			if ((one = sk_GENERAL_NAME_new_null()) == NULL)
				break;
			if (sk_GENERAL_NAME_push(one, ad->location))
				n += val_uris(one, urls + n, 1);
			sk_GENERAL_NAME_free(one);
		}
		up = NULL;
		for (k = 0; k < n && up == NULL; k++) {
			char why[256];
			STACK_OF(X509) *got = val_fetch_aia(run, urls[k], why,
			    sizeof(why));

			for (i = 0; got != NULL && i < sk_X509_num(got); i++) {
				X509 *c = val_subst_for(run->ctx,
				    sk_X509_value(got, i));
				struct pv_why w = { { 0 } };

				if (X509_cmp(c, cur) == 0)
					continue;
				(void)val_ctx_add_untrusted(run->ctx, c, &w);
				if (X509_up_ref(c) && !sk_X509_push(run->pool,
				    c))
					X509_free(c);
			}
			up = val_find_issuer(run->pool, cur);
		}
		AUTHORITY_INFO_ACCESS_free(aia);
		ERR_clear_error();
		if (up == NULL)
			return;
		cur = up;
	}
}

/* ---- the verifier -------------------------------------------------------------- */

static enum pv_err
val_store(struct val_ctx *ctx, struct pv_why *why)
{
	int i;

	if (!ctx->store_dirty && ctx->store != NULL)
		return PV_OK;
	X509_STORE_free(ctx->store);
	if ((ctx->store = X509_STORE_new()) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	for (i = 0; i < sk_X509_num(ctx->anchors); i++)
		if (!X509_STORE_add_cert(ctx->store,
		    sk_X509_value(ctx->anchors, i))) {
			ERR_clear_error();
			return pv_why_set(why, PV_E_NOMEM, "out of memory");
		}
	ctx->store_dirty = false;
	return PV_OK;
}

/* A sentence for what X509_verify_cert found. */
static void
val_path_msg(X509_STORE_CTX *sctx, int err, int depth, char *msg, size_t cap)
{
	X509 *cur = X509_STORE_CTX_get_current_cert(sctx);
	char subj[VAL_SUBJECT_MAX], iss[VAL_SUBJECT_MAX], t[32];
	time_t tt;

	subj[0] = '\0';
	if (cur != NULL)
		val_subject(cur, subj, sizeof(subj));
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		if (cur != NULL && val_asn1_time(X509_get0_notAfter(cur), &tt))
			text_utc(tt, t);
		else
			val_sayf(t, sizeof(t), "?");
		val_sayf(msg, cap, "%s (depth %d) expired on %s", subj,
		    depth, t);
		return;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		if (cur != NULL && val_asn1_time(X509_get0_notBefore(cur), &tt))
			text_utc(tt, t);
		else
			val_sayf(t, sizeof(t), "?");
		val_sayf(msg, cap, "%s (depth %d) is not valid before %s",
		    subj, depth, t);
		return;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		iss[0] = '\0';
		if (cur != NULL)
			pkix_name_str(X509_get_issuer_name(cur), iss,
			    sizeof(iss));
		val_sayf(msg, cap, "%s (depth %d): %s; no path to a "
		    "configured trust anchor (issuer %s)", subj, depth,
		    X509_verify_cert_error_string(err), iss);
		return;
	default:
		val_sayf(msg, cap, "%s (depth %d): %s", subj, depth,
		    X509_verify_cert_error_string(err));
	}
}

static void
val_policy_out(X509_STORE_CTX *sctx, char *out, size_t cap)
{
	X509_POLICY_TREE *tree = X509_STORE_CTX_get0_policy_tree(sctx);
	STACK_OF(X509_POLICY_NODE) *nodes;
	size_t off = 0;
	int i;

	out[0] = '\0';
	if (tree == NULL)
		return;
	nodes = X509_policy_tree_get0_user_policies(tree);
	for (i = 0; nodes != NULL && i < sk_X509_POLICY_NODE_num(nodes) &&
	    off < cap; i++) {
		const ASN1_OBJECT *o = X509_policy_node_get0_policy(
		    sk_X509_POLICY_NODE_value(nodes, i));
		char oid[VAL_OID_MAX];

		if (OBJ_obj2nid(o) == NID_any_policy)
			val_sayf(oid, sizeof(oid), "anyPolicy");
		else
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
		    off ? ", " : "", oid);
	}
}

enum pv_err
val_path_verify(struct val_run *run, X509 *x, bool policy,
    STACK_OF(X509) **chain, int *err, int *depth, char *msg, size_t cap,
    char *policy_set, size_t ps_cap)
{
	const struct val_params *p = run->p;
	struct pv_why why = { { 0 } };
	X509_STORE_CTX *sctx = NULL;
	X509_VERIFY_PARAM *vp;
	unsigned long flags = 0;
	enum pv_err r;
	unsigned i;
	int ok, k;

	*chain = NULL;
	*err = X509_V_ERR_UNSPECIFIED;
	*depth = 0;
	msg[0] = '\0';
	if (policy_set != NULL && ps_cap > 0)
		policy_set[0] = '\0';
	if ((r = val_store(run->ctx, &why)) != PV_OK) {
		val_sayf(msg, cap, "%s", why.msg);
		return r;
	}
	if (sk_X509_num(run->ctx->anchors) == 0) {
		*err = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
		val_sayf(msg, cap, "no trust anchor is configured "
		    "([trust] anchors)");
		return PV_OK;
	}
	val_fetch_issuers(run, x);
	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(sctx, run->ctx->store, x, run->pool)) {
		X509_STORE_CTX_free(sctx);
		ERR_clear_error();
		val_sayf(msg, cap, "out of memory");
		return PV_E_NOMEM;
	}
	X509_STORE_CTX_set_app_data(sctx, run);
	X509_STORE_CTX_set_verify_cb(sctx, val_verify_cb);
	vp = X509_STORE_CTX_get0_param(sctx);
	X509_VERIFY_PARAM_set_time(vp, p->at);
	/* An anchor need not be self-signed (RFC 5280 §6.1.1 (d)). */
	for (k = 0; k < sk_X509_num(run->ctx->anchors); k++)
		if (X509_self_signed(sk_X509_value(run->ctx->anchors, k), 0) !=
		    1)
			flags |= X509_V_FLAG_PARTIAL_CHAIN;
	if (policy) {
		flags |= X509_V_FLAG_POLICY_CHECK;
		if (p->explicit_policy)
			flags |= X509_V_FLAG_EXPLICIT_POLICY;
		if (p->inhibit_any)
			flags |= X509_V_FLAG_INHIBIT_ANY;
		if (p->inhibit_mapping)
			flags |= X509_V_FLAG_INHIBIT_MAP;
		/* Any-policy as an explicit set, so that OpenSSL reports the
		 * authorities-constrained set (RFC 5280 §6.1.6 (g)). */
		for (i = 0; i < (p->n_policies ? p->n_policies : 1); i++) {
			ASN1_OBJECT *o = OBJ_txt2obj(p->n_policies ?
			    p->policies[i] : PKIX_OID_ANY_POLICY, 1);

			if (o == NULL || !X509_VERIFY_PARAM_add0_policy(vp, o)) {
				ASN1_OBJECT_free(o);
				X509_STORE_CTX_free(sctx);
				ERR_clear_error();
				val_sayf(msg, cap, "policy '%s' is not an "
				    "OID", p->policies[i]);
				*err = X509_V_ERR_INVALID_POLICY_EXTENSION;
				return PV_OK;
			}
		}
	}
	X509_VERIFY_PARAM_set_flags(vp, flags);
	ok = X509_verify_cert(sctx);
	*err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(sctx);
	if (ok != 1 && *err == X509_V_OK)
		*err = X509_V_ERR_UNSPECIFIED;
	*depth = X509_STORE_CTX_get_error_depth(sctx);
	*chain = X509_STORE_CTX_get1_chain(sctx);
	if (*err != X509_V_OK)
		val_path_msg(sctx, *err, *depth, msg, cap);
	else if (policy && policy_set != NULL)
		val_policy_out(sctx, policy_set, ps_cap);
	if (*err == X509_V_OK && (*chain == NULL || sk_X509_num(*chain) < 1)) {
		*err = X509_V_ERR_UNSPECIFIED;
		val_sayf(msg, cap, "the verifier built no path");
	}
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return PV_OK;
}
