#include "target/target.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"
#include "target/dial.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Towards targets we prefer AES-GCM (AES-NI) and fall back widely enough
 * for older servers; no compression. */
#define TARGET_KEX                                                                 \
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"       \
	"ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512,"     \
	"diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
#define TARGET_CIPHERS                                                             \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com," \
	"aes128-ctr,aes256-ctr"
#define TARGET_MACS                                                                \
	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512"
#define TARGET_HOSTKEYS_DEFAULT                                                    \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"  \
	"rsa-sha2-512,rsa-sha2-256"

/* "WHAT" or "WHAT (DETAIL)" into ERR. */
static void set_err(char *err, const char *what, const char *detail)
{
	if (detail)
		snprintf(err, GH_TARGET_ERRLEN, "%s (%s)", what, detail);
	else
		snprintf(err, GH_TARGET_ERRLEN, "%s", what);
}

/* Connect a non-blocking socket to HOST:PORT within TIMEOUT seconds. */
int gh_target_tcp_connect(const char *host, int port, int timeout, int *ret_fd, char *err)
{
	struct addrinfo hints, *res = NULL;
	char portstr[16];
	int fd = -1, last_errno = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%d", port);
	int gr = getaddrinfo(host, portstr, &hints, &res);
	if (gr != 0) {
		set_err(err, "cannot resolve address", gai_strerror(gr));
		return GH_ECONN;
	}
	int64_t deadline_left = (int64_t)timeout * 1000;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto connected;
		if (errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			fd = -1;
			continue;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int pr;
		do
			pr = poll(&pfd, 1, (int)deadline_left);
		while (pr < 0 && errno == EINTR);
		if (pr == 0) {
			close(fd);
			fd = -1;
			freeaddrinfo(res);
			set_err(err, "timed out", NULL);
			return GH_ETIMEDOUT;
		}
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (pr < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr == 0)
			goto connected;
		last_errno = soerr;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	switch (last_errno) {
	case ECONNREFUSED: set_err(err, "connection refused", NULL); break;
	case ETIMEDOUT: set_err(err, "timed out", NULL); return GH_ETIMEDOUT;
	case EHOSTUNREACH: set_err(err, "host unreachable", NULL); break;
	case ENETUNREACH: set_err(err, "network unreachable", NULL); break;
	default: set_err(err, "connection failed", strerror(last_errno)); break;
	}
	return GH_ECONN;
connected:
	freeaddrinfo(res);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	*ret_fd = fd;
	return 0;
}

/* Host key algorithms with the pinned key's type first. */
static const char *hostkey_algs(const char *pinned)
{
	if (!pinned)
		return TARGET_HOSTKEYS_DEFAULT;
	if (!strncmp(pinned, "ssh-ed25519 ", 12))
		return "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
		       "rsa-sha2-512,rsa-sha2-256";
	if (!strncmp(pinned, "ssh-rsa ", 8))
		return "rsa-sha2-512,rsa-sha2-256,ssh-ed25519,ecdsa-sha2-nistp256,"
		       "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521";
	if (!strncmp(pinned, "ecdsa-sha2-nistp256 ", 20))
		return "ecdsa-sha2-nistp256,ssh-ed25519,rsa-sha2-512,rsa-sha2-256";
	if (!strncmp(pinned, "ecdsa-sha2-nistp384 ", 20))
		return "ecdsa-sha2-nistp384,ssh-ed25519,rsa-sha2-512,rsa-sha2-256";
	if (!strncmp(pinned, "ecdsa-sha2-nistp521 ", 20))
		return "ecdsa-sha2-nistp521,ssh-ed25519,rsa-sha2-512,rsa-sha2-256";
	return TARGET_HOSTKEYS_DEFAULT;
}

int gh_target_connect(const struct gh_target_conn *c, ssh_session *ret, char *err)
{
	int fd = -1;
	int r = gh_target_dial(c->route, c->address, c->port, c->timeout > 0 ? c->timeout : 10,
			       &fd, err);
	if (r < 0)
		return r;
	return gh_target_connect_fd(c, fd, ret, err);
}

int gh_target_connect_fd(const struct gh_target_conn *c, int fd, ssh_session *ret, char *err)
{
	ssh_session s = NULL;
	int zero = 0;
	long timeout = c->timeout > 0 ? c->timeout : 10;

	err[0] = '\0';
	s = ssh_new();
	if (!s) {
		close(fd);
		set_err(err, "out of memory", NULL);
		return GH_ENOMEM;
	}
	if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOST, c->address) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_PORT, &c->port) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_USER, c->username) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KEY_EXCHANGE, TARGET_KEX) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, TARGET_CIPHERS) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, TARGET_CIPHERS) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HMAC_C_S, TARGET_MACS) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HMAC_S_C, TARGET_MACS) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_COMPRESSION, "no") < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_HOSTKEYS, hostkey_algs(c->pinned_host_key)) < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") < 0 ||
	    ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") < 0) {
		close(fd);
		set_err(err, "bad connection options", ssh_get_error(s));
		ssh_free(s);
		return GH_EINVAL;
	}
	/* From here libssh owns FD and closes it in ssh_free. */
	ssh_options_set(s, SSH_OPTIONS_FD, &fd);
	if (ssh_connect(s) != SSH_OK) {
		const char *e = ssh_get_error(s);
		if (e && strstr(e, "imeout"))
			set_err(err, "timed out", NULL);
		else
			set_err(err, "SSH handshake failed", e);
		gh_debug("target %s:%d: %s", c->address, c->port, e);
		ssh_free(s);
		return GH_ECONN;
	}
	*ret = s;
	return 0;
}

int gh_target_host_key(ssh_session s, char **ret, char **ret_fp)
{
	ssh_key key = NULL;
	char *b64 = NULL, *line = NULL, *fp = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	int r = GH_ECONN;

	if (ssh_get_server_publickey(s, &key) != SSH_OK)
		return GH_ECONN;
	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		goto out;
	const char *type = ssh_key_type_to_char(ssh_key_type(key));
	if (!type)
		goto out;
	if (asprintf(&line, "%s %s", type, b64) < 0) {
		line = NULL;
		r = GH_ENOMEM;
		goto out;
	}
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		char *f = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		if (f) {
			fp = strdup(f);
			ssh_string_free_char(f);
		}
	}
	if (!fp)
		fp = strdup("unknown");
	if (!fp) {
		r = GH_ENOMEM;
		goto out;
	}
	*ret = line;
	*ret_fp = fp;
	line = NULL;
	fp = NULL;
	r = 0;
out:
	free(line);
	free(fp);
	if (hash)
		ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return r;
}

/* Length of the first two space-separated words of S. */
static size_t two_words(const char *s)
{
	const char *sp = strchr(s, ' ');
	if (!sp)
		return strlen(s);
	const char *sp2 = strchr(sp + 1, ' ');
	return sp2 ? (size_t)(sp2 - s) : strlen(s);
}

bool gh_target_host_key_equal(const char *a, const char *b)
{
	while (*a == ' ')
		a++;
	while (*b == ' ')
		b++;
	size_t la = two_words(a), lb = two_words(b);
	/* trailing newlines from files */
	while (la && (a[la - 1] == '\n' || a[la - 1] == '\r'))
		la--;
	while (lb && (b[lb - 1] == '\n' || b[lb - 1] == '\r'))
		lb--;
	return la == lb && la > 0 && memcmp(a, b, la) == 0;
}

static int auth_kbdint(ssh_session s, const char *password)
{
	for (int round = 0; round < 8; round++) {
		int rc = ssh_userauth_kbdint(s, NULL, NULL);
		if (rc != SSH_AUTH_INFO)
			return rc;
		int n = ssh_userauth_kbdint_getnprompts(s);
		for (int i = 0; i < n; i++) {
			char echo = 0;
			ssh_userauth_kbdint_getprompt(s, (unsigned)i, &echo);
			/* answer hidden prompts with the password, visible ones empty */
			if (ssh_userauth_kbdint_setanswer(s, (unsigned)i, echo ? "" : password) < 0)
				return SSH_AUTH_ERROR;
		}
	}
	return SSH_AUTH_DENIED;
}

int gh_target_auth(ssh_session s, int kind, const char *secret, char *err)
{
	int rc;
	err[0] = '\0';
	if (kind == GH_SECRET_KEY) {
		ssh_key key = NULL;
		if (ssh_pki_import_privkey_base64(secret, NULL, NULL, NULL, &key) != SSH_OK) {
			set_err(err, "the stored private key cannot be read", NULL);
			return GH_EINVAL;
		}
		rc = ssh_userauth_publickey(s, NULL, key);
		ssh_key_free(key);
	} else {
		rc = ssh_userauth_password(s, NULL, secret);
		if (rc == SSH_AUTH_DENIED && (ssh_userauth_list(s, NULL) & SSH_AUTH_METHOD_INTERACTIVE))
			rc = auth_kbdint(s, secret);
	}
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR) {
		set_err(err, "connection lost during authentication", NULL);
		return GH_ECONN;
	}
	set_err(err, "the target refused the stored credentials", NULL);
	return GH_EAUTH;
}

int gh_target_open(ssh_session s, const struct gh_target_req *req, ssh_channel *ret, char *err)
{
	ssh_channel ch = ssh_channel_new(s);
	err[0] = '\0';
	if (!ch) {
		set_err(err, "out of memory", NULL);
		return GH_ENOMEM;
	}
	if (req->on_channel)
		req->on_channel(ch, req->userdata);
	if (ssh_channel_open_session(ch) != SSH_OK) {
		set_err(err, "cannot open a session", ssh_get_error(s));
		goto fail;
	}
	if (req->agent && ssh_channel_request_auth_agent(ch) != SSH_OK && !ssh_is_connected(s))
		goto lost;
	if (req->x11_cookie &&
	    ssh_channel_request_x11(ch, req->x11_single, req->x11_protocol, req->x11_cookie,
				    req->x11_screen) != SSH_OK &&
	    !ssh_is_connected(s))
		goto lost;
	if (req->pty && ssh_channel_request_pty_size(ch, req->term ? req->term : "xterm",
						     req->width > 0 ? req->width : 80,
						     req->height > 0 ? req->height : 24) != SSH_OK) {
		set_err(err, "the target refused a terminal", ssh_get_error(s));
		goto fail;
	}
	for (size_t i = 0; i < req->n_env; i++) /* refused variables are not fatal */
		if (ssh_channel_request_env(ch, req->env[i].name, req->env[i].value) != SSH_OK &&
		    !ssh_is_connected(s))
			goto lost;
	int rc;
	if (req->command)
		rc = ssh_channel_request_exec(ch, req->command);
	else if (req->subsystem)
		rc = ssh_channel_request_subsystem(ch, req->subsystem);
	else
		rc = ssh_channel_request_shell(ch);
	if (rc != SSH_OK) {
		set_err(err, "the target refused the request", ssh_get_error(s));
		goto fail;
	}
	ssh_set_blocking(s, 0);
	*ret = ch;
	return 0;
lost:
	set_err(err, "connection lost", NULL);
fail:
	if (req->on_channel)
		req->on_channel(NULL, req->userdata);
	ssh_channel_free(ch);
	return GH_ECONN;
}

ssh_session gh_target_free(ssh_session s)
{
	if (s) {
		if (ssh_is_connected(s))
			ssh_disconnect(s);
		ssh_free(s);
	}
	return NULL;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			struct pollfd p1 = { .fd = fd, .events = POLLOUT };
			poll(&p1, 1, 500);
			continue;
		}
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

#define PUMP_BUF (64 * 1024)
#define PUMP_POLL_MS 500

void gh_target_pump(int fd, ssh_session ts, ssh_channel ch)
{
	char buf[PUMP_BUF]; /* in a helper process, on its own stack */
	bool fd_eof = false, ch_eof = false;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = fd_eof ? 0 : POLLIN },
				       { .fd = ssh_get_fd(ts), .events = POLLIN } };
		if (poll(p, 2, PUMP_POLL_MS) < 0 && errno != EINTR)
			return;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, buf, sizeof buf);
			if (n > 0) {
				if (ssh_channel_write(ch, buf, (uint32_t)n) != (int)n)
					return;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				fd_eof = true;
				ssh_channel_send_eof(ch);
			}
		}
		int n;
		while ((n = ssh_channel_read_nonblocking(ch, buf, sizeof buf, 0)) > 0)
			if (!write_all(fd, buf, (size_t)n))
				return;
		if (n == SSH_ERROR || !ssh_is_connected(ts) || ssh_channel_is_closed(ch))
			return;
		if (!ch_eof && ssh_channel_is_eof(ch)) {
			ch_eof = true;
			shutdown(fd, SHUT_WR);
		}
		if (ch_eof && fd_eof)
			return;
	}
}
