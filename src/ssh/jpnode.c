/* The front door's side of a jumpoint node (jpnode.h). */
#include "ssh/jpnode.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "store/jumpoint.h"
#include "web/http.h"

#include <libssh/server.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		     const char *host, volatile sig_atomic_t *stop)
{
	char version[128];
	const char *banner = ssh_get_clientbanner(s);
	int64_t pid = getpid();
	gh_escape(version, sizeof version, banner && *banner ? banner : "unknown");
	if (gh_store_jumpoint_node_claim(st, node, pid, host, version, gh_now()) < 0) {
		gh_warn("jumpoint node %lld: cannot record its connection", (long long)node);
		return;
	}
	gh_info("jumpoint node %lld connected from %s (%s)", (long long)node, host, version);
	int64_t next = gh_mono_ms() + GH_JPNODE_HEARTBEAT_S * 1000;
	while (ssh_is_connected(s) && !*stop) {
		if (ssh_event_dopoll(ev, 1000) == SSH_ERROR && !ssh_is_connected(s))
			break;
		if (gh_mono_ms() < next)
			continue;
		next = gh_mono_ms() + GH_JPNODE_HEARTBEAT_S * 1000;
		if (gh_store_jumpoint_node_beat(st, node, pid, gh_now()) == GH_ENOENT) {
			gh_info("jumpoint node %lld: taken over by a newer connection, or "
				"deleted or disabled: connection ended", (long long)node);
			ssh_disconnect(s);
		}
	}
	if (gh_store_jumpoint_node_drop(st, node, pid, gh_now()) < 0)
		gh_warn("jumpoint node %lld: cannot record its end", (long long)node);
	gh_info("jumpoint node %lld disconnected", (long long)node);
}
