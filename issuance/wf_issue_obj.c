/*
 * wf_issue_obj.c: what primary issuance writes to a card, built from the
 * job's facts (PIV-REFERENCE §4-6): FASC-N, the signed CHUID, CCC,
 * Discovery Object, Key History, Printed Information; plus the small
 * helpers the workflow shares (hex, JSON step details, SPKI hashes, the
 * derived PUK, dates).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "apdu/piv_obj.h"
#include "issuance/ca.h"
#include "issuance/chuid.h"
#include "issuance/wf_issue_int.h"

/* ---- small helpers ------------------------------------------------------------ */

static json_object *
wf_json_member(const char *json, const char *key, json_object **root)
{
	json_object *v = NULL;

	*root = json != NULL && json[0] != '\0' ? json_tokener_parse(json) :
	    NULL;
	if (*root == NULL || !json_object_is_type(*root, json_type_object) ||
	    !json_object_object_get_ex(*root, key, &v))
		return NULL;
	return v;
}

bool
wf_json_str(const char *json, const char *key, char *out, size_t cap)
{
	json_object *root, *v = wf_json_member(json, key, &root);
	const char *s;
	bool ok = false;

	if (cap > 0)
		out[0] = '\0';
	if (v != NULL && json_object_is_type(v, json_type_string) &&
	    (s = json_object_get_string(v)) != NULL && strlen(s) < cap) {
		strcpy(out, s);
		ok = true;
	}
	json_object_put(root);
	return ok;
}

bool
wf_json_i64(const char *json, const char *key, int64_t *out)
{
	json_object *root, *v = wf_json_member(json, key, &root);
	bool ok = false;

	*out = 0;
	if (v != NULL && json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		ok = true;
	}
	json_object_put(root);
	return ok;
}

bool
wf_json_bool(const char *json, const char *key, bool *out)
{
	json_object *root, *v = wf_json_member(json, key, &root);
	bool ok = false;

	*out = false;
	if (v != NULL && json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v) != 0;
		ok = true;
	}
	json_object_put(root);
	return ok;
}

enum pv_err
wf_spki_b64(EVP_PKEY *pkey, char *out, size_t cap, struct pv_why *why)
{
	unsigned char *der = NULL;
	int len;
	enum pv_err r = PV_OK;

	len = i2d_PUBKEY(pkey, &der);
	if (len <= 0)
		r = pkix_crypto_err(why, "public key encoding");
	else if ((size_t)(4 * ((len + 2) / 3)) + 1 > cap)
		r = pv_why_set(why, PV_E_TOO_LONG, "public key too long for "
		    "the job record");
	else
		(void)EVP_EncodeBlock((unsigned char *)out, der, len);
	OPENSSL_free(der);
	return r;
}

enum pv_err
wf_spki_from_b64(const char *b64, EVP_PKEY **out, struct pv_why *why)
{
	unsigned char der[1024];
	const unsigned char *p = der;
	size_t n = strlen(b64);
	int len, pad = 0;

	*out = NULL;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(der))
		return pv_why_set(why, PV_E_MALFORMED, "job record: public key "
		    "is not base64");
	len = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n);
	if (len < 0)
		return pv_why_set(why, PV_E_MALFORMED, "job record: public key "
		    "is not base64");
	if (b64[n - 1] == '=')
		pad++;
	if (b64[n - 2] == '=')
		pad++;
	*out = d2i_PUBKEY(NULL, &p, len - pad);
	if (*out == NULL)
		return pkix_crypto_err(why, "job record: public key");
	return PV_OK;
}

/* ---- dates -------------------------------------------------------------------- */

static bool
wf_gmtime(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	return t > 0 && gmtime_r(&tt, tm) != NULL && tm->tm_year + 1900 <= 9999;
}

bool
wf_chuid_date(int64_t t, char out[9])
{
	struct tm tm;

	if (!wf_gmtime(t, &tm))
		return false;
	/* The ranges are spelt out so the compiler sees the digits fit. */
	(void)snprintf(out, 9, "%04u%02u%02u",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
	return true;
}

bool
wf_printed_date(int64_t t, char out[10])
{
	static const char mon[12][4] = { "JAN", "FEB", "MAR", "APR", "MAY",
		"JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
	struct tm tm;

	if (!wf_gmtime(t, &tm))
		return false;
	(void)snprintf(out, 10, "%04u%s%02u",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    mon[(unsigned)tm.tm_mon % 12u], (unsigned)tm.tm_mday % 100u);
	return true;
}

/* ---- PUK ---------------------------------------------------------------------- */

/*
 * Why the PUK is derived: it must be random per issuance (a PUK known to
 * anyone but the station and, through escrow, the KRA is worth nothing),
 * yet a resumed job must know the plaintext to set or check it on the card
 * without opening the escrow, which needs the KRA's key and passphrase that
 * an issuing station does not hold.  Deriving it from the station master
 * secret, the card's GUID and a random 16-byte salt drawn once per job and
 * kept in the job's register step gives both: the salt makes it random per
 * issuance (a re-issue of the same card gets a new one), and nothing
 * secret is stored, since the salt alone reveals nothing without the
 * master secret.  A value that is a weak PIN (config_pin_weakness: the
 * factory PUK, one digit repeated, a run; 16 of 10^8) is derived again
 * with a counter, so the same inputs always give the same PUK.
 */
enum pv_err
wf_puk_derive(const struct secret_master *m, const uint8_t guid[16],
    const uint8_t salt[16], char out[9])
{
	uint8_t ctx[33], v[16];
	uint64_t x = 0;
	enum pv_err r = PV_E_CRYPTO;
	int i;
	uint8_t n;

	memcpy(ctx, guid, 16);
	memcpy(ctx + 16, salt, 16);
	/* The first derivation has no counter: PUKs of jobs made before the
	 * weak-value rule are derived as they were. */
	for (n = 0; n < 16; n++) {
		ctx[32] = n;
		r = secret_derive(m, "pivstation PUK v1", ctx, n == 0 ? 32 : 33,
		    v, sizeof(v));
		if (r != PV_OK)
			break;
		/* 64 bits mod 10^8: the bias is below 10^-11. */
		for (x = 0, i = 0; i < 8; i++)
			x = x << 8 | v[i];
		(void)snprintf(out, 9, "%08" PRIu64, x % 100000000u);
		if (config_pin_weakness(CONFIG_PIN_REFUSE_ALL,
		    (const uint8_t *)out, 8) == NULL)
			break;
		r = PV_E_CRYPTO;	/* 16 weak values running: broken */
	}
	if (r != PV_OK)
		OPENSSL_cleanse(out, 9);
	OPENSSL_cleanse(ctx, sizeof(ctx));
	OPENSSL_cleanse(v, sizeof(v));
	OPENSSL_cleanse(&x, sizeof(x));
	return r;
}

/* ---- FASC-N and CHUID ------------------------------------------------------------- */

enum pv_err
wf_fascn_make(const struct pv_config *cfg, const struct identity *id,
    uint32_t cred, uint8_t out[FASCN_LEN], char out_str[FASCN_STR_LEN],
    struct pv_why *why)
{
	struct fascn f;
	enum pv_err r;

	memset(&f, 0, sizeof(f));
	(void)snprintf(f.ac, sizeof(f.ac), "%s", cfg->agency_code);
	(void)snprintf(f.sc, sizeof(f.sc), "%s", cfg->system_code);
	(void)snprintf(f.cn, sizeof(f.cn), "%06u", cred % 1000000u);
	(void)snprintf(f.cs, sizeof(f.cs), "%u", cfg->credential_series % 10);
	(void)snprintf(f.ici, sizeof(f.ici), "%u",
	    cfg->individual_credential_issue % 10);
	(void)snprintf(f.pi, sizeof(f.pi), "%s", id->person_id);
	(void)snprintf(f.oc, sizeof(f.oc), "%u",
	    cfg->organizational_category % 10);
	(void)snprintf(f.oi, sizeof(f.oi), "%s", cfg->organization_identifier);
	(void)snprintf(f.poa, sizeof(f.poa), "%u", cfg->person_association % 10);
	if ((r = fascn_encode(&f, out, why)) != PV_OK)
		return r;
	fascn_to_string(&f, out_str);
	return PV_OK;
}

/*
 * The CHUID: 30 FASC-N, 34 GUID, 35 expiry, 3E signature, FE.  The
 * signature covers the same elements built without it (3E and EE are not
 * signed; PIV-REFERENCE §6), so the object is built twice: unsigned for
 * the to-be-signed bytes, then with the signature.
 */
enum pv_err
wf_build_chuid(struct wf *w, struct buf_out *out, struct pv_why *why)
{
	struct piv_chuid ch;
	struct buf_out unsig, tbs;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	enum pv_err r = PV_E_INTERNAL;

	memset(&ch, 0, sizeof(ch));
	memset(&unsig, 0, sizeof(unsig));
	memset(&tbs, 0, sizeof(tbs));
	memcpy(ch.fascn, w->fascn, FASCN_LEN);
	memcpy(ch.guid, w->guid, sizeof(ch.guid));
	if (!wf_chuid_date(w->expires, ch.expiry)) {
		r = pv_why_set(why, PV_E_INTERNAL, "CHUID: expiry out of range");
		goto out;
	}
	if (!buf_out_alloc(&unsig, 128, 4096) || !buf_out_alloc(&tbs, 128,
	    4096)) {
		r = PV_E_NOMEM;
		goto out;
	}
	if ((r = piv_chuid_build(&ch, &unsig, why)) != PV_OK ||
	    (r = piv_chuid_tbs(unsig.p, unsig.len, &tbs, why)) != PV_OK)
		goto out;
	if ((r = chuid_sign(ca_get0_signer(w->p->ca),
	    ca_get0_signer_key(w->p->ca), tbs.p, tbs.len, &sig, &sig_len,
	    why)) != PV_OK)
		goto out;
	buf_cur_init(&ch.signature, sig, sig_len);
	r = piv_chuid_build(&ch, out, why);
out:
	OPENSSL_free(sig);
	buf_out_cleanup(&unsig);
	buf_out_cleanup(&tbs);
	return r;
}

/* ---- CCC, Discovery, Key History, Printed Information ------------------------------ */

enum pv_err
wf_build_ccc(struct wf *w, struct buf_out *out, struct pv_why *why)
{
	/* F0: GSC-IS RID A0 00 00 01 16, manufacturer FF, card type 02
	 * (Java Card), 14-byte card identifier: here the GUID's first 14
	 * bytes, so it is unique per card and the same on every run. */
	uint8_t card_id[21] = { 0xa0, 0x00, 0x00, 0x01, 0x16, 0xff, 0x02 };
	static const uint8_t v21 = 0x21, zero = 0x00;
	struct piv_ccc c;

	memcpy(card_id + 7, w->guid, 14);
	memset(&c, 0, sizeof(c));
	buf_cur_init(&c.card_id, card_id, sizeof(card_id));
	buf_cur_init(&c.cc_version, &v21, 1);
	buf_cur_init(&c.grammar_version, &v21, 1);
	buf_cur_init(&c.pkcs15, &zero, 1);
	c.data_model = PIV_CCC_DATA_MODEL;
	return piv_ccc_build(&c, out, why);
}

enum pv_err
wf_build_discovery(struct buf_out *out, struct pv_why *why)
{
	static const uint8_t aid[] = { PIV_AID_BYTES };
	struct piv_discovery d;

	memset(&d, 0, sizeof(d));
	memcpy(d.aid, aid, sizeof(aid));
	d.aid_len = sizeof(aid);
	d.policy[0] = PIV_POLICY_PIV_PIN;	/* plain card: 40 00 */
	d.policy[1] = 0x00;
	return piv_discovery_build(&d, out, why);
}

enum pv_err
wf_build_keyhist(struct buf_out *out, struct pv_why *why)
{
	struct piv_keyhist k;

	memset(&k, 0, sizeof(k));	/* no retired keys on a new card */
	return piv_keyhist_build(&k, out, why);
}

static void
wf_view(struct buf_cur *c, const char *s)
{
	buf_cur_init(c, s, strlen(s));
}

enum pv_err
wf_build_printed(struct wf *w, struct buf_out *out, struct pv_why *why)
{
	const struct identity *id = w->p->ident;
	struct piv_printed pr;
	char name[IDENTITY_NAME_MAX + 1], exp[10], serial[24];
	enum pv_err r;

	memset(&pr, 0, sizeof(pr));
	if ((r = identity_printed_name(id, name, sizeof(name))) != PV_OK)
		return pv_why_set(why, r, "printed information: the name "
		    "\"Family, Given Middle\" is longer than 125 bytes");
	if (!wf_printed_date(w->expires, exp))
		return pv_why_set(why, PV_E_INTERNAL, "printed information: "
		    "expiry out of range");
	/* The agency card serial from the identity, else the FASC-N's
	 * credential number, which is unique per card too. */
	if (id->agency_card_serial[0] != '\0')
		(void)snprintf(serial, sizeof(serial), "%s",
		    id->agency_card_serial);
	else
		(void)snprintf(serial, sizeof(serial), "%06u", w->cred);
	wf_view(&pr.name, name);
	wf_view(&pr.affiliation, id->affiliation);
	wf_view(&pr.expiry, exp);
	wf_view(&pr.serial, serial);
	wf_view(&pr.issuer, w->p->cfg->issuer_id);
	if (id->org_affiliation_1[0] != '\0') {
		pr.has_org1 = true;
		wf_view(&pr.org1, id->org_affiliation_1);
	}
	if (id->org_affiliation_2[0] != '\0') {
		pr.has_org2 = true;
		wf_view(&pr.org2, id->org_affiliation_2);
	}
	return piv_printed_build(&pr, out, why);
}
