/* The session core reaching its target (see session.h, gh_sess_reach). */
#include "session/session.h"
#include "audit/audit.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/log.h"
#include "session/authz.h"
#include "store/store.h"
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

/* The host key TS presented against the asset's pinned one: pinned on
 * first use, refused when it changed (both audited). */
static int reach_host_key(struct gh_sess *s, const struct gh_sess_reach *o, ssh_session ts,
			  char *err)
{
	const struct gh_asset *a = o->asset;
	struct gh_audit_who aw = gh_sess_who(s);
	char *hk = NULL, *fp = NULL;
	int r = gh_fault("target-hostkey") ? GH_EIO : gh_target_host_key(ts, &hk, &fp);
	if (r < 0) {
		snprintf(err, GH_TARGET_ERRLEN, "cannot read the host key");
		goto out;
	}
	if (a->host_key && *a->host_key) {
		if (!gh_target_host_key_equal(a->host_key, hk)) {
			char detail[512];
			snprintf(detail, sizeof detail, "presented %s (%.40s...)", fp, hk);
			gh_audit_hostkey(o->st, &aw, a->name, "mismatch", detail);
			gh_warn("host key of asset %s changed: now %s; refused", a->name, fp);
			snprintf(err, GH_TARGET_ERRLEN, "host key changed");
			r = GH_EHOSTKEY;
		}
		goto out;
	}
	r = gh_store_asset_set_host_key(o->st, a->id, hk);
	if (r < 0)
		gh_error("cannot pin host key of %s: %s", a->name, gh_strerror(r));
	gh_audit_hostkey(o->st, &aw, a->name, "pinned", fp);
	gh_info("pinned host key of %s: %s", a->name, fp);
	r = 0;
out:
	free(hk);
	free(fp);
	return r;
}

int gh_sess_reach(struct gh_sess *s, const struct gh_sess_reach *o, ssh_session *ret, char *err)
{
	ssh_session ts = NULL;
	struct gh_target_conn tc = { .address = o->asset->address,
				     .port = o->asset->port,
				     .username = o->account,
				     .pinned_host_key = o->asset->host_key,
				     .timeout = o->timeout };
	int r = gh_target_connect(&tc, &ts, err);
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
