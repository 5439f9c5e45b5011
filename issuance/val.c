/*
 * val.c: the validation context and val_cert, which runs the path, the
 * policy and the revocation checks and writes them to the report (val.h).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "apdu/text.h"
#include "issuance/pkix_util.h"
#include "issuance/val_int.h"

#define VAL_FILE_MAX	(64u * 1024 * 1024)

/* ---- context ------------------------------------------------------------------- */

enum pv_err
val_ctx_new(const struct val_opts *o, struct val_ctx **out,
    struct pv_why *why)
{
	struct val_ctx *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	if (o != NULL)
		c->o = *o;
	else
		val_opts_defaults(&c->o);
	if (c->o.crl_max_bytes == 0)
		c->o.crl_max_bytes = VAL_CRL_MAX_DEFAULT;
	if (c->o.aia_max_bytes == 0)
		c->o.aia_max_bytes = VAL_AIA_MAX_DEFAULT;
	if (c->o.ocsp_max_bytes == 0)
		c->o.ocsp_max_bytes = VAL_OCSP_MAX_DEFAULT;
	if (c->o.aia_cache_hours == 0)
		c->o.aia_cache_hours = VAL_AIA_HOURS_DEFAULT;
	if (c->o.ocsp_max_age_s == 0)
		c->o.ocsp_max_age_s = VAL_OCSP_AGE_DEFAULT;
	if ((c->anchors = sk_X509_new_null()) == NULL ||
	    (c->untrusted = sk_X509_new_null()) == NULL) {
		val_ctx_free(c);
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	}
	c->store_dirty = true;
	*out = c;
	return PV_OK;
}

void
val_ctx_free(struct val_ctx *c)
{
	size_t i;

	if (c == NULL)
		return;
	sk_X509_pop_free(c->anchors, X509_free);
	sk_X509_pop_free(c->untrusted, X509_free);
	X509_STORE_free(c->store);
	for (i = 0; i < c->n_crls; i++)
		val_crl_free(c->crls[i]);
	free(c->crls);
	for (i = 0; i < c->n_aia; i++)
		sk_X509_pop_free(c->aia[i].certs, X509_free);
	free(c->aia);
	for (i = 0; i < c->n_subst; i++) {
		X509_free(c->subst[i].orig);
		X509_free(c->subst[i].sub);
		X509_free(c->subst[i].issuer);
	}
	free(c->subst);
	free(c);
}

static enum pv_err
val_push(STACK_OF(X509) *sk, X509 *x, struct pv_why *why)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), x) == 0)
			return PV_OK;	/* already there */
	if (!X509_up_ref(x))
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	}
	return PV_OK;
}

enum pv_err
val_ctx_add_anchor(struct val_ctx *ctx, X509 *x, struct pv_why *why)
{
	ctx->store_dirty = true;
	return val_push(ctx->anchors, x, why);
}

enum pv_err
val_ctx_add_untrusted(struct val_ctx *ctx, X509 *x, struct pv_why *why)
{
	return val_push(ctx->untrusted, x, why);
}

size_t
val_ctx_n_anchors(const struct val_ctx *ctx)
{
	return (size_t)sk_X509_num(ctx->anchors);
}

/* Certificates from a body: certs-only CMS, PEM, or one DER certificate. */
enum pv_err
val_certs_decode(const uint8_t *p, size_t n, STACK_OF(X509) **out,
    struct pv_why *why)
{
	STACK_OF(X509) *sk = NULL;
	CMS_ContentInfo *cms = NULL;
	const unsigned char *d = p;
	BIO *b = NULL;
	X509 *x;
	enum pv_err r = PV_E_INPUT;

	*out = NULL;
	if (n == 0 || n > INT_MAX)
		goto out;
	if (p[0] == 0x30) {
		/* A certificate, or a ContentInfo: try both, strictly. */
		if ((x = d2i_X509(NULL, &d, (long)n)) != NULL) {
			if (d != p + n) {
				X509_free(x);
				goto out;
			}
			if ((sk = sk_X509_new_null()) == NULL ||
			    !sk_X509_push(sk, x)) {
				X509_free(x);
				r = PV_E_NOMEM;
				goto out;
			}
			goto done;
		}
		d = p;
		if ((cms = d2i_CMS_ContentInfo(NULL, &d, (long)n)) == NULL ||
		    d != p + n ||
		    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
			goto out;
		sk = CMS_get1_certs(cms);
		goto done;
	}
	if ((b = BIO_new_mem_buf(p, (int)n)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	if (val_memmem(p, n, "-----BEGIN PKCS7-----", 21) ||
	    val_memmem(p, n, "-----BEGIN CMS-----", 19)) {
		if ((cms = PEM_read_bio_CMS(b, NULL, NULL, NULL)) == NULL ||
		    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
			goto out;
		sk = CMS_get1_certs(cms);
		goto done;
	}
	if ((sk = sk_X509_new_null()) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = PV_E_NOMEM;
			goto out;
		}
	}
done:
	if (sk == NULL || sk_X509_num(sk) == 0)
		goto out;
	*out = sk;
	sk = NULL;
	r = PV_OK;
out:
	ERR_clear_error();
	sk_X509_pop_free(sk, X509_free);
	CMS_ContentInfo_free(cms);
	BIO_free(b);
	if (r == PV_E_NOMEM)
		return pv_why_set(why, r, "out of memory");
	if (r != PV_OK)
		return pv_why_set(why, r, "no certificate in it (expected PEM, "
		    "DER or a certs-only CMS/PKCS#7 bundle)");
	return PV_OK;
}

static bool
val_has_suffix(const char *name, const char *const *sfx, size_t n)
{
	size_t i, l = strlen(name);

	for (i = 0; i < n; i++) {
		size_t k = strlen(sfx[i]);

		if (l > k && strcasecmp(name + l - k, sfx[i]) == 0)
			return true;
	}
	return false;
}

/*
 * val_each_file calls |fn| on |path|, or on every file of the directory
 * |path| whose name ends in one of |sfx|, in name order.
 */
typedef enum pv_err val_file_fn(struct val_ctx *ctx, const char *path,
    void *arg, struct pv_why *why);

static int
val_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum pv_err
val_each_file(struct val_ctx *ctx, const char *path, const char *const *sfx,
    size_t n_sfx, val_file_fn *fn, void *arg, struct pv_why *why)
{
	struct stat st;
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, full[PATH_MAX];
	size_t n = 0, cap = 0, i;
	enum pv_err r = PV_OK;

	if (stat(path, &st) != 0)
		return pv_why_set(why, PV_E_NOT_FOUND, "%s: no such file or "
		    "directory", path);
	if (!S_ISDIR(st.st_mode))
		return fn(ctx, path, arg, why);
	if ((d = opendir(path)) == NULL)
		return pv_why_set(why, PV_E_IO, "%s: cannot read the directory",
		    path);
	while ((de = readdir(d)) != NULL) {
		char **grow;

		if (de->d_name[0] == '.' ||
		    !val_has_suffix(de->d_name, sfx, n_sfx))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grow = realloc(names, cap * sizeof(*grow))) ==
			    NULL) {
				r = pv_why_set(why, PV_E_NOMEM, "out of memory");
				goto out;
			}
			names = grow;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = pv_why_set(why, PV_E_NOMEM, "out of memory");
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), val_strcmp);
	for (i = 0; i < n && r == PV_OK; i++) {
		if (pkix_path_join(full, sizeof(full), path, names[i]) != PV_OK) {
			r = pv_why_set(why, PV_E_TOO_LONG, "%s/%s: path too long",
			    path, names[i]);
			break;
		}
		r = fn(ctx, full, arg, why);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static enum pv_err
val_add_certs_file(struct val_ctx *ctx, const char *path, void *arg,
    struct pv_why *why)
{
	bool untrusted = *(bool *)arg;
	STACK_OF(X509) *sk = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	enum pv_err r;
	int i;

	if ((r = pkix_read_file(path, 4u * 1024 * 1024, &buf, &n, why)) !=
	    PV_OK)
		return r;
	if ((r = val_certs_decode(buf, n, &sk, why)) != PV_OK) {
		pv_why_prefix(why, "%s", path);
		goto out;
	}
	for (i = 0; i < sk_X509_num(sk) && r == PV_OK; i++)
		r = untrusted ? val_ctx_add_untrusted(ctx, sk_X509_value(sk, i),
		    why) : val_ctx_add_anchor(ctx, sk_X509_value(sk, i), why);
out:
	sk_X509_pop_free(sk, X509_free);
	OPENSSL_free(buf);
	return r;
}

enum pv_err
val_ctx_add_certs_path(struct val_ctx *ctx, const char *path, bool untrusted,
    struct pv_why *why)
{
	static const char *const sfx[] = { ".pem", ".crt", ".cer", ".der",
	    ".p7c", ".p7b" };

	return val_each_file(ctx, path, sfx, sizeof(sfx) / sizeof(sfx[0]),
	    val_add_certs_file, &untrusted, why);
}

static enum pv_err
val_ctx_push_crl(struct val_ctx *ctx, struct val_crl *c, struct pv_why *why)
{
	struct val_crl **grow;

	if (ctx->n_crls == ctx->cap_crls) {
		size_t cap = ctx->cap_crls ? 2 * ctx->cap_crls : 8;

		if ((grow = realloc(ctx->crls, cap * sizeof(*grow))) == NULL) {
			val_crl_free(c);
			return pv_why_set(why, PV_E_NOMEM, "out of memory");
		}
		ctx->crls = grow;
		ctx->cap_crls = cap;
	}
	ctx->crls[ctx->n_crls++] = c;
	return PV_OK;
}

enum pv_err
val_ctx_add_crl(struct val_ctx *ctx, const uint8_t *p, size_t n,
    const char *source, struct pv_why *why)
{
	struct val_crl *c;
	enum pv_err r;

	if ((r = val_crl_new(p, n, source, &c, why)) != PV_OK)
		return r;
	return val_ctx_push_crl(ctx, c, why);
}

static enum pv_err
val_add_crl_file(struct val_ctx *ctx, const char *path, void *arg,
    struct pv_why *why)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	enum pv_err r;

	(void)arg;
	if ((r = pkix_read_file(path, ctx->o.crl_max_bytes, &buf, &n, why)) !=
	    PV_OK)
		return r;
	r = val_ctx_add_crl(ctx, buf, n, path, why);
	OPENSSL_free(buf);
	return r;
}

enum pv_err
val_ctx_add_crl_path(struct val_ctx *ctx, const char *path,
    struct pv_why *why)
{
	static const char *const sfx[] = { ".crl", ".pem", ".der" };

	return val_each_file(ctx, path, sfx, sizeof(sfx) / sizeof(sfx[0]),
	    val_add_crl_file, NULL, why);
}

/* ---- one run ------------------------------------------------------------------- */

struct val_status_memo *
val_run_memo(struct val_run *run, X509 *x, bool create)
{
	struct val_status_memo **grow, *m;
	size_t i;

	for (i = 0; i < run->n_memo; i++)
		if (X509_cmp(run->memo[i]->cert, x) == 0)
			return run->memo[i];
	if (!create)
		return NULL;
	if (run->n_memo == run->cap_memo) {
		size_t cap = run->cap_memo ? 2 * run->cap_memo : 8;

		if ((grow = realloc(run->memo, cap * sizeof(*grow))) == NULL)
			return NULL;
		run->memo = grow;
		run->cap_memo = cap;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (!X509_up_ref(x)) {
		free(m);
		return NULL;
	}
	m->cert = x;
	m->st = VAL_ST_UNKNOWN;
	m->reason = -1;
	run->memo[run->n_memo++] = m;
	return m;
}

bool
val_run_url_failed(const struct val_run *run, const char *url)
{
	size_t i;

	for (i = 0; i < run->n_failed; i++)
		if (strncmp(run->failed[i], url, sizeof(run->failed[i]) - 1) ==
		    0)
			return true;
	return false;
}

void
val_run_url_fail(struct val_run *run, const char *url)
{
	if (run->n_failed < sizeof(run->failed) / sizeof(run->failed[0]))
		val_sayf(run->failed[run->n_failed++],
		    sizeof(run->failed[0]), "%s", url);
}

static void
val_run_cleanup(struct val_run *run)
{
	size_t i;

	for (i = 0; i < run->n_memo; i++) {
		X509_free(run->memo[i]->cert);
		X509_free(run->memo[i]->issuer);
		free(run->memo[i]);
	}
	free(run->memo);
	sk_X509_pop_free(run->pool, X509_free);
	sk_X509_pop_free(run->chain, X509_free);
	X509_free(run->anchor);
}

/* ---- the checks ------------------------------------------------------------------ */

static bool
val_err_is_policy(int err)
{
	return err == X509_V_ERR_NO_EXPLICIT_POLICY ||
	    err == X509_V_ERR_INVALID_POLICY_EXTENSION;
}

static void
val_id(char *out, size_t cap, const struct val_params *p, const char *id)
{
	val_sayf(out, cap, "%s%s", p->id_prefix != NULL ? p->id_prefix :
	    "", id);
}

static void
val_policy_inputs(const struct val_params *p, char *out, size_t cap)
{
	size_t off = 0;
	unsigned i;

	out[0] = '\0';
	if (p->n_policies == 0)
		off += (size_t)snprintf(out, cap, "acceptable: any policy");
	for (i = 0; i < p->n_policies && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
		    i == 0 ? "acceptable: " : ", ", p->policies[i]);
	if (off < cap)
		val_sayf(out + off, cap - off, "%s%s%s",
		    p->explicit_policy ? "; explicit policy required" : "",
		    p->inhibit_any ? "; anyPolicy inhibited" : "",
		    p->inhibit_mapping ? "; policy mapping inhibited" : "");
}

static void
val_revocation_checks(struct val_run *run, struct val_report *rep)
{
	const struct val_params *p = run->p;
	const char *what = p->what != NULL ? p->what : "certificate";
	char id[VAL_ID_MAX], name[VAL_NAME_MAX], subj[VAL_SUBJECT_MAX];
	char when[32];
	int n = sk_X509_num(run->chain), i;

	/* From just below the anchor down to the target: a CA's status is
	 * known before the certificates it signed need it. */
	for (i = n - 2; i >= 0; i--) {
		X509 *x = sk_X509_value(run->chain, i);
		X509 *iss = sk_X509_value(run->chain, i + 1);
		struct val_status_memo *m;
		enum val_status st;

		if (i == 0) {
			val_id(id, sizeof(id), p, "revocation");
			val_sayf(name, sizeof(name), "%s not revoked",
			    what);
		} else {
			char k[24];

			val_sayf(k, sizeof(k), "revocation.ca%d", i);
			val_id(id, sizeof(id), p, k);
			val_sayf(name, sizeof(name), "CA certificate %d "
			    "not revoked", i);
		}
		val_subject(x, subj, sizeof(subj));
		if (p->rev_mode == VAL_REV_NONE) {
			val_report_add(rep, id, name, VAL_SKIP, "%s: revocation "
			    "not checked ([revocation] mode = none)", subj);
			continue;
		}
		m = val_rev_cert(run, x, iss, i == 0);
		if (m == NULL) {
			val_report_add(rep, id, name, VAL_FAIL, "%s: out of "
			    "memory", subj);
			continue;
		}
		switch (m->st) {
		case VAL_ST_GOOD:
			st = VAL_PASS;
			break;
		case VAL_ST_REVOKED:
			st = VAL_FAIL;
			if (i == 0) {
				rep->revoked = true;
				rep->revoked_at = m->revoked_at;
				rep->revoked_reason = m->reason;
			}
			break;
		case VAL_ST_NOT_PUBLISHED:
			st = p->ca_status_required ? (p->soft_fail ? VAL_WARN :
			    VAL_FAIL) : VAL_PASS;
			break;
		default:
			st = p->soft_fail ? VAL_WARN : VAL_FAIL;
			break;
		}
		if (m->st == VAL_ST_REVOKED) {
			text_utc(m->revoked_at, when);
			val_report_add(rep, id, name, st, "%s: REVOKED on %s, "
			    "reason %s; %s", subj, when,
			    val_reason_name(m->reason), m->text);
		} else if (st == VAL_WARN) {
			val_report_add(rep, id, name, st, "%s: status unknown, "
			    "accepted because [revocation] failure = soft "
			    "(soft-fail): %s", subj, m->text);
		} else if (st == VAL_FAIL) {
			val_report_add(rep, id, name, st, "%s: status unknown, "
			    "refused (hard-fail): %s", subj, m->text);
		} else if (m->st == VAL_ST_NOT_PUBLISHED) {
			val_report_add(rep, id, name, st, "%s: not checked, its "
			    "issuer publishes no revocation information for it "
			    "(accepted: [revocation] ca_certificates = "
			    "if_published)", subj);
		} else {
			val_report_add(rep, id, name, st, "%s: %s", subj,
			    m->text);
		}
	}
}

enum pv_err
val_cert(struct val_ctx *ctx, X509 *target, STACK_OF(X509) *extra,
    const struct val_params *p, struct val_report *rep, struct pv_why *why)
{
	struct val_run run;
	STACK_OF(X509) *chain = NULL;
	const char *what = p->what != NULL ? p->what : "certificate";
	char id[VAL_ID_MAX], msg[VAL_TEXT_MAX], pol[VAL_TEXT_MAX];
	char subj[VAL_SUBJECT_MAX], at[32];
	int err = 0, depth = 0, i;
	enum pv_err r;

	memset(&run, 0, sizeof(run));
	run.ctx = ctx;
	run.p = p;
	if ((run.pool = sk_X509_new_null()) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(ctx->untrusted); i++)
		if ((r = val_push(run.pool, val_subst_for(ctx,
		    sk_X509_value(ctx->untrusted, i)), why)) != PV_OK)
			goto out;
	for (i = 0; extra != NULL && i < sk_X509_num(extra); i++)
		if ((r = val_push(run.pool, val_subst_for(ctx,
		    sk_X509_value(extra, i)), why)) != PV_OK)
			goto out;
	text_utc(p->at, at);
	val_subject(target, subj, sizeof(subj));
	val_policy_inputs(p, pol, sizeof(pol));
	if ((r = val_path_verify(&run, val_subst_for(ctx, target), true, &chain,
	    &err, &depth, msg, sizeof(msg), rep->policy_set,
	    sizeof(rep->policy_set))) != PV_OK)
		goto out;
	if (err != X509_V_OK && !val_err_is_policy(err)) {
		val_id(id, sizeof(id), p, "path");
		val_report_add(rep, id, "path to a trust anchor", VAL_FAIL,
		    "%s (%s) at %s: %s", what, subj, at, msg);
		val_id(id, sizeof(id), p, "policy");
		val_report_add(rep, id, "certificate policy", VAL_SKIP,
		    "not checked: no valid path (%s)", pol);
		val_id(id, sizeof(id), p, "revocation");
		val_report_add(rep, id, "not revoked", VAL_SKIP,
		    "not checked: no valid path");
		r = PV_OK;
		goto out;
	}
	/* A path was built (a policy failure comes last in OpenSSL's order,
	 * so everything else on the path passed). */
	run.chain = chain;
	chain = NULL;
	run.anchor = sk_X509_value(run.chain, sk_X509_num(run.chain) - 1);
	if (!X509_up_ref(run.anchor)) {
		run.anchor = NULL;
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	rep->chain_len = 0;
	for (i = 0; i < sk_X509_num(run.chain) && i < VAL_CHAIN_MAX; i++)
		val_subject(sk_X509_value(run.chain, i),
		    rep->chain[rep->chain_len++], VAL_SUBJECT_MAX);
	{
		char path[VAL_TEXT_MAX];
		size_t off = 0;

		path[0] = '\0';
		for (i = sk_X509_num(run.chain) - 1; i >= 0 &&
		    off < sizeof(path); i--) {
			char s[VAL_SUBJECT_MAX];

			val_subject(sk_X509_value(run.chain, i), s, sizeof(s));
			off += (size_t)snprintf(path + off, sizeof(path) - off,
			    "%s%s", off ? " -> " : "", s);
		}
		val_id(id, sizeof(id), p, "path");
		val_report_add(rep, id, "path to a trust anchor", VAL_PASS,
		    "valid at %s: %s", at, path);
	}
	val_id(id, sizeof(id), p, "policy");
	if (val_err_is_policy(err))
		val_report_add(rep, id, "certificate policy", VAL_FAIL,
		    "%s; %s", pol, msg);
	else
		val_report_add(rep, id, "certificate policy", VAL_PASS,
		    "%s; valid for %s", pol, rep->policy_set[0] ?
		    rep->policy_set : "no policy (none required)");
	val_revocation_checks(&run, rep);
	r = PV_OK;
out:
	sk_X509_pop_free(chain, X509_free);
	val_run_cleanup(&run);
	ERR_clear_error();
	return r;
}
