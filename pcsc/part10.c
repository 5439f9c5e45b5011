/*
 * part10.c: PC/SC part 10 feature list, TLV properties and the
 * PIN_VERIFY_STRUCTURE for a PIN-pad VERIFY.
 */
#include <string.h>

#include "apdu/buf.h"
#include "pcsc/part10.h"

enum pv_err
part10_parse_features(const uint8_t *p, size_t len,
    struct part10_features *out, struct pv_why *why)
{
	struct buf_cur c;
	uint8_t tag, l;
	uint32_t code;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&c, p, len);
	while (!buf_done(&c)) {
		if (!buf_get_u8(&c, &tag) || !buf_get_u8(&c, &l))
			return pv_why_set(why, PV_E_MALFORMED,
			    "reader features: truncated entry at byte %zu",
			    len - c.len);
		if (l != 4)
			return pv_why_set(why, PV_E_MALFORMED,
			    "reader features: feature %02X has length %u, "
			    "expected 4", tag, l);
		if (!buf_get_u32(&c, &code))
			return pv_why_set(why, PV_E_MALFORMED,
			    "reader features: feature %02X truncated", tag);
		if (out->n >= PART10_MAX_FEATURES)
			return pv_why_set(why, PV_E_MALFORMED,
			    "reader features: more than %d entries",
			    PART10_MAX_FEATURES);
		out->f[out->n].tag = tag;
		out->f[out->n].code = code;
		out->n++;
	}
	return PV_OK;
}

bool
part10_find(const struct part10_features *fs, uint8_t tag, uint32_t *code)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (fs->f[i].tag == tag) {
			*code = fs->f[i].code;
			return true;
		}
	return false;
}

const char *
part10_feature_name(uint8_t tag)
{
	switch (tag) {
	case 0x01: return "FEATURE_VERIFY_PIN_START";
	case 0x02: return "FEATURE_VERIFY_PIN_FINISH";
	case 0x03: return "FEATURE_MODIFY_PIN_START";
	case 0x04: return "FEATURE_MODIFY_PIN_FINISH";
	case 0x05: return "FEATURE_GET_KEY_PRESSED";
	case 0x06: return "FEATURE_VERIFY_PIN_DIRECT";
	case 0x07: return "FEATURE_MODIFY_PIN_DIRECT";
	case 0x08: return "FEATURE_MCT_READER_DIRECT";
	case 0x09: return "FEATURE_MCT_UNIVERSAL";
	case 0x0a: return "FEATURE_IFD_PIN_PROPERTIES";
	case 0x0b: return "FEATURE_ABORT";
	case 0x0c: return "FEATURE_SET_SPE_MESSAGE";
	case 0x0d: return "FEATURE_VERIFY_PIN_DIRECT_APP_ID";
	case 0x0e: return "FEATURE_MODIFY_PIN_DIRECT_APP_ID";
	case 0x0f: return "FEATURE_WRITE_DISPLAY";
	case 0x10: return "FEATURE_GET_KEY";
	case 0x11: return "FEATURE_IFD_DISPLAY_PROPERTIES";
	case 0x12: return "FEATURE_GET_TLV_PROPERTIES";
	case 0x13: return "FEATURE_CCID_ESC_COMMAND";
	case 0x20: return "FEATURE_EXECUTE_PACE";
	default: return "FEATURE_?";
	}
}

enum pv_err
part10_parse_props(const uint8_t *p, size_t len, struct part10_props *out,
    struct pv_why *why)
{
	struct buf_cur c, v;
	uint8_t tag, l, b;
	uint32_t val;
	size_t i;

	memset(out, 0, sizeof(*out));
	buf_cur_init(&c, p, len);
	while (!buf_done(&c)) {
		if (!buf_get_u8(&c, &tag) || !buf_get_u8(&c, &l) ||
		    !buf_get_sub(&c, l, &v))
			return pv_why_set(why, PV_E_MALFORMED,
			    "reader properties: truncated at byte %zu",
			    len - c.len);
		if (out->n >= PART10_MAX_PROPS)
			return pv_why_set(why, PV_E_MALFORMED,
			    "reader properties: more than %d entries",
			    PART10_MAX_PROPS);
		val = 0;
		if (l == 1 || l == 2 || l == 4) {
			for (i = l; i > 0; i--) {	/* little-endian */
				b = v.p[i - 1];
				val = val << 8 | b;
			}
		}
		out->p[out->n].tag = tag;
		out->p[out->n].len = l;
		out->p[out->n].value = val;
		out->n++;
	}
	return PV_OK;
}

const char *
part10_prop_name(uint8_t tag)
{
	switch (tag) {
	case 0x01: return "wLcdLayout";
	case 0x02: return "bEntryValidationCondition";
	case 0x03: return "bTimeOut2";
	case 0x04: return "wLcdMaxCharacters";
	case 0x05: return "wLcdMaxLines";
	case 0x06: return "bMinPINSize";
	case 0x07: return "bMaxPINSize";
	case 0x08: return "sFirmwareID";
	case 0x09: return "bPPDUSupport";
	case 0x0a: return "dwMaxAPDUDataSize";
	case 0x0b: return "wIdVendor";
	case 0x0c: return "wIdProduct";
	default: return "property ?";
	}
}

/*
 * The fields both PIN structures open with: timeouts, then the PIV PIN
 * format (bmFormatString 82: units in bytes, PIN at offset 0, left
 * justified, ASCII; an 8-byte block; no length field).
 */
static void
pin_format(struct buf_out *o, uint8_t timeout_s)
{
	(void)buf_put_u8(o, timeout_s);		/* bTimerOut */
	(void)buf_put_u8(o, timeout_s);		/* bTimerOut2 */
	(void)buf_put_u8(o, 0x82);		/* bmFormatString */
	(void)buf_put_u8(o, 0x08);		/* bmPINBlockString */
	(void)buf_put_u8(o, 0x00);		/* bmPINLengthFormat */
}

/* ... and close with: bTeoPrologue, ulDataLength (LE 32), the APDU. */
static void
pin_apdu(struct buf_out *o, const uint8_t *apdu, uint8_t n)
{
	(void)buf_put_zeros(o, 3);		/* bTeoPrologue */
	(void)buf_put_u8(o, n);
	(void)buf_put_zeros(o, 3);
	(void)buf_put(o, apdu, n);
}

size_t
part10_build_verify(uint8_t ref, uint8_t min_len, uint8_t max_len,
    uint8_t timeout_s, uint8_t *out, size_t cap)
{
	/* VERIFY with an 8-byte block of FF the reader overwrites. */
	uint8_t apdu[13] = { 0x00, 0x20, 0x00, 0x00, 0x08,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct buf_out o;

	apdu[3] = ref;
	buf_out_fixed(&o, out, cap);
	pin_format(&o, timeout_s);
	(void)buf_put_u8(&o, max_len);		/* wPINMaxExtraDigit, LE: max */
	(void)buf_put_u8(&o, min_len);		/* ... then min */
	(void)buf_put_u8(&o, 0x02);		/* bEntryValidationCondition: OK key */
	(void)buf_put_u8(&o, 0x01);		/* bNumberMessage */
	(void)buf_put_u8(&o, 0x09);		/* wLangId 0x0409, LE */
	(void)buf_put_u8(&o, 0x04);
	(void)buf_put_u8(&o, 0x00);		/* bMsgIndex */
	pin_apdu(&o, apdu, sizeof(apdu));
	return buf_out_ok(&o) ? o.len : 0;
}

size_t
part10_build_modify(uint8_t ref, const uint8_t *cur, size_t cur_len,
    uint8_t min_len, uint8_t max_len, uint8_t timeout_s, uint8_t *out,
    size_t cap)
{
	/* CHANGE REFERENCE DATA: current block, then the new one (FF). */
	uint8_t apdu[21];
	struct buf_out o;
	size_t n;

	if (cur_len > 8)
		return 0;
	memset(apdu, 0xff, sizeof(apdu));
	apdu[0] = 0x00;
	apdu[1] = 0x24;
	apdu[2] = 0x00;
	apdu[3] = ref;
	apdu[4] = 0x10;
	if (cur_len > 0)
		memcpy(apdu + 5, cur, cur_len);
	buf_out_fixed(&o, out, cap);
	pin_format(&o, timeout_s);
	(void)buf_put_u8(&o, 0x00);		/* bInsertionOffsetOld (unused) */
	(void)buf_put_u8(&o, 0x08);		/* bInsertionOffsetNew */
	(void)buf_put_u8(&o, max_len);		/* wPINMaxExtraDigit, LE */
	(void)buf_put_u8(&o, min_len);
	/* bConfirmPIN: the new PIN twice; the current one is not typed. */
	(void)buf_put_u8(&o, 0x01);
	(void)buf_put_u8(&o, 0x02);		/* bEntryValidationCondition */
	(void)buf_put_u8(&o, 0x02);		/* bNumberMessage: new, confirm */
	(void)buf_put_u8(&o, 0x09);		/* wLangId 0x0409, LE */
	(void)buf_put_u8(&o, 0x04);
	(void)buf_put_u8(&o, 0x01);		/* bMsgIndex1: "new PIN" */
	(void)buf_put_u8(&o, 0x02);		/* bMsgIndex2: "confirm" */
	(void)buf_put_u8(&o, 0x00);		/* bMsgIndex3 */
	pin_apdu(&o, apdu, sizeof(apdu));
	n = buf_out_ok(&o) ? o.len : 0;
	buf_wipe(apdu, sizeof(apdu));
	return n;
}
