/* Forwarding requests: recorded ProxyJump, TCP tunnels, refusals (see jump.h). */
#include "ssh/jump.h"
#include "app/app.h"
#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "policy/policy.h"
#include "session/authz.h"
#include "relay/fwd.h"
#include "ssh/hostkey.h"
#include "ssh/proclimit.h"
#include "relay/rfwd.h"
#include "relay/viatarget.h"
#include "ssh/worker.h"
#include "store/store.h"
#include "session/route.h"
#include "target/dial.h"
#include "target/target.h"

#include <libssh/server.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HOST 255

struct decision {
	struct gh_asset asset;
	bool have_asset;
	bool jump;
	char reason[300];
};

/* How a channel to HOST:PORT names asset A, best first (docs/PROXYJUMP.md,
 * "How a jump works"). A name is Gatehouse's, not a host the client can
 * reach: on port 22 (what `ssh -J gh deploy@db01` asks) or on the asset's
 * SSH port it means the asset's SSH service, a jump. An address is a real
 * host: only its SSH port is a jump, any other port (22 included) is that
 * port, a tunnel. */
enum rank { R_NAME_JUMP, R_NAME_OTHER_CASE_JUMP, R_ADDR_JUMP, R_PORT_TUNNEL, R_TUNNEL, R_NONE };

static enum rank rank_asset(const struct gh_asset *a, const char *host, int port)
{
	bool exact = !strcmp(a->name, host);
	bool named = exact || !strcasecmp(a->name, host);
	bool addressed = a->address && !strcmp(a->address, host);
	bool ssh = (a->protocols & GH_PROTO_SSH) != 0;
	if (named && ssh && (port == 22 || port == a->port))
		return exact ? R_NAME_JUMP : R_NAME_OTHER_CASE_JUMP;
	if (addressed && ssh && port == a->port)
		return R_ADDR_JUMP;
	if (!named && !addressed)
		return R_NONE;
	return port == a->port ? R_PORT_TUNNEL : R_TUNNEL;
}

/* The asset HOST:PORT names, the first of the best rank above, and whether
 * the channel is a jump to its SSH service (*RET_JUMP). GH_ENOENT when
 * none; GH_EEXIST when HOST names several assets only in other cases
 * (db01 for Db01 and DB01): no guess, refused. */
static int match_asset(struct gh_store *st, const char *host, int port, struct gh_asset *ret,
		       bool *ret_jump)
{
	struct gh_asset *v = NULL;
	size_t n = 0, n_best = 0;
	int r = gh_store_asset_list(st, &v, &n);
	if (r < 0)
		return r;
	enum rank best = R_NONE;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		enum rank k = rank_asset(&v[i], host, port);
		if (k < best) {
			best = k;
			at = i;
			n_best = 0;
		}
		if (k == best)
			n_best++;
	}
	if (best == R_NONE) {
		r = GH_ENOENT;
	} else if (best == R_NAME_OTHER_CASE_JUMP && n_best > 1) {
		r = GH_EEXIST;
	} else {
		*ret = v[at];
		memset(&v[at], 0, sizeof v[at]); /* moved out */
		*ret_jump = best <= R_ADDR_JUMP;
		r = 0;
	}
	gh_assets_free(v, n);
	return r;
}

/* The gate's request for a forward to PORT on ASSET as ACCOUNT (NULL: a
 * tunnel to the asset itself, which logs into nothing). */
static struct gh_authz_req forward_req(const struct gh_jump_ctx *c, const char *asset,
				       const char *account, int port)
{
	struct gh_authz_req rq = { .user = c->user->name,
				   .source_ip = c->args->peer_ip,
				   .asset = asset,
				   .account = account,
				   .protocol = GH_PROTO_SSH,
				   .action = GH_ACT_FORWARD,
				   .port = port };
	return rq;
}

/* May the user log in to asset A with some account (ssh or sftp)? When
 * not, REASON says why (the policy's explanation for one of its accounts). */
static bool jump_allowed(const struct gh_jump_ctx *c, struct gh_policy_subject *pc, const struct gh_asset *a,
			 char *reason, size_t len)
{
	static const uint32_t protos[] = { GH_PROTO_SSH, GH_PROTO_SFTP };
	int64_t now = gh_now();
	/* the user as it is now (the inner login checks it again, and the
	 * account through the gate) */
	if (gh_authz_user(c->st, c->user->name, c->args->peer_ip, now, NULL, NULL, reason, len) < 0)
		return false;
	for (size_t i = 0; i < 2; i++) {
		bool all = false;
		char **names = NULL;
		size_t n = 0;
		if (gh_policy_allowed_accounts(pc->p, &pc->subj, a->id, protos[i], now, &all, &names,
					       &n) < 0)
			continue;
		gh_policy_names_free(names, n);
		if (all || n)
			return true;
	}
	struct gh_account *accts = NULL;
	size_t na = 0;
	struct gh_decision dec;
	memset(&dec, 0, sizeof dec);
	if (gh_store_account_list(c->st, a->id, &accts, &na) == 0 && na > 0 &&
	    gh_policy_check(pc->p, &pc->subj, a->id, accts[0].username, GH_PROTO_SSH, GH_ACT_CONNECT,
			    now, &dec) == 0) {
		gh_authz_name_reason(c->st, c->user, a->name, &dec);
		snprintf(reason, len, "%s", dec.reason);
	} else {
		snprintf(reason, len, "denied: no account of asset %s is permitted", a->name);
	}
	gh_accounts_free(accts, na);
	return false;
}

static void forwarded(const struct gh_jump_ctx *c)
{
	if (c->on_forward)
		c->on_forward(c->ud);
}

static void deny_tunnel(const struct gh_jump_ctx *c, const char *method, const char *asset,
			const char *host, int port, const char *reason)
{
	struct gh_audit_tunnel t = { .method = method, .result = "deny", .reason = reason,
				     .host = host, .port = port };
	gh_audit_tunnel(c->st, &c->who, asset, &t);
	char esc[MAX_HOST * 4 + 1];
	gh_escape(esc, sizeof esc, host ? host : "-");
	gh_info("%s from %s: %s to %s:%d refused: %s", c->user ? c->user->name : "-", c->who.source,
		method, esc, port, reason);
}

/* Fork the child serving the inner SSH server of a jump to asset ASSET on
 * one end of a socketpair; the other end goes to *RET_FD. */
static pid_t spawn_inner(const struct gh_jump_ctx *c, const char *asset, int *ret_fd)
{
	int fd = -1;
	pid_t pid = gh_fwd_fork(c->fwds, ssh_get_fd(c->s), c->args->status_fd, &fd);
	if (pid == 0) {
		struct gh_worker_args a = *c->args;
		a.fd = fd;
		a.status_fd = -1;
		a.priv = NULL; /* already dropped: only no_new_privs and seccomp again */
		a.jump_key = c->jump_key;
		a.jump_user = c->user->name;
		a.jump_asset = asset;
		a.jump_depth = c->args->jump_depth + 1;
		_exit(gh_ssh_worker_run(c->app, &a));
	}
	if (pid > 0)
		*ret_fd = fd;
	return pid;
}

static void do_jump(const struct gh_jump_ctx *c, ssh_message msg, const struct gh_asset *a,
		    const char *host, int port)
{
	int fd = -1;
	if (!c->jump_key) {
		gh_audit_jump(c->st, &c->who, a->name, false, "no jump host key", host, port);
		ssh_message_reply_default(msg);
		return;
	}
	if (c->args->jump_depth + 1 > c->app->cfg.max_jump_depth) {
		gh_audit_jump(c->st, &c->who, a->name, false, "jump chain too deep (max_jump_depth)",
			      host, port);
		ssh_message_reply_default(msg);
		return;
	}
	int64_t slot = 0;
	char why[200];
	if (gh_proclimit_claim(c->st, &c->app->cfg, c->user, "jump", getpid(), &slot, why,
			       sizeof why) < 0) {
		gh_audit_jump(c->st, &c->who, a->name, false, why, host, port);
		ssh_message_reply_default(msg);
		return;
	}
	ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
	if (!ch) {
		gh_warn("cannot accept the jump channel to %s", a->name);
		gh_proclimit_bind(c->st, slot, -1);
		return;
	}
	pid_t pid = spawn_inner(c, a->name, &fd);
	gh_proclimit_bind(c->st, slot, pid);
	if (pid < 0) {
		gh_error("cannot start the jump to %s", a->name);
		gh_audit_jump(c->st, &c->who, a->name, false, "internal error", host, port);
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		return;
	}
	gh_audit_jump(c->st, &c->who, a->name, true, "allowed: the account is checked at the inner login",
		      host, port);
	gh_info("jump of %s from %s to %s (child %d)", c->user->name, c->who.source, a->name, (int)pid);
	if (gh_fwd_add(c->fwds, ch, fd, GH_FWD_JUMP, a->name, host, port, pid) < 0)
		kill(pid, SIGTERM);
}

/* HOST A's PORT through A's route (gateways; session/route.h), for RQ. */
static int tunnel_dial(const struct gh_jump_ctx *c, const struct gh_authz_req *rq,
		       const struct gh_asset *a, int port, int *ret_fd, char *err)
{
	struct gh_sess_route *route = NULL;
	int r = gh_sess_route_open(c->st, c->app->vault, rq, a->id, &c->who, c->app->data_dir,
				   &route, err);
	if (r == 0)
		r = gh_target_dial(gh_sess_route_dial(route), a->address, port,
				   c->app->cfg.target_connect_timeout, ret_fd, err);
	gh_sess_route_free(route);
	return r;
}

static void do_tunnel(const struct gh_jump_ctx *c, ssh_message msg, const struct gh_asset *a,
		      const char *host, int port)
{
	struct gh_authz dec;
	char err[GH_TARGET_ERRLEN], reason[GH_TARGET_ERRLEN + 32];
	int fd = -1;
	memset(&dec, 0, sizeof dec);
	struct gh_authz_req rq = forward_req(c, a->name, NULL, port);
	if (gh_authz_check(c->st, &rq, &dec) < 0 || !dec.allow) {
		deny_tunnel(c, "direct-tcpip", a->name, host, port,
			    dec.reason[0] ? dec.reason : "policy error");
		ssh_message_reply_default(msg);
		return;
	}
	if (tunnel_dial(c, &rq, a, port, &fd, err) < 0) {
		snprintf(reason, sizeof reason, "connect failed: %s", err);
		deny_tunnel(c, "direct-tcpip", a->name, host, port, reason);
		ssh_message_reply_default(msg);
		return;
	}
	ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
	if (!ch) {
		close(fd);
		return;
	}
	struct gh_audit_tunnel t = { .method = "direct-tcpip", .result = "allow", .reason = dec.reason,
				     .host = host, .port = port };
	gh_audit_tunnel(c->st, &c->who, a->name, &t);
	gh_fwd_add(c->fwds, ch, fd, GH_FWD_TUNNEL, a->name, host, port, 0);
	forwarded(c);
}

/* HOST:PORT names no asset and the session is on asset C->asset: connect
 * from there, logged in as C->account with the secret the gate gives for
 * a forward as that account (session/authz.h). */
static void do_via_target(const struct gh_jump_ctx *c, ssh_message msg, const char *host, int port)
{
	struct gh_asset a;
	struct gh_credential cred = { 0 };
	struct gh_authz dec;
	bool have_asset = false;
	char reason[400];
	int fd = -1;

	memset(&a, 0, sizeof a);
	memset(&dec, 0, sizeof dec);
	if (!c->account || !*c->account) {
		deny_tunnel(c, "direct-tcpip", c->asset, host, port,
			    "no such asset (and the login names no account to connect from)");
		goto refuse;
	}
	struct gh_authz_req rq = forward_req(c, c->asset, c->account, port);
	int r = gh_authz_credential(c->st, c->app->vault, &rq, &dec, &cred);
	if (r < 0) {
		if (r != GH_EPERM)
			gh_error("forward from %s: no credential: %s", c->asset, gh_strerror(r));
		deny_tunnel(c, "direct-tcpip", c->asset, host, port,
			    r == GH_EPERM ? dec.reason : "the stored credentials cannot be used");
		goto refuse;
	}
	if (gh_store_asset_get(c->st, c->asset, &a) < 0) {
		deny_tunnel(c, "direct-tcpip", c->asset, host, port, "no such asset");
		goto refuse;
	}
	have_asset = true;
	bool direct = false;
	if (gh_sess_route_is_direct(c->st, a.id, &direct) < 0 || !direct) {
		deny_tunnel(c, "direct-tcpip", a.name, host, port,
			    "forwards from an asset behind a gateway or jumpoint are not supported");
		goto refuse;
	}
	int64_t slot = 0;
	if (gh_proclimit_claim(c->st, &c->app->cfg, c->user, "forward", getpid(), &slot, reason,
			       sizeof reason) < 0) {
		deny_tunnel(c, "direct-tcpip", a.name, host, port, reason);
		goto refuse;
	}
	ssh_channel ch = ssh_message_channel_request_open_reply_accept(msg);
	if (!ch) {
		gh_proclimit_bind(c->st, slot, -1);
		goto out;
	}
	pid_t pid = gh_viatarget_spawn(c->app, &a, c->account, &cred, host, port, c->fwds,
				       ssh_get_fd(c->s), c->args->status_fd, &fd);
	gh_proclimit_bind(c->st, slot, pid);
	if (pid < 0) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
		goto out;
	}
	snprintf(reason, sizeof reason, "%s; connected from %s", dec.reason, a.name);
	struct gh_audit_tunnel t = { .method = "direct-tcpip", .result = "allow", .reason = reason,
				     .host = host, .port = port };
	gh_audit_tunnel(c->st, &c->who, a.name, &t);
	gh_fwd_add(c->fwds, ch, fd, GH_FWD_TUNNEL, a.name, host, port, pid);
	forwarded(c);
	goto out;
refuse:
	ssh_message_reply_default(msg);
out:
	gh_credential_clear(&cred); /* the child has its own copy */
	if (have_asset)
		gh_asset_free(&a);
}

static void direct_tcpip(const struct gh_jump_ctx *c, ssh_message msg)
{
	const char *host = ssh_message_channel_request_open_destination(msg);
	int port = ssh_message_channel_request_open_destination_port(msg);
	struct decision d;
	struct gh_policy_subject pc;
	char esc[MAX_HOST * 4 + 1];

	memset(&d, 0, sizeof d);
	memset(&pc, 0, sizeof pc);
	if (!host || !*host || strnlen(host, MAX_HOST + 1) > MAX_HOST || port <= 0 || port > 65535) {
		deny_tunnel(c, "direct-tcpip", NULL, host && strnlen(host, MAX_HOST + 1) <= MAX_HOST ? host : NULL,
			    port, "malformed destination");
		ssh_message_reply_default(msg);
		return;
	}
	if (gh_fwdset_count(c->fwds) >= (size_t)c->app->cfg.max_tunnel_connections) {
		snprintf(d.reason, sizeof d.reason, "too many tunnel connections (max_tunnel_connections %d)",
			 c->app->cfg.max_tunnel_connections);
		deny_tunnel(c, "direct-tcpip", NULL, host, port, d.reason);
		gh_warn("%s from %s: %s", c->user->name, c->who.source, d.reason);
		ssh_message_reply_default(msg);
		return;
	}
	int r = match_asset(c->st, host, port, &d.asset, &d.jump);
	if (r == GH_ENOENT && c->asset) {
		do_via_target(c, msg, host, port);
		return;
	}
	if (r < 0) {
		deny_tunnel(c, "direct-tcpip", NULL, host, port,
			    r == GH_ENOENT   ? "no such asset"
			    : r == GH_EEXIST ? "ambiguous: several assets have this name in other cases"
					     : "store error");
		ssh_message_reply_default(msg);
		return;
	}
	d.have_asset = true;
	if (!d.jump) {
		do_tunnel(c, msg, &d.asset, host, port);
		goto out;
	}
	if (gh_policy_subject_load(c->st, c->user->id, &pc) < 0) {
		gh_audit_jump(c->st, &c->who, d.asset.name, false, "policy unavailable", host, port);
		ssh_message_reply_default(msg);
		goto out;
	}
	if (!jump_allowed(c, &pc, &d.asset, d.reason, sizeof d.reason)) {
		gh_audit_jump(c->st, &c->who, d.asset.name, false, d.reason, host, port);
		gh_info("%s from %s: jump to %s refused: %s", c->user->name, c->who.source,
			gh_escape(esc, sizeof esc, d.asset.name), d.reason);
		ssh_message_reply_default(msg);
		goto out;
	}
	do_jump(c, msg, &d.asset, host, port);
out:
	gh_policy_subject_free(&pc);
	if (d.have_asset)
		gh_asset_free(&d.asset);
}

/* tcpip-forward: allowed on a session on an asset with the `forward`
 * action there (port listed), recorded for the target (rfwd.h). */
static void remote_forward(const struct gh_jump_ctx *c, ssh_message msg, const char *addr, int port)
{
	struct gh_authz dec;
	char reason[sizeof dec.reason + 300];
	bool ok = false;

	memset(&dec, 0, sizeof dec);
	if (!c->app->cfg.allow_remote_forward) {
		snprintf(reason, sizeof reason, "remote forwarding is disabled (allow_remote_forward = no)");
	} else if (!c->asset || !c->account || !c->rfwd) {
		snprintf(reason, sizeof reason,
			 "remote forwarding needs a login on an asset (USER@ACCOUNT@ASSET)");
	} else if (port <= 0 || port > 65535) {
		snprintf(reason, sizeof reason, "a listen port is needed (port 0 is not supported)");
	} else {
		/* the account the target session logs in as must be the user's
		 * for a forward there (the gate, session/authz.h) */
		struct gh_authz_req rq = forward_req(c, c->asset, c->account, port);
		if (gh_authz_check(c->st, &rq, &dec) < 0) {
			snprintf(reason, sizeof reason, "policy unavailable");
		} else if (!dec.allow) {
			snprintf(reason, sizeof reason, "%s", dec.reason);
		} else {
			int r = gh_rfwd_add(c->rfwd, addr, port);
			if (r == 0 || r == GH_EEXIST)
				ok = true;
			else
				snprintf(reason, sizeof reason, "%s",
					 r == GH_ELIMIT ? "too many remote forwards" : "malformed request");
		}
	}
	if (ok) {
		snprintf(reason, sizeof reason, "%s; listening on %s", dec.reason, c->asset);
		struct gh_audit_tunnel t = { .method = "tcpip-forward", .result = "allow",
					     .reason = reason, .host = addr, .port = port };
		gh_audit_tunnel(c->st, &c->who, c->asset, &t);
		ssh_message_global_request_reply_success(msg, (uint16_t)port);
		forwarded(c);
	} else {
		deny_tunnel(c, "tcpip-forward", c->asset, addr, port, reason);
		ssh_message_reply_default(msg);
	}
}

static void global_request(const struct gh_jump_ctx *c, ssh_message msg)
{
	const char *addr = ssh_message_global_request_address(msg);
	int port = ssh_message_global_request_port(msg);
	if (!addr || strnlen(addr, MAX_HOST + 1) > MAX_HOST) {
		if (ssh_message_subtype(msg) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD)
			deny_tunnel(c, "tcpip-forward", NULL, NULL, port, "malformed request");
		ssh_message_reply_default(msg);
		return;
	}
	if (ssh_message_subtype(msg) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
		remote_forward(c, msg, addr, port);
	} else if (gh_rfwd_cancel(c->rfwd, addr, port) == 0) {
		char esc[MAX_HOST * 4 + 1];
		gh_info("remote forward %s:%d cancelled", gh_escape(esc, sizeof esc, addr), port);
		ssh_message_global_request_reply_success(msg, 0);
	} else {
		ssh_message_reply_default(msg);
	}
}

int gh_jump_message(const struct gh_jump_ctx *c, ssh_message msg)
{
	int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
	if (!c->user)
		return 1;
	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP) {
		direct_tcpip(c, msg);
		return 0;
	}
	if (type == SSH_REQUEST_GLOBAL && (sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD ||
					   sub == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD)) {
		global_request(c, msg);
		return 0;
	}
	if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_X11) {
		deny_tunnel(c, "x11", NULL, NULL, 0,
			    c->app->cfg.allow_x11_forwarding
				    ? "X11 forwarding needs a login on an asset (USER@ACCOUNT@ASSET)"
				    : "X11 forwarding is disabled (allow_x11_forwarding = no)");
		ssh_message_reply_default(msg);
		return 0;
	}
	return 1;
}
