/* The database gateway's sockets: plain or TLS, non-blocking underneath,
 * every wait bounded (see door.h). */
#include "db/dbpriv.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"

#define PEM_MAX (64 * 1024)

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void gh_db_io_init(struct gh_db_io *io, int fd, int idle_ms)
{
	memset(io, 0, sizeof *io);
	io->fd = fd;
	io->idle_ms = idle_ms;
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void gh_db_io_close(struct gh_db_io *io)
{
	if (io->ssl) {
		SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	io->ssl = NULL;
	SSL_CTX_free(io->ctx); /* only the target side owns one */
	io->ctx = NULL;
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
}

int gh_db_io_fd(const struct gh_db_io *io)
{
	return io ? io->fd : -1;
}

bool gh_db_io_is_tls(const struct gh_db_io *io)
{
	return io && io->ssl;
}

size_t gh_db_io_pending(const struct gh_db_io *io)
{
	return io && io->ssl ? (size_t)SSL_pending(io->ssl) : 0;
}

/* Wait until FD is ready for EVENTS within MS (-1: forever). */
static int wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	for (;;) {
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return GH_ETIMEDOUT;
		if (errno != EINTR)
			return GH_EIO;
	}
}

/* One read attempt: >0 bytes, 0 would block (*WANT set), <0 GH_ECONN. */
static ssize_t read_once(struct gh_db_io *io, void *buf, size_t len, short *want)
{
	*want = POLLIN;
	if (!io->ssl) {
		ssize_t n = read(io->fd, buf, len);
		if (n > 0)
			return n;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		return GH_ECONN;
	}
	int n = SSL_read(io->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(io->ssl, n);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		*want = POLLOUT;
		return 0;
	}
	ERR_clear_error();
	return GH_ECONN;
}

int gh_db_io_read(struct gh_db_io *io, void *buf, size_t len, int timeout_ms, size_t *ret_n)
{
	int ms = timeout_ms < 0 ? io->idle_ms : timeout_ms;
	if (!io || io->fd < 0 || len == 0)
		return GH_EINVAL;
	for (;;) {
		short want = POLLIN;
		ssize_t n = read_once(io, buf, len, &want);
		if (n > 0) {
			*ret_n = (size_t)n;
			return 0;
		}
		if (n < 0)
			return (int)n;
		int r = wait_fd(io->fd, want, ms);
		if (r < 0)
			return r;
	}
}

int gh_db_io_read_full(struct gh_db_io *io, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;
	while (got < len) {
		size_t n = 0;
		int r = gh_db_io_read(io, (char *)buf + got, len - got, timeout_ms, &n);
		if (r < 0)
			return r;
		got += n;
	}
	return 0;
}

/* One write attempt: >0 bytes, 0 would block (*WANT set), <0 GH_ECONN. */
static ssize_t write_once(struct gh_db_io *io, const void *buf, size_t len, short *want)
{
	*want = POLLOUT;
	if (!io->ssl) {
		ssize_t n = write(io->fd, buf, len);
		if (n > 0)
			return n;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		return GH_ECONN;
	}
	int n = SSL_write(io->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(io->ssl, n);
	if (e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_WANT_READ) {
		*want = POLLIN;
		return 0;
	}
	ERR_clear_error();
	return GH_ECONN;
}

int gh_db_io_write(struct gh_db_io *io, const void *buf, size_t len)
{
	size_t done = 0;
	if (!io || io->fd < 0)
		return GH_EINVAL;
	while (done < len) {
		short want = POLLOUT;
		ssize_t n = write_once(io, (const char *)buf + done, len - done, &want);
		if (n < 0)
			return (int)n;
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		int r = wait_fd(io->fd, want, io->idle_ms);
		if (r < 0)
			return r == GH_ETIMEDOUT ? r : GH_ECONN;
	}
	return 0;
}

/* Drive SSL_accept / SSL_connect to its end within MS. */
static int handshake(struct gh_db_io *io, bool server, int ms)
{
	for (;;) {
		int n = server ? SSL_accept(io->ssl) : SSL_connect(io->ssl);
		if (n == 1)
			return 0;
		int e = SSL_get_error(io->ssl, n);
		short want = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
		if (!want) {
			ERR_clear_error();
			return GH_ECRYPTO;
		}
		int r = wait_fd(io->fd, want, ms);
		if (r < 0)
			return r;
	}
}

/* PEM text (LEN bytes) into C: the certificate chain or the key. */
static bool pem_into(SSL_CTX *c, const char *pem, size_t len, bool key)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	bool ok = false;
	if (!b)
		return false;
	if (key) {
		EVP_PKEY *pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		ok = pk && SSL_CTX_use_PrivateKey(c, pk) == 1;
		EVP_PKEY_free(pk);
	} else {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		ok = x && SSL_CTX_use_certificate(c, x) == 1;
		X509_free(x);
		while (ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
			if (SSL_CTX_add_extra_chain_cert(c, x) != 1) {
				X509_free(x);
				ok = false;
			}
	}
	BIO_free(b);
	ERR_clear_error();
	return ok;
}

int gh_db_tls_server_ctx(const char *cert, const char *key, SSL_CTX **ret)
{
	char why[256];
	char *cp = NULL, *kp = NULL;
	size_t cl = 0, kl = 0;
	int r = gh_trusted_read(cert, PEM_MAX, false, &cp, &cl, why, sizeof why);
	if (r == 0)
		r = gh_trusted_read(key, PEM_MAX, true, &kp, &kl, why, sizeof why);
	SSL_CTX *c = r == 0 ? SSL_CTX_new(TLS_server_method()) : NULL;
	if (r == 0 && !c)
		r = GH_ENOMEM;
	if (r == 0) {
		SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
		if (!pem_into(c, cp, cl, false) || !pem_into(c, kp, kl, true) ||
		    SSL_CTX_check_private_key(c) != 1)
			r = GH_ECRYPTO;
	}
	if (r < 0)
		gh_debug("TLS certificate %s: %s", cert, r == GH_ECRYPTO ? "unusable" : why);
	if (kp)
		sodium_memzero(kp, kl);
	free(kp);
	free(cp);
	ERR_clear_error();
	if (r < 0) {
		SSL_CTX_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

bool gh_db_tls_available(const struct gh_db *db)
{
	return db->tls_server != NULL;
}

int gh_db_io_tls_server(struct gh_db *db)
{
	struct gh_db_io *io = &db->client;
	if (!db->tls_server)
		return GH_EINVAL;
	if (io->ssl)
		return GH_EINVAL;
	io->ssl = SSL_new(db->tls_server);
	if (!io->ssl || SSL_set_fd(io->ssl, io->fd) != 1)
		return GH_ENOMEM;
	return handshake(io, true, io->idle_ms);
}

int gh_db_io_tls_client(struct gh_db *db, char *err, size_t errlen)
{
	struct gh_db_io *io = &db->target;
	int r = GH_ECRYPTO;
	if (io->fd < 0 || io->ssl)
		return GH_EINVAL;
	io->ctx = SSL_CTX_new(TLS_client_method());
	if (!io->ctx)
		return GH_ENOMEM;
	SSL_CTX_set_min_proto_version(io->ctx, TLS1_2_VERSION);
	if (db->target_ca[0]) {
		if (SSL_CTX_load_verify_locations(io->ctx, db->target_ca, NULL) != 1) {
			snprintf(err, errlen, "cannot read the database's CA file");
			goto out;
		}
		SSL_CTX_set_verify(io->ctx, SSL_VERIFY_PEER, NULL);
	}
	io->ssl = SSL_new(io->ctx);
	if (!io->ssl || SSL_set_fd(io->ssl, io->fd) != 1)
		goto out;
	if (db->have_asset && db->target_ca[0])
		SSL_set1_host(io->ssl, db->asset.address);
	r = handshake(io, false, io->idle_ms);
	if (r < 0)
		snprintf(err, errlen, "TLS to the database failed");
out:
	ERR_clear_error();
	return r;
}
