/* Access requests (see access.h). */
#include "session/access.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"

#include <stdio.h>
#include <string.h>

json_t *gh_access_json(const struct gh_access_req *a)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:o}", "id",
			 (json_int_t)a->id, "user", a->user_name, "asset", a->asset_name, "account",
			 a->account, "reason", a->reason, "ticket", a->ticket, "minutes", a->minutes,
			 "status", a->status, "created_at", gh_cli_json_time(a->created_at),
			 "decided_at", gh_cli_json_time(a->decided_at), "decided_by",
			 gh_cli_json_str(a->decided_by), "permission", gh_cli_json_str(a->perm_name));
}

/* Printable text of at most MAX bytes (no control characters). */
static bool text_ok(const char *s, size_t max)
{
	if (!s || strlen(s) > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int gh_access_request(struct gh_store *st, int64_t user_id, const char *asset,
		      const char *account, const char *reason, const char *ticket, int minutes,
		      int64_t *ret_id, char *why, size_t whylen)
{
	struct gh_asset as = { 0 };
	if (!asset || !account || !gh_valid_name(account))
		return snprintf(why, whylen, "give \"asset\" and \"account\" (names)"), GH_EINVAL;
	if (minutes < 1 || minutes > GH_ACCESS_MINUTES_MAX)
		return snprintf(why, whylen, "\"minutes\": 1 to %d", GH_ACCESS_MINUTES_MAX),
		       GH_EINVAL;
	if (!text_ok(reason ? reason : "", 500) || !text_ok(ticket ? ticket : "", 64))
		return snprintf(why, whylen, "\"reason\" (500) and \"ticket\" (64): printable text"),
		       GH_EINVAL;
	int r = gh_store_asset_get(st, asset, &as);
	if (r < 0)
		return snprintf(why, whylen, "unknown asset"), r;
	struct gh_access_req a = { .user_id = user_id, .asset_id = as.id, .account = (char *)account,
				   .reason = (char *)(reason ? reason : ""),
				   .ticket = (char *)(ticket ? ticket : ""), .minutes = minutes };
	r = gh_store_access_add(st, &a, ret_id);
	gh_asset_free(&as);
	return r;
}

int gh_access_may_decide(struct gh_store *st, int64_t id, int64_t user_id, int role)
{
	struct gh_access_req a = { 0 };
	bool approver = false;
	int r = gh_store_access_get(st, id, &a);
	if (r == 0 && role < GH_ROLE_ADMIN)
		r = a.user_id == user_id ? GH_EPERM
					 : gh_store_access_approver(st, id, user_id, &approver);
	if (r == 0 && role < GH_ROLE_ADMIN && !approver)
		r = GH_EPERM;
	gh_access_req_free(&a);
	return r;
}

int gh_access_decide(struct gh_store *st, int64_t id, bool approve, const char *by,
		     int64_t user_id, int role)
{
	struct gh_access_req a = { 0 };
	char name[64];
	int64_t now = gh_now();
	int r = gh_access_may_decide(st, id, user_id, role);
	if (r == 0)
		r = gh_store_access_get(st, id, &a);
	if (r < 0)
		return r;
	if (strcmp(a.status, "pending")) {
		gh_access_req_free(&a);
		return GH_EBUSY;
	}
	snprintf(name, sizeof name, "access-%lld", (long long)id);
	if (approve) {
		char *accounts[] = { a.account };
		struct gh_perm p = { .name = name, .actions = GH_PERM_DEFAULT_ACTIONS,
				     .protocols = GH_PROTO_SSH | GH_PROTO_SFTP, .active = true,
				     .valid_from = now, .valid_until = now + (int64_t)a.minutes * 60,
				     .user_ids = &a.user_id, .n_users = 1, .asset_ids = &a.asset_id,
				     .n_assets = 1, .accounts = accounts, .n_accounts = 1 };
		r = gh_store_perm_add(st, &p, NULL);
	}
	if (r == 0 && (r = gh_store_access_decide(st, id, approve ? "approved" : "denied", by,
						  approve ? name : NULL, now)) < 0 && approve)
		gh_store_perm_del(st, name); /* decided meanwhile: no permission */
	gh_access_req_free(&a);
	return r;
}
