/* The session core's gate (see authz.h). */
#include "session/authz.h"
#include "core/error.h"
#include "core/util.h"
#include "policy/policy.h"
#include "ssh/loginpolicy.h"
#include "store/edit.h"
#include "store/route.h"
#include "store/store.h"
#include "vault/vault.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool one_bit(uint32_t v)
{
	return v && !(v & (v - 1));
}

int gh_authz_user(struct gh_store *st, const char *name, const char *source_ip, int64_t now,
		  struct gh_user *ret_user, bool *ret_found, char *reason, size_t reasonlen)
{
	struct gh_user u;
	bool found = false;
	int r;

	memset(&u, 0, sizeof u);
	snprintf(reason, reasonlen, "store error");
	r = gh_store_user_get(st, name, &u);
	if (r == GH_ENOENT) {
		snprintf(reason, reasonlen, "unknown user");
		r = GH_EPERM;
		goto out;
	}
	if (r < 0)
		goto out;
	found = true;
	if (u.disabled) {
		snprintf(reason, reasonlen, "disabled");
		r = GH_EPERM;
		goto out;
	}
	r = gh_store_user_locked(st, u.id);
	if (r != 0) {
		if (r > 0)
			snprintf(reason, reasonlen, "locked");
		r = r > 0 ? GH_EPERM : r;
		goto out;
	}
	if (source_ip) {
		/* REASON: "acl deny rule=..." or "acl error..." */
		r = gh_login_acl_check(st, &u, source_ip, now, reason, reasonlen);
		if (r < 0)
			r = GH_EPERM;
	}
out:
	if (r == 0 && reasonlen)
		reason[0] = '\0';
	if (ret_found)
		*ret_found = found && ret_user;
	if (found && ret_user)
		*ret_user = u;
	else if (found)
		gh_user_free(&u);
	return r;
}

static bool req_ok(const struct gh_authz_req *rq)
{
	if (!rq || !rq->user || !rq->user[0] || !rq->asset || !rq->asset[0] ||
	    !one_bit(rq->protocol) || !(rq->protocol & GH_PROTO_ALL) || !one_bit(rq->action) ||
	    !(rq->action & GH_ACT_ALL))
		return false;
	if (rq->account && !rq->account[0])
		return false;
	/* a forward names its port; without one (an admin's "any port?"
	 * question) it must name the account */
	if (rq->action == GH_ACT_FORWARD && rq->port != 0)
		return rq->port >= 1 && rq->port <= 65535;
	return rq->account && rq->port == 0;
}

void gh_authz_name_reason(struct gh_store *st, const struct gh_user *u, const char *asset,
			  struct gh_decision *dec)
{
	char **groups = NULL;
	size_t ng = 0;
	if (!st || !u || !dec || (dec->deny != GH_DENY_NO_SUBJECT && dec->deny != GH_DENY_NOT_COVERED))
		return;
	if (gh_store_user_group_names(st, u->id, &groups, &ng) < 0)
		return;
	struct gh_reason_names n = { .user = u->name, .asset = asset,
				     .groups = (const char *const *)groups, .n_groups = ng };
	gh_policy_name_reason(dec, &n);
	gh_store_names_free(groups, ng);
}

/* Step 3: the permissions of user U (asset A) for RQ at NOW into D. */
static int policy_step(struct gh_store *st, const struct gh_user *u, const struct gh_asset *a,
		       const struct gh_authz_req *rq, int64_t now, struct gh_authz *d)
{
	struct gh_policy_subject ps;
	struct gh_decision dec;

	memset(&dec, 0, sizeof dec);
	int r = gh_policy_subject_load(st, u->id, &ps);
	if (r == 0)
		r = rq->action == GH_ACT_FORWARD && rq->port
			    ? gh_policy_check_forward(ps.p, &ps.subj, a->id, rq->account, rq->port, now, &dec)
			    : gh_policy_check(ps.p, &ps.subj, a->id, rq->account, rq->protocol, rq->action,
					      now, &dec);
	if (r == 0 && !dec.allow)
		gh_authz_name_reason(st, u, a->name, &dec);
	if (r < 0) {
		snprintf(d->reason, sizeof d->reason, "policy unavailable");
	} else {
		d->allow = dec.allow;
		d->perm_id = dec.perm_id;
		snprintf(d->perm_name, sizeof d->perm_name, "%s", dec.perm_name);
		snprintf(d->reason, sizeof d->reason, "%s", dec.reason);
	}
	gh_policy_subject_free(&ps);
	return r;
}

int gh_authz_check(struct gh_store *st, const struct gh_authz_req *rq, struct gh_authz *ret)
{
	struct gh_user u;
	struct gh_asset a;
	struct gh_account acct;
	bool have_user = false, have_asset = false;
	struct gh_authz d;
	int r;

	if (!st || !ret || !req_ok(rq))
		return GH_EINVAL;
	memset(&d, 0, sizeof d);
	memset(&u, 0, sizeof u);
	memset(&a, 0, sizeof a);
	int64_t now = rq->now ? rq->now : gh_now();

	/* 1. the user, as the store has it now */
	r = gh_authz_user(st, rq->user, rq->source_ip, now, &u, &have_user, d.reason,
			  sizeof d.reason);
	if (have_user)
		d.user_id = u.id;
	if (r < 0) {
		d.user_refused = true;
		goto out;
	}
	/* 2. the asset and the account on it */
	r = gh_store_asset_get(st, rq->asset, &a);
	if (r < 0) {
		snprintf(d.reason, sizeof d.reason, "%s", r == GH_ENOENT ? "no such asset" : "store error");
		goto out;
	}
	have_asset = true;
	d.asset_id = a.id;
	if (rq->account) {
		memset(&acct, 0, sizeof acct);
		r = gh_store_account_get(st, a.id, rq->account, &acct);
		if (r < 0) {
			snprintf(d.reason, sizeof d.reason, "%s",
				 r == GH_ENOENT ? "no such account" : "store error");
			goto out;
		}
		gh_account_free(&acct);
	}
	/* 3. the permissions */
	policy_step(st, &u, &a, rq, now, &d);
out:
	if (have_user)
		gh_user_free(&u);
	if (have_asset)
		gh_asset_free(&a);
	*ret = d;
	return 0;
}

/* Unseal the secret of ACCOUNT on asset ASSET_ID into *RET. */
static int unseal_account(struct gh_store *st, struct gh_vault *v, int64_t asset_id,
			  const char *account, struct gh_credential *ret)
{
	struct gh_account acct;
	char ad[160];
	char *secret = NULL;
	size_t len = 0;

	memset(&acct, 0, sizeof acct);
	int r = gh_store_account_get(st, asset_id, account, &acct);
	if (r < 0)
		return r;
	gh_vault_ad_account(ad, sizeof ad, asset_id, account);
	r = gh_vault_unseal(v, acct.sealed, acct.sealed_len, ad, &secret, &len);
	if (r == 0) {
		ret->kind = acct.secret_kind;
		ret->secret = secret;
		ret->len = len;
	}
	gh_account_free(&acct);
	return r;
}

int gh_authz_credential(struct gh_store *st, struct gh_vault *v, const struct gh_authz_req *rq,
			struct gh_authz *ret_dec, struct gh_credential *ret)
{
	struct gh_authz d;

	if (!v || !ret || !ret_dec || !rq || !rq->account)
		return GH_EINVAL;
	int r = gh_authz_check(st, rq, &d);
	if (r < 0)
		return r;
	*ret_dec = d;
	if (!d.allow)
		return GH_EPERM;
	return unseal_account(st, v, d.asset_id, rq->account, ret);
}

int gh_authz_gateway_credential(struct gh_store *st, struct gh_vault *v,
				const struct gh_authz_req *rq, int64_t gateway_id,
				struct gh_authz *ret_dec, struct gh_credential *ret)
{
	struct gh_authz d;
	struct gh_gateway *hops = NULL;
	size_t n = 0;

	if (!v || !ret || !ret_dec || !rq)
		return GH_EINVAL;
	int r = gh_authz_check(st, rq, &d);
	if (r < 0)
		return r;
	*ret_dec = d;
	if (!d.allow)
		return GH_EPERM;
	r = gh_store_route(st, d.asset_id, &hops, &n);
	if (r < 0)
		return r;
	r = GH_EPERM; /* only a gateway of this asset's route */
	for (size_t i = 0; i < n; i++)
		if (hops[i].id == gateway_id)
			r = unseal_account(st, v, hops[i].asset_id, hops[i].account, ret);
	gh_gateways_free(hops, n);
	return r;
}

void gh_credential_clear(struct gh_credential *c)
{
	if (!c)
		return;
	gh_secret_free(c->secret);
	memset(c, 0, sizeof *c);
}
