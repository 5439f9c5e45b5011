/*
 * val_card.c: a PIV card validated as a relying party (val_card.h).  The
 * CHUID signature is issuance/chuid.c's and the Security Object's is
 * issuance/secobj.c's; the paths are val.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "apdu/text.h"
#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "apdu/piv.h"
#include "apdu/piv_obj.h"
#include "issuance/card.h"
#include "issuance/card_binding.h"
#include "issuance/chuid.h"
#include "issuance/pkix_util.h"
#include "issuance/secobj.h"
#include "issuance/val_card.h"
#include "issuance/val_int.h"
#include "issuance/val_station.h"

#define VAL_OBJ_MAX	(64u * 1024)
#define VAL_CHALLENGE	32

/* ---- reading ------------------------------------------------------------------- */

/* Errors that end the session, as opposed to a card that says no. */
static bool
val_fatal(enum pv_err r)
{
	switch (r) {
	case PV_E_TRANSPORT:
	case PV_E_NO_CARD:
	case PV_E_RESET:
	case PV_E_TIMEOUT:
	case PV_E_NO_SERVICE:
	case PV_E_NO_READER:
	case PV_E_SHARING:
	case PV_E_NOMEM:
	case PV_E_DIFFERENT_CARD:
		return true;
	default:
		return false;
	}
}

static enum pv_err
val_read_obj(struct apdu_session *s, uint32_t tag, bool cert,
    struct val_obj *o, struct pv_why *why)
{
	struct buf_out b;
	struct piv_certobj co;
	struct pv_why w = { { 0 } };
	uint8_t *der = NULL;
	size_t dn = 0;
	enum pv_err r;

	memset(o, 0, sizeof(*o));
	memset(&b, 0, sizeof(b));
	if (!buf_out_alloc(&b, 2048, VAL_OBJ_MAX))
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	r = piv_get_data(s, tag, &b, &w);
	if (r != PV_OK) {
		o->err = r;
		val_sayf(o->why, sizeof(o->why), "%s", w.msg[0] ? w.msg :
		    pv_strerror(r));
		buf_out_cleanup(&b);
		if (val_fatal(r))
			return pv_why_set(why, r, "%s", o->why);
		return PV_OK;
	}
	if (cert) {
		if ((r = piv_certobj_parse(b.p, b.len, &co, &w)) != PV_OK ||
		    (r = piv_certobj_cert(&co, 0, &der, &dn, &w)) != PV_OK) {
			o->err = r;
			val_sayf(o->why, sizeof(o->why), "%s", w.msg[0] ? w.msg :
			    pv_strerror(r));
			buf_out_cleanup(&b);
			return PV_OK;
		}
		o->p = der;
		o->n = dn;
	} else if (!buf_out_take(&b, &o->p, &o->n)) {
		buf_out_cleanup(&b);
		return pv_why_set(why, PV_E_NOMEM, "out of memory");
	}
	buf_out_cleanup(&b);
	o->err = PV_OK;
	return PV_OK;
}

enum pv_err
val_card_read(struct apdu_session *s, bool with_9e,
    struct val_card_objects *o, struct pv_why *why)
{
	enum pv_err r;

	memset(o, 0, sizeof(*o));
	o->cert_9e.err = PV_E_NOT_FOUND;
	if ((r = val_read_obj(s, PIV_OBJ_CHUID, false, &o->chuid, why)) !=
	    PV_OK ||
	    (r = val_read_obj(s, PIV_OBJ_AUTH_CERT, true, &o->cert_9a, why)) !=
	    PV_OK ||
	    (r = val_read_obj(s, PIV_OBJ_SECURITY, false, &o->secobj, why)) !=
	    PV_OK)
		return r;
	if (with_9e)
		r = val_read_obj(s, PIV_OBJ_CARD_AUTH_CERT, true, &o->cert_9e,
		    why);
	return r;
}

static void
val_obj_free(struct val_obj *o)
{
	free(o->p);
	o->p = NULL;
	o->n = 0;
}

void
val_card_objects_free(struct val_card_objects *o)
{
	if (o == NULL)
		return;
	val_obj_free(&o->chuid);
	val_obj_free(&o->cert_9a);
	val_obj_free(&o->secobj);
	val_obj_free(&o->cert_9e);
}

static void
val_fascn_text(const uint8_t f[25], char *out, size_t cap)
{
	struct fascn d;
	char s[FASCN_STR_LEN];

	if (fascn_decode(f, 25, &d, NULL) == PV_OK) {
		fascn_to_string(&d, s);
		val_sayf(out, cap, "%s", s);
	} else {
		char hex[51];

		buf_hex(f, 25, hex);
		val_sayf(out, cap, "%s (not a valid FASC-N)", hex);
	}
}

/* ---- the CHUID ---------------------------------------------------------------------- */

/* The signingTime signed attribute of the CHUID signature, if any. */
static bool
val_signing_time(const struct buf_cur *sig, time_t *out)
{
	const unsigned char *d = sig->p;
	CMS_ContentInfo *cms;
	STACK_OF(CMS_SignerInfo) *sis;
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	bool ok = false;
	int loc;

	if (sig->len == 0 || sig->len > LONG_MAX ||
	    (cms = d2i_CMS_ContentInfo(NULL, &d, (long)sig->len)) == NULL) {
		ERR_clear_error();
		return false;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sis != NULL && sk_CMS_SignerInfo_num(sis) == 1 &&
	    (loc = CMS_signed_get_attr_by_NID(sk_CMS_SignerInfo_value(sis, 0),
	    NID_pkcs9_signingTime, -1)) >= 0 &&
	    (a = CMS_signed_get_attr(sk_CMS_SignerInfo_value(sis, 0), loc)) !=
	    NULL && X509_ATTRIBUTE_count(a) == 1 &&
	    (t = X509_ATTRIBUTE_get0_type(a, 0)) != NULL &&
	    (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME))
		ok = val_asn1_time((const ASN1_TIME *)t->value.asn1_string, out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return ok;
}

/* YYYYMMDD: the end of that day, UTC. */
static bool
val_chuid_expiry(const char *e, time_t *out)
{
	char iso[32];

	if (strlen(e) != 8)
		return false;
	val_sayf(iso, sizeof(iso), "%.4s-%.2s-%.2sT23:59:59Z", e, e + 4, e + 6);
	return val_time_parse(iso, out, NULL) == PV_OK;
}

static const char *
val_first_fail(const struct val_report *r, size_t from)
{
	size_t i;

	for (i = from; i < r->n; i++)
		if (r->check[i].status == VAL_FAIL)
			return r->check[i].text;
	return NULL;
}

/* chuid.signer: path at the signing time, status now. */
static void
val_check_signer(struct val_ctx *ctx, X509 *signer, const struct buf_cur *sig,
    const struct val_card_params *p, struct val_report *rep)
{
	struct val_report *t = malloc(sizeof(*t));
	struct val_params sp, rp;
	struct pv_why w = { { 0 } };
	char subj[VAL_SUBJECT_MAX], when[32];
	const char *fail;
	const struct val_check *rev;
	time_t st;
	bool have_st = val_signing_time(sig, &st);

	val_subject(signer, subj, sizeof(subj));
	if (t == NULL) {
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_FAIL, "out of memory");
		return;
	}
	sp = *p->signer;
	sp.at = have_st ? st : p->auth->at;
	sp.rev_mode = VAL_REV_NONE;
	sp.what = "content signer";
	sp.id_prefix = "signer.";
	val_report_init(t);
	text_utc(sp.at, when);
	if (val_cert(ctx, signer, NULL, &sp, t, &w) != PV_OK) {
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_FAIL, "%s", w.msg);
		goto out;
	}
	if ((fail = val_first_fail(t, 0)) != NULL) {
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_FAIL, "%s at %s %s: %s", subj, have_st ?
		    "the signing time" : "the validation time (no signingTime)",
		    when, fail);
		goto out;
	}
	/* Its status as of now, with the configured revocation policy. */
	rp = *p->auth;
	rp.n_policies = 0;
	rp.explicit_policy = rp.inhibit_any = rp.inhibit_mapping = false;
	rp.what = "content signer";
	rp.id_prefix = "signer.";
	val_report_init(t);
	if (val_cert(ctx, signer, NULL, &rp, t, &w) != PV_OK) {
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_FAIL, "%s", w.msg);
		goto out;
	}
	rev = val_report_find(t, "signer.revocation");
	if (rev != NULL && rev->status == VAL_FAIL) {
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_FAIL, "%s", rev->text);
		goto out;
	}
	if (rev != NULL && rev->status == VAL_WARN) {
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_WARN, "%s chains to a trust anchor and was valid at %s "
		    "%s; %s", subj, have_st ? "the signing time" :
		    "the validation time", when, rev->text);
		goto out;
	}
	val_report_add(rep, "chuid.signer", "CHUID signer trusted", VAL_PASS,
	    "%s chains to a trust anchor and was valid at %s %s (policy %s); "
	    "%s", subj, have_st ? "the signing time" : "the validation time",
	    when, p->signer->n_policies ? p->signer->policies[0] : "any",
	    rev != NULL ? rev->text : "status not checked: no path now");
out:
	free(t);
}

/* ---- the host checks ------------------------------------------------------------ */

enum pv_err
val_card_check(struct val_ctx *ctx, const struct val_card_objects *o,
    const struct val_card_params *p, struct val_report *rep,
    struct pv_why *why)
{
	struct piv_chuid ch;
	struct card_binding bind;
	struct card_binding_cert bc;
	struct pv_why w = { { 0 } };
	X509 *signer = NULL, *cert = NULL;
	STACK_OF(X509) *extra = NULL;
	const unsigned char *d;
	char a[VAL_TEXT_MAX / 2], b[VAL_TEXT_MAX / 2], when[32];
	time_t at = p->auth->at, exp = 0, na = 0;
	bool chuid_ok = false;
	enum pv_err r;

	(void)why;
	/* chuid.read */
	if (o->chuid.err != PV_OK) {
		val_report_add(rep, "chuid.read", "CHUID present", VAL_FAIL,
		    "%s", o->chuid.err == PV_E_NOT_FOUND ? "the card has no "
		    "CHUID" : o->chuid.why);
	} else if (piv_chuid_parse(o->chuid.p, o->chuid.n, &ch, &w) != PV_OK) {
		val_report_add(rep, "chuid.read", "CHUID present", VAL_FAIL,
		    "the CHUID does not parse: %s", w.msg);
	} else {
		char f[FASCN_STR_LEN + 40], u[PKIX_UUID_STR_LEN];

		chuid_ok = true;
		val_fascn_text(ch.fascn, f, sizeof(f));
		pkix_uuid_str(ch.guid, u);
		val_report_add(rep, "chuid.read", "CHUID present", VAL_PASS,
		    "%zu bytes; FASC-N %s, GUID %s", o->chuid.n, f, u);
	}

	/* chuid.signature, chuid.signer: card_binding.h's facts */
	card_binding_chuid(o->chuid.err == PV_OK ? o->chuid.p : NULL,
	    o->chuid.n, &bind, &signer);
	if (!chuid_ok) {
		val_report_add(rep, "chuid.signature", "CHUID signature",
		    VAL_SKIP, "no CHUID to check");
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_SKIP, "no CHUID to check");
	} else if (bind.sig != PV_OK) {
		val_report_add(rep, "chuid.signature", "CHUID signature",
		    VAL_FAIL, "%s", bind.sig_why);
		val_report_add(rep, "chuid.signer", "CHUID signer trusted",
		    VAL_SKIP, "not checked: the signature does not verify");
	} else {
		val_subject(signer, a, sizeof(a));
		val_report_add(rep, "chuid.signature", "CHUID signature",
		    VAL_PASS, "CMS signature over the CHUID verifies; signed by "
		    "%s, which has id-PIV-content-signing", a);
		val_check_signer(ctx, signer, &ch.signature, p, rep);
	}

	/* chuid.expiry */
	if (!chuid_ok || !val_chuid_expiry(ch.expiry, &exp))
		val_report_add(rep, "chuid.expiry", "CHUID not expired",
		    VAL_SKIP, "no CHUID expiration date to check");
	else if (exp < at)
		val_report_add(rep, "chuid.expiry", "CHUID not expired",
		    VAL_FAIL, "the card expired on %.4s-%.2s-%.2s", ch.expiry,
		    ch.expiry + 4, ch.expiry + 6);
	else
		val_report_add(rep, "chuid.expiry", "CHUID not expired",
		    VAL_PASS, "the card expires on %.4s-%.2s-%.2s", ch.expiry,
		    ch.expiry + 4, ch.expiry + 6);

	/* cert.read */
	if (o->cert_9a.err == PV_OK) {
		d = o->cert_9a.p;
		cert = d2i_X509(NULL, &d, (long)o->cert_9a.n);
		if (cert != NULL && d != o->cert_9a.p + o->cert_9a.n) {
			X509_free(cert);
			cert = NULL;
		}
		ERR_clear_error();
	}
	if (cert == NULL) {
		val_report_add(rep, "cert.read", "9A certificate present",
		    VAL_FAIL, "%s", o->cert_9a.err == PV_E_NOT_FOUND ?
		    "the card has no PIV Authentication (9A) certificate" :
		    o->cert_9a.err != PV_OK ? o->cert_9a.why :
		    "the 9A container holds bytes that are not one X.509 "
		    "certificate");
		val_report_add(rep, "cert.path", "path to a trust anchor",
		    VAL_SKIP, "no certificate");
	} else {
		struct val_params ap = *p->auth;

		val_subject(cert, a, sizeof(a));
		val_report_add(rep, "cert.read", "9A certificate present",
		    VAL_PASS, "%s", a);
		ap.what = "9A certificate";
		ap.id_prefix = "cert.";
		pv_why_clear(&w);
		/* What the card carries may complete the path too. */
		if (signer != NULL && (extra = sk_X509_new_null()) != NULL &&
		    !sk_X509_push(extra, signer)) {
			sk_X509_free(extra);
			extra = NULL;
		}
		r = val_cert(ctx, cert, extra, &ap, rep, &w);
		sk_X509_free(extra);
		if (r != PV_OK)
			val_report_add(rep, "cert.path", "path to a trust anchor",
			    VAL_FAIL, "%s", w.msg[0] ? w.msg : pv_strerror(r));
	}

	/* cert.expiry */
	if (cert != NULL && val_asn1_time(X509_get0_notAfter(cert), &na)) {
		long days = (long)((na - at) / 86400);

		text_utc(na, when);
		if (na < at)
			val_report_add(rep, "cert.expiry", "expiry margin",
			    VAL_FAIL, "the 9A certificate expired on %s", when);
		else if (na - at < (time_t)p->expiry_margin_days * 86400)
			val_report_add(rep, "cert.expiry", "expiry margin",
			    VAL_FAIL, "the 9A certificate expires on %s, in %ld "
			    "day%s: less than the %u days required "
			    "([validation] expiry_margin_days)", when, days,
			    days == 1 ? "" : "s", p->expiry_margin_days);
		else if (exp != 0 && na > exp)
			val_report_add(rep, "cert.expiry", "expiry margin",
			    VAL_FAIL, "the 9A certificate (notAfter %s) outlives "
			    "the card (CHUID expiry %.4s-%.2s-%.2s)", when,
			    ch.expiry, ch.expiry + 4, ch.expiry + 6);
		else
			val_report_add(rep, "cert.expiry", "expiry margin",
			    VAL_PASS, "expires on %s, in %ld days (margin %u)",
			    when, days, p->expiry_margin_days);
	} else {
		val_report_add(rep, "cert.expiry", "expiry margin", VAL_SKIP,
		    "no certificate");
	}

	/* binding.fascn, binding.uuid */
	pv_why_clear(&w);
	if (cert == NULL || !chuid_ok) {
		val_report_add(rep, "binding.fascn", "FASC-N matches the CHUID",
		    VAL_SKIP, "needs both the CHUID and the 9A certificate");
		val_report_add(rep, "binding.uuid", "UUID matches the CHUID",
		    VAL_SKIP, "needs both the CHUID and the 9A certificate");
	} else {
		card_binding_cert(cert, &bind, &bc);
		val_fascn_text(ch.fascn, b, sizeof(b));
		if (!bc.has_fascn)
			val_report_add(rep, "binding.fascn", "FASC-N matches the "
			    "CHUID", bc.has_uuid ? VAL_PASS : VAL_FAIL,
			    "the 9A certificate's SAN has no FASC-N%s%s%s",
			    bc.san_why[0] ? " (" : "", bc.san_why, bc.has_uuid ?
			    "); the UUID binds it (PIV-I style)" :
			    bc.san_why[0] ? ")" : "");
		else if (!bc.fascn_matches) {
			val_fascn_text(bc.fascn, a, sizeof(a));
			val_report_add(rep, "binding.fascn", "FASC-N matches the "
			    "CHUID", VAL_FAIL, "the FASC-N differs: certificate "
			    "SAN %s, CHUID %s", a, b);
		} else {
			val_report_add(rep, "binding.fascn", "FASC-N matches the "
			    "CHUID", VAL_PASS, "%s in both", b);
		}
		pkix_uuid_str(ch.guid, b);
		if (!bc.has_uuid) {
			val_report_add(rep, "binding.uuid", "UUID matches the "
			    "CHUID", VAL_FAIL, "the 9A certificate's SAN has no "
			    "urn:uuid: name (FIPS 201-3 requires the card UUID)");
		} else if (!bc.uuid_matches) {
			pkix_uuid_str(bc.uuid, a);
			val_report_add(rep, "binding.uuid", "UUID matches the "
			    "CHUID", VAL_FAIL, "the UUID differs: certificate SAN "
			    "%s, CHUID GUID %s", a, b);
		} else {
			val_report_add(rep, "binding.uuid", "UUID matches the "
			    "CHUID", VAL_PASS, "%s in both", b);
		}
	}

	/* secobj */
	if (o->secobj.err == PV_E_NOT_FOUND) {
		val_report_add(rep, "secobj", "Security Object", VAL_SKIP,
		    "the card has no Security Object");
	} else if (o->secobj.err != PV_OK) {
		val_report_add(rep, "secobj", "Security Object", VAL_FAIL,
		    "%s", o->secobj.why);
	} else if (signer == NULL) {
		val_report_add(rep, "secobj", "Security Object", VAL_FAIL,
		    "cannot be checked: its signer is the CHUID's, whose "
		    "signature did not verify");
	} else {
		struct secobj_entry have;
		size_t checked = 0;

		memset(&have, 0, sizeof(have));
		have.container_id = SECOBJ_CID_CHUID;
		have.data = o->chuid.p;
		have.len = o->chuid.n;
		pv_why_clear(&w);
		if (secobj_verify(o->secobj.p, o->secobj.n, signer, &have, 1,
		    &checked, &w) != PV_OK)
			val_report_add(rep, "secobj", "Security Object",
			    VAL_FAIL, "%s", w.msg);
		else
			val_report_add(rep, "secobj", "Security Object",
			    VAL_PASS, "signed by the CHUID signer; the hash of "
			    "the CHUID matches (%zu of the objects read checked; "
			    "PIN-protected ones are not read)", checked);
	}
	X509_free(signer);
	X509_free(cert);
	return PV_OK;
}

/* ---- proof of possession -------------------------------------------------------- */

/* DigestInfo prefixes (RFC 8017 §9.2 note 1). */
static const uint8_t val_di_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};
static const uint8_t val_di_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30
};

/* The PIV algorithm of |k|, or 0. */
static uint8_t
val_piv_alg(EVP_PKEY *k)
{
	int id = EVP_PKEY_get_base_id(k), bits = EVP_PKEY_get_bits(k);

	if (id == EVP_PKEY_RSA)
		return bits == 1024 ? PIV_ALG_RSA1024 : bits == 2048 ?
		    PIV_ALG_RSA2048 : bits == 3072 ? PIV_ALG_RSA3072 :
		    bits == 4096 ? PIV_ALG_RSA4096 : 0;
	if (id == EVP_PKEY_EC) {
		char g[64];
		size_t gl = 0;

		if (!EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof(g), &gl))
			return 0;
		if (strcmp(g, "prime256v1") == 0 || strcmp(g, "P-256") == 0)
			return PIV_ALG_ECC_P256;
		if (strcmp(g, "secp384r1") == 0 || strcmp(g, "P-384") == 0)
			return PIV_ALG_ECC_P384;
	}
	return 0;
}

/*
 * val_pop_key has key |ref| sign a fresh challenge and verifies it with
 * |cert|'s key.  *ok tells the verdict; the text says why.
 */
static enum pv_err
val_pop_key(struct apdu_session *s, X509 *cert, uint8_t ref, bool *ok,
    char *text, size_t cap, struct pv_why *why)
{
	EVP_PKEY *k = X509_get0_pubkey(cert);
	EVP_PKEY_CTX *vc = NULL;
	const EVP_MD *md;
	struct buf_out sig;
	struct pv_why w = { { 0 } };
	uint8_t ch[VAL_CHALLENGE], h[EVP_MAX_MD_SIZE], block[512];
	unsigned int hl = 0;
	size_t k_len, in_len;
	uint8_t alg;
	enum pv_err r = PV_OK;

	*ok = false;
	memset(&sig, 0, sizeof(sig));
	if (k == NULL || (alg = val_piv_alg(k)) == 0) {
		val_sayf(text, cap, "the certificate's key is not one a PIV "
		    "card signs with (RSA 1024-4096, ECC P-256 or P-384)");
		goto out;
	}
	md = alg == PIV_ALG_ECC_P384 ? EVP_sha384() : EVP_sha256();
	if (RAND_bytes(ch, sizeof(ch)) != 1 ||
	    !EVP_Digest(ch, sizeof(ch), h, &hl, md, NULL)) {
		r = pkix_crypto_err(why, "challenge");
		goto out;
	}
	if ((k_len = piv_alg_rsa_len(alg)) > 0) {
		/* EMSA-PKCS1-v1_5: 00 01 FF.. 00 DigestInfo hash; the card
		 * does the raw RSA operation. */
		const uint8_t *di = md == EVP_sha384() ? val_di_sha384 :
		    val_di_sha256;
		size_t dl = md == EVP_sha384() ? sizeof(val_di_sha384) :
		    sizeof(val_di_sha256);

		if (k_len > sizeof(block) || k_len < dl + hl + 11) {
			val_sayf(text, cap, "RSA key of %zu bytes cannot sign",
			    k_len);
			goto out;
		}
		block[0] = 0x00;
		block[1] = 0x01;
		memset(block + 2, 0xff, k_len - dl - hl - 3);
		block[k_len - dl - hl - 1] = 0x00;
		memcpy(block + k_len - dl - hl, di, dl);
		memcpy(block + k_len - hl, h, hl);
		in_len = k_len;
	} else {
		memcpy(block, h, hl);
		in_len = hl;
	}
	if (!buf_out_alloc(&sig, 600, 4096)) {
		r = pv_why_set(why, PV_E_NOMEM, "out of memory");
		goto out;
	}
	r = piv_sign(s, alg, ref, block, in_len, &sig, &w);
	if (r != PV_OK) {
		if (val_fatal(r)) {
			(void)pv_why_set(why, r, "%s", w.msg);
			goto out;
		}
		val_sayf(text, cap, "the card did not sign: %s%s", w.msg[0] ?
		    w.msg : pv_strerror(r), r == PV_E_SECURITY ? " (the PIN "
		    "was not verified)" : "");
		r = PV_OK;
		goto out;
	}
	if ((vc = EVP_PKEY_CTX_new(k, NULL)) == NULL ||
	    EVP_PKEY_verify_init(vc) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(vc, md) <= 0 ||
	    (k_len > 0 && EVP_PKEY_CTX_set_rsa_padding(vc,
	    RSA_PKCS1_PADDING) <= 0)) {
		r = pkix_crypto_err(why, "verify");
		goto out;
	}
	*ok = EVP_PKEY_verify(vc, sig.p, sig.len, h, hl) == 1;
	ERR_clear_error();
	if (*ok)
		val_sayf(text, cap, "the %02X key signed a fresh %d-byte random "
		    "challenge (%s, %s); the certificate's public key verifies "
		    "it", ref, VAL_CHALLENGE, piv_alg_name(alg),
		    md == EVP_sha384() ? "SHA-384" : "SHA-256");
	else
		val_sayf(text, cap, "the %02X key's signature of a fresh "
		    "challenge does not verify with the certificate's public "
		    "key: the certificate is not for the key on this card",
		    ref);
out:
	EVP_PKEY_CTX_free(vc);
	buf_out_cleanup(&sig);
	OPENSSL_cleanse(block, sizeof(block));
	return r;
}

static X509 *
val_obj_cert(const struct val_obj *o)
{
	const unsigned char *d = o->p;
	X509 *x;

	if (o->err != PV_OK || o->p == NULL)
		return NULL;
	x = d2i_X509(NULL, &d, (long)o->n);
	if (x != NULL && d != o->p + o->n) {
		X509_free(x);
		x = NULL;
	}
	ERR_clear_error();
	return x;
}

enum pv_err
val_card_pop(struct apdu_session *s, const struct val_card_objects *o,
    const struct val_pop_params *pp, struct val_report *rep,
    struct pv_why *why)
{
	struct pv_why w = { { 0 } };
	char text[VAL_TEXT_MAX];
	X509 *c9a = val_obj_cert(&o->cert_9a), *c9e = NULL;
	int retries = -1;
	bool ok;
	enum pv_err r = PV_OK;

	if (pp->pin != NULL) {
		r = pp->pin(pp->pin_arg, s, &retries, &w);
		if (r == PV_E_PIN_WRONG) {
			val_report_add(rep, "pop.pin", "PIN verified", VAL_FAIL,
			    "wrong PIN: %d %s left", retries,
			    retries == 1 ? "try" : "tries");
		} else if (r == PV_E_BLOCKED) {
			val_report_add(rep, "pop.pin", "PIN verified", VAL_FAIL,
			    "the card's PIN is blocked (no tries left)");
		} else if (r == PV_E_CANCELLED || r == PV_E_TIMEOUT) {
			/* From the PIN pad: the person, not the card. */
			val_report_add(rep, "pop.pin", "PIN verified", VAL_FAIL,
			    "%s", r == PV_E_CANCELLED ? "the cardholder pressed "
			    "Cancel on the PIN pad" : "nobody typed the PIN on "
			    "the PIN pad in time");
		} else if (r != PV_OK && val_fatal(r)) {
			(void)pv_why_set(why, r, "%s", w.msg);
			goto out;
		} else if (r != PV_OK) {
			val_report_add(rep, "pop.pin", "PIN verified", VAL_FAIL,
			    "%s", w.msg[0] ? w.msg : pv_strerror(r));
		} else {
			val_report_add(rep, "pop.pin", "PIN verified", VAL_PASS,
			    "the card accepted the PIN");
		}
		if (r != PV_OK) {
			val_report_add(rep, "pop.9a", "9A key proven", VAL_FAIL,
			    "not attempted: the PIN was not verified");
			r = PV_OK;
		} else if (c9a == NULL) {
			val_report_add(rep, "pop.9a", "9A key proven", VAL_FAIL,
			    "not attempted: no 9A certificate to verify with");
		} else {
			if ((r = val_pop_key(s, c9a, PIV_KEY_AUTH, &ok, text,
			    sizeof(text), why)) != PV_OK)
				goto out;
			val_report_add(rep, "pop.9a", "9A key proven", ok ?
			    VAL_PASS : VAL_FAIL, "%s", text);
		}
	}
	if (pp->card_auth) {
		if ((c9e = val_obj_cert(&o->cert_9e)) == NULL) {
			val_report_add(rep, "pop.9e", "9E key proven", VAL_FAIL,
			    "not attempted: %s", o->cert_9e.err == PV_OK ?
			    "the 9E certificate does not decode" :
			    o->cert_9e.err == PV_E_NOT_FOUND ? "the card has no "
			    "card authentication certificate" : o->cert_9e.why);
		} else {
			if ((r = val_pop_key(s, c9e, PIV_KEY_CARD_AUTH, &ok, text,
			    sizeof(text), why)) != PV_OK)
				goto out;
			val_report_add(rep, "pop.9e", "9E key proven", ok ?
			    VAL_PASS : VAL_FAIL, "%s", text);
		}
	}
	r = PV_OK;
out:
	X509_free(c9a);
	X509_free(c9e);
	return r;
}

/* ---- through the card seam ----------------------------------------------------- */

struct val_card_run {
	struct card *card;
	const struct val_card_opts *o;
	struct val_card_objects obj;
	struct val_report *rep;
};

static enum pv_err
val_step_read(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct val_card_run *c = arg;

	val_card_objects_free(&c->obj);
	return val_card_read(a, c->o->card_auth, &c->obj, why);
}

/* The PIN, inside the proof's command group: typed on the pad or given. */
static enum pv_err
val_pin_verify(void *arg, struct apdu_session *a, int *retries,
    struct pv_why *why)
{
	struct val_card_run *c = arg;

	if (c->o->pin_pad)
		return card_pad_verify_pin(c->card, 6, 8, retries, why);
	return piv_verify(a, PIV_REF_PIN, c->o->pin, c->o->pin_len, retries,
	    why);
}

static enum pv_err
val_step_pop(struct apdu_session *a, void *arg, struct pv_why *why)
{
	struct val_card_run *c = arg;
	struct val_pop_params pp;
	size_t n0 = c->rep->n;
	enum pv_err r;

	memset(&pp, 0, sizeof(pp));
	pp.pin = c->o->pop ? val_pin_verify : NULL;
	pp.pin_arg = c;
	pp.card_auth = c->o->card_auth;
	r = val_card_pop(a, &c->obj, &pp, c->rep, why);
	if (r == PV_E_RESET)
		c->rep->n = n0;	/* run again after the recovery */
	return r;
}

enum pv_err
val_card_validate(struct val_station *vs, struct card *card,
    const struct val_card_opts *o, struct val_report *rep,
    struct pv_why *why)
{
	struct val_card_run c;
	struct val_card_params cp;
	struct val_params auth, signer;
	enum pv_err r;

	memset(&c, 0, sizeof(c));
	c.card = card;
	c.o = o;
	c.rep = rep;
	if ((r = card_check_piv(card, why)) != PV_OK)
		return r;
	if (o->pop && o->pin_pad && (r = card_check_pad(card, false, why)) !=
	    PV_OK)
		return r;
	if ((r = card_run(card, val_step_read, &c, why)) != PV_OK)
		goto out;
	auth = vs->auth;
	auth.at = o->at;
	signer = vs->signer;
	signer.at = o->at;
	cp.auth = &auth;
	cp.signer = &signer;
	cp.expiry_margin_days = vs->expiry_margin_days;
	if ((r = val_card_check(vs->ctx, &c.obj, &cp, rep, why)) != PV_OK)
		goto out;
	if (o->pop || o->card_auth)
		r = card_run(card, val_step_pop, &c, why);
	else
		val_report_add(rep, "pop.9a", "9A key proven", VAL_SKIP,
		    "not asked (--no-pop): the person was not asked for the "
		    "PIN");
out:
	if (o->objects != NULL) {
		*o->objects = c.obj;
		memset(&c.obj, 0, sizeof(c.obj));
	}
	val_card_objects_free(&c.obj);
	return r;
}
