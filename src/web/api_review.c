/* /api/v1/review-requests: commands held by a "review" command filter,
 * listed and decided as `gatehouse request` does (cli.h); the decision
 * is recorded with the API's actor. */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "store/cmdstore.h"
#include "store/store.h"

#include <string.h>

#define LIST_MAX 1000

int gh_web_h_review_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_review *v = NULL;
	size_t n = 0;
	char all[8] = "";
	(void)gh_web_query(req, "all", all, sizeof all);
	bool every = !strcmp(all, "1") || !strcmp(all, "true");
	int r = gh_store_review_list(ctx->st, !every, LIST_MAX, &v, &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "review requests");
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, gh_cli_review_json(&v[i]));
	gh_reviews_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

static int decide(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
		  const char *state)
{
	struct gh_review rv = { 0 };
	char err[160], detail[GH_WEB_PARAM_MAX + 32];
	long long id = 0;
	if (gh_parse_ll(req->params[0], &id) < 0 || id < 1)
		return gh_web_error(resp, 404, "no such request");
	int r = gh_cli_review_decide(ctx->st, id, state, req->actor, err, sizeof err);
	snprintf(detail, sizeof detail, "request %lld %s", id, state);
	gh_web_audit_change(ctx, req, state[0] == 'a' ? "request approve" : "request deny", r == 0,
			    detail);
	if (r == GH_ENOENT)
		return gh_web_error(resp, 404, "%s", err);
	if (r == GH_EBUSY)
		return gh_web_error(resp, 409, "%s", err);
	if (r < 0 || (r = gh_store_review_get(ctx->st, id, &rv)) < 0)
		return gh_web_store_error(resp, r, "review request");
	gh_web_json(resp, 200, gh_cli_review_json(&rv));
	gh_review_free(&rv);
	return 0;
}

int gh_web_h_review_approve(struct gh_web_ctx *ctx, struct gh_web_req *req,
			    struct gh_web_resp *resp)
{
	return decide(ctx, req, resp, "approved");
}

int gh_web_h_review_deny(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return decide(ctx, req, resp, "denied");
}
