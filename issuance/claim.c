/*
 * claim.c: station-wide claims by flock(2) (claim.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "apdu/buf.h"
#include "issuance/claim.h"

struct claim {
	int fd;
};

/* What the holder wrote (its first line; front ends print text from files
 * through their sanitiser). */
static void
claim_holder(int fd, char *out, size_t cap)
{
	char raw[200];
	ssize_t n;
	size_t i;

	n = pread(fd, raw, sizeof(raw) - 1, 0);
	if (n <= 0) {
		(void)snprintf(out, cap, "another program");
		return;
	}
	raw[n] = '\0';
	for (i = 0; i < (size_t)n; i++)
		if (raw[i] == '\n')
			break;
	raw[i] = '\0';
	(void)snprintf(out, cap, "%s", raw);
}

enum pv_err
claim_take(const struct home *h, const char *kind, const char *name,
    const char *who, struct claim **out, struct pv_why *why)
{
	struct claim *c = NULL;
	uint8_t md[32];
	char hex[65], rel[96], path[HOME_PATH_MAX], line[512], holder[200];
	struct stat sb;
	int fd = -1, n;
	enum pv_err r;

	*out = NULL;
	if ((r = home_mkdir(h, CLAIM_DIR, why)) != PV_OK)
		return r;
	if (EVP_Digest(name, strlen(name), md, NULL, EVP_sha256(), NULL) != 1)
		return pv_why_set(why, PV_E_CRYPTO, "claim: SHA-256 failed");
	buf_hex(md, 8, hex);
	(void)snprintf(rel, sizeof(rel), "%s/%s-%s.lock", CLAIM_DIR, kind, hex);
	if ((r = home_path(h, rel, path, sizeof(path))) != PV_OK)
		return pv_why_set(why, r, "claim: bad name");
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid()) {
		r = pv_why_set(why, PV_E_POLICY, "%s: not a file of this user",
		    path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			r = pv_why_set(why, PV_E_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		claim_holder(fd, holder, sizeof(holder));
		r = pv_why_set(why, PV_E_EXISTS, "%s \"%.100s\" is in use: %s",
		    kind, name, holder);
		goto out;
	}
	n = snprintf(line, sizeof(line), "pid %ld: %s\n%s\n", (long)getpid(),
	    who != NULL ? who : "pivstation", name);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)strlen(line);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
		r = pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = PV_E_NOMEM;
		goto out;
	}
	c->fd = fd;
	fd = -1;
	*out = c;
	r = PV_OK;
out:
	if (fd >= 0)
		(void)close(fd);	/* drops a lock taken */
	return r;
}

void
claim_release(struct claim *c)
{
	if (c == NULL)
		return;
	/* Emptied first: a reader of the file never sees a holder gone.
	 * A failure leaves a stale name, which the next holder replaces. */
	if (ftruncate(c->fd, 0) != 0)
		(void)c;
	(void)close(c->fd);
	free(c);
}
