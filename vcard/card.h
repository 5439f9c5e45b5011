/*
 * card.h: the virtual card's command processor.
 *
 * A struct vc_card holds a persistent struct vc_state (borrowed) plus the
 * volatile state of one session: selected application, PIN and
 * management-key status, command chaining and pending response data.
 * vc_card_apdu takes one command APDU and produces one response APDU, as
 * a card does; every change to the persistent state is handed to the
 * save callback before the response is released.
 *
 * Profiles (state.h), quirks and faults shape the behaviour; each quirk
 * names its firmware-notes/ file.
 */
#ifndef PV_VCARD_CARD_H
#define PV_VCARD_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"
#include "apdu/err.h"
#include "vcard/state.h"

/* Quirks: real firmware behaviour, each in firmware-notes/<name>.md. */
#define VC_QUIRK_NO_EXTENDED		0x01u	/* no-extended.md */
#define VC_QUIRK_GET_RESPONSE_255	0x02u	/* get-response-255.md */
#define VC_QUIRK_SELECT_FULL_AID	0x04u	/* select-needs-full-aid.md */
#define VC_QUIRK_PIN_SW_630X		0x08u	/* pin-sw-630x.md */
#define VC_QUIRK_FACTORY_CHUID		0x10u	/* factory-chuid.md */
#define VC_QUIRK_DISCOVERY_BUILTIN	0x20u	/* discovery-builtin.md */

/*
 * vc_quirk_parse maps a quirk name ("no-extended", "get-response-255",
 * "select-needs-full-aid", "pin-sw-630x", "factory-chuid",
 * "discovery-builtin") to its bit; 0 if unknown.
 */
unsigned vc_quirk_parse(const char *name);

/*
 * vc_quirk_factory adds to |st| what |quirks| make a card carry as it
 * leaves the factory (factory-chuid: an unsigned CHUID with the
 * placeholder FASC-N and a random GUID).  Call it on a state just made by
 * vc_state_factory, and after a PIV reset.  PV_E_NOMEM / PV_E_CRYPTO (no
 * randomness); PV_OK when no quirk adds anything.
 */
enum pv_err vc_quirk_factory(struct vc_state *st, unsigned quirks);

/* Faults for reliability tests: each fires once, after |after| APDUs. */
enum vc_fault_kind {
	VC_FAULT_NONE = 0,
	VC_FAULT_REMOVE,	/* the card vanishes (connection dropped) */
	VC_FAULT_MUTE,		/* the card stops answering */
	VC_FAULT_GARBAGE,	/* every later response is random bytes */
	VC_FAULT_RESET,		/* volatile state lost, as after a reset */
};

struct vc_fault {
	enum vc_fault_kind kind;
	unsigned long after;	/* APDUs answered normally before it fires */
	unsigned long ms;	/* remove: ms until reinserted (0 = never);
				   mute: ms of silence before the card is gone
				   (0 = for ever) */
};

/*
 * vc_fault_parse reads "remove-after=N[:MS]", "mute-after=N[:MS]",
 * "garbage-after=N" or "reset-after=N".  False (with |why|) on bad syntax.
 */
bool vc_fault_parse(const char *spec, struct vc_fault *out,
    struct pv_why *why);

#define VC_MAX_FAULTS	8

struct vc_config {
	unsigned quirks;
	struct vc_fault faults[VC_MAX_FAULTS];
	size_t n_faults;
};

/* What the transport must do with the outcome of one command. */
enum vc_action {
	VC_ACT_REPLY = 0,	/* send |rsp| */
	VC_ACT_REMOVE,		/* drop the connection; no reply */
	VC_ACT_MUTE,		/* send nothing */
};

/* The work a command did, for the latency model (latency.h). */
enum vc_op {
	VC_OP_OTHER = 0,	/* small command: base cost only */
	VC_OP_SELECT,
	VC_OP_READ,		/* GET DATA / GET RESPONSE: per byte out */
	VC_OP_WRITE,		/* PUT DATA / IMPORT: per byte in */
	VC_OP_VERIFY,		/* PIN/PUK comparison */
	VC_OP_SIGN,		/* private-key operation of |alg| */
	VC_OP_KEYGEN,		/* key generation of |alg| */
	VC_OP_ADMIN,		/* management-key step */
};

struct vc_cost {
	enum vc_op op;
	uint8_t alg;
	size_t bytes_in;	/* command length */
	size_t bytes_out;	/* response length */
};

/*
 * vc_save_fn persists |st|; the card calls it after every change and
 * before answering.  A failure makes the command answer 6581.
 */
typedef enum pv_err vc_save_fn(void *ctx, const struct vc_state *st);

struct vc_card;

/*
 * vc_card_new makes a card over |st| (borrowed: it must outlive the card)
 * with |cfg| (copied).  |save| may be NULL (nothing is persisted).  The
 * card starts powered on.  PV_E_NOMEM.
 */
enum pv_err vc_card_new(struct vc_state *st, const struct vc_config *cfg,
    vc_save_fn *save, void *save_ctx, struct vc_card **out);

/* vc_card_free wipes and frees; NULL allowed.  The state is not freed. */
void vc_card_free(struct vc_card *c);

/* vc_card_reset drops all volatile state, as power-on or a reset does. */
void vc_card_reset(struct vc_card *c);

/* vc_card_atr writes the ATR (at most 33 bytes) and returns its length. */
size_t vc_card_atr(const struct vc_card *c, uint8_t out[33]);

/* vc_card_extended is true when the card takes extended-length APDUs. */
bool vc_card_extended(const struct vc_card *c);

/*
 * vc_card_apdu processes the command |cmd|,|len| and, for VC_ACT_REPLY,
 * appends the response APDU (data || SW1 SW2, at least 2 bytes) to |rsp|,
 * which must be able to hold 65538 bytes.  |cost| (NULL allowed)
 * receives what the command did.
 */
enum vc_action vc_card_apdu(struct vc_card *c, const uint8_t *cmd,
    size_t len, struct buf_out *rsp, struct vc_cost *cost);

/* vc_card_fault_ms is the |ms| of the fault that fired last, or 0. */
unsigned long vc_card_fault_ms(const struct vc_card *c);

/* vc_card_n_apdus counts the commands processed since vc_card_new. */
unsigned long vc_card_n_apdus(const struct vc_card *c);

#endif /* PV_VCARD_CARD_H */
