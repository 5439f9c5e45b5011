/*
 * cmd_station.c: `pivstation init`, which sets up a station home, and the
 * helpers every command that needs the home uses (cli_home, cli_actor).
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "issuance/config.h"
#include "issuance/home.h"
#include "issuance/secret.h"
#include "issuance/store.h"

int
cli_home(const struct cli_global *g, struct home *out)
{
	struct pv_why why = { "" };
	enum pv_err r;

	if ((r = home_resolve(g->home, out, &why)) != PV_OK) {
		cli_error("%s", why.msg[0] ? why.msg : pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}

const char *
cli_actor(void)
{
	static char name[64];
	const char *env = getenv("PIVSTATION_OPERATOR");
	struct passwd *pw;

	if (env != NULL && env[0] != '\0' && strlen(env) < sizeof(name))
		return env;
	if (name[0] == '\0') {
		pw = getpwuid(geteuid());
		if (pw != NULL && pw->pw_name != NULL &&
		    strlen(pw->pw_name) < sizeof(name))
			strcpy(name, pw->pw_name);
		else
			(void)snprintf(name, sizeof(name), "uid:%ld",
			    (long)geteuid());
	}
	return name;
}

static void
init_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation init [--home DIR] [--json]\n"
	    "       pivstation init --print-config\n"
	    "\n"
	    "Set up the station home ($PIVSTATION_HOME, --home DIR, or\n"
	    "~/.local/share/pivstation): the folder (0700), a documented\n"
	    "default pivstation.conf, the station master secret (32 random\n"
	    "bytes) and the store.  Safe to run again: what exists is kept\n"
	    "and checked (the configuration is parsed, the master secret is\n"
	    "never replaced, the store is migrated to this version).\n"
	    "\n"
	    "  --print-config  print the documented default configuration\n"
	    "  --json          machine-readable result\n");
}

enum { INIT_OPT_PRINT = CLI_OPT__NEXT };

int
cli_cmd_init(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "print-config", no_argument, NULL, INIT_OPT_PRINT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct home h;
	struct pv_config cfg;
	struct store *st = NULL;
	const char *text = config_default_text();
	const char *cfg_state = "kept", *secret_state = "kept",
	    *store_state = "kept", *home_state = "kept";
	bool print = false, created = false;
	enum pv_err r;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case INIT_OPT_PRINT:
			print = true;
			break;
		case 'h':
			init_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("init", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("init", "unexpected argument '%s'",
		    argv[optind]);
	if (print) {
		fputs(text, stdout);
		return CLI_EXIT_OK;
	}
	(void)secret_harden_process();
	if ((rc = cli_home(g, &h)) != CLI_EXIT_OK)
		return rc;
	if ((r = home_create(&h, &created, &why)) != PV_OK)
		goto fail;
	if (created)
		home_state = "created";

	if (!home_exists(&h, HOME_CONFIG)) {
		r = home_write_file(&h, HOME_CONFIG, text, strlen(text), 0,
		    &why);
		if (r != PV_OK)
			goto fail;
		cfg_state = "created";
	}
	if ((r = config_load_home(&h, &cfg, &why)) != PV_OK)
		goto fail;

	if (!home_exists(&h, HOME_MASTER_SECRET)) {
		if ((r = secret_master_create(&h, &why)) != PV_OK)
			goto fail;
		secret_state = "created";
	} else {
		struct secret_master m;

		r = secret_master_load(&h, &m, &why);
		secret_master_clear(&m);
		if (r != PV_OK)
			goto fail;
	}

	if (!home_exists(&h, HOME_STORE))
		store_state = "created";
	if ((r = store_open_home(&h, cli_actor(), cfg.busy_timeout_ms, &st,
	    &why)) != PV_OK)
		goto fail;

	if (g->json) {
		printf("{\"home\":");
		cli_json_string(stdout, h.dir);
		printf(",\"home_state\":\"%s\",\"config\":\"%s\","
		    "\"master_secret\":\"%s\",\"store\":\"%s\","
		    "\"schema_version\":%d}\n", home_state, cfg_state,
		    secret_state, store_state, store_schema_version(st));
	} else {
		printf("station home   %s (%s)\n", h.dir, home_state);
		printf("configuration  %s/%s (%s)\n", h.dir, HOME_CONFIG,
		    cfg_state);
		printf("master secret  %s/%s (%s)\n", h.dir, HOME_MASTER_SECRET,
		    secret_state);
		printf("store          %s/%s (%s, schema version %d)\n", h.dir,
		    HOME_STORE, store_state, store_schema_version(st));
	}
	store_close(st);
	return CLI_EXIT_OK;
fail:
	store_close(st);
	cli_error("init: %s", why.msg[0] ? why.msg : pv_strerror(r));
	return cli_exit_for(r);
}
