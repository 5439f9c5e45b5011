/*
 * piv_auth.c: authentication with the card administration key 9B
 * (SP 800-73-4 Part 2 §3.2.4 and Appendix A.1/A.2; PIV-REFERENCE §2.5).
 *
 * Mutual authentication, two GENERAL AUTHENTICATE exchanges:
 *   1. 7C { 80 00 }                      -> 7C { 80 E_k(witness) }
 *   2. 7C { 80 witness, 81 challenge }   -> 7C { 82 E_k(challenge) }
 * The card proves it knows k by its answer to our challenge, which we
 * check in constant time; we prove it by decrypting its witness.
 * Step 2 is sent without the trailing empty 82 of the spec's example, as
 * OpenSC and yubico-piv-tool send it (cards accept both).
 *
 * ECB without padding over one block: 3DES (8-byte blocks, 24-byte key)
 * or AES (16-byte blocks, 16/24/32-byte keys), OpenSSL EVP.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "apdu/piv.h"
#include "apdu/sw.h"
#include "apdu/tlv.h"

#define MGMT_BLOCK_MAX	16

static const EVP_CIPHER *
mgmt_cipher(uint8_t alg)
{
	switch (alg) {
	case PIV_ALG_3DES_LEGACY:
	case PIV_ALG_3DES:
		return EVP_des_ede3_ecb();
	case PIV_ALG_AES128:
		return EVP_aes_128_ecb();
	case PIV_ALG_AES192:
		return EVP_aes_192_ecb();
	case PIV_ALG_AES256:
		return EVP_aes_256_ecb();
	default:
		return NULL;
	}
}

/* One block through the cipher, encrypting or decrypting. */
static enum pv_err
mgmt_block(const EVP_CIPHER *ciph, const uint8_t *key, int enc,
    const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int n1 = 0, n2 = 0;
	enum pv_err r = PV_E_CRYPTO;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return PV_E_NOMEM;
	if (EVP_CipherInit_ex(ctx, ciph, NULL, key, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n1, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n1, &n2) != 1 ||
	    (size_t)n1 + (size_t)n2 != len)
		goto out;
	r = PV_OK;
out:
	EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
	return r;
}

static enum pv_err
mgmt_args(uint8_t alg, const uint8_t *key, size_t key_len,
    const EVP_CIPHER **ciph, size_t *block, struct pv_why *why)
{
	*ciph = mgmt_cipher(alg);
	*block = piv_alg_block_len(alg);
	if (*ciph == NULL)
		return pv_why_set(why, PV_E_INVAL, "GENERAL AUTHENTICATE 9B: "
		    "algorithm %02X is not 3DES or AES", alg);
	if (key == NULL || key_len != piv_alg_sym_key_len(alg) ||
	    (size_t)EVP_CIPHER_get_key_length(*ciph) != key_len)
		return pv_why_set(why, PV_E_INVAL, "GENERAL AUTHENTICATE 9B: %s "
		    "needs a %zu-byte key, got %zu", piv_alg_name(alg),
		    piv_alg_sym_key_len(alg), key_len);
	return PV_OK;
}

/*
 * One exchange: send 7C { <items> } and return the value of tag |want|
 * in the answer 7C { <want> value } (copied into |val|, |block| bytes).
 * |want| = 0: the card must answer 9000 with no data.
 */
static enum pv_err
mgmt_xchg(struct apdu_session *s, uint8_t alg, const struct buf_out *c,
    uint32_t want, uint8_t *val, size_t block, const char *what,
    struct pv_why *why)
{
	struct buf_out rsp;
	struct buf_cur cur, t, v;
	struct pv_why w = { { 0 } };
	enum pv_err r = PV_E_INTERNAL;

	if (!buf_out_alloc(&rsp, 64, 1024))
		return PV_E_NOMEM;
	r = piv_cmd(s, PIV_INS_GEN_AUTH, alg, PIV_KEY_MGMT, c->p, c->len,
	    want != 0 ? APDU_LE_ANY : 0, &rsp, NULL, NULL, what, &w);
	if (r == PV_E_SECURITY) {
		/* 6982 to our witness or response: the key is not the card's. */
		r = pv_why_set(why, PV_E_AUTH_FAILED, "%s: the card refused the "
		    "authentication (wrong management key or algorithm; %s)",
		    what, w.msg);
		goto out;
	}
	if ((r == PV_E_BAD_DATA || r == PV_E_BAD_P1P2) && want != 0x82 &&
	    want != 0) {
		/*
		 * The first step, whose template is fixed, refused: the key
		 * has another algorithm than P1 names.  A YubiKey answers 6A80,
		 * a PIV card 6A86 (firmware-notes/pin-puk-check-order.md).
		 */
		r = pv_why_set(why, PV_E_AUTH_FAILED, "%s: the card's management "
		    "key is not %s (%s)", what, piv_alg_name(alg), w.msg);
		goto out;
	}
	if (r != PV_OK) {
		r = pv_why_set(why, r, "%s", w.msg);
		goto out;
	}
	buf_cur_init(&cur, rsp.p, rsp.len);
	if (want == 0) {
		if (!buf_done(&cur))
			r = pv_why_set(why, PV_E_MALFORMED, "%s: unexpected "
			    "data in the answer", what);
		goto out;
	}
	if (!tlv_get(&cur, 0x7c, &t) || !buf_done(&cur) ||
	    !tlv_get(&t, want, &v) || !buf_done(&t)) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: the answer is not "
		    "7C { %02X ... }", what, want);
		goto out;
	}
	if (!buf_copy_exact(&v, val, block)) {
		r = pv_why_set(why, PV_E_MALFORMED, "%s: the card's %s is %zu "
		    "%s, expected one %zu-byte %s block", what,
		    want == 0x82 ? "response" : want == 0x80 ? "witness" :
		    "challenge", v.len, buf_bytes_word(v.len), block,
		    piv_alg_name(alg));
		goto out;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&rsp);
	return r;
}

enum pv_err
piv_auth_mgmt(struct apdu_session *s, uint8_t alg, const uint8_t *key,
    size_t key_len, struct pv_why *why)
{
	static const uint8_t ask_witness[] = { 0x7c, 0x02, 0x80, 0x00 };
	const EVP_CIPHER *ciph;
	uint8_t enc_w[MGMT_BLOCK_MAX], witness[MGMT_BLOCK_MAX];
	uint8_t chal[MGMT_BLOCK_MAX], want[MGMT_BLOCK_MAX], got[MGMT_BLOCK_MAX];
	uint8_t mem[64];
	struct buf_out c;
	size_t block, mark;
	enum pv_err r;
	const char *what = "GENERAL AUTHENTICATE 9B (mutual)";

	buf_out_fixed(&c, mem, sizeof(mem));
	if ((r = mgmt_args(alg, key, key_len, &ciph, &block, why)) != PV_OK)
		goto out;
	/* Step 1: ask for a witness. */
	(void)buf_put(&c, ask_witness, sizeof(ask_witness));
	if ((r = mgmt_xchg(s, alg, &c, 0x80, enc_w, block, what, why)) != PV_OK)
		goto out;
	if ((r = mgmt_block(ciph, key, 0, enc_w, block, witness)) != PV_OK ||
	    RAND_bytes(chal, (int)block) != 1) {
		r = pv_why_set(why, PV_E_CRYPTO, "%s: OpenSSL failed", what);
		goto out;
	}
	/* Step 2: the decrypted witness and our challenge. */
	buf_out_truncate(&c, 0);
	(void)tlv_open(&c, 0x7c, &mark);
	(void)tlv_put(&c, 0x80, witness, block);
	(void)tlv_put(&c, 0x81, chal, block);
	(void)tlv_close(&c, mark);
	if (!buf_out_ok(&c)) {
		r = PV_E_INTERNAL;
		goto out;
	}
	if ((r = mgmt_xchg(s, alg, &c, 0x82, got, block, what, why)) != PV_OK)
		goto out;
	if ((r = mgmt_block(ciph, key, 1, chal, block, want)) != PV_OK) {
		r = pv_why_set(why, PV_E_CRYPTO, "%s: OpenSSL failed", what);
		goto out;
	}
	if (CRYPTO_memcmp(want, got, block) != 0) {
		r = pv_why_set(why, PV_E_AUTH_FAILED, "%s: the card answered our "
		    "challenge wrongly: it does not hold this management key",
		    what);
		goto out;
	}
	r = PV_OK;
out:
	buf_out_cleanup(&c);
	buf_wipe(witness, sizeof(witness));
	buf_wipe(want, sizeof(want));
	buf_wipe(chal, sizeof(chal));
	return r;
}

enum pv_err
piv_auth_mgmt_external(struct apdu_session *s, uint8_t alg,
    const uint8_t *key, size_t key_len, struct pv_why *why)
{
	static const uint8_t ask_challenge[] = { 0x7c, 0x02, 0x81, 0x00 };
	const EVP_CIPHER *ciph;
	uint8_t chal[MGMT_BLOCK_MAX], resp[MGMT_BLOCK_MAX], mem[64];
	struct buf_out c;
	size_t block, mark;
	enum pv_err r;
	const char *what = "GENERAL AUTHENTICATE 9B (external)";

	buf_out_fixed(&c, mem, sizeof(mem));
	if ((r = mgmt_args(alg, key, key_len, &ciph, &block, why)) != PV_OK)
		goto out;
	(void)buf_put(&c, ask_challenge, sizeof(ask_challenge));
	if ((r = mgmt_xchg(s, alg, &c, 0x81, chal, block, what, why)) != PV_OK)
		goto out;
	if ((r = mgmt_block(ciph, key, 1, chal, block, resp)) != PV_OK) {
		r = pv_why_set(why, PV_E_CRYPTO, "%s: OpenSSL failed", what);
		goto out;
	}
	buf_out_truncate(&c, 0);
	(void)tlv_open(&c, 0x7c, &mark);
	(void)tlv_put(&c, 0x82, resp, block);
	(void)tlv_close(&c, mark);
	if (!buf_out_ok(&c)) {
		r = PV_E_INTERNAL;
		goto out;
	}
	r = mgmt_xchg(s, alg, &c, 0, NULL, block, what, why);
out:
	buf_out_cleanup(&c);
	buf_wipe(resp, sizeof(resp));
	return r;
}
