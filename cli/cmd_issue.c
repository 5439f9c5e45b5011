/*
 * cmd_issue.c: `pivstation issue`: issue (or finish issuing) a primary PIV
 * credential onto the card or USB key in one reader, for the person an
 * identity file describes (issuance/wf_issue.h does the work).  Progress
 * goes step by step to stderr, or as JSON Lines events on stdout with
 * --json, the last line being the result.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
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
#include "issuance/ca.h"
#include "issuance/card.h"
#include "issuance/config.h"
#include "issuance/home.h"
#include "issuance/identity.h"
#include "issuance/pkix_util.h"
#include "issuance/operator.h"
#include "issuance/station.h"
#include "issuance/store.h"
#include "issuance/wf.h"
#include "issuance/wf_issue.h"
#include "pcsc/part10.h"
#include "pcsc/session.h"

enum {
	ISS_OPT_IDENTITY = CLI_OPT__NEXT,
	ISS_OPT_PIN_STDIN,
	ISS_OPT_PIN_PAD,
	ISS_OPT_REISSUE,
	ISS_OPT_UPDATE_PERSON,
	ISS_OPT_PASS_FILE,
	ISS_OPT_PASS_FD
};

static void
iss_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation issue -r READER --identity FILE.json\n"
	    "                        [--pin-stdin | --pin-pad] [--reissue]\n"
	    "                        [--update-person]\n"
	    "                        [--passphrase-file FILE | --passphrase-fd N]\n"
	    "                        [--json] [--stats] [--trace FILE] [--home DIR]\n"
	    "\n"
	    "Issue a primary PIV credential onto the blank card or USB key in\n"
	    "READER for the person FILE.json describes (examples/identity.json):\n"
	    "management key replaced by this station's per-card key, signed\n"
	    "CHUID, random escrowed PUK, the person's PIN, keys and certificates\n"
	    "for 9A 9C 9D 9E (9D made on the station and escrowed to the key\n"
	    "recovery agent where the token can import it), CCC, Discovery,\n"
	    "Key History, Printed Information and the signed Security Object.\n"
	    "\n"
	    "The issuance is a job in the store: if the card is pulled, the\n"
	    "process killed or pcscd restarted, run the same command again with\n"
	    "the card back and it finishes the job.\n"
	    "\n"
	    "  -r READER              index, name part, serial:N or guid:HEX\n"
	    "  --identity FILE        the person (JSON; every field checked)\n"
	    "  --pin-stdin            read the person's new PIN, one line, from\n"
	    "                         standard input (else a prompt, twice)\n"
	    "  --pin-pad              the cardholder types the new PIN twice on\n"
	    "                         the reader's PIN pad (PC/SC part 10); it\n"
	    "                         never reaches this program.  Exit 3 when\n"
	    "                         nobody types in 30 s, 130 on the pad's\n"
	    "                         Cancel key, 6 when the two entries differ\n"
	    "  --reissue              issue again a card that is not blank,\n"
	    "                         revoking what the store has for it\n"
	    "  --update-person        the person is in the store with other\n"
	    "                         details (a new name, e-mail ...): change\n"
	    "                         them (audited with the old values); else\n"
	    "                         that is refused before the card is touched\n"
	    "  --passphrase-file FILE / --passphrase-fd N\n"
	    "                         the CA passphrase (else\n"
	    "                         $PIVSTATION_CA_PASSPHRASE, [ca] passphrase,\n"
	    "                         a prompt)\n"
	    "  --json                 JSON Lines events on stdout, the result last\n"
	    "  --stats                APDU counts and times on stderr\n");
}

/* ---- progress ------------------------------------------------------------------ */

struct iss_ctx {
	bool json;
};

static void
iss_progress(void *ctx, const struct wf_event *ev)
{
	const struct iss_ctx *c = ctx;

	cli_wf_event("issue", c->json, 2, 10, ev);
}

/* Tells the person at the pad what to type (stderr, or a JSON event);
 * issue asks nothing else in the middle of a run. */
static enum pv_err
iss_ask(void *ctx, const struct wf_ask *q, struct pkix_pass *answer,
    struct pv_why *why)
{
	const struct iss_ctx *c = ctx;
	const char *text = q->text;
	json_object *o;

	(void)answer;
	if (q->kind != WF_ASK_PAD)
		return pv_why_set(why, PV_E_INPUT, "%s: nobody to ask", q->text);

	if (c->json && (o = json_object_new_object()) != NULL) {
		/* json-c takes NULL values as JSON null. */
		json_object_object_add(o, "event",
		    json_object_new_string("pin-pad"));
		json_object_object_add(o, "text", cli_json_str(text));
		cli_json_line(o);
		return PV_OK;
	}
	fputs("issue: PIN pad: ", stderr);
	cli_print_safe(stderr, text, 0);
	fputc('\n', stderr);
	return PV_OK;
}

/* ---- the PIN ----------------------------------------------------------------------- */

/*
 * iss_read_pin reads the new PIN into |pin| (one line from stdin, or a
 * no-echo prompt twice on the terminal).  Returns an exit code.
 */
static int
iss_read_pin(bool from_stdin, struct pkix_pass *pin)
{
	struct pv_why why = { "" };
	enum pv_err r;
	int fd;

	if (from_stdin) {
		if ((r = pkix_pass_from_fd(STDIN_FILENO, pin, &why)) != PV_OK) {
			pkix_pass_clear(pin);
			cli_error("issue: --pin-stdin: %s", r == PV_E_INPUT ?
			    "no PIN on standard input" : (why.msg[0] ?
			    why.msg : pv_strerror(r)));
			return CLI_EXIT_INPUT;
		}
		return CLI_EXIT_OK;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("issue: the person's new PIN is needed and there is no "
		    "terminal to ask on: give --pin-stdin (one line on standard "
		    "input)");
		return CLI_EXIT_USAGE;
	}
	(void)close(fd);
	if ((r = cli_prompt_secret("new PIN", true, pin, &why)) != PV_OK)
		return cli_fail("issue: new PIN", r, &why);
	return CLI_EXIT_OK;
}

/* ---- output ------------------------------------------------------------------------ */

/* A date of the result, or "-" when there is none. */
static void
iss_date(int64_t t, char out[TEXT_UTC_LEN])
{
	if (t <= 0)
		(void)snprintf(out, TEXT_UTC_LEN, "-");
	else
		text_utc(t, out);
}


static void
iss_print_result(const struct cli_global *g, const struct wf_issue_result *res,
    const struct pcsc_session *s, enum pv_err r, const struct pv_why *why,
    int rc, const struct identity *ident)
{
	struct pcsc_session_stats st;
	char guid[33], uuid[PKIX_UUID_STR_LEN], exp[TEXT_UTC_LEN], when[TEXT_UTC_LEN];
	char name[3 * IDENTITY_NAME_MAX + 8], done[3 * IDENTITY_NAME_MAX + 96];
	json_object *o, *c, *x;
	int i;

	buf_hex(res->guid, 16, guid);
	pkix_uuid_str(res->guid, uuid);
	iss_date(res->expires_at, exp);
	iss_date(res->issued_at, when);
	if (ident == NULL ||
	    identity_printed_name(ident, name, sizeof(name)) != PV_OK)
		(void)snprintf(name, sizeof(name), "this person");
	(void)snprintf(done, sizeof(done), "already issued to %s by job %lld "
	    "on %s: nothing to do", name, (long long)res->job_id, when);
	memset(&st, 0, sizeof(st));
	if (s != NULL)
		pcsc_session_stats(s, &st);
	if (!g->json) {
		if (r == PV_OK && res->already_issued)
			printf("%s\n", done);
		if (r == PV_OK) {
			printf("%s: job %lld, device %lld (%s%s%s)\n",
			    res->already_issued ? "card" : "issued",
			    (long long)res->job_id, (long long)res->device_id,
			    store_device_type_name(res->type),
			    res->serial[0] ? ", serial " : "", res->serial);
			printf("  FASC-N     %s\n  card UUID  %s\n  expires    "
			    "%s\n", res->fascn, uuid, exp);
			for (i = 0; i < 4; i++)
				printf("  cert %s    %s\n", config_slot_name((enum config_slot)i),
				    res->cert_serial[i][0] ? res->cert_serial[i] :
				    "-");
			printf("  9D key     %s\n  PUK        %s\n"
			    "  mgmt key   %s%s\n",
			    res->key_9d_escrowed ? "escrowed to the KRA" :
			    "made on the card, not escrowed",
			    res->puk_escrowed ? "random, escrowed to the KRA" :
			    "random, not escrowed", res->mgmt_alg,
			    res->mgmt_changed ? ", this station's per-card key" :
			    ", factory default");
		}
		if (g->stats) {
			char line[512];

			if (s != NULL) {
				pcsc_stats_format(&st, line, sizeof(line));
				fprintf(stderr, "stats: issue: %s\n", line);
			}
			fprintf(stderr, "stats: issue: workflow %.3f s, of which "
			    "card %.3f s, host %.3f s; %u step(s) run\n",
			    (double)res->ns_total / 1e9,
			    (double)res->ns_card / 1e9,
			    (double)(res->ns_total - res->ns_card) / 1e9,
			    res->steps_run);
		}
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
	if (res->job_id != 0)
		json_object_object_add(o, "job",
		    json_object_new_int64(res->job_id));
	json_object_object_add(o, "resumed",
	    json_object_new_boolean(res->resumed));
	json_object_object_add(o, "already_issued",
	    json_object_new_boolean(res->already_issued));
	if (res->already_issued) {
		json_object_object_add(o, "issued_at",
		    json_object_new_string(when));
		json_object_object_add(o, "text",
		    json_object_new_string(done));
	}
	if (res->device_id != 0) {
		json_object_object_add(o, "device",
		    json_object_new_int64(res->device_id));
		json_object_object_add(o, "person",
		    json_object_new_int64(res->person_id));
		json_object_object_add(o, "type", json_object_new_string(
		    store_device_type_name(res->type)));
		if (res->serial[0])
			json_object_object_add(o, "serial",
			    json_object_new_string(res->serial));
		json_object_object_add(o, "guid", json_object_new_string(guid));
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
		json_object_object_add(o, "fascn",
		    json_object_new_string(res->fascn));
		json_object_object_add(o, "expires", json_object_new_string(exp));
		c = json_object_new_object();
		for (i = 0; i < 4; i++)
			if (res->cert_serial[i][0])
				json_object_object_add(c, config_slot_name((enum config_slot)i),
				    json_object_new_string(res->cert_serial[i]));
		json_object_object_add(o, "certificates", c);
		json_object_object_add(o, "key_9d_escrowed",
		    json_object_new_boolean(res->key_9d_escrowed));
		json_object_object_add(o, "puk_escrowed",
		    json_object_new_boolean(res->puk_escrowed));
		if (res->mgmt_alg[0]) {
			x = json_object_new_object();
			json_object_object_add(x, "alg",
			    json_object_new_string(res->mgmt_alg));
			json_object_object_add(x, "changed",
			    json_object_new_boolean(res->mgmt_changed));
			json_object_object_add(o, "mgmt_key", x);
		}
	}
	json_object_object_add(o, "steps_run",
	    json_object_new_int((int)res->steps_run));
	x = json_object_new_object();
	json_object_object_add(x, "ns_total",
	    json_object_new_int64((int64_t)res->ns_total));
	json_object_object_add(x, "ns_card",
	    json_object_new_int64((int64_t)res->ns_card));
	if (s != NULL) {
		json_object_object_add(x, "apdus",
		    json_object_new_int64((int64_t)st.tr.n_apdus));
		json_object_object_add(x, "bytes_out",
		    json_object_new_int64((int64_t)st.tr.bytes_out));
		json_object_object_add(x, "bytes_in",
		    json_object_new_int64((int64_t)st.tr.bytes_in));
		json_object_object_add(x, "ns_transmit",
		    json_object_new_int64((int64_t)st.tr.ns_transmit));
	}
	json_object_object_add(o, "stats", x);
	cli_json_line(o);
	if (g->stats && s != NULL) {
		char line[512];

		pcsc_stats_format(&st, line, sizeof(line));
		fprintf(stderr, "stats: issue: %s\n", line);
	}
}

/* A refusal or failure before the card, in text or JSON. */
static int
iss_fail(const struct cli_global *g, enum pv_err r, int rc, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
iss_fail(const struct cli_global *g, enum pv_err r, int rc, const char *fmt,
    ...)
{
	struct wf_issue_result none;
	struct pv_why why;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why.msg, sizeof(why.msg), fmt, ap);
	va_end(ap);
	cli_error("issue: %s", why.msg);
	if (g->json) {
		memset(&none, 0, sizeof(none));
		iss_print_result(g, &none, NULL, r, &why, rc, NULL);
	}
	return rc;
}

/* ---- the command ------------------------------------------------------------------ */

int
cli_cmd_issue(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "identity", required_argument, NULL, ISS_OPT_IDENTITY },
		{ "pin-stdin", no_argument, NULL, ISS_OPT_PIN_STDIN },
		{ "pin-pad", no_argument, NULL, ISS_OPT_PIN_PAD },
		{ "reissue", no_argument, NULL, ISS_OPT_REISSUE },
		{ "update-person", no_argument, NULL, ISS_OPT_UPDATE_PERSON },
		{ "passphrase-file", required_argument, NULL, ISS_OPT_PASS_FILE },
		{ "passphrase-fd", required_argument, NULL, ISS_OPT_PASS_FD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct iss_ctx ictx;
	struct identity ident;
	struct pkix_pass pin;
	struct pass_chain pc;
	struct station *stn = NULL;
	struct pcsc_session *s = NULL;
	struct pcsc_session_opts so;
	struct wf_issue_params p;
	struct wf_issue_result res;
	struct wf_hooks hooks;
	struct card card;
	const char *id_path = NULL;
	bool pin_stdin = false, pin_pad = false, reissue = false;
	bool update_person = false;
	int c, rc = CLI_EXIT_FAIL;
	enum pv_err r;

	memset(&pin, 0, sizeof(pin));
	memset(&res, 0, sizeof(res));
	cli_pass_chain(&pc);
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case ISS_OPT_IDENTITY: id_path = optarg; break;
		case ISS_OPT_PIN_STDIN: pin_stdin = true; break;
		case ISS_OPT_PIN_PAD: pin_pad = true; break;
		case ISS_OPT_REISSUE: reissue = true; break;
		case ISS_OPT_UPDATE_PERSON: update_person = true; break;
		case ISS_OPT_PASS_FILE: pc.src[PASS_CA].file = optarg; break;
		case ISS_OPT_PASS_FD:
			if ((rc = cli_fd_arg("issue", "--passphrase-fd", optarg,
			    &pc.src[PASS_CA].fd)) != CLI_EXIT_OK)
				return rc;
			break;
		case 'h':
			iss_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("issue", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("issue", "unexpected argument '%s'",
		    argv[optind]);
	if (id_path == NULL)
		return cli_usage_error("issue", "--identity FILE.json is "
		    "required");
	if (g->reader == NULL)
		return cli_usage_error("issue", "-r READER is required (see "
		    "'pivstation readers')");
	if (pin_stdin && pin_pad)
		return cli_usage_error("issue", "--pin-stdin and --pin-pad "
		    "exclude each other");
	(void)secret_harden_process();
	ictx.json = g->json;

	/* Everything that needs no card is checked first. */
	if ((r = identity_load_file(id_path, &ident, &why)) != PV_OK) {
		rc = iss_fail(g, r, cli_exit_for(r), "%s", why.msg[0] ?
		    why.msg : pv_strerror(r));
		goto out;
	}
	if ((rc = cli_station(g, STATION_NEED_CONFIG, &pc, &stn)) !=
	    CLI_EXIT_OK)
		goto out;
	if (!pin_pad && (rc = iss_read_pin(pin_stdin, &pin)) != CLI_EXIT_OK)
		goto out;
	if (!pin_pad && (r = config_check_pin(station_config(stn),
	    (const uint8_t *)pin.v, pin.len, &why)) != PV_OK) {
		rc = iss_fail(g, r, CLI_EXIT_INPUT, "%s", why.msg[0] ?
		    why.msg : pv_strerror(r));
		goto out;
	}
	/* The store and the CA keys once the inputs are good: the CA
	 * passphrase is asked only now. */
	if ((r = station_require(stn, STATION_NEED_STORE, &why)) != PV_OK ||
	    (r = station_permit(stn, OP_ISSUE, &why)) != PV_OK ||
	    (r = station_require(stn, STATION_NEED_CA_ISSUING |
	    STATION_NEED_CA_SIGNER, &why)) != PV_OK) {
		rc = iss_fail(g, r, cli_exit_for(r), "%s", why.msg[0] ?
		    why.msg : pv_strerror(r));
		goto out;
	}

	memset(&p, 0, sizeof(p));
	p.cfg = station_config(stn);
	p.ident = &ident;
	p.ca = station_ca(stn);
	p.master = station_master(stn);
	p.st = station_store(stn);
	p.pin = (const uint8_t *)pin.v;
	p.pin_len = pin.len;
	p.pin_pad = pin_pad;
	p.reissue = reissue;
	p.update_person = update_person;
	p.home = station_home(stn)->dir;
	memset(&hooks, 0, sizeof(hooks));
	hooks.event = iss_progress;
	hooks.ask = iss_ask;
	hooks.ctx = &ictx;
	p.hooks = &hooks;
	if ((r = wf_issue_check(&p, &why)) != PV_OK) {
		rc = iss_fail(g, r, cli_exit_for(r), "%s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		goto out;
	}

	memset(&so, 0, sizeof(so));
	so.reader = g->reader;
	so.trace_path = g->trace_path;
	so.trace_json = g->trace_json;
	so.share = PCSC_SHARE_SHARED;
	if ((r = pcsc_session_open(&so, &s, &why)) != PV_OK) {
		rc = iss_fail(g, r, cli_exit_for(r), "%s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		goto out;
	}
	card_from_session(&card, s);
	r = wf_issue_run(&p, &card, &res, &why);
	rc = cli_exit_for(r);
	if (r != PV_OK) {
		cli_error("issue: %s", why.msg[0] ? why.msg : pv_strerror(r));
		if (res.job_id != 0 && pin_pad && (r == PV_E_TIMEOUT ||
		    r == PV_E_CANCELLED || r == PV_E_INPUT))
			fprintf(stderr, "pivstation: issue: job %lld is kept: run "
			    "the same command again to finish it\n",
			    (long long)res.job_id);
		else if (res.job_id != 0 && r != PV_E_DIFFERENT_CARD &&
		    (rc == CLI_EXIT_NO_CARD || r == PV_E_RESET))
			fprintf(stderr, "pivstation: issue: job %lld is kept: put "
			    "the card back and run the same command again to "
			    "finish it\n", (long long)res.job_id);
	}
	iss_print_result(g, &res, s, r, &why, rc, &ident);
out:
	pkix_pass_clear(&pin);
	pcsc_session_close(s);
	return cli_station_done(stn, rc);
}
