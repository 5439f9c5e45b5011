/*
 * draw.h: the console's screens drawn from the model (model.h); reads
 * only.  Works from 80x24 up: the readers panel sits on top on narrow
 * terminals and on the right from 120 columns; every screen keeps a
 * message line and a help line at the bottom.
 */
#ifndef PV_TUI_DRAW_H
#define PV_TUI_DRAW_H

#include <stdbool.h>
#include <time.h>

#include "tui/model.h"

/* tui_draw draws everything (|clear|: repaint the whole terminal). */
void tui_draw(const struct tui_app *a, bool clear, time_t now);

#endif /* PV_TUI_DRAW_H */
