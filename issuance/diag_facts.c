/*
 * diag_facts.c: diag's facts as lines for a person (diag_facts.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "apdu/piv_obj.h"
#include "issuance/diag_facts.h"
#include "issuance/pkix_util.h"
#include "pcsc/diag.h"

static void
df_add(struct diag_facts *f, const char *section, const char *label,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
df_add(struct diag_facts *f, const char *section, const char *label,
    const char *fmt, ...)
{
	struct diag_fact *grow, *x;
	va_list ap;

	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;

		if ((grow = realloc(f->v, cap * sizeof(*grow))) == NULL)
			return;		/* a fact fewer: the rest is kept */
		f->v = grow;
		f->cap = cap;
	}
	x = &f->v[f->n++];
	(void)snprintf(x->section, sizeof(x->section), "%s", section);
	(void)snprintf(x->label, sizeof(x->label), "%s", label);
	va_start(ap, fmt);
	(void)vsnprintf(x->value, sizeof(x->value), fmt, ap);
	va_end(ap);
}

static void
df_tries(struct diag_facts *f, const char *label, bool has,
    const struct piv_yk_metadata *m, enum pv_err err)
{
	if (!has) {
		df_add(f, "PIV", label, "%s", err == PV_OK ||
		    pcsc_diag_meta_absent(err) ? "no metadata" :
		    pv_strerror(err));
		return;
	}
	df_add(f, "PIV", label, "%s%s%u of %u tries left",
	    m->has_default && m->is_default ? "factory default, " : "",
	    m->has_default && !m->is_default ? "set, " : "", m->retries_left,
	    m->retries_total);
}

/* One certificate: subject, expiry, key. */
static void
df_cert(struct diag_facts *f, const struct pcsc_diag_cert *c)
{
	const unsigned char *d = c->der;
	char label[DIAG_FACT_LABEL_MAX], subj[160] = "?", when[32] = "?";
	X509 *x = NULL;
	BIO *b = NULL;
	EVP_PKEY *pk;
	char *p = NULL;
	long n;
	int bits = 0;
	struct tm tm;

	(void)snprintf(label, sizeof(label), "%02X %s", c->key,
	    piv_key_name(c->key));
	if (c->obj.err != PV_OK) {
		if (c->obj.err != PV_E_NOT_FOUND)
			df_add(f, "certificates", label, "unreadable: %s",
			    c->obj.why[0] ? c->obj.why :
			    pv_strerror(c->obj.err));
		return;
	}
	if (c->der == NULL ||
	    (x = d2i_X509(NULL, &d, (long)c->der_len)) == NULL) {
		df_add(f, "certificates", label, "does not decode as X.509");
		return;
	}
	if ((b = BIO_new(BIO_s_mem())) != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0)
		(void)snprintf(subj, sizeof(subj), "%.*s", (int)(n < 159 ? n :
		    159), p);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		(void)strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	if ((pk = X509_get0_pubkey(x)) != NULL)
		bits = EVP_PKEY_get_bits(pk);
	df_add(f, "certificates", label, "%s; until %s; %s %d%s", subj, when,
	    pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA" :
	    "EC", bits, c->compressed ? "; compressed" : "");
	BIO_free(b);
	X509_free(x);
}

static void
df_fill(struct diag_facts *f, const struct pcsc_diag *d)
{
	char hex[ATR_HEX_MAX], fs[FASCN_TEXT_LEN], uuid[PKIX_UUID_STR_LEN];
	struct fascn fa;
	bool verify = false, modify = false;
	size_t i;

	df_add(f, "reader", "name", "%s", d->reader);
	if (d->vendor[0] || d->ifd_type[0])
		df_add(f, "reader", "model", "%s %s", d->vendor, d->ifd_type);
	if (d->ifd_serial[0])
		df_add(f, "reader", "serial", "%s", d->ifd_serial);
	for (i = 0; i < d->features.n; i++) {
		if (d->features.f[i].tag == PART10_VERIFY_PIN_DIRECT)
			verify = true;
		if (d->features.f[i].tag == PART10_MODIFY_PIN_DIRECT)
			modify = true;
	}
	df_add(f, "reader", "PIN pad", "%s", verify && modify ? "yes (verify "
	    "and change)" : verify ? "verify only" : "no");
	df_add(f, "reader", "protocol", "T=%d%s%s", d->protocol,
	    d->extended ? ", extended length" : "", d->chaining ?
	    ", command chaining" : "");
	atr_to_hex(d->atr, d->atr_len, hex);
	df_add(f, "card", "ATR", "%s", hex);
	if (!d->piv) {
		df_add(f, "PIV", "application", "not selectable: %s",
		    pv_strerror(d->select_err));
		return;
	}
	df_add(f, "PIV", "application", "selected");
	if (d->has_version)
		df_add(f, "PIV", "firmware", "%u.%u.%u (YubiKey extensions)",
		    d->version.major, d->version.minor, d->version.patch);
	if (d->has_serial)
		df_add(f, "PIV", "serial", "%u", d->serial);
	if (d->has_pin_meta || d->pin_meta_err != PV_OK || !d->has_pin_status)
		df_tries(f, "PIN", d->has_pin_meta, &d->pin_meta,
		    d->pin_meta_err);
	if (!d->has_pin_meta && d->has_pin_status)
		df_add(f, "PIV", "PIN", "%s%d tries left",
		    d->pin_status.blocked ? "BLOCKED, " : "",
		    d->pin_status.retries);
	df_tries(f, "PUK", d->has_puk_meta, &d->puk_meta, d->puk_meta_err);
	if (d->has_mgmt_meta)
		df_add(f, "PIV", "management key", "%s, %s",
		    piv_alg_name(d->mgmt_meta.alg), d->mgmt_meta.has_default &&
		    d->mgmt_meta.is_default ? "factory default" : "changed");
	else if (d->mgmt_default_tested)
		df_add(f, "PIV", "management key", "%s", d->mgmt_is_default ?
		    "factory default" : "changed");
	if (d->chuid.err == PV_OK && d->chuid.parsed) {
		if (fascn_decode(d->chuid_v.fascn, FASCN_LEN, &fa, NULL) ==
		    PV_OK) {
			fascn_describe(&fa, fs, sizeof(fs));
			df_add(f, "CHUID", "FASC-N", "%s", fs);
		}
		pkix_uuid_str(d->chuid_v.guid, uuid);
		df_add(f, "CHUID", "card UUID", "%s", uuid);
		df_add(f, "CHUID", "expires", "%.4s-%.2s-%.2s",
		    d->chuid_v.expiry, d->chuid_v.expiry + 4,
		    d->chuid_v.expiry + 6);
		df_add(f, "CHUID", "signature", "%s",
		    d->chuid_v.signature.len ? "present" : "none");
	} else {
		df_add(f, "CHUID", "object", "%s", d->chuid.err ==
		    PV_E_NOT_FOUND ? "none" : d->chuid.err != PV_OK ?
		    pv_strerror(d->chuid.err) : d->chuid.parse_why);
	}
	df_add(f, "objects", "CCC", "%s", d->ccc.err == PV_OK ? "present" :
	    "none");
	df_add(f, "objects", "Discovery", "%s", d->discovery.err == PV_OK ?
	    "present" : "none");
	df_add(f, "objects", "Key History", "%s", d->keyhist.err == PV_OK ?
	    "present" : "none");
	for (i = 0; i < d->n_certs; i++)
		df_cert(f, &d->certs[i]);
	df_add(f, "probe", "APDUs", "%llu (%llu bytes out, %llu in)",
	    (unsigned long long)d->stats.tr.n_apdus,
	    (unsigned long long)d->stats.tr.bytes_out,
	    (unsigned long long)d->stats.tr.bytes_in);
}

enum pv_err
diag_facts_read(const char *reader, struct diag_facts *out,
    struct pv_why *why)
{
	struct pcsc_session_opts so;
	struct pcsc_diag_opts dopts;
	struct pcsc_session *s = NULL;
	struct pcsc_diag *d = NULL;
	enum pv_err r;

	memset(out, 0, sizeof(*out));
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	memset(&so, 0, sizeof(so));
	so.reader = reader;
	so.share = PCSC_SHARE_SHARED;
	if ((r = pcsc_session_open(&so, &s, why)) != PV_OK)
		goto out;
	memset(&dopts, 0, sizeof(dopts));
	r = pcsc_diag_run(s, &dopts, d, why);
	df_fill(out, d);
out:
	pcsc_diag_cleanup(d);
	free(d);
	pcsc_session_close(s);
	return r;
}

void
diag_facts_free(struct diag_facts *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}
