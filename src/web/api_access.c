/* /api/v1/access-requests (see access.h). */
#include "web/http.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"
#include "session/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gh_web_h_access_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL, *mv;
	char why[160], detail[64];
	int64_t id = 0;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	mv = json_object_get(b, "minutes");
	/* bounded before the cast: 2^32 + 60 must not become 60 */
	int r = !mv || (json_is_integer(mv) && json_integer_value(mv) >= 0 &&
			json_integer_value(mv) <= GH_ACCESS_MINUTES_MAX) ? 0 : GH_EINVAL;
	if (r == 0)
		r = gh_access_request(ctx->st, req->user_id,
				      json_string_value(json_object_get(b, "asset")),
				      json_string_value(json_object_get(b, "account")),
				      json_string_value(json_object_get(b, "reason")),
				      json_string_value(json_object_get(b, "ticket")),
				      mv ? (int)json_integer_value(mv) : 60, &id, why, sizeof why);
	else
		snprintf(why, sizeof why, "\"minutes\": an integer, 1 to %d", GH_ACCESS_MINUTES_MAX);
	json_decref(b);
	if (r == GH_EINVAL || r == GH_ENOENT)
		return gh_web_error(resp, r == GH_EINVAL ? 400 : 404, "%s", why);
	snprintf(detail, sizeof detail, "%lld", (long long)id);
	gh_web_audit_change(ctx, req, "access request", r == 0, detail);
	if (r < 0)
		return gh_web_store_error(resp, r, "access request");
	struct gh_access_req a = { 0 };
	if ((r = gh_store_access_get(ctx->st, id, &a)) < 0)
		return gh_web_store_error(resp, r, "access request");
	gh_web_json(resp, 201, gh_access_json(&a));
	gh_access_req_free(&a);
	return 0;
}

/* Admins and auditors see every request, users their own and those they
 * approve. */
int gh_web_h_access_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_access_req *v = NULL;
	size_t n = 0;
	int r = gh_store_access_list(ctx->st, req->role >= GH_ROLE_AUDITOR ? 0 : req->user_id, &v,
				     &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "access requests");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, gh_access_json(&v[i]));
	gh_access_reqs_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", a, "next"));
}

static int decide(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp,
		  bool approve)
{
	long long id = 0;
	struct gh_access_req a = { 0 };
	if (gh_parse_ll(req->params[0], &id) < 0 || id < 1)
		return gh_web_error(resp, 404, "access request not found");
	int r = gh_access_decide(ctx->st, id, approve, req->actor, req->user_id, req->role);
	gh_web_audit_change(ctx, req, approve ? "access approve" : "access deny", r == 0,
			    req->params[0]);
	/* below admin, a request that does not exist answers as one the caller
	 * may not decide: ids do not tell who asked for what */
	if (r == GH_EPERM || (r == GH_ENOENT && req->role < GH_ROLE_ADMIN))
		return gh_web_error(resp, 403, "not an approver of this request");
	if (r == GH_EBUSY)
		return gh_web_error(resp, 409, "access request already decided");
	if (r < 0 || (r = gh_store_access_get(ctx->st, id, &a)) < 0)
		return gh_web_store_error(resp, r, "access request");
	gh_web_json(resp, 200, gh_access_json(&a));
	gh_access_req_free(&a);
	return 0;
}

int gh_web_h_access_approve(struct gh_web_ctx *ctx, struct gh_web_req *req,
			    struct gh_web_resp *resp)
{
	return decide(ctx, req, resp, true);
}

int gh_web_h_access_deny(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	return decide(ctx, req, resp, false);
}
