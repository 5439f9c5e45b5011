/*
 * batch_rows.c: the rows of a batch file (batch_rows.h): a CSV reader
 * after RFC 4180, JSON Lines, and the duplicates within a file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "issuance/batch_rows.h"

#define CSV_FIELDS_MAX	32	/* columns in a header */

const char *
batch_format_name(enum batch_format f)
{
	return f == BATCH_FMT_CSV ? "csv" : "jsonl";
}

enum pv_err
batch_format_parse(const char *s, enum batch_format *out, struct pv_why *why)
{
	if (strcmp(s, "csv") == 0)
		*out = BATCH_FMT_CSV;
	else if (strcmp(s, "jsonl") == 0)
		*out = BATCH_FMT_JSONL;
	else
		return pv_why_set(why, PV_E_INPUT, "format '%.20s': expected "
		    "csv or jsonl", s);
	return PV_OK;
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && strcasecmp(s + n - t, tail) == 0;
}

bool
batch_format_guess(const char *path, enum batch_format *out)
{
	if (ends_with(path, ".csv")) {
		*out = BATCH_FMT_CSV;
		return true;
	}
	if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson")) {
		*out = BATCH_FMT_JSONL;
		return true;
	}
	return false;
}

/* ---- what is read -------------------------------------------------------------- */

struct rd {
	const char *src;
	struct batch_rows *out;
	size_t cap_rows;
	bool nomem;
	bool stop;		/* nothing more can be read */
};

static void
rd_err(struct rd *r, unsigned row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rd_err(struct rd *r, unsigned row, const char *fmt, ...)
{
	struct batch_rows *o = r->out;
	va_list ap;

	o->n_errs_total++;
	if (o->n_errs >= BATCH_ERRS_KEPT)
		return;
	if (o->errs == NULL && (o->errs = calloc(BATCH_ERRS_KEPT,
	    sizeof(*o->errs))) == NULL) {
		r->nomem = true;
		return;
	}
	o->errs[o->n_errs].row = row;
	va_start(ap, fmt);
	(void)vsnprintf(o->errs[o->n_errs].msg, BATCH_MSG_MAX, fmt, ap);
	va_end(ap);
	o->n_errs++;
}

static void
rd_add(struct rd *r, unsigned row, const struct identity *id)
{
	struct batch_rows *o = r->out;
	struct batch_row *n;
	size_t cap;

	if (o->n == r->cap_rows) {
		cap = r->cap_rows ? 2 * r->cap_rows : 64;
		if ((n = realloc(o->rows, cap * sizeof(*n))) == NULL) {
			r->nomem = true;
			r->stop = true;
			return;
		}
		o->rows = n;
		r->cap_rows = cap;
	}
	o->rows[o->n].row = row;
	o->rows[o->n].id = *id;
	o->n++;
}

/* One more row: false (and a message) past BATCH_ROWS_MAX. */
static bool
rd_room(struct rd *r)
{
	if (r->out->n + r->out->n_errs_total < BATCH_ROWS_MAX)
		return true;
	rd_err(r, 0, "%s: more than %u rows", r->src, BATCH_ROWS_MAX);
	r->stop = true;
	return false;
}

/* ---- CSV (RFC 4180) --------------------------------------------------------------- */

struct csv {
	const char *p;
	size_t len, pos;
	unsigned line;			/* of p[pos], from 1 */
	char *buf;			/* the record's fields, unquoted, each
					 * followed by a NUL */
	size_t used, cap;
	size_t off[CSV_FIELDS_MAX];
	size_t flen[CSV_FIELDS_MAX];
	size_t n;
};

enum csv_rc { CSV_RECORD, CSV_EOF, CSV_BAD, CSV_FATAL };

static bool
csv_put(struct csv *c, char ch)
{
	char *n;
	size_t cap;

	if (c->used == c->cap) {
		cap = c->cap ? 2 * c->cap : 256;
		if (cap > BATCH_RECORD_MAX + 2)
			cap = BATCH_RECORD_MAX + 2;
		if (c->used >= cap || (n = realloc(c->buf, cap)) == NULL)
			return false;
		c->buf = n;
		c->cap = cap;
	}
	c->buf[c->used++] = ch;
	return true;
}

/* After a bad record: on to the next line. */
static void
csv_skip_line(struct csv *c)
{
	while (c->pos < c->len && c->p[c->pos] != '\n')
		c->pos++;
	if (c->pos < c->len) {
		c->pos++;
		c->line++;
	}
}

/*
 * Reads one record into c->off/flen (c->n fields).  *start is the line it
 * starts on.  A bad record is reported with |msg| and skipped up to the
 * next line; a quote left open ends the file (CSV_FATAL).
 */
static enum csv_rc
csv_record(struct csv *c, unsigned *start, char *msg, size_t cap)
{
	char ch;

	/* Empty lines between records are skipped. */
	for (;;) {
		if (c->pos >= c->len)
			return CSV_EOF;
		if (c->p[c->pos] == '\n') {
			c->pos++;
			c->line++;
		} else if (c->p[c->pos] == '\r' && c->pos + 1 < c->len &&
		    c->p[c->pos + 1] == '\n') {
			c->pos += 2;
			c->line++;
		} else {
			break;
		}
	}
	*start = c->line;
	c->n = 0;
	c->used = 0;
	for (;;) {
		if (c->n == CSV_FIELDS_MAX) {
			(void)snprintf(msg, cap, "more than %d fields",
			    CSV_FIELDS_MAX);
			goto bad;
		}
		c->off[c->n] = c->used;
		if (c->pos < c->len && c->p[c->pos] == '"') {
			unsigned open_line = c->line;

			c->pos++;
			for (;;) {
				if (c->pos >= c->len) {
					(void)snprintf(msg, cap, "a quoted field "
					    "opened on line %u is not closed",
					    open_line);
					return CSV_FATAL;
				}
				ch = c->p[c->pos];
				if (ch == '"') {
					if (c->pos + 1 < c->len &&
					    c->p[c->pos + 1] == '"') {
						c->pos += 2;
					} else {
						c->pos++;
						break;
					}
				} else {
					c->pos++;
					if (ch == '\n')
						c->line++;
				}
				if (ch == '\0') {
					(void)snprintf(msg, cap, "NUL byte");
					goto bad;
				}
				if (!csv_put(c, ch))
					goto too_long;
			}
			if (c->pos < c->len && c->p[c->pos] != ',' &&
			    c->p[c->pos] != '\r' && c->p[c->pos] != '\n') {
				(void)snprintf(msg, cap, "field %zu: text after "
				    "the closing quote", c->n + 1);
				goto bad;
			}
		} else {
			while (c->pos < c->len && (ch = c->p[c->pos]) != ',' &&
			    ch != '\r' && ch != '\n') {
				if (ch == '"') {
					(void)snprintf(msg, cap, "field %zu: a "
					    "quote inside an unquoted field (quote "
					    "the whole field and double the "
					    "quote)", c->n + 1);
					goto bad;
				}
				if (ch == '\0') {
					(void)snprintf(msg, cap, "NUL byte");
					goto bad;
				}
				if (!csv_put(c, ch))
					goto too_long;
				c->pos++;
			}
		}
		c->flen[c->n] = c->used - c->off[c->n];
		if (!csv_put(c, '\0'))
			goto too_long;
		c->n++;
		if (c->pos >= c->len)
			return CSV_RECORD;
		ch = c->p[c->pos];
		if (ch == ',') {
			c->pos++;
			continue;
		}
		if (ch == '\r') {
			if (c->pos + 1 >= c->len || c->p[c->pos + 1] != '\n') {
				(void)snprintf(msg, cap, "a carriage return "
				    "without a line feed");
				goto bad;
			}
			c->pos++;
		}
		c->pos++;	/* the LF */
		c->line++;
		return CSV_RECORD;
	}
too_long:
	(void)snprintf(msg, cap, "longer than %u bytes", BATCH_RECORD_MAX);
bad:
	csv_skip_line(c);
	return CSV_BAD;
}

static void
csv_parse(struct rd *r, const char *p, size_t len)
{
	struct csv c;
	const char *names[CSV_FIELDS_MAX], *vals[CSV_FIELDS_MAX];
	char hdr[CSV_FIELDS_MAX][48];
	char msg[160], src[BATCH_MSG_MAX];
	struct identity id;
	struct pv_why why;
	size_t n_cols = 0, i, k;
	unsigned start = 1, rows = 0;
	bool bad_header = false;
	static const char *const need[] = { "given_name", "family_name",
		"person_id", "affiliation" };
	enum csv_rc rc;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.len = len;
	c.line = 1;
	/* The header. */
	rc = csv_record(&c, &start, msg, sizeof(msg));
	if (rc == CSV_EOF) {
		rd_err(r, 0, "%s: empty: no header row", r->src);
		goto out;
	}
	if (rc != CSV_RECORD) {
		rd_err(r, start, "%s:%u: header: %s", r->src, start, msg);
		goto out;
	}
	n_cols = c.n;
	for (i = 0; i < n_cols; i++) {
		const char *h = c.buf + c.off[i];

		hdr[i][0] = '\0';
		names[i] = hdr[i];
		if (!identity_field_known(h, NULL) || strlen(h) >=
		    sizeof(hdr[0])) {
			rd_err(r, start, "%s:%u: %.40s: unknown field", r->src,
			    start, h);
			bad_header = true;
			continue;
		}
		for (k = 0; k < i; k++)
			if (strcmp(hdr[k], h) == 0)
				break;
		if (k < i) {
			rd_err(r, start, "%s:%u: %s: column given twice",
			    r->src, start, h);
			bad_header = true;
			continue;
		}
		memcpy(hdr[i], h, strlen(h) + 1);
	}
	for (k = 0; k < sizeof(need) / sizeof(need[0]) && !bad_header; k++) {
		for (i = 0; i < n_cols; i++)
			if (strcmp(hdr[i], need[k]) == 0)
				break;
		if (i == n_cols) {
			rd_err(r, start, "%s:%u: %s: missing (a required "
			    "column)", r->src, start, need[k]);
			bad_header = true;
		}
	}
	if (bad_header)
		goto out;
	/* The rows. */
	while (!r->stop && !r->nomem) {
		rc = csv_record(&c, &start, msg, sizeof(msg));
		if (rc == CSV_EOF)
			break;
		if (!rd_room(r))
			break;
		rows++;
		if (rc == CSV_FATAL || rc == CSV_BAD) {
			rd_err(r, start, "%s:%u: %s", r->src, start, msg);
			if (rc == CSV_FATAL)
				break;
			continue;
		}
		if (c.n != n_cols) {
			rd_err(r, start, "%s:%u: %zu field%s, the header has "
			    "%zu", r->src, start, c.n, c.n == 1 ? "" : "s",
			    n_cols);
			continue;
		}
		for (i = 0; i < n_cols; i++)
			vals[i] = c.buf + c.off[i];
		(void)snprintf(src, sizeof(src), "%s:%u", r->src, start);
		pv_why_clear(&why);
		if (identity_from_fields(names, vals, c.flen, n_cols, src, &id,
		    &why) != PV_OK) {
			rd_err(r, start, "%s", why.msg);
			continue;
		}
		rd_add(r, start, &id);
	}
	if (rows == 0 && r->out->n_errs_total == 0)
		rd_err(r, 0, "%s: a header and no rows", r->src);
out:
	free(c.buf);
}

/* ---- JSON Lines --------------------------------------------------------------------- */

static void
jsonl_parse(struct rd *r, const char *p, size_t len)
{
	char src[BATCH_MSG_MAX];
	struct identity id;
	struct pv_why why;
	size_t pos = 0, end, n, i;
	unsigned line = 1, rows = 0;
	const char *nl;
	bool blank;

	while (pos < len && !r->stop && !r->nomem) {
		nl = memchr(p + pos, '\n', len - pos);
		end = nl != NULL ? (size_t)(nl - p) : len;
		n = end - pos;
		blank = true;
		for (i = 0; i < n && blank; i++)
			blank = p[pos + i] == ' ' || p[pos + i] == '\t' ||
			    p[pos + i] == '\r';
		if (!blank && rd_room(r)) {
			rows++;
			(void)snprintf(src, sizeof(src), "%s:%u", r->src, line);
			pv_why_clear(&why);
			if (identity_parse(p + pos, n, src, &id, &why) == PV_OK)
				rd_add(r, line, &id);
			else
				rd_err(r, line, "%s", why.msg);
		}
		pos = end + 1;
		line++;
	}
	if (rows == 0 && r->out->n_errs_total == 0)
		rd_err(r, 0, "%s: no rows", r->src);
}

/* ---- duplicates within the file ------------------------------------------------------ */

struct dup_key {
	const char *key;
	unsigned row;
};

static int
dup_cmp(const void *a, const void *b)
{
	const struct dup_key *x = a, *y = b;
	int c = strcasecmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int
err_cmp(const void *a, const void *b)
{
	const struct batch_row_err *x = a, *y = b;

	return x->row < y->row ? -1 : x->row > y->row;
}

/*
 * person_id, email and UPN given twice: each later row is reported
 * against the first.  The messages join the others in row order.
 */
static void
dup_check(struct rd *r)
{
	static const char *const what[3] = { "person_id", "email", "upn" };
	struct batch_rows *o = r->out;
	struct batch_row_err *dups = NULL, *all = NULL;
	struct dup_key *keys = NULL;
	size_t n_dups = 0, total = 0, i, j, k, n, m;
	int f;

	if (o->n < 2)
		return;
	if ((keys = calloc(o->n, sizeof(*keys))) == NULL ||
	    (dups = calloc(BATCH_ERRS_KEPT, sizeof(*dups))) == NULL) {
		r->nomem = true;
		goto out;
	}
	for (f = 0; f < 3; f++) {
		for (i = n = 0; i < o->n; i++) {
			const struct identity *id = &o->rows[i].id;
			const char *v = f == 0 ? id->person_id : f == 1 ?
			    id->email : id->upn;

			if (v[0] == '\0')
				continue;
			keys[n].key = v;
			keys[n].row = o->rows[i].row;
			n++;
		}
		qsort(keys, n, sizeof(*keys), dup_cmp);
		for (i = 0; i < n; i = j) {
			for (j = i + 1; j < n && strcasecmp(keys[i].key,
			    keys[j].key) == 0; j++) {
				total++;
				if (n_dups == BATCH_ERRS_KEPT)
					continue;
				dups[n_dups].row = keys[j].row;
				(void)snprintf(dups[n_dups].msg, BATCH_MSG_MAX,
				    "%s:%u: %s: %.80s is also on row %u",
				    r->src, keys[j].row, what[f], keys[j].key,
				    keys[i].row);
				n_dups++;
			}
		}
	}
	if (total == 0)
		goto out;
	/* Merge with what was found before, in row order, keeping the
	 * first BATCH_ERRS_KEPT. */
	qsort(dups, n_dups, sizeof(*dups), err_cmp);
	if ((all = calloc(BATCH_ERRS_KEPT, sizeof(*all))) == NULL) {
		r->nomem = true;
		goto out;
	}
	for (i = j = k = 0; k < BATCH_ERRS_KEPT && (i < o->n_errs ||
	    j < n_dups); k++) {
		if (j >= n_dups || (i < o->n_errs && o->errs[i].row <=
		    dups[j].row))
			all[k] = o->errs[i++];
		else
			all[k] = dups[j++];
	}
	m = k;
	free(o->errs);
	o->errs = all;
	all = NULL;
	o->n_errs = m;
	o->n_errs_total += total;
out:
	free(all);
	free(dups);
	free(keys);
}

/* ---- the file ------------------------------------------------------------------------- */

enum pv_err
batch_rows_parse(const char *buf, size_t len, enum batch_format fmt,
    const char *source, struct batch_rows *out, struct pv_why *why)
{
	struct rd r;
	size_t skip = 0;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	out->fmt = fmt;
	r.src = source != NULL ? source : "batch";
	r.out = out;
	if (len > BATCH_FILE_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: larger than %u "
		    "bytes", r.src, BATCH_FILE_MAX);
	if (EVP_Digest(buf, len, out->digest, NULL, EVP_sha256(), NULL) != 1)
		return pv_why_set(why, PV_E_CRYPTO, "%s: SHA-256 failed",
		    r.src);
	/* A byte order mark, as spreadsheets write it. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	if (fmt == BATCH_FMT_CSV)
		csv_parse(&r, buf + skip, len - skip);
	else
		jsonl_parse(&r, buf + skip, len - skip);
	if (!r.nomem)
		dup_check(&r);
	if (r.nomem) {
		batch_rows_cleanup(out);
		return PV_E_NOMEM;
	}
	if (out->n_errs_total > 0)
		return pv_why_set(why, PV_E_INPUT, "%s", out->errs[0].msg);
	return PV_OK;
}

enum pv_err
batch_rows_load(const char *path, enum batch_format fmt,
    struct batch_rows *out, struct pv_why *why)
{
	struct stat sb;
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;
	enum pv_err r = PV_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((f = fopen(path, "rb")) == NULL) {
		/* The file a person named: whatever is wrong is input. */
		return pv_why_set(why, errno == ENOENT ? PV_E_NO_FILE :
		    PV_E_INPUT, "%s: %s", path, errno == ENOENT ?
		    "no such file" : strerror(errno));
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		r = pv_why_set(why, PV_E_INPUT, "%s: not a regular file", path);
		goto out;
	}
	if (sb.st_size > (off_t)BATCH_FILE_MAX) {
		r = pv_why_set(why, PV_E_TOO_LONG, "%s: larger than %u bytes",
		    path, BATCH_FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	n = fread(buf, 1, (size_t)sb.st_size + 1, f);
	if (ferror(f)) {
		r = pv_why_set(why, PV_E_IO, "%s: read failed", path);
		goto out;
	}
	if (n > (size_t)sb.st_size) {
		r = pv_why_set(why, PV_E_INPUT, "%s: the file grows while it "
		    "is read", path);
		goto out;
	}
	r = batch_rows_parse(buf, n, fmt, path, out, why);
out:
	free(buf);
	fclose(f);
	return r;
}

void
batch_rows_cleanup(struct batch_rows *r)
{
	free(r->rows);
	free(r->errs);
	memset(r, 0, sizeof(*r));
}

const struct batch_row *
batch_rows_find(const struct batch_rows *r, unsigned row)
{
	size_t lo = 0, hi = r->n, mid;

	/* Rows are kept in file order: by row number. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->rows[mid].row == row)
			return &r->rows[mid];
		if (r->rows[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
