/*
 * home.h: the station home, the one folder that holds a station's state.
 *
 * A station home is $PIVSTATION_HOME, or the --home DIR given on the command
 * line, or ~/.local/share/pivstation.  It holds:
 *
 *	pivstation.conf	the configuration (config.h)
 *	master.key	the station master secret, 32 bytes (secret.h)
 *	store.db	the SQLite store, with its -wal and -shm files (store.h)
 *	audit.head	the authenticated head of the audit log (audit.h)
 *	ca/		CA material (ca.h)
 *
 * The folder is 0700 and every file in it 0600, owned by the station user.
 * Files are never written in place: home_write_file() creates a temporary
 * name with O_CREAT|O_EXCL|O_NOFOLLOW under umask 077, writes and syncs it,
 * then renames it over (or links it to) the final name.
 */
#ifndef PV_ISSUANCE_HOME_H
#define PV_ISSUANCE_HOME_H

#include <stdbool.h>
#include <stddef.h>

#include "apdu/err.h"

#define HOME_ENV		"PIVSTATION_HOME"
#define HOME_DEFAULT_SUBDIR	".local/share/pivstation"	/* under $HOME */

/* Well-known names inside the home. */
#define HOME_CONFIG		"pivstation.conf"
#define HOME_MASTER_SECRET	"master.key"
#define HOME_STORE		"store.db"
#define HOME_AUDIT_HEAD		"audit.head"
#define HOME_CA_DIR		"ca"

#define HOME_PATH_MAX		4096

/* A resolved station home: an absolute path without a trailing slash. */
struct home {
	char dir[HOME_PATH_MAX];
};

/*
 * home_resolve picks the station home: |opt_dir| (the --home option) when
 * it is not NULL, else $PIVSTATION_HOME when set and not empty, else
 * $HOME/.local/share/pivstation.  A relative path is made absolute against
 * the current directory.  Nothing is created or checked on disk.  Returns
 * PV_OK, or PV_E_CONFIG (no $HOME, empty path) / PV_E_TOO_LONG with |why|.
 */
enum pv_err home_resolve(const char *opt_dir, struct home *out,
    struct pv_why *why);

/*
 * home_create makes the home folder (and missing parents) with mode 0700.
 * An existing folder is accepted if home_check() accepts it.  Sets
 * *out_created (may be NULL) when the folder did not exist.  Returns PV_OK,
 * PV_E_IO or PV_E_POLICY with |why|.
 */
enum pv_err home_create(const struct home *h, bool *out_created,
    struct pv_why *why);

/*
 * home_check verifies that the home exists, is a real folder (not a
 * symlink), is owned by the effective user and gives no access to group or
 * others.  Returns PV_OK; PV_E_NOT_FOUND when it does not exist ("run
 * 'pivstation init'"); PV_E_POLICY for a wrong owner or mode; PV_E_IO.
 */
enum pv_err home_check(const struct home *h, struct pv_why *why);

/*
 * home_path writes "<home>/<name>" into |out| (|cap| bytes).  |name| is a
 * relative name without "..".  Returns PV_OK, PV_E_INVAL for a bad name,
 * PV_E_TOO_LONG when it does not fit.
 */
enum pv_err home_path(const struct home *h, const char *name, char *out,
    size_t cap);

/*
 * home_mkdir creates the sub-folder |name| of the home with mode 0700 if it
 * does not exist (for example HOME_CA_DIR).  Returns PV_OK or PV_E_IO.
 */
enum pv_err home_mkdir(const struct home *h, const char *name,
    struct pv_why *why);

/* home_exists is true when "<home>/<name>" exists (lstat). */
bool home_exists(const struct home *h, const char *name);

/* Flags for home_write_file() and secret_write_file(). */
#define HOME_WRITE_REPLACE	0x1	/* replace an existing file atomically */

/*
 * home_write_file writes |len| bytes to "<home>/<name>" as a new 0600 file
 * (see secret_write_file(): temporary name, fsync, rename).  Without
 * HOME_WRITE_REPLACE an existing file is never touched and the call
 * returns PV_E_EXISTS.  Returns PV_OK, PV_E_EXISTS, PV_E_IO.
 */
enum pv_err home_write_file(const struct home *h, const char *name,
    const void *data, size_t len, unsigned flags, struct pv_why *why);

#endif /* PV_ISSUANCE_HOME_H */
