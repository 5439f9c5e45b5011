/*
 * ca.c: create, import, load and use the station's CA (see ca.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "apdu/buf.h"
#include "issuance/ca.h"
#include "issuance/secret.h"
#include "issuance/config.h"

struct ca {
	char dir[PATH_MAX];
	X509 *root;
	X509 *issuing;
	X509 *signer;
	X509 *kra;
	X509 *ocsp;		/* the OCSP responder's: NULL when none */
	STACK_OF(X509) *chain;	/* issuing CA first, root last */
	EVP_PKEY *issuing_key;
	EVP_PKEY *signer_key;
	EVP_PKEY *ocsp_key;
};

#define CA_DAY	(24 * 60 * 60)
#define CA_FILE_MAX (1024 * 1024)

void
ca_init_params_defaults(struct ca_init_params *p)
{
	memset(p, 0, sizeof(*p));
	(void)pkix_dn_add(&p->name, "O", "PIV Station", NULL);
	p->root_alg = PKIX_ALG_P256;
	p->issuing_alg = PKIX_ALG_P256;
	p->signer_alg = PKIX_ALG_P256;
	p->kra_alg = PKIX_ALG_P256;
	p->policies = PKIX_POLICIES_TEST;
}

/* ca_add_oid appends to a fixed list unless present; false when full. */
static bool
ca_add_oid(char list[][PKIX_OID_MAX], unsigned *n, const char *oid)
{
	unsigned i;

	for (i = 0; i < *n; i++)
		if (strcmp(list[i], oid) == 0)
			return true;
	if (*n >= CA_POLICIES_MAX || strlen(oid) >= PKIX_OID_MAX)
		return false;
	memcpy(list[*n], oid, strlen(oid) + 1);
	(*n)++;
	return true;
}

enum pv_err
ca_params_from_config(const struct pv_config *cfg, struct ca_init_params *p,
    struct pv_why *why)
{
	enum pkix_alg alg = pkix_alg_from_piv((unsigned)cfg->ca_alg);
	unsigned i, s;
	enum pv_err r;

	ca_init_params_defaults(p);
	if (alg == PKIX_ALG_NONE)
		return pv_why_set(why, PV_E_CONFIG, "[ca] algorithm: unknown");
	p->root_alg = p->issuing_alg = p->signer_alg = p->kra_alg = alg;
	p->root_days = cfg->ca_root_days;
	p->issuing_days = cfg->ca_issuing_days;
	p->signer_days = cfg->ca_signer_days;
	p->kra_days = cfg->ca_kra_days;
	memset(&p->name, 0, sizeof(p->name));
	for (i = 0; i < cfg->ca_name.n && i < CONFIG_DN_MAX_RDN; i++) {
		if ((r = pkix_dn_add(&p->name, cfg->ca_name.rdn[i].type,
		    cfg->ca_name.rdn[i].value, why)) != PV_OK) {
			pv_why_prefix(why, "[ca] name");
			return PV_E_CONFIG;
		}
	}
	p->policies = cfg->policy_set == CONFIG_POLICY_PRODUCTION ?
	    PKIX_POLICIES_PRODUCTION : PKIX_POLICIES_TEST;
	for (i = 0; i < cfg->policy_content_signer.n && i < CONFIG_OIDS_MAX; i++)
		if (!ca_add_oid(p->signer_policies, &p->n_signer_policies,
		    cfg->policy_content_signer.oid[i]))
			return pv_why_set(why, PV_E_CONFIG,
			    "[policy] content signer: too many OIDs");
	for (s = 0; s < CONFIG_N_SLOTS; s++)
		for (i = 0; i < cfg->policy[s].n && i < CONFIG_OIDS_MAX; i++)
			if (!ca_add_oid(p->extra_policies, &p->n_extra_policies,
			    cfg->policy[s].oid[i]))
				return pv_why_set(why, PV_E_CONFIG,
				    "[policy]: too many OIDs");
	/* Derived credentials' certificates chain through it too. */
	for (s = 0; s < CONFIG_N_DP; s++)
		for (i = 0; i < cfg->derive_policy[s].n && i < CONFIG_OIDS_MAX;
		    i++)
			if (!ca_add_oid(p->extra_policies, &p->n_extra_policies,
			    cfg->derive_policy[s].oid[i]))
				return pv_why_set(why, PV_E_CONFIG,
				    "[derive]: too many policy OIDs");
	p->crl_url = cfg->crl_url[0] != '\0' ? cfg->crl_url : NULL;
	p->ca_issuers_url = cfg->ca_issuers_url[0] != '\0' ?
	    cfg->ca_issuers_url : NULL;
	p->services = CA_SVC_OCSP;
	p->ocsp_alg = pkix_alg_from_piv((unsigned)cfg->ca_ocsp_alg);
	p->ocsp_days = cfg->ca_ocsp_days;
	return PV_OK;
}

static enum pkix_alg
ca_alg(enum pkix_alg a)
{
	return a == PKIX_ALG_NONE ? PKIX_ALG_P256 : a;
}

static unsigned
ca_days(unsigned v, unsigned def)
{
	return v == 0 ? def : v;
}

/* ca_not_after converts a certificate's notAfter to time_t. */
static enum pv_err
ca_not_after(const X509 *x, time_t *out, struct pv_why *why)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
		return pkix_crypto_err(why, "certificate notAfter");
	*out = timegm(&tm);
	return PV_OK;
}

/* ---- writing ---------------------------------------------------------------- */

static enum pv_err
ca_write_cert(const char *dir, const char *name, const X509 *x,
    struct pv_why *why)
{
	char path[PATH_MAX], *pem = NULL;
	size_t n = 0;
	enum pv_err r;

	if (pkix_path_join(path, sizeof(path), dir, name) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	if ((r = pkix_cert_to_pem(x, &pem, &n, why)) == PV_OK)
		r = pkix_write_file(path, pem, n, false, why);
	OPENSSL_free(pem);
	return r;
}

static enum pv_err
ca_write_key(const char *dir, const char *name, EVP_PKEY *key,
    const struct pkix_pass *pass, struct pv_why *why)
{
	char path[PATH_MAX], *pem = NULL;
	size_t n = 0;
	enum pv_err r;

	if (pkix_path_join(path, sizeof(path), dir, name) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	if ((r = pkix_key_to_encrypted_pem(key, pass->v, pass->len, &pem, &n,
	    why)) == PV_OK)
		r = pkix_write_file(path, pem, n, false, why);
	if (pem != NULL)
		OPENSSL_clear_free(pem, n);
	return r;
}

static enum pv_err
ca_write_chain(const char *dir, STACK_OF(X509) *chain, struct pv_why *why)
{
	char path[PATH_MAX], *all = NULL;
	BIO *b = NULL;
	size_t n = 0;
	int i;
	enum pv_err r = PV_E_INTERNAL;

	if (pkix_path_join(path, sizeof(path), dir, CA_FILE_CHAIN) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto crypto;
	for (i = 0; i < sk_X509_num(chain); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(chain, i)))
			goto crypto;
	n = (size_t)BIO_get_mem_data(b, &all);
	r = pkix_write_file(path, all, n, false, why);
	goto out;
crypto:
	r = pkix_crypto_err(why, "writing the chain");
out:
	BIO_free(b);
	return r;
}

/* ca_rmtree_flat removes the files in |dir| (one level) and |dir|. */
static void
ca_rmtree_flat(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (pkix_path_join(path, sizeof(path), dir, de->d_name) ==
			    PV_OK)
				(void)unlink(path);
		}
		(void)closedir(d);
	}
	(void)rmdir(dir);
}

/* ca_dir_free_for_init: PV_OK if |dir| is absent or an empty folder. */
static enum pv_err
ca_dir_free_for_init(const char *dir, struct pv_why *why)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	bool empty = true;

	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return PV_OK;
		return pv_why_set(why, PV_E_IO, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return pv_why_set(why, PV_E_EXISTS, "%s exists and is not a folder",
		    dir);
	if ((d = opendir(dir)) == NULL)
		return pv_why_set(why, PV_E_IO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	(void)closedir(d);
	if (!empty)
		return pv_why_set(why, PV_E_EXISTS,
		    "a CA already exists in %s (remove it first to start over)",
		    dir);
	return PV_OK;
}

static enum pv_err
ca_tmpdir(const char *dir, char *out, size_t cap, struct pv_why *why)
{
	/* mkdtemp makes it 0700 less the umask: chmod makes it exactly that,
	 * without umask(), which is process-wide. */
	if (snprintf(out, cap, "%s.new-XXXXXX", dir) >= (int)cap)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	if (mkdtemp(out) == NULL || chmod(out, 0700) != 0)
		return pv_why_set(why, PV_E_IO, "%s: %s", out, strerror(errno));
	return PV_OK;
}

static enum pv_err
ca_commit_dir(const char *tmp, const char *dir, struct pv_why *why)
{
	char parent[PATH_MAX], *slash;
	int fd;

	if (rename(tmp, dir) != 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			return pv_why_set(why, PV_E_EXISTS,
			    "a CA was created in %s meanwhile", dir);
		return pv_why_set(why, PV_E_IO, "%s: %s", dir, strerror(errno));
	}
	/* make the rename itself durable */
	(void)snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) != NULL) {
		*(slash == parent ? slash + 1 : slash) = '\0';
		if ((fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			(void)fsync(fd);
			(void)close(fd);
		}
	}
	return PV_OK;
}

/* ---- building --------------------------------------------------------------- */

static void ca_service_set(struct ca *ca, enum ca_service kind, X509 *x,
    EVP_PKEY *k);

static enum pv_err
ca_check_passes(const struct pkix_pass *pass, const struct pkix_pass *kra_pass,
    struct pv_why *why)
{
	enum pv_err r;

	if ((r = pkix_pass_check_new(pass, "CA passphrase", why)) != PV_OK)
		return r;
	return pkix_pass_check_new(kra_pass, "KRA passphrase", why);
}

static enum pv_err
ca_check_params(const struct ca_init_params *p, struct pv_why *why)
{
	X509_NAME *n = NULL;
	enum pv_err r;
	unsigned i;

	if (p->name.n == 0 || p->name.n >= PKIX_DN_MAX_RDN)
		return pv_why_set(why, PV_E_INPUT,
		    "CA name: 1 to %d attributes (it names the CA certificates)",
		    PKIX_DN_MAX_RDN - 1);
	if (pkix_dn_get(&p->name, "CN") != NULL)
		return pv_why_set(why, PV_E_INPUT,
		    "CA name: leave CN out, each CA certificate adds its own");
	if ((r = pkix_dn_to_name(&p->name, &n, why)) != PV_OK) {
		pv_why_prefix(why, "CA name");
		return r;
	}
	X509_NAME_free(n);
	if (pkix_dn_get(&p->name, "O") != NULL &&
	    strlen(pkix_dn_get(&p->name, "O")) > 40)
		return pv_why_set(why, PV_E_INPUT,
		    "CA name: O at most 40 characters (CNs are built from it)");
	if (p->n_signer_policies > CA_POLICIES_MAX ||
	    p->n_extra_policies > CA_POLICIES_MAX)
		return pv_why_set(why, PV_E_INPUT, "too many policy OIDs");
	for (i = 0; i < p->n_signer_policies; i++)
		if (!pkix_oid_valid(p->signer_policies[i]))
			return pv_why_set(why, PV_E_INPUT,
			    "content signer policy '%s' is not an OID",
			    p->signer_policies[i]);
	for (i = 0; i < p->n_extra_policies; i++)
		if (!pkix_oid_valid(p->extra_policies[i]))
			return pv_why_set(why, PV_E_INPUT,
			    "policy '%s' is not an OID", p->extra_policies[i]);
	if (p->signer_days > CA_DAYS_SIGNER)
		return pv_why_set(why, PV_E_INPUT,
		    "content signer lifetime %u days: at most %u (9 years)",
		    p->signer_days, CA_DAYS_SIGNER);
	return PV_OK;
}

/* ca_make_name: the configured prefix, then CN = "<O> <what>". */
static enum pv_err
ca_make_name(const struct ca_init_params *p, const char *what,
    X509_NAME **out, struct pv_why *why)
{
	struct pkix_dn dn = p->name;
	const char *o = pkix_dn_get(&p->name, "O");
	char cn[PKIX_DN_VALUE_MAX];
	enum pv_err r;

	(void)snprintf(cn, sizeof(cn), "%s%s%s", o ? o : "", o ? " " : "", what);
	if ((r = pkix_dn_add(&dn, "CN", cn, why)) != PV_OK)
		return r;
	return pkix_dn_to_name(&dn, out, why);
}

/* ca_pol_add appends |oid| to |pol| unless it is there already. */
static size_t
ca_pol_add(const char **pol, size_t n, const char *oid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pol[i], oid) == 0)
			return n;
	pol[n] = oid;
	return n + 1;
}

/*
 * ca_issuing_policies lists every PIV policy of the set, the signer's and
 * the extra ones into |pol| (room for PKIX_POLICY__COUNT + 2 *
 * CA_POLICIES_MAX): what the issuing CA asserts, and the OCSP responder
 * (authoritative for all of them, worksheet 20).
 */
static size_t
ca_issuing_policies(const struct ca_init_params *p, const char **pol)
{
	size_t n_pol = 0, i, j;

	for (i = 0; i < PKIX_POLICY__COUNT; i++)
		n_pol = ca_pol_add(pol, n_pol, pkix_policy_oid(p->policies,
		    (enum pkix_policy_role)i));
	for (j = 0; j < p->n_signer_policies && j < CA_POLICIES_MAX; j++)
		n_pol = ca_pol_add(pol, n_pol, p->signer_policies[j]);
	for (j = 0; j < p->n_extra_policies && j < CA_POLICIES_MAX; j++)
		n_pol = ca_pol_add(pol, n_pol, p->extra_policies[j]);
	return n_pol;
}

/*
 * ca_make_cert issues one CA-side certificate.  |issuer| NULL means
 * self-signed with |key|; otherwise signed by |issuer_key|.
 */
enum ca_kind { CA_KIND_ROOT, CA_KIND_ISSUING, CA_KIND_SIGNER, CA_KIND_KRA };

static enum pv_err
ca_make_cert(enum ca_kind kind, const struct ca_init_params *p,
    EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, time_t now,
    time_t not_after, X509 **out, struct pv_why *why)
{
	static const char *const what[] = {
		"Root CA", "PIV Issuing CA", "PIV Content Signer",
		"Key Recovery Agent"
	};
	const char *pol[PKIX_POLICY__COUNT + 2 * CA_POLICIES_MAX];
	size_t n_pol = 0, j;
	const char *eku[1];
	uint8_t serial[PKIX_SERIAL_LEN];
	X509_NAME *name = NULL;
	X509 *x = NULL;
	enum pkix_alg alg;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if ((r = ca_make_name(p, what[kind], &name, why)) != PV_OK ||
	    (r = pkix_random_serial(serial, why)) != PV_OK ||
	    (r = pkix_cert_new(key, name, issuer, serial, sizeof(serial), now,
	    not_after, &x, why)) != PV_OK)
		goto out;
	switch (kind) {
	case CA_KIND_ROOT:
		if ((r = pkix_ext_basic_constraints(x, true, -1, why)) != PV_OK ||
		    (r = pkix_ext_key_usage(x, PKIX_KU_KEY_CERT_SIGN |
		    PKIX_KU_CRL_SIGN, why)) != PV_OK)
			goto out;
		break;
	case CA_KIND_ISSUING:
		/* Every PIV policy of the set, so paths validate with
		 * -policy <OID> -explicit_policy for each slot profile. */
		n_pol = ca_issuing_policies(p, pol);
		if ((r = pkix_ext_basic_constraints(x, true, 0, why)) != PV_OK ||
		    (r = pkix_ext_key_usage(x, PKIX_KU_KEY_CERT_SIGN |
		    PKIX_KU_CRL_SIGN, why)) != PV_OK ||
		    (r = pkix_ext_policies(x, pol, n_pol, why)) != PV_OK)
			goto out;
		break;
	case CA_KIND_SIGNER:
		/* PIV-REFERENCE §7.3, fpki-guides worksheet 17. */
		if (p->n_signer_policies == 0)
			n_pol = ca_pol_add(pol, n_pol, pkix_policy_oid(
			    p->policies, PKIX_POLICY_CONTENT_SIGNING));
		for (j = 0; j < p->n_signer_policies && j < CA_POLICIES_MAX;
		    j++)
			n_pol = ca_pol_add(pol, n_pol, p->signer_policies[j]);
		eku[0] = PKIX_OID_PIV_CONTENT_SIGNING;
		if ((r = pkix_ext_key_usage(x, PKIX_KU_DIGITAL_SIGNATURE,
		    why)) != PV_OK ||
		    (r = pkix_ext_eku(x, eku, 1, true, why)) != PV_OK ||
		    (r = pkix_ext_policies(x, pol, n_pol, why)) != PV_OK)
			goto out;
		break;
	case CA_KIND_KRA:
		if ((r = pkix_key_alg(key, &alg, why)) != PV_OK ||
		    (r = pkix_ext_key_usage(x, pkix_alg_is_rsa(alg) ?
		    PKIX_KU_KEY_ENCIPHERMENT : PKIX_KU_KEY_AGREEMENT, why)) !=
		    PV_OK)
			goto out;
		break;
	}
	if (kind == CA_KIND_SIGNER || kind == CA_KIND_KRA) {
		if ((r = pkix_ext_aia(x, p->ca_issuers_url, NULL, why)) !=
		    PV_OK ||
		    (r = pkix_ext_crldp(x, p->crl_url, why)) != PV_OK)
			goto out;
	}
	if (issuer != NULL) {
		if ((r = pkix_ext_aki(x, issuer, why)) != PV_OK ||
		    (r = pkix_sign(x, issuer_key, why)) != PV_OK)
			goto out;
	} else {
		if ((r = pkix_ext_aki(x, x, why)) != PV_OK ||
		    (r = pkix_sign(x, key, why)) != PV_OK)
			goto out;
	}
	if ((r = pkix_x509_refresh(&x, why)) != PV_OK)
		goto out;
	*out = x;
	x = NULL;
	r = PV_OK;
out:
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

/* ca_build_services makes the service certificates |p| asks for. */
static enum pv_err
ca_build_services(struct ca *ca, const struct ca_init_params *p, time_t now,
    struct pv_why *why)
{
	static const enum ca_service kinds[] = { CA_SVC_OCSP };
	struct ca_service_params sp;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	enum pv_err r;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!(p->services & (unsigned)kinds[i]))
			continue;
		ca_service_params_init(&sp, kinds[i], p);
		if ((r = ca_service_make(ca, p, &sp, now, &x, &k, why)) !=
		    PV_OK) {
			pv_why_prefix(why, "%s certificate",
			    ca_service_name(kinds[i]));
			return r;
		}
		ca_service_set(ca, kinds[i], x, k);
	}
	return PV_OK;
}

/*
 * ca_build_leaves adds a content signer and a KRA under ca->issuing, and
 * the service certificates asked for; the KRA private key goes to
 * *kra_key (owned by the caller).
 */
static enum pv_err
ca_build_leaves(struct ca *ca, const struct ca_init_params *p, time_t now,
    EVP_PKEY **kra_key, struct pv_why *why)
{
	EVP_PKEY *k = NULL;
	time_t ca_end, end;
	enum pv_err r;

	*kra_key = NULL;
	if ((r = ca_not_after(ca->issuing, &ca_end, why)) != PV_OK)
		goto out;
	if (ca_end <= now + CA_DAY) {
		r = pv_why_set(why, PV_E_INPUT,
		    "the issuing CA certificate expires within a day");
		goto out;
	}
	if ((r = pkix_keygen(ca_alg(p->signer_alg), &ca->signer_key, why)) !=
	    PV_OK ||
	    (r = pkix_keygen(ca_alg(p->kra_alg), &k, why)) != PV_OK)
		goto out;
	end = now + (time_t)ca_days(p->signer_days, CA_DAYS_SIGNER) * CA_DAY;
	if (end > ca_end)
		end = ca_end;
	if ((r = ca_make_cert(CA_KIND_SIGNER, p, ca->signer_key, ca->issuing,
	    ca->issuing_key, now, end, &ca->signer, why)) != PV_OK)
		goto out;
	end = now + (time_t)ca_days(p->kra_days, CA_DAYS_KRA) * CA_DAY;
	if (end > ca_end)
		end = ca_end;
	if ((r = ca_make_cert(CA_KIND_KRA, p, k, ca->issuing, ca->issuing_key,
	    now, end, &ca->kra, why)) != PV_OK)
		goto out;
	if ((r = ca_build_services(ca, p, now, why)) != PV_OK)
		goto out;
	*kra_key = k;
	k = NULL;
	r = PV_OK;
out:
	EVP_PKEY_free(k);
	return r;
}

enum pv_err
ca_new(const struct ca_init_params *p, time_t now, struct ca **out,
    EVP_PKEY **root_key, EVP_PKEY **kra_key, struct pv_why *why)
{
	struct ca *ca = NULL;
	EVP_PKEY *rk = NULL, *kk = NULL;
	time_t root_end, end;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if (root_key != NULL)
		*root_key = NULL;
	if (kra_key != NULL)
		*kra_key = NULL;
	if ((r = ca_check_params(p, why)) != PV_OK)
		goto out;
	if ((ca = OPENSSL_zalloc(sizeof(*ca))) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pkix_keygen(ca_alg(p->root_alg), &rk, why)) != PV_OK ||
	    (r = pkix_keygen(ca_alg(p->issuing_alg), &ca->issuing_key, why)) !=
	    PV_OK)
		goto out;
	root_end = now + (time_t)ca_days(p->root_days, CA_DAYS_ROOT) * CA_DAY;
	if ((r = ca_make_cert(CA_KIND_ROOT, p, rk, NULL, NULL, now, root_end,
	    &ca->root, why)) != PV_OK)
		goto out;
	end = now + (time_t)ca_days(p->issuing_days, CA_DAYS_ISSUING) * CA_DAY;
	if (end > root_end)
		end = root_end;
	if ((r = ca_make_cert(CA_KIND_ISSUING, p, ca->issuing_key, ca->root,
	    rk, now, end, &ca->issuing, why)) != PV_OK)
		goto out;
	if ((ca->chain = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(ca->chain, ca->issuing) || !X509_up_ref(ca->issuing)) {
		r = pkix_crypto_err(why, "chain");
		goto out;
	}
	if (!sk_X509_push(ca->chain, ca->root) || !X509_up_ref(ca->root)) {
		r = pkix_crypto_err(why, "chain");
		goto out;
	}
	if ((r = ca_build_leaves(ca, p, now, &kk, why)) != PV_OK)
		goto out;
	if (root_key != NULL) {
		*root_key = rk;
		rk = NULL;
	}
	if (kra_key != NULL) {
		*kra_key = kk;
		kk = NULL;
	}
	*out = ca;
	ca = NULL;
	r = PV_OK;
out:
	ca_free(ca);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(kk);
	return r;
}

/*
 * ca_write_all writes |ca| into the (new, empty) folder |dir|: root.key
 * only when |root_key| is given.
 */
static enum pv_err
ca_write_all(const char *dir, const struct ca *ca, EVP_PKEY *root_key,
    EVP_PKEY *kra_key, const struct pkix_pass *pass,
    const struct pkix_pass *kra_pass, struct pv_why *why)
{
	enum pv_err r;

	if (root_key != NULL && (r = ca_write_key(dir, CA_FILE_ROOT_KEY,
	    root_key, pass, why)) != PV_OK)
		return r;
	if ((r = ca_write_cert(dir, CA_FILE_ROOT_CRT, ca->root, why)) !=
	    PV_OK ||
	    (r = ca_write_key(dir, CA_FILE_ISSUING_KEY, ca->issuing_key, pass,
	    why)) != PV_OK ||
	    (r = ca_write_cert(dir, CA_FILE_ISSUING_CRT, ca->issuing, why)) !=
	    PV_OK ||
	    (r = ca_write_chain(dir, ca->chain, why)) != PV_OK ||
	    (r = ca_write_key(dir, CA_FILE_SIGNER_KEY, ca->signer_key, pass,
	    why)) != PV_OK ||
	    (r = ca_write_cert(dir, CA_FILE_SIGNER_CRT, ca->signer, why)) !=
	    PV_OK ||
	    (r = ca_write_key(dir, CA_FILE_KRA_KEY, kra_key, kra_pass, why)) !=
	    PV_OK ||
	    (r = ca_write_cert(dir, CA_FILE_KRA_CRT, ca->kra, why)) != PV_OK)
		return r;
	if (ca->ocsp != NULL &&
	    ((r = ca_write_key(dir, CA_FILE_OCSP_KEY, ca->ocsp_key, pass,
	    why)) != PV_OK ||
	    (r = ca_write_cert(dir, CA_FILE_OCSP_CRT, ca->ocsp, why)) != PV_OK))
		return r;
	return PV_OK;
}

/* ca_save writes |ca| to a temporary folder and renames it to |dir|. */
static enum pv_err
ca_save(const char *dir, const struct ca *ca, EVP_PKEY *root_key,
    EVP_PKEY *kra_key, const struct pkix_pass *pass,
    const struct pkix_pass *kra_pass, struct pv_why *why)
{
	char tmp[PATH_MAX];
	enum pv_err r;

	if ((r = ca_tmpdir(dir, tmp, sizeof(tmp), why)) != PV_OK)
		return r;
	if ((r = ca_write_all(tmp, ca, root_key, kra_key, pass, kra_pass,
	    why)) != PV_OK ||
	    (r = ca_commit_dir(tmp, dir, why)) != PV_OK) {
		ca_rmtree_flat(tmp);
		return r;
	}
	return PV_OK;
}

enum pv_err
ca_init(const char *dir, const struct ca_init_params *p,
    const struct pkix_pass *pass, const struct pkix_pass *kra_pass,
    time_t now, struct pv_why *why)
{
	struct ca *ca = NULL;
	EVP_PKEY *root_key = NULL, *kra_key = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if ((r = ca_check_passes(pass, kra_pass, why)) != PV_OK ||
	    (r = ca_check_params(p, why)) != PV_OK ||
	    (r = ca_dir_free_for_init(dir, why)) != PV_OK ||
	    (r = ca_new(p, now, &ca, &root_key, &kra_key, why)) != PV_OK ||
	    (r = ca_save(dir, ca, root_key, kra_key, pass, kra_pass, why)) !=
	    PV_OK)
		goto out;
	r = PV_OK;
out:
	ca_free(ca);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(kra_key);
	return r;
}

/* ca_is_signing_ca: basicConstraints cA and (if present) keyCertSign. */
static bool
ca_is_signing_ca(X509 *x)
{
	uint32_t ku = X509_get_key_usage(x);

	return X509_check_ca(x) >= 1 &&
	    (ku == UINT32_MAX || (ku & KU_KEY_CERT_SIGN) != 0);
}

static bool
ca_self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

/*
 * ca_import_chain builds issuing, intermediates..., root from |cert| and
 * |given| and checks it verifies at |now|.
 */
static enum pv_err
ca_import_chain(X509 *cert, STACK_OF(X509) *given, time_t now,
    STACK_OF(X509) **out, struct pv_why *why)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int i;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL)
		goto crypto;
	if (ca_self_signed(cert) && !X509_STORE_add_cert(store, cert))
		goto crypto;
	for (i = 0; given != NULL && i < sk_X509_num(given); i++) {
		X509 *g = sk_X509_value(given, i);

		if (ca_self_signed(g) && !X509_STORE_add_cert(store, g))
			goto crypto;
	}
	if (!X509_STORE_CTX_init(ctx, store, cert, given))
		goto crypto;
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (X509_verify_cert(ctx) != 1) {
		r = pv_why_set(why, PV_E_VERIFY,
		    "the CA certificate does not verify up to a self-signed root "
		    "in the chain given: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	if ((chain = X509_chain_up_ref(X509_STORE_CTX_get0_chain(ctx))) ==
	    NULL)
		goto crypto;
	*out = chain;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "checking the CA chain");
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

enum pv_err
ca_import(const char *dir, X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    const struct ca_init_params *p, const struct pkix_pass *pass,
    const struct pkix_pass *kra_pass, time_t now, struct pv_why *why)
{
	struct ca *ca = NULL;
	EVP_PKEY *kra_key = NULL;
	enum pkix_alg alg;
	enum pv_err r = PV_E_INTERNAL;

	if ((r = ca_check_passes(pass, kra_pass, why)) != PV_OK ||
	    (r = ca_check_params(p, why)) != PV_OK ||
	    (r = ca_dir_free_for_init(dir, why)) != PV_OK)
		goto out;
	if (!ca_is_signing_ca(cert)) {
		r = pv_why_set(why, PV_E_INPUT,
		    "the certificate is not a CA allowed to sign certificates "
		    "(basicConstraints cA, keyUsage keyCertSign)");
		goto out;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_INPUT,
		    "the private key does not belong to the CA certificate");
		goto out;
	}
	if ((r = pkix_key_alg(key, &alg, why)) != PV_OK) {
		pv_why_prefix(why, "CA key");
		goto out;
	}
	if ((ca = OPENSSL_zalloc(sizeof(*ca))) == NULL) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	if ((r = ca_import_chain(cert, chain, now, &ca->chain, why)) != PV_OK)
		goto out;
	ca->issuing = cert;
	ca->issuing_key = key;
	ca->root = sk_X509_value(ca->chain, sk_X509_num(ca->chain) - 1);
	if (!X509_up_ref(ca->issuing) || !EVP_PKEY_up_ref(ca->issuing_key) ||
	    !X509_up_ref(ca->root)) {
		/* up_ref cannot fail in practice; do not free what we lack */
		ca->issuing = NULL;
		ca->issuing_key = NULL;
		ca->root = NULL;
		r = pkix_crypto_err(why, "CA");
		goto out;
	}
	if ((r = ca_build_leaves(ca, p, now, &kra_key, why)) != PV_OK ||
	    (r = ca_save(dir, ca, NULL, kra_key, pass, kra_pass, why)) != PV_OK)
		goto out;
	r = PV_OK;
out:
	ca_free(ca);
	EVP_PKEY_free(kra_key);
	return r;
}

/* ---- loading ---------------------------------------------------------------- */

static enum pv_err
ca_read(const char *dir, const char *name, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	char path[PATH_MAX];

	if (pkix_path_join(path, sizeof(path), dir, name) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	return pkix_read_file(path, CA_FILE_MAX, out, out_len, why);
}

static enum pv_err
ca_load_certs(const char *dir, const char *name, STACK_OF(X509) **out,
    struct pv_why *why)
{
	uint8_t *p = NULL;
	size_t n = 0;
	enum pv_err r;

	if ((r = ca_read(dir, name, &p, &n, why)) != PV_OK)
		return r;
	r = pkix_certs_from_bytes(p, n, out, why);
	if (r != PV_OK)
		pv_why_prefix(why, "%s/%s", dir, name);
	OPENSSL_free(p);
	return r;
}

static enum pv_err
ca_load_cert(const char *dir, const char *name, X509 **out,
    struct pv_why *why)
{
	STACK_OF(X509) *sk = NULL;
	enum pv_err r;

	*out = NULL;
	if ((r = ca_load_certs(dir, name, &sk, why)) != PV_OK)
		return r;
	*out = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return PV_OK;
}

static enum pv_err
ca_load_key(const char *dir, const char *name, const struct pkix_pass *pass,
    EVP_PKEY **out, struct pv_why *why)
{
	uint8_t *p = NULL;
	size_t n = 0;
	enum pv_err r;

	char path[PATH_MAX];

	if (pkix_path_join(path, sizeof(path), dir, name) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	/* A private key: owner only, like every secret of the station. */
	if ((r = secret_read_file(path, CA_FILE_MAX, &p, &n, why)) != PV_OK)
		return r;
	r = pkix_key_from_bytes(p, n, pass->v, pass->len, out, why);
	if (r != PV_OK)
		pv_why_prefix(why, "%s/%s", dir, name);
	buf_free_secret(p, n);
	return r;
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->root);
	X509_free(ca->issuing);
	X509_free(ca->signer);
	X509_free(ca->kra);
	X509_free(ca->ocsp);
	sk_X509_pop_free(ca->chain, X509_free);
	EVP_PKEY_free(ca->issuing_key);	/* providers cleanse key material */
	EVP_PKEY_free(ca->signer_key);
	EVP_PKEY_free(ca->ocsp_key);
	OPENSSL_clear_free(ca, sizeof(*ca));
}

/* ca_open_service: ca_service_load, a folder without one being PV_OK. */
static enum pv_err
ca_open_service(struct ca *ca, enum ca_service kind,
    const struct pkix_pass *pass, X509 **x, EVP_PKEY **k, struct pv_why *why)
{
	enum pv_err r = ca_service_load(ca->dir, kind, pass, x, k, why);

	if (r == PV_E_NO_FILE) {
		pv_why_clear(why);
		return PV_OK;
	}
	return r;
}

enum pv_err
ca_open(const char *dir, const struct pkix_pass *pass, struct ca **out,
    struct pv_why *why)
{
	return ca_open_keys(dir, pass, CA_KEY_ISSUING | CA_KEY_SIGNER, out, why);
}

enum pv_err
ca_open_keys(const char *dir, const struct pkix_pass *pass, unsigned which,
    struct ca **out, struct pv_why *why)
{
	struct ca *ca = NULL;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if ((ca = OPENSSL_zalloc(sizeof(*ca))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	if (snprintf(ca->dir, sizeof(ca->dir), "%s", dir) >=
	    (int)sizeof(ca->dir)) {
		r = pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
		goto out;
	}
	if ((r = ca_load_cert(dir, CA_FILE_ISSUING_CRT, &ca->issuing, why)) !=
	    PV_OK) {
		if (r == PV_E_NO_FILE) {
			pv_why_clear(why);
			r = pv_why_set(why, PV_E_NOT_SET_UP,
			    "no CA in %s (run 'pivstation ca init' or "
			    "'pivstation ca import')", dir);
		}
		goto out;
	}
	/* The folder holds the keys: the one rule for private files. */
	if ((r = secret_check_path(dir, true, true, why)) != PV_OK)
		goto out;
	if ((r = ca_load_cert(dir, CA_FILE_ROOT_CRT, &ca->root, why)) !=
	    PV_OK ||
	    (r = ca_load_cert(dir, CA_FILE_SIGNER_CRT, &ca->signer, why)) !=
	    PV_OK ||
	    (r = ca_load_cert(dir, CA_FILE_KRA_CRT, &ca->kra, why)) != PV_OK ||
	    (r = ca_load_certs(dir, CA_FILE_CHAIN, &ca->chain, why)) != PV_OK)
		goto out;
	if (X509_cmp(sk_X509_value(ca->chain, 0), ca->issuing) != 0) {
		r = pv_why_set(why, PV_E_CONFIG,
		    "%s/%s does not start with the issuing CA", dir,
		    CA_FILE_CHAIN);
		goto out;
	}
	if (pass != NULL) {
		if (((which & CA_KEY_ISSUING) && (r = ca_load_key(dir,
		    CA_FILE_ISSUING_KEY, pass, &ca->issuing_key, why)) != PV_OK) ||
		    ((which & CA_KEY_SIGNER) && (r = ca_load_key(dir,
		    CA_FILE_SIGNER_KEY, pass, &ca->signer_key, why)) != PV_OK))
			goto out;
		if ((ca->issuing_key != NULL && X509_check_private_key(
		    ca->issuing, ca->issuing_key) != 1) ||
		    (ca->signer_key != NULL && X509_check_private_key(
		    ca->signer, ca->signer_key) != 1)) {
			ERR_clear_error();
			r = pv_why_set(why, PV_E_CONFIG,
			    "%s: a key does not match its certificate", dir);
			goto out;
		}
	}
	/* The OCSP responder is optional (a CA made before it). */
	if ((r = ca_open_service(ca, CA_SVC_OCSP, (which & CA_KEY_OCSP) ?
	    pass : NULL, &ca->ocsp, &ca->ocsp_key, why)) != PV_OK)
		goto out;
	*out = ca;
	ca = NULL;
	r = PV_OK;
out:
	ca_free(ca);
	return r;
}

X509 *ca_get0_root(const struct ca *ca) { return ca->root; }
X509 *ca_get0_issuing(const struct ca *ca) { return ca->issuing; }
X509 *ca_get0_signer(const struct ca *ca) { return ca->signer; }
X509 *ca_get0_kra(const struct ca *ca) { return ca->kra; }
EVP_PKEY *ca_get0_issuing_key(const struct ca *ca) { return ca->issuing_key; }
EVP_PKEY *ca_get0_signer_key(const struct ca *ca) { return ca->signer_key; }
STACK_OF(X509) *ca_get0_chain(const struct ca *ca) { return ca->chain; }
const char *ca_get0_dir(const struct ca *ca) { return ca->dir; }

enum pv_err
ca_trust_store(const struct ca *ca, X509_STORE **out, struct pv_why *why)
{
	X509_STORE *st;
	int i;

	*out = NULL;
	if ((st = X509_STORE_new()) == NULL)
		return pkix_crypto_err(why, "trust store");
	for (i = 0; i < sk_X509_num(ca->chain); i++) {
		if (!X509_STORE_add_cert(st, sk_X509_value(ca->chain, i))) {
			X509_STORE_free(st);
			return pkix_crypto_err(why, "trust store");
		}
	}
	*out = st;
	return PV_OK;
}

enum pv_err
ca_kra_key_load(const char *dir, const struct pkix_pass *pass, EVP_PKEY **out,
    struct pv_why *why)
{
	X509 *kra = NULL;
	enum pv_err r;

	*out = NULL;
	if ((r = ca_load_key(dir, CA_FILE_KRA_KEY, pass, out, why)) != PV_OK)
		return r;
	if ((r = ca_load_cert(dir, CA_FILE_KRA_CRT, &kra, why)) != PV_OK)
		goto out;
	if (X509_check_private_key(kra, *out) != 1) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_CONFIG,
		    "%s: the KRA key does not match kra.crt", dir);
		goto out;
	}
	r = PV_OK;
out:
	X509_free(kra);
	if (r != PV_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return r;
}

/* ---- describing ------------------------------------------------------------- */

static void
ca_name_str(const X509_NAME *n, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *d = NULL;
	long len;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
	    >= 0 && (len = BIO_get_mem_data(b, &d)) >= 0 && d != NULL)
		(void)snprintf(out, cap, "%.*s", (int)len, d);
	BIO_free(b);
}

static void
ca_describe_one(const char *role, X509 *x, struct ca_cert_info *o)
{
	memset(o, 0, sizeof(*o));
	o->role = role;
	if (x == NULL)
		return;
	ca_name_str(X509_get_subject_name(x), o->subject, sizeof(o->subject));
	ca_name_str(X509_get_issuer_name(x), o->issuer, sizeof(o->issuer));
	pkix_serial_hex(x, o->serial);
	pkix_time_str(X509_get0_notBefore(x), o->not_before,
	    sizeof(o->not_before));
	pkix_time_str(X509_get0_notAfter(x), o->not_after, sizeof(o->not_after));
	pkix_key_describe(X509_get0_pubkey(x), o->key, sizeof(o->key));
	(void)pkix_cert_fingerprint(x, o->sha256);
}

void
ca_describe(const struct ca *ca, struct ca_cert_info out[4])
{
	ca_describe_one("root", ca->root, &out[0]);
	ca_describe_one("issuing", ca->issuing, &out[1]);
	ca_describe_one("signer", ca->signer, &out[2]);
	ca_describe_one("kra", ca->kra, &out[3]);
}

/* ---- signing ---------------------------------------------------------------- */

enum pv_err
ca_sign_cert(const struct ca *ca, X509 *x, struct pv_why *why)
{
	enum pv_err r;

	if (ca->issuing_key == NULL)
		return pv_why_set(why, PV_E_STATE,
		    "the CA was opened without its passphrase");
	if (!X509_set_issuer_name(x, X509_get_subject_name(ca->issuing)))
		return pkix_crypto_err(why, "issuer name");
	if ((r = pkix_ext_aki(x, ca->issuing, why)) != PV_OK)
		return r;
	return pkix_sign(x, ca->issuing_key, why);
}

/* ---- CRL -------------------------------------------------------------------- */

static enum pv_err
ca_crl_add(X509_CRL *crl, const struct ca_revoked *rv, struct pv_why *why)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	BIGNUM *bn = NULL;
	enum pv_err r = PV_E_INTERNAL;

	if (rv->serial_len == 0 || rv->serial_len > sizeof(rv->serial))
		return pv_why_set(why, PV_E_INVAL, "revoked serial of %zu bytes",
		    rv->serial_len);
	if ((rev = X509_REVOKED_new()) == NULL ||
	    (bn = BN_bin2bn(rv->serial, (int)rv->serial_len, NULL)) == NULL ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, sn) ||
	    (t = ASN1_TIME_set(NULL, rv->revoked_at)) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, t))
		goto crypto;
	/* RFC 5280 §5.3.1: omit the reason code rather than "unspecified". */
	if (rv->reason > 0 && rv->reason <= 10 && rv->reason != 7) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    !ASN1_ENUMERATED_set(reason, rv->reason) ||
		    !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0,
		    0))
			goto crypto;
	}
	if (!X509_CRL_add0_revoked(crl, rev))
		goto crypto;
	rev = NULL;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "CRL entry");
out:
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(reason);
	BN_free(bn);
	return r;
}

enum pv_err
ca_crl_make(const struct ca *ca, const struct ca_revoked *rv, size_t n_rv,
    uint64_t crl_number, time_t now, unsigned next_update_hours,
    uint8_t **out, size_t *out_len, struct pv_why *why)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *aki = NULL;
	const ASN1_OCTET_STRING *ski;
	unsigned char *der = NULL;
	int n;
	size_t i;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	if (ca->issuing_key == NULL)
		return pv_why_set(why, PV_E_STATE,
		    "the CA was opened without its passphrase");
	if (next_update_hours == 0)
		return pv_why_set(why, PV_E_INVAL, "next update of 0 hours");
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->issuing)) ||
	    (t = ASN1_TIME_set(NULL, now)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    ASN1_TIME_set(t, now + (time_t)next_update_hours * 3600) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		goto crypto;
	for (i = 0; i < n_rv; i++)
		if ((r = ca_crl_add(crl, &rv[i], why)) != PV_OK)
			goto out;
	if (!X509_CRL_sort(crl) ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(num, crl_number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto crypto;
	if ((ski = X509_get0_subject_key_id(ca->issuing)) != NULL) {
		if ((aki = AUTHORITY_KEYID_new()) == NULL ||
		    (aki->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
		    !X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier,
		    aki, 0, 0))
			goto crypto;
	}
	if (X509_CRL_sign(crl, ca->issuing_key,
	    pkix_md_for_key(ca->issuing_key)) <= 0)
		goto crypto;
	if ((n = i2d_X509_CRL(crl, &der)) <= 0)
		goto crypto;
	*out = der;
	*out_len = (size_t)n;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "making the CRL");
out:
	X509_CRL_free(crl);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	return r;
}

enum pv_err
ca_crl_publish(const struct ca *ca, const uint8_t *der, size_t der_len,
    struct pv_why *why)
{
	char path[PATH_MAX], *pem = NULL;
	const unsigned char *d = der;
	X509_CRL *crl = NULL;
	BIO *b = NULL;
	long n;
	enum pv_err r = PV_E_INTERNAL;

	if (ca->dir[0] == '\0')
		return pv_why_set(why, PV_E_STATE,
		    "this CA lives in memory only: nowhere to publish");
	if (der_len > LONG_MAX || (crl = d2i_X509_CRL(NULL, &d,
	    (long)der_len)) == NULL || (b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_CRL(b, crl)) {
		r = pkix_crypto_err(why, "encoding the CRL");
		goto out;
	}
	n = BIO_get_mem_data(b, &pem);
	if (pkix_path_join(path, sizeof(path), ca->dir, CA_FILE_CRL_DER) !=
	    PV_OK) {
		r = pv_why_set(why, PV_E_TOO_LONG, "path too long");
		goto out;
	}
	if ((r = pkix_write_file(path, der, der_len, true, why)) != PV_OK)
		goto out;
	if (pkix_path_join(path, sizeof(path), ca->dir, CA_FILE_CRL_PEM) !=
	    PV_OK) {
		r = pv_why_set(why, PV_E_TOO_LONG, "path too long");
		goto out;
	}
	r = pkix_write_file(path, pem, (size_t)n, true, why);
out:
	X509_CRL_free(crl);
	BIO_free(b);
	return r;
}

enum pv_err
ca_crl_last_number(const char *dir, uint64_t *out, bool *found,
    struct pv_why *why)
{
	uint8_t *p = NULL;
	size_t n = 0;
	const unsigned char *d;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num = NULL;
	enum pv_err r = PV_E_INTERNAL;

	*out = 0;
	*found = false;
	r = ca_read(dir, CA_FILE_CRL_DER, &p, &n, why);
	if (r == PV_E_NO_FILE) {
		pv_why_clear(why);
		return PV_OK;
	}
	if (r != PV_OK)
		return r;
	d = p;
	if ((crl = d2i_X509_CRL(NULL, &d, (long)n)) == NULL ||
	    (num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) ==
	    NULL || !ASN1_INTEGER_get_uint64(out, num)) {
		r = pkix_crypto_err(why, "%s/%s: no CRL number", dir,
		    CA_FILE_CRL_DER);
		goto out;
	}
	*found = true;
	r = PV_OK;
out:
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	OPENSSL_free(p);
	return r;
}

/* ---- service certificates --------------------------------------------------- */

const char *
ca_service_name(enum ca_service kind)
{
	switch (kind) {
	case CA_SVC_OCSP: return "ocsp";
	case CA_SVC_TLS: return "tls";
	}
	return "?";
}

X509 *ca_get0_ocsp(const struct ca *ca) { return ca->ocsp; }
EVP_PKEY *ca_get0_ocsp_key(const struct ca *ca) { return ca->ocsp_key; }

static const char *
ca_service_file(enum ca_service kind, bool key)
{
	switch (kind) {
	case CA_SVC_OCSP: return key ? CA_FILE_OCSP_KEY : CA_FILE_OCSP_CRT;
	case CA_SVC_TLS: return key ? CA_FILE_TLS_KEY : CA_FILE_TLS_CRT;
	}
	return NULL;
}

void
ca_service_params_init(struct ca_service_params *sp, enum ca_service kind,
    const struct ca_init_params *p)
{
	memset(sp, 0, sizeof(*sp));
	sp->kind = kind;
	if (kind == CA_SVC_OCSP) {
		sp->alg = p->ocsp_alg;
		sp->days = p->ocsp_days;
	}
}

/* ca_ext_nocheck adds id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1: NULL). */
static enum pv_err
ca_ext_nocheck(X509 *x, struct pv_why *why)
{
	ASN1_NULL *nul = ASN1_NULL_new();
	int ok;

	ok = nul != NULL && X509_add1_ext_i2d(x, NID_id_pkix_OCSP_noCheck, nul,
	    0, X509V3_ADD_REPLACE) == 1;
	ASN1_NULL_free(nul);
	return ok ? PV_OK : pkix_crypto_err(why, "ocsp-nocheck extension");
}

/*
 * ca_ext_hosts adds the subjectAltName of a server: an iPAddress for what
 * reads as one, a dNSName for a host name (letters, digits, '-' and '.',
 * labels of 1-63).
 */
static enum pv_err
ca_ext_hosts(X509 *x, const struct ca_service_params *sp, struct pv_why *why)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	enum pv_err r = PV_E_INTERNAL;
	unsigned i;
	size_t k, n, label;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		goto crypto;
	for (i = 0; i < sp->n_hosts && i < CA_TLS_HOSTS_MAX; i++) {
		const char *h = sp->hosts[i];
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(h);

		if (ip != NULL) {
			if ((gn = GENERAL_NAME_new()) == NULL) {
				ASN1_OCTET_STRING_free(ip);
				goto crypto;
			}
			GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
		} else {
			ERR_clear_error();
			n = strlen(h);
			label = 0;
			for (k = 0; k < n; k++) {
				char c = h[k];

				if (c == '.') {
					if (label == 0)
						break;
					label = 0;
					continue;
				}
				if (!((c >= 'a' && c <= 'z') || (c >= 'A' &&
				    c <= 'Z') || (c >= '0' && c <= '9') ||
				    c == '-') || ++label > 63)
					break;
			}
			if (n == 0 || n > 253 || k != n || label == 0) {
				r = pv_why_set(why, PV_E_INPUT, "host '%.80s' is "
				    "neither a DNS name nor an IP address", h);
				goto out;
			}
			if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
			    !ASN1_STRING_set(ia5, h, (int)n) ||
			    (gn = GENERAL_NAME_new()) == NULL)
				goto crypto;
			GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
			ia5 = NULL;
		}
		if (!sk_GENERAL_NAME_push(gens, gn))
			goto crypto;
		gn = NULL;
	}
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_REPLACE))
		goto crypto;
	r = PV_OK;
	goto out;
crypto:
	r = pkix_crypto_err(why, "subject alternative name");
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return r;
}

enum pv_err
ca_service_make(const struct ca *ca, const struct ca_init_params *p,
    const struct ca_service_params *sp, time_t now, X509 **cert,
    EVP_PKEY **key, struct pv_why *why)
{
	const char *pol[PKIX_POLICY__COUNT + 2 * CA_POLICIES_MAX];
	const char *eku[1];
	uint8_t serial[PKIX_SERIAL_LEN];
	struct pkix_dn dn;
	X509_NAME *name = NULL;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	enum pkix_alg alg = sp->alg;
	unsigned days = sp->days, ku;
	time_t ca_end, end;
	size_t n_pol;
	const char *o = pkix_dn_get(&p->name, "O");
	char cn[PKIX_DN_VALUE_MAX];
	enum pv_err r = PV_E_INTERNAL;

	*cert = NULL;
	*key = NULL;
	if (ca->issuing_key == NULL)
		return pv_why_set(why, PV_E_STATE,
		    "the CA was opened without its passphrase");
	switch (sp->kind) {
	case CA_SVC_OCSP:
		if (alg == PKIX_ALG_NONE)
			alg = PKIX_ALG_P256;
		if (days == 0)
			days = CA_DAYS_OCSP;
		(void)snprintf(cn, sizeof(cn), "%s%sOCSP Responder", o ? o : "",
		    o ? " " : "");
		break;
	case CA_SVC_TLS:
		if (alg == PKIX_ALG_NONE)
			alg = PKIX_ALG_P256;
		if (days == 0)
			days = CA_DAYS_TLS;
		if (sp->n_hosts == 0 || sp->n_hosts > CA_TLS_HOSTS_MAX)
			return pv_why_set(why, PV_E_INPUT, "a server certificate "
			    "needs 1 to %d host names", CA_TLS_HOSTS_MAX);
		(void)snprintf(cn, sizeof(cn), "%.63s", sp->hosts[0]);
		break;
	default:
		return pv_why_set(why, PV_E_INVAL, "unknown service certificate");
	}
	if (days > CA_DAYS_SERVICE_MAX)
		return pv_why_set(why, PV_E_INPUT, "%s certificate lifetime %u "
		    "days: at most %u", ca_service_name(sp->kind), days,
		    CA_DAYS_SERVICE_MAX);
	if ((r = ca_not_after(ca->issuing, &ca_end, why)) != PV_OK)
		goto out;
	end = now + (time_t)days * CA_DAY;
	if (end > ca_end)
		end = ca_end;
	if (end <= now) {
		r = pv_why_set(why, PV_E_STATE, "the issuing CA certificate "
		    "has expired");
		goto out;
	}
	dn = p->name;
	if ((r = pkix_dn_add(&dn, "CN", cn, why)) != PV_OK ||
	    (r = pkix_dn_to_name(&dn, &name, why)) != PV_OK ||
	    (r = pkix_keygen(alg, &k, why)) != PV_OK ||
	    (r = pkix_random_serial(serial, why)) != PV_OK ||
	    (r = pkix_cert_new(k, name, ca->issuing, serial, sizeof(serial),
	    now, end, &x, why)) != PV_OK)
		goto out;
	switch (sp->kind) {
	case CA_SVC_OCSP:
		/* FPKI worksheet 20 */
		eku[0] = "1.3.6.1.5.5.7.3.9";	/* id-kp-OCSPSigning */
		n_pol = ca_issuing_policies(p, pol);
		if ((r = pkix_ext_key_usage(x, PKIX_KU_DIGITAL_SIGNATURE,
		    why)) != PV_OK ||
		    (r = pkix_ext_eku(x, eku, 1, false, why)) != PV_OK ||
		    (r = ca_ext_nocheck(x, why)) != PV_OK ||
		    (r = pkix_ext_policies(x, pol, n_pol, why)) != PV_OK)
			goto out;
		break;
	case CA_SVC_TLS:
		eku[0] = "1.3.6.1.5.5.7.3.1";	/* id-kp-serverAuth */
		ku = PKIX_KU_DIGITAL_SIGNATURE;
		if (pkix_alg_is_rsa(alg))
			ku |= PKIX_KU_KEY_ENCIPHERMENT;
		if ((r = pkix_ext_key_usage(x, ku, why)) != PV_OK ||
		    (r = pkix_ext_eku(x, eku, 1, false, why)) != PV_OK ||
		    (r = ca_ext_hosts(x, sp, why)) != PV_OK)
			goto out;
		break;
	}
	if ((r = pkix_ext_basic_constraints(x, false, -1, why)) != PV_OK ||
	    (r = pkix_ext_aia(x, p->ca_issuers_url, NULL, why)) != PV_OK ||
	    (r = pkix_ext_crldp(x, p->crl_url, why)) != PV_OK ||
	    (r = ca_sign_cert(ca, x, why)) != PV_OK ||
	    (r = pkix_x509_refresh(&x, why)) != PV_OK)
		goto out;
	*cert = x;
	*key = k;
	x = NULL;
	k = NULL;
	r = PV_OK;
out:
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

/* ca_replace_file writes |p| over dir/name (0600, temporary name, rename). */
static enum pv_err
ca_replace_file(const char *dir, const char *name, const void *p, size_t n,
    struct pv_why *why)
{
	char path[PATH_MAX];

	if (pkix_path_join(path, sizeof(path), dir, name) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", dir);
	return pkix_write_file(path, p, n, true, why);
}

static void
ca_service_set(struct ca *ca, enum ca_service kind, X509 *x, EVP_PKEY *k)
{
	(void)kind;	/* only the OCSP responder is kept in a struct ca */
	X509_free(ca->ocsp);
	EVP_PKEY_free(ca->ocsp_key);
	ca->ocsp = x;
	ca->ocsp_key = k;
}

enum pv_err
ca_service_roll(struct ca *ca, const struct ca_init_params *p,
    const struct ca_service_params *sp, const struct pkix_pass *pass,
    time_t now, char *serial_hex, struct pv_why *why)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	char *pem = NULL, *kpem = NULL;
	size_t n = 0, kn = 0;
	enum pv_err r;

	if (ca->dir[0] == '\0')
		return pv_why_set(why, PV_E_STATE,
		    "this CA lives in memory only: nowhere to write");
	if ((r = pkix_pass_check_new(pass, "CA passphrase", why)) != PV_OK ||
	    (r = ca_service_make(ca, p, sp, now, &x, &k, why)) != PV_OK ||
	    (r = pkix_cert_to_pem(x, &pem, &n, why)) != PV_OK ||
	    (r = pkix_key_to_encrypted_pem(k, pass->v, pass->len, &kpem, &kn,
	    why)) != PV_OK ||
	    (r = ca_replace_file(ca->dir, ca_service_file(sp->kind, true),
	    kpem, kn, why)) != PV_OK ||
	    (r = ca_replace_file(ca->dir, ca_service_file(sp->kind, false),
	    pem, n, why)) != PV_OK)
		goto out;
	if (serial_hex != NULL)
		pkix_serial_hex(x, serial_hex);
	if (sp->kind != CA_SVC_TLS) {
		ca_service_set(ca, sp->kind, x, k);
		x = NULL;
		k = NULL;
	}
	r = PV_OK;
out:
	OPENSSL_free(pem);
	if (kpem != NULL)
		OPENSSL_clear_free(kpem, kn);
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

enum pv_err
ca_service_load(const char *dir, enum ca_service kind,
    const struct pkix_pass *pass, X509 **cert, EVP_PKEY **key,
    struct pv_why *why)
{
	const char *cf = ca_service_file(kind, false);
	enum pv_err r;

	*cert = NULL;
	*key = NULL;
	if (cf == NULL)
		return pv_why_set(why, PV_E_INVAL, "unknown service certificate");
	if ((r = ca_load_cert(dir, cf, cert, why)) != PV_OK)
		return r;
	if (pass == NULL)
		return PV_OK;
	if ((r = ca_load_key(dir, ca_service_file(kind, true), pass, key,
	    why)) != PV_OK)
		goto out;
	if (X509_check_private_key(*cert, *key) != 1) {
		ERR_clear_error();
		r = pv_why_set(why, PV_E_CONFIG, "%s/%s: the key does not "
		    "match the certificate", dir, ca_service_file(kind, true));
		goto out;
	}
	r = PV_OK;
out:
	if (r != PV_OK) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
	}
	return r;
}

size_t
ca_describe_services(const struct ca *ca, struct ca_cert_info out[2])
{
	size_t n = 0;

	if (ca->ocsp != NULL)
		ca_describe_one("ocsp", ca->ocsp, &out[n++]);
	return n;
}
