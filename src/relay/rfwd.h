/* Remote forwards (`ssh -R`) of one connection, relayed through the
 * session's target.
 *
 * jump.c decides each tcpip-forward request (allow_remote_forward, a
 * session on an asset, the `forward` action and its ports) and records an
 * allowed one here; the user's reply (success) goes out at once: OpenSSH
 * sends its tcpip-forward requests before it opens the session channel,
 * so before the target connection exists. When the target session is up
 * (gh_rfwd_attach) each recorded forward is asked of the target
 * (ssh_channel_listen_forward on the same address and port); requests and
 * cancels that come later are passed on during the relay (gh_rfwd_tick).
 * Every forwarded-tcpip channel the target opens back for a listening
 * forward is accepted and relayed to a forwarded-tcpip channel opened to
 * the user (backfwd.h) when the caller's gate allows it again; the
 * caller's hook audits each connection's end (method "tcpip-forward",
 * bytes, duration). A connection the gate refuses or beyond the caller's
 * limit (max_tunnel_connections) is refused and audited. */
#pragma once
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stddef.h>

#include "audit/audit.h"

#define GH_RFWD_MAX 32 /* forwards per connection */

struct gh_backfwd;
struct gh_store;
struct gh_rfwd;

struct gh_rfwd_env {
	struct gh_store *st;
	struct gh_audit_who who; /* borrowed strings, live while attached */
	const char *asset;
	int max_conns;                      /* connections at once ... */
	size_t (*count)(void *ud);          /* ... counted by this */
	/* the gate for a forward at ADDR:PORT now (session/authz.h): true
	 * when allowed, else false with REASON. Asked before the target is
	 * asked to listen and again for every connection it sends back, so
	 * a listener does not outlive the user's lock or permission */
	bool (*allow)(void *ud, const char *addr, int port, char *reason, size_t len);
	void *ud;
};

struct gh_rfwd *gh_rfwd_new(void);
void gh_rfwd_free(struct gh_rfwd *rf); /* accepts NULL */

/* Forwards recorded and not cancelled. Accepts NULL. */
size_t gh_rfwd_count(const struct gh_rfwd *rf);

/* Record an allowed tcpip-forward for ADDR:PORT (PORT 1..65535). 0;
 * GH_EEXIST when already recorded; GH_ELIMIT beyond GH_RFWD_MAX. */
int gh_rfwd_add(struct gh_rfwd *rf, const char *addr, int port);

/* cancel-tcpip-forward: 0 when ADDR:PORT was ours (passed on to the
 * target when it listens there), GH_ENOENT otherwise. */
int gh_rfwd_cancel(struct gh_rfwd *rf, const char *addr, int port);

/* TS is authenticated and still blocking: install its message callback
 * (forwarded-tcpip channels go to B) and ask it to listen for every
 * recorded forward (each within TS's timeout). ENV is copied. */
void gh_rfwd_attach(struct gh_rfwd *rf, ssh_session ts, struct gh_backfwd *b,
		    const struct gh_rfwd_env *env);

/* During the relay: requests and cancels recorded after attach go to the
 * target (non-blocking). Accepts NULL. */
void gh_rfwd_tick(struct gh_rfwd *rf);

/* The target session ends: remove its callback, forget its listeners
 * (recorded forwards stay for a later target). Accepts NULL. */
void gh_rfwd_detach(struct gh_rfwd *rf);
