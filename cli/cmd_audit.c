/*
 * cmd_audit.c: `pivstation audit verify` and `pivstation audit show`.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "cli/cli.h"
#include "issuance/audit.h"
#include "issuance/home.h"
#include "issuance/secret.h"
#include "issuance/store.h"

static void
audit_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation audit verify [--json]\n"
	    "       pivstation audit show [--since N] [--limit N] [--json]\n"
	    "       pivstation audit note TEXT\n"
	    "\n"
	    "The store keeps a hash-chained audit log of every change.\n"
	    "\n"
	    "verify  recompute the whole chain and check its head against the\n"
	    "        MAC kept in the store and the head file audit.head (both\n"
	    "        keyed from the station master secret).  Any altered,\n"
	    "        inserted or deleted row, including the last ones, and a\n"
	    "        store rolled back to an older copy, are reported with the\n"
	    "        first bad row; exit status 7.  Then each certificate,\n"
	    "        escrow envelope, device and person must be exactly as\n"
	    "        the log last recorded it: a row altered, deleted or added\n"
	    "        outside pivstation is reported (exit status 7).\n"
	    "show    print the rows after row N (default: all), oldest first.\n"
	    "note    add an operator's note (shift start, incident) to the log.\n"
	    "\n"
	    "  --since N   only rows with a number greater than N\n"
	    "  --limit N   at most N rows\n"
	    "  --json      machine-readable output\n");
}

/* Opens the station's existing store; prints errors.  Returns an exit
 * code. */
static int
audit_open(struct cli_global *g, struct store **out)
{
	struct pv_why why = { "" };
	struct home h;
	enum pv_err r;
	int rc;

	(void)secret_harden_process();
	if ((rc = cli_home(g, &h)) != CLI_EXIT_OK)
		return rc;
	if ((r = home_check(&h, &why)) != PV_OK)
		goto fail;
	if (!home_exists(&h, HOME_STORE)) {
		r = pv_why_set(&why, PV_E_NOT_FOUND, "no store in %s: run "
		    "'pivstation init'", h.dir);
		goto fail;
	}
	if ((r = store_open_home(&h, cli_actor(), 0, out, &why)) != PV_OK)
		goto fail;
	return CLI_EXIT_OK;
fail:
	cli_error("audit: %s", why.msg[0] ? why.msg : pv_strerror(r));
	return cli_exit_for(r);
}

static int
audit_verify_cmd(struct cli_global *g)
{
	struct pv_why why = { "" };
	struct audit_report rep;
	struct store *st = NULL;
	enum pv_err r;
	int rc;

	if ((rc = audit_open(g, &st)) != CLI_EXIT_OK)
		return rc;
	r = audit_verify(st, &rep, &why);
	store_close(st);
	if (g->json) {
		printf("{\"ok\":%s,\"rows\":%lld,\"first_bad\":%lld,"
		    "\"head_authenticated\":%s,\"head_file\":\"%s\","
		    "\"head_file_lag\":%lld,\"store_rows\":%lld",
		    r == PV_OK ? "true" : "false",
		    (long long)rep.rows, (long long)rep.first_bad,
		    rep.head_authenticated ? "true" : "false",
		    rep.file_checked ? "checked" : "missing",
		    (long long)rep.file_lag, (long long)rep.store_rows);
		if (r != PV_OK) {
			printf(",\"error\":");
			cli_json_string(stdout, why.msg[0] ? why.msg :
			    pv_strerror(r));
		}
		printf("}\n");
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
		if (!rep.file_checked)
			printf("warning: no head file (audit.head): a rollback "
			    "of the whole store would not be seen\n");
		else if (rep.file_lag > 0)
			printf("note: the head file is %lld rows behind (a "
			    "crash after a commit); it catches up on the next "
			    "change\n", (long long)rep.file_lag);
	}
	return CLI_EXIT_OK;
}

static int
audit_note_cmd(struct cli_global *g, const char *text)
{
	struct pv_why why = { "" };
	struct store *st = NULL;
	enum pv_err r;
	int rc;

	if ((rc = audit_open(g, &st)) != CLI_EXIT_OK)
		return rc;
	r = audit_note(st, text, &why);
	store_close(st);
	if (r != PV_OK) {
		cli_error("audit note: %s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}

struct audit_show {
	bool json;
	bool first;
	long long limit;
	long long shown;
};

static enum pv_err
audit_show_row(void *ctx, const struct audit_row *row)
{
	struct audit_show *sh = ctx;
	char when[32];
	time_t t = (time_t)row->time;
	struct tm tm;

	if (sh->limit >= 0 && sh->shown >= sh->limit)
		return PV_E_CANCELLED;	/* stop; not an error for the user */
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(when, "?");
	if (sh->json) {
		json_object *d = json_tokener_parse(row->detail);

		printf("%s{\"seq\":%lld,\"time\":%lld,\"utc\":\"%s\","
		    "\"actor\":", sh->first ? "" : ",\n", (long long)row->seq,
		    (long long)row->time, when);
		cli_json_string(stdout, row->actor);
		printf(",\"action\":");
		cli_json_string(stdout, row->action);
		printf(",\"object\":");
		cli_json_string(stdout, row->object);
		printf(",\"detail\":");
		if (d != NULL && json_object_is_type(d, json_type_object))
			fputs(json_object_to_json_string_ext(d,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
		else
			cli_json_string(stdout, row->detail);
		json_object_put(d);
		printf("}");
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
	sh->first = false;
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

enum { AUDIT_OPT_SINCE = CLI_OPT__NEXT, AUDIT_OPT_LIMIT };

int
cli_cmd_audit(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "since", required_argument, NULL, AUDIT_OPT_SINCE },
		{ "limit", required_argument, NULL, AUDIT_OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct audit_show sh = { false, true, -1, 0 };
	struct store *st = NULL;
	const char *sub;
	long long since = 0;
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
		return cli_usage_error("audit", "expected 'verify', 'show' or "
		    "'note'");
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
	if (strcmp(sub, "show") != 0)
		return cli_usage_error("audit", "unknown subcommand '%s'", sub);
	if ((rc = audit_open(g, &st)) != CLI_EXIT_OK)
		return rc;
	sh.json = g->json;
	if (sh.json)
		printf("{\"rows\":[\n");
	r = audit_foreach(st, since, audit_show_row, &sh, &why);
	if (r == PV_E_CANCELLED)
		r = PV_OK;	/* --limit reached */
	if (sh.json)
		printf("%s]}\n", sh.first ? "" : "\n");
	store_close(st);
	if (r != PV_OK) {
		cli_error("audit show: %s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}
