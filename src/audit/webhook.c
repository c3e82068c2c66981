/* notify_webhook (see webhook.h): a small HTTPS/1.1 client on OpenSSL. */
#include "audit/webhook.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int gh_webhook_url_parse(const char *url, struct gh_webhook_url *ret)
{
	struct gh_webhook_url u = { .port = "443", .path = "/" };
	if (!url || strncmp(url, "https://", 8))
		return GH_EINVAL;
	const char *h = url + 8, *end = h + strcspn(h, "/"), *colon = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return GH_EINVAL;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if ((!colon && rb + 1 != end) || (size_t)(rb - h - 1) >= sizeof u.host)
			return GH_EINVAL;
		memcpy(u.host, h + 1, (size_t)(rb - h - 1));
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		const char *he = colon ? colon : end;
		if ((size_t)(he - h) >= sizeof u.host)
			return GH_EINVAL;
		memcpy(u.host, h, (size_t)(he - h));
	}
	if (colon) {
		size_t pl = (size_t)(end - colon - 1);
		if (pl < 1 || pl >= sizeof u.port || strspn(colon + 1, "0123456789") < pl)
			return GH_EINVAL;
		memcpy(u.port, colon + 1, pl);
		u.port[pl] = '\0';
		long long port = 0;
		if (gh_parse_ll(u.port, &port) < 0 || port < 1 || port > 65535)
			return GH_EINVAL;
	}
	if (!u.host[0] || strcspn(u.host, " \t\r\n/?#@") != strlen(u.host))
		return GH_EINVAL;
	if (*end && snprintf(u.path, sizeof u.path, "%s", end) >= (int)sizeof u.path)
		return GH_EINVAL;
	if (strcspn(u.path, " \t\r\n") != strlen(u.path))
		return GH_EINVAL;
	*ret = u;
	return 0;
}

bool gh_webhook_wants(const struct gh_event *e)
{
	return e->kind && !strcmp(e->kind, "change") && e->method &&
	       (!strcmp(e->method, "access request") || !strcmp(e->method, "access approve") ||
		!strcmp(e->method, "access deny"));
}

/* A TCP connection to U with a bounded connect, and read/write timeouts. */
static int tcp_connect(const struct gh_webhook_url *u, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int fd = -1;
	if (getaddrinfo(u->host, u->port, &hints, &ai) != 0)
		return -1;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		int r = connect(fd, a->ai_addr, a->ai_addrlen), err = 0;
		socklen_t el = sizeof err;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (r < 0 && (errno != EINPROGRESS || poll(&p, 1, timeout_ms) <= 0 ||
			      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd >= 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static SSL *tls_start(const struct gh_webhook_url *u, const char *ca_file, int fd, SSL_CTX **ctx)
{
	SSL *ssl = NULL;
	*ctx = SSL_CTX_new(TLS_client_method());
	if (!*ctx || !SSL_CTX_set_min_proto_version(*ctx, TLS1_2_VERSION))
		return NULL;
	SSL_CTX_set_verify(*ctx, SSL_VERIFY_PEER, NULL);
	if ((ca_file && *ca_file) ? !SSL_CTX_load_verify_locations(*ctx, ca_file, NULL)
				  : !SSL_CTX_set_default_verify_paths(*ctx))
		return NULL;
	unsigned char ip[16];
	bool literal = inet_pton(AF_INET, u->host, ip) == 1 || inet_pton(AF_INET6, u->host, ip) == 1;
	/* SSL_set1_host checks an IP literal as an address; SNI names hosts only */
	if (!(ssl = SSL_new(*ctx)) || !SSL_set_fd(ssl, fd) || !SSL_set1_host(ssl, u->host) ||
	    (!literal && !SSL_set_tlsext_host_name(ssl, u->host)) || SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* Write all of P, then read the status line: 0 on 2xx. */
static int exchange(SSL *ssl, const char *req, size_t len, char *why, size_t whylen)
{
	char head[512];
	int n = 0, k, status = 0;
	if (SSL_write(ssl, req, (int)len) != (int)len)
		return snprintf(why, whylen, "cannot send the request"), GH_EIO;
	while (n < (int)sizeof head - 1 && !memchr(head, '\n', (size_t)n) &&
	       (k = SSL_read(ssl, head + n, (int)sizeof head - 1 - n)) > 0)
		n += k;
	head[n] = '\0';
	if (sscanf(head, "HTTP/1.%*1[01] %3d", &status) != 1)
		return snprintf(why, whylen, "no HTTP answer"), GH_EIO;
	if (status < 200 || status > 299)
		return snprintf(why, whylen, "answered %d", status), GH_EIO;
	return 0;
}

int gh_webhook_post(const struct gh_webhook_url *u, const char *ca_file, const char *body,
		    int timeout_ms, char *why, size_t whylen)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char *req = NULL;
	int r = GH_ECONN, fd = tcp_connect(u, timeout_ms);
	if (fd < 0) {
		snprintf(why, whylen, "cannot connect to %s port %s", u->host, u->port);
		goto out;
	}
	if (!(ssl = tls_start(u, ca_file, fd, &ctx))) {
		unsigned long e = ERR_peek_last_error();
		snprintf(why, whylen, "TLS with %s refused: %s", u->host,
			 e ? ERR_reason_error_string(e) : "handshake failed");
		r = GH_ECRYPTO;
		goto out;
	}
	size_t bl = strlen(body);
	int n = asprintf(&req,
			 "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 u->path, u->host, bl, body);
	if (n < 0) {
		req = NULL;
		r = GH_ENOMEM;
		goto out;
	}
	r = exchange(ssl, req, (size_t)n, why, whylen);
out:
	ERR_clear_error();
	if (ssl)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	free(req);
	return r;
}
