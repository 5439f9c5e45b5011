/*
 * secret.c: the station master secret, key derivation from it, and files
 * that hold secrets (created 0600, never written in place).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "apdu/buf.h"
#include "issuance/secret.h"

enum pv_err
secret_harden_process(void)
{
	struct rlimit rl = { 0, 0 };
	enum pv_err r = PV_OK;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		r = PV_E_INTERNAL;
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		r = PV_E_INTERNAL;
	return r;
}

/* Syncs the folder holding |path| so a rename or link survives a crash. */
static void
secret_sync_dir(const char *path)
{
	char dir[HOME_PATH_MAX];
	char *slash;
	int fd;

	if (strlen(path) >= sizeof(dir))
		return;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		(void)close(fd);
	}
}

static enum pv_err
secret_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return PV_E_IO;
		p += n;
		len -= (size_t)n;
	}
	return PV_OK;
}

enum pv_err
secret_write_file(const char *path, const void *data, size_t len,
    unsigned flags, struct pv_why *why)
{
	/* Distinct temporary names for every thread of the process. */
	static atomic_uint counter;
	char tmp[HOME_PATH_MAX + 32];
	int fd = -1, tries, e;
	bool have_tmp = false;
	enum pv_err r = PV_E_INTERNAL;

	/* No umask(): it is process-wide, and other threads create files
	 * too.  The file is made 0600 by fchmod whatever the umask. */
	for (tries = 0; tries < 16 && fd < 0; tries++) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u", path,
		    (long)getpid(), atomic_fetch_add(&counter, 1)) >=
		    (int)sizeof(tmp)) {
			r = pv_why_set(why, PV_E_TOO_LONG, "%s: path too long",
			    path);
			goto out;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			r = pv_why_set(why, PV_E_IO, "%s: cannot create: %s",
			    tmp, strerror(errno));
			goto out;
		}
	}
	if (fd < 0) {
		r = pv_why_set(why, PV_E_IO, "%s: cannot pick a temporary name",
		    path);
		goto out;
	}
	have_tmp = true;
	if (fchmod(fd, 0600) != 0 || secret_write_all(fd, data, len) != PV_OK ||
	    fsync(fd) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: write failed: %s", tmp,
		    strerror(errno));
		goto out;
	}
	e = close(fd);
	fd = -1;
	if (e != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: close failed: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (flags & HOME_WRITE_REPLACE) {
		if (rename(tmp, path) != 0) {
			r = pv_why_set(why, PV_E_IO, "%s: rename failed: %s",
			    path, strerror(errno));
			goto out;
		}
		have_tmp = false;
	} else if (link(tmp, path) != 0) {
		/* link() never replaces: the atomic "create if absent". */
		if (errno == EEXIST)
			r = pv_why_set(why, PV_E_EXISTS, "%s already exists",
			    path);
		else
			r = pv_why_set(why, PV_E_IO, "%s: cannot create: %s",
			    path, strerror(errno));
		goto out;
	}
	secret_sync_dir(path);
	r = PV_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	if (have_tmp)
		(void)unlink(tmp);
	return r;
}

enum pv_err
secret_check_stat(const struct stat *st, const char *path, bool dir,
    struct pv_why *why)
{
	if (S_ISLNK(st->st_mode))
		return pv_why_set(why, PV_E_POLICY, "%s is a symbolic link; "
		    "refusing to follow it", path);
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return pv_why_set(why, PV_E_POLICY, "%s is not a %s", path,
		    dir ? "folder" : "regular file");
	if (st->st_uid != geteuid())
		return pv_why_set(why, PV_E_POLICY, "%s is owned by uid %ld, not "
		    "by the station user (uid %ld)", path, (long)st->st_uid,
		    (long)geteuid());
	if ((st->st_mode & 077) != 0)
		return pv_why_set(why, PV_E_POLICY, "%s is open to group or "
		    "others (mode %04o): run chmod %s %s", path,
		    (unsigned)(st->st_mode & 07777), dir ? "700" : "600", path);
	return PV_OK;
}

enum pv_err
secret_check_path(const char *path, bool dir, bool must_exist,
    struct pv_why *why)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT && !must_exist)
			return PV_OK;
		if (errno == ENOENT)
			return pv_why_set(why, PV_E_NO_FILE, "%s does not exist",
			    path);
		return pv_why_set(why, PV_E_IO, "%s: %s", path,
		    strerror(errno));
	}
	return secret_check_stat(&st, path, dir, why);
}

enum pv_err
secret_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t len = 0;
	int fd = -1;
	enum pv_err r = PV_E_INTERNAL;

	*out = NULL;
	*out_len = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			r = pv_why_set(why, PV_E_NO_FILE, "%s does not exist",
			    path);
		else if (errno == ELOOP)
			r = pv_why_set(why, PV_E_POLICY,
			    "%s is a symbolic link; refusing to follow it", path);
		else
			r = pv_why_set(why, PV_E_IO, "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((r = secret_check_stat(&st, path, false, why)) != PV_OK)
		goto out;
	if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
		r = pv_why_set(why, PV_E_TOO_LONG,
		    "%s is larger than %zu bytes", path, max);
		goto out;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, p + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = pv_why_set(why, PV_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;	/* shrank meanwhile: take what is there */
		len += (size_t)n;
	}
	p[len] = 0;	/* convenience for text files; not counted */
	*out = p;
	*out_len = len;
	p = NULL;
	r = PV_OK;
out:
	if (p != NULL)
		buf_free_secret(p, (size_t)st.st_size + 1);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

enum pv_err
secret_master_create(const struct home *h, struct pv_why *why)
{
	struct secret_master m;
	char path[HOME_PATH_MAX];
	enum pv_err r = PV_E_INTERNAL;

	memset(&m, 0, sizeof(m));
	if ((r = home_path(h, HOME_MASTER_SECRET, path, sizeof(path))) != PV_OK)
		goto out;
	if (home_exists(h, HOME_MASTER_SECRET)) {
		r = pv_why_set(why, PV_E_EXISTS,
		    "%s already exists; refusing to replace the master secret",
		    path);
		goto out;
	}
	if (RAND_priv_bytes(m.v, sizeof(m.v)) != 1) {
		r = pv_why_set(why, PV_E_CRYPTO,
		    "cannot draw random bytes for the master secret");
		goto out;
	}
	r = secret_write_file(path, m.v, sizeof(m.v), 0, why);
	if (r == PV_E_EXISTS)
		pv_why_prefix(why, "refusing to replace the master secret");
out:
	secret_master_clear(&m);
	return r;
}

enum pv_err
secret_master_load(const struct home *h, struct secret_master *out,
    struct pv_why *why)
{
	char path[HOME_PATH_MAX];
	uint8_t *p = NULL;
	size_t len = 0;
	enum pv_err r = PV_E_INTERNAL;

	memset(out, 0, sizeof(*out));
	if ((r = home_path(h, HOME_MASTER_SECRET, path, sizeof(path))) != PV_OK)
		goto out;
	r = secret_read_file(path, 4 * SECRET_MASTER_LEN, &p, &len, why);
	if (r == PV_E_NO_FILE) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_NOT_SET_UP,
		    "no master secret in %s: run 'pivstation init'", h->dir);
		goto out;
	}
	if (r == PV_E_TOO_LONG || (r == PV_OK && len != SECRET_MASTER_LEN)) {
		pv_why_clear(why);
		r = pv_why_set(why, PV_E_MALFORMED,
		    "%s: a master secret is %d bytes", path, SECRET_MASTER_LEN);
		goto out;
	}
	if (r != PV_OK)
		goto out;
	memcpy(out->v, p, SECRET_MASTER_LEN);
	r = PV_OK;
out:
	if (p != NULL)
		buf_free_secret(p, len);
	return r;
}

void
secret_master_clear(struct secret_master *m)
{
	if (m != NULL)
		OPENSSL_cleanse(m->v, sizeof(m->v));
}

enum pv_err
secret_derive(const struct secret_master *m, const char *label,
    const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len)
{
	static char digest[] = "SHA256";
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	uint8_t *info = NULL;
	size_t label_len = strlen(label), info_len;
	enum pv_err r = PV_E_CRYPTO;

	if (ctx_len > 4096 || (ctx == NULL && ctx_len != 0))
		return PV_E_INVAL;
	info_len = label_len + 1 + ctx_len;
	if ((info = malloc(info_len)) == NULL)
		return PV_E_NOMEM;
	memcpy(info, label, label_len);
	info[label_len] = 0;
	if (ctx_len > 0)
		memcpy(info + label_len + 1, ctx, ctx_len);
	if ((kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)m->v, sizeof(m->v));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    info, info_len);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
		goto out;
	r = PV_OK;
out:
	if (r != PV_OK)
		OPENSSL_cleanse(out, out_len);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	free(info);
	return r;
}
