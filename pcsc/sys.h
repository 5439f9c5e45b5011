/*
 * sys.h: the one seam between pcsc/ and pcsc-lite (internal to pcsc/ and
 * its unit tests).
 *
 * Every SCard* call goes through a table of function pointers, so unit
 * tests replace pcsc-lite with a fake (tests/unit/pcsc/fake_pcsc.c) and
 * production code runs unchanged (libfido2's fido_dev_io_t idea, one level
 * down).  Only pcsc/ and its tests include this header: it pulls in
 * <winscard.h>, which layers above pcsc/ must not see.
 */
#ifndef PV_PCSC_SYS_H
#define PV_PCSC_SYS_H

#include <winscard.h>
#include <reader.h>

#include "pcsc/pcsc.h"

struct pcsc_sys {
	__typeof__(SCardEstablishContext) *establish;
	__typeof__(SCardReleaseContext) *release;
	__typeof__(SCardIsValidContext) *is_valid;
	__typeof__(SCardListReaders) *list_readers;
	__typeof__(SCardGetStatusChange) *get_status_change;
	__typeof__(SCardCancel) *cancel;
	__typeof__(SCardConnect) *connect;
	__typeof__(SCardReconnect) *reconnect;
	__typeof__(SCardDisconnect) *disconnect;
	__typeof__(SCardBeginTransaction) *begin;
	__typeof__(SCardEndTransaction) *end;
	__typeof__(SCardStatus) *status;
	__typeof__(SCardTransmit) *transmit;
	__typeof__(SCardControl) *control;
	__typeof__(SCardGetAttrib) *get_attrib;
};

/* pcsc_sys_real is pcsc-lite itself. */
extern const struct pcsc_sys pcsc_sys_real;

/*
 * pcsc_ctx_new_sys is pcsc_ctx_new over another implementation (tests).
 * |sys| is borrowed and must outlive the context.
 */
enum pv_err pcsc_ctx_new_sys(const struct pcsc_sys *sys,
    struct pcsc_ctx **out);

struct pcsc_session;
struct pcsc_session_opts;

/* pcsc_session_open_sys is pcsc_session_open over another implementation. */
enum pv_err pcsc_session_open_sys(const struct pcsc_sys *sys,
    const struct pcsc_session_opts *opts, struct pcsc_session **out,
    struct pv_why *why);

/* PnP notification pseudo-reader (PC/SC part 3 / pcsc-lite). */
#define PCSC_PNP_READER "\\\\?PnP?\\Notification"

#endif /* PV_PCSC_SYS_H */
