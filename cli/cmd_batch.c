/*
 * cmd_batch.c: `pivstation batch FILE`: issue the people of a CSV or JSON
 * Lines file onto the cards fed into several readers at once
 * (issuance/batch.h does the work).  This file parses the command line,
 * reads the PIN when one is given, and renders: a live view on a
 * terminal (cli/batch_view.h), plain lines otherwise, JSON Lines events
 * with --json; then the summary and the results file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "cli/batch_view.h"
#include "cli/cli.h"
#include "issuance/batch.h"
#include "issuance/config.h"
#include "issuance/operator.h"
#include "issuance/pkix_util.h"
#include "issuance/secret.h"
#include "issuance/station.h"
#include "issuance/wf.h"
#include "pcsc/pcsc.h"

enum {
	BAT_OPT_FORMAT = CLI_OPT__NEXT,
	BAT_OPT_READERS,
	BAT_OPT_REISSUE,
	BAT_OPT_UPDATE_PEOPLE,
	BAT_OPT_PIN,
	BAT_OPT_PIN_STDIN,
	BAT_OPT_PIN_MAILER,
	BAT_OPT_RESULTS,
	BAT_OPT_MAX_FAILURES,
	BAT_OPT_CHECK,
	BAT_OPT_PLAIN,
	BAT_OPT_KEYPOOL,
	BAT_OPT_PASS_FILE,
	BAT_OPT_PASS_FD
};

static void
bat_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation batch FILE [--format csv|jsonl] [--check]\n"
	    "                        [--readers all|LIST] [--reissue]\n"
	    "                        [--update-people]\n"
	    "                        [--pin random | --pin-stdin]\n"
	    "                        [--pin-mailer FILE] [--results FILE]\n"
	    "                        [--max-failures N] [--plain] [--json]\n"
	    "                        [--passphrase-file FILE | --passphrase-fd N]\n"
	    "                        [--home DIR]\n"
	    "\n"
	    "Issue a primary PIV credential to every person of FILE, on the\n"
	    "cards or USB keys fed into several readers at once.  FILE is CSV\n"
	    "(RFC 4180) whose header row names the identity fields\n"
	    "(given_name, middle_name, family_name, person_id, affiliation,\n"
	    "email, upn, organization, org_affiliation_1, org_affiliation_2,\n"
	    "agency_card_serial), or JSON Lines with one identity object per\n"
	    "line (examples/identity.json).  Every row is checked before any\n"
	    "card is touched: a problem is named by file, row and field, as\n"
	    "for an identity file, and nothing starts.\n"
	    "\n"
	    "Each reader works on its own: a card inserted takes the next\n"
	    "person; a card whose issuance was interrupted (pulled, process\n"
	    "killed, pcscd restarted) resumes it in whatever reader it comes\n"
	    "back; a card already issued is skipped and reported.  Readers\n"
	    "added during the batch are taken in, removed ones dropped; a\n"
	    "reader another program has claimed is left alone.  Run the same\n"
	    "command again to continue a batch that stopped: every person is\n"
	    "issued exactly once.\n"
	    "\n"
	    "  --format csv|jsonl     the file's format (else from its name:\n"
	    "                         .csv, .jsonl, .ndjson)\n"
	    "  --check                check the file (and the store) only\n"
	    "  --readers all|LIST     the readers to use: all (default), or\n"
	    "                         indexes and name parts, comma-separated\n"
	    "                         (a name part also takes readers added\n"
	    "                         later)\n"
	    "  --reissue              issue again a card that is not blank\n"
	    "                         (revoking what the store has for it)\n"
	    "  --update-people        a person the store has with other\n"
	    "                         details takes the row's (audited); else\n"
	    "                         the row is refused, naming the fields\n"
	    "  --pin random           a random PIN per card under [pin], written\n"
	    "                         to the PIN mailer, never stored (default)\n"
	    "  --pin-stdin            one PIN for every card, from standard\n"
	    "                         input: tests and labs only\n"
	    "  --pin-mailer FILE      where random PINs go (0600; default\n"
	    "                         FILE's name with .pins.csv): row,\n"
	    "                         person_id, name, serial, card_uuid,\n"
	    "                         status, pin, for sealed PIN mailers\n"
	    "  --results FILE         the results (default FILE's name with\n"
	    "                         .results.csv): row, person_id, name,\n"
	    "                         status, serial, card_uuid, fascn, the\n"
	    "                         four certificate serials, job, error\n"
	    "  --max-failures N       stop taking cards after N failed rows or\n"
	    "                         cards (default: no limit)\n"
	    "  --plain                plain lines even on a terminal\n"
	    "  --json                 JSON Lines events on stdout, the summary\n"
	    "                         last\n"
	    "  --passphrase-file FILE / --passphrase-fd N\n"
	    "                         the CA passphrase (else\n"
	    "                         $PIVSTATION_CA_PASSPHRASE, [ca] passphrase,\n"
	    "                         a prompt)\n"
	    "\n"
	    "Ctrl-C (or SIGTERM) stops the cards in progress after their\n"
	    "current step; run the same command again to finish.  Exit 0 when\n"
	    "every row is issued, 6 for a file with problems, 130 when\n"
	    "interrupted, else the exit code of the first failure's class.\n");
}

/* ---- signals --------------------------------------------------------------------- */

static atomic_bool bat_cancel;

static void
bat_on_signal(int sig)
{
	(void)sig;
	atomic_store(&bat_cancel, true);	/* lock-free: signal-safe */
}

static void
bat_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bat_on_signal;
	/* A second signal ends the process (the jobs resume all the
	 * same). */
	sa.sa_flags = (int)SA_RESETHAND;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

/* ---- output -------------------------------------------------------------------------- */

struct bat_ctx {
	bool json;
	bool live;
	unsigned width;
	struct bv_model model;
	unsigned drawn;			/* lines of the view on screen */
	uint64_t last_draw_ns;
	char log[8][600];		/* lines to print above the view */
	unsigned n_log;
};

static void
bat_json_progress(json_object *o, const struct batch_progress *p)
{
	json_object *x = json_object_new_object();

	json_object_object_add(x, "rows", json_object_new_int((int)p->rows));
	json_object_object_add(x, "issued", json_object_new_int(
	    (int)(p->done + p->done_before)));
	json_object_object_add(x, "issued_now",
	    json_object_new_int((int)p->done));
	json_object_object_add(x, "failed", json_object_new_int((int)p->failed));
	json_object_object_add(x, "waiting",
	    json_object_new_int((int)p->running));
	json_object_object_add(x, "pending",
	    json_object_new_int((int)p->pending));
	json_object_object_add(x, "cards_skipped",
	    json_object_new_int((int)p->cards_skipped));
	json_object_object_add(x, "readers",
	    json_object_new_int((int)p->readers));
	json_object_object_add(x, "elapsed_s",
	    json_object_new_double(p->elapsed_s));
	json_object_object_add(x, "per_min", json_object_new_double(p->per_min));
	json_object_object_add(o, "progress", x);
}

static void
bat_json_event(const struct batch_event *ev)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event",
	    json_object_new_string(batch_ev_name(ev->kind)));
	if (ev->reader[0] != '\0')
		json_object_object_add(o, "reader", cli_json_str(ev->reader));
	if (ev->kind == BATCH_EV_READER)
		json_object_object_add(o, "state", json_object_new_string(
		    batch_rd_state_name(ev->rd_state)));
	if (ev->row != 0) {
		json_object_object_add(o, "row",
		    json_object_new_int((int)ev->row));
		json_object_object_add(o, "person_id",
		    cli_json_str(ev->person_id));
		json_object_object_add(o, "name", cli_json_str(ev->name));
		if (ev->kind == BATCH_EV_ROW)
			json_object_object_add(o, "state",
			    json_object_new_string(store_brow_state_name(
			    ev->row_state)));
	}
	if (ev->serial[0] != '\0')
		json_object_object_add(o, "serial", cli_json_str(ev->serial));
	if (ev->job_id != 0)
		json_object_object_add(o, "job",
		    json_object_new_int64(ev->job_id));
	if (ev->step != NULL) {
		json_object_object_add(o, "step",
		    json_object_new_string(ev->step->step));
		json_object_object_add(o, "index",
		    json_object_new_int((int)ev->step->index));
		json_object_object_add(o, "count",
		    json_object_new_int((int)ev->step->count));
		json_object_object_add(o, "state", json_object_new_string(
		    wf_step_state_name(ev->step->state)));
	}
	if (ev->kind == BATCH_EV_ROW && ev->row_state == STORE_BROW_DONE)
		json_object_object_add(o, "apdus",
		    json_object_new_int64((int64_t)ev->apdus));
	if (ev->err != PV_OK) {
		json_object_object_add(o, "error",
		    json_object_new_string(pv_errname(ev->err)));
		json_object_object_add(o, "class", json_object_new_string(
		    pv_class_name(pv_err_class(ev->err))));
	}
	json_object_object_add(o, "text", cli_json_str(ev->text));
	bat_json_progress(o, ev->prog);
	cli_json_line(o);
}

/* The one-line form of an event worth a line; false for the others. */
static bool
bat_plain(const struct batch_event *ev, char *out, size_t cap)
{
	char who[300] = "";

	if (ev->row != 0)
		(void)snprintf(who, sizeof(who), "row %u (%s, %s)", ev->row,
		    ev->person_id, ev->name);
	switch (ev->kind) {
	case BATCH_EV_START:
		(void)snprintf(out, cap, "batch %lld (%s): %u rows, %u issued "
		    "before", (long long)ev->job_id, ev->text, ev->prog->rows,
		    ev->prog->done_before);
		return true;
	case BATCH_EV_READER:
		if (ev->rd_state != BATCH_RD_GONE &&
		    ev->rd_state != BATCH_RD_CLAIMED &&
		    strcmp(ev->text, "taken into the batch") != 0 &&
		    strcmp(ev->text, "back") != 0)
			return false;
		(void)snprintf(out, cap, "%s: %s", ev->reader, ev->text);
		return true;
	case BATCH_EV_CARD:
		(void)snprintf(out, cap, "%s: card%s%s: %s", ev->reader,
		    ev->serial[0] ? " " : "", ev->serial, ev->text);
		return true;
	case BATCH_EV_ROW:
		(void)snprintf(out, cap, "%s: %s%s%s: %s", ev->reader, who,
		    ev->serial[0] ? ", card " : "", ev->serial, ev->text);
		return true;
	case BATCH_EV_NOTICE:
		(void)snprintf(out, cap, "%s", ev->text);
		return true;
	case BATCH_EV_END:
		(void)snprintf(out, cap, "the batch ends: %s", ev->text);
		return true;
	default:
		return false;
	}
}

static void
bat_draw(struct bat_ctx *c, bool force)
{
	char view[BV_READERS_MAX * 512 + 1024];
	uint64_t now = pcsc_now_ns();
	unsigned n, i;

	if (!force && c->n_log == 0 && now - c->last_draw_ns < 100000000u)
		return;
	c->last_draw_ns = now;
	n = bv_render(&c->model, c->width, view, sizeof(view));
	/* Back to the top of the view, clear it, the log lines, the view. */
	if (c->drawn > 0)
		fprintf(stderr, "\033[%uF\033[J", c->drawn);
	for (i = 0; i < c->n_log; i++) {
		cli_print_safe(stderr, c->log[i], 0);
		fputc('\n', stderr);
	}
	c->n_log = 0;
	fputs(view, stderr);
	fflush(stderr);
	c->drawn = n;
}

static void
bat_event(void *ctx, const struct batch_event *ev)
{
	struct bat_ctx *c = ctx;
	char line[600];

	if (c->json) {
		if (ev->kind != BATCH_EV_TICK)
			bat_json_event(ev);
		return;
	}
	if (!c->live) {
		if (bat_plain(ev, line, sizeof(line))) {
			fputs("batch: ", stderr);
			cli_print_safe(stderr, line, 0);
			fputc('\n', stderr);
		}
		return;
	}
	bv_update(&c->model, ev);
	if (ev->kind != BATCH_EV_START && ev->kind != BATCH_EV_READER &&
	    bat_plain(ev, line, sizeof(line))) {
		if (c->n_log == sizeof(c->log) / sizeof(c->log[0]))
			bat_draw(c, true);
		(void)snprintf(c->log[c->n_log++], sizeof(c->log[0]), "%s",
		    line);
	}
	bat_draw(c, ev->kind == BATCH_EV_END || ev->kind == BATCH_EV_START);
}

static unsigned
bat_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col > 200 ? 200 : ws.ws_col;
	return 80;
}

/* ---- check ----------------------------------------------------------------------------- */

static int
bat_print_check(const struct cli_global *g, const struct batch_check *c,
    const char *input, enum pv_err r, const struct pv_why *why)
{
	json_object *o, *a, *x;
	size_t i;

	if (g->json) {
		o = json_object_new_object();
		json_object_object_add(o, "event",
		    json_object_new_string("check"));
		json_object_object_add(o, "file", cli_json_str(input));
		json_object_object_add(o, "ok", json_object_new_boolean(
		    r == PV_OK));
		json_object_object_add(o, "rows",
		    json_object_new_int((int)c->rows.n));
		if (c->known) {
			json_object_object_add(o, "batch",
			    json_object_new_int64(c->batch.id));
			json_object_object_add(o, "issued",
			    json_object_new_int((int)c->n_done));
			json_object_object_add(o, "in_progress",
			    json_object_new_int((int)c->n_running));
			json_object_object_add(o, "failed",
			    json_object_new_int((int)c->n_failed));
		}
		a = json_object_new_array();
		for (i = 0; i < c->n_errs; i++) {
			x = json_object_new_object();
			json_object_object_add(x, "row",
			    json_object_new_int((int)c->errs[i].row));
			json_object_object_add(x, "message",
			    cli_json_str(c->errs[i].msg));
			json_object_array_add(a, x);
		}
		if (c->n_errs == 0 && r != PV_OK) {
			x = json_object_new_object();
			json_object_object_add(x, "row", json_object_new_int(0));
			json_object_object_add(x, "message", cli_json_str(
			    why->msg[0] ? why->msg : pv_strerror(r)));
			json_object_array_add(a, x);
		}
		json_object_object_add(o, "problems", a);
		json_object_object_add(o, "more", json_object_new_int(
		    (int)(c->n_errs_total - c->n_errs)));
		cli_json_line(o);
	}
	if (r != PV_OK) {
		if (c->n_errs == 0)
			cli_error("batch: %s", why->msg[0] ? why->msg :
			    pv_strerror(r));
		for (i = 0; i < c->n_errs; i++)
			cli_error("batch: %s", c->errs[i].msg);
		if (c->n_errs_total > c->n_errs)
			cli_error("batch: ... and %zu more problems",
			    c->n_errs_total - c->n_errs);
		if (c->n_errs_total > 0)
			cli_error("batch: %zu problem%s in %s: nothing was "
			    "started", c->n_errs_total, c->n_errs_total == 1 ?
			    "" : "s", input);
		return cli_exit_for(r);
	}
	if (!g->json) {
		printf("%s: %zu rows, every one good", input, c->rows.n);
		if (c->known)
			printf("; batch %lld: %u issued, %u in progress, %u "
			    "failed, %u pending", (long long)c->batch.id,
			    c->n_done, c->n_running, c->n_failed, c->n_pending);
		printf("\n");
	}
	return CLI_EXIT_OK;
}

/* ---- summary ---------------------------------------------------------------------------- */

static void
bat_summary(const struct cli_global *g, const char *input,
    const struct batch_summary *s, const char *results, enum pv_err r,
    const struct pv_why *why, int rc)
{
	const struct batch_progress *p = &s->prog;
	unsigned issued = p->done + p->done_before;
	char took[16];
	json_object *o;

	bv_duration(p->elapsed_s, took, sizeof(took));
	if (g->json) {
		o = json_object_new_object();
		json_object_object_add(o, "event",
		    json_object_new_string("summary"));
		json_object_object_add(o, "ok", json_object_new_boolean(
		    r == PV_OK && s->complete));
		json_object_object_add(o, "exit", json_object_new_int(rc));
		if (s->batch_id != 0)
			json_object_object_add(o, "batch",
			    json_object_new_int64(s->batch_id));
		json_object_object_add(o, "file", cli_json_str(input));
		json_object_object_add(o, "complete",
		    json_object_new_boolean(s->complete));
		json_object_object_add(o, "cancelled",
		    json_object_new_boolean(s->cancelled));
		json_object_object_add(o, "too_many_failures",
		    json_object_new_boolean(s->too_many_failures));
		bat_json_progress(o, p);
		json_object_object_add(o, "cpu_s", json_object_new_double(
		    s->cpu_s));
		if (p->done > 0)
			json_object_object_add(o, "cpu_s_per_card",
			    json_object_new_double(s->cpu_s / p->done));
		json_object_object_add(o, "keys_9d_ahead",
		    json_object_new_int64(s->keys_ahead));
		json_object_object_add(o, "keys_9d_inline",
		    json_object_new_int64(s->keys_inline));
		if (results != NULL)
			json_object_object_add(o, "results",
			    cli_json_str(results));
		if (s->pin_mailer[0] != '\0')
			json_object_object_add(o, "pin_mailer",
			    cli_json_str(s->pin_mailer));
		if (r != PV_OK) {
			json_object_object_add(o, "error",
			    json_object_new_string(pv_errname(r)));
			json_object_object_add(o, "message", cli_json_str(
			    why->msg[0] ? why->msg : pv_strerror(r)));
		}
		cli_json_line(o);
		return;
	}
	printf("batch %lld (", (long long)s->batch_id);
	cli_print_safe(stdout, input, 0);
	printf("): %u rows: %u issued (%u now, %u before), %u failed, %u "
	    "waiting for their card, %u pending; %u card%s skipped\n", p->rows,
	    issued, p->done, p->done_before, p->failed, p->running, p->pending,
	    p->cards_skipped, p->cards_skipped == 1 ? "" : "s");
	printf("  %.1f cards/min over %s", p->per_min, took);
	if (p->done > 0)
		printf("; host CPU %.2f s per card", s->cpu_s / p->done);
	printf("\n");
	if (results != NULL) {
		printf("  results: ");
		cli_print_safe(stdout, results, 0);
		printf("\n");
	}
	if (s->pin_mailer[0] != '\0') {
		printf("  PIN mailer: ");
		cli_print_safe(stdout, s->pin_mailer, 0);
		printf(" (0600): print the sealed mailers, then destroy it\n");
	}
	if (s->cancelled)
		printf("  interrupted: run the same command again to continue\n");
	else if (s->too_many_failures)
		printf("  stopped: too many failures (--max-failures)\n");
	else if (!s->complete && p->failed > 0)
		printf("  %u row%s failed (see the results); run the same "
		    "command again to retry them\n", p->failed,
		    p->failed == 1 ? "" : "s");
}

/* ---- the command -------------------------------------------------------------------- */

int
cli_cmd_batch(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "format", required_argument, NULL, BAT_OPT_FORMAT },
		{ "readers", required_argument, NULL, BAT_OPT_READERS },
		{ "reissue", no_argument, NULL, BAT_OPT_REISSUE },
		{ "update-people", no_argument, NULL, BAT_OPT_UPDATE_PEOPLE },
		{ "pin", required_argument, NULL, BAT_OPT_PIN },
		{ "pin-stdin", no_argument, NULL, BAT_OPT_PIN_STDIN },
		{ "pin-mailer", required_argument, NULL, BAT_OPT_PIN_MAILER },
		{ "results", required_argument, NULL, BAT_OPT_RESULTS },
		{ "max-failures", required_argument, NULL,
		    BAT_OPT_MAX_FAILURES },
		{ "check", no_argument, NULL, BAT_OPT_CHECK },
		{ "plain", no_argument, NULL, BAT_OPT_PLAIN },
		{ "keypool", required_argument, NULL, BAT_OPT_KEYPOOL },
		{ "passphrase-file", required_argument, NULL, BAT_OPT_PASS_FILE },
		{ "passphrase-fd", required_argument, NULL, BAT_OPT_PASS_FD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct batch_opts o;
	struct batch_check chk;
	struct batch_summary sum;
	struct batch_hooks hooks;
	struct bat_ctx *ctx = NULL;
	struct pass_chain pc;
	struct pkix_pass pin;
	struct station *stn = NULL;
	char results[STORE_BATCH_PATH_MAX];
	const char *results_path = NULL;
	bool check = false, plain = false, fmt_given = false;
	bool pin_stdin = false, pin_random = false;
	unsigned long v;
	char *end;
	int c, rc = CLI_EXIT_FAIL;
	enum pv_err r;

	memset(&o, 0, sizeof(o));
	memset(&chk, 0, sizeof(chk));
	memset(&sum, 0, sizeof(sum));
	memset(&pin, 0, sizeof(pin));
	o.who = "pivstation batch";
	cli_pass_chain(&pc);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case BAT_OPT_FORMAT:
			if (batch_format_parse(optarg, &o.fmt, &why) != PV_OK)
				return cli_usage_error("batch", "%s", why.msg);
			fmt_given = true;
			break;
		case BAT_OPT_READERS: o.readers = optarg; break;
		case BAT_OPT_REISSUE: o.reissue = true; break;
		case BAT_OPT_UPDATE_PEOPLE: o.update_people = true; break;
		case BAT_OPT_PIN:
			if (strcmp(optarg, "random") != 0)
				return cli_usage_error("batch", "--pin takes "
				    "'random' (or give --pin-stdin)");
			pin_random = true;
			break;
		case BAT_OPT_PIN_STDIN: pin_stdin = true; break;
		case BAT_OPT_PIN_MAILER: o.pin_mailer = optarg; break;
		case BAT_OPT_RESULTS: results_path = optarg; break;
		case BAT_OPT_MAX_FAILURES:
		case BAT_OPT_KEYPOOL:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v > 100000 || optarg[0] == '-')
				return cli_usage_error("batch", "%s: a number is "
				    "expected", c == BAT_OPT_KEYPOOL ?
				    "--keypool" : "--max-failures");
			if (c == BAT_OPT_KEYPOOL)
				o.keypool = (unsigned)v;
			else
				o.max_failures = (unsigned)v;
			break;
		case BAT_OPT_CHECK: check = true; break;
		case BAT_OPT_PLAIN: plain = true; break;
		case BAT_OPT_PASS_FILE: pc.src[PASS_CA].file = optarg; break;
		case BAT_OPT_PASS_FD:
			if ((rc = cli_fd_arg("batch", "--passphrase-fd", optarg,
			    &pc.src[PASS_CA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case 'h':
			bat_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("batch", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("batch", "the file of people is required");
	if (optind + 1 < argc)
		return cli_usage_error("batch", "unexpected argument '%s'",
		    argv[optind + 1]);
	o.input = argv[optind];
	if (pin_stdin && pin_random)
		return cli_usage_error("batch", "--pin random and --pin-stdin "
		    "exclude each other");
	if (pin_stdin && o.pin_mailer != NULL)
		return cli_usage_error("batch", "--pin-mailer goes with random "
		    "PINs, not --pin-stdin");
	if (g->reader != NULL)
		return cli_usage_error("batch", "give the readers with "
		    "--readers, not -r");
	if (!fmt_given && !batch_format_guess(o.input, &o.fmt))
		return cli_usage_error("batch", "%s: give --format csv or jsonl "
		    "(the name ends neither in .csv nor in .jsonl)", o.input);
	o.pin_mode = pin_stdin ? BATCH_PIN_GIVEN : BATCH_PIN_RANDOM;
	(void)secret_harden_process();

	/* Everything that needs no card and no CA key is checked first. */
	if ((rc = cli_station(g, STATION_NEED_CONFIG | STATION_NEED_STORE, &pc,
	    &stn)) != CLI_EXIT_OK)
		goto out;
	if ((rc = cli_permit(stn, OP_ISSUE)) != CLI_EXIT_OK)
		goto out;
	r = batch_check(stn, &o, &chk, &why);
	if (check || r != PV_OK) {
		rc = bat_print_check(g, &chk, o.input, r, &why);
		goto out;
	}
	if (results_path == NULL) {
		if (batch_default_path(o.input, ".results.csv", results,
		    sizeof(results)) != PV_OK) {
			rc = cli_usage_error("batch", "%s: path too long",
			    o.input);
			goto out;
		}
		results_path = results;
	}
	if (pin_stdin) {
		if ((r = pkix_pass_from_fd(STDIN_FILENO, &pin, &why)) != PV_OK) {
			cli_error("batch: --pin-stdin: %s", r == PV_E_INPUT ?
			    "no PIN on standard input" : why.msg[0] ? why.msg :
			    pv_strerror(r));
			rc = CLI_EXIT_INPUT;
			goto out;
		}
		if ((r = config_check_pin(station_config(stn),
		    (const uint8_t *)pin.v, pin.len, &why)) != PV_OK) {
			rc = cli_fail("batch", r, &why);
			goto out;
		}
		o.pin = (const uint8_t *)pin.v;
		o.pin_len = pin.len;
		cli_error("batch: warning: --pin-stdin gives every card the same "
		    "PIN: for tests and labs only; each cardholder must change "
		    "it");
	}
	/* The CA keys once the inputs are good: the passphrase is asked
	 * only now. */
	if ((r = station_require(stn, STATION_NEED_MASTER |
	    STATION_NEED_CA_ISSUING | STATION_NEED_CA_SIGNER, &why)) != PV_OK) {
		rc = cli_fail("batch", r, &why);
		goto out;
	}
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		rc = cli_fail("batch", PV_E_NOMEM, &why);
		goto out;
	}
	ctx->json = g->json;
	ctx->live = !g->json && !plain && isatty(STDERR_FILENO);
	ctx->width = bat_width();
	atomic_store(&bat_cancel, false);
	bat_signals();
	memset(&hooks, 0, sizeof(hooks));
	hooks.event = bat_event;
	hooks.ctx = ctx;
	hooks.cancel = &bat_cancel;
	r = batch_run(stn, &chk, &o, &hooks, &sum, &why);
	if (r != PV_OK)
		cli_error("batch: %s", why.msg[0] ? why.msg : pv_strerror(r));
	if (sum.batch_id != 0) {
		struct pv_why w2 = { "" };
		enum pv_err e;

		e = batch_results_write(stn, sum.batch_id, &chk.rows,
		    results_path, &w2);
		if (e != PV_OK) {
			cli_error("batch: %s", w2.msg);
			results_path = NULL;
			if (r == PV_OK) {
				r = e;
				why = w2;
			}
		}
	} else {
		results_path = NULL;
	}
	if (r != PV_OK)
		rc = cli_exit_for(r);
	else if (sum.complete)
		rc = CLI_EXIT_OK;
	else if (sum.cancelled)
		rc = CLI_EXIT_INTERRUPTED;
	else
		rc = sum.first_err != PV_OK ? cli_exit_for(sum.first_err) :
		    CLI_EXIT_FAIL;
	bat_summary(g, o.input, &sum, results_path, r, &why, rc);
out:
	pkix_pass_clear(&pin);
	free(ctx);
	batch_check_cleanup(&chk);
	return cli_station_done(stn, rc);
}
