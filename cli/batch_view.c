/*
 * batch_view.c: the live view of `pivstation batch` (batch_view.h).
 */
#include <stdio.h>
#include <string.h>

#include "apdu/text.h"
#include "cli/batch_view.h"
#include "issuance/wf.h"

static struct bv_reader *
bv_reader(struct bv_model *m, const char *name)
{
	struct bv_reader *r;
	size_t i;

	if (name == NULL || name[0] == '\0')
		return NULL;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->rd[i].name, name) == 0)
			return &m->rd[i];
	if (m->n == BV_READERS_MAX)
		return NULL;
	r = &m->rd[m->n++];
	memset(r, 0, sizeof(*r));
	(void)snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

void
bv_update(struct bv_model *m, const struct batch_event *ev)
{
	struct bv_reader *r;

	if (ev->prog != NULL)
		m->prog = *ev->prog;
	if (ev->kind == BATCH_EV_END)
		m->ended = true;
	if ((r = bv_reader(m, ev->reader)) == NULL)
		return;
	switch (ev->kind) {
	case BATCH_EV_READER:
		r->state = ev->rd_state;
		if (ev->rd_state != BATCH_RD_TAKE_OUT)
			r->row = 0;
		(void)snprintf(r->text, sizeof(r->text), "%s", ev->text);
		break;
	case BATCH_EV_STEP:
		r->state = BATCH_RD_WORKING;
		r->row = ev->row;
		(void)snprintf(r->who, sizeof(r->who), "%s", ev->name);
		if (ev->step != NULL && ev->step->index > 0) {
			(void)snprintf(r->step, sizeof(r->step), "%s",
			    ev->step->step);
			r->index = ev->step->index;
			r->count = ev->step->count;
		}
		(void)snprintf(r->text, sizeof(r->text), "%s", ev->text);
		break;
	case BATCH_EV_ROW:
		r->row = ev->row;
		(void)snprintf(r->who, sizeof(r->who), "%s", ev->name);
		if (ev->row_state == STORE_BROW_DONE) {
			r->state = BATCH_RD_TAKE_OUT;
			(void)snprintf(r->step, sizeof(r->step), "issued");
			r->index = r->count;
		} else if (ev->row_state == STORE_BROW_FAILED) {
			(void)snprintf(r->step, sizeof(r->step), "failed");
		} else {
			if (ev->row_state == STORE_BROW_RUNNING)
				r->state = BATCH_RD_WORKING;
			r->step[0] = '\0';
			r->index = r->count = 0;
		}
		(void)snprintf(r->text, sizeof(r->text), "%s", ev->text);
		break;
	case BATCH_EV_CARD:
		(void)snprintf(r->text, sizeof(r->text), "%s", ev->text);
		break;
	default:
		break;
	}
}

void
bv_duration(double s, char *out, size_t cap)
{
	unsigned long t;

	if (s < 0) {
		(void)snprintf(out, cap, "-");
		return;
	}
	t = (unsigned long)(s + 0.5);
	if (t >= 3600)
		(void)snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600,
		    t / 60 % 60, t % 60);
	else
		(void)snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

/*
 * Appends |s| sanitised, padded or cut to |cols| characters (a UTF-8
 * character counts one), to |o|.
 */
static void
bv_put(char *o, size_t cap, size_t *len, const char *s, unsigned cols)
{
	char safe[512];
	size_t i = 0, n;
	unsigned c = 0;

	(void)text_sanitize(s, strlen(s), TEXT_SAN_TERMINAL, safe,
	    sizeof(safe));
	n = strlen(safe);
	while (i < n && c < cols) {
		size_t k = 1;

		if ((unsigned char)safe[i] >= 0xc0)
			while (i + k < n && ((unsigned char)safe[i + k] &
			    0xc0) == 0x80)
				k++;
		if (*len + k + 1 >= cap)
			return;
		memcpy(o + *len, safe + i, k);
		*len += k;
		i += k;
		c++;
	}
	for (; c < cols && *len + 2 < cap; c++)
		o[(*len)++] = ' ';
	o[*len] = '\0';
}

static void
bv_newline(char *o, size_t cap, size_t *len)
{
	/* Trailing spaces are dropped: a line never wraps on its own. */
	while (*len > 0 && o[*len - 1] == ' ')
		(*len)--;
	if (*len + 2 < cap)
		o[(*len)++] = '\n';
	o[*len] = '\0';
}

static const char *
bv_state_words(enum batch_rd_state s)
{
	switch (s) {
	case BATCH_RD_WAITING: return "insert a card";
	case BATCH_RD_WORKING: return "working";
	case BATCH_RD_TAKE_OUT: return "take the card out";
	case BATCH_RD_CLAIMED: return "in use by another program";
	case BATCH_RD_GONE: return "gone";
	}
	return "";
}

/* bv_put of at most what is left of the line (*left columns). */
static void
bv_seg(char *o, size_t cap, size_t *len, const char *s, unsigned cols,
    unsigned *left)
{
	if (cols > *left)
		cols = *left;
	bv_put(o, cap, len, s, cols);
	*left -= cols;
}

unsigned
bv_render(const struct bv_model *m, unsigned width, char *out, size_t cap)
{
	const struct batch_progress *p = &m->prog;
	char cell[160], eta[16], took[16];
	unsigned lines = 0, name_w, who_w, left, bar_w, fill, i, total, done;
	size_t len = 0, k;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (width < 40)
		width = 40;
	name_w = width >= 100 ? 24 : 18;
	who_w = width >= 120 ? 28 : width >= 100 ? 22 : 16;
	for (k = 0; k < m->n; k++) {
		const struct bv_reader *r = &m->rd[k];

		left = width;
		bv_seg(out, cap, &len, r->name, name_w, &left);
		bv_seg(out, cap, &len, " ", 1, &left);
		if (r->row != 0 && (r->state == BATCH_RD_WORKING ||
		    r->state == BATCH_RD_TAKE_OUT)) {
			(void)snprintf(cell, sizeof(cell), "row %-4u", r->row);
			bv_seg(out, cap, &len, cell, 9, &left);
			bv_seg(out, cap, &len, r->who, who_w, &left);
			bv_seg(out, cap, &len, " ", 1, &left);
			if (r->step[0] != '\0' && r->count > 0)
				(void)snprintf(cell, sizeof(cell), "%-10s %2u/%-2u ",
				    r->step, r->index, r->count);
			else
				(void)snprintf(cell, sizeof(cell), "%-17s",
				    r->step);
			bv_seg(out, cap, &len, cell, 17, &left);
			bv_seg(out, cap, &len, r->state == BATCH_RD_WORKING ?
			    r->text : bv_state_words(r->state), left, &left);
		} else {
			bv_seg(out, cap, &len, bv_state_words(r->state), left,
			    &left);
		}
		bv_newline(out, cap, &len);
		lines++;
	}
	/* The bar: issued (now and before) of all rows. */
	total = p->rows;
	done = p->done + p->done_before;
	bar_w = width >= 120 ? 30 : width >= 100 ? 20 : 10;
	fill = total > 0 ? (unsigned)((unsigned long)done * bar_w / total) : 0;
	cell[0] = '[';
	for (i = 0; i < bar_w; i++)
		cell[1 + i] = i < fill ? '#' : '.';
	cell[1 + bar_w] = ']';
	cell[2 + bar_w] = '\0';
	bv_put(out, cap, &len, cell, bar_w + 2);
	bv_duration(p->eta_s, eta, sizeof(eta));
	bv_duration(p->elapsed_s, took, sizeof(took));
	(void)snprintf(cell, sizeof(cell), " %u/%u issued, %u failed, %u "
	    "waiting, %u skipped | %.1f/min, ETA %s (%s so far)", done, total,
	    p->failed, p->running, p->cards_skipped, p->per_min,
	    m->ended ? "-" : eta, took);
	bv_put(out, cap, &len, cell, width - bar_w - 2);
	bv_newline(out, cap, &len);
	lines++;
	return lines;
}
