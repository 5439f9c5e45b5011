/*
 * fuzz_config.c: pivstation.conf (issuance/config.c over libinih) on
 * hostile text: our line reader, the per-key value parsers and the
 * cross-key rules.  Checked: every refusal names the file and line;
 * whatever is accepted keeps its strings NUL-ended inside their arrays
 * and its counts inside their limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "issuance/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		__builtin_trap();
}

static void
check_dn(const struct config_dn *dn)
{
	unsigned i;

	if (dn->n > CONFIG_DN_MAX_RDN)
		__builtin_trap();
	for (i = 0; i < dn->n; i++) {
		check_str(dn->rdn[i].type, sizeof(dn->rdn[i].type));
		check_str(dn->rdn[i].value, sizeof(dn->rdn[i].value));
	}
}

static void
check_oids(const struct config_oids *o)
{
	unsigned i;

	if (o->n > CONFIG_OIDS_MAX)
		__builtin_trap();
	for (i = 0; i < o->n; i++)
		check_str(o->oid[i], sizeof(o->oid[i]));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_config c;
	struct pv_why why;
	unsigned s;

	if (size > 65536)
		return 0;
	pv_why_clear(&why);
	if (config_parse((const char *)data, size, "fuzz.conf", &c, &why) !=
	    PV_OK) {
		if (strncmp(why.msg, "fuzz.conf", 9) != 0 &&
		    strstr(why.msg, "out of memory") == NULL)
			__builtin_trap();	/* the file is named */
		return 0;
	}
	check_str(c.crl_url, sizeof(c.crl_url));
	check_str(c.ocsp_url, sizeof(c.ocsp_url));
	check_str(c.ca_issuers_url, sizeof(c.ca_issuers_url));
	for (s = 0; s < CONFIG_N_SLOTS; s++)
		check_oids(&c.policy[s]);
	check_oids(&c.policy_content_signer);
	check_dn(&c.subject);
	check_dn(&c.card_auth_subject);
	check_str(c.agency_code, sizeof(c.agency_code));
	check_str(c.system_code, sizeof(c.system_code));
	check_str(c.organization_identifier, sizeof(c.organization_identifier));
	check_str(c.issuer_id, sizeof(c.issuer_id));
	check_str(c.pass_arg, sizeof(c.pass_arg));
	check_dn(&c.ca_name);
	if (c.pin_min > c.pin_max || (c.card_years == 0) == (c.card_days == 0))
		__builtin_trap();
	return 0;
}
