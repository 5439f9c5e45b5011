/*
 * operator.h: who may do what at the station.
 *
 * Operators are registered in the store (store.h: name, role, disabled,
 * the person and PIV card they are) by an administrator with `pivstation
 * operator add`.  A front end names the operator acting (the console after
 * a card sign-in, the CLI from $PIVSTATION_OPERATOR); the station refuses
 * a name that is not registered or is disabled, records it as the actor of
 * every audit row, and asks op_permitted before each action.  With no
 * operator named, the account running pivstation acts ("uid 1000 (ann)")
 * and may do everything: whoever runs it holds the station's files anyway.
 */
#ifndef PV_ISSUANCE_OPERATOR_H
#define PV_ISSUANCE_OPERATOR_H

#include <stdbool.h>

#include "issuance/store.h"

enum op_action {
	OP_ISSUE,		/* issue a primary credential */
	OP_DERIVE,		/* derive a mobile credential */
	OP_LIFECYCLE,		/* cancel a job, suspend, resume, terminate */
	OP_UNBLOCK,		/* unblock a PIN with the escrowed PUK */
	OP_RECOVER,		/* recover an escrowed key */
	OP_CA,			/* create the CA, sign, publish the CRL */
	OP_OPERATORS,		/* add, change or disable operators */
	OP_AUDIT		/* read and verify the log, add a note */
};

/* op_permitted: may role |r| do |a|? */
bool op_permitted(enum store_role r, enum op_action a);

/* op_action_name: "issue a credential", ...; never NULL. */
const char *op_action_name(enum op_action a);

/* op_roles_for: the roles that may do |a|, for messages ("enroller or
 * administrator"). */
const char *op_roles_for(enum op_action a);

#endif /* PV_ISSUANCE_OPERATOR_H */
