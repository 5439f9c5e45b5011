/*
 * cmd_diag.c: `pivstation diag [-r READER] [--json] [--latency N]`:
 * reader and driver facts, ATR decode, protocol, part 10 features, and
 * the PIV probe (pcsc/diag.c), printed for people or as one JSON document.
 *
 * The probe's results are first assembled as one JSON tree; the text
 * form renders the same tree, so both always say the same things.
 * Certificates are described here with OpenSSL (pcsc/ hands up DER).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "apdu/buf.h"
#include "apdu/fascn.h"
#include "apdu/piv_obj.h"
#include "apdu/piv.h"
#include "apdu/piv_pkey.h"
#include "cli/cli.h"
#include "cli/cmd_atr.h"
#include "cli/cmd_diag.h"
#include "issuance/card_binding.h"
#include "issuance/pkix_util.h"
#include "issuance/yk_protected.h"
#include "pcsc/diag.h"
#include "pcsc/rc.h"
#include "pcsc/session.h"

/* Every string goes in through cli_json_str: card text is made valid
 * UTF-8 here and rendered through cli_print_safe (text_value). */
#define J_STR(o, k, v) json_object_object_add((o), (k), cli_json_str(v))
#define J_INT(o, k, v) json_object_object_add((o), (k), json_object_new_int64((int64_t)(v)))
#define J_BOOL(o, k, v) json_object_object_add((o), (k), json_object_new_boolean((v) ? 1 : 0))
#define J_NULL(o, k) json_object_object_add((o), (k), NULL)

/* A number with 3 decimals, printed as such (not 0.13400000000000001). */
static json_object *
json_ms(double v)
{
	char s[32];

	snprintf(s, sizeof(s), "%.3f", v);
	return json_object_new_double_s(v, s);
}

/*
 * What to say when a GET METADATA gave nothing: NULL when the card simply
 * has none (or was not asked); otherwise "malformed answer: ..." or the
 * refusal, so a broken answer is never reported as "no metadata".
 */
static const char *
meta_problem(enum pv_err err, const char *why, char *buf, size_t cap)
{
	if (pcsc_diag_meta_absent(err))
		return NULL;
	(void)snprintf(buf, cap, "%s: %s", err == PV_E_MALFORMED ?
	    "malformed answer" : "GET METADATA refused", why[0] ? why :
	    pv_strerror(err));
	return buf;
}

static const char *
pin_policy_name(uint8_t p)
{
	static const char *const n[] = { "default", "never", "once", "always",
	    "match-once", "match-always" };

	return p < 6 ? n[p] : "unknown";
}

static const char *
touch_policy_name(uint8_t p)
{
	static const char *const n[] = { "default", "never", "always",
	    "cached" };

	return p < 4 ? n[p] : "unknown";
}

/* ---- certificates (OpenSSL) ---------------------------------------------- */

/*
 * The SAN identifiers against the CHUID (card_binding.h), and the SAN's
 * other entries as they are.
 */
static void
cert_san(X509 *x, json_object *o, const struct card_binding *b)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL);
	json_object *other = json_object_new_array();
	struct card_binding_cert bc;
	struct fascn f;
	char oid[80], buf[FASCN_TEXT_LEN];
	int i;

	card_binding_cert(x, b, &bc);
	if (bc.has_fascn && fascn_decode(bc.fascn, FASCN_LEN, &f, NULL) ==
	    PV_OK) {
		fascn_to_string(&f, buf);
		J_STR(o, "san_fasc_n", buf);
		fascn_describe(&f, buf, sizeof(buf));
		J_STR(o, "san_fasc_n_fields", buf);
		if (b->chuid_parsed)
			J_BOOL(o, "san_fasc_n_matches_chuid", bc.fascn_matches);
	} else if (bc.has_fascn) {
		J_STR(o, "san_fasc_n", "malformed");
	}
	if (bc.has_uuid) {
		pkix_uuid_str(bc.uuid, buf);
		J_STR(o, "san_uuid", buf);
		if (b->chuid_parsed)
			J_BOOL(o, "san_uuid_matches_chuid", bc.uuid_matches);
	}
	if (bc.san_why[0] != '\0')
		J_STR(o, "san_error", bc.san_why);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *u;

		if (g->type == GEN_OTHERNAME) {
			OBJ_obj2txt(oid, sizeof(oid), g->d.otherName->type_id, 1);
			if (strcmp(oid, PKIX_OID_PIV_FASCN) != 0)
				json_object_array_add(other, cli_json_str(oid));
		} else if (g->type == GEN_URI) {
			u = g->d.uniformResourceIdentifier;
			if (u->length < 9 || strncasecmp((const char *)u->data,
			    "urn:uuid:", 9) != 0)
				json_object_array_add(other, cli_json_str(
				    (const char *)u->data));
		} else if (g->type == GEN_EMAIL || g->type == GEN_DNS) {
			json_object_array_add(other, cli_json_str(
			    (const char *)g->d.ia5->data));
		}
	}
	if (json_object_array_length(other) > 0)
		json_object_object_add(o, "san_other", other);
	else
		json_object_put(other);
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
}

static void
cert_policies(X509 *x, json_object *o)
{
	CERTIFICATEPOLICIES *pol = X509_get_ext_d2i(x, NID_certificate_policies,
	    NULL, NULL);
	json_object *arr = json_object_new_array();
	char oid[80];
	int i;

	for (i = 0; pol != NULL && i < sk_POLICYINFO_num(pol); i++) {
		OBJ_obj2txt(oid, sizeof(oid),
		    sk_POLICYINFO_value(pol, i)->policyid, 1);
		json_object_array_add(arr, cli_json_str(oid));
	}
	json_object_object_add(o, "policies", arr);
	CERTIFICATEPOLICIES_free(pol);
}

static void
cert_json(const struct pcsc_diag_cert *c, json_object *o,
    const struct card_binding *b)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	EVP_PKEY *pk, *mk = NULL;
	BIGNUM *bn = NULL;
	char *s, t[CARD_BINDING_TEXT], curve[64];
	size_t clen = 0;
	int id;

	if (x == NULL || p != c->der + c->der_len) {
		J_STR(o, "error", "the container holds bytes that are not one "
		    "X.509 certificate");
		X509_free(x);
		return;
	}
	pkix_name_str(X509_get_subject_name(x), t, sizeof(t));
	J_STR(o, "subject", t);
	pkix_name_str(X509_get_issuer_name(x), t, sizeof(t));
	J_STR(o, "issuer", t);
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) != NULL &&
	    (s = BN_bn2hex(bn)) != NULL) {
		J_STR(o, "serial", s);
		OPENSSL_free(s);
	}
	BN_free(bn);
	pkix_time_str(X509_get0_notBefore(x), t, sizeof(t));
	J_STR(o, "not_before", t);
	pkix_time_str(X509_get0_notAfter(x), t, sizeof(t));
	J_STR(o, "not_after", t);
	J_BOOL(o, "expired", X509_cmp_current_time(X509_get0_notAfter(x)) < 0);
	pk = X509_get0_pubkey(x);
	if (pk != NULL) {
		id = EVP_PKEY_get_base_id(pk);
		J_STR(o, "key_type", id == EVP_PKEY_RSA ? "RSA" :
		    id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_ED25519 ?
		    "Ed25519" : id == EVP_PKEY_X25519 ? "X25519" : "other");
		J_INT(o, "key_bits", EVP_PKEY_get_bits(pk));
		if (id == EVP_PKEY_EC && EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &clen))
			J_STR(o, "curve", curve);
	}
	cert_policies(x, o);
	cert_san(x, o, b);
	/* Does the certificate belong to the key in the slot? */
	if (c->has_meta && c->meta.has_pubkey && pk != NULL &&
	    piv_pubkey_to_evp(&c->meta.pubkey, &mk, NULL) == PV_OK)
		J_BOOL(o, "matches_key_in_slot", EVP_PKEY_eq(pk, mk) == 1);
	EVP_PKEY_free(mk);
	X509_free(x);
}

static json_object *
certs_json(const struct pcsc_diag *d, const struct card_binding *b)
{
	json_object *arr = json_object_new_array(), *o, *m;
	char k[8], tag[8];
	size_t i;

	for (i = 0; i < d->n_certs; i++) {
		const struct pcsc_diag_cert *c = &d->certs[i];

		o = json_object_new_object();
		snprintf(k, sizeof(k), "%02x", c->key);
		snprintf(tag, sizeof(tag), "%06X", c->obj.tag);
		J_STR(o, "key", k);
		J_STR(o, "name", piv_key_name(c->key));
		J_STR(o, "object", tag);
		J_BOOL(o, "present", c->obj.err == PV_OK && c->der != NULL);
		if (c->obj.err != PV_OK && c->obj.err != PV_E_NOT_FOUND)
			J_STR(o, "error", c->obj.why[0] ? c->obj.why :
			    pv_strerror(c->obj.err));
		else if (c->obj.err == PV_OK && !c->obj.parsed)
			J_STR(o, "error", c->obj.parse_why);
		if (c->obj.err == PV_OK)
			J_INT(o, "object_bytes", c->obj.len);
		if (c->der != NULL) {
			J_BOOL(o, "compressed", c->compressed);
			J_INT(o, "der_bytes", c->der_len);
			cert_json(c, o, b);
		}
		if (c->has_meta) {
			m = json_object_new_object();
			if (c->meta.has_alg)
				J_STR(m, "algorithm", piv_alg_name(c->meta.alg));
			if (c->meta.has_origin)
				J_STR(m, "origin", c->meta.origin == 1 ?
				    "generated on the token" : "imported");
			if (c->meta.has_policy) {
				J_STR(m, "pin_policy",
				    pin_policy_name(c->meta.pin_policy));
				J_STR(m, "touch_policy",
				    touch_policy_name(c->meta.touch_policy));
			}
			json_object_object_add(o, "key_in_slot", m);
		} else {
			char prob[DIAG_TEXT_MAX + 32];
			const char *mp = meta_problem(c->meta_err, c->meta_why,
			    prob, sizeof(prob));

			if (mp != NULL)
				J_STR(o, "key_in_slot_error", mp);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

/* ---- the other sections -------------------------------------------------- */

static json_object *
reader_json(const struct pcsc_diag *d)
{
	json_object *o = json_object_new_object(), *arr, *f, *props;
	char code[16];
	size_t i;
	uint32_t c;

	J_STR(o, "name", d->reader);
	if (d->vendor[0])
		J_STR(o, "vendor", d->vendor);
	if (d->ifd_type[0])
		J_STR(o, "model", d->ifd_type);
	if (d->ifd_serial[0])
		J_STR(o, "serial", d->ifd_serial);
	if (d->has_ifd_version) {
		snprintf(code, sizeof(code), "%u.%u.%u", d->ifd_version >> 24,
		    (d->ifd_version >> 16) & 0xff, d->ifd_version & 0xffff);
		J_STR(o, "driver_version", code);
	}
	if (d->has_channel) {
		snprintf(code, sizeof(code), "0x%08X", d->channel);
		J_STR(o, "channel", code);
	}
	J_STR(o, "protocol", d->protocol == 0 ? "T=0" : d->protocol == 1 ?
	    "T=1" : "none");
	J_BOOL(o, "extended_length", d->extended);
	J_BOOL(o, "command_chaining", d->chaining);
	arr = json_object_new_array();
	for (i = 0; i < d->features.n; i++) {
		f = json_object_new_object();
		snprintf(code, sizeof(code), "%02X", d->features.f[i].tag);
		J_STR(f, "tag", code);
		J_STR(f, "name", part10_feature_name(d->features.f[i].tag));
		snprintf(code, sizeof(code), "0x%08X", d->features.f[i].code);
		J_STR(f, "control_code", code);
		json_object_array_add(arr, f);
	}
	json_object_object_add(o, "part10_features", arr);
	if (d->features_rc != 0) {
		char note[320];

		snprintf(note, sizeof(note), "the reader refused "
		    "CM_IOCTL_GET_FEATURE_REQUEST: %s (%s); no part 10 features",
		    pcsc_rc_name(d->features_rc), pcsc_rc_text(d->features_rc));
		J_STR(o, "part10_note", note);
	} else if (d->features_why[0]) {
		J_STR(o, "part10_note", d->features_why);
	}
	J_BOOL(o, "pin_pad", part10_find(&d->features,
	    PART10_VERIFY_PIN_DIRECT, &c));
	if (d->has_props) {
		props = json_object_new_object();
		for (i = 0; i < d->props.n; i++)
			J_INT(props, part10_prop_name(d->props.p[i].tag),
			    d->props.p[i].value);
		json_object_object_add(o, "properties", props);
	}
	return o;
}

static json_object *
tries_json(const struct piv_yk_metadata *m)
{
	json_object *o = json_object_new_object();

	if (m->has_retries) {
		J_INT(o, "tries_left", m->retries_left);
		J_INT(o, "tries_total", m->retries_total);
		J_BOOL(o, "blocked", m->retries_left == 0);
	}
	if (m->has_default)
		J_BOOL(o, "factory_default", m->is_default);
	return o;
}

static json_object *
piv_json(const struct pcsc_diag *d)
{
	json_object *o = json_object_new_object(), *arr, *p;
	char hex[72], v[32], txt[PIV_APT_TEXT_MAX + 1];
	char prob[DIAG_TEXT_MAX + 32];
	const char *mp;
	uint8_t aid[32];
	size_t i;

	J_BOOL(o, "present", d->piv);
	if (!d->piv) {
		J_STR(o, "error", pv_strerror(d->select_err));
		return o;
	}
	if (d->apt.present) {
		/* YubiKeys put only the PIX in 4F; the AID is the authority's
		 * RID and that PIX (firmware-notes/yubikey-apt-pix-only.md). */
		if (d->apt.auth_rid_len > 0 &&
		    d->apt.auth_rid_len + d->apt.aid_len <= sizeof(aid) &&
		    (d->apt.aid_len < d->apt.auth_rid_len ||
		    memcmp(d->apt.aid, d->apt.auth_rid,
		    d->apt.auth_rid_len) != 0)) {
			memcpy(aid, d->apt.auth_rid, d->apt.auth_rid_len);
			memcpy(aid + d->apt.auth_rid_len, d->apt.aid,
			    d->apt.aid_len);
			buf_hex_upper(aid, d->apt.auth_rid_len + d->apt.aid_len, hex,
			    sizeof(hex));
			J_STR(o, "aid", hex);
			buf_hex_upper(d->apt.aid, d->apt.aid_len, hex, sizeof(hex));
			J_STR(o, "aid_in_apt", hex);
		} else {
			buf_hex_upper(d->apt.aid, d->apt.aid_len, hex, sizeof(hex));
			J_STR(o, "aid", hex);
		}
		buf_hex_upper(d->apt.auth_rid, d->apt.auth_rid_len, hex, sizeof(hex));
		J_STR(o, "authority", hex);
		if (d->apt.has_label) {
			memcpy(txt, d->apt.label, d->apt.label_len);
			txt[d->apt.label_len] = '\0';
			J_STR(o, "label", txt);
		}
		if (d->apt.has_url) {
			memcpy(txt, d->apt.url, d->apt.url_len);
			txt[d->apt.url_len] = '\0';
			J_STR(o, "url", txt);
		}
		if (d->apt.has_algs) {
			arr = json_object_new_array();
			for (i = 0; i < d->apt.n_algs; i++)
				json_object_array_add(arr, cli_json_str(
				    piv_alg_name(d->apt.algs[i])));
			json_object_object_add(o, "algorithms", arr);
		}
	}
	if (d->has_version) {
		snprintf(v, sizeof(v), "%u.%u.%u", d->version.major,
		    d->version.minor, d->version.patch);
		J_STR(o, "yubikey_version", v);
	}
	if (d->has_serial)
		J_INT(o, "serial", d->serial);
	/* PIN */
	if (d->has_pin_meta) {
		p = tries_json(&d->pin_meta);
	} else {
		p = json_object_new_object();
		if (d->has_pin_status) {
			if (d->pin_status.retries >= 0)
				J_INT(p, "tries_left", d->pin_status.retries);
			J_BOOL(p, "verified", d->pin_status.verified);
			J_BOOL(p, "blocked", d->pin_status.blocked);
		}
	}
	if ((mp = meta_problem(d->pin_meta_err, d->pin_meta_why, prob,
	    sizeof(prob))) != NULL)
		J_STR(p, "metadata_error", mp);
	if (d->pin_tried)
		J_STR(p, "verify_result", d->pin_result == PV_OK ? "PIN accepted" :
		    d->pin_result == PV_E_BLOCKED ? "PIN blocked" :
		    d->pin_result == PV_E_PIN_WRONG ? "wrong PIN" :
		    d->pin_result == PV_E_NOT_SUPPORTED ? "the reader has no "
		    "PIN pad" :
		    d->pin_result == PV_E_TIMEOUT ? "no PIN typed on the pad "
		    "in time" :
		    d->pin_result == PV_E_CANCELLED ? "cancelled on the pad" :
		    d->pin_result == PV_E_INPUT ? "PIN of the wrong length "
		    "typed on the pad" :
		    pv_strerror(d->pin_result));
	json_object_object_add(o, "pin", p);
	if (d->has_puk_meta) {
		p = tries_json(&d->puk_meta);
	} else if ((mp = meta_problem(d->puk_meta_err, d->puk_meta_why, prob,
	    sizeof(prob))) != NULL) {
		p = json_object_new_object();
		J_STR(p, "metadata_error", mp);
	} else {
		p = json_object_new_object();
		J_STR(p, "note", "this card has no way to read the PUK "
		    "counter without spending a try");
	}
	json_object_object_add(o, "puk", p);
	p = json_object_new_object();
	mp = meta_problem(d->mgmt_meta_err, d->mgmt_meta_why, prob,
	    sizeof(prob));
	J_STR(p, "algorithm", d->mgmt_alg_known ? piv_alg_name(d->mgmt_alg) :
	    mp != NULL ? "3-key 3DES (assumed: the card's metadata answer "
	    "is not usable)" : "3-key 3DES (assumed: the card cannot say)");
	if (mp != NULL)
		J_STR(p, "metadata_error", mp);
	if (d->has_mgmt_meta && d->mgmt_meta.has_default)
		J_BOOL(p, "factory_default", d->mgmt_meta.is_default);
	else if (d->mgmt_default_tested)
		J_BOOL(p, "factory_default", d->mgmt_is_default);
	else if (mp != NULL)
		J_STR(p, "factory_default_note", "unknown: the card's metadata "
		    "answer is not usable (see metadata error); "
		    "--try-default-key tests it (one authentication)");
	else
		J_STR(p, "factory_default_note", "unknown: the card has no "
		    "metadata; --try-default-key tests it (one authentication)");
	if (d->has_mgmt_meta && d->mgmt_meta.has_policy)
		J_STR(p, "touch_policy",
		    touch_policy_name(d->mgmt_meta.touch_policy));
	if (d->yk_admin_read && d->yk_admin.err == PV_OK) {
		/* Where ykman keeps the key (issuance/yk_protected.h). */
		struct ykp_token t;

		ykp_token_from(d->yk_admin.data, d->yk_admin.len, &t);
		if (ykp_describe(&t) != NULL)
			J_STR(p, "protection", ykp_describe(&t));
		else if (t.malformed)
			J_STR(p, "admin_data", "malformed (5FFF00): ykman and "
			    "yubico-piv-tool will not read it");
		OPENSSL_cleanse(&t, sizeof(t));
	}
	json_object_object_add(o, "management_key", p);
	return o;
}

static void
obj_status(const struct pcsc_diag_obj *ob, json_object *o)
{
	J_BOOL(o, "present", ob->err == PV_OK);
	if (ob->err != PV_OK && ob->err != PV_E_NOT_FOUND)
		J_STR(o, "error", ob->why[0] ? ob->why : pv_strerror(ob->err));
	if (ob->err == PV_OK) {
		J_INT(o, "bytes", ob->len);
		if (!ob->parsed)
			J_STR(o, "malformed", ob->parse_why);
	}
}

/*
 * The CHUID signature (PIV-REFERENCE §6) as card_binding_chuid checked
 * it: against the certificate it carries, which must have the content
 * signing EKU; the signer's path is the validator's part.
 */
static void
chuid_signature(const struct card_binding *b, json_object *o)
{
	if (b->content_type[0] != '\0') {
		J_STR(o, "signature_content_type", b->content_type);
		J_BOOL(o, "signature_content_type_ok",
		    strcmp(b->content_type, PKIX_OID_PIV_CHUID_SECURITY_OBJECT) == 0);
	}
	if (b->signer[0] != '\0')
		J_STR(o, "signer", b->signer);
	J_BOOL(o, "signature_valid", b->sig == PV_OK);
	if (b->sig != PV_OK)
		J_STR(o, "signature_error", b->sig_why);
}

static json_object *
chuid_json(const struct pcsc_diag *d, const struct card_binding *b)
{
	json_object *o = json_object_new_object();
	const struct piv_chuid *c = &d->chuid_v;
	struct fascn f;
	struct pv_why w = { { 0 } };
	char s[FASCN_TEXT_LEN], u[PKIX_UUID_STR_LEN];

	obj_status(&d->chuid, o);
	if (!d->chuid.parsed)
		return o;
	if (fascn_decode(c->fascn, FASCN_LEN, &f, &w) == PV_OK) {
		fascn_to_string(&f, s);
		J_STR(o, "fasc_n", s);
		fascn_describe(&f, s, sizeof(s));
		J_STR(o, "fasc_n_fields", s);
		J_BOOL(o, "fasc_n_non_federal", fascn_is_nonfederal(&f));
	} else {
		J_STR(o, "fasc_n_error", w.msg);
	}
	pkix_uuid_str(c->guid, u);
	J_STR(o, "guid", u);
	snprintf(s, sizeof(s), "%.4s-%.2s-%.2s", c->expiry, c->expiry + 4,
	    c->expiry + 6);
	J_STR(o, "expiry", s);
	if (c->has_cardholder_uuid) {
		pkix_uuid_str(c->cardholder_uuid, u);
		J_STR(o, "cardholder_uuid", u);
	}
	J_BOOL(o, "signed", c->signature.len > 0);
	J_INT(o, "signature_bytes", c->signature.len);
	if (c->signature.len > 0)
		chuid_signature(b, o);
	return o;
}

static json_object *
ccc_json(const struct pcsc_diag *d)
{
	json_object *o = json_object_new_object();
	char hex[96];

	obj_status(&d->ccc, o);
	if (!d->ccc.parsed)
		return o;
	buf_hex_upper(d->ccc_v.card_id.p, d->ccc_v.card_id.len, hex, sizeof(hex));
	J_STR(o, "card_identifier", hex);
	buf_hex_upper(d->ccc_v.cc_version.p, d->ccc_v.cc_version.len, hex, sizeof(hex));
	J_STR(o, "container_version", hex);
	buf_hex_upper(d->ccc_v.grammar_version.p, d->ccc_v.grammar_version.len, hex,
	    sizeof(hex));
	J_STR(o, "grammar_version", hex);
	snprintf(hex, sizeof(hex), "%02X", d->ccc_v.data_model);
	J_STR(o, "data_model", hex);
	return o;
}

static json_object *
discovery_json(const struct pcsc_diag *d)
{
	json_object *o = json_object_new_object();
	const struct piv_discovery *v = &d->discovery_v;
	char hex[40];

	obj_status(&d->discovery, o);
	if (!d->discovery.parsed)
		return o;
	buf_hex_upper(v->aid, v->aid_len, hex, sizeof(hex));
	J_STR(o, "aid", hex);
	buf_hex_upper(v->policy, 2, hex, sizeof(hex));
	J_STR(o, "pin_policy", hex);
	J_BOOL(o, "piv_pin", v->policy[0] & PIV_POLICY_PIV_PIN);
	J_BOOL(o, "global_pin", v->policy[0] & PIV_POLICY_GLOBAL_PIN);
	J_BOOL(o, "occ", v->policy[0] & PIV_POLICY_OCC);
	J_BOOL(o, "vci", v->policy[0] & PIV_POLICY_VCI);
	J_STR(o, "primary_pin", !(v->policy[0] & PIV_POLICY_GLOBAL_PIN) ?
	    "PIV PIN" : v->policy[1] == PIV_POLICY2_GLOBAL_PIN ? "global PIN" :
	    "PIV PIN");
	return o;
}

static json_object *
keyhist_json(const struct pcsc_diag *d)
{
	json_object *o = json_object_new_object();
	char url[128];

	obj_status(&d->keyhist, o);
	if (!d->keyhist.parsed)
		return o;
	J_INT(o, "on_card", d->keyhist_v.on_card);
	J_INT(o, "off_card", d->keyhist_v.off_card);
	if (d->keyhist_v.has_url) {
		snprintf(url, sizeof(url), "%.*s", (int)d->keyhist_v.url.len,
		    (const char *)d->keyhist_v.url.p);
		J_STR(o, "url", url);
	}
	return o;
}

static json_object *
stats_json(const struct pcsc_session_stats *st)
{
	json_object *o = json_object_new_object();

	J_INT(o, "apdus", st->tr.n_apdus);
	J_INT(o, "get_response", st->apdu.n_get_response);
	J_INT(o, "chained", st->apdu.n_chained);
	J_INT(o, "extended", st->apdu.n_extended);
	J_INT(o, "bytes_sent", st->tr.bytes_out);
	J_INT(o, "bytes_received", st->tr.bytes_in);
	json_object_object_add(o, "ms_in_transmit",
	    json_ms((double)st->tr.ns_transmit / 1e6));
	json_object_object_add(o, "ms_total",
	    json_ms((double)st->ns_total / 1e6));
	J_INT(o, "card_resets", st->tr.n_resets);
	return o;
}

json_object *
cli_diag_json(const struct pcsc_diag *d, bool with_stats)
{
	json_object *o = json_object_new_object(), *l;
	struct card_binding b;

	card_binding_chuid(d->chuid.err == PV_OK ? d->chuid.data : NULL,
	    d->chuid.len, &b, NULL);
	json_object_object_add(o, "reader", reader_json(d));
	json_object_object_add(o, "card", cli_atr_json(d->atr, d->atr_len));
	json_object_object_add(o, "piv", piv_json(d));
	if (d->piv) {
		json_object_object_add(o, "chuid", chuid_json(d, &b));
		json_object_object_add(o, "ccc", ccc_json(d));
		json_object_object_add(o, "discovery", discovery_json(d));
		json_object_object_add(o, "key_history", keyhist_json(d));
		json_object_object_add(o, "certificates", certs_json(d, &b));
	}
	if (d->latency.n > 0) {
		l = json_object_new_object();
		J_INT(l, "exchanges", d->latency.n);
		json_object_object_add(l, "min_ms", json_ms((double)d->latency.min_us / 1e3));
		json_object_object_add(l, "median_ms", json_ms((double)d->latency.median_us / 1e3));
		json_object_object_add(l, "max_ms", json_ms((double)d->latency.max_us / 1e3));
		json_object_object_add(o, "latency", l);
	}
	J_INT(o, "resets_survived", d->n_recoveries);
	J_BOOL(o, "security_status_lost", d->security_lost);
	if (with_stats)
		json_object_object_add(o, "stats", stats_json(&d->stats));
	return o;
}

/* ---- text rendering of the same tree ------------------------------------- */

static void
text_key(const char *k, char *out, size_t cap)
{
	size_t i;

	for (i = 0; k[i] != '\0' && i + 1 < cap; i++)
		out[i] = k[i] == '_' ? ' ' : k[i];
	out[i] = '\0';
}

static void text_obj(json_object *o, int depth);

static void
text_value(const char *key, json_object *v, int depth)
{
	char k[64];
	size_t i, n;

	text_key(key, k, sizeof(k));
	if (v == NULL) {
		printf("%*s%-22s -\n", depth * 2, "", k);
		return;
	}
	switch (json_object_get_type(v)) {
	case json_type_object:
		printf("%*s%s:\n", depth * 2, "", k);
		text_obj(v, depth + 1);
		break;
	case json_type_array:
		n = json_object_array_length(v);
		if (n == 0) {
			printf("%*s%-22s none\n", depth * 2, "", k);
			break;
		}
		if (json_object_get_type(json_object_array_get_idx(v, 0)) ==
		    json_type_object) {
			printf("%*s%s:\n", depth * 2, "", k);
			for (i = 0; i < n; i++) {
				printf("%*s-\n", depth * 2 + 2, "");
				text_obj(json_object_array_get_idx(v, i),
				    depth + 2);
			}
			break;
		}
		printf("%*s%-22s ", depth * 2, "", k);
		for (i = 0; i < n; i++) {
			printf("%s", i ? ", " : "");
			cli_print_safe(stdout, json_object_get_string(
			    json_object_array_get_idx(v, i)), 0);
		}
		printf("\n");
		break;
	case json_type_boolean:
		printf("%*s%-22s %s\n", depth * 2, "", k,
		    json_object_get_boolean(v) ? "yes" : "no");
		break;
	default:
		printf("%*s%-22s ", depth * 2, "", k);
		cli_print_safe(stdout, json_object_get_string(v), 0);
		printf("\n");
		break;
	}
}

static void
text_obj(json_object *o, int depth)
{
	json_object_object_foreach(o, key, val)
		text_value(key, val, depth);
}

static void
diag_text(const struct pcsc_diag *d, json_object *doc)
{
	json_object_object_foreach(doc, key, val) {
		if (strcmp(key, "card") == 0) {
			printf("card:\n");
			(void)cli_atr_print(stdout, d->atr, d->atr_len, "  ");
			continue;
		}
		text_value(key, val, 0);
	}
}

/* ---- the command --------------------------------------------------------- */

static void
diag_usage(FILE *f)
{
	fprintf(f,
	    "usage: pivstation diag [-r READER] [--json] [--latency N]\n"
	    "                       [--pin-stdin | --pin-pad] [--try-default-key]\n"
	    "                       [--stats]\n"
	    "                       [--trace FILE [--trace-json]]\n"
	    "\n"
	    "Everything about one reader and the PIV card or key in it: reader\n"
	    "and driver facts, part 10 features (PIN pad), the ATR decoded and\n"
	    "identified, the protocol; the PIV application (AID, label,\n"
	    "algorithms), YubiKey version, serial and metadata, PIN and PUK\n"
	    "tries left, the management key's algorithm, whether it is the\n"
	    "factory default and whether ykman keeps it on the token for the\n"
	    "PIN; CHUID (FASC-N fields, GUID, expiry, signature\n"
	    "checked against its signer), CCC, Discovery (PIN usage policy),\n"
	    "Key History and every certificate (subject, issuer, serial,\n"
	    "validity, key, policies, SAN FASC-N/UUID and whether they match\n"
	    "the CHUID, whether it matches the key in the slot).\n"
	    "\n"
	    "  -r READER          index, name part, serial:N or guid:HEX\n"
	    "  --latency N        time N GET DATA round trips (min/median/max)\n"
	    "  --pin-stdin        read the PIN from standard input and VERIFY it\n"
	    "                     first (a wrong PIN costs a try; never traced)\n"
	    "  --pin-pad          VERIFY the PIN typed on the reader's PIN pad\n"
	    "                     first (the PIN never reaches pivstation)\n"
	    "  --try-default-key  when the card cannot say, test whether the\n"
	    "                     management key is the factory default (one\n"
	    "                     authentication attempt)\n"
	    "  --stats            APDU counts and bytes of the probe on stderr\n"
	    "  --json             one JSON document\n");
}

static void
diag_log(void *arg, const char *fmt, ...)
{
	va_list ap;

	(void)arg;
	fputs("pivstation: debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_cmd_diag(struct cli_global *g, int argc, char **argv)
{
	enum { OPT_LATENCY = CLI_OPT__NEXT, OPT_TRY_DEFAULT, OPT_PIN_STDIN,
	    OPT_PIN_PAD };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "latency", required_argument, NULL, OPT_LATENCY },
		{ "try-default-key", no_argument, NULL, OPT_TRY_DEFAULT },
		{ "pin-stdin", no_argument, NULL, OPT_PIN_STDIN },
		{ "pin-pad", no_argument, NULL, OPT_PIN_PAD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pcsc_session_opts so;
	struct pcsc_diag_opts dopts;
	struct pcsc_session *s = NULL;
	struct pcsc_diag *d = NULL;
	struct pv_why why = { { 0 } };
	json_object *doc = NULL;
	char line[512], pin[16];
	bool pin_stdin = false;
	enum pv_err r;
	unsigned long long v;
	int c, rc = CLI_EXIT_FAIL;

	memset(&so, 0, sizeof(so));
	memset(&dopts, 0, sizeof(dopts));
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS "h", longopts,
	    NULL)) != -1) {
		if (cli_global_opt(g, c, optarg))
			continue;
		switch (c) {
		case OPT_LATENCY:
			if (!buf_dec_uint(optarg, 100000, &v))
				return cli_usage_error("diag", "--latency takes a "
				    "count from 0 to 100000");
			dopts.latency_n = (unsigned)v;
			break;
		case OPT_TRY_DEFAULT:
			dopts.try_default_mgmt = true;
			break;
		case OPT_PIN_STDIN:
			pin_stdin = true;
			break;
		case OPT_PIN_PAD:
			dopts.pin_pad = true;
			break;
		case 'h':
			diag_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("diag", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("diag", "unexpected argument '%s'",
		    argv[optind]);
	if (pin_stdin && dopts.pin_pad)
		return cli_usage_error("diag", "--pin-stdin and --pin-pad "
		    "exclude each other");
	if (dopts.pin_pad)
		fprintf(stderr, "pivstation: diag: the cardholder types the PIN "
		    "on the reader's PIN pad\n");
	if (pin_stdin) {
		size_t n;

		if (fgets(pin, sizeof(pin), stdin) == NULL) {
			cli_error("diag: --pin-stdin: no PIN on standard input");
			return CLI_EXIT_INPUT;
		}
		n = strcspn(pin, "\r\n");
		pin[n] = '\0';
		if (n < 6 || n > 8) {
			OPENSSL_cleanse(pin, sizeof(pin));
			cli_error("diag: --pin-stdin: the PIN must be 6 to 8 "
			    "characters, got %zu", n);
			return CLI_EXIT_INPUT;
		}
		dopts.pin = (const uint8_t *)pin;
		dopts.pin_len = n;
	}
	so.reader = g->reader;
	so.trace_path = g->trace_path;
	so.trace_json = g->trace_json;
	so.share = PCSC_SHARE_SHARED;
	if (g->verbose)
		so.log = diag_log;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		cli_error("diag: out of memory");
		goto out;
	}
	if ((r = pcsc_session_open(&so, &s, &why)) != PV_OK) {
		cli_error("diag: %s", why.msg[0] ? why.msg : pv_strerror(r));
		rc = cli_exit_for(r);
		goto out;
	}
	r = pcsc_diag_run(s, &dopts, d, &why);
	if (r != PV_OK) {
		uint32_t prc = pcsc_ctx_last_rc(s->ctx);

		cli_error("diag: %s%s%s%s%s", why.msg[0] ? why.msg :
		    pv_strerror(r), prc ? " (" : "", prc ?
		    pcsc_ctx_last_call(s->ctx) : "", prc ? ": " : "",
		    prc ? pcsc_rc_text(prc) : "");
		if (prc)
			fprintf(stderr, "pivstation: diag: %s = %s\n",
			    pcsc_rc_name(prc), pcsc_rc_text(prc));
	}
	doc = cli_diag_json(d, g->stats);
	if (g->json) {
		cli_json_doc(doc);
		doc = NULL;
	} else {
		diag_text(d, doc);
	}
	fflush(stdout);
	if (g->stats) {
		pcsc_stats_format(&d->stats, line, sizeof(line));
		fprintf(stderr, "stats: diag probe: %s\n", line);
	}
	rc = cli_exit_for(r);
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	json_object_put(doc);
	if (d != NULL)
		pcsc_diag_cleanup(d);
	free(d);
	pcsc_session_close(s);
	return rc;
}
