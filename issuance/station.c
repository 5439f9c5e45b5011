/*
 * station.c: opening the station (station.h).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "issuance/ca.h"
#include "issuance/station.h"
#include "issuance/operator.h"
#include "issuance/store.h"

/* station_init's: make the store when there is none. */
#define STATION_CREATE_STORE	0x1000

struct station {
	struct home home;
	struct pv_config cfg;
	bool has_config;
	bool has_master;
	struct secret_master master;
	struct store *store;
	struct ca *ca;
	char ca_dir[HOME_PATH_MAX];
	char actor[AUDIT_ACTOR_MAX];
	bool is_operator;		/* actor names a registered operator */
	bool op_checked;		/* ... found in the store, enabled */
	struct store_operator op;
	struct pass_chain pass;
	bool has_pass;
};

void
station_os_actor(char out[AUDIT_ACTOR_MAX])
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	uid_t uid = geteuid();

	/* getpwuid_r: no static buffer shared between threads. */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && res->pw_name != NULL &&
	    station_check_actor(res->pw_name, NULL) == PV_OK &&
	    strlen(res->pw_name) + 24 < AUDIT_ACTOR_MAX)
		(void)snprintf(out, AUDIT_ACTOR_MAX, "uid %lu (%s)",
		    (unsigned long)uid, res->pw_name);
	else
		(void)snprintf(out, AUDIT_ACTOR_MAX, "uid %lu",
		    (unsigned long)uid);
}

enum pv_err
station_check_actor(const char *name, struct pv_why *why)
{
	size_t n = name != NULL ? strlen(name) : 0, i;

	if (n == 0 || n >= AUDIT_ACTOR_MAX)
		return pv_why_set(why, PV_E_INPUT, "operator name: 1 to %d "
		    "bytes", AUDIT_ACTOR_MAX - 1);
	/* Printable ASCII: the name is shown on terminals and in the log. */
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] > 0x7e)
			return pv_why_set(why, PV_E_INPUT, "operator name: "
			    "byte %zu is not printable ASCII", i + 1);
	return PV_OK;
}

static enum pv_err
station_set_actor(struct station *s, const char *operator, struct pv_why *why)
{
	enum pv_err r;

	if (operator == NULL) {
		station_os_actor(s->actor);
		return PV_OK;
	}
	if ((r = station_check_actor(operator, why)) != PV_OK)
		return r;
	(void)snprintf(s->actor, sizeof(s->actor), "%s", operator);
	s->is_operator = true;
	return PV_OK;
}

/* The operator named must be registered and enabled (a store is open). */
static enum pv_err
station_check_operator(struct station *s, struct pv_why *why)
{
	enum pv_err r;

	if (!s->is_operator || s->op_checked)
		return PV_OK;
	r = store_operator_get(s->store, s->actor, &s->op, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return pv_why_set(why, PV_E_INPUT, "operator '%s' is not "
		    "registered at this station (an administrator adds it: "
		    "pivstation operator add '%s' --role ROLE)", s->actor,
		    s->actor);
	}
	if (r != PV_OK)
		return r;
	if (s->op.disabled)
		return pv_why_set(why, PV_E_STATE, "operator '%s' is disabled",
		    s->actor);
	s->op_checked = true;
	return PV_OK;
}

/* The configuration, or the defaults when the file is absent and allowed. */
static enum pv_err
station_load_config(struct station *s, bool need, struct pv_why *why)
{
	enum pv_err r = config_load_home(&s->home, &s->cfg, why);

	if (r == PV_OK) {
		s->has_config = true;
		return PV_OK;
	}
	if (r == PV_E_NOT_SET_UP && !need) {
		pv_why_clear(why);
		config_defaults(&s->cfg);
		return PV_OK;
	}
	return r;
}

static enum pv_err
station_open_ca(struct station *s, unsigned need, struct pv_why *why)
{
	struct pkix_pass pass;
	struct ca *ca = NULL;
	unsigned keys = 0;
	enum pv_err r;

	if (need & STATION_NEED_CA_ISSUING)
		keys |= CA_KEY_ISSUING;
	if (need & STATION_NEED_CA_SIGNER)
		keys |= CA_KEY_SIGNER;
	if (s->ca != NULL) {
		if (ca_get0_issuing_key(s->ca) != NULL)
			keys &= ~(unsigned)CA_KEY_ISSUING;
		if (ca_get0_signer_key(s->ca) != NULL)
			keys &= ~(unsigned)CA_KEY_SIGNER;
		if (keys == 0)
			return PV_OK;	/* open already with what is needed */
	} else if ((r = ca_open(s->ca_dir, NULL, &s->ca, why)) != PV_OK) {
		/* The certificates first: no passphrase is asked for a CA
		 * that is not there. */
		return r;
	}
	if (keys == 0)
		return PV_OK;
	if (ca_get0_issuing_key(s->ca) != NULL)
		keys |= CA_KEY_ISSUING;
	if (ca_get0_signer_key(s->ca) != NULL)
		keys |= CA_KEY_SIGNER;
	memset(&pass, 0, sizeof(pass));
	if ((r = station_passphrase(s, PASS_CA, false, &pass, why)) == PV_OK &&
	    (r = ca_open_keys(s->ca_dir, &pass, keys, &ca, why)) == PV_OK) {
		ca_free(s->ca);
		s->ca = ca;
	}
	pkix_pass_clear(&pass);
	return r;
}

enum pv_err
station_require(struct station *s, unsigned need, struct pv_why *why)
{
	enum pv_err r;

	if (need & STATION_NEED_STORE)
		need |= STATION_NEED_MASTER;
	if ((need & STATION_NEED_CONFIG) && !s->has_config &&
	    (r = station_load_config(s, true, why)) != PV_OK)
		return r;
	if ((need & STATION_WANT_STORE) && home_exists(&s->home, HOME_STORE))
		need |= STATION_NEED_STORE | STATION_NEED_MASTER;
	if (need & (STATION_NEED_MASTER | STATION_NEED_CA_ISSUING |
	    STATION_NEED_CA_SIGNER))
		(void)secret_harden_process();
	if ((need & STATION_NEED_MASTER) && !s->has_master) {
		if ((r = home_check(&s->home, why)) != PV_OK ||
		    (r = secret_master_load(&s->home, &s->master, why)) !=
		    PV_OK)
			return r;
		s->has_master = true;
	}
	if ((need & STATION_NEED_STORE) && s->store == NULL) {
		if (!(need & STATION_CREATE_STORE) &&
		    !home_exists(&s->home, HOME_STORE))
			return pv_why_set(why, PV_E_NOT_SET_UP, "no store in %s: "
			    "run 'pivstation init'", s->home.dir);
		if ((r = station_store_open(s, &s->store, why)) != PV_OK)
			return r;
	}
	if (s->store != NULL && (r = station_check_operator(s, why)) != PV_OK)
		return r;
	if ((need & (STATION_NEED_CA | STATION_NEED_CA_ISSUING |
	    STATION_NEED_CA_SIGNER)) &&
	    (r = station_open_ca(s, need, why)) != PV_OK)
		return r;
	return PV_OK;
}

enum pv_err
station_open(const struct station_opts *o, struct station **out,
    struct pv_why *why)
{
	struct station *s = NULL;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if ((s = OPENSSL_zalloc(sizeof(*s))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	pass_chain_init(&s->pass);
	if (o->pass != NULL) {
		s->pass = *o->pass;
		s->has_pass = true;
	}
	if ((r = station_set_actor(s, o->operator, why)) != PV_OK ||
	    (r = home_resolve(o->home, &s->home, why)) != PV_OK)
		goto out;
	if ((r = home_path(&s->home, HOME_CA_DIR, s->ca_dir,
	    sizeof(s->ca_dir))) != PV_OK) {
		r = pv_why_set(why, r, "station home path too long");
		goto out;
	}
	if ((r = station_load_config(s, (o->need & STATION_NEED_CONFIG) != 0,
	    why)) != PV_OK ||
	    (r = station_require(s, o->need, why)) != PV_OK)
		goto out;
	*out = s;
	s = NULL;
	r = PV_OK;
out:
	station_close(s);
	return r;
}

void
station_close(struct station *s)
{
	if (s == NULL)
		return;
	store_close(s->store);
	ca_free(s->ca);
	secret_master_clear(&s->master);
	OPENSSL_clear_free(s, sizeof(*s));
}

const struct home *
station_home(const struct station *s)
{
	return &s->home;
}

const struct pv_config *
station_config(const struct station *s)
{
	return &s->cfg;
}

bool
station_has_config_file(const struct station *s)
{
	return s->has_config;
}

const struct secret_master *
station_master(const struct station *s)
{
	return s->has_master ? &s->master : NULL;
}

struct store *
station_store(const struct station *s)
{
	return s->store;
}

struct ca *
station_ca(const struct station *s)
{
	return s->ca;
}

const char *
station_ca_dir(const struct station *s)
{
	return s->ca_dir;
}

const char *
station_actor(const struct station *s)
{
	return s->actor;
}

enum pv_err
station_store_open(const struct station *s, struct store **out,
    struct pv_why *why)
{
	return station_store_open_as(s, s->actor, out, why);
}

enum pv_err
station_store_open_as(const struct station *s, const char *actor,
    struct store **out, struct pv_why *why)
{
	struct store_opts o;
	char db[HOME_PATH_MAX], head[HOME_PATH_MAX];
	uint8_t key[32];
	enum pv_err r;

	*out = NULL;
	if (actor != s->actor &&
	    (r = station_check_actor(actor, why)) != PV_OK)
		return r;
	if (!s->has_master)
		return pv_why_set(why, PV_E_INVAL, "the station was opened "
		    "without its master secret");
	if (home_path(&s->home, HOME_STORE, db, sizeof(db)) != PV_OK ||
	    home_path(&s->home, HOME_AUDIT_HEAD, head, sizeof(head)) != PV_OK)
		return pv_why_set(why, PV_E_TOO_LONG, "station home path too "
		    "long");
	if ((r = secret_derive(&s->master, SECRET_LABEL_AUDIT, NULL, 0, key,
	    sizeof(key))) != PV_OK)
		return pv_why_set(why, r, "cannot derive the audit key");
	memset(&o, 0, sizeof(o));
	o.audit_key = key;
	o.head_path = head;
	o.anchor_path = s->cfg.audit_anchor[0] != '\0' ? s->cfg.audit_anchor :
	    NULL;
	o.actor = actor;
	o.busy_timeout_ms = s->cfg.busy_timeout_ms;
	r = store_open(db, &o, out, why);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

enum pv_err
station_passphrase(const struct station *s, enum pass_kind k, bool confirm,
    struct pkix_pass *out, struct pv_why *why)
{
	return pass_get(s->has_pass ? &s->pass : NULL, &s->cfg, k, confirm,
	    out, why);
}

enum pv_err
station_kra_key(const struct station *s, EVP_PKEY **out, struct pv_why *why)
{
	struct pkix_pass pass;
	enum pv_err r;

	*out = NULL;
	memset(&pass, 0, sizeof(pass));
	if ((r = station_passphrase(s, PASS_KRA, false, &pass, why)) == PV_OK)
		r = ca_kra_key_load(s->ca_dir, &pass, out, why);
	pkix_pass_clear(&pass);
	return r;
}

enum pv_err
station_permit(const struct station *s, enum op_action a, struct pv_why *why)
{
	/* Without a store there is no registry and no log to act in: the
	 * files are the account's. */
	if (!s->is_operator || s->store == NULL)
		return PV_OK;
	if (!s->op_checked)
		return pv_why_set(why, PV_E_STATE, "operator '%s' was not checked",
		    s->actor);
	if (!op_permitted(s->op.role, a))
		return pv_why_set(why, PV_E_POLICY, "operator '%s' (%s) may not "
		    "%s: only %s", s->actor, store_role_name(s->op.role),
		    op_action_name(a), op_roles_for(a));
	return PV_OK;
}

const struct store_operator *
station_operator(const struct station *s)
{
	return s->op_checked ? &s->op : NULL;
}

enum pv_err
station_audit_status(const struct station *s, struct pv_why *why)
{
	return s->store != NULL ? store_audit_files_status(s->store, why) :
	    PV_OK;
}

enum pv_err
station_audit(const struct station *s, const char *action, const char *object,
    const char *detail_json, struct pv_why *why)
{
	if (s->store == NULL)
		return PV_OK;
	return audit_append(s->store, action, object, detail_json, why);
}

enum pv_err
station_ca_create(struct station *s, const struct ca_init_params *p,
    X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain, struct pv_why *why)
{
	struct pkix_pass pass, kra_pass;
	struct ca_cert_info info[4];
	const struct pkix_pass *kra = &pass;
	char detail[512];
	enum pv_err r;

	memset(&pass, 0, sizeof(pass));
	memset(&kra_pass, 0, sizeof(kra_pass));
	if ((r = home_create(&s->home, NULL, why)) != PV_OK ||
	    (r = station_passphrase(s, PASS_CA, true, &pass, why)) != PV_OK)
		goto out;
	if (pass_has_own_source(s->has_pass ? &s->pass : NULL, PASS_KRA)) {
		if ((r = station_passphrase(s, PASS_KRA, true, &kra_pass,
		    why)) != PV_OK)
			goto out;
		kra = &kra_pass;
	}
	if (cert != NULL)
		r = ca_import(s->ca_dir, cert, key, chain, p, &pass, kra,
		    time(NULL), why);
	else
		r = ca_init(s->ca_dir, p, &pass, kra, time(NULL), why);
	if (r != PV_OK)
		goto out;
	ca_free(s->ca);
	s->ca = NULL;
	if ((r = ca_open(s->ca_dir, NULL, &s->ca, why)) != PV_OK)
		goto out;
	ca_describe(s->ca, info);
	(void)snprintf(detail, sizeof(detail), "{\"issuing_serial\":\"%s\","
	    "\"signer_serial\":\"%s\",\"kra_serial\":\"%s\",\"imported\":%s}",
	    info[1].serial, info[2].serial, info[3].serial, cert != NULL ?
	    "true" : "false");
	r = station_audit(s, cert != NULL ? "ca.import" : "ca.init", "ca",
	    detail, why);
out:
	pkix_pass_clear(&pass);
	pkix_pass_clear(&kra_pass);
	return r;
}

enum pv_err
station_init(const char *home, const char *admin,
    struct station_init_result *out, struct pv_why *why)
{
	struct store_operator op;
	const char *text = config_default_text();
	struct station_opts o;
	struct station *s = NULL;
	struct home h;
	bool created = false;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = home_resolve(home, &h, why)) != PV_OK ||
	    (r = home_create(&h, &created, why)) != PV_OK)
		return r;
	out->home_created = created;
	if (!home_exists(&h, HOME_CONFIG)) {
		if ((r = home_write_file(&h, HOME_CONFIG, text, strlen(text), 0,
		    why)) != PV_OK)
			return r;
		out->config_created = true;
	}
	if (!home_exists(&h, HOME_MASTER_SECRET)) {
		if ((r = secret_master_create(&h, why)) != PV_OK)
			return r;
		out->master_created = true;
	}
	out->store_created = !home_exists(&h, HOME_STORE);
	memset(&o, 0, sizeof(o));
	o.home = h.dir;
	o.need = STATION_NEED_CONFIG | STATION_NEED_STORE | STATION_CREATE_STORE;
	o.operator = NULL;	/* the account: no operator exists yet */
	if (admin != NULL && (r = station_check_actor(admin, why)) != PV_OK)
		return r;
	if ((r = station_open(&o, &s, why)) != PV_OK)
		return r;
	out->schema_version = store_schema_version(s->store);
	if (admin != NULL) {
		r = store_operator_get(s->store, admin, &op, why);
		if (r == PV_E_NO_RECORD) {
			pv_why_clear(why);
			memset(&op, 0, sizeof(op));
			(void)snprintf(op.name, sizeof(op.name), "%s", admin);
			op.role = STORE_ROLE_ADMIN;
			r = store_operator_add(s->store, &op, NULL, why);
			out->admin_created = r == PV_OK;
		}
		if (r != PV_OK) {
			station_close(s);
			return r;
		}
	}
	r = station_audit_status(s, why);
	station_close(s);
	return r;
}
