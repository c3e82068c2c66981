/* Read-only lists: users, groups, sessions, in the CLI's --json shapes. */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define SESSIONS_DEFAULT 100
#define SESSIONS_MAX 1000

static int list_reply(struct gh_web_resp *resp, json_t *items)
{
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

int gh_web_h_user_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_user *v = NULL;
	size_t n = 0;
	int r = gh_store_user_list(ctx->st, &v, &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "users");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, gh_cli_user_json(&v[i]));
	gh_users_free(v, n);
	return list_reply(resp, a);
}

int gh_web_h_user_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_user u = { 0 };
	int r = gh_store_user_get(ctx->st, req->params[0], &u);
	if (r < 0)
		return gh_web_store_error(resp, r, "user");
	gh_web_json(resp, 200, gh_cli_user_json(&u));
	gh_user_free(&u);
	return 0;
}

int gh_web_h_group_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_group *v = NULL;
	size_t n = 0;
	int r = gh_store_group_list(ctx->st, &v, &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "groups");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, gh_cli_group_json(ctx->st, &v[i], NULL));
	gh_groups_free(v, n);
	return list_reply(resp, a);
}

int gh_web_h_group_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_group g = { 0 };
	int r = gh_store_group_get(ctx->st, req->params[0], &g);
	if (r < 0)
		return gh_web_store_error(resp, r, "group");
	gh_web_json(resp, 200, gh_cli_group_json(ctx->st, &g, NULL));
	gh_group_free(&g);
	return 0;
}

/* Sessions, newest first: ?active=1, ?limit=N; ONLY_USER: that user's. */
static int sessions(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
		    const char *only_user)
{
	struct gh_session *v = NULL;
	size_t n = 0;
	char lim[16], act[8];
	long long limit = SESSIONS_DEFAULT;
	int r = gh_web_query(req, "limit", lim, sizeof lim);
	if (r == GH_EINVAL || (r == 0 && (gh_parse_ll(lim, &limit) < 0 || limit < 1 ||
					  limit > SESSIONS_MAX)))
		return gh_web_error(resp, 400, "limit: an integer from 1 to %d", SESSIONS_MAX);
	bool active = gh_web_query(req, "active", act, sizeof act) == 0 &&
		      (!strcmp(act, "1") || !strcmp(act, "true"));
	/* a user's own: read enough to fill the page after the filter */
	if ((r = gh_store_session_list(ctx->st, active, only_user ? SESSIONS_MAX * 10 : (int)limit,
				       &v, &n)) < 0)
		return gh_web_store_error(resp, r, "sessions");
	json_t *a = json_array();
	for (size_t i = 0; i < n && (long long)json_array_size(a) < limit; i++)
		if (!only_user || (v[i].user_name && !strcmp(v[i].user_name, only_user)))
			json_array_append_new(a, gh_cli_session_json(&v[i]));
	gh_sessions_free(v, n);
	return list_reply(resp, a);
}

int gh_web_h_session_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return sessions(ctx, req, resp, NULL);
}

int gh_web_h_my_sessions(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return sessions(ctx, req, resp, req->user);
}

int gh_web_h_session_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_session s = { 0 };
	int r = gh_store_session_get(ctx->st, req->params[0], &s);
	if (r < 0)
		return gh_web_store_error(resp, r, "session");
	gh_web_json(resp, 200, gh_cli_session_json(&s));
	gh_session_free(&s);
	return 0;
}
