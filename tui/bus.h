/*
 * bus.h: how the worker thread and the reader watch reach the UI thread:
 * a queue of messages and a pipe whose read end the loop polls, plus one
 * question at a time (a passphrase) on which the worker blocks until the
 * UI answers.
 */
#ifndef PV_TUI_BUS_H
#define PV_TUI_BUS_H

#include <pthread.h>
#include <stdbool.h>

#include "tui/model.h"

enum tui_msg_kind {
	TUI_MSG_EVENT,		/* a workflow's step event */
	TUI_MSG_PAD,		/* the PIN pad waits for the person */
	TUI_MSG_ASK,		/* a question: answer with tui_bus_answer */
	TUI_MSG_DONE		/* a request ended: |res| (owned) */
};

struct tui_msg {
	enum tui_msg_kind kind;
	struct tui_wf_event ev;
	char text[256];
	bool confirm;
	struct tui_result *res;
};

struct tui_bus;

/* tui_bus_new / tui_bus_free (any message left is freed). */
enum pv_err tui_bus_new(struct tui_bus **out);
void tui_bus_free(struct tui_bus *b);

/* tui_bus_fd: the descriptor that becomes readable when there is news. */
int tui_bus_fd(const struct tui_bus *b);

/* tui_bus_wake: news without a message (the watch changed). */
void tui_bus_wake(struct tui_bus *b);

/* tui_bus_post queues a copy of |m| (ownership of m->res moves). */
void tui_bus_post(struct tui_bus *b, const struct tui_msg *m);

/* tui_bus_take: the next message, false when none (the pipe is drained). */
bool tui_bus_take(struct tui_bus *b, struct tui_msg *out);

/*
 * tui_bus_ask (worker): posts |what| and waits for the answer.  PV_OK
 * with |out|, PV_E_CANCELLED when the person declined or the console is
 * closing.
 */
enum pv_err tui_bus_ask(struct tui_bus *b, const char *what, bool confirm,
    struct pkix_pass *out);

/* tui_bus_answer (UI): the answer to the pending question. */
void tui_bus_answer(struct tui_bus *b, enum pv_err r,
    const struct pkix_pass *ans);

/* tui_bus_close: every question now gets PV_E_CANCELLED. */
void tui_bus_close(struct tui_bus *b);

#endif /* PV_TUI_BUS_H */
