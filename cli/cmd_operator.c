/*
 * cmd_operator.c: `pivstation operator add|list|disable|enable|set-role`:
 * the operators who act at the station (issuance/operator.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "apdu/buf.h"
#include "cli/cli.h"
#include "issuance/operator.h"
#include "issuance/pkix_util.h"
#include "issuance/station.h"
#include "issuance/store.h"

enum {
	OPR_OPT_ROLE = CLI_OPT__NEXT,
	OPR_OPT_PERSON,
	OPR_OPT_CARD_UUID,
	OPR_OPT_REASON
};

static void
opr_help(FILE *f)
{
	fprintf(f,
	    "usage: pivstation operator add NAME --role ROLE [--person ID|EMAIL]\n"
	    "                               [--card-uuid UUID]\n"
	    "       pivstation operator list [--json]\n"
	    "       pivstation operator disable|enable NAME --reason TEXT\n"
	    "       pivstation operator set-role NAME ROLE --reason TEXT\n"
	    "\n"
	    "The operators who act at this station: the console signs them in\n"
	    "with their own PIV card; a command line names one with\n"
	    "$PIVSTATION_OPERATOR.  Without one, the account running pivstation\n"
	    "acts.  Every change is in the audit log.\n"
	    "\n"
	    "  --role ROLE        enroller (issue, derive), help-desk (unblock,\n"
	    "                     lifecycle, key recovery) or administrator\n"
	    "  --person ID|EMAIL  the person in the store the operator is\n"
	    "  --card-uuid UUID   the operator's PIV card (the UUID in its PIV\n"
	    "                     Authentication certificate) for signing in\n"
	    "  --reason TEXT      why (disable, enable, set-role)\n");
}

static void
opr_print(const struct store_operator *o, json_object *arr)
{
	char uuid[PKIX_UUID_STR_LEN];
	json_object *j;

	if (o->has_card_uuid)
		pkix_uuid_str(o->card_uuid, uuid);
	if (arr == NULL) {
		printf("%-24s %-13s %-8s", o->name, store_role_name(o->role),
		    o->disabled ? "disabled" : "enabled");
		if (o->person_id != 0)
			printf(" person %lld", (long long)o->person_id);
		if (o->has_card_uuid)
			printf(" card %s", uuid);
		printf("\n");
		return;
	}
	j = json_object_new_object();
	json_object_object_add(j, "name", cli_json_str(o->name));
	json_object_object_add(j, "role",
	    json_object_new_string(store_role_name(o->role)));
	json_object_object_add(j, "disabled",
	    json_object_new_boolean(o->disabled));
	if (o->person_id != 0)
		json_object_object_add(j, "person",
		    json_object_new_int64(o->person_id));
	if (o->has_card_uuid)
		json_object_object_add(j, "card_uuid",
		    json_object_new_string(uuid));
	json_object_array_add(arr, j);
}

/* --person: the store id of a person given by person ID or e-mail. */
static enum pv_err
opr_person(struct store *st, const char *who, int64_t *out,
    struct pv_why *why)
{
	struct store_person p;
	enum pv_err r;

	r = strchr(who, '@') != NULL ? store_person_find_email(st, who, &p,
	    why) : store_person_find_external(st, who, &p, why);
	if (r == PV_E_NO_RECORD) {
		pv_why_clear(why);
		return pv_why_set(why, PV_E_INPUT, "--person: no person '%s' in "
		    "the store", who);
	}
	if (r == PV_OK)
		*out = p.id;
	return r;
}

int
cli_cmd_operator(struct cli_global *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "role", required_argument, NULL, OPR_OPT_ROLE },
		{ "person", required_argument, NULL, OPR_OPT_PERSON },
		{ "card-uuid", required_argument, NULL, OPR_OPT_CARD_UUID },
		{ "reason", required_argument, NULL, OPR_OPT_REASON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pv_why why = { "" };
	struct store_operator o, *list = NULL;
	struct station *stn = NULL;
	const char *sub, *role = NULL, *person = NULL, *card = NULL;
	const char *reason = NULL, *name = NULL;
	size_t n = 0, i;
	enum pv_err r = PV_OK;
	int c, rc = CLI_EXIT_OK;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OPR_OPT_ROLE: role = optarg; break;
		case OPR_OPT_PERSON: person = optarg; break;
		case OPR_OPT_CARD_UUID: card = optarg; break;
		case OPR_OPT_REASON: reason = optarg; break;
		case 'h':
			opr_help(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("operator", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("operator", "expected add, list, disable, "
		    "enable or set-role");
	sub = argv[optind++];
	if (strcmp(sub, "list") == 0) {
		if (optind != argc)
			return cli_usage_error("operator", "list takes no "
			    "argument");
	} else if (strcmp(sub, "set-role") == 0) {
		if (optind + 2 != argc)
			return cli_usage_error("operator", "set-role NAME ROLE");
		name = argv[optind];
		role = argv[optind + 1];
	} else if (strcmp(sub, "add") == 0 || strcmp(sub, "disable") == 0 ||
	    strcmp(sub, "enable") == 0) {
		if (optind + 1 != argc)
			return cli_usage_error("operator", "%s NAME", sub);
		name = argv[optind];
	} else {
		return cli_usage_error("operator", "unknown subcommand '%s'",
		    sub);
	}
	if (name != NULL) {
		if ((r = station_check_actor(name, &why)) != PV_OK)
			return cli_usage_error("operator", "%s", why.msg);
		(void)snprintf(o.name, sizeof(o.name), "%s", name);
	}
	if (role != NULL && !store_role_parse(role, &o.role))
		return cli_usage_error("operator", "--role: '%s': expected "
		    "enroller, help-desk or administrator", role);
	if (strcmp(sub, "add") == 0 && role == NULL)
		return cli_usage_error("operator", "add: --role is required");
	if (strcmp(sub, "add") != 0 && (person != NULL || card != NULL))
		return cli_usage_error("operator", "--person and --card-uuid "
		    "belong to add");
	if ((strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0 ||
	    strcmp(sub, "set-role") == 0) && reason == NULL)
		return cli_usage_error("operator", "%s: --reason is required",
		    sub);
	if (card != NULL) {
		if (pkix_uuid_parse(card, o.card_uuid, &why) != PV_OK)
			return cli_usage_error("operator", "--card-uuid: %s",
			    why.msg);
		o.has_card_uuid = true;
	}
	if ((rc = cli_station(g, STATION_NEED_STORE, NULL, &stn)) !=
	    CLI_EXIT_OK)
		return rc;
	if (strcmp(sub, "list") != 0 &&
	    (r = station_permit(stn, OP_OPERATORS, &why)) != PV_OK)
		goto out;
	if (strcmp(sub, "list") == 0) {
		json_object *arr = g->json ? json_object_new_array() : NULL;

		if ((r = store_operator_list(station_store(stn), &list, &n,
		    &why)) != PV_OK) {
			json_object_put(arr);
			goto out;
		}
		for (i = 0; i < n; i++)
			opr_print(&list[i], arr);
		if (arr != NULL) {
			json_object *doc = json_object_new_object();

			json_object_object_add(doc, "operators", arr);
			cli_json_line(doc);
		} else if (n == 0) {
			printf("no operators: the account running pivstation "
			    "acts\n");
		}
		goto out;
	}
	if (strcmp(sub, "add") == 0) {
		if (person != NULL && (r = opr_person(station_store(stn), person,
		    &o.person_id, &why)) != PV_OK)
			goto out;
		if ((r = store_operator_add(station_store(stn), &o, NULL,
		    &why)) == PV_OK)
			printf("operator %s added (%s)\n", o.name,
			    store_role_name(o.role));
		goto out;
	}
	{
		struct store_operator cur;

		if ((r = store_operator_get(station_store(stn), o.name, &cur,
		    &why)) != PV_OK) {
			if (r == PV_E_NO_RECORD) {
				pv_why_clear(&why);
				r = pv_why_set(&why, PV_E_INPUT, "no operator "
				    "'%s'", o.name);
			}
			goto out;
		}
		if (strcmp(sub, "set-role") == 0)
			cur.role = o.role;
		else
			cur.disabled = strcmp(sub, "disable") == 0;
		if ((r = store_operator_set(station_store(stn), &cur, reason,
		    &why)) == PV_OK)
			printf("operator %s: %s, %s\n", cur.name,
			    store_role_name(cur.role), cur.disabled ?
			    "disabled" : "enabled");
	}
out:
	free(list);
	if (r != PV_OK) {
		station_close(stn);
		return cli_fail("operator", r, &why);
	}
	return cli_station_done(stn, CLI_EXIT_OK);
}
