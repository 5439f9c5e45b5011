/*
 * cmd_atr.h: ATR output shared by `pivstation atr`, `readers` and `diag`.
 */
#ifndef PV_CLI_CMD_ATR_H
#define PV_CLI_CMD_ATR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * cli_atr_print writes the full decode of |atr| to |f|, each line
 * prefixed with |indent|, and the smartcard_list.txt identification.
 * Returns 0, or -1 when the ATR is malformed (the reason is printed).
 */
int cli_atr_print(FILE *f, const uint8_t *atr, size_t len, const char *indent);

/*
 * cli_atr_json returns a new JSON object with the decode (never NULL
 * unless out of memory): {"atr", "valid", "error"?, "protocols", ...,
 * "elements": [...], "identified": [...]}.
 */
json_object *cli_atr_json(const uint8_t *atr, size_t len);

/*
 * cli_atr_identify_first writes the first identification line of |atr|
 * into |out| ("" when unknown).
 */
void cli_atr_identify_first(const uint8_t *atr, size_t len, char *out,
    size_t cap);

#endif /* PV_CLI_CMD_ATR_H */
