/* /api/v1/permissions: the JSON of `perm show --json`, the name
 * resolution of `perm add` (cli.h) and the gate's own check
 * (session/authz.h). */
#include "web/http.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/util.h"
#include "session/authz.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define NAMES_MAX 256

int gh_web_h_perm_list(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_perm *v = NULL;
	size_t n = 0;
	json_t *items = NULL;
	int r = gh_store_perm_list(ctx->st, &v, &n);
	if (r == 0)
		r = gh_cli_perms_json(ctx->st, v, n, &items);
	gh_perms_free(v, n);
	if (r < 0)
		return gh_web_store_error(resp, r, "permissions");
	return gh_web_json(resp, 200, json_pack("{s:o, s:n}", "items", items, "next"));
}

int gh_web_h_perm_get(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	struct gh_perm p = { 0 };
	json_t *a = NULL;
	int r = gh_store_perm_get(ctx->st, req->params[0], &p);
	if (r == 0)
		r = gh_cli_perms_json(ctx->st, &p, 1, &a);
	gh_perm_free(&p);
	if (r < 0)
		return gh_web_store_error(resp, r, "permission");
	json_t *one = json_incref(json_array_get(a, 0));
	json_decref(a);
	return gh_web_json(resp, 200, one);
}

/* A JSON array of strings (at most NAMES_MAX) into V (borrowed from the body). */
static int strings(json_t *b, const char *key, const char ***v, size_t *n)
{
	json_t *a = json_object_get(b, key), *e;
	size_t i;
	*n = 0;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > NAMES_MAX)
		return GH_EINVAL;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return GH_EINVAL;
		(*v)[(*n)++] = json_string_value(e);
	}
	return 0;
}

static int mask_in(json_t *b, const char *key, int (*parse)(const char *, uint32_t *),
		   uint32_t *ret)
{
	json_t *a = json_object_get(b, key), *e;
	size_t i;
	uint32_t m = 0, one = 0;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return GH_EINVAL;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || parse(json_string_value(e), &one) < 0)
			return GH_EINVAL;
		m |= one;
	}
	*ret = m;
	return 0;
}

static int time_in(json_t *b, const char *key, int64_t *ret)
{
	json_t *v = json_object_get(b, key);
	if (!v || json_is_null(v))
		return 0;
	return json_is_string(v) ? gh_parse_time(json_string_value(v), ret) : GH_EINVAL;
}

/* The body of POST into P and the names into NAMES/COUNTS. */
static int perm_in(json_t *b, struct gh_perm *p, const char ***names, size_t *counts,
		   const char **accounts, char *err, size_t n)
{
	static const char *const lists[] = { "users", "groups", "assets", "nodes" };
	json_t *act = json_object_get(b, "active");
	p->name = (char *)json_string_value(json_object_get(b, "name"));
	if (!p->name || !gh_valid_name(p->name))
		return snprintf(err, n, "\"name\": 1-64 of A-Z a-z 0-9 . _ -"), GH_EINVAL;
	for (int k = 0; k < 4; k++)
		if (strings(b, lists[k], &names[k], &counts[k]) < 0)
			return snprintf(err, n, "\"%s\": an array of names", lists[k]), GH_EINVAL;
	if (strings(b, "accounts", &accounts, &p->n_accounts) < 0)
		return snprintf(err, n, "\"accounts\": an array of names"), GH_EINVAL;
	for (size_t i = 0; i < p->n_accounts; i++)
		if (!gh_valid_name(accounts[i]))
			return snprintf(err, n, "bad account name"), GH_EINVAL;
	p->accounts = (char **)accounts;
	if (!counts[0] && !counts[1])
		return snprintf(err, n, "say who it is for: \"users\" or \"groups\""), GH_EINVAL;
	if (!counts[2] && !counts[3])
		return snprintf(err, n, "say what it grants: \"assets\" or \"nodes\""), GH_EINVAL;
	if (mask_in(b, "actions", gh_actions_parse, &p->actions) < 0 ||
	    mask_in(b, "protocols", gh_protocols_parse, &p->protocols) < 0)
		return snprintf(err, n, "\"actions\"/\"protocols\": arrays of names"), GH_EINVAL;
	if (time_in(b, "valid_from", &p->valid_from) < 0 ||
	    time_in(b, "valid_until", &p->valid_until) < 0 ||
	    (p->valid_from && p->valid_until && p->valid_until <= p->valid_from))
		return snprintf(err, n, "\"valid_from\"/\"valid_until\": ISO 8601, until after from"),
		       GH_EINVAL;
	if (act && !json_is_boolean(act))
		return snprintf(err, n, "\"active\": true or false"), GH_EINVAL;
	p->active = !act || json_is_true(act);
	return 0;
}

int gh_web_h_perm_add(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct gh_perm p = { .actions = GH_PERM_DEFAULT_ACTIONS,
			     .protocols = GH_PROTO_SSH | GH_PROTO_SFTP };
	const char *bufs[4][NAMES_MAX], *accounts[NAMES_MAX];
	const char **names[4] = { bufs[0], bufs[1], bufs[2], bufs[3] };
	int64_t idbuf[4][NAMES_MAX];
	int64_t *ids[4] = { idbuf[0], idbuf[1], idbuf[2], idbuf[3] };
	size_t counts[4] = { 0 }, n_ids[4] = { 0 };
	char err[256], detail[96];
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	if (perm_in(b, &p, names, counts, accounts, err, sizeof err) < 0) {
		gh_web_error(resp, 400, "%s", err);
		goto out;
	}
	r = gh_perm_resolve_names(ctx->st, (const char **const *)names, counts, ids, n_ids, err,
				  sizeof err);
	if (r == GH_EINVAL || r == GH_ENOENT) {
		gh_web_error(resp, r == GH_ENOENT ? 404 : 400, "%s", err);
		goto out;
	}
	p.user_ids = ids[0], p.n_users = n_ids[0], p.group_ids = ids[1], p.n_groups = n_ids[1];
	p.asset_ids = ids[2], p.n_assets = n_ids[2], p.node_ids = ids[3], p.n_nodes = n_ids[3];
	if (r == 0)
		r = gh_store_perm_add(ctx->st, &p, NULL);
	snprintf(detail, sizeof detail, "\"%s\"", p.name);
	gh_web_audit_change(ctx, req, "perm add", r == 0, detail);
	if (r < 0) {
		gh_web_store_error(resp, r, "permission");
		goto out;
	}
	snprintf(req->params[0], sizeof req->params[0], "%s", p.name);
	gh_web_h_perm_get(ctx, req, resp);
	if (resp->status == 200)
		resp->status = 201;
out:
	json_decref(b);
	return 0;
}

int gh_web_h_perm_del(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	char detail[GH_WEB_PARAM_MAX + 8], esc[GH_WEB_PARAM_MAX];
	int r = gh_store_perm_del(ctx->st, req->params[0]);
	if (r == GH_ENOENT)
		return gh_web_store_error(resp, r, "permission");
	snprintf(detail, sizeof detail, "\"%s\"", gh_escape(esc, sizeof esc, req->params[0]));
	gh_web_audit_change(ctx, req, "perm del", r == 0, detail);
	if (r < 0)
		return gh_web_store_error(resp, r, "permission");
	return gh_web_json(resp, 200, json_pack("{s:s}", "deleted", req->params[0]));
}

static int one_bit(json_t *b, const char *key, int (*parse)(const char *, uint32_t *),
		   uint32_t *ret)
{
	json_t *v = json_object_get(b, key);
	uint32_t m = 0;
	if (!v)
		return 0;
	if (!json_is_string(v) || parse(json_string_value(v), &m) < 0 || !m || (m & (m - 1)))
		return GH_EINVAL;
	*ret = m;
	return 0;
}

/* The gate's decision, as `perm check --json` gives it. */
int gh_web_h_perm_check(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct gh_authz_req rq = { .action = GH_ACT_CONNECT, .protocol = GH_PROTO_SSH };
	struct gh_authz d = { 0 };
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	rq.user = json_string_value(json_object_get(b, "user"));
	rq.asset = json_string_value(json_object_get(b, "asset"));
	rq.account = json_string_value(json_object_get(b, "account"));
	if (!rq.user || !rq.asset || !rq.account ||
	    one_bit(b, "action", gh_actions_parse, &rq.action) < 0 ||
	    one_bit(b, "protocol", gh_protocols_parse, &rq.protocol) < 0 ||
	    time_in(b, "at", &rq.now) < 0) {
		json_decref(b);
		return gh_web_error(resp, 400, "give \"user\", \"asset\", \"account\" and optionally "
					       "one \"action\", one \"protocol\", \"at\"");
	}
	int r = gh_authz_check(ctx->st, &rq, &d);
	if (r < 0) {
		json_decref(b);
		return gh_web_store_error(resp, r, "check");
	}
	json_t *j = json_pack("{s:b, s:o, s:s}", "allow", d.allow, "permission",
			      d.allow && d.perm_name[0] ? json_string(d.perm_name) : json_null(),
			      "reason", d.reason);
	json_decref(b);
	return gh_web_json(resp, 200, j);
}

/* PATCH: {"active": true|false}, as `perm enable|disable`. */
int gh_web_h_perm_patch(struct gh_web_ctx *ctx, struct gh_web_req *req, struct gh_web_resp *resp)
{
	json_t *b = NULL;
	struct gh_perm p = { 0 };
	char detail[GH_WEB_PARAM_MAX + 32], esc[GH_WEB_PARAM_MAX];
	int r;
	if (gh_web_body(req, resp, &b) < 0)
		return 0;
	json_t *act = json_object_get(b, "active");
	if (!json_is_boolean(act) || json_object_size(b) != 1) {
		gh_web_error(resp, 400, "give \"active\": true or false");
		goto out;
	}
	if ((r = gh_store_perm_get(ctx->st, req->params[0], &p)) < 0) {
		gh_web_store_error(resp, r, "permission");
		goto out;
	}
	r = gh_store_perm_set_active(ctx->st, p.id, json_is_true(act));
	snprintf(detail, sizeof detail, "\"%s\" active=%s", gh_escape(esc, sizeof esc, p.name),
		 json_is_true(act) ? "true" : "false");
	gh_web_audit_change(ctx, req, "perm set", r == 0, detail);
	if (r < 0)
		gh_web_store_error(resp, r, "permission");
	else
		gh_web_h_perm_get(ctx, req, resp);
out:
	gh_perm_free(&p);
	json_decref(b);
	return 0;
}
