/*
 * ca_publish.c: the station CA's certificates and CRL for relying
 * parties (ca_publish.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "apdu/buf.h"
#include "issuance/ca.h"
#include "issuance/ca_publish.h"
#include "issuance/pkix_util.h"
#include "issuance/val.h"

enum pv_err
ca_certs_only(STACK_OF(X509) *certs, uint8_t **out, size_t *out_len,
    struct pv_why *why)
{
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	int len;
	enum pv_err r = PV_OK;

	*out = NULL;
	*out_len = 0;
	/* CMS_sign without a signer gives a certificates-only SignedData;
	 * detached: eContent absent, as RFC 5652 §5.2 has it. */
	cms = CMS_sign(NULL, NULL, certs, NULL, CMS_BINARY | CMS_DETACHED |
	    CMS_PARTIAL);
	if (cms == NULL || (len = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		r = pkix_crypto_err(why, "certs-only CMS");
		goto out;
	}
	*out = der;
	*out_len = (size_t)len;
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

/* mkdir -p of the folders of |rel| under |base| (|rel| already checked). */
static enum pv_err
ca_pub_dirs(const char *base, const char *rel, struct pv_why *why)
{
	char path[2048];
	size_t i, bl = strlen(base);

	if (bl + 1 + strlen(rel) >= sizeof(path))
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", base);
	if (mkdir(base, 0755) != 0 && errno != EEXIST)
		return pv_why_set(why, PV_E_IO, "%s: %s", base, strerror(errno));
	memcpy(path, base, bl);
	path[bl] = '/';
	for (i = 0; rel[i] != '\0'; i++) {
		if (rel[i] == '/') {
			path[bl + 1 + i] = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				return pv_why_set(why, PV_E_IO, "%s: %s", path,
				    strerror(errno));
		}
		path[bl + 1 + i] = rel[i];
	}
	return PV_OK;
}

/* Writes a public file: temporary name, fsync, rename. */
static enum pv_err
ca_pub_write(const char *path, const uint8_t *p, size_t n, struct pv_why *why)
{
	char tmp[2100];
	uint8_t rnd[6];
	char hex[13];
	size_t off = 0;
	int fd;
	ssize_t w;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return pkix_crypto_err(why, "random");
	buf_hex(rnd, sizeof(rnd), hex);
	if (snprintf(tmp, sizeof(tmp), "%s.%s.tmp", path, hex) >=
	    (int)sizeof(tmp))
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0)
		return pv_why_set(why, PV_E_IO, "%s: %s", tmp, strerror(errno));
	while (off < n) {
		w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != n || fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
		(void)close(fd);
		(void)unlink(tmp);
		return pv_why_set(why, PV_E_IO, "%s: write failed", path);
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return pv_why_set(why, PV_E_IO, "%s: %s", path, strerror(errno));
	}
	return PV_OK;
}

static enum pv_err
ca_pub_one(const char *out_dir, const char *url, const char *what,
    const uint8_t *p, size_t n, char *done, size_t cap, struct pv_why *why)
{
	char rel[1024];
	enum pv_err r;

	if ((r = val_url_file(url, rel, sizeof(rel), why)) != PV_OK) {
		pv_why_prefix(why, "[urls] %s", what);
		return PV_E_CONFIG;
	}
	if ((r = ca_pub_dirs(out_dir, rel, why)) != PV_OK)
		return r;
	if (snprintf(done, cap, "%s/%s", out_dir, rel) >= (int)cap)
		return pv_why_set(why, PV_E_TOO_LONG, "%s: path too long",
		    out_dir);
	return ca_pub_write(done, p, n, why);
}

enum pv_err
ca_publish(const char *ca_dir, const struct pv_config *cfg,
    const char *out_dir, struct ca_publish_result *res, struct pv_why *why)
{
	struct ca *ca = NULL;
	STACK_OF(X509) *certs = NULL;
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num = NULL;
	uint8_t *crl_der = NULL, *p7c = NULL;
	size_t crl_len = 0, p7c_len = 0;
	char path[HOME_PATH_MAX + 32];
	const unsigned char *d;
	enum pv_err r;

	memset(res, 0, sizeof(*res));
	if ((r = ca_open(ca_dir, NULL, &ca, why)) != PV_OK)
		goto out;
	if (cfg->crl_url[0] != '\0') {
		if ((r = pkix_path_join(path, sizeof(path), ca_dir,
		    CA_FILE_CRL_DER)) != PV_OK) {
			r = pv_why_set(why, r, "%s: path too long", ca_dir);
			goto out;
		}
		r = pkix_read_file(path, 256u * 1024 * 1024, &crl_der, &crl_len,
		    why);
		if (r == PV_E_NOT_FOUND) {
			pv_why_clear(why);
			r = pv_why_set(why, r, "no CRL signed yet (%s): run "
			    "'pivstation ca crl' first", path);
		}
		if (r != PV_OK)
			goto out;
		d = crl_der;
		if ((crl = d2i_X509_CRL(NULL, &d, (long)crl_len)) == NULL) {
			r = pv_why_set(why, PV_E_INPUT, "%s: not a DER CRL",
			    path);
			goto out;
		}
		if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
		    NULL)) != NULL) {
			BIGNUM *bn = ASN1_INTEGER_to_BN(num, NULL);
			char *h = bn != NULL ? BN_bn2hex(bn) : NULL;

			(void)snprintf(res->crl_number, sizeof(res->crl_number),
			    "%s", h != NULL ? h : "");
			OPENSSL_free(h);
			BN_free(bn);
		}
		if ((r = ca_pub_one(out_dir, cfg->crl_url, "crl", crl_der,
		    crl_len, res->crl_file, sizeof(res->crl_file), why)) !=
		    PV_OK)
			goto out;
	}
	if (cfg->ca_issuers_url[0] != '\0') {
		/* The caIssuers of an end-entity certificate: its issuer. */
		if ((certs = sk_X509_new_null()) == NULL ||
		    !sk_X509_push(certs, ca_get0_issuing(ca))) {
			r = pv_why_set(why, PV_E_NOMEM, "out of memory");
			goto out;
		}
		if ((r = ca_certs_only(certs, &p7c, &p7c_len, why)) != PV_OK ||
		    (r = ca_pub_one(out_dir, cfg->ca_issuers_url, "ca_issuers",
		    p7c, p7c_len, res->p7c_file, sizeof(res->p7c_file), why)) !=
		    PV_OK)
			goto out;
		res->n_certs = (unsigned)sk_X509_num(certs);
	}
	r = PV_OK;
out:
	ERR_clear_error();
	sk_X509_free(certs);	/* the certificate stays the CA's */
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	OPENSSL_free(crl_der);
	OPENSSL_free(p7c);
	ca_free(ca);
	return r;
}
