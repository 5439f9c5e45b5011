/*
 * cmd_job.c: `pivstation job list` and `pivstation job cancel`
 * (issuance/job_cancel.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "apdu/text.h"
#include "cli/cli.h"
#include "issuance/home.h"
#include "issuance/job_cancel.h"
#include "issuance/secret.h"
#include "issuance/operator.h"
#include "issuance/station.h"
#include "issuance/store.h"

enum { JOB_OPT_ALL = CLI_OPT__NEXT, JOB_OPT_REASON };

static void
job_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation job list [--all] [--json]\n"
	    "       pivstation job cancel ID --reason TEXT [--json]\n"
	    "\n"
	    "Issuance jobs are resumable: an interrupted `pivstation issue`\n"
	    "leaves its job running, bound to its card, and the person can\n"
	    "only be issued that card until the job finishes.\n"
	    "\n"
	    "list    the running jobs (every job with --all): id, kind, state,\n"
	    "        person, device serial / GUID, reader, start time and the\n"
	    "        last step done.\n"
	    "cancel  give up job ID because its card is lost for good: every\n"
	    "        live certificate of its device is revoked (keyCompromise),\n"
	    "        the device is terminated, the job is cancelled with the\n"
	    "        reason and the audit log records who and why.  Escrowed\n"
	    "        keys are kept.  A job that is done is refused.\n"
	    "\n"
	    "  --all          list jobs in every state\n"
	    "  --reason TEXT  why the job is cancelled (required)\n"
	    "  --json         machine-readable output\n");
}

static void
job_guid_hex(const struct job_info *ji, char out[33])
{
	out[0] = '\0';
	if (ji->has_guid)
		buf_hex(ji->guid, 16, out);
}

/* job_json: one job as a JSON object; text from the store through
 * cli_json_str. */
static json_object *
job_json(const struct job_info *ji)
{
	json_object *o = json_object_new_object();
	char when[TEXT_UTC_LEN], guid[33];

	text_utc(ji->row.created_at, when);
	job_guid_hex(ji, guid);
	json_object_object_add(o, "id", json_object_new_int64(ji->row.id));
	json_object_object_add(o, "kind", cli_json_str(ji->row.kind));
	json_object_object_add(o, "state", json_object_new_string(
	    store_job_state_name(ji->row.state)));
	json_object_object_add(o, "person", cli_json_str(ji->person));
	json_object_object_add(o, "device_id",
	    json_object_new_int64(ji->row.device_id));
	json_object_object_add(o, "serial", cli_json_str(ji->serial));
	json_object_object_add(o, "guid", json_object_new_string(guid));
	json_object_object_add(o, "device_status", json_object_new_string(
	    ji->has_device ? store_device_status_name(ji->device_status) :
	    ""));
	json_object_object_add(o, "reader", cli_json_str(ji->row.reader));
	json_object_object_add(o, "started",
	    json_object_new_int64(ji->row.created_at));
	json_object_object_add(o, "started_utc", json_object_new_string(when));
	json_object_object_add(o, "last_step_done",
	    cli_json_str(ji->last_done));
	json_object_object_add(o, "steps_done",
	    json_object_new_int64(ji->steps_done));
	json_object_object_add(o, "steps", json_object_new_int64(ji->n_steps));
	json_object_object_add(o, "detail", cli_json_str(ji->row.detail));
	return o;
}

static void
job_print_text(const struct job_info *ji)
{
	char when[TEXT_UTC_LEN], guid[33];

	text_utc(ji->row.created_at, when);
	job_guid_hex(ji, guid);
	printf("job %lld  %s  %s  person ", (long long)ji->row.id,
	    ji->row.kind, store_job_state_name(ji->row.state));
	cli_print_safe(stdout, ji->person[0] ? ji->person : "-", 0);
	printf("  started %s\n", when);
	printf("  device   ");
	if (!ji->has_device) {
		printf("not registered yet\n");
	} else {
		printf("%lld (%s)", (long long)ji->row.device_id,
		    store_device_status_name(ji->device_status));
		if (ji->serial[0] != '\0') {
			printf(" serial ");
			cli_print_safe(stdout, ji->serial, 0);
		}
		if (guid[0] != '\0')
			printf(" guid %s", guid);
		putchar('\n');
	}
	printf("  reader   ");
	cli_print_safe(stdout, ji->row.reader[0] ? ji->row.reader : "-", 0);
	printf("\n  progress %u of %u steps done, last: %s\n", ji->steps_done,
	    ji->n_steps, ji->last_done[0] ? ji->last_done : "none");
	if (ji->row.detail[0] != '\0') {
		printf("  detail   ");
		cli_print_safe(stdout, ji->row.detail, 0);
		putchar('\n');
	}
}

static int
job_list_cmd(struct cli_global *g, bool all)
{
	struct pv_why why = { "" };
	struct job_info *list = NULL;
	struct station *stn = NULL;
	struct store *st;
	size_t n = 0, i;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	st = station_store(stn);
	r = job_info_list(st, all, &list, &n, &why);
	station_close(stn);
	if (r != PV_OK) {
		cli_error("job list: %s", why.msg[0] ? why.msg :
		    pv_strerror(r));
		return cli_exit_for(r);
	}
	if (g->json) {
		json_object *doc = json_object_new_object();
		json_object *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(arr, job_json(&list[i]));
		json_object_object_add(doc, "jobs", arr);
		cli_json_line(doc);
	} else if (n == 0) {
		printf("no %sjobs\n", all ? "" : "running ");
	} else {
		for (i = 0; i < n; i++)
			job_print_text(&list[i]);
	}
	free(list);
	return CLI_EXIT_OK;
}

static int
job_cancel_cmd(struct cli_global *g, const char *id_text, const char *reason)
{
	struct pv_why why = { "" };
	struct job_cancel_result res;
	struct station *stn = NULL;
	struct store *st;
	unsigned long long id;
	enum pv_err r;
	size_t i, shown;
	int rc;

	if (!buf_dec_uint(id_text, INT64_MAX, &id) || id == 0)
		return cli_usage_error("job", "cancel: expected a job number, "
		    "got '%s'", id_text);
	if (reason == NULL)
		return cli_usage_error("job", "cancel: --reason TEXT is "
		    "required");
	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	st = station_store(stn);
	if ((rc = cli_permit(stn, OP_LIFECYCLE)) != CLI_EXIT_OK) {
		station_close(stn);
		return rc;
	}
	memset(&res, 0, sizeof(res));
	r = job_cancel(st, (int64_t)id, reason, &res, &why);
	if (r != PV_OK) {
		station_close(stn);
		cli_error("%s", why.msg[0] ? why.msg : pv_strerror(r));
		return cli_exit_for(r);
	}
	if ((rc = cli_station_done(stn, CLI_EXIT_OK)) != CLI_EXIT_OK)
		return rc;
	shown = res.n_revoked < JOB_CANCEL_MAX_REVOKED ? res.n_revoked :
	    JOB_CANCEL_MAX_REVOKED;
	if (g->json) {
		json_object *o = json_object_new_object();
		json_object *arr = json_object_new_array();

		json_object_object_add(o, "job",
		    json_object_new_int64((int64_t)id));
		json_object_object_add(o, "state",
		    json_object_new_string("cancelled"));
		json_object_object_add(o, "device_id",
		    json_object_new_int64(res.device_id));
		json_object_object_add(o, "device_terminated",
		    json_object_new_boolean(res.device_terminated));
		for (i = 0; i < shown; i++)
			json_object_array_add(arr,
			    cli_json_str(res.revoked[i]));
		json_object_object_add(o, "revoked", arr);
		json_object_object_add(o, "n_revoked",
		    json_object_new_int64((int64_t)res.n_revoked));
		cli_json_line(o);
		return CLI_EXIT_OK;
	}
	printf("job %llu cancelled\n", id);
	if (res.device_terminated)
		printf("device %lld terminated, %zu certificate%s revoked "
		    "(keyCompromise)\n", (long long)res.device_id,
		    res.n_revoked, res.n_revoked == 1 ? "" : "s");
	for (i = 0; i < shown; i++)
		printf("  revoked %s\n", res.revoked[i]);
	if (res.n_revoked > 0)
		printf("publish a new CRL: pivstation ca crl\n");
	return CLI_EXIT_OK;
}

int
cli_cmd_job(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "all", no_argument, NULL, JOB_OPT_ALL },
		{ "reason", required_argument, NULL, JOB_OPT_REASON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sub, *reason = NULL;
	bool all = false;
	int c;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case JOB_OPT_ALL:
			all = true;
			break;
		case JOB_OPT_REASON:
			reason = optarg;
			break;
		case 'h':
			job_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("job", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("job", "expected 'list' or 'cancel'");
	sub = argv[optind];
	if (strcmp(sub, "list") == 0) {
		if (optind + 1 < argc)
			return cli_usage_error("job", "list: unexpected "
			    "argument '%s'", argv[optind + 1]);
		if (reason != NULL)
			return cli_usage_error("job", "list: --reason is for "
			    "cancel");
		return job_list_cmd(g, all);
	}
	if (strcmp(sub, "cancel") == 0) {
		if (optind + 2 != argc)
			return cli_usage_error("job", "cancel: expected one "
			    "argument, the job number");
		if (all)
			return cli_usage_error("job", "cancel: --all is for "
			    "list");
		return job_cancel_cmd(g, argv[optind + 1], reason);
	}
	return cli_usage_error("job", "unknown subcommand '%s'", sub);
}
