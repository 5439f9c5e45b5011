/*
 * secret.h: the station master secret and helpers for files holding
 * secrets.
 *
 * The master secret is 32 random bytes (RAND_priv_bytes) in
 * <home>/master.key, mode 0600.  It is never printed.  Keys for particular
 * uses are derived from it with HKDF-SHA256 and a label naming the use
 * (secret_derive), so one use never sees another's key:
 *
 *	SECRET_LABEL_AUDIT	the HMAC key authenticating the audit log head
 *	(mgmtkey.h defines the per-card management key label)
 *
 * A process that touches a secret calls secret_harden_process() first: no
 * core dumps, no ptrace attach by other processes of the same user.
 */
#ifndef PV_ISSUANCE_SECRET_H
#define PV_ISSUANCE_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "apdu/err.h"
#include "issuance/home.h"

#define SECRET_MASTER_LEN	32
#define SECRET_LABEL_AUDIT	"pivstation audit head v1"

/* The master secret in one place; wipe with secret_master_clear(). */
struct secret_master {
	uint8_t v[SECRET_MASTER_LEN];
};

/*
 * secret_harden_process makes the process non-dumpable
 * (prctl(PR_SET_DUMPABLE, 0)) and sets RLIMIT_CORE to 0.  Returns PV_OK or
 * PV_E_INTERNAL when either call fails.
 */
enum pv_err secret_harden_process(void);

/*
 * secret_write_file writes |len| bytes to |path| without ever exposing a
 * partial or world-readable file: under umask 077 it creates
 * "<path>.tmp.<pid>.<n>" with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600,
 * writes, fsyncs, then (with HOME_WRITE_REPLACE) renames it over |path|,
 * or (without) links it to |path| so an existing file is never replaced,
 * and finally syncs the folder.  The temporary name is removed on every
 * failure.  Returns PV_OK, PV_E_EXISTS (|path| exists and no
 * HOME_WRITE_REPLACE), PV_E_IO.
 */
enum pv_err secret_write_file(const char *path, const void *data, size_t len,
    unsigned flags, struct pv_why *why);

/*
 * The one rule for every file and folder that holds a secret or personal
 * data (the home, master.key, store.db and its -wal/-shm, audit.head,
 * ca/ and its keys): owned by the effective user, not a symbolic link,
 * the expected type, no group or other permission bits.
 * secret_check_stat applies it to what fstat/lstat said of |path|;
 * secret_check_path lstat()s |path| first (a missing one is PV_OK when
 * !|must_exist|, else PV_E_NO_FILE).  PV_E_POLICY names the file, what is
 * wrong and the chmod that fixes it.
 */
struct stat;
enum pv_err secret_check_stat(const struct stat *st, const char *path,
    bool dir, struct pv_why *why);
enum pv_err secret_check_path(const char *path, bool dir, bool must_exist,
    struct pv_why *why);

/*
 * secret_read_file reads the whole of |path| into a new buffer (*out, free
 * it with buf_free_secret(*out, *out_len)).  The file is opened with
 * O_NOFOLLOW and must be a regular file owned by the effective user with
 * no group or other permission bits, and at most |max| bytes.  Returns
 * PV_OK, PV_E_NOT_FOUND, PV_E_POLICY (owner, mode, not a regular file),
 * PV_E_TOO_LONG, PV_E_IO.  *out is NULL on failure.
 */
enum pv_err secret_read_file(const char *path, size_t max, uint8_t **out,
    size_t *out_len, struct pv_why *why);

/*
 * secret_master_create writes a new master secret to <home>/master.key.
 * It refuses to replace an existing one (PV_E_EXISTS): losing the master
 * secret loses every card's management key and the audit head key.
 * Returns PV_OK, PV_E_EXISTS, PV_E_CRYPTO, PV_E_IO.
 */
enum pv_err secret_master_create(const struct home *h, struct pv_why *why);

/*
 * secret_master_load reads <home>/master.key into |out| (which the caller
 * wipes with secret_master_clear()).  The file must be exactly 32 bytes,
 * 0600, owned by the user.  Returns PV_OK, PV_E_NOT_FOUND ("run
 * 'pivstation init'"), PV_E_POLICY, PV_E_MALFORMED, PV_E_IO.
 */
enum pv_err secret_master_load(const struct home *h, struct secret_master *out,
    struct pv_why *why);

/* secret_master_clear wipes |m| (NULL allowed). */
void secret_master_clear(struct secret_master *m);

/*
 * secret_derive derives |out_len| bytes with HKDF-SHA256 from the master
 * secret: salt empty, info = |label| || 0x00 || |ctx| (|ctx| may be NULL
 * when |ctx_len| is 0).  Returns PV_OK or PV_E_CRYPTO; |out| is wiped on
 * failure.
 */
enum pv_err secret_derive(const struct secret_master *m, const char *label,
    const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len);

#endif /* PV_ISSUANCE_SECRET_H */
