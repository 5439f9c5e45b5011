/*
 * fuzz_batch_rows.c: the batch file reader (issuance/batch_rows.h) on
 * hostile bytes: the first byte picks the format (even: CSV, odd: JSON
 * Lines), the rest is the file.  Whatever is read must hold: every
 * refusal says why, the problems kept are at most BATCH_ERRS_KEPT and in
 * row order, the rows are in file order with valid identities, and a file
 * accepted has no person_id twice.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "issuance/batch_rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_rows r;
	struct pv_why why;
	enum batch_format f;
	enum pv_err e;
	size_t i, j, k;

	if (size < 1)
		return 0;
	f = (data[0] & 1) ? BATCH_FMT_JSONL : BATCH_FMT_CSV;
	pv_why_clear(&why);
	e = batch_rows_parse((const char *)data + 1, size - 1, f, "fuzz", &r,
	    &why);
	if (e != PV_OK && e != PV_E_INPUT && e != PV_E_NOMEM)
		__builtin_trap();
	if (e == PV_E_INPUT && (why.msg[0] == '\0' || r.n_errs == 0 ||
	    r.n_errs_total < r.n_errs))
		__builtin_trap();
	if (e == PV_OK && r.n_errs_total != 0)
		__builtin_trap();
	if (r.n_errs > BATCH_ERRS_KEPT)
		__builtin_trap();
	for (i = 0; i < r.n_errs; i++) {
		if (r.errs[i].msg[0] == '\0' || memchr(r.errs[i].msg, '\0',
		    BATCH_MSG_MAX) == NULL)
			__builtin_trap();
		if (i > 0 && r.errs[i].row < r.errs[i - 1].row)
			__builtin_trap();
	}
	for (i = 0; i < r.n; i++) {
		const struct identity *id = &r.rows[i].id;

		if (r.rows[i].row == 0 || (i > 0 && r.rows[i].row <=
		    r.rows[i - 1].row))
			__builtin_trap();
		if (strlen(id->person_id) != IDENTITY_PERSON_ID_LEN ||
		    id->given_name[0] == '\0' || id->family_name[0] == '\0' ||
		    id->affiliation[0] == '\0')
			__builtin_trap();
		for (k = 0; k < IDENTITY_PERSON_ID_LEN; k++)
			if (id->person_id[k] < '0' || id->person_id[k] > '9')
				__builtin_trap();
		if (batch_rows_find(&r, r.rows[i].row) != &r.rows[i])
			__builtin_trap();
	}
	if (e == PV_OK)
		for (i = 0; i < r.n && i < 200; i++)
			for (j = i + 1; j < r.n && j < 200; j++)
				if (strcmp(r.rows[i].id.person_id,
				    r.rows[j].id.person_id) == 0)
					__builtin_trap();
	batch_rows_cleanup(&r);
	return 0;
}
