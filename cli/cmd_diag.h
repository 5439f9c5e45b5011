/*
 * cmd_diag.h: the JSON tree `pivstation diag` prints (also its text
 * form's source), built from a finished probe.
 */
#ifndef PV_CLI_CMD_DIAG_H
#define PV_CLI_CMD_DIAG_H

#include <stdbool.h>

#include <json-c/json.h>

#include "pcsc/diag.h"

/*
 * cli_diag_json returns a new JSON object describing |d| (never NULL
 * unless out of memory): reader, card (ATR), piv, and when the PIV
 * application answered chuid, ccc, discovery, key_history and
 * certificates (the DER the card gave, described with OpenSSL); with
 * |with_stats| the probe's APDU counts too.  Everything in |d| came from
 * the card and is treated as hostile.
 */
json_object *cli_diag_json(const struct pcsc_diag *d, bool with_stats);

#endif /* PV_CLI_CMD_DIAG_H */
