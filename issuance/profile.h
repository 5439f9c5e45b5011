/*
 * profile.h: PIV certificate profiles for the four card slots
 * (PIV-REFERENCE §7.3; SP 800-85B §7; FPKI worksheets; FIPS 201-3 §4.2.2).
 *
 *  slot  key usage (critical)           EKU                    policy
 *  9A    digitalSignature               optional, not critical  authentication
 *  9C    digitalSignature nonRepudiation                        hardware
 *  9D    keyEncipherment (RSA) or                               hardware
 *        keyAgreement (EC)
 *  9E    digitalSignature               id-PIV-cardAuth, crit.  cardAuth
 *
 * 9A and 9E also carry the PIV interim indicator (enum profile_interim).
 * 9A and 9E carry the FASC-N (otherName pivFASC-N, OCTET STRING) and the
 * card UUID (URI urn:uuid:...) in the subject alternative name; 9E nothing
 * else, and with an empty subject its SAN is critical.  E-mail (rfc822Name)
 * and UPN go in the slots the configuration names (9A, 9C, 9D).
 * Every certificate gets AIA and CRL DP from the configuration, a random
 * 16-byte serial, and a validity that never passes the card's expiry.
 */
#ifndef PV_ISSUANCE_PROFILE_H
#define PV_ISSUANCE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/ca.h"
#include "issuance/pkix_util.h"

#define PROFILE_SLOT_PIV_AUTH	0x9a
#define PROFILE_SLOT_SIGNATURE	0x9c
#define PROFILE_SLOT_KEY_MGMT	0x9d
#define PROFILE_SLOT_CARD_AUTH	0x9e

#define PROFILE_URL_MAX		256
#define PROFILE_OID_MAX		64
#define PROFILE_POLICIES_MAX	4	/* policy OIDs per certificate */
#define PROFILE_DAYS_DEFAULT	1095	/* 3 years */
#define PROFILE_DAYS_AUTH_MAX	1095	/* 9A, 9E: at most 3 years (§7.3) */

/* Slot bits (the order of config.h's slots) and 9A EKU bits. */
#define PROFILE_BIT_9A		0x1
#define PROFILE_BIT_9C		0x2
#define PROFILE_BIT_9D		0x4
#define PROFILE_BIT_9E		0x8
#define PROFILE_EKU_CLIENT_AUTH		0x1	/* 1.3.6.1.5.5.7.3.2 */
#define PROFILE_EKU_SMARTCARD_LOGON	0x2	/* 1.3.6.1.4.1.311.20.2.2 */
#define PROFILE_EKU_PKINIT		0x4	/* 1.3.6.1.5.2.3.4 */

/*
 * The PIV interim indicator in the 9A and 9E certificates (FPKI worksheets
 * 12 and 14 make it mandatory there; FIPS 201-3 deprecates it, relying
 * parties and test suites still look for it).  The zero value puts it in.
 */
enum profile_interim {
	PROFILE_INTERIM_FALSE = 0,	/* present, FALSE: NACI adjudicated */
	PROFILE_INTERIM_TRUE,		/* present, TRUE: NACI pending */
	PROFILE_INTERIM_OMIT		/* left out */
};

struct profile_policies {
	unsigned n;
	char oid[PROFILE_POLICIES_MAX][PROFILE_OID_MAX];	/* dotted */
};

/*
 * The profile part of the station configuration.  Plain values so the
 * config loader can fill it; profile_cfg_defaults gives the defaults.
 */
struct profile_cfg {
	enum pkix_policy_set policies;	/* test (CITE) or production OIDs */
	/* Per slot (index: 9A 0, 9C 1, 9D 2, 9E 3); n == 0: the set's OID. */
	struct profile_policies policy[4];
	unsigned validity_days;		/* 0: PROFILE_DAYS_DEFAULT */
	unsigned eku_9a;		/* PROFILE_EKU_* bits; 0: no EKU */
	unsigned rfc822_slots;		/* PROFILE_BIT_*: e-mail in the SAN */
	unsigned upn_slots;		/* PROFILE_BIT_*: UPN in the SAN */
	char ca_issuers_url[PROFILE_URL_MAX];	/* AIA caIssuers; "" none */
	char ocsp_url[PROFILE_URL_MAX];		/* AIA OCSP; "" none */
	char crl_url[PROFILE_URL_MAX];		/* CRL DP; "" none */
	enum profile_interim piv_interim;	/* 9A, 9E */
};

/*
 * profile_cfg_defaults: test policies, 3 years, 9A EKU clientAuth, e-mail
 * in 9C and 9D, no UPN, no URLs, PIV interim indicator FALSE in 9A/9E.
 */
void profile_cfg_defaults(struct profile_cfg *c);

struct pv_config;	/* issuance/config.h */

/*
 * profile_cfg_from_config fills |c| from the station configuration
 * ([policy], [certificates], [urls], [validity] cert_days).  The subject
 * templates stay in the configuration: identity.h expands them.
 * PV_E_CONFIG names what does not fit.
 */
enum pv_err profile_cfg_from_config(const struct pv_config *cfg,
    struct profile_cfg *c, struct pv_why *why);

/*
 * profile_cfg_check validates |c| (OIDs, URLs, validity, 9E carrying no
 * e-mail or UPN).  PV_E_CONFIG naming the setting otherwise.
 */
enum pv_err profile_cfg_check(const struct profile_cfg *c, struct pv_why *why);

/*
 * The person, as a certificate names them.  |dn| is the subject (root
 * first); for 9E it may be empty: the subject is then empty and the SAN
 * critical.  Empty strings = absent.
 */
struct profile_subject {
	struct pkix_dn dn;
	char email[256];	/* rfc822Name */
	char upn[256];		/* user principal name */
};

struct identity;	/* issuance/identity.h */

/*
 * profile_subject_build makes the subject |out| of the 9A, 9C and 9D
 * certificates (|card_auth| false: [certificates] subject, with the
 * person's e-mail and UPN) or of the 9E certificate (true:
 * card_auth_subject, no e-mail or UPN) for |id|, filling the templates
 * with identity_expand (|uuid|: the card UUID as text).  Every attribute
 * passes pkix_dn_add, so profile_issue takes the result.  PV_E_INPUT or
 * PV_E_TOO_LONG with |why| naming "[certificates] subject: CN" and the
 * problem; |out| is zeroed first.
 */
enum pv_err profile_subject_build(const struct pv_config *cfg,
    const struct identity *id, const char *uuid, bool card_auth,
    struct profile_subject *out, struct pv_why *why);

/* Facts about the card the certificate is for. */
struct profile_card {
	uint8_t fascn[25];	/* as in CHUID tag 30 */
	uint8_t uuid[16];	/* card UUID (CHUID tag 34) */
	time_t expiry;		/* no certificate outlives the card */
};

/* What was issued, for the store. */
struct profile_issued {
	uint8_t serial[PKIX_SERIAL_LEN];
	time_t not_before;
	time_t not_after;
};

/*
 * profile_issue makes the certificate for |slot| (PROFILE_SLOT_*) over
 * |pub| (P-256/P-384, or RSA 2048/3072 with e = 65537), signed by the
 * issuing CA of |ca| (opened with its passphrase).  Valid from |now| for
 * the configured days, cut at card->expiry.  On success *out is owned by
 * the caller and |info| (NULL allowed) holds the serial and validity.
 * PV_E_INPUT names a bad subject field, key or card fact; PV_E_CONFIG a bad
 * setting.
 */
enum pv_err profile_issue(const struct ca *ca, EVP_PKEY *pub, uint8_t slot,
    const struct profile_subject *subj, const struct profile_card *card,
    const struct profile_cfg *cfg, time_t now, X509 **out,
    struct profile_issued *info, struct pv_why *why);


/*
 * profile_slot_policies sets *oids to the policy OIDs |cfg| puts in
 * |slot|'s certificate and returns how many (0 for an unknown slot).  The
 * strings live as long as |cfg| (or are static).
 */
size_t profile_slot_policies(const struct profile_cfg *cfg, uint8_t slot,
    const char *oids[PROFILE_POLICIES_MAX]);

#endif /* PV_ISSUANCE_PROFILE_H */
