/*
 * test_batch_view.c: the live view of `pivstation batch`
 * (cli/batch_view.h) as a person reads it: a line per reader with its
 * row, person and step, the overall bar with count, rate and time left;
 * lines never wider than the terminal; names from readers and files
 * shown escaped, never as terminal commands.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cli/batch_view.h"
#include "issuance/wf.h"

static struct batch_progress prog;

static void
feed(struct bv_model *m, enum batch_ev_kind k, const char *reader,
    unsigned row, const char *name, const struct wf_event *step,
    enum batch_rd_state rs, enum store_brow_state st, const char *text)
{
	struct batch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = k;
	ev.reader = reader;
	ev.row = row;
	ev.name = name;
	ev.person_id = "0000000001";
	ev.serial = "";
	ev.step = step;
	ev.rd_state = rs;
	ev.row_state = st;
	ev.text = text;
	ev.prog = &prog;
	bv_update(m, &ev);
}

/* Characters (not bytes) of each line, at most |width|. */
static void
expect_width(const char *out, unsigned width)
{
	const char *p = out;
	unsigned c = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\n') {
			cr_assert_leq(c, width, "line too wide: %u", c);
			c = 0;
			continue;
		}
		if (((unsigned char)*p & 0xc0) != 0x80)
			c++;
	}
}

Test(batch_view, readers_and_bar)
{
	static struct bv_model m;
	struct wf_event step;
	char out[4096];
	unsigned n;

	memset(&prog, 0, sizeof(prog));
	prog.rows = 12;
	prog.done = 5;
	prog.done_before = 1;
	prog.failed = 1;
	prog.running = 1;
	prog.per_min = 3.25;
	prog.elapsed_s = 95;
	prog.eta_s = 130;
	memset(&step, 0, sizeof(step));
	step.step = "key-9c";
	step.index = 8;
	step.count = 15;
	step.state = WF_STEP_DONE;
	feed(&m, BATCH_EV_READER, "Virtual PCD 00 00", 0, "", NULL,
	    BATCH_RD_WAITING, STORE_BROW_PENDING, "taken into the batch");
	feed(&m, BATCH_EV_READER, "Virtual PCD 00 01", 0, "", NULL,
	    BATCH_RD_WAITING, STORE_BROW_PENDING, "taken into the batch");
	feed(&m, BATCH_EV_STEP, "Virtual PCD 00 00", 5, "Example, Alice",
	    &step, BATCH_RD_WORKING, STORE_BROW_RUNNING,
	    "RSA-2048 key generated on the card");
	n = bv_render(&m, 100, out, sizeof(out));
	cr_assert_eq(n, 3);
	cr_assert(strstr(out, "Virtual PCD 00 00") != NULL);
	cr_assert(strstr(out, "row 5") != NULL, "%s", out);
	cr_assert(strstr(out, "Example, Alice") != NULL, "%s", out);
	cr_assert(strstr(out, "key-9c      8/15") != NULL, "%s", out);
	cr_assert(strstr(out, "insert a card") != NULL, "%s", out);
	cr_assert(strstr(out, "[##########..........] 6/12 issued, 1 failed, "
	    "1 waiting, 0 skipped | 3.2/min, ETA 2:10 (1:35 so far)") != NULL,
	    "%s", out);
	expect_width(out, 100);
	/* The row done: the reader says to take the card out. */
	feed(&m, BATCH_EV_ROW, "Virtual PCD 00 00", 5, "Example, Alice", NULL,
	    BATCH_RD_TAKE_OUT, STORE_BROW_DONE, "issued: device 3");
	n = bv_render(&m, 80, out, sizeof(out));
	cr_assert(strstr(out, "issued") != NULL, "%s", out);
	cr_assert(strstr(out, "take the card out") != NULL, "%s", out);
	expect_width(out, 80);
}

Test(batch_view, hostile_names_and_narrow_terminals)
{
	static struct bv_model m;
	char out[4096];
	unsigned w;

	memset(&prog, 0, sizeof(prog));
	prog.rows = 1;
	prog.eta_s = -1;
	feed(&m, BATCH_EV_ROW, "Evil\x1b[2J reader \xe2\x80\xae", 1,
	    "\xc3\x89mile, Z\xc3\xbc\x1b]0;x\x07", NULL, BATCH_RD_WORKING,
	    STORE_BROW_RUNNING, "started");
	for (w = 10; w <= 200; w += 7) {
		bv_render(&m, w, out, sizeof(out));
		cr_assert_null(strchr(out, '\x1b'), "an escape reached the "
		    "terminal at width %u", w);
		cr_assert_null(strchr(out, '\x07'));
		cr_assert_null(strstr(out, "\xe2\x80\xae"));
		expect_width(out, w < 40 ? 40 : w);
	}
	bv_render(&m, 120, out, sizeof(out));
	cr_assert(strstr(out, "Evil\\x1b[2J") != NULL, "%s", out);
	cr_assert(strstr(out, "\xc3\x89mile") != NULL, "UTF-8 names stay");
	cr_assert(strstr(out, "ETA -") != NULL, "%s", out);
}

Test(batch_view, durations)
{
	char s[16];

	bv_duration(0, s, sizeof(s));
	cr_assert_str_eq(s, "0:00");
	bv_duration(61.4, s, sizeof(s));
	cr_assert_str_eq(s, "1:01");
	bv_duration(3725, s, sizeof(s));
	cr_assert_str_eq(s, "1:02:05");
	bv_duration(-1, s, sizeof(s));
	cr_assert_str_eq(s, "-");
}
