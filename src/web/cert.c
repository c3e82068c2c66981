/* The web console's TLS certificate: created with OpenSSL's API at first
 * start, never by running a program (see web.h). */
#include "web/web.h"
#include "app/app.h"
#include "core/error.h"
#include "core/util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#define CERT_DAYS 3650

int gh_web_cert_paths(const struct gh_app *app, char *cert, char *key)
{
	const char *c = app->cfg.web_cert, *k = app->cfg.web_key;
	int a = c && *c ? snprintf(cert, 4096, "%s", c)
			: snprintf(cert, 4096, "%s/web_cert.pem", app->data_dir);
	int b = k && *k ? snprintf(key, 4096, "%s", k)
			: snprintf(key, 4096, "%s/web_key.pem", app->data_dir);
	return a < 0 || a >= 4096 || b < 0 || b >= 4096 ? GH_EINVAL : 0;
}

/* Write what WRITER puts in a memory BIO to PATH with MODE. */
static int bio_to_file(BIO *b, const char *path, int mode)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		return GH_ECRYPTO;
	return gh_write_file_atomic(path, data, (size_t)n, mode);
}

/* Names a client may use for this host: localhost, the loopback
 * addresses and the host name. */
static int add_san(X509 *x)
{
	char host[256] = "localhost", san[400];
	X509V3_CTX v3;
	if (gethostname(host, sizeof host - 1) < 0 || !gh_valid_name(host))
		snprintf(host, sizeof host, "localhost");
	snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:%s", host);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : GH_ECRYPTO;
}

static X509 *self_signed(EVP_PKEY *pk)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	bool ok = x && RAND_bytes(serial, sizeof serial) == 1;
	serial[0] &= 0x7f; /* positive */
	ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	     X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400) &&
	     X509_set_pubkey(x, pk);
	X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
	ok = ok && name &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"gatehouse",
					-1, -1, 0) &&
	     X509_set_issuer_name(x, name) && add_san(x) == 0 && X509_sign(x, pk, EVP_sha256()) > 0;
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int gh_web_cert_create(const char *cert_path, const char *key_path)
{
	int r = GH_ECRYPTO;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = pk ? self_signed(pk) : NULL;
	BIO *kb = BIO_new(BIO_s_secmem()), *cb = BIO_new(BIO_s_mem());

	if (!x || !kb || !cb)
		goto out;
	if (PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cb, x) != 1)
		goto out;
	r = bio_to_file(kb, key_path, 0600);
	if (r == 0)
		r = bio_to_file(cb, cert_path, 0600); /* clients get it over TLS */
out:
	BIO_free(kb); /* secure heap: wiped on free */
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pk);
	return r;
}

int gh_web_cert_fingerprint(const char *pem, size_t len, char ret[96])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int r = GH_ECRYPTO;
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	if (x && X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32) {
		for (unsigned i = 0; i < n; i++)
			snprintf(ret + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
		r = 0;
	}
	X509_free(x);
	BIO_free(b);
	return r;
}

int gh_web_cert_check(const char *cert, size_t clen, const char *key, size_t klen, char *why,
		      size_t wlen)
{
	int r = GH_ECRYPTO;
	BIO *cb = BIO_new_mem_buf(cert, (int)clen), *kb = BIO_new_mem_buf(key, (int)klen);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, (void *)"") : NULL;
	if (!x)
		snprintf(why, wlen, "the certificate is not a PEM X.509 certificate");
	else if (!pk)
		snprintf(why, wlen, "the key is not an unencrypted PEM private key");
	else if (X509_check_private_key(x, pk) != 1)
		snprintf(why, wlen, "the key does not belong to the certificate");
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		snprintf(why, wlen, "the certificate has expired");
	else
		r = 0;
	ERR_clear_error();
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(cb);
	BIO_free(kb);
	return r;
}
