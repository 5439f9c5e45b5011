/*
 * model.h: the console's model: what every screen shows, the keys and
 * their actions, the requests for card and store work and their
 * results.  Nothing here draws, talks to a card or blocks: an action
 * (htop's Action.c) takes the model and a key and returns what to do
 * next as a bitmask (TUI_R_*): redraw, hand the queued requests to the
 * worker, quit.  So the actions and screens' models are tested without a
 * terminal (tests/unit/tui).
 *
 * Who does what:
 *   term.c   owns the terminal (curses, colours, signals, restoring)
 *   draw.c   renders this model, and only reads it
 *   app.c    the actions and the model's updates (this header)
 *   work.c   the worker thread: card and store work, one request at a
 *            time, reporting through the bus (bus.h)
 *   console.c  the loop: keys, bus messages and reader changes in,
 *            requests out, redraws on the actions' word
 */
#ifndef PV_TUI_MODEL_H
#define PV_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apdu/err.h"
#include "issuance/audit.h"
#include "issuance/config.h"
#include "issuance/diag_facts.h"
#include "issuance/identity.h"
#include "issuance/lifecycle.h"
#include "issuance/operator.h"
#include "issuance/pkix_util.h"
#include "issuance/store.h"
#include "issuance/watch.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "issuance/wf_unblock.h"

/* ---- keys: our own codes, so actions test without curses ---------------- */

enum {
	TUI_K_NONE = 0,
	/* printable characters are their Unicode code points, < 0x110000 */
	TUI_K_ENTER = 0x110001,
	TUI_K_ESC,
	TUI_K_TAB,
	TUI_K_BTAB,
	TUI_K_UP,
	TUI_K_DOWN,
	TUI_K_LEFT,
	TUI_K_RIGHT,
	TUI_K_HOME,
	TUI_K_END,
	TUI_K_PGUP,
	TUI_K_PGDN,
	TUI_K_BS,
	TUI_K_DEL,
	TUI_K_CTRL_U,		/* clear the field */
	TUI_K_RESIZE,
	TUI_K_F1,		/* ... TUI_K_F1 + 11 = F12 */
	TUI_K_F12 = TUI_K_F1 + 11
};
#define TUI_K_F(n)	(TUI_K_F1 + (n) - 1)

/* tui_key_name: "F1", "Enter", "Esc", "?", ... for help texts. */
const char *tui_key_name(int key, char buf[8]);

/* ---- reactions --------------------------------------------------------------- */

#define TUI_R_NONE	0x0
#define TUI_R_DRAW	0x1	/* redraw what changed */
#define TUI_R_CLEAR	0x2	/* clear and redraw everything */
#define TUI_R_WORK	0x4	/* requests are queued for the worker */
#define TUI_R_QUIT	0x8
#define TUI_R_BEEP	0x10
#define TUI_R_CANCEL	0x20	/* ask the running workflow to stop */

/* ---- a one-line text field ------------------------------------------------------ */

#define TUI_FIELD_MAX	512

struct tui_field {
	char buf[TUI_FIELD_MAX];	/* UTF-8, NUL-terminated */
	size_t len;
	size_t cur;			/* byte offset, on a character start */
	size_t max;			/* bytes allowed (0: TUI_FIELD_MAX - 1) */
	bool masked;			/* a secret: drawn as '*', wiped */
	bool digits;			/* only 0-9 accepted */
};

void tui_field_init(struct tui_field *f, size_t max, bool masked);
void tui_field_set(struct tui_field *f, const char *s);
/* tui_field_clear empties (and wipes) the field. */
void tui_field_clear(struct tui_field *f);
/* tui_field_key edits |f| with |key|; true when the key was taken. */
bool tui_field_key(struct tui_field *f, int key);
/* tui_field_cols: display columns of the text before the cursor. */
size_t tui_field_cur_chars(const struct tui_field *f);

/* ---- requests for the worker, and what comes back --------------------------------- */

enum tui_req_kind {
	TUI_REQ_NONE,
	TUI_REQ_SIGNIN,		/* operator_signin on |reader| */
	TUI_REQ_ISSUE,		/* wf_issue_run */
	TUI_REQ_UNBLOCK,	/* wf_unblock_run */
	TUI_REQ_DIAG,		/* diag_facts_read */
	TUI_REQ_SUSPEND,	/* lifecycle_* on |device_id| */
	TUI_REQ_RESUME,
	TUI_REQ_TERMINATE,
	TUI_REQ_RECOVER,	/* escrow key of |person_ext| to |path|
				 * (recover.h), |reason| */
	TUI_REQ_VERIFY,		/* audit_verify */
	TUI_REQ_NOTE		/* an audit row: |action| |object| |detail| */
};

/* tui_req_card_work: does |k| keep the worker busy with a card (the
 * console waits for it before another)? */
bool tui_req_card_work(enum tui_req_kind k);

#define TUI_READER_MAX	WATCH_READER_NAME_MAX

struct tui_req {
	enum tui_req_kind kind;
	char actor[AUDIT_ACTOR_MAX];	/* the operator signed in ("" none) */
	char reader[TUI_READER_MAX];
	struct identity ident;		/* ISSUE */
	bool reissue;
	bool update_person;		/* ISSUE: STORE_PERSON_UPDATE */
	bool pin_pad;			/* the PIN on the reader's pad */
	struct pkix_pass pin;		/* secret: the new or the operator's */
	int64_t device_id;		/* lifecycle */
	int64_t person_id;
	char person_ext[IDENTITY_PERSON_ID_LEN + 1];	/* RECOVER */
	char reason[LIFECYCLE_REASON_MAX + 1];
	char path[512];			/* RECOVER: the PKCS#12 to write */
	struct pkix_pass p12;		/* secret */
	bool dual;			/* RECOVER: a second operator first */
	char second_reader[TUI_READER_MAX];
	struct pkix_pass second_pin;	/* secret */
	bool second_pad;
	char action[AUDIT_ACTION_MAX];	/* NOTE */
	char object[AUDIT_OBJECT_MAX];
	char detail[256];
};

/* tui_req_wipe wipes the secrets of |q| and empties it. */
void tui_req_wipe(struct tui_req *q);

struct tui_result {
	enum tui_req_kind kind;
	enum pv_err r;
	char why[256];
	char reader[TUI_READER_MAX];
	struct operator_session op;		/* SIGNIN */
	struct val_report rep;			/* SIGNIN: every check */
	struct wf_issue_result issue;
	struct wf_unblock_result unblock;
	struct diag_facts facts;		/* DIAG: owned, moved out */
	struct lifecycle_result lc;
	struct audit_report audit;		/* VERIFY */
	char second[AUDIT_ACTOR_MAX];		/* RECOVER: who co-signed */
	int64_t escrow_id;
};

/* A workflow event as the console keeps it (strings copied). */
struct tui_wf_event {
	char kind[16];
	int64_t job_id;
	char step[STORE_STEP_NAME_MAX];
	unsigned index, count;
	enum wf_step_state state;
	char text[256];
};

/* ---- what the UI thread reads itself (quick store reads) --------------------------- */

#define TUI_PICK_MAX	12
#define TUI_DEVICES_MAX	12
#define TUI_AUDIT_MAX	400

struct tui_cert {
	uint8_t slot;
	char serial[STORE_CERT_SERIAL_MAX];
	enum store_cert_status status;
	int64_t not_after;
};

struct tui_audit_row {
	int64_t seq;
	int64_t time;
	char actor[AUDIT_ACTOR_MAX];
	char action[AUDIT_ACTION_MAX];
	char object[AUDIT_OBJECT_MAX];
	char detail[160];
};

struct tui_ops {
	enum pv_err (*people)(void *ctx, const char *text,
	    struct store_person *out, size_t max, size_t *n);
	enum pv_err (*person)(void *ctx, int64_t id, struct store_person *out);
	enum pv_err (*devices)(void *ctx, int64_t person_id,
	    struct store_device *out, size_t max, size_t *n);
	enum pv_err (*certs)(void *ctx, int64_t device_id,
	    struct tui_cert *out, size_t max, size_t *n);
	/* the newest |max| rows, newest first */
	enum pv_err (*audit)(void *ctx, struct tui_audit_row *out, size_t max,
	    size_t *n);
	bool (*any_operator)(void *ctx);
	void *ctx;
};

/* ---- screens ------------------------------------------------------------------------ */

enum tui_screen {
	TUI_SCR_SIGNIN,		/* sign in, or unlock */
	TUI_SCR_HOME,
	TUI_SCR_ISSUE,		/* the identity form */
	TUI_SCR_RUN,		/* a workflow's steps, live, then its result */
	TUI_SCR_HELPDESK,
	TUI_SCR_AUDIT,
	TUI_SCR_DIAG,
	TUI_SCR_DERIVE,		/* derived credentials (SP 800-157) */
	TUI_SCR__COUNT
};

/* tui_screen_title: "Issue", "Help desk", ... */
const char *tui_screen_title(enum tui_screen s);

/* The issue form: the identity fields, then these. */
#define TUI_ISSUE_N_ID		12	/* identity_field_count(): a unit
					 * test holds them equal */
#define TUI_ISSUE_READER	(TUI_ISSUE_N_ID)
#define TUI_ISSUE_PINMODE	(TUI_ISSUE_N_ID + 1)
#define TUI_ISSUE_REISSUE	(TUI_ISSUE_N_ID + 2)
#define TUI_ISSUE_N_ROWS	(TUI_ISSUE_N_ID + 3)

struct tui_issue {
	struct tui_field f[TUI_ISSUE_N_ID];
	char err[TUI_ISSUE_N_ID][256];	/* per field, "" when good */
	size_t focus;			/* 0 .. TUI_ISSUE_N_ROWS - 1 */
	char reader[TUI_READER_MAX];	/* "" until chosen */
	bool pad;			/* the cardholder types on the pad */
	bool pad_set;			/* ... chosen by the officer, not the
					 * reader's default */
	bool reissue;
	bool update_person;		/* the officer agreed to update the
					 * stored person's details */
	char form_err[256];		/* what stops the start */
};

#define TUI_STEPS_MAX	32

struct tui_step {
	char name[STORE_STEP_NAME_MAX];
	enum wf_step_state state;
	bool seen;
	char text[256];
};

struct tui_run {
	enum tui_req_kind kind;		/* ISSUE or UNBLOCK */
	char title[200];
	char reader[TUI_READER_MAX];
	struct tui_step steps[TUI_STEPS_MAX];
	unsigned count;
	int64_t job_id;
	char inspect[256];		/* what the card is */
	char pad[256];			/* the PIN pad prompt, while it waits */
	bool running;
	bool cancel_asked;
	bool done;			/* a result came */
	enum pv_err r;
	char why[256];
	bool resumable;			/* failed, job kept: R resumes */
	char sum[12][160];		/* the result summary */
	size_t n_sum;
	time_t started, ended;
	struct tui_req again;		/* the request, to resume (secrets
					 * wiped when the screen is left) */
};

struct tui_helpdesk {
	bool has_person;
	struct store_person person;
	struct store_device dev[TUI_DEVICES_MAX];
	size_t n_dev, sel;
	struct tui_cert certs[8];
	size_t n_certs;
	char reader[TUI_READER_MAX];	/* the card at the desk */
};

struct tui_audit {
	struct tui_audit_row rows[TUI_AUDIT_MAX];
	size_t n;
	size_t sel;			/* in the filtered list */
	char filter[128];
	char verify[256];		/* the last verify's result */
	bool verify_ok;
};

struct tui_diag {
	char reader[TUI_READER_MAX];
	struct diag_facts facts;	/* owned */
	bool has;
	size_t scroll;
};

struct tui_signin {
	char reader[TUI_READER_MAX];	/* the card to sign in with */
	struct tui_field pin;
	bool pad;			/* the PIN on the reader's pad */
	char msg[256];
	bool checking;
};

/* ---- dialogs -------------------------------------------------------------------------- */

enum tui_dlg {
	TUI_DLG_NONE,
	TUI_DLG_INPUT,		/* one line, masked or not, maybe twice */
	TUI_DLG_CONFIRM,	/* y / n */
	TUI_DLG_PEOPLE,		/* search and pick a person */
	TUI_DLG_READER		/* pick a reader (and a PIN, for a co-signer) */
};

/* What a dialog's answer is for. */
enum tui_dlg_for {
	TUI_FOR_NONE,
	TUI_FOR_ISSUE_PIN,	/* the cardholder's new PIN, twice */
	TUI_FOR_UNBLOCK_PIN,
	TUI_FOR_WORKER,		/* a passphrase the worker asked for */
	TUI_FOR_PICK_ISSUE,	/* a person for the issue form */
	TUI_FOR_PICK_DESK,	/* a person for the help desk */
	TUI_FOR_SUSPEND,	/* the reason */
	TUI_FOR_RESUME,
	TUI_FOR_TERMINATE,
	TUI_FOR_TERMINATE_OK,
	TUI_FOR_RECOVER_REASON,	/* why a key is recovered, for the log */
	TUI_FOR_P12_PATH,
	TUI_FOR_P12_PASS,
	TUI_FOR_SECOND,		/* the second operator's reader and PIN */
	TUI_FOR_AUDIT_FILTER,
	TUI_FOR_PERSON_UPDATE,	/* update a person stored with other
				 * details, then issue? */
	TUI_FOR_QUIT,		/* quit while a card job runs? */
	TUI_FOR_SIGNOUT
};

struct tui_dialog {
	enum tui_dlg kind;
	enum tui_dlg_for purpose;
	char title[96];
	char text[512];
	char err[256];
	struct tui_field in;
	bool twice;			/* asked twice (new secrets) */
	int stage;			/* 0 first entry, 1 the confirmation */
	struct pkix_pass first;		/* the first entry of a twice */
	struct store_person people[TUI_PICK_MAX];
	size_t n_people, sel;
	char reader[TUI_READER_MAX];	/* TUI_DLG_READER */
	bool pad;
};

/* ---- the application ----------------------------------------------------------------- */

#define TUI_OUTBOX_MAX	8

struct tui_app {
	const struct pv_config *cfg;
	const struct tui_ops *ops;
	enum tui_screen screen;
	enum tui_screen back;		/* where unlocking returns */
	bool help;			/* the F1 overlay */
	struct tui_dialog dlg;

	/* who works */
	bool signed_in;
	bool locked;
	struct operator_session op;
	unsigned long op_inserted;	/* the operator card's insertion */
	bool no_operators;		/* nobody registered yet */
	unsigned idle_lock_s;
	time_t last_key;

	/* the readers, from the watch */
	struct watch_reader readers[WATCH_READERS_MAX];
	size_t n_readers;
	bool service;

	/* work */
	bool busy;			/* card work at the worker */
	enum tui_req_kind busy_kind;
	struct tui_req outbox[TUI_OUTBOX_MAX];
	size_t n_out;

	/* screens */
	struct tui_signin signin;
	struct tui_issue issue;
	struct tui_run run;
	struct tui_helpdesk desk;
	struct tui_audit audit;
	struct tui_diag diag;

	/* the message line */
	char msg[256];
	bool msg_err;
	bool quit;

	size_t home_sel;		/* the menu's chosen line */

	/* a question of the worker's: asked in a dialog, answered here */
	bool ask_pending;		/* waits for the open dialog to close */
	char ask_what[96];
	bool ask_confirm;
	bool ans_ready;
	enum pv_err ans_r;
	struct pkix_pass ans;		/* secret */

	/* what a chain of dialogs gathers */
	char pending_reason[LIFECYCLE_REASON_MAX + 1];
	char pending_path[512];
	struct pkix_pass pending_p12;	/* secret */
};

/*
 * tui_app_init sets up |a| on the sign-in screen; |cfg| and |ops| are
 * borrowed.  tui_app_cleanup wipes the secrets and frees what the model
 * owns.
 */
void tui_app_init(struct tui_app *a, const struct pv_config *cfg,
    const struct tui_ops *ops, time_t now);
void tui_app_cleanup(struct tui_app *a);

/* tui_app_key: one key pressed at |now|.  Returns TUI_R_* bits. */
unsigned tui_app_key(struct tui_app *a, int key, time_t now);

/* tui_app_tick: time passed (idle lock, clocks). */
unsigned tui_app_tick(struct tui_app *a, time_t now);

/* tui_app_readers: the watch's new snapshot (locks on the operator's
 * card leaving). */
unsigned tui_app_readers(struct tui_app *a, const struct watch_reader *r,
    size_t n, bool service, time_t now);

/* tui_app_event / tui_app_pad: the running workflow's progress. */
unsigned tui_app_event(struct tui_app *a, const struct tui_wf_event *ev);
unsigned tui_app_pad(struct tui_app *a, const char *text);

/* tui_app_ask: the worker needs a passphrase (answer with
 * tui_app_take_answer). */
unsigned tui_app_ask(struct tui_app *a, const char *what, bool confirm);

/*
 * tui_app_take_answer: when the dialog of a worker's question was
 * answered or dismissed, *r and |out| (a secret: the caller wipes it)
 * get the answer and true is returned, once.
 */
bool tui_app_take_answer(struct tui_app *a, enum pv_err *r,
    struct pkix_pass *out);

/* tui_app_result: the worker finished a request (|res| facts are moved
 * out). */
unsigned tui_app_result(struct tui_app *a, struct tui_result *res, time_t now);

/*
 * tui_app_take_req moves the next queued request into |out| (the
 * caller wipes it after use).  False when none.
 */
bool tui_app_take_req(struct tui_app *a, struct tui_req *out);

/* tui_app_lock locks the console now (|why|: "idle", "card removed"). */
unsigned tui_app_lock(struct tui_app *a, const char *why, time_t now);

/* ---- the key tables (the help line and F1 read them) ------------------------------ */

typedef unsigned tui_action_fn(struct tui_app *a, int key, time_t now);

struct tui_binding {
	int key;
	tui_action_fn *fn;
	const char *label;	/* help line ("Issue"); NULL: F1 only */
	const char *help;	/* F1 text */
};

/*
 * tui_bindings returns the current screen's table (ended by key 0), and
 * tui_global_bindings those every signed-in screen shares.
 */
const struct tui_binding *tui_bindings(const struct tui_app *a);
const struct tui_binding *tui_global_bindings(const struct tui_app *a);

/* The home screen's menu: tui_menu_text gives line |i| and its key
 * (NULL past the end). */
size_t tui_menu_count(void);
const char *tui_menu_text(size_t i, int *key);

/* tui_reader_find: the index of |name| in a->readers, or -1. */
long tui_reader_find(const struct tui_app *a, const char *name);

/* tui_audit_match: does |row| pass the audit filter |f| ("" passes)? */
bool tui_audit_match(const struct tui_audit_row *row, const char *f);

#endif /* PV_TUI_MODEL_H */
