/*
 * part10.h: PC/SC part 10 reader features (PC/SC Workgroup, Interoperability
 * Specification part 10 v2.02.09; pcsc-lite reader.h; PIV-REFERENCE §11.1).
 *
 * The reader answers CM_IOCTL_GET_FEATURE_REQUEST with a list of 6-byte
 * TLVs (tag, 04, big-endian control code); FEATURE_GET_TLV_PROPERTIES
 * with (tag, length, little-endian value) triples.  Both come from the
 * driver and are parsed as hostile.
 */
#ifndef PV_PCSC_PART10_H
#define PV_PCSC_PART10_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

#define PART10_GET_FEATURE_REQUEST	0x42000d48u	/* SCARD_CTL_CODE(3400) */
#define PART10_VERIFY_PIN_DIRECT	0x06
#define PART10_MODIFY_PIN_DIRECT	0x07
#define PART10_IFD_PIN_PROPERTIES	0x0a
#define PART10_GET_TLV_PROPERTIES	0x12
#define PART10_MAX_FEATURES		32

struct part10_feature {
	uint8_t tag;
	uint32_t code;		/* control code for SCardControl */
};

struct part10_features {
	size_t n;
	struct part10_feature f[PART10_MAX_FEATURES];
};

/*
 * part10_parse_features parses a GET_FEATURE_REQUEST answer.  PV_OK, or
 * PV_E_MALFORMED with |why| for a length other than 4, a truncated TLV,
 * or more than PART10_MAX_FEATURES entries.  An empty answer is PV_OK
 * with n = 0.
 */
enum pv_err part10_parse_features(const uint8_t *p, size_t len,
    struct part10_features *out, struct pv_why *why);

/* part10_find gives the control code of feature |tag|. */
bool part10_find(const struct part10_features *fs, uint8_t tag,
    uint32_t *code);

/* part10_feature_name: "FEATURE_VERIFY_PIN_DIRECT", or "FEATURE_?". */
const char *part10_feature_name(uint8_t tag);

#define PART10_MAX_PROPS 24

struct part10_prop {
	uint8_t tag;
	uint8_t len;		/* 1, 2 or 4 */
	uint32_t value;
};

struct part10_props {
	size_t n;
	struct part10_prop p[PART10_MAX_PROPS];
};

/*
 * part10_parse_props parses a GET_TLV_PROPERTIES answer (values of 1, 2
 * or 4 bytes, little-endian; strings such as tag 0x0E are kept with
 * value 0).  PV_OK or PV_E_MALFORMED.
 */
enum pv_err part10_parse_props(const uint8_t *p, size_t len,
    struct part10_props *out, struct pv_why *why);

/* part10_prop_name: "wLcdLayout", "dwMaxAPDUDataSize", ..., or "property ?" */
const char *part10_prop_name(uint8_t tag);

/*
 * part10_build_verify writes a PIN_VERIFY_STRUCTURE (packed, fields
 * little-endian) for a PIV VERIFY of reference |ref|: ASCII PIN of
 * |min_len|..|max_len| digits left-justified in an 8-byte FF-padded
 * block (SP 800-73-4 Part 2 §2.4.3), validation by the OK key, |timeout_s|
 * seconds.  Returns the length written, 0 when |cap| is too small.
 */
size_t part10_build_verify(uint8_t ref, uint8_t min_len, uint8_t max_len,
    uint8_t timeout_s, uint8_t *out, size_t cap);

/*
 * part10_build_modify writes a PIN_MODIFY_STRUCTURE for a PIV CHANGE
 * REFERENCE DATA of |ref| in which the person types only the new PIN,
 * twice (bConfirmPIN 01): the current value |cur| (|cur_len| <= 8, e.g.
 * the factory PIN the host knows) is put in the first 8-byte block by
 * the host, the reader writes the new PIN over the FF of the second.
 * Same format, lengths and timeout as part10_build_verify.  Returns the
 * length written, 0 when |cap| is too small or |cur_len| > 8.  |out|
 * then holds |cur|: the caller wipes it.
 */
size_t part10_build_modify(uint8_t ref, const uint8_t *cur, size_t cur_len,
    uint8_t min_len, uint8_t max_len, uint8_t timeout_s, uint8_t *out,
    size_t cap);

#endif /* PV_PCSC_PART10_H */
