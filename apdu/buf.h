/*
 * buf.h: a read cursor over untrusted bytes and a bounded builder.
 *
 * Modelled on BoringSSL's CBS/CBB.  Every byte that comes from a card is
 * read through struct buf_cur: each read is guarded by one comparison
 * against what is left, and a failed read leaves the cursor unchanged.
 * struct buf_out builds commands and objects; its errors stick, so a run of
 * puts needs one check at the end, and its cleanup always wipes, because
 * these buffers carry PINs and keys.
 */
#ifndef PV_APDU_BUF_H
#define PV_APDU_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view over bytes owned by someone else.  It dies with its buffer. */
struct buf_cur {
	const uint8_t *p;
	size_t len;
};

void buf_cur_init(struct buf_cur *c, const void *p, size_t len);

static inline bool
buf_done(const struct buf_cur *c)
{
	return c->len == 0;
}

/* buf_bytes_word is "byte" for 1 and "bytes" otherwise, for messages. */
static inline const char *
buf_bytes_word(size_t n)
{
	return n == 1 ? "byte" : "bytes";
}

/* Each returns false, leaving |c| as it was, when too few bytes are left. */
bool buf_get_u8(struct buf_cur *c, uint8_t *out);
bool buf_get_u16(struct buf_cur *c, uint16_t *out);	/* big-endian */
bool buf_get_u24(struct buf_cur *c, uint32_t *out);	/* big-endian */
bool buf_get_u32(struct buf_cur *c, uint32_t *out);	/* big-endian */
bool buf_skip(struct buf_cur *c, size_t n);
bool buf_get_bytes(struct buf_cur *c, void *dst, size_t n);
bool buf_get_sub(struct buf_cur *c, size_t n, struct buf_cur *out);
bool buf_peek_u8(const struct buf_cur *c, uint8_t *out);

/* buf_copy_exact copies the whole view into |dst| only if c->len == n. */
bool buf_copy_exact(const struct buf_cur *c, void *dst, size_t n);

/* buf_eq_mem is true when the view holds exactly |p|,|n| (not constant time). */
bool buf_eq_mem(const struct buf_cur *c, const void *p, size_t n);

/*
 * A builder.  buf_out_fixed writes into caller memory (never allocates:
 * APDUs); buf_out_alloc grows a heap buffer up to |max| bytes.  After the
 * first failed call every later call fails too (err sticks).
 */
struct buf_out {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
	bool fixed;
	bool err;
};

void buf_out_fixed(struct buf_out *o, uint8_t *mem, size_t cap);
bool buf_out_alloc(struct buf_out *o, size_t hint, size_t max);
bool buf_put(struct buf_out *o, const void *p, size_t n);
bool buf_put_u8(struct buf_out *o, uint8_t v);
bool buf_put_u16(struct buf_out *o, uint16_t v);	/* big-endian */
bool buf_put_zeros(struct buf_out *o, size_t n);

/* buf_out_reserve makes room for |n| more bytes and returns where they go. */
bool buf_out_reserve(struct buf_out *o, size_t n, uint8_t **out);

/* buf_out_ok is true while no call has failed. */
static inline bool
buf_out_ok(const struct buf_out *o)
{
	return !o->err;
}

/* buf_out_truncate drops bytes past |len| (wiping them). */
void buf_out_truncate(struct buf_out *o, size_t len);

/*
 * buf_out_take hands the heap buffer to the caller (free it with
 * buf_free_secret or OPENSSL_clear_free) and resets |o|.  It fails on a
 * fixed builder or after an error.  On success *out may be non-NULL even
 * when *out_len is 0.
 */
bool buf_out_take(struct buf_out *o, uint8_t **out, size_t *out_len);

/* buf_out_cleanup wipes and frees; safe on a zeroed struct and twice. */
void buf_out_cleanup(struct buf_out *o);

/* buf_wipe overwrites |n| bytes at |p| in a way the compiler keeps. */
void buf_wipe(void *p, size_t n);

/*
 * buf_hex writes |n| bytes as lowercase hex and a NUL into |out| (room for
 * 2n + 1); buf_hex_upper in capitals, as card bytes are usually shown
 * (AIDs, tags), cut to what fits in |cap| (>= 1).  buf_hexval is a hex digit's value (either case) or -1.
 * buf_unhex reads exactly |n| bytes from the |slen| hex digits at |s|
 * (either case, nothing else); false if |slen| != 2n or a digit is bad.
 */
void buf_hex(const uint8_t *p, size_t n, char *out);
void buf_hex_upper(const uint8_t *p, size_t n, char *out, size_t cap);
int buf_hexval(int c);
bool buf_unhex(const char *s, size_t slen, uint8_t *out, size_t n);

/* buf_free_secret wipes |n| bytes then frees |p| (NULL allowed). */
void buf_free_secret(void *p, size_t n);

/*
 * buf_dec_uint reads a decimal number from 0 to |max| (command-line
 * options, configuration values): digits only (no sign, no space, no
 * trailing text), no overflow.  False otherwise, *out unchanged.
 */
bool buf_dec_uint(const char *s, unsigned long long max,
    unsigned long long *out);

#endif /* PV_APDU_BUF_H */
