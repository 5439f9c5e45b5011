/*
 * cmd_unblock.c: `pivstation unblock -r READER`: the help desk unblocks
 * (or resets) a card's PIN with its escrowed PUK (issuance/wf_unblock.h).
 * Progress goes step by step to stderr, or as JSON Lines on stdout with
 * --json, the last line being the result.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "cli/cli.h"
#include "issuance/ca.h"
#include "issuance/card_open.h"
#include "issuance/station.h"
#include "issuance/wf.h"
#include "issuance/wf_unblock.h"

enum {
	UB_OPT_PIN_STDIN = CLI_OPT__NEXT,
	UB_OPT_PIN_PAD,
	UB_OPT_PASS_FILE,
	UB_OPT_PASS_FD
};

static void
ub_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation unblock -r READER [--pin-stdin | --pin-pad]\n"
	    "                          [--kra-passphrase-file FILE |\n"
	    "                           --kra-passphrase-fd N] [--json]\n"
	    "\n"
	    "Unblock the PIN of a card this station issued (or set a new one\n"
	    "when the cardholder forgot it) with the card's escrowed PUK: the\n"
	    "PUK is opened from its escrow envelope with the key recovery\n"
	    "agent's key and never shown.  A resumable job like issue: if the\n"
	    "card is pulled, run the same command again.\n"
	    "\n"
	    "  -r READER              index, name part, serial:N or guid:HEX\n"
	    "  --pin-stdin            the new PIN, one line on standard input\n"
	    "                         (else a prompt, twice)\n"
	    "  --pin-pad              the cardholder types the new PIN twice on\n"
	    "                         the reader's PIN pad; it never reaches\n"
	    "                         this program\n"
	    "  --kra-passphrase-file FILE / --kra-passphrase-fd N\n"
	    "                         the KRA passphrase (else\n"
	    "                         $PIVSTATION_KRA_PASSPHRASE, the CA's, a\n"
	    "                         prompt)\n"
	    "  --json                 JSON Lines events on stdout, the result last\n");
}

struct ub_ctx {
	bool json;
};

static void
ub_event(void *ctx, const struct wf_event *ev)
{
	const struct ub_ctx *c = ctx;

	cli_wf_event("unblock", c->json, 0, 10, ev);
}

static enum pv_err
ub_ask(void *ctx, const struct wf_ask *q, struct pkix_pass *answer,
    struct pv_why *why)
{
	const struct ub_ctx *c = ctx;
	json_object *o;

	(void)answer;
	if (q->kind != WF_ASK_PAD)
		return pv_why_set(why, PV_E_INPUT, "%s: nobody to ask", q->text);
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "event",
		    json_object_new_string("pin-pad"));
		json_object_object_add(o, "text", json_object_new_string(q->text));
		cli_json_line(o);
	} else {
		fprintf(stderr, "unblock: PIN pad: %s\n", q->text);
	}
	return PV_OK;
}

static void
ub_result(const struct cli_global *g, const struct wf_unblock_result *res,
    enum pv_err r, const struct pv_why *why, int rc)
{
	json_object *o;

	if (!g->json) {
		if (r == PV_OK)
			printf("PIN %s: job %lld, device %lld (%s)\n",
			    res->was_blocked ? "unblocked" : "reset",
			    (long long)res->job_id, (long long)res->device_id,
			    res->person);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("result"));
	json_object_object_add(o, "ok", json_object_new_boolean(r == PV_OK));
	json_object_object_add(o, "exit", json_object_new_int(rc));
	if (r != PV_OK) {
		json_object_object_add(o, "error",
		    json_object_new_string(pv_errname(r)));
		json_object_object_add(o, "message", cli_json_str(why->msg[0] ?
		    why->msg : pv_strerror(r)));
	}
	if (res->job_id != 0)
		json_object_object_add(o, "job",
		    json_object_new_int64(res->job_id));
	if (res->device_id != 0) {
		json_object_object_add(o, "device",
		    json_object_new_int64(res->device_id));
		json_object_object_add(o, "person", cli_json_str(res->person));
	}
	json_object_object_add(o, "was_blocked",
	    json_object_new_boolean(res->was_blocked));
	json_object_object_add(o, "resumed",
	    json_object_new_boolean(res->resumed));
	cli_json_line(o);
}

int
cli_cmd_unblock(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "pin-stdin", no_argument, NULL, UB_OPT_PIN_STDIN },
		{ "pin-pad", no_argument, NULL, UB_OPT_PIN_PAD },
		{ "kra-passphrase-file", required_argument, NULL,
		    UB_OPT_PASS_FILE },
		{ "kra-passphrase-fd", required_argument, NULL, UB_OPT_PASS_FD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct pass_chain pc;
	struct station *stn = NULL;
	struct card_conn *cc = NULL;
	struct card_conn_opts co;
	struct wf_unblock_params p;
	struct wf_unblock_result res;
	struct wf_hooks hooks;
	struct ub_ctx uctx;
	struct pkix_pass pin;
	EVP_PKEY *kra = NULL;
	bool pin_stdin = false, pin_pad = false;
	int c, rc = CLI_EXIT_FAIL, fd;
	enum pv_err r;

	memset(&pin, 0, sizeof(pin));
	memset(&res, 0, sizeof(res));
	cli_pass_chain(&pc);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case UB_OPT_PIN_STDIN: pin_stdin = true; break;
		case UB_OPT_PIN_PAD: pin_pad = true; break;
		case UB_OPT_PASS_FILE: pc.src[PASS_KRA].file = optarg; break;
		case UB_OPT_PASS_FD:
			if ((rc = cli_fd_arg("unblock", "--kra-passphrase-fd",
			    optarg, &pc.src[PASS_KRA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case 'h':
			ub_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("unblock", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("unblock", "unexpected argument '%s'",
		    argv[optind]);
	if (g->reader == NULL)
		return cli_usage_error("unblock", "-r READER is required (see "
		    "'pivstation readers')");
	if (pin_stdin && pin_pad)
		return cli_usage_error("unblock", "--pin-stdin and --pin-pad "
		    "exclude each other");
	(void)secret_harden_process();
	uctx.json = g->json;
	if ((rc = cli_station(g, STATION_NEED_STORE | STATION_NEED_CA, &pc,
	    &stn)) != CLI_EXIT_OK)
		goto out;
	if (!pin_pad) {
		if (pin_stdin) {
			r = pkix_pass_from_fd(STDIN_FILENO, &pin, &why);
			if (r != PV_OK) {
				cli_error("unblock: --pin-stdin: no PIN on "
				    "standard input");
				rc = CLI_EXIT_INPUT;
				goto out;
			}
		} else {
			if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY |
			    O_CLOEXEC)) < 0) {
				cli_error("unblock: the new PIN is needed and "
				    "there is no terminal to ask on: give "
				    "--pin-stdin or --pin-pad");
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			(void)close(fd);
			if ((r = cli_prompt_secret("new PIN", true, &pin,
			    &why)) != PV_OK) {
				rc = cli_fail("unblock: new PIN", r, &why);
				goto out;
			}
		}
	}
	memset(&p, 0, sizeof(p));
	p.cfg = station_config(stn);
	p.st = station_store(stn);
	p.master = station_master(stn);
	p.pin = (const uint8_t *)pin.v;
	p.pin_len = pin.len;
	p.pin_pad = pin_pad;
	/* The new PIN first: the KRA passphrase is asked only for a good
	 * one (wf_unblock_run checks it all again). */
	p.kra_cert = ca_get0_kra(station_ca(stn));
	if (!pin_pad && (r = config_check_pin(p.cfg, p.pin, p.pin_len,
	    &why)) != PV_OK) {
		rc = cli_fail("unblock", r, &why);
		goto out;
	}
	if ((r = station_kra_key(stn, &kra, &why)) != PV_OK) {
		rc = cli_fail("unblock: KRA key", r, &why);
		goto out;
	}
	p.kra_key = kra;
	memset(&hooks, 0, sizeof(hooks));
	hooks.event = ub_event;
	hooks.ask = ub_ask;
	hooks.ctx = &uctx;
	p.hooks = &hooks;
	co.trace_path = g->trace_path;
	co.trace_json = g->trace_json;
	if ((r = card_conn_open(g->reader, &co, &cc, &why)) != PV_OK) {
		rc = cli_fail("unblock", r, &why);
		ub_result(g, &res, r, &why, rc);
		goto out;
	}
	r = wf_unblock_run(&p, card_conn_card(cc), &res, &why);
	rc = cli_exit_for(r);
	if (r != PV_OK) {
		cli_error("unblock: %s", why.msg[0] ? why.msg : pv_strerror(r));
		if (res.job_id != 0 && rc == CLI_EXIT_NO_CARD)
			fprintf(stderr, "pivstation: unblock: job %lld is kept: "
			    "put the card back and run the same command again\n",
			    (long long)res.job_id);
	}
	ub_result(g, &res, r, &why, rc);
out:
	EVP_PKEY_free(kra);
	pkix_pass_clear(&pin);
	card_conn_close(cc);
	return cli_station_done(stn, rc);
}
