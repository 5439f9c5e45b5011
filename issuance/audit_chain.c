/*
 * audit_chain.c: row hashes, head MACs, row digests and the files that
 * record the head (audit_chain.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "apdu/buf.h"
#include "issuance/audit_chain.h"
#include "issuance/secret.h"

#define AUDIT_FILE_MAX		512
#define AUDIT_ANCHOR_MAX	(16 * 1024 * 1024)

static void
audit_put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static bool
audit_hash_bytes(EVP_MD_CTX *md, const void *p, size_t n)
{
	uint8_t len[4];

	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	return EVP_DigestUpdate(md, len, 4) == 1 &&
	    (n == 0 || EVP_DigestUpdate(md, p, n) == 1);
}

static bool
audit_hash_str(EVP_MD_CTX *md, const char *s)
{
	return audit_hash_bytes(md, s, strlen(s));
}

enum pv_err
audit_row_hash(const uint8_t prev[32], int64_t seq, int64_t time,
    const char *actor, const char *action, const char *object,
    const char *detail, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t ints[16];
	unsigned len = 0;
	enum pv_err r = PV_E_CRYPTO;

	if (md == NULL)
		return PV_E_NOMEM;
	audit_put_u64(ints, (uint64_t)seq);
	audit_put_u64(ints + 8, (uint64_t)time);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, prev, 32) == 1 &&
	    EVP_DigestUpdate(md, AUDIT_ROW_TAG, sizeof(AUDIT_ROW_TAG)) == 1 &&
	    EVP_DigestUpdate(md, ints, sizeof(ints)) == 1 &&
	    audit_hash_str(md, actor) && audit_hash_str(md, action) &&
	    audit_hash_str(md, object) && audit_hash_str(md, detail) &&
	    EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32)
		r = PV_OK;
	EVP_MD_CTX_free(md);
	return r;
}

enum pv_err
audit_head_mac(const uint8_t key[AUDIT_KEY_LEN], int64_t count,
    const uint8_t hash[32], uint8_t out[32])
{
	uint8_t msg[sizeof(AUDIT_HEAD_TAG) + 8 + 32];
	unsigned len = 0;

	memcpy(msg, AUDIT_HEAD_TAG, sizeof(AUDIT_HEAD_TAG));
	audit_put_u64(msg + sizeof(AUDIT_HEAD_TAG), (uint64_t)count);
	memcpy(msg + sizeof(AUDIT_HEAD_TAG) + 8, hash, 32);
	if (HMAC(EVP_sha256(), key, AUDIT_KEY_LEN, msg, sizeof(msg), out,
	    &len) == NULL || len != 32)
		return PV_E_CRYPTO;
	return PV_OK;
}

/* ---- row digests --------------------------------------------------------------- */

struct audit_digest {
	EVP_MD_CTX *md;
	bool ok;
};

enum pv_err
audit_digest_begin(const char *table, struct audit_digest **out)
{
	struct audit_digest *d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->md = EVP_MD_CTX_new()) == NULL) {
		free(d);
		return PV_E_NOMEM;
	}
	d->ok = EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(d->md, AUDIT_ROWREC_TAG,
	    sizeof(AUDIT_ROWREC_TAG)) == 1 &&
	    audit_hash_str(d->md, table);
	*out = d;
	return PV_OK;
}

/*
 * Per column: its type byte, then an integer as u64, text or blob as u32
 * length and bytes, nothing for NULL.  A child row starts with 0xFE, so
 * the rows' boundaries are part of the digest.
 */
enum pv_err
audit_digest_cols(struct audit_digest *d, bool child,
    const struct audit_val *v, size_t n)
{
	static const uint8_t child_mark = 0xfe;
	uint8_t tb, b8[8];
	size_t i;

	if (child)
		d->ok = d->ok && EVP_DigestUpdate(d->md, &child_mark, 1) == 1;
	for (i = 0; d->ok && i < n; i++) {
		tb = (uint8_t)v[i].type;
		d->ok = EVP_DigestUpdate(d->md, &tb, 1) == 1;
		if (!d->ok || v[i].type == AUDIT_VAL_NULL)
			continue;
		if (v[i].type == AUDIT_VAL_INT) {
			audit_put_u64(b8, (uint64_t)v[i].i);
			d->ok = EVP_DigestUpdate(d->md, b8, 8) == 1;
			continue;
		}
		d->ok = audit_hash_bytes(d->md, v[i].p, v[i].p != NULL ?
		    v[i].n : 0);
	}
	return d->ok ? PV_OK : PV_E_CRYPTO;
}

enum pv_err
audit_digest_end(struct audit_digest *d, uint8_t out[32])
{
	unsigned len = 0;

	if (!d->ok || EVP_DigestFinal_ex(d->md, out, &len) != 1 || len != 32)
		return PV_E_CRYPTO;
	return PV_OK;
}

void
audit_digest_free(struct audit_digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->md);
	free(d);
}

/* ---- the head file and the anchor ------------------------------------------------ */

/* "TAG COUNT HASHHEX MACHEX" (the anchor's lines start with a time). */
static int
audit_head_line(const struct audit_head *h, char *out, size_t cap)
{
	char hh[65], mh[65];

	buf_hex(h->hash, 32, hh);
	buf_hex(h->mac, 32, mh);
	return snprintf(out, cap, "%s %lld %s %s", AUDIT_HEAD_TAG,
	    (long long)h->count, hh, mh);
}

/* Parses "TAG COUNT HASH MAC" in |line| (modified) and checks the MAC. */
static enum pv_err
audit_head_parse(char *line, const uint8_t key[AUDIT_KEY_LEN],
    struct audit_head *out)
{
	char *f[4], *save = NULL, *tok, *end;
	uint8_t want[32];
	long long c;
	int n = 0;

	for (tok = strtok_r(line, " \n", &save); tok != NULL && n < 4;
	    tok = strtok_r(NULL, " \n", &save))
		f[n++] = tok;
	if (n != 4 || tok != NULL || strcmp(f[0], AUDIT_HEAD_TAG) != 0 ||
	    !buf_unhex(f[2], strlen(f[2]), out->hash, 32) ||
	    !buf_unhex(f[3], strlen(f[3]), out->mac, 32))
		return PV_E_MALFORMED;
	c = strtoll(f[1], &end, 10);
	if (*end != '\0' || c < 0)
		return PV_E_MALFORMED;
	out->count = c;
	if (audit_head_mac(key, c, out->hash, want) != PV_OK ||
	    CRYPTO_memcmp(want, out->mac, 32) != 0)
		return PV_E_VERIFY;
	return PV_OK;
}

/*
 * An exclusive lock on the folder holding |path| (the head file is
 * replaced by a rename, so the file itself cannot carry the lock; flock
 * works on a folder and leaves nothing behind).  *fd for audit_unlock.
 */
static enum pv_err
audit_lock(const char *path, int *fd, struct pv_why *why)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash -
	    path);

	*fd = -1;
	if (n >= sizeof(dir))
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long",
		    path);
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return pv_why_set(why, PV_E_IO, "%s: %s", dir, strerror(errno));
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			(void)close(*fd);
			*fd = -1;
			return pv_why_set(why, PV_E_IO, "%s: lock: %s", dir,
			    strerror(errno));
		}
	}
	return PV_OK;
}

static void
audit_unlock(int fd)
{
	if (fd >= 0)
		(void)close(fd);	/* releases the lock */
}

enum pv_err
audit_head_file_read(const char *path, const uint8_t key[AUDIT_KEY_LEN],
    struct audit_head *out, struct pv_why *why)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((r = secret_read_file(path, AUDIT_FILE_MAX, &buf, &len, why)) !=
	    PV_OK)
		return r;
	r = audit_head_parse((char *)buf, key, out);
	if (r == PV_E_MALFORMED)
		r = pv_why_set(why, PV_E_VERIFY, "audit head file %s is "
		    "malformed", path);
	else if (r == PV_E_VERIFY)
		r = pv_why_set(why, PV_E_VERIFY, "audit head file %s: its MAC "
		    "is wrong (altered, or written with another master "
		    "secret)", path);
	buf_free_secret(buf, len);
	return r;
}

enum pv_err
audit_head_file_update(const char *path, const struct audit_head *h,
    const uint8_t key[AUDIT_KEY_LEN], audit_head_check_fn *check,
    void *check_ctx, struct pv_why *why)
{
	struct audit_head cur;
	char line[AUDIT_FILE_MAX];
	int fd, w;
	enum pv_err r;

	if ((r = audit_lock(path, &fd, why)) != PV_OK)
		return r;
	if (audit_head_file_read(path, key, &cur, NULL) == PV_OK) {
		/* A head the log does not hold: the store went back. */
		if (check != NULL && cur.count > 0 &&
		    (r = check(check_ctx, &cur, why)) != PV_OK)
			goto out;
		/* Another writer got here with a newer head: keep it. */
		if (cur.count >= h->count) {
			r = PV_OK;
			goto out;
		}
	}
	w = audit_head_line(h, line, sizeof(line) - 1);
	if (w <= 0 || (size_t)w >= sizeof(line) - 1) {
		r = pv_why_set(why, PV_E_INTERNAL, "audit head line too long");
		goto out;
	}
	line[w++] = '\n';
	r = secret_write_file(path, line, (size_t)w, HOME_WRITE_REPLACE, why);
out:
	audit_unlock(fd);
	return r;
}

enum pv_err
audit_anchor_append(const char *path, const struct audit_head *h,
    int64_t now, struct pv_why *why)
{
	char line[AUDIT_FILE_MAX + 32];
	size_t n, off = 0;
	ssize_t got;
	int fd = -1, w;
	enum pv_err r;

	w = snprintf(line, sizeof(line), "%lld ", (long long)now);
	if (w > 0)
		w += audit_head_line(h, line + w, sizeof(line) - (size_t)w - 1);
	if (w <= 0 || (size_t)w >= sizeof(line) - 1) {
		r = pv_why_set(why, PV_E_INTERNAL, "audit anchor line too long");
		goto out;
	}
	line[w++] = '\n';
	n = (size_t)w;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		r = pv_why_set(why, PV_E_IO, "audit anchor %s: %s", path,
		    strerror(errno));
		goto out;
	}
	/* One line at a time from every writer: the file is only appended
	 * to, so it can carry its own lock. */
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			r = pv_why_set(why, PV_E_IO, "audit anchor %s: lock: %s",
			    path, strerror(errno));
			goto out;
		}
	}
	while (off < n) {
		got = write(fd, line + off, n - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = pv_why_set(why, PV_E_IO, "audit anchor %s: %s", path,
			    strerror(errno));
			goto out;
		}
		off += (size_t)got;
	}
	if (fsync(fd) != 0) {
		r = pv_why_set(why, PV_E_IO, "audit anchor %s: %s", path,
		    strerror(errno));
		goto out;
	}
	r = PV_OK;
out:
	if (fd >= 0)
		(void)close(fd);	/* releases the lock */
	return r;
}

static int
audit_head_cmp(const void *a, const void *b)
{
	const struct audit_head *x = a, *y = b;

	return x->count < y->count ? -1 : x->count > y->count;
}

enum pv_err
audit_anchor_read(const char *path, const uint8_t key[AUDIT_KEY_LEN],
    struct audit_head **out, size_t *n, int64_t *out_time,
    struct pv_why *why)
{
	FILE *f;
	char line[AUDIT_FILE_MAX + 32];
	struct audit_head *v = NULL, *nv;
	size_t cap = 0, k = 0, lineno = 0;
	char *end;
	long long t = 0;
	enum pv_err r = PV_OK;

	*out = NULL;
	*n = 0;
	*out_time = 0;
	if ((f = fopen(path, "re")) == NULL)
		return pv_why_set(why, errno == ENOENT ? PV_E_NO_FILE : PV_E_IO,
		    "audit anchor %s: %s", path, strerror(errno));
	while (r == PV_OK && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		/* A line still being written (no end yet), or a comment. */
		if (strchr(line, '\n') == NULL || line[0] == '#')
			continue;
		if (k == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = pv_why_set(why, PV_E_NOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		t = strtoll(line, &end, 10);
		if (end == line || *end != ' ' || t < 0) {
			r = pv_why_set(why, PV_E_VERIFY, "audit anchor %s: line "
			    "%zu is malformed", path, lineno);
			break;
		}
		r = audit_head_parse(end + 1, key, &v[k]);
		if (r == PV_E_MALFORMED)
			r = pv_why_set(why, PV_E_VERIFY, "audit anchor %s: line "
			    "%zu is malformed", path, lineno);
		else if (r == PV_E_VERIFY)
			r = pv_why_set(why, PV_E_VERIFY, "audit anchor %s: the "
			    "MAC of line %zu is wrong (altered, or another "
			    "station's)", path, lineno);
		else
			k++;
	}
	(void)fclose(f);
	if (r == PV_OK && k == 0)
		r = pv_why_set(why, PV_E_NO_RECORD, "audit anchor %s holds no "
		    "head", path);
	if (r != PV_OK) {
		free(v);
		return r;
	}
	qsort(v, k, sizeof(*v), audit_head_cmp);
	*out = v;
	*n = k;
	*out_time = t;
	return PV_OK;
}
