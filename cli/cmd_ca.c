/*
 * cmd_ca.c: `pivstation ca`: create or import the station CA, show it,
 * publish its CRL, and the low-level signing tools scripts and tests use
 * (issue one certificate, sign a CHUID, build a Security Object).  Also
 * cli_passphrase(), which every command that needs a CA, KRA or PKCS#12
 * passphrase uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "cli/cli.h"
#include "issuance/audit.h"
#include "issuance/ca.h"
#include "issuance/ca_publish.h"
#include "issuance/chuid.h"
#include "issuance/config.h"
#include "issuance/home.h"
#include "issuance/pkix_util.h"
#include "issuance/profile.h"
#include "issuance/secobj.h"
#include "issuance/secret.h"
#include "issuance/store.h"

#define CA_ENV_PASS	"PIVSTATION_CA_PASSPHRASE"
#define CA_ENV_KRA_PASS	"PIVSTATION_KRA_PASSPHRASE"
#define CA_IN_MAX	(1024 * 1024)

/* ---- passphrases ------------------------------------------------------------ */

/* cli_prompt asks on the controlling terminal with echo off. */
static enum pv_err
cli_prompt(const char *prompt, struct pkix_pass *out, struct pv_why *why)
{
	struct termios old, quiet;
	bool restore = false;
	enum pv_err r;
	int fd;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return pv_why_set(why, PV_E_INPUT, "no terminal to ask on");
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
	(void)close(fd);
	return r;
}

int
cli_passphrase(const char *what, const char *file, int fd,
    const char *env1, const char *env2, const struct pv_config *cfg,
    bool confirm, struct pkix_pass *out)
{
	struct pv_why why = { "" };
	struct pkix_pass again;
	char prompt[160];
	bool found = false;
	enum pv_err r = PV_OK;

	pkix_pass_clear(out);
	if (file != NULL) {
		r = pkix_pass_from_file(file, out, &why);
		goto done;
	}
	if (fd >= 0) {
		r = pkix_pass_from_fd(fd, out, &why);
		goto done;
	}
	if (env1 != NULL && ((r = pkix_pass_from_env(env1, out, &found,
	    &why)) != PV_OK || found))
		goto done;
	if (env2 != NULL && ((r = pkix_pass_from_env(env2, out, &found,
	    &why)) != PV_OK || found))
		goto done;
	if (cfg != NULL) {
		switch (cfg->pass_source) {
		case CONFIG_PASS_ENV:
			r = pkix_pass_from_env(cfg->pass_arg, out, &found, &why);
			if (r == PV_OK && !found)
				r = pv_why_set(&why, PV_E_INPUT,
				    "[ca] passphrase: $%s is not set",
				    cfg->pass_arg);
			goto done;
		case CONFIG_PASS_FILE:
			r = pkix_pass_from_file(cfg->pass_arg, out, &why);
			goto done;
		case CONFIG_PASS_FD:
			r = pkix_pass_from_fd(atoi(cfg->pass_arg), out, &why);
			goto done;
		default:
			break;
		}
	}
	(void)snprintf(prompt, sizeof(prompt), "%s: ", what);
	if ((r = cli_prompt(prompt, out, &why)) != PV_OK) {
		pv_why_clear(&why);
		r = pv_why_set(&why, PV_E_INPUT,
		    "%s needed and no terminal to ask on: give "
		    "--passphrase-file FILE, --passphrase-fd N or $%s", what,
		    env1 != NULL ? env1 : CA_ENV_PASS);
		goto done;
	}
	if (confirm) {
		(void)snprintf(prompt, sizeof(prompt), "%s (again): ", what);
		if ((r = cli_prompt(prompt, &again, &why)) == PV_OK &&
		    (again.len != out->len || CRYPTO_memcmp(again.v, out->v,
		    out->len) != 0))
			r = pv_why_set(&why, PV_E_INPUT,
			    "the two passphrases differ");
		pkix_pass_clear(&again);
	}
done:
	if (r != PV_OK) {
		pkix_pass_clear(out);
		cli_error("%s: %s", what, why.msg[0] ? why.msg : pv_strerror(r));
		return r == PV_E_NOT_FOUND ? CLI_EXIT_INPUT : cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}

/* ---- common ----------------------------------------------------------------- */

/* Everything a `ca` subcommand needs to find the CA. */
struct ca_env {
	struct home home;
	char dir[HOME_PATH_MAX];	/* <home>/ca */
	struct pv_config cfg;
	bool have_cfg;
};

static int
ca_env_load(struct cli_global *g, struct ca_env *e)
{
	struct pv_why why = { "" };
	enum pv_err r;
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = cli_home(g, &e->home)) != CLI_EXIT_OK)
		return rc;
	if ((r = home_path(&e->home, HOME_CA_DIR, e->dir, sizeof(e->dir))) !=
	    PV_OK) {
		cli_error("ca: %s", pv_strerror(r));
		return cli_exit_for(r);
	}
	r = config_load_home(&e->home, &e->cfg, &why);
	if (r == PV_OK) {
		e->have_cfg = true;
	} else if (r == PV_E_NOT_FOUND) {
		config_defaults(&e->cfg);	/* no pivstation.conf yet */
	} else {
		cli_error("%s", why.msg[0] ? why.msg : pv_strerror(r));
		return cli_exit_for(r);
	}
	return CLI_EXIT_OK;
}

static int
ca_fail(const char *what, enum pv_err r, const struct pv_why *why)
{
	cli_error("%s: %s", what, why->msg[0] ? why->msg : pv_strerror(r));
	/* a missing file or row is no card error (cli_exit_for's reading) */
	return r == PV_E_NOT_FOUND ? CLI_EXIT_FAIL : cli_exit_for(r);
}

/*
 * ca_audit records |action| in the store's audit log when the station has
 * a store; a station without one (CA made before `pivstation init`) has no
 * log to write to.
 */
static int
ca_audit(const struct ca_env *e, const char *action, const char *object,
    const char *detail)
{
	struct pv_why why = { "" };
	struct store *st = NULL;
	enum pv_err r;

	if (!home_exists(&e->home, HOME_STORE))
		return CLI_EXIT_OK;
	if ((r = store_open_home(&e->home, cli_actor(), e->cfg.busy_timeout_ms,
	    &st, &why)) == PV_OK)
		r = audit_append(st, action, object, detail, &why);
	store_close(st);
	if (r != PV_OK)
		return ca_fail("audit log", r, &why);
	return CLI_EXIT_OK;
}

static int
ca_read(const char *path, size_t max, uint8_t **out, size_t *n)
{
	struct pv_why why = { "" };
	enum pv_err r = pkix_read_file(path, max, out, n, &why);

	if (r != PV_OK)
		return ca_fail("read", r, &why);
	return CLI_EXIT_OK;
}

/* ca_write_out writes |p| to |path| (0600, never over a file), or stdout. */
static int
ca_write_out(const char *path, const void *p, size_t n)
{
	struct pv_why why = { "" };
	enum pv_err r;

	if (path == NULL || strcmp(path, "-") == 0) {
		if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
			cli_error("writing to standard output: %s",
			    strerror(errno));
			return CLI_EXIT_FAIL;
		}
		return CLI_EXIT_OK;
	}
	if ((r = pkix_write_file(path, p, n, false, &why)) != PV_OK)
		return ca_fail("write", r, &why);
	return CLI_EXIT_OK;
}

static bool
ca_parse_fd(const char *s, int *out)
{
	unsigned long long v;

	if (!buf_dec_uint(s, INT_MAX, &v))
		return false;
	*out = (int)v;
	return true;
}

/* Options shared by the subcommands that need passphrases. */
enum {
	CA_OPT_PASS_FILE = CLI_OPT__NEXT,
	CA_OPT_PASS_FD,
	CA_OPT_KRA_PASS_FILE,
	CA_OPT_KRA_PASS_FD,
	CA_OPT_NAME,
	CA_OPT_ALG,
	CA_OPT_KRA_ALG,
	CA_OPT_POLICIES,
	CA_OPT_CERT,
	CA_OPT_KEY,
	CA_OPT_CHAIN,
	CA_OPT_KEY_PASS_FILE,
	CA_OPT_PEM,
	CA_OPT_REVOKED,
	CA_OPT_HOURS,
	CA_OPT_SLOT,
	CA_OPT_PUBKEY,
	CA_OPT_FASCN,
	CA_OPT_UUID,
	CA_OPT_EXPIRY,
	CA_OPT_SUBJECT,
	CA_OPT_EMAIL,
	CA_OPT_UPN,
	CA_OPT_OUT,
	CA_OPT_DER,
	CA_OPT_TBS,
	CA_OPT_CONTAINER,
	CA_OPT_CHUID
};

#define CA_PASS_LONGOPTS \
	{ "passphrase-file", required_argument, NULL, CA_OPT_PASS_FILE }, \
	{ "passphrase-fd", required_argument, NULL, CA_OPT_PASS_FD }

struct ca_pass_opts {
	const char *file;
	int fd;
	const char *kra_file;
	int kra_fd;
};

/* ca_pass_opt handles the passphrase options; -1 not one, else exit code. */
static int
ca_pass_opt(const char *cmd, int c, const char *arg, struct ca_pass_opts *o)
{
	switch (c) {
	case CA_OPT_PASS_FILE:
		o->file = arg;
		return CLI_EXIT_OK;
	case CA_OPT_PASS_FD:
		if (!ca_parse_fd(arg, &o->fd))
			return cli_usage_error(cmd, "--passphrase-fd: '%s' is "
			    "not a file descriptor", arg);
		return CLI_EXIT_OK;
	case CA_OPT_KRA_PASS_FILE:
		o->kra_file = arg;
		return CLI_EXIT_OK;
	case CA_OPT_KRA_PASS_FD:
		if (!ca_parse_fd(arg, &o->kra_fd))
			return cli_usage_error(cmd, "--kra-passphrase-fd: '%s' "
			    "is not a file descriptor", arg);
		return CLI_EXIT_OK;
	default:
		return -1;
	}
}

/* ca_get_pass reads the CA passphrase from the options, env, config, tty. */
static int
ca_get_pass(const struct ca_env *e, const struct ca_pass_opts *o,
    bool confirm, struct pkix_pass *out)
{
	return cli_passphrase("CA passphrase", o->file, o->fd, CA_ENV_PASS,
	    NULL, &e->cfg, confirm, out);
}

/* ---- ca init / ca import ----------------------------------------------------- */

static void
ca_print_info(const struct ca *ca, bool json)
{
	struct ca_cert_info info[4];
	int i;

	ca_describe(ca, info);
	if (json) {
		printf("{\"dir\":");
		cli_json_string(stdout, ca_get0_dir(ca));
		for (i = 0; i < 4; i++) {
			printf(",\"%s\":{\"subject\":", info[i].role);
			cli_json_string(stdout, info[i].subject);
			printf(",\"issuer\":");
			cli_json_string(stdout, info[i].issuer);
			printf(",\"serial\":\"%s\",\"not_before\":\"%s\","
			    "\"not_after\":\"%s\",\"key\":\"%s\","
			    "\"sha256\":\"%s\"}", info[i].serial,
			    info[i].not_before, info[i].not_after, info[i].key,
			    info[i].sha256);
		}
		printf("}\n");
		return;
	}
	printf("CA folder  %s\n", ca_get0_dir(ca));
	for (i = 0; i < 4; i++) {
		printf("\n%s\n", info[i].role);
		printf("  subject     %s\n", info[i].subject);
		printf("  issuer      %s\n", info[i].issuer);
		printf("  serial      %s\n", info[i].serial);
		printf("  valid       %s .. %s\n", info[i].not_before,
		    info[i].not_after);
		printf("  key         %s\n", info[i].key);
		printf("  sha256      %s\n", info[i].sha256);
	}
}

static void
ca_init_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation ca init [options]\n"
	    "\n"
	    "Create the station CA in <home>/ca: a root CA, an issuing CA, the PIV\n"
	    "content signer (CHUID and Security Object) and the key recovery agent\n"
	    "(KRA) for key escrow.  Settings come from the [ca] and [policy]\n"
	    "sections of pivstation.conf (defaults without one); options override.\n"
	    "Private keys are stored encrypted (PKCS#8, scrypt, AES-256-CBC).\n"
	    "\n"
	    "  --name DN                   CA name prefix, e.g. \"C=US, O=Agency\"\n"
	    "  --alg ALG                   p256, p384, rsa2048, rsa3072, rsa4096\n"
	    "  --kra-alg ALG               the KRA key (default: --alg)\n"
	    "  --policies test|production  FPKI test (CITE) or production OIDs\n"
	    "  --passphrase-file FILE      CA passphrase: first line of FILE\n"
	    "  --passphrase-fd N           CA passphrase: first line read from N\n"
	    "  --kra-passphrase-file FILE  KRA passphrase (default: the CA's)\n"
	    "  --kra-passphrase-fd N\n"
	    "Without those: $" CA_ENV_PASS " / $" CA_ENV_KRA_PASS ",\n"
	    "then [ca] passphrase, then a prompt (only on a terminal).\n");
}

static void
ca_import_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation ca import --cert FILE --key FILE [--chain FILE]\n"
	    "                            [options]\n"
	    "\n"
	    "Use an existing CA: FILE's certificate (PEM or DER; further PEM\n"
	    "certificates in it count as chain) becomes the issuing CA, its key\n"
	    "is re-encrypted under the CA passphrase, and a content signer and a\n"
	    "KRA are created under it.  The chain must lead to a self-signed root.\n"
	    "\n"
	    "  --key-passphrase-file FILE  passphrase of an encrypted --key\n"
	    "  --kra-alg ALG, --passphrase-file/-fd, --kra-passphrase-file/-fd\n"
	    "                              as for 'ca init'\n");
}

static int
ca_cmd_init(struct cli_global *g, int argc, char **argv, bool import)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CA_PASS_LONGOPTS,
		{ "kra-passphrase-file", required_argument, NULL,
		  CA_OPT_KRA_PASS_FILE },
		{ "kra-passphrase-fd", required_argument, NULL,
		  CA_OPT_KRA_PASS_FD },
		{ "name", required_argument, NULL, CA_OPT_NAME },
		{ "alg", required_argument, NULL, CA_OPT_ALG },
		{ "kra-alg", required_argument, NULL, CA_OPT_KRA_ALG },
		{ "policies", required_argument, NULL, CA_OPT_POLICIES },
		{ "cert", required_argument, NULL, CA_OPT_CERT },
		{ "key", required_argument, NULL, CA_OPT_KEY },
		{ "chain", required_argument, NULL, CA_OPT_CHAIN },
		{ "key-passphrase-file", required_argument, NULL,
		  CA_OPT_KEY_PASS_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = import ? "ca import" : "ca init";
	struct ca_pass_opts po = { NULL, -1, NULL, -1 };
	struct ca_init_params p;
	struct ca_env e;
	struct pkix_pass pass, kra_pass, key_pass;
	struct pv_why why = { "" };
	const char *name = NULL, *alg = NULL, *kra_alg = NULL, *pol = NULL;
	const char *cert_path = NULL, *key_path = NULL, *chain_path = NULL;
	const char *key_pass_path = NULL;
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	struct ca *ca = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	enum pv_err r;
	int c, rc;

	memset(&pass, 0, sizeof(pass));
	memset(&kra_pass, 0, sizeof(kra_pass));
	memset(&key_pass, 0, sizeof(key_pass));
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if ((rc = ca_pass_opt(cmd, c, optarg, &po)) >= 0) {
			if (rc != CLI_EXIT_OK)
				return rc;
			continue;
		}
		switch (c) {
		case CA_OPT_NAME: name = optarg; break;
		case CA_OPT_ALG: alg = optarg; break;
		case CA_OPT_KRA_ALG: kra_alg = optarg; break;
		case CA_OPT_POLICIES: pol = optarg; break;
		case CA_OPT_CERT: cert_path = optarg; break;
		case CA_OPT_KEY: key_path = optarg; break;
		case CA_OPT_CHAIN: chain_path = optarg; break;
		case CA_OPT_KEY_PASS_FILE: key_pass_path = optarg; break;
		case 'h':
			(import ? ca_import_help : ca_init_help)(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
		    argv[optind]);
	if (import && (cert_path == NULL || key_path == NULL))
		return cli_usage_error(cmd, "--cert and --key are required");
	if (!import && (cert_path || key_path || chain_path || key_pass_path))
		return cli_usage_error(cmd, "--cert/--key/--chain belong to "
		    "'ca import'");
	(void)secret_harden_process();
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		return rc;

	/* settings: config, then options */
	if ((r = ca_params_from_config(&e.cfg, &p, &why)) != PV_OK)
		return ca_fail("pivstation.conf", r, &why);
	if (name != NULL && (r = pkix_dn_parse(name, &p.name, &why)) != PV_OK)
		return cli_usage_error(cmd, "--name: %s", why.msg);
	if (alg != NULL) {
		if ((r = pkix_alg_parse(alg, &p.root_alg, &why)) != PV_OK)
			return cli_usage_error(cmd, "--alg: %s", why.msg);
		p.issuing_alg = p.signer_alg = p.kra_alg = p.root_alg;
	}
	if (kra_alg != NULL && (r = pkix_alg_parse(kra_alg, &p.kra_alg,
	    &why)) != PV_OK)
		return cli_usage_error(cmd, "--kra-alg: %s", why.msg);
	if (pol != NULL) {
		if ((r = pkix_policy_set_parse(pol, &p.policies, &why)) != PV_OK)
			return cli_usage_error(cmd, "--policies: %s", why.msg);
		/* the OIDs of the other set no longer apply */
		p.n_signer_policies = 0;
		p.n_extra_policies = 0;
	}

	if (import) {
		if ((rc = ca_read(cert_path, CA_IN_MAX, &buf, &n)) != CLI_EXIT_OK)
			goto out;
		r = pkix_certs_from_bytes(buf, n, &certs, &why);
		OPENSSL_free(buf);
		buf = NULL;
		if (r != PV_OK) {
			rc = ca_fail(cert_path, r, &why);
			goto out;
		}
		cert = sk_X509_shift(certs);
		chain = certs;	/* the rest of the file */
		certs = NULL;
		if (chain_path != NULL) {
			STACK_OF(X509) *more = NULL;
			int i;

			if ((rc = ca_read(chain_path, CA_IN_MAX, &buf, &n)) !=
			    CLI_EXIT_OK)
				goto out;
			r = pkix_certs_from_bytes(buf, n, &more, &why);
			OPENSSL_free(buf);
			buf = NULL;
			if (r != PV_OK) {
				rc = ca_fail(chain_path, r, &why);
				goto out;
			}
			for (i = 0; i < sk_X509_num(more); i++)
				(void)sk_X509_push(chain, sk_X509_value(more, i));
			sk_X509_free(more);	/* certificates moved */
		}
		if (key_pass_path != NULL &&
		    (rc = cli_passphrase("key passphrase", key_pass_path, -1,
		    NULL, NULL, NULL, false, &key_pass)) != CLI_EXIT_OK)
			goto out;
		if ((rc = ca_read(key_path, CA_IN_MAX, &buf, &n)) != CLI_EXIT_OK)
			goto out;
		r = pkix_key_from_bytes(buf, n, key_pass_path ? key_pass.v :
		    NULL, key_pass.len, &key, &why);
		OPENSSL_clear_free(buf, n + 1);
		buf = NULL;
		if (r != PV_OK) {
			rc = ca_fail(key_path, r, &why);
			goto out;
		}
	}

	if ((r = home_create(&e.home, NULL, &why)) != PV_OK) {
		rc = ca_fail("station home", r, &why);
		goto out;
	}
	if ((rc = ca_get_pass(&e, &po, true, &pass)) != CLI_EXIT_OK)
		goto out;
	if (po.kra_file != NULL || po.kra_fd >= 0 ||
	    getenv(CA_ENV_KRA_PASS) != NULL) {
		if ((rc = cli_passphrase("KRA passphrase", po.kra_file,
		    po.kra_fd, CA_ENV_KRA_PASS, NULL, NULL, true, &kra_pass)) !=
		    CLI_EXIT_OK)
			goto out;
	} else {
		kra_pass = pass;
	}
	if (import)
		r = ca_import(e.dir, cert, key, chain, &p, &pass, &kra_pass,
		    time(NULL), &why);
	else
		r = ca_init(e.dir, &p, &pass, &kra_pass, time(NULL), &why);
	if (r != PV_OK) {
		rc = ca_fail(cmd, r, &why);
		goto out;
	}
	if ((r = ca_open(e.dir, NULL, &ca, &why)) != PV_OK) {
		rc = ca_fail(cmd, r, &why);
		goto out;
	}
	{
		struct ca_cert_info info[4];
		char detail[512];

		ca_describe(ca, info);
		(void)snprintf(detail, sizeof(detail),
		    "{\"issuing_serial\":\"%s\",\"signer_serial\":\"%s\","
		    "\"kra_serial\":\"%s\",\"imported\":%s}", info[1].serial,
		    info[2].serial, info[3].serial, import ? "true" : "false");
		if ((rc = ca_audit(&e, import ? "ca.import" : "ca.init",
		    "ca", detail)) != CLI_EXIT_OK)
			goto out;
	}
	ca_print_info(ca, g->json);
	rc = CLI_EXIT_OK;
out:
	pkix_pass_clear(&pass);
	pkix_pass_clear(&kra_pass);
	pkix_pass_clear(&key_pass);
	ca_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* ---- ca show ------------------------------------------------------------------- */

static int
ca_cmd_show(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "pem", no_argument, NULL, CA_OPT_PEM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_env e;
	struct ca *ca = NULL;
	struct pv_why why = { "" };
	bool pem = false;
	enum pv_err r;
	int c, rc, i;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case CA_OPT_PEM:
			pem = true;
			break;
		case 'h':
			printf("usage: pivstation ca show [--pem] [--json]\n\n"
			    "Subjects, serials, validity, key types and SHA-256\n"
			    "fingerprints of the CA certificates; --pem prints the\n"
			    "chain (issuing CA, then root) as PEM instead.\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("ca show", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("ca show", "unexpected argument '%s'",
		    argv[optind]);
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		return rc;
	if ((r = ca_open(e.dir, NULL, &ca, &why)) != PV_OK)
		return ca_fail("ca show", r, &why);
	if (pem) {
		for (i = 0; i < sk_X509_num(ca_get0_chain(ca)); i++)
			if (!PEM_write_X509(stdout, sk_X509_value(
			    ca_get0_chain(ca), i))) {
				ca_free(ca);
				cli_error("ca show: writing PEM failed");
				return CLI_EXIT_FAIL;
			}
	} else {
		ca_print_info(ca, g->json);
	}
	ca_free(ca);
	return CLI_EXIT_OK;
}

/* ---- ca crl -------------------------------------------------------------------- */

/*
 * ca_revoked_file reads "SERIALHEX [UNIXTIME [REASON]]" lines (# comments)
 * into a new array.
 */
static int
ca_revoked_file(const char *path, struct ca_revoked **out, size_t *n_out)
{
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, cnt = 0, line = 0;
	struct ca_revoked *rv = NULL, *grow;
	char *save = NULL, *l;
	int rc;

	*out = NULL;
	*n_out = 0;
	if ((rc = ca_read(path, CA_IN_MAX, &buf, &n)) != CLI_EXIT_OK)
		return rc;
	for (l = strtok_r((char *)buf, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		char hex[64] = "";
		long long when = 0;
		int reason = -1, got;
		unsigned k;
		size_t hl, i;

		line++;
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '#' || *l == '\0' || *l == '\r')
			continue;
		got = sscanf(l, "%63s %lld %d", hex, &when, &reason);
		hl = strlen(hex);
		if (got < 1 || hl == 0 || hl % 2 != 0 || hl > 40) {
			cli_error("%s:%zu: expected SERIALHEX [UNIXTIME "
			    "[REASON]]", path, line);
			rc = CLI_EXIT_INPUT;
			goto out;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grow = realloc(rv, cap * sizeof(*rv))) == NULL) {
				cli_error("out of memory");
				rc = CLI_EXIT_FAIL;
				goto out;
			}
			rv = grow;
		}
		memset(&rv[cnt], 0, sizeof(rv[cnt]));
		for (i = 0; i < hl / 2; i++) {
			if (sscanf(hex + 2 * i, "%2x", &k) != 1) {
				cli_error("%s:%zu: '%s' is not hex", path, line,
				    hex);
				rc = CLI_EXIT_INPUT;
				goto out;
			}
			rv[cnt].serial[i] = (uint8_t)k;
		}
		rv[cnt].serial_len = hl / 2;
		rv[cnt].revoked_at = got >= 2 ? (time_t)when : time(NULL);
		rv[cnt].reason = got >= 3 ? reason : -1;
		cnt++;
	}
	*out = rv;
	*n_out = cnt;
	rv = NULL;
	rc = CLI_EXIT_OK;
out:
	free(rv);
	OPENSSL_free(buf);
	return rc;
}

/* ca_revoked_store lists the store's revoked and on-hold certificates. */
static int
ca_revoked_store(struct store *st, struct ca_revoked **out, size_t *n_out)
{
	struct store_cert *list = NULL;
	struct ca_revoked *rv = NULL;
	struct pv_why why = { "" };
	size_t n = 0, i, j;
	enum pv_err r;
	unsigned k;

	*out = NULL;
	*n_out = 0;
	if ((r = store_cert_list_crl(st, &list, &n, &why)) != PV_OK)
		return ca_fail("store", r, &why);
	if (n > 0 && (rv = calloc(n, sizeof(*rv))) == NULL) {
		store_cert_free_list(list, n);
		cli_error("out of memory");
		return CLI_EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		size_t hl = strlen(list[i].serial);

		for (j = 0; j < hl / 2 && j < sizeof(rv[i].serial); j++) {
			if (sscanf(list[i].serial + 2 * j, "%2x", &k) != 1)
				break;
			rv[i].serial[j] = (uint8_t)k;
		}
		rv[i].serial_len = j;
		rv[i].revoked_at = (time_t)list[i].revoked_at;
		rv[i].reason = list[i].reason;
	}
	store_cert_free_list(list, n);
	*out = rv;
	*n_out = n;
	return CLI_EXIT_OK;
}

static int
ca_cmd_crl(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CA_PASS_LONGOPTS,
		{ "revoked", required_argument, NULL, CA_OPT_REVOKED },
		{ "hours", required_argument, NULL, CA_OPT_HOURS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_pass_opts po = { NULL, -1, NULL, -1 };
	struct ca_env e;
	struct pkix_pass pass;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	struct store *st = NULL;
	struct ca_revoked *rv = NULL;
	const char *revoked = NULL;
	unsigned long long hours = 168;
	uint64_t number = 0;
	uint8_t *der = NULL;
	size_t n_rv = 0, der_len = 0;
	bool found = false;
	enum pv_err r;
	int c, rc;

	memset(&pass, 0, sizeof(pass));
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if ((rc = ca_pass_opt("ca crl", c, optarg, &po)) >= 0) {
			if (rc != CLI_EXIT_OK)
				return rc;
			continue;
		}
		switch (c) {
		case CA_OPT_REVOKED:
			revoked = optarg;
			break;
		case CA_OPT_HOURS:
			if (!buf_dec_uint(optarg, 24 * 366, &hours) || hours == 0)
				return cli_usage_error("ca crl", "--hours: 1 to "
				    "8784");
			break;
		case 'h':
			printf("usage: pivstation ca crl [--hours N] "
			    "[--revoked FILE] [passphrase options]\n\n"
			    "Sign and publish the issuing CA's CRL as <home>/ca/"
			    "crl.der and crl.pem.\nRevoked certificates and the "
			    "CRL number come from the store; a station\nwithout "
			    "a store takes them from --revoked FILE (lines "
			    "\"SERIALHEX [UNIXTIME\n[REASON]]\") and numbers "
			    "CRLs after the last one published.\n"
			    "  --hours N   next update in N hours (default 168)\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("ca crl", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("ca crl", "unexpected argument '%s'",
		    argv[optind]);
	(void)secret_harden_process();
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		return rc;
	if ((rc = ca_get_pass(&e, &po, false, &pass)) != CLI_EXIT_OK)
		goto out;
	if ((r = ca_open_keys(e.dir, &pass, CA_KEY_ISSUING, &ca, &why)) !=
	    PV_OK) {
		rc = ca_fail("ca crl", r, &why);
		goto out;
	}
	if (home_exists(&e.home, HOME_STORE) && revoked == NULL) {
		if ((r = store_open_home(&e.home, cli_actor(),
		    e.cfg.busy_timeout_ms, &st, &why)) != PV_OK) {
			rc = ca_fail("store", r, &why);
			goto out;
		}
		if ((rc = ca_revoked_store(st, &rv, &n_rv)) != CLI_EXIT_OK)
			goto out;
		if ((r = store_crl_number_next(st, &number, &why)) != PV_OK) {
			rc = ca_fail("store", r, &why);
			goto out;
		}
	} else {
		if (revoked != NULL && (rc = ca_revoked_file(revoked, &rv,
		    &n_rv)) != CLI_EXIT_OK)
			goto out;
		if ((r = ca_crl_last_number(e.dir, &number, &found, &why)) !=
		    PV_OK) {
			rc = ca_fail("ca crl", r, &why);
			goto out;
		}
		number = found ? number + 1 : 1;
	}
	if ((r = ca_crl_make(ca, rv, n_rv, number, time(NULL), (unsigned)hours,
	    &der, &der_len, &why)) != PV_OK ||
	    (r = ca_crl_publish(ca, der, der_len, &why)) != PV_OK) {
		rc = ca_fail("ca crl", r, &why);
		goto out;
	}
	if (st != NULL) {
		char detail[96];

		(void)snprintf(detail, sizeof(detail),
		    "{\"crl_number\":%llu,\"entries\":%zu}",
		    (unsigned long long)number, n_rv);
		if ((r = audit_append(st, "crl.publish", "ca", detail, &why)) !=
		    PV_OK) {
			rc = ca_fail("audit log", r, &why);
			goto out;
		}
	}
	if (g->json) {
		printf("{\"crl_number\":%llu,\"entries\":%zu,\"der\":",
		    (unsigned long long)number, n_rv);
		{
			char path[HOME_PATH_MAX + 16];

			(void)snprintf(path, sizeof(path), "%s/%s", e.dir,
			    CA_FILE_CRL_DER);
			cli_json_string(stdout, path);
		}
		printf("}\n");
	} else {
		printf("CRL %llu published: %zu revoked, %s/%s and %s\n",
		    (unsigned long long)number, n_rv, e.dir, CA_FILE_CRL_DER,
		    CA_FILE_CRL_PEM);
	}
	rc = CLI_EXIT_OK;
out:
	pkix_pass_clear(&pass);
	OPENSSL_free(der);
	free(rv);
	store_close(st);
	ca_free(ca);
	return rc;
}

/* ---- tools: ca issue, ca sign-chuid, ca verify-chuid, ca secobj ------------------ */

/* FASC-N as 50 hex digits or the "S9999F...E" string form. */
static int
ca_fascn_arg(const char *s, uint8_t out[25])
{
	struct pv_why why = { "" };
	struct fascn f;
	enum pv_err r;

	if (buf_unhex(s, strlen(s), out, 25))
		return CLI_EXIT_OK;
	if ((r = fascn_from_string(s, &f, &why)) != PV_OK ||
	    (r = fascn_encode(&f, out, &why)) != PV_OK)
		return cli_usage_error("ca issue", "--fascn: %s", why.msg);
	return CLI_EXIT_OK;
}

/* YYYY-MM-DD or YYYYMMDD: the end of that day, UTC. */
static bool
ca_date_arg(const char *s, time_t *out)
{
	struct tm tm;
	int y, m, d;
	char tail;

	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 &&
	    (strlen(s) != 8 || sscanf(s, "%4d%2d%2d%c", &y, &m, &d, &tail) != 3))
		return false;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	*out = timegm(&tm);
	return tm.tm_mday == d;	/* timegm normalised 2026-02-31 */
}

static int
ca_cmd_issue(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CA_PASS_LONGOPTS,
		{ "slot", required_argument, NULL, CA_OPT_SLOT },
		{ "pubkey", required_argument, NULL, CA_OPT_PUBKEY },
		{ "fascn", required_argument, NULL, CA_OPT_FASCN },
		{ "uuid", required_argument, NULL, CA_OPT_UUID },
		{ "expiry", required_argument, NULL, CA_OPT_EXPIRY },
		{ "subject", required_argument, NULL, CA_OPT_SUBJECT },
		{ "email", required_argument, NULL, CA_OPT_EMAIL },
		{ "upn", required_argument, NULL, CA_OPT_UPN },
		{ "policies", required_argument, NULL, CA_OPT_POLICIES },
		{ "out", required_argument, NULL, CA_OPT_OUT },
		{ "der", no_argument, NULL, CA_OPT_DER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_pass_opts po = { NULL, -1, NULL, -1 };
	struct ca_env e;
	struct pkix_pass pass;
	struct profile_cfg cfg;
	struct profile_subject subj;
	struct profile_card card;
	struct profile_issued info;
	struct pv_why why = { "" };
	const char *pub_path = NULL, *out_path = NULL, *subject = NULL;
	const char *pol = NULL;
	bool have_fascn = false, have_uuid = false, have_expiry = false;
	bool der = false;
	unsigned long slot = 0;
	struct ca *ca = NULL;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	uint8_t *buf = NULL;
	char *pem = NULL;
	size_t n = 0;
	enum pv_err r;
	int c, rc;

	memset(&pass, 0, sizeof(pass));
	memset(&subj, 0, sizeof(subj));
	memset(&card, 0, sizeof(card));
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if ((rc = ca_pass_opt("ca issue", c, optarg, &po)) >= 0) {
			if (rc != CLI_EXIT_OK)
				return rc;
			continue;
		}
		switch (c) {
		case CA_OPT_SLOT:
			/* exactly two hex digits: "9ax" is not 9a */
			slot = strlen(optarg) == 2 ?
			    strtoul(optarg, NULL, 16) : 0;
			if (slot != 0x9a && slot != 0x9c && slot != 0x9d &&
			    slot != 0x9e)
				return cli_usage_error("ca issue",
				    "--slot: 9a, 9c, 9d or 9e");
			break;
		case CA_OPT_PUBKEY: pub_path = optarg; break;
		case CA_OPT_FASCN:
			if ((rc = ca_fascn_arg(optarg, card.fascn)) !=
			    CLI_EXIT_OK)
				return rc;
			have_fascn = true;
			break;
		case CA_OPT_UUID:
			if (pkix_uuid_parse(optarg, card.uuid, &why) != PV_OK)
				return cli_usage_error("ca issue", "--uuid: %s",
				    why.msg);
			have_uuid = true;
			break;
		case CA_OPT_EXPIRY:
			if (!ca_date_arg(optarg, &card.expiry))
				return cli_usage_error("ca issue", "--expiry: "
				    "expected YYYY-MM-DD");
			have_expiry = true;
			break;
		case CA_OPT_SUBJECT: subject = optarg; break;
		case CA_OPT_EMAIL:
			(void)snprintf(subj.email, sizeof(subj.email), "%s",
			    optarg);
			break;
		case CA_OPT_UPN:
			(void)snprintf(subj.upn, sizeof(subj.upn), "%s", optarg);
			break;
		case CA_OPT_POLICIES: pol = optarg; break;
		case CA_OPT_OUT: out_path = optarg; break;
		case CA_OPT_DER: der = true; break;
		case 'h':
			printf("usage: pivstation ca issue --slot 9a|9c|9d|9e "
			    "--pubkey FILE --fascn FASCN\n"
			    "        --uuid UUID --expiry YYYY-MM-DD "
			    "[--subject DN] [--email ADDR] [--upn UPN]\n"
			    "        [--policies test|production] [--out FILE] "
			    "[--der] [passphrase options]\n\n"
			    "Issue one PIV certificate for a public key made "
			    "elsewhere, with the slot's\nprofile and the "
			    "[certificates]/[policy]/[urls] settings.  A tool "
			    "for scripts\nand tests: the certificate is NOT "
			    "recorded in the store ('pivstation issue'\nis the "
			    "way to issue cards).  FASCN: 50 hex digits or "
			    "S9999F...E.\nThe serial goes to standard error.\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("ca issue", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("ca issue", "unexpected argument '%s'",
		    argv[optind]);
	if (slot == 0 || pub_path == NULL || !have_fascn || !have_uuid ||
	    !have_expiry)
		return cli_usage_error("ca issue", "--slot, --pubkey, --fascn, "
		    "--uuid and --expiry are required");
	if (subject != NULL && (r = pkix_dn_parse(subject, &subj.dn, &why)) !=
	    PV_OK)
		return cli_usage_error("ca issue", "--subject: %s", why.msg);
	(void)secret_harden_process();
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		return rc;
	if ((r = profile_cfg_from_config(&e.cfg, &cfg, &why)) != PV_OK)
		return ca_fail("pivstation.conf", r, &why);
	if (pol != NULL) {
		if (pkix_policy_set_parse(pol, &cfg.policies, &why) != PV_OK)
			return cli_usage_error("ca issue", "--policies: %s",
			    why.msg);
		memset(cfg.policy, 0, sizeof(cfg.policy));
	}
	if ((rc = ca_read(pub_path, CA_IN_MAX, &buf, &n)) != CLI_EXIT_OK)
		goto out;
	if ((r = pkix_pubkey_from_bytes(buf, n, &pub, &why)) != PV_OK) {
		rc = ca_fail(pub_path, r, &why);
		goto out;
	}
	if ((rc = ca_get_pass(&e, &po, false, &pass)) != CLI_EXIT_OK)
		goto out;
	if ((r = ca_open_keys(e.dir, &pass, CA_KEY_ISSUING, &ca, &why)) !=
	    PV_OK ||
	    (r = profile_issue(ca, pub, (uint8_t)slot, &subj, &card, &cfg,
	    time(NULL), &x, &info, &why)) != PV_OK) {
		rc = ca_fail("ca issue", r, &why);
		goto out;
	}
	{
		char hex[PKIX_SERIAL_HEX_LEN];

		pkix_serial_hex(x, hex);
		fprintf(stderr, "serial %s\n", hex);
	}
	if (der) {
		uint8_t *d = NULL;

		if ((r = pkix_cert_to_der(x, &d, &n, &why)) != PV_OK) {
			rc = ca_fail("ca issue", r, &why);
			goto out;
		}
		rc = ca_write_out(out_path, d, n);
		OPENSSL_free(d);
	} else {
		if ((r = pkix_cert_to_pem(x, &pem, &n, &why)) != PV_OK) {
			rc = ca_fail("ca issue", r, &why);
			goto out;
		}
		rc = ca_write_out(out_path, pem, n);
	}
out:
	pkix_pass_clear(&pass);
	OPENSSL_free(buf);
	OPENSSL_free(pem);
	EVP_PKEY_free(pub);
	X509_free(x);
	ca_free(ca);
	return rc;
}

/*
 * ca_cmd_sign: `ca sign-chuid --tbs FILE` (the 3E value over FILE's bytes)
 * and `ca secobj --container DG:CID:FILE ...` (the 5FC106 contents).
 */
static int
ca_cmd_sign(struct cli_global *g, int argc, char **argv, bool secobj)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CA_PASS_LONGOPTS,
		{ "tbs", required_argument, NULL, CA_OPT_TBS },
		{ "container", required_argument, NULL, CA_OPT_CONTAINER },
		{ "out", required_argument, NULL, CA_OPT_OUT },
		{ "signer-cert", required_argument, NULL, CA_OPT_CERT },
		{ "signer-key", required_argument, NULL, CA_OPT_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = secobj ? "ca secobj" : "ca sign-chuid";
	struct ca_pass_opts po = { NULL, -1, NULL, -1 };
	struct ca_env e;
	struct pkix_pass pass;
	struct pv_why why = { "" };
	struct secobj_entry ent[SECOBJ_MAX_ENTRIES];
	uint8_t *data[SECOBJ_MAX_ENTRIES];
	const char *tbs_path = NULL, *out_path = NULL;
	const char *signer_path = NULL, *key_path = NULL;
	STACK_OF(X509) *signer_sk = NULL;
	EVP_PKEY *signer_key = NULL;
	X509 *signer;
	EVP_PKEY *skey;
	struct ca *ca = NULL;
	uint8_t *tbs = NULL, *res = NULL;
	size_t tbs_len = 0, res_len = 0, n_ent = 0, i;
	enum pv_err r;
	int c, rc;

	memset(&pass, 0, sizeof(pass));
	memset(ent, 0, sizeof(ent));
	memset(data, 0, sizeof(data));
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if ((rc = ca_pass_opt(cmd, c, optarg, &po)) >= 0) {
			if (rc != CLI_EXIT_OK)
				goto out;
			continue;
		}
		switch (c) {
		case CA_OPT_TBS:
			tbs_path = optarg;
			break;
		case CA_OPT_CONTAINER: {
			unsigned dg, cid;
			int used = 0;

			if (n_ent == SECOBJ_MAX_ENTRIES ||
			    sscanf(optarg, "%u:%4x:%n", &dg, &cid, &used) != 2 ||
			    used == 0 || optarg[used] == '\0' || dg > 127) {
				rc = cli_usage_error(cmd, "--container: "
				    "DG:CONTAINERID:FILE, e.g. 1:3000:chuid.bin "
				    "(at most %d)", SECOBJ_MAX_ENTRIES);
				goto out;
			}
			if ((rc = ca_read(optarg + used, CA_IN_MAX,
			    &data[n_ent], &ent[n_ent].len)) != CLI_EXIT_OK)
				goto out;
			ent[n_ent].dg = (uint8_t)dg;
			ent[n_ent].container_id = (uint16_t)cid;
			ent[n_ent].data = data[n_ent];
			n_ent++;
			break;
		}
		case CA_OPT_OUT:
			out_path = optarg;
			break;
		case CA_OPT_CERT:
			signer_path = optarg;
			break;
		case CA_OPT_KEY:
			key_path = optarg;
			break;
		case 'h':
			if (secobj)
				printf("usage: pivstation ca secobj --container "
				    "DG:CID:FILE ... [--out FILE]\n\n"
				    "Build the Security Object (BA map, BB "
				    "signed LDS object, FE) over the\ngiven "
				    "containers' contents, signed by the content "
				    "signer.  A tool for\nscripts and tests.\n");
			else
				printf("usage: pivstation ca sign-chuid --tbs "
				    "FILE [--out FILE]\n"
				    "       [--signer-cert FILE --signer-key FILE]"
				    "\n\n"
				    "Sign FILE's bytes (a CHUID without EE and "
				    "3E) as PIV-REFERENCE section 6\nsays; "
				    "writes the DER CMS that goes in tag 3E.  A "
				    "tool for scripts and tests.\n"
				    "  --signer-cert, --signer-key  sign with this "
				    "certificate and unencrypted\n"
				    "               key instead of the station's "
				    "content signer (test CHUIDs)\n");
			rc = CLI_EXIT_OK;
			goto out;
		default:
			rc = cli_usage_error(cmd, "unknown option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = cli_usage_error(cmd, "unexpected argument '%s'",
		    argv[optind]);
		goto out;
	}
	if ((signer_path == NULL) != (key_path == NULL) ||
	    (secobj && signer_path != NULL)) {
		rc = cli_usage_error(cmd, "--signer-cert and --signer-key go "
		    "together, with sign-chuid");
		goto out;
	}
	if (secobj ? n_ent == 0 : tbs_path == NULL) {
		rc = cli_usage_error(cmd, secobj ? "--container is required" :
		    "--tbs is required");
		goto out;
	}
	(void)secret_harden_process();
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		goto out;
	if (!secobj && (rc = ca_read(tbs_path, CA_IN_MAX, &tbs, &tbs_len)) !=
	    CLI_EXIT_OK)
		goto out;
	if (signer_path != NULL) {
		uint8_t *b = NULL;
		size_t bn = 0;

		if ((rc = ca_read(signer_path, CA_IN_MAX, &b, &bn)) !=
		    CLI_EXIT_OK)
			goto out;
		r = pkix_certs_from_bytes(b, bn, &signer_sk, &why);
		OPENSSL_free(b);
		if (r != PV_OK) {
			rc = ca_fail(signer_path, r, &why);
			goto out;
		}
		if ((rc = ca_read(key_path, CA_IN_MAX, &b, &bn)) != CLI_EXIT_OK)
			goto out;
		r = pkix_key_from_bytes(b, bn, NULL, 0, &signer_key, &why);
		OPENSSL_clear_free(b, bn);
		if (r != PV_OK) {
			rc = ca_fail(key_path, r, &why);
			goto out;
		}
		signer = sk_X509_value(signer_sk, 0);
		skey = signer_key;
	} else {
		if ((rc = ca_get_pass(&e, &po, false, &pass)) != CLI_EXIT_OK)
			goto out;
		if ((r = ca_open_keys(e.dir, &pass, CA_KEY_SIGNER, &ca,
		    &why)) != PV_OK) {
			rc = ca_fail(cmd, r, &why);
			goto out;
		}
		signer = ca_get0_signer(ca);
		skey = ca_get0_signer_key(ca);
	}
	if (secobj)
		r = secobj_build(signer, skey, ent, n_ent, &res, &res_len, &why);
	else
		r = chuid_sign(signer, skey, tbs, tbs_len, &res, &res_len, &why);
	if (r != PV_OK) {
		rc = ca_fail(cmd, r, &why);
		goto out;
	}
	rc = ca_write_out(out_path, res, res_len);
out:
	pkix_pass_clear(&pass);
	for (i = 0; i < n_ent; i++)
		OPENSSL_free(data[i]);
	OPENSSL_free(tbs);
	OPENSSL_free(res);
	sk_X509_pop_free(signer_sk, X509_free);
	EVP_PKEY_free(signer_key);
	ca_free(ca);
	return rc;
}

/* `ca verify-chuid --chuid FILE`: a whole CHUID's contents against the CA. */
static int
ca_cmd_verify_chuid(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "chuid", required_argument, NULL, CA_OPT_CHUID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_env e;
	struct pv_why why = { "" };
	const char *path = NULL;
	struct ca *ca = NULL;
	X509_STORE *st = NULL;
	uint8_t *p = NULL;
	size_t n = 0;
	enum pv_err r;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case CA_OPT_CHUID:
			path = optarg;
			break;
		case 'h':
			printf("usage: pivstation ca verify-chuid --chuid FILE\n"
			    "\nCheck a CHUID's contents (the value inside 53): "
			    "its signature's shape\n(PIV-REFERENCE section 6), "
			    "the signature, and the signer's path to this\n"
			    "station's CA.\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("ca verify-chuid",
			    "unknown option");
		}
	}
	if (path == NULL || optind < argc)
		return cli_usage_error("ca verify-chuid", "--chuid FILE is "
		    "required");
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		return rc;
	if ((rc = ca_read(path, CA_IN_MAX, &p, &n)) != CLI_EXIT_OK)
		return rc;
	if ((r = ca_open(e.dir, NULL, &ca, &why)) != PV_OK ||
	    (r = ca_trust_store(ca, &st, &why)) != PV_OK ||
	    (r = chuid_verify_object(p, n, st, NULL, &why)) != PV_OK) {
		rc = ca_fail("ca verify-chuid", r, &why);
		goto out;
	}
	if (g->json)
		printf("{\"chuid_signature\":\"valid\"}\n");
	else
		printf("CHUID signature valid\n");
	rc = CLI_EXIT_OK;
out:
	X509_STORE_free(st);
	ca_free(ca);
	OPENSSL_free(p);
	return rc;
}

/* ---- ca publish ---------------------------------------------------------------- */

static int
ca_cmd_publish(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_publish_result res;
	struct pv_why why = { "" };
	struct ca_env e;
	enum pv_err r;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: pivstation ca publish DIR [--json]\n\n"
			    "Write what relying parties fetch into DIR, for a web "
			    "server to serve\nas it is: the issuing CA "
			    "certificate as a certs-only CMS (.p7c) at\nthe path "
			    "of [urls] ca_issuers, the CRL last signed by 'ca "
			    "crl' at\nthe path of [urls] crl.  No passphrase "
			    "needed.\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("ca publish", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("ca publish", "expected one folder DIR");
	if ((rc = ca_env_load(g, &e)) != CLI_EXIT_OK)
		return rc;
	if (!e.have_cfg)
		config_defaults(&e.cfg);
	if ((r = ca_publish(e.dir, &e.cfg, argv[optind], &res, &why)) !=
	    PV_OK)
		return ca_fail("ca publish", r, &why);
	if (g->json) {
		printf("{\"crl\":");
		cli_json_string(stdout, res.crl_file);
		printf(",\"crl_number\":");
		cli_json_string(stdout, res.crl_number);
		printf(",\"p7c\":");
		cli_json_string(stdout, res.p7c_file);
		printf(",\"certificates\":%u}\n", res.n_certs);
	} else {
		if (res.crl_file[0])
			printf("CRL %s: %s\n", res.crl_number, res.crl_file);
		if (res.p7c_file[0])
			printf("issuing CA certificate (certs-only CMS): %s\n",
			    res.p7c_file);
	}
	return CLI_EXIT_OK;
}

/* ---- dispatch ---------------------------------------------------------------- */

static void
ca_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation ca SUBCOMMAND [options]\n"
	    "\n"
	    "The station CA (in <home>/ca):\n"
	    "  init           create root, issuing CA, content signer and KRA\n"
	    "  import         use an existing CA certificate and key\n"
	    "  show           subjects, serials, validity, fingerprints; --pem\n"
	    "  crl            sign and publish the CRL\n"
	    "  publish DIR    the CRL and the issuing CA certificate (.p7c) for\n"
	    "                 a web server, at the paths of the [urls]\n"
	    "Tools for scripts and tests (nothing recorded in the store):\n"
	    "  issue          one PIV certificate for a public key\n"
	    "  sign-chuid     the CHUID signature (tag 3E) over given bytes\n"
	    "  verify-chuid   check a CHUID's signature against the CA\n"
	    "  secobj         a Security Object over given containers\n"
	    "\n"
	    "'pivstation ca SUBCOMMAND --help' for each.\n");
}

int
cli_cmd_ca(struct cli_global *g, int argc, char **argv)
{
	const char *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		ca_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	if (strcmp(sub, "init") == 0)
		return ca_cmd_init(g, argc, argv, false);
	if (strcmp(sub, "import") == 0)
		return ca_cmd_init(g, argc, argv, true);
	if (strcmp(sub, "show") == 0)
		return ca_cmd_show(g, argc, argv);
	if (strcmp(sub, "crl") == 0)
		return ca_cmd_crl(g, argc, argv);
	if (strcmp(sub, "publish") == 0)
		return ca_cmd_publish(g, argc, argv);
	if (strcmp(sub, "issue") == 0)
		return ca_cmd_issue(g, argc, argv);
	if (strcmp(sub, "sign-chuid") == 0)
		return ca_cmd_sign(g, argc, argv, false);
	if (strcmp(sub, "secobj") == 0)
		return ca_cmd_sign(g, argc, argv, true);
	if (strcmp(sub, "verify-chuid") == 0)
		return ca_cmd_verify_chuid(g, argc, argv);
	return cli_usage_error("ca", "unknown subcommand '%s'", sub);
}
