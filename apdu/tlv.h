/*
 * tlv.h: BER-TLV as PIV uses it (SP 800-73-4 Part 1 §3, ISO 7816-4 §5.2).
 *
 * Tags are 1-3 bytes and are returned as their raw bytes: 0x53, 0x7f49,
 * 0x5fc102.  Accepted lengths are the short form and 81, 82, 83; 80
 * (indefinite) and 84 or longer are rejected.  Non-minimal lengths are read
 * (cards send them) but never written.  A failed read leaves the cursor
 * where it was.
 */
#ifndef PV_APDU_TLV_H
#define PV_APDU_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"

/* Largest value length the builder writes or the cursor accepts (83 form). */
#define TLV_MAX_LEN 0xffffffu

/*
 * tlv_get_any reads the next element: its tag into *tag, its value as a
 * view into *val.  False on truncation, a bad tag or a bad length.
 */
bool tlv_get_any(struct buf_cur *c, uint32_t *tag, struct buf_cur *val);

/* tlv_get reads the next element only if its tag is |tag|. */
bool tlv_get(struct buf_cur *c, uint32_t tag, struct buf_cur *val);

/*
 * tlv_get_opt reads the next element if its tag is |tag| (*present =
 * true).  When the next element has another tag or the cursor is empty it
 * returns true with *present = false.  False only for a malformed element.
 */
bool tlv_get_opt(struct buf_cur *c, uint32_t tag, struct buf_cur *val,
    bool *present);

/* tlv_peek_tag reads the next tag without consuming anything. */
bool tlv_peek_tag(const struct buf_cur *c, uint32_t *tag);

/*
 * tlv_find scans the elements of |c| (one level, c itself untouched) for
 * the first with |tag|.  False if absent or if an element is malformed.
 */
bool tlv_find(const struct buf_cur *c, uint32_t tag, struct buf_cur *val);

/* tlv_tag_len is the number of bytes |tag| takes on the wire (1-3). */
size_t tlv_tag_len(uint32_t tag);

/* tlv_len_len is the number of bytes a minimal length |n| takes (1-4). */
size_t tlv_len_len(size_t n);

/* tlv_put_tag writes a 1-3 byte tag. */
bool tlv_put_tag(struct buf_out *o, uint32_t tag);

/* tlv_put_len writes a minimal length. */
bool tlv_put_len(struct buf_out *o, size_t n);

/* tlv_put writes a whole element: tag, minimal length, value. */
bool tlv_put(struct buf_out *o, uint32_t tag, const void *val, size_t n);

/*
 * tlv_open writes |tag| and reserves one length byte; *mark remembers
 * where.  tlv_close fixes the length, widening it (and shifting the body)
 * when the body grew past 127 bytes.
 */
bool tlv_open(struct buf_out *o, uint32_t tag, size_t *mark);
bool tlv_close(struct buf_out *o, size_t mark);

#endif /* PV_APDU_TLV_H */
