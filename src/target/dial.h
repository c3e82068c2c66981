/* Routing: the one way every protocol reaches a target's TCP port.
 *
 *   int gh_target_dial(route, host, port, timeout, &fd, err);
 *
 * returns a connected byte stream to HOST:PORT, whatever lies between:
 *   - direct (ROUTE NULL or no hops): a TCP connection (gh_target_tcp_connect);
 *   - a gateway chain (ROUTE->hops, outermost first): an SSH client session
 *     to each hop, logged in with the hop's stored secret, its host key
 *     checked by ROUTE->host_key before the login, and a direct-tcpip
 *     channel from each hop to the next one (the last to HOST:PORT). Each
 *     hop runs in a small helper process (forked, detached) that carries
 *     its session over the previous hop's stream and pumps its channel to a
 *     socketpair; *ret_fd is the last socketpair's other end. The helpers
 *     end when *ret_fd is closed or a hop's connection drops;
 *   - a jumpoint (ROUTE->jumpoint): the unix socket of a node's holding
 *     worker (ssh/jpnode.h), the nodes tried from a random one; the worker
 *     answers and then carries the bytes over a channel to its agent.
 *     ROUTE->used_node / used_pid (when set) get the node that carried it
 *     and the pid of its holding worker.
 * SSH (src/session/reach.c), -L tunnels (src/ssh/jump.c), telnet and the
 * database doors all connect through here; a door never connects a target
 * socket itself. Blocks at most about TIMEOUT seconds per hop.
 *
 * ROUTE and the secrets in it are borrowed; the caller wipes them after
 * the call (the helpers have their own copies, gone with the helpers).
 * On success *ret_fd (non-blocking, CLOEXEC) is the caller's to close.
 * Otherwise GH_E* and ERR (GH_TARGET_ERRLEN) a reason fit for the user,
 * naming the hop ("gateway web01: host key changed"), never a secret. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct gh_dial_hop {
	const char *name;            /* the hop's asset, for messages and the audit */
	const char *address;
	int port;
	const char *username;
	const char *pinned_host_key; /* "TYPE BASE64" or NULL */
	int secret_kind;             /* GH_SECRET_* */
	const char *secret;          /* borrowed */
};

struct gh_route {
	const struct gh_dial_hop *hops;
	size_t n_hops;
	/* Asked, in the caller's process, with the key hop I presented
	 * ("TYPE BASE64") and its fingerprint, before the hop's login: 0
	 * accepts (pinning a first key is the caller's), <0 refuses with ERR. */
	int (*host_key)(void *ud, size_t i, const char *key, const char *fp, char *err);
	void *ud;
	/* a jumpoint: its name and the dial sockets of its connected nodes */
	const char *jumpoint;
	const char *const *jp_socks;
	const int64_t *jp_nodes;
	size_t n_jp;
	int64_t *used_node;
	int64_t *used_pid;
};

int gh_target_dial(const struct gh_route *route, const char *host, int port, int timeout,
		   int *ret_fd, char *err);
