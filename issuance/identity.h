/*
 * identity.h: the person a credential is issued to, read from an identity
 * JSON file (examples/identity.json).
 *
 * The file is hostile input (an operator's file; batch issuance reads many
 * rows): it is bounded in size, parsed with json-c in strict mode with
 * UTF-8 validation, must be one object, and every field is checked:
 *
 *	given_name		required, 1-125 bytes
 *	middle_name		optional, 0-125 bytes
 *	family_name		required, 1-125 bytes
 *	person_id		required, exactly 10 digits (FASC-N PI)
 *	affiliation		required, 1-20 bytes (Printed Information
 *				"employee affiliation", e.g. "Employee")
 *	email			optional, an ASCII address, at most 254 bytes
 *	upn			optional, user@domain, at most 254 bytes
 *	organization		optional, 1-64 bytes (subject O/OU)
 *	org_affiliation_1	optional, 1-20 bytes (Printed Information 07)
 *	org_affiliation_2	optional, 1-20 bytes (Printed Information 08)
 *	agency_card_serial	optional, 1-20 printable ASCII (Printed Info 05)
 *
 * The printed name "Family, Given Middle" must fit the card's 125 bytes.
 * Text is strict UTF-8 (apdu/text.h: no overlong forms, no surrogates,
 * nothing above U+10FFFF, which json-c lets through) without control
 * characters (C0, DEL, C1, line separators, bidirectional overrides),
 * U+FFFD (json-c's stand-in for a lone \uD800 escape) or noncharacters:
 * what a certificate, the card and a terminal take.  Unknown and duplicate
 * fields are rejected.  Messages name the source and the field:
 *
 *   identity.json: email: not an address
 *   identity.json: person_id: expected 10 digits, got 7
 *   identity.json: given_name: not UTF-8 at byte 3: an overlong encoding
 *   (c0 af)
 */
#ifndef PV_ISSUANCE_IDENTITY_H
#define PV_ISSUANCE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "apdu/err.h"
#include "issuance/config.h"

#define IDENTITY_FILE_MAX	65536	/* bytes in one identity document */
#define IDENTITY_NAME_MAX	125	/* Printed Information tag 01 */
#define IDENTITY_PERSON_ID_LEN	10	/* FASC-N PI */
#define IDENTITY_AFFIL_MAX	20	/* Printed Information tags 02, 07, 08 */
#define IDENTITY_EMAIL_MAX	254
#define IDENTITY_ORG_MAX	64	/* X.520 ub-organization-name */
#define IDENTITY_SERIAL_MAX	20	/* Printed Information tag 05 */
#define IDENTITY_BI_MAX		11	/* "adjudicated" */

/* Plain data: copy and compare freely.  Absent optional fields are "". */
struct identity {
	char given_name[IDENTITY_NAME_MAX + 1];
	char middle_name[IDENTITY_NAME_MAX + 1];
	char family_name[IDENTITY_NAME_MAX + 1];
	char person_id[IDENTITY_PERSON_ID_LEN + 1];
	char affiliation[IDENTITY_AFFIL_MAX + 1];
	char email[IDENTITY_EMAIL_MAX + 1];
	char upn[IDENTITY_EMAIL_MAX + 1];
	char organization[IDENTITY_ORG_MAX + 1];
	char org_affiliation_1[IDENTITY_AFFIL_MAX + 1];
	char org_affiliation_2[IDENTITY_AFFIL_MAX + 1];
	char agency_card_serial[IDENTITY_SERIAL_MAX + 1];
	/* "pending" or "adjudicated": the cardholder's background
	 * investigation, carried by the PIV interim indicator of 9A and 9E
	 * (TRUE while pending); "" = [certificates] piv_interim decides.  A
	 * fact of this issuance, not kept with the person. */
	char background_investigation[IDENTITY_BI_MAX + 1];
};

/*
 * identity_parse validates the JSON document |json| (|len| bytes) into
 * |out|.  |source| names the input in messages ("identity.json",
 * "batch.jsonl:14").  Returns PV_OK, or PV_E_INPUT with |why| naming the
 * source and the field; PV_E_TOO_LONG for a document over
 * IDENTITY_FILE_MAX.  |out| is zeroed on failure.
 */
enum pv_err identity_parse(const char *json, size_t len, const char *source,
    struct identity *out, struct pv_why *why);

/*
 * identity_from_fields validates one record given as |n| (name, value)
 * pairs, a CSV row say: names[i] with the |lens[i]| bytes of values[i],
 * a NUL after them (a NUL inside is refused; an empty value is an absent
 * field).  Same checks
 * and messages as identity_parse ("people.csv:4: email: not an address"),
 * plus "<source>: <name>: unknown field" and "a field is given twice" for
 * the names.  Returns PV_OK or PV_E_INPUT with |why|; |out| is zeroed on
 * failure.
 */
enum pv_err identity_from_fields(const char *const *names,
    const char *const *values, const size_t *lens, size_t n,
    const char *source, struct identity *out, struct pv_why *why);

/*
 * identity_field_known: is |name| an identity field?  *required (may be
 * NULL) says whether a record must give it.
 */
bool identity_field_known(const char *name, bool *required);

/*
 * identity_load_file reads and validates the file |path|; messages start
 * with |path|.  Returns what identity_parse returns, or PV_E_NOT_FOUND /
 * PV_E_IO.
 */
enum pv_err identity_load_file(const char *path, struct identity *out,
    struct pv_why *why);

/*
 * identity_to_json returns the canonical JSON of |id| (fields in the order
 * above, absent optional fields left out), a new string the caller frees
 * with free(), or NULL when out of memory.  identity_parse() accepts it
 * and gives back the same struct.
 */
char *identity_to_json(const struct identity *id);

/*
 * identity_printed_name writes the Printed Information name, "Family,
 * Given Middle" ("Family, Given" without a middle name).  Returns
 * PV_E_TOO_LONG when it does not fit |cap|.
 */
enum pv_err identity_printed_name(const struct identity *id, char *out,
    size_t cap);

/*
 * Subject templates (config.h struct config_dn) may use these
 * placeholders in their values:
 *
 *	{given_name} {middle_name} {family_name} {full_name} (given middle
 *	family) {person_id} {email} {affiliation} {organization} {uuid}
 *
 * {uuid} is the card UUID, known only during issuance.
 * identity_template_check returns PV_OK when |tmpl| uses only those and
 * its braces balance, else PV_E_CONFIG with |why| ("unknown placeholder
 * '{nick}'").
 */
enum pv_err identity_template_check(const char *tmpl, struct pv_why *why);

/*
 * identity_expand fills the placeholders of |tmpl| from |id| and |uuid|
 * (the card UUID as text, or NULL) into |out|.  Returns PV_OK;
 * PV_E_TOO_LONG when the result does not fit |cap|; PV_E_INPUT when the
 * result is empty or a placeholder has no value (an RDN may not be empty).
 */
enum pv_err identity_expand(const char *tmpl, const struct identity *id,
    const char *uuid, char *out, size_t cap, struct pv_why *why);

#endif /* PV_ISSUANCE_IDENTITY_H */
