/*
 * test_app.c: the console's actions and screens' models (tui/model.h),
 * without a terminal, a card or a store: keys in, the model and the
 * requests for the worker out, results and events fed back as the worker
 * and the reader watch would.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tui/model.h"

/* ---- a fake of what the UI thread reads --------------------------------------- */

static struct store_person fk_people[3];
static size_t fk_n_people;
static struct store_device fk_dev[2];
static size_t fk_n_dev;
static struct tui_audit_row fk_rows[4];
static size_t fk_n_rows;

static enum pv_err
fk_people_fn(void *ctx, const char *text, struct store_person *out, size_t max,
    size_t *n)
{
	size_t i;

	(void)ctx;
	*n = 0;
	for (i = 0; i < fk_n_people && *n < max; i++)
		/* as store_person_search: person_id or names */
		if (strncmp(fk_people[i].ident.family_name, text,
		    strlen(text)) == 0 || strncmp(fk_people[i].ident.given_name,
		    text, strlen(text)) == 0 ||
		    strncmp(fk_people[i].ident.person_id, text,
		    strlen(text)) == 0)
			out[(*n)++] = fk_people[i];
	return PV_OK;
}

static enum pv_err
fk_person_fn(void *ctx, int64_t id, struct store_person *out)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < fk_n_people; i++)
		if (fk_people[i].id == id) {
			*out = fk_people[i];
			return PV_OK;
		}
	return PV_E_NO_RECORD;
}

static enum pv_err
fk_devices_fn(void *ctx, int64_t person_id, struct store_device *out,
    size_t max, size_t *n)
{
	size_t i;

	(void)ctx;
	*n = 0;
	for (i = 0; i < fk_n_dev && *n < max; i++)
		if (fk_dev[i].person_id == person_id)
			out[(*n)++] = fk_dev[i];
	return PV_OK;
}

static enum pv_err
fk_certs_fn(void *ctx, int64_t device_id, struct tui_cert *out, size_t max,
    size_t *n)
{
	(void)ctx;
	(void)device_id;
	(void)max;
	memset(out, 0, sizeof(*out));
	out[0].slot = 0x9a;
	strcpy(out[0].serial, "0a0b");
	*n = 1;
	return PV_OK;
}

static enum pv_err
fk_audit_fn(void *ctx, struct tui_audit_row *out, size_t max, size_t *n)
{
	(void)ctx;
	*n = fk_n_rows < max ? fk_n_rows : max;
	memcpy(out, fk_rows, *n * sizeof(*out));
	return PV_OK;
}

static bool
fk_any(void *ctx)
{
	(void)ctx;
	return true;
}

static const struct tui_ops fk_ops = {
	fk_people_fn, fk_person_fn, fk_devices_fn, fk_certs_fn, fk_audit_fn,
	fk_any, NULL
};

/* ---- the rig ---------------------------------------------------------------------- */

static struct tui_app A;
static struct pv_config cfg;
static time_t T;

#define OP_READER	"Reader A"
#define CARD_READER	"Reader B"

static void
reader(struct watch_reader *r, const char *name, enum card_class cls,
    bool pad, int64_t person, int64_t device)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->present = true;
	r->read = true;
	r->inserted = 1;
	r->card.cls = cls;
	r->card.pad = pad;
	r->card.person_id = person;
	r->card.device_id = device;
	r->card.pin_left = 3;
}

static void
readers(enum card_class cls, bool pad)
{
	struct watch_reader rd[2];

	reader(&rd[0], OP_READER, CARD_CLASS_ISSUED, false, 9, 9);
	reader(&rd[1], CARD_READER, cls, pad, 1, 11);
	(void)tui_app_readers(&A, rd, 2, true, T);
}

static unsigned
keys(const char *s)
{
	unsigned r = 0;

	while (*s != '\0')
		r |= tui_app_key(&A, (unsigned char)*s++, T);
	return r;
}

static unsigned
key(int k)
{
	return tui_app_key(&A, k, T);
}

static struct tui_req
take(void)
{
	struct tui_req q;

	cr_assert(tui_app_take_req(&A, &q), "a request is queued");
	return q;
}

static void
setup(void)
{
	memset(&fk_people, 0, sizeof(fk_people));
	fk_people[0].id = 1;
	strcpy(fk_people[0].ident.given_name, "Carol");
	strcpy(fk_people[0].ident.family_name, "Cardholder");
	strcpy(fk_people[0].ident.person_id, "0000000003");
	strcpy(fk_people[0].ident.affiliation, "Contractor");
	fk_n_people = 1;
	memset(&fk_dev, 0, sizeof(fk_dev));
	fk_dev[0].id = 11;
	fk_dev[0].person_id = 1;
	fk_dev[0].status = STORE_DEV_ACTIVE;
	fk_n_dev = 1;
	memset(fk_rows, 0, sizeof(fk_rows));
	fk_rows[0].seq = 2;
	strcpy(fk_rows[0].actor, "olivia");
	strcpy(fk_rows[0].action, "device.suspend");
	strcpy(fk_rows[0].object, "device:11");
	strcpy(fk_rows[0].detail, "{\"reason\":\"lost\"}");
	fk_rows[1].seq = 1;
	strcpy(fk_rows[1].actor, "henry");
	strcpy(fk_rows[1].action, "operator.signin");
	strcpy(fk_rows[1].object, "operator:henry");
	strcpy(fk_rows[1].detail, "{}");
	fk_n_rows = 2;
	config_defaults(&cfg);
	T = 1000;
	tui_app_init(&A, &cfg, &fk_ops, T);
}

static void
teardown(void)
{
	tui_app_cleanup(&A);
}

/* Signs olivia in with the card in OP_READER, in |role|. */
static void
signed_in(enum store_role role)
{
	struct tui_result res;
	struct tui_req q;

	readers(CARD_CLASS_BLANK, true);
	snprintf(A.signin.reader, sizeof(A.signin.reader), OP_READER);
	keys("97531864");
	cr_assert(key(TUI_K_ENTER) & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_SIGNIN);
	tui_req_wipe(&q);
	memset(&res, 0, sizeof(res));
	res.kind = TUI_REQ_SIGNIN;
	res.r = PV_OK;
	strcpy(res.op.name, "olivia");
	res.op.role = role;
	strcpy(res.op.reader, OP_READER);
	(void)tui_app_result(&A, &res, T);
	cr_assert(A.signed_in);
}

TestSuite(tui_app, .init = setup, .fini = teardown);

/* ---- sign-in ------------------------------------------------------------------------ */

Test(tui_app, signin_queues_the_card_and_pin)
{
	struct tui_req q;

	readers(CARD_CLASS_BLANK, true);
	cr_assert_str_eq(A.signin.reader, OP_READER, "the first card is chosen");
	keys("12ab34");
	cr_assert_str_eq(A.signin.pin.buf, "1234", "digits only");
	cr_assert(A.signin.pin.masked);
	cr_assert(key(TUI_K_ENTER) & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_SIGNIN);
	cr_assert_str_eq(q.reader, OP_READER);
	cr_assert_eq(q.pin.len, 4);
	cr_assert(!q.pin_pad);
	cr_assert_eq(A.signin.pin.len, 0, "the typed PIN is wiped");
	cr_assert(A.busy);
	tui_req_wipe(&q);
}

Test(tui_app, signin_without_pin_uses_the_pad_only_where_there_is_one)
{
	readers(CARD_CLASS_BLANK, true);
	cr_assert(key(TUI_K_ENTER) & TUI_R_BEEP, "no pad on the operator reader");
	cr_assert(!tui_app_take_req(&A, &(struct tui_req){ 0 }));
	key(TUI_K_DOWN);
	cr_assert_str_eq(A.signin.reader, CARD_READER);
	cr_assert(key(TUI_K_ENTER) & TUI_R_WORK);
	cr_assert(take().pin_pad);
}

Test(tui_app, no_screen_before_signin)
{
	readers(CARD_CLASS_BLANK, true);
	key(TUI_K_F(2));
	cr_assert_eq(A.screen, TUI_SCR_SIGNIN);
	key(TUI_K_F(4));
	cr_assert_eq(A.screen, TUI_SCR_SIGNIN);
}

Test(tui_app, refused_signin_says_why)
{
	struct tui_result res;

	readers(CARD_CLASS_BLANK, true);
	keys("1234");
	key(TUI_K_ENTER);
	tui_req_wipe(&(struct tui_req){ 0 });
	memset(&res, 0, sizeof(res));
	res.kind = TUI_REQ_SIGNIN;
	res.r = PV_E_PIN_WRONG;
	strcpy(res.why, "wrong PIN (2 tries left)");
	(void)tui_app_result(&A, &res, T);
	cr_assert(!A.signed_in);
	cr_assert(strstr(A.signin.msg, "wrong PIN (2 tries left)") != NULL);
	cr_assert(!A.busy);
}

Test(tui_app, signed_in_home_and_roles)
{
	signed_in(STORE_ROLE_HELP_DESK);
	cr_assert_eq(A.screen, TUI_SCR_HOME);
	key(TUI_K_F(2));
	cr_assert_eq(A.screen, TUI_SCR_HOME, "a help desk operator does not issue");
	cr_assert(strstr(A.msg, "olivia (help-desk) may not issue a "
	    "credential: only enroller or administrator") != NULL, "%s", A.msg);
	key(TUI_K_F(3));
	cr_assert_eq(A.screen, TUI_SCR_HELPDESK);
	key(TUI_K_ESC);
	keys("a");
	cr_assert_eq(A.screen, TUI_SCR_AUDIT, "mnemonics on the menu");
}

/* ---- locking --------------------------------------------------------------------------- */

Test(tui_app, idle_lock_and_unlock_to_the_same_screen)
{
	struct tui_result res;
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	A.idle_lock_s = 60;
	key(TUI_K_F(4));
	cr_assert_eq(tui_app_tick(&A, T + 59), TUI_R_NONE);
	cr_assert(tui_app_tick(&A, T + 60) & TUI_R_WORK);
	cr_assert(A.locked);
	cr_assert_eq(A.screen, TUI_SCR_SIGNIN);
	cr_assert(strstr(A.signin.msg, "Locked (idle)") != NULL);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_NOTE);
	cr_assert_str_eq(q.action, "console.lock");
	cr_assert_str_eq(q.actor, "olivia");
	key(TUI_K_F(2));
	cr_assert_eq(A.screen, TUI_SCR_SIGNIN, "no screen while locked");
	memset(&res, 0, sizeof(res));
	res.kind = TUI_REQ_SIGNIN;
	strcpy(res.op.name, "olivia");
	res.op.role = STORE_ROLE_ADMIN;
	strcpy(res.op.reader, OP_READER);
	(void)tui_app_result(&A, &res, T + 70);
	cr_assert(!A.locked);
	cr_assert_eq(A.screen, TUI_SCR_AUDIT);
}

Test(tui_app, operator_card_leaving_locks)
{
	struct watch_reader rd[2];

	signed_in(STORE_ROLE_ADMIN);
	reader(&rd[0], OP_READER, CARD_CLASS_ISSUED, false, 9, 9);
	reader(&rd[1], CARD_READER, CARD_CLASS_BLANK, true, 0, 0);
	(void)tui_app_readers(&A, rd, 2, true, T);
	cr_assert(!A.locked);
	rd[0].inserted = 2;	/* out and back in between two looks */
	(void)tui_app_readers(&A, rd, 2, true, T);
	cr_assert(A.locked);
	cr_assert(strstr(A.signin.msg, "operator card removed") != NULL);
}

/* ---- the issue form -------------------------------------------------------------------- */

static void
type_field(size_t i, const char *s)
{
	A.issue.focus = i;
	tui_field_clear(&A.issue.f[i]);
	keys(s);
}

Test(tui_app, form_has_every_identity_field)
{
	cr_assert_eq(TUI_ISSUE_N_ID, identity_field_count(), "the form's rows "
	    "are the identity file's fields");
}

Test(tui_app, form_checks_each_field_in_identity_words)
{
	struct identity id;
	struct pv_why why = { "" };

	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(2));
	cr_assert_eq(A.screen, TUI_SCR_ISSUE);
	type_field(3, "12345");
	key(TUI_K_TAB);
	cr_assert_str_eq(A.issue.err[3], "form: person_id: expected 10 digits, "
	    "got 5");
	type_field(5, "not-an-email");
	key(TUI_K_TAB);
	/* The same words a file gets. */
	memset(&id, 0, sizeof(id));
	{
		static const char json[] = "{\"given_name\":\"A\",\"family_name\":"
		    "\"B\",\"person_id\":\"0000000001\",\"affiliation\":\"E\","
		    "\"email\":\"not-an-email\"}";

		cr_assert_eq(identity_parse(json, sizeof(json) - 1, "form", &id,
		    &why), PV_E_INPUT);
	}
	cr_assert_str_eq(A.issue.err[5], why.msg);
	cr_assert_str_eq(A.msg, why.msg);
}

Test(tui_app, form_refuses_to_start_with_bad_fields)
{
	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(2));
	type_field(0, "Dana");
	cr_assert(key(TUI_K_F(8)) & TUI_R_BEEP);
	cr_assert(!tui_app_take_req(&A, &(struct tui_req){ 0 }));
	cr_assert_eq(A.issue.focus, 2, "the first bad field: family_name");
	cr_assert(strstr(A.issue.form_err, "family_name: must not be empty"));
}

static void
good_form(void)
{
	type_field(0, "Dana");
	type_field(2, "Doe");
	type_field(3, "0000012345");
	type_field(4, "Employee");
	type_field(5, "dana@example.gov");
}

Test(tui_app, issue_with_the_pin_pad)
{
	struct tui_req q;
	struct tui_wf_event ev;

	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(2));
	cr_assert_str_eq(A.issue.reader, CARD_READER, "the blank card, not the "
	    "operator's");
	cr_assert(A.issue.pad, "the reader has a pad");
	good_form();
	cr_assert(key(TUI_K_F(8)) & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_ISSUE);
	cr_assert(q.pin_pad);
	cr_assert_eq(q.pin.len, 0);
	cr_assert_str_eq(q.ident.person_id, "0000012345");
	cr_assert_str_eq(q.ident.email, "dana@example.gov");
	cr_assert_str_eq(q.reader, CARD_READER);
	cr_assert_str_eq(q.actor, "olivia");
	cr_assert_eq(A.screen, TUI_SCR_RUN);
	cr_assert_eq(A.run.count, 15, "the issue workflow's steps, listed");
	cr_assert_str_eq(A.run.steps[0].name, "register");
	tui_req_wipe(&q);

	memset(&ev, 0, sizeof(ev));
	ev.index = 1;
	ev.count = 15;
	ev.job_id = 7;
	ev.state = WF_STEP_DONE;
	strcpy(ev.step, "register");
	strcpy(ev.text, "job 7: device 3");
	(void)tui_app_event(&A, &ev);
	cr_assert(A.run.steps[0].seen);
	cr_assert_eq(A.run.job_id, 7);
	(void)tui_app_pad(&A, "the cardholder types a new PIN");
	cr_assert_str_eq(A.run.pad, "the cardholder types a new PIN");
}

/* The pad by default once the card in the chosen reader is read (a slow
 * card is read after the form opens), unless the officer chose. */
Test(tui_app, issue_pad_default_follows_the_card_read)
{
	struct watch_reader rd[2];

	signed_in(STORE_ROLE_ADMIN);
	reader(&rd[0], OP_READER, CARD_CLASS_ISSUED, false, 9, 9);
	reader(&rd[1], CARD_READER, CARD_CLASS_BLANK, true, 0, 0);
	rd[1].read = false;
	(void)tui_app_readers(&A, rd, 2, true, T);
	key(TUI_K_F(2));
	cr_assert_str_eq(A.issue.reader, CARD_READER);
	cr_assert(!A.issue.pad, "not known yet");
	readers(CARD_CLASS_BLANK, true);
	cr_assert(A.issue.pad, "the card is read: the reader's pad");
	A.issue.focus = TUI_ISSUE_PINMODE;
	key(TUI_K_RIGHT);
	cr_assert(!A.issue.pad && A.issue.pad_set, "the officer chose");
	readers(CARD_CLASS_BLANK, true);
	cr_assert(!A.issue.pad, "the officer's choice stays");
}

/* A person enrolled with other details: the fields named, the update
 * only when the officer says so. */
Test(tui_app, issue_changed_person_asks_before_updating)
{
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(2));
	type_field(0, "Caroline");
	type_field(2, "Cardholder");
	type_field(3, "0000000003");
	type_field(4, "Contractor");
	cr_assert_eq(key(TUI_K_F(8)) & TUI_R_WORK, 0, "nothing started");
	cr_assert_eq(A.dlg.purpose, TUI_FOR_PERSON_UPDATE);
	cr_assert(strstr(A.dlg.text, "given_name 'Carol', given 'Caroline'") !=
	    NULL, "%s", A.dlg.text);
	cr_assert(strstr(A.dlg.text, "family_name") == NULL, "only what "
	    "differs: %s", A.dlg.text);
	keys("n");
	cr_assert_eq(A.dlg.kind, TUI_DLG_NONE);
	cr_assert(!tui_app_take_req(&A, &q), "nothing queued");
	cr_assert_eq(key(TUI_K_F(8)) & TUI_R_WORK, 0);
	cr_assert_eq(A.dlg.purpose, TUI_FOR_PERSON_UPDATE, "asked again");
	cr_assert(keys("y") & TUI_R_WORK, "issues on the pad");
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_ISSUE);
	cr_assert(q.update_person);
	cr_assert_str_eq(q.ident.given_name, "Caroline");
	tui_req_wipe(&q);
}

Test(tui_app, issue_not_blank_needs_reissue)
{
	signed_in(STORE_ROLE_ADMIN);
	readers(CARD_CLASS_ISSUED, true);
	key(TUI_K_F(2));
	good_form();
	cr_assert(key(TUI_K_F(8)) & TUI_R_BEEP);
	cr_assert(strstr(A.issue.form_err, "not blank"));
	cr_assert_eq(A.issue.focus, TUI_ISSUE_REISSUE);
	key(' ');
	cr_assert(A.issue.reissue);
	cr_assert(key(TUI_K_F(8)) & TUI_R_WORK);
	cr_assert(take().reissue);
}

Test(tui_app, keyboard_pin_twice_masked_checked)
{
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	readers(CARD_CLASS_BLANK, false);
	key(TUI_K_F(2));
	cr_assert(!A.issue.pad, "no pad: the keyboard");
	good_form();
	key(TUI_K_F(8));
	cr_assert_eq(A.dlg.kind, TUI_DLG_INPUT);
	cr_assert(A.dlg.in.masked && A.dlg.twice);
	keys("123456");
	key(TUI_K_ENTER);
	cr_assert(strstr(A.dlg.err, "factory") != NULL, "%s", A.dlg.err);
	keys("24681357");
	key(TUI_K_ENTER);
	cr_assert_eq(A.dlg.stage, 1);
	keys("24681358");
	key(TUI_K_ENTER);
	cr_assert(strstr(A.dlg.err, "differ") != NULL);
	cr_assert_eq(A.dlg.stage, 0);
	keys("24681357");
	key(TUI_K_ENTER);
	keys("24681357");
	cr_assert(key(TUI_K_ENTER) & TUI_R_WORK);
	cr_assert_eq(A.dlg.kind, TUI_DLG_NONE);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_ISSUE);
	cr_assert(!q.pin_pad);
	cr_assert_eq(q.pin.len, 8);
	cr_assert_eq(memcmp(q.pin.v, "24681357", 8), 0);
	tui_req_wipe(&q);
	cr_assert_eq(A.run.again.pin.len, 8, "kept to resume");
}

Test(tui_app, pick_an_enrolled_person)
{
	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(2));
	key(TUI_K_F(7));
	cr_assert_eq(A.dlg.kind, TUI_DLG_PEOPLE);
	keys("Car");
	cr_assert_eq(A.dlg.n_people, 1);
	key(TUI_K_ENTER);
	cr_assert_eq(A.dlg.kind, TUI_DLG_NONE);
	cr_assert_str_eq(A.issue.f[3].buf, "0000000003");
	cr_assert_str_eq(A.issue.f[0].buf, "Carol");
}

/* ---- progress, cancel, resume ------------------------------------------------------------------ */

Test(tui_app, cancel_then_resume_the_same_request)
{
	struct tui_result res;
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(2));
	good_form();
	key(TUI_K_F(8));
	tui_req_wipe(&(struct tui_req){ 0 });
	q = take();
	tui_req_wipe(&q);
	cr_assert(key(TUI_K_ESC) & TUI_R_CANCEL);
	cr_assert(A.run.cancel_asked);
	key(TUI_K_F(4));
	cr_assert_eq(A.screen, TUI_SCR_RUN, "the run stays in view");
	memset(&res, 0, sizeof(res));
	res.kind = TUI_REQ_ISSUE;
	res.r = PV_E_NO_CARD;
	res.issue.job_id = 12;
	strcpy(res.why, "job 12, step certs: no card in the reader");
	(void)tui_app_result(&A, &res, T + 5);
	cr_assert(A.run.done && A.run.resumable);
	cr_assert_eq(A.run.job_id, 12);
	cr_assert(!A.busy);
	cr_assert(key('r') & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_ISSUE);
	cr_assert_str_eq(q.ident.person_id, "0000012345");
	cr_assert(A.run.running);
	tui_req_wipe(&q);
}

Test(tui_app, quit_while_busy_asks)
{
	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(5));
	A.diag.reader[0] = '\0';
	key(TUI_K_ENTER);
	cr_assert(A.busy);
	cr_assert_eq(key(TUI_K_F(10)) & TUI_R_QUIT, 0);
	cr_assert_eq(A.dlg.purpose, TUI_FOR_QUIT);
	cr_assert(key('y') & TUI_R_QUIT);
}

/* ---- the help desk ---------------------------------------------------------------------------- */

Test(tui_app, desk_loads_the_card_s_person_and_suspends)
{
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	readers(CARD_CLASS_ISSUED, true);
	key(TUI_K_F(3));
	cr_assert(A.desk.has_person);
	cr_assert_str_eq(A.desk.person.ident.given_name, "Carol");
	cr_assert_eq(A.desk.n_dev, 1);
	cr_assert_eq(A.desk.n_certs, 1);
	keys("s");
	cr_assert_eq(A.dlg.purpose, TUI_FOR_SUSPEND);
	key(TUI_K_ENTER);
	cr_assert(strstr(A.dlg.err, "reason") != NULL, "a reason is needed");
	keys("lost");
	cr_assert(key(TUI_K_ENTER) & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_SUSPEND);
	cr_assert_eq(q.device_id, 11);
	cr_assert_str_eq(q.reason, "lost");
}

Test(tui_app, desk_unblock_on_the_pad)
{
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	readers(CARD_CLASS_ISSUED, true);
	key(TUI_K_F(3));
	cr_assert(key('u') & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_UNBLOCK);
	cr_assert(q.pin_pad);
	cr_assert_str_eq(q.reader, CARD_READER);
	cr_assert_eq(A.screen, TUI_SCR_RUN);
	cr_assert_eq(A.run.count, 3, "the unblock workflow's steps");
}

Test(tui_app, recovery_gathers_file_passphrase_and_second_operator)
{
	struct tui_req q;

	signed_in(STORE_ROLE_ADMIN);
	readers(CARD_CLASS_ISSUED, true);
	cfg.console_recovery_dual = true;
	key(TUI_K_F(3));
	keys("k");
	cr_assert_eq(A.dlg.purpose, TUI_FOR_RECOVER_REASON);
	key(TUI_K_ENTER);
	cr_assert_eq(A.dlg.purpose, TUI_FOR_RECOVER_REASON, "a reason is needed");
	cr_assert(A.dlg.err[0] != '\0');
	keys("lost the card");
	key(TUI_K_ENTER);
	cr_assert_eq(A.dlg.purpose, TUI_FOR_P12_PATH);
	cr_assert_str_eq(A.dlg.in.buf, "0000000003-key-management.p12");
	key(TUI_K_ENTER);
	cr_assert_eq(A.dlg.purpose, TUI_FOR_P12_PASS);
	keys("short");
	key(TUI_K_ENTER);
	cr_assert(strstr(A.dlg.err, "8 characters") != NULL);
	keys("long enough");
	key(TUI_K_ENTER);
	keys("long enough");
	key(TUI_K_ENTER);
	cr_assert_eq(A.dlg.kind, TUI_DLG_READER);
	cr_assert_str_eq(A.dlg.reader, CARD_READER);
	keys("11223344");
	cr_assert(key(TUI_K_ENTER) & TUI_R_WORK);
	q = take();
	cr_assert_eq(q.kind, TUI_REQ_RECOVER);
	cr_assert(q.dual);
	cr_assert_str_eq(q.second_reader, CARD_READER);
	cr_assert_eq(q.second_pin.len, 8);
	cr_assert_eq(q.p12.len, 11);
	cr_assert_str_eq(q.person_ext, "0000000003");
	cr_assert_str_eq(q.reason, "lost the card");
	cr_assert_eq(A.pending_p12.len, 0, "wiped once handed over");
	tui_req_wipe(&q);
}

/* ---- the worker's questions -------------------------------------------------------------------- */

Test(tui_app, worker_question_answered_once)
{
	struct pkix_pass ans;
	enum pv_err r;

	signed_in(STORE_ROLE_ADMIN);
	(void)tui_app_ask(&A, "CA passphrase", false);
	cr_assert_eq(A.dlg.purpose, TUI_FOR_WORKER);
	cr_assert(A.dlg.in.masked);
	keys("secret!!");
	key(TUI_K_ENTER);
	cr_assert(tui_app_take_answer(&A, &r, &ans));
	cr_assert_eq(r, PV_OK);
	cr_assert_eq(ans.len, 8);
	pkix_pass_clear(&ans);
	cr_assert(!tui_app_take_answer(&A, &r, &ans), "once");
	(void)tui_app_ask(&A, "KRA passphrase", false);
	key(TUI_K_ESC);
	cr_assert(tui_app_take_answer(&A, &r, &ans));
	cr_assert_eq(r, PV_E_CANCELLED);
}

/* ---- audit ---------------------------------------------------------------------------------------- */

Test(tui_app, audit_filters)
{
	cr_assert(tui_audit_match(&fk_rows[0], ""));
	cr_assert(tui_audit_match(&fk_rows[0], "operator:olivia"));
	cr_assert(!tui_audit_match(&fk_rows[1], "operator:olivia"));
	cr_assert(tui_audit_match(&fk_rows[1], "operator:henry"));
	cr_assert(tui_audit_match(&fk_rows[0], "device:11"));
	cr_assert(!tui_audit_match(&fk_rows[0], "device:1"));
	cr_assert(tui_audit_match(&fk_rows[0], "LOST"), "any text, any case");
}

Test(tui_app, audit_screen_and_verify)
{
	struct tui_result res;

	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(4));
	cr_assert_eq(A.audit.n, 2);
	keys("/");
	keys("operator:henry");
	key(TUI_K_ENTER);
	cr_assert_str_eq(A.audit.filter, "operator:henry");
	cr_assert(keys("v") & TUI_R_WORK);
	cr_assert_eq(take().kind, TUI_REQ_VERIFY);
	memset(&res, 0, sizeof(res));
	res.kind = TUI_REQ_VERIFY;
	res.r = PV_E_VERIFY;
	strcpy(res.why, "audit row 7: altered");
	(void)tui_app_result(&A, &res, T);
	cr_assert(!A.audit.verify_ok);
	cr_assert(strstr(A.audit.verify, "NOT INTACT: audit row 7") != NULL);
}

/* ---- help and keys ----------------------------------------------------------------------------------- */

Test(tui_app, help_overlay_and_every_binding_explained)
{
	const struct tui_binding *b;
	enum tui_screen s;

	signed_in(STORE_ROLE_ADMIN);
	key(TUI_K_F(1));
	cr_assert(A.help);
	key('x');
	cr_assert(!A.help);
	keys("?");
	cr_assert(A.help, "? outside a text field");
	key(TUI_K_ESC);
	key(TUI_K_F(2));
	keys("?");
	cr_assert(!A.help, "? is typed into the form");
	cr_assert_str_eq(A.issue.f[0].buf, "?");
	for (s = 0; s < TUI_SCR__COUNT; s++) {
		A.screen = s;
		for (b = tui_bindings(&A); b->key != 0; b++)
			cr_assert(b->label == NULL || b->help != NULL);
	}
	for (b = tui_global_bindings(&A); b->key != 0; b++)
		cr_assert(b->help != NULL && b->label != NULL);
}

/* ---- the text field ---------------------------------------------------------------------------------- */

Test(tui_field, utf8_edits_by_character)
{
	struct tui_field f;

	tui_field_init(&f, 8, false);
	cr_assert(tui_field_key(&f, 'J'));
	cr_assert(tui_field_key(&f, 0xe9));		/* é: two bytes */
	cr_assert(tui_field_key(&f, 0x4e2d));		/* 中: three */
	cr_assert_str_eq(f.buf, "J\xc3\xa9\xe4\xb8\xad");
	cr_assert_eq(tui_field_cur_chars(&f), 3);
	cr_assert(tui_field_key(&f, TUI_K_LEFT));
	cr_assert(tui_field_key(&f, TUI_K_BS));
	cr_assert_str_eq(f.buf, "J\xe4\xb8\xad", "é removed whole");
	cr_assert(tui_field_key(&f, TUI_K_END));
	cr_assert(tui_field_key(&f, 0x1f600));		/* 4 bytes: 8 */
	cr_assert_eq(f.len, 8);
	cr_assert(tui_field_key(&f, 'x'));
	cr_assert_eq(f.len, 8, "over the limit: refused");
	cr_assert(!tui_field_key(&f, 0x1b), "no control characters");
	cr_assert(!tui_field_key(&f, 0x9b), "no C1 controls");
	cr_assert(tui_field_key(&f, TUI_K_CTRL_U));
	cr_assert_eq(f.len, 0);
}

Test(tui_field, digits_only)
{
	struct tui_field f;

	tui_field_init(&f, 8, true);
	f.digits = true;
	tui_field_key(&f, 'a');
	tui_field_key(&f, '7');
	cr_assert_str_eq(f.buf, "7");
	tui_field_set(&f, "123456789");
	cr_assert_str_eq(f.buf, "12345678", "cut at max");
	tui_field_clear(&f);
	cr_assert_eq(f.len, 0);
}
