/*
 * test_batch_rows.c: the batch file reader (issuance/batch_rows.h) on good
 * files and hostile ones: every CSV (RFC 4180) and JSON Lines problem
 * named by file, row and field exactly as identity files name theirs;
 * every problem collected, in row order; duplicates within the file; a
 * file cut at every byte; the size and row limits.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "issuance/batch_rows.h"

#define HDR	"given_name,family_name,person_id,affiliation,email\r\n"
#define ROW1	"Alice,Example,0000001001,Employee,alice@example.gov\r\n"
#define ROW2	"Bob,Example,0000001002,Contractor,bob@example.gov\r\n"

static enum pv_err
parse(const char *s, enum batch_format f, struct batch_rows *out,
    struct pv_why *why)
{
	return batch_rows_parse(s, strlen(s), f, "t.csv", out, why);
}

Test(batch_rows, good_csv)
{
	static const char doc[] =
	    "\xef\xbb\xbf"	/* a byte order mark, as spreadsheets write */
	    "person_id,family_name,given_name,affiliation,email,middle_name\r\n"
	    "0000001001,\"O\"\"Brien, Jr\",Alice,Employee,,M\r\n"
	    "\r\n"		/* an empty line: skipped, counted */
	    "0000001002,Example,Bob,Contractor,bob@example.gov,";	/* no EOL */
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.rows[0].row, 2);
	cr_assert_str_eq(r.rows[0].id.family_name, "O\"Brien, Jr");
	cr_assert_str_eq(r.rows[0].id.middle_name, "M");
	cr_assert_str_eq(r.rows[0].id.email, "", "an empty field is absent");
	cr_assert_eq(r.rows[1].row, 4, "rows are named by their line");
	cr_assert_str_eq(r.rows[1].id.email, "bob@example.gov");
	cr_assert_str_eq(r.rows[1].id.middle_name, "");
	cr_assert_eq(batch_rows_find(&r, 4), &r.rows[1]);
	cr_assert_null(batch_rows_find(&r, 3));
	batch_rows_cleanup(&r);
}

Test(batch_rows, quoted_line_breaks_and_lf_only)
{
	/* A quoted field may hold a line break (refused later as a control
	 * character); LF-only files are read as well as CRLF ones. */
	static const char doc[] =
	    "given_name,family_name,person_id,affiliation\n"
	    "\"A,\"\"b\"\"\",C,0000000001,E\n"
	    "\"x\ny\",C,0000000002,E\n"
	    "D,C,0000000003,E\n";
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "t.csv:3: given_name: control character "
	    "U+000A at byte 2");
	cr_assert_eq(r.n, 2, "the good rows are kept");
	cr_assert_str_eq(r.rows[0].id.given_name, "A,\"b\"");
	cr_assert_eq(r.rows[1].row, 5, "the row after the quoted line break "
	    "starts on line 5");
	batch_rows_cleanup(&r);
}

/* Arrays, not pointers: Criterion runs each case in a process of its
 * own, where the parent's pointers mean nothing. */
struct bad_csv {
	char doc[160];
	char want[160];		/* the first message, whole */
};

ParameterizedTestParameters(batch_rows, bad_csv)
{
	static struct bad_csv cases[] = {
		{ "given_name,family_name,person_id,affiliation,nick\n"
		  "A,B,0000000001,E,x\n", "t.csv:1: nick: unknown field" },
		{ "given_name,family_name,person_id,affiliation,email,email\n"
		  "A,B,0000000001,E,,\n", "t.csv:1: email: column given twice" },
		{ "given_name,family_name,affiliation\nA,B,E\n",
		  "t.csv:1: person_id: missing (a required column)" },
		{ HDR "A,B,0000000001,E,not-an-address\r\n",
		  "t.csv:2: email: not an address" },
		{ HDR "A,B,0000001,E,\r\n",
		  "t.csv:2: person_id: expected 10 digits, got 7" },
		{ HDR "A,B,000000000X,E,\r\n",
		  "t.csv:2: person_id: expected 10 digits, got '000000000X'" },
		{ HDR "A,B,0000000001,E\r\n",
		  "t.csv:2: 4 fields, the header has 5" },
		{ HDR "A,B,0000000001,E,,\r\n",
		  "t.csv:2: 6 fields, the header has 5" },
		{ HDR "A\"x,B,0000000001,E,\r\n", "t.csv:2: field 1: a quote "
		  "inside an unquoted field (quote the whole field and double "
		  "the quote)" },
		{ HDR "\"A\"x,B,0000000001,E,\r\n",
		  "t.csv:2: field 1: text after the closing quote" },
		{ HDR "\"A,B,0000000001,E,\r\n" ROW1,
		  "t.csv:2: a quoted field opened on line 2 is not closed" },
		{ HDR "A,B,0000000001,E,\r" "x\n",
		  "t.csv:2: a carriage return without a line feed" },
		{ HDR "A\tB,C,0000000001,E,\r\n",
		  "t.csv:2: given_name: control character U+0009 at byte 2" },
		{ HDR "\xc0\xaf,B,0000000001,E,\r\n", "t.csv:2: given_name: not "
		  "UTF-8 at byte 1: an overlong encoding (c0 af)" },
		{ HDR "\xe2\x80\xae" "A,B,0000000001,E,\r\n", "t.csv:2: "
		  "given_name: control character U+202E at byte 1" },
		{ HDR "A,,0000000001,E,\r\n",
		  "t.csv:2: family_name: must not be empty" },
		{ HDR "A,B,0000000001,Employee of the month!!,\r\n",
		  "t.csv:2: affiliation: 23 bytes, at most 20" },
		{ HDR " A,B,0000000001,E,\r\n",
		  "t.csv:2: given_name: leading or trailing spaces" },
		{ HDR ROW1 "Alicia,Other,0000001001,E,\r\n",
		  "t.csv:3: person_id: 0000001001 is also on row 2" },
		{ HDR ROW1 "Al,Ex,0000001009,E,ALICE@Example.gov\r\n",
		  "t.csv:3: email: ALICE@Example.gov is also on row 2" },
		{ "", "t.csv: empty: no header row" },
		{ HDR, "t.csv: a header and no rows" },
		{ HDR "\r\n\r\n", "t.csv: a header and no rows" },
	};

	return cr_make_param_array(struct bad_csv, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_csv *bc, batch_rows, bad_csv)
{
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(parse(bc->doc, BATCH_FMT_CSV, &r, &why), PV_E_INPUT,
	    "accepted: %s", bc->doc);
	cr_assert_str_eq(why.msg, bc->want);
	cr_assert_geq(r.n_errs_total, 1);
	cr_assert_str_eq(r.errs[0].msg, bc->want);
	batch_rows_cleanup(&r);
}

Test(batch_rows, nul_byte)
{
	static const char doc[] = HDR "A\0B,C,0000000001,E,\r\n";
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(batch_rows_parse(doc, sizeof(doc) - 1, BATCH_FMT_CSV,
	    "t.csv", &r, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "t.csv:2: NUL byte");
	batch_rows_cleanup(&r);
}

Test(batch_rows, every_problem_in_row_order)
{
	/* A duplicate (found after the rows) joins the others in order. */
	static const char doc[] = HDR
	    "A,B,0000000001,E,\r\n"		/* 2 */
	    "A,B,0000000002,E,bad\r\n"		/* 3 */
	    "A,B,0000000001,E,\r\n"		/* 4: duplicate of 2 */
	    "A,B,0000000005,E\r\n"		/* 5 */
	    "\"A,B,0000000006,E,\r\n";		/* 6: open quote to the end */
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, &why), PV_E_INPUT);
	cr_assert_eq(r.n_errs_total, 4);
	cr_assert_eq(r.n_errs, 4);
	cr_assert_str_eq(r.errs[0].msg, "t.csv:3: email: not an address");
	cr_assert_str_eq(r.errs[1].msg,
	    "t.csv:4: person_id: 0000000001 is also on row 2");
	cr_assert_str_eq(r.errs[2].msg, "t.csv:5: 4 fields, the header has 5");
	cr_assert_str_eq(r.errs[3].msg,
	    "t.csv:6: a quoted field opened on line 6 is not closed");
	batch_rows_cleanup(&r);
}

Test(batch_rows, many_problems_kept_and_counted)
{
	size_t cap = 200 * 64, n = 0, i;
	char *doc = malloc(cap);
	struct batch_rows r;

	cr_assert_not_null(doc);
	n += (size_t)snprintf(doc + n, cap - n, HDR);
	for (i = 0; i < 120; i++)
		n += (size_t)snprintf(doc + n, cap - n, "A,B,%010zu,E,x\r\n",
		    i + 1);
	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, NULL), PV_E_INPUT);
	cr_assert_eq(r.n_errs, BATCH_ERRS_KEPT);
	cr_assert_eq(r.n_errs_total, 120);
	cr_assert_str_eq(r.errs[0].msg, "t.csv:2: email: not an address");
	batch_rows_cleanup(&r);
	free(doc);
}

Test(batch_rows, long_record_and_too_many_columns)
{
	size_t cap = BATCH_RECORD_MAX + 256, n;
	char *doc = malloc(cap);
	struct batch_rows r;
	struct pv_why why = { "" };
	int i;

	cr_assert_not_null(doc);
	n = (size_t)snprintf(doc, cap, HDR);
	memset(doc + n, 'a', BATCH_RECORD_MAX + 10);
	n += BATCH_RECORD_MAX + 10;
	memcpy(doc + n, ",B,0000000001,E,\r\n", 19);
	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "t.csv:2: longer than 65536 bytes");
	batch_rows_cleanup(&r);
	n = 0;
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(doc + n, cap - n, "%sperson_id",
		    i ? "," : "");
	memcpy(doc + n, "\nA\n", 4);
	pv_why_clear(&why);
	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "t.csv:1: header: more than 32 fields");
	batch_rows_cleanup(&r);
	free(doc);
}

/* Cut at every byte: never more than the bytes given, and every refusal
 * says why. */
Test(batch_rows, truncated_everywhere)
{
	static const char doc[] = "\xef\xbb\xbf" HDR ROW1
	    "\"Bo\"\"b\",\"Ex,ample\",0000001002,Contractor,\r\n" ROW2;
	struct batch_rows r;
	struct pv_why why;
	size_t len = sizeof(doc) - 1, k;
	char *cut;
	enum pv_err e;

	for (k = 0; k <= len; k++) {
		cut = malloc(k + 1);
		cr_assert_not_null(cut);
		memcpy(cut, doc, k);
		pv_why_clear(&why);
		e = batch_rows_parse(cut, k, BATCH_FMT_CSV, "t.csv", &r, &why);
		cr_assert(e == PV_OK || e == PV_E_INPUT, "k=%zu: %s", k,
		    pv_errname(e));
		if (e != PV_OK)
			cr_assert_neq(why.msg[0], '\0', "k=%zu", k);
		batch_rows_cleanup(&r);
		free(cut);
	}
}

Test(batch_rows, good_jsonl)
{
	static const char doc[] =
	    "{\"given_name\":\"Alice\",\"family_name\":\"Example\","
	    "\"person_id\":\"0000001001\",\"affiliation\":\"Employee\"}\r\n"
	    "   \n"
	    "{\"given_name\":\"Bob\",\"family_name\":\"Example\","
	    "\"person_id\":\"0000001002\",\"affiliation\":\"Employee\","
	    "\"upn\":\"bob@example.gov\"}";
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(batch_rows_parse(doc, strlen(doc), BATCH_FMT_JSONL,
	    "t.jsonl", &r, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.rows[0].row, 1);
	cr_assert_eq(r.rows[1].row, 3);
	cr_assert_str_eq(r.rows[1].id.upn, "bob@example.gov");
	batch_rows_cleanup(&r);
}

struct bad_jsonl {
	char doc[240];
	char want[96];
};

#define J1 "{\"given_name\":\"A\",\"family_name\":\"B\",\"person_id\":" \
	"\"0000000001\",\"affiliation\":\"E\"}\n"

ParameterizedTestParameters(batch_rows, bad_jsonl)
{
	static struct bad_jsonl cases[] = {
		{ J1 "{\"given_name\":\"A\",\"family_name\":\"B\",\"person_id\":"
		  "\"0000000002\",\"affiliation\":\"E\",\"email\":\"x\"}\n",
		  "t.jsonl:2: email: not an address" },
		{ J1 "{\"nick\":1}\n", "t.jsonl:2: nick: unknown field" },
		{ J1 "[1]\n", "t.jsonl:2: expected a JSON object, got an array" },
		{ J1 "{\"given_name\":\n",
		  "t.jsonl:2: not valid JSON: unexpected end of input" },
		{ J1 J1, "t.jsonl:2: person_id: 0000000001 is also on row 1" },
		{ "", "t.jsonl: no rows" },
		{ "\n \n", "t.jsonl: no rows" },
	};

	return cr_make_param_array(struct bad_jsonl, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_jsonl *bj, batch_rows, bad_jsonl)
{
	struct batch_rows r;
	struct pv_why why = { "" };

	cr_assert_eq(batch_rows_parse(bj->doc, strlen(bj->doc),
	    BATCH_FMT_JSONL, "t.jsonl", &r, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, bj->want);
	batch_rows_cleanup(&r);
}

Test(batch_rows, row_limit)
{
	size_t cap = (size_t)(BATCH_ROWS_MAX + 2) * 24 + 64, n = 0;
	char *doc = malloc(cap);
	struct batch_rows r;
	struct pv_why why = { "" };
	unsigned i;

	cr_assert_not_null(doc);
	n += (size_t)snprintf(doc + n, cap - n,
	    "given_name,family_name,person_id,affiliation\n");
	for (i = 0; i <= BATCH_ROWS_MAX; i++)
		n += (size_t)snprintf(doc + n, cap - n, "A,B,%010u,E\n", i + 1);
	cr_assert_eq(parse(doc, BATCH_FMT_CSV, &r, &why), PV_E_INPUT);
	cr_assert_str_eq(why.msg, "t.csv: more than 100000 rows");
	cr_assert_eq(r.n, BATCH_ROWS_MAX);
	batch_rows_cleanup(&r);
	free(doc);
}

Test(batch_rows, files)
{
	char dir[] = "/tmp/pv-rows-XXXXXX", path[128];
	struct batch_rows r;
	struct pv_why why = { "" };
	enum batch_format f;
	FILE *fp;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.csv", dir);
	cr_assert_eq(batch_rows_load(path, BATCH_FMT_CSV, &r, &why),
	    PV_E_NO_FILE);
	cr_assert(strstr(why.msg, "no such file") != NULL);
	pv_why_clear(&why);
	cr_assert_eq(batch_rows_load(dir, BATCH_FMT_CSV, &r, &why),
	    PV_E_INPUT, "a folder");
	snprintf(path, sizeof(path), "%s/big.csv", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)BATCH_FILE_MAX + 1), 0);
	close(fd);
	pv_why_clear(&why);
	cr_assert_eq(batch_rows_load(path, BATCH_FMT_CSV, &r, &why),
	    PV_E_TOO_LONG);
	snprintf(path, sizeof(path), "%s/ok.csv", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	fputs(HDR ROW1 ROW2, fp);
	fclose(fp);
	cr_assert_eq(batch_rows_load(path, BATCH_FMT_CSV, &r, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(r.n, 2);
	batch_rows_cleanup(&r);
	cr_assert(batch_format_guess("x/People.CSV", &f) && f == BATCH_FMT_CSV);
	cr_assert(batch_format_guess("a.ndjson", &f) && f == BATCH_FMT_JSONL);
	cr_assert(!batch_format_guess("a.json", &f));
	cr_assert(!batch_format_guess(".csv", &f), "a name, not a suffix");
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
}
