/* /api/v1/assets/{name}/accounts: accounts and their secrets, which are
 * written (sealed by gh_account_seal_store, as `account add`) and never
 * returned. */
#include "web/http.h"
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PASSWORD_MAX 4096

static json_t *account_json(const struct gh_account *a)
{
	return json_pack("{s:s, s:s}", "username", a->username, "secret",
			 a->secret_kind == GH_SECRET_KEY ? "key" : "password");
}

int gh_web_h_account_list(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	struct gh_asset as = { 0 };
	struct gh_account *v = NULL;
	size_t n = 0;
	int r = gh_store_asset_get(ctx->st, req->params[0], &as);
	if (r == 0)
		r = gh_store_account_list(ctx->st, as.id, &v, &n);
	gh_asset_free(&as);
	if (r < 0)
		return gh_web_store_error(resp, r, "asset");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, account_json(&v[i]));
	gh_accounts_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", a, "next"));
}

/* POST: {"username", "password"}: a new account; PUT .../{username}:
 * {"password"}: its new secret. */
static int write_account(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
			 bool set)
{
	json_t *b = NULL;
	struct gh_asset as = { 0 };
	struct gh_account acc = { 0 };
	char detail[160];
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *user = set ? req->params[1] : json_string_value(json_object_get(b, "username"));
	const char *pw = json_string_value(json_object_get(b, "password"));
	size_t keys = json_object_size(b);
	if (!user || !gh_valid_name(user) || !pw || !*pw || strlen(pw) > PASSWORD_MAX ||
	    keys != (set ? 1u : 2u)) {
		gh_web_error(resp, 400, "give %s\"password\" (and nothing else)",
			     set ? "" : "\"username\", ");
		goto out;
	}
	if ((r = gh_store_asset_get(ctx->st, req->params[0], &as)) < 0 ||
	    (set && (r = gh_store_account_get(ctx->st, as.id, user, &acc)) < 0)) {
		gh_web_store_error(resp, r, r == GH_ENOENT && as.id ? "account" : "asset");
		goto out;
	}
	r = gh_account_seal_store(ctx->st, ctx->app->vault, as.id, set ? acc.id : 0, user,
				  GH_SECRET_PASSWORD, pw, strlen(pw));
	snprintf(detail, sizeof detail, "\"%.64s\" \"%.64s\"", as.name, user);
	gh_web_audit_change(ctx, req, set ? "account set" : "account add", r == 0, detail);
	if (r < 0)
		gh_web_store_error(resp, r, "account");
	else
		gh_web_json(resp, set ? 200 : 201,
			    json_pack("{s:s, s:s, s:s}", "asset", as.name, "username", user,
				      "secret", "password"));
out:
	if (pw) /* jansson's copy of the secret */
		sodium_memzero((char *)pw, strlen(pw));
	gh_account_free(&acc);
	gh_asset_free(&as);
	json_decref(b);
	return 0;
}

int gh_web_h_account_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return write_account(ctx, req, resp, false);
}

int gh_web_h_account_set(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return write_account(ctx, req, resp, true);
}

int gh_web_h_account_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_asset as = { 0 };
	char detail[160];
	int r = gh_store_asset_get(ctx->st, req->params[0], &as);
	if (r < 0)
		return gh_web_store_error(resp, r, "asset");
	r = gh_store_account_del(ctx->st, as.id, req->params[1]);
	if (r == GH_ENOENT) {
		gh_asset_free(&as);
		return gh_web_store_error(resp, r, "account");
	}
	snprintf(detail, sizeof detail, "\"%.64s\" \"%.64s\"", as.name, req->params[1]);
	gh_web_audit_change(ctx, req, "account del", r == 0, detail);
	gh_asset_free(&as);
	if (r < 0)
		return gh_web_store_error(resp, r, "account");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[1]));
}
