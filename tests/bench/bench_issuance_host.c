/*
 * bench_issuance_host.c: the host-side work of one primary issuance,
 * outside the card: the four PIV certificates signed by the issuing CA,
 * the 9d key pair made on the host and escrowed to the KRA, the PUK drawn
 * and escrowed, the CHUID signed, the Security Object built, the 9b key
 * derived.  Prints the median and 90th percentile per step and per card
 * for each CA / KRA / 9d algorithm mix.  A benchmark, not a test: it
 * never fails on time.
 *
 *   usage: bench_issuance_host [cards]        (default 50)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "issuance/ca.h"
#include "issuance/chuid.h"
#include "issuance/escrow.h"
#include "issuance/mgmtkey.h"
#include "issuance/profile.h"
#include "issuance/secobj.h"

enum { ST_CERTS, ST_KEYGEN_9D, ST_ESCROW, ST_CHUID, ST_SECOBJ, ST_MGMT,
	ST_TOTAL, ST__N };
static const char *const st_name[ST__N] = {
	"4 certificates", "9d keygen", "escrow 9d+PUK", "CHUID sign",
	"Security Object", "9b derive", "per card"
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(const char *what, enum pv_err r, const struct pv_why *why)
{
	fprintf(stderr, "bench: %s: %s: %s\n", what, pv_strerror(r), why->msg);
	exit(1);
}

static void
run(enum pkix_alg ca_alg, enum pkix_alg kra_alg, enum pkix_alg card_alg,
    enum pkix_alg km_alg, int cards)
{
	static const uint8_t slots[4] = { 0x9a, 0x9c, 0x9d, 0x9e };
	static const uint8_t master[32] = { 1, 2, 3 };
	struct ca_init_params p;
	struct profile_cfg cfg;
	struct profile_subject subj;
	struct profile_card card;
	struct pv_why why = { "" };
	struct ca *ca = NULL;
	EVP_PKEY *card_key[3] = { NULL, NULL, NULL };
	double *t[ST__N];
	enum pv_err r;
	int i, s, k;

	ca_init_params_defaults(&p);
	p.root_alg = p.issuing_alg = p.signer_alg = ca_alg;
	p.kra_alg = kra_alg;
	if ((r = ca_new(&p, time(NULL), &ca, NULL, NULL, &why)) != PV_OK)
		die("ca_new", r, &why);
	/* the card makes 9a, 9c, 9e itself: their public keys, made once */
	for (k = 0; k < 3; k++)
		if ((r = pkix_keygen(card_alg, &card_key[k], &why)) != PV_OK)
			die("keygen", r, &why);
	profile_cfg_defaults(&cfg);
	cfg.upn_slots = PROFILE_BIT_9A;
	memset(&subj, 0, sizeof(subj));
	(void)pkix_dn_parse("C=US, O=Bench Agency, OU=People, CN=Jane Doe",
	    &subj.dn, NULL);
	strcpy(subj.email, "jane.doe@example.gov");
	strcpy(subj.upn, "jdoe@example.gov");
	memset(&card, 0, sizeof(card));
	memcpy(card.fascn, "\xd4\xe7\x39\xda\x73\x9c\xed\x39\xce\x73\x9d\x83"
	    "\x68\x58\x21\x08\x42\x10\x84\x21\xc8\x42\x10\xc3\xeb", 25);
	card.expiry = time(NULL) + 5 * 365 * 86400;
	for (s = 0; s < ST__N; s++)
		t[s] = calloc((size_t)cards, sizeof(double));

	for (i = 0; i < cards; i++) {
		EVP_PKEY *km = NULL;
		X509 *x = NULL;
		uint8_t *env = NULL, *puk_env = NULL, *sig = NULL, *so = NULL;
		size_t env_len, puk_len, sig_len, so_len;
		char puk[ESCROW_PUK_LEN + 1];
		uint8_t tbs[64];
		struct secobj_entry e[2];
		struct mgmtkey mk;
		double t0, t1, start = now_ms();

		memcpy(card.uuid, &i, sizeof(i));
		t0 = now_ms();
		if ((r = escrow_keygen(km_alg, &km, &why)) != PV_OK)
			die("9d keygen", r, &why);
		t[ST_KEYGEN_9D][i] = now_ms() - t0;

		t0 = now_ms();
		for (s = 0; s < 4; s++) {
			EVP_PKEY *pub = slots[s] == 0x9d ? km :
			    card_key[s < 2 ? s : 2];
			if ((r = profile_issue(ca, pub, slots[s], &subj, &card,
			    &cfg, time(NULL), &x, NULL, &why)) != PV_OK)
				die("profile_issue", r, &why);
			X509_free(x);
		}
		t[ST_CERTS][i] = now_ms() - t0;

		t0 = now_ms();
		if ((r = escrow_seal_key(km, ca_get0_kra(ca), &env, &env_len,
		    &why)) != PV_OK ||
		    (r = escrow_random_puk(puk, &why)) != PV_OK ||
		    (r = escrow_seal_puk(puk, ca_get0_kra(ca), &puk_env, &puk_len,
		    &why)) != PV_OK)
			die("escrow", r, &why);
		t[ST_ESCROW][i] = now_ms() - t0;
		OPENSSL_cleanse(puk, sizeof(puk));

		memset(tbs, 0x42, sizeof(tbs));
		t0 = now_ms();
		if ((r = chuid_sign(ca_get0_signer(ca), ca_get0_signer_key(ca),
		    tbs, sizeof(tbs), &sig, &sig_len, &why)) != PV_OK)
			die("chuid_sign", r, &why);
		t[ST_CHUID][i] = now_ms() - t0;

		memset(e, 0, sizeof(e));
		e[0].dg = 1;
		e[0].container_id = SECOBJ_CID_CHUID;
		e[0].data = sig;
		e[0].len = sig_len;
		e[1].dg = 3;
		e[1].container_id = SECOBJ_CID_PRINTED_INFO;
		e[1].data = tbs;
		e[1].len = sizeof(tbs);
		t0 = now_ms();
		if ((r = secobj_build(ca_get0_signer(ca), ca_get0_signer_key(ca),
		    e, 2, &so, &so_len, &why)) != PV_OK)
			die("secobj_build", r, &why);
		t[ST_SECOBJ][i] = now_ms() - t0;

		t0 = now_ms();
		if ((r = mgmtkey_derive(master, sizeof(master), NULL, 0,
		    card.uuid, 16, MGMTKEY_AES256, &mk, &why)) != PV_OK)
			die("mgmtkey", r, &why);
		t1 = now_ms();
		t[ST_MGMT][i] = t1 - t0;
		t[ST_TOTAL][i] = t1 - start;
		mgmtkey_clear(&mk);
		EVP_PKEY_free(km);
		OPENSSL_free(env);
		OPENSSL_free(puk_env);
		OPENSSL_free(sig);
		OPENSSL_free(so);
	}
	printf("CA %-7s KRA %-7s card keys %-7s 9d %-7s (%d cards)\n",
	    pkix_alg_name(ca_alg), pkix_alg_name(kra_alg),
	    pkix_alg_name(card_alg), pkix_alg_name(km_alg), cards);
	for (s = 0; s < ST__N; s++) {
		qsort(t[s], (size_t)cards, sizeof(double), cmp_d);
		printf("  %-16s median %8.2f ms   p90 %8.2f ms\n", st_name[s],
		    t[s][cards / 2], t[s][(cards * 9) / 10]);
		free(t[s]);
	}
	for (k = 0; k < 3; k++)
		EVP_PKEY_free(card_key[k]);
	ca_free(ca);
}

int
main(int argc, char **argv)
{
	int cards = argc > 1 ? atoi(argv[1]) : 50;

	if (cards < 1 || cards > 100000) {
		fprintf(stderr, "usage: bench_issuance_host [cards]\n");
		return 2;
	}
	run(PKIX_ALG_P256, PKIX_ALG_P256, PKIX_ALG_P256, PKIX_ALG_P256, cards);
	run(PKIX_ALG_P384, PKIX_ALG_P384, PKIX_ALG_P256, PKIX_ALG_P256, cards);
	run(PKIX_ALG_P384, PKIX_ALG_RSA3072, PKIX_ALG_RSA2048,
	    PKIX_ALG_RSA2048, cards);
	run(PKIX_ALG_RSA3072, PKIX_ALG_RSA3072, PKIX_ALG_RSA2048,
	    PKIX_ALG_RSA2048, cards);
	return 0;
}
