/*
 * app.c: the console's actions and model updates (model.h).  No curses,
 * no card, no store: reads go through the ops the loop gives, work goes
 * out as requests, and every action returns what to do next.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "issuance/recover.h"
#include "tui/model.h"

/* ---- small helpers --------------------------------------------------------------- */

const char *
tui_screen_title(enum tui_screen s)
{
	switch (s) {
	case TUI_SCR_SIGNIN: return "Sign in";
	case TUI_SCR_HOME: return "Home";
	case TUI_SCR_ISSUE: return "Issue";
	case TUI_SCR_RUN: return "Progress";
	case TUI_SCR_HELPDESK: return "Help desk";
	case TUI_SCR_AUDIT: return "Audit";
	case TUI_SCR_DIAG: return "Diagnostics";
	case TUI_SCR_DERIVE: return "Derive";
	case TUI_SCR__COUNT: break;
	}
	return "?";
}

const char *
tui_key_name(int key, char buf[8])
{
	switch (key) {
	case TUI_K_ENTER: return "Enter";
	case TUI_K_ESC: return "Esc";
	case TUI_K_TAB: return "Tab";
	case TUI_K_UP: return "Up";
	case TUI_K_DOWN: return "Down";
	case TUI_K_LEFT: return "Left";
	case TUI_K_RIGHT: return "Right";
	case TUI_K_PGUP: return "PgUp";
	case TUI_K_PGDN: return "PgDn";
	default: break;
	}
	if (key >= TUI_K_F1 && key <= TUI_K_F12) {
		(void)snprintf(buf, 8, "F%d", key - TUI_K_F1 + 1);
		return buf;
	}
	if (key > 0x20 && key < 0x7f) {
		buf[0] = (char)key;
		buf[1] = '\0';
		return buf;
	}
	return "?";
}

bool
tui_req_card_work(enum tui_req_kind k)
{
	return k == TUI_REQ_SIGNIN || k == TUI_REQ_ISSUE ||
	    k == TUI_REQ_UNBLOCK || k == TUI_REQ_DIAG || k == TUI_REQ_RECOVER;
}

void
tui_req_wipe(struct tui_req *q)
{
	OPENSSL_cleanse(q, sizeof(*q));
}

static void
tui_msg(struct tui_app *a, bool err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tui_msg(struct tui_app *a, bool err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	a->msg_err = err;
}

long
tui_reader_find(const struct tui_app *a, const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return -1;
	for (i = 0; i < a->n_readers; i++)
		if (strcmp(a->readers[i].name, name) == 0)
			return (long)i;
	return -1;
}

static const struct watch_reader *
tui_reader(const struct tui_app *a, const char *name)
{
	long i = tui_reader_find(a, name);

	return i < 0 ? NULL : &a->readers[i];
}

/* A reader for cardholders' cards: a card in it, not the operator's. */
static bool
tui_reader_usable(const struct tui_app *a, const struct watch_reader *r)
{
	return r->present && !(a->signed_in &&
	    strcmp(r->name, a->op.reader) == 0);
}

/* The next usable reader after |cur| in direction |dir| (cur "" = from
 * the start); "" when none. */
static void
tui_reader_cycle(const struct tui_app *a, char *cur, int dir)
{
	long n = (long)a->n_readers, i = tui_reader_find(a, cur), k;

	if (n == 0) {
		cur[0] = '\0';
		return;
	}
	if (i < 0)
		i = dir > 0 ? -1 : n;
	for (k = 0; k < n; k++) {
		i = (i + dir + n) % n;
		if (tui_reader_usable(a, &a->readers[i])) {
			(void)snprintf(cur, TUI_READER_MAX, "%s",
			    a->readers[i].name);
			return;
		}
	}
	cur[0] = '\0';
}

/* Keeps |cur| on a usable reader, preferring one whose card is |cls|. */
static void
tui_reader_default(const struct tui_app *a, char *cur, int cls)
{
	const struct watch_reader *r = tui_reader(a, cur);
	size_t i;

	if (r != NULL && tui_reader_usable(a, r))
		return;
	for (i = 0; i < a->n_readers; i++)
		if (tui_reader_usable(a, &a->readers[i]) && cls >= 0 &&
		    a->readers[i].read &&
		    (int)a->readers[i].card.cls == cls) {
			(void)snprintf(cur, TUI_READER_MAX, "%s",
			    a->readers[i].name);
			return;
		}
	cur[0] = '\0';
	tui_reader_cycle(a, cur, 1);
}

static bool
tui_queue(struct tui_app *a, const struct tui_req *q)
{
	if (a->n_out == TUI_OUTBOX_MAX)
		return false;
	a->outbox[a->n_out] = *q;
	(void)snprintf(a->outbox[a->n_out].actor, AUDIT_ACTOR_MAX, "%s",
	    a->signed_in ? a->op.name : "");
	a->n_out++;
	if (tui_req_card_work(q->kind)) {
		a->busy = true;
		a->busy_kind = q->kind;
	}
	return true;
}

bool
tui_app_take_req(struct tui_app *a, struct tui_req *out)
{
	if (a->n_out == 0)
		return false;
	*out = a->outbox[0];
	OPENSSL_cleanse(&a->outbox[0], sizeof(a->outbox[0]));
	memmove(&a->outbox[0], &a->outbox[1],
	    (a->n_out - 1) * sizeof(a->outbox[0]));
	a->n_out--;
	OPENSSL_cleanse(&a->outbox[a->n_out], sizeof(a->outbox[0]));
	return true;
}

/* An audit row saying what the console did (lock, sign-out). */
static void
tui_note(struct tui_app *a, const char *action, const char *detail)
{
	struct tui_req q;

	memset(&q, 0, sizeof(q));
	q.kind = TUI_REQ_NOTE;
	(void)snprintf(q.action, sizeof(q.action), "%s", action);
	(void)snprintf(q.object, sizeof(q.object), "operator:%s", a->op.name);
	(void)snprintf(q.detail, sizeof(q.detail), "%s", detail);
	(void)tui_queue(a, &q);
}

static bool
tui_busy_refuse(struct tui_app *a)
{
	if (!a->busy)
		return false;
	tui_msg(a, true, "wait: the card work under way must end first");
	return true;
}

/* ---- dialogs ---------------------------------------------------------------------- */

static void
tui_dlg_close(struct tui_app *a)
{
	tui_field_clear(&a->dlg.in);
	pkix_pass_clear(&a->dlg.first);
	OPENSSL_cleanse(&a->dlg, sizeof(a->dlg));
	a->dlg.kind = TUI_DLG_NONE;
	/* A question of the worker's that waited for this one. */
	if (a->ask_pending) {
		a->ask_pending = false;
		(void)tui_app_ask(a, a->ask_what, a->ask_confirm);
	}
}

static void
tui_dlg_input(struct tui_app *a, enum tui_dlg_for p, const char *title,
    const char *text, size_t max, bool masked, bool twice, bool digits)
{
	OPENSSL_cleanse(&a->dlg, sizeof(a->dlg));
	a->dlg.kind = TUI_DLG_INPUT;
	a->dlg.purpose = p;
	(void)snprintf(a->dlg.title, sizeof(a->dlg.title), "%s", title);
	(void)snprintf(a->dlg.text, sizeof(a->dlg.text), "%s", text);
	tui_field_init(&a->dlg.in, max, masked);
	a->dlg.in.digits = digits;
	a->dlg.twice = twice;
}

static void
tui_dlg_confirm(struct tui_app *a, enum tui_dlg_for p, const char *title,
    const char *text)
{
	OPENSSL_cleanse(&a->dlg, sizeof(a->dlg));
	a->dlg.kind = TUI_DLG_CONFIRM;
	a->dlg.purpose = p;
	(void)snprintf(a->dlg.title, sizeof(a->dlg.title), "%s", title);
	(void)snprintf(a->dlg.text, sizeof(a->dlg.text), "%s", text);
}

static void
tui_people_search(struct tui_app *a)
{
	a->dlg.n_people = 0;
	a->dlg.sel = 0;
	if (a->ops != NULL && a->ops->people != NULL &&
	    a->ops->people(a->ops->ctx, a->dlg.in.buf, a->dlg.people,
	    TUI_PICK_MAX, &a->dlg.n_people) != PV_OK)
		a->dlg.n_people = 0;
}

static void
tui_dlg_people(struct tui_app *a, enum tui_dlg_for p)
{
	OPENSSL_cleanse(&a->dlg, sizeof(a->dlg));
	a->dlg.kind = TUI_DLG_PEOPLE;
	a->dlg.purpose = p;
	(void)snprintf(a->dlg.title, sizeof(a->dlg.title), "Find a person");
	(void)snprintf(a->dlg.text, sizeof(a->dlg.text), "Type the start of "
	    "a name, person ID or e-mail; Enter picks");
	tui_field_init(&a->dlg.in, 64, false);
	tui_people_search(a);
}

static unsigned tui_dlg_submit(struct tui_app *a, time_t now);

static unsigned
tui_dlg_key(struct tui_app *a, int key, time_t now)
{
	struct tui_dialog *d = &a->dlg;
	char cur[TUI_READER_MAX];

	if (key == TUI_K_ESC) {
		if (d->purpose == TUI_FOR_WORKER) {
			a->ans_ready = true;
			a->ans_r = PV_E_CANCELLED;
		}
		tui_dlg_close(a);
		tui_msg(a, false, "cancelled");
		return TUI_R_DRAW;
	}
	switch (d->kind) {
	case TUI_DLG_CONFIRM:
		if (key == 'y' || key == 'Y')
			return tui_dlg_submit(a, now);
		if (key == 'n' || key == 'N') {
			tui_dlg_close(a);
			return TUI_R_DRAW;
		}
		return TUI_R_NONE;
	case TUI_DLG_PEOPLE:
		if (key == TUI_K_UP) {
			if (d->sel > 0)
				d->sel--;
			return TUI_R_DRAW;
		}
		if (key == TUI_K_DOWN) {
			if (d->sel + 1 < d->n_people)
				d->sel++;
			return TUI_R_DRAW;
		}
		if (key == TUI_K_ENTER)
			return tui_dlg_submit(a, now);
		if (tui_field_key(&d->in, key))
			tui_people_search(a);
		return TUI_R_DRAW;
	case TUI_DLG_READER:
		if (key == TUI_K_UP || key == TUI_K_DOWN) {
			(void)snprintf(cur, sizeof(cur), "%s", d->reader);
			tui_reader_cycle(a, cur, key == TUI_K_UP ? -1 : 1);
			(void)snprintf(d->reader, sizeof(d->reader), "%s", cur);
			return TUI_R_DRAW;
		}
		if (key == TUI_K_ENTER)
			return tui_dlg_submit(a, now);
		(void)tui_field_key(&d->in, key);
		return TUI_R_DRAW;
	case TUI_DLG_INPUT:
		if (key == TUI_K_ENTER)
			return tui_dlg_submit(a, now);
		(void)tui_field_key(&d->in, key);
		return TUI_R_DRAW;
	case TUI_DLG_NONE:
		break;
	}
	return TUI_R_NONE;
}

/* ---- sign-in and locking --------------------------------------------------------- */

static void
tui_signin_reset(struct tui_app *a)
{
	tui_field_init(&a->signin.pin, 8, true);
	a->signin.pin.digits = true;
	a->signin.checking = false;
}

unsigned
tui_app_lock(struct tui_app *a, const char *why, time_t now)
{
	char detail[96];

	(void)now;
	if (!a->signed_in || a->locked)
		return TUI_R_NONE;
	if (a->dlg.kind != TUI_DLG_NONE) {
		if (a->dlg.purpose == TUI_FOR_WORKER) {
			a->ans_ready = true;
			a->ans_r = PV_E_CANCELLED;
		}
		tui_dlg_close(a);
	}
	a->help = false;
	a->locked = true;
	a->back = a->screen;
	a->screen = TUI_SCR_SIGNIN;
	tui_signin_reset(a);
	(void)snprintf(a->signin.reader, sizeof(a->signin.reader), "%s",
	    a->op.reader);
	(void)snprintf(a->signin.msg, sizeof(a->signin.msg), "Locked (%s). "
	    "%s: your card and PIN unlock the console.", why, a->op.name);
	(void)snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", why);
	tui_note(a, "console.lock", detail);
	tui_msg(a, false, "console locked: %s", why);
	return TUI_R_CLEAR | TUI_R_WORK;
}

static unsigned
tui_signin_submit(struct tui_app *a)
{
	const struct watch_reader *r = tui_reader(a, a->signin.reader);
	struct tui_req q;

	if (a->signin.checking || tui_busy_refuse(a))
		return TUI_R_DRAW;
	if (r == NULL || !r->present) {
		(void)snprintf(a->signin.msg, sizeof(a->signin.msg), "Insert "
		    "your operator card in a reader, and choose it with Up and "
		    "Down.");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	memset(&q, 0, sizeof(q));
	q.kind = TUI_REQ_SIGNIN;
	(void)snprintf(q.reader, sizeof(q.reader), "%s", r->name);
	if (a->signin.pin.len == 0) {
		if (!r->read || !r->card.pad) {
			(void)snprintf(a->signin.msg, sizeof(a->signin.msg),
			    "Type your PIN, then Enter (this reader has no PIN "
			    "pad).");
			return TUI_R_DRAW | TUI_R_BEEP;
		}
		q.pin_pad = true;
	} else if (pkix_pass_set(&q.pin, a->signin.pin.buf, NULL) != PV_OK) {
		tui_req_wipe(&q);
		return TUI_R_BEEP;
	}
	tui_field_clear(&a->signin.pin);
	if (!tui_queue(a, &q)) {
		tui_req_wipe(&q);
		return TUI_R_BEEP;
	}
	tui_req_wipe(&q);
	a->signin.checking = true;
	(void)snprintf(a->signin.msg, sizeof(a->signin.msg), "%s",
	    q.pin_pad ? "Type your PIN on the reader's PIN pad..." :
	    "Checking the card and PIN...");
	return TUI_R_DRAW | TUI_R_WORK;
}

static unsigned
tui_signin_key(struct tui_app *a, int key, time_t now)
{
	char cur[TUI_READER_MAX];
	long i, n = (long)a->n_readers, k;

	(void)now;
	switch (key) {
	case TUI_K_ENTER:
		return tui_signin_submit(a);
	case TUI_K_UP:
	case TUI_K_DOWN:
		/* Any reader with a card: the operator's card is what is
		 * chosen here. */
		(void)snprintf(cur, sizeof(cur), "%s", a->signin.reader);
		i = tui_reader_find(a, cur);
		for (k = 0; k < n; k++) {
			i = ((i < 0 ? (key == TUI_K_UP ? n : -1) : i) +
			    (key == TUI_K_UP ? -1 : 1) + n) % n;
			if (a->readers[i].present) {
				(void)snprintf(a->signin.reader,
				    sizeof(a->signin.reader), "%s",
				    a->readers[i].name);
				break;
			}
		}
		return TUI_R_DRAW;
	default:
		if (tui_field_key(&a->signin.pin, key))
			return TUI_R_DRAW;
		return TUI_R_NONE;
	}
}

/* ---- the issue form -------------------------------------------------------------- */

static void
tui_issue_reset(struct tui_app *a)
{
	size_t i;

	for (i = 0; i < TUI_ISSUE_N_ID; i++) {
		tui_field_init(&a->issue.f[i], identity_field_max(i), false);
		a->issue.f[i].digits = strcmp(identity_field_name(i),
		    "person_id") == 0;
		a->issue.err[i][0] = '\0';
	}
	a->issue.focus = 0;
	a->issue.reissue = false;
	a->issue.pad_set = false;
	a->issue.update_person = false;
	a->issue.form_err[0] = '\0';
}

/* The PIN pad by default where the reader has one. */
static void
tui_issue_pick_reader(struct tui_app *a, bool keep)
{
	const struct watch_reader *r;

	if (!keep || tui_reader(a, a->issue.reader) == NULL)
		tui_reader_default(a, a->issue.reader, CARD_CLASS_BLANK);
	if (!keep)
		a->issue.pad_set = false;
	/* The PIN pad when the reader has one, once its card is read,
	 * unless the officer chose. */
	r = tui_reader(a, a->issue.reader);
	if (!a->issue.pad_set)
		a->issue.pad = r != NULL && r->read && r->card.pad;
}

/* Checks field |i| as identity.json is checked; sets its message. */
static bool
tui_issue_check_field(struct tui_app *a, size_t i)
{
	struct identity tmp;
	struct pv_why why = { "" };

	memset(&tmp, 0, sizeof(tmp));
	a->issue.err[i][0] = '\0';
	if (identity_field_set(&tmp, i, a->issue.f[i].buf, "form", &why) ==
	    PV_OK)
		return true;
	(void)snprintf(a->issue.err[i], sizeof(a->issue.err[i]), "%s",
	    why.msg);
	return false;
}

static void
tui_issue_from_person(struct tui_app *a, const struct identity *id)
{
	size_t i;

	for (i = 0; i < TUI_ISSUE_N_ID; i++) {
		tui_field_set(&a->issue.f[i], identity_field_get(id, i));
		a->issue.err[i][0] = '\0';
	}
}

static unsigned
tui_issue_move(struct tui_app *a, int dir)
{
	size_t f = a->issue.focus;

	if (f < TUI_ISSUE_N_ID)
		(void)tui_issue_check_field(a, f);
	a->issue.focus = (f + TUI_ISSUE_N_ROWS + (size_t)(dir > 0 ? 1 :
	    TUI_ISSUE_N_ROWS - 1)) % TUI_ISSUE_N_ROWS;
	if (a->issue.focus < TUI_ISSUE_N_ID && a->issue.err[a->issue.focus][0])
		tui_msg(a, true, "%s", a->issue.err[a->issue.focus]);
	else if (f < TUI_ISSUE_N_ID && a->issue.err[f][0])
		tui_msg(a, true, "%s", a->issue.err[f]);
	else
		a->msg[0] = '\0';
	return TUI_R_DRAW;
}

/* Everything but the PIN: the form, the reader, its card. */
static bool
tui_issue_ready(struct tui_app *a, struct identity *id)
{
	const struct watch_reader *r;
	struct pv_why why = { "" };
	size_t i, bad = TUI_ISSUE_N_ROWS;

	memset(id, 0, sizeof(*id));
	for (i = 0; i < TUI_ISSUE_N_ID; i++) {
		if (!tui_issue_check_field(a, i)) {
			if (bad == TUI_ISSUE_N_ROWS)
				bad = i;
			continue;
		}
		(void)identity_field_set(id, i, a->issue.f[i].buf, "form",
		    NULL);
	}
	if (bad != TUI_ISSUE_N_ROWS) {
		a->issue.focus = bad;
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "%s", a->issue.err[bad]);
		return false;
	}
	if (identity_check(id, "form", &why) != PV_OK) {
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "%s", why.msg);
		return false;
	}
	r = tui_reader(a, a->issue.reader);
	if (r == NULL || !tui_reader_usable(a, r)) {
		a->issue.focus = TUI_ISSUE_READER;
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "Insert the card to issue in a reader, and choose it "
		    "(Left/Right on Reader)");
		return false;
	}
	if (!r->read) {
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "The card in %s is still being read: a moment", r->name);
		return false;
	}
	switch (r->card.cls) {
	case CARD_CLASS_BLANK:
	case CARD_CLASS_ISSUING:
		break;
	case CARD_CLASS_ISSUED:
	case CARD_CLASS_SUSPENDED:
	case CARD_CLASS_FOREIGN:
		if (a->issue.reissue)
			break;
		a->issue.focus = TUI_ISSUE_REISSUE;
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "The card in %s is not blank (%s): set Reissue to yes to "
		    "issue it again", r->name, card_class_name(r->card.cls));
		return false;
	default:
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "The card in %.100s cannot be issued: %.120s", r->name,
		    r->card.cls == CARD_CLASS_ERROR ? r->card.why :
		    card_class_name(r->card.cls));
		return false;
	}
	if (a->issue.pad && !r->card.pad) {
		a->issue.focus = TUI_ISSUE_PINMODE;
		(void)snprintf(a->issue.form_err, sizeof(a->issue.form_err),
		    "%s has no PIN pad: choose the keyboard for the PIN",
		    r->name);
		return false;
	}
	a->issue.form_err[0] = '\0';
	return true;
}

static void
tui_run_start(struct tui_app *a, const struct tui_req *q, const char *title,
    time_t now)
{
	const struct wf_def *def = q->kind == TUI_REQ_ISSUE ?
	    wf_issue_definition() : wf_unblock_definition();
	size_t i;

	tui_req_wipe(&a->run.again);
	memset(&a->run, 0, sizeof(a->run));
	a->run.kind = q->kind;
	(void)snprintf(a->run.title, sizeof(a->run.title), "%s", title);
	(void)snprintf(a->run.reader, sizeof(a->run.reader), "%s", q->reader);
	for (i = 0; i < def->n_steps && i < TUI_STEPS_MAX; i++) {
		(void)snprintf(a->run.steps[i].name,
		    sizeof(a->run.steps[i].name), "%s", def->steps[i].name);
		a->run.steps[i].state = WF_STEP_RUNNING;
	}
	a->run.count = (unsigned)i;
	a->run.running = true;
	a->run.started = now;
	a->run.again = *q;
	a->screen = TUI_SCR_RUN;
}

static unsigned
tui_issue_go(struct tui_app *a, const struct pkix_pass *pin, time_t now)
{
	struct tui_req q;
	char name[3 * IDENTITY_NAME_MAX + 8], title[200];

	memset(&q, 0, sizeof(q));
	q.kind = TUI_REQ_ISSUE;
	if (!tui_issue_ready(a, &q.ident)) {
		tui_msg(a, true, "%s", a->issue.form_err);
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	(void)snprintf(q.reader, sizeof(q.reader), "%s", a->issue.reader);
	q.reissue = a->issue.reissue;
	q.update_person = a->issue.update_person;
	q.pin_pad = a->issue.pad;
	if (pin != NULL)
		q.pin = *pin;
	if (!tui_queue(a, &q)) {
		tui_req_wipe(&q);
		return TUI_R_BEEP;
	}
	if (identity_printed_name(&q.ident, name, sizeof(name)) != PV_OK)
		(void)snprintf(name, sizeof(name), "%s", q.ident.person_id);
	(void)snprintf(title, sizeof(title), "Issuing to %.120s", name);
	tui_run_start(a, &q, title, now);
	tui_req_wipe(&q);
	tui_msg(a, false, "issuing: Esc cancels between steps (the job is "
	    "kept)");
	return TUI_R_CLEAR | TUI_R_WORK;
}

/*
 * A person already in the store under the form's person_id, with other
 * details: the issuance would be refused (store_person_put).  Asks the
 * officer, naming each field, whether to update the record (audited with
 * the old values) and issue; true when asked.
 */
static bool
tui_issue_person_changed(struct tui_app *a, const struct identity *id)
{
	struct store_person found[4];
	char diff[300], text[512];
	size_t n = 0, i;

	if (a->ops == NULL || a->ops->people == NULL ||
	    a->ops->people(a->ops->ctx, id->person_id, found, 4, &n) != PV_OK)
		return false;	/* the workflow still refuses */
	for (i = 0; i < n; i++)
		if (strcmp(found[i].ident.person_id, id->person_id) == 0)
			break;
	if (i == n || identity_diff(&found[i].ident, id, diff,
	    sizeof(diff)) == 0)
		return false;
	(void)snprintf(text, sizeof(text), "Person %s is enrolled with other "
	    "details: %s.  y: update the record (the old values are kept "
	    "in the audit log) and issue; n: back to the form.",
	    id->person_id, diff);
	tui_dlg_confirm(a, TUI_FOR_PERSON_UPDATE, "Update the person?", text);
	tui_msg(a, true, "person %s is in the store with other details",
	    id->person_id);
	return true;
}

static unsigned
tui_issue_start(struct tui_app *a, time_t now)
{
	struct identity id;
	char text[256];

	if (tui_busy_refuse(a))
		return TUI_R_DRAW;
	if (!tui_issue_ready(a, &id)) {
		tui_msg(a, true, "%s", a->issue.form_err);
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	if (!a->issue.update_person && tui_issue_person_changed(a, &id))
		return TUI_R_DRAW | TUI_R_BEEP;
	if (a->issue.pad)
		return tui_issue_go(a, NULL, now);
	(void)snprintf(text, sizeof(text), "The cardholder types a new PIN "
	    "(%u to %u digits), then again", a->cfg->pin_min,
	    a->cfg->pin_max);
	tui_dlg_input(a, TUI_FOR_ISSUE_PIN, "New PIN", text, a->cfg->pin_max,
	    true, true, a->cfg->pin_digits_only);
	return TUI_R_DRAW;
}

static unsigned
tui_issue_key(struct tui_app *a, int key, time_t now)
{
	size_t f = a->issue.focus;

	switch (key) {
	case TUI_K_TAB:
	case TUI_K_DOWN:
		return tui_issue_move(a, 1);
	case TUI_K_BTAB:
	case TUI_K_UP:
		return tui_issue_move(a, -1);
	case TUI_K_ENTER:
		if (f < TUI_ISSUE_N_ID)
			return tui_issue_move(a, 1);
		return tui_issue_start(a, now);
	default:
		break;
	}
	if (f < TUI_ISSUE_N_ID) {
		if (tui_field_key(&a->issue.f[f], key)) {
			a->issue.err[f][0] = '\0';
			a->issue.update_person = false;	/* asked again */
			return TUI_R_DRAW;
		}
		return TUI_R_NONE;
	}
	if (key != TUI_K_LEFT && key != TUI_K_RIGHT && key != ' ')
		return TUI_R_NONE;
	if (f == TUI_ISSUE_READER) {
		tui_reader_cycle(a, a->issue.reader, key == TUI_K_LEFT ? -1 : 1);
		tui_issue_pick_reader(a, true);
	} else if (f == TUI_ISSUE_PINMODE) {
		a->issue.pad = !a->issue.pad;
		a->issue.pad_set = true;
	} else
		a->issue.reissue = !a->issue.reissue;
	a->issue.form_err[0] = '\0';
	return TUI_R_DRAW;
}

static unsigned
act_issue_start(struct tui_app *a, int key, time_t now)
{
	(void)key;
	return tui_issue_start(a, now);
}

static unsigned
act_issue_find(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	tui_dlg_people(a, TUI_FOR_PICK_ISSUE);
	return TUI_R_DRAW;
}

static unsigned
act_issue_clear(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	tui_issue_reset(a);
	tui_msg(a, false, "form cleared");
	return TUI_R_DRAW;
}

/* ---- progress ------------------------------------------------------------------------ */

static unsigned
act_run_cancel(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	if (a->run.running) {
		if (!a->run.cancel_asked) {
			a->run.cancel_asked = true;
			tui_msg(a, false, "cancelling after the current step; the "
			    "job is kept and can be resumed");
		}
		return TUI_R_DRAW | TUI_R_CANCEL;
	}
	tui_req_wipe(&a->run.again);
	a->screen = a->run.kind == TUI_REQ_UNBLOCK ? TUI_SCR_HELPDESK :
	    TUI_SCR_HOME;
	return TUI_R_CLEAR;
}

static unsigned
act_run_resume(struct tui_app *a, int key, time_t now)
{
	struct tui_req q;
	char title[200];

	(void)key;
	if (a->run.running || !a->run.done || a->run.r == PV_OK)
		return TUI_R_NONE;
	if (tui_busy_refuse(a))
		return TUI_R_DRAW;
	q = a->run.again;
	(void)snprintf(title, sizeof(title), "%s", a->run.title);
	if (!tui_queue(a, &q)) {
		tui_req_wipe(&q);
		return TUI_R_BEEP;
	}
	tui_run_start(a, &q, title, now);
	tui_req_wipe(&q);
	tui_msg(a, false, "resuming job");
	return TUI_R_CLEAR | TUI_R_WORK;
}

static unsigned
act_run_next(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	if (a->run.running || !a->run.done)
		return TUI_R_NONE;
	tui_req_wipe(&a->run.again);
	if (a->run.kind == TUI_REQ_ISSUE) {
		if (a->run.r == PV_OK)
			tui_issue_reset(a);
		a->screen = TUI_SCR_ISSUE;
		tui_issue_pick_reader(a, a->run.r != PV_OK);
	} else {
		a->screen = TUI_SCR_HELPDESK;
	}
	a->msg[0] = '\0';
	return TUI_R_CLEAR;
}

/* ---- help desk ----------------------------------------------------------------------- */

static void
tui_desk_certs(struct tui_app *a)
{
	struct tui_helpdesk *d = &a->desk;

	d->n_certs = 0;
	if (d->n_dev == 0 || a->ops == NULL || a->ops->certs == NULL)
		return;
	if (a->ops->certs(a->ops->ctx, d->dev[d->sel].id, d->certs, 8,
	    &d->n_certs) != PV_OK)
		d->n_certs = 0;
}

static void
tui_desk_load(struct tui_app *a, int64_t person_id, int64_t device_id)
{
	struct tui_helpdesk *d = &a->desk;
	size_t i;

	d->has_person = false;
	d->n_dev = d->sel = d->n_certs = 0;
	if (a->ops == NULL || a->ops->person == NULL ||
	    a->ops->person(a->ops->ctx, person_id, &d->person) != PV_OK)
		return;
	d->has_person = true;
	if (a->ops->devices != NULL && a->ops->devices(a->ops->ctx, person_id,
	    d->dev, TUI_DEVICES_MAX, &d->n_dev) != PV_OK)
		d->n_dev = 0;
	/* The card at the desk first, else the newest. */
	d->sel = d->n_dev ? d->n_dev - 1 : 0;
	for (i = 0; i < d->n_dev; i++)
		if (d->dev[i].id == device_id)
			d->sel = i;
	tui_desk_certs(a);
}

/* The person of the card in the desk's reader, if it is this station's. */
static void
tui_desk_from_card(struct tui_app *a)
{
	const struct watch_reader *r = tui_reader(a, a->desk.reader);

	if (r != NULL && r->read && r->card.person_id != 0 &&
	    (!a->desk.has_person || a->desk.person.id != r->card.person_id))
		tui_desk_load(a, r->card.person_id, r->card.device_id);
}

static const struct store_device *
tui_desk_dev(const struct tui_app *a)
{
	const struct tui_helpdesk *d = &a->desk;

	return d->has_person && d->n_dev > 0 ? &d->dev[d->sel] : NULL;
}

/* May the operator signed in do |act|?  If not, the message says who may. */
static bool
tui_may(struct tui_app *a, enum op_action act)
{
	if (operator_permits(&a->op, act))
		return true;
	tui_msg(a, true, "%s (%s) may not %s: only %s", a->op.name,
	    store_role_name(a->op.role), op_action_name(act),
	    op_roles_for(act));
	return false;
}

static unsigned
act_desk_move(struct tui_app *a, int key, time_t now)
{
	struct tui_helpdesk *d = &a->desk;

	(void)now;
	if (key == TUI_K_UP && d->sel > 0)
		d->sel--;
	else if (key == TUI_K_DOWN && d->sel + 1 < d->n_dev)
		d->sel++;
	tui_desk_certs(a);
	return TUI_R_DRAW;
}

static unsigned
act_desk_reader(struct tui_app *a, int key, time_t now)
{
	(void)now;
	tui_reader_cycle(a, a->desk.reader, key == TUI_K_LEFT ? -1 : 1);
	tui_desk_from_card(a);
	return TUI_R_DRAW;
}

static unsigned
act_desk_find(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	tui_dlg_people(a, TUI_FOR_PICK_DESK);
	return TUI_R_DRAW;
}

static unsigned
act_desk_unblock(struct tui_app *a, int key, time_t now)
{
	const struct store_device *dev = tui_desk_dev(a);
	const struct watch_reader *r = tui_reader(a, a->desk.reader);
	struct tui_req q;
	char text[256], name[3 * IDENTITY_NAME_MAX + 8], title[200];

	(void)key;
	if (!tui_may(a, OP_UNBLOCK) || tui_busy_refuse(a))
		return TUI_R_DRAW;
	if (r == NULL || !r->present || !r->read || r->card.device_id == 0) {
		tui_msg(a, true, "put the cardholder's card in a reader and "
		    "choose it (Left/Right)");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	if (dev == NULL || r->card.device_id != dev->id) {
		tui_desk_load(a, r->card.person_id, r->card.device_id);
		dev = tui_desk_dev(a);
	}
	if (r->card.pad) {
		memset(&q, 0, sizeof(q));
		q.kind = TUI_REQ_UNBLOCK;
		q.pin_pad = true;
		(void)snprintf(q.reader, sizeof(q.reader), "%s", r->name);
		if (!tui_queue(a, &q))
			return TUI_R_BEEP;
		(void)identity_printed_name(&a->desk.person.ident, name,
		    sizeof(name));
		(void)snprintf(title, sizeof(title), "Unblocking the PIN of "
		    "%.120s", name);
		tui_run_start(a, &q, title, now);
		tui_req_wipe(&q);
		return TUI_R_CLEAR | TUI_R_WORK;
	}
	(void)snprintf(text, sizeof(text), "The cardholder types a new PIN (%u "
	    "to %u digits), then again", a->cfg->pin_min, a->cfg->pin_max);
	tui_dlg_input(a, TUI_FOR_UNBLOCK_PIN, "New PIN", text,
	    a->cfg->pin_max, true, true, a->cfg->pin_digits_only);
	return TUI_R_DRAW;
}

static unsigned
tui_desk_lifecycle(struct tui_app *a, enum tui_dlg_for p, const char *verb)
{
	const struct store_device *dev = tui_desk_dev(a);
	char title[96];

	if (!tui_may(a, OP_LIFECYCLE))
		return TUI_R_DRAW;
	if (dev == NULL) {
		tui_msg(a, true, "choose a person and one of their devices "
		    "first");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	(void)snprintf(title, sizeof(title), "%s device %lld", verb,
	    (long long)dev->id);
	tui_dlg_input(a, p, title, "The reason, for the audit log", 200, false,
	    false, false);
	return TUI_R_DRAW;
}

static unsigned
act_desk_suspend(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_desk_lifecycle(a, TUI_FOR_SUSPEND, "Suspend");
}

static unsigned
act_desk_resume(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_desk_lifecycle(a, TUI_FOR_RESUME, "Resume");
}

static unsigned
act_desk_terminate(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_desk_lifecycle(a, TUI_FOR_TERMINATE, "Terminate");
}

static unsigned
act_desk_recover(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	if (!tui_may(a, OP_RECOVER) || tui_busy_refuse(a))
		return TUI_R_DRAW;
	if (!a->desk.has_person) {
		tui_msg(a, true, "choose a person first (F7)");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	tui_dlg_input(a, TUI_FOR_RECOVER_REASON, "Recover the encryption key",
	    "The reason, for the audit log", RECOVER_REASON_MAX, false, false,
	    false);
	return TUI_R_DRAW;
}

/* The file dialog of a recovery, a name proposed from the person. */
static void
tui_recover_path_dlg(struct tui_app *a)
{
	char path[300];

	tui_dlg_input(a, TUI_FOR_P12_PATH, "Recover the encryption key",
	    "The PKCS#12 file to write (a new file)", 500, false, false,
	    false);
	(void)snprintf(path, sizeof(path), "%s-key-management.p12",
	    a->desk.person.ident.person_id);
	tui_field_set(&a->dlg.in, path);
}

static unsigned
act_desk_reissue(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	if (!tui_may(a, OP_ISSUE))
		return TUI_R_DRAW | TUI_R_BEEP;
	if (!a->desk.has_person) {
		tui_msg(a, true, "choose a person first (F7)");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	tui_issue_reset(a);
	tui_issue_from_person(a, &a->desk.person.ident);
	(void)snprintf(a->issue.reader, sizeof(a->issue.reader), "%s",
	    a->desk.reader);
	tui_issue_pick_reader(a, false);
	(void)snprintf(a->issue.reader, sizeof(a->issue.reader), "%s",
	    a->desk.reader[0] ? a->desk.reader : a->issue.reader);
	a->issue.reissue = true;
	/* The last row focused: the reader, the PIN entry and the reissue
	 * (a card not blank is issued again) all show, on any screen. */
	a->issue.focus = TUI_ISSUE_REISSUE;
	a->screen = TUI_SCR_ISSUE;
	tui_msg(a, false, "reissue: check the reader and PIN entry, then F8");
	return TUI_R_CLEAR;
}

/* ---- audit ---------------------------------------------------------------------------- */

static bool
tui_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; hay[i] != '\0'; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return n == 0;
}

bool
tui_audit_match(const struct tui_audit_row *row, const char *f)
{
	char obj[AUDIT_OBJECT_MAX + 16], det[64];
	const char *colon;

	if (f == NULL || f[0] == '\0')
		return true;
	if (strncmp(f, "operator:", 9) == 0)
		return strcmp(row->actor, f + 9) == 0 ||
		    strcmp(row->object, f) == 0;
	/* person:N and device:N: the row's object, or its detail's
	 * "person": N / "device": N. */
	if ((strncmp(f, "person:", 7) == 0 || strncmp(f, "device:", 7) == 0) &&
	    (colon = strchr(f, ':')) != NULL) {
		(void)snprintf(obj, sizeof(obj), "%s", f);
		if (strcmp(row->object, obj) == 0)
			return true;
		(void)snprintf(det, sizeof(det), "\"%.*s\":%s",
		    (int)(colon - f), f, colon + 1);
		return strstr(row->detail, det) != NULL;
	}
	return tui_contains(row->actor, f) || tui_contains(row->action, f) ||
	    tui_contains(row->object, f) || tui_contains(row->detail, f);
}

static void
tui_audit_load(struct tui_app *a)
{
	a->audit.n = a->audit.sel = 0;
	if (a->ops != NULL && a->ops->audit != NULL &&
	    a->ops->audit(a->ops->ctx, a->audit.rows, TUI_AUDIT_MAX,
	    &a->audit.n) != PV_OK)
		a->audit.n = 0;
}

static size_t
tui_audit_count(const struct tui_app *a)
{
	size_t i, n = 0;

	for (i = 0; i < a->audit.n; i++)
		n += tui_audit_match(&a->audit.rows[i], a->audit.filter);
	return n;
}

static unsigned
act_audit_move(struct tui_app *a, int key, time_t now)
{
	size_t n = tui_audit_count(a), step = key == TUI_K_PGUP ||
	    key == TUI_K_PGDN ? 10 : 1;

	(void)now;
	if (key == TUI_K_UP || key == TUI_K_PGUP)
		a->audit.sel = a->audit.sel > step ? a->audit.sel - step : 0;
	else if (n > 0)
		a->audit.sel = a->audit.sel + step < n ? a->audit.sel + step :
		    n - 1;
	return TUI_R_DRAW;
}

static unsigned
act_audit_filter(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	tui_dlg_input(a, TUI_FOR_AUDIT_FILTER, "Filter the audit log",
	    "operator:NAME, person:N, device:N, or any text (empty: all)", 100,
	    false, false, false);
	tui_field_set(&a->dlg.in, a->audit.filter);
	return TUI_R_DRAW;
}

static unsigned
act_audit_verify(struct tui_app *a, int key, time_t now)
{
	struct tui_req q;

	(void)key;
	(void)now;
	memset(&q, 0, sizeof(q));
	q.kind = TUI_REQ_VERIFY;
	if (!tui_queue(a, &q))
		return TUI_R_BEEP;
	(void)snprintf(a->audit.verify, sizeof(a->audit.verify), "verifying "
	    "the whole chain...");
	a->audit.verify_ok = true;
	return TUI_R_DRAW | TUI_R_WORK;
}

static unsigned
act_audit_reload(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	tui_audit_load(a);
	return TUI_R_DRAW;
}

/* ---- diagnostics ------------------------------------------------------------------------ */

static unsigned
act_diag_reader(struct tui_app *a, int key, time_t now)
{
	(void)now;
	tui_reader_cycle(a, a->diag.reader, key == TUI_K_LEFT ? -1 : 1);
	return TUI_R_DRAW;
}

static unsigned
act_diag_run(struct tui_app *a, int key, time_t now)
{
	const struct watch_reader *r;
	struct tui_req q;
	size_t i;

	(void)key;
	(void)now;
	if (tui_busy_refuse(a))
		return TUI_R_DRAW;
	/* The operator's own card may be diagnosed too. */
	if ((r = tui_reader(a, a->diag.reader)) == NULL)
		for (i = 0; i < a->n_readers && r == NULL; i++)
			if (a->readers[i].present)
				r = &a->readers[i];
	if (r == NULL || !r->present) {
		tui_msg(a, true, "no card to diagnose: insert one");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	memset(&q, 0, sizeof(q));
	q.kind = TUI_REQ_DIAG;
	(void)snprintf(q.reader, sizeof(q.reader), "%s", r->name);
	(void)snprintf(a->diag.reader, sizeof(a->diag.reader), "%s", r->name);
	if (!tui_queue(a, &q))
		return TUI_R_BEEP;
	tui_msg(a, false, "reading the card in %s...", r->name);
	return TUI_R_DRAW | TUI_R_WORK;
}

static unsigned
act_diag_scroll(struct tui_app *a, int key, time_t now)
{
	size_t step = key == TUI_K_PGUP || key == TUI_K_PGDN ? 10 : 1;

	(void)now;
	if (key == TUI_K_UP || key == TUI_K_PGUP)
		a->diag.scroll = a->diag.scroll > step ? a->diag.scroll - step :
		    0;
	else if (a->diag.facts.n > 0)
		a->diag.scroll = a->diag.scroll + step < a->diag.facts.n ?
		    a->diag.scroll + step : a->diag.facts.n - 1;
	return TUI_R_DRAW;
}

/* ---- screens ------------------------------------------------------------------------------ */

static unsigned
tui_go(struct tui_app *a, enum tui_screen s)
{
	if (a->screen == TUI_SCR_RUN && a->run.running) {
		tui_msg(a, true, "the card work under way shows here: wait, or "
		    "Esc to cancel it");
		return TUI_R_DRAW | TUI_R_BEEP;
	}
	switch (s) {
	case TUI_SCR_ISSUE:
		if (!tui_may(a, OP_ISSUE))
			return TUI_R_DRAW | TUI_R_BEEP;
		tui_issue_pick_reader(a, a->screen == TUI_SCR_ISSUE ||
		    a->issue.reader[0] != '\0');
		break;
	case TUI_SCR_HELPDESK:
		/* The help desk's actions share one set of roles. */
		if (!tui_may(a, OP_UNBLOCK))
			return TUI_R_DRAW | TUI_R_BEEP;
		tui_reader_default(a, a->desk.reader, CARD_CLASS_ISSUED);
		tui_desk_from_card(a);
		break;
	case TUI_SCR_AUDIT:
		tui_audit_load(a);
		break;
	case TUI_SCR_DIAG:
		tui_reader_default(a, a->diag.reader, -1);
		break;
	default:
		break;
	}
	if (a->screen == TUI_SCR_RUN)
		tui_req_wipe(&a->run.again);
	a->screen = s;
	a->msg[0] = '\0';
	return TUI_R_CLEAR;
}

static unsigned
act_go_issue(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_go(a, TUI_SCR_ISSUE);
}

static unsigned
act_go_desk(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_go(a, TUI_SCR_HELPDESK);
}

static unsigned
act_go_audit(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_go(a, TUI_SCR_AUDIT);
}

static unsigned
act_go_diag(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_go(a, TUI_SCR_DIAG);
}

static unsigned
act_go_derive(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_go(a, TUI_SCR_DERIVE);
}

static unsigned
act_go_home(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	return tui_go(a, TUI_SCR_HOME);
}

static unsigned
act_help(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	a->help = true;
	return TUI_R_DRAW;
}

static unsigned
act_lock(struct tui_app *a, int key, time_t now)
{
	(void)key;
	return tui_app_lock(a, "by the operator", now);
}

static unsigned
tui_quit_now(struct tui_app *a)
{
	if (a->signed_in)
		tui_note(a, "operator.signout", "{\"reason\":\"quit\"}");
	a->quit = true;
	return TUI_R_QUIT | TUI_R_WORK;
}

static unsigned
act_quit(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	if (a->busy) {
		tui_dlg_confirm(a, TUI_FOR_QUIT, "Quit?", "Card work is under "
		    "way: quit anyway? (its job is kept and can be resumed) y/n");
		return TUI_R_DRAW;
	}
	return tui_quit_now(a);
}

static unsigned
act_signout(struct tui_app *a, int key, time_t now)
{
	(void)key;
	(void)now;
	if (tui_busy_refuse(a))
		return TUI_R_DRAW;
	tui_dlg_confirm(a, TUI_FOR_SIGNOUT, "Sign out?", "Sign out of the "
	    "console? y/n");
	return TUI_R_DRAW;
}

/* Home: the menu. */
static const struct {
	int key;
	tui_action_fn *fn;
	const char *text;
} tui_menu[] = {
	{ 'i', act_go_issue, "Issue a card or key to a person" },
	{ 'h', act_go_desk, "Help desk: unblock, suspend, resume, terminate, "
	    "recover, reissue" },
	{ 'a', act_go_audit, "Audit log: recent rows, filter, verify" },
	{ 'd', act_go_diag, "Diagnostics of the card in a reader" },
	{ 'v', act_go_derive, "Derive a mobile credential" },
	{ 'l', act_lock, "Lock the console" },
	{ 's', act_signout, "Sign out" },
	{ 'q', act_quit, "Quit" },
};
#define TUI_MENU_N	(sizeof(tui_menu) / sizeof(tui_menu[0]))

size_t
tui_menu_count(void)
{
	return TUI_MENU_N;
}

const char *
tui_menu_text(size_t i, int *key)
{
	if (i >= TUI_MENU_N)
		return NULL;
	*key = tui_menu[i].key;
	return tui_menu[i].text;
}

static unsigned
tui_home_key(struct tui_app *a, int key, time_t now)
{
	size_t i;

	if (key == TUI_K_UP || key == TUI_K_DOWN) {
		a->home_sel = (a->home_sel + (key == TUI_K_UP ? TUI_MENU_N - 1 :
		    1)) % TUI_MENU_N;
		return TUI_R_DRAW;
	}
	if (key == TUI_K_ENTER)
		return tui_menu[a->home_sel % TUI_MENU_N].fn(a, key, now);
	for (i = 0; i < TUI_MENU_N; i++)
		if (key == tui_menu[i].key ||
		    (key < 0x80 && tolower(key) == tui_menu[i].key)) {
			a->home_sel = i;
			return tui_menu[i].fn(a, key, now);
		}
	return TUI_R_NONE;
}

/* ---- the key tables ------------------------------------------------------------------------ */

static const struct tui_binding tui_glob[] = {
	{ TUI_K_F(1), act_help, "Help", "this help (also ?)" },
	{ TUI_K_F(2), act_go_issue, "Issue", "issue a card or key" },
	{ TUI_K_F(3), act_go_desk, "Desk", "help desk" },
	{ TUI_K_F(4), act_go_audit, "Audit", "the audit log" },
	{ TUI_K_F(5), act_go_diag, "Diag", "diagnostics of a card" },
	{ TUI_K_F(6), act_go_derive, "Derive", "derived credentials" },
	{ TUI_K_F(9), act_lock, "Lock", "lock the console now" },
	{ TUI_K_F(10), act_quit, "Quit", "sign out and quit" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_signin[] = {
	{ TUI_K_ENTER, NULL, "Sign in", "check the card and PIN (no PIN typed: "
	    "the reader's PIN pad)" },
	{ TUI_K_UP, NULL, NULL, "Up/Down: the reader with your card" },
	{ TUI_K_F(10), act_quit, "Quit", "quit the console" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_home[] = {
	{ TUI_K_ENTER, NULL, "Open", "open the chosen line (or its letter)" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_issue[] = {
	{ TUI_K_F(8), act_issue_start, "Start", "issue: check the form, the "
	    "PIN, then run" },
	{ TUI_K_F(7), act_issue_find, "Find", "pick a person already enrolled" },
	{ TUI_K_F(11), act_issue_clear, "Clear", "empty the form" },
	{ TUI_K_TAB, NULL, NULL, "Tab/Down, Shift-Tab/Up: next, previous "
	    "field (checked as you leave it)" },
	{ TUI_K_LEFT, NULL, NULL, "Left/Right/Space: change the reader, the "
	    "PIN entry, reissue" },
	{ TUI_K_ESC, act_go_home, "Back", "back to the menu" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_run[] = {
	{ TUI_K_ESC, act_run_cancel, "Cancel/Back", "cancel between steps "
	    "(the job is kept), or back when done" },
	{ 'r', act_run_resume, "Resume", "run the job again (after a pulled "
	    "card, a cancel, a failure)" },
	{ TUI_K_ENTER, act_run_next, "Next", "when done: the next card" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_desk[] = {
	{ 'u', act_desk_unblock, "Unblock", "unblock, or reset a forgotten, PIN "
	    "with the escrowed PUK" },
	{ 's', act_desk_suspend, "Suspend", "suspend the device (certificates "
	    "on hold)" },
	{ 'r', act_desk_resume, "Resume", "resume a suspended device" },
	{ 't', act_desk_terminate, "Terminate", "terminate the device (revoke "
	    "its certificates)" },
	{ 'k', act_desk_recover, "Key", "recover the encryption key to a "
	    "PKCS#12" },
	{ 'e', act_desk_reissue, "Reissue", "issue the person's card again" },
	{ TUI_K_F(7), act_desk_find, "Find", "find a person" },
	{ TUI_K_UP, act_desk_move, NULL, "Up/Down: choose a device" },
	{ TUI_K_DOWN, act_desk_move, NULL, NULL },
	{ TUI_K_LEFT, act_desk_reader, NULL, "Left/Right: the reader at the "
	    "desk" },
	{ TUI_K_RIGHT, act_desk_reader, NULL, NULL },
	{ TUI_K_ESC, act_go_home, "Back", "back to the menu" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_audit[] = {
	{ '/', act_audit_filter, "Filter", "filter: operator:NAME, person:N, "
	    "device:N or text" },
	{ 'v', act_audit_verify, "Verify", "verify the whole hash chain" },
	{ 'r', act_audit_reload, "Reload", "read the newest rows again" },
	{ TUI_K_UP, act_audit_move, NULL, "Up/Down/PgUp/PgDn: move" },
	{ TUI_K_DOWN, act_audit_move, NULL, NULL },
	{ TUI_K_PGUP, act_audit_move, NULL, NULL },
	{ TUI_K_PGDN, act_audit_move, NULL, NULL },
	{ TUI_K_ESC, act_go_home, "Back", "back to the menu" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_diag[] = {
	{ TUI_K_ENTER, act_diag_run, "Read", "read the card in the reader" },
	{ 'd', act_diag_run, NULL, NULL },
	{ TUI_K_LEFT, act_diag_reader, NULL, "Left/Right: the reader" },
	{ TUI_K_RIGHT, act_diag_reader, NULL, NULL },
	{ TUI_K_UP, act_diag_scroll, NULL, "Up/Down/PgUp/PgDn: scroll" },
	{ TUI_K_DOWN, act_diag_scroll, NULL, NULL },
	{ TUI_K_PGUP, act_diag_scroll, NULL, NULL },
	{ TUI_K_PGDN, act_diag_scroll, NULL, NULL },
	{ TUI_K_ESC, act_go_home, "Back", "back to the menu" },
	{ 0, NULL, NULL, NULL }
};

static const struct tui_binding tui_keys_back[] = {
	{ TUI_K_ESC, act_go_home, "Back", "back to the menu" },
	{ 0, NULL, NULL, NULL }
};

const struct tui_binding *
tui_bindings(const struct tui_app *a)
{
	switch (a->screen) {
	case TUI_SCR_SIGNIN: return tui_keys_signin;
	case TUI_SCR_HOME: return tui_keys_home;
	case TUI_SCR_ISSUE: return tui_keys_issue;
	case TUI_SCR_RUN: return tui_keys_run;
	case TUI_SCR_HELPDESK: return tui_keys_desk;
	case TUI_SCR_AUDIT: return tui_keys_audit;
	case TUI_SCR_DIAG: return tui_keys_diag;
	default: return tui_keys_back;
	}
}

const struct tui_binding *
tui_global_bindings(const struct tui_app *a)
{
	static const struct tui_binding none[] = { { 0, NULL, NULL, NULL } };

	return a->signed_in && !a->locked ? tui_glob : none;
}

/* Screens where letters are typed into a field. */
static bool
tui_typing(const struct tui_app *a)
{
	return a->screen == TUI_SCR_SIGNIN || (a->screen == TUI_SCR_ISSUE &&
	    a->issue.focus < TUI_ISSUE_N_ID);
}

/* ---- dialog answers ------------------------------------------------------------------------ */

static unsigned
tui_lifecycle_req(struct tui_app *a, enum tui_req_kind k, const char *reason)
{
	const struct store_device *dev = tui_desk_dev(a);
	struct tui_req q;

	if (dev == NULL)
		return TUI_R_BEEP;
	memset(&q, 0, sizeof(q));
	q.kind = k;
	q.device_id = dev->id;
	q.person_id = dev->person_id;
	(void)snprintf(q.reason, sizeof(q.reason), "%s", reason);
	if (!tui_queue(a, &q))
		return TUI_R_BEEP;
	tui_msg(a, false, "working...");
	return TUI_R_DRAW | TUI_R_WORK;
}

/* The secret typed in the dialog (twice when asked), into |out|: false
 * while the dialog goes on (the second entry, or a mismatch). */
static bool
tui_dlg_secret(struct tui_app *a, struct pkix_pass *out)
{
	struct tui_dialog *d = &a->dlg;

	memset(out, 0, sizeof(*out));
	if (d->twice && d->stage == 0) {
		if (pkix_pass_set(&d->first, d->in.buf, NULL) != PV_OK) {
			(void)snprintf(d->err, sizeof(d->err), "too long");
			tui_field_clear(&d->in);
			return false;
		}
		tui_field_clear(&d->in);
		d->stage = 1;
		d->err[0] = '\0';
		return false;
	}
	if (d->twice && (d->first.len != d->in.len || CRYPTO_memcmp(
	    d->first.v, d->in.buf, d->in.len) != 0)) {
		(void)snprintf(d->err, sizeof(d->err), "the two entries differ: "
		    "type it again");
		pkix_pass_clear(&d->first);
		tui_field_clear(&d->in);
		d->stage = 0;
		return false;
	}
	if (pkix_pass_set(out, d->in.buf, NULL) != PV_OK) {
		(void)snprintf(d->err, sizeof(d->err), "too long");
		tui_field_clear(&d->in);
		return false;
	}
	return true;
}

static unsigned
tui_dlg_submit(struct tui_app *a, time_t now)
{
	struct tui_dialog *d = &a->dlg;
	struct pv_why why = { "" };
	struct pkix_pass sec;
	struct tui_req q;
	const struct watch_reader *r;
	unsigned rv = TUI_R_DRAW;
	char name[3 * IDENTITY_NAME_MAX + 8], title[200];

	memset(&sec, 0, sizeof(sec));
	switch (d->purpose) {
	case TUI_FOR_ISSUE_PIN:
	case TUI_FOR_UNBLOCK_PIN:
		if (d->stage == 0 && config_check_pin(a->cfg,
		    (const uint8_t *)d->in.buf, d->in.len, &why) != PV_OK) {
			(void)snprintf(d->err, sizeof(d->err), "%s", why.msg);
			tui_field_clear(&d->in);
			return TUI_R_DRAW;
		}
		if (!tui_dlg_secret(a, &sec))
			return TUI_R_DRAW;
		if (d->purpose == TUI_FOR_ISSUE_PIN) {
			tui_dlg_close(a);
			rv = tui_issue_go(a, &sec, now);
			pkix_pass_clear(&sec);
			return rv;
		}
		tui_dlg_close(a);
		break;
	case TUI_FOR_WORKER:
		if (!tui_dlg_secret(a, &sec))
			return TUI_R_DRAW;
		a->ans = sec;
		a->ans_r = PV_OK;
		a->ans_ready = true;
		pkix_pass_clear(&sec);
		tui_dlg_close(a);
		return TUI_R_DRAW;
	case TUI_FOR_PICK_ISSUE:
	case TUI_FOR_PICK_DESK:
		if (d->n_people == 0)
			return TUI_R_BEEP;
		if (d->purpose == TUI_FOR_PICK_ISSUE) {
			tui_issue_from_person(a, &d->people[d->sel].ident);
			tui_msg(a, false, "person %s: check the fields, then F8",
			    d->people[d->sel].ident.person_id);
		} else {
			tui_desk_load(a, d->people[d->sel].id, 0);
		}
		tui_dlg_close(a);
		return TUI_R_CLEAR;
	case TUI_FOR_SUSPEND:
	case TUI_FOR_RESUME:
		if (d->in.len == 0) {
			(void)snprintf(d->err, sizeof(d->err), "a reason is "
			    "needed for the audit log");
			return TUI_R_DRAW;
		}
		{
			enum tui_req_kind k = d->purpose == TUI_FOR_SUSPEND ?
			    TUI_REQ_SUSPEND : TUI_REQ_RESUME;
			char reason[LIFECYCLE_REASON_MAX + 1];

			(void)snprintf(reason, sizeof(reason), "%.200s", d->in.buf);
			tui_dlg_close(a);
			return tui_lifecycle_req(a, k, reason);
		}
	case TUI_FOR_TERMINATE:
		if (d->in.len == 0) {
			(void)snprintf(d->err, sizeof(d->err), "a reason is "
			    "needed for the audit log");
			return TUI_R_DRAW;
		}
		(void)snprintf(a->pending_reason, sizeof(a->pending_reason), "%.200s",
		    d->in.buf);
		tui_dlg_confirm(a, TUI_FOR_TERMINATE_OK, "Terminate?",
		    "Terminate for good, revoking every certificate of the "
		    "device? y/n");
		return TUI_R_DRAW;
	case TUI_FOR_PERSON_UPDATE:
		tui_dlg_close(a);
		a->issue.update_person = true;
		return tui_issue_start(a, now);
	case TUI_FOR_TERMINATE_OK:
		tui_dlg_close(a);
		return tui_lifecycle_req(a, TUI_REQ_TERMINATE, a->pending_reason);
	case TUI_FOR_RECOVER_REASON:
		/* recover.h's rule, said before anything else is asked. */
		if (recover_reason_check(d->in.buf, &why) != PV_OK) {
			(void)snprintf(d->err, sizeof(d->err), "%.200s",
			    why.msg);
			return TUI_R_DRAW;
		}
		(void)snprintf(a->pending_reason, sizeof(a->pending_reason),
		    "%.200s", d->in.buf);
		tui_recover_path_dlg(a);
		return TUI_R_DRAW;
	case TUI_FOR_P12_PATH:
		if (d->in.len == 0)
			return TUI_R_BEEP;
		(void)snprintf(a->pending_path, sizeof(a->pending_path), "%s",
		    d->in.buf);
		tui_dlg_input(a, TUI_FOR_P12_PASS, "PKCS#12 passphrase",
		    "A passphrase for the file (8 characters or more), twice",
		    PKIX_PASS_MAX, true, true, false);
		return TUI_R_DRAW;
	case TUI_FOR_P12_PASS:
		if (d->stage == 0 && d->in.len < 8) {
			(void)snprintf(d->err, sizeof(d->err), "at least 8 "
			    "characters");
			tui_field_clear(&d->in);
			return TUI_R_DRAW;
		}
		if (!tui_dlg_secret(a, &sec))
			return TUI_R_DRAW;
		pkix_pass_clear(&a->pending_p12);
		a->pending_p12 = sec;
		pkix_pass_clear(&sec);
		if (a->cfg->console_recovery_dual) {
			OPENSSL_cleanse(&a->dlg, sizeof(a->dlg));
			a->dlg.kind = TUI_DLG_READER;
			a->dlg.purpose = TUI_FOR_SECOND;
			(void)snprintf(a->dlg.title, sizeof(a->dlg.title),
			    "Second operator (dual control)");
			(void)snprintf(a->dlg.text, sizeof(a->dlg.text),
			    "Another help desk operator inserts their card: "
			    "choose its reader (Up/Down), type their PIN");
			tui_field_init(&a->dlg.in, 8, true);
			a->dlg.in.digits = true;
			tui_reader_cycle(a, a->dlg.reader, 1);
			return TUI_R_DRAW;
		}
		/* FALLTHROUGH */
	case TUI_FOR_SECOND:
		memset(&q, 0, sizeof(q));
		q.kind = TUI_REQ_RECOVER;
		q.person_id = a->desk.person.id;
		(void)snprintf(q.person_ext, sizeof(q.person_ext), "%s",
		    a->desk.person.ident.person_id);
		(void)snprintf(q.path, sizeof(q.path), "%s", a->pending_path);
		(void)snprintf(q.reason, sizeof(q.reason), "%s",
		    a->pending_reason);
		q.p12 = a->pending_p12;
		pkix_pass_clear(&a->pending_p12);
		if (d->purpose == TUI_FOR_SECOND) {
			r = tui_reader(a, d->reader);
			if (r == NULL || !r->present) {
				(void)snprintf(d->err, sizeof(d->err), "no card "
				    "in that reader");
				tui_req_wipe(&q);
				return TUI_R_DRAW;
			}
			q.dual = true;
			(void)snprintf(q.second_reader, sizeof(q.second_reader),
			    "%s", r->name);
			if (d->in.len == 0)
				q.second_pad = true;
			else
				(void)pkix_pass_set(&q.second_pin, d->in.buf,
				    NULL);
		}
		tui_dlg_close(a);
		if (!tui_queue(a, &q)) {
			tui_req_wipe(&q);
			return TUI_R_BEEP;
		}
		tui_req_wipe(&q);
		tui_msg(a, false, "recovering the key...");
		return TUI_R_DRAW | TUI_R_WORK;
	case TUI_FOR_AUDIT_FILTER:
		(void)snprintf(a->audit.filter, sizeof(a->audit.filter), "%.127s",
		    d->in.buf);
		a->audit.sel = 0;
		tui_dlg_close(a);
		return TUI_R_DRAW;
	case TUI_FOR_QUIT:
		tui_dlg_close(a);
		return tui_quit_now(a);
	case TUI_FOR_SIGNOUT:
		tui_dlg_close(a);
		tui_note(a, "operator.signout", "{\"reason\":\"signed out\"}");
		(void)snprintf(name, sizeof(name), "%s", a->op.name);
		operator_clear(&a->op);
		a->signed_in = false;
		a->locked = false;
		a->screen = TUI_SCR_SIGNIN;
		tui_signin_reset(a);
		(void)snprintf(a->signin.msg, sizeof(a->signin.msg), "%.64s "
		    "signed out.", name);
		return TUI_R_CLEAR | TUI_R_WORK;
	default:
		tui_dlg_close(a);
		return TUI_R_DRAW;
	}
	/* TUI_FOR_UNBLOCK_PIN */
	memset(&q, 0, sizeof(q));
	q.kind = TUI_REQ_UNBLOCK;
	q.pin = sec;
	pkix_pass_clear(&sec);
	(void)snprintf(q.reader, sizeof(q.reader), "%s", a->desk.reader);
	if (!tui_queue(a, &q)) {
		tui_req_wipe(&q);
		return TUI_R_BEEP;
	}
	(void)identity_printed_name(&a->desk.person.ident, name, sizeof(name));
	(void)snprintf(title, sizeof(title), "Unblocking the PIN of %.120s",
	    name);
	tui_run_start(a, &q, title, now);
	tui_req_wipe(&q);
	return TUI_R_CLEAR | TUI_R_WORK;
}

/* ---- the key dispatch ---------------------------------------------------------------------- */

unsigned
tui_app_key(struct tui_app *a, int key, time_t now)
{
	const struct tui_binding *b;
	unsigned r;

	a->last_key = now;
	if (key == TUI_K_RESIZE)
		return TUI_R_CLEAR;
	if (a->dlg.kind != TUI_DLG_NONE)
		return tui_dlg_key(a, key, now);
	if (a->help) {
		a->help = false;
		return TUI_R_CLEAR;
	}
	if (key == TUI_K_F(1) || (key == '?' && !tui_typing(a)))
		return act_help(a, key, now);
	for (b = tui_global_bindings(a); b->key != 0; b++)
		if (b->key == key && b->fn != NULL)
			return b->fn(a, key, now);
	for (b = tui_bindings(a); b->key != 0; b++)
		if (b->key == key && b->fn != NULL && !(tui_typing(a) &&
		    key < 0x110000))
			return b->fn(a, key, now);
	switch (a->screen) {
	case TUI_SCR_SIGNIN:
		return tui_signin_key(a, key, now);
	case TUI_SCR_HOME:
		return tui_home_key(a, key, now);
	case TUI_SCR_ISSUE:
		r = tui_issue_key(a, key, now);
		return r;
	default:
		return TUI_R_NONE;
	}
}

/* ---- from the loop -------------------------------------------------------------------------- */

void
tui_app_init(struct tui_app *a, const struct pv_config *cfg,
    const struct tui_ops *ops, time_t now)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->ops = ops;
	a->screen = TUI_SCR_SIGNIN;
	a->idle_lock_s = cfg->console_idle_lock_s;
	a->last_key = now;
	a->service = true;
	tui_signin_reset(a);
	tui_issue_reset(a);
	a->issue.pad = true;
	a->no_operators = ops != NULL && ops->any_operator != NULL &&
	    !ops->any_operator(ops->ctx);
	(void)snprintf(a->signin.msg, sizeof(a->signin.msg), "%s",
	    a->no_operators ? "No operator is registered yet: an "
	    "administrator runs 'pivstation operator add NAME --role admin -r "
	    "READER' with their card." : "Insert your operator card, type "
	    "your PIN and press Enter.");
}

void
tui_app_cleanup(struct tui_app *a)
{
	size_t i;

	for (i = 0; i < a->n_out; i++)
		tui_req_wipe(&a->outbox[i]);
	tui_req_wipe(&a->run.again);
	pkix_pass_clear(&a->ans);
	pkix_pass_clear(&a->pending_p12);
	diag_facts_free(&a->diag.facts);
	tui_dlg_close(a);
	OPENSSL_cleanse(a, sizeof(*a));
}

unsigned
tui_app_tick(struct tui_app *a, time_t now)
{
	if (a->signed_in && !a->locked && a->idle_lock_s > 0 &&
	    a->dlg.purpose != TUI_FOR_WORKER &&
	    now - a->last_key >= (time_t)a->idle_lock_s)
		return tui_app_lock(a, "idle", now);
	return TUI_R_NONE;
}

unsigned
tui_app_readers(struct tui_app *a, const struct watch_reader *r, size_t n,
    bool service, time_t now)
{
	const struct watch_reader *opr;
	unsigned rv = TUI_R_DRAW;

	if (n > WATCH_READERS_MAX)
		n = WATCH_READERS_MAX;
	memcpy(a->readers, r, n * sizeof(r[0]));
	a->n_readers = n;
	a->service = service;
	/* The operator's card leaving its reader locks the console. */
	if (a->signed_in && !a->locked) {
		opr = tui_reader(a, a->op.reader);
		if (opr == NULL || !opr->present ||
		    opr->inserted != a->op_inserted)
			rv |= tui_app_lock(a, "operator card removed", now);
	}
	if (a->screen == TUI_SCR_SIGNIN && tui_reader(a, a->signin.reader) ==
	    NULL) {
		size_t i;

		for (i = 0; i < n; i++)
			if (a->readers[i].present) {
				(void)snprintf(a->signin.reader,
				    sizeof(a->signin.reader), "%s",
				    a->readers[i].name);
				break;
			}
	}
	if (a->screen == TUI_SCR_ISSUE)
		tui_issue_pick_reader(a, a->issue.reader[0] != '\0' &&
		    tui_reader(a, a->issue.reader) != NULL);
	if (a->screen == TUI_SCR_HELPDESK)
		tui_desk_from_card(a);
	return rv;
}

unsigned
tui_app_event(struct tui_app *a, const struct tui_wf_event *ev)
{
	struct tui_run *run = &a->run;
	struct tui_step *s;

	if (a->screen != TUI_SCR_RUN && !run->running)
		return TUI_R_NONE;
	if (ev->job_id != 0)
		run->job_id = ev->job_id;
	if (ev->index == 0) {
		(void)snprintf(run->inspect, sizeof(run->inspect), "%s",
		    ev->text);
		return TUI_R_DRAW;
	}
	if (ev->index > TUI_STEPS_MAX)
		return TUI_R_NONE;
	s = &run->steps[ev->index - 1];
	if (run->count < ev->index)
		run->count = ev->index;
	(void)snprintf(s->name, sizeof(s->name), "%s", ev->step);
	s->state = ev->state;
	s->seen = ev->state != WF_STEP_RUNNING;
	(void)snprintf(s->text, sizeof(s->text), "%s", ev->text);
	if (ev->state != WF_STEP_RUNNING)
		run->pad[0] = '\0';
	return TUI_R_DRAW;
}

unsigned
tui_app_pad(struct tui_app *a, const char *text)
{
	(void)snprintf(a->run.pad, sizeof(a->run.pad), "%s", text);
	if (a->screen == TUI_SCR_SIGNIN)
		(void)snprintf(a->signin.msg, sizeof(a->signin.msg), "%s",
		    text);
	return TUI_R_DRAW;
}

unsigned
tui_app_ask(struct tui_app *a, const char *what, bool confirm)
{
	char text[160];

	if (a->dlg.kind != TUI_DLG_NONE) {
		a->ask_pending = true;
		(void)snprintf(a->ask_what, sizeof(a->ask_what), "%s", what);
		a->ask_confirm = confirm;
		return TUI_R_NONE;
	}
	(void)snprintf(text, sizeof(text), "Type the %s%s", what,
	    confirm ? ", twice" : "");
	tui_dlg_input(a, TUI_FOR_WORKER, what, text, PKIX_PASS_MAX, true,
	    confirm, false);
	return TUI_R_DRAW;
}

bool
tui_app_take_answer(struct tui_app *a, enum pv_err *r, struct pkix_pass *out)
{
	if (!a->ans_ready)
		return false;
	*r = a->ans_r;
	*out = a->ans;
	pkix_pass_clear(&a->ans);
	a->ans_ready = false;
	return true;
}

static bool
tui_resumable(enum pv_err r)
{
	return pv_err_card_gone(r) || r == PV_E_CANCELLED ||
	    r == PV_E_TIMEOUT || r == PV_E_INPUT || r == PV_E_PIN_WRONG;
}

static void
tui_run_done(struct tui_app *a, const struct tui_result *res, time_t now)
{
	struct tui_run *run = &a->run;
	char uuid[PKIX_UUID_STR_LEN];
	size_t i;
	static const char *const sl[4] = { "9A", "9C", "9D", "9E" };

	run->running = false;
	run->done = true;
	run->ended = now;
	run->r = res->r;
	(void)snprintf(run->why, sizeof(run->why), "%s", res->why);
	run->n_sum = 0;
	if (res->kind == TUI_REQ_ISSUE) {
		const struct wf_issue_result *o = &res->issue;

		if (o->job_id != 0)
			run->job_id = o->job_id;
		run->resumable = res->r != PV_OK && o->job_id != 0 &&
		    tui_resumable(res->r);
		if (res->r != PV_OK)
			return;
		pkix_uuid_str(o->guid, uuid);
		(void)snprintf(run->sum[run->n_sum++], 160, "%s: job %lld, "
		    "device %lld (%s%s%s)", o->already_issued ? "Already issued" :
		    "Issued", (long long)o->job_id, (long long)o->device_id,
		    store_device_type_name(o->type), o->serial[0] ?
		    ", serial " : "", o->serial);
		(void)snprintf(run->sum[run->n_sum++], 160, "FASC-N     %s",
		    o->fascn);
		(void)snprintf(run->sum[run->n_sum++], 160, "card UUID  %s",
		    uuid);
		for (i = 0; i < 4; i++)
			(void)snprintf(run->sum[run->n_sum++], 160,
			    "cert %s    %s", sl[i], o->cert_serial[i][0] ?
			    o->cert_serial[i] : "-");
		(void)snprintf(run->sum[run->n_sum++], 160, "9D key     %s",
		    o->key_9d_escrowed ? "escrowed to the KRA" : "made on the "
		    "card, not escrowed");
		(void)snprintf(run->sum[run->n_sum++], 160, "PUK        %s",
		    o->puk_escrowed ? "random, escrowed" : "random, not "
		    "escrowed");
		(void)snprintf(run->sum[run->n_sum++], 160, "took %.1f s "
		    "(card %.1f s), %u steps run", (double)o->ns_total / 1e9,
		    (double)o->ns_card / 1e9, o->steps_run);
	} else {
		const struct wf_unblock_result *o = &res->unblock;

		if (o->job_id != 0)
			run->job_id = o->job_id;
		run->resumable = res->r != PV_OK && o->job_id != 0 &&
		    tui_resumable(res->r);
		if (res->r != PV_OK)
			return;
		(void)snprintf(run->sum[run->n_sum++], 160, "PIN %s: job "
		    "%lld, device %lld (%.80s)", o->was_blocked ? "unblocked" :
		    "reset", (long long)o->job_id, (long long)o->device_id,
		    o->person);
	}
}

unsigned
tui_app_result(struct tui_app *a, struct tui_result *res, time_t now)
{
	const struct watch_reader *r;
	bool same;

	if (tui_req_card_work(res->kind) && a->busy_kind == res->kind) {
		a->busy = false;
		a->busy_kind = TUI_REQ_NONE;
	}
	switch (res->kind) {
	case TUI_REQ_SIGNIN:
		a->signin.checking = false;
		if (res->r != PV_OK) {
			(void)snprintf(a->signin.msg, sizeof(a->signin.msg),
			    "Not signed in: %.230s", res->why);
			tui_msg(a, true, "sign-in refused");
			return TUI_R_DRAW | TUI_R_BEEP;
		}
		same = a->locked && strcmp(a->op.name, res->op.name) == 0;
		a->op = res->op;
		r = tui_reader(a, a->op.reader);
		a->op_inserted = r != NULL ? r->inserted : 0;
		a->signed_in = true;
		a->locked = false;
		a->last_key = now;
		if (same) {
			a->screen = a->back;
			tui_msg(a, false, "unlocked: %s", a->op.name);
		} else {
			a->screen = TUI_SCR_HOME;
			a->home_sel = 0;
			tui_msg(a, false, "signed in: %s (%s)", a->op.name,
			    store_role_name(a->op.role));
		}
		tui_signin_reset(a);
		return TUI_R_CLEAR;
	case TUI_REQ_ISSUE:
	case TUI_REQ_UNBLOCK:
		tui_run_done(a, res, now);
		if (res->r == PV_OK)
			tui_msg(a, false, "%s", res->kind == TUI_REQ_ISSUE ?
			    "done: Enter for the next card, Esc for the menu" :
			    "done: Esc back to the help desk");
		else
			tui_msg(a, true, "%s", a->run.resumable ? "the job is "
			    "kept: R resumes it" : "failed");
		return TUI_R_DRAW;
	case TUI_REQ_DIAG:
		diag_facts_free(&a->diag.facts);
		a->diag.facts = res->facts;
		memset(&res->facts, 0, sizeof(res->facts));
		a->diag.has = true;
		a->diag.scroll = 0;
		(void)snprintf(a->diag.reader, sizeof(a->diag.reader), "%s",
		    res->reader);
		if (res->r != PV_OK)
			tui_msg(a, true, "diagnostics stopped: %s", res->why);
		else
			tui_msg(a, false, "%zu facts read", a->diag.facts.n);
		return TUI_R_DRAW;
	case TUI_REQ_SUSPEND:
	case TUI_REQ_RESUME:
	case TUI_REQ_TERMINATE:
		if (res->r != PV_OK) {
			tui_msg(a, true, "%s", res->why);
		} else {
			tui_msg(a, false, "device %lld: %s -> %s (%zu "
			    "certificate%s)", (long long)res->lc.device_id,
			    store_device_status_name(res->lc.before),
			    store_device_status_name(res->lc.after),
			    res->lc.n_certs, res->lc.n_certs == 1 ? "" : "s");
		}
		if (a->desk.has_person)
			tui_desk_load(a, a->desk.person.id, res->lc.device_id);
		return TUI_R_DRAW;
	case TUI_REQ_RECOVER:
		if (res->r != PV_OK)
			tui_msg(a, true, "key not recovered: %s", res->why);
		else
			tui_msg(a, false, "%s", res->why);
		return TUI_R_DRAW;
	case TUI_REQ_VERIFY:
		a->audit.verify_ok = res->r == PV_OK;
		if (res->r == PV_OK)
			(void)snprintf(a->audit.verify, sizeof(a->audit.verify),
			    "audit log intact: %lld rows, head %s%s",
			    (long long)res->audit.rows,
			    res->audit.head_authenticated ? "authenticated" :
			    "not authenticated", res->audit.file_checked ?
			    ", head file checked" : "");
		else if (pv_err_class(res->r) == PV_CLASS_VERIFY)
			(void)snprintf(a->audit.verify, sizeof(a->audit.verify),
			    "AUDIT LOG NOT INTACT: %.220s", res->why);
		else	/* not checked: no verdict on the log */
			(void)snprintf(a->audit.verify, sizeof(a->audit.verify),
			    "not verified: %.220s", res->why);
		return TUI_R_DRAW;
	case TUI_REQ_NOTE:
		if (res->r != PV_OK)
			tui_msg(a, true, "audit: %s", res->why);
		return TUI_R_DRAW;
	default:
		return TUI_R_NONE;
	}
}
