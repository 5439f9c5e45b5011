/*
 * test_station.c: opening the station (station.h) and the passphrase
 * chain (passphrase.h).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "issuance/ca.h"
#include "issuance/passphrase.h"
#include "issuance/station.h"
#include "station_fixture.h"

static struct station_opts
st_opts(const char *home, unsigned need)
{
	struct station_opts o;

	memset(&o, 0, sizeof(o));
	o.home = home;
	o.need = need;
	return o;
}

Test(station, says_what_is_missing_and_what_to_run)
{
	const char *d = fx_tmpdir();
	struct station_opts o = st_opts(fx_path(d, "home"), STATION_NEED_CONFIG);
	struct station_init_result res;
	struct station *s = NULL;
	struct pv_why why = { "" };

	cr_assert_eq(station_open(&o, &s, &why), PV_E_NOT_SET_UP);
	cr_assert_null(s);
	cr_assert(strstr(why.msg, "pivstation init") != NULL, "%s", why.msg);

	/* Without NEED_CONFIG the defaults do: tools before init. */
	o.need = 0;
	pv_why_clear(&why);
	cr_assert_eq(station_open(&o, &s, &why), PV_OK, "%s", why.msg);
	cr_assert(!station_has_config_file(s));
	cr_assert_null(station_store(s));
	cr_assert_null(station_master(s));
	station_close(s);

	cr_assert_eq(station_init(o.home, NULL, &res, &why), PV_OK, "%s",
	    why.msg);
	cr_assert(res.home_created && res.config_created && res.master_created &&
	    res.store_created);
	cr_assert_eq(res.schema_version, STORE_SCHEMA_VERSION);
	cr_assert_eq(station_init(o.home, NULL, &res, &why), PV_OK, "%s",
	    why.msg);
	cr_assert(!res.home_created && !res.config_created &&
	    !res.master_created && !res.store_created, "the second init keeps");

	o.need = STATION_NEED_CONFIG | STATION_NEED_STORE;
	cr_assert_eq(station_open(&o, &s, &why), PV_OK, "%s", why.msg);
	cr_assert_not_null(station_store(s));
	cr_assert_not_null(station_master(s));
	cr_assert(station_has_config_file(s));
	/* No CA yet: said before any passphrase is asked. */
	pv_why_clear(&why);
	cr_assert_eq(station_require(s, STATION_NEED_CA_ISSUING, &why),
	    PV_E_NOT_SET_UP);
	cr_assert(strstr(why.msg, "ca init") != NULL, "%s", why.msg);
	station_close(s);
	fx_rmtree(d);
}

Test(station, store_is_never_created_by_a_command)
{
	const char *d = fx_tmpdir();
	char h[256];
	struct station_opts o;
	struct station_init_result res;
	struct station *s = NULL;
	struct pv_why why = { "" };

	(void)snprintf(h, sizeof(h), "%s/home", d);
	o = st_opts(h, STATION_NEED_STORE);
	cr_assert_eq(station_init(h, NULL, &res, &why), PV_OK, "%s", why.msg);
	cr_assert_eq(unlink(fx_path(h, "store.db")), 0);
	cr_assert_eq(station_open(&o, &s, &why), PV_E_NOT_SET_UP);
	cr_assert(strstr(why.msg, "no store") != NULL, "%s", why.msg);
	cr_assert_eq(access(fx_path(h, "store.db"), F_OK), -1);
	/* WANT: the store when there is one, else none. */
	o.need = STATION_WANT_STORE;
	cr_assert_eq(station_open(&o, &s, &why), PV_OK, "%s", why.msg);
	cr_assert_null(station_store(s));
	station_close(s);
	fx_rmtree(d);
}

Test(station, actor_is_the_operator_or_the_account)
{
	const char *d = fx_tmpdir();
	char h[256];
	struct station_opts o;
	struct station_init_result res;
	struct station *s = NULL;
	struct pv_why why = { "" };
	char os[AUDIT_ACTOR_MAX], want[64];

	(void)snprintf(h, sizeof(h), "%s/home", d);
	o = st_opts(h, STATION_NEED_STORE);
	cr_assert_eq(station_init(h, NULL, &res, &why), PV_OK, "%s", why.msg);
	station_os_actor(os);
	(void)snprintf(want, sizeof(want), "uid %lu", (unsigned long)geteuid());
	cr_assert_eq(strncmp(os, want, strlen(want)), 0, "%s", os);
	cr_assert_eq(station_open(&o, &s, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(station_actor(s), os);
	cr_assert_null(station_operator(s));
	cr_assert_eq(station_permit(s, OP_CA, NULL), PV_OK, "the account may");
	{
		struct store_operator op = fx_operator("officer-1",
		    STORE_ROLE_ENROLLER);

		cr_assert_eq(store_operator_add(station_store(s), &op, NULL,
		    &why), PV_OK, "%s", why.msg);
		op = fx_operator("gone", STORE_ROLE_ADMIN);
		op.disabled = true;
		cr_assert_eq(store_operator_add(station_store(s), &op, NULL,
		    &why), PV_OK, "%s", why.msg);
	}
	station_close(s);

	/* A registered operator acts, within its role. */
	o.operator = "officer-1";
	cr_assert_eq(station_open(&o, &s, &why), PV_OK, "%s", why.msg);
	cr_assert_str_eq(station_actor(s), "officer-1");
	cr_assert_not_null(station_operator(s));
	cr_assert_eq(station_permit(s, OP_ISSUE, NULL), PV_OK);
	pv_why_clear(&why);
	cr_assert_eq(station_permit(s, OP_RECOVER, &why), PV_E_POLICY);
	cr_assert(strstr(why.msg, "help desk or administrator") != NULL, "%s",
	    why.msg);
	station_close(s);

	/* An unvetted name never reaches the log. */
	o.operator = "mallory";
	pv_why_clear(&why);
	cr_assert_eq(station_open(&o, &s, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "not registered") != NULL, "%s", why.msg);
	o.operator = "gone";
	pv_why_clear(&why);
	cr_assert_eq(station_open(&o, &s, &why), PV_E_STATE);
	cr_assert(strstr(why.msg, "disabled") != NULL, "%s", why.msg);

	/* Terminal escapes and control characters never reach the log. */
	o.operator = "evil\x1b[2Jname";
	pv_why_clear(&why);
	cr_assert_eq(station_open(&o, &s, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "operator name") != NULL, "%s", why.msg);
	o.operator = "";
	cr_assert_eq(station_open(&o, &s, NULL), PV_E_INPUT);
	fx_rmtree(d);
}

/* ---- the passphrase chain ----------------------------------------------------- */

struct prompt_log {
	int calls;
	enum pass_kind kind;
	bool confirm;
	char notes[512];
};

static enum pv_err
fake_prompt(void *ctx, enum pass_kind kind, const char *what, bool confirm,
    struct pkix_pass *out, struct pv_why *why)
{
	struct prompt_log *l = ctx;

	(void)what;
	(void)why;
	l->calls++;
	l->kind = kind;
	l->confirm = confirm;
	return pkix_pass_set(out, "typed passphrase", NULL);
}

static void
fake_note(void *ctx, const char *text)
{
	struct prompt_log *l = ctx;

	strncat(l->notes, text, sizeof(l->notes) - strlen(l->notes) - 1);
}

static void
write_mode(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path, mode), 0);
}

Test(passphrase, chain_order_file_fd_env_config_prompt)
{
	const char *d = fx_tmpdir();
	struct pass_chain c;
	struct prompt_log log;
	struct pv_config cfg;
	struct pkix_pass p;
	struct pv_why why = { "" };
	int fds[2];

	memset(&log, 0, sizeof(log));
	config_defaults(&cfg);
	pass_chain_init(&c);
	c.prompt = fake_prompt;
	c.prompt_ctx = &log;
	unsetenv("PIVSTATION_CA_PASSPHRASE");
	unsetenv("PIVSTATION_KRA_PASSPHRASE");

	/* Nothing given: the prompt, once, asked twice for a new one. */
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, true, &p, &why), PV_OK);
	cr_assert_str_eq(p.v, "typed passphrase");
	cr_assert(log.calls == 1 && log.kind == PASS_CA && log.confirm);

	/* The configuration's source comes before the prompt. */
	write_mode(fx_path(d, "cfgpass"), "from config\n", 0600);
	cfg.pass_source = CONFIG_PASS_FILE;
	strcpy(cfg.pass_arg, fx_path(d, "cfgpass"));
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK);
	cr_assert_str_eq(p.v, "from config");
	/* The environment before the configuration; the KRA falls back to
	 * the CA's variable. */
	setenv("PIVSTATION_CA_PASSPHRASE", "from env", 1);
	cr_assert_eq(pass_get(&c, &cfg, PASS_KRA, false, &p, &why), PV_OK);
	cr_assert_str_eq(p.v, "from env");
	cr_assert(!pass_has_own_source(&c, PASS_KRA));
	setenv("PIVSTATION_KRA_PASSPHRASE", "kra env", 1);
	cr_assert_eq(pass_get(&c, &cfg, PASS_KRA, false, &p, &why), PV_OK);
	cr_assert_str_eq(p.v, "kra env");
	cr_assert(pass_has_own_source(&c, PASS_KRA));
	/* A descriptor before the environment, a file before both. */
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "from fd\nrest\n", 13), 13);
	c.src[PASS_CA].fd = fds[0];
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK);
	cr_assert_str_eq(p.v, "from fd");
	write_mode(fx_path(d, "pass"), "from file\n", 0600);
	c.src[PASS_CA].file = fx_path(d, "pass");
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK);
	cr_assert_str_eq(p.v, "from file");
	cr_assert_eq(log.calls, 1, "the prompt was not asked again");
	/* A file that is named but missing is an error, not a fallback. */
	c.src[PASS_CA].file = fx_path(d, "nope");
	pv_why_clear(&why);
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why),
	    PV_E_NO_FILE);
	cr_assert(strstr(why.msg, "CA passphrase") != NULL, "%s", why.msg);
	cr_assert_eq(p.len, 0, "wiped on failure");
	close(fds[0]);
	close(fds[1]);
	unsetenv("PIVSTATION_CA_PASSPHRASE");
	unsetenv("PIVSTATION_KRA_PASSPHRASE");

	/* Nobody to ask. */
	cfg.pass_source = CONFIG_PASS_PROMPT;
	pass_chain_init(&c);
	pv_why_clear(&why);
	cr_assert_eq(pass_get(&c, &cfg, PASS_P12, true, &p, &why), PV_E_INPUT);
	cr_assert(strstr(why.msg, "PIVSTATION_P12_PASSPHRASE") != NULL, "%s",
	    why.msg);
	fx_rmtree(d);
}

Test(passphrase, files_others_may_read_warn_or_are_refused)
{
	const char *d = fx_tmpdir();
	struct pass_chain c;
	struct prompt_log log;
	struct pv_config cfg;
	struct pkix_pass p;
	struct pv_why why = { "" };

	memset(&log, 0, sizeof(log));
	config_defaults(&cfg);
	pass_chain_init(&c);
	c.note = fake_note;
	c.prompt_ctx = &log;
	write_mode(fx_path(d, "pass"), "secret words\n", 0644);
	c.src[PASS_CA].file = fx_path(d, "pass");
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK);
	cr_assert(strstr(log.notes, "mode 0644") != NULL &&
	    strstr(log.notes, "chmod 600") != NULL, "%s", log.notes);
	cfg.strict_passphrase_files = true;
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_E_POLICY);
	cr_assert(strstr(why.msg, "strict_passphrase_files") != NULL, "%s",
	    why.msg);
	cr_assert_eq(chmod(fx_path(d, "pass"), 0600), 0);
	log.notes[0] = '\0';
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK);
	cr_assert_str_eq(log.notes, "");
	fx_rmtree(d);
}

Test(passphrase, file_contents_refused_with_a_reason)
{
	const char *d = fx_tmpdir();
	struct pkix_pass p;
	struct pv_why why = { "" };
	int fds[2];
	char path[64];
	FILE *f;

	/* A NUL byte would silently cut the passphrase. */
	f = fopen(fx_path(d, "nul"), "w");
	cr_assert_not_null(f);
	fwrite("abc\0def\n", 1, 8, f);
	fclose(f);
	cr_assert_eq(pkix_pass_from_file(fx_path(d, "nul"), &p, &why),
	    PV_E_INPUT);
	cr_assert(strstr(why.msg, "NUL") != NULL, "%s", why.msg);
	/* A leading blank line is not "empty passphrase". */
	write_mode(fx_path(d, "blank"), "\nsecret\n", 0600);
	pv_why_clear(&why);
	cr_assert_eq(pkix_pass_from_file(fx_path(d, "blank"), &p, &why),
	    PV_E_INPUT);
	cr_assert(strstr(why.msg, "first line is empty") != NULL, "%s",
	    why.msg);
	write_mode(fx_path(d, "empty"), "", 0600);
	pv_why_clear(&why);
	cr_assert_eq(pkix_pass_from_file(fx_path(d, "empty"), &p, &why),
	    PV_E_INPUT);
	cr_assert(strstr(why.msg, "empty passphrase") != NULL, "%s", why.msg);
	/* A folder. */
	pv_why_clear(&why);
	cr_assert_eq(pkix_pass_from_file(d, &p, &why), PV_E_INPUT);
	/* Process substitution: /dev/fd/N is the pipe itself. */
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "piped words\n", 12), 12);
	(void)snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	cr_assert_eq(pkix_pass_from_file(path, &p, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_str_eq(p.v, "piped words");
	close(fds[0]);
	close(fds[1]);
	fx_rmtree(d);
}

static void *
fifo_writer(void *arg)
{
	int fd = open(arg, O_WRONLY);

	if (fd >= 0) {
		(void)!write(fd, "through a fifo\n", 15);
		close(fd);
	}
	return NULL;
}

Test(passphrase, fifo_with_a_writer)
{
	const char *d = fx_tmpdir();
	char fifo[512];
	struct pkix_pass p;
	struct pv_why why = { "" };
	pthread_t t;

	(void)snprintf(fifo, sizeof(fifo), "%s/fifo", d);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(pthread_create(&t, NULL, fifo_writer, fifo), 0);
	cr_assert_eq(pkix_pass_from_file(fifo, &p, &why), PV_OK, "%s",
	    why.msg);
	cr_assert_str_eq(p.v, "through a fifo");
	pthread_join(t, NULL);
	fx_rmtree(d);
}

/*
 * The mode rule judges what is read: a FIFO others may open (they may
 * write the passphrase in, or read it first), and a /dev/fd/N path that
 * is a regular file others may read, as a file would be; a pipe (process
 * substitution) has no such readers.
 */
Test(passphrase, fifo_and_fd_paths_follow_the_mode_rule)
{
	const char *d = fx_tmpdir();
	char fifo[512], path[64];
	struct pass_chain c;
	struct prompt_log log;
	struct pv_config cfg;
	struct pkix_pass p;
	struct pv_why why = { "" };
	pthread_t t;
	int fd, fds[2];

	memset(&log, 0, sizeof(log));
	config_defaults(&cfg);
	cfg.strict_passphrase_files = true;
	pass_chain_init(&c);
	c.note = fake_note;
	c.prompt_ctx = &log;
	(void)snprintf(fifo, sizeof(fifo), "%s/fifo", d);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(chmod(fifo, 0622), 0);
	c.src[PASS_CA].file = fifo;
	cr_assert_eq(pthread_create(&t, NULL, fifo_writer, fifo), 0);
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why),
	    PV_E_POLICY);
	pthread_join(t, NULL);
	cr_assert(strstr(why.msg, "mode 0622 lets other users change it") !=
	    NULL, "%s", why.msg);
	cr_assert_eq(p.len, 0, "wiped");
	/* /dev/fd/N of a regular file others may read: warned. */
	cfg.strict_passphrase_files = false;
	write_mode(fx_path(d, "pass"), "secret words\n", 0644);
	fd = open(fx_path(d, "pass"), O_RDONLY);
	cr_assert(fd >= 0);
	(void)snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	c.src[PASS_CA].file = path;
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK,
	    "%s", why.msg);
	cr_assert(strstr(log.notes, "mode 0644") != NULL, "%s", log.notes);
	close(fd);
	/* A pipe: no note. */
	log.notes[0] = '\0';
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "piped words\n", 12), 12);
	(void)snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	cr_assert_eq(pass_get(&c, &cfg, PASS_CA, false, &p, &why), PV_OK,
	    "%s", why.msg);
	cr_assert_str_eq(log.notes, "");
	close(fds[0]);
	close(fds[1]);
	fx_rmtree(d);
}
