/*
 * cmd_escrow.c: `pivstation escrow`: make a key management key on the host
 * and escrow it to the KRA (a tool for scripts and tests), and recover an
 * escrowed key as a PKCS#12 (lost card, derived credentials).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "cli/cli.h"
#include "issuance/ca.h"
#include "issuance/config.h"
#include "issuance/escrow.h"
#include "issuance/recover.h"
#include "issuance/home.h"
#include "issuance/pkix_util.h"
#include "issuance/operator.h"
#include "issuance/station.h"
#include "issuance/store.h"

#define ESC_IN_MAX (1024 * 1024)

enum {
	ESC_OPT_ALG = CLI_OPT__NEXT,
	ESC_OPT_ENVELOPE,
	ESC_OPT_PUBKEY,
	ESC_OPT_CERT,
	ESC_OPT_PERSON,
	ESC_OPT_OUT,
	ESC_OPT_NAME,
	ESC_OPT_PASS_FILE,
	ESC_OPT_PASS_FD,
	ESC_OPT_P12_PASS_FILE,
	ESC_OPT_P12_PASS_FD,
	ESC_OPT_REASON
};

static int
esc_write(const char *path, const void *p, size_t n)
{
	struct pv_why why = { "" };
	enum pv_err r = pkix_write_file(path, p, n, false, &why);

	return r == PV_OK ? CLI_EXIT_OK : cli_fail("write", r, &why);
}

/* ---- escrow keygen ------------------------------------------------------------- */

static int
esc_cmd_keygen(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "alg", required_argument, NULL, ESC_OPT_ALG },
		{ "envelope", required_argument, NULL, ESC_OPT_ENVELOPE },
		{ "pubkey", required_argument, NULL, ESC_OPT_PUBKEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct station *stn = NULL;
	const char *alg_s = NULL, *env_path = NULL, *pub_path = NULL;
	enum pkix_alg alg;
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	uint8_t *env = NULL;
	size_t env_len = 0;
	char *pem = NULL;
	long pem_len;
	enum pv_err r;
	int c, rc;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case ESC_OPT_ALG: alg_s = optarg; break;
		case ESC_OPT_ENVELOPE: env_path = optarg; break;
		case ESC_OPT_PUBKEY: pub_path = optarg; break;
		case 'h':
			printf("usage: pivstation escrow keygen --envelope FILE "
			    "--pubkey FILE [--alg ALG]\n\n"
			    "Make a key management (9d) key pair on the host, "
			    "seal its private key to\nthe KRA (CMS "
			    "EnvelopedData, DER, into --envelope) and write "
			    "the public key\n(PEM, --pubkey).  The private key "
			    "exists nowhere else.  ALG: p256, p384,\nrsa2048, "
			    "rsa3072 (default: the [keys] 9d setting).  A tool "
			    "for scripts and\ntests; 'pivstation issue' does "
			    "this for cards.\n");
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("escrow keygen", "unknown option");
		}
	}
	if (optind < argc || env_path == NULL || pub_path == NULL)
		return cli_usage_error("escrow keygen", "--envelope and --pubkey "
		    "are required");
	if (alg_s != NULL && pkix_alg_parse(alg_s, &alg, &why) != PV_OK)
		return cli_usage_error("escrow keygen", "--alg: %s", why.msg);
	if ((rc = cli_station(g, STATION_NEED_CA, NULL, &stn)) != CLI_EXIT_OK)
		return rc;
	if (alg_s == NULL)
		alg = pkix_alg_from_piv((unsigned)station_config(stn)->
		    slot_alg[CONFIG_SLOT_9D]);
	if (alg == PKIX_ALG_NONE || alg == PKIX_ALG_RSA4096) {
		rc = cli_usage_error("escrow keygen", "--alg: p256, p384, "
		    "rsa2048 or rsa3072");
		goto out;
	}
	if ((r = escrow_keygen(alg, &k, &why)) != PV_OK ||
	    (r = escrow_seal_key(k, ca_get0_kra(station_ca(stn)), &env,
	    &env_len, &why)) != PV_OK) {
		rc = cli_fail("escrow keygen", r, &why);
		goto out;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PUBKEY(b, k) ||
	    (pem_len = BIO_get_mem_data(b, &pem)) <= 0) {
		cli_error("escrow keygen: encoding the public key failed");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	/* the envelope first: a public key without its escrow is useless */
	if ((rc = esc_write(env_path, env, env_len)) != CLI_EXIT_OK ||
	    (rc = esc_write(pub_path, pem, (size_t)pem_len)) != CLI_EXIT_OK)
		goto out;
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "alg",
		    json_object_new_string(pkix_alg_name(alg)));
		json_object_object_add(o, "envelope_bytes",
		    json_object_new_int64((int64_t)env_len));
		cli_json_line(o);
	} else {
		printf("%s key escrowed to the KRA: %s (%zu bytes), public key "
		    "%s\n", pkix_alg_name(alg), env_path, env_len, pub_path);
	}
	rc = CLI_EXIT_OK;
out:
	BIO_free(b);
	OPENSSL_free(env);
	EVP_PKEY_free(k);
	return cli_station_done(stn, rc);
}

/* ---- escrow recover -------------------------------------------------------------- */

static void
esc_recover_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation escrow recover --person ID|EMAIL --reason TEXT "
	    "--out FILE.p12\n"
	    "       pivstation escrow recover --envelope FILE --cert FILE "
	    "--reason TEXT\n"
	    "                                 --out FILE.p12\n"
	    "\n"
	    "Decrypt an escrowed key management key with the KRA key and write "
	    "it with\nits certificate as a PKCS#12 (AES-256, HMAC-SHA-256 MAC), "
	    "mode 0600.  With\n--person the store gives the person's current "
	    "envelope and 9d certificate.\nEvery attempt, refused or not, is "
	    "written to the audit log with who acted\nand the reason.\n"
	    "\n"
	    "  --reason TEXT   why the key is recovered (required; up to 200 "
	    "characters)\n"
	    "  --passphrase-file FILE / --passphrase-fd N   KRA passphrase\n"
	    "      (else $PIVSTATION_KRA_PASSPHRASE, $PIVSTATION_CA_PASSPHRASE,\n"
	    "      [ca] passphrase, a prompt)\n"
	    "  --p12-passphrase-file FILE / --p12-passphrase-fd N\n"
	    "      the PKCS#12's passphrase (else $PIVSTATION_P12_PASSPHRASE, a "
	    "prompt),\n"
	    "      at least 8 characters, as for the CA\n"
	    "  --name NAME   friendly name inside the PKCS#12\n");
}

static int
esc_cmd_recover(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "envelope", required_argument, NULL, ESC_OPT_ENVELOPE },
		{ "cert", required_argument, NULL, ESC_OPT_CERT },
		{ "person", required_argument, NULL, ESC_OPT_PERSON },
		{ "out", required_argument, NULL, ESC_OPT_OUT },
		{ "name", required_argument, NULL, ESC_OPT_NAME },
		{ "reason", required_argument, NULL, ESC_OPT_REASON },
		{ "passphrase-file", required_argument, NULL, ESC_OPT_PASS_FILE },
		{ "passphrase-fd", required_argument, NULL, ESC_OPT_PASS_FD },
		{ "p12-passphrase-file", required_argument, NULL,
		  ESC_OPT_P12_PASS_FILE },
		{ "p12-passphrase-fd", required_argument, NULL,
		  ESC_OPT_P12_PASS_FD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct pass_chain pc;
	struct recover_req rq;
	const char *env_path = NULL, *cert_path = NULL, *person = NULL;
	const char *out_path = NULL, *name = NULL, *reason = NULL;
	struct pkix_pass p12_pass;
	struct station *stn = NULL;
	STACK_OF(X509) *certs = NULL;
	X509 *cert = NULL;
	uint8_t *env = NULL, *buf = NULL, *p12 = NULL;
	size_t env_len = 0, n = 0, p12_len = 0;
	enum pv_err r;
	int c, rc;

	memset(&p12_pass, 0, sizeof(p12_pass));
	cli_pass_chain(&pc);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case ESC_OPT_ENVELOPE: env_path = optarg; break;
		case ESC_OPT_CERT: cert_path = optarg; break;
		case ESC_OPT_PERSON: person = optarg; break;
		case ESC_OPT_OUT: out_path = optarg; break;
		case ESC_OPT_NAME: name = optarg; break;
		case ESC_OPT_REASON: reason = optarg; break;
		case ESC_OPT_PASS_FILE: pc.src[PASS_KRA].file = optarg; break;
		case ESC_OPT_PASS_FD:
			if ((rc = cli_fd_arg("escrow recover", "--passphrase-fd",
			    optarg, &pc.src[PASS_KRA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case ESC_OPT_P12_PASS_FILE: pc.src[PASS_P12].file = optarg; break;
		case ESC_OPT_P12_PASS_FD:
			if ((rc = cli_fd_arg("escrow recover",
			    "--p12-passphrase-fd", optarg,
			    &pc.src[PASS_P12].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case 'h':
			esc_recover_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("escrow recover",
			    "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("escrow recover",
		    "unexpected argument '%s'", argv[optind]);
	if (out_path == NULL || (person == NULL) ==
	    (env_path == NULL || cert_path == NULL) ||
	    (person != NULL && (env_path != NULL || cert_path != NULL)))
		return cli_usage_error("escrow recover", "give --out and either "
		    "--person, or --envelope and --cert");
	if ((r = recover_reason_check(reason, &why)) != PV_OK)
		return cli_usage_error("escrow recover", "%s", why.msg);
	/* Recoveries are audited: the store is needed in every mode. */
	if ((rc = cli_station(g, STATION_NEED_CA | STATION_NEED_STORE, &pc,
	    &stn)) != CLI_EXIT_OK)
		return rc;
	if (person == NULL) {
		if ((r = pkix_read_file(env_path, ESC_IN_MAX, &env, &env_len,
		    &why)) != PV_OK ||
		    (r = pkix_read_file(cert_path, ESC_IN_MAX, &buf, &n,
		    &why)) != PV_OK ||
		    (r = pkix_certs_from_bytes(buf, n, &certs, &why)) != PV_OK) {
			rc = cli_fail("escrow recover", r, &why);
			goto out;
		}
		cert = sk_X509_shift(certs);
	}
	if ((r = station_passphrase(stn, PASS_P12, true, &p12_pass, &why)) !=
	    PV_OK) {
		rc = cli_fail("escrow recover", r, &why);
		goto out;
	}
	/* The CA's rule (escrow_recover_p12 applies it too); the message
	 * names where the passphrase came from. */
	{
		char what[512];

		if (pc.src[PASS_P12].file != NULL)
			(void)snprintf(what, sizeof(what), "--p12-passphrase-"
			    "file %.400s: PKCS#12 passphrase",
			    pc.src[PASS_P12].file);
		else if (pc.src[PASS_P12].fd >= 0)
			(void)snprintf(what, sizeof(what), "--p12-passphrase-"
			    "fd %d: PKCS#12 passphrase", pc.src[PASS_P12].fd);
		else if (getenv("PIVSTATION_P12_PASSPHRASE") != NULL)
			(void)snprintf(what, sizeof(what), "$PIVSTATION_P12_"
			    "PASSPHRASE: PKCS#12 passphrase");
		else
			(void)snprintf(what, sizeof(what),
			    "PKCS#12 passphrase");
		pv_why_clear(&why);
		if ((r = pkix_pass_check_new(&p12_pass, what, &why)) != PV_OK) {
			rc = cli_fail("escrow recover", r, &why);
			goto out;
		}
	}
	memset(&rq, 0, sizeof(rq));
	rq.person = person;
	rq.envelope = env;
	rq.envelope_len = env_len;
	rq.envelope_name = env_path;
	rq.cert = cert;
	rq.reason = reason;
	rq.p12_pass = &p12_pass;
	rq.name = name;
	if ((r = recover_key_p12(stn, &rq, &p12, &p12_len, NULL, &why)) !=
	    PV_OK) {
		rc = cli_fail("escrow recover", r, &why);
		goto out;
	}
	if ((rc = esc_write(out_path, p12, p12_len)) != CLI_EXIT_OK)
		goto out;
	if (g->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "out", cli_json_str(out_path));
		json_object_object_add(o, "bytes",
		    json_object_new_int64((int64_t)p12_len));
		cli_json_line(o);
	} else {
		printf("key management key recovered to %s\n", out_path);
	}
	rc = CLI_EXIT_OK;
out:
	pkix_pass_clear(&p12_pass);
	rc = cli_station_done(stn, rc);
	X509_free(cert);
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(buf);
	OPENSSL_free(env);
	OPENSSL_free(p12);
	return rc;
}

/* ---- dispatch ---------------------------------------------------------------- */

int
cli_cmd_escrow(struct cli_global *g, int argc, char **argv)
{
	const char *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout,
		    "usage: pivstation escrow SUBCOMMAND [options]\n\n"
		    "  keygen    make a 9d key on the host, sealed to the KRA\n"
		    "  recover   decrypt an escrowed key into a PKCS#12\n\n"
		    "'pivstation escrow SUBCOMMAND --help' for each.\n");
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	if (strcmp(sub, "keygen") == 0)
		return esc_cmd_keygen(g, argc, argv);
	if (strcmp(sub, "recover") == 0)
		return esc_cmd_recover(g, argc, argv);
	return cli_usage_error("escrow", "unknown subcommand '%s'", sub);
}
