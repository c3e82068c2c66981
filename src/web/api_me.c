/* What every signed-in user may see and do for themselves: their SSH keys
 * (the rules and JSON of `gatehouse user key`) and the assets and accounts
 * the policy gives them (the gate's own answer: policy/policy.h). */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "policy/policy.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define MY_LIMIT_DEFAULT 100
#define MY_LIMIT_MAX 1000

int gh_web_h_my_keys(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_user_key *v = NULL;
	size_t n = 0;
	int r = gh_store_key_list(ctx->st, req->user_id, &v, &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "keys");
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, gh_cli_key_json(&v[i]));
	gh_user_keys_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

int gh_web_h_my_key_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct gh_pubkey pk = { 0 };
	char err[256], detail[200];
	int64_t id = 0;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *line = json_string_value(json_object_get(b, "key"));
	if (!line || json_object_size(b) != 1) {
		gh_web_error(resp, 400, "give \"key\": one OpenSSH public key line");
		goto out;
	}
	if (gh_pubkey_parse_line(line, &pk, err, sizeof err) < 0) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	struct gh_user_key k = { .user_id = req->user_id, .type = pk.type, .base64 = pk.base64,
				 .comment = pk.comment, .fingerprint = pk.fingerprint };
	int r = gh_store_key_add(ctx->st, &k, &id);
	snprintf(detail, sizeof detail, "\"%s\" %s", req->user, pk.fingerprint);
	gh_web_audit_change(ctx, req, "user key add", r == 0, detail);
	if (r < 0) {
		gh_web_store_error(resp, r, "key");
		goto out;
	}
	k.id = id;
	k.created_at = gh_now();
	gh_web_json(resp, 201, gh_cli_key_json(&k));
out:
	gh_pubkey_clear(&pk);
	json_decref(b);
	return 0;
}

int gh_web_h_my_key_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_user_key *v = NULL;
	size_t n = 0;
	long long id = 0;
	char detail[200];
	int r = gh_store_key_list(ctx->st, req->user_id, &v, &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "keys");
	const struct gh_user_key *k = NULL;
	for (size_t i = 0; gh_parse_ll(req->params[0], &id) == 0 && i < n && !k; i++)
		k = v[i].id == id ? &v[i] : NULL;
	if (!k) { /* another user's key is not found either */
		gh_user_keys_free(v, n);
		return gh_web_error(resp, 404, "key not found");
	}
	r = gh_store_key_del(ctx->st, req->user_id, k->fingerprint);
	snprintf(detail, sizeof detail, "\"%s\" %s", req->user, k->fingerprint);
	gh_web_audit_change(ctx, req, "user key del", r == 0, detail);
	if (r < 0)
		gh_web_store_error(resp, r, "key");
	else
		gh_web_json(resp, 200, json_pack("{s:s}", "deleted", k->fingerprint));
	gh_user_keys_free(v, n);
	return 0;
}

/* The accounts S may use on asset A over PROTO now: the policy's names, or
 * every account of the asset when a permission allows all. */
static json_t *my_accounts(struct gh_web_ctx *ctx, const struct gh_policy_subject *ps,
			   const struct gh_asset *a, uint32_t proto)
{
	bool all = false;
	char **names = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	if (gh_policy_allowed_accounts(ps->p, &ps->subj, a->id, proto, gh_now(), &all, &names,
				       &n) < 0)
		return arr;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	gh_policy_names_free(names, n);
	struct gh_account *acc = NULL;
	size_t na = 0;
	if (all && gh_store_account_list(ctx->st, a->id, &acc, &na) == 0) {
		for (size_t i = 0; i < na; i++)
			json_array_append_new(arr, json_string(acc[i].username));
		gh_accounts_free(acc, na);
	}
	return arr;
}

/* limit, cursor (the last id of the page before) and protocol of REQ. */
static int my_assets_query(const struct gh_web_req *req, struct gh_web_resp *resp,
			   long long *limit, long long *after, uint32_t *proto)
{
	char v[64];
	int r = gh_web_query(req, "limit", v, sizeof v);
	if (r == GH_EINVAL || (r == 0 && (gh_parse_ll(v, limit) < 0 || *limit < 1 ||
					  *limit > MY_LIMIT_MAX)))
		return gh_web_error(resp, 400, "limit: an integer from 1 to %d", MY_LIMIT_MAX),
		       GH_EINVAL;
	r = gh_web_query(req, "cursor", v, sizeof v);
	if (r == GH_EINVAL || (r == 0 && (gh_parse_ll(v, after) < 0 || *after < 0)))
		return gh_web_error(resp, 400, "bad cursor"), GH_EINVAL;
	r = gh_web_query(req, "protocol", v, sizeof v);
	if (r == GH_EINVAL || (r == 0 && (gh_protocols_parse(v, proto) < 0 ||
					  __builtin_popcount(*proto) != 1)))
		return gh_web_error(resp, 400, "protocol: one of ssh, sftp, ..."), GH_EINVAL;
	return 0;
}

int gh_web_h_my_assets(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_policy_subject ps = { 0 };
	int64_t *ids = NULL;
	size_t n = 0, i = 0;
	long long limit = MY_LIMIT_DEFAULT, after = 0;
	uint32_t proto = GH_PROTO_SSH;
	if (my_assets_query(req, resp, &limit, &after, &proto) < 0)
		return 0;
	int r = gh_policy_subject_load(ctx->st, req->user_id, &ps);
	if (r == 0)
		r = gh_policy_allowed_assets(ps.p, &ps.subj, proto, gh_now(), &ids, &n);
	if (r < 0) {
		gh_policy_subject_free(&ps);
		return gh_web_store_error(resp, r, "policy");
	}
	json_t *items = json_array(), *next = json_null();
	while (i < n && ids[i] <= after) /* ids are sorted */
		i++;
	for (long long k = 0; i < n && k < limit; i++) {
		struct gh_asset a = { 0 };
		if (gh_store_asset_get_by_id(ctx->st, ids[i], &a) < 0)
			continue;
		json_t *j = gh_cli_asset_json(&a);
		json_object_set_new(j, "accounts", my_accounts(ctx, &ps, &a, proto));
		json_array_append_new(items, j);
		gh_asset_free(&a);
		if (++k == limit && i + 1 < n) {
			json_decref(next);
			next = json_sprintf("%lld", (long long)ids[i]);
		}
	}
	free(ids);
	gh_policy_subject_free(&ps);
	return gh_web_json(resp, 200, json_pack("{s:o, s:o}", "items", items, "next", next));
}
