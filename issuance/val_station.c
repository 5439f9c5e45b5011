/*
 * val_station.c: the validator from the station configuration
 * (val_station.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "issuance/ca.h"
#include "issuance/val_int.h"
#include "issuance/val_station.h"

void
val_station_opts_init(struct val_station_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rev_mode = -1;
	o->soft_fail = -1;
	o->ca_required = -1;
}

/* |p| as given when absolute or with no home, else under the home. */
static void
val_st_path(const struct home *h, const char *p, char *out, size_t cap)
{
	if (p[0] == '/' || h == NULL)
		val_sayf(out, cap, "%s", p);
	else
		val_sayf(out, cap, "%s/%s", h->dir, p);
}

static bool
val_st_home_file(const struct home *h, const char *name, char *out,
    size_t cap)
{
	if (h == NULL || snprintf(out, cap, "%s/%s/%s", h->dir, HOME_CA_DIR,
	    name) >= (int)cap)
		return false;
	return access(out, R_OK) == 0;
}

static void
val_st_oids(struct val_params *p, const struct config_oids *o)
{
	unsigned i;

	p->n_policies = 0;
	for (i = 0; i < o->n && i < CONFIG_OIDS_MAX && i < VAL_POLICIES_MAX; i++)
		val_sayf(p->policies[p->n_policies++], VAL_OID_MAX, "%s",
		    o->oid[i]);
}

enum pv_err
val_station_open(const struct station *st, const struct val_station_opts *o_in,
    struct val_station *vs, struct pv_why *why)
{
	struct pv_config defaults;
	const struct pv_config *cfg = NULL;
	const struct home *h = NULL;
	struct val_station_opts none;
	const struct val_station_opts *o = o_in;
	struct val_opts vo;
	struct val_params base;
	char path[HOME_PATH_MAX + 300];
	unsigned i;
	size_t k;
	enum pv_err r;

	memset(vs, 0, sizeof(*vs));
	if (st != NULL && station_has_config_file(st)) {
		cfg = station_config(st);
		h = station_home(st);
	} else {
		config_defaults(&defaults);
		cfg = &defaults;
	}
	if (o == NULL) {
		val_station_opts_init(&none);
		o = &none;
	}
	val_opts_defaults(&vo);
	if (cfg->rev_fetch && !o->no_fetch) {
		if ((r = val_http_fetcher(&vs->fetcher, cfg->rev_timeout_ms,
		    why)) != PV_OK)
			return r;
		vs->have_fetcher = true;
		vo.fetcher = &vs->fetcher;
	}
	if (o->cache_dir != NULL)
		val_sayf(vo.cache_dir, sizeof(vo.cache_dir), "%s",
		    o->cache_dir);
	else if (cfg->rev_cache_dir[0] != '\0')
		val_st_path(h, cfg->rev_cache_dir, vo.cache_dir,
		    sizeof(vo.cache_dir));
	else if (h != NULL)
		val_sayf(vo.cache_dir, sizeof(vo.cache_dir), "%s/cache",
		    h->dir);
	vo.crl_max_bytes = (size_t)cfg->rev_crl_max_kib * 1024;
	vo.aia_cache_hours = cfg->rev_aia_cache_hours;
	vo.clock_skew_s = cfg->rev_clock_skew_s;
	vo.ocsp_max_age_s = cfg->rev_ocsp_max_age_min * 60;
	vo.ocsp_nonce_required = cfg->rev_nonce_required;
	vo.refresh = o->refresh;
	if ((r = val_ctx_new(&vo, &vs->ctx, why)) != PV_OK)
		goto fail;

	/* Anchors. */
	if (o->n_anchors > 0) {
		for (k = 0; k < o->n_anchors; k++)
			if ((r = val_ctx_add_certs_path(vs->ctx, o->anchors[k],
			    false, why)) != PV_OK)
				goto fail;
		val_sayf(vs->anchors_from, sizeof(vs->anchors_from),
		    "--anchor");
	} else if (cfg->trust_anchors.n > 0) {
		for (i = 0; i < cfg->trust_anchors.n; i++) {
			val_st_path(h, cfg->trust_anchors.path[i], path,
			    sizeof(path));
			if ((r = val_ctx_add_certs_path(vs->ctx, path, false,
			    why)) != PV_OK) {
				pv_why_prefix(why, "[trust] anchors");
				goto fail;
			}
		}
		val_sayf(vs->anchors_from, sizeof(vs->anchors_from),
		    "[trust] anchors");
	} else if (val_st_home_file(h, CA_FILE_ROOT_CRT, path, sizeof(path))) {
		if ((r = val_ctx_add_certs_path(vs->ctx, path, false, why)) !=
		    PV_OK)
			goto fail;
		val_sayf(vs->anchors_from, sizeof(vs->anchors_from),
		    "the station CA's root (%.250s)", path);
	}
	if (val_ctx_n_anchors(vs->ctx) == 0) {
		r = pv_why_set(why, PV_E_CONFIG, "no trust anchor: give "
		    "--anchor FILE, set [trust] anchors, or create the station "
		    "CA ('pivstation ca init')");
		goto fail;
	}

	/* Intermediates. */
	for (k = 0; k < o->n_untrusted; k++)
		if ((r = val_ctx_add_certs_path(vs->ctx, o->untrusted[k], true,
		    why)) != PV_OK)
			goto fail;
	if (cfg->trust_intermediates.n > 0) {
		for (i = 0; i < cfg->trust_intermediates.n; i++) {
			val_st_path(h, cfg->trust_intermediates.path[i], path,
			    sizeof(path));
			if ((r = val_ctx_add_certs_path(vs->ctx, path, true,
			    why)) != PV_OK) {
				pv_why_prefix(why, "[trust] intermediates");
				goto fail;
			}
		}
	} else if (o->n_anchors == 0 && val_st_home_file(h,
	    CA_FILE_ISSUING_CRT, path, sizeof(path))) {
		if ((r = val_ctx_add_certs_path(vs->ctx, path, true, why)) !=
		    PV_OK)
			goto fail;
	}

	/* CRLs. */
	for (k = 0; k < o->n_crls; k++)
		if ((r = val_ctx_add_crl_path(vs->ctx, o->crls[k], why)) !=
		    PV_OK)
			goto fail;
	for (i = 0; i < cfg->rev_crl_files.n; i++) {
		val_st_path(h, cfg->rev_crl_files.path[i], path, sizeof(path));
		if ((r = val_ctx_add_crl_path(vs->ctx, path, why)) != PV_OK) {
			pv_why_prefix(why, "[revocation] crl_files");
			goto fail;
		}
	}
	if (cfg->rev_station_crl && val_st_home_file(h, CA_FILE_CRL_DER, path,
	    sizeof(path)) && (r = val_ctx_add_crl_path(vs->ctx, path, why)) !=
	    PV_OK)
		goto fail;

	/* Parameters. */
	val_params_defaults(&base);
	base.rev_mode = cfg->rev_mode == CONFIG_REV_BOTH ? VAL_REV_BOTH :
	    cfg->rev_mode == CONFIG_REV_CRL_ONLY ? VAL_REV_CRL_ONLY :
	    VAL_REV_OCSP_THEN_CRL;
	if (o->rev_mode >= 0)
		base.rev_mode = (enum val_rev_mode)o->rev_mode;
	base.soft_fail = o->soft_fail >= 0 ? o->soft_fail == 1 :
	    cfg->rev_soft_fail;
	base.ca_status_required = o->ca_required >= 0 ? o->ca_required == 1 :
	    cfg->rev_ca_required;
	vs->plain = base;
	vs->auth = base;
	val_st_oids(&vs->auth, cfg->val_auth_policies.n > 0 ?
	    &cfg->val_auth_policies : &cfg->policy[CONFIG_SLOT_9A]);
	vs->auth.explicit_policy = cfg->val_explicit_policy;
	vs->auth.inhibit_any = cfg->val_inhibit_any;
	vs->auth.inhibit_mapping = cfg->val_inhibit_mapping;
	vs->signer = vs->auth;
	val_st_oids(&vs->signer, cfg->val_signer_policies.n > 0 ?
	    &cfg->val_signer_policies : &cfg->policy_content_signer);
	vs->expiry_margin_days = cfg->val_expiry_margin_days;
	vs->card_auth = cfg->val_card_auth;
	return PV_OK;
fail:
	val_station_close(vs);
	return r;
}

void
val_station_close(struct val_station *vs)
{
	if (vs == NULL)
		return;
	val_ctx_free(vs->ctx);
	vs->ctx = NULL;
	if (vs->have_fetcher)
		val_http_fetcher_free(&vs->fetcher);
	vs->have_fetcher = false;
}
