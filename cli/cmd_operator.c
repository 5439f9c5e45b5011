/*
 * cmd_operator.c: `pivstation operator add|list|disable|enable`: the
 * operators who sign in to the console with their own PIV card
 * (issuance/operator.h), their roles and their card.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "cli/cli.h"
#include "issuance/card_open.h"
#include "issuance/operator.h"
#include "issuance/pkix_util.h"
#include "issuance/station.h"
#include "issuance/store.h"

enum {
	OP_OPT_ROLE = CLI_OPT__NEXT,
	OP_OPT_UUID
};

static void
op_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation operator add NAME --role ROLES -r READER\n"
	    "       pivstation operator add NAME --role ROLES --card-uuid UUID\n"
	    "       pivstation operator list [--json]\n"
	    "       pivstation operator disable NAME\n"
	    "       pivstation operator enable NAME\n"
	    "\n"
	    "Operators sign in to `pivstation console` with their own PIV card\n"
	    "and PIN; every action is audited under their name.\n"
	    "\n"
	    "add      register NAME (printable ASCII, 1-63 bytes) with ROLES, a\n"
	    "         comma-separated list of enroller (issue cards), helpdesk\n"
	    "         (unblock, suspend, resume, terminate, recover keys,\n"
	    "         reissue) and admin (all of them), or all.  The card in\n"
	    "         READER is validated (as `pivstation validate` does, without\n"
	    "         a PIN) and the card UUID of its PIV Authentication\n"
	    "         certificate is recorded: that card signs NAME in.  Adding\n"
	    "         a NAME that exists replaces its roles and card and enables\n"
	    "         it.  --card-uuid records a UUID without the card.\n"
	    "list     the operators, their roles, card and state\n"
	    "disable  NAME can no longer sign in (the rows stay, for the log)\n"
	    "enable   NAME can sign in again\n");
}

static bool
op_parse_uuid(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t i, k = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '-')
			continue;
		if (k == 32)
			return false;
		hex[k++] = s[i];
	}
	hex[k] = '\0';
	return k == 32 && buf_unhex(hex, k, out, 16);
}

static int
op_add(struct cli_global *g, const char *name, const char *roles_s,
    const char *uuid_s)
{
	struct pv_why why = { "" };
	struct station *stn = NULL;
	struct card_conn *cc = NULL;
	struct val_report rep;
	char subject[STORE_OPERATOR_SUBJECT_MAX] = "", rt[64];
	char us[PKIX_UUID_STR_LEN];
	uint8_t uuid[16];
	unsigned roles;
	enum pv_err r;
	int rc;

	if (roles_s == NULL || !store_operator_roles_parse(roles_s, &roles))
		return cli_usage_error("operator", "--role: a comma-separated "
		    "list of enroller, helpdesk, admin (or all)");
	if ((g->reader == NULL) == (uuid_s == NULL))
		return cli_usage_error("operator", "add: give the operator's "
		    "card with -r READER, or its --card-uuid");
	if (uuid_s != NULL && !op_parse_uuid(uuid_s, uuid))
		return cli_usage_error("operator", "--card-uuid: 32 hex digits "
		    "(dashes allowed)");
	if ((r = station_check_actor(name, &why)) != PV_OK)
		return cli_fail("operator add", r, &why);
	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	if (uuid_s == NULL) {
		if ((r = card_conn_open(g->reader, NULL, &cc, &why)) != PV_OK) {
			rc = cli_fail("operator add", r, &why);
			goto out;
		}
		r = operator_card_identify(stn, NULL, card_conn_card(cc), uuid,
		    subject, sizeof(subject), &rep, &why);
		if (r != PV_OK) {
			rc = cli_fail("operator add", r, &why);
			goto out;
		}
	}
	if ((r = store_operator_register(station_store(stn), name, roles,
	    uuid, subject, NULL, &why)) != PV_OK) {
		rc = cli_fail("operator add", r, &why);
		goto out;
	}
	store_operator_roles_text(roles, rt, sizeof(rt));
	pkix_uuid_str(uuid, us);
	printf("operator %s: %s; signs in with the card %s", name, rt, us);
	if (subject[0] != '\0') {
		printf(" (");
		cli_print_safe(stdout, subject, 0);
		printf(")");
	}
	printf("\n");
	rc = CLI_EXIT_OK;
out:
	card_conn_close(cc);
	return cli_station_done(stn, rc);
}

static int
op_list(struct cli_global *g)
{
	struct pv_why why = { "" };
	struct station *stn = NULL;
	struct store_operator *v = NULL;
	char rt[64], us[PKIX_UUID_STR_LEN];
	json_object *arr, *o;
	size_t n = 0, i;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	if ((r = store_operator_list(station_store(stn), &v, &n, &why)) !=
	    PV_OK) {
		rc = cli_fail("operator list", r, &why);
		goto out;
	}
	arr = g->json ? json_object_new_array() : NULL;
	for (i = 0; i < n; i++) {
		store_operator_roles_text(v[i].roles, rt, sizeof(rt));
		if (v[i].has_card)
			pkix_uuid_str(v[i].card_uuid, us);
		else
			(void)snprintf(us, sizeof(us), "-");
		if (g->json) {
			o = json_object_new_object();
			json_object_object_add(o, "name", cli_json_str(v[i].name));
			json_object_object_add(o, "roles",
			    json_object_new_string(rt));
			json_object_object_add(o, "disabled",
			    json_object_new_boolean(v[i].disabled));
			json_object_object_add(o, "card_uuid", v[i].has_card ?
			    json_object_new_string(us) : NULL);
			json_object_object_add(o, "card_subject",
			    cli_json_str(v[i].card_subject));
			json_object_array_add(arr, o);
			continue;
		}
		cli_print_safe(stdout, v[i].name, 16);
		printf("%-24s %-9s %s ", rt, v[i].disabled ? "disabled" :
		    "enabled", us);
		cli_print_safe(stdout, v[i].card_subject, 0);
		printf("\n");
	}
	if (g->json) {
		o = json_object_new_object();
		json_object_object_add(o, "operators", arr);
		cli_json_line(o);
	} else if (n == 0) {
		printf("no operator registered (pivstation operator add)\n");
	}
	rc = CLI_EXIT_OK;
out:
	free(v);
	return cli_station_done(stn, rc);
}

static int
op_disable(struct cli_global *g, const char *name, bool disable)
{
	struct pv_why why = { "" };
	struct station *stn = NULL;
	enum pv_err r;
	int rc;

	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	r = store_operator_set_disabled(station_store(stn), name, disable,
	    &why);
	if (r != PV_OK) {
		rc = cli_fail(disable ? "operator disable" : "operator enable",
		    r, &why);
	} else {
		printf("operator ");
		cli_print_safe(stdout, name, 0);
		printf(" %s\n", disable ? "disabled" : "enabled");
		rc = CLI_EXIT_OK;
	}
	return cli_station_done(stn, rc);
}

int
cli_cmd_operator(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "role", required_argument, NULL, OP_OPT_ROLE },
		{ "roles", required_argument, NULL, OP_OPT_ROLE },
		{ "card-uuid", required_argument, NULL, OP_OPT_UUID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *roles = NULL, *uuid = NULL, *verb, *name = NULL;
	int c;

	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OP_OPT_ROLE: roles = optarg; break;
		case OP_OPT_UUID: uuid = optarg; break;
		case 'h':
			op_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("operator", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("operator", "add, list, disable or "
		    "enable?");
	verb = argv[optind++];
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return cli_usage_error("operator", "unexpected argument '%s'",
		    argv[optind]);
	if (strcmp(verb, "list") == 0) {
		if (name != NULL)
			return cli_usage_error("operator", "list takes no NAME");
		return op_list(g);
	}
	if (name == NULL)
		return cli_usage_error("operator", "%s: NAME is missing", verb);
	if (strcmp(verb, "add") == 0)
		return op_add(g, name, roles, uuid);
	if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0)
		return op_disable(g, name, verb[0] == 'd');
	return cli_usage_error("operator", "unknown verb '%s'", verb);
}
