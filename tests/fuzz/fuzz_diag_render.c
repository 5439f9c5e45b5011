/*
 * fuzz_diag_render.c: what `pivstation diag` does with the card's bytes
 * after the probe: the JSON description (cli/cmd_diag.c) of a hostile
 * SELECT answer, CHUID (its CMS signature and the certificate inside it),
 * YubiKey metadata (its public key made into an EVP_PKEY and compared)
 * and certificate (subject, issuer, serial, dates, key, policies, SAN
 * FASC-N/UUID compared with the CHUID).  fuzz_diag reaches these parsers
 * through the real pcsc glue but can hardly grow a valid X.509 in its
 * chunk stream; here the probe's result is filled in directly.
 *
 * Input: byte 0 = flags (b0: the last part is a certificate container
 * to unwrap and inflate, else DER as is; b1: with stats); then four
 * parts of (length high, length low, bytes): ATR, SELECT answer, CHUID
 * content, GET METADATA answer; the rest is the certificate.  Checked:
 * the document serialises and parses back as one JSON object, and a GET
 * METADATA answer that does not parse is reported as malformed, never as
 * "no metadata".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "apdu/buf.h"
#include "apdu/piv_pkey.h"
#include "cli/cmd_diag.h"
#include "pcsc/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The ATR section reads smartcard_list.txt on every call (480 KB on
 * Debian): 30 runs a second.  The list has its own target (atr_list);
 * here it is empty.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("PIVSTATION_SMARTCARD_LIST", "/dev/null", 1);
	return 0;
}

/* The next length-prefixed part; a length past the end takes the rest. */
static void
part(struct buf_cur *in, struct buf_cur *out)
{
	uint16_t n;

	if (!buf_get_u16(in, &n)) {
		buf_cur_init(out, NULL, 0);
		buf_skip(in, in->len);
		return;
	}
	if (n > in->len)
		n = (uint16_t)in->len;
	(void)buf_get_sub(in, n, out);
}

static uint8_t *
dup_bytes(const struct buf_cur *c)
{
	uint8_t *p = malloc(c->len + 1);

	if (p != NULL && c->len > 0)
		memcpy(p, c->p, c->len);
	return p;
}

static void
check_json(json_object *doc)
{
	struct json_tokener *tok;
	json_object *back;
	const char *s;
	size_t n;

	s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		return;		/* out of memory */
	n = strlen(s);
	if (n > INT32_MAX || (tok = json_tokener_new()) == NULL)
		return;
	back = json_tokener_parse_ex(tok, s, (int)n);
	if (back == NULL || !json_object_is_type(back, json_type_object))
		__builtin_trap();	/* diag --json must print JSON */
	json_object_put(back);
	json_tokener_free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcsc_diag d;
	struct pcsc_diag_cert *c = &d.certs[0];
	struct buf_cur in, atr, apt, chuid, meta;
	struct piv_certobj co;
	struct piv_apt a;
	EVP_PKEY *pk = NULL;
	json_object *doc;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	buf_cur_init(&in, data + 1, size - 1);
	part(&in, &atr);
	part(&in, &apt);
	part(&in, &chuid);
	part(&in, &meta);

	memset(&d, 0, sizeof(d));
	snprintf(d.reader, sizeof(d.reader), "Fuzz Reader 00 00");
	d.protocol = 1;
	d.atr_len = atr.len < sizeof(d.atr) ? atr.len : sizeof(d.atr);
	if (d.atr_len > 0)
		memcpy(d.atr, atr.p, d.atr_len);
	d.piv = true;
	if (piv_apt_parse(apt.p, apt.len, &a, NULL) == PV_OK)
		d.apt = a;

	d.chuid.tag = PIV_OBJ_CHUID;
	d.chuid.err = PV_OK;
	if ((d.chuid.data = dup_bytes(&chuid)) == NULL)
		goto out;
	d.chuid.len = chuid.len;
	d.chuid.parsed = piv_chuid_parse(d.chuid.data, d.chuid.len,
	    &d.chuid_v, NULL) == PV_OK;
	d.ccc.err = d.discovery.err = d.keyhist.err = PV_E_NOT_FOUND;

	d.n_certs = 1;
	c->key = PIV_KEY_AUTH;
	c->obj.tag = PIV_OBJ_AUTH_CERT;
	c->obj.err = PV_OK;
	if ((c->obj.data = dup_bytes(&in)) == NULL)
		goto out;
	c->obj.len = in.len;
	if (flags & 1) {
		if (piv_certobj_parse(c->obj.data, c->obj.len, &co, NULL) ==
		    PV_OK) {
			c->compressed = co.compressed;
			c->obj.parsed = piv_certobj_cert(&co, 0, &c->der,
			    &c->der_len, NULL) == PV_OK;
		}
	} else {
		c->obj.parsed = true;
		if ((c->der = dup_bytes(&in)) == NULL)
			goto out;
		c->der_len = in.len;
	}
	if (piv_yk_metadata_parse(meta.p, meta.len, &c->meta, NULL) == PV_OK) {
		c->has_meta = true;
		d.pin_meta = c->meta;
		d.has_pin_meta = true;
		/* The card's public key, as diag compares it with the cert. */
		if (c->meta.has_pubkey &&
		    piv_pubkey_to_evp(&c->meta.pubkey, &pk, NULL) == PV_OK &&
		    pk == NULL)
			__builtin_trap();
		EVP_PKEY_free(pk);
	} else {
		/* A GET METADATA answer that does not parse, as the probe
		 * records it (pcsc/diag.c): never "no metadata". */
		d.has_version = true;
		d.version.major = 5;
		d.version.minor = 4;
		d.pin_meta_err = d.puk_meta_err = d.mgmt_meta_err =
		    c->meta_err = PV_E_MALFORMED;
		snprintf(c->meta_why, sizeof(c->meta_why), "GET METADATA 9A: "
		    "malformed");
	}

	if ((doc = cli_diag_json(&d, (flags & 2) != 0)) != NULL) {
		check_json(doc);
		if (c->meta_err == PV_E_MALFORMED && strstr(
		    json_object_to_json_string(doc), "has no metadata") != NULL)
			__builtin_trap();	/* a broken answer is no absence */
		json_object_put(doc);
	}
out:
	pcsc_diag_cleanup(&d);
	ERR_clear_error();
	return 0;
}
