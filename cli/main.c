/*
 * main.c: `pivstation` argument parsing and subcommand dispatch.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"

/* The subcommand table: one line per subcommand, kept in help order. */
static const struct cli_cmd cli_cmds[] = {
	{ "version", cli_cmd_version, "print the version and build facts" },
	{ "readers", cli_cmd_readers, "list readers and cards; --watch follows events" },
	{ "atr", cli_cmd_atr, "decode an ATR (ISO 7816-3) and identify the card" },
	{ "diag", cli_cmd_diag, "everything about a reader and the PIV card in it" },
	{ "decode", cli_cmd_decode, "explain a recorded APDU conversation (no card needed)" },
	{ "init", cli_cmd_init, "set up the station home: config, master secret, store" },
	{ "audit", cli_cmd_audit, "verify or show the store's hash-chained audit log" },
	{ "ca", cli_cmd_ca, "the station CA: init, import, show, crl, signing tools" },
	{ "escrow", cli_cmd_escrow, "escrowed keys: keygen to the KRA, recover as PKCS#12" },
	{ "issue", cli_cmd_issue, "issue a primary PIV credential onto a card or key" },
	{ "derive", cli_cmd_derive, "derive a mobile credential (SP 800-157) from a valid PIV card" },
	{ "batch", cli_cmd_batch, "issue to everyone in a CSV or JSON Lines file, on many readers, resumable" },
	{ "job", cli_cmd_job, "issuance jobs: list unfinished ones, cancel one whose card is lost" },
	{ "operator", cli_cmd_operator, "the operators who act at the station, and their roles" },
	{ "validate", cli_cmd_validate, "is this PIV card (or certificate) valid? every check, with reasons" },
	{ "serve", cli_cmd_serve, "the device-facing service: OCSP responder, CRL and CA certificates over HTTP(S)" },
};

static void
cli_help(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: pivstation [global options] COMMAND [options]\n"
	    "\n"
	    "PC/SC middleware and issuance workstation for PIV smart cards and\n"
	    "PIV-capable USB keys (FIPS 201, SP 800-73-4, SP 800-157).\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cli_cmds[i].name, cli_cmds[i].summary);
	fprintf(f,
	    "\n"
	    "Global options (before or after COMMAND):\n"
	    "  -r, --reader READER  reader by index, name substring, serial:N or guid:HEX\n"
	    "  --trace FILE         write a timestamped APDU trace (PINs and keys redacted)\n"
	    "  --trace-json         write the trace as JSON Lines\n"
	    "  --stats              print APDU and byte counts on stderr when done\n"
	    "  --json               machine-readable output\n"
	    "  --home DIR           station home (default $PIVSTATION_HOME or\n"
	    "                       ~/.local/share/pivstation)\n"
	    "  -v, --verbose        debug log on stderr (never shows secrets)\n"
	    "  -h, --help           this help;  'pivstation COMMAND --help' for a command\n"
	    "  -V, --version        print the version\n"
	    "\n"
	    "Exit codes:\n"
	    "  0    success\n"
	    "  1    the operation failed (the message says why)\n"
	    "  2    bad command line\n"
	    "  3    pcscd, reader or card unavailable, or the card was removed\n"
	    "  4    the card refused a command or sent malformed data\n"
	    "  5    wrong or blocked PIN, PUK or management key\n"
	    "  6    an input file or value is invalid\n"
	    "  7    a certificate, signature or audit check failed\n"
	    "  130  interrupted\n"
	    "\n"
	    "See pivstation(1).\n");
}

int
cli_cmd_version(struct cli_global *g, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name",
		    json_object_new_string("pivstation"));
		json_object_object_add(o, "version",
		    json_object_new_string(PV_VERSION));
		cli_json_line(o);
	} else {
		printf("pivstation %s\n", PV_VERSION);
	}
	return CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_global g;
	size_t i;
	int c;

	memset(&g, 0, sizeof(g));
	g.argv0 = argv[0];
	/* "+": stop at the subcommand; it parses the rest. */
	while ((c = getopt_long(argc, argv, "+" CLI_GLOBAL_SHORTOPTS "hV",
	    longopts, NULL)) != -1) {
		if (cli_global_opt(&g, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_help(stdout);
			return CLI_EXIT_OK;
		case 'V':
			return cli_cmd_version(&g, 0, NULL);
		default:
			fprintf(stderr, "Try 'pivstation --help'.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_help(stderr);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++) {
		if (strcmp(argv[optind], cli_cmds[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			optind = 0;	/* glibc: re-initialise getopt */
			return cli_cmds[i].fn(&g, sub_argc, sub_argv);
		}
	}
	cli_error("unknown command '%s'", argv[optind]);
	fprintf(stderr, "Try 'pivstation --help'.\n");
	return CLI_EXIT_USAGE;
}
