/*
 * work.h: the console's worker thread.  Card work (sign-in, issue,
 * unblock, diagnostics, key recovery) and store writes run here, one
 * request at a time, so the screen never freezes; progress, questions and
 * results go to the UI thread through the bus.  Every store connection
 * the worker opens acts as the operator who was signed in when the
 * request was made (station_store_open_as).
 */
#ifndef PV_TUI_WORK_H
#define PV_TUI_WORK_H

#include <stdbool.h>

#include "apdu/err.h"
#include "issuance/passphrase.h"
#include "tui/bus.h"
#include "tui/model.h"

struct station;
struct station_opts;
struct watch;
struct tui_work;

/*
 * tui_work_start starts the thread (|stn|, |bus| and |watch| borrowed:
 * they must outlive it; |so|, what |stn| was opened with, is copied: a key
 * recovery opens a station of its own as the operator signed in).  PV_OK,
 * or PV_E_NOMEM / PV_E_INTERNAL.
 */
enum pv_err tui_work_start(struct station *stn, const struct station_opts *so,
    struct tui_bus *bus, struct watch *watch, struct tui_work **out);

/* tui_work_submit queues a copy of |q| (the caller wipes its own). */
void tui_work_submit(struct tui_work *w, const struct tui_req *q);

/* tui_work_cancel: the running workflow stops before its next step. */
void tui_work_cancel(struct tui_work *w);

/*
 * tui_work_stop cancels, waits up to |wait_ms| for the thread and frees
 * it; a thread still inside a card command is left to the process's exit
 * (its job is resumable by design).  Returns true when it ended.
 */
bool tui_work_stop(struct tui_work *w, unsigned wait_ms);

/*
 * tui_work_prompt is a pass_prompt_fn (passphrase.h) for the station's
 * chain: |ctx| is the bus; the worker blocks until the UI answers.
 */
enum pv_err tui_work_prompt(void *ctx, enum pass_kind kind, const char *what,
    bool confirm, struct pkix_pass *out, struct pv_why *why);

#endif /* PV_TUI_WORK_H */
