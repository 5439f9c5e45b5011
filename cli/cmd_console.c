/*
 * cmd_console.c: `pivstation console`: the operator console for the
 * enrollment kiosk (tui/tui.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tui/tui.h"

enum {
	CON_OPT_PASS_FILE = CLI_OPT__NEXT,
	CON_OPT_PASS_FD,
	CON_OPT_KRA_FILE,
	CON_OPT_KRA_FD,
	CON_OPT_IDLE,
	CON_OPT_MONO
};

static void
con_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation console [--home DIR] [--passphrase-file FILE |\n"
	    "                          --passphrase-fd N]\n"
	    "                          [--kra-passphrase-file FILE |\n"
	    "                          --kra-passphrase-fd N]\n"
	    "                          [--idle-lock SECONDS] [--no-color]\n"
	    "\n"
	    "The operator console for the enrollment kiosk: keyboard only,\n"
	    "from 80x24 up.  An operator signs in with their own PIV card and\n"
	    "PIN (pivstation operator add registers them); then issue cards,\n"
	    "unblock PINs, suspend, resume, terminate, recover keys, read the\n"
	    "audit log and diagnose cards, every action audited under their\n"
	    "name.  The readers and their cards show live.  F1 or ? shows the\n"
	    "keys of each screen.  The console locks after [console]\n"
	    "idle_lock_seconds and when the operator's card leaves its reader.\n"
	    "\n"
	    "  --passphrase-file FILE / --passphrase-fd N\n"
	    "                  the CA passphrase (else $PIVSTATION_CA_PASSPHRASE,\n"
	    "                  [ca] passphrase, or asked on the screen once)\n"
	    "  --kra-passphrase-file FILE / --kra-passphrase-fd N\n"
	    "                  the key recovery agent's passphrase, for PIN\n"
	    "                  unblock and key recovery (else asked on the screen)\n"
	    "  --idle-lock SECONDS  overrides [console] idle_lock_seconds (0: never)\n"
	    "  --no-color      monochrome (also when $NO_COLOR is set)\n"
	    "\n"
	    "Exit status: 0 when the operator quits, 129/130/143 after SIGHUP,\n"
	    "SIGINT, SIGTERM (the terminal is restored in every case).\n");
}

int
cli_cmd_console(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "passphrase-file", required_argument, NULL, CON_OPT_PASS_FILE },
		{ "passphrase-fd", required_argument, NULL, CON_OPT_PASS_FD },
		{ "kra-passphrase-file", required_argument, NULL,
		    CON_OPT_KRA_FILE },
		{ "kra-passphrase-fd", required_argument, NULL, CON_OPT_KRA_FD },
		{ "idle-lock", required_argument, NULL, CON_OPT_IDLE },
		{ "no-color", no_argument, NULL, CON_OPT_MONO },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct pass_chain pc;
	struct tui_opts o;
	char *end;
	long v;
	int c, rc, sig = 0;
	enum pv_err r;

	memset(&o, 0, sizeof(o));
	o.idle_lock_s = -1;
	pass_chain_init(&pc);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case CON_OPT_PASS_FILE: pc.src[PASS_CA].file = optarg; break;
		case CON_OPT_KRA_FILE: pc.src[PASS_KRA].file = optarg; break;
		case CON_OPT_PASS_FD:
			if ((rc = cli_fd_arg("console", "--passphrase-fd", optarg,
			    &pc.src[PASS_CA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case CON_OPT_KRA_FD:
			if ((rc = cli_fd_arg("console", "--kra-passphrase-fd",
			    optarg, &pc.src[PASS_KRA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case CON_OPT_IDLE:
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 0 ||
			    v > 86400)
				return cli_usage_error("console", "--idle-lock: "
				    "0 to 86400 seconds");
			o.idle_lock_s = (int)v;
			break;
		case CON_OPT_MONO: o.mono = true; break;
		case 'h':
			con_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("console", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("console", "unexpected argument '%s'",
		    argv[optind]);
	o.home = g->home;
	o.pass = &pc;
	r = tui_run(&o, &sig, &why);
	if (r == PV_E_CANCELLED && sig != 0)
		return 128 + sig;
	if (r != PV_OK)
		return cli_fail("console", r, &why);
	return CLI_EXIT_OK;
}
