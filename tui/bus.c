/*
 * bus.c: messages to the UI thread (bus.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tui/bus.h"

#define TUI_BUS_MAX	256	/* messages waiting; events beyond are dropped */

struct tui_bus {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd[2];
	struct tui_msg q[TUI_BUS_MAX];
	size_t head, n;
	/* the one question */
	bool asking, answered, closed;
	enum pv_err ans_r;
	struct pkix_pass ans;
};

enum pv_err
tui_bus_new(struct tui_bus **out)
{
	struct tui_bus *b;
	int i;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return PV_E_NOMEM;
	if (pipe(b->fd) != 0) {
		free(b);
		return PV_E_IO;
	}
	for (i = 0; i < 2; i++) {
		(void)fcntl(b->fd[i], F_SETFL, fcntl(b->fd[i], F_GETFL) |
		    O_NONBLOCK);
		(void)fcntl(b->fd[i], F_SETFD, FD_CLOEXEC);
	}
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	*out = b;
	return PV_OK;
}

void
tui_bus_free(struct tui_bus *b)
{
	struct tui_msg m;

	if (b == NULL)
		return;
	while (tui_bus_take(b, &m))
		if (m.res != NULL) {
			diag_facts_free(&m.res->facts);
			free(m.res);
		}
	close(b->fd[0]);
	close(b->fd[1]);
	pkix_pass_clear(&b->ans);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	free(b);
}

int
tui_bus_fd(const struct tui_bus *b)
{
	return b->fd[0];
}

void
tui_bus_wake(struct tui_bus *b)
{
	char c = 'w';

	/* A full pipe is news enough. */
	(void)!write(b->fd[1], &c, 1);
}

void
tui_bus_post(struct tui_bus *b, const struct tui_msg *m)
{
	pthread_mutex_lock(&b->mu);
	if (b->n == TUI_BUS_MAX) {
		/* Only progress events can be lost this way: results and
		 * questions are rare and wait for the UI. */
		pthread_mutex_unlock(&b->mu);
		if (m->res != NULL) {
			diag_facts_free(&m->res->facts);
			free(m->res);
		}
		tui_bus_wake(b);
		return;
	}
	b->q[(b->head + b->n) % TUI_BUS_MAX] = *m;
	b->n++;
	pthread_mutex_unlock(&b->mu);
	tui_bus_wake(b);
}

bool
tui_bus_take(struct tui_bus *b, struct tui_msg *out)
{
	char buf[64];
	bool got = false;

	while (read(b->fd[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&b->mu);
	if (b->n > 0) {
		*out = b->q[b->head];
		memset(&b->q[b->head], 0, sizeof(b->q[0]));
		b->head = (b->head + 1) % TUI_BUS_MAX;
		b->n--;
		got = true;
	}
	pthread_mutex_unlock(&b->mu);
	return got;
}

enum pv_err
tui_bus_ask(struct tui_bus *b, const char *what, bool confirm,
    struct pkix_pass *out)
{
	struct tui_msg m;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	memset(&m, 0, sizeof(m));
	m.kind = TUI_MSG_ASK;
	m.confirm = confirm;
	(void)snprintf(m.text, sizeof(m.text), "%s", what);
	pthread_mutex_lock(&b->mu);
	if (b->closed) {
		pthread_mutex_unlock(&b->mu);
		return PV_E_CANCELLED;
	}
	b->asking = true;
	b->answered = false;
	pthread_mutex_unlock(&b->mu);
	tui_bus_post(b, &m);
	pthread_mutex_lock(&b->mu);
	while (!b->answered && !b->closed)
		pthread_cond_wait(&b->cv, &b->mu);
	if (b->answered) {
		r = b->ans_r;
		*out = b->ans;
	} else {
		r = PV_E_CANCELLED;
	}
	pkix_pass_clear(&b->ans);
	b->asking = b->answered = false;
	pthread_mutex_unlock(&b->mu);
	return r;
}

void
tui_bus_answer(struct tui_bus *b, enum pv_err r, const struct pkix_pass *ans)
{
	pthread_mutex_lock(&b->mu);
	if (b->asking && !b->answered) {
		b->ans_r = r;
		if (ans != NULL)
			b->ans = *ans;
		b->answered = true;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
}

void
tui_bus_close(struct tui_bus *b)
{
	pthread_mutex_lock(&b->mu);
	b->closed = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}
