/* Channels a target session opens back to the user, relayed: agent
 * forwarding (`ssh -A`), X11 forwarding (`ssh -X`/`-Y`) and remote
 * forwards (`ssh -R`, forwarded-tcpip).
 *
 * Agent: when the user asked for agent forwarding and
 * allow_agent_forwarding is on, the worker asks the target for it too
 * (gh_target_req.agent) and every auth-agent@openssh.com channel the
 * target then opens back is accepted here (a session callback on the
 * target). X11 the same way (gh_target_req.x11_*, x11 channels). Remote
 * forwards: rfwd.h accepts the target's forwarded-tcpip
 * channels and hands them over with gh_backfwd_adopt_tcpip.
 *
 * For each one a channel of the same type is opened to the user
 * (non-blocking, finished in gh_backfwd_tick), and the two channels are
 * pumped through a socketpair by two forward sets (fwd.h): one on the
 * user's session, one on the target's. Both sessions must be in EV while
 * the relay runs. At most GH_BACKFWD_MAX channels at once; more are
 * refused.
 *
 * The hooks' on_end is called once per relayed connection (user side;
 * kind GH_FWD_AGENT, GH_FWD_X11 or GH_FWD_RFWD). */
#pragma once
#include <libssh/libssh.h>
#include <stdbool.h>

#include "relay/fwd.h"

#define GH_BACKFWD_MAX 256

struct gh_backfwd;

/* AGENT, X11: accept the target's agent, x11 channels (installs the
 * target session's callbacks). ASSET is copied. NULL on ENOMEM. */
struct gh_backfwd *gh_backfwd_new(ssh_session user, ssh_session target, ssh_event ev,
				  const char *asset, bool agent, bool x11,
				  const struct gh_fwdset_hooks *h);

/* Relay TCH, a forwarded-tcpip channel accepted from the target, to a
 * forwarded-tcpip channel opened to the user for HOST:PORT (the address
 * and port of the user's tcpip-forward request) from ORIG:ORIG_PORT.
 * Takes TCH (closed and freed when refused); false when refused. */
bool gh_backfwd_adopt_tcpip(struct gh_backfwd *b, ssh_channel tch, const char *host, int port,
			    const char *orig, int orig_port);

/* Relayed connections at once (pending opens included). Accepts NULL. */
size_t gh_backfwd_count(const struct gh_backfwd *b);

/* After every poll: finish pending opens, pump. ABORT_REASON as in
 * gh_fwdset_tick. Accepts NULL. */
void gh_backfwd_tick(struct gh_backfwd *b, const char *abort_reason);

/* End every connection (REASON), remove the target callbacks, free.
 * Accepts NULL; returns NULL. */
struct gh_backfwd *gh_backfwd_free(struct gh_backfwd *b, const char *reason);
