/*
 * cmd_readers.c: `pivstation readers [--watch] [--json]`: readers, whether
 * a card is in each, its ATR and what card that is; with --watch, one line
 * (or JSON object) per reader/card event until interrupted.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/cmd_atr.h"
#include "pcsc/pcsc.h"
#include "pcsc/rc.h"
#include "pcsc/trace.h"

static void
readers_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation readers [--watch] [--json] [-v]\n"
	    "\n"
	    "List the PC/SC readers: index, name, card present, ATR and card\n"
	    "type (from smartcard_list.txt).  The index and any part of the name\n"
	    "select a reader with -r in other commands.\n"
	    "\n"
	    "  --watch   after the list, print one line per event (reader added or\n"
	    "            removed, card inserted or removed, pcscd lost or back),\n"
	    "            each with a UTC timestamp, until interrupted (exit 130).\n"
	    "            Survives pcscd restarts.\n"
	    "  --json    one JSON document; with --watch one JSON object per line\n");
}

static void
cli_log_stderr(void *arg, const char *fmt, ...)
{
	va_list ap;

	(void)arg;
	fputs("pivstation: debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static json_object *
reader_json(const struct pcsc_reader *r, long index)
{
	json_object *o = json_object_new_object();
	char hex[ATR_HEX_MAX], type[256];

	if (index >= 0)
		json_object_object_add(o, "index", json_object_new_int64(index));
	json_object_object_add(o, "name", cli_json_str(r->name));
	json_object_object_add(o, "card", json_object_new_boolean(r->present));
	if (r->present) {
		atr_to_hex(r->atr, r->atr_len, hex);
		json_object_object_add(o, "atr", json_object_new_string(hex));
		cli_atr_identify_first(r->atr, r->atr_len, type, sizeof(type));
		json_object_object_add(o, "card_type", type[0] ?
		    cli_json_str(type) : NULL);
	}
	json_object_object_add(o, "in_use", json_object_new_boolean(r->inuse));
	json_object_object_add(o, "exclusive",
	    json_object_new_boolean(r->exclusive));
	json_object_object_add(o, "mute", json_object_new_boolean(r->mute));
	return o;
}

static void
reader_text(FILE *f, const struct pcsc_reader *r)
{
	char hex[ATR_HEX_MAX], type[256];

	if (!r->present) {
		fprintf(f, "no card%s\n", r->unavailable ? " (unavailable)" : "");
		return;
	}
	atr_to_hex(r->atr, r->atr_len, hex);
	cli_atr_identify_first(r->atr, r->atr_len, type, sizeof(type));
	fprintf(f, "card%s%s%s ATR %s%s%s%s\n", r->inuse ? ", in use" : "",
	    r->exclusive ? ", exclusive" : "", r->mute ? ", mute" : "", hex,
	    type[0] ? " (" : "", type, type[0] ? ")" : "");
}

static int
readers_list(struct cli_global *g, struct pcsc_ctx *ctx)
{
	struct pcsc_reader *rd = NULL;
	size_t n = 0, i;
	json_object *doc, *arr;
	enum pv_err r;

	r = pcsc_readers_list(ctx, &rd, &n);
	if (r != PV_OK) {
		cli_error("readers: %s (%s: %s)", pv_strerror(r),
		    pcsc_ctx_last_call(ctx),
		    pcsc_rc_text(pcsc_ctx_last_rc(ctx)));
		return cli_exit_for(r);
	}
	if (g->json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(arr, reader_json(&rd[i], (long)i));
		json_object_object_add(doc, "readers", arr);
		cli_json_doc(doc);
	} else if (n == 0) {
		printf("no reader connected\n");
	} else {
		for (i = 0; i < n; i++) {
			printf("%zu: ", i);
			cli_print_safe(stdout, rd[i].name, 0);
			printf(": ");
			reader_text(stdout, &rd[i]);
		}
	}
	free(rd);
	return CLI_EXIT_OK;
}

/* ---- --watch ------------------------------------------------------------- */

struct watch {
	struct cli_global *g;
	struct pcsc_ctx *ctx;
	sigset_t sigs;
};

static void *
watch_signals(void *arg)
{
	struct watch *w = arg;
	int sig;

	if (sigwait(&w->sigs, &sig) == 0)
		pcsc_ctx_cancel(w->ctx);
	return NULL;
}

static bool
watch_event(void *arg, const struct pcsc_event *ev)
{
	struct watch *w = arg;
	char ts[PCSC_TIME_LEN], num[48];
	struct tm tm;
	json_object *o;

	(void)gmtime_r(&ev->when.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ev->when.tv_nsec / 1000);
	if (w->g->json) {
		bool has_reader = ev->kind != PCSC_EV_SERVICE_LOST &&
		    ev->kind != PCSC_EV_SERVICE_BACK;

		o = has_reader ? reader_json(&ev->reader, -1) :
		    json_object_new_object();
		json_object_object_add(o, "event",
		    json_object_new_string(pcsc_ev_name(ev->kind)));
		json_object_object_add(o, "t", json_object_new_string(ts));
		snprintf(num, sizeof(num), "%lld.%06ld",
		    (long long)ev->when.tv_sec, ev->when.tv_nsec / 1000);
		json_object_object_add(o, "unix", json_object_new_double_s(
		    (double)ev->when.tv_sec + ev->when.tv_nsec / 1e9, num));
		json_object_object_add(o, "initial",
		    json_object_new_boolean(ev->initial));
		cli_json_line(o);
	} else {
		printf("%s %-14s", ts, pcsc_ev_name(ev->kind));
		if (ev->kind == PCSC_EV_SERVICE_LOST)
			printf(" pcscd went away; waiting for it\n");
		else if (ev->kind == PCSC_EV_SERVICE_BACK)
			printf(" pcscd is back\n");
		else {
			printf(" \"");
			cli_print_safe(stdout, ev->reader.name, 0);
			if (ev->kind == PCSC_EV_READER_REMOVED ||
			    ev->kind == PCSC_EV_CARD_REMOVED) {
				printf("\"\n");
			} else {
				printf("\": ");
				reader_text(stdout, &ev->reader);
			}
		}
	}
	fflush(stdout);
	return true;
}

static int
readers_watch(struct cli_global *g, struct pcsc_ctx *ctx)
{
	struct watch w = { .g = g, .ctx = ctx };
	struct pcsc_monitor *m = NULL;
	pthread_t th;
	enum pv_err r;
	int rc;

	/* Signals go to one thread that cancels the blocking wait. */
	sigemptyset(&w.sigs);
	sigaddset(&w.sigs, SIGINT);
	sigaddset(&w.sigs, SIGTERM);
	sigaddset(&w.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &w.sigs, NULL);
	if (pthread_create(&th, NULL, watch_signals, &w) != 0) {
		cli_error("readers: cannot start the signal thread");
		return CLI_EXIT_FAIL;
	}
	pthread_detach(th);
	if ((r = pcsc_monitor_new(ctx, &m)) != PV_OK) {
		cli_error("readers: %s", pv_strerror(r));
		return cli_exit_for(r);
	}
	r = pcsc_monitor_run(m, watch_event, &w);
	pcsc_monitor_free(m);
	if (r == PV_E_CANCELLED)
		return CLI_EXIT_INTERRUPTED;
	cli_error("readers: %s (%s: %s)", pv_strerror(r),
	    pcsc_ctx_last_call(ctx), pcsc_rc_text(pcsc_ctx_last_rc(ctx)));
	rc = cli_exit_for(r);
	return rc;
}

int
cli_cmd_readers(struct cli_global *g, int argc, char **argv)
{
	enum { OPT_WATCH = CLI_OPT__NEXT };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pcsc_ctx *ctx = NULL;
	bool watch = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "hw", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OPT_WATCH:
		case 'w':
			watch = true;
			break;
		case 'h':
			readers_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("readers", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("readers", "unexpected argument '%s'",
		    argv[optind]);
	if (pcsc_ctx_new(&ctx) != PV_OK) {
		cli_error("readers: out of memory");
		return CLI_EXIT_FAIL;
	}
	if (g->verbose)
		pcsc_ctx_set_log(ctx, cli_log_stderr, NULL);
	rc = watch ? readers_watch(g, ctx) : readers_list(g, ctx);
	pcsc_ctx_free(ctx);
	return rc;
}
