/* The worker holding a jumpoint node's connection: the node's list of
 * destinations pushed to it, and the dial requests of other workers served
 * on DATA/run/jp-NODE.sock, each one a forwarded-tcpip channel to the agent
 * pumped to the requesting worker's unix connection (protocol: jpnode.h). */
#pragma once
#include <libssh/libssh.h>
#include <stdint.h>

struct gh_store;
struct gh_jpserve;

/* Listen, push the destinations. S and EV borrowed. */
int gh_jpserve_open(struct gh_store *st, ssh_session s, ssh_event ev, int64_t node,
		    const char *data_dir, struct gh_jpserve **ret);
/* After every poll: accept and serve requests, move bytes. */
void gh_jpserve_tick(struct gh_jpserve *js);
/* Push the destinations again when they changed (heartbeat). */
void gh_jpserve_refresh(struct gh_jpserve *js);
/* End every connection (REASON), remove the socket. Accepts NULL. */
void gh_jpserve_close(struct gh_jpserve *js, const char *reason);
