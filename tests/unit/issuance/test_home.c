/*
 * test_home.c: the station home (home.h) and secret files (secret.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apdu/buf.h"
#include "issuance/home.h"
#include "issuance/secret.h"
#include "station_fixture.h"

static mode_t
mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static void
write_plain(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

static size_t
count_entries(const char *dir)
{
	char cmd[600];
	FILE *p;
	size_t n = 0;
	int c;

	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((c = fgetc(p)) != EOF)
		n += c == '\n';
	pclose(p);
	return n;
}

Test(home, resolve_option_env_default)
{
	struct home h;
	struct pv_why why = { "" };

	setenv(HOME_ENV, "/srv/from-env", 1);
	cr_assert_eq(home_resolve("/srv/opt///", &h, &why), PV_OK);
	cr_assert_str_eq(h.dir, "/srv/opt");
	cr_assert_eq(home_resolve(NULL, &h, &why), PV_OK);
	cr_assert_str_eq(h.dir, "/srv/from-env");
	setenv(HOME_ENV, "", 1);	/* empty = unset */
	setenv("HOME", "/home/officer", 1);
	cr_assert_eq(home_resolve(NULL, &h, &why), PV_OK);
	cr_assert_str_eq(h.dir, "/home/officer/.local/share/pivstation");
	unsetenv(HOME_ENV);
	unsetenv("HOME");
	cr_assert_eq(home_resolve(NULL, &h, &why), PV_E_CONFIG);
	cr_assert(strstr(why.msg, "--home") != NULL, "%s", why.msg);
	pv_why_clear(&why);
	cr_assert_eq(home_resolve("", &h, &why), PV_E_CONFIG);
}

Test(home, resolve_relative_is_made_absolute)
{
	const char *d = fx_tmpdir();
	struct home h;
	char want[600];

	cr_assert_eq(chdir(d), 0);
	cr_assert_eq(home_resolve("sub/home", &h, NULL), PV_OK);
	snprintf(want, sizeof(want), "%s/sub/home", d);
	cr_assert_str_eq(h.dir, want);
	fx_rmtree(d);
}

Test(home, create_makes_0700_folders_and_check_accepts)
{
	const char *d = fx_tmpdir();
	struct home h;
	struct pv_why why = { "" };
	bool created = false;

	umask(022);
	cr_assert_eq(home_resolve(fx_path(d, "a/b/home"), &h, NULL), PV_OK);
	cr_assert_eq(home_check(&h, &why), PV_E_NOT_SET_UP);
	cr_assert(strstr(why.msg, "pivstation init") != NULL, "%s", why.msg);
	cr_assert_eq(home_create(&h, &created, NULL), PV_OK);
	cr_assert(created);
	cr_assert_eq(mode_of(h.dir), 0700);
	cr_assert_eq(mode_of(fx_path(d, "a")), 0700 & ~022);
	cr_assert_eq(home_check(&h, NULL), PV_OK);
	cr_assert_eq(home_create(&h, &created, NULL), PV_OK);
	cr_assert(!created, "a second create finds the folder");
	fx_rmtree(d);
}

Test(home, check_refuses_open_modes_and_symlinks)
{
	const char *d = fx_tmpdir();
	struct home h;
	struct pv_why why = { "" };

	cr_assert_eq(mkdir(fx_path(d, "open"), 0755), 0);
	chmod(fx_path(d, "open"), 0755);
	cr_assert_eq(home_resolve(fx_path(d, "open"), &h, NULL), PV_OK);
	cr_assert_eq(home_check(&h, &why), PV_E_POLICY);
	cr_assert(strstr(why.msg, "chmod 700") != NULL, "%s", why.msg);
	cr_assert_eq(home_create(&h, NULL, NULL), PV_E_POLICY);

	cr_assert_eq(mkdir(fx_path(d, "real"), 0700), 0);
	cr_assert_eq(symlink(fx_path(d, "real"), fx_path(d, "link")), 0);
	cr_assert_eq(home_resolve(fx_path(d, "link"), &h, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(home_check(&h, &why), PV_E_POLICY);
	cr_assert(strstr(why.msg, "symbolic link") != NULL, "%s", why.msg);
	fx_rmtree(d);
}

Test(home, path_names)
{
	struct home h;
	char out[64];

	cr_assert_eq(home_resolve("/h", &h, NULL), PV_OK);
	cr_assert_eq(home_path(&h, "ca/root.key", out, sizeof(out)), PV_OK);
	cr_assert_str_eq(out, "/h/ca/root.key");
	cr_assert_eq(home_path(&h, "../x", out, sizeof(out)), PV_E_INVAL);
	cr_assert_eq(home_path(&h, "a/../b", out, sizeof(out)), PV_E_INVAL);
	cr_assert_eq(home_path(&h, "/etc/passwd", out, sizeof(out)),
	    PV_E_INVAL);
	cr_assert_eq(home_path(&h, "", out, sizeof(out)), PV_E_INVAL);
	cr_assert_eq(home_path(&h, "a//b", out, sizeof(out)), PV_E_INVAL);
	cr_assert_eq(home_path(&h, "x", out, 4), PV_E_TOO_LONG);
}

Test(home, write_file_is_0600_atomic_and_never_overwrites)
{
	const char *d = fx_tmpdir();
	struct home h;
	struct pv_why why = { "" };
	uint8_t *p = NULL;
	size_t n = 0;

	umask(0);	/* the helper must not depend on the caller's umask */
	cr_assert_eq(home_resolve(d, &h, NULL), PV_OK);
	cr_assert_eq(home_write_file(&h, "f", "one", 3, 0, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_eq(mode_of(fx_path(d, "f")), 0600);
	cr_assert_eq(home_write_file(&h, "f", "two", 3, 0, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "already exists") != NULL, "%s", why.msg);
	cr_assert_eq(secret_read_file(fx_path(d, "f"), 100, &p, &n, NULL),
	    PV_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(p, "one", 3), 0, "not overwritten");
	buf_free_secret(p, n);
	cr_assert_eq(home_write_file(&h, "f", "three", 5, HOME_WRITE_REPLACE,
	    NULL), PV_OK);
	cr_assert_eq(secret_read_file(fx_path(d, "f"), 100, &p, &n, NULL),
	    PV_OK);
	cr_assert_eq(n, 5);
	buf_free_secret(p, n);
	cr_assert_eq(count_entries(d), 1, "no temporary file is left behind");
	fx_rmtree(d);
}

Test(home, write_file_does_not_follow_symlinks)
{
	const char *d = fx_tmpdir();
	struct home h;
	uint8_t *p = NULL;
	size_t n = 0;

	write_plain(fx_path(d, "victim"), "keep", 0600);
	cr_assert_eq(symlink(fx_path(d, "victim"), fx_path(d, "f")), 0);
	cr_assert_eq(home_resolve(d, &h, NULL), PV_OK);
	cr_assert_eq(home_write_file(&h, "f", "evil", 4, 0, NULL), PV_E_EXISTS);
	cr_assert_eq(home_write_file(&h, "f", "new!", 4, HOME_WRITE_REPLACE,
	    NULL), PV_OK);
	/* The link itself was replaced; its target is untouched. */
	cr_assert_eq(mode_of(fx_path(d, "f")) & 0777, 0600);
	cr_assert_eq(secret_read_file(fx_path(d, "victim"), 100, &p, &n, NULL),
	    PV_OK);
	cr_assert_eq(memcmp(p, "keep", 4), 0);
	buf_free_secret(p, n);
	fx_rmtree(d);
}

Test(secret, read_file_checks_mode_type_size)
{
	const char *d = fx_tmpdir();
	struct pv_why why = { "" };
	uint8_t *p = (uint8_t *)1;
	size_t n = 9;

	write_plain(fx_path(d, "open"), "abc", 0644);
	cr_assert_eq(secret_read_file(fx_path(d, "open"), 100, &p, &n, &why),
	    PV_E_POLICY);
	cr_assert_null(p);
	cr_assert(strstr(why.msg, "chmod 600") != NULL, "%s", why.msg);
	write_plain(fx_path(d, "big"), "abcdef", 0600);
	cr_assert_eq(secret_read_file(fx_path(d, "big"), 5, &p, &n, NULL),
	    PV_E_TOO_LONG);
	cr_assert_eq(symlink(fx_path(d, "big"), fx_path(d, "ln")), 0);
	cr_assert_eq(secret_read_file(fx_path(d, "ln"), 100, &p, &n, NULL),
	    PV_E_POLICY);
	cr_assert_eq(secret_read_file(fx_path(d, "none"), 100, &p, &n, NULL),
	    PV_E_NO_FILE);
	cr_assert_eq(secret_read_file(d, 100, &p, &n, NULL), PV_E_POLICY,
	    "a folder is not a regular file");
	fx_rmtree(d);
}

Test(secret, master_secret_created_once)
{
	const char *d = fx_tmpdir();
	struct home h;
	struct secret_master a, b;
	struct pv_why why = { "" };

	cr_assert_eq(home_resolve(d, &h, NULL), PV_OK);
	cr_assert_eq(secret_master_load(&h, &a, &why), PV_E_NOT_SET_UP);
	cr_assert(strstr(why.msg, "pivstation init") != NULL, "%s", why.msg);
	cr_assert_eq(secret_master_create(&h, NULL), PV_OK);
	cr_assert_eq(mode_of(fx_path(d, HOME_MASTER_SECRET)), 0600);
	cr_assert_eq(secret_master_load(&h, &a, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(secret_master_create(&h, &why), PV_E_EXISTS);
	cr_assert(strstr(why.msg, "refusing") != NULL, "%s", why.msg);
	cr_assert_eq(secret_master_load(&h, &b, NULL), PV_OK);
	cr_assert_eq(memcmp(a.v, b.v, 32), 0, "the secret was kept");
	/* 32 random bytes: not all zero, and not the same as a new one. */
	cr_assert_eq(unlink(fx_path(d, HOME_MASTER_SECRET)), 0);
	cr_assert_eq(secret_master_create(&h, NULL), PV_OK);
	cr_assert_eq(secret_master_load(&h, &b, NULL), PV_OK);
	cr_assert_neq(memcmp(a.v, b.v, 32), 0);
	secret_master_clear(&a);
	cr_assert_eq(a.v[0] | a.v[17] | a.v[31], 0);
	fx_rmtree(d);
}

Test(secret, master_secret_wrong_size_refused)
{
	const char *d = fx_tmpdir();
	struct home h;
	struct secret_master m;
	struct pv_why why = { "" };

	cr_assert_eq(home_resolve(d, &h, NULL), PV_OK);
	write_plain(fx_path(d, HOME_MASTER_SECRET), "short", 0600);
	cr_assert_eq(secret_master_load(&h, &m, &why), PV_E_MALFORMED);
	cr_assert(strstr(why.msg, "32 bytes") != NULL, "%s", why.msg);
	fx_rmtree(d);
}

/* Expected values from `openssl kdf ... HKDF` (an independent
 * implementation): key 01..20, info = label 00 ctx. */
Test(secret, derive_matches_openssl_kdf)
{
	struct secret_master m;
	uint8_t out[32], ctx[4] = { 0xc0, 0xff, 0xee, 0x00 };
	static const uint8_t want_audit[32] = {
		0x5c, 0x56, 0xc7, 0x10, 0x79, 0x8e, 0x7a, 0xbf, 0x2e, 0x2e,
		0x87, 0x52, 0x16, 0x86, 0xeb, 0xe7, 0x3a, 0x3e, 0x95, 0x8b,
		0xd9, 0xcd, 0x69, 0xa4, 0x1c, 0x8a, 0xcf, 0xbf, 0x89, 0xf5,
		0x51, 0x18
	};
	static const uint8_t want_ctx[32] = {
		0xb0, 0xcb, 0x06, 0x2b, 0x2d, 0x88, 0x74, 0x33, 0x71, 0xde,
		0xc6, 0xe2, 0x26, 0x50, 0x48, 0xab, 0xe6, 0xd6, 0x80, 0x0e,
		0x75, 0x93, 0x75, 0x38, 0x7f, 0x3d, 0xa8, 0x83, 0x43, 0xfe,
		0x0d, 0x8a
	};
	int i;

	for (i = 0; i < 32; i++)
		m.v[i] = (uint8_t)(i + 1);
	cr_assert_eq(secret_derive(&m, SECRET_LABEL_AUDIT, NULL, 0, out, 32),
	    PV_OK);
	cr_assert_eq(memcmp(out, want_audit, 32), 0);
	cr_assert_eq(secret_derive(&m, "test label", ctx, 3, out, 32), PV_OK);
	cr_assert_eq(memcmp(out, want_ctx, 32), 0);
	cr_assert_eq(secret_derive(&m, "test label", ctx, 4, out, 32), PV_OK);
	cr_assert_neq(memcmp(out, want_ctx, 32), 0, "context is bound");
}

Test(secret, harden_process)
{
	struct rlimit rl;

	cr_assert_eq(secret_harden_process(), PV_OK);
	cr_assert_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	cr_assert_eq(getrlimit(RLIMIT_CORE, &rl), 0);
	cr_assert_eq(rl.rlim_cur, 0);
	cr_assert_eq(rl.rlim_max, 0);
}
