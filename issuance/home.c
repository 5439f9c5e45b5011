/*
 * home.c: locating, creating and checking the station home, and writing
 * files into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "issuance/home.h"
#include "issuance/secret.h"

enum pv_err
home_resolve(const char *opt_dir, struct home *out, struct pv_why *why)
{
	const char *dir = opt_dir, *env, *user_home;
	char cwd[HOME_PATH_MAX];
	size_t n;
	int w;

	memset(out, 0, sizeof(*out));
	if (dir == NULL && (env = getenv(HOME_ENV)) != NULL && env[0] != '\0')
		dir = env;
	if (dir != NULL) {
		if (dir[0] == '\0')
			return pv_why_set(why, PV_E_CONFIG,
			    "the station home may not be an empty path");
		if (dir[0] == '/') {
			w = snprintf(out->dir, sizeof(out->dir), "%s", dir);
		} else {
			if (getcwd(cwd, sizeof(cwd)) == NULL)
				return pv_why_set(why, PV_E_IO,
				    "cannot read the current folder: %s",
				    strerror(errno));
			w = snprintf(out->dir, sizeof(out->dir), "%s/%s", cwd,
			    dir);
		}
	} else {
		user_home = getenv("HOME");
		if (user_home == NULL || user_home[0] != '/')
			return pv_why_set(why, PV_E_CONFIG,
			    "no station home: set $%s, pass --home DIR or "
			    "set $HOME", HOME_ENV);
		w = snprintf(out->dir, sizeof(out->dir), "%s/%s", user_home,
		    HOME_DEFAULT_SUBDIR);
	}
	if (w < 0 || (size_t)w >= sizeof(out->dir) - 64)	/* room for names */
		return pv_why_set(why, PV_E_TOO_LONG,
		    "station home path is too long");
	/* No trailing slash (but keep "/" itself). */
	n = strlen(out->dir);
	while (n > 1 && out->dir[n - 1] == '/')
		out->dir[--n] = '\0';
	return PV_OK;
}

enum pv_err
home_check(const struct home *h, struct pv_why *why)
{
	struct stat st;
	enum pv_err r;

	if (lstat(h->dir, &st) != 0) {
		if (errno == ENOENT)
			return pv_why_set(why, PV_E_NOT_SET_UP,
			    "station home %s does not exist: run 'pivstation "
			    "init'", h->dir);
		return pv_why_set(why, PV_E_IO, "station home %s: %s", h->dir,
		    strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return pv_why_set(why, PV_E_POLICY,
		    "station home %s is a symbolic link; give the real path",
		    h->dir);
	if ((r = secret_check_stat(&st, h->dir, true, why)) != PV_OK)
		pv_why_prefix(why, "station home");
	return r;
}

enum pv_err
home_create(const struct home *h, bool *out_created, struct pv_why *why)
{
	char path[HOME_PATH_MAX];
	struct stat st;
	size_t i, n = strlen(h->dir);

	if (out_created != NULL)
		*out_created = false;
	if (lstat(h->dir, &st) == 0)
		return home_check(h, why);
	if (n == 0 || n >= sizeof(path))
		return pv_why_set(why, PV_E_INVAL, "bad station home path");
	memcpy(path, h->dir, n + 1);
	/* mkdir -p: each missing component 0700. */
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			enum pv_err e = pv_why_set(why, PV_E_IO,
			    "cannot create %s: %s", path, strerror(errno));
			return e;
		}
		path[i] = (i == n) ? '\0' : '/';
	}
	/* mkdir honours the umask; the home itself is exactly 0700. */
	if (chmod(h->dir, 0700) != 0)
		return pv_why_set(why, PV_E_IO, "cannot chmod %s: %s", h->dir,
		    strerror(errno));
	if (out_created != NULL)
		*out_created = true;
	return home_check(h, why);
}

static bool
home_name_ok(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0' || name[0] == '/')
		return false;
	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.') ||
		    (len == 1 && p[0] == '.'))
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

enum pv_err
home_path(const struct home *h, const char *name, char *out, size_t cap)
{
	int w;

	if (!home_name_ok(name))
		return PV_E_INVAL;
	w = snprintf(out, cap, "%s/%s", h->dir, name);
	if (w < 0 || (size_t)w >= cap)
		return PV_E_TOO_LONG;
	return PV_OK;
}

enum pv_err
home_mkdir(const struct home *h, const char *name, struct pv_why *why)
{
	char path[HOME_PATH_MAX];
	struct stat st;
	enum pv_err r;

	if ((r = home_path(h, name, path, sizeof(path))) != PV_OK)
		return pv_why_set(why, r, "bad folder name in the home");
	if (mkdir(path, 0700) != 0) {
		if (errno != EEXIST)
			return pv_why_set(why, PV_E_IO, "cannot create %s: %s",
			    path, strerror(errno));
		if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			return pv_why_set(why, PV_E_POLICY,
			    "%s exists and is not a folder", path);
	}
	return PV_OK;
}

bool
home_exists(const struct home *h, const char *name)
{
	char path[HOME_PATH_MAX];
	struct stat st;

	if (home_path(h, name, path, sizeof(path)) != PV_OK)
		return false;
	return lstat(path, &st) == 0;
}

enum pv_err
home_write_file(const struct home *h, const char *name, const void *data,
    size_t len, unsigned flags, struct pv_why *why)
{
	char path[HOME_PATH_MAX];
	enum pv_err r;

	if ((r = home_path(h, name, path, sizeof(path))) != PV_OK)
		return pv_why_set(why, r, "bad file name in the home");
	return secret_write_file(path, data, len, flags, why);
}
