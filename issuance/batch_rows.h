/*
 * batch_rows.h: the people of a batch issuance, read from a file an HR
 * export gave: CSV (RFC 4180) with a header row naming the identity
 * fields, or JSON Lines (one identity object per line).
 *
 * The file is hostile input.  It is bounded (BATCH_FILE_MAX bytes,
 * BATCH_ROWS_MAX rows, BATCH_RECORD_MAX bytes a row), and every row is
 * checked as an identity file is (identity.h), its messages naming the
 * file, the row and the field the same way:
 *
 *   people.csv:5: email: not an address
 *   people.csv:1: nick: unknown field
 *   people.jsonl:3: person_id: expected 10 digits, got 7
 *   people.csv:9: person_id: 0000012345 is also on row 4
 *
 * A row is named by the line it starts on, the header being line 1 (what
 * a spreadsheet shows, unless a quoted field spans lines).  CSV: fields
 * separated by commas, records by CRLF or LF, a field in double quotes may
 * hold commas, line breaks and "" for a quote; an empty field is an
 * absent optional field; a UTF-8 byte order mark at the start is skipped;
 * empty lines are skipped; a record with more or fewer fields than the
 * header, a quote inside an unquoted field, text after a closing quote, a
 * quote left open, a carriage return without its line feed and a NUL byte
 * are refused.  JSON Lines: blank lines are skipped, a CR before the LF is
 * allowed.  Within the file, a person_id, an email or a UPN given twice
 * (the last two compared without case) is refused.
 *
 * Every problem is collected, not only the first, so one pass over the
 * file shows what to fix.
 */
#ifndef PV_ISSUANCE_BATCH_ROWS_H
#define PV_ISSUANCE_BATCH_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/identity.h"

#define BATCH_FILE_MAX		(32u * 1024u * 1024u)	/* bytes in a file */
#define BATCH_ROWS_MAX		100000u			/* people in a file */
#define BATCH_RECORD_MAX	IDENTITY_FILE_MAX	/* bytes in a row */
#define BATCH_ERRS_KEPT		50	/* messages kept (all are counted) */
#define BATCH_MSG_MAX		256	/* = sizeof(struct pv_why) */

enum batch_format {
	BATCH_FMT_CSV,
	BATCH_FMT_JSONL
};

/* batch_format_name: "csv", "jsonl". */
const char *batch_format_name(enum batch_format f);

/*
 * batch_format_parse reads "csv" or "jsonl" (PV_E_INPUT otherwise);
 * batch_format_guess picks one from a file name: .csv -> CSV, .jsonl,
 * .ndjson -> JSON Lines (false for anything else).
 */
enum pv_err batch_format_parse(const char *s, enum batch_format *out,
    struct pv_why *why);
bool batch_format_guess(const char *path, enum batch_format *out);

struct batch_row {
	unsigned row;			/* the line it starts on */
	struct identity id;
};

/* A problem found in the file: |row| 0 is the file as a whole. */
struct batch_row_err {
	unsigned row;
	char msg[BATCH_MSG_MAX];
};

struct batch_rows {
	enum batch_format fmt;
	uint8_t digest[32];		/* SHA-256 of the file's bytes */
	struct batch_row *rows;		/* owned: the rows that are good */
	size_t n;
	struct batch_row_err *errs;	/* owned: the first problems, in file
					 * order */
	size_t n_errs;			/* kept, at most BATCH_ERRS_KEPT */
	size_t n_errs_total;		/* found */
};

/*
 * batch_rows_parse reads the |len| bytes of |buf| in format |fmt| into
 * |out| (zeroed or cleaned up before; release with batch_rows_cleanup).
 * |source| names the file in messages.  Returns PV_OK when every row is
 * good; PV_E_INPUT when any is not (out->errs lists the problems in file
 * order, |why| the first; out->rows keeps the good rows); PV_E_TOO_LONG
 * for a file over BATCH_FILE_MAX; PV_E_NOMEM.
 */
enum pv_err batch_rows_parse(const char *buf, size_t len,
    enum batch_format fmt, const char *source, struct batch_rows *out,
    struct pv_why *why);

/*
 * batch_rows_load reads the file |path| and parses it as above (|path|
 * names it in messages).  PV_E_NO_FILE when it does not exist; PV_E_INPUT
 * when it cannot be read (not a regular file, no permission); otherwise
 * as batch_rows_parse.
 */
enum pv_err batch_rows_load(const char *path, enum batch_format fmt,
    struct batch_rows *out, struct pv_why *why);

/* batch_rows_cleanup frees what |r| owns; safe on a zeroed struct. */
void batch_rows_cleanup(struct batch_rows *r);

/* batch_rows_find: the row numbered |row|, or NULL. */
const struct batch_row *batch_rows_find(const struct batch_rows *r,
    unsigned row);

#endif /* PV_ISSUANCE_BATCH_ROWS_H */
