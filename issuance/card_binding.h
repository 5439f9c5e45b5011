/*
 * card_binding.h: do the PIV objects read off a card belong together?
 * The one piece that `pivstation diag` renders and the relying-party
 * validator (val_card.h) builds its checks on: the CHUID as parsed, its
 * signature checked (without a trust anchor: that is the validator's
 * part), and for each certificate the FASC-N and UUID of its subject
 * alternative name against the CHUID's FASC-N and GUID (FIPS 201-3
 * §4.2.1, §5.2.1).  Host only: bytes in, facts out; a card of any
 * issuer.
 */
#ifndef PV_ISSUANCE_CARD_BINDING_H
#define PV_ISSUANCE_CARD_BINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "apdu/err.h"
#include "apdu/fascn.h"

#define CARD_BINDING_TEXT	256

/* What a certificate's SAN says, against the CHUID. */
struct card_binding_cert {
	bool has_fascn;
	uint8_t fascn[FASCN_LEN];
	bool has_uuid;
	uint8_t uuid[16];
	char san_why[128];		/* a malformed FASC-N or UUID, or "" */
	bool fascn_matches;		/* both present and equal */
	bool uuid_matches;
};

struct card_binding {
	/* The CHUID. */
	bool chuid_present;
	bool chuid_parsed;
	char chuid_why[CARD_BINDING_TEXT];	/* why it did not parse */
	uint8_t fascn[FASCN_LEN];
	uint8_t guid[16];
	char expiry[9];			/* YYYYMMDD */
	/* Its signature (3E), checked with the certificate it carries. */
	bool signed_;			/* 3E holds something */
	enum pv_err sig;		/* PV_OK: it verifies, with the content
					 * signing EKU (chuid_verify) */
	char sig_why[CARD_BINDING_TEXT];
	char signer[CARD_BINDING_TEXT];	/* the carried certificate's subject */
	char content_type[80];		/* the CMS eContentType, dotted */
};

/*
 * card_binding_chuid fills |out| from the CHUID contents |chuid| (|n|
 * bytes; NULL: the card has none).  With |signer| non-NULL and a signature
 * that verifies, *signer is the signing certificate (X509_free).  Never
 * fails: what is wrong is in |out|.
 */
void card_binding_chuid(const uint8_t *chuid, size_t n,
    struct card_binding *out, X509 **signer);

/*
 * card_binding_cert compares certificate |x|'s SAN with |b|'s CHUID into
 * |out| (matches only when the CHUID parsed).
 */
void card_binding_cert(X509 *x, const struct card_binding *b,
    struct card_binding_cert *out);

/*
 * card_san_ids reads the FASC-N (pivFASC-N otherName, 2.16.840.1.101.3.6.6)
 * and the UUID (urn:uuid: URI) from |x|'s subject alternative name; *has_*
 * say which were there (a malformed one counts as absent, with |why|).
 */
enum pv_err card_san_ids(X509 *x, uint8_t fascn[FASCN_LEN], bool *has_fascn,
    uint8_t uuid[16], bool *has_uuid, struct pv_why *why);

#endif /* PV_ISSUANCE_CARD_BINDING_H */
