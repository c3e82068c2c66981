/* The front door's side of a jumpoint node (jpnode.h). */
#include "ssh/jpnode.h"
#include "ssh/jpserve.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "store/jumpoint.h"
#include "web/http.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/server.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TOKEN_MAX 128

/* "TYPE BASE64" of KEY into OUT; 0 or GH_EINVAL. */
static int key_text(ssh_key key, char *out, size_t len)
{
	char *b64 = NULL;
	int r = GH_EINVAL;
	if (ssh_key_type(key) == SSH_KEYTYPE_ED25519 &&
	    ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK &&
	    snprintf(out, len, "ssh-ed25519 %s", b64) < (int)len)
		r = 0;
	ssh_string_free_char(b64);
	return r;
}

int gh_jpnode_reg_split(const char *pw, size_t len, char *tok, size_t toklen,
			const char **ret_b64)
{
	const char *sp = memchr(pw, ' ', len);
	static const char kt[] = "ssh-ed25519 ";
	size_t n = sp ? (size_t)(sp - pw) : 0;
	if (!sp || n == 0 || n >= toklen || memchr(pw, '\0', len) ||
	    len - n - 1 <= sizeof kt - 1 || memcmp(sp + 1, kt, sizeof kt - 1) != 0)
		return GH_EINVAL;
	memcpy(tok, pw, n);
	tok[n] = '\0';
	*ret_b64 = sp + sizeof kt;
	return 0;
}

int gh_jpnode_auth_password(struct gh_store *st, const char *password, int64_t *ret_node)
{
	char tok[TOKEN_MAX], hash[65], pub[256];
	const char *b64 = NULL;
	ssh_key key = NULL;
	int64_t jp = 0;
	int r = GH_EINVAL;
	if (!password ||
	    gh_jpnode_reg_split(password, strlen(password), tok, sizeof tok, &b64) < 0 ||
	    ssh_pki_import_pubkey_base64(b64, SSH_KEYTYPE_ED25519, &key) != SSH_OK ||
	    key_text(key, pub, sizeof pub) < 0)
		goto out;
	gh_web_hash(tok, hash);
	r = gh_store_jumpoint_register(st, hash, pub, gh_now(), ret_node, &jp);
out:
	sodium_memzero(tok, sizeof tok);
	ssh_key_free(key);
	if (r < 0) {
		gh_info("jumpoint registration refused (unknown, used or expired token)");
		return SSH_AUTH_DENIED;
	}
	gh_info("jumpoint node %lld registered", (long long)*ret_node);
	return SSH_AUTH_SUCCESS;
}

int gh_jpnode_auth_pubkey(struct gh_store *st, ssh_key key, char state, int64_t *ret_node)
{
	char pub[256];
	int64_t node = 0;
	if (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)
		return SSH_AUTH_DENIED;
	if (key_text(key, pub, sizeof pub) < 0 ||
	    gh_store_jumpoint_node_by_key(st, pub, &node) < 0) {
		gh_info("jumpoint login refused: key of no node of an enabled jumpoint");
		return SSH_AUTH_DENIED;
	}
	if (state == SSH_PUBLICKEY_STATE_VALID)
		*ret_node = node;
	return SSH_AUTH_SUCCESS;
}

void gh_jpnode_serve(struct gh_store *st, ssh_session s, ssh_event ev, int64_t node,
		     const char *host, const char *data_dir, volatile sig_atomic_t *stop)
{
	struct gh_jpserve *js = NULL;
	char version[128];
	const char *banner = ssh_get_clientbanner(s);
	int64_t pid = getpid();
	gh_escape(version, sizeof version, banner && *banner ? banner : "unknown");
	if (gh_store_jumpoint_node_claim(st, node, pid, host, version, gh_now()) < 0) {
		gh_warn("jumpoint node %lld: cannot record its connection", (long long)node);
		return;
	}
	gh_info("jumpoint node %lld connected from %s (%s)", (long long)node, host, version);
	if (gh_jpserve_open(st, s, ev, node, data_dir, &js) < 0)
		gh_warn("jumpoint node %lld: cannot serve dial requests", (long long)node);
	int64_t next = gh_mono_ms() + GH_JPNODE_HEARTBEAT_S * 1000;
	while (ssh_is_connected(s) && !*stop) {
		if (ssh_event_dopoll(ev, 1000) == SSH_ERROR && !ssh_is_connected(s))
			break;
		if (js)
			gh_jpserve_tick(js);
		if (gh_mono_ms() < next)
			continue;
		next = gh_mono_ms() + GH_JPNODE_HEARTBEAT_S * 1000;
		if (js)
			gh_jpserve_refresh(js);
		if (gh_store_jumpoint_node_beat(st, node, pid, gh_now()) == GH_ENOENT) {
			gh_info("jumpoint node %lld: taken over by a newer connection, or "
				"deleted or disabled: connection ended", (long long)node);
			ssh_disconnect(s);
		}
	}
	if (gh_store_jumpoint_node_drop(st, node, pid, gh_now()) < 0)
		gh_warn("jumpoint node %lld: cannot record its end", (long long)node);
	gh_jpserve_close(js, "jumpoint node lost"); /* after the row: dialers check it */
	gh_info("jumpoint node %lld disconnected", (long long)node);
}

bool gh_jpnode_host_ok(const char *host)
{
	size_t n = host ? strnlen(host, 256) : 0;
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)host[i] <= ' ' || host[i] == 0x7f)
			return false;
	return true;
}

bool gh_jpnode_dest_listed(const char *list, const char *host, int port)
{
	char line[GH_JPNODE_REQ_MAX];
	if (!list || !gh_jpnode_host_ok(host) || port < 1 || port > 65535)
		return false;
	int n = snprintf(line, sizeof line, "%s %d\n", host, port);
	if (n < 0 || (size_t)n >= sizeof line)
		return false;
	for (const char *p = list; p && *p;) {
		if (strncmp(p, line, (size_t)n) == 0)
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int gh_jpnode_req_parse(const char *line, char *host, size_t hostlen, int *ret_port)
{
	const char *sp = strchr(line, ' ');
	size_t n = sp ? (size_t)(sp - line) : 0;
	if (!sp || n == 0 || n >= hostlen)
		return GH_EINVAL;
	memcpy(host, line, n);
	host[n] = '\0';
	long port = 0;
	const char *p = sp + 1;
	if (!*p || strlen(p) > 5)
		return GH_EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return GH_EINVAL;
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535 || !gh_jpnode_host_ok(host))
		return GH_EINVAL;
	*ret_port = (int)port;
	return 0;
}

int gh_jpnode_sock_path(const char *data_dir, int64_t node, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/run/jp-%lld.sock", data_dir ? data_dir : ".",
			 (long long)node);
	return n < 0 || (size_t)n >= cap ? GH_EINVAL : 0;
}

int gh_jpnode_sock_addr(const char *path, struct sockaddr_un *sa, int *ret_dirfd)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	*ret_dirfd = -1;
	int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
	if (n > 0 && (size_t)n < sizeof sa->sun_path)
		return 0;
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash || (size_t)(slash - path) >= sizeof dir)
		return GH_EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*ret_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*ret_dirfd < 0)
		return errno == ENOENT ? GH_ENOENT : GH_EIO;
	n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d%s", *ret_dirfd, slash);
	return n > 0 && (size_t)n < sizeof sa->sun_path ? 0 : GH_EINVAL;
}

int gh_jpnode_sock_connect(const char *path, int *ret_fd)
{
	struct sockaddr_un sa;
	int dirfd = -1, r = gh_jpnode_sock_addr(path, &sa, &dirfd);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		r = errno == ENOENT || errno == ECONNREFUSED ? GH_ENOENT : GH_EIO;
	else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid())
		r = GH_EPERM;
	if (dirfd >= 0)
		close(dirfd);
	if (r < 0 && fd >= 0)
		close(fd);
	if (r == 0)
		*ret_fd = fd;
	return r;
}
