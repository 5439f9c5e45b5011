/*
 * ca_publish.h: what a relying party fetches to check this station's
 * cards, written to a folder a web server serves as it is:
 *
 *   the issuing CA's certificate as a certs-only CMS SignedData (.p7c,
 *   DER; the FPKI profile's form for AIA caIssuers) at the path of
 *   [urls] ca_issuers, and the CRL last signed by `ca crl` (DER) at the
 *   path of [urls] crl
 *
 * so "http://pki.example.gov/crl/pivstation.crl" becomes
 * DIR/crl/pivstation.crl.  Files are public (0644), written under a
 * temporary name and renamed.
 */
#ifndef PV_ISSUANCE_CA_PUBLISH_H
#define PV_ISSUANCE_CA_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "apdu/err.h"
#include "issuance/config.h"

struct ca_publish_result {
	char crl_file[1024];	/* "" when [urls] crl is empty */
	char p7c_file[1024];	/* "" when [urls] ca_issuers is empty */
	char crl_number[64];	/* of the CRL published, hex */
	unsigned n_certs;	/* in the .p7c */
};

/*
 * ca_certs_only makes a DER certs-only CMS SignedData holding |certs|.
 * *out (OPENSSL_free) on success.
 */
enum pv_err ca_certs_only(STACK_OF(X509) *certs, uint8_t **out,
    size_t *out_len, struct pv_why *why);

/*
 * ca_publish writes the files above from the CA folder |ca_dir| into
 * |out_dir| (created if missing; sub-folders as the URLs need).
 * PV_E_NOT_FOUND when no CRL was signed yet ("run 'pivstation ca crl'");
 * PV_E_CONFIG when a URL's path cannot be a file name.
 */
enum pv_err ca_publish(const char *ca_dir, const struct pv_config *cfg,
    const char *out_dir, struct ca_publish_result *res, struct pv_why *why);

#endif /* PV_ISSUANCE_CA_PUBLISH_H */
