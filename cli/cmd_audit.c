/*
 * cmd_audit.c: `pivstation audit verify|show|note|checkpoint`.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "apdu/text.h"
#include "cli/cli.h"
#include "issuance/audit.h"
#include "issuance/home.h"
#include "issuance/secret.h"
#include "issuance/station.h"
#include "issuance/store.h"

static void
audit_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation audit verify [--json]\n"
	    "       pivstation audit show [--since N] [--limit N] [--json]\n"
	    "       pivstation audit note TEXT\n"
	    "       pivstation audit checkpoint [--syslog]\n"
	    "\n"
	    "The store keeps a hash-chained audit log of every change.\n"
	    "\n"
	    "verify  recompute the whole chain and check its head against the\n"
	    "        MAC kept in the store, the head file audit.head (both\n"
	    "        keyed from the station master secret) and the [audit]\n"
	    "        anchor outside the home when one is set.  Any altered,\n"
	    "        inserted or deleted row, including the last ones, a store\n"
	    "        rolled back to an older copy, a missing head file or one\n"
	    "        behind by more than the last transaction are reported\n"
	    "        with the first bad row; exit status 7.  Then each\n"
	    "        certificate, escrow envelope, device, person, job and\n"
	    "        operator must be exactly as the log last recorded it: a\n"
	    "        row altered, deleted or added outside pivstation is\n"
	    "        reported (exit status 7).\n"
	    "show    print the rows after row N (default: all), oldest first.\n"
	    "note    add an operator's note (shift start, incident) to the log.\n"
	    "checkpoint  append the head to the [audit] anchor (and with\n"
	    "        --syslog or [audit] syslog = yes, to the system log).\n"
	    "\n"
	    "  --since N   only rows with a number greater than N\n"
	    "  --limit N   at most N rows\n"
	    "  --json      machine-readable output\n");
}

static int
audit_verify_cmd(struct cli_global *g)
{
	struct pv_why why = { "" };
	struct audit_report rep;
	struct station *stn = NULL;
	struct store *st;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	st = station_store(stn);
	r = audit_verify(st, &rep, &why);
	station_close(stn);
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(r ==
		    PV_OK));
		json_object_object_add(o, "rows",
		    json_object_new_int64(rep.rows));
		json_object_object_add(o, "first_bad",
		    json_object_new_int64(rep.first_bad));
		json_object_object_add(o, "head_authenticated",
		    json_object_new_boolean(rep.head_authenticated));
		json_object_object_add(o, "head_file", json_object_new_string(
		    rep.file_checked ? "checked" : "missing"));
		json_object_object_add(o, "head_file_lag",
		    json_object_new_int64(rep.file_lag));
		if (rep.anchor_checked) {
			json_object_object_add(o, "anchor_rows",
			    json_object_new_int64(rep.anchor_rows));
			json_object_object_add(o, "anchor_time",
			    json_object_new_int64(rep.anchor_time));
		}
		json_object_object_add(o, "store_rows",
		    json_object_new_int64(rep.store_rows));
		if (r != PV_OK)
			json_object_object_add(o, "error",
			    cli_json_str(why.msg[0] ? why.msg :
			    pv_strerror(r)));
		cli_json_line(o);
	}
	if (r != PV_OK) {
		cli_error("audit verify: %s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		return cli_exit_for(r);
	}
	if (!g->json) {
		printf("audit log intact: %lld rows, head %s; %lld store "
		    "rows match it\n", (long long)rep.rows,
		    rep.head_authenticated ? "authenticated" :
		    "NOT authenticated", (long long)rep.store_rows);
		if (rep.file_lag > 0)
			printf("note: the head file is %lld rows behind, the "
			    "last transaction's (a crash after its commit); it "
			    "catches up on the next change\n",
			    (long long)rep.file_lag);
		if (rep.anchor_checked)
			printf("anchor: %lld rows anchored outside the home\n",
			    (long long)rep.anchor_rows);
	}
	return CLI_EXIT_OK;
}

static int
audit_note_cmd(struct cli_global *g, const char *text)
{
	struct pv_why why = { "" };
	struct station *stn = NULL;
	struct store *st;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	st = station_store(stn);
	r = audit_note(st, text, &why);
	if (r == PV_OK)
		r = station_audit_status(stn, &why);
	station_close(stn);
	if (r != PV_OK) {
		cli_error("audit note: %s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}

static int
audit_checkpoint_cmd(struct cli_global *g, bool to_syslog)
{
	struct pv_why why = { "" };
	struct station *stn = NULL;
	int64_t n = 0;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	r = audit_checkpoint(station_store(stn), to_syslog ||
	    station_config(stn)->audit_syslog, &n, &why);
	station_close(stn);
	if (r != PV_OK)
		return cli_fail("audit checkpoint", r, &why);
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "rows", json_object_new_int64(n));
		cli_json_line(o);
	} else {
		printf("audit head checkpointed: %lld rows\n", (long long)n);
	}
	return CLI_EXIT_OK;
}

struct audit_show {
	bool json;
	struct cli_json_list list;
	long long limit;
	long long shown;
};

/*
 * audit_row_json: one row as a JSON object.  Every text field comes from
 * a file anyone may have edited: the detail is shown as the object it
 * holds only when it is exactly one JSON object in valid UTF-8, and as a
 * (sanitised) string otherwise.
 */
static json_object *
audit_row_json(const struct audit_row *row, const char *when)
{
	json_object *o = json_object_new_object();
	json_object *d = cli_json_parse_object(row->detail);

	json_object_object_add(o, "seq", json_object_new_int64(row->seq));
	json_object_object_add(o, "time", json_object_new_int64(row->time));
	json_object_object_add(o, "utc", json_object_new_string(when));
	json_object_object_add(o, "actor", cli_json_str(row->actor));
	json_object_object_add(o, "action", cli_json_str(row->action));
	json_object_object_add(o, "object", cli_json_str(row->object));
	json_object_object_add(o, "detail", d != NULL ? d :
	    cli_json_str(row->detail));
	return o;
}

static enum pv_err
audit_show_row(void *ctx, const struct audit_row *row)
{
	struct audit_show *sh = ctx;
	char when[TEXT_UTC_LEN];

	if (sh->limit >= 0 && sh->shown >= sh->limit)
		return PV_E_CANCELLED;	/* stop; not an error for the user */
	text_utc(row->time, when);
	if (sh->json) {
		cli_json_list_add(&sh->list, audit_row_json(row, when));
	} else {
		/* The rows come from a file anyone may have edited: no
		 * terminal control characters reach the screen. */
		printf("%6lld  %s  ", (long long)row->seq, when);
		cli_print_safe(stdout, row->actor, 12);
		cli_print_safe(stdout, row->action, 16);
		cli_print_safe(stdout, row->object, 24);
		cli_print_safe(stdout, row->detail, 0);
		putchar('\n');
	}
	sh->shown++;
	return PV_OK;
}

static bool
audit_parse_count(const char *s, long long *out)
{
	unsigned long long v;

	if (!buf_dec_uint(s, LLONG_MAX, &v))
		return false;
	*out = (long long)v;
	return true;
}

enum { AUDIT_OPT_SINCE = CLI_OPT__NEXT, AUDIT_OPT_LIMIT, AUDIT_OPT_SYSLOG };

int
cli_cmd_audit(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "since", required_argument, NULL, AUDIT_OPT_SINCE },
		{ "limit", required_argument, NULL, AUDIT_OPT_LIMIT },
		{ "syslog", no_argument, NULL, AUDIT_OPT_SYSLOG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct audit_show sh = { false, { 0 }, -1, 0 };
	struct station *stn = NULL;
	struct store *st;
	const char *sub;
	long long since = 0;
	bool to_syslog = false;
	enum pv_err r;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case AUDIT_OPT_SINCE:
			if (!audit_parse_count(optarg, &since))
				return cli_usage_error("audit", "--since: "
				    "expected a row number, got '%s'", optarg);
			break;
		case AUDIT_OPT_SYSLOG:
			to_syslog = true;
			break;
		case AUDIT_OPT_LIMIT:
			if (!audit_parse_count(optarg, &sh.limit))
				return cli_usage_error("audit", "--limit: "
				    "expected a count, got '%s'", optarg);
			break;
		case 'h':
			audit_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("audit", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("audit", "expected 'verify', 'show', "
		    "'note' or 'checkpoint'");
	sub = argv[optind];
	if (strcmp(sub, "note") == 0) {
		if (optind + 2 != argc)
			return cli_usage_error("audit", "note: expected one "
			    "argument, the text");
		return audit_note_cmd(g, argv[optind + 1]);
	}
	if (optind + 1 < argc)
		return cli_usage_error("audit", "unexpected argument '%s'",
		    argv[optind + 1]);
	if (strcmp(sub, "verify") == 0)
		return audit_verify_cmd(g);
	if (strcmp(sub, "checkpoint") == 0)
		return audit_checkpoint_cmd(g, to_syslog);
	if (strcmp(sub, "show") != 0)
		return cli_usage_error("audit", "unknown subcommand '%s'", sub);
	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	st = station_store(stn);
	sh.json = g->json;
	/* One record at a time: the log grows with every change, and a
	 * reader (jq --stream, a pipe) sees the rows as they come. */
	if (sh.json)
		cli_json_list_begin(&sh.list, "rows");
	r = audit_foreach(st, since, audit_show_row, &sh, &why);
	if (r == PV_E_CANCELLED)
		r = PV_OK;	/* --limit reached */
	if (sh.json)
		cli_json_list_end(&sh.list);
	station_close(stn);
	if (r != PV_OK) {
		cli_error("audit show: %s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}
