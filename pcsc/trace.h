/*
 * trace.h: the APDU tracer (`--trace FILE`, `--trace-json`).
 *
 * A tap wraps any apdu_transport (the pcsc one, or a test's fake card)
 * and writes each exchange to the trace before passing it on, redacted by
 * apdu/redact.h's rules from the command bytes: PINs, PUKs, management
 * and private keys never reach the file.  The file is created 0600.
 *
 * Text form (what `pivstation decode` reads):
 *   # 2026-11-23T11:30:01.123456Z connected "Virtual PCD 00 00" T=1
 *   > 00 20 00 80 08 ** ** ** ** ** ** ** ** # 2026-...Z VERIFY
 *   < 90 00 # 0.412 ms 9000 ok
 * JSON Lines form: one object per exchange with the fields decode.h lists
 * (seq, t, reader, cmd, rsp, us, err).
 */
#ifndef PV_PCSC_TRACE_H
#define PV_PCSC_TRACE_H

#include <stdbool.h>

#include "apdu/apdu.h"
#include "apdu/err.h"

struct pcsc_trace;

/*
 * pcsc_trace_open creates (or truncates) |path| with mode 0600, refusing
 * a symbolic link; "-" writes to standard error.  PV_E_IO with |why| when
 * the file cannot be opened.
 */
enum pv_err pcsc_trace_open(const char *path, bool json,
    struct pcsc_trace **out, struct pv_why *why);

/* pcsc_trace_close flushes and closes (NULL allowed). */
void pcsc_trace_close(struct pcsc_trace *t);

/* pcsc_trace_note writes a comment line (text form only). */
void pcsc_trace_note(struct pcsc_trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct pcsc_trace_tap;

/*
 * pcsc_trace_tap_new wraps |inner| (copied) for connection |reader| into
 * *out_tr, which logs to |t| (borrowed: it must outlive the tap).  With
 * t == NULL the tap passes exchanges through untouched.  PV_E_NOMEM.
 */
enum pv_err pcsc_trace_tap_new(struct pcsc_trace *t,
    const struct apdu_transport *inner, const char *reader,
    struct pcsc_trace_tap **out, struct apdu_transport *out_tr);

void pcsc_trace_tap_free(struct pcsc_trace_tap *tap);

/* pcsc_trace_time formats CLOCK_REALTIME now as ISO 8601 UTC with µs. */
#define PCSC_TIME_LEN 80
void pcsc_trace_time(char out[PCSC_TIME_LEN]);

#endif /* PV_PCSC_TRACE_H */
