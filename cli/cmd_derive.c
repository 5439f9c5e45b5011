/*
 * cmd_derive.c: `pivstation derive`: a derived PIV credential (SP 800-157)
 * from the valid primary PIV card in one reader (issuance/derive.h does
 * the work; this file parses, calls and renders).  Progress goes step by
 * step to stderr, or as JSON Lines events on stdout with --json, the last
 * line being the result.  The activation code (the PKCS#12 password) is
 * printed once, on stdout, and nowhere else.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "apdu/buf.h"
#include "apdu/text.h"
#include "cli/cli.h"
#include "issuance/card.h"
#include "issuance/config.h"
#include "issuance/derive.h"
#include "issuance/operator.h"
#include "issuance/pkix_util.h"
#include "issuance/station.h"
#include "issuance/store.h"
#include "issuance/val_card.h"
#include "issuance/val_station.h"
#include "issuance/wf.h"
#include "pcsc/session.h"

enum {
	DRV_OPT_PIN_STDIN = CLI_OPT__NEXT,
	DRV_OPT_PIN_PAD,
	DRV_OPT_TO,
	DRV_OPT_OUT,
	DRV_OPT_COMPAT,
	DRV_OPT_REASON,
	DRV_OPT_PASS_FILE,
	DRV_OPT_PASS_FD,
	DRV_OPT_KRA_FILE,
	DRV_OPT_KRA_FD,
	DRV_OPT_NO_FETCH
};

static void
drv_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation derive -r READER (--pin-stdin | --pin-pad) --to p12\n"
	    "                         --out FILE [--p12-compat modern|legacy]\n"
	    "                         [--reason TEXT] [--json]\n"
	    "\n"
	    "Derive a credential for the cardholder's mobile device (NIST SP 800-157)\n"
	    "from the primary PIV card in READER.  The card is first validated with\n"
	    "every check of 'pivstation validate', proof of possession included;\n"
	    "any failure stops before anything is written.  The person is found by\n"
	    "the card (a card issued elsewhere is recorded with its holder).\n"
	    "\n"
	    "  --to p12             keys made on this station (which keeps no copy):\n"
	    "                       a PKCS#12 with the Derived PIV Authentication\n"
	    "                       identity, the signature identity where [derive]\n"
	    "                       signature_targets says so, and the escrowed key-\n"
	    "                       management key(s) with their history, protected\n"
	    "                       by a one-time activation code shown once\n"
	    "  --out FILE           where the PKCS#12 goes (0600; not overwritten)\n"
	    "  --p12-compat MODE    modern (AES-256, PBKDF2-SHA256, SHA-256 MAC) or\n"
	    "                       legacy (3DES, SHA-1 MAC) for older phones;\n"
	    "                       default [derive] p12\n"
	    "  --reason TEXT        recorded with each escrowed key copied (default\n"
	    "                       \"derived credential for the cardholder\")\n"
	    "  --pin-stdin          the primary card's PIN, one line on standard input\n"
	    "  --pin-pad            the cardholder types it on the reader's pad\n"
	    "  --no-fetch           validation fetches nothing over the network\n"
	    "  --passphrase-file F, --passphrase-fd N          the CA passphrase\n"
	    "  --kra-passphrase-file F, --kra-passphrase-fd N  the KRA's\n"
	    "\n"
	    "A run stopped by a pulled card, a killed process or a restarted pcscd\n"
	    "is finished by running the same command again.\n");
}

struct drv_ctx {
	bool json;
};

static void
drv_progress(void *ctx, const struct wf_event *ev)
{
	const struct drv_ctx *c = ctx;

	cli_wf_event("derive", c->json, 0, 9, ev);
}

static enum pv_err
drv_ask(void *ctx, const struct wf_ask *q, struct pkix_pass *answer,
    struct pv_why *why)
{
	const struct drv_ctx *c = ctx;
	json_object *o;

	(void)answer;
	if (q->kind != WF_ASK_PAD)
		return pv_why_set(why, PV_E_INPUT, "%s: nobody to ask", q->text);
	if (c->json && (o = json_object_new_object()) != NULL) {
		json_object_object_add(o, "event",
		    json_object_new_string("pin-pad"));
		json_object_object_add(o, "text", cli_json_str(q->text));
		cli_json_line(o);
		return PV_OK;
	}
	fprintf(stderr, "derive: PIN pad: %s\n", q->text);
	return PV_OK;
}

/* The failed checks of a refused primary card. */
static void
drv_print_refusal(const struct cli_global *g, const struct val_report *rep,
    json_object *o)
{
	json_object *a = NULL, *c;
	size_t i;

	if (g->json)
		a = json_object_new_array();
	for (i = 0; i < rep->n; i++) {
		const struct val_check *k = &rep->check[i];

		if (k->status != VAL_FAIL)
			continue;
		if (a == NULL) {
			fprintf(stderr, "derive: fail %-20s %s: ", k->id,
			    k->name);
			cli_print_safe(stderr, k->text, 0);
			fputc('\n', stderr);
			continue;
		}
		c = json_object_new_object();
		json_object_object_add(c, "id", json_object_new_string(k->id));
		json_object_object_add(c, "text", cli_json_str(k->text));
		json_object_array_add(a, c);
	}
	if (a != NULL)
		json_object_object_add(o, "failed_checks", a);
}

static void
drv_print_result(const struct cli_global *g, const struct wf_derive_result *res,
    const struct val_report *rep, enum pv_err r, const struct pv_why *why,
    int rc)
{
	char uuid[PKIX_UUID_STR_LEN], due[TEXT_UTC_LEN];
	json_object *o, *a;
	size_t i;

	pkix_uuid_str(res->uuid, uuid);
	if (res->recheck_due > 0)
		text_utc(res->recheck_due, due);
	else
		(void)snprintf(due, sizeof(due), "-");
	if (!g->json) {
		if (res->refused && rep != NULL)
			drv_print_refusal(g, rep, NULL);
		if (r != PV_OK)
			return;
		printf("derived: job %lld, derived credential %lld (device %lld) "
		    "from primary device %lld, person %lld\n",
		    (long long)res->job_id, (long long)res->derived_id,
		    (long long)res->device_id, (long long)res->primary_id,
		    (long long)res->person_id);
		printf("  UUID             %s\n", uuid);
		printf("  authentication   %s\n", res->auth_serial[0] ?
		    res->auth_serial : "-");
		printf("  signature        %s\n", res->sign_serial[0] ?
		    res->sign_serial : "-");
		for (i = 0; i < res->n_km; i++)
			printf("  key management   %s%s\n", res->km_serial[i],
			    i == 0 ? "" : " (retired)");
		printf("  PKCS#12          %s (%s)\n", res->out_path,
		    res->p12_compat == CONFIG_P12_LEGACY ? "legacy" : "modern");
		printf("  re-check due     %s\n", due);
		if (res->code.v[0] != '\0')
			printf("activation code (the PKCS#12 password; shown once, "
			    "not kept): %s\n", res->code.v);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("result"));
	json_object_object_add(o, "ok", json_object_new_boolean(r == PV_OK));
	json_object_object_add(o, "exit", json_object_new_int(rc));
	if (r != PV_OK) {
		json_object_object_add(o, "error",
		    json_object_new_string(pv_errname(r)));
		json_object_object_add(o, "message", cli_json_str(
		    why->msg[0] ? why->msg : pv_strerror(r)));
	}
	json_object_object_add(o, "refused",
	    json_object_new_boolean(res->refused));
	if (res->refused && rep != NULL)
		drv_print_refusal(g, rep, o);
	if (res->job_id != 0)
		json_object_object_add(o, "job",
		    json_object_new_int64(res->job_id));
	json_object_object_add(o, "resumed",
	    json_object_new_boolean(res->resumed));
	if (res->derived_id != 0) {
		json_object_object_add(o, "derived",
		    json_object_new_int64(res->derived_id));
		json_object_object_add(o, "device",
		    json_object_new_int64(res->device_id));
		json_object_object_add(o, "primary",
		    json_object_new_int64(res->primary_id));
		json_object_object_add(o, "person",
		    json_object_new_int64(res->person_id));
		json_object_object_add(o, "created_person",
		    json_object_new_boolean(res->created_person));
		json_object_object_add(o, "target", json_object_new_string(
		    store_derived_target_name(res->target)));
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
	}
	if (r == PV_OK) {
		json_object_object_add(o, "auth_cert",
		    json_object_new_string(res->auth_serial));
		if (res->sign_serial[0])
			json_object_object_add(o, "sign_cert",
			    json_object_new_string(res->sign_serial));
		a = json_object_new_array();
		for (i = 0; i < res->n_km; i++)
			json_object_array_add(a,
			    json_object_new_string(res->km_serial[i]));
		json_object_object_add(o, "km_certs", a);
		json_object_object_add(o, "out", cli_json_str(res->out_path));
		json_object_object_add(o, "p12_compat", json_object_new_string(
		    res->p12_compat == CONFIG_P12_LEGACY ? "legacy" : "modern"));
		if (res->has_activation)
			json_object_object_add(o, "activation",
			    json_object_new_string(res->activation.id));
		/* Shown once: the station keeps only its keyed hash. */
		json_object_object_add(o, "activation_code",
		    json_object_new_string(res->code.v));
		json_object_object_add(o, "recheck_due",
		    json_object_new_string(due));
	}
	json_object_object_add(o, "steps_run",
	    json_object_new_int((int)res->steps_run));
	cli_json_line(o);
}

static int
drv_fail(const struct cli_global *g, enum pv_err r, const struct pv_why *why)
{
	struct wf_derive_result none;
	int rc = cli_exit_for(r);

	cli_error("derive: %s", why->msg[0] ? why->msg : pv_strerror(r));
	if (g->json) {
		memset(&none, 0, sizeof(none));
		drv_print_result(g, &none, NULL, r, why, rc);
	}
	return rc;
}

int
cli_cmd_derive(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "pin-stdin", no_argument, NULL, DRV_OPT_PIN_STDIN },
		{ "pin-pad", no_argument, NULL, DRV_OPT_PIN_PAD },
		{ "to", required_argument, NULL, DRV_OPT_TO },
		{ "out", required_argument, NULL, DRV_OPT_OUT },
		{ "p12-compat", required_argument, NULL, DRV_OPT_COMPAT },
		{ "reason", required_argument, NULL, DRV_OPT_REASON },
		{ "passphrase-file", required_argument, NULL, DRV_OPT_PASS_FILE },
		{ "passphrase-fd", required_argument, NULL, DRV_OPT_PASS_FD },
		{ "kra-passphrase-file", required_argument, NULL,
		    DRV_OPT_KRA_FILE },
		{ "kra-passphrase-fd", required_argument, NULL, DRV_OPT_KRA_FD },
		{ "no-fetch", no_argument, NULL, DRV_OPT_NO_FETCH },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct drv_ctx dctx;
	struct pkix_pass pin;
	struct pass_chain pc;
	struct station *stn = NULL;
	struct pcsc_session *s = NULL;
	struct pcsc_session_opts so;
	struct val_station_opts vso;
	struct val_station vs;
	struct val_report *rep = NULL;
	struct wf_derive_params p;
	struct wf_derive_result res;
	struct wf_hooks hooks;
	struct card card;
	EVP_PKEY *kra = NULL;
	const char *to = NULL, *out_path = NULL, *reason = NULL;
	bool pin_stdin = false, pin_pad = false, no_fetch = false;
	int compat = -1, c, rc = CLI_EXIT_FAIL;
	enum pv_err r;

	memset(&pin, 0, sizeof(pin));
	memset(&res, 0, sizeof(res));
	memset(&vs, 0, sizeof(vs));
	cli_pass_chain(&pc);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case DRV_OPT_PIN_STDIN: pin_stdin = true; break;
		case DRV_OPT_PIN_PAD: pin_pad = true; break;
		case DRV_OPT_TO: to = optarg; break;
		case DRV_OPT_OUT: out_path = optarg; break;
		case DRV_OPT_COMPAT:
			if (strcmp(optarg, "modern") == 0)
				compat = CONFIG_P12_MODERN;
			else if (strcmp(optarg, "legacy") == 0)
				compat = CONFIG_P12_LEGACY;
			else
				return cli_usage_error("derive", "--p12-compat: "
				    "expected modern or legacy, got '%s'",
				    optarg);
			break;
		case DRV_OPT_REASON: reason = optarg; break;
		case DRV_OPT_PASS_FILE: pc.src[PASS_CA].file = optarg; break;
		case DRV_OPT_PASS_FD:
			if ((rc = cli_fd_arg("derive", "--passphrase-fd", optarg,
			    &pc.src[PASS_CA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case DRV_OPT_KRA_FILE: pc.src[PASS_KRA].file = optarg; break;
		case DRV_OPT_KRA_FD:
			if ((rc = cli_fd_arg("derive", "--kra-passphrase-fd",
			    optarg, &pc.src[PASS_KRA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case DRV_OPT_NO_FETCH: no_fetch = true; break;
		case 'h':
			drv_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("derive", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("derive", "unexpected argument '%s'",
		    argv[optind]);
	if (g->reader == NULL)
		return cli_usage_error("derive", "-r READER (the primary card) "
		    "is required");
	if (to == NULL)
		return cli_usage_error("derive", "--to TARGET is required (p12)");
	if (pin_stdin == pin_pad)
		return cli_usage_error("derive", "give one of --pin-stdin and "
		    "--pin-pad (proof of possession of the primary card)");
	memset(&p, 0, sizeof(p));
	if (!store_derived_target_parse(to, &p.target))
		return cli_usage_error("derive", "--to: expected token, p12, "
		    "mobileconfig or csr, got '%s'", to);
	(void)secret_harden_process();
	dctx.json = g->json;

	if ((rc = cli_station(g, STATION_NEED_CONFIG, &pc, &stn)) !=
	    CLI_EXIT_OK)
		goto out;
	if (pin_stdin && (r = pkix_pass_from_fd(STDIN_FILENO, &pin, &why)) !=
	    PV_OK) {
		if (r == PV_E_INPUT) {
			pv_why_clear(&why);
			(void)pv_why_set(&why, r, "--pin-stdin: no PIN on "
			    "standard input");
		}
		rc = drv_fail(g, r, &why);
		goto out;
	}
	p.cfg = station_config(stn);
	p.pin = (const uint8_t *)pin.v;
	p.pin_len = pin.len;
	p.pin_pad = pin_pad;
	p.out_path = out_path;
	p.p12_compat = compat;
	p.reason = reason;
	/* What needs no card and no passphrase first. */
	if ((r = wf_derive_check(&p, &why)) != PV_OK &&
	    r != PV_E_STATE) {	/* the CA is not open yet */
		rc = drv_fail(g, r, &why);
		goto out;
	}
	pv_why_clear(&why);
	if ((r = station_require(stn, STATION_NEED_STORE, &why)) != PV_OK ||
	    (r = station_permit(stn, OP_DERIVE, &why)) != PV_OK ||
	    (r = station_require(stn, STATION_NEED_CA_ISSUING, &why)) !=
	    PV_OK ||
	    (p.cfg->derive_km && (r = station_kra_key(stn, &kra, &why)) !=
	    PV_OK)) {
		rc = drv_fail(g, r, &why);
		goto out;
	}
	val_station_opts_init(&vso);
	vso.no_fetch = no_fetch;
	if ((r = val_station_open(stn, &vso, &vs, &why)) != PV_OK) {
		rc = drv_fail(g, r, &why);
		goto out;
	}
	p.ca = station_ca(stn);
	p.master = station_master(stn);
	p.st = station_store(stn);
	p.vs = &vs;
	p.kra_key = kra;
	memset(&hooks, 0, sizeof(hooks));
	hooks.event = drv_progress;
	hooks.ask = drv_ask;
	hooks.ctx = &dctx;
	p.hooks = &hooks;
	if ((rep = malloc(sizeof(*rep))) == NULL) {
		r = pv_why_set(&why, PV_E_NOMEM, "out of memory");
		rc = drv_fail(g, r, &why);
		goto out;
	}

	memset(&so, 0, sizeof(so));
	so.reader = g->reader;
	so.trace_path = g->trace_path;
	so.trace_json = g->trace_json;
	so.share = PCSC_SHARE_SHARED;
	if ((r = pcsc_session_open(&so, &s, &why)) != PV_OK) {
		rc = drv_fail(g, r, &why);
		goto out;
	}
	card_from_session(&card, s);
	if (pin_pad && (r = card_check_pad(&card, false, &why)) != PV_OK) {
		rc = drv_fail(g, r, &why);
		goto out;
	}
	if (pin_pad)
		fprintf(stderr, "pivstation: derive: the cardholder types the "
		    "primary card's PIN on the reader's PIN pad\n");
	r = wf_derive_run(&p, &card, rep, &res, &why);
	rc = cli_exit_for(r);
	if (r != PV_OK) {
		cli_error("derive: %s", why.msg[0] ? why.msg : pv_strerror(r));
		if (res.job_id != 0 && !res.done)
			fprintf(stderr, "pivstation: derive: job %lld is kept: "
			    "run the same command again to finish it\n",
			    (long long)res.job_id);
	}
	drv_print_result(g, &res, rep, r, &why, rc);
	if (g->stats && s != NULL) {
		struct pcsc_session_stats st;
		char line[512];

		pcsc_session_stats(s, &st);
		pcsc_stats_format(&st, line, sizeof(line));
		fprintf(stderr, "stats: derive: %s\n", line);
	}
out:
	wf_derive_result_clear(&res);
	pkix_pass_clear(&pin);
	EVP_PKEY_free(kra);
	free(rep);
	pcsc_session_close(s);
	val_station_close(&vs);
	return cli_station_done(stn, rc);
}
