/*
 * ctx.c: the PC/SC context: lazy establishment, re-establishment with a
 * bounded back-off after pcscd goes away, cancellation from any thread.
 *
 * pcsc-lite reports a dead daemon as SCARD_E_NO_SERVICE or
 * SCARD_E_SERVICE_STOPPED (and a context from before a restart as
 * SCARD_E_INVALID_HANDLE).  The old context is released and a new one
 * established, as ykpiv does (PIV-REFERENCE §11.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcsc/internal.h"
#include "pcsc/rc.h"

const struct pcsc_sys pcsc_sys_real = {
	.establish = SCardEstablishContext,
	.release = SCardReleaseContext,
	.is_valid = SCardIsValidContext,
	.list_readers = SCardListReaders,
	.get_status_change = SCardGetStatusChange,
	.cancel = SCardCancel,
	.connect = SCardConnect,
	.reconnect = SCardReconnect,
	.disconnect = SCardDisconnect,
	.begin = SCardBeginTransaction,
	.end = SCardEndTransaction,
	.status = SCardStatus,
	.transmit = SCardTransmit,
	.control = SCardControl,
	.get_attrib = SCardGetAttrib,
};

uint64_t
pcsc_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum pv_err
pcsc_ctx_new_sys(const struct pcsc_sys *sys, struct pcsc_ctx **out)
{
	struct pcsc_ctx *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PV_E_NOMEM;
	c->sys = sys;
	c->wake[0] = c->wake[1] = -1;
	if (pipe(c->wake) != 0) {
		free(c);
		return PV_E_NOMEM;
	}
	(void)fcntl(c->wake[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(c->wake[1], F_SETFL, O_NONBLOCK);
	(void)fcntl(c->wake[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(c->wake[1], F_SETFD, FD_CLOEXEC);
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->cancelled, false);
	c->first_ms = 25;
	c->max_ms = 500;
	c->total_ms = 3000;
	*out = c;
	return PV_OK;
}

enum pv_err
pcsc_ctx_new(struct pcsc_ctx **out)
{
	return pcsc_ctx_new_sys(&pcsc_sys_real, out);
}

void
pcsc_ctx_free(struct pcsc_ctx *c)
{
	if (c == NULL)
		return;
	if (c->valid)
		(void)c->sys->release(c->h);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void
pcsc_ctx_set_backoff(struct pcsc_ctx *c, unsigned first_ms, unsigned max_ms,
    unsigned total_ms)
{
	c->first_ms = first_ms > 0 ? first_ms : 1;
	c->max_ms = max_ms >= c->first_ms ? max_ms : c->first_ms;
	c->total_ms = total_ms;
}

void
pcsc_ctx_set_log(struct pcsc_ctx *c, pcsc_log_fn *fn, void *arg)
{
	c->log = fn;
	c->log_arg = arg;
}

enum pv_err
pcsc_note_rc(struct pcsc_ctx *c, const char *call, LONG rc)
{
	c->last_rc = (uint32_t)rc;
	c->last_call = call;
	if (rc != SCARD_S_SUCCESS)
		pcsc_log(c, "%s: %s: %s", call, pcsc_rc_name((uint32_t)rc),
		    pcsc_rc_text((uint32_t)rc));
	return pcsc_rc_to_err((uint32_t)rc);
}

uint32_t
pcsc_ctx_last_rc(const struct pcsc_ctx *c)
{
	return c->last_rc;
}

const char *
pcsc_ctx_last_call(const struct pcsc_ctx *c)
{
	return c->last_call != NULL ? c->last_call : "";
}

unsigned
pcsc_ctx_reestablished(const struct pcsc_ctx *c)
{
	return c->n_reestablished;
}

SCARDCONTEXT
pcsc_ctx_handle(struct pcsc_ctx *c)
{
	SCARDCONTEXT h;

	pthread_mutex_lock(&c->lock);
	h = c->h;
	pthread_mutex_unlock(&c->lock);
	return h;
}

bool
pcsc_ctx_lost(struct pcsc_ctx *c, LONG rc)
{
	SCARDCONTEXT old;
	bool had;

	if (rc == SCARD_F_UNKNOWN_ERROR || rc == SCARD_F_INTERNAL_ERROR) {
		/* The context tells whether pcscd is still there. */
		pthread_mutex_lock(&c->lock);
		had = c->valid && c->sys->is_valid(c->h) == SCARD_S_SUCCESS;
		pthread_mutex_unlock(&c->lock);
		if (had)
			return false;
	} else if (rc != SCARD_E_NO_SERVICE && rc != SCARD_E_SERVICE_STOPPED &&
	    rc != SCARD_E_INVALID_HANDLE && rc != SCARD_F_COMM_ERROR) {
		/* pcsc-lite reports a broken daemon socket as
		 * SCARD_F_COMM_ERROR; SCardIsValidContext cannot tell, it
		 * only checks the client's own table. */
		return false;
	}
	pthread_mutex_lock(&c->lock);
	had = c->valid;
	old = c->h;
	c->valid = false;
	c->h = 0;
	pthread_mutex_unlock(&c->lock);
	if (had)
		(void)c->sys->release(old);	/* frees client-side state */
	pcsc_log(c, "%s: PC/SC context lost (%s)", __func__,
	    pcsc_rc_name((uint32_t)rc));
	return true;
}

bool
pcsc_ctx_pause(struct pcsc_ctx *c, unsigned ms)
{
	struct pollfd p = { .fd = c->wake[0], .events = POLLIN };
	uint64_t end = pcsc_now_ns() + (uint64_t)ms * 1000000u, now;
	int n;

	for (;;) {
		if (atomic_load(&c->cancelled))
			return false;
		now = pcsc_now_ns();
		if (now >= end)
			return true;
		n = poll(&p, 1, (int)((end - now + 999999u) / 1000000u));
		if (n > 0 && atomic_load(&c->cancelled))
			return false;
		if (n < 0 && errno != EINTR)
			return true;
	}
}

enum pv_err
pcsc_ctx_ensure(struct pcsc_ctx *c)
{
	SCARDCONTEXT h = 0;
	LONG rc;
	unsigned pause = c->first_ms;
	uint64_t start = pcsc_now_ns(), spent_ms;

	for (;;) {
		if (atomic_load(&c->cancelled))
			return PV_E_CANCELLED;
		pthread_mutex_lock(&c->lock);
		if (c->valid) {
			pthread_mutex_unlock(&c->lock);
			return PV_OK;
		}
		pthread_mutex_unlock(&c->lock);
		rc = c->sys->establish(SCARD_SCOPE_SYSTEM, NULL, NULL, &h);
		if (rc == SCARD_S_SUCCESS) {
			pthread_mutex_lock(&c->lock);
			c->h = h;
			c->valid = true;
			pthread_mutex_unlock(&c->lock);
			if (c->ever_established) {
				c->n_reestablished++;
				pcsc_log(c, "%s: PC/SC context re-established",
				    __func__);
			}
			c->ever_established = true;
			return PV_OK;
		}
		(void)pcsc_note_rc(c, "SCardEstablishContext", rc);
		if (rc != SCARD_E_NO_SERVICE && rc != SCARD_E_SERVICE_STOPPED)
			return pcsc_rc_to_err((uint32_t)rc);
		spent_ms = (pcsc_now_ns() - start) / 1000000u;
		if (c->total_ms != 0 && spent_ms >= c->total_ms)
			return PV_E_NO_SERVICE;
		if (c->total_ms != 0 && spent_ms + pause > c->total_ms)
			pause = (unsigned)(c->total_ms - spent_ms);
		if (!pcsc_ctx_pause(c, pause))
			return PV_E_CANCELLED;
		pause = pause * 2 > c->max_ms ? c->max_ms : pause * 2;
	}
}

void
pcsc_ctx_cancel(struct pcsc_ctx *c)
{
	static const char b = 1;

	atomic_store(&c->cancelled, true);
	(void)!write(c->wake[1], &b, 1);
	pthread_mutex_lock(&c->lock);
	if (c->valid)
		(void)c->sys->cancel(c->h);
	pthread_mutex_unlock(&c->lock);
}

void
pcsc_ctx_uncancel(struct pcsc_ctx *c)
{
	char buf[16];

	atomic_store(&c->cancelled, false);
	while (read(c->wake[0], buf, sizeof(buf)) > 0)
		;
}

bool
pcsc_ctx_cancelled(const struct pcsc_ctx *c)
{
	return atomic_load(&((struct pcsc_ctx *)(uintptr_t)c)->cancelled);
}
