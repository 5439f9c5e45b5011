/*
 * cmd_validate.c: `pivstation validate`: decide, as a relying party,
 * whether a certificate (--cert FILE) or the PIV card in a reader (-r R)
 * is valid, and say why check by check (issuance/val.h, val_card.h do the
 * work; this file parses, calls and renders).  Exit 0 valid, 7 not.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "apdu/text.h"
#include "apdu/buf.h"
#include "cli/cli.h"
#include "issuance/card.h"
#include "issuance/pkix_util.h"
#include "issuance/secret.h"
#include "issuance/val.h"
#include "issuance/val_card.h"
#include "issuance/val_station.h"
#include "pcsc/session.h"

#define VAL_LIST_MAX 32

enum {
	VO_CERT = CLI_OPT__NEXT,
	VO_UNTRUSTED,
	VO_CRL,
	VO_ANCHOR,
	VO_POLICY,
	VO_EXPLICIT,
	VO_INHIBIT_MAP,
	VO_INHIBIT_ANY,
	VO_AT,
	VO_REVOCATION,
	VO_SOFT_FAIL,
	VO_HARD_FAIL,
	VO_CA_STATUS,
	VO_NO_FETCH,
	VO_REFRESH,
	VO_CACHE,
	VO_PIN_STDIN,
	VO_PIN_PAD,
	VO_NO_POP,
	VO_CARD_AUTH
};

static void
val_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation validate -r READER [--pin-stdin | --pin-pad | --no-pop]\n"
	    "                           [--card-auth] [options below] [--json]\n"
	    "       pivstation validate --cert FILE [--untrusted FILE]... [--crl FILE]...\n"
	    "                           [--anchor FILE]... [--policy OID]...\n"
	    "                           [--explicit-policy] [--inhibit-policy-mapping]\n"
	    "                           [--inhibit-any-policy] [--at TIME] [--json]\n"
	    "\n"
	    "Decide as a relying party whether a PIV card, or one certificate, is\n"
	    "valid, and say why check by check.  Exit 0 when every check passes,\n"
	    "7 when any fails.\n"
	    "\n"
	    "With -r: the card's CHUID (signature, content signer, expiry), its PIV\n"
	    "Authentication certificate (path, policy, revocation, expiry margin),\n"
	    "the FASC-N and UUID of that certificate against the CHUID, the Security\n"
	    "Object, then proof of possession: the PIN is verified and the 9A key\n"
	    "signs a random challenge.  APDUs: SELECT, GET DATA CHUID, 9A\n"
	    "certificate and Security Object, VERIFY, GENERAL AUTHENTICATE.\n"
	    "  --pin-stdin             the PIN, one line on standard input\n"
	    "  --pin-pad               the cardholder types it on the reader's pad\n"
	    "  --no-pop                no PIN and no proof of possession\n"
	    "  --card-auth             also prove the card authentication key (9E,\n"
	    "                          no PIN; reads the 9E certificate)\n"
	    "\n"
	    "With --cert: path to a trust anchor, policy and revocation of FILE\n"
	    "(PEM or DER).  Policy inputs come from the options only (default: any\n"
	    "policy); trust and revocation from the station configuration.\n"
	    "  --untrusted FILE        intermediate certificates (repeatable)\n"
	    "  --crl FILE              CRLs to use (repeatable; files or directories)\n"
	    "  --anchor FILE           trust anchors instead of [trust] anchors\n"
	    "  --policy OID            acceptable policy (repeatable)\n"
	    "  --explicit-policy       a policy must be valid for the path\n"
	    "  --inhibit-policy-mapping, --inhibit-any-policy\n"
	    "\n"
	    "Both:\n"
	    "  --at TIME               validate as of TIME (2011-04-15T00:00:00Z)\n"
	    "  --revocation MODE       ocsp-then-crl, both, crl-only, none\n"
	    "  --soft-fail, --hard-fail  no status: accepted (and said) / refused\n"
	    "  --ca-status required|if-published\n"
	    "  --no-fetch              nothing over the network\n"
	    "  --refresh               ignore cached CRLs and certificates\n"
	    "  --cache DIR             cache directory (default <home>/cache)\n"
	    "  --json                  one JSON document: verdict and checks\n");
}

/* ---- rendering -------------------------------------------------------------- */

static void
val_render(const struct cli_global *g, const struct val_report *rep,
    const char *subject, const char *anchors)
{
	json_object *o, *arr, *c, *ch;
	char t[32];
	size_t i;

	if (!g->json) {
		for (i = 0; i < rep->n; i++) {
			const struct val_check *k = &rep->check[i];

			printf("%-4s  %-24s %s: %s\n",
			    val_status_name(k->status), k->id, k->name,
			    k->text);
		}
		printf("%s: %s%s\n", subject, rep->valid ? "VALID" :
		    "NOT VALID", rep->valid && rep->soft_failed ?
		    " (soft-fail: some status was not known, see the warnings)" :
		    "");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "subject", cli_json_str(subject));
	json_object_object_add(o, "valid", json_object_new_boolean(rep->valid));
	json_object_object_add(o, "soft_failed",
	    json_object_new_boolean(rep->soft_failed));
	arr = json_object_new_array();
	for (i = 0; i < rep->n; i++) {
		const struct val_check *k = &rep->check[i];

		c = json_object_new_object();
		json_object_object_add(c, "id", json_object_new_string(k->id));
		json_object_object_add(c, "name",
		    json_object_new_string(k->name));
		json_object_object_add(c, "status",
		    json_object_new_string(val_status_name(k->status)));
		json_object_object_add(c, "text", cli_json_str(k->text));
		json_object_array_add(arr, c);
	}
	json_object_object_add(o, "checks", arr);
	ch = json_object_new_array();
	for (i = 0; i < rep->chain_len; i++)
		json_object_array_add(ch, cli_json_str(rep->chain[i]));
	json_object_object_add(o, "chain", ch);
	json_object_object_add(o, "policy_set",
	    json_object_new_string(rep->policy_set));
	json_object_object_add(o, "trust_anchors",
	    cli_json_str(anchors));
	if (rep->revoked) {
		c = json_object_new_object();
		text_utc(rep->revoked_at, t);
		json_object_object_add(c, "date", json_object_new_string(t));
		json_object_object_add(c, "reason", json_object_new_string(
		    val_reason_name(rep->revoked_reason)));
		json_object_object_add(o, "revoked", c);
	}
	cli_json_doc(o);
}

/* ---- options ------------------------------------------------------------------- */

struct val_cli {
	const char *cert;
	const char *untrusted[VAL_LIST_MAX];
	size_t n_untrusted;
	const char *crls[VAL_LIST_MAX];
	size_t n_crls;
	const char *anchors[VAL_LIST_MAX];
	size_t n_anchors;
	const char *policies[VAL_POLICIES_MAX];
	unsigned n_policies;
	bool explicit_policy, inhibit_map, inhibit_any;
	const char *at;
	struct val_station_opts so;
	bool pin_stdin, pin_pad, no_pop, card_auth;
};

static int
val_list_add(const char **list, size_t *n, size_t max, const char *v,
    const char *opt)
{
	if (*n >= max)
		return cli_usage_error("validate", "at most %zu %s options",
		    max, opt);
	list[(*n)++] = v;
	return CLI_EXIT_OK;
}

static int
val_parse(struct cli_global *g, int argc, char **argv, struct val_cli *v)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "cert", required_argument, NULL, VO_CERT },
		{ "untrusted", required_argument, NULL, VO_UNTRUSTED },
		{ "crl", required_argument, NULL, VO_CRL },
		{ "anchor", required_argument, NULL, VO_ANCHOR },
		{ "policy", required_argument, NULL, VO_POLICY },
		{ "explicit-policy", no_argument, NULL, VO_EXPLICIT },
		{ "inhibit-policy-mapping", no_argument, NULL, VO_INHIBIT_MAP },
		{ "inhibit-any-policy", no_argument, NULL, VO_INHIBIT_ANY },
		{ "at", required_argument, NULL, VO_AT },
		{ "revocation", required_argument, NULL, VO_REVOCATION },
		{ "soft-fail", no_argument, NULL, VO_SOFT_FAIL },
		{ "hard-fail", no_argument, NULL, VO_HARD_FAIL },
		{ "ca-status", required_argument, NULL, VO_CA_STATUS },
		{ "no-fetch", no_argument, NULL, VO_NO_FETCH },
		{ "refresh", no_argument, NULL, VO_REFRESH },
		{ "cache", required_argument, NULL, VO_CACHE },
		{ "pin-stdin", no_argument, NULL, VO_PIN_STDIN },
		{ "pin-pad", no_argument, NULL, VO_PIN_PAD },
		{ "no-pop", no_argument, NULL, VO_NO_POP },
		{ "card-auth", no_argument, NULL, VO_CARD_AUTH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum val_rev_mode m;
	int c, rc;

	memset(v, 0, sizeof(*v));
	val_station_opts_init(&v->so);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		rc = CLI_EXIT_OK;
		switch (c) {
		case VO_CERT: v->cert = optarg; break;
		case VO_UNTRUSTED:
			rc = val_list_add(v->untrusted, &v->n_untrusted,
			    VAL_LIST_MAX, optarg, "--untrusted");
			break;
		case VO_CRL:
			rc = val_list_add(v->crls, &v->n_crls, VAL_LIST_MAX,
			    optarg, "--crl");
			break;
		case VO_ANCHOR:
			rc = val_list_add(v->anchors, &v->n_anchors,
			    VAL_LIST_MAX, optarg, "--anchor");
			break;
		case VO_POLICY:
			if (!pkix_oid_valid(optarg))
				return cli_usage_error("validate", "--policy: "
				    "'%s' is not a dotted OID", optarg);
			if (v->n_policies >= VAL_POLICIES_MAX)
				return cli_usage_error("validate", "at most %d "
				    "--policy options", VAL_POLICIES_MAX);
			v->policies[v->n_policies++] = optarg;
			break;
		case VO_EXPLICIT: v->explicit_policy = true; break;
		case VO_INHIBIT_MAP: v->inhibit_map = true; break;
		case VO_INHIBIT_ANY: v->inhibit_any = true; break;
		case VO_AT: v->at = optarg; break;
		case VO_REVOCATION:
			if (!val_rev_mode_parse(optarg, &m))
				return cli_usage_error("validate", "--revocation: "
				    "expected ocsp-then-crl, both, crl-only or "
				    "none, got '%s'", optarg);
			v->so.rev_mode = (int)m;
			break;
		case VO_SOFT_FAIL: v->so.soft_fail = 1; break;
		case VO_HARD_FAIL: v->so.soft_fail = 0; break;
		case VO_CA_STATUS:
			if (strcmp(optarg, "required") == 0)
				v->so.ca_required = 1;
			else if (strcmp(optarg, "if-published") == 0)
				v->so.ca_required = 0;
			else
				return cli_usage_error("validate", "--ca-status: "
				    "expected required or if-published");
			break;
		case VO_NO_FETCH: v->so.no_fetch = true; break;
		case VO_REFRESH: v->so.refresh = true; break;
		case VO_CACHE: v->so.cache_dir = optarg; break;
		case VO_PIN_STDIN: v->pin_stdin = true; break;
		case VO_PIN_PAD: v->pin_pad = true; break;
		case VO_NO_POP: v->no_pop = true; break;
		case VO_CARD_AUTH: v->card_auth = true; break;
		case 'h':
			val_usage(stdout);
			return -1;
		default:
			return cli_usage_error("validate", "unknown option");
		}
		if (rc != CLI_EXIT_OK)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("validate", "unexpected argument '%s'",
		    argv[optind]);
	if ((v->cert != NULL) == (g->reader != NULL))
		return cli_usage_error("validate", "give either --cert FILE or "
		    "-r READER");
	if (v->pin_stdin + v->pin_pad + v->no_pop > 1)
		return cli_usage_error("validate", "--pin-stdin, --pin-pad and "
		    "--no-pop exclude each other");
	if (v->cert != NULL && (v->pin_stdin || v->pin_pad || v->no_pop ||
	    v->card_auth))
		return cli_usage_error("validate", "--pin-stdin, --pin-pad, "
		    "--no-pop and --card-auth are for -r READER");
	v->so.anchors = v->anchors;
	v->so.n_anchors = v->n_anchors;
	v->so.untrusted = v->untrusted;
	v->so.n_untrusted = v->n_untrusted;
	v->so.crls = v->crls;
	v->so.n_crls = v->n_crls;
	return CLI_EXIT_OK;
}

/*
 * val_station_setup opens the station (its configuration when it has
 * one: a station is not needed with --anchor) and the validator.
 * Returns an exit code.
 */
static int
val_station_setup(const struct cli_global *g, const struct val_cli *v,
    struct val_station *vs)
{
	struct pv_why why = { { 0 } };
	struct station *st = NULL;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, 0, NULL, &st)) != CLI_EXIT_OK)
		return rc;
	r = val_station_open(st, &v->so, vs, &why);
	station_close(st);
	if (r != PV_OK)
		return cli_fail("validate", r, &why);
	return CLI_EXIT_OK;
}

/* ---- --cert -------------------------------------------------------------------- */

static int
val_cmd_cert(struct cli_global *g, struct val_cli *v)
{
	struct pv_why why = { { 0 } };
	struct val_station vs;
	struct val_params p;
	struct val_report *rep = NULL;
	STACK_OF(X509) *sk = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	char subj[VAL_SUBJECT_MAX];
	unsigned i;
	int rc;
	enum pv_err r;

	memset(&vs, 0, sizeof(vs));
	if ((r = pkix_read_file(v->cert, 1024 * 1024, &buf, &n, &why)) !=
	    PV_OK || (r = val_certs_decode(buf, n, &sk, &why)) != PV_OK) {
		cli_error("validate: %s%s%s", r == PV_E_INPUT ? v->cert : "",
		    r == PV_E_INPUT ? ": " : "", why.msg[0] ? why.msg :
		    pv_strerror(r));
		rc = CLI_EXIT_INPUT;
		goto out;
	}
	if ((rc = val_station_setup(g, v, &vs)) != CLI_EXIT_OK)
		goto out;
	p = vs.plain;
	p.n_policies = 0;
	for (i = 0; i < v->n_policies; i++)
		(void)snprintf(p.policies[p.n_policies++], VAL_OID_MAX, "%s",
		    v->policies[i]);
	p.explicit_policy = v->explicit_policy;
	p.inhibit_any = v->inhibit_any;
	p.inhibit_mapping = v->inhibit_map;
	if (v->at != NULL && (r = val_time_parse(v->at, &p.at, &why)) !=
	    PV_OK) {
		rc = cli_usage_error("validate", "--at: %s", why.msg);
		goto out;
	}
	if ((rep = malloc(sizeof(*rep))) == NULL) {
		cli_error("validate: out of memory");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	val_report_init(rep);
	/* Certificates after the first in the file are intermediates. */
	if ((r = val_cert(vs.ctx, sk_X509_value(sk, 0), sk, &p, rep, &why)) !=
	    PV_OK) {
		cli_error("validate: %s", why.msg[0] ? why.msg : pv_strerror(r));
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	val_subject(sk_X509_value(sk, 0), subj, sizeof(subj));
	val_render(g, rep, subj, vs.anchors_from);
	rc = rep->valid ? CLI_EXIT_OK : CLI_EXIT_VERIFY;
out:
	free(rep);
	sk_X509_pop_free(sk, X509_free);
	OPENSSL_free(buf);
	val_station_close(&vs);
	return rc;
}

/* ---- -r READER ------------------------------------------------------------------ */

static int
val_read_pin(const struct val_cli *v, struct pkix_pass *pin)
{
	struct pv_why why = { { 0 } };
	enum pv_err r;

	if (v->pin_stdin) {
		if ((r = pkix_pass_from_fd(STDIN_FILENO, pin, &why)) != PV_OK) {
			cli_error("validate: --pin-stdin: %s", r == PV_E_INPUT ?
			    "no PIN on standard input" : (why.msg[0] ? why.msg :
			    pv_strerror(r)));
			return CLI_EXIT_INPUT;
		}
	} else if ((r = cli_prompt_secret("PIN", false, pin, &why)) !=
	    PV_OK) {
		return cli_fail("validate: PIN", r, &why);
	}
	if (pin->len < 1 || pin->len > 8) {
		pkix_pass_clear(pin);
		cli_error("validate: the PIN must be 1 to 8 characters");
		return CLI_EXIT_INPUT;
	}
	return CLI_EXIT_OK;
}

static int
val_cmd_card(struct cli_global *g, struct val_cli *v)
{
	struct pv_why why = { { 0 } };
	struct val_station vs;
	struct val_card_opts co;
	struct val_report *rep = NULL;
	struct pcsc_session_opts so;
	struct pcsc_session *s = NULL;
	struct card card;
	struct pkix_pass pin;
	char title[PCSC_READER_NAME_MAX + 32];
	int rc;
	enum pv_err r;

	memset(&vs, 0, sizeof(vs));
	memset(&pin, 0, sizeof(pin));
	memset(&co, 0, sizeof(co));
	(void)secret_harden_process();
	co.at = time(NULL);
	if (v->at != NULL && (r = val_time_parse(v->at, &co.at, &why)) !=
	    PV_OK)
		return cli_usage_error("validate", "--at: %s", why.msg);
	co.pop = !v->no_pop;
	co.pin_pad = v->pin_pad;
	if (co.pop && !co.pin_pad && (rc = val_read_pin(v, &pin)) !=
	    CLI_EXIT_OK)
		goto out;
	co.pin = (const uint8_t *)pin.v;
	co.pin_len = pin.len;
	if ((rc = val_station_setup(g, v, &vs)) != CLI_EXIT_OK)
		goto out;
	co.card_auth = v->card_auth || vs.card_auth;
	if ((rep = malloc(sizeof(*rep))) == NULL) {
		cli_error("validate: out of memory");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	val_report_init(rep);
	memset(&so, 0, sizeof(so));
	so.reader = g->reader;
	so.trace_path = g->trace_path;
	so.trace_json = g->trace_json;
	so.share = PCSC_SHARE_SHARED;
	if ((r = pcsc_session_open(&so, &s, &why)) != PV_OK) {
		cli_error("validate: %s", why.msg[0] ? why.msg : pv_strerror(r));
		rc = cli_exit_for(r);
		goto out;
	}
	card_from_session(&card, s);
	if (co.pin_pad && (r = card_check_pad(&card, false, &why)) != PV_OK) {
		rc = cli_fail("validate", r, &why);
		goto out;
	}
	if (co.pin_pad)
		fprintf(stderr, "pivstation: validate: the cardholder types the "
		    "PIN on the reader's PIN pad\n");
	if ((r = val_card_validate(&vs, &card, &co, rep, &why)) != PV_OK) {
		rc = cli_fail("validate", r, &why);
		goto out;
	}
	(void)snprintf(title, sizeof(title), "card in %s", s->reader);
	val_render(g, rep, title, vs.anchors_from);
	rc = rep->valid ? CLI_EXIT_OK : CLI_EXIT_VERIFY;
out:
	if (g->stats && s != NULL) {
		struct pcsc_session_stats st;
		char line[512];

		pcsc_session_stats(s, &st);
		pcsc_stats_format(&st, line, sizeof(line));
		fprintf(stderr, "stats: validate: %s\n", line);
	}
	pkix_pass_clear(&pin);
	free(rep);
	pcsc_session_close(s);
	val_station_close(&vs);
	return rc;
}

int
cli_cmd_validate(struct cli_global *g, int argc, char **argv)
{
	struct val_cli v;
	int rc;

	if ((rc = val_parse(g, argc, argv, &v)) != CLI_EXIT_OK)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (v.cert != NULL)
		return val_cmd_cert(g, &v);
	return val_cmd_card(g, &v);
}
