/*
 * profile.c: PIV certificate profiles for 9A, 9C, 9D and 9E (profile.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "apdu/piv_obj.h"
#include "apdu/fascn.h"
#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/profile.h"

#define PROFILE_DAY (24 * 60 * 60)

void
profile_cfg_defaults(struct profile_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->policies = PKIX_POLICIES_TEST;
	c->validity_days = PROFILE_DAYS_DEFAULT;
	c->eku_9a = PROFILE_EKU_CLIENT_AUTH;
	c->rfc822_slots = PROFILE_BIT_9C | PROFILE_BIT_9D;
	c->piv_interim = PROFILE_INTERIM_FALSE;
}

static enum pv_err
profile_copy_str(char *dst, size_t cap, const char *src, const char *name,
    struct pv_why *why)
{
	if (strlen(src) >= cap)
		return pv_why_set(why, PV_E_CONFIG, "%s: too long", name);
	memcpy(dst, src, strlen(src) + 1);
	return PV_OK;
}

enum pv_err
profile_cfg_from_config(const struct pv_config *cfg, struct profile_cfg *c,
    struct pv_why *why)
{
	unsigned s, i;
	enum pv_err r;

	profile_cfg_defaults(c);
	c->policies = cfg->policy_set == CONFIG_POLICY_PRODUCTION ?
	    PKIX_POLICIES_PRODUCTION : PKIX_POLICIES_TEST;
	/* config.h's slot order is ours: 9A, 9C, 9D, 9E */
	for (s = 0; s < CONFIG_N_SLOTS && s < 4; s++) {
		if (cfg->policy[s].n > PROFILE_POLICIES_MAX)
			return pv_why_set(why, PV_E_CONFIG,
			    "[policy] %s: too many OIDs", config_slot_name(
			    (enum config_slot)s));
		c->policy[s].n = cfg->policy[s].n;
		for (i = 0; i < cfg->policy[s].n; i++)
			if ((r = profile_copy_str(c->policy[s].oid[i],
			    PROFILE_OID_MAX, cfg->policy[s].oid[i], "[policy]",
			    why)) != PV_OK)
				return r;
	}
	c->validity_days = cfg->cert_days;
	c->eku_9a = 0;
	if (cfg->eku_9a & CONFIG_EKU_CLIENT_AUTH)
		c->eku_9a |= PROFILE_EKU_CLIENT_AUTH;
	if (cfg->eku_9a & CONFIG_EKU_SMARTCARD_LOGON)
		c->eku_9a |= PROFILE_EKU_SMARTCARD_LOGON;
	if (cfg->eku_9a & CONFIG_EKU_PKINIT)
		c->eku_9a |= PROFILE_EKU_PKINIT;
	c->rfc822_slots = 0;
	c->upn_slots = 0;
	for (s = 0; s < CONFIG_N_SLOTS && s < 4; s++) {
		if (cfg->rfc822_slots & CONFIG_SLOT_BIT(s))
			c->rfc822_slots |= 1u << s;
		if (cfg->upn_slots & CONFIG_SLOT_BIT(s))
			c->upn_slots |= 1u << s;
	}
	c->piv_interim = cfg->piv_interim == CONFIG_PIV_INTERIM_YES ?
	    PROFILE_INTERIM_TRUE : cfg->piv_interim == CONFIG_PIV_INTERIM_OMIT ?
	    PROFILE_INTERIM_OMIT : PROFILE_INTERIM_FALSE;
	if ((r = profile_copy_str(c->ca_issuers_url, PROFILE_URL_MAX,
	    cfg->ca_issuers_url, "[urls] ca_issuers", why)) != PV_OK ||
	    (r = profile_copy_str(c->ocsp_url, PROFILE_URL_MAX, cfg->ocsp_url,
	    "[urls] ocsp", why)) != PV_OK ||
	    (r = profile_copy_str(c->crl_url, PROFILE_URL_MAX, cfg->crl_url,
	    "[urls] crl", why)) != PV_OK)
		return r;
	return profile_cfg_check(c, why);
}

size_t
profile_slot_policies(const struct profile_cfg *cfg, uint8_t slot,
    const char *oids[PROFILE_POLICIES_MAX])
{
	static const enum pkix_policy_role roles[4] = {
		PKIX_POLICY_AUTH, PKIX_POLICY_HARDWARE, PKIX_POLICY_HARDWARE,
		PKIX_POLICY_CARD_AUTH
	};
	const struct profile_policies *pp;
	int i = piv_main_key_index(slot);
	size_t k;

	if (i < 0)
		return 0;
	pp = &cfg->policy[i];
	if (pp->n == 0) {
		oids[0] = pkix_policy_oid(cfg->policies, roles[i]);
		return 1;
	}
	for (k = 0; k < pp->n && k < PROFILE_POLICIES_MAX; k++)
		oids[k] = pp->oid[k];
	return k;
}

static bool
profile_url_set_ok(const char *u)
{
	const unsigned char *p;

	if (u[0] == '\0')
		return true;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0 &&
	    strncmp(u, "ldap://", 7) != 0)
		return false;
	for (p = (const unsigned char *)u; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return true;
}

enum pv_err
profile_cfg_check(const struct profile_cfg *c, struct pv_why *why)
{
	const char *oids[PROFILE_POLICIES_MAX];
	size_t i, k, n;

	for (i = 0; i < PIV_MAIN_KEYS; i++) {
		if (c->policy[i].n > PROFILE_POLICIES_MAX)
			return pv_why_set(why, PV_E_CONFIG,
			    "policy %02x: more than %d OIDs", piv_main_key[i],
			    PROFILE_POLICIES_MAX);
		n = profile_slot_policies(c, piv_main_key[i], oids);
		for (k = 0; k < n; k++)
			if (!pkix_oid_valid(oids[k]))
				return pv_why_set(why, PV_E_CONFIG,
				    "policy %02x: '%s' is not an object "
				    "identifier", piv_main_key[i], oids[k]);
	}
	if (c->validity_days > 20 * 366)
		return pv_why_set(why, PV_E_CONFIG,
		    "validity: %u days is more than 20 years", c->validity_days);
	if ((c->rfc822_slots | c->upn_slots) & PROFILE_BIT_9E)
		return pv_why_set(why, PV_E_CONFIG,
		    "the 9e certificate carries no e-mail or UPN (FIPS 201: "
		    "FASC-N and UUID only)");
	if (c->piv_interim != PROFILE_INTERIM_FALSE &&
	    c->piv_interim != PROFILE_INTERIM_TRUE &&
	    c->piv_interim != PROFILE_INTERIM_OMIT)
		return pv_why_set(why, PV_E_CONFIG,
		    "piv_interim: unknown value");
	if (c->eku_9a & ~(unsigned)(PROFILE_EKU_CLIENT_AUTH |
	    PROFILE_EKU_SMARTCARD_LOGON | PROFILE_EKU_PKINIT))
		return pv_why_set(why, PV_E_CONFIG, "9a EKU: unknown bit");
	if (!profile_url_set_ok(c->ca_issuers_url))
		return pv_why_set(why, PV_E_CONFIG,
		    "ca_issuers_url: expected an http://, https:// or ldap:// URL");
	if (!profile_url_set_ok(c->ocsp_url))
		return pv_why_set(why, PV_E_CONFIG,
		    "ocsp_url: expected an http://, https:// or ldap:// URL");
	if (!profile_url_set_ok(c->crl_url))
		return pv_why_set(why, PV_E_CONFIG,
		    "crl_url: expected an http://, https:// or ldap:// URL");
	return PV_OK;
}

/* ---- subject ----------------------------------------------------------------- */

enum pv_err
profile_subject_build(const struct pv_config *cfg, const struct identity *id,
    const char *uuid, bool card_auth, struct profile_subject *out,
    struct pv_why *why)
{
	const struct config_dn *tmpl = card_auth ? &cfg->card_auth_subject :
	    &cfg->subject;
	const char *what = card_auth ? "card_auth_subject" : "subject";
	char val[CONFIG_DN_VALUE_MAX * 4];
	enum pv_err r;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < tmpl->n && i < CONFIG_DN_MAX_RDN; i++) {
		if ((r = identity_expand(tmpl->rdn[i].value, id, uuid, val,
		    sizeof(val), why)) != PV_OK) {
			pv_why_prefix(why, "[certificates] %s: %s", what,
			    tmpl->rdn[i].type);
			goto fail;
		}
		/* its messages start with the attribute type */
		if ((r = pkix_dn_add(&out->dn, tmpl->rdn[i].type, val,
		    why)) != PV_OK) {
			pv_why_prefix(why, "[certificates] %s", what);
			goto fail;
		}
	}
	if (!card_auth) {
		(void)snprintf(out->email, sizeof(out->email), "%s", id->email);
		(void)snprintf(out->upn, sizeof(out->upn), "%s", id->upn);
	}
	return PV_OK;
fail:
	memset(out, 0, sizeof(*out));
	return r;
}

/* ---- subject alternative name ------------------------------------------------ */

static bool
profile_email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	const unsigned char *p;

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return false;
	if (strchr(at + 1, '.') == NULL || strlen(s) > 254)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' ||
		    *p == '(' || *p == ')' || *p == ',' || *p == ';' ||
		    *p == ':' || *p == '\\' || *p == '"' || *p == '[' ||
		    *p == ']')
			return false;
	return true;
}

static bool
profile_upn_ok(const char *s)
{
	const unsigned char *p;
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strlen(s) > 254)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

static enum pv_err
profile_push(GENERAL_NAMES *gens, GENERAL_NAME *g, struct pv_why *why)
{
	if (g == NULL || !sk_GENERAL_NAME_push(gens, g)) {
		GENERAL_NAME_free(g);
		return pkix_crypto_err(why, "subject alternative name");
	}
	return PV_OK;
}

static GENERAL_NAME *
profile_gen_ia5(int type, const char *s)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *v = ASN1_IA5STRING_new();

	if (g == NULL || v == NULL || !ASN1_STRING_set(v, s, (int)strlen(s))) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(v);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, type, v);
	return g;
}

/* otherName whose value is an OCTET STRING or a UTF8String. */
static GENERAL_NAME *
profile_gen_other(const char *oid, int type, const void *p, size_t n)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_STRING *s = ASN1_STRING_type_new(type);

	if (g == NULL || o == NULL || t == NULL || s == NULL ||
	    !ASN1_STRING_set(s, p, (int)n))
		goto fail;
	ASN1_TYPE_set(t, type, s);
	s = NULL;
	if (!GENERAL_NAME_set0_othername(g, o, t))
		goto fail;
	return g;
fail:
	GENERAL_NAME_free(g);
	ASN1_OBJECT_free(o);
	ASN1_TYPE_free(t);
	ASN1_STRING_free(s);
	return NULL;
}

static enum pv_err
profile_san(X509 *x, uint8_t slot, const struct profile_subject *subj,
    const struct profile_card *card, const struct profile_cfg *cfg,
    bool critical, struct pv_why *why)
{
	GENERAL_NAMES *gens = NULL;
	char uri[9 + PKIX_UUID_STR_LEN] = "urn:uuid:";
	bool ids = slot == PROFILE_SLOT_PIV_AUTH ||
	    slot == PROFILE_SLOT_CARD_AUTH;
	unsigned bit = 1u << piv_main_key_index(slot);
	bool email = (cfg->rfc822_slots & bit) && subj->email[0] != '\0';
	bool upn = (cfg->upn_slots & bit) && subj->upn[0] != '\0';
	enum pv_err r = PV_E_INTERNAL;

	if (!ids && !email && !upn)
		return PV_OK;	/* 9C/9D without e-mail: no SAN at all */
	if ((gens = GENERAL_NAMES_new()) == NULL) {
		r = pkix_crypto_err(why, "subject alternative name");
		goto out;
	}
	if (ids) {
		/* FIPS 201-3 §4.2.2: FASC-N as pivFASC-N otherName (OCTET
		 * STRING of the 25 bytes) and the card UUID as a URN. */
		pkix_uuid_str(card->uuid, uri + 9);
		if ((r = profile_push(gens, profile_gen_other(
		    PKIX_OID_PIV_FASCN, V_ASN1_OCTET_STRING, card->fascn,
		    sizeof(card->fascn)), why)) != PV_OK ||
		    (r = profile_push(gens, profile_gen_ia5(GEN_URI, uri),
		    why)) != PV_OK)
			goto out;
	}
	if (email && (r = profile_push(gens, profile_gen_ia5(GEN_EMAIL,
	    subj->email), why)) != PV_OK)
		goto out;
	if (upn && (r = profile_push(gens, profile_gen_other(PKIX_OID_MS_UPN,
	    V_ASN1_UTF8STRING, subj->upn, strlen(subj->upn)), why)) != PV_OK)
		goto out;
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0,
	    X509V3_ADD_REPLACE)) {
		r = pkix_crypto_err(why, "subject alternative name");
		goto out;
	}
	r = PV_OK;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

/* ---- the profile -------------------------------------------------------------- */

static enum pv_err
profile_check_inputs(uint8_t slot, const struct profile_subject *subj,
    const struct profile_card *card, const struct profile_cfg *cfg,
    time_t now, struct pv_why *why)
{
	struct fascn f;
	enum pv_err r;

	if (piv_main_key_index(slot) < 0)
		return pv_why_set(why, PV_E_INVAL,
		    "slot %02X has no certificate profile", slot);
	if ((r = profile_cfg_check(cfg, why)) != PV_OK)
		return r;
	if (card->expiry <= now)
		return pv_why_set(why, PV_E_INPUT,
		    "the card's expiry date has passed");
	if (slot == PROFILE_SLOT_PIV_AUTH || slot == PROFILE_SLOT_CARD_AUTH) {
		if ((r = fascn_decode(card->fascn, sizeof(card->fascn), &f,
		    why)) != PV_OK) {
			pv_why_prefix(why, "card FASC-N");
			return PV_E_INPUT;
		}
	}
	if (subj->dn.n == 0 && slot != PROFILE_SLOT_CARD_AUTH)
		return pv_why_set(why, PV_E_INPUT,
		    "subject: empty (only the 9e certificate may have an empty "
		    "subject)");
	if (subj->email[0] != '\0' && !profile_email_ok(subj->email))
		return pv_why_set(why, PV_E_INPUT,
		    "email: '%s' is not an address", subj->email);
	if (subj->upn[0] != '\0' && !profile_upn_ok(subj->upn))
		return pv_why_set(why, PV_E_INPUT,
		    "upn: '%s' is not a user principal name (user@domain)",
		    subj->upn);
	return PV_OK;
}

static enum pv_err
profile_validity(uint8_t slot, const struct ca *ca,
    const struct profile_card *card, const struct profile_cfg *cfg,
    time_t now, time_t *not_after, struct pv_why *why)
{
	unsigned days = cfg->validity_days ? cfg->validity_days :
	    PROFILE_DAYS_DEFAULT;
	struct tm tm;
	time_t end, ca_end;

	if ((slot == PROFILE_SLOT_PIV_AUTH || slot == PROFILE_SLOT_CARD_AUTH) &&
	    days > PROFILE_DAYS_AUTH_MAX)
		return pv_why_set(why, PV_E_CONFIG,
		    "validity_days: %u is more than the 3 years allowed for %s",
		    days, piv_key_name(slot));
	end = now + (time_t)days * PROFILE_DAY;
	if (end > card->expiry)
		end = card->expiry;	/* SP 800-85B AS07.01.13 */
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(ca_get0_issuing(ca)), &tm))
		return pkix_crypto_err(why, "issuing CA notAfter");
	ca_end = timegm(&tm);
	if (end > ca_end)
		end = ca_end;	/* a certificate never outlives its issuer */
	if (end <= now)
		return pv_why_set(why, PV_E_INPUT,
		    "no validity left: the card or the issuing CA expires now");
	*not_after = end;
	return PV_OK;
}

enum pv_err
profile_issue(const struct ca *ca, EVP_PKEY *pub, uint8_t slot,
    const struct profile_subject *subj, const struct profile_card *card,
    const struct profile_cfg *cfg, time_t now, X509 **out,
    struct profile_issued *info, struct pv_why *why)
{
	const char *eku[3];
	const char *policy[PROFILE_POLICIES_MAX];
	size_t n_policy;
	size_t n_eku = 0;
	uint8_t serial[PKIX_SERIAL_LEN];
	X509_NAME *name = NULL;
	X509 *x = NULL;
	enum pkix_alg alg;
	unsigned ku;
	bool empty_subject;
	time_t not_after = 0;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	if (ca_get0_issuing_key(ca) == NULL)
		return pv_why_set(why, PV_E_STATE,
		    "the CA was opened without its passphrase");
	if ((r = profile_check_inputs(slot, subj, card, cfg, now, why)) !=
	    PV_OK)
		goto out;
	if ((r = pkix_key_alg(pub, &alg, why)) != PV_OK) {
		pv_why_prefix(why, "%s key", piv_key_name(slot));
		goto out;
	}
	if ((r = profile_validity(slot, ca, card, cfg, now, &not_after,
	    why)) != PV_OK)
		goto out;
	if (alg == PKIX_ALG_RSA4096) {
		r = pv_why_set(why, PV_E_INPUT,
		    "%s key: RSA 4096 is not a PIV key size (2048, 3072, P-256, "
		    "P-384)", piv_key_name(slot));
		goto out;
	}
	empty_subject = subj->dn.n == 0;
	if ((r = pkix_dn_to_name(&subj->dn, &name, why)) != PV_OK) {
		pv_why_prefix(why, "subject");
		goto out;
	}
	if ((r = pkix_random_serial(serial, why)) != PV_OK ||
	    (r = pkix_cert_new(pub, name, ca_get0_issuing(ca), serial,
	    sizeof(serial), now, not_after, &x, why)) != PV_OK)
		goto out;

	switch (slot) {
	case PROFILE_SLOT_PIV_AUTH:
		ku = PKIX_KU_DIGITAL_SIGNATURE;
		if (cfg->eku_9a & PROFILE_EKU_CLIENT_AUTH)
			eku[n_eku++] = PKIX_OID_CLIENT_AUTH;
		if (cfg->eku_9a & PROFILE_EKU_SMARTCARD_LOGON)
			eku[n_eku++] = PKIX_OID_MS_SMARTCARD_LOGON;
		if (cfg->eku_9a & PROFILE_EKU_PKINIT)
			eku[n_eku++] = PKIX_OID_PKINIT_CLIENT_AUTH;
		break;
	case PROFILE_SLOT_SIGNATURE:
		ku = PKIX_KU_DIGITAL_SIGNATURE | PKIX_KU_NON_REPUDIATION;
		break;
	case PROFILE_SLOT_KEY_MGMT:
		ku = pkix_alg_is_rsa(alg) ? PKIX_KU_KEY_ENCIPHERMENT :
		    PKIX_KU_KEY_AGREEMENT;
		break;
	default:	/* PROFILE_SLOT_CARD_AUTH */
		ku = PKIX_KU_DIGITAL_SIGNATURE;
		eku[n_eku++] = PKIX_OID_PIV_CARD_AUTH;
		break;
	}
	n_policy = profile_slot_policies(cfg, slot, policy);
	if ((r = pkix_ext_key_usage(x, ku, why)) != PV_OK ||
	    (n_eku > 0 && (r = pkix_ext_eku(x, eku, n_eku,
	    slot == PROFILE_SLOT_CARD_AUTH, why)) != PV_OK) ||
	    (r = pkix_ext_policies(x, policy, n_policy, why)) != PV_OK ||
	    (r = profile_san(x, slot, subj, card, cfg, empty_subject, why)) !=
	    PV_OK ||
	    (r = pkix_ext_aia(x, cfg->ca_issuers_url, cfg->ocsp_url, why)) !=
	    PV_OK ||
	    (r = pkix_ext_crldp(x, cfg->crl_url, why)) != PV_OK ||
	    ((slot == PROFILE_SLOT_PIV_AUTH ||
	    slot == PROFILE_SLOT_CARD_AUTH) &&
	    cfg->piv_interim != PROFILE_INTERIM_OMIT &&
	    (r = pkix_ext_piv_interim(x, cfg->piv_interim ==
	    PROFILE_INTERIM_TRUE, why)) != PV_OK) ||
	    (r = ca_sign_cert(ca, x, why)) != PV_OK ||
	    (r = pkix_x509_refresh(&x, why)) != PV_OK)
		goto out;
	if (info != NULL) {
		memcpy(info->serial, serial, sizeof(serial));
		info->not_before = now;
		info->not_after = not_after;
	}
	*out = x;
	x = NULL;
	r = PV_OK;
out:
	X509_NAME_free(name);
	X509_free(x);
	return r;
}
