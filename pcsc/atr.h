/*
 * atr.h: Answer-To-Reset decoding (ISO/IEC 7816-3 §8, historical bytes per
 * ISO/IEC 7816-4 §8.1.1) and identification against the pcsc-tools list
 * /usr/share/pcsc/smartcard_list.txt.
 *
 * The ATR comes from the card (through the reader): it is hostile input.
 * atr_parse reads it with the buf_cur cursor and never trusts a count.
 */
#ifndef PV_PCSC_ATR_H
#define PV_PCSC_ATR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"

#define ATR_MAX_LEN	33	/* ISO 7816-3 §8.2.1: TS + at most 32 */
#define ATR_MAX_HIST	15	/* K is one nibble */
#define ATR_MAX_GROUPS	32	/* each group but the last needs a TD byte */
#define ATR_HEX_MAX	(ATR_MAX_LEN * 3)	/* "3B FD ..." with NUL */

/* One group i of interface bytes TAi TBi TCi TDi. */
struct atr_group {
	bool has_ta, has_tb, has_tc, has_td;
	uint8_t ta, tb, tc, td;
	int proto;	/* T announced by TD(i-1) for this group; -1 for group 1 */
};

/* One compact-TLV object of the historical bytes (ISO 7816-4 §8.1.1.2). */
struct atr_ctlv {
	uint8_t tag;		/* high nibble of the header byte */
	uint8_t len;		/* low nibble */
	uint8_t v[ATR_MAX_HIST];
};

struct atr_info {
	uint8_t raw[ATR_MAX_LEN];
	size_t len;

	uint8_t ts;		/* 3B direct, 3F inverse convention */
	uint8_t t0;
	size_t n_groups;
	struct atr_group g[ATR_MAX_GROUPS];

	uint16_t protocols;	/* bit T set for every T offered (T=0 implied without TD1) */
	int first_proto;	/* T of TD1, or 0 */

	/* Global parameters (TA1, TC1, TA2) with the defaults filled in. */
	bool has_ta1;
	uint8_t fi, di;		/* the nibbles of TA1 (default 1, 1) */
	unsigned f, d;		/* Fi and Di; 0 for an RFU value */
	unsigned fmax_khz;	/* maximum clock for Fi, kHz; 0 RFU */
	uint8_t n;		/* TC1 extra guard time (default 0; 255 = minimum) */
	bool has_ta2;		/* specific mode */
	bool ta2_cannot_change;	/* TA2 b8 */
	bool ta2_implicit;	/* TA2 b5: parameters implicit, not from TA1 */
	int ta2_proto;		/* TA2 low nibble */

	/* T=0: TC2 waiting time integer (default 10). */
	uint8_t wi;

	/* T=1 (first TA/TB/TC after a TD announcing T=1) with defaults. */
	bool t1_has_ifsc, t1_has_bwi, t1_has_edc;
	uint8_t ifsc;		/* default 32 */
	uint8_t bwi, cwi;	/* default 4, 13 */
	bool crc;		/* TC b1: CRC, else LRC (default) */

	/* T=15 global interface bytes. */
	bool has_t15_ta;
	uint8_t clock_stop;	/* XI: 0 not supported, 1 low, 2 high, 3 no preference */
	uint8_t class_ui;	/* UI: b1 A (5 V), b2 B (3 V), b3 C (1.8 V) */

	/* Historical bytes. */
	uint8_t hist[ATR_MAX_HIST];
	size_t hist_len;
	uint8_t category;	/* first historical byte; 0 when none */
	bool hist_ctlv;		/* category 00 or 80: compact-TLV follows */
	bool hist_ctlv_ok;	/* the compact-TLV list was well formed */
	size_t n_ctlv;
	struct atr_ctlv ctlv[ATR_MAX_HIST];
	bool has_caps;		/* tag 7: card capabilities */
	uint8_t caps[3];
	size_t caps_len;
	bool has_service;	/* tag 3: card service data */
	uint8_t service;
	bool has_lcs, has_sw;	/* status indicator (tag 8, or 3 bytes after 00) */
	uint8_t lcs;
	uint16_t sw;
	bool has_dir_ref;	/* category 10 */
	uint8_t dir_ref;

	/* Check byte. */
	bool tck_required;	/* some T other than 0 is indicated */
	bool tck_present;
	uint8_t tck;
	bool tck_ok;		/* XOR T0..TCK == 0 (true when absent and not required) */
};

/*
 * atr_parse decodes |atr| (|len| bytes) into |out|.  Returns PV_OK, or
 * PV_E_MALFORMED with |why| naming the problem: empty or over 33 bytes, bad
 * TS, interface or historical bytes announced past the end, or bytes left
 * after TCK.  A wrong TCK or missing required TCK is not an error: it is
 * reported through tck_ok / tck_present.  |why| may be NULL.
 */
enum pv_err atr_parse(const uint8_t *atr, size_t len, struct atr_info *out,
    struct pv_why *why);

/*
 * atr_from_hex parses "3B FD 13 ..." / "3bfd13..." / "3B:FD:..." into
 * |out| (at most ATR_MAX_LEN bytes).  PV_E_INPUT with |why| on a bad digit,
 * an odd count or too many bytes.
 */
enum pv_err atr_from_hex(const char *hex, uint8_t *out, size_t *out_len,
    struct pv_why *why);

/* atr_to_hex writes "3B FD 13 ..." (uppercase, spaced) into |out|. */
void atr_to_hex(const uint8_t *atr, size_t len, char out[ATR_HEX_MAX]);

/*
 * atr_explain_fn receives one decoded element: |field| ("TS", "TA1",
 * "historical", "T=1 IFSC", ...), the raw bytes in hex ("" when derived)
 * and what they mean.
 */
typedef void atr_explain_fn(void *ctx, const char *field, const char *hex,
    const char *meaning);

/* atr_explain walks a parsed ATR in wire order, one call per element. */
void atr_explain(const struct atr_info *a, atr_explain_fn *fn, void *ctx);

/* atr_proto_list writes "T=0, T=1" for a protocol mask into |out|. */
void atr_proto_list(uint16_t protocols, char *out, size_t cap);

/*
 * atr_match_fn receives each matching entry of the list: the pattern line
 * and one description line (called once per description line).
 */
typedef void atr_match_fn(void *ctx, const char *pattern, const char *text);

#define ATR_LIST_DEFAULT "/usr/share/pcsc/smartcard_list.txt"

/*
 * atr_list_match scans |list| (|list_len| bytes of smartcard_list.txt
 * syntax: a pattern line of hex bytes with regular-expression wildcards
 * `.`, `[...]`, `.*`, then tab-indented description lines, then an empty
 * line) and calls |fn| for the description lines of every pattern that
 * matches |atr|.  Patterns using anything beyond that subset, or longer
 * than the list's longest sane pattern, are skipped and counted in
 * *n_skipped (may be NULL).  *n_matched (may be NULL) counts matching
 * patterns.  Returns PV_OK, or PV_E_NOMEM.
 */
enum pv_err atr_list_match(const char *list, size_t list_len,
    const uint8_t *atr, size_t atr_len, atr_match_fn *fn, void *ctx,
    size_t *n_matched, size_t *n_skipped);

/*
 * atr_identify reads the list at |path| (NULL: ATR_LIST_DEFAULT, or the
 * environment variable PIVSTATION_SMARTCARD_LIST when set) and calls
 * atr_list_match.  PV_E_IO when the file cannot be read.  The file's text
 * is kept for the process's life and read again only when it changes;
 * |fn| runs under the cache's lock and must not call atr_identify.
 */
enum pv_err atr_identify(const char *path, const uint8_t *atr,
    size_t atr_len, atr_match_fn *fn, void *ctx, size_t *n_matched);

#endif /* PV_PCSC_ATR_H */
