/*
 * passphrase.h: where the station's passphrases come from.
 *
 * Every passphrase (the CA keys', the key recovery agent's, a PKCS#12's
 * being written, a key file's being imported) is looked for along one
 * chain, in this order:
 *
 *	1. a file the front end was given (--passphrase-file FILE),
 *	2. a file descriptor it was given (--passphrase-fd N),
 *	3. the environment ($PIVSTATION_CA_PASSPHRASE, ... per kind),
 *	4. the configuration's [ca] passphrase source (CA and KRA only),
 *	5. the front end's prompt: a no-echo terminal prompt for cli/, a
 *	   dialog for the console, nothing for batch (which must give 1-3).
 *
 * The first source that exists is the answer: a file that cannot be read
 * is an error, never a reason to try the next source.  A passphrase file
 * that users other than the station's may read or write (group or other
 * mode bits) is taken with a warning, or refused when the configuration
 * says [security] strict_passphrase_files = yes.  Secrets are read
 * into struct pkix_pass (pkix_util.h) and wiped with pkix_pass_clear.
 */
#ifndef PV_ISSUANCE_PASSPHRASE_H
#define PV_ISSUANCE_PASSPHRASE_H

#include <stdbool.h>

#include "apdu/err.h"
#include "issuance/pkix_util.h"

struct pv_config;

enum pass_kind {
	PASS_CA,	/* the CA's private keys */
	PASS_KRA,	/* the key recovery agent's key (falls back to the
			 * CA's environment variable and [ca] passphrase) */
	PASS_P12,	/* a PKCS#12 file being written (asked twice) */
	PASS_KEY,	/* a private key file being imported */
	PASS__COUNT
};

/* A file or descriptor a front end was given for one kind. */
struct pass_src {
	const char *file;	/* NULL: none */
	int fd;			/* -1: none */
};

/*
 * pass_prompt_fn asks a person for |what| ("CA passphrase"), twice when
 * |confirm| (both must match).  Returns PV_OK with |out| set, or an error
 * with |why| saying why nobody could be asked (no terminal: name the
 * options that would have given it) or that the person cancelled
 * (PV_E_CANCELLED).
 */
typedef enum pv_err pass_prompt_fn(void *ctx, enum pass_kind kind,
    const char *what, bool confirm, struct pkix_pass *out, struct pv_why *why);

/* pass_note_fn tells the person something worth a warning. */
typedef void pass_note_fn(void *ctx, const char *text);

struct pass_chain {
	struct pass_src src[PASS__COUNT];
	pass_prompt_fn *prompt;		/* NULL: nobody to ask */
	void *prompt_ctx;		/* for prompt and note */
	pass_note_fn *note;		/* NULL: warnings are dropped */
};

/* pass_chain_init: no file, no descriptor, no prompt for any kind. */
void pass_chain_init(struct pass_chain *c);

/* pass_kind_what: "CA passphrase", "KRA passphrase", ... (never NULL). */
const char *pass_kind_what(enum pass_kind k);

/* pass_kind_env: the environment variable of |k| ("PIVSTATION_CA_PASSPHRASE"). */
const char *pass_kind_env(enum pass_kind k);

/*
 * pass_has_own_source: was |k| given a file, a descriptor or its own
 * environment variable (not a fallback to another kind's)?
 */
bool pass_has_own_source(const struct pass_chain *c, enum pass_kind k);

/*
 * pass_get finds the passphrase of kind |k| along |c| (NULL: only the
 * environment and |cfg|), |cfg| (NULL allowed) giving the [ca] source.
 * |confirm| asks twice when it comes to the prompt (new secrets).
 * Returns PV_OK with |out| set, or PV_E_INPUT / PV_E_NO_FILE / PV_E_IO /
 * PV_E_CANCELLED with |why| naming the source ("--passphrase-file pass:
 * empty first line"); |out| is wiped on failure.
 */
enum pv_err pass_get(const struct pass_chain *c, const struct pv_config *cfg,
    enum pass_kind k, bool confirm, struct pkix_pass *out,
    struct pv_why *why);

#endif /* PV_ISSUANCE_PASSPHRASE_H */
