/* Agent forwarding (`ssh -A`) relayed through a target session.
 *
 * When the user asked for agent forwarding and allow_agent_forwarding is
 * on, the worker asks the target for it too (gh_target_req.agent). Every
 * auth-agent@openssh.com channel the target then opens back is accepted,
 * an auth-agent channel is opened to the user (non-blocking, finished in
 * gh_agentfwd_tick), and the two channels are pumped through a socketpair
 * by two forward sets (fwd.h): one on the user's session, one on the
 * target's. Both sessions must be in EV while the relay runs. At most
 * GH_AGENTFWD_MAX channels at once; more are refused.
 *
 * The hooks' on_end is called once per agent connection (user side). */
#pragma once
#include <libssh/libssh.h>

#include "ssh/fwd.h"

#define GH_AGENTFWD_MAX 16

struct gh_agentfwd;

/* Installs the target session's callbacks. ASSET is copied. NULL on ENOMEM. */
struct gh_agentfwd *gh_agentfwd_new(ssh_session user, ssh_session target, ssh_event ev,
				    const char *asset, const struct gh_fwdset_hooks *h);

/* After every poll: finish pending opens, pump. ABORT_REASON as in
 * gh_fwdset_tick. Accepts NULL. */
void gh_agentfwd_tick(struct gh_agentfwd *a, const char *abort_reason);

/* End every agent connection (REASON), remove the target callbacks, free.
 * Accepts NULL; returns NULL. */
struct gh_agentfwd *gh_agentfwd_free(struct gh_agentfwd *a, const char *reason);
