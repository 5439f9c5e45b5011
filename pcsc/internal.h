/*
 * internal.h: structures shared by the files of pcsc/ (not for callers).
 */
#ifndef PV_PCSC_INTERNAL_H
#define PV_PCSC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "pcsc/sys.h"

struct pcsc_ctx {
	const struct pcsc_sys *sys;
	pthread_mutex_t lock;		/* guards h/valid against cancel */
	SCARDCONTEXT h;
	bool valid;
	atomic_bool cancelled;
	int wake[2];			/* self-pipe: cancel wakes a back-off pause */
	uint32_t last_rc;
	const char *last_call;
	unsigned first_ms, max_ms, total_ms;
	unsigned n_reestablished;
	bool ever_established;
	pcsc_log_fn *log;
	void *log_arg;
};

/* pcsc_note_rc records a failed call; returns pcsc_rc_to_err(rc). */
enum pv_err pcsc_note_rc(struct pcsc_ctx *c, const char *call, LONG rc);

/*
 * pcsc_ctx_handle gives the current PC/SC context for a call, after
 * pcsc_ctx_ensure.
 */
SCARDCONTEXT pcsc_ctx_handle(struct pcsc_ctx *c);

/*
 * pcsc_ctx_lost marks the context dead after |rc| said the service went
 * away (or the handle is no longer valid), so the next ensure
 * re-establishes.  True when |rc| was such a code.
 */
bool pcsc_ctx_lost(struct pcsc_ctx *c, LONG rc);

/* pcsc_ctx_pause sleeps |ms| unless cancelled first (false then). */
bool pcsc_ctx_pause(struct pcsc_ctx *c, unsigned ms);

#define pcsc_log(c, ...) \
	do { if ((c)->log != NULL) (c)->log((c)->log_arg, __VA_ARGS__); } while (0)


#endif /* PV_PCSC_INTERNAL_H */
