/*
 * fuzz_identity_certs.c: the property behind "nothing is written for an
 * identity the certificates cannot carry".  An identity document that
 * identity_parse accepts, and whose subjects profile_subject_build makes
 * from the configuration's templates (the checks `issue` runs before any
 * job starts), must give all four PIV certificates (9A, 9C, 9D, 9E)
 * signed by a test CA: any refusal left for profile_issue would come
 * after the card was changed.  Tried with the default templates and with
 * templates that put the identity into every attribute type (PrintableString
 * serialNumber, IA5String DC, UTF8String CN/O/OU/L/ST/UID) and the e-mail
 * and UPN into every SAN that may carry them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/identity.h"
#include "issuance/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_CFG 3
#define NOW ((time_t)1767225600)	/* 2026-01-01: runs repeat */

static struct ca *fz_ca;
static EVP_PKEY *fz_key;
static struct pv_config fz_cfg[N_CFG];

static void
fz_dn(struct config_dn *dn, const char *const *kv)
{
	memset(dn, 0, sizeof(*dn));
	for (; kv[0] != NULL; kv += 2, dn->n++) {
		(void)snprintf(dn->rdn[dn->n].type, sizeof(dn->rdn[0].type),
		    "%s", kv[0]);
		(void)snprintf(dn->rdn[dn->n].value, sizeof(dn->rdn[0].value),
		    "%s", kv[1]);
	}
}

static void
fz_setup(void)
{
	static const char *const every[] = {
		"C", "US", "ST", "{family_name}", "L", "{given_name}",
		"O", "{organization}", "OU", "{affiliation}",
		"UID", "{person_id}", "serialNumber", "{given_name}",
		"CN", "{full_name}", NULL
	};
	static const char *const every_9e[] = {
		"DC", "{email}", "CN", "{uuid}", NULL
	};
	static const char *const short_cn[] = {
		"O", "Example Agency", "CN", "{family_name}", NULL
	};
	static const char *const card_auth_cn[] = {
		"serialNumber", "{person_id}", "CN", "{middle_name}", NULL
	};
	struct ca_init_params p;
	unsigned all = CONFIG_SLOT_BIT(CONFIG_SLOT_9A) |
	    CONFIG_SLOT_BIT(CONFIG_SLOT_9C) | CONFIG_SLOT_BIT(CONFIG_SLOT_9D);
	int i;

	ca_init_params_defaults(&p);
	if (ca_new(&p, NOW - 86400, &fz_ca, NULL, NULL, NULL) != PV_OK ||
	    pkix_keygen(PKIX_ALG_P256, &fz_key, NULL) != PV_OK)
		abort();
	for (i = 0; i < N_CFG; i++)
		config_defaults(&fz_cfg[i]);
	fz_dn(&fz_cfg[1].subject, every);
	fz_dn(&fz_cfg[1].card_auth_subject, every_9e);
	fz_cfg[1].rfc822_slots = all;
	fz_cfg[1].upn_slots = all;
	fz_dn(&fz_cfg[2].subject, short_cn);
	fz_dn(&fz_cfg[2].card_auth_subject, card_auth_cn);
	fz_cfg[2].upn_slots = CONFIG_SLOT_BIT(CONFIG_SLOT_9A);
}

/* One configuration: refused before the job, or all four certificates. */
static void
fz_try(const struct pv_config *cfg, const struct identity *id)
{
	static const uint8_t slots[4] = { 0x9a, 0x9c, 0x9d, 0x9e };
	static const uint8_t fascn[25] = {
		0xd4, 0xe7, 0x39, 0xda, 0x73, 0x9c, 0xed, 0x39, 0xce, 0x73,
		0x9d, 0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21,
		0xc8, 0x42, 0x10, 0xc3, 0xeb
	};
	static const char uuid[] = "3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7";
	struct profile_subject subj, subj_9e;
	struct profile_card card;
	struct profile_cfg pc;
	struct pv_why why = { "" };
	X509 *x;
	int s;

	if (profile_cfg_from_config(cfg, &pc, NULL) != PV_OK)
		abort();
	if (profile_subject_build(cfg, id, uuid, false, &subj, &why) != PV_OK ||
	    profile_subject_build(cfg, id, uuid, true, &subj_9e, &why) !=
	    PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();	/* every refusal says why */
		return;
	}
	memset(&card, 0, sizeof(card));
	memcpy(card.fascn, fascn, sizeof(fascn));
	memcpy(card.uuid, "\x3f\x6c\x1a\x22\x9b\x4e\x4d\x1c\x8a\x55\x0e\x9d"
	    "\x71\x20\xc4\xb7", 16);
	card.expiry = NOW + 5 * 365 * 86400;
	for (s = 0; s < 4; s++) {
		x = NULL;
		pv_why_clear(&why);
		if (profile_issue(fz_ca, fz_key, slots[s], slots[s] == 0x9e ?
		    &subj_9e : &subj, &card, &pc, NOW, &x, NULL, &why) !=
		    PV_OK) {
			fprintf(stderr, "slot %02x refused after the checks: "
			    "%s\n", slots[s], why.msg);
			__builtin_trap();
		}
		X509_free(x);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity id;
	int i;

	if (fz_ca == NULL)
		fz_setup();
	if (identity_parse((const char *)data, size, "fuzz", &id, NULL) !=
	    PV_OK)
		return 0;
	for (i = 0; i < N_CFG; i++)
		fz_try(&fz_cfg[i], &id);
	ERR_clear_error();
	return 0;
}
