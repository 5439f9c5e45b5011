/*
 * card_open.c: a card handle over a PC/SC session (card_open.h).
 */
#include <stdlib.h>
#include <string.h>

#include "issuance/card_open.h"
#include "pcsc/session.h"

struct card_conn {
	struct pcsc_session *s;
	struct card card;
};

enum pv_err
card_conn_open(const char *reader, const struct card_conn_opts *o,
    struct card_conn **out, struct pv_why *why)
{
	struct pcsc_session_opts so;
	struct card_conn *c;
	enum pv_err r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	memset(&so, 0, sizeof(so));
	so.reader = reader;
	so.share = PCSC_SHARE_SHARED;
	if (o != NULL) {
		so.trace_path = o->trace_path;
		so.trace_json = o->trace_json;
	}
	if ((r = pcsc_session_open(&so, &c->s, why)) != PV_OK) {
		free(c);
		return r;
	}
	card_from_session(&c->card, c->s);
	*out = c;
	return PV_OK;
}

struct card *
card_conn_card(struct card_conn *c)
{
	return &c->card;
}

unsigned long
card_conn_apdus(const struct card_conn *c)
{
	struct pcsc_session_stats st;

	pcsc_session_stats(c->s, &st);
	return (unsigned long)st.tr.n_apdus;
}

void
card_conn_close(struct card_conn *c)
{
	if (c == NULL)
		return;
	pcsc_session_close(c->s);
	free(c);
}
