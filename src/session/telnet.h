/* The session core's telnet target: a connection to a telnet asset,
 * logged into with the stored secret (credential injection), then driven
 * by the relay as a byte stream (relay.h, struct gh_relay_stream), so any
 * door with a relay (the SSH door today, the web terminal) can use it.
 *
 *   gh_sess_telnet_reach()  TCP (gh_target_tcp_connect), negotiation, the
 *                           login answered within the login timeout; the
 *                           secret comes from the gate (authz.h) and lives
 *                           only inside this call. What the target prints
 *                           before the shell prompt is neither relayed nor
 *                           recorded (only the tail after the secret, with
 *                           any echo of it removed).
 *   gh_sess_telnet_attach() the relay's target, its socket in the door's
 *                           ssh_event (read only while the relay has room)
 *   gh_sess_telnet_tick()   after every poll, outside callbacks
 *   gh_sess_telnet_free()   out of the event, socket closed
 * Ownership: the door owns the object. */
#pragma once
#include <libssh/libssh.h>

#include "session/session.h"

struct gh_relay;
struct gh_sess_telnet;

struct gh_sess_telnet_opts {
	const char *term;        /* the user's TERM (TTYPE) */
	int width, height;       /* the user's window (NAWS) */
	int login_timeout;       /* seconds for the prompts (telnet_login_timeout) */
};

/* True when asset A is reached over telnet (its protocols name telnet and
 * not ssh). */
bool gh_sess_telnet_asset(const struct gh_asset *a);

/* Connect to O->asset over telnet and log in as O->account. On success
 * *RET is the caller's. Otherwise GH_E* and ERR (GH_TARGET_ERRLEN) the
 * reason for the user and the row ("telnet login prompt not seen within
 * 10 s", "telnet login incorrect", "connection refused"), never a secret;
 * a gate refusal is audited. */
int gh_sess_telnet_reach(struct gh_sess *s, const struct gh_sess_reach *o,
			 const struct gh_sess_telnet_opts *to, struct gh_sess_telnet **ret,
			 char *err);

/* R's target from now on; the socket joins EV. */
int gh_sess_telnet_attach(struct gh_sess_telnet *t, struct gh_relay *r, ssh_event ev);
void gh_sess_telnet_tick(struct gh_sess_telnet *t);
struct gh_sess_telnet *gh_sess_telnet_free(struct gh_sess_telnet *t);
