/*
 * fake_pcsc.h: pcsc-lite replaced by a scripted fake, plugged in through
 * struct pcsc_sys (pcsc/sys.h), so pcsc/ runs unchanged in unit tests.
 *
 * State lives in one global (Criterion runs each test in its own process).
 * Card APDUs go to a tests/support fake_card; PC/SC failures are injected
 * per call.  SCardGetStatusChange never blocks: when nothing changed it
 * applies the next scripted mutation (fake_pcsc_on_wait) and looks again,
 * and with none left it returns SCARD_E_TIMEOUT.
 */
#ifndef PV_TESTS_FAKE_PCSC_H
#define PV_TESTS_FAKE_PCSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcsc/sys.h"
#include "tests/support/fake_card.h"

#define FAKE_MAX_READERS 8
#define FAKE_MAX_SCRIPT 32

struct fake_reader {
	char name[PCSC_READER_NAME_MAX];
	bool present;
	uint8_t atr[ATR_MAX_LEN];
	size_t atr_len;
	unsigned events;	/* card insert/remove counter */
};

typedef void fake_mutation_fn(void);

struct fake_pcsc {
	bool service_up;
	unsigned service_back_after;	/* failed establishes before it returns */
	size_t n_readers;
	struct fake_reader r[FAKE_MAX_READERS];
	fake_mutation_fn *on_wait[FAKE_MAX_SCRIPT];
	size_t n_on_wait, next_on_wait;
	/* Applied once, just before a wait that blocked returns a change:
	 * something that happens while the client is not waiting. */
	fake_mutation_fn *on_return;
	/* PnP reader as pcsc-lite 1.9.9 has it: no reader count in the
	 * state; only readers that come or go during the call are signalled
	 * (firmware-notes/pcsc-pnp-reader.md).  Default: the count in the
	 * upper 16 bits, compared with dwCurrentState. */
	bool pnp_during_call_only;
	/* Calls seen. */
	unsigned n_establish, n_release, n_connect, n_reconnect, n_disconnect;
	unsigned n_begin, n_end, n_transmit, n_control, n_gsc;
	DWORD last_reconnect_init;
	DWORD last_share, last_protos;	/* of the last connect or reconnect */
	/* Injection: rc for transmit number k (1-based), begin number k. */
	LONG transmit_rc[FAKE_MAX_SCRIPT];
	LONG begin_rc[FAKE_MAX_SCRIPT];
	bool transmit_empty_at[FAKE_MAX_SCRIPT];	/* success, 0 bytes */
	/* The card behind every connection. */
	struct fake_card *card;
	DWORD proto;		/* SCARD_PROTOCOL_T1 by default */
	/* SCardControl: the answer to CM_IOCTL_GET_FEATURE_REQUEST and to
	 * any other code, or an error. */
	LONG control_rc;
	uint8_t features[64];
	size_t features_len;
	uint8_t control_answer[8];
	size_t control_answer_len;
	uint8_t last_control_in[128];
	size_t last_control_in_len;
	DWORD last_control_code;
};

extern struct fake_pcsc fk;
extern const struct pcsc_sys fake_sys;

/* fake_pcsc_reset: service up, no reader, no script, T=1. */
void fake_pcsc_reset(void);

/* fake_pcsc_add_reader adds a reader (with a YubiKey 5 ATR if |card|). */
struct fake_reader *fake_pcsc_add_reader(const char *name, bool card);

/* fake_pcsc_remove_reader drops reader |name|. */
void fake_pcsc_remove_reader(const char *name);

/* fake_pcsc_on_wait queues a mutation applied by a would-block wait. */
void fake_pcsc_on_wait(fake_mutation_fn *fn);

#endif /* PV_TESTS_FAKE_PCSC_H */
