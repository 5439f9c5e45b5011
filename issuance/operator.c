/*
 * operator.c: the roles' permissions (operator.h).
 */
#include "issuance/operator.h"

#define R_ENR	(1u << STORE_ROLE_ENROLLER)
#define R_HELP	(1u << STORE_ROLE_HELP_DESK)
#define R_ADM	(1u << STORE_ROLE_ADMIN)

static const struct {
	const char *name;
	unsigned roles;
	const char *who;
} op_table[] = {
	[OP_ISSUE] = { "issue a credential", R_ENR | R_ADM,
	    "enroller or administrator" },
	[OP_DERIVE] = { "derive a mobile credential", R_ENR | R_ADM,
	    "enroller or administrator" },
	[OP_LIFECYCLE] = { "change a credential's or job's state",
	    R_HELP | R_ADM, "help desk or administrator" },
	[OP_UNBLOCK] = { "unblock a PIN", R_HELP | R_ADM,
	    "help desk or administrator" },
	[OP_RECOVER] = { "recover an escrowed key", R_HELP | R_ADM,
	    "help desk or administrator" },
	[OP_CA] = { "run the certification authority", R_ADM,
	    "administrator" },
	[OP_OPERATORS] = { "manage operators", R_ADM, "administrator" },
	[OP_AUDIT] = { "read the audit log", R_ENR | R_HELP | R_ADM,
	    "any operator" },
};

bool
op_permitted(enum store_role r, enum op_action a)
{
	if ((unsigned)a >= sizeof(op_table) / sizeof(op_table[0]))
		return false;
	return (op_table[a].roles & (1u << r)) != 0;
}

const char *
op_action_name(enum op_action a)
{
	return (unsigned)a < sizeof(op_table) / sizeof(op_table[0]) ?
	    op_table[a].name : "act";
}

const char *
op_roles_for(enum op_action a)
{
	return (unsigned)a < sizeof(op_table) / sizeof(op_table[0]) ?
	    op_table[a].who : "nobody";
}
