/*
 * test_ca_support.c: fixtures for the issuance PKI tests.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/issuance/test_ca_support.h"

/* ykpiv's CHUID template FASC-N (PIV-REFERENCE §5, vector 1). */
static const uint8_t tca_fascn[25] = {
	0xd4, 0xe7, 0x39, 0xda, 0x73, 0x9c, 0xed, 0x39, 0xce, 0x73, 0x9d,
	0x83, 0x68, 0x58, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0xc8, 0x42,
	0x10, 0xc3, 0xeb
};

struct ca *
tca_new(enum pkix_alg alg, enum pkix_alg kra_alg, EVP_PKEY **kra_key)
{
	struct ca_init_params p;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	enum pv_err r;

	ca_init_params_defaults(&p);
	pkix_dn_parse("C=US, O=Test Agency, OU=PIV Station", &p.name, NULL);
	p.root_alg = p.issuing_alg = p.signer_alg = alg;
	p.kra_alg = kra_alg;
	r = ca_new(&p, TCA_NOW, &ca, NULL, kra_key, &why);
	cr_assert_eq(r, PV_OK, "ca_new: %s: %s", pv_strerror(r), why.msg);
	return ca;
}

void
tca_card(struct profile_card *c)
{
	static const uint8_t uuid[16] = {
		0x3f, 0x6c, 0x1a, 0x22, 0x9b, 0x4e, 0x4d, 0x1c,
		0x8a, 0x55, 0x0e, 0x9d, 0x71, 0x20, 0xc4, 0xb7
	};

	memset(c, 0, sizeof(*c));
	memcpy(c->fascn, tca_fascn, sizeof(tca_fascn));
	memcpy(c->uuid, uuid, sizeof(uuid));
	c->expiry = TCA_NOW + (time_t)5 * 365 * 86400;
}

void
tca_subject(struct profile_subject *s)
{
	memset(s, 0, sizeof(*s));
	cr_assert_eq(pkix_dn_parse("C=US, O=Test Agency, OU=People, "
	    "CN=Jane Doe", &s->dn, NULL), PV_OK);
	(void)snprintf(s->email, sizeof(s->email), "jane.doe@example.gov");
	(void)snprintf(s->upn, sizeof(s->upn), "jdoe@example.gov");
}

char *
tca_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	size_t n;
	char *d;

	t = t && *t ? t : "/tmp";
	n = strlen(t) + sizeof("/pvtest-XXXXXX");
	cr_assert_not_null(d = malloc(n));
	(void)snprintf(d, n, "%s/pvtest-XXXXXX", t);
	cr_assert_not_null(mkdtemp(d), "mkdtemp %s", d);
	return d;
}

static int
tca_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

void
tca_rmtree(char *dir)
{
	if (dir == NULL)
		return;
	(void)nftw(dir, tca_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

EVP_PKEY *
tca_key(enum pkix_alg alg)
{
	EVP_PKEY *k = NULL;
	struct pv_why why = { "" };

	cr_assert_eq(pkix_keygen(alg, &k, &why), PV_OK, "keygen: %s", why.msg);
	return k;
}

int
tca_ext_crit(X509 *x, int nid)
{
	int loc = X509_get_ext_by_NID(x, nid, -1);

	if (loc < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(x, loc)) ? 1 : 0;
}
