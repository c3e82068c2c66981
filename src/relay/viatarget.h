/* Forwards opened from the target: a direct-tcpip channel of a session that
 * is on an asset (a direct login `alice@deploy@web01`, or the inner session
 * of a recorded jump) to a host that names no asset means, as with OpenSSH,
 * "connect from that server" (`ssh -L 8080:localhost:8080 web01`, the
 * ports VS Code Remote-SSH opens). A forked child logs into the asset with
 * the stored credential (the pinned host key must match), opens a
 * direct-tcpip channel there and pumps it to one end of a socketpair; the
 * worker pumps the user's channel to the other end (fwd.h). */
#pragma once
#include <sys/types.h>

struct gh_app;
struct gh_asset;
struct gh_credential;
struct gh_fwdset;

/* Fork the child for HOST:PORT from asset A as ACCOUNT with CRED, the
 * secret the gate gave for this forward (session/authz.h; all borrowed:
 * the child inherits copies and wipes its own; the caller wipes CRED
 * after the call). FWDS: the parent's forwards, whose
 * fds the child closes; PARENT_FD: the parent's connection socket (closed
 * in the child). Returns the child's pid and the parent's end in *ret_fd,
 * or -1. The child exits 0 when the forward ran, 1 when it could not be
 * opened (the parent sees EOF at once). */
pid_t gh_viatarget_spawn(struct gh_app *app, const struct gh_asset *a, const char *account,
			 struct gh_credential *cred, const char *host, int port,
			 struct gh_fwdset *fwds, int parent_fd, int status_fd, int *ret_fd);
