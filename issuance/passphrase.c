/*
 * passphrase.c: the passphrase chain (passphrase.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apdu/buf.h"
#include "issuance/config.h"
#include "issuance/passphrase.h"

static const struct {
	const char *what;
	const char *env;
} pass_kinds[PASS__COUNT] = {
	[PASS_CA] = { "CA passphrase", "PIVSTATION_CA_PASSPHRASE" },
	[PASS_KRA] = { "KRA passphrase", "PIVSTATION_KRA_PASSPHRASE" },
	[PASS_P12] = { "PKCS#12 passphrase", "PIVSTATION_P12_PASSPHRASE" },
	[PASS_KEY] = { "key passphrase", "PIVSTATION_KEY_PASSPHRASE" },
};

void
pass_chain_init(struct pass_chain *c)
{
	int k;

	memset(c, 0, sizeof(*c));
	for (k = 0; k < PASS__COUNT; k++)
		c->src[k].fd = -1;
}

const char *
pass_kind_what(enum pass_kind k)
{
	return (unsigned)k < PASS__COUNT ? pass_kinds[k].what : "passphrase";
}

const char *
pass_kind_env(enum pass_kind k)
{
	return (unsigned)k < PASS__COUNT ? pass_kinds[k].env : "";
}

/*
 * A passphrase file others may read or write: a warning, or refused (then
 * |out| is wiped).  Judged on the fstat of what was read (|st|), not on a
 * stat of the path before: a file swapped in between is not missed.  A
 * FIFO others may open is the same risk (they may write the passphrase,
 * or read it first); a pipe (the shell's process substitution) is not.
 */
static enum pv_err
pass_read_file(const struct pass_chain *c, const struct pv_config *cfg,
    const char *path, struct pkix_pass *out, struct pv_why *why)
{
	struct stat st;
	char text[PATH_MAX + 160];
	bool fifo, named;
	int fd;
	enum pv_err r;

	if ((r = pkix_pass_from_file_stat(path, out, &st, why)) != PV_OK)
		return r;
	named = !pkix_pass_is_fd_path(path, &fd);
	fifo = S_ISFIFO(st.st_mode) && named;
	if (!(S_ISREG(st.st_mode) || fifo) || (st.st_mode & 077) == 0)
		return PV_OK;
	if (cfg != NULL && cfg->strict_passphrase_files) {
		pkix_pass_clear(out);
		return pv_why_set(why, PV_E_POLICY, "%s: mode %04o lets other "
		    "users %s it ([security] strict_passphrase_files): chmod "
		    "600 it", path, (unsigned)(st.st_mode & 07777),
		    (st.st_mode & 022) ? "change" : "read");
	}
	if (c != NULL && c->note != NULL) {
		(void)snprintf(text, sizeof(text), "%s: mode %04o lets other "
		    "users %s this passphrase; chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777), (st.st_mode & 022) ?
		    "change" : "read");
		c->note(c->prompt_ctx, text);
	}
	return PV_OK;
}

/* The [ca] passphrase source of the configuration (CA and KRA). */
static enum pv_err
pass_from_config(const struct pass_chain *c, const struct pv_config *cfg,
    struct pkix_pass *out, bool *found, struct pv_why *why)
{
	unsigned long long fd;
	enum pv_err r;

	*found = true;
	switch (cfg->pass_source) {
	case CONFIG_PASS_ENV:
		r = pkix_pass_from_env(cfg->pass_arg, out, found, why);
		if (r == PV_OK && !*found)
			r = pv_why_set(why, PV_E_INPUT, "[ca] passphrase: $%s is "
			    "not set", cfg->pass_arg);
		return r;
	case CONFIG_PASS_FILE:
		return pass_read_file(c, cfg, cfg->pass_arg, out, why);
	case CONFIG_PASS_FD:
		if (!buf_dec_uint(cfg->pass_arg, 65535, &fd))
			return pv_why_set(why, PV_E_CONFIG, "[ca] passphrase: "
			    "fd:%s is not a file descriptor", cfg->pass_arg);
		return pkix_pass_from_fd((int)fd, out, why);
	case CONFIG_PASS_PROMPT:
		break;
	}
	*found = false;
	return PV_OK;
}

bool
pass_has_own_source(const struct pass_chain *c, enum pass_kind k)
{
	const char *v;

	if ((unsigned)k >= PASS__COUNT)
		return false;
	if (c != NULL && (c->src[k].file != NULL || c->src[k].fd >= 0))
		return true;
	v = getenv(pass_kinds[k].env);
	return v != NULL;
}

enum pv_err
pass_get(const struct pass_chain *c, const struct pv_config *cfg,
    enum pass_kind k, bool confirm, struct pkix_pass *out, struct pv_why *why)
{
	const char *what = pass_kind_what(k);
	bool found = false;
	enum pv_err r;

	pkix_pass_clear(out);
	if ((unsigned)k >= PASS__COUNT)
		return pv_why_set(why, PV_E_INVAL, "no such passphrase kind");
	if (c != NULL && c->src[k].file != NULL) {
		r = pass_read_file(c, cfg, c->src[k].file, out, why);
		goto out;
	}
	if (c != NULL && c->src[k].fd >= 0) {
		r = pkix_pass_from_fd(c->src[k].fd, out, why);
		goto out;
	}
	r = pkix_pass_from_env(pass_kinds[k].env, out, &found, why);
	if (r != PV_OK || found)
		goto out;
	if (k == PASS_KRA) {
		/* One passphrase for the whole CA is the common set-up. */
		r = pkix_pass_from_env(pass_kinds[PASS_CA].env, out, &found,
		    why);
		if (r != PV_OK || found)
			goto out;
	}
	if ((k == PASS_CA || k == PASS_KRA) && cfg != NULL) {
		r = pass_from_config(c, cfg, out, &found, why);
		if (r != PV_OK || found)
			goto out;
	}
	if (c == NULL || c->prompt == NULL) {
		r = pv_why_set(why, PV_E_INPUT, "none given (no file, file "
		    "descriptor or $%s%s) and nobody to ask",
		    pass_kinds[k].env, k == PASS_CA || k == PASS_KRA ?
		    ", no [ca] passphrase" : "");
		goto out;
	}
	r = c->prompt(c->prompt_ctx, k, what, confirm, out, why);
out:
	if (r != PV_OK) {
		pkix_pass_clear(out);
		pv_why_prefix(why, "%s", what);
	}
	return r;
}
