/*
 * fake_card.c: the scripted card of fake_card.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/fake_card.h"
#include "tests/support/hex.h"

enum fc_kind { FC_EXACT, FC_PREFIX, FC_FN };

struct fc_step {
	enum fc_kind kind;
	uint8_t *cmd;
	size_t cmd_len;
	uint8_t *rsp;
	size_t rsp_len;
	fake_card_fn *fn;
	void *arg;
};

struct fake_card {
	struct fc_step *steps;
	size_t n_steps;
	size_t cap_steps;
	size_t next;		/* next step to consume */
	size_t count;		/* exchanges seen */
	size_t fail_at;		/* 0: none */
	enum pv_err fail_err;
	char *error;		/* first mismatch, NULL while all is well */
};

static void
fc_set_error(struct fake_card *fc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fc->error != NULL)
		return;		/* keep the first */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (fc->error = malloc((size_t)n + 1)) == NULL) {
		fc->error = strdup("fake card: out of memory recording an error");
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(fc->error, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

struct fake_card *
fake_card_new(void)
{
	return calloc(1, sizeof(struct fake_card));
}

void
fake_card_free(struct fake_card *fc)
{
	size_t i;

	if (fc == NULL)
		return;
	for (i = 0; i < fc->n_steps; i++) {
		free(fc->steps[i].cmd);
		free(fc->steps[i].rsp);
	}
	free(fc->steps);
	free(fc->error);
	free(fc);
}

static struct fc_step *
fc_push(struct fake_card *fc)
{
	struct fc_step *s;

	if (fc->n_steps == fc->cap_steps) {
		size_t ncap = fc->cap_steps ? 2 * fc->cap_steps : 16;

		s = realloc(fc->steps, ncap * sizeof(*s));
		if (s == NULL) {
			fc_set_error(fc, "fake card: out of memory");
			return NULL;
		}
		fc->steps = s;
		fc->cap_steps = ncap;
	}
	s = &fc->steps[fc->n_steps++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void
fc_add(struct fake_card *fc, enum fc_kind kind, const char *cmd_hex,
    const char *rsp_hex)
{
	struct fc_step *s;

	if ((s = fc_push(fc)) == NULL)
		return;
	s->kind = kind;
	if (hex_decode(cmd_hex, &s->cmd, &s->cmd_len) != 0)
		fc_set_error(fc, "script step %zu: bad command hex \"%s\"",
		    fc->n_steps, cmd_hex);
	if (hex_decode(rsp_hex, &s->rsp, &s->rsp_len) != 0)
		fc_set_error(fc, "script step %zu: bad response hex \"%s\"",
		    fc->n_steps, rsp_hex);
	else if (s->rsp_len < 2)
		fc_set_error(fc, "script step %zu: response \"%s\" has no SW",
		    fc->n_steps, rsp_hex);
}

void
fake_card_expect(struct fake_card *fc, const char *cmd_hex, const char *rsp_hex)
{
	fc_add(fc, FC_EXACT, cmd_hex, rsp_hex);
}

void
fake_card_expect_prefix(struct fake_card *fc, const char *cmd_prefix_hex,
    const char *rsp_hex)
{
	fc_add(fc, FC_PREFIX, cmd_prefix_hex, rsp_hex);
}

void
fake_card_expect_fn(struct fake_card *fc, fake_card_fn *fn, void *arg)
{
	struct fc_step *s;

	if ((s = fc_push(fc)) == NULL)
		return;
	s->kind = FC_FN;
	s->fn = fn;
	s->arg = arg;
}

void
fake_card_fail_at(struct fake_card *fc, size_t k, enum pv_err e)
{
	fc->fail_at = k;
	fc->fail_err = e;
}

static void
fc_mismatch(struct fake_card *fc, const struct fc_step *s, const uint8_t *cmd,
    size_t cmd_len)
{
	char *want = hex_encode(s->cmd, s->cmd_len);
	char *got = hex_encode(cmd, cmd_len);

	fc_set_error(fc, "exchange %zu: expected %s%s, got %s", fc->count,
	    want ? want : "?", s->kind == FC_PREFIX ? "..." : "",
	    got ? got : "?");
	free(want);
	free(got);
}

static enum pv_err
fc_xfer(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
    size_t rsp_cap, size_t *rsp_len)
{
	struct fake_card *fc = ctx;
	struct fc_step *s;
	enum pv_err r;
	bool match;

	*rsp_len = 0;
	fc->count++;
	if (fc->error != NULL)
		return PV_E_TRANSPORT;	/* sticky after a mismatch */
	if (fc->next >= fc->n_steps) {
		char *got = hex_encode(cmd, cmd_len);

		fc_set_error(fc, "exchange %zu: unexpected command %s "
		    "(script has %zu exchanges)", fc->count, got ? got : "?",
		    fc->n_steps);
		free(got);
		return PV_E_TRANSPORT;
	}
	s = &fc->steps[fc->next++];
	switch (s->kind) {
	case FC_EXACT:
		match = cmd_len == s->cmd_len &&
		    (cmd_len == 0 || memcmp(cmd, s->cmd, cmd_len) == 0);
		break;
	case FC_PREFIX:
		match = cmd_len >= s->cmd_len &&
		    (s->cmd_len == 0 || memcmp(cmd, s->cmd, s->cmd_len) == 0);
		break;
	default:
		match = true;	/* the callback checks for itself */
		break;
	}
	if (!match) {
		fc_mismatch(fc, s, cmd, cmd_len);
		return PV_E_TRANSPORT;
	}
	if (fc->fail_at != 0 && fc->count == fc->fail_at)
		return fc->fail_err;
	if (s->kind == FC_FN) {
		r = s->fn(s->arg, cmd, cmd_len, rsp, rsp_cap, rsp_len);
		if (r != PV_OK) {
			char *got = hex_encode(cmd, cmd_len);

			fc_set_error(fc, "exchange %zu: callback failed (%s) "
			    "on %s", fc->count, pv_errname(r), got ? got : "?");
			free(got);
			*rsp_len = 0;
		} else if (*rsp_len > rsp_cap || *rsp_len < 2) {
			fc_set_error(fc, "exchange %zu: callback answered %zu "
			    "bytes (cap %zu)", fc->count, *rsp_len, rsp_cap);
			*rsp_len = 0;
			r = PV_E_TRANSPORT;
		}
		return r;
	}
	if (s->rsp_len > rsp_cap) {
		fc_set_error(fc, "exchange %zu: response of %zu bytes does not "
		    "fit the caller's %zu", fc->count, s->rsp_len, rsp_cap);
		return PV_E_TRANSPORT;
	}
	memcpy(rsp, s->rsp, s->rsp_len);
	*rsp_len = s->rsp_len;
	return PV_OK;
}

struct apdu_transport
fake_card_transport(struct fake_card *fc)
{
	struct apdu_transport t = { fc_xfer, fc };

	return t;
}

bool
fake_card_done(const struct fake_card *fc)
{
	return fc->error == NULL && fc->next == fc->n_steps;
}

size_t
fake_card_count(const struct fake_card *fc)
{
	return fc->count;
}

const char *
fake_card_error(const struct fake_card *fc)
{
	return fc->error;
}
