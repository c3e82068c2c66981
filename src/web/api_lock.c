/* /api/v1/users/{name}/lock|unlock|disable|enable: as `gatehouse user
 * lock|unlock|disable|enable`, ending the user's live sessions through the
 * CLI's own function (cli.h) with the API's actor. */
#include "web/http.h"
#include "app/app.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

#include <string.h>

enum what { LOCK, UNLOCK, DISABLE, ENABLE };

static const char *const names[] = { "lock", "unlock", "disable", "enable" };

static int set_state(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
		     enum what w)
{
	struct gh_user u = { 0 };
	char detail[GH_WEB_PARAM_MAX + 64], what[32];
	size_t ended = 0, failed = 0;
	int r = gh_store_user_get(ctx->st, req->params[0], &u);
	if (r < 0)
		return gh_web_store_error(resp, r, "user");
	if (w == LOCK || w == UNLOCK)
		r = gh_store_user_lock(ctx->st, u.id, w == LOCK);
	else
		r = gh_store_user_set_disabled(ctx->st, u.id, w == DISABLE);
	if (r == 0 && (w == LOCK || w == DISABLE)) {
		/* the CLI's function on this process's store (the app's is the master's) */
		struct gh_app app = *ctx->app;
		app.store = ctx->st;
		ended = gh_cli_end_user_sessions_as(&app, req->actor, u.id,
						    w == LOCK ? "user locked" : "user disabled",
						    &failed);
	}
	snprintf(detail, sizeof detail, "user=%s sessions_ended=%zu", u.name, ended);
	snprintf(what, sizeof what, "user %s", names[w]);
	gh_web_audit_change(ctx, req, what, r == 0, detail);
	if (r == 0 && (w == LOCK || w == UNLOCK)) {
		struct gh_audit_who who = { .user = req->actor, .source = req->peer };
		(void)gh_audit_live(ctx->st, &who, NULL, NULL, names[w], "ok", NULL, detail);
	}
	if (r < 0)
		gh_web_store_error(resp, r, "user");
	else
		gh_web_json(resp, 200, json_pack("{s:s, s:s, s:i, s:i}", "user", u.name, "done",
						 names[w], "sessions_ended", (int)ended,
						 "sessions_unreachable", (int)failed));
	gh_user_free(&u);
	return 0;
}

int gh_web_h_user_lock(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return set_state(ctx, req, resp, LOCK);
}

int gh_web_h_user_unlock(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return set_state(ctx, req, resp, UNLOCK);
}

int gh_web_h_user_disable(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	return set_state(ctx, req, resp, DISABLE);
}

int gh_web_h_user_enable(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return set_state(ctx, req, resp, ENABLE);
}
