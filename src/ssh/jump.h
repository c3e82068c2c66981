/* Forwarding requests of an authenticated connection: recorded ProxyJump,
 * TCP tunnels, and the refusals of -R, agent and X11 forwarding.
 *
 * A direct-tcpip channel (`ssh -J`, `-W`, `-L`) names HOST:PORT. HOST is
 * matched to an asset by name or address (an asset whose port is PORT
 * first). Then:
 *   - PORT is the asset's SSH port: a recorded jump. The user needs some
 *     account on the asset (over ssh or sftp). The channel is accepted and
 *     a forked child serves an inner SSH server over a socketpair with the
 *     jump host key (DATA/ssh_jump_ed25519_key). The child accepts the
 *     inner login for the same Gatehouse user without a second secret
 *     (the inner user name is the account on the asset) and then runs the
 *     direct-login path: policy, credential injection, recording, session
 *     row, audit, exit status, sftp relay. The child handles direct-tcpip
 *     channels the same way, so chains work (max_jump_depth).
 *   - any other port: a TCP tunnel, allowed with the `forward` action on
 *     the asset (protocol ssh); Gatehouse connects to the asset's address.
 *     Each connection is audited (kind "tunnel": allow/deny, then "end"
 *     with bytes and duration by the caller's fwdset hook).
 *   - no asset matches, and the session is on an asset: the connection is
 *     opened from that asset (viatarget.h), with the `forward` action on it.
 * At most max_tunnel_connections forwarded channels at once per
 * connection; a refused channel open fails ("administratively
 * prohibited") and the decision is audited (kind "jump" or "tunnel").
 *
 * tcpip-forward (-R) needs allow_remote_forward, a session on an asset
 * and the `forward` action on it (its ports list holds the listen port);
 * an allowed one is recorded in C->rfwd and relayed through the target
 * (rfwd.h). An x11-req that comes here is refused: with
 * allow_x11_forwarding on a login on an asset the worker's channel
 * callback takes it instead (backfwd.h). Each decision is audited.
 *
 * Every decision is the gate's (session/authz.h), which reads the user
 * again (a locked, disabled or ACL-refused user opens nothing more on a
 * connection kept open) and names the account a forward logs in as. */
#pragma once
#include <libssh/libssh.h>

#include "audit/audit.h"

struct gh_app;
struct gh_store;
struct gh_user;
struct gh_fwdset;
struct gh_worker_args;
struct gh_rfwd;

struct gh_jump_ctx {
	struct gh_app *app;
	struct gh_store *st;
	ssh_session s;
	struct gh_fwdset *fwds;
	const struct gh_user *user;          /* NULL before authentication */
	struct gh_audit_who who;
	const struct gh_worker_args *args;   /* of this worker (for the child) */
	/* the asset and account the session is on (login name or inner jump
	 * login), NULL when none: a host that names no asset is then
	 * connected to from that asset (viatarget.h) */
	const char *asset, *account;
	struct ssh_key_struct *jump_key;     /* borrowed; NULL: jumps refused */
	struct gh_rfwd *rfwd;                /* the connection's -R forwards (rfwd.h) */
	/* called after a TCP tunnel, a forward from the asset or a remote
	 * forward was allowed (not a jump: its inner worker has its rows) */
	void (*on_forward)(void *ud);
	void *ud;
};

/* Handle MSG when it is a forwarding message (direct-tcpip channel open,
 * tcpip-forward / cancel-tcpip-forward global request, x11-req channel
 * request): reply and return 0. Anything else: return 1 (not ours). Runs
 * inside libssh's message callback; the only blocking steps are the TCP
 * connect of a tunnel (bounded by target_connect_timeout) and fork(). */
int gh_jump_message(const struct gh_jump_ctx *c, ssh_message msg);
