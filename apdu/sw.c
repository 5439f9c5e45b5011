/*
 * sw.c: status-word names and texts (SP 800-73-4 Part 1 §5.6 Table 6,
 * ISO 7816-4 §5.1.3 Tables 5-6, YubiKey vendor codes), the one mapping
 * from status word to enum pv_err, and the instruction-name table.
 */
#include <stdio.h>
#include <string.h>

#include "apdu/buf.h"
#include "apdu/sw.h"

struct sw_entry {
	uint16_t sw;
	uint16_t mask;		/* bits of sw that must match */
	const char *name;
	const char *text;
};

/* First match wins, so exact entries come before their family. */
static const struct sw_entry sw_table[] = {
	{ 0x9000, 0xffff, "ok", "success" },
	{ 0x6100, 0xff00, "more data",
	    "success, more response data available (GET RESPONSE)" },
	{ 0x6200, 0xffff, "warning",
	    "warning: state of non-volatile memory unchanged" },
	{ 0x6281, 0xffff, "data corrupted",
	    "warning: part of the returned data may be corrupted" },
	{ 0x6282, 0xffff, "end of data",
	    "warning: end of file or record reached before Le bytes" },
	{ 0x6283, 0xffff, "deactivated",
	    "warning: selected file or application deactivated" },
	{ 0x6284, 0xffff, "bad FCI",
	    "warning: file control information not formatted per ISO 7816-4" },
	{ 0x6200, 0xff00, "warning",
	    "warning: state of non-volatile memory unchanged" },
	{ 0x6300, 0xffff, "verification failed",
	    "verification failed (no retry counter, e.g. pairing code)" },
	{ 0x63c0, 0xfff0, "wrong PIN",
	    "verification failed" },
	{ 0x6381, 0xffff, "file filled",
	    "warning: file filled up by the last write" },
	{ 0x6300, 0xff00, "warning",
	    "warning: state of non-volatile memory changed" },
	{ 0x6400, 0xffff, "execution error",
	    "execution error: state of non-volatile memory unchanged" },
	{ 0x6400, 0xff00, "execution error",
	    "execution error: state of non-volatile memory unchanged" },
	{ 0x6581, 0xffff, "memory failure",
	    "memory failure: the card could not write its memory" },
	{ 0x6500, 0xff00, "execution error",
	    "execution error: state of non-volatile memory changed" },
	{ 0x6600, 0xff00, "security issue",
	    "security-related issue reported by the card" },
	{ 0x6700, 0xffff, "wrong length",
	    "wrong length: Lc or Le not accepted" },
	{ 0x6800, 0xffff, "CLA function not supported",
	    "functions in CLA not supported" },
	{ 0x6881, 0xffff, "logical channel not supported",
	    "logical channel not supported" },
	{ 0x6882, 0xffff, "secure messaging not supported",
	    "secure messaging not supported" },
	{ 0x6883, 0xffff, "last command of chain expected",
	    "the last command of the chain was expected" },
	{ 0x6884, 0xffff, "chaining not supported",
	    "command chaining not supported" },
	{ 0x6800, 0xff00, "CLA function not supported",
	    "functions in CLA not supported" },
	{ 0x6981, 0xffff, "incompatible file structure",
	    "command incompatible with file structure" },
	{ 0x6982, 0xffff, "security status not satisfied",
	    "security status not satisfied \xe2\x80\x94 PIN not verified or "
	    "touch needed" },
	{ 0x6983, 0xffff, "blocked",
	    "authentication method blocked \xe2\x80\x94 no tries left" },
	{ 0x6984, 0xffff, "data invalid",
	    "reference data not usable (data invalid)" },
	{ 0x6985, 0xffff, "conditions of use not satisfied",
	    "conditions of use not satisfied" },
	{ 0x6986, 0xffff, "command not allowed",
	    "command not allowed (no current application or file)" },
	{ 0x6987, 0xffff, "SM data objects missing",
	    "expected secure messaging data objects missing" },
	{ 0x6988, 0xffff, "SM data objects incorrect",
	    "secure messaging data objects incorrect" },
	{ 0x6900, 0xff00, "command not allowed",
	    "command not allowed" },
	{ 0x6a80, 0xffff, "bad data",
	    "incorrect parameters in the command data field" },
	{ 0x6a81, 0xffff, "function not supported",
	    "function not supported" },
	{ 0x6a82, 0xffff, "not found",
	    "data object or application not found" },
	{ 0x6a83, 0xffff, "record not found",
	    "record not found" },
	{ 0x6a84, 0xffff, "no space",
	    "not enough memory space on the card" },
	{ 0x6a86, 0xffff, "bad P1/P2",
	    "incorrect parameters P1-P2" },
	{ 0x6a88, 0xffff, "reference not found",
	    "referenced data or key not found" },
	{ 0x6a00, 0xff00, "wrong parameters",
	    "wrong parameters P1-P2" },
	{ 0x6b00, 0xffff, "wrong P1/P2",
	    "wrong parameters P1-P2 (e.g. no such slot)" },
	{ 0x6c00, 0xff00, "wrong Le",
	    "wrong Le field" },
	{ 0x6d00, 0xffff, "INS not supported",
	    "instruction not supported" },
	{ 0x6e00, 0xffff, "CLA not supported",
	    "class not supported" },
	{ 0x6f00, 0xffff, "no precise diagnosis",
	    "no precise diagnosis (card internal error)" },
};

static const struct sw_entry *
sw_find(uint16_t sw)
{
	size_t i;

	for (i = 0; i < sizeof(sw_table) / sizeof(sw_table[0]); i++)
		if ((sw & sw_table[i].mask) == sw_table[i].sw)
			return &sw_table[i];
	return NULL;
}

bool
sw_is_ok(uint16_t sw)
{
	return sw == SW_OK;
}

const char *
sw_name(uint16_t sw)
{
	const struct sw_entry *e = sw_find(sw);

	return e != NULL ? e->name : "unknown status";
}

const char *
sw_text(uint16_t sw, char *out, size_t cap)
{
	const struct sw_entry *e = sw_find(sw);
	unsigned lo = sw & 0xffu;

	if (cap == 0)
		return out;
	if (e == NULL)
		(void)snprintf(out, cap, "%04X: unknown status word", sw);
	else if ((sw & 0xff00) == 0x6100)
		(void)snprintf(out, cap, "%04X: %s (%u %s)", sw, e->text,
		    lo == 0 ? 256 : lo, buf_bytes_word(lo == 0 ? 256 : lo));
	else if ((sw & 0xfff0) == 0x63c0)
		(void)snprintf(out, cap, "%04X: %s, %u %s left", sw, e->text,
		    lo & 0x0f, (lo & 0x0f) == 1 ? "try" : "tries");
	else if ((sw & 0xff00) == 0x6c00)
		(void)snprintf(out, cap, "%04X: %s, the card has %u %s "
		    "(re-send with Le=%02X)", sw, e->text, lo == 0 ? 256 : lo,
		    buf_bytes_word(lo == 0 ? 256 : lo), lo);
	else
		(void)snprintf(out, cap, "%04X: %s", sw, e->text);
	return out;
}

enum pv_err
sw_to_err(uint16_t sw, int *retries)
{
	if (sw == SW_OK)
		return PV_OK;
	if ((sw & 0xfff0) == SW_RETRIES) {
		if (retries != NULL)
			*retries = sw & 0x0f;
		return PV_E_PIN_WRONG;
	}
	switch (sw) {
	case SW_VERIFY_FAIL:
		if (retries != NULL)
			*retries = -1;
		return PV_E_PIN_WRONG;
	case SW_BLOCKED:
		return PV_E_BLOCKED;
	case SW_NOT_FOUND:
	case SW_REF_NOT_FOUND:
		return PV_E_NOT_FOUND;
	case SW_SECURITY:
		return PV_E_SECURITY;
	case SW_FUNC_NOT_SUPPORTED:
	case SW_INS_NOT_SUPPORTED:
	case SW_CLA_NOT_SUPPORTED:
		return PV_E_NOT_SUPPORTED;
	case SW_BAD_P1P2:
	case SW_WRONG_P1P2:
		return PV_E_BAD_P1P2;
	case SW_BAD_DATA:
	case SW_DATA_INVALID:
		return PV_E_BAD_DATA;
	case SW_NO_SPACE:
		return PV_E_NO_SPACE;
	case SW_WRONG_LENGTH:
		return PV_E_WRONG_LENGTH;
	case SW_CONDITIONS:
		return PV_E_CONDITIONS;
	default:
		return PV_E_SW;
	}
}

struct ins_entry {
	uint8_t ins;
	const char *name;
};

/* SP 800-73-4 Part 2 §3, ISO 7816-4 §5.4, YubiKey PIV extensions. */
static const struct ins_entry ins_table[] = {
	{ 0x20, "VERIFY" },
	{ 0x24, "CHANGE REFERENCE DATA" },
	{ 0x2c, "RESET RETRY COUNTER" },
	{ 0x47, "GENERATE ASYMMETRIC KEY PAIR" },
	{ 0x87, "GENERAL AUTHENTICATE" },
	{ 0xa4, "SELECT" },
	{ 0xc0, "GET RESPONSE" },
	{ 0xca, "GET DATA (ISO)" },
	{ 0xcb, "GET DATA" },
	{ 0xdb, "PUT DATA" },
	{ 0x1f, "GLOBAL RESET (YubiKey management)" },
	{ 0xf6, "MOVE KEY (YubiKey)" },
	{ 0xf7, "GET METADATA (YubiKey)" },
	{ 0xf8, "GET SERIAL (YubiKey)" },
	{ 0xf9, "ATTEST (YubiKey)" },
	{ 0xfa, "SET PIN RETRIES (YubiKey)" },
	{ 0xfb, "RESET (YubiKey)" },
	{ 0xfd, "GET VERSION (YubiKey)" },
	{ 0xfe, "IMPORT KEY (YubiKey)" },
	{ 0xff, "SET MANAGEMENT KEY (YubiKey)" },
};

const char *
apdu_ins_name(uint8_t ins)
{
	size_t i;

	for (i = 0; i < sizeof(ins_table) / sizeof(ins_table[0]); i++)
		if (ins_table[i].ins == ins)
			return ins_table[i].name;
	return NULL;
}
