/*
 * test_ca_support.h: fixtures shared by the CA, profile, CHUID, Security
 * Object and escrow tests: an in-memory CA, a card, temporary folders.
 */
#ifndef PV_TESTS_ISSUANCE_CA_SUPPORT_H
#define PV_TESTS_ISSUANCE_CA_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "issuance/ca.h"
#include "issuance/profile.h"

/* A fixed "now" (2026-01-01T00:00:00Z) so validity arithmetic is exact. */
#define TCA_NOW ((time_t)1767225600)

/*
 * tca_new makes an in-memory CA whose keys are all |alg| except the KRA's
 * (|kra_alg|); *kra_key (NULL allowed) gets the KRA private key.  Fails
 * the test on error.
 */
struct ca *tca_new(enum pkix_alg alg, enum pkix_alg kra_alg,
    EVP_PKEY **kra_key);

/* tca_card fills a card: the ykpiv FASC-N vector, a fixed UUID, expiry
 * TCA_NOW + 5 years. */
void tca_card(struct profile_card *c);

/* tca_subject fills Jane Doe's subject, e-mail and UPN. */
void tca_subject(struct profile_subject *s);

/* tca_tmpdir makes a new 0700 folder under $TMPDIR or /tmp; free with
 * tca_rmtree. */
char *tca_tmpdir(void);
void tca_rmtree(char *dir);

/* tca_key makes a key or fails the test. */
EVP_PKEY *tca_key(enum pkix_alg alg);

/* tca_has_ext_crit: 1 critical, 0 non-critical, -1 absent. */
int tca_ext_crit(X509 *x, int nid);

#endif /* PV_TESTS_ISSUANCE_CA_SUPPORT_H */
