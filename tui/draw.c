/*
 * draw.c: rendering the model (draw.h).  Every text that comes from a
 * card, a reader, the store or a person goes through text_sanitize first:
 * no terminal escape reaches the screen.
 */
#include <curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "apdu/text.h"
#include "tui/draw.h"
#include "tui/term.h"

size_t tui_menu_count(void);
const char *tui_menu_text(size_t i, int *key);

/* Plain and bold as ints, like the attributes of term.c. */
#define TA_N	0
#define TA_B	((int)A_BOLD)

struct tui_box {
	int y, x, h, w;
};

/* ---- text ------------------------------------------------------------------------- */

/*
 * Writes |s| (UTF-8, sanitised here) at y,x in at most |w| columns with
 * |attr|; with |pad| the rest of the |w| columns is filled with spaces.
 * Returns the columns written.
 */
static int
tui_put(int y, int x, int w, const char *s, int attr, bool pad)
{
	char safe[1024];
	const char *p = safe;
	mbstate_t st;
	wchar_t wc;
	size_t n, left;
	int cols = 0, cw;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + w > COLS)
		w = COLS - x;
	(void)text_sanitize(s != NULL ? s : "", s != NULL ? strlen(s) : 0,
	    TEXT_SAN_TERMINAL, safe, sizeof(safe));
	attron(attr);
	move(y, x);
	memset(&st, 0, sizeof(st));
	left = strlen(safe);
	while (left > 0) {
		n = mbrtowc(&wc, p, left, &st);
		if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
			/* Not in this locale: a '?' stands in. */
			wc = L'?';
			n = 1;
			memset(&st, 0, sizeof(st));
		}
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1;
		if (cols + cw > w)
			break;
		if (tui_term_utf8() || wc < 0x80)
			addnwstr(&wc, 1);
		else
			addch('?');
		cols += cw;
		p += n;
		left -= n;
	}
	while (pad && cols < w) {
		addch(' ');
		cols++;
	}
	attroff(attr);
	return cols;
}

static int
tui_putf(int y, int x, int w, int attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
tui_putf(int y, int x, int w, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tui_put(y, x, w, buf, attr, false);
}

/* Word-wraps |s| into |b|'s width from line |y|; returns lines used. */
static int
tui_wrap(int y, int x, int w, int max_lines, const char *s, int attr)
{
	char line[512];
	const char *p = s;
	int used = 0;
	size_t n, cut;

	while (*p != '\0' && used < max_lines && w > 0) {
		n = strlen(p);
		if (n <= (size_t)w) {
			tui_put(y + used, x, w, p, attr, false);
			return used + 1;
		}
		cut = (size_t)w;
		while (cut > 0 && p[cut] != ' ')
			cut--;
		if (cut == 0)
			cut = (size_t)w;
		(void)snprintf(line, sizeof(line), "%.*s", (int)cut, p);
		tui_put(y + used, x, w, line, attr, false);
		used++;
		p += cut;
		while (*p == ' ')
			p++;
	}
	return used;
}

static const char *
tui_mark(enum wf_step_state st, bool running_here)
{
	bool u = tui_term_utf8();

	if (running_here)
		return u ? "\xe2\x96\xb8" : ">";		/* ▸ */
	switch (st) {
	case WF_STEP_DONE: return u ? "\xe2\x9c\x93" : "+";	/* ✓ */
	case WF_STEP_DONE_BEFORE: return u ? "\xe2\x9c\x93" : "+";
	case WF_STEP_SKIPPED: return "-";
	case WF_STEP_FAILED: return u ? "\xe2\x9c\x97" : "x";	/* ✗ */
	case WF_STEP_REDO: return "~";
	case WF_STEP_RUNNING: return u ? "\xc2\xb7" : ".";	/* · */
	}
	return " ";
}

static void
tui_frame(const struct tui_box *b, const char *title)
{
	int at = tui_term_attr(TUI_A_FRAME);
	int y, x;

	if (b->h < 2 || b->w < 4)
		return;
	attron(at);
	mvaddch(b->y, b->x, ACS_ULCORNER);
	mvaddch(b->y, b->x + b->w - 1, ACS_URCORNER);
	mvaddch(b->y + b->h - 1, b->x, ACS_LLCORNER);
	mvaddch(b->y + b->h - 1, b->x + b->w - 1, ACS_LRCORNER);
	for (x = b->x + 1; x < b->x + b->w - 1; x++) {
		mvaddch(b->y, x, ACS_HLINE);
		mvaddch(b->y + b->h - 1, x, ACS_HLINE);
	}
	for (y = b->y + 1; y < b->y + b->h - 1; y++) {
		mvaddch(y, b->x, ACS_VLINE);
		mvaddch(y, b->x + b->w - 1, ACS_VLINE);
	}
	attroff(at);
	if (title != NULL)
		tui_putf(b->y, b->x + 2, b->w - 4, TA_B, " %s ", title);
}

static void
tui_blank(const struct tui_box *b)
{
	int y;

	for (y = b->y; y < b->y + b->h; y++)
		tui_put(y, b->x, b->w, "", TA_N, true);
}

/* ---- the readers panel --------------------------------------------------------------- */

static int
tui_card_attr(const struct watch_reader *r)
{
	if (!r->present || !r->read)
		return tui_term_attr(TUI_A_DIM);
	if (r->card.pin_blocked || r->card.cls == CARD_CLASS_ERROR)
		return tui_term_attr(TUI_A_ERR);
	if (r->card.cls == CARD_CLASS_BLANK)
		return tui_term_attr(TUI_A_OK);
	if (r->card.cls == CARD_CLASS_ISSUING)
		return tui_term_attr(TUI_A_WARN);
	return TA_N;
}

static void
tui_card_status(const struct watch_reader *r, char *out, size_t cap)
{
	if (!r->present)
		(void)snprintf(out, cap, "no card");
	else if (r->mute)
		(void)snprintf(out, cap, "mute card");
	else if (r->busy)
		(void)snprintf(out, cap, "in use");
	else if (!r->read)
		(void)snprintf(out, cap, "reading...");
	else
		(void)snprintf(out, cap, "%s%s", card_class_name(r->card.cls),
		    r->card.pin_blocked ? ", PIN BLOCKED" : "");
}

static void
tui_card_detail(const struct watch_reader *r, char *out, size_t cap)
{
	out[0] = '\0';
	if (!r->present || !r->read)
		return;
	if (r->card.cls == CARD_CLASS_ERROR)
		(void)snprintf(out, cap, "%s", r->card.why);
	else if (r->card.person[0] != '\0')
		(void)snprintf(out, cap, "%s (device %lld)%s", r->card.person,
		    (long long)r->card.device_id, r->card.pad ? "; PIN pad" :
		    "");
	else
		(void)snprintf(out, cap, "%s%s", r->card.desc, r->card.pad ?
		    "; PIN pad" : "");
}

/* The reader the current screen works with (marked '>'). */
static const char *
tui_screen_reader(const struct tui_app *a)
{
	switch (a->screen) {
	case TUI_SCR_SIGNIN: return a->signin.reader;
	case TUI_SCR_ISSUE: return a->issue.reader;
	case TUI_SCR_RUN: return a->run.reader;
	case TUI_SCR_HELPDESK: return a->desk.reader;
	case TUI_SCR_DIAG: return a->diag.reader;
	default: return "";
	}
}

static void
tui_draw_readers(const struct tui_app *a, const struct tui_box *b, bool side)
{
	const char *sel = tui_screen_reader(a);
	char st[64], det[320];
	int y = b->y + 1, room = b->h - 2, w = b->w - 2;
	size_t i;

	tui_frame(b, "Readers");
	if (!a->service) {
		tui_put(y, b->x + 1, w, "pcscd is not running: waiting for it",
		    tui_term_attr(TUI_A_ERR), false);
		return;
	}
	if (a->n_readers == 0) {
		tui_put(y, b->x + 1, w, "no reader connected",
		    tui_term_attr(TUI_A_DIM), false);
		return;
	}
	/* Too many for the room: start so the chosen reader shows. */
	i = 0;
	if (!side && (size_t)room < a->n_readers) {
		long s = tui_reader_find(a, sel);

		if (s >= room - 1)
			i = (size_t)s - (size_t)room + 2;
	}
	for (; i < a->n_readers && room > 0; i++) {
		const struct watch_reader *r = &a->readers[i];
		bool is_op = a->signed_in && strcmp(r->name, a->op.reader) == 0;
		bool is_sel = sel[0] != '\0' && strcmp(r->name, sel) == 0;
		int x = b->x + 1, used;

		if (!side && room == 1 && i + 1 < a->n_readers) {
			tui_putf(y, x, w, tui_term_attr(TUI_A_DIM), "... and %zu "
			    "more (widen the terminal)", a->n_readers - i);
			return;
		}
		tui_card_status(r, st, sizeof(st));
		tui_card_detail(r, det, sizeof(det));
		used = tui_putf(y, x, 3, is_sel ? TA_B : TA_N, "%s%zu",
		    is_sel ? ">" : is_op ? "*" : " ", i);
		x += 3;
		if (side) {
			tui_put(y, x, w - 3, r->name, is_sel ? TA_B : TA_N,
			    false);
			if (--room == 0)
				return;
			y++;
			used = tui_put(y, x, w - 3, is_op ? "operator card" : st,
			    tui_card_attr(r), false);
			tui_put(y, x + used + 1, w - 4 - used, det, TA_N,
			    false);
		} else {
			int nw = w >= 100 ? 28 : 20;

			tui_put(y, x, nw, r->name, is_sel ? TA_B : TA_N,
			    true);
			x += nw + 1;
			used = tui_put(y, x, 22, is_op ? "operator card" : st,
			    tui_card_attr(r), true);
			x += used + 1;
			tui_put(y, x, w - (x - b->x - 1), det, TA_N, false);
		}
		(void)used;
		y++;
		room--;
	}
}

/* ---- header, message, help ------------------------------------------------------------ */

static void
tui_draw_header(const struct tui_app *a, time_t now)
{
	char right[160], clock[16];
	struct tm tm;
	int at = tui_term_attr(TUI_A_TITLE), rw;

	tui_put(0, 0, COLS, "", at, true);
	tui_putf(0, 1, COLS - 2, at, "pivstation console %s %s",
	    tui_term_utf8() ? "\xc2\xb7" : "-", a->locked ? "LOCKED" :
	    tui_screen_title(a->screen));
	(void)localtime_r(&now, &tm);
	(void)strftime(clock, sizeof(clock), "%H:%M", &tm);
	if (a->signed_in) {
		(void)snprintf(right, sizeof(right), "%s [%s] %s", a->op.name,
		    store_role_name(a->op.role), clock);
	} else {
		(void)snprintf(right, sizeof(right), "not signed in %s", clock);
	}
	rw = (int)strlen(right) + 1;
	if (rw < COLS / 2)
		tui_put(0, COLS - rw, rw, right, at, false);
}

static void
tui_draw_help_line(const struct tui_app *a)
{
	const struct tui_binding *sets[2] = { tui_bindings(a),
		tui_global_bindings(a) };
	const struct tui_binding *b;
	char kn[8];
	int x = 0, y = LINES - 1, i, lw, kw;
	const char *k;

	tui_put(y, 0, COLS, "", TA_N, true);
	if (a->dlg.kind != TUI_DLG_NONE) {
		tui_put(y, 0, COLS, a->dlg.kind == TUI_DLG_CONFIRM ?
		    " y Yes   n No   Esc Cancel" : " Enter OK   Esc Cancel",
		    TA_N, false);
		return;
	}
	for (i = 0; i < 2; i++) {
		for (b = sets[i]; b->key != 0; b++) {
			if (b->label == NULL)
				continue;
			/* F1 appears once, from the global set first. */
			k = tui_key_name(b->key, kn);
			kw = (int)strlen(k);
			lw = (int)strlen(b->label);
			if (x + kw + lw + 3 > COLS)
				return;
			tui_put(y, x, kw, k, tui_term_attr(TUI_A_KEY), false);
			x += kw + 1;
			tui_put(y, x, lw, b->label, TA_N, false);
			x += lw + 2;
		}
		if (i == 0 && !(a->signed_in && !a->locked)) {
			k = "F1";
			if (x + 8 <= COLS) {
				tui_put(y, x, 2, k, tui_term_attr(TUI_A_KEY),
				    false);
				tui_put(y, x + 3, 5, "Help", TA_N, false);
			}
		}
	}
}

/* The message line; a long message takes up to three lines, over the
 * bottom of the body, so that no word of it is lost. */
static void
tui_draw_msg(const struct tui_app *a)
{
	int n = 1, w = COLS - 2, len = (int)strlen(a->msg), y;

	if (w > 10 && len > w)
		n = len / (w - 10) + 1;
	if (n > 3)
		n = 3;
	for (y = LINES - 1 - n; y < LINES - 1; y++)
		tui_put(y, 0, COLS, "", TA_N, true);
	if (a->msg[0] != '\0')
		tui_wrap(LINES - 1 - n, 1, w, n, a->msg, a->msg_err ?
		    tui_term_attr(TUI_A_ERR) : TA_N);
}

/* ---- screens -------------------------------------------------------------------------- */

static void
tui_draw_signin(const struct tui_app *a, const struct tui_box *b, int *cy,
    int *cx)
{
	const struct watch_reader *r = NULL;
	char st[64], det[320], stars[16];
	int y = b->y + 1, x = b->x + 2, w = b->w - 4;
	long i = tui_reader_find(a, a->signin.reader);
	size_t k;

	if (i >= 0)
		r = &a->readers[i];
	tui_put(y++, x, w, a->locked ? "The console is locked" :
	    "Operator sign-in", TA_B, false);
	y++;
	tui_put(y, x, 10, "Reader", TA_N, false);
	if (r == NULL) {
		tui_put(y++, x + 10, w - 10, "insert your operator card",
		    tui_term_attr(TUI_A_DIM), false);
	} else {
		tui_card_status(r, st, sizeof(st));
		tui_card_detail(r, det, sizeof(det));
		tui_putf(y++, x + 10, w - 10, TA_B, "%s  (Up/Down)", r->name);
		tui_putf(y++, x + 10, w - 10, TA_N, "%s %s", st, det);
	}
	y++;
	for (k = 0; k < a->signin.pin.len && k < sizeof(stars) - 1; k++)
		stars[k] = '*';
	stars[k] = '\0';
	tui_put(y, x, 10, "PIN", TA_N, false);
	tui_put(y, x + 10, 12, stars, tui_term_attr(TUI_A_FOCUS), true);
	*cy = y;
	*cx = x + 10 + (int)k;
	y += 2;
	y += tui_wrap(y, x, w, 4, a->signin.msg, a->signin.msg[0] != '\0' &&
	    strncmp(a->signin.msg, "Not signed", 10) == 0 ?
	    tui_term_attr(TUI_A_ERR) : TA_N);
	y++;
	if (y < b->y + b->h)
		tui_wrap(y, x, w, 3, "Type the PIN and press Enter; on a reader "
		    "with a PIN pad, press Enter without a PIN and type it on "
		    "the pad.", tui_term_attr(TUI_A_DIM));
}

static void
tui_draw_home(const struct tui_app *a, const struct tui_box *b)
{
	char line[160];
	size_t i, n = tui_menu_count();
	int y = b->y + 1, x = b->x + 2, key;
	const char *t;

	tui_putf(y++, x, b->w - 4, TA_B, "Signed in as %s (%s)", a->op.name,
	    store_role_name(a->op.role));
	y++;
	for (i = 0; i < n && y < b->y + b->h; i++) {
		t = tui_menu_text(i, &key);
		(void)snprintf(line, sizeof(line), " %c  %s", key, t);
		tui_put(y++, x, b->w - 4, line, i == a->home_sel ?
		    tui_term_attr(TUI_A_SEL) : TA_N, true);
	}
}

static void
tui_draw_issue(const struct tui_app *a, const struct tui_box *b, int *cy,
    int *cx)
{
	const struct watch_reader *r;
	char st[64], det[320];
	int lw = 27, vw, y = b->y, rows = b->h - 1, first = 0, x = b->x + 1;
	size_t i, f = a->issue.focus;
	long k;

	vw = b->w - lw - 3;
	if (vw > 60)
		vw = 60;
	/* Scroll so the focused row shows. */
	if ((int)f >= rows)
		first = (int)f - rows + 1;
	for (i = (size_t)first; i < TUI_ISSUE_N_ROWS && y < b->y + rows; i++) {
		bool foc = i == f;
		int at = foc ? TA_B : TA_N;

		if (i < TUI_ISSUE_N_ID) {
			char label[40];

			(void)snprintf(label, sizeof(label), "%s%s%s",
			    a->issue.err[i][0] ? "!" : " ",
			    identity_field_name(i),
			    identity_field_required(i) ? " *" : "");
			tui_put(y, x, lw, label, a->issue.err[i][0] ?
			    tui_term_attr(TUI_A_ERR) : at, true);
			tui_put(y, x + lw, vw, a->issue.f[i].buf, foc ?
			    tui_term_attr(TUI_A_FOCUS) : TA_N, true);
			if (foc) {
				*cy = y;
				*cx = x + lw + (int)tui_field_cur_chars(
				    &a->issue.f[i]);
			}
			if (a->issue.err[i][0] && b->w - lw - vw - 4 > 20)
				tui_put(y, x + lw + vw + 1, b->w - lw - vw - 3,
				    a->issue.err[i], tui_term_attr(TUI_A_ERR),
				    false);
		} else if (i == TUI_ISSUE_READER) {
			tui_put(y, x, lw, " reader", at, true);
			k = tui_reader_find(a, a->issue.reader);
			if (k < 0) {
				tui_put(y, x + lw, b->w - lw - 2, "< insert "
				    "the card to issue >", foc ?
				    tui_term_attr(TUI_A_FOCUS) :
				    tui_term_attr(TUI_A_DIM), false);
			} else {
				r = &a->readers[k];
				tui_card_status(r, st, sizeof(st));
				tui_card_detail(r, det, sizeof(det));
				tui_putf(y, x + lw, b->w - lw - 2, foc ?
				    tui_term_attr(TUI_A_FOCUS) : TA_N,
				    "< %s >  %s; %s", r->name, st, det);
			}
		} else if (i == TUI_ISSUE_PINMODE) {
			tui_put(y, x, lw, " PIN entry", at, true);
			tui_putf(y, x + lw, b->w - lw - 2, foc ?
			    tui_term_attr(TUI_A_FOCUS) : TA_N, "< %s >",
			    a->issue.pad ? "on the reader's PIN pad" :
			    "typed here, twice");
		} else {
			tui_put(y, x, lw, " reissue", at, true);
			tui_putf(y, x + lw, b->w - lw - 2, foc ?
			    tui_term_attr(TUI_A_FOCUS) : TA_N, "< %s >",
			    a->issue.reissue ? "yes: a card not blank is "
			    "issued again" : "no");
		}
		y++;
	}
	/* The errors themselves are on the message line. */
	if (y < b->y + b->h)
		tui_put(b->y + b->h - 1, x, b->w - 2, a->issue.form_err[0] ?
		    a->issue.form_err : "* required.  F8 starts the issuance; "
		    "F7 picks a person already enrolled.", a->issue.form_err[0] ?
		    tui_term_attr(TUI_A_ERR) : tui_term_attr(TUI_A_DIM), false);
}

static void
tui_draw_run(const struct tui_app *a, const struct tui_box *b, time_t now)
{
	const struct tui_run *run = &a->run;
	int y = b->y, x = b->x + 1, w = b->w - 2, end = b->y + b->h;
	unsigned i, cur = 0;
	long secs;
	bool two;

	secs = (long)((run->done ? run->ended : now) - run->started);
	tui_putf(y++, x, w, TA_B, "%s  (%s, %lds)", run->title, run->reader,
	    secs);
	if (run->inspect[0] != '\0')
		y += tui_wrap(y, x, w, 2, run->inspect, tui_term_attr(TUI_A_DIM));
	if (run->pad[0] != '\0' && run->running) {
		y += tui_wrap(y, x, w, 2, run->pad, tui_term_attr(TUI_A_WARN));
	}
	/* The step that runs now: the first not finished. */
	for (i = 0; i < run->count; i++)
		if (!run->steps[i].seen) {
			cur = i + 1;
			break;
		}
	if (run->done && run->r == PV_OK && run->n_sum > 0) {
		for (i = 0; i < run->n_sum && y < end; i++)
			tui_put(y++, x, w, run->sum[i], i == 0 ?
			    tui_term_attr(TUI_A_OK) : TA_N, false);
		return;
	}
	two = (int)run->count + 4 > end - y;
	for (i = 0; i < run->count && y < end - (run->done ? 2 : 0); i++) {
		const struct tui_step *s = &run->steps[i];
		bool here = run->running && cur == i + 1;
		int at = s->state == WF_STEP_FAILED ? tui_term_attr(TUI_A_ERR) :
		    here ? TA_B : s->seen ? TA_N : tui_term_attr(TUI_A_DIM);
		char line[400];

		(void)snprintf(line, sizeof(line), "%s %-11s %s",
		    tui_mark(s->seen ? s->state : WF_STEP_RUNNING, here),
		    s->name, two ? "" : s->seen ? s->text : here ?
		    "..." : "");
		if (two) {
			int col = (int)(i % 2), cw = w / 2;

			tui_put(y, x + col * cw, cw - 1, line, at, false);
			if (col == 1 || i + 1 == run->count)
				y++;
		} else {
			tui_put(y++, x, w, line, at, false);
		}
	}
	if (two && y < end) {
		for (i = run->count; i > 0; i--)
			if (run->steps[i - 1].seen) {
				tui_putf(y++, x, w, TA_N, "%s: %s",
				    run->steps[i - 1].name,
				    run->steps[i - 1].text);
				break;
			}
	}
	if (run->done && run->r != PV_OK && y < end) {
		y += tui_wrap(y, x, w, end - y, run->why,
		    tui_term_attr(TUI_A_ERR));
		if (run->resumable && y < end) {
			char hint[400];

			/* What to press first: a short screen may cut
			 * the rest. */
			(void)snprintf(hint, sizeof(hint), "R resumes job %lld "
			    "(kept): put the card back in %s first if it was "
			    "pulled.", (long long)run->job_id, run->reader);
			tui_wrap(y, x, w, end - y, hint, TA_B);
		}
	} else if (run->running && run->cancel_asked && y < end) {
		tui_put(y, x, w, "Cancelling after the current step...",
		    tui_term_attr(TUI_A_WARN), false);
	}
}

static void
tui_draw_desk(const struct tui_app *a, const struct tui_box *b)
{
	const struct tui_helpdesk *d = &a->desk;
	const struct watch_reader *r = NULL;
	char st[64], det[320], name[3 * IDENTITY_NAME_MAX + 8], until[16];
	int y = b->y, x = b->x + 1, w = b->w - 2, end = b->y + b->h;
	long k = tui_reader_find(a, d->reader);
	size_t i;
	struct tm tm;
	time_t t;

	if (k >= 0)
		r = &a->readers[k];
	if (r == NULL) {
		tui_put(y++, x, w, "Reader: < insert the cardholder's card >  "
		    "or F7 to find a person", tui_term_attr(TUI_A_DIM), false);
	} else {
		tui_card_status(r, st, sizeof(st));
		tui_card_detail(r, det, sizeof(det));
		tui_putf(y++, x, w, TA_N, "Reader: < %s >  %s; %s", r->name,
		    st, det);
		if (r->read && r->card.pin_left >= 0)
			tui_putf(y++, x, w, r->card.pin_blocked ?
			    tui_term_attr(TUI_A_ERR) : TA_N, "PIN: %s",
			    r->card.pin_blocked ? "BLOCKED (u unblocks it with "
			    "the escrowed PUK)" : r->card.pin_left == 1 ?
			    "1 try left" : "tries left as the card says");
	}
	y++;
	if (!d->has_person) {
		tui_put(y, x, w, "No person chosen.", tui_term_attr(TUI_A_DIM),
		    false);
		return;
	}
	(void)identity_printed_name(&d->person.ident, name, sizeof(name));
	tui_putf(y++, x, w, TA_B, "%s  person_id %s  %s", name,
	    d->person.ident.person_id, d->person.ident.email);
	tui_put(y++, x, w, "  device  type     serial      status      "
	    "expires", tui_term_attr(TUI_A_DIM), false);
	for (i = 0; i < d->n_dev && y < end - 3; i++) {
		t = (time_t)d->dev[i].expires_at;
		until[0] = '\0';
		if (t > 0 && gmtime_r(&t, &tm) != NULL)
			(void)strftime(until, sizeof(until), "%Y-%m-%d", &tm);
		tui_putf(y++, x, w, i == d->sel ? tui_term_attr(TUI_A_SEL) :
		    TA_N, "%c %-7lld %-8s %-11.11s %-11s %s",
		    i == d->sel ? '>' : ' ', (long long)d->dev[i].id,
		    store_device_type_name(d->dev[i].type),
		    d->dev[i].serial[0] ? d->dev[i].serial : "-",
		    store_device_status_name(d->dev[i].status), until);
	}
	if (d->n_dev == 0) {
		tui_put(y++, x, w, "  no device", tui_term_attr(TUI_A_DIM),
		    false);
		return;
	}
	y++;
	for (i = 0; i < d->n_certs && y < end; i++) {
		t = (time_t)d->certs[i].not_after;
		until[0] = '\0';
		if (t > 0 && gmtime_r(&t, &tm) != NULL)
			(void)strftime(until, sizeof(until), "%Y-%m-%d", &tm);
		tui_putf(y++, x, w, d->certs[i].status == STORE_CERT_ACTIVE ?
		    TA_N : tui_term_attr(TUI_A_WARN), "  %02X %-8s %s "
		    "until %s", d->certs[i].slot,
		    store_cert_status_name(d->certs[i].status),
		    d->certs[i].serial, until);
	}
}

static void
tui_draw_audit(const struct tui_app *a, const struct tui_box *b)
{
	const struct tui_audit *au = &a->audit;
	int y = b->y, x = b->x + 1, w = b->w - 2, rows, end = b->y + b->h;
	size_t i, k = 0, first = 0, n = 0;
	char when[24];
	struct tm tm;
	time_t t;
	const struct tui_audit_row *sel = NULL;

	tui_putf(y++, x, w, TA_N, "Filter: %s   (/ to change; %zu rows "
	    "read, newest first)", au->filter[0] ? au->filter : "none", au->n);
	if (au->verify[0] != '\0')
		tui_put(y++, x, w, au->verify, au->verify_ok ?
		    tui_term_attr(TUI_A_OK) : tui_term_attr(TUI_A_ERR), false);
	rows = end - y - 3;
	if (rows < 1)
		rows = 1;
	if (au->sel >= (size_t)rows)
		first = au->sel - (size_t)rows + 1;
	for (i = 0; i < au->n; i++) {
		const struct tui_audit_row *row = &au->rows[i];

		if (!tui_audit_match(row, au->filter))
			continue;
		if (k == au->sel)
			sel = row;
		if (k >= first && n < (size_t)rows) {
			t = (time_t)row->time;
			when[0] = '\0';
			if (gmtime_r(&t, &tm) != NULL)
				(void)strftime(when, sizeof(when),
				    "%m-%d %H:%M:%S", &tm);
			tui_putf(y++, x, w, k == au->sel ?
			    tui_term_attr(TUI_A_SEL) : TA_N,
			    "%6lld %s %-14.14s %-22.22s %s", (long long)row->seq,
			    when, row->actor, row->action, row->object);
			n++;
		}
		k++;
	}
	if (k == 0)
		tui_put(y++, x, w, "no row matches", tui_term_attr(TUI_A_DIM),
		    false);
	if (sel != NULL)
		tui_wrap(end - 2, x, w, 2, sel->detail, tui_term_attr(TUI_A_DIM));
}

static void
tui_draw_diag(const struct tui_app *a, const struct tui_box *b)
{
	const struct tui_diag *d = &a->diag;
	int y = b->y, x = b->x + 1, w = b->w - 2, end = b->y + b->h;
	size_t i;
	const char *last = "";

	tui_putf(y++, x, w, TA_N, "Reader: < %s >   Enter reads the card",
	    d->reader[0] ? d->reader : "no card");
	if (!d->has) {
		tui_put(y, x, w, "Nothing read yet.", tui_term_attr(TUI_A_DIM),
		    false);
		return;
	}
	for (i = d->scroll; i < d->facts.n && y < end; i++) {
		const struct diag_fact *f = &d->facts.v[i];

		if (strcmp(f->section, last) != 0) {
			tui_put(y++, x, w, f->section, TA_B, false);
			last = f->section;
			if (y >= end)
				break;
		}
		tui_putf(y++, x, w, TA_N, "  %-16s %s", f->label, f->value);
	}
}

static void
tui_draw_derive(const struct tui_app *a, const struct tui_box *b)
{
	int y = b->y + 1, x = b->x + 2, w = b->w - 4;

	(void)a;
	tui_put(y++, x, w, "Derived PIV credentials (SP 800-157)", TA_B,
	    false);
	y++;
	y += tui_wrap(y, x, w, 4, "Insert the primary card; its validation "
	    "checks appear one by one; the cardholder types the PIN; proof of "
	    "possession; choose the target (a token in a second reader, a "
	    "profile, or PKCS#12); the activation code is shown as a QR code.",
	    TA_N);
	y++;
	tui_wrap(y, x, w, 3, "This station does not derive credentials yet: "
	    "the derive workflow is not part of this build.  'pivstation "
	    "validate -r READER' runs the validation it will start with.",
	    tui_term_attr(TUI_A_DIM));
}

/* ---- overlays ---------------------------------------------------------------------------- */

static struct tui_box
tui_center(int h, int w)
{
	struct tui_box b;

	if (w > COLS - 2)
		w = COLS - 2;
	if (h > LINES - 2)
		h = LINES - 2;
	b.h = h;
	b.w = w;
	b.y = (LINES - h) / 2;
	b.x = (COLS - w) / 2;
	return b;
}

static void
tui_draw_dialog(const struct tui_app *a, int *cy, int *cx)
{
	const struct tui_dialog *d = &a->dlg;
	struct tui_box b = tui_center(d->kind == TUI_DLG_PEOPLE ? 20 : 11, 72);
	char shown[TUI_FIELD_MAX], name[3 * IDENTITY_NAME_MAX + 8];
	int y, x = b.x + 2, w = b.w - 4;
	size_t i;
	long k;

	tui_blank(&b);
	tui_frame(&b, d->title);
	y = b.y + 1;
	y += tui_wrap(y, x, w, d->kind == TUI_DLG_CONFIRM ? b.h - 3 : 3,
	    d->twice && d->stage == 1 ? "Again, to confirm" : d->text, TA_N);
	if (d->kind == TUI_DLG_READER) {
		k = tui_reader_find(a, d->reader);
		tui_putf(y++, x, w, TA_B, "Reader: %s", k >= 0 ?
		    a->readers[k].name : "(none)");
	}
	if (d->kind != TUI_DLG_CONFIRM) {
		if (d->in.masked) {
			for (i = 0; i < d->in.len && i < sizeof(shown) - 1; i++)
				shown[i] = '*';
			shown[i] = '\0';
		} else {
			(void)snprintf(shown, sizeof(shown), "%s", d->in.buf);
		}
		y++;
		tui_put(y, x, w, "> ", TA_B, false);
		tui_put(y, x + 2, w - 2, shown, tui_term_attr(TUI_A_FOCUS), true);
		*cy = y;
		*cx = x + 2 + (int)(d->in.masked ? d->in.len :
		    tui_field_cur_chars(&d->in));
		y += 2;
	}
	if (d->err[0] != '\0')
		y += tui_wrap(y, x, w, 2, d->err, tui_term_attr(TUI_A_ERR));
	if (d->kind == TUI_DLG_PEOPLE) {
		for (i = 0; i < d->n_people && y < b.y + b.h - 1; i++) {
			(void)identity_printed_name(&d->people[i].ident, name,
			    sizeof(name));
			tui_putf(y++, x, w, i == d->sel ?
			    tui_term_attr(TUI_A_SEL) : TA_N, "%s  %s  %s",
			    d->people[i].ident.person_id, name,
			    d->people[i].ident.email);
		}
		if (d->n_people == 0)
			tui_put(y, x, w, "nobody matches",
			    tui_term_attr(TUI_A_DIM), false);
	}
}

static void
tui_draw_help(const struct tui_app *a)
{
	const struct tui_binding *sets[2] = { tui_bindings(a),
		tui_global_bindings(a) };
	const struct tui_binding *b;
	struct tui_box box = tui_center(LINES - 2, 76);
	char kn[8];
	int y, x = box.x + 2, w = box.w - 4, i;

	tui_blank(&box);
	tui_frame(&box, "Help");
	y = box.y + 1;
	tui_putf(y++, x, w, TA_B, "%s: keys", tui_screen_title(a->screen));
	for (i = 0; i < 2; i++) {
		for (b = sets[i]; b->key != 0 && y < box.y + box.h - 2; b++) {
			if (b->help == NULL)
				continue;
			tui_put(y, x, 8, tui_key_name(b->key, kn),
			    tui_term_attr(TUI_A_KEY), false);
			tui_put(y++, x + 9, w - 9, b->help, TA_N, false);
		}
		if (i == 0 && y < box.y + box.h - 2)
			y++;
	}
	if (a->screen == TUI_SCR_HOME && y < box.y + box.h - 2)
		tui_put(y++, x, w, "Letters open the menu's lines.", TA_N,
		    false);
	tui_put(box.y + box.h - 2, x, w, "Any key closes this help.",
	    tui_term_attr(TUI_A_DIM), false);
}

/* ---- the whole screen -------------------------------------------------------------------- */

void
tui_draw(const struct tui_app *a, bool clear_all, time_t now)
{
	struct tui_box body, panel;
	bool side = COLS >= 120;
	int ph, cy = -1, cx = -1, n = (int)a->n_readers;

	if (clear_all)
		clear();
	else
		erase();
	tui_draw_header(a, now);
	if (side) {
		panel.y = 1;
		panel.w = 48;
		panel.x = COLS - panel.w;
		panel.h = LINES - 3;
		body.y = 2;
		body.x = 1;
		body.w = COLS - panel.w - 2;
		body.h = LINES - 5;
	} else {
		ph = (n < 1 ? 1 : n > 4 ? 4 : n) + 2;
		if (LINES < 20)
			ph = 3;
		panel.y = 1;
		panel.x = 0;
		panel.w = COLS;
		panel.h = ph;
		body.y = 1 + ph;
		body.x = 0;
		body.w = COLS;
		body.h = LINES - 3 - ph;
	}
	tui_draw_readers(a, &panel, side);
	if (COLS < 80 || LINES < 24)
		tui_putf(body.y, body.x + 1, body.w - 2,
		    tui_term_attr(TUI_A_WARN), "(the terminal is %dx%d; 80x24 "
		    "or more shows everything)", COLS, LINES);
	switch (a->screen) {
	case TUI_SCR_SIGNIN: tui_draw_signin(a, &body, &cy, &cx); break;
	case TUI_SCR_HOME: tui_draw_home(a, &body); break;
	case TUI_SCR_ISSUE: tui_draw_issue(a, &body, &cy, &cx); break;
	case TUI_SCR_RUN: tui_draw_run(a, &body, now); break;
	case TUI_SCR_HELPDESK: tui_draw_desk(a, &body); break;
	case TUI_SCR_AUDIT: tui_draw_audit(a, &body); break;
	case TUI_SCR_DIAG: tui_draw_diag(a, &body); break;
	case TUI_SCR_DERIVE: tui_draw_derive(a, &body); break;
	default: break;
	}
	tui_draw_msg(a);
	tui_draw_help_line(a);
	if (a->dlg.kind != TUI_DLG_NONE) {
		cy = cx = -1;
		tui_draw_dialog(a, &cy, &cx);
	} else if (a->help) {
		cy = cx = -1;
		tui_draw_help(a);
	}
	if (cy >= 0 && cx >= 0 && cy < LINES && cx < COLS) {
		(void)curs_set(1);
		move(cy, cx);
	} else {
		(void)curs_set(0);
	}
	refresh();
}
