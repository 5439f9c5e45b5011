/*
 * cmd_station.c: `pivstation init`, which sets up a station home, and how
 * every command opens the station (cli_station): the global options, the
 * operator, passphrases from options, the environment, the configuration
 * or the terminal.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "cli/cli.h"
#include "issuance/station.h"
#include "issuance/store.h"

/* ---- secrets typed on the terminal ------------------------------------------ */

static enum pv_err
cli_prompt_once(int fd, const char *prompt, struct pkix_pass *out,
    struct pv_why *why)
{
	struct termios old, quiet;
	bool restore = false;
	enum pv_err r;

	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~(ECHO | ECHOE | ECHOK | ECHONL);
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	(void)!write(fd, prompt, strlen(prompt));
	r = pkix_pass_from_fd(fd, out, why);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	return r;
}

enum pv_err
cli_prompt_secret(const char *what, bool confirm, struct pkix_pass *out,
    struct pv_why *why)
{
	struct pkix_pass again;
	char prompt[160];
	enum pv_err r;
	int fd;

	pkix_pass_clear(out);
	memset(&again, 0, sizeof(again));
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pv_why_set(why, PV_E_INPUT, "no terminal to ask on");
	(void)snprintf(prompt, sizeof(prompt), "%s: ", what);
	r = cli_prompt_once(fd, prompt, out, why);
	if (r == PV_OK && confirm) {
		(void)snprintf(prompt, sizeof(prompt), "%s (again): ", what);
		if ((r = cli_prompt_once(fd, prompt, &again, why)) == PV_OK &&
		    (again.len != out->len || CRYPTO_memcmp(again.v, out->v,
		    out->len) != 0))
			r = pv_why_set(why, PV_E_INPUT, "the two entries differ");
	}
	pkix_pass_clear(&again);
	(void)close(fd);
	if (r != PV_OK)
		pkix_pass_clear(out);
	return r;
}

/* The chain's last source: a person at the terminal. */
static enum pv_err
cli_pass_prompt(void *ctx, enum pass_kind kind, const char *what,
    bool confirm, struct pkix_pass *out, struct pv_why *why)
{
	struct pv_why tty = { "" };
	enum pv_err r;

	(void)ctx;
	r = cli_prompt_secret(what, confirm, out, &tty);
	if (r == PV_OK || strcmp(tty.msg, "no terminal to ask on") != 0) {
		(void)pv_why_set(why, r, "%s", tty.msg);
		return r;
	}
	return pv_why_set(why, PV_E_INPUT, "needed and no terminal to ask on: "
	    "give %s or $%s", kind == PASS_P12 ? "--p12-passphrase-file FILE "
	    "or --p12-passphrase-fd N" : "--passphrase-file FILE or "
	    "--passphrase-fd N", pass_kind_env(kind));
}

static void
cli_pass_note(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "pivstation: warning: %s\n", text);
}

void
cli_pass_chain(struct pass_chain *c)
{
	pass_chain_init(c);
	c->prompt = cli_pass_prompt;
	c->note = cli_pass_note;
}

int
cli_fd_arg(const char *cmd, const char *opt, const char *s, int *out)
{
	unsigned long long v;

	if (!buf_dec_uint(s, 65535, &v))
		return cli_usage_error(cmd, "%s: '%s' is not a file descriptor",
		    opt, s);
	*out = (int)v;
	return CLI_EXIT_OK;
}

int
cli_fail(const char *what, enum pv_err r, const struct pv_why *why)
{
	cli_error("%s: %s", what, why != NULL && why->msg[0] ? why->msg :
	    pv_strerror(r));
	return cli_exit_for(r);
}

/* ---- the station -------------------------------------------------------------- */

int
cli_permit(const struct station *stn, int a)
{
	struct pv_why why = { "" };
	enum pv_err r;

	if ((r = station_permit(stn, (enum op_action)a, &why)) != PV_OK)
		return cli_fail("not permitted", r, &why);
	return CLI_EXIT_OK;
}

int
cli_station_done(struct station *stn, int rc)
{
	struct pv_why why = { "" };
	enum pv_err r;

	if (stn != NULL && (r = station_audit_status(stn, &why)) != PV_OK) {
		cli_error("%s", why.msg);
		if (rc == CLI_EXIT_OK)
			rc = cli_exit_for(r);
	}
	station_close(stn);
	return rc;
}

int
cli_station(const struct cli_global *g, unsigned need,
    const struct pass_chain *pass, struct station **out)
{
	struct station_opts o;
	struct pass_chain def;
	struct pv_why why = { "" };
	const char *op = getenv("PIVSTATION_OPERATOR");
	enum pv_err r;

	if (pass == NULL) {
		cli_pass_chain(&def);
		pass = &def;
	}
	memset(&o, 0, sizeof(o));
	o.home = g->home;
	o.need = need;
	o.operator = op != NULL && op[0] != '\0' ? op : NULL;
	o.pass = pass;
	if ((r = station_open(&o, out, &why)) != PV_OK) {
		cli_error("%s", why.msg[0] ? why.msg : pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}

static void
init_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation init [--home DIR] [--admin NAME] [--json]\n"
	    "       pivstation init --print-config\n"
	    "\n"
	    "Set up the station home ($PIVSTATION_HOME, --home DIR, or\n"
	    "~/.local/share/pivstation): the folder (0700), a documented\n"
	    "default pivstation.conf, the station master secret (32 random\n"
	    "bytes) and the store.  Safe to run again: what exists is kept\n"
	    "and checked (the configuration is parsed, the master secret is\n"
	    "never replaced, the store is migrated to this version).\n"
	    "\n"
	    "  --admin NAME    register NAME as the first administrator\n"
	    "                  operator (pivstation operator adds more)\n"
	    "  --print-config  print the documented default configuration\n"
	    "  --json          machine-readable result\n");
}

enum { INIT_OPT_PRINT = CLI_OPT__NEXT, INIT_OPT_ADMIN };
#define INIT_STATE(made) ((made) ? "created" : "kept")

int
cli_cmd_init(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "print-config", no_argument, NULL, INIT_OPT_PRINT },
		{ "admin", required_argument, NULL, INIT_OPT_ADMIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct station_init_result res;
	struct home h;
	const char *text = config_default_text();
	const char *admin = NULL;
	bool print = false;
	enum pv_err r;
	int c;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case INIT_OPT_ADMIN:
			admin = optarg;
			break;
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
	if ((r = station_init(g->home, admin, &res, &why)) != PV_OK ||
	    (r = home_resolve(g->home, &h, &why)) != PV_OK)
		return cli_fail("init", r, &why);
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "home", cli_json_str(h.dir));
		json_object_object_add(o, "home_state",
		    json_object_new_string(INIT_STATE(res.home_created)));
		json_object_object_add(o, "config",
		    json_object_new_string(INIT_STATE(res.config_created)));
		json_object_object_add(o, "master_secret",
		    json_object_new_string(INIT_STATE(res.master_created)));
		json_object_object_add(o, "store",
		    json_object_new_string(INIT_STATE(res.store_created)));
		json_object_object_add(o, "schema_version",
		    json_object_new_int(res.schema_version));
		cli_json_line(o);
	} else {
		printf("station home   %s (%s)\n", h.dir,
		    INIT_STATE(res.home_created));
		printf("configuration  %s/%s (%s)\n", h.dir, HOME_CONFIG,
		    INIT_STATE(res.config_created));
		printf("master secret  %s/%s (%s)\n", h.dir, HOME_MASTER_SECRET,
		    INIT_STATE(res.master_created));
		printf("store          %s/%s (%s, schema version %d)\n", h.dir,
		    HOME_STORE, INIT_STATE(res.store_created),
		    res.schema_version);
		if (admin != NULL)
			printf("administrator  %s (%s)\n", admin,
			    INIT_STATE(res.admin_created));
	}
	return CLI_EXIT_OK;
}
