/* GET /api/v1/audit/{query}: the audit queries of `gatehouse audit`
 * (logins, sessions, commands, files, changes) with their filters, events
 * in the export shape (audit/export.h). */
#include "web/http.h"
#include "audit/export.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "app/app.h"
#include "store/store.h"

#include <string.h>

#define AUDIT_DEFAULT 100
#define AUDIT_MAX 10000

static int time_param(const struct gh_web_req *req, const char *key, int64_t *ret)
{
	char v[64];
	int r = gh_web_query(req, key, v, sizeof v);
	if (r == GH_ENOENT)
		return 0;
	return r < 0 ? r : gh_parse_time(v, ret);
}

int gh_web_h_audit(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	char user[GH_WEB_PARAM_MAX], asset[GH_WEB_PARAM_MAX], sid[GH_WEB_PARAM_MAX], lim[16];
	struct gh_event_filter f = { .limit = AUDIT_DEFAULT };
	struct gh_event *v = NULL;
	size_t n = 0;
	long long limit = AUDIT_DEFAULT;
	if (gh_cli_audit_kinds(req->params[0], &f.kinds, &f.n_kinds) < 0)
		return gh_web_error(resp, 404, "no audit query '%.32s' (logins, sessions, commands, "
					       "files, changes)", req->params[0]);
	int r = gh_web_query(req, "limit", lim, sizeof lim);
	if (r == GH_EINVAL || (r == 0 && (gh_parse_ll(lim, &limit) < 0 || limit < 1 ||
					  limit > AUDIT_MAX)))
		return gh_web_error(resp, 400, "limit: an integer from 1 to %d", AUDIT_MAX);
	f.limit = (int)limit;
	if (time_param(req, "since", &f.since) < 0 || time_param(req, "until", &f.until) < 0 ||
	    (f.since && f.until && f.until <= f.since))
		return gh_web_error(resp, 400, "since/until: ISO 8601, until after since");
	if (gh_web_query(req, "user", user, sizeof user) == 0)
		f.user = user;
	if (gh_web_query(req, "asset", asset, sizeof asset) == 0)
		f.asset = asset;
	if (gh_web_query(req, "session", sid, sizeof sid) == 0)
		f.session_id = sid;
	if ((r = gh_store_event_query(ctx->st, &f, &v, &n)) < 0)
		return gh_web_store_error(resp, r, "audit log");
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, gh_export_event_json(&v[i]));
	gh_events_free(v, n);
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", a, "next"));
}

int gh_web_h_audit_verify(struct gh_web_ctx *ctx, struct gh_web_req *req,
			  struct gh_web_resp *resp)
{
	json_t *j = NULL;
	int r = gh_cli_audit_verify_json(ctx->st, ctx->app->cfg.recordings_dir, &j);
	if (r < 0)
		return gh_web_store_error(resp, r, "audit trail");
	return gh_web_json(resp, 200, j);
}
