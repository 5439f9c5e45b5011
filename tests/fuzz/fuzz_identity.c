/*
 * fuzz_identity.c: identity JSON (an operator's file, many of them in
 * batch issuance) on hostile bytes.  Whatever is accepted must satisfy
 * the documented limits (text strict UTF-8 without controls), serialise
 * to JSON that parses back to the same identity, and fill a subject
 * template without overflowing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apdu/text.h"
#include "issuance/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Accepted text is strict UTF-8 without controls (apdu/text.h). */
static void
check_text(const char *s)
{
	struct buf_cur c;
	uint32_t cp;

	if (text_utf8_check(s, strlen(s), NULL, NULL) != TEXT_UTF8_OK)
		__builtin_trap();
	buf_cur_init(&c, s, strlen(s));
	while (text_utf8_next(&c, &cp, NULL) == TEXT_UTF8_OK)
		if (text_cp_is_control(cp) || text_cp_is_noncharacter(cp) ||
		    cp == 0xfffd)
			__builtin_trap();
}

static void
check_limits(const struct identity *id)
{
	size_t i;

	check_text(id->given_name);
	check_text(id->middle_name);
	check_text(id->family_name);
	check_text(id->affiliation);
	check_text(id->organization);
	check_text(id->org_affiliation_1);
	check_text(id->org_affiliation_2);

	if (strlen(id->given_name) == 0 || strlen(id->family_name) == 0 ||
	    strlen(id->affiliation) == 0 ||
	    strlen(id->affiliation) > IDENTITY_AFFIL_MAX ||
	    strlen(id->person_id) != IDENTITY_PERSON_ID_LEN)
		__builtin_trap();
	for (i = 0; i < IDENTITY_PERSON_ID_LEN; i++)
		if (id->person_id[i] < '0' || id->person_id[i] > '9')
			__builtin_trap();
	if (id->email[0] != '\0' && strchr(id->email, '@') == NULL)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity a, b;
	struct pv_why why;
	char *js, out[256], name[IDENTITY_NAME_MAX + 1];

	pv_why_clear(&why);
	if (identity_parse((const char *)data, size, "fuzz", &a, &why) !=
	    PV_OK) {
		if (why.msg[0] == '\0')
			__builtin_trap();	/* every refusal says why */
		return 0;
	}
	check_limits(&a);
	if (identity_printed_name(&a, name, sizeof(name)) != PV_OK)
		__builtin_trap();
	js = identity_to_json(&a);
	if (js == NULL)
		return 0;
	if (identity_parse(js, strlen(js), "again", &b, NULL) != PV_OK ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		__builtin_trap();
	free(js);
	(void)identity_expand("CN={full_name} {person_id} {email} "
	    "{organization}", &a, NULL, out, sizeof(out), NULL);
	return 0;
}
