/* Health, the API's own description, and tokens. */
#include "web/http.h"
#include "core/error.h"
#include "core/util.h"
#include "store/store.h"
#include "store/webstore.h"
#include "web/token.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gh_web_h_health(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	int64_t id = 0;
	char hash[65];
	bool store = gh_store_event_tip(ctx->st, &id, hash) == 0;
	/* the master holds the SSH listener for as long as it runs and stops
	 * this process before it closes it (ssh/server.c) */
	bool ssh = ctx->master_pid > 1 && getppid() == ctx->master_pid;
	bool ok = store && ssh;
	return gh_web_json(resp, ok ? 200 : 503,
			   json_pack("{s:s, s:s, s:s}", "status", ok ? "ok" : "unavailable",
				     "store", store ? "ok" : "failing", "ssh",
				     ssh ? "listening" : "down"));
}

/* {x} parts of PATTERN as OpenAPI path parameters. */
static json_t *path_params(const char *pattern)
{
	json_t *a = json_array();
	for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
		const char *e = strchr(p, '}');
		if (!e)
			break;
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in",
						   "path", "required", 1, "schema", "type",
						   "string"));
	}
	return a;
}

static json_t *operation(const struct gh_web_route *rt)
{
	json_t *op = json_pack("{s:s, s:o, s:{s:{s:s}}}", "summary", rt->summary, "parameters",
			       path_params(rt->pattern), "responses", "default", "description",
			       "JSON; errors are {\"error\": MESSAGE}");
	if (rt->role == GH_WEB_PUBLIC) {
		json_object_set_new(op, "security", json_array());
		json_object_set_new(op, "x-role", json_string("public"));
	} else {
		json_object_set_new(op, "x-role", json_string(gh_role_name(rt->role)));
	}
	if (rt->body)
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b, s:{s:{s:{s:s}}}}", "required", !rt->body_optional,
					      "content",
					      "application/json", "schema", "type", "object"));
	return op;
}

int gh_web_h_openapi(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *paths = json_object();
	for (size_t i = 0; i < gh_web_n_routes; i++) {
		const struct gh_web_route *rt = &gh_web_routes[i];
		json_t *item = json_object_get(paths, rt->pattern);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, rt->pattern, item);
		}
		char m[8];
		const char *name = gh_web_method_name(rt->method);
		size_t k = 0;
		for (; name[k] && k + 1 < sizeof m; k++)
			m[k] = (char)(name[k] | 0x20);
		m[k] = '\0';
		json_object_set_new(item, m, operation(rt));
	}
	json_t *doc = json_pack(
		"{s:s, s:{s:s, s:s}, s:o, s:{s:{s:{s:s, s:s}, s:{s:s, s:s, s:s}}}, s:[{s:[]}, {s:[]}]}",
		"openapi", "3.0.3", "info", "title", "Gatehouse REST API", "version", "1",
		"paths", paths, "components", "securitySchemes", "bearer", "type", "http", "scheme",
		"bearer", "cookie", "type", "apiKey", "in", "cookie", "name", "gh_session",
		"security", "bearer", "cookie");
	return gh_web_json(resp, 200, doc);
}

int gh_web_h_token_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_api_token *v = NULL;
	size_t n = 0;
	int r = gh_store_token_list(ctx->st, &v, &n);
	if (r < 0)
		return gh_web_store_error(resp, r, "tokens");
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, gh_token_json(&v[i]));
	gh_api_tokens_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

int gh_web_h_token_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct gh_user u = { 0 };
	char tok[GH_TOKEN_LEN], detail[96];
	int64_t expires = 0;
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	const char *name = json_string_value(json_object_get(b, "name"));
	const char *user = json_string_value(json_object_get(b, "user"));
	const char *exp = json_string_value(json_object_get(b, "expires"));
	if (!name || !gh_valid_name(name) || !user ||
	    (json_object_get(b, "expires") && !json_is_null(json_object_get(b, "expires")) &&
	     (!exp || gh_parse_time(exp, &expires) < 0 || expires <= gh_now()))) {
		gh_web_error(resp, 400, "give \"name\", \"user\" and optionally a future \"expires\"");
		goto out;
	}
	if ((r = gh_store_user_get(ctx->st, user, &u)) < 0) {
		gh_web_store_error(resp, r, "user");
		goto out;
	}
	r = gh_token_create(ctx->st, name, u.id, expires, tok);
	snprintf(detail, sizeof detail, "\"%s\"", name);
	gh_web_audit_change(ctx, req, "token add", r == 0, detail);
	if (r < 0) {
		gh_web_store_error(resp, r, "token");
		goto out;
	}
	gh_web_json(resp, 201, json_pack("{s:s, s:s, s:s}", "name", name, "user", u.name, "token",
					 tok));
	sodium_memzero(tok, sizeof tok);
out:
	gh_user_free(&u);
	json_decref(b);
	return 0;
}

int gh_web_h_token_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	char detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	int r = gh_store_token_del(ctx->st, req->params[0]);
	if (r == GH_ENOENT)
		return gh_web_store_error(resp, r, "token");
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, req->params[0]));
	gh_web_audit_change(ctx, req, "token del", r == 0, detail);
	if (r < 0)
		return gh_web_store_error(resp, r, "token");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}

/* The terminal is a WebSocket (term_ws.c); a plain GET gets told so. */
int gh_web_h_terminal(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	(void)ctx;
	(void)req;
	return gh_web_error(resp, 426, "a WebSocket upgrade is required (docs/WEB.md)");
}
