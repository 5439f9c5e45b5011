/*
 * piv_obj.h: PIV data objects, parsed and built (SP 800-73-4 Part 1 §3,
 * PIV-REFERENCE §4-6).
 *
 * Every parser here takes an object's content exactly as piv_get_data()
 * returns it and every builder produces what piv_put_data() takes:
 *   - for ordinary objects the value inside the 53 wrapper (the card's
 *     "53 L ..." is removed by GET DATA and added by PUT DATA);
 *   - for the Discovery Object the whole 7E element.
 *
 * Parsers are strict and read like the spec: mandatory elements present,
 * elements in the spec's order, no duplicates, lengths within the spec's
 * maxima, nothing after FE (the error detection code, always empty).
 * Unknown tags between known ones are skipped (newer spec revisions add
 * optional elements).  On failure they return PV_E_MALFORMED (PV_E_NOT_FOUND
 * for an empty object) and name the problem in |why| (NULL allowed):
 * "CHUID: FASC-N is 24 bytes, expected 25", "CHUID: tag 34 (GUID) appears
 * twice".
 *
 * Parsed structs hold views (struct buf_cur) into the caller's input,
 * which die with it.  Builders take the same structs (views over the
 * caller's bytes), validate them like the parser would, and append the
 * encoding, with minimal lengths, to |out| (a buf_out the caller set up
 * and cleans up).  Builders return PV_OK, PV_E_INPUT naming the bad field,
 * or PV_E_NOMEM/PV_E_TOO_LONG when |out| cannot take the bytes.
 * Pure functions: no I/O, no globals.
 */
#ifndef PV_APDU_PIV_OBJ_H
#define PV_APDU_PIV_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"
#include "apdu/err.h"
#include "apdu/fascn.h"

/* ---- object tags (Part 1 Table 3) and YubiKey vendor objects ---------- */

#define PIV_OBJ_CARD_AUTH_CERT	0x5fc101	/* 9E */
#define PIV_OBJ_CHUID		0x5fc102
#define PIV_OBJ_FINGERPRINTS	0x5fc103
#define PIV_OBJ_AUTH_CERT	0x5fc105	/* 9A */
#define PIV_OBJ_SECURITY	0x5fc106
#define PIV_OBJ_CCC		0x5fc107
#define PIV_OBJ_FACE		0x5fc108
#define PIV_OBJ_PRINTED		0x5fc109
#define PIV_OBJ_SIGN_CERT	0x5fc10a	/* 9C */
#define PIV_OBJ_KEYMGMT_CERT	0x5fc10b	/* 9D */
#define PIV_OBJ_KEY_HISTORY	0x5fc10c
#define PIV_OBJ_RETIRED_FIRST	0x5fc10d	/* key 82 */
#define PIV_OBJ_RETIRED_LAST	0x5fc120	/* key 95 */
#define PIV_OBJ_IRIS		0x5fc121
#define PIV_OBJ_SM_SIGNER	0x5fc122
#define PIV_OBJ_PAIRING		0x5fc123
#define PIV_OBJ_DISCOVERY	0x7e
#define PIV_OBJ_BIT_GROUP	0x7f61
#define PIV_OBJ_YK_ADMIN	0x5fff00	/* YubiKey admin data */
#define PIV_OBJ_YK_ATTEST	0x5fff01	/* YubiKey attestation cert (F9) */

/*
 * The four keys every PIV card has a slot for, in the order SP 800-73-4
 * lists them: 9A, 9C, 9D, 9E.  piv_main_key_index is a reference's place
 * in it (9A 0 ... 9E 3), or -1.
 */
#define PIV_MAIN_KEYS	4
extern const uint8_t piv_main_key[PIV_MAIN_KEYS];
int piv_main_key_index(uint8_t key_ref);

/*
 * piv_key_name: the key's name as SP 800-73-4 gives it ("PIV
 * Authentication", "Digital Signature", "Key Management", "Card
 * Authentication", "Card Management (9B)", "retired 1" .. "retired 20",
 * "attestation (F9)"), or "unknown key".
 */
const char *piv_key_name(uint8_t key_ref);

/*
 * piv_obj_for_key gives the certificate container of key reference
 * |key_ref|: 9A, 9C, 9D, 9E, the retired 82..95 and YubiKey's F9.  False
 * for any other reference (9B has no certificate).
 */
bool piv_obj_for_key(uint8_t key_ref, uint32_t *out_tag);

/*
 * piv_obj_name gives a short English name for an object tag ("CHUID"),
 * "unknown object" for others; never NULL, static storage.
 */
const char *piv_obj_name(uint32_t tag);

/*
 * piv_tlv_explain writes into |out| (|cap| bytes, NUL-terminated) why
 * tlv_get_any() fails at |at|: "tag 30: length 25 runs past the end (2
 * bytes left)", "tag 30 uses the indefinite length form 80".  For error
 * messages of the parsers in piv_obj.c, piv.c and piv_yk.c.
 */
void piv_tlv_explain(const struct buf_cur *at, char *out, size_t cap);

/* ---- certificate container (Part 1 Tables 10, 15-17, 20-39) -------------- */

#define PIV_CERTINFO_GZIP	0x01	/* CompressionTypeMsb: gzip */
#define PIV_CERTINFO_LEGACY_GZ	0x80	/* older cards' compression flag */
#define PIV_CERT_INFLATE_MAX	32768	/* default cap on an inflated cert */

struct piv_certobj {
	struct buf_cur cert;	/* 70: DER certificate, or gzip if compressed */
	bool has_certinfo;
	uint8_t certinfo;	/* 71 */
	bool compressed;	/* certinfo has 01 (or legacy 80) set */
	bool has_mscuid;
	struct buf_cur mscuid;	/* 72 (deprecated, at most 38 bytes) */
};

/*
 * piv_certobj_parse parses a certificate container: 70 certificate,
 * 71 CertInfo (1 byte; absent on some old cards), 72 MSCUID (optional),
 * FE.  An empty object or an empty 70 means "no certificate":
 * PV_E_NOT_FOUND.  An uncompressed certificate must be one DER SEQUENCE.
 * The SM-signer object's 7F21 is also accepted (skipped).
 */
enum pv_err piv_certobj_parse(const uint8_t *p, size_t len,
    struct piv_certobj *out, struct pv_why *why);

/*
 * piv_certobj_cert gives the DER certificate of |obj| in a new buffer
 * (*out, free with free(); *out_len bytes): copied, or inflated with
 * zlib (gzip or zlib stream, detected) when obj->compressed, never past
 * |max| bytes (0 = PIV_CERT_INFLATE_MAX).  The result must be one DER
 * SEQUENCE.  Returns PV_OK; PV_E_MALFORMED ("certificate container:
 * compressed certificate inflates past N bytes", corrupt stream, bytes
 * after the stream); PV_E_NOMEM.  *out is NULL on failure.
 */
enum pv_err piv_certobj_cert(const struct piv_certobj *obj, size_t max,
    uint8_t **out, size_t *out_len, struct pv_why *why);

/*
 * piv_certobj_build appends a container for the DER certificate |der|:
 * 70 cert, 71 certinfo, FE.  With |compress| the certificate is gzipped
 * (RFC 1952) and certinfo is 01, else certinfo is 00.  |der| must be one
 * DER SEQUENCE (PV_E_INPUT otherwise).
 */
enum pv_err piv_certobj_build(const uint8_t *der, size_t der_len,
    bool compress, struct buf_out *out, struct pv_why *why);

/* ---- CHUID (Part 1 §3.1.2, Table 9; PIV-REFERENCE §4.3) ------------------- */

#define PIV_CHUID_GUID_LEN	16
#define PIV_CHUID_EXPIRY_LEN	8	/* "YYYYMMDD" */

struct piv_chuid {
	bool has_buffer_len;
	struct buf_cur buffer_len;	/* EE (deprecated), at most 2 bytes */
	uint8_t fascn[FASCN_LEN];	/* 30 */
	bool has_org_id;
	struct buf_cur org_id;		/* 32 (deprecated), at most 4 bytes */
	bool has_duns;
	struct buf_cur duns;		/* 33 (deprecated), at most 9 bytes */
	uint8_t guid[PIV_CHUID_GUID_LEN];	/* 34: card UUID */
	char expiry[PIV_CHUID_EXPIRY_LEN + 1];	/* 35: "YYYYMMDD", a real date */
	bool has_cardholder_uuid;
	uint8_t cardholder_uuid[16];	/* 36 */
	struct buf_cur signature;	/* 3E: CMS SignedData; may be empty */
};

/*
 * piv_chuid_parse: EE?, 30 FASC-N (25), 32?, 33?, 34 GUID (16), 35
 * expiry (YYYYMMDD, a valid date), 36?, 3E signature, FE, in that order;
 * 3D (the old authentication key map) is refused.  The FASC-N's bytes are
 * kept as they are; decode them with fascn_decode().
 */
enum pv_err piv_chuid_parse(const uint8_t *p, size_t len,
    struct piv_chuid *out, struct pv_why *why);

/*
 * piv_chuid_build appends the CHUID content of |in|, validated like the
 * parser (expiry a real YYYYMMDD date, lengths in range).  An empty
 * signature view writes "3E 00": an unsigned CHUID, as yubico-piv-tool
 * writes (accepted by OpenSC, not conformant): sign it with the bytes of
 * piv_chuid_tbs() and build again.
 */
enum pv_err piv_chuid_build(const struct piv_chuid *in, struct buf_out *out,
    struct pv_why *why);

/*
 * piv_chuid_tbs appends to |out| the bytes the CHUID signature covers
 * (FIPS 201-3 Table B-1, PIV-REFERENCE §6): every element of the CHUID
 * content |p| except EE and 3E, FE included, copied byte for byte as it
 * is on the card.  |p| must parse as a CHUID.
 */
enum pv_err piv_chuid_tbs(const uint8_t *p, size_t len, struct buf_out *out,
    struct pv_why *why);

/* ---- Card Capability Container (Part 1 §3.1.1, Table 8) ------------------- */

#define PIV_CCC_DATA_MODEL	0x10	/* F5: the only value PIV allows */

struct piv_ccc {
	struct buf_cur card_id;		/* F0: 0 or 21 bytes */
	struct buf_cur cc_version;	/* F1: 0 or 1 */
	struct buf_cur grammar_version;	/* F2: 0 or 1 */
	struct buf_cur app_url;		/* F3: at most 128 */
	struct buf_cur pkcs15;		/* F4: 0 or 1 */
	uint8_t data_model;		/* F5: 1 byte */
	struct buf_cur acr_table;	/* F6: 0 or 17 */
	struct buf_cur card_apdus;	/* F7: 0 */
	struct buf_cur redirection;	/* FA: 0 */
	struct buf_cur cap_tuples;	/* FB: 0 */
	struct buf_cur status_tuples;	/* FC: 0 */
	struct buf_cur next_ccc;	/* FD: 0 */
	bool has_ext_app_url;
	struct buf_cur ext_app_url;	/* E3 (deprecated), at most 48 */
	bool has_secobj_buffer;
	struct buf_cur secobj_buffer;	/* B4 (deprecated), at most 48 */
};

/*
 * piv_ccc_parse parses a CCC: F0 F1 F2 F3 F4 F5 F6 F7 FA FB FC FD [E3]
 * [B4] FE, in that order.  Any data model number (F5) is reported as the
 * card has it.
 */
enum pv_err piv_ccc_parse(const uint8_t *p, size_t len, struct piv_ccc *out,
    struct pv_why *why);

/*
 * piv_ccc_build appends a CCC: lengths as the parser checks them, and
 * data_model must be PIV_CCC_DATA_MODEL (PV_E_INPUT otherwise).
 */
enum pv_err piv_ccc_build(const struct piv_ccc *in, struct buf_out *out,
    struct pv_why *why);

/* ---- Discovery Object (Part 1 §3.3.2, Table 18) --------------------------- */

#define PIV_POLICY_PIV_PIN	0x40	/* PIV Card Application PIN satisfies ACRs */
#define PIV_POLICY_GLOBAL_PIN	0x20	/* Global PIN satisfies ACRs */
#define PIV_POLICY_OCC		0x10	/* on-card comparison satisfies ACRs */
#define PIV_POLICY_VCI		0x08	/* virtual contact interface */
#define PIV_POLICY_VCI_NOPAIR	0x04	/* VCI without pairing code */
#define PIV_POLICY2_PIV_PIN	0x10	/* byte 2: PIV PIN is primary */
#define PIV_POLICY2_GLOBAL_PIN	0x20	/* byte 2: Global PIN is primary */

struct piv_discovery {
	uint8_t aid[16];		/* 4F: the PIV AID */
	size_t aid_len;
	uint8_t policy[2];		/* 5F2F: PIN usage policy */
};

/*
 * piv_discovery_parse parses the whole 7E element: 4F AID (5-16 bytes,
 * starting with the PIV RID), 5F2F policy (2 bytes; byte 1 one of the
 * values Table 18 allows, byte 2 00, 10 or 20).
 */
enum pv_err piv_discovery_parse(const uint8_t *p, size_t len,
    struct piv_discovery *out, struct pv_why *why);

/*
 * piv_discovery_build appends the whole 7E element of |in|, refusing
 * (PV_E_INPUT) what piv_discovery_parse would refuse.
 */
enum pv_err piv_discovery_build(const struct piv_discovery *in,
    struct buf_out *out, struct pv_why *why);

/* ---- Key History Object (Part 1 §3.3.3, Table 19) ------------------------- */

#define PIV_RETIRED_KEYS	20

struct piv_keyhist {
	uint8_t on_card;	/* C1: keys with on-card certificates */
	uint8_t off_card;	/* C2: keys with off-card certificates */
	bool has_url;
	struct buf_cur url;	/* F3: present iff off_card > 0; <= 118 */
};

/*
 * piv_keyhist_parse parses a Key History Object: C1, C2, F3 (present iff
 * C2 > 0), FE; C1 + C2 at most 20 (the retired key slots).
 */
enum pv_err piv_keyhist_parse(const uint8_t *p, size_t len,
    struct piv_keyhist *out, struct pv_why *why);

/* piv_keyhist_build appends a Key History Object, checked the same way. */
enum pv_err piv_keyhist_build(const struct piv_keyhist *in,
    struct buf_out *out, struct pv_why *why);

/* ---- Printed Information (Part 1 §3.1.6, Table 14) ------------------------ */

struct piv_printed {
	struct buf_cur name;		/* 01: at most 125 */
	struct buf_cur affiliation;	/* 02: employee affiliation, <= 20 */
	struct buf_cur expiry;		/* 04: "YYYYMMMDD" (2030JAN01), 9 */
	struct buf_cur serial;		/* 05: agency card serial, <= 20 */
	struct buf_cur issuer;		/* 06: issuer identification, <= 15 */
	bool has_org1;
	struct buf_cur org1;		/* 07: organization line 1, <= 20 */
	bool has_org2;
	struct buf_cur org2;		/* 08: organization line 2, <= 20 */
};

/*
 * piv_printed_parse parses Printed Information: 01 02 04 05 06 [07] [08]
 * FE, each within its Table 14 maximum, 04 a YYYYMMMDD date (month
 * letters in either case).  Object 5FC109 used by
 * yubico-piv-tool to hold a PIN-protected management key (88 {89 key})
 * is recognised and refused with a message that says so (the key itself
 * is neither copied nor named).
 */
enum pv_err piv_printed_parse(const uint8_t *p, size_t len,
    struct piv_printed *out, struct pv_why *why);

/* piv_printed_build appends Printed Information, checked the same way. */
enum pv_err piv_printed_build(const struct piv_printed *in,
    struct buf_out *out, struct pv_why *why);

/* ---- Security Object (Part 1 §3.1.3, Table 12) ---------------------------- */

#define PIV_SECOBJ_MAP_MAX	30	/* BA: 3 bytes per mapped object */

struct piv_secobj {
	struct buf_cur map;	/* BA: (DG number, container ID hi, lo) triples */
	struct buf_cur cms;	/* BB: LDS security object, CMS SignedData */
};

/*
 * piv_secobj_parse parses the Security Object container: BA (a multiple
 * of 3, at most 30 bytes), BB (the CMS, kept as a view), FE.
 */
enum pv_err piv_secobj_parse(const uint8_t *p, size_t len,
    struct piv_secobj *out, struct pv_why *why);

/* piv_secobj_build appends a Security Object container, checked the same
 * way. */
enum pv_err piv_secobj_build(const struct piv_secobj *in,
    struct buf_out *out, struct pv_why *why);

/* piv_secobj_map_count is the number of entries in the BA map. */
size_t piv_secobj_map_count(const struct piv_secobj *so);

/* piv_secobj_map_get reads entry |i|; false past the end. */
bool piv_secobj_map_get(const struct piv_secobj *so, size_t i,
    uint8_t *out_dg, uint16_t *out_container_id);

#endif /* PV_APDU_PIV_OBJ_H */
