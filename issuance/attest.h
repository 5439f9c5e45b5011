/*
 * attest.h: key attestation of YubiKey-class tokens.  A key GENERATEd on
 * such a token comes with an attestation certificate (ATTEST of the slot)
 * signed by the token's F9 attestation key, whose certificate chains to
 * the vendor's attestation root.  attest_verify checks that chain against
 * the roots the station trusts ([attestation] roots) and that the
 * attestation certifies the very key the station is about to certify.
 * Card bytes are hostile: every certificate is parsed here, nothing is
 * trusted because it came from the card.
 */
#ifndef PV_ISSUANCE_ATTEST_H
#define PV_ISSUANCE_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "apdu/err.h"

enum attest_status {
	ATTEST_VERIFIED,	/* chained to a root, and certifies the key */
	ATTEST_MISSING,		/* the token gave none (or no root is set) */
	ATTEST_FAILED		/* given, but does not prove the key */
};

struct attest_result {
	enum attest_status status;
	char text[256];		/* why, in words: "chained to CN=...",
				 * "the attestation certifies another key" */
	char f9_subject[128];	/* the token's attestation CA (RFC 2253) */
	uint8_t cert_sha256[32];	/* of the attestation certificate */
	bool has_cert;
};

/* attest_status_name: "verified", "not attested", "failed". */
const char *attest_status_name(enum attest_status s);

/*
 * attest_verify judges the attestation certificate |att| (DER) of |pub|,
 * with the token's F9 certificate |f9| (DER) as the intermediate, against
 * the trust anchors in the PEM file |roots| (NULL or "": none, which makes
 * every attestation ATTEST_MISSING, "no attestation root configured").
 * |serial| (NULL: not checked) is the token's serial, compared with the
 * attestation's Yubico serial extension (1.3.6.1.4.1.41482.3.7) when it
 * has one.  The verdict is in |out|; PV_OK unless the roots file cannot be
 * read (PV_E_NO_FILE / PV_E_CONFIG, naming it) or memory runs out.
 */
enum pv_err attest_verify(const char *roots, const uint8_t *att,
    size_t att_len, const uint8_t *f9, size_t f9_len, EVP_PKEY *pub,
    const uint32_t *serial, struct attest_result *out, struct pv_why *why);

#endif /* PV_ISSUANCE_ATTEST_H */
