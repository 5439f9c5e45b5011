/*
 * term.h: the one module that owns the terminal (htop's CRT.c): curses
 * set up and torn down, colours (or a monochrome look with NO_COLOR, on
 * terminals without colour, or when asked), keys turned into the model's
 * codes, and the terminal given back as it was on every way out: a normal
 * end, an error (atexit), SIGINT/SIGTERM/SIGHUP (turned into an orderly
 * quit through a self-pipe the loop polls) and the crash signals
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: the terminal is restored from
 * the signal handler with async-signal-safe calls, then the signal goes
 * on to the handler that was there before, or kills the process).
 */
#ifndef PV_TUI_TERM_H
#define PV_TUI_TERM_H

#include <stdbool.h>

#include "apdu/err.h"

enum tui_attr {
	TUI_A_NORMAL,
	TUI_A_TITLE,	/* the header bar */
	TUI_A_SEL,	/* the chosen line */
	TUI_A_OK,
	TUI_A_WARN,
	TUI_A_ERR,
	TUI_A_DIM,
	TUI_A_KEY,	/* a key's name in the help line */
	TUI_A_FRAME,
	TUI_A_FOCUS,	/* the field being typed in */
	TUI_A__COUNT
};

/*
 * tui_term_open takes the terminal: the locale from the environment
 * (UTF-8 expected), curses in cbreak mode without echo, keypad on, the
 * cursor hidden, colours unless |mono| or $NO_COLOR.  The signal handlers
 * are installed first.  PV_E_INPUT when standard input or output is not a
 * terminal (a terminal smaller than 80x24 still works, with a note on
 * the screen).
 */
enum pv_err tui_term_open(bool mono, struct pv_why *why);

/* tui_term_close gives the terminal back (idempotent, safe at exit). */
void tui_term_close(void);

/* tui_term_fd: readable when a quit signal arrived (poll it). */
int tui_term_fd(void);

/* tui_term_signal: the quit signal received (SIGINT, ...), or 0. */
int tui_term_signal(void);

/* tui_term_key: the next key as a TUI_K_* code, TUI_K_NONE when none. */
int tui_term_key(void);

/* tui_term_attr: the curses attribute of |a|. */
int tui_term_attr(enum tui_attr a);

/* tui_term_utf8: does the locale write UTF-8 (else ASCII marks)? */
bool tui_term_utf8(void);

/* tui_term_mono: no colours in use. */
bool tui_term_mono(void);

#endif /* PV_TUI_TERM_H */
