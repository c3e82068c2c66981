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
#include <stdbool.h>
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
 * disconnected; the node's destinations pushed to it, and the dial
 * requests of other workers served (jpserve.c). HOST is the peer's
 * address, DATA_DIR the data directory (its run/ holds the dial socket). */
void gh_jpnode_serve(struct gh_store *st, ssh_session s, ssh_event ev, int64_t node,
		     const char *host, const char *data_dir, volatile sig_atomic_t *stop);

/* Dialing through a node (docs/JUMPOINTS.md):
 *   - at login, and whenever the list changes, the front door opens a
 *     forwarded-tcpip channel to GH_JPNODE_DESTS_HOST port 0 and writes the
 *     node's destinations, one "HOST PORT\n" a line (at most
 *     GH_JPNODE_DESTS_MAX bytes), then EOF: the agent's list, replaced;
 *   - each connection is a forwarded-tcpip channel to HOST:PORT, which the
 *     agent accepts only when that line is on its list;
 *   - other workers ask the worker holding the node on the unix socket
 *     DATA/run/jp-NODE.sock (the workers' uid only, SO_PEERCRED both ways):
 *     "HOST PORT\n", answered "O\n" (then the bytes of the connection) or
 *     "E REASON\n". At most GH_JPNODE_MAX_CHANNELS at once per node. */
#define GH_JPNODE_DESTS_HOST "gatehouse-destinations"
#define GH_JPNODE_DESTS_MAX 65536
#define GH_JPNODE_MAX_CHANNELS 256
#define GH_JPNODE_REQ_MAX 300

/* HOST (a network input) is a plain destination name: 1..255 bytes, no
 * space or control character. */
bool gh_jpnode_host_ok(const char *host);
/* The line "HOST PORT" is in LIST (lines as above). */
bool gh_jpnode_dest_listed(const char *list, const char *host, int port);
/* A dial request line (without its newline, a network input) into HOST
 * (HOSTLEN) and *RET_PORT. 0 or GH_EINVAL. */
int gh_jpnode_req_parse(const char *line, char *host, size_t hostlen, int *ret_port);
/* DATA_DIR/run/jp-NODE.sock into BUF. */
int gh_jpnode_sock_path(const char *data_dir, int64_t node, char *buf, size_t cap);
struct sockaddr_un;
/* The address of the unix socket PATH; a path too long for sun_path goes
 * through its directory, opened in *RET_DIRFD (close it after use). */
int gh_jpnode_sock_addr(const char *path, struct sockaddr_un *sa, int *ret_dirfd);
/* Connect to the unix socket PATH (long paths through /proc/self/fd);
 * the peer must run as this process's uid. *RET_FD blocking, CLOEXEC. */
int gh_jpnode_sock_connect(const char *path, int *ret_fd);
