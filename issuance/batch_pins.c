/*
 * batch_pins.c: random PINs under the [pin] rules, and the PIN-mailer
 * file (batch_int.h): a CSV file, 0600, one line per PIN with a header
 *
 *	row,person_id,name,serial,card_uuid,status,pin
 *
 * During a run it is a journal: a line is appended and synced before the
 * card's PIN is set, so an interrupted issuance finds its PIN again (the
 * last line of its row).  At the end of a run it is rewritten with one
 * line per row issued ("issued") or still on its way ("in progress").
 * It is the only place a PIN of the batch is kept: never the store, the
 * log or a trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "issuance/batch_int.h"

#define MAILER_HEADER	"row,person_id,name,serial,card_uuid,status,pin\n"
#define MAILER_MAX	(64u * 1024u * 1024u)	/* bytes read back */
#define MAILER_LINE_MAX	1024

/* ---- random PINs ------------------------------------------------------------------- */

enum pv_err
batch_pin_random(const struct pv_config *cfg, char out[9], struct pv_why *why)
{
	uint8_t rnd[32];
	unsigned len = cfg->pin_max < 8 ? cfg->pin_max : 8, tries, i, k;
	enum pv_err r = PV_E_INTERNAL;

	memset(out, 0, 9);
	if (len < cfg->pin_min)
		return pv_why_set(why, PV_E_CONFIG, "[pin] min_length %u: a PIV "
		    "PIN has at most 8 digits", cfg->pin_min);
	/* Drawn again while a weak-PIN rule or a listed value refuses it;
	 * refusals are rare (a few in 10^6 for 8 digits). */
	for (tries = 0; tries < 100; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			r = pv_why_set(why, PV_E_CRYPTO, "no random bytes for a "
			    "PIN");
			goto out;
		}
		/* Bytes >= 250 are dropped: each digit equally likely. */
		for (i = k = 0; i < sizeof(rnd) && k < len; i++)
			if (rnd[i] < 250)
				out[k++] = (char)('0' + rnd[i] % 10);
		if (k < len)
			continue;
		out[k] = '\0';
		if (config_check_pin(cfg, (const uint8_t *)out, len, NULL) ==
		    PV_OK) {
			r = PV_OK;
			goto out;
		}
	}
	r = pv_why_set(why, PV_E_CONFIG, "[pin]: no random PIN of %u digits "
	    "passes the rules", len);
out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if (r != PV_OK)
		OPENSSL_cleanse(out, 9);
	return r;
}

/* ---- CSV out ------------------------------------------------------------------------ */

bool
batch_csv_field(char *o, size_t cap, size_t *len, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	size_t n = *len;

	if (quote) {
		if (n + 1 >= cap)
			return false;
		o[n++] = '"';
	}
	for (; *s != '\0'; s++) {
		if (n + 2 >= cap)
			return false;
		if (*s == '"')
			o[n++] = '"';
		o[n++] = *s;
	}
	if (n + 3 >= cap)
		return false;
	if (quote)
		o[n++] = '"';
	o[n++] = last ? '\n' : ',';
	o[n] = '\0';
	*len = n;
	return true;
}

/* ---- the file --------------------------------------------------------------------- */

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

/* The file must be a regular file of this user that nobody else may
 * read: PINs are in it. */
static enum pv_err
mailer_check(int fd, const char *path, struct pv_why *why)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return pv_why_set(why, PV_E_INPUT, "PIN mailer %s: not a "
		    "regular file", path);
	if (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0)
		return pv_why_set(why, PV_E_POLICY, "PIN mailer %s: others may "
		    "read or write it (mode %03o): it holds PINs; chmod 600 it "
		    "or name another file", path, (unsigned)(sb.st_mode & 0777));
	return PV_OK;
}

enum pv_err
batch_mailer_open(struct batch_mailer *m, const char *path,
    struct pv_why *why)
{
	struct stat sb;
	mode_t old;
	int fd;
	enum pv_err r;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (strlen(path) >= sizeof(m->path))
		return pv_why_set(why, PV_E_TOO_LONG, "PIN mailer: path too "
		    "long");
	memcpy(m->path, path, strlen(path) + 1);
	old = umask(077);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	(void)umask(old);
	if (fd < 0)
		return pv_why_set(why, errno == ELOOP ? PV_E_INPUT : PV_E_IO,
		    "PIN mailer %s: %s", path, errno == ELOOP ?
		    "a symbolic link" : strerror(errno));
	if ((r = mailer_check(fd, path, why)) != PV_OK)
		goto fail;
	if (fstat(fd, &sb) == 0 && sb.st_size == 0 &&
	    (!write_all(fd, MAILER_HEADER, strlen(MAILER_HEADER)) ||
	    fsync(fd) != 0)) {
		r = pv_why_set(why, PV_E_IO, "PIN mailer %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	m->fd = fd;
	return PV_OK;
fail:
	(void)close(fd);
	return r;
}

void
batch_mailer_close(struct batch_mailer *m)
{
	if (m->fd >= 0)
		(void)close(m->fd);
	m->fd = -1;
}

/* One line; |status| and |uuid| may be "". */
static bool
mailer_line(char *o, size_t cap, unsigned row, const char *person_id,
    const char *name, const char *serial, const char *uuid,
    const char *status, const char *pin)
{
	char num[16];
	size_t n = 0;

	(void)snprintf(num, sizeof(num), "%u", row);
	o[0] = '\0';
	return batch_csv_field(o, cap, &n, num, false) &&
	    batch_csv_field(o, cap, &n, person_id, false) &&
	    batch_csv_field(o, cap, &n, name, false) &&
	    batch_csv_field(o, cap, &n, serial, false) &&
	    batch_csv_field(o, cap, &n, uuid, false) &&
	    batch_csv_field(o, cap, &n, status, false) &&
	    batch_csv_field(o, cap, &n, pin, true);
}

enum pv_err
batch_mailer_append(struct batch_mailer *m, unsigned row,
    const char *person_id, const char *name, const char *serial,
    const char *pin, struct pv_why *why)
{
	char line[MAILER_LINE_MAX];
	enum pv_err r = PV_OK;

	if (!mailer_line(line, sizeof(line), row, person_id, name, serial, "",
	    "started", pin))
		r = pv_why_set(why, PV_E_TOO_LONG, "PIN mailer: row %u: line "
		    "too long", row);
	else if (!write_all(m->fd, line, strlen(line)) || fdatasync(m->fd) != 0)
		r = pv_why_set(why, PV_E_IO, "PIN mailer %s: %s", m->path,
		    strerror(errno));
	OPENSSL_cleanse(line, sizeof(line));
	return r;
}

/* The file's bytes (NUL-terminated, *out for OPENSSL_clear_free). */
static enum pv_err
mailer_read(struct batch_mailer *m, char **out, size_t *len,
    struct pv_why *why)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;

	*out = NULL;
	*len = 0;
	if (fstat(m->fd, &sb) != 0)
		return pv_why_set(why, PV_E_IO, "PIN mailer %s: %s", m->path,
		    strerror(errno));
	if ((uint64_t)sb.st_size > MAILER_MAX)
		return pv_why_set(why, PV_E_TOO_LONG, "PIN mailer %s: larger "
		    "than %u bytes", m->path, MAILER_MAX);
	if ((buf = OPENSSL_malloc((size_t)sb.st_size + 1)) == NULL)
		return PV_E_NOMEM;
	while (got < (size_t)sb.st_size) {
		n = pread(m->fd, buf + got, (size_t)sb.st_size - got,
		    (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return PV_OK;
}

/*
 * A line's row (its first field) and PIN (its last): the file is ours,
 * but read as any file is, bounded; a line that does not parse is
 * ignored.
 */
static bool
mailer_parse(const char *line, size_t n, unsigned *row, char pin[9])
{
	const char *comma, *last = NULL;
	unsigned long v = 0;
	size_t i, plen;

	if (n == 0 || (comma = memchr(line, ',', n)) == NULL ||
	    comma == line || comma - line > 9)
		return false;
	for (i = 0; line + i < comma; i++) {
		if (line[i] < '0' || line[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(line[i] - '0');
	}
	for (i = n; i > 0; i--)
		if (line[i - 1] == ',') {
			last = line + i;
			break;
		}
	if (last == NULL || v == 0 || v > BATCH_ROWS_MAX * 10ul)
		return false;
	plen = n - (size_t)(last - line);
	if (plen > 0 && last[plen - 1] == '\r')
		plen--;
	if (plen == 0 || plen > 8)
		return false;
	for (i = 0; i < plen; i++)
		if (last[i] < '0' || last[i] > '9')
			return false;
	memcpy(pin, last, plen);
	pin[plen] = '\0';
	*row = (unsigned)v;
	return true;
}

/* Every (row, PIN) of the file, the last of each row kept. */
struct mailer_pin {
	unsigned row;
	unsigned seq;
	char pin[9];
};

static int
mailer_pin_cmp(const void *a, const void *b)
{
	const struct mailer_pin *x = a, *y = b;

	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* *out (n entries, sorted by row, one per row: its last) for
 * OPENSSL_clear_free. */
static enum pv_err
mailer_pins(struct batch_mailer *m, struct mailer_pin **out, size_t *n_out,
    struct pv_why *why)
{
	struct mailer_pin *list = NULL, *grown;
	char *buf = NULL, got[9];
	size_t len = 0, pos = 0, end, n = 0, cap = 0, i, k;
	const char *nl;
	unsigned row;
	enum pv_err r;

	*out = NULL;
	*n_out = 0;
	if ((r = mailer_read(m, &buf, &len, why)) != PV_OK)
		return r;
	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		if (mailer_parse(buf + pos, end - pos, &row, got)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				grown = OPENSSL_malloc(cap * sizeof(*grown));
				if (grown == NULL) {
					r = PV_E_NOMEM;
					goto out;
				}
				if (n > 0)
					memcpy(grown, list, n * sizeof(*list));
				OPENSSL_clear_free(list, n * sizeof(*list));
				list = grown;
			}
			list[n].row = row;
			list[n].seq = (unsigned)n;
			memcpy(list[n].pin, got, sizeof(got));
			n++;
		}
		pos = end + 1;
	}
	if (n > 0)
		qsort(list, n, sizeof(*list), mailer_pin_cmp);
	/* Keep the last of each row. */
	for (i = k = 0; i < n; i++) {
		if (i + 1 < n && list[i + 1].row == list[i].row)
			continue;
		list[k++] = list[i];
	}
	*out = list;
	*n_out = k;
	list = NULL;
	n = 0;
	r = PV_OK;
out:
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_clear_free(list, cap * sizeof(*list));
	OPENSSL_clear_free(buf, len + 1);
	return r;
}

static const struct mailer_pin *
mailer_pin_find(const struct mailer_pin *list, size_t n, unsigned row)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (list[mid].row == row)
			return &list[mid];
		if (list[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

enum pv_err
batch_mailer_lookup(struct batch_mailer *m, unsigned row, char pin[9],
    bool *found, struct pv_why *why)
{
	struct mailer_pin *list = NULL;
	const struct mailer_pin *p;
	size_t n = 0;
	enum pv_err r;

	*found = false;
	memset(pin, 0, 9);
	if ((r = mailer_pins(m, &list, &n, why)) != PV_OK)
		return r;
	if ((p = mailer_pin_find(list, n, row)) != NULL) {
		memcpy(pin, p->pin, 9);
		*found = true;
	}
	OPENSSL_clear_free(list, n * sizeof(*list));
	return PV_OK;
}

/* The folder of |path|, synced after a rename in it. */
static void
sync_dir_of(const char *path)
{
	char tmp[STORE_BATCH_PATH_MAX];
	int fd;

	(void)snprintf(tmp, sizeof(tmp), "%s", path);
	fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		(void)close(fd);
	}
}

enum pv_err
batch_mailer_rewrite(struct batch_mailer *m,
    const struct batch_mailer_keep *keep, size_t n, struct pv_why *why)
{
	struct mailer_pin *pins = NULL;
	const struct mailer_pin *p;
	char tmp[STORE_BATCH_PATH_MAX + 8], path[STORE_BATCH_PATH_MAX];
	char line[MAILER_LINE_MAX];
	size_t n_pins = 0, i;
	int fd = -1;
	mode_t old;
	enum pv_err r = PV_E_INTERNAL;

	memcpy(path, m->path, sizeof(path));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return pv_why_set(why, PV_E_TOO_LONG, "PIN mailer: path too "
		    "long");
	if ((r = mailer_pins(m, &pins, &n_pins, why)) != PV_OK)
		return r;
	old = umask(077);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	(void)umask(old);
	if (fd < 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((r = mailer_check(fd, tmp, why)) != PV_OK)
		goto out;
	if (!write_all(fd, MAILER_HEADER, strlen(MAILER_HEADER))) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((p = mailer_pin_find(pins, n_pins, keep[i].row)) == NULL)
			continue;
		if (!mailer_line(line, sizeof(line), keep[i].row,
		    keep[i].person_id, keep[i].name, keep[i].serial,
		    keep[i].card_uuid, keep[i].status, p->pin) ||
		    !write_all(fd, line, strlen(line))) {
			r = pv_why_set(why, PV_E_IO, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	(void)close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	sync_dir_of(path);
	/* The journal goes on in the new file. */
	batch_mailer_close(m);
	r = batch_mailer_open(m, path, why);
out:
	if (fd >= 0) {
		(void)close(fd);
		(void)unlink(tmp);
	}
	OPENSSL_cleanse(line, sizeof(line));
	OPENSSL_clear_free(pins, n_pins * sizeof(*pins));
	return r;
}
