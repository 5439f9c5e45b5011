/*
 * card.h: the card seam: how issuance reaches a card, and the facts it
 * reads off one.  Issue, derive, validate, unblock, diag and batch all go
 * through it.
 *
 * A struct card is a handle: a way to run a group of card commands that
 * must not be interleaved with other programs (one PC/SC transaction,
 * recovering from a reset by another program), a count of the card's
 * security-status losses, the reader's PIN pad, and what the caller knows
 * of the card (ATR, reader name, whether PIV could be selected).
 * card_from_session() makes one over a pcsc session; unit tests make one
 * over an in-process virtual card, and fuzzers over scripted bytes.
 *
 * The helpers take a handle and return facts (struct card_facts, PIN
 * outcomes with the tries left, key hashes): nothing here knows of jobs,
 * the store or the workflow that asked.
 */
#ifndef PV_ISSUANCE_CARD_H
#define PV_ISSUANCE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/apdu.h"
#include "apdu/err.h"
#include "apdu/piv.h"
#include "apdu/piv_yk.h"

struct pcsc_session;	/* pcsc/session.h */

/* One group of card commands that must not be interleaved with others. */
typedef enum pv_err card_fn(struct apdu_session *a, void *arg,
    struct pv_why *why);

struct card_ops {
	/* Runs |fn| in one transaction, recovering from a reset; NULL:
	 * call |fn| directly. */
	enum pv_err (*run)(void *ctx, card_fn *fn, void *arg,
	    struct pv_why *why);
	/* Changes whenever the security status was lost; NULL: never. */
	unsigned (*epoch)(void *ctx);
	/* Learns which card this is, for the same-card check after a
	 * reset (a serial, else a GUID); NULL: no check. */
	void (*note_identity)(void *ctx, bool has_serial, uint32_t serial,
	    bool has_guid, const uint8_t guid[16]);
	/* What the reader's pad lacks to VERIFY (|change| false) or also
	 * CHANGE (true) a PIN: *missing names it, NULL when nothing; the
	 * op itself NULL: no pad at all. */
	enum pv_err (*pad_missing)(void *ctx, bool change,
	    const char **missing, struct pv_why *why);
	/* The pad: errors as pcsc_session_verify_pinpad / _change_pinpad. */
	enum pv_err (*pad_verify)(void *ctx, uint8_t ref, uint8_t min,
	    uint8_t max, int *retries, struct pv_why *why);
	enum pv_err (*pad_change)(void *ctx, uint8_t ref, const uint8_t *cur,
	    size_t cur_len, uint8_t min, uint8_t max, int *retries,
	    struct pv_why *why);
};

struct card {
	struct apdu_session *apdu;
	const struct card_ops *ops;
	void *ctx;
	const uint8_t *atr;		/* may be NULL */
	size_t atr_len;
	const char *reader;		/* for messages and the job row */
	bool piv_selected;		/* the PIV application answered SELECT */
	enum pv_err select_err;		/* why not */
	uint64_t ns;			/* time spent in card command groups */
};

/*
 * card_from_session fills |c| for a session opened with pcsc_session_open
 * (borrowed: it must outlive |c|).
 */
void card_from_session(struct card *c, struct pcsc_session *s);

/* card_reader: the reader's name for messages ("the reader" if none). */
const char *card_reader(const struct card *c);

/*
 * card_check_piv: PV_OK when the card's PIV application answered SELECT,
 * else the SELECT's error with |why| naming the reader.
 */
enum pv_err card_check_piv(const struct card *c, struct pv_why *why);

/* card_run runs |fn| through the seam and adds its time to c->ns. */
enum pv_err card_run(struct card *c, card_fn *fn, void *arg,
    struct pv_why *why);

/* card_epoch: the security-status epoch (0 when the seam has none). */
unsigned card_epoch(const struct card *c);

/* card_note_identity tells the seam which card this is. */
void card_note_identity(struct card *c, bool has_serial, uint32_t serial,
    bool has_guid, const uint8_t guid[16]);

/*
 * card_check_pad: PV_OK when the reader has a pad that can verify and,
 * with |change|, also change a PIN; PV_E_INPUT naming the reader and what
 * it lacks otherwise ("--pin-pad" was asked of a reader without one).
 */
enum pv_err card_check_pad(struct card *c, bool change, struct pv_why *why);

/* ---- PINs ------------------------------------------------------------------ */

/*
 * card_verify_pin VERIFYs |pin| (a command group of its own).  Returns
 * PV_OK; PV_E_PIN_WRONG with "wrong PIN (N tries left)" and *retries;
 * PV_E_BLOCKED "the card's PIN is blocked"; transport errors as they are.
 * |retries| may be NULL.
 */
enum pv_err card_verify_pin(struct card *c, const uint8_t *pin, size_t len,
    int *retries, struct pv_why *why);

/*
 * card_pad_verify_pin VERIFYs the PIN the person types on the reader's pad
 * (|min|..|max| digits); outcomes as card_verify_pin, plus PV_E_TIMEOUT /
 * PV_E_CANCELLED / PV_E_INPUT from the pad.
 */
enum pv_err card_pad_verify_pin(struct card *c, uint8_t min, uint8_t max,
    int *retries, struct pv_why *why);

/*
 * card_pad_change_pin: CHANGE REFERENCE DATA of the PIN from |cur| to what
 * the person types twice on the pad.  A wrong |cur| is PV_E_PIN_WRONG
 * with *retries and no message of its own (the caller knows what |cur|
 * was); the pad's refusals as card_pad_verify_pin.
 */
enum pv_err card_pad_change_pin(struct card *c, const uint8_t *cur,
    size_t cur_len, uint8_t min, uint8_t max, int *retries,
    struct pv_why *why);

/*
 * card_pin_outcome turns a VERIFY's refusal into the cardholder's words
 * ("wrong PIN (2 tries left)", "the card's PIN is blocked"); other
 * results are returned as they are.
 */
enum pv_err card_pin_outcome(enum pv_err r, int retries, struct pv_why *why);

/* ---- keys -------------------------------------------------------------------- */

/*
 * card_key_hash (inside a group): the SHA-256 of the SubjectPublicKeyInfo
 * of the key in |slot|, from GET METADATA.  PV_E_NOT_FOUND when the slot
 * has no key, PV_E_NOT_SUPPORTED without metadata.
 */
enum pv_err card_key_hash(struct apdu_session *a, uint8_t slot,
    uint8_t out[32], struct pv_why *why);

/* ---- facts ----------------------------------------------------------------- */

/* What a card says about itself, read without changing anything. */
struct card_facts {
	bool yk;			/* GET VERSION answered: YubiKey extensions */
	struct piv_yk_version ver;
	bool has_serial;
	uint32_t serial;
	bool has_mgm_meta;		/* 9B metadata: algorithm, default */
	uint8_t mgm_alg;
	bool mgm_default;
	bool has_pin_meta;		/* PIN metadata: default, tries */
	bool pin_default;
	uint8_t pin_left;
	bool has_puk_meta;
	bool puk_default;
	uint8_t puk_left;
	bool has_pin_status;		/* VERIFY without data */
	struct piv_pin_status pin_status;
	bool has_chuid;			/* a CHUID object is present */
	bool chuid_ok;			/* ... and parses */
	bool chuid_signed;		/* ... with a signature element that is
					 * not empty (checked elsewhere) */
	uint8_t chuid_guid[16];
	uint8_t chuid_fascn[25];
	bool read_certs;		/* the four containers were read */
	unsigned certs;			/* bit (1 << n) per certificate of
					 * 9A 9C 9D 9E (n = 0..3) */
	uint8_t cert_sha256[4][32];	/* of each certificate object's DER */
};

#define CARD_FACTS_CERTS	0x1	/* also read the four certificates */

/*
 * card_inspect reads |out| (one command group): version, serial and
 * metadata where the token has them, the PIN's state, the CHUID and, with
 * CARD_FACTS_CERTS, the four certificate containers.  What the card
 * cannot say is left unset; only an error that ends card work
 * (pv_err_aborts) is returned.
 */
enum pv_err card_inspect(struct card *c, unsigned what,
    struct card_facts *out, struct pv_why *why);

/*
 * card_describe writes a one-line description for a person: "YubiKey-
 * compatible token, firmware 5.4.3, serial 123; PIN default, 3 tries
 * left; no CHUID", with |more| (NULL: nothing) before the CHUID part.
 */
void card_describe(const struct card_facts *f, const char *more, char *out,
    size_t cap);

#endif /* PV_ISSUANCE_CARD_H */
