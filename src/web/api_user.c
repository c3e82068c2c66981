/* User and group writes: the rules and JSON of `gatehouse user` and
 * `gatehouse group` (cli.h), each change a chained change event. */
#include "web/http.h"
#include "app/app.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/access.h"
#include "store/store.h"
#include "vault/vault.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Only the keys in KNOWN (NULL-terminated) in B. */
static bool only_known(json_t *b, const char *const *known)
{
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v) {
		bool ok = false;
		for (int i = 0; known[i]; i++)
			ok = ok || !strcmp(known[i], k);
		if (!ok)
			return false;
	}
	return true;
}

static int reply_user(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *name,
		      int status)
{
	struct gh_user u = { 0 };
	int r = gh_store_user_get(ctx->st, name, &u);
	if (r < 0)
		return gh_web_store_error(resp, r, "user");
	gh_web_json(resp, status, gh_cli_user_json(&u));
	gh_user_free(&u);
	return 0;
}

static void audit_named(struct gh_web_ctx *ctx, struct gh_web_req *req, const char *what, int r,
			const char *name)
{
	char detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, name));
	gh_web_audit_change(ctx, req, what, r == 0, detail);
}

int gh_web_h_user_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	static const char *const known[] = { "name", "role", "password", NULL };
	json_t *b = NULL;
	char *hash = NULL;
	int64_t uid = 0;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *name = json_string_value(json_object_get(b, "name"));
	const char *role = json_string_value(json_object_get(b, "role"));
	const char *pw = json_string_value(json_object_get(b, "password"));
	int ro = role ? gh_role_parse(role) : GH_ROLE_USER;
	if (!only_known(b, known) || !name || !gh_valid_name(name) || ro < 0 ||
	    (json_object_get(b, "role") && !role) || (json_object_get(b, "password") &&
						       (!pw || !*pw || strlen(pw) > 1024))) {
		gh_web_error(resp, 400, "give \"name\" (1-64 of A-Z a-z 0-9 . _ -), optionally "
					"\"role\" (admin, auditor, user) and \"password\"");
		goto out;
	}
	int r = pw ? gh_password_hash(pw, ctx->app->cfg.password_hash_strength, &hash) : 0;
	if (r == 0)
		r = gh_store_user_add(ctx->st, name, ro, hash, &uid);
	audit_named(ctx, req, "user add", r, name);
	if (r < 0)
		gh_web_store_error(resp, r, "user");
	else
		reply_user(ctx, resp, name, 201);
out:
	if (hash)
		sodium_memzero(hash, strlen(hash));
	free(hash);
	json_decref(b);
	return 0;
}

int gh_web_h_user_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	static const char *const known[] = { "role", "mfa", NULL };
	json_t *b = NULL;
	struct gh_user u = { 0 };
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *role = json_string_value(json_object_get(b, "role"));
	const char *mfa = json_string_value(json_object_get(b, "mfa"));
	int ro = role ? gh_role_parse(role) : -1, mode = mfa ? gh_mfa_mode_parse(mfa) : -1;
	if (!only_known(b, known) || json_object_size(b) == 0 ||
	    (json_object_get(b, "role") && ro < 0) || (json_object_get(b, "mfa") && mode < 0)) {
		gh_web_error(resp, 400, "give \"role\" (admin, auditor, user) and/or \"mfa\" "
					"(required, optional)");
		goto out;
	}
	if ((r = gh_store_user_get(ctx->st, req->params[0], &u)) < 0) {
		gh_web_store_error(resp, r, "user");
		goto out;
	}
	r = ro >= 0 ? gh_store_user_set_role(ctx->st, u.id, ro) : 0;
	if (r == 0 && mode >= 0)
		r = gh_store_user_mfa_set_mode(ctx->st, u.id, mode);
	audit_named(ctx, req, "user set", r, u.name);
	if (r < 0)
		gh_web_store_error(resp, r, "user");
	else
		reply_user(ctx, resp, u.name, 200);
out:
	gh_user_free(&u);
	json_decref(b);
	return 0;
}

/* DELETE of a named thing: DEL, audited as WHAT. */
static int del_named(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
		     const char *what, const char *noun,
		     int (*del)(struct gh_store *st, const char *name))
{
	int r = del(ctx->st, req->params[0]);
	if (r == GH_ENOENT)
		return gh_web_store_error(resp, r, noun);
	audit_named(ctx, req, what, r, req->params[0]);
	if (r < 0)
		return gh_web_store_error(resp, r, noun);
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}

int gh_web_h_user_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	if (!strcmp(req->params[0], req->user))
		return gh_web_error(resp, 409, "you cannot delete yourself");
	return del_named(ctx, req, resp, "user del", "user", gh_store_user_del);
}

int gh_web_h_group_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return del_named(ctx, req, resp, "group del", "group", gh_store_group_del);
}

static int reply_group(struct gh_web_ctx *ctx, struct gh_web_resp *resp, const char *name,
		       int status)
{
	struct gh_group g = { 0 };
	size_t n = 0;
	int r = gh_store_group_get(ctx->st, name, &g);
	if (r < 0)
		return gh_web_store_error(resp, r, "group");
	gh_web_json(resp, status, gh_cli_group_json(ctx->st, &g, &n));
	gh_group_free(&g);
	return 0;
}

int gh_web_h_group_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *name = json_string_value(json_object_get(b, "name"));
	if (!name || !gh_valid_name(name) || json_object_size(b) != 1) {
		gh_web_error(resp, 400, "give \"name\" (1-64 of A-Z a-z 0-9 . _ -)");
	} else {
		int r = gh_store_group_add(ctx->st, name, NULL);
		audit_named(ctx, req, "group add", r, name);
		if (r < 0)
			gh_web_store_error(resp, r, "group");
		else
			reply_group(ctx, resp, name, 201);
	}
	json_decref(b);
	return 0;
}

/* Add (ADD) or remove USER in REQ's group. */
static int member_change(struct gh_web_ctx *ctx, struct gh_web_req *req,
			 struct gh_web_resp *resp, const char *user, bool add)
{
	struct gh_group g = { 0 };
	struct gh_user u = { 0 };
	char detail[300], e1[100], e2[100];
	int r = gh_store_group_get(ctx->st, req->params[0], &g);
	if (r < 0)
		return gh_web_store_error(resp, r, "group");
	if ((r = gh_store_user_get(ctx->st, user, &u)) < 0) {
		gh_group_free(&g);
		return r == GH_ENOENT ? gh_web_error(resp, 400, "no such user")
				      : gh_web_store_error(resp, r, "user");
	}
	r = add ? gh_store_group_member_add(ctx->st, g.id, u.id)
		: gh_store_group_member_del(ctx->st, g.id, u.id);
	snprintf(detail, sizeof detail, "\"%s\" %s \"%s\"", gh_escape(e1, sizeof e1, g.name),
		 add ? "+" : "-", gh_escape(e2, sizeof e2, u.name));
	gh_web_audit_change(ctx, req, add ? "group member add" : "group member del", r == 0,
			    detail);
	if (r == GH_ENOENT)
		gh_web_error(resp, 404, "%s is not a member", u.name);
	else if (r < 0)
		gh_web_store_error(resp, r, "member");
	else
		reply_group(ctx, resp, g.name, 200);
	gh_user_free(&u);
	gh_group_free(&g);
	return 0;
}

int gh_web_h_member_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *user = json_string_value(json_object_get(b, "user"));
	if (!user || json_object_size(b) != 1)
		gh_web_error(resp, 400, "give \"user\"");
	else
		member_change(ctx, req, resp, user, true);
	json_decref(b);
	return 0;
}

int gh_web_h_member_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return member_change(ctx, req, resp, req->params[1], false);
}

/* POST .../mfa-reset: forget the TOTP seed, as `user mfa reset`; the next
 * login that needs a code enrols again. */
int gh_web_h_user_mfa_reset(struct gh_web_ctx *ctx, struct gh_web_req *req,
			    struct gh_web_resp *resp)
{
	struct gh_user u = { 0 };
	int r = gh_store_user_get(ctx->st, req->params[0], &u);
	if (r < 0)
		return gh_web_store_error(resp, r, "user");
	r = gh_store_user_mfa_reset(ctx->st, u.id);
	audit_named(ctx, req, "user mfa reset", r, u.name);
	if (r < 0)
		gh_web_store_error(resp, r, "user");
	else
		reply_user(ctx, resp, u.name, 200);
	gh_user_free(&u);
	return 0;
}
