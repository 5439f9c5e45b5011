/*
 * cmd_ca.c: `pivstation ca`: create or import the station CA, show it,
 * publish its CRL, and the low-level signing tools scripts and tests use
 * (issue one certificate, sign a CHUID, build a Security Object).
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

#include <json-c/json.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "cli/cli.h"
#include "issuance/audit.h"
#include "issuance/ca.h"
#include "issuance/ca_publish.h"
#include "issuance/chuid.h"
#include "issuance/config.h"
#include "issuance/crl.h"
#include "issuance/home.h"
#include "issuance/pkix_util.h"
#include "issuance/profile.h"
#include "issuance/secobj.h"
#include "issuance/operator.h"
#include "issuance/station.h"
#include "issuance/store.h"

#include <json-c/json.h>

#define CA_IN_MAX	(1024 * 1024)

/* ---- common ----------------------------------------------------------------- */

static int
ca_fail(const char *what, enum pv_err r, const struct pv_why *why)
{
	return cli_fail(what, r, why);
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

/* ca_pass_opt puts the passphrase options into |pc|; -1 not one, else an
 * exit code. */
static int
ca_pass_opt(const char *cmd, int c, const char *arg, struct pass_chain *pc)
{
	switch (c) {
	case CA_OPT_PASS_FILE:
		pc->src[PASS_CA].file = arg;
		return CLI_EXIT_OK;
	case CA_OPT_PASS_FD:
		return cli_fd_arg(cmd, "--passphrase-fd", arg,
		    &pc->src[PASS_CA].fd);
	case CA_OPT_KRA_PASS_FILE:
		pc->src[PASS_KRA].file = arg;
		return CLI_EXIT_OK;
	case CA_OPT_KRA_PASS_FD:
		return cli_fd_arg(cmd, "--kra-passphrase-fd", arg,
		    &pc->src[PASS_KRA].fd);
	case CA_OPT_KEY_PASS_FILE:
		pc->src[PASS_KEY].file = arg;
		return CLI_EXIT_OK;
	default:
		return -1;
	}
}

/* ---- ca init / ca import ----------------------------------------------------- */

static void
ca_print_info(const struct ca *ca, bool json)
{
	struct ca_cert_info info[6];
	int i, n;

	ca_describe(ca, info);
	n = 4 + (int)ca_describe_services(ca, info + 4);
	if (json) {
		json_object *doc = json_object_new_object(), *o;

		json_object_object_add(doc, "dir", cli_json_str(ca_get0_dir(ca)));
		for (i = 0; i < n; i++) {
			/* names from certificates (an imported CA's too) */
			o = json_object_new_object();
			json_object_object_add(o, "subject",
			    cli_json_str(info[i].subject));
			json_object_object_add(o, "issuer",
			    cli_json_str(info[i].issuer));
			json_object_object_add(o, "serial",
			    json_object_new_string(info[i].serial));
			json_object_object_add(o, "not_before",
			    json_object_new_string(info[i].not_before));
			json_object_object_add(o, "not_after",
			    json_object_new_string(info[i].not_after));
			json_object_object_add(o, "key",
			    json_object_new_string(info[i].key));
			json_object_object_add(o, "sha256",
			    json_object_new_string(info[i].sha256));
			json_object_object_add(doc, info[i].role, o);
		}
		cli_json_line(doc);
		return;
	}
	printf("CA folder  %s\n", ca_get0_dir(ca));
	for (i = 0; i < n; i++) {
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
	    "Without those: $PIVSTATION_CA_PASSPHRASE / "
	    "$PIVSTATION_KRA_PASSPHRASE,\n"
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
	struct pass_chain po;
	struct ca_init_params p;
	struct station *stn = NULL;
	struct pkix_pass key_pass;
	struct pv_why why = { "" };
	const char *name = NULL, *alg = NULL, *kra_alg = NULL, *pol = NULL;
	const char *cert_path = NULL, *key_path = NULL, *chain_path = NULL;
	const char *key_pass_path = NULL;
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	enum pv_err r;
	int c, rc;

	memset(&key_pass, 0, sizeof(key_pass));
	cli_pass_chain(&po);
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
	key_pass_path = po.src[PASS_KEY].file;
	if (import && (cert_path == NULL || key_path == NULL))
		return cli_usage_error(cmd, "--cert and --key are required");
	if (!import && (cert_path || key_path || chain_path || key_pass_path))
		return cli_usage_error(cmd, "--cert/--key/--chain belong to "
		    "'ca import'");
	if ((rc = cli_station(g, STATION_WANT_STORE, &po, &stn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = cli_permit(stn, OP_CA)) != CLI_EXIT_OK)
		goto out;

	/* settings: config, then options */
	if ((r = ca_params_from_config(station_config(stn), &p, &why)) !=
	    PV_OK) {
		rc = ca_fail("pivstation.conf", r, &why);
		goto out;
	}
	if (name != NULL && (r = pkix_dn_parse(name, &p.name, &why)) != PV_OK) {
		rc = cli_usage_error(cmd, "--name: %s", why.msg);
		goto out;
	}
	if (alg != NULL) {
		if ((r = pkix_alg_parse(alg, &p.root_alg, &why)) != PV_OK) {
			rc = cli_usage_error(cmd, "--alg: %s", why.msg);
			goto out;
		}
		p.issuing_alg = p.signer_alg = p.kra_alg = p.root_alg;
	}
	if (kra_alg != NULL && (r = pkix_alg_parse(kra_alg, &p.kra_alg,
	    &why)) != PV_OK) {
		rc = cli_usage_error(cmd, "--kra-alg: %s", why.msg);
		goto out;
	}
	if (pol != NULL) {
		if ((r = pkix_policy_set_parse(pol, &p.policies, &why)) !=
		    PV_OK) {
			rc = cli_usage_error(cmd, "--policies: %s", why.msg);
			goto out;
		}
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
		    (r = station_passphrase(stn, PASS_KEY, false, &key_pass,
		    &why)) != PV_OK) {
			rc = ca_fail(cmd, r, &why);
			goto out;
		}
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

	if ((r = station_ca_create(stn, &p, cert, key, chain, &why)) != PV_OK) {
		rc = ca_fail(cmd, r, &why);
		goto out;
	}
	ca_print_info(station_ca(stn), g->json);
	rc = CLI_EXIT_OK;
out:
	pkix_pass_clear(&key_pass);
	rc = cli_station_done(stn, rc);
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
	struct station *stn = NULL;
	struct ca *ca;
	bool pem = false;
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
	if ((rc = cli_station(g, STATION_NEED_CA, NULL, &stn)) != CLI_EXIT_OK)
		return rc;
	ca = station_ca(stn);
	if (pem) {
		for (i = 0; i < sk_X509_num(ca_get0_chain(ca)); i++)
			if (!PEM_write_X509(stdout, sk_X509_value(
			    ca_get0_chain(ca), i))) {
				station_close(stn);
				cli_error("ca show: writing PEM failed");
				return CLI_EXIT_FAIL;
			}
	} else {
		ca_print_info(ca, g->json);
	}
	station_close(stn);
	return CLI_EXIT_OK;
}

/* ---- ca crl -------------------------------------------------------------------- */

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
	struct pass_chain po;
	struct station *stn = NULL;
	struct pv_why why = { "" };
	struct crl_result res;
	struct ca_revoked *rv = NULL;
	const char *revoked = NULL;
	unsigned long long hours = CRL_DEFAULT_HOURS;
	uint8_t *buf = NULL;
	size_t n_rv = 0, n = 0;
	enum pv_err r;
	int c, rc;

	cli_pass_chain(&po);
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
	/* The store's list when there is a store and no --revoked file. */
	if ((rc = cli_station(g, STATION_NEED_CA_ISSUING | (revoked == NULL ?
	    STATION_WANT_STORE : 0), &po, &stn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = cli_permit(stn, OP_CA)) != CLI_EXIT_OK)
		goto out;
	if (revoked != NULL) {
		if ((rc = ca_read(revoked, CA_IN_MAX, &buf, &n)) != CLI_EXIT_OK)
			goto out;
		if ((r = crl_revoked_parse((const char *)buf, n, revoked,
		    time(NULL), &rv, &n_rv, &why)) != PV_OK) {
			rc = ca_fail("ca crl", r, &why);
			goto out;
		}
	}
	if ((r = crl_publish(station_ca(stn), station_store(stn), rv, n_rv,
	    time(NULL), (unsigned)hours, &res, &why)) != PV_OK) {
		rc = ca_fail("ca crl", r, &why);
		goto out;
	}
	if (g->json) {
		json_object *o = json_object_new_object();
		char path[HOME_PATH_MAX + 16];

		(void)snprintf(path, sizeof(path), "%s/%s",
		    station_ca_dir(stn), CA_FILE_CRL_DER);
		json_object_object_add(o, "crl_number",
		    json_object_new_uint64(res.number));
		json_object_object_add(o, "entries",
		    json_object_new_int64((int64_t)res.entries));
		json_object_object_add(o, "der", cli_json_str(path));
		cli_json_line(o);
	} else {
		printf("CRL %llu published: %zu revoked, %s/%s and %s\n",
		    (unsigned long long)res.number, res.entries,
		    station_ca_dir(stn), CA_FILE_CRL_DER, CA_FILE_CRL_PEM);
	}
	rc = CLI_EXIT_OK;
out:
	OPENSSL_free(buf);
	free(rv);
	return cli_station_done(stn, rc);
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
	struct pass_chain po;
	struct station *stn = NULL;
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
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	uint8_t *buf = NULL;
	char *pem = NULL;
	size_t n = 0;
	enum pv_err r;
	int c, rc;

	memset(&subj, 0, sizeof(subj));
	memset(&card, 0, sizeof(card));
	cli_pass_chain(&po);
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
	if ((rc = cli_station(g, STATION_NEED_CA_ISSUING, &po, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	if ((r = profile_cfg_from_config(station_config(stn), &cfg, &why)) !=
	    PV_OK) {
		rc = ca_fail("pivstation.conf", r, &why);
		goto out;
	}
	if (pol != NULL) {
		if (pkix_policy_set_parse(pol, &cfg.policies, &why) != PV_OK) {
			rc = cli_usage_error("ca issue", "--policies: %s",
			    why.msg);
			goto out;
		}
		memset(cfg.policy, 0, sizeof(cfg.policy));
	}
	if ((rc = ca_read(pub_path, CA_IN_MAX, &buf, &n)) != CLI_EXIT_OK)
		goto out;
	if ((r = pkix_pubkey_from_bytes(buf, n, &pub, &why)) != PV_OK) {
		rc = ca_fail(pub_path, r, &why);
		goto out;
	}
	if ((r = profile_issue(station_ca(stn), pub, (uint8_t)slot, &subj, &card, &cfg,
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
	OPENSSL_free(buf);
	OPENSSL_free(pem);
	EVP_PKEY_free(pub);
	X509_free(x);
	return cli_station_done(stn, rc);
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
	struct pass_chain po;
	struct station *stn = NULL;
	struct pv_why why = { "" };
	struct secobj_entry ent[SECOBJ_MAX_ENTRIES];
	uint8_t *data[SECOBJ_MAX_ENTRIES];
	const char *tbs_path = NULL, *out_path = NULL;
	const char *signer_path = NULL, *key_path = NULL;
	STACK_OF(X509) *signer_sk = NULL;
	EVP_PKEY *signer_key = NULL;
	X509 *signer;
	EVP_PKEY *skey;
	uint8_t *tbs = NULL, *res = NULL;
	size_t tbs_len = 0, res_len = 0, n_ent = 0, i;
	enum pv_err r;
	int c, rc;

	memset(ent, 0, sizeof(ent));
	memset(data, 0, sizeof(data));
	cli_pass_chain(&po);
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
		if ((rc = cli_station(g, STATION_NEED_CA_SIGNER, &po,
		    &stn)) != CLI_EXIT_OK)
			goto out;
		signer = ca_get0_signer(station_ca(stn));
		skey = ca_get0_signer_key(station_ca(stn));
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
	for (i = 0; i < n_ent; i++)
		OPENSSL_free(data[i]);
	OPENSSL_free(tbs);
	OPENSSL_free(res);
	sk_X509_pop_free(signer_sk, X509_free);
	EVP_PKEY_free(signer_key);
	return cli_station_done(stn, rc);
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
	struct station *stn = NULL;
	struct pv_why why = { "" };
	const char *path = NULL;
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
	if ((rc = cli_station(g, STATION_NEED_CA, NULL, &stn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = ca_read(path, CA_IN_MAX, &p, &n)) != CLI_EXIT_OK)
		goto out;
	if ((r = ca_trust_store(station_ca(stn), &st, &why)) != PV_OK ||
	    (r = chuid_verify_object(p, n, st, NULL, &why)) != PV_OK) {
		rc = ca_fail("ca verify-chuid", r, &why);
		goto out;
	}
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "chuid_signature",
		    json_object_new_string("valid"));
		cli_json_line(o);
	} else {
		printf("CHUID signature valid\n");
	}
	rc = CLI_EXIT_OK;
out:
	X509_STORE_free(st);
	station_close(stn);
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
	struct station *stn = NULL;
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
	if ((rc = cli_station(g, 0, NULL, &stn)) != CLI_EXIT_OK)
		return rc;
	r = ca_publish(station_ca_dir(stn), station_config(stn), argv[optind],
	    &res, &why);
	station_close(stn);
	if (r != PV_OK)
		return ca_fail("ca publish", r, &why);
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "crl", cli_json_str(res.crl_file));
		json_object_object_add(o, "crl_number",
		    cli_json_str(res.crl_number));
		json_object_object_add(o, "p7c", cli_json_str(res.p7c_file));
		json_object_object_add(o, "certificates",
		    json_object_new_int64(res.n_certs));
		cli_json_line(o);
	} else {
		if (res.crl_file[0])
			printf("CRL %s: %s\n", res.crl_number, res.crl_file);
		if (res.p7c_file[0])
			printf("issuing CA certificate (certs-only CMS): %s\n",
			    res.p7c_file);
	}
	return CLI_EXIT_OK;
}

/* ---- ca roll ------------------------------------------------------------------ */

static int
ca_cmd_roll(struct cli_global *g, int argc, char **argv)
{
	enum { OPT_DAYS = CLI_OPT__NEXT + 100, OPT_IF_WITHIN };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CA_PASS_LONGOPTS,
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "if-expiring", required_argument, NULL, OPT_IF_WITHIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct station_roll_result res;
	struct pass_chain po;
	struct station *stn = NULL;
	struct pv_why why = { "" };
	unsigned long long days = 0, within = 0;
	enum ca_service kind;
	json_object *o;
	enum pv_err r;
	int c, rc;

	cli_pass_chain(&po);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		if ((rc = ca_pass_opt("ca roll", c, optarg, &po)) >= 0) {
			if (rc != CLI_EXIT_OK)
				return rc;
			continue;
		}
		switch (c) {
		case OPT_DAYS:
			if (!buf_dec_uint(optarg, CA_DAYS_SERVICE_MAX, &days) ||
			    days == 0)
				return cli_usage_error("ca roll", "--days: 1 to "
				    "%u", CA_DAYS_SERVICE_MAX);
			break;
		case OPT_IF_WITHIN:
			if (!buf_dec_uint(optarg, CA_DAYS_SERVICE_MAX, &within) ||
			    within == 0)
				return cli_usage_error("ca roll", "--if-expiring: "
				    "1 to %u days", CA_DAYS_SERVICE_MAX);
			break;
		case 'h':
			printf("usage: pivstation ca roll ocsp [--days N] "
			    "[--if-expiring DAYS]\n"
			    "                          [passphrase options]\n\n"
			    "Replace the delegated OCSP responder certificate "
			    "(id-kp-OCSPSigning,\nid-pkix-ocsp-nocheck) with a new "
			    "key and certificate from the issuing CA,\nfor --days "
			    "(default [ca] ocsp_days).  --if-expiring DAYS does it "
			    "only\nwhen the current one ends within DAYS (for a "
			    "timer).  'pivstation serve'\nuses the new one from "
			    "its next start.\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("ca roll", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("ca roll", "expected ocsp");
	if (strcmp(argv[optind], "ocsp") == 0)
		kind = CA_SVC_OCSP;
	else
		return cli_usage_error("ca roll", "expected ocsp, got '%s'",
		    argv[optind]);
	if ((rc = cli_station(g, STATION_NEED_CA | STATION_WANT_STORE, &po,
	    &stn)) != CLI_EXIT_OK)
		return rc;
	if ((rc = cli_permit(stn, OP_CA)) != CLI_EXIT_OK)
		goto out;
	if ((r = station_ca_roll(stn, kind, (unsigned)days, (unsigned)within,
	    &res, &why)) != PV_OK) {
		rc = ca_fail("ca roll", r, &why);
		goto out;
	}
	if (g->json) {
		o = json_object_new_object();
		json_object_object_add(o, "service",
		    json_object_new_string(ca_service_name(kind)));
		json_object_object_add(o, "rolled",
		    json_object_new_boolean(res.rolled));
		json_object_object_add(o, "serial",
		    json_object_new_string(res.serial));
		json_object_object_add(o, "not_after",
		    json_object_new_string(res.not_after));
		cli_json_line(o);
	} else if (res.rolled) {
		printf("%s certificate %s, serial %s, valid until %s\n",
		    ca_service_name(kind), res.had_one ? "rolled over" :
		    "made", res.serial, res.not_after);
	} else {
		printf("%s certificate %s is valid until %s: not rolled over\n",
		    ca_service_name(kind), res.serial, res.not_after);
	}
	rc = CLI_EXIT_OK;
out:
	return cli_station_done(stn, rc);
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
	    "  roll ocsp      a new delegated OCSP responder certificate\n"
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
	if (strcmp(sub, "roll") == 0)
		return ca_cmd_roll(g, argc, argv);
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
