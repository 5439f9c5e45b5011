/*
 * card_int.h: what card.c, piv.c and ykext.c share inside the vcard.
 *
 * Command handlers take the decoded command (chained data already
 * reassembled), append response data to |out| and return the status word.
 * They never build the 61XX chain themselves: card.c cuts the response to
 * what the command's Le and the profile allow.
 */
#ifndef PV_VCARD_CARD_INT_H
#define PV_VCARD_CARD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/buf.h"
#include "vcard/capdu.h"
#include "vcard/card.h"
#include "vcard/state.h"

/* Status words (SP 800-73-4 Part 2 Table 6, ISO 7816-4 §5.6). */
#define SW_OK			0x9000
#define SW_MEMORY_FAILURE	0x6581
#define SW_WRONG_LENGTH		0x6700
#define SW_LOGICAL_CHANNEL	0x6881
#define SW_SM_UNSUPPORTED	0x6882
#define SW_CHAIN_UNSUPPORTED	0x6884
#define SW_SECURITY		0x6982
#define SW_BLOCKED		0x6983
#define SW_CONDITIONS		0x6985
#define SW_BAD_DATA		0x6a80
#define SW_FUNC_UNSUPPORTED	0x6a81
#define SW_NOT_FOUND		0x6a82
#define SW_NO_SPACE		0x6a84
#define SW_BAD_P1P2		0x6a86
#define SW_REF_NOT_FOUND	0x6a88
#define SW_INS_UNSUPPORTED	0x6d00
#define SW_CLA_UNSUPPORTED	0x6e00

enum vc_app {
	VC_APP_NONE = 0,
	VC_APP_PIV,
	VC_APP_YK_MGMT,		/* the YubiKey management application */
	VC_APP_YK_OTP,		/* the YubiKey OTP applet (serial on < 5) */
};

enum vc_auth_step {
	VC_AUTH_IDLE = 0,
	VC_AUTH_WITNESS,	/* mutual: witness sent, awaiting it back */
	VC_AUTH_CHALLENGE,	/* external: challenge sent, awaiting E(it) */
};

struct vc_card {
	struct vc_state *st;
	struct vc_config cfg;
	vc_save_fn *save;
	void *save_ctx;

	/* Volatile: lost on reset or power-off. */
	enum vc_app app;
	bool derived_aid;	/* mobile: selected through the derived AID */
	bool pin_ok;		/* PIN verified in this session */
	bool pin_always_ok;	/* ... and not yet used by a PIN-always key */
	bool admin_ok;		/* management key authenticated */
	enum vc_auth_step auth_step;
	uint8_t auth_alg;
	uint8_t auth_buf[16];	/* witness or challenge in flight */

	bool chaining;		/* a command chain is open */
	uint8_t ch_ins, ch_p1, ch_p2;
	struct buf_out chain;	/* data of the blocks so far */

	uint8_t *pending;	/* response data awaiting GET RESPONSE */
	size_t pending_len, pending_off;

	/* Faults. */
	unsigned long n_apdus;
	bool garbage;
	uint64_t garbage_rng;
	unsigned long fault_ms;
	bool fault_fired[VC_MAX_FAULTS];

	struct vc_cost cost;	/* of the command being processed */
};

/* Persist the state; returns |sw|, or 6581 when saving failed. */
uint16_t vc_commit(struct vc_card *c, uint16_t sw);

/* Drop the PIV security status (PIN, management key, auth in flight). */
void vc_clear_security(struct vc_card *c);

/* True when the profile lets |ref| hold a key (for GENERATE if |gen|). */
bool vc_slot_allowed(const struct vc_card *c, uint8_t ref, bool gen);

/*
 * True when the card reports firmware |maj|.|min|.|patch| or later
 * (GET VERSION; firmware-notes/yubikey-firmware-gates.md).
 */
bool vc_fw_at_least(const struct vc_card *c, uint8_t maj, uint8_t min,
    uint8_t patch);

/* True when |alg| is an asymmetric algorithm this card supports. */
bool vc_alg_supported(const struct vc_card *c, uint8_t alg);

/* Handlers (piv.c). */
uint16_t vc_piv_select(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_get_data(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_put_data(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_verify(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_change_ref(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_reset_retry(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_general_auth(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_piv_generate(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);

/* Handlers (ykext.c): YubiKey extensions. */
uint16_t vc_yk_version(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_serial(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_move_key(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_otp_serial(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_metadata(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_attest(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_set_retries(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_reset(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_import(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);
uint16_t vc_yk_set_mgm(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);

/* The YubiKey applications beside PIV (ykmgmt.c). */

/* vc_yk_other_aid: VC_APP_YK_MGMT or VC_APP_YK_OTP for their SELECT AIDs,
 * VC_APP_NONE for any other. */
enum vc_app vc_yk_other_aid(const uint8_t *aid, size_t n);

/*
 * vc_yk_select_other selects |app| (as vc_yk_other_aid named it) on a
 * usb-key: its SELECT answer in |out| and 9000, or 6A82 when a key of the
 * reported firmware has no such application.
 */
uint16_t vc_yk_select_other(struct vc_card *c, enum vc_app app,
    struct buf_out *out);
uint16_t vc_yk_read_config(struct vc_card *c, const struct vc_capdu *a,
    struct buf_out *out);

/* Resolve the default PIN/touch policy of slot |ref| (00 → actual). */
uint8_t vc_pin_policy_default(uint8_t ref);

#endif /* PV_VCARD_CARD_INT_H */
