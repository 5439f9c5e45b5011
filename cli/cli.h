/*
 * cli.h: the pivstation command line: global options, the subcommand
 * table and exit codes.  cli/ parses arguments and prints; the logic lives
 * in the layers below.
 *
 * Each subcommand is one file cli/cmd_<name>.c with one entry point of type
 * cli_cmd_fn, listed in the table in cli/main.c.
 */
#ifndef PV_CLI_CLI_H
#define PV_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "apdu/err.h"

/*
 * Exit codes (documented in `pivstation --help` and pivstation(1)): one per
 * error class (apdu/err.h), plus usage.
 */
enum cli_exit {
	CLI_EXIT_OK = 0,	/* success */
	CLI_EXIT_FAIL = 1,	/* classes STATE and INTERNAL: the message says why */
	CLI_EXIT_USAGE = 2,	/* bad command line */
	CLI_EXIT_NO_CARD = 3,	/* CARD_GONE: pcscd, reader or card unavailable */
	CLI_EXIT_CARD = 4,	/* CARD: refused a command or sent malformed data */
	CLI_EXIT_AUTH = 5,	/* AUTH: wrong or blocked PIN, PUK or management key */
	CLI_EXIT_INPUT = 6,	/* INPUT: an input file or value is invalid */
	CLI_EXIT_VERIFY = 7,	/* VERIFY: a certificate, signature or audit check */
	CLI_EXIT_INTERRUPTED = 130 /* CANCEL: interrupted */
};

/* Options accepted before the subcommand and by every subcommand. */
struct cli_global {
	const char *trace_path;	/* --trace FILE: APDU trace, secrets redacted */
	bool trace_json;	/* --trace-json: trace as JSON Lines */
	bool stats;		/* --stats: APDU and byte counters on stderr */
	bool json;		/* --json: machine-readable output */
	const char *home;	/* --home DIR: station home */
	const char *reader;	/* -r READER: index, name part, serial:N, guid:X */
	int verbose;		/* -v: debug log on stderr */
	const char *argv0;
};

typedef int cli_cmd_fn(struct cli_global *g, int argc, char **argv);

struct cli_cmd {
	const char *name;
	cli_cmd_fn *fn;
	const char *summary;
};

/*
 * Global options are accepted before the subcommand and after it: a
 * subcommand adds CLI_GLOBAL_LONGOPTS to its getopt_long table and passes
 * any option it does not know to cli_global_opt().
 */
enum {
	CLI_OPT_TRACE = 1000,
	CLI_OPT_TRACE_JSON,
	CLI_OPT_STATS,
	CLI_OPT_JSON,
	CLI_OPT_HOME,
	CLI_OPT_HELP,
	CLI_OPT__NEXT		/* first value free for a subcommand */
};
#define CLI_GLOBAL_LONGOPTS \
	{ "trace", required_argument, NULL, CLI_OPT_TRACE }, \
	{ "trace-json", no_argument, NULL, CLI_OPT_TRACE_JSON }, \
	{ "stats", no_argument, NULL, CLI_OPT_STATS }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "home", required_argument, NULL, CLI_OPT_HOME }, \
	{ "reader", required_argument, NULL, 'r' }, \
	{ "verbose", no_argument, NULL, 'v' }
#define CLI_GLOBAL_SHORTOPTS "r:v"

/*
 * cli_global_opt applies global option |c| (with |arg|) to |g|.  Returns
 * true if |c| was a global option.
 */
bool cli_global_opt(struct cli_global *g, int c, const char *arg);

/* cli_exit_for: the exit code of |e|'s class. */
int cli_exit_for(enum pv_err e);

/* cli_error prints "pivstation: <what>: <why>" on stderr, through
 * cli_print_safe. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_usage_error prints the message and a hint, returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/*
 * Text from cards, readers, files and the store goes out through these
 * (apdu/text.h text_sanitize), never raw:
 *
 * cli_print_safe writes |s| (NULL is "") to |f| as one line of printable
 * UTF-8: controls (terminal escapes, C1, bidirectional overrides) and
 * bytes that are not UTF-8 appear escaped ("\x1b", "\u{202E}").  With
 * |width| > 0 it pads with spaces to |width| + 1 characters.
 */
void cli_print_safe(FILE *f, const char *s, int width);

/*
 * JSON output (--json): every document is a json-c tree built by the
 * command and serialised by one of the printers below; no command writes
 * JSON text itself.  Strings that come from cards, readers, files, the
 * store or the command line go in through cli_json_str.
 */
struct json_object;

/*
 * cli_json_str is json_object_new_string of |s| (NULL is "") made valid
 * UTF-8: bytes that are not UTF-8 become the text "\xHH" (apdu/text.h
 * TEXT_SAN_JSON); json-c escapes the controls.  Returns a new reference.
 */
struct json_object *cli_json_str(const char *s);

/*
 * cli_json_parse_object parses |s| as exactly one JSON object (white space
 * around it allowed) in valid UTF-8.  Returns a new reference, or NULL
 * when |s| is anything else: the caller then shows it as a string.
 */
struct json_object *cli_json_parse_object(const char *s);

/*
 * cli_json_line writes |o| as one JSON Lines record on standard output,
 * flushes (a reader of events must not wait) and releases |o|.
 */
void cli_json_line(struct json_object *o);

struct wf_event;	/* issuance/wf.h */

/*
 * cli_wf_event renders one workflow progress event of command |cmd|: with
 * |json| a JSON Lines "step" record on standard output, else a line on
 * standard error ("issue: [ 1/15] register   done        text"; |iw| and
 * |sw| the widths of the index and the step name), the text through the
 * sanitiser (it carries what cards and readers say).
 */
void cli_wf_event(const char *cmd, bool json, int iw, int sw,
    const struct wf_event *ev);

/*
 * cli_json_doc writes |o| as one indented JSON document (the large
 * reports: diag, readers, atr, validate), flushes and releases |o|.
 */
void cli_json_doc(struct json_object *o);

/*
 * A document {"KEY":[record, ...]} written one record at a time, for
 * lists as long as the store (audit show): memory stays one record.
 * cli_json_list_begin writes the opening, cli_json_list_add one record
 * (on a line of its own; |o| is released), cli_json_list_end the closing.
 * The document is complete and valid even when no record was added.
 */
struct cli_json_list {
	size_t n;		/* records written */
};
void cli_json_list_begin(struct cli_json_list *l, const char *key);
void cli_json_list_add(struct cli_json_list *l, struct json_object *o);
void cli_json_list_end(struct cli_json_list *l);

/* Subcommands (one file each). */
cli_cmd_fn cli_cmd_version;
cli_cmd_fn cli_cmd_readers, cli_cmd_atr, cli_cmd_diag;
cli_cmd_fn cli_cmd_decode;
cli_cmd_fn cli_cmd_init, cli_cmd_audit;	/* cmd_station.c, cmd_audit.c */
cli_cmd_fn cli_cmd_ca, cli_cmd_escrow;	/* cmd_ca.c, cmd_escrow.c */
cli_cmd_fn cli_cmd_issue;		/* cmd_issue.c */
cli_cmd_fn cli_cmd_derive;		/* cmd_derive.c */
cli_cmd_fn cli_cmd_job;			/* cmd_job.c */
cli_cmd_fn cli_cmd_batch;		/* cmd_batch.c */
cli_cmd_fn cli_cmd_operator;		/* cmd_operator.c */
cli_cmd_fn cli_cmd_serve;		/* cmd_serve.c */
#include "issuance/passphrase.h"

struct station;	/* issuance/station.h */

/*
 * cli_station opens the station for a command (station.h): --home, the
 * operator named by $PIVSTATION_OPERATOR (else the account), the
 * passphrase sources in |pass| (NULL: none given; the environment, the
 * configuration and then a no-echo prompt on the terminal are tried).
 * Prints the error.  Returns an exit code, CLI_EXIT_OK with *out set.
 */
int cli_station(const struct cli_global *g, unsigned need,
    const struct pass_chain *pass, struct station **out);

/*
 * cli_station_done closes |stn| (NULL allowed) and returns |rc|, unless
 * the command changed the store but the audit head could not be recorded
 * outside it: then it says so and returns CLI_EXIT_FAIL.
 */
int cli_station_done(struct station *stn, int rc);

/*
 * cli_permit: CLI_EXIT_OK when who acts may do |a| (station_permit), else
 * prints why and returns the exit code.  |a| is an enum op_action.
 */
int cli_permit(const struct station *stn, int a);

/* cli_pass_chain: no sources, the terminal prompt, warnings on stderr. */
void cli_pass_chain(struct pass_chain *c);

/*
 * cli_prompt_secret asks for |what| on the terminal with echo off (twice
 * when |confirm|).  PV_E_INPUT with |why| when there is no terminal.
 */
enum pv_err cli_prompt_secret(const char *what, bool confirm,
    struct pkix_pass *out, struct pv_why *why);

/*
 * cli_fd_arg parses the file descriptor given to option |opt| of |cmd|
 * (0-65535).  Returns CLI_EXIT_OK, or prints the usage error and returns
 * CLI_EXIT_USAGE.
 */
int cli_fd_arg(const char *cmd, const char *opt, const char *s, int *out);

/* cli_fail prints "pivstation: <what>: <why or the error's text>" and
 * returns the exit code of |r|'s class. */
int cli_fail(const char *what, enum pv_err r, const struct pv_why *why);

cli_cmd_fn cli_cmd_validate;		/* cmd_validate.c */
cli_cmd_fn cli_cmd_operator;		/* cmd_operator.c */
cli_cmd_fn cli_cmd_unblock;		/* cmd_unblock.c */
cli_cmd_fn cli_cmd_console;		/* cmd_console.c */

#endif /* PV_CLI_CLI_H */
