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

/* Exit codes (documented in `pivstation --help` and pivstation(1)). */
enum cli_exit {
	CLI_EXIT_OK = 0,	/* success */
	CLI_EXIT_FAIL = 1,	/* the operation failed; the message says why */
	CLI_EXIT_USAGE = 2,	/* bad command line */
	CLI_EXIT_NO_CARD = 3,	/* pcscd, reader or card unavailable, card removed */
	CLI_EXIT_CARD = 4,	/* card refused a command or sent malformed data */
	CLI_EXIT_AUTH = 5,	/* wrong or blocked PIN, PUK or management key */
	CLI_EXIT_INPUT = 6,	/* an input file or value is invalid */
	CLI_EXIT_VERIFY = 7,	/* a certificate, signature or audit check failed */
	CLI_EXIT_INTERRUPTED = 130 /* interrupted by a signal */
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

/* cli_exit_for maps an error to the documented exit code. */
int cli_exit_for(enum pv_err e);

/* cli_error prints "pivstation: <what>: <why>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_usage_error prints the message and a hint, returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/* cli_json_string writes |s| as a JSON string literal (quotes included). */
void cli_json_string(FILE *f, const char *s);

struct json_object;

/*
 * cli_json_line writes |o| as one JSON Lines record on standard output,
 * flushes (a reader of events must not wait) and releases |o|.
 */
void cli_json_line(struct json_object *o);

/* Subcommands (one file each). */
cli_cmd_fn cli_cmd_version;
cli_cmd_fn cli_cmd_readers, cli_cmd_atr, cli_cmd_diag;
cli_cmd_fn cli_cmd_decode;
cli_cmd_fn cli_cmd_init, cli_cmd_audit;	/* cmd_station.c, cmd_audit.c */
cli_cmd_fn cli_cmd_ca, cli_cmd_escrow;	/* cmd_ca.c, cmd_escrow.c */
cli_cmd_fn cli_cmd_issue;		/* cmd_issue.c */
cli_cmd_fn cli_cmd_job;			/* cmd_job.c */
cli_cmd_fn cli_cmd_validate;		/* cmd_validate.c */
struct pkix_pass; struct pv_config;	/* issuance/pkix_util.h, config.h */
/* cli_passphrase (cmd_ca.c) reads |what| from |file|, else fd |fd| (>= 0),
 * else $|env1| or $|env2|, else |cfg|'s [ca] passphrase source, else a
 * no-echo prompt on the terminal (twice if |confirm|); prints the error.
 * Returns an exit code, CLI_EXIT_OK on success. */
int cli_passphrase(const char *what, const char *file, int fd,
    const char *env1, const char *env2, const struct pv_config *cfg,
    bool confirm, struct pkix_pass *out);
struct home;	/* issuance/home.h */
/* cli_home resolves the station home (--home, $PIVSTATION_HOME, default)
 * into |out|; prints the error.  Returns an exit code, CLI_EXIT_OK on
 * success. */
int cli_home(const struct cli_global *g, struct home *out);
/* cli_actor: who acts, for the audit log: $PIVSTATION_OPERATOR, else the
 * login name.  A static string. */
const char *cli_actor(void);

#endif /* PV_CLI_CLI_H */
