/*
 * tui.h: `pivstation console`, the operator console for the enrollment
 * kiosk (ncurses).  cli/ parses the command line and calls tui_run; the
 * rest of tui/ is its own business (model.h says who does what).
 */
#ifndef PV_TUI_TUI_H
#define PV_TUI_TUI_H

#include <stdbool.h>

#include "apdu/err.h"
#include "issuance/passphrase.h"

struct tui_opts {
	const char *home;		/* NULL: as station_open */
	const struct pass_chain *pass;	/* files and descriptors given; the
					 * console adds its own prompt */
	int idle_lock_s;		/* -1: [console] idle_lock_seconds */
	bool mono;			/* no colours */
};

/*
 * tui_run runs the console until the operator quits (PV_OK) or a signal
 * ends it (PV_E_CANCELLED, *sig set to SIGINT, SIGTERM or SIGHUP); the
 * terminal is given back as it was in every case.  Another error (no
 * terminal, no station) comes with |why|, for the caller to print.
 */
enum pv_err tui_run(const struct tui_opts *o, int *sig, struct pv_why *why);

#endif /* PV_TUI_TUI_H */
