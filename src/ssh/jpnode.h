/* The front door's side of a jumpoint node's connection (docs/JUMPOINTS.md).
 *
 * A node logs in as GH_JPNODE_USER, before and instead of any user login:
 *   - registration: password "TOKEN ssh-ed25519 BASE64": the token is spent
 *     (one use, in one transaction, store/jumpoint.h) and the key becomes the
 *     node's; the token is never logged;
 *   - later: publickey with that key (probe and signed attempt both checked).
 * An authenticated node gets no shell, no menu and no channel: the worker
 * only keeps the connection, records it connected with a heartbeat
 * (last_seen) and disconnected when it drops. One connection per node: a
 * newer one takes the node over and the older one ends at its next
 * heartbeat (an agent reconnecting after a half-open drop is not locked
 * out). */
#pragma once
#include <libssh/libssh.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;

#define GH_JPNODE_USER "jumpoint"
#define GH_JPNODE_HEARTBEAT_S 10

/* The registration password PW (LEN bytes, a network input): "TOKEN
 * ssh-ed25519 BASE64" → TOK (NUL-terminated, < TOKLEN) and *RET_B64 (in
 * PW, NUL-terminated when PW is). 0 or GH_EINVAL. */
int gh_jpnode_reg_split(const char *pw, size_t len, char *tok, size_t toklen,
			const char **ret_b64);
/* SSH_AUTH_SUCCESS with *RET_NODE, or SSH_AUTH_DENIED. */
int gh_jpnode_auth_password(struct gh_store *st, const char *password, int64_t *ret_node);
int gh_jpnode_auth_pubkey(struct gh_store *st, ssh_key key, char state, int64_t *ret_node);
/* Until the connection S (in EV) drops or *STOP: connected, heartbeat,
 * disconnected. HOST is the peer's address. */
void gh_jpnode_serve(struct gh_store *st, ssh_session s, ssh_event ev, int64_t node,
		     const char *host, volatile sig_atomic_t *stop);
