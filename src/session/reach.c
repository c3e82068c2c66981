/* The session core reaching its target (see session.h, gh_sess_reach). */
#include "session/session.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/log.h"
#include "session/authz.h"
#include "session/route.h"
#include "store/store.h"
#include "target/dial.h"
#include "target/target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT_PERMITTED "not permitted"

/* Log in to TS as O->account with the secret the gate gives (authz.h:
 * the user and the permission as they are now); the secret exists in
 * clear only inside this function. ERR: the user's one-liner. */
static int reach_login(struct gh_sess *s, const struct gh_sess_reach *o, ssh_session ts,
		       char *err)
{
	struct gh_credential cred = { 0 };
	struct gh_authz dec;
	struct gh_authz_req rq = { .user = gh_sess_who(s).user,
				   .source_ip = gh_sess_source_ip(s),
				   .asset = o->asset->name,
				   .account = o->account,
				   .protocol = o->protocol,
				   .action = GH_ACT_CONNECT };
	int r = gh_authz_credential(o->st, o->vault, &rq, &dec, &cred);
	if (r == GH_EPERM) {
		struct gh_audit_who aw = gh_sess_who(s);
		gh_audit_policy(o->st, &aw, o->asset->name, o->account, false, dec.reason);
		snprintf(err, GH_TARGET_ERRLEN, NOT_PERMITTED);
	} else if (r < 0) {
		gh_error("cannot unseal the secret of %s@%s: %s", o->account, o->asset->name,
			 gh_strerror(r));
		snprintf(err, GH_TARGET_ERRLEN, "the stored credentials cannot be used");
	} else {
		r = gh_target_auth(ts, cred.kind, cred.secret, err);
	}
	gh_credential_clear(&cred);
	return r;
}

/* The host key TS presented against the asset's pinned one
 * (gh_sess_host_key_check: pinned on first use, refused when changed). */
static int reach_host_key(struct gh_sess *s, const struct gh_sess_reach *o, ssh_session ts,
			  char *err)
{
	struct gh_audit_who aw = gh_sess_who(s);
	char *hk = NULL, *fp = NULL;
	int r = gh_fault("target-hostkey") ? GH_EIO : gh_target_host_key(ts, &hk, &fp);
	if (r < 0)
		snprintf(err, GH_TARGET_ERRLEN, "cannot read the host key");
	else
		r = gh_sess_host_key_check(o->st, &aw, o->asset, hk, fp, err);
	free(hk);
	free(fp);
	return r;
}

/* The route to O->asset (gateways), its path audited when there is one. */
static int reach_route(struct gh_sess *s, const struct gh_sess_reach *o,
		       struct gh_sess_route **ret, char *err)
{
	struct gh_audit_who aw = gh_sess_who(s);
	struct gh_authz_req rq = { .user = aw.user,
				   .source_ip = gh_sess_source_ip(s),
				   .asset = o->asset->name,
				   .account = o->account,
				   .protocol = o->protocol,
				   .action = GH_ACT_CONNECT };
	int r = gh_sess_route_open(o->st, o->vault, &rq, o->asset->id, &aw, o->data_dir, ret, err);
	const char *path = r == 0 ? gh_sess_route_path(*ret) : "";
	if (r < 0 || *path) {
		char detail[700];
		snprintf(detail, sizeof detail, "path=\"%s%s%s\"", path, *path ? " > " : "",
			 o->asset->name);
		gh_audit_event(o->st, &aw, "route", o->asset->name, o->account,
			       strncmp(path, "jumpoint ", 9) ? "gateway" : "jumpoint",
			       r < 0 ? "error" : "ok", r < 0 ? err : NULL, r < 0 ? NULL : detail);
	}
	return r;
}

/* The jumpoint node that carries the target, if any (its loss ends the
 * session with its own reason). */
static void reach_used(struct gh_sess *s, const struct gh_sess_route *route)
{
	int64_t node = 0, pid = 0;
	gh_sess_route_used(route, &node, &pid);
	if (node)
		gh_sess_set_jumpoint(s, node, pid);
}

int gh_sess_dial(struct gh_sess *s, const struct gh_sess_reach *o, int port, int *ret_fd,
		 char *err)
{
	struct gh_sess_route *route = NULL;
	int r = reach_route(s, o, &route, err);
	if (r == 0)
		r = gh_target_dial(gh_sess_route_dial(route), o->asset->address, port, o->timeout,
				   ret_fd, err);
	reach_used(s, route);
	gh_sess_route_free(route);
	return r;
}

int gh_sess_reach(struct gh_sess *s, const struct gh_sess_reach *o, ssh_session *ret, char *err)
{
	ssh_session ts = NULL;
	struct gh_sess_route *route = NULL;
	int r = reach_route(s, o, &route, err);
	if (r < 0)
		return r;
	struct gh_target_conn tc = { .route = gh_sess_route_dial(route),
				     .address = o->asset->address,
				     .port = o->asset->port,
				     .username = o->account,
				     .pinned_host_key = o->asset->host_key,
				     .timeout = o->timeout };
	r = gh_target_connect(&tc, &ts, err);
	reach_used(s, route);
	route = gh_sess_route_free(route);
	if (r == 0)
		r = reach_host_key(s, o, ts, err);
	if (r == 0)
		r = reach_login(s, o, ts, err);
	if (r == 0) {
		*ret = ts;
		ts = NULL;
	}
	gh_target_free(ts);
	return r;
}
